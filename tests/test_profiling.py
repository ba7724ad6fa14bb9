"""keras_gen.profiling: parameter shares, FLOPs against hand counts, timing."""

import keras
import numpy as np
import pytest

from keras_gen import gan, profiling, vae
from keras_gen.transformer import (
    CausalSelfAttention,
    TransformerBlock,
    build_gpt,
)


def _built(layer, input_shape):
    layer.build((None, *input_shape))
    return layer


def test_dense_and_conv_flops_match_hand_counts():
    dense = _built(keras.layers.Dense(7), (3, 5))
    assert profiling.layer_flops(dense, (3, 5)) == 2 * 3 * 5 * 7  # per position
    conv = _built(keras.layers.Conv2D(6, 3, strides=2, padding="valid"), (9, 9, 4))
    # output 4x4, each output: 3*3*4 multiply-adds per filter
    assert profiling.layer_flops(conv, (9, 9, 4)) == 2 * 4 * 4 * 3 * 3 * 4 * 6
    up = _built(
        keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same"), (7, 7, 8)
    )
    # each of 7*7 input pixels spreads 8 channels over a 4x4x5 patch
    assert profiling.layer_flops(up, (7, 7, 8)) == 2 * 7 * 7 * 8 * 4 * 4 * 5


def test_conv_transpose_costs_what_the_matching_conv_costs():
    # A transposed convolution is the gradient of a convolution: same work.
    conv = _built(keras.layers.Conv2D(8, 4, strides=2, padding="same"), (14, 14, 3))
    up = _built(
        keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same"), (7, 7, 8)
    )
    assert profiling.layer_flops(conv, (14, 14, 3)) == profiling.layer_flops(
        up, (7, 7, 8)
    )


def test_article_generator_and_dcgan_forward_flops():
    assert profiling.forward_flops(gan.build_generator()) == 2 * (
        100 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784
    )
    dcgan = profiling.forward_flops(gan.build_dcgan_generator())
    assert dcgan == (
        2 * 100 * 7 * 7 * 64  # dense to the 7x7x64 map
        + 2 * 7 * 7 * 64 * 4 * 4 * 32  # 7x7x64 -> 14x14x32
        + 2 * 14 * 14 * 32 * 4 * 4 * 1  # 14x14x32 -> 28x28x1
    )


def test_model_of_models_sums_its_parts():
    encoder, decoder = vae.build_encoder(4), vae.build_decoder(4)
    model = vae.VAE(encoder, decoder)
    assert profiling.forward_flops(model) == profiling.forward_flops(
        encoder
    ) + profiling.forward_flops(decoder)
    assert sum(profiling.parameter_breakdown(model).values()) == model.count_params()


def test_attention_and_block_hand_counts():
    t, e = 5, 8
    attention = _built(CausalSelfAttention(num_heads=2), (t, e))
    qkv, scores, mix, out = (
        2 * t * e * 3 * e,
        2 * t * t * e,
        2 * t * t * e,
        2 * t * e * e,
    )
    assert profiling.layer_flops(attention, (t, e)) == qkv + scores + mix + out
    block = _built(TransformerBlock(num_heads=2), (t, e))
    mlp = 2 * t * e * 4 * e + 2 * t * 4 * e * e
    assert profiling.layer_flops(block, (t, e)) == qkv + scores + mix + out + mlp


@pytest.mark.parametrize("tie", [True, False])
def test_gpt_layer_count_equals_the_benchmark_formula(tie):
    v, t, e, n = 29, 16, 32, 2
    model = build_gpt(v, t, e, num_heads=4, num_layers=n, tie_embeddings=tie)
    per_token = profiling.forward_flops(model) / t
    # Exactly the formula when N counts the matmul weights (kernels, and the
    # token table as the output layer) ...
    kernels = sum(
        int(np.prod(w.shape)) for w in model.weights if w.path.endswith("kernel")
    )
    n_matmul = kernels + (v * e if tie else 0)  # the untied head is a kernel
    assert per_token == profiling.transformer_flops_per_token(
        n_matmul, n, t, e, training=False
    )
    # ... and the benchmark's N adds exactly the biases and LayerNorm gains
    # (13 E per block, 2 E for the final norm): a few percent at this width.
    forward = profiling.gpt_flops_per_token(model, training=False)
    assert forward - per_token == 2 * (n * 13 * e + 2 * e)
    assert forward / per_token == pytest.approx(1, abs=0.05)
    assert profiling.gpt_flops_per_token(model) == 3 * forward


def test_benchmark_uses_the_profiling_formula():
    source = open("benchmarks/gpt_pretrain.py").read()
    assert "from keras_gen.profiling import gpt_flops_per_token" in source
    assert "def flops_per_token" not in source


def test_gpt_parameter_breakdown_by_hand():
    v, t, e, n = 29, 16, 32, 2
    model = build_gpt(v, t, e, num_heads=4, num_layers=n)
    shares = profiling.parameter_breakdown(model)
    assert shares == {
        "dense": 0,
        "convolution": 0,
        "embedding": v * e + t * e,
        "attention": n * (3 * e * e + 3 * e + e * e + e),
        "mlp": n * (4 * e * e + 4 * e + 4 * e * e + e),
        "normalisation": n * 4 * e + 2 * e,
    }
    assert sum(shares.values()) == model.count_params()
    untied = build_gpt(v, t, e, num_heads=4, num_layers=n, tie_embeddings=False)
    assert profiling.parameter_breakdown(untied)["dense"] == v * e


def test_gan_breakdown_and_sum():
    model = gan.GAN(gan.build_dcgan_generator(), gan.build_dcgan_discriminator())
    shares = profiling.parameter_breakdown(model)
    assert sum(shares.values()) == model.count_params()
    assert shares["convolution"] > 0 and shares["normalisation"] > 0


def test_generation_flops_follow_generate_ids():
    model = build_gpt(11, 8, 16, num_heads=2, num_layers=1)
    # Without a cache: one forward pass per new token over the text so far,
    # capped at the window (8).
    no_cache = profiling.generation_flops(model, 3, 7, use_cache=False)
    lengths = [3, 4, 5, 6, 7, 8, 8]
    assert no_cache == sum(profiling.forward_flops(model, k) for k in lengths)
    # With it: the padded window once, then one position per token while the
    # window has room (3 + 1..4 fills it at the 5th new token), then refills.
    full = profiling.forward_flops(model, 8)
    e, v = 16, 11
    one = 2 * (12 * e * e + v * e) + 4 * 8 * e
    assert profiling.generation_flops(model, 3, 7) == full + 5 * one + full
    assert profiling.generation_flops(model, 3, 0) == 0
    assert profiling.generation_flops(model, 3, 1) == full


def test_unsupported_layer_is_named():
    model = keras.Sequential(
        [keras.Input((5, 3)), keras.layers.LSTM(4, name="my_lstm")], name="rnn"
    )
    with pytest.raises(ValueError, match="'my_lstm' of type LSTM"):
        profiling.forward_flops(model)
    with pytest.raises(ValueError, match="'my_lstm' of type LSTM"):
        profiling.parameter_breakdown(model)
    with pytest.raises(ValueError, match="Expected a Keras model"):
        profiling.forward_flops(keras.layers.Dense(3))


def test_bad_arguments_are_refused():
    model = build_gpt(11, 8, 16, num_heads=2, num_layers=1)
    with pytest.raises(ValueError, match="Expected seq_len <= 8. Received: seq_len=9"):
        profiling.forward_flops(model, 9)
    with pytest.raises(ValueError, match="Expected new_tokens >= 0"):
        profiling.generation_flops(model, 3, -1)
    with pytest.raises(ValueError, match="Expected a keras_gen GPT"):
        profiling.generation_flops(gan.build_generator(), 3, 1)
    with pytest.raises(ValueError, match="Expected samples_per_call >= 1"):
        profiling.time_per_sample(lambda: None, 0)
    with pytest.raises(
        ValueError, match="Expected input_shape \\(seq_len, embed_dim\\)"
    ):
        profiling.layer_flops(_built(CausalSelfAttention(2), (3, 4)), (4,))


def test_time_per_sample_warms_up_and_keeps_the_best():
    calls = []
    seconds = profiling.time_per_sample(lambda: calls.append(1), 4, repeats=3)
    assert len(calls) == 4  # one warm-up + three timed
    assert 0 < seconds < 0.01


def test_train_steps_per_second_counts_steps():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((64, 4)), np.zeros((64, 1))
    assert profiling.train_steps_per_second(model, x, y, 8, steps=5, warmup=2) > 0
    with pytest.raises(ValueError, match="at least warmup \\+ steps"):
        profiling.train_steps_per_second(model, x, y, 32, steps=5, warmup=2)
