import pytest

from keras_gen.helpdesk import chat

PASSAGE = (
    'The "break" statement may only occur syntactically nested in a "for" or\n'
    '"while" loop. It terminates the nearest enclosing loop, skipping the '
    "optional else clause if the loop has one."
)


def _turns(*pairs):
    return [{"role": role, "content": content} for role, content in pairs]


def test_format_chat_renders_one_line_per_turn_with_markers():
    text = chat.format_chat(_turns(
        ("passage", PASSAGE), ("user", "how do I stop a loop"),
        ("assistant", "Use break."), ("user", "and skip one step?"),
    ))
    lines = text.split("\n")
    assert lines[0] == "Passage: " + chat.flatten(PASSAGE)
    assert lines[1:] == ["User: how do I stop a loop", "Assistant: Use break.",
                         "User: and skip one step?", "Assistant:"]


def test_format_then_parse_round_trips_the_reply():
    prompt = chat.format_chat(_turns(("passage", PASSAGE), ("user", "what is break")))
    reply = "It terminates the nearest enclosing loop."
    continuation = f" {reply}{chat.END_OF_TURN}User: thanks{chat.END_OF_TURN}"
    assert chat.parse_reply(continuation) == reply
    # The whole exchange re-renders to the same text as prompt + continuation.
    full = chat.format_chat(
        _turns(("passage", PASSAGE), ("user", "what is break"), ("assistant", reply)),
        add_generation_prompt=False,
    )
    assert full == prompt + " " + reply + chat.END_OF_TURN


def test_without_a_passage_the_dialogue_still_renders():
    assert chat.format_chat(_turns(("user", "hi"))) == "User: hi\nAssistant:"


def test_max_chars_cuts_the_passage_and_keeps_the_latest_turns():
    turns = _turns(("passage", PASSAGE), ("user", "first question here"),
                   ("assistant", "first reply here"), ("user", "second question"))
    full = chat.format_chat(turns)
    for limit in (80, 100, 140, len(full)):
        text = chat.format_chat(turns, max_chars=limit)
        assert len(text) <= limit
        assert text.endswith("User: second question\nAssistant:")
        passage = text.split("\n")[0][len("Passage: "):]
        assert chat.flatten(PASSAGE).startswith(passage)
        assert len(passage) >= chat.MIN_PASSAGE_CHARS - 10  # cut at a word
    assert "first question" not in chat.format_chat(turns, max_chars=100)
    assert chat.format_chat(turns, max_chars=len(full)) == full
    # The passage is cut before any earlier turn is kept beside it.
    short = chat.format_chat(turns, max_chars=len(full), passage_chars=50)
    assert "first question" in short and len(short) < len(full)


def test_a_too_small_max_chars_is_refused_with_the_minimum():
    turns = _turns(("passage", PASSAGE), ("user", "what is break"))
    with pytest.raises(ValueError, match=r"Expected max_chars >= \d+.*max_chars=30"):
        chat.format_chat(turns, max_chars=30)
    with pytest.raises(ValueError, match="max_chars >= 30"):
        chat.format_chat(_turns(("user", "what is break")), max_chars=29)
    assert len(chat.format_chat(_turns(("user", "what is break")), max_chars=30)) == 30


@pytest.mark.parametrize("turns, message", [
    ([], r"at least one turn"),
    ("User: hi", r"list of \{'role'"),
    ({"role": "user", "content": "hi"}, r"list of \{'role'"),
    ([{"role": "system", "content": "hi"}],
     r"one of \['passage', 'user', 'assistant'\]"),
    ([{"role": "user", "content": "  "}], r"non-empty string"),
    ([{"role": "user", "content": 3}], r"non-empty string"),
    ([{"role": "user"}], r"exactly the keys"),
    ([{"role": "user", "content": "a\nAssistant: b"}], r"on one line.*newline"),
    ([{"role": "user", "content": "hi"}, {"role": "passage", "content": "p"}],
     r"passage to be the first turn"),
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
     r"last turn to be a user turn"),
])
def test_bad_turns_are_clear_errors(turns, message):
    with pytest.raises(ValueError, match=message):
        chat.format_chat(turns)


def test_bad_limits_are_clear_errors():
    turns = _turns(("user", "hi"))
    with pytest.raises(ValueError, match="max_chars"):
        chat.format_chat(turns, max_chars=0)
    with pytest.raises(ValueError, match="passage_chars"):
        chat.format_chat(turns, passage_chars=-1)
    with pytest.raises(ValueError, match="continuation as a string"):
        chat.parse_reply(None)


def test_quote_coverage_on_hand_made_cases():
    assert chat.quote_coverage("terminates the nearest enclosing loop", PASSAGE) == 1.0
    # 20 of 25 characters copied: "terminates the nearest" ... then made up.
    assert chat.quote_coverage("the nearest enclosing cat", PASSAGE) == pytest.approx(
        len("the nearest enclosing ") / len("the nearest enclosing cat"))
    assert chat.quote_coverage("", PASSAGE) == 0.0
    # White space is collapsed on both sides, as in the prompt.
    assert chat.quote_coverage('a "for" or "while" loop', PASSAGE) == 1.0
    with pytest.raises(ValueError, match="Expected passage to be a string"):
        chat.quote_coverage("x", None)


def test_is_quote_needs_coverage_and_length():
    assert chat.is_quote("It terminates the nearest enclosing loop", PASSAGE)
    assert not chat.is_quote("enclosing loop", PASSAGE)  # 14 < 20 characters
    assert not chat.is_quote(  # long copy, but under 80% of the reply
        "It terminates the nearest enclosing loop, says my friend Bob today",
        PASSAGE)
    assert chat.is_quote("enclosing loop", PASSAGE, min_chars=10)
    with pytest.raises(ValueError, match="min_coverage"):
        chat.is_quote("x", PASSAGE, min_coverage=1.5)


def test_quote_rate_counts_quotes_and_checks_lengths():
    replies = ["It terminates the nearest enclosing loop", "I do not know, sorry"]
    assert chat.quote_rate(replies, [PASSAGE, PASSAGE]) == 0.5
    with pytest.raises(ValueError, match="one passage per reply"):
        chat.quote_rate(replies, [PASSAGE])
    with pytest.raises(ValueError, match="one passage per reply"):
        chat.quote_rate([], [])


def test_truncate_words_never_exceeds_the_limit():
    for limit in range(0, 60):
        cut = chat.truncate_words(chat.flatten(PASSAGE), limit)
        assert len(cut) <= limit
        assert chat.flatten(PASSAGE).startswith(cut)
