"""Labels beside marked points of a scatter, each placed where it hides the fewest others."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

__all__ = ["BASELINE_COLOR", "RESULT_COLOR", "place_labels"]

#: Colours of the recommended result and of the baselines (their markers and labels).
RESULT_COLOR = "#c53030"
BASELINE_COLOR = "#1a202c"

# Where a label may go relative to its marker: offset in points, alignment.
_LABEL_SPOTS = [
    (dx * r, dy * r, ha, va)
    for r in (1.0, 2.2, 3.6)
    for dx, dy, ha, va in (
        (10, 10, "left", "bottom"),
        (-10, 10, "right", "bottom"),
        (10, -10, "left", "top"),
        (-10, -10, "right", "top"),
        (0, 14, "center", "bottom"),
        (0, -14, "center", "top"),
        (14, 0, "left", "center"),
        (-14, 0, "right", "center"),
    )
]


def place_labels(fig: Figure, ax: Any, labels: Sequence[tuple]) -> None:
    """Annotate each marked point where its label hides the fewest points and other labels.

    The figure is drawn once first so that constrained layout has fixed the axes; labels are
    kept out of the layout so placing them moves nothing.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not labels:
        return
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    points = np.concatenate(
        [c.get_offsets() for c in ax.collections] + [np.array([[x, y] for x, y, *_ in labels])]
    )
    dots = ax.transData.transform(np.asarray(points, dtype=float))
    taken: list[Any] = []
    for x, y, text, is_result, _key in labels:
        style = {
            "fontsize": 9.5 if is_result else 9,
            "fontweight": "bold" if is_result else "normal",
            "color": RESULT_COLOR if is_result else BASELINE_COLOR,
            "zorder": 6,
            "bbox": {"boxstyle": "round,pad=0.25", "fc": "white", "ec": "#cbd5e0", "lw": 0.6},
            "annotation_clip": False,
        }
        best, best_score = None, math.inf
        for rank, (dx, dy, ha, va) in enumerate(_LABEL_SPOTS):
            ann = ax.annotate(
                text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, **style
            )
            box = ann.get_window_extent(renderer).expanded(1.08, 1.15)
            inside = (
                (dots[:, 0] >= box.x0)
                & (dots[:, 0] <= box.x1)
                & (dots[:, 1] >= box.y0)
                & (dots[:, 1] <= box.y1)
            )
            outside = box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0
            outside = outside or box.y1 > frame.y1
            clash = sum(box.overlaps(t) for t in taken)
            score = 3 * int(inside.sum()) + 40 * clash + 25 * outside + 0.2 * rank
            ann.remove()
            if score < best_score:
                best, best_score = (dx, dy, ha, va), score
        dx, dy, ha, va = best
        far = abs(dx) > 15 or abs(dy) > 15
        ann = ax.annotate(
            text,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            arrowprops={"arrowstyle": "-", "color": "#718096", "lw": 0.8} if far else None,
            **style,
        )
        ann.set_in_layout(False)
        taken.append(ann.get_window_extent(renderer))
