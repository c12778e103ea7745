"""The short human summary of a tuning run, printed by ``aptune tune``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from emulation.tuning_record import BASELINES, Measured, Split, TuningRecord

__all__ = ["print_summary", "summary_lines"]


def _copies(split: Split) -> str:
    """The phrase for the jittered copies of a small calibration set ("" when none)."""
    extra = (split.search_samples or 0) - (split.calibration or 0)
    return f" and {extra} noisy copies of them" if extra > 0 else ""


def _row(name: str, entry: Measured | None, ref: float | None) -> str:
    if entry is None:
        return f"  {name:<34} {'does not meet the target':>12}"
    cost = entry.cost
    ratio = f"{entry.objective / ref:6.0%}" if ref else "     -"
    met = "yes" if entry.met_validation else "NO"
    luteq = cost.luteq if cost.luteq is not None else cost.lut + 55 * cost.dsp
    return (
        f"  {name:<34} {entry.metric_validation:>8.4f} {met:>5} {luteq:>10,.0f} "
        f"{cost.bops:>12,.0f} {cost.dsp:>7,.0f} {cost.lut:>9,.0f} {ratio}"
    )


def _verdict_lines(result: TuningRecord, ref: float | None) -> list[str]:
    final, baselines, split = result.final, result.baselines, result.split
    lines = []
    source = final.source or "search"
    if final.met and source != "search":
        entry = baselines.get(source)
        name = entry.name if entry and entry.name else source
        lines.append(
            f"  recommended: the {name} baseline (the search found nothing cheaper that meets "
            "the target and passes the checks)"
        )
    if final.met:
        lines.append(_row("aptune (recommended)", final, ref))
        if not final.met_validation:
            lines.append(
                f"  WARNING: the target held on the {split.calibration} calibration samples "
                f"but not on the {split.validation} held-out ones "
                f"({final.metric_validation:.4f}); tune on more data (exit 1)"
            )
    else:
        reason = final.reason or f"the best metric seen was {final.best_metric:.4f}"
        lines.append(f"  target not reached: {reason}")
    return lines


def summary_lines(result: TuningRecord, paths: Mapping[str, Path]) -> list[str]:
    """Lines of the summary: the target, a table of aptune against the baselines, the files."""
    final, baselines, split = result.final, result.baselines, result.split
    lines = [
        f"target: {result.target} (searched on {split.calibration} samples{_copies(split)}, "
        f"checked on {split.validation} held-out samples)"
    ]
    uniform = baselines.get("cheapest_uniform")
    ref = uniform.objective if uniform else None
    lines.append(
        f"  {'config':<34} {'metric':>8} {'met':>5} {'LUT-eq':>10} {'BOPs':>12} {'DSP':>7} "
        f"{'LUT':>9} {result.objective} vs uniform"
    )
    for key, label in BASELINES.items():
        if key in baselines:
            entry = baselines[key]
            label = entry.name if entry and entry.name else label
            lines.append(_row(label[:34], entry, ref))
    lines += _verdict_lines(result, ref)
    if result.timed_out:
        lines.append("  the search stopped at --time-limit; the best config so far is kept")
    for f in final.check.findings if final.check else ():
        lines.append(f"  check {f.severity}: {f.layer}: {f.message} (fix: {f.fix})")
    csim = result.csim
    if csim:
        verdict = "target met" if csim.met else "TARGET MISSED"
        same = "identical to" if csim.agree else "DIFFERENT FROM"
        lines.append(
            f"C simulation ({csim.hls_tool}, held-out samples): {csim.identical} of "
            f"{csim.n_values} output values {same} the emulator; "
            f"metric {csim.metric:.4f}, {verdict}"
        )
    n = len(result.candidates)
    lines.append(
        f"{n} candidates searched, {result.judged or n} judged in all (the progress "
        f"count) in {result.seconds:.1f} s ({result.evaluations_per_second:.1f} per second)"
    )
    lines += [f"wrote {p}" for p in paths.values()]
    if result.config_left:
        lines.append(
            f"left {result.config_left} as it was: this run wrote no config (run {result.run})"
        )
    return lines


def print_summary(result: TuningRecord, paths: Mapping[str, Path], file: TextIO) -> None:
    print("\n".join(summary_lines(result, paths)), file=file)
