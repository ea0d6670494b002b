"""Article references in free text: 第十九条, 第19条, 社保法第86条, 《社会保险法》第二十二条,
"Article 22", "Art. 58 of the Social Insurance Law", and "本法第六十三条" inside a statute.

One parser serves the corpus (links between articles), retrieval (exact lookup)
and evaluation. Document names are resolved from the manifest's titles and
aliases; a reference to a law outside the corpus ("劳动合同法第四十四条") is
recognised as external and not resolved to a corpus document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.manifest import Manifest
from corpus.numerals import CHINESE_NUMERAL_CHARS, FULLWIDTH_DIGITS, to_int

_NUM = rf"[{CHINESE_NUMERAL_CHARS}0-9０-９]+"
# "本法" etc.: the document the text belongs to (or the default one in a question).
_SELF = r"本法|本条例|本办法|本规定"
# A name of some other instrument right before 第X条, e.g. 劳动合同法, 《工伤保险条例》.
_EXTERNAL = re.compile(r"[\u4e00-\u9fff]{1,30}(?:法|法典|条例|办法|规定|决定|细则|解释|意见|通知)》?\s*$")
# The English forms: "Article 38 of the Labour Contract Law", "the Labor Law's Article 44".
_INSTRUMENT_WORDS = r"(?:Law|Act|Code|Regulations?|Rules|Measures|Provisions|Ordinance)"
_INSTRUMENT_EN = rf"(?:[A-Z][\w'’-]*\s+){{0,8}}?{_INSTRUMENT_WORDS}\b"
# after the article: a name of capitalised words and the small words inside titles
_NAME_WORD = r"(?:[A-Z][\w'’-]*|on|of|the|and|for|in|to)"
_NAME_AFTER = re.compile(rf"\s+(?:of|in|under)\s+(?:the\s+|China's\s+)?(?P<name>[A-Z][\w'’-]*(?:\s+{_NAME_WORD})*)")
_EXTERNAL_EN_BEFORE = re.compile(rf"\b{_INSTRUMENT_EN}(?:'s)?,?\s*$")
_INSTRUMENT_NAMED = re.compile(rf"\b{_INSTRUMENT_WORDS}\b")
_TITLE_STOPWORDS = {"on", "of", "the", "and", "for", "in", "to", "people's", "republic", "china", "prc"}
# how much of a named title's own words a corpus title must contain to be that document
# ("the Interim Measures on Transferring Basic Pension Insurance Relationships …" is the
# transfer measures, whose title also says "and Continuing")
_TITLE_SHARE = 0.8


def _title_words(title: str) -> set[str]:
    words = re.findall(r"[a-z][\w'’-]*", re.sub(r"\(.*?\)", " ", title.lower()))
    return {w.removesuffix("s") for w in words if w not in _TITLE_STOPWORDS}


_TITLE_IN_BOOK_MARKS = re.compile(r"《([^《》]{2,30})》\s*$")
# words a sentence puts before a name it cites: not part of the name
_CITING_WORDS = re.compile(r"^(?:根据|依据|依照|按照|按|违反|适用|关于|是|的|和|与|及|了|看|查|问)+")


def _outside_name(before: str) -> str | None:
    """The name of an instrument outside the corpus that ends `before` (the text
    right before 第X条): 《工伤保险条例》 -> 工伤保险条例, 根据劳动合同法 -> 劳动合同法."""
    bare = _EXTERNAL.search(before)
    if bare is None:
        return None
    if titled := _TITLE_IN_BOOK_MARKS.search(before):
        return titled.group(1)
    return _CITING_WORDS.sub("", bare.group(0).rstrip("》 ")) or None


# Between two references, these words continue an enumeration (第三十九条、第四十条).
_CONTINUES = re.compile(r"^\s*(?:、|，|,|和|及|以及|或者|或|至|到|\s)*\s*$")


@dataclass(frozen=True)
class ArticleRef:
    doc_id: str | None  # None: an instrument outside the corpus
    article: int
    start: int
    end: int
    explicit_doc: bool  # the document was named in the text
    outside: str | None = None  # the name of the instrument outside the corpus, as the text names it

    @property
    def key(self) -> str | None:
        return f"{self.doc_id}:{self.article}" if self.doc_id else None


class ReferenceParser:
    def __init__(self, manifest: Manifest, default_doc: str = "social-insurance-law") -> None:
        if default_doc not in manifest.doc_ids:
            raise ValueError(f"default_doc {default_doc!r} is not in the manifest")
        self.default_doc = default_doc
        self._doc_by_name: dict[str, str] = {}
        for doc in manifest.documents:
            for name in [doc.title, doc.title_en, doc.doc_id, *doc.aliases]:
                self._doc_by_name.setdefault(name.casefold(), doc.doc_id)
        self._titles_en = {doc.doc_id: _title_words(doc.title_en) for doc in manifest.documents if doc.title_en}
        names = sorted(self._doc_by_name, key=len, reverse=True)
        alternation = "|".join(re.escape(n) for n in names)
        self._zh = re.compile(
            rf"(?:《?(?P<doc>{alternation})》?\s*(?:的)?\s*|(?P<self>{_SELF})\s*)?"
            rf"(?P<di>第)?\s*(?P<num>{_NUM})\s*条",
            re.IGNORECASE,
        )
        self._en_after = re.compile(
            rf"\b(?:article|art\.?)\s*(?P<num>\d+)\b"
            rf"(?:\s+(?:of|in)\s+(?:the\s+)?(?P<doc>{alternation})\b)?",
            re.IGNORECASE,
        )
        self._en_before = re.compile(
            rf"(?:\bthe\s+)?(?P<doc>{alternation})(?:'s)?,?\s+(?:article|art\.?)\s*(?P<num>\d+)\b",
            re.IGNORECASE,
        )

    def resolve_document(self, name: str) -> str | None:
        return self._doc_by_name.get(name.strip("《》 ").casefold())

    def parse(self, text: str, context_doc: str | None = None) -> list[ArticleRef]:
        """All references in `text`, in order. `context_doc` is the document
        that "本法" and a bare "第X条" refer to (default: the Social Insurance Law)."""
        context = context_doc or self.default_doc
        refs = self._parse_zh(text, context) + self._parse_en(text, context)
        refs.sort(key=lambda r: r.start)
        return refs

    def _parse_zh(self, text: str, context: str) -> list[ArticleRef]:
        refs: list[ArticleRef] = []
        for match in self._zh.finditer(text):
            named = match.group("doc")
            outside = None
            if not match.group("di") and not named:
                continue  # "3条" alone is not a reference
            try:
                number = to_int(match.group("num").translate(FULLWIDTH_DIGITS))
            except ValueError:
                continue  # not a numeral ("第十十条"): not a reference
            if named:
                doc_id, explicit = self.resolve_document(named), True
            elif match.group("self"):
                doc_id, explicit = context, False
            else:
                previous = refs[-1] if refs else None
                gap = text[previous.end : match.start()] if previous else None
                if previous and gap is not None and _CONTINUES.match(gap):
                    doc_id, explicit, outside = previous.doc_id, previous.explicit_doc, previous.outside
                elif outside := _outside_name(text[max(0, match.start() - 32) : match.start()]):
                    doc_id, explicit = None, True
                else:
                    doc_id, explicit = context, False
            refs.append(ArticleRef(doc_id, number, match.start(), match.end(), explicit, outside))
        return refs

    def _parse_en(self, text: str, context: str) -> list[ArticleRef]:
        refs: dict[int, ArticleRef] = {}
        for match in self._en_before.finditer(text):
            doc_id = self.resolve_document(match.group("doc"))
            refs[match.start("num")] = ArticleRef(
                doc_id, int(match.group("num")), match.start(), match.end(), True
            )
        for match in self._en_after.finditer(text):
            if match.start("num") in refs:
                continue
            named = match.group("doc")
            outside = None
            if named:
                doc_id, explicit = self.resolve_document(named), True
            elif (named_after := self._english_title_after(text, match)) is not None:
                doc_id, explicit = named_after or None, True
                if not named_after:
                    outside = _NAME_AFTER.match(text, match.end()).group("name")  # type: ignore[union-attr]
            elif before := _EXTERNAL_EN_BEFORE.search(text[max(0, match.start() - 80) : match.start()]):
                doc_id, explicit = None, True  # "the Labor Law's Article 44"
                outside = re.sub(r"(?:'s)?,?\s*$", "", before.group(0))
            else:
                doc_id, explicit = context, False
            refs[match.start("num")] = ArticleRef(
                doc_id, int(match.group("num")), match.start(), match.end(), explicit, outside
            )
        return list(refs.values())

    def _english_title_after(self, text: str, match: re.Match[str]) -> str | None:
        """The document named right after an English article ("Article 22 of the
        Provisions on Implementing the Social Insurance Law"): its doc_id; "" for
        an instrument outside the corpus ("… of the Labour Contract Law"); None
        when no instrument is named there. A name matches a corpus document when
        that document's English title holds at least 80 % of the name's words."""
        after = _NAME_AFTER.match(text, match.end())  # match(): anchored at pos
        if after is None:
            return None
        words = _title_words(after.group("name"))
        if len(words) >= 2:
            # the first of equal overlaps, as the manifest lists them
            best, title = max(self._titles_en.items(), key=lambda item: len(words & item[1]), default=("", set()))
            if len(words & title) / len(words) >= _TITLE_SHARE:
                return best
        return "" if _INSTRUMENT_NAMED.search(after.group("name")) else None
