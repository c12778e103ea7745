"""The compiled convolution loop's plain case (a wrapping accumulator that keeps every product
bit, no product able to leave its range): no overflow flags inside the loop, the exact sums'
extremes handed to the result cast, blocks of up to 256 samples. Against the NumPy reference
and the template loops, at the edges: sums that stay in range, sums that wrap, biases that wrap
on their own cast, an 'auto' result (accum_t itself), batches that end inside a block.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers import conv_compiled
from emulation.layers.conv import conv2d
from tests.emulation.test_conv_compiled import _both, _took_compiled
from tests.support.conv_reference import draw_fixed, reference_conv2d
from tests.support.hls import mismatch_report

pytestmark = pytest.mark.skipif(not conv_compiled.available, reason="numba is not installed")

T = FixedType.parse


CASES = [
    # (accum, result, bias type, bias spread, filters, batch): |x|, |w| < 2, products < 4
    ("ap_fixed<30,10>", "ap_fixed<9,4,AP_RND,AP_SAT>", "ap_fixed<8,2>", 1.0, 2, 600),  # in range
    ("ap_fixed<30,10>", "ap_fixed<30,10>", "ap_fixed<8,2>", 1.0, 3, 513),  # 'auto' result
    ("ap_fixed<16,4>", "ap_fixed<9,4,AP_RND,AP_SAT>", "ap_fixed<8,2>", 1.0, 2, 600),  # sums wrap
    ("ap_fixed<16,4>", "ap_fixed<16,4>", "ap_fixed<10,6>", 12.0, 20, 300),  # biases wrap too
]


@pytest.mark.parametrize(("accum", "result", "bias", "b_spread", "n_filt", "batch"), CASES)
def test_plain_loop_equals_the_reference_and_the_template_loops(
    accum: str, result: str, bias: str, b_spread: float, n_filt: int, batch: int, monkeypatch
) -> None:
    """Values, overflow counts, totals and largest magnitudes as the NumPy path; values as the
    C++ loops written out step by step."""
    rng = np.random.default_rng(n_filt + batch)
    x_t, w_t, b_t = T("ap_fixed<8,2>"), T("ap_fixed<8,2>"), T(bias)
    accum_t, result_t = T(accum), T(result)
    x = draw_fixed(rng, (batch, 6, 5, 3), x_t, 1.0)
    w = draw_fixed(rng, (3, 2, 3, n_filt), w_t, 1.0)
    b = draw_fixed(rng, (n_filt,), b_t, b_spread)
    kw = {"x": x, "w": w, "b": b, "strides": (1, 1), "pads": (1, 1, 0, 1), "order": None}
    kw |= {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": accum_t, "result_t": result_t}
    calls = _took_compiled(monkeypatch)
    (got, got_points), (want, want_points) = _both(conv2d, monkeypatch, **kw)
    assert calls[0], "the compiled loop declined"
    assert np.array_equal(got, want), mismatch_report(got, want, types=(accum,))
    assert got_points == want_points
    loops = reference_conv2d(x, w, b, (1, 1), (1, 1, 0, 1), accum_t, result_t)
    assert np.array_equal(got, loops), mismatch_report(got, loops, types=(accum,))
    wrapped = got_points["c.accum_t"]["count"]
    assert (wrapped > 0) == (accum == "ap_fixed<16,4>"), "the case misses its edge"
