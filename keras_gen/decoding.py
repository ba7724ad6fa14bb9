"""The key/value-cache decoding loop: extend token ids one token at a time.

:func:`generate_ids` is the one decoding path of ``keras_gen``: the
article's pipeline (:func:`keras_gen.generation.pipeline`), ``GPT.generate``
and :func:`keras_gen.finetune.greedy_complete` all call it. It needs only a
model (a :class:`~keras_gen.transformer.GPT` or anything with the same
``context_length``, ``init_cache`` and ``call_with_cache``), so this module
imports neither :mod:`keras_gen.transformer` nor :mod:`keras_gen.pretrained`.

Each new token is picked from the model's next-token scores by a strategy in
:mod:`keras_gen.sampling` (greedy, temperature, top-k, top-p), and the model
runs incrementally with a **key/value cache** (:meth:`GPT.call_with_cache`):
the keys and values of past positions are kept, so a new token costs one
position's work instead of the whole prefix's.

The context window. A GPT with learned absolute positions sees at most
``context_length`` tokens. While prompt plus generated tokens fit, the cache
holds them all. Once the window is full, every further token is predicted
from the last ``context_length`` tokens, exactly as recomputation without a
cache would (``use_cache=False``); because every token's *position* shifts when
the window slides, cached keys are no longer valid, so each such step
re-runs the window from scratch (as slow as no cache). Greedy decoding with
and without the cache therefore gives the same tokens at every length.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import ops

from keras_gen import _checks, sampling

#: The most new tokens one call generates (about a minute and a half on a
#: 2-core CPU for the shipped model); longer texts are generated in pieces.
MAX_NEW_TOKENS = 10_000
#: Rows decoded together; more run batch after batch, so memory stays bounded.
DEFAULT_BATCH_SIZE = 64
#: Above this many new tokens in total, a progress bar is shown.
PROGRESS_THRESHOLD = 5_000


def _compile(fn, jit: bool, any_length: bool = False, length: int | None = None):
    """Compile ``fn`` into one graph (XLA if ``jit``) on TensorFlow.

    Keras has no backend-neutral ``jit`` for plain functions, so this reaches
    for ``tf.function``; on other backends the function runs eagerly.
    ``any_length``: trace once for int32 ids of any ``(batch, length)``;
    ``length``: trace once for int32 ids of shape ``(any batch, length)``.
    A signature means one trace per model, whatever the batch sizes: without
    it every new batch size traced again, and TensorFlow warned of
    "excessive retracing" in notebooks that decode with several models.
    """
    if keras.backend.backend() != "tensorflow":
        return fn
    import tensorflow as tf

    if any_length or length is not None:
        signature = [tf.TensorSpec((None, length), tf.int32)]
        return tf.function(fn, jit_compile=jit, input_signature=signature)
    return tf.function(fn, jit_compile=jit, reduce_retracing=True)


class _Decoder:
    """The compiled forward functions of one model (built once, reused).

    * ``prefill(ids)``: the whole window, ids padded to ``context_length``
      so the shape never changes (one compilation for any prompt length);
      a causal model's outputs at real positions do not depend on the
      padding after them, and the cache slots the padding fills are
      overwritten before any query can see them.
    * ``step(token, cache, position)``: one new token against the cache;
      fixed-size cache tensors and a tensor ``position`` mean one
      compilation for every position.
    * ``step_rows(token, cache, positions)``: the same with one position per
      row, for prompts of different lengths.
    * ``forward(ids)``: the plain model, for decoding without a cache.
    """

    def __init__(self, model, jit: bool):
        self.context_length = int(model.context_length)

        def prefill(ids):  # (batch, context_length)
            cache = model.init_cache(ops.shape(ids)[0])
            return model.call_with_cache(ids, cache, 0)  # (b, C, vocab), cache

        def step(token, cache, position):  # token (batch, 1)
            logits, cache = model.call_with_cache(token, cache, position)
            return logits[:, 0], cache  # (batch, vocab)

        def forward(ids):  # (batch, seq_len), seq_len changes every step
            return model(ids, training=False)[:, -1]  # (batch, vocab)

        def forward_all(ids):  # (batch, seq_len) -> (batch, seq_len, vocab)
            return model(ids, training=False)

        self.prefill = _compile(prefill, jit, length=self.context_length)
        self.step = _compile(step, jit)
        # The same step with one position per row (prompts of different
        # lengths): its own function, so each keeps a known position shape.
        self.step_rows = _compile(step, jit)
        # No XLA here: the length changes every step and XLA would compile
        # each length anew.
        self.forward = _compile(forward, jit=False, any_length=True)
        self.forward_all = _compile(forward_all, jit=False, any_length=True)


_DECODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _decoder(model, jit: bool) -> _Decoder:
    per_model = _DECODERS.setdefault(model, {})
    if jit not in per_model:
        per_model[jit] = _Decoder(model, jit)
    return per_model[jit]


def check_model(model) -> None:
    """Refuse a model that cannot decode with a key/value cache.

    Args:
        model: The model to check.

    Raises:
        ValueError: If ``model`` lacks ``vocab_size``, ``context_length``,
            ``init_cache`` or ``call_with_cache`` (a keras_gen GPT has them).

    Example:
        >>> check_model(keras.Sequential())
        Traceback (most recent call last):
        ...
        ValueError: Expected a keras_gen GPT (with context_length, init_cache and \
call_with_cache). Received: model of type Sequential, which has no vocab_size. \
Build one with keras_gen.transformer.build_gpt or load a pretrained folder.
    """
    for name in ("vocab_size", "context_length", "init_cache", "call_with_cache"):
        if not hasattr(model, name):
            raise ValueError(
                "Expected a keras_gen GPT (with context_length, init_cache and "
                f"call_with_cache). Received: model of type {type(model).__name__}"
                f", which has no {name}. Build one with "
                "keras_gen.transformer.build_gpt or load a pretrained folder."
            )


def _prompt_rows(model, prompt_ids) -> tuple[list, bool]:
    """Prompt ids as a list of 1-D int32 arrays (rows), and whether 1-D."""
    if (
        isinstance(prompt_ids, (list, tuple))
        and prompt_ids
        and all(isinstance(row, (list, tuple, np.ndarray)) for row in prompt_ids)
    ):
        rows = [np.asarray(row) for row in prompt_ids]  # maybe ragged
        squeeze = False
    else:
        ids = np.asarray(prompt_ids)
        squeeze = ids.ndim == 1
        ids = np.atleast_2d(ids)
        if ids.ndim != 2:
            raise ValueError(
                "Expected prompt_ids of shape (batch, prompt_len). Received: "
                f"shape {ids.shape}."
            )
        rows = list(ids)
    for row in rows:
        if row.ndim != 1 or row.size == 0:
            raise ValueError(
                "Expected non-empty 1-D prompts (batch, prompt_len) with "
                f"prompt_len >= 1. Received: a prompt of shape {row.shape}. "
                "Encode a non-empty prompt."
            )
        if not np.issubdtype(row.dtype, np.integer):
            raise ValueError(
                f"Expected integer token ids. Received: dtype {row.dtype}. "
                "Encode the text with the model's tokenizer first."
            )
        low, high = int(row.min()), int(row.max())
        if low < 0 or high >= model.vocab_size:
            raise ValueError(
                f"Expected token ids in [0, vocab_size={model.vocab_size}). "
                f"Received: ids from {low} to {high}. Encode the prompt with the "
                "tokenizer the model was trained with."
            )
    return [row.astype("int32") for row in rows], squeeze


def _checked_logits(logits, step: int) -> np.ndarray:
    logits = np.asarray(logits, dtype="float64")
    if not np.isfinite(logits).all():
        raise FloatingPointError(
            f"Expected finite next-token scores. Received: NaN or infinite "
            f"logits at new token {step}. The model's weights are probably "
            "damaged (a NaN from diverged training or a corrupted file): "
            "reload or retrain the model."
        )
    return logits


def generate_ids(
    model,
    prompt_ids,
    max_new_tokens: int,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | np.random.Generator | None = None,
    use_cache: bool = True,
    jit: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    verbose: bool | None = None,
) -> np.ndarray:
    """Extend token ids by ``max_new_tokens``, one token at a time.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        prompt_ids: int ``(batch, prompt_len)`` (prompts of equal length), a
            1-D sequence of ids, or a list of 1-D sequences of different
            lengths (these are decoded together, each row from its own last
            position; prompt plus new tokens must then fit the context
            window). Only the last ``context_length`` ids are seen.
        max_new_tokens: Tokens to append, ``0 .. MAX_NEW_TOKENS``.
        do_sample: ``False``: greedy (the most likely token). ``True``: draw
            from the distribution shaped by ``temperature``, ``top_k`` and
            ``top_p`` (see :mod:`keras_gen.sampling`).
        temperature: Softmax temperature (``> 0``), used when sampling.
        top_k: Keep only the ``top_k`` most likely tokens when sampling
            (``1 .. vocab_size``).
        top_p: Nucleus sampling: keep the smallest set of tokens with total
            probability ``>= top_p``.
        seed: Seed (or NumPy ``Generator``) for sampling. Row ``i`` draws
            from its own generator seeded by ``(seed, i)``, so it depends
            only on the seed and ``i``: not on how many rows are asked for
            or on ``batch_size``.
        use_cache: Decode incrementally with the key/value cache (fast) or
            recompute the whole window for every token (slow; for comparison).
        jit: Compile the cached forward functions with XLA (TensorFlow).
        batch_size: Rows decoded together; more rows run batch after batch,
            so memory stays bounded.
        verbose: Show a progress bar; ``None``: only for long requests.

    Returns:
        int32 NumPy array ``(batch, prompt_len + max_new_tokens)`` (1-D if
        ``prompt_ids`` was 1-D; a list of 1-D arrays for prompts of
        different lengths): the prompt followed by the new tokens.

    Raises:
        ValueError: For a bad setting or token ids outside the vocabulary.
        FloatingPointError: If the model's scores are NaN or infinite.

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> keras.utils.set_random_seed(0)
        >>> model = build_gpt(12, 16, 16, num_heads=2, num_layers=1)
        >>> cached = generate_ids(model, [1, 2, 3], 5, jit=False)  # jit: slower start
        >>> recomputed = generate_ids(model, [1, 2, 3], 5, use_cache=False)
        >>> cached.shape, bool((cached == recomputed).all())
        ((8,), True)
    """
    check_model(model)
    max_new_tokens = _checks.check_int("max_new_tokens", max_new_tokens, minimum=0)
    if max_new_tokens > MAX_NEW_TOKENS:
        raise ValueError(
            f"Expected max_new_tokens <= {MAX_NEW_TOKENS}. Received: "
            f"max_new_tokens={max_new_tokens}. Such a request runs for many "
            "minutes; generate in pieces, feeding the end of one piece as the "
            "next prompt."
        )
    do_sample = sampling.check_settings(
        do_sample, temperature, top_k, top_p, vocab_size=model.vocab_size
    )
    use_cache = _checks.check_bool("use_cache", use_cache)
    jit = _checks.check_bool("jit", jit)
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    if verbose is not None:
        verbose = _checks.check_bool("verbose", verbose)
    if not isinstance(seed, np.random.Generator):
        seed = _checks.check_seed("seed", seed)  # checked for greedy runs too
    rows, squeeze = _prompt_rows(model, prompt_ids)
    ragged = len({len(row) for row in rows}) > 1
    if ragged and max(map(len, rows)) + max_new_tokens > model.context_length:
        raise ValueError(
            "Expected prompts of different lengths plus max_new_tokens to fit "
            f"the context window ({model.context_length} tokens). Received: a "
            f"{max(map(len, rows))}-token prompt and max_new_tokens="
            f"{max_new_tokens}. Pass prompts of equal length, or one at a time."
        )
    generators = sampling.row_generators(seed, len(rows)) if do_sample else None
    if verbose is None:
        verbose = max_new_tokens * len(rows) > PROGRESS_THRESHOLD
    progress = keras.utils.Progbar(max_new_tokens * len(rows)) if verbose else None
    settings = dict(
        do_sample=do_sample,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        use_cache=use_cache,
        progress=progress,
    )
    decoder = _decoder(model, jit)
    out = []
    for first in range(0, len(rows), batch_size):
        chunk = rows[first : first + batch_size]
        chunk_generators = (
            None if generators is None else generators[first:][: len(chunk)]
        )
        if ragged:
            out.extend(
                _decode_ragged(
                    decoder, chunk, max_new_tokens, chunk_generators, **settings
                )
            )
        else:
            out.extend(
                _decode(
                    decoder,
                    np.stack(chunk),
                    max_new_tokens,
                    chunk_generators,
                    **settings,
                )
            )
    if squeeze:
        return out[0]
    return out if ragged else np.stack(out)


def _pick(logits, step, generators, do_sample, temperature, top_k, top_p):
    """Token ids ``(batch,)`` from logits ``(batch, vocab)``: keras_gen.sampling."""
    logits = _checked_logits(logits, step)
    if not do_sample:
        return sampling.greedy(logits)
    return sampling.sample(logits, generators, temperature, top_k, top_p)


def _decode(decoder, ids, max_new_tokens, generators, *, use_cache, progress, **choose):
    """Decode rows of equal prompt length; see :func:`generate_ids`."""
    window = decoder.context_length
    batch = ids.shape[0]
    out = np.zeros((batch, ids.shape[1] + max_new_tokens), "int32")
    out[:, : ids.shape[1]] = ids
    length = ids.shape[1]  # tokens in `out` so far
    if max_new_tokens == 0:
        return list(out)

    def refill():
        """Run the last `window` tokens from scratch; return logits, cache."""
        seen = min(length, window)
        padded = np.zeros((batch, window), "int32")  # (batch, context_length)
        padded[:, :seen] = out[:, length - seen : length]
        logits, cache = decoder.prefill(ops.convert_to_tensor(padded))
        return ops.convert_to_numpy(logits[:, seen - 1]), cache, seen

    if use_cache:
        logits, cache, cached = refill()  # `cached`: positions in the cache
    for i in range(max_new_tokens):
        if not use_cache:
            recent = out[:, max(0, length - window) : length]  # (batch, <= C)
            logits = decoder.forward(ops.convert_to_tensor(recent))
            logits = ops.convert_to_numpy(logits)
        out[:, length] = _pick(logits, i, generators, **choose)
        length += 1
        if progress is not None:
            progress.add(batch)
        if not use_cache or i == max_new_tokens - 1:
            continue
        if cached < window:  # room left: one cheap step
            token = ops.convert_to_tensor(out[:, length - 1 : length])
            position = ops.convert_to_tensor(cached, "int32")
            logits, cache = decoder.step(token, cache, position)
            logits = ops.convert_to_numpy(logits)
            cached += 1
        else:  # window full: positions shift, the cache is stale
            logits, cache, cached = refill()
    return list(out)


def _decode_ragged(
    decoder, rows, max_new_tokens, generators, *, use_cache, progress, **choose
):
    """Decode prompts of different lengths together, each row at its own position.

    The prompts are right-padded and run once; each row's first new token is
    read at its own last position (a causal model never looks at the padding
    to the right). Then every step feeds each row's newest token at that row's
    position, with per-row positions in the cache (the padding slots are
    overwritten before any query can see them).
    """
    window = decoder.context_length
    batch = len(rows)
    lengths = np.array([len(row) for row in rows])  # (batch,)
    out = np.zeros((batch, int(lengths.max()) + max_new_tokens), "int32")
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    every = np.arange(batch)
    if max_new_tokens and use_cache:
        padded = np.zeros((batch, window), "int32")
        padded[:, : out.shape[1]] = out
        logits, cache = decoder.prefill(ops.convert_to_tensor(padded))
        logits = ops.convert_to_numpy(logits)[every, lengths - 1]  # (batch, vocab)
    for i in range(max_new_tokens):
        if not use_cache:
            width = int(lengths.max())
            full = decoder.forward_all(ops.convert_to_tensor(out[:, :width]))
            logits = ops.convert_to_numpy(full)[every, lengths - 1]
        out[every, lengths] = _pick(logits, i, generators, **choose)
        lengths = lengths + 1
        if progress is not None:
            progress.add(batch)
        if use_cache and i < max_new_tokens - 1:
            token = ops.convert_to_tensor(out[every, lengths - 1][:, None])
            positions = ops.convert_to_tensor(lengths - 1, "int32")  # (batch,)
            logits, cache = decoder.step_rows(token, cache, positions)
            logits = ops.convert_to_numpy(logits)
    return [out[i, : lengths[i]] for i in range(batch)]
