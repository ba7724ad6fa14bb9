"""Reading and writing the project's files safely: JSON, hashes, temp names.

Private helpers shared by :mod:`keras_gen.model_folder`,
:mod:`keras_gen.tokenizers`, :mod:`keras_gen.data`, :mod:`keras_gen.training`
and the command line: :func:`data_path` (the repository's ``data/`` folder)
and :func:`read_verified` (a shipped file, checked against its SHA-256 while
it is read). Two rules hold everywhere:

* every error names the file it is about, and says what to do;
* a file is written under a unique temporary name in its final folder and
  renamed into place at the end (``os.replace`` is atomic on one file
  system), so an interrupted write never leaves half a file under the real
  name, and two runs never share a temporary name.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import tempfile
import zlib

#: Marker in the names of temporary files and folders written by keras_gen.
PARTIAL_MARK = ".partial-"
#: The repository's ``data/`` folder (vendored data and the shipped models).
DATA_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data"
)
#: Bytes read (or decompressed) at a time by :func:`read_verified`.
CHUNK_BYTES = 1 << 20
#: Without a known size, :func:`read_verified` refuses files bigger than this.
MAX_VERIFIED_BYTES = 1 << 30


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


def data_path(*parts: str) -> str:
    """A path inside the repository's ``data/`` folder.

    Args:
        *parts: Path components below ``data/`` (none: the folder itself).

    Returns:
        The absolute path (it need not exist).

    Example:
        >>> import os
        >>> data_path("pretrained", "pydoc-char-gpt").split(os.sep)[-3:]
        ['data', 'pretrained', 'pydoc-char-gpt']
    """
    return os.path.join(DATA_DIR, *parts)


def read_verified(
    path,
    sha256: str,
    size: int | None = None,
    *,
    decompress: bool | None = None,
    remake: str = "Delete it and fetch it again.",
    error_class: type[FileFormatError] = FileFormatError,
    chunk_bytes: int = CHUNK_BYTES,
) -> bytes:
    """Read a shipped file, checking its SHA-256 as it is read, in chunks.

    A ``.gz`` file is decompressed chunk by chunk and the hash and size are
    those of the decompressed bytes. Reading stops as soon as more than
    ``size`` bytes come out, so a damaged file or a gzip bomb costs at most
    ``size`` plus one chunk of memory, never the whole expansion.

    Args:
        path: The file.
        sha256: The expected SHA-256 of its (decompressed) bytes, 64 hex digits.
        size: The expected number of (decompressed) bytes; ``None``: at most
            :data:`MAX_VERIFIED_BYTES`.
        decompress: Gunzip the file; default: when its name ends in ``.gz``.
        remake: How to get a good copy, for the error message.
        error_class: The :class:`FileFormatError` subclass to raise.
        chunk_bytes: Bytes read or decompressed at a time.

    Returns:
        The verified (decompressed) bytes.

    Raises:
        FileFormatError: (or ``error_class``) The file is damaged, truncated,
            too long or not the expected file; the message names it, the
            expected hash and how to get it again.

    Example:
        >>> import gzip, hashlib, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "x.txt.gz")
        >>> with gzip.open(path, "wb") as handle:
        ...     _ = handle.write(b"hello")
        >>> read_verified(path, hashlib.sha256(b"hello").hexdigest(), 5)
        b'hello'
        >>> read_verified(path, "0" * 64, 5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        keras_gen._files.FileFormatError: Expected the SHA-256 of .../x.txt.gz...
    """
    path = os.fspath(path)
    if decompress is None:
        decompress = path.endswith(".gz")
    limit = MAX_VERIFIED_BYTES if size is None else int(size)
    what = "decompressed bytes" if decompress else "bytes"
    expected = f"Expected the SHA-256 of {path}'s {what} to be {sha256}" + (
        f" ({size:,} bytes)" if size is not None else ""
    )

    def damaged(reason: str, cause=None):
        error = error_class(
            f"{expected}. Received: {reason}. The file is damaged or truncated, "
            f"or not the expected file. {remake}"
        )
        error.__cause__ = cause
        return error

    digest = hashlib.sha256()
    chunks = []
    total = 0
    try:
        opener = gzip.open if decompress else open
        with opener(path, "rb") as handle:
            while block := handle.read(chunk_bytes):
                total += len(block)
                if total > limit:  # a bomb or the wrong file: stop here
                    raise damaged(f"more than {limit:,} bytes")
                digest.update(block)
                chunks.append(block)
    except (OSError, EOFError, zlib.error) as error:
        # gzip.BadGzipFile is an OSError; a flipped byte inside a .gz shows up
        # as a zlib error, a CRC error or (below) the wrong SHA-256.
        raise damaged(f"a file that does not read ({error})", error) from error
    if size is not None and total != size:
        raise damaged(f"{total:,} bytes")
    actual = digest.hexdigest()
    if actual != sha256:
        raise damaged(f"SHA-256 {actual}")
    return b"".join(chunks)


def folder_state(folder: str) -> tuple:
    """The folder's files as sorted ``(name, mtime_ns, size)``: a cheap "changed?" key.

    Per-process caches of something loaded from a folder compare it before
    reusing what they hold.

    Example:
        >>> folder_state(tempfile.mkdtemp())
        ()
    """
    with os.scandir(folder) as entries:
        stats = [(entry.name, entry.stat()) for entry in entries]
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in stats))


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
    except RecursionError as error:  # [[[[...]]]] nested past the stack
        raise FileFormatError(
            f"Expected the {what} {path} to be valid JSON. Received: values "
            "nested too deeply to read. It is damaged; restore or rewrite it."
        ) from error
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
