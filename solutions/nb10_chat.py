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


def main(n_questions: int | None = None) -> None:
    """Print both exercises' answers, measured on the shipped help desk.

    The shipped chat model answers the held-out questions (the first
    ``n_questions``; ``None``: all 238) with the shipped fused retriever, as
    notebook 10 does; nothing is fine-tuned here.
    """
    import numpy as np

    from keras_gen.helpdesk.desk import CHAT_MODEL_DIR, HelpDesk, evaluate_helpdesk
    from keras_gen.helpdesk.retriever import shipped_index
    from keras_gen.helpdesk.sections import load_questions
    from keras_gen.pretrained import load_pretrained

    questions = load_questions()[:n_questions]
    chat_model = load_pretrained(CHAT_MODEL_DIR)
    desk = HelpDesk(chat_model.model, chat_model.tokenizer, index=shipped_index())
    _, answers = evaluate_helpdesk(desk, questions)
    replies = [a.reply for a in answers]
    sweep = quote_rate_sweep(replies, [a.passage for a in answers])
    print(f"1. quote rate of the shipped model on {len(questions)} held-out questions:")
    print("   coverage \\ min. length    10      20      40")
    for coverage in (0.5, 0.8, 1.0):
        print(f"   {coverage:<24}" + "".join(
            f"{sweep[(coverage, chars)]:>8.1%}" for chars in (10, 20, 40)))
    by_coverage = [sweep[(c, 20)] for c in (0.5, 0.8, 1.0)]
    by_length = [sweep[(0.8, m)] for m in (10, 20, 40)]
    spread = {"coverage": max(by_coverage) - min(by_coverage),
              "length": max(by_length) - min(by_length)}
    short = float(np.mean([len(r) < 40 for r in replies]))
    winner = max(spread, key=spread.get)
    print(
        f"   Coverage moves the rate by {spread['coverage']:.1%} (length fixed at "
        f"20), the run's length by {spread['length']:.1%} (coverage fixed at "
        f"0.8): {winner} decides more. {short:.0%} of the replies are shorter "
        "than 40 characters, so the length threshold "
        + ("rarely binds; what counts is how much of a reply is copied."
           if short < 0.2 else "binds for many replies: they are short.")
    )
    table = grounded_by_kind(questions, answers)
    print("2. per kind of question:      n  retrieval  grounded")
    for kind, row in table.items():
        print(f"   {kind:<24}{row['n']:>5}{row['retrieval_top1']:>10.1%}"
              f"{row['grounded']:>10.1%}")
    worst = min(table, key=lambda k: table[k]["grounded"])
    row = table[worst]
    wrong_section = 1 - row["retrieval_top1"]
    not_quoted = row["retrieval_top1"] - row["grounded"]
    print(
        f"   The desk fails most on '{worst}' questions (grounded "
        f"{row['grounded']:.1%}): {wrong_section:.1%} of them retrieve a wrong "
        f"section and {not_quoted:.1%} retrieve the right one but get no quote, "
        "so it is mostly "
        + ("retrieval." if wrong_section >= not_quoted else "the reply.")
    )


if __name__ == "__main__":  # pragma: no cover - prints observed answers
    main()
