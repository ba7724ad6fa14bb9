"""The course website in headless Chromium: every page, as a learner sees it.

Needs the built site (`make site`); run by `make site-check`.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PAGES = ["", "setup/", "readme/"] + [f"notebooks/{stem}/" for stem in NOTEBOOKS]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
TRACEBACK = "Traceback (most recent call last)"
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'


def shot_name(page: str, suffix: str) -> str:
    return (page.strip("/").replace("/", "-") or "home") + f"-{suffix}.png"


def open_page(browser, url: str, viewport: dict):
    """Open `url`; return the page and the problems seen while loading it."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda msg: problems.append(f"console error: {msg.text}")
        if msg.type == "error"
        else None,
    )
    page.on(
        "requestfailed",
        lambda request: problems.append(f"request failed: {request.url[:120]}"),
    )
    page.on(
        "response",
        lambda response: problems.append(f"HTTP {response.status}: {response.url}")
        if response.status >= 400
        else None,
    )
    page.goto(url, wait_until="load")
    # MathJax 2 probes web-font support with a font at about:blank, which
    # Chromium refuses: harmless, and nothing else may fail.
    return page, [p for p in problems if "about:blank" not in p]


def save_first_figure(page, path: Path) -> None:
    """Screenshot the screen that shows a notebook's first figure, if any."""
    figure = page.locator(".jp-OutputArea-output img")
    if figure.count():
        figure.first.scroll_into_view_if_needed()
        page.screenshot(path=path)


_FETCHED: dict[str, tuple[int, str]] = {}


def fetch(url: str) -> tuple[int, str]:
    """Status and text of a URL of the local site, cached for the session."""
    if url not in _FETCHED:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                kind = response.headers.get("Content-Type", "")
                body = response.read()
                text = body.decode("utf-8", "replace") if "html" in kind else ""
                _FETCHED[url] = (response.status, text)
        except urllib.error.HTTPError as error:
            _FETCHED[url] = (error.code, "")
    return _FETCHED[url]


def ids_in(text: str) -> set[str]:
    return {html.unescape(m) for m in re.findall(r'\b(?:id|name)="([^"]*)"', text)}


def test_every_built_page_is_checked(site_dir):
    built = {p.parent.relative_to(site_dir) for p in site_dir.rglob("index.html")}
    pages = {f"{p.as_posix()}/" if p != Path(".") else "" for p in built}
    assert pages == set(PAGES)


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.strip("/") or "home")
def test_page_in_a_desktop_browser(browser, site_url, artefacts, path):
    page, problems = open_page(browser, site_url + path, DESKTOP)
    try:
        # Images: every one decoded with a real size (lazy ones forced in).
        broken = page.evaluate(
            """async () => {
              const images = [...document.images];
              images.forEach((img) => { img.loading = "eager"; });
              await Promise.all(images.map((img) => img.decode().catch(() => null)));
              return images.filter((img) => !(img.complete && img.naturalWidth > 0))
                           .map((img) => (img.currentSrc || img.src).slice(0, 80));
            }"""
        )
        assert broken == [], f"images that did not load on {path}: {broken}"
        figures = page.evaluate("document.images.length")
        if path.startswith("notebooks/") and not path.startswith("notebooks/00"):
            assert figures > 0, f"{path} shows no figure"

        # No Python traceback and no error output on the page.
        text = page.inner_text("body")
        assert TRACEBACK not in text, f"{path} shows a Python traceback"
        errors = page.locator(STDERR)
        assert errors.count() == 0, (
            f"{path} shows error output: {errors.first.inner_text()[:300]}"
        )

        # Every link into the site resolves, anchors included.
        hrefs = page.evaluate("[...document.links].map((a) => a.href)")
        bad = []
        for href in sorted(set(hrefs)):
            if not href.startswith(site_url):
                continue
            target, _, fragment = href.partition("#")
            status, body = fetch(target)
            if status != 200:
                bad.append(f"{href} -> HTTP {status}")
            elif fragment and body and urllib.parse.unquote(fragment) not in ids_in(
                body
            ):
                bad.append(f"{href} -> no element with id {fragment!r}")
        assert bad == [], f"broken links on {path}: {bad}"

        page.screenshot(path=artefacts / shot_name(path, "desktop"))
        save_first_figure(page, artefacts / shot_name(path, "desktop-figure"))
        assert problems == [], f"{path} while loading: {problems}"
    finally:
        page.context.close()


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.strip("/") or "home")
def test_page_at_a_phone_width(browser, site_url, artefacts, path):
    page, problems = open_page(browser, site_url + path, PHONE)
    try:
        widths = page.evaluate(
            "({scroll: document.documentElement.scrollWidth,"
            " inner: window.innerWidth})"
        )
        # The text itself must fit: a paragraph, list item or heading may not
        # reach past the screen's edge (the notebook's box would scroll
        # sideways) unless it sits in code, a table or an output, which
        # scroll on their own.
        cut = page.evaluate(
            """() => {
              const scrolls = (el) => !!el.closest(
                'pre, table, .highlight, .jp-OutputArea-output,'
                + ' .md-typeset__scrollwrap');
              const w = window.innerWidth;
              return [...document.querySelectorAll(
                  'article p, article li, article h1, article h2, article h3,'
                  + ' article h4, article blockquote')]
                .filter((el) => el.offsetParent !== null && !scrolls(el))
                .filter((el) => el.getBoundingClientRect().right > w + 1
                                || el.getBoundingClientRect().left < -1)
                .map((el) => el.innerText.slice(0, 60));
            }"""
        )
        page.screenshot(path=artefacts / shot_name(path, "phone"))
        save_first_figure(page, artefacts / shot_name(path, "phone-figure"))
        assert widths["scroll"] <= widths["inner"], (
            f"{path} scrolls sideways at {PHONE['width']} px: the page is "
            f"{widths['scroll']} px wide"
        )
        assert cut == [], f"text cut at {PHONE['width']} px on {path}: {cut}"
        assert problems == [], f"{path} while loading: {problems}"
    finally:
        page.context.close()


def test_audio_of_09_plays(browser, site_url, artefacts):
    path = "notebooks/09_gen_ai_impact/"
    page, problems = open_page(browser, site_url + path, DESKTOP)
    try:
        audio = page.locator("audio")
        assert audio.count() >= 1, "notebook 09's page has no audio player"
        page.wait_for_function(
            "() => [...document.querySelectorAll('audio')]"
            ".every((a) => a.readyState >= 1)",
            timeout=20_000,
        )
        players = page.evaluate(
            """() => [...document.querySelectorAll('audio')].map((a) => {
                 const source = a.querySelector('source');
                 const type = source ? source.type : '';
                 return {src: a.currentSrc.slice(0, 30), type: type,
                         can: type ? a.canPlayType(type) : 'no type',
                         duration: a.duration, error: a.error && a.error.code};
               })"""
        )
        for player in players:
            assert player["src"], f"an audio element has no source: {player}"
            assert player["can"] in ("maybe", "probably"), player
            assert player["error"] is None, player
            assert 0 < player["duration"] < 600, player
        audio.first.scroll_into_view_if_needed()
        cell = "xpath=ancestor::div[contains(@class,'jp-Cell')][1]"
        block = audio.first.locator(cell)
        block.screenshot(path=artefacts / "notebooks-09-audio.png")
        assert problems == []
    finally:
        page.context.close()


def test_widget_of_06_has_a_note_and_its_static_figure(browser, site_url, artefacts):
    path = "notebooks/06_text_generation_pipeline/"
    page, _ = open_page(browser, site_url + path, DESKTOP)
    try:
        note = page.locator(".kg-widget-note")
        assert note.count() == 1, "notebook 06's widget cell has no note"
        assert "needs Jupyter" in note.inner_text()
        # The static figure the note points to: the last figure above it.
        above = page.evaluate(
            """() => {
              const note = document.querySelector('.kg-widget-note');
              return [...document.images].filter((img) =>
                img.compareDocumentPosition(note) & Node.DOCUMENT_POSITION_FOLLOWING
                && img.naturalWidth > 0).length;
            }"""
        )
        assert above > 0
        note.scroll_into_view_if_needed()
        cell = note.locator("xpath=ancestor::div[contains(@class,'jp-Cell')][1]")
        cell.screenshot(path=artefacts / "notebooks-06-widget-note.png")
    finally:
        page.context.close()


def test_equations_are_typeset_offline(browser, site_url):
    """MathJax, vendored into the site, turns notebook 06's TeX into math."""
    page, problems = open_page(
        browser, site_url + "notebooks/06_text_generation_pipeline/", DESKTOP
    )
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('span.MathJax').length > 0",
            timeout=30_000,
        )
        page.wait_for_timeout(2000)
        assert "\\sum_j" not in page.inner_text("body"), "raw TeX left on the page"
        assert problems == []
    finally:
        page.context.close()
