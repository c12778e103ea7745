"""Refusals are cured where they name, not outbid with bits everywhere; a search that finds
nothing falls back to a measured baseline; --time-limit stops the search."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.metrics import Target, evaluate
from emulation.model import EmulatedModel
from tuner.cures import Refusal
from tuner.tune import TuneOptions, tune

OPTIONS = TuneOptions(seed=0, target=Target("agreement", 0.95), uniform_integer_bits=(9,))


@pytest.fixture(scope="module")
def wide_logits():
    """The MNIST trap in small: 16 inputs, 10 logits of spread about +-100 into a stable
    softmax. The range rule gives the logits 9 integer bits, so hls4ml's 1,024-entry exp
    table steps by 0.25 and `check` refuses the softmax at every fractional width."""
    import keras

    keras.utils.set_random_seed(5)
    model = keras.Sequential(
        [
            keras.Input((16,), name="x"),
            keras.layers.Dense(24, activation="relu", name="hidden"),
            keras.layers.Dense(10, name="logits"),
            keras.layers.Activation("softmax", name="softmax"),
        ]
    )
    w, b = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([w * 40.0, b])
    x = np.random.default_rng(1).normal(size=(3000, 16))
    return model, x


@pytest.fixture(scope="module")
def trap_tuned(wide_logits):
    model, x = wide_logits
    return tune(model, x, None, OPTIONS)


def test_the_softmax_trap_is_tuned_to_a_config_that_meets(wide_logits, trap_tuned):
    """The search meets the target with its own config, the softmax refusal cured by a larger
    exp table (not by fractional bits everywhere), and the written config re-emulates to the
    reported held-out agreement."""
    from tuner.sampling import split_indices

    model, x = wide_logits
    final = trap_tuned.final
    assert final.met and final.met_validation and final.source == "search"
    assert int(final.types["softmax.TableSize"]) > 1024
    # the trap springs: the uncured start (hls4ml's 1,024-entry table) is refused for it
    from tuner.job import TuningJob
    from tuner.space import Candidate

    job = TuningJob(model, x, None, OPTIONS, lambda _: None)
    start = job.start(OPTIONS.start_fractional)
    _, refusal = job.refusal_of(job.derive(Candidate.of(start.type_map)))
    assert refusal is not None and refusal.code == "softmax-resolution", refusal
    # the start sizes its table for its logits instead, and is not refused
    assert dict(start.table_sizes)["softmax"] > 1024
    assert job.refusal_of(start)[1] is None
    # cured where it was named, not outbid: one start, no widening loop
    starts = [c for c in trap_tuned.candidates if c.phase in ("start", "cure", "repair")]
    assert len(starts) < 8
    assert not any("softmax-resolution" in c.refused for c in starts)
    _, val = split_indices(len(x), 0.3, seed=0)
    y = EmulatedModel(model, trap_tuned.config).predict(x[val])
    y_float = model.predict(x[val].astype(np.float32), verbose=0)
    assert evaluate("agreement", y, y_float) == final.metric_validation


def test_cures_act_where_the_refusal_names(wide_logits):
    """A softmax refusal grows that softmax's table; a wrap at a searched point adds one
    integer bit there and nowhere else; weights rounding to zero get four fractional bits
    there; a refusal with no local cure gives None."""
    from tuner.job import TuningJob
    from tuner.space import Point

    model, x = wide_logits
    from tuner.space import Candidate

    job = TuningJob(model, x, None, OPTIONS, lambda _: None)
    start = job.derive(Candidate.of(job.start(10).type_map))  # hls4ml's 1,024 entries
    grown = job.cures(start, Refusal("softmax-resolution", "softmax", "warning ..."))
    assert dict(grown.table_sizes)["softmax"] == 4096
    assert grown.type_map == start.type_map
    point = Point("hidden", "result_t")
    wrapped = job.cures(start, Refusal("wrap", point.name, "1 value(s) wrap around"))
    changed = {p for p in start.points() if wrapped[p] != start[p]}
    assert changed == {point}
    assert wrapped[point].integer == start[point].integer + 1
    assert wrapped[point].fractional == start[point].fractional
    feeder = Point("logits", "result_t")
    norm = job.cures(start, Refusal("wrap", "softmax.inp_norm_t", "..."))
    assert norm[feeder].integer == start[feeder].integer + 1
    zeroed = job.cures(start, Refusal("weight-zeroed", "hidden", "..."))
    w = Point("hidden", "weight_t")
    assert zeroed[w].fractional == start[w].fractional + 4
    assert zeroed[w].integer == start[w].integer
    assert {p for p in start.points() if zeroed[p] != start[p]} <= {w, Point("hidden", "bias_t")}
    assert job.cures(start, Refusal("tie", "softmax", "...")) is None
    # a plain miss: the softmax tables grow (near ties), nothing else changes
    from tuner.cures import MISS

    missed = job.cures(start, MISS)
    assert dict(missed.table_sizes)["softmax"] == 4 * dict(start.table_sizes).get("softmax", 1024)
    assert missed.type_map == start.type_map


def test_a_search_stopped_at_once_recommends_the_cheapest_baseline(wide_logits):
    """--time-limit stops the search before its first candidate; the recommendation is then
    the cheapest baseline the search would have accepted, labelled as such, and it meets."""
    model, x = wide_logits
    result = tune(model, x, None, TuneOptions(**{**OPTIONS.__dict__, "time_limit": 1e-9}))
    assert result.timed_out
    assert not [c for c in result.candidates if c.phase not in ("range rule",)]
    final = result.final
    assert final.met and final.source in result.baselines
    accepted = {
        k: b.objective for k, b in result.baselines.items() if b and b.met_search and not b.refused
    }
    assert final.objective == min(accepted.values())
    assert final.source == min(accepted, key=accepted.get)


def test_a_softmax_output_type_holds_one_whatever_the_wide_config_showed():
    """The ranges come from a wide config whose softmax may collapse to 1/n per class (close
    logits into hls4ml's default table; the jet Conv2D tagger: every candidate's top class
    wrapped to the bottom, agreement 0); a softmax output reaches 1, and its type must hold it."""
    import keras

    from tuner.job import TuningJob
    from tuner.space import Point

    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [
            keras.Input((8,), name="x"),
            keras.layers.Dense(5, name="logits"),
            keras.layers.Activation("softmax", name="softmax"),
        ]
    )
    w, b = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([w * 0.2, b])  # logits within about +-1
    x = np.random.default_rng(3).normal(size=(1500, 8))
    job = TuningJob(model, x, None, OPTIONS, lambda _: None)
    observed = job.ranges.max_abs["softmax.result_t"]
    t = job.start(10)[Point("softmax", "result_t")]
    assert observed < 0.5, "the wide config's softmax did not collapse: the test is too tame"
    assert t.max >= 1.0
