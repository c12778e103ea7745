"""Extra data for the tuning report that only the model and the inputs can give.

`profiles_before_after` computes the weight and activation profiles under hls4ml's default
config and under the recommended one; the tuning record keeps them, so the report can show
both from the saved ``tuning.json`` alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from emulation.config import default_config as hls4ml_default_config
from emulation.errors import ConfigError
from tuner.numerical_profile import activations_profile, weights_profile

__all__ = ["MAX_PROFILE_SAMPLES", "profiles_before_after"]

#: Samples the activation profiles are computed on (a seeded subset when there are more).
MAX_PROFILE_SAMPLES = 300


def _subset(x: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """At most ``samples`` rows of ``x``: all of them, or a seeded subset in their order."""
    x = np.asarray(x)
    if len(x) <= samples:
        return x
    keep = np.sort(np.random.default_rng(seed).choice(len(x), size=samples, replace=False))
    return x[keep]


def _profiles(model: Any, x: np.ndarray, config: Mapping, backend: str, io_type: str) -> dict:
    target = {"backend": backend, "io_type": io_type}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hls4ml's conversion chatter
        return {
            "weights": weights_profile(model, config, **target).to_dict(),
            "activations": activations_profile(model, x, config, **target).to_dict(),
        }


def profiles_before_after(
    model: Any,
    x: np.ndarray,
    config: Mapping | None,
    default_config: Mapping | None = None,
    *,
    samples: int = MAX_PROFILE_SAMPLES,
    seed: int = 0,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> dict:
    """The profiles before and after tuning, for `TuningRecord.profiles`.

    Parameters
    ----------
    model : the Keras model that was tuned.
    x : input samples; at most ``samples`` of them (a seeded subset) are profiled.
    config : the recommended config; None or empty when the target was not met.
    default_config : hls4ml's default config; None computes it (`emulation.config.default_config`).
    samples, seed : size and seed of the subset.
    backend, io_type : hls4ml's backend and io type the configs are converted for.

    Returns
    -------
    dict
        ``{"default": {"weights", "activations"}, "recommended": {...}}`` (``Profile.to_dict()``
        each); ``"recommended"`` is left out when there is no config.
    """
    if samples < 1:
        raise ConfigError(f"samples must be at least 1; got {samples}")
    xs = _subset(x, samples, seed)
    cfg = default_config if default_config is not None else hls4ml_default_config(model)
    profiles = {"default": _profiles(model, xs, cfg, backend, io_type)}
    if config:
        profiles["recommended"] = _profiles(model, xs, config, backend, io_type)
    return profiles
