"""Shopping requests in plain English, and the captions that answer them.

Notebook 11's last step lets the language model write the image model's
prompt: a request such as ``"something for the beach"`` becomes a caption of
:mod:`keras_gen.text_to_image.captions` (``"a light narrow sandal"``), which the
text-to-image model draws. This module makes the (request, caption) pairs to
fine-tune and measure that step.

**The intents** (:data:`INTENTS`) are *our own toy mapping*, written for this
course, not a fact about fashion: each names the Fashion-MNIST classes and the
tones/widths (see :mod:`keras_gen.text_to_image.captions`) that we count as a right
answer.
A request never names its caption literally: "to carry my laptop" implies a
bag without saying "bag".

**Training and held-out requests** (:func:`split_requests`): every intent has
six phrasings; the first four train, the last two are held out. Held-out
*phrasings* of known intents test whether the model reads a new wording;
held-out *intents* would test knowledge of clothing, which a character-level
GPT pretrained on Python's documentation does not have, so none is held out.

**Targets** (:func:`make_pairs`): each training request is paired with
several captions, each a random allowed (class, tone, width) written in
phrasing 0 of :data:`keras_gen.text_to_image.captions.PHRASINGS` (``"a {tone} {width}
{noun}"``), so the model learns what the intent allows rather than one
answer per request.

**Scoring** (:func:`score_captions`): the share of outputs that parse as a
caption (:func:`keras_gen.text_to_image.captions.parse_caption`), whose class is
allowed,
whose tone and width are both allowed, and all three together.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_gen import _checks
from keras_gen.text_to_image import captions


@dataclasses.dataclass(frozen=True)
class Intent:
    """What a shopper wants, and what we accept as an answer.

    Attributes:
        name: A short key.
        classes: Allowed Fashion-MNIST labels.
        tones: Allowed tones (subset of :data:`keras_gen.text_to_image.captions.TONES`).
        widths: Allowed widths (subset of
            :data:`keras_gen.text_to_image.captions.WIDTHS`).
        phrasings: Six ways to ask; the first :data:`TRAIN_PHRASINGS` train.
    """

    name: str
    classes: tuple[int, ...]
    tones: tuple[str, ...]
    widths: tuple[str, ...]
    phrasings: tuple[str, ...]


_ANY_TONE = captions.TONES
_ANY_WIDTH = captions.WIDTHS
# Labels: 0 t-shirt, 1 trousers, 2 pullover, 3 dress, 4 coat, 5 sandal,
# 6 shirt, 7 sneaker, 8 bag, 9 ankle boot (keras_gen.text_to_image.captions.NOUNS).
#: The toy mapping from requests to allowed captions (ours, not a fashion fact).
INTENTS = (
    Intent(
        "beach",
        (5, 0),
        ("light",),
        _ANY_WIDTH,
        (
            "something for the beach",
            "what should i wear on the sand by the sea",
            "i am going to the seaside in july",
            "an outfit for a hot sunny holiday",
            "a beach day is coming, what do i need",
            "something cool for a day at the seaside",
        ),
    ),
    Intent(
        "winter",
        (4, 2),
        _ANY_TONE,
        ("wide",),
        (
            "warm for a winter walk",
            "it is freezing outside, help",
            "something cosy for a snowy day",
            "i get cold on my walk in january",
            "keep me warm in the snow",
            "what to wear when it is freezing in winter",
        ),
    ),
    Intent(
        "night_out",
        (3,),
        ("dark",),
        ("narrow",),
        (
            "for a night out",
            "i am going dancing tonight",
            "an elegant look for an evening party",
            "something chic for a late dinner in town",
            "what do i wear to a party tonight",
            "a classy outfit for the evening",
        ),
    ),
    Intent(
        "laptop",
        (8,),
        _ANY_TONE,
        ("wide",),
        (
            "to carry my laptop",
            "i need to take my computer to work",
            "somewhere to put my notebook computer and papers",
            "how do i bring my laptop on the train",
            "to carry my computer and my books",
            "i need something to hold my laptop",
        ),
    ),
    Intent(
        "office",
        (6, 1),
        ("dark",),
        ("narrow",),
        (
            "for a job interview",
            "smart clothes for the office",
            "what do i wear to a business meeting",
            "my first day at a new job in an office",
            "an interview for a job next week",
            "something smart for a meeting at the office",
        ),
    ),
    Intent(
        "sport",
        (7, 0),
        ("light",),
        _ANY_WIDTH,
        (
            "something for my morning run",
            "i want to start jogging",
            "what to wear to the gym",
            "an outfit for playing tennis",
            "i go running every morning",
            "something to wear for training at the gym",
        ),
    ),
    Intent(
        "hiking",
        (9,),
        ("dark",),
        _ANY_WIDTH,
        (
            "for hiking in the mud",
            "a walk in the hills when it is raining",
            "my feet get wet on muddy trails",
            "something for a rainy walk in the forest",
            "hiking on muddy paths in the rain",
            "what goes on my feet on a muddy hike",
        ),
    ),
    Intent(
        "garden_party",
        (3,),
        ("light",),
        ("wide",),
        (
            "a summer wedding in a garden",
            "something flowing for a garden party",
            "an afternoon tea party in june",
            "i am a guest at a wedding this summer",
            "what to wear to a garden party in summer",
            "a light outfit for a summer wedding",
        ),
    ),
    Intent(
        "lazy_sunday",
        (2, 0),
        _ANY_TONE,
        ("wide",),
        (
            "a lazy sunday at home",
            "something loose to relax on the sofa",
            "comfortable clothes for staying in",
            "i want to be comfy watching films at home",
            "relaxing at home all day on sunday",
            "something loose and comfy for the sofa",
        ),
    ),
)
#: How many phrasings of each intent train; the rest are held out.
TRAIN_PHRASINGS = 4
#: How a request is shown to the language model; the caption follows it.
PROMPT_TEMPLATE = "request: {request}\ncaption:"


def intent_named(name: str) -> Intent:
    """The :class:`Intent` called ``name``.

    Example:
        >>> intent_named("laptop").classes
        (8,)
    """
    names = [intent.name for intent in INTENTS]
    _checks.check_choice("name", name, names)
    return INTENTS[names.index(name)]


def split_requests(split: str) -> list[tuple[str, str]]:
    """``(request, intent name)`` of every intent, for one split.

    Args:
        split: ``"train"`` (the first :data:`TRAIN_PHRASINGS` phrasings of
            each intent) or ``"held_out"`` (the others).

    Returns:
        The requests, intent by intent.

    Example:
        >>> split_requests("held_out")[0]
        ('a beach day is coming, what do i need', 'beach')
    """
    _checks.check_choice("split", split, ("train", "held_out"))
    picked = (
        slice(None, TRAIN_PHRASINGS)
        if split == "train"
        else slice(TRAIN_PHRASINGS, None)
    )
    return [
        (request, intent.name)
        for intent in INTENTS
        for request in intent.phrasings[picked]
    ]


def prompt_for(request: str) -> str:
    r"""The text the language model completes with a caption.

    Example:
        >>> prompt_for("to carry my laptop")
        'request: to carry my laptop\ncaption:'
    """
    if not isinstance(request, str) or not request.strip():
        raise ValueError(
            f"Expected a non-empty request string. Received: request={request!r}"
        )
    return PROMPT_TEMPLATE.format(request=request.strip())


def allowed_captions(intent: Intent) -> list[str]:
    """Every caption (phrasing 0) that answers ``intent``.

    Example:
        >>> allowed_captions(intent_named("night_out"))
        ['a dark narrow dress']
    """
    return [
        captions.caption(label, tone, width)
        for label in intent.classes
        for tone in intent.tones
        for width in intent.widths
    ]


def make_pairs(per_request: int = 8, split: str = "train", seed: int = 0):
    r"""``(prompt, completion)`` pairs to fine-tune a caption writer.

    Each request of ``split`` gets ``per_request`` captions, each drawn at
    random from :func:`allowed_captions` of its intent; the completion is
    ``" " + caption + "\n"`` (the newline stops
    :func:`keras_gen.finetune.greedy_complete`).

    Args:
        per_request: Captions per request.
        split: ``"train"`` or ``"held_out"``.
        seed: Seed of the draws; the same seed gives the same pairs.

    Returns:
        A list of ``(prompt, completion)`` strings, request by request.

    Example:
        >>> make_pairs(1, seed=0)[0]
        ('request: something for the beach\ncaption:', ' a light wide t-shirt\n')
    """
    per_request = _checks.check_int("per_request", per_request, minimum=1)
    rng = np.random.default_rng(_checks.check_seed("seed", seed))
    pairs = []
    for request, name in split_requests(split):
        options = allowed_captions(intent_named(name))
        for index in rng.integers(0, len(options), per_request):
            pairs.append((prompt_for(request), f" {options[index]}\n"))
    return pairs


def score_captions(outputs, intent_names) -> dict:
    """How many generated captions parse, and answer their request.

    Args:
        outputs: Generated captions (strings).
        intent_names: The intent of each request, as many as ``outputs``.

    Returns:
        ``{"n", "parses", "class_ok", "attributes_ok", "all_ok"}``: the count
        and four shares in [0, 1]: parses as a caption; and among *all*
        outputs (an unparsable one counts as wrong), class allowed; tone and
        width both allowed; all three.

    Example:
        >>> score_captions(["a light wide sandal", "a dark wide sandal", "sand"],
        ...                ["beach", "beach", "beach"])["class_ok"]
        0.6667
    """
    outputs, intent_names = list(outputs), list(intent_names)
    if not outputs or len(outputs) != len(intent_names):
        raise ValueError(
            "Expected as many intent names as outputs (at least one). Received: "
            f"{len(outputs)} outputs, {len(intent_names)} intent names"
        )
    parses = class_ok = attributes_ok = all_ok = 0
    for output, name in zip(outputs, intent_names, strict=True):
        intent = intent_named(name)
        try:
            label, tone, width = captions.parse_caption(output)
        except ValueError:
            continue
        parses += 1
        good_class = label in intent.classes
        good_attributes = tone in intent.tones and width in intent.widths
        class_ok += good_class
        attributes_ok += good_attributes
        all_ok += good_class and good_attributes
    n = len(outputs)
    return {
        "n": n,
        **{
            key: round(count / n, 4)
            for key, count in (
                ("parses", parses),
                ("class_ok", class_ok),
                ("attributes_ok", attributes_ok),
                ("all_ok", all_ok),
            )
        },
    }


def nearest_request_captions(train_pairs, requests) -> list[str]:
    """The baseline: copy the caption of the most similar training request.

    Training requests and ``requests`` are compared by character n-gram
    TF-IDF (:class:`keras_gen.retrieval.TfidfEncoder`, cosine similarity);
    the first caption paired with the nearest training request is returned.

    Args:
        train_pairs: ``(prompt, completion)`` from :func:`make_pairs`.
        requests: Request strings to answer.

    Returns:
        One caption per request (stripped).

    Example:
        >>> pairs = make_pairs(1, seed=0)
        >>> nearest_request_captions(pairs, ["a day at the beach"])
        ['a light wide t-shirt']
    """
    from keras_gen.retrieval import TfidfEncoder

    if not train_pairs:
        raise ValueError("Expected at least one training pair. Received: none")
    first = {}
    for prompt, completion in train_pairs:
        first.setdefault(prompt, completion.strip())
    prompts = list(first)
    encoder = TfidfEncoder().fit(prompts)
    similarity = (
        encoder.encode([prompt_for(r) for r in requests]) @ encoder.encode(prompts).T
    )  # (len(requests), len(prompts))
    return [first[prompts[i]] for i in similarity.argmax(axis=1)]


#: Row length for fine-tuning (the longest prompt + caption is 93 characters).
PAIR_LENGTH = 96


def write_captions(model, tokenizer, requests, max_new_tokens: int = 40) -> list[str]:
    """The language model's caption for each request (greedy, stripped).

    Args:
        model: A :class:`~keras_gen.transformer.GPT`, fine-tuned or not.
        tokenizer: Its tokenizer.
        requests: Request strings.
        max_new_tokens: Longest caption, in tokens (the longest allowed one,
            with its space and newline, is 33).

    Returns:
        One string per request: the completion up to its first newline.
    """
    from keras_gen.finetune import greedy_complete

    prompts = [prompt_for(r) for r in requests]
    return [
        text.strip()
        for text in greedy_complete(model, tokenizer, prompts, max_new_tokens)
    ]


def finetune_writer(
    model,
    tokenizer,
    steps: int,
    per_request: int = 8,
    batch_size: int = 32,
    learning_rate: float = 5e-4,
    seed: int = 0,
    log_every: int | None = None,
):
    """Fine-tune ``model`` in place on :func:`make_pairs` (loss on the caption).

    :func:`keras_gen.finetune.prompt_completion_arrays` rows of the training
    requests, trained by :func:`keras_gen.finetune.finetune_lm`.

    Args:
        model: A :class:`~keras_gen.transformer.GPT` (the shipped one).
        tokenizer: Its tokenizer.
        steps: Optimizer steps.
        per_request: Captions per training request.
        batch_size: Rows per step.
        learning_rate: Peak learning rate.
        seed: Seed of the pairs and of the training.
        log_every: Passed to ``finetune_lm`` (the loss is logged every this
            many steps; exactly ``steps`` are trained).

    Returns:
        ``(history, pairs)``: the ``fit`` history and the training pairs.
    """
    from keras_gen.finetune import finetune_lm, prompt_completion_arrays

    pairs = make_pairs(per_request, "train", seed)
    length = min(PAIR_LENGTH, int(model.context_length))
    inputs, targets, weights = prompt_completion_arrays(tokenizer, pairs, length)
    history = finetune_lm(
        model,
        inputs,
        targets,
        weights,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        log_every=log_every,
    )
    return history, pairs
