"""Rendering reports: JSON, Markdown, the recall@k plot and the rich tables on stdout.

Only presentation lives here; every number comes from eval.metrics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

RETRIEVAL_COLUMNS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "hit@5", "hit@10")
COMPARE_COLUMNS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
# Header -> field of an "answers" summary (eval.nuggets._answers_summary).
ANSWERS_COLUMNS = {
    "questions": "n_with_nuggets",
    "nuggets": "n_nuggets",
    "recall": "nugget_recall",
    "complete": "complete_rate",
    "answered": "n_answered",
    "chars p50": "answer_chars_median",
    "chars p90": "answer_chars_p90",
    "cited": "n_cited",
    "gold cited": "gold_cited_share",
}


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _retrieval_rows(blocks: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    """One row per subset; subsets with nothing to score (e.g. out_of_scope) are left out."""
    return [
        [name, block.get("n"), *(block.get(c) for c in RETRIEVAL_COLUMNS)]
        for name, block in blocks.items()
        if block.get("n")
    ]


def _answers_rows(answers: Mapping[str, Any], category_prefix: str = "category ") -> list[list[list[Any]]]:
    """Row groups: all; each language; each category (subsets with no answerable question are absent)."""
    groups = [
        {"all": answers},
        answers.get("by_lang", {}),
        {f"{category_prefix}{name}": block for name, block in answers.get("by_category", {}).items()},
    ]
    return [
        [[name, *(_one_decimal(block.get(f)) for f in ANSWERS_COLUMNS.values())] for name, block in group.items()]
        for group in groups
        if group
    ]


def _one_decimal(value: Any) -> Any:
    """Character counts are medians of whole numbers: at most .5, shown as such."""
    return f"{value:.1f}" if isinstance(value, float) and value > 1 else value


def _incomplete_line(item: Mapping[str, Any]) -> str:
    missing = "; ".join(" / ".join(f"「{alt}」" for alt in nugget) for nugget in item["missing"])
    if item["refused"]:
        cited = "refused"
    else:
        cited = "; ".join(f"{c['key']} 「{c['quote']}」" for c in item["cited"]) or "nothing"
    where = ", ".join(x for x in (item.get("lang"), item.get("category")) if x)
    return (f"- `{item['id']}` ({where}) {item['question']} — missing {len(item['missing'])}/{item['n_nuggets']}: "
            f"{missing} — cited: {cited}")


def answers_markdown(answers: Mapping[str, Any]) -> list[str]:
    parts = [
        "## Answer content: key facts (nuggets), length, gold share of the citations",
        "",
        "A nugget is found when any of its alternatives occurs in the answer text or in a cited quote, "
        "whitespace ignored; a refused answerable question misses all its nuggets. Length: characters of "
        "the answer text, answered questions. Gold cited: share of the cited passages that match the gold.",
        "",
        "Questions: answerable questions with nuggets; answered and cited: answered answerable questions.",
        "",
        _md_table(["subset", *ANSWERS_COLUMNS], [row for group in _answers_rows(answers) for row in group]),
    ]
    if answers.get("without_answer_text"):
        parts += ["", f"Not scored for nuggets (no answer text in the saved results): {', '.join(answers['without_answer_text'])}"]
    return parts


def incomplete_markdown(answers: Mapping[str, Any]) -> list[str]:
    """Each question that misses a nugget: the missing nuggets, and the cited keys with each quote's start."""
    parts = [f"## Answers missing a nugget: {len(answers['incomplete'])}", ""]
    return parts + [_incomplete_line(item) for item in answers["incomplete"]]


def _category_rates_md(title: str, blocks: Mapping[str, Mapping[str, Any]], fields: Sequence[str]) -> list[str]:
    return ["", f"### {title}", "", _md_table(["category", *fields], [[name, *(b.get(f) for f in fields)] for name, b in blocks.items()])]


# -- run ----------------------------------------------------------------------


def run_markdown(report: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    retrieval, answer, abstention, latency = (
        report["retrieval"], report["answer"], report["abstention"], report["latency_ms"],
    )
    parts = [
        "# Evaluation report",
        "",
        "\n".join(f"- {k}: `{v}`" for k, v in meta.items()),
        "",
        f"{report['n_questions']} questions: {report['n_answerable_with_gold']} answerable with gold, "
        f"{retrieval['n_answerable_without_gold']} answerable without gold (not scored for retrieval), "
        f"{report['n_unanswerable']} unanswerable.",
        "",
        "## Retrieval (/v1/search, ranx)",
        "",
        _md_table(["subset", "n", *RETRIEVAL_COLUMNS], _retrieval_rows({"all": retrieval, **report["by_lang"]})),
    ]
    if "by_category" in retrieval:
        parts += ["", "### By category", "", _md_table(["category", "n", *RETRIEVAL_COLUMNS], _retrieval_rows(retrieval["by_category"]))]
    parts += [
        "",
        "## Answers (/v1/ask)",
        "",
        _md_table(
            ["metric", "value"],
            [
                ["cited_gold_rate", answer["cited_gold_rate"]],
                ["citation_verbatim_rate", answer["citation_verbatim_rate"]],
                ["answered_rate", answer["answered_rate"]],
                ["refused_rate (unanswerable)", abstention["refused_rate"]],
                ["citations checked", answer["n_citations"]],
            ],
        ),
    ]
    if "by_category" in answer:
        parts += _category_rates_md("Answers by category (answerable questions)", answer["by_category"],
                                    ("n_answerable", "answered_rate", "cited_gold_rate", "citation_verbatim_rate"))
    if "by_category" in abstention:
        parts += _category_rates_md("Abstention by category (unanswerable questions)", abstention["by_category"],
                                    ("n", "refused_rate"))
    if "answers" in report:
        parts += ["", *answers_markdown(report["answers"])]
    parts += [
        "",
        "## Latency (ms, client wall clock)",
        "",
        "/v1/ask is called first; /v1/search then reuses the service's cached query embedding.",
        "",
        _md_table(["call", "p50", "p95"], [
            ["search", latency["search_p50"], latency["search_p95"]],
            ["ask", latency["ask_p50"], latency["ask_p95"]],
        ]),
        "",
        f"## Retrieval failures (no gold in top 10): {len(report['failures'])}",
        "",
    ]
    parts += [
        f"- `{f['id']}` {f['question']} — gold {', '.join(f['gold'])}; got {', '.join(f['returned'][:3]) or 'nothing'} …"
        for f in report["failures"]
    ]
    if "answers" in report:
        parts += ["", *incomplete_markdown(report["answers"])]
    return "\n".join(parts) + "\n"


def run_table(report: Mapping[str, Any]) -> Table:
    table = Table(title=f"Retrieval over {report['n_answerable_with_gold']} answerable questions with gold")
    for column in ("subset", "n", *RETRIEVAL_COLUMNS):
        table.add_column(column, justify="left" if column == "subset" else "right")
    for row in _retrieval_rows({"all": report["retrieval"], **report["by_lang"]}):
        table.add_row(*(fmt(c) for c in row))
    return table


def category_table(report: Mapping[str, Any]) -> Table | None:
    """Retrieval per category, for question files that have categories."""
    rows = _retrieval_rows(report["retrieval"].get("by_category", {}))
    if not rows:
        return None
    table = Table(title="Retrieval by category")
    for column in ("category", "n", *RETRIEVAL_COLUMNS):
        table.add_column(column, justify="left" if column == "category" else "right")
    for row in rows:
        table.add_row(*(fmt(c) for c in row))
    return table


def answers_table(report: Mapping[str, Any]) -> Table:
    answers = report["answers"]
    table = Table(title=f"Answer content: key facts over {answers['n_with_nuggets']} questions with nuggets; "
                        f"{len(answers['incomplete'])} miss one")
    for column in ("subset", *ANSWERS_COLUMNS):
        table.add_column(column, justify="left" if column == "subset" else "right")
    for group in _answers_rows(answers, category_prefix=""):
        for row in group:
            table.add_row(*(fmt(c) for c in row))
        table.add_section()
    return table


def answer_table(report: Mapping[str, Any]) -> Table:
    answer, abstention, latency = report["answer"], report["abstention"], report["latency_ms"]
    table = Table(title="Answers, abstention, latency")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in [
        ("cited_gold_rate", answer["cited_gold_rate"]),
        ("citation_verbatim_rate", answer["citation_verbatim_rate"]),
        ("answered_rate", answer["answered_rate"]),
        (f"refused_rate ({abstention['n']} unanswerable)", abstention["refused_rate"]),
        ("answerable without gold (not scored)", report["retrieval"]["n_answerable_without_gold"]),
        ("failures (no gold in top 10)", len(report["failures"])),
        ("search p50 / p95 ms", f"{fmt(latency['search_p50'], 1)} / {fmt(latency['search_p95'], 1)}"),
        ("ask p50 / p95 ms", f"{fmt(latency['ask_p50'], 1)} / {fmt(latency['ask_p95'], 1)}"),
    ]:
        table.add_row(name, fmt(value))
    return table


# -- compare ------------------------------------------------------------------


def _compare_rows(systems: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    return [
        [name, *(s["retrieval"].get(c) for c in COMPARE_COLUMNS), s["by_lang"].get("en", {}).get("recall@10")]
        for name, s in systems.items()
    ]


COMPARE_HEADER = ("system", *COMPARE_COLUMNS, "en recall@10")


def compare_table(comparison: Mapping[str, Any]) -> Table:
    table = Table(title=f"Retrieval, {comparison['n_answerable_with_gold']} answerable questions with gold")
    for column in COMPARE_HEADER:
        table.add_column(column, justify="left" if column == "system" else "right")
    for row in _compare_rows(comparison["systems"]):
        table.add_row(*(fmt(c) for c in row))
    return table


def compare_markdown(comparison: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    systems = comparison["systems"]
    parts = [
        "# Retrieval: the service beside baselines",
        "",
        "\n".join(f"- {k}: `{v}`" for k, v in meta.items()),
        "",
        _md_table(COMPARE_HEADER, _compare_rows(systems)),
    ]
    for name, system in systems.items():
        parts += [
            "",
            f"## {name}",
            "",
            system.get("description", ""),
            "",
            _md_table(["subset", "n", *RETRIEVAL_COLUMNS], _retrieval_rows({"all": system["retrieval"], **system["by_lang"]})),
        ]
    langs = sorted({lang for s in systems.values() for lang in s["by_lang"]})
    parts += ["", "## By language", ""]
    parts.append(_md_table(
        ["system", "lang", "n", *RETRIEVAL_COLUMNS],
        [[name, lang, *_retrieval_rows({"": s["by_lang"][lang]})[0][1:]] for lang in langs for name, s in systems.items() if lang in s["by_lang"]],
    ))
    if comparison.get("significance"):
        sig = comparison["significance"]
        parts += [
            "",
            f"## Significance (ranx.compare, paired {sig['stat_test']} t-test, p < {sig['max_p']})",
            "",
            "A superscript letter marks a significant improvement over the system with that letter.",
            "",
            "```",
            sig["table"],
            "```",
        ]
    return "\n".join(parts) + "\n"


# -- plot ---------------------------------------------------------------------


def plot_recall_curves(path: Path, curves: Mapping[str, Sequence[float | None]], title: str) -> None:
    """recall@k for k = 1..len(curve), one line per system (or subset)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in tests
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, curve in curves.items():
        ks = [k for k, v in enumerate(curve, start=1) if v is not None]
        ax.plot(ks, [v for v in curve if v is not None], marker="o", label=name)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1)
    ax.set_xticks(range(1, max((len(c) for c in curves.values()), default=1) + 1))
    ax.grid(True, alpha=0.3)
    ax.set_title(title)
    ax.legend(loc="lower right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
