"""Pretraining a language model: loss, bits per character, schedule, callbacks.

Pretraining is next-token prediction: at every position the model scores all
possible next tokens, and the loss is the cross-entropy ``-ln p(true next
token)``, in *nats* (natural log), averaged over positions. Two friendlier
readings of the same number:

* **bits per character** = loss / ln 2, per token; times tokens per character
  when a token is more than one character (BPE). A model that knows nothing
  about a 100-character alphabet needs log2(100) = 6.6 bits per character.
* **perplexity** = exp(loss): the model is as unsure as if it picked uniformly
  among that many tokens.

The optimizer recipe is GPT-style: AdamW (weight decay on matrices, not on
biases or LayerNorm), a linear warm-up then cosine decay of the learning rate,
and global gradient-norm clipping. XLA compilation is on by default because it
is measurably faster on CPU (``benchmarks/gpt_pretrain.py``) and Keras'
``jit_compile="auto"`` would turn it off there.
"""

from __future__ import annotations

import dataclasses
import math
import os

import keras
from keras import ops

from keras_gen import _checks
from keras_gen.callbacks import StepClock


def next_token_loss():
    """Mean next-token cross-entropy in nats, from logits.

    Returns:
        A ``keras.losses.SparseCategoricalCrossentropy`` taking integer
        targets ``(batch, seq_len)`` and logits ``(batch, seq_len, vocab)``.

    Example:
        >>> loss = next_token_loss()
        >>> import numpy as np
        >>> targets, logits = np.zeros((1, 1)), np.zeros((1, 1, 2))
        >>> round(float(loss(targets, logits)), 4)  # 2 equally likely: ln 2
        0.6931
    """
    return keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, name="next_token_loss"
    )


def bits_per_character(loss_nats: float, tokens_per_character: float = 1.0) -> float:
    """Convert a per-token loss in nats to bits per character.

    Args:
        loss_nats: Mean cross-entropy per token, natural log.
        tokens_per_character: Tokens divided by characters of the evaluated
            text; ``1`` for a character tokenizer, below 1 for BPE (e.g. 0.47
            when a token covers 2.1 characters on average).

    Returns:
        Bits per character.

    Example:
        >>> round(bits_per_character(math.log(2)), 3)
        1.0
        >>> round(bits_per_character(2.0, tokens_per_character=0.5), 3)
        1.443
    """
    if loss_nats < 0 or not math.isfinite(loss_nats):
        raise ValueError(
            f"Expected a finite loss >= 0 in nats. Received: loss_nats={loss_nats}"
        )
    if tokens_per_character <= 0:
        raise ValueError(
            "Expected tokens_per_character > 0. "
            f"Received: tokens_per_character={tokens_per_character}"
        )
    return loss_nats / math.log(2) * tokens_per_character


@keras.saving.register_keras_serializable(package="keras_gen")
class Perplexity(keras.metrics.Metric):
    """exp(mean next-token cross-entropy) over everything seen since reset.

    It averages the *loss* first and exponentiates at the end, which is the
    perplexity of the whole evaluated text (not a mean of per-batch
    perplexities). With ``sample_weight`` (e.g. 0 on padding, 1 on the tokens
    that count), each token's loss is weighted and the mean divides by the sum
    of the weights, as ``reduction="mean_with_sample_weight"`` does.

    Args:
        name: Metric name.
        **kwargs: Passed to ``keras.metrics.Metric``.

    Example:
        >>> m = Perplexity()
        >>> import numpy as np
        >>> m.update_state(np.zeros((1, 1)), np.zeros((1, 1, 2)))
        >>> round(float(m.result()), 4)  # two equally likely tokens
        2.0
        >>> m.reset_state()
        >>> logits = np.log([[[0.5, 0.5], [0.25, 0.75]]])  # (1, 2, 2)
        >>> m.update_state(np.ones((1, 2)), logits, sample_weight=[[0.0, 1.0]])
        >>> round(float(m.result()), 4)  # only the second token: 1 / 0.75
        1.3333
    """

    def __init__(self, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Accumulate the cross-entropy of targets ``y_true`` under logits."""
        nll = keras.losses.sparse_categorical_crossentropy(
            y_true, y_pred, from_logits=True
        )  # (batch, seq_len)
        nll = ops.cast(nll, "float32")
        if sample_weight is None:
            weight = ops.ones_like(nll)
        else:  # broadcast (batch,) or (batch, seq_len) weights to the tokens
            weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
            while len(weight.shape) < len(nll.shape):
                weight = ops.expand_dims(weight, -1)
            weight = ops.broadcast_to(weight, ops.shape(nll))
        self.total.assign_add(ops.sum(nll * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):  # noqa: D102
        return ops.exp(self.total / ops.maximum(self.count, 1.0))

    def reset_state(self):  # noqa: D102
        self.total.assign(0.0)
        self.count.assign(0.0)


def warmup_cosine(
    learning_rate: float = 1e-3,
    total_steps: int = 2000,
    warmup_steps: int = 100,
    min_learning_rate: float = 1e-4,
):
    """Linear warm-up from 0 to ``learning_rate``, then cosine decay.

    Warm-up keeps the first, largest updates from wrecking the fresh random
    weights (Adam's moment estimates are still poor then); cosine decay then
    lowers the step size smoothly to ``min_learning_rate`` at ``total_steps``.

    Args:
        learning_rate: Peak learning rate, reached after ``warmup_steps``.
        total_steps: Step at which the decay reaches ``min_learning_rate``.
        warmup_steps: Length of the linear warm-up.
        min_learning_rate: Final learning rate.

    Returns:
        A ``keras.optimizers.schedules.CosineDecay``.

    Example:
        >>> schedule = warmup_cosine(1e-3, total_steps=2000, warmup_steps=100)
        >>> [round(float(schedule(s)), 5) for s in (0, 50, 100, 2000)]
        [0.0, 0.0005, 0.001, 0.0001]
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            "Expected 0 <= warmup_steps < total_steps. Received: "
            f"warmup_steps={warmup_steps}, total_steps={total_steps}"
        )
    if not 0 <= min_learning_rate <= learning_rate:
        raise ValueError(
            "Expected 0 <= min_learning_rate <= learning_rate. Received: "
            f"min_learning_rate={min_learning_rate}, learning_rate={learning_rate}"
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=total_steps - warmup_steps,
        alpha=min_learning_rate / learning_rate if learning_rate else 0.0,
        warmup_target=learning_rate,
        warmup_steps=warmup_steps,
    )


def make_optimizer(
    learning_rate: float = 1e-3,
    total_steps: int = 2000,
    warmup_steps: int = 100,
    min_learning_rate: float = 1e-4,
    weight_decay: float = 0.1,
    beta_1: float = 0.9,
    beta_2: float = 0.99,
    clipnorm: float | None = 1.0,
):
    """AdamW with warm-up + cosine decay and global gradient clipping.

    The defaults are the well-known CPU "baby GPT" recipe (nanoGPT's
    ``shakespeare_char`` config shrunk for a laptop). Biases and LayerNorm
    scales are excluded from weight decay, as in GPT-2 and nanoGPT.

    Args:
        learning_rate: Peak learning rate.
        total_steps: Steps until the decay reaches ``min_learning_rate``.
        warmup_steps: Linear warm-up steps.
        min_learning_rate: Final learning rate.
        weight_decay: Decoupled weight decay (Loshchilov & Hutter, 2019).
        beta_1: Adam's first-moment decay.
        beta_2: Adam's second-moment decay; 0.99 suits small batches.
        clipnorm: Clip the global gradient norm to this; ``None`` for none.

    Returns:
        A ``keras.optimizers.AdamW``.

    Example:
        >>> opt = make_optimizer(total_steps=500, warmup_steps=50)
        >>> type(opt).__name__
        'AdamW'
    """
    _checks.check_float("weight_decay", weight_decay, minimum=0)
    optimizer = keras.optimizers.AdamW(
        learning_rate=warmup_cosine(
            learning_rate, total_steps, warmup_steps, min_learning_rate
        ),
        weight_decay=weight_decay,
        beta_1=beta_1,
        beta_2=beta_2,
        global_clipnorm=clipnorm,
    )
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer


def compile_for_pretraining(
    model, optimizer=None, jit_compile: bool = True, steps_per_execution: int = 1
):
    """Compile a language model with the next-token loss and perplexity.

    Args:
        model: A model mapping token ids to logits, e.g. from ``build_gpt``.
        optimizer: Default :func:`make_optimizer` with its defaults.
        jit_compile: XLA-compile the train step (default on; see module doc).
        steps_per_execution: Train steps per compiled call; more steps cut
            Python overhead per step for small models.

    Returns:
        The model, compiled (for chaining).

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> model = compile_for_pretraining(build_gpt(10, 8, 16, 2, 1))
        >>> model.loss.name
        'next_token_loss'
    """
    model.compile(
        optimizer=optimizer or make_optimizer(),
        loss=next_token_loss(),
        metrics=[Perplexity()],
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


class SampleText(keras.callbacks.Callback):
    """Print (and keep) a sample of generated text every ``every`` steps.

    Args:
        tokenizer: Turns the prompt into ids and the sample back into text.
        prompt: Text the samples continue.
        every: Train steps between samples (counted over all epochs).
        max_new_tokens: Length of each sample in tokens.
        temperature: Sampling temperature (lower = safer, duller text).
        top_k: Optional top-k filter.
        seed: Sampling seed; the same seed at every step, so samples differ
            only because the model changed.
        verbose: Print each sample.

    Attributes:
        samples: ``{step: text}``; step 0 is the untrained model.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> callback = SampleText(CharTokenizer.train("abc "), "ab", every=100)
        >>> # model.fit(..., callbacks=[callback]); callback.samples[100]
    """

    def __init__(
        self,
        tokenizer,
        prompt: str,
        every: int = 500,
        max_new_tokens: int = 200,
        temperature: float = 0.8,
        top_k: int | None = None,
        seed: int = 0,
        verbose: bool = True,
    ):
        super().__init__()
        every = _checks.check_int("every", every, minimum=1)
        if not prompt:
            raise ValueError(
                "Expected a non-empty prompt to continue. Received: prompt=''"
            )
        self.tokenizer = tokenizer
        self.prompt_ids = tokenizer.encode(prompt)
        self.every = every
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_k = top_k
        self.seed = seed
        self.verbose = verbose
        self.samples: dict[int, str] = {}
        self.step = 0

    def sample(self) -> str:
        """Generate one sample from the current weights."""
        ids = self.model.generate(
            self.prompt_ids,
            self.max_new_tokens,
            temperature=self.temperature,
            top_k=self.top_k,
            seed=self.seed,
        )
        return self.tokenizer.decode(ids)

    def _record(self):
        text = self.sample()
        self.samples[self.step] = text
        if self.verbose:
            print(f"\n--- sample at step {self.step} ---\n{text}\n")

    def on_train_begin(self, logs=None):
        """Keras hook: start of ``fit()``."""
        if self.step not in self.samples:
            self._record()

    def on_train_batch_end(self, batch, logs=None):
        """Keras hook: end of a train step."""
        # With steps_per_execution > 1 Keras calls this once per execution.
        steps = getattr(self.model, "steps_per_execution", 1) or 1
        before = self.step
        self.step += int(steps)
        if self.step // self.every > before // self.every:
            self._record()


#: The old name of :class:`keras_gen.callbacks.StepClock` (its ``seconds``
#: list is the one ``StepTimer`` kept); notebook 05 and older code use it.
StepTimer = StepClock


def checkpoint_callback(directory: str, every_epoch: bool = True):
    """Save the whole model (``.keras``) at each epoch end into ``directory``.

    Each file is written under a temporary name and renamed into place, so a
    run killed while saving never leaves a checkpoint that will not load
    (see :class:`keras_gen.callbacks.AtomicCheckpoint`).

    Args:
        directory: Folder for ``gpt_epoch_{epoch:03d}.keras`` files.
        every_epoch: Keep one file per epoch; otherwise keep only the best
            by validation loss in ``gpt_best.keras``.

    Returns:
        A :class:`keras_gen.callbacks.AtomicCheckpoint`.
    """
    from keras_gen.callbacks import AtomicCheckpoint

    os.makedirs(directory, exist_ok=True)
    if every_epoch:
        return AtomicCheckpoint(os.path.join(directory, "gpt_epoch_{epoch:03d}.keras"))
    return AtomicCheckpoint(
        os.path.join(directory, "gpt_best.keras"), monitor="val_loss"
    )


def evaluate_loss(model, dataset, steps: int | None = None) -> float:
    """Mean next-token loss (nats) of ``model`` over ``dataset``.

    Args:
        model: A compiled language model.
        dataset: Batches of ``(inputs, targets)``.
        steps: Batches to use; all of a finite dataset when ``None``.

    Returns:
        The loss as a Python float.
    """
    result = model.evaluate(dataset, steps=steps, verbose=0, return_dict=True)
    return float(result["loss"])


def tokens_per_character(tokenizer, text: str) -> float:
    """Tokens the tokenizer needs per character of ``text`` (1.0 for chars).

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> tokens_per_character(CharTokenizer.train("abc"), "abcabc")
        1.0
    """
    if not text:
        raise ValueError("Expected a non-empty text. Received: text=''")
    return len(tokenizer.encode(text)) / len(text)


class _StopAfter(keras.callbacks.Callback):
    """Stop ``fit()`` at the end of step ``last_size`` of epoch ``last_epoch``.

    Keras then still validates and calls every ``on_epoch_end``, so the short
    last chunk is logged and backed up like the others.
    """

    def __init__(self, last_epoch: int, last_size: int):
        super().__init__()
        self.last_epoch, self.last_size, self.epoch = last_epoch, last_size, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # ``batch`` is the last step of the execution, 0-based in the epoch.
        if self.epoch == self.last_epoch and batch + 1 >= self.last_size:
            self.model.stop_training = True


def chunk_count(steps: int, chunk: int) -> int:
    """How many chunks :func:`fit_steps` trains: ``ceil(steps / chunk)``.

    Example:
        >>> chunk_count(1000, 300)  # 300, 300, 300 and a last chunk of 100
        4
    """
    steps = _checks.check_int("steps", steps, minimum=1)
    chunk = _checks.check_int("chunk", chunk, minimum=1)
    return -(-steps // chunk)


def fit_steps(
    model,
    dataset,
    steps: int,
    chunk: int | None = None,
    *,
    callbacks=None,
    initial_chunk: int = 0,
    validation_data=None,
    verbose=0,
    **fit_kwargs,
):
    """Train exactly ``steps`` optimizer steps, in chunks of ``chunk`` steps.

    The one rule for "train N steps, and log / validate / back up every k":
    each chunk is one Keras epoch of ``chunk`` steps, and when ``chunk`` does
    not divide ``steps`` the last chunk is shorter, so exactly ``steps`` steps
    are trained (never ``steps // chunk * chunk``, never an error). All chunks
    run in one ``fit()`` call, so the dataset's iterator runs on from chunk
    to chunk and callbacks see one training run.

    Args:
        model: A compiled Keras model.
        dataset: What ``fit()`` takes as ``x``; it must hold at least
            ``steps`` batches (a repeated ``tf.data.Dataset``, say). Arrays
            need ``y=`` and ``batch_size=`` too, as for ``fit()``.
        steps: Optimizer steps to train, >= 1.
        chunk: Steps per chunk (epoch), >= 1; ``None`` for one chunk. Values
            above ``steps`` mean one chunk.
        callbacks: Keras callbacks; ``on_epoch_end`` runs after each chunk.
        initial_chunk: Chunks already trained by an interrupted run (what
            :meth:`keras_gen.callbacks.EpochBackup.restore` returns); the
            caller skips their batches in ``dataset`` if it wants the same
            ones as an uninterrupted run.
        validation_data: Evaluated after each chunk, as ``fit()`` does.
        verbose: ``fit()``'s verbosity.
        **fit_kwargs: Any other ``fit()`` argument (``y``, ``batch_size``,
            ...) except ``epochs``, ``steps_per_epoch`` and
            ``initial_epoch``, which this sets.

    Returns:
        The ``History`` of the ``fit()`` call: one entry per chunk trained
        in this call (empty when ``initial_chunk`` chunks are all of them).

    Raises:
        ValueError: ``steps``, ``chunk`` or ``initial_chunk`` out of range,
            or ``model.steps_per_execution`` does not divide the chunks.

    Example:
        >>> import numpy as np
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> x, y = np.zeros((80, 2)), np.zeros((80, 1))  # 20 batches of 4
        >>> history = fit_steps(model, x, 10, chunk=4, y=y, batch_size=4)
        >>> int(model.optimizer.iterations), len(history.history["loss"])
        (10, 3)
    """
    steps = _checks.check_int("steps", steps, minimum=1)
    chunk = steps if chunk is None else _checks.check_int("chunk", chunk, minimum=1)
    chunk = min(chunk, steps)
    chunks = chunk_count(steps, chunk)
    initial_chunk = _checks.check_int(
        "initial_chunk", initial_chunk, minimum=0, maximum=chunks
    )
    last_size = steps - (chunks - 1) * chunk  # 1..chunk
    per_call = int(getattr(model, "steps_per_execution", 1) or 1)
    if chunk % per_call or last_size % per_call:
        raise ValueError(
            f"Expected model.steps_per_execution={per_call} to divide the chunk "
            f"({chunk} steps) and the last chunk ({last_size} steps), so that "
            f"exactly {steps} steps are trained. Received: steps={steps}, "
            f"chunk={chunk}. Compile with steps_per_execution=1 or pick a "
            "chunk and steps that it divides."
        )
    for name in ("epochs", "steps_per_epoch", "initial_epoch"):
        if name in fit_kwargs:
            raise ValueError(
                f"Expected no {name}= for fit_steps: it sets {name} from steps "
                f"and chunk. Received: {name}={fit_kwargs[name]!r}"
            )
    if initial_chunk == chunks:
        return keras.callbacks.History()  # all chunks were trained before
    return model.fit(
        dataset,
        epochs=chunks,
        steps_per_epoch=chunk,
        initial_epoch=initial_chunk,
        validation_data=validation_data,
        callbacks=[*(callbacks or []), _StopAfter(chunks - 1, last_size)],
        verbose=verbose,
        **fit_kwargs,
    )


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How a model is trained: one value for steps, batch and optimizer.

    The training counterpart of :class:`keras_gen.transformer.GPTConfig`:
    the tools, notebooks and benchmarks read their learning rate, warm-up,
    steps and batch size from a named preset (:meth:`preset`) instead of
    spelling them out again. :meth:`optimizer` builds
    :func:`make_optimizer`'s AdamW with warm-up and cosine decay over
    ``steps`` (the warm-up is capped at a tenth of the steps, so a short
    ``--quick`` run still decays).

    * ``"baby-gpt"``: notebook 05's CPU "baby GPT" run (nanoGPT's recipe);
    * ``"pydoc-char"``: the shipped GPT, ``tools/train_pretrained.py``;
    * ``"moses-smiles"``: the SMILES GPT, ``tools/train_moses_gpt.py``;
    * ``"helpdesk-chat"``: the help desk's fine-tuning,
      ``tools/train_helpdesk_chat.py``;
    * ``"finetune"``: the defaults of :func:`keras_gen.finetune.finetune_lm`.

    The fine-tuning recipes warm up over a tenth of the steps and decay to a
    tenth of the learning rate (``warmup_steps=None``,
    ``min_learning_rate=None``).

    Example:
        >>> recipe = Recipe.preset("pydoc-char")
        >>> recipe.steps, recipe.batch_size, recipe.learning_rate
        (1500, 16, 0.002)
        >>> Recipe.preset("pydoc-char", steps=20).warmup_for(20)
        2
        >>> type(recipe.optimizer()).__name__
        'AdamW'
    """

    steps: int
    batch_size: int
    learning_rate: float
    min_learning_rate: float | None = None
    warmup_steps: int | None = 100
    eval_every: int = 100
    weight_decay: float = 0.1
    beta_2: float = 0.99
    clipnorm: float | None = 1.0

    def __post_init__(self):
        _checks.check_int("steps", self.steps, minimum=1)
        _checks.check_int("batch_size", self.batch_size, minimum=1)
        _checks.check_float(
            "learning_rate", self.learning_rate, 0, min_inclusive=False
        )
        if self.min_learning_rate is not None:
            _checks.check_float(
                "min_learning_rate", self.min_learning_rate, 0,
                maximum=self.learning_rate,
            )
        if self.warmup_steps is not None:
            _checks.check_int("warmup_steps", self.warmup_steps, minimum=0)
        _checks.check_int("eval_every", self.eval_every, minimum=1)
        _checks.check_float("weight_decay", self.weight_decay, minimum=0)

    @classmethod
    def preset(cls, name: str, **overrides) -> Recipe:
        """A named recipe, with any field replaced by ``overrides``.

        Args:
            name: One of :data:`RECIPES` (see the class docstring).
            **overrides: Fields to change, e.g. ``steps=20`` for a quick run.

        Returns:
            A new :class:`Recipe`.
        """
        _checks.check_choice("name", name, tuple(RECIPES))
        return dataclasses.replace(RECIPES[name], **overrides)

    @property
    def final_learning_rate(self) -> float:
        """Where the cosine decay ends: ``min_learning_rate`` or a tenth."""
        if self.min_learning_rate is None:
            return self.learning_rate / 10
        return self.min_learning_rate

    def warmup_for(self, steps: int | None = None) -> int:
        """Warm-up steps for a run of ``steps``: at most a tenth of them.

        With ``warmup_steps=None`` (the fine-tuning recipes) the warm-up is
        a tenth of the steps, at least 1 (0 for a one-step run).
        """
        steps = self.steps if steps is None else steps
        steps = _checks.check_int("steps", steps, minimum=1)
        if self.warmup_steps is None:
            return min(max(1, steps // 10), steps - 1)
        return min(self.warmup_steps, steps // 10)

    def optimizer(self, steps: int | None = None):
        """:func:`make_optimizer` for a run of ``steps`` (default ``self.steps``)."""
        steps = self.steps if steps is None else steps
        return make_optimizer(
            self.learning_rate,
            total_steps=steps,
            warmup_steps=self.warmup_for(steps),
            min_learning_rate=self.final_learning_rate,
            weight_decay=self.weight_decay,
            beta_2=self.beta_2,
            clipnorm=self.clipnorm,
        )


#: The project's named training recipes; see :class:`Recipe`.
RECIPES = {
    "baby-gpt": Recipe(
        steps=2000, batch_size=16, learning_rate=1e-3, min_learning_rate=1e-4
    ),
    "pydoc-char": Recipe(
        steps=1500, batch_size=16, learning_rate=2e-3, min_learning_rate=2e-4
    ),
    "moses-smiles": Recipe(
        steps=8000, batch_size=64, learning_rate=2e-3, min_learning_rate=1e-4,
        eval_every=250,
    ),
    "helpdesk-chat": Recipe(
        steps=300, batch_size=16, learning_rate=1e-3, warmup_steps=None
    ),
    "finetune": Recipe(
        steps=300, batch_size=32, learning_rate=5e-4, warmup_steps=None
    ),
}
