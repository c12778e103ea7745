"""Figures of a tuning run, each drawn from the plain data of ``tuning.json`` alone.

- `plot_precision`: the recommended types per layer as bits around the binary point: one
  horizontal bar per (layer, kind) for the weights, accumulators and results, the integer part
  left of the point (its top bit, the sign, darker), the fractional part right of it; so a bar
  reads like the bits of the number itself.
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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from emulation.fixed import FixedType
from emulation.metrics import Target
from reports.plot_labels import BASELINE_COLOR as _BASELINE_COLOR
from reports.plot_labels import RESULT_COLOR as _RESULT_COLOR
from reports.plot_labels import place_labels

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

Data = Mapping[str, Any]

#: The baselines of tuning.json, in the order they are shown, with their display names.
BASELINES = {
    "hls4ml_default": "hls4ml default",
    "cheapest_uniform": "cheapest uniform",
    "range_rule": "range rule",
}

#: The types the precision chart draws, with their row labels.
KINDS = {"weight_t": "weights", "accum_t": "accumulator", "result_t": "result"}

PHASE_COLORS = {
    "start": "#d53f8c",
    "sensitivity": "#3182ce",
    "combine": "#805ad5",
    "repair": "#dd6b20",
    "descent": "#38a169",
}
_OTHER_PHASE = "#a0aec0"
_SIGN, _INTEGER, _FRACTION = "#1f3f66", "#3b7dc4", "#9ecae1"
_BASELINE_MARKERS = {"hls4ml_default": "s", "cheapest_uniform": "D", "range_rule": "^"}
_BASELINE_FACE = "#fefcbf"

# Width of one monospace character at 8.5 pt, and of the precision chart's axes, in inches.
_MONO_CHAR_INCHES = 0.6 * 8.5 / 72
_AXES_INCHES = 8.2

GID_BITS = "bits"  # prefix: "bits:<layer>.<type>:<sign|integer|fraction>"
GID_CANDIDATES = "candidates"  # prefix: "candidates:<phase>"
GID_BASELINE = "baseline"  # prefix: "baseline:<key>"
GID_RESULT = "result"
GID_TARGET = "target"


# ---------------------------------------------------------------------------- plain data
def layer_order(tuning: Data) -> list[str]:
    """Layer names in execution order, as far as the record tells it.

    ``ranges`` and ``overflows`` are written in execution order; ``types`` is sorted by name, so
    its layers only fill in the ones missing from the others.
    """
    result = tuning.get("result") or {}
    sources: list[Iterable[str]] = [
        (tuning.get("ranges") or {}).get("max_abs") or {},
        result.get("overflows") or {},
        [lay["layer"] for lay in (result.get("cost") or {}).get("layers") or []],
        sorted(result.get("types") or result.get("best_types") or {}),
    ]
    order: list[str] = []
    for names in sources:
        for name in names:
            layer = name.rpartition(".")[0] if "." in name else name
            if layer and layer not in order:
                order.append(layer)
    return order


def _types_of(tuning: Data) -> dict[str, str]:
    result = tuning.get("result") or {}
    return dict(result.get("types") or result.get("best_types") or {})


# -------------------------------------------------------------------------- precision chart
def _bar_rows(tuning: Data) -> list[tuple[str, str, FixedType]]:
    """``(layer, type name, type)`` per bar, layers in execution order, kinds in `KINDS` order."""
    types = _types_of(tuning)
    rows = []
    for layer in layer_order(tuning):
        for kind in KINDS:
            text = types.get(f"{layer}.{kind}")
            if text is not None:
                rows.append((layer, kind, FixedType.parse(text)))
    return rows


def _segments(t: FixedType) -> list[tuple[str, float, float]]:
    """``(part, left, right)`` of one type's bar, x = -position of the bit above the point.

    Bit k (worth 2^k) occupies x in [-(k+1), -k]: integer bits left of 0, fractional right.
    The bar spans [-I, F]; a signed type's top bit, at [-I, -I + 1], is the sign.
    """
    lo, hi = -t.integer, t.fractional
    parts = []
    start = lo
    if t.signed:
        parts.append(("sign", lo, lo + 1))
        start = lo + 1
    if start < min(0, hi):
        parts.append(("integer", start, min(0, hi)))
    if max(start, 0) < hi:
        parts.append(("fraction", max(start, 0), hi))
    return parts


def _short(t: FixedType) -> str:
    modes = t.to_hls().split(",", 2)[2:]  # the modes after W and I, when not the defaults
    sign = "" if t.signed else "u"
    return f"{sign}<{t.width},{t.integer}{',' + modes[0] if modes else '>'}"


def plot_precision(tuning: Data) -> Figure:
    """Bits of the recommended weights, accumulators and results per layer.

    One bar per (layer, kind) present in ``tuning["result"]["types"]`` (``best_types`` when the
    target was not met); every bar segment has ``gid`` ``"bits:<layer>.<type>:<part>"``.
    """
    rows = _bar_rows(tuning)
    met = (tuning.get("result") or {}).get("met", False)
    n = len(rows)
    fig = Figure(figsize=(11.0, 2.3 + 0.34 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    title = "Recommended precision per layer" if met else "Best candidate's precision per layer"
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.01, ha="left")
    ax.set_title(
        "each bar is one type, drawn as its bits around the binary point"
        + ("" if met else " (this candidate does NOT meet the target)"),
        fontsize=9.5,
        color="#4a5568",
        loc="left",
        pad=16,
    )
    if not rows:
        ax.text(0.5, 0.5, "no types recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    colours = {"sign": _SIGN, "integer": _INTEGER, "fraction": _FRACTION}
    lo = min(-t.integer for _, _, t in rows)
    hi = max(t.fractional for _, _, t in rows)
    for y, (layer, kind, t) in enumerate(rows):
        for part, left, right in _segments(t):
            ax.barh(
                y,
                right - left,
                left=left,
                height=0.72,
                color=colours[part],
                edgecolor="white",
                linewidth=0.6,
                gid=f"{GID_BITS}:{layer}.{kind}:{part}",
            )
        ax.text(
            t.fractional + 0.25,
            y,
            f"{t.to_hls()}",
            va="center",
            ha="left",
            fontsize=8.5,
            family="monospace",
            color="#2d3748",
        )
    # Room on the right for each type's name, which starts just right of its own bar: a name
    # of a inches on an axes of _AXES_INCHES spanning R - L bits ends at f + 0.25 + a/A (R - L),
    # so the right limit R must reach (f + 0.25 - k L) / (1 - k) with k = a / A, for every bar.
    left = min(lo, 0) - 0.7
    right = max(hi, 0) + 0.7
    for _, _, t in rows:
        k = min(len(t.to_hls()) * _MONO_CHAR_INCHES / _AXES_INCHES, 0.8)
        right = max(right, (t.fractional + 0.25 - k * left) / (1 - k) + 0.3)
    ax.set_xlim(left, right)
    ax.set_ylim(n - 0.5, -0.5)
    ax.axvline(0, color="#1a202c", linewidth=1.4, zorder=3)
    ax.text(
        0,
        1.0,
        "binary point",
        ha="center",
        va="bottom",
        fontsize=8.5,
        transform=ax.get_xaxis_transform(),
    )
    # Two-level row labels: the kind beside each bar, the layer name once per group.
    ax.set_yticks(range(n), [KINDS[kind] for _, kind, _ in rows], fontsize=9)
    ax.yaxis.remove_overlapping_locs = False  # a group's centre may sit on one of its rows
    groups: dict[str, list[int]] = {}
    for y, (layer, _, _) in enumerate(rows):
        groups.setdefault(layer, []).append(y)
    ax.set_yticks(
        [float(np.mean(ys)) for ys in groups.values()], list(groups), minor=True, fontsize=10
    )
    ax.tick_params(axis="y", which="minor", length=0, pad=82)
    for label in ax.get_yticklabels(minor=True):
        label.set_fontweight("bold")
    for ys in list(groups.values())[1:]:
        ax.axhline(ys[0] - 0.5, color="#cbd5e0", linewidth=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{abs(int(x))}"))
    ax.set_xlabel("bits: \u2190 integer part (sign included)  |  fractional part \u2192")
    ax.grid(axis="x", color="#edf2f7", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(
        [Patch(color=_SIGN), Patch(color=_INTEGER), Patch(color=_FRACTION)],
        ["sign bit", "integer bits", "fractional bits"],
        loc="outside lower center",
        ncols=3,
        fontsize=9,
        frameon=False,
    )
    return fig


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


def _marked_points(tuning: Data) -> list[tuple[str, str, float, float]]:
    """``(key, label, cost, metric)`` of the baselines that exist and of the result."""
    out = []
    baselines = tuning.get("baselines") or {}
    for key, name in BASELINES.items():
        entry = baselines.get(key)
        if entry:
            out.append((key, entry.get("name") or name, entry["objective"], _cal(entry)))
    result = tuning.get("result") or {}
    if result.get("met") and "objective" in result:
        out.append(("result", "aptune (recommended)", result["objective"], _cal(result)))
    return out


def _cal(entry: Data) -> float:
    return float(entry.get("metric_calibration", float("nan")))


def _short_baseline(key: str, name: str) -> str:
    if key == "hls4ml_default":
        return "hls4ml default"
    return name


def plot_tradeoff(tuning: Data) -> Figure:
    """Metric (calibration data) against cost for every candidate, baselines and the result.

    One scatter collection per phase (``gid`` ``"candidates:<phase>"``), together one point per
    candidate; points outside the shown metric range are drawn on its lower edge as
    downward triangles. Baselines have ``gid`` ``"baseline:<key>"``, the result ``"result"``,
    the target line ``"target"``.
    """
    target = Target.parse(tuning.get("target"))
    candidates = list(tuning.get("candidates") or [])
    marked = _marked_points(tuning)
    objective = str(tuning.get("objective", "cost"))
    fig = Figure(figsize=(11.0, 6.4), layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle(
        f"{target.title} against cost: every evaluated candidate",
        fontsize=13,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    split = tuning.get("split") or {}
    n_refused = sum(bool(c.get("refused")) for c in candidates)
    result = tuning.get("result") or {}
    ax.set_title(
        f"{len(candidates)} candidates; {target.metric} measured on the "
        f"{split.get('calibration', '?')} calibration samples the search used"
        + (f"; {n_refused} met the metric but were refused" if n_refused else "")
        + ("" if result.get("met") or not result.get("reason") else f"\n{result['reason']}"),
        fontsize=9.5,
        color="#4a5568",
        loc="left",
    )
    metrics = [float(c["metric"]) for c in candidates] + [m for *_, m in marked]
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
    phases = list(dict.fromkeys(c["phase"] for c in candidates))
    for phase in phases:
        group = [c for c in candidates if c["phase"] == phase]
        x = np.array([float(c["cost"]) for c in group])
        y, below = shown(np.array([float(c["metric"]) for c in group]))
        met = np.array([bool(c["met"]) for c in group])
        refused = np.array([bool(c.get("refused")) for c in group])
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
    costs = [float(c["cost"]) for c in candidates] + [c for _, _, c, _ in marked]
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


def refusal_reason(candidates: Sequence[Data]) -> tuple[int, str]:
    """How many candidates were refused, and the most common reason (shortened)."""
    reasons = [str(c["refused"]) for c in candidates if c.get("refused")]
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
    fig: Figure, tuning: Data, phases: Sequence[str], marked: Sequence[tuple], clipped: bool
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
    n_refused, reason = refusal_reason(tuning.get("candidates") or [])
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
        (Line2D([], [], color=_RESULT_COLOR, linestyle="--"), f"target: {tuning.get('target')}")
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
