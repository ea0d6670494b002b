"""Systems ranked beside the service by `python -m eval compare`.

Each system only ranks passage keys for a query. The retriever subsets go
through the engine's public `search_keys`; the naive LangChain pipeline is what
a newcomer would build from the tutorials: fixed-size chunks of each file, one
embedded collection, top-k chunks mapped back to the article they start in.
"""

from __future__ import annotations

import bisect
import uuid
from typing import TYPE_CHECKING, Protocol

from corpus import Corpus, Passage
from eval.retrieval_metrics import ordered_keys
from eval.questions import Question
from eval.results import RankedKey
from eval.runners import Runner, progress_bar
from qa_service.schemas import SearchRequest

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from qa_service.engine import QAEngine


class RankingSystem(Protocol):
    name: str

    def rank(self, query: str, top_k: int) -> list[str]: ...


class ServiceSystem:
    """The service's own ranking (/v1/search), hybrid retrieval and fusion."""

    def __init__(self, runner: Runner, name: str = "service (hybrid)") -> None:
        self.runner = runner
        self.name = name

    def rank(self, query: str, top_k: int) -> list[str]:
        response = self.runner.search(SearchRequest(query=query, top_k=top_k))
        return ordered_keys(RankedKey(r.key, r.score) for r in response.results)


class RetrieverSubset:
    """The engine restricted to some of its retrievers ('lexical', 'use', 'e5', 'reference')."""

    def __init__(self, engine: QAEngine, retrievers: list[str], name: str) -> None:
        if not retrievers:
            raise ValueError("retrievers must not be empty")
        self.engine = engine
        self.retrievers = retrievers
        self.name = name

    def rank(self, query: str, top_k: int) -> list[str]:
        return self.engine.search_keys(query, top_k, self.retrievers)


class PassageLocator:
    """Maps a character offset in a document to the passage it falls in, or the next one."""

    def __init__(self, passages: list[Passage]) -> None:
        self._by_doc: dict[str, list[Passage]] = {}
        for passage in sorted(passages, key=lambda p: (p.doc_id, p.start)):
            self._by_doc.setdefault(passage.doc_id, []).append(passage)
        self._starts = {doc: [p.start for p in ps] for doc, ps in self._by_doc.items()}

    def key_at(self, doc_id: str, offset: int) -> str | None:
        passages = self._by_doc.get(doc_id, [])
        i = bisect.bisect_right(self._starts.get(doc_id, []), offset) - 1
        if i >= 0 and passages[i].start <= offset < passages[i].end:
            return passages[i].key
        # Offset in a heading or gap between passages: the next passage is what the chunk is about.
        return passages[i + 1].key if i + 1 < len(passages) else None


class NaiveLangChain:
    """RecursiveCharacterTextSplitter(500, 50) over each file + in-memory Chroma."""

    name = "naive LangChain"
    chunk_size = 500
    chunk_overlap = 50

    def __init__(self, corpus: Corpus, embedder: Embeddings) -> None:
        self.corpus = corpus
        self.embedder = embedder
        self.locator = PassageLocator(corpus.passages)
        self._store = None  # built by warm_up(): embedding all chunks takes a while

    def warm_up(self) -> int:
        """Split, embed and index every document; returns the number of chunks."""
        import chromadb
        from chromadb.config import Settings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap, add_start_index=True
        )
        doc_ids = list(self.corpus.texts)
        chunks = splitter.create_documents(
            [self.corpus.texts[d] for d in doc_ids], metadatas=[{"doc_id": d} for d in doc_ids]
        )
        client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
        # Ephemeral clients share one in-process system: a unique name keeps runs apart.
        self._store = Chroma(
            collection_name=f"eval-naive-{uuid.uuid4().hex[:12]}", embedding_function=self.embedder, client=client
        )
        self._store.add_documents(chunks)
        return len(chunks)

    def rank(self, query: str, top_k: int) -> list[str]:
        if self._store is None:
            self.warm_up()
        keys: list[str] = []
        for chunk in self._store.similarity_search(query, k=top_k):
            key = self.locator.key_at(chunk.metadata["doc_id"], chunk.metadata["start_index"])
            # Several chunks can start in one article; it counts once, at its best rank.
            if key is not None and key not in keys:
                keys.append(key)
        return keys


def rank_all(
    system: RankingSystem, questions: list[Question], top_k: int, progress: bool = True
) -> dict[str, list[str]]:
    rankings = {}
    with progress_bar(len(questions), system.name, progress) as bar:
        for question in questions:
            rankings[question.id] = system.rank(question.question, top_k)
            bar.advance(bar.task_ids[0])
    return rankings
