"""A bilingual glossary of the field, for dictionary-based cross-language search.

The guidance is English and most questions are Chinese; BM25 and e5 match
only within a language, and USE's cross-lingual similarity is too weak to rank
the guidance for a Chinese question. Glossing the question's domain terms
into the other language gives those retrievers something to match."""

from __future__ import annotations

import re

# Chinese term -> English words as the guidance (and English questions) use them.
ZH_EN: dict[str, str] = {
    "原参保地": "original insured place",
    "老家": "original place",
    "参保地": "insured place",
    "停保": "stop suspend terminate insurance",
    "停掉": "stop suspend",
    "暂停": "suspend",
    "手续": "formalities procedures",
    "保险关系": "insurance relationship insured relationship",
    "参保关系": "insured relationship",
    "换城市": "job transfer cross-regional employment target place",
    "调动": "job transfer",
    "跨地区": "cross-regional",
    "新城市": "target place",
    "目标地": "target place",
    "留学": "study abroad",
    "出国": "abroad",
    "身份证": "ID card",
    "户口本": "household registration book",
    "申请表": "application form",
    "律师": "lawyer",
    "法律依据": "legal basis",
}

_EN_WORD = re.compile(r"[A-Za-z]+")


MIN_TERMS = 2  # one shared word is not enough evidence that the question is about the guidance


def gloss_to_english(text: str) -> str:
    """The English words for the field's Chinese terms in `text` (empty unless
    at least MIN_TERMS of them occur)."""
    found = [en for zh, en in ZH_EN.items() if zh in text]
    return " ".join(found) if len(found) >= MIN_TERMS else ""
