"""Image data sets, found offline first and checked byte for byte.

``load_images`` returns Fashion-MNIST or MNIST as float32 arrays in [-1, 1]
(the range of the generator's ``tanh``), shape ``(n, 28, 28, 1)``.

Where the files are looked for, in this order:

1. ``data_dir=...`` if given, else the directory in ``$KERAS_GEN_DATA``.
   When either is set it is the *only* place used: if it does not exist, is
   a file, or lacks a file, loading fails and says so, rather than quietly
   using another copy;
2. Debian's package ``dataset-fashion-mnist``: ``/usr/share/datasets/fashion-mnist``
   (Fashion-MNIST only; ``make`` installs it with apt when run as root);
3. the Keras dataset cache, ``$KERAS_HOME/datasets`` (default
   ``~/.keras/datasets``), where ``keras.datasets.*.load_data()`` puts them;
4. a download through ``keras.utils.get_file`` into that cache, only when
   ``download=True`` (the default unless ``$KERAS_GEN_OFFLINE`` is set).

Every file is checked against the SHA-256 of its decompressed bytes
(``_FASHION_FILES`` below: the files Zalando Research publishes at
https://github.com/zalandoresearch/fashion-mnist, the same bytes in Debian's
and Keras' ``.gz`` copies; see ``data/README.md``) before a single byte is
parsed, so a corrupt or truncated file raises instead of giving half a data set.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_gen import _checks
from keras_gen._files import FileFormatError, read_verified

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
DATA_ENV_VAR = "KERAS_GEN_DATA"
OFFLINE_ENV_VAR = "KERAS_GEN_OFFLINE"

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MNIST_CLASSES = tuple(str(d) for d in range(10))

# SHA-256 of the decompressed IDX files (Fashion-MNIST) and of mnist.npz as Keras
# pins it. Checking decompressed bytes makes Debian's .gz and Keras' .gz agree.
_FASHION_FILES = {
    "train-images-idx3-ubyte": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "train-labels-idx1-ubyte": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "t10k-images-idx3-ubyte": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    "t10k-labels-idx1-ubyte": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
}
#: Bytes of each decompressed IDX file: reading stops past this (a gzip bomb
#: costs one chunk more, not its whole expansion).
_FASHION_SIZES = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}
_MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_FASHION_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

DATASETS = ("fashion_mnist", "mnist")
SPLITS = ("train", "test")
_FIX_COMMANDS = {
    "fashion_mnist": (
        "sudo apt-get install dataset-fashion-mnist  (Debian/Ubuntu, works offline "
        "afterwards), or once online: keras-gen data --download"
    ),
    "mnist": "once online: keras-gen data --download  (MNIST has no Debian package)",
}


class DataNotFoundError(FileNotFoundError):
    """No copy of the data set was found and downloading was not allowed."""


class ChecksumError(FileFormatError):
    """A data file's bytes differ from the published SHA-256 (a ``ValueError``)."""


@dataclass(frozen=True)
class DataSource:
    """Where a data set's files were found.

    Attributes:
        name: The data set, ``"fashion_mnist"`` or ``"mnist"``.
        location: The directory (or file, for ``mnist.npz``) used.
        origin: A short label: ``"data_dir"``, ``"debian"``, ``"keras cache"``
            or ``"download"``.
    """

    name: str
    location: Path
    origin: str


_check_choice = _checks.check_choice  # used here and by keras_gen.classifier


def _keras_cache_dir() -> Path:
    # Keras honours $KERAS_HOME for its cache; mirror that so we look where
    # keras.datasets.*.load_data() would have written.
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _downloads_allowed(download: bool | None) -> bool:
    if download is not None:
        return download
    # KERAS_GEN_OFFLINE=1/true/yes/on: offline; 0/false/no/off or unset: online.
    return not _checks.env_flag(OFFLINE_ENV_VAR)


def search_locations(name: str, data_dir: str | os.PathLike | None = None) -> list:
    """List, in order, the places ``load_images`` looks for a data set.

    Args:
        name: ``"fashion_mnist"`` or ``"mnist"``.
        data_dir: An explicit directory that overrides ``$KERAS_GEN_DATA``.

    Returns:
        A list of ``(origin, Path)`` pairs, most preferred first.

    Example:
        >>> [origin for origin, _ in search_locations("fashion_mnist")][-1]
        'keras cache'
    """
    _check_choice("name", name, DATASETS)
    places = []
    explicit = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    if explicit:
        places.append(("data_dir", Path(explicit).expanduser()))
    if name == "fashion_mnist":
        places.append(("debian", DEBIAN_FASHION_DIR))
        places.append(("keras cache", _keras_cache_dir() / "fashion-mnist"))
    else:
        places.append(("keras cache", _keras_cache_dir()))
    return places


def _fashion_file(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    return None


def _read_verified(path: Path, expected_sha256: str, size: int | None = None) -> bytes:
    """Read a file (gunzipping ``.gz``) in chunks, checking size and SHA-256."""
    return read_verified(
        path,
        expected_sha256,
        size,
        remake="Delete it and fetch it again (keras-gen data --download).",
        error_class=ChecksumError,
    )


def _parse_idx(payload: bytes, path: Path) -> np.ndarray:
    """Parse an IDX file (the MNIST format): magic, dims, then uint8 data."""
    ndim = payload[3]
    dims = np.frombuffer(payload, dtype=">u4", count=ndim, offset=4)
    data = np.frombuffer(payload, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ChecksumError(f"{path} has {data.size} values, expected {dims}.")
    return data.reshape(tuple(int(d) for d in dims))


def _download_fashion(cache: Path) -> Path:
    import keras

    for stem in _FASHION_FILES:
        keras.utils.get_file(
            f"{stem}.gz",
            origin=_FASHION_URL + f"{stem}.gz",
            cache_dir=str(cache.parent.parent),
            cache_subdir=f"datasets/{cache.name}",
        )
    return cache


def _download_mnist(cache: Path) -> Path:
    import keras

    path = keras.utils.get_file(
        "mnist.npz",
        origin=_MNIST_URL,
        file_hash=_MNIST_NPZ_SHA256,
        cache_dir=str(cache.parent),
        cache_subdir=cache.name,
    )
    return Path(path).parent


def _has_files(name: str, directory: Path) -> bool:
    return not _missing_files(name, directory)


def _missing_files(name: str, directory: Path) -> list[str]:
    if name == "mnist":
        return [] if (directory / "mnist.npz").is_file() else ["mnist.npz"]
    return [
        f"{stem}(.gz)" for stem in _FASHION_FILES if not _fashion_file(directory, stem)
    ]


def _explicit_source(name: str, data_dir) -> DataSource | None:
    """The folder named by ``data_dir`` or ``$KERAS_GEN_DATA``, checked; or None."""
    if data_dir is not None:
        label, value = "data_dir", os.fspath(data_dir)
        if not value:
            raise ValueError(
                "Expected data_dir to be a folder or None. Received: data_dir=''"
            )
    else:
        label, value = DATA_ENV_VAR, os.environ.get(DATA_ENV_VAR, "")
        if not value.strip():
            return None
    directory = Path(value).expanduser()
    unset = f" (or unset {DATA_ENV_VAR})" if label == DATA_ENV_VAR else ""
    if not directory.exists():
        problem = "which does not exist"
    elif not directory.is_dir():
        problem = "which is a file, not a folder"
    else:
        missing = _missing_files(name, directory)
        if not missing:
            return DataSource(name, directory, "data_dir")
        problem = f"which lacks {', '.join(missing)}"
    raise DataNotFoundError(
        f"Expected {label} to be a folder holding the {name} files. Received: "
        f"{label}={str(directory)!r}, {problem}. It was set explicitly, so no "
        f"other copy is used. Fix: point it at the right folder{unset}."
    )


def find_data(
    name: str = "fashion_mnist",
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
) -> DataSource:
    """Find a data set's files, downloading them only if allowed.

    Args:
        name: ``"fashion_mnist"`` or ``"mnist"``.
        data_dir: An explicit directory searched first (overrides
            ``$KERAS_GEN_DATA``).
        download: Whether a Keras download may be tried when no local copy is
            found. ``None`` means "yes unless ``$KERAS_GEN_OFFLINE`` is set".

    Returns:
        A :class:`DataSource` naming the directory that holds the files.

    Raises:
        DataNotFoundError: When nothing was found and no download happened;
            the message lists every place searched and the fixing command.
            Also when ``data_dir`` or ``$KERAS_GEN_DATA`` is set but does not
            hold the files (the other places are then not searched).

    Example:
        >>> source = find_data("fashion_mnist", download=False)
        >>> source.origin in ("data_dir", "debian", "keras cache")
        True
    """
    places = search_locations(name, data_dir)
    explicit = _explicit_source(name, data_dir)
    if explicit is not None:
        return explicit
    for origin, directory in places:
        if _has_files(name, directory):
            return DataSource(name, directory, origin)
    searched = "\n".join(f"  - {directory} ({origin})" for origin, directory in places)
    if _downloads_allowed(download):
        cache = places[-1][1]
        try:
            if name == "mnist":
                directory = _download_mnist(cache)
            else:
                directory = _download_fashion(cache)
        except Exception as error:  # noqa: BLE001 - any network failure
            raise DataNotFoundError(
                f"No local copy of {name} was found and the download failed "
                f"({type(error).__name__}: {error}).\nSearched:\n{searched}\n"
                f"Fix: {_FIX_COMMANDS[name]}"
            ) from error
        return DataSource(name, directory, "download")
    raise DataNotFoundError(
        f"No local copy of {name} was found and downloads are disabled.\n"
        f"Searched:\n{searched}\nFix: {_FIX_COMMANDS[name]}\n"
        f"(or point KERAS_GEN_DATA at a directory that holds the files)."
    )


# Verified files already parsed in this process, by (path, mtime, size): a
# notebook or a test session loads the same split many times, and checking the
# SHA-256 and gunzipping 26 MB each time costs about a second. A file changed
# on disk has another mtime or size, so it is verified again.
_VERIFIED: dict = {}


def _read_once(path: Path, sha256: str, size: int | None, parse):
    """``parse(verified bytes)`` of ``path``, kept read-only for later calls."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _VERIFIED:
        value = parse(_read_verified(path, sha256, size))
        for array in value if isinstance(value, tuple) else (value,):
            array.flags.writeable = False
        _VERIFIED[key] = value
    return _VERIFIED[key]


def _load_raw(name: str, split: str, source: DataSource) -> tuple:
    """The split's uint8 images and labels, as read-only arrays (do not modify)."""
    if name == "mnist":
        path = source.location / "mnist.npz"
        prefix = "x_train" if split == "train" else "x_test"
        label_key = "y_train" if split == "train" else "y_test"

        def parse(payload):  # the file is not compressed
            with np.load(io.BytesIO(payload)) as archive:
                return archive[prefix], archive[label_key]

        return _read_once(path, _MNIST_NPZ_SHA256, None, parse)
    prefix = "train" if split == "train" else "t10k"
    arrays = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        stem = f"{prefix}-{kind}"
        path = _fashion_file(source.location, stem)
        arrays.append(
            _read_once(
                path,
                _FASHION_FILES[stem],
                _FASHION_SIZES[stem],
                lambda payload, path=path: _parse_idx(payload, path),
            )
        )
    return arrays[0], arrays[1]


def scale_images(raw: np.ndarray) -> np.ndarray:
    """uint8 images ``(n, 28, 28)`` in [0, 255] -> float32 ``(n, 28, 28, 1)``, [-1, 1].

    Example:
        >>> scale_images(np.array([[[0, 255]]], "uint8")).tolist()
        [[[[-1.0], [1.0]]]]
    """
    # uint8 [0, 255] -> float32 [-1, 1], channel axis last: (n, 28, 28, 1)
    return np.asarray(raw).astype("float32")[..., None] / 127.5 - 1.0


def load_images(
    name: str = "fashion_mnist",
    split: str = "train",
    *,
    raw: bool = False,
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load an image data set, verified, as arrays ready for a GAN or VAE.

    Args:
        name: ``"fashion_mnist"`` (default) or ``"mnist"``.
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
        raw: If True, return the images as stored: uint8 in [0, 255],
            shape ``(n, 28, 28)``.
        data_dir: Directory searched before any other (see module docstring).
        download: Allow a Keras download when no local copy exists
            (``None``: allowed unless ``$KERAS_GEN_OFFLINE`` is set).

    Returns:
        ``(images, labels)``: images float32 in [-1, 1] with shape
        ``(n, 28, 28, 1)`` (or uint8 ``(n, 28, 28)`` when ``raw``), labels
        uint8 with shape ``(n,)``.

    Raises:
        ValueError: For an unknown ``name`` or ``split``.
        DataNotFoundError: When no copy is found and none can be downloaded.
        ChecksumError: When a file is corrupt or truncated.

    Example:
        >>> images, labels = load_images("fashion_mnist", "test")
        >>> images.shape, float(images.min()), float(images.max())
        ((10000, 28, 28, 1), -1.0, 1.0)
    """
    _check_choice("name", name, DATASETS)
    _check_choice("split", split, SPLITS)
    source = find_data(name, data_dir=data_dir, download=download)
    images, labels = _load_raw(name, split, source)  # read-only, shared
    if raw:
        return images.copy(), labels.copy()
    return scale_images(images), labels.copy()


def class_names(name: str = "fashion_mnist") -> tuple[str, ...]:
    """Return the ten class names of a data set, indexed by label.

    Example:
        >>> class_names("fashion_mnist")[7]
        'Sneaker'
    """
    _check_choice("name", name, DATASETS)
    return FASHION_MNIST_CLASSES if name == "fashion_mnist" else MNIST_CLASSES


def make_image_dataset(
    images: np.ndarray,
    batch_size: int = 128,
    *,
    shuffle: bool = True,
    subset: int | None = None,
    seed: int = 0,
    drop_remainder: bool = True,
):
    """Wrap images in a shuffled, batched, prefetched ``tf.data.Dataset``.

    tf.data is TensorFlow's input pipeline; Keras 3 has no equivalent of its
    own and ``fit()`` consumes it directly.

    Args:
        images: Array of shape ``(n, h, w, c)``.
        batch_size: Images per batch; must be positive.
        shuffle: Reshuffle every epoch (with ``seed``, reproducibly).
        subset: Keep only the first ``subset`` images (for fast runs).
        seed: Shuffle seed.
        drop_remainder: Drop a last, smaller batch so every step has the same
            shape (XLA then compiles once).

    Returns:
        A ``tf.data.Dataset`` of float32 batches ``(batch_size, h, w, c)``.

    Example:
        >>> import numpy as np
        >>> ds = make_image_dataset(np.zeros((10, 28, 28, 1), "float32"), batch_size=4)
        >>> [tuple(b.shape) for b in ds]
        [(4, 28, 28, 1), (4, 28, 28, 1)]
    """
    import tensorflow as tf

    if batch_size < 1:
        raise ValueError(f"Expected batch_size >= 1. Received: batch_size={batch_size}")
    if subset is not None:
        if subset < 1:
            raise ValueError(f"Expected subset >= 1 or None. Received: subset={subset}")
        images = images[:subset]
    if len(images) < batch_size and drop_remainder:
        raise ValueError(
            f"Expected at least batch_size={batch_size} images, received "
            f"{len(images)}. Use a smaller batch_size or more images."
        )
    dataset = tf.data.Dataset.from_tensor_slices(images.astype("float32"))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(
        tf.data.AUTOTUNE
    )


def make_toy_2d(kind: str = "moons", n: int = 1000, seed: int = 0, noise: float = 0.08):
    """Draw a labelled 2-D toy data set for the generative-vs-discriminative demo.

    Args:
        kind: ``"moons"`` (two interleaved half circles) or ``"ring"`` (eight
            Gaussian blobs on a circle, a classic GAN test).
        n: Number of points.
        seed: Random seed; the same seed gives the same points.
        noise: Standard deviation of the Gaussian noise added to each point.

    Returns:
        ``(points, labels)``: float32 ``(n, 2)`` and int ``(n,)``.

    Example:
        >>> points, labels = make_toy_2d("moons", n=100, seed=1)
        >>> points.shape, sorted(set(labels.tolist()))
        ((100, 2), [0, 1])
    """
    _check_choice("kind", kind, ("moons", "ring"))
    n = _checks.check_int("n", n, minimum=2)
    noise = _checks.check_float("noise", noise, minimum=0)
    rng = np.random.default_rng(_checks.check_seed("seed", seed))
    labels = rng.integers(0, 2 if kind == "moons" else 8, size=n)
    if kind == "moons":
        angle = rng.uniform(0, np.pi, size=n)
        x = np.where(labels == 0, np.cos(angle), 1 - np.cos(angle))
        y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
        points = np.stack([x, y], axis=1)
    else:
        centres = 2.0 * np.stack(
            [np.cos(labels * np.pi / 4), np.sin(labels * np.pi / 4)], axis=1
        )
        points = centres
    points = points + rng.normal(scale=noise, size=(n, 2))
    return points.astype("float32"), labels
