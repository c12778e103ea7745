"""Reports of a C-simulation comparison, drawn from its plain JSON data alone.

Input is ``Comparison.to_dict()`` (or the ``comparison.json`` it was saved as), so every table
and figure can be regenerated from a saved result without Keras, hls4ml or a compiler:

- `comparison_table`: the compact three-way text table the ``aptune csim`` command prints;
- `comparison_markdown`: the same as Markdown (``summary.md``);
- `plot_comparison`: one figure, three panels: emulator vs C simulation in LSBs of the output
  type, the error of each against float Keras (over the span that matters; the exact zeros
  counted in the legend), and the share of identical values per layer.

Figures use matplotlib's object API (no pyplot, no global state) and never modify the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from emulation.errors import ConfigError
from emulation.fixed import FixedType

__all__ = [
    "CSIM_COLOR",
    "DIFFER_COLOR",
    "EMULATOR_COLOR",
    "GID_DIVERGENCE",
    "comparison_markdown",
    "comparison_table",
    "plot_comparison",
]

EMULATOR_COLOR = "#2b6cb0"
CSIM_COLOR = "#dd6b20"
DIFFER_COLOR = "#c62828"
AGREE_COLOR = "#2f855a"
GID_DIVERGENCE = "first-divergence"

Data = Mapping[str, Any]


# ------------------------------------------------------------------------------- numbers
def _pct(share: float | None) -> str:
    """A share as a percentage that never rounds a miss up to 100 % or a hit down to 0 %."""
    if share is None:
        return "-"
    if share >= 1.0:
        return "100 %"
    if share <= 0.0:
        return "0 %"
    value = 100.0 * share
    return f"{min(max(value, 0.1), 99.9):.1f} %"


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return "0" if x == 0 else f"{x:.4g}"


def _lsb(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.3g}"


def _value(x: float) -> str:
    # fixed-point values are short binary fractions: repr shows them exactly
    return repr(float(x))


# -------------------------------------------------------------------------------- lines
def _rows(data: Data) -> list[tuple[str, str, str, str]]:
    emu, sim = data["emulator"], data["csim"]
    rows = [
        (
            "top-class agreement",
            "(reference)",
            _pct(emu["top_class_agreement"]),
            _pct(sim["top_class_agreement"]),
        ),
        ("max abs error", "(reference)", _num(emu["max_abs_error"]), _num(sim["max_abs_error"])),
        ("mean abs error", "(reference)", _num(emu["mean_abs_error"]), _num(sim["mean_abs_error"])),
    ]
    if data.get("float_accuracy") is not None:
        rows.append(
            ("accuracy", _pct(data["float_accuracy"]), _pct(emu["accuracy"]), _pct(sim["accuracy"]))
        )
    return rows


def _tool_name(data: Data) -> str:
    return {"gxx": "g++", "vivado": "Vivado HLS", "vitis": "Vitis HLS"}.get(
        data.get("hls_tool", "gxx"), str(data.get("hls_tool"))
    )


def _identical_line(data: Data) -> str:
    return (
        f"emulator vs C simulation: {data['identical']} of {data['n_values']} values identical "
        f"({_pct(data['identical'] / data['n_values'] if data['n_values'] else 1.0)})"
    )


def _largest_line(data: Data) -> str:
    t = data.get("output_type") or "the output type"
    if data["max_abs_difference"] == 0:
        return f"largest difference: 0 LSB of {t}"
    return (
        f"largest difference: {_lsb(data['max_lsb_difference'])} LSB of {t} "
        f"({_num(data['max_abs_difference'])})"
    )


def _divergence_line(data: Data) -> str:
    d = data.get("first_divergence")
    layers = data.get("layers") or []
    if d is None:
        if not layers:
            return "first diverging layer: not traced"
        return f"first diverging layer: none (all {len(layers)} traced layers identical)"
    where = f"[{', '.join(map(str, d['index']))}]"
    types = ""
    if d.get("emulator_type") or d.get("csim_type"):
        if d.get("emulator_type") == d.get("csim_type"):
            types = f" of {d['csim_type']}"
        else:
            types = f"; types: emulator {d['emulator_type']}, C simulation {d['csim_type']}"
    return (
        f"first diverging layer: {d['layer']} ({d['kind']}), sample {d['sample']}, "
        f"output {where}: emulator {_value(d['emulator'])}, C simulation {_value(d['csim'])} "
        f"({_lsb(d['lsb_difference'])} LSB{types}); {d['differing']} of {d['total']} values "
        "of that layer differ"
    )


def _overflow_line(data: Data, limit: int = 4) -> str:
    hits = [(k, v) for k, v in (data.get("overflows") or {}).items() if v["count"]]
    if not hits:
        return "emulator overflows: none"
    hits.sort(key=lambda kv: -kv[1]["count"])
    listed = ", ".join(f"{k} {v['count']} of {v['total']}" for k, v in hits[:limit])
    more = f" and {len(hits) - limit} more cast points" if len(hits) > limit else ""
    return f"emulator overflows: {listed}{more}"


def _source_line(data: Data) -> str:
    cached = " (compiled simulation from cache)" if data.get("cached") else ""
    return f"C simulation: {_tool_name(data)}{cached}, {data['n_samples']} samples"


def comparison_table(data: Data) -> str:
    """The compact text summary ``aptune csim`` prints: three-way table, then the verdict."""
    head = ("", "float Keras", "emulator", "C simulation")
    rows = [head, *_rows(data)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines += [
        "",
        _identical_line(data),
        _largest_line(data),
        _divergence_line(data),
        _overflow_line(data),
        _source_line(data),
    ]
    lines += [f"note: {n}" for n in data.get("notes") or []]
    return "\n".join(lines)


def comparison_markdown(data: Data) -> str:
    """``summary.md``: the table, the verdict and the per-layer agreement, as Markdown."""
    verdict = "agree on every value" if data.get("agree") else "DIFFER"
    out = [f"# C simulation: emulator and C simulation {verdict}", ""]
    out += ["| | float Keras | emulator | C simulation |", "|---|---:|---:|---:|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in _rows(data)]
    out += [
        "",
        f"- {_identical_line(data)}",
        f"- {_largest_line(data)}",
        f"- {_divergence_line(data)}",
        f"- {_overflow_line(data, limit=20)}",
        f"- {_source_line(data)}; project `{data.get('project_dir', '')}`",
    ]
    out += [f"- note: {n}" for n in data.get("notes") or []]
    layers = data.get("layers") or []
    if layers:
        out += [
            "",
            "## Per layer",
            "",
            "| layer | kind | type | identical | largest (LSB) |",
            "|---|---|---|---:|---:|",
        ]
        for layer in layers:
            share = layer["identical"] / layer["total"] if layer["total"] else 1.0
            out.append(
                f"| {layer['name']} | {layer['kind']} | `{layer['type']}` | "
                f"{layer['identical']} of {layer['total']} ({_pct(share)}) | "
                f"{_lsb(layer['max_lsb_difference'])} |"
            )
    timings = data.get("timings") or {}
    if timings:
        out += ["", "Seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in timings.items())]
    return "\n".join(out) + "\n"


# -------------------------------------------------------------------------------- figure
def _lsb_panel(ax: Any, data: Data) -> None:
    rows = (data.get("histograms") or {}).get("emulator_vs_csim_lsb") or []
    t = data.get("output_type") or "output type"
    ax.set_title(f"Emulator vs C simulation\n|difference| in LSBs of {t}", fontsize=10)
    if not rows:
        ax.text(0.5, 0.5, "output type unknown", ha="center", va="center", transform=ax.transAxes)
        return
    labels = [r["label"] for r in rows]
    counts = [r["count"] for r in rows]
    colors = [AGREE_COLOR if r["label"] == "0" else DIFFER_COLOR for r in rows]
    bars = ax.bar(range(len(rows)), counts, color=colors, width=0.7)
    ax.set_xticks(range(len(rows)), labels, rotation=45 if len(rows) > 6 else 0)
    # at least four bars' room, centred: a lone bar stays a bar, not a wall
    centre, half = (len(rows) - 1) / 2, max(len(rows), 4) / 2
    ax.set_xlim(centre - half, centre + half)
    ax.set_xlabel("difference (LSB)")
    ax.set_ylabel("output values")
    if max(counts) > 0:
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(0, max(counts) * 3)
    ax.bar_label(bars, [str(c) if c else "" for c in counts], fontsize=8, padding=2)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))


def _float_panel(ax: Any, data: Data) -> None:
    hist = (data.get("histograms") or {}).get("vs_float") or {}
    ax.set_title("Error against float Keras\n|fixed-point output - float output|", fontsize=10)
    edges = np.asarray(hist.get("edges_log2") or [], dtype=float)
    counts = hist.get("counts") or {}
    zeros = hist.get("zeros") or {}
    if edges.size < 2 or not counts:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return
    styles = {
        "emulator": {"color": EMULATOR_COLOR, "label": "emulator", "linewidth": 2.4},
        "csim": {"color": CSIM_COLOR, "label": "C simulation", "linewidth": 1.4, "linestyle": "--"},
    }
    first = _useful_start(edges, counts, data.get("output_type"))
    low = edges[first]
    for name, c in counts.items():
        c = np.asarray(c, dtype=float)
        n = int(c.sum()) + int(zeros.get(name, 0))
        style = dict(styles.get(name, {"label": name}))
        style["label"] += f": {zeros.get(name, 0):,} of {n:,} exactly 0 (identical, not drawn)"
        below = int(c[:first].sum())
        if below:
            style["label"] += f", {below:,} below $2^{{{int(low)}}}$"
        ax.stairs(c, edges, **style)
    ax.set_xlim(low, edges[-1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda k, _p: f"$2^{{{int(k)}}}$"))
    ax.set_xlabel("|error| (log2 bins)")
    ax.set_ylabel("output values")
    # below the axes: the long labels would hide the bars
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    ax.set_ylim(0, None)


def _useful_start(edges: np.ndarray, counts: Mapping[str, Any], output_type: Any) -> int:
    """Index of the first log2 edge worth showing: errors far below the output's LSB (float
    rounding, down to 2^-120) would leave the part that matters a sliver. The start is the
    higher of the 1st percentile of the non-zero errors and the output type's LSB / 2^8."""
    total = np.sum([np.asarray(c, dtype=float) for c in counts.values()], axis=0)
    if not total.sum():
        return 0
    share = np.cumsum(total) / total.sum()
    first = int(np.searchsorted(share, 0.01, side="left"))  # the bin holding the 1st percentile
    try:
        lsb_floor = -FixedType.parse(str(output_type)).fractional - 8
    except ConfigError:  # no or unknown output type: the percentile alone
        lsb_floor = None
    if lsb_floor is not None:
        first = max(first, int(np.searchsorted(edges, lsb_floor, side="right")) - 1)
    return min(max(first, 0), len(edges) - 2)


def _layer_panel(ax: Any, data: Data) -> None:
    layers: Sequence[Data] = data.get("layers") or []
    ax.set_title("Per layer: values identical\n(emulator vs C simulation)", fontsize=10)
    if not layers:
        ax.text(0.5, 0.5, "layers not traced", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    shares = [lay["identical"] / lay["total"] if lay["total"] else 1.0 for lay in layers]
    colors = [AGREE_COLOR if s == 1.0 else DIFFER_COLOR for s in shares]
    y = np.arange(len(layers))
    ax.barh(y, shares, color=colors, height=0.6)
    ax.set_yticks(y, [f"{lay['name']} ({lay['kind']})" for lay in layers], fontsize=8)
    ax.set_ylim(len(layers) - 0.5, -0.5)
    ax.set_xlim(0, 1.18)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    first = data.get("first_divergence")
    first_name = first["layer"] if first is not None else None
    for k, (layer, share) in enumerate(zip(layers, shares, strict=True)):
        if layer["name"] == first_name:
            tick = ax.get_yticklabels()[k]
            tick.set_color(DIFFER_COLOR)
            tick.set_fontweight("bold")
            text = f"{_pct(share)}  \u2190 first divergence"
            # inside a long bar (white), beside a short one (red): never off the axes
            inside = share > 0.6
            ax.text(
                share - 0.01 if inside else share + 0.01,
                k,
                text,
                va="center",
                ha="right" if inside else "left",
                fontsize=8,
                color="white" if inside else DIFFER_COLOR,
                fontweight="bold",
                gid=GID_DIVERGENCE,
            )
        else:
            ax.text(share + 0.01, k, _pct(share), va="center", fontsize=8)


def plot_comparison(data: Data) -> Figure:
    """One figure with the three panels; ``data`` is ``Comparison.to_dict()``."""
    n_layers = len(data.get("layers") or [])
    fig = Figure(figsize=(15.0, max(4.6, 1.8 + 0.32 * n_layers)), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[1.0, 1.15, 1.1])
    agree = data.get("agree")
    if agree:
        verdict = "emulator and C simulation agree on every value"
    else:
        share = data["identical"] / data["n_values"] if data["n_values"] else 1.0
        verdict = (
            f"emulator and C simulation DIFFER: {data['identical']} of {data['n_values']} "
            f"output values identical ({_pct(share)})"
        )
        first = data.get("first_divergence")
        if first is not None:
            verdict += f", first at layer {first['layer']}"
    fig.suptitle(
        f"C-simulation comparison over {data['n_samples']} samples ({_tool_name(data)}): {verdict}",
        fontsize=12,
        fontweight="bold",
        color=AGREE_COLOR if agree else DIFFER_COLOR,
    )
    _lsb_panel(axes[0], data)
    _float_panel(axes[1], data)
    _layer_panel(axes[2], data)
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    return fig
