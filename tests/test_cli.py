import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gen import cli


def test_help_lists_the_subcommands():
    result = subprocess.run(
        [sys.executable, "-m", "keras_gen.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "demo" in result.stdout and "data" in result.stdout


def test_demo_options_have_documented_defaults():
    args = cli.build_parser().parse_args(["demo"])
    assert (args.dataset, args.epochs, args.out, args.seed) == (
        "fashion_mnist",
        cli.DEMO_EPOCHS,
        "outputs",
        0,
    )


def test_data_command_reports_fashion_mnist(fashion_test, capsys):
    assert cli.main(["data"]) == 0
    assert "fashion_mnist  found" in capsys.readouterr().out


def test_bad_epochs_is_a_clear_error(capsys):
    assert cli.main(["demo", "--epochs", "0"]) == 2
    assert "Received: epochs=0" in capsys.readouterr().err


def test_demo_writes_samples_curves_and_a_loadable_generator(fashion_test, tmp_path):
    paths = cli.run_demo("fashion_mnist", epochs=1, out=str(tmp_path), seed=0)
    for key in ("samples", "curves"):
        with open(paths[key], "rb") as handle:
            assert handle.read(4) == b"\x89PNG", key
    generator = keras.models.load_model(paths["generator"])  # safe_mode on
    assert generator.count_params() == 1_486_352
    assert sorted(p.name for p in (tmp_path / "progress").iterdir()) == [
        "samples_epoch_000.png",
        "samples_epoch_001.png",
    ]
    assert not list(tmp_path.glob("*.partial*"))
    images = generator.predict(np.zeros((2, 100), "float32"), verbose=0)
    assert images.shape == (2, 28, 28, 1)


def test_failed_save_leaves_no_partial_file(tmp_path):
    class Broken:
        def save(self, path):
            with open(path, "w") as handle:
                handle.write("half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cli._save_atomically(Broken(), str(tmp_path / "generator.keras"))
    assert list(tmp_path.iterdir()) == []
