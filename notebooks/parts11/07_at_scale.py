# ruff: noqa  (a part of notebook 11: ruff checks the assembled notebook)
# %% [markdown]
# ## 6. What DALL-E 2 and Stable Diffusion add at scale
#
# Our model and the systems the article points at share their ideas: a text
# encoder that reads the prompt, a diffusion model that draws, classifier-free
# guidance that steers, and (for Stable Diffusion) an autoencoder whose latent
# space the diffusion runs in. What they add is scale, data and a few more
# stages. Facts only, with their sources:
#
# **DALL-E 2** (Ramesh, Dhariwal, Nichol, Chu & Chen, 2022, "Hierarchical
# Text-Conditional Image Generation with CLIP Latents", OpenAI; the paper
# calls the model unCLIP).
# - The text encoder is CLIP's (Radford et al., 2021, "Learning Transferable
#   Visual Models From Natural Language Supervision"), trained with a
#   contrastive loss to put an image and its caption close together in one
#   embedding space: it was trained on image-caption pairs, not on text alone
#   as our GPT was.
# - A **prior** turns the caption's CLIP text embedding into a CLIP *image*
#   embedding; the paper tried an autoregressive and a diffusion prior and
#   found the diffusion prior as good or better and cheaper.
# - A **decoder**, a diffusion model (a modified GLIDE, 3.5 billion
#   parameters), draws a 64x64 image from that image embedding, with
#   classifier-free guidance; two diffusion **upsamplers** take it to 256x256
#   and then 1024x1024.
#
# **Stable Diffusion** (Rombach, Blattmann, Lorenz, Esser & Ommer, 2022,
# "High-Resolution Image Synthesis with Latent Diffusion Models", CVPR; the
# v1 model card and README of CompVis/stable-diffusion).
# - Latent diffusion, as here: an autoencoder with a downsampling factor of 8
#   turns a 512x512x3 image into a 64x64x4 latent, and the diffusion U-Net
#   (860 million parameters) runs on the latents.
# - The text encoder is CLIP ViT-L/14's (123 million parameters), frozen, as
#   our GPT body is frozen; its per-token outputs enter the U-Net through
#   cross-attention, where we feed one averaged vector.
# - The training data are image-text pairs from LAION-5B (Schuhmann et al.,
#   2022, "LAION-5B: An open large-scale dataset for training next generation
#   image-text models": 5.85 billion CLIP-filtered pairs collected from the
#   web): v1 trained on LAION-2B-en and its high-resolution and "aesthetics"
#   subsets, on 32 machines of 8 A100 GPUs (the model card). Ours: 55,267
#   Fashion-MNIST images with captions written by rules, on 2 CPU cores.
# - The text condition was dropped for 10% of training examples to allow
#   classifier-free guidance (the v1 model card): our `p_uncond` is 0.1 too.
#
# **What scale buys and what it does not.** Scale buys open-ended prompts
# (any words, not 10 nouns and 2 attributes), photographs at 1024 pixels,
# and styles. It does not remove the trade this notebook measured:
# guidance still trades variety for adherence, and both papers report it.
# Nor does it make composition solved: the DALL-E 2 paper lists binding
# attributes to objects (for example "a red cube on top of a blue cube") as a
# limitation, the same question our held-out combinations ask at toy scale.
# And the web data bring what the web holds: the CompVis README says that
# Stable Diffusion v1 "mirrors biases and (mis-)conceptions that are present
# in its training data".
