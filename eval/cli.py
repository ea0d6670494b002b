"""The frame of `python -m eval`: the Typer app, its consoles and exit codes, the
options several commands share, and the failure and input-loading steps every
command starts with. The commands live in eval.cli_run (run, score),
eval.cli_compare (compare) and eval.cli_bench (bench, soak); eval.__main__
registers them in that order.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
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


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def load_inputs(questions_path: Path, corpus_dir: Path | None) -> tuple[Any, list[Any]]:
    """Corpus and questions, validated before any model loads; bad input exits 2."""
    from corpus import DEFAULT_CORPUS_DIR, CorpusError, load_corpus
    from eval.questions import QuestionFileError, load_questions

    try:
        corpus = load_corpus(corpus_dir or DEFAULT_CORPUS_DIR)
        return corpus, load_questions(questions_path, corpus)
    except (QuestionFileError, CorpusError) as exc:
        raise fail(str(exc), EXIT_INPUT) from None


def write_outputs(
    report_json: Path | None, data: Mapping[str, Any], report_md: Path | None, markdown: Callable[[], str],
    plot: Path | None, curves: Callable[[], dict[str, list[float | None]]], plot_title: str,
) -> None:
    """The JSON report, the Markdown report and the recall@k plot that a command
    was asked for, each named on stdout once written; the Markdown text and the
    curves are computed only when asked for."""
    from eval.report import plot_recall_curves, write_json, write_text

    if report_json:
        write_json(report_json, data)
        out.print(f"JSON report: {report_json}")
    if report_md:
        write_text(report_md, markdown())
        out.print(f"Markdown report: {report_md}")
    if plot:
        plot_recall_curves(plot, curves(), plot_title)
        out.print(f"Plot: {plot}")
