"""Numerical profiling of weights and activations: the data, computed from Keras and the emulator.

The workflow of hls4ml's ``hls4ml.model.profiling.numerical``, without a compiled model: one row
per variable (a layer's weights, its biases, or its output), the distribution of the absolute
non-zero values on a log2 axis and, when an hls4ml config is given, a grey box for the range the
configured type represents (its LSB to its largest value). A variable whose values do not fit
its type is marked red, with the number of values that overflowed.

What is shown
-------------
- Weights, no config: the float Keras weights, per layer (BatchNormalization as the scale and
  bias it applies, like hls4ml's ``weights_keras``).
- Weights, with config: the float weights of hls4ml's own layers (after its optimiser passes,
  so a BatchNormalization fused into the Dense before it shows as that Dense's weights), the
  values hls4ml writes before they are cast to ``weight_t`` / ``bias_t``. Values before the cast
  are what decide the type: a box reaching left of the grey box is below the LSB (lost to
  rounding), one reaching right of it overflows.
- Activations, no config: the float Keras output of every layer.
- Activations, with config: the emulator's output of every hls4ml layer, that is the values the
  generated C++ really computes (quantised inputs, quantised weights, every cast on the way),
  cast to the layer's ``result_t``. Rows are hls4ml's layers, not Keras's, because hls4ml
  splits and fuses layers and the types belong to its layers. After a cast no value lies
  outside the type (it wrapped or saturated), so the red mark comes from the emulator: the
  number of values that overflowed at the ``result_t`` cast, and a red cross at the largest
  value before that cast. Values smaller than the LSB became zero and are not plotted (log2 of
  zero is undefined), which the row's zero count records.

Every row keeps summary statistics, not the values: quartiles, extremes and a histogram on a
log2 grid of `BINS_PER_OCTAVE` bins per power of two, so a `Profile` of a large model over many
samples stays small and serialises to JSON (`Profile.to_dict` / `Profile.from_dict`). The data
classes live in :mod:`reports.profile_data` and the figures are drawn from them alone
(`reports.profiling.plot_profile`); this module fills them from Keras and the emulator, which
is why it sits in `tuner` (on top of both), not in `reports` (which draws plain data only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emulation.errors import ConfigError, DataError
from reports.profile_data import Profile, Row, summarize
from reports.profiling import check_plot, plot_profile

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from emulation.fixed import FixedType

__all__ = ["activations_profile", "numerical", "weights_profile"]


# Keras variable names -> the names hls4ml gives the same arrays.
_KERAS_NAMES = {
    "kernel": "weight",
    "depthwise_kernel": "depthwise",
    "pointwise_kernel": "pointwise",
    "recurrent_kernel": "recurrent_weight",
    "gamma": "scale",
    "beta": "bias",
}


def _keras_variables(layer: Any) -> list[tuple[str, np.ndarray]]:
    """The float arrays of a Keras layer, named as hls4ml names them."""
    if type(layer).__name__ == "BatchNormalization":
        # What the layer applies, like hls4ml's weights_keras: x * scale + bias.
        values = {v.name: np.asarray(v.numpy(), dtype=np.float64) for v in layer.weights}
        std = np.sqrt(values["moving_variance"] + layer.epsilon)
        gamma = values.get("gamma", np.ones_like(std))
        beta = values.get("beta", np.zeros_like(std))
        mean = values["moving_mean"]
        return [("scale", gamma / std), ("bias", beta - gamma * mean / std)]
    out = []
    for v in layer.weights:
        if not np.issubdtype(np.dtype(v.dtype), np.floating):
            continue  # seed-generator state and other bookkeeping
        out.append((_KERAS_NAMES.get(v.name, v.name), np.asarray(v.numpy(), dtype=np.float64)))
    return out


def _is_input(layer: Any) -> bool:
    return type(layer).__name__ == "InputLayer"


def _overflow_points(em: Any) -> dict[str, tuple[int, float]]:
    """``{"<layer>.<type>": (count, max_abs)}`` from the emulator's overflow record."""
    out = {}
    for key, p in dict(getattr(em, "overflows", {}) or {}).items():
        if isinstance(p, Mapping):
            out[key] = (int(p.get("count", 0)), float(p.get("max_abs", 0.0)))
        else:
            out[key] = (int(p.count), float(getattr(p, "max_abs", 0.0)))
    return out


def _type_for(node: Any, variable: str) -> FixedType | None:
    return dict(node.types).get(f"{variable}_t")


def _weight_overflows(raw: np.ndarray, t: FixedType) -> int:
    """How many weights overflow ``t`` as the C simulation loads them (decimal text, then cast)."""
    from emulation.hls_nodes import decimal_text_values

    _, mask = t.quantize(decimal_text_values(raw, max(0, t.fractional)), return_overflow=True)
    return int(np.count_nonzero(mask))


def _emulated(model: Any, hls_config: Any, backend: str, io_type: str) -> Any:
    from emulation.model import EmulatedModel

    return EmulatedModel(model, hls_config, backend=backend, io_type=io_type)


def weights_profile(
    model: Any,
    hls_config: Any = None,
    *,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> Profile:
    """Profile of every layer's weights and biases.

    Parameters
    ----------
    model : keras.Model
    hls_config : hls4ml config (dict or YAML path), optional
        With a config, the rows are hls4ml's layers and their float weights as hls4ml holds
        them (after BatchNormalization fusion), each with its type (``weight_t``, ``bias_t``,
        ...) and the number of values that overflow when cast to it. Without one, the float
        Keras weights and no types.
    backend : hls4ml's backend of the config, ``"Vivado"`` or ``"Vitis"``.
    io_type : hls4ml's io type of the config, ``"io_parallel"`` or ``"io_stream"``.
    """
    rows: list[Row] = []
    if hls_config is None:
        for layer in model.layers:
            for var, values in _keras_variables(layer):
                rows.append(Row(f"{layer.name}/{var}", layer.name, values.size, summarize(values)))
        return Profile("weights", "keras", tuple(rows))
    from emulation.graph import build_graph

    for node in build_graph(model, hls_config, backend=backend, io_type=io_type).nodes:
        for var, raw in dict(node.raw_weights).items():
            values = np.asarray(raw, dtype=np.float64)
            t = _type_for(node, var)
            count = None if t is None else _weight_overflows(np.asarray(raw), t)
            peak = float(np.max(np.abs(values))) if values.size else None
            rows.append(
                Row(f"{node.name}/{var}", node.name, values.size, summarize(values), t, count, peak)
            )
    return Profile("weights", "emulator", tuple(rows))


def _check_samples(model: Any, X: Any) -> np.ndarray:
    from emulation.io.data_files import load_data

    shape = tuple(model.input_shape)
    if isinstance(model.input_shape, list):
        raise DataError("profiling activations supports models with one input only")
    return load_data(np.asarray(X), expected_shape=shape)


def activations_profile(
    model: Any,
    X: np.ndarray,
    hls_config: Any = None,
    *,
    batch_size: int = 1024,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> Profile:
    """Profile of every layer's output over the samples ``X``.

    Parameters
    ----------
    model : keras.Model
        A model with one input.
    X : ndarray
        Input samples, ``(n, *input_shape)``.
    hls_config : hls4ml config (dict or YAML path), optional
        With a config, the rows are hls4ml's layers as the emulator computes them, each with
        its ``result_t``, the overflow count at that cast and the largest value before it.
        Without one, the float output of every Keras layer.
    batch_size : int
        Samples per Keras call (float path).
    backend : hls4ml's backend of the config, ``"Vivado"`` or ``"Vitis"``.
    io_type : hls4ml's io type of the config, ``"io_parallel"`` or ``"io_stream"``.
    """
    X = _check_samples(model, X)
    if hls_config is None:
        import keras

        layers = [layer for layer in model.layers if not _is_input(layer)]
        probe = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in layers])
        outputs = probe.predict(X, batch_size=batch_size, verbose=0)
        if len(layers) == 1:
            outputs = [outputs]
        rows = tuple(
            Row(layer.name, layer.name, int(np.size(y)), summarize(y))
            for layer, y in zip(layers, outputs, strict=True)
        )
        return Profile("activations", "keras", rows, samples=len(X))
    em = _emulated(model, hls_config, backend, io_type)
    trace = em.trace(X)
    points = {
        key: value
        for key, value in _overflow_points(em).items()
        if not _is_weight_point(key, em.nodes)  # weight casts have their own figure
    }
    rows = []
    for node in em.nodes:
        if node.name not in trace:
            continue
        y = np.asarray(trace[node.name])
        count, peak = points.pop(f"{node.name}.result_t", (None, None))
        others = {}
        for key in [k for k in points if k.rpartition(".")[0] == node.name]:
            c, _ = points.pop(key)
            if c > 0:
                others[key[len(node.name) + 1 :]] = c
        t = dict(node.types).get("result_t")
        rows.append(Row(node.name, node.name, int(y.size), summarize(y), t, count, peak, others))
    # Cast points of layers that are not rows (the input layer, which hls4ml does not trace).
    other = {k: c for k, (c, _) in points.items() if c > 0}
    return Profile("activations", "emulator", tuple(rows), len(X), other)


def _is_weight_point(key: str, nodes: Sequence[Any]) -> bool:
    layer, _, tname = key.rpartition(".")
    for node in nodes:
        if node.name == layer:
            return any(f"{var}_t" == tname for var in node.raw_weights)
    return False


# ---------------------------------------------------------------------------------------------
# hls4ml's entry point


def _is_hls_model(obj: Any) -> bool:
    return hasattr(obj, "get_layers") and hasattr(getattr(obj, "config", None), "config")


def _resolve(model: Any, hls_config: Any) -> tuple[Any, Any]:
    """``(keras model or None, hls4ml config or None)`` from what `numerical` was given."""
    if _is_hls_model(hls_config) or _is_hls_model(model):
        graph = hls_config if _is_hls_model(hls_config) else model
        if model is graph:
            model = None
        project = graph.config.config
        hls_config = project["HLSConfig"]
        model = model if model is not None else project.get("KerasModel")
        if model is None:
            raise ConfigError(
                "this hls4ml model was not converted from a Keras model (its config names no "
                "KerasModel): pass the Keras model as model=..."
            )
        return model, hls_config
    if isinstance(hls_config, str | os.PathLike):
        from emulation.config import read_config
        from emulation.io import keras_files as keras_io

        path = Path(hls_config)
        if model is None:
            # A project YAML (KerasModel / KerasJson + KerasH5) is both the model and the config.
            model, cfg = keras_io.load(path)
            if cfg is None:
                raise ConfigError(f"{path} holds no HLSConfig; give an hls4ml config")
            return model, cfg
        return model, read_config(path)
    if isinstance(hls_config, Mapping) and model is None and "KerasModel" in hls_config:
        return hls_config["KerasModel"], hls_config.get("HLSConfig", hls_config)
    return model, hls_config


def numerical(
    model: Any = None, hls_config: Any = None, X: np.ndarray | None = None, plot: str = "boxplot"
) -> tuple[Figure | None, Figure | None]:
    """Profile weights (and activations, given data) like hls4ml's ``numerical``.

    1. ``model`` only: the weights, no grey boxes; no activations figure.
    2. ``hls_config`` (an hls4ml config dict or YAML, a project YAML, or an hls4ml ``ModelGraph``),
       with or without ``model``: the weights with grey boxes for the configured types.
    3. ``model`` and ``X``: weights and activations, no grey boxes.
    4. ``model`` (or a ``ModelGraph`` / project YAML), ``hls_config`` and ``X``: both, with
       grey boxes, overflows marked red.

    Parameters
    ----------
    model : keras.Model, optional
    hls_config : dict, str, PathLike or hls4ml ModelGraph, optional
    X : ndarray, optional
        Input samples for the activations.
    plot : {"boxplot", "histogram", "violinplot"}

    Returns
    -------
    (weights figure, activations figure or None)
    """
    check_plot(plot)
    model, hls_config = _resolve(model, hls_config)
    if model is None:
        raise ConfigError(
            "nothing to profile: give a Keras model, an hls4ml ModelGraph or a project YAML "
            "that names its model (KerasModel)"
        )
    weights = plot_profile(weights_profile(model, hls_config), plot)
    if X is None:
        return weights, None
    return weights, plot_profile(activations_profile(model, X, hls_config), plot)
