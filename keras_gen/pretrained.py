"""Save and load a language model as one folder: model, tokenizer and card.

A pretrained folder holds three files, always together:

* ``model.keras``: the :class:`~keras_gen.transformer.GPT` (weights and
  config, no optimizer state), loaded with ``safe_mode=True``;
* ``tokenizer.json``: the tokenizer that produced its training ids;
* ``card.json``: what it is and how it was made: the corpus, the training
  command, the step count and the validation loss measured after training.

The folder format, its hashes and the atomic swap are
:mod:`keras_gen.model_folder`'s, shared with the designer, the text-to-image
model and the classifier cache. The project ships one such folder,
:data:`DEFAULT_MODEL_DIR`, made by ``make pretrained``
(``tools/train_pretrained.py``).
"""

from __future__ import annotations

import dataclasses
import os

import keras

from keras_gen import (
    model_folder,
    transformer,  # noqa: F401  (registers GPT for loading)
)
from keras_gen._files import FileFormatError, data_path
from keras_gen.model_folder import (  # noqa: F401  (the names this module had)
    CARD_FILE,
    HASHES_KEY,
    MAX_CARD_BYTES,
    MODEL_FILE,
    TOKENIZER_FILE,
)
from keras_gen.tokenizers import Tokenizer, load_tokenizer

#: The folder of the model that ships with the project.
DEFAULT_MODEL_DIR = data_path("pretrained", "pydoc-char-gpt")
REQUIRED_FILES = (MODEL_FILE, TOKENIZER_FILE, CARD_FILE)
HASHED_FILES = (MODEL_FILE, TOKENIZER_FILE)
_OLD_MARK = model_folder.BACKUP_MARK


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
        The caller's ``model`` is left as it was: the loss is measured on an
        uncompiled copy, compiled here with
        :func:`keras_gen.training.next_token_loss`.
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
    copy = model_folder.uncompiled_copy(model)  # never compile the caller's
    copy.compile(loss=next_token_loss())
    return evaluate_loss(copy, windows)


_uncompiled_copy = model_folder.uncompiled_copy


def check_destination(folder: str) -> None:
    """Refuse to replace anything but a missing, empty or model folder.

    :func:`save_pretrained` calls it first; a script can call it before
    training, so a bad destination fails at once. The rules are
    :func:`keras_gen.model_folder.check_destination`'s.

    Raises:
        ValueError: ``folder`` is a file, a link, or holds other files (or a
            directory named like one of a model folder's files).

    Example:
        >>> import tempfile
        >>> check_destination(tempfile.mkdtemp())  # empty: fine
    """
    model_folder.check_destination(folder, "pretrained model folder")


def save_pretrained(
    folder: str, model: keras.Model, tokenizer: Tokenizer, card: dict | None = None
) -> str:
    """Write ``model``, ``tokenizer`` and ``card`` into ``folder``, atomically.

    The files are written to a temporary folder beside ``folder`` first. An
    existing model folder is then renamed aside, the new one renamed into
    place and only then the old one deleted; if anything fails (or Ctrl-C
    arrives, even twice) before the end, the old folder is put back, by this
    save or the next one. So an interrupted save leaves either the old model
    or the new one, never half of one (:func:`keras_gen.model_folder.swap_in`).

    To protect other files, ``folder`` must be missing, empty, or a model
    folder (only ``model.keras``, ``tokenizer.json`` and ``card.json``):
    ``save_pretrained(".")`` raises instead of emptying the current directory.

    The card gets one more key, ``"sha256"``: the SHA-256 of ``model.keras``
    and ``tokenizer.json``, which :func:`load_pretrained` checks.

    Args:
        folder: Destination folder.
        model: A built language model (its optimizer state is not saved).
        tokenizer: The tokenizer the model was trained with.
        card: JSON-serialisable facts about the model (corpus, command, loss);
            finite numbers only (NaN is not JSON).

    Returns:
        ``folder``.

    Raises:
        ValueError: A bad argument, a card that is not JSON, or a ``folder``
            that holds other files.

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
    if card is not None and not isinstance(card, dict):
        raise ValueError(
            f"Expected card to be a dict. Received: card of type {type(card).__name__}"
        )
    if card is not None and HASHES_KEY in card:
        raise ValueError(
            f"Expected a card without the key {HASHES_KEY!r}, which save_pretrained "
            "fills in itself. Received: card with that key."
        )
    return model_folder.save_folder(
        folder, model, card, tokenizer=tokenizer, what="pretrained model folder"
    )


def load_pretrained(folder: str | None = None, tokenizer_loader=None) -> Pretrained:
    """Load a folder written by :func:`save_pretrained`, checking every file.

    ``card.json`` is read first; the SHA-256 it records for ``model.keras``
    and ``tokenizer.json`` must match the files, so altered weights, a
    config edited to fewer layers or a damaged zip are refused with a message
    that names the file, instead of loading silently or failing deep inside.

    Args:
        folder: The folder; default the model shipped with the project.
        tokenizer_loader: Reads ``tokenizer.json``; default
            :func:`keras_gen.tokenizers.load_tokenizer`. Another tokenizer
            class passes its own (``keras_gen.molecules.smiles`` does).

    Returns:
        A :class:`Pretrained` with ``model``, ``tokenizer``, ``card`` (without
        its ``"sha256"`` entry, so it equals the card given to
        :func:`save_pretrained`), ``path``.

    Raises:
        FileNotFoundError: If the folder or one of its files is missing; the
            message names what is missing and how to make it.
        keras_gen._files.FileFormatError: (a ``ValueError``) If a file is
            damaged or does not match its recorded SHA-256; the message names
            the file.

    Example:
        >>> pretrained = load_pretrained()  # the shipped model
        >>> pretrained.model.vocab_size == pretrained.tokenizer.vocab_size
        True
    """
    folder = DEFAULT_MODEL_DIR if folder is None else os.fspath(folder)
    remake = (
        " Run `git checkout data/pretrained` or `make pretrained` to restore "
        "the shipped model."
        if os.path.abspath(folder) == DEFAULT_MODEL_DIR
        else " Save one with keras_gen.pretrained.save_pretrained(folder, model, "
        "tokenizer)."
    )
    contents = model_folder.load_folder(
        folder,
        what="pretrained model folder",
        tokenizer=True,
        expect=("GPT",),  # and any class not of another keras_gen folder kind
        remake=remake,
    )
    tokenizer = (tokenizer_loader or load_tokenizer)(contents.tokenizer_path)
    model_path = contents.model_path
    model = model_folder.load_model(model_path, remake)
    if getattr(model, "vocab_size", tokenizer.vocab_size) != tokenizer.vocab_size:
        raise FileFormatError(
            f"Expected the model in {model_path} and the tokenizer beside it to "
            f"share a vocabulary. Received: vocab_size {model.vocab_size} and "
            f"{tokenizer.vocab_size}.{remake}"
        )
    return Pretrained(model=model, tokenizer=tokenizer, card=contents.card, path=folder)
