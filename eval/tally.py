"""Counting helpers the metric modules share: a rate that is None over nothing,
percentiles, and blocks per value of a question field (language, category)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from eval.questions import Question


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: list[float], p: float) -> float | None:
    return float(np.percentile(values, p)) if values else None


def grouped(
    questions: list[Question], key: Callable[[Question], str | None], block: Callable[[list[Question]], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        if (name := key(q)) is not None:
            groups[name].append(q)
    return {name: block(members) for name, members in sorted(groups.items())}
