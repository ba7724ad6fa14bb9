"""Plain-English questions about a sales table, each with the query that answers it.

The analyst's training and test data. A **kind** of question is one query
shape of :mod:`keras_gen.summaries.queries` (``value REGION MONTH``, ``top
region growth``, ...) with several **templates**, the ways a person might ask
it; a question is a template with its slots filled (a region of the table, a
month, a synonym of "sales") and its casing and final ``?`` varied.

Two things are held out of training, so the test measures generalization
rather than recall:

* **phrasings**: the last :data:`HELD_OUT_TEMPLATES` templates of every kind
  are never trained on (``split="phrasings"``);
* **a whole kind**: :data:`HELD_OUT_KIND` (a region's *worst* month) is
  never trained on in any phrasing (``split="kind"``). Its words ("least",
  "lowest", "worst") and its shape (``bottom month REGION``'s parts) do
  appear in other kinds, so a model can only get it by composing them.

``split="train"`` draws the trained templates of the trained kinds;
``split="seen"`` draws the same on other tables (a check that the model
learned what it was taught).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_gen import _checks
from keras_gen.summaries.queries import run_query, unique_answer
from keras_gen.summaries.tables import SalesTable

#: Full month names, for questions that spell them out ("March" -> ``Mar``).
FULL_MONTHS = dict(zip(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
     "Dec"),
    ("January", "February", "March", "April", "May", "June", "July", "August",
     "September", "October", "November", "December"), strict=True))
#: Words for the first and the last month of a table.
FIRST_WORDS = ("the first month", "the opening month", "the earliest month")
LAST_WORDS = ("the last month", "the latest month", "the final month",
              "the most recent month")
SALES_WORDS = ("sales", "revenue", "turnover")
REGION_FORMS = ("{}", "the {}", "the {} region", "{} region")


@dataclasses.dataclass(frozen=True)
class Kind:
    """One query shape and the templates that ask it.

    Attributes:
        name: The kind's name.
        query: The query with ``{r}`` (region) and ``{m}`` (month) slots.
        months: Which months ``{m}`` takes: ``"any"`` (a month of the table,
            or its first/last), ``"later"`` (not the first) or ``None``.
        templates: Questions with ``{r}``, ``{m}`` and ``{s}`` (a word for
            sales) slots.
    """

    name: str
    query: str
    months: str | None
    templates: tuple


KINDS = (
    Kind("cell", "value {r} {m}", "any", (
        "What were the {s} of {r} in {m}?", "How much did {r} sell in {m}?",
        "{s} of {r} in {m}?", "In {m}, how much did {r} sell?",
        "Give me {r}'s {s} for {m}", "{m} {s} for {r}",
        "What were the total {s} of {r} in {m}?",
        "What did {r} bring in during {m}?",
        "For {r}, what was the {s} number in {m}?")),
    Kind("region_total", "total {r}", None, (
        "What were the total {s} of {r}?", "How much did {r} sell in all?",
        "Total {s} for {r}", "What is {r}'s {s} over all months?",
        "Sum up the {s} of {r}", "Across all months, how much did {r} sell?",
        "How much {s} did {r} make altogether?",
        "{r}: combined {s} for the whole period?")),
    Kind("month_total", "total {m}", "any", (
        "What were the total {s} in {m}?", "How much was sold in {m}?",
        "Total {s} of all regions in {m}",
        "In {m}, what were the {s} of all regions together?",
        "Sum of {s} across regions for {m}", "Overall {s} in {m}?",
        "What did all regions sell combined during {m}?",
        "For {m}, give the company-wide {s}")),
    Kind("change", "change {r} {m}", "later", (
        "How much did {r} change in {m}?", "What was the change of {r} in {m}?",
        "By how much did {r} {s} move in {m} from the month before?",
        "Change in {s} for {r} in {m}",
        "In {m}, how much did {r} go up or down?",
        "{r} month-on-month change in {m}?",
        "Compared with the previous month, how did {r} shift in {m}?",
        "What was the difference for {r} between {m} and the month before it?")),
    Kind("growth", "growth {r}", None, (
        "How much did {r} grow?",
        "What is the growth of {r} from the first to the last month?",
        "By how much did {r} {s} rise or fall over the period?",
        "Growth of {r}?", "From start to end, how much did {r} change?",
        "{r}: last month minus first month",
        "How far did {r} climb or drop between the first and the final month?",
        "What's the overall gain of {r}?")),
    Kind("leader", "top region total", None, (
        "Which region sold the most?", "Which region had the highest total {s}?",
        "Who leads in {s}?", "Top region by total {s}",
        "Which region has the largest {s} overall?",
        "Over all months, which region sold most?",
        "Name the best-selling region", "What region comes first in total {s}?")),
    Kind("laggard", "bottom region total", None, (
        "Which region sold the least?", "Which region had the lowest total {s}?",
        "Bottom region by total {s}", "Which region has the smallest {s} overall?",
        "Over all months, which region sold least?", "Who is last in {s}?",
        "Name the weakest-selling region", "What region comes last in total {s}?")),
    Kind("top_grower", "top region growth", None, (
        "Which region grew most?", "Which region had the biggest growth?",
        "Which region's {s} rose the most from first to last month?",
        "Fastest growing region?", "Top region by growth",
        "Between the first and last month, which region grew the most?",
        "Name the region whose {s} climbed furthest",
        "Where did {s} increase most over the period?")),
    Kind("bottom_grower", "bottom region growth", None, (
        "Which region grew least?", "Which region had the smallest growth?",
        "Which region's {s} fell the most from first to last month?",
        "Slowest growing region?", "Bottom region by growth",
        "Between the first and last month, which region shrank the most?",
        "Name the region whose {s} dropped furthest",
        "Where did {s} decline most over the period?")),
    Kind("best_month", "top month {r}", None, (
        "Which month was best for {r}?", "In which month did {r} sell the most?",
        "Best month of {r}?", "When did {r} have its highest {s}?",
        "Top month for {r}", "For {r}, which month had the peak {s}?",
        "What was the strongest month for {r}?",
        "{r}: the month with the greatest {s}?")),
    Kind("worst_month", "bottom month {r}", None, (
        "Which month was worst for {r}?", "In which month did {r} sell the least?",
        "Worst month of {r}?", "When did {r} have its lowest {s}?",
        "For {r}, which month had the weakest {s}?",
        "What was the poorest month for {r}?")),
    Kind("best_month_all", "top month total", None, (
        "Which month had the highest total {s}?", "Best month overall?",
        "In which month did all regions together sell most?",
        "Top month by total {s}", "When were total {s} at their peak?",
        "Which month was best for the company?",
        "What was the strongest month across all regions?",
        "Name the month with the greatest combined {s}")),
    Kind("worst_month_all", "bottom month total", None, (
        "Which month had the lowest total {s}?", "Worst month overall?",
        "In which month did all regions together sell least?",
        "Bottom month by total {s}", "When were total {s} at their lowest?",
        "Which month was worst for the company?",
        "What was the weakest month across all regions?",
        "Name the month with the smallest combined {s}")),
    Kind("jump_region", "jump region", None, (
        "Which region had the largest month-to-month change?",
        "Where was the biggest jump?", "Which region moved most in a single month?",
        "Region of the largest change?", "Who had the sharpest one-month swing?",
        "In which region did the biggest monthly change happen?",
        "Which region saw the most dramatic shift from one month to the next?",
        "Name the region with the steepest single-month move")),
    Kind("jump_month", "jump month", None, (
        "In which month was the largest month-to-month change?",
        "When was the biggest jump?", "Which month saw the biggest single change?",
        "Month of the largest change?",
        "When did the sharpest one-month swing happen?",
        "In which month did the biggest monthly change happen?",
        "At what point did the most dramatic shift from one month to the next "
        "occur?",
        "Name the month with the steepest single-month move")),
    Kind("jump_size", "jump size", None, (
        "How large was the largest month-to-month change?",
        "How big was the biggest jump?",
        "What was the size of the biggest single change?",
        "Size of the largest change?",
        "By how much did {s} swing in the sharpest one-month move?",
        "How much did the biggest monthly change amount to?",
        "What was the magnitude of the most dramatic shift from one month to "
        "the next?",
        "Give the amount of the steepest single-month move")),
)
#: The kind never trained on, in any phrasing.
HELD_OUT_KIND = "worst_month"
#: How many templates of each trained kind (its last ones) are held out.
HELD_OUT_TEMPLATES = 2
SPLITS = ("train", "seen", "phrasings", "kind")


@dataclasses.dataclass(frozen=True)
class Question:
    """A question about one table, with the query that answers it.

    Attributes:
        text: The question.
        query: The right query (:mod:`keras_gen.summaries.queries`).
        kind: Its kind's name.
        table: The table it is about.
        template: The template it was written from.
    """

    text: str
    query: str
    kind: str
    table: SalesTable
    template: str

    @property
    def answer(self):
        """The truth: the right query, run on the table."""
        return run_query(self.query, self.table)


def templates_of(kind: Kind, split: str) -> tuple:
    """The templates of ``kind`` that ``split`` draws from (maybe none).

    Example:
        >>> kind = KINDS[0]
        >>> len(templates_of(kind, "train")), len(templates_of(kind, "phrasings"))
        (7, 2)
    """
    _checks.check_choice("split", split, SPLITS)
    if kind.name == HELD_OUT_KIND:
        return kind.templates if split == "kind" else ()
    if split == "kind":
        return ()
    cut = len(kind.templates) - HELD_OUT_TEMPLATES
    return kind.templates[cut:] if split == "phrasings" else kind.templates[:cut]


def _month_slot(kind: Kind, table: SalesTable, rng):
    """``(phrase, query word)`` for the ``{m}`` slot."""
    names = list(table.months[1:] if kind.months == "later" else table.months)
    ends = ["last"] if kind.months == "later" else ["first", "last"]
    choice = rng.integers(len(names) + len(ends))
    if choice >= len(names):
        end = ends[choice - len(names)]
        words = FIRST_WORDS if end == "first" else LAST_WORDS
        return words[rng.integers(len(words))], end
    month = names[choice]
    return (FULL_MONTHS[month] if rng.random() < 0.5 else month), month


def _vary(text: str, rng) -> str:
    """Casing and the final ``?`` vary, as people type."""
    roll = rng.random()
    if roll < 0.15:
        text = text.lower()
    elif roll < 0.35:
        text = text[0].lower() + text[1:]
    else:
        text = text[0].upper() + text[1:]
    if text.endswith("?") and rng.random() < 0.25:
        text = text[:-1]
    return text


def write_question(kind: Kind, template: str, table: SalesTable, rng) -> Question:
    """Fill one template's slots at random from the table (no tie checks)."""
    region = table.regions[rng.integers(len(table.regions))]
    form = REGION_FORMS[rng.integers(len(REGION_FORMS))]
    month_phrase, month = _month_slot(kind, table, rng) if kind.months else ("", "")
    text = template.format(
        r=form.format(region), m=month_phrase,
        s=SALES_WORDS[rng.integers(len(SALES_WORDS))],
    )
    query = kind.query.format(r=region, m=month)
    return Question(_vary(text, rng), query, kind.name, table, template)


def make_questions(tables, count: int, split: str, seed: int = 0) -> list[Question]:
    """Draw ``count`` questions of one split; the same seed gives the same ones.

    Each question picks a kind (uniformly among those the split has), one of
    its templates, a table, and fills the slots. A question whose answer is
    a tie (:func:`keras_gen.summaries.queries.unique_answer`) is redrawn.

    Args:
        tables: :class:`SalesTable` objects to ask about.
        count: Number of questions.
        split: ``"train"``, ``"seen"`` (train templates), ``"phrasings"``
            (held-out templates of trained kinds) or ``"kind"`` (the held-out
            kind).
        seed: Random seed.

    Returns:
        A list of :class:`Question`.

    Example:
        >>> from keras_gen.summaries.tables import make_tables
        >>> qs = make_questions(make_tables(3, seed=0), 4, "kind", seed=0)
        >>> [q.kind for q in qs] == ["worst_month"] * 4, qs[0].query.split()[:2]
        (True, ['bottom', 'month'])
    """
    tables = list(tables)
    if not tables:
        raise ValueError("Expected at least one table. Received: none")
    count = _checks.check_int("count", count, minimum=1)
    _checks.check_choice("split", split, SPLITS)
    rng = np.random.default_rng(seed)
    kinds = [k for k in KINDS if templates_of(k, split)]
    out = []
    while len(out) < count:
        kind = kinds[rng.integers(len(kinds))]
        templates = templates_of(kind, split)
        table = tables[rng.integers(len(tables))]
        question = write_question(
            kind, templates[rng.integers(len(templates))], table, rng
        )
        if unique_answer(question.query, table):
            out.append(question)
    return out
