"""Put the same Colab set-up cell first in every notebook (idempotent).

Inside Google Colab the cell clones the repository, installs the package with
pip and says what it did; anywhere else it does nothing and prints nothing.
The notebooks' JSON is edited without running them: the cell gets no outputs
and no execution count, and a second run of this tool changes nothing.

Usage:
    python tools/colab_cell.py             # insert or update, every notebook
    python tools/colab_cell.py --check     # exit 1 if a notebook is not current
    python tools/colab_cell.py notebooks/02_gan.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The one place the repository's address is written; the cell's
#: ``KERAS_GEN_REPO`` variable overrides it (a fork, a mirror).
REPO_URL = "https://github.com/keras-gen/keras-gen.git"
#: The first line of the cell: how the tool finds it again.
MARKER = "# Colab only: clone and install keras-gen. Elsewhere this cell does nothing."
#: Colab's working folder; the clone goes beside the uploaded files.
CLONE_DIR = "/content/keras-gen"
CELL_ID = "colab-setup"

CELL_SOURCE = f'''{MARKER}
import sys

if "google.colab" in sys.modules:
    import importlib.util
    import os
    import subprocess

    repo = os.environ.get("KERAS_GEN_REPO", "{REPO_URL}")
    home = "{CLONE_DIR}"
    if not os.path.isdir(home):
        subprocess.run(["git", "clone", "--depth", "1", repo, home], check=True)
        print(f"Cloned {{repo}} into {{home}}.")
    if importlib.util.find_spec("keras_gen") is None:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "-e", home]
        subprocess.run(pip, check=True)
        print("Installed keras-gen and its libraries with pip.")
    sys.path.insert(0, home)  # this kernel started before the install
    os.chdir(os.path.join(home, "notebooks"))
    print(f"Working in {{os.getcwd()}}: the course's files are found from here.")
'''


def is_colab_cell(cell: dict) -> bool:
    """Whether a notebook cell is the Colab set-up cell (any version of it)."""
    source = "".join(cell.get("source", []))
    return cell.get("cell_type") == "code" and source.startswith(MARKER)


def new_cell(notebook: dict) -> dict:
    """The cell as nbformat stores it: no outputs, ``execution_count`` null."""
    lines = CELL_SOURCE.rstrip("\n").splitlines(keepends=True)
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": lines,
    }
    if (notebook.get("nbformat"), notebook.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = CELL_ID  # cell ids exist from nbformat 4.5
    return cell


def with_cell(notebook: dict) -> dict:
    """The notebook with exactly one current Colab cell before its first code.

    Example:
        >>> nb = {"nbformat": 4, "nbformat_minor": 4, "cells": [
        ...     {"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
        ...     {"cell_type": "code", "execution_count": 1, "metadata": {},
        ...      "outputs": [], "source": ["x = 1"]}]}
        >>> [is_colab_cell(c) for c in with_cell(with_cell(nb))["cells"]]
        [False, True, False]
    """
    cells = [cell for cell in notebook["cells"] if not is_colab_cell(cell)]
    first_code = next(
        (i for i, cell in enumerate(cells) if cell["cell_type"] == "code"), len(cells)
    )
    cells.insert(first_code, new_cell(notebook))
    return {**notebook, "cells": cells}


def dumps(notebook: dict) -> str:
    """JSON as nbformat writes it, so an unchanged notebook is byte-identical."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def update(path: Path, check_only: bool = False) -> bool:
    """Insert or refresh the cell in one notebook; True if it was not current.

    The file is replaced atomically (a temporary file in the same folder,
    then ``os.replace``), so an interruption leaves the old notebook whole.
    """
    text = path.read_text(encoding="utf-8")
    new_text = dumps(with_cell(json.loads(text)))
    if new_text == text:
        return False
    if not check_only:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
                file.write(new_text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="default: every notebook")
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if out of date"
    )
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = [path for path in paths if update(path, check_only=args.check)]
    verb = "out of date" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    if not stale:
        print(f"{len(paths)} notebooks: the Colab cell is current")
    return int(bool(stale) and args.check)


if __name__ == "__main__":
    sys.exit(main())
