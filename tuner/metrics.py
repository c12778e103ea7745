"""Quality of a fixed-point network against the float model, and the target it must meet.

``agreement`` and ``accuracy`` are shares (higher is better); ``mae`` and ``mse`` are errors
against the float outputs (lower is better). A `Target` says which metric, which bound, and
whether it is met.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from emulation.errors import ConfigError

__all__ = [
    "METRICS",
    "ConfidentTarget",
    "Target",
    "evaluate",
    "tied_top",
    "top_class",
    "wilson_lower",
]

METRICS = ("agreement", "accuracy", "mae", "mse")
HIGHER_IS_BETTER = {"agreement": True, "accuracy": True, "mae": False, "mse": False}


def top_class(y: np.ndarray) -> np.ndarray:
    """Predicted class per sample: argmax over the last axis, or ``y > 0.5`` for one output."""
    y = np.asarray(y).reshape(len(y), -1)
    if y.shape[1] == 1:
        return (y[:, 0] > 0.5).astype(np.int64)
    return np.argmax(y, axis=1)


def tied_top(y: np.ndarray) -> np.ndarray:
    """Per sample: does another output equal the largest one? (one output: never)"""
    y = np.asarray(y).reshape(len(y), -1)
    if y.shape[1] == 1:
        return np.zeros(len(y), dtype=bool)
    return np.sum(y == y.max(axis=1, keepdims=True), axis=1) > 1


def evaluate(
    metric: str,
    y_fixed: np.ndarray,
    y_float: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    strict: bool = False,
) -> float:
    """``metric`` of the fixed-point outputs against the float outputs (or the labels).

    ``strict`` (the search uses it): a sample whose fixed-point top class is tied with another
    class counts as a miss, even where the firmware's first-index rule happens to pick the
    right one; outputs so coarse that classes tie get it wrong on the next samples.
    """
    if metric in ("agreement", "accuracy"):
        if metric == "accuracy" and labels is None:
            raise ConfigError("metric 'accuracy' needs labels: pass --labels y.npy")
        want = top_class(y_float) if metric == "agreement" else labels
        hit = top_class(y_fixed) == want
        if strict:
            hit &= ~tied_top(y_fixed)
        return float(np.mean(hit))
    diff = np.asarray(y_fixed, dtype=np.float64) - np.asarray(y_float, dtype=np.float64)
    if metric == "mae":
        return float(np.mean(np.abs(diff)))
    if metric == "mse":
        return float(np.mean(diff**2))
    raise ConfigError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")


@dataclass(frozen=True)
class Target:
    """A bound on one metric: ``agreement >= 0.99``, ``mae <= 0.01``.

    For ``accuracy`` the bound may be given as a largest drop from the float model's
    accuracy (``max_drop``); `resolve` turns it into an absolute floor.
    """

    metric: str = "agreement"
    bound: float | None = None
    max_drop: float | None = None

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ConfigError(
                f"unknown metric {self.metric!r}; expected one of {', '.join(METRICS)}"
            )
        if self.bound is not None and self.max_drop is not None:
            raise ConfigError("give either --target or --max-drop, not both")
        if self.max_drop is not None and self.metric != "accuracy":
            raise ConfigError("--max-drop applies to --metric accuracy only")
        if self.max_drop is not None and not 0 <= self.max_drop < 1:
            raise ConfigError(f"--max-drop must be in [0, 1); got {self.max_drop}")
        share = self.metric in ("agreement", "accuracy")
        if self.bound is not None and share and not 0 < self.bound <= 1:
            raise ConfigError(
                f"--target for {self.metric} is a share in (0, 1]; got {self.bound} "
                "(write 0.99 for 99 %)"
            )
        if self.bound is not None and self.bound < 0:
            raise ConfigError(f"--target must not be negative; got {self.bound}")

    @property
    def higher_is_better(self) -> bool:
        return HIGHER_IS_BETTER[self.metric]

    def resolve(self, float_accuracy: float | None = None) -> Target:
        """An absolute target: defaults filled in, a drop turned into a floor."""
        if self.max_drop is not None:
            if float_accuracy is None:
                raise ConfigError("metric 'accuracy' needs labels: pass --labels y.npy")
            return Target(self.metric, float_accuracy - self.max_drop)
        if self.bound is not None:
            return self
        if self.metric == "accuracy":  # default: lose at most one point of accuracy
            return Target(self.metric, max_drop=0.01).resolve(float_accuracy)
        defaults = {"agreement": 0.99, "mae": None, "mse": None}
        if defaults[self.metric] is None:
            raise ConfigError(f"metric {self.metric!r} needs a bound: pass --target VALUE")
        return Target(self.metric, defaults[self.metric])

    def tightened(self, margin: float) -> Target:
        """A stricter bound that keeps ``margin`` of the allowed loss in reserve.

        For shares the allowed loss is ``1 - bound`` (agreement 0.99, margin 0.5: search for
        0.995); for errors it is the bound itself (mae 0.01, margin 0.5: search for 0.005).
        """
        if self.bound is None:
            raise ConfigError("target has no bound; call resolve() first")
        if not 0 <= margin < 1:
            raise ConfigError(f"calibration margin must be in [0, 1); got {margin}")
        if self.higher_is_better:
            return Target(self.metric, self.bound + margin * (1 - self.bound))
        return Target(self.metric, self.bound * (1 - margin))

    def met(self, value: float) -> bool:
        """Whether ``value`` meets the (resolved) bound."""
        if self.bound is None:
            raise ConfigError("target has no bound; call resolve() first")
        return value >= self.bound if self.higher_is_better else value <= self.bound

    def __str__(self) -> str:
        op = ">=" if self.higher_is_better else "<="
        return f"{self.metric} {op} {self.bound:g}" if self.bound is not None else self.metric


def wilson_lower(share: float, n: int, confidence: float) -> float:
    """One-sided Wilson lower confidence bound of a share measured on ``n`` samples."""
    if n <= 0 or math.isnan(share):
        return math.nan
    z = NormalDist().inv_cdf(confidence)
    z2n = z * z / n
    centre = share + z2n / 2
    spread = z * math.sqrt(share * (1 - share) / n + z2n / (4 * n))
    return (centre - spread) / (1 + z2n)


@dataclass(frozen=True)
class ConfidentTarget:
    """The target as the search applies it on calibration data, so that it still holds on
    data the search never saw.

    A share (agreement, accuracy) must meet the bound with ``confidence`` (its one-sided Wilson
    lower bound over the ``n`` calibration samples): 0 disagreements in 105 samples prove
    agreement >= 0.975, not 0.99. An error (mae, mse) must stay below ``1 - margin`` of the
    bound.
    """

    target: Target
    n: int
    confidence: float = 0.95
    margin: float = 0.5

    @property
    def metric(self) -> str:
        return self.target.metric

    @property
    def higher_is_better(self) -> bool:
        return self.target.higher_is_better

    def met(self, value: float) -> bool:
        if self.higher_is_better:
            return self.target.met(wilson_lower(value, self.n, self.confidence))
        return self.target.tightened(self.margin).met(value)

    def __str__(self) -> str:
        if self.higher_is_better:
            return f"{self.target} with {self.confidence:.0%} confidence on {self.n} samples"
        return str(self.target.tightened(self.margin))
