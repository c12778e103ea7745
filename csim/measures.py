"""The measures of a comparison: each side against float Keras, LSB differences, the layers.

Emulator against C simulation is exact (``==`` in float64); differences are counted in LSBs of
the C simulation's type (the emulator's when the C simulation names none), and the first layer
in the C simulation's execution order whose trace differs is the `Divergence`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from csim.results import Divergence, LayerAgreement, VsFloat
from emulation import metrics
from emulation.errors import ConfigError
from emulation.fixed import FixedType


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
