"""Solutions to the exercises of notebook 08 (Gen AI vs LLM, measured).

Run ``python -m solutions.nb08`` to print the answers this run observes (about
a minute on a 2-core CPU, most of it the shipped GPT's held-out loss).
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from keras_gen import profiling
from keras_gen.transformer import build_gpt

#: The stored sweeps of notebook 08 (``tools/nb08_sweeps.py`` writes them).
SWEEPS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "notebooks",
    "08_sweeps.json",
)


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


def stored_vae_bits(path: str = SWEEPS) -> float:
    """The VAE's test -ELBO (bits per pixel) at 100% of the data, as stored.

    It is the last point of the notebook's image data sweep: the dense VAE of
    section 3 trained 600 steps on all 60,000 images, scored on the first
    2,000 test images (``keras_gen.scaling.N_ELBO``).
    """
    with open(path, encoding="utf-8") as f:
        return float(json.load(f)["image_data"][-1]["test_bits"])


def main(measure_gpt: bool = True, n_test: int | None = None) -> None:
    """Print each exercise's answer as this run observes it.

    Args:
        measure_gpt: Measure the shipped GPT's held-out loss (about a minute);
            ``False`` reads the number its card recorded.
        n_test: Test images for the pixel coins (default: the 2,000 the
            VAE's stored score used).
    """
    from keras_gen import data, scaling
    from keras_gen.pretrained import load_pretrained, validation_loss
    from keras_gen.text import load_corpus, split_corpus

    shipped = load_pretrained()
    gpt, tokenizer = shipped.model, shipped.tokenizer

    ratios = cache_savings(gpt)
    print("1. FLOPs without / with the KV cache, 50 new tokens, shipped GPT:")
    for length, ratio in ratios.items():
        fits = length + 50 <= gpt.context_length
        print(
            f"   prompt {length:3}: {ratio:5.2f}x "
            f"({'fits in' if fits else 'overflows'} the {gpt.context_length}-token "
            "window)"
        )
    fitting = [r for n, r in ratios.items() if n + 50 <= gpt.context_length]
    grows = all(a < b for a, b in zip(fitting, fitting[1:], strict=False))
    last = list(ratios.values())[-1]
    print(
        f"   The ratio {'grows' if grows else 'does not grow steadily'} while the "
        "text fits: the cached decoder pays a fixed price (the prompt padded to "
        "the whole window, then one position per token over all slots), the "
        "uncached one re-runs a text that is longer for a longer prompt. Once "
        "prompt and new tokens overflow the window, the cached decoder re-runs "
        f"the whole window for every further token: {last:.2f}x."
    )

    train_images, _ = data.load_images("fashion_mnist", "train")
    test_images, _ = data.load_images("fashion_mnist", "test")
    n_test = scaling.N_ELBO if n_test is None else n_test
    coin = pixel_coin_bits(train_images, test_images[:n_test])
    vae = stored_vae_bits()
    train_ids, val_ids = split_corpus(tokenizer.encode(load_corpus()), 0.1)
    unigram = unigram_bits(train_ids, val_ids, tokenizer.vocab_size)
    if measure_gpt:
        gpt_nats, source = validation_loss(gpt, tokenizer), "measured now"
    else:
        gpt_nats, source = shipped.card["val_loss_nats_per_char"], "its card"
    gpt_bits = gpt_nats / math.log(2)
    print("2. held-out bits per dimension, baselines beside the models:")
    rows = (
        (f"pixel coins (exact, {n_test:,} test images)", coin, "pixel"),
        ("VAE, -ELBO (a bound, stored sweep)", vae, "pixel"),
        ("character frequencies (exact)", unigram, "character"),
        (f"GPT (exact, {source})", gpt_bits, "character"),
    )
    for name, bits, unit in rows:
        print(f"   {name:40} {bits:.3f} bits per {unit}")
    if vae < coin:
        image_side = (
            f"the VAE's bound is already {1 - vae / coin:.0%} below the coins, so "
            "its true likelihood is better still: the 16-number code captures "
            "how pixels go together, which independent pixels cannot"
        )
    else:
        image_side = (
            "the VAE's bound is not below the coins; as a bound it leaves open "
            "whether the VAE's true likelihood is better"
        )
    further = "GPT" if gpt_bits / unigram < vae / coin else "VAE"
    print(
        f"   Images: {image_side}. Text: the GPT needs {1 - gpt_bits / unigram:.0%} "
        "fewer bits than the character frequencies: that is what context buys. "
        f"Measured against its own baseline the {further} goes further "
        f"({gpt_bits / unigram:.2f} of the baseline for the GPT, {vae / coin:.2f} "
        "for the VAE): the baselines, not the raw bits, make the two sides "
        "comparable."
    )

    shape = (
        gpt.vocab_size,
        gpt.context_length,
        gpt.embed_dim,
        gpt.blocks[0].num_heads,
        gpt.num_layers,
    )
    saved, tied, untied = tying_saving(*shape)
    tied_total, untied_total = sum(tied.values()), sum(untied.values())
    print(
        f"3. tying saves {saved:,} parameters ({gpt.vocab_size} x {gpt.embed_dim}): "
        f"{tied_total:,} tied (the shipped GPT has {gpt.count_params():,}) against "
        f"{untied_total:,} untied, {saved / untied_total:.1%} of the untied model. "
        f"Untied, 'dense' goes from {tied['dense'] / tied_total:.1%} to "
        f"{untied['dense'] / untied_total:.1%}: the output layer is a plain dense "
        "layer; the embedding count does not change."
    )


if __name__ == "__main__":
    main()
