"""The exercise solutions of notebook 06 run and do what the notebook says."""

import itertools
import re

import keras
import numpy as np
import pytest

from keras_gen.decoding import generate_ids
from keras_gen.transformer import build_gpt
from solutions import nb06


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    gpt = build_gpt(7, 12, 16, num_heads=2, num_layers=1)
    rng = np.random.default_rng(0)
    gpt.set_weights([rng.normal(0, 0.3, w.shape) for w in gpt.get_weights()])
    return gpt


def test_repetition_penalty_by_hand():
    got = nb06.repetition_penalty([2.0, -1.0, 0.5], previous_ids=[0, 1, 0], penalty=2)
    np.testing.assert_allclose(got, [1.0, -2.0, 0.5])
    np.testing.assert_allclose(nb06.repetition_penalty([2.0, -1.0], [0], 1.0), [2, -1])
    with pytest.raises(ValueError, match="Expected penalty >= 1"):
        nb06.repetition_penalty([0.0], [0], penalty=0.5)


def test_penalty_one_is_greedy_and_a_penalty_repeats_less(model):
    prompt = [1, 2, 3]
    np.testing.assert_array_equal(
        nb06.greedy_with_penalty(model, prompt, 9, penalty=1.0),
        generate_ids(model, prompt, 9),
    )
    plain = nb06.greedy_with_penalty(model, prompt, 9, penalty=1.0)[3:]
    penalised = nb06.greedy_with_penalty(model, prompt, 9, penalty=5.0)[3:]
    assert len(set(penalised.tolist())) >= len(set(plain.tolist()))


def test_continuation_log_prob_sums_next_token_log_probs(model):
    prompt, continuation = [1, 2], [3, 0, 4]
    expected, ids = 0.0, list(prompt)
    for token in continuation:
        logits = keras.ops.convert_to_numpy(model(np.array([ids])))[0, -1]
        logits = logits.astype("float64")
        expected += logits[token] - np.log(np.exp(logits).sum())
        ids.append(token)
    got = nb06.continuation_log_prob(model, prompt, continuation)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="context_length=12"):
        nb06.continuation_log_prob(model, [0] * 10, [1] * 3)


def test_beam_search_is_greedy_with_one_beam_and_exact_with_all(model):
    prompt = [4, 1]
    ids, score = nb06.beam_search(model, prompt, 4, num_beams=1)
    np.testing.assert_array_equal(ids, generate_ids(model, prompt, 4))
    np.testing.assert_allclose(
        score, nb06.continuation_log_prob(model, prompt, ids[2:])
    )
    # With as many beams as tokens, two steps search every pair exhaustively.
    ids, score = nb06.beam_search(model, prompt, 2, num_beams=model.vocab_size)
    best = max(
        nb06.continuation_log_prob(model, prompt, pair)
        for pair in itertools.product(range(model.vocab_size), repeat=2)
    )
    np.testing.assert_allclose(score, best, rtol=1e-5)
    greedy = nb06.continuation_log_prob(
        model, prompt, generate_ids(model, prompt, 2)[2:]
    )
    assert score >= greedy - 1e-9


def test_main_prints_answers_that_follow_its_numbers(capsys):
    from keras_gen.generation import pipeline
    from keras_gen.tokenizers import CharTokenizer

    tokenizer = CharTokenizer.train(
        "The future of AI in healthcare is", byte_fallback=False
    )
    keras.utils.set_random_seed(1)
    gpt = build_gpt(tokenizer.vocab_size, 48, 16, num_heads=2, num_layers=1)
    rng = np.random.default_rng(1)
    gpt.set_weights([rng.normal(0, 0.5, w.shape) for w in gpt.get_weights()])
    generator = pipeline("text-generation", model=(gpt, tokenizer), jit=False)
    nb06.main(generator, prompt="The future", new_tokens=12, num_beams=3)
    out = capsys.readouterr().out

    distinct = re.findall(r"distinct 4-grams ([\d.]+), model's own", out)
    plain, penalised = (float(d) for d in distinct)
    assert ("decoding repeats less" in out) == (penalised > plain)
    scores = dict(
        re.findall(r"   (greedy|temperature \S+|top-\w \S+) +(-[\d.]+) nats", out)
    )
    assert len(scores) == len(nb06.STRATEGIES)
    best = max(scores, key=lambda name: float(scores[name]))
    assert f"The most likely is {best}'s" in out
    beam, greedy = (
        float(v)
        for v in re.search(r"(-[\d.]+) nats against greedy's (-[\d.]+)", out).groups()
    )
    assert beam >= greedy - 0.05  # beam search keeps greedy's path among its beams
    assert ("beam search found" in out) == ("as likely as" not in out)
