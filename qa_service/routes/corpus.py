from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path

from qa_service.deps import EngineDep
from qa_service.schemas import ArticleLink, ArticleResponse, DocumentsResponse, DocumentSummary, ErrorResponse

router = APIRouter(prefix="/v1", tags=["corpus"])


@router.get("/documents", response_model=DocumentsResponse, operation_id="list_documents")
def documents(engine: EngineDep) -> DocumentsResponse:
    """The corpus documents and the version of the index serving them."""
    index = engine.index
    summaries = []
    for doc in index.manifest.documents:
        passages = [p for p in index.passages if p.doc_id == doc.doc_id]
        chapters = list(dict.fromkeys(p.chapter for p in passages if p.chapter))
        summaries.append(
            DocumentSummary(
                doc_id=doc.doc_id, title=doc.title, title_en=doc.title_en, aliases=doc.aliases,
                kind=doc.kind, lang=doc.lang, effective=doc.effective, articles=doc.articles,
                passages=len(passages), chapters=chapters, sha256=doc.sha256,
            )
        )
    return DocumentsResponse(corpus_version=index.corpus_version, index_version=index.build_id, documents=summaries)


@router.get(
    "/articles/{doc_id}/{article}",
    response_model=ArticleResponse,
    operation_id="get_article",
    responses={404: {"model": ErrorResponse, "description": "No such document, article or section."}},
)
def article(
    engine: EngineDep,
    doc_id: str = Path(max_length=100),
    article: str = Path(max_length=40, description="Article number (19) or guidance section (step-2)."),
) -> ArticleResponse:
    """One article (or guidance section) with the articles it refers to and those that refer to it."""
    index = engine.index
    if doc_id not in index.manifest.doc_ids:
        raise HTTPException(404, f"unknown document {doc_id!r}; see /v1/documents")
    # ASCII digits only: "²".isdigit() is true but int("²") fails (a 500 found by fuzzing)
    key = f"{doc_id}:{int(article)}" if article.isascii() and article.isdigit() else f"{doc_id}#{article}"
    passage = index.passage(key)
    if passage is None:
        doc = index.manifest.document(doc_id)
        count = f" (it has {doc.articles} articles)" if doc.articles else ""
        raise HTTPException(404, f"{doc_id} has no article or section {article!r}{count}")

    def link(k: str) -> ArticleLink:
        p = index.passage(k)
        assert p is not None  # links are built from this index version
        return ArticleLink(key=k, title=p.title, article=p.article, section=p.section)

    links = index.links.get(key, {})
    return ArticleResponse(
        key=key, doc_id=doc_id, title=passage.title, title_en=passage.title_en, article=passage.article,
        chapter=passage.chapter, section=passage.section, kind=passage.kind, text=passage.text,
        file=passage.file, start=passage.start, end=passage.end,
        refers_to=[link(k) for k in links.get("refers_to", [])],
        referred_by=[link(k) for k in links.get("referred_by", [])],
        corpus_version=index.corpus_version,
    )
