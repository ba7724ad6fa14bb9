"""Exercise 12.4: choosing among the 40 captions always gives a valid caption."""

import keras
import pytest

from keras_gen.text_to_image import captions, wishes
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt
from solutions import nb12_prompt_writer as sol


def _tiny():
    pairs = wishes.make_pairs(1) + wishes.make_pairs(1, "held_out")
    tokenizer = CharTokenizer.train("".join(p + c for p, c in pairs))
    keras.utils.set_random_seed(0)
    return build_gpt(tokenizer.vocab_size, 128, 16, 2, 1), tokenizer


def test_all_captions_cover_every_combination():
    parsed = {captions.parse_caption(c) for c in sol.all_captions()}
    assert len(parsed) == 40


def test_chosen_captions_always_parse():
    model, tokenizer = _tiny()
    requests = [r for r, _ in wishes.split_requests("held_out")][:3]
    chosen = sol.choose_captions(model, tokenizer, requests)
    assert len(chosen) == 3 and set(chosen) <= set(sol.all_captions())
    only = ["a dark wide bag"]
    assert sol.choose_captions(model, tokenizer, requests, only) == only * 3
    with pytest.raises(ValueError, match="at least one request"):
        sol.choose_captions(model, tokenizer, [], only)


def test_main_prints_an_answer_that_follows_its_numbers(capsys, monkeypatch):
    import re

    import tensorflow as tf

    finetune_writer = wishes.finetune_writer

    def eager_finetune_writer(*args, **kwargs):
        # One step, run op by op (as notebook 12's fast mode does): no XLA compile.
        tf.config.run_functions_eagerly(True)
        try:
            return finetune_writer(*args, **kwargs)
        finally:
            tf.config.run_functions_eagerly(False)

    monkeypatch.setattr(wishes, "finetune_writer", eager_finetune_writer)
    model, tokenizer = _tiny()
    rows = sol.main(model, tokenizer, steps=1, limit=3)
    out = capsys.readouterr().out
    shares = re.search(r"right: ([\d.]+)% among 40, ([\d.]+)% among the 19", out)
    among_40, among_19 = float(shares[1]), float(shares[2])
    assert among_40 == pytest.approx(100 * rows["chosen_40"]["all_ok"], abs=0.05)
    verb = ("changes nothing" if among_40 == among_19
            else "raises" if among_40 > among_19 else "lowers")
    assert verb in out
    assert f"{rows['outside_every_intent']:.1%} of the answers" in out
