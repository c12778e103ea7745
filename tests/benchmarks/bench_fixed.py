"""Speed of `FixedType.quantize` beside apytypes and quantizers on 10 million doubles.

Two conversions: ``ap_fixed<16,6,AP_TRN,AP_WRAP>`` and ``ap_fixed<18,8,AP_RND_CONV,AP_SAT>``.
Best of three runs each; every result is checked equal to ours before it is timed.

- apytypes 0.5 has no rounding or overflow mode in ``APyFixedArray.from_float`` (it always
  rounds ties away and wraps), so the same conversion is ``from_float`` into a 64-bit type
  that holds these doubles (I + 10 integer bits, 54 - I fractional bits), then ``cast`` with
  the modes. That intermediate rounds below 2^-(54 - I): only a double within that distance
  below a grid point could differ, which the equality check would show.
  For scale only, the one-step ``from_float`` (its own modes) is timed too.
- quantizers: ``get_fixed_quantizer_np(round, overflow)(x, k=1, i=I-1, f=F)`` (float64).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from emulation.fixed import FixedType

N_VALUES = 10_000_000
REPEAT = 3
# The two of the brief, and the anchor of DESIGN.md (quantizers about 0.06 s for 10.6 M).
CASES = [
    "ap_fixed<16,6,AP_TRN,AP_WRAP>",
    "ap_fixed<18,8,AP_RND_CONV,AP_SAT>",
    "ap_fixed<16,6,AP_RND,AP_SAT>",
]


def make_data(n: int = N_VALUES, seed: int = 0) -> np.ndarray:
    """Activation-like doubles: normal with sigma 8, and 0.1 % outliers 50 times larger."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * 8.0
    outliers = rng.choice(n, size=n // 1000, replace=False)
    x[outliers] *= 50.0
    return x


def best_of(fn: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    """Shortest wall time of ``repeat`` calls, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def ours(t: FixedType, x: np.ndarray) -> Callable[[], np.ndarray]:
    """`FixedType.quantize`."""
    return lambda: t.quantize(x)


def ours_with_mask(t: FixedType, x: np.ndarray) -> Callable[[], np.ndarray]:
    """`FixedType.quantize` with the overflow mask, as the emulator's casts call it."""
    return lambda: t.quantize(x, return_overflow=True)[0]


def apytypes_fn(t: FixedType, x: np.ndarray) -> tuple[Callable[[], Any], Callable[[Any], Any]]:
    """apytypes: exact-enough from_float, then cast with the modes; and its to-float step."""
    import apytypes as apy

    quant = getattr(apy.QuantizationMode, t.rounding.name)
    over = getattr(apy.OverflowMode, t.overflow.name)
    int_bits = t.integer + 10

    def run() -> Any:
        wide = apy.APyFixedArray.from_float(x, int_bits=int_bits, frac_bits=64 - int_bits)
        return wide.cast(
            int_bits=t.integer, frac_bits=t.fractional, quantization=quant, overflow=over
        )

    return run, lambda result: result.to_numpy()


def apytypes_direct(t: FixedType, x: np.ndarray) -> Callable[[], Any]:
    """apytypes' one-step from_float: its own modes (ties away, wrap), for scale only."""
    import apytypes as apy

    return lambda: apy.APyFixedArray.from_float(x, int_bits=t.integer, frac_bits=t.fractional)


def quantizers_fn(t: FixedType, x: np.ndarray) -> Callable[[], np.ndarray]:
    """quantizers' NumPy fixed-point quantizer with the same modes."""
    from quantizers import get_fixed_quantizer_np

    q = get_fixed_quantizer_np(t.rounding.name, t.overflow.name)
    return lambda: q(x, 1, t.integer - 1, t.fractional)


def _check(reference: np.ndarray, values: np.ndarray, x: np.ndarray) -> str:
    """ "equal", or how many values differ from ours and the first few."""
    if np.array_equal(reference, values):
        return "equal"
    bad = np.flatnonzero(reference != values)
    first = ", ".join(f"x={x[j]!r}: ours {reference[j]!r}, {values[j]!r}" for j in bad[:3])
    return f"DIFFERS in {bad.size} values ({first})"


def main() -> None:
    """Time every implementation on both conversions and print values/s and ratios."""
    x = make_data()
    print(f"{x.size:,} float64 values, best of {REPEAT}")
    for spec in CASES:
        t = FixedType.parse(spec)
        rows: list[tuple[str, float, str]] = []
        ref_time, reference = best_of(ours(t, x))
        rows.append(("aptune FixedType.quantize", ref_time, "reference"))
        seconds, values = best_of(ours_with_mask(t, x))
        rows.append(("aptune quantize(return_overflow)", seconds, _check(reference, values, x)))
        run, to_float = apytypes_fn(t, x)
        seconds, result = best_of(run)
        rows.append(("apytypes from_float+cast", seconds, _check(reference, to_float(result), x)))
        seconds, _ = best_of(apytypes_direct(t, x))
        rows.append(("apytypes from_float alone", seconds, "RND_INF/WRAP: other modes"))
        seconds, values = best_of(quantizers_fn(t, x))
        rows.append(("quantizers fixed_point numpy", seconds, _check(reference, values, x)))
        apy_time = rows[2][1]
        print(f"\n{spec}")
        print(f"  {'implementation':34s} {'seconds':>8s} {'Mvalues/s':>10s} {'vs apytypes':>12s}")
        for name, secs, note in rows:
            rate = x.size / secs / 1e6
            print(f"  {name:34s} {secs:8.3f} {rate:10.1f} {apy_time / secs:11.2f}x  {note}")


if __name__ == "__main__":
    main()
