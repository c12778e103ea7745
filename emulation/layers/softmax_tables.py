"""Softmax's tables and their sizes, as hls4ml's ``nnet_activation.h`` and its config template.

`softmax_sizes` reproduces what ``SoftmaxConfigTemplate.format`` writes (see
`emulation.layers.softmax`); `exp_table`, `inv_table` and `legacy_tables` build the tables
(``init_exp_table``, ``init_invert_table``, their legacy versions) in float with the C library,
cast to the table types and cached. The stable and latency tables are indexed by the top
``ceillog2(size)`` bits of a value (`_top_bits`), so `_check_size` refuses a size the C++ would
read past.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import INT64_BITS, FixedType
from emulation.layers.tables import c_float_function, to_table

__all__ = [
    "LEGACY_TABLE_T",
    "ceillog2",
    "exp_table",
    "inv_table",
    "legacy_tables",
    "softmax_sizes",
]


#: The legacy tables' type: the softmax config struct declares no ``table_t``, so the one of
#: ``nnet::activ_config`` applies, whatever the layer's ``table_t`` says.
LEGACY_TABLE_T = FixedType(18, 8)


def ceillog2(x: int) -> int:
    """``nnet::ceillog2``: address bits of a table (1 for sizes 1 and 2)."""
    return 1 if x <= 2 else 1 + ceillog2((x + 1) // 2)


# ---------------------------------------------------------------------------------- tables
def _value_of_index(index_t: FixedType, size: int) -> np.ndarray:
    """``softmax_real_val_from_idx``: the value whose top ceillog2(size) bits are i, as float."""
    n = ceillog2(size)
    w = index_t.width
    raw = np.arange(size, dtype=np.int64) << (w - n)
    if index_t.signed:
        raw = np.where(raw >= 1 << (w - 1), raw - (1 << w), raw)
    return np.ldexp(raw.astype(np.float64), -index_t.fractional).astype(np.float32)


def _top_bits(x: np.ndarray, t: FixedType, size: int) -> np.ndarray:
    """``softmax_idx_from_real_val``: the top ceillog2(size) bits of x's W-bit pattern."""
    n = ceillog2(size)
    raw = np.asarray(t.quantize_raw(x))
    if raw.dtype == object or t.width > INT64_BITS:
        w = t.width
        flat = [(int(v) % (1 << w)) >> (w - n) for v in raw.ravel().tolist()]
        return np.array(flat, dtype=np.int64).reshape(raw.shape)
    pattern = raw.astype(np.int64) & ((1 << t.width) - 1)  # two's complement bits
    return pattern >> (t.width - n)


@functools.cache
def exp_table(
    index_t: FixedType, size: int, exp_table_t: FixedType, exp_scale: float, negative: bool
) -> np.ndarray:
    """``init_exp_table<index_t>``: entry i is ``exp(+-x_i * exp_scale)`` in ``exp_table_t``.

    x_i is the value of ``index_t`` whose top bits are i (sign included when signed), as float;
    the product with the float ``exp_scale`` is in float, negated for the stable version
    (``exp(-(x_max - x))``), evaluated with ``expf`` and cast to ``exp_table_t``.
    """
    x = _value_of_index(index_t, size) * np.float32(exp_scale)
    if negative:
        x = -x
    return to_table(c_float_function("expf")(x), exp_table_t)


@functools.cache
def inv_table(inv_inp_t: FixedType, size: int, inv_table_t: FixedType) -> np.ndarray:
    """``init_invert_table<inv_inp_t>``: entry i is ``1 / x_i`` in float, cast to ``inv_table_t``.

    x_i is the value of ``inv_inp_t`` whose top bits are i; entry 0 is 1/0 = +inf, which the
    cast treats as 2^1024 (the maximum on SAT, 0 on WRAP).
    """
    x = _value_of_index(inv_inp_t, size)
    with np.errstate(divide="ignore"):
        inv = np.float32(1.0) / x
    return to_table(inv, inv_table_t)


@functools.cache
def legacy_tables(
    exp_size: int, inv_size: int, table_t: FixedType
) -> tuple[np.ndarray, np.ndarray]:
    """``init_exp_table_legacy`` and ``init_invert_table_legacy``, both in ``table_t``.

    exp: ``expf(16 (i - N/2) / N)`` (x in [-8, 8)); inverse: ``1.0 / (64 i / N)`` in double for
    i > 0 (x in [0, 64)), 0 for i = 0.
    """
    i = np.arange(exp_size, dtype=np.float64)
    x = (16.0 * (i - exp_size / 2.0) / float(exp_size)).astype(np.float32)
    exp = to_table(c_float_function("expf")(x), table_t)
    j = np.arange(inv_size, dtype=np.float64)
    v = (64.0 * j / float(inv_size)).astype(np.float32).astype(np.float64)
    with np.errstate(divide="ignore"):
        inv = np.where(v > 0.0, 1.0 / v, 0.0)
    return exp, to_table(inv, table_t)


def _check_size(size: int, index_t: FixedType, which: str) -> None:
    size = int(size)
    if size < 1 or size & (size - 1):
        raise UnsupportedLayerError(
            f"softmax {which} table size {size} is not a power of two: the C++ indexes it with "
            "the top ceillog2(size) bits and would read past its end; use a power of two "
            "(TableSize / InvTableSize)"
        )
    if ceillog2(size) > index_t.width:
        raise UnsupportedLayerError(
            f"softmax {which} table of {size} entries needs {ceillog2(size)} address bits but "
            f"its index type {index_t} has {index_t.width}; the C++ slice is undefined: use at "
            f"most {2**index_t.width} entries"
        )


def softmax_sizes(attrs: Any, data_t: FixedType, inp_norm_t: FixedType | None = None) -> dict:
    """Table sizes and ``inp_norm_t`` as ``SoftmaxConfigTemplate.format`` writes them.

    Returns ``{"exp_table_size", "inv_table_size", "inp_norm_t"}`` (``inp_norm_t`` None unless
    the implementation is stable).
    """
    table_size = int(attrs.get("table_size", 1024))
    exp_size = int(attrs.get("exp_table_size", table_size))
    inv_size = int(attrs.get("inv_table_size", table_size))
    norm = None
    if attrs.get("implementation", "stable") == "stable":
        norm = inp_norm_t
        if norm is None:
            s = int(data_t.signed)
            norm = FixedType(data_t.width - s, data_t.integer - s, signed=False)
            if data_t.signed:
                exp_size = min(inv_size, 2 ** (data_t.width - 1))
    return {"exp_table_size": exp_size, "inv_table_size": inv_size, "inp_norm_t": norm}
