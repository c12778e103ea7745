"""io_parallel convolutions as one compiled loop (numba) that reads the windows in place.

The NumPy path (`emulation.layers.conv`) copies every window into an im2col matrix and runs
`emulation.layers.dense.dense` on it, in blocks of samples: ``kh * kw`` copies of the input,
a few passes over them, and per-block casts. Here the input becomes int64 mantissas once, in
a zero-padded buffer laid out samples last (0 where a window covers padding, as hls4ml's
``fill_buffer`` writes), so that a window value of a block of samples is one contiguous run;
then every accumulation runs the C++ loop of ``conv_*_cl`` exactly::

    acc = bias[f]
    for i in <order>:  acc = O(acc + C(R(x[i] * w[i, f] / 2^k)))

with R the rounding of accum_t (cast 2, the add-and-shift of `dense_compiled`; k = 0 when
accum_t keeps every fractional bit of the products), C the product's own overflow (where the
bounds say a product may leave accum_t's range) and O the overflow mode of cast 3: none for a
plain wrap (addition modulo 2^W is associative: the exact sum is wrapped once afterwards),
saturation or zero otherwise, every partial sum in the C++ order. The samples of a block are
the innermost loop, so it vectorises for any number of filters; each (rounding, overflow mode,
product check) has its own compiled loop, the branches fixed.

It applies when every value is an int64 mantissa and every product and partial sum fits 62
bits (bounds from the largest input, as `emulation.layers.dense` proves its paths); `conv2d`
returns None otherwise and the caller runs the NumPy reference. Depthwise convolution is the
same loop where filter c takes the products of channel c only, in kernel order.

`available` says whether numba imports; `enabled` (a module flag the tests switch) chooses
between this and the NumPy reference. `warm_up` compiles every loop (or loads it from numba's
cache) ahead of a timed emulation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType, Overflow
from emulation.fixed.kernels_int import raw_to_float
from emulation.layers.base import Context
from emulation.layers.dense_compiled import _offsets
from emulation.layers.dense_int import int64_mantissas, sums_fit_int64, wraps
from emulation.layers.exact import Caster

try:  # numba is a declared dependency; without it the NumPy path runs
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

__all__ = ["available", "conv2d", "enabled", "warm_up"]

available = numba is not None
enabled = True

# overflow handling of cast 3: 0 none (plain wrap, applied afterwards), 1 saturate, 2 zero
_MODES = {Overflow.SAT: 1, Overflow.SAT_SYM: 1, Overflow.SAT_ZERO: 2}
# samples per tile of `_pad_tiled`'s transposing copy, for samples of at most `_TILED_VALUES`
# values (`_pad` copies larger ones sample by sample: 2.6x faster for a 25x25 image, 11x
# slower for 10x4)
_LANES, _TILED_VALUES = 64, 256
# samples per block of the loop: long runs amortise each (pixel, input, filter) step, while
# the block's accumulators (filters x samples, two arrays) stay within 32 KiB of L1 and the
# block's padded input (rows x samples) within 256 KiB of L2 (a 25x25 image keeps 64)
_MAX_LANES, _LANE_VALUES, _LANE_INPUTS = 256, 2048, 1 << 15
# input values per block of samples (their padded int64 mantissas): 2 Mi = 16 MiB
_BLOCK = 1 << 21


def _make(trn: bool, mode: int, check: bool) -> Callable[..., None]:
    """The loop for one rounding (``trn``: a shift alone), overflow mode and product check,
    fixed when it compiles so that the loop over a block's accumulations vectorises."""

    flags = mode != 0 or check  # whether any cast can overflow inside the loop

    def loop(xt, batch, lanes, pix, taps, dch, mw, b, rnd, lo, hi, first, acc, over, col_max, ext):
        # xt (rows, >= batch samples): the padded input mantissas, a row per (row, column,
        # channel), samples last: each window value of a block of samples is one run. pix[p]:
        # the row where the window of output pixel p starts, taps[i]: where its i-th value (in
        # the C++ order) lies from there, mw[i]: its weights. A depthwise filter c (dch not
        # empty) takes the values i of channel dch[i] == c only. rnd: k and the rounding
        # offsets (`dense_compiled._offsets`). Out: acc[first + sample, pixel, filter] (for a
        # plain wrap the exact sums, not yet wrapped), over alike (untouched when no cast in
        # the loop can overflow: a plain wrap of exact products), col_max[i] the largest
        # |x_i|, ext the smallest and largest exact sum.
        k, base, factor, smask, parity = rnd[0], rnd[1], rnd[2], rnd[3], rnd[4]
        span = hi - lo  # 2^W - 1 for a plain wrap
        dw = dch.shape[0] > 0
        n_in, n_out = mw.shape
        pixels = pix.shape[0]
        a = np.empty((n_out, lanes), dtype=np.int64)
        e = np.empty((n_out, lanes), dtype=np.int64)
        o = np.empty((n_out, lanes), dtype=np.bool_)
        e_lo, e_hi = ext[0], ext[1]
        # pixels inside a block of samples: the block's outputs and inputs stay in cache
        for s0 in range(0, batch, lanes):
            m = min(lanes, batch - s0)
            for px in range(pixels):
                for j in range(n_out):
                    for t in range(m):
                        e[j, t] = b[j]
                    if mode != 0:
                        for t in range(m):
                            a[j, t] = b[j]
                    if flags:
                        for t in range(m):
                            o[j, t] = False
                for i in range(n_in):
                    xr = xt[pix[px] + taps[i], s0 : s0 + m]
                    top = col_max[i]
                    for t in range(m):
                        top = max(top, abs(xr[t]))
                    col_max[i] = top
                    j0, j1 = (dch[i], dch[i] + 1) if dw else (0, n_out)
                    for j in range(j0, j1):
                        wv = mw[i, j]
                        for t in range(m):
                            p = xr[t] * wv
                            if trn:
                                q = p >> k
                            else:
                                sg = p >> 63
                                q = p + (
                                    base + factor * sg + (sg & smask) + parity * ((p >> k) & 1)
                                )
                                q >>= k
                            if check:  # the product's own cast may overflow
                                out = (q > hi) | (q < lo)
                                o[j, t] |= out
                                if mode == 0:
                                    q = ((q - lo) & span) + lo
                                elif mode == 1:
                                    q = min(max(q, lo), hi)
                                elif out:
                                    q = 0
                            e[j, t] += q
                            if mode != 0:  # a plain wrap is applied to the exact sum afterwards
                                v = a[j, t] + q
                                out = (v > hi) | (v < lo)
                                o[j, t] |= out
                                if mode == 1:
                                    v = min(max(v, lo), hi)
                                elif out:
                                    v = 0
                                a[j, t] = v
                for t in range(m):
                    r = first + s0 + t
                    for j in range(n_out):
                        v = e[j, t]
                        acc[r, px, j] = a[j, t] if mode != 0 else v
                        if flags:
                            over[r, px, j] = o[j, t]
                        e_lo = min(e_lo, v)
                        e_hi = max(e_hi, v)
        ext[0], ext[1] = e_lo, e_hi

    return numba.njit(cache=True, nogil=True)(loop)


def _pad(x, scale, top, left, padded_width, out):
    # the mantissas x * 2^Fx (exact integers) inside the zero padding, samples last: one pass,
    # sample by sample (large samples)
    batch, height, width, chan = x.shape
    for s in range(batch):
        for r in range(height):
            for c in range(width):
                row = ((top + r) * padded_width + left + c) * chan
                for ch in range(chan):
                    out[row + ch, s] = np.int64(x[s, r, c, ch] * scale)


def _pad_tiled(x, scale, top, left, padded_width, out):
    # `_pad` in tiles of `_LANES` samples, so that both the reads (a sample's values) and the
    # writes (a row's samples) stay in cache (small samples)
    batch, height, width, chan = x.shape
    for s0 in range(0, batch, _LANES):
        s1 = min(batch, s0 + _LANES)
        for r in range(height):
            for c in range(width):
                row = ((top + r) * padded_width + left + c) * chan
                for ch in range(chan):
                    for s in range(s0, s1):
                        out[row + ch, s] = np.int64(x[s, r, c, ch] * scale)


_KERNELS = (
    {(t, m, c): _make(t, m, c) for t in (True, False) for m in (0, 1, 2) for c in (True, False)}
    if available
    else {}
)
_pad_compiled = numba.njit(cache=True, nogil=True)(_pad) if available else None
_pad_tiled_compiled = numba.njit(cache=True, nogil=True)(_pad_tiled) if available else None


def _run(
    x: np.ndarray,
    x_fractional: int,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    out_size: tuple[int, int],
    order: np.ndarray,
    mw: np.ndarray,
    b_raw: np.ndarray,
    rnd: np.ndarray,
    mode: int,
    check: bool,
    accum_t: FixedType,
    depthwise: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """The loop over blocks of samples, each turned into padded int64 mantissas once.

    Returns the accumulators (batch, pixels, n_filt; for a plain wrap not yet wrapped), the
    cast 2-3 overflows alike (None when no cast in the loop can overflow: a plain wrap of
    products that fit), the largest |mantissa| of each im2col column (n_in,) and the smallest
    and largest sum without overflow."""
    batch, _, _, n_chan = x.shape
    oh, ow = out_size
    (kh, kw), (sh, sw) = kernel, strides
    hp, wp = x.shape[1] + pads[0] + pads[1], x.shape[2] + pads[2] + pads[3]
    dr, dc, ch = np.unravel_index(order, (kh, kw, n_chan))
    taps = np.ascontiguousarray((dr * wp + dc) * n_chan + ch, dtype=np.int64)
    dch = np.ascontiguousarray(ch, dtype=np.int64) if depthwise else np.empty(0, np.int64)
    pix = ((np.arange(oh) * sh)[:, None] * wp + np.arange(ow) * sw).ravel() * n_chan
    pix = np.ascontiguousarray(pix, dtype=np.int64)
    n_out = mw.shape[1]
    acc = np.empty((batch, oh * ow, n_out), dtype=np.int64)
    flags = mode != 0 or check
    over = np.zeros(acc.shape if flags else (1, 1, 1), dtype=bool)
    lanes = _LANES
    rows = hp * wp * n_chan
    while (
        lanes < _MAX_LANES
        and 2 * lanes * n_out <= _LANE_VALUES
        and 2 * lanes * rows <= _LANE_INPUTS
    ):
        lanes *= 2
    col_max = np.zeros(len(order), dtype=np.int64)
    ext = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min], dtype=np.int64)
    step = max(_LANES, _BLOCK // max(1, rows))
    lo, hi = np.int64(accum_t.min_raw), np.int64(accum_t.max_raw)
    kernel_fn = _KERNELS[(not rnd[1:].any(), mode, check)]
    scale = float(np.ldexp(1.0, x_fractional))
    top, left, wp64 = np.int64(pads[0]), np.int64(pads[2]), np.int64(wp)
    pad = _pad_tiled_compiled if x[0].size <= _TILED_VALUES else _pad_compiled
    # one buffer for every block: each writes the same inside, the padding stays zero
    xt = np.zeros((rows, min(step, batch)), dtype=np.int64)
    for s0 in range(0, batch, step):
        xb = x[s0 : s0 + step]
        pad(xb, scale, top, left, wp64, xt)
        kernel_fn(xt, np.int64(len(xb)), np.int64(lanes), pix, taps, dch, mw, b_raw, rnd, lo,
                  hi, np.int64(s0), acc, over, col_max, ext)  # fmt: skip
    return acc, over if flags else None, col_max, (int(ext[0]), int(ext[1]))


def warm_up() -> None:
    """Compile (or load from numba's cache) the loop now, not in the first timed emulation."""
    if available:
        one, zero, out = np.ones(1, np.int64), np.zeros(1, np.int64), np.empty((1, 1), np.int64)
        rnd, lo, hi = np.array([1, 0, 0, 0, 0], np.int64), np.int64(-8), np.int64(7)
        acc, over = np.empty((1, 1, 1), np.int64), np.zeros((1, 1, 1), bool)
        args = (one.reshape(1, 1), one, rnd, lo, hi, zero[0], acc, over, zero.copy())
        for fn in _KERNELS.values():
            fn(one.reshape(1, 1), one[0], one[0], zero, zero, zero, *args, np.zeros(2, np.int64))
        for pad in (_pad_compiled, _pad_tiled_compiled):
            pad(np.ones((1, 1, 1, 1)), 1.0, *(np.int64(v) for v in (0, 0, 1)), out)


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
    # one bound for every input (a reduction per channel is many times slower in NumPy)
    x_top = float(np.ldexp(max(float(x.max()), -float(x.min())), x_t.fractional))
    big = int(x_top) * int(np.abs(mw).max())
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
    if not sums_fit_int64(np.full(n_in, x_top), mw, b_raw, k, accum_t, fit):
        return None
    idx = np.arange(n_in) if order is None else np.asarray(order, dtype=np.int64)
    offsets = _offsets(accum_t.rounding, k) if k else (0, 0, 0, 0)
    rnd = np.array((k, *offsets), dtype=np.int64)
    mw = np.ascontiguousarray(mw[idx], dtype=np.int64)
    b64 = np.ascontiguousarray(b_raw, dtype=np.int64)
    x = np.ascontiguousarray(x, dtype=np.float64)  # one loop signature for every input
    acc, over, col_max, (e_lo, e_hi) = _run(
        x, x_t.fractional, (kh, kw), strides, pads, out_size, idx, mw, b64, rnd, mode, not fit,
        accum_t, depthwise,
    )  # fmt: skip
    # the largest |product|, as `dense` takes it: column maximum times the row's largest weight
    w_top = np.abs(mw).max(axis=1)
    pmax = int(np.max(col_max.astype(object) * w_top.astype(object), initial=0))
    # the accumulators' extremes, when the loop's exact sums are the accumulators themselves
    bounds = (e_lo, e_hi) if mode == 0 else None
    if mode == 0 and not (accum_t.min_raw <= e_lo and e_hi <= accum_t.max_raw):
        source = FixedType(64, 64 - accum_t.fractional)
        acc, wrapped = accum_t.requantize_raw(acc, source, return_overflow=True)
        over = wrapped if over is None else over | wrapped
        bounds = None
    if b_over.any():
        over = np.broadcast_to(b_over, acc.shape) if over is None else over | b_over
    if over is None:  # no cast of the loop overflowed: one flag for every accumulation
        over = np.broadcast_to(np.False_, acc.shape)
    p_frac = x_t.fractional + w_t.fractional + max(shift, 0)
    max_abs = max(
        float(np.max(np.abs(b), initial=0.0)),
        float(np.ldexp(float(max(e_hi, -e_lo)), -accum_t.fractional)),
        float(np.ldexp(float(pmax), -p_frac)),
    )
    cast = Caster(ctx, point)
    cast.record("accum_t", over, max_abs)
    y = _result(acc, accum_t, result_t, cast, bounds)
    return y.reshape(x.shape[0], *out_size, n_filt)


def _result(
    acc: np.ndarray,
    accum_t: FixedType,
    result_t: FixedType,
    cast: Caster,
    bounds: tuple[int, int] | None = None,
) -> np.ndarray:
    """Cast 4, accumulator mantissas to result_t values, recorded as ``result_t``;
    ``bounds``: the smallest and largest of ``acc`` when the caller knows them."""
    a_lo, a_hi = (int(acc.min()), int(acc.max())) if bounds is None else bounds
    acc_max = float(np.ldexp(float(max(a_hi, -a_lo)), -accum_t.fractional))
    up = result_t.fractional - accum_t.fractional
    if up >= 0 and result_t.min_raw <= a_lo << up and a_hi << up <= result_t.max_raw:
        # every value is on result_t's grid and in its range (the 'auto' result_t is accum_t)
        cast.record("result_t", np.broadcast_to(np.False_, acc.shape), acc_max)
        return raw_to_float(acc, accum_t.fractional)
    if accum_t.width <= FLOAT_EXACT_WIDTH:
        return cast(raw_to_float(acc, accum_t.fractional), result_t, "result_t")
    res, res_over = result_t.requantize_raw(acc, accum_t, return_overflow=True)
    cast.record("result_t", res_over, acc_max)
    return raw_to_float(res, result_t.fractional)
