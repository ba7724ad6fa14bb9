"""Solutions to the exercises of notebook 06 (the text-generation pipeline).

Run ``python -m solutions.nb06`` to print the answers this run observes, with
the model that ships with keras_gen (about a minute on a 2-core CPU).
"""

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


#: The prompt of the article and of notebook 06.
PROMPT = "The future of AI in healthcare is"

#: Notebook 06's section 3 strategies, with the same arguments.
STRATEGIES = {
    "greedy": {"do_sample": False},
    "temperature 0.7": {"do_sample": True, "temperature": 0.7},
    "temperature 1.5": {"do_sample": True, "temperature": 1.5},
    "top-k 10": {"do_sample": True, "top_k": 10},
    "top-p 0.9": {"do_sample": True, "top_p": 0.9},
}


def distinct_fraction(text: str, n: int = 4) -> float:
    """Distinct n-character pieces / all pieces (notebook 06): 1.0 = no repeats."""
    pieces = [text[i : i + n] for i in range(len(text) - n + 1)]
    return len(set(pieces)) / max(1, len(pieces))


def main(
    generator=None,
    prompt: str = PROMPT,
    new_tokens: int = 200,
    penalty: float = 1.3,
    num_beams: int = 4,
) -> None:
    """Print each exercise's answer as this run observes it.

    Args:
        generator: A :func:`keras_gen.generation.pipeline` (default: the model
            that ships with keras_gen, as in notebook 06).
        prompt: The prompt (the article's).
        new_tokens: Tokens each continuation adds (notebook 06: 200).
        penalty: Repetition penalty of exercise 1.
        num_beams: Beams of exercise 3.
    """
    if generator is None:
        from keras_gen.generation import pipeline

        generator = pipeline("text-generation")
    model, tokenizer = generator.model, generator.tokenizer
    prompt_ids = tokenizer.encode(prompt)
    room = model.context_length - len(prompt_ids)  # continuation tokens that fit

    def log_prob(continuation_ids) -> float:
        return continuation_log_prob(model, prompt_ids, continuation_ids[:room])

    greedy_ids = greedy_with_penalty(model, prompt_ids, new_tokens, 1.0)
    penalised_ids = greedy_with_penalty(model, prompt_ids, new_tokens, penalty)
    print(
        f"1. greedy decoding, {new_tokens} new tokens, without and with "
        f"repetition penalty {penalty}:"
    )
    ex1 = {}
    for name, ids in (("plain", greedy_ids), (f"penalty {penalty}", penalised_ids)):
        continuation = ids[len(prompt_ids) :]
        text = tokenizer.decode(continuation)
        ex1[name] = (distinct_fraction(text), log_prob(continuation))
        per_token = ex1[name][1] / min(len(continuation), room)
        print(
            f"   {name:12} distinct 4-grams {ex1[name][0]:.2f}, model's own "
            f"log-prob {per_token:.2f} nats per token: {text[:70]!r}"
        )
    (plain_distinct, plain_lp), (pen_distinct, pen_lp) = ex1.values()
    fewer = "repeats less" if pen_distinct > plain_distinct else "does not repeat less"
    if pen_lp < plain_lp:
        likelihood = (
            f"the model finds its text less likely ({plain_lp:.1f} -> "
            f"{pen_lp:.1f} nats): the penalty also pushes down tokens that "
            "text needs again and again (for characters: every common letter)"
        )
    else:
        likelihood = (
            f"the model does not find it less likely ({plain_lp:.1f} -> "
            f"{pen_lp:.1f} nats)"
        )
    print(
        f"   With the penalty greedy decoding {fewer} (distinct 4-grams "
        f"{plain_distinct:.2f} -> {pen_distinct:.2f}), and {likelihood}."
    )
    if pen_distinct <= plain_distinct:
        print(
            f"   The prompt alone already puts {len(set(prompt_ids))} different "
            "tokens under the penalty, and a token seen once is lowered as much "
            "as one seen fifty times: once the usual tokens are all lowered "
            "alike, nothing stops one of them from repeating."
        )

    print(
        f"2. log p(continuation | prompt) of section 3's continuations "
        f"({new_tokens} new tokens, seed 0):"
    )
    scores = {}
    for name, kwargs in STRATEGIES.items():
        result = generator(
            prompt, max_new_tokens=new_tokens, seed=0, return_full_text=False, **kwargs
        )
        continuation = tokenizer.encode(result[0]["generated_text"])
        scores[name] = log_prob(continuation)
        print(
            f"   {name:16} {scores[name]:8.1f} nats "
            f"({scores[name] / min(len(continuation), room):.2f} per token)"
        )
    best = max(scores, key=scores.get)
    print(
        f"   The most likely is {best}'s"
        + (
            ": it takes the likeliest token at every step."
            if best == "greedy"
            else ", not greedy's."
        )
        + " But greedy maximises each step, not the sum over steps: a less "
        "likely token now can lead to much likelier tokens later, which "
        "exercise 3 looks for."
    )

    beam_ids, beam_lp = beam_search(model, prompt_ids, new_tokens, num_beams)
    greedy_lp = log_prob(greedy_ids[len(prompt_ids) :])
    beam_text = tokenizer.decode(beam_ids[len(prompt_ids) :])
    print(
        f"3. beam search, {num_beams} beams, {new_tokens} new tokens: "
        f"{beam_lp:.1f} nats against greedy's {greedy_lp:.1f}; distinct "
        f"4-grams {distinct_fraction(beam_text):.2f}: {beam_text[:70]!r}"
    )
    if beam_lp > greedy_lp + 1e-6:
        verdict = (
            f"beam search found a continuation {beam_lp - greedy_lp:.1f} nats "
            "more likely than greedy's: greedy is not guaranteed to find the "
            "most likely sequence."
        )
        if distinct_fraction(beam_text) < distinct_fraction(
            tokenizer.decode(greedy_ids[len(prompt_ids) :])
        ):
            verdict += (
                " Its text repeats even more than greedy's: the most likely "
                "text is not the most readable one."
            )
    else:
        verdict = "here greedy's continuation was as likely as beam search's best."
    print(f"   {verdict}")


if __name__ == "__main__":
    main()
