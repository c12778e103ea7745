"""The tuning record: what ``tuning.json`` holds, as typed plain data, read and written here only.

``aptune tune`` writes it (`tuner.tune` builds it, `tuner.outputs` saves `TuningRecord.to_json`);
``aptune report`` and ``tuner.summary`` read it with `TuningRecord.from_json` and use attributes,
never JSON keys. It lives in `emulation`, the lowest layer, because `tuner` writes it and
`reports`, which may import only `emulation`, reads it. Like `emulation.metrics.Target` it is
data without behaviour and imports nothing of the emulator.

Schema
------
``schema_version`` is `SCHEMA_VERSION`; a file without it was written before the field existed
and means version 1. A key a record does not hold reads as None (or empty) and is left out when
written again, so a hand-made or older record round-trips; one lacking what every run writes
(`REQUIRED_KEYS`) is refused with a `DataError` that names the key. Nested parts:

- `Split`: the seeded calibration/validation split (``search_samples``: with jittered copies).
- `Measured`: one config measured on both parts of the split (the baselines, and the base of
  `Final`, the recommended config or why there is none).
- `CandidateRecord`: one config the search evaluated (calibration data only).
- `CsimCheck`: ``--verify-csim``'s verdict beside the comparison it is drawn from (kept whole,
  as ``csim.results.Comparison.to_dict()`` writes it and ``reports.comparison`` reads it).
- ``profiles``: ``reports.profile_data.Profile.to_dict()`` forms, by config and kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from emulation.check.findings import Finding
from emulation.errors import ConfigError, DataError
from emulation.metrics import Target

__all__ = [
    "BASELINES",
    "REQUIRED_KEYS",
    "SCHEMA_VERSION",
    "CandidateRecord",
    "CheckSummary",
    "CostFigures",
    "CsimCheck",
    "Final",
    "FloatReference",
    "LayerCostFigures",
    "Measured",
    "OverflowCount",
    "RecordedRanges",
    "Split",
    "TuningRecord",
]

SCHEMA_VERSION = 1
#: Keys every tuning record has; anything without them is refused by `TuningRecord.from_json`.
REQUIRED_KEYS = ("target", "objective", "result", "baselines", "candidates")
_CANDIDATE_KEYS = ("phase", "metric", "cost", "met")
_HINT = "give the tuning.json that 'aptune tune' writes"
#: The baselines a run measures, by key, in the order they are shown, with their display names.
BASELINES = {
    "hls4ml_default": "hls4ml default",
    "cheapest_uniform": "cheapest uniform",
    "range_rule": "range rule",
}


def _plain(value: Any) -> Any:
    """JSON-ready form: dataclasses as objects without their None fields (absent keys), except
    those a class names in ``_KEEP_NONE``; mappings and sequences element by element."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_json"):
            return value.to_json()
        keep = getattr(value, "_KEEP_NONE", ())
        return {
            f.name: _plain(v)
            for f in dataclasses.fields(value)
            if (v := getattr(value, f.name)) is not None or f.name in keep
        }
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` that are fields of ``cls`` (a newer writer's extras are dropped)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _read(cls: type, data: Mapping[str, Any] | None) -> Any:
    """A flat part of the record; missing keys take the class's defaults."""
    return cls(**_known(cls, data or {}))


@dataclass(frozen=True)
class Split:
    """The seeded split of the data into calibration (searched on) and validation samples."""

    seed: int | None = None
    validation_share: float | None = None
    calibration: int | None = None
    validation: int | None = None
    search_samples: int | None = None  # calibration samples and their jittered copies


@dataclass(frozen=True)
class FloatReference:
    """What the float Keras model reaches on the validation data (None: no labels given)."""

    accuracy: float | None = None
    _KEEP_NONE: ClassVar[tuple[str, ...]] = ("accuracy",)


@dataclass(frozen=True)
class RecordedRanges:
    """Largest |value| before each cast on calibration data, by point, in execution order;
    which layers' outputs are never negative (as ``tuner.profile.Ranges.to_dict()`` gives)."""

    max_abs: Mapping[str, float] = field(default_factory=dict)
    non_negative: Mapping[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerCostFigures:
    """One multiplying layer's share of `CostFigures`."""

    layer: str
    multiplications: int = 0
    bops: float = 0.0
    ebops: float = 0.0
    dsp: float = 0.0
    lut: float = 0.0


@dataclass(frozen=True)
class CostFigures:
    """A config's cost as ``tuner.cost.Cost.to_dict()`` records it."""

    bops: float | None = None
    ebops: float | None = None
    dsp: float | None = None
    lut: float | None = None
    luteq: float | None = None
    table_bits: int | None = None
    layers: tuple[LayerCostFigures, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CostFigures | None:
        if data is None:
            return None
        layers = tuple(
            LayerCostFigures(**_known(LayerCostFigures, d)) for d in data.get("layers") or ()
        )
        return cls(**(_known(cls, data) | {"layers": layers}))


@dataclass(frozen=True)
class OverflowCount:
    """Values that did not fit one cast point's type, on the validation data."""

    count: int = 0
    total: int = 0
    share: float | None = None
    max_abs: float = 0.0


@dataclass(frozen=True)
class CheckSummary:
    """``aptune check`` on the recommended config: counts by severity, findings above a note."""

    counts: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | CheckSummary | None) -> CheckSummary | None:
        if data is None or isinstance(data, CheckSummary):
            return data
        findings = tuple(Finding(**_known(Finding, f)) for f in data.get("findings") or ())
        return cls(dict(data.get("counts") or {}), findings)


@dataclass(frozen=True)
class Measured:
    """One config measured on calibration and validation data (a baseline, or the result)."""

    name: str | None = None
    metric_calibration: float | None = None
    metric_validation: float | None = None
    met_calibration: bool | None = None
    met_validation: bool | None = None
    met_search: bool | None = None  # met as the search judges (confidence), not refused
    refused: str | None = None  # why the search would refuse it ("" when it would not)
    cost: CostFigures | None = None
    objective: float | None = None  # the cost figure minimised

    @classmethod
    def _fields_of(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return _known(cls, data) | {"cost": CostFigures.from_json(data.get("cost"))}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Measured | None:
        return None if data is None else cls(**cls._fields_of(data))


@dataclass(frozen=True)
class Final(Measured):
    """The recommended config's record (``"result"``), or why none is recommended."""

    met: bool = False
    source: str | None = None  # "search", or the baseline's key it fell back to
    overflows: Mapping[str, OverflowCount] | None = None  # by cast point, execution order
    check: CheckSummary | None = None
    types: Mapping[str, str] | None = None  # by point, "fc1.result_t": "ap_fixed<10,4>"
    best_types: Mapping[str, str] | None = None  # not met: the best candidate's types
    reason: str | None = None  # not met (or met with a caveat): why
    best_metric: float | None = None  # not met: the best metric seen

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Final:
        data = data or {}
        overflows = data.get("overflows")
        if overflows is not None:
            overflows = {p: OverflowCount(**_known(OverflowCount, o)) for p, o in overflows.items()}
        return cls(
            **cls._fields_of(data)
            | {"overflows": overflows, "check": CheckSummary.from_json(data.get("check"))}
        )

    @property
    def shown_types(self) -> dict[str, str]:
        """The types a report draws: the recommended ones, else the best candidate's."""
        return dict(self.types or self.best_types or {})


@dataclass(frozen=True)
class CandidateRecord:
    """One candidate the search evaluated, measured on the calibration data."""

    phase: str
    metric: float
    cost: float
    met: bool
    secondary_cost: float | None = None
    refused: str | None = None  # why it was refused though it met the metric ("": it was not)
    seconds: float | None = None
    types: Mapping[str, str] | None = None


@dataclass
class CsimCheck:
    """``--verify-csim``: the target's metric on the C simulation and whether it is met, beside
    the comparison (``csim.results.Comparison.to_dict()``); written flat, as one object."""

    metric: float | None
    met: bool
    comparison: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return dict(self.comparison) | {"metric": self.metric, "met": self.met}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CsimCheck | None:
        if not data:
            return None
        rest = {k: v for k, v in data.items() if k not in ("metric", "met")}
        return cls(data.get("metric"), bool(data.get("met")), rest)

    @property
    def agree(self) -> bool:
        """The emulator equals the C simulation on every value."""
        return bool(self.comparison.get("agree"))

    @property
    def identical(self) -> int:
        return int(self.comparison.get("identical") or 0)

    @property
    def n_values(self) -> int:
        return int(self.comparison.get("n_values") or 0)

    @property
    def hls_tool(self) -> str:
        return str(self.comparison.get("hls_tool", "gxx"))


@dataclass
class TuningRecord:
    """Everything one tuning run records (the content of ``tuning.json``).

    Mutable where the workflow completes it after the search: ``model``, ``run``, ``csim``,
    ``profiles``, ``config_left``.
    """

    config: dict
    target: str
    objective: str
    final: Final  # written as "result"
    baselines: dict[str, Measured | None]  # None: that baseline found no config
    candidates: list[CandidateRecord]
    search_target: str = ""
    split: Split = field(default_factory=Split)
    float_reference: FloatReference = field(default_factory=FloatReference)
    ranges: RecordedRanges = field(default_factory=RecordedRanges)
    interrupted: bool = False
    seconds: float | None = None
    evaluations_per_second: float = 0.0
    csim: CsimCheck | None = None
    profiles: dict | None = None
    model: str = ""
    timed_out: bool = False
    judged: int = 0  # distinct candidates judged in all (the progress count): range rule too
    run: str = ""  # the run's name, also in the first line of the config it wrote
    config_left: str = ""  # an earlier run's config left at -o when this run wrote none
    schema_version: int = SCHEMA_VERSION

    _RENAMED: ClassVar[dict[str, str]] = {"final": "result"}

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``tuning.json`` (NaN allowed, as `json.dumps` writes it)."""
        return {
            self._RENAMED.get(f.name, f.name): _plain(getattr(self, f.name))
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "the data") -> TuningRecord:
        """The record in ``data`` (parsed JSON, or a record: itself); `DataError` naming what is
        wrong otherwise."""
        if isinstance(data, TuningRecord):
            return data
        _check(data, source)
        model = data.get("model") or ""
        if isinstance(model, Mapping):  # an early form: {"name", "path"}
            model = model.get("name") or model.get("path") or ""
        candidates = [CandidateRecord(**_known(CandidateRecord, c)) for c in data["candidates"]]
        parts = {
            "config": dict(data.get("config") or {}),
            "final": Final.from_json(data["result"]),
            "baselines": {k: Measured.from_json(v) for k, v in data["baselines"].items()},
            "candidates": candidates,
            "split": _read(Split, data.get("split")),
            "float_reference": _read(FloatReference, data.get("float_reference")),
            "ranges": _read(RecordedRanges, data.get("ranges")),
            "csim": CsimCheck.from_json(data.get("csim")),
            "model": str(model),
            "schema_version": SCHEMA_VERSION,
        }
        return cls(**_known(cls, data) | parts)

    @property
    def parsed_target(self) -> Target:
        return Target.parse(self.target)

    @property
    def met(self) -> bool:
        """A config is recommended and it meets the target on the validation data too."""
        return self.final.met and bool(self.final.met_validation)


def _check(data: Any, source: str) -> None:
    """Refuse what is not a tuning record, naming the first thing wrong."""
    if not isinstance(data, Mapping):
        raise DataError(f"{source} is not a tuning record (a JSON object is expected); {_HINT}")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise DataError(
            f"{source} is not a tuning record: missing {', '.join(map(repr, missing))}; {_HINT}"
        )
    try:
        Target.parse(data["target"])
    except ConfigError as exc:
        raise DataError(f"{source}: 'target': {exc}; {_HINT}") from exc
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise DataError(
            f"{source}: schema_version {version!r} is newer than this aptune reads "
            f"({SCHEMA_VERSION}); update aptune"
        )
    result = data["result"]
    if not isinstance(result, Mapping) or "met" not in result:
        raise DataError(f"{source}: 'result' must be an object with 'met'; {_HINT}")
    for key, kind, name in (("baselines", Mapping, "an object"), ("candidates", list, "a list")):
        if not isinstance(data[key], kind):
            raise DataError(f"{source}: '{key}' must be {name}; {_HINT}")
    for i, c in enumerate(data["candidates"]):
        lacking = [k for k in _CANDIDATE_KEYS if not isinstance(c, Mapping) or k not in c]
        if lacking:
            raise DataError(
                f"{source}: candidate {i} lacks {', '.join(map(repr, lacking))}; {_HINT}"
            )
