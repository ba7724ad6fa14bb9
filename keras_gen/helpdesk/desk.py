"""A help-desk chatbot: retrieve a help section, let the GPT quote it.

Retrieval-augmented generation (RAG) on the project's pieces:

1. a user's question is matched to the closest help section
   (:class:`keras_gen.retrieval.HelpIndex` with TF-IDF by default; TF-IDF
   fused with the trained encoder,
   :func:`keras_gen.helpdesk.retriever.shipped_index`, puts the right section
   in the first three more often, ``benchmarks/helpdesk_retriever.py``);
2. the section's opening goes into the prompt as the passage turn of the
   chat format (:func:`keras_gen.helpdesk.chat.format_chat`), followed by the
   conversation so far, cut to fit the context window;
3. the GPT writes the assistant's reply, greedily, with the one decoding path
   (:func:`keras_gen.decoding.generate_ids`, as
   :func:`keras_gen.finetune.greedy_complete` calls it), cut at the
   end-of-turn marker (:func:`keras_gen.helpdesk.chat.parse_reply`);
4. optionally (``check_replies=True``, as ``keras-gen chat`` runs it), a
   reply that does not quote its passage is replaced by the passage's
   sentence that shares most words with the question.

:func:`training_pairs` makes fine-tuning data for step 3 from the help
sections themselves, never from the held-out questions
(:func:`keras_gen.helpdesk.sections.load_questions`): a synthetic question from a few
seeded templates filled with the section's title, the section's opening (from
its first, second or third sentence) as the passage, and as the reply the
passage sentence that shares the most words with the question. Fine-tuning on
them (:func:`keras_gen.finetune.finetune_lm`, loss on the reply only) teaches
the model the turn-taking and to answer by quoting its passage.

:data:`CHAT_MODEL_DIR` is where ``tools/train_helpdesk_chat.py`` saves the
fine-tuned model that ``keras-gen chat`` loads.
"""

from __future__ import annotations

import dataclasses
import random
import re

from keras_gen._checks import check_int, check_seed
from keras_gen._files import data_path
from keras_gen.helpdesk.chat import (
    END_OF_TURN,
    MIN_PASSAGE_CHARS,
    ROLE_MARKERS,
    flatten,
    format_chat,
    parse_reply,
    truncate_words,
)

#: The fine-tuned help-desk model (``tools/train_helpdesk_chat.py``).
CHAT_MODEL_DIR = data_path("pretrained", "helpdesk-chat")
#: Characters of a section's text put in the prompt as its passage.
PASSAGE_CHARS = 100
#: Longest reply, in characters (tokens of the char-level tokenizer).
REPLY_CHARS = 72
#: The shipped GPT's context window, in characters.
CONTEXT_CHARS = 256
#: The longest question :func:`chat_prompt` takes: what the context leaves
#: after the reply, the shortest passage and the role markers (117).
MAX_QUESTION_CHARS = (
    CONTEXT_CHARS
    - REPLY_CHARS
    - len(ROLE_MARKERS["passage"]) - MIN_PASSAGE_CHARS - len(END_OF_TURN)
    - len(ROLE_MARKERS["user"]) - len(END_OF_TURN)
    - len(ROLE_MARKERS["assistant"].rstrip())
)

#: Question templates for the synthetic training conversations; ``{title}``
#: is the section's title in lower case, without quote marks.
QUESTION_TEMPLATES = (
    "what is {title}",
    "how does {title} work",
    "tell me about {title}",
    "can you explain {title}",
    "what does python say about {title}",
    "i have a question about {title}",
)

_WORD = re.compile(r"[a-z_][a-z0-9_]*")
_STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it me of on or "
    "python say tell that the this to what when which with you about explain "
    "have question work".split()
)


def sentences(text: str) -> list[str]:
    """Split flattened text after ``.``, ``:``, ``;``, ``!`` or ``?`` and a space.

    Example:
        >>> sentences("Loops repeat. They stop: sometimes.")
        ['Loops repeat.', 'They stop:', 'sometimes.']
    """
    return [s for s in re.split(r"(?<=[.:;!?])\s+", flatten(text)) if s]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower())) - _STOP_WORDS


def best_sentence(question: str, passage: str, min_chars: int = 20) -> str:
    """The passage sentence sharing the most words with ``question``.

    Sentences shorter than ``min_chars`` are skipped (unless all are); ties
    go to the earlier sentence, so with no shared word the first is chosen.

    Example:
        >>> best_sentence("how can a loop stop",
        ...               "Loops repeat a block of code. A loop can stop with break.")
        'A loop can stop with break.'
    """
    candidates = sentences(passage)
    if not candidates:
        raise ValueError(f"Expected a non-empty passage. Received: {passage!r}")
    long_enough = [s for s in candidates if len(s) >= min_chars] or candidates
    wanted = _words(question)
    return max(long_enough, key=lambda s: len(wanted & _words(s)))  # first max


def _title_words(title: str) -> str:
    return flatten(title.replace('"', " ").replace("'", " ").lower())


def training_pairs(
    sections, questions_per_passage: int = 2, seed: int = 0, exclude=()
):
    r"""(prompt, completion) pairs for fine-tuning the help desk's replies.

    For each section with some text, three passages: its flattened text from
    the first, second and third sentence on (so the model learns to copy
    whatever passage it is given, not one fixed reply per section). For each
    passage, ``questions_per_passage`` questions from
    :data:`QUESTION_TEMPLATES` (drawn without repeats, seeded). The prompt is
    :func:`keras_gen.helpdesk.chat.format_chat` of the passage and the question, as
    :class:`HelpDesk` builds it; the completion is ``" " + reply + "\n"``,
    the reply being :func:`best_sentence` of the passage cut to
    :data:`REPLY_CHARS`.

    Args:
        sections: :class:`keras_gen.helpdesk.sections.HelpSection` records.
        questions_per_passage: Templates used per passage.
        seed: Seed for the template draw.
        exclude: Questions never to train on (compared in lower case with
            white space collapsed): pass the held-out questions, so that a
            template that happens to write one (``"what is __slots__"``)
            does not leak it into training.

    Returns:
        A list of ``(prompt, completion)`` string pairs.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> section = HelpSection("pass", "pass", 'The "pass" statement',
        ...                       "Pass is a null operation. Nothing happens.")
        >>> prompt, completion = training_pairs([section], 1)[0]
        >>> print(prompt + completion, end="")
        Passage: Pass is a null operation. Nothing happens.
        User: can you explain the pass statement
        Assistant: Pass is a null operation.
    """
    questions_per_passage = check_int(
        "questions_per_passage", questions_per_passage,
        minimum=1, maximum=len(QUESTION_TEMPLATES),
    )
    rng = random.Random(check_seed("seed", seed))
    if isinstance(exclude, str):
        raise ValueError(
            "Expected exclude to be a collection of questions. Received: a "
            "single str; wrap it in a list."
        )
    excluded = {flatten(q).lower() for q in exclude}
    pairs = []
    for section in sections:
        parts = sentences(section.text)
        for start in range(min(3, len(parts))):
            passage = truncate_words(" ".join(parts[start:]), PASSAGE_CHARS)
            if len(passage) < 20:
                continue
            title = _title_words(section.title)
            for template in rng.sample(QUESTION_TEMPLATES, questions_per_passage):
                question = template.format(title=title)
                if question in excluded:
                    continue
                prompt = chat_prompt(question, passage)
                shown = prompt_passage(prompt)  # cut further for long questions
                reply = truncate_words(best_sentence(question, shown), REPLY_CHARS)
                pairs.append((prompt, f" {reply}\n"))
    return pairs


def chat_prompt(question: str, passage: str, history=()) -> str:
    """The prompt for ``question`` with ``passage`` and earlier turns.

    Args:
        question: The user's latest message (one line).
        passage: The retrieved text (flattened and cut to
            :data:`PASSAGE_CHARS`; further if the question is long).
        history: Earlier ``{"role": "user"|"assistant", "content": ...}``
            turns, oldest first; the latest that fit are kept.

    Returns:
        The prompt, at most ``CONTEXT_CHARS - REPLY_CHARS`` characters.

    Example:
        >>> print(chat_prompt("what is pass", "Pass does nothing."), end="|")
        Passage: Pass does nothing.
        User: what is pass
        Assistant:|
    """
    check_question_length(question)
    turns = [{"role": "passage", "content": passage}, *history,
             {"role": "user", "content": question}]
    return format_chat(
        turns, max_chars=CONTEXT_CHARS - REPLY_CHARS, passage_chars=PASSAGE_CHARS
    )


def check_question_length(question) -> None:
    """Refuse a question longer than :data:`MAX_QUESTION_CHARS`, saying why.

    Example:
        >>> check_question_length("what is pass")  # fine: returns None
        >>> check_question_length("x" * 500)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Expected a question of at most 117 characters. Received: 500...
    """
    if isinstance(question, str) and len(question.strip()) > MAX_QUESTION_CHARS:
        raise ValueError(
            f"Expected a question of at most {MAX_QUESTION_CHARS} characters. "
            f"Received: {len(question.strip()):,} characters. The model reads "
            f"{CONTEXT_CHARS} characters in all: the help text, the question and "
            f"its {REPLY_CHARS}-character reply. Ask a shorter question."
        )


def prompt_passage(prompt: str) -> str:
    r"""The passage as it stands in a prompt made by :func:`chat_prompt`.

    Example:
        >>> prompt_passage(chat_prompt("what is pass", "Pass does\nnothing."))
        'Pass does nothing.'
    """
    first = prompt.split("\n", 1)[0]
    marker = "Passage: "
    if not first.startswith(marker):
        raise ValueError(
            f"Expected a prompt that starts with {marker!r}. Received: {first!r}"
        )
    return first[len(marker):]


@dataclasses.dataclass(frozen=True)
class Answer:
    """One help-desk reply and how it was made.

    Attributes:
        question: The user's message.
        section_id: The id of the retrieved section.
        passage: The passage as the model saw it.
        prompt: The whole prompt.
        reply: The model's reply (cut at the end-of-turn marker), or the
            passage's best sentence where a checked desk refused it.
        source: ``"model"`` or ``"rule"`` (a checked desk's fallback).
    """

    question: str
    section_id: str
    passage: str
    prompt: str
    reply: str
    source: str = "model"


class HelpDesk:
    """Retrieve a section, answer with a GPT: the help desk's two halves.

    Args:
        model: A :class:`~keras_gen.transformer.GPT` whose context holds
            :data:`CONTEXT_CHARS` characters (the fine-tuned chat model, or
            the base GPT to compare).
        tokenizer: Its tokenizer.
        sections: The sections to answer from; default
            :func:`keras_gen.helpdesk.sections.unique_sections` (the sections
            ``benchmarks/helpdesk_retrieval.py`` scores).
        index: A :class:`~keras_gen.retrieval.HelpIndex` or
            :class:`~keras_gen.retrieval.FusedIndex` already built on the
            sections, to share between desks (then ``sections`` is ignored);
            default: build a TF-IDF one. The best retriever measured is
            :func:`keras_gen.helpdesk.retriever.shipped_index` (TF-IDF fused
            with the trained encoder), which ``keras-gen chat`` uses.
        check_replies: Check each model reply against its passage
            (:func:`keras_gen.helpdesk.chat.is_quote`); a reply that does not
            quote it is replaced by the passage sentence sharing most words
            with the question (:func:`best_sentence`), the one-line rule.
            The model writes; the check keeps only what the help text says.

    Example:
        >>> from keras_gen.helpdesk.sections import HelpSection
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("abc", byte_fallback=True)
        >>> desk = HelpDesk(build_gpt(tok.vocab_size, 256, 16, 2, 1), tok,
        ...     [HelpSection("pass", "pass", "Pass", "Pass does nothing at all."),
        ...      HelpSection("break", "break", "Break", "Break stops the loop.")])
        >>> answer = desk.answer(["how to stop a loop"])[0]
        >>> answer.section_id, answer.passage
        ('break', 'Break stops the loop.')
    """

    def __init__(self, model, tokenizer, sections=None, index=None,
                 check_replies=False):
        from keras_gen.helpdesk.sections import unique_sections
        from keras_gen.retrieval import FusedIndex, HelpIndex, TfidfEncoder

        if getattr(model, "context_length", 0) < CONTEXT_CHARS:
            raise ValueError(
                f"Expected a GPT with context_length >= {CONTEXT_CHARS}. Received:"
                f" context_length={getattr(model, 'context_length', None)}"
            )
        self.model = model
        self.tokenizer = tokenizer
        if index is None:
            sections = unique_sections() if sections is None else sections
            index = HelpIndex(sections, TfidfEncoder())
        elif not isinstance(index, (HelpIndex, FusedIndex)):
            raise ValueError(
                "Expected index to be a keras_gen.retrieval.HelpIndex or "
                f"FusedIndex. Received: {type(index).__name__}"
            )
        self.index = index
        self.by_id = {s.id: s for s in self.index.sections}
        self.check_replies = bool(check_replies)

    def retrieve(self, questions) -> list[str]:
        """The id of the closest section to each question."""
        return [ids[0] for ids in self.index.search(list(questions), k=1)]

    def passage(self, section_id: str) -> str:
        """The opening of a section's text, flattened, as put in prompts.

        A section whose body is shorter than 20 characters (a title directly
        followed by a subsection) gives its title and body instead.
        """
        section = self.by_id[section_id]
        text = section.text if len(flatten(section.text)) >= 20 else section.document
        return truncate_words(flatten(text), PASSAGE_CHARS)

    def answer(self, questions, histories=None) -> list[Answer]:
        """Answer each question (one batch), each with its own history.

        Args:
            questions: The users' latest messages.
            histories: One list of earlier user/assistant turns per question
                (default none); retrieval reads the latest message only.

        Returns:
            One :class:`Answer` per question.
        """
        from keras_gen.finetune import greedy_complete

        questions = list(questions)
        if not questions or not all(isinstance(q, str) and q.strip()
                                    for q in questions):
            raise ValueError(
                "Expected a non-empty list of non-empty questions. Received: "
                f"{questions!r}"
            )
        for question in questions:  # before retrieval reads a megabyte
            check_question_length(question)
        histories = [()] * len(questions) if histories is None else list(histories)
        if len(histories) != len(questions):
            raise ValueError(
                f"Expected one history per question. Received: {len(histories)} "
                f"histories for {len(questions)} questions."
            )
        ids = self.retrieve(questions)
        prompts = [
            chat_prompt(q.strip(), self.passage(i), h)
            for q, i, h in zip(questions, ids, histories, strict=True)
        ]
        encoded = [self.tokenizer.encode(p) for p in prompts]
        longest = max(len(e) for e in encoded) + REPLY_CHARS
        if longest > self.model.context_length:
            raise ValueError(
                f"Expected prompt + {REPLY_CHARS} reply tokens <= context_length="
                f"{self.model.context_length}. Received: {longest} tokens (characters"
                " outside the tokenizer's alphabet take several). Shorten the "
                "question."
            )
        # The one greedy completion (one batch, key/value cache), without a
        # progress bar; parse_reply finds where the reply ends.
        continuations = greedy_complete(self.model, self.tokenizer, prompts,
                                        REPLY_CHARS, stop=None, verbose=False)
        answers = [
            Answer(q.strip(), i, prompt_passage(p), p, parse_reply(c))
            for q, i, p, c in zip(questions, ids, prompts, continuations, strict=True)
        ]
        return [self.check(a) for a in answers] if self.check_replies else answers

    def check(self, answer: Answer) -> Answer:
        """``answer`` if its reply quotes its passage, else the rule's sentence.

        Example:
            >>> a = Answer("how to stop a loop", "break", "Break stops the loop "
            ...            "at once. It is a statement.", "", "no idea")
            >>> HelpDesk.check(None, a).reply, HelpDesk.check(None, a).source
            ('Break stops the loop at once.', 'rule')
        """
        from keras_gen.helpdesk.chat import is_quote

        if is_quote(answer.reply, answer.passage):
            return answer
        rule = truncate_words(best_sentence(answer.question, answer.passage),
                              REPLY_CHARS)
        return dataclasses.replace(answer, reply=rule, source="rule")

    def converse(self, messages) -> list[Answer]:
        """A multi-turn exchange: answer each message with the ones before it.

        Each message is answered with its own retrieved passage and the
        earlier messages and replies as history (the latest that fit the
        context window; an empty reply is kept as ``"..."``).

        Args:
            messages: The user's messages, in order.

        Returns:
            One :class:`Answer` per message.
        """
        history, answers = [], []
        for message in messages:
            answer = self.answer([message], [list(history)])[0]
            history += [{"role": "user", "content": answer.question},
                        {"role": "assistant", "content": answer.reply or "..."}]
            answers.append(answer)
        return answers


def evaluate_helpdesk(desk: HelpDesk, questions, min_coverage=0.8, min_chars=20):
    """Answer labelled questions and measure retrieval, quoting and grounding.

    Args:
        desk: A :class:`HelpDesk`.
        questions: :class:`keras_gen.helpdesk.sections.HelpQuestion` records.
        min_coverage: Passed to :func:`keras_gen.helpdesk.chat.is_quote`.
        min_chars: Passed to :func:`keras_gen.helpdesk.chat.is_quote`.

    Returns:
        ``(metrics, answers)``: ``metrics`` has ``"n"``, ``"retrieval_top1"``
        (the retrieved section answers the question, labels mapped to their
        kept copy as in :func:`keras_gen.retrieval.evaluate_retrieval`),
        ``"quote_rate"`` (the reply quotes the passage) and ``"grounded"``
        (both: a quote of the right section); ``answers`` the
        :class:`Answer` list.
    """
    from keras_gen.helpdesk.chat import is_quote
    from keras_gen.helpdesk.sections import canonical_ids, load_help_sections

    questions = list(questions)
    if not questions or not all(hasattr(q, "answer_ids") for q in questions):
        raise ValueError(
            "Expected a non-empty list of keras_gen.helpdesk.sections.HelpQuestion. "
            f"Received: {len(questions)} items"
        )
    canonical = canonical_ids(load_help_sections())
    answers = desk.answer([q.question for q in questions])
    right = [
        canonical.get(a.section_id, a.section_id)
        in {canonical[i] for i in q.answer_ids}
        for q, a in zip(questions, answers, strict=True)
    ]
    quoted = [is_quote(a.reply, a.passage, min_coverage, min_chars) for a in answers]
    n = len(questions)
    metrics = {
        "n": n,
        "retrieval_top1": sum(right) / n,
        "quote_rate": sum(quoted) / n,
        "grounded": sum(r and q for r, q in zip(right, quoted, strict=True)) / n,
    }
    return metrics, answers
