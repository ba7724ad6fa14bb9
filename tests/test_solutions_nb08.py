"""The exercise solutions of notebook 08 run and give the numbers they claim."""

import math

import numpy as np
import pytest

from keras_gen.transformer import build_gpt
from solutions import nb08


def test_cache_savings_grow_with_the_prompt_and_vanish_past_the_window():
    model = build_gpt(11, 16, 16, num_heads=2, num_layers=1)
    ratios = nb08.cache_savings(model, prompt_lengths=(1, 6, 16), new_tokens=6)
    assert ratios[1] < 1.0  # a 1-token prompt padded to 16: the cache costs more
    assert ratios[6] > 2.0
    assert ratios[16] == pytest.approx(1.0)  # window full: re-run every token


def test_pixel_coin_bits_by_hand():
    train = np.stack([np.full((2, 2, 1), -1.0), np.full((2, 2, 1), 1.0)])
    # every pixel has probability 1/2: one bit per pixel on any image
    assert nb08.pixel_coin_bits(train, train[:1]) == pytest.approx(1.0)


def test_unigram_bits_by_hand():
    # counts 1+1 and 3+1 after add-one smoothing: p = 1/3 and 2/3
    bits = nb08.unigram_bits([0, 1, 1, 1], [0, 1], vocab_size=2)
    assert bits == pytest.approx((math.log2(3) + math.log2(1.5)) / 2)


def test_tying_saves_the_output_layer():
    saved, tied, untied = nb08.tying_saving(20, 8, 16, 2, 1)
    assert saved == 20 * 16
    assert untied["dense"] - tied["dense"] == saved
    assert tied["embedding"] == untied["embedding"]


def test_stored_vae_bits_is_the_sweeps_last_image_point():
    import json

    with open(nb08.SWEEPS, encoding="utf-8") as f:
        last = json.load(f)["image_data"][-1]
    assert last["n_train"] == 60_000
    assert nb08.stored_vae_bits() == pytest.approx(last["test_bits"])


def test_main_prints_answers_that_follow_from_its_numbers(capsys):
    import re

    nb08.main(measure_gpt=False, n_test=200)
    out = capsys.readouterr().out
    ratios = [float(r) for r in re.findall(r"prompt +\d+: +([\d.]+)x", out)]
    assert len(ratios) == 5
    grows = all(a < b for a, b in zip(ratios[:3], ratios[1:4], strict=True))
    assert ("The ratio grows" in out) == grows
    assert ratios[4] < ratios[3]  # 230 + 50 overflows the window: the ratio falls
    row = r"   (pixel coins|VAE|character|GPT)[^\n]* ([\d.]+) bits"
    bits = dict(re.findall(row, out))
    coin, vae = float(bits["pixel coins"]), float(bits["VAE"])
    unigram, gpt = float(bits["character"]), float(bits["GPT"])
    assert ("below the coins" in out) == (vae < coin)
    further = "GPT" if gpt / unigram < vae / coin else "VAE"
    assert f"baseline the {further} goes further" in out
    assert "tying saves 68,928 parameters" in out  # 359 x 192
