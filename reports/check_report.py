"""The report of an ``aptune check`` with data: two figures and a page, from the plain result.

Input is ``CheckResult.to_dict()`` (or the ``check.json`` it was saved as), so every figure can
be regenerated without Keras, hls4ml or the emulator:

- `cast_points_profile`: the measured cast points as a `Profile` (kind ``"cast points"``): one
  row per point with its type, its overflow count and the largest |value| before the cast;
- `plot_ranges`: that profile drawn by `reports.plots.peaks`, hls4ml's profiling style: a bar to
  each point's largest |value| over a grey box for the range of its type, overflowing rows red;
- `plot_overflow_shares`: the share of values that overflow at each point (log scale), coloured
  by the severity of the point's finding;
- `check_html`: the page, summary first, then the figures, the findings and the types;
- `write_check_report`: ``check.html``, ``ranges.png``, ``shares.png`` and ``check.json``.

>>> paths = write_check_report(check(model, cfg, X).to_dict(), "check-report")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from emulation.errors import DataError
from emulation.fixed import FixedType, Overflow
from emulation.io.atomic_files import atomic_write_bytes, atomic_write_text
from reports import html
from reports.html import Raw
from reports.plots import OVERFLOW_COLOR, peaks
from reports.profile_data import Profile, Row

__all__ = [
    "FILES",
    "GID_SHARE_BAR",
    "SEVERITY_COLORS",
    "cast_points_profile",
    "check_html",
    "plot_overflow_shares",
    "plot_ranges",
    "write_check_report",
]

#: What `write_check_report` writes, in writing order (the page last: it links the others).
FILES = ("ranges.png", "shares.png", "check.json", "check.html")
GID_SHARE_BAR = "overflow-share"
#: (face, edge) of a share bar by the severity of the point's finding ("" for none).
SEVERITY_COLORS = {
    "error": ("#f2a0a0", OVERFLOW_COLOR),
    "warning": ("#f6d58e", "#b7791f"),
    "": ("#8fb3d9", "#2b5a8a"),
}
_ROW_HEIGHT = 0.6

Data = Mapping[str, Any]


# -------------------------------------------------------------------------------- data
def _points(result: Data) -> list[Data]:
    """The measured cast points; `DataError` when the check ran without data."""
    data = result.get("data") if isinstance(result, Mapping) else None
    points = data.get("points") if isinstance(data, Mapping) else None
    if not points:
        raise DataError(
            "the check result holds no overflow measurements: run the check with data "
            "(aptune check MODEL --data X --report DIR)"
        )
    return list(points)


def _type(point: Data) -> FixedType | None:
    return FixedType.parse(point["type"]) if point.get("type") else None


def _severities(result: Data) -> dict[str, str]:
    """The worst severity of the findings about each cast point (``Finding.point``)."""
    rank = {"note": 0, "warning": 1, "error": 2}
    out: dict[str, str] = {}
    for f in result.get("findings") or []:
        point, severity = f.get("point"), f.get("severity")
        if point and severity in rank and rank[severity] >= rank.get(out.get(point, "note"), 0):
            out[point] = severity
    return out


def cast_points_profile(result: Data) -> Profile:
    """The cast points of a check result as a `Profile` drawn by `reports.plots.peaks`."""
    points = _points(result)
    rows = tuple(
        Row(
            name=str(p["point"]),
            layer=str(p.get("layer", "")),
            size=int(p.get("total", 0)),
            summary=None,  # the check keeps the largest value only
            type=_type(p),
            overflows=int(p.get("count", 0)),
            peak=float(p.get("max_abs", 0.0)),
        )
        for p in points
    )
    samples = (result.get("data") or {}).get("samples")
    return Profile("cast points", "emulator", rows, samples=samples)


# ----------------------------------------------------------------------------- figures
def plot_ranges(result: Data) -> Figure:
    """Largest |value| at each cast point against the range of its type (grey box)."""
    return peaks(cast_points_profile(result))


def _percent(share: float, _pos: Any = None) -> str:
    return f"{100 * share:.10g} %"


def plot_overflow_shares(result: Data) -> Figure:
    """Share of values that overflow at each cast point, log scale, coloured by severity.

    Rows are the points top to bottom in the order of `plot_ranges`; a point that never
    overflowed says "none". The count, the total and what the type does on overflow (wraps or
    saturates) are written beside each bar.
    """
    points = _points(result)
    severity = _severities(result)
    shares = np.array([float(p.get("share", 0.0)) for p in points])
    n = len(points)
    fig = Figure(figsize=(9.0, 2.0 + 0.36 * n), layout="constrained")
    ax = fig.add_subplot()
    samples = (result.get("data") or {}).get("samples")
    fig.suptitle(
        f"Share of values that overflow, per cast point ({samples} samples)",
        fontsize=13,
        fontweight="bold",
        x=0.02,
        ha="left",
    )
    ax.set_xscale("log")
    positive = shares[shares > 0]
    # a decade below the smallest share, so even that bar has a visible length
    lo = 10.0 ** min(-3, math.floor(math.log10(positive.min())) - 1) if positive.size else 1e-3
    ax.set_xlim(lo, 1.0)
    ax.set_ylim(n - 0.5, -0.5)  # first row on top
    ax.set_yticks(range(n), [str(p["point"]) for p in points])
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_xlabel("share of the values cast at the point that overflowed (log scale)")
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for i, (p, share, label) in enumerate(zip(points, shares, ax.get_yticklabels(), strict=True)):
        sev = severity.get(str(p["point"]), "")
        face, edge = SEVERITY_COLORS.get(sev, SEVERITY_COLORS[""])
        if sev in ("error", "warning"):
            label.set_color(edge)
            label.set_fontweight("bold")
        if share <= 0:
            ax.text(lo, i, "  none", va="center", fontsize=8, style="italic", color="#666666")
            continue
        ax.barh(
            i,
            share - lo,
            left=lo,
            height=_ROW_HEIGHT,
            color=face,
            edgecolor=edge,
            linewidth=0.8,
            zorder=2,
            gid=GID_SHARE_BAR,
        )
        t = _type(p)
        mode = "" if t is None else ("; wraps" if t.overflow is Overflow.WRAP else "; saturates")
        ax.text(
            1.01,
            i,
            f"{int(p['count']):,} of {int(p['total']):,}{mode}",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=8.5,
            color=edge,
            clip_on=False,
        )
    if not positive.size:
        ax.set_title(
            f"no value overflowed at any of the {n} cast points", fontsize=9, color="#444444"
        )
    used = {severity.get(str(p["point"]), "") for p, s in zip(points, shares, strict=True) if s}
    handles = [
        Patch(facecolor=SEVERITY_COLORS[s][0], edgecolor=SEVERITY_COLORS[s][1])
        for s in ("error", "warning", "")
        if s in used
    ]
    names = {"error": "error finding", "warning": "warning finding", "": "no finding"}
    if handles:
        fig.legend(
            handles,
            [names[s] for s in ("error", "warning", "") if s in used],
            loc="outside lower center",
            ncols=3,
            fontsize=8.5,
            frameon=False,
        )
    return fig


# -------------------------------------------------------------------------------- page
def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


def _summary(result: Data, name: str | None) -> Raw:
    counts = result.get("counts") or {}
    data = result.get("data") or {}
    points = _points(result)
    errors, warnings = int(counts.get("error", 0)), int(counts.get("warning", 0))
    if errors:
        badge = f"<span class='badge bad'>{errors} error(s)</span>"
    elif warnings:
        badge = f"<span class='badge warn'>{warnings} warning(s)</span>"
    else:
        badge = "<span class='badge good'>no errors or warnings</span>"
    over = [p for p in points if p.get("count")]
    samples = data.get("samples")
    on = f"on {samples} samples" if samples is not None else "on the data"
    if over:
        worst = max(over, key=lambda p: float(p.get("share", 0.0)))
        headline = (
            f"{len(over)} of {len(points)} cast points overflow {on}; the first in layer "
            f"{data.get('first_overflow')}, the worst at {worst['point']} "
            f"({_pct(float(worst['share']))} of its values)."
        )
    else:
        headline = f"No value overflowed at any of the {len(points)} cast points {on}."
    facts = [
        ("errors", str(errors)),
        ("warnings", str(warnings)),
        ("notes", str(int(counts.get("note", 0)))),
        ("samples", "-" if samples is None else str(samples)),
        ("overflowing points", f"{len(over)} of {len(points)}"),
    ]
    if data.get("agreement") is not None:
        facts.append(("top-class agreement", _pct(float(data["agreement"]))))
    fact_html = "".join(
        f"<div class='fact'><div class='label'>{html.escape(k)}</div>"
        f"<div class='value'>{html.escape(v)}</div></div>"
        for k, v in facts
    )
    title = f"aptune check: {name}" if name else "aptune check"
    return Raw(
        f"<header class='summary' id='summary'><h1>{html.escape(title)}</h1>"
        f"<p>{badge}</p><p class='headline'>{html.escape(headline)}</p>"
        f"<div class='facts'>{fact_html}</div></header>"
    )


def _findings_section(result: Data) -> Raw:
    findings = list(result.get("findings") or [])
    if not findings:
        return html.section("findings", "Findings", "Nothing to report.")
    rows = [
        [
            f["severity"],
            f.get("layer") or "",
            f["message"],
            Raw(f"<code>{html.escape(f['fix'])}</code>") if f.get("fix") else "",
        ]
        for f in findings
    ]
    classes = ["bad" if f["severity"] == "error" else "" for f in findings]
    table = html.table(["severity", "layer", "finding", "fix"], rows, row_classes=classes)
    return html.section("findings", "Findings", Raw(f"<div class='scroll'>{table}</div>"))


def _types_section(result: Data) -> Raw:
    rows = []
    for row in result.get("layers") or []:
        # one type a line, each breakable between its fields: the table stays in the page
        items = (row.get("types") or {}).items()
        types = Raw("<br>".join(html.breakable(f"{k}={v['type']}") for k, v in items))
        rows.append([row["name"], row["kind"], row.get("input_type") or "", types])
    table = html.table(["layer", "kind", "input", "types hls4ml will use"], rows, css_class="types")
    return html.section("types", "Types per layer", Raw(f"<div class='scroll'>{table}</div>"))


def check_html(result: Data, widths: Mapping[str, float], name: str | None = None) -> str:
    """The page: summary, the figures (files named in ``widths``, their width in CSS px),
    the findings and the types per layer."""
    figures = [
        html.figure_link(
            "ranges.png",
            "largest value at each cast point against the range of its type",
            widths["ranges.png"],
            "Bars: the largest |value| before the cast; grey: the range of the point's type "
            "(LSB to its largest value). A bar past its grey box overflowed (red); one that "
            "ends left of it is below the LSB.",
        ),
        html.figure_link(
            "shares.png",
            "share of values that overflow at each cast point",
            widths["shares.png"],
            "Share of the values cast at each point that did not fit its type, log scale; "
            "colour: the severity of the point's finding.",
        ),
    ]
    body = [
        _summary(result, name),
        html.section("overflows", "Overflows", *figures),
        _findings_section(result),
        _types_section(result),
    ]
    nav = [("summary", "Summary"), ("overflows", "Overflows"), ("findings", "Findings")]
    title = f"aptune check: {name}" if name else "aptune check"
    return html.page(title, body, nav=[*nav, ("types", "Types")])


def _plain(value: Any) -> Any:
    """JSON for NumPy scalars (the result is plain data, but counts may be NumPy integers)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_check_report(
    result: Data, folder: str | os.PathLike[str], name: str | None = None
) -> dict[str, Path]:
    """Write `FILES` into ``folder`` (created when missing); return their paths.

    Everything is rendered before the first write, and each file is replaced whole
    (`emulation.io.atomic_files`), so a failure leaves the files that were there untouched.

    Raises
    ------
    DataError : the result holds no data measurements, or ``folder`` cannot be written.
    """
    _points(result)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file: give a folder for the check report")
    figures: dict[str, Figure] = {
        "ranges.png": plot_ranges(result),
        "shares.png": plot_overflow_shares(result),
    }
    content: dict[str, bytes | str] = {k: html.figure_png(f) for k, f in figures.items()}
    content["check.json"] = json.dumps(result, indent=1, default=_plain) + "\n"
    widths = {k: f.get_figwidth() * 96 for k, f in figures.items()}
    content["check.html"] = check_html(result, widths, name)
    written = {}
    try:
        for file in FILES:
            data = content[file]
            path = folder / file
            written[file] = (
                atomic_write_text(path, data)
                if isinstance(data, str)
                else atomic_write_bytes(path, data)
            )
    except OSError as exc:
        raise DataError(f"cannot write the check report into {folder}: {exc}") from None
    return written
