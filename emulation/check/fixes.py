"""Softmax-resolution fixes that `aptune check` tries on the emulator before it suggests one.

A fix read off the types alone can be wrong for the data: narrowing the logits of the MNIST
MLP to ``ap_fixed<16,6>`` clears the coarse exp-table index but wraps 9 % of the logits (71 %
agreement), and widening them back brings the coarse index back, so following the advice
loops. With data, each candidate is emulated and the first one that clears the finding without
a new wrapping overflow and without losing agreement is suggested, saying so; without data the
data-free suggestion is marked unverified.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from emulation import metrics
from emulation.check.findings import Finding
from emulation.check.rules import fix_key, fix_precision, graph_findings, narrow_softmax_input
from emulation.fixed import FixedType, Overflow, integer_bits
from emulation.layers.base import Graph

__all__ = [
    "MAX_TABLE_SIZE",
    "UNVERIFIED",
    "mark_unverified",
    "softmax_candidates",
    "verify_softmax_fixes",
]

#: The largest exp/inverse table suggested (65,536 entries: what a 17-bit signed input's 16
#: top bits address, and enough for the MNIST MLP's logits up to ~192).
MAX_TABLE_SIZE = 65536
#: Appended to a data-free fix.
UNVERIFIED = "(unverified: no data; with --data `aptune check` tries fixes on the emulator)"
#: The index step the narrower-input candidate aims at (as the data-free rule: 1/32).
_STEP = 1 / 32


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One fix: its text in the config's syntax and the config it makes."""

    text: str
    config: dict[str, Any]


def _with_layer(cfg: Mapping[str, Any], layer: str, key: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(dict(cfg))
    names = dict(out.get("LayerName") or {})
    block = dict(names.get(layer) or {})
    if key == "result":
        precision = block.get("Precision")
        # a layer-wide string is hls4ml's '<layer>_default': keep it for the other types
        precision = {"default": precision} if isinstance(precision, str) else precision
        block["Precision"] = {**dict(precision or {}), "result": value}
    else:
        block[key] = value
    names[layer] = block
    out["LayerName"] = names
    return out


def _index(node: Any) -> tuple[FixedType, int]:
    """The type indexing the exp table and the table's (effective) size."""
    from emulation.layers.softmax import softmax_sizes

    data_t = node.input_types[0]
    sizes = softmax_sizes(node.attrs, data_t)
    stable = node.attrs.get("implementation", "stable") == "stable"
    return (sizes["inp_norm_t"] if stable else data_t), int(sizes["exp_table_size"])


def softmax_candidates(
    cfg: Mapping[str, Any],
    graph: Graph,
    softmax: str,
    logits: float | None,
    spread: float | None = None,
) -> list[Candidate]:
    """Fixes for a coarse softmax input, in order of preference.

    1. ``TableSize`` four times larger, then 16 times, ... up to what the index type's bits
       address and `MAX_TABLE_SIZE` (only the softmax changes);
    2. a narrower input with enough integer bits for the observed ``logits`` (largest |value|)
       and, for a stable softmax, their ``spread`` (largest ``x_max - x``, held one bit
       narrower), at least ten fractional bits, and the smallest larger table that gives it an
       index step of 1/32 if the current one does not;
    3. the data-free suggestion (`narrow_softmax_input`).
    """
    from emulation.layers.softmax import ceillog2

    node = graph.node(softmax)
    feeder = node.inputs[0]
    index_t, size = _index(node)
    out = []
    cap = min(MAX_TABLE_SIZE, 2**index_t.width)
    larger = size * 4
    while larger <= cap:
        out.append(
            Candidate(
                fix_key(softmax, "TableSize", larger),
                _with_layer(cfg, softmax, "TableSize", larger),
            )
        )
        larger *= 4
    data_t = node.input_types[0]
    if logits is not None and logits > 0:
        s = int(data_t.signed)
        integer = integer_bits(logits, data_t.signed)
        if spread is not None and spread > 0:  # the stable softmax's x_max - x, sign bit dropped
            integer = max(integer, integer_bits(spread, data_t.signed))
        table = size
        # the stable softmax's index drops the sign bit: it has integer - s integer bits
        top = integer - (s if node.attrs.get("implementation", "stable") == "stable" else 0)
        while 2.0 ** (top - ceillog2(table)) > _STEP and table * 4 <= MAX_TABLE_SIZE:
            table *= 4
        width = max(16, integer + 10, ceillog2(table) + s)
        t = dataclasses.replace(data_t, width=width, integer=integer).to_hls()
        config, text = _with_layer(cfg, feeder, "result", t), fix_precision(feeder, "result", t)
        if table != size:
            config = _with_layer(config, softmax, "TableSize", table)
            text += f" and {fix_key(softmax, 'TableSize', table)}"
        out.append(Candidate(text, config))
    fallback = narrow_softmax_input(data_t, size).to_hls()
    out.append(
        Candidate(
            fix_precision(feeder, "result", fallback), _with_layer(cfg, feeder, "result", fallback)
        )
    )
    seen: set[str] = set()
    return [c for c in out if not (c.text in seen or seen.add(c.text))]


def _wraps(graph: Graph, overflows: Mapping[str, Any]) -> set[str]:
    """Cast points where values overflow a type that does not saturate (an overflow warning)."""
    from emulation.model import cast_type

    out = set()
    for key, p in overflows.items():
        t = cast_type(graph, key)
        if p.count and not (t is not None and t.overflow in (Overflow.SAT, Overflow.SAT_SYM)):
            out.add(key)
    return out


def _try(
    candidate: Candidate,
    model: Any,
    X: np.ndarray,
    ref: np.ndarray | None,
    softmax: str,
    like: Graph,
) -> tuple[str | None, float | None, set[str]]:
    """Emulate ``candidate`` for ``like``'s backend and io type: (why it fails to clear the
    finding or None, agreement, wraps)."""
    from emulation.config import read_config
    from emulation.graph import build_graph
    from emulation.model import EmulatedModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = read_config(candidate.config)
        graph = build_graph(model, cfg, backend=like.backend, io_type=like.io_type)
        still = [
            f
            for f in graph_findings(cfg, graph)
            if f.layer == softmax and f.code in ("softmax-resolution", "table-size")
        ]
        em = EmulatedModel.from_graph(graph)
        trace = em.trace(X)
    agreement = None
    y = trace.get(graph.outputs[0]) if len(graph.outputs) == 1 else None
    if ref is not None and y is not None:
        y = y.reshape(len(X), -1)
        agreement = metrics.agreement(y, ref)
    why = f"still {still[0].code}" if still else None
    return why, agreement, _wraps(graph, em.overflows)


def verify_softmax_fixes(
    cfg: Mapping[str, Any],
    graph: Graph,
    model: Any,
    X: Any,
    ref: Any,
    data: Mapping[str, Any],
    findings: Sequence[Finding],
    bound: float | None,
) -> list[Finding]:
    """``findings`` with each softmax-resolution fix replaced by the first candidate (see
    `softmax_candidates`) that, emulated on ``X``, clears the finding, adds no wrapping
    overflow, and keeps the agreement (at least the current one or ``bound``, the lower)."""
    x = np.asarray(X, dtype=np.float64)
    r = None if ref is None else np.asarray(ref, dtype=np.float64).reshape(len(x), -1)
    current = data.get("agreement")
    keep = None if current is None else min(current, current if bound is None else bound)
    wrapping = {f.point for f in findings if f.code == "overflow" and f.severity != "note"}
    logits = {p["point"]: p.get("max_abs") for p in data.get("points", [])}
    out = []
    for f in findings:
        if f.code != "softmax-resolution" or f.layer is None:
            out.append(f)
            continue
        node = graph.node(f.layer)
        observed = logits.get(f"{node.inputs[0]}.result_t")
        spread = logits.get(f"{f.layer}.inp_norm_t")
        tried = []
        fix = None
        for c in softmax_candidates(cfg, graph, f.layer, observed, spread):
            why, agreement, wraps = _try(c, model, x, r, f.layer, graph)
            new = sorted(wraps - wrapping)
            if why is None and new:
                why = f"wraps at {', '.join(new)}"
            if why is None and keep is not None and agreement is not None and agreement < keep:
                why = f"agreement {agreement:.1%}"
            if why is None:
                said = "" if agreement is None else f", agreement {agreement:.1%}"
                fix = (
                    f"{c.text} (verified on the emulator with the {len(x)} samples: the "
                    f"finding clears, no new wrap-around{said})"
                )
                break
            tried.append(f"{c.text}: {why}")
        if fix is None:
            fix = f"no fix verified on the {len(x)} samples: " + "; ".join(tried)
        out.append(dataclasses.replace(f, fix=fix))
    return out


def mark_unverified(findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` with each softmax-resolution fix marked as not tried on data."""
    return [
        dataclasses.replace(f, fix=f"{f.fix} {UNVERIFIED}") if f.code == "softmax-resolution" else f
        for f in findings
    ]
