"""The lexical index: BM25 (bm25s) over jieba tokens, built at ingest, loaded into memory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bm25s
import jieba
import numpy as np

jieba.setLogLevel(60)  # jieba prints its dictionary loading to stderr otherwise

# Function words that carry no topic; "保险" and the like stay: they are the topic.
STOPWORDS = frozenset(
    "的 了 是 我 你 他 她 们 吗 呢 吧 啊 呀 么 在 和 与 及 或 就 都 也 还 要 会 能 可以 怎么 怎么办 怎样 如何 什么 哪些 "
    "有 没有 这 那 个 之 其 把 被 给 对 于 为 以 而 并 等 啥 咋 请问 一下 现在 如果 "
    "the a an of to in on for is are be do does i my me you your it and or what how can when which who".split()
)
_TOKEN = re.compile(r"[\w\u4e00-\u9fff]+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    for piece in _TOKEN.findall(text.lower()):
        for token in jieba.lcut_for_search(piece):
            token = token.strip()
            if token and token not in STOPWORDS:
                tokens.append(token)
    return tokens


class LexicalIndex:
    """BM25 over passages in a fixed order (row i is passage i of the index version)."""

    def __init__(self, retriever: bm25s.BM25, n_docs: int) -> None:
        self._retriever = retriever
        self.n_docs = n_docs
        self._vocab: dict[str, int] = retriever.vocab_dict

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder))
        (folder / "lexical.json").write_text(json.dumps({"n_docs": self.n_docs}))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(folder))
        n_docs = json.loads((folder / "lexical.json").read_text())["n_docs"]
        return cls(retriever, n_docs)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) pairs, best first; rows with score 0 are dropped."""
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, self.n_docs)
        top = np.argpartition(-scores, k - 1)[:k]
        # ties broken by row so that rankings are reproducible
        ranked = sorted(top.tolist(), key=lambda i: (-scores[i], i))
        return [(i, float(scores[i])) for i in ranked if scores[i] > 0]
