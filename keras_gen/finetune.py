"""Fine-tuning a pretrained GPT for specific tasks.

The article: LLMs are "pre-trained on diverse datasets, followed by
fine-tuning for specific tasks". Pretraining (notebook 05) taught a GPT to
continue Python documentation. This module adapts such a model to two kinds of
task, the two ways GPT-style models are usually fine-tuned:

* **generation** (prompt in, text out), like the article's Codex example:
  the same language model keeps training on ``prompt + completion`` strings,
  with the loss counted only on the completion's tokens
  (:func:`prompt_completion_arrays`, :func:`finetune_lm`), and answers are
  read back with greedy decoding (:func:`greedy_complete`). The task data,
  :func:`keras_gen.tasks.make_code_pairs`, pairs a plain-English request with
  a one-line Python expression.
* **classification** (text in, label out), like the article's sentiment
  analysis: the pretrained *body* (embeddings, blocks, final LayerNorm) reads
  the text, its vectors are averaged, and a new Dense layer maps the average
  to class scores (:class:`GPTClassifier`). The task data,
  :func:`keras_gen.tasks.load_docstring_topics`, is the first sentence of real
  docstrings from Python's standard library labelled by the part of the
  library they document.

:func:`few_shot_curve` measures what pretraining buys: test accuracy against
the number of labelled examples, for the pretrained body and for the same
architecture trained from random weights.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from keras_gen import _checks
from keras_gen._nested import NestedConfig
from keras_gen.decoding import generate_ids
from keras_gen.training import Recipe, fit_steps
from keras_gen.transformer import GPT

# --------------------------------------------------------------------------
# Generation: keep training the language model, loss on the answer only
# --------------------------------------------------------------------------


def prompt_completion_arrays(tokenizer, pairs, length: int):
    r"""Token arrays for fine-tuning a language model on prompt -> completion.

    Each pair becomes one row: ``ids = encode(prompt + completion)``, inputs
    ``ids[:-1]`` and targets ``ids[1:]`` (next-token prediction, as in
    pretraining), padded with zeros to ``length``. The weights are 1 exactly
    where the *target* is a completion token, so the loss teaches the model
    to write answers, not to invent prompts, and ignores padding.

    Args:
        tokenizer: The pretrained model's tokenizer.
        pairs: ``(prompt, completion)`` strings.
        length: Row length; at least the longest ``prompt + completion`` in
            tokens minus one, and at most the model's ``context_length``.

    Returns:
        ``(inputs, targets, weights)``: int32, int32 and float32 arrays of
        shape ``(len(pairs), length)``.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> tok = CharTokenizer.train("ab=\n")
        >>> x, y, w = prompt_completion_arrays(tok, [("a=", "b\n")], 5)
        >>> tok.decode(x[0, :3]), tok.decode(y[0, :3]), w[0].tolist()
        ('a=b', '=b\n', [0.0, 1.0, 1.0, 0.0, 0.0])
    """
    if not pairs:
        raise ValueError("Expected at least one (prompt, completion) pair.")
    rows = len(pairs)
    inputs = np.zeros((rows, length), "int32")
    targets = np.zeros((rows, length), "int32")
    weights = np.zeros((rows, length), "float32")
    for i, (prompt, completion) in enumerate(pairs):
        if not completion:
            raise ValueError(
                f"Expected a non-empty completion. Received: an empty one for "
                f"prompt={prompt!r}"
            )
        p = tokenizer.encode(prompt)
        ids = p + tokenizer.encode(completion)
        if len(ids) - 1 > length:
            raise ValueError(
                f"Expected prompt + completion of at most length + 1 = {length + 1}"
                f" tokens. Received: {len(ids)} tokens for prompt={prompt!r}. "
                "Raise length (up to the model's context_length) or shorten it."
            )
        n = len(ids) - 1
        inputs[i, :n] = ids[:-1]
        targets[i, :n] = ids[1:]
        # Target t is token t + 1: completion tokens are targets len(p)-1 ...
        weights[i, max(len(p) - 1, 0) : n] = 1.0
    return inputs, targets, weights


def completion_loss():
    """Cross-entropy averaged over the tokens whose weight is 1 (nats).

    ``reduction="mean_with_sample_weight"`` divides by the sum of the weights,
    so the number is "nats per completion token" and does not shrink when
    rows carry more padding.

    Example:
        >>> loss = completion_loss()
        >>> y, logits = np.zeros((1, 2)), np.zeros((1, 2, 4))
        >>> round(float(loss(y, logits, sample_weight=np.array([[1.0, 0.0]]))), 4)
        1.3863
    """
    return keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight", name="completion_loss"
    )


def _repeat_batches(arrays, batch_size: int, seed: int):
    """A ``tf.data`` pipeline that reshuffles and repeats ``arrays`` forever."""
    import tensorflow as tf  # tf.data: Keras has no input-pipeline equivalent

    rows = len(arrays[0])
    return (
        tf.data.Dataset.from_tensor_slices(tuple(arrays))
        .shuffle(rows, seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size, drop_remainder=True)  # one shape: one compilation
    )


def _finetune_optimizer(learning_rate: float, steps: int):
    """The pretraining AdamW recipe rescaled to a short fine-tuning run.

    Warm-up over the first tenth of ``steps``, then cosine decay to a tenth of
    ``learning_rate``; shared by :func:`finetune_lm` and
    :func:`compile_classifier`.
    """
    if steps < 1:
        raise ValueError(f"Expected steps >= 1. Received: steps={steps}")
    return Recipe.preset(
        "finetune", steps=steps, learning_rate=learning_rate
    ).optimizer()


def finetune_lm(
    model,
    inputs,
    targets,
    weights,
    steps: int = 300,
    batch_size: int = 32,
    learning_rate: float = 5e-4,
    seed: int = 0,
    jit_compile: bool = True,
    log_every: int | None = None,
):
    """Keep training a language model, counting only weighted target tokens.

    A smaller peak learning rate than pretraining (the weights are already
    good; big steps would wipe out what they know), a short warm-up and cosine
    decay, AdamW as in pretraining.

    Args:
        model: A GPT (trained in place).
        inputs: int ``(rows, length)`` from :func:`prompt_completion_arrays`.
        targets: int ``(rows, length)``.
        weights: float ``(rows, length)``; 1 where a token counts.
        steps: Optimizer steps.
        batch_size: Rows per step (sampled from the shuffled rows, repeated).
        learning_rate: Peak learning rate.
        seed: Shuffle and initialisation seed.
        jit_compile: XLA-compile the train step.
        log_every: Record the mean loss every this many steps (one ``fit``
            "epoch" each); default once, at the end. Exactly ``steps`` steps
            are trained: when ``log_every`` does not divide them, the last
            entry covers the shorter rest (:func:`keras_gen.training.fit_steps`).

    Returns:
        The ``History`` of ``fit``: ``history["loss"]`` has one entry per
        ``log_every`` steps, the mean completion loss over those steps.
    """
    steps = _checks.check_int("steps", steps, minimum=1)
    optimizer = _finetune_optimizer(learning_rate, steps)
    if log_every is None:
        log_every = steps
    log_every = _checks.check_int("log_every", log_every, minimum=1, maximum=steps)
    keras.utils.set_random_seed(seed)
    model.compile(
        optimizer=optimizer,
        loss=completion_loss(),
        jit_compile=jit_compile,
    )
    data = _repeat_batches((inputs, targets, weights), batch_size, seed)
    return fit_steps(model, data, steps, log_every)


def greedy_complete(
    model,
    tokenizer,
    prompts,
    max_new_tokens: int = 40,
    stop: str = "\n",
    verbose: bool | None = None,
):
    r"""Complete each prompt with the most likely token at every step.

    Prompts of different lengths run as one batch through
    :func:`keras_gen.decoding.generate_ids`: each row is decoded from its
    own last position, with the key/value cache.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        tokenizer: Its tokenizer.
        prompts: A list of strings.
        max_new_tokens: Longest completion, in tokens.
        stop: A completion ends at the first ``stop`` string (kept out of the
            returned text); ``None`` to always generate ``max_new_tokens``.
        verbose: Show a progress bar; ``None``: only for long requests (as
            :func:`keras_gen.decoding.generate_ids` decides).

    Returns:
        The completions, a list of strings.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("ab\n", byte_fallback=False)
        >>> keras.utils.set_random_seed(0)
        >>> out = greedy_complete(build_gpt(3, 16, 8, 2, 1), tok, ["a", "ab"], 4)
        >>> len(out), all(set(o) <= set("ab") for o in out)
        (2, True)
    """
    if isinstance(prompts, str):
        raise ValueError(
            "Expected a list of prompts. Received: a single str; wrap it in a "
            "list: greedy_complete(model, tokenizer, [prompt])"
        )
    max_new_tokens = _checks.check_int("max_new_tokens", max_new_tokens, minimum=1)
    encoded = [tokenizer.encode(p) for p in prompts]
    if not encoded or min(len(e) for e in encoded) == 0:
        raise ValueError("Expected non-empty prompts. Received an empty prompt.")
    context = model.context_length
    longest = max(len(e) for e in encoded) + max_new_tokens
    if longest > context:
        raise ValueError(
            f"Expected prompt + max_new_tokens <= context_length={context}. "
            f"Received: {longest} tokens. Shorten the prompt or max_new_tokens."
        )
    # One batch, each row decoded from its own length with the key/value
    # cache, tokens picked by keras_gen.sampling.greedy.
    rows = generate_ids(
        model, encoded, max_new_tokens, do_sample=False, jit=False, verbose=verbose
    )
    if len({len(e) for e in encoded}) == 1:  # equal lengths: one 2-D array
        rows = list(np.atleast_2d(rows))
    out = []
    for row, prompt in zip(rows, encoded, strict=True):
        text = tokenizer.decode(row[len(prompt) :].tolist())
        if stop is not None and stop in text:
            text = text[: text.index(stop)]
        out.append(text)
    return out


def completion_token_log_probs(
    model, tokenizer, pairs, length: int, batch_size: int = 128
):
    r"""Log-probability of each completion token given everything before it.

    The scoring twin of :func:`finetune_lm`: the same rows
    (:func:`prompt_completion_arrays`), one forward pass per batch (no
    decoding), and the log-softmax of the logits read at each completion
    token. :func:`completion_log_probs` sums them; the smallest one says
    where a completion surprised the model most (a single-character slip).

    Args:
        model: A :class:`~keras_gen.transformer.GPT` (or any model mapping
            int ``(batch, length)`` to logits ``(batch, length, vocab)``).
        tokenizer: Its tokenizer.
        pairs: ``(prompt, completion)`` strings; completions non-empty.
        length: Row length, as in :func:`prompt_completion_arrays`.
        batch_size: Rows per forward pass.

    Returns:
        ``(log_probs, weights)``: float64 ``(len(pairs), length)``, the log
        probability (nats, at most 0) of each target token, 0 where the
        target is not a completion token; and the float32 weights of
        :func:`prompt_completion_arrays` (1 on completion tokens).

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("ab\n", byte_fallback=False)
        >>> gpt = build_gpt(3, 8, 8, 2, 1)
        >>> logp, weights = completion_token_log_probs(gpt, tok, [("a", "b\n")], 4)
        >>> weights.tolist(), bool((logp[0, :2] < 0).all()), logp[0, 2:].tolist()
        ([[1.0, 1.0, 0.0, 0.0]], True, [0.0, 0.0])
    """
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    if isinstance(pairs, tuple) and len(pairs) == 2 and isinstance(pairs[0], str):
        raise ValueError(
            "Expected a list of (prompt, completion) pairs. Received: a single "
            "pair; wrap it in a list: completion_log_probs(..., [pair], ...)"
        )
    inputs, targets, weights = prompt_completion_arrays(tokenizer, list(pairs), length)
    # Rows sorted by length and each batch cut after its longest row: the
    # model is causal, so right padding changes nothing but the cost.
    used = length - np.argmax(weights[:, ::-1] > 0, axis=1)  # (rows,) last target + 1
    order = np.argsort(used, kind="stable")
    token_log_probs = np.zeros(inputs.shape)
    for start in range(0, len(inputs), batch_size):
        rows = order[start : start + batch_size]
        width = int(used[rows].max())
        logits = model(inputs[rows, :width], training=False)  # (batch, width, vocab)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        picked = ops.take_along_axis(
            log_probs, ops.convert_to_tensor(targets[rows, :width, None]), axis=-1
        )[..., 0]  # (batch, width): log p of each target token
        picked = ops.convert_to_numpy(picked).astype("float64")
        token_log_probs[rows, :width] = picked * weights[rows, :width]
    return token_log_probs, weights


def completion_log_probs(model, tokenizer, pairs, length: int, batch_size: int = 128):
    r"""Log-probability of each completion given its prompt, under a language model.

    ``log p(completion | prompt)`` is the sum of
    :func:`completion_token_log_probs` over the completion's tokens;
    dividing by ``counts`` gives nats per token, which does not favour short
    answers.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        tokenizer: Its tokenizer.
        pairs: ``(prompt, completion)`` strings; completions non-empty.
        length: Row length, as in :func:`prompt_completion_arrays`.
        batch_size: Rows per forward pass.

    Returns:
        ``(log_probs, counts)``: float64 ``(len(pairs),)`` sums of
        log-probabilities (nats, at most 0) and int ``(len(pairs),)`` numbers
        of completion tokens.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("ab\n", byte_fallback=False)
        >>> gpt = build_gpt(3, 8, 8, 2, 1)
        >>> pairs = [("a", "b\n"), ("ab", "a")]
        >>> logp, counts = completion_log_probs(gpt, tok, pairs, 4)
        >>> counts.tolist(), bool((logp < 0).all())
        ([2, 1], True)
    """
    token_log_probs, weights = completion_token_log_probs(
        model, tokenizer, pairs, length, batch_size
    )
    return token_log_probs.sum(axis=1), weights.sum(axis=1).astype(int)


def exact_match(predictions, references) -> float:
    r"""Share of predictions equal to their reference, ignoring outer spaces.

    Example:
        >>> exact_match(["len(xs)", "sum(ys) "], ["len(xs)\n", "max(ys)\n"])
        0.5
    """
    if len(predictions) != len(references) or not references:
        raise ValueError(
            "Expected as many predictions as references (at least one). Received:"
            f" {len(predictions)} predictions, {len(references)} references"
        )
    hits = [
        p.strip() == r.strip() for p, r in zip(predictions, references, strict=True)
    ]
    return float(np.mean(hits))


# --------------------------------------------------------------------------
# Classification: a new head on the pretrained body
# --------------------------------------------------------------------------


def encode_texts(tokenizer, texts, length: int):
    """Token ids and padding mask for a batch of texts, for a classifier.

    Texts longer than ``length`` tokens keep their *first* ``length`` tokens
    (a docstring's opening words say the most); shorter ones are padded with
    id 0 on the right and masked out.

    Returns:
        ``{"token_ids": int32 (n, length), "padding_mask": bool (n, length)}``.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> batch = encode_texts(CharTokenizer.train("abc"), ["ab", "abcabc"], 4)
        >>> batch["token_ids"].tolist(), batch["padding_mask"].sum(1).tolist()
        ([[0, 1, 0, 0], [0, 1, 2, 0]], [2, 4])
    """
    if isinstance(texts, str):
        raise ValueError("Expected a list of texts. Received: a single str.")
    ids = np.zeros((len(texts), length), "int32")
    mask = np.zeros((len(texts), length), bool)
    for i, text in enumerate(texts):
        tokens = tokenizer.encode(text)[:length]
        ids[i, : len(tokens)] = tokens
        mask[i, : len(tokens)] = True
    return {"token_ids": ids, "padding_mask": mask}


def copy_backbone(model: GPT, pretrained: bool = True) -> GPT:
    """A fresh GPT of the same configuration, with ``model``'s weights or new ones.

    Fine-tuning changes the weights it trains, so each experiment starts from
    its own copy. ``pretrained=False`` gives the same architecture with
    random initial weights (the from-scratch baseline).

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> gpt = build_gpt(5, 8, 8, 2, 1)
        >>> copy = copy_backbone(gpt)
        >>> all(np.array_equal(a, b)
        ...     for a, b in zip(copy.get_weights(), gpt.get_weights()))
        True
    """
    copy = GPT.from_config(model.get_config())
    copy.build((None, model.context_length))
    if pretrained:
        copy.set_weights(model.get_weights())
    return copy


@keras.saving.register_keras_serializable(package="keras_gen")
class GPTClassifier(NestedConfig, keras.Model):
    """Text classifier: a GPT body, masked mean pooling and a Dense head.

    The body is the GPT without its output layer: token + position embeddings,
    the transformer blocks and the final LayerNorm
    (:meth:`~keras_gen.transformer.GPT.hidden_states`). Every real token's vector
    is averaged (padding is masked out), and one Dense layer maps the average
    to ``num_classes`` scores. Fine-tuning trains body and head together.

    Args:
        backbone: A :class:`~keras_gen.transformer.GPT`; its weights are used
            as they are (pass :func:`copy_backbone` to keep the original).
        num_classes: Number of labels.
        dropout: Dropout on the pooled vector, during training.
        **kwargs: Passed to ``keras.Model``.

    Input:
        ``{"token_ids": int (batch, T), "padding_mask": bool (batch, T)}``,
        ``T <= context_length``, as made by :func:`encode_texts`.

    Output:
        Logits ``(batch, num_classes)``.

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> clf = GPTClassifier(build_gpt(10, 8, 16, 2, 1), num_classes=3)
        >>> batch = {"token_ids": np.ones((2, 5), "int32"),
        ...          "padding_mask": np.ones((2, 5), bool)}
        >>> clf(batch).shape
        TensorShape([2, 3])
    """

    NESTED = ("backbone",)

    def __init__(self, backbone, num_classes, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(backbone, GPT):
            raise ValueError(
                "Expected a keras_gen GPT as backbone. Received: backbone of type "
                f"{type(backbone).__name__}. Build one with build_gpt or load "
                "one with load_pretrained."
            )
        self.backbone = backbone
        self.num_classes = _checks.check_int("num_classes", num_classes, minimum=2)
        self.dropout = _checks.check_float(
            "dropout", dropout, 0, 1, max_inclusive=False
        )
        self.pool_dropout = layers.Dropout(self.dropout)
        self.head = layers.Dense(self.num_classes, name="classifier_head")
        self.build()  # built at once, so it can be saved before its first call

    def build(self, input_shape=None):
        """Create the head's weights (the backbone is built already)."""
        if not self.backbone.built:
            self.backbone.build((None, self.backbone.context_length))
        self.head.build((None, self.backbone.embed_dim))
        self.built = True

    def features(self, inputs, training=False):
        """The pooled vector of each text, ``(batch, embed_dim)``."""
        ids, mask = inputs["token_ids"], inputs["padding_mask"]
        x = self.backbone.hidden_states(ids, training=training)  # (b, T, embed)
        mask = ops.cast(mask, x.dtype)[..., None]  # (batch, T, 1)
        # Mean over real tokens only; max(.., 1) keeps an all-padding row finite.
        return ops.sum(x * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)

    def call(self, inputs, training=False):
        """Run the model; see the class docstring for shapes."""
        pooled = self.features(inputs, training=training)  # (batch, embed_dim)
        return self.head(self.pool_dropout(pooled, training=training))

    def get_config(self):
        """Constructor arguments, for saving and ``from_config``."""
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
        }


def compile_classifier(
    classifier, steps: int, learning_rate: float = 5e-4, jit_compile: bool = True
):
    """Compile a classifier with AdamW, warm-up + cosine decay over ``steps``.

    Returns:
        The classifier (for chaining).
    """
    classifier.compile(
        optimizer=_finetune_optimizer(learning_rate, steps),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    return classifier


def finetune_classifier(
    classifier,
    inputs,
    labels,
    steps: int = 100,
    batch_size: int = 16,
    learning_rate: float = 5e-4,
    seed: int = 0,
    jit_compile: bool = True,
):
    """Fine-tune a :class:`GPTClassifier` for ``steps`` optimizer steps.

    Args:
        classifier: The model (trained in place).
        inputs: The dict from :func:`encode_texts`.
        labels: int class indices ``(n,)``.
        steps: Optimizer steps; the examples repeat (reshuffled) as often as
            needed, so even 8 examples fill every batch.
        batch_size: Examples per step.
        learning_rate: Peak learning rate (warm-up, then cosine decay).
        seed: Seed for shuffling and dropout.
        jit_compile: XLA-compile the train step.

    Returns:
        The ``History`` of ``fit``.
    """
    keras.utils.set_random_seed(seed)
    compile_classifier(classifier, steps, learning_rate, jit_compile)
    data = _repeat_batches((inputs, np.asarray(labels, "int32")), batch_size, seed)
    return fit_steps(classifier, data, steps)


def predict_classes(classifier, inputs, batch_size: int = 64):
    """Most likely class index of each input row, as an int array."""
    logits = classifier.predict(inputs, batch_size=batch_size, verbose=0)
    return np.asarray(logits).argmax(-1)


def _reset_optimizer(optimizer):
    # Zero every slot (moments) and the step counter, so the schedule starts
    # again from its warm-up: the same as a new optimizer, without recompiling.
    for variable in optimizer.variables:
        variable.assign(ops.zeros(variable.shape, variable.dtype))


def few_shot_curve(
    backbone,
    train_inputs,
    train_labels,
    test_inputs,
    test_labels,
    sizes=(8, 32, 128, 512),
    steps: int = 60,
    batch_size: int = 16,
    learning_rate: float = 5e-4,
    seed: int = 0,
    jit_compile: bool = True,
    verbose: bool = True,
):
    """Test accuracy against training-set size, pretrained vs from scratch.

    For each size ``n`` a classifier is trained on the first ``n`` training
    rows (make them class-balanced, e.g. with
    :func:`keras_gen.tasks.few_shot_split`) for the same number of steps,
    once starting from ``backbone``'s pretrained weights and once from random
    weights of the same architecture. The head's initial weights, the seed
    and the recipe are the same, so the gap is what pretraining buys.
    ``backbone`` itself is not changed.

    One classifier is compiled once and its weights and optimizer are reset
    before each run: compiling costs more than a short run on a CPU.

    Returns:
        ``{"sizes": [...], "pretrained": [accuracy, ...], "scratch": [...],
        "predictions": {("pretrained" | "scratch", n): test predictions}}``.
    """
    train_labels = np.asarray(train_labels, "int32")
    test_labels = np.asarray(test_labels)
    if max(sizes) > len(train_labels):
        raise ValueError(
            f"Expected sizes up to the {len(train_labels)} training rows. "
            f"Received: sizes={tuple(sizes)}"
        )
    num_classes = int(max(train_labels.max(), test_labels.max()) + 1)
    keras.utils.set_random_seed(seed)
    classifier = GPTClassifier(copy_backbone(backbone), num_classes)
    head = classifier.head.get_weights()
    starts = {
        "pretrained": backbone.get_weights() + head,
        "scratch": copy_backbone(backbone, pretrained=False).get_weights() + head,
    }
    compile_classifier(classifier, steps, learning_rate, jit_compile)
    result = {"sizes": list(sizes), "pretrained": [], "scratch": [], "predictions": {}}
    for n in sizes:
        subset = {k: v[:n] for k, v in train_inputs.items()}
        data = _repeat_batches((subset, train_labels[:n]), batch_size, seed)
        for start, weights in starts.items():
            keras.utils.set_random_seed(seed)
            classifier.set_weights(weights)
            _reset_optimizer(classifier.optimizer)
            fit_steps(classifier, data, steps)
            predicted = predict_classes(classifier, test_inputs)
            accuracy = float(np.mean(predicted == test_labels))
            result[start].append(accuracy)
            result["predictions"][(start, n)] = predicted
            if verbose:
                print(f"{n:4d} examples, {start:10s}: test accuracy {accuracy:.3f}")
    return result
