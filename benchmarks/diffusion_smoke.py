"""Does keras_gen.diffusion learn? A short class-conditional run on pixels.

Trains a class-conditional pixel-space DiffusionModel on Fashion-MNIST
(28x28x1, a U-Net on 2x2 patches, v-prediction, cosine schedule, T = 1000,
p_uncond = 0.1) for ``--steps`` train steps, then draws ``--samples`` images
(the same number of each class) with the DDIM sampler at each guidance scale
in ``--guidance`` and prints the *class adherence*: the share of samples that
keras_gen's quality classifier (``load_classifier("fashion_mnist")``, cached)
assigns to the prompted class. Chance is 10%. It also prints the train and
sampling times (noisy on a shared machine).

This is a smoke test of the foundation of notebook 12, not its result: the
notebook's model trains longer and on latents.

Usage:
    nice -n 10 .venv/bin/python benchmarks/diffusion_smoke.py [--steps 300]
    .venv/bin/python benchmarks/diffusion_smoke.py --quick  # only checks it runs
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gen import data  # noqa: E402
from keras_gen.classifier import features_and_predictions  # noqa: E402
from keras_gen.denoiser import build_denoiser  # noqa: E402
from keras_gen.diffusion import DiffusionModel, build_label_encoder  # noqa: E402
from keras_gen.training import fit_steps  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="train steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--samples", type=int, default=300, help="per guidance scale")
    parser.add_argument("--num-steps", type=int, default=50, help="DDIM steps")
    parser.add_argument("--guidance", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny run, checks only")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.samples, args.num_steps = 2, 20, 2

    keras.utils.set_random_seed(args.seed)
    images, labels = data.load_images("fashion_mnist", "train")
    # tf.data (TensorFlow directly: Keras has no input pipeline of its own)
    # so that fit() can report the mean loss of each tenth of the run.
    import tensorflow as tf

    dataset = (
        tf.data.Dataset.from_tensor_slices((images, labels.astype("int32")))
        .shuffle(len(images), seed=args.seed)
        .repeat()
        .batch(args.batch_size, drop_remainder=True)
        .prefetch(2)
    )
    epochs = min(10, args.steps)

    denoiser = build_denoiser(
        (28, 28, 1),
        condition_dim=32,
        base_filters=32,
        channel_multipliers=(1, 2, 2),
        patch_size=2,
    )
    model = DiffusionModel(
        denoiser,
        condition_encoder=build_label_encoder(10, 32),
        timesteps=1000,
        schedule="cosine",
        prediction="v",
        p_uncond=0.1,
        clip_denoised=1.0,
        seed=args.seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=1.0))
    print(
        f"denoiser: {denoiser.count_params():,} parameters; {args.steps} steps of "
        f"batch {args.batch_size}"
    )
    start = time.perf_counter()
    # Exactly --steps steps, in about `epochs` chunks (the last one shorter).
    history = fit_steps(model, dataset, args.steps, -(-args.steps // epochs))
    train_s = time.perf_counter() - start
    losses = history.history["loss"]
    print(
        f"trained in {train_s:.0f} s ({train_s / args.steps:.2f} s/step); "
        f"mean loss of each tenth: {' '.join(f'{v:.4f}' for v in losses)}"
    )

    prompted = np.arange(args.samples) % 10
    print(f"{'guidance':>8}  {'adherence':>9}  {'sampling s':>10}")
    for scale in args.guidance:
        start = time.perf_counter()
        samples = model.generate(
            prompted,
            num_steps=args.num_steps,
            guidance_scale=scale,
            seed=args.seed,
        )
        sample_s = time.perf_counter() - start
        _, predicted = features_and_predictions(np.clip(samples, -1.0, 1.0))
        adherence = float(np.mean(predicted == prompted))
        print(f"{scale:>8.1f}  {adherence:>9.1%}  {sample_s:>10.0f}")


if __name__ == "__main__":
    main()
