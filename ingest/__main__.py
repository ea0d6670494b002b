"""`python -m ingest`: build or refresh the index from the corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from corpus import CorpusError

app = typer.Typer(add_completion=False, help="Build the search index (Chroma + BM25) from the corpus.")
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"ingest {version('social-insurance-qa')}")
        raise typer.Exit()


@app.command()
def main(
    corpus_dir: Annotated[Optional[Path], typer.Option(help="Corpus folder with manifest.json (default: the bundled corpus/).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(help="Where the index is kept (default: ./data).")] = None,
    chroma_url: Annotated[Optional[str], typer.Option(help="Chroma server URL, e.g. http://127.0.0.1:8001; embedded Chroma when omitted.")] = None,
    embedders: Annotated[Optional[str], typer.Option(help="Comma-separated dense models: use,e5.")] = None,
    passage_questions: Annotated[Optional[Path], typer.Option(help="Questions each passage answers, JSONL (default: ingest/passage_questions.jsonl).")] = None,
    renderings: Annotated[Optional[Path], typer.Option(help="Renderings of the sentences into the other language, JSONL (default: ingest/renderings.jsonl).")] = None,
    check_models: Annotated[bool, typer.Option("--check-models", help="Hash every model file against its manifest, rebuild what does not match, and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Parse the corpus, embed new or changed passages, and switch the index atomically.

    Re-running on an unchanged corpus does nothing; a malformed document stops
    the run with a message naming file and line, and the previous index keeps serving.
    """
    from pydantic import ValidationError

    from ingest.build import IngestBusy, run_ingest
    from ingest.settings import IndexSettings

    overrides = {
        k: v
        for k, v in {
            "corpus_dir": corpus_dir,
            "data_dir": data_dir,
            "chroma_url": chroma_url,
            "embedders": embedders.split(",") if embedders else None,
            "passage_questions": passage_questions,
            "renderings": renderings,
        }.items()
        if v is not None
    }
    try:
        settings = IndexSettings(**overrides)
        if check_models:
            from ingest.e5_setup import check_all

            for backend, folder in check_all(settings.models_dir).items():
                typer.echo(f"e5 ({backend}): {folder} verified")
            return
        report = run_ingest(settings, progress=not quiet)
    except (CorpusError, ValidationError, IngestBusy, ValueError) as exc:
        message = str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else exc.errors()[0]["msg"]
        err.print(f"[bold red]error:[/] {message}", highlight=False)
        raise typer.Exit(2) from None
    typer.echo(report.summary())


if __name__ == "__main__":
    app()
