"""The guidance article into sections: intro, each numbered step, the note, the legal basis.

Paragraphs are the unit; a section runs over consecutive paragraphs and its
offsets cover them exactly, so a quote from it is a slice of the source file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.errors import CorpusError
from corpus.manifest import DocumentInfo
from corpus.passage import Passage
from corpus.statute import TITLE, split_lines

STEP = re.compile(r"^(\d+)\.\s+\S")
LEGAL_BASIS = re.compile(r"^(legal basis|法律依据)\s*[:：]", re.IGNORECASE)

SECTION_TITLES = {"intro": "Introduction", "note": "Note", "legal-basis": "Legal basis"}


@dataclass
class _Paragraph:
    line: int
    start: int
    end: int
    text: str


def _paragraphs(text: str) -> list[_Paragraph]:
    paragraphs: list[_Paragraph] = []
    for line in split_lines(text):
        if line.text.strip():
            paragraphs.append(_Paragraph(line.number, line.start, line.end, line.text))
    return paragraphs


def _sections(doc: DocumentInfo, paragraphs: list[_Paragraph]) -> list[tuple[str, list[_Paragraph]]]:
    """Group paragraphs: before step 1 -> intro; a step and the unnumbered
    paragraphs that continue it; after the last step -> note; from "Legal basis:" on."""
    step_positions = [i for i, p in enumerate(paragraphs) if STEP.match(p.text)]
    if not step_positions:
        raise CorpusError(doc.file, "no numbered step ('1. …') found in the guidance")
    basis = next(
        (i for i, p in enumerate(paragraphs) if LEGAL_BASIS.match(p.text)), len(paragraphs)
    )
    last_step = step_positions[-1]
    groups: list[tuple[str, list[_Paragraph]]] = []
    steps_seen = 0
    for i, paragraph in enumerate(paragraphs):
        if i >= basis:
            name = "legal-basis"
        elif match := STEP.match(paragraph.text):
            steps_seen += 1
            if int(match.group(1)) != steps_seen:
                raise CorpusError(
                    doc.file,
                    f"step {match.group(1)} found where step {steps_seen} was expected",
                    paragraph.line,
                )
            name = f"step-{steps_seen}"
        elif i < step_positions[0]:
            name = "intro"
        elif i > last_step:
            name = "note"
        else:
            name = groups[-1][0]
        if groups and groups[-1][0] == name:
            groups[-1][1].append(paragraph)
        else:
            groups.append((name, [paragraph]))
    return groups


def parse_guidance(doc: DocumentInfo, text: str) -> list[Passage]:
    paragraphs = _paragraphs(text)
    if not paragraphs or not TITLE.match(paragraphs[0].text):
        raise CorpusError(doc.file, "the first line must be the '# title'", 1)
    passages = []
    for section, members in _sections(doc, paragraphs[1:]):
        start, end = members[0].start, members[-1].end
        passages.append(Passage.of_document(doc, f"{doc.doc_id}#{section}", text[start:end], start, end, section=section))
    return passages


def section_title(section: str) -> str:
    if section.startswith("step-"):
        return f"Step {section.removeprefix('step-')}"
    return SECTION_TITLES.get(section, section)
