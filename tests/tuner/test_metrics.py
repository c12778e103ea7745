"""Metrics and targets."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import ConfigError
from tuner.metrics import Target, evaluate, top_class


def test_agreement_counts_equal_top_classes():
    """Agreement is the share of samples whose argmax matches the float model's."""
    y_float = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    y_fixed = np.array([[0.2, 0.8], [0.1, 0.9], [0.4, 0.6], [0.9, 0.1]])
    assert evaluate("agreement", y_fixed, y_float) == 0.5


def test_single_output_thresholds_at_half():
    """A one-output (sigmoid) model's class is output > 0.5."""
    assert top_class(np.array([[0.2], [0.7]])).tolist() == [0, 1]


def test_accuracy_needs_labels():
    """Accuracy without labels says how to give them."""
    with pytest.raises(ConfigError, match="--labels"):
        evaluate("accuracy", np.zeros((2, 2)), np.zeros((2, 2)))


def test_errors_against_float():
    """mae and mse compare outputs value by value."""
    a, b = np.array([[1.0, 2.0]]), np.array([[1.5, 1.0]])
    assert evaluate("mae", a, b) == 0.75
    assert evaluate("mse", a, b) == (0.25 + 1.0) / 2


def test_default_targets():
    """agreement defaults to 0.99; accuracy to one point below float; mae needs a bound."""
    assert Target().resolve().bound == 0.99
    assert Target("accuracy").resolve(0.95).bound == pytest.approx(0.94)
    with pytest.raises(ConfigError, match="--target"):
        Target("mae").resolve()


def test_max_drop_becomes_a_floor():
    """--max-drop 0.02 with float accuracy 0.97 means accuracy >= 0.95."""
    t = Target("accuracy", max_drop=0.02).resolve(0.97)
    assert t.met(0.95 + 1e-12) and not t.met(0.949)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "f1"}, "unknown metric"),
        ({"bound": 99.0}, "0.99 for 99"),
        ({"metric": "accuracy", "bound": 0.9, "max_drop": 0.01}, "not both"),
        ({"metric": "mae", "max_drop": 0.01}, "accuracy only"),
    ],
)
def test_bad_targets_are_refused(kwargs, match):
    """Malformed targets raise ConfigError naming the fix."""
    with pytest.raises(ConfigError, match=match):
        Target(**kwargs)


def test_tightened_keeps_a_reserve():
    """Half the allowed loss is kept in reserve: 0.99 -> 0.995; mae 0.01 -> 0.005."""
    assert Target("agreement", 0.99).tightened(0.5).bound == pytest.approx(0.995)
    assert Target("mae", 0.01).tightened(0.5).bound == pytest.approx(0.005)


def test_nan_never_meets():
    """A candidate that could not be evaluated (NaN) misses every target."""
    assert not Target("agreement", 0.5).met(float("nan"))
    assert not Target("mae", 1.0).met(float("nan"))


def test_wilson_bound_of_a_perfect_small_sample():
    """0 misses in 105 samples proves about 97.5 % at 95 % confidence, not 99 %."""
    from tuner.metrics import wilson_lower

    assert wilson_lower(1.0, 105, 0.95) == pytest.approx(1 / (1 + 1.6449**2 / 105), abs=1e-4)
    assert wilson_lower(0.99, 10_000, 0.95) > 0.988


def test_confident_target_needs_enough_samples():
    """The search's target: a share must hold with confidence; an error keeps a reserve."""
    from tuner.metrics import ConfidentTarget

    small = ConfidentTarget(Target("agreement", 0.99), n=105)
    large = ConfidentTarget(Target("agreement", 0.99), n=100_000)
    assert not small.met(1.0) and large.met(0.995)
    assert ConfidentTarget(Target("mae", 0.01), n=10).met(0.004)
    assert not ConfidentTarget(Target("mae", 0.01), n=10).met(0.006)


def test_strict_counts_a_tied_top_class_as_a_miss():
    """Outputs that tie for the top class agree by the first-index rule, but not strictly."""
    y_float = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    y_fixed = np.array([[0.5, 0.5], [0.75, 0.25], [0.25, 0.75]])  # row 0 ties, argmax says 0
    assert evaluate("agreement", y_fixed, y_float) == pytest.approx(2 / 3)
    tied_right = np.array([[0.5, 0.5], [0.75, 0.25], [0.25, 0.75]])
    assert evaluate("agreement", tied_right, y_float[[1, 1, 2]]) == 1.0
    assert evaluate("agreement", tied_right, y_float[[1, 1, 2]], strict=True) == pytest.approx(
        2 / 3
    )
    assert evaluate("accuracy", tied_right, None, np.array([0, 0, 1]), strict=True) == 2 / 3


def test_strict_has_no_ties_for_one_output():
    """A single sigmoid output is thresholded: nothing to tie with."""
    y = np.array([[0.75], [0.25]])
    assert evaluate("agreement", y, y, strict=True) == 1.0
