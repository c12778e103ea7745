"""Pooling as hls4ml's Vivado io_parallel templates compute it (``nnet_pooling.h``:
``pooling1d_cl``, ``pooling2d_cl``, ``global_pooling1d_cl``, ``global_pooling2d_cl``).

Every window is gathered into ``data_T pool[N]`` (padded cells hold ``pad_val``) and reduced by
``pool_op<data_T, N, op, accum_t>``, whose ``accum_t`` return value is assigned to ``res_T``:

Max
    ``y = x[0]; y = x[i] > y ? x[i] : y`` in data_T (exact comparisons), then two casts: the
    maximum to accum_t (the return type) and that to result_t. A padded cell holds ``pad_val``:
    data_T with only its top bit set. For a signed type that is its most negative value, which
    never wins; for an **unsigned** type it is 2^(I-1), half the range, so a window touching the
    padding of ``padding='same'`` max pooling returns at least 2^(I-1).
Average
    ``accum_t y = 0; y += x[i]`` for every cell in window order (each ``+=`` is an exact sum cast
    back to accum_t, so rounding and saturation act step by step; padded cells add 0), then
    ``y /= n`` with n the number of real cells (``count_pad``: the window size). ap_fixed
    division by an integer keeps accum_t's LSB and truncates toward zero (``sdiv``). Then
    ``(result_t) y``.

Global pooling is the same reduction over all pixels of a channel (n = height * width). Note that
hls4ml infers an 'auto' accum_t only for Pooling1D/2D (input width + 2 ceil(log2 N) bits); a
global pooling layer's 'auto' accum_t is the model default precision.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import INT64_BITS, FixedType, Overflow, sum_type
from emulation.layers.base import Context, Node, register
from emulation.layers.exact import Caster
from emulation.layers.im2col import Pads, layer_geometry, output_size, windows_2d

__all__ = [
    "average_pool2d",
    "global_pool",
    "max_pad_value",
    "max_pool2d",
    "reduce_average",
    "reduce_max",
]

# Values of one window block (samples x pixels x window x channels): 32 MiB of float64.
_BLOCK = 1 << 22


def max_pad_value(x_t: FixedType) -> float:
    """``nnet::pad_val<data_T, Max>``: data_T with only bit W-1 set (signed: its minimum)."""
    return float(np.ldexp(-1.0 if x_t.signed else 1.0, x_t.integer - 1))


def reduce_max(
    windows: np.ndarray,
    *,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "pool",
) -> np.ndarray:
    """``pool_op<..., Max, accum_t>`` over axis -2 of ``(..., N, chan)``, then ``(res_T)``.

    Cast points: the window maximum (a data_T value) to accum_t, then to result_t.
    """
    cast = Caster(ctx, point)
    return cast(cast(np.max(windows, axis=-2), accum_t, "accum_t"), result_t, "result_t")


def reduce_average(
    windows: np.ndarray,
    counts: np.ndarray | int,
    *,
    x_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "pool",
) -> np.ndarray:
    """``pool_op<..., Average, accum_t>`` over axis -2 of ``(..., N, chan)``, then ``(res_T)``.

    Parameters
    ----------
    windows : exact data_T values, padded cells 0, in the template's window order.
    counts : the divisor of each window, broadcast against ``windows.shape[:-2]``.

    Cast points: after each ``y += x[i]`` the exact sum to accum_t (in window order); the
    quotient ``y / n`` truncated toward zero at accum_t's LSB (exact: C++ ``sdiv`` of the
    mantissa, no rounding mode involved); the result to result_t.
    """
    n_cells = windows.shape[-2]
    s_t = sum_type(accum_t, x_t)
    dtype = np.int64 if max(s_t.width, x_t.width) <= INT64_BITS else object
    mx = np.asarray(x_t.quantize_raw(windows)).astype(dtype)
    cast = Caster(ctx, point)
    shift_acc = s_t.fractional - accum_t.fractional
    shift_x = s_t.fractional - x_t.fractional
    my = np.zeros(windows.shape[:-2] + windows.shape[-1:], dtype=dtype)
    wraps = accum_t.overflow is Overflow.WRAP and accum_t.sat_bits == 0
    if wraps and accum_t.fractional >= x_t.fractional and dtype is np.int64:
        # casts that only wrap commute with addition: add every cell, wrap once
        total_bits = s_t.width + max(0, n_cells - 1).bit_length()
        if total_bits <= INT64_BITS:
            total = np.sum(mx, axis=-2) << shift_x
            total_t = FixedType(total_bits, total_bits - s_t.fractional, s_t.signed)
            raw, over = accum_t.requantize_raw(total, total_t, return_overflow=True)
            cast.record_raw("accum_t", over, total, s_t.fractional)
            my = np.asarray(raw).astype(dtype)
            n_cells = 0
    for i in range(n_cells):
        s = (my << shift_acc) + (mx[..., i, :] << shift_x)
        raw, over = accum_t.requantize_raw(s, s_t, return_overflow=True)
        cast.record_raw("accum_t", over, s, s_t.fractional)
        my = np.asarray(raw).astype(dtype)
    n = np.broadcast_to(np.asarray(counts, dtype=np.int64)[..., None], my.shape).astype(dtype)
    q = np.where(my < 0, -((-my) // n), my // n)  # sdiv / udiv: toward zero
    res, over = result_t.requantize_raw(q, accum_t, return_overflow=True)
    cast.record_raw("result_t", over, q, accum_t.fractional)
    return np.ldexp(np.asarray(res, dtype=np.float64), -result_t.fractional) + 0.0


def _pool2d(
    x: np.ndarray,
    op: str,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: Pads,
    count_pad: bool,
    x_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None,
    point: str,
) -> np.ndarray:
    kh, kw = kernel
    n_chan = x.shape[-1]
    oh, ow = output_size(x.shape[1:3], kernel, strides, pads)
    pad_value = max_pad_value(x_t) if op == "max" else 0.0
    if op == "average":
        if count_pad:
            counts: np.ndarray | int = kh * kw
        else:
            ones = np.ones((1, *x.shape[1:3], 1))
            counts = windows_2d(ones, kernel, strides, pads).sum(axis=-1)[0].astype(np.int64)
    out = np.empty((x.shape[0], oh, ow, n_chan))
    step = max(1, _BLOCK // max(1, oh * ow * kh * kw * n_chan))
    for s0 in range(0, x.shape[0], step):
        cols = windows_2d(x[s0 : s0 + step], kernel, strides, pads, pad_value)
        win = cols.reshape(*cols.shape[:3], kh * kw, n_chan)
        if op == "max":
            y = reduce_max(win, accum_t=accum_t, result_t=result_t, ctx=ctx, point=point)
        else:
            y = reduce_average(
                win, counts, x_t=x_t, accum_t=accum_t, result_t=result_t, ctx=ctx, point=point
            )
        out[s0 : s0 + step] = y
    return out


def max_pool2d(
    x: np.ndarray,
    *,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: Pads = (0, 0, 0, 0),
    x_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "pool",
) -> np.ndarray:
    """``nnet::pooling2d_cl`` with ``Max`` on ``(batch, height, width, chan)``.

    Padded cells hold `max_pad_value` (x_t with only its top bit set). Casts: the maximum to
    accum_t, then to result_t. A 1D pooling is this with height 1.
    """
    return _pool2d(x, "max", kernel, strides, pads, False, x_t, accum_t, result_t, ctx, point)


def average_pool2d(
    x: np.ndarray,
    *,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: Pads = (0, 0, 0, 0),
    count_pad: bool = False,
    x_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "pool",
) -> np.ndarray:
    """``nnet::pooling2d_cl`` with ``Average`` on ``(batch, height, width, chan)``.

    Casts as `reduce_average`; the divisor is the number of cells inside the image (the window
    size with ``count_pad``). A 1D pooling is this with height 1.
    """
    return _pool2d(
        x, "average", kernel, strides, pads, count_pad, x_t, accum_t, result_t, ctx, point
    )


def global_pool(
    x: np.ndarray,
    op: str,
    *,
    x_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "pool",
) -> np.ndarray:
    """``nnet::global_pooling{1,2}d_cl``: ``op`` ('max' or 'average') over every pixel.

    ``x`` is (batch, ..., chan); pixels are taken in row-major order. Returns (batch, chan).
    """
    win = x.reshape(x.shape[0], -1, x.shape[-1])
    if op == "max":
        return reduce_max(win, accum_t=accum_t, result_t=result_t, ctx=ctx, point=point)
    return reduce_average(
        win, win.shape[1], x_t=x_t, accum_t=accum_t, result_t=result_t, ctx=ctx, point=point
    )


# --- adapters ---------------------------------------------------------------------------------


def _op(node: Node) -> str:
    op = str(node.attrs.get("pool_op", "")).lower()
    if op not in ("max", "average"):
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) has pool_op {node.attrs.get('pool_op')!r}; "
            "hls4ml pools with Max or Average only"
        )
    return op


@register("Pooling1D", "Pooling2D")
def pooling_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Pooling1D/2D node -> `max_pool2d` / `average_pool2d`."""
    kernel, strides, pads, _ = layer_geometry(node)
    x = inputs[0]
    if x.ndim == 3:
        x = x[:, None]
    kwargs = {
        "kernel": kernel,
        "strides": strides,
        "pads": pads,
        "x_t": node.input_types[0],
        "accum_t": node.types["accum_t"],
        "result_t": node.types["result_t"],
        "ctx": ctx,
        "point": node.name,
    }
    if _op(node) == "max":
        y = max_pool2d(x, **kwargs)
    else:
        y = average_pool2d(x, count_pad=bool(node.attrs.get("count_pad", False)), **kwargs)
    return y.reshape(y.shape[0], *node.output_shape)


@register("GlobalPooling1D", "GlobalPooling2D")
def global_pooling_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """GlobalPooling1D/2D node -> `global_pool`."""
    if node.attrs.get("data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) uses data_format "
            f"{node.attrs.get('data_format')!r}; the emulator reproduces channels_last only"
        )
    y = global_pool(
        inputs[0],
        _op(node),
        x_t=node.input_types[0],
        accum_t=node.types["accum_t"],
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )
    return y.reshape(y.shape[0], *node.output_shape)
