"""Exact values inside a layer: the casts that count overflows, and products and selections
that stay exact where float64 cannot hold them (int64 mantissas, Python ints beyond)."""

from __future__ import annotations

import math

import numpy as np

from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType
from emulation.layers.base import Context

__all__ = [
    "Caster",
    "cast_exact",
    "exact_product",
    "largest_value",
    "mantissas",
    "scaled",
    "select_exact",
]


# --------------------------------------------------------------------------------- casting
class Caster:
    """The casts of one node: quantize and, given a `Context`, count overflows.

    The one overflow protocol of the layers: every cast point is ``"<node>.<name>"``.
    ``cast(x, t, name)`` converts float64 values exactly representable in float64 (C++
    ``T y = x;``). ``cast.raw(m, f, t, name)`` converts exact values ``m * 2^-f`` given as
    integer mantissas (int64 or Python ints), for products wider than float64 holds.
    ``cast.record(name, overflow, max_abs)`` and ``cast.record_raw(name, overflow, m, f)``
    count casts a layer did itself (`FixedType.requantize_raw`). Without a `Context` nothing
    is counted.
    """

    def __init__(self, ctx: Context | None = None, node_name: str = "") -> None:
        self.ctx = ctx
        self.node_name = node_name

    def _point(self, name: str) -> str:
        return f"{self.node_name}.{name}" if self.node_name else name

    def __call__(
        self,
        x: np.ndarray,
        t: FixedType,
        name: str,
        *,
        from_double: bool = False,
        source: FixedType | None = None,
    ) -> np.ndarray:
        """``(t) x``; ``from_double`` and ``source`` as `Context.cast` takes them."""
        if self.ctx is None:
            return t.quantize(x, from_double=from_double)
        return self.ctx.cast(x, t, self._point(name), from_double=from_double, source=source)

    def record(self, name: str, overflow: np.ndarray, max_abs: float) -> None:
        """Count the casts of ``overflow`` (a bool mask) and the largest |value| before them."""
        if self.ctx is not None:
            self.ctx.record(self._point(name), overflow, max_abs)

    def count(self, name: str, overflowed: int, total: int, max_abs: float) -> None:
        """Add counts a scratch `Context` gathered (``overflowed`` of ``total`` casts)."""
        if self.ctx is not None:
            self.ctx.count(self._point(name), overflowed, total, max_abs)

    def record_raw(
        self, name: str, overflow: np.ndarray, mantissa: np.ndarray, fractional: int
    ) -> None:
        """`record`, the largest |value| taken from the exact ``mantissa * 2^-fractional``."""
        if self.ctx is not None:
            self.ctx.record(self._point(name), overflow, largest_value(mantissa, fractional))

    def raw(self, mantissa: np.ndarray, fractional: int, t: FixedType, name: str) -> np.ndarray:
        """Convert the exact values ``mantissa * 2^-fractional`` to ``t``."""
        source = FixedType(1, 1 - fractional)  # only F of the source matters to requantize_raw
        raw, overflow = t.requantize_raw(mantissa, source, return_overflow=True)
        self.record_raw(name, overflow, mantissa, fractional)
        return np.ldexp(np.asarray(raw, dtype=np.float64), -t.fractional) + 0.0


def largest_value(mantissa: np.ndarray, fractional: int) -> float:
    """The largest |m * 2^-fractional| of integer mantissas (int64 or Python ints); 0 if none."""
    m = np.asarray(mantissa)
    if m.dtype == object:
        biggest = max((abs(int(v)) for v in m.ravel().tolist()), default=0)
    else:
        biggest = int(np.max(np.abs(m))) if m.size else 0
    return math.ldexp(float(biggest), -fractional)


def mantissas(x: np.ndarray, t: FixedType) -> np.ndarray:
    """Exact integer mantissas (Python ints) of values of ``t``."""
    return np.asarray(t.quantize_raw(x)).astype(object)


def exact_product(
    a: np.ndarray, a_t: FixedType, b: np.ndarray, b_t: FixedType
) -> tuple[np.ndarray, int] | np.ndarray:
    """The exact C++ product ``a * b``: float64 when it fits, else (mantissas, F).

    Mantissas are int64 up to 62 bits, Python ints (slow: about 10 us a value) beyond.
    """
    bits = a_t.width + b_t.width
    if bits <= FLOAT_EXACT_WIDTH:
        return a * b
    f = a_t.fractional + b_t.fractional
    ma, mb = np.asarray(a_t.quantize_raw(a)), np.asarray(b_t.quantize_raw(b))
    if bits <= INT64_BITS and ma.dtype == np.int64 and mb.dtype == np.int64:
        return ma * mb, f
    return ma.astype(object) * mb.astype(object), f


def scaled(m: np.ndarray, k: int) -> np.ndarray:
    """m * 2^k for k >= 0, in int64 when it cannot overflow, else in Python ints."""
    if m.dtype != object and (not m.size or int(np.max(np.abs(m))) < 1 << (INT64_BITS - k)):
        return m * (1 << k)
    return m.astype(object) * (1 << k)


def cast_exact(
    value: tuple[np.ndarray, int] | np.ndarray, t: FixedType, cast: Caster, name: str
) -> np.ndarray:
    if isinstance(value, tuple):
        return cast.raw(value[0], value[1], t, name)
    return cast(value, t, name)


def select_exact(
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
    ma, mb = scaled(ma, f - fa), scaled(mb, f - fb)
    if ma.dtype == object or mb.dtype == object:
        ma, mb = ma.astype(object), mb.astype(object)
    return np.where(cond, ma, mb), f
