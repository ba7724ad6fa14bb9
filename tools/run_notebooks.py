"""Re-execute notebooks in place, in full mode, and record their run times.

``make notebooks`` calls this; it is the only way stored outputs are made.
Timing metadata is not recorded in cells (it would change on every run), and
each notebook's wall time goes to ``notebooks/runtimes.json``, which notebook
00 and the README quote.

Usage:
    python tools/run_notebooks.py notebooks/02_gan.ipynb [...]
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

RUNTIMES = Path("notebooks/runtimes.json")


def _load_colab_tool():
    spec = importlib.util.spec_from_file_location(
        "colab_cell", Path(__file__).resolve().parent / "colab_cell.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_cell = _load_colab_tool()


def run(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=1800,
        kernel_name="python3",
        record_timing=False,
        # TensorFlow's C++ start-up logs go to the terminal, not into the
        # stored outputs (ipykernel would otherwise capture file descriptor 2).
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    # The Colab cell is inert here; store it as tools/colab_cell.py writes it
    # (no outputs, no execution count), so a re-run never makes it stale.
    colab_cell.update(path)
    return seconds


def main(paths: list[str]) -> None:
    from keras_gen._checks import env_flag  # the same parser as the package

    if env_flag("KERAS_GEN_FAST"):
        sys.exit("Unset KERAS_GEN_FAST: stored outputs come from full-mode runs.")
    from keras_gen.env import matmul_gflops

    gflops = round(matmul_gflops(), 1)
    for name in paths:
        path = Path(name)
        print(f"running {path} ...", flush=True)
        seconds = run(path)
        # Read the file again just before writing: another run that finished
        # meanwhile has recorded its notebook there, and must not be lost.
        runtimes = json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}
        runtimes[path.stem] = {
            "seconds": round(seconds, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "gflops": gflops,
        }
        print(f"  {seconds:.0f} s", flush=True)
        RUNTIMES.write_text(json.dumps(runtimes, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
