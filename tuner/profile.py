"""Observed ranges of every cast point on calibration data, and the points the tuner sets.

The ranges come from the emulator itself run with wide types: every cast records the largest
|value| it saw before casting (`emulation.layers.base.Context`), which is exactly the range the
type must cover. A point whose wide type still overflowed is widened and the run repeated, so
the ranges are never clipped by the measurement.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from emulation.config import LAYER_LEVEL_TYPES
from emulation.fixed import FixedType, integer_bits
from emulation.graph import build_graph
from emulation.layers.base import Graph, Node
from emulation.model import EmulatedModel
from tuner.cost import MULTIPLYING_KINDS
from tuner.space import Point

__all__ = ["Ranges", "configurable_points", "observe_ranges"]

WIDE_FRACTIONAL = 16
WIDE_RESULT_INTEGER = 12
MAX_ROUNDS = 5
# Weight-like types: the name of the weight variable whose values they hold.
WEIGHT_VARIABLES = {"weight_t": "weight", "bias_t": "bias", "scale_t": "scale"}
# LSTM / GRU: recurrent kernels and biases; Bidirectional: each direction's four
WEIGHT_VARIABLES.update(recurrent_weight_t="recurrent_weight", recurrent_bias_t="recurrent_bias")
WEIGHT_VARIABLES.update(
    {f"{d}_{w}_t": f"{d}_{w}" for d in ("forward", "backward") for w in ("weight", "bias")}
)
WEIGHT_VARIABLES.update(
    {
        f"{d}_recurrent_{w}_t": f"{d}_recurrent_{w}"
        for d in ("forward", "backward")
        for w in ("weight", "bias")
    }
)
# Activations whose output is never negative: their results may be unsigned.
NON_NEGATIVE = frozenset({"relu", "sigmoid", "hard_sigmoid", "softmax", "softplus"})


@dataclass(frozen=True)
class Ranges:
    """Largest |value| before each cast (by point name) and which outputs are never negative."""

    max_abs: Mapping[str, float]
    non_negative: Mapping[str, bool]
    rounds: int

    def to_dict(self) -> dict:
        return {"max_abs": dict(self.max_abs), "non_negative": dict(self.non_negative)}


def _held_points(graph: Graph) -> set[Point]:
    """Points the tuner holds at the template's type: every LSTM's accum_t and result_t and the
    result_t of the layers feeding one. hls4ml 1.3 compiles an LSTM only when its input type,
    accum_t and result_t are one type (`emulation.layers.recurrent`), so none of the three can
    move on its own."""
    held = set()
    for node in graph.nodes:
        if node.kind == "LSTM":
            held.update({Point(node.name, "accum_t"), Point(node.name, "result_t")})
            held.update(Point(name, "result_t") for name in node.inputs)
    return held


def configurable_points(graph: Graph, template: Mapping) -> list[Point]:
    """Points of ``graph`` that a config can set: every arithmetic type named in the
    layer's ``Precision`` section and every table type the layer has (but an LSTM's accum_t
    and result_t and its input's result_t: `_held_points`)."""
    layers = template.get("LayerName", {})
    held = _held_points(graph)
    points = []
    for node in graph.nodes:
        precision = layers.get(node.name, {}).get("Precision", {})
        for type_name in node.types:
            if Point(node.name, type_name) in held:
                continue
            if type_name in LAYER_LEVEL_TYPES or type_name.removesuffix("_t") in precision:
                points.append(Point(node.name, type_name))
    return points


def is_multiplier_accum(node: Node, point: Point) -> bool:
    """The accumulator of a Dense/Conv layer: derived from its operands, never searched."""
    return point.type_name == "accum_t" and node.kind in MULTIPLYING_KINDS


def _emulate(
    model, cfg: Mapping, x: np.ndarray, backend: str = "Vivado", io_type: str = "io_parallel"
) -> tuple[Graph, EmulatedModel]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = build_graph(model, cfg, backend=backend, io_type=io_type)
    em = EmulatedModel.from_graph(graph)
    em.predict(x)
    return graph, em


def _wide_type(node: Node, point: Point, integer: Mapping[str, int]) -> FixedType | None:
    """A type wide enough to measure the range at ``point`` (None: keep hls4ml's)."""
    if point.type_name in WEIGHT_VARIABLES:
        values = node.raw_weights.get(WEIGHT_VARIABLES[point.type_name])
        if values is None:
            return None
        i = integer_bits(float(np.max(np.abs(values), initial=0.0)), signed=True)
        # at least WIDE_FRACTIONAL significant bits: tiny weights (a layer of |w| < 2^-16) get
        # a negative I and still a positive width
        return FixedType(max(i, 0) + WIDE_FRACTIONAL, i)
    if point.type_name == "result_t":
        i = integer.get(point.name, WIDE_RESULT_INTEGER)
        return FixedType(i + WIDE_FRACTIONAL, i)
    if is_multiplier_accum(node, point):
        i = integer.get(point.name, 2 * WIDE_RESULT_INTEGER)
        return FixedType(i + 2 * WIDE_FRACTIONAL, i)
    return None


def wide_config(graph: Graph, template: Mapping, integer: Mapping[str, int]) -> dict:
    """``template`` with every arithmetic point set to a wide explicit type."""
    cfg = copy.deepcopy(dict(template))
    layers = cfg.setdefault("LayerName", {})
    for point in configurable_points(graph, template):
        t = _wide_type(graph.node(point.layer), point, integer)
        if t is not None:
            point.write(layers.setdefault(point.layer, {}), t)
    return cfg


def observe_ranges(
    model,
    template: Mapping,
    x: np.ndarray,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> tuple[Ranges, dict, Graph]:
    """Ranges of every cast point on ``x``; also the wide config and its graph.

    The wide config (every arithmetic type explicit) is the base the tuner writes its
    candidates into: with explicit types, hls4ml's graph no longer depends on 'auto' inference.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = build_graph(model, template, backend=backend, io_type=io_type)
    integer: dict[str, int] = {}
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        cfg = wide_config(graph, template, integer)
        graph, em = _emulate(model, cfg, x, backend, io_type)
        overflowed = {name: p for name, p in em.overflows.items() if p.count}
        if not overflowed:
            break
        for name, p in overflowed.items():
            integer[name] = integer_bits(p.max_abs, signed=True) + 1
    trace = em.trace(x)
    non_negative = {}
    for node in graph.nodes:
        activation = str(node.attrs.get("activation", "")).lower()
        if node.kind == "Softmax" or activation in NON_NEGATIVE:
            values = trace.get(node.name)
            non_negative[node.name] = values is None or bool(np.min(values, initial=0.0) >= 0)
    max_abs = {name: float(p.max_abs) for name, p in em.overflows.items()}
    return Ranges(max_abs, non_negative, rounds), cfg, graph
