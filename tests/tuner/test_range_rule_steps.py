"""The range rule's bisection: the fewest passing fractional bits, widest candidates last, and
no evaluation after its deadline (a wide candidate can take a minute to emulate)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tuner import baselines
from tuner.baselines import RANGE_RULE_TOP, range_rule_fractional


def _job(start: int, threshold: int | None, tried: list[int], cost: float = 0.0, clock=None):
    """A job whose range rule passes from ``threshold`` fractional bits on (never if None);
    each evaluation advances ``clock`` by ``cost`` seconds."""

    def judge(fractional: int, _label: str) -> SimpleNamespace:
        tried.append(fractional)
        if clock is not None:
            clock[0] += cost
        return SimpleNamespace(met=threshold is not None and fractional >= threshold)

    return SimpleNamespace(
        options=SimpleNamespace(start_fractional=start),
        cured_start=lambda f: f,
        derive=lambda c: c,
        evaluator=SimpleNamespace(judge=judge),
    )


@pytest.mark.parametrize("start", [0, 4, 8, 16, 24])
@pytest.mark.parametrize("threshold", [*range(0, RANGE_RULE_TOP + 1), None])
def test_finds_the_fewest_passing_bits(start, threshold):
    tried: list[int] = []
    got = range_rule_fractional(_job(start, threshold, tried))
    want = (
        None
        if threshold is None
        else (threshold if threshold <= max(start, RANGE_RULE_TOP) else None)
    )
    assert got == want, tried
    assert len(tried) == len(set(tried)), f"evaluated twice: {tried}"


def test_steps_up_before_trying_the_widest():
    """From 8 bits, a rule passing at 10 never evaluates 24 bits (the old jump did)."""
    tried: list[int] = []
    assert range_rule_fractional(_job(8, 10, tried)) == 10
    assert RANGE_RULE_TOP not in tried and max(tried) == 10, tried


def test_no_evaluation_starts_after_the_deadline(monkeypatch):
    """Each evaluation takes 60 s; with 100 s the rule stops after two and says what passed."""
    clock = [0.0]
    monkeypatch.setattr(baselines.time, "monotonic", lambda: clock[0])
    tried: list[int] = []
    assert range_rule_fractional(_job(8, 30, tried, 60.0, clock), deadline=100.0) is None
    assert tried == [8, 10], tried
    tried = []
    clock[0] = 0.0
    # passes at 10 (found in the second evaluation): late, it returns 10 without bisecting
    assert range_rule_fractional(_job(8, 9, tried, 60.0, clock), deadline=100.0) == 10
    assert tried == [8, 10], tried


def test_a_search_left_no_time_says_so_and_names_refused_baselines():
    """No candidate evaluated before the time limit: the reason says so (not "the best metric
    seen was nothing") and names a baseline that met the target but was refused."""
    from tuner.tune import _refused_baselines, why_not_met

    job = SimpleNamespace(options=SimpleNamespace(time_limit=30.0), search_target="agreement")
    reason = why_not_met(job, [], timed_out=True)
    assert "evaluated no candidate within --time-limit 30 s" in reason
    assert "raise --time-limit" in reason
    uniform = {"name": "uniform ap_fixed<12,9>", "met_search": True, "refused": "weight-zeroed"}
    unmet = {"name": "hls4ml default", "met_search": False, "refused": ""}
    extra = _refused_baselines({"cheapest_uniform": uniform, "hls4ml_default": unmet, "r": None})
    assert extra == "; uniform ap_fixed<12,9> met it but was refused (weight-zeroed)"
