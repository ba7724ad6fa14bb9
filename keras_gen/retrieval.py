"""Retrieval for the help desk: embed texts, find the closest help section.

A retriever answers a question with the stored passage whose vector is
closest to the question's (cosine similarity), the first half of
retrieval-augmented generation. Three encoders turn text into vectors:

* :class:`TfidfEncoder`: the classic baseline, in NumPy. A text becomes its
  counts of character n-grams inside words (or of words), each weighted by
  how rare it is among the indexed documents (inverse document frequency),
  so "brake" still shares "bre", "rea"... with "break".
* :class:`GPTEncoder` on the shipped GPT: the mean of the body's hidden
  states (:meth:`keras_gen.transformer.GPT.hidden_states`) over every
  character of the text.
* :class:`GPTEncoder` on an untrained GPT of the same shape
  (:func:`untrained_copy`): what the architecture gives before pretraining,
  the control that says how much of the GPT's score pretraining earned.

:class:`HelpIndex` stores the vectors of the sections and ranks them for a
question; :func:`top_k_accuracy` and
:func:`keras_gen.helpdesk.sections.evaluate_retrieval` score the
ranking against labelled questions (:func:`keras_gen.helpdesk.sections.load_questions`).
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from keras_gen._checks import check_bool, check_choice, check_int, check_seed


def _check_texts(name: str, texts) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise ValueError(
            f"Expected {name} to be a list of strings. Received: {name} of type "
            f"{type(texts).__name__}. Wrap a single text in a list: [text]."
        )
    if not texts:
        raise ValueError(f"Expected at least one text in {name}. Received: []")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"Expected {name} to hold strings only. Received: {name}[{i}] of "
                f"type {type(text).__name__}"
            )
    return list(texts)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype("float32")


class TfidfEncoder:
    """TF-IDF vectors of character n-grams (or words), in NumPy.

    ``analyzer="char"`` lower-cases the text, splits it at white space and
    counts the n-grams, ``ngram_range[0] <= n <= ngram_range[1]``, of each
    word padded with one space on either side (scikit-learn's ``char_wb``),
    so ``//`` and ``+=`` count too. ``analyzer="word"`` counts lower-case
    words (runs of letters, digits and ``_``). A count ``c`` weighs
    ``1 + log(c)`` (sublinear), times the smoothed inverse document frequency
    ``log((1 + N) / (1 + df)) + 1`` over the ``N`` documents given to
    :meth:`fit`; rows are scaled to length 1. N-grams that no fitted document
    contains are ignored.

    Args:
        analyzer: ``"char"`` or ``"word"``.
        ngram_range: ``(min_n, max_n)`` for ``"char"`` (ignored for words).

    Example:
        >>> encoder = TfidfEncoder().fit(["the break statement", "while loops"])
        >>> vectors = encoder.encode(["brake", "a loop"])
        >>> (vectors @ encoder.encode(["the break statement"]).T).ravel() > 0.1
        array([ True, False])
    """

    def __init__(self, analyzer: str = "char", ngram_range=(3, 5)):
        check_choice("analyzer", analyzer, ("char", "word"))
        if (
            not isinstance(ngram_range, (tuple, list))
            or len(ngram_range) != 2
            or check_int("ngram_range[0]", ngram_range[0], minimum=1)
            > check_int("ngram_range[1]", ngram_range[1], minimum=1)
        ):
            raise ValueError(
                "Expected ngram_range to be (min_n, max_n) with 1 <= min_n <= "
                f"max_n. Received: ngram_range={ngram_range!r}"
            )
        self.analyzer = analyzer
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.vocabulary: dict[str, int] | None = None
        self.idf: np.ndarray | None = None

    def terms(self, text: str) -> Counter:
        """Count the terms (n-grams or words) of one text."""
        text = text.lower()
        if self.analyzer == "word":
            return Counter(re.findall(r"\w+", text))
        low, high = self.ngram_range
        counts: Counter = Counter()
        for word in text.split():
            padded = f" {word} "
            for n in range(low, high + 1):
                for i in range(len(padded) - n + 1):  # none if n > len
                    counts[padded[i : i + n]] += 1
        return counts

    def fit(self, documents) -> TfidfEncoder:
        """Learn the vocabulary and the IDF weights from ``documents``."""
        documents = _check_texts("documents", documents)
        document_freq: Counter = Counter()
        for doc in documents:
            document_freq.update(set(self.terms(doc)))
        terms = sorted(document_freq)  # sorted: the same columns every run
        self.vocabulary = {term: i for i, term in enumerate(terms)}
        df = np.array([document_freq[t] for t in terms], dtype="float64")
        self.idf = np.log((1 + len(documents)) / (1 + df)) + 1.0
        return self

    def encode(self, texts) -> np.ndarray:
        """Unit-length TF-IDF rows, float32 ``(len(texts), vocabulary size)``."""
        if self.vocabulary is None:
            raise ValueError(
                "Expected a fitted TfidfEncoder. Received: one that was never "
                "fitted. Call encoder.fit(documents) first."
            )
        texts = _check_texts("texts", texts)
        matrix = np.zeros((len(texts), len(self.vocabulary)), dtype="float32")
        for row, text in enumerate(texts):
            for term, count in self.terms(text).items():
                column = self.vocabulary.get(term)
                if column is not None:
                    matrix[row, column] = (1.0 + math.log(count)) * self.idf[column]
        return _unit_rows(matrix)


class GPTEncoder:
    """Mean-pooled hidden states of a GPT's body, as text vectors.

    A text is encoded with the tokenizer, cut into windows of the model's
    ``context_length`` (at most ``max_chars`` characters are read: a
    section's opening says what it is about, and the cost grows with the
    length), and every window goes through
    :meth:`~keras_gen.transformer.GPT.hidden_states`. The text's vector is
    the mean over all its positions. Windows are right-padded in batches;
    attention is causal, so padding never changes a real position's state,
    and padded positions are left out of the mean.

    With ``center=True``, :meth:`fit` records the mean vector of the indexed
    documents and :meth:`encode` subtracts it before scaling to length 1.
    Mean-pooled states of a language model all point roughly the same way
    (they are "anisotropic"), so raw cosine similarities crowd near 1;
    removing the shared direction lets the differences decide (Mu and
    Viswanath, "All-but-the-Top", ICLR 2018). The mean comes from the
    documents only, never from the questions being scored. It is off by
    default: on the held-out help-desk questions it lowered the shipped GPT's
    accuracy (``benchmarks/helpdesk_retrieval.py`` prints both).

    Args:
        model: A :class:`~keras_gen.transformer.GPT` (anything with
            ``hidden_states`` and ``context_length``).
        tokenizer: Its tokenizer.
        max_chars: Read at most this many characters of each text.
        batch_size: Windows per forward pass.
        center: Subtract the documents' mean vector (after :meth:`fit`).
            :meth:`fit` is then required before :meth:`encode`.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tokenizer = CharTokenizer.train("abc ", byte_fallback=False)
        >>> encoder = GPTEncoder(build_gpt(4, 8, 16, 2, 1), tokenizer, center=True)
        >>> encoder.fit(["abc", "cab a"]).encode(["a b c", "cc"]).shape
        (2, 16)
    """

    def __init__(
        self, model, tokenizer, max_chars=512, batch_size=32, center=False
    ):
        if not hasattr(model, "hidden_states") or not hasattr(model, "context_length"):
            raise ValueError(
                "Expected a keras_gen GPT (a model with hidden_states and "
                f"context_length). Received: model of type {type(model).__name__}"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.max_chars = check_int("max_chars", max_chars, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.center = check_bool("center", center)
        self.mean: np.ndarray | None = None

    def _windows(self, texts):
        context = self.model.context_length
        windows = []  # (text index, token ids)
        for index, text in enumerate(texts):
            ids = self.tokenizer.encode(text[: self.max_chars]) or [0]
            for start in range(0, len(ids), context):
                windows.append((index, ids[start : start + context]))
        return windows

    def pooled(self, texts) -> np.ndarray:
        """Mean hidden state of each text, float32 ``(len(texts), embed_dim)``."""
        texts = _check_texts("texts", texts)
        windows = self._windows(texts)
        # Similar lengths together: less padding per batch.
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        sums = np.zeros((len(texts), self.model.embed_dim), dtype="float64")
        counts = np.zeros(len(texts), dtype="float64")
        for start in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[start : start + self.batch_size]]
            width = max(len(ids) for _, ids in batch)
            token_ids = np.zeros((len(batch), width), dtype="int32")
            mask = np.zeros((len(batch), width), dtype="float64")
            for row, (_, ids) in enumerate(batch):
                token_ids[row, : len(ids)] = ids
                mask[row, : len(ids)] = 1.0
            hidden = np.asarray(self.model.hidden_states(token_ids))  # (B, T, E)
            window_sums = np.einsum("bte,bt->be", hidden.astype("float64"), mask)
            for row, (index, ids) in enumerate(batch):
                sums[index] += window_sums[row]
                counts[index] += len(ids)
        return (sums / counts[:, None]).astype("float32")

    def fit(self, documents) -> GPTEncoder:
        """Record the documents' mean vector (used when ``center=True``)."""
        self.mean = self.pooled(documents).mean(axis=0)
        return self

    def encode(self, texts) -> np.ndarray:
        """Unit-length vectors, float32 ``(len(texts), embed_dim)``."""
        if self.center and self.mean is None:
            raise ValueError(
                "Expected a fitted GPTEncoder when center=True. Received: "
                "one that was never fitted. Call encoder.fit(documents) "
                "first, or pass center=False."
            )
        vectors = self.pooled(texts)
        if self.center:
            vectors = vectors - self.mean
        return _unit_rows(vectors)


def untrained_copy(model, seed: int = 0):
    """A freshly initialised GPT with ``model``'s architecture (the control).

    The GPT's layers draw their initial weights from Keras' global random
    state, so this seeds it with ``keras.utils.set_random_seed(seed)`` (which
    also seeds Python's and NumPy's generators), as any seeded Keras run does.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        seed: Seed for the initial weights (same seed, same weights).

    Returns:
        A built GPT of the same config whose weights were never trained.

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> copy = untrained_copy(build_gpt(5, 8, 16, 2, 1))
        >>> copy.count_params()
        3520
    """
    import keras

    seed = check_seed("seed", seed)
    if not hasattr(model, "get_config") or not hasattr(model, "context_length"):
        raise ValueError(
            "Expected a keras_gen GPT. Received: model of type "
            f"{type(model).__name__}"
        )
    keras.utils.set_random_seed(seed)
    copy = model.__class__.from_config(model.get_config())
    copy.build((None, model.context_length))
    return copy


class HelpIndex:
    """Help sections and their vectors; ranks sections for questions.

    Args:
        sections: :class:`keras_gen.helpdesk.sections.HelpSection` records (use
            :func:`keras_gen.helpdesk.sections.unique_sections`, so no text is indexed
            twice).
        encoder: A :class:`TfidfEncoder` or :class:`GPTEncoder`; it is fitted
            on the sections' documents here.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> sections = [HelpSection("break", "break", "break", "leave a loop"),
        ...             HelpSection("pass", "pass", "pass", "do nothing")]
        >>> index = HelpIndex(sections, TfidfEncoder())
        >>> index.search(["how to leave a loop"], k=1)
        [['break']]
    """

    def __init__(self, sections, encoder):
        sections = list(sections)
        if not sections:
            raise ValueError("Expected at least one section. Received: []")
        ids = [getattr(s, "id", None) for s in sections]
        if any(not isinstance(i, str) for i in ids) or not all(
            hasattr(s, "document") for s in sections
        ):
            raise ValueError(
                "Expected sections to be keras_gen.helpdesk.sections.HelpSection "
                "records (with id and document). Received: "
                f"{type(sections[0]).__name__} items"
            )
        if len(set(ids)) != len(ids):
            repeated = sorted(i for i, c in Counter(ids).items() if c > 1)
            raise ValueError(
                f"Expected unique section ids. Received: repeated ids {repeated[:5]}"
            )
        self.sections = sections
        self.ids = ids
        documents = [s.document for s in sections]
        self.encoder = encoder.fit(documents)
        self.vectors = self.encoder.encode(documents)  # (sections, dim)

    def scores(self, questions) -> np.ndarray:
        """Cosine similarities, ``(len(questions), len(sections))``."""
        vectors = self.encoder.encode(_check_texts("questions", questions))
        return vectors @ self.vectors.T  # (questions, dim) @ (dim, sections)

    def search(self, questions, k: int = 3) -> list[list[str]]:
        """The ids of the ``k`` closest sections for each question, best first.

        Ties go to the section that comes first in the index.
        """
        k = check_int("k", k, minimum=1, maximum=len(self.ids))
        order = np.argsort(-self.scores(questions), axis=1, kind="stable")[:, :k]
        return [[self.ids[j] for j in row] for row in order]


def _standardised(scores: np.ndarray) -> np.ndarray:
    """Each row minus its mean, over its standard deviation (0 if constant)."""
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return centred / np.where(spread > 0, spread, 1.0)


class FusedIndex:
    """Several indexes of the same sections, their scores summed with weights.

    Cosine similarities of different encoders live on different scales (a
    TF-IDF score of 0.3 is high, a trained encoder's 0.3 may be low), so
    each index's scores are standardised per question first (minus the
    row's mean, over its standard deviation, across the sections), then
    summed with ``weights``. One index with weight 1 ranks as that index
    alone.

    Args:
        indexes: :class:`HelpIndex` objects built on the same sections, in
            the same order.
        weights: One non-negative weight per index, not all zero.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> sections = [HelpSection("break", "break", "break", "leave a loop"),
        ...             HelpSection("pass", "pass", "pass", "do nothing")]
        >>> chars = HelpIndex(sections, TfidfEncoder())
        >>> words = HelpIndex(sections, TfidfEncoder("word"))
        >>> FusedIndex([chars, words], [0.5, 0.5]).search(["leave a loop"], k=1)
        [['break']]
    """

    def __init__(self, indexes, weights):
        indexes, weights = list(indexes), list(weights)
        if not indexes or len(indexes) != len(weights):
            raise ValueError(
                "Expected one weight per index, for at least one index. Received:"
                f" {len(indexes)} indexes and {len(weights)} weights."
            )
        for i, index in enumerate(indexes):
            if getattr(index, "ids", None) != indexes[0].ids:
                raise ValueError(
                    "Expected every index built on the same sections, in the same"
                    f" order. Received: indexes[{i}] holds other sections."
                )
        if any(not np.isfinite(w) or w < 0 for w in weights) or not sum(weights):
            raise ValueError(
                "Expected non-negative finite weights, not all zero. Received: "
                f"weights={weights!r}"
            )
        self.indexes = indexes
        self.weights = [float(w) for w in weights]
        self.sections = indexes[0].sections
        self.ids = indexes[0].ids

    def scores(self, questions) -> np.ndarray:
        """Weighted sum of standardised scores, ``(len(questions), sections)``."""
        total = 0.0
        for index, weight in zip(self.indexes, self.weights, strict=True):
            if weight:
                total = total + weight * _standardised(index.scores(questions))
        return total

    def search(self, questions, k: int = 3) -> list[list[str]]:
        """The ids of the ``k`` best sections for each question, best first."""
        k = check_int("k", k, minimum=1, maximum=len(self.ids))
        order = np.argsort(-self.scores(questions), axis=1, kind="stable")[:, :k]
        return [[self.ids[j] for j in row] for row in order]


def top_k_accuracy(ranked_ids, answer_ids, k: int) -> float:
    """Share of questions with a correct id among their first ``k`` ranked ids.

    Args:
        ranked_ids: One ranked list of ids per question, best first.
        answer_ids: One collection of correct ids per question.
        k: How many of the first ranked ids count.

    Returns:
        A fraction in ``[0, 1]``.

    Example:
        >>> top_k_accuracy([["a", "b"], ["c", "a"]], [{"a"}, {"a", "x"}], k=1)
        0.5
        >>> top_k_accuracy([["a", "b"], ["c", "a"]], [{"a"}, {"a", "x"}], k=2)
        1.0
    """
    k = check_int("k", k, minimum=1)
    ranked_ids, answer_ids = list(ranked_ids), list(answer_ids)
    if len(ranked_ids) != len(answer_ids) or not ranked_ids:
        raise ValueError(
            "Expected one ranking per question, for at least one question. "
            f"Received: {len(ranked_ids)} rankings and {len(answer_ids)} answer "
            "sets."
        )
    for i, ranking in enumerate(ranked_ids):
        if len(ranking) < k:
            raise ValueError(
                f"Expected at least k={k} ranked ids per question. Received: "
                f"{len(ranking)} for question {i}. Search with a larger k."
            )
    pairs = zip(ranked_ids, answer_ids, strict=True)
    hits = [bool(set(ranking[:k]) & set(answers)) for ranking, answers in pairs]
    return float(np.mean(hits))
