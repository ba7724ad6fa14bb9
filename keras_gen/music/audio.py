"""Melodies out of the model: a score, MIDI and MusicXML files, a piano roll, sound.

* :func:`melody_to_stream` builds a ``music21`` stream, which
  :func:`write_melody` saves as MIDI (``.mid``) or MusicXML (``.musicxml``),
  the formats notation programs (MuseScore) and audio workstations open.
* :func:`plot_piano_roll` draws one bar per note: time across, pitch up.
* :func:`melody_to_audio` synthesises the melody with NumPy (a few harmonics
  under an attack-decay envelope: no sound font, nothing downloaded) and
  :func:`write_wav` stores it as a 16-bit WAV file; in a notebook,
  ``IPython.display.Audio(samples, rate=sample_rate)`` plays it.

Melodies are as in :mod:`keras_gen.music.melodies`: ``(pitch, duration)`` pairs.
"""

from __future__ import annotations

import os
import wave

import numpy as np

from keras_gen import _checks
from keras_gen._files import replacing
from keras_gen.music.melodies import check_melody, import_music21

#: File endings :func:`write_melody` understands, and music21's format names.
MELODY_FORMATS = {".mid": "midi", ".midi": "midi", ".musicxml": "musicxml",
                  ".xml": "musicxml"}
#: Relative loudness of the harmonics 1, 2, 3, 4 (a soft organ-like tone).
HARMONICS = (1.0, 0.5, 0.25, 0.125)
#: The longest waveform :func:`melody_to_audio` makes: 10 minutes at 22,050
#: samples a second (53 MB of float32; the synthesis briefly needs a few
#: times that). A whole note at 1 bpm and 192 kHz would otherwise ask for
#: 46 million samples per note.
MAX_AUDIO_SAMPLES = 22050 * 600


def melody_to_stream(melody, tempo_bpm: float = 80.0, key: str = "C"):
    """A ``music21.stream.Stream`` of the melody, with tempo and key signature.

    Args:
        melody: See :func:`keras_gen.music.melodies.check_melody`.
        tempo_bpm: Quarter notes per minute.
        key: A music21 key name for the key signature (``"C"``, ``"a"``).

    Returns:
        A ``music21.stream.Stream`` (4/4; music21 makes bars when writing).

    Example:
        >>> stream = melody_to_stream([(72, 1.0), (None, 1.0), (74, 2.0)])
        >>> [n.nameWithOctave if n.isNote else "rest" for n in stream.notesAndRests]
        ['C5', 'rest', 'D5']
    """
    music21 = import_music21()  # keeps a notebook's figure size

    melody = check_melody(melody)
    tempo_bpm = _checks.check_float("tempo_bpm", tempo_bpm, minimum=1, maximum=1000)
    stream = music21.stream.Stream()
    stream.append(music21.tempo.MetronomeMark(number=tempo_bpm))
    stream.append(music21.key.Key(key))
    stream.append(music21.meter.TimeSignature("4/4"))
    for pitch, duration in melody:
        if pitch is None:
            stream.append(music21.note.Rest(quarterLength=duration))
        else:
            stream.append(music21.note.Note(pitch, quarterLength=duration))
    return stream


def write_melody(melody, path: str, tempo_bpm: float = 80.0) -> str:
    """Write a melody as MIDI or MusicXML, chosen by the file's ending.

    The file is written under a temporary name and renamed at the end, so an
    error never leaves half a file.

    Args:
        melody: See :func:`keras_gen.music.melodies.check_melody`.
        path: Ends in ``.mid``/``.midi`` or ``.musicxml``/``.xml``; its folder
            must exist.
        tempo_bpm: Quarter notes per minute.

    Returns:
        ``path``.
    """
    path = os.fspath(path)
    ending = os.path.splitext(path)[1].lower()
    if ending not in MELODY_FORMATS:
        raise ValueError(
            f"Expected a path ending in one of {sorted(MELODY_FORMATS)}. "
            f"Received: path={path!r}. Use .mid for MIDI, .musicxml for a score."
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(
            f"Expected an existing folder for path. Received: path={path!r}, "
            f"whose folder {folder} does not exist. Create it first "
            "(os.makedirs(folder, exist_ok=True))."
        )
    stream = melody_to_stream(melody, tempo_bpm=tempo_bpm)
    with replacing(path, ending) as tmp:
        stream.write(MELODY_FORMATS[ending], fp=tmp)
    return path


def melody_to_audio(
    melody,
    tempo_bpm: float = 80.0,
    sample_rate: int = 22050,
    volume: float = 0.5,
) -> tuple[np.ndarray, int]:
    """Synthesise a melody as a mono waveform with NumPy.

    Each note is the sum of :data:`HARMONICS` of its frequency
    ``440 * 2 ** ((pitch - 69) / 12)`` Hz (those below half the sample rate),
    shaped by a 10 ms attack and an
    exponential decay, and ended by a 20 ms fade so notes do not click. Rests
    are silence. The peak is scaled to ``volume``.

    Args:
        melody: See :func:`keras_gen.music.melodies.check_melody`.
        tempo_bpm: Quarter notes per minute.
        sample_rate: Samples per second, ``8000 .. 192000``.
        volume: Peak amplitude, ``(0, 1]``.

    Raises:
        ValueError: A bad argument, or more than :data:`MAX_AUDIO_SAMPLES`
            samples in all.

    Returns:
        ``(samples, sample_rate)``: float32 ``(num_samples,)`` in
        ``[-volume, volume]``, where ``num_samples`` is the melody's length in
        seconds times ``sample_rate`` (rounded per note).

    Example:
        >>> samples, rate = melody_to_audio([(69, 1.0), (None, 1.0)], tempo_bpm=60)
        >>> samples.shape, rate, float(abs(samples).max()) <= 0.5
        ((44100,), 22050, True)
    """
    melody = check_melody(melody)
    tempo_bpm = _checks.check_float("tempo_bpm", tempo_bpm, minimum=1, maximum=1000)
    sample_rate = _checks.check_int(
        "sample_rate", sample_rate, minimum=8000, maximum=192000
    )
    volume = _checks.check_float(
        "volume", volume, minimum=0, maximum=1, min_inclusive=False
    )
    seconds_per_quarter = 60.0 / tempo_bpm
    counts = [
        int(round(duration * seconds_per_quarter * sample_rate))
        for _, duration in melody
    ]
    if sum(counts) > MAX_AUDIO_SAMPLES:
        seconds = sum(counts) / sample_rate
        raise ValueError(
            f"Expected at most {MAX_AUDIO_SAMPLES:,} samples (10 minutes at "
            f"22,050 Hz). Received: a melody of {seconds:,.0f} s at tempo_bpm="
            f"{tempo_bpm:g} and sample_rate={sample_rate:,}, {sum(counts):,} "
            "samples. Raise tempo_bpm, lower sample_rate or shorten the melody."
        )
    pieces = []
    for (pitch, _), count in zip(melody, counts, strict=True):
        if pitch is None:
            pieces.append(np.zeros(count, "float32"))
            continue
        t = np.arange(count) / sample_rate  # (count,) seconds
        frequency = 440.0 * 2 ** ((pitch - 69) / 12)
        # Harmonics at or above the Nyquist frequency would fold back as
        # off-key tones (aliasing), so they are left out.
        tone = sum(
            weight * np.sin(2 * np.pi * frequency * (k + 1) * t)
            for k, weight in enumerate(HARMONICS)
            if frequency * (k + 1) < sample_rate / 2
        )
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-2.0 * t)
        fade = np.minimum(1.0, (count - np.arange(count)) / (0.02 * sample_rate))
        pieces.append((tone * envelope * fade).astype("float32"))
    samples = np.concatenate(pieces)  # (num_samples,)
    peak = float(np.abs(samples).max())
    if peak > 0:
        samples *= volume / peak
    return samples, sample_rate


def write_wav(path: str, samples, sample_rate: int) -> str:
    """Write mono samples in ``[-1, 1]`` as a 16-bit PCM WAV file.

    Uses the standard library's :mod:`wave`; written under a temporary name
    and renamed at the end.

    Args:
        path: The ``.wav`` file; its folder must exist.
        samples: 1-D float samples, all in ``[-1, 1]`` and finite.
        sample_rate: Samples per second, ``8000 .. 192000``.

    Returns:
        ``path``.

    Example:
        >>> import tempfile
        >>> samples, rate = melody_to_audio([(60, 0.5)])
        >>> path = write_wav(tempfile.mkdtemp() + "/c.wav", samples, rate)
        >>> open(path, "rb").read(4)
        b'RIFF'
    """
    path = os.fspath(path)
    sample_rate = _checks.check_int(
        "sample_rate", sample_rate, minimum=8000, maximum=192000
    )
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.size == 0 or not np.issubdtype(
        samples.dtype, np.floating
    ):
        raise ValueError(
            "Expected samples to be a non-empty 1-D float array (mono). "
            f"Received: shape {samples.shape}, dtype {samples.dtype}"
        )
    if not np.all(np.isfinite(samples)) or np.abs(samples).max() > 1:
        raise ValueError(
            "Expected samples that are finite and in [-1, 1]. Received: values "
            f"from {np.nanmin(samples):g} to {np.nanmax(samples):g}. Scale them, "
            "e.g. samples / abs(samples).max()."
        )
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise ValueError(
            f"Expected an existing folder for path. Received: path={path!r}."
        )
    pcm = np.round(samples * 32767).astype("<i2")  # 16-bit little-endian
    with replacing(path, ".wav") as tmp:
        with wave.open(tmp, "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(sample_rate)
            handle.writeframes(pcm.tobytes())
    return path


def plot_piano_roll(melody, ax=None, title: str = "Piano roll", color="tab:blue"):
    """Draw a melody as a piano roll: one bar per note, time across, pitch up.

    Args:
        melody: See :func:`keras_gen.music.melodies.check_melody`.
        ax: A matplotlib ``Axes``; a new figure if ``None``.
        title: The axes' title.
        color: The bars' colour.

    Returns:
        The ``Axes``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    melody = check_melody(melody)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.6))
    onset, pitches = 0.0, []
    for pitch, duration in melody:
        if pitch is not None:
            ax.broken_barh([(onset, duration * 0.95)], (pitch - 0.4, 0.8), color=color)
            pitches.append(pitch)
        onset += duration
    if pitches:
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlim(0, onset)
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("MIDI pitch (60 = middle C)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return ax
