import dataclasses
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from keras_gen.transformer import (
    GPT,
    CausalSelfAttention,
    GPTConfig,
    TokenAndPositionEmbedding,
    TransformerBlock,
    build_gpt,
    causal_mask,
    gpt_param_count,
)
from keras_gen.vae import Sampling

TINY = dict(vocab_size=11, context_length=8, embed_dim=16, num_heads=2, num_layers=2)


def tiny_gpt(**overrides):
    keras.utils.set_random_seed(0)
    return build_gpt(**{**TINY, **overrides})


def test_attention_matches_keras_multi_head_attention():
    keras.utils.set_random_seed(1)
    batch, seq_len, embed_dim, heads = 2, 7, 12, 3
    x = np.random.default_rng(0).normal(size=(batch, seq_len, embed_dim))
    x = x.astype("float32")
    ours = CausalSelfAttention(num_heads=heads)
    ours.build(x.shape)
    reference = keras.layers.MultiHeadAttention(heads, key_dim=embed_dim // heads)
    expected, expected_weights = reference(
        x, x, use_causal_mask=True, return_attention_scores=True
    )
    # Copy Keras' separate Q/K/V/output weights into our fused layout.
    q, k, v, o = (
        reference._query_dense,
        reference._key_dense,
        reference._value_dense,
        reference._output_dense,
    )
    kernel = np.concatenate(
        [d.kernel.numpy().reshape(embed_dim, embed_dim) for d in (q, k, v)], axis=1
    )
    bias = np.concatenate([d.bias.numpy().reshape(-1) for d in (q, k, v)])
    ours.qkv.set_weights([kernel, bias])
    ours.out.set_weights(
        [o.kernel.numpy().reshape(embed_dim, embed_dim), o.bias.numpy()]
    )
    got, weights = ours(x, return_attention_scores=True)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)


def test_causal_mask_blocks_the_future():
    model = tiny_gpt()
    rng = np.random.default_rng(0)
    ids = rng.integers(0, TINY["vocab_size"], (1, 8))
    base = keras.ops.convert_to_numpy(model(ids))
    for t in range(8):
        changed = ids.copy()
        changed[0, t] = (changed[0, t] + 1) % TINY["vocab_size"]
        out = keras.ops.convert_to_numpy(model(changed))
        # Outputs before position t never change ...
        np.testing.assert_allclose(out[0, :t], base[0, :t], atol=1e-6)
        # ... and position t's own output does.
        assert np.abs(out[0, t] - base[0, t]).max() > 1e-6


def test_attention_weights_are_causal_rows_that_sum_to_one():
    model = tiny_gpt()
    maps = model.attention_weights(np.arange(6)[None] % 11)
    assert maps.shape == (2, 1, 2, 6, 6)
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(maps[0, 0, 0], k=1) == 0)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(causal_mask(3)),
        [[True, False, False], [True, True, False], [True, True, True]],
    )


@pytest.mark.parametrize("tie", [True, False])
def test_parameter_count_formula(tie):
    model = tiny_gpt(tie_embeddings=tie)
    expected = gpt_param_count(11, 8, 16, 2, tie_embeddings=tie)
    assert model.count_params() == expected
    assert expected == 11 * 16 + 8 * 16 + 2 * (12 * 16**2 + 13 * 16) + 2 * 16 + (
        0 if tie else 11 * 16
    )


def test_baby_gpt_golden_count():
    # The CPU "baby GPT": 4 layers, 4 heads, 128 dims, context 64, 65 chars.
    assert gpt_param_count(65, 64, 128, 4) == 809_856
    assert build_gpt(65, 64, 128, 4, 4).count_params() == 809_856


def test_shapes_and_shorter_inputs():
    model = tiny_gpt()
    assert model(np.zeros((3, 8), "int32")).shape == (3, 8, 11)
    assert model(np.zeros((3, 5), "int32")).shape == (3, 5, 11)
    emb = TokenAndPositionEmbedding(11, 8, 16)
    assert emb(np.zeros((2, 4), "int32")).shape == (2, 4, 16)
    assert TransformerBlock(2)(np.ones((1, 3, 16), "float32")).shape == (1, 3, 16)


def test_same_seed_same_numbers():
    ids = np.arange(8)[None]
    a = keras.ops.convert_to_numpy(tiny_gpt()(ids))
    b = keras.ops.convert_to_numpy(tiny_gpt()(ids))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("tie", [True, False])
def test_save_load_identical_outputs(tmp_path, tie):
    model = tiny_gpt(tie_embeddings=tie, dropout=0.1)
    path = str(tmp_path / "gpt.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode stays on
    assert isinstance(loaded, GPT)
    assert loaded.get_config() == model.get_config()
    ids = np.random.default_rng(0).integers(0, 11, (2, 8))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(ids)), keras.ops.convert_to_numpy(model(ids))
    )


def test_config_round_trip():
    model = tiny_gpt()
    clone = GPT.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    layer = CausalSelfAttention(4, dropout=0.2, use_bias=False)
    assert CausalSelfAttention.from_config(layer.get_config()).get_config() == (
        layer.get_config()
    )


def test_generate_is_reproducible():
    model = tiny_gpt()
    a = model.generate([1, 2, 3], 12, seed=5)
    b = model.generate([1, 2, 3], 12, seed=5)
    assert a.shape == (15,) and list(a[:3]) == [1, 2, 3]
    np.testing.assert_array_equal(a, b)
    greedy = model.generate([[1, 2]], 4, do_sample=False)
    assert greedy.shape == (1, 6)


def test_errors():
    with pytest.raises(ValueError, match="Expected embed_dim >= 1. Received: embed_di"):
        build_gpt(11, 8, 0, 2, 2)
    with pytest.raises(ValueError, match="Expected num_layers to be an int"):
        build_gpt(11, 8, 16, 2, 1.5)
    with pytest.raises(ValueError, match="embed_dim divisible by num_heads"):
        build_gpt(11, 8, 16, 3, 1)
    with pytest.raises(ValueError, match="Expected dropout < 1"):
        build_gpt(11, 8, 16, 2, 1, dropout=1.0)
    with pytest.raises(ValueError, match="at most context_length=8 tokens"):
        tiny_gpt()(np.zeros((1, 9), "int32"))
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        CausalSelfAttention(3)(np.ones((1, 2, 16), "float32"))


# --- every custom layer: build, call, config and .keras round trips ---------


def _layer_cases():
    rng = np.random.default_rng(0)
    hidden = rng.normal(size=(2, 5, 8)).astype("float32")
    z_mean = rng.normal(size=(3, 4)).astype("float32")
    # log-variance -100: the noise is scaled by exp(-50), so z equals z_mean
    # and the output is deterministic (the round trip can compare numbers).
    z_log_var = np.full((3, 4), -100.0, "float32")
    return [
        (TokenAndPositionEmbedding(11, 6, 8), [np.array([[1, 2, 3], [4, 5, 0]])],
         (2, 3, 8)),
        (CausalSelfAttention(num_heads=2, dropout=0.1), [hidden], (2, 5, 8)),
        (TransformerBlock(num_heads=4, mlp_ratio=2), [hidden], (2, 5, 8)),
        (Sampling(seed=3), [[z_mean, z_log_var]], (3, 4)),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("layer", "inputs", "shape"),
    _layer_cases(),
    ids=["TokenAndPositionEmbedding", "CausalSelfAttention", "TransformerBlock",
         "Sampling"],
)  # fmt: skip
def test_custom_layer(tmp_path, layer, inputs, shape):
    """What keras' run_layer_test checks, for each keras_gen layer."""
    (x,) = inputs
    keras.utils.set_random_seed(0)
    out = keras.ops.convert_to_numpy(layer(x))
    assert out.shape == shape
    count = len(layer.weights)
    layer(x)  # a second call reuses the weights built by the first
    assert layer.built and len(layer.weights) == count
    input_shape = (
        [tuple(t.shape) for t in x] if isinstance(x, list) else tuple(x.shape)
    )
    assert tuple(layer.compute_output_shape(input_shape)) == shape
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    # The layer inside a saved .keras model loads (safe_mode on) and computes
    # the same numbers.
    if isinstance(x, list):
        inputs_ = [keras.Input(t.shape[1:]) for t in x]
        model = keras.Model(inputs_, layer(inputs_))
    else:
        symbolic = keras.Input(x.shape[1:], dtype=x.dtype.name)
        model = keras.Model(symbolic, layer(symbolic))
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.layers[-1]) is type(layer)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), out, rtol=1e-5, atol=1e-6
    )


# --- one body: hidden_states ------------------------------------------------


def test_hidden_states_is_the_body_of_call_and_attention_weights():
    model = tiny_gpt()
    ids = np.array([[1, 2, 3, 4, 5]])
    hidden, maps = model.hidden_states(ids, return_attention_scores=True)
    table = keras.ops.convert_to_numpy(model.embedding.token_embedding.embeddings)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(hidden) @ table.T,
        keras.ops.convert_to_numpy(model(ids)),
        rtol=1e-5,
        atol=1e-5,
    )
    np.testing.assert_array_equal(
        np.stack([keras.ops.convert_to_numpy(m) for m in maps]),
        model.attention_weights(ids),
    )
    with pytest.raises(ValueError, match="at most context_length=8 tokens"):
        model.hidden_states(np.zeros((1, 9), "int32"))


# --- GPTConfig ---------------------------------------------------------------


def test_gpt_config_presets_build_the_project_models():
    baby = GPTConfig.preset("baby")
    assert build_gpt(**dataclasses.asdict(baby)).count_params() == 809_856
    shipped = GPTConfig.preset("pydoc-char")
    assert shipped.param_count() == 1_897_920  # data/pretrained/.../card.json
    assert GPTConfig.preset("baby", vocab_size=5).vocab_size == 5


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: GPTConfig.preset("huge"), "Expected name to be one of"),
        (lambda: GPTConfig.preset("baby", num_heads=3), "divisible by num_heads"),
        (lambda: GPTConfig.preset("baby", dropout=1.0), "Expected dropout < 1"),
        (lambda: GPTConfig.preset("baby", num_layers=0), "num_layers >= 1"),
        (lambda: GPTConfig.preset("baby", tie_embeddings="no"), "True or False"),
    ],
)
def test_gpt_config_errors(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: tiny_gpt(tie_embeddings="false"), "tie_embeddings"),
        (lambda: CausalSelfAttention(2, use_bias="false"), "use_bias"),
        (lambda: CausalSelfAttention(2, use_bias=0), "use_bias"),
    ],
)
def test_bool_arguments_refuse_strings_that_bool_would_read_as_true(make, name):
    # bool("false") is True: the model used to tie its embeddings silently.
    with pytest.raises(ValueError, match=f"Expected {name} to be True or False"):
        make()


def test_untied_gpt_has_its_own_output_layer():
    tied, untied = tiny_gpt(), tiny_gpt(tie_embeddings=False)
    extra = TINY["vocab_size"] * TINY["embed_dim"]
    assert untied.count_params() - tied.count_params() == extra
