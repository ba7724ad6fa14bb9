"""Solutions to the music exercises of notebook 09 (melodies from Bach's chorales)."""

from __future__ import annotations

import numpy as np

from keras_gen.music import melodies as music
from keras_gen.music import metrics as mm


def music_trigram_nll(train_ids, inputs, targets, alpha: float = 1.0) -> float:
    """Exercise 9.3: held-out nats/token of an add-``alpha`` trigram model.

    ``p(c | a, b) = (count(a, b, c) + alpha) / (count(a, b) + alpha * V)``,
    scored on the same ``(inputs, targets)`` windows as the GPT and the
    bigram. The first position of each window has no second token of context,
    so it is scored by the add-``alpha`` bigram (what a trigram model "backs
    off" to). With 62 tokens a trigram has 62**3 = 238,328 cells for about
    30,000 training tokens: most are never seen, and smoothing decides how
    much probability they get. On the chorales (``alpha=0.1``) the trigram
    beats the bigram clearly, because a pitch token's best clue is the pitch
    two tokens back (a duration sits between them); compare it with the GPT's
    held-out loss printed in the notebook.

    Args:
        train_ids: 1-D training token ids.
        inputs: int ``(windows, T)`` held-out inputs.
        targets: int ``(windows, T)``, the next token at each position.
        alpha: Smoothing added to every count.

    Returns:
        Mean negative log-likelihood in nats per token.
    """
    vocab = len(music.VOCABULARY)
    ids = np.asarray(train_ids, dtype="int64")
    counts = np.zeros((vocab, vocab, vocab))
    np.add.at(counts, (ids[:-2], ids[1:-1], ids[2:]), 1)
    log_probs = np.log(
        (counts + alpha) / (counts.sum(-1, keepdims=True) + alpha * vocab)
    )  # (V, V, V): log p(c | a, b)
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    trigram = log_probs[inputs[:, :-1], inputs[:, 1:], targets[:, 1:]]  # (N, T-1)
    bigram = mm.BigramModel(ids, vocab, alpha).log_probs[inputs[:, 0], targets[:, 0]]
    return float(-(trigram.sum() + bigram.sum()) / targets.size)


def music_temperature_sweep(
    model,
    held_out_melodies,
    temperatures=(0.7, 1.0, 1.3),
    count: int = 50,
    seed=0,
    jit: bool = True,
) -> dict[float, dict[str, float]]:
    """Exercise 9.4: how sampling temperature trades safety for variety.

    For each temperature, sample ``count`` melodies and measure the share of
    notes in key and the total variation distance of their interval histogram
    from the held-out chorales. A low temperature picks the likeliest notes:
    more in key, small steps, but repetitive (and melodies that loop until
    the token budget ends). A high one flattens the distribution: more
    chromatic notes and odd leaps.

    ``jit``: XLA for the decoding steps (:func:`sample_melodies`); ``False``
    for a few melodies from a tiny model.

    Returns:
        ``{temperature: {"in_key": ..., "interval_tv": ..., "notes": ...}}``,
        ``notes`` being the mean sample length in notes.
    """
    real = mm.interval_histogram(held_out_melodies)
    results = {}
    for temperature in temperatures:
        samples, _ = music.sample_melodies(
            model, count, seed=seed, temperature=temperature, jit=jit
        )
        results[temperature] = {
            "in_key": mm.in_key_share(samples),
            "interval_tv": mm.total_variation(mm.interval_histogram(samples), real),
            "notes": float(np.mean([len(m) for m in samples])),
        }
    return results
