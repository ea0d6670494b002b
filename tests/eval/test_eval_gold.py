"""The one gold-matching rule: article keys exact, bare doc ids match the whole
document, `doc#section` keys match that section only."""

from __future__ import annotations

import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from eval.gold import doc_of, expand_gold, first_gold_rank, gold_matches


@pytest.mark.parametrize(
    ("gold", "key", "expected"),
    [
        # article: exact, and never a prefix ("…:1" must not match "…:10")
        ("social-insurance-law:1", "social-insurance-law:1", True),
        ("social-insurance-law:1", "social-insurance-law:10", False),
        ("social-insurance-law:19", "pension-transfer-interim-measures:19", False),
        # bare doc: any passage of that document, article or section
        ("social-insurance-law", "social-insurance-law:58", True),
        ("guidance-terminate-insured-relationship", "guidance-terminate-insured-relationship#step-2", True),
        ("social-insurance-law", "social-insurance-law-implementing-provisions:2", False),
        # section: that section only
        ("guidance-terminate-insured-relationship#step-2", "guidance-terminate-insured-relationship#step-2", True),
        ("guidance-terminate-insured-relationship#step-2", "guidance-terminate-insured-relationship#step-3", False),
        ("guidance-terminate-insured-relationship#step-2", "guidance-terminate-insured-relationship", False),
    ],
)
def test_gold_matches(gold: str, key: str, expected: bool) -> None:
    assert gold_matches(gold, key) is expected


def test_doc_of_strips_article_and_section() -> None:
    assert doc_of("social-insurance-law:58") == "social-insurance-law"
    assert doc_of("guidance-terminate-insured-relationship#note") == "guidance-terminate-insured-relationship"
    assert doc_of("social-insurance-law") == "social-insurance-law"


def test_bare_doc_expands_to_every_passage_of_the_document() -> None:
    corpus = load_corpus(DEFAULT_CORPUS_DIR)
    keys = [p.key for p in corpus.passages]
    expanded = expand_gold(["unemployment-insurance-regulation"], keys)
    assert expanded == {p.key for p in corpus.passages if p.doc_id == "unemployment-insurance-regulation"}
    assert len(expanded) == 33  # the regulation's 33 articles


def test_section_and_article_expand_to_themselves() -> None:
    keys = ["guide#intro", "guide#step-1", "guide#step-2", "law:1", "law:10"]
    assert expand_gold(["guide#step-1", "law:1"], keys) == {"guide#step-1", "law:1"}


def test_first_gold_rank_is_one_based_and_none_when_absent() -> None:
    assert first_gold_rank(["law:3"], ["law:1", "law:2", "law:3"]) == 3
    assert first_gold_rank(["law"], ["other:1", "law:7"]) == 2
    assert first_gold_rank(["law:3"], ["law:30"]) is None
