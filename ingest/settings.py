from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from corpus import DEFAULT_CORPUS_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KNOWN_EMBEDDERS = ("use", "e5")


class E5Backend(str, Enum):
    """What runs e5: onnxruntime on the exported graph (ingest.e5_onnx), or
    sentence-transformers on PyTorch (the reference); onnx-int8 is the graph
    with its matrix products dynamically quantised to int8 (measured, not
    the default: it changes the vectors, so its index is built with it)."""

    ONNX = "onnx"
    TORCH = "torch"
    ONNX_INT8 = "onnx-int8"


class IndexSettings(BaseSettings):
    """Where the corpus and the index live. Environment variables: SIQA_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="SIQA_", extra="ignore")

    corpus_dir: Path = DEFAULT_CORPUS_DIR
    data_dir: Path = PROJECT_ROOT / "data"
    # A Chroma server ("http://127.0.0.1:8001"); embedded PersistentClient when unset.
    chroma_url: str | None = None
    chroma_timeout_s: float = 5.0
    # With embedded Chroma, corpora up to this many passages are searched exactly
    # from the version's passage vectors, not through HNSW (ingest.live.open_live).
    exact_dense_max: int = Field(default=5_000, ge=0)
    # Dense models, by name; each gets its own collection.
    embedders: list[str] = ["use", "e5"]
    # onnx: no torch in the process, ~2x faster queries; torch: sentence-transformers, the reference.
    # Both give the same vectors (cosine >= 0.99999) and share one index.
    e5_backend: E5Backend = E5Backend.ONNX
    # Questions each passage answers (ingest.passage_questions); None: no such expansion.
    passage_questions: Path | None = PROJECT_ROOT / "ingest" / "passage_questions.jsonl"
    # The project's renderings of each sentence into the other language (ingest.renderings).
    renderings: Path | None = PROJECT_ROOT / "ingest" / "renderings.jsonl"
    embed_batch_size: int = 32
    threads: int = 2

    @field_validator("embedders")
    @classmethod
    def _known_embedders(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in KNOWN_EMBEDDERS]
        if unknown or not value:
            raise ValueError(f"embedders must be a non-empty subset of {KNOWN_EMBEDDERS}, got {value}")
        return value

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"
