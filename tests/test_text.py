import hashlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest

from keras_gen import text
from keras_gen.text import load_corpus, make_next_token_dataset, split_corpus


def test_default_corpus_is_real_prose_and_stable():
    corpus = load_corpus()
    assert len(corpus) > 400_000
    assert "the" in corpus and "Python" in corpus
    assert load_corpus("python_docs") == corpus


def test_user_file(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("Hello, wörld!\n", encoding="utf-8")
    assert load_corpus(str(path)) == "Hello, wörld!\n"
    assert load_corpus(path) == "Hello, wörld!\n"  # PathLike works too


def test_tiny_shakespeare_loading_code_with_a_local_file(tmp_path, monkeypatch):
    # The loading code runs for real (keras.utils.get_file with a pinned
    # SHA-256), but the "download" is a local file:// URL, never the network.
    source = tmp_path / "input.txt"
    source.write_text("First Citizen:\nBefore we proceed any further...\n")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setattr(text, "TINY_SHAKESPEARE_URL", source.as_uri())
    monkeypatch.setattr(text, "TINY_SHAKESPEARE_SHA256", digest)
    cache = tmp_path / "cache"
    corpus = load_corpus("tiny_shakespeare", cache_dir=str(cache))
    assert corpus.startswith("First Citizen:")
    assert (cache / "datasets" / "tiny_shakespeare.txt").exists()
    # Cached now: loading again works even with the source gone.
    source.unlink()
    assert load_corpus("tiny_shakespeare", cache_dir=str(cache)) == corpus


def test_tiny_shakespeare_rejects_a_wrong_checksum(tmp_path, monkeypatch):
    source = tmp_path / "input.txt"
    source.write_text("not the real file")
    monkeypatch.setattr(text, "TINY_SHAKESPEARE_URL", source.as_uri())
    with pytest.raises(ValueError, match="hash"):
        load_corpus("tiny_shakespeare", cache_dir=str(tmp_path / "cache"))


def test_bad_corpora(tmp_path):
    with pytest.raises(ValueError, match="Expected one of the corpus names"):
        load_corpus("no_such_corpus")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(ValueError, match="Received an empty corpus"):
        load_corpus(str(empty))
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("café".encode("latin-1"))
    with pytest.raises(ValueError, match="Expected a UTF-8 text file.*position 3"):
        load_corpus(str(latin1))
    with pytest.raises(ValueError, match="Expected name_or_path"):
        load_corpus(42)


def test_split_by_position_has_no_leakage():
    ids = np.arange(1000)
    train, val = split_corpus(ids, 0.1)
    assert len(train) == 900 and len(val) == 100
    assert train[-1] + 1 == val[0]  # contiguous, validation comes after
    assert split_corpus("abcdefghij", 0.2) == ("abcdefgh", "ij")


def test_split_errors():
    with pytest.raises(ValueError, match="Expected 0 < validation_fraction < 1"):
        split_corpus("abc", 1.0)
    with pytest.raises(ValueError, match="long enough"):
        split_corpus("a", 0.5)


def test_windows_are_next_token_pairs():
    ids = np.arange(50)
    ds = make_next_token_dataset(
        ids, context_length=8, batch_size=4, shuffle=True, seed=1
    )
    seen = set()
    for x, y in ds:
        x, y = x.numpy(), y.numpy()
        assert x.shape == (4, 8) and y.shape == (4, 8)
        np.testing.assert_array_equal(y, x + 1)  # target = input shifted by one
        np.testing.assert_array_equal(x, x[:, :1] + np.arange(8))
        seen.update(x[:, 0].tolist())
    assert len(seen) == 40  # 42 windows, the last partial batch dropped


def test_windows_are_reproducible_and_reshuffled():
    ids = np.arange(200)

    def first_starts(seed, n=3):
        ds = make_next_token_dataset(ids, 8, 4, seed=seed, repeat=True).take(n * 48)
        return [int(x[0, 0]) for x, _ in ds]

    a, b = first_starts(0), first_starts(0)
    assert a == b
    assert a != first_starts(1)
    per_pass = 48  # 192 windows / 4
    assert a[:per_pass] != a[per_pass : 2 * per_pass]


def test_validation_windows_do_not_overlap():
    ds = make_next_token_dataset(np.arange(100), 10, 3, shuffle=False, stride=10)
    starts = [int(s) for x, _ in ds for s in x[:, 0]]
    assert starts == [0, 10, 20, 30, 40, 50, 60, 70, 80]


def test_too_short_and_bad_arguments():
    with pytest.raises(ValueError, match="Expected at least 12 tokens.*Received: 5"):
        make_next_token_dataset(np.arange(5), context_length=8, batch_size=4)
    with pytest.raises(ValueError, match="Expected context_length >= 1"):
        make_next_token_dataset(np.arange(50), context_length=0, batch_size=4)
    with pytest.raises(ValueError, match="Expected batch_size to be an int"):
        make_next_token_dataset(np.arange(50), context_length=4, batch_size=2.5)
    with pytest.raises(ValueError, match="1-D"):
        make_next_token_dataset(np.zeros((4, 4)), context_length=2, batch_size=1)
