"""The whole tune workflow as a library call: load, tune, verify, profile, report, write.

`tune_project` is what ``aptune tune`` runs once its arguments are parsed, so a script gets
everything the command gives (the C-simulation check, the profiles, the report, one
consistent set of outputs, the checkpoint and the cluster), and nothing here prints: what a
user must be told comes back in `Outcome` or through ``log``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from emulation.errors import ConfigError
from tuner.progress import SearchProgress
from tuner.tune import TuneOptions, TuneResult, tune

__all__ = ["Outcome", "Project", "check_options", "tune_project"]


@dataclass
class Project:
    """What one tuning run reads and writes (paths as the user gave them)."""

    model: Path
    data: Path
    output: Path  # the hls4ml config; tuning.json (and the project files) beside it
    labels: Path | None = None
    weights: Path | None = None  # a legacy JSON model's weights, when not beside it
    report: Path | None = None  # folder of the HTML report
    project: bool = False  # write a whole hls4ml project file (`tuner.outputs`)
    verify_csim: bool = False  # compile the written config and check it in C simulation
    checkpoint: Path | None = None  # None: CFG.checkpoint.jsonl beside the output
    cluster: str | None = None  # a Dask scheduler address or local:N (`tuner.cluster`)


@dataclass
class Outcome:
    """What a run produced: the result, the files written, the folders it created, and the
    exit code of ``aptune tune`` (0 met, 1 not met, 130 interrupted)."""

    result: TuneResult | None
    code: int
    paths: dict[str, Path] = field(default_factory=dict)
    created: list[Path] = field(default_factory=list)
    # interrupted while the outputs were being written: every earlier output is as it was
    nothing_written: bool = False


def check_options(options: TuneOptions) -> None:
    """Refuse options that cannot run, before anything is loaded (ConfigError, one line)."""
    if options.jobs == 0 or options.jobs < -1:
        raise ConfigError(f"--jobs must be a positive number or -1 (all cores); got {options.jobs}")
    if options.time_limit is not None and not options.time_limit > 0:
        raise ConfigError(
            f"--time-limit must be a positive number of seconds: {options.time_limit}"
        )
    if not 0 < options.confidence < 1:
        raise ConfigError(f"--confidence must be between 0 and 1 (e.g. 0.95): {options.confidence}")


def tune_project(
    project: Project,
    options: TuneOptions,
    *,
    show_progress: bool = True,
    log: Callable[[str], None] = lambda message: None,
) -> Outcome:
    """Tune ``project.model`` on ``project.data`` and write the run's outputs as one set.

    Bad input raises an `emulation.errors.AptuneError` before the search; ``log`` receives
    the notes a user should see (a checkpoint of another job started afresh, what failed in
    ``--verify-csim``).
    """
    from emulation.io.atomic_files import prepare_folder
    from emulation.io.data_files import load_data, load_labels
    from emulation.io.keras_files import load

    check_options(options)
    if options.target.metric == "accuracy" and project.labels is None:
        raise ConfigError("--metric accuracy needs labels: pass --labels y.npy")
    if project.cluster:
        from tuner.cluster import require

        require(project.cluster)  # the extra and the address, before seconds of loading
    model, _ = load(project.model, weights=project.weights)
    x = load_data(project.data, expected_shape=model.input_shape)
    labels = None
    if project.labels is not None:
        n_out = int(model.output_shape[-1])
        labels = load_labels(project.labels, len(x), n_classes=max(n_out, 2))
    # every output location is proven writable before the search, not after it
    folders = [project.output.parent, *([project.report] if project.report else [])]
    created = [f for f in dict.fromkeys(folders) if prepare_folder(f)]

    with contextlib.ExitStack() as backends:
        if project.cluster:
            from tuner.cluster import connect

            dask = backends.enter_context(connect(project.cluster))
            options = replace(options, jobs=dask.workers)  # a batch occupies every worker
        _open_checkpoint(backends, project, model, x, labels, options, log)
        with SearchProgress(enabled=show_progress, time_limit=options.time_limit) as progress:
            result = tune(model, x, labels, options, progress=progress)
    try:
        code, paths = _verify_and_write(project, options, result, model, x, labels, log)
    except KeyboardInterrupt:
        return Outcome(result, 130, created=created, nothing_written=True)
    if result.interrupted:
        code = 130
    elif not result.met:
        code = 1
    return Outcome(result, code, paths, created)


def _open_checkpoint(stack, project, model, x, labels, options, log) -> None:
    """Enter the run's checkpoint (`tuner.checkpoint`): a named one of another job is refused;
    the default one beside the output is then started afresh, and ``log`` says so."""
    from tuner.checkpoint import Checkpoint, job_key

    default = project.output.with_suffix(".checkpoint.jsonl")
    path = project.checkpoint or default
    key = job_key(model, x, labels, options)
    named = project.checkpoint is not None
    cp = stack.enter_context(Checkpoint.open(path, key, replace_foreign=not named))
    if cp.note:
        log(cp.note)


def _verify_and_write(project, options, result, model, x, labels, log) -> tuple[int, dict]:
    """Verification and report first, then every output of the run replaced at once: an
    interrupt until the last rename leaves the previous set untouched. (code, paths)"""
    from emulation.io.atomic_files import FileSet
    from tuner.outputs import new_run_id, stage_outputs

    result.model = str(project.model)
    result.run = new_run_id()
    code = 0
    if project.verify_csim and result.final.met:
        from tuner.verify import verify_csim

        resolved = options.target.resolve(result.float_reference.accuracy)
        problems = verify_csim(result, model, x, labels, resolved, options.backend, options.io_type)
        for p in problems:
            log(f"verify-csim FAILED: {p}")
        code = 1 if problems else 0
    report: dict[str, str] = {}
    if project.report:
        from reports.tuning import report_files
        from tuner.report_data import profiles_before_after

        result.profiles = profiles_before_after(
            model, x, result.config, backend=options.backend, io_type=options.io_type
        )
        report = report_files(result)
    with FileSet() as files:
        paths = stage_outputs(
            files,
            result,
            project.model,
            project.output,
            project=project.project,
            model=model,
            backend=options.backend,
            io_type=options.io_type,
        )
        for name, text in report.items():
            paths[name] = files.write_text(project.report / name, text)
        files.commit()
    return code, paths
