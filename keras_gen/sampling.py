"""Decoding strategies: how to pick the next token from the model's scores.

A language model gives a score (logit) for every token in the vocabulary;
``softmax`` turns them into next-token probabilities. *How* we pick from
that distribution changes the text a lot:

* **greedy**: always the most likely token; deterministic, often repetitive;
* **temperature** ``T``: divide the logits by ``T`` before the softmax;
  ``T < 1`` sharpens the distribution (towards greedy as ``T -> 0``),
  ``T > 1`` flattens it (towards uniform);
* **top-k** (Fan et al., 2018): keep only the ``k`` most likely tokens;
* **top-p** or nucleus sampling (Holtzman et al., 2020): keep the smallest
  set of most likely tokens whose probabilities add up to at least ``p``.

Every function here is a small pure NumPy function on logits of shape
``(..., vocab_size)`` (one row per sequence), so each can be tested against
distributions computed by hand and plotted in a notebook. NumPy, not
``keras.ops``: the model runs once per token, the sampling touches a few
hundred numbers, and NumPy's ``Generator`` makes seeded sampling simple.
Filtered-out tokens get a logit of ``-inf``, hence probability exactly 0.

The order follows Hugging Face ``transformers``: temperature, then top-k,
then top-p.
"""

from __future__ import annotations

import numpy as np

from keras_gen import _checks


def check_temperature(temperature) -> float:
    """Validate a sampling temperature (a finite number ``> 0``).

    Example:
        >>> check_temperature(0)
        Traceback (most recent call last):
        ...
        ValueError: Expected temperature > 0. Received: temperature=0.0. For \
the most likely token every time, use greedy decoding (do_sample=False).
    """
    try:
        return _checks.check_float("temperature", temperature, 0, min_inclusive=False)
    except ValueError as error:
        raise ValueError(
            f"{error}. For the most likely token every time, use greedy decoding "
            "(do_sample=False)."
        ) from None


def check_top_k(top_k, vocab_size: int | None = None) -> int:
    """Validate ``top_k``: an int in ``[1, vocab_size]``.

    Example:
        >>> check_top_k(0)
        Traceback (most recent call last):
        ...
        ValueError: Expected top_k >= 1. Received: top_k=0. top_k=1 is greedy \
decoding; leave top_k=None to keep every token.
    """
    try:
        return _checks.check_int("top_k", top_k, minimum=1, maximum=vocab_size)
    except ValueError as error:
        raise ValueError(
            f"{error}. top_k=1 is greedy decoding; leave top_k=None to keep every "
            "token."
        ) from None


def check_top_p(top_p) -> float:
    """Validate ``top_p`` (a probability in ``(0, 1]``).

    Example:
        >>> check_top_p(1.5)
        Traceback (most recent call last):
        ...
        ValueError: Expected 0 < top_p <= 1. Received: top_p=1.5. top_p is the \
probability mass to keep: 0.9 keeps the most likely tokens that together \
reach 90%; 1.0 keeps all.
    """
    try:
        return _checks.check_float("top_p", top_p, 0, 1, min_inclusive=False)
    except ValueError:
        raise ValueError(
            f"Expected 0 < top_p <= 1. Received: top_p={top_p!r}. top_p is the "
            "probability mass to keep: 0.9 keeps the most likely tokens that "
            "together reach 90%; 1.0 keeps all."
        ) from None


def check_settings(
    do_sample, temperature=1.0, top_k=None, top_p=None, vocab_size=None
) -> bool:
    """Validate a whole set of decoding settings at once; return ``do_sample``.

    Every generator in ``keras_gen`` (:func:`keras_gen.decoding.generate_ids`,
    ``GPT.generate``, the pipeline) calls this, so the same bad value gets the
    same message everywhere. ``do_sample`` must be a real bool (``"no"`` is not
    False). The sampling settings are checked even for greedy decoding, where
    they have no effect, so that a typo is caught before the user switches.

    Example:
        >>> check_settings(False, temperature=0)
        Traceback (most recent call last):
        ...
        ValueError: Expected temperature > 0. Received: temperature=0.0. \
Greedy decoding (do_sample=False) ignores temperature: leave it at 1.0.
    """
    do_sample = _checks.check_bool("do_sample", do_sample)
    if do_sample:
        check_temperature(temperature)
    else:
        try:
            _checks.check_float("temperature", temperature, 0, min_inclusive=False)
        except ValueError as error:
            raise ValueError(
                f"{error}. Greedy decoding (do_sample=False) ignores temperature: "
                "leave it at 1.0."
            ) from None
    if top_k is not None:
        check_top_k(top_k, vocab_size)
    if top_p is not None:
        check_top_p(top_p)
    return do_sample


def row_generators(seed, rows: int, first_row: int = 0) -> list:
    """One NumPy ``Generator`` per sequence, seeded by ``(seed, row index)``.

    With one generator per row, sequence ``i`` depends only on ``(seed, i)``:
    asking for 1 or 10 sequences gives the same first sequence, and decoding
    rows in smaller batches does not change any of them.

    Args:
        seed: An int, ``None`` (fresh entropy: not repeatable) or a NumPy
            ``Generator`` (one number is drawn from it as the seed).
        rows: How many generators.
        first_row: Index of the first row (for batches after the first).

    Example:
        >>> a = row_generators(7, 3)[2].random()
        >>> b = row_generators(7, 1, first_row=2)[0].random()
        >>> a == b
        True
    """
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    elif seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    else:
        seed = _checks.check_seed("seed", seed)
    return [np.random.default_rng([seed, first_row + i]) for i in range(rows)]


def softmax(logits) -> np.ndarray:
    """Probabilities from logits along the last axis (``-inf`` gives 0).

    Example:
        >>> softmax([0.0, np.log(3.0)]).round(3)
        array([0.25, 0.75])
    """
    logits = np.asarray(logits, dtype="float64")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def greedy(logits) -> np.ndarray:
    """The most likely token of each row (ties: the lowest id).

    Args:
        logits: ``(..., vocab_size)``.

    Returns:
        int array ``(...)``.

    Example:
        >>> greedy([[0.1, 2.0, -1.0], [3.0, 0.0, 3.0]])
        array([1, 0])
    """
    return np.asarray(logits).argmax(axis=-1)


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """Divide logits by ``temperature`` (``> 0``).

    ``softmax(logits / T)``: for ``T = 1`` the model's own distribution, for
    ``T < 1`` a sharper one, for ``T > 1`` a flatter one.

    Example:
        >>> softmax(apply_temperature([0.0, np.log(3.0)], 0.5)).round(3)
        array([0.1, 0.9])
    """
    temperature = check_temperature(temperature)
    return np.asarray(logits, dtype="float64") / temperature


def top_k_filter(logits, top_k: int) -> np.ndarray:
    """Keep the ``top_k`` largest logits of each row; the rest become ``-inf``.

    Exactly ``min(top_k, vocab_size)`` tokens survive, even with ties (the
    lower ids win a tie), so the number kept is always what was asked for.

    Example:
        >>> top_k_filter([1.0, 3.0, 2.0, 0.0], 2)
        array([-inf,   3.,   2., -inf])
    """
    top_k = check_top_k(top_k)
    logits = np.asarray(logits, dtype="float64")
    if top_k >= logits.shape[-1]:
        return logits.copy()
    # A stable sort of -logits: the k largest, ties broken by lower id.
    order = np.argsort(-logits, axis=-1, kind="stable")
    keep = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(keep, order[..., :top_k], True, axis=-1)
    return np.where(keep, logits, -np.inf)


def top_p_filter(logits, top_p: float) -> np.ndarray:
    """Keep the smallest set of most likely tokens with total probability ``>= p``.

    Tokens are sorted by probability; a token is kept if the tokens *before*
    it add up to less than ``top_p``. So the most likely token is always
    kept, and the set stops as soon as it reaches ``top_p``.

    Example:
        >>> probs = np.array([0.5, 0.3, 0.15, 0.05])
        >>> softmax(top_p_filter(np.log(probs), 0.75)).round(3)  # 0.5 + 0.3
        array([0.625, 0.375, 0.   , 0.   ])
    """
    top_p = check_top_p(top_p)
    logits = np.asarray(logits, dtype="float64")
    probs = softmax(logits)
    order = np.argsort(-probs, axis=-1, kind="stable")
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass ahead of each
    # A small tolerance so that 0.5 + 0.3 counts as reaching 0.8 despite
    # floating point (0.5 + 0.3 = 0.8000000000000002 or 0.7999999999999999).
    keep_sorted = before < top_p - 1e-12
    keep = np.zeros(logits.shape, dtype=bool)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return np.where(keep, logits, -np.inf)


def next_token_probs(
    logits, temperature: float = 1.0, top_k: int | None = None, top_p=None
) -> np.ndarray:
    """The distribution that sampling draws from, after every filter.

    Args:
        logits: ``(..., vocab_size)``.
        temperature: Softmax temperature, ``> 0``.
        top_k: Keep only this many most likely tokens (``None``: all).
        top_p: Keep the smallest set reaching this probability (``None``: all).

    Returns:
        float64 probabilities, same shape as ``logits``; each row sums to 1.

    Example:
        >>> next_token_probs([2.0, 1.0, 0.0], top_k=1)
        array([1., 0., 0.])
    """
    logits = apply_temperature(logits, temperature)
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    return softmax(logits)


def sample(
    logits,
    rng=None,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p=None,
) -> np.ndarray:
    """Draw one token per row from :func:`next_token_probs`.

    Args:
        logits: ``(batch, vocab_size)`` or ``(vocab_size,)``.
        rng: A NumPy ``Generator``, a seed, or a list of ``batch`` generators
            (one per row, see :func:`row_generators`); the same seed gives
            the same tokens.
        temperature: See :func:`next_token_probs`.
        top_k: See :func:`next_token_probs`.
        top_p: See :func:`next_token_probs`.

    Returns:
        int array ``(batch,)`` (or a scalar for 1-D logits).

    Example:
        >>> logits = np.log([[0.7, 0.2, 0.1]])
        >>> sample(logits, rng=0, top_k=1)  # only the top token survives
        array([0])
        >>> bool((sample(logits, 5) == sample(logits, 5)).all())  # seeded
        True
    """
    probs = next_token_probs(logits, temperature, top_k, top_p)
    flat = probs.reshape(-1, probs.shape[-1])
    if isinstance(rng, (list, tuple)):
        if len(rng) != flat.shape[0]:
            raise ValueError(
                f"Expected one generator per row ({flat.shape[0]}). Received: "
                f"{len(rng)} generators."
            )
        u = np.array([[g.random()] for g in rng]).reshape(-1, 1)
    else:
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        u = rng.random((flat.shape[0], 1))
    # Inverse-CDF sampling: one uniform number per row, vectorised.
    cdf = np.cumsum(flat, axis=-1)
    u = u * cdf[:, -1:]
    # Token i is drawn when cdf[i-1] <= u < cdf[i], so with probability
    # probs[i]; a filtered token (probability 0) can never be drawn.
    tokens = (cdf <= u).sum(axis=-1)
    return tokens.reshape(probs.shape[:-1])
