"""LLM-mode tests: a scripted OpenAI-compatible server on loopback and an engine
configured to use it, over the session's shared index (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_openai import ScriptedOpenAI

LLM_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def llm_server() -> Iterator[ScriptedOpenAI]:
    server = ScriptedOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def llm_settings(service_data_dir: Path, llm_server: ScriptedOpenAI):  # type: ignore[no-untyped-def]
    from qa_service.settings import ServiceSettings

    return ServiceSettings(
        data_dir=service_data_dir,
        llm_base_url=llm_server.base_url,
        llm_model="scripted",
        llm_api_key="x",
        llm_timeout_s=LLM_TIMEOUT_S,
        rate_limit="",
    )


@pytest.fixture(scope="module")
def llm_engine(llm_settings):  # type: ignore[no-untyped-def]
    from qa_service.engine import QAEngine

    return QAEngine.load(llm_settings)


@pytest.fixture
def scripted(llm_server: ScriptedOpenAI) -> Iterator[ScriptedOpenAI]:
    llm_server.expect()
    yield llm_server
    llm_server.expect()
