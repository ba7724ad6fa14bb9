"""Train the GPT that ships with keras-gen (``data/pretrained/pydoc-char-gpt``).

``make pretrained`` runs this script. It pretrains a character-level GPT on the
default corpus (CPython's ``pydoc_data.topics``, 90/10 split by position) with
the project's own training code, measures the validation loss on the held-out
10%, and writes model, tokenizer and a card (command, loss, curve, versions)
with :func:`keras_gen.pretrained.save_pretrained`.

The same seed and step count give the same weights on the same machine and
TensorFlow version; ``tests/test_pretrained.py`` checks that the shipped model
still reaches the validation loss recorded in its card.

``--out`` is checked before any training: it must be a new or empty folder
or a model folder (``save_pretrained`` replaces it as a whole, atomically),
in a place that can be written. The training state is backed up after every
evaluation in a hidden folder beside ``--out``; if the run is interrupted,
running the same command again resumes from the last backup and reaches the
same weights, since the batches after a resume are the same ones.

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_pretrained.py [--steps 1500]
        [--out data/pretrained/pydoc-char-gpt] [--quick] [--eval-every 100]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_gen._files import check_writable_folder  # noqa: E402
from keras_gen.callbacks import EpochBackup  # noqa: E402
from keras_gen.env import build_record, folder_megabytes  # noqa: E402
from keras_gen.pretrained import (  # noqa: E402
    DEFAULT_MODEL_DIR,
    check_destination,
    save_pretrained,
    validation_loss,
)
from keras_gen.text import load_corpus, make_next_token_dataset, split_corpus  # noqa: E402
from keras_gen.tokenizers import CharTokenizer  # noqa: E402
from keras_gen.training import (  # noqa: E402
    bits_per_character,
    compile_for_pretraining,
    make_optimizer,
)
from keras_gen.transformer import GPTConfig, build_gpt  # noqa: E402

#: The shipped model's shape (GPTConfig.preset("pydoc-char")): 4 blocks, 6
#: heads, 192 wide, 256 characters of context (room for a prompt plus a long
#: continuation), about 1.9 M parameters.
MODEL = GPTConfig.preset("pydoc-char")
BATCH_SIZE = 16
LEARNING_RATE = 2e-3
MIN_LEARNING_RATE = 2e-4
WARMUP_STEPS = 100
EVAL_EVERY = 100


def main(argv=None) -> int:
    """Train, evaluate and save; print the card's main numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=DEFAULT_MODEL_DIR)
    parser.add_argument(
        "--quick", action="store_true", help="20 steps: checks the script only"
    )
    parser.add_argument(
        "--eval-every",
        type=int,
        default=EVAL_EVERY,
        help="steps between validation checks and backups (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    steps = 20 if args.quick else args.steps
    if steps < 1 or args.eval_every < 1:
        parser.error(
            "Expected --steps >= 1 and --eval-every >= 1. Received: "
            f"--steps={steps}, --eval-every={args.eval_every}"
        )
    eval_every = min(args.eval_every, steps)
    out = os.path.abspath(args.out)
    try:  # before any work: a bad --out fails now, not after training
        check_destination(out)
        check_writable_folder(os.path.dirname(out), "the folder of --out")
    except ValueError as error:
        parser.error(str(error))

    text = load_corpus()
    tokenizer = CharTokenizer.train(text)
    train_ids, val_ids = split_corpus(tokenizer.encode(text), 0.1)
    keras.utils.set_random_seed(args.seed)
    shape = dataclasses.replace(MODEL, vocab_size=tokenizer.vocab_size)
    model = build_gpt(**dataclasses.asdict(shape))
    optimizer = make_optimizer(
        LEARNING_RATE,
        total_steps=steps,
        warmup_steps=min(WARMUP_STEPS, steps // 10),
        min_learning_rate=MIN_LEARNING_RATE,
    )
    compile_for_pretraining(model, optimizer)
    train = make_next_token_dataset(
        train_ids, MODEL.context_length, BATCH_SIZE, seed=args.seed, repeat=True
    )
    context = MODEL.context_length
    val = make_next_token_dataset(val_ids, context, 8, shuffle=False, stride=context)
    print(
        f"Training {model.count_params():,} parameters for {steps} steps of "
        f"{BATCH_SIZE}x{MODEL.context_length} characters "
        f"({len(train_ids):,} training characters)."
    )
    parent, name = os.path.split(out)
    backup = EpochBackup(
        os.path.join(parent, f".{name}.resume"),
        {
            "steps": steps,
            "eval_every": eval_every,
            "seed": args.seed,
            "model": repr(MODEL),
        },
    )
    model.optimizer.build(model.trainable_variables)  # so a backup can load
    done = backup.restore(model)
    if done:
        print(f"Resuming the interrupted run after {done * eval_every} steps.")
    start = time.perf_counter()
    model.fit(
        train.skip(done * eval_every),  # the batches the interrupted run had next
        steps_per_epoch=eval_every,
        epochs=steps // eval_every,
        initial_epoch=done,
        validation_data=val,
        verbose=2,
        callbacks=[backup],
    )
    history = backup.history  # every epoch, including those before a resume
    minutes = (time.perf_counter() - start) / 60
    val_loss = validation_loss(model, tokenizer)  # what the test re-checks
    card = {
        "name": "pydoc-char-gpt",
        "description": (
            "Character-level GPT pretrained by keras-gen on CPython's "
            "pydoc_data.topics (the Python reference text)."
        ),
        "command": "make pretrained  # = python tools/train_pretrained.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "corpus": "python_docs",
        "corpus_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "validation_fraction": 0.1,
        "model": {
            name: getattr(shape, name)
            for name in ("context_length", "embed_dim", "num_heads", "num_layers")
        }
        | {"vocab_size": shape.vocab_size},
        "parameters": model.count_params(),
        "steps": steps,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "seed": args.seed,
        "val_loss_nats_per_char": round(val_loss, 4),
        "val_bits_per_char": round(bits_per_character(val_loss), 4),
        "val_loss_curve": [round(v, 4) for v in history["val_loss"]],
        "train_loss_curve": [round(v, 4) for v in history["loss"]],
        "train_minutes": round(minutes, 1),
        **build_record(),
    }
    save_pretrained(out, model, tokenizer, card)
    backup.discard()
    megabytes = folder_megabytes(out)
    print(
        f"Validation loss {val_loss:.4f} nats/char "
        f"({bits_per_character(val_loss):.3f} bits/char) after {steps} steps "
        f"in {minutes:.1f} min. Wrote {out} ({megabytes:.1f} MB)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
