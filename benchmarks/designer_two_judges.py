"""The designer(s) and the `make demo` GAN, on both judges, in one run.

Each designer folder (``--designer``, repeatable; default the shipped one in
``data/pretrained/fashion-designer``) draws 1,000 images per class (noise
seed 1) at the temperature its card names, and
:func:`keras_gen.adherence.design_report` scores them (real draws seed 0):
adherence per class and overall on the first and the second judge of
:mod:`keras_gen.classifier`, and the Fréchet distance on the first judge's
features with its floor.

The `make demo` GAN (``keras-gen demo`` with its defaults: 15 epochs, seed 0;
read from ``--generator``, default ``outputs/generator.keras``; if that file
is missing the demo is run first into a temporary folder) is unconditional:
nobody asks it for a class, so it has no adherence. It draws 10,000 images
(:func:`keras_gen.gan.latent_vectors`, seed 1), and
:func:`keras_gen.metrics.image_quality` compares them with the same 10,000
real test images the designers' overall Fréchet distance uses (all of them).

For every model the last column is the share of its images that the two
judges put in the same class.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/designer_two_judges.py
        [--designer FOLDER ...] [--generator outputs/generator.keras]
    PYTHONPATH=. .venv/bin/python benchmarks/designer_two_judges.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gen import classifier, conditional, gan, metrics  # noqa: E402
from keras_gen.adherence import design_report  # noqa: E402
from keras_gen.cli import DEMO_EPOCHS, run_demo  # noqa: E402
from keras_gen.env import build_record  # noqa: E402

DEMO_GENERATOR = os.path.join("outputs", "generator.keras")


def demo_generator(path: str, quick: bool) -> tuple[keras.Model, str]:
    """The generator `make demo` wrote (or a fresh demo's), and its path."""
    if not os.path.exists(path):
        out = tempfile.mkdtemp(prefix="keras_gen_demo_")
        print(f"{path} not found: running the demo into {out}", flush=True)
        epochs, train_size = (1, 1000) if quick else (DEMO_EPOCHS, None)
        path = run_demo("fashion_mnist", epochs, out, seed=0, train_size=train_size)[
            "generator"
        ]
    return keras.saving.load_model(path), path  # safe_mode on (the default)


def agreement(images) -> float:
    """Share of ``images`` the two judges assign to the same class."""
    first = classifier.features_and_predictions(images)[1]
    second = classifier.features_and_predictions(images, judge="second")[1]
    return float(np.mean(first == second))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designer", action="append", metavar="FOLDER")
    parser.add_argument("--generator", default=DEMO_GENERATOR)
    parser.add_argument("--quick", action="store_true", help="128 per class: checks")
    args = parser.parse_args(argv)
    per_class = 128 if args.quick else 1000
    record = build_record()
    print(f"$ {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(f"machine: {record['machine']}; versions: {record['versions']}")
    accuracy = {j: classifier.judge_accuracy(judge=j) for j in classifier.JUDGES}
    print(
        "judges on the 10,000 real test images: "
        + ", ".join(f"{j} {a:.1%}" for j, a in accuracy.items())
    )
    rows = []
    requested = np.repeat(np.arange(10), per_class)
    for folder in args.designer or [conditional.DEFAULT_DESIGNER_DIR]:
        model, card = conditional.load_designer(folder)
        start = time.perf_counter()
        images = conditional.generate(
            model, range(10), n=per_class, seed=1, temperature=card["temperature"]
        )
        report = design_report(images, requested, seed=0)
        name = f"{card['kind']} {card['steps']} steps, T={card['temperature']}"
        print(f"\n{name} ({folder}; {card['command']}):\n{report}")
        rows.append((name, report.overall, agreement(images)))
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)

    generator, path = demo_generator(args.generator, args.quick)
    latents = gan.latent_vectors(10 * per_class, generator.input_shape[-1], seed=1)
    images = np.asarray(generator.predict(latents, batch_size=500, verbose=0))
    quality = metrics.image_quality(images, seed=0)
    print(f"\nmake demo GAN ({path}): {quality}")
    rows.append(
        (
            "make demo GAN",
            {"frechet": quality.frechet, "floor": quality.floor},
            agreement(images),
        )
    )

    print(
        f"\n{'model':32} {'adherence':>9} {'2nd judge':>9} {'Fréchet':>8} "
        f"{'floor':>6} {'judges agree':>12}"
    )
    for name, overall, agree in rows:
        first, second = (
            f"{overall[k]:.1%}" if k in overall else "-"
            for k in ("adherence", "adherence_second")
        )
        print(
            f"{name:32} {first:>9} {second:>9} {overall['frechet']:>8.2f} "
            f"{overall['floor']:>6.2f} {agree:>12.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
