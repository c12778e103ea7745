"""`emulation.layers.conv` without a compiler: hls4ml's own im2col windows, the template loops
(`tests.support.conv_reference`), depthwise as one dense per channel, and what is refused."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers.base import Context, Node
from emulation.layers.conv import (
    conv2d,
    conv_adapter,
    depthwise_adapter,
    depthwise_conv2d,
    windows_2d,
)
from emulation.layers.dense import dense_sum_order
from tests.support.conv_reference import draw_fixed, reference_conv2d
from tests.support.hls import mismatch_report

T = FixedType.parse


# ===================================================================== 1. without a compiler


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
    x = draw_fixed(rng, (3, 5, 6, 2), x_t, 3.0)
    w = draw_fixed(rng, (3, 2, 2, 3), w_t, 0.6)
    b = draw_fixed(rng, (3,), b_t, 0.5)
    order = dense_sum_order(12, "resource", reuse)
    want = reference_conv2d(x, w, b, (2, 1), (1, 1, 0, 1), T(accum), T(result), order)
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
    x = draw_fixed(rng, (4, 5, 5, 3), x_t, 3.0)
    w = draw_fixed(rng, (3, 3, 3), w_t, 0.6)
    b = draw_fixed(rng, (3,), b_t, 0.5)
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
        want = reference_conv2d(
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
