"""keras_gen.scaling: one point of each sweep, on tiny budgets."""

import math

import numpy as np
import pytest

from keras_gen import scaling


def test_bits_per_dimension_and_widths():
    assert scaling.bits_per_dimension(10 * math.log(2), 10) == pytest.approx(1.0)
    assert scaling.scaled_widths(0.125) == (128, 64, 32)
    assert scaling.scaled_widths(0.001) == (8, 8, 8)
    with pytest.raises(ValueError, match="Expected dimensions >= 1"):
        scaling.bits_per_dimension(1.0, 0)


def test_image_point_scores_a_tiny_vae(fashion_test):
    import tensorflow as tf

    images = fashion_test[0]
    # Without XLA, op by op: compiling or tracing costs more than 2 steps
    # (test_vae trains a dense VAE under XLA, the "auto" default).
    tf.config.run_functions_eagerly(True)
    try:
        point = scaling.image_point(
            images, images, 256, steps=2, hidden_units=(32,), n_score=128,
            jit_compile=False,
        )
    finally:
        tf.config.run_functions_eagerly(False)
    assert point["model"].jit_compile is False
    assert point["n_train"] == 256 and point["steps"] == 2
    assert point["epochs"] == pytest.approx(2 * scaling.IMAGE_BATCH / 256)
    assert point["params"] == point["model"].count_params()
    # untrained-ish: near the coin's 1 bit per pixel, and above the floor
    assert 0.3 < point["test_bits"] < 1.5 and 0.3 < point["train_bits"] < 1.5
    assert point["frechet"] > point["floor"] > 0
    with pytest.raises(ValueError, match="Expected n_train >= 64"):
        scaling.image_point(images, images, 10)


@pytest.fixture(scope="module")
def text_point():
    """One tiny text point (2 steps) on random ids, scored on other ids.

    Shared by the two tests below. Without XLA, op by op: compiling or tracing
    costs far more than 2 steps (test_training's test_xla_is_the_default
    trains a GPT under compile_for_pretraining's default XLA).
    """
    import tensorflow as tf

    rng = np.random.default_rng(1)
    ids = rng.integers(0, 5, 4000)
    held = ids[::-1].copy()  # other text: its first windows differ
    tf.config.run_functions_eagerly(True)
    try:
        point = scaling.text_point(
            ids, held, 2200, 5, steps=2, model_shape=(16, 2, 1), jit_compile=False
        )
    finally:
        tf.config.run_functions_eagerly(False)
    assert point["model"].jit_compile is False
    return ids, held, point


def test_text_point_trains_on_a_prefix(text_point):
    ids, _, point = text_point
    assert point["n_tokens"] == 2200
    expected = 2 * scaling.TEXT_BATCH * scaling.TEXT_CONTEXT / 2200
    assert point["epochs"] == pytest.approx(expected)
    # random ids over 5 symbols: about log2(5) bits, train and held out alike
    assert point["train_bits"] == pytest.approx(math.log2(5), abs=0.3)
    assert point["val_bits"] == pytest.approx(math.log2(5), abs=0.3)
    with pytest.raises(ValueError, match="Expected n_tokens >= 2112"):
        scaling.text_point(ids, ids, 100, 5)


def test_text_bits_is_what_text_point_reports(text_point):
    ids, held, point = text_point
    assert scaling.text_bits(point["model"], ids[:2200]) == pytest.approx(
        point["train_bits"]
    )
    assert scaling.text_bits(point["model"], held) == pytest.approx(point["val_bits"])
    assert point["val_bits"] != pytest.approx(point["train_bits"])
    with pytest.raises(ValueError, match="Expected batches >= 1"):
        scaling.text_bits(point["model"], held, 0)
