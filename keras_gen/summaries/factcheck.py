"""Check a generated table summary against its table, fact by fact; ROUGE-L.

A summary of a :class:`~keras_gen.summaries.tables.SalesTable` is split into sentences
(at each ``.``). A **fact** is every number, every region or month name (any
name in :data:`~keras_gen.summaries.tables.REGION_NAMES` or
:data:`~keras_gen.summaries.tables.MONTH_NAMES`, whether or not it is in the table) and
every direction word (``rose``/``fell``) in a sentence. The sentence's first
word says what it claims, as in the reference phrasing
(:func:`keras_gen.summaries.tables.summary_from_facts`):

* ``Total ...`` (**trend**): the i-th month named must be the table's first
  (i = 0) or last (i = 1) month; the i-th number must be the total of all
  regions in the i-th month *named* (or, if that name is not one of the
  table's months, in the month it should have named); the direction word
  must match the last total minus the first. Region names are wrong here.
* ``Largest ...`` (**largest change**): the region and month named must be
  where the largest month-to-month change happened; the number must be the
  size of the change *of the named region into the named month* (if both are
  in the table and the month is not the first; else the true largest change's
  size); the direction word must match that change's sign.
* ``Leader ...`` (**leader**): the region named must have the largest total;
  the number must be the total of the *named* region (or, if it is not in the
  table, the leader's).

Each fact is judged once: a number is checked against the quantity its
sentence claims for the name written next to it, so naming the wrong region
costs one fact, not two. Anything beyond what a sentence claims (a second
region, a third number) and every fact in a sentence of any other kind is
wrong: the checker cannot verify it. A summary is **complete** when it has
all three kinds of sentence, and **all right** when it is complete and every
fact is right.

ROUGE-L (Lin, 2004, "ROUGE: A Package for Automatic Evaluation of
Summaries") scores wording instead: the F1 of the longest common subsequence
of words. It rewards a summary that looks like the reference even when its
numbers are wrong, which is why this module has both.
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

from keras_gen.summaries.tables import (
    MONTH_NAMES,
    REGION_NAMES,
    SalesTable,
    table_facts,
)

_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_KINDS = {"total": "trend", "largest": "change", "leader": "leader"}
KINDS = ("trend", "change", "leader")


@dataclasses.dataclass(frozen=True)
class Fact:
    """One checked fact of a summary.

    Attributes:
        text: The fact as written (a number, a name or a direction word).
        start, end: Its character span in the summary.
        kind: The sentence's kind (``trend``, ``change``, ``leader`` or
            ``other``).
        expected: What the table says it should be (``None`` when the
            sentence claims nothing there).
        correct: Whether it is right.
    """

    text: str
    start: int
    end: int
    kind: str
    expected: str | None
    correct: bool

    @property
    def category(self) -> str:
        """``number``, ``month``, ``region`` or ``direction``."""
        if self.text.isdigit():
            return "number"
        return (
            "month"
            if self.text in MONTH_NAMES
            else ("region" if self.text in REGION_NAMES else "direction")
        )


@dataclasses.dataclass(frozen=True)
class SummaryCheck:
    """The fact checker's verdict on one summary.

    Attributes:
        facts: Every fact, in the order they appear.
        kinds: The kinds of sentence found, in order.
    """

    facts: tuple
    kinds: tuple

    @property
    def num_correct(self) -> int:
        """Number of right facts."""
        return sum(f.correct for f in self.facts)

    @property
    def accuracy(self) -> float:
        """Share of the stated facts that are right; 0.0 when none is stated."""
        return self.num_correct / len(self.facts) if self.facts else 0.0

    @property
    def complete(self) -> bool:
        """Whether the summary has a trend, a change and a leader sentence."""
        return set(KINDS) <= set(self.kinds)

    @property
    def all_right(self) -> bool:
        """Complete and every fact right."""
        return self.complete and self.num_correct == len(self.facts)

    def marked(self, summary: str, mark: str = "[{}]?") -> str:
        """The summary with every wrong fact wrapped by ``mark``.

        Example:
            >>> from keras_gen.summaries.tables import SalesTable
            >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
            ...                np.array([[10, 30], [20, 15]]))
            >>> s = "Leader: South with 35."  # South's total is 35; North leads
            >>> check_summary(s, t).marked(s)
            'Leader: [South]? with 35.'
        """
        out, last = [], 0
        for fact in self.facts:
            if not fact.correct:
                out += [summary[last : fact.start], mark.format(fact.text)]
                last = fact.end
        return "".join(out) + summary[last:]


def _sentences(summary: str):
    """``(start, text)`` of each sentence (split after each ``.``)."""
    start = 0
    for piece in re.split(r"(?<=\.)", summary):
        if piece.strip():
            yield start, piece
        start += len(piece)


def _judge(verdicts, token, expected):
    """Record whether ``token`` (text, start, end) equals ``expected``."""
    verdicts[token[1]] = (
        None if expected is None else str(expected),
        expected is not None and token[0] == str(expected),
    )


def _nth(items, i):
    return items[i] if i < len(items) else None


def check_summary(summary: str, table: SalesTable) -> SummaryCheck:
    """Check every number, name and direction word of ``summary``.

    The rules are in the module docstring.

    Args:
        summary: A generated summary (one line).
        table: The table it summarises (unambiguous, as from
            :func:`~keras_gen.summaries.tables.make_tables`).

    Returns:
        A :class:`SummaryCheck`.

    Example:
        >>> from keras_gen.summaries.tables import SalesTable
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 30], [20, 15]]))
        >>> c = check_summary("Total rose from 30 in Jan to 44 in Feb.", t)
        >>> [(f.text, f.correct) for f in c.facts]
        [('rose', True), ('30', True), ('Jan', True), ('44', False), ('Feb', True)]
        >>> c.accuracy, c.complete
        (0.8, False)
    """
    if not isinstance(summary, str):
        raise ValueError(
            f"Expected the summary as a str. Received: {type(summary).__name__}"
        )
    if not isinstance(table, SalesTable):
        raise ValueError(
            "Expected a keras_gen.summaries.tables.SalesTable. Received: "
            f"{type(table).__name__}"
        )
    truth = table_facts(table)
    month_totals = dict(zip(table.months, table.month_totals().tolist(), strict=True))
    region_totals = dict(
        zip(table.regions, table.region_totals().tolist(), strict=True)
    )
    values = {
        (r, m): int(v)
        for r, row in zip(table.regions, table.values, strict=True)
        for m, v in zip(table.months, row, strict=True)
    }
    previous = dict(zip(table.months[1:], table.months[:-1], strict=True))

    def change_of(region, month):
        # The named region's change into the named month, if there is one.
        if (region, month) in values and month in previous:
            return values[(region, month)] - values[(region, previous[month])]
        return truth.change

    facts, kinds = [], []
    for offset, sentence in _sentences(summary):
        tokens = [
            (m.group(), offset + m.start(), offset + m.end())
            for m in _TOKEN.finditer(sentence)
        ]
        if not tokens:
            continue
        kind = _KINDS.get(tokens[0][0].lower(), "other")
        kinds.append(kind)
        months = [t for t in tokens if t[0] in MONTH_NAMES]
        regions = [t for t in tokens if t[0] in REGION_NAMES]
        numbers = [t for t in tokens if t[0].isdigit()]
        words = [t for t in tokens if t[0] in ("rose", "fell")]
        verdicts = {}  # span start -> (expected, correct)
        judge = functools.partial(_judge, verdicts)

        if kind == "trend":
            ends = (truth.first_month, truth.last_month)
            totals = (truth.first_total, truth.last_total)
            for i, token in enumerate(months):
                judge(token, _nth(ends, i))
            for i, token in enumerate(numbers):
                named = _nth(months, i)
                month = named[0] if named and named[0] in month_totals else None
                expected = month_totals[month] if month else _nth(totals, i)
                judge(token, expected)
            sign = totals[1] - totals[0]
            for i, token in enumerate(words):
                judge(token, ("rose" if sign > 0 else "fell") if i == 0 else None)
            for token in regions:
                judge(token, None)
        elif kind == "change":
            region = _nth(regions, 0)
            month = _nth(months, 0)
            change = change_of(region and region[0], month and month[0])
            for i, token in enumerate(regions):
                judge(token, truth.change_region if i == 0 else None)
            for i, token in enumerate(months):
                judge(token, truth.change_month if i == 0 else None)
            for i, token in enumerate(numbers):
                judge(token, abs(change) if i == 0 else None)
            for i, token in enumerate(words):
                word = "rose" if change > 0 else "fell" if change < 0 else None
                judge(token, word if i == 0 else None)
        elif kind == "leader":
            region = _nth(regions, 0)
            named = region[0] if region and region[0] in region_totals else None
            for i, token in enumerate(regions):
                judge(token, truth.leader if i == 0 else None)
            for i, token in enumerate(numbers):
                total = region_totals[named] if named else truth.leader_total
                judge(token, total if i == 0 else None)
            for token in months + words:
                judge(token, None)
        else:
            for token in months + regions + numbers + words:
                judge(token, None)
        for text, start, end in sorted(
            months + regions + numbers + words, key=lambda t: t[1]
        ):
            expected, correct = verdicts[start]
            facts.append(Fact(text, start, end, kind, expected, correct))
    return SummaryCheck(tuple(facts), tuple(kinds))


def score_summaries(summaries, tables) -> dict:
    """Fact accuracy of many summaries, and the share that are all right.

    Args:
        summaries: Generated summaries, one per table.
        tables: The tables.

    Returns:
        ``{"fact_accuracy": right facts / stated facts over all summaries,
        "mean_accuracy": mean of the per-summary shares, "all_right": share of
        summaries complete with every fact right, "complete": share with all
        three sentences, "facts_per_summary": mean number of stated facts,
        "checks": the SummaryCheck of each}``.

    Example:
        >>> from keras_gen.summaries.tables import make_tables, reference_summary
        >>> tables = make_tables(3, seed=1)
        >>> s = score_summaries([reference_summary(t) for t in tables], tables)
        >>> s["fact_accuracy"], s["all_right"], s["facts_per_summary"]
        (1.0, 1.0, 11.0)
    """
    summaries, tables = list(summaries), list(tables)
    if len(summaries) != len(tables) or not tables:
        raise ValueError(
            "Expected one summary per table (at least one). Received: "
            f"{len(summaries)} summaries, {len(tables)} tables"
        )
    checks = [check_summary(s, t) for s, t in zip(summaries, tables, strict=True)]
    stated = sum(len(c.facts) for c in checks)
    return {
        "fact_accuracy": sum(c.num_correct for c in checks) / stated if stated else 0.0,
        "mean_accuracy": float(np.mean([c.accuracy for c in checks])),
        "all_right": float(np.mean([c.all_right for c in checks])),
        "complete": float(np.mean([c.complete for c in checks])),
        "facts_per_summary": stated / len(checks),
        "checks": checks,
    }


def accuracy_by_fact(checks) -> dict:
    """Share of right facts for each (sentence kind, fact category).

    Args:
        checks: :class:`SummaryCheck` objects (e.g. ``score["checks"]``).

    Returns:
        ``{(kind, category): (right, stated)}``, sorted by kind then category.

    Example:
        >>> from keras_gen.summaries.tables import SalesTable
        >>> t = SalesTable(("North", "South"), ("Jan", "Feb"),
        ...                np.array([[10, 30], [20, 15]]))
        >>> accuracy_by_fact([check_summary("Leader: North with 41.", t)])
        {('leader', 'number'): (0, 1), ('leader', 'region'): (1, 1)}
    """
    counts = {}
    for check in checks:
        for fact in check.facts:
            right, stated = counts.get((fact.kind, fact.category), (0, 0))
            counts[(fact.kind, fact.category)] = (right + fact.correct, stated + 1)
    return dict(sorted(counts.items()))


def rouge_tokens(text: str) -> list[str]:
    """Lower-case words and numbers; punctuation is dropped (as in ROUGE).

    Example:
        >>> rouge_tokens("Leader: North, with 71.")
        ['leader', 'north', 'with', '71']
    """
    return re.findall(r"[a-z0-9]+", text.lower())


def lcs_length(a, b) -> int:
    """Length of the longest common subsequence of two sequences.

    Dynamic programming over one row, ``O(len(a) * len(b))`` time.

    Example:
        >>> lcs_length("ABCBDAB", "BDCABA")
        4
    """
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0  # row[j - 1] of the previous row
        for j, y in enumerate(b, start=1):
            diagonal, row[j] = (
                row[j],
                (diagonal + 1 if x == y else max(row[j], row[j - 1])),
            )
    return row[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 on words (Lin, 2004): LCS-based precision and recall.

    ``P = LCS / len(candidate)``, ``R = LCS / len(reference)``,
    ``F1 = 2PR / (P + R)``; 0.0 when either text has no words or the LCS is
    empty.

    Example:
        >>> round(rouge_l("the cat sat", "the cat sat down"), 4)  # P=1, R=3/4
        0.8571
    """
    cand, ref = rouge_tokens(candidate), rouge_tokens(reference)
    common = lcs_length(cand, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(cand), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def mean_rouge_l(candidates, references) -> float:
    """Mean ROUGE-L F1 over pairs.

    Example:
        >>> mean_rouge_l(["a b", "c"], ["a b", "d"])
        0.5
    """
    candidates, references = list(candidates), list(references)
    if len(candidates) != len(references) or not references:
        raise ValueError(
            "Expected as many candidates as references (at least one). Received: "
            f"{len(candidates)} candidates, {len(references)} references"
        )
    return float(
        np.mean([rouge_l(c, r) for c, r in zip(candidates, references, strict=True)])
    )
