"""Quality of a fixed-point network against the float model, and the target it must meet.

The one home of "agreement": `top_class` decides a sample's class (argmax over the outputs; a
single sigmoid output is the binary decision ``y > 0.5``, since its argmax is always 0), and
`tune`, `check` and `csim` all count agreement through it. ``agreement`` and ``accuracy`` are
shares (higher is better); ``mae`` and ``mse`` are errors against the float outputs (lower is
better). A `Target` says which metric, which bound, and whether it is met; `Target.parse` reads
back the text ``str(target)`` writes (``"agreement >= 0.99"``), as ``tuning.json`` holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from emulation.errors import ConfigError

__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "SHARES",
    "Target",
    "accuracy",
    "agreement",
    "evaluate",
    "mae",
    "mse",
    "tied_top",
    "top_class",
]

METRICS = ("agreement", "accuracy", "mae", "mse")
HIGHER_IS_BETTER = {"agreement": True, "accuracy": True, "mae": False, "mse": False}
#: Metrics that are shares in [0, 1] (the others are errors, unbounded above).
SHARES = frozenset({"agreement", "accuracy"})


def _per_sample(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    return y.reshape(len(y), -1)


def top_class(y: np.ndarray) -> np.ndarray:
    """Predicted class per sample: argmax over the outputs, or ``y > 0.5`` for one output."""
    y = _per_sample(y)
    if y.shape[1] == 1:
        return (y[:, 0] > 0.5).astype(np.int64)
    return np.argmax(y, axis=1)


def tied_top(y: np.ndarray) -> np.ndarray:
    """Per sample: does another output equal the largest one? (one output: never)"""
    y = _per_sample(y)
    if y.shape[1] == 1:
        return np.zeros(len(y), dtype=bool)
    return np.sum(y == y.max(axis=1, keepdims=True), axis=1) > 1


def _share(hit: np.ndarray, y: np.ndarray, strict: bool) -> float:
    if strict:
        hit = hit & ~tied_top(y)
    return float(np.mean(hit))


def agreement(y: np.ndarray, y_float: np.ndarray, *, strict: bool = False) -> float:
    """Share of samples whose top class is the float model's.

    ``strict`` (the search uses it): a sample whose top class is tied with another class
    counts as a miss, even where the firmware's first-index rule happens to pick the right one;
    outputs so coarse that classes tie get it wrong on the next samples.
    """
    return _share(top_class(y) == top_class(y_float), y, strict)


def accuracy(y: np.ndarray, labels: np.ndarray, *, strict: bool = False) -> float:
    """Share of samples whose top class is the label (``strict`` as in `agreement`)."""
    return _share(top_class(y) == np.asarray(labels).reshape(-1), y, strict)


def mae(y: np.ndarray, y_float: np.ndarray) -> float:
    """Mean absolute error against the float outputs, value by value."""
    return float(np.mean(np.abs(_diff(y, y_float))))


def mse(y: np.ndarray, y_float: np.ndarray) -> float:
    """Mean squared error against the float outputs, value by value."""
    return float(np.mean(_diff(y, y_float) ** 2))


def _diff(y: np.ndarray, y_float: np.ndarray) -> np.ndarray:
    return np.asarray(y, dtype=np.float64) - np.asarray(y_float, dtype=np.float64)


def evaluate(
    metric: str,
    y_fixed: np.ndarray,
    y_float: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    strict: bool = False,
) -> float:
    """``metric`` of the fixed-point outputs against the float outputs (or the labels)."""
    if metric == "agreement":
        return agreement(y_fixed, y_float, strict=strict)
    if metric == "accuracy":
        if labels is None:
            raise ConfigError("metric 'accuracy' needs labels: pass --labels y.npy")
        return accuracy(y_fixed, labels, strict=strict)
    if metric == "mae":
        return mae(y_fixed, y_float)
    if metric == "mse":
        return mse(y_fixed, y_float)
    raise ConfigError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")


_WRITTEN = re.compile(r"\s*(\w+)\s*(?:(>=|<=)\s*([-+0-9.eE]+|nan|inf))?\s*")


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
        if self.bound is not None and self.is_share and not 0 < self.bound <= 1:
            raise ConfigError(
                f"--target for {self.metric} is a share in (0, 1]; got {self.bound} "
                "(write 0.99 for 99 %)"
            )
        if self.bound is not None and self.bound < 0:
            raise ConfigError(f"--target must not be negative; got {self.bound}")

    @classmethod
    def parse(cls, text: str) -> Target:
        """The target ``str(target)`` wrote: ``"agreement >= 0.99"``, ``"mae <= 0.02"``,
        ``"mse"`` (no bound).

        Raises
        ------
        ConfigError
            Not that form, an unknown metric, or a comparison the metric does not use.
        """
        match = _WRITTEN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(
                f"cannot read target {text!r}: expected '<metric> >= <bound>' (or '<='), "
                f"the metric one of {', '.join(METRICS)}"
            )
        metric, op, bound = match.groups()
        target = cls(metric, None if bound is None else float(bound))
        if op is not None and (op == ">=") != target.higher_is_better:
            right = ">=" if target.higher_is_better else "<="
            raise ConfigError(f"cannot read target {text!r}: {metric} is bounded with {right}")
        return target

    @property
    def higher_is_better(self) -> bool:
        return HIGHER_IS_BETTER[self.metric]

    @property
    def is_share(self) -> bool:
        """Agreement and accuracy are shares in [0, 1]; errors are not."""
        return self.metric in SHARES

    @property
    def title(self) -> str:
        """The metric's name to start a sentence: ``"Agreement"``, ``"MAE"``."""
        return self.metric.capitalize() if self.is_share else self.metric.upper()

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
        """Whether ``value`` meets the (resolved) bound; NaN never does."""
        if self.bound is None:
            raise ConfigError("target has no bound; call resolve() first")
        return value >= self.bound if self.higher_is_better else value <= self.bound

    def __str__(self) -> str:
        op = ">=" if self.higher_is_better else "<="
        return f"{self.metric} {op} {self.bound:g}" if self.bound is not None else self.metric
