"""The search: minimal per-point precisions that keep the target, by greedy bit removal.

The algorithm, in four phases (each evaluation is one emulator run on the calibration data;
candidates of one phase are evaluated in parallel):

1. **Start** (the range rule): integer bits from the observed ranges (`tuner.profile`),
   ``start_fractional`` fractional bits everywhere. A refusal (a softmax too coarse, a value
   that wraps) is cured where it names (`tuner.cures`); only a missed metric adds fractional
   bits everywhere, up to ``max_start_fractional``.
2. **Sensitivity**: for each point alone (all others at the start), the fewest fractional bits
   that keep the target, by bisection. This is a lower bound for each point.
3. **Combine and repair**: all points at their lower bounds, refusals cured as in the start;
   while the metric is missed, one fractional bit more on every point (a handful of
   evaluations; the descent then takes back the bits that were not needed). A seed (the range
   rule's best) that meets the target more cheaply replaces the result.
4. **Descent**: repeatedly apply the single move with the largest cost saving that keeps the
   target; a move is one fractional bit fewer, or one integer bit fewer with saturation (so a rare
   outlier clips instead of wrapping). A move that once failed is not retried: removing bits
   elsewhere only makes it fail harder (the metric is treated as monotone in every width).

Multiplier accumulators are not searched: they keep every fractional bit of the products and the
observed range plus a guard bit, so the sum is exact (and the emulator's fast path applies).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from emulation.fixed import FixedType
from tuner.cures import MAX_CURES, MISS, Refusal
from tuner.space import Candidate, Point, clipped, narrower, wider, with_fractional

__all__ = ["REPAIR_PATIENCE", "Evaluation", "SearchResult", "greedy_search"]

# Widenings everywhere in a row that may leave the metric no better before the repair stops:
# past the point where rounding limits it, more bits only make candidates slower.
REPAIR_PATIENCE = 3


@dataclass(frozen=True)
class Evaluation:
    """One evaluated candidate: its metric on the calibration data and its cost."""

    candidate: Candidate
    metric: float
    score: float  # the metric signed so that higher is better
    cost: float
    secondary_cost: float  # the tie-break after the objective (e.g. LUTs)
    met: bool
    phase: str
    # why a candidate that meets the metric is still refused (None if it is not): a finding of
    # `aptune check` above a note, a value that wraps around, too many that saturate
    refusal: Refusal | None = None
    seconds: float = 0.0  # the emulator's CPU time on the calibration data

    @property
    def refused(self) -> str:
        """The refusal as text ("" when the candidate is not refused)."""
        return str(self.refusal) if self.refusal is not None else ""

    @property
    def key(self) -> tuple[float, float]:
        """Sort key: the objective first, then the secondary cost (e.g. LUTs)."""
        return (self.cost, self.secondary_cost)


Evaluate = Callable[[Sequence[Candidate], str], list[Evaluation]]
Cure = Callable[[Candidate, Refusal], Candidate | None]
Price = Callable[[Sequence[Candidate]], list[tuple[float, float]]]


@dataclass
class SearchResult:
    """The best candidate found and every evaluation that led there."""

    best: Evaluation | None
    evaluations: list[Evaluation] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C
    timed_out: bool = False  # the deadline (``--time-limit``) passed


class _TimeUp(Exception):
    """The search's deadline passed: stop and keep the best so far."""


def _better(a: Evaluation, b: Evaluation | None) -> bool:
    return a.met and (b is None or a.key < b.key)


class _Recorder:
    """Evaluates through ``evaluate``, remembers the best and all evaluations."""

    def __init__(
        self,
        evaluate: Evaluate,
        price: Price,
        derive: Callable[[Candidate], Candidate],
        result: SearchResult,
        deadline: float | None = None,
    ):
        self._deadline = deadline
        self._evaluate = evaluate
        self._price = price
        self._derive = derive
        self.result = result
        self._seen: dict[Candidate, Evaluation] = {}

    def price(self, candidates: Sequence[Candidate]) -> list[tuple[float, float]]:
        return self._price([self._derive(c) for c in candidates])

    def __call__(self, candidates: Sequence[Candidate], phase: str) -> list[Evaluation]:
        candidates = [self._derive(c) for c in candidates]
        todo = [c for c in dict.fromkeys(candidates) if c not in self._seen]
        if todo and self._deadline is not None and time.monotonic() >= self._deadline:
            raise _TimeUp
        if todo:
            for ev in self._evaluate(todo, phase):
                self._seen[ev.candidate] = ev
                self.result.evaluations.append(ev)
                if _better(ev, self.result.best):
                    self.result.best = ev
        return [self._seen[c] for c in candidates]


def greedy_search(
    start: Candidate,
    searched: Sequence[Point],
    evaluate: Evaluate,
    price: Price,
    *,
    batch: int = 2,
    clippable: Collection[Point] | None = None,
    max_start_fractional: int = 24,
    derive: Callable[[Candidate], Candidate] = lambda c: c,
    seeds: Sequence[Candidate] = (),
    cure: Cure | None = None,
    deadline: float | None = None,
) -> SearchResult:
    """Run the four phases from ``start`` over the ``searched`` points.

    ``evaluate`` maps candidates to evaluations (in parallel where it can); ``price`` gives
    their (cost, secondary cost) without running the emulator; ``derive`` fills in the points
    that follow from others (the accumulators); ``batch`` descent moves are tried at once;
    ``clippable`` are the points that may trade an integer bit for saturation (default: all);
    ``seeds`` are other candidates the descent may start from (the range rule's best): it starts
    from the cheapest of them and the combined lower bounds that meets the target. ``cure``
    maps a refused candidate to the one with its refusal cured (`tuner.cures.Cures`); the start
    and the combination are cured before any bit is added everywhere.
    A KeyboardInterrupt stops the search and returns what was found so far, flagged
    ``interrupted``; so does passing ``deadline`` (a `time.monotonic` value; no new batch
    starts after it), flagged ``timed_out``.
    """
    result = SearchResult(best=None)
    run = _Recorder(evaluate, price, derive, result, deadline)
    try:
        clip = set(searched if clippable is None else clippable)
        _search(start, list(searched), run, max_start_fractional, max(batch, 1), clip, seeds, cure)
    except KeyboardInterrupt:
        result.interrupted = True
    except _TimeUp:
        result.timed_out = True
    return result


def _search(
    start: Candidate,
    points: list[Point],
    run: _Recorder,
    max_f: int,
    batch: int,
    clippable: set[Point],
    seeds: Sequence[Candidate] = (),
    cure: Cure | None = None,
) -> None:
    # 1. start: cure what refuses it where the refusal says; widen every point while the
    #    metric misses
    ev = _settle(run, start, "start", points, max_f, cure)
    if not ev.met:
        return  # unreachable: the caller reports the best metric seen and why
    start = ev.candidate

    # 2. sensitivity: per point, fewest fractional bits with the others at the start
    low = {p: _min_fractional(start, p) for p in points}
    high = {p: start[p].fractional for p in points}
    while any(low[p] < high[p] for p in points):
        mids = {p: (low[p] + high[p]) // 2 for p in points if low[p] < high[p]}
        trials = {p: start.with_type(p, with_fractional(start[p], f)) for p, f in mids.items()}
        evs = dict(zip(trials, run(list(trials.values()), "sensitivity"), strict=True))
        for p, f in mids.items():
            if evs[p].met:
                high[p] = f
            else:
                low[p] = f + 1

    # 3. combine at the lower bounds; while the target is missed, give every point one more
    #    bit (the descent takes back the bits that were not needed)
    current = start.with_types((p, with_fractional(start[p], high[p])) for p in points)
    cur_ev = _settle(run, current, "combine", points, max_f, cure)
    current = cur_ev.candidate

    # the combination can overshoot where one bit more everywhere was more than needed (or
    # never meet): a seed that meets more cheaply is the better place to descend from
    for ev in run(list(seeds), "seed") if seeds else []:
        if _better(ev, cur_ev if cur_ev.met else None):
            current, cur_ev = ev.candidate, ev
    if not cur_ev.met:
        return

    # 4. descent: the largest saving that keeps the target, never retrying a failed move
    failed: set[tuple[Point, str]] = set()
    while True:
        moves = []
        for p in points:
            for kind, step in (("frac", narrower), ("int", clipped)):
                if kind == "int" and p not in clippable:
                    continue
                t: FixedType | None = step(current[p])
                if t is not None and (p, kind) not in failed:
                    moves.append(((p, kind), current.with_type(p, t)))
        priced = zip(moves, run.price([c for _, c in moves]), strict=True)
        ordered = sorted((mp for mp in priced if mp[1] < cur_ev.key), key=lambda mp: mp[1])
        accepted = None
        for i in range(0, len(ordered), batch):
            chunk = [m for m, _ in ordered[i : i + batch]]
            for (move, _), e in zip(chunk, run([c for _, c in chunk], "descent"), strict=True):
                if not e.met:
                    failed.add(move)
                elif accepted is None or e.key < accepted.key:
                    accepted = e
            if accepted is not None:
                break
        if accepted is None:
            return
        current, cur_ev = accepted.candidate, accepted


def _settle(
    run: _Recorder,
    c: Candidate,
    phase: str,
    points: list[Point],
    max_f: int,
    cure: Cure | None,
) -> Evaluation:
    """Evaluate ``c``; while it is refused, apply the cure its refusal names (at most
    `MAX_CURES`); while it misses the metric, one fractional bit more everywhere (up to
    ``max_f``, and only while that helps: `REPAIR_PATIENCE` widenings without a better metric
    end it). A refusal nothing cures ends it: more bits everywhere do not cure a refusal."""
    (ev,) = run([c], phase)
    cures = 0
    best_score, stale = ev.score, 0
    tables_help = True
    while not ev.met:
        if ev.refusal is not None:
            cured = cure(ev.candidate, ev.refusal) if cure and cures < MAX_CURES else None
            if cured is None:
                return ev
            cures += 1
            (ev,) = run([cured], "cure")
            continue
        # a miss: larger softmax tables first (near-tied logits), while they help
        grown = cure(ev.candidate, MISS) if cure and tables_help and cures < MAX_CURES else None
        if grown is not None:
            cures += 1
            (trial,) = run([grown], "cure")
            if trial.score > ev.score:
                ev = trial
                best_score = max(best_score, ev.score)
                continue
            tables_help = False
        if stale >= REPAIR_PATIENCE or all(ev.candidate[p].fractional >= max_f for p in points):
            return ev
        c = ev.candidate
        (ev,) = run([c.with_types((p, wider(c[p])) for p in points)], "repair")
        if ev.score > best_score:
            # more bits helped: a larger table may help again on top of them
            best_score, stale, tables_help = ev.score, 0, True
        else:
            stale += 1
    return ev


def _min_fractional(start: Candidate, p: Point) -> int:
    """Fewest fractional bits a point may have (its width stays at least 1)."""
    return max(0, 1 - start[p].integer)
