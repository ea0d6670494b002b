"""`python -m qa_service`: serve the API and page, or answer one question in the terminal."""

from __future__ import annotations

from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, help="Social-insurance question answering with verbatim citations.")
out = Console()
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"qa_service {version('social-insurance-qa')}")
        raise typer.Exit()


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from qa_service.settings import ServiceSettings

    try:
        return ServiceSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        err.print(f"[bold red]error:[/] {'.'.join(map(str, first['loc']))}: {first['msg']}", highlight=False)
        raise typer.Exit(2) from None


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    """Without a command: serve on the embedded defaults (same as `serve`)."""
    if ctx.invoked_subcommand is None:
        serve()


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    data_dir: Annotated[Optional[str], typer.Option(help="Index folder (default ./data).")] = None,
    chroma_url: Annotated[Optional[str], typer.Option(help="Chroma server URL; embedded Chroma when omitted.")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the HTTP API (/v1/ask, /v1/search, /v1/articles, /docs) and the page at /."""
    import uvicorn

    from qa_service.app import create_app
    from qa_service.edge import guarded_protocol
    from qa_service.observability import configure_logging

    settings = _settings(host=host, port=port, data_dir=data_dir, chroma_url=chroma_url)
    # uvicorn's own records (start-up, framing errors) go through the service's formatter too
    configure_logging(settings.log_format, settings.log_level)
    # the service writes its own JSON access log (qa_service.observability)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level=log_level, access_log=False,
        log_config=None, http=guarded_protocol(settings.max_header_bytes, settings.max_headers),
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Chinese or English.")],
    data_dir: Annotated[Optional[str], typer.Option(help="Index folder (default ./data).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the raw JSON response.")] = False,
) -> None:
    """Answer one question in the terminal, with its citations."""
    from ingest.live import IndexMissing
    from qa_service.engine import QAEngine
    from qa_service.errors import BadQuestion
    from qa_service.routes.qa import check_text
    from qa_service.schemas import AskRequest

    settings = _settings(data_dir=data_dir)
    try:
        check_text(question, settings, "question")
        engine = QAEngine.load(settings)
        response = engine.ask(AskRequest(question=question))
    except (BadQuestion, IndexMissing) as exc:
        _fail(str(exc))
    except Exception as exc:  # Chroma down, its data gone, an index it cannot read: one line, not a traceback
        _fail(_unavailable(exc, settings))
    if json_output:
        typer.echo(response.model_dump_json(indent=2))
        return
    style = "yellow" if response.refused else "green"
    out.print(response.answer, style=style, highlight=False)
    for citation in response.citations:
        where = f"第{citation.article}条" if citation.article else citation.section
        out.print(f"[{citation.marker}] {citation.key}  {citation.title} {where}  (chars {citation.start}–{citation.end})", style="dim", highlight=False)
    for item in response.see_also:
        out.print(f"see also: {item.key}  {item.title}", style="dim", highlight=False)


def _fail(message: str) -> NoReturn:
    from rich.markup import escape

    lines = message.splitlines()
    err.print(f"[bold red]error:[/] {escape(lines[0] if lines else message)}", highlight=False)
    raise typer.Exit(2)


def _unavailable(exc: BaseException, settings) -> str:  # type: ignore[no-untyped-def]
    from qa_service.errors import is_backend_failure, is_missing_collection

    where = f"Chroma at {settings.chroma_url}" if settings.chroma_url else f"the embedded Chroma in {settings.chroma_dir}"
    detail = f"{type(exc).__name__}: {str(exc).splitlines()[0]}" if str(exc) else type(exc).__name__
    if is_missing_collection(exc):
        return f"the index's collections are missing from {where} (was its data reset?); run `python -m ingest` ({detail})"
    if is_backend_failure(exc):
        return f"{where} is unreachable ({detail})"
    return f"could not answer from the index in {settings.index_dir} ({detail})"


if __name__ == "__main__":
    app()
