"""The findings `aptune check` makes with data: overflows per cast point in the emulator, the
top-class agreement with float Keras, and the first layer whose types lose it."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from emulation import metrics
from emulation.check.findings import Finding
from emulation.check.rules import fix_precision
from emulation.config import LAYER_LEVEL_TYPES, TABLE_SIZE_KEYS
from emulation.fixed import Overflow, fitting
from emulation.layers.base import Graph

__all__ = ["AGREEMENT", "ERROR_AGREEMENT", "data_findings"]

#: Top-class agreement with float Keras below which the config is reported (a warning).
AGREEMENT = 0.99
#: Below this agreement (one sample in ten changes class) the finding is an error, whatever the
#: bound: such a config is broken, not merely short of a target.
ERROR_AGREEMENT = 0.90
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


# ------------------------------------------------------------------------------- data
def data_findings(
    cfg: Mapping[str, Any],
    graph: Graph,
    model: Any,
    X: Any,
    float_outputs: Any,
    bound: float | None,
    earlier: Sequence[Finding] = (),
) -> tuple[dict[str, Any], list[Finding]]:
    """Overflow findings per cast point and, below ``bound``, the agreement finding.

    The agreement finding is a warning, an error below `ERROR_AGREEMENT` or when every output
    row is identical; its fix names the findings (``earlier`` ones and the overflows) that can
    explain the loss, or, with none, the first layer whose own types lose it.
    """
    from emulation.model import EmulatedModel, cast_type

    em = EmulatedModel.from_graph(graph)
    trace = em.trace(X)
    points = []
    findings = []
    first_overflow = None
    for key, p in em.overflows.items():
        layer, _, type_name = key.rpartition(".")
        t = cast_type(graph, key)
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
                fix_precision(layer, type_name[:-2], fitting(t, p.max_abs).to_hls())
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
    if float_outputs is None:
        return data, findings
    ref = np.asarray(float_outputs, dtype=np.float64).reshape(y.shape[0], -1)
    agreement = metrics.agreement(y, ref)
    data["agreement"] = agreement
    if bound is not None and agreement < bound:
        data["first_loss"], lost = _first_loss(cfg, graph, model, X, ref, bound)
        where = f"; the first overflow is at {first_overflow}" if first_overflow else ""
        level = f"{bound:.0%}" if lost >= bound else f"{lost:.1%} (what wide types reach)"
        if data["first_loss"]:
            where += (
                f"; the first layer whose own types lose {level} agreement (the "
                f"config up to it, wide types after it) is {data['first_loss']}"
            )
        same = "; every output row is identical" if data["identical_rows"] else ""
        broken = data["identical_rows"] or agreement < ERROR_AGREEMENT
        findings.append(
            Finding(
                "error" if broken else "warning",
                "agreement",
                graph.outputs[0],
                f"the emulated C simulation agrees with float Keras on the top class for "
                f"{agreement:.1%} of {y.shape[0]} samples{same}{where}",
                _agreement_fix([*earlier, *findings], data["first_loss"], level),
            )
        )
    return data, findings


def _agreement_fix(findings: Sequence[Finding], first_loss: str | None, level: str) -> str:
    """What to look at for lost agreement: the findings that exist (every overflow, anything
    else above a note), else the first losing layer; never findings that are not there."""
    named: dict[str, list[str]] = {}
    for f in findings:
        if f.code == "overflow" or f.severity != "note":
            layers = named.setdefault(f.code, [])
            if f.layer and f.layer not in layers:
                layers.append(f.layer)
    tune = "`aptune tune` picks types that meet an accuracy target"
    if named:
        listed = ", ".join(f"{c} ({', '.join(ls)})" if ls else c for c, ls in named.items())
        return f"see the findings above: {listed}; {tune}"
    if first_loss:
        return (
            f"no other finding explains it: widen the types of {first_loss} (result, accum, "
            f"weight, bias), the first layer that loses {level} agreement; {tune}"
        )
    return (
        f"no other finding explains it, and no single layer could be named (on the first "
        f"{_LOCALISE_SAMPLES} samples, or with a wide-type reference); {tune}"
    )


def _reference_config(cfg: Mapping[str, Any], graph: Graph, model: Any, keep: int) -> dict:
    """``cfg`` for the first ``keep`` nodes, wide reference types for every later one.

    Later nodes get `_REFERENCE` types (a node feeding a softmax a narrow saturating result,
    so the softmax keeps its resolution) and default tables. An LSTM's input, accum_t and
    result_t must stay one type (hls4ml compiles no other): a later LSTM takes the reference
    result type for both when its input is later too, and keeps its own types otherwise.
    """
    import copy

    out = copy.deepcopy(dict(cfg))
    names = dict(out.get("LayerName") or {})
    feeds_softmax = {n.inputs[0] for n in graph.nodes if n.kind == "Softmax" and n.inputs}
    later = [n.name for n in graph.nodes[keep:]]
    later += [bn for n in graph.nodes[keep:] for bn in n.attrs.get("fused_batchnorm", ())]
    lstm_inputs = {n.name: n.inputs for n in graph.nodes if n.kind == "LSTM"}
    for name in later:
        if name in lstm_inputs and not set(lstm_inputs[name]) <= set(later):
            continue
        block = {
            k: v
            for k, v in dict(names.get(name) or {}).items()
            if k not in LAYER_LEVEL_TYPES and k not in TABLE_SIZE_KEYS
        }
        precision = dict(_REFERENCE)
        if name in feeds_softmax:
            precision["result"] = _REFERENCE_SOFTMAX_INPUT
        if name in lstm_inputs:
            precision["accum"] = precision["result"]
        block["Precision"] = precision
        names[name] = block
    out["LayerName"] = names
    return out


def _agreement_with(
    cfg: Mapping[str, Any], model: Any, X: np.ndarray, ref: np.ndarray, like: Graph
) -> float:
    """Top-class agreement of ``cfg`` emulated for ``like``'s backend and io type."""
    from emulation.model import EmulatedModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        em = EmulatedModel(model, cfg, backend=like.backend, io_type=like.io_type)
        y = np.asarray(em.predict(X)).reshape(len(X), -1)
    return metrics.agreement(y, ref)


def _first_loss(
    cfg: Mapping[str, Any], graph: Graph, model: Any, X: Any, ref: np.ndarray, bound: float
) -> tuple[str | None, float]:
    """The first layer whose own types lose the agreement ``bound``, by bisection over the
    graph, and the agreement level it loses.

    The config is applied to the first k layers and wide types to the rest; the smallest k
    whose agreement falls below the level names the layer. The level is ``bound``, or what
    the all-wide reference reaches when that is lower (near-ties a fixed-point model cannot
    call, on a small data set): the layer then is the one that loses more than those. None
    when no layer loses it or the model cannot be converted that way.
    """
    x = np.asarray(X, dtype=np.float64)[:_LOCALISE_SAMPLES]
    r = ref[: len(x)]
    level = bound
    try:
        level = min(
            bound,
            _agreement_with(_reference_config(cfg, graph, model, 0), model, x, r, graph),
        )
        if _agreement_with(cfg, model, x, r, graph) >= level:
            return None, level
        lo, hi = 0, len(graph.nodes)  # agreement holds with lo nodes kept, fails with hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            config = _reference_config(cfg, graph, model, mid)
            if _agreement_with(config, model, x, r, graph) >= level:
                lo = mid
            else:
                hi = mid
    except (ValueError, KeyError, OSError):  # a reference hls4ml or the emulator refuses
        return None, level
    return graph.nodes[hi - 1].name, level
