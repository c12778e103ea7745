"""``aptune csim``: check a config against hls4ml's C simulation before synthesis.

Compares float Keras, aptune's emulator and the C simulation (hls4ml's g++ build, cached, or
the vendor's Vivado/Vitis HLS), prints a three-way table and where emulator and C simulation
first differ, and writes ``comparison.json``, ``summary.md`` and ``comparison.png`` into the
output folder. Exit code: 0 when emulator and C simulation agree on every value, 1 when they
differ, 2 on usage errors (bad model, config or data; missing tool).

Several ``--config`` files are first compiled in parallel (``--jobs`` loky processes, or
``--cluster``; each worker loads the model, since hls4ml converts from Keras), then each is
compared into its own subfolder, one line each; the exit code is the worst of them.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from emulation.errors import ConfigError
from tuner.commands.emulate import (
    add_backend_argument,
    add_io_type_argument,
    add_model_arguments,
    backend_of,
    io_type_of,
    load_inputs,
    load_model_and_config,
)

__all__ = ["register", "run"]

TOOLS = ("gxx", "vivado", "vitis")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``csim`` subcommand."""
    p = subparsers.add_parser(
        "csim",
        conflict_handler="resolve",  # --config below takes several files
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
    add_io_type_argument(p)
    p.add_argument(
        "-c",
        "--config",
        metavar="CFG",
        action="append",
        help="hls4ml config YAML (HLSConfig or a whole project file); optional when MODEL is a "
        "project file; repeat it to compare several configs, compiled in parallel, each into "
        "its own subfolder of --output-dir",
    )
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
    p.add_argument(
        "--jobs",
        type=int,
        help="several configs: how many compile at once (default: all, up to the cores)",
    )
    p.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="several configs: compile on a Dask cluster (tcp://HOST:PORT or local:N) whose "
        "workers share this file system and the compile cache",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(run=run)


def _save_png(fig: Any, path: Path) -> Path:
    from emulation.io.atomic_files import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(path, buffer.getvalue())


def run(args: argparse.Namespace) -> int:
    """Load, compare, write the three files, print the table (or JSON); 0 agree, 1 differ."""
    from reports.comparison import comparison_table

    io_type_of(args)  # a bad --io-type or IOType fails before seconds of loading
    if args.hls_tool != "gxx":
        from csim.hls_tool import find_tool

        find_tool(args.hls_tool)
    from emulation.io.atomic_files import prepare_folder

    prepare_folder(args.output_dir)  # before the C++ is built, not after
    configs = args.config or [None]
    if len(configs) > 1:
        return _run_many(args, configs)
    model, config = load_model_and_config(args.model, configs[0])
    X = load_inputs(model, args.data)
    result, data, files = _compare_into(args, model, config, X, args.output_dir)
    if args.json:
        print(json.dumps({**data, "files": {k: str(v) for k, v in files.items()}}, indent=1))
    else:
        print(comparison_table(data))
        print(f"wrote {files['json']}, {files['summary'].name}, {files['figure'].name}")
    return 0 if result.agree else 1


def _compare_into(args: argparse.Namespace, model: Any, config: dict, X: Any, out_dir: Path):
    """Compare one config and write its three files into ``out_dir``: (result, data, files)."""
    from csim.compare import compare
    from emulation.io.atomic_files import atomic_write_text
    from reports.comparison import comparison_markdown, plot_comparison

    result = compare(
        model,
        config,
        X,
        labels=args.labels,
        hls_tool=args.hls_tool,
        project_dir=out_dir / f"{args.hls_tool}-prj",
        backend=_backend(args),
        io_type=io_type_of(args),
    )
    data = result.to_dict()
    files = {
        "json": atomic_write_text(out_dir / "comparison.json", json.dumps(data, indent=1) + "\n"),
        "summary": atomic_write_text(out_dir / "summary.md", comparison_markdown(data)),
        "figure": _save_png(plot_comparison(data), out_dir / "comparison.png"),
    }
    return result, data, files


def _backend(args: argparse.Namespace) -> str | None:
    """The backend to compare in: given or from the project file (None lets a Vivado or
    Vitis ``--hls-tool`` choose its own)."""
    return backend_of(args) if args.backend or args.hls_tool == "gxx" else None


def _compile(
    model_path: str, config_path: str, cache_dir: str, backend: str | None, io_type: str
) -> str:
    """Build one config's C simulation into the compile cache (a worker task; it loads the
    model itself: hls4ml converts from Keras). An error is returned, not raised: the
    comparison of that config reports it on its own line."""
    from csim.hls4ml_sim import compile_sim
    from emulation.errors import AptuneError

    try:
        model, config = load_model_and_config(model_path, config_path)
        compile_sim(
            model, config, cache_dir=cache_dir, backend=backend or "Vivado", io_type=io_type
        )
    except AptuneError as exc:
        return str(exc)
    return ""


def _compile_all(args: argparse.Namespace, configs: list[str]) -> None:
    """Compile every config at once: on ``--cluster``, else in ``--jobs`` loky processes."""
    import contextlib
    import os

    from joblib import Parallel, delayed, parallel_config

    from csim.cache import cache_root

    backend, io_type = _backend(args), io_type_of(args)
    root = str(cache_root())
    tasks = [delayed(_compile)(args.model, c, root, backend, io_type) for c in configs]
    with contextlib.ExitStack() as stack:
        if args.cluster:
            from tuner.cluster import connect

            stack.enter_context(connect(args.cluster))
            stack.enter_context(parallel_config(backend="dask"))
            Parallel(n_jobs=-1)(tasks)
            return
        jobs = args.jobs or min(len(configs), os.cpu_count() or 1)
        Parallel(n_jobs=jobs, backend="loky", max_nbytes=None)(tasks)


def _run_many(args: argparse.Namespace, configs: list[str]) -> int:
    """Several configs: compiled in parallel, then each compared into its own subfolder of
    ``--output-dir`` (named after the config), one line each; the exit code is the worst."""
    from emulation.config import read_config
    from emulation.errors import AptuneError

    if args.cluster:
        from tuner.cluster import require

        require(args.cluster)
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs must be a positive number; got {args.jobs}")
    names: dict[str, str] = {}
    for c in configs:
        stem, k = Path(c).stem, 1
        while (name := stem if k == 1 else f"{stem}-{k}") in names.values():
            k += 1
        names[c] = name
    model, _ = load_model_and_config(args.model, configs[0])
    X = load_inputs(model, args.data)
    if args.hls_tool == "gxx":
        _compile_all(args, configs)
    worst, records = 0, []
    for c in configs:
        folder = args.output_dir / names[c]
        try:
            result, data, _ = _compare_into(args, model, read_config(c), X, folder)
        except AptuneError as exc:
            worst = 2
            records.append({"config": c, "error": str(exc)})
            if not args.json:
                print(f"{c}: {type(exc).__name__}: {exc}")
            continue
        worst = max(worst, 0 if result.agree else 1)
        verdict = "agree" if result.agree else "DIFFER"
        where = result.first_divergence.layer if result.first_divergence else None
        records.append({"config": c, "folder": str(folder), **data})
        if not args.json:
            print(
                f"{c}: emulator and C simulation {verdict}: {result.identical} of "
                f"{result.n_values} values identical{f', first at {where}' if where else ''} "
                f"-> {folder}"
            )
    if args.json:
        print(json.dumps(records, indent=1))
    return worst
