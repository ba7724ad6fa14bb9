"""Automated grading's ground truth: learners' answers, labelled by running them.

The article names "automated grading" among the LLM's uses in education. To
measure a model's grades, each answer needs a true label, and for code the
truth is what the code computes. This module makes that truth for notebook
07's code requests (:func:`keras_gen.tasks.make_code_pairs`, such as
``# the last 3 items of xs`` -> ``xs[-3:]``):

* :func:`make_test_inputs`: seeded lists of integers for every variable name;
* :func:`grade_answer`: runs an answer and the reference answer on every
  test input in the restricted evaluator (:mod:`keras_gen.grading.sandbox`) and
  compares the values (:func:`same_value`). A learner's answer runs in a
  child process with CPU and memory limits
  (:func:`keras_gen.grading.isolation.run_isolated`, the default ``isolated=True``);
  the answers this module makes itself (:func:`make_answers`) run in this
  process (``isolated=False``), about twice as fast
  (``benchmarks/sandbox_isolation.py``), since nobody but the package
  wrote them. The reference, the course's own, always runs in
  this process. Whatever an answer does, the reason comes back within
  :data:`REASON_CHARS` characters: values are shown with a bounded
  ``reprlib`` (a value is never formatted in full), the answer's own error
  text is cut, and a value nested too deeply to compare is a wrong answer,
  not a ``RecursionError``;
* :func:`make_answers`: for each request, the reference, correct rewrites of
  it, and realistic wrong answers made by mutating its syntax tree:
  ``off_by_one`` (a number or a boundary moved by one), ``wrong_operator``
  (``+`` for ``-``, ``<`` for ``>``, a sign dropped), ``wrong_variable``
  (another list, or the list where the item was meant), ``wrong_method``
  (``min`` for ``max``, ``count`` for ``index``, ``xs.sort()`` for
  ``sorted(xs)``). Every answer is labelled by running it, never by how it
  was made: a "wrong" answer that computes the right values on every test
  input is labelled correct.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import itertools
import math
import re
import reprlib

import numpy as np

from keras_gen._checks import check_int, check_seed
from keras_gen.grading.isolation import OpaqueValue, run_isolated
from keras_gen.grading.sandbox import (
    ExpressionLimitError,
    UnsafeExpressionError,
    evaluate_expression,
)
from keras_gen.tasks import CODE_TEMPLATES, CODE_VARIABLES, make_code_pairs

#: How an answer was made (``reference`` and ``rewrite`` are meant to be right).
ANSWER_KINDS = (
    "reference", "rewrite", "off_by_one", "wrong_operator", "wrong_variable",
    "wrong_method",
)  # fmt: skip
#: The kinds made by mutating the reference.
WRONG_KINDS = ANSWER_KINDS[2:]

#: Correct answers written differently, by code template (``{v}``, ``{n}``).
REWRITES = {
    "len({v})": ("sum(1 for x in {v})",),
    "sum({v})": ("sum(x for x in {v})",),
    "max({v})": ("sorted({v})[-1]",),
    "min({v})": ("sorted({v})[0]",),
    "sorted({v})": ("sorted({v}, reverse=False)",),
    "sorted({v}, reverse=True)": ("sorted({v})[::-1]",),
    "{v}[::-1]": ("list(reversed({v}))",),
    "{v}[:{n}]": ("{v}[0:{n}]",),
    "{v}[-{n}:]": ("{v}[len({v}) - {n}:]",),
    "{v}[{n}]": ("{v}[{n} - len({v})]",),
    "[x ** 2 for x in {v}]": ("[x * x for x in {v}]",),
    "[x * {n} for x in {v}]": ("[{n} * x for x in {v}]",),
    "[x + {n} for x in {v}]": ("[{n} + x for x in {v}]",),
    "[x for x in {v} if x > {n}]": ("[x for x in {v} if x >= {n} + 1]",),
    "set({v})": ("set(sorted({v}))",),
    "sum({v}) / len({v})": ("sum(x / len({v}) for x in {v})",),
    "{v}.count({n})": ("len([x for x in {v} if x == {n}])",),
    "{n} in {v}": ("{v}.count({n}) > 0",),
    "{v}.index({n})": ("[i for i, x in enumerate({v}) if x == {n}][0]",),
    "tuple({v})": ("tuple(x for x in {v})",),
}

_FUNCTION_SWAPS = {
    "len": ("sum", "max"), "sum": ("len", "max"), "max": ("min", "len"),
    "min": ("max",), "sorted": ("reversed", "set"), "set": ("list", "sorted"),
    "tuple": ("list",), "list": ("tuple",),
}  # fmt: skip
_METHOD_SWAPS = {"count": ("index",), "index": ("count", "find")}
_BINOP_SWAPS = {
    ast.Add: (ast.Sub, ast.Mult), ast.Sub: (ast.Add,), ast.Mult: (ast.Add, ast.Pow),
    ast.Pow: (ast.Mult,), ast.Div: (ast.FloorDiv,), ast.FloorDiv: (ast.Div,),
}  # fmt: skip
_COMPARE_SWAPS = {
    ast.Gt: ast.Lt, ast.Lt: ast.Gt, ast.GtE: ast.LtE, ast.LtE: ast.GtE,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
}  # fmt: skip
_BOUNDARY_SWAPS = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt}


#: The longest reason :func:`grade_answer` gives, in characters.
REASON_CHARS = 500


class _ShortRepr(reprlib.Repr):
    """``reprlib`` that never formats a whole value.

    Huge integers and objects other than plain data are named, not printed.
    """

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother, self.maxlong = 4, 60, 60, 60
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 8
        self.maxdict = 6

    def repr_int(self, x, level):
        if x.bit_length() > 256:  # str(int) of a long one is slow, or refused
            return f"<int of {x.bit_length()} bits>"
        return super().repr_int(x, level)

    def repr_instance(self, x, level):
        if x is None or isinstance(x, (bool, float, OpaqueValue)):
            return repr(x)  # an OpaqueValue is named as the object it was
        name = type(x).__name__
        if name in ("dict_keys", "dict_values", "dict_items"):
            items = list(itertools.islice(x, self.maxlist + 1))
            return f"{name}({self.repr_list(items, level)})"
        return f"<{name} object>"


_SHORT_REPR = _ShortRepr()


def short_repr(value, limit: int = 60) -> str:
    """``repr(value)`` within ``limit`` characters, without building the whole.

    Example:
        >>> short_repr(list(range(100)))
        '[0, 1, 2, 3, 4, 5, 6, 7, ...]'
        >>> short_repr([[[[[0]]]]])
        '[[[[...]]]]'
    """
    try:
        text = _SHORT_REPR.repr(value)
    except Exception:  # noqa: BLE001  (a value that cannot be shown)
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cut(text: str, limit: int = REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 4] + " ..."


def _error_text(error: BaseException) -> str:
    """The answer's error message, cut, without formatting a huge argument."""
    if all(a is None or isinstance(a, (bool, int, float, str)) for a in error.args):
        if not any(isinstance(a, int) and a.bit_length() > 256 for a in error.args):
            return _cut(str(error))
    return _cut(short_repr(error.args[0] if len(error.args) == 1 else error.args,
                           REASON_CHARS))


@dataclasses.dataclass(frozen=True)
class GradedAnswer:
    """One answer to a code request, labelled by running it.

    Attributes:
        prompt: The request, as in :func:`keras_gen.tasks.make_code_pairs`.
        reference: The reference answer (one line, no newline).
        answer: The answer being graded.
        kind: How it was made, one of :data:`ANSWER_KINDS`.
        correct: Whether it computed the reference's values on every test
            input on which the reference runs.
        reason: Why it is wrong (``""`` when correct).
    """

    prompt: str
    reference: str
    answer: str
    kind: str
    correct: bool
    reason: str


_NOT_DIGITS = np.array([*range(-5, 1), *range(10, 16)])


def make_test_inputs(count: int = 8, seed: int = 0, variables=CODE_VARIABLES):
    """Seeded test inputs: every variable bound to a list of integers.

    Even-numbered inputs hold every digit 1-9, each one to three times (so
    ``xs.index(4)`` finds it and ``xs.count(4)`` varies), plus one to three
    numbers from ``[-5, 15]``, shuffled. In odd-numbered ones each digit is
    present (once or twice) with probability 1/2, so ``4 in xs`` is True or
    False alike, and numbers from ``[-5, 0]`` and ``[10, 15]`` fill the list.
    Every list has at least 10 items, so ``xs[9]`` exists. Binding *every*
    name (not only the request's) makes a wrong variable compute wrong
    values instead of failing on a name.

    Inputs this varied keep lucky answers rare: a wrong answer is labelled
    right only if it matches the reference on every input.

    Args:
        count: Number of inputs, at least 1.
        seed: Seed (same seed, same inputs).
        variables: The names to bind.

    Returns:
        A list of ``count`` dicts ``{name: list of int}``.

    Example:
        >>> inputs = make_test_inputs(2, variables=("xs",))
        >>> sorted(set(range(1, 10)) - set(inputs[0]["xs"]))
        []
        >>> len(inputs[1]["xs"]) >= 10
        True
    """
    count = check_int("count", count, minimum=1)
    seed = check_seed("seed", seed)
    variables = tuple(variables)
    if not variables or not all(
        isinstance(v, str) and v.isidentifier() for v in variables
    ):
        raise ValueError(
            "Expected variables to be a non-empty sequence of identifiers. "
            f"Received: variables={variables!r}"
        )
    rng = np.random.default_rng(seed)
    inputs = []
    for i in range(count):
        env = {}
        for name in variables:
            if i % 2 == 0:
                digits = np.repeat(np.arange(1, 10), rng.integers(1, 4, size=9))
                extra = rng.integers(-5, 16, size=int(rng.integers(1, 4)))
                values = rng.permutation(np.concatenate([digits, extra]))
            else:
                kept = np.arange(1, 10)[rng.random(9) < 0.5]
                digits = np.repeat(kept, rng.integers(1, 3, size=len(kept)))
                fill = rng.choice(_NOT_DIGITS, size=max(10 - len(digits), 0)
                                  + int(rng.integers(0, 4)))
                values = rng.permutation(np.concatenate([digits, fill]))
            env[name] = [int(v) for v in values]
        inputs.append(env)
    return inputs


def same_value(a, b) -> bool:
    """Whether an answer's value counts as the reference's value.

    Numbers (int or float, not bool) are compared with a relative tolerance
    of 1e-9, so ``sum(xs) / len(xs)`` and ``sum(x / len(xs) for x in xs)``
    agree and ``4`` counts as ``4.0``. Otherwise the types must be equal (a
    list is not a tuple or a set; ``True`` is not ``1``), containers are
    compared item by item with the same rule, and anything else with ``==``.

    Example:
        >>> same_value(2.5, 2.5000000000001), same_value([1, 2], (1, 2))
        (True, False)
        >>> same_value(True, 1)
        False
    """

    def is_number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if is_number(a) and is_number(b):
        if isinstance(a, int) and isinstance(b, int):
            return a == b  # exact, and no float overflow for huge integers
        try:
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        except OverflowError:  # an integer too large for a float
            return False
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(
            same_value(x, y) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    return a == b


def _check_inputs(inputs) -> list[dict]:
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError(
            "Expected inputs to be a non-empty list of {name: value} dicts "
            f"(see make_test_inputs). Received: {short_repr(inputs, 80)}"
        )
    for i, env in enumerate(inputs):
        if not isinstance(env, dict):
            raise ValueError(
                f"Expected inputs[{i}] to be a dict {{name: value}}. Received: "
                f"{type(env).__name__}"
            )
    return list(inputs)


def reference_values(reference: str, inputs) -> list:
    """The reference's value on each input (``None`` where it raises).

    An input on which the reference itself fails (``xs.index(4)`` where
    there is no 4) says nothing about the request, so :func:`grade_answer`
    skips it.

    Returns:
        One entry per input: ``(value,)``, or ``None`` where it raised.

    Raises:
        ValueError: The reference is refused by the evaluator, or runs on
            none of the inputs.

    Example:
        >>> reference_values("xs.index(4)", [{"xs": [3, 4]}, {"xs": [5]}])
        [(1,), None]
    """
    inputs = _check_inputs(inputs)
    values, ran = [], 0
    for env in inputs:
        try:
            values.append((evaluate_expression(reference, env),))
            ran += 1
        except (UnsafeExpressionError, ExpressionLimitError) as error:
            raise ValueError(
                f"Expected a reference answer the evaluator runs. Received: "
                f"reference={reference!r}, refused: {error}"
            ) from error
        except Exception:  # noqa: BLE001  (the reference fails on this input)
            values.append(None)
    if not ran:
        raise ValueError(
            f"Expected at least one test input on which the reference runs. "
            f"Received: reference={reference!r} fails on all {len(inputs)}. "
            "Add inputs that fit it."
        )
    return values


def grade_answer(answer: str, reference: str, inputs, expected=None, *,
                 isolated: bool = True):
    """Run ``answer`` and ``reference`` on every input and compare the values.

    Args:
        answer: The learner's one-line expression.
        reference: The correct expression.
        inputs: Test inputs (:func:`make_test_inputs`).
        expected: :func:`reference_values` for these inputs, to skip
            recomputing them when grading many answers to one request.
        isolated: Run the answer in a child process with CPU and memory
            limits (:func:`keras_gen.grading.isolation.run_isolated`; the child
            starts once per process, in about half a second). ``False``
            runs it in this process
            (:func:`keras_gen.grading.sandbox.evaluate_expression`, about twice as
            fast): only for answers the user running it wrote or chose,
            such as those :func:`make_answers` makes.

    Returns:
        ``(correct, reason)``: ``reason`` says why it is wrong (the first
        input where its value differs, its error, why it was refused or
        stopped), at most :data:`REASON_CHARS` characters; ``""`` when
        correct.

    Raises:
        ValueError: Bad arguments, or a reference that cannot be run.

    Example:
        >>> inputs = make_test_inputs(variables=("xs",))
        >>> grade_answer("sorted(xs)[-1]", "max(xs)", inputs)
        (True, '')
        >>> grade_answer("xs[-1]", "max(xs)", inputs)
        (False, 'differs on test input 0: expected 14, got 1')
    """
    for name, value in (("answer", answer), ("reference", reference)):
        if not isinstance(value, str):
            raise ValueError(
                f"Expected {name} to be a string of Python. Received: {name} of "
                f"type {type(value).__name__}"
            )
    inputs = _check_inputs(inputs)
    if expected is None:
        expected = reference_values(reference, inputs)
    elif len(expected) != len(inputs):
        raise ValueError(
            f"Expected one reference value per input ({len(inputs)}). Received: "
            f"{len(expected)} values."
        )
    run = run_isolated if isolated else evaluate_expression
    for i, (env, want) in enumerate(zip(inputs, expected, strict=True)):
        if want is None:
            continue
        try:
            got = run(answer, env)
        except UnsafeExpressionError as error:
            return False, _cut(f"refused: {error}")
        except ExpressionLimitError as error:
            return False, _cut(f"stopped: {error}")
        except RecursionError:
            return False, f"stopped: the answer nests too deeply on test input {i}"
        except Exception as error:  # noqa: BLE001  (the answer's own error)
            return False, _cut(
                f"{type(error).__name__} on test input {i}: {_error_text(error)}"
            )
        try:
            same = same_value(got, want[0])
        except RecursionError:
            return False, f"stopped: its value on test input {i} nests too deeply"
        if not same:
            return False, (
                f"differs on test input {i}: expected {short_repr(want[0])}, got "
                f"{short_repr(got)}"
            )
    return True, ""


# --------------------------------------------------------------------------
# Mutations: realistic wrong answers made from the reference's syntax tree
# --------------------------------------------------------------------------


def _replace(tree: ast.Expression, old: ast.AST, new: ast.AST) -> None:
    if tree.body is old:
        tree.body = new
        return
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                value[[item is old for item in value].index(True)] = new
                return


def _variants(tree: ast.Expression, edit) -> list[str]:
    """Apply ``edit`` to each node in turn; every change gives one answer.

    ``edit(node, choice)`` returns ``None`` (nothing to change for this
    choice) or the node to put in ``node``'s place (``node`` itself, edited).
    """
    answers = []
    for position in range(sum(1 for _ in ast.walk(tree))):
        for choice in range(4):  # an edit may offer several replacements
            mutated = copy.deepcopy(tree)
            node = list(ast.walk(mutated))[position]
            new = edit(node, choice)
            if new is None:
                continue
            if new is not node:
                _replace(mutated, node, new)
            answers.append(ast.unparse(ast.fix_missing_locations(mutated)))
    return answers


def _off_by_one(node, choice):
    if isinstance(node, ast.Constant) and type(node.value) is int and choice < 2:
        node.value += (1, -1)[choice]  # xs[:3] -> xs[:4], xs[:2]
        return node
    if isinstance(node, ast.Compare) and choice == 0:
        swap = _BOUNDARY_SWAPS.get(type(node.ops[0]))
        if swap is not None:  # x > 3 -> x >= 3
            node.ops[0] = swap()
            return node
    return None


def _wrong_operator(node, choice):
    if isinstance(node, ast.BinOp):
        swaps = _BINOP_SWAPS.get(type(node.op), ())
        if choice < len(swaps):
            node.op = swaps[choice]()
            return node
    elif isinstance(node, ast.Compare) and choice == 0:
        swap = _COMPARE_SWAPS.get(type(node.ops[0]))
        if swap is not None:
            node.ops[0] = swap()
            return node
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if choice == 0:  # the minus sign forgotten: xs[-3:] -> xs[3:]
            return node.operand
    return None


def _method_call(receiver, method, args=(), keywords=()):
    func = ast.Attribute(value=receiver, attr=method, ctx=ast.Load())
    return ast.Call(func=func, args=list(args), keywords=list(keywords))


def _wrong_method(node, choice):
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        if node.slice.step is not None and choice < 2:
            # xs[::-1] -> xs.reverse() (in place, returns None) or reversed(xs)
            if choice == 0:
                return _method_call(node.value, "reverse")
            return ast.Call(ast.Name("reversed", ast.Load()), [node.value], [])
        return None
    if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
        if choice == 0:  # 4 in xs -> xs.count(4)
            return _method_call(node.comparators[0], "count", [node.left])
        return None
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        swaps = _FUNCTION_SWAPS.get(func.id, ())
        if choice < len(swaps):
            func.id = swaps[choice]  # max(xs) -> min(xs)
            return node
        if func.id == "sorted" and node.args and choice == len(swaps):
            # sorted(xs) -> xs.sort(): sorts in place, returns None
            return _method_call(node.args[0], "sort", node.args[1:], node.keywords)
        if node.keywords and choice == len(swaps) + 1:
            node.keywords = []  # sorted(xs, reverse=True) -> sorted(xs)
            return node
    elif isinstance(func, ast.Attribute):
        swaps = _METHOD_SWAPS.get(func.attr, ())
        if choice < len(swaps):
            func.attr = swaps[choice]  # xs.index(4) -> xs.count(4)
            return node
    return None


def _wrong_variables(tree, variables) -> list[str]:
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used = sorted(names & set(variables))
    answers = []
    for old in used:  # another list: len(ys) for len(xs)
        for new in variables:
            if new in names:
                continue
            mutated = copy.deepcopy(tree)
            for node in ast.walk(mutated):
                if isinstance(node, ast.Name) and node.id == old:
                    node.id = new
            answers.append(ast.unparse(mutated))
    # The list where its item was meant: [xs ** 2 for x in xs].
    for position, node in enumerate(ast.walk(tree)):
        comprehension = (ast.ListComp, ast.SetComp, ast.GeneratorExp)
        if used and isinstance(node, comprehension):
            target = node.generators[0].target
            if isinstance(target, ast.Name):
                mutated = copy.deepcopy(tree)
                copy_node = list(ast.walk(mutated))[position]
                for name in ast.walk(copy_node.elt):
                    if isinstance(name, ast.Name) and name.id == target.id:
                        name.id = used[0]
                answers.append(ast.unparse(mutated))
    return answers


def wrong_answers(reference: str, variables=CODE_VARIABLES) -> dict[str, list[str]]:
    """Every single-edit mutation of ``reference``, by kind.

    Args:
        reference: A one-line Python expression.
        variables: Names another list may be swapped in from.

    Returns:
        ``{kind: sorted answers}`` for each of :data:`WRONG_KINDS`; answers
        equal to the reference (as text) are left out. Whether each one is
        actually wrong is for :func:`grade_answer` to say.

    Example:
        >>> wrong_answers("xs[-3:]", variables=("xs", "ys"))["off_by_one"]
        ['xs[-2:]', 'xs[-4:]']
        >>> wrong_answers("max(xs)", variables=("xs", "ys"))["wrong_method"]
        ['len(xs)', 'min(xs)']
    """
    if not isinstance(reference, str):
        raise ValueError(
            f"Expected reference to be a string. Received: {type(reference).__name__}"
        )
    try:
        tree = ast.parse(reference.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(
            f"Expected reference to be one Python expression. Received: "
            f"{reference!r} ({error.msg})"
        ) from None
    canonical = ast.unparse(tree)
    kinds = {
        "off_by_one": _variants(tree, _off_by_one),
        "wrong_operator": _variants(tree, _wrong_operator),
        "wrong_variable": _wrong_variables(tree, tuple(variables)),
        "wrong_method": _variants(tree, _wrong_method),
    }
    return {k: sorted(set(v) - {canonical}) for k, v in kinds.items()}


def template_rewrites(reference: str) -> list[str]:
    """The correct rewrites of :data:`REWRITES` for a reference answer.

    Example:
        >>> template_rewrites("max(ages)"), template_rewrites("ages + 1")
        (['sorted(ages)[-1]'], [])
    """
    for _, code in CODE_TEMPLATES:
        # "{v}[-{n}:]" -> r"(?P<v>\w+)\[\-(?P<n>\d+):\]"; a repeat must match.
        pattern = re.escape(code)
        for name, group in (("v", r"\w+"), ("n", r"\d+")):
            placeholder = re.escape("{" + name + "}")
            pattern = pattern.replace(placeholder, f"(?P<{name}>{group})", 1)
            pattern = pattern.replace(placeholder, f"(?P={name})")
        match = re.fullmatch(pattern, reference)
        if match:
            fill = match.groupdict()
            return [
                r.replace("{v}", fill.get("v", "")).replace("{n}", fill.get("n", ""))
                for r in REWRITES.get(code, ())
            ]
    return []


def make_answers(pairs=None, per_kind: int = 1, seed: int = 0, inputs=None, *,
                 isolated: bool = False):
    r"""Answers to code requests, right and wrong, each labelled by running it.

    For each ``(prompt, completion)`` pair: the reference itself, its
    rewrites from :data:`REWRITES`, and ``per_kind`` answers of each of
    :data:`WRONG_KINDS` drawn (seeded) from :func:`wrong_answers`. Each is
    graded on ``inputs`` with :func:`grade_answer`.

    Args:
        pairs: ``(prompt, completion)`` pairs; default
            :func:`keras_gen.tasks.make_code_pairs` (1,840 requests).
        per_kind: Wrong answers drawn per kind and request.
        seed: Seed for the draws.
        inputs: Test inputs; default :func:`make_test_inputs` (8, seed 0).
        isolated: Run the answers in a child process
            (:func:`grade_answer`). Off by default: this function made them
            itself, from the references, so they run in this process.

    Returns:
        A list of :class:`GradedAnswer`, request by request.

    Example:
        >>> answers = make_answers([("# the sum of xs\n", "sum(xs)\n")])
        >>> for answer in answers[:4]:
        ...     print(answer.kind, answer.answer, answer.correct)
        reference sum(xs) True
        rewrite sum(x for x in xs) True
        off_by_one sum(xs) + 1 False
        wrong_variable sum(data) False
    """
    pairs = make_code_pairs() if pairs is None else list(pairs)
    per_kind = check_int("per_kind", per_kind, minimum=0)
    rng = np.random.default_rng(check_seed("seed", seed))
    inputs = make_test_inputs() if inputs is None else _check_inputs(inputs)
    variables = sorted(set().union(*(env.keys() for env in inputs)))
    if not pairs:
        raise ValueError(
            "Expected at least one (prompt, completion) pair. Received: []"
        )
    graded = []
    for i, pair in enumerate(pairs):
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(
            isinstance(p, str) for p in pair
        )):
            raise ValueError(
                f"Expected pairs of (prompt, completion) strings. Received: "
                f"pairs[{i}]={short_repr(pair, 80)}"
            )
        prompt, reference = pair[0], pair[1].strip()
        expected = reference_values(reference, inputs)
        candidates = [("reference", reference)]
        candidates += [("rewrite", r) for r in template_rewrites(reference)]
        mutations = wrong_answers(reference, variables)
        for kind in WRONG_KINDS:
            options = mutations[kind] or _fallback(reference, expected, kind)
            for j in rng.permutation(len(options))[:per_kind]:
                candidates.append((kind, options[j]))
        for kind, answer in candidates:
            correct, why = grade_answer(answer, reference, inputs, expected,
                                        isolated=isolated)
            graded.append(GradedAnswer(prompt, reference, answer, kind, correct, why))
    return graded


def _fallback(reference: str, expected, kind: str) -> list[str]:
    """Off-by-one answers for references with no number to move: ``len(xs) - 1``."""
    if kind != "off_by_one":
        return []
    value = next(v[0] for v in expected if v is not None)
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [f"{reference} + 1", f"{reference} - 1"]
    if isinstance(value, (list, tuple)):
        return [f"{reference}[1:]", f"{reference}[:-1]"]
    return []
