"""The exercise solutions run and say what the notebooks claim."""

import numpy as np

from keras_gen.gan import build_generator
from solutions import nb00, nb01, nb02


def test_nb00_solutions():
    assert nb00.mnist_search_places() == ["keras cache"]
    assert nb00.generator_parameters(64) == build_generator(64).count_params()
    assert nb00.generator_parameters(100) == 1_486_352
    speeds = nb00.matmul_speeds((64, 256))
    assert set(speeds) == {64, 256} and min(speeds.values()) > 0


def test_nb01_ring_needs_eight_components():
    assert nb01.ring_held_out_likelihood(8, steps=40) > nb01.ring_held_out_likelihood(
        4, steps=40
    )


def test_nb01_best_components_and_few_labels():
    assert nb01.best_components(300, ks=(1, 8), steps=30) == 8
    discriminative, generative = nb01.few_label_accuracies(20, epochs=50)
    assert 0.5 < discriminative <= 1.0 and 0.5 < generative <= 1.0


def test_nb02_solutions(fashion_test):
    images = fashion_test[0][:512]
    model, history, diversity = nb02.train_gan(images, epochs=1, latent_dim=2)
    assert np.isfinite(history["g_loss"][-1]) and diversity > 0
    assert nb02.latent_map(model.generator, n=3).shape == (9, 28, 28, 1)
    assert nb02.wide_generator().count_params() == 4_282_640
