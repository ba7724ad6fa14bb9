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
