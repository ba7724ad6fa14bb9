"""Tests for keras_gen.music: melodies, audio and metrics."""

import os
import shutil
import threading
import wave

import numpy as np
import pytest

from keras_gen._files import FileFormatError
from keras_gen.music import melodies as music
from keras_gen.music import metrics as mm
from keras_gen.music.audio import (
    melody_to_audio,
    melody_to_stream,
    plot_piano_roll,
    write_melody,
    write_wav,
)

# "Ein feste Burg" opening, in C, with a rest and a dotted note.
MELODY = ((72, 1.0), (72, 1.0), (72, 1.0), (67, 1.5), (69, 0.5), (71, 1.0),
          (None, 1.0), (72, 2.0))


# Tokens ---------------------------------------------------------------------


def test_round_trip_melody_tokens_melody():
    ids = music.melody_to_ids(MELODY)
    assert ids.dtype == np.int32 and len(ids) == 2 * len(MELODY) + 2
    assert music.ids_to_melody(ids) == MELODY
    tokens = music.ids_to_tokens(ids)
    assert tokens[:3] == ["<bos>", "p72", "d1"] and tokens[-1] == "<eos>"
    assert "rest" in tokens
    assert music.tokens_to_ids(tokens).tolist() == ids.tolist()


def test_every_shipped_melody_round_trips():
    chorales = music.load_chorales()
    stream = music.melodies_to_ids([c.melody for c in chorales])
    starts = np.flatnonzero(stream == music.BOS_ID)
    assert len(starts) == len(chorales)
    for chorale, piece in zip(chorales, np.split(stream, starts[1:]), strict=True):
        assert music.ids_to_melody(piece) == chorale.melody


def test_vocabulary_is_golden():
    assert len(music.VOCABULARY) == 3 + 49 + len(music.DURATIONS) == 62
    assert music.tokens_to_ids(["<bos>", "<eos>", "rest", "p60", "d1"]).tolist() == [
        0, 1, 2, 15, 55]


def test_lenient_decoding_skips_and_counts_ill_formed_tokens():
    ids = music.tokens_to_ids(
        ["<bos>", "d1", "p60", "p62", "d2", "p64", "<eos>", "p65", "d1"]
    )
    assert music.ids_to_melody(ids, strict=False) == ((62, 2.0),)
    assert music.count_ill_formed(ids) == 3  # d1 without pitch, p60, p64
    with pytest.raises(ValueError, match="a duration without a pitch at position 1"):
        music.ids_to_melody(ids)


@pytest.mark.parametrize(
    "tokens, message",
    [
        (["p60", "p62", "d1"], "a second pitch before a duration at position 1"),
        (["p60", "d1", "p62"], "a pitch without a duration at position 2"),
        (["<bos>", "<eos>"], "at least one note"),
        (["p60", "d1", "<bos>"], "Received: <bos> at position 2"),
    ],
)
def test_strict_decoding_refuses_ill_formed(tokens, message):
    with pytest.raises(ValueError, match=message):
        music.ids_to_melody(music.tokens_to_ids(tokens))


def test_unknown_tokens_are_refused():
    with pytest.raises(ValueError, match=r"unknown token id 62 at position 1"):
        music.ids_to_melody([0, 62])
    with pytest.raises(ValueError, match=r"unknown token id -1"):
        music.ids_to_tokens([-1])
    with pytest.raises(ValueError, match=r"unknown token 'p200' at position 1"):
        music.tokens_to_ids(["p60", "p200"])
    with pytest.raises(ValueError, match="1-D sequence of ints"):
        music.ids_to_melody([[0, 15, 55]])
    with pytest.raises(ValueError, match="1-D sequence of ints"):
        music.ids_to_melody([1.5])


@pytest.mark.parametrize(
    "melody, message",
    [
        ([], "at least one note. Received: an empty melody"),
        ("C D E", "pairs. Received: melody of type str"),
        ([(60, 1.0, 3)], r"melody\[0\] to be a \(pitch, duration\) pair"),
        ([(60.0, 1.0)], "int MIDI pitch or None"),
        ([(True, 1.0)], "int MIDI pitch or None"),
        ([(100, 1.0)], r"pitch in \[48, 96\]"),
        ([(60, 1.0), (60, 0.3)], r"melody\[1\] to be \(pitch, duration\) with"),
        ([(60, "1")], "with duration one of"),
    ],
)
def test_bad_melodies_get_clear_errors(melody, message):
    with pytest.raises(ValueError, match=message):
        music.melody_to_ids(melody)


def test_melodies_to_ids_refuses_an_empty_list():
    with pytest.raises(ValueError, match="at least one melody"):
        music.melodies_to_ids([])


# Transposition --------------------------------------------------------------


def test_transpose_moves_pitches_and_keeps_rests():
    up = music.transpose(MELODY, 2)
    assert [p for p, _ in up] == [None if p is None else p + 2 for p, _ in MELODY]
    assert [d for _, d in up] == [d for _, d in MELODY]
    assert music.transpose(up, -2) == MELODY
    with pytest.raises(ValueError, match=r"pitch in \[48, 96\]"):
        music.transpose(MELODY, 30)
    with pytest.raises(ValueError, match="Expected semitones to be an int"):
        music.transpose(MELODY, 1.5)


@pytest.mark.parametrize(
    "tonic, mode, shift",
    [(0, "major", 0), (7, "major", 5), (2, "major", -2), (6, "major", -6),
     (9, "minor", 0), (4, "minor", 5), (2, "minor", -5), (11, "minor", -2)],
)
def test_shift_to_common_key(tonic, mode, shift):
    assert music.shift_to_common_key(tonic, mode) == shift
    assert (tonic + shift) % 12 == (0 if mode == "major" else 9)


def test_shift_to_common_key_bad_input():
    with pytest.raises(ValueError, match="Expected mode to be one of"):
        music.shift_to_common_key(0, "dorian")
    with pytest.raises(ValueError, match="tonic_pitch_class <= 11"):
        music.shift_to_common_key(12, "major")


def test_soprano_melody_of_a_music21_score():
    music21 = pytest.importorskip("music21")
    score = music21.stream.Score()
    for name, notes in (("Soprano", "G4 A4 B4 G4"), ("Bass", "G2 D3 G2 G2")):
        part = music21.stream.Part()
        part.partName = name
        for pitch in notes.split():
            part.append(music21.note.Note(pitch, quarterLength=1.0))
        score.insert(0, part)
    melody, key, shift = music.soprano_melody(score)
    assert key == "G major" and shift == 5
    assert melody == ((72, 1.0), (74, 1.0), (76, 1.0), (72, 1.0))  # C D E C


# The shipped data --------------------------------------------------------


def test_shipped_melody_matches_the_installed_corpus():
    music21 = pytest.importorskip("music21")
    shipped = music.load_chorales()[0]
    melody, key, shift = music.soprano_melody(music21.corpus.parse(shipped.name))
    assert (melody, key, shift) == (shipped.melody, shipped.key, shipped.shift)


def test_shipped_chorales_are_in_the_common_key_and_split_by_piece():
    chorales = music.load_chorales()
    assert len(chorales) == 297
    assert all(-6 <= c.shift <= 5 for c in chorales)
    assert len({c.name for c in chorales}) == len(chorales)
    assert mm.in_key_share([c.melody for c in chorales]) > 0.9
    train, val = music.split_chorales(chorales, validation_fraction=0.1, seed=0)
    assert len(val) == 30 and len(train) + len(val) == len(chorales)
    assert not {c.name for c in train} & {c.name for c in val}
    # no held-out melody repeats more than half of itself from training
    index = mm.CopyIndex([c.melody for c in train])
    assert all(2 * index.longest_run(c.melody) <= len(c.melody) for c in val)
    assert music.split_chorales(chorales, seed=0) == (train, val)
    assert music.split_chorales(chorales, seed=1)[1] != val


def test_split_bad_input():
    chorales = music.load_chorales()[:5]
    with pytest.raises(ValueError, match="validation_fraction < 1"):
        music.split_chorales(chorales, validation_fraction=1.0)
    with pytest.raises(ValueError, match="at least 2 chorales"):
        music.split_chorales(chorales[:1])


def test_checksum_mismatch_is_refused_with_a_fix(tmp_path):
    copy = tmp_path / "melodies.json"
    shutil.copy(music.CHORALES_FILE, copy)
    assert len(music.load_chorales(copy)) == 297  # an intact copy passes
    data = bytearray(copy.read_bytes())
    data[-10] ^= 1
    copy.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="git checkout data/chorales"):
        music.load_chorales(copy)
    with pytest.raises(FileNotFoundError, match="build_chorales.py"):
        music.load_chorales(tmp_path / "missing.json")


def test_encode_and_load_own_file_without_the_pinned_hash(tmp_path):
    own = [music.Chorale("mine/1", "C major", 0, MELODY)]
    path = tmp_path / "own.json"
    path.write_bytes(music.encode_chorales_file(own, source="test"))
    assert music.load_chorales(path, expected_sha256=None) == own
    path.write_text('{"chorales": [{"name": "x"}]}')
    with pytest.raises(FileFormatError, match="does not parse"):
        music.load_chorales(path, expected_sha256=None)


# Metrics --------------------------------------------------------------------


def test_bigram_on_hand_made_ids():
    bigram = mm.BigramModel([0, 1, 0, 1, 0, 2], vocab_size=3, alpha=1.0)
    # counts after 0: {1: 2, 2: 1}; p(1 | 0) = 3 / 6, p(0 | 1) = 3 / 5
    assert bigram.nll([0], [1]) == pytest.approx(np.log(2))
    assert bigram.nll([[0, 1]], [[1, 0]]) == pytest.approx(
        -(np.log(3 / 6) + np.log(3 / 5)) / 2
    )
    assert np.allclose(np.exp(bigram.log_probs).sum(1), 1)
    with pytest.raises(ValueError, match=r"token_ids in \[0, 3\)"):
        mm.BigramModel([0, 5], vocab_size=3)
    with pytest.raises(ValueError, match="at least 2 token ids"):
        mm.BigramModel([0], vocab_size=3)
    with pytest.raises(ValueError, match="alpha > 0"):
        mm.BigramModel([0, 1], vocab_size=3, alpha=0)
    with pytest.raises(ValueError, match="same, non-empty shape"):
        bigram.nll([0, 1], [1])


def test_windows_and_model_nll_match_a_uniform_model():
    x, y = mm.next_token_windows(np.arange(21) % 5, 4)
    assert x.shape == y.shape == (5, 4) and (y[:, :-1] == x[:, 1:]).all()
    uniform = lambda inputs: np.zeros(inputs.shape + (5,), "float32")  # noqa: E731
    assert mm.model_nll(uniform, x, y, batch_size=2) == pytest.approx(np.log(5))
    with pytest.raises(ValueError, match="at least context_length \\+ 1 = 5"):
        mm.next_token_windows([1, 2, 3], 4)


def test_in_key_share_and_histograms_on_hand_made_melodies():
    chromatic = [(p, 1.0) for p in range(60, 72)]
    assert mm.in_key_share([chromatic]) == pytest.approx(7 / 12)
    assert mm.in_key_share([MELODY]) == 1.0
    with pytest.raises(ValueError, match="only rests"):
        mm.in_key_share([[(None, 1.0)]])
    with pytest.raises(ValueError, match="at least one melody"):
        mm.in_key_share([])
    hist = mm.interval_histogram([[(60, 1.0), (64, 1.0), (None, 1.0), (62, 1.0),
                                   (90, 1.0)]], max_interval=12)
    assert hist[12 + 4] == hist[12 - 2] == hist[24] == pytest.approx(1 / 3)
    pitches = mm.pitch_histogram([MELODY])
    assert pitches.sum() == pytest.approx(1)
    assert pitches[72 - 48] == pytest.approx(4 / 7)
    assert mm.total_variation(pitches, pitches) == 0
    with pytest.raises(ValueError, match="same length"):
        mm.total_variation([1.0], [0.5, 0.5])


def test_longest_copied_run():
    training = [MELODY, ((60, 1.0), (62, 1.0))]
    index = mm.CopyIndex(training)
    assert index.longest_run(MELODY) == len(MELODY)
    assert index.longest_run(((72, 1.0), (67, 1.5), (69, 0.5), (72, 1.0))) == 3
    assert index.longest_run(((50, 4.0),)) == 0
    assert index.longest_run(((72, 2.0), (60, 1.0), (62, 1.0), (64, 1.0))) == 2
    assert mm.longest_copied_run(((67, 1.5), (69, 0.5)), training) == 2
    with pytest.raises(ValueError, match="at least one melody in training_melodies"):
        mm.CopyIndex([])


# Sound and files ----------------------------------------------------------


def test_audio_length_range_and_silence():
    samples, rate = melody_to_audio(MELODY, tempo_bpm=120, sample_rate=8000)
    beats = sum(d for _, d in MELODY)
    assert rate == 8000 and samples.dtype == np.float32
    assert len(samples) == pytest.approx(beats * 0.5 * rate, abs=len(MELODY))
    assert np.abs(samples).max() == pytest.approx(0.5, rel=1e-5)
    rest_start = int(sum(d for _, d in MELODY[:6]) * 0.5 * rate)
    assert not samples[rest_start + 10 : rest_start + 3990].any()  # the rest


def test_audio_leaves_out_harmonics_above_nyquist():
    # C7 is 2093 Hz: at 8 kHz its 2nd-4th harmonics would alias, so only the
    # fundamental may sound; at 22.05 kHz the 2nd harmonic (4186 Hz) is there.
    for rate, has_second in ((8000, False), (22050, True)):
        samples, _ = melody_to_audio([(96, 4.0)], sample_rate=rate)
        power = np.abs(np.fft.rfft(samples)) ** 2
        hz = np.fft.rfftfreq(len(samples), 1 / rate)
        share = power[(hz > 4000) & (hz < 4400)].sum() / power.sum()
        assert (share > 0.05) == has_second
        assert power[(hz > 2150) & (hz < 3900)].sum() / power.sum() < 0.01


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sample_rate": 100}, "sample_rate >= 8000"),
        ({"sample_rate": 22050.0}, "sample_rate to be an int"),
        ({"tempo_bpm": 0}, "tempo_bpm >= 1"),
        ({"volume": 1.5}, "volume <= 1"),
    ],
)
def test_audio_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        melody_to_audio(MELODY, **kwargs)


def test_write_wav_header_and_round_trip(tmp_path):
    samples, rate = melody_to_audio(MELODY[:2], sample_rate=8000)
    path = write_wav(tmp_path / "m.wav", samples, rate)
    head = open(path, "rb").read(12)
    assert head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    with wave.open(os.fspath(path)) as handle:
        assert handle.getframerate() == 8000 and handle.getnchannels() == 1
        assert handle.getsampwidth() == 2 and handle.getnframes() == len(samples)
        pcm = np.frombuffer(handle.readframes(len(samples)), "<i2")
    assert np.abs(pcm / 32767 - samples).max() < 1e-4
    assert os.listdir(tmp_path) == ["m.wav"]  # no temporary file left


@pytest.mark.parametrize(
    "samples, rate, message",
    [
        (np.zeros(10), 4000, "sample_rate >= 8000"),
        (np.full(10, 2.0), 8000, r"in \[-1, 1\]"),
        (np.array([0.0, np.nan]), 8000, "finite"),
        (np.zeros((2, 10)), 8000, "1-D float array"),
        (np.zeros(0), 8000, "non-empty"),
        (np.zeros(10, "int16"), 8000, "float array"),
    ],
)
def test_write_wav_bad_input_writes_nothing(tmp_path, samples, rate, message):
    with pytest.raises(ValueError, match=message):
        write_wav(tmp_path / "bad.wav", samples, rate)
    assert os.listdir(tmp_path) == []


def test_midi_and_musicxml_files(tmp_path):
    music21 = pytest.importorskip("music21")
    midi = write_melody(MELODY, tmp_path / "m.mid")
    assert open(midi, "rb").read(4) == b"MThd"
    # music21 splits notes at bar lines when writing; stripTies joins them.
    back = music21.converter.parse(midi).stripTies()
    assert [n.pitch.midi for n in back.flatten().notes] == [
        p for p, _ in MELODY if p is not None]
    xml = write_melody(MELODY, tmp_path / "m.musicxml")
    parsed = music21.converter.parse(xml).stripTies().flatten().notesAndRests
    assert [(None if n.isRest else n.pitch.midi, float(n.quarterLength))
            for n in parsed] == list(MELODY)
    assert sorted(os.listdir(tmp_path)) == ["m.mid", "m.musicxml"]
    assert len(melody_to_stream(MELODY).notesAndRests) == len(MELODY)


def test_write_melody_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="path ending in one of"):
        write_melody(MELODY, tmp_path / "m.mp3")
    with pytest.raises(ValueError, match="does not exist"):
        write_melody(MELODY, tmp_path / "missing" / "m.mid")
    with pytest.raises(ValueError, match="at least one note"):
        write_melody([], tmp_path / "m.mid")
    assert os.listdir(tmp_path) == []


def test_piano_roll_draws_one_bar_per_note():
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_piano_roll(MELODY, title="test")
    assert len(ax.collections) == sum(p is not None for p, _ in MELODY)
    assert ax.get_title() == "test" and ax.get_xlim() == (0.0, 9.0)
    matplotlib.pyplot.close(ax.figure)


# Sampling from a GPT ---------------------------------------------------------


def test_sample_melodies_from_a_tiny_gpt_is_seeded():
    import keras

    from keras_gen.transformer import build_gpt

    keras.utils.set_random_seed(0)
    model = build_gpt(len(music.VOCABULARY), 16, 16, num_heads=2, num_layers=1)
    first, bad = music.sample_melodies(model, 3, seed=1, max_new_tokens=12)
    again, _ = music.sample_melodies(model, 3, seed=1, max_new_tokens=12)
    assert first == again and bad >= 0
    assert all(music.check_melody(m) == m for m in first)
    wrong = build_gpt(10, 16, 16, num_heads=2, num_layers=1)
    with pytest.raises(ValueError, match="62-token music vocabulary"):
        music.sample_melodies(wrong, 1)
    with pytest.raises(ValueError, match="count >= 1"):
        music.sample_melodies(model, 0)


def test_bootstrap_distances_measures_the_noise_of_the_reference():
    chorales = [c.melody for c in music.load_chorales()]
    reference, same_kind = chorales[:30], chorales[30:130]
    unused = min(set(range(music.PITCH_LOW, music.PITCH_HIGH + 1)) - {
        pitch for melody in reference for pitch, _ in melody
    })
    far = [((unused, 1.0),) * 2]  # a pitch no reference melody has
    out = mm.bootstrap_distances(
        mm.pitch_histogram, reference, {"real": same_kind, "far": far}, rounds=50
    )
    assert set(out) == {"real", "far"} and out["real"].shape == (50,)
    # Real chorales sit at a small, noisy distance; one note far off at 1.
    assert 0 < out["real"].min() < out["real"].max() < 0.5
    np.testing.assert_allclose(out["far"], 1.0)
    # The resampling is seeded; repeated pieces make a resample noisier, so the
    # rounds sit mostly above the distance to the reference itself.
    again = mm.bootstrap_distances(
        mm.pitch_histogram, reference, {"real": same_kind}, rounds=50
    )
    np.testing.assert_array_equal(again["real"], out["real"])
    point = mm.total_variation(
        mm.pitch_histogram(same_kind), mm.pitch_histogram(reference)
    )
    assert np.median(out["real"]) > point
    with pytest.raises(ValueError, match="non-empty dict"):
        mm.bootstrap_distances(mm.pitch_histogram, reference, {})
    with pytest.raises(ValueError, match="rounds >= 1"):
        mm.bootstrap_distances(mm.pitch_histogram, reference, {"a": far}, rounds=0)


def test_shipped_chorales_are_a_subset_of_the_corpus():
    pytest.importorskip("music21")
    names = music.corpus_chorale_names()
    # music21 10.5: the 371 numbers of the Riemenschneider edition, in 350
    # files (some chorales are listed under two numbers).
    assert (len(names), len(set(names))) == (371, 350)
    assert {c.name for c in music.load_chorales()} <= set(names)


def test_import_music21_cancels_its_retina_timer(monkeypatch):
    music21 = pytest.importorskip("music21")
    fired = []
    # What music21 starts when imported in Jupyter: a timer that switches
    # matplotlib's inline figures to "retina".
    timer = threading.Timer(30, lambda: fired.append(True))
    monkeypatch.setattr(music21.ipython21, "t", timer, raising=False)
    timer.start()
    assert music.import_music21() is music21
    timer.join(5)
    assert not timer.is_alive() and not fired
