"""Solutions to the exercises of notebook 06 (the text-generation pipeline)."""

from __future__ import annotations

import keras
import numpy as np

from keras_gen import sampling


def _last_logits(model, ids) -> np.ndarray:
    """Next-token logits ``(batch, vocab)`` after the last ``context_length`` ids."""
    window = np.atleast_2d(np.asarray(ids, "int32"))[:, -model.context_length :]
    return keras.ops.convert_to_numpy(model(window))[:, -1].astype("float64")


def repetition_penalty(logits, previous_ids, penalty: float = 1.3) -> np.ndarray:
    """Exercise 1: make tokens that already appeared less likely.

    The rule of Keskar et al. (2019, CTRL), as used by Hugging Face: a seen
    token's logit is divided by ``penalty`` if positive and multiplied by it
    if negative, so it always moves down. ``penalty=1`` changes nothing.

    Args:
        logits: ``(vocab_size,)`` next-token logits.
        previous_ids: Ids generated (or prompted) so far.
        penalty: ``>= 1``.

    Returns:
        The penalised logits (a new array).
    """
    if penalty < 1:
        raise ValueError(
            f"Expected penalty >= 1. Received: penalty={penalty}. 1 means no change."
        )
    logits = np.array(logits, dtype="float64")
    seen = np.unique(np.asarray(previous_ids, "int64"))
    values = logits[seen]
    logits[seen] = np.where(values > 0, values / penalty, values * penalty)
    return logits


def greedy_with_penalty(model, prompt_ids, new_tokens: int, penalty: float = 1.3):
    """Greedy decoding with :func:`repetition_penalty` (recomputes; short runs)."""
    ids = list(np.asarray(prompt_ids, "int32"))
    for _ in range(new_tokens):
        logits = repetition_penalty(_last_logits(model, ids)[0], ids, penalty)
        ids.append(int(sampling.greedy(logits)))
    return np.array(ids, "int32")


def continuation_log_prob(model, prompt_ids, continuation_ids) -> float:
    """Exercise 2: log-probability (nats) the model gives a continuation.

    ``log p(c_1 .. c_n | prompt) = sum_t log p(c_t | prompt, c_1 .. c_{t-1})``:
    one forward pass over prompt + continuation gives every term at once
    (position ``t`` predicts token ``t + 1``). Prompt plus continuation must
    fit in the context window.
    """
    prompt = list(np.asarray(prompt_ids, "int32"))
    continuation = list(np.asarray(continuation_ids, "int32"))
    ids = np.array([prompt + continuation], "int32")  # (1, P + n)
    if ids.shape[1] > model.context_length:
        raise ValueError(
            f"Expected prompt + continuation <= context_length="
            f"{model.context_length}. Received: {ids.shape[1]} tokens."
        )
    logits = keras.ops.convert_to_numpy(model(ids))[0].astype("float64")
    log_probs = np.log(sampling.softmax(logits))  # (P + n, vocab)
    rows = np.arange(len(prompt) - 1, ids.shape[1] - 1)  # predict each c_t
    return float(log_probs[rows, continuation].sum())


def beam_search(model, prompt_ids, new_tokens: int, num_beams: int = 4):
    """Exercise 3: keep the ``num_beams`` most likely continuations so far.

    Greedy keeps one sequence and may commit early to a likely token that
    leads nowhere; beam search keeps several and returns the one with the
    highest total log-probability. ``num_beams=1`` is greedy decoding.
    Recomputes every beam at every step: fine for the short runs here.

    Returns:
        ``(ids, log_prob)``: the best sequence (prompt included) and its
        continuation's log-probability in nats.
    """
    if num_beams < 1:
        raise ValueError(f"Expected num_beams >= 1. Received: num_beams={num_beams}")
    beams = [(list(np.asarray(prompt_ids, "int32")), 0.0)]
    for _ in range(new_tokens):
        batch = np.array([ids for ids, _ in beams], "int32")  # (beams, length)
        log_probs = np.log(sampling.softmax(_last_logits(model, batch)))
        candidates = []
        for (ids, score), row in zip(beams, log_probs, strict=True):
            for token in np.argsort(-row, kind="stable")[:num_beams]:
                candidates.append((ids + [int(token)], score + float(row[token])))
        candidates.sort(key=lambda item: -item[1])  # stable: earlier beams win ties
        beams = candidates[:num_beams]
    best, score = beams[0]
    return np.array(best, "int32"), score
