"""The exercise solutions of notebook 07 run and return sensible values."""

import keras
import numpy as np
import pytest

from keras_gen import finetune as ft
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt
from solutions import nb07


@pytest.fixture
def eager():
    """Run tf.functions eagerly: for a few steps, tracing each new model's train
    and predict functions (5-10 s a model on 2 CPU cores) costs more than the
    steps themselves. The other tests here train in graph mode."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def _tiny(tokenizer, context_length=24):
    keras.utils.set_random_seed(0)
    return build_gpt(tokenizer.vocab_size, context_length, 32, 2, 1)


def test_code_task_accuracy_from_pretrained_and_scratch():
    tok = CharTokenizer.train("abcd#=\n", byte_fallback=False)
    pairs = [("#a=", "b\n"), ("#b=", "c\n"), ("#c=", "d\n"), ("#d=", "a\n")]
    model = _tiny(tok)
    kwargs = dict(
        max_new_tokens=4, steps=60, batch_size=8, learning_rate=1e-2, jit_compile=False
    )
    accuracy = nb07.code_task_accuracy(model, tok, pairs, pairs, length=6, **kwargs)
    assert accuracy == 1.0  # the mapping is learned on the training pairs
    before = [w.copy() for w in model.get_weights()]
    scratch = nb07.code_task_accuracy(
        model, tok, pairs, pairs, pretrained=False, length=6, **kwargs
    )
    assert scratch == 1.0  # four pairs are learned from random weights too
    # Both runs trained a copy: the model passed in is unchanged.
    assert all(
        np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )
    untrained = _eagerly(
        nb07.code_task_accuracy,
        model, tok, pairs, pairs, pretrained=False, length=6, **{**kwargs, "steps": 1}
    )
    assert untrained < 1.0  # one step is not enough: the number can fail


def _eagerly(function, *args, **kwargs):
    """``function(*args, **kwargs)`` op by op: for one step, quicker than tracing."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        return function(*args, **kwargs)
    finally:
        tf.config.run_functions_eagerly(False)


def test_linear_probe_trains_only_the_head_and_classify():
    tok = CharTokenizer.train("abcdefgh", byte_fallback=False)
    texts = ["abcdabcd", "efghefgh", "aabbccdd", "eeffgghh"] * 4
    labels = np.array([0, 1, 0, 1] * 4)
    x = ft.encode_texts(tok, texts, 8)
    model = _tiny(tok)
    before = [w.copy() for w in model.get_weights()]
    accuracy = nb07.linear_probe(
        model, x, labels, x, labels, steps=40, learning_rate=1e-2, jit_compile=False
    )
    assert accuracy >= 0.75
    assert all(
        np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)
    )

    classifier = ft.GPTClassifier(_tiny(tok), 2)
    ft.finetune_classifier(
        classifier, x, labels, steps=30, learning_rate=3e-3, jit_compile=False
    )
    result = nb07.classify(classifier, tok, ["abcab", "hgfeh"], ["ad", "eh"], 8)
    assert [topic for _, topic, _ in result] == ["ad", "eh"]
    assert all(0.5 <= p <= 1.0 for _, _, p in result)


def test_main_prints_answers_that_follow_its_numbers(capsys, eager):
    import re

    from keras_gen import tasks
    from keras_gen.pretrained import Pretrained

    texts, _, _ = tasks.load_docstring_topics()
    pairs = "".join(p + c for p, c in tasks.make_code_pairs())
    tok = CharTokenizer.train(pairs + "".join(texts[:200]))
    nb07.main(
        Pretrained(_tiny(tok, context_length=72), tok, {}),
        code_steps=2,
        code_test_size=4,
        few_pairs=8,
        clf_steps=2,
        per_class=2,
        test_per_class=2,
        max_new_tokens=3,
        jit_compile=False,
    )
    out = capsys.readouterr().out
    rows = re.findall(
        r"from (pretrained|scratch) *: +([\d.]+)% .*, +([\d.]+)% with", out
    )
    drops = {start: float(a) - float(b) for start, a, b in rows}
    assert len(drops) == 2
    if abs(drops["pretrained"] - drops["scratch"]) < 2:
        assert "both lose about the same" in out
    else:
        worse = max(drops, key=drops.get)
        assert (f"the {worse} model suffers more" in out) != (
            "only because the one from scratch had little to lose" in out
        )
    probe, full = (
        float(v)
        for v in re.search(
            r"linear probe ([\d.]+), full fine-tuning ([\d.]+)", out
        ).groups()
    )
    assert ("the probe is worse" in out) == (probe < full)
    right = int(re.search(r"(\d) of 4 right", out).group(1))
    assert right == out.count("   ✓ ")
    share = 100 * right / 4
    test_share = int(re.search(r"against (\d+)% on the test", out).group(1))
    expected = (
        "fewer than"
        if share < test_share
        else ("more than" if share > test_share else "the same share")
    )
    assert f"sentences: {expected}" in out
