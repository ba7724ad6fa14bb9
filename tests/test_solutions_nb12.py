"""The exercise solutions of notebook 12 run and give what they claim."""

import numpy as np
import pytest

from keras_gen import data
from keras_gen.diffusion import NoiseSchedule
from keras_gen.text_to_image import captions
from solutions import nb12


def test_x0_and_eps_from_v_recovers_both():
    schedule = NoiseSchedule("cosine", timesteps=1000)
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (3, 4, 4, 1))
    eps = rng.standard_normal(x0.shape)
    for t in (0, 500, 999):
        abar = schedule.alphas_cumprod[t]
        x_t = schedule.q_sample(x0, np.full(3, t), eps)
        v = np.sqrt(abar) * eps - np.sqrt(1 - abar) * x0
        got_x0, got_eps = nb12.x0_and_eps_from_v(x_t, v, abar)
        np.testing.assert_allclose(got_x0, x0, atol=1e-9)
        np.testing.assert_allclose(got_eps, eps, atol=1e-9)


def test_largest_coefficients_at_the_last_step():
    abar = NoiseSchedule("cosine", timesteps=1000).alphas_cumprod[999]
    coefficients = nb12.largest_coefficients(abar)
    assert coefficients["v"] <= 1.0
    assert coefficients["epsilon"] > 1000  # dividing by sqrt(abar) blows up


def test_x0_and_eps_from_v_bad_inputs():
    with pytest.raises(ValueError, match="abar"):
        nb12.x0_and_eps_from_v([0.0], [0.0], 0.0)
    with pytest.raises(ValueError, match=r"Expected v shaped like x_t \(1,\)"):
        nb12.x0_and_eps_from_v([0.0], [0.0, 1.0], 0.5)


ROWS = [
    {"guidance_scale": 5.0, "class": 0.95, "diversity": 5.0},
    {"guidance_scale": 0.0, "class": 0.10, "diversity": 9.0},
    {"guidance_scale": 3.0, "class": 0.92, "diversity": 6.0},
    {"guidance_scale": 1.0, "class": 0.70, "diversity": 8.0},
]


def test_choose_guidance_by_hand():
    chosen = nb12.choose_guidance(ROWS, target=0.9)
    assert (chosen["guidance_scale"], chosen["met"]) == (3.0, True)
    assert nb12.choose_guidance(ROWS, target=0.5)["guidance_scale"] == 1.0
    unmet = nb12.choose_guidance(ROWS, target=0.99)
    assert (unmet["guidance_scale"], unmet["met"]) == (5.0, False)


def test_choose_guidance_bad_inputs():
    with pytest.raises(ValueError, match="at least one sweep row"):
        nb12.choose_guidance([])
    with pytest.raises(ValueError, match="without \\['class'\\]"):
        nb12.choose_guidance([{"guidance_scale": 1.0}])
    with pytest.raises(ValueError, match="target"):
        nb12.choose_guidance(ROWS, target=1.5)


def test_combination_counts_and_the_held_out_mask():
    images, labels = data.load_images("fashion_mnist", "test")
    images, labels = images[:2000], labels[:2000]
    counts = nb12.combination_counts(images, labels)
    assert len(counts) == 40 and sum(counts.values()) == 2000
    held_out = captions.held_out_combinations(4, seed=0)
    assert all(counts[c] > 0 for c in held_out)  # they exist in the data
    keep = captions.training_mask(images, labels, held_out)
    kept = nb12.combination_counts(images[keep], labels[keep])
    assert all(kept[c] == 0 for c in held_out)
    assert sum(kept.values()) == 2000 - sum(counts[c] for c in held_out)


def test_main_prints_exercise_3_from_its_counts(capsys):
    import re

    nb12.main(n_images=3000)
    out = capsys.readouterr().out
    assert "3,000 training images" in out
    assert "held-out combinations it leaves 0 images" in out
    median = float(re.search(r"median of (\d+) images", out)[1])
    counts = [int(n) for n in re.findall(r":\s+(\d+) images, more than", out)]
    assert len(counts) == 4
    common = sum(n >= median for n in counts)
    assert f"{common} of the 4 held-out ones" in out
    assert ("mostly common" in out) == (common * 2 >= 4)
