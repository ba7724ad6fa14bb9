"""Latent vs pixel diffusion: the same wall time, the same yardstick.

Trains two class-conditional :class:`keras_gen.diffusion.DiffusionModel`
on Fashion-MNIST for the same wall-clock budget (``--seconds`` each):

- **pixel**: the 28x28x1 U-Net of ``benchmarks/diffusion_smoke.py`` (2x2
  patches, base 32, levels (1, 2, 2), pixels clipped to [-1, 1]);
- **latent**: the 7x7x4 U-Net of ``tools/train_text_to_image.py`` on the
  latents of a :class:`keras_gen.latents.LatentAutoencoder` trained first
  for ``--ae-steps`` (its time is printed apart: like Stable Diffusion's
  autoencoder, it is trained once and reused by every diffusion model).

Both use a label embedding (no text), v-prediction, the cosine schedule,
T = 1000, batch 128. Then each draws ``--samples`` images (classes equally)
with 50 DDIM steps at guidance 3, and the quality classifier scores class
adherence (chance 10%). Printed: seconds per train step, steps done, sampling
seconds, adherence. Timings on a shared machine are noisy.

Usage:
    nice -n 10 .venv/bin/python benchmarks/latent_vs_pixel.py [--seconds 300]
    .venv/bin/python benchmarks/latent_vs_pixel.py --quick  # checks it runs
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gen import data  # noqa: E402
from keras_gen.callbacks import StepClock  # noqa: E402
from keras_gen.classifier import features_and_predictions  # noqa: E402
from keras_gen.denoiser import build_denoiser  # noqa: E402
from keras_gen.diffusion import DiffusionModel, build_label_encoder  # noqa: E402
from keras_gen.latents import build_latent_autoencoder  # noqa: E402
from keras_gen.text_to_image.model import (  # noqa: E402
    AUTOENCODER_FILTERS as AE_FILTERS,
)
from keras_gen.text_to_image.model import (  # noqa: E402
    DENOISER_CONFIG as DENOISER,
)

BATCH_SIZE = 128


def _batches(x, y, seed):
    # tf.data: Keras 3 has no input pipeline of its own.
    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed)
        .repeat()
        .batch(BATCH_SIZE, drop_remainder=True)
        .prefetch(2)
    )


def run(name, model, x, y, seconds, samples, num_steps, decode, seed):
    model.compile()
    # The budget starts after the first step: tracing the train step into a
    # graph takes tens of seconds on a loaded machine.
    clock = StepClock(budget=seconds, warmup_steps=1)
    model.fit(
        _batches(x, y, seed),
        steps_per_epoch=10**6,
        epochs=1,
        callbacks=[clock],
        verbose=0,
    )
    prompted = np.arange(samples) % 10
    start = time.perf_counter()
    drawn = model.generate(prompted, num_steps=num_steps, guidance_scale=3.0, seed=1)
    images = np.clip(decode(drawn), -1.0, 1.0)
    sample_s = time.perf_counter() - start
    adherence = float(np.mean(features_and_predictions(images)[1] == prompted))
    print(
        f"{name:6} {model.denoiser.count_params():>9,} "
        f"{clock.elapsed / max(clock.steps - 1, 1):>8.3f} "
        f"{clock.steps:>6} {sample_s:>9.0f} {adherence:>9.1%}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300, help="per model")
    parser.add_argument("--ae-steps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny run, checks only")
    args = parser.parse_args()
    num_steps = 50
    if args.quick:
        args.seconds, args.ae_steps, args.samples, num_steps = 1, 5, 20, 3
    images, labels = data.load_images("fashion_mnist", "train")
    labels = labels.astype("int32")

    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    autoencoder = build_latent_autoencoder(base_filters=AE_FILTERS)
    autoencoder.compile()
    autoencoder.fit(
        _batches(images, images, args.seed),
        steps_per_epoch=args.ae_steps,
        epochs=1,
        verbose=0,
    )
    autoencoder.fit_normalization(images[:10_000])
    latents = autoencoder.encode(images)  # (60000, 7, 7, 4)
    print(
        f"autoencoder: {args.ae_steps} steps + encoding in "
        f"{time.perf_counter() - start:.0f} s (not in the latent model's budget)"
    )
    print(
        f"{'model':6} {'params':>9} {'s/step':>8} {'steps':>6} {'sample s':>9} "
        f"{'adherence':>9}"
    )

    keras.utils.set_random_seed(args.seed)
    pixel = DiffusionModel(
        build_denoiser(
            (28, 28, 1),
            condition_dim=32,
            base_filters=32,
            channel_multipliers=(1, 2, 2),
            patch_size=2,
        ),
        build_label_encoder(10, 32),
        clip_denoised=1.0,
        seed=args.seed,
    )
    run(
        "pixel",
        pixel,
        images,
        labels,
        args.seconds,
        args.samples,
        num_steps,
        lambda x: x,
        args.seed,
    )

    keras.utils.set_random_seed(args.seed)
    latent = DiffusionModel(
        build_denoiser((7, 7, 4), condition_dim=32, **DENOISER),
        build_label_encoder(10, 32),
        seed=args.seed,
    )
    run(
        "latent",
        latent,
        latents,
        labels,
        args.seconds,
        args.samples,
        num_steps,
        autoencoder.decode,
        args.seed,
    )


if __name__ == "__main__":
    main()
