"""The tuning job: data split, ranges, baselines, search, validation; plain data out.

`tune` returns a `TuneResult` that holds everything `tuning.json` records: every evaluated
candidate, the three baselines, and the final figures measured on validation data the search
never saw.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from emulation.errors import ConfigError
from emulation.fixed import FixedType, Overflow, Rounding
from emulation.graph import Graph
from emulation.hls4ml_output import quiet_hls4ml
from emulation.layers.base import Node
from emulation.model import EmulatedModel
from tuner.cost import network_cost
from tuner.evaluate import Evaluator, Reference
from tuner.metrics import ConfidentTarget, Target, top_class
from tuner.profile import (
    WEIGHT_VARIABLES,
    clean_template,
    configurable_points,
    is_multiplier_accum,
    observe_ranges,
)
from tuner.sampling import jittered, split_indices
from tuner.search import Evaluation, SearchResult, greedy_search
from tuner.space import LAYER_LEVEL_TYPES, Candidate, Point, integer_bits

__all__ = ["TuneOptions", "TuneResult", "hls4ml_default_config", "split_indices", "tune"]

# Largest value of each tabulated activation on its table's input range.
TABLE_MAX = {"sigmoid": 1.0 / (1.0 + math.exp(-8.0)), "tanh": math.tanh(4.0)}
SMALLEST_TABLE = 32
OBJECTIVES = ("bops", "ebops", "dsp", "lut")


@dataclass(frozen=True)
class TuneOptions:
    """What to tune for; the CLI's flags."""

    target: Target = field(default_factory=Target)
    objective: str = "bops"
    jobs: int = 1
    seed: int = 0
    validation_share: float = 0.3
    start_fractional: int = 10
    # how the target is applied on calibration data so that it holds on unseen data: shares
    # must meet it with this confidence; errors must stay below (1 - margin) of the bound
    confidence: float = 0.95
    calibration_margin: float = 0.5
    # integer bits tried for the uniform baseline (None: around what the widest range needs)
    uniform_integer_bits: tuple[int, ...] | None = None
    # calibration sets below `jitter_below` samples are searched with noisy copies, up to
    # `jitter_to` samples (noise: this share of each feature's spread); see tuner.sampling
    jitter_below: int = 1000
    jitter_to: int = 2000
    jitter_noise: float = 0.25


@dataclass
class TuneResult:
    """Plain data of a tuning run (the content of tuning.json)."""

    config: dict
    target: str
    search_target: str
    objective: str
    split: dict
    float_reference: dict
    ranges: dict
    result: dict
    baselines: dict
    candidates: list[dict]
    interrupted: bool
    seconds: float
    evaluations_per_second: float
    csim: dict | None = None
    profiles: dict | None = None
    model: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _float_outputs(model, x: np.ndarray) -> np.ndarray:
    y = model.predict(x.astype(np.float32), batch_size=1024, verbose=0)
    if isinstance(y, list):
        y = y[0]
    return np.asarray(y, dtype=np.float64).reshape(len(x), -1)


def hls4ml_default_config(model) -> dict:
    """hls4ml's default config (``config_from_keras_model(granularity='name')``): the
    'hls4ml default' baseline and the starting template of the search."""
    import hls4ml

    with warnings.catch_warnings(), quiet_hls4ml():
        warnings.simplefilter("ignore")
        return hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")


# The largest table the uniform baseline gives a stable softmax (hls4ml's own cap is 2^(W-1)).
MAX_UNIFORM_TABLE = 1 << 16
# Fractional bits of the uniform baseline's first try for each I (24 when that misses).
UNIFORM_FRACTIONAL = 16


def uniform_config(model, graph: Graph, t: FixedType) -> dict:
    """The uniform baseline's config: ``t`` for every type of every layer.

    The model default covers weights, biases, accumulators and results; the lookup tables
    (sigmoid/tanh ``table_t``, the softmax's ``exp_table_t``, ``inv_table_t`` and
    ``inv_inp_t``) get ``t`` through the layer-level keys hls4ml reads (its generated
    ``Precision: {table: ...}`` entries are ignored and would leave them at ``ap_fixed<18,8>``).
    A stable softmax indexes its exp table by the top bits of its input, whose integer bits a
    uniform type sets to the widest range in the network: with hls4ml's 1,024 entries that is
    too coarse for any width. So its ``TableSize`` is ``2^(W-1)`` (at most `MAX_UNIFORM_TABLE`),
    one entry per input value (hls4ml caps the exp table there): ``t`` alone limits accuracy.
    Tables cost no BOPs; their ROM shows in the LUT estimate.
    """
    import hls4ml

    with warnings.catch_warnings(), quiet_hls4ml():  # its notes would spoil --json
        warnings.simplefilter("ignore")
        cfg = hls4ml.utils.config_from_keras_model(
            model, granularity="model", backend="Vivado", default_precision=t.to_config()
        )
    layers = cfg.setdefault("LayerName", {})
    for node in graph.nodes:
        for type_name in sorted(LAYER_LEVEL_TYPES & set(node.types)):
            Point(node.name, type_name).write(layers.setdefault(node.name, {}), t)
        if table_range(node, "exp_table_t") is not None:
            layers[node.name]["TableSize"] = min(1 << (t.width - 1), MAX_UNIFORM_TABLE)
    return cfg


class _Job:
    """State shared by the phases of one tuning run."""

    def __init__(self, model, x, labels, options: TuneOptions, progress):
        self.model, self.options, self.progress = model, options, progress
        self.cal, self.val = split_indices(len(x), options.validation_share, options.seed)
        y_float = _float_outputs(model, x)
        self.float_accuracy = (
            float(np.mean(top_class(y_float) == labels)) if labels is not None else None
        )
        self.target = options.target.resolve(self.float_accuracy)
        lab = (lambda idx: labels[idx]) if labels is not None else (lambda idx: None)
        self.ref_cal = Reference(x[self.cal], y_float[self.cal], lab(self.cal))
        if self.target.metric != "accuracy" and len(self.cal) < options.jitter_below:
            xj = jittered(x[self.cal], options.jitter_to, options.jitter_noise, options.seed)
            self.ref_cal = Reference(xj, _float_outputs(model, xj))
        # the confidence counts independent samples only: jittered copies are not
        self.search_target = ConfidentTarget(
            self.target, len(self.cal), options.confidence, options.calibration_margin
        )
        self.ref_val = Reference(x[self.val], y_float[self.val], lab(self.val))
        self.template = clean_template(hls4ml_default_config(model))
        self.ranges, self.base_config, self.graph = observe_ranges(
            model, self.template, self.ref_cal.x
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
        return self.ranges.max_abs.get(p.name)

    def start(self, fractional: int) -> Candidate:
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
        return self.derive(Candidate.of(types))

    def _input_type(self, c: Candidate, node_name: str) -> FixedType:
        node = self.graph.node(node_name)
        source = Point(node.inputs[0], "result_t")
        types = c.type_map
        return types.get(source) or node.input_types[0]

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

    # ---- baselines ---------------------------------------------------------------------
    def measure(self, cfg: Mapping, name: str) -> dict:
        """Metric on calibration and validation data, and cost, of one config."""
        graph = self._graph_of(cfg)
        cal, val = (self.evaluator.metrics([graph], ref)[0] for ref in (self.ref_cal, self.ref_val))
        cost = network_cost(graph.nodes)
        return {
            "name": name,
            "metric_calibration": cal,
            "metric_validation": val,
            "met_calibration": self.target.met(cal),
            "met_validation": self.target.met(val),
            "cost": cost.to_dict(),
            "objective": cost.objective(self.options.objective),
        }

    def _graph_of(self, cfg: Mapping) -> Graph:
        from emulation.graph import build_graph

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build_graph(self.model, cfg)

    def _uniform_integer_range(self) -> range:
        """Integer bits worth trying for one type everywhere: a uniform type must hold the
        widest range, give or take a few bits that saturation or wrap-around may cost."""
        need = max((integer_bits(v, signed=True) for v in self.ranges.max_abs.values()), default=6)
        return range(max(1, need - 3), need + 2)

    def cheapest_uniform(self) -> dict | None:
        """Baseline 2: the cheapest ``ap_fixed<W,I>`` for every type that meets the target
        (`uniform_config`).

        The cost of a uniform config depends on W only: for each I, bisect W, from a first
        width that meets (``UNIFORM_FRACTIONAL`` fractional bits, else 24). The bisections of
        all I run in lock step, one parallel batch per step, and stop once they cannot beat
        the narrowest W found.
        """
        integers = self.options.uniform_integer_bits or self._uniform_integer_range()
        spans: dict[int, tuple[int, int]] = {}  # I -> (lo, hi): hi meets, lo - 1 does not
        lo_of = dict.fromkeys(integers, 1)
        for f in (UNIFORM_FRACTIONAL, 24):
            probe = {i: i + f for i in integers if i not in spans and i + f >= lo_of[i]}
            for i, ok in self._uniform_meets(probe).items():
                if ok:
                    spans[i] = (max(i + 1, lo_of[i]), i + f)
                else:
                    lo_of[i] = i + f + 1
        while True:
            best = min((hi for _, hi in spans.values()), default=None)
            probe = {i: (lo + hi) // 2 for i, (lo, hi) in spans.items() if lo < hi and lo < best}
            if not probe:
                break
            for i, ok in self._uniform_meets(probe).items():
                lo, hi = spans[i]
                spans[i] = (lo, probe[i]) if ok else (probe[i] + 1, hi)
        if not spans:
            return None
        best_w, best_i = min((hi, i) for i, (_, hi) in spans.items())
        cfg = uniform_config(self.model, self.graph, FixedType(best_w, best_i))
        return self.measure(cfg, f"uniform ap_fixed<{best_w},{best_i}>")

    def _uniform_meets(self, widths: Mapping[int, int]) -> dict[int, bool]:
        """Whether ``ap_fixed<widths[I], I>`` everywhere meets the target, for each I."""
        graphs = [
            self._graph_of(uniform_config(self.model, self.graph, FixedType(w, i)))
            for i, w in widths.items()
        ]
        metrics = self.evaluator.metrics(graphs, strict=True)
        return {i: self.search_target.met(m) for i, m in zip(widths, metrics, strict=True)}

    def overflows(self, cfg: Mapping) -> dict:
        """Overflow accounting of ``cfg`` on the validation data, per cast point."""
        em = EmulatedModel.from_graph(self._graph_of(cfg))
        em.predict(self.ref_val.x)
        return {name: p.to_dict() for name, p in em.overflows.items()}

    def range_rule_fractional(self) -> int | None:
        """The fewest common fractional bits with which the range rule passes (by bisection
        from the search's start, whose evaluations the evaluator remembers)."""
        f0, top = self.options.start_fractional, 24
        if self._start_meets(f0):
            lo, hi = 0, f0
        elif f0 < top and self._start_meets(top):
            lo, hi = f0 + 1, top
        else:
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            if self._start_meets(mid):
                hi = mid
            else:
                lo = mid + 1
        return hi

    def range_rule(self) -> dict | None:
        """Baseline 3: integer bits from the ranges, one common fractional width."""
        f = self.range_rule_fractional()
        if f is None:
            return None
        cfg = self.start(f).to_config(self.base_config)
        return self.measure(cfg, f"range rule, {f} fractional bits")

    def _start_meets(self, fractional: int) -> bool:
        """Whether the range rule with ``fractional`` bits passes as the search judges a
        candidate (the target, and nothing `check` or the overflows refuse it for)."""
        return self.evaluator.judge(self.start(fractional), "range rule").met


def table_range(node: Node, type_name: str) -> float | None:
    """Largest entry of a lookup table the tuner sets (None: a table it leaves alone).

    Sigmoid and tanh tables hold f(x) on [-8, 8) and [-4, 4): below 1. The stable softmax's
    exp table holds exp(x - max) <= 1 and its inverse table 1 / sum <= 1. The other softmax
    implementations exponentiate unbounded inputs and keep hls4ml's table types.
    """
    activation = str(node.attrs.get("activation", "")).lower()
    if type_name == "table_t" and node.kind == "Activation" and activation in TABLE_MAX:
        return TABLE_MAX[activation]
    if node.kind == "Softmax" and node.attrs.get("implementation", "stable") == "stable":
        return {"exp_table_t": 1.0, "inv_table_t": 1.0}.get(type_name)
    return None


def table_layers(graph: Graph) -> list[str]:
    """Layers whose ``TableSize`` the tuner lowers: sigmoid, tanh and the stable softmax."""
    return [
        n.name
        for n in graph.nodes
        if table_range(n, "table_t") is not None or table_range(n, "exp_table_t") is not None
    ]


def shrink_tables(result: SearchResult, layers: list[str], job: _Job) -> SearchResult:
    """Halve each table (``TableSize``) while the target holds; the tables' own precision
    was already searched with the other points."""
    best = result.best
    try:
        for layer in layers:
            size = int(job.graph.node(layer).attrs.get("table_size", 1024))
            while size // 2 >= SMALLEST_TABLE:
                sizes = dict(best.candidate.table_sizes) | {layer: size // 2}
                trial = Candidate.of(best.candidate.type_map, sizes)
                (ev,) = job.evaluator([trial], "tables")
                result.evaluations.append(ev)
                if not (ev.met and ev.key <= best.key):
                    break
                best, size = ev, size // 2
    except KeyboardInterrupt:
        result.interrupted = True
    result.best = best
    return result


def _check(job: _Job, config: Mapping) -> dict:
    """`aptune check` on the written config with the validation data: counts and every
    finding above a note. The agreement finding uses the tuning target when that is an
    agreement (another metric was what the user asked for)."""
    from emulation.check import check

    target = job.target
    result = check(
        job.model,
        config,
        job.ref_val.x,
        job.ref_val.y_float,
        agreement=target.bound if target.metric == "agreement" else None,
    )
    return {
        "counts": result.counts(),
        "findings": [asdict(f) for f in result.findings if f.severity != "note"],
    }


def _candidate_record(ev: Evaluation) -> dict:
    return {
        "phase": ev.phase,
        "metric": ev.metric,
        "cost": ev.cost,
        "secondary_cost": ev.tiebreak,
        "met": ev.met,
        "refused": ev.flaw,
        "types": ev.candidate.describe(),
    }


def tune(
    model,
    x: np.ndarray,
    labels: np.ndarray | None = None,
    options: TuneOptions | None = None,
    progress: Callable[[Any], None] | None = None,
) -> TuneResult:
    """Find minimal per-layer precisions of ``model`` that meet ``options.target`` on ``x``.

    Parameters
    ----------
    model : keras.Model
    x : inputs, shape ``(n, *input_shape)``; split (seeded) into calibration and validation.
    labels : class ids, needed for the ``accuracy`` metric.
    options : target, objective, jobs, seed.
    progress : called with every `Evaluation` and with phase names (strings).

    Returns
    -------
    TuneResult
        ``config`` is None-free only when the target was met; otherwise ``result['met']`` is
        False and ``result['best_metric']`` says the best that was reached.
    """
    options = options or TuneOptions()
    if options.objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {options.objective!r}; expected one of {OBJECTIVES}")
    started = time.perf_counter()
    notify = progress or (lambda _: None)
    job = _Job(model, x, labels, options, notify)

    notify("search")
    rule = job.range_rule_fractional()
    result = greedy_search(
        job.start(options.start_fractional),
        job.searched,
        job.evaluator,
        job.evaluator.price,
        batch=options.jobs if options.jobs > 0 else os.cpu_count() or 2,
        # constant weights never saturate: a clipped weight is a different network
        clippable=[p for p in job.searched if p.type_name not in WEIGHT_VARIABLES],
        derive=job.derive,
        seeds=[job.start(rule)] if rule is not None else [],
    )
    if result.best is not None and not result.interrupted:
        notify("table sizes")
        result = shrink_tables(result, table_layers(job.graph), job)
    search_seconds = time.perf_counter() - started
    n_eval = len(result.evaluations)

    final: dict[str, Any] = {"met": result.best is not None}
    config: dict = {}
    if result.best is not None:
        config = result.best.candidate.to_config(job.base_config)
        final.update(job.measure(config, "aptune"))
        final["types"] = result.best.candidate.describe()
        final["overflows"] = job.overflows(config)
        # nothing above a note on calibration data by construction (`Evaluator.flaw`); this
        # records what the held-out data shows (a value beyond every calibration range)
        final["check"] = _check(job, config)
    else:
        best_seen = max(result.evaluations, key=lambda e: e.score, default=None)
        final["best_metric"] = best_seen.metric if best_seen else math.nan
        final["best_types"] = best_seen.candidate.describe() if best_seen else {}

    baselines: dict[str, Any] = {}
    interrupted = result.interrupted
    if not interrupted:
        try:
            notify("baseline: hls4ml default")
            baselines["hls4ml_default"] = job.measure(
                job.template, "hls4ml default (config_from_keras_model, granularity='name')"
            )
            notify("baseline: cheapest uniform")
            baselines["cheapest_uniform"] = job.cheapest_uniform()
            notify("baseline: range rule")
            baselines["range_rule"] = job.range_rule()
        except KeyboardInterrupt:
            interrupted = True

    return TuneResult(
        config=config,
        target=str(job.target),
        search_target=str(job.search_target),
        objective=options.objective,
        split={
            "seed": options.seed,
            "validation_share": options.validation_share,
            "calibration": len(job.cal),
            "validation": len(job.val),
            "search_samples": len(job.ref_cal.x),
        },
        float_reference={"accuracy": job.float_accuracy},
        ranges=job.ranges.to_dict(),
        result=final,
        baselines=baselines,
        candidates=[_candidate_record(e) for e in result.evaluations],
        interrupted=interrupted,
        seconds=time.perf_counter() - started,
        evaluations_per_second=n_eval / search_seconds if search_seconds > 0 else 0.0,
    )
