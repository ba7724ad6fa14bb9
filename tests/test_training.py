import math
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import numpy as np
import pytest

from keras_gen.text import make_next_token_dataset
from keras_gen.tokenizers import BPETokenizer, CharTokenizer
from keras_gen.training import (
    Perplexity,
    Recipe,
    SampleText,
    bits_per_character,
    checkpoint_callback,
    chunk_count,
    compile_for_pretraining,
    evaluate_loss,
    fit_steps,
    make_optimizer,
    next_token_loss,
    tokens_per_character,
    warmup_cosine,
)
from keras_gen.transformer import build_gpt

TEXT = "the quick brown fox jumps over the lazy dog. " * 4


def test_loss_is_in_nats_and_bits_per_character():
    loss = next_token_loss()
    uniform = np.zeros((1, 3, 4), "float32")  # 4 equally likely tokens
    assert float(loss(np.zeros((1, 3)), uniform)) == pytest.approx(math.log(4))
    assert bits_per_character(math.log(4)) == pytest.approx(2.0)
    # BPE: 2 bits per token at 0.5 tokens per character = 1 bit per character.
    assert bits_per_character(2 * math.log(2), 0.5) == pytest.approx(1.0)


def test_perplexity_pools_the_loss_before_exponentiating():
    metric = Perplexity()
    metric.update_state(np.zeros((1, 2)), np.zeros((1, 2, 4), "float32"))
    assert float(metric.result()) == pytest.approx(4.0, rel=1e-5)
    sure = np.array([[[10.0, 0, 0, 0]]], "float32")
    metric.update_state(np.zeros((1, 1)), sure)
    nll_sure = -np.log(np.exp(10) / (np.exp(10) + 3))
    expected = math.exp((2 * math.log(4) + nll_sure) / 3)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    metric.reset_state()
    assert float(metric.result()) == pytest.approx(1.0)
    assert Perplexity.from_config(metric.get_config()).name == "perplexity"


def test_perplexity_weighs_tokens_by_sample_weight():
    logits = np.log(np.array([[[0.5, 0.5], [0.25, 0.75]]], "float32"))  # (1, 2, 2)
    targets = np.ones((1, 2))
    metric = Perplexity()
    metric.update_state(targets, logits, sample_weight=np.array([[0.0, 1.0]]))
    assert float(metric.result()) == pytest.approx(1 / 0.75, rel=1e-5)
    metric.reset_state()  # per-row weights broadcast over the row's tokens
    metric.update_state(np.ones((2, 2)), np.concatenate([logits, logits]),
                        sample_weight=np.array([1.0, 0.0]))  # fmt: skip
    assert float(metric.result()) == pytest.approx(math.sqrt(2 / 0.75), rel=1e-5)


def test_warmup_then_cosine():
    schedule = warmup_cosine(
        1e-3, total_steps=2000, warmup_steps=100, min_learning_rate=1e-4
    )
    lr = [float(schedule(s)) for s in (0, 50, 100, 1050, 2000, 3000)]
    assert lr[0] == pytest.approx(0.0)
    assert lr[1] == pytest.approx(5e-4)
    assert lr[2] == pytest.approx(1e-3)
    assert lr[3] == pytest.approx(5.5e-4, rel=1e-3)  # half-way down the cosine
    assert lr[4] == pytest.approx(1e-4) and lr[5] == pytest.approx(1e-4)


def test_optimizer_recipe():
    opt = make_optimizer(total_steps=200, warmup_steps=10)
    assert isinstance(opt, keras.optimizers.AdamW)
    assert opt.global_clipnorm == 1.0 and opt.beta_2 == 0.99
    assert opt.weight_decay == pytest.approx(0.1)
    model = build_gpt(11, 8, 16, 2, 1)
    decayed = {v.name for v in model.trainable_variables if opt._use_weight_decay(v)}
    assert decayed == {"embeddings", "kernel"}


def test_xla_is_the_default_and_trains():
    # The one XLA compile of a GPT's train step in the tests (the notebooks'
    # full runs and the tools train under this default).
    keras.utils.set_random_seed(0)
    model = compile_for_pretraining(
        build_gpt(5, 8, 16, 2, 1), make_optimizer(1e-2, 4, 1, 1e-3)
    )
    assert model.jit_compile is True
    ids = np.random.default_rng(0).integers(0, 5, (8, 9))
    history = model.fit(ids[:, :-1], ids[:, 1:], batch_size=4, epochs=2, verbose=0)
    loss = history.history["loss"]
    assert int(model.optimizer.iterations) == 4
    assert all(math.isfinite(x) for x in loss) and loss[1] < loss[0]


def test_tiny_model_overfits_a_short_text():
    # Proof that training works end to end: loss falls to near zero (about
    # 0.05 after 150 steps with seeds 0, 1 and 2). Without XLA: compiling
    # costs more than these 150 steps (test_xla_is_the_default_and_trains).
    keras.utils.set_random_seed(0)
    tok = CharTokenizer.train(TEXT, byte_fallback=False)
    ids = tok.encode(TEXT)
    model = build_gpt(tok.vocab_size, 16, 32, 2, 1)
    compile_for_pretraining(
        model,
        make_optimizer(
            1e-2,
            total_steps=150,
            warmup_steps=10,
            min_learning_rate=1e-3,
            weight_decay=0.0,
        ),
        jit_compile=False,
    )
    ds = make_next_token_dataset(ids, 16, 16, repeat=True, seed=0)
    in_order = make_next_token_dataset(ids, 16, 16, shuffle=False)
    start = evaluate_loss(model, in_order, None)
    history = model.fit(ds, steps_per_epoch=150, epochs=1, verbose=0)
    end = evaluate_loss(model, in_order, None)
    assert start > 2.5  # about ln(vocab) for random weights
    assert end < 0.1, history.history
    # The memorised text comes back greedily after the first 16 characters.
    prompt = ids[:16]
    out = model.generate(prompt, 30, do_sample=False)
    assert tok.decode(out) == TEXT[:46]


def test_training_is_reproducible():
    def run():
        keras.utils.set_random_seed(0)
        ids = CharTokenizer.train(TEXT).encode(TEXT)
        model = compile_for_pretraining(
            build_gpt(300, 8, 16, 2, 1),
            make_optimizer(total_steps=20, warmup_steps=2),
            jit_compile=False,
        )
        model.run_eagerly = True  # 5 steps: quicker than tracing the step
        return model.fit(
            make_next_token_dataset(ids, 8, 4, repeat=True, seed=3),
            steps_per_epoch=5,
            epochs=1,
            verbose=0,
        ).history["loss"]

    assert run() == run()


def test_sample_callback_and_checkpoints(tmp_path):
    keras.utils.set_random_seed(0)
    tok = CharTokenizer.train(TEXT)
    ids = tok.encode(TEXT)
    model = compile_for_pretraining(
        build_gpt(tok.vocab_size, 8, 16, 2, 1),
        make_optimizer(total_steps=20, warmup_steps=2),
        jit_compile=False,
    )
    model.run_eagerly = True  # 10 steps: quicker than tracing the step
    sampler = SampleText(tok, "the ", every=4, max_new_tokens=5, verbose=False)
    ckpt = checkpoint_callback(str(tmp_path))
    model.fit(
        make_next_token_dataset(ids, 8, 4, repeat=True),
        steps_per_epoch=5,
        epochs=2,
        verbose=0,
        callbacks=[sampler, ckpt],
    )
    assert sorted(sampler.samples) == [0, 4, 8]
    assert all(s.startswith("the ") and len(s) == 9 for s in sampler.samples.values())
    files = sorted(os.listdir(tmp_path))
    assert files == ["gpt_epoch_001.keras", "gpt_epoch_002.keras"]
    loaded = keras.models.load_model(str(tmp_path / files[-1]))
    x = np.array([ids[:8]])
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )


def test_tokens_per_character():
    bpe = BPETokenizer.train(TEXT, vocab_size=280)
    ratio = tokens_per_character(bpe, TEXT)
    assert 0 < ratio < 0.5
    assert tokens_per_character(CharTokenizer.train(TEXT), TEXT) == 1.0


def test_errors():
    with pytest.raises(ValueError, match="Expected a finite loss >= 0"):
        bits_per_character(float("nan"))
    with pytest.raises(ValueError, match="Expected tokens_per_character > 0"):
        bits_per_character(1.0, 0)
    with pytest.raises(ValueError, match="Expected 0 <= warmup_steps < total_steps"):
        warmup_cosine(total_steps=100, warmup_steps=100)
    with pytest.raises(ValueError, match="min_learning_rate <= learning_rate"):
        warmup_cosine(1e-4, min_learning_rate=1e-3)
    with pytest.raises(ValueError, match="Expected every >= 1"):
        SampleText(CharTokenizer.train("ab"), "a", every=0)
    with pytest.raises(ValueError, match="non-empty prompt"):
        SampleText(CharTokenizer.train("ab"), "")
    with pytest.raises(ValueError, match="non-empty text"):
        tokens_per_character(CharTokenizer.train("ab"), "")


def _linear_model(steps_per_execution=1):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=steps_per_execution)
    return model


def _repeated_batches():
    import tensorflow as tf

    x = np.arange(40, dtype="float32").reshape(20, 2)
    return tf.data.Dataset.from_tensor_slices((x, x[:, :1])).repeat().batch(4)


class _Chunks(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.sizes, self.epochs = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.sizes.append(0)
        self.epochs.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.sizes[-1] = batch + 1


@pytest.mark.parametrize(
    ("steps", "chunk", "sizes"),
    [
        (12, 4, [4, 4, 4]),
        (10, 4, [4, 4, 2]),  # 4 does not divide 10: the last chunk is shorter
        (7, 3, [3, 3, 1]),
        (5, None, [5]),
        (3, 10, [3]),  # a chunk longer than the run is the whole run
    ],
)
def test_fit_steps_trains_exactly_the_steps_asked(steps, chunk, sizes):
    model, seen = _linear_model(), _Chunks()
    history = fit_steps(
        model, _repeated_batches(), steps, chunk, callbacks=[seen],
        validation_data=_repeated_batches().take(2),
    )
    assert int(model.optimizer.iterations) == steps
    assert seen.sizes == sizes
    assert len(history.history["loss"]) == len(history.history["val_loss"])
    chunks = chunk_count(steps, chunk or steps)
    assert len(history.history["loss"]) == len(sizes) == chunks


def test_fit_steps_resumes_after_the_chunks_already_done():
    model, seen = _linear_model(), _Chunks()
    fit_steps(model, _repeated_batches(), 10, 4, callbacks=[seen], initial_chunk=1)
    assert int(model.optimizer.iterations) == 6  # chunks 2 and 3: 4 + 2 steps
    assert seen.epochs == [1, 2] and seen.sizes == [4, 2]
    history = fit_steps(model, _repeated_batches(), 10, 4, initial_chunk=3)
    assert history.history == {} and int(model.optimizer.iterations) == 6


def test_fit_steps_with_several_steps_per_execution():
    model = _linear_model(steps_per_execution=2)
    fit_steps(model, _repeated_batches(), 10, 4)
    assert int(model.optimizer.iterations) == 10
    with pytest.raises(ValueError, match="steps_per_execution=2 to divide"):
        fit_steps(_linear_model(steps_per_execution=2), _repeated_batches(), 9, 4)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(steps=0), "Expected steps >= 1"),
        (dict(steps=5, chunk=0), "Expected chunk >= 1"),
        (dict(steps=5, chunk=2, initial_chunk=4), "initial_chunk <= 3"),
        (dict(steps=5, epochs=2), "Expected no epochs= for fit_steps"),
    ],
)
def test_fit_steps_errors(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        fit_steps(_linear_model(), _repeated_batches(), **kwargs)


def test_recipe_presets_hold_the_tools_numbers():
    shipped = Recipe.preset("pydoc-char")
    numbers = (shipped.steps, shipped.batch_size, shipped.learning_rate)
    assert numbers == (1500, 16, 2e-3)
    assert shipped.warmup_for() == 100 and shipped.warmup_for(20) == 2
    assert Recipe.preset("moses-smiles").eval_every == 250
    quick = Recipe.preset("pydoc-char", steps=20)
    optimizer = quick.optimizer()
    optimizer.iterations.assign(2)
    assert float(optimizer.learning_rate) == pytest.approx(2e-3)  # after warm-up
    optimizer.iterations.assign(20)
    assert float(optimizer.learning_rate) == pytest.approx(2e-4)


def test_recipe_fine_tuning_warm_up_is_a_tenth_and_at_least_one():
    recipe = Recipe.preset("finetune")
    assert [recipe.warmup_for(s) for s in (1, 2, 9, 300)] == [0, 1, 1, 30]
    assert recipe.final_learning_rate == pytest.approx(recipe.learning_rate / 10)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Recipe.preset("huge"), "Expected name to be one of"),
        (lambda: Recipe.preset("finetune", steps=0), "Expected steps >= 1"),
        (lambda: Recipe.preset("finetune", learning_rate=0.0), "learning_rate > 0"),
        (
            lambda: Recipe.preset("pydoc-char", min_learning_rate=1.0),
            "min_learning_rate <= 0.002",
        ),
        (lambda: Recipe.preset("finetune", batch_size=0), "batch_size >= 1"),
    ],
)
def test_recipe_errors(make, fragment):
    with pytest.raises(ValueError, match=fragment):
        make()
