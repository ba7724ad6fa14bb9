"""Text to image: a caption becomes a Fashion-MNIST picture by latent diffusion.

Stable Diffusion in miniature, from the course's own parts::

    caption --tokenizer--> ids --caption encoder--> condition (batch, d)
    noise (batch, 7, 7, 4) --DDIM, guided by the condition--> latent
    latent --autoencoder's decoder--> image (batch, 28, 28, 1)

- :mod:`keras_gen.text_to_image.encoder` reads the caption;
- :class:`keras_gen.diffusion.DiffusionModel` draws a latent with
  classifier-free guidance;
- :class:`keras_gen.latents.LatentAutoencoder` decodes it.

:class:`TextToImage` holds the three (and the tokenizer) as one Keras model,
saved as one ``model.keras`` with a ``card.json`` by
:func:`save_text_to_image` and loaded, ``safe_mode`` on and its SHA-256
checked, by :func:`load_text_to_image`. :func:`measure` scores it on the
yardstick of :mod:`keras_gen.adherence` plus the caption attributes of
:mod:`keras_gen.text_to_image.captions`; :func:`guidance_sweep` trades adherence against
diversity.
"""

from __future__ import annotations

import os

import keras
import numpy as np

# denoiser is imported for its registered layers: a saved model loads in a
# fresh process only when every class in it is registered.
from keras_gen import _checks, denoiser, model_folder, tokenizers  # noqa: F401
from keras_gen._files import FileFormatError, data_path
from keras_gen._nested import NestedConfig
from keras_gen.diffusion import DiffusionModel
from keras_gen.latents import LatentAutoencoder
from keras_gen.text_to_image import captions
from keras_gen.text_to_image.encoder import caption_ids

#: The text-to-image model that ships with the project (``make pretrained``).
DEFAULT_TEXT_TO_IMAGE_DIR = data_path("pretrained", "text-to-image")
#: The shipped model's sizes (``tools/train_text_to_image.py``,
#: ``benchmarks/latent_vs_pixel.py``): the 7x7x4 denoiser and the autoencoder.
DENOISER_CONFIG = {
    "base_filters": 48,
    "channel_multipliers": (1, 2),
    "blocks_per_level": 1,
}
AUTOENCODER_FILTERS = 16


def tokenizer_from_dict(spec: dict):
    """Rebuild a tokenizer from ``{"kind": ..., **tokenizer.to_dict()}``.

    The same as :func:`keras_gen.tokenizers.tokenizer_from_dict` (kept under
    this name for older code): the kind, the keys and every field are checked.

    Raises:
        ValueError: The spec's kind is unknown, a key is missing or unknown,
            or a field is invalid.
    """
    return tokenizers.tokenizer_from_dict(spec)


def with_condition_encoder(diffusion: DiffusionModel, encoder) -> DiffusionModel:
    """The same trained denoiser, now reading raw conditions through ``encoder``.

    A frozen encoder (the GPT's body) gives the same vector for the same
    caption at every step, so training can run on precomputed vectors
    (``condition_encoder=None``) and the encoder be attached afterwards.

    Args:
        diffusion: A trained model without a condition encoder.
        encoder: Maps raw conditions to ``(batch, condition_dim)``.

    Returns:
        A new :class:`DiffusionModel` sharing ``diffusion``'s denoiser, with
        its null condition copied.
    """
    if diffusion.condition_encoder is not None:
        raise ValueError(
            "Expected a diffusion model without a condition encoder. Received: "
            f"one with {diffusion.condition_encoder.name!r}"
        )
    config = diffusion.get_config()
    combined = DiffusionModel(
        diffusion.denoiser,
        condition_encoder=encoder,
        timesteps=config["timesteps"],
        schedule=config["schedule"],
        prediction=config["prediction"],
        p_uncond=config["p_uncond"],
        clip_denoised=config["clip_denoised"],
        seed=config["seed"],
    )
    combined.null_condition.assign(diffusion.null_condition)
    return combined


def _serialize_uncompiled(model) -> dict:
    """A part's config without its compile config: no optimizer state in the file.

    (A compiled part would rebuild its optimizer on loading, and the saved
    weights would carry Adam's two moments: three times the model's size.)
    """
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    return config


@keras.saving.register_keras_serializable(package="keras_gen")
class TextToImage(NestedConfig, keras.Model):
    """Caption -> condition -> DDIM in latent space -> decoder -> image.

    Args:
        autoencoder: A trained :class:`~keras_gen.latents.LatentAutoencoder`.
        diffusion: A trained :class:`~keras_gen.diffusion.DiffusionModel` on
            the autoencoder's latents, whose condition encoder reads
            :func:`~keras_gen.text_to_image.encoder.caption_ids`.
        tokenizer: ``{"kind": "char" | "bpe", ...}``, the tokenizer the
            caption encoder was trained with (``kind`` plus ``to_dict()``).
        held_out: The ``(label, tone, width)`` combinations kept out of
            training (recorded for :func:`measure`).
        **kwargs: Passed to ``keras.Model``.
    """

    NESTED = ("autoencoder", "diffusion")

    def __init__(self, autoencoder, diffusion, tokenizer: dict, held_out=(), **kwargs):
        super().__init__(**kwargs)
        if not isinstance(autoencoder, LatentAutoencoder):
            raise ValueError(
                "Expected a keras_gen.latents.LatentAutoencoder. Received: "
                f"{type(autoencoder).__name__}"
            )
        if (
            not isinstance(diffusion, DiffusionModel)
            or diffusion.condition_encoder is None
        ):
            raise ValueError(
                "Expected a DiffusionModel with a caption encoder. Received: "
                f"{type(diffusion).__name__}"
            )
        if diffusion.image_shape != autoencoder.latent_shape:
            raise ValueError(
                f"Expected a diffusion model on the autoencoder's latents "
                f"{autoencoder.latent_shape}. Received: {diffusion.image_shape}"
            )
        self.autoencoder = autoencoder
        self.diffusion = diffusion
        self.tokenizer_spec = dict(tokenizer)
        self.tokenizer = tokenizer_from_dict(self.tokenizer_spec)
        self.caption_length = int(diffusion.condition_encoder.input_shape[-1])
        self.held_out = [
            (int(label), str(tone), str(width)) for label, tone, width in held_out
        ]
        for combination in self.held_out:
            captions.caption(*combination)  # checks each field
        self.built = True

    def call(self, inputs, training=False):
        """The denoiser's prediction for ``[latents, timesteps, caption ids]``."""
        return self.diffusion(inputs, training=training)

    def caption_ids(self, prompts) -> np.ndarray:
        """Prompts -> int ``(n, caption_length)`` for the caption encoder."""
        return caption_ids(self.tokenizer, list(prompts), self.caption_length)

    def generate(
        self,
        prompts,
        *,
        guidance_scale: float = 3.0,
        num_steps: int = 50,
        seed: int = 0,
        return_steps: bool = False,
    ):
        """Draw one image per prompt.

        Args:
            prompts: A list of captions (repeat a caption for several images).
            guidance_scale: Classifier-free guidance ``w`` (0 ignores the prompt).
            num_steps: DDIM steps.
            seed: Seed of the starting noise; the same seed gives the same images.
            return_steps: Also return every step's decoded ``x_0`` estimate.

        Returns:
            float32 ``(n, 28, 28, 1)`` in [-1, 1]; with ``return_steps``, also
            ``(num_steps, n, 28, 28, 1)``, noisiest first.
        """
        if isinstance(prompts, str):
            raise ValueError(
                f"Expected a list of prompts. Received: the string {prompts!r}; "
                "wrap it in a list."
            )
        ids = self.caption_ids(prompts)  # (n, length)
        if len(ids) == 0:
            raise ValueError("Expected at least one prompt. Received: 0")
        out = self.diffusion.generate(
            ids,
            num_steps=num_steps,
            guidance_scale=guidance_scale,
            seed=seed,
            return_steps=return_steps,
        )
        if not return_steps:
            return self.autoencoder.decode(out)  # (n, 28, 28, 1)
        latents, steps = out  # (n, 7, 7, C), (num_steps, n, 7, 7, C)
        decoded = self.autoencoder.decode(steps.reshape(-1, *steps.shape[2:]))
        return self.autoencoder.decode(latents), decoded.reshape(
            steps.shape[0], len(latents), *decoded.shape[1:]
        )

    def get_config(self):
        return {
            **super().get_config(),
            "autoencoder": _serialize_uncompiled(self.autoencoder),
            "diffusion": _serialize_uncompiled(self.diffusion),
            "tokenizer": self.tokenizer_spec,
            "held_out": [list(c) for c in self.held_out],
        }


_REMAKE = "Rebuild it with `make pretrained`."


def save_text_to_image(folder: str, model: TextToImage, card: dict) -> str:
    """Write ``model.keras`` and ``card.json`` (with SHA-256), all or nothing.

    The folder format and atomic swap of :mod:`keras_gen.model_folder`, as
    for the designer (:func:`keras_gen.conditional.save_designer`).
    """
    if not isinstance(model, TextToImage):
        raise ValueError(
            f"Expected a TextToImage model. Received: {type(model).__name__}"
        )
    if not isinstance(card, dict):
        raise ValueError(
            f"Expected card to be a dict. Received: card of type {type(card).__name__}"
        )
    return model_folder.save_folder(folder, model, card, what="text-to-image folder")


def load_text_to_image(folder: str | None = None):
    """Load a folder written by :func:`save_text_to_image`.

    Args:
        folder: Default :data:`DEFAULT_TEXT_TO_IMAGE_DIR`, the shipped model.

    Returns:
        ``(model, card)``; loaded with ``safe_mode`` on after the SHA-256
        check; the card without its ``"sha256"`` entry.

    Raises:
        FileNotFoundError: A file is missing (the message says how to remake it).
        keras_gen._files.FileFormatError: The card is damaged, ``model.keras``
            does not match it, or the folder is of another kind (a GPT or
            designer folder: the message says which function loads it).
    """
    folder = DEFAULT_TEXT_TO_IMAGE_DIR if folder is None else os.fspath(folder)
    contents = model_folder.load_folder(
        folder,
        what="text-to-image folder",
        tokenizer=False,
        expect=("TextToImage",),
        remake=_REMAKE,
    )
    model = model_folder.load_model(contents.model_path, _REMAKE)
    if not isinstance(model, TextToImage):  # a class name we did not foresee
        raise FileFormatError(
            f"Expected a text-to-image folder. Received: {folder!r} holds a "
            f"{type(model).__name__}"
        )
    return model, contents.card


# -- measurement --------------------------------------------------------------


def balanced_prompts(per_class: int, seed: int = 0):
    """``10 * per_class`` prompts: every class equally, tone/width/phrasing cycled.

    Returns:
        ``(prompts, labels, tones, widths)``, the last three as arrays.

    Example:
        >>> prompts, labels, tones, widths = balanced_prompts(2)
        >>> prompts[:2], labels.tolist()[:4]
        (['a dark narrow t-shirt', 'a narrow light t-shirt'], [0, 0, 1, 1])
    """
    per_class = _checks.check_int("per_class", per_class, minimum=1)
    seed = _checks.check_seed("seed", seed)
    rng = np.random.default_rng(seed)
    prompts, labels, tones, widths = [], [], [], []
    for label in range(len(captions.NOUNS)):
        for i in range(per_class):
            tone = captions.TONES[i % 2]
            width = captions.WIDTHS[(i // 2) % 2]
            phrasing = int(rng.integers(len(captions.PHRASINGS))) if i >= 4 else i
            prompts.append(captions.caption(label, tone, width, phrasing % 5))
            labels.append(label)
            tones.append(tone)
            widths.append(width)
    return prompts, np.array(labels), np.array(tones), np.array(widths)


def _attribute_scores(images, labels, tones, widths) -> dict:
    measured = captions.attribute_of(images, labels)
    tone_ok = measured["tone"] == tones
    width_ok = measured["width"] == widths
    return {"tone": tone_ok, "width": width_ok}


def measure(
    model: TextToImage,
    per_class: int = 128,
    *,
    guidance_scale: float = 3.0,
    num_steps: int = 50,
    seed: int = 1,
) -> dict:
    """Class, attribute and held-out adherence, and the Fréchet distance.

    ``10 * per_class`` images from :func:`balanced_prompts` (all 40
    class/tone/width combinations, the held-out ones included), scored by
    the quality classifier (class) and by
    :func:`keras_gen.text_to_image.captions.attribute_of` (tone, width) against
    the prompt.

    Args:
        model: A :class:`TextToImage`.
        per_class: Images per class; with 128 or more (up to 1,000) the
            Fréchet distance and its floor are computed too
            (:func:`keras_gen.adherence.design_report`).
        guidance_scale: ``w``.
        num_steps: DDIM steps.
        seed: Seed of the samples (and of the real images of the floor).

    Returns:
        A dict of floats (shares in [0, 1]): ``n``, ``class``, ``tone``,
        ``width``, ``all`` (class and both attributes), ``held_out_n``,
        ``held_out_class``, ``held_out_tone``, ``held_out_width``,
        ``held_out_all`` (None without held-out combinations), ``frechet``,
        ``floor``, ``real_class`` (the classifier on real test images), the
        last three None below 128 per class; ``class_second`` and
        ``real_class_second``: the same shares by the second judge of
        :mod:`keras_gen.classifier` (the second None below 128 per class).
    """
    from keras_gen import classifier
    from keras_gen.adherence import MIN_SAMPLES, design_report

    prompts, labels, tones, widths = balanced_prompts(per_class, seed)
    images = model.generate(
        prompts, guidance_scale=guidance_scale, num_steps=num_steps, seed=seed
    )  # (10 * per_class, 28, 28, 1)
    extra = {
        "frechet": None,
        "floor": None,
        "real_class": None,
        "real_class_second": None,
    }
    if MIN_SAMPLES <= per_class <= 1000:
        overall = design_report(images, labels, seed=seed).overall
        extra = {
            "frechet": overall["frechet"],
            "floor": overall["floor"],
            "real_class": overall["real_adherence"],
            "real_class_second": overall["real_adherence_second"],
        }
    class_ok = classifier.features_and_predictions(images)[1] == labels
    second = classifier.features_and_predictions(images, judge="second")[1]
    attributes = _attribute_scores(images, labels, tones, widths)
    all_ok = class_ok & attributes["tone"] & attributes["width"]
    held = np.zeros(len(labels), bool)
    for label, tone, width in model.held_out:
        held |= (labels == label) & (tones == tone) & (widths == width)
    result = {
        "n": len(images),
        "guidance_scale": float(guidance_scale),
        "num_steps": int(num_steps),
        "class": float(class_ok.mean()),
        "class_second": float(np.mean(second == labels)),
        "tone": float(attributes["tone"].mean()),
        "width": float(attributes["width"].mean()),
        "all": float(all_ok.mean()),
        "held_out_n": int(held.sum()),
    }
    for key, ok in (
        ("class", class_ok),
        ("tone", attributes["tone"]),
        ("width", attributes["width"]),
        ("all", all_ok),
    ):
        result[f"held_out_{key}"] = float(ok[held].mean()) if held.any() else None
    return {**result, **extra}


def guidance_sweep(
    model: TextToImage,
    scales=(0.0, 1.0, 2.0, 3.0, 5.0),
    per_class: int = 20,
    *,
    num_steps: int = 50,
    seed: int = 1,
) -> list[dict]:
    """Adherence against diversity, one row per guidance scale.

    Diversity is the mean pairwise Euclidean distance between the quality
    classifier's features of images drawn for the same class
    (:func:`keras_gen.metrics.mean_pairwise_distance`, over all pairs, in
    bounded memory), averaged over the classes: it falls as guidance pulls
    samples together.

    Args:
        model: A :class:`TextToImage`.
        scales: Guidance scales, one row each.
        per_class: Images per class and scale, >= 2 (a distance needs two).
        num_steps: DDIM steps per image.
        seed: Seed of the prompts and of the noise.

    Returns:
        ``[{"guidance_scale", "class", "tone", "width", "diversity"}, ...]``.
    """
    from keras_gen import classifier
    from keras_gen.metrics import mean_pairwise_distance

    per_class = _checks.check_int("per_class", per_class, minimum=2)
    prompts, labels, tones, widths = balanced_prompts(per_class, seed)
    rows = []
    for scale in scales:
        images = model.generate(
            prompts, guidance_scale=scale, num_steps=num_steps, seed=seed
        )
        features, predicted = classifier.features_and_predictions(images)
        spreads = [  # features: (n, 64); one group (per_class, 64) per class
            mean_pairwise_distance(features[labels == label], max_images=None)
            for label in range(len(captions.NOUNS))
        ]
        attributes = _attribute_scores(images, labels, tones, widths)
        rows.append(
            {
                "guidance_scale": float(scale),
                "class": float(np.mean(predicted == labels)),
                "tone": float(attributes["tone"].mean()),
                "width": float(attributes["width"].mean()),
                "diversity": float(np.mean(spreads)),
            }
        )
    return rows
