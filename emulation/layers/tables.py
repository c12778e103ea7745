"""Lookup tables of the activations as the C++ fills them at run time: the C library's
single-precision ``expf``/``tanhf`` (through ctypes), float rounding, then ``table_t``.

See `emulation.layers.activation` for why the C library itself is called.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from emulation.fixed import FixedType
from emulation.layers import cmath_compiled

__all__ = [
    "SELU_ALPHA",
    "SELU_LAMBDA",
    "TABLE_FUNCTIONS",
    "TABLE_SPAN",
    "c_float_function",
    "elu_table",
    "lut_table",
    "selu_table",
    "to_table",
    "warm_up",
]

# hls4ml writes a double constant such as activ_param as Python's str() into the C++ source.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


# ---------------------------------------------------------------------------- C math library
# the library's functions called from a compiled loop (`cmath_compiled`); False: one ctypes
# call per value, the reference the tests compare with
USE_COMPILED = True


@functools.cache
def _libm() -> Any:
    """The C math library the C simulation links against, or None."""
    names = ["libm.so.6", ctypes.util.find_library("m"), "ucrtbase", "msvcrt"]
    for name in names:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            for fn in ("expf", "tanhf"):
                getattr(lib, fn).restype = ctypes.c_float
                getattr(lib, fn).argtypes = [ctypes.c_float]
        except (OSError, AttributeError):
            continue
        try:  # the compiled loop needs the library's symbols by name (see `cmath_compiled`)
            lib.compiled = cmath_compiled.load(lib._name)
        except (OSError, RuntimeError):
            lib.compiled = False  # one ctypes call per value, as before
        return lib
    warnings.warn(
        "the C math library could not be loaded: activation and softmax tables use float64 "
        "math rounded to float32, which can differ from the C simulation in the last bit of a "
        "few entries",
        RuntimeWarning,
        stacklevel=3,
    )
    return None


def warm_up() -> None:
    """Load the C library and compile its loops now (see `cmath_compiled.warm_up`)."""
    if _libm() is not None:
        cmath_compiled.warm_up()


def c_float_function(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """``std::<name>(float)`` element-wise: the C library's ``expf`` or ``tanhf``.

    Returns float32 values exactly as the C simulation computes them (same library); float64
    math rounded to float32 when the library is unavailable.
    """
    lib = _libm()
    if lib is not None and lib.compiled and USE_COMPILED:
        return functools.partial(cmath_compiled.c_float_apply, name)
    fallback = {"expf": math.exp, "tanhf": math.tanh}[name]
    fn: Callable[[float], float] = getattr(lib, name) if lib is not None else fallback

    def apply(x: np.ndarray) -> np.ndarray:
        flat = np.asarray(x, dtype=np.float32).astype(np.float64).ravel().tolist()
        return np.array([fn(v) for v in flat], dtype=np.float32).reshape(np.shape(x))

    return apply


def to_table(values: np.ndarray, table_t: FixedType) -> np.ndarray:
    """``table_t entry = (float) value``: float32 (or double) results cast with table_t's modes."""
    v = np.asarray(values, dtype=np.float64)
    # 1/0.0f is +inf; ap_fixed_base(double) reads its bits as 2^1024 (max on SAT, 0 on WRAP),
    # exactly as it treats any power of two above the range.
    v = np.where(np.isposinf(v), 2.0**1000, v)
    table = table_t.quantize(v)
    table.setflags(write=False)
    return table


# ------------------------------------------------------------------------------ table values
def _centred_inputs(n: int, span: float) -> np.ndarray:
    """``float in_val = 2 * (span / 2) * (ii - float(N) / 2.0) / float(N)`` (double, to float)."""
    i = np.arange(n, dtype=np.float64)
    return (span * (i - n / 2.0) / float(n)).astype(np.float32)


def _negative_inputs(n: int) -> np.ndarray:
    """``float in_val = -8.0 * ii / float(N)`` (ELU and SELU: x in (-8, 0])."""
    i = np.arange(n, dtype=np.float64)
    return (-8.0 * i / float(n)).astype(np.float32)


def _sigmoid_values(n: int) -> np.ndarray:
    # 1.0 / (1 + std::exp(-input)): expf, a float sum, a double quotient, returned as float
    x = _centred_inputs(n, 16.0)
    e = c_float_function("expf")(-x)
    s = np.float32(1.0) + e
    return (1.0 / s.astype(np.float64)).astype(np.float32)


def _tanh_values(n: int) -> np.ndarray:
    # tanh(in_val) resolves to the float overload: tanhf
    return c_float_function("tanhf")(_centred_inputs(n, 8.0))


def _softplus_values(n: int) -> np.ndarray:
    # std::log(std::exp(input) + 1.): expf, then double log (Python's math.log is the C log)
    e = c_float_function("expf")(_centred_inputs(n, 16.0)).astype(np.float64)
    return np.array([math.log(v + 1.0) for v in e.tolist()], dtype=np.float64).astype(np.float32)


def _softsign_values(n: int) -> np.ndarray:
    # input / (std::abs(input) + 1.): double arithmetic on a float, returned as float
    x = _centred_inputs(n, 16.0).astype(np.float64)
    return (x / (np.abs(x) + 1.0)).astype(np.float32)


def _elu_values(n: int) -> np.ndarray:
    # std::exp(input) - 1.: expf, then a double difference, returned as float
    e = c_float_function("expf")(_negative_inputs(n)).astype(np.float64)
    return (e - 1.0).astype(np.float32)


def _selu_values(n: int) -> np.ndarray:
    e = c_float_function("expf")(_negative_inputs(n)).astype(np.float64)
    return (SELU_LAMBDA * (SELU_ALPHA * (e - 1.0))).astype(np.float32)


_TABLES: dict[str, tuple[Callable[[int], np.ndarray], int]] = {
    # function: (float values of the N entries, span of the input range for the index)
    "sigmoid": (_sigmoid_values, 16),
    "tanh": (_tanh_values, 8),
    "softplus": (_softplus_values, 16),
    "softsign": (_softsign_values, 16),
}


# functions with a centred lookup table, and the span of the input range their index covers
TABLE_SPAN = {name: span for name, (_, span) in _TABLES.items()}
TABLE_FUNCTIONS = tuple(_TABLES)


@functools.cache
def lut_table(function: str, table_size: int, table_t: FixedType) -> np.ndarray:
    """The lookup table of ``init_<function>_table`` (sigmoid, tanh, softplus, softsign).

    Entry ``ii`` is f(x) for ``x = span * (ii - N/2) / N`` (span 16, tanh 8), evaluated in float
    as the C++ does and cast to ``table_t``. Read-only, cached.
    """
    values, _ = _TABLES[function]
    return to_table(values(table_size), table_t)


@functools.cache
def elu_table(table_size: int, table_t: FixedType) -> np.ndarray:
    """``init_elu_table``: ``exp(x) - 1`` for ``x = -8 ii / N``, cast to ``table_t``."""
    return to_table(_elu_values(table_size), table_t)


@functools.cache
def selu_table(table_size: int, table_t: FixedType) -> np.ndarray:
    """``init_selu_table``: ``lambda alpha (exp(x) - 1)`` for ``x = -8 ii / N``, to ``table_t``."""
    return to_table(_selu_values(table_size), table_t)
