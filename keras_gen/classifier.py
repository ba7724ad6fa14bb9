"""The small classifier whose features every image-quality number is computed on.

The Fréchet distance of :mod:`keras_gen.metrics` compares *features* of real
and generated images, not pixels. The usual yardstick (FID) uses an Inception
network trained on ImageNet: a 90 MB download, made for 299x299 colour photos.
Here ``keras_gen`` trains its own small CNN on the real 28x28 images instead,
so the number works offline and is about the data the generators learn.

The trained classifier is cached, one model folder per data set
(:mod:`keras_gen.model_folder`: the model and a card with its SHA-256 and
test accuracy)::

    $KERAS_GEN_CACHE/classifiers/fashion_mnist_classifier/model.keras
    $KERAS_GEN_CACHE/classifiers/fashion_mnist_classifier/card.json

``$KERAS_GEN_CACHE`` defaults to ``~/.cache/keras_gen``. :func:`load_classifier`
checks the hash before loading and retrains (about a minute on 2 CPU cores)
when a file is absent, truncated or changed. The folder is written beside its
place and swapped in, so an interrupted run never leaves half a model behind.
A cache of the older layout (``fashion_mnist_classifier.keras`` with a
``.sha256`` sidecar file) is still read. Delete the folder to force a retrain.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path

import keras
import numpy as np
from keras import layers

from keras_gen import _checks, data, model_folder
from keras_gen._files import FileFormatError, sha256_file

CACHE_ENV_VAR = "KERAS_GEN_CACHE"
#: Width of the penultimate Dense layer, whose activations are the features.
FEATURE_DIM = 64
#: Test accuracy below which a freshly trained classifier is refused.
MIN_TEST_ACCURACY = 0.90
_FEATURE_LAYER = "features"
# One trained or loaded classifier per data set and process: notebooks and the
# test session ask many times, the disk is read once. Keys: the data set's name
# (the classifier) and (name, "both") (the same model with two outputs).
_LOADED: dict = {}


def cache_dir() -> Path:
    """The folder that holds the cached classifiers.

    Returns:
        ``$KERAS_GEN_CACHE/classifiers`` if that variable is set, else
        ``~/.cache/keras_gen/classifiers``.

    Example:
        >>> cache_dir().name
        'classifiers'
    """
    root = os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "keras_gen"
    return Path(root) / "classifiers"


def classifier_folder(dataset: str = "fashion_mnist") -> Path:
    """The model folder that caches the classifier for ``dataset``.

    Example:
        >>> classifier_folder("mnist").name
        'mnist_classifier'
    """
    _checks.check_choice("dataset", dataset, data.DATASETS)
    return cache_dir() / f"{dataset}_classifier"


def classifier_path(dataset: str = "fashion_mnist") -> Path:
    """Where the classifier for ``dataset`` is cached (its ``model.keras``).

    Example:
        >>> classifier_path("mnist").parts[-2:]
        ('mnist_classifier', 'model.keras')
    """
    return classifier_folder(dataset) / model_folder.MODEL_FILE


def _legacy_path(dataset: str) -> Path:
    """The cache file of the older layout (with a ``.sha256`` sidecar)."""
    return cache_dir() / f"{dataset}_classifier.keras"


def build_classifier(num_classes: int = 10) -> keras.Sequential:
    """Build the small CNN: two convolution blocks, 64 features, class logits.

    Args:
        num_classes: Number of output logits.

    Returns:
        An uncompiled ``keras.Sequential`` mapping ``(batch, 28, 28, 1)`` images
        in [-1, 1] to logits ``(batch, num_classes)``; the layer named
        ``"features"`` gives the ``(batch, 64)`` features.

    Raises:
        ValueError: ``num_classes`` is not an int >= 2.

    Example:
        >>> build_classifier().count_params()
        220234
    """
    num_classes = _checks.check_int("num_classes", num_classes, minimum=2)
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),  # (b, 28, 28, 32)
            layers.MaxPooling2D(),  # (b, 14, 14, 32)
            layers.Conv2D(64, 3, padding="same", activation="relu"),  # (b, 14, 14, 64)
            layers.MaxPooling2D(),  # (b, 7, 7, 64)
            layers.Flatten(),  # (b, 3136)
            layers.Dropout(0.3),
            layers.Dense(FEATURE_DIM, activation="relu", name=_FEATURE_LAYER),
            layers.Dense(num_classes, name="logits"),  # (b, num_classes)
        ],
        name="quality_classifier",
    )


def train_quality_classifier(
    dataset: str = "fashion_mnist", epochs: int = 4, seed: int = 0, verbose: int = 0
) -> tuple[keras.Sequential, float]:
    """Train the classifier on a data set's training split, seeded.

    Args:
        dataset: ``"fashion_mnist"`` or ``"mnist"``.
        epochs: Passes over the 60,000 training images.
        seed: Seed of weights, shuffling and dropout.
        verbose: Passed to ``fit()``.

    Returns:
        ``(model, test_accuracy)``.
    """
    train_images, train_labels = data.load_images(dataset, "train")
    test_images, test_labels = data.load_images(dataset, "test")
    keras.utils.set_random_seed(seed)
    model = build_classifier()
    model.compile(
        # A decaying learning rate settles the last epoch: +1% test accuracy.
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(
                2e-3, decay_steps=epochs * math.ceil(len(train_images) / 128)
            )
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        train_images, train_labels, batch_size=128, epochs=epochs, verbose=verbose
    )
    _, accuracy = model.evaluate(test_images, test_labels, batch_size=1000, verbose=0)
    return model, float(accuracy)


def _checksum_ok(path: Path) -> bool:
    """Whether an old-layout ``.keras`` file matches its ``.sha256`` sidecar."""
    sidecar = path.with_name(path.name + ".sha256")
    if not (path.is_file() and sidecar.is_file()):
        return False
    recorded = sidecar.read_text(errors="replace").split()
    return bool(recorded) and recorded[0] == sha256_file(path)


def _save(model: keras.Model, folder: Path, card: dict | None = None) -> None:
    """Cache ``model`` as a model folder (swapped in whole)."""
    model_folder.save_folder(folder, model, card, what="classifier folder")


def _load_cached(dataset: str):
    """The cached classifier, or ``None`` (with a warning if it is damaged)."""
    folder = classifier_folder(dataset)
    if os.path.lexists(folder):
        try:
            contents = model_folder.load_folder(
                folder,
                what="classifier folder",
                tokenizer=False,
            )
            return model_folder.load_model(contents.model_path)
        except (FileNotFoundError, FileFormatError) as error:
            warnings.warn(
                f"The cached classifier in {folder} is damaged ({error}); "
                "training a new one.",
                stacklevel=3,
            )
            return None
    legacy = _legacy_path(dataset)
    if _checksum_ok(legacy):  # the older layout: one file and a sidecar
        model = keras.models.load_model(legacy)  # safe_mode stays on
        try:  # kept in the new layout from now on; the old file stays
            _save(model, folder, {"dataset": dataset, "from": legacy.name})
        except (OSError, ValueError):
            pass  # a read-only cache, or another process did it first
        return model
    if legacy.exists():
        warnings.warn(
            f"The cached classifier {legacy} does not match its .sha256 "
            "sidecar; training a new one.",
            stacklevel=3,
        )
    return None


def load_classifier(dataset: str = "fashion_mnist", retrain: bool = False):
    """Load the cached classifier for ``dataset``, training it first if needed.

    Args:
        dataset: ``"fashion_mnist"`` or ``"mnist"`` (the data must be on disk;
            :class:`keras_gen.data.DataNotFoundError` says how to get it).
        retrain: Train afresh even if a valid cached copy exists.

    Returns:
        The trained ``keras.Sequential`` classifier.

    Raises:
        RuntimeError: If a fresh classifier misses ``MIN_TEST_ACCURACY``.

    Example:
        >>> # The first call on a machine trains for about a minute, later ones load.
        >>> # model = load_classifier("fashion_mnist")
        >>> # model.get_layer("features").units  -> 64
    """
    if not retrain and dataset in _LOADED:
        return _LOADED[dataset]
    model = None if retrain else _load_cached(dataset)
    if model is None:
        start = time.perf_counter()
        model, accuracy = train_quality_classifier(dataset)
        if accuracy < MIN_TEST_ACCURACY:
            raise RuntimeError(
                f"Expected the {dataset} classifier to reach test accuracy >= "
                f"{MIN_TEST_ACCURACY}. Received: accuracy={accuracy:.4f}. "
                "Train longer: train_quality_classifier(dataset, epochs=6)."
            )
        folder = classifier_folder(dataset)
        try:
            _save(model, folder, {"dataset": dataset, "test_accuracy": accuracy})
        except OSError:
            # Another process swapped its own copy in at the same moment: use
            # ours now, theirs from the cache next time.
            if not model_folder.is_complete(folder):
                raise
        print(
            f"keras_gen: trained the {dataset} quality classifier in "
            f"{time.perf_counter() - start:.0f} s (test accuracy {accuracy:.3f}); "
            f"cached in {folder}"
        )
    # A new model replaces every cached view of the old one, so the metrics
    # never keep scoring with a stale classifier after retrain=True.
    _LOADED.pop((dataset, "both"), None)
    _LOADED[dataset] = model
    return model


def features_and_predictions(
    images, dataset: str = "fashion_mnist", batch_size: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Features ``(n, 64)`` and predicted classes ``(n,)`` of checked images.

    The images are not validated here; :mod:`keras_gen.metrics` does that.
    """
    model = load_classifier(dataset)
    key = (dataset, "both")
    if key not in _LOADED:
        _LOADED[key] = keras.Model(
            model.inputs,
            [model.get_layer(_FEATURE_LAYER).output, model.outputs[0]],
            name="features_and_logits",
        )
    features, logits = _LOADED[key].predict(
        np.asarray(images, "float32"), batch_size=batch_size, verbose=0
    )
    return features.astype("float64"), np.argmax(logits, axis=-1)
