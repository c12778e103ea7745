"""Convolutions as hls4ml's Vivado io_parallel templates compute them (``nnet_conv1d*.h``,
``nnet_conv2d*.h``, ``nnet_sepconv*_latency.h``, with the im2col buffer hls4ml generates).

io_parallel convolution is im2col plus the Dense kernel. For every output pixel hls4ml's
generated ``fill_buffer`` copies the receptive field into a row of ``filt_height * filt_width *
n_chan`` values, ordered (kernel row, kernel column, channel), with 0 where the window covers
padding. ``padding='same'`` (and ``'causal'``) is done there, inside the layer: io_parallel
inserts no ZeroPadding node (the windows and their geometry live in `emulation.layers.im2col`,
shared with the poolings). Each row then goes through the Dense arithmetic of
`emulation.layers.dense.dense`:

    acc = (accum_t) bias[f]
    for i in <order>:  acc = (accum_t)(acc + (accum_t)(row[i] * weight[i, f]))
    res[f] = (result_t) acc

Strategies: Latency adds in the natural order (``conv_*_latency_cl``); Resource
(``conv_*_resource_cl``) holds the weights transposed (filters first) and adds in the strided
order of ``dense_resource_rf_leq_nin``; it is only correct for ReuseFactor <= n_in (the C++
asserts it), so a larger ReuseFactor is refused here. A Conv with a 1-wide kernel becomes
hls4ml's ``PointwiseConv1D/2D``: same arithmetic.

Where numba is available and the values fit int64, `conv2d` and `depthwise_conv2d` run
`emulation.layers.conv_compiled` instead: the same casts in one compiled loop that reads the
windows in place (no im2col copy). The im2col + `dense` path below stays the reference; the
tests run both.

Depthwise convolution (``depthwise_conv_*_latency_cl``): each channel is its own Dense with
``filt_height * filt_width`` inputs and one output, products cast to accum_t, summed from the
cast bias in kernel order. hls4ml supports it for Latency only (Resource asserts) and depth
multiplier 1. Keras ``SeparableConv1D/2D`` is split by hls4ml into ``DepthwiseConv`` +
``Conv``/``PointwiseConv`` nodes, each emulated on its own (hls4ml 1.3's Keras 3 converter
cannot read a SeparableConv layer at all: it asks for a ``kernel`` attribute the layer lacks).
A model holding both a DepthwiseConv1D and a DepthwiseConv2D does not compile in hls4ml 1.3:
``nnet_sepconv1d_latency.h`` reuses the include guard of ``nnet_sepconv2d_latency.h``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emulation.fixed import FixedType
from emulation.layers import conv_compiled
from emulation.layers.base import Context, Node, register
from emulation.layers.dense import dense, dense_sum_order
from emulation.layers.im2col import (
    Pads,
    _refuse,
    _samples_per_block,
    layer_geometry,
    output_size,
    windows_2d,
)

__all__ = [
    "Pads",
    "conv1d",
    "conv2d",
    "depthwise_conv1d",
    "depthwise_conv2d",
    "layer_geometry",
    "output_size",
    "windows_2d",
]

CONV_KINDS = ("Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D", "Conv2DBatchnorm")
DEPTHWISE_KINDS = ("DepthwiseConv1D", "DepthwiseConv2D")
KINDS = CONV_KINDS + DEPTHWISE_KINDS  # the kinds that run `conv_compiled`'s loops


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    strides: tuple[int, int],
    pads: Pads,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    order: Sequence[int] | np.ndarray | None = None,
    ctx: Context | None = None,
    point: str = "conv2d",
) -> np.ndarray:
    """``nnet::conv_2d_cl`` (io_parallel, Latency or Resource) on exact fixed-point values.

    Parameters
    ----------
    x : (batch, height, width, n_chan) exact values of ``x_t`` (channels last).
    w : (filt_height, filt_width, n_chan, n_filt) exact weights (Keras layout).
    b : (n_filt,) exact biases.
    strides, pads : (stride_h, stride_w); (top, bottom, left, right) zero padding.
    order : order in which each filter adds the ``kh * kw * n_chan`` products
        (`dense_sum_order`); None is the natural order.
    ctx, point : overflow accounting under ``"<point>.accum_t"`` and ``"<point>.result_t"``.

    Cast points (per output pixel and filter, as `emulation.layers.dense.dense`): the bias to
    accum_t; each product ``row[i] * w[i, f]`` to accum_t; each running sum to accum_t; the
    accumulator to result_t. Padding contributes products of 0.

    Returns
    -------
    (batch, out_h, out_w, n_filt) float64 exact values of result_t.
    """
    kh, kw, n_chan, n_filt = w.shape
    n_in = kh * kw * n_chan
    w2 = np.asarray(w, dtype=np.float64).reshape(n_in, n_filt)
    ctx = ctx if ctx is not None else Context()
    oh, ow = output_size(x.shape[1:3], (kh, kw), strides, pads)
    types = {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": accum_t, "result_t": result_t}
    y = conv_compiled.conv2d(
        x, w, b, strides=strides, pads=pads, out_size=(oh, ow), **types, order=order, ctx=ctx,
        point=point,
    )  # fmt: skip
    if y is not None:
        return y
    out = np.empty((x.shape[0], oh, ow, n_filt))
    step = _samples_per_block(oh * ow, n_in)
    for s0 in range(0, x.shape[0], step):
        cols = windows_2d(x[s0 : s0 + step], (kh, kw), strides, pads)
        y = dense(
            cols.reshape(-1, n_in),
            w2,
            b,
            x_t=x_t,
            w_t=w_t,
            b_t=b_t,
            accum_t=accum_t,
            result_t=result_t,
            order=order,
            ctx=ctx,
            point=point,
        )
        out[s0 : s0 + step] = y.reshape(cols.shape[0], oh, ow, n_filt)
    return out


def conv1d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    stride: int,
    pads: tuple[int, int],
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    order: Sequence[int] | np.ndarray | None = None,
    ctx: Context | None = None,
    point: str = "conv1d",
) -> np.ndarray:
    """``nnet::conv_1d_cl`` / ``pointwise_conv_1d_cl`` (io_parallel): `conv2d` of height 1.

    ``x`` is (batch, width, n_chan), ``w`` (filt_width, n_chan, n_filt), ``pads`` (left,
    right). Same cast points as `conv2d`. Returns (batch, out_width, n_filt).
    """
    y = conv2d(
        x[:, None],
        np.asarray(w)[None],
        b,
        strides=(1, stride),
        pads=(0, 0, *pads),
        x_t=x_t,
        w_t=w_t,
        b_t=b_t,
        accum_t=accum_t,
        result_t=result_t,
        order=order,
        ctx=ctx,
        point=point,
    )
    return y[:, 0]


def depthwise_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    strides: tuple[int, int],
    pads: Pads,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "depthwise_conv2d",
) -> np.ndarray:
    """``nnet::depthwise_conv_2d_latency_cl`` on exact fixed-point values.

    Parameters
    ----------
    x : (batch, height, width, n_chan) exact values of ``x_t``.
    w : (filt_height, filt_width, n_chan) exact weights (a trailing depth-multiplier axis of
        1 is accepted).
    b : (n_chan,) exact biases.

    Each channel c is a Dense with ``kh * kw`` inputs: ``acc = (accum_t) b[c]``, then for each
    kernel position in order ``acc = (accum_t)(acc + (accum_t)(x * w))``, then
    ``(result_t) acc``. Returns (batch, out_h, out_w, n_chan).
    """
    kh, kw = w.shape[:2]
    n_chan = x.shape[-1]
    w3 = np.asarray(w, dtype=np.float64).reshape(kh * kw, n_chan)
    b = np.asarray(b, dtype=np.float64).reshape(n_chan)
    ctx = ctx if ctx is not None else Context()
    oh, ow = output_size(x.shape[1:3], (kh, kw), strides, pads)
    types = {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": accum_t, "result_t": result_t}
    diagonal = np.zeros((kh, kw, n_chan, n_chan))
    diagonal[:, :, np.arange(n_chan), np.arange(n_chan)] = w3.reshape(kh, kw, n_chan)
    y = conv_compiled.conv2d(
        x, diagonal, b, strides=strides, pads=pads, out_size=(oh, ow), **types, order=None,
        ctx=ctx, point=point, depthwise=True,
    )  # fmt: skip
    if y is not None:
        return y
    out = np.empty((x.shape[0], oh, ow, n_chan))
    step = _samples_per_block(oh * ow, kh * kw * n_chan)
    for s0 in range(0, x.shape[0], step):
        cols = windows_2d(x[s0 : s0 + step], (kh, kw), strides, pads)
        n = cols.shape[0]
        # the window of channel c is every n_chan-th value of the im2col row
        cols = cols.reshape(-1, kh * kw, n_chan)
        for c in range(n_chan):
            y = dense(
                cols[:, :, c],
                w3[:, c : c + 1],
                b[c : c + 1],
                x_t=x_t,
                w_t=w_t,
                b_t=b_t,
                accum_t=accum_t,
                result_t=result_t,
                ctx=ctx,
                point=point,
            )
            out[s0 : s0 + n, ..., c] = y.reshape(n, oh, ow)
    return out


def depthwise_conv1d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    stride: int,
    pads: tuple[int, int],
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "depthwise_conv1d",
) -> np.ndarray:
    """``nnet::depthwise_conv_1d_latency_cl``: `depthwise_conv2d` of height 1.

    ``x`` is (batch, width, n_chan), ``w`` (filt_width, n_chan[, 1]), ``pads`` (left, right).
    """
    y = depthwise_conv2d(
        x[:, None],
        np.asarray(w)[None],
        b,
        strides=(1, stride),
        pads=(0, 0, *pads),
        x_t=x_t,
        w_t=w_t,
        b_t=b_t,
        accum_t=accum_t,
        result_t=result_t,
        ctx=ctx,
        point=point,
    )
    return y[:, 0]


# --- adapters ---------------------------------------------------------------------------------


def _check_output(node: Node, y: np.ndarray) -> None:
    if tuple(y.shape[1:]) != tuple(node.output_shape):
        # hls4ml's im2col ignores dilation: its windows would not match Keras's output
        raise _refuse(
            node,
            f"computes {tuple(y.shape[1:])} values from its kernel, strides and padding but "
            f"hls4ml declares {tuple(node.output_shape)} (dilation is not supported)",
            "use dilation_rate=1",
        )


def _strategy(node: Node) -> str:
    strategy = str(node.attrs.get("strategy", "latency")).lower()
    if strategy not in ("latency", "resource"):
        raise _refuse(
            node,
            f"uses strategy {strategy!r}",
            "the emulator supports Latency and Resource: set Strategy to one of those",
        )
    if (node.attrs.get("product_type") or "mult") != "mult":
        raise _refuse(
            node,
            f"uses nnet::product::{node.attrs['product_type']} (binary, ternary or exponent "
            "weights)",
            "the emulator supports ordinary fixed-point products: give it fixed-point weights",
        )
    return strategy


@register(*CONV_KINDS)
def conv_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Conv node -> `conv2d`, with hls4ml's strategy, reuse factor and weight layout."""
    kernel, strides, pads, _ = layer_geometry(node)
    strategy = _strategy(node)
    x = inputs[0]
    if x.ndim == 3:
        x = x[:, None]
    n_chan = x.shape[-1]
    n_in = kernel[0] * kernel[1] * n_chan
    w = node.weights["weight"]
    if node.attrs.get("_weights_transposed", False):
        w = np.moveaxis(w, 0, -1)  # Resource strategy: hls4ml holds (n_filt, *kernel, n_chan)
    w = w.reshape(kernel[0], kernel[1], n_chan, -1)
    reuse = int(node.attrs.get("reuse_factor", 1))
    if strategy == "resource" and reuse > n_in:
        raise _refuse(
            node,
            f"uses Resource strategy with ReuseFactor {reuse} > {n_in} (kernel size x "
            "channels); hls4ml's conv_resource kernel asserts ReuseFactor <= that and the C "
            "simulation aborts",
            f"choose a ReuseFactor of at most {n_in}",
        )
    y = conv2d(
        x,
        w,
        node.weights["bias"],
        strides=strides,
        pads=pads,
        x_t=node.input_types[0],
        w_t=node.types["weight_t"],
        b_t=node.types["bias_t"],
        accum_t=node.types["accum_t"],
        result_t=node.types["result_t"],
        order=dense_sum_order(n_in, strategy, reuse),
        ctx=ctx,
        point=node.name,
    )
    if "2D" not in node.kind:
        y = y[:, 0]
    _check_output(node, y)
    return y


@register(*DEPTHWISE_KINDS)
def depthwise_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """DepthwiseConv node -> `depthwise_conv2d` (Latency only, depth multiplier 1)."""
    kernel, strides, pads, _ = layer_geometry(node)
    if _strategy(node) != "latency":
        raise _refuse(
            node,
            "uses Resource strategy; hls4ml's io_parallel depthwise convolution exists for "
            "Latency only (depthwise_conv_*_cl asserts otherwise)",
            "set Strategy: Latency for this layer",
        )
    x = inputs[0]
    if x.ndim == 3:
        x = x[:, None]
    n_chan = x.shape[-1]
    if int(node.attrs.get("depth_multiplier", 1)) != 1:
        raise _refuse(
            node,
            f"has depth_multiplier {node.attrs.get('depth_multiplier')}; hls4ml's depthwise "
            "kernel supports only 1",
            "use depth_multiplier=1",
        )
    w = node.weights["weight"].reshape(kernel[0], kernel[1], n_chan)
    y = depthwise_conv2d(
        x,
        w,
        node.weights["bias"],
        strides=strides,
        pads=pads,
        x_t=node.input_types[0],
        w_t=node.types["weight_t"],
        b_t=node.types["bias_t"],
        accum_t=node.types["accum_t"],
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )
    if "2D" not in node.kind:
        y = y[:, 0]
    _check_output(node, y)
    return y
