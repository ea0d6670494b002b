"""Parsing the real corpus into passages, and rejecting malformed copies of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from corpus import DEFAULT_CORPUS_DIR, Corpus, CorpusError, load_corpus
from corpus.guidance import section_title

LAW = "social-insurance-law"
IMPLEMENTING = "social-insurance-law-implementing-provisions"
HANDLING = "social-insurance-handling-regulation"
UNEMPLOYMENT = "unemployment-insurance-regulation"
PENSION_TRANSFER = "pension-transfer-interim-measures"
GUIDANCE = "guidance-terminate-insured-relationship"

# Copied from corpus/social-insurance-law.zh.md, lines 75 and 85-87.
LAW_19 = (
    "第十九条 个人跨统筹地区就业的，其基本养老保险关系随本人转移，缴费年限累计计算。"
    "个人达到法定退休年龄时，基本养老金分段计算、统一支付。具体办法由国务院规定。"
)
LAW_22 = (
    "第二十二条 国家建立和完善城镇居民社会养老保险制度。\n"
    "\n"
    "省、自治区、直辖市人民政府根据实际情况，可以将城镇居民社会养老保险和新型农村社会养老保险合并实施。"
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(DEFAULT_CORPUS_DIR)


def test_total_is_the_sum_of_the_articles_and_guidance_sections(corpus: Corpus) -> None:
    assert len(corpus.passages) == 98 + 30 + 63 + 33 + 13 + 7 == 244


def test_article_count_per_document_equals_the_manifest(corpus: Corpus) -> None:
    parsed = Counter(p.doc_id for p in corpus.passages if p.article is not None)
    expected = {d.doc_id: d.articles for d in corpus.manifest.documents if d.articles is not None}
    assert dict(parsed) == expected
    assert expected == {LAW: 98, IMPLEMENTING: 30, HANDLING: 63, UNEMPLOYMENT: 33, PENSION_TRANSFER: 13}


def test_articles_are_numbered_one_to_n_in_file_order(corpus: Corpus) -> None:
    for doc in corpus.manifest.documents:
        if doc.articles is None:
            continue
        numbers = [p.article for p in corpus.passages if p.doc_id == doc.doc_id]
        assert numbers == list(range(1, doc.articles + 1)), doc.doc_id


def test_keys_are_unique_and_derived_from_document_and_article(corpus: Corpus) -> None:
    keys = [p.key for p in corpus.passages]
    assert len(set(keys)) == len(keys)
    for p in corpus.passages:
        if p.article is not None:
            assert p.key == f"{p.doc_id}:{p.article}"
        else:
            assert p.key == f"{p.doc_id}#{p.section}"


@pytest.mark.parametrize(("key", "expected"), [(f"{LAW}:19", LAW_19), (f"{LAW}:22", LAW_22)])
def test_article_text_is_exactly_the_statute(corpus: Corpus, key: str, expected: str) -> None:
    assert corpus.by_key()[key].text == expected


def test_every_passage_is_a_verbatim_slice_of_its_source_file(corpus: Corpus) -> None:
    for p in corpus.passages:
        source = (DEFAULT_CORPUS_DIR / p.file).read_bytes().decode("utf-8")
        assert source[p.start : p.end] == p.text, p.key
        assert corpus.texts[p.doc_id][p.start : p.end] == p.text, p.key
        assert p.text == p.text.strip(), f"{p.key} has surrounding whitespace"


def test_passages_of_a_document_do_not_overlap(corpus: Corpus) -> None:
    for doc_id in corpus.manifest.doc_ids:
        spans = [(p.start, p.end) for p in corpus.passages if p.doc_id == doc_id]
        for (_, end), (next_start, _) in zip(spans, spans[1:]):
            assert end < next_start, doc_id


@pytest.mark.parametrize(
    ("key", "chapter"),
    [
        (f"{LAW}:1", "第一章 总则"),
        (f"{LAW}:9", "第一章 总则"),
        (f"{LAW}:10", "第二章 基本养老保险"),
        (f"{LAW}:19", "第二章 基本养老保险"),
        (f"{LAW}:22", "第二章 基本养老保险"),
        (f"{LAW}:23", "第三章 基本医疗保险"),
        (f"{IMPLEMENTING}:13", "第四章 关于失业保险"),
        # the heading has two spaces ("## 第五章  关于…"); the metadata has one
        (f"{IMPLEMENTING}:16", "第五章 关于基金管理和经办服务"),
    ],
)
def test_chapter_goes_with_the_article(corpus: Corpus, key: str, chapter: str) -> None:
    passage = corpus.by_key()[key]
    assert passage.chapter == chapter
    assert passage.section is None
    assert passage.metadata()["chapter"] == chapter


def test_article_metadata_carries_the_manifest_fields(corpus: Corpus) -> None:
    passage = corpus.by_key()[f"{LAW}:19"]
    assert (passage.doc_id, passage.title, passage.kind, passage.lang, passage.file) == (
        LAW, "中华人民共和国社会保险法", "law", "zh", "social-insurance-law.zh.md",
    )
    meta = passage.metadata()
    assert meta["article"] == 19 and meta["start"] == passage.start and meta["end"] == passage.end
    assert None not in meta.values()


def test_guidance_sections_in_order(corpus: Corpus) -> None:
    sections = [p.section for p in corpus.passages if p.doc_id == GUIDANCE]
    assert sections == ["intro", "step-1", "step-2", "step-3", "step-4", "note", "legal-basis"]
    assert all(p.article is None for p in corpus.passages if p.doc_id == GUIDANCE)


@pytest.mark.parametrize(
    ("section", "starts_with"),
    [
        ("intro", "How to terminate the insured relationship in the original protected area\n\nHow to"),
        ("step-1", "1. Understand the relevant regulations:"),
        ("step-2", "2. Contact the original insurance and social security department:"),
        ("step-3", "3. Handling formalities:"),
        ("step-4", "4. Go through the social security formalities in the target place:"),
        ("note", "It should be noted that"),
        ("legal-basis", "Legal basis:"),
    ],
)
def test_guidance_section_boundaries(corpus: Corpus, section: str, starts_with: str) -> None:
    passage = corpus.by_key()[f"{GUIDANCE}#{section}"]
    assert passage.text.startswith(starts_with)


def test_guidance_note_keeps_its_closing_paragraph_and_legal_basis_quotes_article_22(corpus: Corpus) -> None:
    by_key = corpus.by_key()
    assert by_key[f"{GUIDANCE}#note"].text.endswith("for more detailed and accurate guidance.")
    legal_basis = by_key[f"{GUIDANCE}#legal-basis"].text
    assert "Article 22 The State establishes and improves the social old-age insurance system" in legal_basis
    assert legal_basis.endswith("with the new rural social endowment insurance.")


def test_guidance_section_titles() -> None:
    assert [section_title(s) for s in ["intro", "step-3", "note", "legal-basis"]] == [
        "Introduction", "Step 3", "Note", "Legal basis",
    ]


def test_content_hash_is_stable_and_text_derived(corpus: Corpus) -> None:
    again = load_corpus(DEFAULT_CORPUS_DIR)
    assert [p.id for p in again.passages] == [p.id for p in corpus.passages]
    assert again.version == corpus.version
    assert len({p.id for p in corpus.passages}) == len(corpus.passages)


# --------------------------------------------------------------------------- malformed corpora


@dataclass(frozen=True)
class Malformed:
    """An edit to a copy of the corpus and the error it must cause."""

    doc_id: str
    old: str
    new: str
    line: int | None
    message: str
    rehash: bool = True  # about structure: the manifest checksum is updated


MALFORMED = {
    "duplicated-article": Malformed(
        LAW, LAW_19 + "\n", LAW_19 + "\n\n" + LAW_19 + "\n", 77,
        "duplicate article 第十九条 (19), first at line 75",
    ),
    "skipped-article-number": Malformed(
        UNEMPLOYMENT, "第三十三条 本条例自发布之日起施行。", "第三十四条 本条例自发布之日起施行。", 159,
        "article 34 found where article 33 was expected",
    ),
    "stray-text-before-the-first-article": Malformed(
        IMPLEMENTING, "若干规定\n\n## 第一章", "若干规定\n\n为便于执行，说明如下：\n\n## 第一章", 3,
        "text before the first article",
    ),
    "stray-text-after-a-chapter-heading": Malformed(
        IMPLEMENTING, "## 第一章 关于基本养老保险\n\n", "## 第一章 关于基本养老保险\n\n说明文字\n\n", 5,
        "text outside any article",
    ),
    "heading-of-unknown-level": Malformed(
        LAW, "\n第二十条 国家建立", "\n#### 注释\n\n第二十条 国家建立", 77, "unexpected heading '#### 注释'",
    ),
    "heading-outside-the-ladder": Malformed(
        LAW, "\n## 第二章 基本养老保险", "\n## 第一编 总则\n\n## 第二章 基本养老保险", 39,
        "unexpected heading '## 第一编 总则'",
    ),
    # Regression: an article heading whose number is not a numeral escaped as a
    # bare ValueError from cn2an, without file or line.
    "article-number-not-a-numeral": Malformed(
        LAW, "\n第二十条 国家建立", "\n第二十十条 国家建立", 77, "invalid article number 第二十十条",
    ),
    "guidance-step-out-of-order": Malformed(
        GUIDANCE, "\n2. Contact the original", "\n3. Contact the original", 13,
        "step 3 found where step 2 was expected",
    ),
    "changed-byte-behind-the-manifest": Malformed(
        LAW, "其基本养老保险关系随本人转移", "其基本养老保险关系随本人转入", None, "sha256 mismatch",
        rehash=False,
    ),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_document_is_rejected_naming_file_and_line(corpus_copy, case: Malformed) -> None:
    corpus_copy.replace(case.doc_id, case.old, case.new, rehash=case.rehash)
    file = corpus_copy.entry(case.doc_id)["file"]

    with pytest.raises(CorpusError) as caught:
        load_corpus(corpus_copy.path)

    error = caught.value
    assert error.file == file
    assert error.line == case.line
    where = file if case.line is None else f"{file}:{case.line}"
    assert str(error).startswith(f"{where}: ")
    assert case.message in str(error)


def test_checksum_is_not_located_to_a_line(corpus_copy) -> None:
    """A changed byte can only be detected, not located: the manifest keeps a
    checksum, not the text. The error names the file and both checksums."""
    corpus_copy.replace(LAW, "其基本养老保险关系随本人转移", "其基本养老保险关系随本人转入", rehash=False)
    with pytest.raises(CorpusError, match=r"^social-insurance-law\.zh\.md: sha256 mismatch: manifest says 081de1868465"):
        load_corpus(corpus_copy.path)


def test_unchecked_load_parses_the_changed_file(corpus_copy) -> None:
    corpus_copy.replace(LAW, "其基本养老保险关系随本人转移", "其基本养老保险关系随本人转入", rehash=False)
    changed = load_corpus(corpus_copy.path, verify=False).by_key()[f"{LAW}:19"]
    assert "随本人转入" in changed.text


def test_article_count_differing_from_the_manifest_is_rejected(corpus_copy) -> None:
    corpus_copy.set_manifest(LAW, articles=97)
    with pytest.raises(CorpusError, match=r"^social-insurance-law\.zh\.md: 98 articles parsed, manifest says 97$"):
        load_corpus(corpus_copy.path)


def test_file_missing_from_the_folder_is_rejected(corpus_copy) -> None:
    corpus_copy.file(PENSION_TRANSFER).unlink()
    with pytest.raises(CorpusError, match="pension-transfer-interim-measures.zh.md: file listed in the manifest is missing"):
        load_corpus(corpus_copy.path)


def test_manifest_with_invalid_json_is_rejected_with_its_line(corpus_copy) -> None:
    manifest = corpus_copy.path / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"kind": "law",', '"kind": "law"', 1), encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        load_corpus(corpus_copy.path)
    assert caught.value.file == str(manifest)
    assert caught.value.line == 17  # "kind" is on line 16; the parser stops at the next key


def test_corpus_version_changes_with_any_document(corpus_copy, corpus: Corpus) -> None:
    corpus_copy.replace(LAW, "其基本养老保险关系随本人转移", "其基本养老保险关系随本人转入")
    edited = load_corpus(corpus_copy.path)
    assert edited.version != corpus.version
    changed = [p.key for p, q in zip(corpus.passages, edited.passages, strict=True) if p.id != q.id]
    assert changed == [f"{LAW}:19"]
