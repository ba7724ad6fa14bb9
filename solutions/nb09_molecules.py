"""Solutions to notebook 09's molecule exercises (Exercises 9.5 and 9.6).

9.5: the n-gram floor. MOSES's weakest learned baseline is an n-gram model of
SMILES characters; its validity (0.238) is the floor a real model must beat.
:func:`smiles_ngram_sample` builds such a model over SMILES *tokens* by
counting, samples from it, and the notebook measures its validity.

9.6: sampling temperature. :func:`molecule_temperature_sweep` samples the same
GPT at several temperatures and measures validity, uniqueness and novelty:
a cold model writes safer, more valid but more repetitive molecules.
"""

from __future__ import annotations

import collections

import numpy as np

from keras_gen.molecules.metrics import moses_metrics, valid_canonical
from keras_gen.molecules.smiles import BOS, EOS, sample_smiles, split_smiles


def smiles_ngram_sample(
    training_smiles, n: int = 3, num_samples: int = 1000, seed: int = 0,
    max_tokens: int = 60,
) -> list[str]:
    """Sample SMILES from a token n-gram model counted on ``training_smiles``.

    Each molecule is ``<bos> tokens <eos>``; the model's next-token
    distribution given the previous ``n - 1`` tokens is the training counts
    (no smoothing: it only writes token runs it has seen).

    Args:
        training_smiles: SMILES strings to count.
        n: Order of the model (2: bigram, 3: trigram, ...).
        num_samples: Molecules to write.
        seed: Sampling seed.
        max_tokens: A sample that has not ended by then is cut there.

    Returns:
        ``num_samples`` SMILES strings (often invalid: an n-gram cannot close
        the ring it opened 20 tokens before).

    Example:
        >>> smiles_ngram_sample(["CCO", "CCN"], n=2, num_samples=3, seed=0)
        ['CCCCN', 'CO', 'CN']
    """
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"Expected n >= 2. Received: n={n!r}")
    counts = collections.defaultdict(collections.Counter)
    for smiles in training_smiles:
        tokens = [BOS] * (n - 1) + split_smiles(smiles) + [EOS]
        for i in range(n - 1, len(tokens)):
            counts[tuple(tokens[i - n + 1 : i])][tokens[i]] += 1
    table = {
        history: (list(c), np.array(list(c.values()), "float64") / sum(c.values()))
        for history, c in counts.items()
    }
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(num_samples):
        history, out = [BOS] * (n - 1), []
        for _ in range(max_tokens):
            choices, probs = table[tuple(history[len(history) - n + 1 :])]
            token = choices[rng.choice(len(choices), p=probs)]
            if token == EOS:
                break
            out.append(token)
            history.append(token)
        samples.append("".join(out))
    return samples


def molecule_temperature_sweep(
    model, tokenizer, training_smiles, temperatures=(0.7, 1.0, 1.3),
    num_samples: int = 500, seed: int = 0, jit: bool = True,
) -> dict[float, dict[str, float]]:
    """MOSES metrics of ``num_samples`` molecules at each temperature.

    ``jit``: XLA for the decoding steps (:func:`sample_smiles`); ``False``
    where its compile costs more than it saves (a few hundred samples).

    Returns:
        ``{temperature: {"valid": ..., "novelty": ..., "unique": ...}}``,
        where ``"unique"`` is the share of distinct molecules among the valid
        ones (unique@k with ``k`` = all of them).
    """
    training = set(training_smiles)
    results = {}
    for temperature in temperatures:
        samples = sample_smiles(
            model, tokenizer, num_samples, temperature=temperature, seed=seed,
            jit=jit,
        )
        metrics = moses_metrics(samples, training, ks=())
        valid = valid_canonical(samples)
        metrics["unique"] = len(set(valid)) / len(valid)
        results[temperature] = metrics
    return results
