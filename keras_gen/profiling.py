"""What a model is made of and what it costs: parameters, FLOPs, time.

Notebook 08 sets the article's image generators (GAN, DCGAN, VAE) beside its
language model (the GPT) and needs the same three numbers for each:

- :func:`parameter_breakdown`: parameters by layer type (dense, convolution,
  embedding, attention, MLP, normalisation);
- :func:`forward_flops`: floating-point operations of one forward pass for one
  sample (one image, or one sequence of ``seq_len`` tokens);
  :func:`generation_flops` for a whole text continuation, with and without
  the key/value cache of :mod:`keras_gen.decoding`;
- :func:`time_per_sample` and :func:`train_steps_per_second`: measured time.

**The FLOP convention.** A multiply-add counts as 2 FLOPs and only matrix
multiplies and convolutions are counted; bias adds, activations,
normalisations and softmax are elementwise and ignored (they are a few percent
at most here). The same convention gives the transformer formula that
``benchmarks/gpt_pretrain.py`` uses: one forward pass costs ``2 N + 4 L T E``
FLOPs per token, forward and backward ``6 N + 12 L T E``
(:func:`transformer_flops_per_token`), with ``N`` the parameters used in
matrix multiplies, ``L`` the transformer blocks, ``T`` the positions each
token attends over (the context length) and ``E`` the model width. It is
Kaplan et al. (2020), "Scaling Laws for Neural Language Models", Table 1
(``C_forward = 2 N + 2 n_layer n_ctx d_attn``, ``N`` without the embeddings),
with two changes that make it match the layer-by-layer count here: the
attention term counts both the scores ``Q K^T`` and the weighted sum of the
values (``4`` instead of ``2``, as the PaLM paper's appendix B does), and
``N`` includes the output layer (:func:`gpt_flops_per_token`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import keras

from keras_gen._checks import check_bool, check_int
from keras_gen.callbacks import StepClock
from keras_gen.transformer import (
    GPT,
    CausalSelfAttention,
    TokenAndPositionEmbedding,
    TransformerBlock,
)
from keras_gen.vae import Sampling

#: The layer types :func:`parameter_breakdown` reports, in table order.
CATEGORIES = ("dense", "convolution", "embedding", "attention", "mlp", "normalisation")

# Layers with no matrix multiply: 0 FLOPs under the convention above.
_ELEMENTWISE = (
    keras.layers.InputLayer,
    keras.layers.LeakyReLU,
    keras.layers.ReLU,
    keras.layers.Activation,
    keras.layers.Reshape,
    keras.layers.Flatten,
    keras.layers.Dropout,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
)
_NORMALISATION = (keras.layers.BatchNormalization, keras.layers.LayerNormalization)
_CONVOLUTION = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def _unsupported(layer, what: str) -> ValueError:
    return ValueError(
        f"Expected a layer that keras_gen.profiling can {what} (Dense, Conv2D, "
        "Conv2DTranspose, Embedding, normalisation, activation and shape layers, "
        "and keras_gen's TokenAndPositionEmbedding, CausalSelfAttention, "
        f"TransformerBlock and GPT). Received: layer {layer.name!r} of type "
        f"{type(layer).__name__}. Count it by hand, or add its rule to "
        "keras_gen/profiling.py."
    )


def _is_container(layer) -> bool:
    """A model made of other layers (Sequential, functional, VAE, GAN)."""
    return isinstance(layer, keras.Model) and not isinstance(layer, GPT)


def _categorise(layer, totals: dict) -> None:
    """Add ``layer``'s parameters to ``totals`` under their layer types."""
    if isinstance(layer, GPT):
        _categorise(layer.embedding, totals)
        for block in layer.blocks:
            _categorise(block, totals)
        _categorise(layer.final_norm, totals)
        if layer.head is not None:  # untied output layer: a plain dense layer
            totals["dense"] += layer.head.count_params()
    elif isinstance(layer, TransformerBlock):
        totals["normalisation"] += layer.ln1.count_params() + layer.ln2.count_params()
        totals["attention"] += layer.attention.count_params()
        totals["mlp"] += layer.fc.count_params() + layer.proj.count_params()
    elif isinstance(layer, CausalSelfAttention):
        totals["attention"] += layer.count_params()
    elif isinstance(layer, (TokenAndPositionEmbedding, keras.layers.Embedding)):
        totals["embedding"] += layer.count_params()
    elif isinstance(layer, keras.layers.Dense):
        totals["dense"] += layer.count_params()
    elif isinstance(layer, _CONVOLUTION):
        totals["convolution"] += layer.count_params()
    elif isinstance(layer, _NORMALISATION):
        totals["normalisation"] += layer.count_params()
    elif _is_container(layer):
        for sublayer in layer.layers:
            _categorise(sublayer, totals)
    elif layer.weights:
        raise _unsupported(layer, "sort into layer types")


def parameter_breakdown(model) -> dict[str, int]:
    """Count a model's parameters by layer type.

    In a GPT the token embedding is also the output layer when the weights are
    tied, so it is counted once, under ``"embedding"``; an untied output layer
    counts as ``"dense"``. Inside a :class:`~keras_gen.transformer.TransformerBlock`
    the two LayerNorms are ``"normalisation"``, the attention layer (its QKV and
    output projections) ``"attention"`` and the two MLP layers ``"mlp"``.
    Models made of models (a VAE's encoder and decoder, a GAN's generator and
    discriminator) are summed over their parts.

    Args:
        model: A built Keras layer or model.

    Returns:
        ``{category: parameters}`` for every name in :data:`CATEGORIES`, in that
        order; the values sum to ``model.count_params()``.

    Raises:
        ValueError: For a layer with weights of a type it does not know, naming
            that layer.

    Example:
        >>> from keras_gen.gan import build_dcgan_generator
        >>> parameter_breakdown(build_dcgan_generator())
        {'dense': 313600, 'convolution': 33281, 'embedding': 0, 'attention': 0, \
'mlp': 0, 'normalisation': 12672}
    """
    totals = dict.fromkeys(CATEGORIES, 0)
    _categorise(model, totals)
    return totals


def attention_flops(queries: int, keys: int, embed_dim: int) -> int:
    """FLOPs of one attention layer: ``queries`` positions over ``keys``.

    Args:
        queries: Positions that ask (the new tokens).
        keys: Positions they attend over (the whole context).
        embed_dim: The model width ``E`` (all heads together).

    Returns:
        2 x the multiply-adds of its four matrix multiplies.

    Example:
        >>> attention_flops(queries=1, keys=256, embed_dim=192)  # a cached step
        491520
    """
    # Q, K and V: each query position times a (E, 3E) matrix.
    qkv = 2 * queries * embed_dim * (3 * embed_dim)
    # The output projection: a (E, E) matrix.
    output = 2 * queries * embed_dim * embed_dim
    # Scores Q K^T: (queries, E) x (E, keys); weighted sum: (queries, keys) x
    # (keys, E). Each is queries * keys * E multiply-adds, split over the heads.
    scores_and_sum = 2 * (2 * queries * keys * embed_dim)
    return qkv + output + scores_and_sum


def _block_flops(block: TransformerBlock, queries: int, keys: int, embed_dim: int):
    mlp = 2 * 2 * queries * embed_dim * block.mlp_ratio * embed_dim  # fc and proj
    return attention_flops(queries, keys, embed_dim) + mlp


def _gpt_flops(model: GPT, queries: int, keys: int) -> int:
    """``queries`` new positions attending over ``keys`` positions, with logits."""
    e = model.embed_dim
    blocks = sum(_block_flops(b, queries, keys, e) for b in model.blocks)
    return blocks + 2 * queries * e * model.vocab_size  # (queries, vocab) logits


def _seq_shape(input_shape):
    if len(input_shape) != 2:
        raise ValueError(
            "Expected input_shape (seq_len, embed_dim) without the batch axis. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    return int(input_shape[0]), int(input_shape[1])


def layer_flops(layer, input_shape) -> int:
    """FLOPs of one layer's forward pass on one sample.

    Args:
        layer: A built layer.
        input_shape: The shape of one sample's input, without the batch axis:
            ``(features,)`` or ``(..., features)`` for Dense, ``(h, w, c)``
            for convolutions, ``(seq_len, embed_dim)`` for attention and
            transformer blocks, ``(seq_len,)`` for embeddings and the GPT.

    Returns:
        2 x the multiply-adds of its matrix multiplies and convolutions.

    Raises:
        ValueError: For a layer type it does not know, naming the layer.

    Example:
        >>> dense = keras.layers.Dense(3)
        >>> dense.build((None, 5))
        >>> layer_flops(dense, (5,))  # 2 * 5 inputs * 3 outputs
        30
        >>> conv = keras.layers.Conv2D(8, 3, padding="same")
        >>> conv.build((None, 4, 4, 2))
        >>> layer_flops(conv, (4, 4, 2))  # 2 * 3*3*2 * 8 at each of 4*4 pixels
        4608
    """
    input_shape = tuple(int(d) for d in input_shape)
    if isinstance(layer, GPT):
        (seq_len,) = input_shape
        return _gpt_flops(layer, seq_len, seq_len)
    if isinstance(layer, TransformerBlock):
        seq_len, embed_dim = _seq_shape(input_shape)
        return _block_flops(layer, seq_len, seq_len, embed_dim)
    if isinstance(layer, CausalSelfAttention):
        seq_len, embed_dim = _seq_shape(input_shape)
        return attention_flops(seq_len, seq_len, embed_dim)
    if isinstance(layer, (TokenAndPositionEmbedding, keras.layers.Embedding)):
        return 0  # a table look-up, no arithmetic
    if isinstance(layer, keras.layers.Dense):
        positions = math.prod(input_shape[:-1])
        return 2 * positions * input_shape[-1] * layer.units
    if isinstance(layer, keras.layers.Conv2DTranspose):
        # Every input pixel is spread over a kernel-sized patch of the output.
        height, width, channels = input_shape
        kernel = math.prod(layer.kernel_size)
        return 2 * height * width * channels * kernel * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        out = layer.compute_output_shape((None, *input_shape))  # (None, h, w, f)
        per_output = math.prod(layer.kernel_size) * input_shape[-1] // layer.groups
        return 2 * math.prod(out[1:3]) * per_output * layer.filters
    if isinstance(layer, (*_ELEMENTWISE, Sampling)):
        return 0
    raise _unsupported(layer, "count FLOPs of")


def _sample_shape(tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in tensor.shape[1:])


def forward_flops(model, seq_len: int | None = None) -> int:
    """FLOPs of one forward pass for one sample.

    Args:
        model: A built Keras model: a Sequential or functional model (each
            layer's input shape is read from the graph), a model made of
            models such as a VAE or a GAN (the sum of its parts: one training
            example's forward pass), a :class:`~keras_gen.transformer.GPT`, or
            a single layer with a known input shape.
        seq_len: For a GPT, the tokens in the sequence (default: its
            ``context_length``). Every position's logits are computed, as
            ``model(ids)`` does.

    Returns:
        FLOPs (2 per multiply-add of matrix multiplies and convolutions).

    Raises:
        ValueError: For an unsupported layer (naming it) or a bad ``seq_len``.

    Example:
        >>> from keras_gen.gan import build_generator
        >>> forward_flops(build_generator())  # 2 x its 1,483,776 weights
        2967552
    """
    if isinstance(model, GPT):
        if seq_len is None:
            seq_len = model.context_length
        seq_len = check_int("seq_len", seq_len, 1, model.context_length)
        return _gpt_flops(model, seq_len, seq_len)
    if _is_container(model):
        total = 0
        for layer in model.layers:
            if _is_container(layer) or isinstance(layer, GPT):
                total += forward_flops(layer)
            elif isinstance(layer, (*_ELEMENTWISE, Sampling)):
                continue  # no matrix multiply (and maybe no graph input)
            else:
                total += layer_flops(layer, _sample_shape(layer.input))
        return total
    raise ValueError(
        "Expected a Keras model (Sequential, functional, a model of models, or a "
        f"GPT). Received: {type(model).__name__}. For one layer call "
        "layer_flops(layer, input_shape)."
    )


def transformer_flops_per_token(
    matmul_params: int,
    num_layers: int,
    context_length: int,
    embed_dim: int,
    training: bool = True,
) -> int:
    """The standard transformer FLOPs per token (Kaplan et al. 2020; PaLM).

    Forward: ``2 N + 4 L T E``; forward and backward (training):
    ``6 N + 12 L T E``. ``2 N`` is every weight used once per token in a
    matrix multiply; ``4 L T E`` is attention's scores and weighted sum over a
    context of ``T`` positions (masked positions are computed, then zeroed).
    ``benchmarks/gpt_pretrain.py`` uses this function for its GFLOP/s.

    Args:
        matmul_params: ``N``, the parameters used in matrix multiplies.
        num_layers: ``L``, transformer blocks.
        context_length: ``T``, positions each token attends over.
        embed_dim: ``E``, the model width.
        training: Forward and backward (True) or forward only.

    Returns:
        FLOPs per token.

    Example:
        >>> transformer_flops_per_token(1000, 2, 8, 4, training=False)  # 2000+256
        2256
    """
    matmul_params = check_int("matmul_params", matmul_params, 0)
    num_layers = check_int("num_layers", num_layers, 1)
    context_length = check_int("context_length", context_length, 1)
    embed_dim = check_int("embed_dim", embed_dim, 1)
    factor = 3 if check_bool("training", training) else 1
    return factor * (2 * matmul_params + 4 * num_layers * context_length * embed_dim)


def gpt_flops_per_token(model: GPT, training: bool = True) -> int:
    """:func:`transformer_flops_per_token` for a keras_gen GPT at full context.

    ``N`` is all parameters but the embedding tables used as look-ups: the
    position table always, the token table only when it is not also the
    output layer (``tie_embeddings=False``). Biases and LayerNorm
    gains are included in ``N``, so this is a little above the exact count of
    :func:`forward_flops` (0.5% for the shipped GPT: notebook 08 prints both).

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        training: Forward and backward (True) or forward only.

    Returns:
        FLOPs per token.

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> gpt_flops_per_token(build_gpt(65, 64, 128, 4, 4))  # the baby GPT
        5203200
    """
    if not isinstance(model, GPT):
        raise ValueError(f"Expected a keras_gen GPT. Received: {type(model).__name__}")
    lookups = model.context_length * model.embed_dim  # position table
    if model.head is not None:  # untied: the token table is only a look-up
        lookups += model.vocab_size * model.embed_dim
    matmul_params = model.count_params() - lookups
    return transformer_flops_per_token(
        matmul_params, model.num_layers, model.context_length, model.embed_dim, training
    )


def generation_flops(
    model: GPT, prompt_length: int, new_tokens: int, use_cache: bool = True
) -> int:
    """FLOPs to extend a prompt by ``new_tokens`` the way generation does it.

    It mirrors :func:`keras_gen.decoding.generate_ids`:

    - without the cache every new token re-runs the model on the whole text so
      far (at most ``context_length`` tokens), computing every position;
    - with the cache, one pass over the prompt padded to ``context_length``
      (so that one compiled graph serves every prompt), then one position per
      new token, attending over all ``context_length`` cache slots (unwritten
      slots are masked, but computed); once the window is full, each step
      re-runs the window.

    Args:
        model: A :class:`~keras_gen.transformer.GPT`.
        prompt_length: Tokens in the prompt, >= 1.
        new_tokens: Tokens to generate, >= 0.
        use_cache: With (True) or without the key/value cache.

    Returns:
        FLOPs for the whole continuation of one sequence.

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> model = build_gpt(10, 16, 8, num_heads=2, num_layers=1)
        >>> generation_flops(model, 4, 8, use_cache=False) > generation_flops(
        ...     model, 4, 8)
        True
    """
    if not isinstance(model, GPT):
        raise ValueError(f"Expected a keras_gen GPT. Received: {type(model).__name__}")
    length = check_int("prompt_length", prompt_length, 1)
    new_tokens = check_int("new_tokens", new_tokens, 0)
    window = model.context_length
    if not check_bool("use_cache", use_cache):
        total = 0
        for _ in range(new_tokens):
            seen = min(length, window)
            total += _gpt_flops(model, seen, seen)
            length += 1
        return total
    if new_tokens == 0:
        return 0
    refill = _gpt_flops(model, window, window)
    total, cached = refill, min(length, window)
    for _ in range(new_tokens - 1):  # the last token needs no further pass
        length += 1
        if cached < window:
            total += _gpt_flops(model, 1, window)
            cached += 1
        else:
            total += refill
            cached = window
    return total


def time_per_sample(
    produce: Callable[[], object], samples_per_call: int, repeats: int = 5
) -> float:
    """Seconds per sample of a function that makes ``samples_per_call`` samples.

    The first call is a warm-up (graph tracing, XLA compilation) and is not
    timed; of the ``repeats`` timed calls the fastest is kept, because on a
    shared machine other work only ever makes a call slower.

    Args:
        produce: Called with no arguments; makes one batch of samples.
        samples_per_call: Samples one call makes, >= 1.
        repeats: Timed calls, >= 1.

    Returns:
        The best seconds per call divided by ``samples_per_call``.

    Example:
        >>> time_per_sample(lambda: sum(range(1000)), 10, repeats=2) > 0
        True
    """
    samples_per_call = check_int("samples_per_call", samples_per_call, 1)
    repeats = check_int("repeats", repeats, 1)
    produce()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        produce()
        best = min(best, time.perf_counter() - start)
    return best / samples_per_call


def train_steps_per_second(
    model, x, y=None, batch_size: int | None = None, steps: int = 20, warmup: int = 3
) -> float:
    """Training steps per second of a compiled model, measured with ``fit()``.

    Runs ``warmup + steps`` steps in one ``fit()`` call and times the last
    ``steps`` between batch ends, so compilation and the first batches do not
    count. The model's weights change: use a copy you do not need.

    Args:
        model: A compiled Keras model.
        x: What ``fit()`` takes as ``x``: a repeated ``tf.data.Dataset`` or
            arrays with at least ``warmup + steps`` batches.
        y: Targets, for arrays.
        batch_size: Batch size, for arrays.
        steps: Timed steps, >= 1.
        warmup: Untimed steps first, >= 1.

    Returns:
        ``steps`` divided by the seconds they took.

    Example:
        >>> import numpy as np
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> x, y = np.zeros((64, 4)), np.zeros((64, 1))
        >>> train_steps_per_second(model, x, y, batch_size=16, steps=3, warmup=1) > 0
        True
    """
    steps = check_int("steps", steps, 1)
    warmup = check_int("warmup", warmup, 1)
    clock = StepClock()
    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=1,
        steps_per_epoch=warmup + steps,
        callbacks=[clock],
        verbose=0,
    )
    if len(clock.stamps) < warmup + steps:
        raise ValueError(
            f"Expected data with at least warmup + steps = {warmup + steps} "
            f"batches. Received: {len(clock.stamps)} batches. Repeat the data."
        )
    timed = clock.stamps[warmup - 1 : warmup + steps]
    return steps / (timed[-1] - timed[0])
