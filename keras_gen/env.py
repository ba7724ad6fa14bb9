"""The learner's environment: fast mode, versions, devices and data sources.

Notebooks call :func:`fast_mode` to shrink their budgets when the test command
runs them, and notebook 00 prints :func:`describe` so a learner sees at a
glance what their machine has, and :func:`notebook_estimates` to say how long
each notebook will take on it (``keras-gen doctor`` prints the same).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from keras_gen._checks import env_flag

FAST_ENV_VAR = "KERAS_GEN_FAST"
#: Each notebook's full-mode run time and the matmul speed of the machine that
#: ran it, written by ``make notebooks`` (``tools/run_notebooks.py``).
RUNTIMES_PATH = Path(__file__).resolve().parent.parent / "notebooks" / "runtimes.json"


def fast_mode() -> bool:
    """Whether notebooks should run their small "fast" budget.

    ``make test`` sets ``KERAS_GEN_FAST=1`` so that every notebook finishes in
    about a minute; without it a notebook runs its full budget.

    Returns:
        True when the environment variable ``KERAS_GEN_FAST`` is
        ``1``/``true``/``yes``/``on``; False when it is unset, empty or
        ``0``/``false``/``no``/``off``. Anything else is an error.

    Example:
        >>> import os
        >>> os.environ["KERAS_GEN_FAST"] = "1"
        >>> fast_mode()
        True
    """
    return env_flag(FAST_ENV_VAR)


def pick(full, fast):
    """Return ``fast`` in fast mode and ``full`` otherwise.

    Args:
        full: The value for a full, unhurried run.
        fast: The value used under ``make test``.

    Returns:
        One of the two values.

    Example:
        >>> epochs = pick(full=30, fast=1)
    """
    return fast if fast_mode() else full


def describe() -> dict[str, str]:
    """Collect versions, the Keras backend and the compute devices.

    Returns:
        An ordered dict of human-readable facts, e.g. ``{"python": "3.11.7",
        "keras": "3.15.1", "backend": "tensorflow", "devices": "CPU", ...}``.

    Example:
        >>> facts = describe()
        >>> sorted(facts)[:2]
        ['backend', 'cpu cores']
    """
    import keras
    import numpy as np

    facts = {
        "python": sys.version.split()[0],
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu cores": str(os.cpu_count()),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    if keras.backend.backend() == "tensorflow":
        # TensorFlow directly: Keras has no device listing of its own.
        import tensorflow as tf

        facts["tensorflow"] = tf.__version__
        devices = tf.config.list_physical_devices()
        kinds = sorted({d.device_type for d in devices})
        gpus = [d for d in devices if d.device_type == "GPU"]
        facts["devices"] = ", ".join(kinds) + (f" ({len(gpus)} GPU)" if gpus else "")
    facts["fast mode"] = str(fast_mode())
    return facts


def build_record(**extra_versions: str) -> dict:
    """Where a shipped model was built: the ``machine`` and ``versions`` of its card.

    Every ``tools/train_*.py`` script puts this in the card it writes, so a
    rebuilt model can be compared with the machine and library versions that
    made the original.

    Args:
        **extra_versions: More library versions to record, e.g.
            ``rdkit=rdkit.__version__``.

    Returns:
        ``{"machine": "x86_64, 2 CPU cores", "versions": {"keras": ...,
        "tensorflow": ..., "python": ..., **extra_versions}}``.

    Example:
        >>> sorted(build_record(rdkit="2024.03.5")["versions"])
        ['keras', 'python', 'rdkit', 'tensorflow']
    """
    import keras
    import tensorflow as tf

    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "versions": {
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "python": platform.python_version(),
            **extra_versions,
        },
    }


def folder_megabytes(folder: str) -> float:
    """Size of the files directly in ``folder``, in MB (10**6 bytes).

    The shipped models' budget is 20 MB a folder.

    Example:
        >>> import tempfile
        >>> folder_megabytes(tempfile.mkdtemp())
        0.0
    """
    return sum(
        os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder)
    ) / 1e6


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Measure this machine's float32 matrix-multiply speed in GFLOP/s.

    A large matmul is the fastest thing a CPU does with neural-network
    arithmetic, so it is the ceiling that training speeds are compared with.

    Args:
        size: Side of the square matrices (``2 * size**3`` FLOPs per product).
        repeats: Timed products; the fastest counts (noise only slows down).

    Returns:
        Best GFLOP/s observed.

    Example:
        >>> matmul_gflops(256, repeats=2) > 0
        True
    """
    import keras

    a = keras.random.normal((size, size), seed=0)
    b = keras.random.normal((size, size), seed=1)
    keras.ops.convert_to_numpy(keras.ops.matmul(a, b))  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def notebook_estimates(
    gflops: float, runtimes: dict | None = None
) -> dict[str, float]:
    """Expected full-mode run time of each notebook on a machine this fast.

    Each recorded run time is scaled by the ratio of the recording machine's
    matmul speed to ``gflops``: a rough estimate, since not every notebook is
    bound by matrix products.

    Args:
        gflops: This machine's speed, from :func:`matmul_gflops` (> 0).
        runtimes: ``{notebook: {"seconds": s, "gflops": g, ...}}``; None reads
            :data:`RUNTIMES_PATH` (an empty dict when that file is missing, as
            in an installed package without its notebooks).

    Returns:
        ``{notebook: seconds}``, sorted by notebook name.

    Example:
        >>> notebook_estimates(100.0, {"02_gan": {"seconds": 300, "gflops": 200}})
        {'02_gan': 600.0}
    """
    if not gflops > 0:
        raise ValueError(
            f"Expected gflops > 0 (a measured speed). Received: gflops={gflops}"
        )
    if runtimes is None:
        runtimes = (
            json.loads(RUNTIMES_PATH.read_text(encoding="utf-8"))
            if RUNTIMES_PATH.is_file()
            else {}
        )
    return {
        notebook: record["seconds"] * record.get("gflops", gflops) / gflops
        for notebook, record in sorted(runtimes.items())
    }
