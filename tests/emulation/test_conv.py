"""`emulation.layers.conv` against literal loops, hls4ml's own im2col, and hls4ml's C simulation.

1. `windows_2d` against hls4ml's ``_compute_conv2d_im2col`` (the code generator of the C++
   ``fill_buffer``), and `conv2d` / `depthwise_conv2d` against a loop-by-loop transcription of
   ``conv_2d_latency_cl`` / ``conv_2d_resource_cl`` (no compiler: ``test_conv_cases.py``);
2. one seeded model with a 1D and a 2D branch (Conv1D 'same' strided and 'causal', Resource
   with ReuseFactor > 1, PointwiseConv1D through ``BatchedDenseForConv1D``, DepthwiseConv1D/2D,
   Conv2D 'same'/'valid', strides 2, accumulators narrower than the products, SAT, SAT_SYM and
   WRAP, five rounding modes) compiled once: ``predict`` and every layer's trace equal;
3. the hls4ml community conv models on synthetic inputs, with the default 'auto' config and a
   narrow one.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from tests.conftest import requires_gxx
from tests.support.conv_reference import REAL_CONV_MODELS
from tests.support.hls import (
    assert_equal_to_csim,
    hls_predict,
    hls_trace,
    mismatch_report,
    narrow_config,
)

T = FixedType.parse
N_SAMPLES = 300


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

    from emulation.io.keras_files import load_model

    model = load_model(realdata / REAL_CONV_MODELS[model_key])
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    if narrow:
        config = narrow_config(config)
    rng = np.random.default_rng(5)
    # non-negative, like the jet images and pixel intensities these models were trained on
    X = np.abs(rng.normal(0.0, 1.0, (200, *model.input_shape[1:])))
    assert_equal_to_csim(model, config, X)
