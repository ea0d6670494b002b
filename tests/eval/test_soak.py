"""`python -m eval soak`: the request plan, the memory summary, and a short real
run over loopback. Nothing here asserts a time or a memory figure: those are
what the soak measures and reports (README, "Performance")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval.soak import SoakConfig, growth_pct, request_plan, summarise

ROOT = Path(__file__).resolve().parents[2]


def test_plan_alternates_ask_and_search_with_the_share_of_first_time_questions() -> None:
    plan = request_plan(100, ["甲", "乙", "丙"], first_time=0.25)
    assert [path for path, _ in plan[:4]] == ["/v1/ask", "/v1/search", "/v1/ask", "/v1/search"]
    texts = [body.get("question", body.get("query")) for _, body in plan]
    first_time = [t for t in texts if t not in ("甲", "乙", "丙")]
    assert len(first_time) == 25 and len(set(first_time)) == 25  # each one new
    assert all(body["top_k"] == 10 for path, body in plan if path == "/v1/search")
    assert [t for t in texts if t in ("甲", "乙", "丙")][:4] == ["甲", "乙", "丙", "甲"]  # repeats cycle the file


@pytest.mark.parametrize(("share", "expected"), [(0.0, 0), (1.0, 40), (0.5, 20)])
def test_plan_share_bounds(share: float, expected: int) -> None:
    texts = [body.get("question", body.get("query")) for _, body in request_plan(40, ["q"], share)]
    assert sum(t != "q" for t in texts) == expected


def test_summary_measures_growth_over_the_run_and_its_last_half() -> None:
    samples = [(0, 1000.0), (100, 1100.0), (200, 1200.0), (300, 1206.0), (400, 1212.0)]
    summary = summarise(samples)
    assert summary["rss_mid_at"] == 200 and summary["rss_mid_mb"] == 1200.0
    assert summary["growth_pct"] == pytest.approx((1212 - 1000) / 1000 * 100)
    assert summary["growth_last_half_pct"] == pytest.approx((1212 - 1200) / 1200 * 100)
    assert summary["rss_max_mb"] == 1212.0
    assert summarise([])["growth_last_half_pct"] is None
    assert growth_pct(None, 5.0) is None and growth_pct(0.0, 5.0) is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"requests": 1}, "requests must be at least 2"),
    ({"clients": 0}, "clients must be at least 1"),
    ({"first_time": 1.5}, "first_time must be between 0 and 1"),
    ({"questions": []}, "no questions"),
])
def test_config_rejects_bad_values(kwargs: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        SoakConfig(**{"data_dir": tmp_path, "questions": ["q"], **kwargs})


def test_no_index_exits_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "eval", "soak", "--requests", "4", "--data-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "300"})
    assert done.returncode == 2 and "no index in" in done.stderr and "python -m ingest" in done.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_a_short_soak_reports_every_request_the_curve_and_the_431(eval_data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "eval", "soak", "--requests", "40", "--clients", "2", "--sample-every", "10",
         "--data-dir", str(eval_data_dir), "--json", str(out), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "300"},
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert (report["requests_done"], report["errors"]) == (40, 0), report["error_examples"]
    assert [p["requests"] for p in report["rss_curve"]] == [0, 10, 20, 30, 40, 40]
    assert all(p["rss_mb"] > 0 for p in report["rss_curve"])
    assert report["big_header"]["answered_431"] is True and report["big_header"]["healthz_statuses"] == [200]
    assert "partial" not in report
    missed = [name for name, check in report["targets"].items() if not check["met"]]
    assert done.returncode == (1 if missed else 0), done.stderr[-2000:]  # exit code follows the targets
    assert f"{report['requests_done']}/40 requests" in done.stdout
