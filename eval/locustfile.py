"""Load profile for the QA service: simulated users asking the dev questions.

Each user asks (/v1/ask, weight 3) and searches (/v1/search, weight 1) with
questions from eval/questions/dev.jsonl, waiting 0.5-2 s between requests, like
a person reading answers. A response counts as a failure unless it is HTTP 200
with the documented shape (an answered question carries citations).

    # 20 users for 60 s against a running service (loopback), summary only:
    locust -f eval/locustfile.py --headless -u 20 -r 5 -t 60s \\
        --host http://127.0.0.1:8000 --only-summary

Start the service with rate limiting off (SIQA_RATE_LIMIT="") or above the
offered load: every user comes from 127.0.0.1, and the default limit is
120/minute per address. Options (also as environment variables):
--questions / SIQA_LOCUST_QUESTIONS (a JSON-lines file with a "question" field),
--top-k / SIQA_LOCUST_TOP_K, --seed / SIQA_LOCUST_SEED.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from locust import HttpUser, between, events, task

DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "questions" / "dev.jsonl"


@events.init_command_line_parser.add_listener
def _options(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument("--questions", type=str, env_var="SIQA_LOCUST_QUESTIONS", default=str(DEFAULT_QUESTIONS),
                        help="JSON-lines file of questions (field 'question').")
    parser.add_argument("--top-k", type=int, env_var="SIQA_LOCUST_TOP_K", default=5,
                        help="top_k sent with every request.")
    parser.add_argument("--seed", type=int, env_var="SIQA_LOCUST_SEED", default=0,
                        help="Seed for the order in which users pick questions.")


def load_questions(path: str | Path) -> list[str]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            record = json.loads(line)
            if not isinstance(record.get("question"), str) or not record["question"].strip():
                raise ValueError(f"{path}:{number}: no 'question' text")
            questions.append(record["question"])
    if not questions:
        raise ValueError(f"{path}: no questions")
    return questions


class QAUser(HttpUser):
    wait_time = between(0.5, 2.0)
    connection_timeout = 10.0
    network_timeout = 60.0
    _questions: list[str] = []
    _users = 0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        path = getattr(options, "questions", DEFAULT_QUESTIONS)
        if not QAUser._questions:
            QAUser._questions = load_questions(path)
        QAUser._users += 1
        self.top_k = getattr(options, "top_k", 5)
        self.rng = random.Random(getattr(options, "seed", 0) * 100_003 + QAUser._users)

    def _question(self) -> str:
        return self.rng.choice(QAUser._questions)

    @task(3)
    def ask(self) -> None:
        with self.client.post("/v1/ask", json={"question": self._question(), "top_k": self.top_k},
                              name="/v1/ask", catch_response=True) as response:
            body = _json(response)
            if body is None:
                return
            if not isinstance(body.get("refused"), bool) or not body.get("answer"):
                response.failure("answer without 'answer'/'refused'")
            elif not body["refused"] and not body.get("citations"):
                response.failure("answered without citations")
            else:
                response.success()

    @task(1)
    def search(self) -> None:
        with self.client.post("/v1/search", json={"query": self._question(), "top_k": self.top_k},
                              name="/v1/search", catch_response=True) as response:
            body = _json(response)
            if body is None:
                return
            if not isinstance(body.get("results"), list):
                response.failure("search without 'results'")
            else:
                response.success()


def _json(response) -> dict | None:  # type: ignore[no-untyped-def]
    """The JSON body of a 200, or None after marking the request failed."""
    if response.status_code != 200:
        detail = response.text[:200] if response.text else ""
        response.failure(f"HTTP {response.status_code}: {detail}")
        return None
    try:
        body = response.json()
    except ValueError:
        response.failure("response is not JSON")
        return None
    if not isinstance(body, dict):
        response.failure("response is not a JSON object")
        return None
    return body
