"""Reading a profile figure in tests: its rows, red rows, grey type boxes, notes and legend."""

from __future__ import annotations

import io

from matplotlib.colors import same_color
from matplotlib.figure import Figure

from reports.plots import GID_OVERFLOW_NOTE, GID_TYPE_RANGE, OVERFLOW_COLOR

__all__ = ["labels", "legend", "notes", "red_labels", "rendered", "type_boxes"]


def rendered(fig: Figure) -> Figure:
    """Draw the figure (as saving does), so what the tests read is what a file shows."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return fig


def labels(fig: Figure) -> list[str]:
    """The row labels, top to bottom as the axis lists them."""
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def red_labels(fig: Figure) -> list[str]:
    """The row labels drawn in the overflow colour."""
    ticks = fig.axes[0].get_yticklabels()
    return [t.get_text() for t in ticks if same_color(t.get_color(), OVERFLOW_COLOR)]


def type_boxes(fig: Figure) -> list:
    """The grey boxes of the configured types."""
    return [p for p in fig.axes[0].patches if p.get_gid() == GID_TYPE_RANGE]


def notes(fig: Figure) -> list[str]:
    """The overflow notes written on the axes."""
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == GID_OVERFLOW_NOTE]


def legend(fig: Figure) -> list[str]:
    """Every legend entry of the figure."""
    return [t.get_text() for lg in fig.legends for t in lg.get_texts()]
