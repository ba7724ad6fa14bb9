"""A tiny query language over a sales table, and its restricted evaluator.

The analyst (:mod:`keras_gen.summaries.analyst`) answers a question about a
:class:`~keras_gen.summaries.tables.SalesTable` by writing **one line of
code** that this module runs; the answer comes from the run, never from the
model's weights. The code is a query of a few space-separated words, not
Python, for three reasons:

* **constrained decoding is easy**: a table has only a few dozen valid
  queries (:func:`valid_queries`), so a decoder can be held to a prefix tree
  of them, character by character, and can never write an invalid program;
* **nothing to sandbox**: the evaluator is a lookup of an operation and its
  arguments, so no input, however hostile, can reach Python;
* **short rows**: a query is 10-20 characters, so fine-tuning a character
  model on (question, query) pairs is fast.

The language (``REGION`` is a region of the table, ``MONTH`` one of its months
or ``first``/``last``)::

    value REGION MONTH     one cell                                   -> int
    total REGION           a region over all months                   -> int
    total MONTH            all regions in one month                   -> int
    change REGION MONTH    a region's change into MONTH from the one before -> int
    growth REGION          a region's last month minus its first      -> int
    top|bottom region total     region with the largest|smallest total -> region
    top|bottom region growth    region that grew most|least            -> region
    top|bottom month REGION     a region's best|worst month            -> month
    top|bottom month total      month with the largest|smallest total  -> month
    jump region|month|size      the largest month-to-month change of one
                                region: where, when, how much (signed) -> region,
                                month, int

A query that breaks these rules raises :class:`QueryError` (a ``ValueError``)
that says what was wrong; :func:`run_query` never guesses.
"""

from __future__ import annotations

import numpy as np

from keras_gen.summaries.tables import SalesTable

#: The type of each operation's answer, as :func:`answer_type` names it.
TYPES = ("int", "region", "month")
_ENDS = ("first", "last")


class QueryError(ValueError):
    """A query that cannot run on a table: bad words, names or arity."""


def _fail(query: str, why: str, fix: str) -> QueryError:
    return QueryError(f"Expected a valid query. Received: {query!r}, {why}. {fix}")


def _month_index(table: SalesTable, word: str, query: str) -> int:
    if word == "first":
        return 0
    if word == "last":
        return len(table.months) - 1
    if word in table.months:
        return table.months.index(word)
    raise _fail(
        query, f"whose month {word!r} is not in the table",
        f"Use one of {list(table.months) + list(_ENDS)}.",
    )


def _region_index(table: SalesTable, word: str, query: str) -> int:
    if word in table.regions:
        return table.regions.index(word)
    raise _fail(
        query, f"whose region {word!r} is not in the table",
        f"Use one of {list(table.regions)}.",
    )


def _scores(table: SalesTable, words: list[str], query: str):
    """``(names, scores)`` that a ``top``/``bottom`` query ranks."""
    axis, what = words[1], words[2]
    if axis == "region" and what == "total":
        return table.regions, table.region_totals()
    if axis == "region" and what == "growth":
        return table.regions, table.values[:, -1] - table.values[:, 0]
    if axis == "month" and what == "total":
        return table.months, table.month_totals()
    if axis == "month":
        return table.months, table.values[_region_index(table, what, query)]
    raise _fail(
        query, "which ranks neither regions nor months",
        "Write 'top region total', 'top region growth', 'top month total' or "
        "'top month REGION'.",
    )


def _jump(table: SalesTable):
    """``(region index, month index, signed change)`` of the largest change."""
    changes = table.changes()  # (regions, months - 1)
    region, step = np.unravel_index(np.argmax(np.abs(changes)), changes.shape)
    return int(region), int(step) + 1, int(changes[region, step])


_ARITY = {"value": 3, "total": 2, "change": 3, "growth": 2, "top": 3, "bottom": 3,
          "jump": 2}


def run_query(query: str, table: SalesTable):
    """Run one query on a table.

    Args:
        query: One line of the query language (module docstring); outer
            spaces are ignored.
        table: The table.

    Returns:
        An ``int`` for numbers, a region name or a month name (``str``).

    Raises:
        QueryError: The query is not in the language or names something the
            table lacks; the message says which word and what would fit.

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb", "Mar"),
        ...                np.array([[10, 30, 31], [20, 15, 18]]))
        >>> run_query("total Feb", t), run_query("top region growth", t)
        (45, 'North')
        >>> run_query("jump size", t), run_query("bottom month South", t)
        (20, 'Feb')
        >>> run_query("value West Jan", t)
        Traceback (most recent call last):
        ...
        keras_gen.summaries.queries.QueryError: Expected a valid query. Received: 'value West Jan', whose region 'West' is not in the table. Use one of ['North', 'South'].
    """  # noqa: E501
    if not isinstance(query, str):
        raise QueryError(
            f"Expected the query as a str. Received: {type(query).__name__}"
        )
    if not isinstance(table, SalesTable):
        raise ValueError(
            "Expected a keras_gen.summaries.tables.SalesTable. Received: "
            f"{type(table).__name__}"
        )
    words = query.split()
    if not words or words[0] not in _ARITY:
        raise _fail(query, "which starts with no known operation",
                    f"Start with one of {sorted(_ARITY)}.")
    op = words[0]
    if len(words) != _ARITY[op]:
        raise _fail(query, f"with {len(words) - 1} arguments",
                    f"'{op}' takes {_ARITY[op] - 1}.")
    if op == "value":
        r = _region_index(table, words[1], query)
        return int(table.values[r, _month_index(table, words[2], query)])
    if op == "total":
        if words[1] in table.regions:
            return int(table.region_totals()[table.regions.index(words[1])])
        return int(table.month_totals()[_month_index(table, words[1], query)])
    if op == "growth":
        r = _region_index(table, words[1], query)
        return int(table.values[r, -1] - table.values[r, 0])
    if op == "change":
        r = _region_index(table, words[1], query)
        m = _month_index(table, words[2], query)
        if m == 0:
            raise _fail(query, "whose month is the table's first",
                        "A change needs a month before it; name a later month.")
        return int(table.values[r, m] - table.values[r, m - 1])
    if op == "jump":
        r, m, size = _jump(table)
        answers = {"region": table.regions[r], "month": table.months[m],
                   "size": size}
        if words[1] not in answers:
            raise _fail(query, f"which asks the jump's {words[1]!r}",
                        "Ask 'jump region', 'jump month' or 'jump size'.")
        return answers[words[1]]
    names, scores = _scores(table, words, query)
    pick = np.argmax(scores) if op == "top" else np.argmin(scores)
    return names[int(pick)]


def answer_type(value) -> str:
    """``"int"``, ``"region"`` or ``"month"``: the kind of a query's answer.

    Example:
        >>> answer_type(3), answer_type("North"), answer_type("Mar")
        ('int', 'region', 'month')
    """
    from keras_gen.summaries.tables import MONTH_NAMES

    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return "int"
    return "month" if value in MONTH_NAMES else "region"


def unique_answer(query: str, table: SalesTable) -> bool:
    """Whether the query has one right answer on this table (no tie to break).

    ``top``/``bottom`` queries tie when two names share the best score, and
    ``jump`` queries when two changes are equally large; the datasets skip
    such questions so every answer can be checked.

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 31], [20, 20]]))
        >>> unique_answer("top region total", t), unique_answer("top month South", t)
        (True, False)
    """
    words = query.split()
    if words[0] in ("top", "bottom"):
        _, scores = _scores(table, words, query)
        best = scores.max() if words[0] == "top" else scores.min()
        return int(np.sum(scores == best)) == 1
    if words[0] == "jump":
        sizes = np.abs(table.changes())
        return int(np.sum(sizes == sizes.max())) == 1
    return True


def valid_queries(table: SalesTable) -> list[str]:
    """Every query that runs on ``table``: the set constrained decoding keeps to.

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 30], [20, 20]]))
        >>> qs = valid_queries(t)
        >>> len(qs), "change North Feb" in qs, "change North Jan" in qs
        (33, True, False)
    """
    months = list(table.months) + list(_ENDS)
    later = list(table.months[1:]) + ["last"]
    out = []
    for r in table.regions:
        out += [f"value {r} {m}" for m in months]
        out += [f"total {r}", f"growth {r}"]
        out += [f"change {r} {m}" for m in later]
    out += [f"total {m}" for m in months]
    for op in ("top", "bottom"):
        out += [f"{op} region total", f"{op} region growth", f"{op} month total"]
        out += [f"{op} month {r}" for r in table.regions]
    out += ["jump region", "jump month", "jump size"]
    return out
