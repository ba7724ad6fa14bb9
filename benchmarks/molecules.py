"""The shipped SMILES GPT measured as MOSES measures molecule generators.

Loads ``data/pretrained/moses-smiles-gpt``, samples ``--samples`` molecules
(default 12,000, the card's count, so unique@10k has 10,000 valid molecules
to look at when validity is above 0.84) from ``<bos>`` at temperature 1 with
the card's seed, and prints validity, unique@1k, unique@10k, novelty against
the 100,000 training molecules and the Wasserstein distances of QED, logP and
molecular weight to the 5,000 held-out MOSES test molecules, beside the card's
figures and the published MOSES table (Polykovskiy et al. 2020), with the
targets of issue 11 (validity >= 0.90, unique@10k >= 0.99, novelty >= 0.80).

Usage:
    .venv/bin/python benchmarks/molecules.py [--samples 12000] [--seed 0]
    .venv/bin/python benchmarks/molecules.py --quick   # 300 samples: checks it runs
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gen.molecules.metrics import MOSES_REFERENCE, moses_metrics  # noqa: E402
from keras_gen.molecules.smiles import load_moses, load_smiles_gpt, sample_smiles  # noqa: E402

TARGETS = {"valid": 0.90, "unique@10k": 0.99, "novelty": 0.80}
COLUMNS = ("valid", "unique@1k", "unique@10k", "novelty", "QED W1", "logP W1",
           "weight W1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=None, help="default: the card's")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    num = 300 if args.quick else args.samples
    if num < 1:
        parser.error(f"Expected --samples >= 1. Received: --samples={num}")
    shipped = load_smiles_gpt()
    card = shipped.card
    seed = card["sampling"]["seed"] if args.seed is None else args.seed
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores; TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}, RDKit "
        f"{__import__('rdkit').__version__}"
    )
    print(
        f"model: {card['parameters']:,} parameters, {card['steps']} steps, "
        f"trained in {card['train_minutes']} min; test loss "
        f"{card['test_loss_nats_per_token']} nats/token"
    )
    start = time.perf_counter()
    samples = sample_smiles(shipped.model, shipped.tokenizer, num, seed=seed)
    sampled = time.perf_counter() - start
    start = time.perf_counter()
    metrics = moses_metrics(samples, set(load_moses("train")), load_moses("test"))
    measured_in = time.perf_counter() - start
    print(
        f"sampled {num:,} molecules (seed {seed}) in {sampled:.1f} s; "
        f"metrics in {measured_in:.1f} s"
    )
    rows = {"measured now": metrics, "card": card["metrics"], **MOSES_REFERENCE,
            "target (issue 11)": TARGETS}
    print(f"{'':26s}" + "".join(f"{c:>11s}" for c in COLUMNS))
    for name, values in rows.items():
        print(
            f"{name:26s}"
            + "".join(
                f"{values[c]:11.3f}" if c in values else f"{'-':>11s}"
                for c in COLUMNS
            )
        )
    for key, target in TARGETS.items():
        if key in metrics:
            verdict = "met" if metrics[key] >= target else "MISSED"
            print(f"{key}: {metrics[key]:.3f} against >= {target}: {verdict}")


if __name__ == "__main__":
    main()
