"""The one language detector: the service, evaluation and LLM mode file a
question under the same language."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_lang(text: str) -> str:
    """'zh' when Chinese characters carry the text (at least as many as Latin
    words: "Is 住房公积金 mandatory?" is zh, "My boss 老王 won't pay" is en), else 'en'."""
    cjk = len(CJK.findall(text))
    return "zh" if cjk and cjk >= len(_LATIN_WORD.findall(text)) else "en"
