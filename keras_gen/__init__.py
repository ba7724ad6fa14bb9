"""keras_gen: Keras 3 model builders and helpers for the "Gen AI vs LLM" notebooks.

Importing the package is cheap: TensorFlow and Keras load only when a module
that needs them (``keras_gen.gan``, ``keras_gen.data`` ...) is imported.

Example:
    >>> from keras_gen.gan import build_generator
    >>> build_generator().count_params()
    1486352
"""

__version__ = "0.1.0"
