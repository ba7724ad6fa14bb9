"""Issue 25, sections 3 and 5: concurrent runs, tracebacks and weak messages.

Tables in the style of ``test_bad_inputs.py``: each row is one probe case,
named after it, with the error (or output) it must give. Section 3's lock
cases run a real second process that holds the lock.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import types
import zipfile

import numpy as np
import pytest

from keras_gen import _lock, cli, data, plotting, tasks
from keras_gen._files import sha256_file
from keras_gen.helpdesk import sections as helpdesk
from keras_gen.text_to_image import captions

# ---- 3. Concurrent runs: one writer per --out.

_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from keras_gen._lock import OutputLock
    lock = OutputLock(sys.argv[1], "keras-gen demo").acquire()
    print("READY", flush=True)
    time.sleep(600)
    """
)


def _start(code, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE, text=True, env=env,
    )
    return process


@pytest.fixture
def holder(tmp_path):
    """A live second process that holds the lock of ``tmp_path / "out"``."""
    out = tmp_path / "out"
    process = _start(_HOLD_LOCK, out)
    try:
        assert process.stdout.readline().strip() == "READY"
        yield types.SimpleNamespace(out=out, pid=process.pid, process=process)
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def dead_pid():
    """The pid of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _no_work(*args, **kwargs):
    raise AssertionError("the demo started work in a folder another run holds")


def test_second_demo_into_a_live_runs_out_refuses_at_once(holder, monkeypatch, capsys):
    monkeypatch.setattr(data, "load_images", _no_work)
    monkeypatch.setattr(cli, "_sweep_dead_partials", _no_work)
    start = time.perf_counter()
    assert cli.main(["demo", "--out", str(holder.out)]) == 1
    assert time.perf_counter() - start < 5
    err = capsys.readouterr().err
    assert err.startswith("keras-gen: error:") and err.count("\n") == 1
    assert f"another keras-gen demo (pid {holder.pid}) is writing here" in err
    assert (holder.out / _lock.LOCK_FILE).exists()  # still the live run's


def test_stale_demo_lock_is_taken_over_with_a_note(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    process = _start(_HOLD_LOCK, out)
    assert process.stdout.readline().strip() == "READY"
    process.send_signal(signal.SIGKILL)  # no clean-up: the lock file stays
    process.wait()
    assert (out / _lock.LOCK_FILE).read_text().split()[0] == str(process.pid)
    monkeypatch.setattr(cli, "_run_demo_locked", lambda *args: {"ran": True})
    assert cli.run_demo("fashion_mnist", 1, str(out), 0) == {"ran": True}
    assert f"(pid {process.pid}) that has ended" in capsys.readouterr().out
    assert not (out / _lock.LOCK_FILE).exists()  # released at the end


def _flock_unsupported(fd, operation):
    raise OSError(errno.ENOLCK, "No locks available")


@pytest.mark.parametrize("alive", [True, False], ids=["live pid", "dead pid"])
@pytest.mark.parametrize(
    "fcntl",
    [None, types.SimpleNamespace(flock=_flock_unsupported, LOCK_EX=2, LOCK_NB=4)],
    ids=["no fcntl (Windows)", "flock unsupported"],
)
def test_lock_without_flock_uses_the_pid(
    tmp_path, monkeypatch, dead_pid, alive, fcntl
):
    # Windows has no fcntl: a lock file made with O_EXCL, live while its pid
    # runs; a file system without flock falls back on the pid too.
    monkeypatch.setattr(_lock, "fcntl", fcntl)
    pid = os.getppid() if alive else dead_pid
    (tmp_path / _lock.LOCK_FILE).write_text(f"{pid}\nkeras-gen demo\n")
    lock = _lock.OutputLock(tmp_path)
    if alive:
        with pytest.raises(_lock.FolderInUseError, match=f"demo \\(pid {pid}\\) is"):
            lock.acquire()
        return
    with lock:
        assert f"pid {pid}" in lock.note
        assert (tmp_path / _lock.LOCK_FILE).read_text().split()[0] == str(os.getpid())
    assert not (tmp_path / _lock.LOCK_FILE).exists()


def test_demo_sweeps_only_partial_files_whose_owner_is_gone(
    tmp_path, monkeypatch, dead_pid
):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        out = tmp_path / "out"
        files = {
            "live staging": f".resume/.epoch.partial-{sleeper.pid}-abc/state.h5",
            "live png": f"progress/.samples_epoch_001.png.partial-{sleeper.pid}-x.png",
            "dead checkpoint": f".generator.keras.partial-{dead_pid}-q1.keras",
            "dead staging": f".resume/.epoch.partial-{dead_pid}-def/state.h5",
            "dead png": f"progress/.samples_epoch_002.png.partial-{dead_pid}-y.png",
            "a result": "samples.png",
        }
        for name in files.values():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(b"x" * 100)

        def stop(*args, **kwargs):  # the sweep has run by the time data loads
            raise OSError(5, "stop here", "data")

        monkeypatch.setattr(data, "load_images", stop)
        assert cli.main(["demo", "--out", str(out)]) == 1
        kept = {key for key, name in files.items() if (out / name).exists()}
        assert kept == {"live staging", "live png", "a result"}
        assert not (out / f".resume/.epoch.partial-{dead_pid}-def").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


# ---- 5. The CLI prints no traceback for a damaged file.


@pytest.fixture(scope="module")
def gpt_folder(tmp_path_factory):
    """Make a fresh copy of a tiny saved GPT folder, optionally with NaN weights."""
    import keras

    from keras_gen.pretrained import save_pretrained
    from keras_gen.tokenizers import CharTokenizer
    from keras_gen.transformer import build_gpt

    keras.utils.set_random_seed(0)
    tokenizer = CharTokenizer.train("abcdefgh ", byte_fallback=False)
    model = build_gpt(tokenizer.vocab_size, 16, 16, num_heads=2, num_layers=1)
    base = tmp_path_factory.mktemp("gpt")
    good = save_pretrained(base / "good", model, tokenizer, {"n": 1})
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    nan = save_pretrained(base / "nan", model, tokenizer, {"n": 1})
    counter = iter(range(10**6))

    def make(kind="good"):
        copy = base / f"c{next(counter)}" / "model"
        shutil.copytree(good if kind == "good" else nan, copy)
        return copy

    return make


def _nan_weights(folder):
    return ["generate", "--prompt", "ab", "--model", str(folder)], str(folder)


def _deep_card(folder):
    (folder / "card.json").write_text("[" * 100_000 + "]" * 100_000)
    return ["generate", "--prompt", "ab", "--model", str(folder)], str(folder)


def _t2i_with_unknown_tokenizer_key(tmp_path):
    from keras_gen.text_to_image.model import DEFAULT_TEXT_TO_IMAGE_DIR

    folder = tmp_path / "t2i"
    folder.mkdir()
    source = os.path.join(DEFAULT_TEXT_TO_IMAGE_DIR, "model.keras")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(
        folder / "model.keras", "w"
    ) as new:
        for item in old.infolist():
            payload = old.read(item)
            if item.filename == "config.json":
                config = json.loads(payload)
                config["config"]["tokenizer"]["colour"] = "red"
                payload = json.dumps(config).encode()
            new.writestr(item, payload)
    card = json.loads(open(os.path.join(DEFAULT_TEXT_TO_IMAGE_DIR, "card.json")).read())
    card["sha256"] = sha256_file(folder / "model.keras")
    (folder / "card.json").write_text(json.dumps(card))
    out = tmp_path / "grid.png"
    argv = ["imagine", "--prompt", "a bag", "--model", str(folder), "--out", str(out)]
    return argv, str(folder)


def _demo_backup(tmp_path, monkeypatch, damage):
    """A real backup of the demo's GAN in out/.resume, then ``damage`` its meta."""
    import keras

    from keras_gen import gan
    from keras_gen.callbacks import EpochBackup

    images = np.zeros((128, 28, 28, 1), "float32")
    monkeypatch.setattr(data, "load_images", lambda *a, **k: (images, None))
    keras.utils.set_random_seed(0)
    model = gan.GAN(gan.build_generator(), gan.build_discriminator(), seed=0)
    model.compile()
    settings = {"dataset": "fashion_mnist", "seed": 0, "batch_size": 128,
                "train_size": 128}
    out = tmp_path / "out"
    backup = EpochBackup(str(out / ".resume"), settings)
    backup.set_model(model)
    backup.on_epoch_end(0, {"d_loss": 1.0})
    meta = out / ".resume" / "epoch-000001" / "meta.json"
    meta.write_text(json.dumps(damage(json.loads(meta.read_text()))))
    argv = ["demo", "--out", str(out), "--train-size", "128", "--epochs", "2"]
    return argv, str(meta.parent)


def _without(key):
    def damage(meta):
        del meta[key]
        return meta

    return damage


TRACEBACK_CASES = [
    (
        "NaN weights (FloatingPointError)",
        lambda e: _nan_weights(e.gpt("nan")),
        "Expected finite next-token scores",
    ),
    (
        "deeply nested card.json (RecursionError)",
        lambda e: _deep_card(e.gpt()),
        "nested too deeply",
    ),
    (
        "text-to-image tokenizer spec with an unknown key (TypeError)",
        lambda e: _t2i_with_unknown_tokenizer_key(e.tmp),
        "unknown ['colour']",
    ),
    (
        "damaged .resume meta.json (AttributeError)",
        lambda e: _demo_backup(e.tmp, e.monkeypatch, lambda meta: [meta]),
        "Expected the backup record",
    ),
    (
        "damaged .resume meta.json (KeyError)",
        lambda e: _demo_backup(e.tmp, e.monkeypatch, _without("seed_states")),
        "Expected the backup record",
    ),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("make_argv", "fragment"),
    [case[1:] for case in TRACEBACK_CASES],
    ids=[case[0] for case in TRACEBACK_CASES],
)
def test_cli_gives_one_line_not_a_traceback(
    gpt_folder, tmp_path, monkeypatch, capsys, make_argv, fragment
):
    env = types.SimpleNamespace(gpt=gpt_folder, tmp=tmp_path, monkeypatch=monkeypatch)
    argv, where = make_argv(env)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("keras-gen: error:") and err.count("\n") == 1, err
    assert fragment in err and where in err and "Traceback" not in err


# ---- 5. keras-gen chat: one bad message does not end the session.


def test_chat_survives_bad_messages(monkeypatch, capsys):
    from keras_gen.pretrained import DEFAULT_MODEL_DIR

    typed = (
        b"caf\xe9 au lait\n"  # Latin-1, not UTF-8
        + b"x" * 1_000_000 + b"\n"  # a megabyte
        + b"\x00\x01\x02binary\n"
        + b"what is pass\nquit\n"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(typed), "utf-8"))
    # TF-IDF alone: the shipped retriever's cost (half a chat's time) buys
    # nothing here; tests/test_cli.py's --once test covers it.
    argv = ["chat", "--model", DEFAULT_MODEL_DIR, "--retriever", "tfidf"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    errors = captured.err.splitlines()
    assert len(errors) == 3 and all(e.startswith("keras-gen: error:") for e in errors)
    assert "not UTF-8" in errors[0]
    assert "at most 117 characters" in errors[1] and "max_chars" not in errors[1]
    assert "control characters" in errors[2]
    assert "[topic: pass]" in captured.out  # the session went on


def test_chat_length_error_says_the_real_limit():
    from keras_gen.helpdesk.desk import MAX_QUESTION_CHARS, chat_prompt

    chat_prompt("w" * MAX_QUESTION_CHARS, "x" * 300)  # the longest that fits
    with pytest.raises(ValueError) as info:
        chat_prompt("w" * (MAX_QUESTION_CHARS + 1), "x" * 300)
    assert f"at most {MAX_QUESTION_CHARS} characters" in str(info.value)
    assert "max_chars" not in str(info.value)


# ---- 5. keras-gen imagine: what it understood, and its arguments first.

PROMPT_CASES = [
    ("class and tone", "a dark ankle boot", ["ankle boot"], ["dark"], [], []),
    ("no class word", "boots", [], [], [], ["boots"]),
    ("colours ignored", "a red shiny bag, narrow", ["bag"], [], ["narrow"],
     ["red", "shiny"]),
    ("t-shirt is not shirt", "a wide t-shirt", ["t-shirt"], [], ["wide"], []),
    ("phrasing words are known", "a picture of a coat in a light shade",
     ["coat"], ["light"], [], []),
]


@pytest.mark.parametrize(
    ("prompt", "classes", "tones", "widths", "ignored"),
    [case[1:] for case in PROMPT_CASES],
    ids=[case[0] for case in PROMPT_CASES],
)
def test_imagine_reads_the_prompt(prompt, classes, tones, widths, ignored):
    assert captions.read_prompt(prompt) == {
        "classes": classes, "tones": tones, "widths": widths, "ignored": ignored
    }


class _FakeTextToImage:
    def generate(self, prompts, **kwargs):
        return np.zeros((len(prompts), 28, 28, 1), "float32")


def test_imagine_says_which_words_were_understood(tmp_path, monkeypatch, capsys):
    from keras_gen.text_to_image import model as text_to_image

    monkeypatch.setattr(
        text_to_image, "load_text_to_image", lambda folder: (_FakeTextToImage(), {})
    )
    out = tmp_path / "grid.png"
    argv = ["imagine", "--prompt", "a red boot", "--out", str(out), "--n", "2"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "No class word, so any garment may be drawn" in printed
    assert "Ignored (not in the captions the model learned from): 'red', 'boot'" in (
        printed
    )
    assert out.read_bytes()[:4] == b"\x89PNG"


IMAGINE_ARGUMENT_CASES = [
    ("guidance 1e30", ["--guidance", "1e30"], "Expected 0 <= guidance <= 20"),
    ("guidance -1", ["--guidance", "-1"], "Received: guidance=-1"),
    ("guidance nan", ["--guidance", "nan"], "finite number"),
    ("out names a folder", ["--out", "{tmp}/folder.png"], "which is a folder"),
]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [case[1:] for case in IMAGINE_ARGUMENT_CASES],
    ids=[case[0] for case in IMAGINE_ARGUMENT_CASES],
)
def test_imagine_checks_arguments_before_loading(
    tmp_path, monkeypatch, capsys, extra, fragment
):
    from keras_gen.text_to_image import model as text_to_image

    monkeypatch.setattr(text_to_image, "load_text_to_image", _no_work)
    (tmp_path / "folder.png").mkdir()
    extra = [arg.format(tmp=tmp_path) for arg in extra]
    argv = ["imagine", "--prompt", "a bag", "--out", str(tmp_path / "g.png"), *extra]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


# ---- 5. PNGs are written through a temporary name.


def _half_written(self, path, **kwargs):
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG half")
    raise OSError(28, "No space left on device")


PNG_SAVERS = [
    ("image grid (samples, progress, imagine)",
     lambda path: plotting.save_image_grid(np.zeros((4, 8, 8, 1)), path)),
    ("loss curves", lambda path: plotting.save_loss_curves({"g": [1.0, 0.5]}, path)),
]


@pytest.mark.parametrize(
    "save", [case[1] for case in PNG_SAVERS], ids=[case[0] for case in PNG_SAVERS]
)
def test_png_saves_are_atomic(tmp_path, monkeypatch, save):
    import matplotlib.figure

    path = tmp_path / "out.png"
    assert save(path) == str(path)
    whole = path.read_bytes()
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _half_written)
    with pytest.raises(OSError, match="No space left"):
        save(path)
    assert path.read_bytes() == whole  # the complete old PNG, not half a new one
    assert sorted(os.listdir(tmp_path)) == ["out.png"]


def test_demo_progress_images_go_through_the_atomic_saver(tmp_path, monkeypatch):
    from keras_gen import gan

    saved = []
    monkeypatch.setattr(plotting, "save_image_grid", lambda *a, **k: saved.append(a))
    grid = gan.SampleGrid(np.zeros((2, 100), "float32"), out_dir=str(tmp_path))
    grid.set_model(gan.build_generator())
    grid.on_train_begin()
    assert saved and saved[0][1].endswith("samples_epoch_000.png")


# ---- 5. Unbounded requests.


def _draw(**kwargs):
    from keras_gen.molecules.smiles import draw_molecules

    return draw_molecules(["CCO"], **kwargs)


def _audio(**kwargs):
    from keras_gen.music.audio import melody_to_audio

    return melody_to_audio([(60, 8.0)] * 4, **kwargs)


def _pipeline_sequences(gpt_folder):
    from keras_gen.generation import pipeline

    generator = pipeline("text-generation", model=str(gpt_folder()))
    return generator("ab", do_sample=True, num_return_sequences=10**6)


UNBOUNDED_CASES = [
    ("melody_to_audio of a note needing 4 GB",
     lambda e: _audio(tempo_bpm=1, sample_rate=192000), "at most 13,230,000 samples"),
    ("draw_molecules size", lambda e: _draw(size=10**6), "size <= 2000"),
    ("draw_molecules mols_per_row", lambda e: _draw(mols_per_row=10**6, size=200),
     "at most 16,000,000 pixels"),
    ("pipeline num_return_sequences", lambda e: _pipeline_sequences(e),
     "num_return_sequences <= 100"),
]


@pytest.mark.parametrize(
    ("call", "fragment"),
    [case[1:] for case in UNBOUNDED_CASES],
    ids=[case[0] for case in UNBOUNDED_CASES],
)
def test_unbounded_request_is_refused(gpt_folder, call, fragment):
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        call(gpt_folder)
    assert fragment in str(info.value)
    assert time.perf_counter() - start < 30


def test_cli_num_return_sequences_is_bounded_before_loading(monkeypatch, capsys):
    from keras_gen import generation

    monkeypatch.setattr(generation, "pipeline", _no_work)
    argv = ["generate", "--prompt", "ab", "--temperature", "1",
            "--num-return-sequences", "1000000"]
    assert cli.main(argv) == 2
    assert "Expected num_return_sequences <= 100" in capsys.readouterr().err


# ---- 5. Data loaders name the file.


def _questions(tmp_path, body: bytes):
    path = tmp_path / "questions.tsv"
    path.write_bytes(b"question\ttopic_id\talternative_id\tkind\n" + body)
    return str(path)


def _topics(tmp_path, body: bytes):
    path = tmp_path / "topics.tsv"
    path.write_bytes(body)
    return str(path)


LOADER_CASES = [
    ("questions.tsv field over 131,072 characters",
     lambda t: helpdesk.load_questions(
         _questions(t, b"x" * 200_000 + b"\tbreak\t\tkeyword\n")),
     "questions.tsv", "line 2"),
    ("questions.tsv non-UTF-8",
     lambda t: helpdesk.load_questions(
         _questions(t, b"how do I stop a loop\tbreak\t\tkeyword\ncaf\xe9\tbreak\t\t"
                    b"typo\n")),
     "questions.tsv", "byte 0xe9 on line 3"),
    ("tasks renamed column",
     lambda t: tasks.load_docstring_topics(
         _topics(t, b"topic\tname\tdocstring\nmaths\tmath.sin\tSine.\n")),
     "topics.tsv", "without ['text']"),
    ("tasks empty file",
     lambda t: tasks.load_docstring_topics(_topics(t, b"")),
     "topics.tsv", "an empty file"),
    ("tasks non-UTF-8",
     lambda t: tasks.load_docstring_topics(
         _topics(t, b"topic\tname\ttext\nmaths\tmath.sin\tSine \xff.\n")),
     "topics.tsv", "byte 0xff on line 2"),
    ("tasks unknown topic",
     lambda t: tasks.load_docstring_topics(
         _topics(t, b"topic\tname\ttext\ncooking\tx.y\tStew.\n")),
     "topics.tsv, line 2", "topic='cooking'"),
    ("tasks missing field",
     lambda t: tasks.load_docstring_topics(
         _topics(t, b"topic\tname\ttext\nmaths\tmath.sin\n")),
     "topics.tsv, line 2", "Received: 2 fields"),
]


@pytest.mark.parametrize(
    ("call", "file_fragment", "fragment"),
    [case[1:] for case in LOADER_CASES],
    ids=[case[0] for case in LOADER_CASES],
)
def test_data_loader_error_names_the_file(tmp_path, call, file_fragment, fragment):
    with pytest.raises(ValueError) as info:
        call(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message and file_fragment in message
    assert fragment in message and len(message) < 1000


# ---- 5. No CUDA start-up lines from the command line.


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["data"], ["generate", "--prompt", "ab", "--model", "no/such/dir"]],
    ids=["--help", "data", "generate (imports TensorFlow)"],
)
def test_cli_prints_no_cuda_lines(argv):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    result = subprocess.run(
        [sys.executable, "-m", "keras_gen.cli", *argv],
        capture_output=True, text=True, env=env, timeout=300,
    )
    noisy = [
        line for line in result.stderr.splitlines()
        if "CUDA" in line or "cuda" in line or line.startswith(("E0000", "I0000"))
    ]
    assert noisy == [], result.stderr
    if argv[0] == "generate":  # TensorFlow was imported, and the error still shows
        assert result.returncode == 2 and "no/such/dir" in result.stderr


def test_tensorflow_noise_filter_keeps_other_lines(capfd):
    with cli._stderr_without_tensorflow_noise():
        os.write(2, b"I0000 00:00:1 1 cudart_stub.cc:31] Could not find cuda drivers\n")
        os.write(2, b"a real warning\n")
    assert capfd.readouterr().err == "a real warning\n"


def test_cli_doctor_imports_tensorflow_quietly(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "_quiet_tensorflow", lambda: calls.append("quiet"))
    monkeypatch.setattr(cli.doctor, "main", lambda args: calls.append("doctor") or 0)
    assert cli.main(["doctor", "--no-speed"]) == 0
    assert calls == ["quiet", "doctor"]
