"""Solutions to the exercises of notebook 00 (setup check).

Run ``python -m solutions.nb00`` to print the answers this machine gives.
"""

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


def matmul_speeds(sizes=(256, 512, 1024, 2048), repeats: int = 3) -> dict[int, float]:
    """Exercise 3: small matrices are slower per FLOP.

    A product of n x n matrices does 2 n^3 FLOPs but moves only 3 n^2 numbers;
    for small n the fixed cost of a call and of moving data dominates.
    """
    return {size: env.matmul_gflops(size, repeats=repeats) for size in sizes}


def main(sizes=(16, 256, 512, 1024, 2048), repeats: int = 3) -> None:
    """Print each exercise's answer as measured on this machine."""
    fashion = [origin for origin, _ in data.search_locations("fashion_mnist")]
    print(f"1. Fashion-MNIST is searched in {fashion}")
    print(f"   MNIST in {mnist_search_places()}: no 'debian' place, because Debian")
    print("   packages Fashion-MNIST (dataset-fashion-mnist) but not MNIST.")

    by_hand = generator_parameters(64)
    from keras_gen.gan import build_generator

    print(
        f"2. latent_dim=64: {by_hand:,} parameters by hand, "
        f"{build_generator(64).count_params():,} from count_params()"
    )

    speeds = matmul_speeds(sizes, repeats)
    seconds = {size: 2 * size**3 / (gflops * 1e9) for size, gflops in speeds.items()}
    print("3. matmul speed by size:")
    for size, gflops in speeds.items():
        print(
            f"   n={size:5}: {gflops:8.1f} GFLOP/s, "
            f"{seconds[size] * 1e6:10.1f} us per product"
        )
    small, large = min(speeds), max(speeds)
    ideal = 2 * small**3 / (speeds[large] * 1e9)  # at the large product's rate
    print(
        f"   n={small}: {2 * small**3:,} FLOPs took {seconds[small] * 1e6:.0f} us; at "
        f"n={large}'s rate they would take {ideal * 1e6:.2f} us, so "
        f"{1 - ideal / seconds[small]:.1%} of that call was fixed cost (starting the "
        "op, moving data), which a large product spreads over far more FLOPs."
    )

if __name__ == "__main__":
    main()
