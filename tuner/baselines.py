"""The three baselines every tuning result is measured against, and may fall back to.

1. hls4ml's default config (``config_from_keras_model(granularity='name')``);
2. the cheapest uniform ``ap_fixed<W,I>`` that meets the target (`cheapest_uniform`);
3. the range rule: integer bits from the observed ranges, one common fractional width
   (`range_rule`), its refusals cured as the search cures them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from emulation.config import LAYER_LEVEL_TYPES, default_config
from emulation.fixed import FixedType, integer_bits
from emulation.layers.base import Graph
from tuner.job import TuningJob, table_range
from tuner.space import Point

__all__ = ["cheapest_uniform", "range_rule", "range_rule_fractional", "uniform_config"]

# The largest table the uniform baseline gives a stable softmax (hls4ml's own cap is 2^(W-1)).
MAX_UNIFORM_TABLE = 1 << 16
# Fractional bits of the uniform baseline's first try for each I (24 when that misses).
UNIFORM_FRACTIONAL = 16
# Most fractional bits the range rule tries.
RANGE_RULE_TOP = 24


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
    cfg = default_config(model, granularity="model", default_precision=t.to_config())
    layers = cfg.setdefault("LayerName", {})
    for node in graph.nodes:
        for type_name in sorted(LAYER_LEVEL_TYPES & set(node.types)):
            Point(node.name, type_name).write(layers.setdefault(node.name, {}), t)
        if table_range(node, "exp_table_t") is not None:
            layers[node.name]["TableSize"] = min(1 << (t.width - 1), MAX_UNIFORM_TABLE)
    return cfg


def _uniform_integer_range(job: TuningJob) -> range:
    """Integer bits worth trying for one type everywhere: a uniform type must hold the
    widest range, give or take a few bits that saturation or wrap-around may cost."""
    need = max((integer_bits(v, signed=True) for v in job.ranges.max_abs.values()), default=6)
    return range(max(1, need - 3), need + 2)


def cheapest_uniform(job: TuningJob) -> dict | None:
    """The cheapest ``ap_fixed<W,I>`` for every type that meets the target (`uniform_config`).

    The cost of a uniform config depends on W only: for each I, bisect W, from a first width
    that meets (``UNIFORM_FRACTIONAL`` fractional bits, else 24). The bisections of all I run
    in lock step, one parallel batch per step, and stop once they cannot beat the narrowest W
    found.
    """
    integers = job.options.uniform_integer_bits or _uniform_integer_range(job)
    spans: dict[int, tuple[int, int]] = {}  # I -> (lo, hi): hi meets, lo - 1 does not
    lo_of = dict.fromkeys(integers, 1)
    for f in (UNIFORM_FRACTIONAL, 24):
        probe = {i: i + f for i in integers if i not in spans and i + f >= lo_of[i]}
        for i, ok in uniform_meets(job, probe).items():
            if ok:
                spans[i] = (max(i + 1, lo_of[i]), i + f)
            else:
                lo_of[i] = i + f + 1
    while True:
        best = min((hi for _, hi in spans.values()), default=None)
        probe = {i: (lo + hi) // 2 for i, (lo, hi) in spans.items() if lo < hi and lo < best}
        if not probe:
            break
        for i, ok in uniform_meets(job, probe).items():
            lo, hi = spans[i]
            spans[i] = (lo, probe[i]) if ok else (probe[i] + 1, hi)
    if not spans:
        return None
    best_w, best_i = min((hi, i) for i, (_, hi) in spans.items())
    cfg = uniform_config(job.model, job.graph, FixedType(best_w, best_i))
    return job.measure(cfg, f"uniform ap_fixed<{best_w},{best_i}>") | {"config": cfg}


def uniform_meets(job: TuningJob, widths: Mapping[int, int]) -> dict[int, bool]:
    """Whether ``ap_fixed<widths[I], I>`` everywhere meets the target, for each I."""
    graphs = [
        job.graph_of(uniform_config(job.model, job.graph, FixedType(w, i)))
        for i, w in widths.items()
    ]
    metrics = job.evaluator.metrics(graphs, strict=True)
    return {i: job.search_target.met(m) for i, m in zip(widths, metrics, strict=True)}


def range_rule_fractional(job: TuningJob, deadline: float | None = None) -> int | None:
    """The fewest common fractional bits with which the (cured) range rule passes, by
    bisection from the search's start, whose evaluations the evaluator remembers.

    Above the start it steps up by 2, 4, 8, ... bits rather than jumping to `RANGE_RULE_TOP`:
    the widest candidates are the slowest to emulate (accumulators past 64 bits take the
    Python-integer path), so they are tried last. No evaluation starts after ``deadline``
    (`time.monotonic`); the rule then gives the fewest passing bits found so far, or None.
    """
    f0, top = job.options.start_fractional, RANGE_RULE_TOP
    if _passes(job, f0):
        lo, hi = 0, f0
    else:
        lo, hi, step = f0 + 1, None, 2
        while hi is None:
            f = min(top, lo - 1 + step)
            if lo > top or _late(deadline):
                return None
            if _passes(job, f):
                hi = f
            else:
                lo, step = f + 1, step * 2
    while lo < hi and not _late(deadline):
        mid = (lo + hi) // 2
        if _passes(job, mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def range_rule(job: TuningJob, fractional: int | None) -> dict | None:
    """The range rule with ``fractional`` bits (`range_rule_fractional`), measured."""
    if fractional is None:
        return None
    cfg = job.derive(job.cured_start(fractional)).to_config(job.base_config)
    return job.measure(cfg, f"range rule, {fractional} fractional bits") | {"config": cfg}


def _passes(job: TuningJob, fractional: int) -> bool:
    """Whether the range rule with ``fractional`` bits, cured, passes as the search judges a
    candidate (the target, and nothing `check` or the overflows refuse it for)."""
    return job.evaluator.judge(job.derive(job.cured_start(fractional)), "range rule").met
