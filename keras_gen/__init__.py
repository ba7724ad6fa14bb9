"""keras_gen: Keras 3 model builders and helpers for the "Gen AI vs LLM" notebooks.

Importing the package is cheap: TensorFlow and Keras load only when a module
that needs them (``keras_gen.gan``, ``keras_gen.data`` ...) is imported.

Example:
    >>> from keras_gen.gan import build_generator
    >>> build_generator().count_params()
    1486352
"""

import warnings

__version__ = "0.1.0"

# Keras' fit(dataset) warns that its shuffle=True default is ignored for a
# tf.data.Dataset. Every dataset keras_gen builds shuffles itself, so for
# learners the warning only confuses; this filter silences that one message.
warnings.filterwarnings(
    "ignore", message="`shuffle=True` was passed", category=UserWarning
)
