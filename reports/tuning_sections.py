"""The sections of the tuning report page, each an HTML fragment drawn from ``tuning.json``.

One function per section (None when the record holds nothing for it); :mod:`reports.tuning`
puts them in order on the page.
"""

from __future__ import annotations

from typing import Any

from emulation.metrics import Target
from emulation.tuning_record import TuningRecord
from reports import html
from reports.html import Raw
from reports.tuning_overflows import with_recorded_overflows
from reports.tuning_plots import (
    layer_order,
    plot_precision,
    plot_tradeoff,
)
from reports.tuning_verdict import (
    comparison_rows,
    count_text,
    is_missing,
    metric_text,
    model_name,
    objective_name,
    status_of,
    validation_count,
    verdict_headline,
)

__all__ = [
    "csim_section",
    "header_section",
    "precision_section",
    "profiles_section",
    "tradeoff_section",
    "types_section",
]


# ----------------------------------------------------------------------------- sections
def header_section(tuning: TuningRecord, target: Target) -> Raw:
    cls, status = status_of(tuning)
    result = tuning.final
    model = model_name(tuning)
    title = f"Tuning report: {model}" if model else "Tuning report"
    split = tuning.split
    facts = [
        ("target", tuning.target),
        ("objective", f"minimise {objective_name(tuning)}"),
    ]
    if result.met:
        facts += [
            (f"{target.metric}, validation", metric_text(result.metric_validation, target)),
            (f"{target.metric}, calibration", metric_text(result.metric_calibration, target)),
            (objective_name(tuning), count_text(result.objective)),
        ]
    else:
        facts.append((f"best {target.metric} seen", metric_text(result.best_metric, target)))
    accuracy = tuning.float_reference.accuracy
    if not is_missing(accuracy):
        facts.append(("float accuracy", html.percent(accuracy)))
    facts.append(("candidates", f"{len(tuning.candidates)}"))
    fact_html = "".join(
        f"<div class='fact'><div class='label'>{html.escape(k)}</div>"
        f"<div class='value'>{html.escape(v)}</div></div>"
        for k, v in facts
    )
    rows, classes = comparison_rows(tuning, target)
    header = [
        "config",
        f"{target.metric} (calibration)",
        f"{target.metric} (validation)",
        "meets target (validation)",
        "BOPs",
        "EBOPs",
        "DSP",
        "LUT",
        f"aptune / this ({objective_name(tuning)})",
    ]
    table = html.table(header, rows, numeric=(1, 2, 4, 5, 6, 7), row_classes=classes)
    notes = []
    if tuning.interrupted:
        notes.append(
            "<p><span class='badge warn'>interrupted</span> The search was stopped early: the "
            "result is the best found so far and some baselines may be missing.</p>"
        )
    seconds = tuning.seconds
    timing = (
        f" in {seconds:.1f} s ({tuning.evaluations_per_second:.1f} per second)"
        if isinstance(seconds, int | float)
        else ""
    )
    split_text = (
        f"Searched on {_or_unknown(split.calibration)} calibration samples, checked on "
        f"{validation_count(tuning)} held-out validation samples (split seed "
        f"{_or_unknown(split.seed)}); {len(tuning.candidates)} candidates evaluated{timing}. "
        "Cost is per inference (BOPs, EBOPs) or an estimate for sizing (DSP, LUT), not a "
        "synthesis result."
    )
    return Raw(
        f"<header class='summary' id='summary'><h1>{html.escape(title)}</h1>"
        f"<p><span class='badge {cls}'>{html.escape(status)}</span></p>"
        f"<p class='headline'>{html.escape(verdict_headline(tuning, target))}</p>"
        + "".join(notes)
        + f"<div class='facts'>{fact_html}</div>"
        f"<h3>Against the baselines</h3><div class='scroll'>{table}</div>"
        f"<p class='muted'>{html.escape(split_text)}</p></header>"
    )


def _or_unknown(x: int | None) -> int | str:
    return "?" if x is None else x


def precision_section(tuning: TuningRecord) -> Raw:
    if not tuning.final.shown_types:
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


def _cost_table(tuning: TuningRecord) -> Raw | None:
    layers = tuning.final.cost.layers if tuning.final.cost else ()
    if not layers:
        return None
    rows = [
        [
            lay.layer,
            count_text(lay.multiplications),
            count_text(lay.bops),
            count_text(lay.ebops),
            count_text(lay.dsp),
            count_text(lay.lut),
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


def tradeoff_section(tuning: TuningRecord) -> Raw:
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


def profiles_section(tuning: TuningRecord) -> Raw | None:
    profiles = tuning.profiles
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


def csim_section(tuning: TuningRecord, target: Target) -> Raw | None:
    if tuning.csim is None:
        return None
    from reports.comparison import plot_comparison

    # the comparison's own record, as `aptune csim` writes it and reports.comparison reads it
    data = tuning.csim.comparison
    agree = tuning.csim.agree
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
    n, same = tuning.csim.n_values, tuning.csim.identical
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
    return "-" if is_missing(x) else html.percent(float(x))


def _num_or_dash(x: Any) -> str:
    return "-" if is_missing(x) else ("0" if x == 0 else f"{x:.4g}")


_TYPE_COLUMNS = ("weight_t", "bias_t", "accum_t", "result_t")


def types_section(tuning: TuningRecord) -> Raw:
    types = tuning.final.shown_types
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
        if tuning.final.met
        else "The best candidate's types (it does NOT meet the target)"
    )
    return html.section(
        "types",
        "Types per layer",
        f"{what}, as written into the hls4ml config (empty: the layer has no such type or "
        "keeps the default).",
        Raw(f"<div class='scroll'>{html.table(header, rows, css_class='types')}</div>"),
    )
