"""Class-conditional generators: ask for a sandal, get a sandal.

The GAN of :mod:`keras_gen.gan` and the VAE of :mod:`keras_gen.vae` draw *some*
garment, and which one is left to chance. A conditional model is told the class
as well (Mirza & Osindero, 2014, "Conditional Generative Adversarial Nets";
Sohn et al., 2015, the conditional VAE), so the learner chooses what it draws.

How the class goes in: as a one-hot vector of ``num_classes`` numbers,
concatenated

- to the generator's noise: the generator is the article's dense generator
  (:func:`keras_gen.gan.build_generator`) with ``latent_dim + num_classes``
  inputs;
- to the flattened image the discriminator judges, so it learns "is this a real
  *sandal*?", not only "is this real?";
- to the flattened image the encoder reads and to the latent ``z`` the decoder
  reads (the decoder is :func:`keras_gen.vae.build_decoder` with
  ``latent_dim + num_classes`` inputs).

:func:`generate` turns class ids (or names such as ``"Sandal"``) into images;
:func:`interpolate` walks from one design to another. Their quality is measured
by :mod:`keras_gen.adherence`; :func:`save_designer` and :func:`load_designer`
keep a trained one as a model folder (the project ships one).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from keras_gen import _checks, data, model_folder
from keras_gen._compile import OneOptimizerConfig, TwoOptimizerConfig
from keras_gen._files import data_path
from keras_gen._nested import NestedConfig
from keras_gen._train_step import (
    bce_with_logits,
    per_replica,
    training_noise,
    xla_by_default,
)
from keras_gen.gan import LEAKY_SLOPE, build_generator, latent_vectors
from keras_gen.plotting import interpolate_latents
from keras_gen.vae import (
    Sampling,
    build_decoder,
    kl_nats,
    latent_heads,
    reconstruction_nats,
)

#: Fashion-MNIST's ten classes, indexed by label (from :mod:`keras_gen.data`).
CLASS_NAMES = data.class_names("fashion_mnist")


def _check_latent_dim(latent_dim) -> int:
    return _checks.check_int("latent_dim", latent_dim, minimum=1)


def _check_num_classes(num_classes) -> int:
    return _checks.check_int("num_classes", num_classes, minimum=2)


def build_conditional_generator(
    latent_dim: int = 32,
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
) -> keras.Model:
    """The article's dense generator, fed noise and a one-hot class together.

    Args:
        latent_dim: Length of the noise vector.
        num_classes: Length of the one-hot class vector.
        image_shape: ``(height, width, channels)`` of the images.

    Returns:
        A ``keras.Model`` mapping ``[noise (batch, latent_dim), one_hot (batch,
        num_classes)]`` to images ``(batch, *image_shape)`` in [-1, 1].

    Example:
        >>> generator = build_conditional_generator(32)
        >>> generator([np.zeros((2, 32)), np.eye(10)[:2]]).shape
        TensorShape([2, 28, 28, 1])
    """
    latent_dim = _check_latent_dim(latent_dim)
    num_classes = _check_num_classes(num_classes)
    image_shape = _checks.check_image_shape(image_shape)
    noise = keras.Input(shape=(latent_dim,), name="noise")
    one_hot = keras.Input(shape=(num_classes,), name="one_hot")
    both = layers.Concatenate(name="noise_and_class")([noise, one_hot])  # (b, z+C)
    images = build_generator(latent_dim + num_classes, image_shape)(both)
    return keras.Model([noise, one_hot], images, name="conditional_generator")


def _image_and_class(image_shape, num_classes):
    images = keras.Input(shape=image_shape, name="images")  # (batch, h, w, c)
    one_hot = keras.Input(shape=(num_classes,), name="one_hot")
    flat = layers.Flatten(name="flatten")(images)  # (batch, h*w*c)
    both = layers.Concatenate(name="image_and_class")([flat, one_hot])  # (b, hwc+C)
    return [images, one_hot], both


def _dense_stack(hidden, hidden_units):
    for index, units in enumerate(hidden_units, start=1):
        hidden = layers.Dense(units, name=f"dense_{index}_{units}")(hidden)
        hidden = layers.LeakyReLU(
            negative_slope=LEAKY_SLOPE, name=f"leaky_relu_{index}"
        )(hidden)
    return hidden


def build_conditional_discriminator(
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (512, 256),
) -> keras.Model:
    """A dense discriminator that reads the image and the class it should be.

    The layers of :func:`keras_gen.gan.build_discriminator`, with the one-hot
    class concatenated to the flattened image.

    Args:
        num_classes: Length of the one-hot class vector.
        image_shape: ``(height, width, channels)`` of the images.
        hidden_units: Widths of the hidden Dense layers.

    Returns:
        A ``keras.Model`` mapping ``[images, one_hot]`` to logits ``(batch, 1)``.

    Example:
        >>> build_conditional_discriminator().count_params()  # 5,120 more
        538625
    """
    num_classes = _check_num_classes(num_classes)
    image_shape = _checks.check_image_shape(image_shape)
    inputs, both = _image_and_class(image_shape, num_classes)
    hidden = _dense_stack(both, _checks.check_hidden_units(hidden_units))
    logit = layers.Dense(1, name="logit")(hidden)  # (batch, 1)
    return keras.Model(inputs, logit, name="conditional_discriminator")


def build_projection_discriminator(
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (512, 256),
) -> keras.Model:
    """:func:`build_conditional_discriminator` plus a class projection.

    The class enters twice: concatenated to the image, as before, and as a
    projection (Miyato & Koyama, 2018, "cGANs with Projection Discriminator"):
    the logit gains the dot product of the last hidden features ``h`` with a
    learned embedding of the class, ``<embed(c), h>``. So the discriminator
    scores "is this a *sandal*?" with a vector per class, not only with 10 of
    its 794 inputs, and the generator is pushed harder to draw the class asked.

    Args:
        num_classes: Length of the one-hot class vector.
        image_shape: ``(height, width, channels)`` of the images.
        hidden_units: Widths of the hidden Dense layers.

    Returns:
        A ``keras.Model`` mapping ``[images, one_hot]`` to logits ``(batch, 1)``.

    Example:
        >>> build_projection_discriminator().count_params()  # 2,560 more
        541185
    """
    num_classes = _check_num_classes(num_classes)
    image_shape = _checks.check_image_shape(image_shape)
    hidden_units = _checks.check_hidden_units(hidden_units)
    inputs, both = _image_and_class(image_shape, num_classes)
    hidden = _dense_stack(both, hidden_units)  # (batch, hidden_units[-1])
    logit = layers.Dense(1, name="logit")(hidden)  # (batch, 1)
    embedding = layers.Dense(hidden_units[-1], use_bias=False, name="class_embedding")(
        inputs[1]
    )  # (batch, hidden_units[-1]): one row per class
    projection = layers.Dot(axes=1, name="projection")([embedding, hidden])  # (b, 1)
    logit = layers.Add(name="logit_and_projection")([logit, projection])  # (b, 1)
    return keras.Model(inputs, logit, name="projection_discriminator")


def build_conditional_encoder(
    latent_dim: int = 16,
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (512, 256),
) -> keras.Model:
    """A dense encoder that reads the image and its class.

    Args:
        latent_dim: Size of ``z``.
        num_classes: Length of the one-hot class vector.
        image_shape: ``(height, width, channels)`` of the images.
        hidden_units: Widths of the hidden Dense layers.

    Returns:
        A ``keras.Model`` mapping ``[images, one_hot]`` to ``[z_mean,
        z_log_var]``, each ``(batch, latent_dim)``.

    Example:
        >>> z_mean, z_log_var = build_conditional_encoder(8)(
        ...     [np.zeros((3, 28, 28, 1)), np.eye(10)[:3]])
        >>> tuple(z_mean.shape)
        (3, 8)
    """
    latent_dim = _check_latent_dim(latent_dim)
    num_classes = _check_num_classes(num_classes)
    image_shape = _checks.check_image_shape(image_shape)
    inputs, both = _image_and_class(image_shape, num_classes)
    hidden = _dense_stack(both, _checks.check_hidden_units(hidden_units))
    return keras.Model(
        inputs, latent_heads(hidden, latent_dim), name="conditional_encoder"
    )


def build_conditional_decoder(
    latent_dim: int = 16,
    num_classes: int = 10,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (256, 512),
) -> keras.Model:
    """:func:`keras_gen.vae.build_decoder`, fed ``z`` and a one-hot class.

    Args:
        latent_dim: Size of ``z``.
        num_classes: Length of the one-hot class vector.
        image_shape: ``(height, width, channels)`` of the images.
        hidden_units: Widths of the hidden Dense layers.

    Returns:
        A ``keras.Model`` mapping ``[z, one_hot]`` to pixel logits
        ``(batch, *image_shape)``.

    Example:
        >>> build_conditional_decoder(16)([np.zeros((1, 16)), np.eye(10)[:1]]).shape
        TensorShape([1, 28, 28, 1])
    """
    latent_dim = _check_latent_dim(latent_dim)
    num_classes = _check_num_classes(num_classes)
    image_shape = _checks.check_image_shape(image_shape)
    z = keras.Input(shape=(latent_dim,), name="z")
    one_hot = keras.Input(shape=(num_classes,), name="one_hot")
    both = layers.Concatenate(name="z_and_class")([z, one_hot])  # (batch, z+C)
    body = build_decoder(latent_dim + num_classes, image_shape, hidden_units)
    return keras.Model([z, one_hot], body(both), name="conditional_decoder")


def _two_inputs(model, first, what):
    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    if len(inputs) != 2:
        raise ValueError(
            f"Expected the {what} to take two inputs, [{first}, one_hot]. "
            f"Received: a model with {len(inputs)} input(s). Build it with "
            f"build_conditional_{what}()."
        )
    return inputs


def _split_batch(data_batch):
    """``(images, labels)`` from what ``fit()`` hands to ``train_step``."""
    if not (
        isinstance(data_batch, (tuple, list))
        and len(data_batch) >= 2
        and data_batch[1] is not None
    ):
        raise ValueError(
            "Expected fit() to receive images and their labels: "
            "model.fit(images, labels, ...) or a dataset of (images, labels) "
            "pairs (labelled_dataset). Received: images only."
        )
    return data_batch[0], data_batch[1]


class _Conditional(keras.Model):
    """What both conditional models share: sizes, labels, images from latents."""

    def _set_sizes(self, latent_dim, num_classes, image_shape):
        self.latent_dim = _check_latent_dim(latent_dim)
        self.num_classes = _check_num_classes(num_classes)
        self.image_shape = tuple(int(d) for d in image_shape)

    def _one_hot(self, labels):
        # (batch,) int labels -> (batch, num_classes) float one-hot
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        return ops.one_hot(labels, self.num_classes)

    def _images(self, latents, one_hot):
        raise NotImplementedError

    def render(self, latents, one_hot, batch_size: int = 1000) -> np.ndarray:
        """Images in [-1, 1] from latents ``(n, latent_dim)`` and ``(n, C)`` classes.

        The class vector may mix classes (``interpolate`` does); use
        :func:`generate` to ask for classes by id or name.
        """
        latents = np.asarray(latents, dtype="float32")
        one_hot = np.asarray(one_hot, dtype="float32")
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latents of shape (n, {self.latent_dim}). "
                f"Received: latents.shape={latents.shape}"
            )
        if one_hot.shape != (len(latents), self.num_classes):
            raise ValueError(
                f"Expected one_hot of shape ({len(latents)}, {self.num_classes}). "
                f"Received: one_hot.shape={one_hot.shape}"
            )
        # Plain calls in batches, not predict(): no tf.function retracing.
        return np.concatenate(
            [
                ops.convert_to_numpy(
                    self._images(
                        latents[i : i + batch_size], one_hot[i : i + batch_size]
                    )
                )
                for i in range(0, len(latents), batch_size)
            ]
        ).astype("float32")


@keras.saving.register_keras_serializable(package="keras_gen")
class ConditionalGAN(NestedConfig, TwoOptimizerConfig, _Conditional):
    """A GAN whose generator and discriminator are both told the class.

    The training step is :class:`keras_gen.gan.GAN`'s (non-saturating loss,
    one discriminator step, then one generator step), with the batch's labels
    given to both networks: fakes are drawn for the same classes as the real
    images beside them, so the discriminator must learn what each class looks
    like and the generator must draw the class it is asked for.

    Backends: the training step is TensorFlow-only, as
    :class:`~keras_gen.gan.GAN`'s: it takes two gradient steps with two
    optimizers, which needs ``tf.GradientTape`` (Keras 3 has no
    backend-neutral tape, and :meth:`compute_loss` gives one loss for one
    optimizer). Generation runs on any backend.

    Args:
        generator: From :func:`build_conditional_generator`.
        discriminator: From :func:`build_conditional_discriminator`.
        seed: Seed of the training noise.
        **kwargs: Passed to ``keras.Model``.

    Example:
        >>> cgan = ConditionalGAN(build_conditional_generator(8),
        ...                       build_conditional_discriminator(), seed=0)
        >>> cgan.compile(run_eagerly=True, jit_compile=False)  # 2 steps: no graph
        >>> images, labels = np.zeros((64, 28, 28, 1), "float32"), np.arange(64) % 10
        >>> history = cgan.fit(images, labels, batch_size=32, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['d_fake', 'd_loss', 'd_real', 'g_loss']
    """

    NESTED = ("generator", "discriminator")

    def __init__(self, generator, discriminator, seed=None, **kwargs):
        super().__init__(**kwargs)
        noise, one_hot = _two_inputs(generator, "noise", "generator")
        _two_inputs(discriminator, "images", "discriminator")
        self._set_sizes(
            int(noise.shape[-1]), int(one_hot.shape[-1]), generator.output_shape[1:]
        )
        judged = tuple(discriminator.input_shape[0][1:])
        classes = int(discriminator.input_shape[1][-1])
        if judged != self.image_shape or classes != self.num_classes:
            raise ValueError(
                "Expected the discriminator to take the generator's images "
                f"{self.image_shape} and {self.num_classes} classes. Received: a "
                f"discriminator for images {judged} and {classes} classes."
            )
        self.generator = generator
        self.discriminator = discriminator
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = [
            keras.metrics.Mean(name=name)
            for name in ("d_loss", "g_loss", "d_real", "d_fake")
        ]
        self.built = True

    def compile(self, d_optimizer=None, g_optimizer=None, jit_compile="auto", **kwargs):
        """Configure the two optimizers, as :meth:`keras_gen.gan.GAN.compile`.

        Args:
            d_optimizer: Default ``Adam(2e-4, beta_1=0.5)``.
            g_optimizer: Default ``Adam(2e-4, beta_1=0.5)``.
            jit_compile: ``"auto"``: XLA for dense networks (these are).
            **kwargs: Passed to ``keras.Model.compile``.
        """
        if jit_compile == "auto":
            jit_compile = xla_by_default(self.generator, self.discriminator)
        super().compile(jit_compile=jit_compile, **kwargs)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)

    @property
    def metrics(self):
        return self.trackers

    def call(self, inputs, training=False):
        """Images from ``[noise (batch, latent_dim), one_hot (batch, C)]``."""
        return self.generator(inputs, training=training)

    def _images(self, latents, one_hot):
        return self.generator([latents, one_hot], training=False)

    def train_step(self, data_batch):
        # TensorFlow directly: two optimizers need a GradientTape, which
        # Keras 3 does not offer backend-neutrally (as in keras_gen.gan).
        import tensorflow as tf

        real_images, labels = _split_batch(data_batch)
        _checks.check_batch_shape("images", real_images, self.image_shape)
        one_hot = self._one_hot(labels)  # (batch, C)
        batch_size = ops.shape(real_images)[0]

        # 1. Discriminator: (real image, its class) -> 1, (fake, same class) -> 0.
        noise = training_noise((batch_size, self.latent_dim), self.seed_generator)
        fakes = self.generator([noise, one_hot], training=True)  # (batch, h, w, c)
        with tf.GradientTape() as tape:
            logits = self.discriminator(
                [
                    ops.concatenate([real_images, fakes], axis=0),
                    ops.concatenate([one_hot, one_hot], axis=0),
                ],
                training=True,
            )  # (2*batch, 1)
            real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
            d_loss = bce_with_logits(real_logits, True) + bce_with_logits(
                fake_logits, False
            )
            scaled = per_replica(d_loss)
        weights = self.discriminator.trainable_weights
        grads = tape.gradient(scaled, weights)
        self.d_optimizer.apply_gradients(zip(grads, weights, strict=True))

        # 2. Generator: make the discriminator call new fakes of these classes real.
        noise = training_noise((batch_size, self.latent_dim), self.seed_generator)
        with tf.GradientTape() as tape:
            fakes = self.generator([noise, one_hot], training=True)
            g_loss = bce_with_logits(
                self.discriminator([fakes, one_hot], training=True), True
            )
            scaled = per_replica(g_loss)
        weights = self.generator.trainable_weights
        grads = tape.gradient(scaled, weights)
        self.g_optimizer.apply_gradients(zip(grads, weights, strict=True))

        values = (
            d_loss,
            g_loss,
            ops.mean(ops.sigmoid(real_logits)),
            ops.mean(ops.sigmoid(fake_logits)),
        )
        for tracker, value in zip(self.trackers, values, strict=True):
            tracker.update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class ConditionalVAE(NestedConfig, OneOptimizerConfig, _Conditional):
    """A VAE whose encoder and decoder are both told the class.

    The objective is :class:`keras_gen.vae.VAE`'s negative ELBO (Bernoulli
    reconstruction plus ``beta`` times KL, in nats per image), with
    ``q(z | x, class)`` and ``p(x | z, class)``. Because the decoder is told
    the class, ``z`` need not carry it: ``z`` keeps the style (shape, thickness,
    pattern) and the class picks the garment.

    ``fit()`` reports ``reconstruction``, ``kl`` and ``loss`` (their sum).

    Backends: training and evaluation go through :meth:`compute_loss` and
    Keras' own ``train_step`` and ``test_step``, as :class:`keras_gen.vae.VAE`
    does, so they run on TensorFlow and JAX alike.

    Args:
        encoder: From :func:`build_conditional_encoder`.
        decoder: From :func:`build_conditional_decoder`.
        beta: Weight of the KL term in training.
        seed: Seed of the sampling noise.
        **kwargs: Passed to ``keras.Model``.

    Example:
        >>> cvae = ConditionalVAE(build_conditional_encoder(4),
        ...                       build_conditional_decoder(4), seed=0)
        >>> cvae.compile(run_eagerly=True, jit_compile=False)  # 2 steps: no graph
        >>> images, labels = np.zeros((64, 28, 28, 1), "float32"), np.arange(64) % 10
        >>> history = cvae.fit(images, labels, batch_size=32, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['kl', 'loss', 'reconstruction']
    """

    NESTED = ("encoder", "decoder")

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        _two_inputs(encoder, "images", "encoder")
        z, one_hot = _two_inputs(decoder, "z", "decoder")
        self._set_sizes(
            int(z.shape[-1]), int(one_hot.shape[-1]), encoder.input_shape[0][1:]
        )
        encoded = int(encoder.output_shape[0][-1])
        classes = int(encoder.input_shape[1][-1])
        decoded = tuple(int(d) for d in decoder.output_shape[1:])
        if (encoded, classes, decoded) != (
            self.latent_dim,
            self.num_classes,
            self.image_shape,
        ):
            raise ValueError(
                f"Expected an encoder and a decoder for the same latent size, "
                f"classes and images. Received: encoder latent {encoded}, "
                f"{classes} classes, images {self.image_shape}; decoder latent "
                f"{self.latent_dim}, {self.num_classes} classes, images {decoded}."
            )
        self.encoder = encoder
        self.decoder = decoder
        self.beta = _checks.check_float("beta", beta, minimum=0)
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.trackers = [
            keras.metrics.Mean(name=name) for name in ("reconstruction", "kl", "loss")
        ]
        self.built = True

    def compile(self, optimizer=None, jit_compile="auto", **kwargs):
        """Configure the optimizer (default ``Adam(1e-3)``), XLA as the VAE."""
        if jit_compile == "auto":
            jit_compile = xla_by_default(self.encoder, self.decoder)
        super().compile(
            optimizer=optimizer or keras.optimizers.Adam(1e-3),
            jit_compile=jit_compile,
            **kwargs,
        )

    @property
    def metrics(self):
        return self.trackers

    def call(self, inputs, training=False):
        """Reconstruct ``[images, one_hot]`` through the mean ``z``, in [-1, 1].

        Keras' ``train_step`` first calls the model on the images alone (its
        ``x``; the labels are its ``y``), before :meth:`compute_loss`, which
        needs both: called on images alone, the model returns them unchanged.
        """
        if not isinstance(inputs, (tuple, list)):
            return inputs  # x alone, from Keras' train_step: see compute_loss
        images, one_hot = inputs
        z_mean, _ = self.encoder([images, one_hot], training=training)
        return ops.tanh(self.decoder([z_mean, one_hot], training=training) / 2.0)

    def _images(self, latents, one_hot):
        # The decoder's Bernoulli mean, 2 * sigmoid(logit) - 1 = tanh(logit / 2)
        return ops.tanh(self.decoder([latents, one_hot], training=False) / 2.0)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The training objective ``reconstruction + beta * kl``, batch mean.

        Keras' own ``train_step`` (and ``test_step``, with ``training=False``)
        calls this on every backend, with ``x`` the images and ``y`` their
        labels, as :meth:`keras_gen.vae.VAE.compute_loss` is called. It draws
        the latent sample itself, so ``y_pred`` is not used.

        Args:
            x: Images ``(batch, *image_shape)`` in [-1, 1].
            y: Their class ids ``(batch,)``.
            y_pred: Ignored.
            sample_weight: Ignored.
            training: Whether the encoder and decoder run in training mode.

        Returns:
            A scalar: the objective, divided by the number of replicas under a
            ``tf.distribute`` strategy (whose optimizer sums their gradients).
        """
        images, labels = _split_batch((x, y))
        _checks.check_batch_shape("images", images, self.image_shape)
        one_hot = self._one_hot(labels)  # (batch, C)
        z_mean, z_log_var = self.encoder([images, one_hot], training=training)
        z = self.sampling([z_mean, z_log_var])  # (batch, latent_dim)
        logits = self.decoder([z, one_hot], training=training)  # (batch, h, w, c)
        reconstruction = reconstruction_nats(images, logits)  # (batch,)
        kl = kl_nats(z_mean, z_log_var)  # (batch,)
        for tracker, value in zip(
            self.trackers, (reconstruction, kl, reconstruction + kl), strict=True
        ):
            tracker.update_state(value)
        objective = ops.mean(reconstruction) + self.beta * ops.mean(kl)
        return per_replica(objective)

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "seed": self.seed,
        }


def labelled_dataset(images, labels, batch_size: int = 128, seed: int = 0):
    """Shuffled, repeated batches of ``(images, labels)`` for ``fit()``.

    tf.data is TensorFlow's input pipeline (Keras 3 has none of its own).
    Every batch is full (``drop_remainder``), so XLA compiles the step once;
    pass ``steps_per_epoch`` to ``fit()``, since the dataset repeats.

    Args:
        images: ``(n, h, w, c)`` in [-1, 1].
        labels: ``(n,)`` class ids.
        batch_size: Images per batch, at most ``n``.
        seed: Shuffle seed.

    Returns:
        A ``tf.data.Dataset`` of ``(images (batch, h, w, c), labels (batch,))``.

    Example:
        >>> ds = labelled_dataset(np.zeros((8, 28, 28, 1)), np.arange(8), 4)
        >>> [tuple(t.shape) for t in next(iter(ds))]
        [(4, 28, 28, 1), (4,)]
    """
    import tensorflow as tf

    images = np.asarray(images, dtype="float32")
    labels = np.asarray(labels)
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    if images.ndim != 4 or labels.shape != (len(images),):
        raise ValueError(
            "Expected images (n, h, w, c) and labels (n,). Received: "
            f"images.shape={images.shape}, labels.shape={labels.shape}"
        )
    if batch_size > len(images):
        raise ValueError(
            f"Expected batch_size <= {len(images)} (the number of images). "
            f"Received: batch_size={batch_size}"
        )
    dataset = tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
    dataset = dataset.shuffle(len(images), seed=_checks.check_seed("seed", seed))
    return dataset.batch(batch_size, drop_remainder=True).repeat().prefetch(2)


def check_model(model):
    """Return ``model`` if it is a conditional model of this module, else refuse it.

    Example:
        >>> check_model("a sandal")
        Traceback (most recent call last):
        ...
        ValueError: Expected a ConditionalGAN or ConditionalVAE from \
keras_gen.conditional. Received: model of type str
    """
    if not isinstance(model, _Conditional):
        raise ValueError(
            "Expected a ConditionalGAN or ConditionalVAE from keras_gen.conditional. "
            f"Received: model of type {type(model).__name__}"
        )
    return model


#: The old private name, kept for callers not yet moved to :func:`check_model`.
_check_model = check_model


def class_ids(requested, num_classes: int = 10, names=CLASS_NAMES) -> np.ndarray:
    """Turn one class or a list of classes, by id or by name, into int ids.

    Args:
        requested: An int id, a name such as ``"Sandal"`` (any case), or a
            1-D list or array of them.
        num_classes: Valid ids are ``0 .. num_classes - 1``.
        names: The class names, indexed by id.

    Returns:
        int32 array ``(k,)``, k >= 1.

    Raises:
        ValueError: Empty, not 1-D, not ints or names, unknown name, or an id
            out of range.

    Example:
        >>> class_ids(["Sandal", 7])
        array([5, 7], dtype=int32)
        >>> class_ids(10)
        Traceback (most recent call last):
        ...
        ValueError: Expected class ids in [0, 10), e.g. 5 for 'Sandal'. \
Received: class_ids=[10]
    """
    num_classes = _check_num_classes(num_classes)
    items = [requested] if np.ndim(requested) == 0 else requested
    array = np.asarray(items, dtype=object)
    if array.ndim != 1:
        raise ValueError(
            "Expected one class or a 1-D list of classes. "
            f"Received: class_ids with shape {np.shape(requested)}"
        )
    if array.size == 0:
        raise ValueError("Expected at least one class id. Received: class_ids=[]")
    lowered = [str(name).lower() for name in names]
    ids = []
    for item in array:
        if isinstance(item, str):
            if item.lower() not in lowered:
                raise ValueError(
                    f"Expected a class name from {list(names)}. Received: {item!r}"
                )
            ids.append(lowered.index(item.lower()))
        elif isinstance(item, (bool, np.bool_)) or not isinstance(
            item, (int, np.integer)
        ):
            raise ValueError(
                "Expected class ids as ints or class names. Received: "
                f"{item!r} of type {type(item).__name__}. Use int(...) on floats."
            )
        else:
            ids.append(int(item))
    bad = [i for i in ids if not 0 <= i < num_classes]
    if bad:
        example = f", e.g. 5 for {names[5]!r}" if len(names) > 5 else ""
        raise ValueError(
            f"Expected class ids in [0, {num_classes}){example}. "
            f"Received: class_ids={bad}"
        )
    return np.asarray(ids, dtype="int32")


def generate(
    model, classes, n: int = 1, seed: int = 0, temperature: float = 1.0
) -> np.ndarray:
    """Draw ``n`` images of each requested class.

    Args:
        model: A trained :class:`ConditionalGAN` or :class:`ConditionalVAE`.
        classes: Class ids or names, as :func:`class_ids` accepts
            (``"Sandal"``, ``5``, ``[5, 7]``).
        n: Images per requested class.
        seed: Seed of the noise: the same seed and weights give the same
            images (and, for one class, the first images stay the same when
            ``n`` grows).
        temperature: Multiplies the noise (>= 0). Below 1 the draws stay
            nearer the centre of the latent space, where the model has seen
            the most data: more recognisable, less varied (the truncation
            trick of BigGAN, Brock et al., 2019). 1 samples the prior as
            trained; 0 gives one "average" design per class.

    Returns:
        float32 ``(k * n, *image_shape)`` in [-1, 1], class by class: the
        first ``n`` images are of the first requested class.

    Example:
        >>> cvae = ConditionalVAE(build_conditional_encoder(4),
        ...                       build_conditional_decoder(4))
        >>> generate(cvae, ["Sandal", "Sneaker"], n=3).shape
        (6, 28, 28, 1)
    """
    model = check_model(model)
    ids = class_ids(classes, model.num_classes)
    n = _checks.check_int("n", n, minimum=1)
    _checks.check_seed("seed", seed)
    temperature = _checks.check_float("temperature", temperature, minimum=0)
    requested = np.repeat(ids, n)  # (k * n,)
    # One stream per requested position, so image i depends on (seed, i) only.
    latents = temperature * latent_vectors(len(requested), model.latent_dim, seed=seed)
    one_hot = np.eye(model.num_classes, dtype="float32")[requested]  # (k*n, C)
    return model.render(latents, one_hot)


def interpolate(
    model, start=("Sandal", 0), end=("Sneaker", 1), steps: int = 8
) -> np.ndarray:
    """Walk from one design to another: noise and class are both blended.

    A design is a ``(class, seed)`` pair: the class chooses the garment, the
    seed the noise (its style). The noise moves along a great circle
    (:func:`keras_gen.plotting.interpolate_latents`), the one-hot class
    linearly, so the middle images are asked for "half sandal, half sneaker".

    Args:
        model: A trained :class:`ConditionalGAN` or :class:`ConditionalVAE`.
        start: ``(class id or name, seed)`` of the first design.
        end: ``(class id or name, seed)`` of the last design.
        steps: Images along the way, both ends included (>= 2).

    Returns:
        float32 ``(steps, *image_shape)`` in [-1, 1].

    Example:
        >>> cvae = ConditionalVAE(build_conditional_encoder(4),
        ...                       build_conditional_decoder(4))
        >>> interpolate(cvae, ("Sandal", 0), ("Bag", 3), steps=5).shape
        (5, 28, 28, 1)
    """
    model = check_model(model)
    steps = _checks.check_int("steps", steps, minimum=2)
    ends = []
    for name, design in (("start", start), ("end", end)):
        if not (isinstance(design, (tuple, list)) and len(design) == 2):
            raise ValueError(
                f"Expected {name} to be a (class, seed) pair such as ('Sandal', 0). "
                f"Received: {name}={design!r}"
            )
        (class_id,) = class_ids(design[0], model.num_classes)
        seed = _checks.check_seed(f"{name} seed", design[1])
        ends.append((class_id, latent_vectors(1, model.latent_dim, seed=seed)[0]))
    latents = interpolate_latents(ends[0][1], ends[1][1], steps)  # (steps, z)
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]  # (steps, 1)
    eye = np.eye(model.num_classes, dtype="float32")
    one_hot = (1 - weights) * eye[ends[0][0]] + weights * eye[ends[1][0]]
    return model.render(latents, one_hot)


def build_conditional_gan(
    latent_dim: int = 32, seed: int = 0, jit_compile="auto", projection: bool = False
) -> ConditionalGAN:
    """The cGAN of notebook 09 at its default sizes, compiled.

    ``jit_compile`` is passed to :meth:`ConditionalGAN.compile`. With
    ``projection=True`` the discriminator is
    :func:`build_projection_discriminator` (the shipped designer's).

    Example:
        >>> build_conditional_gan().count_params()
        2010129
    """
    discriminator = (
        build_projection_discriminator()
        if projection
        else build_conditional_discriminator()
    )
    return _compiled(
        ConditionalGAN(
            build_conditional_generator(latent_dim), discriminator, seed=seed
        ),
        jit_compile,
    )


def build_conditional_vae(
    latent_dim: int = 8, beta: float = 4.0, seed: int = 0, jit_compile="auto"
) -> ConditionalVAE:
    """The cVAE of notebook 09 at its default sizes, compiled.

    ``jit_compile`` is passed to :meth:`ConditionalVAE.compile`.

    ``beta = 4`` (a beta-VAE, Higgins et al., 2017) squeezes ``z``, so the
    decoder leans on the class it is told: in a 2,000-step trial (recorded in
    ``benchmarks/RESULTS.md``) it raised prompt adherence from 55% (beta 1,
    16 latent numbers) to 84%.

    Example:
        >>> build_conditional_vae().count_params()
        1081120
    """
    return _compiled(
        ConditionalVAE(
            build_conditional_encoder(latent_dim),
            build_conditional_decoder(latent_dim),
            beta=beta,
            seed=seed,
        ),
        jit_compile,
    )


def _compiled(model, jit_compile):
    model.compile(jit_compile=jit_compile)
    return model


# --------------------------------------------------------------------------
# The shipped designer: a trained conditional model as one model folder
# --------------------------------------------------------------------------

#: The trained designer that ships with the project (``make pretrained``,
#: ``tools/train_designer.py``).
DEFAULT_DESIGNER_DIR = data_path("pretrained", "fashion-designer")
#: The model classes a designer folder holds.
DESIGNER_CLASSES = ("ConditionalGAN", "ConditionalVAE")
_REMAKE = "Rebuild it with `make pretrained`."


def save_designer(folder: str, model, card: dict) -> str:
    """Write a designer's ``model.keras`` and ``card.json`` into ``folder``.

    The folder format and the atomic swap are
    :mod:`keras_gen.model_folder`'s: the files are written to a hidden
    temporary folder beside ``folder`` and swapped in at the end, so an
    interrupted save leaves the old folder or the new one. The card gets the
    SHA-256 of ``model.keras``, which :func:`load_designer` checks. The
    optimizer state is not saved.

    Args:
        folder: Destination; must be missing, empty, or a model folder
            (only ``model.keras`` and ``card.json``).
        model: A trained :class:`ConditionalGAN` or :class:`ConditionalVAE`.
        card: JSON facts: the command, the steps, the measured metrics.

    Returns:
        ``folder``.

    Example:
        >>> import os, tempfile
        >>> cvae = ConditionalVAE(build_conditional_encoder(4),
        ...                       build_conditional_decoder(4))
        >>> folder = save_designer(tempfile.mkdtemp() + "/d", cvae, {"steps": 0})
        >>> sorted(os.listdir(folder))
        ['card.json', 'model.keras']
    """
    if not isinstance(model, (ConditionalGAN, ConditionalVAE)):
        raise ValueError(
            "Expected a ConditionalGAN or ConditionalVAE from keras_gen.conditional. "
            f"Received: model of type {type(model).__name__}"
        )
    if not isinstance(card, dict):
        raise ValueError(
            f"Expected card to be a dict. Received: card of type {type(card).__name__}"
        )
    return model_folder.save_folder(folder, model, card, what="designer folder")


def load_designer(folder: str | None = None):
    """Load a folder written by :func:`save_designer`, checking its SHA-256.

    Args:
        folder: Default :data:`DEFAULT_DESIGNER_DIR`, the shipped model.

    Returns:
        ``(model, card)``; the model is loaded with ``safe_mode`` on, and the
        card is returned without its ``"sha256"`` entry.

    Raises:
        FileNotFoundError: The folder or one of its files is missing.
        keras_gen._files.FileFormatError: The card is damaged, the model file
            does not match the card's SHA-256, or the folder is of another
            kind (the message says which function loads it).

    Example:
        >>> model, card = load_designer()
        >>> card["kind"] in ("cgan", "cvae")
        True
    """
    folder = os.fspath(folder if folder is not None else DEFAULT_DESIGNER_DIR)
    contents = model_folder.load_folder(
        folder,
        what="designer folder",
        tokenizer=False,
        expect=DESIGNER_CLASSES,
        remake=_REMAKE,
    )
    return model_folder.load_model(contents.model_path, _REMAKE), contents.card


__all__ = [
    "CLASS_NAMES",
    "DEFAULT_DESIGNER_DIR",
    "DESIGNER_CLASSES",
    "ConditionalGAN",
    "ConditionalVAE",
    "build_conditional_decoder",
    "build_conditional_discriminator",
    "build_conditional_encoder",
    "build_conditional_gan",
    "build_conditional_generator",
    "build_conditional_vae",
    "build_projection_discriminator",
    "check_model",
    "class_ids",
    "generate",
    "interpolate",
    "labelled_dataset",
    "load_designer",
    "save_designer",
]
