"""Samplers, the KV cache and the text-generation pipeline."""

import os
import warnings

import keras
import numpy as np
import pytest

from keras_gen import sampling
from keras_gen.decoding import generate_ids
from keras_gen.generation import TextGenerationPipeline, pipeline
from keras_gen.pretrained import (
    DEFAULT_MODEL_DIR,
    TOKENIZER_FILE,
    Pretrained,
    save_pretrained,
)
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

CONTEXT = 16
TEXT = "abcdefgh ,.\n"


@pytest.fixture(scope="module")
def tokenizer():
    return CharTokenizer.train(TEXT, byte_fallback=False)


@pytest.fixture(scope="module")
def model(tokenizer):
    """A tiny GPT with large random weights, so every position matters.

    GPT's own initialisation (std 0.02) gives nearly uniform attention; weights
    drawn with std 0.3 make outputs depend strongly on the whole context,
    which is what a cache bug would break.
    """
    keras.utils.set_random_seed(0)
    gpt = build_gpt(tokenizer.vocab_size, CONTEXT, 16, num_heads=2, num_layers=2)
    rng = np.random.default_rng(0)
    gpt.set_weights([rng.normal(0, 0.3, w.shape) for w in gpt.get_weights()])
    return gpt


@pytest.fixture(scope="module")
def generator(model, tokenizer):
    """The pipeline without XLA: each new batch shape would compile again.

    The XLA path (``jit=True``, the default) runs in
    test_greedy_with_cache_equals_recomputation, in
    test_pipeline_from_a_folder_and_from_pretrained and on the shipped model.
    """
    return pipeline("text-generation", model=(model, tokenizer), jit=False)


# --- samplers against distributions computed by hand -------------------------


def test_greedy_picks_the_largest_logit_per_row():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 5.0]])
    np.testing.assert_array_equal(sampling.greedy(logits), [1, 2])


def test_temperature_rescales_the_distribution_as_by_hand():
    probs = np.array([0.5, 0.3, 0.2])
    # softmax(log p / T) is proportional to p ** (1 / T).
    for temperature in (0.5, 1.0, 2.0):
        expected = probs ** (1 / temperature)
        expected /= expected.sum()
        got = sampling.next_token_probs(np.log(probs), temperature=temperature)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_temperature_towards_zero_is_greedy():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(200, 30))
    probs = sampling.next_token_probs(logits, temperature=1e-4)
    np.testing.assert_array_equal(probs.argmax(-1), sampling.greedy(logits))
    assert probs.max(-1).min() > 0.999
    drawn = sampling.sample(logits, rng=0, temperature=1e-4)
    np.testing.assert_array_equal(drawn, sampling.greedy(logits))


def test_high_temperature_approaches_uniform():
    probs = sampling.next_token_probs(np.log([0.9, 0.05, 0.05]), temperature=1e4)
    np.testing.assert_allclose(probs, 1 / 3, atol=1e-3)


def test_top_k_keeps_exactly_k_even_with_ties():
    logits = np.array([1.0, 3.0, 3.0, 2.0, 3.0, 0.0])
    kept = np.isfinite(sampling.top_k_filter(logits, 2))
    np.testing.assert_array_equal(kept, [0, 1, 1, 0, 0, 0])  # ties: lower ids
    for k in range(1, 7):
        assert np.isfinite(sampling.top_k_filter(logits, k)).sum() == k
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(50, 20))
    filtered = sampling.top_k_filter(batch, 5)
    assert (np.isfinite(filtered).sum(-1) == 5).all()
    kept_min = np.where(np.isfinite(filtered), batch, np.inf).min(-1)
    dropped_max = np.where(np.isfinite(filtered), -np.inf, batch).max(-1)
    assert (kept_min > dropped_max).all()  # the 5 kept are the 5 largest


def test_top_k_renormalises_the_kept_probabilities():
    probs = np.array([0.1, 0.4, 0.2, 0.3])
    got = sampling.next_token_probs(np.log(probs), top_k=2)
    np.testing.assert_allclose(got, [0, 4 / 7, 0, 3 / 7])
    np.testing.assert_allclose(
        sampling.next_token_probs(np.log(probs), top_k=10), probs
    )


@pytest.mark.parametrize(
    ("top_p", "kept"),
    [
        (0.3, [0, 0, 1, 0]),  # the top token alone already reaches 0.3
        (0.5, [0, 0, 1, 0]),  # exactly 0.5 is reached by the top token
        (0.51, [1, 0, 1, 0]),  # 0.5 + 0.3
        (0.8, [1, 0, 1, 0]),
        (0.81, [1, 0, 1, 1]),  # 0.5 + 0.3 + 0.15
        (1.0, [1, 1, 1, 1]),
    ],
)
def test_top_p_keeps_the_smallest_set_reaching_p(top_p, kept):
    probs = np.array([0.3, 0.05, 0.5, 0.15])  # sorted: ids 2, 0, 3, 1
    filtered = sampling.top_p_filter(np.log(probs), top_p)
    np.testing.assert_array_equal(np.isfinite(filtered), np.array(kept, bool))
    expected = np.where(kept, probs, 0) / np.where(kept, probs, 0).sum()
    np.testing.assert_allclose(
        sampling.next_token_probs(np.log(probs), top_p=top_p), expected
    )


def test_sampling_frequencies_follow_the_distribution():
    probs = np.array([0.5, 0.3, 0.2, 0.0])
    logits = np.log(np.where(probs > 0, probs, 1e-300))
    draws = sampling.sample(np.tile(logits, (20_000, 1)), rng=0)
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, probs, atol=0.015)
    filtered = sampling.sample(np.tile(logits, (2_000, 1)), rng=0, top_k=2)
    assert set(np.unique(filtered)) == {0, 1}


def test_seeded_sampling_is_reproducible():
    logits = np.random.default_rng(0).normal(size=(64, 50))
    first = sampling.sample(logits, rng=7, temperature=1.3, top_p=0.9)
    np.testing.assert_array_equal(
        first, sampling.sample(logits, rng=7, temperature=1.3, top_p=0.9)
    )
    assert (first != sampling.sample(logits, rng=8, temperature=1.3)).any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 0}, "Expected temperature > 0. Received: temperature=0.0"),
        ({"temperature": -1.0}, "Received: temperature=-1.0"),
        ({"top_k": 0}, "Expected top_k >= 1. Received: top_k=0"),
        ({"top_p": 0.0}, "Expected 0 < top_p <= 1. Received: top_p=0.0"),
        ({"top_p": 1.5}, "Expected 0 < top_p <= 1. Received: top_p=1.5"),
    ],
)
def test_sampler_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sampling.next_token_probs(np.zeros(3), **kwargs)


# --- the key/value cache -------------------------------------------------------


def test_call_with_cache_matches_the_full_forward_pass(model):
    ids = np.random.default_rng(0).integers(0, model.vocab_size, (2, CONTEXT))
    full = keras.ops.convert_to_numpy(model(ids))
    cache = model.init_cache(2)
    logits, cache = model.call_with_cache(ids[:, :5], cache, 0)  # prefill 5
    pieces = [keras.ops.convert_to_numpy(logits)]
    for t in range(5, CONTEXT):  # then one position at a time
        logits, cache = model.call_with_cache(ids[:, t : t + 1], cache, t)
        pieces.append(keras.ops.convert_to_numpy(logits))
    np.testing.assert_allclose(np.concatenate(pieces, 1), full, atol=1e-4)


@pytest.mark.parametrize("jit", [True, False])
def test_greedy_with_cache_equals_recomputation(model, jit):
    prompt = [1, 5, 2, 7]
    cached = generate_ids(model, prompt, 10, jit=jit)
    recomputed = generate_ids(model, prompt, 10, use_cache=False)
    reference = model.generate(prompt, 10, do_sample=False)  # the eager loop
    np.testing.assert_array_equal(cached, recomputed)
    np.testing.assert_array_equal(cached, reference)
    assert len(set(cached[4:].tolist())) > 1, "a constant output tests little"


def test_cache_equivalence_for_a_batch_of_prompts(model):
    prompts = np.array([[1, 2, 3], [4, 4, 4], [9, 0, 5]])
    cached = generate_ids(model, prompts, 9)
    assert cached.shape == (3, 12)
    np.testing.assert_array_equal(
        cached, generate_ids(model, prompts, 9, use_cache=False)
    )
    for row, prompt in zip(cached, prompts, strict=True):  # batching changes nothing
        np.testing.assert_array_equal(row, generate_ids(model, prompt, 9))


def test_cache_equivalence_across_the_full_context_window(model):
    # 5 + 30 tokens > context 16: the window fills, then slides.
    prompt = [3, 1, 4, 1, 5]
    cached = generate_ids(model, prompt, 30)
    np.testing.assert_array_equal(
        cached, generate_ids(model, prompt, 30, use_cache=False)
    )
    np.testing.assert_array_equal(cached, model.generate(prompt, 30, do_sample=False))


def test_prompt_longer_than_the_window_keeps_its_last_tokens(model):
    prompt = np.random.default_rng(3).integers(0, model.vocab_size, 25)
    cached = generate_ids(model, prompt, 6)
    np.testing.assert_array_equal(cached[:25], prompt)
    np.testing.assert_array_equal(
        cached[25:], generate_ids(model, prompt[-CONTEXT:], 6)[CONTEXT:]
    )
    np.testing.assert_array_equal(
        cached, generate_ids(model, prompt, 6, use_cache=False)
    )


def test_seeded_generation_is_reproducible_and_seed_dependent(model):
    kwargs = dict(do_sample=True, temperature=1.5, top_p=0.95)
    first = generate_ids(model, [1, 2], 20, seed=3, **kwargs)
    np.testing.assert_array_equal(
        first, generate_ids(model, [1, 2], 20, seed=3, **kwargs)
    )
    assert (first != generate_ids(model, [1, 2], 20, seed=4, **kwargs)).any()
    # Sampling with and without the cache draws the same tokens too.
    no_cache = generate_ids(model, [1, 2], 20, seed=3, use_cache=False, **kwargs)
    np.testing.assert_array_equal(first, no_cache)


# --- the pipeline ------------------------------------------------------------------


def test_one_prompt_returns_a_list_of_dicts(generator):
    out = generator("abc", max_length=10)
    assert isinstance(out, list) and len(out) == 1
    assert list(out[0]) == ["generated_text"]
    text = out[0]["generated_text"]
    assert text.startswith("abc") and len(text) == 10  # max_length counts the prompt


def test_max_new_tokens_and_return_full_text(generator):
    out = generator("abc", max_new_tokens=4, return_full_text=False)
    assert len(out[0]["generated_text"]) == 4
    full = generator("abc", max_new_tokens=4)[0]["generated_text"]
    assert full == "abc" + out[0]["generated_text"]  # greedy: same continuation
    assert generator("abc", max_length=7) == generator("abc", max_new_tokens=4)


def test_many_prompts_return_a_list_per_prompt(generator):
    prompts = ["ab", "hgfe", "c"]
    out = generator(
        prompts, max_new_tokens=5, do_sample=True, num_return_sequences=2, seed=0
    )
    assert len(out) == 3 and all(len(group) == 2 for group in out)
    for prompt, group in zip(prompts, out, strict=True):
        for item in group:
            assert item["generated_text"].startswith(prompt)
            assert len(item["generated_text"]) == len(prompt) + 5


def test_pipeline_sampling_is_seeded(generator):
    kwargs = dict(
        max_new_tokens=30, do_sample=True, temperature=2.0, num_return_sequences=3
    )
    first = generator("ab", seed=1, **kwargs)
    assert first == generator("ab", seed=1, **kwargs)
    assert first != generator("ab", seed=2, **kwargs)
    assert len({item["generated_text"] for item in first}) > 1


def test_pipeline_from_a_folder_and_from_pretrained(model, tokenizer, tmp_path):
    folder = save_pretrained(str(tmp_path / "tiny"), model, tokenizer, {"name": "tiny"})
    # jit=False: a fresh model would compile again; the XLA pipelines below
    # must give the same greedy text.
    from_folder = pipeline("text-generation", model=folder, jit=False)
    assert isinstance(from_folder, TextGenerationPipeline)
    assert from_folder.card == {"name": "tiny"}
    expected = pipeline("text-generation", model=(model, tokenizer))(
        "abc", max_length=12
    )
    assert from_folder("abc", max_length=12) == expected
    loaded = Pretrained(model, tokenizer, {}, None)
    assert pipeline("text-generation", model=loaded)("abc", max_length=12) == expected
    assert (
        pipeline("text-generation", model=model, tokenizer=tokenizer)(
            "abc", max_length=12
        )
        == expected
    )


# --- errors a learner can act on ------------------------------------------------


def test_unknown_task_is_named(model, tokenizer):
    with pytest.raises(
        ValueError,
        match="Expected task='text-generation'. Received: task='summarization'",
    ):
        pipeline("summarization", model=(model, tokenizer))


def test_folder_missing_a_file_names_it(model, tokenizer, tmp_path):
    folder = save_pretrained(str(tmp_path / "broken"), model, tokenizer)
    os.remove(os.path.join(folder, TOKENIZER_FILE))
    with pytest.raises(FileNotFoundError, match="Missing: tokenizer.json"):
        pipeline("text-generation", model=folder)


def test_article_model_name_explains_why_it_cannot_load():
    with pytest.raises(FileNotFoundError, match="paid API"):
        pipeline("text-generation", model="gpt-3.5")


def test_model_without_tokenizer(model):
    with pytest.raises(
        ValueError, match="Expected a tokenizer with an in-memory model"
    ):
        pipeline("text-generation", model=model)


@pytest.mark.parametrize("max_length", [3, 2])
def test_max_length_must_exceed_the_prompt(generator, max_length):
    with pytest.raises(
        ValueError,
        match=rf"Expected max_length > the prompt's length \(3 tokens\).*"
        rf"Received: max_length={max_length}",
    ):
        generator("abc", max_length=max_length)


def test_long_prompt_is_truncated_from_the_left_with_one_warning(model, tokenizer):
    fresh = pipeline("text-generation", model=(model, tokenizer))
    prompt = "abcdefgh" * 3  # 24 characters > context 16
    with pytest.warns(UserWarning, match="sees only the last 16 tokens") as caught:
        out = fresh(prompt, max_new_tokens=3)
        fresh(prompt, max_new_tokens=3)
    assert len([w for w in caught if "truncation" in str(w.message)]) == 1
    assert out[0]["generated_text"].startswith(prompt)
    continuation = out[0]["generated_text"][len(prompt) :]
    assert (
        continuation
        == fresh(prompt[-CONTEXT:], max_new_tokens=3, return_full_text=False)[0][
            "generated_text"
        ]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"do_sample": True, "temperature": 0.0}, "Expected temperature > 0"),
        ({"do_sample": True, "top_p": 1.2}, "Expected 0 < top_p <= 1"),
        ({"do_sample": True, "top_p": 0}, "Expected 0 < top_p <= 1"),
        ({"do_sample": True, "top_k": 0}, "Expected top_k >= 1"),
        ({"num_return_sequences": 2}, "Set do_sample=True"),
        ({"max_length": 9, "max_new_tokens": 2}, "Expected only one of max_length"),
        ({"max_new_tokens": 0}, "Expected max_new_tokens >= 1"),
    ],
)
def test_bad_generation_arguments(generator, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generator("abc", **kwargs)


def test_sampling_options_without_do_sample_warn(generator):
    with pytest.warns(UserWarning, match="do_sample=False uses greedy decoding"):
        generator("abc", max_new_tokens=2, temperature=0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        generator("abc", max_new_tokens=2)


def test_empty_prompt_is_an_error(generator):
    with pytest.raises(ValueError, match="Expected a non-empty prompt"):
        generator("")


@pytest.mark.skipif(
    not os.path.isdir(DEFAULT_MODEL_DIR), reason="the shipped model is not built"
)
def test_default_model_continues_the_article_prompt():
    generator = pipeline("text-generation")
    out = generator("The future of AI in healthcare is", max_length=50)
    assert len(out) == 1 and len(out[0]["generated_text"]) == 50
    assert out[0]["generated_text"].startswith("The future of AI in healthcare is")


@pytest.mark.skipif(
    not os.path.isdir(DEFAULT_MODEL_DIR), reason="the shipped model is not built"
)
def test_shipped_model_greedy_continuation_is_pinned():
    # Golden value: the README's example. A change to the decoding path, the
    # model body or the shipped weights that alters it fails here.
    generator = pipeline("text-generation", jit=False)
    out = generator("The future of AI in healthcare is", max_length=50)
    golden = "The future of AI in healthcare is not instance of "
    assert out == [{"generated_text": golden}]


# --- one decoding path: GPT.generate is generate_ids ------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"do_sample": False},
        {"do_sample": True, "temperature": 0.7, "seed": 3},
        {"do_sample": True, "top_k": 3, "seed": 4},
        {"do_sample": True, "top_p": 0.8, "temperature": 1.3, "seed": 5},
    ],
)
def test_gpt_generate_and_generate_ids_agree_token_for_token(model, settings):
    prompts = np.array([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(
        model.generate(prompts, 25, **settings),  # runs past the window (16)
        generate_ids(model, prompts, 25, jit=False, **settings),
    )
    np.testing.assert_array_equal(
        model.generate(prompts, 25, use_cache=False, **settings),
        generate_ids(model, prompts, 25, use_cache=False, **settings),
    )


def test_gpt_generate_top_k_keeps_only_the_k_most_likely_tokens(model):
    prompt = np.array([[1, 2, 3]])
    out = model.generate(prompt, 10, top_k=2, temperature=5.0, seed=0)
    for t in range(3, 13):  # every new token is among the 2 most likely
        logits = keras.ops.convert_to_numpy(model(out[:, :t]))[0, -1]
        assert out[0, t] in np.argsort(-logits, kind="stable")[:2]
    # top_k=1 leaves one token: greedy decoding, at any temperature.
    np.testing.assert_array_equal(
        model.generate(prompt, 10, top_k=1, temperature=5.0, seed=1),
        model.generate(prompt, 10, do_sample=False),
    )
    # A flat distribution (temperature 5) with top_k=2 uses both tokens.
    many = model.generate(np.tile(prompt, (20, 1)), 1, top_k=2, temperature=5.0)
    assert len(set(many[:, 3].tolist())) == 2


def test_sequence_i_depends_only_on_seed_and_i(model, generator):
    prompt = [1, 2, 3]
    one = generate_ids(model, [prompt], 12, do_sample=True, seed=9, jit=False)
    three = generate_ids(model, [prompt] * 3, 12, do_sample=True, seed=9, jit=False)
    np.testing.assert_array_equal(one[0], three[0])
    assert (three[1] != three[2]).any()  # the rows differ from each other
    in_batches_of_two = generate_ids(
        model, [prompt] * 3, 12, do_sample=True, seed=9, jit=False, batch_size=2
    )
    np.testing.assert_array_equal(three, in_batches_of_two)
    first = generator("abc", max_new_tokens=8, do_sample=True, seed=4)
    several = generator(
        "abc", max_new_tokens=8, do_sample=True, seed=4, num_return_sequences=3
    )
    assert several[0] == first[0]


def test_prompts_of_different_lengths_decode_together_as_one_by_one(model):
    prompts = [[1], [2, 3, 4, 5], [6, 7]]
    together = generate_ids(model, prompts, 6, jit=False)
    for row, prompt in zip(together, prompts, strict=True):
        np.testing.assert_array_equal(row, generate_ids(model, prompt, 6, jit=False))
    np.testing.assert_array_equal(
        np.concatenate(together),
        np.concatenate(generate_ids(model, prompts, 6, use_cache=False)),
    )
    with pytest.raises(ValueError, match="fit the context window"):
        generate_ids(model, prompts, CONTEXT)


def test_long_requests_show_progress(model, capsys):
    generate_ids(model, [1, 2], 3, jit=False, verbose=True)
    assert "3/3" in capsys.readouterr().out
    generate_ids(model, [1, 2], 3, jit=False)  # short: quiet by default
    assert capsys.readouterr().out == ""


def test_non_finite_logits_are_a_clear_error(tokenizer):
    gpt = build_gpt(tokenizer.vocab_size, CONTEXT, 16, num_heads=2, num_layers=1)
    weights = gpt.get_weights()
    weights[0][0, 0] = np.nan  # one damaged number in the token embedding
    gpt.set_weights(weights)
    for use_cache in (True, False):
        with pytest.raises(FloatingPointError, match="NaN or infinite logits"):
            generate_ids(gpt, [0, 1], 3, use_cache=use_cache, jit=False)


VOCAB = len(TEXT)  # the tiny model's vocabulary


@pytest.mark.parametrize(
    ("prompt", "kwargs", "error", "fragment"),
    [
        ([1, 2], {"max_new_tokens": -1}, ValueError, "Expected max_new_tokens >= 0"),
        ([1, 2], {"max_new_tokens": 10_001}, ValueError, "max_new_tokens <= 10000"),
        ([1, 2], {"max_new_tokens": 2.0}, ValueError, "max_new_tokens to be an int"),
        ([1, 2], {"temperature": -1.0}, ValueError, "Expected temperature > 0"),
        ([1, 2], {"temperature": float("nan")}, ValueError, "finite number"),
        ([1, 2], {"top_k": 0}, ValueError, "Expected top_k >= 1"),
        ([1, 2], {"top_k": VOCAB + 1}, ValueError, f"top_k <= {VOCAB}"),
        ([1, 2], {"top_p": 0}, ValueError, "Expected 0 < top_p <= 1"),
        ([1, 2], {"do_sample": "no"}, ValueError, "do_sample to be True or False"),
        ([1, 2], {"seed": -1}, ValueError, "Expected seed >= 0"),
        ([1, 2], {"batch_size": 0}, ValueError, "Expected batch_size >= 1"),
        ([1, 2], {"use_cache": "yes"}, ValueError, "use_cache to be True or False"),
        ([1, VOCAB], {}, ValueError, f"token ids in \\[0, vocab_size={VOCAB}\\)"),
        ([-1, 2], {}, ValueError, "Received: ids from -1 to 2"),
        ([1.5, 2.0], {}, ValueError, "Expected integer token ids"),
        ([], {}, ValueError, "Expected non-empty 1-D prompts"),
    ],
)
@pytest.mark.parametrize("use_cache", [True, False])
def test_bad_decoding_inputs(model, prompt, kwargs, error, fragment, use_cache):
    kwargs = {"max_new_tokens": 3, "do_sample": True, "seed": 0, **kwargs}
    if "use_cache" not in kwargs:
        kwargs["use_cache"] = use_cache
    with pytest.raises(error, match=fragment):
        generate_ids(model, prompt, jit=False, **kwargs)
    with pytest.raises(error, match=fragment):
        model.generate(prompt, **kwargs)


def test_greedy_with_temperature_zero_says_what_to_do(generator):
    with pytest.raises(ValueError, match="ignores temperature: leave it") as info:
        generator("abc", max_new_tokens=2, do_sample=False, temperature=0)
    assert "use greedy decoding" not in str(info.value)  # the user already is
    with pytest.raises(ValueError, match="do_sample to be True or False"):
        generator("abc", max_new_tokens=2, do_sample="no")


def _package_imports(module: str) -> set:
    """The keras_gen modules that ``keras_gen/<module>.py`` imports anywhere."""
    import ast
    import pathlib

    import keras_gen

    source = pathlib.Path(keras_gen.__file__).with_name(f"{module}.py").read_text()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found.update(n for n in names if n.startswith("keras_gen."))
    return found


def test_decoding_needs_only_a_model_so_there_is_no_import_circle():
    # transformer -> generation -> pretrained -> transformer was a circle;
    # the decoding loop now lives apart from the folder-loading pipeline.
    decoding = _package_imports("decoding")
    for banned in ("transformer", "pretrained", "generation"):
        assert not any(name.startswith(f"keras_gen.{banned}") for name in decoding)
    transformer = _package_imports("transformer")
    assert "keras_gen.decoding" in transformer
    assert not any(name.startswith("keras_gen.generation") for name in transformer)
    assert not any(name.startswith("keras_gen.pretrained") for name in transformer)
