"""Solutions to the exercises of notebook 03 (VAE).

Run ``python -m solutions.nb03`` to print the answers this run observes (about
two minutes on a 2-core CPU).
"""

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
        "frechet": Fréchet distance, "steps": steps trained}}``. The ELBO
        rewards sharp reconstructions, the Fréchet distance samples drawn from
        the prior, so the two can rank the models differently; :func:`main`
        prints both orders.
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
            "frechet": report.frechet,
            "steps": budget.steps,
        }
    return results


def main(
    seconds: float = 30.0,
    n_samples: int = 1000,
    subset=None,
    floor_sizes=(250, 500, 1000, 2000),
    latent_sizes=(2, 8, 32),
) -> None:
    """Print each exercise's answer as this run observes it.

    Args:
        seconds: Training time of each VAE in exercise 3.
        n_samples: Samples per quality score in exercise 3.
        subset: Training images to use (``None``: all 60,000).
        floor_sizes: Sample counts for exercise 2.
        latent_sizes: Latent sizes for exercise 3.
    """
    model = coin_flip_vae()
    test, _ = data.load_images("fashion_mnist", "test")
    measured = metrics.evaluate_elbo(model, test[:500])
    print(
        f"1. coin-flip VAE: {measured:.1f} nats per image measured, "
        f"784 ln 2 = {COIN_FLIP_NATS:.1f} by hand"
    )

    floors = floor_by_sample_size(floor_sizes)
    print("2. real-data floor by sample count n:")
    for n, floor in floors.items():
        print(f"   n={n:5}: floor {floor:6.2f}   floor x n = {floor * n:7.0f}")
    products = [floor * n for n, floor in floors.items()]
    first, last = min(floors), max(floors)
    print(
        f"   The floor falls {floors[first] / floors[last]:.1f}x from n={first} to "
        f"n={last} while floor x n stays within {min(products):.0f}-"
        f"{max(products):.0f}: it shrinks roughly like 1/n, the way the noise of "
        "an estimated mean and covariance does. Scores at different n (or with "
        "another feature network) cannot be compared."
    )

    results = compare_latent_sizes(
        latent_sizes, seconds=seconds, n_samples=n_samples, subset=subset
    )
    print(f"3. dense VAEs, {seconds:.0f} s each, {n_samples} samples per score:")
    for latent_dim, result in results.items():
        print(
            f"   z={latent_dim:3}: {result['steps']:5} steps, test -ELBO "
            f"{result['elbo']:6.1f}, Fréchet {result['frechet']:6.1f}"
        )
    by_elbo = sorted(results, key=lambda z: results[z]["elbo"])
    by_frechet = sorted(results, key=lambda z: results[z]["frechet"])
    verdict = (
        "the same order: here the better ELBO did give the better score"
        if by_elbo == by_frechet
        else "different orders: a better ELBO did not always give a better score"
    )
    print(
        f"   best to worst by ELBO: z={by_elbo}; by Fréchet: z={by_frechet}: "
        f"{verdict}."
    )


if __name__ == "__main__":
    main()
