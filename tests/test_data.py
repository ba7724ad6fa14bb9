import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from keras_gen import data


def test_load_images_shapes_range_and_labels(fashion_test):
    images, labels = fashion_test
    assert images.shape == (10000, 28, 28, 1)
    assert images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert labels.shape == (10000,)
    assert sorted(np.unique(labels).tolist()) == list(range(10))


def test_raw_option_gives_stored_bytes(fashion_test):
    raw, labels = data.load_images("fashion_mnist", "test", raw=True, download=False)
    assert raw.dtype == np.uint8 and raw.shape == (10000, 28, 28)
    np.testing.assert_allclose(fashion_test[0][..., 0], raw / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(labels, fashion_test[1])


def test_train_split_size(fashion_test):
    images, labels = data.load_images("fashion_mnist", "train", download=False)
    assert images.shape == (60000, 28, 28, 1) and labels.shape == (60000,)


def test_search_order(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_GEN_DATA", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    places = data.search_locations("fashion_mnist")
    assert places == [
        ("data_dir", tmp_path),
        ("debian", data.DEBIAN_FASHION_DIR),
        ("keras cache", tmp_path / "keras" / "datasets" / "fashion-mnist"),
    ]
    explicit = tmp_path / "explicit"
    assert data.search_locations("mnist", explicit)[0] == ("data_dir", explicit)


def _isolate(monkeypatch, tmp_path):
    """No Debian copy, an empty Keras cache, no $KERAS_GEN_DATA."""
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("KERAS_GEN_DATA", raising=False)


def test_offline_and_missing_names_every_place_and_the_fix(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_images("fashion_mnist", download=False)
    message = str(info.value)
    assert "downloads are disabled" in message
    assert str(tmp_path / "no-debian") in message
    assert str(tmp_path / "keras-home" / "datasets" / "fashion-mnist") in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_offline_env_var_disables_download(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("KERAS_GEN_OFFLINE", "1")
    with pytest.raises(data.DataNotFoundError, match="MNIST has no Debian package"):
        data.load_images("mnist")


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("", True), ("0", True), ("no", True), ("off", True), ("1", False),
     ("yes", False), ("TRUE", False)],
)  # fmt: skip
def test_offline_flag_is_read_as_true_or_false(monkeypatch, value, allowed):
    monkeypatch.setenv("KERAS_GEN_OFFLINE", value)
    assert data._downloads_allowed(None) is allowed
    assert data._downloads_allowed(True) is True  # an explicit argument wins


def test_an_unclear_offline_flag_is_an_error(monkeypatch):
    monkeypatch.setenv("KERAS_GEN_OFFLINE", "nope")
    with pytest.raises(ValueError, match="Received: KERAS_GEN_OFFLINE='nope'"):
        data._downloads_allowed(None)


def _copy_of_real_data(tmp_path) -> Path:
    source = data.find_data("fashion_mnist", download=False).location
    target = tmp_path / "copy"
    target.mkdir()
    for stem in data._FASHION_FILES:
        name = f"{stem}.gz" if (source / f"{stem}.gz").exists() else stem
        os.symlink(source / name, target / name)
    return target


def test_wrong_bytes_raise_checksum_error_naming_file_and_hash(fashion_test, tmp_path):
    directory = _copy_of_real_data(tmp_path)
    bad = directory / "t10k-labels-idx1-ubyte.gz"
    bad.unlink()
    with gzip.open(bad, "wb") as handle:
        handle.write(b"\x00\x00\x08\x01" + b"\x00" * 100)
    with pytest.raises(data.ChecksumError) as info:
        data.load_images("fashion_mnist", "test", data_dir=directory, download=False)
    message = str(info.value)
    assert str(bad) in message
    assert data._FASHION_FILES["t10k-labels-idx1-ubyte"] in message


def test_truncated_gzip_raises_checksum_error(fashion_test, tmp_path):
    directory = _copy_of_real_data(tmp_path)
    good = directory / "t10k-images-idx3-ubyte.gz"
    payload = good.read_bytes()
    good.unlink()
    good.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(data.ChecksumError, match="damaged or truncated"):
        data.load_images("fashion_mnist", "test", data_dir=directory, download=False)


def test_uncompressed_files_are_accepted(fashion_test, tmp_path):
    source = data.find_data("fashion_mnist", download=False).location
    directory = tmp_path / "raw"
    directory.mkdir()
    for stem in data._FASHION_FILES:
        gz = source / f"{stem}.gz"
        payload = (
            gzip.decompress(gz.read_bytes())
            if gz.exists()
            else (source / stem).read_bytes()
        )
        (directory / stem).write_bytes(payload)
    images, _ = data.load_images("fashion_mnist", "test", data_dir=directory)
    np.testing.assert_array_equal(images, fashion_test[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "cifar10"}, "Expected name to be one of"),
        ({"split": "validation"}, "Received: split='validation'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_images(**kwargs)


def test_class_names():
    assert data.class_names("fashion_mnist")[9] == "Ankle boot"
    assert len(data.class_names("mnist")) == 10


def test_make_dataset_batches_subset_and_errors():
    images = np.zeros((50, 28, 28, 1), "float32")
    batches = list(data.make_image_dataset(images, batch_size=8, subset=20))
    assert [tuple(b.shape) for b in batches] == [(8, 28, 28, 1)] * 2
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        data.make_image_dataset(images, batch_size=0)
    with pytest.raises(ValueError, match="Received: subset=0"):
        data.make_image_dataset(images, subset=0)
    with pytest.raises(ValueError, match="at least batch_size=64"):
        data.make_image_dataset(images, batch_size=64)


def test_make_dataset_shuffle_is_seeded():
    images = np.arange(32, dtype="float32").reshape(32, 1, 1, 1)

    def order(seed):
        return np.concatenate(
            [
                b.numpy().ravel()
                for b in data.make_image_dataset(images, batch_size=8, seed=seed)
            ]
        )

    np.testing.assert_array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))


def test_toy_2d_is_reproducible_and_checked():
    a, la = data.make_toy_2d("ring", n=200, seed=5)
    b, lb = data.make_toy_2d("ring", n=200, seed=5)
    np.testing.assert_array_equal(a, b)
    assert set(la.tolist()) <= set(range(8))
    np.testing.assert_allclose(np.linalg.norm(a, axis=1).mean(), 2.0, atol=0.1)
    with pytest.raises(ValueError, match="Received: kind='spiral'"):
        data.make_toy_2d("spiral")
    with pytest.raises(ValueError, match="Received: n=1"):
        data.make_toy_2d(n=1)


def test_every_flipped_byte_in_a_gz_is_a_checksum_error(fashion_test, tmp_path):
    """A flipped byte gave zlib.error about 40% of the time; now always this."""
    directory = _copy_of_real_data(tmp_path)
    target = directory / "t10k-labels-idx1-ubyte.gz"
    if not target.is_symlink() or not str(os.readlink(target)).endswith(".gz"):
        pytest.skip("the installed copy is not gzipped")
    payload = bytearray(target.read_bytes())
    target.unlink()
    positions = np.random.default_rng(0).choice(len(payload), 40, replace=False)
    for position in [0, 3, 10, len(payload) - 1, *positions.tolist()]:
        damaged = bytearray(payload)
        damaged[position] ^= 0xFF
        target.write_bytes(bytes(damaged))
        with pytest.raises(data.ChecksumError, match=str(target)):
            data.load_images("fashion_mnist", "test", data_dir=directory)


@pytest.mark.parametrize("how", ["missing", "file", "lacks a file"])
@pytest.mark.parametrize("via", ["data_dir", "KERAS_GEN_DATA"])
def test_an_explicit_data_dir_that_cannot_be_used_is_an_error(
    fashion_test, tmp_path, monkeypatch, how, via
):
    target = tmp_path / "mine"
    if how == "file":
        target.write_text("not a folder")
    elif how == "lacks a file":
        target = _copy_of_real_data(tmp_path)
        (target / "train-labels-idx1-ubyte.gz").unlink(missing_ok=True)
        (target / "train-labels-idx1-ubyte").unlink(missing_ok=True)
    expected = {
        "missing": "does not exist",
        "file": "is a file",
        "lacks a file": "lacks train-labels-idx1-ubyte",
    }[how]
    kwargs = {"data_dir": target}
    if via == "KERAS_GEN_DATA":
        monkeypatch.setenv("KERAS_GEN_DATA", str(target))
        kwargs = {}
    with pytest.raises(data.DataNotFoundError, match=f"{via}=.*{expected}"):
        data.load_images("fashion_mnist", "test", download=False, **kwargs)
