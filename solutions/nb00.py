"""Solutions to the exercises of notebook 00 (setup check)."""

from __future__ import annotations

from keras_gen import data, env


def mnist_search_places() -> list[str]:
    """Exercise 1: where MNIST is looked for - no Debian entry, none exists."""
    return [origin for origin, _ in data.search_locations("mnist")]


def generator_parameters(latent_dim: int, widths=(256, 512, 1024), pixels=784) -> int:
    """Exercise 2: a Dense layer has inputs*outputs weights plus one bias per output."""
    sizes = [latent_dim, *widths, pixels]
    pairs = zip(sizes[:-1], sizes[1:], strict=True)
    return sum(n_in * n_out + n_out for n_in, n_out in pairs)


def matmul_speeds(sizes=(256, 512, 1024, 2048)) -> dict[int, float]:
    """Exercise 3: small matrices are slower per FLOP.

    A product of n x n matrices does 2 n^3 FLOPs but moves only 3 n^2 numbers;
    for small n the fixed cost of a call and of moving data dominates.
    """
    return {size: env.matmul_gflops(size, repeats=3) for size in sizes}
