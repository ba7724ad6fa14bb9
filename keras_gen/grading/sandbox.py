"""A restricted evaluator for one-line Python answers (automated grading).

Grading a learner's code by *running* it gives the ground truth that a
model's grade is measured against (:mod:`keras_gen.grading.answers`). Running text
that someone typed needs care, so :func:`evaluate_expression` does not call
``eval``: it parses the answer with :mod:`ast` and walks the tree itself,
node by node, allowing only what the answers to notebook 07's code requests
need (:func:`keras_gen.tasks.make_code_pairs`: ``len(xs)``, ``xs[-3:]``,
``[x * 2 for x in xs if x > 3]``, ``xs.count(4)``, ...).

What it does, precisely:

* **Refused before running** (:class:`UnsafeExpressionError`): anything
  that is not a single expression (statements, ``import``, assignments, do
  not parse in ``"eval"`` mode); any node outside :data:`ALLOWED_NODES`
  (``lambda``, ``:=``, f-strings, ``await``, ``yield``, ``@``, starred
  ``**kwargs``); any name or keyword that starts with ``__``
  (``__import__``, ``__builtins__``) or is in :data:`FORBIDDEN_NAMES`
  (``eval``, ``open``, ``getattr``, ...); any attribute that is not a call
  of a method in :data:`ALLOWED_METHODS` (so ``xs.__class__`` and
  ``"".join`` are refused); constants other than int, float, str, bool and
  None; more than ``max_chars`` characters or a tree deeper than
  :data:`MAX_DEPTH`.
* **Names** resolve to the ``variables`` given (deep-copied for each call,
  so ``xs.sort()`` cannot change the caller's data), to comprehension
  variables, or to the builtins of :data:`ALLOWED_BUILTINS`; no other name
  exists, so the real builtins, modules and globals are out of reach. Every
  variable must be plain data (int, float, str, bool, None, and lists,
  tuples, sets and dicts of them).
* **Methods** are called only on plain data (the receiver's type is checked
  when it runs) and only if named in :data:`ALLOWED_METHODS`, whose results
  are never larger than their inputs (``replace``, ``join``, ``center`` and
  ``format`` are left out for that reason: ``"a".center(10**9)`` would
  allocate a gigabyte in one C call).
* **Limits while running** (:class:`ExpressionLimitError`): the time is
  checked before every node and every comprehension step (``time_limit``
  seconds of the calling thread's CPU time, ``time.thread_time``: on a busy
  machine other processes slow the wall clock, not this count, so the same
  answer is stopped or not alike on every run; Python's garbage collector is
  paused meanwhile, so a collection of the host's objects is not charged to
  the answer); every list, tuple, set,
  dict, string and range the answer creates, and every comprehension step,
  counts against one budget of ``max_items``; ``range()`` longer than the
  budget is refused before it exists; ``**``, ``*``, ``<<`` on integers and
  ``*`` on strings and lists are checked *before* they run, so
  ``10**10**10`` and ``[0] * 10**10`` stop at once instead of freezing the
  interpreter; ``%`` on a string (printf formatting, whose width can be
  huge) is refused; ``round`` with a huge ``ndigits`` is stopped and
  ``sum(lists, [])`` adds step by step, since either would otherwise do
  unbounded work inside one C call.
* **Shared references are charged in full.** ``[[[[[[0]*40]*40]*40]*40]*40]*40``
  creates only 246 items, but its inner lists are shared: it *stands for*
  4.1e9 numbers, and one ``==``, ``hash`` (of the tuple form, in a set),
  ``in`` or ``str`` walks every one of them in one C call that no clock
  between steps can stop. So every value an answer makes, and the operands
  of every operator and call *before* it runs, are measured as what they
  stand for (:meth:`_Evaluator._size`: each reference counted again, a
  string by its characters, a range by its length), and no single value or
  set of operands may stand for more than ``max_items``; ``list * n``
  checks this before the copies exist. The other fix, refusing ``*`` on
  sequences of containers, was not enough: comprehensions share references
  too (``[y for _ in range(300)]``, nested three deep, stands for 2.7e7
  items); no answer of the course's tasks (:data:`keras_gen.tasks.
  CODE_TEMPLATES`) comes near the limit. Each object is measured once per
  answer (a dict of sizes by ``id``), so the measure is linear in what the
  answer made; ``append``, the one allowed method that grows a value,
  clears it. Values nested deeper than :data:`MAX_VALUE_DEPTH` (which
  ``==`` and ``hash`` would follow in C recursion) and lists that contain
  themselves are stopped too.
* **Budgets are capped** (:func:`check_budgets`): ``max_items`` at
  :data:`MAX_ITEMS_CAP`, ``max_int_bits`` at :data:`MAX_INT_BITS_CAP`,
  ``time_limit`` at :data:`MAX_TIME_LIMIT` seconds and ``max_chars`` at
  :data:`MAX_CHARS_CAP`: past them one allowed C call takes seconds and
  gigabytes, and the limits stop protecting the process.
* **Errors of the answer itself** (``IndexError``, ``ZeroDivisionError``,
  ``NameError`` for an unknown name, ...) are raised unchanged: they are
  the answer's fault, and a grader marks the answer wrong.

Who calls it, and where it runs:

* :func:`evaluate_expression` runs in the caller's process, about twice as
  fast as the child process, which also takes half a second to start (see
  ``benchmarks/sandbox_isolation.py``): for code the user running it wrote
  or chose, such as notebook 10's teaching cells and the answers
  :func:`keras_gen.grading.answers.make_answers` and
  :func:`keras_gen.grading.practice.run_practice` make themselves.
* :func:`keras_gen.grading.isolation.run_isolated` runs the same evaluator in a
  child process with CPU and memory limits: for code nobody here wrote, a
  learner's answer in :func:`keras_gen.grading.answers.grade_answer` (its default)
  or code a model wrote.

What it does NOT protect against:

* In the caller's process it is a guard for honest learners' mistakes and
  for pasted code, not a security boundary against an attacker. CPython
  has a long record of escapes from in-process sandboxes: code from
  strangers goes through :func:`keras_gen.grading.isolation.run_isolated`.
* The time limit is checked between steps: one builtin call runs to its
  end. The size limits keep the allowed calls near-linear in their input
  (``sorted`` of ``max_items`` items: milliseconds at the defaults), but
  this rests on a review of :data:`ALLOWED_BUILTINS` and
  :data:`ALLOWED_METHODS`, not on a guarantee: adding a name to either
  needs the same review (``round`` and ``sum`` needed guards).
* Memory is bounded through the item budget, not measured: items that are
  themselves large (integers up to ``max_int_bits``) take more memory per
  item. The variables count toward what a value stands for, so
  ``max_items`` must exceed their size.
* Bugs in CPython's own builtins and methods are out of its reach.
"""

from __future__ import annotations

import ast
import builtins
import copy
import gc
import time

from keras_gen._checks import check_float, check_int

#: The builtins an answer may call (``range`` is replaced by a bounded one).
ALLOWED_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float",
    "frozenset", "int", "len", "list", "map", "max", "min", "range",
    "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
)  # fmt: skip

#: Methods an answer may call on plain data; none returns more than it reads.
ALLOWED_METHODS = (
    "append", "copy", "count", "difference", "endswith", "find", "get",
    "index", "intersection", "isalpha", "isdigit", "items", "keys", "lower",
    "pop", "reverse", "sort", "split", "startswith", "strip", "union",
    "upper", "values",
)  # fmt: skip

#: Names refused outright, with a clear message (they would not resolve
#: anyway: only :data:`ALLOWED_BUILTINS` and the variables exist).
FORBIDDEN_NAMES = (
    "breakpoint", "compile", "delattr", "dir", "eval", "exec", "exit",
    "getattr", "globals", "hasattr", "help", "input", "locals", "memoryview",
    "object", "open", "print", "quit", "setattr", "super", "type", "vars",
)  # fmt: skip

#: The syntax an answer may use.
ALLOWED_NODES = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store,
    ast.Call, ast.keyword, ast.Attribute, ast.Starred,
    ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Set, ast.Dict,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Pow, ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor,
    ast.UnaryOp, ast.UAdd, ast.USub, ast.Not, ast.Invert,
    ast.BoolOp, ast.And, ast.Or, ast.IfExp,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE,
    ast.In, ast.NotIn, ast.Is, ast.IsNot,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension,
)  # fmt: skip

#: The deepest syntax tree accepted (a one-line answer is far shallower).
MAX_DEPTH = 40

#: The deepest value an answer may make or use (``[[[1]]]`` is 3 deep):
#: ``==``, ``hash`` and ``str`` recurse in C, and a value nested thousands
#: deep (built with ``append`` in a loop) can crash the interpreter.
MAX_VALUE_DEPTH = 100

#: The largest budgets a caller may ask for: beyond them one allowed C call
#: (``sorted``, ``==``, ``str``) on a value within the budget takes seconds
#: and gigabytes, and the limits no longer protect the process.
MAX_ITEMS_CAP = 1_000_000
MAX_INT_BITS_CAP = 65_536
MAX_CHARS_CAP = 100_000
MAX_TIME_LIMIT = 60.0

#: Methods that make their receiver stand for more items (the evaluator
#: forgets the sizes it has measured after each call of one).
_GROWING_METHODS = ("append",)

_PLAIN_SCALARS = (int, float, str, bool, type(None))
_PLAIN_CONTAINERS = (list, tuple, set, frozenset, dict)
_SIZED = (list, tuple, set, frozenset, dict, str)
_RECEIVERS = (
    *_PLAIN_SCALARS, *_PLAIN_CONTAINERS,
    type({}.keys()), type({}.values()), type({}.items()),
)  # fmt: skip
_BINARY = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a ** b, ast.LShift: lambda a, b: a << b,
    ast.RShift: lambda a, b: a >> b, ast.BitAnd: lambda a, b: a & b,
    ast.BitOr: lambda a, b: a | b, ast.BitXor: lambda a, b: a ^ b,
}  # fmt: skip
_UNARY = {
    ast.UAdd: lambda a: +a, ast.USub: lambda a: -a,
    ast.Not: lambda a: not a, ast.Invert: lambda a: ~a,
}  # fmt: skip
_COMPARE = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}  # fmt: skip


_NESTED = (list, tuple, set, frozenset, dict, type({}.keys()), type({}.values()),
           type({}.items()))


def _scalar_size(value) -> int:
    """Items a value without parts stands for: a string its characters."""
    if isinstance(value, (str, range)):  # a range is lazy, but list() walks it
        return max(len(value), 1)
    if isinstance(value, int):
        return 1 + value.bit_length() // 64  # a huge integer prints long
    return 1


def _parts(value) -> list:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return list(value)  # list, tuple, set, frozenset, dict views


class UnsafeExpressionError(ValueError):
    """The answer uses something the evaluator does not allow; it never ran."""


class ExpressionLimitError(RuntimeError):
    """The answer ran past the time limit or the size limits, and was stopped."""


def _refuse(what: str, code: str, fix: str = "") -> UnsafeExpressionError:
    return UnsafeExpressionError(
        f"Expected a one-line expression that uses only plain data, the "
        f"allowed builtins and methods. Received: {code!r}, which {what}."
        + (f" {fix}" if fix else "")
    )


def _check_name(name: str, code: str, kind: str = "name") -> None:
    if name.startswith("__"):
        raise _refuse(f"uses the {kind} {name!r} (names starting with '__' are "
                      "refused)", code)
    if name in FORBIDDEN_NAMES:
        raise _refuse(f"uses the {kind} {name!r}", code,
                      f"Allowed builtins: {', '.join(ALLOWED_BUILTINS)}.")


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]  # a loop, not recursion: any depth is safe
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def check_expression(code: str, max_chars: int = 1000) -> ast.Expression:
    """Parse ``code`` and refuse anything the evaluator does not allow.

    Args:
        code: One Python expression.
        max_chars: The longest answer accepted.

    Returns:
        The parsed tree (``ast.Expression``).

    Raises:
        UnsafeExpressionError: (a ``ValueError``) The answer is not one
            allowed expression; the message says what was found.

    Example:
        >>> check_expression("sorted(xs)[:3]").body.value.func.id
        'sorted'
        >>> check_expression("__import__('os')")
        Traceback (most recent call last):
        ...
        keras_gen.grading.sandbox.UnsafeExpressionError: Expected a one-line \
expression that uses only plain data, the allowed builtins and methods. \
Received: "__import__('os')", which uses the name '__import__' (names \
starting with '__' are refused).
    """
    if not isinstance(code, str):
        raise ValueError(
            f"Expected code to be a string. Received: code of type "
            f"{type(code).__name__}"
        )
    max_chars = check_int("max_chars", max_chars, minimum=1, maximum=MAX_CHARS_CAP)
    if len(code) > max_chars:
        raise _refuse(f"has {len(code)} characters (more than max_chars="
                      f"{max_chars})", code[:60] + "...")
    try:
        tree = ast.parse(code.strip(), mode="eval")
    except (RecursionError, MemoryError):
        raise _refuse("nests too deeply to parse", code[:60] + "...") from None
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL character
        message = getattr(error, "msg", str(error))
        raise _refuse(f"is not a Python expression ({message})", code,
                      "Statements (import, assignments, def) are not answers."
                      ) from None
    if _depth(tree) > MAX_DEPTH:
        raise _refuse(f"nests deeper than {MAX_DEPTH} levels", code)
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED_NODES):
            raise _refuse(f"uses {type(node).__name__} syntax", code,
                          "Lambdas, :=, f-strings and the like are not allowed.")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            _check_name(node.id, code)
        elif isinstance(node, ast.keyword):
            if node.arg is None:
                raise _refuse("unpacks keyword arguments with **", code)
            _check_name(node.arg, code, "keyword")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr not in ALLOWED_METHODS:
                raise _refuse(f"uses the attribute {node.attr!r}", code,
                              f"Allowed methods: {', '.join(ALLOWED_METHODS)}.")
        elif isinstance(node, ast.Call) and not isinstance(
            node.func, (ast.Name, ast.Attribute)
        ):
            raise _refuse("calls something that is not a builtin or a method",
                          code)
        elif isinstance(node, ast.Constant) and not isinstance(
            node.value, _PLAIN_SCALARS
        ):
            raise _refuse(f"has a {type(node.value).__name__} constant", code)
        elif isinstance(node, ast.comprehension) and node.is_async:
            raise _refuse("uses an async comprehension", code)
    # A method may only be called, never taken as a value (xs.count is a
    # bound method: a handle on the object it came from).
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in called:
            raise _refuse(f"takes the method {node.attr!r} without calling it",
                          code)
    return tree


def _check_plain(value, name: str, depth: int = 0) -> None:
    if depth > 20:
        raise ValueError(
            f"Expected {name} to be nested at most 20 deep. Received: deeper data."
        )
    if isinstance(value, _PLAIN_SCALARS):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, name, depth + 1)
            _check_plain(item, name, depth + 1)
        return
    if isinstance(value, _PLAIN_CONTAINERS):
        for item in value:
            _check_plain(item, name, depth + 1)
        return
    raise ValueError(
        f"Expected {name} to be plain data (int, float, str, bool, None and "
        f"lists, tuples, sets, dicts of them). Received: a value of type "
        f"{type(value).__name__}. Convert it first (e.g. arr.tolist())."
    )


class _Evaluator:
    def __init__(self, code, variables, time_limit, max_items, max_int_bits):
        self.code = code
        self.variables = variables
        # CPU time of this thread: a loaded machine must not change a label.
        self.deadline = time.thread_time() + time_limit
        self.time_limit = time_limit
        self.budget = max_items
        self.max_items = max_items
        self.max_int_bits = max_int_bits
        self.builtins = {n: getattr(builtins, n) for n in ALLOWED_BUILTINS}
        self.builtins["range"] = self._range
        self.builtins["round"] = self._round
        self.builtins["sum"] = self._sum
        # id -> (value, the items it stands for): each object is measured
        # once, and held so that its id cannot be reused while measured.
        self.sizes = {}

    # -- limits ------------------------------------------------------------
    def _tick(self):
        if time.thread_time() > self.deadline:
            raise ExpressionLimitError(
                f"Expected the answer to finish within time_limit="
                f"{self.time_limit} s of CPU time. Received: {self.code!r}, "
                "stopped after "
                "that time. Look for a loop over a huge range."
            )

    def _spend(self, items: int, what: str):
        self._need(items, what)
        self.budget -= items

    def _need(self, items: int, what: str):
        if items > self.budget:
            raise ExpressionLimitError(
                f"Expected the answer to create at most max_items="
                f"{self.max_items} items in all. Received: {self.code!r}, which "
                f"went past it ({what})."
            )

    def _check_result(self, value):
        if isinstance(value, _SIZED):
            self._spend(len(value), f"a {type(value).__name__} of {len(value)}")
        elif isinstance(value, int) and value.bit_length() > self.max_int_bits:
            self._too_big(f"an integer of {value.bit_length()} bits")
        if isinstance(value, _NESTED):
            self._check_size(value)
        return value

    def _size(self, value) -> int:
        """The items ``value`` stands for, every shared reference counted again.

        ``[[0] * 40] * 40`` holds 41 objects but stands for 1,600 items: that
        is what ``==``, ``hash``, ``str`` and ``in`` walk, in one C call. A
        loop over an explicit stack (any depth is safe); each object is
        measured once per answer (``self.sizes``).
        """
        if not isinstance(value, _NESTED):
            return _scalar_size(value)
        sizes, visits = self.sizes, 0
        stack = [(value, None, 1)]
        while stack:
            obj, parts, depth = stack.pop()
            if parts is not None:  # its parts are measured: add them up
                total = 0
                for part in parts:
                    total += (sizes[id(part)][1] if isinstance(part, _NESTED)
                              else _scalar_size(part))
                sizes[id(obj)] = (obj, max(total, 1))
                continue
            known = sizes.get(id(obj))
            if known is not None:
                if known[1] is None:  # still being measured: an ancestor
                    raise ExpressionLimitError(
                        f"Expected values that do not contain themselves. "
                        f"Received: {self.code!r}, which made a list that "
                        "contains itself (with append)."
                    )
                continue
            if depth > MAX_VALUE_DEPTH:
                raise ExpressionLimitError(
                    f"Expected values nested at most MAX_VALUE_DEPTH="
                    f"{MAX_VALUE_DEPTH} deep. Received: {self.code!r}, which "
                    "made or used a value nested deeper."
                )
            visits += 1
            if visits % 4096 == 0:
                self._tick()
            parts = _parts(obj)
            sizes[id(obj)] = (obj, None)
            stack.append((obj, parts, depth))
            stack.extend((p, None, depth + 1) for p in parts
                         if isinstance(p, _NESTED))
        return sizes[id(value)][1]

    def _check_size(self, *values, what: str = "a value"):
        """Refuse values that stand for more than ``max_items`` items together.

        Called on every value an answer makes and on the operands of every
        operator and call *before* it runs, so that no single C call walks
        more than ``max_items`` items.
        """
        total = sum(self._size(v) for v in values)
        if total > self.max_items:
            if len(values) == 1 and what == "a value":
                what = f"a {type(values[0]).__name__}"
            self._limit(f"{what} standing for {total} items (each reference "
                        "to a shared list or string counted again)")

    def _limit(self, what: str):
        raise ExpressionLimitError(
            f"Expected every value the answer makes or uses to stand for at "
            f"most max_items={self.max_items} items. Received: {self.code!r}, "
            f"which made or used {what}. Repeating or nesting a list of lists "
            "multiplies what it stands for."
        )

    def _too_big(self, what: str):
        raise ExpressionLimitError(
            f"Expected integers of at most max_int_bits={self.max_int_bits} "
            f"bits. Received: {self.code!r}, which would make {what}."
        )

    def _range(self, *args):
        result = range(*args)
        # A range is lazy: what it costs is charged when it is looped over or
        # turned into a container; one too long to ever pay for is refused.
        self._need(len(result), f"range() of {len(result)} numbers")
        return result

    def _round(self, number, ndigits=None):
        # round(5, -10**7) computes 10**(10**7) inside one C call.
        if isinstance(ndigits, int) and abs(ndigits) > self.max_int_bits:
            self._too_big(f"10 ** {abs(ndigits)} (round with ndigits={ndigits})")
        return round(number, ndigits)

    def _sum(self, iterable, /, start=0):
        if isinstance(start, (int, float)):
            return sum(iterable, start)
        # sum(lists, []) copies the growing total at every step (quadratic
        # work in one C call): add step by step, inside the clock and budget.
        total = start
        for item in iterable:
            self._tick()
            total = self._check_result(total + item)
        return total

    def _check_binary(self, op, a, b):
        ints = isinstance(a, int) and isinstance(b, int)
        if isinstance(op, ast.Pow) and ints and b > 0 and abs(a) > 1:
            if b * a.bit_length() > self.max_int_bits:
                self._too_big(f"about {b * a.bit_length()} bits ({a} ** {b})")
        elif isinstance(op, ast.LShift) and ints and b > 0:
            if a.bit_length() + b > self.max_int_bits:
                self._too_big(f"{a.bit_length() + b} bits ({a} << {b})")
        elif isinstance(op, ast.Mult):
            if ints and a.bit_length() + b.bit_length() > self.max_int_bits:
                self._too_big(f"about {a.bit_length() + b.bit_length()} bits")
            for seq, times in ((a, b), (b, a)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    self._need(len(seq) * max(times, 0),
                               f"{type(seq).__name__} * {times}")
                    # What the result stands for: the copies share their items.
                    size = self._size(seq) * max(times, 0) if len(seq) else 0
                    if size > self.max_items:
                        self._limit(f"{type(seq).__name__} * {times}, standing "
                                    f"for {size} items")
        elif isinstance(op, ast.Mod) and isinstance(a, str):
            raise _refuse("formats a string with %", self.code)

    # -- evaluation --------------------------------------------------------
    def run(self, tree):
        value = self.eval(tree.body, {})
        self._check_size(value)  # a variable grown by append is measured too
        return value

    def eval(self, node, scope):
        self._tick()
        method = getattr(self, f"_{type(node).__name__}")
        return method(node, scope)

    def _Constant(self, node, scope):
        return self._check_result(node.value)

    def _Name(self, node, scope):
        for table in (scope, self.variables, self.builtins):
            if node.id in table:
                return table[node.id]
        raise NameError(f"name {node.id!r} is not defined")

    def _items(self, nodes, scope):
        values = []
        for element in nodes:
            if isinstance(element, ast.Starred):
                values.extend(self.eval(element.value, scope))
            else:
                values.append(self.eval(element, scope))
        return values

    def _List(self, node, scope):
        return self._check_result(self._items(node.elts, scope))

    def _Tuple(self, node, scope):
        return self._check_result(tuple(self._items(node.elts, scope)))

    def _Set(self, node, scope):
        items = self._items(node.elts, scope)
        self._check_size(*items, what="set items")  # each one is hashed
        return self._check_result(set(items))

    def _Dict(self, node, scope):
        if any(key is None for key in node.keys):
            raise _refuse("unpacks a dict with **", self.code)
        pairs = [(self.eval(k, scope), self.eval(v, scope))
                 for k, v in zip(node.keys, node.values, strict=True)]
        self._check_size(*(k for k, _ in pairs), what="dict keys")
        return self._check_result(dict(pairs))

    def _BinOp(self, node, scope):
        a, b = self.eval(node.left, scope), self.eval(node.right, scope)
        self._check_binary(node.op, a, b)
        self._check_size(a, b, what="two operands")
        return self._check_result(_BINARY[type(node.op)](a, b))

    def _UnaryOp(self, node, scope):
        return _UNARY[type(node.op)](self.eval(node.operand, scope))

    def _BoolOp(self, node, scope):
        value = None
        for operand in node.values:  # short-circuits like Python
            value = self.eval(operand, scope)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _IfExp(self, node, scope):
        branch = node.body if self.eval(node.test, scope) else node.orelse
        return self.eval(branch, scope)

    def _Compare(self, node, scope):
        left = self.eval(node.left, scope)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node, scope)
            self._check_size(left, right, what="two compared values")
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _Subscript(self, node, scope):
        container, key = self.eval(node.value, scope), self.eval(node.slice, scope)
        self._check_size(key, what="a key")  # a dict hashes it
        return self._check_result(container[key])

    def _Slice(self, node, scope):
        parts = (node.lower, node.upper, node.step)
        return slice(*(None if p is None else self.eval(p, scope) for p in parts))

    def _Call(self, node, scope):
        if isinstance(node.func, ast.Attribute):
            receiver = self.eval(node.func.value, scope)
            if not isinstance(receiver, _RECEIVERS):
                raise _refuse(
                    f"calls .{node.func.attr}() on a {type(receiver).__name__}",
                    self.code, "Methods are called on plain data only.")
            function = getattr(receiver, node.func.attr)  # AttributeError: wrong
            inputs = (receiver,)
        else:
            function = self._Name(node.func, scope)
            inputs = ()
        args = self._items(node.args, scope)
        kwargs = {k.arg: self.eval(k.value, scope) for k in node.keywords}
        self._check_size(*inputs, *args, *kwargs.values(), what="arguments")
        result = function(*args, **kwargs)
        if inputs and node.func.attr in _GROWING_METHODS:
            self.sizes.clear()  # the receiver, and all that holds it, grew
        return self._check_result(result)

    def _comprehension_rows(self, generators, scope):
        """Every scope the comprehension's loops and conditions let through."""
        if not generators:
            yield scope
            return
        first, rest = generators[0], generators[1:]
        for item in self.eval(first.iter, scope):
            self._tick()
            self._spend(1, "comprehension steps")
            inner = dict(scope)
            self._bind(first.target, item, inner)
            if all(self.eval(test, inner) for test in first.ifs):
                yield from self._comprehension_rows(rest, inner)

    def _bind(self, target, value, scope):
        if isinstance(target, ast.Name):
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = list(value)
            if len(values) != len(target.elts):
                raise ValueError(
                    f"cannot unpack {len(values)} values into {len(target.elts)}"
                )
            for element, item in zip(target.elts, values, strict=True):
                self._bind(element, item, scope)
        else:
            raise _refuse("loops into something that is not a name", self.code)

    def _ListComp(self, node, scope):
        rows = self._comprehension_rows(node.generators, scope)
        return self._check_result([self.eval(node.elt, s) for s in rows])

    def _SetComp(self, node, scope):
        rows = self._comprehension_rows(node.generators, scope)
        return self._check_result({self.eval(node.elt, s) for s in rows})

    def _DictComp(self, node, scope):
        rows = self._comprehension_rows(node.generators, scope)
        return self._check_result(
            {self.eval(node.key, s): self.eval(node.value, s) for s in rows}
        )

    def _GeneratorExp(self, node, scope):
        # Run now, inside the limits, and hand back an iterator: a generator
        # left to run later would escape the clock and the budget.
        rows = self._comprehension_rows(node.generators, scope)
        return iter(self._check_result([self.eval(node.elt, s) for s in rows]))


def check_variables(variables) -> dict:
    """Check that ``variables`` is ``{identifier: plain data}`` (None: ``{}``).

    Raises:
        ValueError: Not a dict, a name that is not an identifier or starts
            with ``_``, or a value that is not plain data or nests deeper
            than 20.

    Example:
        >>> check_variables({"xs": [1, (2, 3)]})
        {'xs': [1, (2, 3)]}
    """
    variables = {} if variables is None else variables
    if not isinstance(variables, dict):
        raise ValueError(
            "Expected variables to be a dict {name: value}. Received: "
            f"variables of type {type(variables).__name__}"
        )
    for name, value in variables.items():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(
                "Expected variable names to be identifiers that do not start "
                f"with '_'. Received: {name!r}"
            )
        _check_plain(value, f"variables[{name!r}]")
    return variables


def check_budgets(time_limit, max_items, max_int_bits):
    """Check the evaluator's budgets, capped where the limits stop protecting.

    Returns:
        ``(time_limit, max_items, max_int_bits)`` as float, int, int.

    Raises:
        ValueError: A budget is not a number, not positive, or over its cap
            (:data:`MAX_TIME_LIMIT`, :data:`MAX_ITEMS_CAP`,
            :data:`MAX_INT_BITS_CAP`).

    Example:
        >>> check_budgets(1, 100_000, 4096)
        (1.0, 100000, 4096)
        >>> check_budgets(1.0, 10**6 + 1, 4096)
        Traceback (most recent call last):
        ...
        ValueError: Expected max_items <= 1000000. Received: max_items=1000001
    """
    time_limit = check_float("time_limit", time_limit, minimum=0,
                             maximum=MAX_TIME_LIMIT, min_inclusive=False)
    max_items = check_int("max_items", max_items, minimum=1, maximum=MAX_ITEMS_CAP)
    max_int_bits = check_int("max_int_bits", max_int_bits, minimum=8,
                             maximum=MAX_INT_BITS_CAP)
    return float(time_limit), max_items, max_int_bits


def evaluate_expression(
    code: str,
    variables: dict | None = None,
    *,
    time_limit: float = 1.0,
    max_items: int = 100_000,
    max_int_bits: int = 4096,
    max_chars: int = 1000,
):
    """Run one allowed Python expression on ``variables`` and return its value.

    See the module docstring for exactly what is allowed, what is limited and
    what is not protected against.

    Args:
        code: One Python expression, such as ``"sorted(xs)[-3:]"``.
        variables: ``{name: value}`` of plain data; each call gets a deep
            copy, so the answer cannot change them.
        time_limit: Seconds of the calling thread's CPU time, checked
            between steps.
        max_items: Budget of items (container elements, string characters,
            range numbers, comprehension steps) the answer may create.
        max_int_bits: The largest integer an answer may make, in bits.
        max_chars: The longest answer accepted.

    Returns:
        The expression's value (a generator expression comes back as an
        iterator over its already computed items).

    Raises:
        UnsafeExpressionError: (a ``ValueError``) The answer was refused
            before running.
        ExpressionLimitError: (a ``RuntimeError``) It ran past a limit.
        ValueError: A bad argument (the message names it).
        Exception: Whatever the answer itself raised (``IndexError``, ...).

    Example:
        >>> evaluate_expression("[x * 2 for x in xs if x > 1]", {"xs": [1, 2, 3]})
        [4, 6]
        >>> evaluate_expression("sum(range(10 ** 9))")
        Traceback (most recent call last):
        ...
        keras_gen.grading.sandbox.ExpressionLimitError: Expected the answer to create \
at most max_items=100000 items in all. Received: 'sum(range(10 ** 9))', which \
went past it (range() of 1000000000 numbers).
    """
    time_limit, max_items, max_int_bits = check_budgets(
        time_limit, max_items, max_int_bits
    )
    variables = check_variables(variables)
    tree = check_expression(code, max_chars=max_chars)
    variables = copy.deepcopy(variables)
    # A garbage-collection pass that starts while the answer runs would be
    # charged to the answer's CPU time (in a process full of Keras objects it
    # can take longer than the limit); the answer's own objects are bounded
    # by max_items, so collection waits until it has finished.
    collecting = gc.isenabled()
    gc.disable()
    try:
        evaluator = _Evaluator(code, variables, time_limit, max_items, max_int_bits)
        return evaluator.run(tree)
    finally:
        if collecting:
            gc.enable()
