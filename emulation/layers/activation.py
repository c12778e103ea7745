"""Element-wise activations of hls4ml's Vivado io_parallel templates (``nnet_activation.h``).

One pure function per C++ function; each docstring names every cast. The adapters at the end
read a `Node` (hls4ml classes ``Activation``, ``ParametrizedActivation``, ``PReLU``,
``HardActivation``) and call them.

How hls4ml 1.3 maps Keras (``converters/keras_v3``): ``Activation(name)`` and a layer's
``activation=`` become ``Activation`` (``linear``, ``relu``, ``relu6``, ``sigmoid``, ``tanh``,
``softplus``, ``softsign``, ``selu``) except ``elu`` (``ParametrizedActivation`` ELU, alpha 1),
``leaky_relu`` (LeakyReLU, 0.2), ``hard_sigmoid`` (``HardActivation``, hls4ml's slope 0.2 and
shift 0.5, not Keras 3's 1/6) and ``softmax`` (``Softmax``, see `emulation.layers.softmax`).
``ReLU()`` becomes ``ThresholdedReLU`` with theta 0 (``ReLU(threshold=t)``: theta t);
``ReLU(negative_slope=a)`` and ``LeakyReLU`` become LeakyReLU; ``ReLU(max_value=...)`` is refused
by hls4ml itself. A ``linear`` activation is removed unless it changes the type.

Lookup tables (sigmoid, tanh, softplus, softsign, elu, selu) are filled by the C++ at run time
in ``float``: the index is turned into ``float in_val`` through double arithmetic, the function
is evaluated with the C library's single-precision ``expf``/``tanhf`` (``std::exp(float)``) and
double ``log``, the result rounded to float and converted to ``table_t`` with its own rounding.
The same C library functions are called here (through ctypes), because glibc's ``expf`` and
``tanhf`` are not correctly rounded: against float64 results rounded to float32 they differ on
66 (``expf``) and 4,514 (``tanhf``) of the 131,072 multiples of 2^-12 in [-16, 16). Where the
C library cannot be loaded the functions fall back to float64 rounded to float32, with a warning.

The table index is ``int(x * N / 16)`` (tanh: ``/ 8``; ELU/SELU: ``/ -8``): exact ``ap_fixed``
products, a division truncated toward zero at the input's LSB, a conversion to ``int`` that
truncates toward zero and keeps the low 32 bits; then ``+ N / 2`` in unsigned arithmetic and a
clamp to [0, N - 1] (ELU clamps through an unsigned comparison, so a wrapped negative index
reads the last entry). Every table is built once per (function, size, table type) and cached.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType, product_type, sum_type
from emulation.layers.base import Context, Node, register

__all__ = [
    "Caster",
    "c_float_function",
    "c_int_of_quotient",
    "elu",
    "elu_table",
    "hard_sigmoid",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "lut_table",
    "prelu",
    "relu",
    "relu_max",
    "selu",
    "selu_table",
    "table_activation",
    "thresholded_relu",
]

# Values of ap_fixed that travel between layers are exact in float64 up to this many bits.
_FLOAT_BITS = 53
# Mantissa products up to this many bits are exact in int64.
_INT64_BITS = 62
# hls4ml writes a double constant such as activ_param as Python's str() into the C++ source.
_SELU_LAMBDA = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717
# ap_ufixed<16, 1> lambda of nnet::selu (positive branch), AP_TRN / AP_WRAP.
_SELU_LAMBDA_T = FixedType(16, 1, signed=False)


# --------------------------------------------------------------------------------- casting
class Caster:
    """The casts of one node: quantize and, given a `Context`, count overflows.

    ``cast(x, t, name)`` converts float64 values exactly representable in float64 (C++
    ``T y = x;``) and records them under ``"<node>.<name>"``. ``cast.raw(m, f, t, name)``
    converts exact values ``m * 2^-f`` given as integer mantissas (int64 or Python ints), for
    products wider than float64 holds.
    """

    def __init__(self, ctx: Context | None = None, node_name: str = "") -> None:
        self.ctx = ctx
        self.node_name = node_name

    def _point(self, name: str) -> str:
        return f"{self.node_name}.{name}" if self.node_name else name

    def __call__(self, x: np.ndarray, t: FixedType, name: str) -> np.ndarray:
        if self.ctx is None:
            return t.quantize(x)
        return self.ctx.cast(x, t, self._point(name))

    def raw(self, mantissa: np.ndarray, fractional: int, t: FixedType, name: str) -> np.ndarray:
        """Convert the exact values ``mantissa * 2^-fractional`` to ``t``."""
        source = FixedType(1, 1 - fractional)  # only F of the source matters to requantize_raw
        raw, overflow = t.requantize_raw(mantissa, source, return_overflow=True)
        if self.ctx is not None:
            m = np.asarray(mantissa)
            if m.dtype == object:
                biggest = max((abs(int(v)) for v in m.ravel().tolist()), default=0)
            else:
                biggest = int(np.max(np.abs(m))) if m.size else 0
            self.ctx.record(self._point(name), overflow, math.ldexp(float(biggest), -fractional))
        return np.ldexp(np.asarray(raw, dtype=np.float64), -t.fractional) + 0.0


def _mantissas(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Exact integer mantissas (Python ints) of values of ``t``."""
    return np.asarray(t.quantize_raw(x)).astype(object)


def _product(
    a: np.ndarray, a_t: FixedType, b: np.ndarray, b_t: FixedType
) -> tuple[np.ndarray, int] | np.ndarray:
    """The exact C++ product ``a * b``: float64 when it fits, else (mantissas, F).

    Mantissas are int64 up to 62 bits, Python ints (slow: about 10 us a value) beyond.
    """
    bits = a_t.width + b_t.width
    if bits <= _FLOAT_BITS:
        return a * b
    f = a_t.fractional + b_t.fractional
    ma, mb = np.asarray(a_t.quantize_raw(a)), np.asarray(b_t.quantize_raw(b))
    if bits <= _INT64_BITS and ma.dtype == np.int64 and mb.dtype == np.int64:
        return ma * mb, f
    return ma.astype(object) * mb.astype(object), f


def _scaled(m: np.ndarray, k: int) -> np.ndarray:
    """m * 2^k for k >= 0, in int64 when it cannot overflow, else in Python ints."""
    if m.dtype != object and (not m.size or int(np.max(np.abs(m))) < 1 << (_INT64_BITS - k)):
        return m * (1 << k)
    return m.astype(object) * (1 << k)


def _cast_exact(
    value: tuple[np.ndarray, int] | np.ndarray, t: FixedType, cast: Caster, name: str
) -> np.ndarray:
    if isinstance(value, tuple):
        return cast.raw(value[0], value[1], t, name)
    return cast(value, t, name)


def _select(
    cond: np.ndarray,
    a: tuple[np.ndarray, int] | np.ndarray,
    a_t: FixedType,
    b: tuple[np.ndarray, int] | np.ndarray,
    b_t: FixedType,
) -> tuple[np.ndarray, int] | np.ndarray:
    """``cond ? a : b`` of two exact values (float64 of the given type, or (mantissas, F)).

    The branch the C++ takes is the only value it casts, so the cast (and its overflow count)
    happens once, on the selection.
    """
    if not isinstance(a, tuple) and not isinstance(b, tuple):
        return np.where(cond, a, b)
    ma, fa = a if isinstance(a, tuple) else (np.asarray(a_t.quantize_raw(a)), a_t.fractional)
    mb, fb = b if isinstance(b, tuple) else (np.asarray(b_t.quantize_raw(b)), b_t.fractional)
    f = max(fa, fb)
    ma, mb = _scaled(ma, f - fa), _scaled(mb, f - fb)
    if ma.dtype == object or mb.dtype == object:
        ma, mb = ma.astype(object), mb.astype(object)
    return np.where(cond, ma, mb), f


# ---------------------------------------------------------------------------- C math library
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
        return lib
    warnings.warn(
        "the C math library could not be loaded: activation and softmax tables use float64 "
        "math rounded to float32, which can differ from the C simulation in the last bit of a "
        "few entries",
        RuntimeWarning,
        stacklevel=3,
    )
    return None


def c_float_function(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """``std::<name>(float)`` element-wise: the C library's ``expf`` or ``tanhf``.

    Returns float32 values exactly as the C simulation computes them (same library); float64
    math rounded to float32 when the library is unavailable.
    """
    lib = _libm()
    fallback = {"expf": math.exp, "tanhf": math.tanh}[name]
    fn: Callable[[float], float] = getattr(lib, name) if lib is not None else fallback

    def apply(x: np.ndarray) -> np.ndarray:
        flat = np.asarray(x, dtype=np.float32).astype(np.float64).ravel().tolist()
        return np.array([fn(v) for v in flat], dtype=np.float32).reshape(np.shape(x))

    return apply


def _to_table(values: np.ndarray, table_t: FixedType) -> np.ndarray:
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
    return (_SELU_LAMBDA * (_SELU_ALPHA * (e - 1.0))).astype(np.float32)


_TABLES: dict[str, tuple[Callable[[int], np.ndarray], int]] = {
    # function: (float values of the N entries, span of the input range for the index)
    "sigmoid": (_sigmoid_values, 16),
    "tanh": (_tanh_values, 8),
    "softplus": (_softplus_values, 16),
    "softsign": (_softsign_values, 16),
}


@functools.cache
def lut_table(function: str, table_size: int, table_t: FixedType) -> np.ndarray:
    """The lookup table of ``init_<function>_table`` (sigmoid, tanh, softplus, softsign).

    Entry ``ii`` is f(x) for ``x = span * (ii - N/2) / N`` (span 16, tanh 8), evaluated in float
    as the C++ does and cast to ``table_t``. Read-only, cached.
    """
    values, _ = _TABLES[function]
    return _to_table(values(table_size), table_t)


@functools.cache
def elu_table(table_size: int, table_t: FixedType) -> np.ndarray:
    """``init_elu_table``: ``exp(x) - 1`` for ``x = -8 ii / N``, cast to ``table_t``."""
    return _to_table(_elu_values(table_size), table_t)


@functools.cache
def selu_table(table_size: int, table_t: FixedType) -> np.ndarray:
    """``init_selu_table``: ``lambda alpha (exp(x) - 1)`` for ``x = -8 ii / N``, to ``table_t``."""
    return _to_table(_selu_values(table_size), table_t)


# ------------------------------------------------------------------------------ table index
def _wrap_int32(q: np.ndarray) -> np.ndarray:
    """Two's complement low 32 bits of integers (int64 or Python ints), as int64."""
    if q.dtype == object:
        flat = [((v + 2**31) % 2**32) - 2**31 for v in q.ravel().tolist()]
        return np.array(flat, dtype=np.int64).reshape(q.shape)
    q = q.astype(np.int64)
    if not q.size or (q.min() >= -(2**31) and q.max() < 2**31):
        return q
    return ((q + 2**31) & (2**32 - 1)) - 2**31


def c_int_of_quotient(x: np.ndarray, data_t: FixedType, num: int, den: int) -> np.ndarray:
    """C++ ``int i = x * num / den;`` for ``x`` of ``data_t``, ``num`` unsigned, ``den`` int.

    ``x * num`` is an exact ``ap_fixed`` product; the division by ``den`` divides mantissas,
    truncating toward zero at the input's LSB 2^-F; the conversion to ``int`` truncates toward
    zero and keeps the low 32 bits. With F >= 0 this is ``trunc(x * num / den)``; with F < 0
    (I > W) the first truncation acts on the coarser grid. Returns int64 values in int32 range.
    """
    f = data_t.fractional
    mag = abs(den)
    if f >= 0 and mag & (mag - 1) == 0 and data_t.width + int(num).bit_length() <= _FLOAT_BITS:
        # float64 is exact here: |m * num| < 2^53 and den is a power of two; with F >= 0 the
        # two truncations toward zero compose into one
        q = np.trunc(np.asarray(x, dtype=np.float64) * num / den)
        if q.size and np.max(np.abs(q)) >= 2.0**31:
            q = np.mod(q + 2.0**31, 2.0**32) - 2.0**31
        return q.astype(np.int64)
    m = data_t.quantize_raw(x)
    # int64 when m * num cannot overflow, Python ints otherwise
    wide = data_t.width + int(num).bit_length() > 62 or m.dtype == object
    m = m.astype(object) if wide else m.astype(np.int64)
    p = m * num
    q = (abs(p) // mag) * np.sign(p) * (1 if den > 0 else -1)  # C division: toward zero
    if f > 0:
        q = (abs(q) // (2**f)) * np.sign(q) if wide else (np.abs(q) >> f) * np.sign(q)
    elif f < 0:
        q = q * (2 ** (-f)) if wide else _shift_left_wrapping(q, -f)
    return _wrap_int32(np.asarray(q))


def _shift_left_wrapping(q: np.ndarray, k: int) -> np.ndarray:
    # only the low 32 bits matter: shifting modulo 2^64 keeps them
    if k >= 64:
        return np.zeros_like(q)
    return (q.astype(np.int64).view(np.uint64) << np.uint64(k)).view(np.int64)


def _centred_index(x: np.ndarray, data_t: FixedType, n: int, span: int) -> np.ndarray:
    """``index = int(x * N / span) + span/2 * N / span``, clamped to [0, N - 1]."""
    q = c_int_of_quotient(x, data_t, n, span)
    offset = (span // 2 * n) // span
    index = _wrap_int32(q + offset)  # int + unsigned: unsigned arithmetic, back to int
    return np.clip(index, 0, n - 1)


# ------------------------------------------------------------------------------- functions
def linear(x: np.ndarray, *, result_t: FixedType, cast: Caster | None = None) -> np.ndarray:
    """``nnet::linear``: ``res = data`` (the cast to ``result_t`` is the only operation)."""
    cast = cast or Caster()
    return cast(x, result_t, "result_t")


def relu(x: np.ndarray, *, result_t: FixedType, cast: Caster | None = None) -> np.ndarray:
    """``nnet::relu``: ``res = data > 0 ? data : 0``, cast to ``result_t``."""
    cast = cast or Caster()
    return cast(np.where(x > 0, x, 0.0), result_t, "result_t")


def relu_max(
    x: np.ndarray, max_value: int, *, result_t: FixedType, cast: Caster | None = None
) -> np.ndarray:
    """``nnet::relu_max`` (relu6: 6): 0 below 0, ``max_value`` above it, cast to ``result_t``."""
    cast = cast or Caster()
    return cast(np.clip(x, 0.0, float(max_value)), result_t, "result_t")


def table_activation(
    x: np.ndarray,
    function: str,
    *,
    data_t: FixedType,
    table_t: FixedType,
    table_size: int,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::sigmoid``, ``tanh``, ``softplus``, ``softsign``: ``res = (res_T) table[index]``.

    The index is ``int(x * N / 16) + N / 2`` (tanh: ``/ 8``, ``+ N / 2``) clamped to
    [0, N - 1], on the input of ``data_t`` (see `c_int_of_quotient`); the table holds
    ``table_t`` values (`lut_table`); the only cast is table value to ``result_t``.
    """
    cast = cast or Caster()
    if function not in _TABLES:
        raise ValueError(f"no table for {function!r}; expected one of {', '.join(_TABLES)}")
    table = lut_table(function, int(table_size), table_t)
    index = _centred_index(x, data_t, int(table_size), _TABLES[function][1])
    return cast(table[index], result_t, "result_t")


def leaky_relu(
    x: np.ndarray,
    alpha: float,
    *,
    data_t: FixedType,
    param_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::leaky_relu``: ``res = data > 0 ? data : alpha * data``.

    ``alpha`` is the double literal hls4ml writes, converted to ``param_t`` at the call; the
    product ``alpha * data`` is exact; each result is cast to ``result_t``.
    """
    cast = cast or Caster()
    a = param_t.quantize(np.float64(alpha))
    neg = _product(x, data_t, np.broadcast_to(a, x.shape), param_t)
    neg_t = product_type(data_t, param_t)
    return _cast_exact(_select(x > 0, x, data_t, neg, neg_t), result_t, cast, "result_t")


def thresholded_relu(
    x: np.ndarray,
    theta: float,
    *,
    param_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::thresholded_relu``: ``res = data > theta ? data : 0``, cast to ``result_t``.

    ``theta`` is the double literal converted to ``param_t`` (hls4ml: the input's type by
    default); the comparison is exact.
    """
    cast = cast or Caster()
    t = param_t.quantize(np.float64(theta))
    return cast(np.where(x > t, x, 0.0), result_t, "result_t")


def prelu(
    x: np.ndarray,
    alpha: np.ndarray,
    *,
    data_t: FixedType,
    param_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::prelu``: ``res[i] = data[i] > 0 ? data[i] : alpha[i] * data[i]``.

    ``alpha`` holds the exact ``param_t`` constants (one per element, flattened like the data);
    the product is exact; each result is cast to ``result_t``.
    """
    cast = cast or Caster()
    a = np.broadcast_to(np.asarray(alpha, dtype=np.float64).reshape(x.shape[1:]), x.shape)
    neg = _product(x, data_t, a, param_t)
    neg_t = product_type(data_t, param_t)
    return _cast_exact(_select(x > 0, x, data_t, neg, neg_t), result_t, cast, "result_t")


def elu(
    x: np.ndarray,
    alpha: float,
    *,
    data_t: FixedType,
    param_t: FixedType,
    table_t: FixedType,
    table_size: int,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::elu``: ``res = data >= 0 ? data : alpha * table[index]``.

    ``index = int(data * N / -8)``, limited to N - 1 by an unsigned comparison (a wrapped,
    negative int reads the last entry); the table holds ``exp(x) - 1`` in ``table_t``
    (`elu_table`); ``alpha`` is the double literal converted to ``param_t``; the product is
    exact; both branches are cast to ``result_t``.
    """
    cast = cast or Caster()
    n = int(table_size)
    a = param_t.quantize(np.float64(alpha))
    q = c_int_of_quotient(x, data_t, n, -8)
    index = np.where(q < 0, n - 1, np.minimum(q, n - 1))
    table = elu_table(n, table_t)[index]
    neg = _product(table, table_t, np.broadcast_to(a, x.shape), param_t)
    neg_t = product_type(table_t, param_t)
    return _cast_exact(_select(x >= 0, x, data_t, neg, neg_t), result_t, cast, "result_t")


def selu(
    x: np.ndarray,
    *,
    data_t: FixedType,
    table_t: FixedType,
    table_size: int,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::selu``: ``res = data >= 0 ? lambda * data : table[index]``.

    ``lambda`` is ``ap_ufixed<16,1>(1.0507009873554805)``; its product with the data is exact;
    ``index = int(data * N / -8)`` clamped to [0, N - 1] (signed comparisons); the table holds
    ``lambda alpha (exp(x) - 1)`` in ``table_t`` (`selu_table`); both branches are cast to
    ``result_t``.
    """
    cast = cast or Caster()
    n = int(table_size)
    lam = _SELU_LAMBDA_T.quantize(np.float64(_SELU_LAMBDA))
    q = c_int_of_quotient(x, data_t, n, -8)
    index = np.clip(q, 0, n - 1)
    neg = selu_table(n, table_t)[index]
    pos = _product(x, data_t, np.broadcast_to(lam, x.shape), _SELU_LAMBDA_T)
    pos_t = product_type(data_t, _SELU_LAMBDA_T)
    return _cast_exact(_select(x >= 0, pos, pos_t, neg, table_t), result_t, cast, "result_t")


def _hard_sigmoid_exact(
    x: np.ndarray,
    data_t: FixedType,
    slope: float,
    slope_t: FixedType,
    shift: float,
    shift_t: FixedType,
) -> tuple[np.ndarray, int] | np.ndarray:
    """``auto y = slope * data + shift; y = y > 1 ? 1 : y < 0 ? 0 : y`` exactly."""
    prod_t = product_type(slope_t, data_t)
    sum_t = sum_type(prod_t, shift_t)
    s = slope_t.quantize(np.float64(slope))
    h = shift_t.quantize(np.float64(shift))
    # 1 and 0 are assigned to the sum type (they always fit one with an integer bit)
    one = float(sum_t.quantize(1.0))
    if sum_t.width <= _FLOAT_BITS:
        y = s * x + h
        return np.where(y > 1, one, np.where(y < 0, 0.0, y))
    f = sum_t.fractional
    m = _mantissas(x, data_t) * int(slope_t.quantize_raw(s)) * 2 ** (f - prod_t.fractional)
    m = m + int(shift_t.quantize_raw(h)) * 2 ** (f - shift_t.fractional)
    one_m = int(sum_t.quantize_raw(one))
    above, below = (m > one_m).astype(bool), (m < 0).astype(bool)
    m = np.where(above, one_m, np.where(below, 0, m))
    return m.astype(object), f


def hard_sigmoid(
    x: np.ndarray,
    *,
    slope: float,
    shift: float,
    data_t: FixedType,
    slope_t: FixedType,
    shift_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::hard_sigmoid``: ``clip(slope * data + shift, 0, 1)`` cast to ``result_t``.

    ``slope`` and ``shift`` are the config's double literals converted to ``slope_t`` and
    ``shift_t`` (hls4ml: ``ap_ufixed<16,0>`` 0.2 and ``ap_ufixed<2,0>`` 0.5); the product and
    the sum are exact (``auto``).
    """
    cast = cast or Caster()
    y = _hard_sigmoid_exact(x, data_t, slope, slope_t, shift, shift_t)
    return _cast_exact(y, result_t, cast, "result_t")


def hard_tanh(
    x: np.ndarray,
    *,
    slope: float,
    shift: float,
    data_t: FixedType,
    slope_t: FixedType,
    shift_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::hard_tanh``: ``2 * hard_sigmoid - 1`` (exact), cast to ``result_t``."""
    cast = cast or Caster()
    y = _hard_sigmoid_exact(x, data_t, slope, slope_t, shift, shift_t)
    if isinstance(y, tuple):
        m, f = y
        return cast.raw(2 * m - 2**f, f, result_t, "result_t")
    return cast(2.0 * y - 1.0, result_t, "result_t")


# -------------------------------------------------------------------------------- adapters
def _type(node: Node, key: str) -> FixedType:
    try:
        return node.types[key]
    except KeyError:
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) has no {key}; the emulator needs hls4ml's "
            f"types of this layer, got {', '.join(sorted(node.types)) or 'none'}"
        ) from None


def input_type(node: Node) -> FixedType:
    """The type of the layer's (first) input: ``data_T`` of the C++ call."""
    if not node.input_types:
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) does not carry the type of its input, which its "
            "C++ template depends on; build nodes with emulation.graph"
        )
    return node.input_types[0]


def _param(node: Node, default: float = 1.0) -> float:
    # hls4ml formats the attribute with str() into the C++ source: read it back the same way
    return float(str(node.attrs.get("activ_param", default)))


_PLAIN: Mapping[str, Callable[..., np.ndarray]] = {"linear": linear, "relu": relu}
_TABLE_FUNCTIONS = tuple(_TABLES)
_ACTIVATIONS = (*_PLAIN, "relu6", *_TABLE_FUNCTIONS, "selu")


@register("Activation")
def _activation_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    x = inputs[0]
    act = str(node.attrs.get("activation", "")).lower()
    cast = Caster(ctx, node.name)
    result_t = _type(node, "result_t")
    if act in _PLAIN:
        return _PLAIN[act](x, result_t=result_t, cast=cast)
    if act == "relu6":
        return relu_max(x, 6, result_t=result_t, cast=cast)
    if act in _TABLE_FUNCTIONS:
        return table_activation(
            x,
            act,
            data_t=input_type(node),
            table_t=_type(node, "table_t"),
            table_size=int(node.attrs.get("table_size", 1024)),
            result_t=result_t,
            cast=cast,
        )
    if act == "selu":
        return selu(
            x,
            data_t=input_type(node),
            table_t=_type(node, "table_t"),
            table_size=int(node.attrs.get("table_size", 1024)),
            result_t=result_t,
            cast=cast,
        )
    raise UnsupportedLayerError(
        f"layer {node.name!r}: activation {act!r} is not supported by the emulator (hls4ml "
        f"1.3's C++ has no such function for Vivado io_parallel either); supported: "
        f"{', '.join(_ACTIVATIONS)}; use one of these or a Softmax"
    )


_PARAMETRIZED = ("leakyrelu", "thresholdedrelu", "elu")


@register("ParametrizedActivation")
def _parametrized_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    x = inputs[0]
    act = str(node.attrs.get("activation", "")).lower()
    cast = Caster(ctx, node.name)
    result_t = _type(node, "result_t")
    param_t = _type(node, "param_t")
    if act == "leakyrelu":
        return leaky_relu(
            x,
            _param(node),
            data_t=input_type(node),
            param_t=param_t,
            result_t=result_t,
            cast=cast,
        )
    if act == "thresholdedrelu":
        return thresholded_relu(x, _param(node), param_t=param_t, result_t=result_t, cast=cast)
    if act == "elu":
        return elu(
            x,
            _param(node),
            data_t=input_type(node),
            param_t=param_t,
            table_t=_type(node, "table_t"),
            table_size=int(node.attrs.get("table_size", 1024)),
            result_t=result_t,
            cast=cast,
        )
    raise UnsupportedLayerError(
        f"layer {node.name!r}: parametrized activation {act!r} is not supported; supported: "
        f"{', '.join(_PARAMETRIZED)}"
    )


@register("PReLU")
def _prelu_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    return prelu(
        inputs[0],
        node.weights["param"],
        data_t=input_type(node),
        param_t=_type(node, "param_t"),
        result_t=_type(node, "result_t"),
        cast=Caster(ctx, node.name),
    )


@register("HardActivation")
def _hard_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    act = str(node.attrs.get("activation", "")).lower()
    functions = {"hard_sigmoid": hard_sigmoid, "hard_tanh": hard_tanh}
    if act not in functions:
        raise UnsupportedLayerError(
            f"layer {node.name!r}: hard activation {act!r} is not supported; supported: "
            f"{', '.join(functions)}"
        )
    return functions[act](
        inputs[0],
        # written into the C++ with str(), like every double constant of a config template
        slope=float(str(node.attrs.get("slope", 0.2))),
        shift=float(str(node.attrs.get("shift", 0.5))),
        data_t=input_type(node),
        slope_t=_type(node, "slope_t"),
        shift_t=_type(node, "shift_t"),
        result_t=_type(node, "result_t"),
        cast=Caster(ctx, node.name),
    )
