"""Help-desk retrieval with the trained retriever: TF-IDF, encoder, fused.

Scores three retrievers on the 238 held-out questions of
``data/helpdesk/questions.tsv`` and on the development queries the settings
were chosen on (:func:`keras_gen.helpdesk.pairs.dev_queries`, made from help
sentences held out of training):

  * TF-IDF of character 3-5-grams (the baseline);
  * the shipped retriever (``data/pretrained/helpdesk-retriever``): the
    GPT body fine-tuned with InfoNCE, alone;
  * both fused (standardised scores summed, the encoder's weight from the
    card, chosen on the development queries).

Prints top-1 and top-3 overall and by kind of question, then the scaling
curve: held-out top-1 against fine-tuning steps, as the training command
measured it at its checkpoints (the card's ``scaling_curve``; a run of ``n``
steps is the first ``n`` steps of the shipped run: constant learning rate
after the warm-up), with the shipped point re-measured here, and writes it as
a PNG (TF-IDF drawn as a horizontal line). Same sections, same model: same
numbers on any machine.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/helpdesk_retriever.py
        [--model data/pretrained/helpdesk-retriever] [--png PATH]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_gen.helpdesk.encoder import RETRIEVER_DIR, load_retriever  # noqa: E402
from keras_gen.helpdesk.pairs import dev_queries  # noqa: E402
from keras_gen.helpdesk.retriever import as_questions, fused_index  # noqa: E402
from keras_gen.helpdesk.sections import (  # noqa: E402
    QUESTION_KINDS,
    evaluate_retrieval,
    load_questions,
    unique_sections,
)
from keras_gen.retrieval import HelpIndex, TfidfEncoder  # noqa: E402

DEFAULT_PNG = os.path.join("benchmarks", "helpdesk_retriever_scaling.png")


def retrieval_table(indexes, questions, dev) -> dict:
    """``{name: {"top1", "top3", "dev_top1", kind: (top1, top3)}}``."""
    table = {}
    for name, index in indexes.items():
        row = evaluate_retrieval(index, questions)
        row["dev_top1"] = evaluate_retrieval(index, dev, ks=(1,))["top1"]
        for kind in QUESTION_KINDS:
            some = [q for q in questions if q.kind == kind]
            scored = evaluate_retrieval(index, some)
            row[kind] = (scored["top1"], scored["top3"])
        table[name] = row
    return table


def print_table(table, questions) -> None:
    counts = {k: sum(q.kind == k for q in questions) for k in QUESTION_KINDS}
    width = max(len(n) for n in table) + 2
    kinds = "".join(f"{f'{k} ({counts[k]})':>20}" for k in QUESTION_KINDS)
    print(f"{'':<{width}}{'held-out':>14}{'dev':>7}{kinds}")
    print(f"{'retriever':<{width}}{'top-1':>7}{'top-3':>7}{'top-1':>7}"
          + "".join(f"{'top-1 / top-3':>20}" for _ in QUESTION_KINDS))
    for name, row in table.items():
        cells = "".join(f"{f'{row[k][0]:.1%} / {row[k][1]:.1%}':>20}"
                        for k in QUESTION_KINDS)
        print(f"{name:<{width}}{row['top1']:>7.1%}{row['top3']:>7.1%}"
              f"{row['dev_top1']:>7.1%}{cells}")


def scaling_png(curve, tfidf_top1, path) -> str:
    """Held-out top-1 against steps, TF-IDF as a line; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gen._files import replacing

    steps = sorted(curve)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(steps, [curve[s] * 100 for s in steps], "o-",
            label="trained encoder alone")
    ax.axhline(tfidf_top1 * 100, color="gray", linestyle="--",
               label="TF-IDF (no training)")
    ax.set_xlabel("fine-tuning steps (batch 32)")
    ax.set_ylabel("top-1 on held-out questions (%)")
    ax.set_title("What training buys the help desk's retriever")
    ax.legend(loc="lower right")
    fig.tight_layout()
    with replacing(path, suffix=".png") as partial:  # never half a PNG
        fig.savefig(partial, dpi=120, format="png")
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=RETRIEVER_DIR)
    parser.add_argument("--png", default=DEFAULT_PNG)
    args = parser.parse_args()
    sections = unique_sections()
    questions = load_questions()
    encoder = load_retriever(args.model)
    card = encoder.card
    dev = as_questions(dev_queries(sections, card["seed"]))
    print(f"{len(sections)} sections; {len(questions)} held-out questions; "
          f"{len(dev)} development queries")
    print(f"retriever: {os.path.relpath(args.model)} ({card['command']}; "
          f"{card['steps']} steps, {card['train_seconds']:.0f} s)")
    print(f"fusion weight {card['fusion_weight']} (encoder) chosen on the "
          f"development queries: {card['dev_top1_by_weight']}\n")
    tfidf = HelpIndex(sections, TfidfEncoder())
    indexes = {
        "TF-IDF, char 3-5-grams": tfidf,
        "trained encoder alone": HelpIndex(sections, encoder),
        f"fused (encoder weight {card['fusion_weight']})": fused_index(
            sections, encoder, tfidf=tfidf),
    }
    table = retrieval_table(indexes, questions, dev)
    print_table(table, questions)

    curve = {int(k): v["held_out_top1"] for k, v in card["scaling_curve"].items()}
    shipped = table["trained encoder alone"]["top1"]
    curve[card["steps"]] = shipped  # the shipped point, re-measured here
    tfidf_top1 = table["TF-IDF, char 3-5-grams"]["top1"]
    print("\nscaling: held-out top-1 of the encoder alone against fine-tuning "
          "steps\n(checkpoints of the training run, from the card; the last, "
          "shipped point re-measured now)")
    print(f"{'steps':>6}{'encoder':>9}{'TF-IDF':>8}")
    for steps in sorted(curve):
        print(f"{steps:>6}{curve[steps]:>9.1%}{tfidf_top1:>8.1%}")
    print(f"\nwrote {scaling_png(curve, tfidf_top1, args.png)}")


if __name__ == "__main__":
    main()
