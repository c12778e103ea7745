"""The short human summary of a tuning run, printed by ``aptune tune``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

__all__ = ["summary_lines"]


def _copies(split: dict) -> str:
    """The phrase for the jittered copies of a small calibration set ("" when none)."""
    extra = split.get("search_samples", split["calibration"]) - split["calibration"]
    return f" and {extra} noisy copies of them" if extra > 0 else ""


def _row(name: str, entry: Mapping[str, Any] | None, objective: str, ref: float | None) -> str:
    if entry is None:
        return f"  {name:<34} {'does not meet the target':>12}"
    cost = entry["cost"]
    ratio = f"{entry['objective'] / ref:6.0%}" if ref else "     -"
    met = "yes" if entry["met_validation"] else "NO"
    luteq = cost.get("luteq", cost["lut"] + 55 * cost["dsp"])
    return (
        f"  {name:<34} {entry['metric_validation']:>8.4f} {met:>5} {luteq:>10,.0f} "
        f"{cost['bops']:>12,.0f} {cost['dsp']:>7,.0f} {cost['lut']:>9,.0f} {ratio}"
    )


def summary_lines(result: Mapping[str, Any], paths: Mapping[str, Path]) -> list[str]:
    """Lines of the summary: the target, a table of aptune against the baselines, the files."""
    final, baselines = result["result"], result["baselines"]
    objective = result["objective"]
    split = result["split"]
    lines = [
        f"target: {result['target']} (searched on {split['calibration']} samples{_copies(split)}, "
        f"checked on {split['validation']} held-out samples)"
    ]
    uniform = baselines.get("cheapest_uniform")
    ref = uniform["objective"] if uniform else None
    lines.append(
        f"  {'config':<34} {'metric':>8} {'met':>5} {'LUT-eq':>10} {'BOPs':>12} {'DSP':>7} "
        f"{'LUT':>9} {objective} vs uniform"
    )
    names = {
        "hls4ml_default": "hls4ml default",
        "cheapest_uniform": "cheapest uniform",
        "range_rule": "range rule",
    }
    for key, label in names.items():
        if key in baselines:
            entry = baselines[key]
            label = entry["name"] if entry else label
            lines.append(_row(label[:34], entry, objective, ref))
    source = final.get("source", "search")
    if final["met"] and source != "search":
        name = baselines[source]["name"] if baselines.get(source) else source
        lines.append(
            f"  recommended: the {name} baseline (the search found nothing cheaper that meets "
            "the target and passes the checks)"
        )
    if final["met"]:
        lines.append(_row("aptune (recommended)", final, objective, ref))
        if not final["met_validation"]:
            lines.append(
                f"  WARNING: the target held on the {split['calibration']} calibration samples "
                f"but not on the {split['validation']} held-out ones "
                f"({final['metric_validation']:.4f}); tune on more data (exit 1)"
            )
    else:
        reason = final.get("reason") or f"the best metric seen was {final['best_metric']:.4f}"
        lines.append(f"  target not reached: {reason}")
    if result.get("timed_out"):
        lines.append("  the search stopped at --time-limit; the best config so far is kept")
    for f in final.get("check", {}).get("findings", []):
        lines.append(f"  check {f['severity']}: {f['layer']}: {f['message']} (fix: {f['fix']})")
    csim = result.get("csim")
    if csim:
        verdict = "target met" if csim["met"] else "TARGET MISSED"
        same = "identical to" if csim["agree"] else "DIFFERENT FROM"
        lines.append(
            f"C simulation ({csim['hls_tool']}, held-out samples): {csim['identical']} of "
            f"{csim['n_values']} output values {same} the emulator; "
            f"metric {csim['metric']:.4f}, {verdict}"
        )
    judged = result.get("judged") or len(result["candidates"])
    lines.append(
        f"{len(result['candidates'])} candidates searched, {judged} judged in all (the progress "
        f"count) in {result['seconds']:.1f} s ({result['evaluations_per_second']:.1f} per second)"
    )
    lines += [f"wrote {p}" for p in paths.values()]
    if result.get("config_left"):
        lines.append(
            f"left {result['config_left']} as it was: this run wrote no config "
            f"(run {result.get('run', '')})"
        )
    return lines


def print_summary(result: Mapping[str, Any], paths: Mapping[str, Path], file: TextIO) -> None:
    print("\n".join(summary_lines(result, paths)), file=file)
