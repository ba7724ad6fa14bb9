"""The help desk's trained retriever: pairs, encoder, training, fusion, folder."""

from __future__ import annotations

import json
import os
import random
import sys

import keras
import numpy as np
import pytest

from keras_gen.helpdesk import pairs as pairs_module
from keras_gen.helpdesk.encoder import (
    RETRIEVER_DIR,
    SentenceEncoder,
    TrainedEncoder,
    encode_ids,
    info_nce_loss,
    load_retriever,
    save_retriever,
)
from keras_gen.helpdesk.retriever import (
    as_questions,
    choose_weight,
    fused_index,
    train_retriever,
)
from keras_gen.helpdesk.sections import (
    HelpSection,
    evaluate_retrieval,
    load_questions,
    unique_sections,
)
from keras_gen.retrieval import FusedIndex, HelpIndex, TfidfEncoder
from keras_gen.tokenizers import CharTokenizer
from keras_gen.training import Recipe
from keras_gen.transformer import build_gpt

TOOLS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools")

TOY = [
    HelpSection("break", "break", "The break statement",
                "Break leaves the loop at once. The loop ends early."),
    HelpSection("pass", "pass", "The pass statement",
                "Pass does nothing at all. It fills an empty block."),
    HelpSection("def", "def", "Function definitions",
                "A def statement defines a function. It binds the name."),
]


def _tiny(num_layers=2, trainable_blocks=None):
    tokenizer = CharTokenizer.train("abcdefghijklmnopqrstuvwxyz .ABDFP")
    gpt = build_gpt(tokenizer.vocab_size, 64, 16, 2, num_layers)
    return SentenceEncoder(gpt, 8, trainable_blocks=trainable_blocks), tokenizer


# -- the loss ----------------------------------------------------------------


def test_info_nce_is_low_for_matched_rows_and_high_for_swapped():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(4, 6)).astype("float32")
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    right = float(info_nce_loss(q, q, 20.0))
    swapped = float(info_nce_loss(q, q[::-1], 20.0))
    assert right < 0.5 < np.log(4) < swapped


def test_info_nce_is_symmetric_in_its_two_directions():
    rng = np.random.default_rng(1)
    a, b = (rng.normal(size=(5, 3)).astype("float32") for _ in range(2))
    assert np.isclose(float(info_nce_loss(a, b, 3.0)),
                      float(info_nce_loss(b, a, 3.0)), atol=1e-6)


# -- the encoder ---------------------------------------------------------------


def test_embed_is_the_masked_mean_of_the_gpt_body_projected():
    model, tokenizer = _tiny()
    ids, mask = encode_ids(tokenizer, ["a loop", "pass does nothing"], 32)
    vectors = np.asarray(model.embed(ids, mask))
    hidden = np.asarray(model.backbone.hidden_states(ids))
    pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    expected = np.array(model.projection(pooled))
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)


def test_padding_does_not_change_a_vector():
    model, tokenizer = _tiny()
    encoder = TrainedEncoder(model, tokenizer)
    alone = encoder.encode(["pass"])
    with_long = encoder.encode(["pass", "a much longer text about loops"])
    np.testing.assert_allclose(alone[0], with_long[0], atol=1e-5)


def test_frozen_blocks_are_not_trainable():
    model, _ = _tiny(num_layers=2, trainable_blocks=1)
    assert model.frozen_blocks == 1
    assert not model.backbone.embedding.trainable
    assert not model.backbone.blocks[0].trainable
    assert model.backbone.blocks[1].trainable


def test_bad_arguments_are_refused_with_what_was_received():
    model, tokenizer = _tiny()
    with pytest.raises(ValueError, match="Expected a keras_gen GPT"):
        SentenceEncoder("gpt")
    with pytest.raises(ValueError, match="trainable_blocks"):
        SentenceEncoder(model.backbone, 8, trainable_blocks=3)
    with pytest.raises(ValueError, match="SentenceEncoder"):
        TrainedEncoder(model.backbone, tokenizer)
    with pytest.raises(ValueError, match="non-empty list of strings"):
        TrainedEncoder(model, tokenizer).encode([])


def test_save_and_load_give_the_same_vectors(tmp_path):
    model, tokenizer = _tiny(trainable_blocks=1)
    folder = save_retriever(tmp_path / "r", model, tokenizer, {"fusion_weight": 0.4})
    loaded = load_retriever(folder)
    texts = ["leave a loop", "do nothing"]
    np.testing.assert_allclose(TrainedEncoder(model, tokenizer).encode(texts),
                               loaded.encode(texts), atol=1e-6)
    assert loaded.card == {"fusion_weight": 0.4}
    assert loaded.model.trainable_blocks == 1


def test_a_gpt_folder_is_not_taken_for_a_retriever():
    from keras_gen._files import FileFormatError
    from keras_gen.pretrained import DEFAULT_MODEL_DIR

    with pytest.raises(FileFormatError, match="load_pretrained"):
        load_retriever(DEFAULT_MODEL_DIR)


# -- training ----------------------------------------------------------------


def test_training_lowers_the_loss_and_keeps_frozen_weights():
    # Seeded: the weights and the batches no longer depend on what ran before in
    # this worker (CI saw the second half's loss above the first's once).
    keras.utils.set_random_seed(0)
    model, tokenizer = _tiny(num_layers=2, trainable_blocks=1)
    frozen = [w.copy() for w in model.backbone.blocks[0].get_weights()]
    top = [w.copy() for w in model.backbone.blocks[1].get_weights()]
    pairs = pairs_module.training_queries(TOY, per_section=6)
    history = train_retriever(model, tokenizer, pairs, {s.id: s.document for s in TOY},
                              steps=36, batch_size=3, log_every=18,
                              recipe=Recipe(steps=36, batch_size=3, learning_rate=3e-3,
                                            min_learning_rate=3e-3, warmup_steps=0),
                              query_chars=24, document_chars=48, jit_compile=False)
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[-1] < losses[0]
    assert all(np.array_equal(a, b) for a, b in
               zip(frozen, model.backbone.blocks[0].get_weights(), strict=True))
    assert not all(np.array_equal(a, b) for a, b in
                   zip(top, model.backbone.blocks[1].get_weights(), strict=True))


def test_training_refuses_pairs_without_a_document():
    model, tokenizer = _tiny()
    with pytest.raises(ValueError, match="ids without a document"):
        train_retriever(model, tokenizer, [("q", "nowhere")], {"a": "text"}, steps=1)


# -- the pairs -------------------------------------------------------------------


def test_training_queries_never_write_a_held_out_question():
    held_out = {" ".join(q.question.lower().split()) for q in load_questions()}
    made = pairs_module.training_queries(unique_sections(),
                                         exclude=[q.question for q in load_questions()])
    assert made and not {" ".join(q.lower().split()) for q, _ in made} & held_out


def test_dev_queries_come_from_sentences_training_never_reads():
    sections = unique_sections()
    for section in sections[:40]:
        train, dev = pairs_module.split_sentences(section)
        assert not set(train) & set(dev)
        for query, _ in pairs_module.dev_queries([section]):
            words = query.split()  # one may carry a typo
            assert sum(w in " ".join(dev) for w in words) >= len(words) - 1
    assert len(pairs_module.dev_queries(sections)) > 100


def test_pairs_are_the_same_for_the_same_seed():
    sections = unique_sections()[:10]
    assert (pairs_module.training_queries(sections, seed=3)
            == pairs_module.training_queries(sections, seed=3))
    dev = pairs_module.dev_queries
    assert dev(sections, 1) == dev(sections, 1)


def test_batches_hold_distinct_sections():
    labels = [s for s in "aabbbcdde"]
    rows = pairs_module.distinct_batches(labels, steps=20, batch_size=4, seed=0)
    assert len(rows) == 80
    for k in range(0, 80, 4):
        assert len({labels[i] for i in rows[k:k + 4]}) == 4
    with pytest.raises(ValueError, match="batch_size"):
        pairs_module.distinct_batches(labels, 1, batch_size=6)


def test_typos_change_exactly_one_word():
    rng = random.Random(0)
    for _ in range(20):
        out = pairs_module.add_typo("the while statement repeats", rng)
        changed = [a != b for a, b in zip(out.split(), "the while statement "
                                          "repeats".split(), strict=True)]
        assert sum(changed) == 1


# -- fusion ------------------------------------------------------------------------


def test_fusion_with_one_weight_ranks_as_that_index():
    chars = HelpIndex(TOY, TfidfEncoder())
    words = HelpIndex(TOY, TfidfEncoder("word"))
    questions = ["leave the loop", "an empty block", "define a function"]
    assert FusedIndex([chars, words], [1, 0]).search(questions, 3) == chars.search(
        questions, 3)
    assert FusedIndex([chars, words], [0, 2]).search(questions, 3) == words.search(
        questions, 3)


def test_fusion_refuses_other_sections_and_bad_weights():
    chars = HelpIndex(TOY, TfidfEncoder())
    with pytest.raises(ValueError, match="same sections"):
        FusedIndex([chars, HelpIndex(TOY[:2], TfidfEncoder())], [1, 1])
    with pytest.raises(ValueError, match="not all zero"):
        FusedIndex([chars], [0])
    with pytest.raises(ValueError, match="one weight per index"):
        FusedIndex([chars], [1, 1])


def test_choose_weight_prefers_the_smaller_of_tied_weights():
    model, tokenizer = _tiny()
    encoder = TrainedEncoder(model, tokenizer)
    dev = as_questions([("break leaves the loop", "break")])
    weight, scores = choose_weight(TOY, encoder, dev, weights=(0.0, 0.5))
    assert scores[0.0] == 1.0 and weight == 0.0


def test_fused_index_needs_a_weight_or_a_card():
    model, tokenizer = _tiny()
    with pytest.raises(ValueError, match="fusion_weight"):
        fused_index(TOY, TrainedEncoder(model, tokenizer))


def test_the_desk_answers_from_a_fused_index():
    from keras_gen.helpdesk.desk import HelpDesk

    tokenizer = CharTokenizer.train("abc", byte_fallback=True)
    gpt = build_gpt(tokenizer.vocab_size, 256, 16, 2, 1)
    chars = HelpIndex(TOY, TfidfEncoder())
    index = FusedIndex([chars, HelpIndex(TOY, TfidfEncoder("word"))], [0.5, 0.5])
    desk = HelpDesk(gpt, tokenizer, index=index)
    assert desk.retrieve(["how do I leave a loop early"]) == ["break"]


# -- the tool and the shipped folder -----------------------------------------------


def test_the_tool_checks_out_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(TOOLS)
    import train_helpdesk_retriever as tool

    def no_work(*args, **kwargs):
        raise AssertionError("work started before --out was checked")

    monkeypatch.setattr(tool, "load_pretrained", no_work)
    monkeypatch.setattr(tool, "load_questions", no_work)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_:
        tool.main(["--out", str(tmp_path / "taken")])
    assert exit_.value.code == 2 and "notes.txt" in capsys.readouterr().err
    sys.modules.pop("train_helpdesk_retriever", None)


needs_shipped = pytest.mark.skipif(
    not os.path.isdir(RETRIEVER_DIR),
    reason="the shipped retriever is not built (make pretrained)",
)


@needs_shipped
def test_shipped_folder_is_small_and_its_card_says_how_it_was_made():
    size = sum(os.path.getsize(os.path.join(RETRIEVER_DIR, n))
               for n in os.listdir(RETRIEVER_DIR))
    assert size <= 20 * 2**20
    with open(os.path.join(RETRIEVER_DIR, "card.json"), encoding="utf-8") as f:
        card = json.load(f)
    assert card["command"].startswith("python tools/train_helpdesk_retriever.py")
    assert card["fusion_weight_chosen_on"].startswith("development queries")
    assert len(card["scaling_curve"]) >= 3


@needs_shipped
def test_shipped_retriever_scores_what_its_card_says():
    # Re-measured: the encoder alone on the card's first check questions, and
    # the fused retriever on all held-out questions (TF-IDF's scores are cheap;
    # the encoder reads 169 sections and 238 short questions in seconds).
    encoder = load_retriever()
    card = encoder.card
    sections = unique_sections()
    questions = load_questions()
    index = fused_index(sections, encoder)
    # Its second index is HelpIndex(sections, encoder): the sections are
    # encoded once for both measurements.
    assert index.indexes[1].encoder is encoder
    alone = evaluate_retrieval(index.indexes[1], questions[: card["check_questions"]])
    assert alone["top1"] == pytest.approx(card["check_encoder_top1"], abs=1e-4)
    fused = evaluate_retrieval(index, questions)
    for k in ("top1", "top3"):
        assert fused[k] == pytest.approx(card["held_out"]["fused"][k], abs=1e-4)
    # What fusion buys on the held-out questions (the card's numbers): not a
    # better first answer, but the right section among the first three more
    # often than TF-IDF alone.
    tfidf = card["held_out"]["tfidf"]
    assert fused["top1"] >= tfidf["top1"] - 1e-4 and fused["top3"] > tfidf["top3"]
