"""The data of a numerical profile: `Summary` statistics, `Row` per variable, `Profile` per figure.

Plain frozen dataclasses that serialise to JSON (`Profile.to_dict` / `Profile.from_dict`), kept
apart from the Keras and emulator code that fills them (``tuner.numerical_profile``) so figures
(:mod:`reports.plots`) and reports draw from plain data alone.

Every row keeps summary statistics, not the values: quartiles, extremes and a histogram on a
log2 grid of `BINS_PER_OCTAVE` bins per power of two, so a `Profile` of a large model over many
samples stays small.

Examples
--------
>>> import numpy as np
>>> s = summarize(np.array([0.0, -0.25, 0.5, 3.0]))
>>> s.count, s.min, s.max
(3, 0.25, 3.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from emulation.errors import DataError

if TYPE_CHECKING:
    from emulation.fixed import FixedType

__all__ = ["BINS_PER_OCTAVE", "Profile", "Row", "Summary", "summarize"]

BINS_PER_OCTAVE = 8


@dataclass(frozen=True)
class Summary:
    """Statistics of the absolute non-zero values of one variable.

    Attributes
    ----------
    count : number of non-zero values.
    min, q1, median, q3, max : of the absolute non-zero values (quartiles interpolate linearly).
    lowest, highest : the signed extremes of the non-zero values, to test them against a type.
    hist_start : index of the first histogram bin; bin ``k`` counts the values in
        ``[2**((hist_start + k) / BINS_PER_OCTAVE), 2**((hist_start + k + 1) / BINS_PER_OCTAVE))``.
    hist_counts : the histogram counts (they sum to ``count``).
    """

    count: int
    min: float
    q1: float
    median: float
    q3: float
    max: float
    lowest: float
    highest: float
    hist_start: int
    hist_counts: tuple[int, ...]

    def octaves(self) -> tuple[np.ndarray, np.ndarray]:
        """Counts per power of two: ``(exponents k, counts of |x| in [2**k, 2**(k+1)))``."""
        start = math.floor(self.hist_start / BINS_PER_OCTAVE)
        offset = self.hist_start - start * BINS_PER_OCTAVE
        fine = np.concatenate([np.zeros(offset, np.int64), np.asarray(self.hist_counts)])
        pad = -len(fine) % BINS_PER_OCTAVE
        fine = np.concatenate([fine, np.zeros(pad, np.int64)])
        counts = fine.reshape(-1, BINS_PER_OCTAVE).sum(axis=1)
        return start + np.arange(len(counts)), counts


def summarize(values: np.ndarray) -> Summary | None:
    """Summary statistics of the non-zero values of ``values``; None when all are zero.

    Parameters
    ----------
    values : array_like
        Any shape; NaN or infinite values are refused (`DataError`).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise DataError(
            f"cannot profile {np.count_nonzero(~np.isfinite(x))} NaN or infinite value(s): "
            "check the model's weights and the input data"
        )
    x = x[x != 0]
    if x.size == 0:
        return None
    a = np.abs(x)
    q1, median, q3 = np.percentile(a, [25, 50, 75])
    # Bin index from the exponent, exactly: a = m * 2**e with m in [0.5, 1), so log2(a) is
    # e - 1 plus log2(2m) in [0, 1); powers of two land on their bin edge without rounding.
    m, e = np.frexp(a)
    sub = np.clip(np.floor(np.log2(2 * m) * BINS_PER_OCTAVE), 0, BINS_PER_OCTAVE - 1)
    idx = (e.astype(np.int64) - 1) * BINS_PER_OCTAVE + sub.astype(np.int64)
    start = int(idx.min())
    counts = np.bincount(idx - start)
    return Summary(
        count=int(a.size),
        min=float(a.min()),
        q1=float(q1),
        median=float(median),
        q3=float(q3),
        max=float(a.max()),
        lowest=float(x.min()),
        highest=float(x.max()),
        hist_start=start,
        hist_counts=tuple(int(c) for c in counts),
    )


@dataclass(frozen=True)
class Row:
    """One variable of a profile: a layer's weights, its biases, or its output.

    Attributes
    ----------
    name : the row's label: ``"<layer>/<variable>"`` for weights, ``"<layer>"`` for outputs.
    layer : the layer's name (Keras's without a config, hls4ml's with one).
    size : number of values, zeros included.
    summary : statistics of the non-zero values; None when every value is zero.
    type : the configured fixed-point type, or None (no config, or none for this variable).
    overflows : how many values overflowed when cast to ``type`` (None when unknown).
    peak : the largest absolute value before the cast to ``type``, when known.
    cast_overflows : overflow counts at the layer's other cast points on the way to this
        output (``{"accum_t": 240}``; emulated activations only, those above zero). A wrapped
        accumulator can leave the output inside its type and still wrong, so these count too.
    """

    name: str
    layer: str
    size: int
    summary: Summary | None
    type: FixedType | None = None
    overflows: int | None = None
    peak: float | None = None
    cast_overflows: Mapping[str, int] = field(default_factory=dict)

    @property
    def overflowed(self) -> bool:
        """True when values did not fit: counted overflows, or extremes outside the type."""
        if any(self.cast_overflows.values()):
            return True
        if self.type is None:
            return False
        if self.overflows is not None:
            return self.overflows > 0
        s = self.summary
        return s is not None and (s.highest > self.type.max or s.lowest < self.type.min)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the type as its hls4ml string)."""
        return {
            "name": self.name,
            "layer": self.layer,
            "size": self.size,
            "summary": None if self.summary is None else _summary_dict(self.summary),
            "type": None if self.type is None else self.type.to_hls(),
            "overflows": self.overflows,
            "peak": self.peak,
            "cast_overflows": dict(self.cast_overflows),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """The row `to_dict` wrote."""
        from emulation.fixed import FixedType

        s = data.get("summary")
        t = data.get("type")
        return cls(
            name=str(data["name"]),
            layer=str(data["layer"]),
            size=int(data["size"]),
            summary=None if s is None else Summary(**{**s, "hist_counts": tuple(s["hist_counts"])}),
            type=None if t is None else FixedType.parse(t),
            overflows=None if data.get("overflows") is None else int(data["overflows"]),
            peak=None if data.get("peak") is None else float(data["peak"]),
            cast_overflows={k: int(v) for k, v in data.get("cast_overflows", {}).items()},
        )


def _summary_dict(s: Summary) -> dict[str, Any]:
    return {
        "count": s.count,
        "min": s.min,
        "q1": s.q1,
        "median": s.median,
        "q3": s.q3,
        "max": s.max,
        "lowest": s.lowest,
        "highest": s.highest,
        "hist_start": s.hist_start,
        "hist_counts": list(s.hist_counts),
    }


@dataclass(frozen=True)
class Profile:
    """The rows of one figure, top to bottom in layer order.

    Attributes
    ----------
    kind : ``"weights"`` or ``"activations"``.
    source : ``"keras"`` (float Keras values) or ``"emulator"`` (hls4ml's layers; activations
        as the emulator computes them in fixed point).
    rows : one `Row` per variable.
    samples : the number of input samples (activations only).
    other_overflows : overflow counts at cast points that are not rows (``"<layer>.accum_t"``,
        ...), only those above zero.
    """

    kind: str
    source: str
    rows: tuple[Row, ...]
    samples: int | None = None
    other_overflows: Mapping[str, int] = field(default_factory=dict)

    @property
    def has_types(self) -> bool:
        """True when at least one row has a configured type (grey boxes are drawn)."""
        return any(r.type is not None for r in self.rows)

    def overflowing(self) -> tuple[Row, ...]:
        """The rows whose values did not fit their type."""
        return tuple(r for r in self.rows if r.overflowed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; `from_dict` reads it back."""
        return {
            "kind": self.kind,
            "source": self.source,
            "samples": self.samples,
            "rows": [r.to_dict() for r in self.rows],
            "other_overflows": dict(self.other_overflows),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """The profile `to_dict` wrote."""
        return cls(
            kind=str(data["kind"]),
            source=str(data["source"]),
            rows=tuple(Row.from_dict(r) for r in data["rows"]),
            samples=None if data.get("samples") is None else int(data["samples"]),
            other_overflows={k: int(v) for k, v in data.get("other_overflows", {}).items()},
        )
