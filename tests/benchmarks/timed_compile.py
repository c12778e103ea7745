"""hls4ml's ``ModelGraph.compile()`` with a time limit on g++, for the benchmarks.

Some C simulations take g++ longer than a benchmark can wait (``KERAS_conv1d``'s io_parallel
project did not compile in 25 minutes on 2 shared cores). `compile_within` runs hls4ml's own
``build_lib.sh`` in its own process group and, past the limit, kills the whole group (the shell
and every g++ / cc1plus it started) and raises `CompileTimeout`, whose message the benchmark
prints in the cell instead of hanging.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any
from unittest import mock

COMPILE_MINUTES_ENV = "APTUNE_BENCH_COMPILE_MINUTES"
DEFAULT_COMPILE_MINUTES = 15.0


class CompileTimeout(RuntimeError):
    """g++ did not finish compiling a C simulation within the benchmark's limit."""


def compile_minutes() -> float:
    """The limit on one compile: ``APTUNE_BENCH_COMPILE_MINUTES``, else 15."""
    text = os.environ.get(COMPILE_MINUTES_ENV, "")
    try:
        minutes = float(text) if text else DEFAULT_COMPILE_MINUTES
    except ValueError:
        raise ValueError(
            f"{COMPILE_MINUTES_ENV}={text!r} is not a number: give the limit in minutes"
        ) from None
    if minutes <= 0:
        raise ValueError(f"{COMPILE_MINUTES_ENV}={text!r} must be positive (minutes)")
    return minutes


def run_build(project_dir: str | os.PathLike[str], minutes: float) -> None:
    """Run ``build_lib.sh`` in ``project_dir``; kill its process group after ``minutes``."""
    proc = subprocess.Popen(
        ["bash", "build_lib.sh"],
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill reaches every g++ it starts
    )
    try:
        log, _ = proc.communicate(timeout=minutes * 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise CompileTimeout(
            f"g++ did not finish compiling the C simulation in {minutes:g} min (killed; "
            f"{COMPILE_MINUTES_ENV} sets the limit)"
        ) from None
    if proc.returncode != 0:
        lines = [line for line in log.splitlines() if "error" in line.lower()] or log.splitlines()
        raise RuntimeError(f"g++ failed: {lines[0] if lines else f'exit {proc.returncode}'}")


def compile_within(hls_model: Any, minutes: float | None = None) -> None:
    """``hls_model.compile()`` (write, build, load the library), the build limited to
    ``minutes`` (default `compile_minutes`); `CompileTimeout` past it."""
    limit = compile_minutes() if minutes is None else minutes
    backend = hls_model.config.backend

    def build(model: Any) -> str:
        cfg = model.config
        out = Path(cfg.get_output_dir())
        run_build(out, limit)
        stamp = cfg.get_config_value("Stamp")
        return str(out / "firmware" / f"{cfg.get_project_name()}-{stamp}.so")

    with mock.patch.object(backend, "compile", build):
        hls_model.compile()
