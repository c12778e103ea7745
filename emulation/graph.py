"""hls4ml's own ModelGraph of a Keras model, as an ordered list of plain `Node`s.

hls4ml decides the graph: `build_graph` runs ``hls4ml.converters.convert_from_keras_model``
(Vivado or Vitis backend, ``io_parallel`` or ``io_stream``), which applies hls4ml's optimizer
passes and config precedence in milliseconds and writes or compiles nothing, then copies what the
generated C++ will use:

- every precision the layer's C++ names (``layer.types``: ``result_t``, ``accum_t``,
  ``weight_t``, ``table_t``, ...) as a `FixedType`, 'auto' already resolved by hls4ml;
- every weight twice: ``raw_weights`` as hls4ml holds it, and ``weights`` as the C++ constant
  holds it. hls4ml writes each weight as decimal text with F = max(0, W - I) digits after the
  point (``WeightVariable.update_precision``: ``'{:.{F}f}'``, ``'{:.0f}'`` for integer types) and
  the C simulation reads that text back into the type (``load_weights_from_txt``: ``>> double``,
  then the type's own conversion). So the value used is ``Q(float(text(w)))``: weights are
  rounded twice. Weights keep hls4ml's layout (Dense under Resource strategy is transposed to
  ``(n_out, n_in)``; ``attrs['_weights_transposed']`` says so);
- every other attribute as plain values (``reuse_factor`` and ``strategy`` as hls4ml really uses
  them, after it replaced an invalid ReuseFactor), plus ``product_type`` (the ``nnet::product``
  class hls4ml selects) and ``fused_batchnorm`` (the Keras BatchNormalization layers hls4ml
  folded into a Dense or Conv node, read from the graph).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emulation.config import project_settings, read_config
from emulation.errors import ConfigError, UnsupportedLayerError
from emulation.hls_model_graph import graph_from_hls_model, io_type_name
from emulation.hls_nodes import backend_name, node_from_layer
from emulation.io.hls4ml_output import quiet_hls4ml
from emulation.layers.base import Graph, Node
from emulation.layers.recurrent import refuse_keras_recurrent
from emulation.unsupported import refuse_unsupported

__all__ = ["build_graph", "convert"]


def _target(hls_config: Any, backend: str | None, io_type: str | None) -> tuple[str, str]:
    """hls4ml's spelling of the backend and io type: as given, else a project file's ``Backend``
    and ``IOType`` (``hls_config`` given as a whole project), else Vivado and io_parallel."""
    project = project_settings(hls_config) if backend is None or io_type is None else {}
    backend = backend if backend is not None else project.get("Backend", "Vivado")
    io_type = io_type if io_type is not None else project.get("IOType", "io_parallel")
    return backend_name(str(backend)), io_type_name(str(io_type))


def _keras_parent(layer: Any) -> str | None:
    """Name of the Keras layer feeding ``layer`` (single input), or None."""
    try:
        history = layer.input._keras_history
        return history.operation.name
    except (AttributeError, ValueError, IndexError):
        return None


def _mark_fused_batchnorm(model: Any, nodes: list[Node]) -> list[Node]:
    """Record on each Dense/Conv node the Keras BatchNormalization layers hls4ml folded into it."""
    names = {n.name for n in nodes}
    fused: dict[str, list[str]] = {}
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ != "BatchNormalization" or layer.name in names:
            continue
        parent = _keras_parent(layer)
        if parent in names:
            fused.setdefault(parent, []).append(layer.name)
    return [
        dataclasses.replace(n, attrs={**n.attrs, "fused_batchnorm": tuple(fused.get(n.name, ()))})
        for n in nodes
    ]


def convert(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    io_type: str | None = None,
) -> Any:
    """hls4ml's ModelGraph of ``model`` for ``backend`` and ``io_type``, compiled nowhere.

    Without ``output_dir`` nothing is written either (hls4ml only needs a path to write to
    later). What hls4ml prints goes through `quiet_hls4ml`: its printed warnings (an invalid
    ReuseFactor it replaced, ...) become Python warnings, its notes are dropped; its conversion
    failures become `ConfigError` or `UnsupportedLayerError`.
    """
    import hls4ml

    backend, io_type = _target(hls_config, backend, io_type)
    config = copy.deepcopy(read_config(hls_config))
    refuse_unsupported(model, config, io_type)
    refuse_keras_recurrent(model)
    if output_dir is None:
        output_dir = Path(tempfile.gettempdir()) / f"aptune-unwritten-{uuid.uuid4().hex}"
    try:
        with quiet_hls4ml():
            hls_model = hls4ml.converters.convert_from_keras_model(
                model,
                hls_config=config,
                backend=backend,
                io_type=io_type,
                output_dir=str(output_dir),
            )
    except UnsupportedLayerError:
        raise
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if "nsupported" in message:
            raise UnsupportedLayerError(
                f"hls4ml cannot convert this model: {message}; replace or remove that layer"
            ) from exc
        raise ConfigError(
            f"hls4ml could not convert the model with this config: {message}"
        ) from exc
    return hls_model


def build_graph(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    backend: str | None = None,
    io_type: str | None = None,
) -> Graph:
    """hls4ml's graph of a Keras model under an hls4ml config, as plain `Node`s.

    Parameters
    ----------
    model : keras.Model
    hls_config : the ``HLSConfig`` dict (``Model`` / ``LayerType`` / ``LayerName``), a YAML
        file holding it, or a whole hls4ml project file (read by `emulation.config.read_config`).
    backend : ``"Vivado"`` or ``"Vitis"`` (any case), as hls4ml names them; None: a project
        file's ``Backend``, else Vivado.
    io_type : ``"io_parallel"`` or ``"io_stream"``; None: a project file's ``IOType``, else
        io_parallel.

    Returns
    -------
    Graph
        Nodes in execution order (the order of the generated C++), model input and output names.
    """
    backend, io_type = _target(hls_config, backend, io_type)
    hls_model = convert(model, hls_config, backend=backend, io_type=io_type)
    if hls_model.config.get_config_value("IOType") == "io_stream":
        graph = graph_from_hls_model(hls_model)
        return dataclasses.replace(graph, nodes=_mark_fused_batchnorm(model, graph.nodes))
    nodes = [node_from_layer(layer) for layer in hls_model.get_layers()]
    nodes = _mark_fused_batchnorm(model, nodes)
    return Graph(
        nodes=nodes,
        inputs=tuple(hls_model.inputs),
        outputs=tuple(hls_model.outputs),
        backend=backend_name(backend),
    )
