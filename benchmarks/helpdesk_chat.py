"""Help-desk chat: quote rate and grounding on the held-out questions.

Every question of ``data/helpdesk/questions.tsv`` is answered the way
``keras-gen chat`` answers it (:class:`keras_gen.helpdesk.desk.HelpDesk`):
TF-IDF retrieves the closest help section, its opening goes into the prompt
(:func:`keras_gen.helpdesk.chat.format_chat`), the model replies greedily. Prints, for
the shipped fine-tuned model (``data/pretrained/helpdesk-chat``), the shipped
GPT before fine-tuning (same prompts) and a rule with no model (the passage
sentence sharing most words with the question):

  * quote rate: the reply's longest run copied from the passage covers >= 80%
    of it and is >= 20 characters (:func:`keras_gen.helpdesk.chat.is_quote`);
  * grounded: quoted and the retrieved section is right (TF-IDF top-1);

then both by kind of question. Greedy decoding: the numbers do not depend on
the machine's speed, only the seconds do.

``--retriever fused`` retrieves with TF-IDF fused with the trained encoder
(:func:`keras_gen.helpdesk.retriever.shipped_index`, what ``keras-gen chat``
uses) instead of TF-IDF alone; every row then shares that retrieval.

Usage:
    .venv/bin/python benchmarks/helpdesk_chat.py [--model data/pretrained/helpdesk-chat]
        [--retriever tfidf|fused]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_gen.helpdesk.chat import is_quote, truncate_words  # noqa: E402
from keras_gen.helpdesk.desk import (  # noqa: E402
    CHAT_MODEL_DIR,
    REPLY_CHARS,
    Answer,
    HelpDesk,
    best_sentence,
    evaluate_helpdesk,
)
from keras_gen.helpdesk.sections import (  # noqa: E402
    QUESTION_KINDS,
    canonical_ids,
    load_help_sections,
    load_questions,
)
from keras_gen.pretrained import load_pretrained  # noqa: E402


def grounded_by_kind(questions, answers) -> dict:
    """``{kind: {"n": ..., "grounded": ...}}``: quoted and retrieved right."""
    canonical = canonical_ids(load_help_sections())
    table = {}
    for kind in QUESTION_KINDS:
        rows = [(q, a) for q, a in zip(questions, answers, strict=True)
                if q.kind == kind]
        hits = [
            canonical.get(a.section_id, a.section_id)
            in {canonical[i] for i in q.answer_ids} and is_quote(a.reply, a.passage)
            for q, a in rows
        ]
        if rows:
            table[kind] = {"n": len(rows), "grounded": sum(hits) / len(rows)}
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=CHAT_MODEL_DIR)
    parser.add_argument("--retriever", choices=("tfidf", "fused"), default="tfidf")
    parser.add_argument("--no-base", action="store_true",
                        help="skip the model before fine-tuning (it never quotes)")
    args = parser.parse_args()
    questions = load_questions()
    chat, base = load_pretrained(args.model), load_pretrained()
    index = None  # each desk builds its own TF-IDF index
    if args.retriever == "fused":
        from keras_gen.helpdesk.retriever import shipped_index

        index = shipped_index()
    print(f"{len(questions)} held-out questions; fine-tuned model: "
          f"{os.path.relpath(args.model)}; retriever: {args.retriever}")
    print(f"  card: {chat.card['command']} ({chat.card['steps']} steps, "
          f"{chat.card['train_seconds']:.0f} s)\n")
    rows, per_kind = {}, {}
    desks = [("fine-tuned", chat)]
    if not args.no_base:
        desks.insert(0, ("pretrained, not fine-tuned", base))
    for name, loaded in desks:
        start = time.perf_counter()
        metrics, answers = evaluate_helpdesk(
            HelpDesk(loaded.model, loaded.tokenizer, index=index), questions)
        metrics["seconds"] = time.perf_counter() - start
        rows[name], per_kind[name] = metrics, grounded_by_kind(questions, answers)
        if name == "fine-tuned":
            rule = [
                Answer(a.question, a.section_id, a.passage, a.prompt,
                       truncate_words(best_sentence(a.question, a.passage),
                                      REPLY_CHARS))
                for a in answers
            ]
            quoted = [is_quote(a.reply, a.passage) for a in rule]
            kinds = grounded_by_kind(questions, rule)
            grounded = sum(k["grounded"] * k["n"] for k in kinds.values())
            rows["rule: best passage sentence"] = {
                "retrieval_top1": metrics["retrieval_top1"],
                "quote_rate": sum(quoted) / len(quoted),
                "grounded": grounded / len(questions),
                "seconds": 0.0,
            }
            per_kind["rule: best passage sentence"] = kinds
            desk = HelpDesk(loaded.model, loaded.tokenizer, index=index)
            checked = [desk.check(a) for a in answers]
            kinds = grounded_by_kind(questions, checked)
            rows["fine-tuned, checked (rule if no quote)"] = {
                "retrieval_top1": metrics["retrieval_top1"],
                "quote_rate": sum(is_quote(a.reply, a.passage) for a in checked)
                / len(checked),
                "grounded": sum(k["grounded"] * k["n"] for k in kinds.values())
                / len(questions),
                "seconds": 0.0,
            }
            per_kind["fine-tuned, checked (rule if no quote)"] = kinds
            print(f"checked desk: {sum(a.source == 'model' for a in checked)} "
                  f"of {len(checked)} replies kept from the model, the rest from "
                  "the rule")
    print(f"{'replies from':30} {'retrieval':>9} {'quote rate':>10} {'grounded':>9}"
          f" {'seconds':>8}")
    for name, row in rows.items():
        print(f"{name:30} {row['retrieval_top1']:>9.1%} {row['quote_rate']:>10.1%} "
              f"{row['grounded']:>9.1%} {row['seconds']:>8.0f}")
    print("\ngrounded share by kind of question")
    kinds = [k for k in QUESTION_KINDS if k in per_kind["fine-tuned"]]
    print(f"{'replies from':30} " + " ".join(
        f"{k + ' (' + str(per_kind['fine-tuned'][k]['n']) + ')':>16}" for k in kinds))
    for name, table in per_kind.items():
        print(f"{name:30} " + " ".join(f"{table[k]['grounded']:>16.1%}" for k in kinds))


if __name__ == "__main__":
    main()
