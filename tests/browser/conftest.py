"""Browser tests: Debian's Chromium driven by Playwright against the real server.

Once per session: ingest the bundled corpus into a tmp data dir (both embedders),
start `python -m qa_service serve` on a free loopback port, launch Chromium.
The server is tests/conftest.py's `server_url` (eval.servers starts it).

A missing Chromium fails the tests (it never skips them): CI must prove the
page works. `make browser` (part of `make test`) installs it with apt-get.

SIQA_TEST_SERVER_URL=http://127.0.0.1:8000 runs them against a server you
already run instead (no ingest). Screenshots of every state go to
test-output/browser/. With
SIQA_UPDATE_DOCS_SCREENSHOT=1 the Chinese answer is also saved to
docs/screenshot-zh.png (the README shows it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = ROOT / "test-output" / "browser"
DOCS_SCREENSHOT = ROOT / "docs" / "screenshot-zh.png"
CHROMIUM = os.environ.get("SIQA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EXPECT_TIMEOUT_MS = 30_000

os.environ.setdefault("HF_HUB_OFFLINE", "1")


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="session")
def api(server_url: str) -> Iterator[httpx.Client]:
    """Direct HTTP access to the same server, for the expected values."""
    with httpx.Client(base_url=server_url, timeout=60) as client:
        yield client


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = Path(CHROMIUM)
    if not path.exists():
        found = shutil.which("chromium")
        if found is None:
            pytest.fail(
                f"Chromium not found at {CHROMIUM}: the browser tests need Debian's Chromium "
                "(`make browser`, or `apt-get install -y chromium`). They fail rather than skip "
                "so that CI proves the page works.",
                pytrace=False,
            )
        return found
    return str(path)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


class PageErrors(list):
    """Uncaught JavaScript errors of the pages a test opened."""


@pytest.fixture
def new_page(browser, server_url: str) -> Iterator[Callable[..., object]]:
    """Factory: `new_page(width=1280, height=900, locale="zh-CN", clipboard=False)` → a
    page on the server's origin. Fails the test on any uncaught JavaScript error."""
    contexts = []
    errors = PageErrors()

    def make(width: int = 1280, height: int = 900, locale: str = "zh-CN", clipboard: bool = False, path: str = "/"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, device_scale_factor=1)
        if clipboard:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server_url)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server_url + path)
        page.wait_for_selector("body[data-ready='true']")
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshot() -> Callable[..., Path]:
    """`screenshot(page, "name")` → test-output/browser/name.png (full page)."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)

    def save(page, name: str, full_page: bool = True) -> Path:
        path = OUTPUT_DIR / f"{name}.png"
        page.mouse.move(0, 0)  # no hover effects in the pictures
        page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
        return path

    return save


@pytest.fixture(scope="session")
def docs_screenshot() -> Path | None:
    """docs/screenshot-zh.png when SIQA_UPDATE_DOCS_SCREENSHOT is set (the README shows it), else None."""
    return DOCS_SCREENSHOT if os.environ.get("SIQA_UPDATE_DOCS_SCREENSHOT", "") not in ("", "0") else None
