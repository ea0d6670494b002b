"""What the asker says of themselves: the durations and ages a question states
("交了三年", "12个月", "three years", "55岁"), in Chinese or Arabic numerals or
English words. Tiered rules put the tier that fits them first (qa_service.quotes)."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import cn2an

_EN_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_SITUATION = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:(个?年头|年(?!度|龄|级|前|后|底|初|内)|years?|yrs?)|(个月|months?)|(周岁|岁|years? old))",
    re.IGNORECASE,
)


@dataclass
class Situation:
    """What the asker says of themselves: quantities with a unit ("交了三年" -> 3 year)."""

    values: list[tuple[float, str]] = field(default_factory=list)

    def describe(self, lang: str) -> str:
        words = {"year": ("年", "years"), "month": ("个月", "months"), "age": ("岁", "years old")}
        parts = []
        for value, unit in self.values:
            number = f"{value:g}"
            parts.append(f"{number}{words[unit][0]}" if lang == "zh" else f"{number} {words[unit][1]}")
        return "、".join(parts) if lang == "zh" else ", ".join(parts)


def to_arabic(text: str) -> str:
    """Chinese numerals as Arabic ones ("三年" -> "3年"); cn2an gives up on some
    mixed strings, which then stay as they are."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cn2an warns on every string it cannot read whole
        try:
            return cn2an.transform(text, "cn2an")
        except (ValueError, KeyError, IndexError):
            return text


def parse_situation(question: str) -> Situation:
    """Durations and ages the question states, in Chinese or Arabic numerals or English words."""
    text = re.sub(r"\b(" + "|".join(_EN_NUMBERS) + r")\b", lambda m: _EN_NUMBERS[m.group(1).lower()], question, flags=re.IGNORECASE)
    text = to_arabic(text)
    values: list[tuple[float, str]] = []
    for m in _SITUATION.finditer(text):
        number = float(m.group(1))
        if m.group(2) and number >= 1900:  # a calendar year, not a duration
            continue
        unit = "year" if m.group(2) else "month" if m.group(3) else "age"
        values.append((number, unit))
    return Situation(values)
