"""MirroredStrategy on two replicas trains the GAN, VAE and GPT as one device does.

As in Keras' own distribution tests, the CPU is split into two logical devices
in a fresh subprocess (the split must happen before TensorFlow starts); the
script is in distribute_scripts.py. Tolerance: distribute_scripts.TOLERANCE.
"""

from distribute_scripts import MIRRORED, assert_same_training, run_script


def test_mirrored_strategy_matches_one_device():
    results = run_script(MIRRORED, "tensorflow")
    for name in ("gan", "vae", "gpt"):
        assert_same_training(results[name])
    # The runs really trained (so equal numbers are not two untouched models).
    assert results["gan"]["one"]["d_loss"][0] != results["gan"]["one"]["d_loss"][1]
    assert results["gpt"]["one"]["loss"][1] < results["gpt"]["one"]["loss"][0]
    assert results["auto_jit"] == [False, False]
