"""Solutions to the customer-service exercises of notebook 10 (the help desk)."""

from __future__ import annotations

from keras_gen import _checks
from keras_gen.helpdesk.chat import quote_rate
from keras_gen.helpdesk.sections import (
    QUESTION_KINDS,
    canonical_ids,
    load_help_sections,
)


def quote_rate_sweep(
    replies, passages, coverages=(0.5, 0.8, 1.0), min_chars=(10, 20, 40)
):
    """Exercise 10.1: how much the quote rate depends on its two thresholds.

    Args:
        replies: The model's replies.
        passages: The passage each reply was given.
        coverages: Values of ``min_coverage`` to try.
        min_chars: Values of ``min_chars`` to try.

    Returns:
        ``{(coverage, chars): quote rate}`` for every pair.
    """
    return {
        (coverage, chars): quote_rate(replies, passages, coverage, chars)
        for coverage in coverages
        for chars in min_chars
    }


def grounded_by_kind(questions, answers, min_coverage=0.8, min_chars=20):
    """Exercise 10.2: retrieval and grounding, per kind of question.

    Args:
        questions: :class:`keras_gen.helpdesk.sections.HelpQuestion` records.
        answers: The :class:`keras_gen.helpdesk.desk.Answer` of each question.
        min_coverage: Passed to :func:`keras_gen.helpdesk.chat.is_quote`.
        min_chars: Passed to :func:`keras_gen.helpdesk.chat.is_quote`.

    Returns:
        ``{kind: {"n": ..., "retrieval_top1": ..., "grounded": ...}}`` for
        every kind that occurs, in :data:`keras_gen.helpdesk.sections.QUESTION_KINDS`
        order.
    """
    from keras_gen.helpdesk.chat import is_quote

    questions, answers = list(questions), list(answers)
    if len(questions) != len(answers) or not questions:
        raise ValueError(
            "Expected one answer per question, for at least one question. "
            f"Received: {len(questions)} questions and {len(answers)} answers."
        )
    _checks.check_float("min_coverage", min_coverage, 0, 1)
    canonical = canonical_ids(load_help_sections())
    table = {}
    for kind in QUESTION_KINDS:
        rows = [(q, a) for q, a in zip(questions, answers, strict=True)
                if q.kind == kind]
        if not rows:
            continue
        right = [canonical.get(a.section_id, a.section_id)
                 in {canonical[i] for i in q.answer_ids} for q, a in rows]
        quoted = [is_quote(a.reply, a.passage, min_coverage, min_chars)
                  for _, a in rows]
        table[kind] = {
            "n": len(rows),
            "retrieval_top1": sum(right) / len(rows),
            "grounded": sum(r and q for r, q in zip(right, quoted, strict=True))
            / len(rows),
        }
    return table
