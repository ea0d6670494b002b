"""The hybrid retriever as a LangChain `BaseRetriever`, for use in LangChain chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from qa_service.engine import QAEngine
from qa_service.schemas import Filters, SearchRequest


class HybridLangChainRetriever(BaseRetriever):
    """`HybridLangChainRetriever(engine=QAEngine.load()).invoke("第十九条")`"""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: QAEngine
    top_k: int = 5
    filters: dict[str, list[str]] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        filters = Filters(**self.filters) if self.filters else None
        response = self.engine.search(SearchRequest(query=query, top_k=self.top_k, filters=filters))
        return [
            Document(
                id=result.key,
                page_content=result.text,
                metadata={
                    k: v
                    for k, v in result.model_dump(exclude={"text", "found_by"}).items()
                    if v is not None
                }
                | {"corpus_version": response.corpus_version},
            )
            for result in response.results
        ]
