"""Tests for keras_gen.grading.practice: the personalised practice loop."""

import numpy as np
import pytest

from keras_gen.grading import practice
from keras_gen.grading.answers import grade_answer, make_test_inputs
from keras_gen.tasks import CODE_TEMPLATES

TEMPLATES = CODE_TEMPLATES[:4]


def learner_with(history):
    learner = practice.LearnerModel(len(TEMPLATES))
    for template, correct in history:
        learner.record(template, correct)
    return learner


def picks(learner, n=200, explore=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return [
        practice.next_exercise(learner, rng, explore, TEMPLATES).template
        for _ in range(n)
    ]


def test_success_rates_are_laplace_smoothed():
    learner = learner_with([(0, True), (0, True), (1, False)])
    np.testing.assert_allclose(learner.success_rates(), [0.75, 1 / 3, 0.5, 0.5])
    assert learner.attempts.tolist() == [2, 1, 0, 0]


def test_the_weakest_template_is_picked_without_exploration():
    # Template 2: 1 of 4 right (0.33); 3: unseen (0.5); 0 and 1 do better.
    history = [(0, True)] * 3 + [(1, True), (1, False)] + [(2, False)] * 3
    history += [(2, True)]
    assert set(picks(learner_with(history))) == {2}


def test_ties_are_broken_by_the_seed_and_cover_every_tied_template():
    learner = learner_with([(0, True), (1, True)])  # 2 and 3 tied at 0.5
    first, again = picks(learner, seed=3), picks(learner, seed=3)
    assert first == again
    assert set(first) == {2, 3}
    assert picks(learner, seed=4) != first


def test_exploration_reaches_every_template_at_about_its_rate():
    learner = learner_with([(0, False)] * 5)  # template 0 is by far the weakest
    chosen = np.array(picks(learner, n=2000, explore=0.2))
    # 0.8 + 0.2 / 4 of the picks go to template 0, 0.05 to each other one.
    assert abs(np.mean(chosen == 0) - 0.85) < 0.03
    assert set(chosen.tolist()) == {0, 1, 2, 3}


def test_exercises_are_well_formed_and_graded_by_execution():
    rng = np.random.default_rng(0)
    exercise = practice.next_exercise(practice.LearnerModel(), rng)
    assert exercise.prompt.startswith("# ") and exercise.prompt.endswith("\n")
    inputs = make_test_inputs()
    assert grade_answer(exercise.reference, exercise.reference, inputs) == (True, "")


def test_the_loop_concentrates_on_the_weak_template():
    skills = [0.95] * 19 + [0.05]

    def practice_share(policy):
        learner = practice.SimulatedLearner(skills, learn_rate=0.0, seed=1)
        history, model = practice.run_practice(learner, 60, policy=policy, seed=1)
        assert len(history) == 60 and model.attempts.sum() == 60
        return model.attempts[19] / 60

    assert practice_share("weakest") > 0.25 > 0.1 > practice_share("random")


def test_a_simulated_learner_learns_and_answers_wrong_when_unskilled():
    learner = practice.SimulatedLearner([0.0, 1.0], learn_rate=0.5, seed=0)
    exercise = practice.Exercise(0, "# the sum of xs\n", "sum(xs)")
    wrong = learner.answer(exercise)
    assert wrong != "sum(xs)"
    assert grade_answer(wrong, "sum(xs)", make_test_inputs())[0] is False
    assert learner.skills.tolist() == [0.5, 1.0]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: practice.LearnerModel(0), "num_templates"),
        (lambda: practice.LearnerModel(2).record(2, True), "template"),
        (lambda: practice.LearnerModel(2).record(0, 1), "correct to be a bool"),
        (
            lambda: practice.next_exercise(
                practice.LearnerModel(2), np.random.default_rng(0)
            ),
            "one template per",
        ),
        (lambda: practice.next_exercise(practice.LearnerModel(), 0), "Generator"),
        (
            lambda: practice.next_exercise(
                practice.LearnerModel(), np.random.default_rng(0), 1.5
            ),
            "explore",
        ),
        (lambda: practice.next_exercise({}, np.random.default_rng(0)), "LearnerModel"),
        (lambda: practice.SimulatedLearner([0.5, 1.2]), "probabilities"),
        (lambda: practice.SimulatedLearner([]), "probabilities"),
        (lambda: practice.SimulatedLearner([0.5], learn_rate=-1), "learn_rate"),
        (
            lambda: practice.run_practice(practice.SimulatedLearner([0.5]), 3),
            "one skill per template",
        ),
        (
            lambda: practice.run_practice(practice.SimulatedLearner([0.5] * 20), 0),
            "rounds",
        ),
        (
            lambda: practice.run_practice(
                practice.SimulatedLearner([0.5] * 20), 3, policy="easiest"
            ),
            "policy",
        ),
    ],
)
def test_bad_inputs(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()
