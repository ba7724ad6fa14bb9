"""What isolation costs: grading answers in process against in a limited child.

Makes the course's answers to notebook 07's code requests
(:func:`keras_gen.grading.answers.make_answers`: the reference, a rewrite and one
wrong answer of each kind per request, every template), then grades every
answer twice on the same 8 test inputs with :func:`keras_gen.grading.answers.
grade_answer`:

  * in process (``isolated=False``, :func:`keras_gen.grading.sandbox.
    evaluate_expression`): what notebook 10's cells and ``make_answers`` use;
  * in the isolated child (``isolated=True``, :func:`keras_gen.grading.isolation.
    run_isolated`): what a learner's answer gets by default;

and prints the wall-clock cost per answer of each path (the references'
values computed once per request, as ``make_answers`` does), the child's start-up (paid
once per process), what one child per answer would cost, and that both
paths give every answer the same grade and reason. Same requests, same
answers; the times depend on the machine and its load.

Usage:
    .venv/bin/python benchmarks/sandbox_isolation.py               # 2 variables
    .venv/bin/python benchmarks/sandbox_isolation.py --variables 20
"""

from __future__ import annotations

import argparse
import time

from keras_gen.env import build_record
from keras_gen.grading import isolation
from keras_gen.grading.answers import (
    grade_answer,
    make_answers,
    make_test_inputs,
    reference_values,
)
from keras_gen.tasks import CODE_VARIABLES, make_code_pairs


def _grade_all(answers, inputs, expected, isolated):
    start = time.perf_counter()
    grades = [grade_answer(a.answer, a.reference, inputs, expected[a.reference],
                           isolated=isolated) for a in answers]
    return grades, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variables", type=int, default=2,
                        help="variable names to fill the templates with (1-20)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("machine:", build_record()["machine"])
    pairs = make_code_pairs(variables=CODE_VARIABLES[: args.variables])
    inputs = make_test_inputs(seed=args.seed)
    start = time.perf_counter()
    answers = make_answers(pairs, seed=args.seed, inputs=inputs)
    print(f"{len(pairs)} requests, {len(answers)} answers made and graded in "
          f"{time.perf_counter() - start:.1f} s (in process)")

    isolation.stop_workers()
    start = time.perf_counter()
    isolation.run_isolated("1")
    start_up = time.perf_counter() - start

    # The references' values once per request, as make_answers does: the
    # times below are the answers' alone.
    expected = {a.reference: reference_values(a.reference, inputs) for a in answers}
    in_process, seconds_in = _grade_all(answers, inputs, expected, isolated=False)
    isolated, seconds_iso = _grade_all(answers, inputs, expected, isolated=True)
    per_in = seconds_in / len(answers) * 1e3
    per_iso = seconds_iso / len(answers) * 1e3
    print(f"in process      : {per_in:6.2f} ms per answer ({seconds_in:.1f} s)")
    print(f"isolated child  : {per_iso:6.2f} ms per answer ({seconds_iso:.1f} s), "
          f"{per_iso / per_in:.1f} x")
    print(f"child start-up  : {start_up * 1e3:6.0f} ms, once per process")
    print(f"a child per answer would cost about {start_up * 1e3 + per_iso:.0f} ms "
          "per answer")
    same = sum(a == b for a, b in zip(in_process, isolated, strict=True))
    print(f"same grade and reason on both paths: {same} of {len(answers)}")


if __name__ == "__main__":
    main()
