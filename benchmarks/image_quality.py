"""Image quality of every image generator in keras_gen, on one time budget each.

Trains, each for the same wall-clock budget on Fashion-MNIST (batch 128):
the article's dense GAN, the DCGAN, a dense VAE with latent size 2, a dense VAE
with latent size 16 and a convolutional VAE with latent size 16. Then prints,
per model: parameters, train steps done, the Fréchet distance of ``--n``
samples to real test images (on the features of keras_gen's own classifier),
the real-data floor at the same ``n`` (train vs test images: what a perfect
generator would score), their ratio, the entropy of the predicted-class
histogram (max log 10 = 2.303) and, for the VAEs, the test negative ELBO in
nats per image.

It also measures the VAE train step with and without XLA (dense and conv), the
evidence behind ``VAE.compile(jit_compile="auto")``: the four variants are
compiled first, then timed in interleaved rounds (the order rotates each
round), so a change in the machine's load hits every variant alike.

Usage:
    .venv/bin/python benchmarks/image_quality.py [--budget 90] [--n 2000]
    .venv/bin/python benchmarks/image_quality.py --xla-only  # the XLA rounds only
    .venv/bin/python benchmarks/image_quality.py --quick   # only checks it runs
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_gen import data, gan, metrics, vae  # noqa: E402
from keras_gen.callbacks import TimeBudget  # noqa: E402
from keras_gen.classifier import load_classifier  # noqa: E402
from keras_gen.env import matmul_gflops  # noqa: E402


def _gan(generator, discriminator):
    return lambda: gan.GAN(generator(), discriminator(), seed=0)


def _vae(encoder, decoder, latent_dim):
    return lambda: vae.VAE(encoder(latent_dim), decoder(latent_dim), seed=0)


MODELS = {
    "dense GAN (article)": _gan(gan.build_generator, gan.build_discriminator),
    "DCGAN": _gan(gan.build_dcgan_generator, gan.build_dcgan_discriminator),
    "dense VAE z=2": _vae(vae.build_encoder, vae.build_decoder, 2),
    "dense VAE z=16": _vae(vae.build_encoder, vae.build_decoder, 16),
    "conv VAE z=16": _vae(vae.build_conv_encoder, vae.build_conv_decoder, 16),
}


def vae_xla_rates(dataset, steps: dict, rounds: int) -> dict:
    """Steps/s of the dense and conv VAE (z=16) with XLA on and off.

    Every variant is built and compiled first; then each round times every
    variant once, in an order that rotates from round to round.

    Returns:
        ``{(kind, jit): [steps/s of each round]}``.
    """
    models = {}
    for kind, builders in (
        ("dense", (vae.build_encoder, vae.build_decoder)),
        ("conv", (vae.build_conv_encoder, vae.build_conv_decoder)),
    ):
        for jit in (True, False):
            keras.utils.set_random_seed(0)
            model = vae.VAE(builders[0](16), builders[1](16), seed=0)
            model.compile(jit_compile=jit)
            model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)  # compile
            models[kind, jit] = model
    rates = {variant: [] for variant in models}
    order = list(models)
    for round_ in range(rounds):
        for variant in order[round_ % 4 :] + order[: round_ % 4]:
            n = steps[variant[0]]
            start = time.perf_counter()
            models[variant].fit(dataset, steps_per_epoch=n, epochs=1, verbose=0)
            rates[variant].append(n / (time.perf_counter() - start))
    return rates


def print_xla_rates(rates: dict, rounds: int) -> None:
    """One line per VAE kind: best and median steps/s, and the speed-up."""
    for kind in ("dense", "conv"):
        on, off = rates[kind, True], rates[kind, False]
        per_round = sorted(a / b for a, b in zip(on, off, strict=True))
        print(
            f"VAE {kind:5} z=16 steps/s (best / median of {rounds} interleaved "
            f"rounds): XLA {max(on):6.1f} / {statistics.median(on):6.1f}, "
            f"no XLA {max(off):6.1f} / {statistics.median(off):6.1f}; "
            f"XLA speed-up {statistics.median(on) / statistics.median(off):.2f}x "
            f"(per round {per_round[0]:.2f}-{per_round[-1]:.2f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=90.0, help="seconds per model")
    parser.add_argument("--n", type=int, default=2000, help="samples per score")
    parser.add_argument(
        "--xla-steps", type=int, default=60, help="dense VAE steps per round"
    )
    parser.add_argument("--xla-rounds", type=int, default=5)
    parser.add_argument(
        "--xla-only", action="store_true", help="only the XLA rounds, then stop"
    )
    parser.add_argument("--quick", action="store_true", help="tiny run: checks only")
    args = parser.parse_args()
    if args.quick:
        args.budget, args.n, args.xla_steps = 3.0, metrics.MIN_SAMPLES, 5
        args.xla_rounds = 2
    # The conv VAE step is about 4x slower: a quarter of the steps per round.
    xla_steps = {"dense": args.xla_steps, "conv": max(1, args.xla_steps // 4)}

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"matmul {matmul_gflops():.0f} GFLOP/s, keras {keras.__version__}"
    )
    train_images, _ = data.load_images("fashion_mnist", "train")
    dataset = data.make_image_dataset(train_images, batch_size=128, seed=0).repeat()
    rates = vae_xla_rates(dataset, xla_steps, args.xla_rounds)
    print_xla_rates(rates, args.xla_rounds)
    if args.xla_only:
        return
    test_images, _ = data.load_images("fashion_mnist", "test")
    start = time.perf_counter()
    load_classifier("fashion_mnist")  # the shipped judge (data/pretrained/)
    print(f"quality classifier ready in {time.perf_counter() - start:.0f} s")

    print(
        f"\nbudget {args.budget:.0f} s per model, n = {args.n} samples per score, "
        "batch 128, Fashion-MNIST"
    )
    header = (
        f"{'model':20} {'params':>9} {'steps':>6} {'Fréchet':>8} {'floor':>6} "
        f"{'ratio':>6} {'entropy':>7} {'test -ELBO':>10}"
    )
    print(header)
    for name, make in MODELS.items():
        keras.utils.set_random_seed(0)
        model = make()
        model.compile()
        budget = TimeBudget(args.budget)
        model.fit(
            dataset, steps_per_epoch=50, epochs=100_000, callbacks=[budget], verbose=0
        )
        report = metrics.image_quality(model.generate(args.n, seed=1), seed=0)
        elbo = ""
        if isinstance(model, vae.VAE):
            elbo = f"{metrics.evaluate_elbo(model, test_images):10.1f}"
        print(
            f"{name:20} {model.count_params():>9,} {budget.steps:>6} "
            f"{report.frechet:>8.2f} {report.floor:>6.2f} {report.ratio:>6.1f} "
            f"{report.coverage['entropy']:>7.2f} {elbo:>10}",
            flush=True,
        )
    print("entropy: of the predicted-class histogram, in nats; max log 10 = 2.30")


if __name__ == "__main__":
    main()
