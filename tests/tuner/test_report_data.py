"""`profiles_before_after`: weight and activation profiles before and after tuning, plain data."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from emulation.errors import ConfigError
from reports.profiling import Profile
from tuner.report_data import profiles_before_after

RECOMMENDED = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1},
    "LayerName": {
        "dense1": {"Precision": {"weight": "ap_fixed<6,2>", "result": "ap_fixed<10,4>"}},
        "out": {"Precision": {"weight": "ap_fixed<6,1>", "result": "ap_fixed<12,5>"}},
    },
}


@pytest.fixture(scope="module")
def model():
    """A 4-8-3 MLP with fixed weights."""
    import keras

    rng = np.random.default_rng(0)
    m = keras.Sequential(
        [
            keras.Input((4,), name="x"),
            keras.layers.Dense(8, activation="relu", name="dense1"),
            keras.layers.Dense(3, name="out"),
        ]
    )
    m.layers[0].set_weights([rng.normal(0, 0.5, (4, 8)), rng.normal(0, 0.1, 8)])
    m.layers[1].set_weights([rng.normal(0, 0.5, (8, 3)), rng.normal(0, 0.1, 3)])
    return m


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(1).normal(0, 1, (50, 4))


@pytest.fixture(scope="module")
def record(model, x) -> dict:
    """A tuning record with a recommended config, profiled on at most 20 samples."""
    profiles = profiles_before_after(model, x, copy.deepcopy(RECOMMENDED), samples=20)
    return {"config": RECOMMENDED, "profiles": profiles}


def _types(profile: dict) -> dict[str, str]:
    return {r.name: str(r.type) for r in Profile.from_dict(profile).rows}


def test_profiles_before_and_after_are_stored(record):
    """default and recommended, each with weights and activations that read back."""
    profiles = record["profiles"]
    assert sorted(profiles) == ["default", "recommended"]
    for which in profiles.values():
        assert sorted(which) == ["activations", "weights"]
        assert Profile.from_dict(which["weights"]).kind == "weights"
        assert Profile.from_dict(which["activations"]).kind == "activations"


def test_default_profile_has_hls4mls_default_types(record):
    """Without a default config given, hls4ml's own default (ap_fixed<16,6>) is profiled."""
    types = _types(record["profiles"]["default"]["weights"])
    assert types["dense1/weight"] == "ap_fixed<16,6>"


def test_recommended_profile_has_the_recommended_types(record):
    """The recommended profile carries the types of the record's config."""
    weights = _types(record["profiles"]["recommended"]["weights"])
    activations = _types(record["profiles"]["recommended"]["activations"])
    assert weights["dense1/weight"] == "ap_fixed<6,2>" and weights["out/weight"] == "ap_fixed<6,1>"
    assert activations["out"] == "ap_fixed<12,5>"


def test_activations_use_at_most_the_requested_samples(record):
    """50 samples given, 20 asked for: the activations are over 20."""
    for which in record["profiles"].values():
        assert Profile.from_dict(which["activations"]).samples == 20


def test_unmet_target_records_only_the_default(model, x):
    """No config (target not met): only the default profiles."""
    profiles = profiles_before_after(model, x[:5], {}, RECOMMENDED)
    assert sorted(profiles) == ["default"]
    assert Profile.from_dict(profiles["default"]["activations"]).samples == 5


def test_subset_is_seeded(model, x, record):
    """The same inputs and seed give the same profiles."""
    again = profiles_before_after(model, x, copy.deepcopy(RECOMMENDED), samples=20)
    assert again == record["profiles"]


def test_samples_must_be_positive(model, x):
    """samples=0 is refused."""
    with pytest.raises(ConfigError, match="samples must be at least 1"):
        profiles_before_after(model, x, {}, samples=0)
