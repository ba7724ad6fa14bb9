"""Figures every notebook and the demo share: image grids, curves, strips.

Each function returns a Matplotlib ``Figure`` (shown inline in a notebook) and
``save_*`` variants write a small PNG and close the figure (for scripts).
"""

from __future__ import annotations

import math
import os

import matplotlib.pyplot as plt
import numpy as np

from keras_gen._checks import check_int
from keras_gen._files import replacing

PNG_DPI = 80


def _to_display(images) -> np.ndarray:
    """Map images from [-1, 1] to [0, 1] and drop a single channel axis."""
    images = np.asarray(images, dtype="float32")
    if images.ndim == 2:
        images = images[None]
    if images.ndim not in (3, 4):
        raise ValueError(
            "Expected images with shape (n, h, w), (n, h, w, c) or (h, w). "
            f"Received: shape={images.shape}"
        )
    images = np.clip((images + 1.0) / 2.0, 0.0, 1.0)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return images


def _grid_layout(images, ncols):
    """``(images ready to show, columns, rows)``, checked: at least one image."""
    images = _to_display(images)
    n = len(images)
    if n == 0:
        raise ValueError("Expected at least one image. Received: 0 images")
    if ncols is not None:
        check_int("ncols", ncols, minimum=1)
    ncols = ncols or math.ceil(math.sqrt(n))
    return images, ncols, math.ceil(n / ncols)


def image_grid(
    images,
    ncols: int | None = None,
    title: str | None = None,
    labels=None,
    scale: float = 1.0,
):
    """Draw images in [-1, 1] as a grid.

    Args:
        images: ``(n, h, w)`` or ``(n, h, w, c)`` in [-1, 1] (the GAN's range).
        ncols: Columns; default a near-square grid.
        title: Figure title.
        labels: Optional ``n`` captions drawn under the images.
        scale: Size of one cell in inches.

    Returns:
        The Matplotlib figure.

    Example:
        >>> fig = image_grid(np.zeros((4, 28, 28, 1)), title="blank")
    """
    images, ncols, nrows = _grid_layout(images, ncols)
    # Captions get their own strip above each row, so they never overlap the
    # images of the row above.
    caption = 0.25 if labels is not None else 0.0
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(ncols * scale, nrows * (scale + caption) + (0.4 if title else 0)),
        squeeze=False,
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(images):
            ax.imshow(images[index], cmap="gray", vmin=0, vmax=1)
            if labels is not None:
                ax.set_title(str(labels[index]), fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _tiled(images, ncols: int, gap: int = 2) -> np.ndarray:
    """Images in [0, 1] tiled row by row, ``gap`` white pixels between them."""
    n, height, width = images.shape[:3]
    nrows = math.ceil(n / ncols)
    canvas = np.ones(
        (nrows * (height + gap) - gap, ncols * (width + gap) - gap)
        + images.shape[3:],
        dtype="float32",
    )
    for index, image in enumerate(images):
        row, col = divmod(index, ncols)
        top, left = row * (height + gap), col * (width + gap)
        canvas[top : top + height, left : left + width] = image
    return canvas


def save_image_grid(images, path, **kwargs) -> str:
    """Save :func:`image_grid` as a PNG and return the path.

    Without ``labels`` the grid is drawn as one picture of the tiled images
    (the same rows, columns and figure size, the cells 2 pixels apart): one
    ``imshow`` instead of one axes per image, about 10 times faster for 64
    images, which the demo saves every epoch. With ``labels`` it is
    :func:`image_grid` itself.

    Example:
        >>> save_image_grid(np.zeros((4, 28, 28, 1)), "/tmp/grid.png")
        '/tmp/grid.png'
    """
    if kwargs.get("labels") is not None:
        return _save(image_grid(images, **kwargs), path)
    return _save(_tiled_figure(images, **kwargs), path)


def _tiled_figure(images, ncols=None, title=None, labels=None, scale=1.0):
    """:func:`image_grid`'s figure (without captions) as one tiled image."""
    images, ncols, nrows = _grid_layout(images, ncols)
    title_height = 0.4 if title else 0.0
    height = nrows * scale + title_height
    fig = plt.figure(figsize=(ncols * scale, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, nrows * scale / height))
    ax.imshow(_tiled(images, ncols), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def loss_curves(history, keys=None, title: str = "Training curves", ax=None):
    """Plot per-epoch metrics of a Keras ``History`` (or a dict of lists).

    Args:
        history: ``model.fit(...)`` return value, or its ``.history`` dict.
        keys: Which metrics; default every one recorded.
        title: Axes title.
        ax: Draw into this axes instead of a new figure.

    Returns:
        The Matplotlib figure.

    Example:
        >>> fig = loss_curves({"d_loss": [1.3, 1.2], "g_loss": [0.8, 0.9]})
    """
    logs = getattr(history, "history", history)
    keys = keys or list(logs)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    for key in keys:
        values = logs[key]
        ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def save_loss_curves(history, path, **kwargs) -> str:
    """Save :func:`loss_curves` as a PNG and return the path."""
    return _save(loss_curves(history, **kwargs), path)


def interpolate_latents(start, end, steps: int = 10, spherical: bool = True):
    """Points on the way from one latent vector to another.

    Spherical interpolation keeps the norm of Gaussian noise typical along the
    path (linear mixing shrinks it towards the middle, where the generator saw
    little training noise).

    Args:
        start: Latent vector ``(latent_dim,)``.
        end: Latent vector ``(latent_dim,)``.
        steps: Number of points, ends included.
        spherical: Use slerp instead of a straight line.

    Returns:
        float32 ``(steps, latent_dim)``.

    Example:
        >>> interpolate_latents(np.ones(3), -np.ones(3), steps=5).shape
        (5, 3)
    """
    if steps < 2:
        raise ValueError(f"Expected steps >= 2. Received: steps={steps}")
    start = np.asarray(start, dtype="float64")
    end = np.asarray(end, dtype="float64")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if spherical:
        cos = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega > 1e-6:
            path = (np.sin((1 - t) * omega) * start + np.sin(t * omega) * end) / np.sin(
                omega
            )
            return path.astype("float32")
    return ((1 - t) * start + t * end).astype("float32")


def interpolation_strip(images, title: str | None = "Latent interpolation"):
    """Draw a row of images, e.g. decoded points of :func:`interpolate_latents`.

    Args:
        images: ``(steps, h, w[, c])`` in [-1, 1].
        title: Figure title.

    Returns:
        The Matplotlib figure.
    """
    return image_grid(images, ncols=len(images), title=title)


def _save(fig, path) -> str:
    """Write ``fig`` to ``path`` atomically and close it.

    The figure is written under a temporary name beside ``path`` and renamed
    into place, so a run killed while saving never leaves half a PNG under
    the real name (a leftover temporary file is swept by the next demo).
    The format follows ``path``'s ending (PNG when it has none).
    """
    path = os.fspath(path)
    try:
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        ending = os.path.splitext(path)[1]
        file_format = ending[1:].lower() or plt.rcParams["savefig.format"]
        with replacing(path, suffix=ending) as partial:
            fig.savefig(partial, dpi=PNG_DPI, format=file_format)
    finally:
        plt.close(fig)
    return path


def mosaic(images, ncols: int = 8) -> np.ndarray:
    """Tile images into one array, ready for ``imshow``.

    Args:
        images: ``(n, h, w[, 1])`` in [-1, 1]; ``n`` must be a multiple of
            ``ncols``.
        ncols: Images per row.

    Returns:
        ``(rows*h, ncols*w)`` array in [0, 1].

    Example:
        >>> mosaic(np.zeros((16, 28, 28, 1)), ncols=8).shape
        (56, 224)
    """
    images = _to_display(images)
    check_int("ncols", ncols, minimum=1)
    if images.ndim != 3 or len(images) == 0 or len(images) % ncols:
        raise ValueError(
            f"Expected (n, h, w[, 1]) grey images with n a multiple of ncols={ncols}. "
            f"Received: shape={images.shape}"
        )
    n, height, width = images.shape
    rows = images.reshape(n // ncols, ncols, height, width)
    return rows.transpose(0, 2, 1, 3).reshape(n // ncols * height, ncols * width)


def side_by_side(named_images: dict, ncols: int = 8, title: str | None = None):
    """Draw several image sets next to each other, one panel per set.

    Args:
        named_images: ``{panel title: images (n, h, w[, 1]) in [-1, 1]}``.
        ncols: Images per row inside each panel.
        title: Figure title.

    Returns:
        The Matplotlib figure.

    Example:
        >>> fig = side_by_side({"a": np.zeros((8, 28, 28)), "b": np.ones((8, 28, 28))})
    """
    mosaics = {name: mosaic(images, ncols) for name, images in named_images.items()}
    # Each panel has its mosaic's shape (3 inches high, at most 15 inches wide
    # in all), so no white strip is left beside or below the images, unless a
    # panel title needs more width than its images (about 0.09 inch a letter).
    height, width = next(iter(mosaics.values())).shape
    panel_height = min(3.0, 15.0 / (len(mosaics) * width / height))
    longest_title = max(len(str(name)) for name in mosaics)
    panel_width = max(panel_height * width / height, 0.09 * longest_title + 0.2)
    fig, axes = plt.subplots(
        1,
        len(mosaics),
        figsize=(
            panel_width * len(mosaics),
            panel_height + 0.4 + (0.4 if title else 0),
        ),
        squeeze=False,
    )
    for ax, (name, picture) in zip(axes[0], mosaics.items(), strict=True):
        ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, fontsize=10)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
