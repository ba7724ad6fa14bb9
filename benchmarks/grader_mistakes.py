"""What a model adds to an autograder: naming the mistake in a wrong answer.

Execution grades every answer (right or wrong is what running it says, so
the verdict is exact by construction). For each *wrong* answer a model
names the likely mistake, one of ``keras_gen.grading.mistakes.MISTAKE_KINDS``
(off by one, wrong operator, wrong variable, wrong method), from which the
learner's hint is written. The answers come from
:func:`keras_gen.grading.mistakes.make_mistake_sets`: one edit of the
reference or of a correct rewrite of it, split by variable name as in
``benchmarks/grader.py`` (same held-out names). Printed: accuracy of the
named kind on calibration and on held-out test answers (all, and by what
the answer was written from), for

  * the namer: the shipped GPT's body with a 4-class head
    (:func:`keras_gen.grading.mistakes.train_mistake_namer`), reading the
    request, the reference and the answer, with and without what the run
    said; the variant with the higher calibration accuracy is marked
    "picked";
  * baselines: the most common kind of the fine-tuning answers, and a rule
    that diffs the answer's syntax tree against the reference's
    (:func:`keras_gen.grading.mistakes.diff_rule`);
  * the two together, picked on calibration: the rule where it sees exactly
    one kind of edit, the namer elsewhere
    (:func:`keras_gen.grading.mistakes.rule_or_namer`); or the namer's most
    likely kind among those the rule sees
    (:func:`keras_gen.grading.mistakes.namer_among_rule`).

Same seed, same numbers (CPU, same library versions); times depend on the
machine.

Usage:
    .venv/bin/python benchmarks/grader_mistakes.py              # full size
    .venv/bin/python benchmarks/grader_mistakes.py --steps 20 --requests 40 20 40
"""

from __future__ import annotations

import argparse
import collections
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_gen import finetune as ft  # noqa: E402
from keras_gen.grading import mistakes  # noqa: E402
from keras_gen.pretrained import load_pretrained  # noqa: E402


def accuracy(answers, named) -> float:
    return float(np.mean([a.kind == k for a, k in zip(answers, named, strict=True)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, nargs=3, default=(400, 120, 300))
    parser.add_argument("--per-kind", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--length", type=int, default=144)
    parser.add_argument("--variants", nargs="+", default=("run", "answer"),
                        choices=("run", "answer"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    sets = mistakes.make_mistake_sets(tuple(args.requests), per_kind=args.per_kind,
                                      seed=args.seed)
    train, cal, test = sets["train"], sets["calibration"], sets["test"]
    for name, answers in (("fine-tuning", train), ("calibration", cal),
                          ("test", test)):
        counts = collections.Counter(a.kind for a in answers)
        rewritten = np.mean([a.written_from != a.reference for a in answers])
        print(f"{name:11s}: {len(answers):5d} wrong answers ({rewritten:.0%} written "
              f"from a rewrite); " + ", ".join(
                  f"{k} {counts[k] / len(answers):.0%}"
                  for k in mistakes.MISTAKE_KINDS))
    print(f"held-out variables {sets['variables']['test']}; made and ran in "
          f"{time.perf_counter() - start:.0f} s")

    majority = collections.Counter(a.kind for a in train).most_common(1)[0][0]
    named = {
        f"majority kind ({majority})": [[majority] * len(s) for s in (cal, test)],
        "diff against the reference": [
            [mistakes.diff_rule(a.answer, a.reference, majority) for a in s]
            for s in (cal, test)
        ],
    }
    pretrained = load_pretrained()
    tokenizer = pretrained.tokenizer
    longest = max(len(tokenizer.encode(t)) for t in mistakes.mistake_texts(train))
    print(f"longest fine-tuning text (with the run): {longest} tokens; "
          f"read {args.length}")
    model_rows, probabilities = [], {}
    for variant in args.variants:
        with_run = variant == "run"
        clock = time.perf_counter()
        namer = mistakes.train_mistake_namer(
            ft.copy_backbone(pretrained.model), tokenizer, train, steps=args.steps,
            length=args.length, with_run=with_run, seed=args.seed)
        row = "namer: reference + answer" + (" + run" if with_run else "")
        probabilities[row] = [
            mistakes.mistake_probabilities(namer, tokenizer, s, args.length, with_run)
            for s in (cal, test)
        ]
        named[row] = [[mistakes.MISTAKE_KINDS[i] for i in p.argmax(-1)]
                      for p in probabilities[row]]
        model_rows.append(row)
        print(f"{row}: {args.steps} steps of 16 in "
              f"{time.perf_counter() - clock:.0f} s (predictions included)")
    picked = max(model_rows, key=lambda r: accuracy(cal, named[r][0]))
    together = {
        "rule where it sees one edit, else namer": [
            [mistakes.rule_or_namer(a.answer, a.reference, k)
             for a, k in zip(s, kinds, strict=True)]
            for s, kinds in zip((cal, test), named[picked], strict=True)
        ],
        "namer among the kinds the rule sees": [
            [mistakes.namer_among_rule(a.answer, a.reference, p)
             for a, p in zip(s, probs, strict=True)]
            for s, probs in zip((cal, test), probabilities[picked], strict=True)
        ],
    }
    named.update(together)
    picked_together = max(together, key=lambda r: accuracy(cal, named[r][0]))
    from_ref = [a.written_from == a.reference for a in test]
    print(f"\n{'mistake named by':50s} {'calib.':>6s} {'test':>6s} "
          f"{'from ref.':>9s} {'from rewrite':>12s}")
    for row, (c, t) in named.items():
        parts = [accuracy([a for a, r in zip(test, from_ref, strict=True) if r == f],
                          [k for k, r in zip(t, from_ref, strict=True) if r == f])
                 for f in (True, False)]
        label = row + (" (picked)" if row in (picked, picked_together) else "")
        print(f"{label:50s} {accuracy(cal, c):6.3f} {accuracy(test, t):6.3f} "
              f"{parts[0]:9.3f} {parts[1]:12.3f}")
    rule = "diff against the reference"
    shown = (picked, picked_together, rule)
    print("\ntest accuracy by kind: " + " | ".join(shown))
    for kind in mistakes.MISTAKE_KINDS:
        idx = [i for i, a in enumerate(test) if a.kind == kind]
        print(f"  {kind:15s} " + " | ".join(
            f"{np.mean([named[r][1][i] == kind for i in idx]):.3f}" for r in shown)
            + f"  ({len(idx)} answers)")
    rule_acc = accuracy(test, named[rule][1])
    for system, row in (("the namer alone", picked),
                        (f"the {picked_together!r} system", picked_together)):
        acc = accuracy(test, named[row][1])
        verb = "beats" if acc > rule_acc else "loses to"
        print(f"On {len(test)} wrong answers with held-out variable names, {system} "
              f"names the mistake right {acc:.1%} of the time and {verb} the diff "
              f"rule ({rule_acc:.1%}) by {abs(acc - rule_acc) * 100:.1f} points.")
    print("The verdict itself comes from execution: right 100% of the time by "
          "construction.")
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
