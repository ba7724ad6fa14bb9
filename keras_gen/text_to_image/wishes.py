"""Shopping requests in plain English, and the captions that answer them.

Notebook 12's last step lets the language model write the image model's
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

**Training and held-out requests** (:func:`split_requests`): every intent
has six hand-written phrasings (the first four train, the last two are held
out) and six *topics*, short names of the occasion ("a day at the seaside"),
each put into twelve sentence frames (:data:`FRAMES`: "what should i wear
for {}"). The first eight frames train; the last four are held out whole, so
a held-out request wraps a known topic in a sentence never seen in training:
466 training requests, 234 held out (18 hand-written, 216 framed). The last
two training frames also form a ``"validation"`` split (trained on
``"fit"``), on which settings are chosen. Held-out *intents* would test
knowledge of clothing, which a character-level GPT pretrained on Python's
documentation does not have, so none is held out.

**Targets** (:func:`make_pairs`): each training request is paired with
several captions, each a random allowed (class, tone, width) written in
phrasing 0 of :data:`keras_gen.text_to_image.captions.PHRASINGS` (``"a {tone} {width}
{noun}"``), so the model learns what the intent allows rather than one
answer per request.

**Scoring** (:func:`score_captions`): the share of outputs that parse as a
caption (:func:`keras_gen.text_to_image.captions.parse_caption`), whose class is
allowed,
whose tone and width are both allowed, and all three together.

**Writers**: :func:`write_captions` (the language model writes freely,
greedy), :func:`choose_captions` (decoding constrained to the
:func:`valid_captions`: the model picks the most likely of them) and the
baseline :func:`nearest_request_captions` (TF-IDF lookup, no network).
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
        phrasings: Six hand-written ways to ask; the first
            :data:`TRAIN_PHRASINGS` train.
        topics: Six short names of the occasion ("a day at the seaside"),
            each put into every sentence frame of :data:`FRAMES`.
    """

    name: str
    classes: tuple[int, ...]
    tones: tuple[str, ...]
    widths: tuple[str, ...]
    phrasings: tuple[str, ...]
    topics: tuple[str, ...] = ()


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
        (
            "the beach",
            "a day at the seaside",
            "a sunny holiday by the sea",
            "a hot day on the sand",
            "a trip to the coast",
            "a swim in the sea",
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
        (
            "a winter walk",
            "freezing weather",
            "a snowy day",
            "a cold january morning",
            "a walk in the snow",
            "a frosty evening outside",
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
        (
            "a night out",
            "dancing tonight",
            "an evening party",
            "a late dinner in town",
            "a cocktail party",
            "a night at the club",
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
        (
            "carrying my laptop",
            "taking my computer to work",
            "my notebook computer and papers",
            "my laptop on the train",
            "my computer and my books",
            "lugging a laptop around",
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
        (
            "a job interview",
            "the office",
            "a business meeting",
            "my first day at a new job",
            "a meeting with my boss",
            "work at the bank",
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
        (
            "my morning run",
            "jogging",
            "the gym",
            "playing tennis",
            "a run in the park",
            "training for a marathon",
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
        (
            "hiking in the mud",
            "a rainy walk in the hills",
            "muddy trails",
            "a wet walk in the forest",
            "hiking on muddy paths",
            "a hike in the rain",
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
        (
            "a summer wedding in a garden",
            "a garden party",
            "an afternoon tea party in june",
            "a wedding this summer",
            "a picnic wedding in the park",
            "a sunny garden celebration",
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
        (
            "a lazy sunday at home",
            "relaxing on the sofa",
            "staying in",
            "watching films at home",
            "a quiet day indoors",
            "lounging around the house",
        ),
    ),
)
#: How many hand-written phrasings of each intent train; the rest are held out.
TRAIN_PHRASINGS = 4
#: Sentence frames; each takes every topic of every intent. The first
#: :data:`TRAIN_FRAMES` train, the rest are held out whole: a held-out request
#: wraps a known topic in a sentence the writer never saw.
FRAMES = (
    "something for {}",
    "what should i wear for {}",
    "i need an outfit for {}",
    "help me get ready for {}",
    "clothes for {} please",
    "what do you suggest for {}",
    "i am getting ready for {}",
    "any tips on what to wear for {}",
    "what would you pick for {}",
    "i have nothing to wear for {}",
    "shopping for {}, any ideas",
    "find me something nice for {}",
)
#: How many frames train (the first ones); the other four are held out.
TRAIN_FRAMES = 8
#: The last this many training frames form the ``"validation"`` split, on
#: which settings are chosen (trained on ``"fit"``, never on held-out data).
VALIDATION_FRAMES = 2
#: The splits of :func:`split_requests`.
SPLITS = ("train", "held_out", "fit", "validation")
#: Where a request comes from: written by hand, made from a frame, or both.
SOURCES = ("all", "written", "framed")
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


def split_requests(split: str, source: str = "all") -> list[tuple[str, str]]:
    """``(request, intent name)`` of every intent, for one split.

    Each intent contributes its hand-written phrasings (the first
    :data:`TRAIN_PHRASINGS` train, the others are held out) and its topics in
    the sentence frames of its split (:data:`FRAMES`). No request is in both
    ``"train"`` and ``"held_out"``; ``"fit"`` and ``"validation"`` divide
    ``"train"``.

    Args:
        split: ``"train"`` (training phrasings and frames), ``"held_out"``
            (the others), ``"fit"`` (``"train"`` without its last
            :data:`VALIDATION_FRAMES` frames) or ``"validation"`` (those
            frames only, no hand-written phrasing).
        source: ``"all"``, ``"written"`` (hand-written phrasings only) or
            ``"framed"`` (frame requests only).

    Returns:
        The requests, intent by intent, hand-written first, without repeats.

    Example:
        >>> split_requests("held_out")[0]
        ('a beach day is coming, what do i need', 'beach')
        >>> len(split_requests("train")), len(split_requests("held_out"))
        (466, 234)
        >>> split_requests("held_out", "framed")[0][0]
        'what would you pick for the beach'
    """
    _checks.check_choice("split", split, SPLITS)
    _checks.check_choice("source", source, SOURCES)
    fit_frames = TRAIN_FRAMES - VALIDATION_FRAMES
    written, frames = {
        "train": (slice(None, TRAIN_PHRASINGS), slice(None, TRAIN_FRAMES)),
        "held_out": (slice(TRAIN_PHRASINGS, None), slice(TRAIN_FRAMES, None)),
        "fit": (slice(None, TRAIN_PHRASINGS), slice(None, fit_frames)),
        "validation": (slice(0), slice(fit_frames, TRAIN_FRAMES)),
    }[split]
    requests = {}
    for intent in INTENTS:
        if source != "framed":
            for request in intent.phrasings[written]:
                requests.setdefault(request, intent.name)
        if source != "written":
            for frame in FRAMES[frames]:
                for topic in intent.topics:
                    requests.setdefault(frame.format(topic), intent.name)
    return list(requests.items())


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


def valid_captions() -> list[str]:
    """Every caption that some intent allows, in table order, each once.

    The writer's constrained choice (:func:`choose_captions`) picks among
    these: an answer outside them is wrong for every request.

    Example:
        >>> captions_ok = valid_captions()
        >>> len(captions_ok), captions_ok[0]
        (19, 'a light narrow sandal')
    """
    return list(
        dict.fromkeys(text for intent in INTENTS for text in allowed_captions(intent))
    )


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


#: Row length for fine-tuning (the longest prompt + caption is 104 characters).
PAIR_LENGTH = 112


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
        for text in greedy_complete(
            model, tokenizer, prompts, max_new_tokens, verbose=False
        )
    ]


def choose_captions(
    model, tokenizer, requests, candidates=None, batch_size: int = 256
) -> list[str]:
    r"""The language model's most likely caption for each request, among a few.

    Decoding constrained to the valid captions: each candidate is scored as
    the completion ``" " + caption + "\n"`` of the request's prompt
    (:func:`prompt_for`) by its total log-probability under ``model``
    (:func:`keras_gen.finetune.completion_log_probs`), and the best one is
    returned. Every answer is a caption some intent allows; what the model
    decides is *which*.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        tokenizer: Its tokenizer.
        requests: Request strings.
        candidates: Captions to choose from; default :func:`valid_captions`.
        batch_size: Rows per forward pass.

    Returns:
        One caption per request.

    Raises:
        ValueError: No request or no candidate.
    """
    from keras_gen.finetune import completion_log_probs

    candidates = valid_captions() if candidates is None else list(candidates)
    requests = list(requests)
    if not candidates or not requests:
        raise ValueError(
            "Expected at least one request and one candidate caption. Received: "
            f"{len(requests)} requests, {len(candidates)} candidates"
        )
    pairs = [
        (prompt_for(request), f" {text}\n")
        for request in requests
        for text in candidates
    ]
    length = max(len(tokenizer.encode(p + c)) for p, c in pairs)
    log_probs, _ = completion_log_probs(
        model, tokenizer, pairs, length, batch_size=batch_size
    )  # (len(requests) * len(candidates),)
    best = np.asarray(log_probs).reshape(len(requests), len(candidates)).argmax(1)
    return [candidates[i] for i in best]


def finetune_writer(
    model,
    tokenizer,
    steps: int,
    per_request: int = 8,
    batch_size: int = 32,
    learning_rate: float = 5e-4,
    seed: int = 0,
    log_every: int | None = None,
    split: str = "train",
    jit_compile: bool = True,
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
        split: The requests trained on: ``"train"``, or ``"fit"`` to choose
            settings on ``"validation"``.
        jit_compile: XLA-compile the train step (passed to ``finetune_lm``);
            ``False`` is quicker for a few steps.

    Returns:
        ``(history, pairs)``: the ``fit`` history and the training pairs.
    """
    from keras_gen.finetune import finetune_lm, prompt_completion_arrays

    pairs = make_pairs(per_request, split, seed)
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
        jit_compile=jit_compile,
    )
    return history, pairs
