"""A generated Japanese corpus for the search benchmark: deterministic, no data checked in.

Posts are sentences about regional revitalisation built from a fixed vocabulary, so every
benchmark query (町, 移住, 関係人, 地域おこし協, 移住 空き家 補助金) has many hits at
every size, as on a real board.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["generate", "titles"]

PLACES = ["町", "村", "市", "集落", "商店街", "漁港", "中山間地域", "離島", "温泉地", "城下町"]
TOPICS = [
    "移住",
    "定住",
    "関係人口",
    "空き家",
    "補助金",
    "地域おこし協力隊",
    "ふるさと納税",
    "観光",
    "農業",
    "漁業",
    "ＤＸ",
    "窓口",
    "子育て",
    "教育",
    "防災",
    "福祉",
    "起業",
    "事業承継",
    "交流会",
    "ワーケーション",
    "二地域居住",
    "公共交通",
    "ｶﾀｶﾅ表記",
    "オンライン相談",
]
TEMPLATES = [
    "{p}で{a}と{b}に取り組んでいます。{c}の事例があれば教えてください。",
    "{a}の担当になりました。{p}の{b}は、{c}とどうつなげていますか？",
    "昨年度、{p}で{a}の説明会を開きました。{b}の参加者が増え、{c}の相談も来ています。",
    "{b}について、{p}の住民から意見が出ています。{a}の予算と{c}の進め方が課題です。",
    "{p}では{a}・{b}・{c}を一体で進めるため、庁内の横断チームをつくりました。",
]


def _sentence(rng: random.Random) -> str:
    a, b, c = rng.sample(TOPICS, 3)
    return rng.choice(TEMPLATES).format(p=rng.choice(PLACES), a=a, b=b, c=c)


def titles(n: int, *, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(PLACES)}の{rng.choice(TOPICS)}について（{i}）" for i in range(n)]


def generate(n: int, *, seed: int = 11) -> Iterator[str]:
    """``n`` post bodies of one to four sentences."""
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(_sentence(rng) for _ in range(rng.randint(1, 4)))
