"""Solutions to the exercises of notebook 05 (pretraining a mini GPT).

Run ``python -m solutions.nb05`` to print the answers this run observes
(exercise 2 trains the baby GPT for 1,400 and 2,800 steps: the longest of the
solutions, over half an hour on a busy 2-core CPU).
"""

from __future__ import annotations

import dataclasses

import keras

from keras_gen import text
from keras_gen.tokenizers import BPETokenizer, CharTokenizer
from keras_gen.training import (
    bits_per_character,
    compile_for_pretraining,
    evaluate_loss,
    make_optimizer,
    tokens_per_character,
)
from keras_gen.transformer import GPTConfig, build_gpt

#: The small model of exercises 1 and 3 (notebook 05's middle scaling size).
SMALL = {"embed_dim": 64, "num_heads": 4, "num_layers": 3}


def pretrain_on(
    corpus: str,
    steps: int = 500,
    context_length: int = 64,
    jit_compile: bool = True,
    **model_kwargs,
):
    """Exercise 1: pretrain a small GPT on any corpus name or UTF-8 file.

    How much text is enough? :func:`main` trains one model on more and more
    of the notebook's corpus and prints validation loss and the gap between
    training and validation loss for each amount.

    Returns:
        ``(model, tokenizer, validation loss in nats per character)``.
    """
    keras.utils.set_random_seed(0)
    corpus_text = text.load_corpus(corpus)
    tokenizer = CharTokenizer.train(corpus_text)
    train_ids, val_ids = text.split_corpus(tokenizer.encode(corpus_text), 0.1)
    config = {"embed_dim": 64, "num_heads": 4, "num_layers": 2, **model_kwargs}
    model = build_gpt(tokenizer.vocab_size, context_length, **config)
    compile_for_pretraining(
        model,
        make_optimizer(total_steps=steps, warmup_steps=10),
        jit_compile=jit_compile,
    )
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


def train_and_measure(
    train_ids,
    val_ids,
    vocab_size: int,
    steps: int,
    context_length: int = 64,
    batch_size: int = 12,
    jit_compile: bool = True,
    eval_batches: int = 11,
    **model_kwargs,
) -> dict:
    """Train a GPT as notebook 05 does; measure training and validation loss.

    Both losses are evaluated the same way after training (dropout off, up to
    ``eval_batches`` batches of 64 non-overlapping windows), so their difference is the
    generalisation gap and not an artefact of dropout or of averaging over a
    run whose loss was still falling.

    Returns:
        ``{"model", "train", "val", "gap"}`` with losses in nats per token.
    """
    keras.utils.set_random_seed(0)
    model = build_gpt(vocab_size, context_length, **model_kwargs)
    compile_for_pretraining(
        model,
        make_optimizer(3e-3, total_steps=steps, warmup_steps=max(1, steps // 14),
                       min_learning_rate=3e-4, weight_decay=0.1, beta_2=0.99,
                       clipnorm=1.0),
        jit_compile=jit_compile,
    )
    train = text.make_next_token_dataset(
        train_ids, context_length, batch_size, repeat=True, seed=0
    )
    model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)

    def loss_on(ids):
        windows = min(64, (len(ids) - 1) // context_length)
        batches = min(eval_batches, (len(ids) - 1) // (context_length * windows))
        dataset = text.make_next_token_dataset(
            ids, context_length, windows, shuffle=False, stride=context_length
        )
        return evaluate_loss(model, dataset.take(batches))

    train_loss, val_loss = loss_on(train_ids), loss_on(val_ids)
    return {
        "model": model,
        "train": train_loss,
        "val": val_loss,
        "gap": val_loss - train_loss,
    }


def main(
    corpus: str | None = None,
    text_sizes=(20_000, 100_000, None),
    small_steps: int = 800,
    baby_steps: int = 1400,
    small=None,
    baby=None,
    jit_compile: bool = True,
    eval_batches: int = 11,
) -> None:
    """Print each exercise's answer as this run observes it.

    Args:
        corpus: Text to use instead of :func:`keras_gen.text.load_corpus`.
        text_sizes: Training characters for exercise 1 (``None``: all).
        small_steps: Steps of each small model (exercises 1 and 3).
        baby_steps: Steps of notebook 05's run; exercise 2 trains twice as long.
        small: Model keywords of exercises 1 and 3 (default :data:`SMALL`).
        baby: The :class:`~keras_gen.transformer.GPTConfig` of exercise 2
            (default: the ``"baby"`` preset).
        jit_compile: Compile the training steps with XLA.
        eval_batches: Batches of 64 windows per measured loss (11: all of the
            validation text).
    """
    corpus = corpus or text.load_corpus()
    small = small or SMALL
    baby = baby or GPTConfig.preset("baby")
    common = {"jit_compile": jit_compile, "eval_batches": eval_batches}
    char_tok = CharTokenizer.train(corpus, byte_fallback=False)
    train_ids, val_ids = text.split_corpus(char_tok.encode(corpus), 0.1)
    train_text, val_text = text.split_corpus(corpus, 0.1)

    print(
        f"1. the same small GPT, {small_steps} steps, on more and more of the "
        "training text (validation: the same held-out text):"
    )
    runs = {}
    for size in text_sizes:
        size = len(train_ids) if size is None else min(size, len(train_ids))
        run = train_and_measure(
            train_ids[:size], val_ids, char_tok.vocab_size, small_steps,
            **common, **small,
        )
        runs[size] = run
        sample_ids = run["model"].generate(
            char_tok.encode("The "), 60, temperature=0.8, seed=0
        )
        epochs = small_steps * 12 * 64 / size
        print(
            f"   {size:7,} characters ({epochs:5.1f} passes): training "
            f"{run['train']:.3f}, validation {run['val']:.3f} nats "
            f"(gap {run['gap']:+.3f})"
        )
        print(f"      sample: {char_tok.decode(sample_ids)!r}")
    sizes = list(runs)
    smallest, largest = runs[sizes[0]], runs[sizes[-1]]
    if smallest["gap"] > largest["gap"] + 0.05:
        memorised = (
            f"with {sizes[0]:,} characters the model memorises: its training "
            f"loss is {smallest['gap']:.2f} nats below validation, "
            f"against {largest['gap']:+.2f} with {sizes[-1]:,}"
        )
    else:
        memorised = "no run memorised its text at this number of steps"
    better = largest["val"] < smallest["val"]
    print(
        f"   Validation loss goes from {smallest['val']:.3f} to "
        f"{largest['val']:.3f} nats as the text grows "
        f"{sizes[-1] / sizes[0]:.0f}x: "
        + ("more text generalises better" if better else "more text did not help")
        + f"; {memorised}."
    )

    print(
        f"2. baby GPT without dropout for {baby_steps} steps, then with "
        f"dropout 0.1 for {2 * baby_steps} (losses measured after training):"
    )
    gaps = {}
    for label, config, steps in (
        ("no dropout", baby, baby_steps),
        ("dropout 0.1, 2x", dataclasses.replace(baby, dropout=0.1), 2 * baby_steps),
    ):
        kwargs = {
            key: value
            for key, value in dataclasses.asdict(config).items()
            if key not in ("vocab_size", "context_length")
        }
        run = train_and_measure(
            train_ids, val_ids, char_tok.vocab_size, steps,
            context_length=config.context_length, **common, **kwargs,
        )
        gaps[label] = run
        print(
            f"   {label:16} {steps:5} steps: training {run['train']:.3f}, "
            f"validation {run['val']:.3f} nats (gap {run['gap']:+.3f})"
        )
    plain, dropped = gaps["no dropout"], gaps["dropout 0.1, 2x"]
    change = dropped["gap"] - plain["gap"]
    if abs(change) < 0.01:
        verdict = "the gap barely changes"
    elif change < 0:
        verdict = (
            "the gap shrinks: dropout keeps the model from fitting the training "
            "text much better than unseen text, even with twice the steps"
        )
    else:
        verdict = (
            "the gap grows: twice the steps let the model fit its training text "
            "more closely than dropout prevents"
        )
    print(
        f"   Gap {plain['gap']:+.3f} -> {dropped['gap']:+.3f} nats: {verdict}; "
        f"validation loss {plain['val']:.3f} -> {dropped['val']:.3f}."
    )

    print(f"3. character vs BPE-512 tokens, the same small GPT, {small_steps} steps:")
    bpe = BPETokenizer.train(train_text, 512)
    bpe_train, bpe_val = bpe.encode(train_text), bpe.encode(val_text)
    results = {"characters": (runs[sizes[-1]]["val"], char_tok)}
    if sizes[-1] != len(train_ids):  # exercise 1 did not train on all of it
        results["characters"] = (
            train_and_measure(
                train_ids, val_ids, char_tok.vocab_size, small_steps,
                **common, **small,
            )["val"],
            char_tok,
        )
    results["BPE 512"] = (
        train_and_measure(
            bpe_train, bpe_val, bpe.vocab_size, small_steps,
            **common, **small,
        )["val"],
        bpe,
    )
    bpc = {}
    for name, (loss, tokenizer) in results.items():
        chars = 1 / tokens_per_character(tokenizer, val_text)
        bpc[name] = bpe_bits_per_character(loss, tokenizer, val_text)
        print(
            f"   {name:10}: {loss:.3f} nats per token, {chars:.2f} characters "
            f"per token -> {bpc[name]:.3f} bits per character"
        )
    raw_best = min(results, key=lambda name: results[name][0])
    bpc_best = min(bpc, key=bpc.get)
    print(
        f"   By raw loss the {raw_best} model looks better; by bits per "
        f"character the {bpc_best} model is. A BPE token stands for several "
        "characters, so one token is harder to guess than one character: the "
        "raw losses count different things"
        + (
            ", and here they even rank the models the wrong way round."
            if raw_best != bpc_best
            else "."
        )
    )
    print(
        f"   (BPE windows of 64 tokens also show the model "
        f"{64 / tokens_per_character(bpe, val_text):.0f} characters of context.)"
    )


if __name__ == "__main__":
    main()
