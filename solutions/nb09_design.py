"""Solutions to the design exercises of notebook 09 (draw me a sandal)."""

from __future__ import annotations

import numpy as np

from keras_gen import _checks
from keras_gen.adherence import design_report
from keras_gen.conditional import generate


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


def truncation_tradeoff(
    model, temperatures=(1.0, 0.7, 0.3), n: int = 1000, seed: int = 1
) -> list[dict]:
    """Exercise 9.2: adherence and Fréchet distance against the noise temperature.

    Draws ``n`` images of every class at each temperature with
    :func:`keras_gen.conditional.generate` (the same noise, scaled) and scores
    them with :func:`keras_gen.adherence.design_report`. Colder noise stays
    where the decoder saw the most data: adherence rises, and the Fréchet
    distance (realism *and* variety) is what pays.

    Args:
        model: A trained conditional model (the shipped designer).
        temperatures: Noise scales to compare, each >= 0.
        n: Images per class (128 to 1,000, as ``design_report`` requires).
        seed: Seed of the noise, the same at every temperature.

    Returns:
        ``[{"temperature", "adherence", "frechet"}, ...]`` in the given order.
    """
    if not temperatures:
        raise ValueError("Expected at least one temperature. Received: temperatures=()")
    requested = np.repeat(np.arange(model.num_classes), n)
    rows = []
    for t in temperatures:
        images = generate(
            model, range(model.num_classes), n=n, seed=seed, temperature=t
        )
        overall = design_report(images, requested).overall
        rows.append(
            {
                "temperature": float(t),
                "adherence": float(overall["adherence"]),
                "frechet": float(overall["frechet"]),
            }
        )
    return rows
