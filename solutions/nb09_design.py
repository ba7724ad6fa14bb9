"""Solutions to the design exercises of notebook 09 (draw me a sandal)."""

from __future__ import annotations

import numpy as np

from keras_gen import _checks
from keras_gen.conditional import class_ids
from keras_gen.gan import latent_vectors


def design_confusions(confusion, class_names, top: int = 3) -> list[tuple]:
    """Exercise 9.1: the most frequent mistakes, from a confusion matrix.

    Args:
        confusion: ``(C, C)`` shares, row = requested class, column = the class
            the judge saw (``DesignReport.confusion``).
        class_names: ``C`` names.
        top: How many mistakes to return.

    Returns:
        ``[(requested name, seen name, share), ...]``, largest share first,
        off the diagonal only (the diagonal is the adherence).
    """
    confusion = np.nan_to_num(np.asarray(confusion, dtype="float64"))
    top = _checks.check_int("top", top, minimum=1)
    mistakes = confusion.copy()
    np.fill_diagonal(mistakes, -1.0)
    order = np.argsort(mistakes, axis=None)[::-1][:top]
    rows, cols = np.unravel_index(order, mistakes.shape)
    return [
        (class_names[r], class_names[c], float(confusion[r, c]))
        for r, c in zip(rows, cols, strict=True)
    ]


def generate_with_temperature(
    model, classes, n: int = 1, temperature: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Exercise 9.2: draw with noise scaled by ``temperature`` (<= 1 is safer).

    The noise of :func:`keras_gen.conditional.generate` multiplied by
    ``temperature``: 1 gives the same images as ``generate``, 0 gives every
    image of a class the same (the "average" design). BigGAN's truncation
    trick (Brock et al., 2019) trades variety for fidelity the same way.

    Returns:
        float32 ``(k * n, *image_shape)`` in [-1, 1], class by class.
    """
    ids = class_ids(classes, model.num_classes)
    n = _checks.check_int("n", n, minimum=1)
    temperature = _checks.check_float("temperature", temperature, minimum=0)
    requested = np.repeat(ids, n)
    latents = temperature * latent_vectors(len(requested), model.latent_dim, seed=seed)
    one_hot = np.eye(model.num_classes, dtype="float32")[requested]
    return model.render(latents, one_hot)
