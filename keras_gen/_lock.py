"""One writer per output folder: a lock file holding the writer's pid.

Two ``keras-gen demo`` runs into one ``--out`` would sweep each other's
temporary files and resume each other's backups. :class:`OutputLock` makes
the second one refuse at once, naming the first one's process id.

* On Linux and macOS the lock is ``fcntl.flock`` on the file
  ``.keras-gen.lock`` in the folder: the kernel releases it when its process
  ends, however it ends (a kill included), so a lock left by a dead run is
  never mistaken for a live one, even if its pid was reused.
* Where ``fcntl`` is missing (Windows), the lock file is created with
  ``O_CREAT | O_EXCL`` and is live while the pid written in it runs.

Either way the file holds the owner's pid, and a lock whose owner has ended
is taken over with a note (:attr:`OutputLock.note`).

:func:`sweep_partials` deletes the temporary files (names with
:data:`keras_gen._files.PARTIAL_MARK`) whose writer has ended, and only
those.

Private: it imports no public module of keras_gen.
"""

from __future__ import annotations

import os
import re
import shutil
import time

from keras_gen._files import PARTIAL_MARK

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: The lock file's name inside the locked folder.
LOCK_FILE = ".keras-gen.lock"
#: A partial file without a pid in its name (written by an older keras_gen)
#: is swept once it has not changed for this many seconds.
UNOWNED_PARTIAL_SECONDS = 3600
_PARTIAL_OWNER = re.compile(re.escape(PARTIAL_MARK) + r"(\d+)-")


class FolderInUseError(RuntimeError):
    """Another live process holds the lock of an output folder.

    Attributes:
        pid: The other process's id (None when the lock file was unreadable).
    """

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (a zombie counts as running).

    Example:
        >>> import os
        >>> pid_alive(os.getpid()), pid_alive(0)
        (True, False)
    """
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would end the process there
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() == 5  # access denied: it exists
    try:
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _parse_holder(text: str) -> tuple[int | None, str]:
    """``(pid, what)`` from a lock file's text; pid None if unreadable."""
    lines = text.splitlines()
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return None, "keras-gen run"
    what = lines[1].strip() if len(lines) > 1 and lines[1].strip() else "keras-gen run"
    return pid, what


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(4096)
    except OSError:
        return ""


class OutputLock:
    """An exclusive lock on an output folder, holding this process's pid.

    Use it as a context manager around everything a run writes into the
    folder; a second run refuses with :class:`FolderInUseError` instead of
    waiting.

    Args:
        folder: The output folder (created if needed).
        what: What holds the lock, for the other run's message
            (``"keras-gen demo"``).

    Attributes:
        path: The lock file.
        note: None, or a sentence saying that a lock left by a run that has
            ended was taken over (print it for the user).

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> with OutputLock(folder, "keras-gen demo") as lock:
        ...     OutputLock(folder).acquire()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        keras_gen._lock.FolderInUseError: ... another keras-gen demo (pid ...) \
is writing here...
        >>> os.path.exists(lock.path)  # removed on release
        False
    """

    def __init__(self, folder: str, what: str = "keras-gen demo"):
        self.folder = os.fspath(folder)
        self.what = str(what)
        self.path = os.path.join(self.folder, LOCK_FILE)
        self.note = None
        self._fd = None

    def _refuse(self, pid: int | None, what: str):
        shown = "pid unknown" if pid is None else f"pid {pid}"
        raise FolderInUseError(
            f"Expected no other run writing into {self.folder}. Received: another "
            f"{what} ({shown}) is writing here. Wait for it to end, or choose "
            f"another output folder. (If no such run exists, delete {self.path}.)",
            pid,
        )

    def _taken_over(self, text: str) -> None:
        pid, what = _parse_holder(text)
        if pid is not None and pid != os.getpid():
            self.note = (
                f"Took over the lock in {self.folder} from a {what} (pid {pid}) "
                "that has ended."
            )

    def _content(self) -> bytes:
        return f"{os.getpid()}\n{self.what}\n".encode()

    def acquire(self) -> OutputLock:
        """Take the lock, or raise :class:`FolderInUseError` at once.

        Returns:
            The lock itself.
        """
        if self._fd is not None:
            return self
        os.makedirs(self.folder, exist_ok=True)
        for _ in range(20):  # retried only when the lock file is swapped under us
            done = self._acquire_flock() if fcntl is not None else self._acquire_file()
            if done:
                return self
        raise FolderInUseError(
            f"Expected to lock {self.folder}. Received: its lock file {self.path} "
            "changed 20 times while taking it. Try again.",
        )

    def _acquire_flock(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held by a live process
            os.close(fd)
            self._refuse(*_parse_holder(_read_text(self.path)))
        except OSError:  # no flock on this file system: trust the pid instead
            pid, what = _parse_holder(_read_text(self.path))
            if pid is not None and pid != os.getpid() and pid_alive(pid):
                os.close(fd)
                self._refuse(pid, what)
        try:  # a run that releases deletes the file: was ours replaced?
            same = os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            return False
        self._taken_over(os.read(fd, 4096).decode("utf-8", "replace"))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, self._content())
        self._fd = fd
        return True

    def _acquire_file(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            text = _read_text(self.path)
            pid, what = _parse_holder(text)
            if pid is None:
                try:  # being written right now, or garbage left long ago?
                    young = time.time() - os.path.getmtime(self.path) < 10
                except OSError:
                    return False
                if young:
                    self._refuse(None, what)
            elif pid_alive(pid):
                self._refuse(pid, what)
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass
            self._taken_over(text)
            return False
        os.write(fd, self._content())
        os.close(fd)
        self._fd = -1  # held; nothing to keep open
        return True

    def release(self) -> None:
        """Give the lock back and delete the lock file (safe to call twice)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if fd >= 0:
                if os.path.samestat(os.fstat(fd), os.stat(self.path)):
                    os.remove(self.path)
            elif _parse_holder(_read_text(self.path))[0] == os.getpid():
                os.remove(self.path)
        except OSError:
            pass
        finally:
            if fd >= 0:
                os.close(fd)  # releases the flock

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def partial_owner(name: str) -> int | None:
    """The pid written in a partial file's name, or None.

    Example:
        >>> partial_owner(".model.keras.partial-4242-x1y2.keras")
        4242
        >>> partial_owner("model.keras") is None
        True
    """
    match = _PARTIAL_OWNER.search(os.path.basename(name))
    return int(match.group(1)) if match else None


def sweep_partials(folder: str) -> list[str]:
    """Delete the partial files and folders in ``folder`` whose writer has ended.

    A partial entry (its name holds :data:`~keras_gen._files.PARTIAL_MARK`)
    names its writer's pid; it is deleted when that process no longer runs.
    One without a pid (from an older keras_gen) is deleted once it has not
    changed for :data:`UNOWNED_PARTIAL_SECONDS`. Hold the folder's
    :class:`OutputLock` while sweeping. The folder itself is not searched
    below its first level.

    Returns:
        The deleted paths.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> dead = os.path.join(folder, ".a.png.partial-999999999-x.png")
        >>> mine = os.path.join(folder, f".b.png.partial-{os.getpid()}-x.png")
        >>> for path in (dead, mine):
        ...     _ = open(path, "w").write("half")
        >>> sweep_partials(folder) == [dead], os.path.exists(mine)
        (True, True)
    """
    folder = os.fspath(folder)
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    removed = []
    for entry in sorted(entries, key=lambda e: e.name):
        if PARTIAL_MARK not in entry.name:
            continue
        owner = partial_owner(entry.name)
        try:
            if owner is None:
                age = time.time() - entry.stat(follow_symlinks=False).st_mtime
                if age < UNOWNED_PARTIAL_SECONDS:
                    continue
            elif pid_alive(owner):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.remove(entry.path)
        except FileNotFoundError:  # its writer finished meanwhile
            continue
        removed.append(entry.path)
    return removed
