"""Business intelligence: the analyst that writes code, against its baselines.

The shipped analyst (``data/pretrained/sales-analyst``, built by
``tools/train_analyst.py``) turns a question about a sales table into one
query of :mod:`keras_gen.summaries.queries`; the evaluator runs it. On the
100 held-out tables of ``benchmarks/table_summaries.py`` (seed 1) this
prints:

1. answer accuracy against the truth computed by code, on held-out
   phrasings, the held-out kind and trained phrasings: the analyst (its
   written query, then the constrained retry), its written queries alone,
   and the keyword baseline (:mod:`keras_gen.summaries.keywords`); then per
   kind on the held-out phrasings and the held-out kind;
2. how often each route was taken (written, constrained retry, "I could not
   compute that");
3. summaries of the 100 tables built from the answers to fixed questions
   (:func:`keras_gen.summaries.analyst.code_summaries`), fact-checked
   (:mod:`keras_gen.summaries.factcheck`) beside the endpoints template
   (measured here) and the direct writer (quoted from
   ``benchmarks/table_summaries.py``'s section of ``benchmarks/RESULTS.md``,
   not re-run: it fine-tunes for minutes);
4. scaling: held-out-phrasing accuracy against fine-tuning steps (fresh
   fine-tunes for each ``--scaling-steps``, the shipped model as the last
   point), the keyword baseline as a line; the figure is written atomically
   to ``--plot``.

Usage:
    PYTHONPATH=. .venv/bin/python benchmarks/analyst.py
        [--part all|answers|summaries|scaling] [--scaling-steps 40 100]
        [--plot benchmarks/analyst_scaling.png] [--quick]

(``--part`` runs one part alone, e.g. side by side on two cores.)
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "tools"))

from train_analyst import finetune_analyst  # noqa: E402

from keras_gen._files import replacing  # noqa: E402
from keras_gen.env import build_record  # noqa: E402
from keras_gen.summaries import evaluation, factcheck, tables  # noqa: E402
from keras_gen.summaries.analyst import code_summaries, load_analyst  # noqa: E402
from keras_gen.summaries.keywords import KeywordBaseline  # noqa: E402

#: benchmarks/table_summaries.py's fine-tuned direct writer, facts right on the
#: same 100 tables (benchmarks/RESULTS.md; not re-run here).
DIRECT_WRITER_FACTS = 0.324


def plot_scaling(points, baseline, path):
    """Accuracy against steps, the baseline as a horizontal line; atomic write."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s for s, _ in points]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(steps, [100 * a for _, a in points], "o-", label="analyst (fine-tuned GPT)")
    ax.axhline(100 * baseline, color="gray", ls="--", label="keyword baseline")
    ax.set_xlabel("fine-tuning steps (batch 32)")
    ax.set_ylabel("held-out phrasings, % right")
    ax.set_ylim(0, 100)
    ax.legend(loc="lower right")
    ax.set_title("What fine-tuning steps buy")
    fig.tight_layout()
    with replacing(path, suffix=".png") as partial:
        fig.savefig(partial, dpi=100, format="png")
    plt.close(fig)
    return path


def scaling(step_list, plot_path, sets, baseline) -> None:
    """Fresh fine-tunes for each step count, then the shipped model; the plot."""
    phrasings = sets["phrasings"]
    points = []
    for steps in sorted(step_list):
        fresh, tok, seconds, _, _ = finetune_analyst(steps)
        values, _ = evaluation.analyst_values(fresh, tok, phrasings)
        accuracy = evaluation.score(values, phrasings)["accuracy"]
        points.append((steps, accuracy))
        print(f"scaling: {steps:4d} steps ({seconds:.0f} s) {accuracy:6.1%}",
              flush=True)
    shipped = load_analyst()  # loaded last: it may still be training meanwhile
    values, _ = evaluation.analyst_values(shipped.model, shipped.tokenizer,
                                          phrasings)
    points.append((shipped.card["steps"], evaluation.score(values, phrasings)[
        "accuracy"]))
    print(f"scaling: {shipped.card['steps']:4d} steps (shipped) {points[-1][1]:6.1%}")
    line = evaluation.score(evaluation.baseline_values(baseline, phrasings),
                            phrasings)["accuracy"]
    print(f"scaling: keyword baseline {line:6.1%}; figure "
          f"{plot_scaling(points, line, plot_path)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaling-steps", type=int, nargs="*", default=[40, 100])
    parser.add_argument("--plot", default="benchmarks/analyst_scaling.png")
    parser.add_argument("--part", choices=("all", "answers", "summaries", "scaling"),
                        default="all",
                        help="answers (1-2), summaries (3), scaling (4), or all")
    parser.add_argument("--quick", action="store_true",
                        help="5%% of the questions, 10 tables, no scaling runs")
    args = parser.parse_args(argv)
    scale = 0.05 if args.quick else 1.0
    baseline = KeywordBaseline(evaluation.training_questions())
    sets = evaluation.held_out_sets(scale)
    print(build_record()["machine"], flush=True)
    if args.part in ("all", "answers"):
        answers(sets, baseline)
    if args.part in ("all", "summaries"):
        shipped = load_analyst()
        summaries(shipped.model, shipped.tokenizer, args.quick)
    if args.part in ("all", "scaling") and not args.quick and args.scaling_steps:
        scaling(args.scaling_steps, args.plot, sets, baseline)
    return 0


def answers(sets, baseline) -> None:
    """Parts 1-2: answer accuracy by split and kind, and the routes taken."""
    shipped = load_analyst()
    model, tokenizer = shipped.model, shipped.tokenizer
    print(f"shipped analyst: {shipped.card['steps']} steps; held-out tables: "
          f"make_tables(100, seed=1)")
    print(f"{'questions':22s} {'n':>4s} {'analyst':>8s} {'written':>8s} "
          f"{'keywords':>8s}")
    routes = {}
    detail = {}
    for split, questions in sets.items():
        values, given = evaluation.analyst_values(model, tokenizer, questions)
        written = [a.value if a.route == "written" else None for a in given]
        ours = evaluation.score(values, questions)
        mine = evaluation.score(written, questions)
        theirs = evaluation.score(evaluation.baseline_values(baseline, questions),
                                  questions)
        detail[split] = (ours, theirs)
        for route, n in evaluation.route_counts(given).items():
            routes[route] = routes.get(route, 0) + n
        print(f"{split:22s} {len(questions):4d} {ours['accuracy']:8.1%} "
              f"{mine['accuracy']:8.1%} {theirs['accuracy']:8.1%}", flush=True)
    for split in ("phrasings", "kind"):
        ours, theirs = detail[split]
        print(f"by kind, held-out {split} (analyst / keywords):")
        for kind, (right, n) in ours["by_kind"].items():
            other = theirs["by_kind"][kind][0]
            print(f"  {kind:16s} {right:3d}/{n:3d} {right / n:6.1%}   "
                  f"{other:3d}/{n:3d} {other / n:6.1%}")
    print(f"answers by route: {routes}")


def summaries(model, tokenizer, quick: bool) -> None:
    """Part 3: summaries from executed queries, fact-checked, and their routes."""
    routes = {}
    test_tables = tables.make_tables(10 if quick else 100, seed=1)
    texts, given = code_summaries(model, tokenizer, test_tables)
    for per_table in given:
        for answer in per_table.values():
            routes[answer.route] = routes.get(answer.route, 0) + 1
    ours = factcheck.score_summaries(texts, test_tables)
    ends = factcheck.score_summaries(
        [tables.endpoints_summary(t) for t in test_tables], test_tables
    )
    print(f"the summaries' {sum(len(a) for a in given)} answers by route: "
          f"{routes}")
    print(f"summaries of {len(test_tables)} held-out tables: facts right / all "
          "right / complete")
    print(f"  from executed queries   {ours['fact_accuracy']:6.1%} "
          f"{ours['all_right']:6.1%} {ours['complete']:6.1%}")
    print(f"  endpoints template      {ends['fact_accuracy']:6.1%} "
          f"{ends['all_right']:6.1%} {ends['complete']:6.1%}")
    print(f"  direct writer (quoted)  {DIRECT_WRITER_FACTS:6.1%}")
    print(f"  example: {texts[0]}")


if __name__ == "__main__":
    sys.exit(main())
