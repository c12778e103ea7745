"""``aptune csim``: check a config against hls4ml's C simulation before synthesis.

Compares float Keras, aptune's emulator and the C simulation (hls4ml's g++ build, cached, or
the vendor's Vivado/Vitis HLS), prints a three-way table and where emulator and C simulation
first differ, and writes ``comparison.json``, ``summary.md`` and ``comparison.png`` into the
output folder. Exit code: 0 when emulator and C simulation agree on every value, 1 when they
differ, 2 on usage errors (bad model, config or data; missing tool).
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from tuner.commands.emulate import (
    add_backend_argument,
    add_model_arguments,
    backend_of,
    load_inputs,
    load_model_and_config,
)

__all__ = ["register", "run"]

TOOLS = ("gxx", "vivado", "vitis")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``csim`` subcommand."""
    p = subparsers.add_parser(
        "csim",
        help="compare float Keras, the emulator and hls4ml's C simulation",
        description=(
            "Build hls4ml's C simulation of the model under the config (g++, cached), run it, "
            "the emulator and float Keras on the data, and report: agreement with float Keras "
            "and accuracy for each, how many emulator and C-simulation values are identical, "
            "the largest difference in LSBs and the first layer where they diverge. Exit 0 "
            "when emulator and C simulation agree on every value, 1 when they differ."
        ),
    )
    add_model_arguments(p)
    add_backend_argument(p)
    p.add_argument(
        "--labels",
        metavar="Y",
        help="true labels (class ids or one-hot rows; same formats as --data): adds accuracy",
    )
    p.add_argument(
        "--output-dir",
        metavar="DIR",
        type=Path,
        default=Path("aptune-csim"),
        help="where to write comparison.json, summary.md and comparison.png (default: aptune-csim)",
    )
    p.add_argument(
        "--hls-tool",
        choices=TOOLS,
        default="gxx",
        help="gxx: hls4ml's C simulation compiled with g++ (default); vivado / vitis: the "
        "vendor's C simulation (vivado_hls / vitis-run on PATH), project in DIR/<tool>-prj",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(run=run)


def _save_png(fig: Any, path: Path) -> Path:
    from emulation.files import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(path, buffer.getvalue())


def run(args: argparse.Namespace) -> int:
    """Load, compare, write the three files, print the table (or JSON); 0 agree, 1 differ."""
    from csim.compare import compare
    from emulation.files import atomic_write_text
    from reports.comparison import comparison_markdown, comparison_table, plot_comparison

    if args.hls_tool != "gxx":
        from csim.hls_tool import find_tool

        find_tool(args.hls_tool)  # before seconds of loading
    from emulation.files import prepare_folder

    prepare_folder(args.output_dir)  # before the C++ is built, not after
    backend = backend_of(args) if args.backend or args.hls_tool == "gxx" else None
    model, config = load_model_and_config(args.model, args.config)
    X = load_inputs(model, args.data)
    out_dir: Path = args.output_dir
    result = compare(
        model,
        config,
        X,
        labels=args.labels,
        hls_tool=args.hls_tool,
        project_dir=out_dir / f"{args.hls_tool}-prj",
        backend=backend,
    )
    data = result.to_dict()
    files = {
        "json": atomic_write_text(out_dir / "comparison.json", json.dumps(data, indent=1) + "\n"),
        "summary": atomic_write_text(out_dir / "summary.md", comparison_markdown(data)),
        "figure": _save_png(plot_comparison(data), out_dir / "comparison.png"),
    }
    if args.json:
        print(json.dumps({**data, "files": {k: str(v) for k, v in files.items()}}, indent=1))
    else:
        print(comparison_table(data))
        print(f"wrote {files['json']}, {files['summary'].name}, {files['figure'].name}")
    return 0 if result.agree else 1
