"""The data a tuning run searches on: the seeded split and jittered copies of small sets."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import DataError
from tuner.sampling import jittered, split_indices


def test_split_is_seeded_and_disjoint():
    """Calibration and validation cover every sample once; the seed fixes the split."""
    cal, val = split_indices(100, 0.3, seed=5)
    assert len(val) == 30 and len(cal) == 70
    assert sorted(np.concatenate([cal, val]).tolist()) == list(range(100))
    assert np.array_equal(split_indices(100, 0.3, seed=5)[1], val)
    assert not np.array_equal(split_indices(100, 0.3, seed=6)[1], val)


def test_too_few_samples_is_a_data_error():
    """Tuning on a handful of samples is refused with the minimum named."""
    with pytest.raises(DataError, match="at least"):
        split_indices(5, 0.3, seed=0)


def test_jittered_keeps_the_originals_first_and_reaches_the_total():
    """The originals come first, unchanged; copies fill up to at least ``total``."""
    x = np.random.default_rng(0).normal(size=(30, 4))
    out = jittered(x, 100, 0.25, seed=1)
    assert out.shape == (120, 4)  # 30 originals + 3 copies
    assert np.array_equal(out[:30], x)
    assert not np.array_equal(out[30:60], x)


def test_jitter_noise_is_scaled_per_feature():
    """Each feature's noise has ``noise`` times its spread; constant features stay constant."""
    rng = np.random.default_rng(0)
    x = np.stack([rng.normal(size=200), 100 * rng.normal(size=200), np.full(200, 3.0)], axis=1)
    out = jittered(x, 20_000, 0.25, seed=2)
    noise = out[200:].reshape(-1, 200, 3) - x[None]
    spread = noise.reshape(-1, 3).std(axis=0)
    assert spread[0] == pytest.approx(0.25 * x[:, 0].std(), rel=0.05)
    assert spread[1] == pytest.approx(0.25 * x[:, 1].std(), rel=0.05)
    assert np.all(out[:, 2] == 3.0)


def test_jittered_is_seeded_and_leaves_large_sets_alone():
    """Same seed, same copies; a set already at ``total`` is returned as is."""
    x = np.random.default_rng(0).normal(size=(10, 2, 2))
    assert np.array_equal(jittered(x, 50, 0.1, seed=3), jittered(x, 50, 0.1, seed=3))
    assert not np.array_equal(jittered(x, 50, 0.1, seed=3), jittered(x, 50, 0.1, seed=4))
    assert jittered(x, 10, 0.1, seed=3) is x
