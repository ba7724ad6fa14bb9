"""The exercise solutions of notebook 10, part 2 run and return sensible values."""

import keras
import numpy as np
import pytest

from keras_gen.tasks import CODE_TEMPLATES, make_code_pairs
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt
from solutions import nb10_grader


@pytest.fixture
def eager():
    """Run tf.functions eagerly: one fine-tuning step costs less than tracing
    the train and scoring functions of each new model (5-10 s on 2 CPU cores)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


@pytest.mark.parametrize("split", ["random", "templates"])
def test_split_auc_runs_on_a_tiny_model(split, eager):
    text = "".join(p + c for p, c in make_code_pairs(digits=2))
    tok = CharTokenizer.train(text + "[]()", byte_fallback=True)
    keras.utils.set_random_seed(0)
    model = build_gpt(tok.vocab_size, 96, 16, 2, 1)
    before = [w.copy() for w in model.get_weights()]
    result = nb10_grader.split_auc(
        model,
        tok,
        split,
        held_out=3,
        requests=(10, 8),
        steps=1,
        batch_size=4,
        jit_compile=False,
    )
    if split == "templates":
        assert len(result["test_templates"]) <= 3
    assert all(0 <= i < len(CODE_TEMPLATES) for i in result["test_templates"])
    assert all(0.0 <= result[v] <= 1.0 for v in ("sum", "per_token", "min_token"))
    assert all(  # a copy was fine-tuned, not the model passed in
        np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )


def test_split_auc_refuses_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        nb10_grader.split_auc(None, None, "variables")
    with pytest.raises(ValueError, match="held_out"):
        nb10_grader.split_auc(None, None, "templates", held_out=0)


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
