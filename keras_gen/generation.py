"""The article's ``pipeline('text-generation')`` in Keras, with a KV cache.

The article loads a model and generates text in two lines::

    generator = pipeline('text-generation', model='gpt-3.5')
    generator("The future of AI in healthcare is", max_length=50)

:func:`pipeline` gives the same call on a model you can open up: a folder
saved by :func:`keras_gen.pretrained.save_pretrained` (by default the GPT that
ships with the project) or a model and tokenizer in memory. It returns what
Hugging Face ``transformers`` returns, ``[{"generated_text": ...}]``, so code
written against one reads the same against the other.

Under the call, :func:`keras_gen.decoding.generate_ids` extends token ids one
token at a time, with a key/value cache; it is the one decoding path of
``keras_gen`` and lives in :mod:`keras_gen.decoding`, which needs only a model.
This module adds what the article's two lines need on top of it: loading a
folder (:mod:`keras_gen.pretrained`), text in and text out.
"""

from __future__ import annotations

import os
import warnings

import keras
import numpy as np

from keras_gen import _checks, sampling
from keras_gen.decoding import check_model, generate_ids
from keras_gen.pretrained import DEFAULT_MODEL_DIR, Pretrained, load_pretrained
from keras_gen.tokenizers import Tokenizer

TASKS = ("text-generation",)
#: New tokens when neither ``max_length`` nor ``max_new_tokens`` is given.
DEFAULT_MAX_NEW_TOKENS = 50
#: The most continuations one pipeline call returns per prompt: each is
#: decoded token by token, so the time grows with their number; ask again
#: with another seed for more.
MAX_RETURN_SEQUENCES = 100


class TextGenerationPipeline:
    """A callable that turns prompts into generated text; see :func:`pipeline`.

    Attributes:
        model: The language model.
        tokenizer: Its tokenizer.
        card: The model card (a dict; empty for an in-memory model).
        jit: Whether the cached decoding steps are XLA-compiled.
    """

    task = "text-generation"

    def __init__(self, model, tokenizer: Tokenizer, card: dict | None = None, jit=True):
        check_model(model)
        if not isinstance(tokenizer, Tokenizer):
            raise ValueError(
                "Expected a keras_gen tokenizer. Received: tokenizer of type "
                f"{type(tokenizer).__name__}. Pass the tokenizer the model was "
                "trained with."
            )
        if tokenizer.vocab_size != model.vocab_size:
            raise ValueError(
                f"Expected the tokenizer's vocab_size ({tokenizer.vocab_size}) to "
                f"equal the model's ({model.vocab_size}). Pass the tokenizer the "
                "model was trained with."
            )
        self.model = model
        self.tokenizer = tokenizer
        self.card = dict(card or {})
        self.jit = bool(jit)
        self._warned_truncation = False

    def __repr__(self):
        name = self.card.get("name", self.model.name)
        return (
            f"TextGenerationPipeline(model={name!r}, "
            f"parameters={self.model.count_params():,}, "
            f"context_length={self.model.context_length})"
        )

    def _new_tokens(self, prompt_len, max_length, max_new_tokens) -> int:
        if max_length is not None and max_new_tokens is not None:
            raise ValueError(
                "Expected only one of max_length and max_new_tokens. Received: "
                f"max_length={max_length}, max_new_tokens={max_new_tokens}. "
                "max_length counts the prompt too; max_new_tokens only new tokens."
            )
        if max_new_tokens is not None:
            return _checks.check_int("max_new_tokens", max_new_tokens, minimum=1)
        if max_length is None:
            return DEFAULT_MAX_NEW_TOKENS
        max_length = _checks.check_int("max_length", max_length, minimum=1)
        if max_length <= prompt_len:
            raise ValueError(
                f"Expected max_length > the prompt's length ({prompt_len} tokens), "
                f"since max_length counts the prompt plus the new tokens. "
                f"Received: max_length={max_length}. Use "
                f"max_length={prompt_len + DEFAULT_MAX_NEW_TOKENS} or "
                f"max_new_tokens={DEFAULT_MAX_NEW_TOKENS}."
            )
        return max_length - prompt_len

    def _encode(self, prompt):
        if not isinstance(prompt, str):
            raise ValueError(
                "Expected a prompt string or a list of strings. Received: "
                f"{type(prompt).__name__} {prompt!r}"
            )
        ids = self.tokenizer.encode(prompt)
        if not ids:
            raise ValueError(
                "Expected a non-empty prompt. Received: ''. Give the model some "
                "text to continue, even a single character."
            )
        window = self.model.context_length
        if len(ids) > window and not self._warned_truncation:
            self._warned_truncation = True
            warnings.warn(
                f"The prompt has {len(ids)} tokens but the model's context window "
                f"is {window}: the model sees only the last {window} tokens "
                "(truncation from the left). generated_text still starts with "
                "the whole prompt. (Shown once per pipeline.)",
                UserWarning,
                stacklevel=3,
            )
        return ids

    def __call__(
        self,
        text_inputs,
        max_length: int | None = None,
        max_new_tokens: int | None = None,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        num_return_sequences: int = 1,
        seed: int | None = None,
        return_full_text: bool = True,
    ):
        """Generate text for one prompt or a list of prompts.

        Args:
            text_inputs: A prompt string, or a list of prompt strings.
            max_length: Length of prompt **plus** new tokens, in tokens (the
                article's argument; characters for a character-level model).
            max_new_tokens: Number of new tokens; give this *or*
                ``max_length``. With neither, 50 new tokens.
            do_sample: ``False`` (default): greedy decoding. ``True``: sample.
            temperature: Softmax temperature ``> 0`` (sampling only).
            top_k: Sample among the ``top_k`` most likely tokens only.
            top_p: Sample from the smallest set of tokens whose probability
                adds up to ``top_p`` (``0 < top_p <= 1``).
            num_return_sequences: Continuations per prompt, at most
                :data:`MAX_RETURN_SEQUENCES` (sampling only: greedy decoding
                has exactly one).
            seed: Seed for sampling; the same seed gives the same text, and
                sequence ``i`` depends only on ``(seed, i)``: the first of
                ten sequences is the one you get when asking for one.
            return_full_text: Include the prompt in ``generated_text``.

        Returns:
            For one prompt, a list of ``num_return_sequences`` dicts
            ``{"generated_text": ...}``; for a list of prompts, a list of
            such lists, one per prompt.
        """
        single = isinstance(text_inputs, str)
        prompts = [text_inputs] if single else text_inputs
        if not isinstance(prompts, (list, tuple)) or not prompts:
            raise ValueError(
                "Expected a prompt string or a non-empty list of strings. "
                f"Received: {text_inputs!r}"
            )
        num_return_sequences = _checks.check_int(
            "num_return_sequences", num_return_sequences, minimum=1
        )
        if num_return_sequences > MAX_RETURN_SEQUENCES:
            raise ValueError(
                f"Expected num_return_sequences <= {MAX_RETURN_SEQUENCES}. Received: "
                f"num_return_sequences={num_return_sequences:,}. Each sequence is "
                "decoded token by token; for more, call again with another seed."
            )
        do_sample = sampling.check_settings(
            do_sample, temperature, top_k, top_p, vocab_size=self.model.vocab_size
        )
        if not do_sample:
            if num_return_sequences != 1:
                raise ValueError(
                    "Expected num_return_sequences=1 with greedy decoding, which "
                    "has only one answer. Received: "
                    f"num_return_sequences={num_return_sequences}. Set "
                    "do_sample=True for several different continuations."
                )
            sampled = [
                name
                for name, value, default in (
                    ("temperature", temperature, 1.0),
                    ("top_k", top_k, None),
                    ("top_p", top_p, None),
                )
                if value != default
            ]
            if sampled:
                warnings.warn(
                    f"{', '.join(sampled)} only change sampling, but do_sample="
                    "False uses greedy decoding. Pass do_sample=True to use them.",
                    UserWarning,
                    stacklevel=2,
                )
        seed = _checks.check_seed("seed", seed)
        return_full_text = _checks.check_bool("return_full_text", return_full_text)
        encoded = [self._encode(prompt) for prompt in prompts]
        counts = [self._new_tokens(len(i), max_length, max_new_tokens) for i in encoded]
        if seed is None:  # one fresh seed per call, shared by its prompts
            seed = int(np.random.SeedSequence().entropy % 2**32)
        results = []
        for prompt, ids, new in zip(prompts, encoded, counts, strict=True):
            batch = np.tile(np.asarray(ids, "int32"), (num_return_sequences, 1))
            out = generate_ids(
                self.model,
                batch,
                new,
                do_sample=do_sample,
                temperature=temperature,
                top_k=top_k,
                top_p=top_p,
                seed=seed,  # sequence i depends only on (seed, i)
                jit=self.jit,
            )
            texts = [self.tokenizer.decode(row[len(ids) :].tolist()) for row in out]
            prefix = prompt if return_full_text else ""
            results.append([{"generated_text": prefix + text} for text in texts])
        return results[0] if single else results


def _load(model) -> Pretrained:
    if model is None:
        return load_pretrained(DEFAULT_MODEL_DIR)
    if isinstance(model, Pretrained):
        return model
    path = os.fspath(model)
    if not os.path.exists(path) and os.sep not in path and "/" not in path:
        raise FileNotFoundError(
            f"Expected a folder saved by keras_gen. Received: model={path!r}, "
            "which is neither a folder nor a file here. keras_gen loads only "
            "local folders (no downloads): 'gpt-3.5' is served only through "
            "OpenAI's paid API, and open models such as 'gpt2' need the "
            "transformers or keras_hub packages. Use model=None for the model "
            "that ships with keras_gen."
        )
    return load_pretrained(path)


def pipeline(task: str, model=None, tokenizer: Tokenizer | None = None, jit=True):
    """Make a text generator, as in the article: ``pipeline('text-generation')``.

    Args:
        task: ``"text-generation"`` (the only task).
        model: A folder saved by :func:`keras_gen.pretrained.save_pretrained`
            (``None``: the model that ships with keras_gen), a
            :class:`~keras_gen.pretrained.Pretrained`, a ``(model,
            tokenizer)`` tuple, or a model with ``tokenizer=`` given.
        tokenizer: The tokenizer, when ``model`` is a model object.
        jit: XLA-compile the cached decoding steps (TensorFlow backend).

    Returns:
        A :class:`TextGenerationPipeline`; call it with a prompt.

    Raises:
        ValueError: For an unknown task or a model without its tokenizer.
        FileNotFoundError: For a missing folder or a folder missing a file.

    Example:
        >>> from keras_gen.tokenizers import CharTokenizer
        >>> from keras_gen.transformer import build_gpt
        >>> tok = CharTokenizer.train("abc ", byte_fallback=False)
        >>> generator = pipeline("text-generation",
        ...                      model=(build_gpt(4, 16, 8, 2, 1), tok), jit=False)
        >>> out = generator("ab", max_length=6)
        >>> len(out), len(out[0]["generated_text"])
        (1, 6)
    """
    if task not in TASKS:
        raise ValueError(
            f"Expected task='text-generation'. Received: task={task!r}. "
            "keras_gen provides only text generation; notebook 07 fine-tunes the "
            "pretrained model for classification and other tasks."
        )
    if isinstance(model, tuple):
        if len(model) != 2:
            raise ValueError(
                "Expected model=(model, tokenizer). Received: a tuple of "
                f"{len(model)} items."
            )
        model, tokenizer = model
    if isinstance(model, keras.Model):
        if tokenizer is None:
            raise ValueError(
                "Expected a tokenizer with an in-memory model. Received: "
                "tokenizer=None. Call pipeline('text-generation', model=(model, "
                "tokenizer)) or save both with save_pretrained."
            )
        return TextGenerationPipeline(model, tokenizer, jit=jit)
    loaded = _load(model)
    return TextGenerationPipeline(
        loaded.model, tokenizer or loaded.tokenizer, loaded.card, jit=jit
    )
