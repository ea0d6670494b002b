"""The ONNX export of the converted e5 folder and the onnxruntime backend,
checked against the reference: sentence-transformers on PyTorch, loading the
same converted folder.

Fidelity is measured on every line of the corpus (as passages) and every
development question (as queries): the same token ids, and vectors whose
cosine to the reference is at least 0.99999.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from corpus import DEFAULT_CORPUS_DIR, load_corpus
from ingest import e5_onnx, e5_writer
from ingest.build import embedding_input
from ingest.e5_setup import ModelCheck, converted_dir, ensure_e5, exported_dir
from ingest.embedders import OnnxE5Embedder, TorchE5Embedder
from ingest.settings import E5Backend

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "eval" / "questions" / "dev.jsonl"
MIN_COSINE = 0.99999
PROMPTS = {"query": "query: ", "passage": "passage: "}


def _corpus_lines() -> list[str]:
    corpus = load_corpus(DEFAULT_CORPUS_DIR)
    return [line for text in corpus.texts.values() for line in text.splitlines() if line.strip()]


def _dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def models_dir(request: pytest.FixtureRequest) -> Path:
    """The project's model folders (`make run` made them) or else those of the
    session's service index (made by its ingest), fully checked."""
    folder = ROOT / "data" / "models"
    if not folder.is_dir():
        folder = request.getfixturevalue("service_data_dir") / "models"
    ensure_e5(folder, E5Backend.ONNX, ModelCheck.FULL)
    return folder


@pytest.fixture(scope="module")
def onnx_e5(models_dir: Path) -> OnnxE5Embedder:
    embedder = OnnxE5Embedder(models_dir)
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="module")
def torch_e5(models_dir: Path) -> TorchE5Embedder:
    embedder = TorchE5Embedder(models_dir)
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="module")
def corpus_lines() -> list[str]:
    return _corpus_lines()


@pytest.fixture(scope="module")
def dev_questions() -> list[str]:
    return _dev_questions()


# --------------------------------------------------------------------------- the exported folder


def test_export_folder_is_complete_and_describes_itself(models_dir: Path) -> None:
    import onnx

    folder, src = exported_dir(models_dir), converted_dir(models_dir)
    manifest = json.loads((folder / e5_writer.MANIFEST).read_text())
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {e5_writer.MANIFEST} == set(e5_onnx.REQUIRED_FILES)
    assert manifest["input"]["manifest_sha256"] == e5_writer.sha256_file(src / e5_writer.MANIFEST)
    assert (manifest["exporter_version"], manifest["opset"]) == (e5_onnx.EXPORTER_VERSION, 17)
    assert (folder / "tokenizer.json").read_bytes() == (src / "tokenizer.json").read_bytes()
    config = json.loads((folder / e5_onnx.CONFIG).read_text())
    assert config["prompts"] == PROMPTS
    assert (config["max_seq_length"], config["pad_token_id"], config["dimension"]) == (512, 1, 384)

    graph = onnx.load(str(folder / e5_onnx.GRAPH), load_external_data=False)
    assert [i.name for i in graph.graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    assert [o.name for o in graph.graph.output] == ["last_hidden_state"]
    for tensor in (*graph.graph.input, *graph.graph.output):
        dims = [d.dim_param for d in tensor.type.tensor_type.shape.dim[:2]]
        assert dims == ["batch", "sequence"], tensor.name  # no batch size or length baked in
    external = [t for t in graph.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    offsets = [int(next(e.value for e in t.external_data if e.key == "offset")) for t in external]
    assert len(external) >= 5 + 12 * 16 - 12  # every weight matrix and most vectors
    assert all(offset % e5_onnx.ALIGNMENT == 0 for offset in offsets)  # what lets onnxruntime map them


# --------------------------------------------------------------------------- fidelity


def _reference_ids(torch_e5: TorchE5Embedder, texts: list[str], prompt: str) -> list[list[int]]:
    out: list[list[int]] = []
    for start in range(0, len(texts), 64):
        batch = torch_e5._model.preprocess(texts[start : start + 64], prompt=prompt)
        for ids, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist(), strict=True):
            out.append(ids[: sum(mask)])
    return out


@pytest.mark.parametrize("kind", list(PROMPTS))
def test_token_ids_are_those_of_sentence_transformers(
    onnx_e5: OnnxE5Embedder, torch_e5: TorchE5Embedder, corpus_lines: list[str], dev_questions: list[str], kind: str
) -> None:
    corpus = load_corpus(DEFAULT_CORPUS_DIR)
    # the passages' full inputs, and whole documents, which run past 512 tokens and are truncated
    texts = [*corpus_lines, *dev_questions, *(embedding_input(p) for p in corpus.passages), *corpus.texts.values()]
    prompt = PROMPTS[kind]
    ours = [onnx_e5._tokenizer.encode(prompt + text).ids for text in texts]
    reference = _reference_ids(torch_e5, texts, prompt)
    different = [t for t, a, b in zip(texts, ours, reference, strict=True) if a != b]
    assert different == [], different[:3]
    assert max(len(ids) for ids in ours) == 512  # truncation was exercised


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_every_corpus_line_embeds_as_with_sentence_transformers(
    onnx_e5: OnnxE5Embedder, torch_e5: TorchE5Embedder, corpus_lines: list[str]
) -> None:
    ours = onnx_e5.encode(corpus_lines, is_query=False)
    reference = torch_e5.encode(corpus_lines, is_query=False)
    assert ours.shape == reference.shape == (len(corpus_lines), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = _cosines(ours, reference)
    assert cosine.min() >= MIN_COSINE, [(corpus_lines[i][:40], float(cosine[i])) for i in np.argsort(cosine)[:3]]


def test_every_dev_question_embeds_as_with_sentence_transformers(
    onnx_e5: OnnxE5Embedder, torch_e5: TorchE5Embedder, dev_questions: list[str]
) -> None:
    reference = torch_e5.encode(dev_questions, is_query=True)
    batched = onnx_e5.encode(dev_questions, is_query=True)
    # one at a time, as a service embeds a question (the one-thread session, no padding)
    single = np.vstack([onnx_e5.encode([q], is_query=True) for q in dev_questions])
    for ours in (batched, single):
        cosine = _cosines(ours, reference)
        assert cosine.min() >= MIN_COSINE, [(dev_questions[i], float(cosine[i])) for i in np.argsort(cosine)[:3]]
    # the prompt is part of the input: a query and a passage of the same text differ
    passage = onnx_e5.encode(dev_questions[:1], is_query=False)
    assert float(passage[0] @ single[0]) < 0.999


def test_langchain_embeddings_interface_on_either_backend(
    onnx_e5: OnnxE5Embedder, torch_e5: TorchE5Embedder, corpus_lines: list[str]
) -> None:
    from langchain_core.vectorstores import InMemoryVectorStore

    texts = [line for line in corpus_lines if line.startswith("第")][:40]
    query = texts[7].split(maxsplit=1)[-1]  # an article's text without its number
    found = {}
    for embedder in (onnx_e5, torch_e5):
        store = InMemoryVectorStore.from_texts(texts, embedding=embedder)
        found[embedder.backend] = [d.page_content for d in store.similarity_search(query, k=3)]
        vector = embedder.embed_query(query)
        assert isinstance(vector, list) and len(vector) == 384 and isinstance(vector[0], float)
    assert found[E5Backend.ONNX] == found[E5Backend.TORCH]
    assert found[E5Backend.ONNX][0] == texts[7]


# --------------------------------------------------------------------------- set-up and checks


def _linked_copy(src: Path, dest: Path) -> Path:
    """Hard links: no copy of ~1 GB; a rebuild renames a new folder in, never writes into these."""
    shutil.copytree(src, dest, copy_function=os.link)
    return dest


def _replace_file(path: Path, data: bytes) -> None:
    """A new file (own inode), so the hard-linked original stays as it was."""
    path.unlink()
    path.write_bytes(data)


@pytest.fixture
def models_copy(models_dir: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "models"
    copy.mkdir()
    _linked_copy(converted_dir(models_dir), copy / converted_dir(models_dir).name)
    _linked_copy(exported_dir(models_dir), copy / exported_dir(models_dir).name)
    yield copy


def test_export_is_reproducible_and_redone_when_its_input_changes(models_dir: Path, models_copy: Path) -> None:
    src, dest = converted_dir(models_copy), exported_dir(models_copy)
    assert e5_onnx.verify_export(dest, src)
    # The conversion changes (here: its manifest gains a field): the export's input is different.
    manifest = json.loads((src / e5_writer.MANIFEST).read_text())
    _replace_file(src / e5_writer.MANIFEST, e5_writer.json_bytes({**manifest, "note": "changed input"}))
    assert not e5_onnx.verify_export(dest, src)

    before = (dest / e5_onnx.WEIGHTS).stat().st_ino
    assert ensure_e5(models_copy, E5Backend.ONNX, ModelCheck.FULL) == dest
    assert (dest / e5_onnx.WEIGHTS).stat().st_ino != before, "exported again"
    assert e5_onnx.verify_export(dest, src)
    again = json.loads((dest / e5_writer.MANIFEST).read_text())
    first = json.loads((exported_dir(models_dir) / e5_writer.MANIFEST).read_text())
    assert again["input"]["manifest_sha256"] == e5_writer.sha256_file(src / e5_writer.MANIFEST)
    assert again["files"] == first["files"], "the same weights export to the same bytes"
    assert [p.name for p in models_copy.iterdir() if ".tmp-" in p.name] == []


def test_quick_check_compares_sizes_and_times_and_falls_back_to_hashing(
    models_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[Path] = []
    real_files_match = e5_writer.files_match

    def recording_files_match(folder: Path, *args: object) -> bool:
        hashed.append(folder)
        return real_files_match(folder, *args)  # type: ignore[arg-type]

    from ingest import e5_convert

    monkeypatch.setattr(e5_convert, "files_match", recording_files_match)
    monkeypatch.setattr(e5_onnx, "files_match", recording_files_match)
    dest = exported_dir(models_copy)
    inode = (dest / e5_onnx.WEIGHTS).stat().st_ino

    assert ensure_e5(models_copy, E5Backend.ONNX, ModelCheck.QUICK) == dest  # no stamp yet: hashed
    assert set(hashed) == {converted_dir(models_copy), dest}
    assert e5_writer.stamp_path(dest).exists() and not any(dest.parent.glob(".*.tmp"))

    hashed.clear()
    assert ensure_e5(models_copy, E5Backend.ONNX, ModelCheck.QUICK) == dest
    assert hashed == [], "an unchanged folder is trusted from its stamp"

    # Same bytes, new modification time: hashed again, found complete, not rebuilt.
    config = dest / e5_onnx.CONFIG
    _replace_file(config, config.read_bytes())
    assert ensure_e5(models_copy, E5Backend.ONNX, ModelCheck.QUICK) == dest
    assert hashed == [dest]
    assert (dest / e5_onnx.WEIGHTS).stat().st_ino == inode
    hashed.clear()
    assert ensure_e5(models_copy, E5Backend.ONNX, ModelCheck.QUICK) == dest
    assert hashed == []

    # A full check always hashes.
    assert ensure_e5(models_copy, E5Backend.ONNX, ModelCheck.FULL) == dest
    assert set(hashed) == {converted_dir(models_copy), dest}


def test_a_damaged_export_fails_verification(models_copy: Path) -> None:
    src, dest = converted_dir(models_copy), exported_dir(models_copy)
    config = dest / e5_onnx.CONFIG
    data = bytearray(config.read_bytes())
    data[10] ^= 0x01
    _replace_file(config, bytes(data))
    assert not e5_onnx.verify_export(dest, src)
    (dest / e5_onnx.CONFIG).unlink()
    assert not e5_onnx.verify_export(dest, src)


def test_int8_backend_is_quantised_from_the_export_and_gives_other_vectors(
    models_copy: Path, onnx_e5: OnnxE5Embedder, dev_questions: list[str]
) -> None:
    from ingest.e5_setup import QUANTIZED
    from ingest.embedders import OnnxInt8E5Embedder

    # onnx >= 1.20 refuses external tensor data with several hard links (a guard
    # against hard-link attacks), so the export's weights get an inode of their own.
    weights = exported_dir(models_copy) / e5_onnx.WEIGHTS
    _replace_file(weights, weights.read_bytes())
    folder = ensure_e5(models_copy, E5Backend.ONNX_INT8, ModelCheck.FULL)
    assert folder == models_copy / QUANTIZED
    assert e5_onnx.verify_quantized(folder, exported_dir(models_copy))
    manifest = json.loads((folder / e5_writer.MANIFEST).read_text())
    assert manifest["input"]["manifest_sha256"] == e5_writer.sha256_file(exported_dir(models_copy) / e5_writer.MANIFEST)
    assert (folder / "tokenizer.json").read_bytes() == (exported_dir(models_copy) / "tokenizer.json").read_bytes()
    int8 = OnnxInt8E5Embedder(models_copy)
    int8.warm_up()
    questions = dev_questions[:40]
    cosine = _cosines(int8.encode(questions, is_query=True), onnx_e5.encode(questions, is_query=True))
    # close, yet not the fp32 vectors: hence its own model id and index
    assert cosine.min() > 0.95 and cosine.max() < 0.99999, (cosine.min(), cosine.max())
