"""Links between articles, built once at ingest with the shared reference parser:
an article that cites another ("依照本法第六十三条", "社会保险法第十五条规定的") and,
the other way, the articles that cite it."""

from __future__ import annotations

from corpus import Passage, ReferenceParser


def build_links(passages: list[Passage], parser: ReferenceParser) -> dict[str, dict[str, list[str]]]:
    keys = {p.key for p in passages}
    refers_to: dict[str, list[str]] = {p.key: [] for p in passages}
    referred_by: dict[str, list[str]] = {p.key: [] for p in passages}
    for passage in passages:
        if passage.article is None:
            continue
        for ref in parser.parse(passage.text, context_doc=passage.doc_id):
            target = ref.key
            # the passage's own heading "第十九条" parses as a reference to itself
            if target is None or target == passage.key or target not in keys:
                continue
            if target not in refers_to[passage.key]:
                refers_to[passage.key].append(target)
                referred_by[target].append(passage.key)
    return {
        key: {"refers_to": refers_to[key], "referred_by": referred_by[key]}
        for key in refers_to
    }
