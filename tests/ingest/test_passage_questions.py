"""The questions file: read strictly, matched to the passages it was written for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR, ReferenceParser, load_corpus
from ingest.passage_questions import PassageQuestionsError, load_passage_questions
from ingest.settings import IndexSettings

CORPUS = load_corpus(DEFAULT_CORPUS_DIR)
BUNDLED = IndexSettings().passage_questions


def _write(path: Path, entries: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    return path


def test_bundled_questions_fit_every_passage_of_the_bundled_corpus() -> None:
    loaded = load_passage_questions(BUNDLED, CORPUS.passages)
    assert loaded.stale == []
    per_passage: dict[str, dict[str, int]] = {}
    for question in loaded.questions:
        counts = per_passage.setdefault(question.key, {"zh": 0, "en": 0})
        counts[question.lang] += 1
    # four written questions and two consultations in Chinese, two written and three everyday questions in English, at least
    assert set(per_passage) == {p.key for p in CORPUS.passages}
    assert all(counts["zh"] >= 6 and counts["en"] >= 5 for counts in per_passage.values()), per_passage
    # in passage order, so the index's question rows follow its passages
    order = {p.key: i for i, p in enumerate(CORPUS.passages)}
    assert [order[q.key] for q in loaded.questions] == sorted(order[q.key] for q in loaded.questions)


def test_no_question_names_an_article_number() -> None:
    """They stand for visitors' own words; a number would make the reference lookup's job theirs."""
    parser = ReferenceParser(CORPUS.manifest)  # the one parser of 第十九条, 第19条, Art. 22 …
    loaded = load_passage_questions(BUNDLED, CORPUS.passages)
    assert [q.text for q in loaded.questions if parser.parse(q.text)] == []


def test_an_entry_for_a_changed_or_missing_passage_is_stale_and_left_out(tmp_path: Path) -> None:
    first, second = CORPUS.passages[:2]
    path = _write(tmp_path / "q.jsonl", [
        {"key": first.key, "hash": first.hash, "zh": ["问题一"], "en": ["Question one"]},
        {"key": second.key, "hash": "0" * 64, "zh": ["过时的问题"]},
        {"key": "social-insurance-law:999", "hash": "1" * 64, "en": ["Gone"]},
    ])
    loaded = load_passage_questions(path, CORPUS.passages)
    assert [(q.key, q.lang, q.text) for q in loaded.questions] == [
        (first.key, "zh", "问题一"), (first.key, "en", "Question one"),
    ]
    assert loaded.stale == sorted([second.key, "social-insurance-law:999"])


def test_no_file_means_no_questions(tmp_path: Path) -> None:
    assert load_passage_questions(None, CORPUS.passages).questions == []
    assert load_passage_questions(tmp_path / "absent.jsonl", CORPUS.passages).questions == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "Expecting property name"),
        ('{"key": "social-insurance-law:1", "zh": ["x"]}', "Field required"),
        ('{"key": "social-insurance-law:1", "hash": "x", "zh": ["  "]}', "a question is empty"),
        ('{"key": "social-insurance-law:1", "hash": "x", "fr": ["q"]}', "Extra inputs are not permitted"),
    ],
)
def test_a_malformed_line_is_an_error_naming_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    first = CORPUS.passages[0]
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"key": first.key, "hash": first.hash, "zh": ["好问题"]}) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(PassageQuestionsError, match=rf"q\.jsonl:3: .*{reason}"):
        load_passage_questions(path, CORPUS.passages)


def test_a_passage_listed_twice_is_an_error(tmp_path: Path) -> None:
    first = CORPUS.passages[0]
    entry = {"key": first.key, "hash": first.hash, "zh": ["好问题"]}
    with pytest.raises(PassageQuestionsError, match=r":2: .* appears twice"):
        load_passage_questions(_write(tmp_path / "q.jsonl", [entry, entry]), CORPUS.passages)
