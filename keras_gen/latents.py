"""A spatial autoencoder: 28x28x1 images <-> 7x7xC latents for latent diffusion.

Stable Diffusion (Rombach et al., 2022) does not run its diffusion model on
pixels: an autoencoder first squeezes each image into a small *spatial*
latent (64x64x4 for a 512x512x3 image), the diffusion model learns those
latents, and the decoder turns a generated latent back into pixels. Each
denoising step then costs a fraction of a pixel-space one. Here a 28x28x1
Fashion-MNIST image becomes a 7x7xC latent (C = 4 by default: 196 numbers
instead of 784).

**Why a plain autoencoder, rescaled.** :mod:`keras_gen.vae` ends its encoder
in a Dense layer (one latent vector, no spatial map) and weighs its KL term
fully, which blurs reconstructions. The diffusion model needs neither: it
draws its own latents, so the encoder need not match a prior. This module's
:class:`LatentAutoencoder` is therefore trained on reconstruction alone (the
mean *absolute* error, which keeps edges sharper than the squared error;
Stable Diffusion's autoencoder also uses L1), and the latents are then
normalised to zero mean and unit variance per channel, measured on training
images (:meth:`LatentAutoencoder.fit_normalization`). That is Stable
Diffusion's "scale factor" (0.18215, one number measured once on its data),
here one shift and one scale per channel: the diffusion model's noise
schedule assumes data of about unit variance.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from keras_gen import _checks
from keras_gen._compile import OneOptimizerConfig
from keras_gen._nested import NestedConfig


def _conv_block(features, channels: int, name: str):
    """Conv 3x3 -> GroupNorm -> swish, twice, with a residual."""
    skip = features
    if features.shape[-1] != channels:
        skip = layers.Conv2D(channels, 1, name=f"{name}_skip")(features)
    hidden = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv1")(features)
    hidden = layers.GroupNormalization(groups=8, name=f"{name}_norm1")(hidden)
    hidden = layers.Activation("swish")(hidden)
    hidden = layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(hidden)
    return layers.Add(name=f"{name}_add")([skip, hidden])


def build_latent_encoder(
    image_shape=(28, 28, 1), latent_channels: int = 4, base_filters: int = 32
) -> keras.Model:
    """Images ``(batch, h, w, c)`` -> latents ``(batch, h/4, w/4, latent_channels)``.

    One convolution at full resolution (the costly one on a CPU), then two
    stride-2 halvings, each followed by a residual block.

    Args:
        image_shape: ``(height, width, channels)``, height and width divisible by 4.
        latent_channels: ``C``, channels of the latent map.
        base_filters: Filters at full resolution (doubled after the first halving).

    Returns:
        A ``keras.Model`` named ``"latent_encoder"``.

    Example:
        >>> build_latent_encoder(latent_channels=4, base_filters=8).output_shape
        (None, 7, 7, 4)
    """
    height, width, channels = _checks.check_image_shape(image_shape)
    if height % 4 or width % 4:
        raise ValueError(
            "Expected image height and width divisible by 4 (two halvings). "
            f"Received: image_shape={tuple(image_shape)!r}"
        )
    latent_channels = _checks.check_int("latent_channels", latent_channels, minimum=1)
    base_filters = _checks.check_int("base_filters", base_filters, minimum=1)
    images = keras.Input(shape=(height, width, channels))
    hidden = layers.Conv2D(base_filters, 3, padding="same", activation="swish")(
        images
    )  # (b, 28, 28, f)
    hidden = layers.Conv2D(2 * base_filters, 3, strides=2, padding="same")(hidden)
    hidden = _conv_block(hidden, 2 * base_filters, "down1")  # (b, 14, 14, 2f)
    hidden = layers.Conv2D(2 * base_filters, 3, strides=2, padding="same")(hidden)
    hidden = _conv_block(hidden, 2 * base_filters, "down2")  # (b, 7, 7, 2f)
    latents = layers.Conv2D(latent_channels, 1, name="latents")(hidden)  # (b, 7, 7, C)
    return keras.Model(images, latents, name="latent_encoder")


def build_latent_decoder(
    latent_shape=(7, 7, 4), image_channels: int = 1, base_filters: int = 32
) -> keras.Model:
    """Latents ``(batch, h, w, C)`` -> images ``(batch, 4h, 4w, channels)``, in [-1, 1].

    Args:
        latent_shape: ``(height, width, C)`` of the latents.
        image_channels: Channels of the images.
        base_filters: Filters at full resolution (twice as many below it).

    Returns:
        A ``keras.Model`` named ``"latent_decoder"``; its last layer is a tanh.

    Example:
        >>> build_latent_decoder((7, 7, 4), base_filters=8).output_shape
        (None, 28, 28, 1)
    """
    latent_shape = _checks.check_image_shape(latent_shape)
    image_channels = _checks.check_int("image_channels", image_channels, minimum=1)
    base_filters = _checks.check_int("base_filters", base_filters, minimum=1)
    latents = keras.Input(shape=latent_shape)
    hidden = layers.Conv2D(2 * base_filters, 3, padding="same")(latents)
    hidden = _conv_block(hidden, 2 * base_filters, "up2")  # (b, 7, 7, 2f)
    hidden = layers.UpSampling2D(2)(hidden)
    hidden = layers.Conv2D(2 * base_filters, 3, padding="same")(hidden)
    hidden = _conv_block(hidden, 2 * base_filters, "up1")  # (b, 14, 14, 2f)
    hidden = layers.UpSampling2D(2)(hidden)
    hidden = layers.Conv2D(base_filters, 3, padding="same", activation="swish")(
        hidden
    )  # (b, 28, 28, f)
    images = layers.Conv2D(image_channels, 3, padding="same", activation="tanh")(hidden)
    return keras.Model(latents, images, name="latent_decoder")


@keras.saving.register_keras_serializable(package="keras_gen")
class LatentAutoencoder(NestedConfig, OneOptimizerConfig, keras.Model):
    """An autoencoder with spatial latents, normalised for a diffusion model.

    ``model(images)`` reconstructs; train it with ``compile()`` (default
    Adam and the mean absolute error) and ``fit(images, images)``. Then call
    :meth:`fit_normalization` on training images, so that :meth:`encode`
    returns latents of zero mean and unit variance per channel and
    :meth:`decode` undoes that. The shift and scale are non-trainable
    weights: they are saved with the model.

    Args:
        encoder: From :func:`build_latent_encoder`.
        decoder: From :func:`build_latent_decoder`; must take the encoder's
            output shape.
        **kwargs: Passed to ``keras.Model``.

    Example:
        >>> model = LatentAutoencoder(
        ...     build_latent_encoder(base_filters=8),
        ...     build_latent_decoder(base_filters=8))
        >>> model.compile(run_eagerly=True)  # 2 steps: eager beats building a graph
        >>> images = np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1))
        >>> _ = model.fit(images, images, batch_size=32, epochs=1, verbose=0)
        >>> model.fit_normalization(images).encode(images).shape
        (64, 7, 7, 4)
        >>> model.decode(model.encode(images[:2])).shape
        (2, 28, 28, 1)
    """

    NESTED = ("encoder", "decoder")

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        latent_shape = tuple(encoder.output_shape[1:])
        if tuple(decoder.input_shape[1:]) != latent_shape:
            raise ValueError(
                f"Expected a decoder that takes the encoder's latents "
                f"{(None, *latent_shape)}. Received: decoder input shape "
                f"{decoder.input_shape}"
            )
        if tuple(decoder.output_shape[1:]) != tuple(encoder.input_shape[1:]):
            raise ValueError(
                f"Expected a decoder that outputs the encoder's image shape "
                f"{encoder.input_shape}. Received: {decoder.output_shape}"
            )
        self.image_shape = tuple(int(d) for d in encoder.input_shape[1:])
        self.latent_shape = tuple(int(d) for d in latent_shape)
        channels = self.latent_shape[-1]
        self.latent_mean = self.add_weight(
            shape=(channels,), initializer="zeros", trainable=False, name="latent_mean"
        )
        self.latent_std = self.add_weight(
            shape=(channels,), initializer="ones", trainable=False, name="latent_std"
        )
        self.built = True

    def compile(self, optimizer=None, loss="mean_absolute_error", **kwargs):
        """Default ``Adam(1e-3)`` and the mean absolute error (see module docstring)."""
        kwargs.setdefault("jit_compile", False)  # XLA is slower for convs on CPU
        super().compile(
            optimizer=optimizer or keras.optimizers.Adam(1e-3), loss=loss, **kwargs
        )

    def call(self, images, training=False):
        """Reconstruct ``(batch, h, w, c)`` images (raw latents, no normalisation)."""
        return self.decoder(self.encoder(images, training=training), training=training)

    def _check(self, array, shape, name):
        array = np.asarray(array, "float32")
        _checks.check_batch_shape(name, array, shape)
        if not np.isfinite(array).all():
            raise ValueError(f"Expected finite {name}. Received: NaN or inf values")
        return array

    def fit_normalization(self, images, batch_size: int = 500):
        """Measure the latents' per-channel mean and std on ``images``.

        Args:
            images: ``(n, h, w, c)`` in [-1, 1], e.g. 10,000 training images.
            batch_size: Images per encoder call.

        Returns:
            The model, for chaining.
        """
        raw = self._encode_raw(
            self._check(images, self.image_shape, "images"), batch_size
        )
        axes = tuple(range(raw.ndim - 1))
        self.latent_mean.assign(raw.mean(axis=axes))
        self.latent_std.assign(np.maximum(raw.std(axis=axes), 1e-6))
        return self

    def _encode_raw(self, images, batch_size):
        batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
        return np.concatenate(
            [
                ops.convert_to_numpy(self.encoder(images[i : i + batch_size]))
                for i in range(0, len(images), batch_size)
            ]
        )

    def encode(self, images, batch_size: int = 500) -> np.ndarray:
        """Images ``(n, h, w, c)`` -> normalised latents ``(n, h/4, w/4, C)``."""
        images = self._check(images, self.image_shape, "images")
        raw = self._encode_raw(images, batch_size)
        mean = ops.convert_to_numpy(self.latent_mean)
        std = ops.convert_to_numpy(self.latent_std)
        return ((raw - mean) / std).astype("float32")

    def decode(self, latents, batch_size: int = 500) -> np.ndarray:
        """Normalised latents ``(n, h, w, C)`` -> images in [-1, 1]."""
        latents = self._check(latents, self.latent_shape, "latents")
        batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
        mean = ops.convert_to_numpy(self.latent_mean)
        std = ops.convert_to_numpy(self.latent_std)
        raw = latents * std + mean
        return np.concatenate(
            [
                ops.convert_to_numpy(self.decoder(raw[i : i + batch_size]))
                for i in range(0, len(raw), batch_size)
            ]
        ).astype("float32")

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
        }


def build_latent_autoencoder(
    image_shape=(28, 28, 1), latent_channels: int = 4, base_filters: int = 32
) -> LatentAutoencoder:
    """A :class:`LatentAutoencoder` from the two builders, mirrored.

    Example:
        >>> build_latent_autoencoder(base_filters=8).latent_shape
        (7, 7, 4)
    """
    encoder = build_latent_encoder(image_shape, latent_channels, base_filters)
    decoder = build_latent_decoder(
        encoder.output_shape[1:], encoder.input_shape[-1], base_filters
    )
    return LatentAutoencoder(encoder, decoder)
