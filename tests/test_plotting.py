import matplotlib.pyplot as plt
import numpy as np
import pytest

from keras_gen import plotting


def test_image_grid_lays_out_rows_and_columns():
    fig = plotting.image_grid(
        np.zeros((10, 28, 28, 1)), ncols=4, title="t", labels=list("abcdefghij")
    )
    assert len(fig.axes) == 12  # 3 rows x 4 columns, the last two blank
    assert fig.axes[0].get_title() == "a"
    plt.close(fig)


def test_image_grid_maps_minus_one_to_black_and_one_to_white():
    fig = plotting.image_grid(np.stack([-np.ones((2, 2)), np.ones((2, 2))]))
    shown = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert float(shown[0].max()) == 0.0 and float(shown[1].min()) == 1.0
    plt.close(fig)


def test_image_grid_refuses_wrong_rank():
    with pytest.raises(ValueError, match=r"Received: shape=\(2, 3, 4, 5, 6\)"):
        plotting.image_grid(np.zeros((2, 3, 4, 5, 6)))


def test_save_functions_write_png(tmp_path):
    grid = plotting.save_image_grid(np.zeros((4, 8, 8, 1)), tmp_path / "a" / "grid.png")
    curves = plotting.save_loss_curves({"d_loss": [1.0, 0.9]}, tmp_path / "curves.png")
    for path in (grid, curves):
        with open(path, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_loss_curves_draw_one_line_per_metric():
    fig = plotting.loss_curves({"d_loss": [1.3, 1.2, 1.1], "g_loss": [0.7, 0.8, 0.9]})
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["d_loss", "g_loss"]
    assert list(lines[0].get_xdata()) == [1, 2, 3]
    plt.close(fig)


def test_interpolation_ends_on_its_endpoints_and_keeps_norm():
    rng = np.random.default_rng(0)
    start, end = rng.normal(size=100), rng.normal(size=100)
    path = plotting.interpolate_latents(start, end, steps=7)
    np.testing.assert_allclose(path[0], start, atol=1e-5)
    np.testing.assert_allclose(path[-1], end, atol=1e-5)
    norms = np.linalg.norm(path, axis=1)
    linear_mid = np.linalg.norm((start + end) / 2)
    assert norms[3] > linear_mid  # slerp does not sag towards the origin
    line = plotting.interpolate_latents(start, end, steps=3, spherical=False)
    np.testing.assert_allclose(line[1], (start + end) / 2, atol=1e-5)
    with pytest.raises(ValueError, match="Received: steps=1"):
        plotting.interpolate_latents(start, end, steps=1)


def test_interpolation_strip_is_one_row():
    fig = plotting.interpolation_strip(np.zeros((6, 28, 28, 1)))
    assert len(fig.axes) == 6
    plt.close(fig)


def test_mosaic_tiles_row_by_row():
    images = np.stack([np.full((2, 3), v) for v in (-1.0, 1.0, -1.0, 1.0)])
    tiled = plotting.mosaic(images, ncols=2)
    assert tiled.shape == (4, 6)
    np.testing.assert_array_equal(tiled[:2, :3], 0.0)
    np.testing.assert_array_equal(tiled[:2, 3:], 1.0)
    with pytest.raises(ValueError, match="multiple of ncols=3"):
        plotting.mosaic(images, ncols=3)


def test_side_by_side_has_one_panel_per_set():
    fig = plotting.side_by_side(
        {"a": np.zeros((4, 5, 5)), "b": np.zeros((4, 5, 5))}, ncols=2, title="t"
    )
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    plt.close(fig)


def test_side_by_side_panels_take_their_mosaics_shape():
    from keras_gen.plotting import side_by_side

    square = side_by_side({"a": np.zeros((16, 28, 28)), "b": np.zeros((16, 28, 28))}, 4)
    assert tuple(square.get_size_inches()) == pytest.approx((6.0, 3.4))
    wide = side_by_side({"a": np.zeros((16, 28, 28)), "b": np.zeros((16, 28, 28))}, 8)
    assert tuple(wide.get_size_inches()) == pytest.approx((15.0, 1.875 + 0.4))
    titled = side_by_side(
        {"a long panel title, about forty letters": np.zeros((4, 8, 8))}, 2
    )
    assert titled.get_size_inches()[0] > 3.4  # wider than its square images
    plt.close("all")


def test_image_grid_keeps_a_strip_for_captions():
    from keras_gen.plotting import image_grid

    plain = image_grid(np.zeros((8, 28, 28)), ncols=4)
    captioned = image_grid(np.zeros((8, 28, 28)), ncols=4, labels=list("abcdefgh"))
    assert captioned.get_size_inches()[1] > plain.get_size_inches()[1]
    plt.close("all")
