"""Fine-tuning helpers: task data, completion-only loss, classifier, curve."""

import os

import keras
import numpy as np
import pytest

from keras_gen import finetune as ft
from keras_gen import tasks
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

ALPHABET = "abcdefgh =#\n"


@pytest.fixture
def tok():
    return CharTokenizer.train(ALPHABET, byte_fallback=False)


@pytest.fixture
def eager():
    """Run tf.functions op by op: for a few steps of a tiny model, tracing the
    train step into a graph (seconds a model on 2 CPU cores) costs more than
    the steps themselves. The tests that train longer run in graph mode."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def tiny_gpt(vocab_size, context_length=24, seed=0):
    keras.utils.set_random_seed(seed)
    return build_gpt(vocab_size, context_length, 32, num_heads=2, num_layers=1)


# ----------------------------------------------------------------- code task


def test_code_pairs_cover_every_template_variable_and_digit():
    pairs = tasks.make_code_pairs()
    with_n = sum("{n}" in request for request, _ in tasks.CODE_TEMPLATES)
    without_n = len(tasks.CODE_TEMPLATES) - with_n
    assert len(pairs) == len(tasks.CODE_VARIABLES) * (without_n + 9 * with_n)
    assert len({p for p, _ in pairs}) == len(pairs)  # one answer per prompt
    assert ("# the mean of ys\n", "sum(ys) / len(ys)\n") in pairs
    assert all(p.startswith("# ") and p.endswith("\n") for p, _ in pairs)
    assert all(c.endswith("\n") and c.count("\n") == 1 for _, c in pairs)
    # Every expression is valid Python that computes something.
    assert all(compile(c, "<pair>", "eval") for _, c in pairs)


def test_split_pairs_is_seeded_and_disjoint():
    pairs = tasks.make_code_pairs()
    train, test = tasks.split_pairs(pairs, 50, seed=3)
    assert (train, test) == tasks.split_pairs(pairs, 50, seed=3)
    assert test != tasks.split_pairs(pairs, 50, seed=4)[1]
    assert len(test) == 50 and len(train) + len(test) == len(pairs)
    assert not set(train) & set(test)
    with pytest.raises(ValueError, match="Expected 0 < test_size"):
        tasks.split_pairs(pairs, len(pairs))


def test_weights_mark_exactly_the_completion_targets(tok):
    x, y, w = ft.prompt_completion_arrays(tok, [("# ab\n", "cd\n"), ("a=", "b\n")], 9)
    assert x.shape == y.shape == w.shape == (2, 9)
    # Row 0: "# ab\ncd\n" has 8 tokens -> 7 input/target positions.
    assert tok.decode(x[0, :7]) == "# ab\ncd" and tok.decode(y[0, :7]) == " ab\ncd\n"
    assert w[0].tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0]
    assert tok.decode(y[0][w[0] == 1]) == "cd\n"
    assert tok.decode(y[1][w[1] == 1]) == "b\n"
    assert not np.any(x[0, 7:]) and not np.any(w[1, 3:])


def test_prompt_completion_errors(tok):
    with pytest.raises(ValueError, match="at most length"):
        ft.prompt_completion_arrays(tok, [("# abcdef\n", "abcdef\n")], 8)
    with pytest.raises(ValueError, match="non-empty completion"):
        ft.prompt_completion_arrays(tok, [("a=", "")], 8)
    with pytest.raises(ValueError, match="at least one"):
        ft.prompt_completion_arrays(tok, [], 8)


def test_completion_loss_ignores_unweighted_positions():
    loss = ft.completion_loss()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, (2, 4))
    logits = rng.normal(size=(2, 4, 5))
    w = np.array([[0, 1, 1, 0], [0, 0, 1, 0]], "float32")
    changed = logits.copy()
    changed[w == 0] += rng.normal(size=(int((w == 0).sum()), 5)) * 10
    assert float(loss(y, logits, sample_weight=w)) == pytest.approx(
        float(loss(y, changed, sample_weight=w)), rel=1e-5
    )
    # The mean is over the 3 weighted tokens, not over all 8 positions.
    nll = -np.log(np.exp(logits) / np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(nll, y[..., None], -1)[..., 0]
    assert float(loss(y, logits, sample_weight=w)) == pytest.approx(
        picked[w == 1].mean(), rel=1e-5
    )


def test_finetune_lm_learns_a_mapping_and_greedy_complete_reads_it(tok):
    pairs = [("#a=", "bc\n"), ("#b=", "ca\n"), ("#c=", "ab\n"), ("#d=", "hh\n")]
    model = tiny_gpt(tok.vocab_size)
    x, y, w = ft.prompt_completion_arrays(tok, pairs, 8)
    history = ft.finetune_lm(
        model, x, y, w, steps=80, batch_size=8, learning_rate=1e-2, jit_compile=False
    )
    before = float(ft.completion_loss()(y, tiny_gpt(tok.vocab_size)(x), w))
    after = float(ft.completion_loss()(y, model(x), w))
    assert np.isfinite(history.history["loss"][0])
    assert after < 0.1 < before
    answers = ft.greedy_complete(model, tok, [p for p, _ in pairs], 6)
    assert answers == ["bc", "ca", "ab", "hh"]
    assert ft.exact_match(answers, [c for _, c in pairs]) == 1.0


def test_greedy_complete_batches_prompts_of_different_lengths(tok):
    model = tiny_gpt(tok.vocab_size, seed=1)
    prompts = ["ab", "# abc", "hg f"]
    batched = ft.greedy_complete(model, tok, prompts, 6, stop=None)
    one_by_one = [ft.greedy_complete(model, tok, [p], 6, stop=None)[0] for p in prompts]
    assert batched == one_by_one
    # Same tokens as recomputing the whole prefix for every token (no cache).
    ids = model.generate(tok.encode("hg f"), 6, do_sample=False, use_cache=False)
    assert tok.decode(ids[len("hg f") :]) == batched[2]
    assert all(len(text) == 6 for text in batched)


@pytest.mark.parametrize(
    ("steps", "log_every", "fragment"),
    [
        (10, 0, "Expected log_every >= 1"),
        (10, 11, "Expected log_every <= 10"),
        (0, None, "Expected steps >= 1"),
    ],
)
def test_finetune_lm_errors(tok, steps, log_every, fragment):
    model = tiny_gpt(tok.vocab_size)
    x, y, w = ft.prompt_completion_arrays(tok, [("#a=", "b\n")], 8)
    with pytest.raises(ValueError, match=fragment):
        ft.finetune_lm(model, x, y, w, steps=steps, log_every=log_every)


def test_finetune_lm_logs_every_log_every_steps(tok, eager):
    model = tiny_gpt(tok.vocab_size)
    x, y, w = ft.prompt_completion_arrays(tok, [("#a=", "b\n")], 8)
    history = ft.finetune_lm(
        model, x, y, w, steps=6, log_every=2, batch_size=1, jit_compile=False
    )
    assert len(history.history["loss"]) == 3
    assert int(model.optimizer.iterations) == 6


def test_finetune_lm_trains_exactly_the_steps_asked_when_log_every_does_not_divide(
    tok, eager
):
    model = tiny_gpt(tok.vocab_size)
    x, y, w = ft.prompt_completion_arrays(tok, [("#a=", "b\n")], 8)
    history = ft.finetune_lm(
        model, x, y, w, steps=7, log_every=3, batch_size=1, jit_compile=False
    )
    assert int(model.optimizer.iterations) == 7  # 3 + 3 + a last chunk of 1
    assert len(history.history["loss"]) == 3


def test_greedy_complete_errors(tok):
    model = tiny_gpt(tok.vocab_size, context_length=8)
    with pytest.raises(ValueError, match="list of prompts"):
        ft.greedy_complete(model, tok, "abc")
    with pytest.raises(ValueError, match="context_length=8"):
        ft.greedy_complete(model, tok, ["abcdef"], 4)
    with pytest.raises(ValueError, match="non-empty prompts"):
        ft.greedy_complete(model, tok, [""], 2)


def test_greedy_complete_verbose_shows_or_hides_the_progress_bar(tok, capsys):
    model = tiny_gpt(tok.vocab_size, context_length=8)
    quiet = ft.greedy_complete(model, tok, ["ab"], 3, stop=None, verbose=False)
    assert "3/3" not in capsys.readouterr().out
    loud = ft.greedy_complete(model, tok, ["ab"], 3, stop=None, verbose=True)
    assert "3/3" in capsys.readouterr().out
    assert quiet == loud
    with pytest.raises(ValueError, match="verbose"):
        ft.greedy_complete(model, tok, ["ab"], 3, verbose="yes")


def test_exact_match():
    assert ft.exact_match(["a", " b"], ["a\n", "b"]) == 1.0
    assert ft.exact_match(["a", "c"], ["a\n", "b"]) == 0.5
    with pytest.raises(ValueError, match="as many predictions"):
        ft.exact_match(["a"], ["a", "b"])


# ------------------------------------------------------ classification data


def test_shipped_docstring_topics():
    texts, labels, classes = tasks.load_docstring_topics()
    assert classes == ["maths", "files", "network", "concurrency"]
    counts = np.bincount(labels, minlength=4)
    assert counts.min() >= 240 and counts.sum() == len(texts)
    assert len(set(texts)) == len(texts)  # each sentence under one topic only
    assert all(24 <= len(t) <= 150 and "\t" not in t for t in texts)
    i = texts.index("Return the square root of x.")
    assert classes[labels[i]] == "maths"


def test_docstring_topics_regenerate_from_the_stdlib():
    rows = tasks.docstring_topics_from_stdlib()
    shipped = set(tasks.load_docstring_topics()[0])
    assert {topic for topic, _, _ in rows} == set(tasks.DOCSTRING_TOPICS)
    regenerated = {text for _, _, text in rows}
    # Identical on the Python the file was made with; close on others.
    assert len(regenerated & shipped) > 0.8 * len(shipped)


def test_load_docstring_topics_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_task_data.py"):
        tasks.load_docstring_topics(os.path.join(tmp_path, "nope.tsv"))


def test_few_shot_split_is_balanced_nested_and_disjoint():
    labels = np.repeat(np.arange(3), 20)
    small, test = tasks.few_shot_split(labels, 2, 5, seed=0)
    large, test_again = tasks.few_shot_split(labels, 6, 5, seed=0)
    assert np.array_equal(test, test_again)  # same test set for every size
    assert np.array_equal(large[:6], small)  # smaller set = start of larger
    assert np.bincount(labels[large[:9]]).tolist() == [3, 3, 3]
    assert not set(large) & set(test) and len(test) == 15
    with pytest.raises(ValueError, match="at least per_class_train"):
        tasks.few_shot_split(labels, 18, 5)


def test_encode_texts_truncates_and_masks(tok):
    batch = ft.encode_texts(tok, ["ab", "abcdefgh"], 5)
    assert batch["token_ids"].shape == batch["padding_mask"].shape == (2, 5)
    assert batch["padding_mask"].tolist() == [[1, 1, 0, 0, 0], [1] * 5]
    assert tok.decode(batch["token_ids"][1]) == "abcde"  # keeps the start
    with pytest.raises(ValueError, match="list of texts"):
        ft.encode_texts(tok, "ab", 5)


# ---------------------------------------------------------------- classifier


def test_classifier_ignores_padding_and_pools_the_pretrained_body(tok):
    body = tiny_gpt(tok.vocab_size)
    clf = ft.GPTClassifier(body, num_classes=3, dropout=0.0)
    short = ft.encode_texts(tok, ["abc de", "h"], 8)
    long = ft.encode_texts(tok, ["abc de", "h"], 20)
    out = keras.ops.convert_to_numpy(clf(short))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out, clf(long), atol=1e-5)
    # The pooled features are the mean of the GPT's final-norm vectors.
    ids = np.array([tok.encode("abc de")])
    x = body.embedding(ids)
    for block in body.blocks:
        x = block(x)
    expected = keras.ops.convert_to_numpy(body.final_norm(x)).mean(1)
    np.testing.assert_allclose(clf.features(short)[:1], expected, atol=1e-5)
    assert clf.count_params() == body.count_params() + 32 * 3 + 3


def test_classifier_saves_and_loads(tmp_path, tok):
    clf = ft.GPTClassifier(tiny_gpt(tok.vocab_size), num_classes=4, dropout=0.2)
    batch = ft.encode_texts(tok, ["abc", "hgf e"], 10)
    path = os.path.join(tmp_path, "clf.keras")
    clf.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, ft.GPTClassifier) and loaded.num_classes == 4
    assert loaded.dropout == 0.2
    np.testing.assert_allclose(loaded(batch), clf(batch), atol=1e-6)
    again = ft.GPTClassifier.from_config(clf.get_config())
    assert again.backbone.get_config() == clf.backbone.get_config()


def test_classifier_errors(tok):
    with pytest.raises(ValueError, match="keras_gen GPT"):
        ft.GPTClassifier(keras.layers.Dense(3), num_classes=2)
    with pytest.raises(ValueError, match="num_classes >= 2"):
        ft.GPTClassifier(tiny_gpt(tok.vocab_size), num_classes=1)
    with pytest.raises(ValueError, match="dropout"):
        ft.GPTClassifier(tiny_gpt(tok.vocab_size), num_classes=2, dropout=1.0)


def test_copy_backbone():
    gpt = tiny_gpt(10)
    same, fresh = ft.copy_backbone(gpt), ft.copy_backbone(gpt, pretrained=False)
    pairs = list(
        zip(gpt.get_weights(), same.get_weights(), fresh.get_weights(), strict=True)
    )
    assert all(np.array_equal(a, b) for a, b, _ in pairs)
    assert not np.allclose(pairs[0][0], pairs[0][2])  # new random embedding
    assert same.get_config() == gpt.get_config() == fresh.get_config()


def test_train_classifier_and_few_shot_curve(tok):
    rng = np.random.default_rng(0)
    # Class 0 texts use letters a-d, class 1 letters e-h: easy to separate.
    texts = ["".join(rng.choice(list("abcd" if i % 2 == 0 else "efgh"), 8))
             for i in range(40)]  # fmt: skip
    labels = np.arange(40) % 2
    inputs = ft.encode_texts(tok, texts, 8)
    backbone = tiny_gpt(tok.vocab_size)
    before = [w.copy() for w in backbone.get_weights()]
    clf = ft.GPTClassifier(ft.copy_backbone(backbone), 2)
    history = ft.finetune_classifier(
        clf, inputs, labels, steps=30, learning_rate=3e-3, jit_compile=False
    )
    assert history.history["accuracy"][-1] > 0.9
    assert np.mean(ft.predict_classes(clf, inputs) == labels) == 1.0

    test = ft.encode_texts(tok, texts[20:], 8)
    curve = ft.few_shot_curve(
        backbone, inputs, labels, test, labels[20:], sizes=(4, 20), steps=20,
        learning_rate=3e-3, jit_compile=False, verbose=False,
    )  # fmt: skip
    assert curve["sizes"] == [4, 20]
    assert len(curve["pretrained"]) == len(curve["scratch"]) == 2
    assert curve["pretrained"][-1] == 1.0
    assert curve["predictions"][("scratch", 4)].shape == (20,)
    # The backbone passed in is never trained.
    assert all(
        np.array_equal(a, b)
        for a, b in zip(before, backbone.get_weights(), strict=True)
    )
    with pytest.raises(ValueError, match="sizes up to"):
        ft.few_shot_curve(backbone, inputs, labels, test, labels[20:], sizes=(41,))


def test_completion_log_probs_match_a_direct_computation(tok):
    model = tiny_gpt(tok.vocab_size)
    pairs = [("# a b c\n", "abc = d\n"), ("# a\n", "ba = ce\n"), ("#", "h")]
    logp, counts = ft.completion_log_probs(model, tok, pairs, 24, batch_size=2)
    assert counts.tolist() == [8, 8, 1]
    for (prompt, completion), got in zip(pairs, logp, strict=True):
        ids = tok.encode(prompt + completion)
        logits = keras.ops.convert_to_numpy(model(np.array([ids[:-1]])))[0]
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        first = len(tok.encode(prompt)) - 1  # the first completion target
        want = sum(log_probs[t, ids[t + 1]] for t in range(first, len(ids) - 1))
        np.testing.assert_allclose(got, want, rtol=1e-4)


def test_completion_log_probs_errors(tok):
    model = tiny_gpt(tok.vocab_size)
    with pytest.raises(ValueError, match="wrap it in a list"):
        ft.completion_log_probs(model, tok, ("a", "b"), 8)
    with pytest.raises(ValueError, match="batch_size"):
        ft.completion_log_probs(model, tok, [("a", "b")], 8, batch_size=0)
    with pytest.raises(ValueError, match="non-empty completion"):
        ft.completion_log_probs(model, tok, [("a", "")], 8)
