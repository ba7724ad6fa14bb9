"""Shared by test_distribute.py and test_jax_backend.py (two files, so that
`make test`'s two workers run them at the same time).

Each script trains the same tiny model twice - on one device, then on two
replicas at the same global batch - and prints the losses and final weights'
largest difference as JSON; the assertions live in the test files.

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

TRAINERS = r"""
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


# The one-device model of each compare(), by trainer: a script that also
# saves and reloads a model takes it from here instead of training it again.
ONE_DEVICE = {}


def compare(train, scope_one, scope_two):
    runs = []
    for scope in (scope_one, scope_two):
        keras.utils.set_random_seed(0)
        with scope():
            model, history = train()
        if not runs:
            ONE_DEVICE[train.__name__] = model
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

MIRRORED = (
    r"""
import contextlib
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""
    + TRAINERS
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


def run_script(script, backend, extra_env=None, timeout=600):
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
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_same_training(result):
    assert result["weight_diff"] < TOLERANCE
    assert result["one"].keys() == result["two"].keys()
    for metric, values in result["one"].items():
        assert values == pytest.approx(result["two"][metric], abs=TOLERANCE), metric
