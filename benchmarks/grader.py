"""Automated grading (notebook 10, part 2): model grades against the executed truth.

Makes the graded answers of :func:`keras_gen.grading.grader.make_grading_sets`
(fine-tuning, calibration and test requests split by variable name), then:

  * grader (a): a copy of the shipped GPT fine-tuned on the correct
    fine-tuning answers; its log-probability of each answer (sum, per
    token and least likely token; the variant with the highest calibration
    AUC is marked "picked", as in the notebook);
  * grader (b): a :class:`keras_gen.finetune.GPTClassifier` fine-tuned on all
    fine-tuning answers and their executed labels;
  * baselines: majority class, answer length, matches the reference;

and prints each one's calibration ROC AUC, test ROC AUC and test accuracy at
the threshold chosen on the calibration answers. Then the practice loop:
the share of exercises on a learner's weak template and the skill gained,
picking the weakest template against picking at random. Same seed, same
numbers (CPU, same library versions); the time it prints depends on the
machine.

Usage:
    .venv/bin/python benchmarks/grader.py                 # notebook 10's full size
    .venv/bin/python benchmarks/grader.py --lm-steps 400 --clf-steps 300
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gen import finetune as ft  # noqa: E402
from keras_gen.grading import (
    grader,  # noqa: E402
    practice,
)
from keras_gen.pretrained import load_pretrained  # noqa: E402
from keras_gen.tasks import CODE_TEMPLATES  # noqa: E402

LENGTH = 80


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, nargs=3, default=(400, 120, 300))
    parser.add_argument("--lm-steps", type=int, default=200)
    parser.add_argument("--clf-steps", type=int, default=150)
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    sets = grader.make_grading_sets(tuple(args.requests), seed=args.seed)
    train, cal, test = sets["train"], sets["calibration"], sets["test"]
    cal_y, test_y = grader.labels_of(cal), grader.labels_of(test)
    print(
        f"answers: {len(train)} fine-tuning, {len(cal)} calibration, {len(test)} "
        f"test ({test_y.mean():.1%} correct); held-out variables "
        f"{sets['variables']['test']}"
    )
    pretrained = load_pretrained()
    model, tok = pretrained.model, pretrained.tokenizer

    lm = ft.copy_backbone(model)
    pairs = [(a.prompt, a.answer + "\n") for a in train if a.correct]
    x, y, w = ft.prompt_completion_arrays(tok, pairs, LENGTH)
    ft.finetune_lm(
        lm,
        x,
        y,
        w,
        steps=args.lm_steps,
        batch_size=16,
        learning_rate=1e-3,
        seed=args.seed,
    )
    lm_cal, lm_test = (grader.lm_scores(lm, tok, s, LENGTH) for s in (cal, test))
    variant = max(lm_cal, key=lambda v: grader.roc_auc(cal_y, lm_cal[v]))

    keras.utils.set_random_seed(args.seed)
    clf = ft.GPTClassifier(ft.copy_backbone(model), 2)
    texts = ft.encode_texts(tok, grader.answer_texts(train), LENGTH)
    ft.finetune_classifier(
        clf,
        texts,
        grader.labels_of(train),
        steps=args.clf_steps,
        batch_size=16,
        learning_rate=5e-4,
        seed=args.seed,
    )
    clf_cal, clf_test = (
        grader.classifier_scores(clf, tok, s, LENGTH) for s in (cal, test)
    )

    def length(answers):
        return np.array([len(a.answer) for a in answers], float)

    def matches(answers):
        return np.array(
            [a.answer.strip() == a.reference.strip() for a in answers], float
        )

    majority = float(cal_y.mean() >= 0.5)
    rows = {
        f"(a) LM log-prob, {v}{' (picked)' if v == variant else ''}": (
            lm_cal[v],
            lm_test[v],
        )
        for v in lm_cal
    }
    rows.update(
        {
            "(b) classification head": (clf_cal, clf_test),
            "majority class": (
                np.full(len(cal), majority),
                np.full(len(test), majority),
            ),
            "answer length": (length(cal), length(test)),
            "matches the reference": (matches(cal), matches(test)),
        }
    )
    print(f"{'grader':42s} {'calib. AUC':>10s} {'test AUC':>9s} {'test acc.':>9s}")
    for name, (c, t) in rows.items():
        threshold = grader.best_threshold(cal_y, c)
        print(
            f"{name:42s} {grader.roc_auc(cal_y, c):10.3f} "
            f"{grader.roc_auc(test_y, t):9.3f} "
            f"{grader.accuracy_at(test_y, t, threshold):9.3f}"
        )

    weak = [r for r, _ in CODE_TEMPLATES].index("the position of {n} in {v}")
    skills = np.full(len(CODE_TEMPLATES), 0.85)
    skills[weak] = 0.2
    for policy in ("weakest", "random"):
        share, gained = [], []
        for seed in range(args.learners):
            learner = practice.SimulatedLearner(skills, 0.1, seed=seed)
            _, counts = practice.run_practice(learner, args.rounds, policy, seed=seed)
            share.append(counts.attempts[weak] / args.rounds)
            gained.append(learner.skills[weak])
        print(
            f"practice, {policy:8s}: {np.mean(share):.1%} of {args.rounds} exercises "
            f"on the weak template, its skill 0.20 -> {np.mean(gained):.2f} "
            f"({args.learners} learners)"
        )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
