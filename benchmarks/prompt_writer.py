"""Notebook 11, section 5's headline numbers: the shipped GPT writes captions.

    PYTHONPATH=. .venv/bin/python benchmarks/prompt_writer.py [--steps 48]

Fine-tunes the shipped character-level GPT on the training requests of
keras_gen.text_to_image.wishes (as the notebook does, full mode) and scores four
writers on
the 18 held-out requests: the GPT before and after fine-tuning, the TF-IDF
nearest-request baseline, and the fine-tuned GPT choosing among the 40
captions (Exercise 11.4). Prints the seconds per fine-tuning step.
"""

from __future__ import annotations

import argparse
import time

import keras

from keras_gen.pretrained import load_pretrained
from keras_gen.text_to_image import wishes
from solutions.nb11_prompt_writer import choose_captions


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"Expected --steps >= 1. Received: {args.steps}")
    keras.utils.set_random_seed(args.seed)
    pretrained = load_pretrained()
    model, tokenizer = pretrained.model, pretrained.tokenizer
    held_out = wishes.split_requests("held_out")
    requests = [request for request, _ in held_out]
    intents = [name for _, name in held_out]
    rows = {
        "GPT, not fine-tuned": wishes.score_captions(
            wishes.write_captions(model, tokenizer, requests), intents
        )
    }
    start = time.perf_counter()
    history, pairs = wishes.finetune_writer(
        model, tokenizer, args.steps, seed=args.seed
    )
    seconds = time.perf_counter() - start
    rows["GPT, fine-tuned"] = wishes.score_captions(
        wishes.write_captions(model, tokenizer, requests), intents
    )
    rows["GPT, fine-tuned, choosing"] = wishes.score_captions(
        choose_captions(model, tokenizer, requests), intents
    )
    rows["TF-IDF nearest request"] = wishes.score_captions(
        wishes.nearest_request_captions(pairs, requests), intents
    )
    print(
        f"fine-tuning: {args.steps} steps in {seconds:.1f} s "
        f"({seconds / args.steps:.2f} s/step, compilation included), "
        f"mean caption loss over the run {history.history['loss'][-1]:.3f}"
    )
    print(f"{'writer (18 held-out requests)':<32} parses  class  attrs    all")
    for name, row in rows.items():
        print(
            f"{name:<32} {row['parses']:>6.0%} {row['class_ok']:>6.0%} "
            f"{row['attributes_ok']:>6.0%} {row['all_ok']:>6.0%}"
        )
    return rows


if __name__ == "__main__":
    main()
