"""Average pooling as hls4ml's io_stream templates compute it (``nnet_pooling_stream.h``).

The stream templates gather each window into ``accum_t pool_window[N]``, so every cell is cast to
accum_t *before* it is added (io_parallel adds data_T cells to an accum_t sum), and:

- ``pooling{1,2}d_cl`` sums a window with ``reduce<accum_t, N, Op_add>``, hls4ml's balanced
  adder tree (the softmax's `emulation.layers.softmax.tree_sum`), every partial sum cast to
  accum_t, then
  ``sum / N`` truncates toward zero at accum_t's LSB. A saturating accum_t therefore saturates in
  tree order, not window order.
- ``global_pooling{1,2}d_cl`` adds the pixels one by one (``data_window[c] + x``, cast to
  accum_t), then divides by height * width as above.

Stream pooling asserts no padding and strides equal to the pool size (`emulation.stream` refuses
other windows).

Max pooling is unchanged: the cast to accum_t is monotonic, so the maximum of the cast cells is
the cast of io_parallel's maximum. The graph gives stream average pooling nodes the kinds below
(`emulation.stream`), hls4ml's class name plus ``Stream``.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType, Overflow
from emulation.layers.base import Context, Node, register
from emulation.layers.exact import Caster
from emulation.layers.im2col import layer_geometry, windows_2d
from emulation.layers.pooling import reduce_average
from emulation.layers.softmax import tree_sum

__all__ = ["STREAM_POOLING_KINDS", "window_average"]

#: kinds of the io_stream average pooling nodes (hls4ml's class plus "Stream").
STREAM_POOLING_KINDS = (
    "Pooling1DStream",
    "Pooling2DStream",
    "GlobalPooling1DStream",
    "GlobalPooling2DStream",
)


def window_average(
    windows: np.ndarray,
    *,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context,
    point: str,
) -> np.ndarray:
    """``reduce_pool<accum_t, N>`` (Average) over axis -2 of ``(..., N, chan)`` accum_t cells,
    then ``(res_T)``."""
    n = windows.shape[-2]
    wraps = accum_t.overflow is Overflow.WRAP and accum_t.sat_bits == 0
    if wraps:  # wrapping casts commute with addition: any order gives the tree's sum
        return reduce_average(
            windows, n, x_t=accum_t, accum_t=accum_t, result_t=result_t, ctx=ctx, point=point
        )
    cast = Caster(ctx, point)
    total = tree_sum([windows[..., i, :] for i in range(n)], accum_t, cast)
    m = np.rint(np.ldexp(total, accum_t.fractional)).astype(np.int64)
    q = np.where(m < 0, -((-m) // n), m // n)  # ap_fixed / int: toward zero at the LSB
    return cast.raw(q, accum_t.fractional, result_t, "result_t")


def _check_op(node: Node) -> str:
    op = str(node.attrs.get("pool_op", "")).lower()
    if op != "average":
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) has pool_op {node.attrs.get('pool_op')!r}; "
            "only io_stream average pooling has its own kind"
        )
    return op


@register("Pooling1DStream", "Pooling2DStream")
def _pooling_stream_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    _check_op(node)
    kernel, strides, pads, _ = layer_geometry(node)  # no padding: `emulation.stream` checks
    x = inputs[0]
    if x.ndim == 3:
        x = x[:, None]
    accum_t, result_t = node.types["accum_t"], node.types["result_t"]
    cells = Caster(ctx, node.name)(x, accum_t, "accum_t")
    cols = windows_2d(cells, kernel, strides, pads)
    win = cols.reshape(*cols.shape[:3], kernel[0] * kernel[1], x.shape[-1])
    y = window_average(win, accum_t=accum_t, result_t=result_t, ctx=ctx, point=node.name)
    return y.reshape(y.shape[0], *node.output_shape)


@register("GlobalPooling1DStream", "GlobalPooling2DStream")
def _global_pooling_stream_adapter(
    node: Node, inputs: list[np.ndarray], ctx: Context
) -> np.ndarray:
    _check_op(node)
    accum_t, result_t = node.types["accum_t"], node.types["result_t"]
    x = inputs[0]
    cells = Caster(ctx, node.name)(x.reshape(x.shape[0], -1, x.shape[-1]), accum_t, "accum_t")
    y = reduce_average(
        cells,
        cells.shape[1],
        x_t=accum_t,
        accum_t=accum_t,
        result_t=result_t,
        ctx=ctx,
        point=node.name,
    )
    return y.reshape(y.shape[0], *node.output_shape)
