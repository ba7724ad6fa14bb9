"""Answers built to explode: each is stopped over budget, in time, and the host lives.

Issue 25, section 1. Every row of :data:`CASES` is ``(id, call, time limit,
expected result kind, fragment of the message)`` and is named after the
item it covers. ``call`` is Python source run in a **child process** of the
test (``subprocess.run([sys.executable, "-c", ...], timeout=...)``), so a
regression fails the row (a timeout, a crash, a wrong result) instead of
hanging or killing the test run. A row passes when the child exits
normally, the call gives the expected kind (an ``ExpressionLimitError``, a
``ValueError`` for a capped budget, or a grade whose reason says
"stopped"), the message holds the fragment, and the call took at most
twice its time limit, in CPU time (here and in the isolated evaluator's
child, started before the clock) or in wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from keras_gen.grading import isolation
from keras_gen.grading.isolation import OpaqueValue, run_isolated
from keras_gen.grading.sandbox import ExpressionLimitError, UnsafeExpressionError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EQ_76 = "[[[[[[0]*40]*40]*40]*40]*40]*40 == [[[[[[0]*40]*40]*40]*40]*40]*40"
HASH_50 = "{(((((0,)*40,)*40,)*40,)*40,)*40}"
STR_41 = "str([[[[[[0]*40]*40]*40]*40]*40]*40)"
SHARED_BY_COMPREHENSION = (
    "[y for y in [[z for _ in range(300)] for z in [[0] * 300]] for _ in range(300)]"
    " == [0]"
)
DEEP_24000 = "[xs.append([xs.pop()]) for _ in range(24000)] and xs"
DEEP_TUPLE_IN_A_SET = "[xs.append((xs.pop(),)) for _ in range(10 ** 6)] and {xs[0]}"

LIMIT = "ExpressionLimitError"
STOPPED = "stopped"  # a grade (False, "stopped: ...")

CASES = [
    # Shared references: charged as what they stand for, before any C call.
    ("shared references: 246 items standing for 4.1e9",
     "evaluate_expression('[[[[[[0]*40]*40]*40]*40]*40]*40')", 1.0, LIMIT,
     "standing for 2560000 items"),
    ("shared references: a 76-character ==",
     f"evaluate_expression({EQ_76!r})", 1.0, LIMIT, "max_items=100000"),
    ("shared references: a 50-character hash in a set",
     f"evaluate_expression({HASH_50!r})", 1.0, LIMIT, "tuple * 40"),
    ("shared references: a 41-character str",
     f"evaluate_expression({STR_41!r})", 1.0, LIMIT, "list * 40"),
    ("shared references: in",
     "evaluate_expression('[[0]*40]*40 in [[[[[[0]*40]*40]*40]*40]*40]*40')", 1.0,
     LIMIT, "stand for at most"),
    ("shared references: made by comprehensions",
     f"evaluate_expression({SHARED_BY_COMPREHENSION!r})", 1.0, LIMIT,
     "standing for 27000000 items"),
    ("shared references: a list that contains itself",
     "evaluate_expression('[xs.append(xs)] and str(xs)', XS)", 1.0, LIMIT,
     "contains itself"),
    # grade_answer formats nothing without a bound.
    ("grade_answer: a 31-character answer is not formatted in full",
     "grade('[[0] * 300] * 300', '[1]')", 1.0, "differs",
     "got [[0, 0, 0, 0, 0, 0, 0, 0, ...], [0, 0, 0, 0, 0, 0, 0, 0, ..."),
    ("grade_answer: a 24,000-deep list is stopped, not a RecursionError",
     f"grade({DEEP_24000!r}, 'xs')", 1.0, STOPPED, "MAX_VALUE_DEPTH=100"),
    ("grade_answer: the answer's own error text is cut",
     "grade(\"xs.index('a' * 90000)\", 'xs[0]')", 1.0, "ValueError on test input 0",
     " ..."),
    ("grade_answer: a huge key in the answer's error is not formatted",
     "grade(\"{1: 2}[('a' * 5000,)]\", 'xs[0]')", 1.0, "KeyError on test input 0",
     "('aaaaaaaaaaaaaaaaaaaaaaaaaaa...aaaaaaaaaaaaaaaaaaaaaaaaaaaa',)"),
    ("grade_answer: a huge integer is named, not printed",
     "grade('1 << 4000', 'xs[0]')", 1.0, "differs", "got <int of 4001 bits>"),
    ("grade_answer: the same cases in process",
     f"grade({EQ_76!r}, 'xs[0]', isolated=False)", 1.0, STOPPED, "max_items"),
    # max_items and the other budgets are capped.
    ("max_items capped: a deep tuple hashed in a set at the cap",
     f"evaluate_expression({DEEP_TUPLE_IN_A_SET!r}, XS, max_items=10 ** 6)", 1.0,
     LIMIT, "MAX_VALUE_DEPTH"),
    ("max_items capped: over the cap", "evaluate_expression('1', max_items=10**7)",
     1.0, "ValueError", "Expected max_items <= 1000000"),
    ("max_int_bits capped", "evaluate_expression('1', max_int_bits=10**9)", 1.0,
     "ValueError", "Expected max_int_bits <= 65536"),
    ("time_limit capped", "evaluate_expression('1', time_limit=1e9)", 1.0,
     "ValueError", "Expected time_limit <= 60.0"),
    ("max_chars capped", "evaluate_expression('1', max_chars=10**9)", 1.0,
     "ValueError", "Expected max_chars <= 100000"),
    # The same answers in the isolated child: over budget, and the host lives.
    ("isolated: a 76-character ==", f"run_isolated({EQ_76!r})", 1.0, LIMIT,
     "max_items=100000"),
    ("isolated: a 24,000-deep list", f"run_isolated({DEEP_24000!r}, XS)", 1.0, LIMIT,
     "MAX_VALUE_DEPTH"),
    ("isolated: a deep tuple hashed in a set at the cap",
     f"run_isolated({DEEP_TUPLE_IN_A_SET!r}, XS, max_items=10 ** 6)", 1.0, LIMIT,
     "MAX_VALUE_DEPTH"),
    ("isolated: memory past memory_limit",
     "run_isolated('sorted(range(900000))', max_items=10**6, "
     "memory_limit=16 * 2**20)", 1.0, LIMIT, "ran out of memory"),
    ("isolated: one C call past the time limit is killed by the kernel",
     "run_isolated('sorted(range(999_000), key=str)', max_items=10**6, "
     "time_limit=0.25)", 0.25, LIMIT, "ran past twice time_limit of CPU time"),
    ("isolated: a learner's answer in grade_answer", f"grade({EQ_76!r}, 'xs[0]')",
     1.0, STOPPED, "max_items=100000"),
]

CHILD = """
import json, os, resource, time
from keras_gen.grading import isolation
from keras_gen.grading.answers import grade_answer, make_test_inputs
from keras_gen.grading.isolation import run_isolated
from keras_gen.grading.sandbox import evaluate_expression

XS = {{"xs": [3, 1, 4, 1, 5]}}
INPUTS = make_test_inputs(2, variables=("xs",))

def grade(answer, reference, isolated=True):
    return grade_answer(answer, reference, INPUTS, isolated=isolated)

def cpu_of(pid):  # CPU seconds of a live child process (Linux)
    with open(f"/proc/{{pid}}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def workers():
    return {{w.proc.pid: cpu_of(w.proc.pid) for w in isolation._WORKERS.values()
            if w.proc is not None and w.proc.poll() is None}}

def own_cpu():
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                 resource.RUSAGE_CHILDREN)]
    return [u.ru_utime + u.ru_stime for u in usage]

if {isolated}:
    run_isolated("1")  # the isolated child starts before the clock
before, (self_before, reaped_before) = workers(), own_cpu()
start = time.perf_counter()
try:
    result = {call}
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str):
        kind, message = (result[1].split(":")[0], result[1])
    else:
        kind, message = "returned", repr(result)[:300]
except Exception as error:
    kind, message = type(error).__name__, str(error)[:3000]
seconds = time.perf_counter() - start
after, (self_after, reaped_after) = workers(), own_cpu()
# CPU time the call took here and in the isolated children, started or not.
cpu = (self_after - self_before + sum(t - before.get(p, 0) for p, t in after.items())
       + reaped_after - reaped_before - sum(t for p, t in before.items()
                                            if p not in after))
print(json.dumps({{"kind": kind, "message": message, "seconds": seconds,
                  "cpu": cpu}}))
"""


def _run_in_a_child(call: str, timeout: float):
    isolated = "run_isolated" in call or (
        "grade(" in call and "isolated=False" not in call
    )
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get(
        "PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD.format(call=call,
                                                             isolated=isolated))],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env,
    )


@pytest.mark.parametrize(
    "call, time_limit, kind, fragment",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_answers_built_to_explode_are_stopped_in_time(call, time_limit, kind,
                                                       fragment):
    done = _run_in_a_child(call, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]  # the host survived
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["kind"].startswith(kind), result
    assert fragment in result["message"], result
    assert len(result["message"]) <= 3000
    if kind in (STOPPED, "differs") or " on test input" in kind:
        assert len(result["message"]) <= 500  # grading.REASON_CHARS
    # Twice the limit of CPU time (the evaluator's clock and the kernel's
    # both count CPU time, so that a busy machine changes no verdict), with
    # 0.1 s for the kernel's clock ticks; or of wall time, when that is less.
    assert min(result["seconds"], result["cpu"]) <= 2 * time_limit + 0.1, result


# --------------------------------------------------------------------------
# The isolated child: values and errors come back as they were
# --------------------------------------------------------------------------


def test_isolated_values_keep_their_types():
    value = run_isolated(
        "(1, {2}, frozenset([3]), {'a': (4.5, None)}, [True], 2 ** 9000)",
        max_int_bits=20_000,
    )
    assert value == (1, {2}, frozenset([3]), {"a": (4.5, None)}, [True], 2**9000)
    assert [type(v) for v in value[:5]] == [int, set, frozenset, dict, list]
    assert list(run_isolated("(x * 2 for x in xs)", {"xs": [1, 2]})) == [2, 4]
    assert list(run_isolated("{'a': 1}.items()")) == [("a", 1)]
    assert isinstance(run_isolated("map(str, [1])"), OpaqueValue)


def test_isolated_errors_keep_their_types_and_escapes_still_fail():
    with pytest.raises(IndexError):
        run_isolated("xs[20]", {"xs": [1]})
    with pytest.raises(KeyError) as error:
        run_isolated("{}['a']")
    assert error.value.args == ("a",)
    for escape in ("__import__('os').system('true')", "xs.__class__",
                   "().__class__.__bases__[0].__subclasses__()"):
        with pytest.raises(UnsafeExpressionError):
            run_isolated(escape, {"xs": [1]})
    with pytest.raises(ValueError, match="Expected memory_limit >= 16777216"):
        run_isolated("1", memory_limit=1)
    with pytest.raises(ValueError, match="plain data"):
        run_isolated("1", {"xs": object()})


@pytest.mark.parametrize(
    "child, wall, fragment",
    [
        ("import os; os.kill(os.getpid(), 11)", 20, "crashed (signal 11)"),
        ("import time; time.sleep(60)", 1, "within 1 s of wall time"),
        ("sys.stdout.write('x' * 40_000_000); sys.stdout.flush()", 60,
         "sent back more than 33554432 bytes"),
        ("print('not json', flush=True)", 20, "sent back a damaged reply"),
    ],
    ids=["a crash", "a hang", "a flood", "nonsense"],
)
def test_a_child_that_dies_hangs_or_floods_is_killed_and_replaced(child, wall,
                                                                   fragment):
    script = ("import sys; print('\"ready\"', flush=True); sys.stdin.readline(); "
              + child)
    worker = isolation._Worker(64 * 2**20, command=[sys.executable, "-c", script])
    job = {"code": "1", "time_limit": 1.0}
    try:
        reply = worker.run(job, wall_limit=wall)
        assert fragment in reply["died"], reply
        assert worker.proc is None  # killed; the next job starts a new one
        assert "died" in worker.run(job, wall_limit=wall)  # and it does
    finally:
        worker.stop()


def test_without_resource_it_warns_and_runs_in_process(monkeypatch):
    monkeypatch.setattr(isolation, "resource", None)
    monkeypatch.setattr(isolation, "_WARNED", [])
    with pytest.warns(RuntimeWarning, match="resource module is missing"):
        assert run_isolated("sorted(xs)", {"xs": [2, 1]}) == [1, 2]
    with pytest.raises(ExpressionLimitError, match="max_items"):
        run_isolated("[[[[0] * 40] * 40] * 40] * 40")
