"""keras_gen.model_folder, _files.data_path/read_verified and tokenizer_from_dict.

Issue 23 (one model-folder format, one verified reader, one tokenizer
registry) and issue 25 (data files, data loss, folder loaders' messages).
Table-driven like tests/test_bad_inputs.py: each row names its item.
"""

import gzip
import hashlib
import json
import os
import re
import shutil
import tracemalloc

import keras
import numpy as np
import pytest

from keras_gen import _files, conditional, data, model_folder, pretrained, tokenizers
from keras_gen._files import FileFormatError
from keras_gen.molecules import smiles as molecules
from keras_gen.text_to_image import model as text_to_image
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

SHIPPED_GPT = pretrained.DEFAULT_MODEL_DIR
SHIPPED_DESIGNER = conditional.DEFAULT_DESIGNER_DIR
SHIPPED_T2I = text_to_image.DEFAULT_TEXT_TO_IMAGE_DIR


def _tiny_model(units=1):
    return keras.Sequential([keras.Input((2,)), keras.layers.Dense(units)])


def _card_of(folder):
    return model_folder.load_folder(folder).card


# ---- The folder format and its old hash forms --------------------------------


def test_one_card_layout_hashes_every_file(tmp_path):
    tokenizer = CharTokenizer.train("abc", byte_fallback=False)
    gpt = pretrained.save_pretrained(
        tmp_path / "gpt", build_gpt(3, 8, 16, 2, 1), tokenizer, {"n": 1}
    )
    plain = model_folder.save_folder(tmp_path / "plain", _tiny_model(), {"n": 2})
    for folder, files in [(gpt, ["model.keras", "tokenizer.json"]), (plain, [])]:
        with open(os.path.join(folder, "card.json")) as handle:
            hashes = json.load(handle)["sha256"]
        assert sorted(hashes) == (files or ["model.keras"])
        for name, digest in hashes.items():
            assert _files.sha256_file(os.path.join(folder, name)) == digest
    assert _card_of(gpt) == {"n": 1} and _card_of(plain) == {"n": 2}


def test_old_hash_string_of_the_designer_still_loads(tmp_path):
    folder = model_folder.save_folder(tmp_path / "old", _tiny_model(), {"n": 1})
    card_path = os.path.join(folder, "card.json")
    with open(card_path) as handle:
        card = json.load(handle)
    card["sha256"] = card["sha256"]["model.keras"]  # the designer's old layout
    with open(card_path, "w") as handle:
        json.dump(card, handle)
    assert _card_of(folder) == {"n": 1}
    with open(os.path.join(folder, "model.keras"), "ab") as handle:
        handle.write(b"x")
    with pytest.raises(FileFormatError, match="model.keras is damaged or was changed"):
        model_folder.load_folder(folder)


@pytest.mark.parametrize(
    ("folder", "layout"),
    [(SHIPPED_GPT, dict), (SHIPPED_DESIGNER, str), (SHIPPED_T2I, str)],
)
def test_shipped_folders_keep_their_cards_and_load(folder, layout):
    with open(os.path.join(folder, "card.json"), "rb") as handle:
        before = handle.read()
    assert isinstance(json.loads(before)["sha256"], layout)  # not rewritten
    contents = model_folder.load_folder(folder)
    assert "sha256" not in contents.card and contents.card["command"]
    with open(os.path.join(folder, "card.json"), "rb") as handle:
        assert handle.read() == before


# ---- The swap: interrupts at every step never lose the model -----------------


class _Interrupts:
    """Raise KeyboardInterrupt at chosen calls of a function, counting calls."""

    def __init__(self, real, at, then_always=False, only_under=None):
        self.real, self.at, self.then_always = real, at, then_always
        self.only_under, self.calls = only_under, 0

    def __call__(self, *args, **kwargs):
        if self.only_under and not str(args[0]).startswith(self.only_under):
            return self.real(*args, **kwargs)
        self.calls += 1
        if self.calls == self.at or (self.then_always and self.calls > self.at):
            raise KeyboardInterrupt
        return self.real(*args, **kwargs)


def _save(folder, n):
    return model_folder.save_folder(folder, _tiny_model(), {"n": n})


def _whole_model_survives(tmp_path, folder):
    """The real name holds a complete model, or a backup does and is found."""
    if model_folder.is_complete(folder):
        return _card_of(folder)["n"]
    (backup,) = model_folder.backups(folder)
    with pytest.raises(FileNotFoundError, match="rename it to restore it"):
        model_folder.load_folder(folder)
    return json.loads(open(os.path.join(backup, "card.json")).read())["n"]


@pytest.mark.parametrize("twice", [False, True], ids=["one Ctrl-C", "two Ctrl-Cs"])
@pytest.mark.parametrize("step", [1, 2, 3])
def test_ctrl_c_at_each_rename_never_loses_the_model(
    tmp_path, monkeypatch, step, twice
):
    folder = _save(str(tmp_path / "m"), 1)
    fake = _Interrupts(os.replace, step, then_always=twice, only_under=str(tmp_path))
    monkeypatch.setattr(os, "replace", fake)
    try:
        _save(folder, 2)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(os, "replace", fake.real)
    assert _whole_model_survives(tmp_path, folder) in (1, 2)
    _save(folder, 3)  # the next save restores or sweeps what was left
    assert _card_of(folder) == {"n": 3}
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_second_ctrl_c_during_rollback_keeps_the_backup(tmp_path, monkeypatch):
    """Issue 23/25: the old `finally` deleted the backup the rollback never used."""
    folder = _save(str(tmp_path / "m"), 1)
    # 1: folder -> backup; 2: staging -> folder (Ctrl-C); 3: the rollback (Ctrl-C).
    fake = _Interrupts(os.replace, 2, then_always=True, only_under=str(tmp_path))
    monkeypatch.setattr(os, "replace", fake)
    with pytest.raises(KeyboardInterrupt):
        _save(folder, 2)
    monkeypatch.setattr(os, "replace", fake.real)
    assert not os.path.exists(folder)
    (backup,) = model_folder.backups(folder)
    assert model_folder.is_complete(backup)
    assert model_folder.recover(folder) == backup  # found and put back
    assert _card_of(folder) == {"n": 1}


@pytest.mark.parametrize("step", [1, 2])
def test_ctrl_c_while_deleting_leaves_the_new_model(tmp_path, monkeypatch, step):
    folder = _save(str(tmp_path / "m"), 1)
    fake = _Interrupts(shutil.rmtree, step, only_under=str(tmp_path))
    monkeypatch.setattr(shutil, "rmtree", fake)
    try:
        _save(folder, 2)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(shutil, "rmtree", fake.real)
    assert _card_of(folder) == {"n": 2}
    _save(folder, 3)
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_ctrl_c_while_writing_keeps_the_old_model(tmp_path, monkeypatch):
    folder = _save(str(tmp_path / "m"), 1)

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _save(folder, 2)
    monkeypatch.undo()
    assert _card_of(folder) == {"n": 1}
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_swap_never_renames_over_a_non_empty_folder(tmp_path, monkeypatch):
    """Windows cannot replace a non-empty folder by rename: never ask it to."""
    real = os.replace

    def windows_replace(src, dst):
        if os.path.isdir(dst) and os.listdir(dst):
            raise PermissionError(13, "Access is denied", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", windows_replace)
    folder = _save(str(tmp_path / "m"), 1)
    _save(folder, 2)
    assert _card_of(folder) == {"n": 2}


def test_a_live_backup_of_another_process_is_left_alone(tmp_path):
    folder = str(tmp_path / "m")
    live = os.path.join(str(tmp_path), f".m{model_folder.BACKUP_MARK}1-abc")
    os.mkdir(live)  # pid 1 (init) is alive: a save in progress
    assert model_folder.backups(folder) == []
    _save(folder, 1)
    assert os.path.isdir(live)


# ---- The destination check ---------------------------------------------------


def _card_dir(folder):
    os.makedirs(os.path.join(folder, "card.json", "keep"))
    open(os.path.join(folder, "card.json", "keep", "mine.txt"), "w").close()
    return folder


SAVES = {
    "model_folder": lambda f: model_folder.save_folder(f, _tiny_model(), {}),
    "pretrained": lambda f: pretrained.save_pretrained(
        f, build_gpt(3, 8, 16, 2, 1), CharTokenizer.train("abc", byte_fallback=False)
    ),
    "save_designer": lambda f: conditional.save_designer(
        f,
        conditional.ConditionalVAE(
            conditional.build_conditional_encoder(2),
            conditional.build_conditional_decoder(2),
        ),
        {},
    ),
}

DESTINATIONS = [
    ("a directory named card.json", _card_dir, "card.json is a directory"),
    (
        "model.keras alone, no card",
        lambda f: open(os.path.join(f, "model.keras"), "w").close() or f,
        "no card.json",
    ),
    (
        "a link named model.keras",
        lambda f: os.symlink(os.devnull, os.path.join(f, "model.keras")) or f,
        "model.keras is a link",
    ),
    (
        "another file",
        lambda f: open(os.path.join(f, "notes.txt"), "w").close() or f,
        "also holds 1 other entries (notes.txt)",
    ),
]


@pytest.mark.parametrize("save", sorted(SAVES))
@pytest.mark.parametrize(("name", "make", "fragment"), DESTINATIONS)
def test_destination_check_refuses_what_is_not_ours(
    tmp_path, save, name, make, fragment
):
    folder = str(tmp_path / "dest")
    os.mkdir(folder)
    make(folder)
    before = sorted(
        os.path.relpath(os.path.join(r, n), folder)
        for r, ds, fs in os.walk(folder)
        for n in ds + fs
    )
    with pytest.raises(ValueError, match=re.escape(fragment)):
        SAVES[save](folder)
    after = sorted(
        os.path.relpath(os.path.join(r, n), folder)
        for r, ds, fs in os.walk(folder)
        for n in ds + fs
    )
    assert after == before  # nothing deleted
    assert sorted(os.listdir(tmp_path)) == ["dest"]  # nothing half-written


# ---- Loaders blame the right thing -------------------------------------------


def _copy(source, tmp_path, name="copy"):
    return shutil.copytree(source, str(tmp_path / name))


def _nested_card(folder):
    with open(os.path.join(folder, "card.json"), "w") as handle:
        handle.write("[" * 100_000 + "]" * 100_000)
    return folder


def _list_card(folder):
    with open(os.path.join(folder, "card.json"), "w") as handle:
        handle.write("[]")
    return folder


def _bad_hash(folder):
    path = os.path.join(folder, "card.json")
    card = json.load(open(path))
    card["sha256"] = "not a hash"
    json.dump(card, open(path, "w"))
    return folder


LOADERS = {
    "load_pretrained": pretrained.load_pretrained,
    "load_designer": conditional.load_designer,
    "load_text_to_image": text_to_image.load_text_to_image,
}
SHIPPED = {
    "load_pretrained": SHIPPED_GPT,
    "load_designer": SHIPPED_DESIGNER,
    "load_text_to_image": SHIPPED_T2I,
}

WRONG_KIND = [
    ("load_text_to_image", SHIPPED_GPT, "this is a GPT language-model folder"),
    ("load_designer", SHIPPED_GPT, "load it with keras_gen.pretrained.load_pretrained"),
    ("load_pretrained", SHIPPED_T2I, "this is a text-to-image folder"),
    ("load_designer", SHIPPED_T2I, "load_text_to_image"),
    ("load_pretrained", SHIPPED_DESIGNER, "this is a designer folder"),
    ("load_text_to_image", SHIPPED_DESIGNER, "load it with keras_gen.conditional"),
]


@pytest.mark.parametrize(("loader", "folder", "fragment"), WRONG_KIND)
def test_a_folder_of_another_kind_is_named(loader, folder, fragment):
    with pytest.raises((FileFormatError, FileNotFoundError)) as info:
        LOADERS[loader](folder)
    message = str(info.value)
    assert fragment in message and "model.keras is damaged" not in message
    assert "make pretrained" not in message  # nothing to rebuild


def test_a_folder_with_a_tokenizer_is_named_a_language_model_folder(tmp_path):
    tokenizer = CharTokenizer.train("abc", byte_fallback=False)
    folder = model_folder.save_folder(
        tmp_path / "lm", _tiny_model(), {}, tokenizer=tokenizer
    )
    with pytest.raises(FileFormatError, match="so it is a language-model folder"):
        conditional.load_designer(folder)


CARD_DAMAGE = [
    ("deeply nested card.json", _nested_card, "nested too deeply"),
    ("card.json is a list", _list_card, "card.json to hold a JSON object"),
    ("card.json with a bad hash", _bad_hash, "The card is damaged"),
]


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize(("name", "damage", "fragment"), CARD_DAMAGE)
def test_a_damaged_card_is_blamed_not_the_model(
    tmp_path, loader, name, damage, fragment
):
    folder = damage(_copy(SHIPPED[loader], tmp_path))
    with pytest.raises(FileFormatError, match=fragment) as info:
        LOADERS[loader](folder)
    assert "card.json" in str(info.value)
    assert "model.keras is damaged" not in str(info.value)


def test_a_card_json_directory_is_named_on_load(tmp_path):
    folder = model_folder.save_folder(tmp_path / "m", _tiny_model(), {})
    os.remove(os.path.join(folder, "card.json"))
    os.mkdir(os.path.join(folder, "card.json"))
    with pytest.raises(FileNotFoundError, match=r"card.json \(a directory"):
        model_folder.load_folder(folder)


def test_validation_loss_leaves_the_callers_model_as_it_was(tmp_path):
    """Issue 23: validation_loss compiled the caller's model."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("abcabcab" * 200)
    tokenizer = CharTokenizer.train("abc", byte_fallback=False)
    model = build_gpt(3, 8, 16, 2, 1)
    before = (model.compiled, getattr(model, "optimizer", None))
    loss = pretrained.validation_loss(model, tokenizer, str(corpus))
    assert np.isfinite(loss)
    assert (model.compiled, getattr(model, "optimizer", None)) == before
    model.compile(optimizer="sgd", loss="mse")  # a caller's own compile stays
    optimizer = model.optimizer
    assert pretrained.validation_loss(model, tokenizer, str(corpus)) == pytest.approx(
        loss, rel=1e-5
    )
    assert model.optimizer is optimizer and model.loss == "mse"


# ---- data_path and read_verified ---------------------------------------------


def test_data_path_is_the_repository_data_folder():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert _files.data_path() == os.path.join(root, "data")
    assert _files.data_path("moses") == molecules.MOSES_DIR
    for folder in (SHIPPED_GPT, SHIPPED_DESIGNER, SHIPPED_T2I):
        assert os.path.isdir(folder) and folder.startswith(_files.data_path())


def _gz(tmp_path, payload, name="x.gz"):
    path = tmp_path / name
    with gzip.open(path, "wb") as handle:
        handle.write(payload)
    return path


PAYLOAD = bytes(range(256)) * 4000  # about 1 MB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _flipped(tmp_path):
    raw = bytearray(_gz(tmp_path, PAYLOAD).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "x.gz").write_bytes(bytes(raw))
    return tmp_path / "x.gz"


def _truncated(tmp_path):
    raw = _gz(tmp_path, PAYLOAD).read_bytes()
    (tmp_path / "x.gz").write_bytes(raw[: len(raw) // 2])
    return tmp_path / "x.gz"


def _not_gzip(tmp_path):
    (tmp_path / "x.gz").write_bytes(b"not gzip at all")
    return tmp_path / "x.gz"


def _longer(tmp_path):
    return _gz(tmp_path, PAYLOAD + b"x")


DAMAGED_FILES = [
    ("a flipped byte", _flipped),
    ("a truncated file", _truncated),
    ("not gzip", _not_gzip),
    ("one byte too many", _longer),
]


@pytest.mark.parametrize(("name", "make"), DAMAGED_FILES)
def test_read_verified_calls_every_damage_damaged(tmp_path, name, make):
    path = make(tmp_path)
    with pytest.raises(FileFormatError) as info:
        _files.read_verified(path, SHA, len(PAYLOAD), remake="Fetch it again.")
    message = str(info.value)
    assert str(path) in message and SHA in message
    assert "damaged" in message and "Fetch it again." in message


def test_read_verified_reads_a_good_file_both_ways(tmp_path):
    assert _files.read_verified(_gz(tmp_path, PAYLOAD), SHA, len(PAYLOAD)) == PAYLOAD
    raw = tmp_path / "raw.bin"
    raw.write_bytes(PAYLOAD)
    assert _files.read_verified(raw, SHA) == PAYLOAD


def test_gzip_bomb_is_damaged_with_bounded_memory(tmp_path):
    """Issue 25: a 13 MB bomb took 5.8 GB in data._read_verified."""
    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:
        zeros = bytes(1 << 20)
        for _ in range(256):  # 256 MiB of zeros, about 256 KB on disk
            handle.write(zeros)
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match="damaged"):
            _files.read_verified(bomb, SHA, len(PAYLOAD))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(PAYLOAD) * 2 + 4 * _files.CHUNK_BYTES  # not 256 MiB


def test_data_read_verified_stops_at_the_known_size(tmp_path):
    bomb = _gz(tmp_path, bytes(20_000), "t10k-labels-idx1-ubyte.gz")
    stem = "t10k-labels-idx1-ubyte"
    with pytest.raises(data.ChecksumError, match="more than 10,008 bytes"):
        data._read_verified(bomb, data._FASHION_FILES[stem], data._FASHION_SIZES[stem])


@pytest.mark.parametrize(("name", "make"), DAMAGED_FILES[:3])
def test_load_moses_damage_is_damaged_not_zlib_error(tmp_path, name, make):
    """Issue 25: load_moses gave a raw zlib.error on a flipped byte."""
    shutil.copy(os.path.join(molecules.MOSES_DIR, "test.txt.gz"), tmp_path / "x.gz")
    good = (tmp_path / "x.gz").read_bytes()
    if name == "a flipped byte":
        # Bytes 4-9 of a gzip header (time, flags, OS) do not touch the text.
        rng = np.random.default_rng(0)
        for position in [0, 3, len(good) - 1, *rng.integers(10, len(good), 12)]:
            raw = bytearray(good)
            raw[position] ^= 0xFF
            (tmp_path / "test.txt.gz").write_bytes(bytes(raw))
            with pytest.raises(FileFormatError, match="damaged.*vendor_moses"):
                molecules.load_moses("test", data_dir=tmp_path)
        return
    path = make(tmp_path)
    os.replace(path, tmp_path / "test.txt.gz")
    with pytest.raises(FileFormatError, match="damaged.*vendor_moses"):
        molecules.load_moses("test", data_dir=tmp_path)


# ---- One tokenizer_from_dict with a kind registry ----------------------------

BAD_SPECS = [
    ("not a dict", ["char"], "Received: list"),
    ("no kind", {"chars": "ab", "byte_fallback": False}, "Received: kind=None"),
    ("unknown kind", {"kind": "wordpiece"}, "kind 'char', 'bpe'"),
    (
        "unknown key",
        {"kind": "char", "chars": "ab", "byte_fallback": False, "colour": "red"},
        "(kind 'char') to have the keys ['byte_fallback', 'chars', 'kind']. "
        "Received: missing [], unknown ['colour']",
    ),
    ("missing key", {"kind": "bpe"}, "missing ['merges']"),
    (
        "bad field",
        {"kind": "char", "chars": "aa", "byte_fallback": False},
        "tokenizer spec is not valid: Expected chars to be a non-empty string",
    ),
    ("merges not a list", {"kind": "bpe", "merges": "ab"}, "Expected merges"),
    ("huge kind", {"kind": "x" * 10_000}, "..."),
]


@pytest.mark.parametrize("rebuild", ["tokenizers", "text_to_image"])
@pytest.mark.parametrize(("name", "spec", "fragment"), BAD_SPECS)
def test_tokenizer_from_dict_refuses_bad_specs(rebuild, name, spec, fragment):
    rebuild = (
        tokenizers.tokenizer_from_dict
        if rebuild == "tokenizers"
        else text_to_image.tokenizer_from_dict
    )
    with pytest.raises(ValueError) as info:
        rebuild(spec)
    assert fragment in str(info.value) and len(str(info.value)) < 500


def test_tokenizer_from_dict_rebuilds_every_registered_kind():
    for tokenizer in (
        CharTokenizer.train("hello"),
        tokenizers.BPETokenizer([(104, 101)]),
        molecules.SmilesTokenizer.train(["CCO", "c1ccccc1"]),
    ):
        spec = {"kind": tokenizer.kind, **tokenizer.to_dict()}
        again = tokenizers.tokenizer_from_dict(spec)
        assert type(again) is type(tokenizer) and again.to_dict() == tokenizer.to_dict()
    assert {"char", "bpe", "smiles"} <= set(tokenizers.TOKENIZER_KINDS)


def test_register_tokenizer_checks_the_class():
    class NoKind(tokenizers.Tokenizer):
        pass

    class Clash(tokenizers.Tokenizer):
        kind = "char"
        spec_keys = ("chars",)

    with pytest.raises(ValueError, match="Tokenizer. Received: <class 'int'>"):
        tokenizers.register_tokenizer(int)
    with pytest.raises(ValueError, match="set kind"):
        tokenizers.register_tokenizer(NoKind)
    with pytest.raises(ValueError, match="already registered for CharTokenizer"):
        tokenizers.register_tokenizer(Clash)
    tokenizers.register_tokenizer(CharTokenizer)  # again: harmless



# ---- The command line: one line, no traceback (issue 25, part 5) -------------


def _spec_with_an_unknown_key(folder):
    """Edit the tokenizer spec inside model.keras, and drop the card's hashes."""
    import zipfile

    path = os.path.join(folder, "model.keras")
    with zipfile.ZipFile(path) as archive:
        items = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(items["config.json"])
    config["config"]["tokenizer"]["colour"] = "red"
    items["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in items.items():
            archive.writestr(name, payload)
    card_path = os.path.join(folder, "card.json")
    card = json.load(open(card_path))
    card.pop("sha256")
    json.dump(card, open(card_path, "w"))
    return folder


CLI_CASES = [
    ("generate", SHIPPED_GPT, _nested_card, "nested too deeply"),
    ("imagine", SHIPPED_T2I, _nested_card, "nested too deeply"),
    ("imagine", SHIPPED_GPT, lambda f: f, "this is a GPT language-model folder"),
    ("imagine", SHIPPED_T2I, _spec_with_an_unknown_key, "unknown ['colour']"),
]


@pytest.mark.filterwarnings("ignore:.*records no SHA-256")
@pytest.mark.parametrize(("command", "source", "damage", "fragment"), CLI_CASES)
def test_cli_folder_errors_are_one_line(
    tmp_path, capsys, command, source, damage, fragment
):
    from keras_gen import cli

    folder = damage(_copy(source, tmp_path))
    argv = [command, "--prompt", "a coat", "--model", folder]
    if command == "imagine":
        argv += ["--out", str(tmp_path / "grid.png")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("keras-gen: error:") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err
