"""Solutions to the exercises of notebook 10, part 2 (automated grading, practice).

Run ``python -m solutions.nb10_grader`` to print the answers this run observes
with the model that ships with keras_gen (a few minutes on a 2-core CPU: it
fine-tunes two language models and runs the practice loop 4 x 10 times).
"""

from __future__ import annotations

import numpy as np

from keras_gen import finetune as ft
from keras_gen._checks import check_int
from keras_gen.grading import grader, practice
from keras_gen.grading.answers import make_answers, make_test_inputs
from keras_gen.tasks import CODE_TEMPLATES, make_code_pairs


def split_auc(
    model,
    tokenizer,
    split: str = "random",
    held_out: int = 4,
    requests=(400, 300),
    steps: int = 200,
    length: int = 80,
    seed: int = 0,
    **finetune_kwargs,
):
    """Exercise 10.3: grader (a) under two other ways of holding requests out.

    * ``split="random"``: test requests drawn at random from all of them, as
      notebook 07 did; every variable name and template is also in the
      fine-tuning requests, only the combination is new.
    * ``split="templates"``: ``held_out`` templates (drawn with ``seed``)
      make the test requests: a kind of request the model never saw.

    The notebook's split by variable name sits between the two: known
    templates, names never seen. A copy of ``model`` is fine-tuned on the
    correct answers to the fine-tuning requests; its log-probability of
    each test answer is scored against the executed truth.

    Args:
        model: The pretrained GPT (not changed).
        tokenizer: Its tokenizer.
        split: ``"random"`` or ``"templates"``.
        held_out: Number of templates held out (``split="templates"``).
        requests: How many (fine-tuning, test) requests to sample.
        steps: Fine-tuning steps.
        length: Row length (longest request + answer).
        seed: Seed for the split, the samples and fine-tuning.
        **finetune_kwargs: Passed to :func:`keras_gen.finetune.finetune_lm`.

    Returns:
        ``{"test_templates": template indices in the test, "sum": test AUC,
        "per_token": test AUC, "min_token": test AUC}``.
    """
    if split not in ("random", "templates"):
        raise ValueError(
            f"Expected split to be 'random' or 'templates'. Received: split={split!r}"
        )
    held_out = check_int(
        "held_out", held_out, minimum=1, maximum=len(CODE_TEMPLATES) - 1
    )
    rng = np.random.default_rng(seed)
    inputs = make_test_inputs(seed=seed)
    pairs = make_code_pairs()
    template_of = np.repeat(  # make_code_pairs fills the templates in order
        np.arange(len(CODE_TEMPLATES)),
        [len(make_code_pairs(templates=[t])) for t in CODE_TEMPLATES],
    )
    if split == "templates":
        test_templates = rng.permutation(len(CODE_TEMPLATES))[:held_out]
        is_test = np.isin(template_of, test_templates)
        test_ids = rng.permutation(np.flatnonzero(is_test))[: requests[1]]
    else:
        test_ids = rng.permutation(len(pairs))[: requests[1]]
    train_ids = np.setdiff1d(np.arange(len(pairs)), test_ids)
    if split == "templates":
        train_ids = train_ids[~np.isin(template_of[train_ids], template_of[test_ids])]
    train_ids = rng.permutation(train_ids)[: requests[0]]

    def answers(ids):
        chosen = [pairs[i] for i in sorted(ids)]
        return make_answers(chosen, seed=seed, inputs=inputs)

    train, test = answers(train_ids), answers(test_ids)
    correct = [(a.prompt, a.answer + "\n") for a in train if a.correct]
    x, y, w = ft.prompt_completion_arrays(tokenizer, correct, length)
    lm = ft.copy_backbone(model)
    ft.finetune_lm(lm, x, y, w, steps=steps, seed=seed, **finetune_kwargs)
    scores = grader.lm_scores(lm, tokenizer, test, length)
    labels = grader.labels_of(test)
    result = {"test_templates": sorted({int(template_of[i]) for i in test_ids})}
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
    """Exercise 10.3, further: what exploring costs and buys in the practice loop.

    For each exploration rate, ``learners`` simulated learners (seeds
    ``0 .. learners - 1``, the same for every rate) practise ``rounds``
    exercises picked by :func:`keras_gen.grading.practice.next_exercise`.
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
    for split in ("random", "templates"):
        result = split_auc(
            pretrained.model,
            pretrained.tokenizer,
            split,
            batch_size=16,
            learning_rate=1e-3,
        )
        print(f"Exercise 10.3, split={split}: {result}")
    weak = [r for r, _ in CODE_TEMPLATES].index("the position of {n} in {v}")
    skills = np.full(len(CODE_TEMPLATES), 0.85)
    skills[weak] = 0.2
    for explore, row in explore_sweep(skills, weak).items():
        print(f"Exercise 10.3, further: explore={explore}: {row}")
