"""Melodies of Bach's chorales as token sequences a GPT can learn.

The article says Gen AI "revolutionizes content creation in movies and games"
and names music (OpenAI's Jukebox) among its uses. Notebook 09 makes that
concrete at a CPU's scale: the project's own GPT learns the soprano melodies
of the 371 four-part chorales by J. S. Bach that ship inside ``music21``.

A *melody* here is a tuple of notes, each ``(pitch, duration)``: ``pitch`` is
a MIDI number (60 is middle C) or ``None`` for a rest, ``duration`` is in
quarter notes (``1.0`` a crotchet, ``0.5`` a quaver). Every melody is
transposed to a common key (C major or A minor) so that the model sees one
key instead of twelve. A melody becomes tokens two per note, a pitch then a
duration, between ``<bos>`` and ``<eos>``::

    ((72, 1.0), (None, 0.5))  ->  <bos> p72 d1 rest d0.5 <eos>

The parsed melodies are shipped in ``data/chorales/`` (parsing every chorale
with music21 takes about a minute); ``tools/build_chorales.py`` rebuilds the
file from the installed corpus and :func:`load_chorales` checks its pinned
SHA-256. :mod:`keras_gen.music.audio` turns melodies into MIDI, MusicXML, a
piano roll and sound; :mod:`keras_gen.music.metrics` measures samples.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import NamedTuple

import numpy as np

from keras_gen import _checks
from keras_gen._files import FileFormatError, data_path, read_json
from keras_gen.transformer import GPTConfig

#: Lowest and highest MIDI pitch with a token (C3 .. C7).
PITCH_LOW, PITCH_HIGH = 48, 96
#: Note lengths with a token, in quarter notes. Rarer values (a 1/32 note,
#: tied values such as 1.25) make ``tools/build_chorales.py`` skip the piece.
DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
BOS, EOS, REST = "<bos>", "<eos>", "rest"


def _duration_name(duration: float) -> str:
    return f"d{duration:g}"


#: Every token, in id order: specials, the rest, pitches, durations.
VOCABULARY = (
    (BOS, EOS, REST)
    + tuple(f"p{pitch}" for pitch in range(PITCH_LOW, PITCH_HIGH + 1))
    + tuple(_duration_name(d) for d in DURATIONS)
)
TOKEN_IDS = {token: i for i, token in enumerate(VOCABULARY)}
BOS_ID, EOS_ID, REST_ID = TOKEN_IDS[BOS], TOKEN_IDS[EOS], TOKEN_IDS[REST]
_FIRST_PITCH_ID = TOKEN_IDS[f"p{PITCH_LOW}"]
_FIRST_DURATION_ID = TOKEN_IDS[_duration_name(DURATIONS[0])]

#: The melody GPT of notebook 09 and ``benchmarks/music_melodies.py``: 2
#: blocks, 4 heads, 96 wide, 128 tokens of context (a chorale melody is about
#: 100 tokens), about 0.24 M parameters.
MELODY_GPT = GPTConfig(
    vocab_size=len(VOCABULARY),
    context_length=128,
    embed_dim=96,
    num_heads=4,
    num_layers=2,
)

#: Pitch classes of C major, which are also those of A natural minor.
C_MAJOR_PITCH_CLASSES = frozenset({0, 2, 4, 5, 7, 9, 11})

#: The shipped melodies (see ``data/README.md``) and their SHA-256.
CHORALES_FILE = data_path("chorales", "bach_soprano_melodies.json")
CHORALES_SHA256 = "5d95b412dbf733a2a6e8fb076beb966c17cc23224d260deed8cfb79d5db16bb7"
_MAX_FILE_BYTES = 10_000_000


class Chorale(NamedTuple):
    """One chorale's soprano melody, already in the common key.

    Attributes:
        name: The music21 corpus name, e.g. ``"bach/bwv269"`` (BWV number).
        key: The key music21's analysis found in the original, e.g.
            ``"G major"``.
        shift: Semitones it was transposed by (``-6 .. 5``).
        melody: The notes, a tuple of ``(pitch, duration)`` pairs.
    """

    name: str
    key: str
    shift: int
    melody: tuple


def check_melody(melody, name: str = "melody") -> tuple:
    """Check a melody and return it as a tuple of ``(pitch, duration)`` pairs.

    Args:
        melody: A non-empty sequence of ``(pitch, duration)`` pairs; ``pitch``
            an int MIDI number in ``[PITCH_LOW, PITCH_HIGH]`` or ``None`` (a
            rest), ``duration`` one of :data:`DURATIONS`.
        name: The argument's name, for messages.

    Returns:
        The melody as a tuple of ``(int | None, float)`` tuples.

    Raises:
        ValueError: What is wrong, and where.

    Example:
        >>> check_melody([(60, 1), (None, 0.5)])
        ((60, 1.0), (None, 0.5))
        >>> check_melody([(60, 0.3)])
        Traceback (most recent call last):
        ...
        ValueError: Expected melody[0] to be (pitch, duration) with duration \
one of (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0) quarter notes. \
Received: melody[0]=(60, 0.3)
    """
    if isinstance(melody, (str, bytes)) or not hasattr(melody, "__len__"):
        raise ValueError(
            f"Expected {name} to be a sequence of (pitch, duration) pairs. "
            f"Received: {name} of type {type(melody).__name__}"
        )
    if len(melody) == 0:
        raise ValueError(
            f"Expected {name} to hold at least one note. Received: an empty "
            f"{name}. A melody needs one (pitch, duration) pair or more."
        )
    notes = []
    for i, note in enumerate(melody):
        where = f"{name}[{i}]"
        if not isinstance(note, (tuple, list)) or len(note) != 2:
            raise ValueError(
                f"Expected {where} to be a (pitch, duration) pair. "
                f"Received: {where}={note!r}"
            )
        pitch, duration = note
        if pitch is not None:
            if isinstance(pitch, bool) or not isinstance(pitch, (int, np.integer)):
                raise ValueError(
                    f"Expected {where} to have an int MIDI pitch or None (a rest). "
                    f"Received: {where}={note!r}"
                )
            if not PITCH_LOW <= pitch <= PITCH_HIGH:
                raise ValueError(
                    f"Expected {where} to have a pitch in [{PITCH_LOW}, "
                    f"{PITCH_HIGH}] (C3 .. C7). Received: {where}={note!r}. "
                    "Transpose the melody by octaves into that range."
                )
            pitch = int(pitch)
        if isinstance(duration, bool) or not isinstance(
            duration, (int, float, np.integer, np.floating)
        ) or float(duration) not in DURATIONS:
            raise ValueError(
                f"Expected {where} to be (pitch, duration) with duration one of "
                f"{DURATIONS} quarter notes. Received: {where}={note!r}"
            )
        notes.append((pitch, float(duration)))
    return tuple(notes)


def melody_to_ids(melody, add_bos_eos: bool = True) -> np.ndarray:
    """Encode a melody as token ids, a pitch (or rest) and a duration per note.

    Args:
        melody: See :func:`check_melody`.
        add_bos_eos: Put ``<bos>`` before and ``<eos>`` after the notes.

    Returns:
        int32 array ``(2 * len(melody) [+ 2],)``.

    Example:
        >>> ids = melody_to_ids([(72, 1.0), (None, 0.5)])
        >>> ids_to_tokens(ids)
        ['<bos>', 'p72', 'd1', 'rest', 'd0.5', '<eos>']
    """
    melody = check_melody(melody)
    add_bos_eos = _checks.check_bool("add_bos_eos", add_bos_eos)
    ids = [BOS_ID] if add_bos_eos else []
    for pitch, duration in melody:
        ids.append(REST_ID if pitch is None else _FIRST_PITCH_ID + pitch - PITCH_LOW)
        ids.append(_FIRST_DURATION_ID + DURATIONS.index(duration))
    if add_bos_eos:
        ids.append(EOS_ID)
    return np.asarray(ids, dtype="int32")


def _check_ids(ids) -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(
            "Expected token ids to be a 1-D sequence of ints. Received: an "
            f"array of shape {ids.shape} and dtype {ids.dtype}"
        )
    bad = np.flatnonzero((ids < 0) | (ids >= len(VOCABULARY)))
    if bad.size:
        raise ValueError(
            f"Expected token ids in [0, {len(VOCABULARY)}) (the music "
            f"vocabulary). Received: unknown token id {int(ids[bad[0]])} at "
            f"position {int(bad[0])}"
        )
    return ids.astype("int32")


def ids_to_tokens(ids) -> list[str]:
    """Token names of ids, for printing (``[0, 12] -> ['<bos>', 'p57']``)."""
    return [VOCABULARY[i] for i in _check_ids(ids)]


def tokens_to_ids(tokens) -> np.ndarray:
    """Ids of token names; an unknown name is an error that lists the kinds.

    Example:
        >>> tokens_to_ids(["<bos>", "p60", "d1"]).tolist()
        [0, 15, 55]
    """
    ids = []
    for i, token in enumerate(tokens):
        if token not in TOKEN_IDS:
            raise ValueError(
                f"Expected known music tokens ('<bos>', '<eos>', 'rest', "
                f"'p{PITCH_LOW}'..'p{PITCH_HIGH}', "
                f"'{_duration_name(DURATIONS[0])}'..'"
                f"{_duration_name(DURATIONS[-1])}'). Received: unknown token "
                f"{token!r} at position {i}"
            )
        ids.append(TOKEN_IDS[token])
    return np.asarray(ids, dtype="int32")


def ids_to_melody(ids, strict: bool = True) -> tuple:
    """Decode token ids into a melody (the inverse of :func:`melody_to_ids`).

    A leading ``<bos>`` is skipped and decoding stops at the first ``<eos>``
    after it. The rest must alternate pitch (or rest) and duration.

    Args:
        ids: 1-D int token ids.
        strict: ``True``: any break of the pitch-duration pattern is an
            error (for data). ``False``: skip tokens that break it (for a
            model's samples, which may be ill-formed); count them with
            :func:`count_ill_formed`.

    Returns:
        The melody, a tuple of ``(pitch, duration)`` (possibly empty when
        ``strict=False``).

    Raises:
        ValueError: Unknown ids, or (``strict``) an ill-formed or empty
            sequence.

    Example:
        >>> ids_to_melody(melody_to_ids([(67, 2.0), (65, 0.5)]))
        ((67, 2.0), (65, 0.5))
    """
    melody, skipped = _parse(_check_ids(ids), _checks.check_bool("strict", strict))
    if strict and not melody:
        raise ValueError(
            "Expected token ids that hold at least one note (a pitch or rest "
            "token followed by a duration token). Received: none."
        )
    return melody


def count_ill_formed(ids) -> int:
    """How many tokens :func:`ids_to_melody` skips with ``strict=False``."""
    return _parse(_check_ids(ids), strict=False)[1]


def _parse(ids: np.ndarray, strict: bool) -> tuple[tuple, int]:
    start = 1 if len(ids) and ids[0] == BOS_ID else 0
    notes, skipped, pitch, pitch_at = [], 0, None, None

    def refuse(i, what):
        raise ValueError(
            f"Expected a pitch or rest token followed by a duration token. "
            f"Received: {what} at position {i} ({VOCABULARY[ids[i]]!r}). "
            "Pass strict=False to skip ill-formed tokens."
        )

    for i in range(start, len(ids)):
        token = int(ids[i])
        if token == EOS_ID:
            break
        is_duration = token >= _FIRST_DURATION_ID
        is_pitch = token == REST_ID or _FIRST_PITCH_ID <= token < _FIRST_DURATION_ID
        if is_pitch:
            if pitch_at is not None:
                if strict:
                    refuse(i, "a second pitch before a duration")
                skipped += 1
            pitch_at = i
            pitch = None if token == REST_ID else PITCH_LOW + token - _FIRST_PITCH_ID
        elif is_duration and pitch_at is not None:
            notes.append((pitch, DURATIONS[token - _FIRST_DURATION_ID]))
            pitch_at = None
        else:
            if strict:
                refuse(i, "a duration without a pitch" if is_duration else "<bos>")
            skipped += 1
    if pitch_at is not None:
        if strict:
            refuse(pitch_at, "a pitch without a duration")
        skipped += 1
    return tuple(notes), skipped


def melodies_to_ids(melodies) -> np.ndarray:
    """Concatenate melodies into one id stream, each ``<bos> ... <eos>``.

    Example:
        >>> melodies_to_ids([[(60, 1.0)], [(62, 1.0)]]).tolist()
        [0, 15, 55, 1, 0, 17, 55, 1]
    """
    if len(melodies) == 0:
        raise ValueError(
            "Expected at least one melody. Received: an empty list of melodies."
        )
    return np.concatenate([melody_to_ids(m) for m in melodies])


def sample_melodies(
    model,
    count: int,
    seed: int = 0,
    temperature: float = 1.0,
    max_new_tokens: int = 160,
    jit: bool = True,
) -> tuple[list[tuple], int]:
    """Sample melodies from a GPT trained on :func:`melodies_to_ids` streams.

    Every row starts from ``<bos>``; :func:`keras_gen.decoding.generate_ids`
    (the project's one decoding path) samples ``max_new_tokens`` tokens, and
    each row keeps its first piece up to ``<eos>``, decoded leniently.

    Args:
        model: A :class:`~keras_gen.transformer.GPT` over :data:`VOCABULARY`.
        count: Rows to sample (``>= 1``).
        seed: Sampling seed; the same seed gives the same melodies.
        temperature: Softmax temperature (``> 0``).
        max_new_tokens: Tokens per row (two per note).
        jit: Compile the decoding steps with XLA (seconds per model, which
            pay off for many melodies); ``False`` for a few.

    Returns:
        ``(melodies, ill_formed)``: the non-empty melodies (at most
        ``count``) and how many ill-formed tokens were skipped in all.
    """
    from keras_gen.decoding import generate_ids

    count = _checks.check_int("count", count, minimum=1)
    if getattr(model, "vocab_size", len(VOCABULARY)) != len(VOCABULARY):
        raise ValueError(
            f"Expected a model over the {len(VOCABULARY)}-token music vocabulary. "
            f"Received: a model with vocab_size={model.vocab_size}."
        )
    rows = generate_ids(
        model,
        [[BOS_ID]] * count,
        max_new_tokens,
        do_sample=True,
        temperature=temperature,
        seed=seed,
        verbose=False,
        jit=jit,
    )  # (count, 1 + max_new_tokens)
    melodies, ill_formed = [], 0
    for row in rows:
        ends = np.flatnonzero(row[1:] == EOS_ID)
        piece = row[: ends[0] + 2] if ends.size else row
        ill_formed += count_ill_formed(piece)
        melody = ids_to_melody(piece, strict=False)
        if melody:
            melodies.append(melody)
    return melodies, ill_formed


def transpose(melody, semitones: int) -> tuple:
    """Move every pitch by ``semitones`` (rests stay rests).

    Raises:
        ValueError: If a pitch would leave ``[PITCH_LOW, PITCH_HIGH]``.

    Example:
        >>> transpose([(67, 1.0), (None, 1.0)], -7)  # G -> C
        ((60, 1.0), (None, 1.0))
    """
    melody = check_melody(melody)
    semitones = _checks.check_int("semitones", semitones)
    return check_melody(
        [(None if p is None else p + semitones, d) for p, d in melody],
        name=f"melody transposed by {semitones}",
    )


def shift_to_common_key(tonic_pitch_class: int, mode: str) -> int:
    """Semitones that move a key's tonic to C (major) or A (minor).

    The smallest move is chosen (``-6 .. 5``), so a melody keeps its register.

    Args:
        tonic_pitch_class: ``0`` (C) .. ``11`` (B).
        mode: ``"major"`` or ``"minor"``.

    Example:
        >>> shift_to_common_key(7, "major"), shift_to_common_key(2, "minor")
        (5, -5)
    """
    tonic_pitch_class = _checks.check_int(
        "tonic_pitch_class", tonic_pitch_class, minimum=0, maximum=11
    )
    _checks.check_choice("mode", mode, ("major", "minor"))
    target = 0 if mode == "major" else 9
    return (target - tonic_pitch_class + 6) % 12 - 6


def soprano_melody(score) -> tuple[tuple, str, int]:
    """The top voice of a music21 chorale score, transposed to C major / A minor.

    Ties are merged, grace notes dropped. The key comes from music21's key
    analysis (Krumhansl-Schmuckler) of the whole score.

    Args:
        score: A ``music21.stream.Score`` (``music21.corpus.parse(name)``).

    Returns:
        ``(melody, key_name, shift)``.

    Raises:
        ValueError: The soprano holds chords or a note with no token (a
            duration outside :data:`DURATIONS`, a pitch out of range).
    """
    parts = list(score.parts)
    if not parts:
        raise ValueError("Expected a score with parts. Received: a score with none.")
    # The soprano part is named "Soprano" (sometimes "Soprano Oboe 1 Violin1");
    # a few files name no part, and then the first part is the soprano.
    named = [p for p in parts if "soprano" in (p.partName or "").lower()]
    part = named[0] if named else parts[0]
    key = score.analyze("key")
    shift = shift_to_common_key(key.tonic.pitchClass, key.mode)
    notes = []
    for element in part.stripTies().flatten().notesAndRests:
        duration = float(element.quarterLength)
        if duration == 0:  # a grace note
            continue
        if element.isChord:
            raise ValueError("Expected one note at a time. Received: a chord.")
        pitch = None if element.isRest else element.pitch.midi
        notes.append((pitch, duration))
    while notes and notes[-1][0] is None:  # trailing rests carry nothing
        notes.pop()
    return transpose(notes, shift), f"{key.tonic.name} {key.mode}", shift


def encode_chorales_file(chorales, source: str) -> bytes:
    """The bytes of the shipped JSON file, one line per chorale (stable).

    Notes are written as ``pitch:duration`` (``r`` for a rest), e.g.
    ``"72:1 71:0.5 r:1"``.
    """
    lines = []
    for chorale in chorales:
        notes = " ".join(
            f"{'r' if p is None else p}:{d:g}" for p, d in check_melody(chorale.melody)
        )
        entry = {"name": chorale.name, "key": chorale.key, "shift": chorale.shift}
        lines.append(json.dumps({**entry, "notes": notes}, sort_keys=True))
    header = json.dumps(
        {"source": source, "durations": list(DURATIONS), "count": len(lines)},
        sort_keys=True,
    )
    return (
        '{"about": ' + header + ',\n"chorales": [\n' + ",\n".join(lines) + "\n]}\n"
    ).encode("utf-8")


def import_music21():
    """Import ``music21``, keeping the notebook's figure size.

    Imported inside Jupyter, music21 starts a one-second timer that switches
    matplotlib's inline figures to "retina" (twice the pixels each way) for
    the rest of the session, so every later figure of a notebook would come
    out at another size than the course's. This cancels that timer.
    Elsewhere it is a plain import.

    Returns:
        The ``music21`` module.

    Example:
        >>> import_music21().__name__
        'music21'
    """
    import music21

    timer = getattr(getattr(music21, "ipython21", None), "t", None)
    if timer is not None and hasattr(timer, "cancel"):
        timer.cancel()
    return music21


def corpus_chorale_names() -> list[str]:
    """The chorales of music21's corpus, the source of ``data/chorales/``.

    ``tools/build_chorales.py`` reads each of them and keeps one version of
    each tune whose note lengths all have a token (:func:`load_chorales`).

    Returns:
        Corpus names such as ``"bach/bwv269"``, in the corpus' order, one
        per chorale number (some files are listed under two numbers).

    Example:
        >>> names = corpus_chorale_names()
        >>> len(names), len(set(names)), names[0]  # music21 10.5
        (371, 350, 'bach/bwv269')
    """
    music21 = import_music21()
    return list(music21.corpus.chorales.Iterator(returnType="filename"))


def load_chorales(
    path: str | None = None, expected_sha256: str | None = CHORALES_SHA256
) -> list[Chorale]:
    """Read the shipped soprano melodies, after checking the file's SHA-256.

    Args:
        path: The JSON file; default :data:`CHORALES_FILE`.
        expected_sha256: Its hash; ``None`` skips the check (for your own
            rebuilt file).

    Returns:
        A list of :class:`Chorale`, in the music21 corpus' order.

    Raises:
        FileNotFoundError: No such file.
        FileFormatError: The hash does not match, or the file is damaged.

    Example:
        >>> chorales = load_chorales()
        >>> chorales[0].name, chorales[0].melody[:2]
        ('bach/bwv269', ((72, 1.0), (72, 2.0)))
    """
    path = CHORALES_FILE if path is None else os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected the chorale melodies at {path}. Received: no such file. "
            "Restore it with `git checkout data/chorales` or rebuild it with "
            "`python tools/build_chorales.py`."
        )
    if expected_sha256 is not None:
        with open(path, "rb") as handle:
            found = hashlib.sha256(handle.read(_MAX_FILE_BYTES + 1)).hexdigest()
        if found != expected_sha256:
            raise FileFormatError(
                f"Expected the chorale melodies {path} to have SHA-256 "
                f"{expected_sha256}. Received: {found}. The file is damaged or "
                "from another music21 version: restore it with `git checkout "
                "data/chorales`, or rebuild it with `python tools/build_chorales.py` "
                "and pass expected_sha256=None."
            )
    data = read_json(path, "chorale melodies file", _MAX_FILE_BYTES)
    try:
        chorales = []
        for entry in data["chorales"]:
            notes = []
            for note in entry["notes"].split():
                pitch, duration = note.split(":")
                notes.append((None if pitch == "r" else int(pitch), float(duration)))
            melody = check_melody(notes, name=entry["name"])
            chorales.append(
                Chorale(entry["name"], entry["key"], int(entry["shift"]), melody)
            )
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise FileFormatError(
            f"Expected the chorale melodies {path} in the format written by "
            f"tools/build_chorales.py. Received a file that does not parse: "
            f"{error!r}. Rebuild it with `python tools/build_chorales.py`."
        ) from error
    return chorales


def split_chorales(chorales, validation_fraction: float = 0.1, seed: int = 0):
    """Split by piece: whole chorales go to training or to validation.

    A seeded permutation picks ``round(validation_fraction * n)`` pieces (at
    least one) for validation, so no validation melody is seen in training.

    Returns:
        ``(train, validation)``, two lists in the original order.

    Example:
        >>> train, val = split_chorales(load_chorales())
        >>> len(train), len(val)
        (267, 30)
    """
    validation_fraction = _checks.check_float(
        "validation_fraction",
        validation_fraction,
        minimum=0,
        maximum=1,
        min_inclusive=False,
        max_inclusive=False,
    )
    seed = _checks.check_seed("seed", seed)
    if len(chorales) < 2:
        raise ValueError(
            "Expected at least 2 chorales to split. Received: "
            f"{len(chorales)}."
        )
    count = min(len(chorales) - 1, max(1, round(validation_fraction * len(chorales))))
    order = np.random.default_rng(seed).permutation(len(chorales))
    held_out = set(order[:count].tolist())
    train = [c for i, c in enumerate(chorales) if i not in held_out]
    validation = [c for i, c in enumerate(chorales) if i in held_out]
    return train, validation
