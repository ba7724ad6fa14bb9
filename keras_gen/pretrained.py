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
import glob
import os
import re
import shutil
import tempfile
import warnings
import zipfile

import keras

from keras_gen import transformer  # noqa: F401  (registers GPT for loading)
from keras_gen._files import (
    PARTIAL_MARK,
    FileFormatError,
    dump_json,
    read_json,
    sha256_file,
)
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
#: The card key that holds the SHA-256 of each file, checked on load.
HASHES_KEY = "sha256"
HASHED_FILES = (MODEL_FILE, TOKENIZER_FILE)
#: A card is a few kilobytes; anything above this is not a card.
MAX_CARD_BYTES = 1 << 20
_OLD_MARK = ".old-"


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


def check_destination(folder: str) -> None:
    """Refuse to replace anything but a missing, empty or model folder.

    :func:`save_pretrained` calls it first; a script can call it before
    training, so a bad destination fails at once.

    Raises:
        ValueError: ``folder`` is a file, a link, or holds other files.

    Example:
        >>> check_destination(tempfile.mkdtemp())  # empty: fine
    """
    if not os.path.lexists(folder):
        return
    if not os.path.isdir(folder) or os.path.islink(folder):
        raise ValueError(
            f"Expected folder to be a new folder or a pretrained model folder. "
            f"Received: folder={folder!r}, which is a file or a link. Choose "
            "another path."
        )
    others = sorted(set(os.listdir(folder)) - set(REQUIRED_FILES))
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise ValueError(
            "Expected folder to be a new or empty folder, or a pretrained model "
            f"folder (only {', '.join(REQUIRED_FILES)}), since it is replaced "
            f"as a whole. Received: folder={folder!r}, which also holds "
            f"{len(others)} other entries ({shown}). Save into a new folder, "
            "e.g. os.path.join(folder, 'my-model')."
        )


def _siblings(folder: str, mark: str) -> list[str]:
    parent, name = os.path.split(folder)
    return glob.glob(os.path.join(parent, f".{glob.escape(name)}{mark}*"))


def save_pretrained(
    folder: str, model: keras.Model, tokenizer: Tokenizer, card: dict | None = None
) -> str:
    """Write ``model``, ``tokenizer`` and ``card`` into ``folder``, atomically.

    The files are written to a temporary folder beside ``folder`` first. An
    existing model folder is then renamed aside, the new one renamed into
    place and the old one deleted; if anything fails (or Ctrl-C arrives)
    before the end, the old folder is put back. So an interrupted save leaves
    either the old model or the new one, never half of one.

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
    card = dict(card or {})
    if HASHES_KEY in card:
        raise ValueError(
            f"Expected a card without the key {HASHES_KEY!r}, which save_pretrained "
            "fills in itself. Received: card with that key."
        )
    dump_json(card)  # fail now, before writing anything, if not JSON
    folder = os.path.abspath(os.fspath(folder))
    check_destination(folder)
    parent, name = os.path.split(folder)
    os.makedirs(parent, exist_ok=True)
    for stale in _siblings(folder, PARTIAL_MARK):  # left by a killed save
        shutil.rmtree(stale, ignore_errors=True)
    if all(os.path.isfile(os.path.join(folder, n)) for n in REQUIRED_FILES):
        for stale in _siblings(folder, _OLD_MARK):  # the folder is whole again
            shutil.rmtree(stale, ignore_errors=True)
    staging = tempfile.mkdtemp(prefix=f".{name}{PARTIAL_MARK}", dir=parent)
    backup = None
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a model is not
        _uncompiled_copy(model).save(os.path.join(staging, MODEL_FILE))
        tokenizer.save(os.path.join(staging, TOKENIZER_FILE))
        card[HASHES_KEY] = {
            n: sha256_file(os.path.join(staging, n)) for n in HASHED_FILES
        }
        with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as f:
            f.write(dump_json(card))
        if os.path.exists(folder):
            backup = tempfile.mkdtemp(prefix=f".{name}{_OLD_MARK}", dir=parent)
            os.replace(folder, backup)  # an empty backup folder is replaced
        os.replace(staging, folder)
    except BaseException:
        # Ctrl-C may land between any two steps: judge by what is on disk.
        if backup is not None and not os.path.exists(folder) and os.listdir(backup):
            os.replace(backup, folder)  # put the old model back
        raise
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
        if backup is not None and os.path.exists(backup):
            shutil.rmtree(backup)
    return folder


def _check_hashes(folder: str, card: dict, remake: str) -> None:
    card_path = os.path.join(folder, CARD_FILE)
    hashes = card.pop(HASHES_KEY, None)
    if hashes is None:
        warnings.warn(
            f"{card_path} records no SHA-256 of the model files, so they cannot "
            "be checked. Save the folder again with save_pretrained to add them.",
            stacklevel=3,
        )
        return
    if (
        not isinstance(hashes, dict)
        or sorted(hashes) != sorted(HASHED_FILES)
        or not all(
            isinstance(h, str) and re.fullmatch("[0-9a-f]{64}", h)
            for h in hashes.values()
        )
    ):
        raise FileFormatError(
            f"Expected {card_path} to hold {HASHES_KEY!r}: a SHA-256 (64 hex "
            f"digits) for each of {', '.join(HASHED_FILES)}. Received: "
            f"{HASHES_KEY}={hashes!r}. The card is damaged.{remake}"
        )
    for name in HASHED_FILES:
        actual = sha256_file(os.path.join(folder, name))
        if actual != hashes[name]:
            raise FileFormatError(
                f"{os.path.join(folder, name)} is damaged or was changed: its "
                f"SHA-256 is {actual}, but {CARD_FILE} records {hashes[name]}. "
                f"Restore the folder (the files belong together).{remake}"
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
            class passes its own (``keras_gen.molecules`` does).

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
    if not os.path.isdir(folder):
        backups = _siblings(os.path.abspath(folder), _OLD_MARK)
        hint = (
            f" An interrupted save left the previous model in {backups[0]!r}; "
            "rename it to restore it."
            if backups
            else remake
        )
        raise FileNotFoundError(
            f"Expected a pretrained model folder. Received: {folder!r}, which is "
            f"not a folder.{hint}"
        )
    missing = [n for n in REQUIRED_FILES if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        raise FileNotFoundError(
            f"Expected {', '.join(REQUIRED_FILES)} in {folder!r}. Missing: "
            f"{', '.join(missing)}.{remake}"
        )
    card_path = os.path.join(folder, CARD_FILE)
    card = read_json(card_path, "card", MAX_CARD_BYTES)
    if not isinstance(card, dict):
        raise FileFormatError(
            f"Expected {card_path} to hold a JSON object. Received: "
            f"{type(card).__name__}.{remake}"
        )
    _check_hashes(folder, card, remake)
    tokenizer = (tokenizer_loader or load_tokenizer)(
        os.path.join(folder, TOKENIZER_FILE)
    )
    model_path = os.path.join(folder, MODEL_FILE)
    if not zipfile.is_zipfile(model_path):  # Keras would say "File not found"
        raise FileFormatError(
            f"Could not load {model_path}: it is damaged or not a Keras model "
            f"file (not a zip archive, as .keras files are).{remake}"
        )
    try:
        model = keras.saving.load_model(model_path, safe_mode=True)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, TypeError) as error:
        raise FileFormatError(
            f"Could not load {model_path}: it is damaged or not a Keras model "
            f"file ({type(error).__name__}: {error}).{remake}"
        ) from error
    except ValueError as error:  # e.g. safe_mode refusing a lambda
        raise FileFormatError(f"Could not load {model_path}: {error}") from error
    if getattr(model, "vocab_size", tokenizer.vocab_size) != tokenizer.vocab_size:
        raise FileFormatError(
            f"Expected the model in {model_path} and the tokenizer beside it to "
            f"share a vocabulary. Received: vocab_size {model.vocab_size} and "
            f"{tokenizer.vocab_size}.{remake}"
        )
    return Pretrained(model=model, tokenizer=tokenizer, card=card, path=folder)
