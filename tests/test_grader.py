"""Tests for keras_gen.grading.grader: the model's grade and how it is measured."""

import itertools
import re

import keras
import numpy as np
import pytest

from keras_gen import finetune as ft
from keras_gen.grading import grader
from keras_gen.grading.answers import GradedAnswer
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt


def brute_force_auc(labels, scores):
    """P(correct outscores wrong) over every pair, ties counting one half."""
    pairs = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for (p, lp), (n, ln) in itertools.product(
            zip(scores, labels, strict=True), repeat=2
        )
        if lp == 1 and ln == 0
    ]
    return float(np.mean(pairs))


def test_roc_auc_on_hand_made_cases():
    assert grader.roc_auc([1, 1, 0, 0], [4, 3, 2, 1]) == 1.0  # perfect
    assert grader.roc_auc([1, 1, 0, 0], [1, 2, 3, 4]) == 0.0  # reversed
    assert grader.roc_auc([1, 0, 1, 0], [5, 5, 5, 5]) == 0.5  # constant
    # One correct answer tied with one of two wrong ones: (1 + 0.5) / 2.
    assert grader.roc_auc([1, 0, 0], [0.7, 0.7, 0.1]) == 0.75
    assert grader.roc_auc([True, False], [0.2, 0.1]) == 1.0


def test_roc_auc_matches_every_pair_with_many_ties():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 60)
    scores = rng.integers(0, 5, 60)  # five values: ties everywhere
    assert grader.roc_auc(labels, scores) == pytest.approx(
        brute_force_auc(labels, scores)
    )


def test_roc_curve_area_equals_auc_and_ends_at_corners():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 50)
    scores = rng.integers(0, 6, 50) + labels  # informative, with ties
    fpr, tpr, thresholds = grader.roc_curve(labels, scores)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.isinf(thresholds[0]) and np.all(np.diff(thresholds[1:]) < 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(grader.roc_auc(labels, scores))


def test_best_threshold_and_accuracy():
    labels, scores = [0, 1, 1, 0, 1], [0.1, 0.4, 0.9, 0.5, 0.6]
    threshold = grader.best_threshold(labels, scores)
    # 0.4 and 0.6 both grade 4 of 5 right (0.4 passes the wrong 0.5, 0.6
    # fails the correct 0.4): the lowest wins the tie.
    assert threshold == 0.4
    assert grader.accuracy_at(labels, scores, threshold) == 0.8
    assert grader.best_threshold([1, 1], [0.3, 0.2]) == 0.2  # everything passes
    assert grader.accuracy_at([1, 0], [0.5, 0.5], np.inf) == 0.5


@pytest.mark.parametrize(
    "labels, scores, fragment",
    [
        ([1, 0], [0.5], "same, non-zero length"),
        ([], [], "same, non-zero length"),
        ([1, 2], [0.5, 0.2], "labels of 0/1"),
        ([1, 0], [0.5, np.nan], "finite scores"),
        ([1, 1], [0.5, 0.2], "both correct"),
    ],
)
def test_measures_refuse_bad_input(labels, scores, fragment):
    with pytest.raises(ValueError, match=fragment):
        grader.roc_auc(labels, scores)
    if fragment != "both correct":
        with pytest.raises(ValueError, match=fragment):
            grader.best_threshold(labels, scores)


ANSWERS = [
    GradedAnswer("# a\n", "ab", "ab", "reference", True, ""),
    GradedAnswer("# a\n", "ab", "ba", "wrong_variable", False, "differs"),
    GradedAnswer("# b\n", "b", "b b", "rewrite", True, ""),
]


@pytest.fixture
def tok():
    return CharTokenizer.train("ab #\n", byte_fallback=False)


def test_lm_scores_sum_and_per_token(tok):
    keras.utils.set_random_seed(0)
    model = build_gpt(tok.vocab_size, 16, 16, 2, 1)
    scores = grader.lm_scores(model, tok, ANSWERS, length=12)
    logp, counts = ft.completion_log_probs(
        model, tok, [(a.prompt, a.answer + "\n") for a in ANSWERS], 12
    )
    np.testing.assert_allclose(scores["sum"], logp)
    np.testing.assert_allclose(scores["per_token"], logp / [3, 3, 4])
    token_logp, weights = ft.completion_token_log_probs(
        model, tok, [(a.prompt, a.answer + "\n") for a in ANSWERS], 12
    )
    for i in range(3):
        want = token_logp[i][weights[i] > 0].min()
        assert scores["min_token"][i] == pytest.approx(want)
        assert want <= scores["per_token"][i]
    assert counts.tolist() == [3, 3, 4]
    assert grader.labels_of(ANSWERS).tolist() == [1, 0, 1]


def test_classifier_scores_are_probabilities(tok):
    keras.utils.set_random_seed(0)
    clf = ft.GPTClassifier(build_gpt(tok.vocab_size, 16, 16, 2, 1), num_classes=2)
    probs = grader.classifier_scores(clf, tok, ANSWERS, length=12)
    assert probs.shape == (3,) and np.all((probs > 0) & (probs < 1))


def test_a_fine_tuned_lm_grades_wrong_answers_lower(tok):
    # Taught "# a" -> "ab", the LM scores "ab" above the wrong "ba".
    keras.utils.set_random_seed(0)
    model = build_gpt(tok.vocab_size, 16, 16, 2, 1)
    x, y, w = ft.prompt_completion_arrays(tok, [("# a\n", "ab\n")] * 8, 12)
    ft.finetune_lm(
        model, x, y, w, steps=30, batch_size=8, learning_rate=1e-2, jit_compile=False
    )
    scores = grader.lm_scores(model, tok, ANSWERS[:2], length=12)["per_token"]
    assert grader.roc_auc([1, 0], scores) == 1.0


def test_scores_refuse_bad_answers(tok):
    model = build_gpt(tok.vocab_size, 16, 16, 2, 1)
    for bad in ([], "ab", [("# a\n", "ab")]):
        with pytest.raises(ValueError, match="list of GradedAnswer"):
            grader.lm_scores(model, tok, bad)


def test_grading_sets_hold_the_test_variables_out_of_fine_tuning():
    sets = grader.make_grading_sets((20, 8, 8), seed=1)
    names = sets["variables"]
    assert len(names["test"]) == 4 and len(names["calibration"]) == 2
    assert not set(names["train"]) & (set(names["test"]) | set(names["calibration"]))
    words = set(
        re.findall(r"\w+", " ".join(a.prompt + a.answer for a in sets["train"]))
    )
    assert not words & set(names["test"] + names["calibration"])
    assert {a.prompt for a in sets["test"]}.isdisjoint(a.prompt for a in sets["train"])
    assert len({a.prompt for a in sets["test"]}) == 8
    labels = grader.labels_of(sets["test"])
    assert 0 < labels.mean() < 1  # correct and wrong answers both present
    again = grader.make_grading_sets((20, 8, 8), seed=1)
    assert again["test"] == sets["test"]  # same seed, same answers


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"held_out": 10, "calibration": 10}, "leaving some for fine-tuning"),
        ({"held_out": 0}, "held_out"),
        ({"requests": (5, 5)}, "requests="),
        ({"requests": (5, 5, 10**6)}, "requests\\['test'\\]"),
        ({"seed": -1}, "seed"),
    ],
)
def test_grading_sets_refuse_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        grader.make_grading_sets(**kwargs)
