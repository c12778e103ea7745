"""The findings `aptune check` reads from a config and hls4ml's graph of it, without data:
keys with no effect, replaced reuse factors, softmax traps, weights that wrap or vanish."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from typing import Any

import numpy as np

from emulation.check.findings import Finding
from emulation.config import (
    IGNORED_PRECISION_KEYS,
    configured_type,
    ignored_keys,
    layer_setting,
    unknown_keys,
)
from emulation.fixed import FixedType, fitting
from emulation.layers.base import Graph, Node

__all__ = [
    "config_findings",
    "fix_precision",
    "graph_findings",
    "narrow_softmax_input",
    "type_source",
]

#: An exp-table index step at least this large hides every realistic logit difference.
_STEP_ERROR = 1.0
#: Above this step, logits closer than the step share one exp value: a coarse softmax.
_STEP_WARNING = 0.125


# ------------------------------------------------------------------------- config lookups
def type_source(cfg: Mapping[str, Any], node: Node, type_name: str) -> str:
    """Where a type of ``node`` comes from: 'config', 'auto' (resolved by hls4ml) or 'default'."""
    text = configured_type(cfg, node.name, node.kind, type_name)
    if text is None:
        return "default"
    return "auto" if text.strip().lower() == "auto" else "config"


def configured_reuse(cfg: Mapping[str, Any], node: Node) -> int:
    return int(layer_setting(cfg, node.name, node.kind, "ReuseFactor", 1))


def fix_precision(layer: str, var: str, t: str) -> str:
    return f"LayerName: {{{layer}: {{Precision: {{{var}: {t}}}}}}}"


def fix_key(layer: str, key: str, value: Any) -> str:
    return f"LayerName: {{{layer}: {{{key}: {value}}}}}"


# ------------------------------------------------------------------------------ checks
def config_findings(cfg: Mapping[str, Any], graph: Graph, model: Any) -> list[Finding]:
    out: list[Finding] = []
    for path in ignored_keys(cfg):
        where, _, key = path.rpartition(".Precision.")
        layer = where.split(".", 1)[1] if "." in where else None
        value = _precision_at(cfg, path)
        in_effect = _in_effect(graph, layer, IGNORED_PRECISION_KEYS[key])
        same = in_effect is not None and _same_type(value, in_effect)
        generated = layer is None or layer.lower() in {n.name.lower() for n in graph.nodes}
        out.append(
            Finding(
                "note" if same or not generated else "warning",
                "ignored-key",
                layer,
                f"{path} = {value} has no effect: hls4ml reads table types only from the "
                f"layer key {IGNORED_PRECISION_KEYS[key]}"
                + (f" (the table is {in_effect}, as written)" if same else "")
                + (f"; the table stays {in_effect}" if in_effect and not same else "")
                + ("" if generated else f" (and hls4ml generates no layer {layer})"),
                fix_key(layer or "<layer>", IGNORED_PRECISION_KEYS[key], value),
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
                    f"{fix_precision(fused[low], 'result', 'ap_fixed<16,6>')} keeps {name} a "
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
        wanted, used = configured_reuse(cfg, node), int(node.attrs["reuse_factor"])
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
                fix_key(node.name, "ReuseFactor", used),
            )
        )
    return out


def narrow_softmax_input(data_t: FixedType, exp_size: int) -> FixedType:
    """The data-free softmax input: at most 6 integer bits, an exp-table index step of 1/32."""
    from emulation.layers.softmax import ceillog2

    integer = min(6, ceillog2(exp_size) + int(data_t.signed) - 5)
    return FixedType(max(16, integer + 10), integer)


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
                        fix_key(node.name, key, lower),
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
                        fix_key(node.name, key, 2**t.width),
                    )
                )
        bits = ceillog2(exp_size)
        if bits > index_t.width:
            continue
        step = 2.0 ** (index_t.integer - bits)
        if step <= _STEP_WARNING:
            continue
        feeder = node.inputs[0]
        origin = type_source(cfg, graph.node(feeder), "result_t") if feeder else "default"
        suggested = narrow_softmax_input(data_t, exp_size)
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
                fix_precision(feeder, "result", suggested.to_hls()),
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
                # a value that saturates by less than one LSB (a largest weight rounded to
                # nearest, up past the top) errs no more than rounding does
                excess = float(np.max(np.maximum(raw - t.max, t.min - raw)[overflow]))
                within = not wraps and excess < t.lsb
                severity = "error" if wraps else "note" if within else "warning"
                what = "wrap around (sign flips)" if wraps else "saturate"
                fix = fix_precision(node.name, var, fitting(t, largest).to_hls())
                if within:
                    what += f", by less than one LSB ({excess:g} < {t.lsb:g})"
                    fix = f"harmless (no larger than a rounding error); to silence it: {fix}"
                out.append(
                    Finding(
                        severity,
                        "weight-overflow",
                        node.name,
                        f"{key}_t {t.to_hls()} holds [{t.min:g}, {t.max:g}] but the largest "
                        f"|{key}| is {largest:g}: {int(overflow.sum())} of {raw.size} values "
                        + what,
                        fix,
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
                        fix_precision(node.name, var, wider.to_hls()),
                    )
                )
    return out


def graph_findings(cfg: Mapping[str, Any], graph: Graph) -> list[Finding]:
    """The findings that follow from hls4ml's graph alone (reuse factors, softmax, weights):
    no data, no config keys; cheap enough to run on every candidate of a search."""
    return _reuse_findings(cfg, graph) + _softmax_findings(cfg, graph) + _weight_findings(graph)
