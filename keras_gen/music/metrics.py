"""Measuring generated melodies against real ones.

* :class:`BigramModel`: the baseline a GPT must beat, next-token
  probabilities from counts of token pairs with add-``alpha`` smoothing,
  scored in nats per token like the GPT's cross-entropy.
* :func:`in_key_share`: the share of notes in C major / A natural minor
  (the white keys), the key every chorale was transposed to.
* :func:`pitch_histogram`, :func:`interval_histogram` and
  :func:`total_variation`: the shape of the melodies (register and the size
  of steps and leaps) compared with real chorales;
  :func:`bootstrap_distances` shows how much of a distance is the noise of
  a small reference set.
* :func:`longest_copied_run`: the longest stretch of consecutive notes of a
  melody that occurs verbatim in the training melodies, to see copying.

Melodies are as in :mod:`keras_gen.music.melodies`: ``(pitch, duration)`` pairs.
"""

from __future__ import annotations

import numpy as np

from keras_gen import _checks
from keras_gen.music.melodies import (
    C_MAJOR_PITCH_CLASSES,
    PITCH_HIGH,
    PITCH_LOW,
    VOCABULARY,
    check_melody,
)


def _check_melodies(melodies, name: str = "melodies") -> list[tuple]:
    if isinstance(melodies, (str, bytes)) or not hasattr(melodies, "__len__"):
        raise ValueError(
            f"Expected {name} to be a list of melodies. Received: "
            f"{type(melodies).__name__}"
        )
    if len(melodies) == 0:
        raise ValueError(
            f"Expected at least one melody in {name}. Received: an empty list."
        )
    return [check_melody(m, name=f"{name}[{i}]") for i, m in enumerate(melodies)]


class BigramModel:
    """Next-token probabilities from counts of token pairs, add-``alpha`` smoothed.

    ``p(b | a) = (count(a, b) + alpha) / (count(a) + alpha * vocab_size)``.

    Args:
        token_ids: 1-D training ids (e.g.
            :func:`keras_gen.music.melodies.melodies_to_ids`).
        vocab_size: Number of token ids (default: the music vocabulary).
        alpha: Smoothing added to every count (``1``: add-one, Laplace).

    Example:
        >>> bigram = BigramModel([0, 1, 0, 1, 0, 1], vocab_size=2, alpha=1.0)
        >>> round(bigram.nll([0], [1]), 4)  # p(1 | 0) = (3 + 1) / (3 + 2)
        0.2231
    """

    def __init__(
        self, token_ids, vocab_size: int = len(VOCABULARY), alpha: float = 1.0
    ):
        self.vocab_size = _checks.check_int("vocab_size", vocab_size, minimum=1)
        self.alpha = _checks.check_float(
            "alpha", alpha, minimum=0, min_inclusive=False
        )
        ids = self._ids(token_ids, "token_ids")
        if ids.size < 2:
            raise ValueError(
                "Expected at least 2 token ids to count pairs. Received: "
                f"{ids.size}."
            )
        counts = np.zeros((self.vocab_size, self.vocab_size))
        np.add.at(counts, (ids[:-1], ids[1:]), 1)
        smoothed = counts + self.alpha  # (V, V)
        self.log_probs = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))

    def _ids(self, ids, name):
        ids = np.asarray(ids)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(
                f"Expected {name} to hold ints. Received: dtype {ids.dtype}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(
                f"Expected {name} in [0, {self.vocab_size}). Received: values "
                f"from {ids.min()} to {ids.max()}."
            )
        return ids.astype("int64")

    def nll(self, inputs, targets) -> float:
        """Mean negative log-likelihood (nats/token) of ``targets`` given ``inputs``.

        ``targets[..., i]`` is the token after ``inputs[..., i]``: pass the
        ``(x, y)`` windows a GPT is evaluated on to score the same tokens.
        """
        inputs, targets = self._ids(inputs, "inputs"), self._ids(targets, "targets")
        if inputs.shape != targets.shape or inputs.size == 0:
            raise ValueError(
                "Expected inputs and targets of the same, non-empty shape. "
                f"Received: {inputs.shape} and {targets.shape}"
            )
        return float(-self.log_probs[inputs, targets].mean())


def next_token_windows(token_ids, context_length: int):
    """All non-overlapping ``(inputs, targets)`` windows of held-out ids.

    The GPT and :class:`BigramModel` are then scored on exactly the same
    targets (the ids that do not fill a last window are left out).

    Returns:
        Two int32 arrays ``(num_windows, context_length)``; ``targets`` is
        ``inputs`` shifted by one token.

    Example:
        >>> x, y = next_token_windows(list(range(10)), 4)
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2, 3], [4, 5, 6, 7]], [[1, 2, 3, 4], [5, 6, 7, 8]])
    """
    context_length = _checks.check_int("context_length", context_length, minimum=1)
    ids = np.asarray(token_ids, dtype="int32")
    count = (len(ids) - 1) // context_length
    if ids.ndim != 1 or count < 1:
        raise ValueError(
            f"Expected 1-D token ids, at least context_length + 1 = "
            f"{context_length + 1} of them. Received: shape {ids.shape}."
        )
    used = ids[: count * context_length + 1]
    inputs = used[:-1].reshape(count, context_length)  # (windows, T)
    targets = used[1:].reshape(count, context_length)  # (windows, T)
    return inputs, targets


def model_nll(model, inputs, targets, batch_size: int = 64) -> float:
    """Mean next-token cross-entropy (nats/token) of a language model.

    Args:
        model: Maps int ``(batch, T)`` to logits ``(batch, T, vocab)``, e.g. a
            :class:`~keras_gen.transformer.GPT`.
        inputs: int ``(windows, T)``, e.g. from :func:`next_token_windows`.
        targets: int ``(windows, T)``, the next token at each position.
        batch_size: Windows per forward pass.

    Returns:
        The mean of ``-log p(target)`` over every position.
    """
    import keras

    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.shape != targets.shape or inputs.ndim != 2 or inputs.size == 0:
        raise ValueError(
            "Expected inputs and targets of the same non-empty (windows, T) "
            f"shape. Received: {inputs.shape} and {targets.shape}"
        )
    total = 0.0
    for start in range(0, len(inputs), batch_size):
        logits = model(inputs[start : start + batch_size])  # (b, T, V)
        log_probs = keras.ops.convert_to_numpy(keras.ops.log_softmax(logits, -1))
        chosen = np.take_along_axis(
            log_probs, targets[start : start + batch_size, :, None], axis=-1
        )  # (b, T, 1)
        total += float(chosen.sum())
    return -total / targets.size


def in_key_share(melodies) -> float:
    """Share of sounding notes whose pitch class is in C major / A natural minor.

    Rests are not counted. A chorale in A minor raises G to G sharp as its
    leading tone, so real minor-key chorales score below 1: compare samples
    with real melodies, not with 1.

    Example:
        >>> in_key_share([[(60, 1.0), (61, 1.0), (None, 1.0), (62, 1.0)]])
        0.6666666666666666
    """
    pitches = [p for m in _check_melodies(melodies) for p, _ in m if p is not None]
    if not pitches:
        raise ValueError(
            "Expected at least one sounding note. Received: only rests."
        )
    return float(np.mean([p % 12 in C_MAJOR_PITCH_CLASSES for p in pitches]))


def pitch_histogram(melodies) -> np.ndarray:
    """Share of notes at each pitch ``PITCH_LOW .. PITCH_HIGH`` (rests skipped).

    Returns:
        float ``(PITCH_HIGH - PITCH_LOW + 1,)`` summing to 1 (zeros if no note).

    Example:
        >>> hist = pitch_histogram([[(60, 1.0), (64, 1.0), (64, 2.0)]])
        >>> hist[[60 - PITCH_LOW, 64 - PITCH_LOW]].round(3).tolist(), hist.sum()
        ([0.333, 0.667], np.float64(1.0))
    """
    counts = np.zeros(PITCH_HIGH - PITCH_LOW + 1)
    for melody in _check_melodies(melodies):
        for pitch, _ in melody:
            if pitch is not None:
                counts[pitch - PITCH_LOW] += 1
    return counts / max(counts.sum(), 1)


def interval_histogram(melodies, max_interval: int = 12) -> np.ndarray:
    """Share of melodic intervals (semitones between consecutive notes).

    Rests are skipped (the interval spans them). Intervals beyond
    ``+-max_interval`` are counted in the outermost bins.

    Returns:
        float ``(2 * max_interval + 1,)`` for ``-max_interval .. max_interval``,
        summing to 1 (zeros if no interval).

    Example:
        >>> interval_histogram([[(60, 1.0), (62, 1.0), (None, 1.0), (60, 1.0)]], 2)
        array([0.5, 0. , 0. , 0. , 0.5])
    """
    max_interval = _checks.check_int("max_interval", max_interval, minimum=1)
    counts = np.zeros(2 * max_interval + 1)
    for melody in _check_melodies(melodies):
        pitches = [p for p, _ in melody if p is not None]
        for step in np.diff(pitches).astype(int):
            counts[int(np.clip(step, -max_interval, max_interval)) + max_interval] += 1
    return counts / max(counts.sum(), 1)


def total_variation(p, q) -> float:
    """Total variation distance between two histograms: half the L1 distance.

    ``0`` for identical shapes, ``1`` for no overlap.

    Example:
        >>> total_variation([0.5, 0.5, 0.0], [0.0, 0.5, 0.5])
        0.5
    """
    p, q = np.asarray(p, "float64"), np.asarray(q, "float64")
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(
            f"Expected two 1-D histograms of the same length. Received: shapes "
            f"{p.shape} and {q.shape}"
        )
    return float(0.5 * np.abs(p - q).sum())


def bootstrap_distances(
    histogram, reference, candidates: dict, rounds: int = 200, seed: int = 0
) -> dict:
    """Distances from resampled reference pieces: how much of a distance is noise.

    Each round draws as many reference melodies as there are, with
    replacement (whole pieces), and measures each candidate set's total
    variation from that resample's histogram. Every candidate is measured
    against the same resample in a round, so two candidates can be compared
    round by round (the share of rounds in which one is closer). A resample
    repeats some pieces and misses others, so its histogram is noisier than
    the reference's own: the rounds tend to sit above the distance to the
    reference itself. Read their spread and the round-by-round comparison,
    not their level.

    Args:
        histogram: :func:`pitch_histogram` or :func:`interval_histogram`.
        reference: The melodies to resample (the held-out chorales).
        candidates: ``{name: melodies}``, each set measured against them.
        rounds: Resamples, >= 1.
        seed: Seed of the resampling.

    Returns:
        ``{name: (rounds,) float array}`` of total variation distances.

    Example:
        >>> real = [[(60, 1.0), (62, 1.0)], [(64, 1.0), (65, 1.0)]]
        >>> far = [[(70, 1.0), (71, 1.0)]]
        >>> out = bootstrap_distances(pitch_histogram, real, {"far": far}, rounds=3)
        >>> out["far"].tolist()
        [1.0, 1.0, 1.0]
    """
    reference = _check_melodies(reference, "reference")
    rounds = _checks.check_int("rounds", rounds, minimum=1)
    seed = _checks.check_seed("seed", seed)
    if not isinstance(candidates, dict) or not candidates:
        raise ValueError(
            "Expected candidates to be a non-empty dict {name: melodies}. "
            f"Received: {type(candidates).__name__} {str(candidates)[:60]}"
        )
    fixed = {name: histogram(melodies) for name, melodies in candidates.items()}
    rng = np.random.default_rng(seed)
    out = {name: np.zeros(rounds) for name in fixed}
    for r in range(rounds):
        picks = rng.integers(0, len(reference), len(reference))  # (n,) piece ids
        resampled = histogram([reference[i] for i in picks])
        for name, hist in fixed.items():
            out[name][r] = total_variation(hist, resampled)
    return out


class CopyIndex:
    """Every run of consecutive notes in the training melodies, for copy checks.

    Build it once, then ask :meth:`longest_run` per melody.

    Args:
        training_melodies: The melodies the model learned from.

    Example:
        >>> index = CopyIndex([[(60, 1.0), (62, 1.0), (64, 1.0), (65, 1.0)]])
        >>> index.longest_run([(67, 1.0), (62, 1.0), (64, 1.0), (67, 2.0)])
        2
    """

    def __init__(self, training_melodies):
        self._melodies = _check_melodies(training_melodies, "training_melodies")
        self._runs: dict[int, set] = {}

    def _runs_of(self, length: int) -> set:
        if length not in self._runs:
            self._runs[length] = {
                m[i : i + length]
                for m in self._melodies
                for i in range(len(m) - length + 1)
            }
        return self._runs[length]

    def longest_run(self, melody) -> int:
        """Length of the longest run of ``melody``'s notes found in training.

        Notes match when pitch and duration both match (rests included).
        Binary search on the length: a run of ``n`` notes that occurs also
        contains runs of every shorter length.
        """
        melody = check_melody(melody)
        low, high = 0, len(melody)  # a run of `low` notes occurs; none > high
        while low < high:
            length = (low + high + 1) // 2
            runs = self._runs_of(length)
            starts = range(len(melody) - length + 1)
            if any(melody[i : i + length] in runs for i in starts):
                low = length
            else:
                high = length - 1
        return low


def longest_copied_run(melody, training_melodies) -> int:
    """Longest run of consecutive notes of ``melody`` that occurs in training.

    A shortcut for ``CopyIndex(training_melodies).longest_run(melody)``; build
    a :class:`CopyIndex` once to check many melodies.

    Example:
        >>> longest_copied_run([(60, 1.0), (62, 1.0)], [[(60, 1.0), (62, 1.0)]])
        2
    """
    return CopyIndex(training_melodies).longest_run(melody)
