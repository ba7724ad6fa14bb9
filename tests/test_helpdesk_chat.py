import os

import keras
import pytest

from keras_gen.helpdesk import desk as hc
from keras_gen.helpdesk.chat import is_quote, quote_coverage
from keras_gen.helpdesk.sections import HelpSection, load_questions, unique_sections
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

SECTIONS = [
    HelpSection("pass", "pass", 'The "pass" statement',
                '"pass" is a null operation. When it is executed, nothing happens.'),
    HelpSection("break", "break", 'The "break" statement',
                '"break" may only occur nested in a loop. It terminates the '
                "nearest enclosing loop."),
    HelpSection("empty", "empty", "Empty section", ""),
]


@pytest.fixture(scope="module")
def tiny_desk():
    tokenizer = CharTokenizer.train("abc", byte_fallback=True)
    keras.utils.set_random_seed(0)
    model = build_gpt(tokenizer.vocab_size, hc.CONTEXT_CHARS, 16, 2, 1)
    return hc.HelpDesk(model, tokenizer, SECTIONS)


def test_training_pairs_come_from_the_sections_not_the_held_out_questions():
    held_out = {q.question.lower() for q in load_questions()}
    pairs = hc.training_pairs(unique_sections(), exclude=held_out)
    asked = {p.split("\nUser: ")[1].split("\n")[0] for p, _ in pairs}
    assert not asked & held_out
    # A template writes one held-out question word for word; exclude drops it.
    unfiltered = hc.training_pairs(unique_sections())
    assert len(unfiltered) == len(pairs) + 1
    assert len(pairs) > 500
    for prompt, completion in pairs:
        assert prompt.startswith("Passage: ") and prompt.endswith("Assistant:")
        assert completion.startswith(" ") and completion.endswith("\n")
        assert len(prompt) <= hc.CONTEXT_CHARS - hc.REPLY_CHARS
        assert len(completion) <= hc.REPLY_CHARS + 2
        # Every training reply is copied from its passage.
        assert quote_coverage(completion, hc.prompt_passage(prompt)) == 1.0


def test_training_pairs_are_seeded():
    assert hc.training_pairs(SECTIONS, seed=1) == hc.training_pairs(SECTIONS, seed=1)
    assert hc.training_pairs(SECTIONS, seed=1) != hc.training_pairs(SECTIONS, seed=2)
    one, three = hc.training_pairs(SECTIONS, 1), hc.training_pairs(SECTIONS, 3)
    assert len(three) == 3 * len(one)
    with pytest.raises(ValueError, match="questions_per_passage"):
        hc.training_pairs(SECTIONS, questions_per_passage=0)
    with pytest.raises(ValueError, match="single str"):
        hc.training_pairs(SECTIONS, exclude="what is pass")


def test_best_sentence_prefers_shared_words_then_the_first():
    passage = "Loops repeat a block of code. A loop can stop with break. Else runs."
    assert hc.best_sentence("when does a loop stop", passage) == (
        "A loop can stop with break.")
    assert hc.best_sentence("zebra", passage) == "Loops repeat a block of code."
    with pytest.raises(ValueError, match="non-empty passage"):
        hc.best_sentence("x", "  ")


def test_the_desk_retrieves_and_puts_the_passage_in_the_prompt(tiny_desk):
    answers = tiny_desk.answer(["how to stop a loop early", "an empty section"])
    assert [a.section_id for a in answers] == ["break", "empty"]
    for answer in answers:
        assert answer.prompt.startswith("Passage: " + answer.passage + "\n")
        assert answer.prompt.endswith(f"User: {answer.question}\nAssistant:")
        assert "\n" not in answer.reply
    # A section without body text gives its title instead.
    assert answers[1].passage == "Empty section"


def test_history_is_kept_when_it_fits(tiny_desk):
    history = [{"role": "user", "content": "what is pass"},
               {"role": "assistant", "content": "It does nothing."}]
    answer = tiny_desk.answer(["and break?"], [history])[0]
    assert answer.section_id == "break"
    assert "User: what is pass\nAssistant: It does nothing.\nUser: and break?\n" in (
        answer.prompt)
    long_history = history + [{"role": "user", "content": "x" * 80},
                              {"role": "assistant", "content": "y" * 70}]
    answer = tiny_desk.answer(["and break?"], [long_history])[0]
    assert "what is pass" not in answer.prompt  # the oldest turns went first
    assert len(answer.prompt) <= hc.CONTEXT_CHARS - hc.REPLY_CHARS
    first, second = tiny_desk.converse(["what is pass", "and break?"])
    assert (first.section_id, second.section_id) == ("pass", "break")


def test_bad_inputs_to_the_desk_are_clear_errors(tiny_desk):
    with pytest.raises(ValueError, match="non-empty list of non-empty questions"):
        tiny_desk.answer([])
    with pytest.raises(ValueError, match="non-empty list of non-empty questions"):
        tiny_desk.answer(["  "])
    with pytest.raises(ValueError, match="one history per question"):
        tiny_desk.answer(["a", "b"], [[]])
    with pytest.raises(ValueError, match="on one line"):
        tiny_desk.answer(["a\nUser: b"])
    short = build_gpt(10, 64, 8, 2, 1)
    with pytest.raises(ValueError, match="context_length >= 256"):
        hc.HelpDesk(short, tiny_desk.tokenizer, SECTIONS)
    with pytest.raises(ValueError, match="retrieval.HelpIndex or FusedIndex"):
        hc.HelpDesk(tiny_desk.model, tiny_desk.tokenizer, index="tfidf")
    shared = hc.HelpDesk(tiny_desk.model, tiny_desk.tokenizer, index=tiny_desk.index)
    assert shared.index is tiny_desk.index
    with pytest.raises(ValueError, match="starts with 'Passage: '"):
        hc.prompt_passage("User: hi\nAssistant:")
    with pytest.raises(ValueError, match="HelpQuestion"):
        hc.evaluate_helpdesk(tiny_desk, ["what is pass"])


def test_evaluate_helpdesk_counts_quotes_of_the_right_section(tiny_desk):
    questions = [q for q in load_questions() if q.topic_id in ("pass", "break")]
    metrics, answers = hc.evaluate_helpdesk(tiny_desk, questions)
    assert metrics["n"] == len(questions) == len(answers)
    assert 0 <= metrics["grounded"] <= min(metrics["quote_rate"],
                                           metrics["retrieval_top1"]) <= 1
    # An untrained tiny GPT does not quote; retrieval alone is right often.
    assert metrics["quote_rate"] == 0.0
    assert metrics["retrieval_top1"] >= 0.5


@pytest.mark.skipif(not os.path.isdir(hc.CHAT_MODEL_DIR), reason="not shipped")
def test_shipped_chat_model_quotes_as_its_card_says():
    from keras_gen.pretrained import load_pretrained

    loaded = load_pretrained(hc.CHAT_MODEL_DIR)
    card = loaded.card
    questions = load_questions()[: card["check_questions"]]
    metrics, answers = hc.evaluate_helpdesk(
        hc.HelpDesk(loaded.model, loaded.tokenizer), questions)
    # Greedy decoding is deterministic; one flipped reply is allowed for
    # float differences between machines.
    assert abs(metrics["quote_rate"] - card["check_quote_rate"]) <= (
        1 / len(questions) + 1e-9)
    fine_tuned, base = card["held_out"]["fine_tuned"], card["held_out"]["base"]
    assert fine_tuned["quote_rate"] > base["quote_rate"]
    assert sum(is_quote(a.reply, a.passage) for a in answers) == round(
        metrics["quote_rate"] * len(questions))


def test_answer_is_greedy_complete_of_the_prompt(tiny_desk, monkeypatch):
    from keras_gen import finetune

    calls = []
    real = finetune.greedy_complete

    def recording(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(finetune, "greedy_complete", recording)
    questions = ["how do I stop a loop", "what does pass do here?"]
    answers = tiny_desk.answer(questions)
    assert len(calls) == 1  # one batch, through the one greedy completion
    prompts = [a.prompt for a in answers]
    expected = real(tiny_desk.model, tiny_desk.tokenizer, prompts, hc.REPLY_CHARS,
                    stop=None, verbose=False)
    assert [a.reply for a in answers] == [hc.parse_reply(c) for c in expected]


def test_a_checked_desk_replaces_a_reply_that_does_not_quote(tiny_desk):
    checked = hc.HelpDesk(tiny_desk.model, tiny_desk.tokenizer,
                          index=tiny_desk.index, check_replies=True)
    plain = tiny_desk.answer(["how do I stop a loop"])[0]
    answer = checked.answer(["how do I stop a loop"])[0]
    # The untrained tiny GPT never quotes, so the rule answers, from the passage.
    assert not is_quote(plain.reply, plain.passage)
    assert answer.source == "rule" and is_quote(answer.reply, answer.passage)
    assert answer.reply == hc.best_sentence(answer.question, answer.passage)
    quoting = hc.Answer("q", "pass", plain.passage, "", plain.passage)
    assert checked.check(quoting) is quoting  # a quote is kept as it is
