"""A short headless locust run (eval/locustfile.py) against the real server on
loopback: 20 users for LOAD_SECONDS, zero failures.

The full run, against a service started with SIQA_RATE_LIMIT="":

    locust -f eval/locustfile.py --headless -u 20 -r 5 -t 60s --host http://127.0.0.1:8000 --only-summary
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from reliability_support import ROOT

from eval.servers import Process

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USERS = 20
SPAWN_RATE = 10
LOAD_SECONDS = 15
STOP_TIMEOUT_S = 30  # in-flight requests may finish after the run time


def test_twenty_users_without_failures(rel_service: Process) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "eval" / "locustfile.py"), "--headless",
        "-u", str(USERS), "-r", str(SPAWN_RATE), "-t", f"{LOAD_SECONDS}s", "--stop-timeout", str(STOP_TIMEOUT_S),
        "--host", rel_service.url, "--only-summary", "--json", "--skip-log-setup",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=LOAD_SECONDS + STOP_TIMEOUT_S + 60)
    stats = json.loads(done.stdout[done.stdout.index("["):])
    by_name = {entry["name"]: entry for entry in stats}
    failures = {name: entry["num_failures"] for name, entry in by_name.items() if entry["num_failures"]}
    assert not failures, f"failures: {failures}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(by_name) == {"/v1/ask", "/v1/search"}
    assert by_name["/v1/ask"]["num_requests"] >= USERS and by_name["/v1/search"]["num_requests"] >= 1
