"""Helpers for the eval tests: writing question files; for integration tests,
a real index and a real server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """write_jsonl(records, name=...) -> path; a str record is written as the raw line."""

    def write(records: list[object], name: str = "questions.jsonl") -> Path:
        path = tmp_path / name
        lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


# --------------------------------------------------------------------------- a real index and server


@pytest.fixture(scope="session")
def eval_data_dir(service_data_dir: Path) -> Path:
    """The session's shared index (tests/conftest.py)."""
    return service_data_dir


@pytest.fixture(scope="session")
def eval_server_url(server_url: str) -> str:
    """The session's shared server (tests/conftest.py)."""
    return server_url
