"""EmulatedModel's default batch: bigger for a model of narrow layers, never a change in value."""

from __future__ import annotations

import numpy as np

from emulation import EmulatedModel
from emulation.model import BATCH_VALUES, DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from tests.support.models import inputs, mlp

NARROW = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {"d2": {"Precision": {"accum": "ap_fixed<10,2,AP_RND,AP_SAT>"}}},
}


def test_narrow_models_take_bigger_batches_within_the_value_budget() -> None:
    """4-8-3 takes the largest batch; 256 wide the usual 4096; the budget bounds either."""
    narrow = EmulatedModel(mlp([4, 8, 3]), NARROW)
    assert narrow.default_batch_size == MAX_BATCH_SIZE
    wide = EmulatedModel(mlp([256, 16, 3]), NARROW)
    assert wide.default_batch_size == DEFAULT_BATCH_SIZE
    middle = EmulatedModel(mlp([40, 8, 3]), NARROW)
    assert DEFAULT_BATCH_SIZE < middle.default_batch_size < MAX_BATCH_SIZE
    assert middle.default_batch_size * 40 <= BATCH_VALUES


def test_the_default_batch_gives_the_values_and_counts_of_small_batches() -> None:
    """Several default batches (rounded and saturating accumulators, overflowing inputs) give
    what batches of 7 give, values and overflow counts."""
    em = EmulatedModel(mlp([40, 8, 3]), NARROW)
    X = inputs(2 * em.default_batch_size + 5, 40)
    whole = em.predict(X)
    counts = {k: (p.count, p.total, p.max_abs) for k, p in em.overflows.items()}
    assert counts["d2.accum_t"][0] > 0, "the accumulator should saturate somewhere"
    assert np.array_equal(em.predict(X, batch_size=7), whole)
    assert {k: (p.count, p.total, p.max_abs) for k, p in em.overflows.items()} == counts
