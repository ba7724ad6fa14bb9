"""Generative adversarial networks: the article's dense generator and friends.

The article ("How Generative AI Works") shows this generator::

    model = Sequential()
    model.add(Dense(256, input_dim=100))
    model.add(LeakyReLU(alpha=0.2))
    ...
    model.add(Dense(28 * 28 * 1, activation='tanh'))
    model.add(Reshape((28, 28, 1)))

:func:`build_generator` builds exactly that network in Keras 3 spelling (an
explicit ``keras.Input`` instead of ``input_dim``, ``negative_slope`` instead of
``alpha``). :class:`GAN` trains it against a discriminator with ``fit()``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from keras_gen import _checks
from keras_gen._compile import TwoOptimizerConfig
from keras_gen._nested import NestedConfig
from keras_gen._train_step import (
    bce_with_logits,
    per_replica,
    training_noise,
    xla_by_default,
)

#: The LeakyReLU slope the article uses for negative inputs.
LEAKY_SLOPE = 0.2


def _check_latent_dim(latent_dim) -> int:
    return _checks.check_int("latent_dim", latent_dim, minimum=1)


def build_generator(
    latent_dim: int = 100, image_shape: Sequence[int] = (28, 28, 1)
) -> keras.Sequential:
    """Build the article's dense GAN generator.

    Three Dense layers of 256, 512 and 1024 units, each followed by LeakyReLU
    with slope 0.2, then a Dense layer with one ``tanh`` output per pixel
    (pixels live in [-1, 1]) and a Reshape to the image shape. At the defaults
    it has 1,486,352 parameters::

        100*256+256 + 256*512+512 + 512*1024+1024 + 1024*784+784 = 1,486,352

    Args:
        latent_dim: Length of the noise vector ``z`` the generator maps to an
            image.
        image_shape: ``(height, width, channels)`` of the generated images.

    Returns:
        An uncompiled ``keras.Sequential`` mapping ``(batch, latent_dim)`` to
        ``(batch, *image_shape)``.

    Raises:
        ValueError: If ``latent_dim`` is not a positive int or ``image_shape``
            is not three positive ints.

    Example:
        >>> generator = build_generator()
        >>> generator.count_params()
        1486352
        >>> generator(np.zeros((2, 100))).shape
        TensorShape([2, 28, 28, 1])
    """
    latent_dim = _check_latent_dim(latent_dim)
    image_shape = _checks.check_image_shape(image_shape)
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),  # (batch, latent_dim)
            layers.Dense(256, name="dense_256"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_1"),
            layers.Dense(512, name="dense_512"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_2"),
            layers.Dense(1024, name="dense_1024"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_3"),
            # (batch, h*w*c): one tanh output per pixel, in [-1, 1]
            layers.Dense(math.prod(image_shape), activation="tanh", name="to_pixels"),
            layers.Reshape(image_shape, name="to_image"),  # (batch, h, w, c)
        ],
        name="generator",
    )


def build_discriminator(image_shape: Sequence[int] = (28, 28, 1)) -> keras.Sequential:
    """Build a dense discriminator that mirrors the article's generator.

    It flattens the image and narrows 512 -> 256 -> 1. The last layer has no
    sigmoid: it returns a *logit*, and the losses apply the sigmoid inside a
    numerically stable formula.

    Args:
        image_shape: ``(height, width, channels)`` of the images to judge.

    Returns:
        An uncompiled ``keras.Sequential`` mapping ``(batch, *image_shape)`` to
        real-vs-fake logits ``(batch, 1)``; 533,505 parameters at 28x28x1.

    Example:
        >>> build_discriminator().count_params()
        533505
    """
    image_shape = _checks.check_image_shape(image_shape)
    return keras.Sequential(
        [
            keras.Input(shape=image_shape),  # (batch, h, w, c)
            layers.Flatten(name="flatten"),  # (batch, h*w*c)
            layers.Dense(512, name="dense_512"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_1"),
            layers.Dense(256, name="dense_256"),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name="leaky_relu_2"),
            layers.Dense(1, name="logit"),  # (batch, 1)
        ],
        name="discriminator",
    )


def build_dcgan_generator(
    latent_dim: int = 100,
    image_shape: Sequence[int] = (28, 28, 1),
    base_filters: int = 32,
) -> keras.Sequential:
    """Build a small convolutional (DCGAN-style) generator, the next step.

    Instead of predicting every pixel independently from one big Dense layer,
    it starts from a ``(h/4, w/4, 2*base_filters)`` feature map and upsamples
    twice with transposed convolutions, so nearby pixels share weights.

    Args:
        latent_dim: Length of the noise vector.
        image_shape: ``(height, width, channels)``; height and width must be
            divisible by 4.
        base_filters: Width of the last hidden feature map.

    Returns:
        An uncompiled ``keras.Sequential``, ``(batch, latent_dim)`` to
        ``(batch, *image_shape)``.

    Example:
        >>> build_dcgan_generator()(np.zeros((1, 100))).shape
        TensorShape([1, 28, 28, 1])
    """
    latent_dim = _check_latent_dim(latent_dim)
    _checks.check_int("base_filters", base_filters, minimum=1)
    height, width, channels = _checks.check_image_shape(image_shape)
    if height % 4 or width % 4:
        raise ValueError(
            "Expected image height and width divisible by 4 (two 2x upsamplings). "
            f"Received: image_shape={tuple(image_shape)!r}"
        )
    start = (height // 4, width // 4, 2 * base_filters)
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(math.prod(start), use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE),
            layers.Reshape(start),  # (batch, h/4, w/4, 2f)
            layers.Conv2DTranspose(
                base_filters, 4, strides=2, padding="same", use_bias=False
            ),  # (batch, h/2, w/2, f)
            layers.BatchNormalization(),
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE),
            layers.Conv2DTranspose(
                channels, 4, strides=2, padding="same", activation="tanh"
            ),  # (batch, h, w, c)
        ],
        name="dcgan_generator",
    )


def build_dcgan_discriminator(
    image_shape: Sequence[int] = (28, 28, 1), base_filters: int = 32
) -> keras.Sequential:
    """Build a small convolutional discriminator to pair with the DCGAN generator.

    Args:
        image_shape: ``(height, width, channels)`` of the images to judge.
        base_filters: Filters of the first convolution (doubled in the second).

    Returns:
        An uncompiled ``keras.Sequential`` returning logits ``(batch, 1)``.

    Example:
        >>> build_dcgan_discriminator()(np.zeros((1, 28, 28, 1))).shape
        TensorShape([1, 1])
    """
    image_shape = _checks.check_image_shape(image_shape)
    _checks.check_int("base_filters", base_filters, minimum=1)
    return keras.Sequential(
        [
            keras.Input(shape=image_shape),
            layers.Conv2D(
                base_filters, 4, strides=2, padding="same"
            ),  # (b, h/2, w/2, f)
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE),
            layers.Conv2D(2 * base_filters, 4, strides=2, padding="same"),  # h/4, w/4
            layers.LeakyReLU(negative_slope=LEAKY_SLOPE),
            layers.Flatten(),
            layers.Dropout(0.3),
            layers.Dense(1),  # (batch, 1) logit
        ],
        name="dcgan_discriminator",
    )


def latent_vectors(n: int, latent_dim: int = 100, seed: int = 0) -> np.ndarray:
    """Draw ``n`` standard-normal latent vectors, reproducibly.

    Uses NumPy's generator so the same seed gives the same vectors on every
    backend and machine.

    Args:
        n: How many vectors.
        latent_dim: Length of each vector.
        seed: Random seed.

    Returns:
        float32 array ``(n, latent_dim)``.

    Example:
        >>> latent_vectors(2, 3, seed=0).shape
        (2, 3)
    """
    n = _checks.check_int("n", n, minimum=1)
    latent_dim = _check_latent_dim(latent_dim)
    rng = np.random.default_rng(_checks.check_seed("seed", seed))
    return rng.standard_normal((n, latent_dim)).astype("float32")


@keras.saving.register_keras_serializable(package="keras_gen")
class GAN(NestedConfig, TwoOptimizerConfig, keras.Model):
    """A generator and a discriminator trained against each other with ``fit()``.

    Each step (Goodfellow et al., 2014, with the non-saturating generator loss):

    1. the discriminator sees a batch of real images and as many fakes, and
       learns to give real ones high logits and fakes low ones;
    2. the generator makes a fresh batch of fakes and learns to make the
       (just updated) discriminator call them real.

    ``fit()`` reports ``d_loss``, ``g_loss`` and the discriminator's mean
    probabilities ``d_real`` (on real images) and ``d_fake`` (on fakes).

    Backends: the training step is TensorFlow-only (``tf.GradientTape`` with
    two optimizers; Keras 3 has no backend-neutral tape, and the
    backend-neutral route, :meth:`compute_loss` under Keras' own
    ``train_step``, gives one loss to one optimizer), so ``fit()`` needs
    ``KERAS_BACKEND=tensorflow``; the networks themselves are plain Keras and
    generate on any backend. It trains correctly under
    ``tf.distribute.MirroredStrategy``: build and compile the GAN inside
    ``strategy.scope()`` and batch the data at the global batch size
    (``tests/test_distribute.py`` checks that two replicas match one device).

    Args:
        generator: Model mapping ``(batch, latent_dim)`` to images.
        discriminator: Model mapping images to logits ``(batch, 1)``.
        latent_dim: Noise length; read from the generator when omitted.
        seed: Seed for the training noise, so runs repeat exactly.
        **kwargs: Passed to ``keras.Model`` (``name`` ...).

    Example:
        >>> gan = GAN(build_generator(), build_discriminator(), seed=0)
        >>> gan.compile(run_eagerly=True, jit_compile=False)  # 2 steps: no graph
        >>> images = np.zeros((256, 28, 28, 1), "float32")
        >>> history = gan.fit(images, batch_size=128, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['d_fake', 'd_loss', 'd_real', 'g_loss']
    """

    NESTED = ("generator", "discriminator")

    def __init__(self, generator, discriminator, latent_dim=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        inferred = int(generator.input_shape[-1])
        if latent_dim is None:
            latent_dim = inferred
        self.latent_dim = _check_latent_dim(latent_dim)
        if self.latent_dim != inferred:
            raise ValueError(
                f"Expected latent_dim to match the generator's input size {inferred}. "
                f"Received: latent_dim={latent_dim}"
            )
        self.image_shape = tuple(int(d) for d in generator.output_shape[1:])
        judged = tuple(discriminator.input_shape[1:])
        if len(judged) != len(self.image_shape) or any(
            d is not None and int(d) != g
            for d, g in zip(judged, self.image_shape, strict=False)
        ):
            raise ValueError(
                "Expected the discriminator to take the generator's images, of "
                f"shape {self.image_shape}. Received: a discriminator whose input "
                f"shape is {judged}. Build both for the same image_shape."
            )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        # Both sub-models are already built, so this model is too.
        self.built = True

    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        jit_compile="auto",
        **kwargs,
    ):
        """Configure the two optimizers.

        Args:
            d_optimizer: Discriminator optimizer; default
                ``Adam(2e-4, beta_1=0.5)``, the DCGAN paper's setting.
            g_optimizer: Generator optimizer; same default.
            jit_compile: Compile the train step with XLA. ``"auto"`` (the
                default) turns it on for dense networks and off for
                convolutional ones: ``benchmarks/gan_throughput.py`` measures
                XLA faster for the article's dense GAN on CPU and several times
                slower for the DCGAN pair (TensorFlow 2.21). Keras' own
                ``"auto"`` would always switch it off on a CPU. Off under a
                ``tf.distribute`` strategy with several replicas, where XLA
                fails.
            **kwargs: Passed to ``keras.Model.compile``.
        """
        if jit_compile == "auto":
            jit_compile = xla_by_default(self.generator, self.discriminator)
        super().compile(jit_compile=jit_compile, **kwargs)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)

    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
        ]

    def call(self, latent, training=False):
        """Generate images from latent vectors ``(batch, latent_dim)``."""
        return self.generator(latent, training=training)

    def train_step(self, data):
        # TensorFlow directly: Keras 3 has no backend-neutral GradientTape, and
        # a custom train_step with two optimizers needs one (keras.io's
        # "Customizing fit() with TensorFlow" guide does the same).
        import tensorflow as tf

        real_images = data[0] if isinstance(data, (tuple, list)) else data
        _checks.check_batch_shape("images", real_images, self.image_shape)
        batch_size = ops.shape(real_images)[0]

        # 1. Discriminator step: real images -> 1, fakes -> 0.
        noise = training_noise(
            (batch_size, self.latent_dim), self.seed_generator
        )  # (batch, latent_dim)
        fake_images = self.generator(noise, training=True)  # (batch, h, w, c)
        with tf.GradientTape() as tape:
            # One pass over real and fake together: a bigger matmul is faster.
            logits = self.discriminator(
                ops.concatenate([real_images, fake_images], axis=0), training=True
            )  # (2*batch, 1)
            real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
            d_loss = bce_with_logits(real_logits, True) + bce_with_logits(
                fake_logits, False
            )
            scaled_loss = per_replica(d_loss)  # inside the tape: it is recorded
        grads = tape.gradient(scaled_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(
            zip(grads, self.discriminator.trainable_weights, strict=True)
        )

        # 2. Generator step: make the discriminator say "real" to new fakes.
        noise = training_noise((batch_size, self.latent_dim), self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits_g = self.discriminator(
                self.generator(noise, training=True), training=True
            )
            # Non-saturating loss: maximise log D(G(z)) rather than minimise
            # log(1 - D(G(z))), whose gradient vanishes early in training.
            g_loss = bce_with_logits(fake_logits_g, True)
            scaled_loss = per_replica(g_loss)
        grads = tape.gradient(scaled_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(
            zip(grads, self.generator.trainable_weights, strict=True)
        )

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.d_real_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.d_fake_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}

    def generate(self, n: int, seed: int = 0) -> np.ndarray:
        """Draw ``n`` images from fixed latent vectors.

        Args:
            n: Number of images.
            seed: Seed of the latent vectors; the same seed and weights give
                the same images.

        Returns:
            float32 NumPy array ``(n, *image_shape)`` in [-1, 1].
        """
        latents = latent_vectors(n, self.latent_dim, seed=seed)
        return keras.ops.convert_to_numpy(self.generator(latents, training=False))

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
        }


class SampleGrid(keras.callbacks.Callback):
    """Keep (and optionally save) a sample grid from fixed latents every epoch.

    Fixed latent vectors make the grids comparable: the same ``z`` is drawn at
    every epoch, so the pictures show how the *generator* changes.

    Args:
        latents: Fixed latent vectors ``(n, latent_dim)``; e.g.
            ``latent_vectors(16, 100, seed=0)``.
        out_dir: If given, each grid is written there as
            ``samples_epoch_{epoch:03d}.png``.
        every: Record one grid every ``every`` epochs.

    Attributes:
        grids: ``{epoch: images}`` with images ``(n, h, w, c)`` in [-1, 1];
            epoch 0 is the untrained generator.

    Example:
        >>> callback = SampleGrid(latent_vectors(16, 100))
        >>> # gan.fit(dataset, epochs=5, callbacks=[callback])
    """

    def __init__(self, latents, out_dir=None, every: int = 1):
        super().__init__()
        every = _checks.check_int("every", every, minimum=1)
        self.latents = np.asarray(latents, dtype="float32")
        self.out_dir = out_dir
        self.every = every
        self.grids = {}

    def _generator(self):
        return getattr(self.model, "generator", self.model)

    def _record(self, epoch: int):
        images = keras.ops.convert_to_numpy(
            self._generator()(self.latents, training=False)
        )
        self.grids[epoch] = images
        if self.out_dir is not None:
            from keras_gen.plotting import save_image_grid

            os.makedirs(self.out_dir, exist_ok=True)
            path = os.path.join(self.out_dir, f"samples_epoch_{epoch:03d}.png")
            save_image_grid(images, path, title=f"epoch {epoch}")

    def on_train_begin(self, logs=None):
        if 0 not in self.grids:
            self._record(0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            self._record(epoch + 1)
