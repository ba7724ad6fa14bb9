"""Solutions to the exercises of notebook 08 (Gen AI vs LLM, measured)."""

from __future__ import annotations

import math

import numpy as np

from keras_gen import profiling
from keras_gen.transformer import build_gpt


def cache_savings(model, prompt_lengths=(1, 33, 100, 200, 230), new_tokens: int = 50):
    """Exercise 1: FLOPs without the KV cache over FLOPs with it, per prompt length.

    The ratio *grows* with the prompt while prompt and new tokens fit in the
    window: with the cache this decoder pays a fixed price (the prompt padded
    to the whole window once, then every new token attending over all
    ``context_length`` slots), while without it every token re-runs the text
    actually there, which is longer for a longer prompt. For a very short
    prompt the padding can even make the cache cost more. Once prompt plus
    new tokens overflow the window (230 + 50 > 256 for the shipped GPT),
    positions shift, the cache is stale and the cached decoder re-runs the
    window for each further token: the ratio collapses towards 1.

    Returns:
        ``{prompt_length: ratio}``.
    """
    return {
        length: profiling.generation_flops(model, length, new_tokens, use_cache=False)
        / profiling.generation_flops(model, length, new_tokens, use_cache=True)
        for length in prompt_lengths
    }


def pixel_coin_bits(train_images, test_images, eps: float = 1e-3) -> float:
    """Exercise 2a: held-out bits per pixel of independent per-pixel coins.

    Each pixel is a Bernoulli variable (the VAE's likelihood, notebook 03)
    with probability equal to its mean over the training images, rescaled to
    [0, 1]; ``eps`` keeps probabilities away from 0 and 1. An exact
    likelihood with no latent code at all: the VAE's bound should beat it.
    """
    train = (np.asarray(train_images, "float64") + 1) / 2
    test = (np.asarray(test_images, "float64") + 1) / 2
    p = np.clip(train.mean(axis=0), eps, 1 - eps)
    nats = -(test * np.log(p) + (1 - test) * np.log(1 - p)).sum(axis=(1, 2, 3))
    return float(nats.mean() / (p.size * math.log(2)))


def unigram_bits(train_ids, val_ids, vocab_size: int) -> float:
    """Exercise 2b: held-out bits per character of the character frequencies.

    Add-one smoothing gives unseen characters a small probability, so the
    held-out likelihood is never infinite. This model ignores all context:
    the gap to the GPT is what context buys.
    """
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size) + 1.0
    log_p = np.log2(counts / counts.sum())
    return float(-log_p[np.asarray(val_ids)].mean())


def tying_saving(
    vocab_size=359, context_length=256, embed_dim=192, num_heads=6, num_layers=4
):
    """Exercise 3: parameters saved by tying the embedding and the output layer.

    Untied, the output layer is a separate ``embed_dim x vocab_size`` dense
    layer: exactly ``vocab_size * embed_dim`` more parameters, all counted as
    "dense" in the breakdown.

    Returns:
        ``(saved, tied_breakdown, untied_breakdown)``.
    """
    shape = (vocab_size, context_length, embed_dim, num_heads, num_layers)
    tied = build_gpt(*shape)
    untied = build_gpt(*shape, tie_embeddings=False)
    return (
        untied.count_params() - tied.count_params(),
        profiling.parameter_breakdown(tied),
        profiling.parameter_breakdown(untied),
    )
