"""Held-out numbers for notebook 09's melody GPT (Bach chorale sopranos).

Trains the project's GPT on the training chorales (``keras_gen.music.melodies``), then
prints, on the held-out chorales: validation loss against an add-one bigram
baseline scored on the same tokens, the share of notes in key, pitch and
interval histogram distances, and the copying check, for samples and for the
real held-out melodies as reference. The notebook runs the same recipe.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/music_melodies.py [--steps 500]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import keras
import numpy as np

from keras_gen.music import melodies as music
from keras_gen.music import metrics as mm
from keras_gen.text import make_next_token_dataset
from keras_gen.training import compile_for_pretraining, make_optimizer
from keras_gen.transformer import GPTConfig, build_gpt

MELODY_GPT = music.MELODY_GPT


@dataclasses.dataclass
class Recipe:
    """Training settings (the notebook's full mode)."""

    steps: int = 500
    batch_size: int = 16
    learning_rate: float = 2e-3
    seed: int = 0


def train_melody_gpt(train_ids, recipe: Recipe, config: GPTConfig = MELODY_GPT):
    """Build and train the melody GPT; return the model and its loss history."""
    keras.utils.set_random_seed(recipe.seed)
    model = build_gpt(**dataclasses.asdict(config))
    optimizer = make_optimizer(
        recipe.learning_rate,
        total_steps=recipe.steps,
        warmup_steps=max(1, recipe.steps // 10),
        min_learning_rate=recipe.learning_rate / 10,
    )
    compile_for_pretraining(model, optimizer)
    data = make_next_token_dataset(
        train_ids, config.context_length, recipe.batch_size, seed=recipe.seed,
        repeat=True,
    )
    history = model.fit(data, steps_per_epoch=recipe.steps, epochs=1, verbose=0)
    return model, history.history


def main(argv=None) -> int:
    """Train, sample, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=Recipe.steps)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args(argv)
    recipe = Recipe(steps=args.steps)
    train, held_out = music.split_chorales(music.load_chorales())
    train_melodies = [c.melody for c in train]
    held_melodies = [c.melody for c in held_out]
    train_ids = music.melodies_to_ids(train_melodies)
    held_ids = music.melodies_to_ids(held_melodies)
    print(f"{len(train)} training chorales ({len(train_ids)} tokens), "
          f"{len(held_out)} held out ({len(held_ids)} tokens)")
    start = time.perf_counter()
    model, history = train_melody_gpt(train_ids, recipe)
    print(f"trained {recipe.steps} steps in {time.perf_counter() - start:.0f} s, "
          f"training loss averaged over the run {history['loss'][-1]:.3f}")
    x, y = mm.next_token_windows(held_ids, MELODY_GPT.context_length)
    bigram = mm.BigramModel(train_ids)
    print(f"held-out loss, nats/token on the same {y.size} targets: "
          f"GPT {mm.model_nll(model, x, y):.3f}, add-one bigram {bigram.nll(x, y):.3f}")
    samples, ill_formed = music.sample_melodies(model, args.samples, seed=recipe.seed)
    print(f"{len(samples)} of {args.samples} samples hold notes; "
          f"{ill_formed} ill-formed tokens skipped")
    print(f"in-key share: samples {mm.in_key_share(samples):.3f}, "
          f"held-out real {mm.in_key_share(held_melodies):.3f}")
    for name, hist in (("pitch", mm.pitch_histogram),
                       ("interval", mm.interval_histogram)):
        real = hist(held_melodies)
        print(f"{name} histogram, total variation from held-out real: samples "
              f"{mm.total_variation(hist(samples), real):.3f}, training "
              f"chorales {mm.total_variation(hist(train_melodies), real):.3f}")
    index = mm.CopyIndex(train_melodies)
    copied = [index.longest_run(m) for m in samples]
    real = [index.longest_run(m) for m in held_melodies]
    print(f"longest run of notes found in training: samples median "
          f"{np.median(copied):.0f}, max {max(copied)} (mean length "
          f"{np.mean([len(m) for m in samples]):.0f} notes); held-out real median "
          f"{np.median(real):.0f}, max {max(real)} (mean length "
          f"{np.mean([len(m) for m in held_melodies]):.0f} notes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
