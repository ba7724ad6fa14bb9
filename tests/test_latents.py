"""keras_gen.latents: the spatial autoencoder of latent diffusion."""

import keras
import numpy as np
import pytest

from keras_gen.latents import (
    LatentAutoencoder,
    build_latent_autoencoder,
    build_latent_decoder,
    build_latent_encoder,
)


def _images(n=32, seed=0):
    rng = np.random.default_rng(seed)
    images = -np.ones((n, 28, 28, 1), "float32")
    for i in range(n):  # a bright rectangle of random size on black
        top, left = rng.integers(2, 10, 2)
        images[i, top : top + 12, left : left + rng.integers(6, 16)] = 0.8
    return images


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = build_latent_autoencoder(base_filters=8)
    # 4 steps, run eagerly: tracing the train step costs more than they do, and
    # they already cut the error to 0.13-0.17 of its start (seeds 0-2).
    model.compile(keras.optimizers.Adam(3e-3), run_eagerly=True)
    images = _images()
    before = float(np.mean(np.abs(model.predict(images, verbose=0) - images)))
    model.fit(images, images, batch_size=16, epochs=2, verbose=0)
    return model.fit_normalization(images), images, before


def test_training_lowers_the_reconstruction_error(trained):
    model, images, before = trained
    after = float(np.mean(np.abs(model.decode(model.encode(images)) - images)))
    assert after < 0.7 * before


def test_normalised_latents_have_unit_statistics(trained):
    model, images, _ = trained
    latents = model.encode(images)  # (32, 7, 7, 4)
    assert latents.shape == (32, 7, 7, 4)
    np.testing.assert_allclose(latents.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(latents.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_decode_inverts_the_normalisation(trained):
    model, images, _ = trained
    raw = model.decoder(model.encoder(images[:4]))
    np.testing.assert_allclose(
        model.decode(model.encode(images[:4])), np.asarray(raw), atol=1e-5
    )


def test_keras_round_trip_keeps_the_normalisation(trained, tmp_path):
    model, images, _ = trained
    path = str(tmp_path / "ae.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode on
    np.testing.assert_allclose(
        loaded.encode(images[:4]), model.encode(images[:4]), atol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(loaded.latent_std), np.asarray(model.latent_std)
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.encode(np.zeros((2, 28, 28))), "Expected images of shape"),
        (lambda m: m.decode(np.zeros((2, 7, 7, 3))), "Expected latents of shape"),
        (lambda m: m.encode(np.full((1, 28, 28, 1), np.nan)), "Expected finite"),
    ],
)
def test_bad_arrays_are_refused(trained, call, message):
    with pytest.raises(ValueError, match=message):
        call(trained[0])


def test_mismatched_parts_are_refused():
    with pytest.raises(ValueError, match="takes the encoder's latents"):
        LatentAutoencoder(
            build_latent_encoder(latent_channels=4, base_filters=8),
            build_latent_decoder((7, 7, 2), base_filters=8),
        )
    with pytest.raises(ValueError, match="divisible by 4"):
        build_latent_encoder((30, 30, 1))
