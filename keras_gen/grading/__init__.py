"""Automated grading, notebook 10: learners' one-line answers, checked by running them.

- ``sandbox``: a restricted evaluator for one-line Python answers, with time, item
  and size budgets.
- ``isolation``: the same evaluator in a child process with CPU and memory limits,
  for code the user did not write (learners' answers, a model's code).
- ``answers``: learners' answers, labelled right or wrong by execution.
- ``grader``: a model's grade for an answer, and how to measure it.
- ``mistakes``: for a wrong answer, a fine-tuned model names the likely mistake
  (the hint a learner reads); execution stays the grade.
- ``practice``: a practice loop that picks the next exercise from the weakest topic.
"""
