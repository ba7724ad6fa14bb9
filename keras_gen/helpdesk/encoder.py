"""The help desk's trained retriever: the GPT body fine-tuned as a sentence encoder.

Mean-pooled hidden states of a language model are poor text vectors (the
shipped GPT's body finds the right help section for a few percent of the
held-out questions, ``benchmarks/helpdesk_retrieval.py``): nothing in
next-character prediction asks two texts about the same thing to have close
vectors. Sentence encoders are trained for exactly that, with a contrastive
loss and in-batch negatives (InfoNCE; van den Oord et al. 2018, and the
recipe of Sentence-BERT, SimCSE, E5 and CLIP):

* a batch holds ``B`` pairs (query, document), each document from a
  different section;
* every query is scored against every document of the batch, cosine
  similarity times a learned scale (``1 / temperature``), a ``(B, B)``
  matrix whose diagonal holds the right pairs;
* the loss is the cross-entropy of picking the diagonal, by rows (query to
  document) and by columns (document to query), averaged: the other ``B - 1``
  documents of the batch are the negatives, for free.

:class:`SentenceEncoder` is that model in Keras 3: the GPT body
(:meth:`keras_gen.transformer.GPT.hidden_states`), the mean over real
characters, a ``Dense`` projection and length 1; its ``compute_loss`` is the
symmetric InfoNCE loss, so ``fit()`` trains it. :class:`TrainedEncoder` gives it
the ``fit``/``encode`` methods of :class:`keras_gen.retrieval.HelpIndex`'s
encoders; :func:`load_retriever` reads the shipped folder
(:data:`RETRIEVER_DIR`, made by ``tools/train_helpdesk_retriever.py``).
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
from keras import ops

from keras_gen import model_folder
from keras_gen._checks import check_float, check_int
from keras_gen._files import FileFormatError, data_path
from keras_gen._nested import NestedConfig
from keras_gen.tokenizers import load_tokenizer
from keras_gen.transformer import GPT

#: The shipped retriever (``tools/train_helpdesk_retriever.py``).
RETRIEVER_DIR = data_path("pretrained", "helpdesk-retriever")
#: Characters of a query the encoder reads.
QUERY_CHARS = 64
#: Characters of a section (title, then body) the encoder reads.
DOCUMENT_CHARS = 128
#: The most the learned scale may reach (CLIP's cap): temperature >= 0.01.
MAX_SCALE = 100.0


def info_nce_loss(queries, documents, scale):
    """Symmetric InfoNCE loss of matched rows, the other rows as negatives.

    Args:
        queries: Unit vectors ``(B, D)``.
        documents: Unit vectors ``(B, D)``; row ``i`` matches ``queries[i]``.
        scale: ``1 / temperature``, a scalar.

    Returns:
        The mean of the query-to-document and document-to-query
        cross-entropies, a scalar (nats).

    Example:
        >>> eye = np.eye(3, dtype="float32")
        >>> round(float(info_nce_loss(eye, eye, 20.0)), 6)  # right pairs: ~0
        0.0
        >>> round(float(info_nce_loss(eye, eye, 0.0)), 4)  # no scale: log 3
        1.0986
    """
    logits = ops.matmul(queries, ops.transpose(documents)) * scale  # (B, B)
    labels = ops.arange(ops.shape(logits)[0])
    rows = keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True
    )  # (B,) query -> document
    columns = keras.losses.sparse_categorical_crossentropy(
        labels, ops.transpose(logits), from_logits=True
    )  # (B,) document -> query
    return (ops.mean(rows) + ops.mean(columns)) / 2


@keras.saving.register_keras_serializable(package="keras_gen")
class SentenceEncoder(NestedConfig, keras.Model):
    """A GPT body trained to put a question near the help section it asks about.

    ``embed`` maps token ids to unit vectors: the body's hidden states, their
    mean over real tokens (padding masked out), a ``Dense`` projection, then
    length 1. ``call`` embeds a batch of (query, document) pairs, and
    ``compute_loss`` is :func:`info_nce_loss` with the learned scale, so
    ``model.compile(optimizer)`` then ``model.fit(pairs)`` trains it (no ``y``:
    the pairing is the label).

    Args:
        backbone: A :class:`~keras_gen.transformer.GPT`, trained in place
            (pass :func:`keras_gen.finetune.copy_backbone` to keep the
            original).
        projection_dim: Size of the output vectors.
        temperature: The starting temperature (scale ``1 / temperature``).
        learn_temperature: Train the scale with the weights.
        **kwargs: Passed to ``keras.Model``.

    Input:
        ``{"query_ids": int (B, Tq), "query_mask": bool (B, Tq),
        "doc_ids": int (B, Td), "doc_mask": bool (B, Td)}`` (see
        :func:`pair_arrays`).

    Output:
        ``{"query": (B, projection_dim), "doc": (B, projection_dim)}``, unit
        rows.

    Example:
        >>> from keras_gen.transformer import build_gpt
        >>> encoder = SentenceEncoder(build_gpt(10, 16, 16, 2, 1), 8)
        >>> ids, mask = np.ones((3, 5), "int32"), np.ones((3, 5), bool)
        >>> vectors = encoder.embed(ids, mask)
        >>> vectors.shape, bool(np.allclose(np.linalg.norm(vectors, axis=1), 1))
        (TensorShape([3, 8]), True)
    """

    NESTED = ("backbone",)

    def __init__(
        self,
        backbone,
        projection_dim=128,
        temperature=0.05,
        learn_temperature=True,
        trainable_blocks=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(backbone, GPT):
            raise ValueError(
                "Expected a keras_gen GPT as backbone. Received: backbone of type "
                f"{type(backbone).__name__}. Load one with "
                "keras_gen.pretrained.load_pretrained()."
            )
        self.backbone = backbone
        self.projection_dim = check_int("projection_dim", projection_dim, minimum=1)
        self.temperature = check_float(
            "temperature", temperature, 1 / MAX_SCALE, 10.0
        )
        self.learn_temperature = bool(learn_temperature)
        layers_count = backbone.num_layers
        self.trainable_blocks = layers_count if trainable_blocks is None else (
            check_int("trainable_blocks", trainable_blocks, minimum=1,
                      maximum=layers_count))
        # The embedding and the first blocks stay as pretrained: frozen.
        self.frozen_blocks = layers_count - self.trainable_blocks
        if self.frozen_blocks:
            backbone.embedding.trainable = False
            for block in backbone.blocks[: self.frozen_blocks]:
                block.trainable = False
        self.projection = keras.layers.Dense(
            self.projection_dim, use_bias=False, name="projection"
        )
        self.build()

    def build(self, input_shape=None):
        """Create the projection and the scale (the backbone is built already)."""
        if not self.backbone.built:
            self.backbone.build((None, self.backbone.context_length))
        self.projection.build((None, self.backbone.embed_dim))
        self.log_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(math.log(1 / self.temperature)),
            trainable=self.learn_temperature,
            name="log_scale",
        )
        self.built = True

    @property
    def scale(self):
        """``1 / temperature``, capped at :data:`MAX_SCALE`."""
        return ops.minimum(ops.exp(self.log_scale), MAX_SCALE)

    def lower(self, token_ids):
        """The frozen part: embeddings and the first ``frozen_blocks`` blocks.

        Its output never changes during training, so a trainer may compute it
        once per text (:func:`keras_gen.helpdesk.retriever.train_retriever`
        does) and train on :meth:`upper` alone.
        """
        backbone = self.backbone
        if token_ids.shape[-1] is not None and token_ids.shape[-1] > (
            backbone.context_length
        ):
            raise ValueError(
                f"Expected at most context_length={backbone.context_length} "
                f"tokens. Received: token_ids with shape {tuple(token_ids.shape)}."
                " Cut the texts shorter (max_chars)."
            )
        x = backbone.embedding(token_ids)  # (batch, T, embed_dim)
        for block in backbone.blocks[: self.frozen_blocks]:
            x = block(x)  # (batch, T, embed_dim)
        return x

    def upper(self, hidden, padding_mask, training=False):
        """The trained part: the other blocks, pooling and projection.

        Args:
            hidden: :meth:`lower`'s output ``(batch, T, embed_dim)``.
            padding_mask: bool ``(batch, T)``, True at real tokens.
            training: Apply dropout.

        Returns:
            Unit vectors ``(batch, projection_dim)``.
        """
        backbone = self.backbone
        if not self.frozen_blocks:
            hidden = backbone.embedding_dropout(hidden, training=training)
        for block in backbone.blocks[self.frozen_blocks :]:
            hidden = block(hidden, training=training)  # (batch, T, embed_dim)
        hidden = backbone.final_norm(hidden)  # as GPT.hidden_states ends
        mask = ops.cast(padding_mask, hidden.dtype)[..., None]  # (B, T, 1)
        # Mean over real tokens; max(.., 1) keeps an all-padding row finite.
        pooled = ops.sum(hidden * mask, axis=1) / ops.maximum(
            ops.sum(mask, axis=1), 1.0
        )  # (B, E)
        return ops.normalize(self.projection(pooled), axis=-1)  # (B, P)

    def embed(self, token_ids, padding_mask, training=False):
        """Unit vectors ``(batch, projection_dim)`` of token id rows."""
        return self.upper(self.lower(token_ids), padding_mask, training=training)

    def call(self, inputs, training=False):
        """Embed both sides of a batch of pairs; see the class docstring.

        ``inputs`` may hold ``query_hidden``/``doc_hidden`` (:meth:`lower`'s
        output, computed once) instead of the ids.
        """
        out = {}
        for side, name in (("query", "query"), ("doc", "doc")):
            mask = inputs[f"{side}_mask"]
            if f"{side}_hidden" in inputs:
                out[name] = self.upper(inputs[f"{side}_hidden"], mask, training)
            else:
                out[name] = self.embed(inputs[f"{side}_ids"], mask, training)
        return out

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """The symmetric InfoNCE loss of the batch (``y`` is not used)."""
        if y_pred is None:
            y_pred = self(x, training=training)
        return info_nce_loss(y_pred["query"], y_pred["doc"], self.scale)

    def get_config(self):
        """Constructor arguments, for saving and ``from_config``."""
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "projection_dim": self.projection_dim,
            "temperature": self.temperature,
            "learn_temperature": self.learn_temperature,
            "trainable_blocks": self.trainable_blocks,
        }


def encode_ids(tokenizer, texts, max_chars: int, length: int | None = None):
    """Token ids and padding mask of ``texts``, each cut to ``max_chars``.

    Args:
        tokenizer: A keras_gen tokenizer.
        texts: Strings.
        max_chars: Characters of each text kept.
        length: Columns of the arrays; default the longest encoded text
            (characters outside the alphabet take several tokens, so a text
            may need more than ``max_chars``; it is cut to ``length``).

    Returns:
        ``(ids, mask)``: int32 and bool arrays ``(len(texts), length)``.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> ids, mask = encode_ids(CharTokenizer.train("abc"), ["abc", "b"], 2)
        >>> ids.tolist(), mask.sum(axis=1).tolist()
        ([[0, 1], [1, 0]], [2, 1])
    """
    max_chars = check_int("max_chars", max_chars, minimum=1)
    encoded = [tokenizer.encode(" ".join(t.split())[:max_chars]) or [0] for t in texts]
    if length is None:
        length = max(len(e) for e in encoded)
    ids = np.zeros((len(encoded), length), "int32")
    mask = np.zeros((len(encoded), length), bool)
    for row, tokens in enumerate(encoded):
        tokens = tokens[:length]
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = True
    return ids, mask


def pair_arrays(tokenizer, queries, documents, query_chars=QUERY_CHARS,
                document_chars=DOCUMENT_CHARS):
    """The input dict :class:`SentenceEncoder` trains on, one row per pair.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> arrays = pair_arrays(CharTokenizer.train("abc "), ["a b"], ["cab"], 4, 8)
        >>> {k: v.shape for k, v in arrays.items()}  # doctest: +NORMALIZE_WHITESPACE
        {'query_ids': (1, 4), 'query_mask': (1, 4), 'doc_ids': (1, 8),
         'doc_mask': (1, 8)}
    """
    if len(queries) != len(documents) or not queries:
        raise ValueError(
            "Expected one document per query, for at least one query. Received: "
            f"{len(queries)} queries and {len(documents)} documents."
        )
    query_ids, query_mask = encode_ids(tokenizer, queries, query_chars, query_chars)
    doc_ids, doc_mask = encode_ids(tokenizer, documents, document_chars,
                                   document_chars)
    return {"query_ids": query_ids, "query_mask": query_mask,
            "doc_ids": doc_ids, "doc_mask": doc_mask}


class TrainedEncoder:
    """A :class:`SentenceEncoder` with the ``fit``/``encode`` of an index's encoder.

    Texts are embedded in batches of similar length (less padding); the
    result is the same in any order. Each text's vector is remembered, so a
    text is encoded once however many indexes ask (make a new
    ``TrainedEncoder`` if the model is trained further). ``fit`` does
    nothing (the encoder was trained before); it is there so
    :class:`keras_gen.retrieval.HelpIndex` takes this encoder like the
    others.

    Args:
        model: A :class:`SentenceEncoder`.
        tokenizer: Its tokenizer.
        max_chars: Characters of each text read (documents and questions
            alike; questions are short).
        batch_size: Texts per forward pass.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("abc ")
        >>> encoder = TrainedEncoder(
        ...     SentenceEncoder(build_gpt(tok.vocab_size, 16, 16, 2, 1), 8), tok)
        >>> encoder.fit(["abc"]).encode(["a b", "c"]).shape
        (2, 8)
    """

    def __init__(self, model, tokenizer, max_chars=DOCUMENT_CHARS, batch_size=64):
        if not isinstance(model, SentenceEncoder):
            raise ValueError(
                "Expected a keras_gen.helpdesk.encoder.SentenceEncoder. Received: "
                f"model of type {type(model).__name__}. Load the shipped one with "
                "load_retriever()."
            )
        self.model = model
        self.tokenizer = tokenizer
        self.max_chars = check_int("max_chars", max_chars, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.memo: dict[str, np.ndarray] = {}

    def fit(self, documents) -> TrainedEncoder:
        """Nothing to learn from the documents; returns ``self``."""
        return self

    def encode(self, texts) -> np.ndarray:
        """Unit vectors, float32 ``(len(texts), projection_dim)``."""
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ValueError(
                "Expected a non-empty list of strings. Received: "
                f"{type(texts).__name__} of {len(texts)} items"
            )
        new = list(dict.fromkeys(t for t in texts if t not in self.memo))
        if new:
            self.memo.update(zip(new, self._encode(new), strict=True))
        return np.stack([self.memo[t] for t in texts])

    def _encode(self, texts) -> np.ndarray:
        context = self.model.backbone.context_length
        ids, mask = encode_ids(self.tokenizer, texts, self.max_chars)
        ids, mask = ids[:, :context], mask[:, :context]
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(texts), self.model.projection_dim), "float32")
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = int(lengths[rows].max())  # (b, width): no column all padding
            vectors = self.model.embed(ids[rows, :width], mask[rows, :width])
            out[rows] = ops.convert_to_numpy(vectors)
        return out


def save_retriever(folder, model, tokenizer, card: dict) -> str:
    """Write a retriever folder (model, tokenizer, card), atomically.

    :func:`keras_gen.model_folder.save_folder` does the work: a temporary
    folder, then a swap, so an interrupted save leaves the old folder or the
    new one.

    Example:
        >>> import tempfile
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("abc ")
        >>> model = SentenceEncoder(build_gpt(tok.vocab_size, 16, 16, 2, 1), 8)
        >>> folder = save_retriever(tempfile.mkdtemp() + "/r", model, tok, {})
        >>> load_retriever(folder).model.projection_dim
        8
    """
    if not isinstance(model, SentenceEncoder):
        raise ValueError(
            "Expected a SentenceEncoder. Received: model of type "
            f"{type(model).__name__}"
        )
    return model_folder.save_folder(
        folder, model, card, tokenizer=tokenizer, what="help-desk retriever folder"
    )


def load_retriever(folder=None, max_chars=DOCUMENT_CHARS, batch_size=64):
    """Load a retriever folder, its files checked against their card's hashes.

    Args:
        folder: Default :data:`RETRIEVER_DIR`, the shipped retriever.
        max_chars: Passed to :class:`TrainedEncoder`.
        batch_size: Passed to :class:`TrainedEncoder`.

    Returns:
        A :class:`TrainedEncoder`; the card is its ``card`` attribute.

    Raises:
        FileNotFoundError: The folder or a file is missing.
        keras_gen._files.FileFormatError: A file is damaged or changed, or the
            folder holds another kind of model.
    """
    folder = RETRIEVER_DIR if folder is None else os.fspath(folder)
    remake = (
        "Run `python tools/train_helpdesk_retriever.py` (or `make pretrained`) "
        "to rebuild it, or `git checkout data/pretrained` to restore it."
    )
    contents = model_folder.load_folder(
        folder, what="help-desk retriever folder", tokenizer=True,
        expect=("SentenceEncoder",), remake=remake,
    )
    model = model_folder.load_model(contents.model_path, remake)
    if not isinstance(model, SentenceEncoder):
        raise FileFormatError(
            f"Expected a SentenceEncoder in {contents.model_path}. Received: "
            f"{type(model).__name__}. {remake}"
        )
    encoder = TrainedEncoder(model, load_tokenizer(contents.tokenizer_path),
                             max_chars, batch_size)
    encoder.card = contents.card
    return encoder
