"""Solutions to the exercises of notebook 03 (VAE)."""

from __future__ import annotations

import math

import keras
import numpy as np

from keras_gen import data, metrics, vae
from keras_gen.callbacks import TimeBudget


def coin_flip_vae(latent_dim: int = 2) -> vae.VAE:
    """Exercise 1: a VAE whose encoder returns the prior and decoder logit 0.

    By hand: the KL of N(0, I) from N(0, I) is 0, and every pixel costs
    ``softplus(0) - t * 0 = ln 2`` nats whatever its value ``t``, so the negative
    ELBO of any 28x28 image is ``784 ln 2 = 543.4`` nats.
    """
    encoder = vae.build_encoder(latent_dim)
    decoder = vae.build_decoder(latent_dim)
    for model in (encoder, decoder):
        for weight in model.weights:
            weight.assign(np.zeros(weight.shape, "float32"))
    return vae.VAE(encoder, decoder)


#: Exercise 1's hand-computed answer, in nats per image.
COIN_FLIP_NATS = 784 * math.log(2)


def floor_by_sample_size(sizes=(250, 500, 1000, 2000), seed: int = 0) -> dict:
    """Exercise 2: the real-data floor at several sample sizes.

    The floor falls as n grows: a covariance estimated from few samples is
    noisy, and two noisy estimates differ even when the data do not. Scores
    are only comparable at the same n (and the same feature network).
    """
    return {n: metrics.real_data_floor(n, seed=seed) for n in sizes}


def compare_latent_sizes(
    sizes=(2, 8, 32), seconds: float = 30.0, n_samples: int = 1000, subset=None
) -> dict:
    """Exercise 3: dense VAEs of several latent sizes on one time budget.

    Returns:
        ``{latent_dim: {"elbo": test -ELBO, "ratio": Fréchet / floor,
        "steps": steps trained}}``. A bigger code usually buys a much better
        ELBO (sharper reconstructions) before it buys a better ratio: samples
        from the prior only improve once the codes fill it.
    """
    train, _ = data.load_images("fashion_mnist", "train")
    test, _ = data.load_images("fashion_mnist", "test")
    dataset = data.make_image_dataset(train, subset=subset, seed=0).repeat()
    results = {}
    for latent_dim in sizes:
        keras.utils.set_random_seed(0)
        model = vae.VAE(
            vae.build_encoder(latent_dim), vae.build_decoder(latent_dim), seed=0
        )
        model.compile()
        budget = TimeBudget(seconds)
        model.fit(
            dataset, steps_per_epoch=50, epochs=10_000, callbacks=[budget], verbose=0
        )
        report = metrics.image_quality(model.generate(n_samples, seed=1))
        results[latent_dim] = {
            "elbo": metrics.evaluate_elbo(model, test[:2000]),
            "ratio": report.ratio,
            "steps": budget.steps,
        }
    return results
