"""The shipped text-to-image model against the `make demo` GAN, one yardstick.

Both generators draw ``--n`` images and :func:`keras_gen.metrics.image_quality`
scores both with the same real images (``seed``): the Fréchet distance of the
quality classifier's features to ``n`` real test images, and its floor (``n``
real training images against the same test images), so the two rows differ
only in the generator.

- **GAN**: the generator that ``make demo`` writes (``outputs/generator.keras``,
  the article's dense GAN after the demo's epochs); if that file is missing,
  the demo is run first into a temporary folder (about 3 minutes on 2 cores).
  Its latent vectors: :func:`keras_gen.gan.latent_vectors` with ``--seed``.
- **text-to-image**: ``data/pretrained/text-to-image``, prompted with
  :func:`keras_gen.text_to_image.model.balanced_prompts` (every class equally, the
  40 class/tone/width combinations cycled), guidance 3, 50 DDIM steps.

Also printed: the class entropy of each set (how evenly the classifier sees
the ten classes; max log 10 = 2.30) and the seconds each took to draw.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/t2i_vs_gan.py [--n 2000]
    PYTHONPATH=. .venv/bin/python benchmarks/t2i_vs_gan.py --quick  # checks it runs
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gen import gan, metrics  # noqa: E402
from keras_gen.cli import DEMO_EPOCHS, run_demo  # noqa: E402
from keras_gen.text_to_image import model as text_to_image

DEMO_GENERATOR = os.path.join("outputs", "generator.keras")


def load_demo_generator(path: str, quick: bool) -> tuple[keras.Model, str]:
    """The generator `make demo` wrote (or a fresh demo's), and its path."""
    if not os.path.exists(path):
        out = tempfile.mkdtemp(prefix="keras_gen_demo_")
        print(f"{path} not found: running the demo into {out}")
        epochs, train_size = (1, 1000) if quick else (DEMO_EPOCHS, None)
        path = run_demo("fashion_mnist", epochs, out, seed=0, train_size=train_size)[
            "generator"
        ]
    return keras.saving.load_model(path), path  # safe_mode on (the default)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="images per generator")
    parser.add_argument("--seed", type=int, default=1, help="seed of the samples")
    parser.add_argument("--generator", default=DEMO_GENERATOR)
    parser.add_argument("--quick", action="store_true", help="n=130, 5 DDIM steps")
    args = parser.parse_args()
    n, num_steps = (130, 5) if args.quick else (args.n, 50)
    if n % 10:
        parser.error(f"--n must be a multiple of 10 (classes equally); got {n}")

    generator, generator_path = load_demo_generator(args.generator, args.quick)
    start = time.perf_counter()
    latents = gan.latent_vectors(n, generator.input_shape[-1], seed=args.seed)
    gan_images = np.asarray(generator.predict(latents, batch_size=500, verbose=0))
    gan_seconds = time.perf_counter() - start

    t2i, _ = text_to_image.load_text_to_image()
    prompts = text_to_image.balanced_prompts(n // 10, seed=args.seed)[0]
    start = time.perf_counter()
    t2i_images = t2i.generate(
        prompts, guidance_scale=3.0, num_steps=num_steps, seed=args.seed
    )  # (n, 28, 28, 1)
    t2i_seconds = time.perf_counter() - start

    print(f"n = {n} per generator; real images drawn with seed 0")
    print(
        f"{'generator':<40} {'Frechet':>8} {'floor':>6} {'ratio':>6} "
        f"{'entropy':>8} {'draw s':>7}"
    )
    for name, images, seconds in (
        (f"make demo GAN ({generator_path})", gan_images, gan_seconds),
        (f"text-to-image, guidance 3, {num_steps} steps", t2i_images, t2i_seconds),
    ):
        report = metrics.image_quality(images)
        print(
            f"{name:<40} {report.frechet:>8.2f} {report.floor:>6.2f} "
            f"{report.ratio:>6.1f} {report.coverage['entropy']:>8.2f} "
            f"{seconds:>7.1f}"
        )


if __name__ == "__main__":
    main()
