import math

import keras
import numpy as np
import pytest

from keras_gen import metrics, vae


def _fixed_vae(beta=1.0):
    """A VAE whose weights are all zero but the biases: its loss is exact."""
    images = keras.Input(shape=(1, 2, 1))
    flat = keras.layers.Flatten()(images)
    heads = [
        keras.layers.Dense(1, kernel_initializer="zeros", name=name)(flat)
        for name in ("z_mean", "z_log_var")
    ]
    encoder = keras.Model(images, heads)
    encoder.get_layer("z_mean").bias.assign([0.5])
    encoder.get_layer("z_log_var").bias.assign([math.log(0.25)])
    decoder = keras.Sequential(
        [
            keras.Input(shape=(1,)),
            keras.layers.Dense(2, kernel_initializer="zeros", name="logits"),
            keras.layers.Reshape((1, 2, 1)),
        ]
    )
    decoder.get_layer("logits").bias.assign([1.0, -2.0])
    return vae.VAE(encoder, decoder, beta=beta, seed=0)


def _softplus(x):
    return math.log1p(math.exp(x))


def test_loss_matches_a_hand_computed_tiny_case():
    model = _fixed_vae()
    images = np.array([[[[-1.0], [0.5]]]], "float32")  # pixels -> t = 0, 0.75
    # Bernoulli: sum of softplus(l) - t*l with logits 1 and -2.
    reconstruction = (_softplus(1.0) - 0.0) + (_softplus(-2.0) - 0.75 * -2.0)
    # KL of N(0.5, 0.25) from N(0, 1): 0.5 * (var + mean^2 - 1 - log var).
    kl = 0.5 * (0.25 + 0.25 - 1.0 - math.log(0.25))
    assert reconstruction == pytest.approx(2.9401897, abs=1e-6)
    assert kl == pytest.approx(0.4431472, abs=1e-6)
    terms = model.elbo_terms(images)
    assert terms["reconstruction"][0] == pytest.approx(reconstruction, rel=1e-5)
    assert terms["kl"][0] == pytest.approx(kl, rel=1e-5)
    assert metrics.evaluate_elbo(model, np.repeat(images, 3, 0)) == pytest.approx(
        reconstruction + kl, rel=1e-5
    )
    model.compile(jit_compile=False)
    model.run_eagerly = True  # one batch: no graph
    result = model.evaluate(images, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(reconstruction + kl, rel=1e-5)


def test_beta_weights_kl_in_training_but_not_in_the_reported_loss():
    # With beta = 0 the KL heads get no gradient: z_log_var's bias stays put.
    model = _fixed_vae(beta=0.0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    model.run_eagerly = True  # one step: no graph
    images = np.array([[[[-1.0], [0.5]]]] * 4, "float32")
    history = model.fit(images, batch_size=4, epochs=1, verbose=0).history
    bias = model.encoder.get_layer("z_log_var").bias.numpy()
    np.testing.assert_allclose(bias, [math.log(0.25)], rtol=1e-6)
    assert history["loss"][0] == pytest.approx(
        history["reconstruction"][0] + history["kl"][0], rel=1e-5
    )


def test_helpers_by_hand():
    np.testing.assert_allclose(
        vae.reconstruction_nats(np.array([[1.0, -1.0]]), np.array([[0.0, 0.0]])),
        [2 * math.log(2)],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        vae.kl_nats(np.zeros((2, 3)), np.zeros((2, 3))), [0.0, 0.0], atol=1e-7
    )


def test_sampling_is_the_reparameterisation():
    z_mean = np.array([[1.0, -2.0]], "float32")
    z_log_var = np.array([[math.log(4.0), 0.0]], "float32")
    noise = np.array([[0.5, -1.0]], "float32")
    z = vae.Sampling()([z_mean, z_log_var], noise=noise)
    np.testing.assert_allclose(z, [[1.0 + 2.0 * 0.5, -2.0 - 1.0]], rtol=1e-6)
    draws = vae.Sampling(seed=1)([np.zeros((4000, 1)), np.zeros((4000, 1))])
    assert abs(float(np.mean(draws))) < 0.1
    assert float(np.std(draws)) == pytest.approx(1.0, abs=0.1)


def test_builders_shapes_and_counts():
    assert vae.build_encoder(2).count_params() == 1_460_996
    assert vae.build_decoder(100).count_params() == 1_486_352  # the article's
    encoder = vae.build_conv_encoder(8, image_shape=(8, 12, 1))
    z_mean, z_log_var = encoder(np.zeros((3, 8, 12, 1)))
    assert tuple(z_mean.shape) == tuple(z_log_var.shape) == (3, 8)
    decoder = vae.build_conv_decoder(8, image_shape=(8, 12, 1))
    assert tuple(decoder(np.zeros((3, 8))).shape) == (3, 8, 12, 1)


def _train_tiny(conv=False):
    keras.utils.set_random_seed(0)
    shape = (8, 8, 1)
    if conv:
        pair = vae.build_conv_encoder(4, shape, 4), vae.build_conv_decoder(4, shape, 4)
    else:
        pair = vae.build_encoder(4, shape), vae.build_decoder(4, shape)
    model = vae.VAE(*pair, beta=0.5, seed=3)
    model.compile()
    # 4 steps: the conv model runs them eagerly (no graph to trace); the dense
    # one keeps "auto"'s XLA, the compiled train step's only test here.
    model.run_eagerly = conv
    images = np.random.default_rng(0).uniform(-1, 1, (64, *shape)).astype("float32")
    model.fit(images, batch_size=32, epochs=2, verbose=0)
    return model, images


@pytest.fixture(scope="module")
def tiny_dense():
    """The dense tiny VAE, trained once (XLA, 4 steps) for the tests that read it."""
    return _train_tiny(conv=False)


@pytest.mark.parametrize("conv", [False, True])
def test_save_and_load_round_trip(tmp_path, conv, request):
    model, images = _train_tiny(conv) if conv else request.getfixturevalue("tiny_dense")
    assert model.jit_compile is (not conv)
    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = keras.models.load_model(path)  # safe_mode stays on
    assert isinstance(loaded, vae.VAE)
    assert (loaded.beta, loaded.seed, loaded.latent_dim) == (0.5, 3, 4)
    np.testing.assert_array_equal(loaded.generate(5, seed=2), model.generate(5, seed=2))
    np.testing.assert_array_equal(loaded.encode(images), model.encode(images))
    assert metrics.evaluate_elbo(loaded, images) == metrics.evaluate_elbo(model, images)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 4
    assert loaded.jit_compile is model.jit_compile  # the XLA choice is kept
    # Training resumes from the loaded optimizer: 2 steps, run eagerly, so that
    # the loaded model needs no second XLA compile or graph trace.
    loaded.run_eagerly = True
    loaded.fit(images, batch_size=32, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == 6


def test_outputs_are_images_in_range(tiny_dense):
    model, images = tiny_dense
    samples = model.generate(6, seed=0)
    assert samples.shape == (6, 8, 8, 1) and np.abs(samples).max() <= 1.0
    np.testing.assert_array_equal(samples, model.generate(6, seed=0))
    assert not np.array_equal(samples, model.generate(6, seed=1))
    reconstructed = keras.ops.convert_to_numpy(model(images[:3]))
    np.testing.assert_allclose(
        reconstructed, model.decode(model.encode(images[:3])), atol=1e-5
    )


def test_bad_inputs():
    encoder, decoder = vae.build_encoder(2, (8, 8, 1)), vae.build_decoder(2, (8, 8, 1))
    with pytest.raises(ValueError, match=r"Expected beta >= 0. Received: beta=-1"):
        vae.VAE(encoder, decoder, beta=-1)
    with pytest.raises(ValueError, match="encoder latent size 3"):
        vae.VAE(vae.build_encoder(3, (8, 8, 1)), decoder)
    with pytest.raises(ValueError, match=r"decoder output shape \(4, 4, 1\)"):
        vae.VAE(encoder, vae.build_decoder(2, (4, 4, 1)))
    with pytest.raises(ValueError, match=r"divisible by 4 \(two stride-2 steps\)"):
        vae.build_conv_encoder(image_shape=(30, 28, 1))
    with pytest.raises(ValueError, match="Expected latent_dim >= 1"):
        vae.build_decoder(0)
    model = vae.VAE(encoder, decoder)
    model.compile()
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8, 1\). Received"):
        model.fit(np.zeros((4, 28, 28, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"latents of shape \(n, 2\)"):
        model.decode(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"Expected images of shape \(n, 8, 8, 1\)"):
        metrics.evaluate_elbo(model, np.zeros((3, 28, 28, 1)))
    with pytest.raises(
        ValueError, match=r"in \[-1, 1\].*Received: images in \[0, 255\]"
    ):
        metrics.evaluate_elbo(model, np.linspace(0, 255, 192).reshape(3, 8, 8, 1))


def test_hidden_units_set_the_widths_and_bad_ones_are_refused():
    encoder = vae.build_encoder(4, hidden_units=(64, 64))  # repeated: numbered
    assert [layer.units for layer in encoder.layers if hasattr(layer, "units")] == [
        64,
        64,
        4,
        4,
    ]
    decoder = vae.build_decoder(4, hidden_units=(32,))
    assert decoder.count_params() == 4 * 32 + 32 + 32 * 784 + 784
    with pytest.raises(ValueError, match="Expected hidden_units to be a sequence"):
        vae.build_decoder(4, hidden_units=128)
    with pytest.raises(ValueError, match="Expected at least one hidden layer"):
        vae.build_encoder(4, hidden_units=())
    with pytest.raises(ValueError, match=r"Expected hidden_units\[i\] >= 1"):
        vae.build_encoder(4, hidden_units=(8, 0))
