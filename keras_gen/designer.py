"""The trained designer as one folder: ``model.keras`` and ``card.json``.

A designer is a trained :class:`~keras_gen.conditional.ConditionalGAN` or
:class:`~keras_gen.conditional.ConditionalVAE`. Its folder holds the model
(weights and config, no optimizer state, loaded with ``safe_mode`` on) and a
card: the command that trained it and what it measured. The card records the
SHA-256 of ``model.keras``, checked on load. The project ships one,
:data:`DEFAULT_DESIGNER_DIR`, made by ``make pretrained``
(``tools/train_designer.py``).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import keras

from keras_gen import conditional  # registers the model classes for loading
from keras_gen._files import FileFormatError, dump_json, read_json, sha256_file

#: The trained designer that ships with the project (``make pretrained``).
DEFAULT_DESIGNER_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "data",
    "pretrained",
    "fashion-designer",
)
MODEL_FILE = "model.keras"
CARD_FILE = "card.json"


def save_designer(folder: str, model, card: dict) -> str:
    """Write ``model.keras`` and ``card.json`` into ``folder``, all or nothing.

    The files are written to a hidden temporary folder beside ``folder`` and
    renamed into place at the end, so an interrupted save leaves no half
    folder. The card gets the SHA-256 of ``model.keras`` (key ``"sha256"``),
    which :func:`load_designer` checks. The optimizer state is not saved.

    Args:
        folder: Destination; must be missing, empty, or a designer folder
            (only ``model.keras`` and ``card.json``).
        model: A trained conditional model from :mod:`keras_gen.conditional`.
        card: JSON facts: the command, the steps, the measured metrics.

    Returns:
        ``folder``.

    Example:
        >>> cvae = conditional.ConditionalVAE(
        ...     conditional.build_conditional_encoder(4),
        ...     conditional.build_conditional_decoder(4))
        >>> folder = save_designer(tempfile.mkdtemp() + "/d", cvae, {"steps": 0})
        >>> sorted(os.listdir(folder))
        ['card.json', 'model.keras']
    """
    model = conditional._check_model(model)
    return save_model_folder(folder, model, card, "designer")


def save_model_folder(folder: str, model, card: dict, what: str = "model") -> str:
    """:func:`save_designer` for any registered Keras model (no type check).

    ``what`` names the folder's kind in error messages.
    """
    if not isinstance(card, dict):
        raise ValueError(
            f"Expected card to be a dict. Received: card of type {type(card).__name__}"
        )
    dump_json(card)  # not JSON: fail before writing anything
    folder = os.path.abspath(os.fspath(folder))
    if os.path.exists(folder) and (
        not os.path.isdir(folder)
        or not set(os.listdir(folder)) <= {MODEL_FILE, CARD_FILE}
    ):
        raise ValueError(
            f"Expected folder to be missing, empty or a {what} folder (only "
            f"{MODEL_FILE} and {CARD_FILE}). Received: folder={folder!r}, which "
            "holds other files. Choose another folder."
        )
    parent, name = os.path.split(folder)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent)
    try:
        os.chmod(staging, 0o755)
        copy = model.__class__.from_config(model.get_config())  # no optimizer
        copy.set_weights(model.get_weights())
        copy.save(os.path.join(staging, MODEL_FILE))
        card = {**card, "sha256": sha256_file(os.path.join(staging, MODEL_FILE))}
        with open(os.path.join(staging, CARD_FILE), "w", encoding="utf-8") as f:
            f.write(dump_json(card))
        backup = None
        if os.path.exists(folder):  # set aside, so a failure can put it back
            backup = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
            os.replace(folder, backup)
        try:
            os.replace(staging, folder)
        except BaseException:
            if backup is not None and not os.path.exists(folder):
                os.replace(backup, folder)
            raise
        if backup is not None:
            shutil.rmtree(backup)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    return folder


def load_designer(folder: str | None = None):
    """Load a folder written by :func:`save_designer`, checking its SHA-256.

    Args:
        folder: Default :data:`DEFAULT_DESIGNER_DIR`, the shipped model.

    Returns:
        ``(model, card)``; the model is loaded with ``safe_mode`` on.

    Raises:
        FileNotFoundError: The folder or one of its files is missing.
        FileFormatError: The model file does not match the card's SHA-256.

    Example:
        >>> model, card = load_designer()
        >>> card["kind"] in ("cgan", "cvae")
        True
    """
    folder = os.fspath(folder if folder is not None else DEFAULT_DESIGNER_DIR)
    return load_model_folder(folder, "designer folder")


def load_model_folder(folder: str, what: str = "model folder"):
    """:func:`load_designer` for any folder of :func:`save_model_folder`.

    Returns:
        ``(model, card)``, the model loaded with ``safe_mode`` on.
    """
    folder = os.fspath(folder)
    remake = " Rebuild it with `make pretrained`."
    missing = [
        n
        for n in (MODEL_FILE, CARD_FILE)
        if not os.path.isfile(os.path.join(folder, n))
    ]
    if missing:
        raise FileNotFoundError(
            f"Expected a {what} with {MODEL_FILE} and {CARD_FILE}. "
            f"Received: {folder!r}, missing {', '.join(missing)}.{remake}"
        )
    card = read_json(os.path.join(folder, CARD_FILE), f"{what}'s card", 1 << 20)
    path = os.path.join(folder, MODEL_FILE)
    if not isinstance(card, dict) or card.get("sha256") != sha256_file(path):
        raise FileFormatError(
            f"{path} is damaged or was changed: its SHA-256 does not match the "
            f"one {CARD_FILE} records.{remake}"
        )
    return keras.models.load_model(path), card  # safe_mode stays on
