"""Statistics and timing helpers of `python -m eval bench`, its error type and
its phase log: shared by every part of the benchmark."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rich.console import Console


class BenchError(RuntimeError):
    """The system under test failed during the benchmark."""


def pct(values: list[float], p: float) -> float | None:
    return round(float(np.percentile(values, p)), 2) if values else None


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95),
            "mean_ms": round(statistics.fmean(values), 2) if values else None}


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def cpu_seconds() -> float:
    """CPU time of this process, every thread (less sensitive than wall time to other load)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of another process (its threads included), from /proc."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_ms(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def target_checks(report: dict[str, Any], targets: dict[str, tuple[str, float, str]]) -> dict[str, Any]:
    """Each target as {value, target ("<= 1.5", ">= 32.5"), meaning, met (None when not measured)}."""
    checks = {}
    for key, (op, limit, meaning) in targets.items():
        value = report.get(key)
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        checks[key] = {"value": value, "target": f"{op} {limit}", "meaning": meaning, "met": met}
    return checks


class Log:
    """Phase messages on stderr, with how long each phase took."""

    def __init__(self, enabled: bool) -> None:
        self.console = Console(stderr=True)
        self.enabled = enabled

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        if self.enabled:
            self.console.print(f"[bold]{name}[/] …", highlight=False)
        yield
        if self.enabled:
            self.console.print(f"  done in {time.perf_counter() - started:.1f} s (load average {os.getloadavg()[0]:.1f})",
                               style="dim", highlight=False)

    def note(self, text: str) -> None:
        if self.enabled:
            self.console.print(f"  {text}", style="dim", highlight=False)
