"""`python -m eval compare`: the service and its baselines ranked on one question file."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from eval.cli import (
    EXIT_SYSTEM, CorpusOpt, PlotOpt, QuestionsOpt, QuietOpt, ReportJsonOpt, ReportMdOpt, TopKOpt, app, err, fail,
    load_inputs, out, write_outputs,
)


@app.command()
def compare(
    questions: QuestionsOpt,
    report_md: ReportMdOpt = None,
    plot: PlotOpt = None,
    report_json: ReportJsonOpt = None,
    top_k: TopKOpt = 10,
    corpus_dir: CorpusOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Rank the same questions with the service and three baselines; print one retrieval table.

    Systems: the service (hybrid), BM25 only (jieba), dense only (USE, e5), plain RRF of the three, and a naive LangChain pipeline
    (500-char chunks + in-memory Chroma). In-process only: the baselines use the engine's retrievers.
    """
    from eval.baselines import NaiveLangChain, RetrieverSubset, ServiceSystem, rank_all
    from eval.retrieval_metrics import by_lang, recall_curve, retrieval_report, significance
    from eval.report import compare_markdown, compare_table
    from eval.runners import InProcessRunner
    from ingest.embedders import make_embedder

    corpus, loaded = load_inputs(questions, corpus_dir)
    try:
        runner = InProcessRunner.load()
        engine = runner.engine
        naive = NaiveLangChain(corpus, make_embedder("use", engine.settings))
        systems = [
            (ServiceSystem(runner), "The service's /v1/search ranking: reference lookup, BM25 and dense retrievers fused."),
            (RetrieverSubset(engine, ["lexical"], "BM25 only (jieba)"), "engine.search_keys(retrievers=['lexical'])."),
            (RetrieverSubset(engine, ["use"], "dense only (USE)"), "engine.search_keys(retrievers=['use'])."),
            (RetrieverSubset(engine, ["e5"], "dense only (e5)"), "engine.search_keys(retrievers=['e5'])."),
            (RetrieverSubset(engine, ["lexical", "use", "e5"], "plain RRF of the three"), "Unweighted RRF, no reference lookup."),
            (naive, "RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50, add_start_index=True) over each "
                    f"file, in-memory Chroma, USE embeddings, similarity_search(k={top_k}); each chunk is mapped to the "
                    "passage its start offset falls in (else the next one), repeats dropped."),
        ]
        if not quiet:
            err.print("naive LangChain: embedding chunks …")
        n_chunks = naive.warm_up()
        rankings = {system.name: rank_all(system, loaded, top_k, progress=not quiet) for system, _ in systems}
    except Exception as exc:
        raise fail(f"compare failed: {type(exc).__name__}: {exc}", EXIT_SYSTEM) from None
    passage_keys = [p.key for p in corpus.passages]
    comparison: dict[str, Any] = {
        "n_questions": len(loaded),
        "n_answerable_with_gold": sum(q.scored_for_retrieval for q in loaded),
        "systems": {
            system.name: {
                "description": description,
                "retrieval": retrieval_report(loaded, rankings[system.name], passage_keys),
                "by_lang": by_lang(loaded, rankings[system.name], passage_keys),
                "recall_curve": recall_curve(loaded, rankings[system.name], passage_keys),
            }
            for system, description in systems
        },
        "naive_chunks": n_chunks,
        "significance": significance(loaded, rankings, passage_keys, ["recall@10", "mrr@10", "ndcg@10"]),
    }
    out.print(compare_table(comparison))
    meta = {"questions": str(questions), "top_k": top_k, "index_version": engine.index.build_id,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_outputs(report_json, comparison, report_md, lambda: compare_markdown(comparison, meta), plot,
                  lambda: {name: s["recall_curve"] for name, s in comparison["systems"].items()}, "recall@k by system")
