"""The one reference parser: every written form we meet, and properties over many."""

from __future__ import annotations

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import DEFAULT_CORPUS_DIR, ArticleRef, ReferenceParser, load_manifest

LAW = "social-insurance-law"
IMPLEMENTING = "social-insurance-law-implementing-provisions"
HANDLING = "social-insurance-handling-regulation"
UNEMPLOYMENT = "unemployment-insurance-regulation"
PENSION_TRANSFER = "pension-transfer-interim-measures"


@pytest.fixture(scope="module")
def parser() -> ReferenceParser:
    return ReferenceParser(load_manifest(DEFAULT_CORPUS_DIR))


DOC_IDS = set(load_manifest(DEFAULT_CORPUS_DIR).doc_ids)


def found(parser: ReferenceParser, text: str, context: str | None = None) -> list[tuple[str | None, int, str]]:
    return [(r.doc_id, r.article, text[r.start : r.end]) for r in parser.parse(text, context_doc=context)]


# (text, context document, [(doc_id, article, the matched text)])
FORMS = [
    ("第十九条", None, [(LAW, 19, "第十九条")]),
    ("第19条", None, [(LAW, 19, "第19条")]),
    ("第１９条", None, [(LAW, 19, "第１９条")]),
    ("社保法第86条", None, [(LAW, 86, "社保法第86条")]),
    ("《社会保险法》第二十二条", None, [(LAW, 22, "《社会保险法》第二十二条")]),
    ("《中华人民共和国社会保险法》第五十八条", None, [(LAW, 58, "《中华人民共和国社会保险法》第五十八条")]),
    ("Article 22", None, [(LAW, 22, "Article 22")]),
    ("Art. 58 of the Social Insurance Law", None, [(LAW, 58, "Art. 58 of the Social Insurance Law")]),
    ("the Social Insurance Law, Article 58", None, [(LAW, 58, "the Social Insurance Law, Article 58")]),
    ("失业保险条例第十四条", None, [(UNEMPLOYMENT, 14, "失业保险条例第十四条")]),
    ("经办条例第5条", None, [(HANDLING, 5, "经办条例第5条")]),
    ("若干规定第九条", None, [(IMPLEMENTING, 9, "若干规定第九条")]),
    ("国办发〔2009〕66号第五条", None, [(PENSION_TRANSFER, 5, "国办发〔2009〕66号第五条")]),
    ("人社部令第13号第二十一条", None, [(IMPLEMENTING, 21, "人社部令第13号第二十一条")]),
    ("请问社保法第86条怎么规定的？", None, [(LAW, 86, "社保法第86条")]),
    # outside the corpus: recognised, not resolved; the 项 after it is no article
    ("依照劳动合同法第四十四条第一项、第四项", None, [(None, 44, "第四十四条")]),
    ("按照《工伤保险条例》第三十三条有关规定", IMPLEMENTING, [(None, 33, "第三十三条")]),
    ("What does Article 38 of the Labour Contract Law say?", None, [(None, 38, "Article 38")]),
    ("Under Article 14 of the Regulation on Work-Related Injury Insurance", None, [(None, 14, "Article 14")]),
    ("the Labor Law's Article 44 on overtime", None, [(None, 44, "Article 44")]),
    ("Article 58 says employers register", None, [(LAW, 58, "Article 58")]),
    ("Article 46 of the law", None, [(LAW, 46, "Article 46")]),
    # an English title a little off the manifest's is still that document
    ("What does Article 22 of the Provisions on Implementing the Social Insurance Law provide?", None,
     [(IMPLEMENTING, 22, "Article 22")]),
    ("Article 8 of the Interim Measures on Transferring Basic Pension Insurance Relationships", None,
     [(PENSION_TRANSFER, 8, "Article 8")]),
    ("Article 14 of the Unemployment Insurance Regulations", None, [(UNEMPLOYMENT, 14, "Article 14")]),
    ("Article 9 of the Regulation on Social Insurance Handling says", None,
     [(HANDLING, 9, "Article 9 of the Regulation on Social Insurance Handling")]),
    ("Article 58 of the SIL", None, [(LAW, 58, "Article 58 of the SIL")]),
    # enumerations inherit the document of their first member
    (
        "由用人单位依照劳动合同法第三十九条、第四十条、第四十一条规定",
        None,
        [(None, 39, "第三十九条"), (None, 40, "第四十条"), (None, 41, "第四十一条")],
    ),
    ("经办条例第三十九条、第四十条", None, [(HANDLING, 39, "经办条例第三十九条"), (HANDLING, 40, "第四十条")]),
    ("第三十九条、第四十条", UNEMPLOYMENT, [(UNEMPLOYMENT, 39, "第三十九条"), (UNEMPLOYMENT, 40, "第四十条")]),
    # 本法 / 本条例 / 本规定: the document the text belongs to
    ("依照本法第六十三条", None, [(LAW, 63, "本法第六十三条")]),
    ("依照本法第六十三条", HANDLING, [(HANDLING, 63, "本法第六十三条")]),
    ("本条例第十四条", UNEMPLOYMENT, [(UNEMPLOYMENT, 14, "本条例第十四条")]),
    ("按照本规定第二条办理", IMPLEMENTING, [(IMPLEMENTING, 2, "本规定第二条")]),
    ("第十九条", PENSION_TRANSFER, [(PENSION_TRANSFER, 19, "第十九条")]),
    # a named document wins over the context
    ("社会保险法第十五条规定的统筹养老金", IMPLEMENTING, [(LAW, 15, "社会保险法第十五条")]),
    # not references
    ("3条意见", None, []),
    ("缴费满十五年", None, []),
    ("第一项", None, []),
    ("", None, []),
]


@pytest.mark.parametrize(("text", "context", "expected"), FORMS, ids=[f"{t}@{c}" for t, c, _ in FORMS])
def test_reference_forms(parser: ReferenceParser, text: str, context: str | None, expected: list) -> None:
    assert found(parser, text, context) == expected


def test_references_come_in_text_order_across_languages(parser: ReferenceParser) -> None:
    text = "Article 22 和 社保法第十九条 and Art. 58 of the SIL"
    assert found(parser, text) == [
        (LAW, 22, "Article 22"),
        (LAW, 19, "社保法第十九条"),
        (LAW, 58, "Art. 58 of the SIL"),
    ]


def test_explicit_doc_flag_tells_named_from_assumed(parser: ReferenceParser) -> None:
    named, inherited = parser.parse("社保法第86条、第19条")
    assert (named.explicit_doc, inherited.explicit_doc) == (True, True)  # enumeration
    named, assumed = parser.parse("社保法第86条。另见第19条")
    assert (named.explicit_doc, assumed.explicit_doc) == (True, False)
    assert named.key == f"{LAW}:86"
    assert parser.parse("劳动合同法第四十四条")[0].key is None


def test_document_names_resolve_case_insensitively(parser: ReferenceParser) -> None:
    assert parser.resolve_document("《社会保险法》") == LAW
    assert parser.resolve_document("social insurance law") == LAW
    assert parser.resolve_document("sil") == LAW
    assert parser.resolve_document("劳动合同法") is None


def test_unknown_default_document_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="default_doc 'no-such-doc' is not in the manifest"):
        ReferenceParser(load_manifest(DEFAULT_CORPUS_DIR), default_doc="no-such-doc")


def test_article_number_that_is_not_a_numeral_is_not_a_reference(parser: ReferenceParser) -> None:
    """Regression: "第十十条" made cn2an raise ValueError out of `parse`."""
    assert parser.parse("第十十条") == []
    assert found(parser, "第百百条和第十九条") == [(LAW, 19, "第十九条")]


# --------------------------------------------------------------------------- properties

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# `parser` is module-scoped, so hypothesis may share it across examples.
@given(n=st.integers(min_value=1, max_value=200))
def test_every_written_form_of_an_article_number_parses_to_it(parser: ReferenceParser, n: int) -> None:
    for text in (f"第{cn2an.an2cn(n)}条", f"第{n}条", f"第{str(n).translate(FULLWIDTH)}条", f"Article {n}"):
        refs = parser.parse(text)
        assert [(r.doc_id, r.article, r.start, r.end) for r in refs] == [(LAW, n, 0, len(text))], text


# Pieces that exercise the parser's paths, joined at random.
PIECES = [
    "第", "条", "项", "十", "百", "千", "零", "〇", "两", "一", "九", "1", "9", "０", "９", "、", "，", "和",
    "至", "或者", "本法", "本条例", "本规定", "社保法", "社会保险法", "《", "》", "劳动合同法", "工伤保险条例",
    "国办发〔2009〕66号", "人社部令第13号", "Article ", "Art. ", "art.", " of the ", "Social Insurance Law",
    "SIL", "'s", ", ", " ", "\n", "的",
]


@settings(max_examples=300)
@given(text=st.one_of(st.text(), st.lists(st.sampled_from(PIECES), max_size=30).map("".join)))
def test_parsing_arbitrary_text_never_raises(parser: ReferenceParser, text: str) -> None:
    refs = parser.parse(text)
    assert all(isinstance(r, ArticleRef) for r in refs)
    assert [r.start for r in refs] == sorted(r.start for r in refs)
    for r in refs:
        assert 0 <= r.start < r.end <= len(text)
        assert r.article >= 0
        assert r.doc_id is None or r.doc_id in DOC_IDS


@pytest.mark.parametrize(("text", "outside"), [
    ("《工伤保险条例》第十四条规定了哪些情形应当认定为工伤？", ["工伤保险条例"]),
    ("根据劳动合同法第三十八条、第四十六条", ["劳动合同法", "劳动合同法"]),
    ("What does Article 38 of the Labour Contract Law say?", ["Labour Contract Law"]),
    ("the Labor Law's Article 44", ["Labor Law"]),
    ("社保法第58条和第十九条", [None, None]),
])
def test_an_instrument_outside_the_corpus_is_named(parser: ReferenceParser, text: str, outside: list) -> None:
    refs = parser.parse(text)
    assert [r.outside for r in refs] == outside
    assert all((r.doc_id is None) == (r.outside is not None) for r in refs)
