"""The renderings file: read strictly, tied to the sentences it renders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from corpus.sentences import split_sentences
from ingest.renderings import RenderingsError, load_renderings, sentence_hash
from ingest.settings import IndexSettings

CORPUS = load_corpus(DEFAULT_CORPUS_DIR)
SENTENCES = [s for p in CORPUS.passages for s in split_sentences(p)]
LANGS = {p.key: p.lang for p in CORPUS.passages}
BUNDLED = IndexSettings().renderings


def _entry(source: str, text: str = "A rendering.", lang: str = "en") -> dict:
    return {"hash": sentence_hash(source), "lang": lang, "source": source, "text": text}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_every_sentence_of_the_bundled_corpus_has_a_rendering_in_the_other_language() -> None:
    loaded = load_renderings(BUNDLED, SENTENCES, LANGS)
    assert loaded.stale == [] and loaded.missing == 0
    for sentence in SENTENCES:
        rendering = loaded.renderings[sentence_hash(sentence.text)]
        assert rendering["lang"] == ("en" if LANGS[sentence.key] == "zh" else "zh")
        assert rendering["text"].strip() and rendering["text"] != sentence.text


def test_a_changed_sentence_loses_its_rendering_and_is_reported(tmp_path: Path) -> None:
    first = SENTENCES[0].text
    path = _write(tmp_path / "r.jsonl", [json.dumps(_entry(first)), json.dumps(_entry("一句已经不存在的话。"))])
    loaded = load_renderings(path, SENTENCES, LANGS)
    assert list(loaded.renderings) == [sentence_hash(first)]
    assert loaded.stale == ["一句已经不存在的话。"]
    assert loaded.missing == len({s.text for s in SENTENCES}) - 1


def test_a_rendering_in_the_source_language_is_not_used(tmp_path: Path) -> None:
    first = SENTENCES[0].text  # Chinese
    path = _write(tmp_path / "r.jsonl", [json.dumps(_entry(first, "还是中文", lang="zh"))])
    assert load_renderings(path, SENTENCES, LANGS).renderings == {}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "Expecting property name"),
        (json.dumps({**_entry("第一句。"), "hash": "0" * 64}), "hash is not the sha256 of source"),
        (json.dumps({**_entry("第一句。"), "lang": "fr"}), "Input should be 'zh' or 'en'"),
        (json.dumps({**_entry("第一句。"), "text": "  "}), "empty text"),
        (json.dumps({**_entry("第一句。"), "extra": 1}), "Extra inputs are not permitted"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = _write(tmp_path / "r.jsonl", [json.dumps(_entry(SENTENCES[0].text)), "", line])
    with pytest.raises(RenderingsError, match=rf"r\.jsonl:3: .*{reason}"):
        load_renderings(path, SENTENCES, LANGS)


def test_a_sentence_rendered_twice_is_an_error(tmp_path: Path) -> None:
    line = json.dumps(_entry(SENTENCES[0].text))
    with pytest.raises(RenderingsError, match=r":2: .* appears twice"):
        load_renderings(_write(tmp_path / "r.jsonl", [line, line]), SENTENCES, LANGS)


def test_no_file_means_no_renderings(tmp_path: Path) -> None:
    loaded = load_renderings(tmp_path / "absent.jsonl", SENTENCES, LANGS)
    assert loaded.renderings == {} and loaded.missing == len({s.text for s in SENTENCES})
