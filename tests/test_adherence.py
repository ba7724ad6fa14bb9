"""Prompt adherence and the per-class Fréchet table, on hand-made cases."""

import numpy as np
import pytest

from keras_gen import adherence


def test_adherence_on_a_hand_made_case():
    requested = [0, 0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 0, 1, 1, 0, 2]
    table = adherence.adherence_from_predictions(predicted, requested, num_classes=4)
    np.testing.assert_allclose(table["per_class"][:3], [0.75, 0.5, 1.0])
    assert np.isnan(table["per_class"][3])  # class 3 was never requested
    assert table["overall"] == pytest.approx(5 / 7)
    np.testing.assert_allclose(table["confusion"][0], [0.75, 0.25, 0, 0])
    np.testing.assert_allclose(table["confusion"][1], [0.5, 0.5, 0, 0])


@pytest.mark.parametrize(
    "predicted, requested, message",
    [
        ([0, 1], [0], "as many predicted as requested"),
        ([0.0, 1.0], [0, 1], "integer class ids. Received: dtype float64"),
        ([0, 10], [0, 1], r"ids in \[0, 10\). Received: ids from 0 to 10"),
        ([], [], "non-empty 1-D array"),
        ([[0]], [[0]], "non-empty 1-D array"),
    ],
)
def test_adherence_bad_inputs(predicted, requested, message):
    with pytest.raises(ValueError, match=message):
        adherence.adherence_from_predictions(predicted, requested)


@pytest.fixture(scope="module")
def real_by_class(fashion_test):
    """128 real test images of each class, class by class, and their labels."""
    images, labels = fashion_test
    picks = np.concatenate([np.flatnonzero(labels == c)[:128] for c in range(10)])
    return images[picks], labels[picks].astype("int64")


def test_real_images_adhere_like_real_images(real_by_class):
    images, labels = real_by_class
    report = adherence.design_report(images, labels, seed=0)
    assert report.per_class_n.tolist() == [128] * 10
    # The classifier is about 91% accurate on real test images.
    assert 0.85 <= report.overall["adherence"] <= 0.97
    assert 0.85 <= report.overall["real_adherence"] <= 0.97
    # Real test images against other real test images: near the floor, far
    # below what the same images score when asked for the wrong class.
    shuffled = adherence.design_report(images, np.roll(labels, 128), seed=0)
    assert report.overall["frechet"] < 3 * report.overall["floor"] + 1.0
    assert shuffled.adherence.max() < 0.2
    assert shuffled.frechet.min() > 5 * report.frechet.max()
    assert "overall" in str(report) and "Sandal" in str(report)
    # The second judge scores the same real images about as well, on its own.
    assert 0.85 <= report.overall["adherence_second"] <= 0.97
    assert report.overall["real_adherence_second"] >= 0.85
    assert report.adherence_second.shape == (10,)
    assert shuffled.adherence_second.max() < 0.2
    assert "2nd judge" in str(report)
    assert {"adherence_second", "real_adherence_second"} <= set(report.rows()[0])


def test_design_report_without_the_second_judge(real_by_class):
    images, labels = real_by_class
    report = adherence.design_report(images, labels, seed=0, second_judge=False)
    assert report.adherence_second is None
    assert "adherence_second" not in report.overall
    assert "2nd judge" not in str(report)
    assert "adherence_second" not in report.rows()[-1]


def test_design_report_bad_inputs(real_by_class):
    images, labels = real_by_class
    with pytest.raises(ValueError, match="one requested class per image"):
        adherence.design_report(images, labels[:-1])
    with pytest.raises(ValueError, match=r"every class requested 128 to 1000 times"):
        adherence.design_report(images[:640], labels[:640])
    with pytest.raises(ValueError, match=r"shape \(n, 28, 28, 1\)"):
        adherence.design_report(images[..., 0], labels)
    with pytest.raises(ValueError, match="looks like the \\[0, 1\\] range"):
        adherence.prompt_adherence((images + 1) / 2, labels)
