"""Class-conditional GAN and VAE, generation by class, and the shipped designer."""

import os

import keras
import numpy as np
import pytest

from keras_gen import conditional as cond
from keras_gen import model_folder
from keras_gen._files import FileFormatError

LATENT = 4


@pytest.fixture(scope="module")
def tiny_models():
    """A tiny cGAN and cVAE, each trained 2 steps on random labelled images."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    labels = np.arange(32) % 10
    cgan = cond.ConditionalGAN(
        cond.build_conditional_generator(LATENT),
        cond.build_conditional_discriminator(hidden_units=(16,)),
        seed=0,
    )
    cvae = cond.ConditionalVAE(
        cond.build_conditional_encoder(LATENT, hidden_units=(16,)),
        cond.build_conditional_decoder(LATENT, hidden_units=(16,)),
        seed=0,
    )
    for model in (cgan, cvae):
        model.compile(jit_compile=False, run_eagerly=True)  # 2 steps: no graph
        model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    return {"cgan": cgan, "cvae": cvae}


@pytest.mark.parametrize("kind", ["cgan", "cvae"])
def test_generate_shapes_order_and_range(tiny_models, kind):
    images = cond.generate(tiny_models[kind], ["Sandal", 7, "bag"], n=4, seed=3)
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    # Class by class: the first 4 are the sandals, drawn alone they are the same.
    np.testing.assert_allclose(
        images[:4], cond.generate(tiny_models[kind], 5, n=4, seed=3), atol=1e-6
    )


@pytest.mark.parametrize("kind", ["cgan", "cvae"])
def test_same_seed_same_samples_other_seed_others(tiny_models, kind):
    model = tiny_models[kind]
    first = cond.generate(model, [0, 5], n=3, seed=11)
    np.testing.assert_array_equal(first, cond.generate(model, [0, 5], n=3, seed=11))
    assert not np.allclose(first, cond.generate(model, [0, 5], n=3, seed=12))


@pytest.mark.parametrize("kind", ["cgan", "cvae"])
def test_the_class_changes_the_image(tiny_models, kind):
    sandals = cond.generate(tiny_models[kind], "Sandal", n=2, seed=0)
    bags = cond.generate(tiny_models[kind], "Bag", n=2, seed=0)  # same noise
    assert not np.allclose(sandals, bags)


@pytest.mark.parametrize("kind", ["cgan", "cvae"])
def test_keras_round_trip_gives_identical_samples(tiny_models, kind, tmp_path):
    model = tiny_models[kind]
    path = tmp_path / f"{kind}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode stays on
    assert type(loaded) is type(model)
    np.testing.assert_allclose(
        cond.generate(loaded, range(10), n=2, seed=4),
        cond.generate(model, range(10), n=2, seed=4),
        atol=1e-6,
    )
    if kind == "cgan":  # optimizer state comes back, so training can resume
        assert loaded.d_optimizer.iterations.numpy() == 2
    else:
        assert loaded.optimizer.iterations.numpy() == 2


def test_interpolation_ends_are_the_two_designs(tiny_models):
    model = tiny_models["cvae"]
    path = cond.interpolate(model, ("Sandal", 0), ("Sneaker", 1), steps=5)
    assert path.shape == (5, 28, 28, 1)
    np.testing.assert_allclose(path[0], cond.generate(model, 5, seed=0)[0], atol=1e-5)
    np.testing.assert_allclose(path[-1], cond.generate(model, 7, seed=1)[0], atol=1e-5)


def test_designer_folder_round_trip_and_tamper(tiny_models, tmp_path):
    folder = cond.save_designer(
        tmp_path / "d", tiny_models["cvae"], {"kind": "cvae"}
    )
    model, card = cond.load_designer(folder)
    assert card == {"kind": "cvae"}  # the card as given; its hashes checked
    np.testing.assert_allclose(
        cond.generate(model, 3, n=2), cond.generate(tiny_models["cvae"], 3, n=2)
    )
    with open(os.path.join(folder, model_folder.MODEL_FILE), "ab") as file:
        file.write(b"x")
    with pytest.raises(FileFormatError, match="damaged or was changed"):
        cond.load_designer(folder)
    os.remove(os.path.join(folder, model_folder.MODEL_FILE))
    with pytest.raises(FileNotFoundError, match="Missing: model.keras"):
        cond.load_designer(folder)


def test_save_designer_refuses_a_folder_of_other_files(tiny_models, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        cond.save_designer(tmp_path, tiny_models["cvae"], {})
    with pytest.raises(ValueError, match="JSON values"):
        cond.save_designer(
            tmp_path / "new", tiny_models["cvae"], {"x": float("nan")}
        )
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]  # nothing half-written


@pytest.mark.parametrize(
    "classes, message",
    [
        (
            10,
            r"Expected class ids in \[0, 10\), e.g. 5 for 'Sandal'. "
            r"Received: class_ids=\[10\]",
        ),
        ([3, -1], r"Received: class_ids=\[-1\]"),
        (2.0, "Expected class ids as ints or class names. Received: 2.0 of type float"),
        ([True], "Received: True of type bool"),
        ("Sandals", r"Expected a class name from \['T-shirt/top'"),
        ([[1, 2], [3, 4]], r"1-D list of classes. Received: class_ids with shape"),
        ([], r"Expected at least one class id. Received: class_ids=\[\]"),
    ],
)
def test_bad_classes(tiny_models, classes, message):
    with pytest.raises(ValueError, match=message):
        cond.generate(tiny_models["cvae"], classes)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "Expected n >= 1. Received: n=0"),
        ({"n": 2.5}, "Expected n to be an int. Received: n=2.5"),
        ({"seed": -1}, "Expected seed >= 0. Received: seed=-1"),
    ],
)
def test_bad_n_and_seed(tiny_models, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cond.generate(tiny_models["cgan"], 5, **kwargs)


def test_bad_models_and_designs(tiny_models):
    with pytest.raises(ValueError, match="Expected a ConditionalGAN or Conditional"):
        cond.generate(keras.Sequential([keras.Input((2,))]), 5)
    with pytest.raises(ValueError, match=r"\(class, seed\) pair"):
        cond.interpolate(tiny_models["cvae"], "Sandal", ("Bag", 0))
    with pytest.raises(ValueError, match="Expected steps >= 2. Received: steps=1"):
        cond.interpolate(tiny_models["cvae"], steps=1)


def test_mismatched_networks_are_refused():
    with pytest.raises(ValueError, match="discriminator to take the generator's"):
        cond.ConditionalGAN(
            cond.build_conditional_generator(LATENT, num_classes=10),
            cond.build_conditional_discriminator(num_classes=3),
        )
    with pytest.raises(ValueError, match="same latent size"):
        cond.ConditionalVAE(
            cond.build_conditional_encoder(LATENT), cond.build_conditional_decoder(8)
        )
    with pytest.raises(ValueError, match=r"two inputs, \[noise, one_hot\]"):
        cond.ConditionalGAN(
            keras.Sequential([keras.Input((4,)), keras.layers.Dense(784)]),
            cond.build_conditional_discriminator(),
        )
    with pytest.raises(ValueError, match="Expected num_classes >= 2"):
        cond.build_conditional_generator(num_classes=1)


def test_fit_without_labels_says_how_to_fix(tiny_models):
    with pytest.raises(ValueError, match=r"model.fit\(images, labels"):
        tiny_models["cvae"].fit(
            np.zeros((16, 28, 28, 1), "float32"), batch_size=16, verbose=0
        )


def test_labelled_dataset_bad_inputs():
    images = np.zeros((8, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match=r"labels \(n,\)"):
        cond.labelled_dataset(images, np.zeros(7))
    with pytest.raises(ValueError, match="Expected batch_size <= 8"):
        cond.labelled_dataset(images, np.zeros(8), batch_size=9)


def test_shipped_designer_is_small_documented_and_as_good_as_its_card():
    folder = cond.DEFAULT_DESIGNER_DIR
    size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
    assert size <= 20 * 2**20
    model, card = cond.load_designer()
    assert card["command"].startswith("make pretrained")
    assert (
        card["kind"]
        == {"ConditionalGAN": "cgan", "ConditionalVAE": "cvae"}[type(model).__name__]
    )
    # Re-measure the card's last curve point: 200 images per class, seed 1, the
    # same images the tool scored. The classifier is retrained per machine, so
    # allow it a little room.
    from keras_gen.adherence import prompt_adherence

    images = cond.generate(model, range(10), n=200, seed=card["report_seed"])
    measured = prompt_adherence(images, np.repeat(np.arange(10), 200))["overall"]
    assert measured == pytest.approx(card["curve"][-1]["adherence"], abs=0.02)
    # The card's report: 1,000 images per class at the temperature the
    # designer is used at. The target is 90% there.
    overall = card["report"][-1]
    assert overall["class"] == "overall" and overall["adherence"] >= 0.90
    temperature = card["temperature"]
    assert [row["temperature"] for row in card["truncation"]].count(temperature) == 1
    images = cond.generate(
        model, range(10), n=1000, seed=card["report_seed"], temperature=temperature
    )
    measured = prompt_adherence(images, np.repeat(np.arange(10), 1000))["overall"]
    assert measured == pytest.approx(overall["adherence"], abs=0.01)
    assert measured >= 0.895


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 22: the shipped cVAE draws 85.9% of its images in the class "
    "asked for on the second judge (sandals 22.4%), under the 90% target; the "
    "12,000-step projection cGAN reached 86.2% there (pullovers 11.6%), so it "
    "was not shipped (benchmarks/RESULTS.md). Scored here on 200 images per "
    "class (seed 1, the card's temperature 0.8), a fifth of the card's 1,000: "
    "85.9% again (sandals 21.5%), while the first judge gives 92.0%",
)
def test_shipped_designer_passes_the_second_judge_too():
    """The 90% target on both judges; when a new designer passes, drop the xfail.

    200 images per class, not the card's 1,000: the second judge's 85.9% is
    4 points under the target there, 5 standard errors of a share measured on
    2,000 images. Each judge scores those 2,000 images; design_report on the
    card's 10,000 ran the first judge over 30,000 images (with the real ones of
    its Fréchet columns) and the second over 20,000. Its second-judge column is
    checked by test_adherence.
    """
    from keras_gen.adherence import prompt_adherence

    model, card = cond.load_designer()
    images = cond.generate(
        model,
        range(10),
        n=200,
        seed=card["report_seed"],
        temperature=card["temperature"],
    )
    requested = np.repeat(np.arange(10), 200)
    first = prompt_adherence(images, requested)["overall"]
    second = prompt_adherence(images, requested, judge="second")
    print(f"first judge {first:.4f}, second judge {second['overall']:.4f}, "
          f"per class {np.round(second['per_class'], 3).tolist()}")
    assert first >= 0.895  # the first judge, as the card says
    assert second["overall"] >= 0.90


@pytest.mark.parametrize("kind", ["cgan", "cvae"])
def test_same_seed_same_training(kind):
    images = np.random.default_rng(1).uniform(-1, 1, (64, 28, 28, 1))
    labels = np.arange(64) % 10
    samples = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        build = {"cgan": cond.build_conditional_gan, "cvae": cond.build_conditional_vae}
        model = build[kind](seed=0, jit_compile=False)
        model.run_eagerly = True  # 3 steps: tracing a graph would cost more
        dataset = cond.labelled_dataset(images, labels, batch_size=16, seed=0)
        model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)
        samples.append(cond.generate(model, [5, 7], n=2, seed=0))
    np.testing.assert_array_equal(samples[0], samples[1])


def test_save_designer_replaces_a_designer_folder(tiny_models, tmp_path):
    folder = cond.save_designer(tmp_path / "d", tiny_models["cvae"], {"steps": 1})
    cond.save_designer(folder, tiny_models["cgan"], {"steps": 2})
    model, card = cond.load_designer(folder)
    assert isinstance(model, cond.ConditionalGAN) and card["steps"] == 2
    assert sorted(os.listdir(tmp_path)) == ["d"]  # no staging or backup left


def test_projection_discriminator_scores_the_class_through_a_dot_product(tmp_path):
    keras.utils.set_random_seed(0)
    critic = cond.build_projection_discriminator(hidden_units=(16, 8))
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1))
    eye = np.eye(10, dtype="float32")
    # Two classes give two logits: the difference is the projection term,
    # <embed(a) - embed(b), h>, plus the concatenated class's effect.
    logits_a = critic.predict([images, eye[[5, 5, 5]]], verbose=0)
    logits_b = critic.predict([images, eye[[7, 7, 7]]], verbose=0)
    assert logits_a.shape == (3, 1) and not np.allclose(logits_a, logits_b)
    embedding = critic.get_layer("class_embedding")
    assert embedding.kernel.shape == (10, 8) and not embedding.use_bias
    # Zero the embedding: only the concatenated class is left (the plain
    # discriminator's logit, computed from the same layers).
    embedding.kernel.assign(np.zeros((10, 8), "float32"))
    hidden = keras.Model(critic.inputs, critic.get_layer("logit").output)
    np.testing.assert_allclose(
        critic.predict([images, eye[[5, 5, 5]]], verbose=0),
        hidden.predict([images, eye[[5, 5, 5]]], verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )
    # The shipped designer's kind: a cGAN with this discriminator saves and
    # loads as a designer folder and draws the same images.
    gan = cond.ConditionalGAN(cond.build_conditional_generator(LATENT), critic, seed=0)
    gan.compile(jit_compile=False)
    folder = cond.save_designer(tmp_path / "d", gan, {"kind": "cgan"})
    loaded, _ = cond.load_designer(folder)
    assert loaded.discriminator.name == "projection_discriminator"
    np.testing.assert_array_equal(
        cond.generate(loaded, [5], n=2, seed=0), cond.generate(gan, [5], n=2, seed=0)
    )
    with pytest.raises(ValueError, match="num_classes"):
        cond.build_projection_discriminator(num_classes=1)
