"""``aptune report``: the HTML tuning report and its Markdown summary from a saved tuning.json.

Reads the record that ``aptune tune`` wrote, writes ``report.html`` (self-contained: figures
embedded, no JavaScript) and ``summary.md`` into the output folder, and prints their paths.
Nothing is rerun: every figure comes from the JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from emulation.errors import DataError
from emulation.tuning_record import TuningRecord

__all__ = ["read_tuning", "register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="write the HTML tuning report from a saved tuning.json",
        description=(
            "Turn the tuning.json that 'aptune tune' writes into one self-contained HTML page "
            "(verdict and cost against the baselines, bits per layer, metric against cost for "
            "every candidate, profiles, overflows, C simulation, types) and a short Markdown "
            "summary. Nothing is rerun."
        ),
    )
    p.add_argument("tuning", metavar="TUNING_JSON", type=Path, help="the tuning.json to report")
    p.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        type=Path,
        help="folder for report.html and summary.md (default: 'report' beside TUNING_JSON)",
    )
    p.set_defaults(run=run, uses_keras=False)  # reads tuning.json only


def read_tuning(path: Path) -> TuningRecord:
    """The tuning record in ``path``; `DataError` for a missing, unreadable or wrong file."""
    if not path.exists():
        raise DataError(f"{path} does not exist: give the tuning.json that 'aptune tune' wrote")
    if path.is_dir():
        hint = " (it holds a tuning.json)" if (path / "tuning.json").is_file() else ""
        raise DataError(f"{path} is a folder{hint}: give the tuning.json file itself")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "give the tuning.json that 'aptune tune' wrote"
        ) from None
    return TuningRecord.from_json(data, str(path))


def run(args: argparse.Namespace) -> int:
    """Read, check, write; print the paths."""
    from reports.tuning import write_report

    tuning = read_tuning(args.tuning)
    from emulation.io.atomic_files import prepare_folder

    folder = args.output if args.output is not None else args.tuning.parent / "report"
    prepare_folder(folder, "report")
    for path in write_report(tuning, folder).values():
        print(path)
    return 0
