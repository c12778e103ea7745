"""The vendor's own C simulation (Vivado HLS or Vitis HLS) through hls4ml's ``build(csim=True)``.

hls4ml's testbench (``<project>_test.cpp``) reads ``tb_data/tb_input_features.dat`` and
``tb_data/tb_output_predictions.dat`` line by line in step (it stops at the shorter file and,
when either is missing, runs five all-zero samples instead), and writes one line per sample,
the outputs separated by spaces, to ``tb_data/csim_results.log``. As written it loses bits twice:
it parses the inputs into ``std::vector<float>`` (24 bits), and prints each output through
``operator<<``, which cuts ``ap_fixed`` values to the stream's precision (6 digits). So that
the vendor's result can be compared value for value, aptune writes the inputs with 17
significant digits (float64 round trip), and patches the generated testbench in two places:
inputs are read as ``double``, and ``fout`` prints every digit (an ``ap_fixed`` value has a
finite decimal expansion, which ``float()`` reads back exactly).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from emulation.errors import ToolError

__all__ = [
    "CSIM_LOG",
    "INPUT_FILE",
    "PREDICTIONS_FILE",
    "TOOLS",
    "find_tool",
    "patch_testbench",
    "read_csim_results",
    "run_vendor_csim",
    "write_testbench_data",
]

INPUT_FILE = "tb_data/tb_input_features.dat"
PREDICTIONS_FILE = "tb_data/tb_output_predictions.dat"
CSIM_LOG = "tb_data/csim_results.log"

#: --hls-tool name -> (hls4ml backend, the executable hls4ml 1.3's build() runs)
TOOLS: dict[str, tuple[str, str]] = {
    "vivado": ("Vivado", "vivado_hls"),
    # hls4ml 1.3 drives Vitis HLS through 'vitis-run --mode hls' (Vitis 2024.2 and later)
    "vitis": ("Vitis", "vitis-run"),
}

_DIGITS = 1000  # stream precision for the results log: more digits than any ap_fixed has


def find_tool(tool: str) -> str:
    """Path of the vendor executable for ``tool`` ('vivado' or 'vitis'); `ToolError` if absent."""
    if tool not in TOOLS:
        raise ToolError(f"unknown HLS tool {tool!r}; expected gxx, vivado or vitis")
    exe = TOOLS[tool][1]
    path = shutil.which(exe)
    if path is None:
        raise ToolError(
            f"{exe} not found on PATH; --hls-tool gxx runs hls4ml's g++ C simulation instead"
        )
    return path


def _write_rows(path: Path, rows: np.ndarray) -> None:
    from emulation.io.atomic_files import atomic_write_text

    buffer = io.StringIO()
    # %.17g: every float64 reads back bit for bit; one sample a line, space-separated
    np.savetxt(buffer, rows, fmt="%.17g", delimiter=" ")
    atomic_write_text(path, buffer.getvalue())


def write_testbench_data(
    project_dir: str | os.PathLike[str], inputs: np.ndarray, predictions: np.ndarray
) -> tuple[Path, Path]:
    """Write the testbench's input and reference files into ``project_dir/tb_data``.

    Parameters
    ----------
    inputs : (n, total input size) float64; several inputs side by side, in hls4ml's order
        (the testbench takes each input's values at its offset on the line).
    predictions : (n, total output size); the float model's outputs (the testbench only needs
        one line per sample; hls4ml prints them as reference).

    Returns
    -------
    The two files written.
    """
    folder = Path(project_dir)
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(predictions, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(
            f"inputs and predictions must be 2-D with one row per sample; got {x.shape} and "
            f"{y.shape}"
        )
    _write_rows(folder / INPUT_FILE, x)
    _write_rows(folder / PREDICTIONS_FILE, y)
    return folder / INPUT_FILE, folder / PREDICTIONS_FILE


# what hls4ml's writer emits, and what aptune makes of it
_PATCHES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"std::vector<float> in;"), "std::vector<double> in;", "inputs read as float"),
    (
        re.compile(r"nnet::copy_data<float, "),
        "nnet::copy_data<double, ",
        "inputs copied from float",
    ),
    (
        re.compile(r"(std::ofstream fout\(RESULTS_LOG\);)"),
        rf"\1\n    fout.precision({_DIGITS}); // aptune: print every digit",
        "results log opened",
    ),
)


def patch_testbench(path: str | os.PathLike[str]) -> Path:
    """Make hls4ml's generated testbench read inputs as double and print outputs exactly.

    Raises `ToolError` when a line to patch is not there (another hls4ml testbench template).
    """
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    for pattern, replacement, what in _PATCHES:
        text, count = pattern.subn(replacement, text)
        if count == 0:
            raise ToolError(
                f"cannot patch {file}: the line where {what} was not found (hls4ml's testbench "
                "template changed); use --hls-tool gxx"
            )
    file.write_text(text, encoding="utf-8")
    return file


def read_csim_results(path: str | os.PathLike[str], n_samples: int, n_values: int) -> np.ndarray:
    """The testbench's results log as an ``(n_samples, n_values)`` float64 array.

    Raises `ToolError` when the log is missing, holds another number of lines or values, or
    something that is not a number.
    """
    file = Path(path)
    if not file.is_file():
        raise ToolError(
            f"the HLS C simulation wrote no results ({file} missing): see the tool's log in "
            f"{file.parent.parent}"
        )
    rows = [line.split() for line in file.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r]
    if len(rows) != n_samples or any(len(r) != n_values for r in rows):
        widths = sorted({len(r) for r in rows})
        raise ToolError(
            f"{file} holds {len(rows)} lines of {widths} values; expected {n_samples} lines of "
            f"{n_values} (one per input sample): see the tool's log in {file.parent.parent}"
        )
    try:
        return np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise ToolError(f"{file} holds a value that is not a number: {exc}") from exc


@contextlib.contextmanager
def _output_to(log: IO[str]) -> Iterator[None]:
    """Send stdout, Python's and the process's (the tool runs through os.system), to ``log``."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(log.fileno(), 1)
        with contextlib.redirect_stdout(log):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _results_log(project_dir: Path, project_name: str) -> Path:
    """Where the tool left the log: hls4ml's place, else the csim build folder."""
    main = project_dir / CSIM_LOG
    if main.is_file():
        return main
    for candidate in sorted(project_dir.glob(f"{project_name}_prj/*/csim/build/{CSIM_LOG}")):
        return candidate
    return main


def run_vendor_csim(
    model: Any,
    config: Mapping[str, Any],
    inputs: Sequence[np.ndarray],
    predictions: np.ndarray,
    *,
    tool: str,
    project_dir: str | os.PathLike[str],
    io_type: str = "io_parallel",
) -> np.ndarray:
    """Run the vendor's C simulation on ``inputs``; return its outputs, ``(n, total size)``.

    Parameters
    ----------
    inputs : one ``(n, ...)`` float64 array per model input.
    predictions : the float model's outputs, ``(n, total size)``, for the reference file.
    tool : 'vivado' or 'vitis'.
    project_dir : where to write the hls4ml project (kept for inspection).
    io_type : hls4ml's ``"io_parallel"`` or ``"io_stream"``.
    """
    from csim.hls4ml_sim import convert_project

    find_tool(tool)
    backend = TOOLS[tool][0]
    folder = Path(project_dir).resolve()
    if folder.exists():
        shutil.rmtree(folder)
    hls_model = convert_project(model, config, folder, backend=backend, io_type=io_type)
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model.write()
    name = hls_model.config.get_project_name()
    patch_testbench(folder / f"{name}_test.cpp")
    flat = np.concatenate([np.asarray(x, dtype=np.float64).reshape(len(x), -1) for x in inputs], 1)
    write_testbench_data(folder, flat, predictions)
    log_file = folder / "aptune-hls-build.log"
    with log_file.open("w") as log, _output_to(log):
        try:
            hls_model.build(csim=True, synth=False, cosim=False, export=False, vsynth=False)
        except Exception as exc:  # hls4ml raises bare Exceptions for tool failures
            raise ToolError(
                f"{TOOLS[tool][1]} C simulation failed in {folder}: {exc} (log: {log_file})"
            ) from exc
    n_values = sum(int(v.size()) for v in hls_model.get_output_variables())
    return read_csim_results(_results_log(folder, name), len(flat), n_values)
