"""The data a tuning run searches on: a seeded calibration / validation split, and jittered
copies of a small calibration set.

Why jitter: with a hundred calibration samples the search descends until the config just
passes on exactly those samples, and samples near a decision boundary it never saw flip (Iris:
105/105 on calibration, 42/45 on validation). Copies of the calibration inputs with a little
noise fill the neighbourhood of every sample with inputs the float model labels itself, so a
config must hold up around the data, not only on it. Only metrics measured against the float
model can use them (``agreement``, ``mae``, ``mse``); labels do not carry over to new inputs.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import DataError

__all__ = ["MIN_SAMPLES", "jittered", "split_indices"]

MIN_SAMPLES = 10


def split_indices(n: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded calibration / validation split of ``n`` samples (validation gets ``share``)."""
    if n < MIN_SAMPLES:
        raise DataError(f"need at least {MIN_SAMPLES} samples to tune; got {n}")
    if not 0 < share < 1:
        raise DataError(f"validation share must be in (0, 1); got {share}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * share))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def jittered(x: np.ndarray, total: int, noise: float, seed: int) -> np.ndarray:
    """``x`` followed by noisy copies of it, at least ``total`` samples in all.

    Each copy adds Gaussian noise of ``noise`` times each input feature's standard deviation
    over ``x`` (constant features stay constant). ``x`` itself is returned when it already
    has ``total`` samples.
    """
    copies = -(-total // len(x)) - 1
    if copies <= 0:
        return x
    spread = x.std(axis=0, keepdims=True)
    rng = np.random.default_rng(seed)
    noisy = x[None] + rng.normal(size=(copies, *x.shape)) * (noise * spread)
    return np.concatenate([x, noisy.reshape(-1, *x.shape[1:])])
