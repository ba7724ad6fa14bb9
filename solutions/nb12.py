"""Solutions to the exercises of notebook 12 (diffusion and text to image)."""

from __future__ import annotations

import math

import numpy as np

from keras_gen import _checks
from keras_gen.text_to_image import captions


def x0_and_eps_from_v(x_t, v, abar: float):
    """Exercise 12.1: the clean image and the noise from a v prediction.

    With ``x_t = a x_0 + s eps`` and ``v = a eps - s x_0`` (``a = sqrt(abar)``,
    ``s = sqrt(1 - abar)``, so ``a^2 + s^2 = 1``)::

        x_0 = a x_t - s v        eps = s x_t + a v

    Args:
        x_t: The noisy input.
        v: The (predicted) velocity, the shape of ``x_t``.
        abar: ``alphas_cumprod`` at the step, in (0, 1].

    Returns:
        ``(x0, eps)`` as float64 arrays.

    Example:
        >>> x0, eps = x0_and_eps_from_v(np.array([0.6]), np.array([0.8]), 0.36)
        >>> np.round(x0, 3).tolist(), np.round(eps, 3).tolist()
        ([-0.28], [0.96])
    """
    abar = _checks.check_float("abar", abar, 0.0, 1.0, min_inclusive=False)
    x_t, v = np.asarray(x_t, "float64"), np.asarray(v, "float64")
    if x_t.shape != v.shape:
        raise ValueError(
            f"Expected v shaped like x_t {x_t.shape}. Received: {v.shape}"
        )
    signal, spread = math.sqrt(abar), math.sqrt(1.0 - abar)
    return signal * x_t - spread * v, spread * x_t + signal * v


def largest_coefficients(abar: float) -> dict:
    """Exercise 12.1: the largest weight each prediction needs to rebuild ``x_0``.

    Returns:
        ``{"v": max(sqrt(abar), sqrt(1 - abar)), "epsilon": 1 / sqrt(abar)}``.

    Example:
        >>> largest_coefficients(0.25)
        {'v': 0.8660254037844386, 'epsilon': 2.0}
    """
    abar = _checks.check_float("abar", abar, 0.0, 1.0, min_inclusive=False)
    return {
        "v": max(math.sqrt(abar), math.sqrt(1.0 - abar)),
        "epsilon": 1.0 / math.sqrt(abar),
    }


def choose_guidance(sweep, target: float = 0.9) -> dict:
    """Exercise 12.2: the smallest guidance scale whose adherence meets ``target``.

    Args:
        sweep: Rows of :func:`keras_gen.text_to_image.model.guidance_sweep` (each
            with ``guidance_scale``, ``class`` and ``diversity``).
        target: Class adherence wanted, in [0, 1].

    Returns:
        The chosen row plus ``"met"`` (whether it reaches the target); when
        no row does, the most adherent one (the smaller scale on ties).

    Example:
        >>> rows = [{"guidance_scale": 0.0, "class": 0.1, "diversity": 9.0},
        ...         {"guidance_scale": 3.0, "class": 0.92, "diversity": 6.0},
        ...         {"guidance_scale": 5.0, "class": 0.95, "diversity": 5.0}]
        >>> choose_guidance(rows)["guidance_scale"]
        3.0
    """
    target = _checks.check_float("target", target, 0.0, 1.0)
    rows = list(sweep)
    if not rows:
        raise ValueError("Expected at least one sweep row. Received: 0")
    for row in rows:
        missing = {"guidance_scale", "class"} - set(row)
        if missing:
            raise ValueError(
                f"Expected rows of guidance_sweep with guidance_scale and class. "
                f"Received: a row without {sorted(missing)}"
            )
    rows.sort(key=lambda r: r["guidance_scale"])
    for row in rows:
        if row["class"] >= target:
            return {**row, "met": True}
    best = max(rows, key=lambda r: (r["class"], -r["guidance_scale"]))
    return {**best, "met": False}


def combination_counts(images, labels) -> dict:
    """Exercise 12.3: images per (label, tone, width), measured on the images.

    Args:
        images: Float images in [-1, 1], ``(n, 28, 28[, 1])``.
        labels: Their labels ``(n,)``.

    Returns:
        ``{(label, tone, width): count}`` over all 40 combinations (zeros
        included).

    Example:
        >>> image = -np.ones((1, 28, 28))
        >>> image[0, 4:24, 10:18] = -0.2   # a dim, narrow bar
        >>> combination_counts(image, [1])[(1, "dark", "narrow")]
        1
    """
    measured = captions.attribute_of(images, labels)
    labels = np.asarray(labels)
    return {
        (label, tone, width): int(
            np.sum(
                (labels == label)
                & (measured["tone"] == tone)
                & (measured["width"] == width)
            )
        )
        for label in range(len(captions.NOUNS))
        for tone in captions.TONES
        for width in captions.WIDTHS
    }


def main(n_images: int | None = None) -> None:
    """Print Exercise 12.3's answer, measured on the training images.

    Args:
        n_images: Use the first ``n_images`` training images (``None``: all
            60,000, as the shipped model was trained).
    """
    from keras_gen import data

    images, labels = data.load_images("fashion_mnist", "train")
    images, labels = images[:n_images], labels[:n_images]
    held_out = captions.held_out_combinations(4, seed=0)  # the shipped model's
    counts = combination_counts(images, labels)
    kept = captions.training_mask(images, labels, held_out)
    left = combination_counts(images[kept], labels[kept])
    print(f"3. {len(images):,} training images, 40 (class, tone, width) combinations;")
    print(f"   the training mask keeps {int(kept.sum()):,} of them, and of the "
          f"held-out combinations it leaves {sum(left[c] for c in held_out)} images.")
    others = sorted(n for c, n in counts.items() if c not in held_out)
    median = float(np.median(others))
    for label, tone, width in held_out:
        n = counts[(label, tone, width)]
        rank = sum(o < n for o in others)
        print(f"   {captions.NOUNS[label]:>10} {tone:<5} {width:<6}: {n:>5} images, "
              f"more than {rank} of the {len(others)} other combinations")
    common = sum(counts[c] >= median for c in held_out)
    print(
        f"   The other combinations have a median of {median:.0f} images. "
        f"{common} of the {len(held_out)} held-out ones are at or above it: "
        + ("mostly common combinations that the model had to compose from "
           "what it learned elsewhere, not rare ones."
           if common * 2 >= len(held_out) else
           "mostly rarer than the median combination, so the held-out test also "
           "asks the model for what the data shows less often.")
    )


if __name__ == "__main__":  # pragma: no cover - prints observed answers
    main()
