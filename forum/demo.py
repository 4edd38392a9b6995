"""Japanese demo content: boards, users of every role, and realistic threads.

Every municipality and organisation named here is fictional (ひなた町, かざみ市, みずほ村,
NPO法人 つむぎ舎…): no real town is given invented figures. Users' organisations carry no
"（架空）" mark, as registration folds them to NFKC, which would make its brackets
half-width. Threads are spread over the last four weeks, their replies hours or days
apart, as a board in use looks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from forum import accounts, boards, cases, posts, search_reindex, threads
from forum.gate import OpenGate
from forum.models import Board, CaseTheme, ModerationPolicy, Post, Role, Thread, User

__all__ = ["DEMO_PASSWORD", "load_demo"]

JST = timezone(timedelta(hours=9), "JST")

DEMO_PASSWORD = "koryu-demo-2026"  # noqa: S105 - documented demo accounts, local use only

USERS = [
    ("jimukyoku", "運営事務局", Role.ADMIN, "intermediary", "地域交流ひろば運営事務局", ""),
    (
        "mod-tanaka",
        "田中 美咲",
        Role.MODERATOR,
        "intermediary",
        "あおぞら地域づくり協議会",
        "",
    ),
    (
        "expert-yamamoto",
        "山本 健一",
        Role.EXPERT,
        "business",
        "山本地域デザイン研究所",
        "関係人口・地域づくり",
    ),
    (
        "expert-suzuki",
        "鈴木 由紀",
        Role.EXPERT,
        "intermediary",
        "NPO法人 ひだまり共創ラボ",
        "移住支援・空き家活用",
    ),
    ("sato-town", "佐藤 大輔", Role.PARTICIPANT, "municipality", "ひなた町 企画課", ""),
    (
        "ito-city",
        "伊藤 さくら",
        Role.PARTICIPANT,
        "municipality",
        "かざみ市 政策推進課",
        "",
    ),
    ("kobayashi", "小林 拓也", Role.PARTICIPANT, "business", "株式会社 さとやまリンク", ""),
    ("watanabe", "渡辺 花子", Role.PARTICIPANT, "citizen", "", ""),
    ("nakamura", "中村 翔太", Role.PARTICIPANT, "municipality", "みずほ村 総務課", ""),
    ("kato-npo", "加藤 真理", Role.PARTICIPANT, "intermediary", "NPO法人 つむぎ舎", ""),
]

BOARDS = [
    (
        "kankei-jinko",
        "関係人口の創出・拡大",
        "地域と多様に関わる人々（関係人口）を増やす取り組みについて話し合います。",
        ModerationPolicy.OPEN,
    ),
    (
        "iju-teiju",
        "移住・定住",
        "移住相談、お試し住宅、就業支援、空き家バンクなど、移住・定住施策の情報交換。",
        ModerationPolicy.FIRST_POSTS,
    ),
    (
        "digital",
        "デジタル活用",
        "デジタル田園都市国家構想、オンライン関係案内所、行政DXの実践。",
        ModerationPolicy.OPEN,
    ),
    (
        "jirei",
        "実践事例",
        "各地の実践事例（成功も失敗も）を共有する場所です。",
        ModerationPolicy.PREMODERATED,
    ),
    (
        "forum-live",
        "全国フォーラム・研修会",
        "全国フォーラムや研修会のライブQ&Aスレッド。質問はモデレーターの承認後に公開されます。",
        ModerationPolicy.PREMODERATED,
    ),
]

THREADS = [
    (
        "kankei-jinko",
        "sato-town",
        "ふるさと納税の寄附者を関係人口につなげるには？",
        "ひなた町企画課の佐藤です。\n\nふるさと納税の寄附者は年間3,000人ほどいますが、返礼品を送って終わりになっています。寄附者と継続的な関係をつくる工夫をご存じの方、教えてください。",
        [
            (
                "expert-yamamoto",
                "寄附者向けに**オンライン交流会**を年2回開いている町があります。返礼品に生産者の手紙を同封し、交流会の案内をQRコードで載せるだけでも参加率が上がりました。\n\n- 交流会は平日夜 19:30〜20:30\n- 生産者が1人5分ずつ近況を話す\n- 最後に「現地で会える日」を告知",
            ),
            (
                "ito-city",
                "かざみ市では寄附者を「応援人口」と呼んで、メールマガジンで課題を共有しています。課題に共感した人が実際に訪れるケースも出てきました。",
            ),
            (
                "watanabe",
                "寄附した側の市民として、町の近況が届くとうれしいです。写真が多いと読みやすいですね。",
            ),
        ],
    ),
    (
        "iju-teiju",
        "kobayashi",
        "お試し住宅の運営、民間委託のメリットとデメリット",
        "お試し住宅の運営を受託している事業者です。自治体直営と民間委託で、利用者の満足度や移住率に違いはあるのでしょうか。",
        [
            (
                "expert-suzuki",
                "委託の場合、**相談窓口と住宅管理を同じ事業者が担う**と利用者の満足度が高い傾向があります。一方で、移住後のフォロー（仕事・子育て）は役場の各課との連携が不可欠です。",
            ),
            (
                "sato-town",
                "ひなた町は直営ですが、清掃と鍵の受け渡しだけ地元のシルバー人材センターにお願いしています。",
            ),
        ],
    ),
    (
        "digital",
        "ito-city",
        "オンライン関係案内所の立ち上げで苦労したこと",
        "昨年度オンライン関係案内所を立ち上げました。参加者は集まるのですが、**地域側の受け手**が足りず、継続が難しくなっています。同じ悩みをお持ちの方はいますか？",
        [
            (
                "expert-yamamoto",
                "受け手不足はよく聞く課題です。地域おこし協力隊のOB・OGに「つなぎ役」として謝金を払う仕組みが有効でした。",
            ),
            (
                "kobayashi",
                "チャットツールの運用は弊社でも支援しています。通知の設計次第で地域側の負担はかなり減らせます。",
            ),
        ],
    ),
    (
        "jirei",
        "expert-suzuki",
        "【実践事例】空き家バンク登録数を2年で3倍にした町の取り組み",
        "ある町の取り組みを紹介します。\n\n1. 固定資産税の納税通知書に空き家バンクの案内を同封\n2. 相続相談会を司法書士会と共催\n3. 登録前の片付け費用を一部補助\n\n結果、登録数は2年で約3倍になりました。",
        [
            (
                "sato-town",
                "納税通知書への同封、すぐに真似できそうです。費用はほとんどかからないですね。",
            )
        ],
    ),
]


async def load_demo() -> bool:
    """Load the demo once; return False when it is already there."""
    if await User.filter(username="jimukyoku").exists():
        return False
    users: dict[str, User] = {}
    for username, name, role, affiliation, organisation, field in USERS:
        user = await accounts.register(
            accounts.Registration(
                username=username,
                password=DEMO_PASSWORD,
                display_name=name,
                affiliation=affiliation,
                organisation=organisation,
            ),
            role=role,
        )
        if field:
            user.expert_field = field
            await user.save(update_fields=["expert_field"])
        users[username] = user
    admin = await boards.load_actor(users["jimukyoku"])
    for position, (slug, title, description, policy) in enumerate(BOARDS):
        board = await boards.create_board(
            admin,
            boards.BoardFields(
                slug=slug,
                title=title,
                description=description,
                moderation=policy.value,
                position=position,
            ),
        )
        await boards.add_staff(admin, board, "expert-yamamoto", "expert")
        await boards.add_staff(admin, board, "expert-suzuki", "expert")
    gate = OpenGate()
    for slug, author, title, body, replies in THREADS:
        board = await Board.get(slug=slug)
        started = await threads.create_thread(
            await boards.load_actor(users[author]),
            board,
            threads.NewThread(title=title, body=body),
            gate=gate,
        )
        thread = await Thread.get(id=started.thread_id)
        for replier, text in replies:
            await posts.create_post(
                await boards.load_actor(users[replier]),
                thread,
                board,
                posts.Draft(body=text),
                gate=gate,
            )
    await Thread.filter(title__startswith="【実践事例】").update(featured=True)
    await _spread_over_weeks(datetime.now(UTC))
    await load_demo_cases(users)
    return True


# When each thread started (days before now, hour of the day in Japan) and how many hours
# after the previous post each reply came.
TIMELINE = [
    (26, 10, (3, 20, 47)),
    (19, 14, (5, 26)),
    (12, 9, (2, 30)),
    (6, 16, (18,)),
]


async def _spread_over_weeks(now: datetime) -> None:
    """Threads and replies written at once, dated as a board in use would have them."""
    rows = await Thread.filter(board__slug__in=[b[0] for b in BOARDS]).order_by("id")
    for thread, (days, hour, gaps) in zip(rows, TIMELINE, strict=False):
        day = (now - timedelta(days=days)).astimezone(JST)
        at = day.replace(hour=hour, minute=(thread.id * 17) % 60, second=0, microsecond=0)
        post_rows = await Post.filter(thread_id=thread.id).order_by("id")
        stamps = [at]
        for gap in gaps[: len(post_rows) - 1]:
            stamps.append(stamps[-1] + timedelta(hours=gap, minutes=(gap * 7) % 60))
        for post, stamp in zip(post_rows, stamps, strict=False):
            await Post.filter(id=post.id).update(created_at=stamp)
        await Thread.filter(id=thread.id).update(created_at=stamps[0], last_post_at=stamps[-1])
    # Search hits show these dates too.
    await search_reindex.reindex(fresh=True)


# Practice cases of FICTIONAL municipalities: every place name here is made up.
CASES = [
    (
        "expert-suzuki",
        "納税通知書に空き家バンクの案内を同封し、登録数を2年で3倍に",
        20,
        "ひなた町（架空）",
        "5k_20k",
        "ひなた町 企画課",
        "2022年度〜2024年度",
        ("移住・定住",),
        "空き家は年々増えているのに、空き家バンクへの登録は年に数件でした。所有者の多くは町外に住んでおり、制度そのものを知りませんでした。",
        "固定資産税の納税通知書に空き家バンクの案内を同封しました。あわせて司法書士会と相続相談会を共催し、登録前の片付け費用を一部補助しました。",
        "登録数は2年で約3倍になり、うち半数が成約しました。同封にかかる費用はほとんどありません。",
        "相続登記が済んでいない物件への対応が残っています。",
    ),
    (
        "expert-yamamoto",
        "ふるさと納税の寄附者を「応援人口」として迎えるオンライン交流会",
        32,
        "かざみ市（架空）",
        "20k_50k",
        "かざみ市 政策推進課",
        "2023年度〜",
        ("関係人口", "DX"),
        "寄附者は年間3,000人ほどいるものの、返礼品を送って関係が終わっていました。",
        "寄附者向けのオンライン交流会を年2回開き、生産者が近況を話す時間を設けました。返礼品に交流会の案内をQRコードで同封しています。",
        "交流会の参加者のうち1割ほどが実際に市を訪れ、2世帯が二地域居住を始めました。",
        "地域側の受け手（つなぎ役）が足りず、協力隊OB・OGへの謝金の仕組みを検討中です。",
    ),
    (
        "expert-suzuki",
        "漁港の空き倉庫を使ったワーケーション拠点",
        47,
        "しおさい村（架空）",
        "under_5k",
        "一般社団法人 しおさい村観光協会（架空）",
        "2021年度〜2023年度",
        ("観光", "二地域居住", "農林水産"),
        "漁業の担い手が減り、漁港の倉庫が使われなくなっていました。",
        "倉庫を改修してコワーキングスペースにし、漁業体験と組み合わせた滞在プログラムを作りました。",
        "3年で延べ800人が滞在し、うち5人が村へ移住しました。",
        "通信環境の維持費と、繁忙期の宿泊先不足が課題です。",
    ),
]


async def load_demo_cases(users: dict[str, User]) -> None:
    theme_ids = {t.name: t.id for t in await CaseTheme.all()}
    for author, title, prefecture, place, band, organisation, period, themes, *sections in CASES:
        background, actions, results, challenges = sections
        await cases.create_case(
            await boards.load_actor(users[author]),
            cases.CaseFields(
                title=title,
                prefecture=prefecture,
                municipality=place,
                population_band=band,
                organisation=organisation,
                period=period,
                background=background,
                actions=actions,
                results=results,
                challenges=challenges,
                themes=tuple(theme_ids[name] for name in themes if name in theme_ids),
            ),
        )
