"""The one gold-matching rule, used by loading, metrics, reports and tests.

Citation keys come in three shapes (see corpus/manifest.json "about"):
  - ``doc:n``        an article: matches only the passage with that key;
  - ``doc#section``  a section of a non-statute document: matches only that section;
  - ``doc``          a whole document: matches every passage of the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_KEY_SEPARATORS = re.compile(r"[:#]")


def doc_of(key: str) -> str:
    """The document part of a citation key (doc ids never contain ':' or '#')."""
    return _KEY_SEPARATORS.split(key, maxsplit=1)[0]


def is_bare_doc(gold: str) -> bool:
    return _KEY_SEPARATORS.search(gold) is None


def gold_matches(gold: str, key: str) -> bool:
    """True if the result or citation `key` satisfies the gold key `gold`."""
    if is_bare_doc(gold):
        return doc_of(key) == gold
    # Articles and sections are exact: a bare "doc:1" must not match "doc:10".
    return key == gold


def matches_any(golds: Iterable[str], key: str) -> bool:
    return any(gold_matches(gold, key) for gold in golds)


def first_gold_rank(golds: Iterable[str], keys: Iterable[str]) -> int | None:
    """1-based rank of the first key that matches a gold key, or None."""
    golds = list(golds)
    for rank, key in enumerate(keys, start=1):
        if matches_any(golds, key):
            return rank
    return None


def expand_gold(golds: Iterable[str], universe: Iterable[str]) -> set[str]:
    """The keys in `universe` (all passage keys, plus any returned keys) that
    satisfy some gold key: these become the relevant documents of the qrels."""
    golds = list(golds)
    return {key for key in universe if matches_any(golds, key)}
