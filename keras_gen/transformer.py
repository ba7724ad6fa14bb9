"""The parts of a GPT-style transformer, written with ``keras.ops``.

The article says LLMs are "based on transformer architecture" (Vaswani et al.,
2017). A GPT (Radford et al., 2018/2019) is a stack of *decoder* blocks:

    token ids -> token + position embeddings
              -> num_layers x [LayerNorm -> causal self-attention -> + residual
                               LayerNorm -> MLP (4x wider, GELU) -> + residual]
              -> LayerNorm -> logits over the vocabulary (next-token scores)

This module builds each part as its own Keras layer so a notebook can look at
it, and :func:`build_gpt` stacks them. The block is *pre*-LayerNorm (GPT-2),
which trains stably without a learning-rate warm-up trick per layer.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
from keras import layers, ops

from keras_gen import _checks, decoding

# A large negative number that stays finite in float32, so that a fully masked
# row could never produce NaN (softmax of all -inf); same idea as Keras' MHA.
_MASK_VALUE = -1e9


def _check_positive_int(name: str, value) -> int:
    return _checks.check_int(name, value, minimum=1)


def _check_dropout(dropout) -> float:
    return _checks.check_float("dropout", dropout, 0, 1, max_inclusive=False)


def causal_mask(seq_len: int):
    """Lower-triangular boolean mask: position ``i`` may look at ``j <= i``.

    Args:
        seq_len: Sequence length ``T``.

    Returns:
        Boolean tensor ``(T, T)``; ``True`` where attention is allowed.

    Example:
        >>> keras.ops.convert_to_numpy(causal_mask(3)).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    rows = ops.arange(seq_len)[:, None]
    cols = ops.arange(seq_len)[None, :]
    return ops.greater_equal(rows, cols)


@keras.saving.register_keras_serializable(package="keras_gen")
class TokenAndPositionEmbedding(layers.Layer):
    """Sum of a learned token embedding and a learned position embedding.

    Attention by itself ignores order (it is a weighted *sum*), so each
    position ``0 .. context_length - 1`` gets its own learned vector that is
    added to the token's vector.

    Args:
        vocab_size: Number of token ids.
        context_length: Longest sequence the model accepts.
        embed_dim: Width of every vector in the model.
        **kwargs: Passed to ``keras.layers.Layer``.

    Input shape:
        int ``(batch, seq_len)`` with ``seq_len <= context_length``.

    Output shape:
        ``(batch, seq_len, embed_dim)``.

    Example:
        >>> emb = TokenAndPositionEmbedding(10, 8, 4)
        >>> emb(np.zeros((2, 5), "int32")).shape
        TensorShape([2, 5, 4])
    """

    def __init__(self, vocab_size, context_length, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = _check_positive_int("vocab_size", vocab_size)
        self.context_length = _check_positive_int("context_length", context_length)
        self.embed_dim = _check_positive_int("embed_dim", embed_dim)
        # GPT-2 initialises embeddings with N(0, 0.02).
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token_embedding = layers.Embedding(
            vocab_size, embed_dim, embeddings_initializer=init, name="token"
        )
        self.position_embedding = layers.Embedding(
            context_length, embed_dim, embeddings_initializer=init, name="position"
        )

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape``."""
        self.token_embedding.build(input_shape)
        self.position_embedding.build(input_shape)
        self.built = True

    def call(self, token_ids):
        """Run the layer; see the class docstring for shapes."""
        return self.embed_from(token_ids, 0)

    def embed_from(self, token_ids, start):
        """Embed tokens that sit at positions ``start, start + 1, ...``.

        Incremental decoding (see :meth:`GPT.call_with_cache`) feeds one new
        token at a time; its position is not 0 but the number of tokens
        already in the cache.

        Args:
            token_ids: int ``(batch, seq_len)``.
            start: Position of the first token: an int or scalar int tensor
                (every row), or an int tensor ``(batch,)`` (one per row).

        Returns:
            ``(batch, seq_len, embed_dim)``.
        """
        seq_len = ops.shape(token_ids)[-1]
        # (seq_len,) for a scalar start, (batch, seq_len) for one per row.
        positions = ops.expand_dims(start, -1) + ops.arange(seq_len)
        tokens = self.token_embedding(token_ids)  # (batch, seq_len, embed_dim)
        return tokens + self.position_embedding(positions)  # broadcasts

    def compute_output_shape(self, input_shape):
        """Shape of the output for inputs of ``input_shape``."""
        return (*input_shape, self.embed_dim)

    def get_config(self):
        """Constructor arguments, for saving and ``from_config``."""
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "context_length": self.context_length,
            "embed_dim": self.embed_dim,
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class CausalSelfAttention(layers.Layer):
    """Multi-head self-attention where each position sees only the past.

    For each head ``h``: ``softmax(Q_h K_h^T / sqrt(d) + mask) V_h``, with
    ``d = embed_dim / num_heads`` and the mask setting every score of a later
    position to a large negative number, so its weight becomes zero. One Dense
    layer computes Q, K and V together (one matmul instead of three), another
    mixes the heads' outputs.

    Args:
        num_heads: Number of attention heads; must divide ``embed_dim``.
        dropout: Dropout rate on the attention weights and the output.
        use_bias: Whether the projections have biases.
        **kwargs: Passed to ``keras.layers.Layer``.

    Input shape:
        ``(batch, seq_len, embed_dim)``.

    Output shape:
        ``(batch, seq_len, embed_dim)``; with ``return_attention_scores=True``
        also the weights ``(batch, num_heads, seq_len, seq_len)``.

    Example:
        >>> attn = CausalSelfAttention(num_heads=2)
        >>> out, weights = attn(np.ones((1, 3, 4)), return_attention_scores=True)
        >>> out.shape, weights.shape
        (TensorShape([1, 3, 4]), TensorShape([1, 2, 3, 3]))
    """

    def __init__(self, num_heads, dropout=0.0, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = _check_positive_int("num_heads", num_heads)
        self.dropout = _check_dropout(dropout)
        self.use_bias = _checks.check_bool("use_bias", use_bias)
        self.attention_dropout = layers.Dropout(self.dropout)
        self.output_dropout = layers.Dropout(self.dropout)

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape``."""
        embed_dim = int(input_shape[-1])
        if embed_dim % self.num_heads:
            raise ValueError(
                f"Expected embed_dim divisible by num_heads={self.num_heads}. "
                f"Received: embed_dim={embed_dim}. Pick num_heads that divides it."
            )
        self.embed_dim = embed_dim
        self.head_dim = embed_dim // self.num_heads
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.qkv = layers.Dense(
            3 * embed_dim, use_bias=self.use_bias, kernel_initializer=init, name="qkv"
        )
        self.qkv.build(input_shape)
        self.out = layers.Dense(
            embed_dim, use_bias=self.use_bias, kernel_initializer=init, name="out"
        )
        self.out.build((*input_shape[:-1], embed_dim))
        self.built = True

    def _split_heads(self, x, batch, seq_len):
        x = ops.reshape(x, (batch, seq_len, self.num_heads, self.head_dim))
        return ops.transpose(x, (0, 2, 1, 3))  # (batch, heads, seq_len, head_dim)

    def _heads(self, x):
        """Queries, keys and values, each ``(batch, heads, seq_len, head_dim)``."""
        batch, seq_len = ops.shape(x)[0], ops.shape(x)[1]
        qkv = self.qkv(x)  # (batch, seq_len, 3 * embed_dim)
        q, k, v = ops.split(qkv, 3, axis=-1)  # 3 x (batch, seq_len, embed_dim)
        return tuple(self._split_heads(t, batch, seq_len) for t in (q, k, v))

    def _attend(self, q, k, v, mask, training=False):
        """Masked softmax attention of queries ``q`` over keys ``k``/values ``v``.

        Args:
            q: ``(batch, heads, queries, head_dim)``.
            k: ``(batch, heads, keys, head_dim)``.
            v: Values, the same shape as ``k``.
            mask: bool, broadcastable to ``(batch, heads, queries, keys)``;
                ``False`` where a query may not look.
            training: Apply attention dropout.

        Returns:
            ``(context, weights)``: ``(batch, queries, embed_dim)`` and
            ``(batch, heads, queries, keys)``.
        """
        # Scale before the matmul: same result, smaller numbers.
        q = q * ops.cast(1.0 / math.sqrt(self.head_dim), q.dtype)
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))  # (b, h, Tq, Tk)
        scores = ops.where(mask, scores, ops.cast(_MASK_VALUE, scores.dtype))
        weights = ops.softmax(scores, axis=-1)  # each row sums to 1
        dropped = self.attention_dropout(weights, training=training)
        context = ops.matmul(dropped, v)  # (batch, heads, Tq, head_dim)
        context = ops.transpose(context, (0, 2, 1, 3))  # (batch, Tq, heads, hd)
        batch, queries = ops.shape(context)[0], ops.shape(context)[1]
        return ops.reshape(context, (batch, queries, self.embed_dim)), weights

    def call(self, x, training=False, return_attention_scores=False):
        """Run the layer; see the class docstring for shapes."""
        q, k, v = self._heads(x)  # each (batch, heads, T, head_dim)
        mask = causal_mask(ops.shape(x)[1])[None, None]  # (1, 1, T, T)
        context, weights = self._attend(q, k, v, mask, training=training)
        out = self.output_dropout(self.out(context), training=training)
        if return_attention_scores:
            return out, weights
        return out

    def call_cached(self, x, key_cache, value_cache, start):
        """Attend from new positions to everything cached so far (inference).

        The keys and values of earlier positions never change (each position
        sees only the past), so instead of recomputing them for every new
        token we keep them in fixed-size buffers of ``context_length`` slots
        and write each new position's key and value into slot ``start + i``.
        Slots not yet written hold zeros or stale values; the mask hides
        every slot after the query's own position, so they get weight 0.

        Args:
            x: ``(batch, new_len, embed_dim)``, the new positions.
            key_cache: ``(batch, num_heads, context_length, head_dim)``.
            value_cache: Same shape as ``key_cache``.
            start: Position of the first new token: an int or scalar tensor
                (every row), or an int tensor ``(batch,)`` of per-row
                positions (then ``new_len`` must be 1: rows whose prompts
                have different lengths, decoded together);
                ``start + new_len`` must not exceed ``context_length``.

        Returns:
            ``(out, key_cache, value_cache)``: the output ``(batch, new_len,
            embed_dim)`` and both caches with the new positions written.
        """
        q, k, v = self._heads(x)  # each (batch, heads, new_len, head_dim)
        slots = ops.arange(ops.shape(key_cache)[2])  # (context_length,)
        if len(getattr(start, "shape", ())) == 0:  # one start for every row
            key_cache = ops.slice_update(key_cache, (0, 0, start, 0), k)
            value_cache = ops.slice_update(value_cache, (0, 0, start, 0), v)
            rows = start + ops.arange(ops.shape(x)[1])[:, None]  # query positions
            mask = ops.greater_equal(rows, slots[None, :])[None, None]  # (1,1,new,C)
        else:  # one position per row, one new token each
            write = ops.equal(slots[None, :], start[:, None])  # (batch, C)
            write = write[:, None, :, None]  # (batch, 1, C, 1)
            key_cache = ops.where(write, k, key_cache)  # k: (batch, heads, 1, hd)
            value_cache = ops.where(write, v, value_cache)
            seen = ops.greater_equal(start[:, None], slots[None, :])  # (batch, C)
            mask = seen[:, None, None, :]  # (batch, 1, 1, C)
        context, _ = self._attend(q, key_cache, value_cache, mask)
        return self.out(context), key_cache, value_cache

    def compute_output_shape(self, input_shape):
        """Shape of the output for inputs of ``input_shape``."""
        return input_shape

    def get_config(self):
        """Constructor arguments, for saving and ``from_config``."""
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class TransformerBlock(layers.Layer):
    """A pre-LayerNorm GPT block: attention then MLP, each with a residual.

    ``x + attn(LN(x))`` then ``x + mlp(LN(x))``. The MLP widens to
    ``4 * embed_dim`` with GELU and narrows back.

    Args:
        num_heads: Attention heads.
        dropout: Dropout rate inside attention and after the MLP.
        mlp_ratio: Width of the MLP hidden layer relative to ``embed_dim``.
        **kwargs: Passed to ``keras.layers.Layer``.

    Input shape:
        ``(batch, seq_len, embed_dim)``; output has the same shape.

    Example:
        >>> block = TransformerBlock(num_heads=2)
        >>> block(np.ones((1, 3, 8))).shape
        TensorShape([1, 3, 8])
    """

    def __init__(self, num_heads, dropout=0.0, mlp_ratio=4, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = _check_positive_int("num_heads", num_heads)
        self.dropout = _check_dropout(dropout)
        self.mlp_ratio = _check_positive_int("mlp_ratio", mlp_ratio)
        self.ln1 = layers.LayerNormalization(epsilon=1e-5, name="ln1")
        self.attention = CausalSelfAttention(num_heads, dropout, name="attention")
        self.ln2 = layers.LayerNormalization(epsilon=1e-5, name="ln2")
        self.mlp_dropout = layers.Dropout(self.dropout)

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape``."""
        embed_dim = int(input_shape[-1])
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.ln1.build(input_shape)
        self.attention.build(input_shape)
        self.ln2.build(input_shape)
        self.fc = layers.Dense(
            self.mlp_ratio * embed_dim, kernel_initializer=init, name="fc"
        )
        self.fc.build(input_shape)
        self.proj = layers.Dense(embed_dim, kernel_initializer=init, name="proj")
        self.proj.build((*input_shape[:-1], self.mlp_ratio * embed_dim))
        self.built = True

    def _mlp(self, x, training=False):
        """The MLP branch, ``proj(gelu(fc(LN(x))))``, same shape as ``x``."""
        # tanh-approximate GELU, as in GPT-2; cheaper than erf on a CPU.
        hidden = ops.gelu(self.fc(self.ln2(x)), approximate=True)  # (b, T, 4E)
        return self.mlp_dropout(self.proj(hidden), training=training)

    def call(self, x, training=False, return_attention_scores=False):
        """Run the layer; see the class docstring for shapes."""
        attended, weights = self.attention(
            self.ln1(x), training=training, return_attention_scores=True
        )
        x = x + attended  # (batch, seq_len, embed_dim)
        x = x + self._mlp(x, training=training)
        if return_attention_scores:
            return x, weights
        return x

    def call_cached(self, x, key_cache, value_cache, start):
        """:meth:`call` for inference with a key/value cache.

        See :meth:`CausalSelfAttention.call_cached` for the arguments.

        Returns:
            ``(x, key_cache, value_cache)``.
        """
        attended, key_cache, value_cache = self.attention.call_cached(
            self.ln1(x), key_cache, value_cache, start
        )
        x = x + attended  # (batch, new_len, embed_dim)
        return x + self._mlp(x), key_cache, value_cache

    def compute_output_shape(self, input_shape):
        """Shape of the output for inputs of ``input_shape``."""
        return input_shape

    def get_config(self):
        """Constructor arguments, for saving and ``from_config``."""
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "mlp_ratio": self.mlp_ratio,
        }


@keras.saving.register_keras_serializable(package="keras_gen")
class GPT(keras.Model):
    """A decoder-only transformer language model; see :func:`build_gpt`.

    ``model(token_ids)`` returns next-token logits ``(batch, seq_len,
    vocab_size)``: position ``t`` scores every possible token ``t + 1``.
    """

    def __init__(
        self,
        vocab_size,
        context_length,
        embed_dim,
        num_heads,
        num_layers,
        dropout=0.0,
        tie_embeddings=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = _check_positive_int("vocab_size", vocab_size)
        self.context_length = _check_positive_int("context_length", context_length)
        self.embed_dim = _check_positive_int("embed_dim", embed_dim)
        self.num_heads = _check_positive_int("num_heads", num_heads)
        self.num_layers = _check_positive_int("num_layers", num_layers)
        self.dropout = _check_dropout(dropout)
        self.tie_embeddings = _checks.check_bool("tie_embeddings", tie_embeddings)
        if embed_dim % num_heads:
            raise ValueError(
                f"Expected embed_dim divisible by num_heads. Received: "
                f"embed_dim={embed_dim}, num_heads={num_heads}. Each head gets "
                "embed_dim // num_heads dimensions."
            )
        self.embedding = TokenAndPositionEmbedding(
            vocab_size, context_length, embed_dim, name="embedding"
        )
        self.embedding_dropout = layers.Dropout(self.dropout)
        self.blocks = [
            TransformerBlock(num_heads, dropout, name=f"block_{i}")
            for i in range(num_layers)
        ]
        self.final_norm = layers.LayerNormalization(epsilon=1e-5, name="final_norm")
        self.head = None
        if not self.tie_embeddings:
            self.head = layers.Dense(
                vocab_size,
                use_bias=False,
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
                name="head",
            )

    def build(self, input_shape=None):
        """Create the weights for inputs of ``input_shape``."""
        input_shape = (None, self.context_length)
        hidden_shape = (*input_shape, self.embed_dim)
        self.embedding.build(input_shape)
        for block in self.blocks:
            block.build(hidden_shape)
        self.final_norm.build(hidden_shape)
        if self.head is not None:
            self.head.build(hidden_shape)
        self.built = True

    def _check_length(self, token_ids):
        seq_len = token_ids.shape[-1]
        if seq_len is not None and seq_len > self.context_length:
            raise ValueError(
                f"Expected at most context_length={self.context_length} tokens. "
                f"Received: token_ids with shape {tuple(token_ids.shape)}. Keep "
                "only the last context_length tokens."
            )

    def _logits(self, hidden):
        """Next-token scores from :meth:`hidden_states` (the LM head)."""
        if self.head is None:
            # Tied weights (Press & Wolf, 2017): the output layer reuses the
            # token embedding matrix, scoring each token by a dot product.
            table = self.embedding.token_embedding.embeddings  # (vocab, embed)
            return ops.matmul(hidden, ops.transpose(table))  # (batch, T, vocab)
        return self.head(hidden)

    def hidden_states(self, token_ids, training=False, return_attention_scores=False):
        """The GPT body: embeddings, every block and the final LayerNorm.

        This is the one forward pass of the model: the language-model head
        (:meth:`call`), :meth:`attention_weights` and
        :class:`keras_gen.finetune.GPTClassifier` all read its output.

        Args:
            token_ids: int ``(batch, seq_len)``, ``seq_len <= context_length``.
            training: Apply dropout.
            return_attention_scores: Also return every block's attention
                weights.

        Returns:
            ``(batch, seq_len, embed_dim)`` vectors after the final LayerNorm;
            with ``return_attention_scores=True`` also a list of ``num_layers``
            tensors ``(batch, num_heads, seq_len, seq_len)``.

        Example:
            >>> model = build_gpt(10, 8, 16, num_heads=2, num_layers=1)
            >>> model.hidden_states(np.zeros((2, 5), "int32")).shape
            TensorShape([2, 5, 16])
        """
        self._check_length(token_ids)
        x = self.embedding(token_ids)  # (batch, seq_len, embed_dim)
        x = self.embedding_dropout(x, training=training)
        maps = []
        for block in self.blocks:
            x, weights = block(x, training=training, return_attention_scores=True)
            maps.append(weights)  # (batch, num_heads, seq_len, seq_len)
        x = self.final_norm(x)  # (batch, seq_len, embed_dim)
        return (x, maps) if return_attention_scores else x

    def call(self, token_ids, training=False):
        """Next-token logits ``(batch, seq_len, vocab_size)``."""
        return self._logits(self.hidden_states(token_ids, training=training))

    def init_cache(self, batch_size):
        """Empty key/value buffers for :meth:`call_with_cache`.

        Args:
            batch_size: Number of sequences decoded together.

        Returns:
            A list with one ``(key_cache, value_cache)`` pair per block, each
            a zero tensor ``(batch_size, num_heads, context_length,
            head_dim)``.

        Example:
            >>> model = build_gpt(10, 8, 16, num_heads=2, num_layers=3)
            >>> cache = model.init_cache(batch_size=4)
            >>> len(cache), tuple(cache[0][0].shape)
            (3, (4, 2, 8, 8))
        """
        head_dim = self.embed_dim // self.num_heads
        shape = (batch_size, self.num_heads, self.context_length, head_dim)
        return [
            (ops.zeros(shape, self.compute_dtype), ops.zeros(shape, self.compute_dtype))
            for _ in self.blocks
        ]

    def call_with_cache(self, token_ids, cache, start):
        """Next-token logits for new tokens, reusing cached keys and values.

        ``model.call_with_cache(ids[:, t:], cache, t)`` gives the same logits
        as ``model(ids)[:, t:]`` when ``cache`` holds positions ``0 .. t-1``
        (written by earlier calls), but computes only the new positions: one
        token costs one token's work instead of the whole prefix's. This is
        what makes generation fast (see :mod:`keras_gen.decoding`).

        Args:
            token_ids: int ``(batch, new_len)``, the tokens at positions
                ``start .. start + new_len - 1``.
            cache: From :meth:`init_cache` or an earlier call.
            start: Position of the first new token (int or scalar tensor);
                ``start + new_len <= context_length``.

        Returns:
            ``(logits, cache)``: logits ``(batch, new_len, vocab_size)`` and
            the cache with the new positions written.

        Example:
            >>> model = build_gpt(10, 8, 16, num_heads=2, num_layers=1)
            >>> ids = np.array([[1, 2, 3, 4]])
            >>> cache = model.init_cache(1)
            >>> _, cache = model.call_with_cache(ids[:, :3], cache, 0)
            >>> last, cache = model.call_with_cache(ids[:, 3:], cache, 3)
            >>> full = model(ids)[:, 3:]
            >>> bool(np.allclose(last, full, atol=1e-5))
            True
        """
        x = self.embedding.embed_from(token_ids, start)  # (b, new, embed_dim)
        new_cache = []
        for block, (key_cache, value_cache) in zip(self.blocks, cache, strict=True):
            x, key_cache, value_cache = block.call_cached(
                x, key_cache, value_cache, start
            )
            new_cache.append((key_cache, value_cache))
        return self._logits(self.final_norm(x)), new_cache

    def attention_weights(self, token_ids):
        """Run the model and return every layer's attention weights, for plots.

        Args:
            token_ids: int ``(batch, seq_len)``.

        Returns:
            NumPy float32 array ``(num_layers, batch, num_heads, seq_len,
            seq_len)``; entry ``[l, b, h, i, j]`` is how much position ``i``
            attends to position ``j`` in head ``h`` of layer ``l``.
        """
        token_ids = ops.convert_to_tensor(np.asarray(token_ids, "int32"))
        _, maps = self.hidden_states(token_ids, return_attention_scores=True)
        return np.stack([ops.convert_to_numpy(m) for m in maps])

    def generate(
        self,
        token_ids,
        max_new_tokens,
        do_sample=True,
        temperature=1.0,
        top_k=None,
        top_p=None,
        seed=0,
        use_cache=True,
        jit=False,
        batch_size=64,
        verbose=None,
    ):
        """Extend token ids: :func:`keras_gen.decoding.generate_ids` on this model.

        The same decoding path as the pipeline (tokens picked by
        :mod:`keras_gen.sampling`, the key/value cache), so the same seed and
        settings give the same tokens. The one difference is the default:
        ``do_sample=True`` here, greedy in ``generate_ids``.

        Args:
            token_ids: int ``(batch, seq_len)`` prompt(s), or a 1-D list.
            max_new_tokens: How many tokens to append (``>= 0``).
            do_sample: ``True``: sample; ``False``: the most likely token.
            temperature: Softmax temperature (``> 0``) when sampling.
            top_k: If set, sample only among the ``top_k`` most likely tokens.
            top_p: If set, sample from the smallest set of tokens whose
                probability reaches ``top_p``.
            seed: Seed for the sampling; sequence ``i`` depends only on
                ``(seed, i)``.
            use_cache: Decode with the key/value cache.
            jit: XLA-compile the cached steps (pays off for long outputs).
            batch_size: Rows decoded together; more run batch after batch.
            verbose: Show a progress bar; ``None``: only for long requests.

        Returns:
            int32 NumPy array ``(batch, seq_len + max_new_tokens)`` (1-D for a
            1-D prompt).

        Example:
            >>> model = build_gpt(10, 8, 16, num_heads=2, num_layers=1)
            >>> model.generate([1, 2], 3, top_k=2, seed=0).shape
            (5,)
        """
        return decoding.generate_ids(
            self,
            token_ids,
            max_new_tokens,
            do_sample=do_sample,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=seed,
            use_cache=use_cache,
            jit=jit,
            batch_size=batch_size,
            verbose=verbose,
        )

    def get_config(self):
        """Constructor arguments, for saving and ``from_config``."""
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "context_length": self.context_length,
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "tie_embeddings": self.tie_embeddings,
        }


def gpt_param_count(
    vocab_size, context_length, embed_dim, num_layers, tie_embeddings=True
) -> int:
    """Parameters of :func:`build_gpt`, from the formula in its docstring.

    Example:
        >>> gpt_param_count(65, 64, 128, 4)  # the CPU "baby GPT"
        809856
    """
    v, t, e, n = vocab_size, context_length, embed_dim, num_layers
    per_block = 12 * e * e + 13 * e
    head = 0 if tie_embeddings else v * e
    return v * e + t * e + n * per_block + 2 * e + head


def build_gpt(
    vocab_size: int,
    context_length: int,
    embed_dim: int,
    num_heads: int,
    num_layers: int,
    dropout: float = 0.0,
    tie_embeddings: bool = True,
) -> GPT:
    """Build a GPT-style language model (built, not compiled).

    Parameter count, with ``V`` = vocab_size, ``T`` = context_length, ``E`` =
    embed_dim, ``L`` = num_layers::

        V*E                    token embedding (also the output layer if tied)
      + T*E                    position embedding
      + L * (12*E**2 + 13*E)   per block: QKV 3E^2+3E, attention out E^2+E,
                               MLP 4E^2+4E and 4E^2+E, two LayerNorms 4E
      + 2*E                    final LayerNorm
      + V*E                    output layer, only if tie_embeddings=False

    The ``12*E**2`` term dominates: a model's "size" is mostly its width and
    depth. :func:`gpt_param_count` evaluates the formula.

    Args:
        vocab_size: Number of token ids.
        context_length: Longest input in tokens.
        embed_dim: Width; must be divisible by ``num_heads``.
        num_heads: Attention heads per block.
        num_layers: Transformer blocks.
        dropout: Dropout rate (``0`` for short CPU runs; dropout draws random
            numbers, which is slow inside an XLA step on CPU).
        tie_embeddings: Share the token embedding with the output layer.

    Returns:
        A built :class:`GPT` mapping int ``(batch, seq_len)`` to logits
        ``(batch, seq_len, vocab_size)``.

    Example:
        >>> model = build_gpt(65, 64, 128, num_heads=4, num_layers=4)
        >>> model.count_params()
        809856
        >>> model(np.zeros((2, 10), "int32")).shape
        TensorShape([2, 10, 65])
    """
    model = GPT(
        vocab_size=vocab_size,
        context_length=context_length,
        embed_dim=embed_dim,
        num_heads=num_heads,
        num_layers=num_layers,
        dropout=dropout,
        tie_embeddings=tie_embeddings,
        name="gpt",
    )
    model.build((None, context_length))
    return model


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT: everything :func:`build_gpt` needs, in one value.

    ``build_gpt(**dataclasses.asdict(config))`` builds it. Named presets
    (:meth:`preset`) keep the project's models in one place, so notebook 05,
    the benchmarks and ``tools/train_pretrained.py`` cannot drift apart:

    * ``"baby"``: the well-known CPU "baby GPT" (nanoGPT's shakespeare_char
      shrunk for a laptop): 4 blocks, 4 heads, 128 wide, 64 tokens of context,
      about 0.8 M parameters with a 65-character vocabulary;
    * ``"pydoc-char"``: the GPT that ships in ``data/pretrained/pydoc-char-gpt``:
      4 blocks, 6 heads, 192 wide, 256 characters of context, 1.9 M
      parameters with its 359-token vocabulary.

    Example:
        >>> config = GPTConfig.preset("baby")
        >>> config.embed_dim, config.num_layers, config.param_count()
        (128, 4, 809856)
        >>> GPTConfig.preset("baby", vocab_size=100).vocab_size
        100
    """

    vocab_size: int
    context_length: int
    embed_dim: int
    num_heads: int
    num_layers: int
    dropout: float = 0.0
    tie_embeddings: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "context_length", "embed_dim", "num_heads"):
            _check_positive_int(name, getattr(self, name))
        _check_positive_int("num_layers", self.num_layers)
        _check_dropout(self.dropout)
        _checks.check_bool("tie_embeddings", self.tie_embeddings)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"Expected embed_dim divisible by num_heads. Received: "
                f"embed_dim={self.embed_dim}, num_heads={self.num_heads}."
            )

    @classmethod
    def preset(cls, name: str, **overrides) -> GPTConfig:
        """A named configuration, with any field replaced by ``overrides``.

        Args:
            name: ``"baby"`` or ``"pydoc-char"`` (see the class docstring).
            **overrides: Fields to change, e.g. ``vocab_size=`` for your
                tokenizer.

        Returns:
            A new :class:`GPTConfig`.
        """
        _checks.check_choice("name", name, tuple(GPT_PRESETS))
        return dataclasses.replace(GPT_PRESETS[name], **overrides)

    def param_count(self) -> int:
        """Parameters of the built model (:func:`gpt_param_count`)."""
        return gpt_param_count(
            self.vocab_size,
            self.context_length,
            self.embed_dim,
            self.num_layers,
            self.tie_embeddings,
        )


#: The project's named GPT shapes; see :class:`GPTConfig`.
GPT_PRESETS = {
    "baby": GPTConfig(
        vocab_size=65, context_length=64, embed_dim=128, num_heads=4, num_layers=4
    ),
    "pydoc-char": GPTConfig(
        vocab_size=359, context_length=256, embed_dim=192, num_heads=6, num_layers=4
    ),
}
