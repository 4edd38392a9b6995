"""Demo programme: a national forum with its plenary and three breakout sessions (one live
now with questions in every answer state, one upcoming, one ended with its Q&A), and a
training session next month.

Builds on the forum's demo users and boards (``forum.demo``); every municipality and
organisation named here is fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum import boards, posts
from forum.gate import OpenGate
from forum.models import AnswerState, Board, Post, PostKind, Thread, User
from live import calendar, sessions, transitions
from live.calendar import JST
from live.models import LiveSession, SessionKind, SessionState

__all__ = ["load_programme"]

BOARD = "forum-live"

QUESTIONS = [
    (
        "sato-town",
        "お試し移住の参加者を、その後も地域と関わり続ける人につなげる工夫はありますか？",
        False,
    ),
    ("ito-city", "関係人口の数をどう測っていますか？ 指標の例を教えてください。", False),
    ("watanabe", "地元の人と外から来る人の温度差は、どう埋めればよいでしょうか。", True),
]
ANSWERS = [
    (
        0,
        "expert-suzuki",
        "参加後の「次の役割」を用意しておくことです。ひなた町（架空）の例では、お試し移住の最終日に地域行事の運営スタッフを募っています。",
    ),
    (
        1,
        "expert-yamamoto",
        "訪問回数、オンライン参加、ふるさと納税の継続など、関わりの深さで段階を分けて数えるのがおすすめです。",
    ),
]


async def load_programme(now: datetime | None = None) -> bool:
    """Load the programme once; False when it is already there or the forum demo is not."""
    now = now or datetime.now(UTC)
    if await LiveSession.exists() or not await Board.exists(slug=BOARD):
        return False
    admin = await boards.load_actor(await User.get(username="jimukyoku"))
    experts = ["expert-yamamoto", "expert-suzuki"]

    def fields(
        title: str, kind: SessionKind, start: datetime, minutes: int, **extra: object
    ) -> sessions.SessionFields:
        return sessions.SessionFields(
            title=title,
            kind=kind.value,
            board=BOARD,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            experts=experts,
            moderators=["mod-tanaka"],
            **extra,  # type: ignore[arg-type]
        )

    forum = await sessions.create_session(
        admin,
        fields(
            "全国フォーラム2026 地域とつながる人をふやす",
            SessionKind.FORUM,
            now - timedelta(hours=3),
            60 * 8,
            venue="あおば市民会館 大ホール（架空）",
            url="https://example.org/forum2026",
            description=(
                "地域とつながる人の全国協議会（架空）の全国フォーラムです。\n\n"
                "- 全体会：基調講演とパネル討論\n- 分科会A〜C：テーマ別の質疑応答"
            ),
        ),
    )
    plenary = await sessions.create_session(
        admin,
        fields(
            "全体会 基調講演「関係人口のこれから」",
            SessionKind.OTHER,
            now - timedelta(hours=3),
            90,
            parent=forum.id,
            venue="大ホール",
        ),
    )
    ended = await sessions.create_session(
        admin,
        fields(
            "分科会A 移住の手前の関わり方",
            SessionKind.BREAKOUT,
            now - timedelta(minutes=110),
            60,
            parent=forum.id,
            venue="第1会議室",
            slow_mode_seconds=0,
        ),
    )
    live = await sessions.create_session(
        admin,
        fields(
            "分科会B 地域おこし協力隊と受け入れ体制",
            SessionKind.BREAKOUT,
            now - timedelta(minutes=20),
            90,
            parent=forum.id,
            venue="第2会議室",
        ),
    )
    await sessions.create_session(
        admin,
        fields(
            "分科会C デジタルでつながる関係案内所",
            SessionKind.BREAKOUT,
            now + timedelta(hours=2),
            90,
            parent=forum.id,
            venue="第3会議室",
        ),
    )
    year, month = calendar.next_month(now.astimezone(JST).year, now.astimezone(JST).month, 1)
    next_month = datetime(year, month, 10, 13, 0, tzinfo=JST)
    await sessions.create_session(
        admin,
        fields(
            "研修会 関係人口の入口づくり実践講座",
            SessionKind.TRAINING,
            next_month,
            120,
            url="https://example.org/training",
            description="自治体・中間支援組織の担当者向けのオンライン研修会です。",
        ),
    )
    # The forum and its plenary are under way; breakout A ran earlier and has its Q&A.
    for session in (forum, plenary, live):
        await transitions.move(session.id, SessionState.SCHEDULED, session.starts_at)
    await transitions.move(ended.id, SessionState.SCHEDULED, ended.starts_at)
    await _questions_and_answers(ended, now)
    await transitions.move(ended.id, SessionState.LIVE, ended.ends_at)
    await transitions.move(plenary.id, SessionState.LIVE, plenary.ends_at)
    await _live_questions(live, now)
    return True


async def _questions_and_answers(session: LiveSession, now: datetime) -> None:
    thread = await Thread.get(id=session.thread_id).select_related("board")  # type: ignore[attr-defined]
    gate = OpenGate()
    asked = []
    for username, body, anonymous in QUESTIONS:
        actor = await boards.load_actor(await User.get(username=username))
        draft = posts.Draft(body=body, kind="question", anonymous=anonymous)
        asked.append(await posts.create_post(actor, thread, thread.board, draft, gate=gate))
    for voter in ("kobayashi", "watanabe", "ito-city"):
        actor = await boards.load_actor(await User.get(username=voter))
        await posts.set_vote(actor, asked[0].post_id, up=True)
    for index, username, body in ANSWERS:
        actor = await boards.load_actor(await User.get(username=username))
        reply = posts.Draft(body=body, reply_to=asked[index].post_id)
        await posts.create_post(actor, thread, thread.board, reply, gate=gate)
    # Both answered on stage; the third is left for a written answer after the forum.
    for index, state in ((0, AnswerState.ANSWERED_LIVE), (1, AnswerState.ANSWERED_LIVE)):
        await Post.filter(id=asked[index].post_id).update(answer_state=state)
    await Post.filter(id=asked[2].post_id).update(answer_state=AnswerState.DEFERRED)
    await _dated(thread.id, session.starts_at + timedelta(minutes=4), step=6)


# The session live now: (asker, question, anonymous, voters, state, assigned expert).
LIVE_QUESTIONS = [
    (
        "nakamura",
        "協力隊の任期後の定住率を上げるために、着任1年目からできることは何でしょうか。",
        False,
        ("sato-town", "ito-city", "kobayashi", "watanabe", "kato-npo"),
        AnswerState.ANSWERED_WRITTEN,
        "expert-suzuki",
    ),
    (
        "ito-city",
        "受け入れ側の担当職員が異動しても、協力隊との関係を途切れさせない工夫はありますか？",
        False,
        ("nakamura", "sato-town", "kato-npo", "watanabe"),
        AnswerState.ANSWERING,
        "expert-yamamoto",
    ),
    (
        "kato-npo",
        "中間支援組織が協力隊の相談窓口を担う場合、役場との役割分担はどう決めるとよいですか。",
        False,
        ("nakamura", "ito-city", "sato-town"),
        AnswerState.ASSIGNED,
        "expert-suzuki",
    ),
    (
        "watanabe",
        "協力隊の活動が住民に伝わっていないと感じます。発信の良い例があれば知りたいです。",
        True,
        ("kobayashi", "kato-npo"),
        None,
        None,
    ),
    (
        "sato-town",
        "副業型の協力隊を募集した自治体の例はありますか？ 応募の集まり方に違いはありましたか。",
        False,
        ("kobayashi",),
        None,
        None,
    ),
]
WRITTEN_ANSWER = (
    "着任1年目は「任期後の仕事の種」を一緒に探す時期にするのがおすすめです。\n\n"
    "- 着任3か月で、地域の事業者10か所ほどを役場の担当者と一緒に訪ねる\n"
    "- 半年ごとに、任期後の暮らし方を話し合う面談を設ける\n"
    "- 2年目からは、副業として小さく売上を立てる経験を後押しする\n\n"
    "みずほ村（架空）では、この3点を続けて任期後の定住が増えました。"
)


async def _live_questions(session: LiveSession, now: datetime) -> None:
    """Questions in every answer state, with votes and one written answer: the live view
    shows what it is for as soon as the demo opens."""
    thread = await Thread.get(id=session.thread_id).select_related("board")  # type: ignore[attr-defined]
    gate = OpenGate()
    users = {u.username: u for u in await User.all()}
    asked = []
    for username, body, anonymous, voters, state, assignee in LIVE_QUESTIONS:
        actor = await boards.load_actor(users[username])
        draft = posts.Draft(body=body, kind="question", anonymous=anonymous)
        question = await posts.create_post(actor, thread, thread.board, draft, gate=gate)
        asked.append(question.post_id)
        for voter in voters:
            await posts.set_vote(await boards.load_actor(users[voter]), question.post_id, up=True)
        if state is not None:
            await Post.filter(id=question.post_id).update(
                answer_state=state, assigned_to_id=users[str(assignee)].id
            )
    answerer = await boards.load_actor(users["expert-suzuki"])
    answer = posts.Draft(body=WRITTEN_ANSWER, kind=PostKind.ANSWER.value, reply_to=asked[0])
    await posts.create_post(answerer, thread, thread.board, answer, gate=gate)
    await _dated(thread.id, session.starts_at + timedelta(minutes=2), step=3)


async def _dated(thread_id: int, first: datetime, *, step: int) -> None:
    """Posts written at once, dated minutes apart as they would be during a session."""
    rows = await Post.filter(thread_id=thread_id).order_by("id")
    for index, post in enumerate(rows):
        at = first + timedelta(minutes=index * step, seconds=0)
        await Post.filter(id=post.id).update(created_at=at)
    if rows:
        await Thread.filter(id=thread_id).update(
            last_post_at=first + timedelta(minutes=(len(rows) - 1) * step)
        )
