"""The pretrained-folder format and the model that ships with the project."""

import hashlib
import json
import os

import numpy as np
import pytest

from keras_gen.pretrained import (
    CARD_FILE,
    DEFAULT_MODEL_DIR,
    MODEL_FILE,
    load_pretrained,
    save_pretrained,
    validation_loss,
)
from keras_gen.text import load_corpus
from keras_gen.tokenizers import CharTokenizer
from keras_gen.training import compile_for_pretraining
from keras_gen.transformer import build_gpt


@pytest.fixture
def tiny(tmp_path):
    tokenizer = CharTokenizer.train("hello world", byte_fallback=False)
    model = build_gpt(tokenizer.vocab_size, 8, 16, 2, 1)
    compile_for_pretraining(model, jit_compile=False)  # optimizer not saved
    folder = save_pretrained(tmp_path / "tiny", model, tokenizer, {"steps": 0})
    return model, tokenizer, folder


def test_round_trip_gives_identical_outputs(tiny):
    model, tokenizer, folder = tiny
    loaded = load_pretrained(folder)
    ids = np.array([tokenizer.encode("hello w")], "int32")
    np.testing.assert_allclose(loaded.model(ids), model(ids), atol=1e-6)
    assert loaded.tokenizer.encode("world") == tokenizer.encode("world")
    assert loaded.card == {"steps": 0}
    assert loaded.path == folder
    assert [n for n in os.listdir(os.path.dirname(folder)) if "partial" in n] == []


def test_save_replaces_an_existing_folder(tiny):
    model, tokenizer, folder = tiny
    save_pretrained(folder, model, tokenizer, {"steps": 5})
    assert load_pretrained(folder).card == {"steps": 5}


def test_missing_file_is_named(tiny):
    _, _, folder = tiny
    os.remove(os.path.join(folder, MODEL_FILE))
    with pytest.raises(FileNotFoundError, match="Missing: model.keras"):
        load_pretrained(folder)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_pretrained(tmp_path / "nothing")


def test_vocab_mismatch_and_bad_card_write_nothing(tmp_path):
    tokenizer = CharTokenizer.train("abc", byte_fallback=False)
    with pytest.raises(ValueError, match="vocab_size"):
        save_pretrained(tmp_path / "m", build_gpt(5, 8, 16, 2, 1), tokenizer)
    with pytest.raises(ValueError, match="JSON values"):
        save_pretrained(
            tmp_path / "m", build_gpt(3, 8, 16, 2, 1), tokenizer, {"x": object()}
        )
    assert os.listdir(tmp_path) == []


def test_shipped_model_is_small_and_documented():
    size = sum(
        os.path.getsize(os.path.join(DEFAULT_MODEL_DIR, n))
        for n in os.listdir(DEFAULT_MODEL_DIR)
    )
    assert size <= 10 * 2**20
    with open(os.path.join(DEFAULT_MODEL_DIR, CARD_FILE)) as f:
        card = json.load(f)
    for key in ("command", "val_loss_nats_per_char", "steps", "corpus_sha256"):
        assert key in card


def test_shipped_model_reaches_its_recorded_validation_loss():
    pretrained = load_pretrained()
    recorded = pretrained.card["val_loss_nats_per_char"]
    measured = validation_loss(pretrained.model, pretrained.tokenizer)
    text = load_corpus().encode("utf-8")
    if hashlib.sha256(text).hexdigest() == pretrained.card["corpus_sha256"]:
        assert measured == pytest.approx(recorded, abs=0.01)
    else:  # another Python release ships slightly different help text
        assert measured == pytest.approx(recorded, abs=0.1)
    assert measured < 2.0  # far below the 5.9 nats of a uniform guess
