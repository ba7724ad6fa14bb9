"""Training callbacks shared by the notebooks, the demo and the tools."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import tempfile
import time

import keras

from keras_gen._checks import check_float
from keras_gen._files import (
    FileFormatError,
    dump_json,
    partial_prefix,
    read_json,
    replacing,
)


class TimeBudget(keras.callbacks.Callback):
    """Stop ``fit()`` once a wall-clock budget is spent.

    Comparing two models "on the same time budget" is fairer on a laptop than
    comparing them on the same number of epochs: a model that is slower per
    step gets fewer steps, as it would in real life.

    Args:
        seconds: Budget in seconds (finite, > 0), counted from the start of
            ``fit()``.

    Attributes:
        elapsed: Seconds spent when training stopped.
        steps: Train steps completed.

    Example:
        >>> budget = TimeBudget(60)
        >>> # model.fit(data, epochs=1000, callbacks=[budget]); budget.steps
    """

    def __init__(self, seconds: float):
        super().__init__()
        # NaN compares False with everything: without this check the budget
        # would never run out.
        self.seconds = check_float("seconds", seconds, 0, min_inclusive=False)
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


def _seed_generators(model) -> list:
    """Every ``keras.random.SeedGenerator`` inside ``model``, in a fixed order.

    Their states (the random streams of a GAN's noise or of dropout) are not
    part of ``save_weights``, so a resumed run must restore them itself.
    """
    found, seen, stack = [], set(), [model]
    while stack:
        obj = stack.pop(0)
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, keras.random.SeedGenerator):
            found.append(obj)
        elif isinstance(obj, keras.layers.Layer):
            for value in vars(obj).values():
                items = value if isinstance(value, (list, tuple)) else [value]
                stack.extend(
                    v
                    for v in items
                    if isinstance(v, (keras.layers.Layer, keras.random.SeedGenerator))
                )
    return found


class EpochBackup(keras.callbacks.Callback):
    """Back up the whole training state after every epoch, so a run can resume.

    Like ``keras.callbacks.BackupAndRestore``, but every backup is written
    into a new temporary folder and renamed into place in one step: a run
    killed at any moment (even while writing) leaves the previous complete
    backup, never weights from one epoch with the epoch count of another.
    The backup also holds the states of the model's random seed generators
    (``save_weights`` leaves them out; without them a resumed GAN draws other
    noise), the per-epoch logs (for the loss curves) and the run's
    ``settings``; resuming with other settings is refused.

    Use: build the model (and its optimizers), call :meth:`restore`, pass
    ``initial_epoch=`` that value to ``fit()``, and :meth:`discard` the backup
    once the run's results are written.

    Args:
        folder: Where the backup lives (e.g. ``out/.resume``).
        settings: JSON facts that must match for a resume (seed, data...).

    Attributes:
        history: ``{metric: [value per epoch]}`` since the start of the
            first, interrupted run.

    Example:
        >>> import tempfile
        >>> backup = EpochBackup(tempfile.mkdtemp() + "/.resume", {"seed": 0})
        >>> backup.latest() is None  # nothing to resume
        True
    """

    def __init__(self, folder: str, settings: dict | None = None):
        super().__init__()
        self.folder = os.fspath(folder)
        self.settings = json.loads(dump_json(settings or {}, "settings"))
        self.history: dict[str, list] = {}

    def latest(self) -> str | None:
        """The newest complete backup folder, or None."""
        pattern = os.path.join(glob.escape(self.folder), "epoch-*")
        done = [p for p in glob.glob(pattern) if re.search(r"epoch-\d+$", p)]
        return max(done, default=None)

    def restore(self, model) -> int:
        """Load the newest backup into ``model``; return the epochs it holds.

        Returns 0 when there is no backup. The model and its optimizers must
        be built (their variables exist) first.

        Raises:
            ValueError: The backup was made with other settings, or is damaged.
        """
        latest = self.latest()
        if latest is None:
            return 0
        meta = read_json(os.path.join(latest, "meta.json"), "backup record", 1 << 24)
        if meta.get("settings") != self.settings:
            raise ValueError(
                f"Expected the interrupted run in {self.folder} to have the same "
                f"settings to resume it. Received: {self.settings}, but the backup "
                f"was made with {meta.get('settings')}. Use the same settings, or "
                f"delete {self.folder} to start again."
            )
        try:
            model.load_weights(os.path.join(latest, "state.weights.h5"))
        except (OSError, ValueError) as error:
            raise FileFormatError(
                f"Could not restore the backup in {latest}: {error}. Delete "
                f"{self.folder} to start again."
            ) from error
        generators = _seed_generators(model)
        if len(generators) != len(meta["seed_states"]):
            raise FileFormatError(
                f"Expected {len(generators)} seed states in {latest}. Received: "
                f"{len(meta['seed_states'])}. Delete {self.folder} to start again."
            )
        for generator, state in zip(generators, meta["seed_states"], strict=True):
            generator.state.assign(
                keras.ops.convert_to_tensor(state, dtype=generator.state.dtype)
            )
        self.history = {k: list(v) for k, v in meta["history"].items()}
        return int(meta["epochs_done"])

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: write the state after ``epoch`` (0-based) atomically."""
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        os.makedirs(self.folder, exist_ok=True)
        # The pid in the name lets a later run tell a dead writer's leftover.
        staging = tempfile.mkdtemp(prefix=partial_prefix("epoch"), dir=self.folder)
        try:
            self.model.save_weights(os.path.join(staging, "state.weights.h5"))
            meta = {
                "epochs_done": epoch + 1,
                "settings": self.settings,
                "history": self.history,
                "seed_states": [
                    keras.ops.convert_to_numpy(g.state).tolist()
                    for g in _seed_generators(self.model)
                ],
            }
            with open(os.path.join(staging, "meta.json"), "w") as handle:
                handle.write(dump_json(meta, "the backup record"))
            previous = self.latest()
            os.replace(staging, os.path.join(self.folder, f"epoch-{epoch + 1:06d}"))
        finally:
            if os.path.exists(staging):
                shutil.rmtree(staging)
        if previous is not None and previous != self.latest():
            shutil.rmtree(previous)
        for stale in glob.glob(os.path.join(glob.escape(self.folder), ".*")):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed write

    def discard(self) -> None:
        """Delete the backup (call once the finished run's results are saved)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class AtomicCheckpoint(keras.callbacks.Callback):
    """Save the whole model (``.keras``) after each epoch, never half a file.

    ``keras.callbacks.ModelCheckpoint`` writes straight into the final name,
    so a run killed while saving leaves a file that will not load. This one
    writes under a unique temporary name in the same folder and renames it
    into place, so each checkpoint file is either complete or absent.

    Args:
        filepath: The file name, formatted with ``epoch`` (1-based), e.g.
            ``"ckpt/gpt_epoch_{epoch:03d}.keras"``.
        monitor: If given (e.g. ``"val_loss"``), save only when this logged
            value is lower than at every earlier save.

    Example:
        >>> callback = AtomicCheckpoint("/tmp/ckpt/model_{epoch:03d}.keras")
        >>> # model.fit(..., callbacks=[callback])
    """

    def __init__(self, filepath: str, monitor: str | None = None):
        super().__init__()
        if not os.fspath(filepath).endswith(".keras"):
            raise ValueError(
                f"Expected filepath to end with .keras. Received: filepath={filepath!r}"
            )
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.best = float("inf")

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: save after ``epoch`` (0-based) if it is due."""
        if self.monitor is not None:
            value = (logs or {}).get(self.monitor)
            if value is None or not float(value) < self.best:
                return
            self.best = float(value)
        path = self.filepath.format(epoch=epoch + 1)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with replacing(path, suffix=".keras") as partial:
            self.model.save(partial)
