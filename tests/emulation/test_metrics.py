"""`emulation.metrics`: the one top-class rule, the metrics and the target with its parser."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import ConfigError
from emulation.metrics import Target, accuracy, agreement, evaluate, mae, mse, top_class


def test_agreement_counts_equal_top_classes():
    """Agreement is the share of samples whose argmax matches the float model's."""
    y_float = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    y_fixed = np.array([[0.2, 0.8], [0.1, 0.9], [0.4, 0.6], [0.9, 0.1]])
    assert evaluate("agreement", y_fixed, y_float) == agreement(y_fixed, y_float) == 0.5


def test_single_output_thresholds_at_half():
    """A one-output (sigmoid) model's class is output > 0.5, not its argmax (always 0)."""
    assert top_class(np.array([[0.2], [0.7], [0.5]])).tolist() == [0, 1, 0]
    assert agreement(np.array([[0.2], [0.7]]), np.array([[0.7], [0.7]])) == 0.5


def test_accuracy_against_labels():
    """Accuracy compares the top class with class ids, one output thresholded."""
    assert accuracy(np.array([[0.2, 0.8], [0.9, 0.1]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([[0.2], [0.9]]), np.array([0, 1])) == 1.0


def test_accuracy_needs_labels():
    """Accuracy without labels says how to give them."""
    with pytest.raises(ConfigError, match="--labels"):
        evaluate("accuracy", np.zeros((2, 2)), np.zeros((2, 2)))


def test_errors_against_float():
    """mae and mse compare outputs value by value."""
    a, b = np.array([[1.0, 2.0]]), np.array([[1.5, 1.0]])
    assert evaluate("mae", a, b) == mae(a, b) == 0.75
    assert evaluate("mse", a, b) == mse(a, b) == (0.25 + 1.0) / 2


def test_unknown_metric_is_refused():
    """An unknown metric name lists the known ones."""
    with pytest.raises(ConfigError, match="agreement, accuracy, mae, mse"):
        evaluate("f1", np.zeros((1, 2)), np.zeros((1, 2)))


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


@pytest.mark.parametrize(
    "target",
    [Target("agreement", 0.99), Target("accuracy", 0.9), Target("mae", 0.02), Target("mse")],
)
def test_parse_reads_back_what_str_writes(target):
    """``Target.parse(str(t)) == t`` for every metric, with and without a bound."""
    assert Target.parse(str(target)) == target


def test_parse_reads_direction_and_share():
    """'mae <= 0.02' is a lower-is-better bound of 0.02 on an error, titled 'MAE'."""
    t = Target.parse(" mae <= 0.02 ")
    assert (t.metric, t.higher_is_better, t.bound, t.is_share, t.title) == (
        "mae",
        False,
        0.02,
        False,
        "MAE",
    )
    assert Target.parse("agreement >= 0.99").title == "Agreement"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("agreement > 0.99", "cannot read target"),
        ("", "cannot read target"),
        (None, "cannot read target"),
        ("f1 >= 0.5", "unknown metric"),
        ("mae >= 0.02", "mae is bounded with <="),
    ],
)
def test_parse_refuses_what_no_target_writes(text, match):
    """Text no `Target` writes is a ConfigError naming the expected form."""
    with pytest.raises(ConfigError, match=match):
        Target.parse(text)
