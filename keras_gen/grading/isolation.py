"""Run code nobody here wrote in a child process with CPU and memory limits.

:func:`keras_gen.grading.sandbox.evaluate_expression` runs an answer in the calling
process: fast, and enough for code the user running it wrote or chose (the
notebook's teaching cells, the package's own mutated answers). Code written
by someone else (a learner's answer handed to a grader, code a model wrote
for the analyst over a table) runs here instead, through
:func:`run_isolated`: the same evaluator, in a child process that limits
itself before it reads any code:

* **memory**: ``RLIMIT_AS`` at what the child uses after start-up plus
  ``memory_limit``, so an allocation past it raises ``MemoryError`` in the
  child (reported as :class:`~keras_gen.grading.sandbox.ExpressionLimitError`),
  never in the host;
* **CPU**: before each answer, a CPU-time timer (``ITIMER_PROF``) at twice
  ``time_limit`` and ``RLIMIT_CPU`` one second later: a C call that never
  returns to the evaluator's own clock is killed by the kernel;
* **no files, no processes**: ``RLIMIT_FSIZE`` of 1 MB (its error output)
  and ``RLIMIT_NPROC`` of 0, no core dumps;
* **from outside**: the parent waits for each reply with a wall-clock limit
  (``10 * time_limit + 10`` seconds: generous, because the verdict must not
  depend on how busy the machine is; the CPU limits are the real ones) and
  reads at most 32 MB; a child that dies, hangs or says too much is killed,
  the answer is reported over budget, and the next call starts a new child.

Why a ``subprocess`` running ``python -I -c`` with one JSON line per answer,
not ``multiprocessing``: the child sets its own limits (no ``preexec_fn``,
unsafe in a host with TensorFlow's threads), nothing is pickled (a
compromised child cannot make the host run code by answering), values cross
as tagged JSON that keeps tuples, sets and dicts apart, and one child serves
every call of the host process (started on first use, in about half a
second; then about twice the in-process cost per answer, a few
milliseconds: ``benchmarks/sandbox_isolation.py``), so grading many answers
pays the start once, not once per answer.

Where :mod:`resource` is missing (Windows), :func:`run_isolated` warns once
and falls back to the in-process evaluator, whose own time and size limits
still apply.
"""

from __future__ import annotations

import atexit
import builtins
import json
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

from keras_gen._checks import check_int
from keras_gen.grading.sandbox import (
    MAX_CHARS_CAP,
    ExpressionLimitError,
    UnsafeExpressionError,
    check_budgets,
    check_variables,
    evaluate_expression,
)

try:
    import resource
except ImportError:  # Windows
    resource = None

#: Memory an answer may take beyond the child's own start-up (bytes).
DEFAULT_MEMORY_LIMIT = 256 * 2**20
#: The largest ``memory_limit`` accepted (bytes).
MAX_MEMORY_LIMIT = 8 * 2**30
_MIN_MEMORY_LIMIT = 16 * 2**20
_REPLY_BYTES = 32 * 2**20
_START_SECONDS = 60.0
_ERROR_CHARS = 4000

_VIEWS = {"dict_keys": "k", "dict_values": "v", "dict_items": "i"}
_OWN_ERRORS = {
    "UnsafeExpressionError": UnsafeExpressionError,
    "ExpressionLimitError": ExpressionLimitError,
}


def isolation_available() -> bool:
    """Whether answers can run in a limited child process (needs :mod:`resource`).

    Example:
        >>> isinstance(isolation_available(), bool)
        True
    """
    return resource is not None


# --------------------------------------------------------------------------
# Values across the pipe: JSON with tags, so tuples stay tuples
# --------------------------------------------------------------------------


def _encode(value):
    if isinstance(value, int) and not isinstance(value, bool) and (
        value.bit_length() > 8192  # json reads at most 4,300 digits
    ):
        return ["x", hex(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return ["l", [_encode(v) for v in value]]
    if isinstance(value, tuple):
        return ["t", [_encode(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        tag = "s" if isinstance(value, set) else "f"
        return [tag, [_encode(v) for v in value]]
    if isinstance(value, dict):
        return ["d", [[_encode(k), _encode(v)] for k, v in value.items()]]
    name = type(value).__name__
    if name in _VIEWS:
        return [_VIEWS[name], [_encode(v) for v in value]]
    if name == "list_iterator":  # a generator expression's computed items
        _, (items,), position = value.__reduce__()
        return ["it", [_encode(v) for v in items[position:]]]
    return ["o", name]  # map, zip, ... objects: only their type crosses


class OpaqueValue:
    """A value of the isolated answer that cannot cross to the host (a ``map``).

    Equal to nothing, like the lazy object it stands for.

    Attributes:
        type_name: The type of the value in the child, e.g. ``"map"``.
    """

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def _decode(data):
    if not isinstance(data, list):
        return data
    tag, items = data
    if tag == "o":
        return OpaqueValue(str(items))
    if tag == "x":
        return int(items, 16)
    if tag == "d":
        return {_decode(k): _decode(v) for k, v in items}
    values = [_decode(v) for v in items]
    if tag == "l":
        return values
    if tag == "t":
        return tuple(values)
    if tag == "s":
        return set(values)
    if tag == "f":
        return frozenset(values)
    if tag == "k":
        return dict.fromkeys(values).keys()
    if tag == "v":
        return dict(enumerate(values)).values()
    if tag == "i":
        return dict(values).items()
    if tag == "it":
        return iter(values)
    raise ValueError(f"unknown tag {tag!r}")


def _error_reply(error: BaseException) -> dict:
    """The error's type and arguments (its message alone, cut, if they are big)."""
    try:
        args = [_encode(a) for a in error.args]
        if len(json.dumps(args)) > 16 * _ERROR_CHARS:
            raise ValueError("too long")
    except (ValueError, TypeError, RecursionError, MemoryError):
        args = [str(error)[:_ERROR_CHARS]]
    return {"error": [type(error).__name__, args]}


def _rebuild_error(name: str, args) -> Exception:
    cls = _OWN_ERRORS.get(name) or getattr(builtins, name, None)
    args = [_decode(a) for a in args]
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(*args)
        except Exception:  # noqa: BLE001  (an exception with another signature)
            pass
    return RuntimeError(f"{name}: {' '.join(map(str, args))}"[:_ERROR_CHARS])


# --------------------------------------------------------------------------
# The child: limits itself, then answers one JSON line per request
# --------------------------------------------------------------------------


def _limit_memory(memory_limit: int) -> None:
    try:
        with open("/proc/self/statm") as file:
            used = int(file.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        used = 0
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        limit = getattr(resource, name, None)
        if limit is None:
            continue
        try:
            resource.setrlimit(limit, (used + memory_limit, used + memory_limit))
            return
        except (ValueError, OSError):
            continue


def _child_main(memory_limit: int) -> None:
    """The child's loop (``python -I -c``): never called in the host."""
    import signal

    for name, value in (("RLIMIT_CORE", 0), ("RLIMIT_FSIZE", 2**20),
                        ("RLIMIT_NPROC", 0)):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (AttributeError, ValueError, OSError):
            pass
    _limit_memory(memory_limit)
    out = sys.stdout.buffer
    out.write(b'"ready"\n')
    out.flush()
    for line in sys.stdin.buffer:
        job = json.loads(line)
        time_limit = job["time_limit"]
        used = time.process_time()
        try:  # the kernel's backstops, should a C call never come back
            hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
            soft = int(used + 2 * time_limit) + 2
            if hard == resource.RLIM_INFINITY or soft <= hard:
                resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        except (ValueError, OSError):
            pass
        signal.setitimer(signal.ITIMER_PROF, 2 * time_limit)
        try:
            value = evaluate_expression(
                job["code"], _decode(job["variables"]), time_limit=time_limit,
                max_items=job["max_items"], max_int_bits=job["max_int_bits"],
                max_chars=job["max_chars"],
            )
            reply = {"value": _encode(value)}
        except MemoryError:
            reply = _error_reply(ExpressionLimitError(
                f"Expected the answer to fit in memory_limit={memory_limit} bytes. "
                f"Received: {job['code'][:200]!r}, which ran out of memory."
            ))
        except RecursionError:
            reply = _error_reply(ExpressionLimitError(
                f"Expected the answer to nest less deeply. Received: "
                f"{job['code'][:200]!r}, which ran out of stack."
            ))
        except Exception as error:  # noqa: BLE001  (sent to the host as it is)
            reply = _error_reply(error)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        try:
            text = json.dumps(reply).encode()
        except (ValueError, RecursionError, MemoryError):
            text = b""
        if not text or len(text) >= _REPLY_BYTES:
            text = json.dumps(_error_reply(ExpressionLimitError(
                f"Expected a result that can be sent back (at most {_REPLY_BYTES} "
                f"bytes). Received: {job['code'][:200]!r}, whose result is larger."
            ))).encode()
        out.write(text + b"\n")
        out.flush()


# --------------------------------------------------------------------------
# The host's side: one child per memory limit, restarted when it dies
# --------------------------------------------------------------------------


class _Worker:
    """One child process that evaluates answers, one at a time."""

    def __init__(self, memory_limit: int, command=None):
        self.memory_limit = memory_limit
        self.command = command  # tests replace the child with their own
        self.proc = None
        self.owner = os.getpid()
        self.buffer = bytearray()
        self.lock = threading.Lock()
        self.log = None

    def _start(self):
        # The folder that holds the keras_gen package (this file is
        # keras_gen/grading/isolation.py), so the child imports this copy.
        root = os.fspath(Path(__file__).resolve().parents[2])
        command = self.command or [
            sys.executable, "-I", "-c",
            f"import sys; sys.path.insert(0, {root!r}); "
            "from keras_gen.grading.isolation import _child_main; "
            f"_child_main({self.memory_limit})",
        ]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, env=env, bufsize=0, close_fds=True,
        )
        self.owner, self.buffer = os.getpid(), bytearray()
        status, line = self._read(time.monotonic() + _START_SECONDS)
        if line != b'"ready"':
            self.stop()
            raise RuntimeError(
                f"Expected the isolated evaluator to start. Received: {status} "
                f"from {' '.join(command[:2])} ...; its error output ends with: "
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            self.log.seek(0, os.SEEK_END)
            self.log.seek(max(self.log.tell() - 1000, 0))
            return self.log.read().decode(errors="replace").strip() or "(nothing)"
        except (OSError, ValueError, AttributeError):
            return "(unreadable)"

    def _read(self, deadline: float):
        """``(status, line)``: status "ok", "timeout", "exit" or "too long"."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return "exit", None
            self.buffer += chunk
            if len(self.buffer) > _REPLY_BYTES:
                return "too long", None
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return "ok", line

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if self.log is not None:
            self.log.close()
        self.proc, self.log = None, None

    def run(self, job: dict, wall_limit: float):
        """Send one job; return the child's reply dict, or a limit error."""
        with self.lock:
            if (self.proc is None or self.proc.poll() is not None
                    or self.owner != os.getpid()):
                if self.owner != os.getpid():  # a forked host: not our child
                    self.proc, self.log = None, None
                self.stop()
                self._start()
            try:
                self.proc.stdin.write(json.dumps(job).encode() + b"\n")
                self.proc.stdin.flush()
                status, line = self._read(time.monotonic() + wall_limit)
            except (BrokenPipeError, OSError):
                status, line = "exit", None
            except BaseException:  # Ctrl-C: its late reply must not answer
                self.stop()        # the next job
                raise
            if status == "ok":
                try:
                    return json.loads(line)
                except (ValueError, RecursionError):
                    status = "a damaged reply"
            if status == "exit":  # it ended by itself: learn how
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            returncode = self.proc.poll()
            self.stop()
        return {"died": _death(status, returncode, job, wall_limit)}


def _death(status, returncode, job, wall_limit) -> str:
    import signal

    code = job["code"][:200]
    if status == "timeout":
        return (f"Expected the answer to finish within {wall_limit:.0f} s of wall "
                f"time. Received: {code!r}, still running; the child was killed.")
    if returncode is not None and returncode < 0:
        signals = {signal.SIGXCPU: "ran past its CPU time",
                   signal.SIGKILL: "was killed (out of memory or CPU time)"}
        if hasattr(signal, "SIGPROF"):
            signals[signal.SIGPROF] = "ran past twice time_limit of CPU time"
        what = signals.get(-returncode, f"crashed (signal {-returncode})")
    elif status == "too long":
        what = f"sent back more than {_REPLY_BYTES} bytes"
    elif status == "exit":
        what = f"ended the child (exit code {returncode})"
    else:
        what = f"sent back {status}"
    return (f"Expected the answer to finish within time_limit={job['time_limit']} "
            f"s of CPU time and memory_limit. Received: {code!r}, which {what}.")


_WORKERS: dict[int, _Worker] = {}
_WORKERS_LOCK = threading.Lock()
_WARNED = []


def _worker(memory_limit: int) -> _Worker:
    with _WORKERS_LOCK:
        if memory_limit not in _WORKERS:
            _WORKERS[memory_limit] = _Worker(memory_limit)
        return _WORKERS[memory_limit]


def stop_workers() -> None:
    """Stop the child processes kept for :func:`run_isolated` (also at exit).

    Example:
        >>> stop_workers()  # nothing running: nothing to do
    """
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        with worker.lock:
            if worker.owner == os.getpid():
                worker.stop()


def run_isolated(
    code: str,
    variables: dict | None = None,
    *,
    time_limit: float = 1.0,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    max_items: int = 100_000,
    max_int_bits: int = 4096,
    max_chars: int = 1000,
):
    """Evaluate one answer in a child process with CPU and memory limits.

    The same evaluator as :func:`~keras_gen.grading.sandbox.evaluate_expression`,
    with the same arguments and errors, plus ``memory_limit``.

    For code the user running it did not write: a learner's answer in a
    grader, code a model wrote. The host survives whatever the answer does;
    the answer gets the evaluator's limits and the operating system's. See
    the module docstring for the limits and for the Windows fallback.

    Args:
        code: One Python expression.
        variables: ``{name: value}`` of plain data, copied to the child.
        time_limit: Seconds of CPU time, checked by the evaluator; the
            kernel kills the child at twice this.
        memory_limit: Bytes the answer may use beyond the child's start-up,
            from 16 MB to :data:`MAX_MEMORY_LIMIT`.
        max_items: As in :func:`~keras_gen.grading.sandbox.evaluate_expression`.
        max_int_bits: As there.
        max_chars: As there.

    Returns:
        The value, as plain data (a ``map`` or ``zip`` object comes back as
        an :class:`OpaqueValue`).

    Raises:
        UnsafeExpressionError: Refused before running.
        ExpressionLimitError: Ran past a limit, ran out of memory, or killed
            the child (the message says which).
        ValueError: A bad argument.
        Exception: The answer's own error (``IndexError``, ...), rebuilt in
            the host with its type and arguments.

    Example:
        >>> run_isolated("sorted(xs)[-2:]", {"xs": [3, 1, 4]})
        [3, 4]
        >>> run_isolated("[[[[0] * 40] * 40] * 40] * 40")
        Traceback (most recent call last):
        ...
        keras_gen.grading.sandbox.ExpressionLimitError: Expected every value the \
answer makes or uses to stand for at most max_items=100000 items. Received: \
'[[[[0] * 40] * 40] * 40] * 40', which made or used list * 40, standing for \
2560000 items. Repeating or nesting a list of lists multiplies what it stands \
for.
    """
    time_limit, max_items, max_int_bits = check_budgets(
        time_limit, max_items, max_int_bits
    )
    max_chars = check_int("max_chars", max_chars, minimum=1, maximum=MAX_CHARS_CAP)
    memory_limit = check_int("memory_limit", memory_limit,
                             minimum=_MIN_MEMORY_LIMIT, maximum=MAX_MEMORY_LIMIT)
    if not isinstance(code, str):
        raise ValueError(
            f"Expected code to be a string. Received: code of type "
            f"{type(code).__name__}"
        )
    kwargs = {"time_limit": time_limit, "max_items": max_items,
              "max_int_bits": max_int_bits, "max_chars": max_chars}
    if resource is None:
        if not _WARNED:
            _WARNED.append(True)
            warnings.warn(
                "The resource module is missing (Windows): answers run in this "
                "process with the evaluator's own time and size limits only.",
                RuntimeWarning, stacklevel=2,
            )
        return evaluate_expression(code, variables, **kwargs)
    encoded = _encode(check_variables(variables))
    job = {"code": code, "variables": encoded, **kwargs}
    reply = _worker(memory_limit).run(job, wall_limit=10 * time_limit + 10)
    if "died" in reply:
        raise ExpressionLimitError(reply["died"])
    if "error" in reply:
        name, args = reply["error"]
        raise _rebuild_error(str(name), args)
    return _decode(reply["value"])


atexit.register(stop_workers)
