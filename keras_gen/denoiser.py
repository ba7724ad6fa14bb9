"""The denoiser of a diffusion model: a small U-Net with a time embedding.

A diffusion model (:mod:`keras_gen.diffusion`) learns one network that is
shown a noisy image ``x_t``, the noise level ``t`` and (optionally) a
condition, and predicts what noise was added. The classic architecture
(Ho et al., 2020, after Ronneberger et al.'s U-Net, 2015) is a convolutional
encoder-decoder with skip connections: the encoder halves the resolution to
see the whole image, the decoder brings it back, and the skips carry the fine
detail across. Every residual block is told ``t`` (and the condition) through
an embedding vector that scales and shifts its features (FiLM, Perez et al.,
2018), so one network serves every noise level.

:func:`build_denoiser` builds a compact version that works on any
``(height, width, channels)``: 28x28x1 pixels or 7x7x4 autoencoder latents
alike (inputs are zero-padded to a multiple of the downsampling factor and the
output is cropped back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers, ops

from keras_gen import _checks


@keras.saving.register_keras_serializable(package="keras_gen")
class SinusoidalEmbedding(layers.Layer):
    """The Transformer's sinusoidal position code, used for the timestep.

    ``t`` becomes ``[sin(t * f_0), ..., sin(t * f_{k-1}), cos(t * f_0), ...]``
    with frequencies ``f_i = max_period ** (-i / k)`` and ``k = dim / 2``
    (Vaswani et al., 2017, section 3.5; Ho et al., 2020, appendix B): nearby
    timesteps get similar codes, and the dense layers after it can read both
    coarse and fine differences in ``t``.

    Args:
        dim: Size of the code, an even number >= 2.
        max_period: The longest period, in timesteps.
        **kwargs: Passed to ``keras.layers.Layer``.

    Input shape:
        ``(batch,)`` timesteps (float or int).

    Output shape:
        ``(batch, dim)``.

    Example:
        >>> import numpy as np
        >>> code = SinusoidalEmbedding(4)(np.array([0.0, 1.0]))
        >>> np.round(ops.convert_to_numpy(code).astype(float), 3).tolist()
        [[0.0, 0.0, 1.0, 1.0], [0.841, 0.01, 0.54, 1.0]]
    """

    def __init__(self, dim: int, max_period: float = 10_000.0, **kwargs):
        super().__init__(**kwargs)
        self.dim = _checks.check_int("dim", dim, minimum=2)
        if self.dim % 2:
            raise ValueError(
                f"Expected an even dim (half sines, half cosines). Received: dim={dim}"
            )
        self.max_period = _checks.check_float(
            "max_period", max_period, minimum=1.0, min_inclusive=False
        )

    def call(self, timesteps):
        half = self.dim // 2
        frequencies = ops.exp(
            -math.log(self.max_period) * ops.arange(half, dtype="float32") / half
        )  # (half,)
        angles = ops.cast(timesteps, "float32")[:, None] * frequencies[None, :]
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "max_period": self.max_period,
        }


def _group_norm(channels: int, groups: int):
    # GroupNorm, as in the DDPM U-Net: unlike BatchNorm it does not depend on
    # the batch, so training and sampling (batches of 1 or 1,000) agree.
    return layers.GroupNormalization(groups=math.gcd(groups, channels))


def _residual_block(features, embedding, channels: int, groups: int):
    """Two 3x3 convolutions, FiLM-ed by the embedding, plus a skip."""
    if features.shape[-1] == channels:
        skip = features
    else:
        skip = layers.Conv2D(channels, 1)(features)  # match the channel count
    hidden = _group_norm(features.shape[-1], groups)(features)
    hidden = layers.Activation("swish")(hidden)
    hidden = layers.Conv2D(channels, 3, padding="same")(hidden)  # (b, h, w, ch)
    # FiLM: features * scale + shift, with scale and shift read from the
    # time (and condition) embedding. scale starts at exactly 1.
    scale = layers.Dense(channels, kernel_initializer="zeros", bias_initializer="ones")(
        embedding
    )
    shift = layers.Dense(channels)(embedding)
    scale = layers.Reshape((1, 1, channels))(scale)  # (b, 1, 1, ch)
    shift = layers.Reshape((1, 1, channels))(shift)
    hidden = layers.Add()([layers.Multiply()([hidden, scale]), shift])
    hidden = layers.Activation("swish")(_group_norm(channels, groups)(hidden))
    hidden = layers.Conv2D(channels, 3, padding="same")(hidden)
    return layers.Add()([skip, hidden])  # (b, h, w, ch)


def _space_to_depth(features, shape, patch: int):
    """(b, H, W, c) -> (b, H/p, W/p, p*p*c), with Keras layers only."""
    height, width, channels = shape
    rows, cols = height // patch, width // patch
    features = layers.Reshape((rows, patch, cols, patch, channels))(features)
    features = layers.Permute((1, 3, 2, 4, 5))(features)  # (b, H/p, W/p, p, p, c)
    return layers.Reshape((rows, cols, patch * patch * channels))(features)


def _depth_to_space(features, shape, patch: int):
    """(b, H/p, W/p, p*p*c) -> (b, H, W, c), the inverse of _space_to_depth."""
    height, width, channels = shape
    rows, cols = height // patch, width // patch
    features = layers.Reshape((rows, cols, patch, patch, channels))(features)
    features = layers.Permute((1, 3, 2, 4, 5))(features)  # (b, H/p, p, W/p, p, c)
    return layers.Reshape((height, width, channels))(features)


def _check_multipliers(channel_multipliers) -> tuple[int, ...]:
    if isinstance(channel_multipliers, (str, bytes)) or not isinstance(
        channel_multipliers, Sequence
    ) or not channel_multipliers:
        raise ValueError(
            "Expected channel_multipliers to be a non-empty sequence of ints such "
            f"as (1, 2, 2). Received: channel_multipliers={channel_multipliers!r}"
        )
    return tuple(
        _checks.check_int("channel_multipliers[i]", m, minimum=1)
        for m in channel_multipliers
    )


def build_denoiser(
    input_shape: Sequence[int] = (28, 28, 1),
    condition_dim: int | None = None,
    base_filters: int = 32,
    channel_multipliers: Sequence[int] = (1, 2, 2),
    blocks_per_level: int = 1,
    groups: int = 8,
    patch_size: int = 1,
) -> keras.Model:
    """Build a compact U-Net denoiser with a time embedding and a condition.

    Each *level* has ``blocks_per_level`` residual blocks of
    ``base_filters * multiplier`` channels; between levels a stride-2
    convolution halves the resolution (the way down) and an upsampling plus
    convolution doubles it (the way up), with the way-down features
    concatenated in. The timestep goes through :class:`SinusoidalEmbedding`
    and two Dense layers; the condition vector, if any, is projected and
    added to it; every residual block scales and shifts its features by this
    embedding.

    Args:
        input_shape: ``(height, width, channels)`` of the images or latents.
            Any size: inputs are zero-padded up to a multiple of
            ``2 ** (len(channel_multipliers) - 1)`` and the output is cropped.
        condition_dim: Size of the condition vector, or None for an
            unconditional denoiser (two inputs instead of three).
        base_filters: Channels of the first level; the embedding has
            ``4 * base_filters`` units.
        channel_multipliers: One multiplier per level, first (full
            resolution) to last.
        blocks_per_level: Residual blocks per level on the way down (and the
            same number on the way up).
        groups: Groups of the GroupNormalization layers (reduced to a divisor
            of the channel count where needed).
        patch_size: Fold each ``patch_size x patch_size`` patch into the
            channels first ("space to depth", as a ViT's patches), so the
            U-Net runs at ``1 / patch_size`` of the resolution: 2 makes a
            28x28x1 pixel model about 4x cheaper on a CPU.

    Returns:
        A ``keras.Model`` named ``"denoiser"`` mapping
        ``[noisy (batch, h, w, c), timesteps (batch,), condition (batch,
        condition_dim)]`` (no condition when ``condition_dim`` is None) to a
        prediction of shape ``(batch, h, w, c)``. The last convolution starts
        at zero, so the untrained model predicts zeros.

    Example:
        >>> import numpy as np
        >>> denoiser = build_denoiser((7, 7, 4), condition_dim=8, base_filters=8,
        ...                           channel_multipliers=(1, 2))
        >>> out = denoiser([np.zeros((2, 7, 7, 4)), np.array([3, 999]),
        ...                 np.zeros((2, 8))])
        >>> tuple(out.shape)
        (2, 7, 7, 4)
    """
    height, width, channels = _checks.check_image_shape(input_shape)
    if condition_dim is not None:
        condition_dim = _checks.check_int("condition_dim", condition_dim, minimum=1)
    base_filters = _checks.check_int("base_filters", base_filters, minimum=1)
    multipliers = _check_multipliers(channel_multipliers)
    blocks_per_level = _checks.check_int(
        "blocks_per_level", blocks_per_level, minimum=1
    )
    groups = _checks.check_int("groups", groups, minimum=1)
    patch_size = _checks.check_int("patch_size", patch_size, minimum=1)

    noisy = keras.Input(shape=(height, width, channels), name="noisy")
    timesteps = keras.Input(shape=(), name="timestep")
    inputs = [noisy, timesteps]
    embedding_dim = 4 * base_filters
    embedding = SinusoidalEmbedding(embedding_dim, name="time_code")(timesteps)
    embedding = layers.Dense(embedding_dim, activation="swish")(embedding)
    embedding = layers.Dense(embedding_dim)(embedding)  # (batch, embedding_dim)
    if condition_dim is not None:
        condition = keras.Input(shape=(condition_dim,), name="condition")
        inputs.append(condition)
        embedding = layers.Add()([embedding, layers.Dense(embedding_dim)(condition)])
    embedding = layers.Activation("swish", name="embedding")(embedding)

    # Pad so that every halving is exact: 7x7 latents -> 8x8 for one halving.
    factor = patch_size * 2 ** (len(multipliers) - 1)
    pad_h, pad_w = (-height) % factor, (-width) % factor
    padded = (height + pad_h, width + pad_w, channels)
    hidden = noisy
    if pad_h or pad_w:
        hidden = layers.ZeroPadding2D(((0, pad_h), (0, pad_w)))(hidden)
    if patch_size > 1:
        hidden = _space_to_depth(hidden, padded, patch_size)  # (b, H/p, W/p, p*p*c)
    hidden = layers.Conv2D(base_filters, 3, padding="same")(hidden)  # (b, H, W, f)

    skips = []
    for level, multiplier in enumerate(multipliers):
        for _ in range(blocks_per_level):
            channels_here = base_filters * multiplier
            hidden = _residual_block(hidden, embedding, channels_here, groups)
            skips.append(hidden)
        if level < len(multipliers) - 1:  # (b, H, W, ch) -> (b, H/2, W/2, ch)
            hidden = layers.Conv2D(
                hidden.shape[-1], 3, strides=2, padding="same"
            )(hidden)
    hidden = _residual_block(hidden, embedding, hidden.shape[-1], groups)  # middle
    for level in reversed(range(len(multipliers))):
        channels_here = base_filters * multipliers[level]
        for _ in range(blocks_per_level):
            hidden = layers.Concatenate()([hidden, skips.pop()])
            hidden = _residual_block(hidden, embedding, channels_here, groups)
        if level > 0:  # (b, H', W', ch) -> (b, 2H', 2W', ch)
            hidden = layers.UpSampling2D(2)(hidden)
            hidden = layers.Conv2D(channels_here, 3, padding="same")(hidden)

    hidden = layers.Activation("swish")(_group_norm(hidden.shape[-1], groups)(hidden))
    output = layers.Conv2D(
        channels * patch_size**2,
        3,
        padding="same",
        kernel_initializer="zeros",
        name="prediction",
    )(hidden)
    if patch_size > 1:
        output = _depth_to_space(output, padded, patch_size)  # (b, H, W, c)
    if pad_h or pad_w:
        output = layers.Cropping2D(((0, pad_h), (0, pad_w)))(output)  # (b, h, w, c)
    return keras.Model(inputs, output, name="denoiser")
