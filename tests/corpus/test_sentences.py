"""The one sentence splitter (corpus.sentences), for passages and for LLM replies."""

from __future__ import annotations

from corpus.sentences import sentence_spans
from qa_service.llm import split_sentences as reply_sentences


def pieces(text: str, **options: bool) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text, **options)]


def test_passages_split_at_semicolons_replies_do_not() -> None:
    text = "缴费满一年不足五年的，最长为十二个月；缴费满五年的，最长为十八个月。另见第四十六条。"
    assert pieces(text) == ["缴费满一年不足五年的，最长为十二个月；", "缴费满五年的，最长为十八个月。", "另见第四十六条。"]
    assert pieces(text, semicolons=False) == ["缴费满一年不足五年的，最长为十二个月；缴费满五年的，最长为十八个月。", "另见第四十六条。"]


def test_english_stops_after_words_and_markers_but_not_after_a_step_number() -> None:
    assert pieces("1. Understand the rules. Then apply [1]. Done") == ["1. Understand the rules.", "Then apply [1].", "Done"]
    assert pieces("他说“好。”然后走了。") == ["他说“好。”", "然后走了。"]


def test_a_reply_keeps_its_markers_with_the_sentence_they_follow() -> None:
    reply = "应当在三十日内登记。[1] 逾期的，处罚款。[2][3]\n- 个人可以查询。【1】"
    assert reply_sentences(reply) == ["应当在三十日内登记。[1]", "逾期的，处罚款。[2][3]", "- 个人可以查询。【1】"]
