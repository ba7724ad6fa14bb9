"""What the image models' training steps share: XLA choice, noise, scaling, loss.

The GANs (:mod:`keras_gen.gan`, :mod:`keras_gen.conditional`), the VAEs
(:mod:`keras_gen.vae`, :mod:`keras_gen.conditional`) and the diffusion model
(:mod:`keras_gen.diffusion`) train with the same few pieces:

- :func:`xla_by_default`: what their ``jit_compile="auto"`` means;
- :func:`training_noise`: fast, seeded standard-normal noise inside a step;
- :func:`per_replica`: a loss scaled for ``tf.distribute`` before gradients;
- :func:`bce_with_logits`: the GAN losses, written so they never take log(0).

This module is private (its name starts with ``_``): learners call the
models, which call these. It imports no public module of the package.
"""

from __future__ import annotations

import keras
from keras import ops


def has_convolutions(*models) -> bool:
    """Whether any of ``models`` has a convolution layer (``Conv2D`` ...).

    Example:
        >>> dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> has_convolutions(dense)
        False
    """
    return any(
        "Conv" in type(layer).__name__ for model in models for layer in model.layers
    )


def xla_by_default(*models) -> bool:
    """What ``jit_compile="auto"`` means for the GANs and the VAEs.

    XLA on for dense networks, off for convolutional ones (measured on CPU,
    see :meth:`keras_gen.gan.GAN.compile`), and off under a ``tf.distribute``
    strategy with several replicas: there Keras' XLA-compiled step fails with
    "Trying to access resource ... located in device ...:1 from device ...:0"
    (TensorFlow 2.21, ``tests/test_distribute.py``'s setting).

    Example:
        >>> dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        >>> xla_by_default(dense)
        True
    """
    if has_convolutions(*models):
        return False
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if tf.distribute.get_strategy().num_replicas_in_sync > 1:
            return False
    return True


def training_noise(shape, seed_generator):
    """Standard-normal noise for a train step, seeded from a SeedGenerator.

    On TensorFlow it calls TensorFlow directly: inside an XLA-compiled step on
    CPU (TF 2.21), ``keras.random.normal`` picks the "auto_select" RNG, which
    compiles to a kernel about 12x slower than Philox (6 ms against 0.5 ms for
    128x100 draws, measured in benchmarks/RESULTS.md) - a third of the whole
    GAN step. Other backends (JAX) use ``keras.random.normal``.

    Under a ``tf.distribute`` strategy every replica draws the noise of the
    whole global batch from the shared seed and keeps its own rows, so N
    replicas see exactly the noise one device would at the same global batch
    (and never the same noise twice).

    Args:
        shape: The noise's shape, ``(batch, ...)``.
        seed_generator: A ``keras.random.SeedGenerator``; each call advances it.

    Returns:
        A float32 tensor of ``shape``.

    Example:
        >>> noise = training_noise((2, 3), keras.random.SeedGenerator(0))
        >>> tuple(noise.shape)
        (2, 3)
    """
    if keras.backend.backend() != "tensorflow":
        return keras.random.normal(shape, seed=seed_generator)

    import tensorflow as tf

    seed = ops.cast(seed_generator.next(), "int32")
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context is not None else 1
    if replicas == 1:
        return tf.random.stateless_normal(shape, seed=seed, alg="philox")
    rows = shape[0]
    noise = tf.random.stateless_normal(
        (rows * replicas, *shape[1:]), seed=seed, alg="philox"
    )  # (global_batch, ...)
    start = rows * ops.cast(context.replica_id_in_sync_group, "int32")
    return noise[start : start + rows]  # (batch, ...) of this replica


def per_replica(loss):
    """Divide a loss by the number of replicas before taking gradients.

    Under ``tf.distribute.MirroredStrategy`` each replica computes the mean
    over its share of the batch, and Keras' optimizer then *sums* the
    replicas' gradients. Dividing by the replica count makes that sum the
    gradient of the mean over the global batch, as Keras' built-in losses do.
    Without a strategy (one replica) and on other backends it is the identity.

    Example:
        >>> float(per_replica(2.0))  # one replica: unchanged
        2.0
    """
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss / replicas


def bce_with_logits(logits, target_is_real: bool):
    """Binary cross-entropy of logits against "all real" or "all fake", batch mean.

    Written with softplus, which never computes ``log(sigmoid(x))`` directly
    and so never takes ``log(0)``::

        -log(sigmoid(x)) = softplus(-x),   -log(1 - sigmoid(x)) = softplus(x)

    Args:
        logits: Discriminator logits ``(batch, 1)``.
        target_is_real: ``True``: the target is 1 (real); ``False``: 0 (fake).

    Returns:
        A scalar tensor.

    Example:
        >>> round(float(bce_with_logits(ops.zeros((4, 1)), True)), 4)  # log 2
        0.6931
    """
    return ops.mean(ops.softplus(-logits if target_is_real else logits))
