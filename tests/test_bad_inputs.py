"""The probe's bad inputs, as a table: each must give a clear error.

Every row is ``(id, call, expected error type, fragment of the message)``.
``call`` receives the fixture ``env`` (tiny model folders, a tokenizer file
writer, tmp_path) and makes one bad call. A row fails if the call succeeds,
raises another type, or says something that does not contain the fragment:
so a message cannot regress into a raw NumPy/Keras/zlib one.

Issue 16, part B: B1, B3, B4, B6, B10, B11, B12. The interrupted-run cases
(B8, B9) kill real processes in ``test_resume.py`` and below.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
import zipfile
import zlib

import numpy as np
import pytest

from keras_gen import (
    callbacks,
    classifier,
    cli,
    data,
    gan,
    metrics,
    mixture,
    plotting,
    training,
)
from keras_gen import pretrained as pre
from keras_gen import tokenizers as tok
from keras_gen import vae as vae_module
from keras_gen._files import FileFormatError

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def folder_factory(tmp_path_factory):
    """Make a fresh copy of one tiny saved model folder per call."""
    import keras

    from keras_gen.transformer import build_gpt

    keras.utils.set_random_seed(0)
    tokenizer = tok.CharTokenizer.train("abcdefgh ", byte_fallback=False)
    model = build_gpt(tokenizer.vocab_size, 16, 16, num_heads=2, num_layers=1)
    base = tmp_path_factory.mktemp("bad")
    original = pre.save_pretrained(base / "original", model, tokenizer, {"n": 1})
    counter = iter(range(10**6))

    def make():
        copy = base / f"c{next(counter)}" / "model"  # a parent of its own
        shutil.copytree(original, copy)
        return str(copy)

    return types.SimpleNamespace(make=make, model=model, tokenizer=tokenizer)


@pytest.fixture
def env(folder_factory, tmp_path):
    def tokenizer_file(content):
        path = tmp_path / "tokenizer.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return types.SimpleNamespace(
        tmp=tmp_path,
        folder=folder_factory.make,
        model=folder_factory.model,
        tokenizer=folder_factory.tokenizer,
        tokenizer_file=tokenizer_file,
    )


def _edit(folder, name, change):
    path = os.path.join(folder, name)
    with open(path, "rb") as handle:
        payload = bytearray(handle.read())
    with open(path, "wb") as handle:
        handle.write(change(payload))
    return folder


def _flip_middle(payload):
    payload[len(payload) // 2] ^= 0xFF
    return bytes(payload)


def _card(folder, change):
    path = os.path.join(folder, pre.CARD_FILE)
    with open(path) as handle:
        card = json.load(handle)
    change(card)
    with open(path, "w") as handle:
        json.dump(card, handle)
    return folder


def _cwd_with_a_file(env):
    (env.tmp / "precious.txt").write_text("keep me")
    return env.tmp


DOUBLING_MERGES = {
    "kind": "bpe",
    "merges": [[0, 0]] + [[256 + i] * 2 for i in range(40)],
}

CASES = [
    # B1: save_pretrained must not delete what it was given.
    (
        "save into a folder holding other files",
        lambda e: pre.save_pretrained(_cwd_with_a_file(e), e.model, e.tokenizer),
        ValueError,
        "also holds 1 other entries (precious.txt)",
    ),
    (
        "save onto a file",
        lambda e: pre.save_pretrained(
            _cwd_with_a_file(e) / "precious.txt", e.model, e.tokenizer
        ),
        ValueError,
        "which is a file",
    ),
    (
        "card with NaN",
        lambda e: pre.save_pretrained(e.tmp / "m", e.model, e.tokenizer, {"loss": NAN}),
        ValueError,
        "JSON compliant: nan",
    ),
    (
        "card not a dict",
        lambda e: pre.save_pretrained(e.tmp / "m", e.model, e.tokenizer, [1]),
        ValueError,
        "Expected card to be a dict",
    ),
    (
        "card with the reserved key",
        lambda e: pre.save_pretrained(e.tmp / "m", e.model, e.tokenizer, {"sha256": 1}),
        ValueError,
        "fills in itself",
    ),
    # B3, B4, B12: damaged or altered model folders.
    (
        "altered weights",
        lambda e: pre.load_pretrained(_edit(e.folder(), pre.MODEL_FILE, _flip_middle)),
        FileFormatError,
        "model.keras is damaged or was changed",
    ),
    (
        "truncated model.keras",
        lambda e: pre.load_pretrained(
            _card(
                _edit(e.folder(), pre.MODEL_FILE, lambda p: bytes(p[:1000])),
                lambda c: c.pop("sha256"),
            )
        ),
        FileFormatError,
        "model.keras: it is damaged or not a Keras model file (not a zip",
    ),
    (
        "card that is not JSON",
        lambda e: pre.load_pretrained(
            _edit(e.folder(), pre.CARD_FILE, lambda p: b"{x")
        ),
        FileFormatError,
        "card.json to be valid JSON",
    ),
    (
        "card that is a list",
        lambda e: pre.load_pretrained(
            _edit(e.folder(), pre.CARD_FILE, lambda p: b"[]")
        ),
        FileFormatError,
        "card.json to hold a JSON object",
    ),
    (
        "card with a bad hash entry",
        lambda e: pre.load_pretrained(
            _card(e.folder(), lambda c: c.update(sha256={"model.keras": "00"}))
        ),
        FileFormatError,
        "Expected",
    ),
    (
        "tokenizer.json changed",
        lambda e: pre.load_pretrained(
            _edit(e.folder(), pre.TOKENIZER_FILE, lambda p: bytes(p) + b" ")
        ),
        FileFormatError,
        "tokenizer.json is damaged or was changed",
    ),
    (
        "model and tokenizer from different folders",
        lambda e: pre.load_pretrained(
            _card(
                _edit(
                    e.folder(),
                    pre.TOKENIZER_FILE,
                    lambda p: (
                        b'{"kind": "char", "chars": "ab", "byte_fallback": false}'
                    ),
                ),
                lambda c: c.pop("sha256"),
            )
        ),
        FileFormatError,
        "share a vocabulary",
    ),
    # B6: tokenizer files.
    (
        "merges whose tokens double in length",
        lambda e: tok.load_tokenizer(e.tokenizer_file(DOUBLING_MERGES)),
        FileFormatError,
        "at most 1024 bytes",
    ),
    (
        "byte_fallback as a string",
        lambda e: tok.load_tokenizer(
            e.tokenizer_file({"kind": "char", "chars": "ab", "byte_fallback": "false"})
        ),
        FileFormatError,
        "Expected byte_fallback to be True or False. Received: byte_fallback='false'",
    ),
    (
        "unknown key",
        lambda e: tok.load_tokenizer(
            e.tokenizer_file({"kind": "bpe", "merges": [], "x": 1})
        ),
        FileFormatError,
        "unknown ['x']",
    ),
    (
        "missing key",
        lambda e: tok.load_tokenizer(e.tokenizer_file({"kind": "char", "chars": "ab"})),
        FileFormatError,
        "missing ['byte_fallback']",
    ),
    (
        "no kind",
        lambda e: tok.load_tokenizer(e.tokenizer_file({"merges": []})),
        FileFormatError,
        "kind=None",
    ),
    (
        "not JSON",
        lambda e: tok.load_tokenizer(e.tokenizer_file("{")),
        FileFormatError,
        "tokenizer.json to be valid JSON",
    ),
    (
        "JSON NaN",
        lambda e: tok.load_tokenizer(e.tokenizer_file('{"kind": NaN}')),
        FileFormatError,
        "NaN is not valid JSON",
    ),
    (
        "merges not a list",
        lambda e: tok.load_tokenizer(e.tokenizer_file({"kind": "bpe", "merges": "ab"})),
        FileFormatError,
        "Expected merges to be a list",
    ),
    (
        "a float id in a merge",
        lambda e: tok.load_tokenizer(
            e.tokenizer_file({"kind": "bpe", "merges": [[1.5, 2]]})
        ),
        FileFormatError,
        "merge 0 = [1.5, 2]",
    ),
    (
        "an id not yet defined",
        lambda e: tok.load_tokenizer(
            e.tokenizer_file({"kind": "bpe", "merges": [[1, 300]]})
        ),
        FileFormatError,
        "ints < 256",
    ),
    (
        "a lone surrogate (char)",
        lambda e: tok.CharTokenizer.train("abc").encode("a\udcff"),
        ValueError,
        "lone surrogate '\\udcff' at position 1",
    ),
    (
        "a lone surrogate (bpe)",
        lambda e: tok.BPETokenizer().encode("\ud800"),
        ValueError,
        "lone surrogate",
    ),
    (
        "byte_fallback='no'",
        lambda e: tok.CharTokenizer("ab", byte_fallback="no"),
        ValueError,
        "Received: byte_fallback='no'",
    ),
    (
        "bpe vocab_size below 256",
        lambda e: tok.BPETokenizer.train("abc", 255),
        ValueError,
        "Expected vocab_size >= 256",
    ),
    (
        "bpe vocab_size as a string",
        lambda e: tok.BPETokenizer.train("abc", "300"),
        ValueError,
        "Expected vocab_size to be an int",
    ),
    (
        "bpe vocab_size too big",
        lambda e: tok.BPETokenizer.train("abc", 10**9),
        ValueError,
        "Expected vocab_size <=",
    ),
    # B10: silent garbage.
    (
        "VAE beta NaN",
        lambda e: vae_module.VAE(
            vae_module.build_encoder(), vae_module.build_decoder(), beta=NAN
        ),
        ValueError,
        "Expected beta to be a finite number",
    ),
    (
        "VAE beta inf",
        lambda e: vae_module.VAE(
            vae_module.build_encoder(), vae_module.build_decoder(), beta=INF
        ),
        ValueError,
        "Received: beta=inf",
    ),
    ("TimeBudget(nan)", lambda e: callbacks.TimeBudget(NAN), ValueError, "seconds=nan"),
    ("TimeBudget(0)", lambda e: callbacks.TimeBudget(0), ValueError, "seconds > 0"),
    (
        "mixture on NaN points",
        lambda e: mixture.GaussianMixture(2).fit(
            np.array([[0.0, 1], [NAN, 2], [3, 4]])
        ),
        ValueError,
        "Expected finite points. Received: points[1, 0]=nan",
    ),
    (
        "mixture seed -1",
        lambda e: mixture.GaussianMixture(2, seed=-1),
        ValueError,
        "Received: seed=-1",
    ),
    (
        "mixture steps 0",
        lambda e: mixture.GaussianMixture(1).fit(np.zeros((4, 2)), steps=0),
        ValueError,
        "Received: steps=0",
    ),
    (
        "negative weight decay",
        lambda e: training.make_optimizer(weight_decay=-0.1),
        ValueError,
        "Expected weight_decay >= 0",
    ),
    (
        "average_pool(pool=0)",
        lambda e: metrics.average_pool(np.zeros((1, 4, 4, 1)), 0),
        ValueError,
        "Expected pool >= 1",
    ),
    (
        "diversity against identical real images",
        lambda e: metrics.diversity_ratio(
            np.ones((4, 8, 8, 1)), np.zeros((4, 8, 8, 1))
        ),
        ValueError,
        "real images that are all the same",
    ),
    (
        "pairwise distance seed -1",
        lambda e: metrics.mean_pairwise_distance(np.zeros((3, 2)), seed=-1),
        ValueError,
        "Received: seed=-1",
    ),
    (
        "image_grid of no images",
        lambda e: plotting.image_grid(np.zeros((0, 28, 28))),
        ValueError,
        "Received: 0 images",
    ),
    (
        "image_grid ncols -1",
        lambda e: plotting.image_grid(np.zeros((4, 28, 28)), ncols=-1),
        ValueError,
        "Expected ncols >= 1",
    ),
    (
        "mosaic ncols 0",
        lambda e: plotting.mosaic(np.zeros((4, 28, 28)), ncols=0),
        ValueError,
        "Expected ncols >= 1",
    ),
    # B12: messages that name the argument.
    (
        "latent_vectors seed -1",
        lambda e: gan.latent_vectors(2, seed=-1),
        ValueError,
        "seed=-1",
    ),
    (
        "latent_vectors seed 1.5",
        lambda e: gan.latent_vectors(2, seed=1.5),
        ValueError,
        "Expected seed to be an int",
    ),
    (
        "dcgan generator base_filters 0",
        lambda e: gan.build_dcgan_generator(base_filters=0),
        ValueError,
        "Expected base_filters >= 1",
    ),
    (
        "dcgan discriminator base_filters 0",
        lambda e: gan.build_dcgan_discriminator(base_filters=0),
        ValueError,
        "Expected base_filters >= 1",
    ),
    (
        "conv encoder base_filters 0",
        lambda e: vae_module.build_conv_encoder(base_filters=0),
        ValueError,
        "Expected base_filters >= 1",
    ),
    (
        "conv decoder base_filters 0",
        lambda e: vae_module.build_conv_decoder(base_filters=0),
        ValueError,
        "Expected base_filters >= 1",
    ),
    (
        "quality classifier num_classes 0",
        lambda e: classifier.build_classifier(num_classes=0),
        ValueError,
        "Expected num_classes >= 2",
    ),
    ("toy data seed -1", lambda e: data.make_toy_2d(seed=-1), ValueError, "seed=-1"),
    (
        "toy data noise NaN",
        lambda e: data.make_toy_2d(noise=NAN),
        ValueError,
        "noise=nan",
    ),
    (
        "AtomicCheckpoint to a .h5 name",
        lambda e: callbacks.AtomicCheckpoint(str(e.tmp / "m.h5")),
        ValueError,
        "to end with .keras",
    ),
    # B11: an explicit data folder that cannot be used.
    (
        "data_dir empty string",
        lambda e: data.find_data("fashion_mnist", data_dir=""),
        ValueError,
        "Received: data_dir=''",
    ),
    (
        "data_dir that does not exist",
        lambda e: data.find_data("mnist", data_dir=e.tmp / "nowhere"),
        data.DataNotFoundError,
        "which does not exist",
    ),
]


@pytest.mark.filterwarnings("ignore:.*records no SHA-256")
@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_gives_a_clear_error(env, call, error, fragment):
    with pytest.raises(error) as info:
        call(env)
    assert fragment in str(info.value)


def test_a_failed_load_names_the_folder_of_an_interrupted_save(env):
    folder = env.folder()
    backup = os.path.join(os.path.dirname(folder), "." + os.path.basename(folder))
    os.rename(folder, backup + ".old-abc")  # as a kill between two renames leaves
    with pytest.raises(FileNotFoundError, match="rename it to restore it"):
        pre.load_pretrained(folder)


def test_a_folder_without_hashes_loads_with_a_warning(env):
    folder = _card(env.folder(), lambda c: c.pop("sha256"))
    with pytest.warns(UserWarning, match="records no SHA-256"):
        assert pre.load_pretrained(folder).card == {"n": 1}


def test_the_mixture_fits_constant_data(env):
    model = mixture.GaussianMixture(2, seed=0).fit(np.ones((20, 2)), steps=3)
    assert np.isfinite(model.history).all()
    np.testing.assert_allclose(model.sample(5), 1.0, atol=0.01)


def test_save_into_a_model_folder_keeps_nothing_else(env):
    folder = env.folder()
    pre.save_pretrained(folder, env.model, env.tokenizer, {"n": 2})
    assert pre.load_pretrained(folder).card == {"n": 2}
    parent = os.path.dirname(folder)
    assert [n for n in os.listdir(parent) if n.startswith(".")] == []


# ---- The command line: one line, a non-zero status, no traceback (B4).


@pytest.mark.parametrize(
    ("argv", "status", "fragment"),
    [
        (["demo", "--epochs", "0"], 2, "Received: epochs=0"),
        (["demo", "--seed", "-1"], 2, "Received: seed=-1"),
        (["demo", "--train-size", "0"], 2, "Expected train_size >= 128"),
        (["generate", "--prompt", "a\udcff"], 2, "lone surrogate"),
    ],
)
def test_cli_bad_arguments(capsys, argv, status, fragment):
    assert cli.main(argv) == status
    err = capsys.readouterr().err
    assert err.startswith("keras-gen: error:") and fragment in err
    assert "Traceback" not in err


def test_cli_out_is_checked_before_any_work(tmp_path, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("data was loaded before --out was checked")

    monkeypatch.setattr(data, "load_images", no_work)
    afile = tmp_path / "afile"
    afile.write_text("x")
    for out, fragment in [(afile, "which is a file"), (afile / "sub", "can write in")]:
        assert cli.main(["demo", "--out", str(out)]) == 2
        assert fragment in capsys.readouterr().err


def test_cli_damaged_model_folder_is_one_line(env, capsys):
    folder = _edit(env.folder(), pre.MODEL_FILE, _flip_middle)
    assert cli.main(["generate", "--prompt", "ab", "--model", folder]) == 2
    err = capsys.readouterr().err
    assert "model.keras is damaged or was changed" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("error", "status", "fragment"),
    [
        (zipfile.BadZipFile("File is not a zip file"), 2, "a file is damaged"),
        (zlib.error("Error -3 while decompressing"), 2, "a file is damaged"),
        (OSError(28, "No space left on device", "/out/x"), 1, "No space left"),
        (PermissionError(13, "Permission denied", "/out"), 1, "Permission denied"),
        (MemoryError(), 1, "out of memory"),
    ],
)
def test_cli_machine_errors_are_one_line(monkeypatch, capsys, error, status, fragment):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(cli, "run_demo", fail)
    assert cli.main(["demo"]) == status
    err = capsys.readouterr().err
    assert err.startswith("keras-gen: error:") and fragment in err


def test_cli_bug_keeps_its_traceback(monkeypatch):
    def fail(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "run_demo", fail)
    with pytest.raises(KeyError):
        cli.main(["demo"])


# ---- Data loss: real signals sent to a real process (B1, B8).

_SAVE_LOOP = """
import os, signal, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras
from keras_gen.pretrained import load_pretrained, save_pretrained
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt
folder = sys.argv[1]
tokenizer = CharTokenizer.train("abc", byte_fallback=False)
model = build_gpt(tokenizer.vocab_size, 8, 16, 2, 1)
save_pretrained(folder, model, tokenizer, {"i": 0})
# A Ctrl-C that lands while this loop reports (outside the save under test)
# is held and raised at the start of the next save, so the loop never dies
# of an interrupt that the test did not aim at the save.
held = []
print("READY", flush=True)
i = 0
while True:
    i += 1
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if held:
            held.clear()
            raise KeyboardInterrupt
        save_pretrained(folder, model, tokenizer, {"i": i})
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
        try:
            card = load_pretrained(folder).card
            print("OK", card["i"], flush=True)
        except Exception as error:
            print("LOST", type(error).__name__, error, flush=True)
"""


def test_ctrl_c_during_save_pretrained_never_loses_the_model(tmp_path):
    folder = str(tmp_path / "model")
    process = subprocess.Popen(
        [sys.executable, "-c", _SAVE_LOOP, folder],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    replies = queue.Queue()  # the loop's lines, and where it dropped an interrupt
    threading.Thread(
        target=lambda: [replies.put(line.strip()) for line in process.stdout],
        daemon=True,
    ).start()
    threading.Thread(
        target=lambda: [
            replies.put("DROPPED")
            for line in process.stderr
            if line.startswith("Exception ignored")
        ],
        daemon=True,
    ).start()
    lines = []
    try:
        assert replies.get(timeout=300) == "READY"
        # Ctrl-C at random moments of the save loop until 6 interrupts were
        # answered (at most 24 tries): Python may drop one silently or with a
        # note (below), and how many it drops varies with the machine's load.
        delays = np.random.default_rng(0).uniform(0.0, 0.3, size=24)
        for delay in delays:
            if len(lines) >= 6:
                break
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            try:
                reply = replies.get(timeout=10)
            except queue.Empty:  # no reply and nothing said: the loop goes on
                continue
            # Python drops a KeyboardInterrupt raised in a __del__ or a gc
            # callback, saying "Exception ignored" on stderr; the loop goes on.
            # (Waiting out the timeout for it cost 30 s.)
            if reply != "DROPPED":
                lines.append(reply)
        process.send_signal(signal.SIGKILL)  # and a kill with no clean-up
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert len(lines) >= 6, lines
    assert [line for line in lines if not line.startswith("OK")] == []
    # Whatever the kill left behind, the next save clears it and succeeds.
    from keras_gen.tokenizers import CharTokenizer
    from keras_gen.transformer import build_gpt

    tokenizer = CharTokenizer.train("abc", byte_fallback=False)
    if not os.path.isdir(folder):  # killed between the two renames
        (old,) = [n for n in os.listdir(tmp_path) if ".old-" in n]
        os.rename(tmp_path / old, folder)
    pre.save_pretrained(folder, build_gpt(3, 8, 16, 2, 1), tokenizer, {"i": -1})
    assert pre.load_pretrained(folder).card == {"i": -1}
    assert [n for n in os.listdir(tmp_path) if ".partial-" in n] == []


def test_cli_ctrl_c_says_how_to_resume(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_demo", interrupted)
    assert cli.main(["demo"]) == 130
    assert "Run the same command to resume" in capsys.readouterr().err


def test_a_checkpoint_that_fails_mid_write_leaves_no_file(tmp_path):
    class HalfWritten:
        def save(self, path):
            with open(path, "w") as handle:
                handle.write("half a zip")
            raise OSError("killed")

    checkpoint = callbacks.AtomicCheckpoint(str(tmp_path / "gpt_{epoch:03d}.keras"))
    checkpoint.set_model(HalfWritten())
    with pytest.raises(OSError, match="killed"):
        checkpoint.on_epoch_end(0)
    assert os.listdir(tmp_path) == []


def test_an_oversized_tokenizer_file_is_refused_before_reading(env, monkeypatch):
    monkeypatch.setattr(tok, "MAX_TOKENIZER_FILE_BYTES", 100)
    path = env.tokenizer_file({"kind": "bpe", "merges": [[97, 98]] * 30})
    with pytest.raises(FileFormatError, match="to be at most 100 bytes"):
        tok.load_tokenizer(path)
