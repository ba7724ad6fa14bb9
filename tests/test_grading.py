"""The restricted evaluator and grading by execution (keras_gen.grading)."""

import time

import numpy as np
import pytest

from keras_gen.grading.answers import (
    ANSWER_KINDS,
    WRONG_KINDS,
    grade_answer,
    make_answers,
    make_test_inputs,
    reference_values,
    same_value,
    wrong_answers,
)
from keras_gen.grading.sandbox import (
    ExpressionLimitError,
    UnsafeExpressionError,
    check_expression,
    evaluate_expression,
)
from keras_gen.tasks import make_code_pairs

ENV = {"xs": [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]}

# --------------------------------------------------------------------------
# The sandbox refuses, before running anything
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, message",
    [
        ("__import__('os')", "the name '__import__'"),
        ("__builtins__", "the name '__builtins__'"),
        ("xs.__class__", "the attribute '__class__'"),
        ("().__class__.__bases__[0].__subclasses__()", "the attribute"),
        ("len.__self__", "the attribute '__self__'"),
        ("xs._private()", "the attribute '_private'"),
        ("import os", "not a Python expression"),
        ("x = 1", "not a Python expression"),
        ("(lambda f: f(f))(lambda f: f(f))", "uses Lambda syntax"),
        ("(f := 1)", "uses NamedExpr syntax"),
        ("f'{xs}'", "uses JoinedStr syntax"),
        ("eval('1')", "the name 'eval'"),
        ("open('/etc/passwd')", "the name 'open'"),
        ("getattr(xs, 'count')", "the name 'getattr'"),
        ("type(xs)", "the name 'type'"),
        ("'{}'.format(xs)", "the attribute 'format'"),
        ("','.join(xs)", "the attribute 'join'"),
        ("xs.count", "takes the method 'count' without calling it"),
        ("sorted(xs, **{'key': abs})", "unpacks keyword arguments"),
        ("b'bytes'", "a bytes constant"),
        ("'%999999999d' % 1", "formats a string with %"),
        ("-" * 60 + "1", "nests deeper than 40"),
        ("x" * 1001, "more than max_chars=1000"),
        ("1\x00", "not a Python expression"),
    ],
)
def test_sandbox_refuses_before_running(code, message):
    with pytest.raises(UnsafeExpressionError, match=message):
        evaluate_expression(code, ENV)


def test_refusals_are_value_errors_in_the_keras_manner():
    with pytest.raises(ValueError, match=r"^Expected a one-line expression .* "
                       r"Received: \"__import__\('os'\)\", which"):
        check_expression("__import__('os')")


# --------------------------------------------------------------------------
# ... and stops what runs too long or grows too large
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, message",
    [
        ("sum(range(10 ** 12))", "max_items=100000 .*\\(range\\(\\) of"),
        ("[0] * 10 ** 10", "list \\* 10000000000"),
        ("'a' * 10 ** 9", "str \\* 1000000000"),
        ("10 ** 10 ** 10", "max_int_bits=4096"),
        ("1 << 10 ** 6", "max_int_bits=4096"),
        ("[[0] * 50000 for x in range(50000)]", "max_items"),
        ("[x for x in range(60000) for y in range(60000)]", "max_items"),
        ("round(5, -10 ** 7)", "max_int_bits=4096 .*round with ndigits"),
        ("sum([[1]] * 20000, [])", "max_items"),
    ],
)
def test_sandbox_stops_huge_sizes_before_they_exist(code, message):
    start = time.perf_counter()
    with pytest.raises(ExpressionLimitError, match=message):
        evaluate_expression(code, ENV)
    assert time.perf_counter() - start < 5


def test_sandbox_stops_at_the_time_limit():
    slow = "sum([sum(range(50000)) for x in range(40000)])"  # ~40 s of CPU
    start = time.thread_time()
    with pytest.raises(ExpressionLimitError, match="time_limit=0.1 s of CPU time"):
        evaluate_expression(slow, time_limit=0.1)
    assert time.thread_time() - start < 1  # stopped soon after 0.1 s of CPU


def test_self_calling_lambdas_never_get_to_recurse():
    # The classic way to loop without a loop; refused as syntax, so neither
    # a RecursionError nor the time limit is needed.
    y_combinator = "(lambda f: (lambda x: f(lambda v: x(x)(v)))" \
        "(lambda x: f(lambda v: x(x)(v))))(lambda g: lambda n: g(n))(1)"
    with pytest.raises(UnsafeExpressionError, match="Lambda"):
        evaluate_expression(y_combinator)


# --------------------------------------------------------------------------
# ... and runs the right answers right
# --------------------------------------------------------------------------


def test_every_reference_answer_of_notebook_07_runs_like_python():
    inputs = make_test_inputs(2, seed=3)
    for _, completion in make_code_pairs():
        code = completion.strip()
        for env in inputs:
            try:
                want = eval(code, {}, {k: list(v) for k, v in env.items()})  # noqa: S307
            except ValueError:  # xs.index(n) where n is missing
                with pytest.raises(ValueError):
                    evaluate_expression(code, env)
                continue
            got = evaluate_expression(code, env)
            assert same_value(got, want) and type(got) is type(want), code


@pytest.mark.parametrize(
    "code, expected",
    [
        ("[x * 2 for x in xs if x > 4]", [10, 18, 12, 10]),
        ("{x: xs.count(x) for x in xs if x < 3}", {1: 2, 2: 1}),
        ("sorted(set(xs), reverse=True)[:2]", [9, 6]),
        ("[(i, x) for i, x in enumerate(xs) if x == 1]", [(1, 1), (3, 1)]),
        ("sum(x for x in xs) / len(xs)", 3.9),
        ("max(map(abs, [-7, 2]))", 7),
        ("sum([[1], [2, 3]], []) + [round(2.675, 2), round(1234, -2)]",
         [1, 2, 3, 2.67, 1200]),
        ("1 < 2 < 3 and not 3 in xs or 'no'", "no"),
        ("xs[-3:] if xs else None", [6, 5, 3]),
        ("'Hello World'.lower().split()", ["hello", "world"]),
        ("[*xs[:2], *range(2)]", [3, 1, 0, 1]),
    ],
)
def test_sandbox_computes_what_python_computes(code, expected):
    assert evaluate_expression(code, ENV) == expected


def test_answers_cannot_change_the_callers_data():
    data = {"xs": [3, 1, 2]}
    assert evaluate_expression("xs.sort()", data) is None
    assert evaluate_expression("xs.append(4)", data) is None
    assert data == {"xs": [3, 1, 2]}


def test_the_answers_own_errors_come_back_unchanged():
    with pytest.raises(IndexError):
        evaluate_expression("xs[20]", ENV)
    with pytest.raises(NameError, match="'ys' is not defined"):
        evaluate_expression("len(ys)", ENV)
    with pytest.raises(ZeroDivisionError):
        evaluate_expression("1 / 0")
    with pytest.raises(AttributeError):
        evaluate_expression("xs.find(3)", ENV)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"code": 3}, "Expected code to be a string. Received: code of type int"),
        ({"variables": [1, 2]}, "Expected variables to be a dict"),
        ({"variables": {"1x": []}}, "identifiers that do not start with '_'"),
        ({"variables": {"_x": []}}, "identifiers that do not start with '_'"),
        ({"variables": {"xs": np.arange(3)}}, "plain data .* arr.tolist\\(\\)"),
        ({"variables": {"xs": [len]}}, "plain data"),
        ({"time_limit": 0}, "Expected time_limit > 0"),
        ({"time_limit": float("nan")}, "finite number"),
        ({"max_items": 0}, "Expected max_items >= 1"),
        ({"max_int_bits": 2}, "Expected max_int_bits >= 8"),
        ({"max_chars": 0}, "Expected max_chars >= 1"),
    ],
)
def test_sandbox_bad_arguments(kwargs, message):
    arguments = {"code": "len(xs)", "variables": ENV, **kwargs}
    with pytest.raises(ValueError, match=message):
        evaluate_expression(arguments.pop("code"), **arguments)


# --------------------------------------------------------------------------
# Grading by execution
# --------------------------------------------------------------------------


def test_test_inputs_are_seeded_and_fit_every_request():
    assert make_test_inputs(4, seed=1) == make_test_inputs(4, seed=1)
    assert make_test_inputs(4, seed=1) != make_test_inputs(4, seed=2)
    inputs = make_test_inputs(4, variables=("xs", "ys"))
    assert all(min(len(env["xs"]), len(env["ys"])) >= 10 for env in inputs)
    assert set(range(1, 10)) <= set(inputs[0]["xs"])
    assert inputs[0]["xs"] != inputs[0]["ys"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": 0}, "Expected count >= 1"),
        ({"seed": -1}, "Expected seed >= 0"),
        ({"variables": ()}, "non-empty sequence of identifiers"),
        ({"variables": ("xs", "not a name")}, "non-empty sequence of identifiers"),
    ],
)
def test_make_test_inputs_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_test_inputs(**kwargs)


def test_same_value_rules():
    assert same_value(4, 4.0) and same_value(0.1 + 0.2, 0.3)
    assert not same_value(True, 1) and not same_value([1], (1,))
    assert not same_value({1, 2}, [1, 2]) and same_value({1, 2}, {2, 1})
    assert not same_value([1, 2], [1, 2, 3]) and same_value({"a": [1.0]}, {"a": [1]})
    assert not same_value(iter([1]), [1])


def test_labels_follow_execution_not_how_an_answer_was_made():
    inputs = make_test_inputs()
    # Made as a wrong operator, yet right on every input: labelled right.
    assert grade_answer("[x ** 1 for x in xs]", "[x * 1 for x in xs]", inputs) == (
        True, "",
    )  # fmt: skip
    assert grade_answer("[x for x in xs if x >= 4]", "[x for x in xs if x > 3]",
                        inputs) == (True, "")
    correct, reason = grade_answer("xs.sort()", "sorted(xs)", inputs)
    assert not correct and reason.startswith("differs on test input 0")
    correct, reason = grade_answer("xs[10 + 50]", "xs[5]", inputs)
    assert not correct and reason.startswith("IndexError on test input 0")
    correct, reason = grade_answer("__import__('os')", "len(xs)", inputs)
    assert not correct and reason.startswith("refused: Expected")
    correct, reason = grade_answer("len(range(10 ** 9))", "len(xs)", inputs)
    assert not correct and reason.startswith("stopped: Expected")


def test_inputs_where_the_reference_fails_are_skipped():
    inputs = make_test_inputs(4, variables=("xs",))
    values = reference_values("xs.index(7)", inputs)
    assert values[0] is not None and values[2] is not None  # 7 planted there
    skipped = [i for i, v in enumerate(values) if v is None]
    assert skipped, "seed 0 should leave a 7 out of some odd input"
    assert grade_answer("[i for i, x in enumerate(xs) if x == 7][0]", "xs.index(7)",
                        inputs) == (True, "")


def test_grade_answer_bad_arguments():
    inputs = make_test_inputs(2, variables=("xs",))
    with pytest.raises(ValueError, match="Expected answer to be a string"):
        grade_answer(None, "len(xs)", inputs)
    with pytest.raises(ValueError, match="Expected reference to be a string"):
        grade_answer("len(xs)", 3, inputs)
    with pytest.raises(ValueError, match="non-empty list of \\{name: value\\}"):
        grade_answer("len(xs)", "len(xs)", [])
    with pytest.raises(ValueError, match="inputs\\[0\\] to be a dict"):
        grade_answer("len(xs)", "len(xs)", [["xs"]])
    with pytest.raises(ValueError, match="one reference value per input"):
        grade_answer("len(xs)", "len(xs)", inputs, expected=[(1,)])
    with pytest.raises(ValueError, match="reference answer the evaluator runs"):
        grade_answer("len(xs)", "__import__('os')", inputs)
    with pytest.raises(ValueError, match="fails on all 2"):
        grade_answer("len(xs)", "xs[99]", inputs)


def test_wrong_answers_cover_the_four_kinds():
    found = wrong_answers("sorted(xs, reverse=True)[:3]", variables=("xs", "ys"))
    assert set(found) == set(WRONG_KINDS)
    assert "sorted(xs, reverse=True)[:4]" in found["off_by_one"]
    assert "sorted(ys, reverse=True)[:3]" in found["wrong_variable"]
    assert "sorted(xs)[:3]" in found["wrong_method"]
    assert "xs.sort(reverse=True)[:3]" in found["wrong_method"]
    assert wrong_answers("[x + 2 for x in xs]", ("xs",))["wrong_operator"] == [
        "[x * 2 for x in xs]", "[x - 2 for x in xs]",
    ]  # fmt: skip
    assert "[xs + 2 for x in xs]" in wrong_answers("[x + 2 for x in xs]", ("xs",))[
        "wrong_variable"
    ]
    assert "xs.count(3)" in wrong_answers("3 in xs", ("xs",))["wrong_method"]
    with pytest.raises(ValueError, match="one Python expression"):
        wrong_answers("len(xs")
    with pytest.raises(ValueError, match="Expected reference to be a string"):
        wrong_answers(None)


def test_make_answers_is_seeded_labelled_and_covers_every_template():
    pairs = make_code_pairs(variables=("xs",), digits=2)
    answers = make_answers(pairs, per_kind=1, seed=0)
    assert answers == make_answers(pairs, per_kind=1, seed=0)
    assert {a.kind for a in answers} == set(ANSWER_KINDS)
    assert all(a.correct for a in answers if a.kind in ("reference", "rewrite"))
    assert {a.prompt for a in answers if a.kind == "rewrite"} == {p for p, _ in pairs}
    inputs = make_test_inputs()
    for a in answers[::7]:  # the stored label is what running it says
        assert (a.correct, a.reason) == grade_answer(a.answer, a.reference, inputs)
    wrong = [a for a in answers if a.kind in WRONG_KINDS]
    assert 0.8 < np.mean([not a.correct for a in wrong]) < 1.0  # some are right
    assert all(bool(a.reason) != a.correct for a in answers)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pairs": []}, "at least one \\(prompt, completion\\) pair"),
        ({"pairs": [("# p\n",)]}, "pairs of \\(prompt, completion\\) strings"),
        ({"pairs": [("# p\n", "len(xs)\n")], "per_kind": -1}, "per_kind >= 0"),
        ({"pairs": [("# p\n", "len(xs)\n")], "seed": 1.5}, "seed to be an int"),
        ({"pairs": [("# p\n", "len(xs)\n")], "inputs": {}}, "non-empty list"),
    ],
)
def test_make_answers_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_answers(**kwargs)


def test_the_garbage_collector_is_paused_only_while_an_answer_runs():
    import gc

    from keras_gen.grading.sandbox import ExpressionLimitError, evaluate_expression

    assert gc.isenabled()
    assert evaluate_expression("sum(xs)", {"xs": [1, 2]}) == 3
    assert gc.isenabled()
    with pytest.raises(ExpressionLimitError):
        evaluate_expression("sum(range(10 ** 9))")
    assert gc.isenabled()
