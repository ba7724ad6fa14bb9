"""Prompt adherence and Fréchet distance per class: the designer, cGAN vs cVAE.

Part 1 loads the designer that ships in ``data/pretrained/fashion-designer``
(``make pretrained``) and measures it again at the noise temperature its card
names (``card["temperature"]``): 1,000 images per class (seed 1),
the share the quality classifier assigns to the requested class beside the
share for real test images, and the Fréchet distance per class beside its
floor (real training images of the class against the same test images).

Part 2 (skipped with ``--shipped-only``) trains the conditional GAN and the
conditional VAE of :mod:`keras_gen.conditional` for the same number of steps,
with the same seed, batches and report as ``tools/train_designer.py``, and
prints their adherence curves, both tables and a one-line comparison.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/conditional_design.py [--steps 12000]
    PYTHONPATH=. .venv/bin/python benchmarks/conditional_design.py --shipped-only
    PYTHONPATH=. .venv/bin/python benchmarks/conditional_design.py --quick
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gen import conditional, data  # noqa: E402
from keras_gen.adherence import design_report, prompt_adherence  # noqa: E402
from keras_gen.env import matmul_gflops  # noqa: E402
from keras_gen.training import fit_steps  # noqa: E402

BUILDERS = {
    "cgan": conditional.build_conditional_gan,
    "cvae": conditional.build_conditional_vae,
}


def report_for(model, per_class: int, temperature: float = 1.0):
    """The design report of ``per_class`` images per class, noise seed 1."""
    requested = np.repeat(np.arange(10), per_class)
    images = conditional.generate(
        model, range(10), n=per_class, seed=1, temperature=temperature
    )
    return design_report(images, requested, seed=0)


def train(kind: str, steps: int, eval_every: int, seed: int = 0):
    """Train one kind as tools/train_designer.py does; print the curve."""
    images, labels = data.load_images("fashion_mnist", "train")
    dataset = conditional.labelled_dataset(images, labels, 128, seed=seed)
    keras.utils.set_random_seed(seed)
    model = BUILDERS[kind](seed=seed)
    probe = np.repeat(np.arange(10), 200)
    start = time.perf_counter()

    def measure(chunk, logs):
        drawn = conditional.generate(model, range(10), n=200, seed=1)
        step = min((chunk + 1) * eval_every, steps)  # the last chunk may be short
        print(
            f"  {kind} step {step:6d} "
            f"{time.perf_counter() - start:6.0f} s  adherence "
            f"{prompt_adherence(drawn, probe)['overall']:.3f}",
            flush=True,
        )

    fit_steps(  # exactly `steps` steps, measured every `eval_every`
        model, dataset, steps, eval_every,
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=measure)],
    )
    return model, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--eval-every", type=int, default=2000)
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--shipped-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="tiny run: checks only")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.eval_every, args.per_class = 20, 10, 128
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"matmul {matmul_gflops():.0f} GFLOP/s, keras {keras.__version__}"
    )
    shipped, card = conditional.load_designer()
    print(
        f"\nshipped designer: {card['kind']}, {card['parameters']:,} parameters, "
        f"{card['steps']} steps ({card['command']}), at noise temperature "
        f"{card['temperature']}"
    )
    print(report_for(shipped, args.per_class, card["temperature"]))
    if args.shipped_only:
        return
    print(f"\ncGAN vs cVAE, {args.steps} steps each, batch 128, seed 0")
    summary = []
    for kind in BUILDERS:
        model, seconds = train(kind, args.steps, args.eval_every)
        report = report_for(model, args.per_class)
        print(f"{kind}:\n{report}")
        summary.append((kind, seconds, report.overall))
    print(f"\n{'model':6} {'seconds':>8} {'adherence':>9} {'Fréchet':>8} {'floor':>6}")
    for kind, seconds, overall in summary:
        print(
            f"{kind:6} {seconds:>8.0f} {overall['adherence']:>9.1%} "
            f"{overall['frechet']:>8.2f} {overall['floor']:>6.2f}"
        )


if __name__ == "__main__":
    main()
