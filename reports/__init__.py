"""aptune: reports, figures and tables drawn from plain result data.

`reports.profiling` holds hls4ml-style numerical profiling (`numerical`, `weights_profile`,
`activations_profile`), `reports.profile_data` the `Profile` data it fills and `reports.plots`
its figures, drawn from that data alone. ``reports`` uses `emulation`, never `tuner`.
"""

from reports.profiling import (
    PLOT_KINDS,
    Profile,
    Row,
    Summary,
    activations_profile,
    numerical,
    plot_profile,
    weights_profile,
)

__all__ = [
    "PLOT_KINDS",
    "Profile",
    "Row",
    "Summary",
    "activations_profile",
    "numerical",
    "plot_profile",
    "weights_profile",
]
