"""The agents' tab of the page, in Debian's Chromium, against the real server:
opening an article by number, following its links, searching with filters.

Expected values come from the same server's API (httpx), so these tests check
what the page does with a response rather than how retrieval ranks today; the
domain facts asserted (article 19 for the transfer question, article 58's text,
the links of article 63) are the ones the issue names or the corpus fixes.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from api_calls import article_api
from page_support import SIL, ZH_NUMERALS

pytestmark = [pytest.mark.browser, pytest.mark.integration]


# --------------------------------------------------------------------------- agents' tab


def test_agents_tab_opens_article_58_by_number(new_page, api, screenshot) -> None:
    article = article_api(api, SIL, 58)
    page = new_page()
    page.locator("#tab-lookup").click()
    expect(page.locator("#panel-lookup")).to_be_visible()
    expect(page.locator("#panel-ask")).to_be_hidden()
    expect(page.locator(f"#open-doc option[value='{SIL}']")).to_have_count(1)
    page.select_option("#open-doc", SIL)
    page.fill("#open-number", "58")
    page.press("#open-number", "Enter")

    card = page.locator("#article-view .article-card")
    expect(card).to_have_attribute("data-key", f"{SIL}:58")
    expect(card.locator(".source-head .article-label")).to_have_text(ZH_NUMERALS[58])
    expect(card.locator(".article-heading")).to_have_text(re.compile(r"^第五十八条"))
    for paragraph in [p for p in article["text"].split("\n") if p.strip()]:
        expect(card.locator(".article-text")).to_contain_text(paragraph.strip())
    expect(card.locator(".chapter")).to_have_text(article["chapter"])
    screenshot(page, "07-lookup-article-58")

    # the number as the statute writes it works as well
    page.fill("#open-number", "第五十八条")
    page.locator("#open-button").click()
    expect(card).to_have_attribute("data-key", f"{SIL}:58")


def test_agents_tab_follows_refers_to_and_referred_by_links(new_page, api, screenshot) -> None:
    a63 = article_api(api, SIL, 63)
    assert f"{SIL}:41" in [link["key"] for link in a63["referred_by"]]
    page = new_page()
    page.locator("#tab-lookup").click()
    page.select_option("#open-doc", SIL)
    page.fill("#open-number", "63")
    page.press("#open-number", "Enter")
    card = page.locator("#article-view .article-card")
    expect(card).to_have_attribute("data-key", f"{SIL}:63")
    expect(card.locator(".referred-by .link-btn")).to_have_count(len(a63["referred_by"]))
    expect(card.locator(".refers-to .link-btn")).to_have_count(len(a63["refers_to"]))
    screenshot(page, "08-lookup-links")

    card.locator(f".referred-by .link-btn[data-key='{SIL}:41']").click()
    expect(card).to_have_attribute("data-key", f"{SIL}:41")
    expect(card.locator(".source-head .article-label")).to_have_text(ZH_NUMERALS[41])
    expect(page.locator("#open-number")).to_have_value("41")
    # and back through "refers to"
    card.locator(f".refers-to .link-btn[data-key='{SIL}:63']").click()
    expect(card).to_have_attribute("data-key", f"{SIL}:63")


def test_agents_tab_searches_with_document_and_chapter_filters(new_page, api, screenshot) -> None:
    documents = api.get("/v1/documents").json()["documents"]
    sil = next(d for d in documents if d["doc_id"] == SIL)
    chapter = "第五章 失业保险"
    assert chapter in sil["chapters"]
    page = new_page()
    page.locator("#tab-lookup").click()
    # filters come from /v1/documents
    expect(page.locator("#search-doc option")).to_have_count(len(documents) + 1)
    page.select_option("#search-doc", SIL)
    expect(page.locator("#search-chapter option")).to_have_count(len(sil["chapters"]) + 1)
    page.select_option("#search-chapter", chapter)
    page.fill("#search-query", "失业保险金")
    page.press("#search-query", "Enter")

    results = page.locator("#search-result .result-card")
    expect(results.first).to_be_visible()
    expected = api.post(
        "/v1/search", json={"query": "失业保险金", "top_k": 10, "filters": {"doc_id": [SIL], "chapter": [chapter]}}
    ).json()["results"]
    assert expected
    expect(results).to_have_count(len(expected))
    for chapter_label in results.locator(".chapter").all_inner_texts():
        assert chapter_label == chapter
    keys = results.evaluate_all("cards => cards.map(c => c.dataset.key)")
    assert keys == [r["key"] for r in expected]
    screenshot(page, "09-lookup-search")

    # a result opens as an article, with its links
    results.first.locator(".open-btn").click()
    expect(page.locator("#article-view .article-card")).to_have_attribute("data-key", expected[0]["key"])
