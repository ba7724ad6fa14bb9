"""The exercise solutions run and say what the notebooks claim."""

import numpy as np
import pytest

from keras_gen.gan import build_generator
from solutions import nb00, nb01


@pytest.fixture
def eager():
    """Run tf.functions eagerly: a few steps of a new model cost less than
    tracing its train function (5-10 s on 2 CPU cores)."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


def test_nb00_solutions():
    assert nb00.mnist_search_places() == ["keras cache"]
    assert nb00.generator_parameters(64) == build_generator(64).count_params()
    assert nb00.generator_parameters(100) == 1_486_352
    speeds = nb00.matmul_speeds((64, 256))
    assert set(speeds) == {64, 256} and min(speeds.values()) > 0


def test_nb01_ring_needs_eight_components():
    assert nb01.ring_held_out_likelihood(8, steps=40) > nb01.ring_held_out_likelihood(
        4, steps=40
    )


def test_nb01_best_components_and_few_labels():
    assert nb01.best_components(300, ks=(1, 8), steps=30) == 8
    discriminative, generative = nb01.few_label_accuracies(20, epochs=50)
    assert 0.5 < discriminative <= 1.0 and 0.5 < generative <= 1.0


def test_nb04_solutions(eager):
    from keras_gen.text import load_corpus
    from keras_gen.tokenizers import BPETokenizer
    from solutions import nb04

    corpus = load_corpus()
    train, val = corpus[:20_000], corpus[20_000:25_000]
    ratios = nb04.compression_by_vocab(train, val, sizes=(280, 330))
    assert 1.0 < ratios[280] < ratios[330]

    tokenizer = BPETokenizer.train(train, 330)
    costs = nb04.tokens_needed(
        tokenizer,
        {"english": "The weather is nice today.", "german": "Schöne Grüße aus Köln."},
    )
    assert costs["german"] > costs["english"]

    model = nb04.model_without_positions(
        20, context_length=8, embed_dim=16, num_heads=2, num_layers=1
    )
    from keras_gen.training import compile_for_pretraining

    compile_for_pretraining(model)
    ids = np.random.default_rng(0).integers(0, 20, (16, 8)).astype("int32")
    model.fit(ids, ids, batch_size=8, epochs=1, verbose=0)
    positions = model.embedding.position_embedding
    assert not positions.trainable
    assert not np.any(positions.get_weights()[0])


def test_nb05_solutions(tmp_path):
    import math

    from keras_gen.tokenizers import BPETokenizer
    from solutions import nb05

    path = tmp_path / "mine.txt"
    path.write_text("the cat sat on the mat. " * 400, encoding="utf-8")
    _, tokenizer, loss = nb05.pretrain_on(
        str(path), steps=40, context_length=16, jit_compile=False
    )
    assert loss < math.log(tokenizer.vocab_size)

    bpe = BPETokenizer.train("abababab", 257)  # "ab" -> one token
    assert nb05.bpe_bits_per_character(math.log(2), bpe, "abab") == 0.5
