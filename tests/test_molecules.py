"""SMILES data, tokenizer, sampling, MOSES metrics and the shipped SMILES GPT."""

import gzip
import json
import os
import shutil

import numpy as np
import pytest

from keras_gen._files import FileFormatError
from keras_gen.molecules.metrics import (
    canonical_smiles,
    molecule_properties,
    moses_metrics,
    novelty,
    unique_at,
    valid_canonical,
    validity,
    wasserstein_1d,
)
from keras_gen.molecules.smiles import (
    MOSES_DIR,
    SMILES_GPT_DIR,
    SmilesTokenizer,
    load_moses,
    load_smiles_gpt,
    make_smiles_dataset,
    molecule_windows,
    sample_smiles,
    save_smiles_gpt,
    split_smiles,
)
from keras_gen.transformer import build_gpt


@pytest.fixture(scope="module")
def train():
    return load_moses("train")


@pytest.fixture(scope="module")
def tokenizer(train):
    return SmilesTokenizer.train(train)


# --- data -------------------------------------------------------------------


def test_vendored_data_counts_and_canonical_form(train):
    test = load_moses("test")
    assert len(train) == 100_000 and len(test) == 5_000
    assert len(set(train)) == len(train)
    assert not set(test) & set(train)  # MOSES's test split is held out
    # The files hold RDKit canonical SMILES, so novelty can compare strings.
    for s in train[:100] + test[:100]:
        assert canonical_smiles(s) == s
    assert load_moses("test", limit=3) == test[:3]


def test_checksum_mismatch_and_missing_file_are_refused(tmp_path):
    shutil.copy(os.path.join(MOSES_DIR, "test.txt.gz"), tmp_path / "test.txt.gz")
    assert len(load_moses("test", data_dir=tmp_path)) == 5000  # a good copy loads
    with gzip.open(tmp_path / "test.txt.gz", "rb") as f:
        text = f.read()
    with gzip.open(tmp_path / "test.txt.gz", "wb") as f:
        f.write(text.replace(b"C", b"N", 1))  # one atom changed
    with pytest.raises(FileFormatError, match="Expected the SHA-256 .*vendor_moses"):
        load_moses("test", data_dir=tmp_path)
    (tmp_path / "test.txt.gz").write_bytes(b"not gzip")
    with pytest.raises(FileFormatError, match="damaged"):
        load_moses("test", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="vendor_moses.py"):
        load_moses("train", data_dir=tmp_path)


def test_load_moses_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        load_moses("validation")
    with pytest.raises(ValueError, match="limit"):
        load_moses("test", limit=0)


# --- tokenizer ----------------------------------------------------------------


def test_tokenizer_round_trips_real_smiles(train, tokenizer):
    molecules = train[:3000] + load_moses("test")
    for multi in ("Cl", "Br", "[nH]"):  # multi-character tokens are covered
        assert any(multi in s for s in molecules)
    for s in molecules:
        ids = tokenizer.encode(s)
        assert tokenizer.decode(ids) == s
        assert tokenizer.decode(tokenizer.encode_molecule(s)) == s
    assert tokenizer.vocab_size == 25
    assert "Cl" in tokenizer.tokens and "[nH]" in tokenizer.tokens


def test_split_smiles_keeps_multi_character_tokens():
    assert split_smiles("C[C@@H](Cl)Br") == ["C", "[C@@H]", "(", "Cl", ")", "Br"]
    assert split_smiles("c1cc[nH]c1%10") == [
        "c", "1", "c", "c", "[nH]", "c", "1", "%10",
    ]


def test_tokenizer_bad_inputs(tokenizer, tmp_path):
    with pytest.raises(ValueError, match=r"' ' at position 2"):
        split_smiles("CC O")
    with pytest.raises(ValueError, match="non-empty str"):
        split_smiles("")
    with pytest.raises(ValueError, match="non-empty str"):
        tokenizer.encode(None)
    with pytest.raises(ValueError, match=r"'\[Se\]'.*never used"):
        tokenizer.encode("C[Se]C")
    with pytest.raises(ValueError, match=r"token ids in \[0, 25\)"):
        tokenizer.decode([0, 25])
    with pytest.raises(ValueError, match="one SMILES token"):
        SmilesTokenizer(["C", "CC"])
    with pytest.raises(ValueError, match="distinct"):
        SmilesTokenizer(["C", "C"])
    with pytest.raises(ValueError, match="at least one SMILES"):
        SmilesTokenizer.train([])
    path = tmp_path / "tok.json"
    tokenizer.save(path)
    assert SmilesTokenizer.load(path).tokens == tokenizer.tokens
    path.write_text(json.dumps({"kind": "char", "chars": "ab", "byte_fallback": 1}))
    with pytest.raises(FileFormatError, match="kind 'smiles'. Received: kind='char'"):
        SmilesTokenizer.load(path)


def test_decode_stops_at_the_end_token(tokenizer):
    ids = tokenizer.encode_molecule("CCO") + tokenizer.encode("N")
    assert tokenizer.decode(ids) == "CCO"


def test_windows_hold_one_molecule_each(tokenizer):
    ids, skipped = molecule_windows(["CCO", "C" * 60], tokenizer, 8)
    assert skipped == 1
    assert ids.tolist() == tokenizer.encode_molecule("CCO") + [1] * 4
    with pytest.raises(ValueError, match="larger context_length"):
        molecule_windows(["C" * 60], tokenizer, 8)
    ds = make_smiles_dataset(["CCO", "c1ccccc1"], tokenizer, 10, 2, shuffle=False)
    x, y = next(iter(ds))
    assert x.shape == (2, 10)
    assert (x[:, 0].numpy() == tokenizer.bos_id).all()  # every window starts a molecule
    assert tokenizer.decode(y[0]) == "CCO"  # targets: the same molecule, shifted


# --- metrics on hand-made molecules ------------------------------------------


def test_validity_on_hand_made_lists():
    assert validity(["CCO", "c1ccccc1", "CC(=O)O"]) == 1.0
    # an unclosed ring, a five-valent carbon, an empty string, an aromatic
    # ring that cannot be kekulised
    assert validity(["CCO", "C1CC", "C(C)(C)(C)(C)C", "", "c1cccc1"]) == 0.2


def test_unique_and_novelty_use_canonical_smiles():
    samples = ["CCO", "OCC", "C(O)C", "CCN", "c1ccccc1", "C1=CC=CC=C1", "bad("]
    # valid: CCO x3, CCN, benzene x2 -> 3 distinct of 6
    assert unique_at(samples, k=6) == 0.5
    assert unique_at(samples, k=1) == 1.0
    with pytest.warns(UserWarning, match="only 6 samples are valid"):
        assert unique_at(samples, k=100) == 0.5
    assert novelty(samples, ["CCO", "CCN"]) == pytest.approx(1 / 3)
    assert novelty(samples, {"CCC"}) == 1.0
    metrics = moses_metrics(samples, ["CCO"], ["CCO", "CCCC"], ks=(4, 1000))
    assert metrics["valid"] == pytest.approx(6 / 7)
    assert metrics["unique@4"] == 0.5 and "unique@1k" not in metrics
    assert metrics["novelty"] == pytest.approx(2 / 3)
    assert {"QED W1", "logP W1", "weight W1"} <= set(metrics)


def test_properties_and_wasserstein():
    props = molecule_properties(["CCO", "c1ccccc1", "nonsense"])
    assert props["weight"] == pytest.approx([46.069, 78.114], abs=0.01)
    assert 0 < props["QED"].min() and props["QED"].max() < 1
    assert wasserstein_1d([0, 1, 2], [1, 2, 3]) == pytest.approx(1.0)
    assert wasserstein_1d([0, 0, 1], [0, 1]) == pytest.approx(1 / 6)
    metrics = moses_metrics(["CCO"], ["C"], ["CCO"])
    assert metrics["weight W1"] == 0.0


def test_metrics_bad_inputs():
    with pytest.raises(ValueError, match="one string: wrap it in a list"):
        validity("CCO")
    with pytest.raises(ValueError, match=r"Received: \[\]"):
        validity([])
    with pytest.raises(ValueError, match="only str"):
        validity(["CCO", None])
    with pytest.raises(ValueError, match="k >= 1"):
        unique_at(["CCO"], k=0)
    with pytest.raises(ValueError, match="none valid"):
        novelty(["C1CC"], ["CCO"])
    with pytest.raises(ValueError, match="none valid"):
        moses_metrics(["C1CC", ""], ["CCO"])
    with pytest.raises(ValueError, match="non-empty samples"):
        wasserstein_1d([], [1.0])
    with pytest.raises(ValueError, match="finite"):
        wasserstein_1d([np.nan], [1.0])


# --- sampling and the shipped model ----------------------------------------------


def test_sampling_is_seeded_and_checks_its_inputs(tokenizer, tmp_path):
    model = build_gpt(tokenizer.vocab_size, 12, 16, 2, 1)
    # No XLA for 4 samples (the shipped model's test samples with it).
    first = sample_smiles(model, tokenizer, 4, seed=1, jit=False)
    assert first == sample_smiles(model, tokenizer, 4, seed=1, jit=False)
    assert all(isinstance(s, str) for s in first)
    with pytest.raises(ValueError, match="num_samples >= 1"):
        sample_smiles(model, tokenizer, 0)
    with pytest.raises(ValueError, match="vocab_size"):
        sample_smiles(build_gpt(30, 12, 16, 2, 1), tokenizer, 2)
    with pytest.raises(ValueError, match="SmilesTokenizer"):
        sample_smiles(model, object(), 2)
    folder = save_smiles_gpt(tmp_path / "m", model, tokenizer, {"note": "untrained"})
    loaded = load_smiles_gpt(folder)
    assert loaded.tokenizer.tokens == tokenizer.tokens
    assert sample_smiles(loaded.model, loaded.tokenizer, 4, seed=1, jit=False) == first


def test_shipped_model_is_small_and_documented():
    size = sum(
        os.path.getsize(os.path.join(SMILES_GPT_DIR, n))
        for n in os.listdir(SMILES_GPT_DIR)
    )
    assert size <= 20 * 2**20
    card = load_smiles_gpt().card
    for key in ("command", "metrics", "train_sha256", "steps", "sampling"):
        assert key in card
    # unique@10k only when 10,000 of the samples are valid (MOSES samples 30,000)
    for key in ("valid", "unique@1k", "novelty", "QED W1"):
        assert key in card["metrics"]


def test_shipped_model_reaches_its_recorded_metrics(train):
    """1,000 samples, seeded as in the card; tolerances are about 3 standard
    errors of a share measured on 1,000 samples (0.03 for validity near 0.9)."""
    shipped = load_smiles_gpt()
    recorded = shipped.card["metrics"]
    samples = sample_smiles(
        shipped.model, shipped.tokenizer, 1000, seed=shipped.card["sampling"]["seed"]
    )
    measured = moses_metrics(samples, set(train), ks=())
    assert measured["valid"] == pytest.approx(recorded["valid"], abs=0.03)
    assert measured["novelty"] == pytest.approx(recorded["novelty"], abs=0.04)
    # unique among the valid ones (fewer than 1,000), against unique@1k
    valid = valid_canonical(samples)
    assert len(set(valid)) / len(valid) >= recorded["unique@1k"] - 0.01


def test_draw_molecules_skips_invalid_and_checks_inputs():
    from keras_gen.molecules.smiles import draw_molecules

    image = draw_molecules(["CCO", "C1CC", "c1ccccc1"], 2, 100, legends=["a", "b", "c"])
    assert image.size == (200, 100)
    with pytest.raises(ValueError, match="wrap it in a list"):
        draw_molecules("CCO")
    with pytest.raises(ValueError, match="none valid"):
        draw_molecules(["C1CC"])
    with pytest.raises(ValueError, match="one legend per molecule"):
        draw_molecules(["CCO"], legends=[])
