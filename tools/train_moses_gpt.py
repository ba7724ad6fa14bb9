"""Train the SMILES GPT that ships in ``data/pretrained/moses-smiles-gpt``.

``make pretrained`` runs this script after ``tools/train_pretrained.py``. It
trains the project's GPT (:func:`keras_gen.transformer.build_gpt`) on the
100,000 vendored MOSES training molecules (``data/moses``), one molecule per
window (:func:`keras_gen.molecules.smiles.make_smiles_dataset`), checks the loss on
MOSES's held-out test molecules, then samples molecules from ``<bos>`` and
measures them with RDKit as MOSES defines the metrics
(:mod:`keras_gen.molecules.metrics`). Model, tokenizer and a card (command,
losses, metrics, versions, SHA-256s) are written with
:func:`keras_gen.molecules.smiles.save_smiles_gpt`; ``tests/test_molecules.py``
re-measures the metrics on a smaller sample.

As in ``tools/train_pretrained.py``, a bad ``--out`` fails before training,
exactly ``--steps`` steps are trained (in chunks of ``--eval-every``),
the training state is backed up after every evaluation beside ``--out``, and
running the same command again after an interruption resumes from the backup.

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_moses_gpt.py [--steps 8000]
        [--out data/pretrained/moses-smiles-gpt] [--quick] [--eval-every 250]
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
from keras_gen.molecules.smiles import (  # noqa: E402
    SMILES_GPT_DIR,
    SMILES_GPT_SHAPE,
    SmilesTokenizer,
    load_moses,
    make_smiles_dataset,
    molecule_windows,
    save_smiles_gpt,
)
from keras_gen.pretrained import REQUIRED_FILES  # noqa: E402
from keras_gen.training import (  # noqa: E402
    Recipe,
    compile_for_pretraining,
    evaluate_loss,
    fit_steps,
)
from keras_gen.transformer import build_gpt  # noqa: E402

#: Batch 64 molecules, peak learning rate 2e-3 after 100 warm-up steps,
#: cosine decay to 1e-4, 8000 steps, an evaluation every 250.
RECIPE = Recipe.preset("moses-smiles")
#: Molecules sampled for the card's metrics (MOSES samples 30,000; 12,000
#: leave 10,000 valid ones for unique@10k at a validity above 0.84).
NUM_SAMPLES = 12_000
#: Test molecules used for the validation loss during training.
VAL_MOLECULES = 1_000


def main(argv=None) -> int:
    """Train, evaluate, sample, measure and save; print the card's numbers."""
    parser = training_parser(
        __doc__.splitlines()[0],
        steps=RECIPE.steps,
        out=SMILES_GPT_DIR,
        quick_steps=20,
        quick_help="20 steps, 500 samples: checks the script",
        eval_every=RECIPE.eval_every,
    )
    # Before any work: a bad --out fails now, not after training.
    args = parse_training_args(parser, argv, allowed_files=REQUIRED_FILES)
    steps, eval_every, out = args.steps, args.eval_every, args.out
    recipe = dataclasses.replace(RECIPE, steps=steps, eval_every=eval_every)
    num_samples = 500 if args.quick else NUM_SAMPLES

    train_smiles = load_moses("train")
    test_smiles = load_moses("test")
    tokenizer = SmilesTokenizer.train(train_smiles)
    shape = dataclasses.replace(SMILES_GPT_SHAPE, vocab_size=tokenizer.vocab_size)
    context = shape.context_length
    _, skipped = molecule_windows(train_smiles, tokenizer, context)
    keras.utils.set_random_seed(args.seed)
    model = build_gpt(**dataclasses.asdict(shape))
    compile_for_pretraining(model, recipe.optimizer())
    train = make_smiles_dataset(
        train_smiles, tokenizer, context, recipe.batch_size, seed=args.seed,
        repeat=True,
    )
    val = make_smiles_dataset(
        test_smiles[:VAL_MOLECULES], tokenizer, context, 50, shuffle=False
    )
    print(
        f"Training {model.count_params():,} parameters for {steps} steps of "
        f"{recipe.batch_size} molecules ({len(train_smiles) - skipped:,} training "
        f"molecules, {skipped} too long for {context} tokens left out).",
        flush=True,
    )
    parent, name = os.path.split(out)
    backup = EpochBackup(
        os.path.join(parent, f".{name}.resume"),
        {"steps": steps, "eval_every": eval_every, "seed": args.seed,
         "model": repr(shape)},
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
    history = backup.history
    minutes = (time.perf_counter() - start) / 60
    test_loss = evaluate_loss(
        model, make_smiles_dataset(test_smiles, tokenizer, context, 50, shuffle=False)
    )
    from keras_gen.molecules.metrics import moses_metrics
    from keras_gen.molecules.smiles import sample_smiles

    start = time.perf_counter()
    samples = sample_smiles(model, tokenizer, num_samples, seed=args.seed)
    metrics = moses_metrics(samples, train_smiles, test_smiles)
    sample_seconds = time.perf_counter() - start
    card = {
        "name": "moses-smiles-gpt",
        "description": (
            "A GPT trained by keras-gen on 100,000 SMILES of the MOSES benchmark "
            "(one molecule per window, <bos> ... <eos>); samples are measured "
            "with RDKit as MOSES defines its metrics."
        ),
        "command": card_command("tools/train_moses_gpt.py", argv, "make pretrained"),
        "data": "data/moses (tools/vendor_moses.py, molsets 0.3.1, MIT licence)",
        "train_sha256": hashlib.sha256(
            ("\n".join(train_smiles) + "\n").encode("ascii")
        ).hexdigest(),
        "training_molecules": len(train_smiles) - skipped,
        "model": {
            key: getattr(shape, key)
            for key in ("context_length", "embed_dim", "num_heads", "num_layers")
        }
        | {"vocab_size": shape.vocab_size},
        "parameters": model.count_params(),
        "steps": steps,
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        "seed": args.seed,
        "test_loss_nats_per_token": round(test_loss, 4),
        "val_loss_curve": [round(v, 4) for v in history["val_loss"]],
        "train_loss_curve": [round(v, 4) for v in history["loss"]],
        "train_minutes": round(minutes, 1),
        "sampling": {"num_samples": num_samples, "temperature": 1.0,
                     "seed": args.seed, "seconds": round(sample_seconds, 1)},
        "metrics": {key: round(value, 4) for key, value in metrics.items()},
        **build_record(rdkit=__import__("rdkit").__version__),
    }
    save_smiles_gpt(out, model, tokenizer, card)
    backup.discard()
    megabytes = folder_megabytes(out)
    print(
        f"Test loss {test_loss:.4f} nats/token after {steps} steps in "
        f"{minutes:.1f} min. Metrics on {num_samples:,} samples: "
        + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items())
        + f". Wrote {out} ({megabytes:.1f} MB)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
