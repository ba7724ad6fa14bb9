"""The shipped analyst (data/pretrained/sales-analyst) re-measured: its card's
check figure, summaries from executed queries, and ``keras-gen ask``."""

import os

import pytest

from keras_gen import cli
from keras_gen.summaries import analyst, evaluation, factcheck
from keras_gen.summaries.tables import make_tables

#: The card's figure may drop by this much on another machine (float order).
MARGIN = 0.05


@pytest.fixture(scope="module")
def shipped():
    return analyst.load_analyst()


def test_shipped_folder_is_small_and_its_card_says_how_it_was_made(shipped):
    folder = analyst.ANALYST_MODEL_DIR
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    assert size <= 20 * 2**20
    card = shipped.card
    assert card["command"].startswith("make pretrained") or "train_analyst.py" in (
        card["command"])
    # What the card says must be what its tool measures, split by split.
    for split in ("phrasings", "kind", "seen"):
        held = card["held_out"][split]
        assert set(held) >= {"analyst", "written_only", "keyword_baseline", "routes"}
        assert sum(held["routes"].values()) == held["questions"]


def test_shipped_analyst_answers_held_out_phrasings_as_its_card_says(shipped):
    card = shipped.card
    questions = evaluation.held_out_sets()["phrasings"][: card["check_questions"]]
    values, answers = evaluation.analyst_values(shipped.model, shipped.tokenizer,
                                                questions)
    accuracy = evaluation.score(values, questions)["accuracy"]
    assert accuracy >= card["check_accuracy"] - MARGIN
    # Every answer came from a query that ran, or says it could not compute.
    for answer in answers:
        assert (answer.query is None) == (answer.value is None)


def test_summaries_from_executed_queries_state_right_facts(shipped):
    tables = make_tables(6, seed=1)
    summaries, answers = analyst.code_summaries(shipped.model, shipped.tokenizer,
                                                tables)
    score = factcheck.score_summaries(summaries, tables)
    assert score["fact_accuracy"] >= 0.9
    assert all(set(a) == {*analyst.SUMMARY_QUESTIONS, "leader_total"}
               for a in answers)


def test_ask_prints_the_answer_and_the_code(shipped, capsys):
    assert cli.main(["ask", "which region sold the most?"]) == 0
    out = capsys.readouterr().out
    table = make_tables(1, seed=1)[0]
    leader = table.regions[int(table.region_totals().argmax())]
    assert "demo table" in out
    assert f"Answer: {leader}" in out and "Code: top region total" in out
