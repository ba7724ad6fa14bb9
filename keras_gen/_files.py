"""Reading and writing the project's files safely: JSON, hashes, temp names.

Private helpers shared by :mod:`keras_gen.pretrained`,
:mod:`keras_gen.tokenizers`, :mod:`keras_gen.training` and the command line.
Two rules hold everywhere:

* every error names the file it is about, and says what to do;
* a file is written under a unique temporary name in its final folder and
  renamed into place at the end (``os.replace`` is atomic on one file
  system), so an interrupted write never leaves half a file under the real
  name, and two runs never share a temporary name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile

#: Marker in the names of temporary files and folders written by keras_gen.
PARTIAL_MARK = ".partial-"


def partial_prefix(name: str) -> str:
    """The start of a temporary name for ``name``: hidden, marked, with our pid.

    The process id tells a later run whether the writer of a leftover partial
    file is still alive (see :func:`keras_gen._lock.sweep_partials`).

    Example:
        >>> import os
        >>> partial_prefix("model.keras") == f".model.keras.partial-{os.getpid()}-"
        True
    """
    return f".{name}{PARTIAL_MARK}{os.getpid()}-"


class FileFormatError(ValueError):
    """A file exists but its contents are damaged or not what was expected."""


def sha256_file(path: str, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits, read in chunks.

    Example:
        >>> import tempfile
        >>> path = tempfile.mkstemp()[1]
        >>> sha256_file(path)[:12]  # the hash of no bytes
        'e3b0c44298fc'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: str, what: str, max_bytes: int):
    """Parse a JSON file no larger than ``max_bytes``; errors name the file.

    Args:
        path: The file.
        what: What the file is, for messages (``"tokenizer file"``).
        max_bytes: Refuse bigger files before reading them.

    Returns:
        The parsed JSON value.

    Raises:
        FileFormatError: Too big, not UTF-8, not JSON, or holds NaN/Infinity.

    Example:
        >>> import tempfile
        >>> path = tempfile.mkstemp(suffix=".json")[1]
        >>> _ = open(path, "w").write("{oops")
        >>> read_json(path, "card", 1000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        keras_gen._files.FileFormatError: Expected the card ... to be valid JSON...
    """
    size = os.path.getsize(path)
    if size > max_bytes:
        raise FileFormatError(
            f"Expected the {what} {path} to be at most {max_bytes:,} bytes. "
            f"Received: {size:,} bytes. It is damaged or not a keras_gen file."
        )

    def refuse_constant(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle, parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise FileFormatError(
            f"Expected the {what} {path} to be valid JSON (UTF-8). Received a "
            f"file that does not parse: {error}. It is damaged; restore or "
            "rewrite it."
        ) from error


def dump_json(value, name: str = "card") -> str:
    """``json.dumps`` that refuses NaN and infinity, which are not JSON.

    Example:
        >>> dump_json({"loss": float("nan")})
        Traceback (most recent call last):
        ...
        ValueError: Expected card to hold only JSON values (finite numbers, \
strings, lists, dicts). Received: Out of range float values are not JSON \
compliant: nan
    """
    try:
        return json.dumps(value, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Expected {name} to hold only JSON values (finite numbers, strings, "
            f"lists, dicts). Received: {error}"
        ) from error


def partial_path(path: str, suffix: str = "") -> str:
    """A new, unique temporary file name beside ``path`` (the file is created).

    The name starts with :func:`partial_prefix` (hidden, :data:`PARTIAL_MARK`
    and the writer's pid), and ends with ``suffix`` (Keras wants ``.keras`` or
    ``.weights.h5``).

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> tmp = partial_path(os.path.join(folder, "model.keras"), ".keras")
        >>> os.path.basename(tmp).startswith(".model.keras.partial-")
        True
    """
    folder, name = os.path.split(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(
        prefix=partial_prefix(name), suffix=suffix, dir=folder
    )
    os.close(handle)
    return tmp


@contextlib.contextmanager
def replacing(path: str, suffix: str = ""):
    """Yield a temporary name; on success rename it to ``path``, else delete it.

    Example:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
        >>> with replacing(target) as tmp:
        ...     _ = open(tmp, "w").write("done")
        >>> open(target).read()
        'done'
    """
    tmp = partial_path(path, suffix)
    try:
        yield tmp
        umask = os.umask(0)  # mkstemp made the file private; give it the usual mode
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def check_writable_folder(folder: str, name: str = "out") -> str:
    """Check that ``folder`` is, or can be made, a folder we can write in.

    Called before any long work, so a bad ``--out`` fails in a second rather
    than after training. Creates the folder if needed.

    Raises:
        ValueError: ``folder`` is a file, or cannot be created or written.

    Example:
        >>> import tempfile
        >>> check_writable_folder(tempfile.mkstemp()[1])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Expected out to be a folder. Received: out='...', which is a file...
    """
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(
            f"Expected {name} to be a folder. Received: {name}={folder!r}, which "
            "is a file. Choose another path."
        )
    try:
        os.makedirs(folder, exist_ok=True)
        probe = partial_path(os.path.join(folder, "write-test"))
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"Expected {name} to be a folder keras_gen can write in. Received: "
            f"{name}={folder!r}: {error.strerror or error}. Choose a writable "
            "path."
        ) from error
    return folder


def utf8_error_where(path: str, error: UnicodeDecodeError) -> str:
    r"""Where the first byte that is not UTF-8 lies in ``path``, for a message.

    A text file is decoded in blocks, so ``error``'s own position counts from
    the start of a block; this reads the file again, line by line, to name
    the line.

    Example:
        >>> import tempfile
        >>> path = tempfile.mkstemp()[1]
        >>> _ = open(path, "wb").write(b"fine\nbad \xff here\n")
        >>> try:
        ...     open(path, encoding="utf-8").read()
        ... except UnicodeDecodeError as error:
        ...     print(utf8_error_where(path, error))
        byte 0xff on line 2, which is not UTF-8
    """
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as found:
                    byte = line[found.start : found.start + 1].hex()
                    return f"byte 0x{byte} on line {number}, which is not UTF-8"
    except OSError:
        pass
    return f"bytes that are not UTF-8 ({error.reason})"
