"""Solutions to the exercises of notebook 01 (what is generative AI).

Run ``python -m solutions.nb01`` to print the answers this run observes.
"""

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


def ring_gap_share(n_components: int, steps: int = 100, n_samples: int = 2000):
    """Exercise 1: the share of samples that fall between the ring's blobs.

    A sample counts as "between blobs" when it lies more than 4 standard
    deviations of the blobs' noise from every blob centre (real data: 0.03%).

    Returns:
        ``(share of the mixture's samples between blobs, held-out log p(x))``.
    """
    train, _ = make_toy_2d("ring", n=2000, seed=0)
    held_out, _ = make_toy_2d("ring", n=1000, seed=1)
    model = GaussianMixture(n_components, seed=0).fit(train, steps=steps)
    between = between_blobs(model.sample(n_samples, seed=2))
    return between, float(model.log_density(held_out).mean())


def between_blobs(points) -> float:
    """Share of ``points`` more than 4 noise deviations from every ring blob."""
    angles = np.arange(8) * np.pi / 4
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (8, 2)
    distance = np.linalg.norm(points[:, None] - centres[None], axis=-1).min(axis=1)
    return float(np.mean(distance > 4 * RING_NOISE))


#: The noise of make_toy_2d's default, which the ring uses here.
RING_NOISE = 0.08


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


def main(steps: int = 100, epochs: int = 200) -> None:
    """Print each exercise's answer as this run observes it."""
    real = between_blobs(make_toy_2d("ring", n=1000, seed=1)[0])
    print(f"1. the 8-blob ring: {real:.1%} of real points lie between blobs")
    shares = {}
    for k in (4, 8):
        shares[k], held_out = ring_gap_share(k, steps=steps)
        print(
            f"   k={k}: {shares[k]:.1%} of samples between blobs, "
            f"held-out {held_out:.3f} nats/point"
        )
    print(
        f"   With k=4 each Gaussian stretches over neighbouring blobs: "
        f"{shares[4] / max(shares[8], 1e-4):.0f}x as many samples land in the gaps "
        "as with k=8, points the data never has."
    )

    best = {n: best_components(n, steps=steps) for n in (300, 2000)}
    change = "rises" if best[2000] > best[300] else (
        "falls" if best[2000] < best[300] else "does not change"
    )
    print(
        f"2. best k on held-out data: {best[300]} with 300 training points, "
        f"{best[2000]} with 2,000: it {change}."
    )
    if best[2000] > best[300]:
        print(
            "   More points give each extra Gaussian enough data to fit real shape "
            "instead of memorising a few points."
        )

    discriminative, generative = few_label_accuracies(20, epochs=epochs)
    print(
        f"3. 20 labelled points: network {discriminative:.3f}, "
        f"Bayes' rule {generative:.3f} held-out accuracy"
    )


if __name__ == "__main__":
    main()
