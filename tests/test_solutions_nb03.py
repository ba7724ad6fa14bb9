import numpy as np
import pytest

from keras_gen import metrics
from solutions import nb03


def test_coin_flip_vae_costs_784_ln_2(fashion_test):
    model = nb03.coin_flip_vae()
    assert nb03.COIN_FLIP_NATS == pytest.approx(543.4, abs=0.05)
    assert metrics.evaluate_elbo(model, fashion_test[0][:50]) == pytest.approx(
        nb03.COIN_FLIP_NATS, rel=1e-6
    )


def test_floor_falls_with_more_samples(fashion_test):
    floors = nb03.floor_by_sample_size((128, 512, 2000))
    assert floors[128] > floors[512] > floors[2000] > 0


def test_compare_latent_sizes_runs(fashion_test):
    results = nb03.compare_latent_sizes(
        sizes=(2, 4), seconds=1.0, n_samples=metrics.MIN_SAMPLES, subset=512
    )
    assert set(results) == {2, 4}
    for result in results.values():
        assert np.isfinite(result["elbo"]) and result["ratio"] > 0
        assert result["steps"] >= 1
