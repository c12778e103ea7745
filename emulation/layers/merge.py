"""Two-input layers as hls4ml's Vivado io_parallel templates compute them (``nnet_merge.h``).

hls4ml maps Keras ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` to
its class ``Merge`` (attribute ``op``), ``Concatenate`` to ``Concatenate`` and ``Dot`` to ``Dot``;
each takes exactly two inputs. Per element ``i`` of the output (``n_elem`` = the larger input's
size), input k contributes element ``i % n_elem_k`` of its flat array: a smaller input is
repeated, which equals NumPy broadcasting only when it matches the trailing axes.

========= ===========================================================================
op        C++ (every result is assigned to ``res_T``: one cast to result_t)
========= ===========================================================================
add       ``a + b``: exact sum (``RType::plus``), then cast
subtract  ``a - b``: exact difference, then cast
multiply  ``a * b``: exact product (``RType::mult``, Wa + Wb bits), then cast
average   ``(a + b) * ap_ufixed<1,0>(0.5)``: exact half of the exact sum, then cast
maximum   ``a > b ? (res_T) a : (res_T) b``: exact comparison, the winner cast
minimum   ``a < b ? (res_T) a : (res_T) b``
========= ===========================================================================

``Concatenate`` copies both inputs into res_T (each value cast; axis as Keras's, batch axis
counted). ``Dot`` (rank-1 inputs only, ``dot1d``) casts each product to accum_t, adds them to
``accum_t acc = 0`` one at a time in index order (each sum cast to accum_t), then casts to
result_t; Keras's ``normalize=True`` is ignored by hls4ml.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import (
    INT64_BITS,
    FixedType,
    Overflow,
    accumulate_type,
    product_type,
    sum_type,
)
from emulation.layers.base import Context, Node, register
from emulation.layers.exact import Caster, cast_exact, exact_product

__all__ = ["concatenate", "dot", "merge"]

_OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum")


def _flat_operands(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both inputs as (batch, n_elem), the smaller repeated as ``data[i % n_elem_k]`` does."""
    fa = a.reshape(a.shape[0], -1)
    fb = b.reshape(b.shape[0], -1)
    n = max(fa.shape[1], fb.shape[1])
    if fa.shape[1] != n:
        fa = fa[:, np.arange(n) % fa.shape[1]]
    if fb.shape[1] != n:
        fb = fb[:, np.arange(n) % fb.shape[1]]
    return fa, fb


def merge(
    op: str,
    a: np.ndarray,
    b: np.ndarray,
    *,
    a_t: FixedType,
    b_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "merge",
) -> np.ndarray:
    """``nnet::<op>`` of two inputs; returns ``(batch, n_elem)`` exact values of result_t.

    ``op`` is one of add, subtract, multiply, average, maximum, minimum (see the module table
    for each one's exact arithmetic). The only cast is the final one, to ``result_t``, recorded
    under ``"<point>.result_t"``. Sums and differences of two values are exact in float64 for
    the types hls4ml carries between layers (up to 52 bits).
    """
    fa, fb = _flat_operands(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    cast = Caster(ctx, point)
    if op == "multiply":
        # the exact product: float64 when it fits, else integer mantissas
        return cast_exact(exact_product(fa, a_t, fb, b_t), result_t, cast, "result_t")
    if op == "add":
        v = fa + fb
    elif op == "subtract":
        v = fa - fb
    elif op == "average":
        v = (fa + fb) * 0.5  # a power of two: exact
    elif op == "maximum":
        v = np.where(fa > fb, fa, fb)
    elif op == "minimum":
        v = np.where(fa < fb, fa, fb)
    else:
        raise UnsupportedLayerError(
            f"merge operation {op!r} is not supported; supported: {', '.join(_OPS)}"
        )
    return cast(v, result_t, "result_t")


def concatenate(
    a: np.ndarray,
    b: np.ndarray,
    axis: int,
    *,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "concatenate",
) -> np.ndarray:
    """``nnet::concatenate{1,2,3}d``: both inputs cast to ``result_t``, joined along ``axis``.

    ``axis`` counts as Keras does (batch axis 0; negative from the end). The templates pick
    the last axis for -1 (and 2 in 2D, 3 in 3D), the middle one for 2 or -2 in 3D, the first
    otherwise, which is the same axis.
    """
    rank = a.ndim - 1
    per_sample = axis - 1 if axis > 0 else axis
    if not -rank <= per_sample < rank:
        raise UnsupportedLayerError(
            f"cannot concatenate inputs of rank {rank} along axis {axis}; expected an axis in "
            f"[1, {rank}] or [-{rank}, -1]"
        )
    y = np.concatenate([a, b], axis=per_sample % rank + 1)
    return Caster(ctx, point)(y, result_t, "result_t")


def dot(
    a: np.ndarray,
    b: np.ndarray,
    *,
    a_t: FixedType,
    b_t: FixedType,
    accum_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "dot",
) -> np.ndarray:
    """``nnet::dot1d`` of (batch, n) inputs: returns (batch, 1) exact values of result_t.

    Cast points: each product ``a[i] * b[i]`` (exact) to accum_t, each running sum (from
    ``accum_t acc = 0``, in index order) to accum_t, the sum to result_t; all under
    ``"<point>.accum_t"`` and ``"<point>.result_t"``. Integer mantissas throughout, so wide
    products, rounding and saturating accumulators are all exact.
    """
    a = np.asarray(a, dtype=np.float64).reshape(a.shape[0], -1)
    b = np.asarray(b, dtype=np.float64).reshape(b.shape[0], -1)
    n = a.shape[1]
    p_t = product_type(a_t, b_t)
    s_t = sum_type(accum_t, accum_t)
    total_t = accumulate_type(accum_t, max(1, n))
    dtype = np.int64 if max(p_t.width, total_t.width) <= INT64_BITS else object
    m = np.asarray(a_t.quantize_raw(a)).astype(dtype) * np.asarray(b_t.quantize_raw(b)).astype(
        dtype
    )
    cast = Caster(ctx, point)
    p, over = accum_t.requantize_raw(m, p_t, return_overflow=True)
    cast.record_raw("accum_t", over, m, p_t.fractional)
    p = np.asarray(p).astype(dtype)
    if accum_t.overflow is Overflow.WRAP and accum_t.sat_bits == 0:
        # casts that only wrap commute with addition: add all, wrap once
        total = p.sum(axis=1)
        acc, over = accum_t.requantize_raw(total, total_t, return_overflow=True)
        cast.record_raw("accum_t", over, total, total_t.fractional)
    else:
        acc = np.zeros(a.shape[0], dtype=dtype)
        for i in range(n):
            s = acc + p[:, i]
            acc, over = accum_t.requantize_raw(s, s_t, return_overflow=True)
            cast.record_raw("accum_t", over, s, s_t.fractional)
            acc = np.asarray(acc).astype(dtype)
    res, over = result_t.requantize_raw(
        np.asarray(acc).astype(dtype), accum_t, return_overflow=True
    )
    cast.record_raw("result_t", over, np.asarray(acc), accum_t.fractional)
    return (np.ldexp(np.asarray(res, dtype=np.float64), -result_t.fractional) + 0.0)[:, None]


# --- adapters ---------------------------------------------------------------------------------


@register("Merge")
def merge_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Merge node (add, subtract, multiply, average, maximum, minimum) -> `merge`."""
    op = str(node.attrs.get("op", "")).lower()
    if op not in _OPS:
        raise UnsupportedLayerError(
            f"layer {node.name!r} (Merge) has op {node.attrs.get('op')!r}; the emulator "
            f"supports {', '.join(_OPS)}"
        )
    y = merge(
        op,
        inputs[0],
        inputs[1],
        a_t=node.input_types[0],
        b_t=node.input_types[1],
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )
    return y.reshape(y.shape[0], *node.output_shape)


@register("Concatenate")
def concatenate_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Concatenate node -> `concatenate`."""
    return concatenate(
        inputs[0],
        inputs[1],
        int(node.attrs.get("axis", -1)),
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )


@register("Dot")
def dot_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Dot node (``dot1d``) -> `dot`."""
    return dot(
        inputs[0],
        inputs[1],
        a_t=node.input_types[0],
        b_t=node.input_types[1],
        accum_t=node.types["accum_t"],
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )
