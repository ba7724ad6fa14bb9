import numpy as np
import pytest

from keras_gen.mixture import GaussianMixture


def test_one_component_recovers_mean_and_covariance():
    rng = np.random.default_rng(0)
    points = rng.multivariate_normal([1.0, -2.0], [[2.0, 0.5], [0.5, 1.0]], size=20000)
    model = GaussianMixture(1).fit(points, steps=2)
    np.testing.assert_allclose(model.means[0], [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(
        model.covariances[0], [[2.0, 0.5], [0.5, 1.0]], atol=0.05
    )


def test_log_density_matches_the_gaussian_formula():
    model = GaussianMixture(1).fit(np.random.default_rng(0).normal(size=(500, 2)), 1)
    model.means[:] = 0.0
    model.covariances[:] = np.eye(2)
    expected = -np.log(2 * np.pi) - 0.5 * (1.0**2 + 2.0**2)
    assert model.log_density(np.array([[1.0, 2.0]]))[0] == pytest.approx(expected)


def test_em_never_lowers_the_training_likelihood():
    points = np.random.default_rng(1).normal(size=(400, 2)) * [1, 3]
    history = GaussianMixture(4, seed=0).fit(points, steps=30).history
    assert all(b >= a - 1e-9 for a, b in zip(history, history[1:], strict=False))


def test_sampling_is_seeded_and_follows_the_weights():
    points = np.concatenate([np.zeros((900, 2)), np.full((100, 2), 10.0)])
    points += np.random.default_rng(0).normal(scale=0.1, size=points.shape)
    model = GaussianMixture(2, seed=0).fit(points, steps=20)
    a, b = model.sample(2000, seed=3), model.sample(2000, seed=3)
    np.testing.assert_array_equal(a, b)
    assert (a[:, 0] > 5).mean() == pytest.approx(0.1, abs=0.03)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Received: n_components=0"):
        GaussianMixture(0)
    with pytest.raises(ValueError, match=r"Received: shape=\(3, 2\)"):
        GaussianMixture(5).fit(np.zeros((3, 2)))
