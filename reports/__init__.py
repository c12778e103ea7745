"""aptune: reports, figures and tables drawn from plain result data.

`reports.profile_data` holds the data of hls4ml-style numerical profiling (`Profile`, `Row`,
`Summary`) and `reports.profiling` / `reports.plots` its figures, drawn from that data alone;
the data is computed from Keras and the emulator in ``tuner.numerical_profile``. The tuning
report reads an `emulation.tuning_record.TuningRecord`. ``reports`` uses `emulation`, never
`tuner`.
"""

from reports.profiling import PLOT_KINDS, Profile, Row, Summary, plot_profile

__all__ = ["PLOT_KINDS", "Profile", "Row", "Summary", "plot_profile"]
