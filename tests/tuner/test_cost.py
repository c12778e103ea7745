"""The hardware cost model."""

from __future__ import annotations

import numpy as np

from emulation.fixed import FixedType
from emulation.layers.base import Node
from tuner.cost import network_cost, spanned_bits


def _dense(weights, w_t, x_t, reuse=1):
    w = np.asarray(weights, dtype=np.float64)
    return Node(
        name="d",
        kind="Dense",
        inputs=("x",),
        output_shape=(w.shape[1],),
        attrs={"reuse_factor": reuse},
        weights={"weight": w, "bias": np.zeros(w.shape[1])},
        types={"weight_t": w_t, "accum_t": FixedType(24, 8), "result_t": FixedType(16, 6)},
        input_types=(x_t,),
    )


def test_bops_count_nonzero_weights_only():
    """BOPs = non-zero weights x weight width x input width."""
    node = _dense([[0.5, 0.0], [0.25, -1.0]], FixedType(8, 2), FixedType(6, 3))
    assert network_cost([node]).bops == 3 * 8 * 6


def test_spanned_bits_of_constants():
    """0.5 spans one bit, 0.75 two, 0.625 three, zero none."""
    bits = spanned_bits(np.array([0.5, 0.75, 0.625, 0.0, -0.75]), FixedType(8, 2))
    assert bits.tolist() == [1, 2, 3, 0, 2]


def test_ebops_use_spanned_bits():
    """EBOPs weigh each multiplication by the bits its constant really spans."""
    node = _dense([[0.5], [0.75]], FixedType(8, 2), FixedType(4, 2))
    assert network_cost([node]).ebops == (1 + 2) * 4


def test_narrow_products_avoid_dsps():
    """4-bit products go to LUTs; 16 x 16 products to one DSP each."""
    w = np.full((4, 4), 0.5)
    narrow = network_cost([_dense(w, FixedType(4, 1), FixedType(4, 2))])
    wide = network_cost([_dense(w, FixedType(16, 1), FixedType(16, 6))])
    assert narrow.dsp == 0 and narrow.lut > 0
    assert wide.dsp == 16


def test_reuse_divides_hardware_not_bops():
    """ReuseFactor 4 shares multipliers: a quarter of the DSPs, the same BOPs."""
    w = np.full((4, 4), 0.5)
    one = network_cost([_dense(w, FixedType(16, 1), FixedType(16, 6))])
    four = network_cost([_dense(w, FixedType(16, 1), FixedType(16, 6), reuse=4)])
    assert four.dsp == one.dsp / 4 and four.bops == one.bops
