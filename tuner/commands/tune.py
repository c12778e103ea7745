"""``aptune tune``: minimal per-layer precisions that meet a target, written as hls4ml YAML."""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path

from emulation.errors import ConfigError
from tuner.commands.emulate import (
    add_backend_argument,
    add_io_type_argument,
    backend_of,
    io_type_of,
)
from tuner.cost import OBJECTIVES

# where --example writes unless -o says otherwise: a fresh folder per run, never the example
# results the repository ships in configs/example
EXAMPLE_OUTPUT = Path("aptune-out") / "example"


def fresh_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ... : the first that does not exist yet."""
    k, folder = 1, base
    while folder.exists():
        k += 1
        folder = base.with_name(f"{base.name}-{k}")
    return folder


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune",
        help="find minimal per-layer ap_fixed types that meet an accuracy target",
        description=(
            "Tune every precision of an hls4ml model (inputs, weights, biases, accumulators, "
            "results, lookup tables) against the float Keras model on your data, minimising a "
            "hardware cost, and write an hls4ml config that meets the target."
        ),
    )
    _add_inputs(p)
    _add_target(p)
    _add_search(p)
    _add_outputs(p)
    p.set_defaults(run=run)


def _add_inputs(p: argparse.ArgumentParser) -> None:
    """What is tuned, on what."""
    p.add_argument("model", nargs="?", help="Keras model (.keras, .h5, .json) or project .yml")
    p.add_argument(
        "--example",
        action="store_true",
        help="tune the built-in digits example (into a fresh aptune-out/example folder)",
    )
    p.add_argument("--data", help="inputs: .npy, .npz[:name], .dat or .csv")
    p.add_argument("--labels", help="class labels (ids or one-hot) for --metric accuracy")
    p.add_argument("--weights", help="weights .h5 for a .json architecture")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the calibration/validation split (default 0)"
    )


def _add_target(p: argparse.ArgumentParser) -> None:
    """What must hold, and what is minimised."""
    p.add_argument(
        "--metric",
        choices=("agreement", "accuracy", "mae", "mse"),
        default="agreement",
        help="agreement: top class equals float Keras (default); accuracy: against --labels; "
        "mae/mse: against the float outputs",
    )
    p.add_argument(
        "--target",
        type=float,
        help="bound on the metric (default: agreement 0.99, accuracy the float accuracy "
        "- 0.01; mae and mse have no default: give one)",
    )
    p.add_argument("--max-drop", type=float, help="accuracy: largest drop from float accuracy")
    p.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default=OBJECTIVES[0],
        help="hardware figure to minimise (luteq: LUT + 55 x DSP, the default)",
    )
    p.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="confidence with which a share target must hold on calibration data (default 0.95)",
    )


def _add_search(p: argparse.ArgumentParser) -> None:
    """How the search runs: its time, its workers, its checkpoint."""
    p.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop the search after SECONDS and keep its best so far (default: no limit)",
    )
    p.add_argument(
        "--accumulators",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="search the accumulators' fractional bits after the descent, where the cost "
        "model says it pays (products then round one by one, as the C++ casts them); "
        "--no-accumulators keeps them exact (default: searched)",
    )
    p.add_argument(
        "--jobs", type=int, default=1, help="parallel emulator workers (-1: all; default 1)"
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="evaluate candidates on a Dask cluster: tcp://HOST:PORT (a running scheduler) or "
        "local:N (N worker processes here); batches as large as its workers (needs "
        "pip install 'aptune[cluster]')",
    )
    p.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="record every evaluation here as it arrives; the same command run again resumes "
        "from it (default: beside -o, NAME.checkpoint.jsonl)",
    )


def _add_outputs(p: argparse.ArgumentParser) -> None:
    """What is written and checked afterwards."""
    p.add_argument("--verify-csim", action="store_true", help="check the result in C simulation")
    p.add_argument(
        "-o",
        "--output",
        help="YAML to write (default configs/recommended.yml; tuning.json goes beside it)",
    )
    p.add_argument("--project", action="store_true", help="write a whole hls4ml project file")
    add_backend_argument(p)
    add_io_type_argument(p)
    p.add_argument("--report", help="folder for the HTML tuning report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _example_paths() -> tuple[Path, Path, Path]:
    root = resources.files("tuner") / "example"
    return (
        Path(str(root / "digits_mlp.keras")),
        Path(str(root / "digits_x.npy")),
        Path(str(root / "digits_y.npy")),
    )


def run(args: argparse.Namespace) -> int:
    from emulation.metrics import Target
    from tuner.summary import print_summary
    from tuner.tune import TuneOptions
    from tuner.workflow import Project, tune_project

    if args.example:
        if args.model or args.data:
            raise ConfigError("--example tunes the built-in model; drop MODEL and --data")
        model_path, data_path, labels_path = _example_paths()
        output = (
            Path(args.output) if args.output else fresh_folder(EXAMPLE_OUTPUT) / "recommended.yml"
        )
        labels, report = args.labels or labels_path, args.report or output.parent / "report"
    else:
        if not args.model:
            raise ConfigError("give a MODEL file (or --example for the built-in one)")
        if not args.data:
            raise ConfigError("--data is required: the inputs to tune on (.npy, .npz, .dat, .csv)")
        model_path, data_path, labels, report = args.model, args.data, args.labels, args.report
        output = Path(args.output) if args.output else Path("configs") / "recommended.yml"
    project = Project(
        model=Path(model_path),
        data=Path(data_path),
        output=output,
        labels=Path(labels) if labels else None,
        weights=Path(args.weights) if args.weights else None,
        report=Path(report) if report else None,
        project=args.project,
        verify_csim=args.verify_csim or args.example,
        checkpoint=Path(args.checkpoint) if args.checkpoint else None,
        cluster=args.cluster,
    )
    options = TuneOptions(
        target=Target(args.metric, args.target, args.max_drop),
        objective=args.objective,
        jobs=args.jobs,
        seed=args.seed,
        confidence=args.confidence,
        time_limit=args.time_limit,
        search_accumulators=args.accumulators,
        backend=backend_of(args),
        io_type=io_type_of(args),
    )
    outcome = tune_project(project, options, show_progress=not args.json, log=_say)
    if outcome.nothing_written:
        _say("interrupted before the outputs were written; every earlier output is left as it was")
        return 130
    if args.json:
        print(json.dumps(outcome.result.to_json(), indent=1, default=str))
    else:
        print_summary(outcome.result, outcome.paths, sys.stdout)
        for folder in outcome.created:
            print(f"created folder {folder}")
    if outcome.result.interrupted:
        _say("interrupted; the best config so far and the trajectory are saved")
    return outcome.code


def _say(message: str) -> None:
    print(f"aptune: {message}", file=sys.stderr)
