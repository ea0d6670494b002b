"""What the browser tests share besides fixtures (tests/browser/conftest.py): the
questions and documents they name and the page's steps and checks (expected
values come from the API through tests/api_calls.py)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

STATIC = Path(__file__).resolve().parents[2] / "qa_service" / "static"

ZH_QUESTION = "我从武汉调到西安上班，原来交的养老保险还有用吗？"
EN_QUESTION = "Does my pension history follow me to another province?"
OUT_OF_SCOPE = "明天上海会下雨吗？"
SIL = "social-insurance-law"
SIL_TITLE = "中华人民共和国社会保险法"
SIL_TITLE_EN = "Social Insurance Law of the People's Republic of China"
ZH_NUMERALS = {19: "第十九条", 41: "第四十一条", 58: "第五十八条", 63: "第六十三条"}


def ask_on_page(page: Page, question: str) -> None:
    page.fill("#question", question)
    page.press("#question", "Enter")


def wait_for_answer(page: Page) -> None:
    expect(page.locator("#ask-result .answer")).to_be_visible()
    # every cited article loaded and its quote highlighted (no card still loading)
    expect(page.locator("#ask-result .loading-inline")).to_have_count(0)
    expect(page.locator("#ask-result .cite-card .article-text").first).to_be_visible()


def wait_for_result(page: Page) -> None:
    """An answer or a refusal, whichever the service gives (for tests about the page, not the answer)."""
    expect(page.locator("#ask-result .answer, #ask-result .refusal")).to_be_visible()
    expect(page.locator("#ask-result .loading-inline")).to_have_count(0)


def no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
        " view: document.documentElement.clientWidth})"
    )
    assert widths["doc"] <= widths["view"], widths
    assert widths["body"] <= widths["view"], widths


def clipboard_text(page: Page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")
