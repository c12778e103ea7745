"""The overflows a tuning report shows, taken from one source so that every part agrees.

The source is the recommended result's ``overflows``: the emulator's count at every cast point
on the validation data. The profile figures of the recommended config count on another set of
samples, so their red marks are redrawn from that source (`with_recorded_overflows`) rather
than contradicting the Overflows table. Weights are not cast points of the data: a weight that
saturates only because rounding to nearest carried it past the type's largest value (an error
under one LSB, like any rounding) is a note, never a red overflow; a weight beyond that is an
overflow, and is listed in the table like the data's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from emulation.fixed import FixedType, Overflow
from emulation.tuning_record import TuningRecord
from reports import html
from reports.html import Raw
from reports.profile_data import Profile, Row
from reports.tuning_verdict import validation_count

__all__ = [
    "Overflowed",
    "overflow_rows",
    "overflow_section",
    "overflowed",
    "rounds_into_saturation",
    "with_recorded_overflows",
]

_SATURATING = (Overflow.SAT, Overflow.SAT_SYM)


@dataclass(frozen=True)
class Overflowed:
    """One cast point (``"fc1.result_t"``) or weight (``"fc1.bias_t"``) whose values did not fit."""

    point: str
    count: int
    total: int
    max_abs: float
    weights: bool = False

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0


def _weight_point(row: Row) -> str:
    """``"fc1/bias"`` -> ``"fc1.bias_t"``: the weight row's name as a type of the config."""
    return f"{row.layer}.{row.name.rpartition('/')[2]}_t"


def rounds_into_saturation(row: Row) -> bool:
    """True when every value of a saturating type lies within one LSB of its range: the only
    values that do not fit were rounded to nearest past the largest (or smallest) value."""
    t, s = row.type, row.summary
    if t is None or s is None or t.overflow not in _SATURATING:
        return False
    return s.highest < t.max + t.lsb and s.lowest > t.min - t.lsb


def _weight_rows(tuning: TuningRecord) -> list[Row]:
    data = ((tuning.profiles or {}).get("recommended") or {}).get("weights")
    return list(Profile.from_dict(data).rows) if data else []


def overflowed(tuning: TuningRecord) -> tuple[list[Overflowed], list[str]]:
    """The recommended config's overflows, in execution order, and notes on weights that only
    saturate by rounding. Empty when no config met the target."""
    result = tuning.final
    if not result.met:
        return [], []
    recorded = result.overflows or {}
    out = [
        Overflowed(point, int(o.count), int(o.total), float(o.max_abs))
        for point, o in recorded.items()
        if o.count
    ]
    notes = []
    for row in _weight_rows(tuning):
        if not row.overflowed or _weight_point(row) in recorded:
            continue
        peak = row.peak if row.peak is not None else max(-row.summary.lowest, row.summary.highest)
        if rounds_into_saturation(row):
            n = row.overflows or 0
            notes.append(
                f"{row.name}: {n} value(s) round to nearest past the largest value of "
                f"{row.type.to_hls()} and saturate to it (an error under one LSB, like any "
                "rounding; not an overflow)."
            )
        else:
            out.append(Overflowed(_weight_point(row), row.overflows or 0, row.size, peak, True))
    return out, notes


def with_recorded_overflows(profile: Profile, tuning: TuningRecord, recommended: bool) -> Profile:
    """``profile`` with its overflow marks from the report's one source: for the recommended
    config the validation counts of `overflowed`; for any config, weights that only saturate
    by rounding are not marked."""
    rows = []
    points = {o.point: o.count for o in overflowed(tuning)[0]} if recommended else None
    weights = {_weight_point(r) for r in _weight_rows(tuning)}  # drawn in the weights figure
    for row in profile.rows:
        if profile.kind == "weights":
            if points is not None and row.type is not None:
                count = points.get(_weight_point(row), 0)
            elif row.overflowed and rounds_into_saturation(row):
                count = 0
            else:
                count = row.overflows
            rows.append(replace(row, overflows=count))
        elif points is not None:
            prefix = f"{row.layer}."
            others = {
                k[len(prefix) :]: c
                for k, c in points.items()
                if k.startswith(prefix) and k != f"{prefix}result_t" and k not in weights
            }
            count = points.get(f"{prefix}result_t", 0) if row.type is not None else None
            rows.append(replace(row, overflows=count, cast_overflows=others))
        else:
            rows.append(row)
    other = profile.other_overflows
    if points is not None and profile.kind != "weights":
        layers = {r.layer for r in profile.rows}
        other = {
            k: c
            for k, c in points.items()
            if k.rpartition(".")[0] not in layers and k not in weights
        }
    return replace(profile, rows=tuple(rows), other_overflows=other)


def overflow_rows(tuning: TuningRecord) -> list[list[Any]]:
    """One table row per overflowed point: point, type, mode, count, share, largest values."""
    types = dict(tuning.final.types or {})
    ranges = tuning.ranges.max_abs
    rows = []
    for o in overflowed(tuning)[0]:
        text = types.get(o.point)
        t = FixedType.parse(text) if text else None
        if t is None:
            mode, largest_ok = "not tuned", "-"
        else:
            mode = "saturates" if t.overflow in _SATURATING else "wraps"
            mode = "becomes 0" if t.overflow is Overflow.SAT_ZERO else mode
            largest_ok = f"{t.max:g}"
        rows.append(
            [
                o.point + (" (weights)" if o.weights else ""),
                text or "-",
                Raw(f"<span class='{'' if mode == 'saturates' else 'bad'}'>{mode}</span>"),
                f"{o.count:,} of {o.total:,}",
                html.percent(o.share),
                f"{o.max_abs:.6g}",
                largest_ok,
                "-" if o.point not in ranges else f"{ranges[o.point]:.6g}",
            ]
        )
    return rows


def overflow_section(tuning: TuningRecord) -> Raw:
    """The Overflows section: the table of `overflow_rows`, or one line saying none did."""
    n_val = validation_count(tuning)
    if not tuning.final.met:
        return html.section("overflows", "Overflows", "Not measured: no candidate met the target.")
    rows = overflow_rows(tuning)
    notes = overflowed(tuning)[1]
    if not rows:
        return html.section(
            "overflows",
            "Overflows",
            f"No value overflowed any type of the recommended config on the {n_val} "
            "validation samples.",
            *notes,
        )
    table = html.table(
        [
            "cast point",
            "type",
            "on overflow",
            "values overflowed",
            "share",
            "largest |value|",
            "type's largest value",
            "largest |value| (calibration)",
        ],
        rows,
        numeric=(3, 4, 5, 6, 7),
    )
    return html.section(
        "overflows",
        "Overflows",
        f"Cast points of the recommended config where values did not fit, counted by the "
        f"emulator on the {n_val} validation samples (weights: of their values as loaded). "
        "Saturating types clip rare large values on purpose; a wrapping type that overflows "
        "flips the sign of its value. The profiles above mark the same points.",
        Raw(f"<div class='scroll'>{table}</div>"),
        *notes,
    )
