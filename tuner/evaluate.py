"""Evaluate candidates: hls4ml graph (main process) -> emulator (workers) -> metric and cost.

hls4ml's conversion needs the Keras model and takes milliseconds, so it runs here; the
emulator needs only the plain graph, so candidates fan out to workers that never import
TensorFlow: a Dask cluster when one is entered (`tuner.cluster`), else the joblib backend the
caller configured (``with joblib.parallel_config(backend="dask"):`` around `tuner.tune.tune`,
or Ray's), else loky processes for ``jobs != 1``. Inside an active checkpoint
(`tuner.checkpoint`) every emulation is looked up before it runs and recorded as it arrives.
"""

from __future__ import annotations

import functools
import math
import os
import time
import warnings
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib import parallel as joblib_parallel
from threadpoolctl import ThreadpoolController

from emulation.check import graph_findings
from emulation.errors import ConfigError, UnsupportedLayerError
from emulation.fixed import FixedType, Overflow
from emulation.graph import build_graph
from emulation.hls_nodes import decimal_text_values
from emulation.layers.base import Graph, Node, QuantPoint
from emulation.metrics import Target, evaluate
from emulation.model import EmulatedModel, cast_type, warm_up
from tuner import checkpoint, cluster
from tuner.cost import MULTIPLYING_KINDS, RECURRENT_KINDS, Cost, network_cost
from tuner.cures import Refusal
from tuner.metrics import ConfidentTarget
from tuner.search import Evaluation
from tuner.space import Candidate, Point

__all__ = ["Evaluator", "Reference"]


@dataclass(frozen=True)
class Reference:
    """Data the metric is measured on: inputs, float outputs, optional labels."""

    x: np.ndarray
    y_float: np.ndarray
    labels: np.ndarray | None = None


# Saturation may clip a rare outlier; a type that clips more than this share of a point's
# calibration values is fitted to those samples and fails on the next ones.
RARE_OVERFLOW = 0.01


# whether this process has emulated once (see `emulated_metric`)
_warm = False


def emulated_metric(
    graph: Graph | None,
    ref: Reference,
    metric: str,
    watched: Collection[str] = (),
    strict: bool = False,
) -> tuple[float, Refusal | None, float]:
    """The metric of the emulated graph on ``ref``, what its overflows refuse it for (None if
    nothing; see `overflow_flaw`) and the CPU seconds the emulator took. Runs in a worker.

    NaN for a candidate hls4ml's C++ cannot realise (e.g. a softmax table larger than its
    index type can address): the search treats it as missing the target.
    """
    if graph is None:
        return math.nan, None, 0.0
    global _warm
    em = EmulatedModel.from_graph(graph)
    warm_up(graph)  # the compiled loops' one-time set-up is not this candidate's time
    # the emulation's CPU time (one thread: BLAS is limited to one below, the compiled loop
    # runs in this thread), so the load of a shared machine does not enter a candidate's time
    started = time.thread_time()
    try:
        # one BLAS thread: the matrices are small (samples x a few hundred), where OpenBLAS's
        # threads cost more than they save (4x slower on a busy 2-core machine), and the
        # parallelism is over candidates
        with _blas().limit(limits=1, user_api="blas"):
            if not _warm:
                # a process's first emulation also pays for fresh memory pages and lazily
                # built caches that every later one reuses (10x a small model's time): run
                # it once untimed, so that no candidate's time holds it
                _warm = True
                em.predict(ref.x)
                started = time.thread_time()
            y = em.predict(ref.x)
    except (ConfigError, UnsupportedLayerError):
        return math.nan, None, time.thread_time() - started
    seconds = time.thread_time() - started
    value = evaluate(metric, y, ref.y_float, ref.labels, strict=strict)
    return value, overflow_flaw(graph, em.overflows, watched), seconds


def overflow_flaw(
    graph: Graph, overflows: Mapping[str, QuantPoint], watched: Collection[str]
) -> Refusal | None:
    """Why the overflows of one run refuse a candidate (None when they do not).

    A value that wraps around anywhere (a sign flip, or the stable softmax's ``x_max - x``
    wrapping to a small difference) refuses it; a saturating type the tuner set (``watched``)
    may clip at most `RARE_OVERFLOW` of its values.
    """
    for name, p in overflows.items():
        if not p.count:
            continue
        t = cast_type(graph, name)
        saturates = t is not None and t.overflow in (Overflow.SAT, Overflow.SAT_SYM)
        if not saturates:
            return Refusal("wrap", name, f"{p.count} value(s) wrap around at {name}")
        if name in watched and p.share > RARE_OVERFLOW:
            return Refusal("saturation", name, f"{p.share:.1%} of the values at {name} saturate")
    return None


Outcome = tuple[float, Refusal | None, float]

# Times a joblib batch is sent again after a worker process died under it.
RETRIES = 2


def _metrics_of(k: int, graphs: Sequence[Graph | None], *args: Any) -> tuple[int, list[Outcome]]:
    """`emulated_metric` of several graphs: one worker task (``k`` says which chunk)."""
    return k, [emulated_metric(g, *args) for g in graphs]


def user_parallel_config() -> dict[str, Any]:
    """The backend and n_jobs the caller set with ``joblib.parallel_config`` (empty: none)."""
    config = getattr(joblib_parallel._backend, "config", None) or {}
    unset = joblib_parallel.default_parallel_config
    keys = ("backend", "n_jobs")
    return {k: config[k] for k in keys if k in config and config[k] is not unset[k]}


def _terminated() -> tuple[type[BaseException], ...]:
    try:
        from joblib.externals.loky.process_executor import TerminatedWorkerError
    except ImportError:  # pragma: no cover - joblib without loky
        return ()
    return (TerminatedWorkerError,)


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


class Evaluator:
    """Turns candidates into `Evaluation`s on the calibration data, with a graph cache."""

    def __init__(
        self,
        model,
        base_graph: Graph,
        base_config: Mapping,
        ref: Reference,
        target: Target | ConfidentTarget,
        objective: str = "luteq",
        jobs: int = 1,
        on_evaluation=None,
        watched: Collection[str] = (),
    ):
        self.model = model
        self.base_graph = base_graph
        self._weights: dict[tuple, np.ndarray] = {}  # (layer, [variable,] type) -> values
        self.base_config = base_config
        self.ref = ref
        self.target = target
        self.objective = objective
        self.jobs = jobs
        self.on_evaluation = on_evaluation
        # the cast points the tuner sets: too many overflows there refuse a candidate (other
        # points saturate by hls4ml's design, e.g. the stable softmax's normalised input)
        self.watched = frozenset(watched)
        self._graphs: OrderedDict[Candidate, Graph] = OrderedDict()
        # every evaluation on ``ref``: a baseline reuses what the search already judged
        self._judged: dict[Candidate, Evaluation] = {}
        self._ref_hashes: dict[int, tuple[Reference, str]] = {}

    def graph(self, candidate: Candidate) -> Graph | None:
        """hls4ml's graph for ``candidate`` (cached: pricing and evaluating share it); None
        when hls4ml refuses the config."""
        if candidate in self._graphs:
            return self._graphs[candidate]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cfg = candidate.to_config(self.base_config)
                base = self.base_graph
                g = build_graph(self.model, cfg, backend=base.backend, io_type=base.io_type)
        except (ConfigError, UnsupportedLayerError):
            g = None
        self._graphs[candidate] = g
        if len(self._graphs) > 256:
            self._graphs.popitem(last=False)
        return g

    def price(self, candidates: Sequence[Candidate]) -> list[tuple[float, float]]:
        """(objective, secondary) cost of each candidate, without hls4ml or the emulator.

        The multiplying layers of the base graph are retyped as the candidate says (weights
        re-quantized the way hls4ml writes them); `__call__` later costs the real graph.
        """
        return [self._cost_key(network_cost(self._retyped(c))) for c in candidates]

    def _retyped(self, c: Candidate) -> list[Node]:
        types = c.type_map
        nodes = []
        sizes = dict(c.table_sizes)
        for node in self.base_graph.nodes:
            new_types = dict(node.types)
            for name in new_types:
                new_types[name] = types.get(Point(node.name, name), new_types[name])
            if node.name in sizes:
                size = sizes[node.name]
                attrs = {
                    k: (size if k.endswith("table_size") else v) for k, v in node.attrs.items()
                }
                node = replace(node, attrs=attrs)
            ks = [k for k in node.raw_weights if k.endswith("weight") and f"{k}_t" in new_types]
            if node.kind not in MULTIPLYING_KINDS | RECURRENT_KINDS or not ks:
                nodes.append(replace(node, types=new_types))
                continue
            weights = {
                **node.weights,
                **{k: self._written(node, k, new_types[f"{k}_t"]) for k in ks},
            }
            x_t = types.get(Point(node.inputs[0], "result_t"), node.input_types[0])
            inputs = (x_t, *node.input_types[1:])
            nodes.append(replace(node, types=new_types, weights=weights, input_types=inputs))
        return nodes

    def _written(self, node: Node, key: str, w_t: FixedType) -> np.ndarray:
        """A kernel (``weight``, ``recurrent_weight``, ...) as hls4ml writes it in ``w_t``."""
        if (node.name, key, w_t) not in self._weights:
            text = decimal_text_values(node.raw_weights[key], max(0, w_t.fractional))
            self._weights[node.name, key, w_t] = w_t.quantize(text)
        return self._weights[node.name, key, w_t]

    def _key(self, graph: Graph | None) -> tuple[float, float]:
        if graph is None:
            return math.inf, math.inf
        return self._cost_key(network_cost(graph.nodes))

    def _cost_key(self, cost: Cost) -> tuple[float, float]:
        secondary = cost.bops if self.objective in ("lut", "luteq") else cost.lut
        return cost.objective(self.objective), secondary

    def flaw(self, candidate: Candidate, graph: Graph | None) -> Refusal | None:
        """The first finding above a note that `aptune check` reports on the candidate's graph
        (None when clean): a softmax too coarse, weights that wrap or mostly round to zero."""
        return self.config_flaw(candidate.to_config(self.base_config), graph)

    def config_flaw(self, cfg: Mapping, graph: Graph | None) -> Refusal | None:
        """`flaw` of a whole config (a baseline's) and its graph."""
        if graph is None:
            return None
        for f in graph_findings(cfg, graph):
            if f.severity != "note":
                return Refusal(f.code, f.layer or "", f"{f.severity} {f.code} at {f.layer}")
        return None

    def metrics(
        self, graphs: Sequence[Graph], ref: Reference | None = None, *, strict: bool = False
    ) -> list[float]:
        """The metric of each graph on ``ref`` (default: the calibration data), in parallel;
        ``strict``: as the search judges it (see `emulation.metrics.evaluate`)."""
        return [m for m, _, _ in self._emulate(graphs, ref or self.ref, strict)]

    def _emulate(
        self, graphs: Sequence[Graph | None], ref: Reference, strict: bool
    ) -> list[Outcome]:
        """`emulated_metric` of each graph: recorded outcomes from the active checkpoint, the
        rest on the active cluster, the caller's joblib backend, loky, or here."""
        args = (self.target.metric, self.watched, strict)
        cp = checkpoint.active()
        keys = [self._emulation_key(g, ref, strict) for g in graphs] if cp is not None else []
        out: list[Outcome | None] = (
            [cp.get(k) for k in keys] if cp is not None else [None] * len(graphs)
        )
        todo = [i for i, o in enumerate(out) if o is None]

        def arrived(results: Mapping[int, Outcome]) -> None:
            for i, o in results.items():
                out[todo[i]] = o
            if cp is not None:
                cp.record({keys[todo[i]]: o for i, o in results.items()})

        if todo:
            self._run([graphs[i] for i in todo], ref, args, arrived)
        return out  # type: ignore[return-value]

    def _emulation_key(self, graph: Graph | None, ref: Reference, strict: bool) -> str:
        entry = self._ref_hashes.get(id(ref))
        if entry is None:
            entry = (ref, checkpoint.array_digest(ref.x, ref.y_float, ref.labels))
            self._ref_hashes[id(ref)] = entry  # holds ``ref``: its id stays unique
        g = checkpoint.graph_digest(graph) if graph is not None else "none"
        return checkpoint.emulation_key(g, entry[1], self.target.metric, self.watched, strict)

    def _run(self, graphs: Sequence[Graph | None], ref: Reference, args: tuple, arrived) -> None:
        """Emulate ``graphs``, calling ``arrived({index: outcome})`` as results come back. A
        single graph is emulated here: a round trip to a worker costs more than it saves."""
        dask = cluster.active()
        if dask is not None and len(graphs) > 1:
            dask.map(emulated_metric, graphs, ref, args, lambda i, o: arrived({i: o}))
            return
        parallel, workers = self._parallel()
        if parallel is None or len(graphs) == 1:
            for i, g in enumerate(graphs):
                arrived({i: emulated_metric(g, ref, *args)})
            return
        # one task per worker, not per graph: the reference data (about 1 MB for 10,000
        # samples) is then sent once per worker, not once per ~50 ms evaluation
        n = min(len(graphs), workers)
        chunks = {k: list(range(k, len(graphs), n)) for k in range(n)}
        for attempt in range(RETRIES + 1):
            tasks = (
                delayed(_metrics_of)(k, [graphs[i] for i in idx], ref, *args)
                for k, idx in chunks.items()
            )
            try:
                for k, part in parallel(tasks):
                    arrived(dict(zip(chunks.pop(k), part, strict=True)))
                return
            except _terminated():
                # a worker process died under its batch: what arrived is kept (and
                # checkpointed), the rest is sent again
                if attempt == RETRIES:
                    raise

    def _parallel(self) -> tuple[Parallel | None, int]:
        """The joblib runner and its worker count: the backend the caller configured with
        ``joblib.parallel_config`` (parallel even for ``jobs == 1``), else loky for
        ``jobs != 1``, else None (emulate here)."""
        user = user_parallel_config()
        unordered = {"return_as": "generator_unordered"}
        if user:
            n_jobs = user.get("n_jobs", self.jobs if self.jobs != 1 else -1)
            backend, _ = joblib_parallel.get_active_backend()
            if not getattr(backend, "supports_return_generator", False):
                unordered = {}  # a backend that hands results back only all at once
            return Parallel(n_jobs=n_jobs, **unordered), effective_n_jobs(n_jobs)
        if self.jobs == 1:
            return None, 1
        workers = self.jobs if self.jobs > 0 else max(1, (os.cpu_count() or 2) + 1 + self.jobs)
        # max_nbytes=None: the reference is pickled to the workers rather than memory-mapped
        # through /dev/shm, whose clean-up in loky's resource tracker races and prints
        # KeyError tracebacks into the user's terminal (joblib's known issue)
        return Parallel(n_jobs=self.jobs, backend="loky", max_nbytes=None, **unordered), workers

    def judge_config(self, cfg: Mapping, graph: Graph) -> tuple[float, bool, Refusal | None]:
        """A whole config (a baseline's) judged as the search judges a candidate: its strict
        metric on the calibration data, whether that meets the search target, its refusal."""
        ((m, overflow, _),) = self._emulate([graph], self.ref, True)
        met = self.target.met(m)
        return m, met, (self.config_flaw(cfg, graph) or overflow) if met else None

    @property
    def judged_count(self) -> int:
        """Distinct candidates judged so far (what the progress display counts)."""
        return len(self._judged)

    def judge(self, candidate: Candidate, phase: str = "baseline") -> Evaluation:
        """One candidate's `Evaluation`, as the search judges it (remembered)."""
        if candidate not in self._judged:
            self([candidate], phase)
        return self._judged[candidate]

    def __call__(self, candidates: Sequence[Candidate], phase: str) -> list[Evaluation]:
        # a candidate judged before (the range rule's bisection runs ahead of the search, whose
        # start and seed it has already emulated) is not emulated again, only re-labelled
        new = [c for c in dict.fromkeys(candidates) if c not in self._judged]
        graphs = [self.graph(c) for c in new]
        judged = self._emulate(graphs, self.ref, True) if new else []
        for c, g, (m, overflow, seconds) in zip(new, graphs, judged, strict=True):
            cost, secondary_cost = self._key(g)
            score = -math.inf if math.isnan(m) else m if self.target.higher_is_better else -m
            met = self.target.met(m)
            refusal = (self.flaw(c, g) or overflow) if met else None
            self._judged[c] = Evaluation(
                c, m, score, cost, secondary_cost, met and refusal is None, phase, refusal, seconds
            )
        out = [replace(self._judged[c], phase=phase) for c in candidates]
        if self.on_evaluation is not None:
            for ev in out:
                self.on_evaluation(ev)
        return out
