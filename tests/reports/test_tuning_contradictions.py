"""Reports that contradicted themselves (issue 14): each test reads the figures' artists or the
page's text for one contradiction, and failed on the code before the fix."""

from __future__ import annotations

import re

import pytest
from matplotlib.colors import same_color

from reports.plots import GID_OVERFLOW_NOTE, OVERFLOW_COLOR
from reports.tuning import summary_markdown, tuning_html
from tests.reports.tuning_data import full_record


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
