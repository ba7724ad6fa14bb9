"""The music exercise solutions of notebook 09 run and give what they claim."""

import math

import keras
import numpy as np
import pytest

from keras_gen.music import melodies as music
from keras_gen.music import metrics as mm
from keras_gen.transformer import build_gpt
from solutions import nb09_music


def test_trigram_by_hand_and_against_the_bigram():
    ids = [0, 1, 2, 0, 1, 2, 0, 1]
    x, y = np.array([[0, 1]]), np.array([[1, 2]])
    vocab = len(music.VOCABULARY)
    # bigram p(1 | 0) = (3 + 1) / (3 + V); trigram p(2 | 0, 1) = (2 + 1) / (2 + V)
    expected = -(math.log(4 / (3 + vocab)) + math.log(3 / (2 + vocab))) / 2
    assert nb09_music.music_trigram_nll(ids, x, y) == pytest.approx(expected)
    train, val = music.split_chorales(music.load_chorales())
    train_ids = music.melodies_to_ids([c.melody for c in train])
    x, y = mm.next_token_windows(music.melodies_to_ids([c.melody for c in val]), 128)
    trigram = nb09_music.music_trigram_nll(train_ids, x, y, alpha=0.1)
    assert trigram < mm.BigramModel(train_ids, alpha=0.1).nll(x, y)


def test_temperature_sweep_runs_on_a_tiny_model():
    keras.utils.set_random_seed(0)
    model = build_gpt(len(music.VOCABULARY), 32, 16, num_heads=2, num_layers=1)
    held = [c.melody for c in music.load_chorales()[:5]]
    results = nb09_music.music_temperature_sweep(
        model, held, (0.5, 2.0), count=4, jit=False  # no XLA for 8 melodies
    )
    assert set(results) == {0.5, 2.0}
    for row in results.values():
        assert 0 <= row["in_key"] <= 1 and 0 <= row["interval_tv"] <= 1
        assert row["notes"] >= 1
