from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from ingest.settings import IndexSettings

MIN_ADMIN_TOKEN_CHARS = 16
# the labelled scope set that `python -m qa_service fit-scope` fits the scope classifier on
SCOPE_QUESTIONS = Path(__file__).resolve().parent / "scope_questions.jsonl"
RATE_LIMIT_STORAGES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")


class ServiceSettings(IndexSettings):
    """Service settings; environment variables SIQA_<NAME> (e.g. SIQA_PORT=8000)."""

    # A rejected admin token must not be echoed into logs by the validation error.
    model_config = SettingsConfigDict(env_prefix="SIQA_", extra="ignore", hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions get HTTP 422.")
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024,
        description="Larger request bodies get HTTP 413, whether declared by Content-Length or sent chunked.",
    )
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024,
        description="A longer request line and headers get HTTP 431 as soon as the limit is passed (`serve`).",
    )
    max_headers: int = Field(default=100, ge=10, description="More header fields get HTTP 431 (`serve`).")
    candidates: int = Field(default=50, ge=10, description="Hits each retriever contributes to fusion.")
    rrf_k: int = Field(default=60, ge=1)
    # Answer or refuse: the scope classifier (qa_service.scope). Its model is the one
    # `python -m qa_service fit-scope` cached for the live index version in
    # data/scope/, else the bundled qa_service/scope_model.json; scope_model names a file instead.
    scope_model: Path | None = Field(default=None, description="A fitted scope model JSON to use instead of the cached or bundled one.")
    scope_questions: Path = Field(default=SCOPE_QUESTIONS, description="The labelled scope set fit-scope fits on.")
    answer_passages: int = Field(default=4, ge=1, le=10)
    answer_sentences: int = Field(default=4, ge=1, le=10)
    # sentences scoring within this gap of the best one are quoted too
    answer_gap: float = Field(default=0.2, ge=0.0, le=2.0)
    reload_check_s: float = Field(default=1.0, ge=0.0, description="How often to look for a newer index version.")
    # Optional LLM mode (OpenAI-compatible endpoint)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 20.0
    # Admin endpoints (POST /v1/admin/reingest) are disabled unless a bearer token is set.
    admin_token: SecretStr | None = Field(
        default=None, description=f"Bearer token for /v1/admin/*; at least {MIN_ADMIN_TOKEN_CHARS} characters."
    )
    log_questions: bool = Field(default=False, description="Log question text at INFO (off: only its length).")
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Per client address, on /v1/*; "" disables. Syntax of the `limits` package: "120/minute", "10/second;500/hour".
    rate_limit: str = "120/minute"
    # Where the counts live: memory:// (this process alone) or a Redis server shared by every
    # worker and replica, e.g. redis://127.0.0.1:6379/0 (the `limits` package's storage URLs).
    rate_limit_storage: str = "memory://"
    rate_limit_storage_timeout_s: float = Field(
        default=0.5, gt=0, le=10, description="Bound on each call to the rate-limit storage; past it the request is let through.",
    )
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")

    @field_validator("admin_token")
    @classmethod
    def _strong_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # empty means disabled
        secret = value.get_secret_value()
        # printable ASCII, no space: "!" (0x21) to "~" (0x7e); control characters and DEL are not
        if len(secret) < MIN_ADMIN_TOKEN_CHARS or not all("!" <= c <= "~" for c in secret):
            raise ValueError(
                f"admin_token must be at least {MIN_ADMIN_TOKEN_CHARS} printable ASCII characters without spaces "
                f"or control characters (got {len(secret)} characters)"
            )
        return value

    @field_validator("scope_model")
    @classmethod
    def _loadable_scope_model(cls, value: Path | None) -> Path | None:
        if value is not None:
            from qa_service.scope import ScopeModel, ScopeModelError

            try:
                ScopeModel.load(value)
            except ScopeModelError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object, info) -> object:  # type: ignore[no-untyped-def]
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        value = value.strip()
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in RATE_LIMIT_STORAGES:
            raise ValueError(
                f"rate_limit_storage must be a URL with one of the schemes {', '.join(RATE_LIMIT_STORAGES)} "
                f"(e.g. memory:// or redis://127.0.0.1:6379/0), got {scheme + '://…' if scheme else 'no scheme'}"
            )
        return value

    @field_validator("rate_limit")
    @classmethod
    def _parsable_limit(cls, value: str) -> str:
        value = value.strip()
        if value:
            from limits import parse_many

            try:
                parse_many(value)
            except ValueError:
                raise ValueError(f"rate_limit must look like '120/minute' or '10/second;500/hour', got {value!r}") from None
        return value
