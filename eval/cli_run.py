"""`python -m eval run` and `python -m eval score`: evaluate a question file (in
process or over HTTP) or re-score saved results, and print and write the report."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from eval.cli import (
    DEFAULT_RESULTS, EXIT_INPUT, EXIT_SYSTEM, CorpusOpt, PlotOpt, QuestionsOpt, QuietOpt, ReportJsonOpt, ReportMdOpt,
    TopKOpt, app, fail, load_inputs, out, write_outputs,
)


def source_texts(corpus: Any, results: list[Any]) -> dict[str, str]:
    """Source texts keyed by file name, as citations name them: `corpus_dir / citation.file`."""
    sources = {doc.file: corpus.texts[doc.doc_id] for doc in corpus.manifest.documents}
    root = Path(corpus.directory).resolve()
    for file in {c.file for r in results for c in r.citations} - sources.keys():
        path = (root / file).resolve()
        # A file outside the manifest is still checked, but never outside the corpus folder.
        if path.is_relative_to(root) and path.is_file():
            sources[file] = path.read_text(encoding="utf-8")
    return sources


def run_meta(questions_path: Path, system: str, top_k: int, results: list[Any]) -> dict[str, Any]:
    versions = sorted({r.index_version for r in results if r.index_version})
    return {
        "questions": str(questions_path),
        "system": system,
        "top_k": top_k,
        "index_version": ", ".join(versions) or "unknown",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_run_outputs(
    report: dict[str, Any], meta: dict[str, Any], questions: list[Any], results: list[Any], passage_keys: list[str],
    report_json: Path | None, report_md: Path | None, plot: Path | None,
) -> None:
    from eval.retrieval_metrics import rankings_of, recall_curve
    from eval.report import answer_table, answers_table, category_table, run_markdown, run_table

    out.print(run_table(report))
    if (by_category := category_table(report)) is not None:
        out.print(by_category)
    out.print(answer_table(report))
    out.print(answers_table(report))

    def curves() -> dict[str, list[float | None]]:
        rankings = rankings_of(results)
        per_lang = {"all": recall_curve(questions, rankings, passage_keys)}
        for lang in sorted({q.lang for q in questions}):
            per_lang[lang] = recall_curve([q for q in questions if q.lang == lang], rankings, passage_keys)
        return per_lang

    write_outputs(report_json, report, report_md, lambda: run_markdown(report, meta), plot, curves,
                  f"recall@k — {meta['system']}")


@app.command()
def run(
    questions: QuestionsOpt,
    url: Annotated[
        Optional[str],
        typer.Option(help="Evaluate a running service over HTTP (e.g. http://127.0.0.1:8000) instead of in-process."),
    ] = None,
    report_json: ReportJsonOpt = None,
    report_md: ReportMdOpt = None,
    plot: PlotOpt = None,
    top_k: TopKOpt = 10,
    results: Annotated[
        Path, typer.Option(help="Per-question results (JSON Lines), for `eval score` and error analysis.", dir_okay=False)
    ] = DEFAULT_RESULTS,
    trec_run: Annotated[Optional[Path], typer.Option(help="Also write the search ranking as a TREC run file.", dir_okay=False)] = None,
    corpus_dir: CorpusOpt = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="HTTP timeout per call, seconds (with --url).")] = 60.0,
    max_retries: Annotated[int, typer.Option(
        min=0, help="With --url: retries of a call answered 429 (rate limited), each after its Retry-After.")] = 10,
    quiet: QuietOpt = False,
) -> None:
    """Ask every question through /v1/search and /v1/ask; report retrieval (ranx), citations, key facts
    (nuggets), answer length, abstention, latency.

    Retrieval (recall@1/5/10, MRR@10, nDCG@10, hit@5/10) is scored over answerable questions with gold;
    answerable questions without gold are counted separately, unanswerable ones are scored for refusal.
    """
    from eval.metrics import compute_report
    from eval.results import write_results, write_trec_run
    from eval.retrieval_metrics import rankings_of
    from eval.runners import HttpRunner, InProcessRunner, RunnerError, run_questions

    corpus, loaded = load_inputs(questions, corpus_dir)
    try:
        runner = HttpRunner(url, timeout_s=timeout, max_retries=max_retries) if url else InProcessRunner.load()
    except Exception as exc:  # no index, Chroma unreachable, …: the system, not the input
        raise fail(f"cannot start the system under test: {type(exc).__name__}: {exc}", EXIT_SYSTEM) from None
    try:
        run_results = run_questions(runner, loaded, top_k=top_k, progress=not quiet)
    except RunnerError as exc:
        raise fail(str(exc), EXIT_SYSTEM) from None
    finally:
        runner.close()
    write_results(results, run_results)
    if trec_run:
        write_trec_run(trec_run, rankings_of(run_results), tag="service")
    passage_keys = [p.key for p in corpus.passages]
    report = compute_report(loaded, run_results, passage_keys, source_texts(corpus, run_results))
    meta = run_meta(questions, url or "in-process", top_k, run_results)
    if isinstance(runner, HttpRunner):
        # how long the service's rate limit held the run up (latencies exclude the waits)
        report["rate_limit"] = meta["rate_limit"] = {"retries": runner.retries, "waited_s": round(runner.waited_s, 1)}
    write_run_outputs(report, meta, loaded, run_results, passage_keys, report_json, report_md, plot)
    if isinstance(runner, HttpRunner):
        out.print(f"Rate limit: {runner.retries} requests answered 429 and retried; "
                  f"{runner.waited_s:.1f} s waited in all (Retry-After)")
    out.print(f"Per-question results: {results}")


@app.command()
def score(
    questions: QuestionsOpt,
    results: Annotated[
        Path, typer.Option(help="Per-question results written by `eval run`.", exists=True, dir_okay=False)
    ] = DEFAULT_RESULTS,
    report_json: ReportJsonOpt = None,
    report_md: ReportMdOpt = None,
    plot: PlotOpt = None,
    corpus_dir: CorpusOpt = None,
) -> None:
    """Recompute the report from saved per-question results, without a model or server."""
    from eval.metrics import compute_report
    from eval.results import read_results

    corpus, loaded = load_inputs(questions, corpus_dir)
    try:
        saved = read_results(results)
        passage_keys = [p.key for p in corpus.passages]
        report = compute_report(loaded, saved, passage_keys, source_texts(corpus, saved))
    except (ValueError, TypeError, KeyError) as exc:
        raise fail(f"{results}: {exc}", EXIT_INPUT) from None
    meta = run_meta(questions, f"saved run {results}", 0, saved)
    meta.pop("top_k")
    write_run_outputs(report, meta, loaded, saved, passage_keys, report_json, report_md, plot)
