# ruff: noqa  (a part of notebook 11: ruff checks the assembled notebook)
# %% [markdown]
# ## 3. The shipped model: a prompt becomes an image
#
# The model loaded above was trained by `tools/train_text_to_image.py` (its card
# records the command, printed above) on the 60,000 Fashion-MNIST training
# images minus four class/tone/width combinations held out to test whether it
# *composes* what it learned apart. Its captions come from each image's label
# and from two attributes measured on the image itself (`keras_gen.captions`):
# **tone**, dark or light (the mean intensity of the garment's pixels), and
# **width**, narrow or wide (compared with the median of its class), in five
# phrasings ("a dark wide coat", "coat, dark and wide", ...).
#
# ### Prompts and their images
#
# Each row is one prompt, drawn eight times from eight starting noises, with
# guidance scale 3 and `NUM_STEPS` DDIM steps. The last prompt is one of the
# held-out combinations: no training caption said it.

# %%
held_out_prompt = captions.caption(*t2i.held_out[0])
shown_prompts = [
    "a dark wide ankle boot",
    "a light narrow t-shirt",
    "pair of trousers, dark and narrow",
    "a wide light bag",
    held_out_prompt,
]
per_prompt = 8
drawn = t2i.generate(
    [p for p in shown_prompts for _ in range(per_prompt)],
    guidance_scale=3.0,
    num_steps=NUM_STEPS,
    seed=SEED,
)  # (5 * 8, 28, 28, 1)
for i, prompt in enumerate(shown_prompts):
    note = " (held out of training)" if prompt == held_out_prompt else ""
    image_grid(drawn[i * per_prompt : (i + 1) * per_prompt], ncols=per_prompt,
               scale=1.0, title=f'"{prompt}"{note}')
    plt.show()

# %% [markdown]
# Look for three things in each row: the right garment, the right tone
# (dark or light overall), the right width; and variety between the eight.
# The adherence table below counts what your eye judges here.
#
# ### The denoising steps
#
# `generate(..., return_steps=True)` also returns, at every DDIM step, the
# model's current estimate of the clean image, decoded. Read the strip left
# to right: from noise, the outline comes first and the details last.

# %%
final, steps_x0 = t2i.generate(
    ["a dark wide ankle boot", "a light narrow t-shirt"],
    guidance_scale=3.0,
    num_steps=NUM_STEPS,
    seed=SEED,
    return_steps=True,
)  # (2, 28, 28, 1), (NUM_STEPS, 2, 28, 28, 1)
shown_steps = np.unique(np.linspace(0, NUM_STEPS - 1, 10).round().astype(int))
strip = steps_x0[shown_steps].transpose(1, 0, 2, 3, 4)  # (2, 10, 28, 28, 1)
image_grid(np.clip(strip.reshape(-1, 28, 28, 1), -1, 1), ncols=len(shown_steps),
           labels=[f"step {s + 1}" for s in shown_steps] * len(strip),
           title=f"Denoising: the x_0 estimate along the {NUM_STEPS} DDIM steps")
plt.show()
print("max difference between the last step's estimate and the returned image: "
      f"{np.abs(steps_x0[-1] - final).max():.2e}")

# %% [markdown]
# ### How well does it follow the prompt?
#
# `keras_gen.text_to_image.measure` draws `10 * PER_CLASS` images for balanced
# prompts (every class equally, all 40 class/tone/width combinations cycled,
# the held-out ones included) and scores each:
#
# - **class**: the quality classifier names the class asked for;
# - **tone** and **width**: the same rules that wrote the training captions,
#   applied to the generated image, agree with the prompt;
# - **all**: class, tone and width right at once;
# - **held-out**: the same, on the combinations never seen in training;
# - the **Fréchet distance** between the classifier's features of generated
#   and real test images, beside its **floor**, the distance between two
#   halves of real data of the same size (notebook 09's yardstick); computed
#   from 128 images per class up.
#
# The card holds the same measure on more images (its `n`); the live run
# here uses as many as the budget allows. Both are printed.

# %%
start = time.perf_counter()
live_report = measure(t2i, PER_CLASS, guidance_scale=3.0, num_steps=NUM_STEPS, seed=1)
measure_seconds = time.perf_counter() - start
card_report = card["measured"]


def cell(report, key, kind="share"):
    """One table cell: a share as a percentage, a distance to 2 decimals."""
    value = report.get(key)
    if value is None:
        return "-"
    return f"{value:.1%}" if kind == "share" else f"{value:.2f}"


rows = [("class", "class"), ("tone", "tone"), ("width", "width"),
        ("all three", "all"), ("held-out class", "held_out_class"),
        ("held-out all three", "held_out_all")]
print(f"measured live in {measure_seconds:.0f} s")
print(f"{'':22} {'live':>10} {'card':>10}")
print(f"{'images':22} {live_report['n']:>10,} {card_report['n']:>10,}")
print(f"{'held-out images':22} {live_report['held_out_n']:>10,} "
      f"{card_report['held_out_n']:>10,}")
for name, key in rows:
    print(f"{name:22} {cell(live_report, key):>10} {cell(card_report, key):>10}")
for name, key in (("Frechet distance", "frechet"), ("its floor", "floor")):
    live_value, card_value = cell(live_report, key, "n"), cell(card_report, key, "n")
    print(f"{name:22} {live_value:>10} {card_value:>10}")
print(f"{'real images, class':22} {cell(live_report, 'real_class'):>10} "
      f"{cell(card_report, 'real_class'):>10}")

# %% [markdown]
# Read the live column beside the card's: with fewer images the live numbers
# vary more, and a difference of a few points between the columns is noise,
# not a change in the model. The issue that asked for this model set a
# target of 90% class adherence; the last row says how often the same
# classifier agrees with the labels of *real* test images, which is the most
# a perfect generator could score on this judge. A "-" means that column
# drew fewer than 128 images per class, too few for a Fréchet distance.
#
# ### Guidance: following the prompt against variety
#
# The guidance scale `w` of classifier-free guidance is chosen at sampling
# time. `guidance_sweep` draws the same prompts at several scales and
# measures class adherence and *diversity*: the mean distance between the
# classifier's features of two images drawn for the same class.

# %%
start = time.perf_counter()
sweep = guidance_sweep(t2i, per_class=SWEEP_PER_CLASS, num_steps=NUM_STEPS, seed=1)
print(f"{SWEEP_PER_CLASS * 10} images per scale, {time.perf_counter() - start:.0f} s")
print(f"{'w':>4} {'class':>7} {'tone':>7} {'width':>7} {'diversity':>10}")
for r in sweep:
    print(f"{r['guidance_scale']:4.1f} {r['class']:7.1%} {r['tone']:7.1%} "
          f"{r['width']:7.1%} {r['diversity']:10.2f}")
fig, ax = plt.subplots(figsize=(5.5, 3.5))
for rows_, style, name in (
    (sweep, "o-", "live"),
    (card["guidance_sweep"], "s--", "card"),
):
    ax.plot([r["diversity"] for r in rows_], [r["class"] for r in rows_], style,
            label=name)
    for r in rows_:
        ax.annotate(f"w={r['guidance_scale']:g}", (r["diversity"], r["class"]),
                    fontsize=7, textcoords="offset points", xytext=(4, 4))
ax.set(xlabel="diversity (mean feature distance within a class)",
       ylabel="class adherence", title="Guidance trades variety for adherence")
ax.legend()
plt.show()

# %% [markdown]
# Each point is one guidance scale. Moving from `w = 0` (the prompt ignored:
# adherence near chance, 10%) to larger `w`, the points should move up (the
# class is followed more often) and to the left (images of a class look more
# alike). Real systems make the same trade: the `diffusers` library's Stable
# Diffusion pipeline uses the same formula with a default scale of 7.5; this
# small model is scored at 3.
