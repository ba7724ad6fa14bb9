"""The package's shape, checked by reading its imports (no module is imported).

The flat core (notebooks 00-08 and what they share) sits in ``keras_gen/``; each
application of notebooks 09-12 has a folder of its own. Four rules keep that
shape readable, and a fifth keeps private names private:

1. nothing in the flat core imports an application folder (the command line,
   ``cli.py``, and ``doctor.py`` are the front doors and may);
2. no application folder imports another;
3. private modules (``_name.py``) import no public module of the package;
4. ``decoding`` imports neither ``transformer`` nor ``pretrained``;
5. no module imports another module's ``_private`` name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "keras_gen"
APPLICATIONS = {
    "music", "molecules", "helpdesk", "grading", "summaries", "text_to_image"
}
FRONT_DOORS = {"cli", "doctor"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path):
    """Yield (imported module, imported name or None) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against this module's package
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name


def resolved(module: str, name: str | None) -> str:
    """`from keras_gen import x` imports the module keras_gen.x when x is one."""
    if name and module == "keras_gen":
        candidate = PACKAGE / name
        is_module = candidate.with_suffix(".py").exists()
        if is_module or (candidate / "__init__.py").exists():
            return f"keras_gen.{name}"
    if name and module.startswith("keras_gen."):
        sub = PACKAGE.joinpath(*module.split(".")[1:]) / name
        if sub.with_suffix(".py").exists():
            return f"{module}.{name}"
    return module


def package_edges():
    for path in sorted(PACKAGE.rglob("*.py")):
        me = module_name(path)
        for module, name in imports_of(path):
            if module == "keras_gen" or module.startswith("keras_gen."):
                yield me, resolved(module, name), module, name


EDGES = list(package_edges())


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_package_has_its_application_folders():
    for folder in APPLICATIONS:
        init = PACKAGE / folder / "__init__.py"
        assert init.exists(), f"keras_gen/{folder}/__init__.py is missing"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "notebook" in doc.lower(), f"{init} must name its notebook"


def test_rule_1_the_core_imports_no_application_folder():
    bad = [
        (me, target)
        for me, target, _, _ in EDGES
        if top(me) not in APPLICATIONS
        and top(me) not in FRONT_DOORS
        and top(target) in APPLICATIONS
    ]
    assert not bad, f"core modules importing an application folder: {bad}"


def test_rule_2_no_application_folder_imports_another():
    bad = [
        (me, target)
        for me, target, _, _ in EDGES
        if top(me) in APPLICATIONS
        and top(target) in APPLICATIONS
        and top(target) != top(me)
    ]
    assert not bad, f"application folders importing each other: {bad}"


def test_rule_3_private_modules_import_no_public_module():
    bad = [
        (me, target)
        for me, target, _, _ in EDGES
        if top(me).startswith("_")
        and target != "keras_gen"
        and not top(target).startswith("_")
    ]
    assert not bad, f"private modules importing public ones: {bad}"


def test_rule_4_decoding_imports_neither_transformer_nor_pretrained():
    assert (PACKAGE / "decoding.py").exists()
    bad = [
        target
        for me, target, _, _ in EDGES
        if me == "keras_gen.decoding"
        and top(target) in {"transformer", "pretrained", "generation"}
    ]
    assert not bad, f"keras_gen.decoding imports {bad}"


def test_rule_5_no_module_imports_another_modules_private_name():
    bad = [
        (me, f"{module}.{name}")
        for me, _, module, name in EDGES
        if name
        and name.startswith("_")
        and not name.startswith("__")
        and not (PACKAGE / f"{name}.py").exists()  # a private module is fine
    ]
    assert not bad, f"private names imported across modules: {bad}"


@pytest.mark.parametrize("folder", ["tools", "benchmarks", "solutions"])
def test_rule_5_holds_in_the_scripts_learners_copy(folder):
    root = PACKAGE.parent / folder
    bad = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.module):
                continue
            if not node.module.startswith("keras_gen"):
                continue
            for alias in node.names:
                name = alias.name
                private = name.startswith("_") and not name.startswith("__")
                if private and not (PACKAGE / f"{name}.py").exists():
                    bad.append((f"{folder}/{path.name}", f"{node.module}.{name}"))
    assert not bad, f"private names of keras_gen imported: {bad}"
