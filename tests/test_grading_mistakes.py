"""Naming the mistake in a wrong answer (keras_gen.grading.mistakes)."""

import collections

import numpy as np
import pytest

from keras_gen.grading import grader, mistakes
from keras_gen.grading.answers import grade_answer, make_test_inputs, template_rewrites
from keras_gen.tasks import make_code_pairs
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

INPUTS = make_test_inputs(variables=("xs", "ys"))
PAIRS = make_code_pairs(variables=("xs",), digits=2)  # every template, 1-2 digits


@pytest.fixture(scope="module")
def made():
    return mistakes.make_mistakes(PAIRS, per_kind=2, seed=0, inputs=INPUTS)


def test_every_mistake_is_wrong_by_execution_and_seeded(made):
    assert made == mistakes.make_mistakes(PAIRS, per_kind=2, seed=0, inputs=INPUTS)
    assert made != mistakes.make_mistakes(PAIRS, per_kind=2, seed=1, inputs=INPUTS)
    assert {a.kind for a in made} == set(mistakes.MISTAKE_KINDS)
    for a in made[::5]:  # the stored reason is what running it says
        got = grade_answer(a.answer, a.reference, INPUTS, isolated=False)
        assert got == (False, a.reason)
    assert all(a.answer != a.reference and a.reason for a in made)
    for a in made:  # written from the reference or one of its rewrites
        assert a.written_from in (a.reference, *template_rewrites(a.reference))
    from_rewrite = np.mean([a.written_from != a.reference for a in made])
    assert 0.3 < from_rewrite < 0.8
    # At most per_kind of each kind per request.
    counts = collections.Counter((a.prompt, a.kind) for a in made)
    assert max(counts.values()) <= 2
    # Drawn without replacement: no answer twice for one request.
    assert len({(a.prompt, a.answer) for a in made}) == len(made)
    assert len({a.prompt for a in made}) == len(PAIRS)


def test_mistake_sets_hold_out_the_grading_sets_names():
    sets = mistakes.make_mistake_sets((6, 3, 3), per_kind=1)
    same = grader.make_grading_sets((3, 2, 2))["variables"]
    assert sets["variables"] == same  # the same held-out names as the grader
    for name in sets["variables"]["test"] + sets["variables"]["calibration"]:
        assert not any(name in a.answer or name in a.prompt for a in sets["train"])
    assert all(
        any(v in a.prompt for v in sets["variables"]["test"]) for a in sets["test"]
    )


def test_diff_rule_names_each_kind():
    rule = mistakes.diff_rule
    assert rule("len(ys)", "len(xs)") == "wrong_variable"
    assert rule("[xs ** 2 for x in xs]", "[x ** 2 for x in xs]") == "wrong_variable"
    assert rule("min(xs)", "max(xs)") == "wrong_method"
    assert rule("reversed(xs)", "xs[::-1]") == "wrong_method"
    assert rule("xs[:4]", "xs[:3]") == "off_by_one"
    assert rule("len(xs) + 1", "len(xs)") == "off_by_one"
    assert rule("[x for x in xs if x >= 3]", "[x for x in xs if x > 3]") == "off_by_one"
    assert rule("[x for x in xs if x < 3]", "[x for x in xs if x > 3]") == (
        "wrong_operator"
    )
    assert rule("xs[3:]", "xs[-3:]") == "wrong_operator"
    # Nothing to tell them apart, or no syntax tree: the default.
    assert rule("len(xs", "len(xs)", default="wrong_method") == "wrong_method"
    assert rule("len(xs)", "len(xs)") == "off_by_one"
    with pytest.raises(ValueError, match="default to be one of"):
        rule("len(xs)", "len(xs)", default="typo")
    assert mistakes.diff_kinds("len(xs) + 1", "len(xs)") == (
        "off_by_one", "wrong_operator")
    assert mistakes.rule_or_namer("len(xs) + 1", "len(xs)", "off_by_one") == (
        "off_by_one")
    assert mistakes.rule_or_namer("len(ys)", "len(xs)", "off_by_one") == (
        "wrong_variable")
    with pytest.raises(ValueError, match="named to be one of"):
        mistakes.rule_or_namer("len(ys)", "len(xs)", "typo")
    # The namer's choice among the rule's candidates, whatever it likes best.
    likes_variable = [0.1, 0.2, 0.6, 0.1]
    assert mistakes.namer_among_rule("len(xs) + 1", "len(xs)", likes_variable) == (
        "wrong_operator")
    assert mistakes.namer_among_rule("len(ys)", "len(xs)", [1, 0, 0, 0]) == (
        "wrong_variable")
    with pytest.raises(ValueError, match="one probability per kind"):
        mistakes.namer_among_rule("len(ys)", "len(xs)", [0.5, 0.5])


def test_diff_rule_is_right_on_edits_of_the_reference_only(made):
    def accuracy(answers):
        return np.mean([mistakes.diff_rule(a.answer, a.reference) == a.kind
                        for a in answers])

    of_reference = [a for a in made if a.written_from == a.reference]
    of_rewrite = [a for a in made if a.written_from != a.reference]
    assert accuracy(of_reference) > 0.95
    assert accuracy(of_rewrite) < 0.8  # where the learner wrote it another way


def test_texts_hints_and_run_summaries(made):
    a = made[0]
    text = mistakes.mistake_texts([a])[0]
    assert text.startswith(a.prompt + f"# reference: {a.reference}\n{a.answer}\n")
    assert "# ran: " in text and "# ran: " not in mistakes.mistake_texts(
        [a], with_run=False)[0]
    long = mistakes.WrongAnswer("# p\n", "xs", "xs", "ys", "wrong_variable",
                                "differs on test input 0: expected " + "1" * 90)
    ran = mistakes.mistake_texts([long], run_chars=10)[0].split("# ran: ")[1]
    assert ran == "expected 1\n"
    assert mistakes.run_summary("refused: no") == "refused: no"
    for kind in mistakes.MISTAKE_KINDS:
        hint = mistakes.write_hint(kind, a.reason)
        assert hint.startswith(mistakes.HINTS[kind])
        assert mistakes.run_summary(a.reason) in hint
    assert mistakes.kind_ids(made[:4]).tolist() == [
        mistakes.MISTAKE_KINDS.index(x.kind) for x in made[:4]
    ]


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: mistakes.write_hint("typo", ""), "kind to be one of"),
        (lambda: mistakes.mistake_texts([]), "non-empty list of WrongAnswer"),
        (lambda: mistakes.kind_ids(["sum(xs)"]), "non-empty list of WrongAnswer"),
        (lambda: mistakes.make_mistakes([]), "non-empty list of \\(prompt"),
        (lambda: mistakes.make_mistakes(PAIRS, per_kind=0), "per_kind >= 1"),
        (lambda: mistakes.make_mistake_sets((1, 2)), "requests=\\(fine-tuning"),
        (lambda: mistakes.split_variables(("a", "b"), 1, 1), "held_out \\+ calib"),
    ],
)
def test_bad_arguments_are_refused(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


@pytest.fixture
def eager():
    """Run tf.functions op by op: one training step and two predictions of a
    tiny model are quicker than tracing the train and predict steps."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def test_a_tiny_namer_trains_and_names_kinds(made, eager):
    texts = mistakes.mistake_texts(made)
    tok = CharTokenizer.train("".join(texts), byte_fallback=False)
    few = made[:8]
    namer = mistakes.train_mistake_namer(
        build_gpt(tok.vocab_size, 64, 16, 2, 1), tok, few, steps=1, length=64,
        batch_size=8, jit_compile=False)
    assert namer.num_classes == len(mistakes.MISTAKE_KINDS)
    probabilities = mistakes.mistake_probabilities(namer, tok, few, length=64)
    assert probabilities.shape == (len(few), len(mistakes.MISTAKE_KINDS))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    named = mistakes.name_mistakes(namer, tok, few, length=64)
    assert named == [mistakes.MISTAKE_KINDS[i] for i in probabilities.argmax(-1)]
