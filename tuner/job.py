"""The state one tuning run shares between its phases: data split, float reference, target,
ranges, the points searched, the evaluator, and the candidates built from the ranges.

`TuningJob` refuses, before any search, a target the calibration data cannot prove
(`tuner.feasibility`); everything after that is measured.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from emulation.config import default_config, without_ignored_keys
from emulation.fixed import FixedType, Overflow, Rounding, integer_bits
from emulation.graph import build_graph
from emulation.layers.base import Graph, Node
from emulation.metrics import accuracy
from emulation.model import EmulatedModel
from tuner.cost import RECURRENT_KINDS, network_cost
from tuner.cures import Cures, Refusal, cure_until_clean, resolving_table
from tuner.evaluate import Evaluator, Reference
from tuner.feasibility import check_provable
from tuner.metrics import ConfidentTarget
from tuner.profile import (
    WEIGHT_VARIABLES,
    configurable_points,
    is_multiplier_accum,
    observe_ranges,
)
from tuner.sampling import jittered, split_indices
from tuner.space import Candidate, Point

__all__ = ["TABLE_MAX", "TuningJob", "float_outputs", "table_range"]

# Largest value of each tabulated activation on its table's input range.
TABLE_MAX = {"sigmoid": 1.0 / (1.0 + math.exp(-8.0)), "tanh": math.tanh(4.0)}


def float_outputs(model, x: np.ndarray) -> np.ndarray:
    """The float Keras model's outputs, flattened per sample."""
    y = model.predict(x.astype(np.float32), batch_size=1024, verbose=0)
    if isinstance(y, list):
        y = y[0]
    return np.asarray(y, dtype=np.float64).reshape(len(x), -1)


def table_range(node: Node, type_name: str) -> float | None:
    """Largest entry of a lookup table the tuner sets (None: a table it leaves alone).

    Sigmoid and tanh tables hold f(x) on [-8, 8) and [-4, 4): below 1. The stable softmax's
    exp table holds exp(x - max) <= 1 and its inverse table 1 / sum <= 1. The other softmax
    implementations exponentiate unbounded inputs and keep hls4ml's table types.
    """
    activation = str(node.attrs.get("activation", "")).lower()
    if type_name == "table_t" and node.kind == "Activation" and activation in TABLE_MAX:
        return TABLE_MAX[activation]
    if type_name == "table_t" and node.kind in RECURRENT_KINDS:
        # one table type for the sigmoid and tanh tables of every gate (and direction)
        used = [str(v).lower() for k, v in node.attrs.items() if k.endswith("activation")]
        return max((TABLE_MAX[a] for a in used if a in TABLE_MAX), default=None)
    if node.kind == "Softmax" and node.attrs.get("implementation", "stable") == "stable":
        return {"exp_table_t": 1.0, "inv_table_t": 1.0}.get(type_name)
    return None


class TuningJob:
    """State shared by the phases of one tuning run (``options`` is a `TuneOptions`)."""

    def __init__(self, model, x, labels, options: Any, progress: Callable[[Any], None]):
        self.model, self.options, self.progress = model, options, progress
        self.cal, self.val = split_indices(len(x), options.validation_share, options.seed)
        y_float = float_outputs(model, x)
        self.float_accuracy = accuracy(y_float, labels) if labels is not None else None
        self.target = options.target.resolve(self.float_accuracy)
        # before any emulation: a target these samples cannot prove is refused now
        check_provable(self.target, len(self.cal), options.confidence, options.validation_share)
        lab = (lambda idx: labels[idx]) if labels is not None else (lambda idx: None)
        self.ref_cal = Reference(x[self.cal], y_float[self.cal], lab(self.cal))
        if self.target.metric != "accuracy" and len(self.cal) < options.jitter_below:
            xj = jittered(x[self.cal], options.jitter_to, options.jitter_noise, options.seed)
            self.ref_cal = Reference(xj, float_outputs(model, xj))
        # the confidence counts independent samples only: jittered copies are not
        self.search_target = ConfidentTarget(
            self.target, len(self.cal), options.confidence, options.calibration_margin
        )
        self.ref_val = Reference(x[self.val], y_float[self.val], lab(self.val))
        # hls4ml's default: the 'hls4ml default' baseline and the search's starting template
        self.template = without_ignored_keys(default_config(model))
        self.ranges, self.base_config, self.graph = observe_ranges(
            model, self.template, self.ref_cal.x, options.backend, options.io_type
        )
        self.feeds_stable_softmax = {
            n.inputs[0]
            for n in self.graph.nodes
            if n.kind == "Softmax"
            and n.inputs
            and n.attrs.get("implementation", "stable") == "stable"
        }
        self.points = configurable_points(self.graph, self.template)
        self.accums = [p for p in self.points if is_multiplier_accum(self.graph.node(p.layer), p)]
        self.searched = [
            p for p in self.points if p not in self.accums and self._range_of(p) is not None
        ]
        self.cures = Cures(self.graph, self.searched)
        self.evaluator = Evaluator(
            model,
            self.graph,
            self.base_config,
            self.ref_cal,
            self.search_target,
            options.objective,
            options.jobs,
            on_evaluation=progress,
            watched=frozenset(p.name for p in self.points),
        )

    # ---- the start candidate and the derived accumulators -------------------------------
    def _range_of(self, p: Point) -> float | None:
        node = self.graph.node(p.layer)
        if p.is_table:
            return table_range(node, p.type_name)
        if p.type_name in WEIGHT_VARIABLES:
            values = node.raw_weights.get(WEIGHT_VARIABLES[p.type_name])
            return None if values is None else float(np.max(np.abs(values), initial=0.0))
        observed = self.ranges.max_abs.get(p.name)
        if node.kind == "Softmax" and p.type_name == "result_t" and observed is not None:
            # a softmax output reaches 1 (one class dominating), whatever the wide config
            # showed: its softmax may have collapsed to 1/n per class (hls4ml's default table
            # is too coarse for a wide input), and a type fitted to 1/n wraps the top class
            return 1.0
        return observed

    def start(self, fractional: int) -> Candidate:
        """The range rule: integer bits from the observed ranges, ``fractional`` bits after."""
        types = {}
        for p in self.searched:
            current = self.graph.node(p.layer).types[p.type_name]
            signed = not (p.type_name == "result_t" and self.ranges.non_negative.get(p.layer))
            i = integer_bits(self._range_of(p), signed)
            if p.type_name == "result_t" and p.layer in self.feeds_stable_softmax:
                # the stable softmax holds x_max - x, up to twice the range, in inp_norm_t,
                # which has one integer bit fewer than its input: without this bit it wraps
                i += 1
            if p.type_name in WEIGHT_VARIABLES:
                # constants are rounded when the C++ is compiled: to nearest, and saturating
                # (a largest weight that rounds up stays in range), costs no hardware
                modes: tuple = (Rounding.RND, Overflow.SAT)
            elif p.type_name != "result_t":
                modes = (current.rounding, current.overflow)
            else:
                modes = ()
            types[p] = FixedType(max(i + fractional, 1), i, signed, *modes)
        return self.derive(Candidate.of(types, self._resolving_tables(types)))

    def _resolving_tables(self, types: Mapping[Point, FixedType]) -> dict[str, int]:
        """Exp tables fine enough for the start's softmax inputs (`resolving_table`)."""
        sizes = {}
        for node in self.graph.nodes:
            if node.inputs and node.inputs[0] in self.feeds_stable_softmax:
                feeder_t = types.get(Point(node.inputs[0], "result_t"))
                if feeder_t is not None and node.kind == "Softmax":
                    default = int(node.attrs.get("exp_table_size", 1024))
                    size = resolving_table(feeder_t, default)
                    # hls4ml shrinks a table past 2^W of its inverse table's type: ask for
                    # no more, so that the config says what the firmware gets
                    inv_t = types.get(Point(node.name, "inv_table_t"))
                    if inv_t is not None:
                        size = min(size, max(default, 1 << inv_t.width))
                    sizes[node.name] = size
        return sizes

    def cured_start(self, fractional: int) -> Candidate:
        """`start` with what refuses it cured where the refusal names (`tuner.cures`)."""
        return cure_until_clean(self.refusal_of, self.start(fractional), self.cures)

    def refusal_of(self, c: Candidate) -> tuple[bool, Refusal | None]:
        ev = self.evaluator.judge(self.derive(c), "range rule")
        return ev.met, ev.refusal

    def _input_type(self, c: Candidate, node_name: str) -> FixedType:
        node = self.graph.node(node_name)
        source = Point(node.inputs[0], "result_t")
        return c.type_map.get(source) or node.input_types[0]

    def derive(self, c: Candidate) -> Candidate:
        """Accumulators keep every product bit, and the observed range plus a guard bit."""
        types = c.type_map
        changes = []
        for acc in self.accums:
            node = self.graph.node(acc.layer)
            w = types.get(Point(acc.layer, "weight_t"), node.types.get("weight_t"))
            x_t = self._input_type(c, acc.layer)
            seen = max(
                self.ranges.max_abs.get(acc.name, 0.0),
                self.ranges.max_abs.get(f"{acc.layer}.result_t", 0.0),
            )
            i = integer_bits(seen, signed=True) + 1
            f = w.fractional + x_t.fractional
            changes.append((acc, FixedType(max(i + f, 1), i)))
        return c.with_types(changes) if changes else c

    # ---- whole configs (baselines and the result) ---------------------------------------
    def graph_of(self, cfg: Mapping) -> Graph:
        """hls4ml's graph of a whole config."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build_graph(
                self.model, cfg, backend=self.graph.backend, io_type=self.graph.io_type
            )

    def measure(self, cfg: Mapping, name: str) -> dict:
        """Metric on calibration and validation data, cost, and whether the search would take
        it: met on calibration as the search judges (confidence included) and not refused."""
        graph = self.graph_of(cfg)
        cal, val = (self.evaluator.metrics([graph], ref)[0] for ref in (self.ref_cal, self.ref_val))
        _, met_search, refusal = self.evaluator.judge_config(cfg, graph)
        cost = network_cost(graph.nodes)
        return {
            "name": name,
            "metric_calibration": cal,
            "metric_validation": val,
            "met_calibration": self.target.met(cal),
            "met_validation": self.target.met(val),
            "met_search": met_search,
            "refused": str(refusal) if refusal else "",
            "cost": cost.to_dict(),
            "objective": cost.objective(self.options.objective),
        }

    def overflows(self, cfg: Mapping) -> dict:
        """Overflow accounting of ``cfg`` on the validation data, per cast point."""
        em = EmulatedModel.from_graph(self.graph_of(cfg))
        em.predict(self.ref_val.x)
        return {name: p.to_dict() for name, p in em.overflows.items()}
