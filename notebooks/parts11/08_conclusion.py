# ruff: noqa  (a part of notebook 11: ruff checks the assembled notebook)
# %% [markdown]
# ## 7. The course's conclusion, checked
#
# > "In the debate of Gen AI vs LLM, it's clear that both technologies are
# > indispensable in the modern AI landscape. While generative AI pushes the
# > boundaries of creativity, large language models enhance our understanding
# > and processing of human language. As artificial intelligence continues to
# > evolve, the synergy between these technologies will likely lead to even
# > more groundbreaking applications, transforming industries and everyday
# > life." - *Gen AI vs LLM*, Conclusion
#
# This notebook's own numbers first, printed from the runs above:

# %%
headline = {
    "class adherence, live": (
        f"{live_report['class']:.1%} of {live_report['n']:,} images"
    ),
    "class adherence, card": (
        f"{card_report['class']:.1%} of {card_report['n']:,} images"
    ),
    "all three (class, tone, width), card": f"{card_report['all']:.1%}",
    "held-out combinations, class, card": (
        f"{card_report['held_out_class']:.1%} of {card_report['held_out_n']} images"
        if card_report["held_out_class"] is not None else "-"
    ),
    "Frechet distance / floor, card": (
        f"{card_report['frechet']:.2f} / {card_report['floor']:.2f}"
        if card_report["frechet"] is not None else "- (fewer than 128 per class)"
    ),
    "real test images, class (the judge's ceiling)": (
        f"{card_report['real_class']:.1%}" if card_report["real_class"] is not None
        else "-"
    ),
    "tiny live model": f"loss {losses[0]:.3f} -> {losses[-1]:.3f} "
    f"in {LIVE_EPOCHS * LIVE_STEPS_PER_EPOCH} steps",
    "pixel / latent train step": f"{ratio:.1f}x",
}
for name, value in headline.items():
    print(f"{name:46} {value}")

# %% [markdown]
# And the article's closing claims, one by one, against what the course
# measured. The numbers are not repeated here: each row names the notebook
# and the cell that prints them, in that notebook's stored outputs.
#
# | the article's claim | what the course measured | where (notebook, cell) |
# |---|---|---|
# | "both technologies are indispensable" | each family did what the other could not: the GPT scores text exactly (bits per character) and the GAN has no likelihood at all; the VAE and GPT compared on one scale (bits per dimension) | 08, "what each model maps and how it scores data" and the bits-per-dimension table |
# | "generative AI pushes the boundaries of creativity" | a class-conditional designer that draws the garment asked for, chorale melodies, new valid molecules; each against a baseline and real data | 09, the designer's adherence table, the melody GPT against the bigram, the MOSES table |
# | "large language models enhance our understanding and processing of human language" | a GPT pretrained on Python's help text, fine-tuned to write code and to classify; a help desk, graders and a summariser, where simple baselines (TF-IDF, templates) sometimes won | 05 (learning curves), 07 (pretrained vs from scratch), 10 (the retrieval, grading and summary tables) |
# | "the synergy between these technologies will likely lead to even more groundbreaking applications" | the LLM's frozen body as the caption encoder of an image generator, measured against an encoder trained for the job; the text-to-image model's adherence on combinations it never saw | 11 (this notebook), the caption-encoder table of section 2 and the adherence table of section 3 |
# | "Understanding their distinct roles and capabilities enables businesses and developers to harness their power fully" | parameters, FLOPs, time per sample and training throughput of each family; quality against data and model size | 08, the profiling tables and the scaling sweep |
#
# What the course does **not** support: "it's clear" and "indispensable" are
# not measurable, and "groundbreaking" is a forecast. What it does support,
# at laptop scale: the two families are built from the same parts (the
# transformer of notebook 04 reads the prompt here; the autoencoder of
# notebook 03 returns as the latent space), and joining them made something
# neither does alone.
#
# ### Where diffusion fits among the families
#
# | family | the course's model | how it learns p(x) | one sample costs | scores data? |
# |---|---|---|---|---|
# | autoregressive | the GPT (notebooks 04-07) | the exact chain rule, one token at a time | one pass per token | yes, exactly |
# | GAN | notebook 02 | a game against a discriminator; no density | one pass | no |
# | VAE | notebook 03 | a lower bound on log p(x) (the ELBO) | one pass | a bound |
# | diffusion | this notebook | learns to undo noise; the training loss is a weighted form of a bound on log p(x) (Ho et al., 2020) | one pass per denoising step (here 50, doubled by guidance) | a bound (not computed here) |
#
# Diffusion sits between the VAE and the GAN: trained by a stable regression
# like the VAE, sharp like the GAN, and paid for at sampling time like the
# GPT, one network pass per step. Its steps are what made it the engine of
# DALL-E 2 and Stable Diffusion, and what research since has tried to cut
# (DDIM's 50 steps instead of 1,000 is the first such cut, used above).
#
# ### Exercises
#
# **Exercise 11.1 (from v back to the image).** The denoiser predicts
# `v = sqrt(abar) * eps - sqrt(1 - abar) * x_0`. Write
# `x0_and_eps_from_v(x_t, v, abar)` returning the estimates of `x_0` and
# `eps`, check it recovers both exactly from `x_t` made by
# `NoiseSchedule.q_sample`, and print the largest coefficient it uses at
# `t = 999` beside the `1 / sqrt(abar)` that an `eps` prediction needs.
#
# **Exercise 11.2 (choosing the guidance scale).** Write
# `choose_guidance(sweep, target=0.9)`: from the rows of `guidance_sweep`,
# the smallest scale whose class adherence reaches the target (the most
# diverse one that is good enough), or the most adherent scale if none does.
# Apply it to the sweep above and to the card's.
#
# **Exercise 11.3 (what "held out" means).** Count the training images of
# each (class, tone, width) combination with `captions.attribute_of`, show
# that `captions.training_mask` leaves none of the held-out combinations, and
# compare their counts in the full training set with the others: were they
# rare combinations, or common ones that the model had to compose?
#
# Solutions: `solutions/nb11.py`.
