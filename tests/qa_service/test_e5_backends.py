"""The service on either e5 backend (SIQA_E5_BACKEND): onnxruntime serves
without torch in the process, and ranks the development questions as the
sentence-transformers reference does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "eval" / "questions" / "dev.jsonl"
HEAVY = ("torch", "transformers", "sentence_transformers")

# A service in a fresh interpreter: the app's lifespan loads the engine, then
# one question each for /readyz, /v1/ask and /v1/search; prints which of the
# heavy packages were imported along the way, and the BLAS thread counts.
_SERVE_AND_LIST_MODULES = """
import json, sys
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info
from qa_service.app import create_app

with TestClient(create_app()) as client:
    assert client.get("/readyz").status_code == 200, client.get("/readyz").text
    ask = client.post("/v1/ask", json={"question": "失业保险金最长可以领取多少个月？"})
    search = client.post("/v1/search", json={"query": "Who pays maternity insurance?", "top_k": 3})
    assert ask.status_code == search.status_code == 200, (ask.text, search.text)
    assert ask.json()["citations"] and search.json()["results"]
heavy = %r
blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
print(json.dumps({"heavy": sorted({m.split(".")[0] for m in sys.modules} & set(heavy)), "blas": blas}))
"""


@pytest.mark.parametrize(("backend", "expected"), [("onnx", []), ("torch", sorted(HEAVY))])
def test_which_packages_a_serving_process_imports(service_data_dir: Path, backend: str, expected: list[str]) -> None:
    env = {**os.environ, "SIQA_DATA_DIR": str(service_data_dir), "SIQA_E5_BACKEND": backend,
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SIQA_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", _SERVE_AND_LIST_MODULES % (HEAVY,)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy"] == expected
    # a request's matrix-vector products run on one BLAS thread (qa_service.app.one_blas_thread)
    assert seen["blas"] and set(seen["blas"]) == {1}, seen["blas"]


def test_dev_rankings_match_the_torch_backend(service_settings) -> None:  # type: ignore[no-untyped-def]
    """Same index, queries embedded by either backend: the top 10 of /v1/search
    are the same passages in the same order for at least 229 of the 231 questions
    (the others may swap passages whose scores differ by ~1e-7)."""
    from qa_service.engine import QAEngine
    from qa_service.schemas import SearchRequest

    questions = [json.loads(line)["question"] for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    engines = {b: QAEngine.load(service_settings.model_copy(update={"e5_backend": b})) for b in ("onnx", "torch")}
    assert {type(e.embedders["e5"]).__name__ for e in engines.values()} == {"OnnxE5Embedder", "TorchE5Embedder"}
    differ = []
    for question in questions:
        keys = {
            backend: [r.key for r in engine.search(SearchRequest(query=question, top_k=10)).results]
            for backend, engine in engines.items()
        }
        if keys["onnx"] != keys["torch"]:
            differ.append(question)
    assert len(questions) == 231
    assert len(questions) - len(differ) >= 229, differ
