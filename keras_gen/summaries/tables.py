"""Small tables of numbers and their summaries, for business intelligence.

The article: LLMs improve business intelligence "by summarizing vast amounts
of data". Notebook 11 tests that claim at a size a laptop can train: tables
of monthly sales per region, each with a **reference summary computed from the
table** by code, and a character-level GPT fine-tuned to write that summary.

A table (:class:`SalesTable`) has 3-4 regions and 4-6 consecutive months. Each
region's sales follow a straight trend (a level and a monthly slope) plus
Gaussian noise; some tables get a one-month **shock**, a jump up or down in
one region (a promotion, a strike). Values are rounded and clipped to two
digits, ``10..99``, so that the table and its summary fit the shipped GPT's
256-character context (:data:`MAX_PAIR_CHARS` is the worst case).

Rendered as text (:func:`render_table`), a table reads::

    Sales Mar Apr May Jun
    North 41 44 47 49
    East 62 58 40 55
    Coast 23 25 24 28
    Summary:

and its reference summary (:func:`reference_summary`) states three facts,
in one fixed phrasing::

    Total rose from 126 in Mar to 132 in Jun. Largest change: East fell by
    18 in May. Leader: East with 215.

* **trend**: the total of all regions in the first and in the last month;
* **largest change**: the biggest month-to-month change of one region, in
  absolute value, with its direction and the month it happened in;
* **leader**: the region with the largest total over all months.

One phrasing, not several: the model has a few minutes of fine-tuning, and
with one phrasing every difference from the reference is a wrong fact rather
than a synonym, so ROUGE-L and the fact checker
(:mod:`keras_gen.summaries.factcheck`) measure the same thing in two ways. Tables whose
answer would be ambiguous (equal first and last totals, two leaders, two
largest changes) are redrawn, so every summary has exactly one right answer.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_gen import _checks

#: Region names a table draws from (short, so tables stay short).
REGION_NAMES = ("North", "South", "East", "West", "Inland", "Coast")
#: Month abbreviations; a table's months are consecutive, wrapping Dec -> Jan.
MONTH_NAMES = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
#: Smallest and largest value in a table: two digits.
MIN_VALUE, MAX_VALUE = 10, 99
#: The first cell of the header row.
HEADER = "Sales"
#: The last line of a prompt; the summary follows it on the same line.
SUMMARY_MARK = "Summary:"
#: Longest ``prompt + summary + "\n"`` any table can give (4 regions of 6
#: letters, 6 months, every value 99); tested in ``tests/test_tables.py``.
MAX_PAIR_CHARS = 248


@dataclasses.dataclass(frozen=True, eq=False)
class SalesTable:
    """Monthly sales per region.

    Attributes:
        regions: Region names, one per row.
        months: Month abbreviations, one per column, consecutive.
        values: int array ``(len(regions), len(months))``.

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 30], [20, 15]]))
        >>> t.month_totals().tolist(), t.region_totals().tolist()
        ([30, 45], [40, 35])
        >>> t.changes().tolist()
        [[20], [-5]]
    """

    regions: tuple
    months: tuple
    values: np.ndarray

    def __post_init__(self):
        values = np.asarray(self.values)
        if values.shape != (len(self.regions), len(self.months)):
            raise ValueError(
                f"Expected values of shape (regions, months) = "
                f"({len(self.regions)}, {len(self.months)}). Received: "
                f"shape {values.shape}"
            )
        if len(self.months) < 2:
            raise ValueError(
                "Expected at least 2 months (a trend needs a first and a last). "
                f"Received: months={tuple(self.months)}"
            )
        if not np.issubdtype(values.dtype, np.integer):
            raise ValueError(f"Expected integer values. Received: dtype {values.dtype}")
        object.__setattr__(self, "regions", tuple(self.regions))
        object.__setattr__(self, "months", tuple(self.months))
        object.__setattr__(self, "values", values.astype("int64"))

    def __eq__(self, other):
        return (
            isinstance(other, SalesTable)
            and (self.regions, self.months) == (other.regions, other.months)
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # mutable array inside: not hashable

    def month_totals(self) -> np.ndarray:
        """Sum over regions of each month, ``(months,)``."""
        return self.values.sum(axis=0)

    def region_totals(self) -> np.ndarray:
        """Sum over months of each region, ``(regions,)``."""
        return self.values.sum(axis=1)

    def changes(self) -> np.ndarray:
        """Month-to-month change, ``(regions, months - 1)``.

        Column ``j`` is the change *into* month ``j + 1``.
        """
        return np.diff(self.values, axis=1)


@dataclasses.dataclass(frozen=True)
class Facts:
    """The three facts a reference summary states, computed from a table.

    Attributes:
        first_month, last_month: The table's first and last month.
        first_total, last_total: All regions' total in those months.
        change_region, change_month: Where the largest change happened (the
            month the change led *into*).
        change: That change, signed (negative: sales fell).
        leader: Region with the largest total over all months.
        leader_total: Its total.
    """

    first_month: str
    last_month: str
    first_total: int
    last_total: int
    change_region: str
    change_month: str
    change: int
    leader: str
    leader_total: int


def ambiguities(table: SalesTable) -> list[str]:
    """Why a table's summary would not have exactly one right answer.

    Returns:
        A list of reasons, empty when the table is unambiguous.

    Example:
        >>> ambiguities(SalesTable(("A", "B"), ("Jan", "Feb"),
        ...                        np.array([[10, 20], [20, 10]])))
        ['total unchanged', 'two leaders', 'two largest changes']
    """
    reasons = []
    totals = table.month_totals()
    if totals[0] == totals[-1]:
        reasons.append("total unchanged")
    region_totals = table.region_totals()
    if np.sum(region_totals == region_totals.max()) > 1:
        reasons.append("two leaders")
    sizes = np.abs(table.changes())
    if np.sum(sizes == sizes.max()) > 1:
        reasons.append("two largest changes")
    return reasons


def table_facts(table: SalesTable) -> Facts:
    """Compute the reference summary's facts from the table.

    Raises:
        ValueError: The table is ambiguous (see :func:`ambiguities`).

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb", "Mar"),
        ...                np.array([[10, 30, 31], [20, 15, 18]]))
        >>> f = table_facts(t)
        >>> f.first_total, f.last_total, f.change_region, f.change_month, f.change
        (30, 49, 'North', 'Feb', 20)
        >>> f.leader, f.leader_total
        ('North', 71)
    """
    reasons = ambiguities(table)
    if reasons:
        raise ValueError(
            "Expected a table whose summary has one right answer. Received: a "
            f"table with {', '.join(reasons)}. Draw it with make_tables, which "
            "redraws such tables, or change a value."
        )
    totals = table.month_totals()
    changes = table.changes()  # (regions, months - 1)
    region, step = np.unravel_index(np.argmax(np.abs(changes)), changes.shape)
    region_totals = table.region_totals()
    leader = int(np.argmax(region_totals))
    return Facts(
        first_month=table.months[0],
        last_month=table.months[-1],
        first_total=int(totals[0]),
        last_total=int(totals[-1]),
        change_region=table.regions[region],
        change_month=table.months[step + 1],
        change=int(changes[region, step]),
        leader=table.regions[leader],
        leader_total=int(region_totals[leader]),
    )


def direction(change: int) -> str:
    """``"rose"`` for a positive change, ``"fell"`` for a negative one."""
    if change == 0:
        raise ValueError("Expected a non-zero change. Received: change=0")
    return "rose" if change > 0 else "fell"


def summary_from_facts(facts: Facts) -> str:
    """The fixed phrasing of the three facts (no trailing newline).

    Example:
        >>> print(summary_from_facts(Facts("Jan", "Mar", 30, 49, "North", "Feb",
        ...                                20, "North", 71)))
        Total rose from 30 in Jan to 49 in Mar. Largest change: North rose by 20 in Feb. Leader: North with 71.
    """  # noqa: E501
    trend = direction(facts.last_total - facts.first_total)
    return (
        f"Total {trend} from {facts.first_total} in {facts.first_month} to "
        f"{facts.last_total} in {facts.last_month}. "
        f"Largest change: {facts.change_region} {direction(facts.change)} by "
        f"{abs(facts.change)} in {facts.change_month}. "
        f"Leader: {facts.leader} with {facts.leader_total}."
    )


def reference_summary(table: SalesTable) -> str:
    """The reference summary: the table's facts in the fixed phrasing.

    This is also the **template baseline**: code that computes the facts and
    fills the phrasing is exact by construction.

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 30], [20, 15]]))
        >>> print(reference_summary(t))
        Total rose from 30 in Jan to 45 in Feb. Largest change: North rose by 20 in Feb. Leader: North with 40.
    """  # noqa: E501
    return summary_from_facts(table_facts(table))


def endpoints_summary(table: SalesTable) -> str:
    """A weaker template that reads only the first and last month.

    A fairer baseline than :func:`reference_summary`: it knows the trend
    exactly, but must guess the rest from two columns. It names as largest
    change the region whose value moved most between the first and last
    month, in the last month, by that whole move; and as leader the region
    with the largest first + last values, with its estimated total
    ``(first + last) / 2 * months`` (rounded).

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb", "Mar"),
        ...                np.array([[10, 30, 31], [20, 15, 18]]))
        >>> print(endpoints_summary(t))
        Total rose from 30 in Jan to 49 in Mar. Largest change: North rose by 21 in Mar. Leader: North with 62.
    """  # noqa: E501
    first, last = table.values[:, 0], table.values[:, -1]  # (regions,)
    moves = last - first
    mover = int(np.argmax(np.abs(moves)))
    leader = int(np.argmax(first + last))
    totals = table.month_totals()
    if totals[0] == totals[-1]:
        raise ValueError(
            "Expected a table whose total changed. Received: a total unchanged "
            f"at {totals[0]}"
        )
    # The move of the mover can be 0 when every region ends where it began.
    move = int(moves[mover]) or 1
    return summary_from_facts(
        Facts(
            first_month=table.months[0],
            last_month=table.months[-1],
            first_total=int(totals[0]),
            last_total=int(totals[-1]),
            change_region=table.regions[mover],
            change_month=table.months[-1],
            change=move,
            leader=table.regions[leader],
            leader_total=int(
                round((first[leader] + last[leader]) / 2 * len(table.months))
            ),
        )
    )


def render_table(table: SalesTable) -> str:
    r"""The table as compact text: the prompt the model reads.

    A header row (``Sales`` and the months), one row per region, then the
    line ``Summary:`` followed by one space; the summary continues it.

    Example:
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 30], [20, 15]]))
        >>> render_table(t)
        'Sales Jan Feb\nNorth 10 30\nSouth 20 15\nSummary: '
    """
    lines = [" ".join((HEADER,) + table.months)]
    for region, row in zip(table.regions, table.values, strict=True):
        lines.append(" ".join([region] + [str(int(v)) for v in row]))
    lines.append(SUMMARY_MARK + " ")
    return "\n".join(lines)


def summary_pairs(tables) -> list[tuple[str, str]]:
    r"""``(prompt, reference summary + "\n")`` for each table, for fine-tuning.

    The newline ends the completion, so greedy decoding stops there.
    """
    return [(render_table(t), reference_summary(t) + "\n") for t in tables]


def summarize(model, tokenizer, table_list, max_new_tokens: int = 120):
    """Write a summary of each table with greedy decoding, up to its newline.

    The tables are rendered (:func:`render_table`) and completed in one batch
    by :func:`keras_gen.finetune.greedy_complete`, the course's one decoding
    path (with the key/value cache). ``max_new_tokens`` is cut to what the
    context leaves after the longest table.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        tokenizer: Its tokenizer.
        table_list: :class:`SalesTable` objects.
        max_new_tokens: Longest summary, in tokens.

    Returns:
        The summaries, a list of strings.

    Raises:
        ValueError: No tables, ``max_new_tokens < 1``, or a rendered table
            fills the model's whole context (the message names the table).

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> drawn = make_tables(2, seed=0)
        >>> tok = CharTokenizer.train("".join(render_table(t) for t in drawn))
        >>> gpt = build_gpt(tok.vocab_size, 150, 16, 2, 1)  # untrained
        >>> len(summarize(gpt, tok, drawn, max_new_tokens=5))
        2
    """
    from keras_gen.finetune import greedy_complete  # loads Keras: only when used

    prompts = [render_table(t) for t in table_list]
    if not prompts:
        raise ValueError("Expected at least one table. Received: none")
    max_new_tokens = _checks.check_int("max_new_tokens", max_new_tokens, minimum=1)
    lengths = [len(tokenizer.encode(p)) for p in prompts]
    longest = max(lengths)
    context = model.context_length
    if longest >= context:  # not even one summary token fits after it
        which = lengths.index(longest)
        raise ValueError(
            f"Expected every rendered table to be shorter than the model's "
            f"context_length={context} tokens, leaving room for its summary. "
            f"Received: table {which} renders to {longest} tokens. Summarize "
            f"tables of at most {context - 1} tokens (fewer rows or regions), "
            "or use a model with a longer context."
        )
    room = context - longest
    return greedy_complete(
        model, tokenizer, prompts, min(max_new_tokens, room), verbose=False
    )


def _check_range(name: str, value, low: int, high: int) -> tuple[int, int]:
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(
            f"Expected {name} as a (smallest, largest) pair of ints. Received: "
            f"{name}={value!r}"
        )
    smallest, largest = value
    if not low <= smallest <= largest <= high:
        raise ValueError(
            f"Expected {low} <= smallest <= largest <= {high} for {name}. "
            f"Received: {name}={tuple(value)}"
        )
    return smallest, largest


def make_tables(
    count: int,
    seed: int = 0,
    regions=(3, 4),
    months=(4, 6),
    noise: float = 3.0,
    shock_probability: float = 0.3,
) -> list[SalesTable]:
    """Draw ``count`` sales tables; the same seed gives the same tables.

    For each table: a number of regions and months (uniform in the given
    ranges), distinct region names from :data:`REGION_NAMES` in a random
    order, consecutive months from a random start. Each region's value in
    month ``j`` is ``level + slope * j + noise``, with the level uniform in
    ``[20, 80]``, the slope uniform in ``[-6, 6]`` per month and the noise
    Gaussian with standard deviation ``noise``. With probability
    ``shock_probability`` one random region gets a shock of ``15..30`` up or
    down in one random month after the first. Values are rounded and clipped
    to ``[10, 99]``. Ambiguous tables (:func:`ambiguities`) are redrawn.

    Args:
        count: Number of tables.
        seed: Random seed; held-out tables use a different seed.
        regions: ``(smallest, largest)`` number of regions, within ``1..6``.
        months: ``(smallest, largest)`` number of months, within ``2..12``.
            The shipped GPT's context fits up to 4 regions and 6 months.
        noise: Standard deviation of the monthly noise, ``>= 0``.
        shock_probability: Chance that a table has a shock, in ``[0, 1]``.

    Returns:
        A list of :class:`SalesTable`.

    Example:
        >>> tables = make_tables(2, seed=0)
        >>> len(tables), tables[0] == make_tables(2, seed=0)[0]
        (2, True)
    """
    count = _checks.check_int("count", count, minimum=1)
    seed = _checks.check_seed("seed", seed)
    lo_r, hi_r = _check_range("regions", regions, 1, len(REGION_NAMES))
    lo_m, hi_m = _check_range("months", months, 2, len(MONTH_NAMES))
    noise = _checks.check_float("noise", noise, minimum=0)
    shock_probability = _checks.check_float(
        "shock_probability", shock_probability, 0, 1
    )
    rng = np.random.default_rng(seed)
    tables = []
    while len(tables) < count:
        num_regions = int(rng.integers(lo_r, hi_r + 1))
        num_months = int(rng.integers(lo_m, hi_m + 1))
        names = rng.choice(len(REGION_NAMES), num_regions, replace=False)
        start = int(rng.integers(len(MONTH_NAMES)))
        month_names = [
            MONTH_NAMES[(start + j) % len(MONTH_NAMES)] for j in range(num_months)
        ]
        level = rng.uniform(20, 80, (num_regions, 1))
        slope = rng.uniform(-6, 6, (num_regions, 1))
        steps = np.arange(num_months)[None, :]  # (1, months)
        values = level + slope * steps + rng.normal(0, noise, (num_regions, num_months))
        if rng.random() < shock_probability:
            where = (int(rng.integers(num_regions)), int(rng.integers(1, num_months)))
            values[where] += rng.choice([-1, 1]) * rng.uniform(15, 30)
        values = np.clip(np.rint(values), MIN_VALUE, MAX_VALUE).astype("int64")
        table = SalesTable(
            tuple(REGION_NAMES[i] for i in names), tuple(month_names), values
        )
        if not ambiguities(table):
            tables.append(table)
    return tables
