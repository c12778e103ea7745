"""hls4ml's own C simulation: convert, compile with g++, predict and trace, exactly.

>>> sim = compile_sim(keras_model, "config.yml")                    # doctest: +SKIP
>>> outputs, traces = sim.run(X, trace=True)                         # doctest: +SKIP

The model is converted as the emulator converts it (``backend='Vivado'`` or ``'Vitis'``,
``io_type='io_parallel'`` or ``'io_stream'``), every layer gets hls4ml's trace hooks (inert
until a trace runs, so one library serves both predict and trace), and the project is compiled
by hls4ml's own ``build_lib.sh`` (g++ against the ap_types headers hls4ml ships). Inputs go to
the ``double`` entry point, so outputs are exact for every type up to 53 bits.

Compiled projects are cached on disk (`csim.cache`): a second run with the same model, config,
hls4ml and g++ loads the library through ctypes without converting or compiling anything.
Everything the run needs (entry point, input and output sizes, traced layers) is kept in the
project's manifest; running the library is `csim.simulation`'s.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from csim.cache import MANIFEST, cache_root, lock, sim_key
from csim.progress import Progress
from csim.simulation import CSimulation, Manifest, _usable
from emulation.config import read_config
from emulation.errors import ToolError, UnsupportedLayerError
from emulation.graph import convert
from emulation.hls_model_graph import io_type_name
from emulation.hls_nodes import backend_name
from emulation.io.atomic_files import atomic_write_text

__all__ = [
    "GXX_MISSING",
    "CSimulation",
    "Manifest",
    "compile_sim",
    "convert_project",
    "find_gxx",
    "gxx_version",
]

GXX_MISSING = "g++ not found on PATH: install a C++ compiler (e.g. Debian's g++)"


def find_gxx() -> str:
    """Path of the g++ that hls4ml's ``build_lib.sh`` will run; `ToolError` when there is none."""
    gxx = shutil.which("g++")
    if gxx is None:
        raise ToolError(GXX_MISSING)
    return gxx


@functools.lru_cache(maxsize=8)
def _version_of(path: str, mtime: float) -> str:
    del mtime  # part of the cache key only: a replaced compiler is asked again
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ToolError(f"cannot run {path} --version: {exc}") from exc
    lines = out.strip().splitlines()
    return lines[0] if lines else "unknown"


def gxx_version() -> str:
    """First line of ``g++ --version`` (part of the cache key: another compiler, another build)."""
    path = find_gxx()
    return _version_of(path, Path(path).stat().st_mtime)


def _hls4ml_version() -> str:
    import hls4ml

    return str(hls4ml.__version__)


# ------------------------------------------------------------------------------ conversion
def convert_project(
    model: Any,
    config: Mapping[str, Any],
    output_dir: Path,
    *,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> Any:
    """hls4ml's ModelGraph of ``model`` with its project in ``output_dir``, converted exactly
    as the emulator converts it (`emulation.graph.convert`)."""
    return convert(model, config, output_dir=output_dir, backend=backend, io_type=io_type)


# -------------------------------------------------------------------------------- manifest
def _type_text(precision: Any) -> str:
    """``ap_fixed<16,6>``-style text of an hls4ml precision (hls4ml's own text otherwise)."""
    from emulation.hls_nodes import fixed_from_hls4ml

    try:
        return fixed_from_hls4ml(precision).to_hls()
    except UnsupportedLayerError:
        return str(precision)


def _manifest_of(
    hls_model: Any, key: str, convert_seconds: float, compile_seconds: float
) -> Manifest:
    cfg = hls_model.config
    name = cfg.get_project_name()
    stamp = cfg.get_config_value("Stamp")
    traced, types, n_traced = [], {}, 0
    for layer in hls_model.get_layers():
        if layer.get_attr("function_cpp", None) and layer.get_attr("trace", False):
            n_traced += len(layer.get_variables())
            var = layer.get_output_variable()
            traced.append([layer.name, [int(s) for s in var.shape]])
            types[layer.name] = _type_text(var.type.precision)
    weights = []
    if cfg.get_writer_config().get("WriteWeightsTxt", True):
        weights = [f"{w.name}.txt" for layer in hls_model.get_layers() for w in layer.get_weights()]
    return Manifest(
        key=key,
        library=f"firmware/{name}-{stamp}.so",
        project_name=name,
        inputs=[[v.name, int(v.size())] for v in hls_model.get_input_variables()],
        outputs=[[v.name, int(v.size())] for v in hls_model.get_output_variables()],
        traced=traced,
        n_traced=n_traced,
        types=types,
        weight_files=weights,
        hls4ml=_hls4ml_version(),
        gxx=gxx_version(),
        convert_seconds=convert_seconds,
        compile_seconds=compile_seconds,
    )


# ---------------------------------------------------------------------------------- build
def _first_error(log: str) -> str:
    """The compiler's first error line (or the last line said) from a build log."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[-1] if lines else "no output"


def _run_build(project_dir: Path) -> None:
    """Run hls4ml's ``build_lib.sh`` in ``project_dir`` (g++); `ToolError` on failure."""
    try:
        done = subprocess.run(
            ["bash", "build_lib.sh"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ToolError(f"cannot run the hls4ml build script in {project_dir}: {exc}") from exc
    if done.returncode != 0:
        first = _first_error(done.stdout + "\n" + done.stderr)
        raise ToolError(
            f"g++ failed to compile the hls4ml project in {project_dir}: {first} "
            f"(rerun 'bash build_lib.sh' there for the full log)"
        )


def compile_sim(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> CSimulation:
    """hls4ml's compiled C simulation of ``model`` under ``hls_config``, from cache when built.

    Parameters
    ----------
    model : keras.Model
    hls_config : hls4ml config dict, a YAML file holding it, or an hls4ml project file.
    cache_dir : where compiled projects live (default: see `csim.cache.cache_root`).
    progress : the bar to report the conversion and compilation stages on.
    backend : hls4ml's backend, ``"Vivado"`` or ``"Vitis"`` (both compile with g++; Vitis
        ships its own conv and pooling headers).
    io_type : hls4ml's ``"io_parallel"`` or ``"io_stream"``.

    Raises
    ------
    ToolError : g++ missing, or the project does not compile (first error line and folder).
    ConfigError, UnsupportedLayerError : hls4ml cannot convert the model with this config.
    """
    find_gxx()
    backend, io_type = backend_name(backend), io_type_name(io_type)
    config = read_config(hls_config)
    # a Vivado io_parallel build keeps the key it always had
    tools = {"hls4ml": _hls4ml_version(), "gxx": gxx_version()}
    if backend != "Vivado":
        tools["backend"] = backend
    if io_type != "io_parallel":
        tools["io_type"] = io_type
    key = sim_key(model, config, **tools)
    root = cache_root(cache_dir)
    project_dir = root / key
    with lock(root / f"{key}.lock"):
        manifest = Manifest.read(project_dir / MANIFEST)
        if _usable(project_dir, manifest):
            assert manifest is not None
            return CSimulation(project_dir, manifest, cached=True)
        if project_dir.exists():  # a build that failed or was cut short
            shutil.rmtree(project_dir)
        if progress:
            progress.stage("converting (hls4ml)")
        start = time.perf_counter()
        hls_model = convert_project(model, config, project_dir, backend=backend, io_type=io_type)
        hls_model.config.trace_output = True
        for layer in hls_model.get_layers():
            layer.set_attr("trace", True)
        with contextlib.redirect_stdout(io.StringIO()):
            hls_model.write()
        convert_seconds = time.perf_counter() - start
        if progress:
            progress.done()
            progress.stage("compiling (g++)")
        start = time.perf_counter()
        _run_build(project_dir)
        compile_seconds = time.perf_counter() - start
        if progress:
            progress.done()
        manifest = _manifest_of(hls_model, key, convert_seconds, compile_seconds)
        atomic_write_text(project_dir / MANIFEST, json.dumps(asdict(manifest), indent=1))
    return CSimulation(project_dir, manifest, cached=False)
