"""Solutions to the exercises of notebook 04 (transformers and tokens).

Run ``python -m solutions.nb04`` to print the answers this run observes (a few
minutes on a 2-core CPU: it trains two small models).
"""

from __future__ import annotations

import keras
import numpy as np

from keras_gen.text import load_corpus, make_next_token_dataset, split_corpus
from keras_gen.tokenizers import BPETokenizer, CharTokenizer
from keras_gen.training import (
    compile_for_pretraining,
    make_optimizer,
    tokens_per_character,
)
from keras_gen.transformer import build_gpt


def compression_by_vocab(train_text: str, val_text: str, sizes=(300, 512, 1024)):
    """Exercise 1: characters per BPE token on held-out text, per vocabulary size.

    The first merges capture very frequent pairs (spaces, "th", "e "); later
    merges are rarer words, so each doubling of the vocabulary buys less.

    Returns:
        ``{vocab_size: characters per token}``.
    """
    return {
        size: 1.0 / tokens_per_character(BPETokenizer.train(train_text, size), val_text)
        for size in sizes
    }


def tokens_needed(tokenizer, sentences: dict[str, str]) -> dict[str, float]:
    """Exercise 2: tokens per character for sentences in different languages.

    Merges were learned from English text, and a letter outside ASCII is two
    or more UTF-8 bytes that no merge joins, so other languages need more
    tokens per character: the model sees them as longer sequences.
    """
    return {
        name: tokens_per_character(tokenizer, text) for name, text in sentences.items()
    }


def model_without_positions(vocab_size: int, context_length: int = 64, **kwargs):
    """Exercise 3: a GPT whose position embedding is frozen at zero.

    Without positions, only the causal mask tells a position where it is, so
    the model can use order far less directly; :func:`shuffle_cost` measures
    how much shuffling the context then hurts.
    """
    model = build_gpt(vocab_size, context_length, **kwargs)
    positions = model.embedding.position_embedding
    positions.set_weights([np.zeros_like(w) for w in positions.get_weights()])
    positions.trainable = False
    return model


#: Sentences of about the same length for exercise 2.
SENTENCES = {
    "English": "The weather is nice today and we go for a walk.",
    "German": "Das Wetter ist heute schön, wir gehen spazieren.",
    "French": "Il fait beau aujourd'hui, nous allons nous promener.",
    "Greek": "Ο καιρός είναι ωραίος σήμερα και πάμε βόλτα.",
}


def shuffle_cost(model, val_ids, context_length: int = 64, n: int = 256, seed=0):
    """Next-character loss of the last position, real vs shuffled context.

    Returns:
        ``(loss with the real order, loss with the context shuffled)``, nats.
    """
    rng = np.random.default_rng(seed)
    n = min(n, (len(val_ids) - 1) // context_length)  # whole windows available
    windows = make_next_token_dataset(
        val_ids, context_length, n, shuffle=False, stride=context_length
    )
    x, y = (np.array(t) for t in next(iter(windows)))
    shuffled = x.copy()
    for row in shuffled:
        row[:-1] = rng.permutation(row[:-1])  # keep the last character in place

    def loss(inputs):
        logits = model(inputs)[:, -1]  # (n, vocab)
        losses = keras.losses.sparse_categorical_crossentropy(
            y[:, -1], logits, from_logits=True
        )
        return float(keras.ops.mean(losses))

    return loss(x), loss(shuffled)


def main(
    steps: int = 600,
    corpus: str | None = None,
    sizes=(300, 512, 1024),
    jit_compile: bool = True,
) -> None:
    """Print each exercise's answer as this run observes it.

    Args:
        steps: Training steps of each model in exercise 3.
        corpus: Text to use instead of :func:`keras_gen.text.load_corpus`.
        sizes: BPE vocabulary sizes for exercise 1 (the middle one is reused
            for exercise 2).
        jit_compile: Compile the training step with XLA (pays off for long runs).
    """
    corpus = corpus or load_corpus()
    train_text, val_text = split_corpus(corpus, 0.1)
    ratios = compression_by_vocab(train_text, val_text, sizes)
    print("1. characters per BPE token on the held-out text:")
    previous = None
    for size, ratio in ratios.items():
        gain = "" if previous is None else f" (+{ratio - previous:.2f})"
        print(f"   vocabulary {size:5}: {ratio:.2f}{gain}")
        previous = ratio
    sizes = list(ratios)
    gains = [ratios[b] / ratios[a] for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    print(
        "   each step up multiplies characters per token by "
        + ", then ".join(f"{g:.2f}" for g in gains)
        + (": the gains flatten." if gains[-1] < gains[0] else ".")
    )

    bpe = BPETokenizer.train(train_text, sizes[len(sizes) // 2])
    costs = tokens_needed(bpe, SENTENCES)
    print("2. BPE tokens per character (merges learned from English):")
    for name, text in SENTENCES.items():
        non_ascii = sum(ord(c) > 127 for c in text) / len(text)
        print(
            f"   {name:8} {costs[name]:.2f} tokens/char, "
            f"{non_ascii:4.0%} of characters outside ASCII"
        )
    for name, text in SENTENCES.items():
        if name == "English":
            continue
        non_ascii = sum(ord(c) > 127 for c in text) / len(text)
        reason = (
            "most of its letters are two UTF-8 bytes that no merge joins"
            if non_ascii > 0.5
            else "its words, not its letters, are new to merges learned on English"
        )
        print(
            f"   {name} needs {costs[name] / costs['English']:.1f}x the English "
            f"count: {reason}."
        )

    char_tok = CharTokenizer.train(corpus)
    train_ids, val_ids = split_corpus(char_tok.encode(corpus), 0.1)
    data = make_next_token_dataset(train_ids, 64, 32, repeat=True, seed=0)
    print(f"3. two GPTs trained {steps} steps each, shuffle test on validation text:")
    results = {}
    for name, builder in (("with positions", build_gpt),
                          ("positions frozen at 0", None)):
        keras.utils.set_random_seed(0)
        config = dict(context_length=64, embed_dim=64, num_heads=4, num_layers=2)
        if builder is None:
            model = model_without_positions(char_tok.vocab_size, **config)
        else:
            model = builder(char_tok.vocab_size, **config)
        compile_for_pretraining(
            model,
            make_optimizer(2e-3, total_steps=steps, warmup_steps=steps // 10,
                           min_learning_rate=2e-4),
            jit_compile=jit_compile,
        )
        model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
        results[name] = shuffle_cost(model, val_ids)
        real, shuffled = results[name]
        print(
            f"   {name:22} real order {real:.3f}, shuffled {shuffled:.3f} nats "
            f"({shuffled - real:+.3f})"
        )
    cost = {name: shuffled - real for name, (real, shuffled) in results.items()}
    without, normal = cost["positions frozen at 0"], cost["with positions"]
    if without <= 0.01:
        verdict = "shuffling no longer hurts: the model ignores order."
    elif without < normal:
        verdict = (
            "the model relies on order much less, but not at zero: the causal "
            "mask alone still tells it something about where it is."
        )
    else:
        verdict = "shuffling hurts it as much: it learned order from the mask alone."
    print(
        f"   Without positions, shuffling costs {without:+.3f} nats instead of "
        f"{normal:+.3f}: {verdict}"
    )


if __name__ == "__main__":
    main()
