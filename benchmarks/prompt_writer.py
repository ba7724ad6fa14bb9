"""Notebook 12, section 5's headline numbers: the shipped GPT writes captions.

    PYTHONPATH=. .venv/bin/python benchmarks/prompt_writer.py [--steps 150]

Fine-tunes the shipped character-level GPT on the training requests of
keras_gen.text_to_image.wishes (hand-written phrasings and sentence frames,
as the notebook does in full mode) and scores three writers on the same 234
held-out requests (18 hand-written phrasings and 216 requests in the four
held-out sentence frames): the fine-tuned GPT writing freely (greedy), the
fine-tuned GPT choosing among the valid captions (constrained decoding,
wishes.choose_captions), and the TF-IDF nearest-request baseline. Prints the
seconds per fine-tuning step.

``--validation`` trains on the "fit" split and scores the "validation"
frames instead: the data the settings (steps) were chosen on. The held-out
requests are never used to choose anything.
"""

from __future__ import annotations

import argparse
import time

import keras

from keras_gen.pretrained import load_pretrained
from keras_gen.text_to_image import wishes

#: Fine-tuning steps, chosen on the validation frames (``--validation``).
DEFAULT_STEPS = 150


def _score(writer, requests, intents, subsets):
    """``{subset: score}`` of one writer's captions."""
    outputs = writer(requests)
    return {
        name: wishes.score_captions(
            [outputs[i] for i in index], [intents[i] for i in index]
        )
        for name, index in subsets.items()
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--per-request", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation", action="store_true")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"Expected --steps >= 1. Received: {args.steps}")
    keras.utils.set_random_seed(args.seed)
    pretrained = load_pretrained()
    model, tokenizer = pretrained.model, pretrained.tokenizer
    train_split, test_split = (
        ("fit", "validation") if args.validation else ("train", "held_out")
    )
    test = wishes.split_requests(test_split)
    requests = [request for request, _ in test]
    intents = [name for _, name in test]
    written = {r for r, _ in wishes.split_requests(test_split, "written")}
    subsets = {
        f"all {len(test)}": range(len(test)),
        **{
            f"{label} {len(index)}": index
            for label, index in (
                ("hand-written", [i for i, r in enumerate(requests) if r in written]),
                ("framed", [i for i, r in enumerate(requests) if r not in written]),
            )
            if index
        },
    }
    start = time.perf_counter()
    history, pairs = wishes.finetune_writer(
        model,
        tokenizer,
        args.steps,
        per_request=args.per_request,
        seed=args.seed,
        log_every=max(1, args.steps // 4),
        split=train_split,
    )
    seconds = time.perf_counter() - start
    rows = {
        "GPT, fine-tuned, writing": _score(
            lambda r: wishes.write_captions(model, tokenizer, r),
            requests,
            intents,
            subsets,
        ),
        "GPT, fine-tuned, choosing": _score(
            lambda r: wishes.choose_captions(model, tokenizer, r),
            requests,
            intents,
            subsets,
        ),
        "TF-IDF nearest request": _score(
            lambda r: wishes.nearest_request_captions(pairs, r),
            requests,
            intents,
            subsets,
        ),
    }
    print(
        f"fine-tuning on {len(pairs)} pairs ({train_split!r} requests): "
        f"{args.steps} steps in {seconds:.1f} s "
        f"({seconds / args.steps:.2f} s/step, compilation included), "
        f"mean caption loss of the last {max(1, args.steps // 4)} steps "
        f"{history.history['loss'][-1]:.3f}"
    )
    print(f"scored on the {test_split!r} requests; share with all three right:")
    print(f"{'writer':<28}" + "".join(f"{name:>16}" for name in subsets))
    for name, row in rows.items():
        print(
            f"{name:<28}"
            + "".join(f"{row[subset]['all_ok']:>16.1%}" for subset in subsets)
        )
    return rows


if __name__ == "__main__":
    main()
