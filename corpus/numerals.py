from __future__ import annotations

import cn2an

FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
CHINESE_NUMERAL_CHARS = "零〇一二三四五六七八九十百千两"


def to_int(numeral: str) -> int:
    """Article numbers as integers: '十九' -> 19, '19' -> 19, '１９' -> 19."""
    ascii_digits = numeral.translate(FULLWIDTH_DIGITS)
    if ascii_digits.isdigit():
        return int(ascii_digits)
    return int(cn2an.cn2an(numeral.replace("两", "二"), "normal"))


def to_chinese(number: int) -> str:
    """19 -> '十九', as written in article headings."""
    return str(cn2an.an2cn(number, "low"))
