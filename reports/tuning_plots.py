"""Figures of a tuning run, each drawn from the plain data of ``tuning.json`` alone.

- `plot_precision` (from :mod:`reports.tuning_precision`): the recommended types per layer as
  bits around the binary point, one horizontal bar per (layer, kind).
- `plot_tradeoff`: the metric against the cost of every evaluated candidate, coloured by the
  search phase (filled: meets the target, hollow: misses it, a cross: met the metric but was
  refused, with the most common reason in the legend), the target as a dashed line, and the
  three baselines and the recommended config marked and labelled; errors (mae, mse) spanning
  decades on a log axis.

Both return a `matplotlib.figure.Figure` built with the object API (no pyplot, no global state)
and never modify their input. Artists that tests look for carry a ``gid`` (the ``GID_*``
constants). The helpers `layer_order`, `BASELINES` and `KINDS` are shared with
:mod:`reports.tuning`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from emulation.metrics import Target
from emulation.tuning_record import BASELINES, CandidateRecord, Measured, TuningRecord
from reports.plot_labels import BASELINE_COLOR as _BASELINE_COLOR
from reports.plot_labels import RESULT_COLOR as _RESULT_COLOR
from reports.plot_labels import place_labels
from reports.tuning_precision import GID_BITS, KINDS, layer_order, plot_precision

__all__ = [
    "BASELINES",
    "GID_BASELINE",
    "GID_BITS",
    "GID_CANDIDATES",
    "GID_RESULT",
    "GID_TARGET",
    "KINDS",
    "PHASE_COLORS",
    "layer_order",
    "plot_precision",
    "plot_tradeoff",
    "refusal_reason",
]

PHASE_COLORS = {
    "start": "#d53f8c",
    "sensitivity": "#3182ce",
    "combine": "#805ad5",
    "repair": "#dd6b20",
    "descent": "#38a169",
}
_OTHER_PHASE = "#a0aec0"
_BASELINE_MARKERS = {"hls4ml_default": "s", "cheapest_uniform": "D", "range_rule": "^"}
_BASELINE_FACE = "#fefcbf"


GID_CANDIDATES = "candidates"  # prefix: "candidates:<phase>"
GID_BASELINE = "baseline"  # prefix: "baseline:<key>"
GID_RESULT = "result"
GID_TARGET = "target"


# ----------------------------------------------------------------------------- trade-off
_OBJECTIVE_UNITS = {
    "bops": "BOPs per inference",
    "ebops": "EBOPs per inference",
    "dsp": "DSP48 slices (estimate)",
    "lut": "LUTs (estimate)",
}


def _si(x: float, _pos: Any = None) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:g}{suffix}"
    return f"{x:g}"


def _metric_text(value: float | None, target: Target) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if target.is_share:
        return f"{100 * value:.2f} %"
    return f"{value:.4g}"


def _y_window(values: Sequence[float], target: Target) -> tuple[float, float] | None:
    """The y range to show for a share metric: around the target, not down to the worst."""
    if not target.is_share or target.bound is None or not values:
        return None
    gap = max(abs(1.0 - target.bound), 0.002) if target.higher_is_better else 0.0
    if not target.higher_is_better:
        return None
    low = max(0.0, target.bound - 4 * gap)
    lowest = min(values)
    if lowest >= low:  # everything fits: just frame the data
        low = max(0.0, lowest - 0.5 * gap)
    top = min(1.0, max(values)) + 0.6 * gap
    return low, top


def _marked_points(tuning: TuningRecord) -> list[tuple[str, str, float, float]]:
    """``(key, label, cost, metric)`` of the baselines that exist and of the result."""
    out = []
    for key, name in BASELINES.items():
        entry = tuning.baselines.get(key)
        if entry:
            out.append((key, entry.name or name, entry.objective, _cal(entry)))
    result = tuning.final
    if result.met and result.objective is not None:
        out.append(("result", "aptune (recommended)", result.objective, _cal(result)))
    return out


def _cal(entry: Measured) -> float:
    return float("nan") if entry.metric_calibration is None else float(entry.metric_calibration)


def _short_baseline(key: str, name: str) -> str:
    if key == "hls4ml_default":
        return "hls4ml default"
    return name


def plot_tradeoff(tuning: TuningRecord | Any) -> Figure:
    """Metric (calibration data) against cost for every candidate, baselines and the result.

    One scatter collection per phase (``gid`` ``"candidates:<phase>"``), together one point per
    candidate; points outside the shown metric range are drawn on its lower edge as
    downward triangles. Baselines have ``gid`` ``"baseline:<key>"``, the result ``"result"``,
    the target line ``"target"``.
    """
    tuning = TuningRecord.from_json(tuning)
    target = tuning.parsed_target
    candidates = tuning.candidates
    marked = _marked_points(tuning)
    objective = tuning.objective
    fig = Figure(figsize=(11.0, 6.4), layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle(
        f"{target.title} against cost: every evaluated candidate",
        fontsize=13,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    calibration = "?" if tuning.split.calibration is None else tuning.split.calibration
    n_refused = sum(bool(c.refused) for c in candidates)
    result = tuning.final
    ax.set_title(
        f"{len(candidates)} candidates; {target.metric} measured on the "
        f"{calibration} calibration samples the search used"
        + (f"; {n_refused} met the metric but were refused" if n_refused else "")
        + ("" if result.met or not result.reason else f"\n{result.reason}"),
        fontsize=9.5,
        color="#4a5568",
        loc="left",
    )
    metrics = [float(c.metric) for c in candidates] + [m for *_, m in marked]
    finite = [m for m in metrics if not math.isnan(m)]
    window = _y_window(finite, target)
    floor = window[0] if window else None

    def shown(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values clipped to the window's floor, and which ones were clipped."""
        if floor is None:
            return values, np.zeros(values.shape, bool)
        below = values < floor
        return np.where(below, floor, values), below

    # Candidates: one collection per phase and marker, hollow when they miss the target, a
    # cross when they met the metric but were refused (a hollow circle would say "missed").
    phases = list(dict.fromkeys(c.phase for c in candidates))
    for phase in phases:
        group = [c for c in candidates if c.phase == phase]
        x = np.array([float(c.cost) for c in group])
        y, below = shown(np.array([float(c.metric) for c in group]))
        met = np.array([bool(c.met) for c in group])
        refused = np.array([bool(c.refused) for c in group])
        colour = PHASE_COLORS.get(phase, _OTHER_PHASE)
        for marker, keep in (("o", ~below & ~refused), ("x", ~below & refused), ("v", below)):
            if not keep.any():
                continue
            start = phase == "start"  # one point, often under later ones: draw it on top
            ax.scatter(
                x[keep],
                y[keep],
                s=(70 if start else 34) * (1.4 if marker == "x" else 1),
                marker=marker,
                c=[colour if m or marker == "x" else "white" for m in met[keep]],
                edgecolors=None if marker == "x" else colour,
                linewidths=1.6 if marker == "x" else 1.3,
                zorder=4 if start else 3,
                gid=f"{GID_CANDIDATES}:{phase}" + (":refused" if marker == "x" else ""),
            )
    if target.bound is not None:
        ax.axhline(
            target.bound,
            color=_RESULT_COLOR,
            linestyle="--",
            linewidth=1.3,
            zorder=2,
            gid=GID_TARGET,
        )
        ax.annotate(
            f"target\n{_metric_text(target.bound, target)}",
            (1.0, target.bound),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=9,
            color=_RESULT_COLOR,
            annotation_clip=False,
        )
    # Baselines and the result: markers now, labels once the axes are laid out.
    labels = []
    for key, name, cost, metric in marked:
        (y,), (clipped,) = shown(np.array([metric]))
        is_result = key == "result"
        ax.plot(
            [cost],
            [y],
            marker="*" if is_result else _BASELINE_MARKERS.get(key, "P"),
            markersize=20 if is_result else 11,
            color=_RESULT_COLOR if is_result else _BASELINE_COLOR,
            markeredgecolor="white" if is_result else _BASELINE_COLOR,
            markerfacecolor=_RESULT_COLOR if is_result else _BASELINE_FACE,
            markeredgewidth=1.0 if is_result else 1.6,
            linestyle="none",
            zorder=5,
            clip_on=False,
            gid=GID_RESULT if is_result else f"{GID_BASELINE}:{key}",
        )
        text = ("aptune" if is_result else _short_baseline(key, name)) + "\n"
        text += _metric_text(metric, target) + (" (below the axis)" if clipped else "")
        labels.append((cost, y, text, is_result, key))
    costs = [float(c.cost) for c in candidates] + [c for _, _, c, _ in marked]
    positive = [c for c in costs if c > 0]
    if positive and max(positive) / min(positive) > 5:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(_si))
        ax.xaxis.set_minor_formatter(
            FuncFormatter(lambda x, p: _si(x) if _lead(x) in (2, 5) else "")
        )
        ax.set_xlim(min(positive) / 1.3, max(positive) * 1.3)
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(_si))
    if window is not None:
        ax.set_ylim(*window)
    elif _log_metric(target, finite):
        ax.set_yscale("log")  # errors spanning decades: a linear axis squashes all but one
    if target.is_share:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{100 * v:.4g} %"))
    better = "higher is better" if target.higher_is_better else "lower is better"
    ax.set_ylabel(f"{target.metric} on calibration data ({better})")
    unit = _OBJECTIVE_UNITS.get(objective, objective)
    ax.set_xlabel(f"cost: {unit} (the objective; lower is better)")
    ax.grid(color="#edf2f7", linewidth=0.8, which="both")
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    _tradeoff_legend(fig, tuning, phases, marked, floor is not None and _any_below(metrics, floor))
    place_labels(fig, ax, labels)
    return fig


def _log_metric(target: Target, values: Sequence[float]) -> bool:
    """An error metric (mae, mse) whose positive values span more than a decade."""
    shown = list(values) + ([target.bound] if target.bound is not None else [])
    if target.metric not in ("mae", "mse") or not shown or min(shown) <= 0:
        return False
    return max(shown) / min(shown) > 10


def refusal_reason(candidates: Sequence[CandidateRecord]) -> tuple[int, str]:
    """How many candidates were refused, and the most common reason (shortened)."""
    reasons = [str(c.refused) for c in candidates if c.refused]
    if not reasons:
        return 0, ""
    top = Counter(reasons).most_common(1)[0][0]
    return len(reasons), top if len(top) <= 60 else top[:59] + "\u2026"


def _lead(x: float) -> int:
    """Leading digit of ``x`` (for labelling the 2 and 5 minor ticks of a log axis)."""
    if x <= 0:
        return 0
    return round(x / 10 ** math.floor(math.log10(x) + 1e-9))


def _any_below(values: Iterable[float], floor: float) -> bool:
    return any(v < floor for v in values if not math.isnan(v))


def _tradeoff_legend(
    fig: Figure,
    tuning: TuningRecord,
    phases: Sequence[str],
    marked: Sequence[tuple],
    clipped: bool,
) -> None:
    handles: list[tuple[Any, str]] = [
        (
            Line2D([], [], marker="o", linestyle="none", color=PHASE_COLORS.get(p, _OTHER_PHASE)),
            f"phase: {p}",
        )
        for p in phases
    ]
    handles += [
        (Line2D([], [], marker="o", linestyle="none", color="#4a5568"), "filled: meets the target"),
        (
            Line2D([], [], marker="o", linestyle="none", mfc="white", color="#4a5568"),
            "hollow: misses it",
        ),
    ]
    n_refused, reason = refusal_reason(tuning.candidates)
    if n_refused:
        handles.append(
            (
                Line2D([], [], marker="x", linestyle="none", color="#4a5568", mew=1.6),
                f"cross: met the metric, refused ({n_refused}): {reason}",
            )
        )
    if clipped:
        handles.append(
            (
                Line2D([], [], marker="v", linestyle="none", mfc="white", color="#4a5568"),
                "below the shown range (drawn on its edge)",
            )
        )
    handles.append(
        (Line2D([], [], color=_RESULT_COLOR, linestyle="--"), f"target: {tuning.target}")
    )
    for key, _name, _, _ in marked:
        if key == "result":
            handles.append(
                (
                    Line2D(
                        [], [], marker="*", markersize=13, linestyle="none", color=_RESULT_COLOR
                    ),
                    "aptune (recommended)",
                )
            )
        else:
            handles.append(
                (
                    Line2D(
                        [],
                        [],
                        marker=_BASELINE_MARKERS.get(key, "P"),
                        linestyle="none",
                        mfc=_BASELINE_FACE,
                        color=_BASELINE_COLOR,
                        markersize=8,
                    ),
                    f"baseline: {BASELINES[key]}",
                )
            )
    fig.legend(
        [h for h, _ in handles],
        [t for _, t in handles],
        loc="outside lower center",
        ncols=2 if n_refused else 4,  # room for the reason
        fontsize=9,
        frameon=False,
    )
