"""The tuning report: one self-contained HTML page and a Markdown summary from ``tuning.json``.

>>> paths = write_report(json.load(open("tuning.json")), "report")     # doctest: +SKIP
>>> sorted(paths)                                                       # doctest: +SKIP
['report.html', 'summary.md']

Everything is drawn from the saved record alone (`tuner.tune.TuneResult.to_dict()`, optionally
with ``profiles`` and ``csim``), so a report is regenerated without rerunning the search, and
the same record gives the same bytes. The page holds, in order: the verdict with the cost
against the three baselines; the recommended bits per layer; metric against cost for every
candidate; weight and activation profiles under hls4ml's default and the recommended config
(when recorded); the overflows on validation data; the C-simulation comparison (when
recorded); and the types per layer. Figures are in :mod:`reports.tuning_plots`, HTML pieces
in :mod:`reports.html`; the overflows every part shows come from one source,
:mod:`reports.tuning_overflows`, so the profiles, the Overflows section and ``summary.md`` agree.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from html import unescape
from pathlib import Path
from typing import Any

from emulation.errors import ConfigError, DataError
from emulation.files import atomic_write_text
from emulation.metrics import Target
from reports import html
from reports.html import Raw
from reports.tuning_overflows import overflow_rows, overflow_section, with_recorded_overflows
from reports.tuning_plots import (
    BASELINES,
    layer_order,
    plot_precision,
    plot_tradeoff,
)

__all__ = [
    "REQUIRED_KEYS",
    "check_tuning",
    "report_files",
    "summary_markdown",
    "tuning_html",
    "write_report",
]

#: Keys every tuning record has; anything without them is refused by `check_tuning`.
REQUIRED_KEYS = ("target", "objective", "result", "baselines", "candidates")
_CANDIDATE_KEYS = ("phase", "metric", "cost", "met")

Data = Mapping[str, Any]


# ------------------------------------------------------------------------------- checking
def check_tuning(data: Any, source: str = "the data") -> Data:
    """Return ``data`` if it is a tuning record, else raise `DataError` naming what is wrong."""
    hint = "give the tuning.json that 'aptune tune' writes"
    if not isinstance(data, Mapping):
        raise DataError(f"{source} is not a tuning record (a JSON object is expected); {hint}")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise DataError(
            f"{source} is not a tuning record: missing {', '.join(map(repr, missing))}; {hint}"
        )
    try:
        Target.parse(data["target"])
    except ConfigError as exc:
        raise DataError(f"{source}: 'target': {exc}; {hint}") from exc
    result = data["result"]
    if not isinstance(result, Mapping) or "met" not in result:
        raise DataError(f"{source}: 'result' must be an object with 'met'; {hint}")
    if not isinstance(data["baselines"], Mapping):
        raise DataError(f"{source}: 'baselines' must be an object; {hint}")
    if not isinstance(data["candidates"], list):
        raise DataError(f"{source}: 'candidates' must be a list; {hint}")
    for i, c in enumerate(data["candidates"]):
        lacking = [k for k in _CANDIDATE_KEYS if not isinstance(c, Mapping) or k not in c]
        if lacking:
            raise DataError(
                f"{source}: candidate {i} lacks {', '.join(map(repr, lacking))}; {hint}"
            )
    return data


# -------------------------------------------------------------------------------- numbers
def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _metric(value: Any, target: Target) -> str:
    if _missing(value):
        return "-"
    return f"{100 * value:.2f}\u00a0%" if target.is_share else f"{value:.4g}"


def _count(x: Any) -> str:
    if _missing(x):
        return "-"
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}"


def _ratio(ours: float, theirs: float) -> str:
    """``"0.11x (9.3x cheaper)"`` for aptune's cost over a baseline's."""
    if _missing(ours) or _missing(theirs) or theirs <= 0:
        return "-"
    r = ours / theirs
    if r == 0:
        return "0x"
    if r < 1:
        return f"{r:.2f}x ({1 / r:.1f}x cheaper)"
    if r == 1:
        return "1x (same)"
    return f"{r:.2f}x ({r:.1f}x dearer)"


def _model_name(tuning: Data) -> str | None:
    model = tuning.get("model")
    if isinstance(model, Mapping):
        model = model.get("name") or model.get("path")
    return None if model in (None, "") else Path(str(model)).name or str(model)


# ---------------------------------------------------------------------------------- verdict
def _status(tuning: Data) -> tuple[str, str]:
    """(css class, text) of the verdict badge."""
    result = tuning["result"]
    if not result.get("met"):
        return "bad", "target not met"
    if result.get("met_validation") is False:
        return "warn", "met on calibration data, missed on validation data"
    return "good", "target met"


def _objective_name(tuning: Data) -> str:
    names = {"luteq": "LUT-equivalents", "bops": "BOPs", "ebops": "EBOPs", "dsp": "DSP"}
    return (names | {"lut": "LUT"}).get(str(tuning["objective"]), str(tuning["objective"]))


def _headline(tuning: Data, target: Target) -> str:
    result = tuning["result"]
    n_val = (tuning.get("split") or {}).get("validation", "?")
    if not result.get("met"):
        reason = result.get("reason") or (
            f"the best {target.metric} seen was {_metric(result.get('best_metric'), target)}"
        )
        return f"No config met {tuning['target']}: {reason}."
    cost = f"{_count(result['objective'])} {_objective_name(tuning)}"
    text = (
        f"{target.title} {_metric(result.get('metric_validation'), target)} on "
        f"{n_val} held-out samples at {cost}"
    )
    parts = []
    for key, name in BASELINES.items():
        entry = tuning["baselines"].get(key)
        if entry and entry.get("objective"):
            r = result["objective"] / entry["objective"]
            how = f"{1 / r:.1f}x cheaper than" if r < 1 else f"{r:.1f}x the cost of"
            parts.append(f"{how} {name}")
    text += (": " + ", ".join(parts) if parts else "") + "."
    # met with a caveat (e.g. missed on validation data): the tuner's own words say which
    return text + (f" {str(result['reason']).rstrip('.')}." if result.get("reason") else "")


def _detail(label: str, name: str) -> str:
    """What a baseline's recorded name adds to its label (``"6 fractional bits"``)."""
    text = name.strip()
    for prefix in (label, label.split()[-1]):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix) :]
            break
    text = text.strip(" ,:")
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return "" if text.lower() in ("", "aptune") else text


def _comparison_rows(
    tuning: Data, target: Target, *, markdown: bool = False
) -> tuple[list[list[Any]], list[str]]:
    """Rows of aptune and the baselines: name, metrics, met, costs, ratio; and row classes."""
    result = tuning["result"]
    ours = result.get("objective") if result.get("met") else None
    rows, classes = [], []
    entries: list[tuple[str, str, Data | None]] = []
    if result.get("met"):
        entries.append(("aptune (recommended)", "ours", result))
    for key, name in BASELINES.items():
        if key in tuning["baselines"]:
            entries.append((name, "", tuning["baselines"][key]))
    for label, cls, entry in entries:
        if entry is None:
            rows.append([label, "no config met the target", "", "", "", "", "", "", ""])
            classes.append("muted")
            continue
        cost = entry.get("cost") or {}
        met = bool(entry.get("met_validation"))
        detail = _detail(label, str(entry.get("name", "")))
        if markdown:
            name: Any = f"{label} ({detail})" if detail else label
            met_cell: Any = "yes" if met else "no"
        else:
            name = Raw(
                html.escape(label)
                + (f"<br><span class='muted'>{html.escape(detail)}</span>" if detail else "")
            )
            met_cell = Raw(
                f"<span class='{'good' if met else 'bad'}'>{'yes' if met else 'no'}</span>"
            )
        rows.append(
            [
                name,
                _metric(entry.get("metric_calibration"), target),
                _metric(entry.get("metric_validation"), target),
                met_cell,
                _count(cost.get("bops")),
                _count(cost.get("ebops")),
                _count(cost.get("dsp")),
                _count(cost.get("lut")),
                "-" if cls == "ours" or ours is None else _ratio(ours, entry.get("objective")),
            ]
        )
        classes.append(cls)
    return rows, classes


# ----------------------------------------------------------------------------- sections
def _header(tuning: Data, target: Target) -> Raw:
    cls, status = _status(tuning)
    result = tuning["result"]
    model = _model_name(tuning)
    title = f"Tuning report: {model}" if model else "Tuning report"
    split = tuning.get("split") or {}
    facts = [
        ("target", tuning["target"]),
        ("objective", f"minimise {_objective_name(tuning)}"),
    ]
    if result.get("met"):
        facts += [
            (f"{target.metric}, validation", _metric(result.get("metric_validation"), target)),
            (f"{target.metric}, calibration", _metric(result.get("metric_calibration"), target)),
            (_objective_name(tuning), _count(result.get("objective"))),
        ]
    else:
        facts.append((f"best {target.metric} seen", _metric(result.get("best_metric"), target)))
    accuracy = (tuning.get("float_reference") or {}).get("accuracy")
    if not _missing(accuracy):
        facts.append(("float accuracy", html.percent(accuracy)))
    facts.append(("candidates", f"{len(tuning['candidates'])}"))
    fact_html = "".join(
        f"<div class='fact'><div class='label'>{html.escape(k)}</div>"
        f"<div class='value'>{html.escape(v)}</div></div>"
        for k, v in facts
    )
    rows, classes = _comparison_rows(tuning, target)
    header = [
        "config",
        f"{target.metric} (calibration)",
        f"{target.metric} (validation)",
        "meets target (validation)",
        "BOPs",
        "EBOPs",
        "DSP",
        "LUT",
        f"aptune / this ({_objective_name(tuning)})",
    ]
    table = html.table(header, rows, numeric=(1, 2, 4, 5, 6, 7), row_classes=classes)
    notes = []
    if tuning.get("interrupted"):
        notes.append(
            "<p><span class='badge warn'>interrupted</span> The search was stopped early: the "
            "result is the best found so far and some baselines may be missing.</p>"
        )
    seconds = tuning.get("seconds")
    timing = (
        f" in {seconds:.1f} s ({tuning.get('evaluations_per_second', 0):.1f} per second)"
        if isinstance(seconds, int | float)
        else ""
    )
    split_text = (
        f"Searched on {split.get('calibration', '?')} calibration samples, checked on "
        f"{split.get('validation', '?')} held-out validation samples (split seed "
        f"{split.get('seed', '?')}); {len(tuning['candidates'])} candidates evaluated{timing}. "
        "Cost is per inference (BOPs, EBOPs) or an estimate for sizing (DSP, LUT), not a "
        "synthesis result."
    )
    return Raw(
        f"<header class='summary' id='summary'><h1>{html.escape(title)}</h1>"
        f"<p><span class='badge {cls}'>{html.escape(status)}</span></p>"
        f"<p class='headline'>{html.escape(_headline(tuning, target))}</p>"
        + "".join(notes)
        + f"<div class='facts'>{fact_html}</div>"
        f"<h3>Against the baselines</h3><div class='scroll'>{table}</div>"
        f"<p class='muted'>{html.escape(split_text)}</p></header>"
    )


def _types(tuning: Data) -> dict[str, str]:
    result = tuning["result"]
    return dict(result.get("types") or result.get("best_types") or {})


def _precision_section(tuning: Data) -> Raw:
    if not _types(tuning):
        return html.section("precision", "Precision per layer", "No types were recorded.")
    return html.section(
        "precision",
        "Precision per layer",
        html.figure(
            plot_precision(tuning),
            "bar chart of the integer and fractional bits of every weight, accumulator and "
            "result type",
            "Each bar is one type: its integer bits (the top one is the sign, for signed types) "
            "left of the binary point, its fractional bits right of it. Biases and lookup "
            "tables are listed in the types table below.",
        ),
    )


def _cost_table(tuning: Data) -> Raw | None:
    layers = ((tuning["result"].get("cost") or {}).get("layers")) or []
    if not layers:
        return None
    rows = [
        [
            lay["layer"],
            _count(lay["multiplications"]),
            _count(lay["bops"]),
            _count(lay["ebops"]),
            _count(lay["dsp"]),
            _count(lay["lut"]),
        ]
        for lay in layers
    ]
    return Raw(
        "<h3>Cost of the recommended config per layer</h3>"
        + html.table(
            ["layer", "multiplications", "BOPs", "EBOPs", "DSP", "LUT"],
            rows,
            numeric=range(1, 6),
        )
    )


def _tradeoff_section(tuning: Data) -> Raw:
    return html.section(
        "tradeoff",
        "Metric against cost",
        html.figure(
            plot_tradeoff(tuning),
            "scatter of every evaluated candidate's metric against its cost, with the target, "
            "the baselines and the result",
            "Every candidate the search evaluated, measured on the calibration data it searched "
            "on (the validation figures are in the summary). Filled points meet the target, "
            "hollow ones miss it, crosses met the metric but were refused (the legend gives the "
            "most common reason); further left is cheaper.",
        ),
        _cost_table(tuning),
    )


def _profiles_section(tuning: Data) -> Raw | None:
    profiles = tuning.get("profiles")
    if not profiles:
        return None
    from reports.profile_data import Profile
    from reports.profiling import plot_profile

    titles = {"default": "hls4ml default config", "recommended": "recommended config"}
    parts: list[Any] = [
        "Distribution of every weight and layer output on a log2 axis; grey boxes are the "
        "configured types (LSB to largest value), red marks values that overflow them (for "
        "the recommended config, the points of the Overflows section, counted on the "
        "validation data). Before and after share one horizontal range per kind."
    ]
    for kind in ("weights", "activations"):
        drawn = []
        for which, title in titles.items():
            data = (profiles.get(which) or {}).get(kind)
            if data:
                profile = with_recorded_overflows(
                    Profile.from_dict(data), tuning, which == "recommended"
                )
                drawn.append((title, plot_profile(profile, "boxplot")))
        _share_x([fig for _, fig in drawn])
        for title, fig in drawn:
            parts.append(Raw(f"<h3>{html.escape(kind.capitalize())}: {html.escape(title)}</h3>"))
            parts.append(html.figure(fig, f"{kind} profile under the {title}"))
    return html.section("profiles", "Profiles before and after", *parts)


def _share_x(figures: list[Any]) -> None:
    """Give the profile figures one x range (the union of theirs), so they compare directly."""
    axes = [fig.axes[0] for fig in figures if fig.axes]
    if len(axes) < 2:
        return
    lo = min(ax.get_xlim()[0] for ax in axes)
    hi = max(ax.get_xlim()[1] for ax in axes)
    for ax in axes:
        ax.set_xlim(lo, hi)


def _csim_section(tuning: Data, target: Target) -> Raw | None:
    data = tuning.get("csim")
    if not data:
        return None
    from reports.comparison import plot_comparison

    agree = data.get("agree")
    badge = (
        "<span class='badge good'>emulator and C simulation agree on every value</span>"
        if agree
        else "<span class='badge bad'>emulator and C simulation differ</span>"
    )
    rows = []
    emu, sim = data.get("emulator") or {}, data.get("csim") or {}
    for label, key, fmt in (
        ("top-class agreement with float Keras", "top_class_agreement", _pct_or_dash),
        ("largest |error| against float Keras", "max_abs_error", _num_or_dash),
        ("mean |error| against float Keras", "mean_abs_error", _num_or_dash),
        ("accuracy", "accuracy", _pct_or_dash),
    ):
        ref = "(reference)" if key != "accuracy" else _pct_or_dash(data.get("float_accuracy"))
        rows.append([label, ref, fmt(emu.get(key)), fmt(sim.get(key))])
    table = html.table(["", "float Keras", "emulator", "C simulation"], rows, numeric=(1, 2, 3))
    n, same = data.get("n_values", 0), data.get("identical", 0)
    lines = [
        f"{same:,} of {n:,} output values bit-identical over {data.get('n_samples', '?')} samples"
        + (
            f"; largest difference {data['max_lsb_difference']:g} LSB of {data['output_type']}"
            if data.get("max_lsb_difference") and data.get("output_type")
            else ""
        )
        + "."
    ]
    first = data.get("first_divergence")
    if first:
        lines.append(
            f"First diverging layer: {first['layer']} ({first['kind']}), sample "
            f"{first['sample']}: emulator {first['emulator']!r}, C simulation {first['csim']!r}."
        )
    parts: list[Any] = [Raw(f"<p>{badge}</p>"), *lines, table]
    parts.append(html.figure(plot_comparison(data), "C-simulation comparison: three panels"))
    return html.section("csim", "C simulation", *parts)


def _pct_or_dash(x: Any) -> str:
    return "-" if _missing(x) else html.percent(float(x))


def _num_or_dash(x: Any) -> str:
    return "-" if _missing(x) else ("0" if x == 0 else f"{x:.4g}")


_TYPE_COLUMNS = ("weight_t", "bias_t", "accum_t", "result_t")


def _types_section(tuning: Data) -> Raw:
    types = _types(tuning)
    if not types:
        return html.section("types", "Types per layer", "No types were recorded.")
    per_layer: dict[str, dict[str, str]] = {}
    for point, text in types.items():
        layer, _, name = point.rpartition(".")
        per_layer.setdefault(layer, {})[name] = text
    others = sorted({n for d in per_layer.values() for n in d} - set(_TYPE_COLUMNS))
    columns = [c for c in _TYPE_COLUMNS if any(c in d for d in per_layer.values())] + others
    order = [x for x in layer_order(tuning) if x in per_layer]
    order += sorted(set(per_layer) - set(order))
    rows = [
        [layer] + [html.breakable(per_layer[layer].get(c, "")) for c in columns] for layer in order
    ]
    header = ["layer"] + [c.removesuffix("_t") if c in _TYPE_COLUMNS else c for c in columns]
    what = (
        "The recommended config's types"
        if tuning["result"].get("met")
        else "The best candidate's types (it does NOT meet the target)"
    )
    return html.section(
        "types",
        "Types per layer",
        f"{what}, as written into the hls4ml config (empty: the layer has no such type or "
        "keeps the default).",
        Raw(f"<div class='scroll'>{html.table(header, rows, css_class='types')}</div>"),
    )


# ---------------------------------------------------------------------------------- output
def tuning_html(tuning: Data) -> str:
    """The whole report page for the tuning record ``tuning`` (checked first)."""
    tuning = check_tuning(tuning)
    target = Target.parse(tuning["target"])
    sections: list[tuple[str, str, Raw | None]] = [
        ("summary", "Summary", _header(tuning, target)),
        ("precision", "Precision", _precision_section(tuning)),
        ("tradeoff", "Metric vs cost", _tradeoff_section(tuning)),
        ("profiles", "Profiles", _profiles_section(tuning)),
        ("overflows", "Overflows", overflow_section(tuning)),
        ("csim", "C simulation", _csim_section(tuning, target)),
        ("types", "Types", _types_section(tuning)),
    ]
    present = [(i, t, body) for i, t, body in sections if body is not None]
    model = _model_name(tuning)
    title = f"aptune tuning report: {model}" if model else "aptune tuning report"
    return html.page(title, [b for _, _, b in present], nav=[(i, t) for i, t, _ in present])


def summary_markdown(tuning: Data, report_name: str = "report.html") -> str:
    """``summary.md``: the verdict, aptune against the baselines, overflows, C simulation."""
    tuning = check_tuning(tuning)
    target = Target.parse(tuning["target"])
    result = tuning["result"]
    model = _model_name(tuning)
    _, status = _status(tuning)
    out = [f"# aptune tuning: {model}" if model else "# aptune tuning", ""]
    out += [f"**{status.capitalize()}** ({tuning['target']}). {_headline(tuning, target)}", ""]
    if tuning.get("run"):
        out += [f"Run `{tuning['run']}` (named in the first line of its config too).", ""]
    if tuning.get("interrupted"):
        out += ["**Interrupted**: the result is the best found before the search was stopped.", ""]
    rows, _ = _comparison_rows(tuning, target, markdown=True)
    out += [
        f"| config | {target.metric} (calibration) | {target.metric} (validation) | meets "
        f"target | BOPs | EBOPs | DSP | LUT | aptune / this ({_objective_name(tuning)}) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        out.append("| " + " | ".join(_plain(c) for c in row) + " |")
    out.append("")
    if result.get("met"):
        over = overflow_rows(tuning)
        if over:
            listed = ", ".join(f"{r[0]} {r[3]} ({_plain(r[2])})" for r in over)
            out.append(f"- Overflows on validation data: {listed}.")
        else:
            out.append("- Overflows on validation data: none.")
    csim = tuning.get("csim")
    if csim:
        same, n = csim.get("identical", 0), csim.get("n_values", 0)
        verdict = "agree on every value" if csim.get("agree") else "DIFFER"
        out.append(
            f"- C simulation: emulator and C simulation {verdict} ({same:,} of {n:,} output "
            "values bit-identical)."
        )
    seconds = tuning.get("seconds")
    out.append(
        f"- {len(tuning['candidates'])} candidates evaluated"
        + (f" in {seconds:.1f} s." if isinstance(seconds, int | float) else ".")
    )
    out += [f"- Full report: {report_name}", ""]
    return "\n".join(out).replace("\u00a0", " ")


def _plain(cell: Any) -> str:
    """A table cell as Markdown text (tags of `Raw` HTML dropped, pipes escaped)."""
    text = str(cell)
    if isinstance(cell, Raw):
        text = unescape(re.sub(r"<[^>]+>", "", text.replace("<br>", " - ")))
    return text.replace("|", "\\|")


def write_report(tuning: Data, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``report.html`` and ``summary.md`` into ``folder`` (atomically); return the paths.

    Parameters
    ----------
    tuning : the tuning record (``TuneResult.to_dict()`` or the parsed ``tuning.json``).
    folder : created when missing; existing report files are replaced whole.
    """
    folder = Path(folder)
    return {
        name: atomic_write_text(folder / name, text) for name, text in report_files(tuning).items()
    }


def report_files(tuning: Data) -> dict[str, str]:
    """The report's files by name (``report.html``, ``summary.md``) and their text, for a
    caller that writes them together with other outputs."""
    tuning = check_tuning(tuning)
    return {"report.html": tuning_html(tuning), "summary.md": summary_markdown(tuning)}
