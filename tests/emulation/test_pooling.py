"""`emulation.layers.pooling` against literal loops and hls4ml's C simulation.

1. `reduce_average` / `max_pool2d` against a transcription of ``pooling2d_cl`` (``pool_op``,
   ``avg``, ``pad_val``), without a compiler;
2. one seeded model with a 1D and a 2D branch (Max/Average pooling 'valid' and 'same', strides
   other than the pool size, accumulators that round and saturate at every addition, global
   pooling with hls4ml's default accumulator, max pooling 'same' on an unsigned input) compiled
   once: ``predict`` and every layer's trace equal, and the surprising hls4ml behaviours hold.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers.pooling import (
    average_pool2d,
    global_pool,
    max_pad_value,
    max_pool2d,
    reduce_average,
)
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, hls_trace, mismatch_report

T = FixedType.parse
N_SAMPLES = 300


# ===================================================================== 1. without a compiler
def _reference_pool2d(
    x: np.ndarray,
    op: str,
    pool: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    x_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
) -> np.ndarray:
    """pooling2d_cl as the C++ loops (vectorised over samples and channels only)."""
    ph, pw = pool
    top, bottom, left, right = pads
    h, w = x.shape[1:3]
    oh = (h + top + bottom - ph) // strides[0] + 1
    ow = (w + left + right - pw) // strides[1] + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            cells, count = [], 0
            for k in range(ph):
                for m in range(pw):
                    r, c = i * strides[0] + k - top, j * strides[1] + m - left
                    if 0 <= r < h and 0 <= c < w:
                        cells.append(x[:, r, c])
                        count += 1
                    else:
                        pad = max_pad_value(x_t) if op == "max" else 0.0
                        cells.append(np.full(x[:, 0, 0].shape, pad))
            if op == "max":
                y = cells[0]
                for v in cells[1:]:
                    y = np.where(v > y, v, y)
                acc = accum_t.quantize(y)
            else:
                acc = np.zeros(x[:, 0, 0].shape)
                for v in cells:
                    acc = accum_t.quantize(acc + v)
                # y /= count: the mantissa divided toward zero, at accum_t's LSB
                acc = accum_t.quantize(np.trunc(acc / accum_t.lsb / count) * accum_t.lsb)
            out[:, i, j] = result_t.quantize(acc)
    return out


@pytest.mark.parametrize(
    ("op", "accum"),
    [
        ("average", "ap_fixed<8,3,AP_RND,AP_SAT>"),  # rounds and saturates at each addition
        ("average", "ap_fixed<9,3,AP_TRN>"),  # floors at each addition, wraps
        ("average", "ap_fixed<20,8>"),  # exact sum (fast path)
        ("max", "ap_fixed<6,2,AP_RND,AP_SAT>"),
    ],
)
def test_pool2d_equals_the_template_loops(op: str, accum: str) -> None:
    """pool2d with 'same' padding casts as pooling2d_cl and pool_op do, cell by cell."""
    rng = np.random.default_rng(3)
    x_t, result_t = T("ap_fixed<10,4>"), T("ap_fixed<7,3,AP_RND_CONV,AP_SAT>")
    x = x_t.quantize(rng.normal(0.0, 3.0, (20, 5, 7, 2)))
    kw = {"x_t": x_t, "accum_t": T(accum), "result_t": result_t}
    pads = (1, 1, 0, 1)
    if op == "max":
        got = max_pool2d(x, kernel=(3, 2), strides=(2, 2), pads=pads, **kw)
    else:
        got = average_pool2d(x, kernel=(3, 2), strides=(2, 2), pads=pads, **kw)
    want = _reference_pool2d(x, op, (3, 2), (2, 2), pads, x_t, T(accum), result_t)
    assert np.array_equal(got, want), mismatch_report(got, want, types=accum)


def test_average_division_truncates_toward_zero() -> None:
    """The sum -5 LSB over 2 cells gives -2 LSB (sdiv), not -3 (floor)."""
    t = T("ap_fixed<8,4>")
    cells = np.array([[[-4 * t.lsb], [-1 * t.lsb]]])  # (batch, N, chan)
    y = reduce_average(cells, 2, x_t=t, accum_t=t, result_t=t)
    assert y.tolist() == [[-2 * t.lsb]]


def test_max_pad_value_of_unsigned_type_is_half_its_range() -> None:
    """pad_val sets only the top bit: -2^(I-1) when signed, +2^(I-1) when unsigned."""
    assert max_pad_value(T("ap_fixed<8,3>")) == -4.0
    assert max_pad_value(T("ap_ufixed<8,3>")) == 4.0


def test_global_average_sums_in_accum_type() -> None:
    """Global average pooling wraps its sum in accum_t before dividing."""
    x_t, accum_t = T("ap_fixed<16,6>"), T("ap_fixed<8,5>")
    x = np.full((1, 4, 1), 5.0)  # sum 20 wraps to 20 - 32 = -12 in ap_fixed<8,5>
    y = global_pool(x, "average", x_t=x_t, accum_t=accum_t, result_t=x_t)
    assert y.tolist() == [[-3.0]]


# ========================================================================= 2. C simulation
def _pool_model() -> object:
    """Seeded 1D + 2D pooling model; names are referred to by the config below."""
    import keras

    in1 = keras.Input((11, 3), name="in1d")
    m1 = keras.layers.MaxPooling1D(3, strides=2, padding="same", name="max1_same")(in1)
    a1 = keras.layers.AveragePooling1D(2, strides=1, padding="same", name="avg1_same")(in1)
    a1b = keras.layers.AveragePooling1D(3, name="avg1_valid")(in1)
    g1 = keras.layers.GlobalAveragePooling1D(name="gavg1")(in1)
    g1m = keras.layers.GlobalMaxPooling1D(name="gmax1")(in1)
    in2 = keras.Input((7, 8, 2), name="in2d")
    m2 = keras.layers.MaxPooling2D((2, 3), strides=(1, 2), name="max2_valid")(in2)
    a2 = keras.layers.AveragePooling2D(3, strides=2, padding="same", name="avg2_same")(in2)
    g2 = keras.layers.GlobalAveragePooling2D(name="gavg2")(in2)
    g2m = keras.layers.GlobalMaxPooling2D(name="gmax2")(in2)
    in3 = keras.Input((5, 6, 2), name="in_unsigned")
    m3 = keras.layers.MaxPooling2D(2, padding="same", name="max_unsigned_same")(in3)
    return keras.Model([in1, in2, in3], [m1, a1, a1b, g1, g1m, m2, a2, g2, g2m, m3])


POOL_CONFIG = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "in1d": {"Precision": {"result": "ap_fixed<10,4,AP_RND>"}},
        "in2d": {"Precision": {"result": "ap_fixed<10,4,AP_RND>"}},
        "in_unsigned": {"Precision": {"result": "ap_ufixed<8,3>"}},
        "max1_same": {
            "Precision": {
                "accum": "ap_fixed<8,3,AP_RND,AP_SAT>",
                "result": "ap_fixed<6,2,AP_RND_CONV,AP_SAT>",
            }
        },
        # fewer fractional bits than the input: every addition rounds
        "avg1_same": {
            "Precision": {
                "accum": "ap_fixed<8,4,AP_RND,AP_SAT>",
                "result": "ap_fixed<8,3,AP_RND_ZERO>",
            }
        },
        "avg1_valid": {"Precision": {"accum": "ap_fixed<9,4,AP_TRN>", "result": "ap_fixed<8,4>"}},
        "max2_valid": {"Precision": {"accum": "ap_fixed<10,4>", "result": "ap_fixed<7,3>"}},
        "avg2_same": {
            "Precision": {
                "accum": "ap_fixed<9,4,AP_RND_INF,AP_SAT_SYM>",
                "result": "ap_fixed<8,4,AP_RND_MIN_INF>",
            }
        },
        "gmax2": {"Precision": {"result": "ap_fixed<6,3,AP_RND,AP_SAT>"}},
        # 'auto' as config_from_keras_model writes it
        "gavg1": {"Precision": {"accum": "auto"}},
        "gavg2": {"Precision": {"accum": "auto"}},
        "max_unsigned_same": {"Precision": {"accum": "auto", "result": "ap_ufixed<8,3>"}},
    },
}


def _pool_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(21)
    x1 = rng.normal(0.0, 3.0, (N_SAMPLES, 11, 3))
    x2 = rng.normal(0.0, 3.0, (N_SAMPLES, 7, 8, 2))
    x3 = rng.uniform(0.0, 3.0, (N_SAMPLES, 5, 6, 2))  # below the unsigned pad value 4
    for x in (x1, x2):
        x[3 * N_SAMPLES // 4 :] *= 2.0
    return [x1, x2, x3]


@pytest.fixture(scope="module")
def pool_run() -> tuple[object, object, list[np.ndarray]]:
    from emulation.model import EmulatedModel

    model = _pool_model()
    return model, EmulatedModel(model, POOL_CONFIG), _pool_inputs()


@requires_gxx
@pytest.mark.csim
def test_pool_model_predict_is_bit_exact(pool_run) -> None:
    """Every output of the pooling model equals hls4ml's C simulation."""
    model, em, X = pool_run
    got, want = em.predict(X), hls_predict(model, POOL_CONFIG, X)
    for g, w in zip(got, want, strict=True):
        g = g.reshape(w.shape)
        assert np.array_equal(g, w), mismatch_report(g, w)


@requires_gxx
@pytest.mark.csim
def test_pool_model_trace_is_bit_exact(pool_run) -> None:
    """Every pooling layer's output equals hls4ml's trace of the same layer."""
    model, em, X = pool_run
    got, want = em.trace(X), hls_trace(model, POOL_CONFIG, X)
    assert set(want) <= set(got)
    for name, w in want.items():
        g = got[name].reshape(w.shape)
        types = em.graph.node(name).types
        assert np.array_equal(g, w), f"{name}: " + mismatch_report(g, w, types=types)


@requires_gxx
@pytest.mark.csim
def test_unsigned_same_max_pooling_returns_the_pad_value_at_borders(pool_run) -> None:
    """hls4ml pads unsigned max pooling with 2^(I-1): border windows return 4.0, not the max."""
    model, _, X = pool_run
    y = hls_trace(model, POOL_CONFIG, X)["max_unsigned_same"]
    # 5 x 6 input, pool 2, 'same': the last row of windows covers one padded row
    assert np.all(y[:, -1] == 4.0)
    assert np.all(y[:, :-1] < 4.0)


def test_global_pooling_auto_accumulator_is_the_model_default(pool_run) -> None:
    """An 'auto' accum_t of global pooling is the model default; of max pooling, the input's."""
    _, em, _ = pool_run
    assert em.graph.node("gavg2").types["accum_t"] == T("ap_fixed<16,6>")
    assert em.graph.node("max_unsigned_same").types["accum_t"] == T("ap_ufixed<8,3>")


def test_global_average_of_56_cells_overflows_the_default_accumulator(pool_run) -> None:
    """Summing 7 x 8 values of ap_fixed<10,4> in ap_fixed<16,6> wraps for many samples."""
    _, em, X = pool_run
    em.predict(X)
    assert em.overflows["gavg2.accum_t"].share > 0.1
