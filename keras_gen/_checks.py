"""Argument checks shared by every module, with errors in the Keras manner.

Every public function of ``keras_gen`` validates its arguments with these
helpers, so a bad value always gets the same kind of message: what was
expected, what was received, and (where it helps) how to fix it::

    ValueError: Expected steps >= 1. Received: steps=0

This module is private (its name starts with ``_``): learners call the public
functions, which call these.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def env_flag(name: str, default: bool = False) -> bool:
    """Read a true/false environment variable such as ``KERAS_GEN_OFFLINE``.

    Unset or empty means ``default``; ``1/true/yes/on`` mean True and
    ``0/false/no/off`` mean False (any case). Anything else is an error rather
    than a guess, so ``KERAS_GEN_OFFLINE=nope`` cannot silently go online.

    Args:
        name: The variable's name.
        default: The value when the variable is unset or empty.

    Returns:
        The flag's value.

    Raises:
        ValueError: The variable holds something that is neither true nor false.

    Example:
        >>> os.environ["KERAS_GEN_EXAMPLE_FLAG"] = "no"
        >>> env_flag("KERAS_GEN_EXAMPLE_FLAG")
        False
        >>> os.environ["KERAS_GEN_EXAMPLE_FLAG"] = "Yes"
        >>> env_flag("KERAS_GEN_EXAMPLE_FLAG")
        True
        >>> del os.environ["KERAS_GEN_EXAMPLE_FLAG"]
    """
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"Expected the environment variable {name} to be one of "
        f"{list(_TRUE + _FALSE)} (or unset). Received: {name}="
        f"{os.environ[name]!r}"
    )


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None):
    """Check that ``value`` is an int (not a bool) within ``[minimum, maximum]``.

    Args:
        name: The argument's name, used in the message.
        value: What the caller passed.
        minimum: The smallest allowed value, or None.
        maximum: The largest allowed value, or None.

    Returns:
        ``value`` as a Python int.

    Raises:
        ValueError: Not an int, or out of range.

    Example:
        >>> check_int("steps", 3, minimum=1)
        3
        >>> check_int("steps", 0, minimum=1)
        Traceback (most recent call last):
        ...
        ValueError: Expected steps >= 1. Received: steps=0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"Expected {name} to be an int. Received: {name}={value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"Expected {name} <= {maximum}. Received: {name}={value}")
    return int(value)


def check_float(
    name: str,
    value,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number within the given bounds.

    NaN and infinity are always refused: a NaN compares False with everything,
    so without this check it slips through every range test.

    Args:
        name: The argument's name, used in the message.
        value: What the caller passed.
        minimum: The lower bound, or None.
        maximum: The upper bound, or None.
        min_inclusive: Whether ``value == minimum`` is allowed.
        max_inclusive: Whether ``value == maximum`` is allowed.

    Returns:
        ``value`` as a Python float.

    Raises:
        ValueError: Not a finite number, or out of range.

    Example:
        >>> check_float("beta", 0.5, minimum=0)
        0.5
        >>> check_float("beta", float("nan"), minimum=0)
        Traceback (most recent call last):
        ...
        ValueError: Expected beta to be a finite number. Received: beta=nan
        >>> check_float("dropout", 1.0, 0, 1, max_inclusive=False)
        Traceback (most recent call last):
        ...
        ValueError: Expected dropout < 1. Received: dropout=1.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(
            f"Expected {name} to be a number. Received: {name}={value!r}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(
            f"Expected {name} to be a finite number. Received: {name}={value}"
        )
    if minimum is not None:
        if min_inclusive and value < minimum:
            raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value}")
        if not min_inclusive and value <= minimum:
            raise ValueError(f"Expected {name} > {minimum}. Received: {name}={value}")
    if maximum is not None:
        if max_inclusive and value > maximum:
            raise ValueError(f"Expected {name} <= {maximum}. Received: {name}={value}")
        if not max_inclusive and value >= maximum:
            raise ValueError(f"Expected {name} < {maximum}. Received: {name}={value}")
    return value


def check_bool(name: str, value) -> bool:
    """Check that ``value`` is a real bool, so ``"no"`` is not read as True.

    Example:
        >>> check_bool("do_sample", "no")
        Traceback (most recent call last):
        ...
        ValueError: Expected do_sample to be True or False. Received: do_sample='no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(
            f"Expected {name} to be True or False. Received: {name}={value!r}"
        )
    return bool(value)


def check_choice(name: str, value, choices) -> None:
    """Check that ``value`` is one of ``choices``.

    Example:
        >>> check_choice("split", "dev", ("train", "test"))
        Traceback (most recent call last):
        ...
        ValueError: Expected split to be one of ['train', 'test']. \
Received: split='dev'
    """
    if value not in tuple(choices):
        raise ValueError(
            f"Expected {name} to be one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )


def check_seed(name: str, value) -> int | None:
    """Check a random seed: None, or an int in ``[0, 2**32)``.

    Example:
        >>> check_seed("seed", -1)
        Traceback (most recent call last):
        ...
        ValueError: Expected seed >= 0. Received: seed=-1
    """
    if value is None:
        return None
    return check_int(name, value, minimum=0, maximum=2**32 - 1)


def check_image_shape(image_shape) -> tuple[int, int, int]:
    """Check an image shape: ``(height, width, channels)`` of positive ints.

    Example:
        >>> check_image_shape([28, 28, 1])
        (28, 28, 1)
        >>> check_image_shape((28, 28))
        Traceback (most recent call last):
        ...
        ValueError: Expected image_shape to be (height, width, channels) of \
positive ints. Received: image_shape=(28, 28)
    """
    valid = (
        isinstance(image_shape, (tuple, list))
        and len(image_shape) == 3
        and all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
            for d in image_shape
        )
    )
    if not valid:
        raise ValueError(
            "Expected image_shape to be (height, width, channels) of positive ints. "
            f"Received: image_shape={image_shape!r}"
        )
    return tuple(int(d) for d in image_shape)


def check_hidden_units(hidden_units) -> tuple[int, ...]:
    """Check the widths of hidden Dense layers: a non-empty sequence of ints >= 1.

    Example:
        >>> check_hidden_units([512, 256])
        (512, 256)
        >>> check_hidden_units(())
        Traceback (most recent call last):
        ...
        ValueError: Expected at least one hidden layer. Received: hidden_units=()
    """
    if isinstance(hidden_units, (str, bytes)) or not isinstance(hidden_units, Sequence):
        raise ValueError(
            "Expected hidden_units to be a sequence of layer widths such as "
            f"(1024, 512, 256). Received: hidden_units={hidden_units!r}"
        )
    if not hidden_units:
        raise ValueError(
            "Expected at least one hidden layer. Received: hidden_units=()"
        )
    return tuple(check_int("hidden_units[i]", u, minimum=1) for u in hidden_units)


def batch_shape(shape) -> str:
    """A shape with its batch axis spelled out: ``(batch, 8, 8, 1)``, ``(batch,)``.

    Example:
        >>> batch_shape((8, 8, 1)), batch_shape(())
        ('(batch, 8, 8, 1)', '(batch,)')
    """
    return "(batch" + "".join(f", {d}" for d in shape) + ("" if shape else ",") + ")"


def check_batch_shape(name: str, array, shape) -> None:
    """Check that a batch (an array or tensor) holds items of ``shape``.

    The batch axis (the first) may have any size, or be unknown (``None``,
    while Keras traces a step); every other axis must match ``shape``.

    Args:
        name: The argument's name, used in the message (``"images"``).
        array: Anything with a ``.shape``: a NumPy array or a tensor.
        shape: The expected shape of one item, without the batch axis.

    Raises:
        ValueError: The batch has another rank or another item shape.

    Example:
        >>> check_batch_shape("images", np.zeros((16, 4, 4, 1)), (4, 4, 1))
        >>> check_batch_shape("images", np.zeros((16, 5, 5, 1)), (4, 4, 1))
        Traceback (most recent call last):
        ...
        ValueError: Expected images of shape (batch, 4, 4, 1). \
Received: images.shape=(16, 5, 5, 1)
    """
    shape = tuple(shape)
    received = tuple(array.shape)
    if len(received) != len(shape) + 1 or received[1:] != shape:
        raise ValueError(
            f"Expected {name} of shape {batch_shape(shape)}. "
            f"Received: {name}.shape={received}"
        )
