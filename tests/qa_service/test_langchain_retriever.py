from __future__ import annotations

import pytest

from qa_service.engine import QAEngine
from qa_service.langchain_retriever import HybridLangChainRetriever
from qa_service.settings import ServiceSettings

pytestmark = pytest.mark.integration


def test_langchain_retriever_returns_documents(service_settings: ServiceSettings) -> None:
    retriever = HybridLangChainRetriever(engine=QAEngine.load(service_settings), top_k=3)
    documents = retriever.invoke("社保法第58条")
    assert len(documents) == 3
    assert documents[0].metadata["key"] == "social-insurance-law:58"
    assert documents[0].page_content.startswith("第五十八条")
    filtered = HybridLangChainRetriever(
        engine=retriever.engine, top_k=3, filters={"doc_id": ["unemployment-insurance-regulation"]}
    ).invoke("失业保险金领取期限")
    assert {d.metadata["doc_id"] for d in filtered} == {"unemployment-insurance-regulation"}
