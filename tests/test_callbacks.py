import keras
import numpy as np
import pytest

from keras_gen.callbacks import TimeBudget


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
