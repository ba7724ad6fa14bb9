"""The order in which `make test` hands files to its two workers: slowest first.

pytest-xdist's ``--dist loadfile`` gives each worker whole files, in the order
they were collected. Collected in their natural order, the slow files (the
notebooks, the JAX and training-heavy tests) came last, and one worker ran
them alone while the other idled. Sorted first, the many short files fill in
behind them. The sort is stable, so the order inside a file (a notebook's
cells) is kept.
"""

SLOW_FIRST = (
    "notebooks/10_",
    "notebooks/12_",
    "notebooks/05_",
    "notebooks/03_",
    "notebooks/07_",
    "notebooks/09_",
    "notebooks/",
    "tests/test_jax_backend.py",
    "tests/test_solutions_nb07.py",
    "tests/test_callbacks.py",
    "tests/test_conditional.py",
    "tests/test_resume.py",
    "tests/test_solutions_answers.py",
    "tests/test_distribute.py",
    "tests/test_cli.py",
)


def _rank(item) -> int:
    path = item.nodeid.split("::")[0]
    for position, prefix in enumerate(SLOW_FIRST):
        if path.startswith(prefix):
            return position
    return len(SLOW_FIRST)


def pytest_collection_modifyitems(session, config, items):
    """Slowest files first; a stable sort keeps each file's own order."""
    items.sort(key=_rank)
