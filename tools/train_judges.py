"""Train the two Fashion-MNIST judges that ship with keras-gen.

``make pretrained`` runs this script twice, once per judge:

    data/pretrained/fashion-mnist-judge/         --judge first
    data/pretrained/fashion-mnist-second-judge/  --judge second

Each judge is trained by :mod:`keras_gen.classifier` (seeded, ``--epochs``
passes over the 60,000 training images), checked against its minimum test
accuracy, and saved as a model folder whose card records the command, the
test accuracy on the 10,000 test images and the machine. Every image-quality
number of the course (Fréchet distance, prompt adherence) is computed through
these two networks, so they ship rather than being trained on each machine:
everyone scores with the same judge. ``tests/test_metrics.py`` re-measures
both accuracies.

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_judges.py --judge first
        [--epochs 4] [--seed 0] [--out data/pretrained/fashion-mnist-judge]
        [--quick]

``--quick`` trains one epoch and skips the accuracy floor: it checks the
script only. ``--out`` is checked before any work (``tools/_common.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _common import card_command, out_problem  # noqa: E402

from keras_gen import classifier, model_folder  # noqa: E402
from keras_gen._files import data_path  # noqa: E402
from keras_gen.env import build_record, folder_megabytes  # noqa: E402

DATASET = "fashion_mnist"
#: What each judge is, for its card.
DESCRIPTIONS = {
    "first": (
        "keras_gen.classifier.build_classifier: two convolution blocks, a "
        "64-unit 'features' layer whose activations every Fréchet distance "
        "of the course compares, and 10 class logits."
    ),
    "second": (
        "keras_gen.classifier.build_second_judge: a small residual CNN with "
        "batch normalisation and global average pooling, trained on randomly "
        "flipped and shifted images with another seed; it shares only the "
        "training data with the first judge."
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", choices=classifier.JUDGES, required=True)
    parser.add_argument("--epochs", type=int, default=classifier.EPOCHS)
    parser.add_argument("--seed", type=int, default=None,
                        help="default: 0 for the first judge, "
                        f"{classifier.SECOND_JUDGE_SEED} for the second")
    parser.add_argument("--out", default=None,
                        help="default: the judge's folder in data/pretrained/")
    parser.add_argument("--quick", action="store_true",
                        help="one epoch, no accuracy floor: checks the script only")
    return parser


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments, checked before any work (a bad ``--out`` fails at once)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"Expected --epochs >= 1. Received: --epochs={args.epochs}")
    if args.quick:
        args.epochs = 1
    if args.seed is None:
        args.seed = 0 if args.judge == "first" else classifier.SECOND_JUDGE_SEED
    if args.out is None:
        name = classifier.SHIPPED_FOLDERS[(DATASET, args.judge)]
        args.out = data_path("pretrained", name)
    problem = out_problem(
        args.out, (model_folder.MODEL_FILE, model_folder.CARD_FILE)
    )
    if problem:
        parser.error(problem)
    args.out = os.path.abspath(args.out)
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    train = {
        "first": classifier.train_quality_classifier,
        "second": classifier.train_second_judge,
    }[args.judge]
    start = time.perf_counter()
    model, accuracy = train(DATASET, epochs=args.epochs, seed=args.seed)
    seconds = time.perf_counter() - start
    print(f"{args.judge} judge: {args.epochs} epochs in {seconds:.0f} s, "
          f"test accuracy {accuracy:.4f}", flush=True)
    minimum = (classifier.MIN_TEST_ACCURACY if args.judge == "first"
               else classifier.SECOND_JUDGE_MIN_TEST_ACCURACY)
    if accuracy < minimum and not args.quick:
        print(f"Expected test accuracy >= {minimum}. Received: {accuracy:.4f}. "
              "Nothing was saved; train longer (--epochs 6).", file=sys.stderr)
        return 1
    card = {
        "name": os.path.basename(args.out),
        "description": DESCRIPTIONS[args.judge],
        "dataset": DATASET,
        "judge": args.judge,
        "command": card_command("tools/train_judges.py", argv,
                                make=None if args.quick else "make pretrained"),
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_size": 128,
        "parameters": int(model.count_params()),
        "test_accuracy": round(accuracy, 4),
        "test_images": 10_000,
        "train_seconds": round(seconds, 1),
        **build_record(),
    }
    model_folder.save_folder(args.out, model, card, what="judge folder")
    print(f"saved {args.out} ({folder_megabytes(args.out):.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
