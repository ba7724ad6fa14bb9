"""Solutions to the exercises of notebook 02 (GAN)."""

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
