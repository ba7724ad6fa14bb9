"""Solutions to the design exercises of notebook 09 (draw me a sandal).

Run ``python -m solutions.nb09_design`` to print exercise 9.1's answer as
this run observes it (under a minute on a 2-core CPU).
"""

from __future__ import annotations

import numpy as np

from keras_gen import _checks, data
from keras_gen.adherence import design_report, prompt_adherence
from keras_gen.conditional import CLASS_NAMES, generate, load_designer


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
        # Only the first judge's columns are reported: skip the second's pass.
        overall = design_report(images, requested, second_judge=False).overall
        rows.append(
            {
                "temperature": float(t),
                "adherence": float(overall["adherence"]),
                "frechet": float(overall["frechet"]),
            }
        )
    return rows


def main(
    per_class: int = 1000, seed: int = 1, top: int = 3, real_images: int = 10_000
) -> None:
    """Print exercise 9.1's answer as this run observes it.

    The shipped designer draws ``per_class`` images of every class at its
    card's temperature (notebook 09's table), and the first judge's confusion
    matrix gives its largest mistakes. Beside each, the same judge's share
    of that mistake on the real test images: a stand-in for "a person
    would confuse them too", since garments the judge mixes up among real
    photos look alike at 28x28 in grey. A mistake the judge makes on real
    images more often than its average mistake counts as "alike"; one it
    makes more rarely is the designer's own.

    Args:
        per_class: Images drawn per class (128 to 1,000).
        seed: Seed of the noise (notebook 09 uses 1).
        top: How many mistakes to list.
        real_images: How many of the real test images the judge classifies.
    """
    model, card = load_designer()
    temperature = card["temperature"]
    classes = range(model.num_classes)
    requested = np.repeat(np.arange(model.num_classes), per_class)
    drawn = generate(model, classes, n=per_class, seed=seed, temperature=temperature)
    confusion = prompt_adherence(drawn, requested)["confusion"]  # (C, C)
    test_images, test_labels = data.load_images("fashion_mnist", "test")
    # The judge on real photos.
    real = prompt_adherence(test_images[:real_images], test_labels[:real_images])
    # The average off-diagonal share: 1 - accuracy, spread over C - 1 classes.
    average = (1.0 - real["overall"]) / (model.num_classes - 1)
    names = list(CLASS_NAMES)
    mistakes = design_confusions(confusion, names, top)
    print(
        f"9.1 the shipped designer's {top} largest mistakes ({per_class:,} images "
        f"per class, temperature {temperature}, first judge):"
    )
    alike = []
    for asked, seen, share in mistakes:
        on_real = float(real["confusion"][names.index(asked), names.index(seen)])
        if on_real > average:
            alike.append(f"{asked} as {seen}")
        print(
            f"   asked {asked:12s} judged {seen:12s} {share:6.1%}   the judge on "
            f"real {asked} photos: {on_real:5.1%} {seen}"
        )
    own = len(mistakes) - len(alike)
    print(
        f"   The judge's average mistake on real test images is {average:.1%}. "
        f"{len(alike)} of the {len(mistakes)} mistakes are ones it also makes on "
        f"real photos more often than that"
        + (f" ({', '.join(alike)}): garments that look alike in 28x28 grey, "
           "which a person would plausibly confuse too" if alike else "")
        + (
            f"; {own} {'is' if own == 1 else 'are'} the designer's own: the judge "
            "rarely makes that mistake on real photos, so the drawings, not the "
            "classes, are at fault."
            if own
            else "."
        )
    )


if __name__ == "__main__":
    main()
