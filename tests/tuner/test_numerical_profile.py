"""hls4ml's four profiling workflows (`tuner.numerical_profile`): what each computes and draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emulation.errors import ConfigError, DataError
from reports.profiling import PLOT_KINDS
from tests.support import figures
from tuner.numerical_profile import activations_profile, numerical, weights_profile

# --------------------------------------------------------------------------- from Keras models
# hls4ml's four documented workflows, on a 4-8-3 MLP whose dense1 weights hold two values
# (5 and -6) that ap_fixed<6,2> (max 1.9375) cannot hold, and whose dense1 result type
# ap_fixed<8,2> overflows on the test inputs.

WEIGHT_ROWS = ["dense1/weight", "dense1/bias", "out/weight", "out/bias"]
CONFIG = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1},
    "LayerName": {"dense1": {"Precision": {"weight": "ap_fixed<6,2>", "result": "ap_fixed<8,2>"}}},
}


@pytest.fixture(scope="module")
def mlp():
    """Dense(8, relu) -> Dense(3) -> softmax, fixed seeded weights, never compiled."""
    import keras

    rng = np.random.default_rng(0)
    model = keras.Sequential(
        [
            keras.Input((4,), name="x"),
            keras.layers.Dense(8, activation="relu", name="dense1"),
            keras.layers.Dense(3, name="out"),
            keras.layers.Activation("softmax", name="sm"),
        ]
    )
    w = np.clip(rng.normal(0, 0.4, (4, 8)), -1.5, 1.5)
    w[0, 0], w[1, 2] = 5.0, -6.0
    model.layers[0].set_weights([w, rng.normal(0, 0.1, 8)])
    model.layers[1].set_weights([rng.normal(0, 0.4, (8, 3)), rng.normal(0, 0.1, 3)])
    return model


@pytest.fixture(scope="module")
def samples():
    return np.random.default_rng(1).normal(0, 1, (200, 4))


@pytest.fixture(scope="module")
def hls_model(mlp):
    """hls4ml's ModelGraph of the MLP (converted only: nothing written or compiled)."""
    from emulation.graph import convert

    return convert(mlp, CONFIG)


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_model_only_gives_weights_without_grey_boxes(mlp, plot):
    """Case 1: a model alone gives the float weights per layer, no types, no second figure."""
    weights, activations = numerical(mlp, plot=plot)
    assert activations is None
    figures.rendered(weights)
    assert figures.labels(weights) == WEIGHT_ROWS
    assert figures.type_boxes(weights) == []
    assert figures.red_labels(weights) == []


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_hls_model_alone_gives_weights_with_grey_boxes(hls_model, plot):
    """Case 2: an hls4ml ModelGraph alone gives the weights with one grey box per variable."""
    weights, activations = numerical(hls_config=hls_model, plot=plot)
    assert activations is None
    figures.rendered(weights)
    assert figures.labels(weights) == WEIGHT_ROWS
    assert len(figures.type_boxes(weights)) == 4
    assert figures.red_labels(weights) == ["dense1/weight"]
    assert figures.notes(weights) == ["2 overflowed"]  # 5.0 and -6.0


def test_config_with_model_gives_weights_with_grey_boxes(mlp):
    """Case 2 with a config dict and the model: the same grey boxes and red mark."""
    weights, activations = numerical(mlp, CONFIG)
    assert activations is None
    assert len(figures.type_boxes(weights)) == 4
    assert figures.notes(figures.rendered(weights)) == ["2 overflowed"]


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_model_and_data_give_both_without_grey_boxes(mlp, samples, plot):
    """Case 3: model and data give weights and float activations per Keras layer, no types."""
    weights, activations = numerical(mlp, X=samples, plot=plot)
    assert figures.labels(weights) == WEIGHT_ROWS
    figures.rendered(activations)
    assert figures.labels(activations) == ["dense1", "out", "sm"]
    assert figures.type_boxes(weights) == [] and figures.type_boxes(activations) == []
    assert activations.get_suptitle() == "Layer outputs over 200 samples"
    assert not any("range of the configured type" in t for t in figures.legend(activations))


@pytest.mark.parametrize("plot", PLOT_KINDS)
def test_model_config_and_data_give_both_with_grey_boxes(mlp, samples, plot):
    """Case 4: both figures with grey boxes; the overflowing dense1 output is red, counted."""
    from emulation.model import EmulatedModel

    weights, activations = numerical(mlp, CONFIG, samples, plot=plot)
    figures.rendered(weights)
    figures.rendered(activations)
    assert len(figures.type_boxes(weights)) == 4
    assert figures.labels(activations) == ["dense1", "dense1_relu", "out", "sm"]  # hls4ml's layers
    assert len(figures.type_boxes(activations)) == 4
    em = EmulatedModel(mlp, CONFIG)
    em.trace(samples)
    count = em.overflows["dense1.result_t"].count
    assert count > 0
    assert figures.red_labels(activations) == ["dense1"]
    assert figures.notes(activations) == [f"{count} overflowed"]
    assert any("before the cast" in t for t in figures.legend(activations))


def test_project_dict_serves_as_model_and_config(mlp):
    """A project dict naming KerasModel is both the model and the config."""
    weights, _ = numerical(hls_config={"KerasModel": mlp, "HLSConfig": CONFIG})
    assert len(figures.type_boxes(weights)) == 4


def test_emulated_weights_are_after_batchnorm_fusion():
    """With a config the weights are hls4ml's (BN folded into dense1); without, Keras's."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, name="dense1"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Activation("relu", name="relu"),
        ]
    )
    rng = np.random.default_rng(3)
    model.get_layer("bn").set_weights([rng.uniform(1, 3, 8) for _ in range(4)])
    float_rows = [r.name for r in weights_profile(model).rows]
    assert float_rows == ["dense1/weight", "dense1/bias", "bn/scale", "bn/bias"]
    cfg = {
        "Model": {"Precision": "ap_fixed<16,6>"},
        "LayerName": {"dense1": {"Precision": {"result": "auto"}}},
    }
    fused = weights_profile(model, cfg)
    assert [r.name for r in fused.rows] == ["dense1/weight", "dense1/bias"]
    gamma, _, _, var = model.get_layer("bn").get_weights()
    kernel = model.get_layer("dense1").get_weights()[0]
    expected = np.max(np.abs(kernel * (gamma / np.sqrt(var + 1e-3))))
    assert math.isclose(fused.rows[0].summary.max, expected, rel_tol=1e-5)


def test_activations_refuse_data_of_the_wrong_shape(mlp):
    """Samples that do not fit the model's input are a DataError naming both shapes."""

    with pytest.raises(DataError, match=r"\(4,\)"):
        activations_profile(mlp, np.ones((5, 3)))


def test_wrapped_accumulator_is_reported_on_its_row(mlp, samples):
    """A too-narrow dense1 accumulator is counted on the dense1 row, not lost."""

    cfg = {"Model": {"Precision": "ap_fixed<16,6>"}}
    cfg["LayerName"] = {"dense1": {"Precision": {"accum": "ap_fixed<6,1>"}}}
    profile = activations_profile(mlp, samples, cfg)
    dense1 = profile.rows[0]
    assert dense1.name == "dense1" and dense1.cast_overflows["accum_t"] > 0
    assert next(r.name for r in profile.overflowing()) == "dense1"


def test_nothing_to_profile_is_a_config_error():
    """A config dict without a model says what to give."""
    with pytest.raises(ConfigError, match="Keras model"):
        numerical(hls_config=CONFIG)


def test_numerical_refuses_an_unknown_plot_kind_first():
    """An unknown plot kind is refused before anything is profiled."""
    with pytest.raises(ConfigError, match="boxplot, histogram, violinplot"):
        numerical(plot="swarm")
