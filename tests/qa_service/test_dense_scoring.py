"""Scoring a filter's rows of the memory-mapped passage vectors, slice by slice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_service.retrieval import scores_of_rows

RNG = np.random.default_rng(7)
VECTORS = RNG.standard_normal((2_000, 64)).astype(np.float32)
UNIT = RNG.standard_normal(64).astype(np.float32)


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path: Path = tmp_path_factory.mktemp("vectors") / "v.npy"
    np.save(path, VECTORS)
    return np.load(path, mmap_mode="r")


@pytest.mark.parametrize(
    "rows",
    [
        np.arange(300, 800),  # one document
        np.r_[0:10, 11:12, 1_990:2_000],  # runs, a single row, the last rows
        np.array([0]),
        np.array([1_999]),
        np.sort(RNG.choice(2_000, 700, replace=False)),  # scattered
        np.arange(2_000),
    ],
    ids=["one-run", "runs", "first", "last", "scattered", "all"],
)
def test_scores_equal_fancy_indexing(mapped: np.ndarray, rows: np.ndarray) -> None:
    got = scores_of_rows(mapped, rows, UNIT)
    assert got.shape == (len(rows),)
    assert np.allclose(got, VECTORS[rows] @ UNIT, atol=1e-5)


def test_no_rows_no_scores(mapped: np.ndarray) -> None:
    assert scores_of_rows(mapped, np.array([], dtype=np.int64), UNIT).shape == (0,)
