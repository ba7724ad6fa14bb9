"""Fixtures of the browser checks: the built site served locally, Chromium.

These tests need Debian's `chromium`, Playwright and the `site` extra, and
take a few minutes, so `make test` does not collect them: `make site-check`
sets KERAS_GEN_BROWSER=1 and runs them (see the Makefile).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

if os.environ.get("KERAS_GEN_BROWSER") != "1":
    collect_ignore_glob = ["test_*.py"]


def artefacts_dir() -> Path:
    """Where screenshots go: $KERAS_GEN_ARTEFACTS or site-check/ (git-ignored)."""
    folder = Path(os.environ.get("KERAS_GEN_ARTEFACTS") or ROOT / "site-check")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium_path() -> str:
    """Debian's Chromium (Playwright's own browser download is not possible)."""
    path = os.environ.get("KERAS_GEN_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise FileNotFoundError(
            "Expected Debian's chromium on the PATH (or KERAS_GEN_CHROMIUM set). "
            "Received: no chromium. Install it with `apt-get install chromium` "
            "or run `make site-check`, which does."
        )
    return path


@pytest.fixture(scope="session")
def artefacts() -> Path:
    return artefacts_dir()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            # Root in a container has no user namespaces for the sandbox.
            args=["--no-sandbox", "--disable-gpu", "--mute-audio"],
        )
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401 - keep the test output clean
        pass


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The built site: site/ or $KERAS_GEN_SITE."""
    site = Path(os.environ.get("KERAS_GEN_SITE") or ROOT / "site")
    if not (site / "index.html").is_file():
        raise FileNotFoundError(
            f"Expected a built site in {site}. Received: no index.html there. "
            "Build it with `make site`."
        )
    return site


@pytest.fixture(scope="session")
def site_url(site_dir):
    """Serve the built site on a free port of 127.0.0.1."""
    site = site_dir
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
