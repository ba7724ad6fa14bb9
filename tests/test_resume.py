"""Interrupted runs: killed for real, then resumed to the same weights (B8, B9).

The uninterrupted reference run is also the test of the demo's outputs (one
demo run fewer: each costs its graph tracing and a 64-image grid an epoch).
"""

import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_gen import cli

# 256 of the 60,000 images, two steps an epoch: they check the wiring and the
# resume, not the training. Two epochs: the run is killed after the first.
# No XLA (--no-xla): each of the three runs would compile its step for 4 steps
# (about 3 s of CPU each).
DEMO = {
    "dataset": "fashion_mnist",
    "epochs": 2,
    "seed": 3,
    "train_size": 256,
    "jit_compile": False,
}


@pytest.fixture(scope="module")
def reference(fashion_test, tmp_path_factory):
    """An uninterrupted demo run: its out folder and the paths it returned."""
    out = tmp_path_factory.mktemp("reference")
    return out, cli.run_demo(out=str(out), **DEMO)


def test_demo_writes_samples_curves_and_a_loadable_generator(reference):
    out, paths = reference
    for key in ("samples", "curves"):
        with open(paths[key], "rb") as handle:
            assert handle.read(4) == b"\x89PNG", key
    generator = keras.models.load_model(paths["generator"])  # safe_mode on
    assert generator.count_params() == 1_486_352
    assert sorted(p.name for p in (out / "progress").iterdir()) == [
        "samples_epoch_000.png",
        "samples_epoch_001.png",
        "samples_epoch_002.png",
    ]
    assert not list(out.glob(".*"))  # no partial files, no backup, no lock left
    images = generator.predict(np.zeros((2, 100), "float32"), verbose=0)
    assert images.shape == (2, 28, 28, 1)


def _kill_after_first_backup(argv, backup_dir, timeout=300):
    """Start ``argv``, SIGKILL it once a backup exists; return its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    deadline = time.monotonic() + timeout
    try:
        while not (
            os.path.isdir(backup_dir)
            and any(n.startswith("epoch-") for n in os.listdir(backup_dir))
        ):
            assert process.poll() is None, process.stdout.read().decode()[-3000:]
            assert time.monotonic() < deadline, "no backup appeared"
            time.sleep(0.02)
        still_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        output = process.communicate()[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert still_running, "the run finished before it could be killed"
    assert process.returncode == -signal.SIGKILL
    return output


def test_killed_demo_resumes_to_the_same_weights(reference, tmp_path):
    killed = tmp_path / "killed"
    argv = [sys.executable, "-m", "keras_gen.cli", "demo", "--out", str(killed)]
    argv += ["--epochs", str(DEMO["epochs"]), "--seed", str(DEMO["seed"])]
    argv += ["--train-size", str(DEMO["train_size"]), "--no-xla"]
    _kill_after_first_backup(argv, killed / ".resume")
    assert not (killed / "generator.keras").exists()

    resumed = cli.run_demo(out=str(killed), **DEMO)

    for a, b in zip(
        keras.models.load_model(resumed["generator"]).get_weights(),
        keras.models.load_model(reference[1]["generator"]).get_weights(),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    assert not (killed / ".resume").exists()  # discarded once finished
    assert [p for p in os.listdir(killed) if "partial" in p] == []
    assert len(os.listdir(killed / "progress")) == DEMO["epochs"] + 1


def test_resume_with_other_settings_is_refused(fashion_test, tmp_path):
    from keras_gen.callbacks import EpochBackup

    EpochBackup(tmp_path / ".resume", {"seed": 1})  # nothing written yet
    (tmp_path / ".resume" / "epoch-000001").mkdir(parents=True)
    (tmp_path / ".resume" / "epoch-000001" / "meta.json").write_text(
        '{"epochs_done": 1, "settings": {"seed": 1}, "history": {}}'
    )
    with pytest.raises(ValueError, match="same settings"):
        cli.run_demo(out=str(tmp_path), **DEMO)
