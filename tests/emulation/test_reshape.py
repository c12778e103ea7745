"""`emulation.layers.reshape` against hand-computed cases and hls4ml's C simulation.

One seeded model chains ZeroPadding1D/2D, Cropping1D/2D, Permute (hls4ml ``Transpose``),
UpSampling1D/2D (``Resize``), Reshape and Flatten, with result types narrower than their inputs
so every copy casts (rounding, saturation, wrap). Compiled once: ``predict`` and every layer's
trace equal.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers.base import Context, Node
from emulation.layers.reshape import crop_2d, resize_nearest, transpose, zero_pad_1d
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, hls_trace, mismatch_report

T = FixedType.parse
N_SAMPLES = 300


# ===================================================================== 1. without a compiler
def test_zero_padding_casts_the_copied_values() -> None:
    """Copied values are cast to result_t (RND, SAT here); the padding is exactly 0."""
    x = np.array([[[0.3], [9.0]]])
    y = zero_pad_1d(x, 1, 2, result_t=T("ap_fixed<6,3,AP_RND,AP_SAT>"))
    assert y[0, :, 0].tolist() == [0.0, 0.25, 3.875, 0.0, 0.0]


def test_crop_2d_keeps_the_inner_block() -> None:
    """Cropping (top, bottom, left, right) keeps rows top..h-bottom and columns left..w-right."""
    x = np.arange(20.0).reshape(1, 4, 5, 1)
    y = crop_2d(x, (1, 2, 2, 1), result_t=T("ap_fixed<16,8>"))
    assert y[0, :, :, 0].tolist() == [[7.0, 8.0]]


def test_transpose_permutes_sample_axes() -> None:
    """perm counts the axes of one sample; the batch axis stays first."""
    x = np.arange(6.0).reshape(1, 2, 3)
    y = transpose(x, (1, 0), result_t=T("ap_fixed<16,8>"))
    assert y[0].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


@pytest.mark.parametrize(("size", "factor"), [(3, 2), (5, 3), (7, 4), (60, 5)])
def test_nearest_resize_repeats_each_pixel(size: int, factor: int) -> None:
    """The template's 16-bit ratio picks pixel i // factor for integer upsampling factors."""
    x = np.arange(size, dtype=np.float64).reshape(1, 1, size, 1)
    y = resize_nearest(x, 1, size * factor)
    assert y[0, 0, :, 0].tolist() == np.repeat(np.arange(size), factor).tolist()


def test_resize_to_another_type_is_refused() -> None:
    """resize_nearest has one type for input and output: hls4ml's C++ does not compile else."""
    from emulation.layers.reshape import _resize_adapter

    t = T("ap_fixed<8,3>")
    node = Node(
        name="up", kind="Resize", inputs=("x",), output_shape=(1, 4, 1),
        attrs={"algorithm": "nearest", "out_height": 1, "out_width": 4},
        types={"result_t": t}, input_types=(T("ap_fixed<12,5>"),),
    )  # fmt: skip
    with pytest.raises(UnsupportedLayerError, match="does not compile"):
        _resize_adapter(node, [np.zeros((1, 1, 2, 1))], Context())


def test_bilinear_resize_is_refused() -> None:
    """hls4ml's io_parallel Resize has no bilinear kernel: the emulator refuses it by name."""
    from emulation.layers.reshape import _resize_adapter

    t = T("ap_fixed<8,3>")
    node = Node(
        name="up", kind="Resize", inputs=("x",), output_shape=(4, 4, 1),
        attrs={"algorithm": "bilinear", "out_height": 4, "out_width": 4},
        types={"result_t": t}, input_types=(t,),
    )  # fmt: skip
    with pytest.raises(UnsupportedLayerError, match="nearest"):
        _resize_adapter(node, [np.zeros((1, 2, 2, 1))], Context())


# ========================================================================= 2. C simulation
def _reshape_model() -> object:
    """Two branches through every reshaping layer; names are referred to by the config below."""
    import keras

    keras.utils.set_random_seed(42)
    L = keras.layers
    a = keras.Input((6, 5, 2), name="in2d")
    x = L.Conv2D(2, 1, name="conv_auto")(a)
    x = L.ZeroPadding2D(((1, 2), (0, 1)), name="zp2")(x)
    x = L.Cropping2D(((1, 0), (2, 1)), name="cr2")(x)
    x = L.Permute((2, 1, 3), name="perm3")(x)
    up2 = L.UpSampling2D((2, 3), name="up2")(x)
    r = L.Reshape((-1, 2), name="rs")(x)
    r = L.UpSampling1D(2, name="up1r")(r)
    b = keras.Input((7, 3), name="in1d")
    y = L.ZeroPadding1D((2, 1), name="zp1")(b)
    y = L.Cropping1D((1, 3), name="cr1")(y)
    y = L.UpSampling1D(3, name="up1")(y)
    y = L.Permute((2, 1), name="perm2")(y)
    f = L.Permute((2, 1), name="perm_flat")(b)
    f = L.Flatten(name="flat")(f)
    f = L.Dense(3, name="after_flat")(f)
    return keras.Model([a, b], [up2, r, y, f])


DEFAULT = "ap_fixed<8,3,AP_RND,AP_SAT>"
RESHAPE_CONFIG = {
    "Model": {"Precision": DEFAULT, "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "in2d": {"Precision": {"result": "ap_fixed<12,5>"}},
        "in1d": {"Precision": {"result": "ap_fixed<12,5,AP_RND>"}},
        "conv_auto": {"Precision": {"accum": "auto", "result": "auto"}},
        "zp2": {"Precision": {"result": "auto"}},
        "cr2": {"Precision": {"result": "auto"}},
        "zp1": {"Precision": {"result": "ap_fixed<6,2>"}},  # ignored by hls4ml
        "after_flat": {"Precision": {"accum": "ap_fixed<20,8>", "result": "ap_fixed<20,8>"}},
    },
}


def _reshape_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(41)
    xa = rng.normal(0.0, 4.0, (N_SAMPLES, 6, 5, 2))
    xb = rng.normal(0.0, 4.0, (N_SAMPLES, 7, 3))
    return [xa, xb]


@pytest.fixture(scope="module")
def reshape_run() -> tuple[object, object, list[np.ndarray]]:
    from emulation.model import EmulatedModel

    model = _reshape_model()
    return model, EmulatedModel(model, RESHAPE_CONFIG), _reshape_inputs()


def test_configured_result_of_copy_layers_is_ignored(reshape_run) -> None:
    """hls4ml gives ZeroPadding (and Cropping, Transpose, Resize) its input's type, whatever
    the config says."""
    _, em, _ = reshape_run
    node = em.graph.node("zp1")
    assert node.types["result_t"] == node.input_types[0] == T("ap_fixed<12,5,AP_RND>")


def test_cropping_after_an_auto_layer_takes_the_model_default(reshape_run) -> None:
    """A Cropping whose input was 'auto' when hls4ml built it casts to the model default."""
    _, em, _ = reshape_run
    node = em.graph.node("cr2")
    assert node.input_types[0].width > 20
    assert node.types["result_t"] == T(DEFAULT)


def test_transpose_before_flatten_is_folded_into_the_dense_weights(reshape_run) -> None:
    """hls4ml removes Permute -> Flatten -> Dense's transpose and permutes the Dense weights."""
    _, em, _ = reshape_run
    names = [n.name for n in em.nodes]
    assert "perm_flat" not in names
    assert "perm2" in names


@requires_gxx
@pytest.mark.csim
def test_reshape_model_predict_is_bit_exact(reshape_run) -> None:
    """Every output of the reshaping model equals hls4ml's C simulation."""
    model, em, X = reshape_run
    got, want = em.predict(X), hls_predict(model, RESHAPE_CONFIG, X)
    for g, w in zip(got, want, strict=True):
        g = g.reshape(w.shape)
        assert np.array_equal(g, w), mismatch_report(g, w)


@requires_gxx
@pytest.mark.csim
def test_reshape_model_trace_is_bit_exact(reshape_run) -> None:
    """Every reshaping layer's output equals hls4ml's trace of the same layer."""
    model, em, X = reshape_run
    got, want = em.trace(X), hls_trace(model, RESHAPE_CONFIG, X)
    assert {"zp2", "cr2", "perm3", "up2", "up1r", "zp1", "cr1", "up1", "perm2"} <= set(want)
    for name, w in want.items():
        g = got[name].reshape(w.shape)
        types = em.graph.node(name).types
        assert np.array_equal(g, w), f"{name}: " + mismatch_report(g, w, types=types)
