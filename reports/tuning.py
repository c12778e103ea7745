"""The tuning report: one self-contained HTML page and a Markdown summary from ``tuning.json``.

>>> paths = write_report(json.load(open("tuning.json")), "report")     # doctest: +SKIP
>>> sorted(paths)                                                       # doctest: +SKIP
['report.html', 'summary.md']

Everything is drawn from the saved record alone (an `emulation.tuning_record.TuningRecord`, or
the parsed ``tuning.json`` it reads; ``profiles`` and ``csim`` when recorded), so a report is
regenerated without rerunning the search, and the same record gives the same bytes. The page
holds, in order: the verdict with the cost against the three baselines; the recommended bits per
layer; metric against cost for every candidate; weight and activation profiles under hls4ml's
default and the recommended config (when recorded); the overflows on validation data; the
C-simulation comparison (when recorded); and the types per layer. The sections are in
:mod:`reports.tuning_sections`, the verdict text they share with ``summary.md`` in
:mod:`reports.tuning_verdict`, figures in :mod:`reports.tuning_plots`, HTML pieces in
:mod:`reports.html`; the overflows every part shows come from one source,
:mod:`reports.tuning_overflows`, so the profiles, the Overflows section and ``summary.md``
agree.
"""

from __future__ import annotations

import os
import re
from html import unescape
from pathlib import Path
from typing import Any

from emulation.io.atomic_files import atomic_write_text
from emulation.tuning_record import TuningRecord
from reports import html
from reports.html import Raw
from reports.tuning_overflows import overflow_rows, overflow_section
from reports.tuning_sections import (
    csim_section,
    header_section,
    precision_section,
    profiles_section,
    tradeoff_section,
    types_section,
)
from reports.tuning_verdict import (
    comparison_rows,
    model_name,
    objective_name,
    status_of,
    verdict_headline,
)

__all__ = [
    "check_tuning",
    "report_files",
    "summary_markdown",
    "tuning_html",
    "write_report",
]


# ------------------------------------------------------------------------------- checking
def check_tuning(data: Any, source: str = "the data") -> TuningRecord:
    """The tuning record in ``data`` (a record or parsed ``tuning.json``); `DataError` naming
    what is wrong otherwise (`emulation.tuning_record.TuningRecord.from_json`)."""
    return TuningRecord.from_json(data, source)


# ---------------------------------------------------------------------------------- output
def tuning_html(tuning: TuningRecord | Any) -> str:
    """The whole report page for the tuning record ``tuning`` (checked first)."""
    tuning = check_tuning(tuning)
    target = tuning.parsed_target
    sections: list[tuple[str, str, Raw | None]] = [
        ("summary", "Summary", header_section(tuning, target)),
        ("precision", "Precision", precision_section(tuning)),
        ("tradeoff", "Metric vs cost", tradeoff_section(tuning)),
        ("profiles", "Profiles", profiles_section(tuning)),
        ("overflows", "Overflows", overflow_section(tuning)),
        ("csim", "C simulation", csim_section(tuning, target)),
        ("types", "Types", types_section(tuning)),
    ]
    present = [(i, t, body) for i, t, body in sections if body is not None]
    model = model_name(tuning)
    title = f"aptune tuning report: {model}" if model else "aptune tuning report"
    return html.page(title, [b for _, _, b in present], nav=[(i, t) for i, t, _ in present])


def summary_markdown(tuning: TuningRecord | Any, report_name: str = "report.html") -> str:
    """``summary.md``: the verdict, aptune against the baselines, overflows, C simulation."""
    tuning = check_tuning(tuning)
    target = tuning.parsed_target
    model = model_name(tuning)
    _, status = status_of(tuning)
    out = [f"# aptune tuning: {model}" if model else "# aptune tuning", ""]
    out += [
        f"**{status.capitalize()}** ({tuning.target}). {verdict_headline(tuning, target)}",
        "",
    ]
    if tuning.run:
        out += [f"Run `{tuning.run}` (named in the first line of its config too).", ""]
    if tuning.interrupted:
        out += ["**Interrupted**: the result is the best found before the search was stopped.", ""]
    rows, _ = comparison_rows(tuning, target, markdown=True)
    out += [
        f"| config | {target.metric} (calibration) | {target.metric} (validation) | meets "
        f"target | BOPs | EBOPs | DSP | LUT | aptune / this ({objective_name(tuning)}) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        out.append("| " + " | ".join(_plain(c) for c in row) + " |")
    out.append("")
    if tuning.final.met:
        over = overflow_rows(tuning)
        if over:
            listed = ", ".join(f"{r[0]} {r[3]} ({_plain(r[2])})" for r in over)
            out.append(f"- Overflows on validation data: {listed}.")
        else:
            out.append("- Overflows on validation data: none.")
    csim = tuning.csim
    if csim:
        same, n = csim.identical, csim.n_values
        verdict = "agree on every value" if csim.agree else "DIFFER"
        out.append(
            f"- C simulation: emulator and C simulation {verdict} ({same:,} of {n:,} output "
            "values bit-identical)."
        )
    seconds = tuning.seconds
    out.append(
        f"- {len(tuning.candidates)} candidates evaluated"
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


def write_report(tuning: TuningRecord | Any, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``report.html`` and ``summary.md`` into ``folder`` (atomically); return the paths.

    Parameters
    ----------
    tuning : the tuning record (a `TuningRecord` or the parsed ``tuning.json``).
    folder : created when missing; existing report files are replaced whole.
    """
    folder = Path(folder)
    return {
        name: atomic_write_text(folder / name, text) for name, text in report_files(tuning).items()
    }


def report_files(tuning: TuningRecord | Any) -> dict[str, str]:
    """The report's files by name (``report.html``, ``summary.md``) and their text, for a
    caller that writes them together with other outputs."""
    tuning = check_tuning(tuning)
    return {"report.html": tuning_html(tuning), "summary.md": summary_markdown(tuning)}
