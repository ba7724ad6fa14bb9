# %% [markdown]
# ## 3. Healthcare: molecules from a language model
# > "Healthcare: Assists in drug discovery by simulating molecular structures."
# > - *Gen AI vs LLM*, Real-World Impact of Gen AI and LLM
#
# Chemists write a molecule as a line of text, a **SMILES** string: atoms are
# letters (`C`, `N`, `O`, `Cl`; lower case `c` for an aromatic ring atom),
# bonds are `=` and `#`, branches sit in parentheses and a digit opens and
# closes a ring. Ethanol is `CCO`, benzene `c1ccccc1`. So a molecule
# generator can be a language model: the GPT of notebook 05, unchanged, learns
# to write SMILES.
#
# The data is the **MOSES** benchmark (Polykovskiy et al. 2020, "Molecular Sets
# (MOSES): A Benchmarking Platform for Molecular Generation Models", Frontiers
# in Pharmacology): about 1.9 million drug-like molecules filtered from the ZINC
# database, split into training and test sets, with fixed metrics so that models
# can be compared. The project ships a seeded subset (`data/moses/`, made by
# `tools/vendor_moses.py` from the benchmark's `molsets` package, MIT licence):
# the cell below prints its size and shows how the tokenizer cuts a molecule.
# Atoms of two letters (`Cl`, `Br`) and bracket atoms (`[nH]`) are one token each.

# %%
# NBVAL_CHECK_OUTPUT
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's start-up logs
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from keras_gen.env import fast_mode, pick  # noqa: F401  (the part's budgets)
from keras_gen.molecule_metrics import (
    MOSES_REFERENCE,
    molecule_properties,
    moses_metrics,
    plot_property_histograms,
    to_molecule,
    validity,
)
from keras_gen.molecules import (
    SmilesTokenizer,
    draw_molecules,
    load_moses,
    load_smiles_gpt,
    make_smiles_dataset,
    sample_smiles,
    split_smiles,
)
from keras_gen.training import compile_for_pretraining, make_optimizer
from keras_gen.transformer import build_gpt

SEED = 0
train_smiles = load_moses("train")
test_smiles = load_moses("test")  # MOSES's own held-out test molecules
training_set = set(train_smiles)
tokenizer = SmilesTokenizer.train(train_smiles)
print(f"{len(train_smiles):,} training and {len(test_smiles):,} held-out molecules")
example = next(s for s in train_smiles if "Cl" in s and "[nH]" in s)
print("a training molecule:", example)
print("its tokens:", split_smiles(example))
print(f"vocabulary: {tokenizer.vocab_size} tokens:", " ".join(tokenizer.tokens))

# %% [markdown]
# ### The shipped SMILES GPT and the benchmark's metrics
# `data/pretrained/moses-smiles-gpt` is a GPT trained by
# `tools/train_moses_gpt.py` (`make pretrained`) on the 100,000 training
# molecules, one molecule per window: `<bos>` then the tokens then `<eos>`. To
# propose a molecule it starts from `<bos>` and samples token after token until
# `<eos>`. MOSES judges such samples with RDKit, the chemists' open-source
# toolkit:
#
# - **validity**: the share of samples RDKit accepts as a molecule (atoms with
#   possible valences, every ring closed, aromatic rings that make sense);
# - **unique@1k / unique@10k**: the share of distinct molecules among the first
#   1,000 / 10,000 valid ones (a model that repeats one good molecule fails);
# - **novelty**: the share of the distinct valid molecules that are not in the
#   training set (a model that copies its training data fails).
#
# The cell below samples the shipped model afresh, measures the samples, and
# prints them beside the figures recorded in the model's card (12,000 samples)
# and the published MOSES table.

# %%
shipped = load_smiles_gpt()
card = shipped.card
num_samples = pick(full=2000, fast=100)
start = time.perf_counter()
samples = sample_smiles(shipped.model, shipped.tokenizer, num_samples, seed=SEED)
seconds = time.perf_counter() - start
measured = moses_metrics(samples, training_set, ks=(1000,))
print(
    f"The shipped model: {card['parameters']:,} parameters, {card['steps']} steps "
    f"({card['train_minutes']} min on {card['machine']}).\n"
    f"Sampled {num_samples:,} molecules in {seconds:.1f} s.\n"
)
rows = {
    f"this GPT, {num_samples:,} samples now": measured,
    f"this GPT, card ({card['sampling']['num_samples']:,} samples)": card["metrics"],
    **MOSES_REFERENCE,
}
columns = ("valid", "unique@1k", "unique@10k", "novelty")
print(f"{'':40s}" + "".join(f"{c:>12s}" for c in columns))
for name, values in rows.items():
    cells = "".join(
        f"{values[c]:12.3f}" if c in values else f"{'-':>12s}" for c in columns
    )
    print(f"{name:40s}{cells}")

# %% [markdown]
# Below, sixteen of the valid molecules the model just proposed, drawn by RDKit
# (`Draw.MolsToGridImage`), each with its drug-likeness score QED (0 to 1,
# Bickerton et al. 2012) and whether it is new. Look for the pieces of
# medicinal chemistry it has learned: six-membered aromatic rings, amides
# (`C(=O)N`), halogens on rings.

# %%
shown = [s for s in samples if to_molecule(s) is not None][:16]
props = molecule_properties(shown)
legends = [
    f"QED {q:.2f}" + (" (new)" if s not in training_set else " (in training)")
    for s, q in zip(shown, props["QED"], strict=True)
]
display(draw_molecules(shown, mols_per_row=4, size=220, legends=legends))

# %% [markdown]
# ### Do the proposals look like real drug-like molecules?
# MOSES also compares the *distributions* of chemical properties: QED,
# logP (how oily the molecule is; Crippen's estimate) and molecular weight,
# between the valid samples and the held-out test molecules, with the
# Wasserstein distance W1 (how far one histogram must be moved to match the
# other, in the property's own units). The panels below overlay the two
# histograms; the titles print W1. Matching histograms mean the model writes
# molecules of the right size and kind, not just valid strings. MOSES kept
# only molecules of 250 to 350 daltons (ZINC's "clean leads" filter), so the
# held-out weights stop at those edges: look at whether the generated ones
# spill past them; nothing told the model about that rule.

# %%
reference = molecule_properties(test_smiles[: pick(full=5000, fast=500)])
generated = molecule_properties(samples)
plot_property_histograms(
    generated, reference, title="Generated molecules against held-out MOSES molecules"
)
plt.show()

# %% [markdown]
# ### Training a tiny one, live
# The shipped model took the minutes its card records. Here a much smaller GPT
# (2 blocks, 64 wide) learns from scratch in the time of a coffee. The loss
# falls; the cell then samples it and prints its validity. Compare it with the
# shipped model's above and with the n-gram floor of the MOSES table: with so
# little training the tiny model's validity is far lower, which is the point:
# writing *valid* molecules is learned, one ring closure at a time.

# %%
keras.utils.set_random_seed(SEED)
tiny = build_gpt(tokenizer.vocab_size, 56, embed_dim=64, num_heads=4, num_layers=2)
steps = pick(full=600, fast=20)
compile_for_pretraining(
    tiny,
    make_optimizer(3e-3, total_steps=steps, warmup_steps=steps // 10),
    jit_compile=pick(full=True, fast=False),  # XLA's compile pays off in long runs
)
live_smiles = train_smiles[: pick(full=len(train_smiles), fast=2000)]
train_data = make_smiles_dataset(
    live_smiles, tokenizer, 56, 32, seed=SEED, repeat=True
)
start = time.perf_counter()
history = tiny.fit(
    train_data, steps_per_epoch=max(steps // 10, 1), epochs=10, verbose=0
)
minutes = (time.perf_counter() - start) / 60
losses = history.history["loss"]
tiny_samples = sample_smiles(tiny, tokenizer, pick(full=500, fast=30), seed=SEED)
tiny_validity = validity(tiny_samples)
print(
    f"{tiny.count_params():,} parameters, {steps} steps in {minutes:.1f} min: "
    f"loss {losses[0]:.2f} -> {losses[-1]:.2f} nats per token; "
    f"validity of {len(tiny_samples)} samples: {tiny_validity:.3f}"
)
plt.figure(figsize=(5, 3))
plt.plot(np.linspace(steps / 10, steps, 10), losses, marker="o")
plt.xlabel("training step")
plt.ylabel("training loss (nats per token)")
plt.title("A tiny SMILES GPT learning")
plt.show()

# %% [markdown]
# ### What this does, and what real drug discovery does
# **What it does.** The cells above print what the small model achieves: a
# validity, uniqueness and novelty to read beside the MOSES CharRNN (a
# recurrent network trained on all 1.6 million MOSES training molecules) and
# the n-gram floor. The histograms show whether its molecules have the size,
# oiliness and drug-likeness of real ones.
#
# **What it does not do.** It knows nothing about a disease, a protein target,
# potency, toxicity or whether a chemist can make the molecule. "Valid" only
# means RDKit accepts the valences and rings; "novel" only means not in *our*
# 100,000-molecule training subset (not in all chemistry). Its molecules are
# text a chemist would still have to judge, make and test.
#
# **What real systems do.** Generative models in drug discovery are one stage of
# a pipeline: they propose candidates that are then *optimised* for a goal
# (binding to a target, predicted activity, synthesisability) and filtered by
# chemists before anything is made. For example, Zhavoronkov et al. 2019
# ("Deep learning enables rapid identification of potent DDR1 kinase
# inhibitors", Nature Biotechnology 37) generated inhibitors of the DDR1 kinase
# with a reinforcement-learning generator (GENTRL) in 21 days; six were
# synthesised and the best was tested in mice. MOSES exists because such claims
# need shared data and metrics, the ones this section used.
#
# **Exercise 9.5 (the n-gram floor).** Count a token n-gram model on the
# training SMILES (the next token given the previous n-1; `split_smiles` cuts a
# molecule into tokens), sample 1,000 molecules from it and measure their
# validity for n = 2, 3 and 6. Why can it not close rings reliably? Compare with
# the MOSES n-gram baseline (0.238) and with the GPT.
#
# **Exercise 9.6 (temperature).** Sample the shipped model at temperatures 0.7,
# 1.0 and 1.3 (`sample_smiles(..., temperature=t)`) and measure validity,
# uniqueness and novelty. Which way does each move, and why?
