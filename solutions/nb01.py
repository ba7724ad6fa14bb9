"""Solutions to the exercises of notebook 01 (what is generative AI)."""

from __future__ import annotations

import keras
import numpy as np

from keras_gen.data import make_toy_2d
from keras_gen.mixture import GaussianMixture


def ring_held_out_likelihood(n_components: int, steps: int = 100) -> float:
    """Exercise 1: mean held-out log p(x) of a mixture fitted to the 8-blob ring.

    With k = 4 some Gaussians must stretch over two blobs, wasting density on
    the empty space between them, so held-out likelihood is clearly lower.
    """
    train, _ = make_toy_2d("ring", n=2000, seed=0)
    held_out, _ = make_toy_2d("ring", n=1000, seed=1)
    model = GaussianMixture(n_components, seed=0).fit(train, steps=steps)
    return float(model.log_density(held_out).mean())


def best_components(n_train: int, ks=(1, 2, 4, 8, 16, 32), steps: int = 100) -> int:
    """Exercise 2: the k with the best held-out likelihood for a training size.

    More training points support more components before memorising sets in.
    """
    points, _ = make_toy_2d("moons", n=n_train, seed=0, noise=0.2)
    held_out, _ = make_toy_2d("moons", n=1000, seed=1, noise=0.2)
    scores = [
        GaussianMixture(k, seed=0).fit(points, steps=steps).log_density(held_out).mean()
        for k in ks
    ]
    return ks[int(np.argmax(scores))]


def few_label_accuracies(n_labelled: int = 20, epochs: int = 200, seed: int = 0):
    """Exercise 3: network vs Bayes'-rule classifier trained on a few labels.

    Returns:
        ``(discriminative accuracy, generative accuracy)`` on 1,000 held-out points.
    """
    points, labels = make_toy_2d("moons", n=n_labelled, seed=seed, noise=0.2)
    held_out, held_out_labels = make_toy_2d("moons", n=1000, seed=1, noise=0.2)
    keras.utils.set_random_seed(seed)
    network = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    network.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    network.fit(points, labels, epochs=epochs, verbose=0)
    predicted = network.predict(held_out, verbose=0)[:, 0] > 0.5
    discriminative = float((predicted == held_out_labels).mean())

    # One Gaussian per class: few points cannot support more components.
    scores = np.stack(
        [
            GaussianMixture(1, seed=0)
            .fit(points[labels == c], steps=20)
            .log_density(held_out)
            + np.log((labels == c).mean())
            for c in (0, 1)
        ],
        axis=1,
    )
    generative = float((scores.argmax(1) == held_out_labels).mean())
    return discriminative, generative
