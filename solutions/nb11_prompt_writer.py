"""Solution to Exercise 11.4 (notebook 11, section 5: the LLM writes the prompt).

Run ``python -m solutions.nb11_prompt_writer`` to fine-tune the shipped GPT
as the notebook does and compare free writing with choosing among the 40
captions on the held-out requests (about a minute on a 2-core CPU).
"""

from __future__ import annotations

from keras_gen.finetune import completion_log_probs
from keras_gen.text_to_image import captions, wishes


def all_captions() -> list[str]:
    """The 40 captions of phrasing 0: every class, tone and width."""
    return [
        captions.caption(label, tone, width)
        for label in range(len(captions.NOUNS))
        for tone in captions.TONES
        for width in captions.WIDTHS
    ]


def choose_captions(model, tokenizer, requests, candidates=None) -> list[str]:
    """Exercise 11.4: answer each request with its most likely candidate caption.

    Each candidate is scored as the completion ``" " + caption + "\\n"`` of
    the request's prompt (:func:`keras_gen.text_to_image.wishes.prompt_for`), by its
    total
    log-probability under ``model``; the best one is returned. Every answer
    is a valid caption, whatever the model would have written freely.

    Args:
        model: A GPT (fine-tuned with
            :func:`keras_gen.text_to_image.wishes.finetune_writer`).
        tokenizer: Its tokenizer.
        requests: Request strings.
        candidates: Captions to choose from; default :func:`all_captions`.

    Returns:
        One caption per request.
    """
    candidates = all_captions() if candidates is None else list(candidates)
    requests = list(requests)
    if not candidates or not requests:
        raise ValueError(
            "Expected at least one request and one candidate caption. Received: "
            f"{len(requests)} requests, {len(candidates)} candidates"
        )
    pairs = [
        (wishes.prompt_for(request), f" {text}\n")
        for request in requests
        for text in candidates
    ]
    length = max(len(tokenizer.encode(p + c)) for p, c in pairs)
    log_probs, _ = completion_log_probs(model, tokenizer, pairs, length)
    best = log_probs.reshape(len(requests), len(candidates)).argmax(axis=1)
    return [candidates[i] for i in best]


def compare(model, tokenizer) -> dict:
    """Free writing against choosing, on the held-out requests."""
    held_out = wishes.split_requests("held_out")
    requests = [request for request, _ in held_out]
    intents = [name for _, name in held_out]
    return {
        "written": wishes.score_captions(
            wishes.write_captions(model, tokenizer, requests), intents
        ),
        "chosen": wishes.score_captions(
            choose_captions(model, tokenizer, requests), intents
        ),
    }


if __name__ == "__main__":
    import keras

    from keras_gen.pretrained import load_pretrained

    keras.utils.set_random_seed(0)
    pretrained = load_pretrained()
    wishes.finetune_writer(pretrained.model, pretrained.tokenizer, 48, seed=0)
    for name, row in compare(pretrained.model, pretrained.tokenizer).items():
        print(name, row)
