"""The table `python -m eval bench` prints from its report."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} MiB"


def _mark(report: dict[str, Any], key: str) -> str:
    met = report["targets"].get(key, {}).get("met")
    return "" if met is None else ("[green]met[/]" if met else "[red]missed[/]")


def _target(report: dict[str, Any], key: str) -> str:
    target = report["targets"].get(key, {}).get("target", "")
    return target.replace("<=", "≤").replace(">=", "≥")


def bench_table(report: dict[str, Any]) -> Table:
    meta, details = report["meta"], report.get("details", {})
    table = Table(
        title=f"python -m eval bench{' --quick' if meta['quick'] else ''} — {meta['date']}, {meta['cpus']} CPUs, "
              f"load average {meta['load_average_start'][0]:.1f}→{meta['load_average_end'][0]:.1f}, "
              f"{meta.get('questions', '?')} questions",
        title_justify="left",
    )
    for name, justify in (("measure", "left"), ("value", "right"), ("target", "right"), ("", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    lat = details.get("latency", {})

    def row(label: str, value: str, target: str = "", key: str | None = None) -> None:
        table.add_row(label, value, _target(report, key) if key else target, _mark(report, key) if key else "")

    row(f"query embedding p50 (USE + e5 on {meta.get('e5_backend', '?')}, in process)",
        _ms(report["embed_query_p50_ms"]))
    row("  USE / e5 onnxruntime / e5 PyTorch",
        f"{_ms(report['embed_use_p50_ms'])} / {_ms(report['embed_e5_onnx_p50_ms'])} / "
        f"{_ms(report['embed_e5_torch_p50_ms'])}")
    row("  e5 PyTorch / e5 onnxruntime", _x(report["e5_torch_onnx_ratio"]))
    row("naive LangChain p50 (in process, USE, one Chroma query)", _ms(report["naive_p50_ms"]))
    row("/v1/search p50 / p95, first-time questions",
        f"{_ms(report['search_p50_ms'])} / {_ms(report['search_p95_ms'])}")
    row("/v1/ask p50 / p95, first-time questions", f"{_ms(report['ask_p50_ms'])} / {_ms(report['ask_p95_ms'])}")
    row("/v1/search, /v1/ask p50, cached embedding (repeat)",
        f"{_ms(report['search_warm_p50_ms'])}, {_ms(report['ask_warm_p50_ms'])}")
    if "search_engine" in lat:
        row("  of which inside the engine (took_ms p50), search / ask",
            f"{_ms(lat['search_engine']['p50_ms'])} / {_ms(lat['ask_engine']['p50_ms'])}")
    row("search / naive = search p50 / naive p50", _x(report["search_naive_ratio"]), key="search_naive_ratio")
    row("ask / naive = ask p50 / naive p50", _x(report["ask_naive_ratio"]), key="ask_naive_ratio")
    row("search ratio = search p50 / embedding p50", _x(report["search_ratio"]), key="search_ratio")
    row("ask ratio = ask p50 / embedding p50", _x(report["ask_ratio"]), key="ask_ratio")
    table.add_section()
    startup = details.get("startup", {})
    row(f"start to /readyz 200, e5 on {meta.get('e5_backend', '?')} (median of {startup.get('rounds', '?')})",
        _s(report["startup_seconds"]))
    row("  e5 on PyTorch / bare `import sentence_transformers`",
        f"{_s(report['startup_torch_seconds'])} / {_s(report['import_sentence_transformers_seconds'])}")
    row("start-up ratio = start to ready / import sentence_transformers", _x(report["startup_ratio"]),
        key="startup_ratio")
    row("service memory (RSS) at ready", _mb(report["rss_after_start_mb"]), key="rss_after_start_mb")
    row("  e5 on PyTorch", _mb(report["rss_after_start_torch_mb"]))
    table.add_section()
    ingest = details.get("ingest", {})
    row(f"full ingest ({ingest.get('passages', '?')} passages, {ingest.get('sentences', '?')} sentences)",
        f"{report['ingest_seconds']} s" if report["ingest_seconds"] is not None else "–")
    row("embedding alone (same passages and sentences)",
        f"{report['embed_only_seconds']} s" if report["embed_only_seconds"] is not None else "–")
    row("ingest ratio = full ingest / embedding alone", _x(report["ingest_ratio"]), key="ingest_ratio")
    if ingest.get("ingest_cpu_ratio") is not None:
        row("  same ratio in CPU seconds", _x(ingest["ingest_cpu_ratio"]))
    row("unchanged re-ingest", f"{report['reingest_seconds']} s" if report["reingest_seconds"] is not None else "–")
    row("re-ingest ratio = re-ingest / full ingest", _x(report["reingest_ratio"]), key="reingest_ratio")
    table.add_section()
    runs = details.get("throughput") or {}
    for i, run in enumerate(runs.values()):
        row(f"throughput, {run['users']} clients, {run['seconds']:.0f} s, first-time questions",
            f"{run['rps']:.1f} req/s", key="throughput_rps" if i == 0 else None)
        row("  latency p50 / p95 under load", f"{_ms(run['p50_ms'])} / {_ms(run['p95_ms'])}")
        if run.get("service_cpu_ms_per_request") is not None:
            row("  service CPU per request, service's share of the cores",
                f"{_ms(run['service_cpu_ms_per_request'])}, {run['service_cpu_share']:.2f}")
    if runs:
        row("  failed requests", str(report["throughput_errors"]), key="throughput_errors")
    chroma = details.get("chroma_server", {})
    row(f"/v1/search p50 via `chroma run` (rankings equal: {chroma.get('same_rankings', '?')})",
        _ms(report["chroma_server_search_p50_ms"]))
    row("  chroma-server p50 / embedded p50", _x(report["chroma_server_ratio"]))
    if "search_warm" in lat:
        row("  warm: embedded vs chroma server",
            f"{_ms(lat['search_warm']['p50_ms'])} vs {_ms(lat['chroma_warm']['p50_ms'])}")
    table.add_section()
    for label, size in (report.get("scaling") or {}).items():
        name = "the corpus" if label == "corpus" else "synthetic"
        row(f"[bold]{size['passages']} passages[/] ({name})", f"RSS {size['rss_mb_after'] or 0:.0f} MiB")
        row("  /v1/search p50 cold / warm / warm+filter",
            f"{_ms(size['search_cold']['p50_ms'])} / {_ms(size['search_warm']['p50_ms'])} / "
            f"{_ms(size['search_warm_filtered']['p50_ms'])}")
        row("  dense / +filter, lexical / +filter (p50)",
            f"{_ms(size['dense']['p50_ms'])} / {_ms(size['dense_filtered']['p50_ms'])}, "
            f"{_ms(size['lexical']['p50_ms'])} / {_ms(size['lexical_filtered']['p50_ms'])}")
    ratios = details.get("scaling_ratios")
    if ratios:
        row(f"scaling ratio: /v1/search p50 {ratios['sizes']} passages", _x(report["scaling_ratio"]),
            key="scaling_ratio")
        row("  warm, dense, lexical",
            f"{_x(ratios['search_warm'])}, {_x(ratios['dense'])}, {_x(ratios['lexical'])}")
    elif report.get("meta", {}).get("quick"):
        row("scaling corpora", "skipped (--quick)")
    at = details.get("filter_ratios_at", "corpus")
    row(f"filter ratio, Chroma dense ({at})", _x(report["filter_ratio"]), key="filter_ratio")
    row(f"filter ratio, /v1/search ({at})", _x(report["service_filter_ratio"]), key="service_filter_ratio")
    return table
