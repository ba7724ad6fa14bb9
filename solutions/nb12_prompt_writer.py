"""Solution to Exercise 12.4 (notebook 12, section 5: the LLM writes the prompt).

Run ``python -m solutions.nb12_prompt_writer`` to fine-tune the shipped GPT
as the notebook does and compare, on the held-out requests, free writing,
choosing among the 19 valid captions (the notebook's writer,
:func:`keras_gen.text_to_image.wishes.choose_captions`) and choosing among
all 40 (a few minutes on a 2-core CPU).
"""

from __future__ import annotations

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
    """Exercise 12.4: the most likely of all 40 captions for each request.

    :func:`keras_gen.text_to_image.wishes.choose_captions` (each candidate
    scored by its total log-probability as the completion of the request's
    prompt) over :func:`all_captions` instead of the 19 valid ones: every
    answer parses, but it may be a caption that no intent allows.

    Args:
        model: A GPT (fine-tuned with
            :func:`keras_gen.text_to_image.wishes.finetune_writer`).
        tokenizer: Its tokenizer.
        requests: Request strings.
        candidates: Captions to choose from; default :func:`all_captions`.

    Returns:
        One caption per request.
    """
    candidates = all_captions() if candidates is None else candidates
    return wishes.choose_captions(model, tokenizer, requests, candidates)


def compare(model, tokenizer, limit: int | None = None) -> dict:
    """Free writing against choosing among 19 and among 40, held-out requests.

    Args:
        model: The fine-tuned GPT.
        tokenizer: Its tokenizer.
        limit: Score only the first ``limit`` held-out requests (``None``: all).

    Returns:
        ``{"written", "chosen_valid", "chosen_40"}``: each a
        :func:`keras_gen.text_to_image.wishes.score_captions` dict, and
        ``"outside_every_intent"``: the share of the 40-way choices that no
        intent allows.
    """
    held_out = wishes.split_requests("held_out")[:limit]
    requests = [request for request, _ in held_out]
    intents = [name for _, name in held_out]
    chosen_40 = choose_captions(model, tokenizer, requests)
    valid = set(wishes.valid_captions())
    return {
        "written": wishes.score_captions(
            wishes.write_captions(model, tokenizer, requests), intents
        ),
        "chosen_valid": wishes.score_captions(
            wishes.choose_captions(model, tokenizer, requests), intents
        ),
        "chosen_40": wishes.score_captions(chosen_40, intents),
        "outside_every_intent": round(
            sum(text not in valid for text in chosen_40) / len(chosen_40), 4
        ),
    }


def main(model=None, tokenizer=None, steps: int = 150, limit: int | None = None):
    """Print Exercise 12.4's answer: fine-tune as the notebook does, then compare.

    Args:
        model: A GPT to fine-tune; default the shipped one (with its tokenizer).
        tokenizer: Its tokenizer.
        steps: Fine-tuning steps (the notebook's full mode: 150).
        limit: Score only the first ``limit`` held-out requests.
    """
    import keras

    from keras_gen.pretrained import load_pretrained

    keras.utils.set_random_seed(0)
    if model is None:
        pretrained = load_pretrained()
        model, tokenizer = pretrained.model, pretrained.tokenizer
    wishes.finetune_writer(model, tokenizer, steps, per_request=4, seed=0)
    rows = compare(model, tokenizer, limit)
    right = {name: rows[name]["all_ok"] for name in ("written", "chosen_valid",
                                                     "chosen_40")}
    change = right["chosen_40"] - right["chosen_valid"]
    print(
        f"4. Choosing among all 40 captions, {rows['outside_every_intent']:.1%} of "
        "the answers are captions that no intent allows. All three attributes "
        f"right: {right['chosen_40']:.1%} among 40, {right['chosen_valid']:.1%} "
        f"among the 19 valid ones, {right['written']:.1%} writing freely: the "
        "wider choice "
        + ("changes nothing." if abs(change) < 1e-9 else
           f"{'raises' if change > 0 else 'lowers'} the share by "
           f"{abs(change):.1%}.")
    )
    return rows


if __name__ == "__main__":  # pragma: no cover - prints observed answers
    main()
