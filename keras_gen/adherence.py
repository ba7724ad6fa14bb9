"""Does a conditional generator draw what it was asked for, and how well?

Two yardsticks, both on the project's own quality classifier
(:mod:`keras_gen.classifier`, the judge that ships in ``data/pretrained/``):

- **prompt adherence**: the share of images drawn for class ``c`` that the
  classifier assigns to ``c``, per class and overall. Real test images are
  scored the same way, so each number has a reference beside it: what the
  classifier gives real garments of that class (its own accuracy there);
- **the Fréchet distance per class** (as :mod:`keras_gen.metrics` computes it
  for a whole set): generated sandals against real test sandals, with the
  floor beside it, real *training* sandals against the same test sandals
  (what a perfect generator would score with as many images). Overall, all
  images against all those test images, floor likewise.

Prompt adherence is also scored by the second judge of
:mod:`keras_gen.classifier` (``adherence_second``), a classifier that shares
only the training data with the first: a generator can be tuned until one
classifier accepts its drawings, and a second judge shows whether it learned
the garments or that classifier's blind spots.

:func:`design_report` computes everything from one pass of each classifier
over the images; ``print()`` the report for the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from keras_gen import _checks
from keras_gen.metrics import MIN_SAMPLES, check_images, feature_frechet_distance

#: Test images per class in Fashion-MNIST, the most a class can be scored on.
TEST_IMAGES_PER_CLASS = 1000
# Real draws and their classifier outputs, per (dataset, counts, seed): two
# models scored in one notebook share them instead of recomputing.
_REAL_CACHE: dict = {}


def adherence_from_predictions(predicted, requested, num_classes: int = 10) -> dict:
    """Prompt adherence from predicted and requested class ids.

    Args:
        predicted: ``(n,)`` class ids the classifier assigned.
        requested: ``(n,)`` class ids the images were asked for.
        num_classes: Number of classes.

    Returns:
        ``{"per_class": (num_classes,) share of images requested as c that
        were classified c (NaN where none was requested), "overall": share of
        all images classified as requested, "confusion": (num_classes,
        num_classes) shares, row = requested, column = predicted}``.

    Example:
        >>> table = adherence_from_predictions([5, 5, 7, 7], [5, 5, 5, 7])
        >>> table["per_class"][[5, 7]].round(3).tolist(), table["overall"]
        ([0.667, 1.0], 0.75)
    """
    num_classes = _checks.check_int("num_classes", num_classes, minimum=2)
    predicted = _ids("predicted", predicted, num_classes)
    requested = _ids("requested", requested, num_classes)
    if predicted.shape != requested.shape:
        raise ValueError(
            "Expected as many predicted as requested ids. Received: "
            f"predicted.shape={predicted.shape}, requested.shape={requested.shape}"
        )
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (requested, predicted), 1)
    asked = counts.sum(axis=1, keepdims=True)  # (C, 1) images requested per class
    with np.errstate(invalid="ignore", divide="ignore"):
        confusion = counts / asked
    return {
        "per_class": np.diag(confusion).copy(),
        "overall": float(np.mean(predicted == requested)),
        "confusion": confusion,
    }


def _ids(name, values, num_classes):
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"Expected {name} to be a non-empty 1-D array of class ids. "
            f"Received: {name}.shape={array.shape}"
        )
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"Expected {name} to hold integer class ids. Received: dtype {array.dtype}"
        )
    if array.min() < 0 or array.max() >= num_classes:
        raise ValueError(
            f"Expected {name} ids in [0, {num_classes}). "
            f"Received: ids from {array.min()} to {array.max()}"
        )
    return array.astype("int64")


def prompt_adherence(
    images, requested, dataset: str = "fashion_mnist", judge: str = "first"
) -> dict:
    """Classify ``images`` and score them against the classes requested.

    Args:
        images: ``(n, 28, 28, 1)`` in [-1, 1].
        requested: ``(n,)`` class ids the images were drawn for.
        dataset: Whose classifier.
        judge: ``"first"`` or ``"second"`` (:mod:`keras_gen.classifier`).

    Returns:
        The dict of :func:`adherence_from_predictions`.

    Example:
        >>> # prompt_adherence(generate(model, "Sandal", n=1000), [5] * 1000)
    """
    from keras_gen import classifier

    images = check_images(images)
    predicted = classifier.features_and_predictions(images, dataset, judge=judge)[1]
    return adherence_from_predictions(predicted, np.asarray(requested))


@dataclass
class DesignReport:
    """Adherence and Fréchet distance of a conditional generator, per class.

    Attributes:
        class_names: One name per class.
        per_class_n: Images scored per class.
        adherence: ``(C,)`` share classified as requested, per class.
        real_adherence: ``(C,)`` the same share for real test images.
        frechet: ``(C,)`` Fréchet distance to real test images of the class.
        floor: ``(C,)`` real training images against the same test images.
        overall: ``{"adherence", "real_adherence", "frechet", "floor"}``
            over all images, and ``"adherence_second"``,
            ``"real_adherence_second"`` when the second judge scored them.
        confusion: ``(C, C)`` shares, row = requested, column = classified.
        adherence_second: ``(C,)`` adherence by the second judge, or None.
        real_adherence_second: ``(C,)`` the second judge on the same real
            test images, or None.
    """

    class_names: tuple
    per_class_n: np.ndarray
    adherence: np.ndarray
    real_adherence: np.ndarray
    frechet: np.ndarray
    floor: np.ndarray
    overall: dict
    confusion: np.ndarray = field(repr=False)
    adherence_second: np.ndarray | None = None
    real_adherence_second: np.ndarray | None = None

    def rows(self) -> list[dict]:
        """One dict per class, then one for all images (name ``"overall"``)."""
        second = self.adherence_second is not None
        rows = [
            {
                "class": name,
                "n": int(self.per_class_n[c]),
                "adherence": float(self.adherence[c]),
                "real_adherence": float(self.real_adherence[c]),
                "frechet": float(self.frechet[c]),
                "floor": float(self.floor[c]),
                **(
                    {
                        "adherence_second": float(self.adherence_second[c]),
                        "real_adherence_second": float(self.real_adherence_second[c]),
                    }
                    if second
                    else {}
                ),
            }
            for c, name in enumerate(self.class_names)
        ]
        rows.append(
            {"class": "overall", "n": int(self.per_class_n.sum()), **self.overall}
        )
        return rows

    def __str__(self) -> str:
        second = self.adherence_second is not None
        lines = [
            f"{'class':12} {'n':>5} {'adherence':>9} {'real':>6} "
            f"{'Fréchet':>8} {'floor':>6}"
            + (f" {'2nd judge':>9} {'real':>6}" if second else "")
        ]
        for row in self.rows():
            lines.append(
                f"{row['class']:12} {row['n']:>5} {row['adherence']:>9.1%} "
                f"{row['real_adherence']:>6.1%} {row['frechet']:>8.2f} "
                f"{row['floor']:>6.2f}"
                + (
                    f" {row['adherence_second']:>9.1%} "
                    f"{row['real_adherence_second']:>6.1%}"
                    if second
                    else ""
                )
            )
        return "\n".join(lines)


def _real_reference(dataset, counts, seed):
    """Train and test images per class (``counts[c]`` of each), and their features."""
    key = (dataset, tuple(counts), seed)
    if key not in _REAL_CACHE:
        from keras_gen import classifier, data

        train, train_labels = data.load_images(dataset, "train")
        test, test_labels = data.load_images(dataset, "test")
        train_idx, test_idx = _real_indices(train_labels, test_labels, counts, seed)
        train_features = classifier.features_and_predictions(train[train_idx], dataset)
        test_features, test_predicted = classifier.features_and_predictions(
            test[test_idx], dataset
        )
        _REAL_CACHE[key] = (
            train_features[0],
            train_labels[train_idx].astype("int64"),
            test_features,
            test_labels[test_idx].astype("int64"),
            test_predicted,
        )
        _REAL_CACHE[key + ("test_idx",)] = test_idx  # for the second judge
    return _REAL_CACHE[key]


def _real_indices(train_labels, test_labels, counts, seed):
    """Which training and test images of each class the reference uses."""
    rng = np.random.default_rng(seed)
    picks = {"train": [], "test": []}
    for c, count in enumerate(counts):
        for split, labels in (("train", train_labels), ("test", test_labels)):
            members = np.flatnonzero(labels == c)
            picks[split].append(rng.choice(members, count, replace=False))
    return tuple(np.concatenate(picks[s]) for s in ("train", "test"))


def design_report(
    images,
    requested,
    dataset: str = "fashion_mnist",
    seed: int = 0,
    second_judge: bool = True,
) -> DesignReport:
    """Adherence and Fréchet distance (with floor) per class and overall.

    For each class ``c`` with ``n_c`` requested images, ``n_c`` real test and
    ``n_c`` real training images of class ``c`` are drawn with ``seed``; the
    generated images and the training images are both compared with those
    test images, so score and floor differ only in where the first set came
    from.

    Args:
        images: ``(n, 28, 28, 1)`` in [-1, 1].
        requested: ``(n,)`` class ids; every class must be requested between
            ``MIN_SAMPLES`` (128) and 1,000 times (the test images per class).
        dataset: The data set the generator learned.
        seed: Which real images are drawn.
        second_judge: Also score adherence with the second judge of
            :mod:`keras_gen.classifier` (trained on first use, then cached).

    Returns:
        A :class:`DesignReport`; ``print()`` it for the table.

    Example:
        >>> # print(design_report(generate(model, range(10), n=1000),
        >>> #                     np.repeat(np.arange(10), 1000)))
    """
    from keras_gen import classifier, data

    _checks.check_seed("seed", seed)
    names = data.class_names(dataset)
    images = check_images(images, "images")
    requested = _ids("requested", requested, len(names))
    if len(requested) != len(images):
        raise ValueError(
            f"Expected one requested class per image. Received: {len(images)} "
            f"images and {len(requested)} requested ids"
        )
    counts = np.bincount(requested, minlength=len(names))
    if counts.min() < MIN_SAMPLES or counts.max() > TEST_IMAGES_PER_CLASS:
        raise ValueError(
            f"Expected every class requested {MIN_SAMPLES} to "
            f"{TEST_IMAGES_PER_CLASS} times (a stable covariance per class, and "
            f"no more than the test images of a class). Received: counts "
            f"{counts.tolist()}"
        )
    features, predicted = classifier.features_and_predictions(images, dataset)
    train_f, train_y, test_f, test_y, test_predicted = _real_reference(
        dataset, counts, seed
    )
    frechet, floor = np.zeros(len(names)), np.zeros(len(names))
    for c in range(len(names)):
        real = test_f[test_y == c]
        frechet[c] = feature_frechet_distance(features[requested == c], real)
        floor[c] = feature_frechet_distance(train_f[train_y == c], real)
    generated = adherence_from_predictions(predicted, requested, len(names))
    real = adherence_from_predictions(test_predicted, test_y, len(names))
    second = {}
    if second_judge:
        second = _second_judge(images, requested, dataset, counts, seed, len(names))
    return DesignReport(
        class_names=tuple(names),
        per_class_n=counts,
        adherence=generated["per_class"],
        real_adherence=real["per_class"],
        frechet=frechet,
        floor=floor,
        overall={
            "adherence": generated["overall"],
            "real_adherence": real["overall"],
            "frechet": feature_frechet_distance(features, test_f),
            "floor": feature_frechet_distance(train_f, test_f),
            **{k: v["overall"] for k, v in second.items()},
        },
        confusion=generated["confusion"],
        **{k: v["per_class"] for k, v in second.items()},
    )


def _second_judge(images, requested, dataset, counts, seed, num_classes):
    """Adherence of ``images`` and of the same real test images, second judge."""
    from keras_gen import classifier, data

    _, _, _, test_y, _ = _real_reference(dataset, counts, seed)
    key = (dataset, tuple(counts), seed, "second")
    if key not in _REAL_CACHE:
        test_idx = _REAL_CACHE[(dataset, tuple(counts), seed, "test_idx")]
        test_images = data.load_images(dataset, "test")[0][test_idx]
        _REAL_CACHE[key] = classifier.features_and_predictions(
            test_images, dataset, judge="second"
        )[1]
    predicted = classifier.features_and_predictions(images, dataset, judge="second")[1]
    return {
        "adherence_second": adherence_from_predictions(
            predicted, requested, num_classes
        ),
        "real_adherence_second": adherence_from_predictions(
            _REAL_CACHE[key], test_y, num_classes
        ),
    }
