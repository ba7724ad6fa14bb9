import json
import random

import pytest

from keras_gen.text import load_corpus
from keras_gen.tokenizers import (
    PRETOKENIZE_PATTERN,
    BPETokenizer,
    CharTokenizer,
    load_tokenizer,
)

# Characters from several scripts, emoji (4-byte UTF-8), combining marks,
# whitespace variants and a lone surrogate-free control character.
ALPHABET = "ab cZ\n\t  .,_é中文😀\u0301\u00a0\x00-–'\"123"


def random_strings(n=200, seed=0):
    rng = random.Random(seed)
    for _ in range(n):
        yield "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()[:60_000]


@pytest.fixture(scope="module")
def bpe(corpus):
    return BPETokenizer.train(corpus, vocab_size=300)


def test_pretokenizer_covers_every_character():
    for s in random_strings():
        assert "".join(PRETOKENIZE_PATTERN.findall(s)) == s


def test_char_round_trip_with_byte_fallback(corpus):
    tok = CharTokenizer.train(corpus)
    for s in random_strings():
        assert tok.decode(tok.encode(s)) == s
    assert tok.vocab_size == len(set(corpus)) + 256


def test_bpe_round_trip_any_string(bpe):
    for s in random_strings():
        assert bpe.decode(bpe.encode(s)) == s


def test_bpe_round_trip_on_corpus_and_compresses(corpus, bpe):
    ids = bpe.encode(corpus[:5000])
    assert bpe.decode(ids) == corpus[:5000]
    assert len(ids) < 0.75 * 5000  # fewer tokens than characters


def test_bpe_merges_by_hand():
    # Wikipedia's example: aaabdaaabac -> aa=Z -> ZabdZabac -> ab=Y -> ZYdZYac
    # -> ZY=X -> XdXac. Pair counts: aa 4, ab 2, ... so "aa" merges first;
    # then (aa, a) and (a, b) tie at 2 and the smaller ids (97, 98) win.
    tok = BPETokenizer.train("aaabdaaabac", vocab_size=259)
    assert tok.merges == [(97, 97), (97, 98), (256, 257)]
    assert tok.vocab[256:] == [b"aa", b"ab", b"aaab"]
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.decode([258]) == "aaab"


def test_bpe_stops_when_nothing_repeats():
    tok = BPETokenizer.train("abcdef", vocab_size=300)
    assert tok.merges == [] and tok.vocab_size == 256


def test_bpe_merges_stay_inside_words():
    tok = BPETokenizer.train("ab ab ab ab", vocab_size=270)
    for token in tok.vocab[256:]:
        assert b" " not in token[1:]  # a space only ever starts a token


def test_char_golden_encoding():
    tok = CharTokenizer.train("hello world")
    assert tok.chars == " dehlorw"
    assert tok.encode("hello world") == [3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1]


def test_save_load(tmp_path, bpe, corpus):
    char = CharTokenizer.train(corpus)
    for tok in (char, bpe):
        path = str(tmp_path / f"{tok.kind}.json")
        tok.save(path)
        loaded = load_tokenizer(path)
        assert type(loaded) is type(tok)
        assert loaded.to_dict() == tok.to_dict()
        assert loaded.encode(corpus[:500]) == tok.encode(corpus[:500])


def test_token_strings(bpe):
    ids = bpe.encode("the 😀")
    assert "".join(bpe.token_strings(ids)).startswith("the")


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="Expected text to be a str"):
        CharTokenizer.train(b"bytes")
    with pytest.raises(ValueError, match="non-empty training text"):
        CharTokenizer.train("")
    with pytest.raises(ValueError, match="distinct characters"):
        CharTokenizer("aab")
    strict = CharTokenizer.train("abc", byte_fallback=False)
    with pytest.raises(ValueError, match="'z', which was not in the training text"):
        strict.encode("abz")
    with pytest.raises(ValueError, match=r"Expected token ids in \[0, 3\)"):
        strict.decode([0, 3])
    with pytest.raises(ValueError, match="Expected vocab_size >= 256"):
        BPETokenizer.train("abc", vocab_size=100)
    with pytest.raises(ValueError, match="Expected vocab_size to be an int"):
        BPETokenizer.train("abc", vocab_size=300.0)
    with pytest.raises(ValueError, match="pair of existing token ids"):
        BPETokenizer([(97, 300)])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "wordpiece"}))
    with pytest.raises(ValueError, match="kind 'char'.*'bpe'.*kind='wordpiece'"):
        load_tokenizer(str(bad))


#: SHA-256 of the JSON of the 744 merges that the original BPE trainer (which
#: recounted every pair each round) learned from the whole default corpus.
#: The incremental trainer must learn exactly the same ones.
GOLDEN_MERGES_SHA256 = (
    "c9b588120626780f0b2bd1f2f74f831d16f971e2eb42e6a50325ddbf4863f1f7"
)
GOLDEN_CORPUS_SHA256 = (
    "2a95af4ac93f5b719944030ce3769070ddf827d847cba42192afa8da989e5dc4"
)


def test_incremental_bpe_learns_the_original_merges():
    import hashlib

    text = load_corpus()
    if hashlib.sha256(text.encode()).hexdigest() != GOLDEN_CORPUS_SHA256:
        pytest.skip("another Python release ships another pydoc_data text")
    merges = BPETokenizer.train(text, vocab_size=1000).merges
    assert len(merges) == 744
    digest = hashlib.sha256(json.dumps(merges).encode()).hexdigest()
    assert digest == GOLDEN_MERGES_SHA256


def test_bpe_training_shows_progress(capsys):
    BPETokenizer.train("ab " * 50 + "abc " * 20, vocab_size=266, progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("BPE: ") for line in lines)
    assert lines[-1].startswith("BPE: ") and "merges in" in lines[-1]
    BPETokenizer.train("ab ab", vocab_size=300)  # short text: silent by default
    assert capsys.readouterr().out == ""
