"""Business intelligence: fine-tuned GPT summaries of sales tables, fact-checked.

Fine-tunes the shipped character-level GPT (``data/pretrained/pydoc-char-gpt``)
on (table, reference summary) pairs from :func:`keras_gen.summaries.tables.make_tables`
(seed 0) with :func:`keras_gen.finetune.finetune_lm` (loss on the summary
only), writes a summary of each held-out table (seed 1) with greedy decoding
(:func:`keras_gen.summaries.tables.summarize`), and prints, for the fine-tuned model and
its baselines (the template, exact by construction; the endpoints template,
which reads only the first and last month; the shipped GPT not fine-tuned):

  * fact accuracy: right facts / stated facts (:mod:`keras_gen.summaries.factcheck`);
  * all right: share of summaries with all three facts and none wrong;
  * ROUGE-L F1 against the reference;

then the fine-tuned model's accuracy per kind of fact, and the fine-tuning
time (seconds per step at batch 16, compilation included). The defaults are
notebook 10's full mode. Same seeds and machine type, same numbers; the time
depends on the machine's load.

Usage:
    .venv/bin/python benchmarks/table_summaries.py [--steps 150] [--test 100]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_gen.finetune import finetune_lm, prompt_completion_arrays  # noqa: E402
from keras_gen.pretrained import load_pretrained  # noqa: E402
from keras_gen.summaries import (
    factcheck,  # noqa: E402
    tables,
)


def score(name, summaries, test_tables, references):
    """One printed row: fact accuracy, all right, ROUGE-L."""
    result = factcheck.score_summaries(summaries, test_tables)
    rouge = factcheck.mean_rouge_l(summaries, references)
    print(
        f"{name:34s} {result['fact_accuracy']:11.1%} {result['all_right']:9.1%} "
        f"{result['complete']:8.1%} {rouge:7.3f}"
    )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=2000, help="training tables")
    parser.add_argument("--test", type=int, default=100, help="held-out tables")
    parser.add_argument("--steps", type=int, default=150, help="fine-tuning steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train_pairs = tables.summary_pairs(tables.make_tables(args.train, seed=args.seed))
    test_tables = tables.make_tables(args.test, seed=args.seed + 1)
    references = [tables.reference_summary(t) for t in test_tables]
    pretrained = load_pretrained()
    model, tokenizer = pretrained.model, pretrained.tokenizer

    base = tables.summarize(model, tokenizer, test_tables)
    length = max(len(tokenizer.encode(p + s)) for p, s in train_pairs) - 1
    arrays = prompt_completion_arrays(tokenizer, train_pairs, length)
    start = time.perf_counter()
    finetune_lm(
        model,
        *arrays,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    tuned = tables.summarize(model, tokenizer, test_tables)

    print(
        f"{args.train} training tables, {args.test} held-out, {args.steps} steps "
        f"x {args.batch_size} rows x {length} chars: {seconds:.0f} s "
        f"({seconds / args.steps:.2f} s/step, XLA compilation included)"
    )
    print(
        f"{'system':34s} {'facts right':>11s} {'all right':>9s} "
        f"{'complete':>8s} {'ROUGE-L':>7s}"
    )
    score("template (exact by construction)", references, test_tables, references)
    endpoints = [tables.endpoints_summary(t) for t in test_tables]
    score("endpoints template", endpoints, test_tables, references)
    score("shipped GPT, not fine-tuned", base, test_tables, references)
    result = score("shipped GPT, fine-tuned", tuned, test_tables, references)
    print("fine-tuned, by fact:")
    for (kind, category), (right, stated) in factcheck.accuracy_by_fact(
        result["checks"]
    ).items():
        print(
            f"  {kind:7s} {category:9s} {right:4d} / {stated:4d} ({right / stated:.0%})"
        )


if __name__ == "__main__":
    main()
