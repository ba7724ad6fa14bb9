r"""A chat format a character-level GPT can spell, and the quote-rate metric.

A conversation is a list of turns, each ``{"role": ..., "content": ...}``
with a role from :data:`ROLES`:

* ``"passage"``: the retrieved help text the assistant must ground its reply
  in (the system turn of retrieval-augmented generation), at most one, first;
* ``"user"``: what the user typed;
* ``"assistant"``: the model's earlier replies.

:func:`format_chat` renders it as plain text, one turn a line::

    Passage: The "break" statement may only occur ... loop.
    User: how do I stop a loop early
    Assistant:

Each turn starts with its role marker (:data:`ROLE_MARKERS`, words the
tokenizer already spells) and ends with the end-of-turn marker
:data:`END_OF_TURN`, a newline: the shipped GPT read Python's help text line
by line, so a newline is the one "stop" it already knows, and greedy decoding
stops there (:func:`keras_gen.finetune.greedy_complete`). Hence a user or
assistant message may not contain a newline (that would start a turn the
speaker did not write); a passage is help text with line breaks, so its white
space is collapsed to single spaces instead. :func:`parse_reply` cuts the
model's continuation at the first end-of-turn marker.

The prompt must fit the model's context window (256 characters for the
shipped GPT), reply included. :func:`format_chat` with ``max_chars`` keeps
what matters most:

1. the passage, cut to ``passage_chars`` characters (at a word boundary);
2. the latest user turn, whole;
3. if the passage and the latest user turn together are too long, the
   passage is cut further, down to ``MIN_PASSAGE_CHARS`` at the least (below
   that the prompt is refused: the user's message is too long);
4. earlier turns, newest first, as long as they fit whole (older ones are
   dropped: the model only sees the latest exchanges).

:func:`quote_coverage` and :func:`is_quote` define what "the reply quotes
the passage" means, and :func:`quote_rate` counts it over many replies.
"""

from __future__ import annotations

import difflib
import re

from keras_gen._checks import check_float, check_int

#: The roles a turn may have.
ROLES = ("passage", "user", "assistant")
#: The text that starts each role's line.
ROLE_MARKERS = {"passage": "Passage: ", "user": "User: ", "assistant": "Assistant: "}
#: The text that ends every turn.
END_OF_TURN = "\n"
#: The shortest passage :func:`format_chat` cuts a passage down to.
MIN_PASSAGE_CHARS = 40


def flatten(text: str) -> str:
    r"""Collapse every run of white space (newlines too) to one space.

    Example:
        >>> flatten("  The while\n  statement\n\nloops. ")
        'The while statement loops.'
    """
    return re.sub(r"\s+", " ", text).strip()


def truncate_words(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, at a space if one exists.

    Example:
        >>> truncate_words("The pass statement does nothing.", 20)
        'The pass statement'
        >>> truncate_words("Supercalifragilistic", 5)
        'Super'
    """
    max_chars = check_int("max_chars", max_chars, minimum=0)
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else text[:max_chars]).rstrip()


def _check_turns(turns) -> list[dict]:
    if isinstance(turns, (str, dict)) or not isinstance(turns, (list, tuple)):
        raise ValueError(
            "Expected turns to be a list of {'role': ..., 'content': ...} dicts. "
            f"Received: turns of type {type(turns).__name__}. Wrap a single turn "
            "in a list."
        )
    if not turns:
        raise ValueError("Expected at least one turn. Received: []")
    checked = []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or set(turn) != {"role", "content"}:
            raise ValueError(
                f"Expected turns[{i}] to be a dict with exactly the keys 'role' "
                f"and 'content'. Received: {turn!r}"
            )
        role, content = turn["role"], turn["content"]
        if role not in ROLES:
            raise ValueError(
                f"Expected turns[{i}]['role'] to be one of {list(ROLES)}. "
                f"Received: role={role!r}"
            )
        if not isinstance(content, str) or not content.strip():
            raise ValueError(
                f"Expected turns[{i}]['content'] to be a non-empty string. "
                f"Received: content={content!r}"
            )
        if role == "passage":
            if i != 0:
                raise ValueError(
                    "Expected the passage to be the first turn (at most one). "
                    f"Received: a passage at turns[{i}]. Put it first."
                )
            content = flatten(content)
        else:
            if END_OF_TURN in content or "\r" in content:
                raise ValueError(
                    f"Expected turns[{i}]['content'] ({role}) on one line: a "
                    "newline is the end-of-turn marker. Received: "
                    f"content={content!r}. Replace newlines with spaces."
                )
            content = content.strip()
        checked.append({"role": role, "content": content})
    return checked


def _line(turn: dict) -> str:
    return f"{ROLE_MARKERS[turn['role']]}{turn['content']}{END_OF_TURN}"


def format_chat(
    turns,
    add_generation_prompt: bool = True,
    max_chars: int | None = None,
    passage_chars: int | None = None,
) -> str:
    r"""Render a conversation as text, cut to fit ``max_chars`` characters.

    Args:
        turns: A list of ``{"role": ..., "content": ...}`` dicts (roles from
            :data:`ROLES`; the passage, if any, first).
        add_generation_prompt: End with ``"Assistant:"`` so the model writes
            the next reply (the last turn must then be a user turn).
        max_chars: Longest rendered text, in characters; ``None``: no limit.
            Leave room for the reply: ``context_length - reply length``.
        passage_chars: Cut the passage to this many characters first;
            ``None``: no cut.

    Returns:
        The rendered text. Which turns survive a cut is described in the
        module docstring.

    Raises:
        ValueError: Bad turns (unknown role, empty content, a newline inside
            a user or assistant message, a passage that is not first), a
            generation prompt after a non-user turn, or a ``max_chars`` too
            small for the passage's minimum and the latest user turn.

    Example:
        >>> turns = [{"role": "passage", "content": "The pass statement is a"
        ...           "\nnull operation. Nothing happens when it runs."},
        ...          {"role": "user", "content": "what is pass"}]
        >>> print(format_chat(turns), end="|")
        Passage: The pass statement is a null operation. Nothing happens when it runs.
        User: what is pass
        Assistant:|
        >>> print(format_chat(turns, max_chars=80), end="|")
        Passage: The pass statement is a null operation.
        User: what is pass
        Assistant:|
    """
    turns = _check_turns(turns)
    if max_chars is not None:
        max_chars = check_int("max_chars", max_chars, minimum=1)
    if passage_chars is not None:
        passage_chars = check_int("passage_chars", passage_chars, minimum=1)
    prompt = ""
    if add_generation_prompt:
        if turns[-1]["role"] != "user":
            raise ValueError(
                "Expected the last turn to be a user turn when "
                "add_generation_prompt=True. Received: a "
                f"{turns[-1]['role']!r} turn last."
            )
        prompt = ROLE_MARKERS["assistant"].rstrip()
    passage = turns[0] if turns[0]["role"] == "passage" else None
    dialogue = turns[1:] if passage else turns
    if passage and passage_chars is not None:
        passage = {"role": "passage",
                   "content": truncate_words(passage["content"], passage_chars)}
    if max_chars is None:
        kept = dialogue
    else:
        # The passage (cut to passage_chars) and the latest turn always; then
        # earlier turns, newest first, while they fit whole. If the passage
        # and the latest turn alone are too long, the passage is cut further.
        empty_passage = len(_line({"role": "passage", "content": ""}))
        latest = len(prompt) + len(_line(dialogue[-1]))
        if passage:
            shortest = truncate_words(passage["content"], MIN_PASSAGE_CHARS)
            if empty_passage + len(shortest) + latest > max_chars:
                raise ValueError(
                    f"Expected max_chars >= {empty_passage + len(shortest) + latest}"
                    f" (the latest turn, a passage of {len(shortest)} characters "
                    f"and the reply's marker). Received: max_chars={max_chars}. "
                    "Shorten the user's message or raise max_chars."
                )
            room = max_chars - latest - empty_passage
            passage = {"role": "passage",
                       "content": truncate_words(passage["content"], room)}
            used = latest + len(_line(passage))
        else:
            used = latest
            if used > max_chars:
                raise ValueError(
                    f"Expected max_chars >= {used} (the latest turn and the "
                    f"reply's marker). Received: max_chars={max_chars}. Shorten "
                    "the user's message or raise max_chars."
                )
        start = len(dialogue) - 1
        while start > 0 and used + len(_line(dialogue[start - 1])) <= max_chars:
            used += len(_line(dialogue[start - 1]))
            start -= 1
        kept = dialogue[start:]
    text = "".join(_line(turn) for turn in ([passage] if passage else []) + kept)
    return text + prompt


def parse_reply(continuation: str) -> str:
    r"""The assistant's reply in the model's continuation of a chat prompt.

    Everything up to the first end-of-turn marker (what follows is the model
    imagining the next turn), without outer white space.

    Example:
        >>> parse_reply(" It does nothing.\nUser: and break?\n")
        'It does nothing.'
        >>> parse_reply(" no end marker yet")
        'no end marker yet'
    """
    if not isinstance(continuation, str):
        raise ValueError(
            "Expected the model's continuation as a string. Received: "
            f"{type(continuation).__name__}"
        )
    return continuation.split(END_OF_TURN, 1)[0].strip()


def longest_common_substring(a: str, b: str) -> str:
    """The longest string found in both ``a`` and ``b`` (first one found in ``a``).

    Example:
        >>> longest_common_substring("it stops the loop", "break stops the loop now")
        ' stops the loop'
    """
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    match = matcher.find_longest_match(0, len(a), 0, len(b))
    return a[match.a : match.a + match.size]


def quote_coverage(reply: str, passage: str) -> float:
    """Share of ``reply``'s characters in its longest run copied from ``passage``.

    Both texts have their white space collapsed first (:func:`flatten`), as
    the passage is in the prompt. An empty reply covers 0.

    Example:
        >>> quote_coverage("stops the loop", "break stops the loop now")
        1.0
        >>> quote_coverage("stops the game", "break stops the loop now")
        0.7142857142857143
    """
    for name, value in (("reply", reply), ("passage", passage)):
        if not isinstance(value, str):
            raise ValueError(
                f"Expected {name} to be a string. Received: {type(value).__name__}"
            )
    reply, passage = flatten(reply), flatten(passage)
    if not reply:
        return 0.0
    return len(longest_common_substring(reply, passage)) / len(reply)


def is_quote(
    reply: str, passage: str, min_coverage: float = 0.8, min_chars: int = 20
) -> bool:
    """Whether ``reply`` quotes ``passage``.

    A quote is a reply whose longest run copied from the passage covers at
    least ``min_coverage`` of it and is at least ``min_chars`` characters
    long (so "the" or an empty reply is no quote).

    Example:
        >>> passage = 'The "pass" statement is a null operation; nothing happens.'
        >>> is_quote("pass is a null operation; nothing happens.", passage)
        True
        >>> is_quote("a null operation", passage)  # too short to count
        False
        >>> is_quote("it is a null operation, I think, honestly", passage)
        False
    """
    min_coverage = check_float("min_coverage", min_coverage, 0, 1)
    min_chars = check_int("min_chars", min_chars, minimum=1)
    coverage = quote_coverage(reply, passage)
    copied = round(coverage * len(flatten(reply)))
    return coverage >= min_coverage and copied >= min_chars


def quote_rate(replies, passages, min_coverage: float = 0.8, min_chars: int = 20):
    """Share of replies that quote their passage (:func:`is_quote`).

    Example:
        >>> quote_rate(["stops the loop early, at once", "no idea"],
        ...            ["break stops the loop early, at once.", "pass"])
        0.5
    """
    replies, passages = list(replies), list(passages)
    if len(replies) != len(passages) or not replies:
        raise ValueError(
            "Expected one passage per reply, for at least one reply. Received: "
            f"{len(replies)} replies and {len(passages)} passages."
        )
    hits = [
        is_quote(r, p, min_coverage, min_chars)
        for r, p in zip(replies, passages, strict=True)
    ]
    return sum(hits) / len(hits)
