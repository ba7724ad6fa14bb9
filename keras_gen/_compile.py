"""Saving a model's optimizer with it, for models with a custom ``compile``.

Keras saves what ``compile`` was given only for its own signature; a model
whose ``compile`` takes other arguments (``jit_compile="auto"``, two
optimizers) says what to save here, so that a reloaded ``.keras`` file resumes
training with its optimizer's state (step count, moments) instead of a fresh
one.
"""

from __future__ import annotations

import keras


class OneOptimizerConfig:
    """``get_compile_config`` / ``compile_from_config`` for one ``optimizer``.

    Mixed into a ``keras.Model`` whose ``compile(optimizer=..., jit_compile=...)``
    fills ``self.optimizer``.
    """

    def get_compile_config(self):
        if not self.compiled:  # an uncompiled model saves without an optimizer
            return None
        return {
            "optimizer": keras.saving.serialize_keras_object(self.optimizer),
            "jit_compile": self.jit_compile,
        }

    def compile_from_config(self, config):
        self.compile(
            optimizer=keras.saving.deserialize_keras_object(config["optimizer"]),
            jit_compile=config["jit_compile"],
        )
        # Build the optimizer now so its saved state is restored, not skipped.
        self.optimizer.build(self.trainable_variables)


class TwoOptimizerConfig:
    """The same for a generator and a discriminator with an optimizer each.

    Mixed into a ``keras.Model`` with ``generator`` and ``discriminator``
    whose ``compile(d_optimizer=..., g_optimizer=..., jit_compile=...)`` fills
    ``self.d_optimizer`` and ``self.g_optimizer``.
    """

    def get_compile_config(self):
        if not self.compiled:  # an uncompiled model saves without optimizers
            return None
        return {
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "jit_compile": self.jit_compile,
        }

    def compile_from_config(self, config):
        self.compile(
            d_optimizer=keras.saving.deserialize_keras_object(config["d_optimizer"]),
            g_optimizer=keras.saving.deserialize_keras_object(config["g_optimizer"]),
            jit_compile=config["jit_compile"],
        )
        # Build the optimizers now so their saved state is restored too.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
