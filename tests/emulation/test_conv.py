"""`emulation.layers.conv` against literal loops, hls4ml's own im2col, and hls4ml's C simulation.

1. `windows_2d` against hls4ml's ``_compute_conv2d_im2col`` (the code generator of the C++
   ``fill_buffer``), and `conv2d` / `depthwise_conv2d` against a loop-by-loop transcription of
   ``conv_2d_latency_cl`` / ``conv_2d_resource_cl`` (no compiler);
2. one seeded model with a 1D and a 2D branch (Conv1D 'same' strided and 'causal', Resource
   with ReuseFactor > 1, PointwiseConv1D through ``BatchedDenseForConv1D``, DepthwiseConv1D/2D,
   Conv2D 'same'/'valid', strides 2, accumulators narrower than the products, SAT, SAT_SYM and
   WRAP, five rounding modes) compiled once: ``predict`` and every layer's trace equal;
3. the hls4ml community conv models on synthetic inputs, with the default 'auto' config and a
   narrow one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers import conv_compiled
from emulation.layers.base import Context, Node
from emulation.layers.conv import (
    conv2d,
    conv_adapter,
    depthwise_adapter,
    depthwise_conv2d,
    windows_2d,
)
from emulation.layers.dense import dense_sum_order
from tests.conftest import requires_gxx
from tests.support.hls import (
    assert_equal_to_csim,
    hls_predict,
    hls_trace,
    mismatch_report,
    narrow_config,
)

T = FixedType.parse
N_SAMPLES = 300
PATHS = ["compiled", "numpy"] if conv_compiled.available else ["numpy"]


@pytest.fixture(params=PATHS)
def conv_path(request, monkeypatch) -> str:
    """Each test runs on the compiled loop (`conv_compiled`) and on the NumPy reference."""
    monkeypatch.setattr(conv_compiled, "enabled", request.param == "compiled")
    return request.param


# ===================================================================== 1. without a compiler
def _reference_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    accum_t: FixedType,
    result_t: FixedType,
    order: Sequence[int] | None = None,
) -> np.ndarray:
    """conv_2d_*_cl written as the C++ loops (vectorised over samples only), one cast a step."""
    kh, kw, _, n_filt = w.shape
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oh = (xp.shape[1] - kh) // strides[0] + 1
    ow = (xp.shape[2] - kw) // strides[1] + 1
    w2 = w.reshape(-1, n_filt)
    out = np.zeros((x.shape[0], oh, ow, n_filt))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0], j * strides[1]
            rows = xp[:, r0 : r0 + kh, c0 : c0 + kw].reshape(x.shape[0], -1)  # kh, kw, chan
            for f in range(n_filt):
                acc = accum_t.quantize(np.full(x.shape[0], b[f]))
                for k in range(rows.shape[1]) if order is None else order:
                    p = accum_t.quantize(rows[:, k] * w2[k, f])
                    acc = accum_t.quantize(acc + p)
                out[:, i, j, f] = result_t.quantize(acc)
    return out


def _draw(
    rng: np.random.Generator, shape: tuple[int, ...], t: FixedType, spread: float
) -> np.ndarray:
    return t.quantize(rng.normal(0.0, spread, shape))


@pytest.mark.parametrize(
    ("kernel", "strides", "pads"),
    [
        ((3, 3), (1, 1), (1, 1, 1, 1)),
        ((2, 3), (2, 1), (0, 1, 1, 1)),
        ((3, 2), (2, 2), (0, 0, 0, 0)),
    ],
)
def test_windows_match_hls4ml_im2col(kernel, strides, pads) -> None:
    """windows_2d gathers the same pixels, in the same order, as hls4ml's generated fill_buffer."""
    from hls4ml.backends import get_backend

    h, w, c = 6, 7, 3
    index_image = np.arange(1, h * w * c + 1, dtype=np.float64).reshape(1, h, w, c)
    got = windows_2d(index_image, kernel, strides, pads)
    want = get_backend("vivado")._compute_conv2d_im2col((h, w, c), kernel, strides, pads)
    assert got.reshape(-1, got.shape[-1]).tolist() == want.tolist()


@pytest.mark.parametrize(
    ("accum", "result", "reuse"),
    [
        ("ap_fixed<10,4,AP_RND,AP_SAT>", "ap_fixed<8,3,AP_RND_ZERO,AP_SAT>", 1),
        ("ap_fixed<9,3,AP_RND_INF,AP_SAT>", "ap_fixed<10,4>", 6),  # strided Resource order
        ("ap_fixed<10,2,AP_TRN_ZERO>", "ap_fixed<6,2,AP_RND_CONV,AP_SAT_SYM>", 2),  # wraps
        ("ap_fixed<30,10>", "ap_fixed<12,5,AP_RND_MIN_INF>", 1),  # exact float path
    ],
)
def test_conv2d_equals_the_template_loops(accum: str, result: str, reuse: int, conv_path) -> None:
    """conv2d casts every product and running sum as conv_2d_*_cl does, in its order."""
    rng = np.random.default_rng(reuse)
    x_t, w_t, b_t = T("ap_fixed<8,3>"), T("ap_fixed<7,1,AP_RND>"), T("ap_fixed<8,2>")
    x = _draw(rng, (3, 5, 6, 2), x_t, 3.0)
    w = _draw(rng, (3, 2, 2, 3), w_t, 0.6)
    b = _draw(rng, (3,), b_t, 0.5)
    order = dense_sum_order(12, "resource", reuse)
    want = _reference_conv2d(x, w, b, (2, 1), (1, 1, 0, 1), T(accum), T(result), order)
    got = conv2d(
        x,
        w,
        b,
        strides=(2, 1),
        pads=(1, 1, 0, 1),
        x_t=x_t,
        w_t=w_t,
        b_t=b_t,
        accum_t=T(accum),
        result_t=T(result),
        order=order,
    )
    assert np.array_equal(got, want), mismatch_report(got, want, types=(accum, result))


def test_depthwise_conv2d_equals_one_dense_per_channel(conv_path) -> None:
    """Each channel of depthwise_conv2d is the template loop with that channel's kernel only."""
    rng = np.random.default_rng(7)
    x_t, w_t, b_t = T("ap_fixed<8,3>"), T("ap_fixed<6,1>"), T("ap_fixed<8,2>")
    accum_t, result_t = T("ap_fixed<8,3,AP_RND,AP_SAT>"), T("ap_fixed<7,3,AP_RND_CONV>")
    x = _draw(rng, (4, 5, 5, 3), x_t, 3.0)
    w = _draw(rng, (3, 3, 3), w_t, 0.6)
    b = _draw(rng, (3,), b_t, 0.5)
    got = depthwise_conv2d(
        x,
        w,
        b,
        strides=(2, 2),
        pads=(1, 1, 1, 1),
        x_t=x_t,
        w_t=w_t,
        b_t=b_t,
        accum_t=accum_t,
        result_t=result_t,
    )
    for c in range(3):
        want = _reference_conv2d(
            x[..., c : c + 1],
            w[:, :, c : c + 1, None],
            b[c : c + 1],
            (2, 2),
            (1, 1, 1, 1),
            accum_t,
            result_t,
        )
        assert np.array_equal(got[..., c : c + 1], want), mismatch_report(got[..., c : c + 1], want)


def _conv_node(kind: str, **attrs: object) -> Node:
    t = T("ap_fixed<8,3>")
    base = {
        "filt_height": 3,
        "filt_width": 3,
        "stride_height": 1,
        "stride_width": 1,
        "pad_top": 0,
        "pad_bottom": 0,
        "pad_left": 0,
        "pad_right": 0,
        "data_format": "channels_last",
        "strategy": "latency",
        "reuse_factor": 1,
    }
    base.update(attrs)
    return Node(
        name="c",
        kind=kind,
        inputs=("x",),
        output_shape=(3, 3, 2),
        attrs=base,
        weights={"weight": np.zeros((3, 3, 2, 2)), "bias": np.zeros(2)},
        types={"weight_t": t, "bias_t": t, "accum_t": t, "result_t": t},
        input_types=(t,),
    )


def test_resource_reuse_above_kernel_inputs_is_refused() -> None:
    """ReuseFactor > kh * kw * n_chan under Resource is refused: hls4ml's C++ asserts."""
    node = _conv_node("Conv2D", strategy="resource", reuse_factor=36)
    with pytest.raises(UnsupportedLayerError, match="ReuseFactor 36 > 18"):
        conv_adapter(node, [np.zeros((1, 5, 5, 2))], Context())


def test_depthwise_resource_is_refused() -> None:
    """DepthwiseConv with Resource strategy is refused: io_parallel has no such kernel."""
    node = _conv_node("DepthwiseConv2D", strategy="resource")
    with pytest.raises(UnsupportedLayerError, match="Latency only"):
        depthwise_adapter(node, [np.zeros((1, 5, 5, 2))], Context())


def test_channels_first_is_refused() -> None:
    """A channels_first conv is refused with the fix named."""
    node = _conv_node("Conv2D", data_format="channels_first")
    with pytest.raises(UnsupportedLayerError, match="channels_last"):
        conv_adapter(node, [np.zeros((1, 5, 5, 2))], Context())


def test_same_padding_stays_inside_the_conv_node() -> None:
    """io_parallel pads 'same' convolutions in the im2col buffer: no ZeroPadding node appears."""
    import keras

    from emulation.graph import build_graph

    inp = keras.Input((6, 6, 2))
    out = keras.layers.Conv2D(2, 3, padding="same", name="c")(inp)
    graph = build_graph(keras.Model(inp, out), {"Model": {"Precision": "ap_fixed<16,6>"}})
    assert [n.kind for n in graph.nodes] == ["Input", "Conv2D"]
    assert graph.node("c").attrs["pad_left"] == 1


# ========================================================================= 2. C simulation
def _conv_model() -> object:
    """Seeded 1D + 2D conv model whose layer names the config below refers to."""
    import keras

    keras.utils.set_random_seed(11)
    in1 = keras.Input((16, 3), name="in1d")
    c1 = keras.layers.Conv1D(4, 3, strides=2, padding="same", name="c1_same")(in1)
    c2 = keras.layers.Conv1D(3, 3, padding="causal", name="c1_causal_res")(c1)
    in2 = keras.Input((8, 8, 2), name="in2d")
    a = keras.layers.Conv2D(4, 3, padding="same", name="c2_same")(in2)
    b = keras.layers.Conv2D(3, (3, 2), strides=2, name="c2_valid_res")(a)
    c = keras.layers.DepthwiseConv2D(3, strides=2, padding="same", name="dw2")(a)
    d = keras.layers.Conv2D(3, 1, name="pw2_res")(c)
    e = keras.layers.Conv2D(2, (2, 3), strides=(2, 1), padding="same", name="c2_wrap")(a)
    return _randomised(keras.Model([in1, in2], [c2, b, d, e]), seed=12)


def _depthwise1d_model() -> object:
    """DepthwiseConv1D 'same' and strided 'valid', then a pointwise Conv1D (a SeparableConv1D).

    A separate model: hls4ml's ``nnet_sepconv1d_latency.h`` reuses the include guard of
    ``nnet_sepconv2d_latency.h``, so a model with both DepthwiseConv1D and DepthwiseConv2D does
    not compile.
    """
    import keras

    keras.utils.set_random_seed(14)
    inp = keras.Input((16, 3), name="in1d")
    d1 = keras.layers.DepthwiseConv1D(3, padding="same", name="dw1")(inp)
    p1 = keras.layers.Conv1D(2, 1, name="pw1_batched")(d1)
    d2 = keras.layers.DepthwiseConv1D(4, strides=3, name="dw1_strided")(inp)
    return _randomised(keras.Model(inp, [p1, d2]), seed=15)


def _randomised(model: object, seed: int) -> object:
    """Every weight and bias drawn from N(0, 0.5): larger than Keras's initial values."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0.0, 0.5, w.shape) for w in layer.get_weights()])
    return model


CONV_CONFIG = {
    "Model": {"Precision": "ap_fixed<12,4>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "in1d": {"Precision": {"result": "ap_fixed<10,4,AP_RND>"}},
        "in2d": {"Precision": {"result": "ap_fixed<10,4,AP_RND_CONV,AP_SAT>"}},
        # products have 6 + 6 fractional bits; every accumulator below keeps fewer
        "c1_same": {
            "Precision": {
                "weight": "ap_fixed<8,2,AP_RND>",
                "accum": "ap_fixed<10,4,AP_RND,AP_SAT>",
                "result": "ap_fixed<8,3,AP_RND_ZERO,AP_SAT>",
            }
        },
        "c1_causal_res": {
            "Strategy": "Resource",
            "ReuseFactor": 3,
            "Precision": {"accum": "ap_fixed<9,3,AP_RND_INF,AP_SAT>"},
        },
        "c2_same": {
            "Precision": {
                "weight": "ap_fixed<8,2,AP_RND>",
                "accum": "ap_fixed<11,4,AP_RND,AP_SAT>",
                "result": "ap_fixed<8,3,AP_RND_ZERO,AP_SAT>",
            }
        },
        "c2_valid_res": {
            "Strategy": "Resource",
            "ReuseFactor": 6,
            "Precision": {"accum": "ap_fixed<10,4,AP_RND_INF,AP_SAT>"},
        },
        "dw2": {"Precision": {"accum": "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT_SYM>"}},
        "pw2_res": {
            "Strategy": "Resource",
            "ReuseFactor": 2,
            "Precision": {"accum": "ap_fixed<10,3,AP_RND_MIN_INF,AP_SAT>"},
        },
        "c2_wrap": {"Precision": {"accum": "ap_fixed<10,2,AP_RND>", "result": "ap_fixed<8,2>"}},
    },
}


DEPTHWISE1D_CONFIG = {
    "Model": {"Precision": "ap_fixed<12,4>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "in1d": {"Precision": {"result": "ap_fixed<10,4,AP_RND>"}},
        "dw1": {"Precision": {"accum": "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT_SYM>"}},
        # ParallelizationFactor = out_width: one partition, the BatchedDenseForConv1D kernel
        "pw1_batched": {
            "ParallelizationFactor": 16,
            "Precision": {"accum": "ap_fixed<10,3,AP_RND_MIN_INF,AP_SAT>"},
        },
        "dw1_strided": {"Precision": {"accum": "ap_fixed<10,4,AP_RND>", "result": "ap_fixed<7,3>"}},
    },
}


def _inputs(shapes: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    """Normal inputs off the grid, the last quarter doubled to overflow narrow types."""
    rng = np.random.default_rng(seed)
    xs = [rng.normal(0.0, 2.0, (N_SAMPLES, *shape)) for shape in shapes]
    for x in xs:
        x[3 * N_SAMPLES // 4 :] *= 2.0
    return xs


CASES = {
    "conv": (_conv_model, CONV_CONFIG, [(16, 3), (8, 8, 2)]),
    "depthwise1d": (_depthwise1d_model, DEPTHWISE1D_CONFIG, [(16, 3)]),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def conv_run(request) -> tuple[object, dict, object, list[np.ndarray]]:
    from emulation.model import EmulatedModel

    build, config, shapes = CASES[request.param]
    model = build()
    X = _inputs(shapes, seed=13)
    return model, config, EmulatedModel(model, config), X if len(X) > 1 else X[0]


@requires_gxx
@pytest.mark.csim
def test_conv_model_predict_is_bit_exact(conv_run, conv_path) -> None:
    """Every output of the conv models equals hls4ml's C simulation."""
    model, config, em, X = conv_run
    got, want = em.predict(X), hls_predict(model, config, X)
    for g, w in zip(got, want, strict=True):
        g = g.reshape(w.shape)
        assert np.array_equal(g, w), mismatch_report(g, w)


@requires_gxx
@pytest.mark.csim
def test_conv_model_trace_is_bit_exact(conv_run, conv_path) -> None:
    """Every conv layer's output equals hls4ml's trace of the same layer."""
    model, config, em, X = conv_run
    got, want = em.trace(X), hls_trace(model, config, X)
    assert set(want) <= set(got)
    for name, w in want.items():
        g = got[name].reshape(w.shape)
        types = em.graph.node(name).types
        assert np.array_equal(g, w), f"{name}: " + mismatch_report(g, w, types=types)


def test_conv_models_exercise_the_hard_paths() -> None:
    """The configs really saturate accumulators and select the Resource and batched kernels."""
    from emulation.model import EmulatedModel

    em = EmulatedModel(_conv_model(), CONV_CONFIG)
    em.predict(_inputs([(16, 3), (8, 8, 2)], seed=13))
    saturated = {p for p, q in em.overflows.items() if p.endswith("accum_t") and q.count}
    assert {"c1_same.accum_t", "c2_same.accum_t", "c2_valid_res.accum_t"} <= saturated
    assert em.graph.node("c2_valid_res").attrs["reuse_factor"] == 6
    assert em.graph.node("pw2_res").kind == "PointwiseConv2D"
    pw = EmulatedModel(_depthwise1d_model(), DEPTHWISE1D_CONFIG).graph.node("pw1_batched")
    assert (pw.kind, pw.attrs["n_partitions"]) == ("PointwiseConv1D", 1)


# ===================================================================== 3. real conv models
REAL_MODELS = {
    "conv1d_small": "conv1d/KERAS_conv1d_small.json",
    "conv2d_model": "conv2d/KERAS_conv2d_model.json",
    "jet_conv2d_small": "conv2d/jetTagger_Conv2D_Small.json",
    "jet_conv2d_small_nobn": "conv2d/jetTagger_Conv2D_Small_NoBatchNorm.json",
}


@requires_gxx
@pytest.mark.csim
@pytest.mark.realdata
@pytest.mark.parametrize(
    ("model_key", "narrow"),
    [
        ("conv1d_small", False),
        ("conv1d_small", True),
        ("conv2d_model", False),
        ("conv2d_model", True),
        ("jet_conv2d_small", False),
        ("jet_conv2d_small_nobn", True),
    ],
)
def test_real_conv_model_is_bit_exact(realdata, model_key: str, narrow: bool, conv_path) -> None:
    """A community conv model: predict and every traced layer equal the C simulation."""
    import hls4ml

    from emulation.keras_io import load_model

    model = load_model(realdata / REAL_MODELS[model_key])
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    if narrow:
        config = narrow_config(config)
    rng = np.random.default_rng(5)
    # non-negative, like the jet images and pixel intensities these models were trained on
    X = np.abs(rng.normal(0.0, 1.0, (200, *model.input_shape[1:])))
    assert_equal_to_csim(model, config, X)
