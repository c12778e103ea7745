"""The verdict of a tuning run as text: numbers formatted for the report, the headline, and
aptune's cost against the three baselines, shared by the HTML page and ``summary.md``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from emulation.metrics import Target
from emulation.tuning_record import BASELINES, CostFigures, Measured, TuningRecord
from reports import html
from reports.html import Raw

__all__ = [
    "comparison_rows",
    "count_text",
    "is_missing",
    "metric_text",
    "model_name",
    "objective_name",
    "status_of",
    "validation_count",
    "verdict_headline",
]


# -------------------------------------------------------------------------------- numbers
def is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def metric_text(value: Any, target: Target) -> str:
    if is_missing(value):
        return "-"
    return f"{100 * value:.2f}\u00a0%" if target.is_share else f"{value:.4g}"


def count_text(x: Any) -> str:
    if is_missing(x):
        return "-"
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}"


def _ratio(ours: float, theirs: float) -> str:
    """``"0.11x (9.3x cheaper)"`` for aptune's cost over a baseline's."""
    if is_missing(ours) or is_missing(theirs) or theirs <= 0:
        return "-"
    r = ours / theirs
    if r == 0:
        return "0x"
    if r < 1:
        return f"{r:.2f}x ({1 / r:.1f}x cheaper)"
    if r == 1:
        return "1x (same)"
    return f"{r:.2f}x ({r:.1f}x dearer)"


def model_name(tuning: TuningRecord) -> str | None:
    model = tuning.model
    return None if not model else Path(model).name or model


# ---------------------------------------------------------------------------------- verdict
def status_of(tuning: TuningRecord) -> tuple[str, str]:
    """(css class, text) of the verdict badge."""
    result = tuning.final
    if not result.met:
        return "bad", "target not met"
    if result.met_validation is False:
        return "warn", "met on calibration data, missed on validation data"
    return "good", "target met"


def objective_name(tuning: TuningRecord) -> str:
    names = {"luteq": "LUT-equivalents", "bops": "BOPs", "ebops": "EBOPs", "dsp": "DSP"}
    return (names | {"lut": "LUT"}).get(str(tuning.objective), str(tuning.objective))


def validation_count(tuning: TuningRecord) -> int | str:
    """Held-out samples of the split ("?" when the record does not say)."""
    n = tuning.split.validation
    return "?" if n is None else n


def verdict_headline(tuning: TuningRecord, target: Target) -> str:
    result = tuning.final
    if not result.met:
        reason = result.reason or (
            f"the best {target.metric} seen was {metric_text(result.best_metric, target)}"
        )
        return f"No config met {tuning.target}: {reason}."
    cost = f"{count_text(result.objective)} {objective_name(tuning)}"
    text = (
        f"{target.title} {metric_text(result.metric_validation, target)} on "
        f"{validation_count(tuning)} held-out samples at {cost}"
    )
    parts = []
    for key, name in BASELINES.items():
        entry = tuning.baselines.get(key)
        if entry and entry.objective:
            r = result.objective / entry.objective
            how = f"{1 / r:.1f}x cheaper than" if r < 1 else f"{r:.1f}x the cost of"
            parts.append(f"{how} {name}")
    text += (": " + ", ".join(parts) if parts else "") + "."
    # met with a caveat (e.g. missed on validation data): the tuner's own words say which
    return text + (f" {result.reason.rstrip('.')}." if result.reason else "")


def _detail(label: str, name: str) -> str:
    """What a baseline's recorded name adds to its label (``"6 fractional bits"``)."""
    text = name.strip()
    for prefix in (label, label.split()[-1]):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix) :]
            break
    text = text.strip(" ,:")
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return "" if text.lower() in ("", "aptune") else text


def comparison_rows(
    tuning: TuningRecord, target: Target, *, markdown: bool = False
) -> tuple[list[list[Any]], list[str]]:
    """Rows of aptune and the baselines: name, metrics, met, costs, ratio; and row classes."""
    result = tuning.final
    ours = result.objective if result.met else None
    rows, classes = [], []
    entries: list[tuple[str, str, Measured | None]] = []
    if result.met:
        entries.append(("aptune (recommended)", "ours", result))
    for key, name in BASELINES.items():
        if key in tuning.baselines:
            entries.append((name, "", tuning.baselines[key]))
    for label, cls, entry in entries:
        if entry is None:
            rows.append([label, "no config met the target", "", "", "", "", "", "", ""])
            classes.append("muted")
            continue
        cost = entry.cost or CostFigures()
        met = bool(entry.met_validation)
        detail = _detail(label, entry.name or "")
        if markdown:
            name: Any = f"{label} ({detail})" if detail else label
            met_cell: Any = "yes" if met else "no"
        else:
            name = Raw(
                html.escape(label)
                + (f"<br><span class='muted'>{html.escape(detail)}</span>" if detail else "")
            )
            met_cell = Raw(
                f"<span class='{'good' if met else 'bad'}'>{'yes' if met else 'no'}</span>"
            )
        rows.append(
            [
                name,
                metric_text(entry.metric_calibration, target),
                metric_text(entry.metric_validation, target),
                met_cell,
                count_text(cost.bops),
                count_text(cost.ebops),
                count_text(cost.dsp),
                count_text(cost.lut),
                "-" if cls == "ours" or ours is None else _ratio(ours, entry.objective),
            ]
        )
        classes.append(cls)
    return rows, classes
