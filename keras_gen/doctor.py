"""``keras-gen doctor``: can this machine run the course, and if not, why not.

Each check returns :class:`Finding` lines: ``ok``, ``warn`` (the course runs,
but something is worth knowing) or ``FAIL`` (something will break), each
problem with the command that fixes it. The supported versions are read from
the installed package's metadata, so ``pyproject.toml`` stays their one source.

Example:
    >>> finding = check_disk(min_free_gb=0.0, warn_free_gb=0.0)[0]
    >>> finding.status, finding.topic
    ('ok', 'disk')
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path

#: The distribution whose metadata holds the supported version ranges.
DISTRIBUTION = "keras-gen"
#: The repository's root: ``data/`` and ``notebooks/`` live beside the package.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The folders of the shipped models, each with a ``card.json``.
PRETRAINED_ROOT = REPO_ROOT / "data" / "pretrained"
OK, WARN, FAIL = "ok", "warn", "FAIL"
#: Free disk below which the course fails (outputs, caches, a Keras download).
MIN_FREE_GB = 1.0
#: Free disk below which the doctor warns.
WARN_FREE_GB = 3.0
#: Matmul speed below which the full notebooks take hours: a warning.
SLOW_GFLOPS = 20.0


@dataclasses.dataclass(frozen=True)
class Finding:
    """One line of the doctor's report.

    Attributes:
        status: ``"ok"``, ``"warn"`` or ``"FAIL"``.
        topic: What was checked, e.g. ``"keras"`` or ``"fashion_mnist"``.
        message: What was found.
        fix: What to do about it (empty when nothing needs doing).
        details: More lines printed under it (the notebooks' estimates).
    """

    status: str
    topic: str
    message: str
    fix: str = ""
    details: tuple[str, ...] = ()

    def line(self) -> str:
        """The report line: status, topic, message and fix, then the details.

        Example:
            >>> Finding(FAIL, "cache", "not writable", "set KERAS_GEN_CACHE").line()
            'FAIL  cache: not writable. Fix: set KERAS_GEN_CACHE'
        """
        fix = f". Fix: {self.fix}" if self.fix else ""
        details = "".join(f"\n      {detail}" for detail in self.details)
        return f"{self.status:5} {self.topic}: {self.message}{fix}{details}"


def _range(specifier) -> str:
    """A version range as pyproject.toml spells it: lower bound first.

    Example:
        >>> from packaging.specifiers import SpecifierSet
        >>> _range(SpecifierSet("<2.22,>=2.20"))
        '>=2.20,<2.22'
    """
    parts = sorted(specifier, key=lambda spec: (spec.operator[0] == "<", str(spec)))
    return ",".join(str(spec) for spec in parts)


def _requirement(text: str):
    from packaging.requirements import Requirement  # matplotlib depends on it

    return Requirement(text)


def check_python() -> list[Finding]:
    """This Python against the package's ``Requires-Python``."""
    from packaging.specifiers import SpecifierSet

    version = ".".join(str(part) for part in sys.version_info[:3])
    try:
        wanted = metadata.metadata(DISTRIBUTION)["Requires-Python"] or ""
    except metadata.PackageNotFoundError:
        return [_not_installed()]
    if version in SpecifierSet(wanted):
        return [Finding(OK, "python", f"{version} (supported: {wanted})")]
    return [
        Finding(
            FAIL,
            "python",
            f"{version} is outside the supported range {wanted}",
            f"install a Python {wanted} and create .venv with it",
        )
    ]


def _not_installed() -> Finding:
    return Finding(
        FAIL,
        DISTRIBUTION,
        f"the package is not installed in this Python ({sys.executable})",
        "from the clone, run `python tools/course.py setup` (or `pip install -e .`)",
    )


def check_libraries() -> list[Finding]:
    """Each dependency's installed version against its range in the metadata.

    The runtime dependencies must match (``FAIL`` otherwise); the ``dev``
    extra (tests, Jupyter) only warns, since the notebooks run without it.
    """
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return [_not_installed()]
    findings = []
    for text in requirements:
        requirement = _requirement(text)
        marker = requirement.marker
        if marker is None or marker.evaluate({"extra": ""}):
            status, role = FAIL, "needed by the course"
        elif marker.evaluate({"extra": "dev"}):
            status, role = WARN, "needed by the tests and Jupyter"
        else:
            continue  # the optional extras (hub, gpu), or not for this platform
        wanted = _range(requirement.specifier)
        install = f'pip install "{requirement.name}{wanted}"'
        try:
            version = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            findings.append(
                Finding(status, requirement.name, f"not installed ({role})", install)
            )
            continue
        if requirement.specifier.contains(version, prereleases=True):
            findings.append(
                Finding(OK, requirement.name, f"{version} (supported: {wanted})")
            )
        else:
            findings.append(
                Finding(
                    status,
                    requirement.name,
                    f"{version} is outside the supported range {wanted}",
                    install,
                )
            )
    return findings


def check_backend() -> list[Finding]:
    """The Keras backend the notebooks will use, and the devices it sees."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # as every notebook does
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
    except Exception as error:  # noqa: BLE001 - any import failure is the finding
        return [
            Finding(
                FAIL,
                "keras",
                f"cannot be imported ({type(error).__name__}: {error})",
                'pip install -e ".[dev]" in a fresh .venv (python tools/course.py '
                "setup)",
            )
        ]
    backend = keras.backend.backend()
    findings = []
    if backend == "tensorflow":
        findings.append(Finding(OK, "backend", "tensorflow"))
    else:
        findings.append(
            Finding(
                WARN,
                "backend",
                f"{backend}: the course is written and tested for tensorflow",
                "unset KERAS_BACKEND, or set KERAS_BACKEND=tensorflow",
            )
        )
    gpus = _gpus(backend)
    if gpus:
        findings.append(Finding(OK, "devices", f"CPU and {gpus} GPU"))
    else:
        findings.append(
            Finding(
                OK,
                "devices",
                "CPU only, no GPU seen (every notebook runs on a CPU; the "
                "estimates below say how long)",
            )
        )
    return findings


def _gpus(backend: str) -> int:
    if backend == "tensorflow":
        import tensorflow as tf

        return len(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return sum(device.platform == "gpu" for device in jax.devices())
    return 0


def check_data() -> list[Finding]:
    """Fashion-MNIST found offline, every file against its SHA-256."""
    try:
        from keras_gen import data
    except Exception as error:  # noqa: BLE001 - keras missing: reported above
        return [Finding(FAIL, "fashion_mnist", f"cannot check ({error})")]
    try:
        source = data.find_data("fashion_mnist", download=False)
        for split in data.SPLITS:
            data.load_images(
                "fashion_mnist",
                split,
                raw=True,
                data_dir=source.location,
                download=False,
            )
    except data.DataNotFoundError as error:
        lines = str(error).splitlines()
        fixes = [line[len("Fix: ") :] for line in lines if line.startswith("Fix: ")]
        message, _, inline_fix = lines[0].partition(" Fix: ")
        return [
            Finding(
                FAIL,
                "fashion_mnist",
                f"not found. {message}",
                inline_fix or (fixes[0] if fixes else "python tools/course.py data"),
            )
        ]
    except data.ChecksumError as error:
        return [
            Finding(
                FAIL,
                "fashion_mnist",
                f"damaged: {str(error).splitlines()[0]}",
                "delete the file and run `python tools/course.py data`",
            )
        ]
    return [
        Finding(
            OK,
            "fashion_mnist",
            f"found ({source.origin}) in {source.location}, checksums match",
        )
    ]


def verify_model_folder(folder: str | os.PathLike) -> list[str]:
    """Check a model folder's files against the SHA-256 its ``card.json`` records.

    The check is :func:`keras_gen.model_folder.load_folder`'s, the one every
    loader makes (both card layouts that ship are read); no model is loaded.

    Args:
        folder: The model's folder.

    Returns:
        One sentence per problem; empty when every file matches.

    Example:
        >>> verify_model_folder(PRETRAINED_ROOT / "pydoc-char-gpt")
        []
    """
    from keras_gen import model_folder

    try:
        model_folder.load_folder(folder)
    except (OSError, ValueError) as error:  # FileFormatError is a ValueError
        return [str(error)]
    return []


def check_models(root: str | os.PathLike | None = None) -> list[Finding]:
    """The shipped models' hashes: one line for all, or one per damaged folder.

    Args:
        root: The folder holding the model folders; None for
            :data:`PRETRAINED_ROOT`.
    """
    root = Path(root) if root is not None else PRETRAINED_ROOT
    folders = sorted(p for p in root.glob("*") if p.is_dir()) if root.is_dir() else []
    if not folders:
        return [
            Finding(
                FAIL,
                "models",
                f"no shipped models in {root}",
                "work from a clone of the repository (the models live in data/, "
                "beside the package)",
            )
        ]
    findings = []
    for folder in folders:
        problems = verify_model_folder(folder)
        if problems:
            relative = folder.relative_to(REPO_ROOT) if _is_under(folder) else folder
            findings.append(
                Finding(
                    FAIL,
                    f"model {folder.name}",
                    "; ".join(problems),
                    f"restore it with `git checkout -- {relative.as_posix()}` "
                    "(or rebuild it with `python tools/course.py pretrained`)",
                )
            )
    if not findings:
        names = ", ".join(folder.name for folder in folders)
        findings.append(
            Finding(OK, "models", f"{len(folders)} shipped, hashes match ({names})")
        )
    return findings


def _is_under(path: Path) -> bool:
    try:
        path.relative_to(REPO_ROOT)
    except ValueError:
        return False
    return True


def _shown(path) -> str:
    """A path for a report: the home folder as ``~`` (reports get pasted)."""
    home, text = str(Path.home()), str(path)
    return "~" + text[len(home):] if text.startswith(home + os.sep) else text


def check_cache() -> list[Finding]:
    """The classifier cache (``$KERAS_GEN_CACHE``) can be created and written."""
    from keras_gen import classifier

    folder = classifier.cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:  # removed on close
            probe.write(b"keras-gen doctor")
    except OSError as error:
        return [
            Finding(
                FAIL,
                "cache",
                f"{folder} is not writable ({error.strerror or error})",
                f"set {classifier.CACHE_ENV_VAR} to a folder you can write to",
            )
        ]
    return [Finding(OK, "cache", f"{_shown(folder)} is writable")]


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent (disk_usage needs one)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def check_disk(
    min_free_gb: float = MIN_FREE_GB, warn_free_gb: float = WARN_FREE_GB
) -> list[Finding]:
    """Free space where the course writes: the repository and the cache."""
    cache_root = Path(
        os.environ.get("KERAS_GEN_CACHE") or Path.home() / ".cache" / "keras_gen"
    )
    places = {"repository": REPO_ROOT, "cache": cache_root}
    checked = {}
    for label, path in places.items():
        usage = shutil.disk_usage(_existing(path))
        checked.setdefault(usage.free, []).append(label)
    free_gb = min(checked) / 1e9
    where = " and ".join(checked[min(checked)])
    message = f"{free_gb:.1f} GB free ({where})"
    if free_gb < min_free_gb:
        return [
            Finding(
                FAIL,
                "disk",
                f"{message}; the course needs at least {min_free_gb:g} GB",
                "free some space (`python tools/course.py clean` removes outputs "
                "and caches)",
            )
        ]
    if free_gb < warn_free_gb:
        return [
            Finding(
                WARN,
                "disk",
                f"{message}; below {warn_free_gb:g} GB the full notebooks may "
                "run out",
                "free some space",
            )
        ]
    return [Finding(OK, "disk", message)]


def check_speed(gflops: float | None = None) -> list[Finding]:
    """The matmul speed and each notebook's expected full-mode run time.

    Args:
        gflops: A speed measured already; None measures it
            (:func:`keras_gen.env.matmul_gflops`).
    """
    from keras_gen import env

    gflops = env.matmul_gflops() if gflops is None else gflops
    estimates = env.notebook_estimates(gflops)
    total = sum(estimates.values())
    message = f"{gflops:.0f} GFLOP/s (float32 2048x2048 matmul)"
    if estimates:
        message += f"; all notebooks in full mode: about {_duration(total)} here"
    details = tuple(
        f"{notebook:34} about {_duration(seconds)}"
        for notebook, seconds in estimates.items()
    )
    if gflops < SLOW_GFLOPS:
        return [
            Finding(
                WARN,
                "speed",
                message,
                "the full notebooks will take hours: run them in fast mode "
                "(KERAS_GEN_FAST=1) or on a faster machine (Colab works)",
                details,
            )
        ]
    return [Finding(OK, "speed", message, details=details)]


def _duration(seconds: float) -> str:
    """``"45 s"``, ``"6 min"`` or ``"2.5 h"``.

    Example:
        >>> _duration(42.0), _duration(360.0), _duration(9000.0)
        ('42 s', '6 min', '2.5 h')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_checks(speed: bool = True, gflops: float | None = None) -> list[Finding]:
    """Every check, in the order of the report.

    A check that crashes becomes a ``FAIL`` line naming the error, so one
    broken library cannot hide the other findings.

    Args:
        speed: Whether to measure the matmul speed (a few seconds).
        gflops: A speed measured already (notebook 00 passes its own).

    Returns:
        The findings, in order.
    """
    checks = [check_python, check_libraries, check_backend, check_data]
    checks += [check_models, check_cache, check_disk]
    if speed:
        checks.append(lambda: check_speed(gflops))
    findings = []
    for check in checks:
        try:
            findings += check()
        except Exception as error:  # noqa: BLE001 - reported as a finding
            name = getattr(check, "__name__", "check").removeprefix("check_")
            findings.append(
                Finding(
                    FAIL,
                    name,
                    f"the check itself failed ({type(error).__name__}: {error})",
                    "report it with this output (see the bug-report template)",
                )
            )
    return findings


def format_report(findings: list[Finding]) -> str:
    """The report: one line per finding and a last line with the verdict.

    Example:
        >>> print(format_report([Finding(OK, "disk", "9.0 GB free")]))
        ok    disk: 9.0 GB free
        This machine can run the course.
    """
    lines = [finding.line() for finding in findings]
    failed = sum(finding.status == FAIL for finding in findings)
    warned = sum(finding.status == WARN for finding in findings)
    if failed:
        lines.append(
            f"{failed} problem(s) will stop the course: fix the FAIL lines above."
        )
    elif warned:
        lines.append(f"This machine can run the course ({warned} warning(s)).")
    else:
        lines.append("This machine can run the course.")
    return "\n".join(lines)


def exit_status(findings: list[Finding]) -> int:
    """1 when any finding is a ``FAIL``, else 0 (warnings do not fail).

    Example:
        >>> exit_status([Finding(WARN, "disk", "2 GB free")])
        0
    """
    return int(any(finding.status == FAIL for finding in findings))


def add_parser(commands) -> None:
    """Add the ``doctor`` subcommand to ``keras-gen``'s subparsers."""
    parser = commands.add_parser(
        "doctor",
        help="check that this machine can run the course (versions, data, "
        "models, cache, disk, speed)",
        description="Check that this machine can run the course. Each line says "
        "what was found and, for a problem, how to fix it. Exits with 1 when "
        "something would fail, 0 when there are only warnings.",
    )
    parser.add_argument(
        "--no-speed",
        action="store_true",
        help="skip the matmul measurement and the notebook run-time estimates",
    )


def main(args=None) -> int:
    """Print the report; return the exit status (``keras-gen doctor``)."""
    speed = not getattr(args, "no_speed", False)
    findings = run_checks(speed=speed)
    print(f"keras-gen doctor ({sys.executable})")
    print(format_report(findings), flush=True)
    return exit_status(findings)
