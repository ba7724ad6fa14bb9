"""The Colab cell: first code cell of every notebook, inert outside Colab."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load_tool():
    path = ROOT / "tools" / "colab_cell.py"
    spec = importlib.util.spec_from_file_location("colab_cell", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_cell = load_tool()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_starts_with_the_same_current_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert colab_cell.is_colab_cell(code[0])
    assert sum(colab_cell.is_colab_cell(cell) for cell in cells) == 1
    assert "".join(code[0]["source"]) == colab_cell.CELL_SOURCE.rstrip("\n")
    assert code[0]["outputs"] == [] and code[0]["execution_count"] is None


def test_all_thirteen_notebooks_have_it():
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"{n:02d}" for n in range(13)]
    assert colab_cell.main(["--check"]) == 0


def test_the_tool_is_idempotent_and_restores_a_stale_cell(tmp_path):
    copy = tmp_path / "nb.ipynb"
    shutil.copy(NOTEBOOKS[1], copy)
    before = copy.read_bytes()
    assert colab_cell.update(copy) is False  # already current: untouched
    assert copy.read_bytes() == before
    notebook = json.loads(before)
    cell = next(c for c in notebook["cells"] if colab_cell.is_colab_cell(c))
    cell["source"] = [colab_cell.MARKER + "\n", "print('an old version')"]
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["x"]}]
    copy.write_text(colab_cell.dumps(notebook), encoding="utf-8")
    assert colab_cell.main(["--check", str(copy)]) == 1
    assert colab_cell.update(copy) is True
    assert copy.read_bytes() == before
    assert colab_cell.update(copy) is False
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"]  # no temp files


@pytest.fixture
def recorded(monkeypatch):
    """subprocess.run and os.chdir record their calls instead of acting."""
    calls = []
    monkeypatch.setattr(
        subprocess, "run", lambda command, **kwargs: calls.append(command)
    )
    monkeypatch.setattr(os, "chdir", lambda path: calls.append(["chdir", path]))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("KERAS_GEN_REPO", raising=False)
    return calls


def run_cell():
    exec(compile(colab_cell.CELL_SOURCE, "colab-cell", "exec"), {})


def test_outside_colab_it_does_nothing(recorded, capsys):
    assert "google.colab" not in sys.modules
    run_cell()
    assert recorded == []
    assert capsys.readouterr() == ("", "")


def test_in_colab_it_clones_installs_and_says_so(monkeypatch, recorded, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    home = colab_cell.CLONE_DIR
    real_isdir, real_find_spec = os.path.isdir, importlib.util.find_spec
    monkeypatch.setattr(os.path, "isdir", lambda p: p != home and real_isdir(p))
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "keras_gen" else real_find_spec(name, *a),
    )
    monkeypatch.setattr(os, "getcwd", lambda: f"{home}/notebooks")
    run_cell()
    assert recorded == [
        ["git", "clone", "--depth", "1", colab_cell.REPO_URL, home],
        [sys.executable, "-m", "pip", "install", "--quiet", "-e", home],
        ["chdir", os.path.join(home, "notebooks")],
    ]
    assert sys.path[0] == home
    out = capsys.readouterr().out
    assert f"Cloned {colab_cell.REPO_URL} into {home}." in out
    assert "Installed keras-gen" in out and "Working in" in out

    # A fork through KERAS_GEN_REPO; a second run clones and installs nothing.
    recorded.clear()
    monkeypatch.setenv("KERAS_GEN_REPO", "https://example.org/fork.git")
    monkeypatch.setattr(os.path, "isdir", lambda p: True)
    monkeypatch.setattr(importlib.util, "find_spec", real_find_spec)
    run_cell()
    assert recorded == [["chdir", os.path.join(home, "notebooks")]]
    recorded.clear()
    monkeypatch.setattr(os.path, "isdir", lambda p: p != home and real_isdir(p))
    run_cell()
    assert recorded[0][4] == "https://example.org/fork.git"
