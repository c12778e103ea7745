"""`emulation.layers.conv_compiled` at the edges of its path, against the NumPy reference, the
template loops and hls4ml's C simulation.

1. without a compiler: for every rounding and overflow mode, products rounded or exact, cast
   on their own where they may overflow, accumulators finer than the products, unsigned,
   Resource orders, strides and padding, depthwise: the compiled loop returns the values of the
   NumPy reference and of the template loops, and records the same overflow counts, totals and
   largest magnitudes; past its bounds (sums beyond int64) it declines and the reference runs;
2. compiled by hls4ml: a conv model whose accumulators are wider than float64's 53 bits,
   wrapping and saturating, with sums past 2^53, on both paths.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers import conv_compiled
from emulation.layers.base import Context
from emulation.layers.conv import conv2d, depthwise_conv2d
from emulation.layers.dense import dense_sum_order
from tests.conftest import requires_gxx
from tests.support.conv_reference import draw_fixed, reference_conv2d
from tests.support.hls import hls_predict, hls_trace, mismatch_report

pytestmark = pytest.mark.skipif(not conv_compiled.available, reason="numba is not installed")

T = FixedType.parse
ROUNDINGS = ["AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF"]
ROUNDINGS += ["AP_RND_CONV"]


def _both(fn, monkeypatch, **kw) -> tuple[tuple[np.ndarray, dict], tuple[np.ndarray, dict]]:
    """``fn(**kw)`` on the compiled loop and on the NumPy reference: values and ctx points."""
    out = []
    for on in (True, False):
        monkeypatch.setattr(conv_compiled, "enabled", on)
        ctx = Context()
        y = fn(**kw, ctx=ctx, point="c")
        out.append((y, {k: v.to_dict() for k, v in ctx.points.items()}))
    return out[0], out[1]


def _took_compiled(monkeypatch) -> list[bool]:
    """Records, per call, whether the compiled loop ran (it returns None where it declines)."""
    calls: list[bool] = []
    real = conv_compiled.conv2d

    def spy(*args, **kw):
        y = real(*args, **kw)
        calls.append(y is not None)
        return y

    monkeypatch.setattr(conv_compiled, "conv2d", spy)
    return calls


CASES = [
    # (accum, x_t, w_t, spread of x): rounded products (k > 0) in every rounding mode, wrapping
    *[(f"ap_fixed<12,5,{r}>", "ap_fixed<10,4>", "ap_fixed<8,2>", 2.0) for r in ROUNDINGS],
    # saturating, symmetric and to-zero partial sums, products that overflow on their own
    *[(f"ap_fixed<9,3,{r},AP_SAT>", "ap_fixed<10,4>", "ap_fixed<8,2>", 4.0) for r in ROUNDINGS],
    ("ap_fixed<9,3,AP_RND,AP_SAT_SYM>", "ap_fixed<10,4>", "ap_fixed<8,2>", 4.0),
    ("ap_fixed<9,3,AP_TRN,AP_SAT_ZERO>", "ap_fixed<10,4>", "ap_fixed<8,2>", 4.0),
    ("ap_fixed<8,2,AP_RND_CONV>", "ap_fixed<10,4>", "ap_fixed<8,2>", 4.0),  # products wrap
    ("ap_ufixed<10,3,AP_RND,AP_SAT>", "ap_fixed<10,4>", "ap_fixed<8,2>", 2.0),  # unsigned
    ("ap_fixed<30,10>", "ap_fixed<10,4>", "ap_fixed<8,2>", 2.0),  # exact products, k = 0
    ("ap_fixed<30,8,AP_RND,AP_SAT>", "ap_fixed<10,4>", "ap_fixed<8,2>", 2.0),  # finer than them
    # past float64: 58-bit accumulators, sums above 2^53, wrapping and saturating
    ("ap_fixed<58,24>", "ap_fixed<40,22>", "ap_fixed<16,4>", 3e5),
    ("ap_fixed<56,27,AP_RND_ZERO,AP_SAT>", "ap_fixed<40,22>", "ap_fixed<16,4>", 1e6),
]


@pytest.mark.parametrize(("accum", "x_type", "w_type", "spread"), CASES)
@pytest.mark.parametrize("reuse", [1, 5])
def test_compiled_conv2d_equals_the_reference(
    accum: str, x_type: str, w_type: str, spread: float, reuse: int, monkeypatch
) -> None:
    """Values, overflow counts and largest magnitudes as the NumPy path and the template loops."""
    rng = np.random.default_rng(reuse + len(accum))
    x_t, w_t, b_t = T(x_type), T(w_type), T("ap_fixed<8,2>")
    accum_t, result_t = T(accum), T("ap_fixed<9,4,AP_RND,AP_SAT>")
    x = draw_fixed(rng, (70, 6, 5, 3), x_t, spread)
    w = draw_fixed(rng, (3, 2, 3, 4), w_t, 1.0)
    b = draw_fixed(rng, (4,), b_t, 1.0)
    order = dense_sum_order(18, "resource", reuse)
    kw = {"x": x, "w": w, "b": b, "strides": (2, 1), "pads": (1, 1, 0, 1), "order": order}
    kw |= {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": accum_t, "result_t": result_t}
    calls = _took_compiled(monkeypatch)
    (got, got_points), (want, want_points) = _both(conv2d, monkeypatch, **kw)
    assert calls[0], "the compiled loop declined"
    assert np.array_equal(got, want), mismatch_report(got, want, types=(accum,))
    assert got_points == want_points
    if accum_t.width <= 53:
        loops = reference_conv2d(x, w, b, (2, 1), (1, 1, 0, 1), accum_t, result_t, order)
        assert np.array_equal(got, loops), mismatch_report(got, loops, types=(accum,))


@pytest.mark.parametrize("accum", ["ap_fixed<9,3,AP_RND,AP_SAT>", "ap_fixed<10,2,AP_RND_INF>"])
def test_compiled_depthwise_equals_the_reference(accum: str, monkeypatch) -> None:
    """Each channel takes its own kernel only, in kernel order, on the compiled loop too."""
    rng = np.random.default_rng(3)
    x_t, w_t, b_t = T("ap_fixed<10,4>"), T("ap_fixed<7,1>"), T("ap_fixed<8,2>")
    x = draw_fixed(rng, (50, 7, 6, 4), x_t, 4.0)
    w = draw_fixed(rng, (3, 3, 4), w_t, 0.8)
    b = draw_fixed(rng, (4,), b_t, 0.5)
    kw = {"x": x, "w": w, "b": b, "strides": (2, 1), "pads": (1, 1, 1, 1)}
    kw |= {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": T(accum)}
    kw |= {"result_t": T("ap_fixed<8,3,AP_RND_CONV>")}
    calls = _took_compiled(monkeypatch)
    (got, got_points), (want, want_points) = _both(depthwise_conv2d, monkeypatch, **kw)
    assert calls[0], "the compiled loop declined"
    assert np.array_equal(got, want), mismatch_report(got, want)
    assert got_points == want_points


def test_sums_past_int64_decline_to_the_reference(monkeypatch) -> None:
    """Where a sum may pass 2^62 the compiled loop declines, and the result is the reference's.

    One product of 40-bit inputs and 22-bit weights is below 2^62, the sum of 18 of them is
    not (the bound is the largest input times the weights); with inputs four bits narrower it
    is.
    """
    rng = np.random.default_rng(8)
    x_t, w_t, b_t = T("ap_fixed<40,20>"), T("ap_fixed<22,2>"), T("ap_fixed<8,2>")
    accum_t = T("ap_fixed<64,24>")  # the products' 40 fractional bits: nothing rounds
    x = np.full((4, 5, 5, 2), x_t.max)
    x[:, ::2] = x_t.min
    w = draw_fixed(rng, (3, 3, 2, 2), w_t, 3.0)
    w[0, 0, 0, 0] = w_t.max
    kw = {"x": x, "w": w, "b": np.zeros(2), "strides": (1, 1), "pads": (0, 0, 0, 0)}
    kw |= {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": accum_t}
    kw |= {"result_t": T("ap_fixed<24,12,AP_RND,AP_SAT>")}
    calls = _took_compiled(monkeypatch)
    (got, got_points), (want, want_points) = _both(conv2d, monkeypatch, **kw)
    assert calls[0] is False
    assert np.array_equal(got, want) and got_points == want_points
    kw["x"] = x / 16
    calls.clear()
    (got, _), (want, _) = _both(conv2d, monkeypatch, **kw)
    assert calls[0] is True
    assert np.array_equal(got, want)


# ========================================================================= 2. C simulation
WIDE_CONFIG = {
    "Model": {"Precision": "ap_fixed<40,22>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "in2d": {"Precision": {"result": "ap_fixed<40,22>"}},
        "wide_wrap": {
            "Precision": {
                "weight": "ap_fixed<16,4>",
                "bias": "ap_fixed<16,4>",
                "accum": "ap_fixed<58,24>",
                "result": "ap_fixed<40,20,AP_RND,AP_SAT>",
            }
        },
        "wide_sat": {
            "Strategy": "Resource",
            "ReuseFactor": 3,
            "Precision": {
                "weight": "ap_fixed<16,4>",
                "bias": "ap_fixed<16,4>",
                "accum": "ap_fixed<54,25,AP_RND_ZERO,AP_SAT>",
                "result": "ap_fixed<40,18,AP_RND,AP_SAT>",
            },
        },
    },
}


def _wide_model() -> object:
    """Two Conv2D on one input: 58- and 54-bit accumulators, wrapping / saturating (Resource)."""
    import keras

    keras.utils.set_random_seed(21)
    inp = keras.Input((6, 6, 3), name="in2d")
    a = keras.layers.Conv2D(3, 3, padding="same", name="wide_wrap")(inp)
    b = keras.layers.Conv2D(2, (2, 3), strides=2, name="wide_sat")(inp)
    model = keras.Model(inp, [a, b])
    rng = np.random.default_rng(22)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0.0, 2.0, w.shape) for w in layer.get_weights()])
    return model


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize("compiled", [True, False])
def test_wide_accumulators_are_bit_exact(compiled: bool, monkeypatch) -> None:
    """Sums past 2^53 in 58- and 54-bit accumulators, wrapping and saturating, equal the C
    simulation on the compiled loop and on the NumPy path."""
    from emulation.model import EmulatedModel

    model = _wide_model()
    rng = np.random.default_rng(23)
    X = rng.normal(0.0, 1e6, (200, 6, 6, 3))
    monkeypatch.setattr(conv_compiled, "enabled", compiled)
    calls = _took_compiled(monkeypatch)
    em = EmulatedModel(model, WIDE_CONFIG)
    got, want = em.trace(X), hls_trace(model, WIDE_CONFIG, X)
    for name, w in want.items():
        g = got[name].reshape(w.shape)
        assert np.array_equal(g, w), f"{name}: " + mismatch_report(g, w)
    for g, w in zip(em.predict(X), hls_predict(model, WIDE_CONFIG, X), strict=True):
        assert np.array_equal(g.reshape(w.shape), w), mismatch_report(g.reshape(w.shape), w)
    assert calls and all(calls) == compiled
    assert em.overflows["wide_wrap.accum_t"].count > 0  # the wrap really acts
    assert em.overflows["wide_sat.accum_t"].count > 0  # and the saturation


def _signatures() -> list[int]:
    loops = [*conv_compiled._KERNELS.values(), conv_compiled._pad_compiled]
    return [len(f.signatures) for f in loops]


def test_no_call_compiles_after_the_warm_up() -> None:
    """`warm_up` compiles every loop a convolution calls, so a timed emulation never pays one."""
    conv_compiled.warm_up()
    before = _signatures()
    rng = np.random.default_rng(4)
    x_t, w_t = T("ap_fixed<10,4>"), T("ap_fixed<8,2>")
    x = draw_fixed(rng, (3, 5, 5, 2), x_t, 4.0)[:, ::-1]  # not contiguous
    w = draw_fixed(rng, (3, 3, 2, 2), w_t, 1.0)
    for accum in ("ap_fixed<9,3,AP_RND,AP_SAT>", "ap_fixed<12,5>", "ap_fixed<30,10>"):
        for fn in (conv2d, depthwise_conv2d):
            kernel = w if fn is conv2d else w[..., 0]
            fn(x, kernel, np.zeros(2), strides=(1, 2), pads=(1, 1, 1, 1), x_t=x_t, w_t=w_t,
               b_t=w_t, accum_t=T(accum), result_t=T("ap_fixed<8,3>"))  # fmt: skip
    assert _signatures() == before
