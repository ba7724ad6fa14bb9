"""The analyst's yardstick: answers checked against the truth computed by code.

An answer is right when it equals what the *right* query returns on the
same table (:attr:`keras_gen.summaries.questions.Question.answer`), whatever
query produced it. :func:`held_out_sets` draws the fixed test sets every
measurement uses (tools, benchmark, tests), on the 100 held-out tables of
``benchmarks/table_summaries.py`` (``make_tables(100, seed=1)``).
"""

from __future__ import annotations

from keras_gen.summaries.queries import QueryError, run_query
from keras_gen.summaries.questions import make_questions
from keras_gen.summaries.tables import make_tables

#: Training tables and questions (seed 0), as ``tools/train_analyst.py`` uses.
TRAIN_TABLES, TRAIN_QUESTIONS = 500, 6000
#: The held-out tables: the same as benchmarks/table_summaries.py's.
TEST_TABLES, TEST_TABLE_SEED = 100, 1
#: Questions per held-out set and the seed of each.
TEST_SETS = {"phrasings": (600, 11), "kind": (150, 12), "seen": (300, 13)}


def training_questions(count: int = TRAIN_QUESTIONS, seed: int = 0):
    """The training questions, on their own tables (``make_tables(.., seed)``)."""
    return make_questions(make_tables(TRAIN_TABLES, seed=seed), count, "train",
                          seed=seed)


def held_out_sets(scale: float = 1.0) -> dict:
    """``{split: questions}`` for ``phrasings``, ``kind`` and ``seen``.

    Args:
        scale: Share of each set's size (the first questions of the full set,
            so a smaller set is a prefix of the full one).

    Example:
        >>> sets = held_out_sets(0.02)
        >>> {k: len(v) for k, v in sets.items()}
        {'phrasings': 12, 'kind': 3, 'seen': 6}
    """
    tables = make_tables(TEST_TABLES, seed=TEST_TABLE_SEED)
    return {
        split: make_questions(tables, count, split, seed)[
            : max(1, round(count * scale))
        ]
        for split, (count, seed) in TEST_SETS.items()
    }


def is_right(value, question) -> bool:
    """Whether ``value`` equals the question's true answer (``None``: wrong)."""
    return value is not None and value == question.answer


def score(values, questions) -> dict:
    """Accuracy overall and per kind.

    Returns:
        ``{"accuracy": share right, "right": count, "count": n,
        "by_kind": {kind: (right, count)}}``.

    Example:
        >>> sets = held_out_sets(0.02)
        >>> qs = sets["seen"]
        >>> score([q.answer for q in qs], qs)["accuracy"]
        1.0
    """
    values, questions = list(values), list(questions)
    if len(values) != len(questions) or not questions:
        raise ValueError(
            "Expected one value per question (at least one). Received: "
            f"{len(values)} values, {len(questions)} questions"
        )
    by_kind = {}
    right_total = 0
    for value, q in zip(values, questions, strict=True):
        right = is_right(value, q)
        r, n = by_kind.get(q.kind, (0, 0))
        by_kind[q.kind] = (r + right, n + 1)
        right_total += right
    return {"accuracy": right_total / len(questions), "right": right_total,
            "count": len(questions), "by_kind": dict(sorted(by_kind.items()))}


def run_or_none(query, table):
    """Run a query; ``None`` if there is none or it fails (for baselines)."""
    if query is None:
        return None
    try:
        return run_query(query, table)
    except QueryError:
        return None


def baseline_values(baseline, questions) -> list:
    """The keyword baseline's answers (``None`` where it has no query)."""
    return [run_or_none(baseline.query(q.text, q.table), q.table) for q in questions]


def analyst_values(model, tokenizer, questions, retry: bool = True):
    """``(values, answers)`` of the analyst on ``questions``."""
    from keras_gen.summaries.analyst import answer_questions

    answers = answer_questions(model, tokenizer, [q.text for q in questions],
                               [q.table for q in questions], retry=retry)
    return [a.value for a in answers], answers


def route_counts(answers) -> dict:
    """How many answers took each route (written, constrained, none)."""
    from keras_gen.summaries.analyst import ROUTES

    return {route: sum(a.route == route for a in answers) for route in ROUTES}
