"""Demo programme: a national forum with its plenary and three breakout sessions (one live
now, one upcoming, one ended with its Q&A), and a training session next month.

Builds on the forum's demo users and boards (``forum.demo``); every municipality and
organisation named here is fictional.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum import boards, posts
from forum.gate import OpenGate
from forum.models import Board, Thread, User
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
        "参加後の「次の役割」を用意しておくことです。架空市の例では、お試し移住の最終日に地域行事の運営スタッフを募っています。",
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
            venue="架空県民ホール（架空県 架空市）",
            url="https://example.org/forum2026",
            description=(
                "官民連携全国協議会（架空）の全国フォーラムです。\n\n"
                "- 全体会: 基調講演とパネル討論\n- 分科会A〜C: テーマ別の質疑応答"
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
    await _questions_and_answers(ended)
    await transitions.move(ended.id, SessionState.LIVE, ended.ends_at)
    await transitions.move(plenary.id, SessionState.LIVE, plenary.ends_at)
    return True


async def _questions_and_answers(session: LiveSession) -> None:
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
