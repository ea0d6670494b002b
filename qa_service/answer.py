"""Extractive answers: citations built from the chosen quotes (`qa_service.quotes`)
and the answer text composed from them. This is the one place that builds
citations: every quote is verbatim at its offsets in the source file, and
carries the project's unofficial rendering when the asker reads the other language.
"""

from __future__ import annotations

import re

from corpus import Passage
from corpus.guidance import section_title
from corpus.numerals import to_chinese
from ingest.live import LiveIndex
from ingest.renderings import sentence_hash
from qa_service.quotes import Quote, select_quotes
from qa_service.restatement import KIND_RANK, precedence
from qa_service.situation import Situation, parse_situation
from qa_service.retrieval import Hit
from qa_service.schemas import Citation, Rendering, SeeAlso

__all__ = ["build_citations", "compose_answer", "passage_fields", "see_also", "select_quotes", "source_label"]

# Which document prevails when two state the same rule differently: the higher
# kind of legal source, then the later one (manifest `kind` and `effective`).
KIND_NAMES = {
    "law": ("法律", "a law"),
    "administrative regulation": ("行政法规", "an administrative regulation"),
    "departmental rule": ("部门规章", "a departmental rule"),
    "normative document": ("规范性文件", "a normative document"),
    "guidance": ("指引", "guidance"),
}


# The state's name, left out of a title named again (《社会保险法》, the Social
# Insurance Law), as Chinese and English legal writing do after the first mention.
STATE_NAME = {"zh": re.compile(r"中华人民共和国"), "en": re.compile(r"\s+of the People's Republic of China\b")}


def source_label(passage: Passage, lang: str, named_before: bool = False, same_as_before: bool = False) -> str:
    """How the answer text names a passage: the English title and article number
    for English questions, even when the quoted law is Chinese; a document the
    answer has already named in full, by its short title; the next article of the
    document the block above quotes, by its number alone (第十九条 / Article 19)."""
    if same_as_before and passage.article is not None:
        return f"第{to_chinese(passage.article)}条" if lang == "zh" else f"Article {passage.article}"
    if lang == "zh":
        title = passage.title.replace("《", "〈").replace("》", "〉")  # a title inside 《》 nests as 〈〉
        title = STATE_NAME["zh"].sub("", title) if named_before else title
        if passage.article is not None:
            return f"《{title}》第{to_chinese(passage.article)}条"
        return f"《{title}》（{section_title(passage.section or '')}）"
    title_en = STATE_NAME["en"].sub("", passage.title_en) if named_before else passage.title_en
    if passage.article is not None:
        return f"Article {passage.article} of the {title_en}"
    return f"“{title_en}” ({section_title(passage.section or '')})"


def rendering_of(quote: Quote, index: LiveIndex, lang: str) -> Rendering | None:
    """The project's rendering of the quote into the asker's language, when the
    quote is in the other one and every sentence of it has a rendering."""
    if quote.passage.lang == lang or not quote.sentences:
        return None
    parts = [index.renderings.get(sentence_hash(s.text)) for s in quote.sentences]
    if any(p is None or p["lang"] != lang for p in parts):
        return None
    joiner = "" if lang == "zh" else " "
    return Rendering(lang=lang, text=joiner.join(p["text"] for p in parts if p))


def build_citations(quotes: list[Quote], index: LiveIndex, lang: str = "zh") -> list[Citation]:
    """Citations whose quote is verbatim at its offsets in the source file; others are dropped."""
    citations: list[Citation] = []
    for quote in quotes:
        passage = quote.passage
        text = index.source_text(passage)[quote.start : quote.end]
        if not text or not (passage.start <= quote.start < quote.end <= passage.end):
            continue
        # the file the version was built from and the indexed passage must agree at these offsets
        if passage.text[quote.start - passage.start : quote.end - passage.start] != text:
            continue
        citations.append(
            Citation(
                **passage_fields(passage),
                marker=len(citations) + 1,
                doc_id=passage.doc_id,
                quote=text,
                start=quote.start,
                end=quote.end,
                file=passage.file,
                score=round(quote.score, 4),
                role=quote.role,
                restates=quote.restates,
                rendering=rendering_of(quote, index, lang),
            )
        )
    return citations


def _quoted(citation: Citation, lang: str, with_rendering: bool) -> str:
    if lang == "zh":
        body = f"{citation.quote}[{citation.marker}]"
        if with_rendering and citation.rendering:
            body += f"（参考译文：{citation.rendering.text}）"
        return body
    body = f"“{citation.quote}” [{citation.marker}]"
    if with_rendering and citation.rendering:
        body += f" (unofficial translation: “{citation.rendering.text}”)"
    return body


def compose_answer(
    citations: list[Citation],
    passages: dict[str, Passage],
    lang: str,
    question: str = "",
    index: LiveIndex | None = None,
) -> str:
    """One block per cited passage: its name, then its quotes with their markers.
    The guidance's steps become a numbered list; a tiered rule names the tier
    that fits the asker; two documents stating one rule differently get a line
    on which prevails."""
    if citations and all(c.role in ("step", "basis") for c in citations):
        return _compose_steps(citations, passages, lang)
    situation = parse_situation(question)
    lines: list[str] = []
    by_key: dict[str, list[Citation]] = {}
    for citation in citations:
        by_key.setdefault(citation.key, []).append(citation)
    named: set[str] = set()
    previous: str | None = None
    for key, group in by_key.items():
        doc_id = passages[key].doc_id
        label = source_label(passages[key], lang, named_before=doc_id in named, same_as_before=doc_id == previous)
        named.add(doc_id)
        parts = []
        for citation in group:
            quoted = _quoted(citation, lang, with_rendering=False)
            if citation.role == "applies":
                quoted = (f"按您所述（{situation.describe(lang)}），适用：" if lang == "zh" else f"for your situation ({situation.describe(lang)}): ") + quoted
            elif citation.role == "other-tiers":
                quoted = ("其他情形：" if lang == "zh" else "other cases: ") + quoted
            parts.append(quoted)
        lead = "根据" if lang == "zh" and doc_id != previous else ""
        previous = doc_id
        if lang == "zh":
            lines.append(f"{lead}{label}：" + "".join(parts))
        else:
            lines.append(f"{label}: " + " ".join(parts))
    note = prevailing_note(citations, passages, index, lang)
    if note:
        lines.append(note)
    return "\n".join(lines)


def _compose_steps(citations: list[Citation], passages: dict[str, Passage], lang: str) -> str:
    first = passages[citations[0].key]
    title = first.title if lang == "zh" and first.lang == "zh" else first.title_en
    head = f"办理步骤（依据《{title}》，英文原文附参考译文）：" if lang == "zh" else f"The steps, from “{title}”:"
    lines = [head]
    for citation in citations:
        if citation.role == "basis":
            lines.append(("依据：" if lang == "zh" else "Legal basis: ") + _quoted(citation, lang, with_rendering=lang == "zh"))
        else:
            lines.append(_quoted(citation, lang, with_rendering=lang == "zh"))
    return "\n".join(lines)


def prevailing_note(citations: list[Citation], passages: dict[str, Passage], index: LiveIndex | None, lang: str) -> str | None:
    """When two documents state the same rule with different figures, say which
    prevails: the higher kind of source, then the later — from the manifest,
    never per article."""
    if index is None:
        return None
    docs = {d.doc_id: d for d in index.manifest.documents}
    pairs = {(passages[c.restates].doc_id, passages[c.key].doc_id) for c in citations if c.restates in passages}
    notes = []
    for a, b in sorted(pairs):
        if a == b or a not in docs or b not in docs:
            continue
        top, low = sorted((docs[a], docs[b]), key=precedence)
        if lang == "zh":
            why = "上位法优先" if KIND_RANK.get(top.kind, 9) < KIND_RANK.get(low.kind, 9) else "新的规定优先"
            notes.append(
                f"注：《{low.title}》（{KIND_NAMES[low.kind][0]}，{_year(low.effective) or '—'}年施行）与"
                f"《{top.title}》（{KIND_NAMES[top.kind][0]}，{_year(top.effective) or '—'}年施行）规定不一致的，"
                f"以《{top.title}》为准（{why}）。"
            )
        else:
            why = "a higher source of law prevails" if KIND_RANK.get(top.kind, 9) < KIND_RANK.get(low.kind, 9) else "the later rule prevails"
            notes.append(
                f"Note: where the {low.title_en} ({KIND_NAMES[low.kind][1]}, in force {_year(low.effective) or '—'}) "
                f"differs from the {top.title_en} ({KIND_NAMES[top.kind][1]}, in force {_year(top.effective) or '—'}), "
                f"the {top.title_en} prevails ({why})."
            )
    return "\n".join(notes) or None


def _year(date: str | None) -> int:
    return int(date[:4]) if date else 0


def passage_fields(passage: Passage) -> dict[str, object]:
    """The fields every response names a passage by."""
    return {
        "key": passage.key,
        "title": passage.title,
        "title_en": passage.title_en,
        "article": passage.article,
        "chapter": passage.chapter,
        "section": passage.section,
    }


def see_also(hits: list[Hit], n: int = 3) -> list[SeeAlso]:
    return [SeeAlso(**passage_fields(h.passage), score=round(h.score, 4)) for h in hits[:n]]


__all__ += ["Situation", "rendering_of", "prevailing_note"]
