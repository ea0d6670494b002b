"""Statutes (法, 条例, 办法, 规定) into article passages.

Structure is recognised line by line with a ladder of heading patterns; an
article runs from its `第X条` line to the line before the next article or
heading. A reference inside a sentence ("依照本法第六十三条") never starts a
line, so it cannot be mistaken for a new article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.errors import CorpusError
from corpus.manifest import DocumentInfo
from corpus.numerals import CHINESE_NUMERAL_CHARS, to_int
from corpus.passage import Passage

TITLE = re.compile(r"^#\s+\S")
CHAPTER = re.compile(rf"^##\s+(第[{CHINESE_NUMERAL_CHARS}]+章.*)$")
SECTION = re.compile(rf"^###\s+(第[{CHINESE_NUMERAL_CHARS}]+节.*)$")
ARTICLE = re.compile(rf"^第([{CHINESE_NUMERAL_CHARS}]+)条(?:[ \t\u3000]|$)")
OTHER_HEADING = re.compile(r"^#{1,6}\s")
# Lines allowed between the title and the first heading: adoption, amendment
# and promulgation notes ("2010年10月28日 …通过") or a document number in brackets.
PREAMBLE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|^[（(〔]")


@dataclass
class _Line:
    number: int  # 1-based, for error messages
    start: int
    text: str  # without the line break

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def split_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        body = raw.rstrip("\r\n")
        lines.append(_Line(number, offset, body))
        offset += len(raw)
    return lines


def _clean_heading(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def parse_statute(doc: DocumentInfo, text: str) -> list[Passage]:
    lines = split_lines(text)
    if not lines or not TITLE.match(lines[0].text):
        raise CorpusError(doc.file, "the first line must be the '# title'", 1)

    passages: list[Passage] = []
    chapter: str | None = None
    section: str | None = None
    seen: dict[int, int] = {}
    current: tuple[int, _Line, _Line] | None = None  # (article, first line, last non-blank line)
    before_first_heading = True

    def close() -> None:
        nonlocal current
        if current is None:
            return
        number, first, last = current
        body = text[first.start : last.end]
        passages.append(
            Passage.of_document(
                doc, f"{doc.doc_id}:{number}", body, first.start, last.end,
                article=number, chapter=chapter_of[number], section=section_of[number],
            )
        )
        current = None

    chapter_of: dict[int, str | None] = {}
    section_of: dict[int, str | None] = {}

    for line in lines[1:]:
        stripped = line.text.strip()
        if not stripped:
            continue
        if match := CHAPTER.match(line.text):
            close()
            chapter, section = _clean_heading(match.group(1)), None
            before_first_heading = False
            continue
        if match := SECTION.match(line.text):
            close()
            section = _clean_heading(match.group(1))
            before_first_heading = False
            continue
        if OTHER_HEADING.match(line.text):
            raise CorpusError(doc.file, f"unexpected heading {stripped[:30]!r}", line.number)
        if match := ARTICLE.match(line.text):
            close()
            before_first_heading = False
            try:
                number = to_int(match.group(1))
            except ValueError:
                raise CorpusError(
                    doc.file, f"invalid article number 第{match.group(1)}条", line.number
                ) from None
            if number in seen:
                raise CorpusError(
                    doc.file,
                    f"duplicate article 第{match.group(1)}条 ({number}), first at line {seen[number]}",
                    line.number,
                )
            expected = len(seen) + 1
            if number != expected:
                raise CorpusError(
                    doc.file,
                    f"article {number} found where article {expected} was expected (skipped or out of order)",
                    line.number,
                )
            seen[number] = line.number
            chapter_of[number], section_of[number] = chapter, section
            current = (number, line, line)
            continue
        if current is not None:
            current = (current[0], current[1], line)
        elif not before_first_heading:
            raise CorpusError(
                doc.file, f"text outside any article: {stripped[:30]!r}", line.number
            )
        elif not PREAMBLE.search(stripped):
            raise CorpusError(
                doc.file, f"text before the first article: {stripped[:30]!r}", line.number
            )
    close()

    if not passages:
        raise CorpusError(doc.file, "no article (第X条) found")
    if doc.articles is not None and len(passages) != doc.articles:
        raise CorpusError(
            doc.file, f"{len(passages)} articles parsed, manifest says {doc.articles}"
        )
    return passages
