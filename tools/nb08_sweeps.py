"""Compute notebook 08's data-size and model-size sweeps and store them as JSON.

Every point is one call of :func:`keras_gen.scaling.image_point` or
:func:`keras_gen.scaling.text_point` (the same functions notebook 08 calls
when it recomputes a point live to check the stored ones). The stored run
took 15.7 minutes on the project's 2-core CPU while other jobs shared it
(its ``minutes`` field), too long for the notebook itself.

Usage (writes notebooks/08_sweeps.json):
    PYTHONPATH=. .venv/bin/python tools/nb08_sweeps.py
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_gen import data, scaling  # noqa: E402
from keras_gen.text import load_corpus, split_corpus  # noqa: E402
from keras_gen.tokenizers import CharTokenizer  # noqa: E402

OUT = Path("notebooks/08_sweeps.json")
COMMAND = "PYTHONPATH=. .venv/bin/python tools/nb08_sweeps.py"


def _clean(point: dict) -> dict:
    return {
        k: (round(v, 4) if isinstance(v, float) else v)
        for k, v in point.items()
        if k != "model"
    }


def _log(kind: str, point: dict) -> None:
    shown = {k: v for k, v in _clean(point).items() if k != "steps"}
    print(kind, shown, flush=True)


def main() -> None:
    start = time.perf_counter()
    train_images, _ = data.load_images("fashion_mnist", "train")
    test_images, _ = data.load_images("fashion_mnist", "test")
    corpus = load_corpus()
    tokenizer = CharTokenizer.train(corpus, byte_fallback=False)
    train_ids, val_ids = split_corpus(tokenizer.encode(corpus), 0.1)

    image_data = []
    for fraction in scaling.FRACTIONS:
        n = round(fraction * len(train_images))
        image_data.append(scaling.image_point(train_images, test_images, n))
        _log("image data", image_data[-1])
    image_size = []
    for scale in scaling.IMAGE_WIDTH_SCALES:
        widths = scaling.scaled_widths(scale)
        if widths == scaling.IMAGE_HIDDEN_UNITS:  # the 100% point above
            point = image_data[-1]
        else:
            point = scaling.image_point(
                train_images, test_images, len(train_images), hidden_units=widths
            )
        image_size.append(_clean(point) | {"hidden_units": list(widths)})
        _log("image size", point)

    text_data = []
    for fraction in scaling.FRACTIONS:
        n = round(fraction * len(train_ids))
        text_data.append(
            scaling.text_point(train_ids, val_ids, n, tokenizer.vocab_size)
        )
        _log("text data", text_data[-1])
    text_size = []
    for shape in scaling.TEXT_MODELS:
        if shape == scaling.TEXT_MODEL:
            point = text_data[-1]
        else:
            point = scaling.text_point(
                train_ids,
                val_ids,
                len(train_ids),
                tokenizer.vocab_size,
                model_shape=shape,
            )
        text_size.append(_clean(point) | {"model_shape": list(shape)})
        _log("text size", point)

    minutes = (time.perf_counter() - start) / 60
    result = {
        "command": COMMAND,
        "minutes": round(minutes, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": {
            "python": sys.version.split()[0],
            "keras": keras.__version__,
        },
        "image_steps": scaling.IMAGE_STEPS,
        "text_steps": scaling.TEXT_STEPS,
        "image_data": [_clean(p) for p in image_data],
        "image_size": image_size,
        "text_data": [_clean(p) for p in text_data],
        "text_size": text_size,
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {OUT} in {minutes:.1f} min")


if __name__ == "__main__":
    main()
