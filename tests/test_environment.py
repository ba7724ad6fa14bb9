"""environment.yml gives conda users the same environment as pyproject.toml."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_installs_the_package_with_its_dev_extra():
    text = (ROOT / "environment.yml").read_text()
    pip_lines = re.findall(r"^\s+- (-e \S+|\S+)\s*$", text, flags=re.M)
    assert "-e .[dev]" in pip_lines
    # No package is pinned a second time in conda: versions live in pyproject.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [
        re.split(r"[<>=\[ ]", dep)[0]
        for dep in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]
    for name in names:
        assert not re.search(rf"^\s+- {re.escape(name)}\b", text, flags=re.M), name


def test_environment_python_satisfies_requires_python():
    text = (ROOT / "environment.yml").read_text()
    conda_python = re.search(r"- python=(\d+)\.(\d+)", text)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimum = re.search(r">=(\d+)\.(\d+)", project["requires-python"])
    assert tuple(map(int, conda_python.groups())) >= tuple(map(int, minimum.groups()))


def test_dev_extra_has_what_make_test_runs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = " ".join(project["optional-dependencies"]["dev"])
    for tool in ("pytest", "nbval", "ipykernel", "ruff", "pytest-xdist", "jax[cpu]"):
        assert tool in dev
    assert project["scripts"]["keras-gen"] == "keras_gen.cli:main"


def test_gpu_extra_pins_tensorflow_to_the_runtime_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (runtime,) = [d for d in project["dependencies"] if d.startswith("tensorflow")]
    (gpu,) = project["optional-dependencies"]["gpu"]
    assert gpu == runtime.replace("tensorflow", "tensorflow[and-cuda]", 1)
