"""Request and response models: the API contract that clients and eval rely on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt

MAX_TOP_K = 50


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_id: list[str] | None = Field(default=None, description="Only these documents (doc ids).")
    chapter: list[str] | None = Field(default=None, description="Only these chapters, e.g. '第二章 基本养老保险'.")
    kind: list[str] | None = Field(default=None, description="Only these kinds: law, administrative regulation, …")

    def as_dict(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="Free text, or an article reference such as 社保法第58条.")
    top_k: StrictInt = Field(default=10, ge=1, le=MAX_TOP_K)  # strict: true and "5" are 422
    filters: Filters | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="A question in Chinese or English.")
    top_k: StrictInt = Field(default=5, ge=1, le=MAX_TOP_K, description="Passages considered for the answer.")
    filters: Filters | None = None


class RetrieverRank(BaseModel):
    retriever: str
    rank: int
    score: float


class SearchResult(BaseModel):
    key: str
    doc_id: str
    title: str
    title_en: str
    article: int | None
    chapter: str | None
    section: str | None = None
    kind: str
    text: str
    start: int
    end: int
    score: float
    found_by: list[RetrieverRank] = []


class SearchResponse(BaseModel):
    query: str
    lang: str
    results: list[SearchResult]
    corpus_version: str
    index_version: str
    took_ms: float


class Rendering(BaseModel):
    """The project's own rendering of a quote into the asker's language."""

    lang: str = Field(description="Language of the rendering: en for a Chinese quote, zh for an English one.")
    text: str = Field(
        description="Unofficial rendering written by this project; the verbatim quote is the authoritative text."
    )
    official: bool = Field(default=False, description="Always false: no rendering here is an official translation.")


class Citation(BaseModel):
    marker: int = Field(description="The [n] marker in the answer text.")
    key: str
    doc_id: str
    title: str
    title_en: str
    article: int | None
    chapter: str | None
    section: str | None = None
    quote: str = Field(description="Verbatim text from the source file.")
    start: int = Field(description="file_text[start:end] == quote")
    end: int
    file: str
    score: float
    role: str = Field(
        default="quote",
        description="What the quote is: quote, article (the whole article), lead-in (with its items), items, "
        "applies (the tier of a tiered rule that fits the asker's situation), other-tiers, step (of the guidance), basis.",
    )
    restates: str | None = Field(
        default=None, description="Key of an earlier cited passage that states the same rule with other figures."
    )
    rendering: Rendering | None = Field(
        default=None,
        description="Unofficial rendering into the asker's language when the quote is in the other one; "
        "the quote is authoritative.",
    )


class SeeAlso(BaseModel):
    key: str
    title: str
    title_en: str
    article: int | None
    chapter: str | None
    section: str | None = None
    score: float


class AskResponse(BaseModel):
    question: str
    lang: str
    answer: str
    refused: bool
    refusal_reason: str | None = None
    citations: list[Citation]
    see_also: list[SeeAlso] = []
    partial: bool = Field(default=False, description="The answer covers only part of the question: see uncovered.")
    uncovered: str | None = Field(
        default=None, description="What the answer does not cover, named in the asker's language (e.g. 住房公积金)."
    )
    mode: str = Field(default="extractive", description="extractive or llm")
    corpus_version: str
    index_version: str
    took_ms: float


class ArticleLink(BaseModel):
    key: str
    title: str
    article: int | None
    section: str | None = None


class ArticleResponse(BaseModel):
    key: str
    doc_id: str
    title: str
    title_en: str
    article: int | None
    chapter: str | None
    section: str | None = None
    kind: str
    text: str
    file: str
    start: int
    end: int
    refers_to: list[ArticleLink]
    referred_by: list[ArticleLink]
    corpus_version: str


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    title_en: str
    aliases: list[str]
    kind: str
    lang: str
    effective: str | None
    articles: int | None
    passages: int
    chapters: list[str]
    sha256: str


class DocumentsResponse(BaseModel):
    corpus_version: str
    index_version: str
    documents: list[DocumentSummary]


class ErrorResponse(BaseModel):
    error: str
    message: str


class Health(BaseModel):
    status: str
    corpus_version: str | None = None
    index_version: str | None = None
    detail: str | None = None
