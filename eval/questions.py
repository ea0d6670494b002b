"""Question files: JSON Lines, loaded and validated in one pass.

Every problem stops the load with a one-line message naming file and line;
no question is ever dropped silently. Besides the project's own schema
(`id`, `question`, `lang`, `answerable`, `gold`, `category`, `nuggets`) the loader accepts
the field names of the external held-out set (`language`, `gold_articles`
such as "社会保险法 第十九条", `kind`), mapping them only where the project's
own field is absent.

`nuggets` are the key facts a complete answer states: a list of facts, each a
list of alternative wordings, and every alternative an exact substring of a
corpus document (so an answer that quotes the law can contain it).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus import Corpus, ReferenceParser
from corpus.language import detect_lang
from eval.gold import matches_any

LANGS = ("zh", "en")
# Fallbacks, in order, for files that name a field differently.
_LANG_FIELDS = ("lang", "language")
_CATEGORY_FIELDS = ("category", "kind")


class QuestionFileError(ValueError):
    """A question file is malformed; str() is one line naming file and line."""

    def __init__(self, file: Path | str, message: str, line: int | None = None) -> None:
        self.file = str(file)
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else str(file)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    answerable: bool = True
    gold: tuple[str, ...] = ()
    category: str | None = None
    line: int = 0  # where it came from, for messages
    # Key facts: each a tuple of alternative strings, any one of which states it.
    nuggets: tuple[tuple[str, ...], ...] = ()

    @property
    def has_gold(self) -> bool:
        return bool(self.gold)

    @property
    def scored_for_retrieval(self) -> bool:
        """Retrieval metrics need something to find: answerable and with gold."""
        return self.answerable and self.has_gold


def infer_lang(text: str) -> str:
    """A question file's missing `lang`: the service's own detector, so that eval
    files a mixed question under the language the service answers it in."""
    return detect_lang(text)


def _first_present(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if record.get(name) is not None:
            return record[name]
    return None


class _Validator:
    """Checks one record at a time; knows the corpus keys for gold validation."""

    def __init__(self, path: Path, corpus: Corpus) -> None:
        self.path = path
        self.known_keys: Collection[str] = [p.key for p in corpus.passages]
        self.parser = ReferenceParser(corpus.manifest)
        self.texts: Collection[str] = list(corpus.texts.values())  # the corpus documents' .md files
        self.seen: dict[str, int] = {}

    def fail(self, line: int, message: str) -> QuestionFileError:
        return QuestionFileError(self.path, message, line)

    def question(self, record: Any, line: int) -> Question:
        if not isinstance(record, dict):
            raise self.fail(line, f"expected a JSON object, got {type(record).__name__}")
        qid = record.get("id")
        if not isinstance(qid, str) or not qid.strip():
            raise self.fail(line, f"'id' must be a non-empty string, got {qid!r}")
        if qid in self.seen:
            raise self.fail(line, f"duplicate id {qid!r} (first on line {self.seen[qid]})")
        text = record.get("question")
        if not isinstance(text, str) or not text.strip():
            raise self.fail(line, f"question {qid!r}: 'question' is missing or empty")
        answerable = record.get("answerable", True)
        if not isinstance(answerable, bool):
            raise self.fail(line, f"question {qid!r}: 'answerable' must be true or false, got {answerable!r}")
        category = _first_present(record, _CATEGORY_FIELDS)
        question = Question(
            id=qid,
            question=text,
            lang=self.lang(record, text, qid, line),
            answerable=answerable,
            gold=self.gold(record, qid, line),
            category=str(category) if category is not None else None,
            line=line,
            nuggets=self.nuggets(record, qid, answerable, line),
        )
        self.seen[qid] = line
        return question

    def lang(self, record: dict[str, Any], text: str, qid: str, line: int) -> str:
        lang = _first_present(record, _LANG_FIELDS)
        if lang is None:
            return infer_lang(text)
        if lang not in LANGS:
            raise self.fail(line, f"question {qid!r}: 'lang' must be one of {LANGS}, got {lang!r}")
        return lang

    def gold(self, record: dict[str, Any], qid: str, line: int) -> tuple[str, ...]:
        if "gold" in record:
            golds = record["gold"]
            if not isinstance(golds, list) or not all(isinstance(g, str) for g in golds):
                raise self.fail(line, f"question {qid!r}: 'gold' must be a list of strings")
        elif "gold_articles" in record:
            golds = self.keys_from_labels(record["gold_articles"], qid, line)
        else:
            golds = []
        for gold in golds:
            if not any(matches_any([gold], key) for key in self.known_keys):
                raise self.fail(line, f"question {qid!r}: unknown gold key {gold!r} (not in the corpus)")
        return tuple(dict.fromkeys(golds))  # drop repeats, keep order

    def nuggets(self, record: dict[str, Any], qid: str, answerable: bool, line: int) -> tuple[tuple[str, ...], ...]:
        """[["alt 1", "alt 2"], ["fact 2"]]: every alternative must occur verbatim in a corpus document.

        An answerable question's list may not be empty; an unanswerable question has none, so
        `[]` (as held-out files write it, beside `"gold": []`) is all it may carry."""
        if "nuggets" not in record:
            return ()
        nuggets = record["nuggets"]
        if not isinstance(nuggets, list):
            kind = type(nuggets).__name__
            raise self.fail(line, f"question {qid!r}: 'nuggets' must be a list of lists of strings, got {kind}")
        if not answerable:
            if nuggets:  # like its gold, an unanswerable question's nuggets may be given only as []
                raise self.fail(line, f"question {qid!r}: 'nuggets' on an unanswerable question (it should be refused)")
            return ()
        if not nuggets:
            raise self.fail(line, f"question {qid!r}: 'nuggets' is an empty list (give its key facts or leave the field out)")
        for number, nugget in enumerate(nuggets, start=1):
            where = f"question {qid!r}: nugget {number}"
            if not isinstance(nugget, list):
                raise self.fail(line, f"{where} must be a list of alternative strings, got {type(nugget).__name__}")
            if not nugget:
                raise self.fail(line, f"{where} is an empty list")
            for alternative in nugget:
                if not isinstance(alternative, str):
                    raise self.fail(line, f"{where}: alternatives must be strings, got {alternative!r}")
                if not alternative.strip():
                    raise self.fail(line, f"{where}: an alternative is empty or only whitespace")
                if not any(alternative in text for text in self.texts):
                    raise self.fail(
                        line, f"{where}: {alternative!r} is not in the corpus (no document contains it verbatim)"
                    )
        return tuple(tuple(dict.fromkeys(nugget)) for nugget in nuggets)

    def keys_from_labels(self, labels: Any, qid: str, line: int) -> list[str]:
        """"社会保险法 第十九条" -> "social-insurance-law:19", through the corpus's
        one reference parser; a label it cannot resolve is an error, not a skip."""
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise self.fail(line, f"question {qid!r}: 'gold_articles' must be a list of strings")
        keys = []
        for label in labels:
            refs = [r for r in self.parser.parse(label) if r.explicit_doc and r.key]
            if len(refs) != 1:
                raise self.fail(line, f"question {qid!r}: cannot resolve gold_articles label {label!r}")
            keys.append(refs[0].key)
        return keys


def load_questions(path: Path, corpus: Corpus) -> list[Question]:
    """Read and validate a question file; raise QuestionFileError on the first problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QuestionFileError(path, f"cannot read: {exc.strerror or exc}") from None
    validator = _Validator(path, corpus)
    questions: list[Question] = []
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise validator.fail(number, "not valid UTF-8") from None
        if not line.strip():
            continue  # blank lines (e.g. a trailing newline) carry no question
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise validator.fail(number, f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        questions.append(validator.question(record, number))
    if not questions:
        raise QuestionFileError(path, "no questions in the file")
    return questions
