"""Training throughput of the article's dense GAN (and the DCGAN), with and without XLA.

Prints, in one run:
  * the machine's float32 matmul ceiling (GFLOP/s of a 4096x4096 matmul);
  * training steps/s at batch 128 with jit_compile=True and False, for the
    article's dense GAN and for the convolutional pair;
  * the dense GAN's achieved GFLOP/s as a fraction of the ceiling, and each
    model's XLA speed-up (the ratio of its two rates).

Usage:
    .venv/bin/python benchmarks/gan_throughput.py [--steps 150] [--rounds 3]
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
import tensorflow as tf  # noqa: E402

from keras_gen import gan  # noqa: E402
from keras_gen.env import matmul_gflops  # noqa: E402

MODELS = {
    "dense (article)": (gan.build_generator, gan.build_discriminator, 1.0),
    # The DCGAN step costs about 10x more; it runs a tenth of the steps.
    "dcgan": (gan.build_dcgan_generator, gan.build_dcgan_discriminator, 0.1),
}


def dense_flops_per_step(generator_params: int, discriminator_params: int, batch: int):
    """Dense-layer FLOPs of one GAN train step (2 per multiply-add).

    Discriminator step: G forward on B (2·Pg·B), D forward+backward on 2B
    (6·Pd·2B). Generator step: G forward+backward (6·Pg·B), D forward and
    backward to its input only (4·Pd·B). Total ≈ B·(8·Pg + 16·Pd).
    """
    return batch * (8 * generator_params + 16 * discriminator_params)


def make_gan(builders, jit: bool) -> gan.GAN:
    keras.utils.set_random_seed(0)
    model = gan.GAN(builders[0](), builders[1](), seed=0)
    model.compile(jit_compile=jit)
    return model


def steps_per_second(model: gan.GAN, dataset, steps: int) -> float:
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="dense steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()

    # Random images stand in for Fashion-MNIST: the step's cost does not
    # depend on pixel values, and the benchmark then needs no data files.
    images = np.random.default_rng(0).uniform(-1, 1, (4096, 28, 28, 1))
    dataset = (
        tf.data.Dataset.from_tensor_slices(images.astype("float32"))
        .repeat()
        .batch(args.batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    ceiling = matmul_gflops(4096, repeats=10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"matmul ceiling (float32 4096^3): {ceiling:.1f} GFLOP/s")

    models, steps = {}, {}
    for name, (make_g, make_d, share) in MODELS.items():
        steps[name] = max(5, int(args.steps * share))
        for jit in (True, False):
            models[name, jit] = make_gan((make_g, make_d), jit)
            models[name, jit].fit(dataset, steps_per_epoch=5, epochs=1, verbose=0)
    # Interleaved rounds, best of each: a shared machine's noise hits all alike.
    rates = dict.fromkeys(models, 0.0)
    for _ in range(args.rounds):
        for (name, jit), model in models.items():
            rate = steps_per_second(model, dataset, steps[name])
            rates[name, jit] = max(rates[name, jit], rate)

    dense = MODELS["dense (article)"]
    flops = dense_flops_per_step(
        dense[0]().count_params(), dense[1]().count_params(), args.batch
    )
    print(f"dense GAN step: {flops / 1e9:.2f} GFLOP at batch {args.batch}")
    for (name, jit), rate in rates.items():
        line = (
            f"{name:16} jit_compile={jit!s:5}: {rate:6.1f} steps/s, "
            f"{468 / rate:6.1f} s per Fashion-MNIST epoch (468 steps)"
        )
        if name == "dense (article)":
            achieved = rate * flops / 1e9
            line += f", {achieved:6.1f} GFLOP/s = {achieved / ceiling:.0%} of ceiling"
        print(line)
    for name in MODELS:
        ratio = rates[name, True] / rates[name, False]
        print(f"{name:16} XLA speed-up: {ratio:.2f}x")


if __name__ == "__main__":
    main()
