"""Training throughput of the article's dense GAN, with and without XLA.

Prints, in one run:
  * the machine's float32 matmul ceiling (GFLOP/s of a 4096x4096 matmul);
  * GAN training steps/s at batch 128 with jit_compile=True and False;
  * each rate's achieved GFLOP/s as a fraction of the ceiling, and the ratio.

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

from keras_gen.gan import GAN, build_discriminator, build_generator  # noqa: E402


def matmul_ceiling(size: int = 4096, repeats: int = 10) -> float:
    """Best GFLOP/s of a float32 (size x size) @ (size x size) matmul."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    matmul = tf.function(lambda x, y: tf.linalg.matmul(x, y))
    matmul(a, b).numpy()  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def flops_per_step(generator_params: int, discriminator_params: int, batch: int):
    """Dense-layer FLOPs of one GAN train step (2 per multiply-add).

    Discriminator step: G forward on B (2·Pg·B), D forward+backward on 2B
    (6·Pd·2B). Generator step: G forward+backward (6·Pg·B), D forward and
    backward to its input only (4·Pd·B). Total ≈ B·(8·Pg + 16·Pd).
    """
    return batch * (8 * generator_params + 16 * discriminator_params)


def make_gan(jit: bool) -> GAN:
    keras.utils.set_random_seed(0)
    gan = GAN(build_generator(), build_discriminator(), seed=0)
    gan.compile(jit_compile=jit)
    return gan


def steps_per_second(gan: GAN, dataset, steps: int) -> float:
    start = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()

    # Random images stand in for Fashion-MNIST: the step's cost does not
    # depend on pixel values, and the benchmark then needs no data files.
    images = (
        np.random.default_rng(0).uniform(-1, 1, (4096, 28, 28, 1)).astype("float32")
    )
    ceiling = matmul_ceiling()
    flops = flops_per_step(
        build_generator().count_params(),
        build_discriminator().count_params(),
        args.batch,
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )
    print(f"matmul ceiling (float32 4096^3): {ceiling:.1f} GFLOP/s")
    print(f"GAN step: {flops / 1e9:.2f} GFLOP at batch {args.batch}")
    dataset = (
        tf.data.Dataset.from_tensor_slices(images)
        .repeat()
        .batch(args.batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    gans = {jit: make_gan(jit) for jit in (True, False)}
    for gan in gans.values():
        gan.fit(dataset, steps_per_epoch=20, epochs=1, verbose=0)  # compile, warm up
    # Interleaved rounds, best of each: a shared machine's noise hits both alike.
    rates = {True: 0.0, False: 0.0}
    for _ in range(args.rounds):
        for jit, gan in gans.items():
            rates[jit] = max(rates[jit], steps_per_second(gan, dataset, args.steps))
    for jit, rate in rates.items():
        achieved = rate * flops / 1e9
        print(
            f"jit_compile={jit!s:5}: {rate:6.1f} steps/s, "
            f"{468 / rate:5.1f} s per Fashion-MNIST epoch (468 steps), "
            f"{achieved:6.1f} GFLOP/s = {achieved / ceiling:.0%} of ceiling"
        )
    print(f"XLA speed-up: {rates[True] / rates[False]:.2f}x")


if __name__ == "__main__":
    main()
