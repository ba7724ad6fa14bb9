"""A personalised practice loop: the next exercise comes from the weakest topic.

The article names "personalized learning experiences" among the LLM's uses
in education. The simplest real version keeps, for each learner, a count of
attempts and successes per exercise type (here the request templates of
notebook 07's code task, :data:`keras_gen.tasks.CODE_TEMPLATES`), and picks
the next exercise where the learner does worst. Answers are graded by
running them (:func:`keras_gen.grading.answers.grade_answer`), so every count is
true.

* :class:`LearnerModel`: attempts and successes per template;
* :func:`next_exercise`: the picking rule (weakest template, with
  exploration and a seeded tie-break);
* :class:`SimulatedLearner` and :func:`run_practice`: a learner who is weak
  on some templates and learns from practice, to watch the loop at work.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_gen._checks import check_float, check_int, check_seed
from keras_gen.grading.answers import (
    grade_answer,
    make_test_inputs,
    short_repr,
    wrong_answers,
)
from keras_gen.tasks import CODE_PROMPT, CODE_TEMPLATES, CODE_VARIABLES


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One request to answer.

    Attributes:
        template: Index into the templates it was made from.
        prompt: The request, a Python comment ending with a new line.
        reference: The reference answer (one line, no new line).
    """

    template: int
    prompt: str
    reference: str


class LearnerModel:
    """What the loop knows about one learner: attempts and successes per template.

    Args:
        num_templates: Number of exercise types.

    Example:
        >>> learner = LearnerModel(3)
        >>> learner.record(0, True); learner.record(0, False); learner.record(1, True)
        >>> learner.success_rates().round(3).tolist()
        [0.5, 0.667, 0.5]
    """

    def __init__(self, num_templates: int = len(CODE_TEMPLATES)):
        num_templates = check_int("num_templates", num_templates, minimum=1)
        self.attempts = np.zeros(num_templates, int)
        self.successes = np.zeros(num_templates, int)

    @property
    def num_templates(self) -> int:
        """The number of exercise types."""
        return len(self.attempts)

    def record(self, template: int, correct: bool) -> None:
        """Count one graded attempt at ``template``."""
        template = check_int(
            "template", template, minimum=0, maximum=self.num_templates - 1
        )
        if not isinstance(correct, (bool, np.bool_)):
            raise ValueError(
                "Expected correct to be a bool (the executed grade). Received: "
                f"correct={correct!r}"
            )
        self.attempts[template] += 1
        self.successes[template] += bool(correct)

    def success_rates(self) -> np.ndarray:
        """Chance of success per template, ``(successes + 1) / (attempts + 2)``.

        The +1/+2 (Laplace's rule: one imagined success and one failure)
        keeps an unseen template at 0.5 and lets one lucky or unlucky
        attempt move the estimate only part of the way.
        """
        return (self.successes + 1) / (self.attempts + 2)


def next_exercise(
    learner: LearnerModel,
    rng: np.random.Generator,
    explore: float = 0.1,
    templates=CODE_TEMPLATES,
    variables=CODE_VARIABLES,
    digits: int = 9,
) -> Exercise:
    """Pick the next exercise for a learner: usually from the weakest template.

    The rule:

    1. with probability ``explore``, a template drawn uniformly at random
       (so a template the estimate has wrongly written off as mastered
       still comes back now and then);
    2. otherwise the template with the lowest
       :meth:`LearnerModel.success_rates`; among equally low ones (at the
       start: all of them) one drawn uniformly with ``rng``;
    3. then a variable and (if the template has ``{n}``) a digit
       ``1..digits``, drawn uniformly.

    Same ``rng`` state and history: same exercise.

    Args:
        learner: The learner's counts.
        rng: A ``numpy.random.Generator`` (seeded by the caller).
        explore: Probability of a random template, in ``[0, 1]``.
        templates: ``(request, code)`` templates, as in
            :data:`keras_gen.tasks.CODE_TEMPLATES`; as many as
            ``learner.num_templates``.
        variables: Variable names to fill ``{v}``.
        digits: Fill ``{n}`` with ``1 .. digits``.

    Returns:
        An :class:`Exercise`.

    Example:
        >>> learner = LearnerModel()
        >>> for _ in range(3):
        ...     learner.record(2, False)  # "the largest item of {v}", failed
        >>> rng = np.random.default_rng(0)
        >>> next_exercise(learner, rng, explore=0.0).template
        2
    """
    if not isinstance(learner, LearnerModel):
        raise ValueError(
            f"Expected learner to be a LearnerModel. Received: {type(learner).__name__}"
        )
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "Expected rng to be a numpy.random.Generator, e.g. "
            f"np.random.default_rng(seed). Received: {type(rng).__name__}"
        )
    explore = check_float("explore", explore, minimum=0.0, maximum=1.0)
    digits = check_int("digits", digits, minimum=1)
    templates, variables = tuple(templates), tuple(variables)
    if len(templates) != learner.num_templates:
        raise ValueError(
            f"Expected one template per entry of the learner model "
            f"({learner.num_templates}). Received: {len(templates)} templates"
        )
    if not variables:
        raise ValueError("Expected at least one variable name. Received: ()")
    if rng.random() < explore:
        template = int(rng.integers(len(templates)))
    else:
        rates = learner.success_rates()
        weakest = np.flatnonzero(np.isclose(rates, rates.min()))
        template = int(rng.choice(weakest))  # seeded tie-break
    request, code = templates[template]
    v = variables[int(rng.integers(len(variables)))]
    n = int(rng.integers(1, digits + 1)) if "{n}" in request else None
    return Exercise(
        template,
        CODE_PROMPT.format(request=request.format(v=v, n=n)),
        code.format(v=v, n=n),
    )


class SimulatedLearner:
    """A learner who answers correctly with a skill per template, and learns.

    An attempt at template ``t`` is correct with probability ``skills[t]``
    (the answer is then the reference), otherwise a wrong answer made by
    :func:`keras_gen.grading.answers.wrong_answers` from the reference (an
    off-by-one, a wrong operator, variable or method, as a learner would
    write). After each attempt at ``t`` the skill moves a share
    ``learn_rate`` of the way to 1: practice helps.

    Args:
        skills: Starting probability of a correct answer, per template.
        learn_rate: Share of the gap to 1 closed by one attempt, in ``[0, 1]``.
        seed: Seed for the learner's draws.
    """

    def __init__(self, skills, learn_rate: float = 0.1, seed: int = 0):
        skills = np.asarray(skills, dtype=float)
        if (
            skills.ndim != 1
            or not len(skills)
            or not (
                np.isfinite(skills).all()
                and (skills >= 0).all()
                and (skills <= 1).all()
            )
        ):
            raise ValueError(
                "Expected skills to be a non-empty 1-D sequence of probabilities in "
                f"[0, 1]. Received: {short_repr(np.asarray(skills).tolist(), 80)}"
            )
        self.skills = skills.copy()
        self.learn_rate = check_float(
            "learn_rate", learn_rate, minimum=0.0, maximum=1.0
        )
        self.rng = np.random.default_rng(check_seed("seed", seed))

    def answer(self, exercise: Exercise, variables=CODE_VARIABLES) -> str:
        """The learner's answer to ``exercise`` (and one step of learning)."""
        t = exercise.template
        knows = self.rng.random() < self.skills[t]
        self.skills[t] += self.learn_rate * (1.0 - self.skills[t])
        if knows:
            return exercise.reference
        options = [
            a
            for kind in wrong_answers(exercise.reference, variables).values()
            for a in kind
        ]
        if not options:
            return exercise.reference + " + 1"
        return options[int(self.rng.integers(len(options)))]


def run_practice(
    learner: SimulatedLearner,
    rounds: int,
    policy: str = "weakest",
    explore: float = 0.1,
    seed: int = 0,
    templates=CODE_TEMPLATES,
    *,
    isolated: bool = False,
):
    """Let a simulated learner practise ``rounds`` exercises, graded by execution.

    The simulated learner's answers are made by the package
    (:func:`keras_gen.grading.answers.wrong_answers`), so they run in this process
    by default; a loop that grades a person's answers passes
    ``isolated=True`` (:func:`keras_gen.grading.answers.grade_answer`).

    Args:
        learner: A :class:`SimulatedLearner` (changed in place: it learns).
        rounds: Number of exercises.
        policy: ``"weakest"`` (:func:`next_exercise`) or ``"random"`` (a
            template drawn uniformly, the baseline).
        explore: :func:`next_exercise`'s exploration probability.
        seed: Seed for picking exercises.
        templates: The templates (one skill each).
        isolated: Run each answer in a child process with CPU and memory
            limits (:func:`keras_gen.grading.isolation.run_isolated`).

    Returns:
        ``(history, model)``: a list of ``(template, correct)`` and the
        :class:`LearnerModel` the loop built.

    Example:
        >>> learner = SimulatedLearner([0.9] * 19 + [0.1], learn_rate=0.0)
        >>> history, model = run_practice(learner, 40)
        >>> int(model.attempts[19]) > 40 // 20  # more than its fair share
        True
    """
    rounds = check_int("rounds", rounds, minimum=1)
    if policy not in ("weakest", "random"):
        raise ValueError(
            f"Expected policy to be 'weakest' or 'random'. Received: policy={policy!r}"
        )
    if not isinstance(learner, SimulatedLearner):
        raise ValueError(
            "Expected learner to be a SimulatedLearner. Received: "
            f"{type(learner).__name__}"
        )
    templates = tuple(templates)
    if len(learner.skills) != len(templates):
        raise ValueError(
            f"Expected one skill per template ({len(templates)}). Received: "
            f"{len(learner.skills)} skills"
        )
    rng = np.random.default_rng(check_seed("seed", seed))
    inputs = make_test_inputs(seed=seed)
    model = LearnerModel(len(templates))
    history = []
    for _ in range(rounds):
        # "random" is the same rule with exploration always on.
        chance = 1.0 if policy == "random" else explore
        exercise = next_exercise(model, rng, chance, templates)
        correct, _ = grade_answer(learner.answer(exercise), exercise.reference,
                                  inputs, isolated=isolated)
        model.record(exercise.template, correct)
        history.append((exercise.template, correct))
    return history, model
