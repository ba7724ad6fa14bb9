"""keras_gen.text_to_image.captions: attribute rules, phrasings, round trips, splits."""

import itertools

import numpy as np
import pytest

from keras_gen import data
from keras_gen.text_to_image import captions
from keras_gen.text_to_image.captions import (
    NOUNS,
    PHRASINGS,
    TONES,
    WIDTHS,
    attribute_of,
    caption,
    held_out_combinations,
    make_captions,
    parse_caption,
    training_mask,
)


@pytest.fixture(scope="module")
def test_split(fashion_test):
    images, labels = fashion_test
    return images[:3000], labels[:3000]


def test_stored_thresholds_are_the_training_split_medians():
    try:
        images, labels = data.load_images("fashion_mnist", "train", download=False)
    except data.DataNotFoundError as error:
        pytest.skip(f"Fashion-MNIST not found (run `make data`): {error}")
    tone, widths = captions.fit_thresholds(images, labels)
    assert tone == pytest.approx(captions.TONE_THRESHOLD, abs=1e-4)
    np.testing.assert_allclose(widths, captions.WIDTH_THRESHOLDS, atol=1e-4)


def test_every_caption_round_trips():
    combinations = itertools.product(range(10), TONES, WIDTHS, range(len(PHRASINGS)))
    for label, tone, width, phrasing in combinations:
        text = caption(label, tone, width, phrasing)
        assert parse_caption(text) == (label, tone, width), text
        assert parse_caption(text.upper()) == (label, tone, width)


def test_phrasings_are_distinct_and_name_the_noun():
    texts = {caption(0, "dark", "wide", p) for p in range(len(PHRASINGS))}
    assert len(texts) == len(PHRASINGS)
    assert all("t-shirt" in text for text in texts)
    # "shirt" inside "t-shirt" is not a second class.
    assert parse_caption("a light wide shirt") == (6, "light", "wide")


def test_make_captions_are_seeded_and_describe_the_image(test_split):
    images, labels = test_split[0][:200], test_split[1][:200]
    first = make_captions(images, labels, seed=0)
    assert first == make_captions(images, labels, seed=0)
    assert first != make_captions(images, labels, seed=1)
    attributes = attribute_of(images, labels)
    for text, label, tone, width in zip(
        first, labels, attributes["tone"], attributes["width"], strict=True
    ):
        assert parse_caption(text) == (label, tone, width)
    used = {p for p in PHRASINGS if any(p.split("{")[0] in t for t in first)}
    assert len(used) >= 3  # several phrasings, not one


def test_attributes_split_every_class_on_the_test_split(test_split):
    images, labels = test_split
    attributes = attribute_of(images, labels)
    for label in range(10):
        in_class = labels == label
        wide = np.mean(attributes["width"][in_class] == "wide")
        light = np.mean(attributes["tone"][in_class] == "light")
        assert 0.35 < wide < 0.65, (label, wide)  # per-class medians
        assert 0.1 < light < 0.8, (label, light)  # one global median


def test_attribute_rule_on_drawn_images():
    images = -np.ones((4, 28, 28, 1), "float32")
    images[0, 4:24, 12:16] = 1.0  # narrow and bright
    images[1, 4:24, 2:26] = -0.3  # wide and dim (0.35 of full scale)
    images[2, 4:24, 12:16] = -0.5  # narrow and dim
    images[3, 4:24, 2:26] = 0.9  # wide and bright
    attributes = attribute_of(images, [3, 3, 3, 3])  # dresses: median 11.6 px
    assert attributes["tone"].tolist() == ["light", "dark", "dark", "light"]
    assert attributes["width"].tolist() == ["narrow", "wide", "narrow", "wide"]


def test_held_out_combinations_never_reach_the_training_split(test_split):
    images, labels = test_split
    held_out = held_out_combinations(4, seed=0)
    assert len(held_out) == 4 and len({label for label, _, _ in held_out}) == 4
    assert held_out == held_out_combinations(4, seed=0)
    keep = training_mask(images, labels, held_out)
    attributes = attribute_of(images, labels)
    triples = list(
        zip(labels.tolist(), attributes["tone"], attributes["width"], strict=True)
    )
    held = {tuple(c) for c in held_out}
    removed = [t for t, k in zip(triples, keep, strict=True) if not k]
    assert removed and all(t in held for t in removed)
    assert not any(t in held for t, k in zip(triples, keep, strict=True) if k)
    for label, tone, width in held_out:  # each combination really occurs
        assert (label, tone, width) in removed


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: caption(10, "dark", "wide"), "Expected label <= 9. Received: label="),
        (lambda: caption(-1, "dark", "wide"), "Expected label >= 0"),
        (lambda: caption(0, "grey", "wide"), "Expected tone to be one of"),
        (lambda: caption(0, "dark", "tall"), "Expected width to be one of"),
        (lambda: caption(0, "dark", "wide", 5), "Expected phrasing <= 4"),
        (lambda: parse_caption("a red car"), "Expected a caption naming one class"),
        (lambda: parse_caption("a dark light coat, wide"), "one tone"),
        (lambda: parse_caption(3), "Expected a caption string"),
        (lambda: held_out_combinations(11), "Expected count <= 10"),
        (lambda: training_mask(np.zeros((1, 28, 28)), [0], [(0, "dark")]),
         r"Expected \(label, tone, width\) triples"),
        (lambda: training_mask(np.zeros((1, 28, 28)), [0], [(12, "dark", "wide")]),
         "Expected label <= 9"),
    ],
)
def test_bad_caption_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((2, 28, 28)), [0, 10], r"Expected Fashion-MNIST labels in \[0, 9\]"),
        (np.zeros((2, 28, 28)), [0], r"Expected integer labels of shape \(2,\)"),
        (np.zeros((2, 28, 28)), [0.0, 1.0], "Expected integer labels"),
        (np.zeros((2, 28, 28), "uint8"), [0, 1], "Expected float images in"),
        (np.zeros((2, 28, 28, 3)), [0, 1], "Expected a non-empty batch of grey"),
        (np.zeros((0, 28, 28)), [], "Expected a non-empty batch"),
    ],
)
def test_attribute_of_refuses_bad_input(images, labels, message):
    with pytest.raises(ValueError, match=message):
        attribute_of(images, labels)


def test_fit_thresholds_needs_every_class():
    with pytest.raises(ValueError, match=r"no images of classes \[2, 3"):
        captions.fit_thresholds(np.zeros((2, 28, 28)), [0, 1])


def test_nouns_cover_the_classes():
    assert len(NOUNS) == len(data.FASHION_MNIST_CLASSES) == 10
