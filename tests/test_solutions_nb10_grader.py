"""The exercise solutions of notebook 10, part 2 run and return sensible values."""

import keras
import numpy as np
import pytest

from keras_gen.tasks import CODE_TEMPLATES, make_code_pairs
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt
from solutions import nb10_grader


def test_template_holdout_auc_runs_on_a_tiny_model():
    text = "".join(p + c for p, c in make_code_pairs(digits=2))
    tok = CharTokenizer.train(text + "[]()", byte_fallback=True)
    keras.utils.set_random_seed(0)
    model = build_gpt(tok.vocab_size, 96, 16, 2, 1)
    before = [w.copy() for w in model.get_weights()]
    result = nb10_grader.template_holdout_auc(
        model,
        tok,
        held_out=3,
        requests=(10, 8),
        steps=2,
        batch_size=4,
        jit_compile=False,
    )
    assert len(result["templates"]) == 3
    assert all(0 <= i < len(CODE_TEMPLATES) for i in result["templates"])
    assert 0.0 <= result["sum"] <= 1.0 and 0.0 <= result["per_token"] <= 1.0
    assert all(  # a copy was fine-tuned, not the model passed in
        np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )
    with pytest.raises(ValueError, match="held_out"):
        nb10_grader.template_holdout_auc(model, tok, held_out=0)


def test_explore_sweep_no_exploration_focuses_on_the_weak_template():
    skills = np.full(len(CODE_TEMPLATES), 0.95)
    skills[5] = 0.05
    result = nb10_grader.explore_sweep(
        skills, weak=5, explores=(0.0, 1.0), rounds=30, learners=2, learn_rate=0.0
    )
    assert result[0.0]["weak_share"] > 0.3 > 0.15 > result[1.0]["weak_share"]
    assert result[0.0]["weak_skill"] == pytest.approx(0.05)  # learn_rate 0
    with pytest.raises(ValueError, match="learners"):
        nb10_grader.explore_sweep(skills, 5, learners=0)
