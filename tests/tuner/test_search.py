"""The greedy search on a synthetic problem whose answer is known."""

from __future__ import annotations

import itertools

from emulation.fixed import FixedType
from tuner.search import Evaluation, greedy_search
from tuner.space import Candidate, Point, narrower

POINTS = [Point("a", "result_t"), Point("b", "result_t"), Point("c", "weight_t")]
# Error each point adds per LSB: a tolerates few bits, c needs many.
SENSITIVITY = {POINTS[0]: 0.5, POINTS[1]: 2.0, POINTS[2]: 8.0}
BOUND = 0.02


def _metric(c: Candidate) -> float:
    """Rounding error per point, plus a large error where the range (4 integer bits) clips."""
    rounding = sum(s * 2.0 ** -c[p].fractional for p, s in SENSITIVITY.items())
    return rounding + sum(1.0 for p in POINTS if c[p].integer < 4)


def _cost(c: Candidate) -> tuple[float, float]:
    return float(sum(c[p].width for p in POINTS)), 0.0


def _evaluate(cands, phase):
    out = []
    for c in cands:
        m = _metric(c)
        out.append(Evaluation(c, m, -m, *_cost(c), met=m <= BOUND, phase=phase))
    return out


def _price(cands):
    return [_cost(c) for c in cands]


def _start() -> Candidate:
    return Candidate.of({p: FixedType(16, 4) for p in POINTS})


def _brute_force_best() -> float:
    best = float("inf")
    for fs in itertools.product(range(0, 14), repeat=3):
        c = Candidate.of({p: FixedType(4 + f, 4) for p, f in zip(POINTS, fs, strict=True)})
        if _metric(c) <= BOUND:
            best = min(best, _cost(c)[0])
    return best


def test_search_meets_target_and_finds_the_optimum():
    """On a separable problem the greedy result meets the bound at the brute-force cost."""
    result = greedy_search(_start(), POINTS, _evaluate, _price)
    assert result.best is not None and result.best.met
    assert result.best.cost == _brute_force_best()


def test_result_is_locally_minimal():
    """No single fractional bit can be removed from the result without missing the bound."""
    best = greedy_search(_start(), POINTS, _evaluate, _price).best
    for p in POINTS:
        t = narrower(best.candidate[p])
        assert t is not None
        assert _metric(best.candidate.with_type(p, t)) > BOUND


def test_search_is_deterministic():
    """Same problem, same trajectory."""
    a = greedy_search(_start(), POINTS, _evaluate, _price)
    b = greedy_search(_start(), POINTS, _evaluate, _price)
    assert [e.candidate for e in a.evaluations] == [e.candidate for e in b.evaluations]


def test_start_below_target_is_widened():
    """A start that misses the bound gains fractional bits until it meets it."""
    start = Candidate.of({p: FixedType(5, 4) for p in POINTS})
    result = greedy_search(start, POINTS, _evaluate, _price)
    assert result.best is not None and result.best.met


def test_unreachable_target_returns_no_best():
    """When no width meets the bound, there is no best and every evaluation missed."""

    def never(cands, phase):
        return [Evaluation(c, 1.0, -1.0, *_cost(c), met=False, phase=phase) for c in cands]

    result = greedy_search(_start(), POINTS, never, _price, max_start_fractional=14)
    assert result.best is None
    assert result.evaluations and not any(e.met for e in result.evaluations)


def test_interrupt_keeps_the_best_so_far():
    """Ctrl-C during the search returns the best candidate found, flagged interrupted."""
    calls = 0

    def interrupted(cands, phase):
        nonlocal calls
        calls += 1
        if calls > 3:
            raise KeyboardInterrupt
        return _evaluate(cands, phase)

    result = greedy_search(_start(), POINTS, interrupted, _price)
    assert result.interrupted
    assert result.best is not None and result.best.met


def test_descent_starts_from_a_cheaper_seed():
    """When combining the lower bounds never meets the target, a seed that meets is where the
    descent starts, and the descent improves on it."""

    def evaluate(cands, phase):
        evs = _evaluate(cands, phase)
        if phase in ("combine", "repair"):  # as if the bounds interacted badly
            return [Evaluation(e.candidate, 1.0, -1.0, e.cost, 0.0, False, phase) for e in evs]
        return evs

    # fractional bits no earlier phase tried, so the seed is evaluated as one
    seed = Candidate.of({p: FixedType(4 + f, 4) for p, f in zip(POINTS, (11, 10, 11), strict=True)})
    result = greedy_search(_start(), POINTS, evaluate, _price, seeds=[seed])
    phases = [e.phase for e in result.evaluations]
    assert "seed" in phases and phases.index("seed") < phases.index("descent")
    assert result.best.met and result.best.cost < _cost(seed)[0]


def test_without_a_seed_an_unreachable_combination_ends_the_search():
    """The same problem without a seed: no descent, the best is an earlier (start) candidate."""

    def evaluate(cands, phase):
        evs = _evaluate(cands, phase)
        if phase in ("combine", "repair"):
            return [Evaluation(e.candidate, 1.0, -1.0, e.cost, 0.0, False, phase) for e in evs]
        return evs

    result = greedy_search(_start(), POINTS, evaluate, _price)
    assert "descent" not in {e.phase for e in result.evaluations}
