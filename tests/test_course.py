"""tools/course.py: the set-up and test entry point for machines without make."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "tools" / "course.py"


def load_course():
    spec = importlib.util.spec_from_file_location("course", COURSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


course = load_course()


def test_it_runs_on_the_standard_library_alone():
    # -I -S: no site-packages, so no TensorFlow, no packaging, nothing installed.
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(COURSE), "--help"],
        capture_output=True, text=True, check=True,
    )
    for command in ("setup", "demo", "test", "lint", "notebooks", "doctor"):
        assert f"    {command} " in result.stdout


def test_the_makefile_calls_course_py_in_every_recipe():
    recipes = {}
    target = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t"):
            recipes.setdefault(target, []).append(line.strip())
        elif re.match(r"^[\w$().-]+:", line) and ":=" not in line:
            target = line.split(":")[0]
    recipes.pop("help")
    assert {"demo", "test", "data", "lint", "notebooks", "clean"} <= set(recipes)
    for name, lines in recipes.items():
        assert lines == [lines[0]] and lines[0].startswith("$(COURSE) "), name


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_runs_course_py_test_with_the_workers():
    # Inside `make test` the environment carries make's own variables, and a
    # nested make would print "Entering directory" lines: run it on its own.
    make_vars = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if k not in make_vars}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "test", "TEST_WORKERS=0"],
        cwd=ROOT, capture_output=True, text=True, check=True, env=env,
    )
    assert result.stdout.split()[-4:] == ["tools/course.py", "test", "--workers", "0"]


class Recorder:
    """Stands in for course.run: records the commands, succeeds."""

    def __init__(self):
        self.commands = []

    def __call__(self, command, env=None, quiet=False):
        self.commands.append(([os.fspath(part) for part in command], env or {}))
        return 0


def fresh_venv(tmp_path, stamp_age):
    venv = tmp_path / "venv"
    python = course.venv_python(venv)
    python.parent.mkdir(parents=True)
    python.write_text("")
    stamp = venv / ".installed"
    stamp.write_text("")
    then = (ROOT / "pyproject.toml").stat().st_mtime + stamp_age
    os.utime(stamp, (then, then))
    return venv


def test_test_is_data_lint_classifier_then_the_one_pytest(
    monkeypatch, tmp_path
):
    recorder = Recorder()
    monkeypatch.setattr(course, "run", recorder)
    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path / "cache"))  # no classifier
    # A copy of the course without the shipped judges: they are trained first.
    monkeypatch.setattr(course, "SHIPPED_JUDGES", (tmp_path / "none",))
    venv = fresh_venv(tmp_path, stamp_age=+10)  # installed after pyproject.toml
    assert course.main(["--venv", str(venv), "test", "--workers", "2"]) == 0
    python = os.fspath(course.venv_python(venv))
    commands = [command for command, _ in recorder.commands]
    assert commands[0] == [python, "-m", "keras_gen.cli", "data"]  # no venv rebuilt
    assert commands[2] == [python, "-m", "ruff", "check", *course.LINT_PATHS]
    assert commands[3][:2] == [python, "-c"] and "load_classifier" in commands[3][2]
    assert "judge='second'" in commands[3][2]  # both judges, before the workers
    assert commands[4] == [
        python, "-m", "pytest", "-n", "2", "--dist", "loadfile", "--doctest-modules",
        "--nbval-lax", "--nbval-current-env", "keras_gen", "tests", "notebooks",
    ]
    assert recorder.commands[4][1] == {"KERAS_GEN_FAST": "1", "KERAS_GEN_OFFLINE": "1"}
    assert len(commands) == 5


def test_the_classifier_step_trains_nothing_when_the_judges_ship(
    monkeypatch, tmp_path
):
    from keras_gen import classifier

    # course.py cannot import keras_gen, so it spells the folders out.
    assert list(course.SHIPPED_JUDGES) == [
        classifier.shipped_folder(judge=j) for j in classifier.JUDGES
    ]
    monkeypatch.setattr(course.Course, "data", lambda self: None)
    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))  # an empty cache
    recorder = Recorder()
    monkeypatch.setattr(course, "run", recorder)
    course.Course(tmp_path / "venv", []).classifier()
    assert recorder.commands == []


def test_the_classifier_step_loads_both_judges_unless_both_are_cached(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(course.Course, "data", lambda self: None)
    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))
    monkeypatch.setattr(course, "SHIPPED_JUDGES", (tmp_path / "none",))
    from keras_gen import classifier

    folders = [tmp_path / "classifiers" / name for name in course.CLASSIFIER_FOLDERS]
    # course.py cannot import keras_gen, so it spells the folders out.
    assert folders == [classifier.classifier_folder(judge=j) for j in classifier.JUDGES]
    for present, runs in [([], True), (folders[:1], True), (folders, False)]:
        for folder in present:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "model.keras").write_bytes(b"")
        recorder = Recorder()
        monkeypatch.setattr(course, "run", recorder)
        course.Course(tmp_path / "venv", []).classifier()
        assert bool(recorder.commands) == runs, present


def test_the_venv_is_rebuilt_only_when_pyproject_changed(monkeypatch, tmp_path):
    recorder = Recorder()
    monkeypatch.setattr(course, "run", recorder)
    venv = fresh_venv(tmp_path, stamp_age=-10)  # pyproject.toml edited since
    assert course.main(["--venv", str(venv), "venv"]) == 0
    commands = [" ".join(command) for command, _ in recorder.commands]
    assert commands[0].endswith(f"-m venv {venv}")
    assert commands[-1].endswith("install --quiet -e .[dev]")
    recorder.commands.clear()
    assert course.main(["--venv", str(venv), "venv"]) == 0  # the stamp is new now
    assert recorder.commands == []


def test_a_failing_step_stops_with_its_status(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(course, "run", lambda command, env=None, quiet=False: 3)
    venv = fresh_venv(tmp_path, stamp_age=+10)
    assert course.main(["--venv", str(venv), "lint"]) == 3
    assert "course.py lint: this command failed (exit status 3)" in (
        capsys.readouterr().err
    )


def import_root(name):
    return str(Path(importlib.util.find_spec(name).origin).parent.parent)


def test_setup_and_a_test_in_a_fresh_virtual_environment(tmp_path):
    """The README's path without make, for real: a new venv, this checkout
    installed into it by pip, then pytest through it. Cheap and offline: the
    venv gets no pip of its own (ensurepip takes 20 s), pip installs only this
    package (--no-deps, --no-index, --no-build-isolation), and pip, the build
    backend and the libraries come from this test's environment through
    PYTHONPATH."""
    setuptools = metadata.version("setuptools")
    if int(setuptools.split(".")[0]) < 77:
        pytest.skip(
            f"setuptools {setuptools} cannot build this package offline (it "
            "needs >=77, which the dev extra installs: rebuild .venv)"
        )
    start = time.perf_counter()
    venv = tmp_path / "venv"
    purelib = sysconfig.get_paths()["purelib"]
    paths = dict.fromkeys([import_root("setuptools"), import_root("pip"), purelib])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    base = [
        sys.executable, str(COURSE), "--venv", str(venv),
        "--venv-args=--without-pip",
        "--pip-args=--no-deps --no-index --no-build-isolation",
    ]
    subprocess.run([*base, "venv"], env=env, check=True, cwd=tmp_path)
    python = course.venv_python(venv)
    where = subprocess.run(
        [python, "-c", "import keras_gen; print(keras_gen.__file__)"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert Path(where.strip()).parent == ROOT / "keras_gen"  # this checkout, -e
    result = subprocess.run(
        [*base, "pytest", "-q", "-p", "no:cacheprovider", "tests/test_env.py",
         "-k", "unclear_flag"],
        env=env, capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    print(f"fresh venv, install and one test: {time.perf_counter() - start:.1f} s")
