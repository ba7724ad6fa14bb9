"""The business-intelligence exercise solutions of notebook 11 give what they claim."""

import numpy as np
import pytest

from keras_gen.summaries import factcheck, tables
from solutions import nb11_business_intelligence as sol

# Month totals: Jan 83, Feb 91, Mar 79, Apr 88.
TABLE = tables.SalesTable(
    ("North", "East", "Coast"),
    ("Jan", "Feb", "Mar", "Apr"),
    np.array([[20, 22, 25, 29], [40, 52, 32, 38], [23, 17, 22, 21]]),
)


def test_wrong_numbers_keep_rouge_high_and_fail_the_checker():
    assert sol.wrong_numbers_summary(TABLE) == (
        "Total rose from 84 in Jan to 89 in Apr. "
        "Largest change: East fell by 21 in Mar. Leader: East with 163."
    )
    result = sol.rouge_versus_facts(tables.make_tables(20, seed=5))
    assert result["rouge_l"] > 0.75
    assert result["fact_accuracy"] == pytest.approx(7 / 11)
    assert result["all_right"] == 0.0


def test_best_month_sentence_and_its_checker():
    sentence = sol.best_month_sentence(TABLE)
    assert sentence == "Best month: Feb with 91."
    assert sol.check_best_month(sentence, TABLE) == [("Feb", True), ("91", True)]
    # Wrong month, but 88 is Apr's total: only the month is wrong.
    assert sol.check_best_month("Best month: Apr with 88.", TABLE) == [
        ("Apr", False),
        ("88", True),
    ]
    assert sol.check_best_month("Best month: Feb with 90.", TABLE) == [
        ("Feb", True),
        ("90", False),
    ]
    assert sol.check_best_month("Best month: Feb with 91 in East.", TABLE)[-1] == (
        "East",
        False,
    )
    with pytest.raises(ValueError, match="starting with 'Best month'"):
        sol.check_best_month("Leader: East with 162.", TABLE)


def test_the_fourth_sentence_leaves_the_other_facts_checkable():
    summary = sol.summary_with_best_month(TABLE)
    check = factcheck.check_summary(summary, TABLE)
    # The package's checker does not know the new sentence: it counts its two
    # facts as unverifiable; the exercise's checker verifies them.
    assert check.kinds == ("trend", "change", "leader", "other")
    assert check.num_correct == 11 and len(check.facts) == 13
    last = summary[summary.index("Best month") :]
    assert all(right for _, right in sol.check_best_month(last, TABLE))
