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

from keras_gen._checks import check_float, check_int
from keras_gen._files import (
    FileFormatError,
    dump_json,
    partial_prefix,
    read_json,
    replacing,
)


class StepClock(keras.callbacks.Callback):
    """The one clock for training steps: time stamps, rates and a budget.

    It records ``time.perf_counter()`` at the start of ``fit()``, at every
    train-batch end and at every epoch end, which is what loss-vs-time
    plots, steps-per-second rates and "same time budget" comparisons need.
    With ``budget`` it also stops ``fit()`` once that many seconds are spent
    (counted after the first ``warmup_steps`` steps, so that tracing and
    compiling the train step need not count).

    Every clock restarts at each ``fit()`` call.

    Args:
        budget: Seconds (finite, > 0) after which training stops; ``None``
            (default) only measures.
        warmup_steps: Steps left out of ``elapsed`` and the budget (0 counts
            from the start of ``fit()``).

    Attributes:
        stamps: ``perf_counter()`` at each train-batch end (one per
            execution when the model runs several steps per call).
        steps: Optimizer steps completed (all of them, warm-up included).
        seconds: Seconds since ``fit()`` began, one entry per epoch end
            (validation included).
        train_seconds: Seconds spent in training steps only: per epoch,
            from its start to its last batch end (validation excluded).
        elapsed: Seconds counted against the budget so far.

    Example:
        >>> import numpy as np
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> clock = StepClock()
        >>> _ = model.fit(np.zeros((8, 2)), np.zeros((8, 1)), batch_size=2,
        ...               epochs=2, callbacks=[clock], verbose=0)
        >>> clock.steps, len(clock.stamps), len(clock.seconds)
        (8, 8, 2)
        >>> clock.steps_per_second() > 0
        True
    """

    def __init__(self, budget: float | None = None, warmup_steps: int = 0):
        super().__init__()
        # NaN compares False with everything: without this check the budget
        # would never run out.
        self.budget = (
            None if budget is None
            else check_float("budget", budget, 0, min_inclusive=False)
        )
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self._reset()

    def _reset(self):
        self.stamps: list[float] = []
        self.seconds: list[float] = []
        self.steps = 0
        self.train_seconds = 0.0
        self.elapsed = 0.0
        self._start = self._epoch_start = self._budget_start = None
        self._last_batch = -1

    def on_train_begin(self, logs=None):
        """Keras hook: start of ``fit()``; the clock restarts."""
        self._reset()
        self._start = time.perf_counter()
        if self.warmup_steps == 0:
            self._budget_start = self._start

    def on_epoch_begin(self, epoch, logs=None):
        """Keras hook: start of an epoch."""
        self._epoch_start = time.perf_counter()
        self._last_batch = -1

    def on_train_batch_end(self, batch, logs=None):
        """Keras hook: end of a train step (or of an execution of several)."""
        now = time.perf_counter()
        self.stamps.append(now)
        self.steps += batch - self._last_batch  # batch: last step, 0-based
        self._last_batch = batch
        if self._budget_start is None:
            if self.steps >= self.warmup_steps:
                self._budget_start = now
            return
        self.elapsed = now - self._budget_start
        if self.budget is not None and self.elapsed >= self.budget:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: end of an epoch (after its validation)."""
        self.seconds.append(time.perf_counter() - self._start)
        if self.stamps and self._epoch_start is not None:
            self.train_seconds += max(0.0, self.stamps[-1] - self._epoch_start)

    def steps_per_second(self, skip: int = 1) -> float:
        """Steady training rate: steps per second after the first ``skip`` stamps.

        The first batches hold tracing, compilation and pipeline start-up,
        so the rate is measured from the end of stamp ``skip`` to the last.

        Raises:
            ValueError: Fewer than ``skip + 2`` stamps were recorded.
        """
        skip = check_int("skip", skip, minimum=0)
        if len(self.stamps) < skip + 2:
            raise ValueError(
                f"Expected at least skip + 2 = {skip + 2} timed batches. "
                f"Received: {len(self.stamps)}. Train more steps or lower skip."
            )
        per_stamp = self.steps / len(self.stamps)  # steps per execution
        seconds = self.stamps[-1] - self.stamps[skip]
        return (len(self.stamps) - 1 - skip) * per_stamp / seconds


class TimeBudget(StepClock):
    """Stop ``fit()`` once a wall-clock budget is spent.

    Comparing two models "on the same time budget" is fairer on a laptop than
    comparing them on the same number of epochs: a model that is slower per
    step gets fewer steps, as it would in real life. A :class:`StepClock`
    with a budget counted from the start of ``fit()``.

    Args:
        seconds: Budget in seconds (finite, > 0), counted from the start of
            ``fit()``.

    Attributes:
        elapsed: Seconds spent when training stopped.
        steps: Train steps completed.
        budget: The budget in seconds (``seconds`` is now, as for every
            :class:`StepClock`, the list of epoch-end times).

    Example:
        >>> budget = TimeBudget(60)
        >>> # model.fit(data, epochs=1000, callbacks=[budget]); budget.steps
    """

    def __init__(self, seconds: float):
        super().__init__(budget=check_float("seconds", seconds, 0, min_inclusive=False))


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
            ValueError: The backup was made with other settings.
            FileFormatError: The backup is damaged (a ``ValueError`` too);
                the message names the file and says to delete the folder.
        """
        latest = self.latest()
        if latest is None:
            return 0
        path = os.path.join(latest, "meta.json")
        meta = self._read_meta(path, ("settings",))
        if meta["settings"] != self.settings:
            raise ValueError(
                f"Expected the interrupted run in {self.folder} to have the same "
                f"settings to resume it. Received: {self.settings}, but the backup "
                f"was made with {meta['settings']}. Use the same settings, or "
                f"delete {self.folder} to start again."
            )
        meta = self._read_meta(path)  # settings agree: now every field
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

    def _read_meta(self, path: str, fields=None) -> dict:
        """The backup record at ``path``, checked field by field.

        Only ``fields`` are checked when given (the settings first, so that a
        run with other settings hears that rather than of another field).

        Raises:
            FileFormatError: Missing, not JSON, or a field is missing or of
                the wrong type; the message names the file and the fix.
        """
        fix = (
            f"Delete the folder {self.folder} to start the run afresh (the "
            "interrupted run's progress is lost)."
        )
        try:
            meta = read_json(path, "backup record", 1 << 24)
        except (OSError, FileFormatError) as error:
            raise FileFormatError(
                f"Could not read the backup record {path}: {error} {fix}"
            ) from error
        expected = {
            "epochs_done": int,
            "settings": dict,
            "history": dict,
            "seed_states": list,
        }
        if fields is not None:
            expected = {key: expected[key] for key in fields}
        problems = [
            f"{key} (expected {kind.__name__})"
            for key, kind in expected.items()
            if not isinstance(meta, dict)
            or not isinstance(meta.get(key), kind)
            or isinstance(meta.get(key), bool)
        ]
        if not problems and fields is None:
            if meta["epochs_done"] < 1:
                problems.append("epochs_done (expected >= 1)")
            if not all(isinstance(v, list) for v in meta["history"].values()):
                problems.append("history (expected lists of numbers)")
        if problems:
            received = (
                {
                    key: type(meta[key]).__name__ if key in meta else "missing"
                    for key in expected
                }
                if isinstance(meta, dict)
                else f"a JSON {type(meta).__name__}"
            )
            raise FileFormatError(
                f"Expected the backup record {path} to hold "
                f"{', '.join(problems)}. Received: {received}. The backup is "
                f"damaged. {fix}"
            )
        return meta

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
