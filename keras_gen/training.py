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

import math
import os
import time

import keras
from keras import ops

from keras_gen import _checks


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


class StepTimer(keras.callbacks.Callback):
    """Record wall-clock time at each epoch end (for loss-vs-time plots).

    Attributes:
        seconds: Seconds since training began, one entry per epoch.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = None

    def on_train_begin(self, logs=None):
        """Keras hook: start of ``fit()``."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        """Keras hook: end of an epoch."""
        self.seconds.append(time.perf_counter() - self._start)


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
