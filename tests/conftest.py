import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from keras_gen import data  # noqa: E402


@pytest.fixture(scope="session")
def fashion_test():
    """Fashion-MNIST's test split; `make test` guarantees it is on disk."""
    try:
        return data.load_images("fashion_mnist", "test", download=False)
    except data.DataNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Fashion-MNIST not found (run `make data`): {error}")
