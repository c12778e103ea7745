"""Dense layers as the Vivado templates compute them (``nnet_dense_latency.h``,
``nnet_dense_resource.h``, ``nnet_mult.h``).

For each output j, the C++ does::

    acc = (accum_t) bias[j]                       # cast 1: bias to accum_t
    for i in <order>:                             # natural, or strided (Resource, 1 < R < n_in)
        p = (accum_t) (data[i] * weight[i, j])    # cast 2: exact product to accum_t
        acc = (accum_t) (acc + p)                 # cast 3: exact sum back to accum_t
    res[j] = (result_t) acc                       # cast 4: accumulator to result_t

How it is reproduced exactly, fastest first:

- one float64 matmul, when cast 2 never rounds (accum_t keeps every fractional bit of the
  products) and no product can overflow on its own. A wrapping accumulator (no saturation bits)
  adds modulo 2^W, which is associative: the sum is wrapped once. For the other overflow modes
  the accumulations whose bound ``|bias| + sum |x w|`` stays in range are done; the others run
  the C++ loop (below) on their own;
- otherwise every product is cast on its own (vectorised, in blocks of samples and outputs),
  then summed: at once when accum_t wraps; else as prefix sums, where the accumulations whose
  every prefix stays in range are done and only the others take the sequential C++ loop in the
  C++ order;
- all in float64 while every product and every partial sum has at most 53 bits: proven from the
  types, or else from the actual values (the largest input of the batch times each weight, as
  FINN sizes accumulators; `_float_exact`); rounded products as int32/int64 mantissas by
  add-and-shift (`dense_wide.rounded_sums`, faster than float64 casts);
- wider, in `dense_wide`: exact sums from float64 BLAS pieces (Ozaki) combined modulo 2^64, or
  int64 rounded products, wherever the largest mantissas show everything fits; only what no
  bound controls takes the step-by-step loop (Python ints past 62 bits), in blocks of samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType, Overflow, accumulate_type, product_type, sum_type
from emulation.layers import dense_wide
from emulation.layers.base import Context, Node, register

__all__ = ["dense", "dense_sum_order", "raw_to_float"]

# Elements of one block of products (samples x inputs x outputs): 4 Mi float64 = 32 MiB.
_BLOCK = 1 << 22
# Widths whose products and sums stay exact in int64 (with room for the sign and a carry).
_INT64_BITS = 62
_FLOAT_BITS = 53
# Rounded products (cast 2 drops bits) as int64 mantissas by add-and-shift (`dense_wide`), not
# float64 casts; False keeps the float64 reference path (tests compare both).
_ROUNDED_INT = True


def raw_to_float(raw: np.ndarray, fractional: int) -> np.ndarray:
    """Value ``raw * 2^-fractional`` of integer mantissas, as float64 (exact up to 53 bits)."""
    return np.ldexp(np.asarray(raw, dtype=np.float64), -fractional)


def dense_sum_order(n_in: int, strategy: str, reuse_factor: int) -> np.ndarray | None:
    """Order in which each output adds its products, or None for the natural order.

    ``dense_resource_rf_leq_nin`` with 1 < R < n_in visits, for every output, the inputs
    ``0, R, 2R, ..., 1, 1 + R, ...``; every other kernel (Latency, Resource with R = 1,
    R = n_in or R > n_in) adds them in the natural order. ``resource_unrolled`` is hls4ml's
    generated copy of the same loops (``GenerateUnrolledDenseResource``: one ``acc[j] +=`` line
    per product, in the Resource order, zero weights left out, which adds nothing), so its
    order is the Resource one.
    """
    if strategy.lower() in ("resource", "resource_unrolled") and 1 < reuse_factor < n_in:
        return np.array([i for r in range(reuse_factor) for i in range(r, n_in, reuse_factor)])
    return None


def _wraps(t: FixedType) -> bool:
    """True when every cast to ``t`` is reduction modulo 2^W (associative)."""
    return t.overflow is Overflow.WRAP and t.sat_bits == 0


def _in_range(v: np.ndarray, t: FixedType) -> np.ndarray:
    """Values a cast to ``t`` leaves unchanged by its overflow mode (given they are on grid)."""
    return (v >= t.min) & (v <= t.max)


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(k, min(k + size, n)) for k in range(0, n, max(1, size))]


def dense(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    *,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    order: Sequence[int] | np.ndarray | None = None,
    ctx: Context | None = None,
    point: str = "dense",
) -> np.ndarray:
    """``nnet::dense`` (io_parallel, Latency or Resource) on exact fixed-point values.

    Parameters
    ----------
    x : (batch, n_in) exact values of ``x_t`` (the layer's ``data_T``).
    w : (n_in, n_out) exact values of ``w_t`` (as the C++ constant holds them).
    b : (n_out,) exact values of ``b_t``.
    accum_t, result_t : the layer's ``accum_t`` and ``result_t``.
    order : the order in which each output adds its products (`dense_sum_order`); None is
        0, 1, ..., n_in - 1. It matters only when accum_t does not simply wrap.
    ctx, point : overflow accounting. Under ``"<point>.accum_t"`` one entry per accumulation
        (sample and output): it counts as overflowed when a cast to accum_t changed the running
        value by its overflow mode (the bias, a product, or a partial sum; for a wrapping
        accumulator, whose intermediate wraps cancel, the bias, a product or the final sum);
        ``max_abs`` is the largest |bias|, |product| or |final sum| before the casts, the sum
        taken without overflow. Under ``"<point>.result_t"``: cast 4.

    Cast points: (1) ``(accum_t) bias[j]``; (2) each product ``data[i] * weight[i, j]``
    (exact, ``product_type(x_t, w_t)``) to accum_t; (3) each running sum (exact) to accum_t;
    (4) the accumulator to result_t.

    Returns
    -------
    (batch, n_out) float64 exact values of result_t.
    """
    ctx = ctx if ctx is not None else Context()
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if order is not None:
        # products do not depend on the order; only the sums do
        x, w = x[:, order], w[order]
    wide = not _float_exact(x, w, b, x_t, w_t, accum_t)
    run = _accumulate_int if wide else _accumulate_float
    acc, over, max_abs = run(x, w, b, x_t, w_t, b_t, accum_t)
    # the largest |product| before cast 2: exact, without forming every product
    if x.size and w.size:
        col = np.max(np.abs(x), axis=0) * np.max(np.abs(w), axis=1)
        max_abs = max(max_abs, float(np.max(col)))
    ctx.record(f"{point}.accum_t", over, max_abs)
    if wide:
        res, res_over = result_t.requantize_raw(acc, accum_t, return_overflow=True)
        acc_max = float(np.max(np.abs(raw_to_float(acc, accum_t.fractional)), initial=0.0))
        ctx.record(f"{point}.result_t", res_over, acc_max)
        return raw_to_float(res, result_t.fractional)
    return ctx.cast(acc, result_t, f"{point}.result_t")


def _accumulate_float(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Casts 1-3 in float64 (every value involved has at most 53 bits): the accumulators, which
    accumulations overflowed, and the largest |bias| or |final sum|."""
    batch, n_in = x.shape
    n_out = w.shape[1]
    b_acc, b_over = accum_t.quantize(b, return_overflow=True)
    over = np.broadcast_to(b_over, (batch, n_out)).copy()
    max_abs = float(np.max(np.abs(b), initial=0.0))
    modular = _wraps(accum_t)
    lo, hi = accum_t.min, accum_t.max
    if _matmul_ok(x, w, x_t, w_t, accum_t):
        # cast 2 is the identity: one matmul, exact (all on accum_t's grid, < 2^53 LSBs)
        s = x @ w + b_acc
        max_abs = max(max_abs, float(np.max(np.abs(s), initial=0.0)))
        if modular:
            acc, s_over = accum_t.quantize(s, return_overflow=True)
            return acc, over | s_over, max_abs
        bound = np.abs(x) @ np.abs(w) + np.abs(b_acc)
        late = ~((bound <= hi) & (-bound >= lo))
        acc = s
        if late.any():
            rows, cols = np.nonzero(late)
            for part in _chunks(len(rows), _BLOCK // max(1, n_in)):
                r, c = rows[part], cols[part]
                prods = accum_t.quantize(x[r] * w[:, c].T)
                acc[r, c], o = _walk(prods, b_acc[c], accum_t)
                over[r, c] |= o
        return acc, over, max_abs

    # cast 2 rounds (or may overflow): every product cast, in blocks of samples and outputs,
    # laid out (n_in, samples, outputs) so that each step of a sum adds one contiguous slab
    biggest = float(np.max(np.abs(x), initial=0.0)) * float(np.max(np.abs(w), initial=0.0))
    products_fit = lo < 0 and biggest + accum_t.lsb <= hi
    k = x_t.fractional + w_t.fractional - accum_t.fractional
    if products_fit and _ROUNDED_INT and k >= 1:
        mx, mw = _mantissas(x, x_t), _mantissas(w, w_t)
        b_raw = np.ldexp(b_acc, accum_t.fractional).astype(np.int64)
        if mx is not None and mw is not None and mx.size and mw.size:
            big = max(abs(int(mx.min())), int(mx.max())) * max(abs(int(mw.min())), int(mw.max()))
            if big + (1 << k) < 1 << 62 and _sums_fit_int64(mx, mw, b_raw, k, accum_t, True):
                raw, o, exact = dense_wide.rounded_sums(mx, mw, b_raw, k, big, accum_t)
                top = float(np.max(np.abs(exact), initial=0)) * accum_t.lsb
                return raw_to_float(raw, accum_t.fractional), over | o, max(max_abs, top)
    acc = np.empty((batch, n_out))
    per_sample = max(1, n_in * n_out)
    sb = max(1, min(batch, _BLOCK // per_sample))
    bj = n_out if per_sample <= _BLOCK else max(1, _BLOCK // max(1, n_in))
    for rs in _chunks(batch, sb):
        xb = np.ascontiguousarray(x[rs].T)
        for cs in _chunks(n_out, bj):
            prod = xb[:, :, None] * w[:, None, cs]
            if products_fit:
                p = accum_t.quantize(prod)
            else:
                p, p_over = accum_t.quantize(prod, return_overflow=True)
                over[rs, cs] |= p_over.any(axis=0)
            if modular:
                s = p.sum(axis=0) + b_acc[cs]
                acc[rs, cs], s_over = accum_t.quantize(s, return_overflow=True)
                over[rs, cs] |= s_over
            else:
                # prefix sums without overflow, and their extremes: where those stay in range,
                # no partial-sum cast acts and the plain sum is the C++ value
                s = np.broadcast_to(b_acc[cs], p.shape[1:]).copy()
                top, bottom = s.copy(), s.copy()
                for step in p:
                    s += step
                    np.maximum(top, s, out=top)
                    np.minimum(bottom, s, out=bottom)
                acc[rs, cs] = s
                late = (top > hi) | (bottom < lo)
                if late.any():
                    r, c = np.nonzero(late)
                    walked, _ = _walk(p[:, r, c].T, b_acc[cs][c], accum_t)
                    acc[rs, cs][r, c] = walked
                    over[rs, cs] |= late
            max_abs = max(max_abs, float(np.max(np.abs(s), initial=0.0)))
    return acc, over, max_abs


def _float_exact(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, x_t: FixedType, w_t: FixedType, accum_t: FixedType
) -> bool:
    """Whether every value casts 1-3 produce is exact in float64 (mantissas below 2^53).

    From the types alone when they guarantee it; otherwise from the actual values, as FINN
    sizes accumulators: with X_i = max |x_i| over the batch, every product x_i w_ij is at most
    X_i |w_ij| and every partial sum (in any order, as BLAS adds) at most
    S_j = |bias_j| + sum_i X_i |w_ij|. The bounds are computed in float64 themselves: rounding
    is monotone, so a computed sum of non-negative integers below 2^53 is the exact sum (a
    partial sum past 2^53 would round to at least 2^53 and stay there).
    """
    n_in = x.shape[1]
    p_t = product_type(x_t, w_t)
    if p_t.width <= _FLOAT_BITS and accumulate_type(accum_t, n_in + 1).width <= _FLOAT_BITS:
        return True
    limit = np.ldexp(1.0, _FLOAT_BITS)
    x_max = np.max(np.abs(x), axis=0, initial=0.0)
    w_abs = np.abs(w)
    # products: |x| 2^Fx and |w| 2^Fw are integers (mantissas), so is their product
    biggest = float(np.max(x_max, initial=0.0)) * float(np.max(w_abs, initial=0.0))
    if not np.ldexp(biggest, p_t.fractional) < limit:
        return False
    # sums, in units of accum_t's LSB: the bias as cast 1 leaves it, then the products
    f = accum_t.fractional
    exact_products = x_t.fractional + w_t.fractional <= f
    lo, hi = accum_t.min, accum_t.max
    if not (lo < 0 and biggest + (0.0 if exact_products else accum_t.lsb) <= hi):
        # a product may overflow: a cast product is then only known to be some accum_t value
        return np.ldexp(max(-lo, hi), f) * (n_in + 1) < limit
    bias = np.abs(accum_t.quantize(b))
    sums = np.ldexp(x_max @ w_abs + bias, f)
    if exact_products:
        # cast 2 is the identity: every term is an integer on accum_t's grid
        return bool(np.max(sums, initial=0.0) < limit)
    # cast 2 rounds each product by less than one LSB; the terms are no longer integers, so
    # keep a margin far above float64's relative error
    return (float(np.max(sums, initial=0.0)) + n_in) * (1 + 2.0**-20) < limit


def _matmul_ok(
    x: np.ndarray, w: np.ndarray, x_t: FixedType, w_t: FixedType, accum_t: FixedType
) -> bool:
    """Whether cast 2 is the identity: no product rounds (accum_t keeps their fractional bits)
    and none can leave accum_t's range (signed accumulators only)."""
    if x_t.fractional + w_t.fractional > accum_t.fractional or accum_t.min >= 0:
        return False
    biggest = float(np.max(np.abs(x), initial=0.0)) * float(np.max(np.abs(w), initial=0.0))
    return biggest <= accum_t.max


def _walk(prods: np.ndarray, bias: np.ndarray, accum_t: FixedType) -> tuple[np.ndarray, np.ndarray]:
    """The C++ loop of cast 3 for some accumulations: ``prods`` (m, n_in) already cast to
    accum_t and in the C++ order, ``bias`` (m,) cast too. Returns the accumulators and whether a
    partial sum overflowed."""
    acc = bias.astype(np.float64)
    over = np.zeros(acc.shape, dtype=bool)
    for i in range(prods.shape[1]):
        acc, o = accum_t.quantize(acc + prods[:, i], return_overflow=True)
        over |= o
    return acc, over


def _accumulate_int(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Casts 1-3 on integer mantissas, for types too wide for float64.

    Returns accumulator mantissas, which accumulations overflowed, and the largest |bias| or
    |final sum|. The kernels of `emulation.layers.dense_wide` where they apply (int64 and
    float64 BLAS pieces), else step by step in int64 or, past 62 bits, Python ints.
    """
    batch, n_in = x.shape
    n_out = w.shape[1]
    b_raw, b_over = accum_t.requantize_raw(b_t.quantize_raw(b), b_t, return_overflow=True)
    over = np.broadcast_to(b_over, (batch, n_out)).copy()
    max_abs = float(np.max(np.abs(b), initial=0.0))
    fast = _wide_kernels(x, w, np.asarray(b_raw), x_t, w_t, accum_t)
    if fast is not None:
        acc, o, m = fast
        return acc, over | o, max(max_abs, float(np.ldexp(m, -accum_t.fractional)))
    rows = max(1, _BLOCK // max(1, n_in * n_out))
    acc = np.empty((batch, n_out), dtype=object)
    for rs in _chunks(batch, rows):
        a, o, m = _accumulate_steps(x[rs], w, np.asarray(b_raw), x_t, w_t, accum_t)
        acc[rs] = a
        over[rs] |= o
        max_abs = max(max_abs, m)
    fits = accum_t.width <= 64 and not (not accum_t.signed and accum_t.width == 64)
    return (acc.astype(np.int64) if fits else acc), over, max_abs


def _mantissas(v: np.ndarray, t: FixedType) -> np.ndarray | None:
    """int64 mantissas of exact values of t, or None when they may not fit (uint64, wider)."""
    raw = np.asarray(t.quantize_raw(v))
    return raw if raw.dtype == np.int64 else None


def _wide_kernels(
    x: np.ndarray,
    w: np.ndarray,
    b_raw: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Casts 2-3 by `dense_wide.exact_sums` or `dense_wide.rounded_sums` when no product can
    overflow accum_t (from the largest mantissas) and everything fits int64; else None."""
    if accum_t.width > 64 or b_raw.dtype != np.int64:
        return None
    mx, mw = _mantissas(x, x_t), _mantissas(w, w_t)
    if mx is None or mw is None or mx.size == 0 or mw.size == 0:
        return None
    big = max(abs(int(mx.min())), int(mx.max())) * max(abs(int(mw.min())), int(mw.max()))
    shift = accum_t.fractional - x_t.fractional - w_t.fractional
    biggest = big << shift if shift >= 0 else (big >> -shift) + 1
    fit = biggest <= accum_t.max_raw and -biggest >= accum_t.min_raw
    if shift >= 0:
        return dense_wide.exact_sums(mx, mw, b_raw, shift, accum_t) if fit else None
    k = -shift
    if big + (1 << k) >= 1 << 62 or not _sums_fit_int64(mx, mw, b_raw, k, accum_t, fit):
        return None
    acc, over, exact = dense_wide.rounded_sums(mx, mw, b_raw, k, big, accum_t, fit)
    return acc, over, float(np.max(np.abs(exact.astype(np.float64)), initial=0.0))


def _sums_fit_int64(
    mx: np.ndarray, mw: np.ndarray, b_raw: np.ndarray, k: int, accum_t: FixedType, fit: bool
) -> bool:
    """Whether every partial sum of bias and products cast to accum_t (rounded by k bits) fits
    int64: from the values when no product overflows (|bias| + sum_i X_i |w_i| 2^-k + n_in,
    X_i the largest |x_i|, computed in float64 with a wide margin), else from the types."""
    n_in = mx.shape[1]
    if not fit:
        return accumulate_type(accum_t, n_in + 1).width <= 64
    x_max = np.max(np.abs(mx.astype(np.float64)), axis=0)
    sums = np.ldexp(x_max @ np.abs(mw.astype(np.float64)), -k) + np.abs(b_raw) + n_in
    return float(np.max(sums, initial=0.0)) * (1 + 2.0**-30) < 2.0**62


def _accumulate_steps(
    x: np.ndarray,
    w: np.ndarray,
    b_raw: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    accum_t: FixedType,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The last resort: casts 2-3 one input at a time, int64 up to 62 bits, else Python ints
    (one block of samples). Returns mantissas (object), overflows (casts 2-3), max |sum|."""
    batch, n_in = x.shape
    n_out = w.shape[1]
    p_t = product_type(x_t, w_t)
    total_t = accumulate_type(accum_t, n_in + 1)
    dtype = np.int64 if max(p_t.width, total_t.width) <= _INT64_BITS else object
    mx = np.asarray(x_t.quantize_raw(x)).astype(dtype)
    mw = np.asarray(w_t.quantize_raw(w)).astype(dtype)
    over = np.zeros((batch, n_out), dtype=bool)
    modular = _wraps(accum_t)
    s_t = total_t if modular else sum_type(accum_t, accum_t)
    acc = np.broadcast_to(b_raw.astype(dtype), (batch, n_out)).copy()
    exact = acc.copy()  # the sum without overflow, for max_abs
    for i in range(n_in):
        prod = mx[:, i, None] * mw[None, i, :]
        p, o = accum_t.requantize_raw(prod, p_t, return_overflow=True)
        over |= o
        p = np.asarray(p).astype(dtype)
        exact = exact + p
        if modular:
            acc = acc + p  # wrapped once at the end: addition modulo 2^W
        else:
            acc, o = accum_t.requantize_raw(acc + p, s_t, return_overflow=True)
            acc = np.asarray(acc).astype(dtype)
            over |= o
    if modular:
        acc, o = accum_t.requantize_raw(acc, s_t, return_overflow=True)
        over |= o
    max_abs = float(np.max(np.abs(raw_to_float(exact, accum_t.fractional)), initial=0.0))
    return np.asarray(acc).astype(object), over, max_abs


def _ternary(w: np.ndarray) -> tuple[np.ndarray, FixedType]:
    """``nnet::product::weight_ternary``: 0 gives 0, -1 gives -a, anything else gives a."""
    return np.where(w == 0, 0.0, np.where(w == -1, -1.0, 1.0)), FixedType(2, 2)


@register("Dense")
def dense_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Dense node -> `dense`, with hls4ml's strategy, reuse factor and weight layout."""
    x = inputs[0].reshape(inputs[0].shape[0], -1)
    w = node.weights["weight"]
    if node.attrs.get("_weights_transposed", False):
        w = w.T  # Resource strategy: hls4ml stores (n_out, n_in)
    w = w.reshape(x.shape[1], -1)
    w_t = node.types["weight_t"]
    product = node.attrs.get("product_type") or "mult"
    if product == "weight_ternary":
        w, w_t = _ternary(w)
    elif product != "mult":
        raise UnsupportedLayerError(
            f"layer {node.name!r} uses nnet::product::{product} (binary or exponent weights); "
            "the emulator supports mult and weight_ternary: give it fixed-point weights"
        )
    strategy = str(node.attrs.get("strategy", "latency")).lower()
    if strategy not in ("latency", "resource", "resource_unrolled"):
        raise UnsupportedLayerError(
            f"layer {node.name!r} uses strategy {strategy!r}; the emulator supports Latency, "
            "Resource and ResourceUnrolled: set Strategy to one of those for this layer"
        )
    order = dense_sum_order(x.shape[1], strategy, int(node.attrs.get("reuse_factor", 1)))
    y = dense(
        x,
        w,
        node.weights["bias"],
        x_t=node.input_types[0],
        w_t=w_t,
        b_t=node.types["bias_t"],
        accum_t=node.types["accum_t"],
        result_t=node.types["result_t"],
        order=order,
        ctx=ctx,
        point=node.name,
    )
    return y.reshape(x.shape[0], *node.output_shape)
