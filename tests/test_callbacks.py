import os

import keras
import numpy as np
import pytest

from keras_gen._files import FileFormatError
from keras_gen.callbacks import EpochBackup, StepClock, TimeBudget


def test_time_budget_stops_training_early():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    budget = TimeBudget(0.5)
    x = np.zeros((64, 2), "float32")
    history = model.fit(
        x, x[:, :1], batch_size=8, epochs=100_000, verbose=0, callbacks=[budget]
    )
    assert budget.elapsed >= 0.5
    # 8 steps per epoch; training stops at the end of a step, so the last
    # recorded epoch may be cut short.
    epochs = len(history.history["loss"])
    assert 8 * (epochs - 1) < budget.steps <= 8 * epochs
    assert len(history.history["loss"]) < 100_000


def test_time_budget_must_be_positive():
    with pytest.raises(ValueError, match="Received: seconds=0"):
        TimeBudget(0)


def _tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_step_clock_counts_steps_stamps_and_epoch_times():
    model = _tiny_model()
    clock = StepClock()
    x = np.zeros((24, 2), "float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=3, verbose=0, callbacks=[clock])
    assert clock.steps == 18 and len(clock.stamps) == 18
    assert len(clock.seconds) == 3
    assert clock.seconds == sorted(clock.seconds)
    assert 0 < clock.train_seconds <= clock.seconds[-1]
    assert clock.steps_per_second(skip=2) > 0
    with pytest.raises(ValueError, match="at least skip \\+ 2 = 20"):
        clock.steps_per_second(skip=18)


def test_step_clock_counts_steps_per_execution():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=3)
    clock = StepClock()
    x = np.zeros((24, 2), "float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=1, verbose=0, callbacks=[clock])
    assert (clock.steps, len(clock.stamps)) == (6, 2)


def test_step_clock_budget_leaves_out_the_warm_up_steps():
    model = _tiny_model()
    clock = StepClock(budget=0.2, warmup_steps=2)
    x = np.zeros((64, 2), "float32")
    model.fit(x, x[:, :1], batch_size=8, epochs=100_000, verbose=0, callbacks=[clock])
    assert clock.elapsed >= 0.2
    assert clock.elapsed < clock.stamps[-1] - clock._start  # warm-up not counted
    with pytest.raises(ValueError, match="budget"):
        StepClock(budget=float("nan"))


def test_step_timer_is_the_step_clock():
    from keras_gen.training import StepTimer

    assert StepTimer is StepClock


def _backup_with_meta(tmp_path, meta_text):
    model = _tiny_model()
    backup = EpochBackup(tmp_path / ".resume", {"seed": 0})
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0,
              callbacks=[backup])
    meta = os.path.join(backup.latest(), "meta.json")
    if meta_text is None:
        os.remove(meta)
    else:
        with open(meta, "w") as handle:
            handle.write(meta_text)
    return backup, model, meta


@pytest.mark.parametrize(
    "meta_text",
    [
        None,  # the file is gone
        "{",  # cut short
        "[]",  # not an object
        '{"settings": {"seed": 0}}',  # fields missing
        '{"settings": {"seed": 0}, "epochs_done": "1", "history": {}, '
        '"seed_states": []}',  # a field of the wrong type
        '{"settings": {"seed": 0}, "epochs_done": 1, "history": {"loss": 1}, '
        '"seed_states": []}',
    ],
)
def test_epoch_backup_restore_names_a_damaged_record_and_the_fix(tmp_path, meta_text):
    backup, model, meta = _backup_with_meta(tmp_path, meta_text)
    with pytest.raises(FileFormatError) as caught:
        backup.restore(model)
    message = str(caught.value)
    assert meta in message
    assert f"Delete the folder {backup.folder}" in message


def test_epoch_backup_restore_reads_a_sound_record(tmp_path):
    backup, model, _ = _backup_with_meta(tmp_path, "unchanged")
    # "unchanged" was written over the record: write a sound one again.
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, initial_epoch=1,
              verbose=0, callbacks=[backup])
    assert EpochBackup(backup.folder, {"seed": 0}).restore(model) == 2
