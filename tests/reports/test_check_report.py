"""reports.check_report: the figures of a check with data, read from their artists, and the page."""

from __future__ import annotations

import copy
import io
import json
import math

import pytest
from matplotlib.colors import same_color
from matplotlib.figure import Figure

from emulation.errors import DataError
from reports import check_report
from reports.check_report import (
    FILES,
    GID_SHARE_BAR,
    SEVERITY_COLORS,
    plot_overflow_shares,
    plot_ranges,
    write_check_report,
)
from reports.plots import GID_OVERFLOW_NOTE, GID_PEAK_BAR, GID_TYPE_RANGE, OVERFLOW_COLOR

#: ap_fixed<8,3>: LSB 2^-5, max 3.96875; ap_fixed<10,4,AP_RND,AP_SAT>: max 7.96875.
POINTS = [
    ("d1.accum_t", "ap_fixed<16,6>", 0, 400, 3.0),
    ("d1.result_t", "ap_fixed<8,3>", 12, 400, 20.0),  # overflows: a warning
    ("sm.inp_norm_t", None, 0, 100, 5.0),  # no type known
    ("d2.result_t", "ap_fixed<10,4,AP_RND,AP_SAT>", 1, 1000, 9.0),  # overflows: an error
    ("d2.accum_t", "ap_fixed<24,10>", 0, 1000, 2.0**-16),  # below the LSB, 2^-14
]


def _result(points=POINTS) -> dict:
    """A check result as `CheckResult.to_dict()` gives it."""
    return {
        "counts": {"note": 1, "warning": 1, "error": 1},
        "layers": [
            {
                "name": "d1",
                "kind": "Dense",
                "input_type": "ap_fixed<16,6>",
                "types": {"result_t": {"type": "ap_fixed<8,3>", "source": "config"}},
                "table_sizes": {},
                "strategy": "latency",
                "reuse_factor": 1,
            }
        ],
        "findings": [
            {
                "severity": "error",
                "code": "overflow",
                "layer": "d2",
                "message": "d2 wraps <badly>",
                "fix": "LayerName: {d2: {Precision: {result: ap_fixed<12,6>}}}",
                "point": "d2.result_t",
            },
            {
                "severity": "warning",
                "code": "overflow",
                "layer": "d1",
                "message": "12 of 400 values overflow at d1.result_t",
                "fix": "",
                "point": "d1.result_t",
            },
            {"severity": "note", "code": "ignored-key", "layer": "d1", "message": "n", "fix": ""},
        ],
        "data": {
            "samples": 100,
            "first_overflow": "d1",
            "agreement": 0.9,
            "points": [
                {
                    "point": p,
                    "layer": p.split(".")[0],
                    "type": t,
                    "type_max": None,
                    "count": c,
                    "total": n,
                    "share": c / n,
                    "max_abs": m,
                }
                for p, t, c, n, m in points
            ],
        },
    }


def _rendered(fig: Figure) -> Figure:
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return fig


def _rows(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_yticklabels()]


def _by_row(fig: Figure, gid: str) -> dict[str, object]:
    """The patches with ``gid``, keyed by the row label at their vertical centre."""
    names = _rows(fig)
    out = {}
    for patch in fig.axes[0].patches:
        if patch.get_gid() == gid:
            out[names[round(patch.get_y() + patch.get_height() / 2)]] = patch
    return out


def _right(patch) -> float:
    return patch.get_x() + patch.get_width()


# ------------------------------------------------------------------------------ ranges
def test_ranges_rows_are_the_points_in_order():
    """One row per cast point, top to bottom in the order of the data."""
    fig = _rendered(plot_ranges(_result()))
    assert _rows(fig) == [p[0] for p in POINTS]


def test_bar_of_an_overflowing_point_exceeds_its_grey_box():
    """The bar ends at log2 of the largest |value|: past the grey box where values overflowed,
    inside it where they fit."""
    fig = _rendered(plot_ranges(_result()))
    bars, boxes = _by_row(fig, GID_PEAK_BAR), _by_row(fig, GID_TYPE_RANGE)
    for point, _, count, _, peak in POINTS:
        assert _right(bars[point]) == pytest.approx(math.log2(peak))
        if point in boxes:
            assert (_right(bars[point]) > _right(boxes[point])) == (count > 0), point
    assert _right(boxes["d1.result_t"]) == pytest.approx(math.log2(3.96875))
    assert boxes["d1.result_t"].get_x() == pytest.approx(-5)  # the LSB
    assert _right(bars["d2.accum_t"]) < boxes["d2.accum_t"].get_x()  # rounds to zero


def test_untyped_point_has_a_bar_but_no_grey_box():
    """A point whose type the check does not know gets no grey box."""
    fig = _rendered(plot_ranges(_result()))
    assert "sm.inp_norm_t" in _by_row(fig, GID_PEAK_BAR)
    assert set(_by_row(fig, GID_TYPE_RANGE)) == {p[0] for p in POINTS if p[1]}


def test_overflowing_points_are_red_with_their_count():
    """Overflowing rows: red label, red bar and the count beside the row."""
    fig = _rendered(plot_ranges(_result()))
    red = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_color() == OVERFLOW_COLOR]
    assert red == ["d1.result_t", "d2.result_t"]
    bars = _by_row(fig, GID_PEAK_BAR)
    assert same_color(bars["d1.result_t"].get_edgecolor(), OVERFLOW_COLOR)
    assert not same_color(bars["d1.accum_t"].get_edgecolor(), OVERFLOW_COLOR)
    notes = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == GID_OVERFLOW_NOTE]
    assert notes == ["12 overflowed", "1 overflowed"]


# ------------------------------------------------------------------------------ shares
def test_share_bars_on_a_log_axis_coloured_by_severity():
    """Only overflowing points have a bar, ending at their share; colour: their finding."""
    fig = _rendered(plot_overflow_shares(_result()))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlim()[1] == 1.0
    bars = _by_row(fig, GID_SHARE_BAR)
    assert set(bars) == {"d1.result_t", "d2.result_t"}
    assert _right(bars["d1.result_t"]) == pytest.approx(12 / 400)
    assert _right(bars["d2.result_t"]) == pytest.approx(1 / 1000)
    assert same_color(bars["d2.result_t"].get_facecolor(), SEVERITY_COLORS["error"][0])
    assert same_color(bars["d1.result_t"].get_facecolor(), SEVERITY_COLORS["warning"][0])
    assert ax.get_xlim()[0] < 1 / 1000  # the smallest share is visible
    labels = {t.get_text(): t.get_color() for t in ax.get_yticklabels()}
    assert same_color(labels["d2.result_t"], SEVERITY_COLORS["error"][1])
    assert same_color(labels["d1.result_t"], SEVERITY_COLORS["warning"][1])
    texts = [t.get_text() for t in ax.texts]
    assert "12 of 400; wraps" in texts and "1 of 1,000; saturates" in texts
    assert texts.count("  none") == 3


def test_share_figure_without_overflow_says_so():
    """No overflow anywhere: no bar, and the title says so."""
    quiet = [(p, t, 0, n, m) for p, t, _, n, m in POINTS]
    fig = _rendered(plot_overflow_shares(_result(quiet)))
    assert not _by_row(fig, GID_SHARE_BAR)
    assert "no value overflowed at any of the 5 cast points" in fig.axes[0].get_title()


def test_figures_do_not_modify_the_result():
    """Drawing reads the plain data only."""
    result = _result()
    before = copy.deepcopy(result)
    plot_ranges(result)
    plot_overflow_shares(result)
    assert result == before


# -------------------------------------------------------------------------------- files
def test_report_files_page_and_json(tmp_path):
    """Four files; the page starts with the summary, links both PNGs and escapes text; the
    saved JSON regenerates the same figure."""
    result = _result()
    paths = write_check_report(result, tmp_path / "out", "model.keras")
    assert list(paths) == list(FILES)
    for name in ("ranges.png", "shares.png"):
        assert paths[name].read_bytes().startswith(b"\x89PNG")
    page = paths["check.html"].read_text()
    assert page.index("aptune check: model.keras") < page.index('src="ranges.png"')
    assert '<a href="shares.png">' in page and "1 error(s)" in page
    assert "2 of 5 cast points overflow on 100 samples" in page
    assert "d2 wraps &lt;badly&gt;" in page
    saved = json.loads(paths["check.json"].read_text())
    assert saved == result
    again = _by_row(_rendered(plot_ranges(saved)), GID_PEAK_BAR)
    first = _by_row(_rendered(plot_ranges(result)), GID_PEAK_BAR)
    assert {k: _right(v) for k, v in again.items()} == {k: _right(v) for k, v in first.items()}


def test_result_without_data_is_refused(tmp_path):
    """A check run without data has nothing to draw: DataError naming --data."""
    result = {**_result(), "data": None}
    with pytest.raises(DataError, match="--data"):
        write_check_report(result, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_folder_that_is_a_file_is_refused(tmp_path):
    """--report pointing at a file: DataError, the file untouched."""
    target = tmp_path / "report"
    target.write_text("mine")
    with pytest.raises(DataError, match="is a file"):
        write_check_report(_result(), target)
    assert target.read_text() == "mine"


def test_a_failure_while_drawing_leaves_the_old_report_untouched(tmp_path, monkeypatch):
    """Everything is rendered before the first write: a failure writes nothing."""
    old = {name: f"old {name}" for name in FILES}
    for name, text in old.items():
        (tmp_path / name).write_text(text)

    def broken(_):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(check_report, "plot_overflow_shares", broken)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_check_report(_result(), tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == old
