"""One model-folder format: model, optional tokenizer and card, swapped atomically.

Every trained model that keras_gen saves (a pretrained GPT, the designer, the
text-to-image model, the cached quality classifier) is one folder::

    model.keras     the Keras model: weights and config, no optimizer state
    tokenizer.json  (language models only) the tokenizer it was trained with
    card.json       what it is and how it was made, plus "sha256": the
                    SHA-256 of each other file, {"model.keras": ..., ...}

:func:`save_folder` writes a new folder under a unique hidden name beside the
destination, moves the old folder aside as a backup, renames the new one in
and only then deletes the backup. An interrupt at any step (even a second
Ctrl-C during the rollback) leaves one complete model under the real name or
as the backup, which the next save puts back and the next load names. No
step renames a folder over a non-empty one, which Windows cannot do.

:func:`load_folder` reads the card first and checks every file against its
hash before anything is unpickled or deserialised; each error names the file
that is wrong and, where the folder is of another kind, which function loads
it. Old cards are accepted as they are: a ``"sha256"`` string (the hash of
``model.keras``, as the designer wrote it) means ``{"model.keras": ...}``.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import shutil
import sys
import time
import uuid
import warnings
import zipfile

import keras

from keras_gen._files import (
    PARTIAL_MARK,
    FileFormatError,
    dump_json,
    read_json,
    sha256_file,
)

MODEL_FILE = "model.keras"
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "card.json"
#: Every file a model folder may hold.
FOLDER_FILES = (MODEL_FILE, TOKENIZER_FILE, CARD_FILE)
#: The card key that holds the SHA-256 of each other file, checked on load.
HASHES_KEY = "sha256"
#: A card is a few kilobytes; anything above this is not a card.
MAX_CARD_BYTES = 1 << 20
#: Marker in the name of the previous folder while a save swaps a new one in.
BACKUP_MARK = ".old-"
_MAX_CONFIG_BYTES = 64 << 20
_HEX64 = re.compile("[0-9a-f]{64}")
# Swaps in progress in this process (their backups must not be touched).
_ACTIVE: set[str] = set()

#: The kinds of folder keras_gen writes, by the model's registered class name:
#: (what the folder is, the function that loads it).
FOLDER_KINDS = {
    "GPT": (
        "a GPT language-model folder made by keras_gen.pretrained",
        "keras_gen.pretrained.load_pretrained",
    ),
    "ConditionalGAN": (
        "a designer folder made by keras_gen.conditional",
        "keras_gen.conditional.load_designer",
    ),
    "ConditionalVAE": (
        "a designer folder made by keras_gen.conditional",
        "keras_gen.conditional.load_designer",
    ),
    "TextToImage": (
        "a text-to-image folder made by keras_gen.text_to_image.model",
        "keras_gen.text_to_image.model.load_text_to_image",
    ),
}


@dataclasses.dataclass
class FolderContents:
    """A model folder whose files were checked against its card.

    Attributes:
        folder: The folder.
        card: ``card.json`` without its ``"sha256"`` entry.
        model_path: The checked ``model.keras``.
        tokenizer_path: The checked ``tokenizer.json``, or ``None``.
        class_name: The model's registered class name (``"GPT"``...), or
            ``None`` if ``model.keras`` does not say.
    """

    folder: str
    card: dict
    model_path: str
    tokenizer_path: str | None
    class_name: str | None


# -- names of partial and backup folders, and who owns them -------------------


def _marked_name(folder: str, mark: str) -> str:
    parent, name = os.path.split(folder)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return os.path.join(parent, f".{name}{mark}{token}")


def _siblings(folder: str, mark: str) -> list[str]:
    parent, name = os.path.split(os.path.abspath(folder))
    return sorted(glob.glob(os.path.join(parent, f".{glob.escape(name)}{mark}*")))


def _owner_alive(path: str) -> bool:
    """Whether the process that made a partial or backup folder may still use it."""
    if path in _ACTIVE:
        return True
    found = re.search(r"(?:\.partial-|\.old-)(\d+)-", os.path.basename(path))
    if found is None:
        return False  # an older name without an owner: left by a killed run
    pid = int(found.group(1))
    if pid == os.getpid():
        return False  # this process, but not a swap in progress (_ACTIVE)
    if sys.platform == "win32":  # os.kill(pid, 0) would send Ctrl-C there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def backups(folder: str) -> list[str]:
    """Backups of ``folder`` left by interrupted saves whose process is gone.

    Example:
        >>> import tempfile
        >>> backups(os.path.join(tempfile.mkdtemp(), "model"))
        []
    """
    return [p for p in _siblings(folder, BACKUP_MARK) if not _owner_alive(p)]


def is_complete(folder: str) -> bool:
    """Whether ``folder`` holds a card and a model (files, not links).

    Example:
        >>> import tempfile
        >>> is_complete(tempfile.mkdtemp())
        False
    """
    return all(
        os.path.isfile(path) and not os.path.islink(path)
        for path in (os.path.join(folder, n) for n in (MODEL_FILE, CARD_FILE))
    )


def recover(folder: str) -> str | None:
    """Put back the model an interrupted save left as a backup; sweep leftovers.

    If ``folder`` is missing and a complete backup of it exists (one whose
    process is gone), the backup is renamed back. Once ``folder`` is complete,
    the other backups and partial folders of dead processes are deleted.

    Returns:
        The backup that was restored, or ``None``.

    Example:
        >>> import tempfile
        >>> recover(os.path.join(tempfile.mkdtemp(), "model")) is None
        True
    """
    folder = os.path.abspath(os.fspath(folder))
    restored = None
    if not os.path.lexists(folder):
        for backup in reversed(backups(folder)):  # any complete one will do
            if is_complete(backup):
                os.replace(backup, folder)  # folder is missing: a plain rename
                restored = backup
                break
    for stale in _siblings(folder, PARTIAL_MARK):  # left by a killed save
        if not _owner_alive(stale):
            shutil.rmtree(stale, ignore_errors=True)
    if is_complete(folder):
        for stale in backups(folder):  # the folder is whole: not needed
            shutil.rmtree(stale, ignore_errors=True)
    return restored


# -- saving --------------------------------------------------------------------


def check_destination(folder, what: str = "model folder") -> None:
    """Refuse to replace anything but a missing, empty or keras_gen model folder.

    A folder is replaced as a whole, so it may hold only the files of a model
    folder (``model.keras``, ``tokenizer.json``, ``card.json``), each a plain
    file, with a ``card.json``. Anything else (other files, a directory named
    ``card.json``, a link) is refused before any work, and nothing is deleted.

    Args:
        folder: The destination.
        what: The folder's kind, for messages.

    Raises:
        ValueError: ``folder`` is a file or a link, or holds anything else.

    Example:
        >>> import tempfile
        >>> check_destination(tempfile.mkdtemp())  # empty: fine
        >>> odd = tempfile.mkdtemp()
        >>> os.mkdir(os.path.join(odd, "card.json"))
        >>> check_destination(odd)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Expected folder ... whose card.json is a directory, not a file...
    """
    folder = os.fspath(folder)
    expected = (
        f"Expected folder to be a new or empty folder, or a {what} made by "
        f"keras_gen (only {', '.join(FOLDER_FILES)}, as plain files), since it is "
        "replaced as a whole."
    )
    if not os.path.lexists(folder):
        return
    if not os.path.isdir(folder) or os.path.islink(folder):
        raise ValueError(
            f"{expected} Received: folder={folder!r}, which is a file or a link. "
            "Choose another path."
        )
    entries = sorted(os.listdir(folder))
    if not entries:
        return
    fix = "Save into a new folder, e.g. os.path.join(folder, 'my-model')."
    others = [n for n in entries if n not in FOLDER_FILES]
    if others:
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise ValueError(
            f"{expected} Received: folder={folder!r}, which also holds "
            f"{len(others)} other entries ({shown}); a folder that holds other "
            f"files is not replaced. {fix}"
        )
    for name in entries:
        path = os.path.join(folder, name)
        if os.path.islink(path) or not os.path.isfile(path):
            kind = "a link" if os.path.islink(path) else "a directory"
            raise ValueError(
                f"{expected} Received: folder={folder!r}, whose {name} is {kind}, "
                f"not a file, so it is not a model folder of ours. {fix}"
            )
    if CARD_FILE not in entries:
        raise ValueError(
            f"{expected} Received: folder={folder!r}, which holds "
            f"{', '.join(entries)} but no {CARD_FILE}, so it is not a model "
            f"folder made by keras_gen. {fix}"
        )


def uncompiled_copy(model: keras.Model) -> keras.Model:
    """The same architecture and weights, without optimizer or compile state.

    Example:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="adam", loss="mse")
        >>> uncompiled_copy(model).compiled
        False
    """
    copy = model.__class__.from_config(model.get_config())
    context = getattr(model, "context_length", None)
    if isinstance(context, int) and not isinstance(context, bool):
        copy.build((None, context))  # a GPT builds on its first call only
    copy.set_weights(model.get_weights())
    return copy


def swap_in(staging: str, folder: str) -> None:
    """Make the complete folder ``staging`` be ``folder``, keeping one model always.

    Steps: move an existing ``folder`` aside as a backup (a rename to a new
    name), rename ``staging`` to ``folder`` (now missing: no rename over a
    non-empty folder, which Windows refuses), then delete the backup. If
    anything fails or is interrupted before the new folder is in place, the
    backup is renamed back; if that rollback is itself interrupted, the
    backup stays on disk and :func:`recover` (every save, and the hint of
    every load) puts it back. The backup is deleted only once the new folder
    is in place.
    """
    backup = None
    _ACTIVE.add(staging)
    try:
        if os.path.lexists(folder):
            backup = _marked_name(folder, BACKUP_MARK)
            _ACTIVE.add(backup)
            os.replace(folder, backup)  # backup is a new name: a plain rename
        os.replace(staging, folder)  # folder is missing now
    except BaseException:
        # Ctrl-C may land between any two steps: judge by what is on disk.
        if backup is not None and os.path.isdir(backup):
            if not os.path.lexists(folder):
                os.replace(backup, folder)  # put the old model back
            elif is_complete(folder):  # the new one made it in after all
                shutil.rmtree(backup, ignore_errors=True)
        raise
    finally:
        _ACTIVE.discard(staging)
        if backup is not None:
            _ACTIVE.discard(backup)
    if backup is not None:  # the new folder is in place: the old one may go
        shutil.rmtree(backup, ignore_errors=True)


def save_folder(
    folder,
    model: keras.Model,
    card: dict | None = None,
    *,
    tokenizer=None,
    what: str = "model folder",
) -> str:
    """Write ``model`` (and ``tokenizer``) with ``card`` into ``folder``, atomically.

    Args:
        folder: Destination: missing, empty, or a model folder of keras_gen
            (:func:`check_destination`).
        model: A built Keras model of a registered class; its optimizer state
            is not saved.
        tokenizer: A keras_gen tokenizer (saved as ``tokenizer.json``) or
            ``None``.
        card: JSON-serialisable facts about the model; finite numbers only.
            The key ``"sha256"`` is filled in by this function.
        what: The folder's kind, for messages.

    Returns:
        ``folder``, as an absolute path.

    Raises:
        ValueError: A card that is not a JSON dict, or a bad destination.

    Example:
        >>> import tempfile
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> folder = save_folder(tempfile.mkdtemp() + "/m", model, {"note": "hi"})
        >>> sorted(os.listdir(folder))
        ['card.json', 'model.keras']
        >>> load_folder(folder).card
        {'note': 'hi'}
    """
    if card is not None and not isinstance(card, dict):
        raise ValueError(
            f"Expected card to be a dict. Received: card of type {type(card).__name__}"
        )
    card = dict(card or {})
    if HASHES_KEY in card:
        raise ValueError(
            f"Expected a card without the key {HASHES_KEY!r}, which keras_gen fills "
            "in itself. Received: card with that key."
        )
    dump_json(card)  # not JSON: fail now, before writing anything
    folder = os.path.abspath(os.fspath(folder))
    check_destination(folder, what)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    recover(folder)
    check_destination(folder, what)  # a restored backup is checked too
    staging = _marked_name(folder, PARTIAL_MARK)
    _ACTIVE.add(staging)
    try:
        os.mkdir(staging, 0o755)
        names = [MODEL_FILE]
        uncompiled_copy(model).save(os.path.join(staging, MODEL_FILE))
        if tokenizer is not None:
            tokenizer.save(os.path.join(staging, TOKENIZER_FILE))
            names.append(TOKENIZER_FILE)
        card[HASHES_KEY] = {n: sha256_file(os.path.join(staging, n)) for n in names}
        with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as f:
            f.write(dump_json(card))
        swap_in(staging, folder)
    finally:
        _ACTIVE.discard(staging)
        if os.path.exists(staging):
            shutil.rmtree(staging, ignore_errors=True)
    return folder


# -- loading -------------------------------------------------------------------


def model_class_name(model_path: str) -> str | None:
    """The class name a ``.keras`` file records, or ``None`` if it cannot say.

    Reads only the archive's ``config.json``; nothing is deserialised.

    Example:
        >>> import tempfile
        >>> path = tempfile.mkdtemp() + "/m.keras"
        >>> keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(path)
        >>> model_class_name(path)
        'Sequential'
    """
    try:
        with zipfile.ZipFile(model_path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > _MAX_CONFIG_BYTES:
                return None
            config = json.loads(archive.read(info))
        name = config.get("class_name")
        return name if isinstance(name, str) else None
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile):
        return None


def describe(folder: str) -> str:
    """What kind of keras_gen folder ``folder`` looks like, as a phrase ("" if unknown).

    Example:
        >>> from keras_gen._files import data_path
        >>> describe(data_path("pretrained", "text-to-image"))  # doctest: +ELLIPSIS
        'this is a text-to-image folder made by keras_gen.text_to_image.model...'
    """
    name = model_class_name(os.path.join(folder, MODEL_FILE))
    if name not in FOLDER_KINDS:
        return ""
    kind, loader = FOLDER_KINDS[name]
    return f"this is {kind}; load it with {loader}"


def _hashes(card: dict, card_path: str, present: list[str], remake: str) -> dict:
    """The card's hashes as ``{file: hex}``, in the new or the old layout."""
    hashes = card.pop(HASHES_KEY, None)
    if hashes is None:
        warnings.warn(
            f"{card_path} records no SHA-256 of the model files, so they cannot "
            "be checked. Save the folder again to add them.",
            stacklevel=4,
        )
        return {}
    if isinstance(hashes, str):  # the designer's old layout: model.keras only
        hashes = {MODEL_FILE: hashes}
    if isinstance(hashes, dict):  # a file the card records is gone: say which
        gone = sorted(n for n in hashes if n in FOLDER_FILES and n not in present)
        if gone:
            folder = os.path.dirname(card_path)
            raise FileNotFoundError(
                f"Expected {', '.join(gone)} in {folder!r}, as {CARD_FILE} records. "
                f"Missing: {', '.join(gone)}. Restore the folder.{remake}"
            )
    if (
        not isinstance(hashes, dict)
        or sorted(hashes) != sorted(present)
        or not all(isinstance(h, str) and _HEX64.fullmatch(h) for h in hashes.values())
    ):
        raise FileFormatError(
            f"Expected {card_path} to hold {HASHES_KEY!r}: a SHA-256 (64 hex "
            f"digits) for each of {', '.join(present)}. Received: "
            f"{HASHES_KEY}={hashes!r:.200}. The card is damaged.{remake}"
        )
    return hashes


def load_folder(
    folder,
    *,
    what: str = "model folder",
    tokenizer: bool | None = None,
    expect: tuple[str, ...] | None = None,
    remake: str = "",
) -> FolderContents:
    """Check a model folder's files against its card, before loading anything.

    Args:
        folder: The folder.
        what: Its kind, for messages (``"text-to-image folder"``).
        tokenizer: ``True``: it must hold ``tokenizer.json``; ``False``: it
            must not; ``None``: either.
        expect: The model class names this caller loads (``("GPT",)``); a
            class of another kind in :data:`FOLDER_KINDS` is refused with the
            function that loads it.
        remake: A sentence saying how to get the folder again.

    Returns:
        A :class:`FolderContents`; load its model with :func:`load_model`.

    Raises:
        FileNotFoundError: The folder or a file is missing (and where an
            interrupted save left the previous one, if it did).
        keras_gen._files.FileFormatError: (a ``ValueError``) The card is
            damaged, a file does not match its hash, or the folder is of
            another kind; the message names the file.

    Example:
        >>> from keras_gen._files import data_path
        >>> contents = load_folder(data_path("pretrained", "fashion-designer"))
        >>> contents.class_name, contents.tokenizer_path
        ('ConditionalVAE', None)
    """
    folder = os.fspath(folder)
    remake = f" {remake.strip()}" if remake.strip() else ""
    if not os.path.lexists(folder):
        _wait_for_a_live_swap(folder)
    if not os.path.isdir(folder):
        left = [  # a live owner's too: the pid may be reused, say where it is
            p for p in _siblings(folder, BACKUP_MARK) if p not in _ACTIVE
        ]
        hint = (
            f" An interrupted save left the previous model in {left[-1]!r}; "
            "rename it to restore it (the next save does so itself)."
            if left
            else remake
        )
        raise FileNotFoundError(
            f"Expected a {what}. Received: {folder!r}, which is not a folder.{hint}"
        )
    card_path = os.path.join(folder, CARD_FILE)
    model_path = os.path.join(folder, MODEL_FILE)
    tokenizer_path = os.path.join(folder, TOKENIZER_FILE)
    has_tokenizer = os.path.lexists(tokenizer_path)
    required = [MODEL_FILE, *([TOKENIZER_FILE] if tokenizer else []), CARD_FILE]
    missing = [n for n in required if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        found = describe(folder)  # another kind of folder: say which, not remake
        if expect is not None and model_class_name(model_path) in expect:
            found = ""  # the right kind, only damaged
        shown = [
            f"{n} (a directory, not a file)"
            if os.path.isdir(os.path.join(folder, n))
            else n
            for n in missing
        ]
        raise FileNotFoundError(
            f"Expected {', '.join(required)} in the {what} {folder!r}. Missing: "
            f"{', '.join(shown)}" + (f"; {found}." if found else f".{remake}")
        )
    card = read_json(card_path, "card", MAX_CARD_BYTES)
    if not isinstance(card, dict):
        raise FileFormatError(
            f"Expected {card_path} to hold a JSON object. Received: "
            f"{type(card).__name__}. The card is damaged.{remake}"
        )
    present = [MODEL_FILE, *([TOKENIZER_FILE] if has_tokenizer else [])]
    hashes = _hashes(card, card_path, present, remake)
    for name, recorded in hashes.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise FileFormatError(
                f"Expected {path} to be a file, as {CARD_FILE} records. Received: "
                f"a directory or a link. Restore the folder.{remake}"
            )
        actual = sha256_file(path)
        if actual != recorded:
            raise FileFormatError(
                f"{path} is damaged or was changed: its SHA-256 is {actual}, but "
                f"{CARD_FILE} records {recorded}. Restore the folder (the files "
                f"belong together).{remake}"
            )
    class_name = model_class_name(model_path)
    wrong_class = (  # another kind of keras_gen folder (any other class loads)
        expect is not None and class_name in FOLDER_KINDS and class_name not in expect
    )
    if wrong_class or (tokenizer is False and has_tokenizer):
        found = describe(folder) or (
            f"it holds a {TOKENIZER_FILE}, so it is a language-model folder; load "
            "it with keras_gen.pretrained.load_pretrained"
        )
        raise FileFormatError(f"Expected a {what}. Received: {folder!r}, but {found}.")
    return FolderContents(
        folder=folder,
        card=card,
        model_path=model_path,
        tokenizer_path=tokenizer_path if has_tokenizer else None,
        class_name=class_name,
    )


def _wait_for_a_live_swap(folder: str, seconds: float = 5.0) -> None:
    """Another process is between its two renames: give it a moment."""
    live = [
        p
        for p in _siblings(folder, BACKUP_MARK)
        if p not in _ACTIVE and _owner_alive(p)
    ]
    deadline = time.monotonic() + seconds
    while live and not os.path.isdir(folder) and time.monotonic() < deadline:
        time.sleep(0.05)


def load_model(path: str, remake: str = "") -> keras.Model:
    """``keras.saving.load_model`` with ``safe_mode`` on and errors naming the file.

    Example:
        >>> load_model(os.devnull)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        keras_gen._files.FileFormatError: Could not load ...: it is damaged or not...
    """
    remake = f" {remake.strip()}" if remake.strip() else ""
    if not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise FileFormatError(
            f"Could not load {path}: it is damaged or not a Keras model "
            f"file (not a zip archive, as .keras files are).{remake}"
        )
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, TypeError) as error:
        raise FileFormatError(
            f"Could not load {path}: it is damaged or not a Keras model "
            f"file ({type(error).__name__}: {error}).{remake}"
        ) from error
    except ValueError as error:  # e.g. safe_mode refusing a lambda
        raise FileFormatError(f"Could not load {path}: {error}") from error

