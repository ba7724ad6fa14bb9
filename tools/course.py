"""The course's one entry point for set-up, tests and runs: no make needed.

Run it with any Python 3.11+ from the repository's root, on Linux, macOS or
Windows. It needs nothing but the standard library (it runs before ``.venv``
exists), creates ``.venv``, and runs everything else with ``.venv``'s Python.
The Makefile's targets call it, so ``make test`` and
``python tools/course.py test`` are the same command and cannot drift.

    python tools/course.py setup     # .venv (rebuilt only when pyproject.toml
                                     # changes) and Fashion-MNIST, checked
    python tools/course.py demo      # train the article's GAN, write outputs/
    python tools/course.py test      # ruff, unit tests, doctests, notebooks
    python tools/course.py doctor    # can this machine run the course?
    python tools/course.py --help    # every command

On Windows, ``py -3.11 tools/course.py setup`` if ``python`` is not 3.11+.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = ROOT / ".venv"
#: The environment every test command runs in: fast notebooks, no network.
TEST_ENV = {"KERAS_GEN_FAST": "1", "KERAS_GEN_OFFLINE": "1"}
LINT_PATHS = ["keras_gen", "tests", "benchmarks", "tools", "solutions", "notebooks"]
#: Two pytest workers, one per core of the project's machine (pytest-xdist);
#: ``--dist loadfile`` keeps each notebook (cells in order, as nbval needs)
#: and each test module on one worker. 0 runs everything in one process.
DEFAULT_WORKERS = 2
MIN_PYTHON = (3, 11)
#: The shipped judges' model folders (keras_gen.classifier.SHIPPED_FOLDERS;
#: this script cannot import keras_gen): when both are there, nothing trains.
SHIPPED_JUDGES = (
    ROOT / "data" / "pretrained" / "fashion-mnist-judge",
    ROOT / "data" / "pretrained" / "fashion-mnist-second-judge",
)
#: The cached judges' model folders (keras_gen.classifier.classifier_folder),
#: which the classifier step fills when the shipped ones are missing.
CLASSIFIER_FOLDERS = ("fashion_mnist_classifier", "fashion_mnist_second_judge")
CLASSIFIER_CODE = (
    "from keras_gen.classifier import load_classifier; "
    "load_classifier('fashion_mnist'); "
    "load_classifier('fashion_mnist', judge='second')"
)
BENCHMARKS = [
    ["benchmarks/gan_throughput.py"],
    ["benchmarks/gpt_pretrain.py"],
    ["benchmarks/profile_gpt_step.py"],
    ["benchmarks/image_quality.py"],
    ["benchmarks/generation.py"],
]
PRETRAINED = [
    ["tools/train_pretrained.py"],
    ["tools/train_judges.py", "--judge", "first"],
    ["tools/train_judges.py", "--judge", "second"],
    ["tools/train_moses_gpt.py", "--steps", "8000"],
    ["tools/train_designer.py", "--kind", "cvae", "--steps", "12000"],
    ["tools/train_helpdesk_chat.py", "--steps", "300"],
    ["tools/train_helpdesk_retriever.py", "--steps", "200"],
    ["tools/train_analyst.py", "--steps", "300"],
    [
        "tools/train_text_to_image.py",
        "--ae-steps", "3000", "--steps", "6000", "--encoder", "gpt",
    ],
]


class CourseError(Exception):
    """A step failed; the message says what to do. Carries the exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def venv_python(venv: Path) -> Path:
    """The Python of a virtual environment (``Scripts\\python.exe`` on Windows)."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def is_root() -> bool:
    """Whether we may use the system's package manager (POSIX root only)."""
    geteuid = getattr(os, "geteuid", None)  # absent on Windows
    root = geteuid is not None and geteuid() == 0
    return root and shutil.which("apt-get") is not None


def run(command: list, env: dict | None = None, quiet: bool = False) -> int:
    """Run ``command`` in the repository's root, echoed as make echoes it.

    Args:
        command: The program and its arguments (paths may be ``Path``).
        env: Variables added to this process's environment.
        quiet: Hide the command's output and do not echo it.

    Returns:
        The command's exit status.
    """
    command = [os.fspath(part) for part in command]
    full_env = {**os.environ, **(env or {})}
    if not quiet:
        prefix = " ".join(f"{k}={v}" for k, v in (env or {}).items())
        print(f"+ {prefix + ' ' if prefix else ''}{shlex.join(command)}", flush=True)
    stream = subprocess.DEVNULL if quiet else None
    return subprocess.run(
        command, cwd=ROOT, env=full_env, stdout=stream, stderr=stream, check=False
    ).returncode


def check(command: list, env: dict | None = None) -> None:
    """:func:`run`, stopping with the command's status when it fails."""
    status = run(command, env)
    if status:
        raise CourseError(f"this command failed (exit status {status})", status)


class Course:
    """The steps, each one making sure of the steps it needs (as make does)."""

    def __init__(self, venv: Path, pip_args: list[str], venv_args: list[str] = ()):
        self.venv = venv
        self.python = venv_python(venv)
        self.pip_args = pip_args
        self.venv_args = list(venv_args)
        self.stamp = venv / ".installed"
        self._done: set[str] = set()

    def once(self, step: str) -> bool:
        """True the first time ``step`` is asked for in this run."""
        if step in self._done:
            return False
        self._done.add(step)
        return True

    # -- set-up ------------------------------------------------------------
    def venv_step(self) -> None:
        """Create ``.venv`` and install ``-e .[dev]``, only when pyproject changed."""
        if not self.once("venv"):
            return
        pyproject = ROOT / "pyproject.toml"
        if (
            self.stamp.is_file()
            and self.python.is_file()
            and self.stamp.stat().st_mtime >= pyproject.stat().st_mtime
        ):
            return
        if sys.version_info < MIN_PYTHON:
            raise CourseError(
                f"Expected Python {'.'.join(map(str, MIN_PYTHON))} or newer to "
                f"create {self.venv}. Received: {sys.version.split()[0]} "
                f"({sys.executable}). Run this script with a newer Python "
                "(Windows: py -3.11 tools/course.py setup)."
            )
        if run([sys.executable, "-m", "venv", *self.venv_args, self.venv]):
            if not is_root():
                raise CourseError(
                    f"'{sys.executable} -m venv' failed. On Debian/Ubuntu run: "
                    "sudo apt-get install python3-venv"
                )
            print("Installing python3-venv (Debian/Ubuntu ship venv separately)")
            check(["apt-get", "update", "-qq"])
            check(["apt-get", "install", "-y", "-qq", "python3-venv"])
            shutil.rmtree(self.venv, ignore_errors=True)
            check([sys.executable, "-m", "venv", *self.venv_args, self.venv])
        pip = [self.python, "-m", "pip", "--disable-pip-version-check"]
        check([*pip, "install", "--quiet", "--upgrade", "pip>=23", *self.pip_args])
        check([*pip, "install", "--quiet", "-e", ".[dev]", *self.pip_args])
        self.stamp.touch()

    def data(self) -> None:
        """Fashion-MNIST: Debian's package when we may use apt, else a download."""
        self.venv_step()
        if not self.once("data"):
            return
        keras_gen = [self.python, "-m", "keras_gen.cli"]
        if run([*keras_gen, "data"], quiet=True):
            if is_root():
                print("Installing Debian's dataset-fashion-mnist (30 MB, once)")
                check(["apt-get", "update", "-qq"])
                check(["apt-get", "install", "-y", "-qq", "dataset-fashion-mnist"])
            else:
                check([*keras_gen, "data", "--download"])
        check([*keras_gen, "data"])

    def setup(self) -> None:
        """Everything the notebooks need: ``.venv`` and Fashion-MNIST."""
        self.data()
        print(
            f"Ready. Open the notebooks with {self.python} -m jupyter lab "
            "notebooks/ or check this machine with: python tools/course.py doctor"
        )

    def classifier(self) -> None:
        """Make sure both judges can be loaded before pytest's workers start.

        They ship in ``data/pretrained/``; if those folders are missing (a
        trimmed copy of the course), both are trained into the cache here, once,
        since two workers on a fresh machine would otherwise train one at the
        same time.
        """
        self.data()
        if all((folder / "model.keras").is_file() for folder in SHIPPED_JUDGES):
            return
        root = os.environ.get("KERAS_GEN_CACHE") or Path.home() / ".cache" / "keras_gen"
        folders = [Path(root) / "classifiers" / name for name in CLASSIFIER_FOLDERS]
        if not all((folder / "model.keras").is_file() for folder in folders):
            check([self.python, "-c", CLASSIFIER_CODE], {"KERAS_GEN_OFFLINE": "1"})

    # -- checks ------------------------------------------------------------
    def lint(self) -> None:
        self.venv_step()
        check([self.python, "-m", "ruff", "check", *LINT_PATHS])

    def pytest(self, args: list[str]) -> None:
        """pytest in the test environment (fast notebooks, offline)."""
        self.venv_step()
        check([self.python, "-m", "pytest", *args], TEST_ENV)

    def unit(self, extra: list[str]) -> None:
        self.data()
        self.pytest(["--doctest-modules", "keras_gen", "tests", *extra])

    def nbtest(self, extra: list[str]) -> None:
        self.data()
        self.pytest(["--nbval-lax", "--nbval-current-env", "notebooks", *extra])

    def test(self, workers: int, extra: list[str]) -> None:
        """What ``make test`` runs: data, lint, classifier, then one pytest."""
        self.data()
        self.lint()
        self.classifier()
        self.pytest(pytest_arguments(workers) + extra)

    def doctor(self) -> None:
        self.venv_step()
        check([self.python, "-m", "keras_gen.cli", "doctor"])

    # -- runs --------------------------------------------------------------
    def demo(self) -> None:
        self.data()
        check([self.python, "-m", "keras_gen.cli", "demo"])

    def notebooks(self, paths: list[str]) -> None:
        """Re-execute notebooks in full mode: the only source of stored outputs."""
        self.data()
        paths = paths or sorted(
            p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb")
        )
        env = {k: v for k, v in os.environ.items() if k != "KERAS_GEN_FAST"}
        command = [os.fspath(self.python), "tools/run_notebooks.py", *paths]
        print(f"+ {shlex.join(command)}  (KERAS_GEN_FAST unset)", flush=True)
        status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        if status:
            raise CourseError(f"this command failed (exit status {status})", status)

    def bench(self, torch_python: str | None) -> None:
        self.venv_step()
        for script in BENCHMARKS:
            extra = []
            if script[0].endswith("gpt_pretrain.py") and torch_python:
                extra = ["--torch-python", torch_python]
            check([self.python, *script, *extra], repo_on_path())
        if torch_python:
            check([
                self.python, "benchmarks/gpt_time_to_quality.py",
                "--torch-python", torch_python,
            ], repo_on_path())
        else:
            print(
                "gpt_time_to_quality.py: skipped (it needs TORCH_PYTHON="
                "/path/to/python-with-torch)"
            )

    def pretrained(self) -> None:
        self.venv_step()
        for script in PRETRAINED:
            check([self.python, *script], repo_on_path())

    # -- the course website ------------------------------------------------
    def extras(self, *names: str) -> None:
        """Install optional extras of pyproject.toml, again only when it changed."""
        self.venv_step()
        stamp = self.venv / f".installed-{'-'.join(names)}"
        if stamp.is_file() and stamp.stat().st_mtime >= self.stamp.stat().st_mtime:
            return
        pip = [self.python, "-m", "pip", "--disable-pip-version-check"]
        extras = ",".join(("dev", *names))
        check([*pip, "install", "--quiet", "-e", f".[{extras}]", *self.pip_args])
        stamp.touch()

    def site(self) -> None:
        """Build the course website into site/ (tools/build_site.py), offline."""
        self.extras("site")
        check([self.python, "tools/build_site.py"])

    def chromium(self) -> None:
        """Debian's chromium for the browser checks (Playwright drives it)."""
        if os.environ.get("KERAS_GEN_CHROMIUM") or shutil.which("chromium"):
            return
        if not is_root():
            raise CourseError(
                "the browser checks need Chromium. On Debian/Ubuntu run: "
                "sudo apt-get install chromium (or set KERAS_GEN_CHROMIUM to "
                "a Chromium binary)"
            )
        print("Installing Debian's chromium (about 80 MB, once)")
        check(["apt-get", "update", "-qq"])
        check(["apt-get", "install", "-y", "-qq", "chromium"])

    def site_check(self, extra: list[str]) -> None:
        """The site in headless Chromium, then JupyterLab driven (tests/browser)."""
        self.data()
        self.site()
        self.extras("site", "browser")
        self.chromium()
        check(
            [self.python, "-m", "pytest", "-p", "no:cacheprovider", "tests/browser",
             *extra],
            {**TEST_ENV, "KERAS_GEN_BROWSER": "1"},
        )  # fmt: skip


def repo_on_path() -> dict:
    """``PYTHONPATH=.`` as the README writes it, portably: tools and benchmarks
    may import each other's modules from the repository's root."""
    paths = [os.fspath(ROOT), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def pytest_arguments(workers: int) -> list[str]:
    """pytest's arguments for the whole suite (``make test``).

    Example:
        >>> pytest_arguments(2)[:4]
        ['-n', '2', '--dist', 'loadfile']
    """
    return [
        "-n", str(workers), "--dist", "loadfile", "--doctest-modules",
        "--nbval-lax", "--nbval-current-env", "keras_gen", "tests", "notebooks",
    ]


def clean(venv: Path) -> None:
    """Remove ``.venv``, ``outputs/``, the caches and every ``__pycache__``."""
    for path in (
        venv, ROOT / "outputs", ROOT / ".pytest_cache", ROOT / ".ruff_cache",
        ROOT / "site", ROOT / "site-check", ROOT / "build" / "site-src",
    ):  # fmt: skip
        if path.exists():
            print(f"removing {path}")
            shutil.rmtree(path)
    for cache in sorted(ROOT.rglob("__pycache__"), reverse=True):
        if cache.is_dir():
            shutil.rmtree(cache, ignore_errors=True)


def build_parser() -> argparse.ArgumentParser:
    """The parser, one subcommand per Makefile target."""
    parser = argparse.ArgumentParser(
        prog="python tools/course.py",
        description="Set up, test and run the keras-gen course without make.",
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=DEFAULT_VENV,
        help="the virtual environment to create and use (default: .venv)",
    )
    parser.add_argument(
        "--pip-args",
        default="",
        help="more arguments for pip's installs, e.g. '--no-index --find-links "
        "wheels/' on a machine without the network",
    )
    parser.add_argument(
        "--venv-args",
        default="",
        help="more arguments for `python -m venv`, e.g. '--system-site-packages' "
        "to reuse libraries installed outside the venv",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    helps = {
        "setup": "create .venv (only when pyproject.toml changed) and find or "
        "install Fashion-MNIST",
        "venv": "create .venv and install the package (only when needed)",
        "data": "find or install Fashion-MNIST and verify its checksums",
        "demo": "train the article's GAN on Fashion-MNIST, write outputs/",
        "lint": "ruff over the package, tests, benchmarks, tools, solutions, "
        "notebooks",
        "classifier": "train the cached quality classifier and the second "
        "judge if missing",
        "test": "ruff + unit tests + every notebook (fast mode, offline); "
        "extra arguments go to pytest",
        "unit": "unit tests and docstring examples only",
        "nbtest": "every notebook in fast mode only",
        "pytest": "pytest in the test environment with your arguments, e.g. "
        "tests/test_env.py -k fast",
        "doctor": "check that this machine can run the course",
        "notebooks": "re-execute notebooks in full mode, storing outputs",
        "bench": "run the benchmarks (about 25 minutes)",
        "pretrained": "rebuild the shipped models in data/pretrained/",
        "site": "build the course website from the stored notebooks into site/",
        "site-check": "build the site, check every page in Chromium, drive "
        "JupyterLab (tests/browser; extra arguments go to pytest)",
        "clean": "remove .venv, outputs/ and caches",
    }
    sub = {name: commands.add_parser(name, help=text) for name, text in helps.items()}
    sub["test"].add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("TEST_WORKERS") or DEFAULT_WORKERS),
        help="pytest workers, one per core (default: $TEST_WORKERS or "
        f"{DEFAULT_WORKERS}); 0 runs everything in one process",
    )
    sub["notebooks"].add_argument("paths", nargs="*", help="default: all of them")
    sub["bench"].add_argument(
        "--torch-python",
        default=os.environ.get("TORCH_PYTHON") or None,
        help="a Python with torch, to time the same GPT in PyTorch "
        "(default: $TORCH_PYTHON)",
    )
    return parser


#: Commands whose unknown arguments are passed on to pytest.
PYTEST_COMMANDS = ("test", "unit", "nbtest", "pytest", "site-check")


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in PYTEST_COMMANDS:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if extra[:1] == ["--"]:
        extra = extra[1:]
    venv = args.venv if args.venv.is_absolute() else ROOT / args.venv
    course = Course(venv, shlex.split(args.pip_args), shlex.split(args.venv_args))
    steps = {
        "setup": course.setup,
        "venv": course.venv_step,
        "data": course.data,
        "demo": course.demo,
        "lint": course.lint,
        "classifier": course.classifier,
        "test": lambda: course.test(args.workers, extra),
        "unit": lambda: course.unit(extra),
        "nbtest": lambda: course.nbtest(extra),
        "pytest": lambda: course.pytest(extra),
        "doctor": course.doctor,
        "notebooks": lambda: course.notebooks(args.paths),
        "bench": lambda: course.bench(args.torch_python),
        "pretrained": course.pretrained,
        "site": course.site,
        "site-check": lambda: course.site_check(extra),
        "clean": lambda: clean(venv),
    }
    try:
        steps[args.command]()
    except CourseError as error:
        print(f"course.py {args.command}: {error}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        print(f"course.py {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
