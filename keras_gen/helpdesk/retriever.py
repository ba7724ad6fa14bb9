"""Train the help desk's retriever, and fuse it with TF-IDF.

:func:`train_retriever` fine-tunes a
:class:`~keras_gen.helpdesk.encoder.SentenceEncoder` on (query, section)
pairs (:func:`keras_gen.helpdesk.pairs.training_queries`) with ``fit()`` and
the encoder's InfoNCE ``compute_loss``. The encoder's embedding and lower
blocks are frozen, so their output for each training text never changes: it
is computed once (a cache of hidden states) and every step runs only the top
block(s), pooling and projection. On a 2-core CPU that is
what makes a few hundred steps take minutes, not an hour.

:func:`fused_index` combines the trained encoder with TF-IDF
(:class:`keras_gen.retrieval.FusedIndex`): each retriever's cosine
similarities are standardised per question and summed with a weight, chosen
on development queries (:func:`keras_gen.helpdesk.pairs.dev_queries`), never
on the held-out questions.
"""

from __future__ import annotations

import numpy as np

from keras_gen._checks import check_int, check_seed
from keras_gen.helpdesk.encoder import (
    DOCUMENT_CHARS,
    QUERY_CHARS,
    SentenceEncoder,
    TrainedEncoder,
    encode_ids,
)
from keras_gen.helpdesk.pairs import distinct_batches
from keras_gen.retrieval import FusedIndex, HelpIndex, TfidfEncoder

#: The encoder weights :func:`choose_weight` tries (TF-IDF has ``1 - w``).
FUSION_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _hidden_cache(model, tokenizer, texts, max_chars, batch_size=64):
    """:meth:`SentenceEncoder.lower` of every text, ``(n, max_chars, E)``, float32."""
    from keras import ops

    ids, mask = encode_ids(tokenizer, texts, max_chars, max_chars)
    out = np.zeros((len(texts), max_chars, model.backbone.embed_dim), "float32")
    for start in range(0, len(texts), batch_size):
        rows = slice(start, start + batch_size)
        out[rows] = ops.convert_to_numpy(model.lower(ids[rows]))
    return out, mask


def train_retriever(model, tokenizer, pairs, documents, *, steps, batch_size=32,
                    recipe=None, seed=0, log_every=None, callbacks=None,
                    query_chars=QUERY_CHARS, document_chars=DOCUMENT_CHARS,
                    jit_compile=True):
    """Fine-tune ``model`` on (query, section id) pairs with in-batch negatives.

    Every batch holds ``batch_size`` pairs of different sections
    (:func:`keras_gen.helpdesk.pairs.distinct_batches`), so each query's
    negatives are the other sections of the batch. The frozen part of the
    model (:meth:`~keras_gen.helpdesk.encoder.SentenceEncoder.lower`) runs
    once per distinct text; ``fit()`` then trains the rest.

    Args:
        model: A :class:`~keras_gen.helpdesk.encoder.SentenceEncoder`
            (trained in place).
        tokenizer: Its tokenizer.
        pairs: ``(query, section_id)`` pairs.
        documents: ``{section_id: text}`` for every id in ``pairs``.
        steps: Optimizer steps.
        batch_size: Pairs per step (distinct sections).
        recipe: A :class:`keras_gen.training.Recipe` for the optimizer;
            default a warm-up of 20 steps, then a constant ``3e-4``, so that
            a run of ``n`` steps is the first ``n`` steps of a longer one.
        seed: Seed of the batches and of Keras.
        log_every: Record the mean loss every this many steps.
        callbacks: Keras callbacks for ``fit()``.
        query_chars: Characters of a query read.
        document_chars: Characters of a document read.
        jit_compile: XLA-compile the train step (faster steps, a slower
            first one).

    Returns:
        The ``History`` of ``fit()``.
    """
    import keras
    import tensorflow as tf  # tf.data: Keras has no input-pipeline equivalent

    from keras_gen.training import Recipe, fit_steps

    if not isinstance(model, SentenceEncoder):
        raise ValueError(
            "Expected a SentenceEncoder. Received: model of type "
            f"{type(model).__name__}"
        )
    pairs = list(pairs)
    missing = sorted({s for _, s in pairs} - set(documents))
    if not pairs or missing:
        raise ValueError(
            "Expected (query, section_id) pairs whose ids are all in documents. "
            f"Received: {len(pairs)} pairs; ids without a document: {missing[:5]}"
        )
    steps = check_int("steps", steps, minimum=1)
    seed = check_seed("seed", seed)
    recipe = recipe or Recipe(steps=steps, batch_size=batch_size,
                              learning_rate=3e-4, min_learning_rate=3e-4,
                              warmup_steps=20)
    queries = sorted({q for q, _ in pairs})
    ids = sorted(documents)
    query_row = {q: i for i, q in enumerate(queries)}
    doc_row = {s: i for i, s in enumerate(ids)}
    query_hidden, query_mask = _hidden_cache(model, tokenizer, queries, query_chars)
    doc_hidden, doc_mask = _hidden_cache(
        model, tokenizer, [documents[s] for s in ids], document_chars
    )
    order = distinct_batches([s for _, s in pairs], steps, batch_size, seed)
    q_rows = np.array([query_row[pairs[i][0]] for i in order], "int32")
    d_rows = np.array([doc_row[pairs[i][1]] for i in order], "int32")
    tables = [tf.constant(a) for a in (query_hidden, query_mask, doc_hidden, doc_mask)]

    def gather(q, d):
        return {"query_hidden": tf.gather(tables[0], q),
                "query_mask": tf.gather(tables[1], q),
                "doc_hidden": tf.gather(tables[2], d),
                "doc_mask": tf.gather(tables[3], d)}

    data = (tf.data.Dataset.from_tensor_slices((q_rows, d_rows))
            .batch(batch_size, drop_remainder=True).map(gather)
            .prefetch(2))
    keras.utils.set_random_seed(seed)
    model.compile(optimizer=recipe.optimizer(steps), jit_compile=jit_compile)
    return fit_steps(model, data, steps, log_every or steps, callbacks=callbacks)


def fused_index(sections, encoder: TrainedEncoder, weight: float | None = None,
                tfidf: HelpIndex | None = None) -> FusedIndex:
    """TF-IDF (char 3-5-grams) and the trained encoder, scores summed.

    Args:
        sections: The sections to index.
        encoder: A :class:`~keras_gen.helpdesk.encoder.TrainedEncoder`.
        weight: The encoder's share; TF-IDF gets ``1 - weight``. Default: the
            ``fusion_weight`` its card records (chosen on development
            queries by ``tools/train_helpdesk_retriever.py``).
        tfidf: A TF-IDF :class:`~keras_gen.retrieval.HelpIndex` on the same
            sections, to reuse; default: build one.

    Returns:
        A :class:`~keras_gen.retrieval.FusedIndex`.
    """
    if weight is None:
        weight = getattr(encoder, "card", {}).get("fusion_weight")
        if weight is None:
            raise ValueError(
                "Expected a weight, or an encoder loaded by load_retriever() whose "
                "card records fusion_weight. Received: neither. Pass weight=."
            )
    sections = list(sections)
    tfidf = tfidf or HelpIndex(sections, TfidfEncoder())
    return FusedIndex([tfidf, HelpIndex(sections, encoder)], [1 - weight, weight])


def as_questions(pairs, kind: str = "keyword"):
    """``(query, section_id)`` pairs as labelled questions, for scoring.

    Example:
        >>> as_questions([("leave a loop", "break")])[0].answer_ids
        ('break',)
    """
    from keras_gen.helpdesk.sections import HelpQuestion

    return [HelpQuestion(q, s, "", kind) for q, s in pairs]


def choose_weight(sections, encoder, dev, tfidf=None, weights=FUSION_WEIGHTS):
    """The fusion weight with the best top-1 on ``dev`` (ties: the smaller).

    Both retrievers score the questions once; each weight only re-ranks.

    Args:
        sections: The indexed sections.
        encoder: A :class:`~keras_gen.helpdesk.encoder.TrainedEncoder`.
        dev: Labelled development questions (never the held-out ones).
        tfidf: A TF-IDF index to reuse.
        weights: The weights to try.

    Returns:
        ``(weight, {weight: dev top-1})``.
    """
    from keras_gen.helpdesk.sections import canonical_ids, load_help_sections
    from keras_gen.retrieval import top_k_accuracy

    sections = list(sections)
    tfidf = tfidf or HelpIndex(sections, TfidfEncoder())
    texts = [q.question for q in dev]
    indexes = [tfidf, HelpIndex(sections, encoder)]
    fixed = [_FixedScores(index, index.scores(texts)) for index in indexes]
    canonical = canonical_ids(load_help_sections())
    answers = [{canonical.get(i, i) for i in q.answer_ids} for q in dev]
    scores = {}
    for w in weights:
        ranked = FusedIndex(fixed, [1 - w, w]).search(texts, k=1)
        scores[w] = round(top_k_accuracy(ranked, answers, 1), 4)
    best = max(scores.values())
    return min(w for w, v in scores.items() if v == best), scores


class _FixedScores:
    """An index whose scores for one list of questions were computed before."""

    def __init__(self, index, scores):
        self.ids, self.sections, self._scores = index.ids, index.sections, scores

    def scores(self, questions):
        return self._scores


def shipped_index(sections=None, tfidf: HelpIndex | None = None) -> FusedIndex:
    """The help desk's best retriever: TF-IDF fused with the shipped encoder.

    Args:
        sections: Default :func:`keras_gen.helpdesk.sections.unique_sections`.
        tfidf: A TF-IDF index on the same sections, to reuse.

    Returns:
        A :class:`~keras_gen.retrieval.FusedIndex` with the card's weight.
    """
    import os

    from keras_gen._files import folder_state
    from keras_gen.helpdesk.encoder import RETRIEVER_DIR, load_retriever
    from keras_gen.helpdesk.sections import unique_sections

    if sections is not None or tfidf is not None or not os.path.isdir(RETRIEVER_DIR):
        sections = unique_sections() if sections is None else list(sections)
        return fused_index(sections, load_retriever(), tfidf=tfidf)
    # The default call is cached per process while the folder's files are
    # unchanged: encoding every section is most of a `keras-gen chat` call.
    state = folder_state(RETRIEVER_DIR)
    if _SHIPPED.get("state") != state:
        _SHIPPED.clear()
        _SHIPPED["index"] = fused_index(unique_sections(), load_retriever())
        _SHIPPED["state"] = state
    return _SHIPPED["index"]


#: :func:`shipped_index`'s default index, with the retriever folder's state.
_SHIPPED: dict = {}
