"""The field's lexicon (qa_service.lexicon): one data file, three tables, longest match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from ingest.lexical import tokenize
from qa_service.lexicon import MIN_TERMS, Lexicon, LexiconError, expand, gloss_to_chinese, gloss_to_english, lexicon

EN_ZH = lexicon().en_zh.as_dict()
ZH_EN = lexicon().zh_en.as_dict()
COLLOQUIAL = lexicon().colloquial.as_dict()


def test_english_terms_become_the_statutes_chinese_terms() -> None:
    glossed = gloss_to_chinese("Can my employer stop paying my pension contributions?")
    for term in ("用人单位", "基本养老保险", "缴费"):
        assert term in glossed


def test_the_longest_phrase_wins_and_its_words_are_not_glossed_again() -> None:
    glossed = gloss_to_chinese("How are unemployment benefits calculated for an employer's staff?")
    assert EN_ZH["unemployment benefits"] in glossed
    # "benefits" alone (待遇) was consumed by the phrase
    assert EN_ZH["benefits"] not in glossed.replace(EN_ZH["unemployment benefits"], "")


def test_only_whole_words_match() -> None:
    # "fund" inside "refund" and "tax" inside "taxi" are not those words
    assert EN_ZH["fund"] not in gloss_to_chinese("a refund from my employer")
    assert EN_ZH["tax"] not in gloss_to_chinese("I took a taxi to my employer's hospital")


def test_hyphenated_terms_match_as_one_word() -> None:
    assert EN_ZH["work-injury"] in gloss_to_chinese("My employer never paid work-injury insurance")


def test_too_little_evidence_glosses_nothing() -> None:
    """One term is not enough (MIN_TERMS = 2); two are."""
    assert MIN_TERMS == 2
    assert gloss_to_chinese("pension") == ""
    assert gloss_to_chinese("my pension and my employer") == f"{EN_ZH['employer']} {EN_ZH['pension']}"  # longest first
    assert gloss_to_chinese("What is the weather like in Paris tomorrow?") == ""
    assert gloss_to_english("今天天气怎么样") == ""
    assert gloss_to_english("停保") == ""
    assert gloss_to_english("停保手续") == f"{ZH_EN['停保']} {ZH_EN['手续']}"


def test_a_term_inside_a_longer_one_is_not_counted_again() -> None:
    """Regression: 参保地 inside 原参保地 counted as a second term, so a question
    naming one place passed the two-term minimum with one term."""
    assert gloss_to_english("原参保地在哪里") == ""
    assert gloss_to_english("参保地在哪里") == ""
    glossed = gloss_to_english("原参保地怎么停保")
    assert glossed == f"{ZH_EN['原参保地']} {ZH_EN['停保']}"
    # both terms really present, side by side: both count
    assert gloss_to_english("原参保地和现在的参保地") == f"{ZH_EN['原参保地']} {ZH_EN['参保地']}"


def test_chinese_questions_gloss_into_english() -> None:
    glossed = gloss_to_english("去原参保地办停保手续")
    assert "original insured place" in glossed and "formalities" in glossed


def test_colloquial_words_take_the_longest_match() -> None:
    """社保局 is the agency (社会保险经办机构), not also 社保 (社会保险) inside it;
    退休金 is the pension, not also 退休 (法定退休年龄) inside it."""
    assert expand("去社保局问问") == f"去社保局问问 {COLLOQUIAL['社保局']}"
    assert COLLOQUIAL["社保"] not in expand("去社保局问问").split()
    assert COLLOQUIAL["退休"] not in expand("退休金怎么算")
    assert expand("社保局说我的社保断缴了") == f"社保局说我的社保断缴了 {COLLOQUIAL['社保局']} {COLLOQUIAL['社保']} {COLLOQUIAL['断缴']}"
    assert expand("今天天气不错") == "今天天气不错"


def test_every_chinese_target_is_a_word_the_corpus_uses() -> None:
    """A statute term that never occurs in the corpus cannot match anything."""
    vocabulary = {t for p in load_corpus(DEFAULT_CORPUS_DIR).passages for t in tokenize(p.text)}
    assert lexicon().unknown_targets(vocabulary) == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"table": "colloquial", "term": "社保"', "Expecting"),
        ('{"table": "slang", "term": "社保", "adds": "社会保险"}', "Input should be"),
        ('{"table": "colloquial", "term": "", "adds": "社会保险"}', "at least 1 character"),
        ('{"table": "colloquial", "term": "社保", "adds": "社会保险", "note": "x"}', "Extra inputs"),
        ('{"table": "colloquial", "term": "社保", "adds": "社会保险"}', "appears twice"),
    ],
)
def test_a_malformed_lexicon_is_refused_with_its_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "lexicon.jsonl"
    path.write_text(json.dumps({"table": "colloquial", "term": "社保", "adds": "社会保险"}, ensure_ascii=False) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=rf"lexicon.jsonl:2: .*{reason}"):
        Lexicon.load(path)
