"""``aptune profile``: hls4ml-style profiling plots of weights and activations.

Writes ``weights.<fmt>`` and, with ``--data``, ``activations.<fmt>`` into the output folder,
prints their paths and one line per variable whose values overflow its configured type.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from reports.profiling import PLOT_KINDS
from tuner.commands.emulate import (
    add_backend_argument,
    add_io_type_argument,
    backend_of,
    io_type_of,
)

__all__ = ["register", "run"]

FORMATS = ("png", "svg")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``profile`` subcommand."""
    p = subparsers.add_parser(
        "profile",
        help="plot weight and activation ranges against the configured types",
        description=(
            "Plot the distribution of every layer's weights, biases and (given data) outputs "
            "on a log2 axis, like hls4ml's numerical profiling. Given an hls4ml config, a grey "
            "box shows each variable's configured type (LSB to largest value) and variables "
            "that overflow are marked red. No HLS compiler needed: activations come from "
            "float Keras, or from aptune's emulator when a config is given."
        ),
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help=".keras, full-model .h5, Keras JSON (weights .h5 beside it) or an hls4ml project "
        "YAML (which also serves as the config)",
    )
    p.add_argument(
        "--data",
        metavar="X",
        help="input samples (.npy, .npz, .dat or .csv); adds the activations figure",
    )
    p.add_argument(
        "-c",
        "--config",
        metavar="CFG",
        help="hls4ml config YAML (HLSConfig or a project file): draw its types as grey boxes",
    )
    add_backend_argument(p)
    add_io_type_argument(p)
    p.add_argument("--plot", choices=PLOT_KINDS, default="boxplot", help="default: boxplot")
    p.add_argument(
        "-o", "--output", metavar="DIR", type=Path, default=Path(), help="default: current folder"
    )
    p.add_argument("--format", choices=FORMATS, default="png", help="default: png")
    p.add_argument(
        "--json", action="store_true", help="print the figures' paths and profiles as JSON"
    )
    p.set_defaults(run=run)


def _save(fig: Any, path: Path, fmt: str) -> Path:
    """Render ``fig`` and write it atomically (a reader never sees half a file)."""
    import matplotlib

    from emulation.io.atomic_files import atomic_write_bytes

    buffer = io.BytesIO()
    # Real text in SVG (searchable, editable) instead of glyph outlines.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=150)
    return atomic_write_bytes(path, buffer.getvalue())


def _overflow_lines(profile: Any) -> list[str]:
    lines = []
    for row in profile.overflowing():
        s = row.summary
        if row.overflows or (row.overflows is None and not row.cast_overflows):
            largest = row.peak if row.peak is not None else (s.max if s is not None else 0.0)
            count = f"{row.overflows} of {row.size}" if row.overflows is not None else "some of"
            lines.append(
                f"{profile.kind} {row.name}: {count} values overflow {row.type} "
                f"(largest |value| {largest:.6g}, type max {row.type.max:.6g})"
            )
        for name, count in sorted(row.cast_overflows.items()):
            lines.append(f"{profile.kind} {row.name}: {count} values overflow its {name}")
    for point, count in sorted(profile.other_overflows.items()):
        lines.append(f"{profile.kind} {point}: {count} values overflow")  # e.g. the input
    return lines


def run(args: argparse.Namespace) -> int:
    """Load, profile, draw, write; print the paths and the overflowing variables."""
    from emulation.config import read_config
    from emulation.errors import DataError
    from emulation.io import keras_files as keras_io
    from emulation.io.data_files import load_data
    from reports.profiling import plot_profile
    from tuner.numerical_profile import activations_profile, weights_profile

    target = {"backend": backend_of(args), "io_type": io_type_of(args)}
    model, project_config = keras_io.load(args.model)
    config = read_config(args.config) if args.config else project_config
    profiles = [weights_profile(model, config, **target)]
    if args.data:
        if isinstance(model.input_shape, list):
            raise DataError(
                f"{args.model} has {len(model.input_shape)} inputs; profiling activations "
                "supports one input only: drop --data"
            )
        X = load_data(args.data, expected_shape=model.input_shape)
        profiles.append(activations_profile(model, X, config, **target))
    from emulation.io.atomic_files import prepare_folder

    prepare_folder(args.output)
    written = []
    for profile in profiles:
        fig = plot_profile(profile, args.plot)
        written.append(_save(fig, args.output / f"{profile.kind}.{args.format}", args.format))
    if args.json:
        report = {
            "figures": [str(p) for p in written],
            "profiles": [p.to_dict() for p in profiles],
        }
        print(json.dumps(report, indent=2))
        return 0
    for path in written:
        print(path)
    lines = [line for p in profiles for line in _overflow_lines(p)]
    for line in lines:
        print(line)
    if config is not None and not lines:
        print("no variable overflows its configured type")
    return 0
