"""Solutions to the exercises of notebook 10, part 2 (automated grading, practice).

Run ``python -m solutions.nb10_grader`` to print the answers this run observes
with the model that ships with keras_gen (a few minutes on a 2-core CPU: it
fine-tunes one language model and runs the practice loop 4 x 10 times).
"""

from __future__ import annotations

import numpy as np

from keras_gen import finetune as ft
from keras_gen import grader, practice
from keras_gen._checks import check_int
from keras_gen.grading import make_answers, make_test_inputs
from keras_gen.tasks import CODE_TEMPLATES, make_code_pairs


def template_holdout_auc(
    model,
    tokenizer,
    held_out: int = 4,
    requests=(400, 300),
    steps: int = 200,
    length: int = 80,
    seed: int = 0,
    **finetune_kwargs,
):
    """Exercise 10.3: grader (a) on request templates it was never taught.

    ``held_out`` templates (drawn with ``seed``) make the test requests; a
    copy of ``model`` is fine-tuned on the correct answers to requests of
    the other templates. Unlike the notebook's split by variable name, the
    model has never seen what a right answer to a held-out kind of request
    looks like, so the log-probability has little to go on beyond "looks
    like Python": expect the AUC to fall towards 0.5.

    Args:
        model: The pretrained GPT (not changed).
        tokenizer: Its tokenizer.
        held_out: Number of templates held out for the test.
        requests: How many (fine-tuning, test) requests to sample.
        steps: Fine-tuning steps.
        length: Row length (longest request + answer).
        seed: Seed for the split, the samples and fine-tuning.
        **finetune_kwargs: Passed to :func:`keras_gen.finetune.finetune_lm`.

    Returns:
        ``{"templates": held-out template indices, "sum": test AUC,
        "per_token": test AUC}``.
    """
    held_out = check_int(
        "held_out", held_out, minimum=1, maximum=len(CODE_TEMPLATES) - 1
    )
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(CODE_TEMPLATES))
    test_ids, train_ids = sorted(order[:held_out]), sorted(order[held_out:])
    inputs = make_test_inputs(seed=seed)

    def sample(ids, count):
        pairs = make_code_pairs(templates=[CODE_TEMPLATES[i] for i in ids])
        chosen = rng.permutation(len(pairs))[: min(count, len(pairs))]
        return make_answers(
            [pairs[i] for i in sorted(chosen)], seed=seed, inputs=inputs
        )

    train, test = sample(train_ids, requests[0]), sample(test_ids, requests[1])
    correct = [(a.prompt, a.answer + "\n") for a in train if a.correct]
    x, y, w = ft.prompt_completion_arrays(tokenizer, correct, length)
    lm = ft.copy_backbone(model)
    ft.finetune_lm(lm, x, y, w, steps=steps, seed=seed, **finetune_kwargs)
    scores = grader.lm_scores(lm, tokenizer, test, length)
    labels = grader.labels_of(test)
    result = {"templates": [int(i) for i in test_ids]}
    result.update({v: grader.roc_auc(labels, s) for v, s in scores.items()})
    return result


def explore_sweep(
    skills,
    weak: int,
    explores=(0.0, 0.1, 0.3, 1.0),
    rounds: int = 60,
    learners: int = 10,
    learn_rate: float = 0.1,
):
    """Exercise 10.4: what exploring costs and buys in the practice loop.

    For each exploration rate, ``learners`` simulated learners (seeds
    ``0 .. learners - 1``, the same for every rate) practise ``rounds``
    exercises picked by :func:`keras_gen.practice.next_exercise`.
    ``explore=1.0`` is random practice. With no exploration the loop stays
    on the weak template until its estimate catches up; exploring spends
    exercises on templates the learner already masters, which lowers the
    gain on the weak one, but protects against an estimate that wrote a
    template off too early (one unlucky or lucky streak).

    Returns:
        ``{explore: {"weak_share": share of exercises on ``weak``,
        "weak_skill": mean final skill on it, "mean_skill": mean final skill
        over all templates}}``.
    """
    learners = check_int("learners", learners, minimum=1)
    skills = np.asarray(skills, float)
    result = {}
    for explore in explores:
        share, weak_skill, mean_skill = [], [], []
        for seed in range(learners):
            learner = practice.SimulatedLearner(skills, learn_rate, seed=seed)
            _, model = practice.run_practice(
                learner, rounds, explore=explore, seed=seed
            )
            share.append(model.attempts[weak] / rounds)
            weak_skill.append(learner.skills[weak])
            mean_skill.append(learner.skills.mean())
        result[explore] = {
            "weak_share": float(np.mean(share)),
            "weak_skill": float(np.mean(weak_skill)),
            "mean_skill": float(np.mean(mean_skill)),
        }
    return result


if __name__ == "__main__":  # pragma: no cover - prints observed answers
    from keras_gen.pretrained import load_pretrained

    pretrained = load_pretrained()
    print(
        "Exercise 10.3:",
        template_holdout_auc(
            pretrained.model, pretrained.tokenizer, batch_size=16, learning_rate=1e-3
        ),
    )
    weak = [r for r, _ in CODE_TEMPLATES].index("the position of {n} in {v}")
    skills = np.full(len(CODE_TEMPLATES), 0.85)
    skills[weak] = 0.2
    for explore, row in explore_sweep(skills, weak).items():
        print(f"Exercise 10.4: explore={explore}: {row}")
