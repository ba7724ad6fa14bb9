"""Fine-tune the shipped GPT's body into the help desk's retriever.

Writes ``data/pretrained/helpdesk-retriever`` (``make pretrained`` runs it).

Training data: :func:`keras_gen.helpdesk.pairs.training_queries`, (query,
section) pairs made from the help sections only; the held-out questions of
``data/helpdesk/questions.tsv`` are passed as ``exclude`` (no rule may write
one by chance) and used for nothing else until the end. Training:
:func:`keras_gen.helpdesk.retriever.train_retriever` (InfoNCE with in-batch
negatives, the top block(s), pooling and projection trained; the embedding and
lower blocks frozen) from the shipped ``pydoc-char-gpt``.

Settings are chosen on the development queries
(:func:`keras_gen.helpdesk.pairs.dev_queries`, sentences held out from
training, written by a rule training never uses), never on the held-out
questions: after training, the TF-IDF + encoder fusion weight that scores best
on them is written to the card (``fusion_weight``; ties go to the smaller
weight). Then the held-out questions are scored once, at each step count of
``--curve`` (the run's checkpoints: with a constant learning rate after the
warm-up, the first ``n`` steps of a run are a run of ``n`` steps) for the
scaling curve in the card, and at the end for the card's metrics. The card
also records the encoder's vectors of :data:`CHECK_QUESTIONS` questions'
top-1 on the held-out set, which ``tests/test_helpdesk_retriever.py``
re-measures on the shipped folder.

The output folder is replaced atomically
(:func:`keras_gen.helpdesk.encoder.save_retriever`).

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_helpdesk_retriever.py [--steps 200]
        [--out data/pretrained/helpdesk-retriever] [--quick]
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from _common import card_command, parse_training_args, training_parser  # noqa: E402

from keras_gen.env import build_record  # noqa: E402
from keras_gen.finetune import copy_backbone  # noqa: E402
from keras_gen.helpdesk.encoder import (  # noqa: E402
    DOCUMENT_CHARS,
    QUERY_CHARS,
    RETRIEVER_DIR,
    SentenceEncoder,
    TrainedEncoder,
    save_retriever,
)
from keras_gen.helpdesk.pairs import dev_queries, training_queries  # noqa: E402
from keras_gen.helpdesk.retriever import (  # noqa: E402
    as_questions,
    choose_weight,
    fused_index,
    train_retriever,
)
from keras_gen.helpdesk.sections import (  # noqa: E402
    evaluate_retrieval,
    load_questions,
    unique_sections,
)
from keras_gen.model_folder import FOLDER_FILES  # noqa: E402
from keras_gen.pretrained import load_pretrained  # noqa: E402
from keras_gen.retrieval import HelpIndex, TfidfEncoder  # noqa: E402
from keras_gen.training import Recipe  # noqa: E402

BATCH_SIZE = 32
LEARNING_RATE = 5e-4
TRAINABLE_BLOCKS = 1
PROJECTION_DIM = 128
QUERIES_PER_SECTION = 12
#: Held-out questions whose top-1 the tests re-measure on the shipped folder.
CHECK_QUESTIONS = 60


def _round(metrics: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def main(argv=None) -> int:
    """Train, choose the fusion weight on dev queries, measure, save."""
    parser = training_parser(__doc__.splitlines()[0], steps=200, out=RETRIEVER_DIR,
                             quick_steps=4, quick_help="4 steps: checks the script")
    parser.add_argument("--curve", default="50,100",
                        help="step counts, below --steps, measured for the "
                             "scaling curve (comma-separated)")
    args = parse_training_args(parser, argv, allowed_files=FOLDER_FILES)
    steps = args.steps
    curve_at = sorted({int(s) for s in args.curve.split(",") if s.strip()
                       and 0 < int(s) < steps} | {steps})
    base = load_pretrained()
    sections = unique_sections()
    held_out = load_questions()
    pairs = training_queries(sections, QUERIES_PER_SECTION, args.seed,
                             exclude=[q.question for q in held_out])
    dev = as_questions(dev_queries(sections, args.seed))
    print(f"{len(pairs)} training pairs, {len(dev)} development queries, "
          f"{len(held_out)} held-out questions", flush=True)
    tfidf = HelpIndex(sections, TfidfEncoder())
    keras.utils.set_random_seed(args.seed)  # the projection's initial weights
    model = SentenceEncoder(copy_backbone(base.model), PROJECTION_DIM,
                            trainable_blocks=TRAINABLE_BLOCKS)
    curve = {}

    class Measure(keras.callbacks.Callback):
        """Held-out top-1 at each step count of the curve (measured, not used)."""

        def __init__(self):
            super().__init__()
            self.done = 0

        def on_train_batch_end(self, batch, logs=None):
            self.done += 1
            if self.done in curve_at:
                index = HelpIndex(sections, TrainedEncoder(self.model, base.tokenizer))
                curve[self.done] = {"held_out_top1": round(
                    evaluate_retrieval(index, held_out)["top1"], 4)}
                print(f"step {self.done}: {curve[self.done]}", flush=True)

    untrained = HelpIndex(sections, TrainedEncoder(model, base.tokenizer))
    curve[0] = {"held_out_top1": round(
        evaluate_retrieval(untrained, held_out)["top1"], 4)}
    print(f"step 0: {curve[0]}", flush=True)
    recipe = Recipe(steps=steps, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                    min_learning_rate=LEARNING_RATE, warmup_steps=20)
    start = time.perf_counter()
    history = train_retriever(
        model, base.tokenizer, pairs, {s.id: s.document for s in sections},
        steps=steps, batch_size=BATCH_SIZE, recipe=recipe, seed=args.seed,
        log_every=min(50, steps), callbacks=[Measure()],
    )
    seconds = time.perf_counter() - start
    losses = [round(float(v), 4) for v in history.history["loss"]]
    print(f"{steps} steps in {seconds:.0f} s (with the curve's measurements); "
          f"loss every 50 steps {losses}", flush=True)

    encoder = TrainedEncoder(model, base.tokenizer)
    weight, by_weight = choose_weight(sections, encoder, dev, tfidf)
    print(f"fusion weight chosen on the development queries: {weight} "
          f"(dev top-1 by weight {by_weight})", flush=True)
    results = {
        "tfidf": evaluate_retrieval(tfidf, held_out),
        "encoder": evaluate_retrieval(HelpIndex(sections, encoder), held_out),
        "fused": evaluate_retrieval(fused_index(sections, encoder, weight, tfidf),
                                    held_out),
    }
    check = evaluate_retrieval(HelpIndex(sections, encoder),
                               held_out[:CHECK_QUESTIONS])
    for name, row in results.items():
        print(f"held-out {name}: {_round(row)}", flush=True)
    card = {
        "name": "helpdesk-retriever",
        "description": (
            "pydoc-char-gpt's body fine-tuned as a sentence encoder (mean pooling,"
            " a projection, symmetric InfoNCE with in-batch negatives) on "
            "(query, section) pairs made from CPython's pydoc_data help sections"
            " only; fused with TF-IDF (char 3-5-grams) for retrieval."
        ),
        "base_model": "pydoc-char-gpt",
        "command": card_command("tools/train_helpdesk_retriever.py", argv),
        "steps": steps,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "trainable_blocks": TRAINABLE_BLOCKS,
        "projection_dim": PROJECTION_DIM,
        "query_chars": QUERY_CHARS,
        "document_chars": DOCUMENT_CHARS,
        "seed": args.seed,
        "training_pairs": len(pairs),
        "dev_queries": len(dev),
        "temperature": round(float(1 / keras.ops.convert_to_numpy(model.scale)), 4),
        "train_loss_curve": losses,
        "train_loss_every": min(50, steps),
        "train_seconds": round(seconds, 1),
        "fusion_weight": weight,
        "fusion_weight_chosen_on": "development queries (pairs.dev_queries)",
        "dev_top1_by_weight": by_weight,
        "held_out_questions": "data/helpdesk/questions.tsv",
        "held_out": {k: _round(v) for k, v in results.items()},
        "scaling_curve": {str(k): v for k, v in sorted(curve.items())},
        "scaling_curve_note": (
            "held-out top-1 of the encoder alone after n steps: checkpoints of "
            "this run (constant learning rate after a 20-step warm-up)"),
        "check_questions": CHECK_QUESTIONS,
        "check_encoder_top1": round(check["top1"], 4),
        **build_record(),
    }
    save_retriever(args.out, model, base.tokenizer, card)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
