"""The notebooks in a real JupyterLab, driven through headless Chromium.

A JupyterLab server runs on a free port of 127.0.0.1 (a token, no browser of
its own, fast and offline mode in its environment) over a copy of notebooks/
in a temporary folder, so the stored notebooks are never touched. Notebook 06
runs in full (about a minute of CPU in fast mode); a slider is moved and its
output must change. Notebook 00's first cells must print the environment.
Run by `make site-check`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 420
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'
# The notebook on show (the others of the workspace are hidden panels).
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
# JupyterLab's own settings for the test: every cell stays in the page (no
# virtual scrolling), and no news or update pop-up covers the notebook.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none"
    },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def clear_outputs(path: Path) -> None:
    """Empty a notebook copy's outputs, so that all the test sees is its run."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} before it "
                f"answered. Its log:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"JupyterLab did not answer {url} within 120 s")


def stop(process: subprocess.Popen) -> None:
    """Stop the server and its kernels: the whole process group."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server over a copy of notebooks/; yields its base URL, token."""
    work = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    for path in (work / "notebooks").glob("*.ipynb"):
        clear_outputs(path)
    settings = work / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        KERAS_GEN_FAST="1",
        KERAS_GEN_OFFLINE="1",
        # The kernel imports keras_gen from this checkout.
        PYTHONPATH=os.pathsep.join(
            [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
        ),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTER_CONFIG_DIR=str(work / "config"),
    )
    log = work / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work / 'notebooks'}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield base, token
    finally:
        stop(process)
    assert process.poll() is not None, "JupyterLab is still running"


def open_notebook(browser, jupyterlab, name: str):
    base, token = jupyterlab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # A workspace of its own, reset: only this notebook is open.
    workspace = Path(name).stem
    url = f"{base}/lab/workspaces/{workspace}/tree/{name}?reset&token={token}"
    page.goto(url, wait_until="load")
    page.wait_for_selector(f"{NOTEBOOK} .jp-Cell", timeout=90_000)
    # JupyterLab may ask which kernel to start (the kernel specs can arrive
    # after the notebook): take the one it offers, the notebook's python3.
    idle = f"{NOTEBOOK.split()[0]} .jp-Notebook-ExecutionIndicator[data-status='idle']"
    deadline = time.monotonic() + 90
    quiet_since = None
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog button.jp-mod-accept")
        if dialog.count():
            dialog.first.click()
            quiet_since = None
        elif page.locator(idle).count():
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 3:
                break
        time.sleep(0.5)
    else:
        pytest.fail(f"the kernel of {name} did not start within 90 s")
    return page


def run_all(page) -> None:
    """Run > Run All Cells, through JupyterLab's menu as a learner would."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def wait_until_run(page, timeout_s: float = RUN_TIMEOUT_S) -> None:
    """Wait until every code cell has run; fail at the first error output."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        errors = page.locator(f"{NOTEBOOK} .jp-OutputArea-output{STDERR}")
        for i in range(errors.count()):
            text = errors.nth(i).inner_text()
            if "Traceback" in text or "Error" in text:
                pytest.fail(f"a cell failed in JupyterLab:\n{text[-2000:]}")
        prompts = page.eval_on_selector_all(
            f"{NOTEBOOK} .jp-CodeCell .jp-InputPrompt",
            "els => els.map(e => e.textContent)",
        )
        if prompts and all(p.strip("[]: \xa0").isdigit() for p in prompts):
            return
        time.sleep(2)
    pytest.fail(f"the notebook did not finish within {timeout_s} s: {prompts}")


def wait_until_idle(page, quiet_s: float = 3, timeout_s: float = 120) -> None:
    """Wait until the kernel has been idle for `quiet_s` seconds."""
    idle = f"{NOTEBOOK.split()[0]} .jp-Notebook-ExecutionIndicator[data-status='idle']"
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        if page.locator(idle).count():
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_s:
                return
        else:
            quiet_since = None
        time.sleep(0.25)
    pytest.fail(f"the kernel was still busy after {timeout_s} s")


def interact_output(page) -> dict:
    """The image and text that the sliders' function drew last."""
    return page.evaluate(
        """() => {
          const box = document.querySelector('.widget-interact');
          const img = box.querySelector('img');
          return {img: img ? img.src : '', text: box.innerText};
        }"""
    )


def test_notebook_06_runs_and_its_slider_redraws(browser, jupyterlab, artefacts):
    page = open_notebook(browser, jupyterlab, "06_text_generation_pipeline.ipynb")
    try:
        run_all(page)
        wait_until_run(page)
        slider = page.locator(".widget-interact .widget-slider").first
        slider.wait_for(timeout=60_000)
        page.wait_for_function(
            "() => !!document.querySelector('.widget-interact img')",
            timeout=60_000,
        )
        wait_until_idle(page)
        slider.scroll_into_view_if_needed()
        before = interact_output(page)
        page.locator(".widget-interact").first.screenshot(
            path=artefacts / "jupyterlab-06-slider-before.png"
        )
        # Temperature from 1.0 to its maximum, 2.5, in one key press (End),
        # so the function draws once.
        handle = slider.locator(".noUi-handle").first
        handle.focus()
        handle.press("End")
        page.wait_for_function(
            """(old) => {
              const img = document.querySelector('.widget-interact img');
              return img && img.src !== old;
            }""",
            arg=before["img"],
            timeout=60_000,
        )
        wait_until_idle(page)
        after = interact_output(page)
        page.locator(".widget-interact").first.screenshot(
            path=artefacts / "jupyterlab-06-slider-after.png"
        )
        readout = slider.locator(".widget-readout").first.inner_text()
        assert readout.strip() == "2.50", readout
        assert after["img"] != before["img"]
        assert after["text"] != before["text"], "the sample text did not change"
    finally:
        page.screenshot(path=artefacts / "jupyterlab-06.png")
        page.context.close()


def test_notebook_00_prints_the_environment(browser, jupyterlab, artefacts):
    page = open_notebook(browser, jupyterlab, "00_setup_check.ipynb")
    try:
        # Its first code cells, one by one, until env.describe() has printed
        # (the imports, then the environment; a few more if cells are added).
        cells = page.locator(f"{NOTEBOOK} .jp-Cell")
        cells.first.click()
        code_run = 0
        for i in range(cells.count()):
            cell = cells.nth(i)
            cell.click()
            page.keyboard.press("Escape")
            page.keyboard.press("Shift+Enter")
            if "jp-CodeCell" in (cell.get_attribute("class") or ""):
                code_run += 1
                cell.locator(".jp-InputPrompt").filter(has_text="[").first.wait_for()
                page.wait_for_function(
                    "([sel, i]) => /\\[\\d+\\]/.test(document.querySelectorAll("
                    "sel)[i].querySelector('.jp-InputPrompt').textContent)",
                    arg=[f"{NOTEBOOK} .jp-Cell", i],
                    timeout=120_000,
                )
            text = page.locator(NOTEBOOK).inner_text()
            if "fast mode:" in text or code_run == 6:
                break
        assert "Traceback" not in text, text[-2000:]
        for expected in ("python:", "keras:", "backend: tensorflow", "fast mode: True"):
            assert expected in text, f"notebook 00 did not print {expected!r}"
    finally:
        page.screenshot(path=artefacts / "jupyterlab-00.png")
        page.context.close()
