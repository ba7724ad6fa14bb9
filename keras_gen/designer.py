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
import tempfile  # noqa: F401  (used by the examples)

from keras_gen import (
    conditional,  # registers the model classes for loading
    model_folder,
)
from keras_gen._files import data_path
from keras_gen.model_folder import CARD_FILE, MODEL_FILE  # noqa: F401

#: The trained designer that ships with the project (``make pretrained``).
DEFAULT_DESIGNER_DIR = data_path("pretrained", "fashion-designer")
#: The model classes a designer folder holds.
DESIGNER_CLASSES = ("ConditionalGAN", "ConditionalVAE")
_REMAKE = "Rebuild it with `make pretrained`."


def save_designer(folder: str, model, card: dict) -> str:
    """Write ``model.keras`` and ``card.json`` into ``folder``, all or nothing.

    The folder format and the atomic swap are
    :mod:`keras_gen.model_folder`'s: the files are written to a hidden
    temporary folder beside ``folder`` and swapped in at the end, so an
    interrupted save leaves the old folder or the new one. The card gets the
    SHA-256 of ``model.keras`` (key ``"sha256"``), which :func:`load_designer`
    checks. The optimizer state is not saved.

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
    if not isinstance(model, (conditional.ConditionalGAN, conditional.ConditionalVAE)):
        raise ValueError(
            "Expected a ConditionalGAN or ConditionalVAE from keras_gen.conditional. "
            f"Received: model of type {type(model).__name__}"
        )
    return save_model_folder(folder, model, card, "designer folder")


def save_model_folder(folder: str, model, card: dict, what: str = "model") -> str:
    """:func:`save_designer` for any registered Keras model (no type check).

    ``what`` names the folder's kind in error messages. Kept for callers of
    the old name; new code calls :func:`keras_gen.model_folder.save_folder`.
    """
    if not isinstance(card, dict):
        raise ValueError(
            f"Expected card to be a dict. Received: card of type {type(card).__name__}"
        )
    what = what if what.endswith("folder") else f"{what} folder"
    return model_folder.save_folder(folder, model, card, what=what)


def load_designer(folder: str | None = None):
    """Load a folder written by :func:`save_designer`, checking its SHA-256.

    Args:
        folder: Default :data:`DEFAULT_DESIGNER_DIR`, the shipped model.

    Returns:
        ``(model, card)``; the model is loaded with ``safe_mode`` on, and the
        card is returned without its ``"sha256"`` entry.

    Raises:
        FileNotFoundError: The folder or one of its files is missing.
        keras_gen._files.FileFormatError: The card is damaged, the model file
            does not match the card's SHA-256, or the folder is of another
            kind (the message says which function loads it).

    Example:
        >>> model, card = load_designer()
        >>> card["kind"] in ("cgan", "cvae")
        True
    """
    folder = os.fspath(folder if folder is not None else DEFAULT_DESIGNER_DIR)
    contents = model_folder.load_folder(
        folder,
        what="designer folder",
        tokenizer=False,
        expect=DESIGNER_CLASSES,
        remake=_REMAKE,
    )
    return model_folder.load_model(contents.model_path, _REMAKE), contents.card


def load_model_folder(folder: str, what: str = "model folder"):
    """:func:`load_designer` for any folder of :func:`save_model_folder`.

    Kept for callers of the old name; new code calls
    :func:`keras_gen.model_folder.load_folder`.

    Returns:
        ``(model, card)``, the model loaded with ``safe_mode`` on.
    """
    contents = model_folder.load_folder(
        os.fspath(folder), what=what, tokenizer=False, remake=_REMAKE
    )
    return model_folder.load_model(contents.model_path, _REMAKE), contents.card
