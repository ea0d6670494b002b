"""The question-answering service: retrieval, answers with citations, refusal, HTTP API."""
