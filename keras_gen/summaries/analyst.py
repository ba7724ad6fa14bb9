"""The analyst: a fine-tuned GPT writes one query, the evaluator runs it.

Real business-intelligence assistants do not ask a language model to do
arithmetic or to remember a table: the model writes code, the code runs, and
the answer is what the run returned. Here the course's character-level GPT,
fine-tuned on (question, query) pairs (:mod:`keras_gen.summaries.questions`),
reads ``Q: <question>`` and writes one line of the query language of
:mod:`keras_gen.summaries.queries`, which :func:`~keras_gen.summaries.queries.run_query`
runs on the table.

:func:`answer_questions` answers in up to two tries:

1. **written**: greedy decoding, free (the model may write anything);
2. **constrained**: if that query fails to run on the table (unless it names
   a region or month that the question names too and the table lacks: then
   no query can answer, and the answer says why), or returns the
   wrong type (a number where a region was asked for), the model decodes
   again held to a prefix tree of the queries that do run on this table (and
   return that type), character by character, so it can only write one of
   them;
3. otherwise the answer is "I could not compute that." (never a made-up
   number). Each answer records which route it took, so the fallbacks can be
   counted.

:func:`code_summaries` writes a table summary from the answers to a fixed
set of questions: every number in it was computed by a query the model wrote.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from keras_gen._files import data_path
from keras_gen.summaries.queries import (
    QueryError,
    answer_type,
    run_query,
    valid_queries,
)
from keras_gen.summaries.tables import SalesTable, direction

#: The shipped analyst's folder (``tools/train_analyst.py`` builds it).
ANALYST_MODEL_DIR = data_path("pretrained", "sales-analyst")
#: The prompt; the query follows it on the same line and ends with ``"\n"``.
PROMPT = "Q: {}\nCode: "
#: Longest query any table of up to 6 regions gives, plus the newline.
MAX_QUERY_TOKENS = 28
#: Longest question (characters) whose prompt and query fit the 256 context.
MAX_QUESTION_CHARS = 200
#: What the analyst says when no query it wrote could run.
COULD_NOT = "I could not compute that."
#: Routes an answer can take (:attr:`Answer.route`).
ROUTES = ("written", "constrained", "none")


def format_prompt(question: str) -> str:
    r"""The model's prompt for a question (newlines become spaces).

    Example:
        >>> format_prompt("Which region grew most?")
        'Q: Which region grew most?\nCode: '
    """
    return PROMPT.format(" ".join(str(question).split()))


def training_pairs(questions) -> list[tuple[str, str]]:
    r"""``(prompt, query + "\n")`` for each question, for fine-tuning.

    Example:
        >>> from keras_gen.summaries.questions import make_questions
        >>> from keras_gen.summaries.tables import make_tables
        >>> q = make_questions(make_tables(1, seed=0), 1, "train", seed=3)[0]
        >>> training_pairs([q])[0][1] == q.query + "\n"
        True
    """
    return [(format_prompt(q.text), q.query + "\n") for q in questions]


@dataclasses.dataclass(frozen=True)
class Answer:
    """The analyst's answer to one question.

    Attributes:
        question: The question.
        query: The query that computed the answer (``None`` if none ran).
        value: What the run returned (``None`` if nothing could be computed).
        route: ``"written"`` (the first, free try ran), ``"constrained"`` (the
            retry held to valid queries ran) or ``"none"``.
        first_try: The query written on the first try.
        error: Why the first try was rejected (``None`` if it was not).
    """

    question: str
    query: str | None
    value: object
    route: str
    first_try: str
    error: str | None = None

    @property
    def text(self) -> str:
        """The answer as a user reads it."""
        return COULD_NOT if self.value is None else str(self.value)


def query_type(query: str) -> str:
    """The type of a valid query's answer, without running it.

    Example:
        >>> query_type("jump month"), query_type("top region total")
        ('month', 'region')
    """
    words = query.split()
    if words[0] in ("top", "bottom"):
        return words[1]
    if words[0] == "jump" and words[1] != "size":
        return words[1]
    return "int"


def _checked_run(query: str, table: SalesTable, expect: str | None):
    """Run ``query``; raise ``QueryError`` if it fails or has the wrong type."""
    value = run_query(query, table)
    if expect is not None and answer_type(value) != expect:
        raise QueryError(
            f"Expected a query whose answer is a {expect}. Received: {query!r}, "
            f"which returned the {answer_type(value)} {value!r}."
        )
    return value


def _char_ids(tokenizer, text: str) -> list[int]:
    ids = tokenizer.encode(text)
    if len(ids) != len(text):
        raise ValueError(
            "Expected a character tokenizer (one token per character) for "
            f"constrained decoding. Received: {len(ids)} tokens for {text!r}."
        )
    return ids


def constrained_queries(model, tokenizer, prompts, choices, batch_size: int = 64):
    r"""Greedy decoding held to a prefix tree of allowed queries.

    At each character, only the characters that continue some allowed query
    (or the newline that ends a complete one) may be picked; the most likely
    of them is. Where only one character is allowed, it is written without
    asking the model.

    Args:
        model: A :class:`~keras_gen.transformer.GPT` with a character tokenizer.
        tokenizer: Its tokenizer.
        prompts: Prompt strings (:func:`format_prompt`).
        choices: For each prompt, the queries allowed (non-empty list).
        batch_size: Rows per forward pass.

    Returns:
        One allowed query per prompt.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("Q: ab\nCode: topjumpsize\n")
        >>> gpt = build_gpt(tok.vocab_size, 64, 8, 2, 1)  # untrained
        >>> out = constrained_queries(gpt, tok, ["Q: a\nCode: "],
        ...                           [["jump size", "top"]])
        >>> out[0] in ("jump size", "top")
        True
    """
    from keras import ops  # Keras only when decoding

    if len(prompts) != len(choices):
        raise ValueError(
            f"Expected one list of choices per prompt. Received: {len(prompts)} "
            f"prompts, {len(choices)} lists"
        )
    newline = _char_ids(tokenizer, "\n")[0]
    prefixes = [""] * len(prompts)
    done = [False] * len(prompts)
    encoded = [tokenizer.encode(p) for p in prompts]
    while not all(done):
        ask = []  # rows with more than one allowed next character
        for i, prefix in enumerate(prefixes):
            if done[i]:
                continue
            nexts = sorted({q[len(prefix)] if len(q) > len(prefix) else "\n"
                            for q in choices[i] if q.startswith(prefix)})
            if not nexts:
                raise ValueError(f"Expected a non-empty list of choices for row {i}.")
            if len(nexts) == 1:
                if nexts[0] == "\n":
                    done[i] = True
                else:
                    prefixes[i] += nexts[0]
            else:
                ask.append((i, nexts))
        for start in range(0, len(ask), batch_size):
            chunk = ask[start : start + batch_size]
            rows = [encoded[i] + _char_ids(tokenizer, prefixes[i]) for i, _ in chunk]
            width = max(len(r) for r in rows)
            ids = np.zeros((len(rows), width), "int32")
            for j, row in enumerate(rows):
                ids[j, : len(row)] = row
            logits = ops.convert_to_numpy(model(ids, training=False))  # (b, w, vocab)
            for j, (i, nexts) in enumerate(chunk):
                allowed = [newline if c == "\n" else _char_ids(tokenizer, c)[0]
                           for c in nexts]
                scores = logits[j, len(rows[j]) - 1, allowed]
                pick = nexts[int(np.argmax(scores))]
                if pick == "\n":
                    done[i] = True
                else:
                    prefixes[i] += pick
    return prefixes


def _asks_for_a_missing_name(query: str, question: str, table: SalesTable) -> bool:
    """Whether the query names a name the table lacks that the question names.

    Then no query can answer (the user asked about a region or month that is
    not there), and a retry would answer about another name instead. Names
    are matched as typed (capitalized); a month's full name counts as the
    table's month (``March`` for ``Mar``).
    """
    from keras_gen.summaries.questions import FULL_MONTHS

    said = set(re.findall(r"[A-Za-z]+", question))  # as typed: names capitalized
    known = set(table.regions + table.months) | {"first", "last"}
    known |= {FULL_MONTHS[m] for m in table.months if m in FULL_MONTHS}
    names = query.split()[1:]
    return any(w[:1].isupper() and w not in known and w in said for w in names)


def answer_questions(
    model, tokenizer, questions, tables, expect=None, retry: bool = True
) -> list[Answer]:
    """Answer each question about its table: write a query, run it, fall back.

    Args:
        model: The fine-tuned analyst GPT (:func:`load_analyst`).
        tokenizer: Its tokenizer.
        questions: Question strings.
        tables: One :class:`SalesTable` per question.
        expect: ``None``, or one type per question (``"int"``, ``"region"``,
            ``"month"`` or ``None``), or one type for all: an answer of
            another type is rejected like a query that fails.
        retry: Retry rejected queries with constrained decoding; ``False``
            answers "I could not compute that." at once (to measure the
            written queries alone).

    Returns:
        One :class:`Answer` per question.
    """
    from keras_gen.finetune import greedy_complete  # Keras only when decoding

    questions, tables = [str(q) for q in questions], list(tables)
    if len(questions) != len(tables) or not questions:
        raise ValueError(
            "Expected one table per question (at least one). Received: "
            f"{len(questions)} questions, {len(tables)} tables"
        )
    if expect is None or isinstance(expect, str):
        expect = [expect] * len(questions)
    prompts = [format_prompt(q) for q in questions]
    written = greedy_complete(model, tokenizer, prompts, MAX_QUERY_TOKENS,
                              verbose=False)
    answers, rejected = [None] * len(questions), []
    for i, query in enumerate(written):
        try:
            value = _checked_run(query, tables[i], expect[i])
            answers[i] = Answer(questions[i], query.strip(), value, "written", query)
        except QueryError as error:
            answers[i] = Answer(questions[i], None, None, "none", query, str(error))
            if not _asks_for_a_missing_name(query, questions[i], tables[i]):
                rejected.append(i)
    if retry and rejected:
        choices = [[q for q in valid_queries(tables[i])
                    if expect[i] is None or query_type(q) == expect[i]]
                   for i in rejected]
        retried = constrained_queries(model, tokenizer,
                                      [prompts[i] for i in rejected], choices)
        for i, query in zip(rejected, retried, strict=True):
            first = answers[i]
            try:
                value = _checked_run(query, tables[i], expect[i])
            except QueryError:
                continue
            answers[i] = dataclasses.replace(
                first, query=query, value=value, route="constrained"
            )
    return answers


#: The fixed questions a summary is made of, with the type each must return.
#: They use trained phrasings: a product's fixed prompts are the designer's.
SUMMARY_QUESTIONS = {
    "first_total": ("What were the total sales in the first month?", "int"),
    "last_total": ("What were the total sales in the last month?", "int"),
    "change_region": ("Which region had the largest month-to-month change?",
                      "region"),
    "change_month": ("In which month was the largest month-to-month change?",
                     "month"),
    "change": ("How large was the largest month-to-month change?", "int"),
    "leader": ("Which region sold the most?", "region"),
}
#: Asked once the leader is known.
LEADER_TOTAL_QUESTION = "What were the total sales of {}?"


def _sentences(values: dict, table: SalesTable) -> str:
    """The reference phrasing filled with computed values only; gaps said so."""
    get = values.get
    out = []
    first, last = get("first_total"), get("last_total")
    if first is not None and last is not None and first != last:
        out.append(f"Total {direction(last - first)} from {first} in "
                   f"{table.months[0]} to {last} in {table.months[-1]}.")
    else:
        out.append("I could not compute the trend.")
    region, month, change = get("change_region"), get("change_month"), get("change")
    if None not in (region, month, change) and change != 0:
        out.append(f"Largest change: {region} {direction(change)} by "
                   f"{abs(change)} in {month}.")
    else:
        out.append("I could not compute the largest change.")
    if get("leader") is not None and get("leader_total") is not None:
        out.append(f"Leader: {get('leader')} with {get('leader_total')}.")
    else:
        out.append("I could not compute the leader.")
    return " ".join(out)


def code_summaries(model, tokenizer, tables):
    """Summarise each table from the answers to :data:`SUMMARY_QUESTIONS`.

    The model writes a query for each fixed question (and then for the
    leader's total), the queries run, and the sentences of the reference
    phrasing (:func:`keras_gen.summaries.tables.summary_from_facts`) are
    filled with what the runs returned. A part whose queries could not run
    says so ("I could not compute the leader.") instead of stating a number.

    Returns:
        ``(summaries, answers)``: one summary string per table, and for each
        table a dict of its :class:`Answer` objects by fact name.
    """
    tables = list(tables)
    names = list(SUMMARY_QUESTIONS)
    flat_q, flat_t, flat_e = [], [], []
    for table in tables:
        for name in names:
            question, kind = SUMMARY_QUESTIONS[name]
            flat_q.append(question)
            flat_t.append(table)
            flat_e.append(kind)
    flat = answer_questions(model, tokenizer, flat_q, flat_t, flat_e)
    by_table = [dict(zip(names, flat[i * len(names) : (i + 1) * len(names)],
                         strict=True)) for i in range(len(tables))]
    leaders = [(i, a["leader"].value) for i, a in enumerate(by_table)
               if a["leader"].value is not None]
    if leaders:
        totals = answer_questions(
            model, tokenizer,
            [LEADER_TOTAL_QUESTION.format(name) for _, name in leaders],
            [tables[i] for i, _ in leaders], "int",
        )
        for (i, _), answer in zip(leaders, totals, strict=True):
            by_table[i]["leader_total"] = answer
    summaries = []
    for table, answers in zip(tables, by_table, strict=True):
        values = {k: a.value for k, a in answers.items() if a.value is not None}
        summaries.append(_sentences(values, table))
    return summaries, by_table


def load_analyst(folder: str | None = None):
    """Load the shipped analyst (or another folder saved the same way).

    Returns:
        A :class:`keras_gen.pretrained.Pretrained` (``model``, ``tokenizer``,
        ``card``).
    """
    from keras_gen.pretrained import load_pretrained

    return load_pretrained(ANALYST_MODEL_DIR if folder is None else folder)
