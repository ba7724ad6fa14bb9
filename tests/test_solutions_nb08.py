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
