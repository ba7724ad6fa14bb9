"""The README's package table names every public module of keras_gen."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _table_names() -> set[str]:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        rows = [line for line in handle if line.startswith("| `keras_gen.")]
    names = set()
    for row in rows:
        first_cell = row.split("|")[1]
        for name in re.findall(r"`([\w.]+)`", first_cell):
            names.add(name.removeprefix("keras_gen."))
    return names


def test_readme_package_table_lists_every_public_module():
    package = os.path.join(ROOT, "keras_gen")
    modules = {
        name.removesuffix(".py")
        for name in os.listdir(package)
        if name.endswith(".py") and not name.startswith("_")
    }
    missing = sorted(modules - _table_names())
    assert not missing, f"README.md's package table lacks a row for {missing}"


def test_readme_package_table_has_a_wishes_row():
    assert "wishes" in _table_names()
