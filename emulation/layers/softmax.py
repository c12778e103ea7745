"""Softmax of hls4ml's Vivado io_parallel templates (``nnet_activation.h``), bit for bit.

hls4ml class ``Softmax``; ``attrs['implementation']`` picks the C++ function:

========== ======================================================================================
stable     (default) ``softmax_stable``: x_max - x in ``inp_norm_t``, exp table indexed by its
           top bits, sum in ``accum_t``, reciprocal table indexed by the sum's top bits
latency    ``softmax_latency``: the same without the max subtraction; the exp table is indexed
           by the top bits of the input itself
legacy     ``softmax_legacy``: n^2 table look-ups of exp(x_j - x_i), summed in ``table_t``,
           then a reciprocal table
argmax     ``softmax_argmax``: 1 at the first maximum, 0 elsewhere
========== ======================================================================================

What the config template (``SoftmaxConfigTemplate.format``) decides, reproduced in
`softmax_sizes`: ``exp_table_size`` and ``inv_table_size`` default to ``table_size`` (which
hls4ml's ``fix_softmax_table_size`` pass may already have lowered); for ``stable`` the
normalised input type is ``inp_norm_t = ap_ufixed<W - s, I - s>`` of the input type (s = 1 when
signed) and, for a signed input, the exp table size becomes ``min(inv_table_size, 2^(W - 1))``,
so an explicit exp table size is ignored. ``accum_t`` is the layer's own accum type (the model
default unless set: the template's computed alternative is never used). The legacy version's
tables and sums are ``ap_fixed<18,8>`` whatever the layer's ``table_t``: the config struct does
not declare ``table_t`` and inherits the one of ``nnet::activ_config``.

Tables are indexed by slicing the top ``N = ceillog2(size)`` bits of a value, so a table size
that is not a power of two lets the C++ read past its table: such layers are refused. Table
entries are computed in float with the C library (``expf``; ``1 / x`` in float) as in
`emulation.layers.activation`, cast to the table types, and cached (the tables and their sizes
live in `emulation.layers.softmax_tables`).

Softmax over an axis other than the last (``n_outer``/``n_inner``, ``softmax_multidim``) applies
the same function to every slice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, FixedType
from emulation.layers.activation import c_int_of_quotient
from emulation.layers.base import Context, Node, input_type, node_type, register
from emulation.layers.exact import Caster, cast_exact, exact_product
from emulation.layers.softmax_tables import (
    LEGACY_TABLE_T,
    _check_size,
    _top_bits,
    ceillog2,
    exp_table,
    inv_table,
    legacy_tables,
    softmax_sizes,
)

__all__ = [
    "IMPLEMENTATIONS",
    "LEGACY_TABLE_T",
    "ceillog2",
    "exp_table",
    "inv_table",
    "legacy_tables",
    "softmax",
    "softmax_argmax",
    "softmax_latency",
    "softmax_legacy",
    "softmax_sizes",
    "softmax_stable",
    "tree_sum",
]

IMPLEMENTATIONS = ("stable", "latency", "legacy", "argmax")


def _floorlog2(x: int) -> int:
    return 0 if x < 2 else 1 + _floorlog2(x // 2)


# ------------------------------------------------------------------------------ arithmetic
def tree_sum(terms: list[np.ndarray], accum_t: FixedType, cast: Caster) -> np.ndarray:
    """``nnet::reduce<accum_t, n, Op_add>``: a balanced tree, every sum cast to ``accum_t``.

    The left part holds ``2^floorlog2(n - 1)`` terms; ``a + b`` is exact and ``Op_add``
    returns ``accum_t``.
    """
    n = len(terms)
    if n == 1:
        return terms[0]
    if n == 2:
        return _add(terms[0], terms[1], accum_t, cast)
    left = 1 << _floorlog2(n - 1)
    return _add(
        tree_sum(terms[:left], accum_t, cast), tree_sum(terms[left:], accum_t, cast), accum_t, cast
    )


def _add(a: np.ndarray, b: np.ndarray, t: FixedType, cast: Caster) -> np.ndarray:
    if t.width + 1 <= FLOAT_EXACT_WIDTH:
        return cast(a + b, t, "accum_t")
    m = np.asarray(t.quantize_raw(a)).astype(object) + np.asarray(t.quantize_raw(b)).astype(object)
    return cast.raw(m, t.fractional, t, "accum_t")


def _normalised_differences(
    x: np.ndarray, data_t: FixedType, inp_norm_t: FixedType, cast: Caster
) -> np.ndarray:
    """``inp_norm_t d = x_max - x`` per slice (last axis): exact difference, then the cast."""
    x_max = np.max(x, axis=-1, keepdims=True)
    if data_t.width + 1 <= FLOAT_EXACT_WIDTH:
        return cast(x_max - x, inp_norm_t, "inp_norm_t")
    m = np.asarray(data_t.quantize_raw(np.broadcast_to(x_max, x.shape))).astype(object)
    m = m - np.asarray(data_t.quantize_raw(x)).astype(object)
    return cast.raw(m, data_t.fractional, inp_norm_t, "inp_norm_t")


def _normalise_by_sum(
    exp_res: np.ndarray,
    *,
    accum_t: FixedType,
    inv_inp_t: FixedType,
    inv_table_t: FixedType,
    inv_table_size: int,
    result_t: FixedType,
    cast: Caster,
) -> np.ndarray:
    """The common tail of stable and latency: sum, reciprocal look-up, products."""
    terms = [exp_res[..., i] for i in range(exp_res.shape[-1])]
    total = tree_sum(terms, accum_t, cast)
    exp_sum = cast(total, inv_inp_t, "inv_inp_t")
    table = inv_table(inv_inp_t, int(inv_table_size), inv_table_t)
    inv_sum = table[_top_bits(exp_sum, inv_inp_t, int(inv_table_size))][..., None]
    inv_b = np.broadcast_to(inv_sum, exp_res.shape)
    return cast_exact(
        exact_product(exp_res, accum_t, inv_b, inv_table_t), result_t, cast, "result_t"
    )


# ------------------------------------------------------------------------------- functions
def softmax_stable(
    x: np.ndarray,
    *,
    data_t: FixedType,
    inp_norm_t: FixedType,
    exp_table_t: FixedType,
    exp_table_size: int,
    inv_inp_t: FixedType,
    inv_table_t: FixedType,
    inv_table_size: int,
    accum_t: FixedType,
    result_t: FixedType,
    exp_scale: float = 1.0,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::softmax_stable`` over the last axis.

    1. ``x_max`` (exact), ``d_i = x_max - x_i`` cast to ``inp_norm_t``;
    2. ``exp_res_i = exp_table[top bits of d_i]`` (entries ``exp(-d)`` in ``exp_table_t``),
       cast to ``accum_t``;
    3. ``exp_sum``: balanced tree of ``accum_t`` sums (`tree_sum`), cast to ``inv_inp_t``;
    4. ``inv = inv_table[top bits of exp_sum]`` (entries ``1 / s`` in ``inv_table_t``);
    5. ``res_i = exp_res_i * inv`` (exact product) cast to ``result_t``.
    """
    cast = cast or Caster()
    _check_size(exp_table_size, inp_norm_t, "exp")
    _check_size(inv_table_size, inv_inp_t, "inverse")
    d = _normalised_differences(x, data_t, inp_norm_t, cast)
    table = exp_table(inp_norm_t, int(exp_table_size), exp_table_t, float(exp_scale), True)
    exp_res = cast(table[_top_bits(d, inp_norm_t, int(exp_table_size))], accum_t, "accum_t")
    return _normalise_by_sum(
        exp_res,
        accum_t=accum_t,
        inv_inp_t=inv_inp_t,
        inv_table_t=inv_table_t,
        inv_table_size=inv_table_size,
        result_t=result_t,
        cast=cast,
    )


def softmax_latency(
    x: np.ndarray,
    *,
    data_t: FixedType,
    exp_table_t: FixedType,
    exp_table_size: int,
    inv_inp_t: FixedType,
    inv_table_t: FixedType,
    inv_table_size: int,
    accum_t: FixedType,
    result_t: FixedType,
    exp_scale: float = 1.0,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::softmax_latency`` over the last axis.

    ``exp_res_i = exp_table[top bits of x_i]`` (entries ``exp(x)`` for the values of
    ``data_t``, sign bit included, in ``exp_table_t``) cast to ``accum_t``; then as
    `softmax_stable` steps 3 to 5.
    """
    cast = cast or Caster()
    _check_size(exp_table_size, data_t, "exp")
    _check_size(inv_table_size, inv_inp_t, "inverse")
    table = exp_table(data_t, int(exp_table_size), exp_table_t, float(exp_scale), False)
    exp_res = cast(table[_top_bits(x, data_t, int(exp_table_size))], accum_t, "accum_t")
    return _normalise_by_sum(
        exp_res,
        accum_t=accum_t,
        inv_inp_t=inv_inp_t,
        inv_table_t=inv_table_t,
        inv_table_size=inv_table_size,
        result_t=result_t,
        cast=cast,
    )


def softmax_legacy(
    x: np.ndarray,
    *,
    data_t: FixedType,
    table_t: FixedType,
    exp_table_size: int,
    inv_table_size: int,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::softmax_legacy`` over the last axis.

    For each i, ``exp_res_i`` (``table_t``, starting at 0) adds, for j = 0, 1, ..., n - 1 in
    order, ``table_t(1)`` when j = i and otherwise ``exp_table[int((x_j - x_i) * N / 16) +
    N / 2]`` (clamped; the difference is exact); every addition is cast to ``table_t``. Then
    ``res_i = inv_table[int(exp_res_i * N_inv / 64)]`` (clamped) cast to ``result_t``.
    """
    cast = cast or Caster()
    n_exp, n_inv = int(exp_table_size), int(inv_table_size)
    exp_tab, inv_tab = legacy_tables(n_exp, n_inv, table_t)
    diff_t = FixedType(data_t.width + 1, data_t.integer + 1, True)  # ap_fixed minus: exact
    one = cast(np.float64(1.0), table_t, "table_t")
    n = x.shape[-1]
    # terms[..., i, j]: exp(x_j - x_i) from the table, table_t(1) on the diagonal
    diff = x[..., None, :] - x[..., :, None]
    q = c_int_of_quotient(diff, diff_t, n_exp, 16)
    terms = exp_tab[np.clip(_wrap32(q + n_exp * 8 // 16), 0, n_exp - 1)]
    terms[..., np.arange(n), np.arange(n)] = one
    acc = np.zeros(x.shape)
    for j in range(n):  # exp_res[ii] += ..., j in order: every sum cast back to table_t
        acc = _add_in(acc, terms[..., j], table_t, cast)
    q = c_int_of_quotient(acc, table_t, n_inv, 64)
    return cast(inv_tab[np.clip(q, 0, n_inv - 1)], result_t, "result_t")


def _add_in(acc: np.ndarray, term: np.ndarray, t: FixedType, cast: Caster) -> np.ndarray:
    # exp_res[ii] += exp_diff_res: both table_t, the exact sum cast back to table_t
    if t.width + 1 <= FLOAT_EXACT_WIDTH:
        return cast(acc + term, t, "table_t")
    m = np.asarray(t.quantize_raw(acc)).astype(object)
    m = m + np.asarray(t.quantize_raw(term)).astype(object)
    return cast.raw(m, t.fractional, t, "table_t")


def _wrap32(q: np.ndarray) -> np.ndarray:
    """int32 wrap-around of int64 values (a no-op in range, the usual case)."""
    q = np.asarray(q, dtype=np.int64)
    if not q.size or (q.min() >= -(2**31) and q.max() < 2**31):
        return q
    return ((q + 2**31) & (2**32 - 1)) - 2**31


def softmax_argmax(x: np.ndarray, *, result_t: FixedType, cast: Caster | None = None) -> np.ndarray:
    """``nnet::softmax_argmax``: ``(res_T)1`` at the first maximum, ``(res_T)0`` elsewhere."""
    cast = cast or Caster()
    one = cast(np.float64(1.0), result_t, "result_t")
    y = np.zeros(x.shape)
    np.put_along_axis(y, np.argmax(x, axis=-1)[..., None], one, axis=-1)
    return y


# --------------------------------------------------------------------------------- dispatch
def softmax(
    x: np.ndarray,
    implementation: str = "stable",
    *,
    n_outer: int = 1,
    n_inner: int = 1,
    **kwargs: Any,
) -> np.ndarray:
    """Softmax of ``x`` (``(batch, *shape)``) over slices, with the given implementation.

    hls4ml lays out ``n_outer x n_slice x n_inner`` elements (``softmax_multidim``); each slice
    of ``n_slice`` values goes through the implementation's function (keyword arguments as
    that function takes them).
    """
    functions = {
        "stable": softmax_stable,
        "latency": softmax_latency,
        "legacy": softmax_legacy,
        "argmax": softmax_argmax,
    }
    if implementation not in functions:
        raise UnsupportedLayerError(
            f"softmax implementation {implementation!r} is not supported; expected one of "
            f"{', '.join(IMPLEMENTATIONS)}"
        )
    batch = x.shape[0]
    flat = x.reshape(batch, n_outer, -1, n_inner)
    slices = np.moveaxis(flat, 2, -1)
    y = functions[implementation](slices, **kwargs)
    return np.moveaxis(y, -1, 2).reshape(x.shape)


@register("Softmax")
def _softmax_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    x = inputs[0]
    attrs = node.attrs
    impl = str(attrs.get("implementation", "stable")).lower()
    if impl not in IMPLEMENTATIONS:
        raise UnsupportedLayerError(
            f"layer {node.name!r}: softmax implementation {impl!r} is not supported; expected "
            f"one of {', '.join(IMPLEMENTATIONS)}"
        )
    cast = Caster(ctx, node.name)
    result_t = node_type(node, "result_t")
    layout = {"n_outer": int(attrs.get("n_outer", 1)), "n_inner": int(attrs.get("n_inner", 1))}
    if impl == "argmax":
        return softmax(x, impl, result_t=result_t, cast=cast, **layout)
    data_t = input_type(node)
    sizes = softmax_sizes({**attrs, "implementation": impl}, data_t, node.types.get("inp_norm_t"))
    if impl == "legacy":
        return softmax(
            x,
            impl,
            data_t=data_t,
            table_t=LEGACY_TABLE_T,
            exp_table_size=sizes["exp_table_size"],
            inv_table_size=sizes["inv_table_size"],
            result_t=result_t,
            cast=cast,
            **layout,
        )
    common = {
        "data_t": data_t,
        "exp_table_t": node_type(node, "exp_table_t"),
        "exp_table_size": sizes["exp_table_size"],
        "inv_inp_t": node_type(node, "inv_inp_t"),
        "inv_table_t": node_type(node, "inv_table_t"),
        "inv_table_size": sizes["inv_table_size"],
        "accum_t": node_type(node, "accum_t"),
        "result_t": result_t,
        # a constexpr float written with str()
        "exp_scale": float(np.float32(float(str(attrs.get("exp_scale", 1.0))))),
        "cast": cast,
    }
    if impl == "stable":
        common["inp_norm_t"] = sizes["inp_norm_t"]
    return softmax(x, impl, **common, **layout)
