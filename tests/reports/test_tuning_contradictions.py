"""Reports that contradicted themselves (issue 14): each test reads the figures' artists or the
page's text for one contradiction, and failed on the code before the fix."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.colors import same_color

from reports.plots import GID_OVERFLOW_NOTE, OVERFLOW_COLOR
from reports.tuning import summary_markdown, tuning_html
from reports.tuning_plots import GID_CANDIDATES, plot_tradeoff
from tests.reports.tuning_data import full_record, tuning_record

REASON = "warning softmax-resolution at dense_3_softmax"


@pytest.fixture
def figures(monkeypatch) -> dict[str, object]:
    """The figures a report embeds, by their alt text (captured as `tuning_html` draws them)."""
    import reports.html

    drawn: dict[str, object] = {}
    real = reports.html.figure

    def capture(fig, alt, *args, **kwargs):
        drawn[alt] = fig
        return real(fig, alt, *args, **kwargs)

    monkeypatch.setattr("reports.html.DPI", 20)
    monkeypatch.setattr(reports.html, "figure", capture)
    return drawn


def _red(fig) -> dict[str, str]:
    """``{row label: its red note}`` of a profile figure, plus rows whose label alone is red."""
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    notes: dict[str, str] = {}
    for text in ax.texts:
        if text.get_gid() == GID_OVERFLOW_NOTE:
            notes[labels[round(text.get_position()[1])]] = text.get_text()
    for tick in ax.get_yticklabels():
        if same_color(tick.get_color(), OVERFLOW_COLOR):
            notes.setdefault(tick.get_text(), "")
    return notes


def _section(page: str, ident: str) -> str:
    start = page.index(f'id="{ident}"')
    return page[start : page.index("</section>", start)]


def _listed(page: str) -> set[str]:
    """The cast points of the Overflows table (first cell of each body row)."""
    body = _section(page, "overflows")
    return {m.split(" ")[0] for m in re.findall(r"<tr><td>([^<]+)</td>", body)}


# ------------------------------------------------------------------------ 1: overflows
def test_profile_red_marks_are_the_overflows_table(figures):
    """The recommended profiles mark red exactly the points the Overflows table lists, with its
    validation counts (the profile had counted relu1 5 and fc1 none on its own samples)."""
    page = tuning_html(full_record())
    listed = _listed(page)
    assert listed == {"fc1.result_t", "relu1.result_t", "out.weight_t"}
    acts = _red(figures["activations profile under the recommended config"])
    weights = _red(figures["weights profile under the recommended config"])
    assert acts == {"fc1": "3 overflowed", "relu1": "40 overflowed"}
    assert set(weights) == {"out/weight"}
    red = {f"{k}.result_t" for k in acts} | {k.replace("/", ".") + "_t" for k in weights}
    assert red == listed


def test_a_bias_that_saturates_by_rounding_is_a_note_not_red(figures):
    """fc1/bias rounds one value past its type's largest value: not red in the figure, not in
    the table, not in summary.md; the Overflows section notes it instead."""
    record = full_record()
    page = tuning_html(record)
    assert "fc1/bias" not in _red(figures["weights profile under the recommended config"])
    overflows = _section(page, "overflows")
    assert "fc1.bias_t" not in _listed(page)
    assert "fc1/bias: 1 value(s) round to nearest" in overflows and "not an overflow" in overflows
    md = summary_markdown(record)
    assert "fc1.bias" not in md and "fc1/bias" not in md


def test_no_data_overflow_means_no_red_anywhere(figures):
    """The Iris case: nothing overflowed on validation data and a bias saturates by rounding;
    the section says none did and no profile figure shows red."""
    record = full_record()
    for o in record["result"]["overflows"].values():
        o["count"] = 0
    rows = record["profiles"]["recommended"]["weights"]["rows"]
    record["profiles"]["recommended"]["weights"]["rows"] = [
        r for r in rows if r["name"] != "out/weight"
    ]
    page = tuning_html(record)
    assert "No value overflowed any type of the recommended config" in page
    for alt, fig in figures.items():
        if "recommended config" in alt:
            assert _red(fig) == {}, alt
    assert "Overflows on validation data: none." in summary_markdown(record)


# -------------------------------------------------------------------- 2: refused runs
def _refused_record() -> dict:
    """A failed run: every candidate above the target met the metric and was refused."""
    record = tuning_record(met=False)
    for c in record["candidates"]:
        if c["metric"] >= 0.99:
            c["met"], c["refused"] = False, REASON
        else:
            c["refused"] = ""
    record["result"]["reason"] = (
        f"9 candidate(s) met agreement >= 0.99 and were refused (most often, 9 times: {REASON})"
    )
    return record


def test_refused_candidates_are_crosses_with_the_reason_in_the_legend():
    """Refused candidates are drawn as crosses, not hollow 'misses it' circles; the legend
    says they met the metric and gives the most common reason."""
    record = _refused_record()
    fig = plot_tradeoff(record)
    ax = fig.axes[0]
    crosses = hollow = 0
    for coll in ax.collections:
        if not (coll.get_gid() or "").startswith(GID_CANDIDATES):
            continue
        n = len(coll.get_offsets())
        marker = coll.get_paths()[0]
        if (coll.get_gid() or "").endswith(":refused"):
            crosses += n
            assert len(marker.vertices) == 4  # the 'x' marker: two strokes
            assert all(y >= 0.99 for _, y in np.asarray(coll.get_offsets()))
        else:
            hollow += sum(same_color(f, "white") for f in coll.get_facecolors())
    assert crosses == sum(bool(c["refused"]) for c in record["candidates"]) == 9
    assert hollow == 5  # only the ones that really missed the metric
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert f"cross: met the metric, refused (9): {REASON}" in legend
    assert "9 met the metric but were refused" in ax.get_title(loc="left")
    box = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1  # the long reason fits


def test_headline_of_a_refused_run_gives_the_tuners_reason(figures):
    """The headline uses result['reason'] (why they were refused), not the best metric."""
    record = _refused_record()
    page = tuning_html(record)
    headline = re.search(r"<p class='headline'>(.*?)</p>", page).group(1)
    assert "were refused" in headline and REASON in headline
    assert "best agreement seen" not in headline
    assert "crosses met the metric but were refused" in _section(page, "tradeoff")


def test_headline_of_a_met_run_with_a_caveat_gives_the_reason():
    """A result met with a reason (missed on validation data) says why in the headline."""
    record = tuning_record(validation=0.985)
    record["result"]["reason"] = "met on calibration data, but 0.9850 misses it: give more data"
    page = tuning_html(record)
    headline = re.search(r"<p class='headline'>(.*?)</p>", page).group(1)
    assert "0.9850 misses it: give more data." in headline


# ------------------------------------------------------------------ 5: error metrics
def _mae_record(values: list[float]) -> dict:
    record = tuning_record(met=False)
    record["target"] = "mae <= 0.02"
    for c, v in zip(record["candidates"], values, strict=True):
        c["metric"], c["met"] = v, v <= 0.02
    for key, v in (("hls4ml_default", 0.012), ("cheapest_uniform", 0.02)):
        record["baselines"][key]["metric_calibration"] = v
    return record


def test_mae_spanning_decades_is_on_a_log_axis():
    """Jet-like mae values (0.004 to 3): a log y axis whose range shows both ends, so the
    candidates near the target are not squashed against zero."""
    values = [3.0, 1.2, 0.5, 0.2, 0.05, 0.03, 0.019, 0.015, 0.012, 0.01, 0.008, 0.006, 0.005, 0.004]
    ax = plot_tradeoff(_mae_record(values)).axes[0]
    assert ax.get_yscale() == "log"
    low, high = ax.get_ylim()
    assert 0 < low <= 0.004 and high >= 3.0
    assert "mae" in ax.get_ylabel()


def test_mae_within_a_decade_stays_linear():
    """Errors within one decade keep a linear axis."""
    values = [
        0.03,
        0.025,
        0.02,
        0.018,
        0.015,
        0.012,
        0.01,
        0.01,
        0.011,
        0.013,
        0.014,
        0.016,
        0.02,
        0.02,
    ]
    assert plot_tradeoff(_mae_record(values)).axes[0].get_yscale() == "linear"


def test_accuracy_is_never_on_a_log_axis():
    """A share metric keeps its zoomed linear window."""
    assert plot_tradeoff(tuning_record()).axes[0].get_yscale() == "linear"


# ------------------------------------------------------------------------ 3: wide tables
def test_type_cells_wrap_between_fields_and_no_rule_forbids_wrapping(figures):
    """Long types break after their commas, and no style rule keeps table cells or code on
    one line (nowrap is what pushed exp_table_t past 1280 px); the browser test measures."""
    from reports.html import CSS

    record = tuning_record()
    record["result"]["types"]["softmax.exp_table_t"] = "ap_fixed<18,8,AP_RND,AP_SAT>"
    types = _section(tuning_html(record), "types")
    assert ">ap_fixed&lt;18,<wbr>8,<wbr>AP_RND,<wbr>AP_SAT&gt;<" in types
    for rule in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        selectors, body = rule
        if "nowrap" in body:
            assert all("num" in s for s in selectors.split(",")), selectors
    assert re.search(r"\.types td[^{]*\{[^}]*overflow-wrap: anywhere", CSS)
