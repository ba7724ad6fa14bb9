r"""What a model adds to an autograder: it names the likely mistake.

Execution grades an answer (:func:`keras_gen.grading.answers.grade_answer`):
right or wrong is what running it says, exact by construction. What the
tests do not say is *why* an answer is wrong, and that is what a learner
needs next. This module asks a model for that:

* :func:`make_mistakes`: wrong answers of each :data:`MISTAKE_KINDS`, made
  by one edit of the reference *or of a correct rewrite of it* (a learner
  may write ``sorted(xs)[-1]`` where the reference says ``max(xs)``), each
  kept only if running it says it is wrong; the kind is how it was made;
* :func:`make_mistake_sets`: fine-tuning, calibration and test sets split by
  variable name exactly as :func:`keras_gen.grading.grader.make_grading_sets`
  splits them (same seed, same names);
* :func:`mistake_texts`: what the model reads: the request, the reference,
  the answer and, optionally, what the run said (``# ran: expected 14, got
  15``);
* :func:`train_mistake_namer`, :func:`name_mistakes` and
  :func:`mistake_probabilities`: a
  :class:`keras_gen.finetune.GPTClassifier` with one class per kind;
* :func:`diff_rule`: the baseline, a rule that compares the answer's syntax
  tree with the reference's (names, then calls, then numbers, then
  operators; :func:`diff_kinds`); and the two together: :func:`rule_or_namer`
  (the rule where it sees one edit, the namer elsewhere) and
  :func:`namer_among_rule` (the namer's choice among the kinds the rule sees);
* :func:`write_hint`: the hint shown to the learner, from the kind and the
  run's own words.
"""

from __future__ import annotations

import ast
import collections
import dataclasses

import keras
import numpy as np

from keras_gen import finetune as ft
from keras_gen._checks import check_int, check_seed
from keras_gen.grading import grader
from keras_gen.grading.answers import (
    WRONG_KINDS,
    grade_answer,
    make_test_inputs,
    reference_values,
    short_repr,
    template_rewrites,
    wrong_answers,
)
from keras_gen.tasks import CODE_VARIABLES, make_code_pairs

#: The mistakes a namer tells apart (the kinds of wrong answers ``answers`` makes).
MISTAKE_KINDS = WRONG_KINDS

#: What the learner is told for each kind (:func:`write_hint`).
HINTS = {
    "off_by_one": "A number or a boundary is one off: check n against n + 1, "
    "> against >=.",
    "wrong_operator": "An operator is the wrong one: check +, -, *, the signs "
    "and < or >.",
    "wrong_variable": "The answer reads the wrong name: use the list the "
    "request names, and the item inside a comprehension.",
    "wrong_method": "The function or method computes something else: check "
    "which one the request needs (min or max, count or index, sorted or sort).",
}


@dataclasses.dataclass(frozen=True)
class WrongAnswer:
    """A wrong answer, its mistake and what running it said.

    Attributes:
        prompt: The request (``"# the sum of xs"`` and a new line).
        reference: The reference answer.
        written_from: The correct answer it was made from by one edit (the
            reference or one of its rewrites).
        answer: The wrong answer.
        kind: Its mistake, one of :data:`MISTAKE_KINDS`.
        reason: What running it said (:func:`~keras_gen.grading.answers.grade_answer`).
    """

    prompt: str
    reference: str
    written_from: str
    answer: str
    kind: str
    reason: str


def make_mistakes(pairs, per_kind: int = 1, seed: int = 0, inputs=None):
    r"""Wrong answers of every kind, each checked wrong by running it.

    For each request and each kind, ``per_kind`` times: draw the answer to
    edit (the reference or one of its rewrites, with equal chance, among
    those with an edit of that kind not drawn yet), draw one of its edits
    of that kind not drawn yet (:func:`~keras_gen.grading.answers.wrong_answers`),
    and run it (:func:`~keras_gen.grading.answers.grade_answer`, in this
    process: the package made it). An edit that computes the right values
    is dropped, so every answer returned is wrong by execution.

    Args:
        pairs: ``(prompt, completion)`` pairs (default
            :func:`keras_gen.tasks.make_code_pairs`).
        per_kind: Draws per kind and request.
        seed: Seed for the draws.
        inputs: Test inputs (default
            :func:`~keras_gen.grading.answers.make_test_inputs`).

    Returns:
        A list of :class:`WrongAnswer`, request by request.

    Example:
        >>> wrong = make_mistakes([("# the largest item of xs\n", "max(xs)\n")],
        ...     seed=2, inputs=make_test_inputs(variables=("xs", "ys")))
        >>> for w in wrong:
        ...     print(f"{w.kind:14s} {w.answer:14s} from {w.written_from}")
        off_by_one     sorted(xs)[-2] from sorted(xs)[-1]
        wrong_operator sorted(xs)[1]  from sorted(xs)[-1]
        wrong_variable max(ys)        from max(xs)
        wrong_method   len(xs)        from max(xs)
    """
    pairs = make_code_pairs() if pairs is None else list(pairs)
    if not pairs or not all(
        isinstance(p, tuple) and len(p) == 2 and all(isinstance(s, str) for s in p)
        for p in pairs
    ):
        raise ValueError(
            "Expected a non-empty list of (prompt, completion) string pairs. "
            f"Received: {short_repr(pairs, 80)}"
        )
    per_kind = check_int("per_kind", per_kind, minimum=1)
    rng = np.random.default_rng(check_seed("seed", seed))
    inputs = make_test_inputs() if inputs is None else inputs
    variables = sorted(set().union(*(env.keys() for env in inputs)))
    made = []
    for prompt, completion in pairs:
        reference = completion.strip()
        expected = reference_values(reference, inputs)
        bases = [reference, *template_rewrites(reference)]
        edits = {}
        for base in bases:
            found = wrong_answers(base, variables)
            for kind in MISTAKE_KINDS:
                edits[base, kind] = [a for a in found[kind] if a != reference]
        drawn = set()  # without replacement: an answer once per request
        for kind in MISTAKE_KINDS:
            for _ in range(per_kind):
                usable = [b for b in bases if set(edits[b, kind]) - drawn]
                if not usable:
                    break
                base = usable[int(rng.integers(len(usable)))]
                options = sorted(set(edits[base, kind]) - drawn)
                answer = options[int(rng.integers(len(options)))]
                drawn.add(answer)
                correct, reason = grade_answer(answer, reference, inputs, expected,
                                               isolated=False)
                if not correct:
                    made.append(WrongAnswer(prompt, reference, base, answer, kind,
                                            reason))
    return made


def split_variables(variables=CODE_VARIABLES, held_out: int = 4,
                    calibration: int = 2, seed: int = 0) -> dict:
    """The variable names of each set, as ``grader.make_grading_sets`` draws them.

    Example:
        >>> split_variables(("xs", "ys", "zs"), held_out=1, calibration=1)
        {'train': ('ys',), 'calibration': ('xs',), 'test': ('zs',)}
    """
    rng = np.random.default_rng(check_seed("seed", seed))
    return grader.split_by_variable(variables, held_out, calibration, rng)


def make_mistake_sets(requests=(400, 120, 300), held_out: int = 4,
                      calibration: int = 2, per_kind: int = 2, seed: int = 0,
                      variables=CODE_VARIABLES):
    """Wrong answers to fine-tune, calibrate and test a mistake namer on.

    Split by variable name as in :func:`keras_gen.grading.grader.make_grading_sets`
    (:func:`split_variables`: same seed, same held-out names); the
    fine-tuning answers are made and run with only the fine-tuning names
    bound, so a held-out name never appears in them.

    Returns:
        ``{"train": [...], "calibration": [...], "test": [...],
        "variables": {set name: names}}``: lists of :class:`WrongAnswer`.

    Example:
        >>> sets = make_mistake_sets((3, 2, 2), held_out=1, calibration=1,
        ...                          per_kind=1, variables=("xs", "ys", "zs"))
        >>> sets["variables"]["test"], any("zs" in w.answer for w in sets["train"])
        (('zs',), False)
    """
    if not (isinstance(requests, (tuple, list)) and len(requests) == 3):
        raise ValueError(
            "Expected requests=(fine-tuning, calibration, test) counts. "
            f"Received: requests={requests!r}"
        )
    groups = split_variables(variables, held_out, calibration, seed)
    rng = np.random.default_rng(seed + 1)
    sets = {"variables": groups}
    for (name, group), count in zip(groups.items(), requests, strict=True):
        pairs = make_code_pairs(variables=group)
        count = check_int(f"requests[{name!r}]", count, minimum=1, maximum=len(pairs))
        chosen = [pairs[i] for i in sorted(rng.permutation(len(pairs))[:count])]
        names = group if name == "train" else tuple(variables)
        inputs = make_test_inputs(seed=seed, variables=names)
        sets[name] = make_mistakes(chosen, per_kind=per_kind, seed=seed,
                                   inputs=inputs)
    return sets


def run_summary(reason: str) -> str:
    """What the run said, short: ``expected 14, got 15`` or ``IndexError: ...``.

    Example:
        >>> run_summary("differs on test input 0: expected 14, got 15")
        'expected 14, got 15'
        >>> run_summary("IndexError on test input 3: list index out of range")
        'IndexError: list index out of range'
    """
    head, _, tail = reason.partition(": ")
    if head.startswith("differs on test input"):
        return tail
    if " on test input " in head:
        return f"{head.split(' on test input ')[0]}: {tail}"
    return reason


def mistake_texts(answers, with_run: bool = True, run_chars: int = 24) -> list[str]:
    r"""What the namer reads: request, reference, answer, and what the run said.

    The reference is there because an autograder has it (the diff rule
    reads it too); what the run said is cut to ``run_chars`` characters.

    Example:
        >>> w = WrongAnswer("# the sum of xs\n", "sum(xs)", "sum(xs)", "sum(ys)",
        ...                 "wrong_variable", "differs on test input 0: expected 9, "
        ...                 "got 30")
        >>> print(mistake_texts([w])[0], end="")
        # the sum of xs
        # reference: sum(xs)
        sum(ys)
        # ran: expected 9, got 30
        >>> mistake_texts([w], with_run=False)
        ['# the sum of xs\n# reference: sum(xs)\nsum(ys)\n']
    """
    answers = _check_wrong(answers)
    run_chars = check_int("run_chars", run_chars, minimum=1)
    texts = []
    for a in answers:
        text = f"{a.prompt}# reference: {a.reference}\n{a.answer}\n"
        if with_run:
            text += f"# ran: {run_summary(a.reason)[:run_chars]}\n"
        texts.append(text)
    return texts


def kind_ids(answers) -> np.ndarray:
    """Each answer's kind as an index into :data:`MISTAKE_KINDS` (int32)."""
    return np.array([MISTAKE_KINDS.index(a.kind) for a in _check_wrong(answers)],
                    "int32")


def train_mistake_namer(backbone, tokenizer, answers, steps: int = 100,
                        length: int = 144, with_run: bool = True,
                        batch_size: int = 16, learning_rate: float = 5e-4,
                        seed: int = 0, jit_compile: bool = True):
    """Fine-tune a GPT body with a head of one class per mistake kind.

    Args:
        backbone: A :class:`~keras_gen.transformer.GPT`, trained in place
            (pass :func:`keras_gen.finetune.copy_backbone` to keep the original).
        tokenizer: Its tokenizer.
        answers: :class:`WrongAnswer` objects to learn from.
        steps: Optimizer steps.
        length: Tokens read per text (:func:`keras_gen.finetune.encode_texts`).
        with_run: Whether the namer reads what the run said.
        batch_size: Texts per step.
        learning_rate: Peak learning rate.
        seed: Seed for the head, the shuffling and dropout.
        jit_compile: XLA-compile the train step.

    Returns:
        The fine-tuned :class:`keras_gen.finetune.GPTClassifier`.
    """
    keras.utils.set_random_seed(check_seed("seed", seed))
    namer = ft.GPTClassifier(backbone, num_classes=len(MISTAKE_KINDS))
    inputs = ft.encode_texts(tokenizer, mistake_texts(answers, with_run), length)
    ft.finetune_classifier(namer, inputs, kind_ids(answers), steps=steps,
                           batch_size=batch_size, learning_rate=learning_rate,
                           seed=seed, jit_compile=jit_compile)
    return namer


def mistake_probabilities(namer, tokenizer, answers, length: int = 144,
                          with_run: bool = True, batch_size: int = 128):
    """The namer's probability of each kind, ``(answers, len(MISTAKE_KINDS))``."""
    batch_size = check_int("batch_size", batch_size, minimum=1)
    inputs = ft.encode_texts(tokenizer, mistake_texts(answers, with_run), length)
    logits = namer.predict(inputs, batch_size=batch_size, verbose=0)  # (n, kinds)
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.softmax(logits, -1)),
                      float)


def name_mistakes(namer, tokenizer, answers, length: int = 144,
                  with_run: bool = True, batch_size: int = 128) -> list[str]:
    """The namer's most likely kind for each wrong answer."""
    probabilities = mistake_probabilities(namer, tokenizer, answers, length,
                                          with_run, batch_size)
    return [MISTAKE_KINDS[int(i)] for i in probabilities.argmax(-1)]


def _shape(code: str):
    """The parts of an expression the rule compares (``None``: it does not parse)."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError:
        return None
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names, calls, numbers, ops = (collections.Counter() for _ in range(4))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            names[node.id] += 1
        elif isinstance(node, ast.Name) or isinstance(node, ast.Attribute):
            calls[getattr(node, "id", None) or node.attr] += 1
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            calls["[::]" if node.slice.step is not None else "[:]"] += 1
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            numbers[node.value] += 1
        elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
            ops[type(node.op).__name__] += 1
        elif isinstance(node, ast.Compare):
            ops.update(type(op).__name__ for op in node.ops)
    return names, calls, numbers, ops


_BOUNDARY = ({"Gt", "GtE"}, {"Lt", "LtE"})


def diff_kinds(answer: str, reference: str) -> tuple[str, ...]:
    """Every kind of difference between the answer's syntax tree and the reference's.

    In this order: the variables read (``wrong_variable``), the functions,
    methods and slices used (``wrong_method``), the integers
    (``off_by_one``), the operators (``off_by_one`` for ``>`` against
    ``>=``, else ``wrong_operator``). An answer made by one edit of the
    reference shows one kind; one written another way (``sorted(xs)[-2]``
    for ``max(xs)``) shows several, or a misleading one. ``()``: no
    difference found, or a side does not parse.

    Example:
        >>> diff_kinds("max(ys)", "max(xs)"), diff_kinds("xs[-4:]", "xs[-3:]")
        (('wrong_variable',), ('off_by_one',))
        >>> diff_kinds("[x for x in xs if x >= 3]", "[x for x in xs if x > 3]")
        ('off_by_one',)
        >>> diff_kinds("sorted(ys)[-2]", "max(xs)")
        ('wrong_variable', 'wrong_method', 'off_by_one', 'wrong_operator')
    """
    got, want = _shape(answer), _shape(reference)
    if got is None or want is None:
        return ()
    (names, calls, numbers, ops), (names0, calls0, numbers0, ops0) = got, want
    kinds = []
    if names != names0:
        kinds.append("wrong_variable")
    if calls != calls0:
        kinds.append("wrong_method")
    if numbers != numbers0:
        kinds.append("off_by_one")
    if ops != ops0:
        changed = set((ops - ops0) + (ops0 - ops))
        boundary = any(changed <= b for b in _BOUNDARY)
        kinds.append("off_by_one" if boundary else "wrong_operator")
    return tuple(dict.fromkeys(kinds))


def _check_kind(name: str, kind: str) -> str:
    if kind not in MISTAKE_KINDS:
        raise ValueError(
            f"Expected {name} to be one of {MISTAKE_KINDS}. Received: {kind!r}"
        )
    return kind


def diff_rule(answer: str, reference: str, default: str = "off_by_one") -> str:
    """The baseline: the first kind of :func:`diff_kinds`, else ``default``.

    With no difference found, or an answer that does not parse, it says
    ``default`` (choose the most common kind of the fine-tuning answers).
    It is fooled when the learner wrote the answer another way
    (``sorted(xs)[-2]`` for ``max(xs)`` differs in its calls, so it says
    ``wrong_method``).

    Example:
        >>> diff_rule("max(ys)", "max(xs)"), diff_rule("sorted(xs)[-2]", "max(xs)")
        ('wrong_variable', 'wrong_method')
    """
    _check_kind("default", default)
    kinds = diff_kinds(answer, reference)
    return kinds[0] if kinds else default


def rule_or_namer(answer: str, reference: str, named: str) -> str:
    """The rule where it sees exactly one kind of edit, else the namer's kind.

    Example:
        >>> rule_or_namer("max(ys)", "max(xs)", named="wrong_method")
        'wrong_variable'
        >>> rule_or_namer("sorted(xs)[-2]", "max(xs)", named="off_by_one")
        'off_by_one'
    """
    _check_kind("named", named)
    kinds = diff_kinds(answer, reference)
    return kinds[0] if len(kinds) == 1 else named


def namer_among_rule(answer: str, reference: str, probabilities) -> str:
    """The namer's most likely kind among those the rule sees (all, if it sees none).

    Args:
        answer: The wrong answer.
        reference: The reference answer.
        probabilities: The namer's probability of each of
            :data:`MISTAKE_KINDS` for this answer (a row of
            :func:`mistake_probabilities`).

    Example:
        >>> namer_among_rule("len(xs) + 1", "len(xs)", [0.1, 0.2, 0.6, 0.1])
        'wrong_operator'
        >>> namer_among_rule("len(xs)", "len(xs)", [0.1, 0.2, 0.6, 0.1])
        'wrong_variable'
    """
    probabilities = np.asarray(probabilities, float)
    if probabilities.shape != (len(MISTAKE_KINDS),):
        raise ValueError(
            f"Expected one probability per kind, shape ({len(MISTAKE_KINDS)},). "
            f"Received: shape {probabilities.shape}"
        )
    kinds = diff_kinds(answer, reference) or MISTAKE_KINDS
    return max(kinds, key=lambda k: probabilities[MISTAKE_KINDS.index(k)])


def write_hint(kind: str, reason: str) -> str:
    """The hint a learner reads: the named mistake, then what the run said.

    Example:
        >>> write_hint("off_by_one", "differs on test input 0: expected 14, got 15")
        'A number or a boundary is one off: check n against n + 1, > against >=. \
The tests say: expected 14, got 15.'
    """
    if kind not in HINTS:
        raise ValueError(
            f"Expected kind to be one of {tuple(HINTS)}. Received: kind={kind!r}"
        )
    return f"{HINTS[kind]} The tests say: {run_summary(reason)}."


def _check_wrong(answers) -> list:
    answers = list(answers) if not isinstance(answers, str) else answers
    if not isinstance(answers, list) or not answers or not all(
        isinstance(a, WrongAnswer) for a in answers
    ):
        raise ValueError(
            "Expected a non-empty list of WrongAnswer (make_mistakes). Received: "
            f"{short_repr(answers, 80)}"
        )
    return answers
