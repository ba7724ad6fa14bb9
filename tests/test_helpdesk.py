"""Help topics, held-out questions and retrieval (keras_gen.helpdesk, retrieval)."""

import collections

import numpy as np
import pytest

from keras_gen.helpdesk import sections as helpdesk
from keras_gen.helpdesk.sections import (
    QUESTION_COLUMNS,
    QUESTION_KINDS,
    HelpSection,
    canonical_ids,
    evaluate_retrieval,
    load_help_sections,
    load_questions,
    split_topic,
    unique_sections,
)
from keras_gen.retrieval import (
    GPTEncoder,
    HelpIndex,
    TfidfEncoder,
    top_k_accuracy,
    untrained_copy,
)
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

TOPIC = """Loops
*****

Intro text.

Break
=====

Leaves the loop.

Break
=====

Another section with the same title.

Details
-------

Nested."""


# --------------------------------------------------------------------------
# Help topics
# --------------------------------------------------------------------------


def test_split_topic_ids_titles_and_bodies():
    sections = split_topic("loops", TOPIC)
    assert [s.id for s in sections] == [
        "loops", "loops#break", "loops#break-2", "loops#details",
    ]  # fmt: skip
    assert [s.title for s in sections] == ["Loops", "Break", "Break", "Details"]
    assert sections[1].text == "Leaves the loop."
    assert sections[3].document == "Details\n\nNested."


def test_split_topic_text_before_first_title_is_titled_by_key():
    sections = split_topic("misc", "No title here.\n\nPart\n====\n\nBody.")
    assert [(s.id, s.title, s.text) for s in sections] == [
        ("misc", "misc", "No title here."),
        ("misc#part", "Part", "Body."),
    ]


def test_an_underline_must_match_the_title_length():
    # "a = b" over "=====" is a title; "x" over "=====" is not.
    sections = split_topic("k", "Top\n***\n\nx\n=====\nmore")
    assert len(sections) == 1 and "x\n=====" in sections[0].text


def test_help_sections_are_stable_and_unique():
    first, second = load_help_sections(), load_help_sections()
    assert first == second
    ids = [s.id for s in first]
    assert len(ids) == len(set(ids))
    from pydoc_data.topics import topics

    assert {s.topic for s in first} == set(topics)
    by_id = {s.id: s for s in first}
    assert by_id["break"].title == 'The "break" statement'
    assert by_id["compound#the-match-statement"].title == 'The "match" statement'
    assert by_id["try#except-clause-2"].title == '"except*" clause'


def test_duplicates_map_to_one_kept_section():
    sections = load_help_sections()
    mapping = canonical_ids(sections)
    assert mapping["compound#the-while-statement"] == "while"
    assert mapping["else"] == mapping["if"] == "if"
    kept = unique_sections(sections)
    assert len({s.document for s in kept}) == len(kept) < len(sections)
    assert all(s.text for s in kept)
    assert {s.id for s in kept} <= set(mapping.values())


@pytest.mark.parametrize(
    "key, text",
    [("", "text"), ("k", ""), ("k", "   "), (3, "text"), ("k", None)],
)
def test_split_topic_refuses_empty_or_non_strings(key, text):
    with pytest.raises(ValueError, match="Expected (key|text) to be a non-empty"):
        split_topic(key, text)


def test_load_help_sections_refuses_bad_topics():
    with pytest.raises(ValueError, match=r"non-empty dict.*\(empty\)"):
        load_help_sections({})
    with pytest.raises(ValueError, match="Received: topics of type list"):
        load_help_sections(["break"])


def test_unique_sections_refuses_bad_min_chars():
    with pytest.raises(ValueError, match="Expected min_chars >= 0"):
        unique_sections(min_chars=-1)


# --------------------------------------------------------------------------
# Held-out questions
# --------------------------------------------------------------------------


def test_question_file_is_large_labelled_and_free_of_repeats():
    questions = load_questions()
    assert len(questions) >= 150
    kept = {s.id for s in unique_sections()}
    for q in questions:
        assert q.topic_id in kept, q
        assert q.alternative_id in kept | {""}, q
        assert q.alternative_id != q.topic_id
    texts = [" ".join(q.question.lower().split()) for q in questions]
    assert len(texts) == len(set(texts))
    kinds = collections.Counter(q.kind for q in questions)
    assert set(kinds) == set(QUESTION_KINDS) and min(kinds.values()) >= 15
    assert len({q.topic_id for q in questions}) >= 100  # spread over topics


def test_questions_do_not_copy_the_help_text():
    documents = " ".join(
        " ".join(s.document.lower().split()) for s in load_help_sections()
    )
    copied = [
        q.question for q in load_questions()
        if len(q.question) > 40 and q.question.lower() in documents
    ]  # fmt: skip
    assert copied == []


def _write(tmp_path, lines):
    path = tmp_path / "q.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADER = "\t".join(QUESTION_COLUMNS)


@pytest.mark.parametrize(
    "lines, message",
    [
        (["question\ttopic"], "start with the header"),
        ([HEADER, "stop a loop\tbreak\t"], "Expected 4 tab-separated fields"),
        ([HEADER, "stop a loop\tbrake\t\tkeyword"], "topic_id in .* Received: "
         "topic_id='brake'"),
        ([HEADER, "stop a loop\tbreak\tnope\tkeyword"], "alternative_id"),
        ([HEADER, "stop a loop\tbreak\tbreak\tkeyword"], "differ from topic_id"),
        ([HEADER, "stop a loop\tbreak\t\tslang"], "kind .* Received: kind='slang'"),
        ([HEADER, "\tbreak\t\tkeyword"], "Expected a question"),
        ([HEADER, "Stop a loop\tbreak\t\tkeyword", "stop a  loop\tbreak\t\tkeyword"],
         "repeats line 2"),
        ([HEADER], "at least one question"),
    ],
)
def test_load_questions_refuses_bad_files(tmp_path, lines, message):
    with pytest.raises(ValueError, match=message):
        load_questions(_write(tmp_path, lines))


def test_load_questions_reads_a_good_file_and_names_a_missing_one(tmp_path):
    path = _write(tmp_path, [HEADER, "stop a loop\tbreak\tcontinue\tno_keyword"])
    (question,) = load_questions(path)
    assert question.answer_ids == ("break", "continue")
    with pytest.raises(FileNotFoundError, match="git checkout data/helpdesk"):
        load_questions(tmp_path / "missing.tsv")


# --------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------

SECTIONS = [
    HelpSection("break", "break", "The break statement", "Leaves the loop."),
    HelpSection("pass", "pass", "The pass statement", "Does nothing at all."),
    HelpSection("import", "import", "The import statement", "Loads a module."),
]


def test_top_k_accuracy_on_a_hand_made_case():
    ranked = [["a", "b", "c"], ["b", "a", "c"], ["c", "b", "a"], ["c", "a", "d"]]
    answers = [{"a"}, {"a"}, {"x", "b"}, {"z"}]
    assert top_k_accuracy(ranked, answers, 1) == 0.25
    assert top_k_accuracy(ranked, answers, 2) == 0.75
    assert top_k_accuracy(ranked, answers, 3) == 0.75


def test_top_k_accuracy_refuses_bad_input():
    with pytest.raises(ValueError, match="one ranking per question"):
        top_k_accuracy([["a"]], [], 1)
    with pytest.raises(ValueError, match="at least k=2 ranked ids"):
        top_k_accuracy([["a"]], [{"a"}], 2)
    with pytest.raises(ValueError, match="Expected k >= 1"):
        top_k_accuracy([["a"]], [{"a"}], 0)


def test_tfidf_index_finds_the_right_section_despite_a_typo():
    index = HelpIndex(SECTIONS, TfidfEncoder())
    assert index.search(["brake statment", "import a modul"], k=1) == [
        ["break"], ["import"],
    ]  # fmt: skip
    scores = index.scores(["leaves the loop"])
    assert scores.shape == (1, 3) and np.argmax(scores) == 0
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1, rtol=1e-5)


def test_word_tfidf_accuracy_on_the_shipped_questions_is_golden():
    # Deterministic: same Python (same pydoc_data text), same numbers. The
    # benchmark benchmarks/helpdesk_retrieval.py prints the same 38.7%/60.9%.
    result = evaluate_retrieval(
        HelpIndex(unique_sections(), TfidfEncoder("word")), load_questions()
    )
    assert result["n"] == 238
    assert round(result["top1"] * 238) == 92
    assert round(result["top3"] * 238) == 145


def test_evaluate_retrieval_scores_a_duplicate_label_like_its_original():
    # "compound#the-while-statement" is a copy of "while": the index holds
    # only "while", and a question labelled with the copy still counts.
    sections = [s for s in unique_sections() if s.id in ("while", "break")]
    question = helpdesk.HelpQuestion(
        "while loop", "compound#the-while-statement", "", "keyword"
    )
    index = HelpIndex(sections, TfidfEncoder())
    assert evaluate_retrieval(index, [question], ks=(1,)) == {"top1": 1.0, "n": 1}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"analyzer": "bytes"}, "Expected analyzer to be one of"),
        ({"ngram_range": (4, 2)}, "Expected ngram_range to be"),
        ({"ngram_range": (0, 2)}, "Expected ngram_range\\[0\\] >= 1"),
        ({"ngram_range": 3}, "Expected ngram_range to be"),
    ],
)
def test_tfidf_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TfidfEncoder(**kwargs)


def test_encoders_refuse_bad_texts_and_use_before_fit():
    with pytest.raises(ValueError, match="never fitted. Call encoder.fit"):
        TfidfEncoder().encode(["a"])
    encoder = TfidfEncoder().fit(["some text"])
    with pytest.raises(ValueError, match=r"list of strings.*\[text\]"):
        encoder.encode("a single string")
    with pytest.raises(ValueError, match="at least one text"):
        encoder.encode([])
    with pytest.raises(ValueError, match=r"texts\[1\] of type int"):
        encoder.encode(["ok", 3])


def test_help_index_refuses_bad_sections_and_k():
    with pytest.raises(ValueError, match="at least one section"):
        HelpIndex([], TfidfEncoder())
    with pytest.raises(ValueError, match="repeated ids \\['break'\\]"):
        HelpIndex(SECTIONS + SECTIONS[:1], TfidfEncoder())
    with pytest.raises(ValueError, match="HelpSection records"):
        HelpIndex(["break"], TfidfEncoder())
    index = HelpIndex(SECTIONS, TfidfEncoder())
    with pytest.raises(ValueError, match="Expected k <= 3"):
        index.search(["loop"], k=4)
    with pytest.raises(ValueError, match="HelpQuestion"):
        evaluate_retrieval(index, ["a plain string"])


@pytest.fixture(scope="module")
def tiny_gpt():
    tokenizer = CharTokenizer.train("abcdefghijklmnopqrstuvwxyz .", byte_fallback=True)
    import keras

    keras.utils.set_random_seed(0)
    return build_gpt(tokenizer.vocab_size, 16, 16, 2, 1), tokenizer


def test_gpt_encoder_padding_and_windows_do_not_change_a_text_vector(tiny_gpt):
    model, tokenizer = tiny_gpt
    encoder = GPTEncoder(model, tokenizer, max_chars=100, batch_size=4)
    short, long = "a loop.", "the break statement leaves the loop early. " * 2
    alone = encoder.pooled([short])
    together = encoder.pooled([long, short, "x"])
    np.testing.assert_allclose(alone[0], together[1], rtol=1e-5, atol=1e-6)
    # A text longer than the context (16) is read in windows: its vector is
    # the mean over every character, i.e. the length-weighted window means.
    ids = tokenizer.encode(long[:100])
    windows = [ids[i : i + 16] for i in range(0, len(ids), 16)]
    states = [np.asarray(model.hidden_states(np.array([w]))[0]) for w in windows]
    expected = np.concatenate(states).mean(axis=0)
    np.testing.assert_allclose(together[0], expected, rtol=1e-5, atol=1e-6)


def test_gpt_encoder_centering_and_unit_length(tiny_gpt):
    model, tokenizer = tiny_gpt
    docs = ["the break statement", "the pass statement", "import a module"]
    raw = GPTEncoder(model, tokenizer).fit(docs).encode(docs)
    centred = GPTEncoder(model, tokenizer, center=True).fit(docs)
    vectors = centred.encode(docs)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, rtol=1e-5)
    pooled = centred.pooled(docs)
    direction = pooled[0] - pooled.mean(axis=0)
    np.testing.assert_allclose(vectors[0], direction / np.linalg.norm(direction),
                               rtol=1e-4, atol=1e-5)
    assert not np.allclose(raw, vectors)


def test_gpt_encoder_refuses_bad_arguments(tiny_gpt):
    model, tokenizer = tiny_gpt
    with pytest.raises(ValueError, match="Expected a keras_gen GPT"):
        GPTEncoder("model", tokenizer)
    with pytest.raises(ValueError, match="Expected max_chars >= 1"):
        GPTEncoder(model, tokenizer, max_chars=0)
    with pytest.raises(ValueError, match="Expected batch_size >= 1"):
        GPTEncoder(model, tokenizer, batch_size=0)
    with pytest.raises(ValueError, match="Expected center to be True or False"):
        GPTEncoder(model, tokenizer, center="yes")
    with pytest.raises(ValueError, match="never fitted. Call encoder.fit"):
        GPTEncoder(model, tokenizer, center=True).encode(["a"])


def test_untrained_copy_has_the_shape_not_the_weights(tiny_gpt):
    model, _ = tiny_gpt
    first, second = untrained_copy(model, seed=1), untrained_copy(model, seed=1)
    assert first.get_config() == model.get_config()
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # same seed, same weights
    other = untrained_copy(model, seed=2)
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])
    with pytest.raises(ValueError, match="Expected seed >= 0"):
        untrained_copy(model, seed=-1)
    with pytest.raises(ValueError, match="Expected a keras_gen GPT"):
        untrained_copy("model")
