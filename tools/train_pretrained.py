"""Train the GPT that ships with keras-gen (``data/pretrained/pydoc-char-gpt``).

``make pretrained`` runs this script. It pretrains a character-level GPT on the
default corpus (CPython's ``pydoc_data.topics``, 90/10 split by position) with
the project's own training code, measures the validation loss on the held-out
10%, and writes model, tokenizer and a card (command, loss, curve, versions)
with :func:`keras_gen.pretrained.save_pretrained`.

The same seed and step count give the same weights on the same machine and
TensorFlow version; ``tests/test_pretrained.py`` checks that the shipped model
still reaches the validation loss recorded in its card.

``--out`` is checked before any training (``tools/_common.py``): it must be
a new or empty folder or a model folder (``save_pretrained`` replaces it as
a whole, atomically), in a place that can be written. Exactly ``--steps``
steps are trained, in chunks of ``--eval-every`` (the last one shorter when
it does not divide ``--steps``; :func:`keras_gen.training.fit_steps`).
The training state is backed up after every evaluation in a hidden folder
beside ``--out``; if the run is interrupted, running the same command again
resumes from the last backup and reaches the same weights, since the
batches after a resume are the same ones.

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_pretrained.py [--steps 1500]
        [--out data/pretrained/pydoc-char-gpt] [--quick] [--eval-every 100]
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _common import card_command, parse_training_args, training_parser  # noqa: E402

from keras_gen.callbacks import EpochBackup  # noqa: E402
from keras_gen.env import build_record, folder_megabytes  # noqa: E402
from keras_gen.pretrained import (  # noqa: E402
    DEFAULT_MODEL_DIR,
    REQUIRED_FILES,
    save_pretrained,
    validation_loss,
)
from keras_gen.text import load_corpus, make_next_token_dataset, split_corpus  # noqa: E402
from keras_gen.tokenizers import CharTokenizer  # noqa: E402
from keras_gen.training import (  # noqa: E402
    Recipe,
    bits_per_character,
    compile_for_pretraining,
    fit_steps,
)
from keras_gen.transformer import GPTConfig, build_gpt  # noqa: E402

#: The shipped model's shape (GPTConfig.preset("pydoc-char")): 4 blocks, 6
#: heads, 192 wide, 256 characters of context (room for a prompt plus a long
#: continuation), about 1.9 M parameters.
MODEL = GPTConfig.preset("pydoc-char")
#: Its recipe: batch 16, peak learning rate 2e-3 after 100 warm-up steps,
#: cosine decay to 2e-4, 1500 steps, an evaluation every 100.
RECIPE = Recipe.preset("pydoc-char")


def main(argv=None) -> int:
    """Train, evaluate and save; print the card's main numbers."""
    parser = training_parser(
        __doc__.splitlines()[0],
        steps=RECIPE.steps,
        out=DEFAULT_MODEL_DIR,
        quick_steps=20,
        eval_every=RECIPE.eval_every,
    )
    # Before any work: a bad --out fails now, not after training.
    args = parse_training_args(parser, argv, allowed_files=REQUIRED_FILES)
    steps, eval_every, out = args.steps, args.eval_every, args.out
    recipe = dataclasses.replace(RECIPE, steps=steps, eval_every=eval_every)

    text = load_corpus()
    tokenizer = CharTokenizer.train(text)
    train_ids, val_ids = split_corpus(tokenizer.encode(text), 0.1)
    keras.utils.set_random_seed(args.seed)
    shape = dataclasses.replace(MODEL, vocab_size=tokenizer.vocab_size)
    model = build_gpt(**dataclasses.asdict(shape))
    compile_for_pretraining(model, recipe.optimizer())
    train = make_next_token_dataset(
        train_ids, MODEL.context_length, recipe.batch_size, seed=args.seed,
        repeat=True,
    )
    context = MODEL.context_length
    val = make_next_token_dataset(val_ids, context, 8, shuffle=False, stride=context)
    print(
        f"Training {model.count_params():,} parameters for {steps} steps of "
        f"{recipe.batch_size}x{MODEL.context_length} characters "
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
    fit_steps(  # exactly `steps` steps: the last chunk is shorter if need be
        model,
        train.skip(done * eval_every),  # the batches the interrupted run had next
        steps,
        eval_every,
        initial_chunk=done,
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
        "command": card_command("tools/train_pretrained.py", argv, "make pretrained"),
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
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
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
