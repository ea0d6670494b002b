"""`python -m qa_service`: serve the API and page, or answer one question in the terminal."""

from __future__ import annotations

from pathlib import Path
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
    from qa_service.logs import configure_logging

    settings = _settings(host=host, port=port, data_dir=data_dir, chroma_url=chroma_url)
    # uvicorn's own records (start-up, framing errors) go through the service's formatter too
    configure_logging(settings.log_format, settings.log_level)
    # the service writes its own JSON access log (qa_service.request_context)
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


@app.command("fit-scope")
def fit_scope(
    questions: Annotated[Optional[Path], typer.Option(help="The labelled scope set (default qa_service/scope_questions.jsonl).")] = None,
    data_dir: Annotated[Optional[str], typer.Option(help="Index folder (default ./data).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Fit again even when a model for this index and scope set exists.")] = False,
    out: Annotated[Optional[Path], typer.Option(help="Also write the model here (e.g. qa_service/scope_model.json).")] = None,
    report_json: Annotated[Optional[Path], typer.Option(help="Write the figures and the test part's mistakes here.")] = None,
) -> None:
    """Fit the scope classifier (answer or refuse) on the scope set for the live index; cached per index version."""
    import json
    import shutil

    from corpus import CorpusError, load_corpus
    from ingest.live import IndexMissing
    from ingest.version import current_build_id
    from qa_service import scope
    from qa_service.scope_fit import ScopeFileError, fit, load_scope_questions

    settings = _settings(data_dir=data_dir)
    path = questions or settings.scope_questions
    try:
        corpus = load_corpus(settings.corpus_dir)
        keys = {p.key for p in corpus.passages} | set(corpus.manifest.doc_ids)
        labelled = load_scope_questions(path, keys)
        build_id = current_build_id(settings.index_dir)
        if build_id is None:
            raise IndexMissing(f"no index in {settings.index_dir}: run `python -m ingest` first")
    except (ScopeFileError, IndexMissing, CorpusError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    sha = scope.inputs_sha256(path)
    cached = scope.cache_path(settings.data_dir, build_id, sha)
    if not force:
        ready = cached if cached.is_file() else None
        if ready is None and scope.BUNDLED_MODEL.is_file():
            try:
                bundled = scope.ScopeModel.load(scope.BUNDLED_MODEL)
            except scope.ScopeModelError:
                bundled = None  # fitted by an older version: fit again
            if bundled is not None and (bundled.index_version, bundled.inputs_sha256) == (build_id, sha):
                ready = scope.BUNDLED_MODEL
        if ready is not None:
            if out is not None and out.resolve() != ready.resolve():
                shutil.copyfile(ready, out)
            out_msg = f" ({ready})"
            typer.echo(f"scope model up to date for index {build_id}{out_msg}")
            return
    from qa_service.engine import QAEngine

    try:
        engine = QAEngine.load(settings)
        index = engine.index
    except IndexMissing as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    from qa_service.scope_fit import compute_signals

    def embed(texts: list[str]):  # type: ignore[no-untyped-def]
        return {name: e.encode(texts, is_query=True) for name, e in engine.embedders.items()}

    rows = compute_signals(labelled, index, embed, engine.retriever.parser.parse)
    result = fit(labelled, rows, index.build_id, sha)
    text = json.dumps(result.model, ensure_ascii=False, indent=1) + "\n"
    cached.parent.mkdir(parents=True, exist_ok=True)
    staging = cached.with_suffix(".tmp")
    staging.write_text(text, encoding="utf-8")
    staging.replace(cached)
    if out is not None:
        out.write_text(text, encoding="utf-8")
    if report_json is not None:
        report_json.write_text(json.dumps({"figures": result.model["figures"], "C": result.model["C"],
                                           "threshold": result.model["threshold"], "test_mistakes": result.test_mistakes},
                                          ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for part, figures in (("cross-validated (training part)", result.cv), ("test part", result.test)):
        for lang in ("zh", "en", "all"):
            f = figures[lang]
            typer.echo(f"{part:32} {lang:3}  in scope answered {f['in_scope_answered']:.3f} (n={f['n_in_scope']})"
                       f"  out of scope refused {f['out_of_scope_refused']:.3f} (n={f['n_out_of_scope']})")
    typer.echo(f"C={result.model['C']} threshold={result.model['threshold']}: wrote {cached}")


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
