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
the report figures are drawn from.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from csim.hls4ml_sim import compile_sim, find_gxx
from csim.progress import Progress
from emulation import metrics
from emulation.config import read_config
from emulation.data import load_labels
from emulation.errors import ConfigError, DataError
from emulation.fixed import FixedType

__all__ = ["HLS_TOOLS", "Comparison", "Divergence", "LayerAgreement", "VsFloat", "compare"]

HLS_TOOLS = ("gxx", "vivado", "vitis")

Config = Mapping[str, Any] | str | os.PathLike[str]


@dataclass(frozen=True)
class VsFloat:
    """One fixed-point side (emulator or C simulation) against float Keras.

    Attributes
    ----------
    top_class_agreement : share of samples whose top class is float Keras's (single-output
        models: the same side of 0.5).
    max_abs_error, mean_abs_error : over every output value.
    accuracy : share of samples whose top class is the label (None without labels).
    """

    top_class_agreement: float
    max_abs_error: float
    mean_abs_error: float
    accuracy: float | None = None


@dataclass(frozen=True)
class Divergence:
    """The first place where emulator and C simulation differ.

    Attributes
    ----------
    layer, kind : hls4ml's layer name and class.
    sample : index of the first sample whose value differs in that layer.
    index : position of the first differing value in that sample's layer output.
    emulator, csim : the two values there.
    lsb_difference : their difference in LSBs of the layer's type (None when unknown).
    emulator_type, csim_type : the layer's result type on each side (they differ when the
        two were handed different configs).
    differing, total : values of the layer (all samples) that differ, and all of them.
    """

    layer: str
    kind: str
    sample: int
    index: list[int]
    emulator: float
    csim: float
    lsb_difference: float | None
    emulator_type: str | None
    csim_type: str | None
    differing: int
    total: int


@dataclass(frozen=True)
class LayerAgreement:
    """How one traced layer's outputs compare, over every sample."""

    name: str
    kind: str
    type: str | None
    identical: int
    total: int
    max_lsb_difference: float | None


@dataclass
class Comparison:
    """Result of `compare`; ``to_dict()`` gives the JSON form.

    Attributes
    ----------
    n_samples : samples compared.
    n_values : output values compared (samples x outputs per sample).
    identical : output values bit-identical between emulator and C simulation.
    output_type : the C++ type of the (first) output layer.
    max_lsb_difference : largest |emulator - C simulation| in LSBs of the output type.
    max_abs_difference : the same in absolute terms.
    first_divergence : where the two first differ (None when every traced value agrees, or
        when the C simulation gives outputs only).
    layers : per traced layer, in execution order.
    float_accuracy : float Keras against the labels (None without labels).
    emulator, csim : each side against float Keras.
    overflows : the emulator's ``{"<layer>.<type>": {count, total, share, max_abs}}``.
    histograms : the difference distributions the report plots.
    hls_tool : 'gxx', 'vivado' or 'vitis'.
    cached : the compiled C simulation came from the cache.
    timings : seconds per stage (float, emulate, convert, compile, csim).
    project_dir : the hls4ml project that was simulated.
    notes : anything the reader should know (e.g. a vendor run reports outputs only).
    """

    n_samples: int
    n_values: int
    identical: int
    output_type: str | None
    max_lsb_difference: float | None
    max_abs_difference: float
    first_divergence: Divergence | None
    layers: list[LayerAgreement]
    float_accuracy: float | None
    emulator: VsFloat
    csim: VsFloat
    overflows: dict[str, dict[str, float | int]]
    histograms: dict[str, Any]
    hls_tool: str = "gxx"
    cached: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    project_dir: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def identical_share(self) -> float:
        """Share of output values that are bit-identical."""
        return self.identical / self.n_values if self.n_values else 1.0

    @property
    def layers_agree(self) -> bool:
        """Every traced layer value is identical."""
        return all(layer.identical == layer.total for layer in self.layers)

    @property
    def agree(self) -> bool:
        """Every output value and every traced layer value is identical."""
        return self.identical == self.n_values and self.layers_agree

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists, numbers, strings, None)."""
        out = asdict(self)
        out["identical_share"] = self.identical_share
        out["agree"] = self.agree
        return _jsonable(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ------------------------------------------------------------------------------ measures
def _vs_float(side: np.ndarray, ref: np.ndarray, labels: np.ndarray | None) -> VsFloat:
    err = np.abs(side - ref)
    return VsFloat(
        top_class_agreement=metrics.agreement(side, ref),
        max_abs_error=float(err.max()),
        mean_abs_error=float(err.mean()),
        accuracy=None if labels is None else metrics.accuracy(side, labels),
    )


def _type_of(text: str | None) -> FixedType | None:
    if not text:
        return None
    try:
        return FixedType.parse(text)
    except ConfigError:
        return None


def _lsb_difference(diff: np.ndarray, t: FixedType | None) -> float | None:
    if t is None:
        return None
    return float(diff.max() / t.lsb) if diff.size else 0.0


def _lsb_histogram(diff: np.ndarray, t: FixedType | None) -> list[dict[str, Any]]:
    """Counts of |difference| in LSBs: 0, 1, 2, 3-4, 5-8, ... (ceil of non-integer ones)."""
    if t is None:
        return []
    k = np.ceil(diff.ravel() / t.lsb)
    rows = [{"label": "0", "count": int(np.count_nonzero(k == 0))}]
    top = float(k.max()) if k.size else 0.0
    if top >= 1:
        rows.append({"label": "1", "count": int(np.count_nonzero(k == 1))})
    lo = 2
    while lo <= top:
        hi = 2 * lo - 2 if lo > 2 else 2
        hi = max(hi, lo)
        label = str(lo) if hi == lo else f"{lo}-{hi}"
        rows.append({"label": label, "count": int(np.count_nonzero((k >= lo) & (k <= hi)))})
        lo = hi + 1
    return rows


def _error_histogram(errors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """log2|error| histograms on shared edges (one bin per power of two), zeros apart."""
    nonzero = [e[e > 0] for e in errors.values()]
    values = np.concatenate([e.ravel() for e in nonzero]) if nonzero else np.zeros(0)
    if values.size:
        lo = math.floor(math.log2(float(values.min())))
        hi = math.floor(math.log2(float(values.max()))) + 1
    else:
        lo, hi = -1, 0
    edges = list(range(lo, hi + 1))
    hist: dict[str, Any] = {"edges_log2": edges, "counts": {}, "zeros": {}}
    for (name, e), nz in zip(errors.items(), nonzero, strict=True):
        counts, _ = np.histogram(np.log2(nz), bins=np.asarray(edges, dtype=float))
        hist["counts"][name] = counts.tolist()
        hist["zeros"][name] = int(e.size - nz.size)
    return hist


def _first_divergence(
    name: str, kind: str, emu: np.ndarray, sim: np.ndarray, types: tuple[str | None, str | None]
) -> Divergence:
    n = len(sim)
    flat_e, flat_s = emu.reshape(n, -1), sim.reshape(n, -1)
    differs = flat_e != flat_s
    sample = int(np.argmax(differs.any(axis=1)))
    position = int(np.argmax(differs[sample]))
    index = [int(i) for i in np.unravel_index(position, sim.shape[1:])] if sim.ndim > 1 else []
    e, s = float(flat_e[sample, position]), float(flat_s[sample, position])
    t = _type_of(types[1]) or _type_of(types[0])
    return Divergence(
        layer=name,
        kind=kind,
        sample=sample,
        index=index,
        emulator=e,
        csim=s,
        lsb_difference=None if t is None else abs(e - s) / t.lsb,
        emulator_type=types[0],
        csim_type=types[1],
        differing=int(np.count_nonzero(differs)),
        total=int(differs.size),
    )


def _compare_layers(
    em: Any,
    emu_traces: Mapping[str, np.ndarray],
    sim_traces: Mapping[str, np.ndarray],
    sim_types: Mapping[str, str],
) -> tuple[list[LayerAgreement], Divergence | None, list[str]]:
    nodes = {node.name: node for node in em.nodes}
    layers: list[LayerAgreement] = []
    first: Divergence | None = None
    notes: list[str] = []
    for name, sim in sim_traces.items():  # the C simulation's execution order
        if name not in emu_traces:
            notes.append(f"layer {name} is traced by the C simulation only; not compared")
            continue
        emu = emu_traces[name]
        if emu.size != sim.size:
            notes.append(
                f"layer {name}: emulator shape {emu.shape[1:]} vs C simulation {sim.shape[1:]}; "
                "not compared"
            )
            continue
        emu = emu.reshape(sim.shape)
        node = nodes.get(name)
        kind = node.kind if node is not None else "?"
        emu_t = node.types.get("result_t") if node is not None else None
        emu_type = emu_t.to_hls() if emu_t is not None else None
        sim_type = sim_types.get(name)
        diff = np.abs(emu - sim)
        identical = int(np.count_nonzero(diff == 0))
        t = _type_of(sim_type) or emu_t
        layers.append(
            LayerAgreement(
                name,
                kind,
                sim_type or emu_type,
                identical,
                int(diff.size),
                _lsb_difference(diff, t),
            )
        )
        if first is None and identical != diff.size:
            first = _first_divergence(name, kind, emu, sim, (emu_type, sim_type))
    return layers, first, notes


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
    from emulation.graph import backend_name

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
        em = EmulatedModel(model, emu_config, backend=backend)
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
            sim = compile_sim(model, config, cache_dir=cache_dir, progress=bar, backend=backend)
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
            sim_out = run_vendor_csim(model, config, xs, ref, tool=hls_tool, project_dir=folder)
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
