# %% [markdown]
# ## 1. Design: "draw me a sandal"
#
# > "Design: Automates complex design tasks, saving time and resources."
# > - *Gen AI vs LLM*
#
# A design tool is only useful if it draws **what it is asked for**. The GAN of
# notebook 02 and the VAE of notebook 03 draw *some* garment, chosen by chance.
# Here both are told the class as well: the class becomes a one-hot vector of ten
# numbers, concatenated to the generator's noise and to the image that the
# discriminator (or the encoder) reads (Mirza & Osindero, 2014, "Conditional
# Generative Adversarial Nets"; Sohn et al., 2015, for the conditional VAE).
# The networks are the package's own: the generator is the article's dense
# generator with ten more inputs (`keras_gen.conditional`).
#
# **What real systems do.** Text-to-image systems condition on a whole sentence
# instead of one of ten labels: DALL-E (Ramesh et al., 2021, "Zero-Shot
# Text-to-Image Generation") is a 12-billion-parameter transformer trained on 250
# million text-image pairs, and diffusion models push their samples towards the
# prompt with classifier-free guidance (Ho & Salimans, 2022), trading variety for
# adherence. They measure adherence with a model as judge, as we do here: CLIP
# score (Hessel et al., 2021, "CLIPScore") asks a text-image model how well the
# picture matches the prompt.
#
# **Our yardsticks.** *Prompt adherence*: the share of 1,000 images drawn per
# class that the project's quality classifier (`keras_gen.classifier`, cached)
# assigns to the class asked for. The classifier is not perfect, so real test
# images are scored beside it (column `real`). And the *Fréchet distance* per
# class, beside its floor: what real training images of that class score
# against the same test images.

# %%
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ log lines

import time

import keras
import matplotlib.pyplot as plt
import numpy as np

from keras_gen import conditional, data
from keras_gen.adherence import design_report, prompt_adherence
from keras_gen.designer import load_designer
from keras_gen.env import fast_mode, pick
from keras_gen.plotting import image_grid

SEED = 0
# Live training: the same number of steps for both models (batch 128).
LIVE_STEPS = pick(full=1200, fast=20)
CHECKS = pick(full=4, fast=1)  # adherence checks along the way
PER_CLASS = pick(full=1000, fast=128)  # images per class in the tables
print(f"fast mode: {fast_mode()}")

# %%
# NBVAL_CHECK_OUTPUT
train_images, train_labels = data.load_images("fashion_mnist", "train")
names = conditional.CLASS_NAMES
print(f"{len(train_images):,} training images, {len(names)} classes:")
print(", ".join(f"{i} {name}" for i, name in enumerate(names)))

# %% [markdown]
# ### Two conditional models, trained live on the same budget
#
# Both see the same batches of (image, class) pairs for the same number of
# steps. Every few hundred steps we draw 100 images per class and ask the judge
# what it sees.

# %%
dataset = conditional.labelled_dataset(train_images, train_labels, 128, seed=SEED)
probe = np.repeat(np.arange(10), 100)  # 100 images per class for the curve
live, curves, seconds = {}, {}, {}
for kind, build in (
    ("cGAN", conditional.build_conditional_gan),
    ("cVAE", conditional.build_conditional_vae),
):
    keras.utils.set_random_seed(SEED)
    # XLA compiles for seconds and then runs faster: worth it for full runs only.
    model = build(seed=SEED, jit_compile=pick(full="auto", fast=False))
    curves[kind], start = [], time.perf_counter()
    for check in range(CHECKS):
        model.fit(dataset, steps_per_epoch=LIVE_STEPS // CHECKS, epochs=1, verbose=0)
        drawn = conditional.generate(model, range(10), n=100, seed=1)
        share = prompt_adherence(drawn, probe)["overall"]
        curves[kind].append(((check + 1) * (LIVE_STEPS // CHECKS), share))
    seconds[kind] = time.perf_counter() - start
    live[kind] = model
    print(
        f"{kind}: {model.count_params():,} parameters, {LIVE_STEPS} steps in "
        f"{seconds[kind]:.0f} s, adherence {curves[kind][-1][1]:.1%}"
    )

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for kind, points in curves.items():
    ax.plot(*zip(*points, strict=True), marker="o", label=kind)
ax.axhline(0.9, color="grey", linestyle="--", label="target 90%")
ax.set(
    xlabel="training steps (batch 128)",
    ylabel="prompt adherence",
    title="Does it draw the class it was asked for?",
    ylim=(0, 1),
)
ax.legend()
fig.tight_layout()

# %% [markdown]
# The curve shows adherence (100 images per class) as training goes on. In our
# runs the cVAE learned the classes from its first steps: its decoder is told the class
# and its reconstruction loss punishes any other garment at once. The cGAN's
# generator only learns the class through the discriminator, which must first
# learn what real images look like, so it started later.
#
# ### cGAN or cVAE? Both yardsticks, per class
#
# The cell below scores both live models on `PER_CLASS` images per class (1,000
# in the stored full-mode run): adherence beside the real test images' share,
# and the Fréchet distance beside its floor.

# %%
reports = {}
requested = np.repeat(np.arange(10), PER_CLASS)
for kind, model in live.items():
    drawn = conditional.generate(model, range(10), n=PER_CLASS, seed=1)
    reports[kind] = design_report(drawn, requested, seed=SEED)
print(f"{'model':6} {'steps':>6} {'seconds':>8} {'adherence':>9} {'Fréchet':>8}")
for kind, report in reports.items():
    print(
        f"{kind:6} {LIVE_STEPS:>6} {seconds[kind]:>8.0f} "
        f"{report.overall['adherence']:>9.1%} {report.overall['frechet']:>8.2f}"
    )
floor = reports["cVAE"].overall
print(
    f"{'real':6} {'':>6} {'':>8} {floor['real_adherence']:>9.1%} "
    f"{floor['floor']:>8.2f}  <- real test images / the floor"
)
print()
for kind, report in reports.items():
    print(kind)
    print(report, "\n")

# %%
best = max(reports, key=lambda kind: reports[kind].overall["adherence"])
print(
    f"After {LIVE_STEPS} steps each, the {best} adheres best: "
    f"{reports[best].overall['adherence']:.1%} (target 90%)."
)

# %% [markdown]
# Read the tables row by row: a class whose adherence is far below its `real`
# column is one the model cannot yet draw recognisably; a Fréchet distance many
# times its floor means the drawings are still far from real garments of that
# class, even when the judge recognises them. The two numbers disagree on
# purpose: a blurry "average sandal" can be recognised (high adherence) and
# still look unlike any real sandal (high Fréchet distance).
#
# ### The designer that ships with keras-gen
#
# A few minutes on two CPU cores is too short to come near the 90% target, so
# the project ships a designer trained ten times longer by `make pretrained`
# (`tools/train_designer.py`; its card records the command, the adherence curve
# and the full table). It is a cVAE because, trained that long, the cVAE
# adhered better overall than the cGAN, the yardstick this part is about; the
# cGAN drew more realistic images (a lower Fréchet distance) and better sandals,
# but its pullovers and T-shirts were often judged to be something else
# (`benchmarks/conditional_design.py` prints that comparison;
# `benchmarks/RESULTS.md` records it). The cell below loads the designer and
# measures it again, here.

# %%
designer, card = load_designer()
print(f"{card['name']}: a {card['kind']} of {card['parameters']:,} parameters,")
print(f"trained {card['steps']:,} steps by: {card['command']}")
print("adherence along its training:")
print("  ".join(f"{row['step']:,}: {row['adherence']:.1%}" for row in card["curve"]))
shipped = design_report(
    conditional.generate(designer, range(10), n=PER_CLASS, seed=1),
    requested,
    seed=SEED,
)
print(f"\nMeasured now, {PER_CLASS} images per class:")
print(shipped)
verdict = "reaches" if shipped.overall["adherence"] >= 0.9 else "misses"
weakest = ", ".join(
    f"{names[c]} {shipped.adherence[c]:.0%}" for c in np.argsort(shipped.adherence)[:2]
)
print(
    f"\nOverall adherence {shipped.overall['adherence']:.1%}: it {verdict} the 90% "
    f"target. Weakest classes: {weakest}."
)

# %% [markdown]
# The cell above prints the shipped designer's table, measured in this run,
# and whether its overall adherence reaches the 90% target. The judge itself
# is right about roughly nine real garments in ten (the `real` column), so 90%
# means "about as recognisable as real clothes". Compare the weakest classes it
# names with their `real` column. In our runs they were Sandal and Shirt: Shirt
# is hard for the judge on real images too, while a sandal is easy to recognise
# when real but loses its thin straps when the cVAE blurs them into grey.
#
# ### Ask for a class, get it
#
# Each row below was requested by name: ten garments per class, new noise for
# each.

# %%
grid = conditional.generate(designer, list(names), n=10, seed=2)
fig = image_grid(
    grid,
    ncols=10,
    labels=[name if i % 10 == 0 else "" for i, name in enumerate(np.repeat(names, 10))],
    title="One row per requested class (shipped designer)",
)

# %% [markdown]
# Every row should show one kind of garment, the one named at its left. Where a
# row mixes in another kind, that is the confusion the table above counts.
#
# ### "Draw me a sandal": variations of one design
#
# Fix the class and change only the noise: the class says *what*, the noise
# says *which one* (strap layout, heel, thickness).

# %%
sandals = np.concatenate(
    [conditional.generate(designer, "Sandal", n=1, seed=s) for s in range(12)]
)
fig = image_grid(sandals, ncols=12, title="Sandal, seeds 0-11 (fixed class, new noise)")
judged = prompt_adherence(sandals, np.full(12, 5))["overall"]
print(f"The judge calls {judged:.0%} of these twelve sandals a sandal.")

# %% [markdown]
# ### From one design to another
#
# A design is a (class, seed) pair. Below, the noise walks along a great circle
# from one seed to the other while the class vector blends linearly: the top
# row goes from a sandal to a sneaker, the bottom row stays a sandal and only
# changes its style, from the design of seed 2 to that of seed 4 (two of the
# twelve sandals above).

# %%
walks = np.concatenate(
    [
        conditional.interpolate(designer, ("Sandal", 4), ("Sneaker", 1), steps=10),
        conditional.interpolate(designer, ("Sandal", 2), ("Sandal", 4), steps=10),
    ]
)
fig = image_grid(
    walks, ncols=10, title="Sandal to sneaker (top); sandal seed 2 to 4 (bottom)"
)

# %% [markdown]
# The middle of the top row was asked for "half sandal, half sneaker", a class
# the data never showed; the model still draws a shoe in between, because
# nearby class vectors give nearby images.
#
# **What this small model does and does not do.** It draws 28x28 grey
# garments of ten fixed classes, recognisably (the tables above), on a laptop
# CPU. It does not take a sentence, a
# colour, a size or a sketch; it cannot draw a class it has not seen, and it
# "designs" nothing new in the sense a designer would: it recombines what
# 60,000 photos of clothes look like. A real design tool conditions on far
# richer prompts and is judged by people, not only by a classifier that is
# itself wrong about one real garment in ten.
#
# **Exercise 9.1.** Which mistakes does the shipped designer make most? From
# `shipped.confusion` (row: class asked for; column: class the judge saw) list
# the three largest off-diagonal shares. Are they the pairs a person would
# confuse too?
#
# **Exercise 9.2.** Multiply the noise by a *temperature* below 1 before drawing
# (the truncation trick of BigGAN, Brock et al., 2019). Measure adherence and
# the Fréchet distance at temperatures 1.0, 0.7 and 0.3: which number improves
# and which one pays for it? (Solutions: `solutions/nb09_design.py`.)
