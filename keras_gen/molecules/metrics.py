"""The MOSES metrics of generated molecules, measured with RDKit.

Polykovskiy et al. 2020 ("Molecular Sets (MOSES): A Benchmarking Platform for
Molecular Generation Models", Frontiers in Pharmacology 11:565644) define how
to judge a model that writes molecules; this module follows their code
(``moses/metrics``):

* **validity**: the share of samples RDKit parses and sanitises into a
  molecule (an empty string is invalid);
* **unique@k**: among the first ``k`` *valid* samples, the share of distinct
  canonical SMILES (MOSES reports ``k`` = 1,000 and 10,000);
* **novelty**: among the distinct valid samples, the share whose canonical
  SMILES is not in the training set;
* **property distributions**: QED (drug-likeness, Bickerton et al. 2012),
  logP (Crippen's octanol-water partition coefficient) and molecular weight
  of the valid samples against held-out molecules, compared with the 1-D
  Wasserstein (earth mover's) distance, as MOSES does.

:data:`MOSES_REFERENCE` holds the published numbers to print beside ours.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from keras_gen import _checks

#: Published MOSES results (Polykovskiy et al. 2020, Table 2; the means over
#: their runs): the CharRNN model and the n-gram baseline, whose validity is
#: the floor a learned model must beat.
MOSES_REFERENCE = {
    "CharRNN (MOSES)": {"valid": 0.975, "unique@10k": 0.999, "novelty": 0.842},
    "n-gram baseline (MOSES)": {"valid": 0.238},
}
#: The properties whose distributions are compared.
PROPERTIES = ("QED", "logP", "weight")


def _check_smiles_list(name: str, smiles) -> list[str]:
    if isinstance(smiles, str) or not isinstance(smiles, Iterable):
        raise ValueError(
            f"Expected {name} to be a list of SMILES strings. Received: {name} "
            f"of type {type(smiles).__name__}"
            + (" (one string: wrap it in a list)" if isinstance(smiles, str) else "")
        )
    smiles = list(smiles)
    if not smiles:
        raise ValueError(f"Expected at least one SMILES string in {name}. Received: []")
    for s in smiles:
        if not isinstance(s, str):
            raise ValueError(
                f"Expected {name} to hold only str. Received: {s!r} of type "
                f"{type(s).__name__}"
            )
    return smiles


def to_molecule(smiles: str):
    """An RDKit molecule, or ``None`` when ``smiles`` is not a valid molecule.

    As MOSES's ``get_mol``: empty strings and strings RDKit cannot parse or
    sanitise give ``None``; RDKit's warnings about them are silenced.

    Example:
        >>> to_molecule("c1ccccc1") is None, to_molecule("c1cccc1") is None
        (False, True)
    """
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    if not smiles:
        return None
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    try:
        Chem.SanitizeMol(mol)
    except ValueError:
        return None
    return mol


def canonical_smiles(smiles: str) -> str | None:
    """RDKit's canonical SMILES of ``smiles``, or ``None`` if invalid.

    Example:
        >>> canonical_smiles("OCC"), canonical_smiles("C1CC")
        ('CCO', None)
    """
    from rdkit import Chem

    mol = to_molecule(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def validity(samples: Sequence[str]) -> float:
    """The share of ``samples`` that are valid molecules.

    Example:
        >>> validity(["CCO", "C1CC", "", "c1ccccc1"])
        0.5
    """
    samples = _check_smiles_list("samples", samples)
    return sum(to_molecule(s) is not None for s in samples) / len(samples)


def valid_canonical(samples: Sequence[str]) -> list[str]:
    """The canonical SMILES of the valid samples, in order (duplicates kept)."""
    samples = _check_smiles_list("samples", samples)
    return [c for c in map(canonical_smiles, samples) if c is not None]


def unique_at(samples: Sequence[str], k: int) -> float:
    """MOSES's unique@k: distinct molecules among the first ``k`` valid samples.

    Invalid samples are dropped first (as MOSES's ``get_all_metrics`` does).
    With fewer than ``k`` valid samples MOSES warns and uses all of them; so
    does this function.

    Example:
        >>> unique_at(["CCO", "OCC", "C1CC", "CCN"], k=3)  # OCC is CCO
        0.6666666666666666
    """
    k = _checks.check_int("k", k, minimum=1)
    valid = valid_canonical(samples)
    if not valid:
        raise ValueError(
            "Expected at least one valid molecule for unique@k. Received: "
            f"{len(samples)} samples, none valid."
        )
    if len(valid) < k:
        warnings.warn(
            f"Can't compute unique@{k} on {k} molecules: only {len(valid)} "
            "samples are valid; using all of them (as MOSES does).",
            stacklevel=2,
        )
    first = valid[:k]
    return len(set(first)) / len(first)


def novelty(samples: Sequence[str], training_smiles: Iterable[str]) -> float:
    """The share of distinct valid samples that are not training molecules.

    Args:
        samples: Generated SMILES (invalid ones are ignored).
        training_smiles: The training set as *canonical* SMILES (what
            :func:`keras_gen.molecules.smiles.load_moses` returns), or a set of them.

    Example:
        >>> novelty(["CCO", "OCC", "CCN", "C1CC"], ["CCO"])  # CCO is not new
        0.5
    """
    valid = set(valid_canonical(samples))
    if not valid:
        raise ValueError(
            "Expected at least one valid molecule for novelty. Received: "
            f"{len(samples)} samples, none valid."
        )
    if not isinstance(training_smiles, (set, frozenset)):
        training_smiles = set(_check_smiles_list("training_smiles", training_smiles))
    return len(valid - training_smiles) / len(valid)


def molecule_properties(smiles: Sequence[str]) -> dict[str, np.ndarray]:
    """QED, logP and molecular weight of each *valid* molecule in ``smiles``.

    Returns:
        ``{"QED": (n,), "logP": (n,), "weight": (n,)}`` float arrays over the
        ``n`` valid molecules, in order.

    Example:
        >>> props = molecule_properties(["CCO", "not a molecule"])
        >>> round(float(props["weight"][0]), 2), props["logP"].shape
        (46.07, (1,))
    """
    from rdkit.Chem import QED, Crippen, Descriptors

    mols = [to_molecule(s) for s in _check_smiles_list("smiles", smiles)]
    mols = [m for m in mols if m is not None]
    return {
        "QED": np.array([QED.qed(m) for m in mols], "float64"),
        "logP": np.array([Crippen.MolLogP(m) for m in mols], "float64"),
        "weight": np.array([Descriptors.MolWt(m) for m in mols], "float64"),
    }


def wasserstein_1d(a, b) -> float:
    """The 1-D Wasserstein distance between two samples of numbers.

    The area between the two empirical CDFs (what ``scipy.stats.
    wasserstein_distance`` computes, which MOSES calls); in the numbers' own
    units (e.g. daltons for molecular weight).

    Example:
        >>> wasserstein_1d([0.0, 1.0], [0.0, 1.0]), wasserstein_1d([0.0], [2.0])
        (0.0, 2.0)
    """
    a = np.sort(np.asarray(a, "float64").reshape(-1))
    b = np.sort(np.asarray(b, "float64").reshape(-1))
    if not a.size or not b.size or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(
            "Expected two non-empty samples of finite numbers. Received: sizes "
            f"{a.size} and {b.size}"
            + ("" if a.size and b.size else ": generate more valid molecules")
        )
    points = np.sort(np.concatenate([a, b]))  # where either CDF steps
    cdf_a = np.searchsorted(a, points[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, points[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * np.diff(points)))


def moses_metrics(
    samples: Sequence[str],
    training_smiles: Iterable[str],
    reference_smiles: Sequence[str] | None = None,
    ks: Sequence[int] = (1000, 10000),
    reference_properties: dict | None = None,
) -> dict[str, float]:
    """Every metric of this module, keyed as MOSES names them.

    Args:
        samples: Generated SMILES.
        training_smiles: Canonical training SMILES (for novelty).
        reference_smiles: Held-out molecules for the property distances
            (``None``: no distances, unless ``reference_properties`` is given).
        ks: The ``k`` of unique@k; a ``k`` larger than the number of valid
            samples is left out (instead of a warning).
        reference_properties: :func:`molecule_properties` of the held-out
            molecules, computed once, instead of ``reference_smiles``.

    Returns:
        ``{"valid", "unique@1k", "unique@10k", "novelty", "QED W1", "logP W1",
        "weight W1"}`` (unique@k keys only for ``k`` with enough valid
        samples; ``W1``: the Wasserstein distance to the held-out molecules).

    Example:
        >>> m = moses_metrics(["CCO", "CCO", "CCN", "C1CC"], ["CCO"], ks=(2,))
        >>> m["valid"], m["unique@2"], m["novelty"]
        (0.75, 0.5, 0.5)
    """
    samples = _check_smiles_list("samples", samples)
    valid = valid_canonical(samples)
    if not valid:
        raise ValueError(
            f"Expected at least one valid molecule. Received: {len(samples)} "
            "samples, none valid. Train the model longer before measuring it."
        )
    metrics = {"valid": len(valid) / len(samples)}
    for k in ks:
        k = _checks.check_int("k", k, minimum=1)
        if len(valid) >= k:
            name = f"unique@{k // 1000}k" if k % 1000 == 0 else f"unique@{k}"
            metrics[name] = len(set(valid[:k])) / k
    metrics["novelty"] = novelty(valid, training_smiles)
    if reference_properties is None and reference_smiles is not None:
        reference_properties = molecule_properties(reference_smiles)
    if reference_properties is not None:
        ours = molecule_properties(valid)
        for name in PROPERTIES:
            reference = reference_properties[name]
            metrics[f"{name} W1"] = wasserstein_1d(ours[name], reference)
    return metrics


def plot_property_histograms(
    samples: dict[str, np.ndarray], reference: dict[str, np.ndarray], title=None
):
    """Histograms of QED, logP and weight: generated against held-out.

    Args:
        samples: :func:`molecule_properties` of generated molecules.
        reference: :func:`molecule_properties` of held-out molecules.
        title: Figure title.

    Returns:
        A matplotlib ``Figure`` with one panel per property.
    """
    import matplotlib.pyplot as plt

    units = {"QED": "QED (0 to 1)", "logP": "logP", "weight": "molecular weight (Da)"}
    fig, axes = plt.subplots(1, len(PROPERTIES), figsize=(12, 3.2))
    for ax, name in zip(axes, PROPERTIES, strict=True):
        both = np.concatenate([samples[name], reference[name]])
        bins = np.linspace(np.percentile(both, 0.5), np.percentile(both, 99.5), 40)
        ax.hist(reference[name], bins, density=True, alpha=0.5, label="held-out MOSES")
        ax.hist(samples[name], bins, density=True, alpha=0.5, label="generated")
        distance = wasserstein_1d(samples[name], reference[name])
        ax.set_title(f"{name} (W1 = {distance:.3g})")
        ax.set_xlabel(units[name])
        ax.set_ylabel("density")
    axes[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
