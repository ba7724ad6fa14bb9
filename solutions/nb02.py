"""Solutions to the exercises of notebook 02 (GAN).

Run ``python -m solutions.nb02`` to print the answers this run observes (a few
minutes on a 2-core CPU).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_gen import data, gan, metrics


def latent_map(generator, n: int = 10, span: float = 2.0) -> np.ndarray:
    """Exercise 1: decode an n x n grid of 2-D latent vectors in [-span, span]^2.

    Returns:
        Images ``(n*n, h, w, c)``, row by row (draw with ``plotting.image_grid``).
    """
    if generator.input_shape[-1] != 2:
        raise ValueError(
            "Expected a generator with latent_dim=2. "
            f"Received: latent_dim={generator.input_shape[-1]}"
        )
    axis = np.linspace(-span, span, n, dtype="float32")
    grid = np.stack(np.meshgrid(axis, axis[::-1]), axis=-1).reshape(-1, 2)
    return generator.predict(grid, verbose=0)


def neighbouring_classes(generator, n: int = 10, span: float = 2.0, top: int = 5):
    """Exercise 1: which classes sit next to each other on the 2-D latent map.

    The quality classifier names the image at every grid point; neighbouring
    grid points (right and below) with different names are counted per pair.

    Returns:
        ``(class name grid (n, n), [((class a, class b), count), ...])``, the
        ``top`` most frequent neighbouring pairs first.
    """
    from collections import Counter

    from keras_gen import classifier

    predicted = classifier.features_and_predictions(latent_map(generator, n, span))[1]
    names = np.array(data.class_names())[predicted].reshape(n, n)
    pairs = Counter()
    for here, right_or_below in (
        (names[:, :-1], names[:, 1:]),
        (names[:-1, :], names[1:, :]),
    ):
        for a, b in zip(here.ravel(), right_or_below.ravel(), strict=True):
            if a != b:
                pairs[tuple(sorted((a, b)))] += 1
    return names, pairs.most_common(top)


def train_gan(images, epochs: int, latent_dim: int = 100, d_learning_rate=2e-4):
    """Train the article's GAN; shared by exercises 1 and 2.

    Returns:
        ``(trained GAN, history dict, diversity ratio against the images)``.
    """
    keras.utils.set_random_seed(0)
    model = gan.GAN(
        gan.build_generator(latent_dim=latent_dim), gan.build_discriminator(), seed=0
    )
    model.compile(d_optimizer=keras.optimizers.Adam(d_learning_rate, beta_1=0.5))
    history = model.fit(data.make_image_dataset(images), epochs=epochs, verbose=0)
    diversity = metrics.diversity_ratio(model.generate(200, seed=1), images[:200])
    return model, history.history, diversity


def wide_generator(latent_dim: int = 100) -> keras.Sequential:
    """Exercise 3: the article's generator with every hidden layer twice as wide.

    By hand: (100*512+512) + (512*1024+1024) + (1024*2048+2048) + (2048*784+784)
    = 51,712 + 525,312 + 2,099,200 + 1,606,416 = 4,282,640 parameters.
    """
    hidden = []
    for units in (512, 1024, 2048):
        hidden += [
            keras.layers.Dense(units),
            keras.layers.LeakyReLU(negative_slope=0.2),
        ]
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            *hidden,
            keras.layers.Dense(784, activation="tanh"),
            keras.layers.Reshape((28, 28, 1)),
        ]
    )


def main(n_images: int = 20_000, epochs: int = 5) -> None:
    """Print each exercise's answer as this run observes it."""
    images, _ = data.load_images("fashion_mnist", "train")
    images = images[:n_images]

    model, _, _ = train_gan(images, epochs, latent_dim=2)
    names, pairs = neighbouring_classes(model.generator)
    print(f"1. latent_dim=2, {epochs} epochs on {len(images):,} images; class map:")
    for row in names:
        print("   " + " ".join(f"{name[:7]:7}" for name in row))
    print("   classes that sit next to each other most often:")
    for (a, b), count in pairs:
        print(f"   {a} / {b}: {count} neighbouring grid points")
    if not pairs:
        print("   none: the whole map is one class (train longer)")

    runs = {}
    for name, rate in (("normal", 2e-4), ("10x slower", 2e-5)):
        _, history, diversity = train_gan(images, epochs, d_learning_rate=rate)
        runs[name] = (history["d_real"][-1], history["d_fake"][-1], diversity)
        print(
            f"2. discriminator {name:10} (lr {rate:g}): d_real {runs[name][0]:.3f}, "
            f"d_fake {runs[name][1]:.3f}, diversity ratio {diversity:.2f}"
        )
    gap = {name: real - fake for name, (real, fake, _) in runs.items()}
    tell = "less" if gap["10x slower"] < gap["normal"] else "more"
    print(
        f"   With the slow discriminator, d_real - d_fake is {gap['10x slower']:.3f} "
        f"against {gap['normal']:.3f}: it tells real from fake {tell} well, "
        f"so the generator's signal "
        f"{'weakens' if tell == 'less' else 'stays strong'}; the diversity ratio "
        f"goes from {runs['normal'][2]:.2f} to {runs['10x slower'][2]:.2f}"
        + (
            ": mode collapse, nearly one image for every z."
            if runs["10x slower"][2] < 0.2 <= runs["normal"][2]
            else "."
        )
    )

    wide = wide_generator()
    print(f"3. twice as wide: {wide.count_params():,} parameters from count_params()")


if __name__ == "__main__":
    main()
