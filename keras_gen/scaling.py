"""Quality against training-set size and model size, at a fixed step budget.

The article says both families need a lot of data: Gen AI "large, often
diverse datasets", LLMs "extensive language datasets". Notebook 08 measures
it on one image model and one language model with the same recipe for every
point: train for a fixed number of steps on the first ``n`` examples, then
score on held-out data. Each function here trains and scores one point, so
the notebook and ``tools/nb08_sweeps.py`` (which stores the whole sweep)
compute every number the same way.

- :func:`image_point`: a dense VAE (:mod:`keras_gen.vae`) on ``n`` Fashion-MNIST
  images; its Fréchet distance beside the real-data floor
  (:func:`keras_gen.metrics.image_quality`) and its negative ELBO on the
  training images and on test images, in bits per pixel.
- :func:`text_point`: a GPT (:mod:`keras_gen.transformer`) on the first ``n``
  characters of the corpus; bits per character on that training text and on
  the held-out end of the corpus, both with :func:`text_bits`.

A train/held-out gap that opens as ``n`` shrinks is overfitting: the model
has seen its few examples many times (``epochs`` in each result) and learned
them rather than their distribution.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

from keras_gen._checks import check_int

#: Steps every point trains for (the fixed budget), per family.
IMAGE_STEPS = 600
TEXT_STEPS = 600
#: Shares of the training set the data sweeps use, about 1% to 100%.
FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)
#: The image model: the article's widths (encoder order) and a 16-d code.
IMAGE_HIDDEN_UNITS = (1024, 512, 256)
IMAGE_LATENT_DIM = 16
IMAGE_BATCH = 64
#: Width multipliers of the image model-size sweep.
IMAGE_WIDTH_SCALES = (0.125, 0.25, 0.5, 1.0)
#: The language model of the data sweep: (embed_dim, num_heads, num_layers).
TEXT_MODEL = (64, 4, 3)
#: The language model-size sweep (notebook 05's three sizes).
TEXT_MODELS = ((32, 2, 2), (64, 4, 3), (128, 4, 4))
TEXT_CONTEXT = 64
TEXT_BATCH = 12
#: Held-out windows scored: 22 x 32 x 64 characters is nearly all of the
#: validation text of the default corpus.
EVAL_BATCHES, EVAL_BATCH = 22, 32
#: Images compared per side for the Fréchet distance and its floor.
N_SCORE = 1000
#: Images on which each negative ELBO is averaged.
N_ELBO = 2000


def bits_per_dimension(nats: float, dimensions: int) -> float:
    """Nats per example to bits per dimension (pixel, character, ...).

    Example:
        >>> round(bits_per_dimension(784 * math.log(2), 784), 6)  # a fair coin
        1.0
    """
    dimensions = check_int("dimensions", dimensions, 1)
    return nats / (dimensions * math.log(2))


def scaled_widths(scale: float, widths=IMAGE_HIDDEN_UNITS) -> tuple[int, ...]:
    """The image model's hidden widths times ``scale`` (at least 8 each).

    Example:
        >>> scaled_widths(0.25)
        (256, 128, 64)
    """
    return tuple(max(8, round(w * scale)) for w in widths)


def image_point(
    train_images,
    test_images,
    n_train: int,
    steps: int = IMAGE_STEPS,
    hidden_units=IMAGE_HIDDEN_UNITS,
    seed: int = 0,
    n_score: int = N_SCORE,
    jit_compile="auto",
) -> dict:
    """Train a dense VAE on the first ``n_train`` images and score it.

    Args:
        train_images: ``(n, 28, 28, 1)`` in [-1, 1]; the first ``n_train`` are
            used.
        test_images: Held-out images, at least ``N_ELBO``.
        n_train: Training images, ``IMAGE_BATCH <= n_train <= len(train_images)``.
        steps: Optimizer steps of batch ``IMAGE_BATCH``.
        hidden_units: The encoder's hidden widths; the decoder mirrors them.
        seed: Seed of the weights, the data order and the samples.
        n_score: Samples for the Fréchet distance (and real images for its
            floor).
        jit_compile: Passed to :meth:`keras_gen.vae.VAE.compile`: ``"auto"``
            (XLA for this dense VAE); ``False`` skips the XLA compile, which
            only pays off over many steps.

    Returns:
        A dict: ``n_train``, ``steps``, ``params``, ``epochs`` (passes over the
        training images), ``seconds`` (training), ``train_bits`` and
        ``test_bits`` (negative ELBO per pixel, in bits, on up to ``N_ELBO``
        training and test images), ``frechet``, ``floor`` and
        ``classes_seen``.
    """
    from keras_gen import data, metrics, vae

    n_train = check_int("n_train", n_train, IMAGE_BATCH, len(train_images))
    steps = check_int("steps", steps, 1)
    keras.utils.set_random_seed(seed)
    widths = tuple(hidden_units)
    model = vae.VAE(
        vae.build_encoder(IMAGE_LATENT_DIM, hidden_units=widths),
        vae.build_decoder(IMAGE_LATENT_DIM, hidden_units=widths[::-1]),
        seed=seed,
    )
    model.compile(jit_compile=jit_compile)
    images = data.make_image_dataset(
        train_images, IMAGE_BATCH, subset=n_train, seed=seed
    )
    start = time.perf_counter()
    model.fit(images.repeat(), epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    pixels = math.prod(model.image_shape)
    seen = train_images[: min(n_train, N_ELBO)]
    report = metrics.image_quality(model.generate(n_score, seed=seed + 1), seed=seed)
    return {
        "n_train": n_train,
        "steps": steps,
        "params": model.count_params(),
        "epochs": steps * IMAGE_BATCH / n_train,
        "seconds": seconds,
        "train_bits": bits_per_dimension(metrics.evaluate_elbo(model, seen), pixels),
        "test_bits": bits_per_dimension(
            metrics.evaluate_elbo(model, test_images[:N_ELBO]), pixels
        ),
        "frechet": report.frechet,
        "floor": report.floor,
        "classes_seen": report.coverage["classes_seen"],
        "model": model,
    }


def text_point(
    train_ids,
    val_ids,
    n_tokens: int,
    vocab_size: int,
    steps: int = TEXT_STEPS,
    model_shape=TEXT_MODEL,
    seed: int = 0,
    learning_rate: float = 2e-3,
    jit_compile: bool = True,
    eval_batches: int = EVAL_BATCHES,
) -> dict:
    """Train a character GPT on the first ``n_tokens`` ids and score it.

    Args:
        train_ids: Training token ids (1-D); the first ``n_tokens`` are used.
        val_ids: Held-out token ids.
        n_tokens: Training tokens, enough for one batch of windows.
        vocab_size: The tokenizer's vocabulary size.
        steps: Optimizer steps of ``TEXT_BATCH`` windows of ``TEXT_CONTEXT``.
        model_shape: ``(embed_dim, num_heads, num_layers)``.
        seed: Seed of the weights and the window order.
        learning_rate: Peak of the warm-up + cosine schedule (notebook 05's).
        jit_compile: XLA-compile the train and evaluation steps
            (:func:`keras_gen.training.compile_for_pretraining`'s default);
            ``False`` skips the compile, which only pays off over many steps.
        eval_batches: Batches each of the two scores averages (see
            :func:`text_bits`).

    Returns:
        A dict: ``n_tokens``, ``steps``, ``params``, ``epochs`` (passes over
        the training text), ``seconds``, ``train_bits`` and ``val_bits`` (bits
        per character on up to ``eval_batches`` batches of the training text
        and of the held-out text).
    """
    from keras_gen.text import make_next_token_dataset
    from keras_gen.training import compile_for_pretraining, make_optimizer
    from keras_gen.transformer import build_gpt

    minimum = TEXT_CONTEXT + EVAL_BATCH * TEXT_CONTEXT
    n_tokens = check_int("n_tokens", n_tokens, minimum, len(train_ids))
    steps = check_int("steps", steps, 1)
    embed_dim, num_heads, num_layers = model_shape
    keras.utils.set_random_seed(seed)
    model = build_gpt(vocab_size, TEXT_CONTEXT, embed_dim, num_heads, num_layers)
    optimizer = make_optimizer(
        learning_rate,
        total_steps=steps,
        warmup_steps=max(1, steps // 10),
        min_learning_rate=learning_rate / 10,
    )
    compile_for_pretraining(model, optimizer, jit_compile=jit_compile)
    subset = np.asarray(train_ids[:n_tokens])
    windows = make_next_token_dataset(
        subset, TEXT_CONTEXT, TEXT_BATCH, repeat=True, seed=seed
    )
    start = time.perf_counter()
    model.fit(windows, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start

    return {
        "n_tokens": n_tokens,
        "steps": steps,
        "params": model.count_params(),
        "epochs": steps * TEXT_BATCH * TEXT_CONTEXT / n_tokens,
        "seconds": seconds,
        "train_bits": text_bits(model, subset, eval_batches),
        "val_bits": text_bits(model, val_ids, eval_batches),
        "model": model,
    }


def text_bits(model, ids, batches: int = EVAL_BATCHES) -> float:
    """Bits per character of a compiled character GPT on the start of ``ids``.

    The text is cut into non-overlapping windows of ``TEXT_CONTEXT``, in
    order, and the first ``batches`` batches of ``EVAL_BATCH`` windows are
    scored: by default ``EVAL_BATCHES * EVAL_BATCH * TEXT_CONTEXT`` = 45,056
    characters, or all of ``ids`` when it is shorter.

    Args:
        model: A GPT compiled with the next-token loss (as :func:`text_point`
            returns it).
        ids: Token ids (1-D), at least ``EVAL_BATCH * TEXT_CONTEXT + 1`` of
            them (one batch of windows).
        batches: Batches of windows to score, >= 1 (default
            ``EVAL_BATCHES``).

    Returns:
        The mean next-token loss in bits per character.

    Example:
        >>> from keras_gen.training import compile_for_pretraining
        >>> from keras_gen.transformer import build_gpt
        >>> model = build_gpt(5, TEXT_CONTEXT, 16, num_heads=2, num_layers=1)
        >>> _ = compile_for_pretraining(model, jit_compile=False)
        >>> bits = text_bits(model, np.arange(2100) % 5)  # untrained: about uniform
        >>> abs(bits - math.log2(5)) < 0.5
        True
    """
    from keras_gen.text import make_next_token_dataset
    from keras_gen.training import evaluate_loss

    windows = make_next_token_dataset(
        np.asarray(ids), TEXT_CONTEXT, EVAL_BATCH, shuffle=False, stride=TEXT_CONTEXT
    )
    batches = check_int("batches", batches, 1)
    return evaluate_loss(model, windows.take(batches)) / math.log(2)
