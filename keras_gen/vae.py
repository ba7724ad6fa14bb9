"""Variational autoencoders: the article's "probabilistic approach" to images.

A VAE (Kingma & Welling, 2014) has two networks. The **encoder** maps an image
``x`` to a Gaussian over latent vectors, ``q(z|x) = N(z_mean, exp(z_log_var))``;
the **decoder** maps a latent ``z`` back to a distribution over images,
``p(x|z)``. Training maximises the evidence lower bound (ELBO) on ``log p(x)``,
that is, it minimises the *negative* ELBO, in nats per image::

    -ELBO = reconstruction + KL
          = E_q[-log p(x|z)]  +  KL(q(z|x) || N(0, I))

- *reconstruction*: how many nats the decoder needs to describe the image
  once it is told ``z``;
- *KL*: how far the encoder's Gaussian strays from the prior ``N(0, I)``, the
  price of the information ``z`` carries. It keeps the latent space packed
  round the origin, so that decoding a random ``z ~ N(0, I)`` gives an image.

**Likelihood.** Pixels are in [-1, 1] (as for the GAN). The decoder returns
one logit per pixel and the reconstruction term is the Bernoulli negative
log-likelihood (binary cross-entropy) of the pixel rescaled to [0, 1],
``t = (x + 1) / 2``::

    -log p(x|z) = sum over pixels of  softplus(logit) - t * logit

the classic choice for (Fashion-)MNIST. For grey pixels (0 < t < 1) this is
not a normalised density over grey levels, so the numbers are comparable
between VAEs trained this way, not with log-likelihoods from other papers. The
decoded *image* is the Bernoulli mean mapped back to [-1, 1]:
``2 * sigmoid(logit) - 1 = tanh(logit / 2)``.

**Reparameterisation.** ``z = z_mean + exp(z_log_var / 2) * eps`` with
``eps ~ N(0, I)`` (the :class:`Sampling` layer) moves the randomness into an
input, so gradients flow through ``z_mean`` and ``z_log_var``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from keras_gen._checks import (
    check_batch_shape,
    check_float,
    check_hidden_units,
    check_image_shape,
    check_int,
)
from keras_gen._compile import OneOptimizerConfig
from keras_gen._nested import NestedConfig
from keras_gen._train_step import per_replica, training_noise, xla_by_default
from keras_gen.gan import LEAKY_SLOPE, latent_vectors


def _leaky(name=None):
    return layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=name)


def latent_heads(hidden, latent_dim: int) -> list:
    """The two heads of an encoder: ``z_mean`` and ``z_log_var``.

    Two Dense layers of ``latent_dim`` units on the same hidden features, named
    ``"z_mean"`` and ``"z_log_var"``; every encoder of ``keras_gen`` (dense,
    convolutional, conditional) ends with them.

    Args:
        hidden: Symbolic features ``(batch, units)`` (a ``keras.Input`` or a
            layer's output).
        latent_dim: Size of the latent vector ``z``.

    Returns:
        ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``.

    Example:
        >>> features = keras.Input(shape=(8,))
        >>> [tuple(t.shape) for t in latent_heads(features, 2)]
        [(None, 2), (None, 2)]
    """
    z_mean = layers.Dense(latent_dim, name="z_mean")(hidden)  # (batch, latent_dim)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(hidden)
    return [z_mean, z_log_var]


def _dense_names(hidden_units):
    """``dense_<units>`` (the article's naming), numbered if a width repeats."""
    unique = len(set(hidden_units)) == len(hidden_units)
    return [
        f"dense_{units}" if unique else f"dense_{index}_{units}"
        for index, units in enumerate(hidden_units, start=1)
    ]


def build_encoder(
    latent_dim: int = 2,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (1024, 512, 256),
) -> keras.Model:
    """Build a dense encoder, the article's generator read backwards.

    784 -> 1024 -> 512 -> 256 with LeakyReLU(0.2), then two heads of
    ``latent_dim`` units: ``z_mean`` and ``z_log_var``.

    Args:
        latent_dim: Size of the latent vector ``z``.
        image_shape: ``(height, width, channels)`` of the input images.
        hidden_units: Widths of the hidden Dense layers, first to last
            (notebook 08 shrinks them to compare model sizes).

    Returns:
        A ``keras.Model`` mapping ``(batch, *image_shape)`` to
        ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``.

    Example:
        >>> build_encoder(latent_dim=2).count_params()
        1460996
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    image_shape = check_image_shape(image_shape)
    hidden_units = check_hidden_units(hidden_units)
    images = keras.Input(shape=image_shape)  # (batch, h, w, c)
    hidden = layers.Flatten(name="flatten")(images)  # (batch, h*w*c)
    names = _dense_names(hidden_units)
    for index, units in enumerate(hidden_units, start=1):
        hidden = layers.Dense(units, name=names[index - 1])(hidden)
        hidden = _leaky(f"leaky_relu_{index}")(hidden)
    return keras.Model(images, latent_heads(hidden, latent_dim), name="encoder")


def build_decoder(
    latent_dim: int = 2,
    image_shape: Sequence[int] = (28, 28, 1),
    hidden_units: Sequence[int] = (256, 512, 1024),
) -> keras.Sequential:
    """Build a dense decoder: the article's generator with pixel logits.

    The same Dense 256 -> 512 -> 1024 -> 784 stack with LeakyReLU(0.2) as
    :func:`keras_gen.gan.build_generator`, but the last layer returns a logit per
    pixel (no ``tanh``): the Bernoulli likelihood needs logits, and
    :meth:`VAE.decode` turns them into images.

    Args:
        latent_dim: Size of the latent vector ``z``.
        image_shape: ``(height, width, channels)`` of the images.
        hidden_units: Widths of the hidden Dense layers, first to last.

    Returns:
        A ``keras.Sequential`` mapping ``(batch, latent_dim)`` to pixel logits
        ``(batch, *image_shape)``.

    Example:
        >>> build_decoder(latent_dim=100).count_params()  # as the article's
        1486352
        >>> build_decoder(16, hidden_units=(32, 64)).count_params()
        53616
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    image_shape = check_image_shape(image_shape)
    hidden_units = check_hidden_units(hidden_units)
    hidden = []
    names = _dense_names(hidden_units)
    for index, units in enumerate(hidden_units, start=1):
        dense = layers.Dense(units, name=names[index - 1])
        hidden += [dense, _leaky(f"leaky_relu_{index}")]
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),  # (batch, latent_dim)
            *hidden,
            layers.Dense(math.prod(image_shape), name="pixel_logits"),  # (b, h*w*c)
            layers.Reshape(image_shape, name="to_image"),  # (batch, h, w, c)
        ],
        name="decoder",
    )


def _check_divisible_by_4(image_shape):
    if image_shape[0] % 4 or image_shape[1] % 4:
        raise ValueError(
            "Expected image height and width divisible by 4 (two stride-2 steps). "
            f"Received: image_shape={tuple(image_shape)!r}"
        )


def build_conv_encoder(
    latent_dim: int = 16,
    image_shape: Sequence[int] = (28, 28, 1),
    base_filters: int = 32,
) -> keras.Model:
    """Build a small convolutional encoder.

    Two stride-2 convolutions (``base_filters``, then twice as many) halve the
    image twice, a Dense layer of 128 units follows, then the two heads.

    Args:
        latent_dim: Size of the latent vector ``z``.
        image_shape: ``(height, width, channels)``, height and width divisible
            by 4.
        base_filters: Filters of the first convolution.

    Returns:
        A ``keras.Model`` mapping images to ``[z_mean, z_log_var]``.

    Example:
        >>> build_conv_encoder(latent_dim=16).count_params()
        424480
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    image_shape = check_image_shape(image_shape)
    _check_divisible_by_4(image_shape)
    check_int("base_filters", base_filters, minimum=1)
    images = keras.Input(shape=image_shape)  # (batch, h, w, c)
    hidden = layers.Conv2D(base_filters, 3, strides=2, padding="same")(images)
    hidden = _leaky()(hidden)  # (batch, h/2, w/2, f)
    hidden = layers.Conv2D(2 * base_filters, 3, strides=2, padding="same")(hidden)
    hidden = _leaky()(hidden)  # (batch, h/4, w/4, 2f)
    hidden = layers.Flatten()(hidden)
    hidden = _leaky()(layers.Dense(128)(hidden))  # (batch, 128)
    return keras.Model(images, latent_heads(hidden, latent_dim), name="conv_encoder")


def build_conv_decoder(
    latent_dim: int = 16,
    image_shape: Sequence[int] = (28, 28, 1),
    base_filters: int = 32,
) -> keras.Sequential:
    """Build a small convolutional decoder, the mirror of the encoder.

    Args:
        latent_dim: Size of the latent vector ``z``.
        image_shape: ``(height, width, channels)``, divisible by 4.
        base_filters: Filters of the last hidden feature map.

    Returns:
        A ``keras.Sequential`` mapping ``(batch, latent_dim)`` to pixel logits
        ``(batch, *image_shape)``.

    Example:
        >>> build_conv_decoder(latent_dim=16)(np.zeros((1, 16))).shape
        TensorShape([1, 28, 28, 1])
    """
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    height, width, channels = check_image_shape(image_shape)
    _check_divisible_by_4((height, width, channels))
    check_int("base_filters", base_filters, minimum=1)
    start = (height // 4, width // 4, 2 * base_filters)
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(math.prod(start)),
            _leaky(),
            layers.Reshape(start),  # (batch, h/4, w/4, 2f)
            layers.Conv2DTranspose(2 * base_filters, 4, strides=2, padding="same"),
            _leaky(),  # (batch, h/2, w/2, 2f)
            layers.Conv2DTranspose(base_filters, 4, strides=2, padding="same"),
            _leaky(),  # (batch, h, w, f)
            layers.Conv2D(channels, 3, padding="same"),  # (batch, h, w, c) logits
        ],
        name="conv_decoder",
    )


def reconstruction_nats(images, logits):
    """Bernoulli negative log-likelihood of each image, in nats.

    Args:
        images: ``(batch, ...)`` in [-1, 1]; rescaled to ``t = (x + 1) / 2``.
        logits: Decoder logits of the same shape.

    Returns:
        ``(batch,)``: the sum over pixels of ``softplus(logit) - t * logit``,
        which is ``-t log(sigmoid(l)) - (1 - t) log(1 - sigmoid(l))`` written
        so that it never takes ``log(0)``.

    Example:
        >>> float(reconstruction_nats(np.ones((1, 2)), np.zeros((1, 2)))[0])
        1.3862943649291992
    """
    targets = (ops.cast(images, "float32") + 1.0) / 2.0
    logits = ops.cast(logits, "float32")
    per_pixel = ops.softplus(logits) - targets * logits
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


def kl_nats(z_mean, z_log_var):
    """KL divergence of ``N(z_mean, exp(z_log_var))`` from ``N(0, I)``, in nats.

    Args:
        z_mean: ``(batch, latent_dim)``.
        z_log_var: ``(batch, latent_dim)``, the log of the variance.

    Returns:
        ``(batch,)``: ``0.5 * sum(exp(v) + m**2 - 1 - v)`` over latent units.

    Example:
        >>> float(kl_nats(np.ones((1, 2)), np.zeros((1, 2)))[0])
        1.0
    """
    z_mean = ops.cast(z_mean, "float32")
    z_log_var = ops.cast(z_log_var, "float32")
    return 0.5 * ops.sum(ops.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var, axis=-1)


def _batched(function, array, batch_size):
    # Plain calls, not predict(): predict() traces a tf.function per model, and
    # notebooks that make several VAEs then get TensorFlow's retracing warnings.
    return np.concatenate(
        [
            ops.convert_to_numpy(function(array[start : start + batch_size]))
            for start in range(0, len(array), batch_size)
        ]
    )


@keras.saving.register_keras_serializable(package="keras_gen")
class Sampling(layers.Layer):
    """The reparameterisation trick: ``z = z_mean + exp(z_log_var / 2) * eps``.

    Drawing ``z ~ N(z_mean, sigma^2)`` directly would block gradients;
    drawing ``eps ~ N(0, I)`` and shifting and scaling it gives the same
    distribution with ``z`` a differentiable function of the encoder's outputs.

    Args:
        seed: Seed of the noise, so training repeats exactly.
        **kwargs: Passed to ``keras.layers.Layer``.

    Call arguments:
        inputs: ``[z_mean, z_log_var]``, each ``(batch, latent_dim)``.
        noise: Optional ``eps`` of the same shape (fresh noise when omitted).

    Example:
        >>> z = Sampling(seed=0)([np.zeros((2, 3)), np.zeros((2, 3))])
        >>> tuple(z.shape)
        (2, 3)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, noise=None):
        z_mean, z_log_var = inputs
        if noise is None:
            # Philox on TensorFlow, as in the GAN: fast inside XLA on CPU.
            noise = training_noise(ops.shape(z_mean), self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * noise  # (batch, latent_dim)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_gen")
class VAE(NestedConfig, OneOptimizerConfig, keras.Model):
    """An encoder and a decoder trained together on the negative ELBO.

    ``fit()`` reports, in nats per image, ``reconstruction``, ``kl`` and
    ``loss``: their sum, the negative ELBO (lower is better). Training
    minimises ``reconstruction + beta * kl``; with ``beta != 1`` the reported
    ``loss`` is still the plain negative ELBO, so runs with different ``beta``
    stay comparable.

    Backends: training and evaluation go through :meth:`compute_loss` and
    Keras' own ``train_step`` and ``test_step``, so they run on TensorFlow
    and JAX alike, under ``tf.distribute.MirroredStrategy`` (build and compile
    inside ``strategy.scope()``) and under ``keras.distribution.DataParallel``.

    Args:
        encoder: Model mapping images to ``[z_mean, z_log_var]``.
        decoder: Model mapping ``(batch, latent_dim)`` to pixel logits.
        beta: Weight of the KL term in the training objective (beta-VAE,
            Higgins et al., 2017): > 1 trades sharper reconstructions for a
            tidier latent space, < 1 the reverse.
        seed: Seed of the sampling noise.
        **kwargs: Passed to ``keras.Model``.

    Example:
        >>> vae = VAE(build_encoder(2, (8, 8, 1)), build_decoder(2, (8, 8, 1)), seed=0)
        >>> vae.compile(run_eagerly=True, jit_compile=False)  # 2 steps: no graph
        >>> images = np.zeros((256, 8, 8, 1), "float32")
        >>> history = vae.fit(images, batch_size=128, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['kl', 'loss', 'reconstruction']
        >>> vae.generate(3, seed=0).shape
        (3, 8, 8, 1)
    """

    NESTED = ("encoder", "decoder")

    def __init__(self, encoder, decoder, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        encoded = int(encoder.output_shape[0][-1])
        self.latent_dim = check_int(
            "latent_dim", int(decoder.input_shape[-1]), minimum=1
        )
        if encoded != self.latent_dim:
            raise ValueError(
                f"Expected the encoder's latent size to match the decoder's input "
                f"size {self.latent_dim}. Received: encoder latent size {encoded}"
            )
        self.image_shape = tuple(int(d) for d in encoder.input_shape[1:])
        decoded = tuple(int(d) for d in decoder.output_shape[1:])
        if decoded != self.image_shape:
            raise ValueError(
                f"Expected the decoder to output images of shape {self.image_shape}. "
                f"Received: decoder output shape {decoded}"
            )
        self.beta = check_float("beta", beta, minimum=0)  # refuses NaN and inf
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    def compile(self, optimizer=None, jit_compile="auto", **kwargs):
        """Configure the optimizer.

        Args:
            optimizer: Default ``Adam(1e-3)``.
            jit_compile: ``"auto"`` turns XLA on for dense networks and off for
                convolutional ones, as :meth:`keras_gen.gan.GAN.compile` does
                (``benchmarks/image_quality.py`` prints the step rates), and
                off under a ``tf.distribute`` strategy with several replicas.
            **kwargs: Passed to ``keras.Model.compile``.
        """
        if jit_compile == "auto":
            jit_compile = xla_by_default(self.encoder, self.decoder)
        super().compile(
            optimizer=optimizer or keras.optimizers.Adam(1e-3),
            jit_compile=jit_compile,
            **kwargs,
        )

    @property
    def metrics(self):
        return [self.reconstruction_tracker, self.kl_tracker, self.loss_tracker]

    def call(self, images, training=False):
        """Reconstruct images through the mean latent vector, in [-1, 1]."""
        check_batch_shape("images", images, self.image_shape)
        z_mean, _ = self.encoder(images, training=training)
        return ops.tanh(self.decoder(z_mean, training=training) / 2.0)

    def _terms(self, images, noise=None, training=False):
        z_mean, z_log_var = self.encoder(images, training=training)
        z = self.sampling([z_mean, z_log_var], noise=noise)  # (batch, latent_dim)
        logits = self.decoder(z, training=training)  # (batch, h, w, c)
        return reconstruction_nats(images, logits), kl_nats(z_mean, z_log_var)

    def _track(self, reconstruction, kl):
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.loss_tracker.update_state(reconstruction + kl)
        return {m.name: m.result() for m in self.metrics}

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The training objective ``reconstruction + beta * kl``, batch mean.

        Keras' own ``train_step`` (and ``test_step``, with ``training=False``,
        for ``evaluate()``) calls this on every backend (TensorFlow, JAX), so
        the VAE needs no backend-specific training code. It draws the
        latent sample itself, so ``y_pred`` (the mean reconstruction from
        :meth:`call`) is not used: under XLA (the default for dense VAEs, and
        always on JAX) the compiler removes that unused pass.

        Args:
            x: A batch of images ``(batch, *image_shape)`` in [-1, 1].
            y: Ignored (a VAE has no targets).
            y_pred: Ignored.
            sample_weight: Ignored.
            training: Whether the encoder and decoder run in training mode.

        Returns:
            A scalar: the objective, divided by the number of replicas under a
            ``tf.distribute`` strategy (whose optimizer sums their gradients).
        """
        check_batch_shape("images", x, self.image_shape)
        reconstruction, kl = self._terms(x, training=training)  # (batch,) each
        self._track(reconstruction, kl)
        objective = ops.mean(reconstruction) + self.beta * ops.mean(kl)
        return per_replica(objective)

    def elbo_terms(self, images, seed: int = 0) -> dict:
        """Per-image reconstruction and KL, with noise drawn from ``seed``.

        Args:
            images: ``(n, *image_shape)`` in [-1, 1].
            seed: Seed of the one latent sample per image.

        Returns:
            ``{"reconstruction": (n,), "kl": (n,)}`` NumPy arrays, in nats.
        """
        images = np.asarray(images, dtype="float32")
        check_batch_shape("images", images, self.image_shape)
        noise = latent_vectors(len(images), self.latent_dim, seed=seed)
        reconstruction, kl = self._terms(images, noise=noise)
        return {
            "reconstruction": ops.convert_to_numpy(reconstruction),
            "kl": ops.convert_to_numpy(kl),
        }

    def encode(self, images, batch_size: int = 500) -> np.ndarray:
        """The mean latent vector ``z_mean`` of each image, ``(n, latent_dim)``."""
        images = np.asarray(images, dtype="float32")
        check_batch_shape("images", images, self.image_shape)
        return _batched(
            lambda x: self.encoder(x, training=False)[0], images, batch_size
        )

    def decode(self, latents, batch_size: int = 500) -> np.ndarray:
        """Images in [-1, 1], ``(n, *image_shape)``, from latents ``(n, latent_dim)``.

        Each pixel is the decoder's Bernoulli mean, ``tanh(logit / 2)``.
        """
        latents = np.asarray(latents, dtype="float32")
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latents of shape (n, {self.latent_dim}). "
                f"Received: latents.shape={latents.shape}"
            )
        logits = _batched(
            lambda z: self.decoder(z, training=False), latents, batch_size
        )
        return np.tanh(logits / 2.0).astype("float32")

    def generate(self, n: int, seed: int = 0) -> np.ndarray:
        """Decode ``n`` latent vectors drawn from the prior ``N(0, I)``.

        Args:
            n: Number of images.
            seed: Seed of the latent vectors (as :meth:`keras_gen.gan.GAN.generate`).

        Returns:
            float32 array ``(n, *image_shape)`` in [-1, 1].
        """
        return self.decode(latent_vectors(n, self.latent_dim, seed=seed))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "seed": self.seed,
        }
