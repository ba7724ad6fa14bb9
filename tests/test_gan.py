import keras
import numpy as np
import pytest

from keras_gen import gan


def test_article_generator_parameter_count_and_layers():
    generator = gan.build_generator()
    assert generator.count_params() == 1_486_352
    dense = [
        layer for layer in generator.layers if isinstance(layer, keras.layers.Dense)
    ]
    assert [layer.units for layer in dense] == [256, 512, 1024, 784]
    assert dense[-1].activation.__name__ == "tanh"
    leaky = [x for x in generator.layers if isinstance(x, keras.layers.LeakyReLU)]
    assert [layer.negative_slope for layer in leaky] == [pytest.approx(0.2)] * 3


def test_generator_output_shape_and_range():
    # Huge latent vectors drive the last layer far past [-1, 1] before its
    # activation: only a tanh brings every pixel back, close to +-1.
    latents = 1e4 * np.random.default_rng(0).normal(size=(5, 8))
    images = gan.build_generator(latent_dim=8, image_shape=(4, 6, 3))(latents)
    assert tuple(images.shape) == (5, 4, 6, 3)
    pixels = np.abs(keras.ops.convert_to_numpy(images))
    assert pixels.max() <= 1.0
    assert np.median(pixels) > 0.9  # saturated: the values were clipped by tanh


def test_gan_refuses_a_discriminator_for_other_images():
    generator = gan.build_generator(latent_dim=8, image_shape=(28, 28, 1))
    discriminator = gan.build_discriminator(image_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="discriminator to take the generator's"):
        gan.GAN(generator, discriminator)


def test_discriminator_counts_and_logit_shape():
    discriminator = gan.build_discriminator()
    assert discriminator.count_params() == 533_505
    assert tuple(discriminator(np.zeros((3, 28, 28, 1))).shape) == (3, 1)


def test_dcgan_pair_shapes():
    generator = gan.build_dcgan_generator(latent_dim=16, image_shape=(8, 12, 2))
    assert tuple(generator(np.zeros((2, 16))).shape) == (2, 8, 12, 2)
    discriminator = gan.build_dcgan_discriminator(image_shape=(8, 12, 2))
    assert tuple(discriminator(np.zeros((2, 8, 12, 2))).shape) == (2, 1)


@pytest.mark.parametrize("latent_dim", [0, -3])
def test_bad_latent_dim(latent_dim):
    with pytest.raises(
        ValueError, match=f"Expected latent_dim >= 1. Received: latent_dim={latent_dim}"
    ):
        gan.build_generator(latent_dim=latent_dim)


@pytest.mark.parametrize("latent_dim", [2.5, "100", True, None])
def test_non_int_latent_dim(latent_dim):
    message = "Expected latent_dim to be an int. Received: latent_dim="
    with pytest.raises(ValueError, match=message):
        gan.build_generator(latent_dim=latent_dim)


@pytest.mark.parametrize(
    "shape", [(28, 28), (28, -1, 1), (28, 28.0, 1), "28x28", (0, 28, 1)]
)
def test_bad_image_shape(shape):
    for builder in (gan.build_generator, gan.build_dcgan_generator):
        with pytest.raises(ValueError, match="Received: image_shape="):
            builder(image_shape=shape)
    with pytest.raises(ValueError, match="Received: image_shape="):
        gan.build_discriminator(image_shape=shape)


def test_dcgan_needs_sizes_divisible_by_4():
    with pytest.raises(
        ValueError,
        match=r"divisible by 4 \(two 2x upsamplings\). "
        r"Received: image_shape=\(30, 28, 1\)",
    ):
        gan.build_dcgan_generator(image_shape=(30, 28, 1))


def test_latent_vectors_are_reproducible():
    np.testing.assert_array_equal(
        gan.latent_vectors(4, 10, seed=1), gan.latent_vectors(4, 10, seed=1)
    )
    assert not np.array_equal(
        gan.latent_vectors(4, 10, seed=1), gan.latent_vectors(4, 10, seed=2)
    )
    with pytest.raises(ValueError, match="Received: n=0"):
        gan.latent_vectors(0)


def _tiny_gan(seed=0, jit_compile=False):
    # XLA compiles each train step for 6-11 s and tracing a graph takes 2-5 s;
    # both pay only on long runs. The "auto" default (XLA for these dense
    # networks) trains in test_gan_trains_and_reports_its_metrics; the others
    # train a few steps, op by op.
    keras.utils.set_random_seed(seed)
    model = gan.GAN(
        gan.build_generator(latent_dim=8, image_shape=(4, 4, 1)),
        gan.build_discriminator(image_shape=(4, 4, 1)),
        seed=seed,
    )
    model.compile(jit_compile=jit_compile, run_eagerly=jit_compile is False)
    return model


def _tiny_images():
    return np.random.default_rng(0).uniform(-1, 1, (64, 4, 4, 1)).astype("float32")


def test_gan_trains_and_reports_its_metrics():
    model = _tiny_gan(jit_compile="auto")
    assert model.jit_compile is True  # the train step runs under XLA here
    history = model.fit(_tiny_images(), batch_size=16, epochs=2, verbose=0)
    assert sorted(history.history) == ["d_fake", "d_loss", "d_real", "g_loss"]
    for values in history.history.values():
        assert len(values) == 2 and np.all(np.isfinite(values))
    assert 0.0 < history.history["d_real"][-1] < 1.0


def test_same_seed_gives_same_samples_after_training():
    samples = []
    for _ in range(2):
        model = _tiny_gan(seed=7)
        model.fit(_tiny_images(), batch_size=16, epochs=2, verbose=0, shuffle=False)
        samples.append(model.generate(6, seed=3))
    np.testing.assert_array_equal(samples[0], samples[1])


def test_wrong_batch_shape_is_refused():
    model = _tiny_gan()
    with pytest.raises(
        ValueError,
        match=r"Expected images of shape \(batch, 4, 4, 1\). "
        r"Received: images.shape=\(16, 5, 5, 1\)",
    ):
        model.fit(
            np.zeros((32, 5, 5, 1), "float32"), batch_size=16, epochs=1, verbose=0
        )


def test_latent_dim_must_match_generator():
    with pytest.raises(
        ValueError, match="match the generator's input size 8. Received: latent_dim=9"
    ):
        gan.GAN(
            gan.build_generator(latent_dim=8), gan.build_discriminator(), latent_dim=9
        )


def test_config_round_trip():
    model = _tiny_gan()
    clone = gan.GAN.from_config(model.get_config())
    assert clone.latent_dim == 8 and clone.seed == 0
    assert clone.generator.count_params() == model.generator.count_params()


def test_generator_save_and_load_give_identical_outputs(tmp_path):
    generator = gan.build_generator()
    path = tmp_path / "generator.keras"
    generator.save(path)
    reloaded = keras.models.load_model(path)  # safe_mode stays on
    z = gan.latent_vectors(4, 100, seed=0)
    np.testing.assert_array_equal(
        generator.predict(z, verbose=0), reloaded.predict(z, verbose=0)
    )


def test_gan_save_and_load_give_identical_samples(tmp_path):
    model = _tiny_gan()
    model.fit(_tiny_images(), batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, gan.GAN)
    np.testing.assert_array_equal(
        model.generate(5, seed=1), reloaded.generate(5, seed=1)
    )


def test_sample_grid_records_fixed_latents_each_epoch(tmp_path):
    model = _tiny_gan()
    callback = gan.SampleGrid(gan.latent_vectors(4, 8), out_dir=tmp_path)
    model.fit(_tiny_images(), batch_size=16, epochs=2, verbose=0, callbacks=[callback])
    assert sorted(callback.grids) == [0, 1, 2]
    assert callback.grids[2].shape == (4, 4, 4, 1)
    assert not np.array_equal(callback.grids[0], callback.grids[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "samples_epoch_000.png",
        "samples_epoch_001.png",
        "samples_epoch_002.png",
    ]
    with pytest.raises(ValueError, match="Received: every=0"):
        gan.SampleGrid(gan.latent_vectors(4, 8), every=0)


def test_reloaded_gan_keeps_its_optimizers_and_can_resume(tmp_path):
    model = _tiny_gan()
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
        jit_compile=False,
        run_eagerly=True,
    )
    model.fit(_tiny_images(), batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert float(reloaded.g_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(reloaded.d_optimizer.learning_rate) == pytest.approx(2e-4)
    assert (
        int(reloaded.g_optimizer.iterations) == int(model.g_optimizer.iterations) == 4
    )
    reloaded.run_eagerly = True  # 4 steps: no graph
    reloaded.fit(_tiny_images(), batch_size=16, epochs=1, verbose=0)
    assert int(reloaded.g_optimizer.iterations) == 8  # resumed, not restarted


def test_xla_is_chosen_for_dense_and_not_for_convolutional_gans():
    dense = gan.GAN(gan.build_generator(), gan.build_discriminator())
    dense.compile()
    assert dense.jit_compile is True
    conv = gan.GAN(gan.build_dcgan_generator(), gan.build_dcgan_discriminator())
    conv.compile()
    assert conv.jit_compile is False
    conv.compile(jit_compile=True)
    assert conv.jit_compile is True


def test_generator_layer_names_say_what_they_are():
    names = [layer.name for layer in gan.build_generator().layers]
    assert names[0] == "dense_256" and names[-2:] == ["to_pixels", "to_image"]


def _imported_names(module: str) -> list:
    """``(module, name)`` for every ``from keras_gen... import name`` in a module."""
    import ast
    import pathlib

    import keras_gen

    path = pathlib.Path(keras_gen.__file__).with_name(f"{module}.py")
    return [
        (node.module, alias.name)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("keras_gen")
        for alias in node.names
    ]


IMAGE_MODULES = ("gan", "vae", "conditional", "diffusion", "latents", "denoiser")


@pytest.mark.parametrize("module", IMAGE_MODULES)
def test_image_modules_import_no_private_name_of_another_module(module):
    # Private *modules* (keras_gen._checks) are fine; private *names* are not.
    for source, name in _imported_names(module):
        private_module = source == "keras_gen" and name.startswith("_")
        assert private_module or not name.startswith("_"), (source, name)


def test_the_shared_training_step_module_imports_no_public_module():
    for source, name in _imported_names("_train_step"):
        assert source.startswith("keras_gen._") or name.startswith("_"), (source, name)
