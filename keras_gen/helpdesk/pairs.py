"""Training and development queries for the retriever, made from the help sections.

The retriever (:mod:`keras_gen.helpdesk.encoder`) learns from (query,
section) pairs, and its settings are chosen on (query, section) pairs too;
both come from the help sections only, never from the held-out questions of
``data/helpdesk/questions.tsv`` (:func:`keras_gen.helpdesk.sections.load_questions`),
which stay the test set.

Each section's sentences (after its first two, which its opening already
shows) are split, seeded, into *training* sentences and *development*
sentences (:data:`DEV_SHARE` of them, at most :data:`DEV_PER_SECTION` a
section). Training queries (:func:`training_queries`), by rule:

* ``title``: the section's title, lower case, without quote marks;
* ``question``: a question template filled with the title
  ("how does the while statement work");
* ``window``: a run of 4 to 12 words of a training sentence;
* ``no_keyword``: such a run without the title's words;
* ``typo``: a title or a run with one letter dropped, doubled or swapped.

Development queries (:func:`dev_queries`) use a rule training never uses: a
run of 3 to 6 words of a *development* sentence, without the title's words,
and with a typo in one query of three. So a setting chosen on them is chosen
on sentences the encoder never read as queries, written in a way it was
never trained on.
"""

from __future__ import annotations

import random
import re

from keras_gen._checks import check_int, check_seed
from keras_gen.helpdesk.desk import QUESTION_TEMPLATES, sentences

#: Share of each section's later sentences kept for development queries.
DEV_SHARE = 0.2
#: At most this many development sentences per section.
DEV_PER_SECTION = 3
#: Training queries kinds, in the order :func:`training_queries` makes them.
TRAINING_RULES = ("title", "question", "window", "no_keyword", "typo")

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def title_words(title: str) -> set[str]:
    """Lower-case words of a title (what a query without keywords avoids).

    Example:
        >>> sorted(title_words('The "while" statement'))
        ['statement', 'the', 'while']
    """
    return {w.lower() for w in _WORD.findall(title)}


def plain_title(title: str) -> str:
    """The title in lower case without quote marks, as a user might type it.

    Example:
        >>> plain_title('The "while" statement')
        'the while statement'
    """
    return " ".join(title.replace('"', " ").replace("'", " ").lower().split())


def add_typo(text: str, rng: random.Random) -> str:
    """``text`` with one letter dropped, doubled or swapped in a longer word.

    Example:
        >>> add_typo("the break statement", random.Random(0))
        'the break statemennt'
    """
    words = text.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        word = word[:j] + word[j + 1 :]
    elif kind == "double":
        word = word[:j] + word[j] + word[j:]
    else:
        word = word[:j - 1] + word[j] + word[j - 1] + word[j + 1 :]
    return " ".join(words[:i] + [word] + words[i + 1 :])


def word_window(sentence: str, low: int, high: int, rng: random.Random) -> str:
    """A run of ``low`` to ``high`` words of ``sentence``, from a seeded start.

    Example:
        >>> word_window("a b c d e f", 2, 3, random.Random(1))
        'e f'
    """
    words = sentence.split()
    size = min(len(words), rng.randint(low, high))
    start = rng.randrange(0, len(words) - size + 1)
    return " ".join(words[start : start + size])


def _without(text: str, banned: set[str]) -> str:
    return " ".join(w for w in text.split() if w.strip("\"'().,:;").lower()
                    not in banned)


def split_sentences(section, seed: int = 0) -> tuple[list[str], list[str]]:
    """A section's sentences split into (training, development), seeded.

    The first two sentences are always training sentences; of the later ones
    with at least 5 words, a :data:`DEV_SHARE` share (at most
    :data:`DEV_PER_SECTION`) are development sentences.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> text = " ".join(f"Sentence number {i} is here." for i in range(12))
        >>> train, dev = split_sentences(HelpSection("s", "s", "S", text))
        >>> len(train), len(dev)
        (10, 2)
    """
    rng = random.Random(f"{check_seed('seed', seed)}:{section.id}")
    parts = sentences(section.text)
    later = [i for i in range(2, len(parts)) if len(parts[i].split()) >= 5]
    count = min(DEV_PER_SECTION, int(len(later) * DEV_SHARE))
    dev = set(rng.sample(later, count)) if count else set()
    return ([s for i, s in enumerate(parts) if i not in dev],
            [s for i, s in enumerate(parts) if i in dev])


def training_queries(sections, per_section: int = 12, seed: int = 0,
                     exclude=()) -> list[tuple[str, str]]:
    """(query, section id) pairs for training the retriever; see the module doc.

    Args:
        sections: :class:`keras_gen.helpdesk.sections.HelpSection` records.
        per_section: Queries per section (at least one of each rule).
        seed: Seed of every draw.
        exclude: Queries never to make (compared in lower case, white space
            collapsed): pass the held-out questions, so that no rule writes
            one by chance.

    Returns:
        ``(query, section_id)`` pairs, section by section.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> section = HelpSection("pass", "pass", 'The "pass" statement',
        ...     "Pass is a null operation. When it is executed, nothing happens.")
        >>> for query, _ in training_queries([section], per_section=5):
        ...     print(query)  # a repeat (window = no_keyword here) is dropped
        the pass statement
        i have a question about the pass statement
        When it is executed, nothing happens.
        Whhen it is executed, nothing happens.
    """
    per_section = check_int("per_section", per_section,
                            minimum=len(TRAINING_RULES))
    if isinstance(exclude, str):
        raise ValueError("Expected exclude to be a list of questions. Received: a "
                         "single str; wrap it in a list.")
    excluded = {" ".join(q.lower().split()) for q in exclude}
    pairs = []
    for section in sections:
        rng = random.Random(f"{check_seed('seed', seed)}:train:{section.id}")
        train, _ = split_sentences(section, seed)
        train = [s for s in train if len(s.split()) >= 3] or [section.title]
        title = plain_title(section.title)
        banned = title_words(section.title)
        made = []
        for n in range(per_section):
            rule = TRAINING_RULES[n % len(TRAINING_RULES)]
            if rule == "title":
                query = title if n == 0 else word_window(rng.choice(train), 4, 12, rng)
            elif rule == "question":
                query = rng.choice(QUESTION_TEMPLATES).format(title=title)
            elif rule == "window":
                query = word_window(rng.choice(train), 4, 12, rng)
            elif rule == "no_keyword":
                query = _without(word_window(rng.choice(train), 4, 12, rng), banned)
            else:
                query = add_typo(rng.choice(
                    [title, word_window(rng.choice(train), 4, 12, rng)]), rng)
            query = " ".join(query.split())
            if query and query.lower() not in excluded:
                made.append((query, section.id))
        pairs.extend(dict.fromkeys(made))  # no repeats, order kept
    return pairs


def dev_queries(sections, seed: int = 0) -> list[tuple[str, str]]:
    """(query, section id) pairs for choosing settings; see the module doc.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> text = " ".join(f"The loop number {i} stops here." for i in range(12))
        >>> [s for _, s in dev_queries([HelpSection("s", "s", "Loops", text)])]
        ['s', 's']
    """
    pairs = []
    for section in sections:
        rng = random.Random(f"{check_seed('seed', seed)}:dev:{section.id}")
        _, dev = split_sentences(section, seed)
        banned = title_words(section.title)
        for n, sentence in enumerate(dev):
            query = _without(word_window(sentence, 3, 6, rng), banned)
            if n % 3 == 2:
                query = add_typo(query, rng)
            if len(query.split()) >= 2:
                pairs.append((query, section.id))
    return pairs


def distinct_batches(labels, steps: int, batch_size: int, seed: int = 0):
    """Row indices for ``steps`` batches, each with ``batch_size`` distinct labels.

    In-batch negatives are the other rows' documents, so two rows of one
    section in a batch would teach the encoder to push a section away from
    itself. Each batch draws ``batch_size`` different sections uniformly,
    then one of each section's rows.

    Returns:
        An int list of ``steps * batch_size`` row indices, batch after batch.

    Example:
        >>> rows = distinct_batches(["a", "a", "b", "c"], 3, 2)
        >>> all(len({["a", "a", "b", "c"][i] for i in rows[k:k + 2]}) == 2
        ...     for k in range(0, 6, 2))
        True
    """
    steps = check_int("steps", steps, minimum=1)
    by_label: dict = {}
    for row, label in enumerate(labels):
        by_label.setdefault(label, []).append(row)
    keys = list(by_label)
    batch_size = check_int("batch_size", batch_size, minimum=1, maximum=len(keys))
    rng = random.Random(check_seed("seed", seed))
    order = []
    for _ in range(steps):
        for key in rng.sample(keys, batch_size):
            order.append(rng.choice(by_label[key]))
    return order
