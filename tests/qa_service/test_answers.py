"""What a visitor reads: whole legal units, the asker's tier first, the guidance's
steps in order, renderings in the asker's language — against the live server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from api_calls import ask_api
from corpus import DEFAULT_CORPUS_DIR, load_corpus

pytestmark = [pytest.mark.integration]

CORPUS = load_corpus(DEFAULT_CORPUS_DIR)
ROOT = Path(__file__).resolve().parents[2]
HEADING_LINE = re.compile(r"^\s*(#|第[一二三四五六七八九十百零]+[章节](\s|$))", re.MULTILINE)
TITLES = {d.title for d in CORPUS.manifest.documents} | {d.title_en for d in CORPUS.manifest.documents}


def assert_verbatim(body: dict) -> None:
    for c in body["citations"]:
        assert CORPUS.texts[c["doc_id"]][c["start"] : c["end"]] == c["quote"], c["key"]


def quoted(body: dict) -> str:
    return re.sub(r"\s+", "", body["answer"] + "".join(c["quote"] for c in body["citations"]))


def test_drinking_is_answered_with_the_item_and_its_lead_in(client: httpx.Client) -> None:
    body = ask_api(client, "I got hurt at work after drinking at lunch. Will it count as a work-related injury?")
    assert not body["refused"]
    assert_verbatim(body)
    (cite,) = [c for c in body["citations"] if "醉酒或者吸毒" in c["quote"]]
    assert cite["key"] == "social-insurance-law:37"
    assert "不认定为工伤：" in cite["quote"]  # the lead-in comes with the item
    assert cite["rendering"]["lang"] == "en" and "drunk" in cite["rendering"]["text"].lower()


@pytest.mark.parametrize("question", ["失业金能领多久？我交了三年", "How long can I get unemployment benefits? I paid in for three years."])
def test_three_years_gets_the_twelve_month_tier_first(client: httpx.Client, question: str) -> None:
    body = ask_api(client, question)
    assert_verbatim(body)
    tiers = [c for c in body["citations"] if c["role"] in ("applies", "other-tiers")]
    assert tiers and tiers[0]["role"] == "applies"
    assert re.search("十二个月|12个月", tiers[0]["quote"]) and "满五年" not in tiers[0]["quote"] and "满5年" not in tiers[0]["quote"]
    # the other tiers are quoted too: a ；-branch is never cut from its sentence
    assert re.search("二十四个月|24个月", "".join(c["quote"] for c in tiers[1:]))
    first_tier = body["answer"].index(tiers[0]["quote"])
    assert first_tier < body["answer"].index(tiers[1]["quote"])


def test_the_guidance_question_gets_its_steps_in_order(client: httpx.Client) -> None:
    body = ask_api(client, "How to terminate the insurance relationship in the original insurance area?")
    assert_verbatim(body)
    steps = [c for c in body["citations"] if c["role"] == "step"]
    assert [c["section"] for c in steps] == ["step-1", "step-2", "step-3", "step-4"]
    positions = [body["answer"].index(c["quote"]) for c in steps]
    assert positions == sorted(positions)
    assert "IDcard,householdregistrationbook" in quoted(body)  # the materials step 3 names
    assert body["citations"][-1]["section"] == "legal-basis"
    assert all(c["key"] != "guidance-terminate-insured-relationship#intro" for c in body["citations"])


def test_a_chinese_guidance_question_shows_chinese_renderings(client: httpx.Client) -> None:
    body = ask_api(client, "原参保地怎么停保？需要准备什么材料？")
    steps = [c for c in body["citations"] if c["role"] == "step"]
    assert len(steps) == 4
    for c in steps:
        assert c["rendering"]["lang"] == "zh" and re.search(r"[\u4e00-\u9fff]", c["rendering"]["text"])
        assert c["rendering"]["official"] is False
        assert c["rendering"]["text"] in body["answer"]  # beside the English quote


def test_treatment_abroad_is_answered_with_its_item(client: httpx.Client) -> None:
    body = ask_api(client, "I had surgery while travelling in Thailand. Will basic medical insurance pay for it?")
    assert_verbatim(body)
    (cite,) = [c for c in body["citations"] if "在境外就医的" in c["quote"]]
    assert cite["key"] == "social-insurance-law:30" and "不纳入基本医疗保险基金支付范围" in cite["quote"]


def test_every_chinese_quote_in_an_english_answer_carries_a_rendering(client: httpx.Client) -> None:
    for question in (
        "Does my pension history follow me to another province?",
        "Who pays maternity insurance contributions?",
        "What happens if my employer does not pay social insurance?",
    ):
        body = ask_api(client, question)
        chinese = [c for c in body["citations"] if re.search(r"[\u4e00-\u9fff]", c["quote"])]
        assert chinese, question
        assert all(c["rendering"] and c["rendering"]["lang"] == "en" for c in chinese), question


def test_chinese_answers_carry_no_rendering_of_chinese_quotes(client: httpx.Client) -> None:
    body = ask_api(client, "我从武汉调到西安上班，原来交的养老保险还有用吗？")
    assert body["citations"] and all(c["rendering"] is None for c in body["citations"])


def test_a_rule_continued_by_a_lead_in_comes_with_its_items(client: httpx.Client) -> None:
    """若干规定第十三条: "…待遇。其中，非因本人意愿中断就业包括下列情形：" was quoted
    and stopped at the colon: the rule's continuation is a lead-in, and its items
    were never added."""
    body = ask_api(client, "我是自己主动辞职的，还能领失业金吗？")
    assert_verbatim(body)
    mine = [c for c in body["citations"] if c["key"] == "social-insurance-law-implementing-provisions:13"]
    assert mine, [c["key"] for c in body["citations"]]
    assert "包括下列情形：" in mine[0]["quote"]
    assert any(re.match(r"（[一二三四五六]）", c["quote"].strip()) or "（一）" in c["quote"] for c in mine), mine


@pytest.mark.parametrize(("question", "full", "short", "bare"), [
    ("我是自己主动辞职的，还能领失业金吗？", "《中华人民共和国社会保险法》第", "《社会保险法》第", r"^第[一二三四五六七八九十百]+条："),
    ("Who pays for work-related injury insurance and what does the fund cover?",
     "of the Social Insurance Law of the People's Republic of China", "of the Social Insurance Law:", r"^Article \d+: "),
])
def test_a_document_named_again_is_named_by_its_short_title(client: httpx.Client, question: str, full: str, short: str, bare: str) -> None:
    """The full title once; later by the short title, or by the article number alone
    in the block right after one quoting the same document."""
    body = ask_api(client, question)
    keys = [c["key"] for c in body["citations"]]
    assert len({k for k in keys if k.startswith("social-insurance-law:")}) >= 2, keys
    answer = body["answer"]
    assert answer.count(full) == 1, answer[:300]
    later = [m.start() for m in re.finditer(re.escape(short), answer)] + [m.start() for m in re.finditer(bare, answer, re.MULTILINE)]
    assert later and answer.index(full) < min(later), answer[:300]


def test_the_next_article_of_the_same_law_is_named_by_its_number(client: httpx.Client) -> None:
    """SIL 54, 55, 56, 53 one after another: the title once, then 第五十五条：… on its own line."""
    body = ask_api(client, "生育保险能报销哪些医疗费用？产假期间的生育津贴又是按什么标准发？")
    lines = [line for line in body["answer"].splitlines() if re.match(r"^(根据《|第[一二三四五六七八九十百]+条：)", line)]
    assert lines[0].startswith("根据《中华人民共和国社会保险法》第"), lines
    assert len(lines) >= 3 and all(re.match(r"^第[一二三四五六七八九十百]+条：", line) for line in lines[1:]), lines


def test_a_second_question_in_one_message_gets_its_article(client: httpx.Client) -> None:
    """The allowance's standard (SIL 56) answers only the second question: by cosine
    it is far from the whole message, close to its own question."""
    body = ask_api(client, "生育保险能报销哪些医疗费用？产假期间的生育津贴又是按什么标准发？")
    assert_verbatim(body)
    assert "social-insurance-law:56" in [c["key"] for c in body["citations"]]
    assert "用人单位上年度职工月平均工资" in quoted(body)


def test_an_article_in_the_work_injury_chapter_is_not_taken_for_medical_insurance(client: httpx.Client) -> None:
    """IP art. 10 (how drunkenness is established) names 医疗机构 once: its chapter,
    关于工伤保险, says what it is about."""
    body = ask_api(client, "喝醉了在工作中受伤能算工伤吗？醉没醉又是按什么标准、凭什么材料认定的？")
    assert_verbatim(body)
    assert "GB19522-2004" in quoted(body) and "检测结论、诊断证明等材料" in quoted(body), [c["key"] for c in body["citations"]]


@pytest.mark.parametrize(("question", "applies", "other"), [
    ("马上到退休年龄了，社保才交了十一年，不够的几年还能补吗？", "累计缴费不足十五年的", "累计缴费满十五年的"),
    ("I am about to retire and have paid contributions for 20 years. Can I get a monthly pension?", "累计缴费满十五年的", "累计缴费不足十五年的"),
])
def test_paragraph_tiers_put_the_askers_tier_first(client: httpx.Client, question: str, applies: str, other: str) -> None:
    """SIL art. 16's two paragraphs are the tiers of one rule (15 years reached or not):
    both are quoted, the one that fits the asker marked and first."""
    body = ask_api(client, question)
    assert_verbatim(body)
    art16 = [c for c in body["citations"] if c["key"] == "social-insurance-law:16"]
    assert [c["role"] for c in art16] == ["applies", "other-tiers"], [(c["role"], c["quote"][:30]) for c in art16]
    assert applies in art16[0]["quote"] and other in art16[1]["quote"]
    assert body["answer"].index(applies) < body["answer"].index(other)


@pytest.mark.slow
def test_no_development_answer_quotes_a_heading_a_title_or_a_lead_in_alone(client: httpx.Client) -> None:
    questions = [json.loads(line) for line in (ROOT / "eval/questions/dev.jsonl").read_text(encoding="utf-8").splitlines()]
    offending = []
    for q in questions:
        body = ask_api(client, q["question"])
        assert_verbatim(body)
        citations = body["citations"]
        for n, c in enumerate(citations):
            if c["quote"].strip() in TITLES or HEADING_LINE.search(c["quote"]) or c["quote"].lstrip().startswith(("第", "#")) and re.match(r"第[一二三四五六七八九十百零]+条", c["quote"].lstrip()):
                offending.append((q["id"], c["key"], c["quote"][:40]))
            # a quote that ends in the colon of a lead-in is followed by its items
            following = citations[n + 1] if n + 1 < len(citations) else None
            if c["quote"].rstrip().endswith(("：", ":")) and (following is None or following["key"] != c["key"]):
                offending.append((q["id"], c["key"], "lead-in alone: " + c["quote"][-30:]))
    assert offending == []
