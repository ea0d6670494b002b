"""What every index backend must do, proved against the real thing: the real
corpus parser, the real USE model, embedded Chroma and a `chroma run` server.

One contract class runs against both backends (Haystack's document-store
tests are the model). Each backend builds one index per module; a test that
edits the corpus gets it back to the original afterwards (re-ingesting the
original reuses every embedding, so this is cheap).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from chromadb.api import ClientAPI

from corpus import DEFAULT_CORPUS_DIR, CorpusError, load_corpus
from ingest.build import IngestReport, run_ingest
from ingest.embedders import Embedder, make_embedder
from ingest.live import IndexMissing, LiveIndex, open_live
from ingest.passage_questions import load_passage_questions
from ingest.sentence_index import VECTORS_DIR
from ingest.settings import IndexSettings
from ingest.store import open_chroma
from ingest.version import CURRENT, current_build_id, versions_dir

pytestmark = pytest.mark.integration

LAW = "social-insurance-law"
IMPLEMENTING = "social-insurance-law-implementing-provisions"
PENSION_TRANSFER = "pension-transfer-interim-measures"
PASSAGES = 98 + 30 + 63 + 33 + 13 + 7  # five statutes' articles + seven guidance sections
# questions of the bundled file per passage key (at least six Chinese and five English each)
BUNDLED_QUESTIONS = Counter(
    q.key for q in load_passage_questions(IndexSettings().passage_questions, load_corpus(DEFAULT_CORPUS_DIR).passages).questions
)
QUERY_19 = "个人跨统筹地区就业 基本养老保险关系转移 缴费年限累计计算"


@dataclass
class BuiltIndex:
    backend: str
    settings: IndexSettings
    corpus: object  # tests.conftest.CorpusCopy
    first: IngestReport  # the report of the build from an empty data directory
    embedder: Embedder

    def ingest(self, **kwargs: object) -> IngestReport:
        # a warmed model shared by the re-runs; the first build loaded its own
        return run_ingest(self.settings, progress=False, embedders=[self.embedder], **kwargs)

    def client(self) -> ClientAPI:
        return open_chroma(self.settings)

    def live(self) -> LiveIndex:
        return open_live(self.settings, self.client())

    def current(self) -> str | None:
        return current_build_id(self.settings.index_dir)

    def versions(self) -> list[str]:
        return sorted(p.name for p in versions_dir(self.settings.index_dir).iterdir())

    def collections(self) -> set[str]:
        return {c if isinstance(c, str) else c.name for c in self.client().list_collections()}

    def nearest_keys(self, query: str, n: int = 3) -> list[str]:
        collection = self.live().collections["use"]
        found = collection.query(
            query_embeddings=[self.embedder.embed_query(query)], n_results=n, include=["metadatas"]
        )
        return [meta["key"] for meta in found["metadatas"][0]]


@pytest.fixture(scope="module")
def use_embedder() -> Embedder:
    embedder = make_embedder("use", IndexSettings(embedders=["use"]))
    embedder.warm_up()
    return embedder


def _build(backend: str, root: Path, make_corpus_copy, use_embedder: Embedder, chroma_url: str | None) -> BuiltIndex:
    corpus = make_corpus_copy(root / "corpus")
    settings = IndexSettings(
        embedders=["use"], data_dir=root / "data", corpus_dir=corpus.path, chroma_url=chroma_url
    )
    first = run_ingest(settings, progress=False)
    return BuiltIndex(backend, settings, corpus, first, use_embedder)


@pytest.fixture(scope="module")
def embedded_index(tmp_path_factory, make_corpus_copy, use_embedder) -> BuiltIndex:
    return _build("embedded", tmp_path_factory.mktemp("embedded"), make_corpus_copy, use_embedder, None)


@pytest.fixture(scope="module")
def server_index(tmp_path_factory, make_corpus_copy, use_embedder, chroma_server) -> BuiltIndex:
    return _build("server", tmp_path_factory.mktemp("server"), make_corpus_copy, use_embedder, chroma_server.url)


@pytest.fixture(params=["embedded", "server"])
def index(request: pytest.FixtureRequest) -> Iterator[BuiltIndex]:
    built: BuiltIndex = request.getfixturevalue(f"{request.param}_index")
    yield built
    # back to the original corpus and index for the next test
    built.corpus.restore()
    if built.current() != built.first.build_id:
        assert built.ingest().build_id == built.first.build_id


def _staging_dirs(built: BuiltIndex) -> list[str]:
    return [name for name in built.versions() if name.startswith(".staging-")]


class _Reversed(Embedder):
    """The USE model's vectors in reverse order, as another model under the name "use"."""

    name = "use"
    model_id = "usem3-multilingual-v3-reversed-for-a-test"

    def __init__(self, inner: Embedder) -> None:
        super().__init__()
        self.inner = inner

    def _load(self) -> None:
        self.inner.warm_up()

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return np.ascontiguousarray(self.inner.encode(texts, is_query)[:, ::-1])


class TestIndexContract:
    def test_first_build_indexes_every_passage_as_new(self, index: BuiltIndex) -> None:
        report = index.first
        assert (report.documents, report.passages) == (6, PASSAGES) == (6, 244)
        assert (report.new, report.changed, report.unchanged, report.removed) == (244, 0, 0, 0)
        assert report.embedded == 244
        assert report.switched is True
        assert report.corpus_version == load_corpus(index.corpus.path).version

    def test_live_index_is_the_first_build(self, index: BuiltIndex) -> None:
        live = index.live()
        assert index.current() == live.build_id == index.first.build_id
        assert live.record.passage_count == 244
        assert live.record.chroma == ("embedded" if index.backend == "embedded" else index.settings.chroma_url)
        assert live.collections["use"].count() == 244
        assert live.record.embedders["use"].dimension == 512
        assert _staging_dirs(index) == []

    def test_rerun_on_an_unchanged_corpus_does_nothing(self, index: BuiltIndex) -> None:
        versions_before = index.versions()

        report = index.ingest()

        assert report.build_id == index.first.build_id
        assert (report.new, report.changed, report.unchanged, report.removed) == (0, 0, 244, 0)
        assert report.embedded == 0 and report.sentences_embedded == 0 and report.questions_embedded == 0
        assert report.switched is False
        assert index.versions() == versions_before

    def test_every_sentence_has_a_vector_from_the_model(self, index: BuiltIndex) -> None:
        live = index.live()
        vectors = live.sentence_vectors["use"]
        assert vectors.shape == (len(live.sentences), 512)
        assert index.first.sentences_embedded == len({s.text for s in live.sentences})
        sample = live.sentences[:: max(1, len(live.sentences) // 8)]
        fresh = index.embedder.encode([s.text for s in sample], is_query=False)
        rows = [live.sentences.index(s) for s in sample]
        assert np.allclose(vectors[rows], fresh, atol=1e-4)
        # sentences are stored in passage order, each with its passage's row
        assert all(live.passages[row].key == s.key for row, s in zip(live.sentence_passage, live.sentences, strict=True))
        assert np.all(np.diff(live.sentence_passage) >= 0)

    def test_every_passage_question_has_a_query_vector_from_the_model(self, index: BuiltIndex) -> None:
        live = index.live()
        assert len(live.questions) == sum(BUNDLED_QUESTIONS.values()) and len(BUNDLED_QUESTIONS) == PASSAGES
        assert index.first.questions_embedded == len({q.text for q in live.questions})
        assert index.first.stale_questions == []
        vectors = live.question_vectors["use"]
        assert vectors.shape == (len(live.questions), 512)
        rows = list(range(0, len(live.questions), len(live.questions) // 8))
        fresh = index.embedder.encode([live.questions[r].text for r in rows], is_query=True)
        assert np.allclose(vectors[rows], fresh, atol=1e-4)
        assert all(live.passages[row].key == q.key for row, q in zip(live.question_passage, live.questions, strict=True))

    def test_editing_one_article_reembeds_exactly_that_passage(self, index: BuiltIndex) -> None:
        old = index.live().passage(f"{LAW}:19")
        index.corpus.replace(LAW, "缴费年限累计计算。个人达到", "缴费年限合并计算。个人达到")

        report = index.ingest()

        assert (report.new, report.changed, report.unchanged, report.removed) == (0, 1, 243, 0)
        assert report.embedded == 1
        assert report.sentences_embedded == 1  # only the edited sentence; the others are reused
        # its questions were written for the old text: left out, and said so; the rest are reused
        assert report.stale_questions == [f"{LAW}:19"] and f"{LAW}:19" in report.summary()
        assert report.questions_embedded == 0
        assert report.switched is True and report.build_id != index.first.build_id
        live = index.live()
        assert live.build_id == index.current() == report.build_id
        new = live.passage(f"{LAW}:19")
        assert "缴费年限合并计算" in new.text and new.id != old.id
        assert f"{LAW}:19" not in {q.key for q in live.questions}
        assert len(live.questions) == len(live.question_vectors["use"]) == sum(BUNDLED_QUESTIONS.values()) - BUNDLED_QUESTIONS[f"{LAW}:19"]
        stored = live.collections["use"].get(ids=[new.id, old.id], include=["documents", "metadatas"])
        assert stored["ids"] == [new.id]
        assert stored["documents"] == [new.text]
        assert stored["metadatas"][0]["key"] == f"{LAW}:19"
        assert live.collections["use"].count() == 244
        # the replaced version stays on disk for readers that have not reloaded yet
        assert {index.first.build_id, report.build_id} <= set(index.versions())

    def test_another_model_under_the_same_name_reembeds_every_passage(self, index: BuiltIndex) -> None:
        """Regression: ingest reused the live collection's vectors when the
        embedder's name matched, so other weights under the same name (the int8
        e5 backend, a retrained model) were served the old model's passage vectors."""
        old = index.live()
        passage = old.passage(f"{LAW}:19")
        before = np.asarray(old.collections["use"].get(ids=[passage.id], include=["embeddings"])["embeddings"][0])

        report = run_ingest(index.settings, progress=False, embedders=[_Reversed(index.embedder)])

        assert report.embedded == PASSAGES and report.build_id != index.first.build_id
        after = np.asarray(index.live().collections["use"].get(ids=[passage.id], include=["embeddings"])["embeddings"][0])
        assert np.allclose(after, before[::-1], atol=1e-5), "the passage was embedded by the new model"

    def test_removing_the_last_article_of_a_document_reports_it_removed(self, index: BuiltIndex) -> None:
        text = index.corpus.text(PENSION_TRANSFER)
        last = text.rindex("\n第十三条") + 1
        index.corpus.write(PENSION_TRANSFER, text[:last].rstrip("\n") + "\n")
        index.corpus.set_manifest(PENSION_TRANSFER, articles=12)

        report = index.ingest()

        assert (report.passages, report.new, report.changed, report.unchanged, report.removed) == (
            243, 0, 0, 243, 1,
        )
        assert report.embedded == 0
        live = index.live()
        assert live.passage(f"{PENSION_TRANSFER}:13") is None
        assert live.passage(f"{PENSION_TRANSFER}:12") is not None
        assert live.collections["use"].count() == 243
        assert f"{PENSION_TRANSFER}:13" not in live.links

    @pytest.mark.parametrize(
        ("corruption", "message"),
        [
            ("changed-byte", r"^social-insurance-law\.zh\.md: sha256 mismatch"),
            ("duplicated-article", r"^social-insurance-law\.zh\.md:77: duplicate article 第十九条"),
        ],
        ids=["changed-byte", "duplicated-article"],
    )
    def test_corrupted_corpus_is_rejected_and_the_previous_index_keeps_serving(
        self, index: BuiltIndex, corruption: str, message: str
    ) -> None:
        line_19 = index.live().passage(f"{LAW}:19").text
        if corruption == "changed-byte":
            index.corpus.replace(LAW, "其基本养老保险关系随本人转移", "其基本养老保险关系随本人转入", rehash=False)
        else:
            index.corpus.replace(LAW, line_19 + "\n", line_19 + "\n\n" + line_19 + "\n")
        pointer = (index.settings.index_dir / CURRENT).read_bytes()
        versions_before, collections_before = index.versions(), index.collections()

        with pytest.raises(CorpusError, match=message):
            index.ingest()

        assert (index.settings.index_dir / CURRENT).read_bytes() == pointer
        assert index.versions() == versions_before
        assert index.collections() == collections_before
        live = index.live()
        assert live.build_id == index.first.build_id
        assert live.collections["use"].count() == 244
        assert f"{LAW}:19" in index.nearest_keys(QUERY_19)

    def test_failure_before_the_switch_leaves_the_live_index_untouched(self, index: BuiltIndex) -> None:
        index.corpus.replace(LAW, "缴费年限累计计算。个人达到", "缴费年限合并计算。个人达到")
        pointer = (index.settings.index_dir / CURRENT).read_bytes()
        versions_before, collections_before = index.versions(), index.collections()
        calls: list[int] = []

        def fail() -> None:
            calls.append(1)
            raise RuntimeError("injected before the switch")

        with pytest.raises(RuntimeError, match="injected before the switch"):
            index.ingest(before_switch=fail)

        assert calls == [1]
        assert (index.settings.index_dir / CURRENT).read_bytes() == pointer
        assert _staging_dirs(index) == []
        assert index.versions() == versions_before
        assert index.collections() == collections_before  # the half-built collection is gone
        assert index.live().build_id == index.first.build_id
        assert f"{LAW}:19" in index.nearest_keys(QUERY_19)

        # and nothing left behind gets in the way of the next build
        retry = index.ingest()
        assert (retry.changed, retry.embedded, retry.switched) == (1, 1, True)

    def test_passage_vectors_are_the_collections_vectors_normalised(self, index: BuiltIndex) -> None:
        live = index.live()
        # a Chroma server is process-safe and searched through HNSW; embedded, a small corpus is scanned exactly
        assert live.exact_dense is (index.backend == "embedded")
        vectors = live.passage_vectors["use"]
        assert vectors.shape == (244, 512)
        stored = live.collections["use"].get(ids=[p.id for p in live.passages], include=["embeddings"])
        by_id = dict(zip(stored["ids"], np.asarray(stored["embeddings"]), strict=True))
        expected = np.vstack([by_id[p.id] for p in live.passages])
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        assert np.allclose(vectors, expected, atol=1e-6)

    def test_a_version_from_an_older_ingest_asks_for_a_new_ingest(self, index: BuiltIndex) -> None:
        versions = versions_dir(index.settings.index_dir)
        old = versions / "older-format"
        shutil.copytree(versions / index.first.build_id, old)
        try:
            shutil.rmtree(old / VECTORS_DIR)
            with pytest.raises(IndexMissing, match="python -m ingest"):
                open_live(index.settings, index.client(), "older-format")
        finally:
            shutil.rmtree(old)

    def test_dense_query_finds_the_article(self, index: BuiltIndex) -> None:
        assert index.nearest_keys(QUERY_19)[0] == f"{LAW}:19"

    def test_links_from_the_implementing_provisions_to_the_law(self, index: BuiltIndex) -> None:
        links = index.live().links
        # 若干规定 第一条: "社会保险法第十五条规定的统筹养老金……"
        assert links[f"{LAW}:15"] == {"refers_to": [], "referred_by": [f"{IMPLEMENTING}:1"]}
        assert links[f"{IMPLEMENTING}:1"]["refers_to"] == [f"{LAW}:15"]
        # 社保法第四十一条 "依照本法第六十三条", 若干规定第二十二条 and 第二十八条 "社会保险法第六十三条"
        assert links[f"{LAW}:63"]["referred_by"] == [f"{LAW}:41", f"{IMPLEMENTING}:22", f"{IMPLEMENTING}:28"]
        # 若干规定第十三条 also cites 劳动合同法第四十四条, 第三十九条…: outside the corpus, no link
        assert links[f"{IMPLEMENTING}:13"]["refers_to"] == [f"{LAW}:45"]
        # 《工伤保险条例》第三十九条 is not 社会保险法第三十九条
        assert links[f"{IMPLEMENTING}:11"]["refers_to"] == [f"{LAW}:38"]
        # "本规定第二十一条、第二十二条": within the same document, enumeration inherited
        assert links[f"{IMPLEMENTING}:23"]["refers_to"] == [f"{IMPLEMENTING}:21", f"{IMPLEMENTING}:22"]
        # "依照第二条" twice in 第三条: linked once; the heading 第三条 is no self-link
        assert links[f"{IMPLEMENTING}:3"]["refers_to"] == [f"{IMPLEMENTING}:2"]

    def test_links_are_symmetric_and_cover_every_passage(self, index: BuiltIndex) -> None:
        live = index.live()
        links = live.links
        assert set(links) == {p.key for p in live.passages}
        for key, link in links.items():
            assert key not in link["refers_to"]
            for target in link["refers_to"]:
                assert key in links[target]["referred_by"]
            for source in link["referred_by"]:
                assert key in links[source]["refers_to"]

    def test_version_keeps_the_exact_sources_and_passages(self, index: BuiltIndex) -> None:
        live = index.live()
        corpus = load_corpus(index.corpus.path)
        assert live.passages == corpus.passages
        for doc in corpus.manifest.documents:
            assert live.sources[doc.file].encode("utf-8") == (index.corpus.path / doc.file).read_bytes()
        for passage in live.passages:
            assert live.source_text(passage)[passage.start : passage.end] == passage.text

    def test_chroma_holds_every_passage_with_its_metadata(self, index: BuiltIndex) -> None:
        live = index.live()
        stored = live.collections["use"].get(include=["documents", "metadatas"])
        by_id = dict(zip(stored["ids"], zip(stored["documents"], stored["metadatas"], strict=True), strict=True))
        assert set(by_id) == {p.id for p in live.passages}
        for passage in live.passages:
            document, meta = by_id[passage.id]
            assert document == passage.text
            assert {k: meta[k] for k in passage.metadata()} == passage.metadata()


# --------------------------------------------------------------------------- the two backends agree


def _contents(built: BuiltIndex) -> dict[str, tuple[str, str, np.ndarray]]:
    stored = built.live().collections["use"].get(include=["documents", "metadatas", "embeddings"])
    return {
        pid: (meta["key"], document, np.asarray(vector))
        for pid, document, meta, vector in zip(
            stored["ids"], stored["documents"], stored["metadatas"], stored["embeddings"], strict=True
        )
    }


def test_server_and_embedded_indexes_hold_the_same_passages(
    embedded_index: BuiltIndex, server_index: BuiltIndex
) -> None:
    assert embedded_index.current() == server_index.current() == embedded_index.first.build_id
    embedded, served = _contents(embedded_index), _contents(server_index)
    assert len(embedded) == 244
    assert sorted(embedded) == sorted(served)
    for pid, (key, document, vector) in embedded.items():
        assert served[pid][:2] == (key, document)
        np.testing.assert_allclose(served[pid][2], vector, atol=1e-6)
    passages = [Path(b.live().folder / "passages.jsonl").read_bytes() for b in (embedded_index, server_index)]
    assert passages[0] == passages[1]


def test_server_mode_keeps_no_local_chroma(server_index: BuiltIndex) -> None:
    assert not server_index.settings.chroma_dir.exists()
    record = json.loads((server_index.live().folder / "index.json").read_text())
    assert record["chroma"] == server_index.settings.chroma_url
