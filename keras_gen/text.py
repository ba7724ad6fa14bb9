"""Text corpora for language-model pretraining, split and cut into windows.

The article says LLMs are "pre-trained on diverse datasets". This module gives
a learner three real corpora, all loaded by :func:`load_corpus`:

* ``"python_docs"`` (the default): the English reference text that ships with
  every CPython install (``pydoc_data.topics``, about 465,000 characters of
  prose about the Python language). It needs no download.
* ``"tiny_shakespeare"``: the 1,115,394-byte file used by char-rnn and
  nanoGPT, fetched once with ``keras.utils.get_file`` and checked against a
  pinned SHA-256 (needs the internet the first time).
* a path to any UTF-8 text file, so learners can train on their own writing.

:func:`split_corpus` cuts a token sequence into training and validation parts
*by position* (the validation text is a later stretch of the corpus, never
windows shuffled out of the training text), and :func:`make_next_token_dataset` turns a
part into a ``tf.data`` pipeline of ``(input, next-token)`` windows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from keras_gen import _checks

#: Name of the corpus that ships with Python and is used when none is given.
DEFAULT_CORPUS = "python_docs"

#: Where ``"tiny_shakespeare"`` is downloaded from (Karpathy's char-rnn repo).
TINY_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/"
    "data/tinyshakespeare/input.txt"
)
#: SHA-256 of the 1,115,394-byte Tiny Shakespeare ``input.txt``.
TINY_SHAKESPEARE_SHA256 = (
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
)

#: Corpora that :func:`load_corpus` knows by name.
CORPORA = ("python_docs", "tiny_shakespeare")


def _python_docs() -> str:
    # The topics dict ships with CPython for `help("topic")`; sorting the keys
    # makes the joined text identical on every machine with the same Python.
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"


def _tiny_shakespeare(cache_dir: str | None = None) -> str:
    import keras

    if cache_dir is not None:
        # get_file silently falls back to /tmp/.keras if the folder is missing.
        os.makedirs(cache_dir, exist_ok=True)
    path = keras.utils.get_file(
        fname="tiny_shakespeare.txt",
        origin=TINY_SHAKESPEARE_URL,
        file_hash=TINY_SHAKESPEARE_SHA256,
        hash_algorithm="sha256",
        cache_dir=cache_dir,
        cache_subdir="datasets",
    )
    return _read_utf8(path)


def _read_utf8(path: str) -> str:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"Expected a UTF-8 text file. Received: path={path!r}, which has a "
            f"byte that is not UTF-8 at position {err.start}. Re-save the file as "
            "UTF-8 (most editors offer this under 'Save as... / Encoding')."
        ) from None


def load_corpus(
    name_or_path: str = DEFAULT_CORPUS, cache_dir: str | None = None
) -> str:
    """Load a text corpus as one Python string.

    Args:
        name_or_path: ``"python_docs"`` (default, needs no download),
            ``"tiny_shakespeare"`` (downloaded once, SHA-256 checked) or the
            path of a UTF-8 text file.
        cache_dir: Where ``keras.utils.get_file`` keeps downloads; default
            ``~/.keras``.

    Returns:
        The corpus text.

    Raises:
        ValueError: If the name is unknown and no such file exists, the file
            is not UTF-8, or the corpus is empty.

    Example:
        >>> text = load_corpus()
        >>> len(text) > 400_000
        True
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ValueError(
            "Expected name_or_path to be a corpus name or a file path. "
            f"Received: name_or_path={name_or_path!r}"
        )
    name = os.fspath(name_or_path)
    if name == "python_docs":
        text = _python_docs()
    elif name == "tiny_shakespeare":
        text = _tiny_shakespeare(cache_dir)
    elif os.path.isfile(name):
        text = _read_utf8(name)
    else:
        raise ValueError(
            f"Expected one of the corpus names {CORPORA} or the path of an "
            f"existing text file. Received: name_or_path={name!r}"
        )
    if not text.strip():
        raise ValueError(
            "Expected a corpus with some text in it. Received an empty corpus "
            f"from name_or_path={name!r}."
        )
    return text


def split_corpus(tokens: Sequence | str, validation_fraction: float = 0.1):
    """Split a corpus into training and validation parts by position.

    The first ``1 - validation_fraction`` of the sequence is for training, the
    rest for validation. Splitting by position (not by shuffled windows) means
    no validation window overlaps a training window, so the validation loss
    measures text the model has never seen.

    Args:
        tokens: A string or a sequence of token ids.
        validation_fraction: Share of the corpus kept for validation, in
            ``(0, 1)``.

    Returns:
        ``(train, validation)``: two strings for a string, otherwise two int32
        NumPy arrays.

    Example:
        >>> split_corpus("abcdefghij", 0.2)
        ('abcdefgh', 'ij')
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            "Expected 0 < validation_fraction < 1. "
            f"Received: validation_fraction={validation_fraction}"
        )
    n = len(tokens)
    cut = int(round(n * (1.0 - validation_fraction)))
    if cut < 1 or cut >= n:
        raise ValueError(
            "Expected a corpus long enough to give both parts at least one token. "
            f"Received: {n} tokens with validation_fraction={validation_fraction}"
        )
    if isinstance(tokens, str):
        return tokens[:cut], tokens[cut:]
    ids = np.asarray(tokens, dtype="int32")
    return ids[:cut], ids[cut:]


def make_next_token_dataset(
    token_ids,
    context_length: int,
    batch_size: int,
    shuffle: bool = True,
    stride: int = 1,
    seed: int = 0,
    repeat: bool = False,
):
    """Cut token ids into ``(input, next-token)`` windows, batched.

    Window ``i`` starts at ``i * stride``: its input is
    ``ids[start : start + context_length]`` and its target is the same window
    shifted by one token, ``ids[start + 1 : start + context_length + 1]``. So
    every position in a window is a next-token prediction problem.

    Args:
        token_ids: 1-D sequence of int token ids.
        context_length: Tokens per window (the model's context).
        batch_size: Windows per batch. The last, partial batch is dropped so
            every batch has the same shape (one XLA compilation).
        shuffle: Shuffle window order (reshuffled every pass), for training.
        stride: Distance between window starts; ``1`` uses every position,
            ``context_length`` gives non-overlapping windows (validation).
        seed: Shuffle seed, so runs repeat exactly.
        repeat: Repeat forever; use with ``fit(steps_per_epoch=...)``.

    Returns:
        A ``tf.data.Dataset`` of ``(inputs, targets)``, both int32
        ``(batch_size, context_length)``.

    Raises:
        ValueError: If the corpus is too short for one batch of windows.

    Example:
        >>> ds = make_next_token_dataset(list(range(100)), 8, batch_size=4)
        >>> x, y = next(iter(ds))
        >>> x.shape, y.shape
        (TensorShape([4, 8]), TensorShape([4, 8]))
    """
    # TensorFlow directly: tf.data is the input pipeline Keras' fit() consumes
    # on this backend; Keras has no backend-neutral equivalent.
    import tensorflow as tf

    context_length = _checks.check_int("context_length", context_length, minimum=1)
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    stride = _checks.check_int("stride", stride, minimum=1)
    ids = np.asarray(token_ids, dtype="int32")
    if ids.ndim != 1:
        raise ValueError(
            "Expected token_ids to be a 1-D sequence of ints. "
            f"Received: token_ids with shape {ids.shape}"
        )
    num_windows = (len(ids) - context_length - 1) // stride + 1
    if len(ids) < context_length + 1 or num_windows < batch_size:
        need = (batch_size - 1) * stride + context_length + 1
        raise ValueError(
            f"Expected at least {need} tokens for one batch of {batch_size} "
            f"windows of context_length={context_length} (stride {stride}). "
            f"Received: {len(ids)} tokens. Use a longer corpus, a smaller "
            "context_length or batch_size, or a smaller validation_fraction."
        )
    corpus = tf.constant(ids)
    offsets = tf.range(context_length + 1)

    def to_windows(starts):  # starts: (batch,)
        windows = tf.gather(corpus, starts[:, None] + offsets)  # (batch, T + 1)
        return windows[:, :-1], windows[:, 1:]  # (batch, T), (batch, T)

    starts = tf.range(num_windows, dtype="int32") * stride  # (num_windows,)
    usable = num_windows // batch_size * batch_size

    def epoch_batches(epoch):  # one pass: every window start once, as batches
        order = starts
        if shuffle:
            # A whole-epoch permutation in one op; tf.data's shuffle() would
            # fill a buffer element by element (seconds for 400k windows).
            order = tf.random.experimental.stateless_shuffle(
                starts, seed=tf.stack([tf.cast(seed, "int64"), epoch])
            )
        return tf.reshape(order[:usable], (-1, batch_size))  # (batches, batch)

    passes = tf.data.Dataset.range(2**62) if repeat else tf.data.Dataset.range(1)
    ds = passes.map(epoch_batches).unbatch()  # batches of window starts
    ds = ds.map(to_windows, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
