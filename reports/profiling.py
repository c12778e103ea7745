"""Numerical profiles as figures: `plot_profile` draws a `Profile` from its data alone.

hls4ml's ``numerical`` profiling (one row per weight, bias or layer output; its distribution
on a log2 axis; a grey box for the configured type; red for overflows) is split along the
layering: the data classes are in :mod:`reports.profile_data`, the figures in
:mod:`reports.plots`, and the computation from Keras and the emulator (`weights_profile`,
`activations_profile`, `numerical`) in ``tuner.numerical_profile``, so that ``reports`` draws
plain data and never runs a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulation.errors import ConfigError
from reports.profile_data import BINS_PER_OCTAVE, Profile, Row, Summary, summarize

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "BINS_PER_OCTAVE",
    "PLOT_KINDS",
    "Profile",
    "Row",
    "Summary",
    "check_plot",
    "plot_profile",
    "summarize",
]


#: The plot kinds `plot_profile` (and ``tuner.numerical_profile.numerical``) draw.
PLOT_KINDS = ("boxplot", "histogram", "violinplot")


def check_plot(plot: str) -> None:
    """Refuse a plot kind that is not one of `PLOT_KINDS` (ConfigError listing them)."""
    if plot not in PLOT_KINDS:
        raise ConfigError(f"unknown plot kind {plot!r}; expected one of {', '.join(PLOT_KINDS)}")


def plot_profile(profile: Profile, plot: str = "boxplot") -> Figure:
    """Draw ``profile`` as a ``"boxplot"``, ``"histogram"`` or ``"violinplot"`` figure."""
    from reports import plots

    check_plot(plot)
    return plots.PLOTS[plot](profile)
