"""io_parallel convolutions as one compiled loop (numba) that reads the windows in place.

The NumPy path (`emulation.layers.conv`) copies every window into an im2col matrix and runs
`emulation.layers.dense.dense` on it, in blocks of samples: ``kh * kw`` copies of the input,
a few passes over them, and per-block casts. Here, for a block of output pixels at a time
(samples x out_h x out_w, flattened), the window values are gathered into a small buffer that
stays in cache (0 where the window covers padding, as hls4ml's ``fill_buffer`` writes), then
every accumulation runs the C++ loop of ``conv_*_cl`` exactly, in int64 mantissas::

    acc = bias[f]
    for i in <order>:  acc = O(acc + R(x[i] * w[i, f] / 2^k))

with R the rounding of accum_t (cast 2, the add-and-shift of `dense_compiled`; k = 0 when
accum_t keeps every fractional bit of the products) and O its overflow mode (cast 3): none for
a plain wrap (addition modulo 2^W is associative: the exact sum is wrapped once afterwards),
saturation or zero otherwise, every partial sum in the C++ order. The accumulations of a
block are the innermost loop, so it vectorises for any number of filters.

It applies when every value is an int64 mantissa, no product can overflow accum_t on its own
and every partial sum fits 62 bits (bounds from the largest input of each channel, as
`emulation.layers.dense` proves its paths); `conv2d` returns None otherwise and the caller
runs the NumPy reference. Depthwise convolution is the same loop where filter c takes
the products of channel c only, in kernel order.

`available` says whether numba imports; `enabled` (a module flag the tests switch) chooses
between this and the NumPy reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType, Overflow
from emulation.layers.base import Context
from emulation.layers.dense_compiled import _offsets
from emulation.layers.dense_int import int64_mantissas, raw_to_float, sums_fit_int64, wraps

try:  # numba is a declared dependency; without it the NumPy path runs
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

__all__ = ["available", "conv2d", "enabled", "warm_up"]

available = numba is not None
enabled = True

# overflow handling of cast 3: 0 none (plain wrap, applied afterwards), 1 saturate, 2 zero
_MODES = {Overflow.SAT: 1, Overflow.SAT_SYM: 1, Overflow.SAT_ZERO: 2}
# output pixels per block: the gathered windows and the accumulators stay in L1
_LANES = 64


def _loop(x, xs, geo, dr, dc, dch, mw, b, rnd, mode, lo, hi, acc, exact, over, pmax):
    # x (batch, H, W, C) float64 values, integers once scaled by xs = 2^Fx; geo: out_h, out_w,
    # stride_h, stride_w, pad_top, pad_left, depthwise (filter c reads channel c only);
    # (dr, dc, dch)[i]: kernel row, column and channel
    # of the i-th product in the C++ order, mw[i] its weights; rnd: k, the rounding offsets and
    # whether a product may overflow accum_t
    _, height, width, _ = x.shape
    oh, ow, sh, sw, top, left, dw = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5], geo[6]
    k, base, factor, smask, parity = rnd[0], rnd[1], rnd[2], rnd[3], rnd[4]
    check, span = rnd[5] != 0, hi - lo  # span: 2^W - 1 for a plain wrap
    n_in, n_out = mw.shape
    pixels = oh * ow
    total = acc.shape[0]
    buf = np.empty((n_in, _LANES), dtype=np.int64)
    a = np.empty((n_out, _LANES), dtype=np.int64)
    e = np.empty((n_out, _LANES), dtype=np.int64)
    o = np.empty((n_out, _LANES), dtype=np.bool_)
    pm = np.zeros(_LANES, dtype=np.int64)
    for l0 in range(0, total, _LANES):
        m = min(_LANES, total - l0)
        for t in range(m):
            s = (l0 + t) // pixels
            r = (l0 + t) % pixels
            y0 = (r // ow) * sh - top
            x0 = (r % ow) * sw - left
            for i in range(n_in):
                yy = y0 + dr[i]
                xx = x0 + dc[i]
                inside = 0 <= yy < height and 0 <= xx < width
                buf[i, t] = np.int64(x[s, yy, xx, dch[i]] * xs) if inside else 0
        for j in range(n_out):
            for t in range(m):
                a[j, t] = b[j]
                e[j, t] = b[j]
                o[j, t] = False
        for i in range(n_in):
            j0, j1 = (dch[i], dch[i] + 1) if dw else (0, n_out)
            for j in range(j0, j1):
                wv = np.int64(mw[i, j])
                for t in range(m):
                    p = buf[i, t] * wv
                    pm[t] = max(pm[t], abs(p))
                    sg = p >> 63
                    q = (p + (base + factor * sg + (sg & smask) + parity * ((p >> k) & 1))) >> k
                    if check:  # the product's own cast may overflow: wrap, saturate or zero
                        out = (q > hi) | (q < lo)
                        o[j, t] |= out
                        if mode == 0:
                            q = ((q - lo) & span) + lo
                        elif mode == 1:
                            q = min(max(q, lo), hi)
                        elif out:
                            q = 0
                    e[j, t] += q
                    v = a[j, t] + q
                    if mode != 0:  # a plain wrap is applied to the exact sum afterwards
                        out = (v > hi) | (v < lo)
                        o[j, t] |= out
                        if mode == 1:
                            v = min(max(v, lo), hi)
                        elif out:
                            v = 0
                    a[j, t] = v
        for j in range(n_out):
            for t in range(m):
                exact[l0 + t, j] = e[j, t]
                acc[l0 + t, j] = a[j, t]
                over[l0 + t, j] = o[j, t]
    pmax[0] = max(pmax[0], pm.max())


_compiled = numba.njit(cache=True, nogil=True)(_loop) if available else None


def _call(x, xs, geo, taps, mw, b, rnd, mode, lo, hi) -> tuple[np.ndarray, ...]:
    total = int(x.shape[0] * geo[0] * geo[1])
    acc = np.empty((total, mw.shape[1]), dtype=np.int64)
    exact = np.empty_like(acc)
    over = np.zeros(acc.shape, dtype=bool)
    pmax = np.zeros(1, dtype=np.int64)
    if total and mw.size:
        _compiled(x, xs, geo, *taps, mw, b, rnd, np.int64(mode), np.int64(lo), np.int64(hi),
                  acc, exact, over, pmax)  # fmt: skip
    return acc, exact, over, int(pmax[0])


def warm_up() -> None:
    """Compile (or load from numba's cache) the loop now, not in the first timed emulation."""
    if available:
        one, geo = np.ones(1, dtype=np.int64), np.array([1, 1, 1, 1, 0, 0, 0], np.int64)
        taps, rnd = (np.zeros(1, np.int64),) * 3, np.array([1, 0, 0, 0, 0, 1], np.int64)
        _call(np.ones((1, 1, 1, 1)), 1.0, geo, taps, one.reshape(1, 1), one, rnd, 1, -8, 7)


def _mode(accum_t: FixedType) -> int | None:
    if wraps(accum_t):
        return 0
    return _MODES.get(accum_t.overflow)


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    out_size: tuple[int, int],
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    order: Sequence[int] | np.ndarray | None,
    ctx: Context,
    point: str,
    depthwise: bool = False,
) -> np.ndarray | None:
    """`emulation.layers.conv.conv2d` in the compiled loop, or None where it does not apply.

    ``w`` is (kh, kw, n_chan, n_filt); ``depthwise``: n_filt = n_chan and filter c reads
    channel c only (``w[:, :, c, c]``, the other weights ignored). Same arguments, casts,
    overflow accounting and result as the NumPy path.
    """
    mode = _mode(accum_t)
    if not (available and enabled) or mode is None or x_t.width > FLOAT_EXACT_WIDTH:
        return None
    if accum_t.width > 64 or x.size == 0 or w.size == 0:
        return None
    kh, kw, n_chan, n_filt = w.shape
    n_in = kh * kw * n_chan
    mw = int64_mantissas(w.reshape(n_in, n_filt), w_t)
    b_raw, b_over = accum_t.requantize_raw(b_t.quantize_raw(b), b_t, return_overflow=True)
    if mw is None or np.asarray(b_raw).dtype != np.int64:
        return None
    # products in units of 2^-(Fx + Fw); accum_t drops k of their bits, or adds -k zeros
    shift = accum_t.fractional - x_t.fractional - w_t.fractional
    chan_max = np.ldexp(np.maximum(x.max(axis=(0, 1, 2)), -x.min(axis=(0, 1, 2))), x_t.fractional)
    big = int(chan_max.max()) * int(np.abs(mw).max())
    if shift > 0:
        if big.bit_length() + shift >= INT64_BITS:
            return None
        mw, big, k = mw << shift, big << shift, 0
    else:
        k = -shift
    if big + (1 << k) >= 1 << INT64_BITS:
        return None
    biggest = (big >> k) + (1 if k else 0)
    fit = biggest <= accum_t.max_raw and -biggest >= accum_t.min_raw
    x_cols = np.tile(chan_max, kh * kw)  # the largest mantissa of each im2col column
    if not sums_fit_int64(x_cols, mw, b_raw, k, accum_t, fit):
        return None
    idx = np.arange(n_in) if order is None else np.asarray(order, dtype=np.int64)
    taps = [np.ascontiguousarray(v, dtype=np.int64) for v in np.unravel_index(idx, w.shape[:3])]
    offsets = _offsets(accum_t.rounding, k) if k else (0, 0, 0, 0)
    rnd = np.array((k, *offsets, not fit), dtype=np.int64)
    geo = np.array((*out_size, *strides, pads[0], pads[2], depthwise), dtype=np.int64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    xs = float(np.ldexp(1.0, x_t.fractional))
    lo, hi = accum_t.min_raw, accum_t.max_raw
    wide_w = np.ascontiguousarray(mw[idx], dtype=np.int64)
    b64 = np.ascontiguousarray(b_raw, dtype=np.int64)
    acc, exact, over, pmax = _call(x, xs, geo, taps, wide_w, b64, rnd, mode, lo, hi)
    if mode == 0:
        source = FixedType(64, 64 - accum_t.fractional)
        acc, wrapped = accum_t.requantize_raw(exact, source, return_overflow=True)
        over |= wrapped
    over |= b_over
    p_frac = x_t.fractional + w_t.fractional + max(shift, 0)
    max_abs = max(
        float(np.max(np.abs(b), initial=0.0)),
        float(np.max(np.abs(raw_to_float(exact, accum_t.fractional)), initial=0.0)),
        float(np.ldexp(float(pmax), -p_frac)),
    )
    ctx.record(f"{point}.accum_t", over, max_abs)
    shape = (x.shape[0], *out_size, n_filt)
    if accum_t.width <= FLOAT_EXACT_WIDTH:
        y = ctx.cast(raw_to_float(acc, accum_t.fractional), result_t, f"{point}.result_t")
        return y.reshape(shape)
    res, res_over = result_t.requantize_raw(acc, accum_t, return_overflow=True)
    acc_max = float(np.max(np.abs(raw_to_float(acc, accum_t.fractional)), initial=0.0))
    ctx.record(f"{point}.result_t", res_over, acc_max)
    return raw_to_float(res, result_t.fractional).reshape(shape)
