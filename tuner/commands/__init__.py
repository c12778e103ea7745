"""Subcommands of ``aptune``: each module exposes ``register(subparsers)``.

A subcommand sets ``run`` (a function of the parsed arguments returning the exit code) as its
parser default. Heavy imports (TensorFlow, hls4ml) happen inside ``run``, so ``aptune --help``
stays fast.
"""

from __future__ import annotations

from tuner.commands import check, csim, emulate, profile, report, tune

# in the order `aptune --help` lists them: the main job first
REGISTRARS: list = [
    tune.register,
    csim.register,
    emulate.register,
    profile.register,
    report.register,
    check.register,
]
