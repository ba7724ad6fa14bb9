"""The ``keras-gen`` command line: the demo, the data check and generation.

Examples:
    keras-gen demo                       # train the article's GAN, ~3 min on CPU
    keras-gen demo --epochs 5 --out /tmp/run --seed 1
    keras-gen data                       # where is Fashion-MNIST on this machine?
    keras-gen data --download            # fetch it into the Keras cache (online)
    keras-gen generate --prompt "The future of AI in healthcare is"
    keras-gen generate --prompt "def " --max-new-tokens 80 --temperature 0.8 \
        --top-p 0.9 --seed 1             # sample instead of greedy
"""

from __future__ import annotations

import argparse
import os
import sys
import time

DEMO_EPOCHS = 15


def _quiet_tensorflow() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_demo(dataset: str, epochs: int, out: str, seed: int, batch_size: int = 128):
    """Train the article's GAN and write samples, curves and the generator.

    Args:
        dataset: ``"fashion_mnist"`` or ``"mnist"``.
        epochs: Passes over the 60,000 training images.
        out: Output directory (created if needed).
        seed: Seed for weights, shuffling, noise and the sample grid.
        batch_size: Images per step.

    Returns:
        Dict of the written paths: ``samples``, ``curves``, ``generator``,
        ``progress`` (a folder with one grid per epoch).
    """
    _quiet_tensorflow()
    import keras

    from keras_gen import data, gan, plotting

    if epochs < 1:
        raise ValueError(f"Expected epochs >= 1. Received: epochs={epochs}")
    keras.utils.set_random_seed(seed)
    images, _ = data.load_images(dataset, "train")
    dataset_batches = data.make_image_dataset(images, batch_size, seed=seed)

    model = gan.GAN(gan.build_generator(), gan.build_discriminator(), seed=seed)
    model.compile()
    os.makedirs(out, exist_ok=True)
    progress_dir = os.path.join(out, "progress")
    sample_grid = gan.SampleGrid(
        gan.latent_vectors(64, model.latent_dim, seed=seed), out_dir=progress_dir
    )
    print(
        f"Training the article's GAN on {dataset} ({len(images):,} images) for "
        f"{epochs} epochs; generator has {model.generator.count_params():,} parameters."
    )
    start = time.perf_counter()
    history = model.fit(dataset_batches, epochs=epochs, callbacks=[sample_grid])
    minutes = (time.perf_counter() - start) / 60

    paths = {
        "samples": plotting.save_image_grid(
            model.generate(64, seed=seed),
            os.path.join(out, "samples.png"),
            title=f"{dataset}: 64 samples after {epochs} epochs (seed {seed})",
        ),
        "curves": plotting.save_loss_curves(
            history,
            os.path.join(out, "loss_curves.png"),
            title="Discriminator and generator losses",
        ),
        "generator": _save_atomically(
            model.generator, os.path.join(out, "generator.keras")
        ),
        "progress": progress_dir,
    }
    print(f"Trained in {minutes:.1f} min. Wrote:")
    for label, path in paths.items():
        print(f"  {label:9} {path}")
    return paths


def _save_atomically(model, path: str) -> str:
    """Save to a temporary name, then rename: never leave half a model file."""
    partial = path + ".partial.keras"
    try:
        model.save(partial)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return path


def run_data_check(download: bool) -> int:
    """Print where each data set is found; optionally download Fashion-MNIST."""
    from keras_gen import data

    status = 0
    for name in data.DATASETS:
        try:
            source = data.find_data(name, download=download)
            data.load_images(name, "test", data_dir=source.location, download=False)
            print(
                f"{name:14} found ({source.origin}): {source.location}  [checksums OK]"
            )
        except (data.DataNotFoundError, data.ChecksumError) as error:
            first_line = str(error).splitlines()[0]
            print(f"{name:14} missing: {first_line}")
            if name == "fashion_mnist":
                status = 1
    return status


def run_generate(args) -> int:
    """Print text generated from ``args.prompt`` (the ``generate`` command).

    Greedy decoding unless a sampling option (``--temperature``, ``--top-k``,
    ``--top-p``) is given; with none given, ``--seed`` has nothing to seed.
    """
    _quiet_tensorflow()
    from keras_gen.generation import pipeline

    do_sample = any(
        value is not None for value in (args.temperature, args.top_k, args.top_p)
    )
    generator = pipeline("text-generation", model=args.model)
    outputs = generator(
        args.prompt,
        max_length=args.max_length,
        max_new_tokens=args.max_new_tokens,
        do_sample=do_sample,
        temperature=1.0 if args.temperature is None else args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        num_return_sequences=args.num_return_sequences,
        seed=args.seed,
    )
    for i, output in enumerate(outputs):
        if i:
            print("-" * 40)
        print(output["generated_text"])
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, exposed for tests and ``--help``."""
    parser = argparse.ArgumentParser(
        prog="keras-gen",
        description="Keras 3 generative models from the article 'Gen AI vs LLM'.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="train the article's dense GAN and write samples, curves and the model",
        description="Train the article's dense GAN (about 3 minutes on a 2-core CPU).",
    )
    demo.add_argument(
        "--dataset",
        choices=["fashion_mnist", "mnist"],
        default="fashion_mnist",
        help="image data set (default: %(default)s)",
    )
    demo.add_argument(
        "--epochs",
        type=int,
        default=DEMO_EPOCHS,
        help="passes over the training set (default: %(default)s)",
    )
    demo.add_argument(
        "--out", default="outputs", help="output directory (default: %(default)s)"
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed; the same seed gives the same samples",
    )

    data_cmd = commands.add_parser(
        "data", help="show where the data sets are found (and verify checksums)"
    )
    data_cmd.add_argument(
        "--download",
        action="store_true",
        help="download Fashion-MNIST into the Keras cache if missing",
    )

    gen = commands.add_parser(
        "generate",
        help="continue a prompt with the pretrained GPT that ships with keras-gen",
        description="Continue a prompt with a pretrained keras_gen GPT: greedy "
        "decoding by default, sampling when --temperature, --top-k or --top-p "
        "is given. Lengths count tokens (characters for the shipped model).",
    )
    gen.add_argument("--prompt", required=True, help="the text to continue")
    length = gen.add_mutually_exclusive_group()
    length.add_argument(
        "--max-length",
        type=int,
        help="prompt plus new tokens, as in the article (default: prompt + 50)",
    )
    length.add_argument("--max-new-tokens", type=int, help="new tokens only")
    gen.add_argument(
        "--temperature", type=float, help="sample with this temperature (> 0)"
    )
    gen.add_argument("--top-k", type=int, help="sample among the K most likely")
    gen.add_argument(
        "--top-p", type=float, help="nucleus sampling: keep probability mass P"
    )
    gen.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    gen.add_argument(
        "--num-return-sequences",
        type=int,
        default=1,
        help="continuations to print (sampling only; default 1)",
    )
    gen.add_argument(
        "--model",
        default=None,
        help="a folder saved by keras_gen (default: the shipped pydoc-char-gpt)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``keras-gen`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            run_demo(args.dataset, args.epochs, args.out, args.seed)
            return 0
        if args.command == "generate":
            return run_generate(args)
        return run_data_check(args.download)
    except (ValueError, FileNotFoundError) as error:
        print(f"keras-gen: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
