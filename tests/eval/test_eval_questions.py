"""Question files: accepted shapes, and every malformed line rejected with its line number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from corpus import DEFAULT_CORPUS_DIR, Corpus, load_corpus
from eval.questions import QuestionFileError, infer_lang, load_questions

GOOD = {"id": "q1", "question": "养老保险怎么交？", "gold": ["social-insurance-law:10"]}


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(DEFAULT_CORPUS_DIR)


def test_defaults_and_language_inference(write_jsonl: Callable[..., Path], corpus: Corpus) -> None:
    path = write_jsonl([
        GOOD,
        {"id": "q2", "question": "How do I stop my insurance?", "gold": ["guidance-terminate-insured-relationship#step-2"]},
        {"id": "q3", "question": "住房公积金比例？", "answerable": False, "gold": [], "lang": "zh", "extra": 1},
        "",  # blank lines are allowed
        {"id": "q4", "question": "失业保险条例讲了什么", "gold": ["unemployment-insurance-regulation"], "category": "doc"},
    ])
    q1, q2, q3, q4 = load_questions(path, corpus)
    assert (q1.lang, q1.answerable, q1.gold, q1.line) == ("zh", True, ("social-insurance-law:10",), 1)
    assert (q2.lang, q2.gold) == ("en", ("guidance-terminate-insured-relationship#step-2",))
    assert (q3.answerable, q3.gold, q3.scored_for_retrieval) == (False, (), False)
    assert (q4.category, q4.line) == ("doc", 5)


def test_infer_lang_looks_for_cjk() -> None:
    assert infer_lang("Is 住房公积金 mandatory?") == "zh"
    assert infer_lang("Article 58 of the SIL") == "en"


def test_external_field_names_are_mapped(write_jsonl: Callable[..., Path], corpus: Corpus) -> None:
    """The held-out set's spelling: `language`, `gold_articles` labels, `kind`."""
    path = write_jsonl([
        {"id": "x1", "question": "q", "language": "zh", "gold_articles": ["社会保险法 第十九条"], "kind": "real"},
        {"id": "x2", "question": "q", "gold": ["social-insurance-law:60"], "gold_articles": ["社会保险法 第六十条"]},
    ])
    x1, x2 = load_questions(path, corpus)
    assert (x1.lang, x1.gold, x1.category) == ("zh", ("social-insurance-law:19",), "real")
    assert x2.gold == ("social-insurance-law:60",)  # `gold` wins when both are present


@pytest.mark.parametrize(
    ("records", "line", "message"),
    [
        ([GOOD, '{"id": "q2", "question": '], 2, "invalid JSON"),
        ([GOOD, GOOD | {"id": "q2", "question": ""}], 2, "'question' is missing or empty"),
        ([{"id": "q1", "gold": []}], 1, "'question' is missing or empty"),
        ([GOOD, GOOD | {"id": 7}], 2, "'id' must be a non-empty string"),
        ([GOOD, GOOD], 2, "duplicate id 'q1' (first on line 1)"),
        ([GOOD, GOOD | {"id": "q2"}, GOOD | {"id": "q3", "gold": ["social-insurance-law:999"]}], 3,
         "unknown gold key 'social-insurance-law:999'"),
        ([GOOD | {"gold": ["no-such-law"]}], 1, "unknown gold key 'no-such-law'"),
        ([GOOD | {"gold": ["guidance-terminate-insured-relationship#step-9"]}], 1, "unknown gold key"),
        ([GOOD | {"gold": "social-insurance-law:10"}], 1, "'gold' must be a list of strings"),
        ([GOOD | {"lang": "fr"}], 1, "'lang' must be one of"),
        ([GOOD | {"answerable": "yes"}], 1, "'answerable' must be true or false"),
        (["[1, 2]"], 1, "expected a JSON object"),
        ([{"id": "x", "question": "q", "gold_articles": ["劳动合同法 第三十八条"]}], 1, "cannot resolve gold_articles"),
    ],
)
def test_malformed_lines_are_rejected_with_their_line_number(
    write_jsonl: Callable[..., Path], corpus: Corpus, records: list[object], line: int, message: str
) -> None:
    path = write_jsonl(records)
    with pytest.raises(QuestionFileError) as caught:
        load_questions(path, corpus)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_empty_file_is_rejected(write_jsonl: Callable[..., Path], corpus: Corpus) -> None:
    with pytest.raises(QuestionFileError, match="no questions"):
        load_questions(write_jsonl([""]), corpus)


@pytest.mark.parametrize("name", ["dev.jsonl", "test.jsonl", "consultations-tune.jsonl", "consultations-test.jsonl"])
def test_the_question_sets_load_without_dropping_anything(corpus: Corpus, name: str) -> None:
    path = Path(__file__).resolve().parents[2] / "eval" / "questions" / name
    questions = load_questions(path, corpus)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(questions) == len(lines)
    assert all(q.gold for q in questions if q.answerable)


def test_the_consultation_parts_do_not_overlap(corpus: Corpus) -> None:
    folder = Path(__file__).resolve().parents[2] / "eval" / "questions"
    tune = load_questions(folder / "consultations-tune.jsonl", corpus)
    test = load_questions(folder / "consultations-test.jsonl", corpus)
    assert len(tune) + len(test) >= 150
    assert not {q.id for q in tune} & {q.id for q in test}
    assert not {q.question for q in tune} & {q.question for q in test}


# --------------------------------------------------------------------------- nuggets (key facts)

NUGGETS = [["累计缴费满十五年"], ["个人账户不得提前支取", "个人账户余额可以继承"]]


def test_nuggets_load_as_tuples_of_alternatives(write_jsonl: Callable[..., Path], corpus: Corpus) -> None:
    path = write_jsonl([
        GOOD | {"nuggets": NUGGETS},
        {"id": "q2", "question": "How do I stop?", "gold": [], "nuggets": [["fill in the application form"]]},
        GOOD | {"id": "q3"},  # no nuggets: an empty tuple, not an error
    ])
    q1, q2, q3 = load_questions(path, corpus)
    assert q1.nuggets == (("累计缴费满十五年",), ("个人账户不得提前支取", "个人账户余额可以继承"))
    assert q2.nuggets == (("fill in the application form",),)
    assert q3.nuggets == ()


@pytest.mark.parametrize(
    ("nuggets", "message"),
    [
        ([["累计缴费满十五年"], ["缴费满二十年"]], "nugget 2: '缴费满二十年' is not in the corpus"),
        # whitespace is ignored when answers are matched, not when nuggets are checked: exact substrings only
        ([["累计缴费 满十五年"]], "nugget 1: '累计缴费 满十五年' is not in the corpus"),
        # SOURCES.md is in the corpus folder but is not a corpus document
        ([["Article 5 of the PRC Copyright Law"]], "is not in the corpus"),
        ([], "'nuggets' is an empty list"),
        ([["累计缴费满十五年"], []], "nugget 2 is an empty list"),
        ("累计缴费满十五年", "'nuggets' must be a list of lists of strings, got str"),
        (["累计缴费满十五年"], "nugget 1 must be a list of alternative strings, got str"),
        ([["累计缴费满十五年", 15]], "nugget 1: alternatives must be strings, got 15"),
        ([["累计缴费满十五年"], ["  "]], "nugget 2: an alternative is empty or only whitespace"),
        ([[""]], "nugget 1: an alternative is empty or only whitespace"),
        (None, "'nuggets' must be a list of lists of strings, got NoneType"),
    ],
)
def test_bad_nuggets_are_rejected_with_their_line_number(
    write_jsonl: Callable[..., Path], corpus: Corpus, nuggets: object, message: str
) -> None:
    path = write_jsonl([GOOD | {"nuggets": NUGGETS}, GOOD | {"id": "q2", "nuggets": nuggets}])
    with pytest.raises(QuestionFileError) as caught:
        load_questions(path, corpus)
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{path}:2: question 'q2': ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unanswerable_question_may_carry_only_empty_nuggets(write_jsonl: Callable[..., Path], corpus: Corpus) -> None:
    unanswerable = {"id": "u1", "question": "公积金？", "answerable": False, "gold": []}
    (u1,) = load_questions(write_jsonl([unanswerable | {"nuggets": []}]), corpus)  # none, as with its gold
    assert (u1.answerable, u1.nuggets) == (False, ())
    path = write_jsonl([unanswerable | {"nuggets": NUGGETS}])
    with pytest.raises(QuestionFileError, match=r":1: question 'u1': 'nuggets' on an unanswerable question"):
        load_questions(path, corpus)
    with pytest.raises(QuestionFileError, match=r":1: question 'u1': 'nuggets' must be a list"):
        load_questions(write_jsonl([unanswerable | {"nuggets": "none"}]), corpus)


def test_nuggets_are_checked_against_the_corpus_given(write_jsonl: Callable[..., Path], corpus_copy: Any) -> None:
    """Another corpus folder: a nugget of the bundled corpus that it lacks is an error there."""
    path = write_jsonl([GOOD | {"nuggets": NUGGETS}])
    assert load_questions(path, load_corpus(corpus_copy.path))[0].nuggets  # an identical copy: fine
    corpus_copy.replace("social-insurance-law", "累计缴费满十五年", "累计缴费满二十年")
    with pytest.raises(QuestionFileError, match="'累计缴费满十五年' is not in the corpus"):
        load_questions(path, load_corpus(corpus_copy.path))


@pytest.mark.parametrize("name", ["dev.jsonl", "test.jsonl"])
def test_every_answerable_question_has_nuggets(corpus: Corpus, name: str) -> None:
    path = Path(__file__).resolve().parents[2] / "eval" / "questions" / name
    questions = load_questions(path, corpus)
    assert [q.id for q in questions if q.answerable and not q.nuggets] == []
    assert all(len(n) >= 1 for q in questions for n in q.nuggets)
