"""The fact checker on hand-made summaries, and ROUGE-L on hand-made pairs."""

import numpy as np
import pytest

from keras_gen.summaries import factcheck, tables
from keras_gen.summaries.tables import SalesTable

# Totals by month: Jan 83, Feb 91, Mar 79, Apr 88. Region totals: North 96,
# East 162, Coast 83. Largest change: East -20 into Mar.
TABLE = SalesTable(
    ("North", "East", "Coast"),
    ("Jan", "Feb", "Mar", "Apr"),
    np.array([[20, 22, 25, 29], [40, 52, 32, 38], [23, 17, 22, 21]]),
)
REFERENCE = tables.reference_summary(TABLE)


def verdicts(summary):
    return [(f.text, f.correct) for f in factcheck.check_summary(summary, TABLE).facts]


def test_the_reference_is_all_right():
    check = factcheck.check_summary(REFERENCE, TABLE)
    assert len(check.facts) == 11 and check.num_correct == 11
    assert check.accuracy == 1.0 and check.complete and check.all_right
    assert check.kinds == ("trend", "change", "leader")
    assert check.marked(REFERENCE) == REFERENCE


def test_trend_sentence():
    assert verdicts("Total fell from 83 in Jan to 91 in Apr.") == [
        ("fell", False),
        ("83", True),
        ("Jan", True),
        ("91", False),
        ("Apr", True),
    ]
    # A number is checked against the month written next to it: 91 is Feb's
    # total, so naming Feb costs the month, not the number too.
    assert verdicts("Total rose from 83 in Jan to 91 in Feb.") == [
        ("rose", True),
        ("83", True),
        ("Jan", True),
        ("91", True),
        ("Feb", False),
    ]
    # A region in a trend sentence claims nothing checkable.
    assert ("East", False) in verdicts("Total rose from 83 in Jan to 88 in Apr East.")


def test_change_sentence():
    assert verdicts("Largest change: East fell by 20 in Mar.") == [
        ("East", True),
        ("fell", True),
        ("20", True),
        ("Mar", True),
    ]
    # North's own change into Apr is +4: the region and month are wrong, the
    # number and direction are right for what the sentence names.
    assert verdicts("Largest change: North rose by 4 in Apr.") == [
        ("North", False),
        ("rose", True),
        ("4", True),
        ("Apr", False),
    ]
    # A region not in the table: the number is checked against the truth.
    assert verdicts("Largest change: West fell by 20 in Mar.")[0] == ("West", False)
    assert verdicts("Largest change: West fell by 20 in Mar.")[2] == ("20", True)
    # The first month has no change into it: checked against the truth.
    assert verdicts("Largest change: East fell by 21 in Jan.")[2] == ("21", False)


def test_leader_sentence_and_marks():
    assert verdicts("Leader: Coast with 83.") == [("Coast", False), ("83", True)]
    assert verdicts("Leader: East with 96.") == [("East", True), ("96", False)]
    summary = "Leader: East with 96 in May."
    check = factcheck.check_summary(summary, TABLE)
    assert check.marked(summary) == "Leader: East with [96]? in [May]?."
    assert check.marked(summary, mark="<{}>") == "Leader: East with <96> in <May>."


def test_extra_and_unknown_sentences_count_as_wrong():
    assert verdicts("Leader: East with 162 and 96.") == [
        ("East", True),
        ("162", True),
        ("96", False),
    ]
    assert verdicts("Sales were 83 in Jan.") == [("83", False), ("Jan", False)]
    assert verdicts("No numbers here.") == []


def test_empty_and_incomplete_summaries():
    empty = factcheck.check_summary("", TABLE)
    assert empty.facts == () and empty.accuracy == 0.0
    assert not empty.complete and not empty.all_right
    two = factcheck.check_summary(REFERENCE.rsplit(" Leader", 1)[0], TABLE)
    assert two.accuracy == 1.0 and not two.complete and not two.all_right


def test_score_summaries_and_accuracy_by_fact():
    wrong = REFERENCE.replace("162", "160")  # one wrong fact of 11
    score = factcheck.score_summaries([REFERENCE, wrong, ""], [TABLE] * 3)
    assert score["fact_accuracy"] == pytest.approx(21 / 22)
    assert score["mean_accuracy"] == pytest.approx((1 + 10 / 11 + 0) / 3)
    assert score["all_right"] == pytest.approx(1 / 3)
    assert score["complete"] == pytest.approx(2 / 3)
    assert score["facts_per_summary"] == pytest.approx(22 / 3)
    by_fact = factcheck.accuracy_by_fact(score["checks"])
    assert by_fact[("leader", "number")] == (1, 2)
    assert by_fact[("trend", "number")] == (4, 4)
    assert sum(stated for _, stated in by_fact.values()) == 22


def test_check_bad_inputs():
    with pytest.raises(ValueError, match="summary as a str"):
        factcheck.check_summary(None, TABLE)
    with pytest.raises(ValueError, match="SalesTable. Received: dict"):
        factcheck.check_summary("Leader: East.", {})
    with pytest.raises(ValueError, match="one summary per table"):
        factcheck.score_summaries(["a"], [TABLE, TABLE])
    with pytest.raises(ValueError, match="at least one"):
        factcheck.score_summaries([], [])
    with pytest.raises(ValueError, match="as many candidates"):
        factcheck.mean_rouge_l(["a"], [])


def test_lcs_by_hand():
    assert factcheck.lcs_length("ABCBDAB", "BDCABA") == 4
    assert factcheck.lcs_length([], ["a"]) == 0
    assert factcheck.lcs_length("abc", "abc") == 3
    assert factcheck.lcs_length("abc", "cba") == 1


def test_rouge_l_by_hand():
    # Lin (2004)'s example (section 3.1): S2 shares "police the gunman".
    reference = "police killed the gunman"
    assert factcheck.rouge_l("police kill the gunman", reference) == pytest.approx(
        0.75
    )  # LCS "police the gunman": P = R = 3/4
    assert factcheck.rouge_l("the gunman kill police", reference) == pytest.approx(0.5)
    assert factcheck.rouge_l(reference, reference) == 1.0
    assert factcheck.rouge_l("", reference) == 0.0
    assert factcheck.rouge_l("nothing shared", reference) == 0.0
    # Case and punctuation do not count; numbers are words.
    assert factcheck.rouge_l("Leader: East, 162.", "leader east 162") == 1.0
    # P = 2/2, R = 2/4: F1 = 2 * 1 * 0.5 / 1.5
    assert factcheck.rouge_l("rose by", "sales rose by 9") == pytest.approx(2 / 3)
    assert factcheck.mean_rouge_l(["a b", "c"], ["a b", "d"]) == 0.5


def test_wrong_numbers_keep_rouge_high_but_fail_the_check():
    wrong = REFERENCE.replace("83", "84").replace("162", "163").replace("20", "21")
    assert factcheck.rouge_l(wrong, REFERENCE) > 0.8
    assert factcheck.check_summary(wrong, TABLE).accuracy < 0.8
