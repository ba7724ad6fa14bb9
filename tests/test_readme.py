"""The README's package tables name every public module and folder of keras_gen."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "keras_gen")


def _rows() -> list[str]:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return [line for line in handle if line.startswith("| `keras_gen.")]


def _table_names() -> set[str]:
    names = set()
    for row in _rows():
        first_cell = row.split("|")[1]
        for name in re.findall(r"`([\w.]+)`", first_cell):
            names.add(name.removeprefix("keras_gen."))
    return names


def _folders() -> list[str]:
    return sorted(
        name
        for name in os.listdir(PACKAGE)
        if os.path.isfile(os.path.join(PACKAGE, name, "__init__.py"))
    )


def test_readme_package_table_lists_every_public_module():
    modules = {
        name.removesuffix(".py")
        for name in os.listdir(PACKAGE)
        if name.endswith(".py") and not name.startswith("_")
    }
    missing = sorted(modules - _table_names())
    assert not missing, f"README.md's package table lacks a row for {missing}"


def test_readme_folder_table_names_every_folder_and_its_modules():
    rows = {re.match(r"\| `keras_gen\.(\w+)`", row).group(1): row for row in _rows()}
    for folder in _folders():
        assert folder in rows, f"README.md's folder table lacks keras_gen.{folder}"
        modules = [
            name.removesuffix(".py")
            for name in os.listdir(os.path.join(PACKAGE, folder))
            if name.endswith(".py") and not name.startswith("_")
        ]
        described = rows[folder].split("|")[2]
        missing = [m for m in modules if f"`{m}`:" not in described]
        assert not missing, f"keras_gen.{folder}'s row lacks {missing}"


def test_readme_package_table_has_a_wishes_row():
    assert "wishes" in _table_names() or "`wishes`:" in "".join(_rows())
