"""Element-wise activations of hls4ml's Vivado io_parallel templates (``nnet_activation.h``).

One pure function per C++ function; each docstring names every cast. The adapters at the end
read a `Node` (hls4ml classes ``Activation`` and ``HardActivation``) and call them; the
activations with a parameter (``ParametrizedActivation``, ``PReLU``) are in
`emulation.layers.parametrized`.

How hls4ml 1.3 maps Keras (``converters/keras_v3``): ``Activation(name)`` and a layer's
``activation=`` become ``Activation`` (``linear``, ``relu``, ``relu6``, ``sigmoid``, ``tanh``,
``softplus``, ``softsign``, ``selu``) except ``elu`` (``ParametrizedActivation`` ELU, alpha 1),
``leaky_relu`` (``ParametrizedActivation`` named ``leaky_relu``, 0.2), ``hard_sigmoid``
(``HardActivation``, hls4ml's slope 0.2 and shift 0.5, not Keras 3's 1/6) and ``softmax``
(``Softmax``, see `emulation.layers.softmax`).
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

from collections.abc import Callable, Mapping

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType, product_type, sum_type
from emulation.layers.base import Context, Node, input_type, node_type, register
from emulation.layers.exact import (
    Caster,
    cast_exact,
    exact_product,
    mantissas,
    select_exact,
)
from emulation.layers.tables import (
    SELU_LAMBDA,
    TABLE_FUNCTIONS,
    TABLE_SPAN,
    lut_table,
    selu_table,
)

__all__ = [
    "c_int_of_quotient",
    "hard_sigmoid",
    "hard_tanh",
    "linear",
    "relu",
    "relu_max",
    "selu",
    "table_activation",
]

# ap_ufixed<16, 1> lambda of nnet::selu (positive branch), AP_TRN / AP_WRAP.
_SELU_LAMBDA_T = FixedType(16, 1, signed=False)


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
    narrow = data_t.width + int(num).bit_length() <= FLOAT_EXACT_WIDTH
    if f >= 0 and mag & (mag - 1) == 0 and narrow:
        # float64 is exact here: |m * num| < 2^53 and den is a power of two; with F >= 0 the
        # two truncations toward zero compose into one
        q = np.trunc(np.asarray(x, dtype=np.float64) * num / den)
        if q.size and np.max(np.abs(q)) >= 2.0**31:
            q = np.mod(q + 2.0**31, 2.0**32) - 2.0**31
        return q.astype(np.int64)
    m = data_t.quantize_raw(x)
    # int64 when m * num cannot overflow, Python ints otherwise
    wide = data_t.width + int(num).bit_length() > INT64_BITS or m.dtype == object
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
    return cast(_relu_values(x), result_t, "result_t")


def _relu_values(x: np.ndarray) -> np.ndarray:
    """``data > 0 ? data : 0`` (one pass; a -0.0 kept compares equal to the C++'s 0)."""
    return np.maximum(x, 0.0)


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
    if function not in TABLE_SPAN:
        raise ValueError(f"no table for {function!r}; expected one of {', '.join(TABLE_SPAN)}")
    table = lut_table(function, int(table_size), table_t)
    index = _centred_index(x, data_t, int(table_size), TABLE_SPAN[function])
    return cast(table[index], result_t, "result_t")


def selu(
    x: np.ndarray,
    *,
    data_t: FixedType,
    table_t: FixedType,
    table_size: int,
    result_t: FixedType,
    lambda_t: FixedType = _SELU_LAMBDA_T,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::selu``: ``res = data >= 0 ? lambda * data : table[index]``.

    ``lambda`` is the constant 1.0507009873554805 in ``lambda_t``: io_parallel's
    ``ap_ufixed<16,1>`` (``selu_const_t``); io_stream casts it to the input's own type
    (``(typename data_T::value_type)1.0507...``, with that type's rounding and overflow), so
    there a narrow input type coarsens lambda too. Its product with the data is exact;
    ``index = int(data * N / -8)`` clamped to [0, N - 1] (signed comparisons); the table holds
    ``lambda alpha (exp(x) - 1)`` in ``table_t`` (`selu_table`); both branches are cast to
    ``result_t``.
    """
    cast = cast or Caster()
    n = int(table_size)
    lam = lambda_t.quantize(np.float64(SELU_LAMBDA))
    q = c_int_of_quotient(x, data_t, n, -8)
    index = np.clip(q, 0, n - 1)
    neg = selu_table(n, table_t)[index]
    pos = exact_product(x, data_t, np.broadcast_to(lam, x.shape), lambda_t)
    pos_t = product_type(data_t, lambda_t)
    return cast_exact(select_exact(x >= 0, pos, pos_t, neg, table_t), result_t, cast, "result_t")


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
    if sum_t.width <= FLOAT_EXACT_WIDTH:
        y = s * x + h
        return np.where(y > 1, one, np.where(y < 0, 0.0, y))
    f = sum_t.fractional
    m = mantissas(x, data_t) * int(slope_t.quantize_raw(s)) * 2 ** (f - prod_t.fractional)
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
    return cast_exact(y, result_t, cast, "result_t")


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
_PLAIN: Mapping[str, Callable[..., np.ndarray]] = {"linear": linear, "relu": relu}
_ACTIVATIONS = (*_PLAIN, "relu6", *TABLE_FUNCTIONS, "selu")


@register("Activation")
def _activation_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    x = inputs[0]
    act = str(node.attrs.get("activation", "")).lower()
    cast = Caster(ctx, node.name)
    result_t = node_type(node, "result_t")
    if act in _PLAIN and node.input_types:
        # the values are data_T's (relu: its non-negative part), so a result_t holding them all
        # makes the cast the identity (`Context.cast`'s source)
        data_t = node.input_types[0]
        if act == "relu":
            x = _relu_values(x)
            if data_t.signed and data_t.width > 1:
                data_t = FixedType(data_t.width - 1, data_t.integer - 1, signed=False)
        return cast(x, result_t, "result_t", source=data_t)
    if act in _PLAIN:
        return _PLAIN[act](x, result_t=result_t, cast=cast)
    if act == "relu6":
        return relu_max(x, 6, result_t=result_t, cast=cast)
    if act in TABLE_FUNCTIONS:
        return table_activation(
            x,
            act,
            data_t=input_type(node),
            table_t=node_type(node, "table_t"),
            table_size=int(node.attrs.get("table_size", 1024)),
            result_t=result_t,
            cast=cast,
        )
    if act == "selu":
        data_t = input_type(node)
        return selu(
            x,
            data_t=data_t,
            table_t=node_type(node, "table_t"),
            table_size=int(node.attrs.get("table_size", 1024)),
            result_t=result_t,
            # io_stream's selu casts lambda to the input's type (`emulation.stream`)
            lambda_t=data_t if node.attrs.get("selu_lambda_in_input_type") else _SELU_LAMBDA_T,
            cast=cast,
        )
    raise UnsupportedLayerError(
        f"layer {node.name!r}: activation {act!r} is not supported by the emulator (hls4ml "
        f"1.3's C++ has no such function for Vivado io_parallel either); supported: "
        f"{', '.join(_ACTIVATIONS)}; use one of these or a Softmax"
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
        slope_t=node_type(node, "slope_t"),
        shift_t=node_type(node, "shift_t"),
        result_t=node_type(node, "result_t"),
        cast=Caster(ctx, node.name),
    )
