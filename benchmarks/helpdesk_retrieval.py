"""Help-desk retrieval: TF-IDF against the shipped GPT's body and an untrained one.

Indexes the help sections
(:func:`keras_gen.helpdesk.sections.unique_sections`: CPython's
``pydoc_data`` topics, one copy of each text) and answers each held-out
question of ``data/helpdesk/questions.tsv`` with the closest sections
(cosine similarity). Prints top-1 and top-3 accuracy (a hit when the
question's topic or its listed alternative is among the first 1 or 3), for:

  * TF-IDF of character 3-5-grams inside words, and of words (NumPy);
  * the shipped GPT's body, mean-pooled over each text's characters, raw and
    centred (the documents' mean vector subtracted);
  * the same architecture, untrained (seed 0), raw and centred;
  * chance: k / number of sections.

then top-1 by question kind (keyword, paraphrase, no keyword, typo). The
numbers do not depend on the machine's speed: same Python minor version, same
sections, same numbers. Encoding the sections with a GPT takes a minute or
two per model on a 2-core CPU.

Usage:
    .venv/bin/python benchmarks/helpdesk_retrieval.py [--max-chars 512]
    .venv/bin/python benchmarks/helpdesk_retrieval.py --quick  # TF-IDF only
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_gen.helpdesk.sections import (  # noqa: E402
    QUESTION_KINDS,
    evaluate_retrieval,
    load_questions,
    unique_sections,
)
from keras_gen.retrieval import (  # noqa: E402
    GPTEncoder,
    HelpIndex,
    TfidfEncoder,
    untrained_copy,
)


class _Precomputed:
    """GPTEncoder's fit/encode on pooled vectors computed once per model.

    Raw and centred vectors come from the same pooled states, so the GPT
    runs over the sections and questions once per model, not once per row.
    """

    def __init__(self, encoder: GPTEncoder, texts, center: bool):
        self.table = dict(zip(texts, encoder.pooled(list(texts)), strict=True))
        self.center = center
        self.mean = None

    def with_center(self, center: bool) -> _Precomputed:
        copy = object.__new__(_Precomputed)
        copy.table, copy.center, copy.mean = self.table, center, None
        return copy

    def fit(self, documents):
        self.mean = np.mean([self.table[d] for d in documents], axis=0)
        return self

    def encode(self, texts):
        vectors = np.stack([self.table[t] for t in texts])
        if self.center:
            vectors = vectors - self.mean
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-chars", type=int, default=512,
                        help="characters of each text the GPT reads")
    parser.add_argument("--quick", action="store_true", help="TF-IDF rows only")
    args = parser.parse_args()

    sections = unique_sections()
    questions = load_questions()
    texts = [s.document for s in sections] + [q.question for q in questions]
    counts = ", ".join(
        f"{k}: {sum(q.kind == k for q in questions)}" for k in QUESTION_KINDS
    )
    print(f"{len(sections)} sections, {len(questions)} questions ({counts})")

    encoders = {
        "TF-IDF, char 3-5-grams": TfidfEncoder("char", (3, 5)),
        "TF-IDF, words": TfidfEncoder("word"),
    }
    if not args.quick:
        from keras_gen.pretrained import load_pretrained

        pretrained = load_pretrained()
        for name, model in (
            ("shipped GPT", pretrained.model),
            ("untrained GPT", untrained_copy(pretrained.model, seed=0)),
        ):
            start = time.perf_counter()
            pooled = _Precomputed(
                GPTEncoder(model, pretrained.tokenizer, max_chars=args.max_chars),
                texts, center=False,
            )
            print(f"{name}: encoded in {time.perf_counter() - start:.0f} s "
                  f"(max_chars={args.max_chars})")
            encoders[f"{name}, mean-pooled"] = pooled
            encoders[f"{name}, mean-pooled, centred"] = pooled.with_center(True)

    rows = {}
    for name, encoder in encoders.items():
        index = HelpIndex(sections, encoder)
        overall = evaluate_retrieval(index, questions)
        by_kind = {
            kind: evaluate_retrieval(
                index, [q for q in questions if q.kind == kind], ks=(1,)
            )["top1"]
            for kind in QUESTION_KINDS
        }
        rows[name] = (overall, by_kind)

    width = max(len(n) for n in [*rows, "chance (one right section)"]) + 2
    kinds = "".join(f"{k:>12}" for k in QUESTION_KINDS)
    print(f"\n{'':<{width}}{'':>14}{'top-1 by kind of question':>48}")
    print(f"{'encoder':<{width}}{'top-1':>7}{'top-3':>7}{kinds}")
    for name, (overall, by_kind) in rows.items():
        cells = "".join(f"{by_kind[k]:>12.1%}" for k in QUESTION_KINDS)
        print(f"{name:<{width}}{overall['top1']:>7.1%}{overall['top3']:>7.1%}{cells}")
    n = len(sections)
    print(f"{'chance (one right section)':<{width}}{1 / n:>7.1%}{3 / n:>7.1%}")

if __name__ == "__main__":
    main()
