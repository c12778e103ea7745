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
- with data: overflows per cast point, top-class agreement with float Keras.

>>> result = check(keras_model, hls_config)                         # doctest: +SKIP
>>> [f.message for f in result.findings if f.severity == "error"]   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from emulation.config import ignored_keys, read_config, unknown_keys
from emulation.fixed import FixedType, Overflow
from emulation.graph import Graph, build_graph
from emulation.layers.base import Node

__all__ = ["SEVERITIES", "CheckResult", "Finding", "LayerRow", "check", "graph_findings"]

SEVERITIES = ("note", "warning", "error")

#: An exp-table index step at least this large hides every realistic logit difference.
_STEP_ERROR = 1.0
#: Above this step, logits closer than the step share one exp value: a coarse softmax.
_STEP_WARNING = 0.125
#: Top-class agreement with float Keras below which the config is reported.
_AGREEMENT = 0.99
#: Samples used to find the first layer that loses the agreement (one emulation per step).
_LOCALISE_SAMPLES = 2000
#: Wide types of the reference the config is compared with: every product keeps its bits.
_REFERENCE = {
    "weight": "ap_fixed<24,8,AP_RND,AP_SAT>",
    "bias": "ap_fixed<24,8,AP_RND,AP_SAT>",
    "result": "ap_fixed<32,12,AP_RND,AP_SAT>",
    "accum": "ap_fixed<52,16,AP_RND,AP_SAT>",
}
#: A softmax input with an exp-table index step of 1/32 (1024 entries).
_REFERENCE_SOFTMAX_INPUT = "ap_fixed<18,6,AP_RND,AP_SAT>"
#: The Precision sub-keys hls4ml ignores, and the layer key that works instead.
_TABLE_KEYS = {
    "table": "table_t",
    "exp_table": "exp_table_t",
    "inv_table": "inv_table_t",
    "inv_inp": "inv_inp_t",
}


@dataclass(frozen=True)
class Finding:
    """One thing the config does that the user may not expect.

    ``code`` names the check (``ignored-key``, ``softmax-resolution``, ...) so tools and tests
    can select findings; ``fix`` is written in the config's own syntax; ``point`` names the cast
    point (``"<layer>.<type name>"``) an overflow finding is about, so reports can mark it.
    """

    severity: str
    code: str
    layer: str | None
    message: str
    fix: str = ""
    point: str | None = None


@dataclass(frozen=True)
class LayerRow:
    """One generated layer: its types (with their origin), table sizes, strategy, reuse."""

    name: str
    kind: str
    input_type: str | None
    types: dict[str, dict[str, str]]
    table_sizes: dict[str, int]
    strategy: str | None
    reuse_factor: int | None


@dataclass
class CheckResult:
    """Layers, findings and (with data) measurements; ``to_dict()`` is JSON-ready."""

    layers: list[LayerRow]
    findings: list[Finding]
    data: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    @property
    def worst(self) -> str | None:
        """The highest severity found, or None."""
        found = [SEVERITIES.index(f.severity) for f in self.findings]
        return SEVERITIES[max(found)] if found else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "layers": [dataclasses.asdict(r) for r in self.layers],
            "findings": [dataclasses.asdict(f) for f in self.findings],
            "data": self.data,
        }


# ------------------------------------------------------------------------- config lookups
def _section(cfg: Mapping[str, Any], name: str) -> dict[str, Mapping[str, Any]]:
    """A LayerName/LayerType section keyed by lower-case name (hls4ml matches that way)."""
    entries = cfg.get(name)
    if not isinstance(entries, Mapping):
        return {}
    return {str(k).lower(): v for k, v in entries.items() if isinstance(v, Mapping)}


def _blocks(cfg: Mapping[str, Any], node: Node) -> list[Mapping[str, Any]]:
    """The config blocks that apply to ``node``, most specific first (LayerName, LayerType)."""
    found = []
    for section, key in (("LayerName", node.name), ("LayerType", node.kind)):
        block = _section(cfg, section).get(key.lower())
        if block is not None:
            found.append(block)
    return found


def _source(cfg: Mapping[str, Any], node: Node, type_name: str) -> str:
    """Where a type of ``node`` comes from: 'config', 'auto' (resolved by hls4ml) or 'default'."""
    var = type_name[:-2] if type_name.endswith("_t") else type_name
    for block in _blocks(cfg, node):
        if isinstance(block.get(type_name), str):
            return "config"
        precision = block.get("Precision")
        if isinstance(precision, str):
            return "auto" if precision.strip().lower() == "auto" else "config"
        if isinstance(precision, Mapping) and var not in _TABLE_KEYS:
            for key in (var, "default"):
                if isinstance(precision.get(key), str):
                    return "auto" if precision[key].strip().lower() == "auto" else "config"
    return "default"


def _configured_reuse(cfg: Mapping[str, Any], node: Node) -> int:
    for block in _blocks(cfg, node):
        if "ReuseFactor" in block:
            return int(block["ReuseFactor"])
    model = cfg.get("Model")
    return int(model.get("ReuseFactor", 1)) if isinstance(model, Mapping) else 1


def _fix_precision(layer: str, var: str, t: str) -> str:
    return f"LayerName: {{{layer}: {{Precision: {{{var}: {t}}}}}}}"


def _fix_key(layer: str, key: str, value: Any) -> str:
    return f"LayerName: {{{layer}: {{{key}: {value}}}}}"


def _fitting(t: FixedType, max_abs: float) -> FixedType:
    """``t`` with enough integer bits for ``max_abs`` and the same fractional bits."""
    need = math.floor(math.log2(max_abs)) + 1 + int(t.signed) if max_abs > 0 else 1
    integer = max(t.integer, need)
    return dataclasses.replace(t, width=t.fractional + integer, integer=integer)


# ------------------------------------------------------------------------------ checks
def _config_findings(cfg: Mapping[str, Any], graph: Graph, model: Any) -> list[Finding]:
    out: list[Finding] = []
    for path in ignored_keys(cfg):
        where, _, key = path.rpartition(".Precision.")
        layer = where.split(".", 1)[1] if "." in where else None
        value = _precision_at(cfg, path)
        in_effect = _in_effect(graph, layer, _TABLE_KEYS[key])
        same = in_effect is not None and _same_type(value, in_effect)
        generated = layer is None or layer.lower() in {n.name.lower() for n in graph.nodes}
        out.append(
            Finding(
                "note" if same or not generated else "warning",
                "ignored-key",
                layer,
                f"{path} = {value} has no effect: hls4ml reads table types only from the "
                f"layer key {_TABLE_KEYS[key]}"
                + (f" (the table is {in_effect}, as written)" if same else "")
                + (f"; the table stays {in_effect}" if in_effect and not same else "")
                + ("" if generated else f" (and hls4ml generates no layer {layer})"),
                _fix_key(layer or "<layer>", _TABLE_KEYS[key], value),
            )
        )
    for path in unknown_keys(cfg):
        out.append(
            Finding(
                "warning",
                "unknown-key",
                None,
                f"{path} is not a key hls4ml reads: it is kept and silently ignored",
                "remove it or correct its spelling (ReuseFactor, Strategy, Precision, "
                "TableSize, table_t, ...)",
            )
        )
    out += _layer_name_findings(cfg, graph, model)
    return out


def _precision_at(cfg: Mapping[str, Any], path: str) -> Any:
    value: Any = cfg
    for part in path.split(".Precision.")[0].split(".", 1):
        value = value.get(part) if isinstance(value, Mapping) else None
    key = path.rsplit(".", 1)[1]
    precision = value.get("Precision") if isinstance(value, Mapping) else None
    return precision.get(key) if isinstance(precision, Mapping) else None


def _in_effect(graph: Graph, layer: str | None, type_name: str) -> str | None:
    if layer is None:
        return None
    for node in graph.nodes:
        if node.name.lower() == layer.lower() and type_name in node.types:
            return node.types[type_name].to_hls()
    return None


def _same_type(text: Any, hls: str) -> bool:
    from emulation.config import parse_precision

    try:
        parsed = parse_precision(text)
    except ValueError:
        return False
    return parsed is not None and parsed.to_hls() == hls


def _layer_name_findings(cfg: Mapping[str, Any], graph: Graph, model: Any) -> list[Finding]:
    entries = cfg.get("LayerName")
    if not isinstance(entries, Mapping):
        return []
    nodes = {n.name.lower() for n in graph.nodes}
    keras_names = [layer.name for layer in getattr(model, "layers", [])]
    fused = {bn.lower(): n.name for n in graph.nodes for bn in n.attrs.get("fused_batchnorm", ())}
    out = []
    for name, block in entries.items():
        low = str(name).lower()
        if low in nodes:
            continue
        if low in fused:
            given = block.get("Precision") if isinstance(block, Mapping) else None
            values = given.values() if isinstance(given, Mapping) else [given]
            explicit = [v for v in values if isinstance(v, str) and v.strip().lower() != "auto"]
            out.append(
                Finding(
                    "warning" if explicit else "note",
                    "fused-batchnorm",
                    str(name),
                    f"BatchNormalization {name} is fused into {fused[low]} (its result is "
                    f"'auto'): the node is gone and its settings are dropped; the fused weights "
                    f"take {fused[low]}'s weight and bias types",
                    f"{_fix_precision(fused[low], 'result', 'ap_fixed<16,6>')} keeps {name} a "
                    f"separate layer, or set {fused[low]}'s weight/bias types instead",
                )
            )
        elif low in {k.lower() for k in keras_names}:
            out.append(
                Finding(
                    "note",
                    "removed-layer",
                    str(name),
                    f"hls4ml generates no layer for {name} (removed by its optimisations): "
                    "its settings have no effect",
                    f"remove LayerName.{name}",
                )
            )
        else:
            candidates = [n.name for n in graph.nodes] + keras_names
            close = difflib.get_close_matches(str(name), candidates, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            out.append(
                Finding(
                    "warning",
                    "unknown-layer",
                    str(name),
                    f"LayerName.{name} matches no layer of the model: its settings have no "
                    f"effect{hint}",
                    f"rename it to {close[0]}" if close else "remove it",
                )
            )
    return out


def _reuse_findings(cfg: Mapping[str, Any], graph: Graph) -> list[Finding]:
    out = []
    for node in graph.nodes:
        if "weight" not in node.weights or "reuse_factor" not in node.attrs:
            continue
        wanted, used = _configured_reuse(cfg, node), int(node.attrs["reuse_factor"])
        if wanted == used:
            continue
        valid = ""
        if node.kind == "Dense" and "n_in" in node.attrs and "n_out" in node.attrs:
            from hls4ml.backends import get_backend

            rfs = get_backend("Vivado").get_valid_reuse_factors(
                int(node.attrs["n_in"]), int(node.attrs["n_out"])
            )
            valid = f" (valid: {', '.join(map(str, rfs))})"
        out.append(
            Finding(
                "warning",
                "reuse-replaced",
                node.name,
                f"ReuseFactor {wanted} is not valid for {node.name}: hls4ml uses {used} "
                f"instead, with only a printed warning{valid}",
                _fix_key(node.name, "ReuseFactor", used),
            )
        )
    return out


def _softmax_findings(cfg: Mapping[str, Any], graph: Graph) -> list[Finding]:
    from emulation.layers.softmax import ceillog2, softmax_sizes

    out = []
    for node in graph.nodes:
        if node.kind != "Softmax" or not node.input_types:
            continue
        impl = node.attrs.get("implementation", "stable")
        if impl not in ("stable", "latency"):
            continue
        data_t = node.input_types[0]
        sizes = softmax_sizes(node.attrs, data_t)
        index_t = sizes["inp_norm_t"] if impl == "stable" else data_t
        exp_size, inv_size = sizes["exp_table_size"], sizes["inv_table_size"]
        for what, size, key in (
            ("exp", exp_size, "TableSize"),
            ("inverse", inv_size, "InvTableSize"),
        ):
            if size & (size - 1):
                lower = 1 << (size.bit_length() - 1)
                out.append(
                    Finding(
                        "error",
                        "table-size",
                        node.name,
                        f"the {what} table has {size} entries, not a power of two: the C++ "
                        f"indexes it with {ceillog2(size)} bits and reads past its end",
                        _fix_key(node.name, key, lower),
                    )
                )
        inv_inp_t = node.types.get("inv_inp_t")
        for what, size, t, key in (
            ("exp", exp_size, index_t, "TableSize"),
            ("inverse", inv_size, inv_inp_t, "InvTableSize"),
        ):
            if t is not None and ceillog2(size) > t.width:
                out.append(
                    Finding(
                        "error",
                        "table-size",
                        node.name,
                        f"the {what} table has {size} entries but its index type {t.to_hls()} "
                        f"has only {t.width} bits: the C++ index shift is negative",
                        _fix_key(node.name, key, 2**t.width),
                    )
                )
        bits = ceillog2(exp_size)
        if bits > index_t.width:
            continue
        step = 2.0 ** (index_t.integer - bits)
        if step <= _STEP_WARNING:
            continue
        feeder = node.inputs[0]
        origin = _source(cfg, graph.node(feeder), "result_t") if feeder else "default"
        s = int(data_t.signed)
        integer = min(6, bits + s - 5)  # an index step of 1/32
        suggested = FixedType(max(16, integer + 10), integer)
        severity = "error" if step >= _STEP_ERROR else "warning"
        consequence = (
            "every output row is (nearly) identical" if severity == "error" else "coarse outputs"
        )
        out.append(
            Finding(
                severity,
                "softmax-resolution",
                node.name,
                f"the input of {impl} softmax {node.name} is {data_t.to_hls()} ({origin} result "
                f"of {feeder}); the exp table ({exp_size} entries) is indexed by the top {bits} "
                f"bits of {index_t.to_hls()}, a step of {step:g}: logits closer than {step:g} "
                f"get the same exp value, so {consequence}",
                _fix_precision(feeder, "result", suggested.to_hls()),
            )
        )
    return out


def _weight_findings(graph: Graph) -> list[Finding]:
    out = []
    for node in graph.nodes:
        for key, raw in node.raw_weights.items():
            t = node.types.get(f"{key}_t")
            raw = np.asarray(raw, dtype=np.float64)
            if t is None or raw.size == 0:
                continue
            _, overflow = t.quantize(raw, return_overflow=True)
            largest = float(np.max(np.abs(raw)))
            var = "weight" if key == "weight" else key
            if overflow.any():
                wraps = t.overflow.name == "WRAP"
                out.append(
                    Finding(
                        "error" if wraps else "warning",
                        "weight-overflow",
                        node.name,
                        f"{key}_t {t.to_hls()} holds [{t.min:g}, {t.max:g}] but the largest "
                        f"|{key}| is {largest:g}: {int(overflow.sum())} of {raw.size} values "
                        + ("wrap around (sign flips)" if wraps else "saturate"),
                        _fix_precision(node.name, var, _fitting(t, largest).to_hls()),
                        point=f"{node.name}.{key}_t",
                    )
                )
            nonzero = raw != 0
            zeroed = nonzero & (np.asarray(node.weights[key]) == 0)
            share = zeroed.sum() / max(1, nonzero.sum())
            if share > 0.5:
                wider = dataclasses.replace(t, width=t.width + 4)
                out.append(
                    Finding(
                        "warning",
                        "weight-zeroed",
                        node.name,
                        f"{key}_t {t.to_hls()} (LSB {t.lsb:g}) rounds {share:.0%} of the "
                        f"non-zero {key} values to zero",
                        _fix_precision(node.name, var, wider.to_hls()),
                    )
                )
    return out


# ------------------------------------------------------------------------------- rows
def _row(cfg: Mapping[str, Any], node: Node) -> LayerRow:
    types = {
        name: {"type": t.to_hls(), "source": _source(cfg, node, name)}
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


# ------------------------------------------------------------------------------- data
def _data_findings(
    cfg: Mapping[str, Any],
    graph: Graph,
    model: Any,
    X: Any,
    float_outputs: Any,
    bound: float | None,
) -> tuple[dict[str, Any], list[Finding]]:
    from emulation.model import EmulatedModel

    em = EmulatedModel.from_graph(graph)
    trace = em.trace(X)
    points = []
    findings = []
    first_overflow = None
    for key, p in em.overflows.items():
        layer, _, type_name = key.rpartition(".")
        node = graph.node(layer) if layer in {n.name for n in graph.nodes} else None
        t = node.types.get(type_name) if node is not None else None
        if type_name == "result_t" and node is not None and node.kind == "Input":
            t = node.types.get("result_t")
        points.append(
            {
                "point": key,
                "layer": layer,
                "type": t.to_hls() if t is not None else None,
                "type_max": t.max if t is not None else None,
                **p.to_dict(),
            }
        )
        if p.count:
            first_overflow = first_overflow or layer
            fix = (
                _fix_precision(layer, type_name[:-2], _fitting(t, p.max_abs).to_hls())
                if t is not None and type_name in ("result_t", "accum_t")
                else f"give {layer}'s input a narrower or better-scaled type"
            )
            # a saturating type clips by design (the tuner picks one so that a rare outlier
            # clips); wrap-around flips signs, and SAT_ZERO drops the value
            clips = t is not None and t.overflow in (Overflow.SAT, Overflow.SAT_SYM)
            findings.append(
                Finding(
                    "note" if clips else "warning",
                    "overflow",
                    layer,
                    f"{p.count} of {p.total} values ({p.share:.1%}) "
                    + ("saturate" if clips else "overflow")
                    + f" at {key}"
                    + (f" ({t.to_hls()}, max {t.max:g})" if t is not None else "")
                    + f"; largest |value| {p.max_abs:g}",
                    fix,
                    point=key,
                )
            )
    data: dict[str, Any] = {"samples": None, "points": points, "first_overflow": first_overflow}
    outputs = [trace[o] for o in graph.outputs if o in trace]
    if len(graph.outputs) != 1 or not outputs:
        return data, findings
    y = outputs[0].reshape(outputs[0].shape[0], -1)
    data["samples"] = int(y.shape[0])
    data["identical_rows"] = bool(y.shape[0] > 1 and np.all(y == y[:1]))
    if float_outputs is None and model is not None:
        float_outputs = model.predict(np.asarray(X, dtype=np.float32), verbose=0)
    if float_outputs is None or y.shape[1] < 2:
        return data, findings
    ref = np.asarray(float_outputs, dtype=np.float64).reshape(y.shape[0], -1)
    agreement = float(np.mean(y.argmax(1) == ref.argmax(1)))
    data["agreement"] = agreement
    if bound is not None and agreement < bound:
        data["first_loss"] = _first_loss(cfg, graph, model, X, ref, bound)
        where = f"; the first overflow is at {first_overflow}" if first_overflow else ""
        if data["first_loss"]:
            where += (
                f"; the first layer whose own types lose {bound:.0%} agreement (the "
                f"config up to it, wide types after it) is {data['first_loss']}"
            )
        same = "; every output row is identical" if data["identical_rows"] else ""
        findings.append(
            Finding(
                "error" if data["identical_rows"] else "warning",
                "agreement",
                graph.outputs[0],
                f"the emulated C simulation agrees with float Keras on the top class for "
                f"{agreement:.1%} of {y.shape[0]} samples{same}{where}",
                "see the findings above (softmax input, overflows); `aptune tune` picks types "
                "that meet an accuracy target",
            )
        )
    return data, findings


def _reference_config(cfg: Mapping[str, Any], graph: Graph, model: Any, keep: int) -> dict:
    """``cfg`` for the first ``keep`` nodes, wide reference types for every later one.

    Later nodes get `_REFERENCE` types (a node feeding a softmax a narrow saturating result,
    so the softmax keeps its resolution) and default tables.
    """
    import copy

    out = copy.deepcopy(dict(cfg))
    names = dict(out.get("LayerName") or {})
    feeds_softmax = {n.inputs[0] for n in graph.nodes if n.kind == "Softmax" and n.inputs}
    later = [n.name for n in graph.nodes[keep:]]
    later += [bn for n in graph.nodes[keep:] for bn in n.attrs.get("fused_batchnorm", ())]
    for name in later:
        block = {
            k: v
            for k, v in dict(names.get(name) or {}).items()
            if k not in _TABLE_KEYS.values() and k not in ("TableSize", "InvTableSize")
        }
        precision = dict(_REFERENCE)
        if name in feeds_softmax:
            precision["result"] = _REFERENCE_SOFTMAX_INPUT
        block["Precision"] = precision
        names[name] = block
    out["LayerName"] = names
    return out


def _agreement_with(cfg: Mapping[str, Any], model: Any, X: np.ndarray, ref: np.ndarray) -> float:
    from emulation.model import EmulatedModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.asarray(EmulatedModel(model, cfg).predict(X)).reshape(len(X), -1)
    return float(np.mean(y.argmax(1) == ref.argmax(1)))


def _first_loss(
    cfg: Mapping[str, Any], graph: Graph, model: Any, X: Any, ref: np.ndarray, bound: float
) -> str | None:
    """The first layer whose own types lose the agreement ``bound``, by bisection over the
    graph.

    The config is applied to the first k layers and wide types to the rest; the smallest k
    whose agreement falls below the target names the layer. None when even the wide
    reference misses the target, or the model cannot be converted that way.
    """
    x = np.asarray(X, dtype=np.float64)[:_LOCALISE_SAMPLES]
    r = ref[: len(x)]
    try:
        if _agreement_with(_reference_config(cfg, graph, model, 0), model, x, r) < bound:
            return None
        lo, hi = 0, len(graph.nodes)  # agreement holds with lo nodes kept, fails with hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            config = _reference_config(cfg, graph, model, mid)
            if _agreement_with(config, model, x, r) >= bound:
                lo = mid
            else:
                hi = mid
    except (ValueError, KeyError, OSError):  # a reference hls4ml or the emulator refuses
        return None
    return graph.nodes[hi - 1].name


# ------------------------------------------------------------------------------ entry
def graph_findings(cfg: Mapping[str, Any], graph: Graph) -> list[Finding]:
    """The findings that follow from hls4ml's graph alone (reuse factors, softmax, weights):
    no data, no config keys; cheap enough to run on every candidate of a search."""
    return _reuse_findings(cfg, graph) + _softmax_findings(cfg, graph) + _weight_findings(graph)


def check(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    X: Any = None,
    float_outputs: Any = None,
    agreement: float | None = _AGREEMENT,
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
        graph = build_graph(model, cfg)
    findings = _config_findings(cfg, graph, model) + graph_findings(cfg, graph)
    data = None
    if X is not None:
        data, more = _data_findings(cfg, graph, model, X, float_outputs, agreement)
        findings += more
    order = {s: -i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])  # stable: errors first, then model order
    rows = [_row(cfg, n) for n in graph.nodes]
    return CheckResult(layers=rows, findings=findings, data=data)
