"""The page when things go wrong (service down, rate limited, rejected input,
markup in the service's text) and for every visitor (keyboard only, phone width,
the language toggle), in Debian's Chromium against the real server.

Expected values come from the same server's API (httpx), so these tests check
what the page does with a response rather than how retrieval ranks today; the
domain facts asserted (article 19 for the transfer question, article 58's text,
the links of article 63) are the ones the issue names or the corpus fixes.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from page_support import EN_QUESTION, SIL, ZH_QUESTION, ask_on_page, no_horizontal_scroll, wait_for_answer, wait_for_result

pytestmark = [pytest.mark.browser, pytest.mark.integration]


# --------------------------------------------------------------------------- failures


def test_service_down_message(new_page, screenshot) -> None:
    page = new_page()
    page.route("**/v1/ask", lambda route: route.abort())
    ask_on_page(page, ZH_QUESTION)
    alert = page.locator("#ask-result .alert-error")
    expect(alert).to_have_attribute("data-kind", "network")
    expect(alert).to_contain_text("无法连接到服务")
    expect(page.locator("#ask-button")).to_have_attribute("aria-busy", "false")
    screenshot(page, "10-service-down")

    page.unroute("**/v1/ask")
    body = {"error": "unavailable", "message": "the search index is unreachable; retry shortly"}
    page.route(
        "**/v1/ask",
        lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(body), headers={"Retry-After": "5"}),
    )
    page.locator("#ask-button").click()
    expect(alert).to_have_attribute("data-kind", "server")
    expect(alert).to_contain_text("服务暂时不可用")
    expect(alert).to_contain_text("HTTP 503")
    expect(alert).to_contain_text(body["message"])
    screenshot(page, "11-service-503")

    # the page recovers once the service is back
    page.unroute("**/v1/ask")
    page.locator("#ask-button").click()
    wait_for_answer(page)
    expect(page.locator("#ask-result .alert-error")).to_have_count(0)


def test_rate_limited_message(new_page) -> None:
    page = new_page()
    body = {"error": "rate_limited", "message": "more than 120 requests per 1 minute from 127.0.0.1; retry in 7 s"}
    page.route("**/v1/ask", lambda route: route.fulfill(status=429, content_type="application/json",
                                                          body=json.dumps(body), headers={"Retry-After": "7"}))
    ask_on_page(page, ZH_QUESTION)
    alert = page.locator("#ask-result .alert-error")
    expect(alert).to_have_attribute("data-kind", "busy")
    expect(alert).to_contain_text("请求过于频繁")
    expect(alert).to_contain_text("7 秒")
    expect(alert.locator(".alert-message")).to_have_text(body["message"])


def test_service_down_in_agents_tab(new_page, screenshot) -> None:
    page = new_page()
    page.route("**/v1/articles/**", lambda route: route.abort())
    page.locator("#tab-lookup").click()
    page.fill("#open-number", "58")
    page.press("#open-number", "Enter")
    expect(page.locator("#article-view .alert-error")).to_have_attribute("data-kind", "network")
    page.unroute("**/v1/articles/**")
    page.route("**/v1/search", lambda route: route.fulfill(status=500, content_type="application/json",
                                                             body='{"error":"internal_error","message":"unexpected error; it has been logged"}'))
    page.fill("#search-query", "失业保险金")
    page.press("#search-query", "Enter")
    alert = page.locator("#search-result .alert-error")
    expect(alert).to_have_attribute("data-kind", "server")
    expect(alert).to_contain_text("HTTP 500")
    expect(alert).to_contain_text("unexpected error; it has been logged")


def test_rejected_input_shows_the_service_message(new_page, api, screenshot) -> None:
    too_long = "养老保险" * 600  # 2400 characters, over the service limit
    response = api.post("/v1/ask", json={"question": too_long})
    assert response.status_code == 422
    message = response.json()["message"]
    page = new_page()
    ask_on_page(page, too_long)
    alert = page.locator("#ask-result .alert-error")
    expect(alert).to_have_attribute("data-kind", "rejected")
    expect(alert).to_contain_text("请求未被接受")
    expect(alert.locator(".alert-message")).to_have_text(message)
    screenshot(page, "12-rejected-input")

    # an article number the document does not have: the 404 message
    missing = api.get(f"/v1/articles/{SIL}/580")
    assert missing.status_code == 404
    page.locator("#tab-lookup").click()
    page.select_option("#open-doc", SIL)
    page.fill("#open-number", "580")
    page.press("#open-number", "Enter")
    alert = page.locator("#article-view .alert-error")
    expect(alert).to_have_attribute("data-kind", "rejected")
    expect(alert.locator(".alert-message")).to_have_text(missing.json()["message"])
    screenshot(page, "13-rejected-article")


def test_empty_question_is_not_sent(new_page) -> None:
    page = new_page()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if "/v1/ask" in request.url else None)
    page.fill("#question", "   ")
    page.press("#question", "Enter")
    expect(page.locator("#ask-result .alert-info")).to_contain_text("请先输入问题")
    assert not sent


def test_text_from_the_service_is_never_parsed_as_html(new_page) -> None:
    evil = '<img src=x onerror="window.__pwned=1"><b id="injected">bold</b>'
    fake = {
        "question": evil, "lang": "en", "answer": f"Answer {evil} [1]", "refused": False, "refusal_reason": None,
        "citations": [{
            "marker": 1, "key": "nope:1", "doc_id": "nope", "title": evil, "title_en": evil, "article": 1,
            "chapter": evil, "section": None, "quote": evil, "start": 0, "end": len(evil), "file": "x.md", "score": 1.0,
        }],
        "see_also": [{"key": "nope:2", "title": evil, "title_en": evil, "article": 2, "chapter": evil, "section": None, "score": 0.1}],
        "mode": "extractive", "corpus_version": "<i>c</i>", "index_version": "<i>i</i>", "took_ms": 1.0,
    }
    page = new_page()
    page.route("**/v1/ask", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(fake)))
    ask_on_page(page, "anything")
    card = page.locator("#ask-result .cite-card")
    expect(card).to_be_visible()
    # the article does not exist: the card falls back to the quote, shown as text
    expect(card.locator("#cite-1")).to_have_text(evil)
    expect(card.locator(".doc-title")).to_have_text(evil)
    expect(page.locator("#ask-result .answer-text")).to_contain_text(evil)
    assert page.locator("#injected").count() == 0
    assert page.locator("#ask-result img").count() == 0
    assert page.evaluate("() => window.__pwned") is None


# --------------------------------------------------------------------------- keyboard, phone, language


def test_keyboard_only_use(new_page, screenshot) -> None:
    page = new_page()
    # Tab from the top reaches the question box, with a visible focus outline
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "question":
            break
    expect(page.locator("#question")).to_be_focused()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type(ZH_QUESTION)
    page.keyboard.press("Enter")
    wait_for_answer(page)
    # Shift+Enter is a new line, not a submit
    page.locator("#question").focus()
    page.keyboard.press("Shift+Enter")
    assert page.locator("#question").input_value().endswith("\n")

    # a marker reached with Tab and followed with Enter focuses its quote
    page.locator("#ask-result a.marker[data-marker='1']").focus()
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("#cite-1")).to_be_focused()

    # the copy button is a real button with a visible focus outline
    page.locator("#ask-result .copy-btn").first.focus()
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    screenshot(page, "14-keyboard-focus", full_page=False)

    # tabs switch with the arrow keys
    page.locator("#tab-ask").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-lookup")).to_be_focused()
    expect(page.locator("#panel-lookup")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#panel-ask")).to_be_visible()


def test_phone_width_has_no_horizontal_scroll(new_page, screenshot) -> None:
    page = new_page(width=390, height=844)
    no_horizontal_scroll(page)
    screenshot(page, "15-phone-empty")
    ask_on_page(page, ZH_QUESTION)
    wait_for_answer(page)
    no_horizontal_scroll(page)
    screenshot(page, "16-phone-answer-zh")

    ask_on_page(page, EN_QUESTION)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    wait_for_result(page)
    # the long English titles of "see also" wrap too
    no_horizontal_scroll(page)
    screenshot(page, "17-phone-answer-en")

    page.locator("#tab-lookup").click()
    page.select_option("#open-doc", SIL)
    page.fill("#open-number", "63")
    page.press("#open-number", "Enter")
    expect(page.locator("#article-view .article-card")).to_be_visible()
    page.fill("#search-query", "转移接续")
    page.press("#search-query", "Enter")
    expect(page.locator("#search-result .result-card").first).to_be_visible()
    no_horizontal_scroll(page)
    screenshot(page, "18-phone-lookup")


def test_language_toggle_switches_labels_and_is_remembered(new_page) -> None:
    page = new_page(locale="zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#tab-ask")).to_have_text("提问")
    page.locator(".lang-btn[data-lang='en']").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#tab-ask")).to_have_text("Ask")
    expect(page.locator("#question")).to_have_attribute("placeholder", re.compile("^Ask in Chinese or English"))
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#tab-ask")).to_have_text("Ask")
