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

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from reports.profile_data import BINS_PER_OCTAVE, Profile, Summary
from reports.profile_frame import (
    EDGE,
    FACE,
    GID_OVERFLOW_NOTE,
    GID_PEAK,
    GID_PEAK_BAR,
    GID_TYPE_RANGE,
    OVERFLOW_COLOR,
    ROW_HEIGHT,
    XLABEL,
    colours,
    drawn_rows,
    finish,
    frame,
    log2,
)

_VIOLIN_SMOOTHING = 0.25  # standard deviation of the smoothing kernel, in powers of two

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


def boxplot(profile: Profile) -> Figure:
    """Box plot per row: quartiles, median, whiskers from the smallest to the largest |value|."""
    fig, ax = frame(profile)
    drawn = drawn_rows(profile)
    stats = []
    for _, _, s in drawn:
        q = [log2(v) for v in (s.min, s.q1, s.median, s.q3, s.max)]
        stats.append({"whislo": q[0], "q1": q[1], "med": q[2], "q3": q[3], "whishi": q[4]})
    if drawn:
        parts = ax.bxp(
            stats,
            [i for i, _, _ in drawn],
            widths=ROW_HEIGHT * 0.75,
            orientation="horizontal",
            patch_artist=True,
            showfliers=False,
            manage_ticks=False,
            zorder=2,
            medianprops={"color": "black", "linewidth": 1.6},
        )
        for k, (_, row, _) in enumerate(drawn):
            face, edge = colours(row)
            parts["boxes"][k].set(facecolor=face, edgecolor=edge)
            for line in (*parts["whiskers"][2 * k : 2 * k + 2], *parts["caps"][2 * k : 2 * k + 2]):
                line.set_color(edge)
    handles = [
        (Patch(facecolor=FACE, edgecolor=EDGE), "box: 25 % to 75 % of the values"),
        (Line2D([], [], color="black", linewidth=1.6), "median"),
        (Line2D([], [], color=EDGE), "whiskers: smallest to largest |value|"),
    ]
    return finish(fig, ax, profile, handles)


def histogram(profile: Profile) -> Figure:
    """Histogram per row: the share of values in each power of two, scaled to the row."""
    fig, ax = frame(profile)
    for i, row, s in drawn_rows(profile):
        k, counts = s.octaves()
        keep = counts > 0
        # A bin holding a single value among thousands stays visible.
        heights = np.maximum(counts[keep] / counts.max(), 0.06) * ROW_HEIGHT
        face, edge = colours(row)
        # The y axis points down, so a bar that grows upwards has a negative height.
        ax.bar(
            k[keep],
            -heights,
            width=1.0,
            bottom=i + ROW_HEIGHT / 2,
            align="edge",
            color=face,
            edgecolor=edge,
            linewidth=0.8,
            zorder=2,
        )
    handles = [
        (
            Patch(facecolor=FACE, edgecolor=EDGE),
            "share of the values in each power of two (tallest bar = row height)",
        )
    ]
    return finish(fig, ax, profile, handles)


def peaks(profile: Profile) -> Figure:
    """Bar per row from the left edge to the largest |value| before the cast (``row.peak``).

    For rows whose distribution is unknown (``aptune check``'s cast points); rows without a
    peak, or whose values were all zero, are labelled instead.
    """
    fig, ax = frame(profile, zero_notes=False)
    lo = ax.get_xlim()[0]
    for i, row in enumerate(profile.rows):
        if not row.peak:
            ax.text(lo + 0.2, i, "no non-zero value", va="center", fontsize=8, style="italic")
            continue
        face, edge = colours(row)
        ax.barh(
            i,
            log2(row.peak) - lo,
            left=lo,
            height=ROW_HEIGHT * 0.6,
            color=face,
            edgecolor=edge,
            linewidth=0.8,
            zorder=2,
            gid=GID_PEAK_BAR,
        )
    handles = [(Patch(facecolor=FACE, edgecolor=EDGE), "largest |value| before the cast")]
    return finish(fig, ax, profile, handles, crosses=False)


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
    lo, hi = log2(s.min), log2(s.max)
    if hi - lo < 0.1:  # one value (or nearly): a narrow lens instead of a zero-width violin
        lo, hi = lo - 0.05, hi + 0.05
    coords = np.linspace(lo, hi, 200)
    return coords, np.interp(coords, centres, smooth)


def violinplot(profile: Profile) -> Figure:
    """Violin per row: density of log2|value|, quartiles as a bar, the median as a dot."""
    fig, ax = frame(profile)
    drawn = drawn_rows(profile)
    stats = []
    for _, _, s in drawn:
        coords, vals = _density(s)
        stats.append(
            {
                "coords": coords,
                "vals": vals,
                "mean": log2(s.median),  # not drawn (showmeans=False)
                "median": log2(s.median),
                "min": log2(s.min),
                "max": log2(s.max),
            }
        )
    if drawn:
        parts = ax.violin(
            stats,
            [i for i, _, _ in drawn],
            orientation="horizontal",
            widths=ROW_HEIGHT * 1.1,
            showmeans=False,
            showextrema=False,
            showmedians=False,
        )
        for body, (i, row, s) in zip(parts["bodies"], drawn, strict=True):
            face, edge = colours(row)
            body.set(facecolor=face, edgecolor=edge, alpha=1.0, linewidth=0.8, zorder=2)
            ax.plot(
                [log2(s.q1), log2(s.q3)],
                [i, i],
                color="#222222",
                linewidth=4,
                solid_capstyle="butt",
                zorder=3,
            )
            ax.plot(
                [log2(s.median)],
                [i],
                marker="o",
                markersize=4.5,
                color="white",
                markeredgecolor="#222222",
                markeredgewidth=0.8,
                zorder=3.5,
            )
    handles = [
        (Patch(facecolor=FACE, edgecolor=EDGE), "density of the values (smallest to largest)"),
        (Line2D([], [], color="#222222", linewidth=4), "25 % to 75 % of the values"),
        (
            Line2D([], [], marker="o", color="white", markeredgecolor="#222222", linestyle="none"),
            "median",
        ),
    ]
    return finish(fig, ax, profile, handles)


PLOTS: dict[str, Callable[[Profile], Figure]] = {
    "boxplot": boxplot,
    "histogram": histogram,
    "violinplot": violinplot,
}
