"""The page's files themselves: shipped, local, no markup built from strings."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "qa_service" / "static"


def _code(path: Path) -> str:
    """The file without comments (block and line comments of JS/CSS, HTML comments)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", text)


def test_page_files_are_shipped() -> None:
    for name in ("index.html", "app.js", "app.css", "favicon.svg"):
        assert (STATIC / name).is_file(), name


def test_no_html_is_built_from_strings() -> None:
    code = _code(STATIC / "app.js")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, f"app.js uses {sink}"


def test_everything_is_served_locally() -> None:
    for name in ("index.html", "app.js", "app.css"):
        code = _code(STATIC / name)
        urls = [u for u in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", code) if "www.w3.org/2000/svg" not in u]
        assert not urls, f"{name} refers to {urls}"
        assert "@import" not in code, name
