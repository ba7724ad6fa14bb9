"""Training callbacks shared by the notebooks."""

from __future__ import annotations

import time

import keras


class TimeBudget(keras.callbacks.Callback):
    """Stop ``fit()`` once a wall-clock budget is spent.

    Comparing two models "on the same time budget" is fairer on a laptop than
    comparing them on the same number of epochs: a model that is slower per
    step gets fewer steps, as it would in real life.

    Args:
        seconds: Budget in seconds, counted from the start of ``fit()``.

    Attributes:
        elapsed: Seconds spent when training stopped.
        steps: Train steps completed.

    Example:
        >>> budget = TimeBudget(60)
        >>> # model.fit(data, epochs=1000, callbacks=[budget]); budget.steps
    """

    def __init__(self, seconds: float):
        super().__init__()
        if seconds <= 0:
            raise ValueError(f"Expected seconds > 0. Received: seconds={seconds}")
        self.seconds = seconds
        self.elapsed = 0.0
        self.steps = 0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.elapsed = time.perf_counter() - self._start
        if self.elapsed >= self.seconds:
            self.model.stop_training = True
