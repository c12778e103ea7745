"""Numerical profiling of weights and activations, as plain data and as figures.

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
samples stays small and serialises to JSON (`Profile.to_dict` / `Profile.from_dict`); every
figure is drawn from that data (:mod:`reports.plots`).

Examples
--------
>>> import numpy as np
>>> s = summarize(np.array([0.0, -0.25, 0.5, 3.0]))
>>> s.count, s.min, s.max
(3, 0.25, 3.0)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emulation.errors import ConfigError, DataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from emulation.fixed import FixedType

__all__ = [
    "BINS_PER_OCTAVE",
    "PLOT_KINDS",
    "Profile",
    "Row",
    "Summary",
    "activations_profile",
    "numerical",
    "plot_profile",
    "summarize",
    "weights_profile",
]

#: Histogram resolution: bins per power of two (the violins are drawn from these counts).
BINS_PER_OCTAVE = 8

#: The plot kinds `numerical` and `plot_profile` draw.
PLOT_KINDS = ("boxplot", "histogram", "violinplot")

# Keras variable names -> the names hls4ml gives the same arrays.
_KERAS_NAMES = {
    "kernel": "weight",
    "depthwise_kernel": "depthwise",
    "pointwise_kernel": "pointwise",
    "recurrent_kernel": "recurrent_weight",
    "gamma": "scale",
    "beta": "bias",
}


@dataclass(frozen=True)
class Summary:
    """Statistics of the absolute non-zero values of one variable.

    Attributes
    ----------
    count : number of non-zero values.
    min, q1, median, q3, max : of the absolute non-zero values (quartiles interpolate linearly).
    lowest, highest : the signed extremes of the non-zero values, to test them against a type.
    hist_start : index of the first histogram bin; bin ``k`` counts the values in
        ``[2**((hist_start + k) / BINS_PER_OCTAVE), 2**((hist_start + k + 1) / BINS_PER_OCTAVE))``.
    hist_counts : the histogram counts (they sum to ``count``).
    """

    count: int
    min: float
    q1: float
    median: float
    q3: float
    max: float
    lowest: float
    highest: float
    hist_start: int
    hist_counts: tuple[int, ...]

    def octaves(self) -> tuple[np.ndarray, np.ndarray]:
        """Counts per power of two: ``(exponents k, counts of |x| in [2**k, 2**(k+1)))``."""
        start = math.floor(self.hist_start / BINS_PER_OCTAVE)
        offset = self.hist_start - start * BINS_PER_OCTAVE
        fine = np.concatenate([np.zeros(offset, np.int64), np.asarray(self.hist_counts)])
        pad = -len(fine) % BINS_PER_OCTAVE
        fine = np.concatenate([fine, np.zeros(pad, np.int64)])
        counts = fine.reshape(-1, BINS_PER_OCTAVE).sum(axis=1)
        return start + np.arange(len(counts)), counts


def summarize(values: np.ndarray) -> Summary | None:
    """Summary statistics of the non-zero values of ``values``; None when all are zero.

    Parameters
    ----------
    values : array_like
        Any shape; NaN or infinite values are refused (`DataError`).
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(x)):
        raise DataError(
            f"cannot profile {np.count_nonzero(~np.isfinite(x))} NaN or infinite value(s): "
            "check the model's weights and the input data"
        )
    x = x[x != 0]
    if x.size == 0:
        return None
    a = np.abs(x)
    q1, median, q3 = np.percentile(a, [25, 50, 75])
    # Bin index from the exponent, exactly: a = m * 2**e with m in [0.5, 1), so log2(a) is
    # e - 1 plus log2(2m) in [0, 1); powers of two land on their bin edge without rounding.
    m, e = np.frexp(a)
    sub = np.clip(np.floor(np.log2(2 * m) * BINS_PER_OCTAVE), 0, BINS_PER_OCTAVE - 1)
    idx = (e.astype(np.int64) - 1) * BINS_PER_OCTAVE + sub.astype(np.int64)
    start = int(idx.min())
    counts = np.bincount(idx - start)
    return Summary(
        count=int(a.size),
        min=float(a.min()),
        q1=float(q1),
        median=float(median),
        q3=float(q3),
        max=float(a.max()),
        lowest=float(x.min()),
        highest=float(x.max()),
        hist_start=start,
        hist_counts=tuple(int(c) for c in counts),
    )


@dataclass(frozen=True)
class Row:
    """One variable of a profile: a layer's weights, its biases, or its output.

    Attributes
    ----------
    name : the row's label: ``"<layer>/<variable>"`` for weights, ``"<layer>"`` for outputs.
    layer : the layer's name (Keras's without a config, hls4ml's with one).
    size : number of values, zeros included.
    summary : statistics of the non-zero values; None when every value is zero.
    type : the configured fixed-point type, or None (no config, or none for this variable).
    overflows : how many values overflowed when cast to ``type`` (None when unknown).
    peak : the largest absolute value before the cast to ``type``, when known.
    cast_overflows : overflow counts at the layer's other cast points on the way to this
        output (``{"accum_t": 240}``; emulated activations only, those above zero). A wrapped
        accumulator can leave the output inside its type and still wrong, so these count too.
    """

    name: str
    layer: str
    size: int
    summary: Summary | None
    type: FixedType | None = None
    overflows: int | None = None
    peak: float | None = None
    cast_overflows: Mapping[str, int] = field(default_factory=dict)

    @property
    def overflowed(self) -> bool:
        """True when values did not fit: counted overflows, or extremes outside the type."""
        if any(self.cast_overflows.values()):
            return True
        if self.type is None:
            return False
        if self.overflows is not None:
            return self.overflows > 0
        s = self.summary
        return s is not None and (s.highest > self.type.max or s.lowest < self.type.min)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the type as its hls4ml string)."""
        return {
            "name": self.name,
            "layer": self.layer,
            "size": self.size,
            "summary": None if self.summary is None else _summary_dict(self.summary),
            "type": None if self.type is None else self.type.to_hls(),
            "overflows": self.overflows,
            "peak": self.peak,
            "cast_overflows": dict(self.cast_overflows),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """The row `to_dict` wrote."""
        from emulation.fixed import FixedType

        s = data.get("summary")
        t = data.get("type")
        return cls(
            name=str(data["name"]),
            layer=str(data["layer"]),
            size=int(data["size"]),
            summary=None if s is None else Summary(**{**s, "hist_counts": tuple(s["hist_counts"])}),
            type=None if t is None else FixedType.parse(t),
            overflows=None if data.get("overflows") is None else int(data["overflows"]),
            peak=None if data.get("peak") is None else float(data["peak"]),
            cast_overflows={k: int(v) for k, v in data.get("cast_overflows", {}).items()},
        )


def _summary_dict(s: Summary) -> dict[str, Any]:
    return {
        "count": s.count,
        "min": s.min,
        "q1": s.q1,
        "median": s.median,
        "q3": s.q3,
        "max": s.max,
        "lowest": s.lowest,
        "highest": s.highest,
        "hist_start": s.hist_start,
        "hist_counts": list(s.hist_counts),
    }


@dataclass(frozen=True)
class Profile:
    """The rows of one figure, top to bottom in layer order.

    Attributes
    ----------
    kind : ``"weights"`` or ``"activations"``.
    source : ``"keras"`` (float Keras values) or ``"emulator"`` (hls4ml's layers; activations
        as the emulator computes them in fixed point).
    rows : one `Row` per variable.
    samples : the number of input samples (activations only).
    other_overflows : overflow counts at cast points that are not rows (``"<layer>.accum_t"``,
        ...), only those above zero.
    """

    kind: str
    source: str
    rows: tuple[Row, ...]
    samples: int | None = None
    other_overflows: Mapping[str, int] = field(default_factory=dict)

    @property
    def has_types(self) -> bool:
        """True when at least one row has a configured type (grey boxes are drawn)."""
        return any(r.type is not None for r in self.rows)

    def overflowing(self) -> tuple[Row, ...]:
        """The rows whose values did not fit their type."""
        return tuple(r for r in self.rows if r.overflowed)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; `from_dict` reads it back."""
        return {
            "kind": self.kind,
            "source": self.source,
            "samples": self.samples,
            "rows": [r.to_dict() for r in self.rows],
            "other_overflows": dict(self.other_overflows),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """The profile `to_dict` wrote."""
        return cls(
            kind=str(data["kind"]),
            source=str(data["source"]),
            rows=tuple(Row.from_dict(r) for r in data["rows"]),
            samples=None if data.get("samples") is None else int(data["samples"]),
            other_overflows={k: int(v) for k, v in data.get("other_overflows", {}).items()},
        )


# ---------------------------------------------------------------------------------------------
# From models


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
    from emulation.graph import decimal_text_values

    _, mask = t.quantize(decimal_text_values(raw, max(0, t.fractional)), return_overflow=True)
    return int(np.count_nonzero(mask))


def _emulated(model: Any, hls_config: Any, backend: str = "Vivado") -> Any:
    from emulation.model import EmulatedModel

    return EmulatedModel(model, hls_config, backend=backend)


def weights_profile(model: Any, hls_config: Any = None, *, backend: str = "Vivado") -> Profile:
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
    """
    rows: list[Row] = []
    if hls_config is None:
        for layer in model.layers:
            for var, values in _keras_variables(layer):
                rows.append(Row(f"{layer.name}/{var}", layer.name, values.size, summarize(values)))
        return Profile("weights", "keras", tuple(rows))
    from emulation.graph import build_graph

    for node in build_graph(model, hls_config, backend=backend).nodes:
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
    from emulation.data import load_data

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
    em = _emulated(model, hls_config, backend)
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
        from emulation import keras_io
        from emulation.config import read_config

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


def _check_plot(plot: str) -> None:
    if plot not in PLOT_KINDS:
        raise ConfigError(f"unknown plot kind {plot!r}; expected one of {', '.join(PLOT_KINDS)}")


def plot_profile(profile: Profile, plot: str = "boxplot") -> Figure:
    """Draw ``profile`` as a ``"boxplot"``, ``"histogram"`` or ``"violinplot"`` figure."""
    from reports import plots

    _check_plot(plot)
    return plots.PLOTS[plot](profile)


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
    _check_plot(plot)
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
