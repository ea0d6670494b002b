"""`python -m eval bench` and `python -m eval soak`: the benchmark and the long run,
against services started on free loopback ports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from eval.cli import EXIT_INPUT, EXIT_SYSTEM, QuietOpt, app, err, fail, load_inputs, out


def whole_numbers(text: str, option: str) -> list[int]:
    """A comma-separated option value as whole numbers; anything else exits 2 naming the option."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise fail(f"{option} must be comma-separated whole numbers, got {text!r}", EXIT_INPUT) from None


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
    from eval.bench import BenchConfig, BenchError, bench_table, run_bench
    from eval.report import write_json
    from eval.bench_load import LoadRunError
    from eval.servers import ServerError

    size_list = whole_numbers(sizes, "--sizes")
    users_list = whole_numbers(load_users, "--load-users")
    if not quick and not size_list:
        raise fail("--sizes: at least one size is needed (or --quick)", EXIT_INPUT)
    try:
        config = BenchConfig(
            quick=quick, sizes=size_list, cache_dir=cache_dir, questions_path=questions,
            corpus_dir=corpus_dir, limit=limit, load_seconds=load_seconds, load_users=users_list,
            progress=not quiet,
        )
    except ValueError as exc:
        raise fail(f"--sizes: {exc}", EXIT_INPUT) from None
    load_inputs(questions, None)  # a malformed question file exits 2 before anything starts
    if corpus_dir is not None:
        try:
            load_corpus(corpus_dir)
        except CorpusError as exc:
            raise fail(str(exc), EXIT_INPUT) from None
    try:
        report = run_bench(config)
    except (BenchError, ServerError, LoadRunError) as exc:
        raise fail(f"bench: {exc}", EXIT_SYSTEM) from None
    write_json(json_path, report)
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
    from eval.report import write_json
    from eval.soak import SoakConfig, SoakError, run_soak
    from qa_service.settings import ServiceSettings

    load_inputs(questions, None)  # a malformed question file exits 2 before anything starts
    folder = (data_dir or ServiceSettings().data_dir).resolve()
    if not (folder / "index" / "CURRENT").exists():
        raise fail(f"no index in {folder / 'index'}: run `python -m ingest` first", EXIT_INPUT)
    config = SoakConfig(data_dir=folder, questions=load_question_texts(questions, None), requests=requests,
                        clients=clients, first_time=first_time, sample_every=sample_every, max_seconds=max_seconds,
                        progress=None if quiet else (lambda text: err.print(text, style="dim", highlight=False)),
                        partial_report=json_path)
    try:
        report = run_soak(config)
    except SoakError as exc:
        raise fail(f"soak: {exc}", EXIT_SYSTEM) from None
    write_json(json_path, report)
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
