"""How the search applies a target on calibration data so that it holds on unseen data.

The metrics and `Target` themselves are `emulation.metrics` (``check`` and ``csim`` count
agreement the same way); this is what only the tuner needs: a confidence bound on a share
measured on few samples, and a reserve kept on an error bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from emulation.metrics import Target

__all__ = ["ConfidentTarget", "wilson_lower"]


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
