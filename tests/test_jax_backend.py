"""The GPT and the VAE on the JAX backend: DataParallel, saving, reloading.

In a fresh subprocess with KERAS_BACKEND=jax, XLA_FLAGS makes JAX see the CPU
as two host devices; keras.distribution.DataParallel on both must train as one
device does at the same global batch (distribute_scripts.TOLERANCE), and each
model must save, reload with identical outputs and keep training.
"""

from distribute_scripts import TRAINERS, assert_same_training, run_script

JAX_SCRIPT = (
    r"""
import contextlib, tempfile
"""
    + TRAINERS
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


def test_jax_data_parallel_and_saving():
    results = run_script(
        JAX_SCRIPT, "jax", {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    )
    for name in ("vae", "gpt"):
        assert_same_training(results[name])
        assert results["reloaded"][name]["same_outputs"]
    assert results["gpt"]["one"]["loss"][1] < results["gpt"]["one"]["loss"][0]
