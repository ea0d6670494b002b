"""The latency part of `python -m eval bench`: three services (two on embedded
Chroma, one on a `chroma run` server) and, question by question in one
interleaved pass, the query embedding of every model and e5 backend in
process, the naive LangChain pipeline in process, and /v1/search and /v1/ask
over HTTP, so that every ratio compares figures taken under the same load."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.bench_http import SERVER_TIMEOUT_S, TOP_K, WARM_UP_TEXTS, Client, start_all
from eval.bench_ingest import copy_to_chroma_server
from eval.servers import Process, chroma_server, bench_service
from eval.bench_stats import BenchError, summary, timed_ms
from ingest.embedders import Embedder
from ingest.settings import IndexSettings


def link_models(data_dir: Path, models_dir: Path) -> None:
    """Converted e5 weights are shared, not converted again per data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "models"
    if models_dir.is_dir() and not link.exists():
        link.symlink_to(models_dir.resolve(), target_is_directory=True)


@dataclass
class Rig:
    """The services of the latency part, started together."""

    chroma: Process
    servers: dict[str, Process]  # "search", "ask": embedded Chroma; "chroma": the `chroma run` server
    clients: dict[str, Client]
    rss_ready_mb: float | None


def start_rig(stack: ExitStack, work: Path, local: IndexSettings, models_dir: Path, embedders: list[Embedder],
              while_starting: Callable[[], object]) -> Rig:
    """`chroma run` holding the same index, then three services: /v1/search and
    /v1/ask each get their own (so each sees every question for the first time),
    and one uses the Chroma server. `while_starting` runs while they load."""
    chroma = chroma_server(work / "chroma-server", work)
    stack.callback(chroma.stop)
    start_all([chroma])
    remote = local.model_copy(update={"data_dir": work / "index-chroma-server", "chroma_url": chroma.url})
    link_models(remote.data_dir, models_dir)
    details = copy_to_chroma_server(local, remote, embedders)
    if details["recomputed_vectors"]:
        raise BenchError(f"the Chroma-server index was not built from the same vectors: {details}")
    servers = {
        "search": bench_service("service-search", local.data_dir, work),
        "ask": bench_service("service-ask", local.data_dir, work),
        "chroma": bench_service("service-chroma-server", remote.data_dir, work, chroma_url=chroma.url),
    }
    for server in servers.values():
        stack.callback(server.stop)
        server.start()
    while_starting()
    for server in servers.values():
        server.wait_ready(SERVER_TIMEOUT_S)
    clients = {name: Client(server) for name, server in servers.items()}
    for client in clients.values():
        stack.callback(client.close)
        client.warm_up()
    return Rig(chroma, servers, clients, servers["search"].rss_mb())


def embed_label(embedder: Embedder) -> str:
    """"use", "e5_onnx", "e5_torch": a model, and for e5 its backend."""
    backend = getattr(embedder, "backend", None)
    return embedder.name if backend is None else f"{embedder.name}_{backend.value}"


def latency_passes(
    rig: Rig,
    texts: list[str],
    serving: list[Embedder],
    extra: list[Embedder],
    naive: Callable[[str], object],
    doc_filter: dict[str, list[str]],
) -> dict[str, Any]:
    """Question by question: each model's (and e5 backend's) query embedding in
    process (`serving`: what the services run, summed as "embed"; `extra`: other
    backends, for comparison), the naive pipeline in process, then /v1/search,
    /v1/ask and /v1/search via the Chroma server, each a first-time question for
    its service; then the same again (cache hits) plus /v1/search with a filter."""
    every = [*serving, *extra]
    for embedder in every:
        for text in WARM_UP_TEXTS:
            embedder.encode([text], is_query=True)
    for text in WARM_UP_TEXTS:
        naive(text)
    search, ask, remote = rig.clients["search"], rig.clients["ask"], rig.clients["chroma"]
    labels = [embed_label(e) for e in every]
    samples: dict[str, list[float]] = {k: [] for k in (
        "embed", *(f"embed_{label}" for label in labels), "naive", "search", "ask", "chroma",
        "search_engine", "ask_engine", "search_warm", "ask_warm", "chroma_warm", "search_warm_filtered")}
    same_rankings = 0

    def embed(text: str) -> None:
        total = 0.0
        # alternate the order so that neither model always runs first
        order = list(zip(labels, every, strict=True))
        for label, embedder in order if len(samples["embed"]) % 2 == 0 else order[::-1]:
            ms = timed_ms(lambda e=embedder: e.encode([text], is_query=True))[1]
            samples[f"embed_{label}"].append(ms)
            if embedder in serving:
                total += ms
        samples["embed"].append(total)

    for text in texts:
        embed(text)
        samples["naive"].append(timed_ms(lambda: naive(text))[1])
        keys, ms = search.search(text)
        samples["search"].append(ms)
        samples["search_engine"].append(search.last_took_ms)
        samples["ask"].append(ask.ask(text))
        samples["ask_engine"].append(ask.last_took_ms)
        remote_keys, ms = remote.search(text)
        samples["chroma"].append(ms)
        same_rankings += keys == remote_keys
    for text in texts:
        embed(text)
        samples["search_warm"].append(search.search(text)[1])
        samples["ask_warm"].append(ask.ask(text))
        samples["chroma_warm"].append(remote.search(text)[1])
        samples["search_warm_filtered"].append(search.search(text, doc_filter)[1])
    latency = {name: summary([v for v in values if v is not None]) for name, values in samples.items()}
    latency["same_rankings_chroma_server"] = f"{same_rankings}/{len(texts)}"
    latency["top_k"] = TOP_K
    return latency
