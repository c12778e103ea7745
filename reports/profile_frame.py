"""The frame every profile figure shares: axes, grey type boxes, overflow marks, legend.

The plot kinds in :mod:`reports.plots` draw their rows into `frame`'s axes and close with
`finish`; the colours and artist ids (``gid``) here are what tests and reports look for.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reports.profile_data import Profile, Row, Summary

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = [
    "EDGE",
    "FACE",
    "GID_OVERFLOW_NOTE",
    "GID_PEAK",
    "GID_PEAK_BAR",
    "GID_TYPE_RANGE",
    "OVERFLOW_COLOR",
    "ROW_HEIGHT",
    "XLABEL",
    "colours",
    "drawn_rows",
    "finish",
    "frame",
    "log2",
]

GID_TYPE_RANGE = "type-range"
GID_OVERFLOW_NOTE = "overflow-note"
GID_PEAK = "peak-before-cast"
GID_PEAK_BAR = "peak-bar"
XLABEL = "|value| (log2 scale; zeros not shown)"

FACE = "#8fb3d9"
EDGE = "#2b5a8a"
_RED_FACE = "#f2a0a0"
OVERFLOW_COLOR = "#c62828"
_GREY = "#d9d9d9"
ROW_HEIGHT = 0.7


def log2(x: float) -> float:
    return math.log2(x)


def _type_span(row: Row) -> tuple[float, float] | None:
    """log2 of the type's LSB and of the largest |value| it holds (None without a type)."""
    t = row.type
    if t is None:
        return None
    top = t.max if t.max >= t.lsb else abs(t.min)  # ap_fixed<1,1> holds only -1 and 0
    return log2(t.lsb), log2(top)


def _x_range(profile: Profile) -> tuple[float, float]:
    ends: list[float] = []
    for row in profile.rows:
        if row.summary is not None:
            ends += [log2(row.summary.min), log2(row.summary.max)]
        span = _type_span(row)
        if span is not None:
            ends += list(span)
        if row.peak:
            ends.append(log2(row.peak))
    if not ends:
        return -1.0, 1.0
    return math.floor(min(ends)) - 0.5, math.ceil(max(ends)) + 0.5


def _power_of_two(k: float, _pos: int) -> str:
    return f"$2^{{{int(k)}}}$" if float(k).is_integer() else ""


def _title(profile: Profile) -> tuple[str, str]:
    if profile.kind == "cast points":
        head = f"Largest |value| at each cast point over {profile.samples} samples"
        what = "before the cast to the point's type, as the emulated C simulation computes it"
    elif profile.kind == "weights":
        head = "Weights and biases"
        what = (
            "float weights of hls4ml's layers, before the cast to their types"
            if profile.source == "emulator"
            else "float Keras weights"
        )
    else:
        head = f"Layer outputs over {profile.samples} samples"
        what = (
            "fixed-point outputs as hls4ml computes them (emulated)"
            if profile.source == "emulator"
            else "float Keras outputs"
        )
    if profile.other_overflows:
        items = sorted(profile.other_overflows.items())
        listed = ", ".join(f"{k} ({v})" for k, v in items[:3])
        more = f" and {len(items) - 3} more" if len(items) > 3 else ""
        what += f"\nalso overflowed: {listed}{more}"
    return head, what


def frame(profile: Profile, *, zero_notes: bool = True) -> tuple[Figure, Axes]:
    """Figure, axes, row labels, x axis and grey type boxes; the data is drawn by the caller.

    ``zero_notes`` labels rows without non-zero values ("all N values are zero").
    """
    n = len(profile.rows)
    extra = 0.25 if profile.other_overflows else 0.0
    fig = Figure(figsize=(9.0, 2.4 + extra + 0.42 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    head, what = _title(profile)
    fig.suptitle(head, fontsize=13, fontweight="bold", x=0.02, ha="left")
    ax.set_title(what, fontsize=9, color="#444444", loc="left")
    lo, hi = _x_range(profile)
    ax.set_xlim(lo, hi)
    ax.set_ylim(n - 0.5, -0.5)  # first row on top
    ax.set_yticks(range(n), [r.name for r in profile.rows])
    for label, row in zip(ax.get_yticklabels(), profile.rows, strict=True):
        if row.overflowed:
            label.set_color(OVERFLOW_COLOR)
            label.set_fontweight("bold")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 4, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(_power_of_two))
    ax.set_xlabel(XLABEL)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.axvline(0.0, color="#888888", linestyle="--", linewidth=1, zorder=1)
    for i, row in enumerate(profile.rows):
        span = _type_span(row)
        if span is not None:
            ax.add_patch(
                Rectangle(
                    (span[0], i - 0.45),
                    span[1] - span[0],
                    0.9,
                    facecolor=_GREY,
                    edgecolor="none",
                    zorder=0.5,
                    gid=GID_TYPE_RANGE,
                    label=f"_type {row.name}",
                )
            )
        if zero_notes and row.summary is None:
            ax.text(
                lo + 0.2,
                i,
                f"all {row.size} values are zero",
                va="center",
                fontsize=8,
                style="italic",
                color="#666666",
            )
    return fig, ax


def _note(row: Row) -> str:
    """``"12 overflowed"``, and ``"240 overflowed in accum_t"`` for the other cast points."""
    parts = []
    if row.overflows:
        parts.append(f"{row.overflows} overflowed")
    elif row.overflows is None and not row.cast_overflows:
        parts.append("exceeds its type")
    parts += [f"{c} overflowed in {name}" for name, c in sorted(row.cast_overflows.items())]
    return "\n".join(parts)


def _peak_drawn(row: Row) -> bool:
    """A red cross is drawn where the cast overflowed and its peak lies beyond the values shown."""
    shown = row.summary.max if row.summary is not None else 0.0
    return bool(row.overflows) and row.peak is not None and row.peak > shown


def _mark_overflows(ax: Axes, profile: Profile, crosses: bool = True) -> None:
    """The red note beside each overflowing row and (``crosses``) the red cross at its peak
    before the cast."""
    for i, row in enumerate(profile.rows):
        if not row.overflowed:
            continue
        ax.text(
            1.01,
            i,
            _note(row),
            transform=ax.get_yaxis_transform(),
            va="center",
            ha="left",
            fontsize=8.5,
            color=OVERFLOW_COLOR,
            fontweight="bold",
            clip_on=False,
            gid=GID_OVERFLOW_NOTE,
        )
        if crosses and _peak_drawn(row):
            ax.plot(
                [log2(row.peak)],
                [i],
                marker="X",
                markersize=9,
                color=OVERFLOW_COLOR,
                linestyle="none",
                zorder=4,
                gid=GID_PEAK,
            )


def _legend(
    fig: Figure, profile: Profile, data_handles: list[tuple[Artist, str]], crosses: bool = True
) -> None:
    handles = list(data_handles)
    if profile.has_types:
        handles.append((Patch(facecolor=_GREY), "range of the configured type (LSB to max)"))
    if profile.overflowing():
        handles.append(
            (
                Patch(facecolor=_RED_FACE, edgecolor=OVERFLOW_COLOR),
                "overflow: values did not fit a type (count at the right)",
            )
        )
    if crosses and any(_peak_drawn(r) for r in profile.rows):
        handles.append(
            (
                Line2D([], [], marker="X", color=OVERFLOW_COLOR, linestyle="none", markersize=8),
                "largest value before the cast",
            )
        )
    handles.append((Line2D([], [], color="#888888", linestyle="--"), "|value| = 1"))
    fig.legend(
        [h for h, _ in handles],
        [t for _, t in handles],
        loc="outside lower center",
        ncols=2,
        fontsize=8.5,
        frameon=False,
    )


def drawn_rows(profile: Profile) -> list[tuple[int, Row, Summary]]:
    """``(position, row, summary)`` of the rows that have non-zero values to draw."""
    return [(i, r, r.summary) for i, r in enumerate(profile.rows) if r.summary is not None]


def colours(row: Row) -> tuple[str, str]:
    return (_RED_FACE, OVERFLOW_COLOR) if row.overflowed else (FACE, EDGE)


def finish(
    fig: Figure,
    ax: Axes,
    profile: Profile,
    handles: list[tuple[Artist, str]],
    crosses: bool = True,
) -> Figure:
    _mark_overflows(ax, profile, crosses)
    _legend(fig, profile, handles, crosses)
    return fig
