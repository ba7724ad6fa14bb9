"""keras_gen.text_to_image.wishes: the request table, the pairs, the scores."""

import keras
import numpy as np
import pytest

from keras_gen.text_to_image import captions, wishes
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt


def test_intent_table_is_consistent():
    names = [intent.name for intent in wishes.INTENTS]
    assert len(set(names)) == len(names)
    requests = [r for intent in wishes.INTENTS for r in intent.phrasings]
    assert len(set(requests)) == len(requests)
    topics = [t for intent in wishes.INTENTS for t in intent.topics]
    assert len(set(topics)) == len(topics)
    for intent in wishes.INTENTS:
        assert len(intent.phrasings) == 6 and len(intent.topics) == 6
        assert set(intent.classes) <= set(range(10))
        assert set(intent.tones) <= set(captions.TONES) and intent.tones
        assert set(intent.widths) <= set(captions.WIDTHS) and intent.widths


def test_requests_never_name_a_garment():
    for split in wishes.SPLITS:
        for request, _ in wishes.split_requests(split):
            assert not captions._NOUN_PATTERN.findall(request), request


def test_split_is_disjoint_and_complete():
    train = wishes.split_requests("train")
    held = wishes.split_requests("held_out")
    written = wishes.split_requests("held_out", "written")
    framed = wishes.split_requests("held_out", "framed")
    assert len(written) == 9 * 2 and len(framed) == 9 * 6 * 4
    assert sorted(held) == sorted(written + framed)
    assert len(train) + 2 == 9 * (wishes.TRAIN_PHRASINGS + 6 * wishes.TRAIN_FRAMES)
    assert not {r for r, _ in train} & {r for r, _ in held}
    assert {n for _, n in held} == {intent.name for intent in wishes.INTENTS}
    # Whole sentence frames are held out: no held-out frame trains.
    held_frames = wishes.FRAMES[wishes.TRAIN_FRAMES :]
    for request, name in train:
        for frame in held_frames:
            for topic in wishes.intent_named(name).topics:
                assert request != frame.format(topic)
    # "fit" and "validation" divide "train" and share no request.
    fit = wishes.split_requests("fit")
    validation = wishes.split_requests("validation")
    assert sorted(fit + validation) == sorted(train)
    assert not {r for r, _ in fit} & {r for r, _ in validation}
    with pytest.raises(ValueError, match="split"):
        wishes.split_requests("test")
    with pytest.raises(ValueError, match="source"):
        wishes.split_requests("train", "typed")


def test_valid_captions_are_the_union_of_the_intents():
    valid = wishes.valid_captions()
    assert len(valid) == len(set(valid))
    union = {c for i in wishes.INTENTS for c in wishes.allowed_captions(i)}
    assert set(valid) == union
    # Every valid caption is right for at least one intent, and no other is.
    for text in valid:
        assert any(
            wishes.score_captions([text], [i.name])["all_ok"] == 1.0
            for i in wishes.INTENTS
        )


def test_pairs_are_reproducible_and_allowed():
    pairs = wishes.make_pairs(3, seed=1)
    assert pairs == wishes.make_pairs(3, seed=1)
    assert pairs != wishes.make_pairs(3, seed=2)
    assert len(pairs) == 3 * len(wishes.split_requests("train"))
    names = [n for _, n in wishes.split_requests("train") for _ in range(3)]
    outputs = [completion.strip() for _, completion in pairs]
    assert wishes.score_captions(outputs, names)["all_ok"] == 1.0
    assert all(c.startswith(" ") and c.endswith("\n") for _, c in pairs)
    with pytest.raises(ValueError, match="per_request"):
        wishes.make_pairs(0)


def test_score_captions_on_hand_made_cases():
    outputs = [
        "a light wide sandal",  # all right
        "a dark wide sandal",  # class right, tone wrong
        "a light narrow coat",  # class wrong, attributes right
        "a sandal",  # does not parse
    ]
    score = wishes.score_captions(outputs, ["beach"] * 4)
    assert score == {
        "n": 4,
        "parses": 0.75,
        "class_ok": 0.5,
        "attributes_ok": 0.5,
        "all_ok": 0.25,
    }
    with pytest.raises(ValueError, match="as many intent names"):
        wishes.score_captions(outputs, ["beach"])
    with pytest.raises(ValueError, match="name"):
        wishes.score_captions(["a light wide sandal"], ["moon"])


def test_baseline_copies_the_nearest_request():
    pairs = wishes.make_pairs(2, seed=0)
    request = wishes.split_requests("train")[5][0]
    expected = next(c.strip() for p, c in pairs if p == wishes.prompt_for(request))
    assert wishes.nearest_request_captions(pairs, [request]) == [expected]
    with pytest.raises(ValueError, match="training pair"):
        wishes.nearest_request_captions([], [request])


def test_prompt_for_refuses_empty_requests():
    with pytest.raises(ValueError, match="non-empty request"):
        wishes.prompt_for("  ")


def test_finetune_writer_lowers_the_caption_loss():
    pairs = wishes.make_pairs(1) + wishes.make_pairs(1, "held_out")
    tokenizer = CharTokenizer.train("".join(p + c for p, c in pairs))
    keras.utils.set_random_seed(0)
    model = build_gpt(tokenizer.vocab_size, 128, 32, 2, 1)
    history, used = wishes.finetune_writer(
        model,
        tokenizer,
        20,
        per_request=2,
        learning_rate=3e-3,
        log_every=10,
        jit_compile=False,  # 20 steps: XLA's compile costs more than it saves
    )
    losses = history.history["loss"]
    assert len(used) == 2 * len(wishes.split_requests("train"))
    assert losses[-1] < losses[0]
    outputs = wishes.write_captions(model, tokenizer, ["to carry my laptop"], 8)
    assert len(outputs) == 1 and isinstance(outputs[0], str)
    assert np.isfinite(losses).all()


def test_choose_captions_answers_with_a_candidate():
    pairs = wishes.make_pairs(1) + wishes.make_pairs(1, "held_out")
    tokenizer = CharTokenizer.train("".join(p + c for p, c in pairs))
    keras.utils.set_random_seed(0)
    model = build_gpt(tokenizer.vocab_size, 128, 16, 2, 1)
    requests = [r for r, _ in wishes.split_requests("held_out")][:3]
    chosen = wishes.choose_captions(model, tokenizer, requests)
    assert len(chosen) == 3 and set(chosen) <= set(wishes.valid_captions())
    only = ["a dark wide bag"]
    assert wishes.choose_captions(model, tokenizer, requests, only) == only * 3
    # The choice is the candidate with the highest log-probability.
    from keras_gen.finetune import completion_log_probs

    two = ["a dark wide bag", "a light narrow sandal"]
    rows = [(wishes.prompt_for(requests[0]), f" {t}\n") for t in two]
    length = max(len(tokenizer.encode(p + c)) for p, c in rows)
    scores, _ = completion_log_probs(model, tokenizer, rows, length)
    best = two[int(np.argmax(scores))]
    assert wishes.choose_captions(model, tokenizer, requests[:1], two) == [best]
    with pytest.raises(ValueError, match="at least one request"):
        wishes.choose_captions(model, tokenizer, [], only)
