"""The tuning record: tuning.json read and written in one place, its meaning kept, versioned."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from emulation.errors import DataError
from emulation.tuning_record import (
    SCHEMA_VERSION,
    CandidateRecord,
    CsimCheck,
    Final,
    TuningRecord,
)
from tests.reports.tuning_data import full_record, tuning_record


def _leaves(data, prefix=()):
    """``{key path: value}`` of every leaf of parsed JSON."""
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out |= _leaves(v, (*prefix, k))
        return out or {prefix: {}}
    if isinstance(data, list):
        out = {}
        for i, v in enumerate(data):
            out |= _leaves(v, (*prefix, i))
        return out or {prefix: []}
    return {prefix: data}


def _json_round_trip(record: TuningRecord) -> dict:
    return json.loads(json.dumps(record.to_json(), allow_nan=True))


def test_every_key_and_value_of_a_record_survives_reading_and_writing():
    """from_json then to_json gives back each key the file held, with its value."""
    data = full_record()
    written = _leaves(_json_round_trip(TuningRecord.from_json(data)))
    for path, value in _leaves(data).items():
        assert path in written, path
        assert written[path] == value or (
            isinstance(value, float) and math.isnan(value) and math.isnan(written[path])
        ), path


def test_a_written_record_reads_back_equal():
    """to_json, through JSON text, and from_json again: the same typed record."""
    record = TuningRecord.from_json(full_record())
    assert TuningRecord.from_json(_json_round_trip(record)) == record


def test_the_record_is_typed():
    """Nested parts are dataclasses: the result, candidates, the C-simulation check."""
    record = TuningRecord.from_json(full_record())
    assert isinstance(record.final, Final) and record.final.met
    assert isinstance(record.candidates[0], CandidateRecord)
    assert isinstance(record.csim, CsimCheck) and record.csim.agree
    assert record.final.overflows["relu1.result_t"].count == 40
    assert record.baselines["range_rule"] is None
    assert record.split.validation == 300


def test_a_file_without_schema_version_loads_and_gains_it():
    """Records written before the field existed read as version 1 and are written with it."""
    data = tuning_record()
    assert "schema_version" not in data
    record = TuningRecord.from_json(data)
    assert record.schema_version == SCHEMA_VERSION == 1
    assert record.to_json()["schema_version"] == SCHEMA_VERSION


def test_a_newer_schema_is_refused_naming_the_version():
    """A file from a newer aptune is refused, not misread."""
    data = tuning_record() | {"schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(DataError, match=f"schema_version {SCHEMA_VERSION + 1} is newer"):
        TuningRecord.from_json(data, "t.json")


def test_an_unmet_result_writes_only_what_it_holds():
    """A result without a config keeps its three keys: no measures appear from nowhere."""
    data = tuning_record(met=False)
    written = TuningRecord.from_json(data).to_json()["result"]
    assert written == data["result"]


def test_candidates_keep_the_search_names():
    """A candidate's recorded fields are the `Evaluation`'s own names (no rename on the way
    out: ``secondary_cost``, ``refused``)."""
    from tuner.search import Evaluation

    names = {f.name for f in dataclasses.fields(CandidateRecord)} - {"types"}
    assert names <= set(dir(Evaluation)) | {f.name for f in dataclasses.fields(Evaluation)}
