"""The "answers" block: key facts (nuggets) found in answers, the complete-answer rate,
answer length and the gold share of the cited passages, on a hand-made run whose
figures are worked out by hand. No model, no corpus: nuggets are given directly."""

from __future__ import annotations

import pytest

from eval.nuggets import answers_block, missing_nuggets
from eval.questions import Question
from eval.report import answers_markdown, answers_table, incomplete_markdown
from eval.results import CitationRecord, QuestionResult

LONG_QUOTE = "第十四条 个人账户不得提前支取，\n记账利率不得低于银行定期存款利率，免征利息税。个人死亡的，个人账户余额可以继承。"


def cite(key: str, quote: str = "引文") -> CitationRecord:
    return CitationRecord(key=key, file="law.md", start=0, end=len(quote), quote=quote)


def answered(qid: str, answer: str, *citations: CitationRecord) -> QuestionResult:
    return QuestionResult(qid, [], 1.0, False, None, list(citations), 1.0, "v1", answer)


QUESTIONS = [
    # zh, category x: 3 nuggets, all found (one only in a quote, one across a line break of the answer)
    Question("a1", "交几年？", "zh", gold=("law:16",), category="x",
             nuggets=(("累计缴费满十五年",), ("十五年", "15年"), ("按月领取基本养老金",))),
    # zh, category x: 2 nuggets, "继承" missing (the quote that holds it is not cited)
    Question("a2", "能取吗？", "zh", gold=("law:14",), category="x",
             nuggets=(("个人账户不得提前支取",), ("余额可以继承",))),
    # en, category y: 2 nuggets, both found; the second through its second alternative; spaces ignored
    Question("a3", "How do I stop?", "en", gold=("guide",), category="y",
             nuggets=(("fill in the application form",), ("ID card", "identity card"))),
    # en, category y: refused, so both nuggets are missing although the refusal text contains one
    Question("a4", "Refused?", "en", gold=("law:1",), category="y", nuggets=(("sorry",), ("law",))),
    # zh, category z: no nuggets; counts for length and the gold share only
    Question("a5", "无要点", "zh", gold=("law:1",), category="z"),
    # zh: nuggets, but the saved result predates answer texts: named, not scored
    Question("a6", "旧结果", "zh", gold=("law:1",), category="z", nuggets=(("十五年",),)),
    # unanswerable and answered: in none of these figures
    Question("u1", "公积金？", "zh", answerable=False, category="out"),
]
RESULTS = {
    "a1": answered("a1", "参加基本养老保险的个人，达到法定退休年龄时累计缴费满十五\n年的 [1]。",  # 36 characters
                   cite("law:16", "第十六条 ……按月领取基本养老金。"), cite("law:16", "重复引用"), cite("law:10")),
    "a2": answered("a2", "个人账户不得\n提前支取 [1]。",  # 16 characters
                   cite("law:14", "第十四条 个人账户不得提前支取")),
    "a3": answered("a3", "You fill in the\napplication  form and bring your identity card [1].",  # 67 characters
                   cite("guide#step-2", "Step 2")),
    "a4": QuestionResult("a4", [], 1.0, True, "out_of_scope", [cite("law:1", "sorry, law")], 1.0, "v1",
                         "sorry, no law covers this"),
    "a5": answered("a5", "第一条。", cite("law:10", LONG_QUOTE)),  # 4 characters; law:1 must not match law:10
    "a6": QuestionResult("a6", [], 1.0, False, None, [cite("law:1")], 1.0, "v1"),  # answer=None
    "u1": answered("u1", "住房公积金……" * 20, cite("law:1")),
}


@pytest.fixture(scope="module")
def answers() -> dict:
    return answers_block(QUESTIONS, RESULTS)


def test_nugget_recall_and_complete_rate_by_hand(answers: dict) -> None:
    # found: a1 3/3, a2 1/2, a3 2/2, a4 0/2 (refused); a5 has none; a6 not scored
    assert answers["n_with_nuggets"] == 4
    assert answers["n_nuggets"] == 9
    assert answers["n_nuggets_found"] == 6
    assert answers["nugget_recall"] == pytest.approx(6 / 9)
    assert answers["nugget_recall_macro"] == pytest.approx((1 + 1 / 2 + 1 + 0) / 4)
    assert answers["n_complete"] == 2
    assert answers["complete_rate"] == pytest.approx(2 / 4)
    assert answers["without_answer_text"] == ["a6"]


def test_matching_ignores_whitespace_on_both_sides_and_accepts_any_alternative() -> None:
    q = Question("w", "q", "en", nuggets=(("fill in the application form",), ("ID card", "identity card")))
    assert missing_nuggets(q, answered("w", "fillintheapplication\tform, identity  card")) == []
    assert missing_nuggets(q, answered("w", "fill in the form; ID cards")) == [("fill in the application form",)]
    zh = Question("z", "q", "zh", nuggets=(("个人账户 不得提前支取",),))  # a nugget with a space, an answer without
    assert missing_nuggets(zh, answered("z", "个人账户不得提前支取")) == []
    assert missing_nuggets(zh, answered("z", "个人账户不得")) == [("个人账户 不得提前支取",)]


def test_quotes_count_but_each_text_is_matched_on_its_own() -> None:
    q = Question("c", "q", "zh", nuggets=(("不得提前支取",),))
    assert missing_nuggets(q, answered("c", "见引文 [1]", cite("k", "个人账户不得提前支取"))) == []
    # half in the answer, half in a quote is not the fact stated
    assert missing_nuggets(q, answered("c", "不得提前", cite("k", "支取"))) == [("不得提前支取",)]


def test_a_refused_answerable_question_misses_all_its_nuggets() -> None:
    q = Question("r", "q", "zh", nuggets=(("十五年",), ("养老金",)))
    refused = QuestionResult("r", [], None, True, "low_confidence", [cite("k", "十五年 养老金")], None, None, "十五年养老金")
    assert missing_nuggets(q, refused) == [("十五年",), ("养老金",)]


def test_split_by_language_and_category(answers: dict) -> None:
    zh, en = answers["by_lang"]["zh"], answers["by_lang"]["en"]
    assert (zh["n_with_nuggets"], zh["n_nuggets"], zh["n_nuggets_found"]) == (2, 5, 4)
    assert zh["nugget_recall"] == pytest.approx(4 / 5)
    assert zh["complete_rate"] == pytest.approx(1 / 2)
    assert (en["n_with_nuggets"], en["n_nuggets"], en["n_nuggets_found"]) == (2, 4, 2)
    assert en["nugget_recall"] == pytest.approx(2 / 4)
    assert en["complete_rate"] == pytest.approx(1 / 2)
    cats = answers["by_category"]
    assert set(cats) == {"x", "y", "z"}  # "out" has no answerable question
    assert cats["x"]["nugget_recall"] == pytest.approx(4 / 5) and cats["x"]["complete_rate"] == pytest.approx(1 / 2)
    assert cats["y"]["nugget_recall"] == pytest.approx(2 / 4) and cats["y"]["n_complete"] == 1
    assert cats["z"]["n_with_nuggets"] == 0 and cats["z"]["nugget_recall"] is None
    assert cats["z"]["n_answered"] == 1  # a5; a6 has no answer text to measure


def test_answer_length_over_answered_questions(answers: dict) -> None:
    # answered answerable questions with text: a1 36, a2 16, a3 67, a5 4 (a4 refused, a6 no text, u1 unanswerable)
    assert answers["n_answered"] == 4
    assert answers["answer_chars_median"] == pytest.approx((16 + 36) / 2)
    assert answers["answer_chars_p90"] == pytest.approx(36 + 0.7 * (67 - 36))  # numpy's linear interpolation
    assert answers["by_lang"]["en"]["answer_chars_median"] == pytest.approx(67)
    assert answers["by_lang"]["zh"]["answer_chars_median"] == pytest.approx(16)


def test_gold_cited_share_uses_the_gold_matching_rule(answers: dict) -> None:
    # a1: law:16 (twice: one passage), law:10 -> 1 of 2; a2: law:14 -> 1 of 1;
    # a3: guide#step-2 under bare-doc gold "guide" -> 1 of 1; a5: law:10 is not gold law:1 -> 0 of 1.
    # a4 is refused, a6 has no answer text, u1 is unanswerable: their citations are not counted.
    assert (answers["n_cited"], answers["n_cited_gold"]) == (5, 3)
    assert answers["gold_cited_share"] == pytest.approx(3 / 5)
    assert answers["by_lang"]["zh"]["gold_cited_share"] == pytest.approx(2 / 4)
    assert answers["by_lang"]["en"]["gold_cited_share"] == pytest.approx(1 / 1)


def test_incomplete_answers_name_the_missing_nuggets_and_what_was_cited(answers: dict) -> None:
    incomplete = {item["id"]: item for item in answers["incomplete"]}
    assert list(incomplete) == ["a2", "a4"]
    assert incomplete["a2"]["missing"] == [["余额可以继承"]]
    assert incomplete["a2"]["cited"] == [{"key": "law:14", "quote": "第十四条 个人账户不得提前支取"}]
    assert (incomplete["a4"]["refused"], incomplete["a4"]["missing"]) == (True, [["sorry"], ["law"]])
    long = answers_block(QUESTIONS[4:5] + [Question("a7", "q", "zh", nuggets=(("继承人",),))],
                         RESULTS | {"a7": answered("a7", "无", cite("law:14", LONG_QUOTE))})["incomplete"]
    quote = long[0]["cited"][0]["quote"]
    assert quote == " ".join(LONG_QUOTE.split())[:40] + "…"  # a short prefix, line breaks folded


def test_the_block_renders_as_markdown_and_a_console_table(answers: dict) -> None:
    markdown = "\n".join(answers_markdown(answers) + incomplete_markdown(answers))
    assert "## Answer content" in markdown
    assert "| category y | 2 | 4 | 0.500 | 0.500 | 1 | 67.0 | 67.0 | 1 | 1.000 |" in markdown
    assert "## Answers missing a nugget: 2" in markdown
    assert "- `a2` (zh, x) 能取吗？ — missing 1/2: 「余额可以继承」 — cited: law:14 「第十四条 个人账户不得提前支取」" in markdown
    assert "- `a4` (en, y) Refused? — missing 2/2: 「sorry」; 「law」 — cited: refused" in markdown
    assert "Not scored for nuggets (no answer text in the saved results): a6" in markdown
    assert answers_table({"answers": answers}).row_count == 1 + 2 + 3  # all, zh, en, x, y, z
