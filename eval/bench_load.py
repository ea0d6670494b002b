"""Throughput: locust, headless, against a service on loopback, for a bounded time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

LOCUSTFILE = Path(__file__).with_name("bench_locustfile.py")


class LoadRunError(RuntimeError):
    pass


def locust_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("locust") is not None


def run_load(
    url: str, questions: list[str], work_dir: Path, users: int = 8, seconds: float = 30.0, unique: bool = True,
    first_number: int = 0,
) -> dict[str, Any]:
    """Run locust with `users` clients for `seconds`; requests per second, latency
    percentiles (exact, from every request) and the error count. With `unique`,
    questions are numbered from `first_number`; the result's `next_number` is
    where the next run against the same service must start, or it would ask
    questions whose embeddings that service has cached."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"the load run only targets loopback, got {url!r}")
    if users <= 0 or seconds <= 0:
        raise ValueError(f"users and seconds must be positive, got {users} and {seconds}")
    work_dir.mkdir(parents=True, exist_ok=True)
    questions_file = work_dir / "load-questions.json"
    questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    out = work_dir / "load-requests.json"
    out.unlink(missing_ok=True)
    env = {**os.environ, "SIQA_BENCH_QUESTIONS": str(questions_file), "SIQA_BENCH_LOAD_OUT": str(out),
           "SIQA_BENCH_UNIQUE": "1" if unique else "0", "SIQA_BENCH_FIRST": str(first_number)}
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", str(users),
        "--spawn-rate", str(users), "--run-time", f"{max(1, round(seconds))}s", "--host", url,
        "--only-summary", "--loglevel", "WARNING", "--csv", str(work_dir / "locust"),
    ]
    log = work_dir / "locust.log"
    with log.open("wb") as sink:
        # locust exits 1 when a request failed; failures are counted below instead
        done = subprocess.run(command, env=env, cwd=work_dir, stdout=sink, stderr=subprocess.STDOUT,
                              timeout=seconds + 120)
    if not out.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise LoadRunError(f"locust exited with {done.returncode} and wrote no results:\n{tail}")
    data = json.loads(out.read_text(encoding="utf-8"))
    records = data["requests"]
    latencies = [ms for _, ms, _ in records]
    by_name: dict[str, dict[str, Any]] = {}
    for name in sorted({n for n, _, _ in records}):
        mine = [ms for n, ms, _ in records if n == name]
        by_name[name] = {"requests": len(mine), "p50_ms": _pct(mine, 50), "p95_ms": _pct(mine, 95)}
    seconds_run = float(data["seconds"])
    return {
        "users": users,
        "seconds": round(seconds_run, 2),
        "requests": len(records),
        "errors": sum(1 for _, _, ok in records if not ok),
        "rps": round(len(records) / seconds_run, 2) if seconds_run > 0 else None,
        "p50_ms": _pct(latencies, 50),
        "p95_ms": _pct(latencies, 95),
        "by_endpoint": by_name,
        "first_time_questions": unique,
        "next_number": int(data["next_number"]),
    }


def _pct(values: list[float], p: float) -> float | None:
    return round(float(np.percentile(values, p)), 2) if values else None
