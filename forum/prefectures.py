"""The 47 prefectures: JIS X 0401 codes, names, and places on the tile-grid map."""

from __future__ import annotations

from dataclasses import dataclass

from forum.i18n import gettext as _

__all__ = ["PREFECTURES", "Prefecture", "prefecture_names"]


@dataclass(frozen=True, slots=True)
class Prefecture:
    """A prefecture; ``name`` is its Japanese name, ``x``/``y`` its tile on the map."""

    code: int
    name: str
    x: int
    y: int


PREFECTURES: dict[int, Prefecture] = {
    1: Prefecture(1, "北海道", 12, 0),
    2: Prefecture(2, "青森県", 11, 1),
    3: Prefecture(3, "岩手県", 11, 2),
    4: Prefecture(4, "宮城県", 11, 3),
    5: Prefecture(5, "秋田県", 10, 2),
    6: Prefecture(6, "山形県", 10, 3),
    7: Prefecture(7, "福島県", 10, 4),
    8: Prefecture(8, "茨城県", 11, 6),
    9: Prefecture(9, "栃木県", 11, 5),
    10: Prefecture(10, "群馬県", 10, 5),
    11: Prefecture(11, "埼玉県", 10, 6),
    12: Prefecture(12, "千葉県", 11, 7),
    13: Prefecture(13, "東京都", 10, 7),
    14: Prefecture(14, "神奈川県", 10, 8),
    15: Prefecture(15, "新潟県", 9, 4),
    16: Prefecture(16, "富山県", 8, 4),
    17: Prefecture(17, "石川県", 7, 4),
    18: Prefecture(18, "福井県", 7, 5),
    19: Prefecture(19, "山梨県", 9, 6),
    20: Prefecture(20, "長野県", 9, 5),
    21: Prefecture(21, "岐阜県", 8, 5),
    22: Prefecture(22, "静岡県", 9, 7),
    23: Prefecture(23, "愛知県", 8, 6),
    24: Prefecture(24, "三重県", 8, 7),
    25: Prefecture(25, "滋賀県", 7, 6),
    26: Prefecture(26, "京都府", 6, 6),
    27: Prefecture(27, "大阪府", 6, 7),
    28: Prefecture(28, "兵庫県", 5, 7),
    29: Prefecture(29, "奈良県", 7, 7),
    30: Prefecture(30, "和歌山県", 6, 8),
    31: Prefecture(31, "鳥取県", 4, 6),
    32: Prefecture(32, "島根県", 3, 6),
    33: Prefecture(33, "岡山県", 4, 7),
    34: Prefecture(34, "広島県", 3, 7),
    35: Prefecture(35, "山口県", 2, 7),
    36: Prefecture(36, "徳島県", 5, 8),
    37: Prefecture(37, "香川県", 4, 8),
    38: Prefecture(38, "愛媛県", 3, 8),
    39: Prefecture(39, "高知県", 4, 9),
    40: Prefecture(40, "福岡県", 1, 8),
    41: Prefecture(41, "佐賀県", 0, 8),
    42: Prefecture(42, "長崎県", 0, 9),
    43: Prefecture(43, "熊本県", 1, 9),
    44: Prefecture(44, "大分県", 2, 9),
    45: Prefecture(45, "宮崎県", 2, 10),
    46: Prefecture(46, "鹿児島県", 1, 10),
    47: Prefecture(47, "沖縄県", 0, 12),
}


def prefecture_names() -> dict[int, str]:
    """The names in the reader's language, by code."""
    return {
        1: _("北海道"),
        2: _("青森県"),
        3: _("岩手県"),
        4: _("宮城県"),
        5: _("秋田県"),
        6: _("山形県"),
        7: _("福島県"),
        8: _("茨城県"),
        9: _("栃木県"),
        10: _("群馬県"),
        11: _("埼玉県"),
        12: _("千葉県"),
        13: _("東京都"),
        14: _("神奈川県"),
        15: _("新潟県"),
        16: _("富山県"),
        17: _("石川県"),
        18: _("福井県"),
        19: _("山梨県"),
        20: _("長野県"),
        21: _("岐阜県"),
        22: _("静岡県"),
        23: _("愛知県"),
        24: _("三重県"),
        25: _("滋賀県"),
        26: _("京都府"),
        27: _("大阪府"),
        28: _("兵庫県"),
        29: _("奈良県"),
        30: _("和歌山県"),
        31: _("鳥取県"),
        32: _("島根県"),
        33: _("岡山県"),
        34: _("広島県"),
        35: _("山口県"),
        36: _("徳島県"),
        37: _("香川県"),
        38: _("愛媛県"),
        39: _("高知県"),
        40: _("福岡県"),
        41: _("佐賀県"),
        42: _("長崎県"),
        43: _("熊本県"),
        44: _("大分県"),
        45: _("宮崎県"),
        46: _("鹿児島県"),
        47: _("沖縄県"),
    }
