"""Text to image, notebook 12: Stable Diffusion in miniature.

- ``model``: the text-to-image model (latent diffusion conditioned on a caption),
  its shipped folder and its measures (``keras-gen imagine``).
- ``captions``: captions for Fashion-MNIST images, from each label and its pixels.
- ``encoder``: caption encoders: a prompt's text -> a diffusion model's condition.
- ``wishes``: shopping requests in plain English, and the captions that answer them.
"""
