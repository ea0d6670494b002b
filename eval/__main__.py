"""`python -m eval`: evaluate the service on a question file, compare it with baselines,
or re-score a saved run.

Exit codes: 0 done; 1 the system under test failed (unreachable, no index, an error
on some question); 2 bad input (malformed question file, unknown option value).
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # evaluation never downloads weights

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate the question-answering service: retrieval (ranx), citations, key facts in answers, abstention, latency.",
)
# Piped output (CI logs, files) gets room for the nine-column table instead of rich's 80.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True)

EXIT_SYSTEM = 1
EXIT_INPUT = 2
DEFAULT_RESULTS = Path("reports/results.jsonl")

QuestionsOpt = Annotated[
    Path,
    typer.Option(
        "--questions", "-q", help="Question file (JSON Lines: id, question, lang?, answerable?, gold, category?, nuggets?).",
        exists=True, dir_okay=False, readable=True,
    ),
]
CorpusOpt = Annotated[
    Optional[Path],
    typer.Option(help="Corpus folder, for gold and nugget validation and the verbatim-citation check (default: the bundled corpus/).",
                 exists=True, file_okay=False),
]
TopKOpt = Annotated[int, typer.Option(min=1, max=50, help="Results requested per /v1/search call.")]
ReportJsonOpt = Annotated[Optional[Path], typer.Option(help="Write the JSON report here.", dir_okay=False)]
ReportMdOpt = Annotated[Optional[Path], typer.Option(help="Write the Markdown report here.", dir_okay=False)]
PlotOpt = Annotated[Optional[Path], typer.Option(help="Write a PNG plot of recall@k, k=1..10, here.", dir_okay=False)]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bar.")]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"eval {version('social-insurance-qa')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Evaluate the question-answering service."""


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def _load_inputs(questions_path: Path, corpus_dir: Path | None) -> tuple[Any, list[Any]]:
    """Corpus and questions, validated before any model loads; bad input exits 2."""
    from corpus import DEFAULT_CORPUS_DIR, CorpusError, load_corpus
    from eval.questions import QuestionFileError, load_questions

    try:
        corpus = load_corpus(corpus_dir or DEFAULT_CORPUS_DIR)
        return corpus, load_questions(questions_path, corpus)
    except (QuestionFileError, CorpusError) as exc:
        raise _fail(str(exc), EXIT_INPUT) from None


def _sources(corpus: Any, results: list[Any]) -> dict[str, str]:
    """Source texts keyed by file name, as citations name them: `corpus_dir / citation.file`."""
    sources = {doc.file: corpus.texts[doc.doc_id] for doc in corpus.manifest.documents}
    root = Path(corpus.directory).resolve()
    for file in {c.file for r in results for c in r.citations} - sources.keys():
        path = (root / file).resolve()
        # A file outside the manifest is still checked, but never outside the corpus folder.
        if path.is_relative_to(root) and path.is_file():
            sources[file] = path.read_text(encoding="utf-8")
    return sources


def _meta(questions_path: Path, system: str, top_k: int, results: list[Any]) -> dict[str, Any]:
    versions = sorted({r.index_version for r in results if r.index_version})
    return {
        "questions": str(questions_path),
        "system": system,
        "top_k": top_k,
        "index_version": ", ".join(versions) or "unknown",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _write_run_outputs(
    report: dict[str, Any], meta: dict[str, Any], questions: list[Any], results: list[Any], passage_keys: list[str],
    report_json: Path | None, report_md: Path | None, plot: Path | None,
) -> None:
    from eval.retrieval_metrics import rankings_of, recall_curve
    from eval.report import (
        answer_table, answers_table, category_table, plot_recall_curves, run_markdown, run_table, write_json, write_text,
    )

    out.print(run_table(report))
    if (by_category := category_table(report)) is not None:
        out.print(by_category)
    out.print(answer_table(report))
    out.print(answers_table(report))
    if report_json:
        write_json(report_json, report)
        out.print(f"JSON report: {report_json}")
    if report_md:
        write_text(report_md, run_markdown(report, meta))
        out.print(f"Markdown report: {report_md}")
    if plot:
        rankings = rankings_of(results)
        curves = {"all": recall_curve(questions, rankings, passage_keys)}
        for lang in sorted({q.lang for q in questions}):
            curves[lang] = recall_curve([q for q in questions if q.lang == lang], rankings, passage_keys)
        plot_recall_curves(plot, curves, f"recall@k — {meta['system']}")
        out.print(f"Plot: {plot}")


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

    corpus, loaded = _load_inputs(questions, corpus_dir)
    try:
        runner = HttpRunner(url, timeout_s=timeout, max_retries=max_retries) if url else InProcessRunner.load()
    except Exception as exc:  # no index, Chroma unreachable, …: the system, not the input
        raise _fail(f"cannot start the system under test: {type(exc).__name__}: {exc}", EXIT_SYSTEM) from None
    try:
        run_results = run_questions(runner, loaded, top_k=top_k, progress=not quiet)
    except RunnerError as exc:
        raise _fail(str(exc), EXIT_SYSTEM) from None
    finally:
        runner.close()
    write_results(results, run_results)
    if trec_run:
        write_trec_run(trec_run, rankings_of(run_results), tag="service")
    passage_keys = [p.key for p in corpus.passages]
    report = compute_report(loaded, run_results, passage_keys, _sources(corpus, run_results))
    meta = _meta(questions, url or "in-process", top_k, run_results)
    if isinstance(runner, HttpRunner):
        # how long the service's rate limit held the run up (latencies exclude the waits)
        report["rate_limit"] = meta["rate_limit"] = {"retries": runner.retries, "waited_s": round(runner.waited_s, 1)}
    _write_run_outputs(report, meta, loaded, run_results, passage_keys, report_json, report_md, plot)
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

    corpus, loaded = _load_inputs(questions, corpus_dir)
    try:
        saved = read_results(results)
        passage_keys = [p.key for p in corpus.passages]
        report = compute_report(loaded, saved, passage_keys, _sources(corpus, saved))
    except (ValueError, TypeError, KeyError) as exc:
        raise _fail(f"{results}: {exc}", EXIT_INPUT) from None
    meta = _meta(questions, f"saved run {results}", 0, saved)
    meta.pop("top_k")
    _write_run_outputs(report, meta, loaded, saved, passage_keys, report_json, report_md, plot)


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
    from eval.report import compare_markdown, compare_table, plot_recall_curves, write_json, write_text
    from eval.runners import InProcessRunner
    from ingest.embedders import make_embedder

    corpus, loaded = _load_inputs(questions, corpus_dir)
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
        raise _fail(f"compare failed: {type(exc).__name__}: {exc}", EXIT_SYSTEM) from None
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
    if report_json:
        write_json(report_json, comparison)
        out.print(f"JSON report: {report_json}")
    if report_md:
        write_text(report_md, compare_markdown(comparison, meta))
        out.print(f"Markdown report: {report_md}")
    if plot:
        curves = {name: s["recall_curve"] for name, s in comparison["systems"].items()}
        plot_recall_curves(plot, curves, "recall@k by system")
        out.print(f"Plot: {plot}")


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Skip the scaling corpora, time 100 questions, shorter load runs (a few minutes).")] = False,
    json_path: Annotated[Path, typer.Option("--json", help="Write the JSON report here.", dir_okay=False)] = Path("reports/bench.json"),
    sizes: Annotated[str, typer.Option(help="Synthetic corpus sizes (passages), comma-separated.")] = "1000,10000,100000",
    cache_dir: Annotated[Optional[Path], typer.Option(help="Where synthetic corpora and their indexes are kept between runs (default: <data dir>/bench-cache).", file_okay=False)] = None,
    questions: Annotated[Path, typer.Option("--questions", "-q", help="Question file whose questions are timed.", exists=True, dir_okay=False, readable=True)] = Path(__file__).resolve().parent / "questions" / "dev.jsonl",
    corpus_dir: Annotated[Optional[Path], typer.Option(help="Corpus to ingest and serve for the latency and ingest parts (default: the bundled corpus/).", exists=True, file_okay=False)] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Time only this many questions (evenly spaced).")] = None,
    load_seconds: Annotated[Optional[float], typer.Option(min=1, help="Length of each load run, seconds (default 30, 15 with --quick).")] = None,
    load_users: Annotated[str, typer.Option(help="Concurrent clients of each load run, comma-separated.")] = "8,16",
    quiet: QuietOpt = False,
) -> None:
    """Latency (/v1/search, /v1/ask vs. the naive pipeline and the query-embedding step, per e5 backend),
    start-up and memory, ingest cost, throughput (locust), a `chroma run` server, and scaling to
    synthetic corpora; one table and a JSON report.

    Everything runs on this machine in one go, against services started on free loopback ports.
    """
    from corpus import CorpusError, load_corpus
    from eval.bench import BenchConfig, BenchError, bench_table, run_bench, write_report
    from eval.bench_load import LoadRunError
    from eval.servers import ServerError

    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
    except ValueError:
        raise _fail(f"--sizes must be comma-separated whole numbers, got {sizes!r}", EXIT_INPUT) from None
    try:
        users_list = [int(x) for x in load_users.split(",") if x.strip()]
    except ValueError:
        raise _fail(f"--load-users must be comma-separated whole numbers, got {load_users!r}", EXIT_INPUT) from None
    if not quick and not size_list:
        raise _fail("--sizes: at least one size is needed (or --quick)", EXIT_INPUT)
    try:
        config = BenchConfig(
            quick=quick, sizes=size_list, cache_dir=cache_dir, questions_path=questions,
            corpus_dir=corpus_dir, limit=limit, load_seconds=load_seconds, load_users=users_list,
            progress=not quiet,
        )
    except ValueError as exc:
        raise _fail(f"--sizes: {exc}", EXIT_INPUT) from None
    _load_inputs(questions, None)  # a malformed question file exits 2 before anything starts
    if corpus_dir is not None:
        try:
            load_corpus(corpus_dir)
        except CorpusError as exc:
            raise _fail(str(exc), EXIT_INPUT) from None
    try:
        report = run_bench(config)
    except (BenchError, ServerError, LoadRunError) as exc:
        raise _fail(f"bench: {exc}", EXIT_SYSTEM) from None
    write_report(json_path, report)
    out.print(bench_table(report))
    out.print(f"JSON report: {json_path}")


@app.command()
def soak(
    requests: Annotated[int, typer.Option(min=2, help="Requests to send in all (ask and search alternately).")] = 20_000,
    clients: Annotated[int, typer.Option(min=1, max=32, help="Concurrent clients (threads, kept-alive connections).")] = 2,
    first_time: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of first-time questions (new query embeddings); the rest repeat.")] = 0.5,
    sample_every: Annotated[Optional[int], typer.Option(min=1, help="Requests between memory samples (default: requests / 40).")] = None,
    max_seconds: Annotated[float, typer.Option(min=1, help="Stop sending after this long, whatever the count.")] = 4 * 3600.0,
    data_dir: Annotated[Optional[Path], typer.Option(help="Index folder to serve (default: the settings' data dir).", file_okay=False)] = None,
    questions: Annotated[Path, typer.Option("--questions", "-q", help="Question file whose questions are sent.", exists=True, dir_okay=False, readable=True)] = Path(__file__).resolve().parent / "questions" / "dev.jsonl",
    json_path: Annotated[Path, typer.Option("--json", help="Write the JSON report here.", dir_okay=False)] = Path("reports/soak.json"),
    quiet: QuietOpt = False,
) -> None:
    """A long run against one service over loopback: error count, latency, the
    service's memory (RSS) curve and its growth over the last half (target < 5 %),
    and a 1 MiB header answered 431 while /healthz keeps answering.

    Exit code 1 when a target is missed or the service failed."""
    from eval.bench import load_question_texts
    from eval.soak import SoakConfig, SoakError, run_soak, write_report
    from qa_service.settings import ServiceSettings

    _load_inputs(questions, None)  # a malformed question file exits 2 before anything starts
    folder = (data_dir or ServiceSettings().data_dir).resolve()
    if not (folder / "index" / "CURRENT").exists():
        raise _fail(f"no index in {folder / 'index'}: run `python -m ingest` first", EXIT_INPUT)
    config = SoakConfig(data_dir=folder, questions=load_question_texts(questions, None), requests=requests,
                        clients=clients, first_time=first_time, sample_every=sample_every, max_seconds=max_seconds,
                        progress=None if quiet else (lambda text: err.print(text, style="dim", highlight=False)),
                        partial_report=json_path)
    try:
        report = run_soak(config)
    except SoakError as exc:
        raise _fail(f"soak: {exc}", EXIT_SYSTEM) from None
    write_report(json_path, report)
    header = report["big_header"]
    out.print(f"{report['requests_done']}/{report['requests_planned']} requests in {report['seconds']} s "
              f"({report['rps']} req/s, p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms), {report['errors']} errors")
    out.print("RSS MiB: " + ", ".join(f"{p['requests']}: {p['rss_mb']:.0f}" for p in report["rss_curve"]))
    out.print(f"RSS {report['rss_start_mb']} → {report['rss_mid_mb']} (half way) → {report['rss_end_mb']} MiB: "
              f"growth {report['growth_pct']} % over the run, {report['growth_last_half_pct']} % over its last half")
    out.print(f"1 MiB header: {header.get('status_line')} after {header.get('seconds_to_answer')} s; "
              f"/healthz meanwhile {header.get('healthz_statuses')}, slowest {header.get('healthz_max_ms')} ms")
    missed = [name for name, check in report["targets"].items() if not check["met"]]
    out.print(f"targets: {'all met' if not missed else 'missed: ' + ', '.join(missed)}; JSON report: {json_path}")
    if missed:
        raise typer.Exit(EXIT_SYSTEM)


if __name__ == "__main__":
    app()
