"""Resumable tuning: every emulator run recorded as it arrives, replayed on a rerun.

A checkpoint is an append-only JSON-lines file: a header naming the job (a hash of the model,
the data and every option that decides which candidates are evaluated and how they are
judged), then one line per emulation, flushed and fsync'd as its result arrives. Each line is
keyed by a hash of what determines that emulation (the graph, the reference data, the metric,
the watched points, strictness), so a rerun of the same command asks the emulator for nothing it
recorded, takes the same decisions from the same numbers and ends with the same config. A
process killed mid-write leaves at most one partial last line, which is dropped.

The evaluator uses the checkpoint entered with ``with checkpoint:`` (a context variable, like
``joblib.parallel_config``), so a library user resumes the same way as the command line::

    with Checkpoint.open("run.ckpt", job_key(model, x, labels, options)):
        tune(model, x, labels, options)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emulation.errors import ConfigError
from emulation.layers.base import Graph
from tuner.active import Active
from tuner.cures import Refusal

__all__ = ["Checkpoint", "active", "emulation_key", "graph_digest", "job_key"]

FORMAT = "aptune-checkpoint/1"
# options that change neither which candidates a run evaluates nor how they are judged: a
# rerun with more workers or a longer time limit resumes the same job
UNKEYED_OPTIONS = frozenset({"jobs", "time_limit"})

# node attributes that differ between processes and that the emulator never reads: Keras
# numbers its tensors per process (``keras_tensor_3`` in one, ``keras_tensor_6`` in the next)
BOOKKEEPING_ATTRS = frozenset({"input_keras_tensor_names", "output_keras_tensor_names"})

Outcome = tuple[float, Refusal | None, float]  # metric, refusal, emulator seconds


def active() -> Checkpoint | None:
    """The checkpoint entered with ``with checkpoint:`` (None outside one)."""
    return Checkpoint.current()


def _feed_array(h: Any, a: np.ndarray | None) -> None:
    if a is None:
        h.update(b"none")
        return
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


def graph_digest(graph: Graph) -> str:
    """A hash of everything the emulator reads from ``graph``: the same in every process (not
    the float weights hls4ml held before writing them, which only profiling reads, nor
    `BOOKKEEPING_ATTRS`)."""
    h = hashlib.blake2b(digest_size=16)
    for n in graph.nodes:
        h.update(repr((n.name, n.kind, n.inputs, tuple(n.output_shape))).encode())
        attrs = ((k, repr(v)) for k, v in n.attrs.items() if k not in BOOKKEEPING_ATTRS)
        h.update(repr(sorted(attrs)).encode())
        h.update(repr(sorted((k, str(t)) for k, t in n.types.items())).encode())
        h.update(repr(tuple(str(t) for t in n.input_types)).encode())
        for name in sorted(n.weights):
            h.update(name.encode())
            _feed_array(h, np.asarray(n.weights[name]))
    h.update(repr((graph.inputs, graph.outputs)).encode())
    return h.hexdigest()


def array_digest(*arrays: np.ndarray | None) -> str:
    """A hash of arrays' dtypes, shapes and bytes."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        _feed_array(h, a)
    return h.hexdigest()


def emulation_key(graph_hash: str, ref_hash: str, metric: str, watched, strict: bool) -> str:
    """The key of one emulation: what decides `tuner.evaluate.emulated_metric`'s result."""
    text = json.dumps([graph_hash, ref_hash, metric, sorted(watched), bool(strict)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def job_key(model, x: np.ndarray, labels: np.ndarray | None, options: Any) -> str:
    """A hash of what determines a tuning run's evaluations: the model's architecture and
    weights, the data, the labels and the options (all but `UNKEYED_OPTIONS`)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(model.to_json().encode())
    for w in model.get_weights():
        _feed_array(h, np.asarray(w))
    _feed_array(h, np.asarray(x))
    _feed_array(h, None if labels is None else np.asarray(labels))
    fields = {k: v for k, v in dataclasses.asdict(options).items() if k not in UNKEYED_OPTIONS}
    h.update(json.dumps(fields, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _encode(key: str, outcome: Outcome) -> str:
    metric, refusal, seconds = outcome
    record = {
        "k": key,
        # repr round-trips a float exactly; NaN (a config hls4ml cannot realise) as null
        "m": None if math.isnan(metric) else metric,
        "r": None if refusal is None else [refusal.code, refusal.at, refusal.text],
        "s": round(seconds, 6),
    }
    return json.dumps(record, separators=(",", ":"))


def _decode(record: Mapping) -> tuple[str, Outcome]:
    metric = math.nan if record["m"] is None else float(record["m"])
    refusal = None if record["r"] is None else Refusal(*record["r"])
    return record["k"], (metric, refusal, float(record["s"]))


class Checkpoint(Active):
    """An append-only record of emulations for one job (see the module docstring)."""

    def __init__(self, path: Path, job: str, entries: dict[str, Outcome], note: str = ""):
        self.path, self.job = path, job
        self._entries = entries
        self.resumed = len(entries)  # entries found when it was opened
        self.recorded = 0  # entries appended since
        self.note = note  # one line for the user: resumed, or started afresh and why
        self._file = None

    @classmethod
    def open(cls, path: str | Path, job: str, *, replace_foreign: bool = False) -> Checkpoint:
        """Open (or create) ``path`` for job ``job``.

        A checkpoint of another job (another model, data or options) raises a one-line
        `ConfigError`, or with ``replace_foreign`` (the command's default location, which every
        run of that output shares) is started afresh, said in `note`.
        """
        path = Path(path)
        try:
            return cls._open(path, job, replace_foreign)
        except OSError as exc:
            raise ConfigError(
                f"cannot use checkpoint {path} ({exc.strerror}): pass another --checkpoint FILE"
            ) from None

    @classmethod
    def _open(cls, path: Path, job: str, replace_foreign: bool) -> Checkpoint:
        entries: dict[str, Outcome] = {}
        note = ""
        lines = _read_lines(path)
        if lines:
            header = _parse(lines[0])
            if header is None or header.get("format") != FORMAT:
                raise ConfigError(
                    f"{path} is not an aptune checkpoint: pass another --checkpoint FILE"
                )
            if header.get("job") != job:
                if not replace_foreign:
                    raise ConfigError(
                        f"checkpoint {path} belongs to another tuning job (the model, data or "
                        "options differ): delete it or pass another --checkpoint FILE"
                    )
                note = (
                    f"checkpoint {path} was from another tuning job (the model, data or "
                    "options differ); started afresh"
                )
                lines = []
                path.unlink()
            for line in lines[1:]:
                record = _parse(line)
                if record is not None:
                    key, outcome = _decode(record)
                    entries[key] = outcome
        cp = cls(path, job, entries, note)
        if entries:
            cp.note = f"resuming from checkpoint {path}: {len(entries)} evaluation(s) recorded"
        cp._start(header_needed=not lines, valid_bytes=_valid_length(path))
        return cp

    def _start(self, header_needed: bool, valid_bytes: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a+b")
        # a partial last line (a process killed mid-write) is cut before appending
        self._file.truncate(valid_bytes)
        self._file.seek(0, os.SEEK_END)
        if header_needed:
            self._append([json.dumps({"format": FORMAT, "job": self.job})])

    def _append(self, lines: Iterable[str]) -> None:
        self._file.write("".join(f"{line}\n" for line in lines).encode())
        self._file.flush()
        os.fsync(self._file.fileno())

    def get(self, key: str) -> Outcome | None:
        """The recorded outcome of an emulation (None if it was never recorded)."""
        return self._entries.get(key)

    def record(self, items: Mapping[str, Outcome]) -> None:
        """Append the outcomes that just arrived, and make them durable before returning."""
        new = {k: v for k, v in items.items() if k not in self._entries}
        if not new:
            return
        self._entries.update(new)
        self._append(_encode(k, v) for k, v in new.items())
        self.recorded += len(new)

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _parse(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _read_lines(path: Path) -> list[str]:
    """The complete lines of ``path`` (a partial last line is left out)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    return data[: _complete(data)].decode(errors="replace").splitlines()


def _complete(data: bytes) -> int:
    return data.rfind(b"\n") + 1


def _valid_length(path: Path) -> int:
    return _complete(path.read_bytes()) if path.exists() else 0
