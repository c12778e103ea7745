"""Three-way comparison: float Keras, aptune's emulator and hls4ml's C simulation.

>>> result = compare(keras_model, "config.yml", X, labels=y)           # doctest: +SKIP
>>> result.agree, result.identical, result.n_values                    # doctest: +SKIP
(True, 450, 450)
>>> json.dumps(result.to_dict())                                       # doctest: +SKIP

Emulator against C simulation is an exact comparison (``==`` in float64): the share of output
values that are bit-identical, the largest difference in LSBs of the output type and, where
anything differs, the first layer (in execution order) whose traced output differs, with the
first differing sample and both values there. "Agree" means every output value and every traced
layer value is identical: a difference hidden by a later layer is still an emulator bug.

Each of emulator and C simulation is also measured against float Keras (top-class agreement,
largest and mean absolute error, accuracy against labels), and the emulator's overflow counts
per cast point are included. Everything is plain data: ``to_dict()`` is JSON-ready and is what
the report figures are drawn from. The result types live in `csim.results`, the measures in
`csim.measures`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from csim.hls4ml_sim import compile_sim, find_gxx
from csim.measures import (
    _compare_layers,
    _error_histogram,
    _lsb_difference,
    _lsb_histogram,
    _type_of,
    _vs_float,
)
from csim.progress import Progress
from csim.results import Comparison, Divergence, LayerAgreement, VsFloat
from emulation import metrics
from emulation.config import read_config
from emulation.errors import ConfigError, DataError
from emulation.io.data_files import load_labels

__all__ = ["HLS_TOOLS", "Comparison", "Divergence", "LayerAgreement", "VsFloat", "compare"]

HLS_TOOLS = ("gxx", "vivado", "vitis")

Config = Mapping[str, Any] | str | os.PathLike[str]


# ------------------------------------------------------------------------------- inputs
def _as_inputs(X: Any, n_inputs: int) -> list[np.ndarray]:
    xs = list(X) if isinstance(X, (list, tuple)) else [X]
    if len(xs) != n_inputs:
        raise DataError(
            f"the model has {n_inputs} inputs; got {len(xs)} arrays: pass one array per input"
        )
    return [np.asarray(x, dtype=np.float64) for x in xs]


def _flat(outputs: Any, n: int) -> np.ndarray:
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return np.concatenate([np.asarray(o, dtype=np.float64).reshape(n, -1) for o in outs], axis=1)


def _float_predict(model: Any, xs: list[np.ndarray]) -> Any:
    x = xs[0] if len(xs) == 1 else xs
    return model.predict(x, verbose=0, batch_size=1024)


# ------------------------------------------------------------------------------ compare
def _backend_for(hls_tool: str, backend: str | None) -> str:
    """The backend of the run: the vendor tool's, which ``backend`` may only repeat."""
    from emulation.hls_nodes import backend_name

    tool_backend = {"vivado": "Vivado", "vitis": "Vitis"}.get(hls_tool)
    chosen = backend_name(backend or tool_backend or "Vivado")
    if tool_backend and chosen != tool_backend:
        raise ConfigError(
            f"--hls-tool {hls_tool} runs the {tool_backend} backend, not {chosen}: drop "
            f"--backend or use --hls-tool {chosen.lower()}"
        )
    return chosen


def compare(
    model: Any,
    hls_config: Config,
    X: Any,
    labels: Any = None,
    *,
    hls_tool: str = "gxx",
    cache_dir: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    emulator_config: Config | None = None,
    backend: str | None = None,
    io_type: str = "io_parallel",
) -> Comparison:
    """Compare float Keras, the emulator and the C simulation of ``model`` on ``X``.

    Parameters
    ----------
    model : keras.Model
    hls_config : hls4ml config dict, YAML file holding one, or an hls4ml project file.
    X : (n, ...) input array (a list of them for several inputs), checked as the emulator
        checks it (shape, NaN, emptiness).
    labels : class ids ``(n,)`` or one-hot rows ``(n, classes)``, an array or a data file.
    hls_tool : 'gxx' (hls4ml's compiled C simulation: traced, cached), 'vivado' or 'vitis'
        (the vendor's C simulation via hls4ml's ``build(csim=True, synth=False)``; outputs
        only, the project written to ``project_dir``).
    cache_dir : where compiled simulations are cached (see `csim.cache.cache_root`).
    project_dir : the vendor project folder (default: ``aptune-<tool>-prj`` in the cwd).
    progress : show a progress bar on stderr (only when it is a terminal).
    emulator_config : a different config for the emulator only. For testing the comparator
        itself: a mismatch it must catch and localise.
    backend : hls4ml's backend, ``"Vivado"`` or ``"Vitis"``; default: the vendor tool's, else
        Vivado. A vendor tool of the other backend is a `ConfigError`.
    io_type : hls4ml's ``"io_parallel"`` or ``"io_stream"``, for all three.

    Raises
    ------
    DataError : inputs or labels that do not fit the model.
    ToolError : g++ (or the vendor tool) missing or failing.
    ConfigError, UnsupportedLayerError : a config or layer hls4ml or the emulator refuses.
    """
    from emulation.model import EmulatedModel

    if hls_tool not in HLS_TOOLS:
        raise ConfigError(f"unknown HLS tool {hls_tool!r}; expected one of {', '.join(HLS_TOOLS)}")
    # a missing tool fails before any of the work below
    if hls_tool == "gxx":
        find_gxx()
    else:
        from csim.hls_tool import find_tool

        find_tool(hls_tool)
    backend = _backend_for(hls_tool, backend)
    config = read_config(hls_config)
    emu_config = config if emulator_config is None else read_config(emulator_config)
    timings: dict[str, float] = {}
    notes: list[str] = []
    with Progress(progress) as bar:
        bar.stage("emulator")
        start = time.perf_counter()
        em = EmulatedModel(model, emu_config, backend=backend, io_type=io_type)
        xs = _as_inputs(X, len(em.graph.inputs))
        emu_traces = em.trace(xs[0] if len(xs) == 1 else xs)
        n = len(xs[0])
        emu_outputs = [emu_traces.get(name) for name in em.graph.outputs]
        if any(o is None for o in emu_outputs):
            emu_outputs = em.predict(xs[0] if len(xs) == 1 else xs)
        emu_out = _flat(emu_outputs, n)
        overflows = {k: v.to_dict() for k, v in sorted(em.overflows.items())}
        timings["emulate"] = time.perf_counter() - start
        bar.done()

        bar.stage("float Keras")
        start = time.perf_counter()
        ref = _flat(_float_predict(model, xs), n)
        timings["float"] = time.perf_counter() - start
        bar.done()
        n_classes = 2 if ref.shape[1] == 1 else ref.shape[1]
        y = None if labels is None else load_labels(labels, n, n_classes)

        sim_traces: dict[str, np.ndarray] = {}
        sim_types: dict[str, str] = {}
        if hls_tool == "gxx":
            sim = compile_sim(
                model, config, cache_dir=cache_dir, progress=bar, backend=backend, io_type=io_type
            )
            cached = sim.cached
            if not cached:
                timings["convert"] = sim.manifest.convert_seconds
                timings["compile"] = sim.manifest.compile_seconds
            start = time.perf_counter()
            sim_outputs, sim_traces = sim.run(xs, trace=True, progress=bar)
            timings["csim"] = time.perf_counter() - start
            sim_out = _flat(sim_outputs, n)
            sim_types = dict(sim.manifest.types)
            where = str(sim.project_dir)
        else:
            from csim.hls_tool import run_vendor_csim

            folder = Path(project_dir) if project_dir else Path.cwd() / f"aptune-{hls_tool}-prj"
            bar.stage(f"C simulation ({hls_tool})")
            start = time.perf_counter()
            sim_out = run_vendor_csim(
                model, config, xs, ref, tool=hls_tool, project_dir=folder, io_type=io_type
            )
            timings["csim"] = time.perf_counter() - start
            bar.done()
            cached, where = False, str(folder)
            notes.append(
                f"the {hls_tool} C simulation reports outputs only: run with --hls-tool gxx "
                "to find the first diverging layer"
            )

    if sim_out.shape != emu_out.shape:
        raise DataError(
            f"the C simulation returned {sim_out.shape[1]} values per sample, the emulator "
            f"{emu_out.shape[1]}: the two do not describe the same model"
        )
    layers, first, layer_notes = _compare_layers(em, emu_traces, sim_traces, sim_types)
    notes.extend(layer_notes)
    out_name = em.graph.outputs[0]
    out_type_text = sim_types.get(out_name)
    if out_type_text is None:
        t = em.graph.node(out_name).types.get("result_t")
        out_type_text = t.to_hls() if t is not None else None
    out_type = _type_of(out_type_text)
    diff = np.abs(emu_out - sim_out)
    return Comparison(
        n_samples=n,
        n_values=int(diff.size),
        identical=int(np.count_nonzero(diff == 0)),
        output_type=out_type_text,
        max_lsb_difference=_lsb_difference(diff, out_type),
        max_abs_difference=float(diff.max()),
        first_divergence=first,
        layers=layers,
        float_accuracy=None if y is None else metrics.accuracy(ref, y),
        emulator=_vs_float(emu_out, ref, y),
        csim=_vs_float(sim_out, ref, y),
        overflows=overflows,
        histograms={
            "emulator_vs_csim_lsb": _lsb_histogram(diff, out_type),
            "vs_float": _error_histogram(
                {"emulator": np.abs(emu_out - ref), "csim": np.abs(sim_out - ref)}
            ),
        },
        hls_tool=hls_tool,
        cached=cached,
        timings=timings,
        project_dir=where,
        notes=notes,
    )
