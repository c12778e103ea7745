"""The rounded Dense accumulation as one compiled loop (numba), where it applies.

`emulation.layers.dense_wide.rounded_sums` forms every product in NumPy int64, in cache-sized
blocks, and runs the C++ loop only for the accumulations no bound controls. That is several
passes over memory per product. Here each product is formed, rounded to accum_t (cast 2, by
the add-and-shift of `dense_wide._round_shift`) and added with the accumulator's own overflow
mode (cast 3) in one pass, in the C++ order, so no bound is needed and the result is the C++
loop itself::

    acc = bias[j]
    for i in range(n_in):  acc = O(acc + R(x[i] * w[i, j] / 2^k))

with R the rounding of accum_t and O its overflow mode. Two loops, by accumulator:

- plain wrap (N = 0): addition modulo 2^W is associative, so only the exact sums are needed
  (wrapped once afterwards): per sample and output a reduction over the inputs, which
  vectorises (and under AP_TRN, the default, R is a shift alone);
- saturate, saturate symmetric, to zero: every partial sum is cast in the C++ order, so the
  loop over a block of samples is the innermost one (it vectorises for any number of outputs).

Everything is int64: the caller guarantees |products| + 2^k < 2^62 and that every partial sum
fits. The inputs may come as float64 values (the float64 path's im2col matrix), converted to
mantissas inside the loop rather than in a pass of their own.

`available` says whether numba imports; `enabled` (a module flag the tests switch) chooses
between this and the pure NumPy reference.
"""

from __future__ import annotations

import numpy as np

from emulation.fixed import FixedType, Overflow, Rounding

try:  # numba is a declared dependency; without it the NumPy path runs
    import numba
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

__all__ = ["available", "enabled", "rounded_loop", "supports", "warm_up"]

available = numba is not None
enabled = True

# overflow handling of cast 3 in the kernel: 0 none (plain wrap, applied afterwards),
# 1 saturate to [lo, hi], 2 set to zero
_MODES = {Overflow.SAT: 1, Overflow.SAT_SYM: 1, Overflow.SAT_ZERO: 2}


def _offsets(rounding: Rounding, k: int) -> tuple[int, int, int, int]:
    """(base, sign factor, sign mask, parity factor) of the rounding offset added before the
    shift by k: ``base + factor * s + (s & mask) + parity * ((p >> k) & 1)`` with s = p >> 63
    (0 or -1), the offsets of `dense_wide._round_shift` written without branches."""
    if k == 0:  # nothing dropped: every mode is the identity
        return 0, 0, 0, 0
    half = 1 << (k - 1)
    return {
        Rounding.TRN: (0, 0, 0, 0),
        Rounding.TRN_ZERO: (0, 0, (1 << k) - 1, 0),
        Rounding.RND: (half, 0, 0, 0),
        Rounding.RND_MIN_INF: (half - 1, 0, 0, 0),
        Rounding.RND_ZERO: (half - 1, -1, 0, 0),
        Rounding.RND_INF: (half, 1, 0, 0),
        Rounding.RND_CONV: (half - 1, 0, 0, 1),
    }[rounding]


def supports(accum_t: FixedType) -> bool:
    """Whether the kernel reproduces casts 2 and 3 of ``accum_t`` (plain wrap or a saturating
    mode, its limits in int64)."""
    plain_wrap = accum_t.overflow is Overflow.WRAP and accum_t.sat_bits == 0
    in_int64 = accum_t.max_raw < 1 << 63
    return available and enabled and in_int64 and (plain_wrap or accum_t.overflow in _MODES)


# samples per block of the saturating loop: its accumulators stay in registers / L1
_LANES = 64


def _loop(mx, fx, xs, mw, b, k, base, factor, smask, parity, mode, check, lo, hi, acc, exact,
          over):  # fmt: skip
    # the inputs come as int mantissas ``mx`` or, when ``fx`` is not empty, as float64 values
    # of scale ``xs`` = 2^Fx (exact integers once scaled: converted here, once per block)
    from_float = fx.shape[0] > 0
    batch, n_in = fx.shape if from_float else mx.shape
    n_out = mw.shape[1]
    # the loop over a block of samples is innermost: it vectorises for any number of outputs,
    # while every accumulation still adds its products one by one in the C++ order
    buf = np.empty((n_in, _LANES), dtype=np.int64)
    a = np.empty((n_out, _LANES), dtype=np.int64)
    e = np.empty((n_out, _LANES), dtype=np.int64)
    o = np.empty((n_out, _LANES), dtype=np.bool_)
    for s0 in range(0, batch, _LANES):
        m = min(_LANES, batch - s0)
        for t in range(m):
            for i in range(n_in):
                buf[i, t] = np.int64(fx[s0 + t, i] * xs) if from_float else np.int64(mx[s0 + t, i])
        for j in range(n_out):
            for t in range(m):
                a[j, t] = b[j]
                e[j, t] = b[j]
                o[j, t] = False
        for i in range(n_in):
            for j in range(n_out):
                wv = np.int64(mw[i, j])
                for t in range(m):
                    p = buf[i, t] * wv
                    sg = p >> 63
                    q = (p + (base + factor * sg + (sg & smask) + parity * ((p >> k) & 1))) >> k
                    if check:  # cast 2 may overflow too: the same mode, flagged the same way
                        qo = (q > hi) | (q < lo)
                        o[j, t] |= qo
                        if mode == 1:
                            q = min(max(q, lo), hi)
                        elif qo:
                            q = 0
                    e[j, t] += q
                    v = a[j, t] + q
                    out = (v > hi) | (v < lo)
                    o[j, t] |= out
                    if mode == 1:
                        v = min(max(v, lo), hi)
                    elif out:
                        v = 0
                    a[j, t] = v
        for j in range(n_out):
            for t in range(m):
                exact[s0 + t, j] = e[j, t]
                acc[s0 + t, j] = a[j, t]
                over[s0 + t, j] = o[j, t]


def _sum_loop(mx, fx, xs, wt, b, k, base, factor, smask, parity, exact):
    # a plain-wrap accumulator needs only the exact sums: a reduction over the inputs, which
    # vectorises (weights transposed, one sample's row converted once)
    from_float = fx.shape[0] > 0
    batch, n_in = fx.shape if from_float else mx.shape
    n_out = wt.shape[0]
    row = np.empty(n_in, dtype=np.int64)
    trn = base == 0 and factor == 0 and smask == 0 and parity == 0
    for s in range(batch):
        for i in range(n_in):
            row[i] = np.int64(fx[s, i] * xs) if from_float else np.int64(mx[s, i])
        for j in range(n_out):
            t = np.int64(b[j])
            if trn:  # AP_TRN, the default: a shift alone
                for i in range(n_in):
                    t += (row[i] * np.int64(wt[j, i])) >> k
            else:
                for i in range(n_in):
                    p = row[i] * np.int64(wt[j, i])
                    sg = p >> 63
                    t += (p + (base + factor * sg + (sg & smask) + parity * ((p >> k) & 1))) >> k
            exact[s, j] = t


def _wrap_loop(mx, fx, xs, wt, b, k, base, factor, smask, parity, lo, mask, exact, over):
    # plain wrap where a product may leave the range: each rounded product wrapped on its own
    # (cast 2: lo + ((q - lo) mod 2^W)) and counted, then summed (the final wrap is the
    # caller's); laid out as `_sum_loop`, a reduction over the inputs
    from_float = fx.shape[0] > 0
    batch, n_in = fx.shape if from_float else mx.shape
    n_out = wt.shape[0]
    row = np.empty(n_in, dtype=np.int64)
    trn = base == 0 and factor == 0 and smask == 0 and parity == 0
    for s in range(batch):
        for i in range(n_in):
            row[i] = np.int64(fx[s, i] * xs) if from_float else np.int64(mx[s, i])
        for j in range(n_out):
            t = np.int64(b[j])
            n = np.int64(0)
            if trn:
                for i in range(n_in):
                    q = (row[i] * np.int64(wt[j, i])) >> k
                    r = ((q - lo) & mask) + lo
                    n += r != q
                    t += r
            else:
                for i in range(n_in):
                    p = row[i] * np.int64(wt[j, i])
                    sg = p >> 63
                    q = (p + (base + factor * sg + (sg & smask) + parity * ((p >> k) & 1))) >> k
                    r = ((q - lo) & mask) + lo
                    n += r != q
                    t += r
            exact[s, j] = t
            over[s, j] = n > 0


_compiled = numba.njit(cache=True, nogil=True)(_loop) if available else None
_compiled_sum = numba.njit(cache=True, nogil=True)(_sum_loop) if available else None
_compiled_wrap = numba.njit(cache=True, nogil=True)(_wrap_loop) if available else None


_warm = False


def warm_up() -> None:
    """Compile (or load from numba's cache) every variant `rounded_loop` calls, once per process.

    A variant compiles on its first call (about a second, once per installation; later
    processes load it from the cache in milliseconds). A caller that times emulations, such
    as the tuner timing its candidates, calls this first so that the set-up is not counted
    as one candidate's time.
    """
    global _warm
    if _warm or not available:
        return
    b, k = np.zeros(1, dtype=np.int64), 1
    out = [np.empty((1, 1), dtype=np.int64) for _ in range(2)]
    # inputs as float64 values (empty int32 mantissas) or as int32 / int64 mantissas
    inputs = [
        (np.empty((0, 0), dtype=np.int32), np.ones((1, 1))),
        (np.ones((1, 1), dtype=np.int32), np.empty((0, 0))),
        (np.ones((1, 1), dtype=np.int64), np.empty((0, 0))),
    ]
    for mx, fx in inputs:
        for w_dtype in (np.int32, np.int64):
            mw = np.ones((1, 1), dtype=w_dtype)
            # k, the four rounding offsets, then the product check (every value is an int64,
            # so these are the signatures of every call)
            ints = [np.int64(v) for v in (k, 0, 0, 0, 0, 0)]
            flags = np.zeros((1, 1), dtype=np.bool_)
            _compiled_sum(mx, fx, 1.0, mw, b, *ints[:5], out[0])
            _compiled_wrap(mx, fx, 1.0, mw, b, *ints[:5], np.int64(-8), np.int64(15), out[0], flags)
            _compiled(mx, fx, 1.0, mw, b, *ints[:5], np.int64(1), *ints[5:], np.int64(-8),
                      np.int64(7), out[0], out[1], flags)  # fmt: skip
    _warm = True


def rounded_loop(
    mx: np.ndarray,
    mw: np.ndarray,
    b_raw: np.ndarray,
    k: int,
    accum_t: FixedType,
    x_fractional: int | None = None,
    sums_only: bool = False,
    products_fit: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Casts 2 and 3 of rounded products (k >= 0 bits dropped) in the compiled loop
    (`supports` must hold).

    Same contract as `dense_wide.rounded_sums`: returns the accumulator mantissas (a plain-wrap
    accumulator not yet wrapped), whether a cast changed a value, and the sums without
    cast-3 overflow. ``mx`` may also be float64 values with ``x_fractional`` = Fx, every
    ``x * 2^Fx`` an integer below 2^53. ``sums_only``: the caller has proven that no partial
    sum leaves accum_t's range, so the plain sums are the C++ values (the vectorised
    reduction, for any overflow mode). Without ``products_fit`` a rounded product may leave
    the range: each gets accum_t's overflow mode on its own and is flagged (the sums then add
    the cast products, as the C++ does).
    """
    batch, n_out = mx.shape[0], mw.shape[1]
    acc = np.empty((batch, n_out), dtype=np.int64)
    exact = np.empty((batch, n_out), dtype=np.int64)
    over = np.zeros((batch, n_out), dtype=bool)
    if batch == 0 or n_out == 0:
        return acc, over, exact
    empty = np.empty((0, 0), dtype=np.int32)
    if x_fractional is not None:
        fx, xs = np.ascontiguousarray(mx, dtype=np.float64), float(np.ldexp(1.0, x_fractional))
        mx = empty
    else:
        fx, xs = np.empty((0, 0)), 1.0
        small = max(abs(int(mx.min())), int(mx.max())) < 1 << 31
        mx = np.ascontiguousarray(mx, dtype=np.int32 if small else np.int64)
    small = max(abs(int(mw.min())), int(mw.max())) < 1 << 31
    mw = np.ascontiguousarray(mw, dtype=np.int32 if small else np.int64)
    base, factor, smask, parity = _offsets(accum_t.rounding, k)
    mode = 0 if sums_only else _MODES.get(accum_t.overflow, 0)
    b64 = np.ascontiguousarray(b_raw, dtype=np.int64)
    ints = [np.int64(v) for v in (k, base, factor, smask, parity)]
    check = np.int64(not (products_fit or sums_only))
    lo, hi = np.int64(accum_t.min_raw), np.int64(accum_t.max_raw)
    if mode == 0 and check and accum_t.width < 64:  # at W = 64 every int64 product fits
        mask = np.int64((1 << accum_t.width) - 1)
        _compiled_wrap(mx, fx, xs, np.ascontiguousarray(mw.T), b64, *ints, lo, mask, exact, over)
        return exact, over, exact
    if mode == 0:
        _compiled_sum(mx, fx, xs, np.ascontiguousarray(mw.T), b64, *ints, exact)
        return exact, over, exact
    _compiled(mx, fx, xs, mw, b64, *ints, np.int64(mode), check, lo, hi, acc, exact, over)
    return acc, over, exact
