"""Numbers that describe a set of generated images.

Diversity is the first thing a GAN can lose (mode collapse), so it is the first
number measured here: the mean distance between two samples, divided by the
same quantity for real images (1.0 = as varied as the data; near 0 = the same
image again and again).
"""

from __future__ import annotations

import numpy as np


def mean_pairwise_distance(images, max_images: int = 500, seed: int = 0) -> float:
    """Mean Euclidean distance between two different images of a set.

    Args:
        images: ``(n, ...)`` array, n >= 2; flattened per image.
        max_images: Use a random subset of at most this many images (the cost
            grows with n squared).
        seed: Seed for that subset.

    Returns:
        The mean over all pairs ``i < j`` of ``||x_i - x_j||``.

    Example:
        >>> mean_pairwise_distance(np.stack([np.zeros(4), np.ones(4)]))
        2.0
    """
    images = np.asarray(images, dtype="float64")
    if images.ndim < 2 or len(images) < 2:
        raise ValueError(
            "Expected at least 2 images with shape (n, ...). "
            f"Received: shape={images.shape}"
        )
    if len(images) > max_images:
        keep = np.random.default_rng(seed).choice(
            len(images), max_images, replace=False
        )
        images = images[keep]
    flat = images.reshape(len(images), -1)
    squared = (flat**2).sum(1)
    gram = np.maximum(squared[:, None] + squared[None] - 2 * flat @ flat.T, 0.0)
    upper = np.triu_indices(len(flat), k=1)
    return float(np.sqrt(gram[upper]).mean())


def average_pool(images, pool: int) -> np.ndarray:
    """Average ``pool`` x ``pool`` blocks of images ``(n, h, w, c)``.

    Example:
        >>> average_pool(np.ones((1, 4, 4, 1)), 2).shape
        (1, 2, 2, 1)
    """
    images = np.asarray(images, dtype="float64")
    n, height, width, channels = images.shape
    if height % pool or width % pool:
        raise ValueError(
            f"Expected height and width divisible by pool={pool}. "
            f"Received: shape={images.shape}"
        )
    blocks = images.reshape(n, height // pool, pool, width // pool, pool, channels)
    return blocks.mean(axis=(2, 4))


def diversity_ratio(
    generated, real, pool: int = 4, max_images: int = 500, seed: int = 0
) -> float:
    """Pairwise distance of generated images relative to real ones.

    Distances are taken between coarse ``pool`` x ``pool`` averages (7x7 for
    28x28 images): pixel-level speckle would otherwise make a generator that
    draws one noisy shape over and over look varied.

    Args:
        generated: Generated images ``(n, h, w, c)`` in [-1, 1].
        real: Real images, same range and shape per image.
        pool: Block size of the average pooling (1 = raw pixels).
        max_images: Subset size per set (see :func:`mean_pairwise_distance`).
        seed: Subset seed.

    Returns:
        About 1.0 for a generator as varied as the data, near 0.0 for a
        collapsed one.

    Example:
        >>> real = np.random.default_rng(0).uniform(-1, 1, (50, 8, 8, 1))
        >>> round(diversity_ratio(np.repeat(real[:1], 50, 0), real), 2)
        0.0
    """
    generated = np.asarray(generated)
    real = np.asarray(real)
    if generated.shape[1:] != real.shape[1:]:
        raise ValueError(
            "Expected generated and real images of the same shape. Received: "
            f"generated.shape={generated.shape}, real.shape={real.shape}"
        )
    if generated.ndim != 4:
        raise ValueError(
            f"Expected images of shape (n, h, w, c). Received: shape={generated.shape}"
        )
    generated, real = average_pool(generated, pool), average_pool(real, pool)
    return mean_pairwise_distance(generated, max_images, seed) / mean_pairwise_distance(
        real, max_images, seed
    )
