"""Evaluation of the question-answering service: question files, runners
(in-process and HTTP), metrics via ranx, baselines and reports.

Nothing imports `eval`; it uses `qa_service` only through its public contract
(`QAEngine.search/ask/search_keys` and the schemas in `qa_service.schemas`).
"""
