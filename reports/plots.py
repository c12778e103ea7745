"""Profile figures: one function per plot kind, each drawn from a `Profile` alone.

Every figure has one row per variable, top to bottom in layer order, the names on the y axis,
and log2 of the absolute value on the x axis (ticks labelled as powers of two). Around the data:

- a grey box (``gid == GID_TYPE_RANGE``) behind each row that has a configured type, from the
  type's LSB to its largest value;
- for a row whose values overflow its type: the row's label, box, violin or bars in red, a note
  ``"N overflowed"`` beside the row (``gid == GID_OVERFLOW_NOTE``) and, when the largest value
  before the cast lies beyond the values shown (emulated activations), a red cross there
  (``gid == GID_PEAK``);
- a dashed line at 1 (2**0), and a legend below the axes that explains all of it.

Peak plots (`peaks`, for cast points whose distribution is not kept, only their largest value
before the cast: ``aptune check``) show one bar per row from the left edge to that largest
|value| (``gid == GID_PEAK_BAR``): a bar that ends right of its grey box overflowed, one that ends
left of it is below the LSB.

Box plots show the median and quartiles; the whiskers run from the smallest to the largest
non-zero |value| (like hls4ml: for choosing a type the extremes matter, not 1.5 IQR). Histograms
show, per row, the share of values in each power of two, scaled so the row's largest bar fills
the row. Violins show the density of log2|value|, smoothed from the profile's histogram over a
quarter of a power of two, with the quartiles as a thick bar and the median as a white dot.

Figures are built with matplotlib's object API (no pyplot, no global state) and never modify
the profile they draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reports.profiling import BINS_PER_OCTAVE, Profile, Row, Summary

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = [
    "GID_OVERFLOW_NOTE",
    "GID_PEAK",
    "GID_PEAK_BAR",
    "GID_TYPE_RANGE",
    "OVERFLOW_COLOR",
    "PLOTS",
    "XLABEL",
    "boxplot",
    "histogram",
    "peaks",
    "violinplot",
]

GID_TYPE_RANGE = "type-range"
GID_OVERFLOW_NOTE = "overflow-note"
GID_PEAK = "peak-before-cast"
GID_PEAK_BAR = "peak-bar"
XLABEL = "|value| (log2 scale; zeros not shown)"

_FACE = "#8fb3d9"
_EDGE = "#2b5a8a"
_RED_FACE = "#f2a0a0"
OVERFLOW_COLOR = "#c62828"
_GREY = "#d9d9d9"
_ROW_HEIGHT = 0.7
_VIOLIN_SMOOTHING = 0.25  # standard deviation of the smoothing kernel, in powers of two


def _log2(x: float) -> float:
    return math.log2(x)


def _type_span(row: Row) -> tuple[float, float] | None:
    """log2 of the type's LSB and of the largest |value| it holds (None without a type)."""
    t = row.type
    if t is None:
        return None
    top = t.max if t.max >= t.lsb else abs(t.min)  # ap_fixed<1,1> holds only -1 and 0
    return _log2(t.lsb), _log2(top)


def _x_range(profile: Profile) -> tuple[float, float]:
    ends: list[float] = []
    for row in profile.rows:
        if row.summary is not None:
            ends += [_log2(row.summary.min), _log2(row.summary.max)]
        span = _type_span(row)
        if span is not None:
            ends += list(span)
        if row.peak:
            ends.append(_log2(row.peak))
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


def _frame(profile: Profile, *, zero_notes: bool = True) -> tuple[Figure, Axes]:
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
                [_log2(row.peak)],
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


def _drawn(profile: Profile) -> list[tuple[int, Row, Summary]]:
    """``(position, row, summary)`` of the rows that have non-zero values to draw."""
    return [(i, r, r.summary) for i, r in enumerate(profile.rows) if r.summary is not None]


def _colours(row: Row) -> tuple[str, str]:
    return (_RED_FACE, OVERFLOW_COLOR) if row.overflowed else (_FACE, _EDGE)


def _finish(
    fig: Figure,
    ax: Axes,
    profile: Profile,
    handles: list[tuple[Artist, str]],
    crosses: bool = True,
) -> Figure:
    _mark_overflows(ax, profile, crosses)
    _legend(fig, profile, handles, crosses)
    return fig


def boxplot(profile: Profile) -> Figure:
    """Box plot per row: quartiles, median, whiskers from the smallest to the largest |value|."""
    fig, ax = _frame(profile)
    drawn = _drawn(profile)
    stats = []
    for _, _, s in drawn:
        q = [_log2(v) for v in (s.min, s.q1, s.median, s.q3, s.max)]
        stats.append({"whislo": q[0], "q1": q[1], "med": q[2], "q3": q[3], "whishi": q[4]})
    if drawn:
        parts = ax.bxp(
            stats,
            [i for i, _, _ in drawn],
            widths=_ROW_HEIGHT * 0.75,
            orientation="horizontal",
            patch_artist=True,
            showfliers=False,
            manage_ticks=False,
            zorder=2,
            medianprops={"color": "black", "linewidth": 1.6},
        )
        for k, (_, row, _) in enumerate(drawn):
            face, edge = _colours(row)
            parts["boxes"][k].set(facecolor=face, edgecolor=edge)
            for line in (*parts["whiskers"][2 * k : 2 * k + 2], *parts["caps"][2 * k : 2 * k + 2]):
                line.set_color(edge)
    handles = [
        (Patch(facecolor=_FACE, edgecolor=_EDGE), "box: 25 % to 75 % of the values"),
        (Line2D([], [], color="black", linewidth=1.6), "median"),
        (Line2D([], [], color=_EDGE), "whiskers: smallest to largest |value|"),
    ]
    return _finish(fig, ax, profile, handles)


def histogram(profile: Profile) -> Figure:
    """Histogram per row: the share of values in each power of two, scaled to the row."""
    fig, ax = _frame(profile)
    for i, row, s in _drawn(profile):
        k, counts = s.octaves()
        keep = counts > 0
        # A bin holding a single value among thousands stays visible.
        heights = np.maximum(counts[keep] / counts.max(), 0.06) * _ROW_HEIGHT
        face, edge = _colours(row)
        # The y axis points down, so a bar that grows upwards has a negative height.
        ax.bar(
            k[keep],
            -heights,
            width=1.0,
            bottom=i + _ROW_HEIGHT / 2,
            align="edge",
            color=face,
            edgecolor=edge,
            linewidth=0.8,
            zorder=2,
        )
    handles = [
        (
            Patch(facecolor=_FACE, edgecolor=_EDGE),
            "share of the values in each power of two (tallest bar = row height)",
        )
    ]
    return _finish(fig, ax, profile, handles)


def peaks(profile: Profile) -> Figure:
    """Bar per row from the left edge to the largest |value| before the cast (``row.peak``).

    For rows whose distribution is unknown (``aptune check``'s cast points); rows without a
    peak, or whose values were all zero, are labelled instead.
    """
    fig, ax = _frame(profile, zero_notes=False)
    lo = ax.get_xlim()[0]
    for i, row in enumerate(profile.rows):
        if not row.peak:
            ax.text(lo + 0.2, i, "no non-zero value", va="center", fontsize=8, style="italic")
            continue
        face, edge = _colours(row)
        ax.barh(
            i,
            _log2(row.peak) - lo,
            left=lo,
            height=_ROW_HEIGHT * 0.6,
            color=face,
            edgecolor=edge,
            linewidth=0.8,
            zorder=2,
            gid=GID_PEAK_BAR,
        )
    handles = [(Patch(facecolor=_FACE, edgecolor=_EDGE), "largest |value| before the cast")]
    return _finish(fig, ax, profile, handles, crosses=False)


def _density(s: Summary) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed density of log2|value| over [log2 min, log2 max], from the fine histogram."""
    width = 1.0 / BINS_PER_OCTAVE
    sigma_bins = _VIOLIN_SMOOTHING / width
    pad = math.ceil(4 * sigma_bins)
    counts = np.concatenate([np.zeros(pad), np.asarray(s.hist_counts, float), np.zeros(pad)])
    centres = (s.hist_start - pad + np.arange(len(counts)) + 0.5) * width
    kernel_x = np.arange(-pad, pad + 1)
    kernel = np.exp(-0.5 * (kernel_x / sigma_bins) ** 2)
    smooth = np.convolve(counts, kernel / kernel.sum(), mode="same")
    lo, hi = _log2(s.min), _log2(s.max)
    if hi - lo < 0.1:  # one value (or nearly): a narrow lens instead of a zero-width violin
        lo, hi = lo - 0.05, hi + 0.05
    coords = np.linspace(lo, hi, 200)
    return coords, np.interp(coords, centres, smooth)


def violinplot(profile: Profile) -> Figure:
    """Violin per row: density of log2|value|, quartiles as a bar, the median as a dot."""
    fig, ax = _frame(profile)
    drawn = _drawn(profile)
    stats = []
    for _, _, s in drawn:
        coords, vals = _density(s)
        stats.append(
            {
                "coords": coords,
                "vals": vals,
                "mean": _log2(s.median),  # not drawn (showmeans=False)
                "median": _log2(s.median),
                "min": _log2(s.min),
                "max": _log2(s.max),
            }
        )
    if drawn:
        parts = ax.violin(
            stats,
            [i for i, _, _ in drawn],
            orientation="horizontal",
            widths=_ROW_HEIGHT * 1.1,
            showmeans=False,
            showextrema=False,
            showmedians=False,
        )
        for body, (i, row, s) in zip(parts["bodies"], drawn, strict=True):
            face, edge = _colours(row)
            body.set(facecolor=face, edgecolor=edge, alpha=1.0, linewidth=0.8, zorder=2)
            ax.plot(
                [_log2(s.q1), _log2(s.q3)],
                [i, i],
                color="#222222",
                linewidth=4,
                solid_capstyle="butt",
                zorder=3,
            )
            ax.plot(
                [_log2(s.median)],
                [i],
                marker="o",
                markersize=4.5,
                color="white",
                markeredgecolor="#222222",
                markeredgewidth=0.8,
                zorder=3.5,
            )
    handles = [
        (Patch(facecolor=_FACE, edgecolor=_EDGE), "density of the values (smallest to largest)"),
        (Line2D([], [], color="#222222", linewidth=4), "25 % to 75 % of the values"),
        (
            Line2D([], [], marker="o", color="white", markeredgecolor="#222222", linestyle="none"),
            "median",
        ),
    ]
    return _finish(fig, ax, profile, handles)


PLOTS: dict[str, Callable[[Profile], Figure]] = {
    "boxplot": boxplot,
    "histogram": histogram,
    "violinplot": violinplot,
}
