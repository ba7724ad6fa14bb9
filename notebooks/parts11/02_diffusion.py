# ruff: noqa  (a part of notebook 11: ruff checks the assembled notebook)
# %% [markdown]
# ## 1. Diffusion, beside the GAN and the VAE
#
# Notebooks 02 and 03 met the two architectures the article names:
#
# | | GAN (notebook 02) | VAE (notebook 03) | diffusion (this notebook) |
# |---|---|---|---|
# | what is trained | a generator against a discriminator | an encoder and a decoder together | one denoiser |
# | its loss | the discriminator's verdict (a game) | reconstruction + KL to a Gaussian | mean squared error on the noise |
# | drawing one image | one pass of the generator | one pass of the decoder | many passes of the denoiser (here 50) |
# | typical failure | mode collapse, unstable training | blurry images | slow sampling |
#
# A diffusion model (Sohl-Dickstein et al., 2015; Ho et al., 2020, "Denoising
# Diffusion Probabilistic Models", DDPM) learns by a regression as plain as the
# VAE's, and draws sharp and varied images without the GAN's game. The price is
# paid at sampling time: the denoiser runs once per step.
#
# **The forward process** destroys an image `x_0` in `T = 1000` small steps of
# Gaussian noise. Its step `t` has a closed form:
#
# `x_t = sqrt(abar_t) * x_0 + sqrt(1 - abar_t) * eps`, with `eps ~ N(0, I)`,
#
# where `abar_t` (the *noise schedule*) falls from about 1 (clean) to about 0
# (pure noise). Nothing here is learned; the cell below applies it to real
# test images with `keras_gen.diffusion.NoiseSchedule`.

# %%
# NBVAL_CHECK_OUTPUT
test_images, test_labels = data.load_images("fashion_mnist", "test")
schedule = NoiseSchedule("cosine", timesteps=1000)
shown_t = [0, 100, 250, 500, 750, 999]
originals = test_images[:4]  # (4, 28, 28, 1) in [-1, 1]
noise = np.random.default_rng(SEED).standard_normal(originals.shape)
noisy = np.stack(
    [schedule.q_sample(originals, np.full(len(originals), t), noise) for t in shown_t],
    axis=1,
)  # (4 images, 6 noise levels, 28, 28, 1)
fig = image_grid(
    np.clip(noisy.reshape(-1, 28, 28, 1), -1, 1),
    ncols=len(shown_t),
    labels=[f"t = {t}" for t in shown_t] * len(originals),
    title="The forward process: one test image per row, noisier to the right",
)
plt.show()
for t in shown_t:
    print(
        f"t = {t:3d}: signal sqrt(abar) = {schedule.sqrt_alphas_cumprod[t]:.3f}, "
        f"noise sqrt(1 - abar) = {schedule.sqrt_one_minus_alphas_cumprod[t]:.3f}"
    )

# %% [markdown]
# Read each row left to right: the garment fades into the noise. At `t = 500`
# its shape is still visible to you; by `t = 999` the signal's weight printed
# above is almost zero and the picture is pure noise. Drawing a new image
# runs this film backwards.
#
# **The noise schedule** sets how fast the signal fades. DDPM's *linear*
# schedule raises the added variance linearly in `t`; the *cosine* schedule
# (Nichol & Dhariwal, 2021, "Improved Denoising Diffusion Probabilistic
# Models") keeps more signal in the early steps, which matters for small
# images: with the linear one, the last few hundred steps are all almost pure
# noise and teach the model little. The package uses cosine by default.

# %%
linear = NoiseSchedule("linear", timesteps=1000)
fig, ax = plt.subplots(figsize=(6, 3.2))
steps = np.arange(1000)
for kind, sched, style in (("cosine", schedule, "-"), ("linear", linear, "--")):
    ax.plot(steps, sched.sqrt_alphas_cumprod, style, color="C0",
            label=f"signal sqrt(abar_t), {kind}")
    ax.plot(steps, sched.sqrt_one_minus_alphas_cumprod, style, color="C1",
            label=f"noise sqrt(1 - abar_t), {kind}")
ax.set(xlabel="timestep t", ylabel="weight in x_t",
       title="Noise schedules: how fast the image fades")
ax.legend(fontsize=8)
plt.show()
half = {k: int(np.argmax(s.sqrt_alphas_cumprod < s.sqrt_one_minus_alphas_cumprod))
        for k, s in (("cosine", schedule), ("linear", linear))}
print(f"noise outweighs signal from t = {half['cosine']} (cosine), "
      f"t = {half['linear']} (linear)")

# %% [markdown]
# The solid lines (cosine) cross later than the dashed ones (linear): the
# cell prints where. With the cosine schedule more of the 1,000 steps show a
# recognisable garment.
#
# **What the denoiser predicts.** The network (`keras_gen.denoiser`, a small
# U-Net) receives `x_t`, the timestep `t` and the prompt's vector, and could
# predict the clean image `x_0` or the noise `eps` (DDPM's choice). Ours
# predicts the *velocity* `v = sqrt(abar_t) * eps - sqrt(1 - abar_t) * x_0`
# (Salimans & Ho, 2022, "Progressive Distillation for Fast Sampling of
# Diffusion Models"). From `v` and `x_t` both `x_0` and `eps` follow with
# weights that stay below 1 at every `t`; recovering `x_0` from an `eps`
# prediction divides by `sqrt(abar_t)`, which the cosine schedule drives to
# about 5e-5 at the last step, so any error there is multiplied by about
# 20,000 (the module docstring of `keras_gen.diffusion` works it through).
#
# **The training step** is a custom `train_step` (Keras 3's way of changing
# what `fit()` does); its loss is the method below, printed from the package
# itself.

# %%
print(inspect.getsource(DiffusionModel._loss))
print(inspect.getsource(DiffusionModel.train_step))

# %% [markdown]
# Walked through (Ho et al., 2020, algorithm 1):
#
# 1. one random timestep `t` per image, uniform in `[0, 1000)`, and fresh
#    noise `eps`;
# 2. `x_t` from the closed form above (`noisy`): no need to run `t` steps;
# 3. the prompt's vector, replaced by a learned *null* vector for 10% of the
#    batch (`p_uncond`): the same network learns to draw with and without a
#    prompt, which guidance needs below;
# 4. the loss is the mean squared error between the network's output and `v`;
#    `train_step` takes its gradient with `tf.GradientTape` (TensorFlow
#    directly: Keras 3 has no backend-neutral tape) and lets the optimizer
#    step.
#
# **Sampling with DDIM** (Song et al., 2021, "Denoising Diffusion Implicit
# Models"). Start from pure noise `x_T`. At each of a few timesteps
# `t > t'` (here 50 evenly spaced out of 1,000), estimate `x_0` and `eps`
# from the network's `v`, then jump to the less noisy step:
#
# `x_t' = sqrt(abar_t') * x_0_estimate + sqrt(1 - abar_t') * eps_estimate`.
#
# It is deterministic: the same starting noise gives the same image. DDPM's
# own sampler visits all 1,000 steps and adds fresh noise at each.
#
# **Classifier-free guidance** (Ho & Salimans, 2022). At each step the
# network runs twice, with the prompt (`cond`) and with the null vector
# (`uncond`), and the two are mixed with a *guidance scale* `w`:
#
# `prediction = uncond + w * (cond - uncond)`.
#
# `w = 0` ignores the prompt, `w = 1` is the plain conditional model, and
# `w > 1` exaggerates what the prompt changes: images follow the prompt more
# closely and vary less. Section 3 measures that trade.
