"""What hls4ml 1.3 will really do with a config, and what in it will hurt, before synthesis.

`check` converts the model with hls4ml (`emulation.graph`), compares the resulting graph with
what the config says, and returns plain-data `Finding`s (severity, layer, what happens, the fix
in the config's own syntax) and one `LayerRow` per generated layer (every type it will use and
where it came from). Given data it also runs the emulator. Checks, one per behaviour of hls4ml
listed in the design notes:

- keys with no effect: ``Precision: {table|exp_table|inv_table|inv_inp}``, unknown keys,
  ``LayerName`` entries that match no layer, precisions of a BatchNormalization hls4ml fused away;
- a ``ReuseFactor`` hls4ml replaced by the nearest valid one;
- softmax traps: an input so wide that the exp table's index step hides every logit difference
  (every output row identical), table sizes the index type cannot address or that are not powers
  of two;
- weights whose type wraps the largest weight, or rounds most non-zero weights to zero;
- with data: overflows per cast point, top-class agreement with float Keras (a warning below
  99 %, an error below 90 %), and every softmax-resolution fix tried on the emulator first
  (`emulation.check.fixes`): without data that fix says it is unverified.

The data-free rules live in `emulation.check.rules`, the data findings in
`emulation.check.data`, the verified fixes in `emulation.check.fixes`, the plain result types
in `emulation.check.findings`.

>>> result = check(keras_model, hls_config)                         # doctest: +SKIP
>>> [f.message for f in result.findings if f.severity == "error"]   # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from emulation.check.data import AGREEMENT, data_findings
from emulation.check.findings import SEVERITIES, CheckResult, Finding, LayerRow
from emulation.check.fixes import mark_unverified, verify_softmax_fixes
from emulation.check.rules import config_findings, graph_findings, type_source
from emulation.config import read_config
from emulation.graph import build_graph
from emulation.layers.base import Node

__all__ = ["SEVERITIES", "CheckResult", "Finding", "LayerRow", "check", "graph_findings"]


# ------------------------------------------------------------------------------- rows
def _row(cfg: Mapping[str, Any], node: Node) -> LayerRow:
    types = {
        name: {"type": t.to_hls(), "source": type_source(cfg, node, name)}
        for name, t in node.types.items()
        if name != "index_t"
    }
    sizes = {
        k: int(node.attrs[k])
        for k in ("table_size", "exp_table_size", "inv_table_size")
        if isinstance(node.attrs.get(k), int)
    }
    if node.kind == "Softmax" and node.input_types:
        from emulation.layers.softmax import softmax_sizes

        effective = softmax_sizes(node.attrs, node.input_types[0])
        sizes.update({k: int(effective[k]) for k in ("exp_table_size", "inv_table_size")})
    rf = node.attrs.get("reuse_factor")
    return LayerRow(
        name=node.name,
        kind=node.kind,
        input_type=node.input_types[0].to_hls() if node.input_types else None,
        types=types,
        table_sizes=sizes,
        strategy=node.attrs.get("strategy") if "weight" in node.weights else None,
        reuse_factor=int(rf) if isinstance(rf, int) and "weight" in node.weights else None,
    )


# ------------------------------------------------------------------------------ entry
def check(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    X: Any = None,
    float_outputs: Any = None,
    agreement: float | None = AGREEMENT,
    *,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> CheckResult:
    """Check what hls4ml will do with ``hls_config`` for ``model``.

    Parameters
    ----------
    model : keras.Model
    hls_config : HLSConfig dict, a YAML file holding it, or an hls4ml project file.
    X : optional input samples; adds overflow statistics and the top-class agreement.
    float_outputs : optional float Keras outputs for ``X`` (computed from ``model`` if omitted).
    agreement : top-class agreement with float Keras below which ``X`` gives a finding (None:
        none; e.g. a tuner that met another metric).
    backend : hls4ml's backend, ``"Vivado"`` or ``"Vitis"``.
    io_type : hls4ml's ``"io_parallel"`` or ``"io_stream"``.

    Returns
    -------
    CheckResult
        One `LayerRow` per generated layer and the findings, errors first.

    Raises
    ------
    ConfigError, UnsupportedLayerError : the config or the model cannot be converted.
    """
    cfg = read_config(hls_config)
    with warnings.catch_warnings():
        # hls4ml's printed warnings (a replaced ReuseFactor) become findings below
        warnings.filterwarnings("ignore", message="hls4ml: ")
        graph = build_graph(model, cfg, backend=backend, io_type=io_type)
    findings = config_findings(cfg, graph, model) + graph_findings(cfg, graph)
    data = None
    if X is not None:
        if float_outputs is None and model is not None and len(graph.outputs) == 1:
            float_outputs = model.predict(np.asarray(X, dtype=np.float32), verbose=0)
        data, more = data_findings(cfg, graph, model, X, float_outputs, agreement, findings)
        findings = verify_softmax_fixes(
            cfg, graph, model, X, float_outputs, data, findings + more, agreement
        )
    else:
        findings = mark_unverified(findings)
    order = {s: -i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])  # stable: errors first, then model order
    rows = [_row(cfg, n) for n in graph.nodes]
    return CheckResult(layers=rows, findings=findings, data=data)
