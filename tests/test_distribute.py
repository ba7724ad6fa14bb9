"""Data-parallel training gives the numbers one device gives, and JAX works too.

As in Keras' own distribution tests, the CPU is split into two logical devices
in a fresh subprocess (the split must happen before TensorFlow or JAX starts).
Each script trains the same tiny model twice - on one device, then on two
replicas at the same global batch - and prints the losses and final weights'
largest difference as JSON; the assertions live here.

The optimizer is plain SGD on purpose: Adam divides the gradient by its own
scale, so a gradient twice too large (the classic mistake of summing the
replicas' mean losses) would barely change Adam's steps, but it doubles SGD's.
"""

import json
import os
import subprocess
import sys

import pytest

# Observed differences are about 1e-7 (float32 sums in another order); a
# wrongly scaled gradient or duplicated noise moves them by 1e-3 or more.
TOLERANCE = 1e-5

_TRAINERS = r"""
import json, os
import keras
import numpy as np
from keras_gen import gan, vae
from keras_gen.training import compile_for_pretraining
from keras_gen.transformer import build_gpt

IMAGES = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
TOKENS = np.random.default_rng(1).integers(0, 10, (32, 9))
# XLA on JAX (its eager mode is slow to dispatch); plain graphs on TensorFlow.
JIT = keras.backend.backend() == "jax"


def train_gan():
    model = gan.GAN(gan.build_generator(4, (8, 8, 1)),
                    gan.build_discriminator((8, 8, 1)), seed=0)
    model.compile(d_optimizer=keras.optimizers.SGD(0.1),
                  g_optimizer=keras.optimizers.SGD(0.1), jit_compile=JIT)
    return model, model.fit(IMAGES, batch_size=16, epochs=2, shuffle=False,
                            verbose=0)


def train_vae():
    model = vae.VAE(vae.build_encoder(2, (8, 8, 1)),
                    vae.build_decoder(2, (8, 8, 1)), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.01), jit_compile=JIT)
    return model, model.fit(IMAGES, batch_size=16, epochs=2, shuffle=False,
                            verbose=0)


def train_gpt():
    model = build_gpt(10, 8, 16, 2, 1)
    compile_for_pretraining(model, keras.optimizers.SGD(0.5), jit_compile=JIT)
    return model, model.fit(TOKENS[:, :-1], TOKENS[:, 1:], batch_size=8,
                            epochs=2, shuffle=False, verbose=0)


def compare(train, scope_one, scope_two):
    runs = []
    for scope in (scope_one, scope_two):
        keras.utils.set_random_seed(0)
        with scope():
            model, history = train()
        weights = [np.asarray(keras.ops.convert_to_numpy(w))
                   for w in model.weights]
        runs.append((history.history, weights))
    (history_1, weights_1), (history_2, weights_2) = runs
    return {
        "one": history_1,
        "two": history_2,
        "weight_diff": max(float(np.max(np.abs(a - b)))
                           for a, b in zip(weights_1, weights_2)),
    }
"""

_MIRRORED = (
    r"""
import contextlib
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""
    + _TRAINERS
    + r"""
strategy = tf.distribute.MirroredStrategy(["CPU:0", "CPU:1"])
assert strategy.num_replicas_in_sync == 2
results = {name: compare(train, contextlib.nullcontext, strategy.scope)
           for name, train in
           [("gan", train_gan), ("vae", train_vae), ("gpt", train_gpt)]}
# jit_compile="auto" must not pick XLA under the strategy (it fails there).
with strategy.scope():
    dense_gan = gan.GAN(gan.build_generator(4, (8, 8, 1)),
                        gan.build_discriminator((8, 8, 1)))
    dense_gan.compile()
    dense_vae = vae.VAE(vae.build_encoder(2, (8, 8, 1)),
                        vae.build_decoder(2, (8, 8, 1)))
    dense_vae.compile()
results["auto_jit"] = [dense_gan.jit_compile, dense_vae.jit_compile]
print(json.dumps(results))
"""
)

_JAX = (
    r"""
import contextlib, tempfile
"""
    + _TRAINERS
    + r"""
assert keras.backend.backend() == "jax"
devices = keras.distribution.list_devices("cpu")
assert len(devices) == 2, devices


@contextlib.contextmanager
def data_parallel():
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices))
    try:
        yield
    finally:
        keras.distribution.set_distribution(None)


results = {name: compare(train, contextlib.nullcontext, data_parallel)
           for name, train in [("vae", train_vae), ("gpt", train_gpt)]}

# Smoke test: save and reload under JAX; the reloaded model keeps training.
reloaded = {}
with tempfile.TemporaryDirectory() as folder:
    for name, train in [("vae", train_vae), ("gpt", train_gpt)]:
        keras.utils.set_random_seed(0)
        model, _ = train()
        path = os.path.join(folder, name + ".keras")
        model.save(path)
        again = keras.models.load_model(path)  # safe_mode stays on
        inputs = IMAGES[:4] if name == "vae" else TOKENS[:4, :-1]
        same = np.allclose(keras.ops.convert_to_numpy(model(inputs)),
                           keras.ops.convert_to_numpy(again(inputs)), atol=1e-6)
        if name == "vae":
            history = again.fit(IMAGES, batch_size=16, epochs=1, verbose=0)
        else:
            history = again.fit(TOKENS[:, :-1], TOKENS[:, 1:], batch_size=8,
                                epochs=1, verbose=0)
        reloaded[name] = {"same_outputs": bool(same),
                          "loss_after_reload": history.history["loss"][-1]}
results["reloaded"] = reloaded
print(json.dumps(results))
"""
)


def _run(script, backend, extra_env=None):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(extra_env or {}),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _assert_same_training(result):
    assert result["weight_diff"] < TOLERANCE
    assert result["one"].keys() == result["two"].keys()
    for metric, values in result["one"].items():
        assert values == pytest.approx(result["two"][metric], abs=TOLERANCE), metric


def test_mirrored_strategy_matches_one_device():
    results = _run(_MIRRORED, "tensorflow")
    for name in ("gan", "vae", "gpt"):
        _assert_same_training(results[name])
    # The runs really trained (so equal numbers are not two untouched models).
    assert results["gan"]["one"]["d_loss"][0] != results["gan"]["one"]["d_loss"][1]
    assert results["gpt"]["one"]["loss"][1] < results["gpt"]["one"]["loss"][0]
    assert results["auto_jit"] == [False, False]


def test_jax_data_parallel_and_saving():
    results = _run(
        _JAX, "jax", {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    )
    for name in ("vae", "gpt"):
        _assert_same_training(results[name])
        assert results["reloaded"][name]["same_outputs"]
    assert results["gpt"]["one"]["loss"][1] < results["gpt"]["one"]["loss"][0]
