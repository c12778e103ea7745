"""A target the calibration data cannot prove is refused up front, and every way out the
message names is true."""

from __future__ import annotations

import re

import pytest

from emulation.errors import DataError
from emulation.metrics import Target
from tuner.feasibility import best_provable, check_provable
from tuner.metrics import ConfidentTarget


def _refusal(target: Target, n: int, confidence: float = 0.95) -> str:
    with pytest.raises(DataError) as info:
        check_provable(target, n, confidence, validation_share=0.3)
    return str(info.value)


def test_every_suggestion_of_the_refusal_proves_the_target():
    """105 samples at 0.99: the named sample count, target and confidence each pass, and one
    sample fewer (or a higher target) does not."""
    target = Target("agreement", 0.99)
    text = _refusal(target, 105)
    need = int(re.search(r"\((\d+) for calibration\)", text).group(1))
    lower = float(re.search(r"--target ([\d.]+)", text).group(1))
    conf = float(re.search(r"--confidence ([\d.]+)", text).group(1))
    assert ConfidentTarget(target, need, 0.95).met(1.0)
    assert not ConfidentTarget(target, need - 1, 0.95).met(1.0)
    assert ConfidentTarget(Target("agreement", lower), 105, 0.95).met(1.0)
    assert not ConfidentTarget(Target("agreement", lower + 0.002), 105, 0.95).met(1.0)
    assert ConfidentTarget(target, 105, conf).met(1.0)
    assert not ConfidentTarget(target, 105, conf + 0.02).met(1.0)
    check_provable(target, need, 0.95, 0.3)  # enough: no error


def test_best_provable_is_the_wilson_bound_of_a_perfect_score():
    for n in (10, 105, 4000):
        assert ConfidentTarget(Target("agreement", best_provable(n, 0.95) - 1e-9), n).met(1.0)
        assert not ConfidentTarget(Target("agreement", best_provable(n, 0.95) + 1e-6), n).met(1.0)


def test_a_zero_error_bound_and_a_share_of_one_are_refused():
    assert "positive bound" in _refusal(Target("mae", 0.0), 4000)
    assert "below 1" in _refusal(Target("agreement", 1.0), 4000)


def test_reachable_targets_pass():
    check_provable(Target("agreement", 0.99), 2800, 0.95, 0.3)
    check_provable(Target("mae", 0.01), 10, 0.95, 0.3)
