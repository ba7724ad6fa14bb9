"""Tokenizers: characters and byte-pair encoding, learned from a corpus.

A language model reads integers, not text. A tokenizer maps text to a list of
token ids and back. Two teaching implementations:

* :class:`CharTokenizer`: one token per character seen in the corpus.
* :class:`BPETokenizer`: byte-pair encoding (Sennrich et al., 2016; the
  byte-level variant of GPT-2). It starts from the 256 possible bytes and
  learns *merges*: repeatedly, the most frequent adjacent pair of tokens in the
  corpus becomes one new token. Frequent words end up as one token, rare words
  as a few pieces, so a text needs fewer tokens than characters.

Both round-trip exactly: ``tok.decode(tok.encode(s)) == s`` for *any* valid
Unicode string, including characters never seen in training. The BPE
tokenizer gets this for free (every string is bytes); the character tokenizer
falls back to the UTF-8 bytes of an unseen character ("byte fallback", as in
SentencePiece). A Python ``str`` can also hold a lone surrogate (how Python
keeps a byte that was not UTF-8, e.g. in a command-line argument); it has no
UTF-8 form, so ``encode`` refuses it and says where it is.

A tokenizer is saved as ``{"kind": ..., **tokenizer.to_dict()}``;
:func:`tokenizer_from_dict` rebuilds any registered kind from that dict (the
one way to do so: :func:`load_tokenizer`, the text-to-image model's config
and the model folders all go through it). Another tokenizer class joins with
:func:`register_tokenizer` (``keras_gen.molecules.smiles`` registers ``"smiles"``).
"""

from __future__ import annotations

import collections
import heapq
import json
import os
import re
import reprlib
import time
from collections.abc import Iterable

from keras_gen._checks import check_bool, check_int
from keras_gen._files import FileFormatError, read_json

#: How BPE splits text into chunks before merging, so merges never cross a
#: word boundary: an optional space then letters, digits, other symbols or
#: underscores; or runs of whitespace. A simplified form of GPT-2's pattern
#: that needs only the standard ``re`` module. Every character matches one
#: of the alternatives, so joining the chunks gives the text back.
PRETOKENIZE_PATTERN = re.compile(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+| ?_+|\s+(?!\S)|\s+")

#: Largest tokenizer file :func:`load_tokenizer` reads (GPT-2's 50,000 merges
#: take about 0.6 MB in this format).
MAX_TOKENIZER_FILE_BYTES = 16 * 2**20
#: Most merges a BPE tokenizer may have (GPT-4's vocabulary has about 100,000).
MAX_MERGES = 200_000
#: Longest token, in bytes. Merges can double a token's length each time, so
#: without a cap a 500-byte file could ask for gigabytes.
MAX_TOKEN_BYTES = 1024
#: Texts at least this long show BPE training progress by default.
PROGRESS_CHARS = 5_000_000


def _check_text(text, name="text") -> str:
    if not isinstance(text, str):
        raise ValueError(
            f"Expected {name} to be a str. Received: {name} of type "
            f"{type(text).__name__}"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"Expected {name} to be valid Unicode text. Received: a lone "
            f"surrogate {text[error.start]!r} at position {error.start}, which "
            "is how Python keeps a byte that was not UTF-8. Decode the input "
            "as UTF-8 (or with errors='replace') first."
        ) from None
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
    """Common interface: ``encode``, ``decode``, ``vocab_size``, JSON files.

    A subclass sets ``kind`` (its name in saved files) and ``spec_keys`` (the
    keys of its ``to_dict()``), and is registered with
    :func:`register_tokenizer` so :func:`tokenizer_from_dict` can rebuild it.
    """

    kind = "base"
    #: The keys of ``to_dict()``: what ``from_dict`` needs, besides ``kind``.
    spec_keys: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, fields: dict) -> Tokenizer:
        """Rebuild from ``to_dict()``'s fields (keys already checked)."""
        return cls(**fields)

    @classmethod
    def load(cls, path: str) -> Tokenizer:
        """Read a file written by :meth:`save`, refusing any other kind."""
        return load_tokenizer(path, kinds=(cls.kind,))

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
    spec_keys = ("chars", "byte_fallback")

    def __init__(self, chars: str, byte_fallback: bool = True):
        chars = _check_text(chars, "chars")
        if not chars or len(set(chars)) != len(chars):
            raise ValueError(
                "Expected chars to be a non-empty string of distinct characters. "
                f"Received: chars={chars[:40]!r}"
            )
        self.chars = chars
        self.byte_fallback = check_bool("byte_fallback", byte_fallback)
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def train(cls, text: str, byte_fallback: bool = True) -> CharTokenizer:
        """Build the vocabulary from the distinct characters of ``text``."""
        text = _check_text(text)
        check_bool("byte_fallback", byte_fallback)
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
    spec_keys = ("merges",)

    def __init__(self, merges: Iterable[tuple[int, int]] = ()):
        self.merges = []
        self.ranks = {}
        self.vocab = [bytes([b]) for b in range(256)]
        for pair in merges:
            if len(self.merges) >= MAX_MERGES:
                raise ValueError(
                    f"Expected at most {MAX_MERGES:,} merges. Received: more."
                )
            if (
                not isinstance(pair, (tuple, list))
                or len(pair) != 2
                or not all(
                    isinstance(p, int) and not isinstance(p, bool) for p in pair
                )
                or not all(0 <= p < len(self.vocab) for p in pair)
            ):
                raise ValueError(
                    "Expected each merge to be a pair of existing token ids "
                    f"(ints < {len(self.vocab)}). Received: merge "
                    f"{len(self.merges)} = {pair!r}"
                )
            pair = (int(pair[0]), int(pair[1]))
            length = len(self.vocab[pair[0]]) + len(self.vocab[pair[1]])
            if length > MAX_TOKEN_BYTES:
                raise ValueError(
                    f"Expected tokens of at most {MAX_TOKEN_BYTES} bytes. "
                    f"Received: merge {len(self.merges)} = {list(pair)}, which "
                    f"makes a token of {length} bytes."
                )
            self.ranks[pair] = len(self.merges)
            self.merges.append(pair)
            self.vocab.append(self.vocab[pair[0]] + self.vocab[pair[1]])
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(
        cls,
        text: str,
        vocab_size: int,
        verbose: bool = False,
        progress: bool | None = None,
    ) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text``.

        Each round merges the most frequent adjacent pair of tokens inside the
        chunks (weighted by how often each chunk occurs) everywhere, and
        records it. Ties go to the pair with the smaller ids, so training is
        deterministic.

        The pair counts are kept up to date incrementally: a merge recounts
        only the chunks that contain the merged pair, and a heap yields the
        most frequent pair. (Recounting every chunk each round gives the same
        merges but took about an hour for a 50 MB text.)

        Args:
            text: Training corpus.
            vocab_size: Final vocabulary size, from 256 to
                ``256 + MAX_MERGES``. Training stops early if no pair occurs
                twice.
            verbose: Print each merge.
            progress: Print a progress line about every 10% of the merges;
                ``None`` means "when the text has at least
                :data:`PROGRESS_CHARS` characters".

        Returns:
            The trained tokenizer.
        """
        text = _check_text(text)
        if isinstance(vocab_size, int) and not isinstance(vocab_size, bool):
            if vocab_size < 256:
                raise ValueError(
                    "Expected vocab_size >= 256 (the 256 byte tokens come first). "
                    f"Received: vocab_size={vocab_size}"
                )
        vocab_size = check_int("vocab_size", vocab_size, 256, 256 + MAX_MERGES)
        check_bool("verbose", verbose)
        if progress is None:
            progress = len(text) >= PROGRESS_CHARS
        check_bool("progress", progress)
        if not text:
            raise ValueError("Expected a non-empty training text. Received: text=''")
        start = time.perf_counter()
        chunks = collections.Counter(PRETOKENIZE_PATTERN.findall(text))
        words = [tuple(c.encode("utf-8")) for c in chunks]
        freqs = list(chunks.values())
        counts = collections.defaultdict(int)  # pair -> weighted count
        where = collections.defaultdict(set)  # pair -> indices of words with it
        for index, word in enumerate(words):
            for pair in zip(word, word[1:], strict=False):
                counts[pair] += freqs[index]
                where[pair].add(index)
        # Max-heap by count, then the smallest pair; stale entries are skipped.
        heap = [(-count, pair) for pair, count in counts.items()]
        heapq.heapify(heap)
        merges, vocab = [], [bytes([b]) for b in range(256)]
        total = vocab_size - 256
        report_every = max(1, total // 10)
        for new_id in range(256, vocab_size):
            while heap:
                count, pair = -heap[0][0], heap[0][1]
                too_long = len(vocab[pair[0]]) + len(vocab[pair[1]]) > MAX_TOKEN_BYTES
                if counts.get(pair) != count or too_long:
                    heapq.heappop(heap)
                    continue
                break
            if not heap or count < 2:
                break
            changed = collections.defaultdict(int)
            for index in where.pop(pair):
                word = words[index]
                merged = _merge(word, pair, new_id)
                if len(merged) == len(word):
                    continue  # the pair left this word in an earlier merge
                for old in zip(word, word[1:], strict=False):
                    changed[old] -= freqs[index]
                for new in zip(merged, merged[1:], strict=False):
                    changed[new] += freqs[index]
                    where[new].add(index)
                words[index] = merged
            for changed_pair, delta in changed.items():
                if delta == 0:
                    continue
                counts[changed_pair] += delta
                if counts[changed_pair] <= 0:
                    del counts[changed_pair]
                    where.pop(changed_pair, None)
                else:
                    heapq.heappush(heap, (-counts[changed_pair], changed_pair))
            merges.append(pair)
            vocab.append(vocab[pair[0]] + vocab[pair[1]])
            if verbose:
                shown = vocab[new_id].decode("utf-8", errors="replace")
                print(f"merge {new_id - 256}: {pair} -> {new_id} {shown!r}")
            done = new_id - 255
            if progress and (done % report_every == 0 or done == total):
                print(
                    f"BPE: {done:,}/{total:,} merges in "
                    f"{time.perf_counter() - start:.0f} s",
                    flush=True,
                )
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

    @classmethod
    def from_dict(cls, fields: dict) -> BPETokenizer:  # noqa: D102
        if not isinstance(fields["merges"], list):
            raise ValueError(
                "Expected merges to be a list of [left, right] pairs. Received: "
                f"{type(fields['merges']).__name__}"
            )
        return cls(fields["merges"])


#: The tokenizer classes :func:`tokenizer_from_dict` can rebuild, by kind.
TOKENIZER_KINDS: dict[str, type[Tokenizer]] = {}
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60


def register_tokenizer(cls: type[Tokenizer]) -> type[Tokenizer]:
    """Let :func:`tokenizer_from_dict` rebuild ``cls`` from its saved dict.

    ``cls`` needs a ``kind`` (its name in files), ``spec_keys`` (the keys of
    its ``to_dict()``) and, if ``cls(**fields)`` does not rebuild it, a
    ``from_dict`` classmethod. Registering the same class twice is harmless.

    Returns:
        ``cls``, so it can be used as a class decorator.

    Raises:
        ValueError: ``cls`` is not a Tokenizer subclass with a new kind and
            its ``spec_keys``.

    Example:
        >>> sorted(TOKENIZER_KINDS)[:2]
        ['bpe', 'char']
    """
    if not (isinstance(cls, type) and issubclass(cls, Tokenizer)):
        raise ValueError(
            f"Expected a subclass of keras_gen.tokenizers.Tokenizer. Received: {cls!r}"
        )
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind or kind == "base" or "kind" in (
        cls.spec_keys
    ):
        raise ValueError(
            f"Expected {cls.__name__} to set kind (a new name) and spec_keys (the "
            f"keys of to_dict(), not 'kind'). Received: kind={kind!r}, "
            f"spec_keys={cls.spec_keys!r}"
        )
    known = TOKENIZER_KINDS.get(kind)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(
            f"Expected a new tokenizer kind. Received: kind={kind!r} for "
            f"{cls.__name__}, already registered for {known.__name__}."
        )
    TOKENIZER_KINDS[kind] = cls
    return cls


register_tokenizer(CharTokenizer)
register_tokenizer(BPETokenizer)


def _either(names) -> str:
    quoted = [repr(n) for n in names]
    return " or ".join(quoted) if len(quoted) < 3 else (
        ", ".join(quoted[:-1]) + " or " + quoted[-1]
    )


def tokenizer_from_dict(spec, *, source: str | None = None, kinds=None) -> Tokenizer:
    """Rebuild a tokenizer from ``{"kind": ..., **tokenizer.to_dict()}``.

    The one way to turn a saved tokenizer back into an object: the kind must
    be registered (:data:`TOKENIZER_KINDS`), the keys exactly that kind's
    ``spec_keys`` plus ``"kind"``, and every field valid for the class.

    Args:
        spec: The dict (from a JSON file or a model's config).
        source: The file it came from, for messages; errors are then
            :class:`~keras_gen._files.FileFormatError` naming it.
        kinds: Accept only these kinds (default: every registered kind).

    Returns:
        The tokenizer.

    Raises:
        ValueError: (``FileFormatError`` with ``source``) The spec is not a
            dict, its kind is unknown, a key is missing or unknown, or a
            field is invalid; the message gives the kind, the known kinds or
            keys, and what was received.

    Example:
        >>> tokenizer_from_dict({"kind": "char", "chars": "ab", "byte_fallback": False})
        ... # doctest: +ELLIPSIS
        <keras_gen.tokenizers.CharTokenizer object at ...>
        >>> tokenizer_from_dict({"kind": "char", "chars": "ab", "colour": "red"})
        Traceback (most recent call last):
        ...
        ValueError: Expected a tokenizer spec (kind 'char') to have the keys \
['byte_fallback', 'chars', 'kind']. Received: missing ['byte_fallback'], \
unknown ['colour'].
    """
    where = f"the tokenizer file {source}" if source is not None else "a tokenizer spec"
    error_class = FileFormatError if source is not None else ValueError
    allowed = list(TOKENIZER_KINDS) if kinds is None else list(kinds)
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind not in allowed or kind not in TOKENIZER_KINDS:
        received = (
            f"kind={_SHORT.repr(kind)}"
            if isinstance(spec, dict)
            else type(spec).__name__
        )
        raise error_class(
            f"Expected {where} to be a JSON object with kind {_either(allowed)}. "
            f"Received: {received}"
        )
    cls = TOKENIZER_KINDS[kind]
    expected = {"kind", *cls.spec_keys}
    keys = set(spec)
    if keys != expected:
        raise error_class(
            f"Expected {where} (kind {kind!r}) to have the keys {sorted(expected)}. "
            f"Received: missing {sorted(expected - keys)}, unknown "
            f"{_SHORT.repr(sorted(map(str, keys - expected)))}."
        )
    try:
        return cls.from_dict({k: v for k, v in spec.items() if k != "kind"})
    except (ValueError, TypeError) as error:
        raise error_class(f"{where[0].upper()}{where[1:]} is not valid: {error}") from (
            error
        )


def load_tokenizer(path: str, *, kinds=None) -> Tokenizer:
    """Read a tokenizer written by ``Tokenizer.save``, checking every field.

    The file must be a JSON object with exactly the keys its ``kind`` needs
    (``kind``, ``chars``, ``byte_fallback`` for ``"char"``; ``kind``,
    ``merges`` for ``"bpe"``; see :func:`tokenizer_from_dict`), of the right
    types, at most :data:`MAX_TOKENIZER_FILE_BYTES` long, with at most
    :data:`MAX_MERGES` merges and no token longer than :data:`MAX_TOKEN_BYTES`.

    Args:
        path: JSON file path.
        kinds: Accept only these kinds (default: every registered kind).

    Returns:
        A :class:`CharTokenizer`, :class:`BPETokenizer` or another registered
        kind.

    Raises:
        keras_gen._files.FileFormatError: (a ``ValueError``) The file is not a
            valid tokenizer; the message names the file and the field.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "tok.json")
        >>> CharTokenizer.train("abc").save(path)
        >>> load_tokenizer(path).encode("cab")
        [2, 0, 1]
    """
    path = os.fspath(path)
    data = read_json(path, "tokenizer file", MAX_TOKENIZER_FILE_BYTES)
    return tokenizer_from_dict(data, source=path, kinds=kinds)
