"""The precision chart of a tuning run: the recommended types per layer as bits.

`plot_precision` draws one horizontal bar per (layer, kind) for the weights, accumulators and
results, the integer part left of the binary point (its top bit, the sign, darker), the
fractional part right of it; so a bar reads like the bits of the number itself. Drawn from the
plain data of ``tuning.json`` alone, with the object API, never modifying its input.
`layer_order` and `KINDS` are shared with :mod:`reports.tuning_plots` and :mod:`reports.tuning`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from emulation.fixed import FixedType
from emulation.tuning_record import TuningRecord

__all__ = ["GID_BITS", "KINDS", "layer_order", "plot_precision"]

#: The types the precision chart draws, with their row labels.
KINDS = {"weight_t": "weights", "accum_t": "accumulator", "result_t": "result"}

_SIGN, _INTEGER, _FRACTION = "#1f3f66", "#3b7dc4", "#9ecae1"

# Width of one monospace character at 8.5 pt, and of the precision chart's axes, in inches.
_MONO_CHAR_INCHES = 0.6 * 8.5 / 72
_AXES_INCHES = 8.2

GID_BITS = "bits"  # prefix: "bits:<layer>.<type>:<sign|integer|fraction>"


# ---------------------------------------------------------------------------- plain data
def layer_order(tuning: TuningRecord | Any) -> list[str]:
    """Layer names in execution order, as far as the record tells it.

    ``ranges`` and ``overflows`` are written in execution order; ``types`` is sorted by name, so
    its layers only fill in the ones missing from the others.
    """
    tuning = TuningRecord.from_json(tuning)
    result = tuning.final
    sources: list[Iterable[str]] = [
        tuning.ranges.max_abs,
        result.overflows or {},
        [lay.layer for lay in (result.cost.layers if result.cost else ())],
        sorted(result.shown_types),
    ]
    order: list[str] = []
    for names in sources:
        for name in names:
            layer = name.rpartition(".")[0] if "." in name else name
            if layer and layer not in order:
                order.append(layer)
    return order


# -------------------------------------------------------------------------- precision chart
def _bar_rows(tuning: TuningRecord) -> list[tuple[str, str, FixedType]]:
    """``(layer, type name, type)`` per bar, layers in execution order, kinds in `KINDS` order."""
    types = tuning.final.shown_types
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


def plot_precision(tuning: TuningRecord | Any) -> Figure:
    """Bits of the recommended weights, accumulators and results per layer.

    One bar per (layer, kind) present in ``tuning.final.types`` (``best_types`` when the
    target was not met); every bar segment has ``gid`` ``"bits:<layer>.<type>:<part>"``.
    """
    tuning = TuningRecord.from_json(tuning)
    rows = _bar_rows(tuning)
    met = tuning.final.met
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
