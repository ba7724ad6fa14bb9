"""The analyst's parts that need no trained model: the query language, the
questions and their held-out splits, the keyword baseline, CSV tables, the
constrained decoder and the fallback, and ``keras-gen ask``'s input errors."""

import numpy as np
import pytest

from keras_gen import cli
from keras_gen.summaries import analyst, evaluation, keywords, queries, questions
from keras_gen.summaries.tablefile import read_table, write_table
from keras_gen.summaries.tables import SalesTable, make_tables

TABLE = SalesTable(("North", "South", "East"), ("Jan", "Feb", "Mar", "Apr"),
                   np.array([[10, 30, 31, 35], [20, 15, 18, 12], [40, 41, 39, 44]]))


def test_queries_compute_what_they_say():
    assert queries.run_query("value North Feb", TABLE) == 30
    assert queries.run_query("value South last", TABLE) == 12
    assert queries.run_query("total East", TABLE) == 164
    assert queries.run_query("total first", TABLE) == 70
    assert queries.run_query("change South Apr", TABLE) == -6
    assert queries.run_query("growth North", TABLE) == 25
    assert queries.run_query("top region total", TABLE) == "East"
    assert queries.run_query("bottom region growth", TABLE) == "South"
    assert queries.run_query("top month South", TABLE) == "Jan"
    assert queries.run_query("bottom month total", TABLE) == "Jan"
    assert [queries.run_query(f"jump {w}", TABLE) for w in ("region", "month",
                                                            "size")] == [
        "North", "Feb", 20]


@pytest.mark.parametrize("query, match", [
    ("", "no known operation"), ("import os", "no known operation"),
    ("total", "0 arguments"), ("value North", "1 arguments"),
    ("value West Jan", "region 'West' is not in the table"),
    ("total Dec", "month 'Dec' is not in the table"),
    ("change North Jan", "table's first"), ("top year total", "neither regions"),
    ("jump when", "jump's 'when'"),
])
def test_bad_queries_say_what_is_wrong(query, match):
    with pytest.raises(queries.QueryError, match=match):
        queries.run_query(query, TABLE)


def test_every_valid_query_runs_and_has_its_static_type():
    for query in queries.valid_queries(TABLE):
        value = queries.run_query(query, TABLE)
        assert queries.answer_type(value) == analyst.query_type(query), query


def test_splits_hold_out_templates_and_a_whole_kind():
    for kind in questions.KINDS:
        train = set(questions.templates_of(kind, "train"))
        test = set(questions.templates_of(kind, "phrasings")) | set(
            questions.templates_of(kind, "kind"))
        assert not train & test
        assert (kind.name == questions.HELD_OUT_KIND) == (not train)
    trained = evaluation.training_questions(2000)
    assert questions.HELD_OUT_KIND not in {q.kind for q in trained}
    assert len({q.kind for q in trained}) == len(questions.KINDS) - 1
    held = evaluation.held_out_sets(0.2)
    assert not {q.template for q in held["phrasings"]} & {q.template for q in trained}
    assert {q.kind for q in held["kind"]} == {questions.HELD_OUT_KIND}
    # Every question has one right answer, and the same seed the same questions.
    assert all(queries.unique_answer(q.query, q.table) for q in held["phrasings"])
    again = evaluation.held_out_sets(0.2)
    assert [q.text for q in again["phrasings"]] == [q.text for q in held["phrasings"]]


def test_keyword_baseline_fills_slots_by_string_match():
    baseline = keywords.KeywordBaseline(evaluation.training_questions(1000))
    assert baseline.query("Which region grew most?", TABLE) == "top region growth"
    assert baseline.query("What were the total sales of the north?", TABLE) == (
        "total North")
    assert baseline.query("Total sales of all regions in March", TABLE) == (
        "total Mar")
    # The most similar template needs a month the question lacks: the next one.
    assert baseline.ranked_kinds("What were the total sales of the north?")[0].name == (
        "month_total")
    with pytest.raises(ValueError, match="training questions"):
        keywords.KeywordBaseline([])


def test_score_counts_right_answers_by_kind():
    qs = evaluation.held_out_sets(0.02)["phrasings"]
    result = evaluation.score([q.answer for q in qs[:-1]] + [None], qs)
    assert result["right"] == len(qs) - 1
    assert sum(n for _, n in result["by_kind"].values()) == len(qs)


def test_csv_tables_round_trip_and_bad_files_are_refused(tmp_path):
    path = write_table(TABLE, tmp_path / "t.csv")
    assert read_table(path) == TABLE
    bad = {
        "region,Jan,Foo\nNorth,1,2\n": "month names",
        "region,Jan,Feb\nNorth,1\n": "3 cells",
        "region,Jan,Feb\nNorth,1,x\n": "whole numbers",
        "region,Jan,Feb\nNorth East,1,2\n": "letters only",
        "region,Jan,Feb\ntotal,1,2\n": "letters only",
        "region,Jan,Feb\n": "at least one region row",
    }
    for text, match in bad.items():
        (tmp_path / "bad.csv").write_text(text)
        with pytest.raises(ValueError, match=match):
            read_table(tmp_path / "bad.csv")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_table(tmp_path / "missing.csv")


def test_ask_reports_bad_input_in_one_line(tmp_path, capsys):
    assert cli.main(["ask", "--table", str(tmp_path / "no.csv"), "total?"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keras-gen: error: Expected a CSV") and err.count("\n") == 1
    (tmp_path / "bad.csv").write_text("region,Jan,Foo\nNorth,1,2\n")
    assert cli.main(["ask", "--table", str(tmp_path / "bad.csv"), "total?"]) == 2
    assert "month names" in capsys.readouterr().err
    assert cli.main(["ask", "x" * 300]) == 2
    assert "1 to 200 characters" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_gpt():
    import keras

    from keras_gen.tokenizers import CharTokenizer
    from keras_gen.transformer import build_gpt

    tokenizer = CharTokenizer.train("abc", byte_fallback=True)
    keras.utils.set_random_seed(0)
    return build_gpt(tokenizer.vocab_size, 256, 16, 2, 1), tokenizer


def test_constrained_decoding_writes_only_allowed_queries(tiny_gpt):
    model, tokenizer = tiny_gpt
    choices = [queries.valid_queries(TABLE), ["jump size"], ["top month total",
                                                             "top month North"]]
    prompts = [analyst.format_prompt(q) for q in ("a?", "b?", "c?")]
    out = analyst.constrained_queries(model, tokenizer, prompts, choices)
    assert all(q in c for q, c in zip(out, choices, strict=True))
    assert out[1] == "jump size"


def test_untrained_model_falls_back_instead_of_inventing(tiny_gpt):
    model, tokenizer = tiny_gpt
    answers = analyst.answer_questions(
        model, tokenizer, ["Which region grew most?", "Total of Jan?"],
        [TABLE, TABLE], expect=["region", "int"],
    )
    for answer, kind in zip(answers, ["region", "int"], strict=True):
        assert answer.route == "constrained"  # random text never parses
        assert answer.error and answer.query in queries.valid_queries(TABLE)
        assert queries.answer_type(answer.value) == kind
    no_retry = analyst.answer_questions(model, tokenizer, ["x"], [TABLE],
                                        retry=False)[0]
    assert (no_retry.route, no_retry.value, no_retry.text) == (
        "none", None, analyst.COULD_NOT)


def test_summary_states_only_computed_values():
    values = {"first_total": 70, "last_total": 91, "change_region": "North",
              "change_month": "Feb", "change": 20, "leader": "East"}
    text = analyst._sentences(values, TABLE)
    assert text == ("Total rose from 70 in Jan to 91 in Apr. Largest change: "
                    "North rose by 20 in Feb. I could not compute the leader.")
    from keras_gen.summaries.factcheck import check_summary

    assert check_summary(text, TABLE).accuracy == 1.0


def test_make_tables_test_set_is_benchmark_tables():
    assert evaluation.held_out_sets(0.02)["seen"][0].table in make_tables(100, seed=1)


def test_train_analyst_checks_out_before_any_work(tmp_path, monkeypatch, capsys):
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "tools"))
    sys.modules.pop("train_analyst", None)
    import train_analyst

    def no_work(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    monkeypatch.setattr(train_analyst, "finetune_analyst", no_work)
    monkeypatch.setattr(train_analyst, "load_pretrained", no_work)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "thesis.tex").write_text("years of work")
    with pytest.raises(SystemExit) as exit_:
        train_analyst.main(["--out", str(tmp_path / "taken")])
    assert exit_.value.code == 2
    assert "thesis.tex" in capsys.readouterr().err


def test_a_name_missing_from_the_table_is_not_answered_about_another():
    assert analyst._asks_for_a_missing_name(
        "value West May", "what did the West sell in May?", TABLE)
    # The model misspelled a name the question does not use: retry.
    assert not analyst._asks_for_a_missing_name(
        "value Nort Feb", "what did the North sell in Feb?", TABLE)
    assert not analyst._asks_for_a_missing_name(
        "total March", "total sales in March", TABLE)  # the table's Mar
