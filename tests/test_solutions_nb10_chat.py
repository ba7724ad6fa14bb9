"""The help-desk exercise solutions of notebook 10 run and give what they claim."""

import pytest

from keras_gen.helpdesk.desk import Answer
from keras_gen.helpdesk.sections import HelpQuestion
from solutions import nb10_chat

PASSAGE = "The break statement terminates the nearest enclosing loop."


def test_quote_rate_sweep_by_hand():
    replies = ["terminates the nearest enclosing loop",  # 37 characters, all copied
               "the nearest enclosing loop, I think"]  # 26 of 35 copied: 0.74
    rates = nb10_chat.quote_rate_sweep(replies, [PASSAGE, PASSAGE],
                                       coverages=(0.7, 0.8), min_chars=(20, 30))
    assert rates == {(0.7, 20): 1.0, (0.7, 30): 0.5, (0.8, 20): 0.5, (0.8, 30): 0.5}


def _answer(question, section_id, reply):
    return Answer(question, section_id, PASSAGE, "", reply)


def test_grounded_by_kind_by_hand():
    questions = [HelpQuestion("stop a loop", "break", "", "no_keyword"),
                 HelpQuestion("what does break do", "break", "", "keyword"),
                 HelpQuestion("brake", "break", "", "typo"),
                 HelpQuestion("leave the loop", "break", "", "no_keyword")]
    answers = [_answer("stop a loop", "break", "terminates the nearest enclosing loop"),
               _answer("what does break do", "break", "no idea"),
               _answer("brake", "pass", "terminates the nearest enclosing loop"),
               _answer("leave the loop", "continue", "no idea")]
    table = nb10_chat.grounded_by_kind(questions, answers)
    assert list(table) == ["keyword", "no_keyword", "typo"]  # kinds in file order
    assert table["no_keyword"] == {"n": 2, "retrieval_top1": 0.5, "grounded": 0.5}
    assert table["keyword"] == {"n": 1, "retrieval_top1": 1.0, "grounded": 0.0}
    assert table["typo"] == {"n": 1, "retrieval_top1": 0.0, "grounded": 0.0}
    with pytest.raises(ValueError, match="one answer per question"):
        nb10_chat.grounded_by_kind(questions, answers[:2])


def test_main_prints_answers_that_follow_its_numbers(capsys):
    import re

    nb10_chat.main(n_questions=8)
    out = capsys.readouterr().out
    assert "on 8 held-out questions" in out
    moved = re.search(r"Coverage moves the rate by ([\d.]+)%.*?by ([\d.]+)%.*?: "
                      r"(coverage|length) decides more", out, re.S)
    coverage, length, winner = float(moved[1]), float(moved[2]), moved[3]
    assert winner == ("coverage" if coverage > length else "length")
    worst = re.search(r"fails most on '(\w+)' questions \(grounded ([\d.]+)%\): "
                      r"([\d.]+)% of them retrieve a wrong section and ([\d.]+)% "
                      r"retrieve the right one but get no quote, so it is mostly "
                      r"(retrieval|the reply)", out)
    assert worst, out
    wrong, unquoted = float(worst[3]), float(worst[4])
    assert worst[5] == ("retrieval" if wrong >= unquoted else "the reply")
    grounded = [float(g) for g in re.findall(r"^\s+\w+\s+\d+\s+[\d.]+%\s+([\d.]+)%$",
                                             out, re.M)]
    assert float(worst[2]) == min(grounded)
