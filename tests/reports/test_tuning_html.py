"""The tuning report: HTML sections and images, Markdown numbers, determinism, and the
records it refuses."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from emulation.errors import DataError
from reports.tuning import check_tuning, summary_markdown, tuning_html, write_report
from tests.reports.tuning_data import full_record, tuning_record

SECTIONS = ("summary", "precision", "tradeoff", "profiles", "overflows", "csim", "types")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def coarse(monkeypatch):
    """Embed figures at low resolution: for tests of the page's text, not its pictures."""
    monkeypatch.setattr("reports.html.DPI", 20)


@pytest.fixture(scope="module")
def full_report(tmp_path_factory) -> dict[str, Path]:
    """The report of the full record (profiles and C simulation included), written once."""
    return write_report(full_record(), tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def full_html(full_report) -> str:
    return full_report["report.html"].read_text(encoding="utf-8")


# ------------------------------------------------------------------------------- HTML
def test_html_holds_every_section(full_html):
    """Summary, precision, trade-off, profiles, overflows, C simulation and types are there."""
    for ident in SECTIONS:
        assert f'id="{ident}"' in full_html or f"id='{ident}'" in full_html, ident
        assert f'href="#{ident}"' in full_html, ident


def test_html_embeds_every_figure_as_png(full_html):
    """7 figures (precision, trade-off, 4 profiles, C simulation), each a valid base64 PNG."""
    sources = re.findall(r'<img [^>]*src="([^"]+)"', full_html)
    assert len(sources) == 7
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG


def test_html_needs_nothing_from_outside(full_html):
    """No scripts, no external style sheets or images."""
    assert "<script" not in full_html.lower()
    assert not re.search(r'(src|href)="(https?:|//)', full_html)
    assert "<link" not in full_html.lower()


def test_html_header_shows_verdict_metric_cost_and_ratios(full_html):
    """Model, target, verdict, validation metric, cost and ratio to each baseline."""
    for text in (
        "mlp.keras",
        "agreement &gt;= 0.99",
        "target met",
        "99.25\u00a0%",  # validation agreement
        "20,100",  # BOPs
        "8.0x cheaper than hls4ml default",
        "3.0x cheaper than cheapest uniform",
        "range rule",
        "no config met the target",
        "0.12x (8.0x cheaper)",
    ):
        assert text in full_html, text


def test_html_types_table_lists_every_type(full_html):
    """Every recommended type appears, escaped (breakable after commas), in the types table."""
    types = full_html[full_html.index('id="types"') :]
    for text in tuning_record()["result"]["types"].values():
        escaped = text.replace("<", "&lt;").replace(">", "&gt;").replace(",", ",<wbr>")
        assert f">{escaped}<" in types, text


def test_html_overflow_table_flags_wrapping(full_html):
    """Overflowing points are listed with counts; the wrapping one says it wraps."""
    overflows = full_html[full_html.index('id="overflows"') : full_html.index('id="csim"')]
    assert "fc1.result_t" in overflows and "3 of 16,000" in overflows
    assert "relu1.result_t" in overflows and "40 of 16,000" in overflows
    assert "wraps" in overflows and "saturates" in overflows
    assert "x.result_t" not in overflows  # no overflow there


def test_html_without_profiles_or_csim_leaves_those_sections_out(coarse):
    """Profiles and C simulation appear only when the record has them."""
    page = tuning_html(tuning_record())
    assert 'id="profiles"' not in page and 'id="csim"' not in page
    assert len(re.findall(r"<img ", page)) == 2


def test_html_says_when_nothing_overflowed(coarse):
    """A record with no overflow says so in one line."""
    record = tuning_record()
    for o in record["result"]["overflows"].values():
        o["count"] = 0
    page = tuning_html(record)
    assert "No value overflowed any type of the recommended config on the 300" in page


def test_html_of_an_unmet_target_says_so(coarse):
    """The verdict, the best metric and the missing overflow measurement are stated."""
    page = tuning_html(tuning_record(met=False))
    assert "target not met" in page
    assert "the best agreement seen was 97.00\u00a0%" in page
    assert "Not measured: no candidate met the target" in page


def test_html_flags_a_target_missed_on_validation(coarse):
    """Met on calibration but not on validation data is a warning, not a success."""
    page = tuning_html(tuning_record(validation=0.985))
    assert "met on calibration data, missed on validation data" in page


def test_html_marks_an_interrupted_run(coarse):
    """An interrupted search is flagged."""
    record = tuning_record()
    record["interrupted"] = True
    assert "interrupted" in tuning_html(record)


def test_report_regenerates_identically(full_report, tmp_path):
    """The same record gives byte-identical HTML and Markdown."""
    again = write_report(full_record(), tmp_path)
    for name, path in full_report.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_report_writes_only_its_two_files(full_report):
    """report.html and summary.md, no temporary files left behind."""
    assert sorted(full_report) == ["report.html", "summary.md"]
    folder = full_report["report.html"].parent
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "summary.md"]


# --------------------------------------------------------------------------- Markdown
def test_markdown_holds_the_key_numbers(full_report):
    """Verdict, metrics, cost, every baseline with its ratio, overflows, C simulation."""
    md = full_report["summary.md"].read_text(encoding="utf-8")
    for text in (
        "# aptune tuning: mlp.keras",
        "**Target met** (agreement >= 0.99)",
        "| aptune (recommended) | 99.02 % | 99.25 % | yes | 20,100 | 10,050 | 0 | 16,080 | - |",
        "| hls4ml default (config_from_keras_model, granularity='name') | 20.00 % | 21.00 % |",
        "| cheapest uniform (ap_fixed<12,5>) | 99.60 % | 99.40 % | yes | 60,300 |",
        "0.33x (3.0x cheaper)",
        "| range rule | no config met the target |",
        "fc1.result_t 3 of 16,000 (wraps)",
        "emulator and C simulation agree on every value (300 of 300",
        "14 candidates evaluated in 12.5 s",
    ):
        assert text in md, text


def test_markdown_of_an_unmet_target():
    """The summary says the target was not met and the best metric seen."""
    md = summary_markdown(tuning_record(met=False))
    assert "**Target not met**" in md and "97.00 %" in md


# ------------------------------------------------------------------------------ input
def test_check_tuning_names_the_missing_keys():
    """A dict that is not a tuning record is refused with the keys it lacks."""
    with pytest.raises(DataError, match="missing 'objective', 'result'"):
        check_tuning({"target": "x", "baselines": {}, "candidates": []}, "t.json")


def test_check_tuning_refuses_a_target_no_run_writes():
    """A target string that `Target.parse` cannot read is refused, naming the file and why."""
    record = tuning_record()
    record["target"] = "f1 >= 0.5"
    with pytest.raises(DataError, match=r"t\.json: 'target': unknown metric 'f1'"):
        check_tuning(record, "t.json")


def test_check_tuning_refuses_a_bad_candidate():
    """A candidate without its cost is refused, naming its index."""
    record = tuning_record()
    del record["candidates"][3]["cost"]
    with pytest.raises(DataError, match="candidate 3 lacks 'cost'"):
        check_tuning(record)


def test_check_tuning_refuses_a_list():
    """A JSON array is not a tuning record."""
    with pytest.raises(DataError, match="not a tuning record"):
        write_report([1, 2], Path("unused"))
