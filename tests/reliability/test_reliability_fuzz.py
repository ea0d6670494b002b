"""Schemathesis against the live OpenAPI document of the real server on loopback:
valid and invalid inputs for every operation, bounded to FUZZ_EXAMPLES each;
no 5xx, and every response (status, content type, headers, body) as documented.

The property tests of the article-reference parser live in
tests/corpus/test_corpus_references.py; those of the statute parser in
test_reliability_properties.py here.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from eval.servers import Process
from qa_service.app import create_app
from qa_service.settings import ServiceSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FUZZ_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]
# The operations, read from the app's own OpenAPI document (no index needed to build it);
# the test then fuzzes them through the live server's /openapi.json.
# (schemathesis.pytest.from_fixture does not work with pytest 9: it sets Function._nodeid.)
_DOCUMENT = create_app(ServiceSettings()).openapi()
OPERATIONS = [(path, method.upper()) for path, methods in _DOCUMENT["paths"].items() for method in methods]
# Invalid input needs something to be invalid: parameters, a body or credentials.
CASES = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE
    or {"parameters", "requestBody", "security"} & set(_DOCUMENT["paths"][path][method.lower()])
]


@pytest.fixture(scope="session")
def live_schema(rel_service: Process):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_url(f"{rel_service.url}/openapi.json", timeout=30)


def test_live_document_is_the_apps(live_schema) -> None:  # type: ignore[no-untyped-def]
    assert sorted((op.path, op.method.upper()) for op in (r.ok() for r in live_schema.get_all_operations())) == sorted(OPERATIONS)


@pytest.mark.parametrize(("path", "method", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for p, m, mode in CASES])
def test_every_operation_keeps_its_contract(live_schema, path: str, method: str, mode: GenerationMode) -> None:  # type: ignore[no-untyped-def]
    operation = live_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
    def fuzz(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(checks=CHECKS, timeout=30)

    fuzz()
