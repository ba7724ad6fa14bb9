"""Solutions to the exercises of notebook 05 (pretraining a mini GPT)."""

from __future__ import annotations

import keras

from keras_gen import text
from keras_gen.tokenizers import CharTokenizer
from keras_gen.training import (
    bits_per_character,
    compile_for_pretraining,
    evaluate_loss,
    make_optimizer,
    tokens_per_character,
)
from keras_gen.transformer import build_gpt


def pretrain_on(
    corpus: str, steps: int = 500, context_length: int = 64, **model_kwargs
):
    """Exercise 1: pretrain a small GPT on any corpus name or UTF-8 file.

    A few hundred kB of text is enough for samples that copy its spelling and
    layout; style needs far more text than a laptop run can use.

    Returns:
        ``(model, tokenizer, validation loss in nats per character)``.
    """
    keras.utils.set_random_seed(0)
    corpus_text = text.load_corpus(corpus)
    tokenizer = CharTokenizer.train(corpus_text)
    train_ids, val_ids = text.split_corpus(tokenizer.encode(corpus_text), 0.1)
    config = {"embed_dim": 64, "num_heads": 4, "num_layers": 2, **model_kwargs}
    model = build_gpt(tokenizer.vocab_size, context_length, **config)
    compile_for_pretraining(model, make_optimizer(total_steps=steps, warmup_steps=10))
    train = text.make_next_token_dataset(train_ids, context_length, 12, repeat=True)
    model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0)
    val = text.make_next_token_dataset(
        val_ids, context_length, 12, shuffle=False, stride=context_length
    )
    return model, tokenizer, evaluate_loss(model, val)


def bpe_bits_per_character(loss_nats_per_token: float, tokenizer, sample: str) -> float:
    """Exercise 3: compare tokenizers in bits per *character*.

    A BPE token covers about 2 characters, so its loss per token is naturally
    higher than a character model's; only per-character figures compare.
    """
    return bits_per_character(
        loss_nats_per_token,
        tokens_per_character=tokens_per_character(tokenizer, sample),
    )
