"""A model's grade for a learner's answer, and how to measure it.

The article names "automated grading" among the LLM's uses in education.
:mod:`keras_gen.grading.answers` makes answers to notebook 07's code requests and
labels them by running them (the truth); this module gives the model's
grade, a score where higher means "more likely correct", two ways:

* :func:`lm_scores`: the log-probability of the answer given the request
  under a GPT fine-tuned on correct (request, answer) pairs, summed or per
  token, or its least likely token
  (:func:`keras_gen.finetune.completion_token_log_probs`);
* :func:`classifier_scores`: the probability of "correct" from a
  :class:`keras_gen.finetune.GPTClassifier` fine-tuned on request + answer
  texts (:func:`answer_texts`) labelled by execution;

:func:`make_grading_sets` makes the answers to train, calibrate and test
on, with the test's requests held out of fine-tuning (their answers are
made by the package, so they run in this process: ``make_answers``'s
``isolated=False``). The measures:
:func:`roc_auc` and :func:`roc_curve` (how well a score
ranks correct answers above wrong ones, whatever the threshold),
:func:`best_threshold` (chosen on answers the test never sees) and
:func:`accuracy_at`.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_gen import finetune as ft
from keras_gen._checks import check_int, check_seed
from keras_gen.grading.answers import make_answers, make_test_inputs, short_repr
from keras_gen.tasks import CODE_TEMPLATES, CODE_VARIABLES, make_code_pairs


def _check_scored(labels, scores, both_classes: bool = True):
    """Labels as a bool array and scores as a float array, checked."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    if labels.ndim != 1 or labels.shape != scores.shape or not len(labels):
        raise ValueError(
            "Expected labels and scores as two 1-D sequences of the same, "
            f"non-zero length. Received: shapes {labels.shape} and {scores.shape}"
        )
    if not np.isin(labels, (0, 1)).all():
        raise ValueError(
            "Expected labels of 0/1 or False/True (1 = correct). Received: "
            f"values {np.unique(labels)[:5].tolist()}"
        )
    if not np.isfinite(scores).all():
        raise ValueError(
            "Expected finite scores. Received: NaN or inf at index "
            f"{int(np.flatnonzero(~np.isfinite(scores))[0])}"
        )
    labels = labels.astype(bool)
    if both_classes and (labels.all() or not labels.any()):
        raise ValueError(
            "Expected both correct (1) and wrong (0) answers: a ranking measure "
            f"needs both. Received: {len(labels)} labels, all {bool(labels[0])}"
        )
    return labels, scores


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``; tied values share the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Start of each run of equal values, and each value's run.
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    run = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)  # 0-based position where each run starts
    last = np.r_[first[1:], len(values)]  # one past its end
    mean_rank = (first + 1 + last) / 2  # mean of ranks first+1 .. last
    ranks = np.empty(len(values))
    ranks[order] = mean_rank[run]
    return ranks


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve: P(a correct answer outscores a wrong one).

    Computed as the Mann-Whitney statistic: a tie between a correct and a
    wrong answer counts one half, so a constant score gives exactly 0.5 and
    a perfect ranking 1.0 (below 0.5: the score ranks the wrong way round).

    Args:
        labels: 1 (or True) for a correct answer, 0 for a wrong one.
        scores: The grader's scores, higher meaning "more likely correct".

    Returns:
        The AUC, a float in ``[0, 1]``.

    Example:
        >>> roc_auc([1, 0, 1, 0], [0.9, 0.1, 0.5, 0.5])
        0.875
        >>> roc_auc([1, 0], [3, 3])
        0.5
    """
    labels, scores = _check_scored(labels, scores)
    ranks = _average_ranks(scores)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    u = ranks[labels].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def roc_curve(labels, scores):
    """The ROC curve: true- and false-positive rates at every threshold.

    "Positive" means graded correct (``score >= threshold``). Thresholds run
    from above the highest score (nothing passes: the point (0, 0)) down
    through each distinct score (tied scores move the curve diagonally), so
    the trapezoid area under the curve equals :func:`roc_auc`.

    Returns:
        ``(fpr, tpr, thresholds)``: float arrays of equal length.

    Example:
        >>> fpr, tpr, thresholds = roc_curve([1, 0, 1, 0], [0.9, 0.1, 0.5, 0.5])
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 1.0])
    """
    labels, scores = _check_scored(labels, scores)
    thresholds = np.unique(scores)[::-1]  # distinct scores, high to low
    passed = scores[None, :] >= thresholds[:, None]  # (thresholds, answers)
    tpr = (passed & labels).sum(axis=1) / labels.sum()
    fpr = (passed & ~labels).sum(axis=1) / (~labels).sum()
    return np.r_[0.0, fpr], np.r_[0.0, tpr], np.r_[np.inf, thresholds]


def accuracy_at(labels, scores, threshold: float) -> float:
    """Share of answers graded right when ``score >= threshold`` means correct.

    Example:
        >>> accuracy_at([1, 0, 1], [0.9, 0.2, 0.4], 0.5)
        0.6666666666666666
    """
    labels, scores = _check_scored(labels, scores, both_classes=False)
    return float(np.mean((scores >= threshold) == labels))


def best_threshold(labels, scores) -> float:
    """The threshold with the highest accuracy on these answers.

    Choose it on answers the test never sees, then report
    :func:`accuracy_at` on the test with it. Candidates are every distinct
    score and ``inf`` (grade everything wrong); on equal accuracy the lowest
    threshold wins, so the result does not depend on the order of answers.

    Example:
        >>> best_threshold([0, 0, 1, 1, 0], [0.1, 0.2, 0.6, 0.8, 0.7])
        0.6
        >>> best_threshold([0, 0, 0], [1.0, 2.0, 3.0])
        inf
    """
    labels, scores = _check_scored(labels, scores, both_classes=False)
    candidates = np.r_[np.unique(scores), np.inf]  # low to high
    passed = scores[None, :] >= candidates[:, None]
    accuracy = (passed == labels).mean(axis=1)
    return float(candidates[int(np.argmax(accuracy))])  # first = lowest on ties


def answer_texts(answers) -> list[str]:
    r"""What a classifier reads for each answer: the request, then the answer.

    Example:
        >>> from keras_gen.grading.answers import GradedAnswer
        >>> answer_texts([GradedAnswer("# the sum of xs\n", "sum(xs)", "sum(ys)",
        ...                            "wrong_variable", False, "")])
        ['# the sum of xs\nsum(ys)\n']
    """
    return [a.prompt + a.answer + "\n" for a in answers]


def lm_scores(model, tokenizer, answers, length: int = 80, batch_size: int = 128):
    r"""The language model's grade: ``log p(answer + "\n" | request)``.

    The new line ends an answer (the stop sign of notebook 07's task), so it
    is scored too: an answer that should go on is less likely to end there.

    Args:
        model: A GPT fine-tuned on correct (request, answer) pairs.
        tokenizer: Its tokenizer.
        answers: :class:`keras_gen.grading.answers.GradedAnswer` objects.
        length: Row length (longest request + answer, in tokens).
        batch_size: Rows per forward pass.

    Returns:
        ``{"sum": nats, "per_token": nats per token, "min_token": nats}``:
        float arrays, one score per answer. The sum favours short answers
        (fewer tokens, fewer chances to lose probability); per token does
        not, but dilutes one wrong character among many right ones;
        ``min_token`` is the log-probability of the answer's least likely
        token, which a single slip (``+ 1``, ``<`` for ``>``, another
        variable) makes small.
    """
    answers = _check_answers(answers)
    pairs = [(a.prompt, a.answer + "\n") for a in answers]
    token_log_probs, weights = ft.completion_token_log_probs(
        model, tokenizer, pairs, length, batch_size=batch_size
    )  # (answers, length) each
    total, counts = token_log_probs.sum(axis=1), weights.sum(axis=1)
    worst = np.where(weights > 0, token_log_probs, 0.0).min(axis=1)
    return {"sum": total, "per_token": total / counts, "min_token": worst}


def classifier_scores(classifier, tokenizer, answers, length: int = 80, batch_size=128):
    """The classification head's grade: its probability that an answer is correct.

    Args:
        classifier: A two-class :class:`keras_gen.finetune.GPTClassifier`,
            class 1 = correct.
        tokenizer: Its tokenizer.
        answers: :class:`keras_gen.grading.answers.GradedAnswer` objects.
        length: Tokens read per text (:func:`keras_gen.finetune.encode_texts`).
        batch_size: Texts per forward pass.

    Returns:
        A float array of probabilities, one per answer.
    """
    answers = _check_answers(answers)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    inputs = ft.encode_texts(tokenizer, answer_texts(answers), length)
    logits = classifier.predict(inputs, batch_size=batch_size, verbose=0)
    return ops.convert_to_numpy(ops.softmax(logits, axis=-1))[:, 1].astype(float)


def labels_of(answers) -> np.ndarray:
    """The executed truth of each answer: 1 correct, 0 wrong (int32)."""
    return np.array([a.correct for a in _check_answers(answers)], "int32")


def _check_answers(answers) -> list:
    answers = list(answers) if not isinstance(answers, str) else answers
    if (
        not isinstance(answers, list)
        or not answers
        or not all(hasattr(a, "answer") and hasattr(a, "prompt") for a in answers)
    ):
        raise ValueError(
            "Expected a non-empty list of GradedAnswer (keras_gen.grading.answers."
            f"make_answers). Received: {short_repr(answers, 80)}"
        )
    return answers


def split_by_variable(variables, held_out: int, calibration: int, rng) -> dict:
    """Variable names for fine-tuning, calibration and test, drawn with ``rng``.

    The one split of the grading sets and the mistake sets: a request's
    variable name decides its set, so test requests name variables no model
    was fine-tuned on. ``rng`` is a ``numpy.random.Generator``; the draw
    advances it (the caller goes on drawing requests from it).

    Example:
        >>> split_by_variable(("xs", "ys", "zs"), 1, 1, np.random.default_rng(0))
        {'train': ('ys',), 'calibration': ('xs',), 'test': ('zs',)}
    """
    variables = tuple(variables)
    held_out = check_int("held_out", held_out, minimum=1)
    calibration = check_int("calibration", calibration, minimum=1)
    if held_out + calibration >= len(variables):
        raise ValueError(
            f"Expected held_out + calibration < {len(variables)} variable names, "
            f"leaving some for fine-tuning. Received: held_out={held_out}, "
            f"calibration={calibration}"
        )
    order = [variables[i] for i in rng.permutation(len(variables))]
    return {
        "train": tuple(sorted(order[held_out + calibration :])),
        "calibration": tuple(sorted(order[held_out : held_out + calibration])),
        "test": tuple(sorted(order[:held_out])),
    }


def make_grading_sets(
    requests=(400, 120, 300),
    held_out: int = 4,
    calibration: int = 2,
    per_kind: int = 1,
    seed: int = 0,
    variables=CODE_VARIABLES,
    templates=CODE_TEMPLATES,
):
    """Graded answers for fine-tuning, calibrating and testing a grader.

    The split is by **variable name**: ``held_out`` names (drawn with
    ``seed``) make the test requests and ``calibration`` more names make the
    requests on which thresholds and variants are chosen; the rest make the
    fine-tuning requests. Every template appears in all three sets, so the
    test asks: can the grader judge answers to *new requests of a known
    kind* ("the sum of ages" when it was taught "the sum of xs")? A
    held-out name never appears in the fine-tuning data at all, not even
    in a wrong answer: the fine-tuning answers are made and run with only
    the fine-tuning names bound.

    Each set's requests are a seeded sample of all its requests
    (:func:`keras_gen.tasks.make_code_pairs`); each request gets the answers
    of :func:`keras_gen.grading.answers.make_answers` (``per_kind`` of each wrong
    kind), labelled by running them.

    Args:
        requests: How many requests to sample for fine-tuning, calibration
            and test (at most as many as exist).
        held_out: Number of variable names for the test.
        calibration: Number of variable names for calibration.
        per_kind: Wrong answers of each kind per request.
        seed: Seed for the split, the samples and the answers.
        variables: All variable names.
        templates: The request templates.

    Returns:
        ``{"train": [...], "calibration": [...], "test": [...],
        "variables": {set name: names}}``: lists of
        :class:`keras_gen.grading.answers.GradedAnswer`.

    Example:
        >>> sets = make_grading_sets((3, 2, 2), held_out=1, calibration=1,
        ...                          variables=("xs", "ys", "zs"))
        >>> sets["variables"]
        {'train': ('ys',), 'calibration': ('xs',), 'test': ('zs',)}
        >>> any("zs" in a.answer for a in sets["train"])
        False
    """
    variables = tuple(variables)
    seed = check_seed("seed", seed)
    if not (isinstance(requests, (tuple, list)) and len(requests) == 3):
        raise ValueError(
            "Expected requests=(fine-tuning, calibration, test) counts. "
            f"Received: requests={requests!r}"
        )
    rng = np.random.default_rng(seed)
    groups = split_by_variable(variables, held_out, calibration, rng)
    sets = {"variables": groups}
    for (name, group), count in zip(groups.items(), requests, strict=True):
        pairs = make_code_pairs(variables=group, templates=templates)
        count = check_int(f"requests[{name!r}]", count, minimum=1, maximum=len(pairs))
        chosen = [pairs[i] for i in sorted(rng.permutation(len(pairs))[:count])]
        # Fine-tuning answers are made and run with only its own names bound.
        names = group if name == "train" else variables
        inputs = make_test_inputs(seed=seed, variables=names)
        sets[name] = make_answers(chosen, per_kind=per_kind, seed=seed, inputs=inputs)
    return sets
