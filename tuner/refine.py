"""What the search refines after its descent, one place at a time: table sizes, and the
accumulators' fractional bits.

Both run on the descent's best with the others fixed, and keep a change only when it still
meets the target and costs no more. Accumulators are derived during the search (every product's
fractional bits kept, so each candidate takes the emulator's one-matmul path); only here is an
accumulator given fewer, which makes each product round on its own before the sum, as the C++
casts it, and costs a pass per product in the emulator: a few candidates per layer, not the
whole search.
"""

from __future__ import annotations

from emulation.fixed import FixedType
from tuner.job import TuningJob, table_range
from tuner.search import SearchResult
from tuner.space import Candidate

__all__ = [
    "SMALLEST_TABLE",
    "fewest_fractional",
    "shrink_tables",
    "table_layers",
    "trim_accumulators",
]

SMALLEST_TABLE = 32


def table_layers(job: TuningJob) -> list[str]:
    """Layers whose ``TableSize`` the tuner lowers: sigmoid, tanh and the stable softmax."""
    return [
        n.name
        for n in job.graph.nodes
        if table_range(n, "table_t") is not None or table_range(n, "exp_table_t") is not None
    ]


def shrink_tables(result: SearchResult, layers: list[str], job: TuningJob) -> SearchResult:
    """Halve each table (``TableSize``) while the target holds; the tables' own precision
    was already searched with the other points."""
    best = result.best
    try:
        for layer in layers:
            sizes = dict(best.candidate.table_sizes)
            size = int(sizes.get(layer, job.graph.node(layer).attrs.get("table_size", 1024)))
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


def trim_accumulators(result: SearchResult, job: TuningJob) -> SearchResult:
    """Per multiplier accumulator, in network order, the fewest fractional bits (bisected
    between none and the products') that keep the target at no higher cost. A fractional bit
    fewer is an adder bit fewer on every addition of the layer."""
    best = result.best
    try:
        for point in job.accums:
            t = best.candidate[point]
            if not _pays(job, best.candidate, point):
                continue
            lo, hi = fewest_fractional(t), t.fractional  # hi passes: the derived, exact one
            while lo < hi:
                mid = (lo + hi) // 2
                trimmed = FixedType(
                    t.integer + mid, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits
                )
                (ev,) = job.evaluator([best.candidate.with_type(point, trimmed)], "accumulators")
                result.evaluations.append(ev)
                if ev.met and ev.key <= best.key:
                    best, hi = ev, mid
                else:
                    lo = mid + 1
    except KeyboardInterrupt:
        result.interrupted = True
    result.best = best
    return result


def fewest_fractional(t: FixedType) -> int:
    """The fewest fractional bits an accumulator of ``t``'s integer bits can have: none, or as
    many as keep the width at least 1 (an accumulator of values below 1/4, ``ap_fixed<W,-2>``,
    needs 3)."""
    return max(0, 1 - t.integer)


# Smallest saving (share of the objective) that an accumulator with no fractional bits at all
# must promise, by the cost model, before its trials are emulated.
PAYS_SHARE = 0.01


def _pays(job: TuningJob, c: Candidate, point) -> bool:
    t = c[point]
    if t.fractional <= 0:
        return False
    width = t.integer + fewest_fractional(t)
    bare = FixedType(width, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits)
    (now, _), (trimmed, _) = job.evaluator.price([c, c.with_type(point, bare)])
    return now > 0 and (now - trimmed) / now >= PAYS_SHARE
