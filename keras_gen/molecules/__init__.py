"""Molecules, notebook 09: SMILES strings from the MOSES set, learned by a GPT.

- ``smiles``: the vendored MOSES SMILES, tokenising, sampling and drawing molecules.
- ``metrics``: the MOSES metrics (validity, uniqueness, novelty, ...) with RDKit.
"""
