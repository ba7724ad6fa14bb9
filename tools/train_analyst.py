"""Fine-tune the shipped GPT into the sales analyst (question -> one query).

Writes ``data/pretrained/sales-analyst`` (``make pretrained`` runs it).

Training data: :func:`keras_gen.summaries.evaluation.training_questions`,
6,000 synthetic questions on 500 tables (seed 0) in the trained templates of
the trained kinds (:mod:`keras_gen.summaries.questions`), each paired with
the query that answers it. Fine-tuning:
:func:`keras_gen.finetune.finetune_lm` (loss on the query only) from the
shipped ``pydoc-char-gpt``. Then the analyst answers the held-out sets
(:func:`keras_gen.summaries.evaluation.held_out_sets`: held-out phrasings,
the held-out kind, trained phrasings, all on the 100 held-out tables), with
and without the constrained retry, beside the keyword baseline; the card
records them all, plus the accuracy on the first :data:`CHECK_QUESTIONS`
held-out-phrasing questions, which ``tests/test_analyst_shipped.py``
re-measures on the shipped model.

The output folder is replaced atomically (:func:`keras_gen.pretrained.save_pretrained`).

Usage:
    PYTHONPATH=. .venv/bin/python tools/train_analyst.py [--steps 300]
        [--out data/pretrained/sales-analyst] [--quick]
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from _common import card_command, parse_training_args, training_parser  # noqa: E402

from keras_gen.env import build_record  # noqa: E402
from keras_gen.finetune import (  # noqa: E402
    copy_backbone,
    finetune_lm,
    prompt_completion_arrays,
)
from keras_gen.pretrained import REQUIRED_FILES, load_pretrained, save_pretrained  # noqa: E402
from keras_gen.summaries import evaluation  # noqa: E402
from keras_gen.summaries.analyst import ANALYST_MODEL_DIR, training_pairs  # noqa: E402
from keras_gen.summaries.keywords import KeywordBaseline  # noqa: E402

STEPS, BATCH_SIZE, LEARNING_RATE = 300, 32, 1e-3
#: Held-out-phrasing questions the shipped model is re-measured on by the tests.
CHECK_QUESTIONS = 60


def finetune_analyst(steps: int, seed: int = 0, learning_rate: float = LEARNING_RATE,
                     questions: int = evaluation.TRAIN_QUESTIONS):
    """``(model, tokenizer, seconds, loss curve)``: a fresh analyst, fine-tuned."""
    base = load_pretrained()
    tokenizer = base.tokenizer
    pairs = training_pairs(evaluation.training_questions(questions, seed))
    length = max(len(tokenizer.encode(p + c)) for p, c in pairs) - 1
    x, y, w = prompt_completion_arrays(tokenizer, pairs, length)
    model = copy_backbone(base.model)
    log_every = min(50, steps)
    start = time.perf_counter()
    history = finetune_lm(model, x, y, w, steps=steps, batch_size=BATCH_SIZE,
                          learning_rate=learning_rate, seed=seed,
                          log_every=log_every)
    seconds = time.perf_counter() - start
    curve = [round(float(v), 4) for v in history.history["loss"]]
    return model, tokenizer, seconds, curve, base.card


def measure(model, tokenizer, sets, baseline) -> dict:
    """Accuracy of the analyst (with and without retry) and the baseline per set."""
    results = {}
    for split, questions in sets.items():
        values, answers = evaluation.analyst_values(model, tokenizer, questions)
        written = [a.value if a.route == "written" else None for a in answers]
        results[split] = {
            "questions": len(questions),
            "analyst": round(evaluation.score(values, questions)["accuracy"], 4),
            "written_only": round(evaluation.score(written, questions)["accuracy"], 4),
            "keyword_baseline": round(evaluation.score(
                evaluation.baseline_values(baseline, questions), questions
            )["accuracy"], 4),
            "routes": evaluation.route_counts(answers),
        }
        print(split, results[split], flush=True)
    return results


def main(argv=None) -> int:
    """Fine-tune, measure, save; print the card's numbers."""
    parser = training_parser(
        __doc__.splitlines()[0], steps=STEPS, out=ANALYST_MODEL_DIR, quick_steps=4,
        quick_help="4 steps, 2% of the held-out questions: checks the script only",
    )
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    args = parse_training_args(parser, argv, allowed_files=REQUIRED_FILES)
    model, tokenizer, seconds, curve, base_card = finetune_analyst(
        args.steps, args.seed, args.learning_rate
    )
    print(f"{args.steps} steps in {seconds:.0f} s; loss {curve}", flush=True)
    baseline = KeywordBaseline(evaluation.training_questions(seed=args.seed))
    sets = evaluation.held_out_sets(0.02 if args.quick else 1.0)
    results = measure(model, tokenizer, sets, baseline)
    check_questions = evaluation.held_out_sets()["phrasings"][:CHECK_QUESTIONS]
    values, _ = evaluation.analyst_values(model, tokenizer, check_questions)
    check = evaluation.score(values, check_questions)["accuracy"]
    card = {
        "name": "sales-analyst",
        "description": (
            "pydoc-char-gpt fine-tuned (query-only loss) to turn a question about "
            "a sales table into one query of keras_gen.summaries.queries; the "
            "evaluator runs it and the answer comes from the run."
        ),
        "base_model": "pydoc-char-gpt",
        "command": card_command("tools/train_analyst.py", argv),
        "steps": args.steps,
        "batch_size": BATCH_SIZE,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "training_questions": evaluation.TRAIN_QUESTIONS,
        "training_tables": evaluation.TRAIN_TABLES,
        "train_loss_curve": curve,
        "train_seconds": round(seconds, 1),
        "held_out_tables": "make_tables(100, seed=1)",
        "held_out": results,
        "check_questions": CHECK_QUESTIONS,
        "check_accuracy": round(check, 4),
        "model": dict(base_card["model"]),
        **build_record(),
    }
    save_pretrained(args.out, model, tokenizer, card)
    print(f"check accuracy on {CHECK_QUESTIONS} questions: {check:.4f}")
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
