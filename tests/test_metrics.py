import numpy as np
import pytest

from keras_gen import metrics


def test_mean_pairwise_distance_hand_computed():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    # distances: 5, 4, 3
    assert metrics.mean_pairwise_distance(points) == pytest.approx(4.0)


def test_identical_images_have_zero_diversity():
    real = np.random.default_rng(0).uniform(-1, 1, (40, 8, 8, 1))
    assert metrics.diversity_ratio(np.repeat(real[:1], 40, 0), real) == pytest.approx(
        0.0, abs=1e-6
    )
    assert metrics.diversity_ratio(real, real) == pytest.approx(1.0)


def test_pooling_ignores_pixel_speckle_around_one_shape():
    rng = np.random.default_rng(0)
    # "Real" images with structure at a coarse scale: random 7x7 blocks, upsampled.
    real = np.kron(rng.uniform(-1, 1, (60, 7, 7, 1)), np.ones((1, 4, 4, 1)))
    one_shape = np.repeat(real[:1], 60, 0)
    speckled = np.clip(one_shape + rng.normal(0, 0.5, one_shape.shape), -1, 1)
    assert metrics.diversity_ratio(speckled, real, pool=1) > 0.5
    assert metrics.diversity_ratio(speckled, real, pool=4) < 0.35


def test_average_pool_shapes_and_values():
    images = np.arange(16, dtype=float).reshape(1, 4, 4, 1)
    pooled = metrics.average_pool(images, 2)
    np.testing.assert_allclose(pooled[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    with pytest.raises(ValueError, match="divisible by pool=3"):
        metrics.average_pool(images, 3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 2 images"):
        metrics.mean_pairwise_distance(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="same shape"):
        metrics.diversity_ratio(np.zeros((5, 8, 8, 1)), np.zeros((5, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"\(n, h, w, c\)"):
        metrics.diversity_ratio(np.zeros((5, 8, 8)), np.zeros((5, 8, 8)))
