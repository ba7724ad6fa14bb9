"""Rebuild ``data/moses/`` (the molecules of notebook 09) from the MOSES wheel.

MOSES (Polykovskiy et al. 2020, "Molecular Sets (MOSES): A Benchmarking
Platform for Molecular Generation Models", Frontiers in Pharmacology) ships its
data inside the ``molsets`` wheel (MIT licence):
``moses/dataset/data/train.csv.gz`` (1,584,663 SMILES) and ``test.csv.gz``
(176,074). This script draws a seeded subset of each, writes every molecule as
RDKit's canonical SMILES (one per line, gzip with no timestamp, so the same
inputs give the same bytes) and prints the SHA-256 of the decompressed text,
which ``keras_gen.molecules.smiles`` pins and checks on every load.

``molsets`` is never installed or imported: the wheel is a zip archive, read
with :mod:`zipfile`. If it is not in ``--wheel-dir``, ``pip download`` fetches
it (tool time only; nothing at run time touches the network).

Usage:
    PYTHONPATH=. .venv/bin/python tools/vendor_moses.py [--wheel-dir /tmp/wh]
        [--train 100000] [--test 5000] [--seed 0] [--out data/moses]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import subprocess
import sys
import zipfile

import numpy as np

WHEEL = "molsets-0.3.1-py3-none-any.whl"
MEMBERS = {
    "train": "moses/dataset/data/train.csv.gz",
    "test": "moses/dataset/data/test.csv.gz",
}


def find_wheel(wheel_dir: str) -> str:
    """The molsets wheel in ``wheel_dir``, downloaded with pip if missing."""
    path = os.path.join(wheel_dir, WHEEL)
    if not os.path.isfile(path):
        os.makedirs(wheel_dir, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", wheel_dir,
             "molsets==0.3.1"],
            check=True,
        )
    return path


def read_smiles(wheel: str, member: str) -> list[str]:
    """The SMILES column of one of the wheel's ``.csv.gz`` files."""
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read(member)).decode("ascii")
    lines = raw.splitlines()
    if lines[0].strip() != "SMILES":
        raise ValueError(
            f"Expected {member} to start with the header 'SMILES'. Received: "
            f"{lines[0][:40]!r}"
        )
    return [line.strip() for line in lines[1:] if line.strip()]


def subset(smiles: list[str], count: int, rng: np.random.Generator) -> list[str]:
    """``count`` molecules drawn without replacement, as canonical SMILES."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    out = []
    for index in rng.permutation(len(smiles)):
        mol = Chem.MolFromSmiles(smiles[index])
        if mol is not None:  # all MOSES molecules parse; kept as a guard
            out.append(Chem.MolToSmiles(mol))
        if len(out) == count:
            return out
    raise ValueError(f"Expected at least {count} valid molecules. Received fewer.")


def main(argv=None) -> int:
    """Write the two files and print their counts and SHA-256s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel-dir", default="/tmp/wh")
    parser.add_argument("--train", type=int, default=100_000)
    parser.add_argument("--test", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join("data", "moses"))
    args = parser.parse_args(argv)
    if args.train < 1 or args.test < 1:
        parser.error(
            "Expected --train >= 1 and --test >= 1. Received: "
            f"--train={args.train}, --test={args.test}"
        )
    wheel = find_wheel(args.wheel_dir)
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for split, count in (("train", args.train), ("test", args.test)):
        source = read_smiles(wheel, MEMBERS[split])
        chosen = subset(source, count, rng)
        text = "\n".join(chosen) + "\n"
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as f:
            f.write(text.encode("ascii"))
        path = os.path.join(args.out, f"{split}.txt.gz")
        partial = path + ".partial"
        with open(partial, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(partial, path)  # never a half-written data file
        digest = hashlib.sha256(text.encode("ascii")).hexdigest()
        print(
            f"{path}: {len(chosen):,} of {len(source):,} SMILES, "
            f"{os.path.getsize(path):,} bytes; SHA-256 of the text: {digest}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
