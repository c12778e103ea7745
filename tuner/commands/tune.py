"""``aptune tune``: minimal per-layer precisions that meet a target, written as hls4ml YAML."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path

from emulation.errors import ConfigError
from tuner.commands.emulate import add_backend_argument, backend_of
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
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="stop the search after SECONDS and keep its best so far (default: no limit)",
    )
    p.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        help="confidence with which a share target must hold on calibration data (default 0.95)",
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
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the calibration/validation split (default 0)"
    )
    p.add_argument("--verify-csim", action="store_true", help="check the result in C simulation")
    p.add_argument(
        "-o",
        "--output",
        help="YAML to write (default configs/recommended.yml; tuning.json goes beside it)",
    )
    p.add_argument("--project", action="store_true", help="write a whole hls4ml project file")
    add_backend_argument(p)
    p.add_argument("--report", help="folder for the HTML tuning report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def _example_paths() -> tuple[Path, Path, Path]:
    root = resources.files("tuner") / "example"
    return (
        Path(str(root / "digits_mlp.keras")),
        Path(str(root / "digits_x.npy")),
        Path(str(root / "digits_y.npy")),
    )


def _open_checkpoint(stack, args, output: Path, model, x, labels, options) -> None:
    """Enter the run's checkpoint (`tuner.checkpoint`): ``--checkpoint`` refuses one of
    another job; the default one beside the output is then started afresh, said on stderr."""
    from tuner.checkpoint import Checkpoint, job_key

    path = Path(args.checkpoint) if args.checkpoint else output.with_suffix(".checkpoint.jsonl")
    key = job_key(model, x, labels, options)
    cp = stack.enter_context(Checkpoint.open(path, key, replace_foreign=not args.checkpoint))
    if cp.note:
        print(f"aptune: {cp.note}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from emulation.data import load_data, load_labels
    from emulation.files import FileSet
    from emulation.keras_io import load
    from emulation.metrics import Target
    from tuner.outputs import new_run_id, stage_outputs
    from tuner.progress import SearchProgress
    from tuner.summary import print_summary
    from tuner.tune import TuneOptions, tune

    if args.example:
        if args.model or args.data:
            raise ConfigError("--example tunes the built-in model; drop MODEL and --data")
        model_path, data_path, labels_path = _example_paths()
        args.labels = args.labels or str(labels_path)
        folder = fresh_folder(EXAMPLE_OUTPUT)
        output = Path(args.output) if args.output else folder / "recommended.yml"
        args.report = args.report or str(output.parent / "report")
        args.verify_csim = True
    else:
        if not args.model:
            raise ConfigError("give a MODEL file (or --example for the built-in one)")
        if not args.data:
            raise ConfigError("--data is required: the inputs to tune on (.npy, .npz, .dat, .csv)")
        model_path, data_path = Path(args.model), Path(args.data)
        output = Path(args.output) if args.output else Path("configs") / "recommended.yml"
    if args.metric == "accuracy" and not args.labels:
        raise ConfigError("--metric accuracy needs labels: pass --labels y.npy")
    if args.jobs == 0 or args.jobs < -1:
        raise ConfigError(f"--jobs must be a positive number or -1 (all cores); got {args.jobs}")

    if args.cluster:
        from tuner.cluster import connect, require

        require(args.cluster)  # the extra and the address, before seconds of loading
    backend = backend_of(args)
    model, _ = load(model_path, weights=args.weights)
    x = load_data(data_path, expected_shape=model.input_shape)
    labels = None
    if args.labels:
        n_out = int(model.output_shape[-1])
        labels = load_labels(args.labels, len(x), n_classes=max(n_out, 2))
    target = Target(args.metric, args.target, args.max_drop)
    if args.time_limit is not None and not args.time_limit > 0:
        raise ConfigError(f"--time-limit must be a positive number of seconds: {args.time_limit}")
    if not 0 < args.confidence < 1:
        raise ConfigError(f"--confidence must be between 0 and 1 (e.g. 0.95): {args.confidence}")
    options = TuneOptions(
        target=target,
        objective=args.objective,
        jobs=args.jobs,
        seed=args.seed,
        confidence=args.confidence,
        time_limit=args.time_limit,
        search_accumulators=args.accumulators,
        backend=backend,
    )

    # every output location is proven writable before the search, not after it
    from emulation.files import prepare_folder

    folders = [output.parent, *([Path(args.report)] if args.report else [])]
    created = [f for f in dict.fromkeys(folders) if prepare_folder(f)]

    with contextlib.ExitStack() as backends:
        if args.cluster:
            dask = backends.enter_context(connect(args.cluster))
            options = replace(options, jobs=dask.workers)  # a batch occupies every worker
        _open_checkpoint(backends, args, output, model, x, labels, options)
        with SearchProgress(enabled=not args.json, time_limit=args.time_limit) as progress:
            result = tune(model, x, labels, options, progress=progress)

    result.model = str(model_path)
    result.run = new_run_id()
    code = 0
    try:
        # verification and report first, then every output of the run is replaced at once:
        # an interrupt until the last rename leaves the previous set untouched
        if args.verify_csim and result.result["met"]:
            from tuner.verify import verify_csim

            resolved = target.resolve(result.float_reference.get("accuracy"))
            code = verify_csim(result, model, x, labels, resolved, backend)
        report: dict[str, str] = {}
        if args.report:
            from reports.tuning import report_files
            from tuner.report_data import add_profiles

            data = add_profiles(result.to_dict(), model, x, backend=backend)
            result.profiles = data.get("profiles")
            report = report_files(result.to_dict())
        with FileSet() as files:
            paths = stage_outputs(
                files,
                result,
                model_path,
                output,
                project=args.project,
                model=model,
                backend=backend,
            )
            for name, text in report.items():
                paths[name] = files.write_text(Path(args.report) / name, text)
            files.commit()
    except KeyboardInterrupt:
        print(
            "aptune: interrupted before the outputs were written; every earlier output is "
            "left as it was",
            file=sys.stderr,
        )
        return 130
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, default=str))
    else:
        print_summary(result.to_dict(), paths, sys.stdout)
        for folder in created:
            print(f"created folder {folder}")
    if result.interrupted:
        print(
            "aptune: interrupted; the best config so far and the trajectory are saved",
            file=sys.stderr,
        )
        return 130
    if not (result.result["met"] and result.result["met_validation"]):
        return 1
    return code
