"""Numbers that describe a set of generated images.

Diversity is the first thing a GAN can lose (mode collapse), so it is the first
number measured here: the mean distance between two samples, divided by the
same quantity for real images (1.0 = as varied as the data; near 0 = the same
image again and again).

Quality is measured the way FID does it (Heusel et al., 2017), on the features
of a small classifier that ``keras_gen`` trains itself (see
:mod:`keras_gen.classifier`, cached in ``~/.cache/keras_gen/classifiers``):

- :func:`frechet_distance`: how far the feature statistics of generated images
  are from those of real test images (0 = identical Gaussians);
- :func:`real_data_floor`: the same distance between real training images and
  real test images. A perfect generator would score this, not 0, because two
  finite samples always differ; every score is reported beside it;
- :func:`class_coverage`: which classes the classifier sees in the samples and
  the entropy of that histogram (log 10 = all ten classes equally, 0 = one);
- :func:`image_quality`: all three at once;
- :func:`evaluate_elbo`: a VAE's test negative ELBO, in nats per image.

Images are checked first: shape ``(n, 28, 28, 1)``, values in [-1, 1] (the
range of :func:`keras_gen.data.load_images` and of the generators' ``tanh``)
and at least :data:`MIN_SAMPLES` of them for a stable covariance estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from keras_gen._checks import check_int, check_seed

#: Float32 numbers one block of differences may hold in
#: :func:`mean_pairwise_distance` (16 MB), whatever the number of images.
PAIRWISE_BLOCK_NUMBERS = 1 << 22


def mean_pairwise_distance(
    images, max_images: int | None = 500, seed: int = 0
) -> float:
    """Mean Euclidean distance between two different images of a set.

    The one pairwise-distance measure of the package (the diversity of
    :func:`diversity_ratio` and of
    :func:`keras_gen.text_to_image.model.guidance_sweep`). Differences are taken
    in float32, a block of rows at a time (at most
    :data:`PAIRWISE_BLOCK_NUMBERS` numbers), and summed in float64: the
    memory stays bounded however many images there are, and no
    ``(n, n, features)`` array is ever built.

    Args:
        images: ``(n, ...)`` array, n >= 2; flattened per image.
        max_images: Use a random subset of at most this many images (the
            time grows with n squared); ``None`` for all of them.
        seed: Seed for that subset.

    Returns:
        The mean over all pairs ``i < j`` of ``||x_i - x_j||``.

    Example:
        >>> mean_pairwise_distance(np.stack([np.zeros(4), np.ones(4)]))
        2.0
        >>> points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
        >>> mean_pairwise_distance(points, max_images=None)  # (5 + 4 + 3) / 3
        4.0
    """
    images = np.asarray(images)
    check_seed("seed", seed)
    if max_images is not None:
        max_images = check_int("max_images", max_images, minimum=2)
    if images.ndim < 2 or len(images) < 2:
        raise ValueError(
            "Expected at least 2 images with shape (n, ...). "
            f"Received: shape={images.shape}"
        )
    if max_images is not None and len(images) > max_images:
        keep = np.random.default_rng(seed).choice(
            len(images), max_images, replace=False
        )
        images = images[keep]
    flat = images.reshape(len(images), -1).astype("float32")  # (n, d)
    n, d = flat.shape
    rows = max(1, PAIRWISE_BLOCK_NUMBERS // max(n * d, 1))
    total = 0.0
    for start in range(0, n - 1, rows):
        block = flat[start : start + rows]  # (b, d)
        later = flat[start + 1 :]  # (n - start - 1, d): every j > i is in here
        diff = block[:, None, :] - later[None, :, :]  # (b, n - start - 1, d)
        distances = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))  # (b, n-s-1)
        # Row i of the block pairs with j > i: columns from its own offset on.
        upper = np.arange(later.shape[0])[None, :] >= np.arange(len(block))[:, None]
        total += float(distances[upper].sum(dtype="float64"))
    return total / (n * (n - 1) / 2)


def average_pool(images, pool: int) -> np.ndarray:
    """Average ``pool`` x ``pool`` blocks of images ``(n, h, w, c)``.

    Example:
        >>> average_pool(np.ones((1, 4, 4, 1)), 2).shape
        (1, 2, 2, 1)
    """
    images = np.asarray(images, dtype="float64")
    pool = check_int("pool", pool, minimum=1)
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
    real_distance = mean_pairwise_distance(real, max_images, seed)
    if real_distance == 0:
        raise ValueError(
            "Expected real images that differ from each other (the ratio divides "
            "by their mean distance). Received: real images that are all the "
            "same after pooling."
        )
    return mean_pairwise_distance(generated, max_images, seed) / real_distance


#: Fewest images a Fréchet distance is computed on: twice the 64 features, so
#: the 64x64 covariance matrix is estimated from more samples than it has rows.
MIN_SAMPLES = 128
#: Images of the ``(n, 28, 28, 1)`` shape the classifier reads.
IMAGE_SHAPE = (28, 28, 1)
# Generated pixels may overshoot [-1, 1] by rounding only.
_RANGE_TOLERANCE = 1e-3


def check_images(images, name: str = "images", min_samples: int = 1) -> np.ndarray:
    """Refuse images the quality classifier cannot judge, with a clear message.

    Args:
        images: Array-like ``(n, 28, 28, 1)`` with values in [-1, 1].
        name: The argument name used in error messages.
        min_samples: Fewest images accepted.

    Returns:
        The images as a float32 NumPy array.

    Raises:
        ValueError: For a wrong shape, values outside [-1, 1], images that look
            like the [0, 1] range, non-finite values or too few images.

    Example:
        >>> check_images(np.zeros((3, 28, 28)))
        Traceback (most recent call last):
        ...
        ValueError: Expected images of shape (n, 28, 28, 1). Received: \
images.shape=(3, 28, 28). Add the channel axis: images[..., None].
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        fix = (
            " Add the channel axis: images[..., None]."
            if images.shape[1:] == IMAGE_SHAPE[:2]
            else ""
        )
        raise ValueError(
            f"Expected {name} of shape (n, 28, 28, 1). "
            f"Received: {name}.shape={images.shape}.{fix}"
        )
    if len(images) < min_samples:
        raise ValueError(
            f"Expected at least {min_samples} {name} for a stable estimate. "
            f"Received: {len(images)} {name}. Generate more samples."
        )
    if not np.all(np.isfinite(images)):
        raise ValueError(
            f"Expected finite {name}. Received: {name} with NaN or inf values. "
            "Check the model that produced them (did training diverge?)."
        )
    low, high = float(images.min()), float(images.max())
    if low < -1 - _RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        fix = " Scale uint8 images with x / 127.5 - 1." if high > 2 else ""
        raise ValueError(
            f"Expected {name} in [-1, 1] (the range of keras_gen.data.load_images). "
            f"Received: {name} in [{low:.3g}, {high:.3g}].{fix}"
        )
    if low >= 0 and len(images) > 1:
        raise ValueError(
            f"Expected {name} in [-1, 1] (the range of keras_gen.data.load_images). "
            f"Received: {name} in [{low:.3g}, {high:.3g}]: every pixel is >= 0, "
            "which looks like the [0, 1] range. Rescale with x * 2 - 1."
        )
    return images


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    # Covariances are symmetric positive semi-definite: eigh is exact and stable,
    # and clipping removes the tiny negative eigenvalues that rounding creates.
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def feature_frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors.

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. The trace of the
    matrix square root is computed with NumPy alone, as
    ``sum(sqrt(eig(S_a^(1/2) S_b S_a^(1/2))))``: that matrix is symmetric and has
    the same eigenvalues as ``S_a S_b``, so no SciPy is needed.

    Args:
        features_a: ``(n, d)`` array.
        features_b: ``(m, d)`` array.

    Returns:
        The squared Fréchet (2-Wasserstein) distance, >= 0.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(2000, 2))
        >>> round(feature_frechet_distance(a, a + [3.0, 0.0]), 6)
        9.0
    """
    a = np.asarray(features_a, dtype="float64")
    b = np.asarray(features_b, dtype="float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            "Expected two feature arrays (n, d) and (m, d). "
            f"Received: features_a.shape={a.shape}, features_b.shape={b.shape}"
        )
    if min(len(a), len(b)) < 2:
        raise ValueError(
            "Expected at least 2 feature vectors per set for a covariance. "
            f"Received: {len(a)} and {len(b)}"
        )
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    cov_a, cov_b = np.atleast_2d(cov_a), np.atleast_2d(cov_b)
    root_a = _symmetric_sqrt(cov_a)
    product = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(
        np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0, None)
    )
    distance = (
        np.sum((mean_a - mean_b) ** 2)
        + np.trace(cov_a)
        + np.trace(cov_b)
        - 2 * trace_sqrt.sum()
    )
    return float(max(distance, 0.0))


def frechet_distance(generated, real, dataset: str = "fashion_mnist") -> float:
    """Fréchet distance between generated and real images, in classifier features.

    Lower is better. Compare it with :func:`real_data_floor` computed on as many
    images: that is what a perfect generator would score.

    Args:
        generated: ``(n, 28, 28, 1)`` in [-1, 1], n >= ``MIN_SAMPLES``.
        real: ``(m, 28, 28, 1)`` in [-1, 1], m >= ``MIN_SAMPLES``.
        dataset: Whose classifier (the data set the generator learned).

    Returns:
        The distance, >= 0.

    Raises:
        ValueError: For a wrong shape, range or too few images.

    Example:
        >>> # frechet_distance(gan.generate(2000, seed=1), test_images[:2000])
    """
    from keras_gen import classifier

    generated = check_images(generated, "generated", MIN_SAMPLES)
    real = check_images(real, "real", MIN_SAMPLES)
    features_g = classifier.features_and_predictions(generated, dataset)[0]
    features_r = classifier.features_and_predictions(real, dataset)[0]
    return feature_frechet_distance(features_g, features_r)


def _real_samples(dataset: str, n: int, seed: int):
    from keras_gen import data

    rng = np.random.default_rng(seed)
    # The uint8 images, scaled after drawing: only 2n images are converted.
    train, _ = data.load_images(dataset, "train", raw=True)
    test, _ = data.load_images(dataset, "test", raw=True)
    if n > len(test):
        raise ValueError(
            f"Expected n <= {len(test)} (the test split's size). Received: n={n}"
        )
    return (
        data.scale_images(train[rng.choice(len(train), n, replace=False)]),
        data.scale_images(test[rng.choice(len(test), n, replace=False)]),
    )


def real_data_floor(n: int, dataset: str = "fashion_mnist", seed: int = 0) -> float:
    """The Fréchet distance a perfect generator would reach with ``n`` samples.

    Two finite samples of the *same* distribution never have identical
    statistics, so even real images score above 0: this is the distance between
    ``n`` training images and ``n`` test images, drawn with ``seed``. It grows as
    ``n`` shrinks, which is why scores are only comparable at equal ``n``.

    Args:
        n: Images per side, >= ``MIN_SAMPLES``.
        dataset: ``"fashion_mnist"`` or ``"mnist"``.
        seed: Which images are drawn.

    Returns:
        The floor distance.

    Example:
        >>> # real_data_floor(2000) is far below real_data_floor(200)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < MIN_SAMPLES:
        raise ValueError(
            f"Expected n >= {MIN_SAMPLES} for a stable estimate. Received: n={n!r}"
        )
    train, test = _real_samples(dataset, int(n), seed)
    return frechet_distance(train, test, dataset)


def class_coverage(images, dataset: str = "fashion_mnist") -> dict:
    """Which classes the quality classifier sees in a set of images.

    A generator that covers the data draws every class about equally often:
    entropy near ``log(10)`` (2.303 nats). A collapsed one draws one or two:
    entropy near 0.

    Args:
        images: ``(n, 28, 28, 1)`` in [-1, 1], n >= 10.
        dataset: Whose classifier.

    Returns:
        ``{"histogram": fractions per class (sums to 1), "entropy": nats,
        "max_entropy": log(num_classes), "classes_seen": classes with >= 1%}``.

    Example:
        >>> # class_coverage(np.repeat(test_images[:1], 500, 0))["entropy"]  -> 0.0
    """
    from keras_gen import classifier

    images = check_images(images, min_samples=10)
    return _coverage(classifier.features_and_predictions(images, dataset)[1])


def _coverage(predictions) -> dict:
    """:func:`class_coverage`'s dict from predicted class ids ``(n,)``."""
    histogram = np.bincount(predictions, minlength=10) / len(predictions)
    return {
        "histogram": histogram,
        "entropy": _entropy(histogram),
        "max_entropy": math.log(len(histogram)),
        "classes_seen": int(np.sum(histogram >= 0.01)),
    }


def _entropy(histogram) -> float:
    p = np.asarray(histogram, dtype="float64")
    p = p[p > 0]
    return float(max(0.0, -(p * np.log(p)).sum()))  # no "-0.00" for one class


@dataclass
class QualityReport:
    """Image quality of a set of samples, with the floor next to the score.

    Attributes:
        n: Images compared per side.
        frechet: Fréchet distance of the samples to ``n`` real test images.
        floor: Real training images against the same test images.
        coverage: The :func:`class_coverage` dict of the samples.
        coverage_second: The same dict by the second judge of
            :mod:`keras_gen.classifier` (None when it was not asked).
    """

    n: int
    frechet: float
    floor: float
    coverage: dict
    coverage_second: dict | None = None

    @property
    def ratio(self) -> float:
        """Score over floor: 1.0 would be as good as real data."""
        return self.frechet / self.floor

    def __str__(self) -> str:
        return (
            f"Fréchet distance {self.frechet:.2f} (floor {self.floor:.2f}, "
            f"ratio {self.ratio:.1f}), class entropy "
            f"{self.coverage['entropy']:.2f} of {self.coverage['max_entropy']:.2f}"
            + (
                f" (second judge {self.coverage_second['entropy']:.2f})"
                if self.coverage_second is not None
                else ""
            )
        )


def image_quality(
    generated, dataset: str = "fashion_mnist", seed: int = 0, second_judge: bool = True
) -> QualityReport:
    """Fréchet distance, its real-data floor and class coverage in one call.

    The generated images and ``n`` real training images (the floor) are both
    compared with the same ``n`` real test images, so score and floor differ
    only in where the first set came from.

    Args:
        generated: ``(n, 28, 28, 1)`` in [-1, 1], ``MIN_SAMPLES <= n <= 10000``.
        dataset: The data set the generator learned.
        seed: Which real images are drawn.
        second_judge: Also give the class coverage the second judge of
            :mod:`keras_gen.classifier` sees (trained on first use, then cached).

    Returns:
        A :class:`QualityReport`; ``print()`` it for one line.

    Example:
        >>> # print(image_quality(gan.generate(2000, seed=1)))
    """
    from keras_gen import classifier

    generated = check_images(generated, "generated", MIN_SAMPLES)
    n = len(generated)
    train, test = _real_samples(dataset, n, seed)
    features, predictions = classifier.features_and_predictions(generated, dataset)
    train_features = classifier.features_and_predictions(train, dataset)[0]
    test_features = classifier.features_and_predictions(test, dataset)[0]
    return QualityReport(
        n=n,
        frechet=feature_frechet_distance(features, test_features),
        floor=feature_frechet_distance(train_features, test_features),
        coverage=_coverage(predictions),  # one classifier pass for both
        coverage_second=(
            _coverage(
                classifier.features_and_predictions(generated, dataset, judge="second")[
                    1
                ]
            )
            if second_judge
            else None
        ),
    )


def evaluate_elbo(vae, images, batch_size: int = 500, seed: int = 0) -> float:
    """A VAE's negative ELBO on ``images``, in nats per image (lower is better).

    One latent sample per image, drawn with ``seed``, so the number repeats.

    Args:
        vae: A :class:`keras_gen.vae.VAE`.
        images: ``(n, h, w, c)`` in [-1, 1] of the VAE's image shape, n >= 1.
        batch_size: Images per forward pass.
        seed: Seed of the latent samples.

    Returns:
        Mean of reconstruction + KL over the images, in nats.

    Example:
        >>> from keras_gen.vae import VAE, build_decoder, build_encoder
        >>> model = VAE(build_encoder(2, (4, 4, 1)), build_decoder(2, (4, 4, 1)))
        >>> evaluate_elbo(model, np.zeros((3, 4, 4, 1))) > 0
        True
    """
    images = np.asarray(images, dtype="float32")
    expected = tuple(vae.image_shape)
    if images.ndim != 4 or images.shape[1:] != expected:
        raise ValueError(
            f"Expected images of shape (n, {', '.join(map(str, expected))}). "
            f"Received: images.shape={images.shape}"
        )
    if len(images) < 1:
        raise ValueError("Expected at least 1 image. Received: 0 images")
    low, high = float(images.min()), float(images.max())
    if low < -1 - _RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        raise ValueError(
            "Expected images in [-1, 1] (the range of keras_gen.data.load_images). "
            f"Received: images in [{low:.3g}, {high:.3g}]."
        )
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        terms = vae.elbo_terms(batch, seed=seed + start)
        total += float(np.sum(terms["reconstruction"] + terms["kl"]))
    return total / len(images)
