"""``aptune check``: what hls4ml will really do with a config, and what in it will hurt.

Prints the counts per severity, one row per generated layer (every type with its origin:
``*`` set by 'auto', ``.`` the model or hls4ml default, nothing when the config names it), then
the findings with their fixes. With ``--data`` and ``--report DIR`` it also writes the overflow
figures and a page to read them on (`reports.check_report`). Exit 0 when nothing is above a
warning, 1 on an error (or any warning with ``--strict``), 2 when the input itself is bad.
With data, a top-class agreement with float Keras below 99 % is a warning and below 90 % (or
with every output row identical) an error, so a broken config never exits 0.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tuner.commands.emulate import add_backend_argument, add_io_type_argument

__all__ = ["format_result", "register", "run"]

_MARK = {"config": "", "auto": "*", "default": "."}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` subcommand."""
    p = subparsers.add_parser(
        "check",
        help="show what hls4ml will do with a config and what in it will hurt",
        description=(
            "Convert the model with hls4ml (nothing compiled) and report every layer it will "
            "generate with the types it will really use, keys it ignores or replaces, softmax "
            "and weight traps, and with --data the overflows and the agreement with float Keras."
        ),
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help=".keras, full-model .h5, Keras JSON or an hls4ml project YAML (its own config)",
    )
    p.add_argument(
        "-c",
        "--config",
        metavar="CFG",
        help="hls4ml config YAML; default: the project's own, else hls4ml's "
        "config_from_keras_model(granularity='name')",
    )
    p.add_argument("--data", metavar="X", help="input samples (.npy, .npz, .dat, .csv)")
    add_backend_argument(p)
    add_io_type_argument(p)
    p.add_argument(
        "--report",
        metavar="DIR",
        type=Path,
        help="with --data: write check.html, ranges.png (largest |value| at each cast point "
        "against its type), shares.png (share of values that overflow) and check.json into DIR",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.set_defaults(run=run)


def _config(model: Any, model_path: str, config_path: str | None, own: Any) -> Any:
    from emulation.config import read_config

    if config_path:
        return read_config(config_path)
    if own is not None:
        return own
    from emulation.config import default_config

    return default_config(model)


def format_result(result: Any) -> str:
    """The human summary: counts, the layer table, the findings."""
    counts = result.counts()
    lines = [
        f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['note']} note(s)",
        "",
        "types hls4ml will use (* from 'auto', . model/hls4ml default, plain: your config):",
    ]
    for row in result.layers:
        parts = [f"{k}={v['type']}{_MARK[v['source']]}" for k, v in row.types.items()]
        extra = [f"{k}={v}" for k, v in row.table_sizes.items()]
        if row.reuse_factor is not None:
            extra.append(f"{row.strategy} RF={row.reuse_factor}")
        head = f"  {row.name} ({row.kind})"
        if row.input_type:
            head += f" in={row.input_type}"
        lines.append(f"{head}: {' '.join(parts + extra)}")
    if result.data is not None and result.data.get("agreement") is not None:
        lines += ["", f"top-class agreement with float Keras: {result.data['agreement']:.1%}"]
    if result.findings:
        lines.append("")
    for f in result.findings:
        where = f" [{f.layer}]" if f.layer else ""
        lines.append(f"{f.severity.upper()}{where} {f.message}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load, check, (write the report,) print; the exit code follows the worst finding."""
    from emulation.check import check
    from emulation.errors import DataError
    from emulation.io import keras_files as keras_io
    from tuner.commands.emulate import backend_of, io_type_of, load_inputs

    if args.report is not None:  # before seconds of loading and converting
        if not args.data:
            raise DataError("--report draws the overflows measured on data: add --data X")
        if args.report.exists() and not args.report.is_dir():
            raise DataError(f"{args.report} is a file: give a folder for --report")
    backend, io_type = backend_of(args), io_type_of(args)
    model, own = keras_io.load(args.model)
    config = _config(model, args.model, args.config, own)
    X = load_inputs(model, args.data) if args.data else None
    result = check(model, config, X, backend=backend, io_type=io_type)
    files = {}
    if args.report is not None:
        from reports.check_report import write_check_report

        files = write_check_report(result.to_dict(), args.report, Path(args.model).name)
    if args.json:
        data = result.to_dict()
        if files:
            data["files"] = {k: str(v) for k, v in files.items()}
        print(json.dumps(data, indent=2, default=str))
    else:
        print(format_result(result))
        if files:
            page = files["check.html"]
            others = ", ".join(k for k in files if k != "check.html")
            print(f"\nreport: {page} (with {others})")
    worst = result.worst
    if worst == "error" or (args.strict and worst == "warning"):
        return 1
    return 0
