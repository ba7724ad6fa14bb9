"""Time to quality: keras_gen's GPT against the PyTorch reference, in one run.

A learner waits for a model to get good, not for tokens per second. This
script measures, on the same machine and in the same run:

1. the PyTorch reference (``benchmarks/torch_reference.py --to-quality``):
   the CPU "baby GPT" (4 layers, 4 heads, 128 wide, context 64, batch 12)
   trained for 2000 steps with nanoGPT's recipe (AdamW 1e-3, 100 warm-up
   steps, cosine decay to 1e-4, dropout 0). Its final validation loss is the
   **target**, and its training time (evaluation excluded) the **reference
   time**;
2. keras_gen's recipes, each trained until its validation loss reaches the
   target (or its step budget ends), with the clock paused during evaluation
   and XLA compilation included (a learner waits for it too). The ratio
   ``keras time / reference time`` is printed for each: below 1 means the
   Keras recipe got there first.

Both see the same token ids (CPython's help text at character level, split
90/10 by position) and are scored on the same non-overlapping validation
windows (context 64, batches of 32, at most 100 batches). The curves go to
``benchmarks/time_to_quality.png``.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/gpt_time_to_quality.py \\
        --torch-python /path/to/python-with-torch [--recipes mirror,fast]
        [--quick]   # tiny budgets: checks the script, not the machine
"""

from __future__ import annotations

import argparse
import array
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from gpt_pretrain import Config, build  # noqa: E402 (this folder; same builder)

from keras_gen.callbacks import StepClock  # noqa: E402
from keras_gen.text import (  # noqa: E402
    load_corpus,
    make_next_token_dataset,
    split_corpus,
)
from keras_gen.tokenizers import CharTokenizer  # noqa: E402
from keras_gen.training import fit_steps  # noqa: E402

CONTEXT = 64  # every recipe is scored on the reference's windows
EVAL_EVERY = 100


RECIPES = {
    # The reference recipe, step for step, in Keras: the framework alone.
    "mirror": Config("mirror (nanoGPT recipe)"),
    # The winner of a small search (benchmarks/RESULTS.md lists the others):
    # three times nanoGPT's learning rate on a schedule that ends at 1400
    # steps. Each step moves further, and the cosine tail arrives where the
    # target is.
    "fast": Config(
        "fast: 3e-3, 1400-step cosine",
        learning_rate=3e-3,
        min_learning_rate=3e-4,
        steps=1400,
    ),
}


class QualityClock(StepClock):
    """Training seconds (evaluation excluded) and validation loss per epoch.

    A :class:`keras_gen.callbacks.StepClock` (its ``train_seconds``) that
    also stops training once the validation loss reaches ``target``.
    """

    def __init__(self, target: float, steps_per_epoch: int, total_steps: int):
        super().__init__()
        self.target = target
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = total_steps
        self.curve = []  # [step, training seconds, validation loss]

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        val_loss = float(logs["val_loss"])
        step = min((epoch + 1) * self.steps_per_epoch, self.total_steps)
        self.curve.append([step, round(self.train_seconds, 3), round(val_loss, 5)])
        if val_loss <= self.target:
            self.model.stop_training = True


def write_ids(path, train_ids, val_ids, vocab_size):
    """The layout ``torch_reference.read_ids`` reads: header, train, val."""
    values = array.array("i", [vocab_size, len(train_ids), len(val_ids)])
    values.extend(int(i) for i in train_ids)
    values.extend(int(i) for i in val_ids)
    with open(path, "wb") as file:
        file.write(values.tobytes())


def run_torch(python, ids_path, steps):
    script = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "torch_reference.py"
    )
    result = subprocess.run(
        [
            python,
            script,
            "--to-quality",
            ids_path,
            "--config",
            f"12x{CONTEXT}",
            "--steps",
            str(steps),
            "--eval-every",
            str(EVAL_EVERY),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(
            f"The PyTorch reference failed with --torch-python {python} (exit "
            f"{result.returncode}):\n{result.stderr.strip()[-2000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_keras(recipe: Config, vocab_size, train_ids, val_ids, target, steps=None):
    steps = steps or recipe.steps
    model = build(recipe, vocab_size, total_steps=steps)  # gpt_pretrain's builder
    train = make_next_token_dataset(train_ids, CONTEXT, recipe.batch_size, repeat=True)
    val = make_next_token_dataset(
        val_ids, CONTEXT, 32, shuffle=False, stride=CONTEXT
    ).take(100)
    every = min(EVAL_EVERY, steps)
    clock = QualityClock(target, every, steps)
    fit_steps(  # exactly `steps` steps (the last chunk shorter if need be)
        model, train, steps, every, validation_data=val, callbacks=[clock]
    )
    return clock.curve


def reached(curve, target):
    """``(step, seconds)`` of the first evaluation at or below ``target``."""
    for step, seconds, loss in curve:
        if loss <= target:
            return step, seconds
    return None


def steady_tokens_per_second(curve, batch_size):
    """Training tokens/s between the second and the last evaluation.

    The first interval holds XLA's compilation (Keras) or warm-up, so it is
    left out: this is the steady-state rate of the same run.
    """
    (step0, seconds0, _), (step1, seconds1, _) = curve[1], curve[-1]
    return (step1 - step0) * batch_size * CONTEXT / (seconds1 - seconds0)


def plot(curves, target, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for name, curve in curves.items():
        ax.plot([c[1] for c in curve], [c[2] for c in curve], marker=".", label=name)
    ax.axhline(
        target,
        color="grey",
        linestyle="--",
        linewidth=1,
        label=f"target {target:.3f} (PyTorch's final loss)",
    )
    ax.set_xlabel("training time (s, evaluation excluded)")
    ax.set_ylabel("validation loss (nats/char)")
    ax.set_ylim(top=min(3.0, ax.get_ylim()[1]))
    ax.legend()
    ax.set_title("Time to quality on the same machine, same run")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--torch-python",
        required=True,
        help="a Python with torch (keras-gen does not need it)",
    )
    parser.add_argument(
        "--recipes",
        default="mirror,fast",
        help=f"comma-separated, from {sorted(RECIPES)}",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--plot",
        default=os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "time_to_quality.png"
        ),
    )
    args = parser.parse_args()
    recipes = [RECIPES[name] for name in args.recipes.split(",")]

    text = load_corpus()
    tokenizer = CharTokenizer.train(text, byte_fallback=False)
    train_ids, val_ids = split_corpus(tokenizer.encode(text), 0.1)
    vocab = tokenizer.vocab_size
    ref_steps = 200 if args.quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        ids_path = os.path.join(tmp, "ids.bin")
        write_ids(ids_path, train_ids, val_ids, vocab)
        torch_result = run_torch(args.torch_python, ids_path, ref_steps)
    torch_curve = torch_result["curve"]
    _, ref_seconds, target = torch_curve[-1]
    print(
        f"corpus: python_docs, vocab {vocab}, {len(train_ids):,} train / "
        f"{len(val_ids):,} validation tokens; Keras {keras.__version__}, "
        f"torch {torch_result['torch']} ({torch_result['threads']} threads)"
    )
    print(
        f"PyTorch reference, {ref_steps} steps: validation loss {target:.3f} "
        f"nats/char after {ref_seconds:.1f} s of training"
    )
    curves = {"PyTorch reference": torch_curve}
    for recipe in recipes:
        steps = max(EVAL_EVERY, recipe.steps // 10) if args.quick else None
        curve = run_keras(recipe, vocab, train_ids, val_ids, target, steps)
        curves[f"Keras {recipe.name}"] = curve
        hit = reached(curve, target)
        if hit is None:
            print(
                f"Keras {recipe.name}: did not reach {target:.3f} "
                f"(best {min(c[2] for c in curve):.3f} after {curve[-1][0]} "
                f"steps, {curve[-1][1]:.1f} s)"
            )
        else:
            print(
                f"Keras {recipe.name}: reached {target:.3f} at step {hit[0]} "
                f"after {hit[1]:.1f} s -> {hit[1] / ref_seconds:.2f}x "
                "PyTorch's time"
            )
    if (
        "mirror" in args.recipes.split(",")
        and len(curves["Keras " + RECIPES["mirror"].name]) > 2
    ):
        keras_rate = steady_tokens_per_second(
            curves["Keras " + RECIPES["mirror"].name], RECIPES["mirror"].batch_size
        )
        torch_rate = steady_tokens_per_second(torch_curve, 12)
        print(
            f"throughput at 12x{CONTEXT}, steady state, same run: Keras "
            f"{keras_rate:,.0f} tokens/s, PyTorch {torch_rate:,.0f} tokens/s -> "
            f"Keras / PyTorch {keras_rate / torch_rate:.2f}x"
        )
    plot(curves, target, args.plot)
    print(f"curves: {args.plot}")
    print(json.dumps({name: curve for name, curve in curves.items()}))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
