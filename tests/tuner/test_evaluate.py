"""The evaluator refuses candidates that meet the metric but that `aptune check` warns
about, or that clip more than a rare share of values."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.config import default_config
from emulation.fixed import FixedType, Overflow
from emulation.metrics import Target
from tuner.evaluate import RARE_OVERFLOW, Evaluator, Reference
from tuner.profile import configurable_points, observe_ranges
from tuner.space import Candidate, Point

EASY = Target("mae", 10.0)  # met by any candidate hls4ml can build


@pytest.fixture(scope="module")
def evaluator(iris_model):
    model, x, _, _ = iris_model
    template = default_config(model)
    _, base, graph = observe_ranges(model, template, x)
    y = model.predict(x.astype(np.float32), verbose=0)
    points = configurable_points(graph, template)
    return Evaluator(model, graph, base, Reference(x, y), EASY, watched={p.name for p in points})


def _one(evaluator, types):
    # the wide base leaves the softmax input too wide for `check`; give it a usable type
    # (the logits reach 21, and x_max - x 35: inp_norm_t, one integer bit fewer, holds 64)
    safe = {Point("logits", "result_t"): FixedType(18, 7)}
    (ev,) = evaluator([Candidate.of(safe | types)], "test")
    return ev


def test_a_clean_candidate_meets(evaluator):
    """Wide types: the metric is met and nothing refuses it."""
    ev = _one(evaluator, {Point("hidden", "weight_t"): FixedType(16, 4)})
    assert ev.met and ev.refused == ""


def test_weights_mostly_rounded_to_zero_are_refused(evaluator):
    """A weight type whose LSB zeroes most weights meets the easy target but `check` warns."""
    # LSB 4, rounding to nearest: every |weight| below 2 becomes 0
    ev = _one(evaluator, {Point("hidden", "weight_t"): FixedType(4, 6, rounding="RND")})
    assert not ev.met
    assert ev.refused == "warning weight-zeroed at hidden"


def test_clipping_more_than_a_rare_share_is_refused(evaluator, iris_model):
    """A saturating input type that clips the standardised features beyond +-1 meets the easy
    target, but clips far more than a rare share of the values."""
    x = iris_model[1]
    assert np.mean(np.abs(x) >= 1) > RARE_OVERFLOW
    clip = FixedType(8, 1, overflow=Overflow.SAT)
    ev = _one(evaluator, {Point("features", "result_t"): clip})
    assert not ev.met
    assert "of the values at features.result_t saturate" in ev.refused
    wide = FixedType(10, 3, overflow=Overflow.SAT)  # holds +-4: nothing clips
    assert _one(evaluator, {Point("features", "result_t"): wide}).met


def test_any_wrap_around_is_refused(evaluator):
    """A wrapping type too narrow for the values refuses the candidate however few wrap: a
    wrapped value flips its sign."""
    ev = _one(evaluator, {Point("hidden", "result_t"): FixedType(8, 2)})  # holds [-2, 2)
    assert not ev.met
    assert "wrap around at hidden.result_t" in ev.refused


def test_wrapping_softmax_difference_is_refused(evaluator):
    """The stable softmax keeps x_max - x in inp_norm_t, one integer bit narrower than its
    input: logits that fit their own type can still wrap there, and that refuses the
    candidate."""
    from emulation.model import cast_type

    tight = FixedType(14, 6)  # holds the logits (|x| < 32) but not every x_max - x (< 32)
    graph = evaluator.graph(Candidate.of({Point("logits", "result_t"): tight}))
    assert cast_type(graph, "softmax.inp_norm_t") == FixedType(13, 5, signed=False)
    ev = _one(evaluator, {Point("logits", "result_t"): tight})
    assert "wrap around at softmax.inp_norm_t" in ev.refused
