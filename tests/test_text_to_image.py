"""keras_gen.text_to_image.encoder and .model, with tiny parts."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gen import cli, conditional, pretrained
from keras_gen.denoiser import build_denoiser
from keras_gen.diffusion import DiffusionModel
from keras_gen.latents import build_latent_autoencoder
from keras_gen.text_to_image import model as text_to_image
from keras_gen.text_to_image.encoder import (
    build_caption_encoder,
    build_gpt_caption_encoder,
    caption_ids,
)
from keras_gen.text_to_image.model import (
    TextToImage,
    balanced_prompts,
    load_text_to_image,
    save_text_to_image,
    with_condition_encoder,
)
from keras_gen.tokenizers import CharTokenizer
from keras_gen.transformer import build_gpt

CHARS = "".join(sorted(set("abcdefghijklmnopqrstuvwxyz ,-")))
LENGTH = 64


def _tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    tokenizer = CharTokenizer(CHARS, byte_fallback=False)
    encoder = build_caption_encoder(
        tokenizer.vocab_size,
        LENGTH,
        embed_dim=8,
        num_heads=2,
        num_layers=1,
        condition_dim=8,
    )
    denoiser = build_denoiser(
        (7, 7, 4), condition_dim=8, base_filters=8, channel_multipliers=(1, 2)
    )
    rng = np.random.default_rng(seed)
    for weight in denoiser.get_layer("prediction").weights:  # not all zeros
        weight.assign(rng.normal(0, 0.1, weight.shape).astype("float32"))
    diffusion = DiffusionModel(denoiser, condition_encoder=encoder, timesteps=20)
    return TextToImage(
        build_latent_autoencoder(base_filters=8),
        diffusion,
        {"kind": "char", **tokenizer.to_dict()},
        held_out=[(9, "dark", "wide")],
    )


@pytest.fixture(scope="module")
def model():
    return _tiny_model()


def test_caption_ids_shift_and_pad():
    tokenizer = CharTokenizer("ab")
    assert caption_ids(tokenizer, ["ab", "b"], 3).tolist() == [[1, 2, 0], [2, 0, 0]]
    with pytest.raises(ValueError, match="at most 2 tokens"):
        caption_ids(tokenizer, ["aba"], 2)
    with pytest.raises(ValueError, match="list of caption strings"):
        caption_ids(tokenizer, "ab", 2)


def test_gpt_encoder_ignores_padding_and_is_frozen():
    gpt = build_gpt(5, 16, 8, num_heads=2, num_layers=1)
    short = build_gpt_caption_encoder(gpt, length=4)
    long = build_gpt_caption_encoder(gpt, length=8)
    ids = np.array([[1, 3, 2, 0]])
    padded = np.concatenate([ids, np.zeros((1, 4), "int32")], axis=1)
    np.testing.assert_allclose(
        np.asarray(short(ids)), np.asarray(long(padded)), atol=1e-6
    )
    assert not short.trainable_weights
    with pytest.raises(ValueError, match="context length"):
        build_gpt_caption_encoder(gpt, length=17)


def test_trained_encoder_reads_the_words():
    encoder = build_caption_encoder(
        10, length=6, embed_dim=8, num_heads=2, num_layers=1, condition_dim=4
    )
    vectors = np.asarray(encoder(np.array([[1, 2, 3, 0, 0, 0], [3, 2, 1, 0, 0, 0]])))
    assert vectors.shape == (2, 4) and not np.allclose(vectors[0], vectors[1])


def test_attached_encoder_matches_precomputed_vectors():
    gpt = build_gpt(30, 64, 8, num_heads=2, num_layers=1)
    encoder = build_gpt_caption_encoder(gpt, length=LENGTH)
    denoiser = build_denoiser(
        (7, 7, 4), condition_dim=8, base_filters=8, channel_multipliers=(1, 2)
    )
    plain = DiffusionModel(denoiser, timesteps=20)
    plain.null_condition.assign(np.linspace(-1, 1, 8).astype("float32"))
    ids = caption_ids(CharTokenizer(CHARS), ["a dark coat", "a light bag"], LENGTH)
    vectors = np.asarray(encoder(ids))
    combined = with_condition_encoder(plain, encoder)
    np.testing.assert_allclose(
        combined.generate(ids, num_steps=3, guidance_scale=2.0),
        plain.generate(vectors, num_steps=3, guidance_scale=2.0),
        atol=1e-5,
    )
    np.testing.assert_allclose(combined.null_condition, plain.null_condition)


def test_generate_is_seeded_and_strips_decode(model):
    prompts = ["a dark wide ankle boot", "a light narrow bag"]
    first = model.generate(prompts, num_steps=3, seed=1)
    assert first.shape == (2, 28, 28, 1)
    assert np.abs(first).max() <= 1.0
    np.testing.assert_array_equal(first, model.generate(prompts, num_steps=3, seed=1))
    assert not np.allclose(first, model.generate(prompts, num_steps=3, seed=2))
    images, steps = model.generate(prompts, num_steps=3, seed=1, return_steps=True)
    np.testing.assert_array_equal(images, first)
    assert steps.shape == (3, 2, 28, 28, 1)


def test_generate_refuses_bad_prompts(model):
    with pytest.raises(ValueError, match="list of prompts"):
        model.generate("a dark coat")
    with pytest.raises(ValueError, match="at least one prompt"):
        model.generate([])
    with pytest.raises(ValueError, match="at most 64 tokens"):
        model.generate(["a coat " * 20])


def test_folder_round_trip_gives_identical_images(model, tmp_path):
    folder = save_text_to_image(str(tmp_path / "t2i"), model, {"steps": 0})
    assert sorted(os.listdir(folder)) == ["card.json", "model.keras"]
    loaded, card = load_text_to_image(folder)
    assert card["steps"] == 0 and loaded.held_out == [(9, "dark", "wide")]
    prompts = ["a dark wide ankle boot"]
    np.testing.assert_allclose(
        loaded.generate(prompts, num_steps=3),
        model.generate(prompts, num_steps=3),
        atol=1e-5,
    )


def test_saved_file_holds_no_optimizer_state(tmp_path):
    model = _tiny_model(seed=1)
    save_text_to_image(str(tmp_path / "plain"), model, {"steps": 0})
    plain = os.path.getsize(str(tmp_path / "plain" / "model.keras"))
    model.diffusion.compile()  # a compiled part would save Adam's moments too
    model.autoencoder.compile()
    model.diffusion.optimizer.build(model.diffusion.trainable_variables)
    model.autoencoder.optimizer.build(model.autoencoder.trainable_variables)
    folder = save_text_to_image(str(tmp_path / "t2i"), model, {"steps": 0})
    size = os.path.getsize(os.path.join(folder, "model.keras"))
    assert abs(size - plain) < 0.02 * plain  # Adam's moments would add ~2x


def test_damaged_folder_is_refused(model, tmp_path):
    folder = save_text_to_image(str(tmp_path / "t2i"), model, {"steps": 0})
    with open(os.path.join(folder, "model.keras"), "ab") as f:
        f.write(b"x")
    with pytest.raises(ValueError, match="SHA-256"):
        load_text_to_image(folder)


def test_text_to_image_spec_with_an_unknown_key_is_a_value_error(model):
    """Issue 25: a text-to-image tokenizer spec with an unknown key gave TypeError."""
    spec = {**model.tokenizer_spec, "colour": "red"}
    with pytest.raises(ValueError, match=r"unknown \['colour'\]"):
        TextToImage(model.autoencoder, model.diffusion, spec)
    with pytest.raises(ValueError, match=r"missing \['byte_fallback'\]"):
        text_to_image.tokenizer_from_dict({"kind": "char", "chars": "ab"})


def test_loading_a_folder_of_another_kind_names_it(model, tmp_path):
    folder = save_text_to_image(str(tmp_path / "t2i"), model, {"steps": 0})
    with pytest.raises(FileNotFoundError, match="this is a text-to-image folder"):
        pretrained.load_pretrained(folder)
    with pytest.raises(ValueError, match="load_text_to_image"):
        conditional.load_designer(folder)


def test_balanced_prompts_cover_every_combination():
    prompts, labels, tones, widths = balanced_prompts(4)
    assert len(prompts) == 40 and np.bincount(labels).tolist() == [4] * 10
    assert len(set(zip(labels, tones, widths, strict=True))) == 40


def test_imagine_writes_a_grid_in_a_fresh_process(model, tmp_path):
    # A fresh process: loading must not depend on modules a test imported.
    folder = save_text_to_image(str(tmp_path / "t2i"), model, {"steps": 0})
    out = str(tmp_path / "grid.png")
    argv = [
        sys.executable,
        "-m",
        "keras_gen.cli",
        "imagine",
        "--prompt",
        "a dark ankle boot",
        "--out",
        out,
        "--n",
        "4",
        "--steps",
        "2",
        "--model",
        folder,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.path.getsize(out) > 0 and "Wrote 4 images" in result.stdout


def test_imagine_errors_are_clear(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        text_to_image, "DEFAULT_TEXT_TO_IMAGE_DIR", str(tmp_path / "missing")
    )
    assert (
        cli.main(["imagine", "--prompt", "a coat", "--out", str(tmp_path / "g.png")])
        == 2
    )
    assert "make pretrained" in capsys.readouterr().err
    assert cli.main(["imagine", "--prompt", "a coat", "--n", "0"]) == 2
    assert "Received: n=0" in capsys.readouterr().err


@pytest.mark.skipif(
    not os.path.isdir(text_to_image.DEFAULT_TEXT_TO_IMAGE_DIR),
    reason="no shipped text-to-image model yet: run make pretrained",
)
def test_shipped_model_is_small_documented_and_as_good_as_its_card():
    folder = text_to_image.DEFAULT_TEXT_TO_IMAGE_DIR
    size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
    assert size <= 20 * 2**20
    model, card = load_text_to_image()
    assert card["command"].startswith("make pretrained")
    assert card["measured"]["n"] >= 1000
    # The target: 90% class adherence at the chosen guidance scale.
    assert card["measured"]["class"] >= 0.90
    # The card's "check" point: 10 images per class, 20 DDIM steps, seed 1,
    # the same images the tool scored. Tone and width are pixel rules
    # (captions.attribute_of) on those images: they reproduce the card to
    # within one image in a hundred (float noise between machines). The class
    # rows need the judge of keras_gen.classifier, which each machine trains
    # for itself on first use and which is not bit-identical across machines
    # (notebook 12's full run: real test images 91.2% against the card's
    # 90.9%, the same images), so the class rows get a few points of room.
    check = card["check"]
    measured = text_to_image.measure(
        model,
        10,
        guidance_scale=check["guidance_scale"],
        num_steps=check["num_steps"],
        seed=1,
    )
    assert measured["n"] == check["n"]
    assert measured["held_out_n"] == check["held_out_n"]
    for key in ("tone", "width", "held_out_tone", "held_out_width"):
        assert measured[key] == pytest.approx(check[key], abs=0.011), key
    for key in ("class", "all"):
        assert measured[key] == pytest.approx(check[key], abs=0.05), key
    # The second judge sees the prompted class about as often (issue 22).
    assert measured["class_second"] == pytest.approx(measured["class"], abs=0.1)
    assert measured["real_class_second"] is None  # no floor below 128 per class


def test_guidance_sweep_diversity_is_the_mean_pairwise_distance(monkeypatch):
    from keras_gen import classifier, metrics

    rng = np.random.default_rng(0)

    class Drawn:
        def generate(self, prompts, guidance_scale, num_steps, seed):
            return rng.uniform(-1, 1, (len(prompts), 28, 28, 1)).astype("float32")

    seen = {}

    def features_and_predictions(images):
        features = rng.normal(size=(len(images), 64)).astype("float32")
        seen["features"] = features
        return features, np.zeros(len(images), "int64")

    monkeypatch.setattr(classifier, "features_and_predictions",
                        features_and_predictions)
    (row,) = text_to_image.guidance_sweep(Drawn(), scales=(2.0,), per_class=3,
                                          num_steps=2)
    _, labels, _, _ = text_to_image.balanced_prompts(3, 1)
    expected = np.mean([
        metrics.mean_pairwise_distance(seen["features"][labels == c], None)
        for c in range(10)
    ])
    assert row["diversity"] == pytest.approx(expected)
    assert row["guidance_scale"] == 2.0
    with pytest.raises(ValueError, match="Expected per_class >= 2"):
        text_to_image.guidance_sweep(Drawn(), per_class=1)
