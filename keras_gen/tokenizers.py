"""Tokenizers: characters and byte-pair encoding, learned from a corpus.

A language model reads integers, not text. A tokenizer maps text to a list of
token ids and back. Two teaching implementations:

* :class:`CharTokenizer`: one token per character seen in the corpus.
* :class:`BPETokenizer`: byte-pair encoding (Sennrich et al., 2016; the
  byte-level variant of GPT-2). It starts from the 256 possible bytes and
  learns *merges*: repeatedly, the most frequent adjacent pair of tokens in the
  corpus becomes one new token. Frequent words end up as one token, rare words
  as a few pieces, so a text needs fewer tokens than characters.

Both round-trip exactly: ``tok.decode(tok.encode(s)) == s`` for *any* string,
including characters never seen in training. The BPE tokenizer gets this for
free (every string is bytes); the character tokenizer falls back to the UTF-8
bytes of an unseen character ("byte fallback", as in SentencePiece).
"""

from __future__ import annotations

import collections
import json
import re
from collections.abc import Iterable

#: How BPE splits text into chunks before merging, so merges never cross a
#: word boundary: an optional space then letters, digits, other symbols or
#: underscores; or runs of whitespace. A simplified form of GPT-2's pattern
#: that needs only the standard ``re`` module. Every character matches one
#: of the alternatives, so joining the chunks gives the text back.
PRETOKENIZE_PATTERN = re.compile(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+| ?_+|\s+(?!\S)|\s+")


def _check_text(text, name="text") -> str:
    if not isinstance(text, str):
        raise ValueError(
            f"Expected {name} to be a str. Received: {name} of type "
            f"{type(text).__name__}"
        )
    return text


def _check_ids(ids, vocab_size: int) -> list[int]:
    ids = [int(i) for i in ids]
    bad = [i for i in ids if not 0 <= i < vocab_size]
    if bad:
        raise ValueError(
            f"Expected token ids in [0, {vocab_size}). Received: ids containing "
            f"{bad[0]}"
        )
    return ids


class Tokenizer:
    """Common interface: ``encode``, ``decode``, ``vocab_size``, JSON files."""

    kind = "base"

    @property
    def vocab_size(self) -> int:
        """Number of distinct token ids."""
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        """Map text to token ids."""
        raise NotImplementedError

    def decode(self, ids: Iterable[int]) -> str:
        """Map token ids back to text."""
        raise NotImplementedError

    def token_strings(self, ids: Iterable[int]) -> list[str]:
        """Show each token as text (for plots); partial UTF-8 shows as ``?``."""
        return [self.decode([i]).replace("\ufffd", "?") for i in ids]

    def to_dict(self) -> dict:
        """Everything needed to rebuild the tokenizer, as JSON-friendly data."""
        raise NotImplementedError

    def save(self, path: str) -> None:
        """Write the tokenizer to a JSON file (read it with :func:`load_tokenizer`)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"kind": self.kind, **self.to_dict()}, f, ensure_ascii=False)


class CharTokenizer(Tokenizer):
    """One token per character of the training corpus, with byte fallback.

    Ids ``0 .. len(chars) - 1`` are the corpus characters in sorted order. With
    ``byte_fallback=True`` 256 more ids stand for raw bytes: a character that
    was not in the corpus is encoded as its UTF-8 bytes, so decoding gives it
    back exactly.

    Args:
        chars: The vocabulary characters (each once).
        byte_fallback: Add 256 byte tokens for unseen characters. Without it,
            encoding an unseen character raises ``ValueError``.

    Example:
        >>> tok = CharTokenizer.train("hello world")
        >>> tok.encode("hello")
        [3, 2, 4, 4, 5]
        >>> tok.decode(tok.encode("hello, Zoë!"))
        'hello, Zoë!'
    """

    kind = "char"

    def __init__(self, chars: str, byte_fallback: bool = True):
        chars = _check_text(chars, "chars")
        if not chars or len(set(chars)) != len(chars):
            raise ValueError(
                "Expected chars to be a non-empty string of distinct characters. "
                f"Received: chars={chars[:40]!r}"
            )
        self.chars = chars
        self.byte_fallback = bool(byte_fallback)
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def train(cls, text: str, byte_fallback: bool = True) -> CharTokenizer:
        """Build the vocabulary from the distinct characters of ``text``."""
        text = _check_text(text)
        if not text:
            raise ValueError("Expected a non-empty training text. Received: text=''")
        return cls("".join(sorted(set(text))), byte_fallback=byte_fallback)

    @property
    def vocab_size(self) -> int:  # noqa: D102
        return len(self.chars) + (256 if self.byte_fallback else 0)

    def encode(self, text: str) -> list[int]:  # noqa: D102
        text = _check_text(text)
        ids = []
        for ch in text:
            i = self._index.get(ch)
            if i is not None:
                ids.append(i)
            elif self.byte_fallback:
                ids.extend(len(self.chars) + b for b in ch.encode("utf-8"))
            else:
                raise ValueError(
                    f"Expected only characters from the vocabulary. Received: "
                    f"{ch!r}, which was not in the training text. Use "
                    "byte_fallback=True to encode any character."
                )
        return ids

    def decode(self, ids: Iterable[int]) -> str:  # noqa: D102
        ids = _check_ids(ids, self.vocab_size)
        n = len(self.chars)
        out, pending = [], bytearray()
        for i in ids:
            if i >= n:
                pending.append(i - n)
                continue
            if pending:
                out.append(pending.decode("utf-8", errors="replace"))
                pending.clear()
            out.append(self.chars[i])
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def to_dict(self) -> dict:  # noqa: D102
        return {"chars": self.chars, "byte_fallback": self.byte_fallback}


def _count_pairs(words: dict[tuple[int, ...], int]) -> collections.Counter:
    counts = collections.Counter()
    for word, freq in words.items():
        for pair in zip(word, word[1:], strict=False):
            counts[pair] += freq
    return counts


def _merge(word: tuple[int, ...], pair: tuple[int, int], new_id: int):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


class BPETokenizer(Tokenizer):
    """Byte-level byte-pair encoding with merges learned from a corpus.

    Ids ``0..255`` are single bytes; id ``256 + k`` is the ``k``-th learned
    merge of two earlier tokens. Encoding splits the text into chunks with
    :data:`PRETOKENIZE_PATTERN`, turns each chunk into bytes and applies the
    merges in the order they were learned.

    Args:
        merges: Ordered list of ``(left_id, right_id)`` pairs.

    Example:
        >>> tok = BPETokenizer.train("aaabdaaabac", vocab_size=259)
        >>> tok.merges  # aa -> 256, ab -> 257, (aa)(ab) -> 258
        [(97, 97), (97, 98), (256, 257)]
        >>> tok.encode("aaabdaaabac")
        [258, 100, 258, 97, 99]
        >>> tok.decode(tok.encode("naïve ✓"))
        'naïve ✓'
    """

    kind = "bpe"

    def __init__(self, merges: Iterable[tuple[int, int]] = ()):
        self.merges = []
        self.ranks = {}
        self.vocab = [bytes([b]) for b in range(256)]
        for pair in merges:
            if (
                not isinstance(pair, (tuple, list))
                or len(pair) != 2
                or not all(0 <= int(p) < len(self.vocab) for p in pair)
            ):
                raise ValueError(
                    "Expected each merge to be a pair of existing token ids "
                    f"(< {len(self.vocab)}). Received: {pair!r}"
                )
            pair = (int(pair[0]), int(pair[1]))
            self.ranks[pair] = len(self.merges)
            self.merges.append(pair)
            self.vocab.append(self.vocab[pair[0]] + self.vocab[pair[1]])
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, text: str, vocab_size: int, verbose: bool = False) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text``.

        Each round counts every adjacent pair of tokens inside each chunk
        (weighted by how often the chunk occurs), merges the most frequent pair
        everywhere and records it. Ties go to the pair with the smaller ids, so
        training is deterministic.

        Args:
            text: Training corpus.
            vocab_size: Final vocabulary size, at least 256. Training stops
                early if no pair occurs twice.
            verbose: Print each merge.

        Returns:
            The trained tokenizer.
        """
        text = _check_text(text)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int):
            raise ValueError(
                f"Expected vocab_size to be an int >= 256. Received: {vocab_size!r}"
            )
        if vocab_size < 256:
            raise ValueError(
                "Expected vocab_size >= 256 (the 256 byte tokens come first). "
                f"Received: vocab_size={vocab_size}"
            )
        if not text:
            raise ValueError("Expected a non-empty training text. Received: text=''")
        chunks = collections.Counter(PRETOKENIZE_PATTERN.findall(text))
        words = {tuple(c.encode("utf-8")): f for c, f in chunks.items()}
        merges, vocab = [], [bytes([b]) for b in range(256)]
        for new_id in range(256, vocab_size):
            counts = _count_pairs(words)
            if not counts:
                break
            best_count = max(counts.values())
            if best_count < 2:
                break
            pair = min(p for p, c in counts.items() if c == best_count)
            words = {
                (_merge(w, pair, new_id) if pair[0] in w else w): f
                for w, f in words.items()
            }
            merges.append(pair)
            vocab.append(vocab[pair[0]] + vocab[pair[1]])
            if verbose:
                shown = vocab[new_id].decode("utf-8", errors="replace")
                print(f"merge {new_id - 256}: {pair} -> {new_id} {shown!r}")
        return cls(merges)

    @property
    def vocab_size(self) -> int:  # noqa: D102
        return len(self.vocab)

    def _encode_chunk(self, chunk: str) -> list[int]:
        ids = list(chunk.encode("utf-8"))
        while len(ids) >= 2:
            # Apply the earliest-learned merge present, as in training.
            pairs = zip(ids, ids[1:], strict=False)
            pair = min(pairs, key=lambda p: self.ranks.get(p, 1 << 30))
            if pair not in self.ranks:
                break
            ids = list(_merge(tuple(ids), pair, 256 + self.ranks[pair]))
        return ids

    def encode(self, text: str) -> list[int]:  # noqa: D102
        text = _check_text(text)
        ids = []
        for chunk in PRETOKENIZE_PATTERN.findall(text):
            cached = self._cache.get(chunk)
            if cached is None:
                cached = self._encode_chunk(chunk)
                if len(self._cache) < 100_000:
                    self._cache[chunk] = cached
            ids.extend(cached)
        return ids

    def decode(self, ids: Iterable[int]) -> str:  # noqa: D102
        ids = _check_ids(ids, self.vocab_size)
        # Concatenate bytes first: one character may span several tokens.
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def to_dict(self) -> dict:  # noqa: D102
        return {"merges": [list(p) for p in self.merges]}


def load_tokenizer(path: str) -> Tokenizer:
    """Read a tokenizer written by ``Tokenizer.save``.

    Args:
        path: JSON file path.

    Returns:
        A :class:`CharTokenizer` or :class:`BPETokenizer`.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tok.json")
        >>> CharTokenizer.train("abc").save(path)
        >>> load_tokenizer(path).encode("cab")
        [2, 0, 1]
    """
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    kind = data.pop("kind", None) if isinstance(data, dict) else None
    if kind == "char":
        return CharTokenizer(**data)
    if kind == "bpe":
        return BPETokenizer([tuple(p) for p in data["merges"]])
    raise ValueError(
        "Expected a tokenizer file with kind 'char' or 'bpe'. "
        f"Received: kind={kind!r} in {path!r}"
    )
