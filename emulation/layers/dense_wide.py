"""Exact integer kernels of the Dense accumulation, without Python integers where avoidable.

`emulation.layers.dense` reproduces ``acc = bias; acc = (accum_t)(acc + (accum_t)(x*w))`` in
float64 while every value has at most 53 bits. Past that (and, as a speed-up, for products that
cast 2 rounds) it comes here, fastest first:

- `exact_matmul_mod64`: the exact sum of mantissa products, modulo 2^64, from an exact split
  of both operands into float64 pieces (Ozaki scheme): with k_x + k_w + ceil(log2 n) <= 53 bits
  per pair of pieces, every partial product ``x_piece @ w_piece`` is a sum of integers below
  2^53 in every order BLAS may add them, so it is exact; the partials are combined in uint64,
  which wraps modulo 2^64. That is the C++ value outright for a wrapping accumulator of W <= 64
  bits (addition modulo 2^W is associative), and for any accumulator whose value bounds show
  that no partial sum leaves its range. The quotient by 2^64 is recovered from a float64
  estimate, whose error is far below 2^63, so the overflow flags and the largest |sum| are
  exact as well.
- `rounded_sums`: products that cast 2 rounds or that leave accum_t's range, each formed and cast
  on its own in int64 blocks (add-and-shift rounding), summed by one reduction per block; only
  accumulations no bound proves have their prefix sums checked, and only those leaving the
  range run the C++ loop (`walk`, vectorised over them). Where numba is available the whole
  loop runs compiled (`dense_compiled`); this NumPy path stays as the tests' reference.

Everything else (operands past 63 bits, sums past 64 bits no bound controls) stays on Python
integers (`emulation.layers.dense_int`), in blocks of samples.
"""

from __future__ import annotations

import functools

import numpy as np

from emulation.fixed import (
    FLOAT_EXACT_WIDTH,
    FixedType,
    Overflow,
    Rounding,
    accumulate_type,
    sum_type,
)
from emulation.layers import dense_compiled

__all__ = ["exact_matmul_mod64", "exact_sums", "high_word", "rounded_sums", "walk", "wrap_uint64"]

# Elements of one block of products: 256 Ki int64 = 2 MiB, about one core's L2 cache.
_BLOCK = 1 << 18
_U64 = np.uint64


def _bit_length(v: int) -> int:
    return int(v).bit_length()


def _magnitude(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|m| as uint64 (exact also for -2^63, whose int64 abs wraps to itself) and the signs."""
    mag = np.abs(m).view(_U64) if m.dtype == np.int64 else m.astype(_U64)
    return mag, np.where(m < 0, -1.0, 1.0)


def _pieces(mag: np.ndarray, sign: np.ndarray, k: int, count: int) -> list[np.ndarray]:
    """Signed float64 pieces of k bits: m = sum_c piece_c 2^(k c), each |piece| < 2^k, exact."""
    mask = _U64((1 << k) - 1)
    return [((mag >> _U64(k * c)) & mask).astype(np.float64) * sign for c in range(count)]


def _split_widths(bits_x: int, bits_w: int, n: int) -> tuple[int, int]:
    """Piece widths (k_x, k_w) with k_x + k_w + ceil(log2 n) <= 53 and fewest piece pairs."""
    budget = FLOAT_EXACT_WIDTH - (n - 1).bit_length()
    best: tuple[int, int, int] | None = None
    for kx in range(1, budget):
        kx_eff, kw = min(kx, bits_x), min(budget - kx, bits_w)
        pairs = -(-bits_x // kx_eff) * -(-bits_w // kw)
        if best is None or pairs < best[0]:
            best = (pairs, kx_eff, kw)
    assert best is not None
    return best[1], best[2]


def exact_matmul_mod64(mx: np.ndarray, mw: np.ndarray) -> np.ndarray:
    """``mx @ mw`` of int64 (or uint64) mantissas, exact modulo 2^64, as uint64.

    One float64 BLAS product per pair of pieces (`_split_widths`); no loop over samples or
    inputs. The operands need at most 64 bits of magnitude.
    """
    n = mx.shape[1]
    out = np.zeros((mx.shape[0], mw.shape[1]), dtype=_U64)
    if n == 0 or mx.size == 0 or mw.size == 0:
        return out
    ax, sx = _magnitude(mx)
    aw, sw = _magnitude(mw)
    bits_x, bits_w = _bit_length(int(ax.max())), _bit_length(int(aw.max()))
    if bits_x == 0 or bits_w == 0:
        return out
    if n >= 1 << (FLOAT_EXACT_WIDTH - 2):
        raise ValueError(f"{n} inputs leave no bits for an exact float64 split")
    kx, kw = _split_widths(bits_x, bits_w, n)
    xs = _pieces(ax, sx, kx, -(-bits_x // kx))
    ws = _pieces(aw, sw, kw, -(-bits_w // kw))
    for a, xa in enumerate(xs):
        for c, wc in enumerate(ws):
            shift = kx * a + kw * c
            if shift >= 64:
                continue  # the partial is a multiple of 2^64
            part = (xa @ wc).astype(np.int64).view(_U64)
            out += part << _U64(shift)
    return out


def high_word(low: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split an exact integer S, known modulo 2^64 (``low``) and to within 2^62 (``estimate``,
    float64), into S = t + 2^64 h with t = ``low`` read as int64: returns (t, h).

    The candidates for S are 2^64 apart, so the nearest to the estimate is S itself.
    """
    t = low.view(np.int64)
    h = np.rint((estimate - t.astype(np.float64)) * 2.0**-64)
    return t, h


def wrap_uint64(low: np.ndarray, t: FixedType) -> np.ndarray:
    """Mantissas of a plain AP_WRAP type (N = 0, W <= 64) from values modulo 2^64."""
    w = t.width
    if w < 64:
        low = low & _U64((1 << w) - 1)
    if not t.signed:
        return low.astype(np.int64) if w < 64 else low
    if w == 64:
        return low.view(np.int64)
    sign = _U64(1 << (w - 1))
    return (low ^ sign).astype(np.int64) - np.int64(1 << (w - 1))


# ------------------------------------------------------------------------ rounded products
def _round_shift(p: np.ndarray, k: int, rounding: Rounding) -> np.ndarray:
    """R(p / 2^k) of integer products, 0 <= k < bits - 1, by one add and an arithmetic shift.

    Needs |p| + 2^k below the dtype's limit. The added offsets put exactly the ties (or, for
    the truncations, the remainders) of each mode over the next multiple of 2^k.
    """
    if k == 0:
        return p
    dt = p.dtype.type
    bits = p.dtype.itemsize * 8
    half = dt(1 << (k - 1))
    if rounding is Rounding.TRN:
        return p >> dt(k)
    if rounding is Rounding.TRN_ZERO:
        offset = (p >> dt(bits - 1)) & dt((1 << k) - 1)  # 2^k - 1 for negatives
    elif rounding is Rounding.RND:
        offset = half
    elif rounding is Rounding.RND_MIN_INF:
        offset = half - dt(1)
    elif rounding is Rounding.RND_ZERO:
        offset = half - dt(1) - (p >> dt(bits - 1))  # ties up for negatives
    elif rounding is Rounding.RND_INF:
        offset = half + (p >> dt(bits - 1))  # ties down for negatives
    else:  # RND_CONV: ties to the even neighbour
        offset = half - dt(1) + ((p >> dt(k)) & dt(1))
    p += offset
    p >>= dt(k)
    return p


def rounded_sums(
    mx: np.ndarray,
    mw: np.ndarray,
    b_raw: np.ndarray,
    k: int,
    big: int,
    accum_t: FixedType,
    products_fit: bool = True,
    x_fractional: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Casts 2 and 3 for products that cast 2 rounds by k >= 0 bits (k = 0: products on
    accum_t's grid that may leave its range).

    ``mx`` (batch, n_in) and ``mw`` (n_in, n_out) are integer mantissas whose products, in units
    of 2^-(Fx + Fw), are at most ``big`` in magnitude; ``b_raw`` (n_out,) the bias in accum_t's
    mantissas. The caller guarantees ``big + 2^k < 2^62`` and that every sum of n_in + 1
    accum_t values fits int64. With ``products_fit`` (no rounded product can leave accum_t's
    range) cast 2 is an add and a shift (`_round_shift`); otherwise the full int64 cast,
    which also applies the overflow mode and flags the products it changed. Where numba is
    available the whole loop is compiled instead (`dense_compiled.rounded_loop`), either way.

    Returns the accumulator mantissas (int64, C++ values), whether a partial-sum cast overflowed,
    and the sums without overflow (int64, exact; for the overflow accounting). With
    ``x_fractional`` = Fx, ``mx`` holds float64 values whose mantissas are ``mx * 2^Fx``.
    """
    if dense_compiled.supports(accum_t):
        return _rounded_compiled(mx, mw, b_raw, k, accum_t, x_fractional, products_fit)
    if x_fractional is not None:
        mx = np.ldexp(mx, x_fractional).astype(np.int64)
    batch, n_in = mx.shape
    n_out = mw.shape[1]
    dtype = np.int32 if products_fit and big + (1 << k) < 1 << 30 else np.int64
    p_src = FixedType(64, 64 - accum_t.fractional - k)  # int64 products on their own grid
    mxt = np.ascontiguousarray(mx.T, dtype=dtype)
    mw = np.asarray(mw, dtype=dtype)
    acc = np.empty((batch, n_out), dtype=np.int64)
    exact = np.empty((batch, n_out), dtype=np.int64)
    over = np.zeros((batch, n_out), dtype=bool)
    modular = accum_t.overflow is Overflow.WRAP and accum_t.sat_bits == 0
    lo, hi = accum_t.min_raw, accum_t.max_raw
    b64 = np.asarray(b_raw, dtype=np.int64)
    # every partial sum is at most |bias| + sum_i (|x_i w_i| / 2^k + 1): one BLAS product
    fits = products_fit
    proven = _proven(mx, mw, b64, -k, n_in, accum_t) if fits and not modular else None
    per_sample = max(1, n_in * n_out)
    sb = max(1, min(batch, _BLOCK // per_sample))
    bj = n_out if per_sample <= _BLOCK else max(1, _BLOCK // max(1, n_in))
    for rs in _slices(batch, sb):
        xb = mxt[:, rs]
        for cs in _slices(n_out, bj):
            p = xb[:, :, None] * mw[:, None, cs]
            if fits:
                q = _round_shift(p, k, accum_t.rounding)
            else:
                q, p_over = accum_t.requantize_raw(p, p_src, return_overflow=True)
                over[rs, cs] |= p_over.any(axis=0)
            s = q.sum(axis=0, dtype=np.int64) + b64[cs]
            exact[rs, cs] = s
            if modular:
                acc[rs, cs] = s
                continue
            blk = proven[rs, cs] if proven is not None else np.zeros(s.shape, dtype=bool)
            if blk.all():
                acc[rs, cs] = s
                continue
            # the partial sums of the others, in the C++ order: where every one stays in
            # range no cast 3 acts and the plain sum is the C++ value; the rest run the loop
            r, c = np.nonzero(~blk)
            terms = q[:, r, c]
            late = _leaves_range(terms, b64[cs][c], lo, hi)
            blk = s
            if late.any():
                r, c = r[late], c[late]
                walked, _ = walk(terms[:, late].T.astype(np.int64), b64[cs][c], accum_t)
                blk = s.copy()
                blk[r, c] = walked
                over[rs.start + r, cs.start + c] |= True
            acc[rs, cs] = blk
    if modular:
        acc, wrapped = accum_t.requantize_raw(exact, _int64_source(accum_t), return_overflow=True)
        over |= wrapped
        acc = np.asarray(acc, dtype=np.int64)
    return acc, over, exact


def _rounded_compiled(
    mx: np.ndarray,
    mw: np.ndarray,
    b_raw: np.ndarray,
    k: int,
    accum_t: FixedType,
    x_fractional: int | None,
    products_fit: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rounded_sums` by `dense_compiled.rounded_loop`. For a saturating accumulator, the
    samples whose every accumulation `_proven` keeps in range take the plain sums (several
    times faster than casting each partial sum); only the others run the C++ loop."""
    if accum_t.overflow is Overflow.WRAP:
        _, p_over, exact = dense_compiled.rounded_loop(
            mx, mw, b_raw, k, accum_t, x_fractional, products_fit=products_fit
        )
        acc, over = accum_t.requantize_raw(exact, _int64_source(accum_t), return_overflow=True)
        return np.asarray(acc, dtype=np.int64), over | p_over, exact
    m = mx if x_fractional is None else np.ldexp(mx, x_fractional)
    b64 = np.asarray(b_raw, dtype=np.int64)
    safe = _proven(m, mw, b64, -k, mx.shape[1], accum_t).all(axis=1)
    loop = functools.partial(
        dense_compiled.rounded_loop, mw=mw, b_raw=b_raw, k=k, accum_t=accum_t,
        x_fractional=x_fractional, products_fit=products_fit,
    )  # fmt: skip
    if not safe.any():
        return loop(mx)
    acc, over, exact = loop(mx[safe], sums_only=True)
    if safe.all():
        return acc, over, exact
    rest = loop(mx[~safe])
    out = tuple(np.empty((len(mx), mw.shape[1]), dtype=a.dtype) for a in rest)
    for full, proven_part, walked_part in zip(out, (acc, over, exact), rest, strict=True):
        full[safe], full[~safe] = proven_part, walked_part
    return out


def _leaves_range(terms: np.ndarray, start: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Whether some prefix sum ``start + terms[0] + ... + terms[i]`` leaves [lo, hi], per column
    of ``terms`` (n_in, m). A loop over n_in on m columns at once: numpy's cumsum along any axis
    is several times slower than these three in-place passes per step."""
    s = start.astype(np.int64)
    top, bottom = s.copy(), s.copy()
    for row in terms:
        s += row
        np.maximum(top, s, out=top)
        np.minimum(bottom, s, out=bottom)
    return (top > hi) | (bottom < lo)


def _int64_source(t: FixedType) -> FixedType:
    """A 64-bit type on t's grid: int64 sums of t's mantissas, for one vectorised cast."""
    return FixedType(64, 64 - t.fractional)


def _proven(
    mx: np.ndarray, mw: np.ndarray, b_raw: np.ndarray, shift: int, n_in: int, t: FixedType
) -> np.ndarray:
    """Accumulations (batch, n_out) none of whose partial sums can leave t's range, in any
    order: |bias| + sum_i |mx_i mw_i| 2^shift (+ 1 per term when the products are rounded,
    shift < 0) below the limits, computed in float64 with a margin far above its error
    (relative (n_in + 4) 2^-53: the conversions, products and sums of non-negative terms)."""
    ax = np.abs(mx.astype(np.float64))
    aw = np.abs(mw.astype(np.float64))
    bound = np.ldexp(ax @ aw, shift) + np.abs(b_raw.astype(np.float64))
    if shift < 0:
        bound += n_in
    bound *= 1.0 + 2.0**-30
    return (bound < float(t.max_raw) * (1.0 - 2.0**-30)) & (
        -bound > float(t.min_raw) * (1.0 - 2.0**-30)
    )


# -------------------------------------------------------------------------- exact products
def exact_sums(
    mx: np.ndarray, mw: np.ndarray, b_raw: np.ndarray, shift: int, accum_t: FixedType
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Casts 1-3 when cast 2 is exact (shift = F_acc - Fx - Fw >= 0) and no product leaves
    accum_t's range (W <= 64, signed): the exact sums from `exact_matmul_mod64`.

    A wrapping accumulator takes them modulo 2^W; any other takes them where `_proven` shows no
    partial sum leaves the range, and runs the C++ loop (`walk`) for the others. Returns the
    accumulator mantissas, which accumulations overflowed (cast 3) and the largest |sum|
    without overflow in LSBs; None when the walk would need more than int64 prefix sums.
    """
    n_in = mx.shape[1]
    b64 = np.asarray(b_raw, dtype=np.int64)
    low = exact_matmul_mod64(mx, mw)
    low = (low << _U64(shift)) if shift < 64 else np.zeros_like(low)
    low += b64.view(_U64)
    fx, fw = mx.astype(np.float64), mw.astype(np.float64)
    estimate = np.ldexp(fx @ fw, shift) + b64.astype(np.float64)
    t, h = high_word(low, estimate)
    big = h != 0
    max_abs = float(np.max(np.abs(t.astype(np.float64)), initial=0.0, where=~big))
    if big.any():
        r, c = np.nonzero(big)
        exact = [
            (int(hh) << 64) + int(tt)
            for hh, tt in zip(h[r, c].tolist(), t[r, c].tolist(), strict=True)
        ]
        max_abs = max(max_abs, max(abs(float(v)) for v in exact))
    if accum_t.overflow is Overflow.WRAP and accum_t.sat_bits == 0:
        acc = wrap_uint64(low, accum_t)
        inside = ~big & (t >= accum_t.min_raw) & (t <= accum_t.max_raw)
        return np.asarray(acc).astype(np.int64), ~inside, max_abs
    proven = _proven(mx, mw, b64, shift, n_in, accum_t)
    acc = t.copy()
    over = np.zeros(acc.shape, dtype=bool)
    if proven.all():
        return acc, over, max_abs
    # prefix sums fit int64 when any n_in + 1 accum_t values do; else every unproven one walks
    prefix_ok = accumulate_type(accum_t, n_in + 1).width <= 64
    r, c = np.nonzero(~proven)
    for part in _slices(len(r), _BLOCK // max(1, n_in)):
        rr, cc = r[part], c[part]
        prods = (mx[rr] * mw[:, cc].T) << np.int64(shift)  # in range: cast 2 is exact
        if prefix_ok:
            late = _leaves_range(prods.T, b64[cc], accum_t.min_raw, accum_t.max_raw)
        else:
            late = np.ones(len(rr), dtype=bool)
        if late.any():
            walked, o = walk(prods[late], b64[cc[late]], accum_t)
            acc[rr[late], cc[late]] = np.asarray(walked).astype(np.int64)
            over[rr[late], cc[late]] = o
    return acc, over, max_abs


def _slices(n: int, size: int) -> list[slice]:
    return [slice(k, min(k + size, n)) for k in range(0, n, max(1, size))]


def walk(prods: np.ndarray, bias: np.ndarray, accum_t: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """The C++ loop of cast 3 on mantissas: ``prods`` (m, n_in) already cast to accum_t, in the
    C++ order, ``bias`` (m,) cast too. Returns the accumulators and whether a partial sum
    overflowed. int64 while a sum of two accum_t values fits, Python ints beyond."""
    s_t = sum_type(accum_t, accum_t)
    dtype = np.int64 if s_t.width <= 63 else object
    acc = np.asarray(bias).astype(dtype)
    prods = np.asarray(prods).astype(dtype)
    over = np.zeros(acc.shape, dtype=bool)
    for i in range(prods.shape[1]):
        acc, o = accum_t.requantize_raw(acc + prods[:, i], s_t, return_overflow=True)
        acc = np.asarray(acc).astype(dtype)
        over |= o
    return acc, over
