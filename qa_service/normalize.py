"""What every question goes through before retrieval: Unicode NFKC (full-width
第１９条 -> 第19条), control characters removed, traditional characters to
simplified (社會保險法 -> 社会保险法), whitespace collapsed, language detected."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from corpus.language import CJK as _CJK
from corpus.language import detect_lang  # noqa: F401 - the one detector, re-exported for the service

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACE = re.compile(r"\s+")
_LATIN = re.compile(r"[A-Za-z]")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize_question(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text)
    if _CJK.search(text):
        text = _t2s().convert(text)
    return _SPACE.sub(" ", text).strip()


