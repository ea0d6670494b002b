"""The page's files themselves: shipped, local, no markup built from strings."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "qa_service" / "static"
SCRIPTS = sorted(STATIC.glob("*.js"))  # app.js, the entry module, and the modules it imports
STYLES = sorted(STATIC.glob("*.css"))


def _code(path: Path) -> str:
    """The file without comments (block and line comments of JS/CSS, HTML comments)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", text)


def test_page_files_are_shipped() -> None:
    for name in ("index.html", "app.js", "favicon.svg"):
        assert (STATIC / name).is_file(), name
    assert STYLES, "no stylesheet"


def test_the_page_loads_every_module_and_stylesheet() -> None:
    """index.html loads app.js as a module and every stylesheet; the modules import
    each other by relative path only, and every module is imported by another or is app.js."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert '<script type="module" src="/static/app.js"></script>' in html
    assert [f"/static/{p.name}" for p in STYLES] == sorted(re.findall(r'<link rel="stylesheet" href="([^"]+)">', html))
    imported = {"app.js"}
    for path in SCRIPTS:
        specifiers = re.findall(r'^import .* from "([^"]+)";$', path.read_text(encoding="utf-8"), flags=re.M)
        for specifier in specifiers:
            assert re.fullmatch(r"\./[a-z0-9]+\.js", specifier), f"{path.name} imports {specifier}"
            assert (STATIC / specifier[2:]).is_file(), f"{path.name} imports a missing {specifier}"
            imported.add(specifier[2:])
    assert imported == {p.name for p in SCRIPTS}


def test_no_html_is_built_from_strings() -> None:
    for path in SCRIPTS:
        code = _code(path)
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in code, f"{path.name} uses {sink}"


def test_everything_is_served_locally() -> None:
    for path in [STATIC / "index.html", *SCRIPTS, *STYLES]:
        name = path.name
        code = _code(path)
        urls = [u for u in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", code) if "www.w3.org/2000/svg" not in u]
        assert not urls, f"{name} refers to {urls}"
        assert "@import" not in code, name
