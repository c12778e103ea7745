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
  FINN sizes accumulators; `_float_exact`); products that are rounded or leave accum_t's
  range as int64 mantissas (`dense_wide.rounded_sums`, faster than float64 casts), in one
  compiled loop where numba is available (`dense_compiled`), which casts each product with
  accum_t's own overflow mode: a narrow accumulator is no slower than a wide one;
- wider, in `dense_int` and `dense_wide`: exact sums from float64 BLAS pieces (Ozaki)
  combined modulo 2^64, or int64 rounded products, wherever the largest mantissas show
  everything fits; only what no bound controls takes the step-by-step loop (Python ints past
  62 bits), in blocks of samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType, accumulate_type, product_type
from emulation.fixed.kernels_int import raw_to_float
from emulation.layers import dense_wide
from emulation.layers.base import Context, Node, register
from emulation.layers.dense_int import (
    accumulate_int,
    chunks,
    column_max_abs,
    int64_mantissas,
    sums_fit_int64,
    wraps,
)
from emulation.layers.exact import Caster

__all__ = ["SUM_STRATEGIES", "dense", "dense_sum_order"]

#: the Strategy values whose sum order `dense_sum_order` reproduces (lower case, as hls4ml's)
SUM_STRATEGIES = ("latency", "resource", "resource_unrolled")

# Elements of one block of products (samples x inputs x outputs): 4 Mi float64 = 32 MiB.
_BLOCK = 1 << 22
_FLOAT_BITS = FLOAT_EXACT_WIDTH
# Rounded products (cast 2 drops bits) as int64 mantissas by add-and-shift (`dense_wide`), not
# float64 casts; False keeps the float64 reference path (tests compare both).
_ROUNDED_INT = True


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


def _in_range(v: np.ndarray, t: FixedType) -> np.ndarray:
    """Values a cast to ``t`` leaves unchanged by its overflow mode (given they are on grid)."""
    return (v >= t.min) & (v <= t.max)


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
    cast = Caster(ctx, point)
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if order is not None:
        # products do not depend on the order; only the sums do
        x, w = x[:, order], w[order]
    # every bound below needs only the largest |x_i| of the batch: one pass over x
    x_max = column_max_abs(x)
    wide = not _float_exact(x_max, w, b, x_t, w_t, accum_t)
    if wide:
        acc, over, max_abs = accumulate_int(x, w, b, x_t, w_t, b_t, accum_t)
    else:
        acc, over, max_abs = _accumulate_float(x, w, b, x_t, w_t, b_t, accum_t, x_max)
    # the largest |product| before cast 2: exact, without forming every product
    if x.size and w.size:
        max_abs = max(max_abs, float(np.max(x_max * np.max(np.abs(w), axis=1))))
    cast.record("accum_t", over, max_abs)
    if wide:
        res, res_over = result_t.requantize_raw(acc, accum_t, return_overflow=True)
        acc_max = float(np.max(np.abs(raw_to_float(acc, accum_t.fractional)), initial=0.0))
        cast.record("result_t", res_over, acc_max)
        return raw_to_float(res, result_t.fractional)
    return cast(acc, result_t, "result_t", source=accum_t)


def _accumulate_float(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    x_max: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Casts 1-3 in float64 (every value involved has at most 53 bits): the accumulators, which
    accumulations overflowed, and the largest |bias| or |final sum|. ``x_max``: the
    `column_max_abs` of x, when the caller has it."""
    x_max = column_max_abs(x) if x_max is None else x_max
    batch, n_in = x.shape
    n_out = w.shape[1]
    b_acc, b_over = accum_t.quantize(b, return_overflow=True)
    over = np.broadcast_to(b_over, (batch, n_out)).copy()
    max_abs = float(np.max(np.abs(b), initial=0.0))
    modular = wraps(accum_t)
    lo, hi = accum_t.min, accum_t.max
    if _matmul_ok(x_max, w, x_t, w_t, accum_t):
        # cast 2 is the identity: one matmul, exact (all on accum_t's grid, < 2^53 LSBs)
        s = x @ w
        s += b_acc
        s_lo, s_hi = (float(s.min()), float(s.max())) if s.size else (0.0, 0.0)
        max_abs = max(max_abs, s_hi, -s_lo)
        if modular:
            if lo <= s_lo and s_hi <= hi:  # the final wrap leaves every sum as it is
                return s, over, max_abs
            acc, s_over = accum_t.quantize(s, return_overflow=True)
            return acc, over | s_over, max_abs
        # |bias| + sum_i X_i |w_ij| bounds every partial sum of every sample: when it stays in
        # range no cast 3 acts (one vector product; else the per-sample bound)
        w_abs = np.abs(w)
        top = float(np.max(x_max @ w_abs + np.abs(b_acc), initial=0.0))
        if top <= hi and -top >= lo:
            return s, over, max_abs
        bound = np.abs(x) @ w_abs + np.abs(b_acc)
        late = ~((bound <= hi) & (-bound >= lo))
        acc = s
        if late.any():
            rows, cols = np.nonzero(late)
            for part in chunks(len(rows), _BLOCK // max(1, n_in)):
                r, c = rows[part], cols[part]
                prods = accum_t.quantize(x[r] * w[:, c].T)
                acc[r, c], o = _walk(prods, b_acc[c], accum_t)
                over[r, c] |= o
        return acc, over, max_abs

    # cast 2 rounds (or may overflow): every product cast, in blocks of samples and outputs,
    # laid out (n_in, samples, outputs) so that each step of a sum adds one contiguous slab
    biggest = float(np.max(x_max, initial=0.0)) * float(np.max(np.abs(w), initial=0.0))
    products_fit = lo < 0 and biggest + accum_t.lsb <= hi
    if _ROUNDED_INT and x.size and w.size:
        ints = _rounded_int(x, w, b_acc, x_max, x_t, w_t, accum_t, products_fit)
        if ints is not None:
            raw, o, top = ints
            return raw_to_float(raw, accum_t.fractional), over | o, max(max_abs, top)
    acc = np.empty((batch, n_out))
    per_sample = max(1, n_in * n_out)
    sb = max(1, min(batch, _BLOCK // per_sample))
    bj = n_out if per_sample <= _BLOCK else max(1, _BLOCK // max(1, n_in))
    for rs in chunks(batch, sb):
        xb = np.ascontiguousarray(x[rs].T)
        for cs in chunks(n_out, bj):
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


def _rounded_int(
    x: np.ndarray,
    w: np.ndarray,
    b_acc: np.ndarray,
    x_max: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    accum_t: FixedType,
    products_fit: bool,
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Casts 2-3 on int64 mantissas (`dense_wide.rounded_sums`) for products that cast 2
    rounds (k >= 1 bits dropped) or that may leave accum_t's range (then on accum_t's grid,
    weights shifted left, when k < 0): the accumulator mantissas, the overflows and the
    largest |sum|; None unless everything fits int64."""
    k = x_t.fractional + w_t.fractional - accum_t.fractional
    if products_fit and k < 1:
        return None  # exact products in range: the matmul's case, or an unsigned accumulator
    mw = int64_mantissas(w, w_t)
    if mw is None:
        return None
    # the inputs stay float64 (exact integers once scaled by 2^Fx): no mantissa pass
    x_raw_max = np.ldexp(x_max, x_t.fractional)
    big = int(x_raw_max.max()) * max(abs(int(mw.min())), int(mw.max()))
    if k < 0:
        if big << -k >= 1 << INT64_BITS:
            return None
        mw, big, k = mw << np.int64(-k), big << -k, 0
    b_raw = np.ldexp(b_acc, accum_t.fractional).astype(np.int64)
    fit = sums_fit_int64(x_raw_max, mw, b_raw, k, accum_t, products_fit)
    if big + (1 << k) >= 1 << INT64_BITS or not fit:
        return None
    raw, o, exact = dense_wide.rounded_sums(
        x, mw, b_raw, k, big, accum_t, products_fit, x_fractional=x_t.fractional
    )
    return raw, o, float(np.max(np.abs(exact), initial=0)) * accum_t.lsb


def _float_exact(
    x_max: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    x_t: FixedType,
    w_t: FixedType,
    accum_t: FixedType,
) -> bool:
    """Whether every value casts 1-3 produce is exact in float64 (mantissas below 2^53), given
    ``x_max``, the largest |x_i| of the batch per input (`column_max_abs`).

    From the types alone when they guarantee it; otherwise from the actual values, as FINN
    sizes accumulators: with X_i = max |x_i| over the batch, every product x_i w_ij is at most
    X_i |w_ij| and every partial sum (in any order, as BLAS adds) at most
    S_j = |bias_j| + sum_i X_i |w_ij|. The bounds are computed in float64 themselves: rounding
    is monotone, so a computed sum of non-negative integers below 2^53 is the exact sum (a
    partial sum past 2^53 would round to at least 2^53 and stay there).
    """
    n_in = x_max.shape[0]
    p_t = product_type(x_t, w_t)
    if p_t.width <= _FLOAT_BITS and accumulate_type(accum_t, n_in + 1).width <= _FLOAT_BITS:
        return True
    limit = np.ldexp(1.0, _FLOAT_BITS)
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
    x_max: np.ndarray, w: np.ndarray, x_t: FixedType, w_t: FixedType, accum_t: FixedType
) -> bool:
    """Whether cast 2 is the identity: no product rounds (accum_t keeps their fractional bits)
    and none can leave accum_t's range (signed accumulators only); ``x_max`` as in
    `_float_exact`."""
    if x_t.fractional + w_t.fractional > accum_t.fractional or accum_t.min >= 0:
        return False
    biggest = float(np.max(x_max, initial=0.0)) * float(np.max(np.abs(w), initial=0.0))
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
    if strategy not in SUM_STRATEGIES:
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
