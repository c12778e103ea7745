"""`aptune report`: the report written from a saved tuning.json; bad inputs refused in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.reports.tuning_data import tuning_record
from tuner.cli import main


@pytest.fixture(autouse=True)
def coarse(monkeypatch):
    """Embed figures at low resolution: these tests read the command, not the pictures."""
    monkeypatch.setattr("reports.html.DPI", 20)


@pytest.fixture
def tuning_json(tmp_path) -> Path:
    path = tmp_path / "run" / "tuning.json"
    path.parent.mkdir()
    path.write_text(json.dumps(tuning_record(), indent=1))
    return path


def _one_line_error(capsys, text: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("aptune: DataError:"), err
    assert text in err, err


def test_writes_report_and_summary_and_prints_their_paths(tuning_json, tmp_path, capsys):
    """-o DIR gets report.html and summary.md; their paths are printed, exit 0."""
    out = tmp_path / "out"
    assert main(["report", str(tuning_json), "-o", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        str(out / "report.html"),
        str(out / "summary.md"),
    ]
    assert 'id="tradeoff"' in (out / "report.html").read_text(encoding="utf-8")
    assert "20,100" in (out / "summary.md").read_text(encoding="utf-8")


def test_default_folder_is_report_beside_the_json(tuning_json, capsys):
    """Without -o the report goes to 'report' next to tuning.json."""
    assert main(["report", str(tuning_json)]) == 0
    assert (tuning_json.parent / "report" / "report.html").is_file()
    assert (tuning_json.parent / "report" / "summary.md").is_file()


def test_nan_best_metric_of_an_unmet_run_is_reported(tmp_path, capsys):
    """tuning.json may hold NaN (json allow_nan) when nothing met the target."""
    record = tuning_record(met=False)
    record["result"]["best_metric"] = math.nan
    path = tmp_path / "tuning.json"
    path.write_text(json.dumps(record))
    assert main(["report", str(path), "-o", str(tmp_path / "r")]) == 0
    assert "target not met" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")


def test_missing_file_exits_2(tmp_path, capsys):
    """A file that does not exist: one line, exit 2, nothing written."""
    assert main(["report", str(tmp_path / "none.json"), "-o", str(tmp_path / "r")]) == 2
    _one_line_error(capsys, "does not exist")
    assert not (tmp_path / "r").exists()


def test_invalid_json_exits_2(tmp_path, capsys):
    """Broken JSON: one line naming the position, exit 2."""
    path = tmp_path / "tuning.json"
    path.write_text('{"target": ')
    assert main(["report", str(path), "-o", str(tmp_path / "r")]) == 2
    _one_line_error(capsys, "is not valid JSON (line 1")
    assert not (tmp_path / "r").exists()


def test_json_that_is_not_a_tuning_record_exits_2(tmp_path, capsys):
    """Valid JSON of another kind (a comparison.json, say): one line naming what is missing."""
    path = tmp_path / "comparison.json"
    path.write_text(json.dumps({"n_samples": 3, "agree": True}))
    assert main(["report", str(path), "-o", str(tmp_path / "r")]) == 2
    _one_line_error(capsys, "is not a tuning record: missing 'target'")


def test_folder_instead_of_file_exits_2(tuning_json, capsys):
    """A folder holding tuning.json: one line pointing at the file."""
    assert main(["report", str(tuning_json.parent)]) == 2
    _one_line_error(capsys, "is a folder (it holds a tuning.json)")
