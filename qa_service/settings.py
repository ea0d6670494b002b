from __future__ import annotations

from pydantic import Field, SecretStr

from ingest.settings import IndexSettings


class ServiceSettings(IndexSettings):
    """Service settings; environment variables SIQA_<NAME> (e.g. SIQA_PORT=8000)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions get HTTP 422.")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Larger request bodies get HTTP 413.")
    candidates: int = Field(default=50, ge=10, description="Hits each retriever contributes to fusion.")
    rrf_k: int = Field(default=60, ge=1)
    # Refusal: the best cosine of the question against any passage (USE), calibrated on eval/questions/dev.jsonl.
    refuse_below: float = Field(default=0.40, ge=-1.0, le=1.0)
    answer_passages: int = Field(default=3, ge=1, le=10)
    answer_sentences: int = Field(default=3, ge=1, le=10)
    reload_check_s: float = Field(default=1.0, ge=0.0, description="How often to look for a newer index version.")
    # Optional LLM mode (OpenAI-compatible endpoint)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 20.0
    admin_token: SecretStr | None = None
    log_questions: bool = False
