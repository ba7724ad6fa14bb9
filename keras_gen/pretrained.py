"""Save and load a language model as one folder: model, tokenizer and card.

A pretrained folder holds three files, always together:

* ``model.keras``: the :class:`~keras_gen.transformer.GPT` (weights and
  config, no optimizer state), loaded with ``safe_mode=True``;
* ``tokenizer.json``: the tokenizer that produced its training ids;
* ``card.json``: what it is and how it was made: the corpus, the training
  command, the step count and the validation loss measured after training.

The project ships one such folder, :data:`DEFAULT_MODEL_DIR`, made by
``make pretrained`` (``tools/train_pretrained.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile

import keras

from keras_gen import transformer  # noqa: F401  (registers GPT for loading)
from keras_gen.tokenizers import Tokenizer, load_tokenizer

#: The folder of the model that ships with the project.
DEFAULT_MODEL_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "data",
    "pretrained",
    "pydoc-char-gpt",
)
MODEL_FILE = "model.keras"
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "card.json"
REQUIRED_FILES = (MODEL_FILE, TOKENIZER_FILE, CARD_FILE)


@dataclasses.dataclass
class Pretrained:
    """A loaded pretrained folder.

    Attributes:
        model: The language model (token ids to next-token logits).
        tokenizer: Its tokenizer.
        card: The ``card.json`` contents (a dict).
        path: The folder it came from (``None`` if built in memory).
    """

    model: keras.Model
    tokenizer: Tokenizer
    card: dict
    path: str | None = None


def validation_loss(
    model: keras.Model,
    tokenizer: Tokenizer,
    corpus: str = "python_docs",
    validation_fraction: float = 0.1,
) -> float:
    """Next-token loss (nats per token) on the held-out end of ``corpus``.

    The held-out part is the last ``validation_fraction`` of the token ids, cut
    into non-overlapping windows of the model's context, in order: the same
    split and windows ``tools/train_pretrained.py`` records in the card, so
    the number can be checked after loading.

    Args:
        model: A language model with a ``context_length`` attribute.
        tokenizer: Its tokenizer.
        corpus: Anything :func:`keras_gen.text.load_corpus` accepts.
        validation_fraction: The held-out share, as in training.

    Returns:
        The mean loss in nats per token (per character for a char tokenizer).
    """
    from keras_gen.text import load_corpus, make_next_token_dataset, split_corpus
    from keras_gen.training import evaluate_loss, next_token_loss

    _, val_ids = split_corpus(
        tokenizer.encode(load_corpus(corpus)), validation_fraction
    )
    context = model.context_length
    windows = make_next_token_dataset(
        val_ids, context, 8, shuffle=False, stride=context
    )
    if not model.compiled:
        model.compile(loss=next_token_loss())
    return evaluate_loss(model, windows)


def _uncompiled_copy(model: keras.Model) -> keras.Model:
    """The same architecture and weights without optimizer state."""
    copy = model.__class__.from_config(model.get_config())
    copy.build((None, getattr(model, "context_length", None)))
    copy.set_weights(model.get_weights())
    return copy


def save_pretrained(
    folder: str, model: keras.Model, tokenizer: Tokenizer, card: dict | None = None
) -> str:
    """Write ``model``, ``tokenizer`` and ``card`` into ``folder``, atomically.

    The files are written to a temporary folder beside ``folder`` first and
    moved into place at the end, so an interrupted save never leaves a folder
    with half its files. An existing ``folder`` is replaced.

    Args:
        folder: Destination folder.
        model: A built language model (its optimizer state is not saved).
        tokenizer: The tokenizer the model was trained with.
        card: JSON-serialisable facts about the model (corpus, command, loss).

    Returns:
        ``folder``.

    Example:
        >>> import tempfile
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("abc", byte_fallback=False)
        >>> folder = save_pretrained(
        ...     tempfile.mkdtemp() + "/tiny", build_gpt(3, 8, 16, 2, 1), tok,
        ...     {"note": "untrained"})
        >>> sorted(os.listdir(folder))
        ['card.json', 'model.keras', 'tokenizer.json']
    """
    if not isinstance(tokenizer, Tokenizer):
        raise ValueError(
            "Expected a keras_gen tokenizer. Received: "
            f"tokenizer of type {type(tokenizer).__name__}"
        )
    vocab = getattr(model, "vocab_size", tokenizer.vocab_size)
    if vocab != tokenizer.vocab_size:
        raise ValueError(
            f"Expected the model's vocab_size ({vocab}) to equal the tokenizer's "
            f"({tokenizer.vocab_size}). Save the tokenizer the model was trained "
            "with."
        )
    folder = os.fspath(folder)
    card = dict(card or {})
    json.dumps(card)  # fail now, before writing anything, if not serialisable
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".partial-", dir=parent)
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a model is not
        _uncompiled_copy(model).save(os.path.join(staging, MODEL_FILE))
        tokenizer.save(os.path.join(staging, TOKENIZER_FILE))
        with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as f:
            json.dump(card, f, indent=2, sort_keys=True)
            f.write("\n")
        if os.path.exists(folder):
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    return folder


def load_pretrained(folder: str | None = None) -> Pretrained:
    """Load a folder written by :func:`save_pretrained`.

    Args:
        folder: The folder; default the model shipped with the project.

    Returns:
        A :class:`Pretrained` with ``model``, ``tokenizer``, ``card``, ``path``.

    Raises:
        FileNotFoundError: If the folder or one of its files is missing; the
            message names what is missing and how to make it.

    Example:
        >>> pretrained = load_pretrained()  # the shipped model
        >>> pretrained.model.vocab_size == pretrained.tokenizer.vocab_size
        True
    """
    folder = DEFAULT_MODEL_DIR if folder is None else os.fspath(folder)
    remake = (
        " Run `make pretrained` to rebuild the shipped model."
        if os.path.abspath(folder) == DEFAULT_MODEL_DIR
        else " Save one with keras_gen.pretrained.save_pretrained(folder, model, "
        "tokenizer)."
    )
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Expected a pretrained model folder. Received: {folder!r}, which is "
            f"not a folder.{remake}"
        )
    missing = [n for n in REQUIRED_FILES if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        raise FileNotFoundError(
            f"Expected {', '.join(REQUIRED_FILES)} in {folder!r}. Missing: "
            f"{', '.join(missing)}.{remake}"
        )
    model = keras.saving.load_model(os.path.join(folder, MODEL_FILE), safe_mode=True)
    tokenizer = load_tokenizer(os.path.join(folder, TOKENIZER_FILE))
    with open(os.path.join(folder, CARD_FILE), encoding="utf-8") as f:
        card = json.load(f)
    return Pretrained(model=model, tokenizer=tokenizer, card=card, path=folder)
