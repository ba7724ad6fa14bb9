"""Python's own help text, cut into sections a help desk can answer with.

Every CPython install ships the reference text behind ``help("topic")`` as a
dictionary, ``pydoc_data.topics.topics`` (79 topics in Python 3.11; PSF
licence, like Python itself). It is the text the shipped GPT was pretrained on
(:func:`keras_gen.text.load_corpus`), so a help desk for Python users is the
model's natural first job: a question comes in, the closest section goes out.

A topic is reStructuredText-like plain text: a title underlined with ``*``,
then sections underlined with ``=`` and subsections with ``-`` (or other
punctuation). :func:`load_help_sections` cuts every topic at every underlined
title into :class:`HelpSection` records with stable ids:

* the topic's first section has the topic key as its id (``"break"``);
* later sections are ``"key#slug"``, the slug made from the title
  (``"compound#the-while-statement"``), with ``-2``, ``-3`` ... added when a
  title repeats inside one topic.

Several topics repeat each other word for word (``help("while")`` is also a
section of ``help("compound")``; ``"else"`` and ``"if"`` are the same text).
:func:`unique_sections` keeps one of each text and maps every other id to it
(:func:`canonical_ids`), so a retriever does not split its vote between two
copies and a question labelled with either id is scored alike.

:mod:`keras_gen.retrieval` embeds the sections and questions;
:func:`load_questions` reads this project's held-out questions
(``data/helpdesk/questions.tsv``).
"""

from __future__ import annotations

import csv
import dataclasses
import os
import re

from keras_gen._checks import check_int
from keras_gen._files import data_path, utf8_error_where
from keras_gen.retrieval import top_k_accuracy

#: The shipped held-out questions (written for this project; data/README.md).
QUESTIONS_FILE = data_path("helpdesk", "questions.tsv")
#: The columns of :data:`QUESTIONS_FILE`, in order.
QUESTION_COLUMNS = ("question", "topic_id", "alternative_id", "kind")
#: What each question tests (the ``kind`` column).
QUESTION_KINDS = ("keyword", "paraphrase", "no_keyword", "typo")

# A title line is followed by a line of one repeated punctuation character, as
# long as the title (the Sphinx text writer's rule).
_UNDERLINE = re.compile(r"([*=\-~^\"#+'])\1*")


@dataclasses.dataclass(frozen=True)
class HelpSection:
    """One titled section of a ``pydoc_data`` topic.

    Attributes:
        id: Stable id: the topic key for its first section, else
            ``"key#slug"``.
        topic: The ``pydoc_data`` topic key (what ``help()`` takes).
        title: The section's title, as written.
        text: The section's body, without its title (may be empty when a
            title is directly followed by a subsection).
    """

    id: str
    topic: str
    title: str
    text: str

    @property
    def document(self) -> str:
        """Title and body in one string: what a retriever indexes."""
        return f"{self.title}\n\n{self.text}".strip()


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug or "section"


def _is_underline(line: str, title: str) -> bool:
    return (
        bool(title.strip())
        and len(line) == len(title)
        and _UNDERLINE.fullmatch(line) is not None
    )


def split_topic(key: str, text: str) -> list[HelpSection]:
    r"""Cut one topic's text at every underlined title.

    Args:
        key: The topic key (used for ids and as the title of any text before
            the first title).
        text: The topic's text.

    Returns:
        The topic's sections, in order; the first has ``id == key``.

    Raises:
        ValueError: ``key`` or ``text`` is not a non-empty string.

    Example:
        >>> text = "Loops\n*****\n\nAbout loops.\n\nBreak\n=====\n\nStops one."
        >>> [(s.id, s.title, s.text) for s in split_topic("loops", text)]
        [('loops', 'Loops', 'About loops.'), ('loops#break', 'Break', 'Stops one.')]
    """
    for name, value in (("key", key), ("text", text)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"Expected {name} to be a non-empty string. Received: "
                f"{name}={value!r}"
            )
    lines = text.strip("\n").split("\n")
    starts = [
        i for i in range(len(lines) - 1) if _is_underline(lines[i + 1], lines[i])
    ]
    if not starts or starts[0] != 0:
        # Text before the first title (none in CPython 3.11): title it by key.
        lines = [key, "=" * len(key), *lines]
        starts = [0] + [i + 2 for i in starts]
    sections, seen = [], {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        title = lines[start].strip()
        body = "\n".join(lines[start + 2 : end]).strip()
        if n == 0:
            section_id = key
        else:
            slug = _slug(title)
            seen[slug] = seen.get(slug, 0) + 1
            section_id = f"{key}#{slug}" + (f"-{seen[slug]}" if seen[slug] > 1 else "")
        sections.append(HelpSection(section_id, key, title, body))
    return sections


def load_help_sections(topics: dict | None = None) -> list[HelpSection]:
    """Every section of every help topic, topics in sorted key order.

    Args:
        topics: ``{key: text}``; default CPython's
            ``pydoc_data.topics.topics`` (what ``help("break")`` shows).

    Returns:
        A list of :class:`HelpSection`, with unique ids.

    Raises:
        ValueError: ``topics`` is not a non-empty dict of strings.

    Example:
        >>> sections = load_help_sections()
        >>> by_id = {s.id: s for s in sections}
        >>> by_id["break"].title
        'The "break" statement'
        >>> by_id["compound#the-while-statement"].topic
        'compound'
    """
    if topics is None:
        from pydoc_data.topics import topics
    if not isinstance(topics, dict) or not topics:
        raise ValueError(
            "Expected topics to be a non-empty dict {key: text}. Received: "
            f"topics of type {type(topics).__name__}"
            + (" (empty)" if isinstance(topics, dict) else "")
        )
    sections = []
    for key in sorted(topics):
        sections.extend(split_topic(key, topics[key]))
    return sections


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _preference(section: HelpSection):
    # A topic of its own ("while") reads better than a section of a bigger one
    # ("compound#the-while-statement"); then the shorter id, then sorted order.
    return ("#" in section.id, len(section.id), section.id)


def canonical_ids(sections: list[HelpSection]) -> dict[str, str]:
    """Map every section id to the id of the kept copy of its text.

    Two sections are copies when their title and body are equal up to
    whitespace. The kept copy is a whole topic before a section of one, then
    the shorter id, then the first in sorted order.

    Example:
        >>> ids = canonical_ids(load_help_sections())
        >>> ids["compound#the-while-statement"], ids["else"], ids["if"]
        ('while', 'if', 'if')
    """
    groups: dict[str, list[HelpSection]] = {}
    for section in sections:
        groups.setdefault(_normalised(section.document), []).append(section)
    mapping = {}
    for copies in groups.values():
        kept = min(copies, key=_preference).id
        for section in copies:
            mapping[section.id] = kept
    return mapping


def unique_sections(
    sections: list[HelpSection] | None = None, min_chars: int = 1
) -> list[HelpSection]:
    """The sections a help desk answers with: one copy of each text.

    Args:
        sections: Default :func:`load_help_sections`.
        min_chars: Drop sections whose body is shorter than this (a title
            directly followed by a subsection has an empty body).

    Returns:
        The kept sections, in their original order.

    Example:
        >>> kept = unique_sections()
        >>> len(kept) < len(load_help_sections())
        True
        >>> len({s.document for s in kept}) == len(kept)
        True
    """
    check_int("min_chars", min_chars, minimum=0)
    sections = load_help_sections() if sections is None else list(sections)
    mapping = canonical_ids(sections)
    return [s for s in sections if mapping[s.id] == s.id and len(s.text) >= min_chars]


@dataclasses.dataclass(frozen=True)
class HelpQuestion:
    """A user's question and the section(s) that answer it.

    Attributes:
        question: The question as a user might type it.
        topic_id: The id of the section that answers it best.
        alternative_id: A second section that answers it as well, or ``""``.
        kind: One of :data:`QUESTION_KINDS`: names the topic's keyword,
            paraphrases the section, names no keyword at all, or has a typo.
    """

    question: str
    topic_id: str
    alternative_id: str
    kind: str

    @property
    def answer_ids(self) -> tuple[str, ...]:
        """The ids that count as a correct answer."""
        return (self.topic_id, self.alternative_id) if self.alternative_id else (
            self.topic_id,
        )


def load_questions(
    path: str | None = None, sections: list[HelpSection] | None = None
) -> list[HelpQuestion]:
    """Read held-out help-desk questions from a tab-separated file.

    The file has the header ``question topic_id alternative_id kind``
    (:data:`QUESTION_COLUMNS`) and one question a line. Every id must name a
    section of ``sections``, no question may repeat, and ``kind`` must be one
    of :data:`QUESTION_KINDS`; a file that breaks a rule is refused with the
    line that breaks it.

    Args:
        path: Default :data:`QUESTIONS_FILE` (written for this project).
        sections: The sections the ids refer to; default
            :func:`load_help_sections`.

    Returns:
        A list of :class:`HelpQuestion`, in file order.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: A malformed line, an unknown id or kind, or a repeat.

    Example:
        >>> questions = load_questions()
        >>> len(questions) >= 150
        True
        >>> questions[0]
        HelpQuestion(question='how do I stop a loop early', topic_id='break', \
alternative_id='', kind='no_keyword')
    """
    path = QUESTIONS_FILE if path is None else os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected a questions file. Received: path={path!r}, which does "
            "not exist. The shipped file is data/helpdesk/questions.tsv "
            "(restore it with `git checkout data/helpdesk`)."
        )
    known = {s.id for s in (load_help_sections() if sections is None else sections)}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        try:
            return _read_questions(path, reader, known)
        except csv.Error as error:  # e.g. a field over csv's 131,072 characters
            raise ValueError(
                f"Expected {path} to be tab-separated text with fields of at most "
                f"{csv.field_size_limit():,} characters. Received: {error} "
                f"(line {reader.line_num}). Fix that line or restore the file "
                "(`git checkout data/helpdesk`)."
            ) from error
        except UnicodeDecodeError as error:
            raise ValueError(
                f"Expected {path} to be UTF-8 text. Received: "
                f"{utf8_error_where(path, error)}. Save it as UTF-8 or restore it "
                "(`git checkout data/helpdesk`)."
            ) from error


def _read_questions(path: str, reader, known: set) -> list[HelpQuestion]:
    """:func:`load_questions`' rules, row by row of a ``csv.reader``."""
    header = next(reader, None)
    if tuple(header or ()) != QUESTION_COLUMNS:
        raise ValueError(
            f"Expected {path} to start with the header "
            f"{chr(9).join(QUESTION_COLUMNS)!r} (tab-separated). "
            f"Received: {header!r:.300}"
        )
    questions, seen = [], {}
    for line_number, row in enumerate(reader, start=2):
        where = f"{path}, line {line_number}"
        if len(row) != len(QUESTION_COLUMNS):
            raise ValueError(
                f"Expected {len(QUESTION_COLUMNS)} tab-separated fields in "
                f"{where}. Received: {len(row)} fields {row!r}"
            )
        question = HelpQuestion(*(field.strip() for field in row))
        if not question.question:
            raise ValueError(f"Expected a question in {where}. Received: ''")
        for name in ("topic_id", "alternative_id"):
            value = getattr(question, name)
            if (value or name == "topic_id") and value not in known:
                raise ValueError(
                    f"Expected {name} in {where} to be a section id of the "
                    f"help topics (see load_help_sections()). Received: "
                    f"{name}={value!r}"
                )
        if question.alternative_id == question.topic_id:
            raise ValueError(
                f"Expected alternative_id in {where} to differ from topic_id "
                f"(leave it empty if there is none). Received: both "
                f"{question.topic_id!r}"
            )
        if question.kind not in QUESTION_KINDS:
            raise ValueError(
                f"Expected kind in {where} to be one of {list(QUESTION_KINDS)}."
                f" Received: kind={question.kind!r}"
            )
        key = _normalised(question.question.lower())
        if key in seen:
            raise ValueError(
                f"Expected every question once. Received: {where} repeats "
                f"line {seen[key]} ({question.question!r})."
            )
        seen[key] = line_number
        questions.append(question)
    if not questions:
        raise ValueError(f"Expected at least one question in {path}. Received: none")
    return questions


def evaluate_retrieval(index, questions, ks=(1, 3)) -> dict[str, float]:
    """Top-k accuracy of ``index`` on labelled questions.

    A question's answer ids (its topic id and any alternative) are mapped to
    the kept copy of their text (:func:`canonical_ids`), so
    a label that names a duplicate section is scored like its original.

    Args:
        index: A :class:`keras_gen.retrieval.HelpIndex`.
        questions: :class:`HelpQuestion` records.
        ks: The cut-offs to report.

    Returns:
        ``{"top1": ..., "top3": ...}`` (one key per ``k``) and ``"n"``, the
        number of questions.
    """
    questions = list(questions)
    if not questions or not all(hasattr(q, "answer_ids") for q in questions):
        raise ValueError(
            "Expected a non-empty list of HelpQuestion. "
            f"Received: {len(questions)} items"
        )
    ks = [check_int("k", k, minimum=1) for k in ks]
    canonical = canonical_ids(load_help_sections())
    ranked = index.search([q.question for q in questions], k=max(ks))
    answers = [{canonical.get(i, i) for i in q.answer_ids} for q in questions]
    result = {f"top{k}": top_k_accuracy(ranked, answers, k) for k in ks}
    result["n"] = len(questions)
    return result
