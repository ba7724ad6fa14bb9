"""Rebuilding a Keras object whose constructor takes other Keras objects.

A GAN is built from a generator and a discriminator, a VAE from an encoder and
a decoder: ``get_config`` stores each of them with
``keras.saving.serialize_keras_object``, and ``from_config`` must turn those
entries back into objects before calling the constructor. A class lists the
entries in ``NESTED`` and inherits :meth:`NestedConfig.from_config`; entries
that are ``None`` (an optional part) stay ``None``.
"""

from __future__ import annotations

import keras


class NestedConfig:
    """Mixin: ``from_config`` deserialises the ``NESTED`` entries first.

    Put it before the Keras base class (``class GAN(NestedConfig, keras.Model)``)
    so that its ``from_config`` is the one found.
    """

    NESTED: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.NESTED:
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
