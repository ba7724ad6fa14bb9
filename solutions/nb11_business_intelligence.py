"""Solutions to the business-intelligence exercises of notebook 11."""

from __future__ import annotations

import re

import numpy as np

from keras_gen.summaries import factcheck, tables

_NUMBER = re.compile(r"\d+")
_TOKEN = re.compile(r"[A-Za-z]+|\d+")


def wrong_numbers_summary(table: tables.SalesTable) -> str:
    """Exercise 11.1: the reference summary with every number off by one.

    Example:
        >>> t = tables.make_tables(1, seed=0)[0]
        >>> factcheck.check_summary(wrong_numbers_summary(t), t).num_correct
        7
    """
    reference = tables.reference_summary(table)
    return _NUMBER.sub(lambda m: str(int(m.group()) + 1), reference)


def rouge_versus_facts(table_list) -> dict:
    """Exercise 11.1: ROUGE-L and fact accuracy of the off-by-one summaries.

    Every word but the four numbers matches the reference, so ROUGE-L stays
    high (about 0.8), while 4 of the 11 facts are wrong in every summary: a
    fact accuracy of 7/11 and no summary all right. ROUGE-L alone cannot tell
    a faithful summary from one that misstates every figure.

    Returns:
        ``{"rouge_l": mean ROUGE-L, "fact_accuracy": ..., "all_right": ...}``.
    """
    table_list = list(table_list)
    wrong = [wrong_numbers_summary(t) for t in table_list]
    references = [tables.reference_summary(t) for t in table_list]
    score = factcheck.score_summaries(wrong, table_list)
    return {
        "rouge_l": factcheck.mean_rouge_l(wrong, references),
        "fact_accuracy": score["fact_accuracy"],
        "all_right": score["all_right"],
    }


def best_month_sentence(table: tables.SalesTable) -> str:
    """Exercise 11.2: the month with the largest total of all regions.

    Ties go to the earliest such month (``np.argmax``); the checker below
    accepts any of the tied months.

    Example:
        >>> t = tables.SalesTable(("A", "B"), ("Jan", "Feb"),
        ...                       np.array([[10, 30], [20, 15]]))
        >>> best_month_sentence(t)
        'Best month: Feb with 45.'
    """
    totals = table.month_totals()
    best = int(np.argmax(totals))
    return f"Best month: {table.months[best]} with {int(totals[best])}."


def summary_with_best_month(table: tables.SalesTable) -> str:
    """Exercise 11.2: the reference summary with the fourth sentence."""
    return tables.reference_summary(table) + " " + best_month_sentence(table)


def check_best_month(sentence: str, table: tables.SalesTable):
    """Exercise 11.2: check a "Best month: ..." sentence, fact by fact.

    The rule, in the manner of :mod:`keras_gen.summaries.factcheck`: the first month
    named must have the largest total (any of them, on a tie); the first
    number must be the total of the month *named* (or, if that is not one of
    the table's months, the largest total); every other name or number is
    wrong.

    Returns:
        ``[(text, correct), ...]`` in the order the facts appear.

    Example:
        >>> t = tables.SalesTable(("A", "B"), ("Jan", "Feb"),
        ...                       np.array([[10, 30], [20, 15]]))
        >>> check_best_month("Best month: Jan with 30.", t)
        [('Jan', False), ('30', True)]
    """
    if not sentence.startswith("Best month"):
        raise ValueError(
            f"Expected a sentence starting with 'Best month'. Received: {sentence!r}"
        )
    totals = dict(zip(table.months, table.month_totals().tolist(), strict=True))
    best_total = max(totals.values())
    tokens = _TOKEN.findall(sentence)[2:]  # skip "Best month"
    months = [t for t in tokens if t in tables.MONTH_NAMES]
    named = months[0] if months and months[0] in totals else None
    facts, month_seen, number_seen = [], False, False
    for token in tokens:
        if token in tables.MONTH_NAMES:
            right = not month_seen and totals.get(token) == best_total
            month_seen = True
        elif token.isdigit():
            expected = totals[named] if named else best_total
            right = not number_seen and int(token) == expected
            number_seen = True
        elif token in tables.REGION_NAMES:
            right = False
        else:
            continue  # ordinary words ("with") are not facts
        facts.append((token, right))
    return facts
