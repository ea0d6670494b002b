"""Property tests for the statute parser (corpus.statute.parse_statute).

tests/corpus has hypothesis tests for the article-reference parser only; the
statute parser is tested there on the real corpus and on hand-made malformed
copies. Here: generated statutes parse back into exactly the articles they were
written from, with offsets into the text, and arbitrary text never makes the
parser fail with anything but a CorpusError.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus import CorpusError
from corpus.manifest import DocumentInfo
from corpus.numerals import to_chinese
from corpus.statute import parse_statute


def document(articles: int | None = None) -> DocumentInfo:
    return DocumentInfo(
        doc_id="generated-law", file="generated-law.zh.md", lang="zh", title="生成的法", title_en="A Generated Law",
        kind="law", sha256="0" * 64, articles=articles,
    )


@dataclass(frozen=True)
class Article:
    number: int
    chapter: str | None
    section: str | None
    text: str  # as it must come back: heading line to the last non-blank line


# Sentence material: CJK, punctuation, digits, and references that sit inside a
# sentence (never at a line start), which must not open a new article.
WORDS = ["用人单位", "职工", "应当", "按照", "国家规定", "缴纳", "社会保险费", "依照本法第十九条", "第二十二条规定的",
         "（一）", "1", "％", "、", "，", "；", "“", "”", "ABC", " "]
sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(lambda parts: "".join(parts).strip() + "。")
paragraph = st.lists(sentence, min_size=1, max_size=3).map("".join)


@st.composite
def statutes(draw: st.DrawFn) -> tuple[str, list[Article]]:
    lines = ["# 中华人民共和国生成法", ""]
    if draw(st.booleans()):
        lines += ["（2010年10月28日第十一届全国人民代表大会常务委员会第十七次会议通过）", ""]
    articles: list[Article] = []
    chapters = draw(st.integers(min_value=0, max_value=3))
    for c in range(max(chapters, 1)):
        chapter = f"第{to_chinese(c + 1)}章 {draw(st.sampled_from(['总则', '基本养老保险', '附则']))}" if chapters else None
        if chapter:
            lines += [f"## {chapter}", ""]
        sections = draw(st.integers(min_value=0, max_value=2)) if chapter else 0
        for s in range(max(sections, 1)):
            section = f"第{to_chinese(s + 1)}节 一般规定" if sections else None
            if section:
                lines += [f"### {section}", ""]
            for _ in range(draw(st.integers(min_value=1, max_value=4))):
                number = len(articles) + 1
                paragraphs = draw(st.lists(paragraph, min_size=1, max_size=3))
                body = [f"第{to_chinese(number)}条 {paragraphs[0]}"]
                for extra in paragraphs[1:]:
                    body += ["", extra]
                lines += [*body, ""]
                articles.append(Article(number, chapter, section, "\n".join(body)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    expected = [Article(a.number, a.chapter, a.section, a.text.replace("\n", newline)) for a in articles]
    return text, expected


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # 2 busy cores
@given(statutes())
def test_generated_statutes_parse_back_to_their_articles(statute: tuple[str, list[Article]]) -> None:
    text, expected = statute
    passages = parse_statute(document(len(expected)), text)
    assert [p.article for p in passages] == [a.number for a in expected]
    for passage, article in zip(passages, expected, strict=True):
        assert text[passage.start : passage.end] == passage.text == article.text
        assert (passage.chapter, passage.section) == (article.chapter, article.section)
        assert passage.key == f"generated-law:{article.number}"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statutes())
def test_a_wrong_article_count_in_the_manifest_is_a_corpus_error(statute: tuple[str, list[Article]]) -> None:
    text, expected = statute
    try:
        parse_statute(document(len(expected) + 1), text)
    except CorpusError as exc:
        assert f"{len(expected)} articles parsed, manifest says {len(expected) + 1}" in str(exc)
    else:
        raise AssertionError("a count mismatch was accepted")


LINE_PIECES = ["# 标题", "## 第一章 总则", "### 第一节 一般", "第一条 ", "第二条 ", "第十条 ", "第三条", "第十十条 ",
               "第1条 ", "#### 其他", "文字。", "依照本法第五条", "（2010年通过）", "", " ", "\t", "\u3000"]


def check_passages(text: str, passages: list) -> None:
    assert [p.article for p in passages] == list(range(1, len(passages) + 1))
    for passage in passages:
        assert 0 <= passage.start < passage.end <= len(text)
        assert text[passage.start : passage.end] == passage.text
        assert passage.text.startswith("第")


def check_corpus_error(text: str, exc: CorpusError) -> None:
    """A rejection names the file and, where there is one, the line at fault."""
    assert exc.file == "generated-law.zh.md"
    lines = text.splitlines()
    if exc.line is None:
        assert str(exc).startswith("generated-law.zh.md: ")
    else:
        assert str(exc).startswith(f"generated-law.zh.md:{exc.line}: ")
        assert 1 <= exc.line <= max(len(lines), 1)
        if "unexpected heading" in str(exc):
            assert lines[exc.line - 1].lstrip().startswith("#")
        if "article" in str(exc) and "expected" in str(exc):
            assert "条" in lines[exc.line - 1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(),
    st.lists(st.sampled_from(LINE_PIECES), max_size=20).map("\n".join),
    st.lists(st.sampled_from(LINE_PIECES), max_size=20).map(lambda ls: "# 标题\n" + "\n".join(ls)),
))
def test_arbitrary_text_gives_passages_or_a_corpus_error(text: str) -> None:
    """Either outcome is checked: passages at their offsets, or an error naming file and line."""
    try:
        passages = parse_statute(document(), text)
    except CorpusError as exc:
        check_corpus_error(text, exc)
    else:
        check_passages(text, passages)


ARTICLE = object()  # replaced by the next article heading, numbered in order
WELL_FORMED_PIECES = [ARTICLE, ARTICLE, "## 第一章 总则", "### 第一节 一般", "文字。", "依照本法第五条规定的", "第二十二条规定的情形",
                      "", " ", "\t", "\u3000", "（一）项目；"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WELL_FORMED_PIECES), max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_well_formed_pieces_always_parse(pieces: list[object], newline: str) -> None:
    """Headings, articles numbered in order, text only inside articles, in-sentence
    references that are not headings: such a statute must parse, with one passage
    per article heading (no CorpusError to return early on)."""
    lines, numbers, in_article = ["# 标题"], 0, False
    for piece in pieces:
        if piece is ARTICLE:
            numbers += 1
            lines.append(f"第{to_chinese(numbers)}条 文字。")
            in_article = True
        elif isinstance(piece, str) and piece.startswith("#"):
            lines.append(piece)
            in_article = False
        elif in_article or not piece.strip():  # body text goes into the open article only
            lines.append(piece)  # type: ignore[arg-type]
    lines.append(f"第{to_chinese(numbers + 1)}条 最后。")
    text = newline.join(lines)
    passages = parse_statute(document(numbers + 1), text)
    assert len(passages) == numbers + 1
    check_passages(text, passages)
