"""The search space: which precisions of which layers the tuner sets, and how they are written.

A `Point` is one cast point of the generated C++ (``"dense1.result_t"``), named like the
emulator's overflow accounting. A `Candidate` assigns a `FixedType` to every point (and a size to
every lookup table) and writes itself into an hls4ml config through the keys hls4ml really
honours: ``Precision: {weight, bias, result, accum, ...}`` for arithmetic types, and layer-level
``table_t``, ``exp_table_t``, ``inv_table_t``, ``inv_inp_t`` and ``TableSize`` for tables
(hls4ml silently ignores ``Precision: {table: ...}``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from emulation.config import LAYER_LEVEL_TYPES, set_type
from emulation.fixed import FixedType, Overflow

__all__ = ["TABLE_TYPES", "Candidate", "Point"]

# Types of lookup-table entries (the softmax's inv_inp_t is an input type, not a table).
TABLE_TYPES = LAYER_LEVEL_TYPES - {"inv_inp_t"}
# Types that are internal to hls4ml and never tuned.
UNTUNED_TYPES = frozenset({"index_t"})


@dataclass(frozen=True, order=True)
class Point:
    """One precision of one layer: ``Point("dense1", "result_t")``."""

    layer: str
    type_name: str

    @property
    def name(self) -> str:
        """``"<layer>.<type name>"``, the emulator's name of the cast point."""
        return f"{self.layer}.{self.type_name}"

    @property
    def is_table(self) -> bool:
        return self.type_name in TABLE_TYPES

    def write(self, layer_cfg: dict, t: FixedType) -> None:
        """Set ``t`` in one layer's config dict through the key hls4ml honours."""
        set_type(layer_cfg, self.type_name, t)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Candidate:
    """A full assignment of types to points, plus table sizes per layer.

    Immutable: moves return new candidates (`with_type`), so trajectories stay valid.
    """

    types: tuple[tuple[Point, FixedType], ...]
    table_sizes: tuple[tuple[str, int], ...] = field(default=())

    @classmethod
    def of(cls, types: Mapping[Point, FixedType], table_sizes: Mapping[str, int] | None = None):
        """Build from mappings; the order is canonical so equal candidates compare equal."""
        return cls(
            tuple(sorted(types.items())),
            tuple(sorted((table_sizes or {}).items())),
        )

    @property
    def type_map(self) -> dict[Point, FixedType]:
        return dict(self.types)

    def __getitem__(self, point: Point) -> FixedType:
        return self.type_map[point]

    def points(self) -> list[Point]:
        return [p for p, _ in self.types]

    def with_type(self, point: Point, t: FixedType) -> Candidate:
        """A new candidate with ``point`` set to ``t``."""
        types = self.type_map
        types[point] = t
        return Candidate.of(types, dict(self.table_sizes))

    def with_types(self, changes: Iterable[tuple[Point, FixedType]]) -> Candidate:
        types = self.type_map
        types.update(changes)
        return Candidate.of(types, dict(self.table_sizes))

    def to_config(self, template: Mapping) -> dict:
        """The hls4ml config: ``template`` (Model / LayerName) with every point written."""
        cfg = copy.deepcopy(dict(template))
        layers = cfg.setdefault("LayerName", {})
        for point, t in self.types:
            point.write(layers.setdefault(point.layer, {}), t)
        for layer, size in self.table_sizes:
            layers.setdefault(layer, {})["TableSize"] = int(size)
        return cfg

    def describe(self) -> dict[str, str]:
        """``{"dense1.result_t": "ap_fixed<8,3>", ...}``: compact, for tuning.json."""
        out = {p.name: t.to_hls() for p, t in self.types}
        out.update({f"{layer}.TableSize": str(size) for layer, size in self.table_sizes})
        return out


def narrower(t: FixedType) -> FixedType | None:
    """One fractional bit fewer (None when the type would have no bits left)."""
    if t.width <= 1:
        return None
    return FixedType(t.width - 1, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits)


def wider(t: FixedType) -> FixedType:
    """One fractional bit more."""
    return FixedType(t.width + 1, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits)


def clipped(t: FixedType) -> FixedType | None:
    """One integer bit fewer, saturating instead of wrapping (rare outliers clip)."""
    if t.width <= 1 or t.integer <= (1 if t.signed else 0) - 8:
        return None
    return FixedType(t.width - 1, t.integer - 1, t.signed, t.rounding, Overflow.SAT, 0)


def with_fractional(t: FixedType, fractional: int) -> FixedType:
    """``t`` with its integer bits kept and ``fractional`` fractional bits (width >= 1)."""
    width = max(t.integer + fractional, 1)
    return FixedType(width, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits)
