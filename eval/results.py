"""Per-question results: what a system returned for each question, as plain
records that are written to disk and read back, so a report can be recomputed
from a saved run without a model (`python -m eval score`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RankedKey:
    key: str
    score: float


@dataclass(frozen=True)
class CitationRecord:
    key: str
    file: str
    start: int
    end: int
    quote: str


@dataclass
class QuestionResult:
    id: str
    ranking: list[RankedKey]  # as the system returned it; metrics re-sort by (score, key)
    search_ms: float | None = None
    refused: bool | None = None  # None: /v1/ask was not called (baselines)
    refusal_reason: str | None = None
    citations: list[CitationRecord] = field(default_factory=list)
    ask_ms: float | None = None
    index_version: str | None = None
    answer: str | None = None  # the /v1/ask answer text; None: not asked, or saved before it was recorded

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuestionResult:
        data = dict(data)
        data["ranking"] = [RankedKey(**r) for r in data.get("ranking", [])]
        data["citations"] = [CitationRecord(**c) for c in data.get("citations", [])]
        return cls(**data)


def ranking_from_keys(keys: list[str]) -> list[RankedKey]:
    """Systems that return only an order (baselines) get strictly decreasing
    scores, so the (score, key) tie-break can never reorder them."""
    return [RankedKey(key, float(len(keys) - i)) for i, key in enumerate(keys)]


def write_results(path: Path, results: list[QuestionResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")


def read_results(path: Path) -> list[QuestionResult]:
    with path.open(encoding="utf-8") as lines:
        return [QuestionResult.from_dict(json.loads(line)) for line in lines if line.strip()]


def write_trec_run(path: Path, rankings: dict[str, list[str]], tag: str) -> None:
    """TREC run format: `qid Q0 docid rank score tag`, one line per retrieved key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for qid, keys in rankings.items():
            for rank, key in enumerate(keys, start=1):
                out.write(f"{qid} Q0 {key} {rank} {len(keys) - rank + 1} {tag}\n")
