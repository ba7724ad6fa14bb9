"""Captions for Fashion-MNIST, written from each image's label and pixels.

A text-to-image model needs (image, caption) pairs. Fashion-MNIST has only a
class label, so a caption is built from the label plus two attributes
measured on the image itself, and written in one of several phrasings::

    "a dark wide pullover"    "ankle boot, light and narrow"

**The rules** (:func:`measure_attributes`, :func:`attribute_of`). Intensities
are rescaled to [0, 1]; a pixel is *lit* when it exceeds :data:`LIT_LEVEL`
(0.1, i.e. 25.5 of 255), which separates the garment from the black
background.

- *tone*: the mean intensity of the lit pixels, the garment's own shade.
  ``"light"`` above :data:`TONE_THRESHOLD`, the median over the training
  split's 60,000 images, else ``"dark"``. The mean over *all* pixels would
  mostly measure size: on the training split only 4% of sandals and 3% of
  sneakers (small, thin objects) are above that mean's median, against 85%
  of coats. The lit-pixel mean splits every class between 16% (sandals) and
  69% (ankle boots) light.
- *width*: the horizontal spread of the lit mass, ``sqrt(12)`` times the
  intensity-weighted standard deviation of the column index (the width, in
  pixels, of a uniform block with the same spread). ``"wide"`` above the
  median of the image's *class* on the training split
  (:data:`WIDTH_THRESHOLDS`), else ``"narrow"``. Width is mostly the class
  itself (median 10 px for trousers, 24 px for bags), so one threshold for all
  would make "wide trousers" almost never occur; per class, "a wide dress"
  means wider than the typical dress, as a person would say it. (Counting lit
  columns saturates: 99% of sneakers and ankle boots light every one of the
  28 columns.)

Both thresholds are medians, so each class splits about evenly on each
attribute, and every (class, tone, width) combination has data.
:func:`fit_thresholds` recomputes them from images; ``tests/test_captions.py``
checks that the training split gives the stored constants.

**Held-out combinations** (:func:`held_out_combinations`,
:func:`training_mask`): a few (class, tone, width) triples are removed from
training so that a model prompted with one of them has to *compose* a class
and attributes it only saw apart.
"""

from __future__ import annotations

import re

import numpy as np

from keras_gen import _checks
from keras_gen.data import FASHION_MNIST_CLASSES

#: A pixel brighter than this (intensity in [0, 1]) belongs to the garment.
LIT_LEVEL = 0.1
#: Median over the training split of the lit pixels' mean intensity.
TONE_THRESHOLD = 0.6497
#: Per class (index = label): median width in pixels over the training split.
WIDTH_THRESHOLDS = (
    16.5562, 10.2831, 19.6818, 11.5504, 18.4763,
    23.6904, 18.6960, 23.2402, 23.8500, 21.9540,
)  # fmt: skip
TONES = ("dark", "light")
WIDTHS = ("narrow", "wide")
#: The noun each label is written as (index = label).
NOUNS = (
    "t-shirt", "pair of trousers", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip
#: The phrasings; every one names the class, the tone and the width.
PHRASINGS = (
    "a {tone} {width} {noun}",
    "a {width} {tone} {noun}",
    "{noun}, {tone} and {width}",
    "a {tone} {noun} with a {width} cut",
    "a picture of a {width} {noun} in a {tone} shade",
)
_NUM_CLASSES = len(FASHION_MNIST_CLASSES)


def _intensities(images) -> np.ndarray:
    """Images in [-1, 1], ``(n, h, w)`` or ``(n, h, w, 1)`` -> [0, 1] ``(n, h, w)``."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(
            "Expected a non-empty batch of grey images of shape (n, height, width) "
            f"or (n, height, width, 1). Received: images.shape={images.shape}"
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            "Expected float images in [-1, 1] (keras_gen.data.load_images). "
            f"Received: dtype {images.dtype}"
        )
    return (np.clip(images.astype("float64"), -1.0, 1.0) + 1.0) / 2.0


def measure_attributes(images) -> dict:
    """The raw measurements behind the tone and the width (see module docstring).

    Args:
        images: Float images in [-1, 1], ``(n, h, w)`` or ``(n, h, w, 1)``.

    Returns:
        ``{"tone": (n,), "width": (n,)}``: mean intensity of the lit pixels in
        [0, 1] (0 for an image with none), and the width in pixels.

    Example:
        >>> image = -np.ones((1, 28, 28))
        >>> image[0, 10:20, 4:24] = 0.6          # a 20-pixel-wide block at 0.8
        >>> {k: np.round(v, 1).tolist() for k, v in measure_attributes(image).items()}
        {'tone': [0.8], 'width': [20.0]}
    """
    x = _intensities(images)  # (n, h, w) in [0, 1]
    lit = x > LIT_LEVEL
    lit_count = lit.sum(axis=(1, 2))
    lit_sum = (x * lit).sum(axis=(1, 2))
    tone = np.where(lit_count > 0, lit_sum / np.maximum(lit_count, 1), 0.0)
    columns = (x * lit).sum(axis=1)  # (n, w): lit mass per column
    mass = np.maximum(columns.sum(axis=1), 1e-12)
    index = np.arange(x.shape[2], dtype="float64")
    centre = (columns * index).sum(axis=1) / mass
    variance = (columns * (index[None, :] - centre[:, None]) ** 2).sum(axis=1) / mass
    return {"tone": tone, "width": np.sqrt(12.0 * variance)}


def _check_labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Expected integer labels of shape ({n},), one per image. Received: "
            f"labels with shape {labels.shape} and dtype {labels.dtype}"
        )
    if labels.min() < 0 or labels.max() >= _NUM_CLASSES:
        raise ValueError(
            f"Expected Fashion-MNIST labels in [0, {_NUM_CLASSES - 1}]. Received: "
            f"min {labels.min()}, max {labels.max()}"
        )
    return labels.astype("int64")


def fit_thresholds(images, labels) -> tuple[float, tuple[float, ...]]:
    """Recompute :data:`TONE_THRESHOLD` and :data:`WIDTH_THRESHOLDS` from images.

    Args:
        images: Float images in [-1, 1] (the training split, for the constants).
        labels: Their labels ``(n,)``; every class must occur.

    Returns:
        ``(tone_threshold, width_thresholds)``: the median tone, and the
        median width of each class.
    """
    measured = measure_attributes(images)
    labels = _check_labels(labels, len(measured["tone"]))
    missing = sorted(set(range(_NUM_CLASSES)) - set(labels.tolist()))
    if missing:
        raise ValueError(
            f"Expected images of every class to set the per-class widths. Received: "
            f"no images of classes {missing}"
        )
    widths = tuple(
        float(np.median(measured["width"][labels == c])) for c in range(_NUM_CLASSES)
    )
    return float(np.median(measured["tone"])), widths


def attribute_of(images, labels) -> dict:
    """The tone and the width of each image, by the module's rules.

    The adherence metric uses this on generated images, with the *prompted*
    labels: the width threshold depends on the class (see module docstring).

    Args:
        images: Float images in [-1, 1], ``(n, 28, 28)`` or ``(n, 28, 28, 1)``.
        labels: Fashion-MNIST labels ``(n,)``.

    Returns:
        ``{"tone": (n,) of "dark"/"light", "width": (n,) of "narrow"/"wide"}``.

    Example:
        >>> image = -np.ones((1, 28, 28))
        >>> image[0, 4:24, 4:24] = 0.8           # a bright 20-pixel-wide square
        >>> {k: v.tolist() for k, v in attribute_of(image, [1]).items()}
        {'tone': ['light'], 'width': ['wide']}
    """
    measured = measure_attributes(images)
    labels = _check_labels(labels, len(measured["tone"]))
    widths = np.asarray(WIDTH_THRESHOLDS)[labels]
    return {
        "tone": np.where(measured["tone"] > TONE_THRESHOLD, "light", "dark"),
        "width": np.where(measured["width"] > widths, "wide", "narrow"),
    }


def caption(label: int, tone: str, width: str, phrasing: int = 0) -> str:
    """Write one caption.

    Args:
        label: Fashion-MNIST label, 0 to 9.
        tone: ``"dark"`` or ``"light"``.
        width: ``"narrow"`` or ``"wide"``.
        phrasing: Index into :data:`PHRASINGS`.

    Returns:
        The caption, lower case.

    Example:
        >>> caption(9, "dark", "wide", phrasing=2)
        'ankle boot, dark and wide'
    """
    label = _checks.check_int("label", label, 0, _NUM_CLASSES - 1)
    _checks.check_choice("tone", tone, TONES)
    _checks.check_choice("width", width, WIDTHS)
    phrasing = _checks.check_int("phrasing", phrasing, 0, len(PHRASINGS) - 1)
    return PHRASINGS[phrasing].format(noun=NOUNS[label], tone=tone, width=width)


def make_captions(images, labels, seed: int = 0) -> list[str]:
    """Caption every image: its label, its measured attributes, a random phrasing.

    Args:
        images: Float images in [-1, 1].
        labels: Their labels ``(n,)``.
        seed: Seed of the phrasing choice; the same seed gives the same captions.

    Returns:
        ``n`` captions.

    Example:
        >>> image = -np.ones((1, 28, 28))
        >>> image[0, 4:24, 10:18] = -0.2         # a dim 8-pixel-wide bar
        >>> make_captions(image, [1], seed=0)
        ['a picture of a narrow pair of trousers in a dark shade']
    """
    seed = _checks.check_seed("seed", seed)
    attributes = attribute_of(images, labels)
    labels = np.asarray(labels)
    phrasings = np.random.default_rng(seed).integers(0, len(PHRASINGS), len(labels))
    return [
        caption(int(label), str(tone), str(width), int(phrasing))
        for label, tone, width, phrasing in zip(
            labels, attributes["tone"], attributes["width"], phrasings, strict=True
        )
    ]


# Longest nouns first, so "t-shirt" is found before "shirt".
_NOUN_PATTERN = re.compile(
    r"(?<![\w-])("
    + "|".join(re.escape(n) for n in sorted(NOUNS, key=len, reverse=True))
    + r")(?![\w-])"
)


def parse_caption(text: str) -> tuple[int, str, str]:
    """Read the label, tone and width back out of a caption.

    Args:
        text: A caption in any of the :data:`PHRASINGS`.

    Returns:
        ``(label, tone, width)``.

    Raises:
        ValueError: The text does not name exactly one class, one tone and
            one width.

    Example:
        >>> parse_caption("a picture of a wide t-shirt in a light shade")
        (0, 'light', 'wide')
    """
    if not isinstance(text, str):
        raise ValueError(f"Expected a caption string. Received: text={text!r}")
    lowered = text.lower()
    nouns = _NOUN_PATTERN.findall(lowered)
    words = set(re.findall(r"[a-z]+", lowered))
    tones = [t for t in TONES if t in words]
    widths = [w for w in WIDTHS if w in words]
    if len(set(nouns)) != 1 or len(tones) != 1 or len(widths) != 1:
        raise ValueError(
            "Expected a caption naming one class of "
            f"{list(NOUNS)}, one tone of {list(TONES)} and one width of "
            f"{list(WIDTHS)}. Received: text={text!r}"
        )
    return NOUNS.index(nouns[0]), tones[0], widths[0]


#: Words of the phrasings that name no class, tone or width ("a", "shade" ...).
FILLER_WORDS = frozenset(
    word
    for phrasing in PHRASINGS
    for word in re.findall(r"[a-z]+", re.sub(r"\{\w+\}", " ", phrasing))
)
_PROMPT_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def read_prompt(text: str) -> dict:
    """Which words of a prompt the captions know, and which they do not.

    The text-to-image model learned from captions that name a class
    (:data:`NOUNS`), a tone (:data:`TONES`) and a width (:data:`WIDTHS`) in
    the :data:`PHRASINGS`; any other word (a colour, "boots" for "ankle
    boot") it never saw, so it has no effect it could be trusted with.

    Args:
        text: A prompt, in any words.

    Returns:
        A dict with the lists ``classes``, ``tones``, ``widths`` (the
        understood words, in prompt order, without repeats) and ``ignored``
        (every other word except the phrasings' :data:`FILLER_WORDS`).

    Example:
        >>> read_prompt("A red ankle boot, dark and shiny")
        {'classes': ['ankle boot'], 'tones': ['dark'], 'widths': [], \
'ignored': ['red', 'shiny']}
    """
    if not isinstance(text, str):
        raise ValueError(f"Expected a prompt string. Received: text={text!r}")
    lowered = text.lower()
    classes = list(dict.fromkeys(_NOUN_PATTERN.findall(lowered)))
    words = _PROMPT_WORD.findall(_NOUN_PATTERN.sub(" ", lowered))
    found = {"classes": classes, "tones": [], "widths": [], "ignored": []}
    for word in dict.fromkeys(words):
        key = "tones" if word in TONES else "widths" if word in WIDTHS else None
        if key is not None:
            found[key].append(word)
        elif word not in FILLER_WORDS:
            found["ignored"].append(word)
    return found


def describe_prompt(text: str) -> str:
    """A few sentences on what the model will read in a prompt, and what not.

    Example:
        >>> print(describe_prompt("a red ankle boot, dark"))
        Understood: class 'ankle boot', tone 'dark'. Not given: width \
(narrow/wide), so either may be drawn. Ignored (not in the captions the \
model learned from): 'red'.
        >>> print(describe_prompt("boots"))  # doctest: +ELLIPSIS
        Understood: no word of the captions. No class word, so any garment may \
be drawn (classes: t-shirt, ..., ankle boot). Not given: tone (dark/light) \
and width (narrow/wide), so either may be drawn. Ignored (...): 'boots'.
    """
    found = read_prompt(text)
    understood = [
        f"{name} {', '.join(repr(w) for w in found[key])}"
        for name, key in (("class", "classes"), ("tone", "tones"), ("width", "widths"))
        if found[key]
    ]
    sentences = [f"Understood: {', '.join(understood) or 'no word of the captions'}."]
    if not found["classes"]:
        sentences.append(
            "No class word, so any garment may be drawn (classes: "
            f"{', '.join(NOUNS)})."
        )
    missing = [
        f"{name} ({'/'.join(values)})"
        for name, key, values in (("tone", "tones", TONES), ("width", "widths", WIDTHS))
        if not found[key]
    ]
    if missing:
        sentences.append(f"Not given: {' and '.join(missing)}, so either may be drawn.")
    if found["ignored"]:
        sentences.append(
            "Ignored (not in the captions the model learned from): "
            f"{', '.join(repr(w) for w in found['ignored'])}."
        )
    return " ".join(sentences)


def held_out_combinations(count: int = 4, seed: int = 0) -> list[tuple[int, str, str]]:
    """Pick (label, tone, width) triples to keep out of training.

    Each comes from a different class, so a model can still learn every
    class and both values of each attribute from the other triples.

    Args:
        count: How many, 1 to 10.
        seed: Seed of the choice.

    Returns:
        ``count`` triples, sorted by label.

    Example:
        >>> held_out_combinations(2, seed=0)
        [(6, 'dark', 'narrow'), (7, 'dark', 'narrow')]
    """
    count = _checks.check_int("count", count, 1, _NUM_CLASSES)
    rng = np.random.default_rng(_checks.check_seed("seed", seed))
    labels = sorted(rng.choice(_NUM_CLASSES, size=count, replace=False).tolist())
    return [
        (int(label), TONES[rng.integers(2)], WIDTHS[rng.integers(2)])
        for label in labels
    ]


def training_mask(images, labels, combinations) -> np.ndarray:
    """Which images may be trained on: those outside the held-out combinations.

    Args:
        images: Float images in [-1, 1].
        labels: Their labels ``(n,)``.
        combinations: ``(label, tone, width)`` triples, as from
            :func:`held_out_combinations`.

    Returns:
        Boolean ``(n,)``, False for images of a held-out combination.

    Example:
        >>> image = -np.ones((1, 28, 28))
        >>> image[0, 4:24, 4:24] = 0.8
        >>> training_mask(image, [1], [(1, "light", "wide")]).tolist()
        [False]
    """
    for combination in combinations:
        if not isinstance(combination, (tuple, list)) or len(combination) != 3:
            raise ValueError(
                "Expected (label, tone, width) triples. "
                f"Received: {combination!r}"
            )
        caption(*combination)  # checks each field
    attributes = attribute_of(images, labels)
    labels = np.asarray(labels)
    keep = np.ones(len(labels), bool)
    for label, tone, width in combinations:
        keep &= ~(
            (labels == label)
            & (attributes["tone"] == tone)
            & (attributes["width"] == width)
        )
    return keep
