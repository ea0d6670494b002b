"""The questions one message asks: what sentence selection scores each quote against."""

from __future__ import annotations

import pytest

from qa_service.quotes import question_parts


@pytest.mark.parametrize(("message", "parts"), [
    ("申请生育津贴要交什么材料？多久能批下来？", ["申请生育津贴要交什么材料？", "多久能批下来？"]),
    ("What does maternity insurance cover? And how is the allowance paid?", ["What does maternity insurance cover?", "And how is the allowance paid?"]),
    ("我在广州交了三年社保。现在辞职了，能把钱取出来吗？", []),  # one question, told with its story
    ("失业金能领多久？我交了三年", []),
    ("How long can I get unemployment benefits?", []),
])
def test_question_parts(message: str, parts: list[str]) -> None:
    assert question_parts(message) == parts
