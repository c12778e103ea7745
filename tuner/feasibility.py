"""Targets the data cannot prove, refused before any search starts.

The search accepts a share (agreement, accuracy) only when its one-sided Wilson lower bound at
the chosen confidence meets the target (`tuner.metrics.ConfidentTarget`). With every one of
``n`` calibration samples right that bound is ``n / (n + z^2)``: 105 samples prove at most
0.975, so a 0.99 target cannot be met by any config, and searching for one only to say
"relax --target" wastes the user's time and tells them the wrong thing.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from emulation.errors import DataError
from emulation.metrics import Target

__all__ = ["best_provable", "check_provable"]


def best_provable(n: int, confidence: float) -> float:
    """The largest share ``n`` samples can prove with ``confidence`` (all of them right)."""
    z = NormalDist().inv_cdf(confidence)
    return n / (n + z * z)


def check_provable(target: Target, n: int, confidence: float, validation_share: float) -> None:
    """Raise `DataError` naming the samples needed, the highest target these ``n`` calibration
    samples can prove, and the confidence they would prove it at, when ``target`` cannot be
    met whatever the precisions; also for an error bound of 0 (no fixed-point type is exact)."""
    bound = target.bound
    if bound is None:
        return
    if not target.higher_is_better:
        if bound == 0:
            raise DataError(
                f"--target 0 for {target.metric} asks for outputs identical to the float model, "
                "which no fixed-point config gives: give a positive bound (e.g. --target 0.01)"
            )
        return
    if not 0 < confidence < 1:
        raise DataError(f"--confidence must be in (0, 1); got {confidence}")
    best = best_provable(n, confidence)
    if best >= bound:
        return
    if bound >= 1:
        raise DataError(
            f"{target} cannot be proven on finite data: give a --target below 1 (e.g. 0.99)"
        )
    z = NormalDist().inv_cdf(confidence)
    need = math.ceil(bound * z * z / (1 - bound))  # n / (n + z^2) >= bound
    total = math.ceil(need / (1 - validation_share))
    # the confidence at which all n right proves the bound: z^2 <= n (1 - b) / b
    conf = NormalDist().cdf(math.sqrt(n * (1 - bound) / bound))
    raise DataError(
        f"{n} calibration samples cannot prove {target} at {confidence:.0%} confidence even "
        f"if every one agrees (at most {math.floor(best * 1000) / 1000:g}): give at least "
        f"{total} samples ({need} for calibration), or --target "
        f"{math.floor(best * 1000) / 1000:g}, or --confidence {math.floor(conf * 100) / 100:g}"
    )
