"""keras_gen.diffusion and keras_gen.denoiser: schedules, training, DDIM, saving.

Tiny configs (8x8 images, T = 20) so that the whole file runs in seconds.
"""

import keras
import numpy as np
import pytest

from keras_gen.denoiser import SinusoidalEmbedding, build_denoiser
from keras_gen.diffusion import (
    MAX_BETA,
    DiffusionModel,
    NoiseSchedule,
    build_label_encoder,
)

T = 10
SHAPE = (8, 8, 1)
LABELS = np.array([0, 1, 2, 0, 1, 2])


def _tiny(condition_dim=4, seed=0, **kwargs):
    denoiser = build_denoiser(
        SHAPE,
        condition_dim=condition_dim,
        base_filters=8,
        channel_multipliers=(1, 2),
    )
    encoder = build_label_encoder(3, condition_dim) if condition_dim else None
    model = DiffusionModel(
        denoiser, condition_encoder=encoder, seed=seed, **{"timesteps": T, **kwargs}
    )
    # The last convolution starts at zero (an untrained model predicts 0 for
    # every input); random weights there and in the null condition make the
    # conditional and unconditional predictions differ, so the tests can fail.
    rng = np.random.default_rng(seed)
    for weight in denoiser.get_layer("prediction").weights:
        weight.assign(rng.normal(0, 0.1, weight.shape).astype("float32"))
    if condition_dim:
        null = rng.normal(0, 1, (condition_dim,)).astype("float32")
        model.null_condition.assign(null)
    return model


@pytest.fixture(scope="module")
def model():
    return _tiny()


def _toy_images(n=64, seed=0):
    """Three classes of 8x8 images: a bright square, bar or frame on black."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    images = -np.ones((n, *SHAPE), "float32")
    images[labels == 0, 2:6, 2:6] = 1.0
    images[labels == 1, :, 3:5] = 1.0
    images[labels == 2, 0, :] = images[labels == 2, -1, :] = 1.0
    images += rng.normal(0, 0.05, images.shape).astype("float32")
    return images, labels.astype("int32")


# -- schedules ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_schedule_is_monotone_from_clean_to_noise(kind):
    schedule = NoiseSchedule(kind, timesteps=1000)
    abar = schedule.alphas_cumprod
    assert abar.shape == (1000,)
    assert np.all(np.diff(abar) < 0)  # strictly decreasing
    assert abar[0] > 0.999 and 0 < abar[-1] < 1e-4
    assert np.all((schedule.betas > 0) & (schedule.betas <= MAX_BETA))
    np.testing.assert_allclose(np.cumprod(1 - schedule.betas), abar, rtol=1e-12)


def test_cosine_schedule_golden_values():
    abar = NoiseSchedule("cosine", 1000).alphas_cumprod
    # f(t) = cos((t/T + s)/(1 + s) * pi/2)^2 / f(0) at t = 500 (index 499).
    s = 0.008
    f = np.cos((np.array([0.0, 0.5]) + s) / (1 + s) * np.pi / 2) ** 2
    assert abar[499] == pytest.approx(f[1] / f[0], rel=1e-12)
    assert abar[-1] == pytest.approx(2.4288e-9, rel=1e-3)  # the beta cap at work


def test_q_sample_has_the_closed_form_statistics():
    schedule = NoiseSchedule("cosine", 1000)
    rng = np.random.default_rng(0)
    x0 = np.full((20_000, 1), 0.5)
    t = np.full((20_000,), 300)
    x_t = schedule.q_sample(x0, t, rng.standard_normal(x0.shape))
    abar = schedule.alphas_cumprod[300]
    assert x_t.mean() == pytest.approx(np.sqrt(abar) * 0.5, abs=0.02)
    assert x_t.std() == pytest.approx(np.sqrt(1 - abar), abs=0.02)


def test_ddim_timesteps_span_the_schedule():
    schedule = NoiseSchedule("cosine", T)
    assert schedule.ddim_timesteps(T).tolist() == list(range(T - 1, -1, -1))
    assert schedule.ddim_timesteps(1).tolist() == [T - 1]
    assert schedule.ddim_timesteps(3).tolist() == [9, 4, 0]  # 4.5 rounds to even


@pytest.mark.parametrize("prediction", ["v", "epsilon"])
def test_x0_and_eps_invert_the_forward_process(prediction):
    model = _tiny(prediction=prediction)
    rng = np.random.default_rng(1)
    x0, eps = rng.standard_normal((2, 3, *SHAPE))
    abar = model.schedule.alphas_cumprod[7]
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * eps
    if prediction == "v":
        target = np.sqrt(abar) * eps - np.sqrt(1 - abar) * x0
    else:
        target = eps
    got_x0, got_eps = model._x0_and_eps(x_t, target, abar)
    np.testing.assert_allclose(got_x0, x0, atol=1e-9)
    np.testing.assert_allclose(got_eps, eps, atol=1e-9)


# -- the denoiser -------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, patch, levels", [((28, 28, 1), 2, (1, 2, 2)), ((7, 7, 4), 1, (1, 2))]
)
def test_denoiser_keeps_any_shape(shape, patch, levels):
    denoiser = build_denoiser(
        shape, condition_dim=3, base_filters=8, channel_multipliers=levels,
        patch_size=patch,
    )
    out = denoiser([np.ones((2, *shape)), np.array([0.0, 5.0]), np.ones((2, 3))])
    assert tuple(out.shape) == (2, *shape)
    assert not np.any(keras.ops.convert_to_numpy(out))  # zero-initialised output


def test_sinusoidal_embedding_values():
    code = keras.ops.convert_to_numpy(SinusoidalEmbedding(4)(np.array([2.0])))
    expected = [np.sin(2.0), np.sin(2.0 / 100), np.cos(2.0), np.cos(2.0 / 100)]
    np.testing.assert_allclose(code[0], expected, rtol=1e-5)


# -- training -----------------------------------------------------------------


def _fixed_loss(model, images, labels):
    """The v-prediction loss on fixed timesteps and noise (no sampling noise)."""
    rng = np.random.default_rng(123)
    t = rng.integers(0, T, len(images))
    noise = rng.standard_normal(images.shape)
    abar = model.schedule.alphas_cumprod[t][:, None, None, None]
    noisy = (np.sqrt(abar) * images + np.sqrt(1 - abar) * noise).astype("float32")
    target = np.sqrt(abar) * noise - np.sqrt(1 - abar) * images
    predicted = keras.ops.convert_to_numpy(model([noisy, t, labels]))
    return float(np.mean((predicted - target) ** 2))


def test_fit_lowers_the_loss_on_a_toy_set():
    keras.utils.set_random_seed(0)
    model = _tiny(seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    images, labels = _toy_images()
    before = _fixed_loss(model, images, labels)
    history = model.fit(images, labels, batch_size=16, epochs=6, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    after = _fixed_loss(model, images, labels)
    assert after < 0.7 * before, (before, after, history.history["loss"])


# -- sampling -----------------------------------------------------------------


def test_ddim_with_every_step_is_deterministic_and_seeded(model):
    first = model.generate(LABELS, num_steps=T, eta=0.0, seed=1)
    again = model.generate(LABELS, num_steps=T, eta=0.0, seed=1)
    other = model.generate(LABELS, num_steps=T, eta=0.0, seed=2)
    assert first.shape == (len(LABELS), *SHAPE) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 1e-3
    # eta > 0 draws fresh noise at each step, from the same seed.
    noisy = model.generate(LABELS, num_steps=5, eta=1.0, seed=1)
    again = model.generate(LABELS, num_steps=5, eta=1.0, seed=1)
    np.testing.assert_array_equal(noisy, again)
    assert np.abs(noisy - model.generate(LABELS, num_steps=5, seed=1)).max() > 1e-3


def test_batch_size_does_not_change_the_samples(model):
    whole = model.generate(LABELS, num_steps=4, guidance_scale=2.0, eta=0.5, seed=3)
    pieces = model.generate(
        LABELS, num_steps=4, guidance_scale=2.0, eta=0.5, seed=3, batch_size=4
    )
    np.testing.assert_allclose(whole, pieces, atol=1e-5)


def test_guidance_scales_zero_and_one(model):
    rng = np.random.default_rng(0)
    noisy = rng.standard_normal((len(LABELS), *SHAPE)).astype("float32")
    encoded = model.encode_conditions(LABELS)
    times = np.full((len(LABELS),), 9.0, "float32")
    null = np.tile(keras.ops.convert_to_numpy(model.null_condition), (len(LABELS), 1))
    conditional = keras.ops.convert_to_numpy(model.denoiser([noisy, times, encoded]))
    unconditional = keras.ops.convert_to_numpy(model.denoiser([noisy, times, null]))
    assert np.abs(conditional - unconditional).max() > 1e-3
    guided = {
        w: model.guided_prediction(noisy, 9, encoded, w) for w in (0.0, 1.0, 3.0)
    }
    # Sampling runs the denoiser as a traced graph (predict_on_batch), whose
    # float rounding differs from the eager call's by ~1e-6.
    np.testing.assert_allclose(guided[0.0], unconditional, atol=1e-5)
    np.testing.assert_allclose(guided[1.0], conditional, atol=1e-5)
    np.testing.assert_allclose(
        guided[3.0], unconditional + 3.0 * (conditional - unconditional), atol=1e-5
    )
    # Whole samples: w = 0 ignores the prompt, it is the unconditional model.
    np.testing.assert_array_equal(
        model.generate(LABELS, num_steps=3, guidance_scale=0.0, seed=4),
        model.generate(n=len(LABELS), num_steps=3, seed=4),
    )
    assert np.abs(
        model.generate(LABELS, num_steps=3, guidance_scale=1.0, seed=4)
        - model.generate(n=len(LABELS), num_steps=3, seed=4)
    ).max() > 1e-3


def test_return_steps_gives_the_denoising_strip(model):
    samples, x0_steps = model.generate(LABELS[:2], num_steps=4, return_steps=True)
    assert x0_steps.shape == (4, 2, *SHAPE)
    # The last step lands on abar = 1: the sample is its own x0 estimate.
    np.testing.assert_allclose(samples, x0_steps[-1], atol=1e-6)


def test_clip_denoised_bounds_every_x0_estimate():
    model = _tiny(clip_denoised=0.5)
    _, x0_steps = model.generate(LABELS, num_steps=3, return_steps=True)
    assert np.abs(x0_steps).max() <= 0.5 + 1e-6


# -- saving -------------------------------------------------------------------


@pytest.mark.parametrize("condition_dim", [4, None])
def test_keras_round_trip_gives_identical_samples(tmp_path, condition_dim):
    model = _tiny(condition_dim=condition_dim, prediction="epsilon", clip_denoised=1.0)
    # Eager: tracing the train step costs ~10 s here, and the graph-mode
    # step is tested by test_fit_lowers_the_loss_on_a_toy_set.
    model.compile(run_eagerly=True)
    images, labels = _toy_images(16)  # one step: optimizer state to save
    y = labels if condition_dim else None
    model.fit(images, y, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "diffusion.keras"
    model.save(path)
    again = keras.models.load_model(path)  # safe_mode stays on
    assert isinstance(again, DiffusionModel)
    settings = (again.prediction, again.timesteps, again.clip_denoised)
    assert settings == ("epsilon", T, 1.0)
    conditions = LABELS if condition_dim else None
    n = None if condition_dim else 4
    np.testing.assert_array_equal(
        model.generate(conditions, n, num_steps=4, guidance_scale=2.5, seed=5),
        again.generate(conditions, n, num_steps=4, guidance_scale=2.5, seed=5),
    )
    # The optimizer state came back too, so training can resume.
    assert int(again.optimizer.iterations) == int(model.optimizer.iterations) == 1
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(again.optimizer.variables[-1]),
        keras.ops.convert_to_numpy(model.optimizer.variables[-1]),
    )


# -- bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_steps": 0}, "Expected num_steps >= 1. Received: num_steps=0"),
        ({"num_steps": T + 1}, f"Expected num_steps <= {T}"),
        ({"guidance_scale": float("nan")}, "Expected guidance_scale to be a finite"),
        ({"guidance_scale": -1.0}, "Expected guidance_scale >= 0.0"),
        ({"eta": 2.0}, "Expected eta <= 1.0"),
        ({"seed": -1}, "Expected seed >= 0"),
        ({"n": 5}, r"Expected n to equal len\(conditions\) \(6\)"),
    ],
)
def test_generate_refuses_bad_arguments(model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        model.generate(LABELS, **{"num_steps": 2, **kwargs})


@pytest.mark.parametrize(
    "conditions, message",
    [
        (np.array([0, 3]), r"Expected class labels in \[0, 2\]. Received: min 0, "),
        (np.array([-1]), r"Expected class labels in \[0, 2\]"),
        (np.array([0.5]), "Expected integer class labels"),
        (np.zeros((2, 4), "int32"), r"Expected conditions of shape \(batch,\)\. "
         r"Received: conditions.shape=\(2, 4\)"),
    ],
)
def test_generate_refuses_bad_conditions(model, conditions, message):
    with pytest.raises(ValueError, match=message):
        model.generate(conditions, num_steps=1)


@pytest.mark.parametrize(
    "conditions, received",
    [([], r"conditions=\[\]"), (np.zeros((0,), "int32"), r"conditions.shape=\(0,\)")],
)
def test_generate_refuses_no_conditions(model, conditions, received):
    # Once a dtype error (an empty list is float64), now a clear message.
    with pytest.raises(
        ValueError, match=rf"Expected at least one condition .* Received: {received}"
    ):
        model.generate(conditions, num_steps=1)
    denoiser = build_denoiser(
        SHAPE, condition_dim=4, base_filters=8, channel_multipliers=(1, 2)
    )
    vectors = DiffusionModel(denoiser, timesteps=T)  # conditions are vectors
    with pytest.raises(ValueError, match="Expected at least one condition"):
        vectors.generate([], num_steps=1)


def test_generate_needs_n_or_conditions(model):
    with pytest.raises(ValueError, match="Expected n .* when conditions is None"):
        model.generate(num_steps=1)
    unconditional = _tiny(condition_dim=None)
    with pytest.raises(ValueError, match="Expected no conditions"):
        unconditional.generate(LABELS, num_steps=1)


def test_fit_refuses_wrong_shapes(model):
    model.compile()
    images, labels = _toy_images(16)
    with pytest.raises(ValueError, match=r"Expected images of shape \(batch, 8, 8, 1"):
        model.fit(images[:, :4], labels, batch_size=8, verbose=0)
    with pytest.raises(ValueError, match=r"Expected conditions of shape \(batch,\)"):
        model.fit(images, np.zeros((16, 2), "int32"), batch_size=8, verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prediction": "x0"}, "Expected prediction to be one of"),
        ({"schedule": "quadratic"}, "Expected schedule to be one of"),
        ({"timesteps": 0}, "Expected timesteps >= 1"),
        ({"p_uncond": 1.5}, "Expected p_uncond <= 1.0"),
        ({"clip_denoised": 0.0}, "Expected clip_denoised > 0.0"),
    ],
)
def test_model_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tiny(**kwargs)


def test_model_refuses_mismatched_parts():
    denoiser = build_denoiser(SHAPE, condition_dim=4, base_filters=8,
                              channel_multipliers=(1,))
    with pytest.raises(ValueError, match=r"output \(batch, 4\).*Received: output "
                       r"shape \(None, 5\)"):
        DiffusionModel(denoiser, condition_encoder=build_label_encoder(3, 5))
    unconditional = build_denoiser(SHAPE, base_filters=8, channel_multipliers=(1,))
    with pytest.raises(ValueError, match="Expected a denoiser with a condition input"):
        DiffusionModel(unconditional, condition_encoder=build_label_encoder(3, 4))
    images = keras.Input(SHAPE)
    with pytest.raises(ValueError, match="Expected a denoiser with inputs"):
        DiffusionModel(keras.Model(images, images))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (8, 8)}, "Expected image_shape to be"),
        ({"condition_dim": 0}, "Expected condition_dim >= 1"),
        ({"channel_multipliers": ()}, "Expected channel_multipliers to be"),
        ({"patch_size": 0}, "Expected patch_size >= 1"),
        ({"base_filters": 0}, "Expected base_filters >= 1"),
    ],
)
def test_build_denoiser_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_denoiser(**{"input_shape": SHAPE, **kwargs})


def test_q_sample_refuses_bad_timesteps():
    schedule = NoiseSchedule("linear", T)
    with pytest.raises(ValueError, match=r"Expected timesteps in \[0, 9\]"):
        schedule.q_sample(np.zeros((1, 2)), np.array([T]), np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"Expected integer timesteps of shape \(1,\)"):
        schedule.q_sample(np.zeros((1, 2)), np.array([0.5]), np.zeros((1, 2)))
