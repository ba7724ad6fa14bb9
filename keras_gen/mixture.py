"""A Gaussian mixture fitted by EM: the smallest honest generative model.

Notebook 01 uses it to show what "learning p(x) from samples and drawing new
ones" means before any neural network appears: the model stores a density,
scores how likely a point is, and samples new points.
"""

from __future__ import annotations

import numpy as np

from keras_gen._checks import check_int, check_seed


class GaussianMixture:
    """A mixture of ``k`` full-covariance Gaussians, fitted by expectation-maximisation.

    ``p(x) = sum_j w_j N(x; mu_j, Sigma_j)``

    Args:
        n_components: Number of Gaussians ``k``.
        seed: Seed for the initial means (picked among the data points).

    Attributes:
        weights: ``(k,)`` mixing weights summing to 1.
        means: ``(k, d)``.
        covariances: ``(k, d, d)``.
        history: Mean log-likelihood (nats per point) after each EM step.

    Example:
        >>> points = np.random.default_rng(0).normal(size=(500, 2))
        >>> model = GaussianMixture(2, seed=0).fit(points, steps=20)
        >>> model.sample(3, seed=1).shape
        (3, 2)
    """

    def __init__(self, n_components: int = 8, seed: int = 0):
        if n_components < 1:
            raise ValueError(
                f"Expected n_components >= 1. Received: n_components={n_components}"
            )
        self.n_components = n_components
        self.seed = check_seed("seed", seed)
        self.history: list[float] = []

    def _component_log_density(self, points):
        # log N(x; mu_j, Sigma_j) for every point and component: (n, k)
        dim = points.shape[1]
        out = np.empty((len(points), self.n_components))
        for j in range(self.n_components):
            chol = np.linalg.cholesky(self.covariances[j])
            solved = np.linalg.solve(chol, (points - self.means[j]).T)  # (d, n)
            log_det = 2 * np.log(np.diag(chol)).sum()
            out[:, j] = -0.5 * ((solved**2).sum(0) + log_det + dim * np.log(2 * np.pi))
        return out

    def fit(self, points, steps: int = 100):
        """Run ``steps`` EM iterations on ``points`` ``(n, d)``; returns self."""
        points = np.asarray(points, dtype="float64")
        steps = check_int("steps", steps, minimum=1)
        if points.ndim != 2 or len(points) < max(2, self.n_components):
            raise ValueError(
                f"Expected points of shape (n, d) with n >= n_components="
                f"{self.n_components} and n >= 2. Received: shape={points.shape}"
            )
        if not np.isfinite(points).all():
            bad = np.argwhere(~np.isfinite(points))[0]
            raise ValueError(
                "Expected finite points. Received: points"
                f"[{bad[0]}, {bad[1]}]={points[tuple(bad)]}"
            )
        n, dim = points.shape
        rng = np.random.default_rng(self.seed)
        self.means = points[rng.choice(n, self.n_components, replace=False)]
        ridge = 1e-6 * np.eye(dim)  # keeps a component from collapsing to a point
        # The ridge also keeps constant data (zero covariance) factorisable.
        start = np.atleast_2d(np.cov(points.T)) + ridge  # (d, d), also for d = 1
        self.covariances = np.repeat(start[None], self.n_components, 0)
        self.weights = np.full(self.n_components, 1 / self.n_components)
        self.history = []
        for _ in range(steps):
            # E step: responsibilities r_ij = p(component j | x_i)
            joint = self._component_log_density(points) + np.log(self.weights)
            log_px = np.logaddexp.reduce(joint, axis=1)  # (n,)
            resp = np.exp(joint - log_px[:, None])  # (n, k)
            self.history.append(float(log_px.mean()))
            # M step: refit each Gaussian to the points it is responsible for
            counts = resp.sum(0) + 1e-12  # (k,)
            self.weights = counts / n
            self.means = (resp.T @ points) / counts[:, None]
            for j in range(self.n_components):
                centred = points - self.means[j]
                self.covariances[j] = (resp[:, j, None] * centred).T @ centred / counts[
                    j
                ] + ridge
        return self

    def log_density(self, points) -> np.ndarray:
        """``log p(x)`` in nats for each point ``(n, d)``; returns ``(n,)``."""
        points = np.asarray(points, dtype="float64")
        joint = self._component_log_density(points) + np.log(self.weights)
        return np.logaddexp.reduce(joint, axis=1)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """Draw ``n`` new points: pick a component by weight, then sample it."""
        rng = np.random.default_rng(check_seed("seed", seed))
        n = check_int("n", n, minimum=1)
        components = rng.choice(self.n_components, size=n, p=self.weights)
        noise = rng.standard_normal((n, self.means.shape[1]))
        chols = np.linalg.cholesky(self.covariances)[components]  # (n, d, d)
        return (self.means[components] + np.einsum("nij,nj->ni", chols, noise)).astype(
            "float32"
        )
