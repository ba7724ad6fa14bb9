"""Solutions to the exercises of notebook 04 (transformers and tokens)."""

from __future__ import annotations

import numpy as np

from keras_gen.tokenizers import BPETokenizer
from keras_gen.training import tokens_per_character
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

    Without positions a (causal) attention layer only knows which tokens came
    before, not in which order, so shuffling the context hurts it much less
    than it hurts the normal model: it never learned to use the order.
    """
    model = build_gpt(vocab_size, context_length, **kwargs)
    positions = model.embedding.position_embedding
    positions.set_weights([np.zeros_like(w) for w in positions.get_weights()])
    positions.trainable = False
    return model
