"""`dense_compiled.warm_up` compiles every variant `rounded_loop` calls, so a timed emulation
(the tuner's candidates) never pays a compile."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers import dense_compiled

pytestmark = pytest.mark.skipif(not dense_compiled.available, reason="numba is not installed")


def _signatures() -> tuple[int, ...]:
    loops = (dense_compiled._compiled, dense_compiled._compiled_sum, dense_compiled._compiled_wrap)
    return tuple(len(loop.signatures) for loop in loops)


@pytest.mark.parametrize("accum", ["ap_fixed<20,8,AP_RND,AP_SAT>", "ap_fixed<20,8>"])
@pytest.mark.parametrize("x_kind", ["float", "int32", "int64"])
@pytest.mark.parametrize("w_bits", [8, 40])
@pytest.mark.parametrize("products_fit", [True, False])
def test_no_call_compiles_after_the_warm_up(accum, x_kind, w_bits, products_fit):
    dense_compiled.warm_up()
    before = _signatures()
    rng = np.random.default_rng(0)
    x = rng.integers(-100, 100, size=(5, 3))
    mx = x.astype(np.float64) / 4 if x_kind == "float" else x.astype(np.int64)
    if x_kind == "int64":
        mx = mx << 33  # past int32: the int64 variant
    mw = rng.integers(-100, 100, size=(3, 2)) << (w_bits - 8)
    acc_t = FixedType.parse(accum)
    fractional = 2 if x_kind == "float" else None
    b = np.zeros(2, dtype=np.int64)
    dense_compiled.rounded_loop(mx, mw, b, 3, acc_t, fractional, products_fit=products_fit)
    assert _signatures() == before


def test_the_compiled_c_library_loops_equal_one_ctypes_call_per_value(monkeypatch):
    """The table functions' compiled loop (`cmath_compiled`) returns the C library's own
    float32 results, bit for bit, as one ctypes call per value does."""
    from emulation.layers import cmath_compiled, tables

    lib = tables._libm()
    if lib is None or not lib.compiled:
        pytest.skip("the C math library or numba is missing")
    x = np.random.default_rng(1).uniform(-100, 100, 20_000).astype(np.float32)
    x = np.concatenate([x, np.float32([0.0, -0.0, 88.72, -103.9, 1e-30, -1e-30])])
    for name in ("expf", "tanhf"):
        compiled = tables.c_float_function(name)(x)
        assert tables.c_float_function(name).func is cmath_compiled.c_float_apply
        monkeypatch.setattr(tables, "USE_COMPILED", False)
        reference = tables.c_float_function(name)(x)
        monkeypatch.setattr(tables, "USE_COMPILED", True)
        assert compiled.dtype == reference.dtype == np.float32
        assert np.array_equal(compiled.view(np.int32), reference.view(np.int32)), name
