"""``--verify-csim``: check a tuned config in hls4ml's C simulation before anyone synthesises it.

The held-out validation samples go through float Keras, the emulator and the compiled C
simulation (`csim.compare`). The run fails loudly when the C simulation misses the target or
differs from the emulator in a single value; what failed comes back as text for the caller to
show (`tuner.workflow` passes it to its ``log``), as library code does not print.
"""

from __future__ import annotations

import math

import numpy as np

from csim.compare import Comparison, compare
from emulation.metrics import Target
from emulation.tuning_record import CsimCheck, TuningRecord
from tuner.sampling import split_indices

__all__ = ["csim_metric", "verify_csim"]


def csim_metric(comparison: Comparison, target: Target, emulated: float) -> float:
    """The target's metric measured on the C simulation's outputs."""
    side = comparison.csim
    if target.metric == "agreement":
        return side.top_class_agreement
    if target.metric == "accuracy":
        return math.nan if side.accuracy is None else side.accuracy
    if target.metric == "mae":
        return side.mean_abs_error
    # mse is not part of the comparison; identical outputs give the emulator's figure
    return emulated if comparison.agree else math.nan


def verify_csim(
    result: TuningRecord,
    model,
    x: np.ndarray,
    labels: np.ndarray | None,
    target: Target,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> list[str]:
    """Compare the recommended config in C simulation on the validation split.

    Stores the comparison in ``result.csim`` and returns what failed: empty when the C
    simulation equals the emulator on every value and meets the target.
    """
    _, val = split_indices(len(x), result.split.validation_share, result.split.seed)
    y = None if labels is None else labels[val]
    comparison = compare(model, result.config, x[val], y, backend=backend, io_type=io_type)
    value = csim_metric(comparison, target, result.final.metric_validation)
    result.csim = CsimCheck(value, target.met(value), comparison.to_dict())
    problems = []
    if not comparison.agree:
        problems.append(
            f"the emulator and the C simulation differ ({comparison.identical} of "
            f"{comparison.n_values} output values identical)"
        )
    if not result.csim.met:
        problems.append(f"the C simulation misses the target {target}: {value:.4f}")
    return problems
