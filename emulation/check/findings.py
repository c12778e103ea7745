"""The plain data `aptune check` returns: findings, layer rows, and the result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["SEVERITIES", "CheckResult", "Finding", "LayerRow"]

SEVERITIES = ("note", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One thing the config does that the user may not expect.

    ``code`` names the check (``ignored-key``, ``softmax-resolution``, ...) so tools and tests
    can select findings; ``fix`` is written in the config's own syntax; ``point`` names the cast
    point (``"<layer>.<type name>"``) an overflow finding is about, so reports can mark it.
    """

    severity: str
    code: str
    layer: str | None
    message: str
    fix: str = ""
    point: str | None = None


@dataclass(frozen=True)
class LayerRow:
    """One generated layer: its types (with their origin), table sizes, strategy, reuse."""

    name: str
    kind: str
    input_type: str | None
    types: dict[str, dict[str, str]]
    table_sizes: dict[str, int]
    strategy: str | None
    reuse_factor: int | None


@dataclass
class CheckResult:
    """Layers, findings and (with data) measurements; ``to_dict()`` is JSON-ready."""

    layers: list[LayerRow]
    findings: list[Finding]
    data: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        """Number of findings per severity."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    @property
    def worst(self) -> str | None:
        """The highest severity found, or None."""
        found = [SEVERITIES.index(f.severity) for f in self.findings]
        return SEVERITIES[max(found)] if found else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "layers": [dataclasses.asdict(r) for r in self.layers],
            "findings": [dataclasses.asdict(f) for f in self.findings],
            "data": self.data,
        }
