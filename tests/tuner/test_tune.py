"""The tuning job end to end on a tiny classifier (emulator only, no compiler)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from emulation.metrics import Target, evaluate
from emulation.model import EmulatedModel
from tuner.sampling import split_indices
from tuner.tune import TuneOptions, tune

# 105 calibration samples can prove agreement >= 0.975 at best (95 % confidence): aim below
OPTIONS = TuneOptions(seed=1, target=Target("agreement", 0.95))


def test_small_data_cannot_confirm_a_high_target(iris_model):
    """With 105 calibration samples a 0.99 agreement target is out of reach: refused before any
    search, with the samples it needs."""
    from emulation.errors import DataError

    model, x, y, _ = iris_model
    with pytest.raises(DataError, match=r"105 calibration samples cannot prove.*383 samples"):
        tune(model, x, y, TuneOptions(seed=1, uniform_integer_bits=(4,)))


@pytest.fixture(scope="module")
def tuned(iris_model):
    """One tuning run shared by the tests that only read its result."""
    model, x, y, _ = iris_model
    return tune(model, x, y, OPTIONS)


def test_result_meets_target_on_validation(tuned):
    """The recommended config meets the target on data the search never saw."""
    assert tuned.final.met
    assert tuned.final.met_validation
    assert tuned.target == "agreement >= 0.95"


def test_result_is_cheaper_than_every_baseline(tuned):
    """aptune's config costs less than hls4ml's default, the cheapest uniform type and the
    range rule."""
    ours = tuned.final.objective
    assert set(tuned.baselines) == {"hls4ml_default", "cheapest_uniform", "range_rule"}
    for name, baseline in tuned.baselines.items():
        assert baseline is not None, f"baseline {name} is missing"
        assert ours < baseline.objective, name


def test_reported_metric_is_the_emulated_one(iris_model, tuned):
    """Re-emulating the written config on the validation split gives the reported metric."""
    model, x, _, _ = iris_model
    _, val = split_indices(len(x), 0.3, seed=1)
    cfg = yaml.safe_load(yaml.safe_dump(tuned.config))
    y = EmulatedModel(model, cfg).predict(x[val])
    y_float = model.predict(x[val].astype(np.float32), verbose=0)
    assert evaluate("agreement", y, y_float) == tuned.final.metric_validation


def test_config_round_trips_through_hls4ml(iris_model, tuned):
    """hls4ml reads the written YAML as is, and every tuned type is the one it resolves."""
    import hls4ml

    from emulation.config import dump_config
    from emulation.hls_nodes import fixed_from_hls4ml

    model = iris_model[0]
    cfg = yaml.safe_load(dump_config(tuned.config))
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, backend="Vivado", io_type="io_parallel", output_dir="unused"
    )
    resolved = {
        f"{layer.name}.{name}": fixed_from_hls4ml(t.precision).to_hls()
        for layer in hls_model.get_layers()
        for name, t in layer.types.items()
    }
    for point, text in tuned.final.types.items():
        if not point.endswith("TableSize"):
            assert resolved[point] == text, point


def test_every_candidate_is_recorded(tuned):
    """tuning.json keeps each evaluated candidate with its phase, metric and cost."""
    phases = {c.phase for c in tuned.candidates}
    assert {"start", "sensitivity", "descent"} <= phases
    assert all(math.isfinite(c.cost) or not c.met for c in tuned.candidates)
    assert tuned.evaluations_per_second > 0


def test_same_seed_same_config(iris_model, tuned):
    """Tuning twice with the same seed and data gives the same config."""
    model, x, y, _ = iris_model
    again = tune(model, x, y, OPTIONS)
    assert again.config == tuned.config


def test_unreachable_target_reports_the_best_reached(iris_model):
    """A target no config can meet ends unmet, with the best metric that was reached."""
    model, x, y, _ = iris_model
    options = TuneOptions(target=Target("mae", 1e-12), seed=1, uniform_integer_bits=(4,))
    result = tune(model, x, y, options)
    assert not result.final.met
    assert 0 < result.final.best_metric < 1
    assert result.config == {}


def test_written_config_passes_aptune_check(tuned):
    """`aptune check`, with the validation data, finds nothing above a note in what the
    tuner writes."""
    assert tuned.final.check.counts["error"] == 0
    assert tuned.final.check.counts["warning"] == 0
    assert tuned.final.check.findings == ()


def test_small_calibration_sets_are_searched_with_jittered_copies(tuned):
    """105 calibration samples are searched as about 2,000 (the originals and noisy copies);
    the confidence still counts the 105."""
    assert tuned.split.calibration == 105
    assert tuned.split.search_samples >= 2000
    assert "on 105 samples" in tuned.search_target


def test_uniform_config_sets_every_type_tables_included(iris_model):
    """The uniform baseline really is one type: hls4ml's graph has it for every type a config
    sets (tables through the layer keys hls4ml reads), and the stable softmax's exp table has
    one entry per input value."""
    from emulation.config import default_config
    from emulation.fixed import FixedType
    from emulation.graph import build_graph
    from emulation.layers.softmax import softmax_sizes
    from tuner.baselines import uniform_config

    model = iris_model[0]
    t = FixedType(12, 5)
    template = build_graph(model, default_config(model))
    graph = build_graph(model, uniform_config(model, template, t))
    derived = {"index_t", "inp_norm_t"}  # hls4ml's own: an index and the softmax's x_max - x
    types = {
        f"{n.name}.{k}": v for n in graph.nodes for k, v in n.types.items() if k not in derived
    }
    assert {name: v for name, v in types.items() if v != t} == {}
    assert {"softmax.exp_table_t", "softmax.inv_table_t", "softmax.inv_inp_t"} <= set(types)
    sizes = softmax_sizes(graph.node("softmax").attrs, t)
    assert sizes["exp_table_size"] == sizes["inv_table_size"] == 2 ** (t.width - 1)


def test_cheapest_uniform_is_the_narrowest_width_that_meets(iris_model):
    """For each integer width tried, the reported W meets the target and W - 1 does not."""
    from emulation.fixed import FixedType
    from tuner.baselines import cheapest_uniform, uniform_meets
    from tuner.job import TuningJob

    model, x, y, _ = iris_model
    options = TuneOptions(seed=1, target=OPTIONS.target, uniform_integer_bits=(5, 6))
    job = TuningJob(model, x, y, options, lambda _: None)
    best = cheapest_uniform(job)
    t = FixedType.parse(best["name"].removeprefix("uniform "))
    w, i = t.width, t.integer
    assert best["met_calibration"]
    narrower = {k: w - 1 for k in (5, 6)}
    assert not any(uniform_meets(job, narrower).values())
    assert i in (5, 6)


def test_parallel_metrics_come_back_in_order(iris_model):
    """With two workers, a batch split into one task per worker gives the serial metrics in the
    candidates' order (an odd batch of distinct metrics, so a mix-up would show)."""
    from tuner.evaluate import Evaluator
    from tuner.job import TuningJob

    model, x, y, _ = iris_model
    job = TuningJob(model, x, y, OPTIONS, lambda _: None)
    graphs = [job.evaluator.graph(job.start(f)) for f in range(5)]
    serial = job.evaluator.metrics(graphs)
    assert len(set(serial)) > 2
    parallel = Evaluator(
        model, job.graph, job.base_config, job.ref_cal, job.search_target, jobs=2
    ).metrics(graphs)
    assert parallel == serial


def test_constants_round_to_nearest_and_saturate(tuned):
    """Weights and biases are written AP_RND, AP_SAT: free for constants (rounded when the C++
    is compiled), half the rounding error of hls4ml's truncation."""
    constants = {k: v for k, v in tuned.final.types.items() if k.endswith(("weight_t", "bias_t"))}
    assert constants and all(v.endswith(",AP_RND,AP_SAT>") for v in constants.values()), constants


def test_tiny_weights_are_measured_with_a_wide_type():
    """A layer whose weights are all below 2^-16 gets a measuring type with a negative I and
    16 significant bits (its width once came out negative)."""
    import keras

    from emulation.config import default_config
    from emulation.fixed import FixedType
    from tuner.profile import observe_ranges

    inp = keras.Input((4,), name="x")
    model = keras.Model(inp, keras.layers.Dense(3, name="d")(inp))
    w = np.full((4, 3), 3e-7, np.float32)
    model.get_layer("d").set_weights([w, np.zeros(3, np.float32)])
    x = np.random.default_rng(0).normal(size=(32, 4))
    _, base, graph = observe_ranges(model, default_config(model), x)
    t = graph.node("d").types["weight_t"]
    assert t.integer < -16 and t.width == 16
    assert np.all(graph.node("d").weights["weight"] == t.quantize(w.astype(np.float64)))
    assert FixedType.parse(str(base["LayerName"]["d"]["Precision"]["weight"])) == t
