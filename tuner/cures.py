"""Why a candidate that meets the metric is refused, and the move that cures it where it is.

A refusal names a place: a check finding names a layer (``softmax-resolution at dense_3``), an
overflow names a cast point (``wrap at dense_1.result_t``). Adding fractional bits everywhere
cures none of them (the MNIST MLP's start candidate was refused for its softmax fourteen times
while every type grew to 24 fractional bits); the move that does is local:

- ``softmax-resolution``: a larger exp table (``TableSize`` x4, up to what the index type can
  address and hls4ml's 65,536), and two more fractional bits on the softmax's input when the
  index type is what limits the table;
- ``wrap`` or ``saturation`` at a searched point: one integer bit more there; at a stable
  softmax's ``inp_norm_t`` (``x_max - x``): one integer bit more on the softmax's input;
- ``weight-overflow``: one integer bit more on that layer's weights and biases;
- ``weight-zeroed`` (most of a layer's weights round to zero): four fractional bits more on its
  weights and biases.

Anything else (a tied top class, a finding of another kind) has no local cure: the refusal
stands and the search treats the candidate as missing the target.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from emulation.fixed import FixedType
from emulation.layers.base import Graph
from tuner.space import Candidate, Point

__all__ = [
    "MAX_CURES",
    "MAX_TABLE",
    "MISS",
    "Cures",
    "Refusal",
    "cure_until_clean",
    "resolving_table",
]

# hls4ml's largest softmax table (it caps the exp table at 2^16 entries).
MAX_TABLE = 1 << 16
# Cures tried in a row on one candidate before its refusal stands.
MAX_CURES = 8
# Fractional bits a layer's weights and biases gain when most of them round to zero (as
# `aptune check` suggests; the descent takes back what the target does not need).
ZEROED_BITS = 4
# The exp-table step a start candidate gets: finer than `aptune check`'s warning (1/8), so
# that near-tied logits (random or hard inputs) are told apart; `shrink_tables` takes back
# what the target does not need.
START_TABLE_STEP_BITS = 5


def resolving_table(feeder_t: FixedType, default: int) -> int:
    """A stable softmax's exp ``TableSize`` for input type ``feeder_t``: a step of 2^-5 on
    the normalised input (``inp_norm_t``, one integer bit fewer), at most what its ``W - 1``
    top bits address and hls4ml's 65,536, never below ``default``."""
    bits = max(0, feeder_t.integer - 1 + START_TABLE_STEP_BITS)
    bits = min(bits, max(0, feeder_t.width - 1), MAX_TABLE.bit_length() - 1)
    return max(default, 1 << bits)


@dataclass(frozen=True)
class Refusal:
    """Why a candidate that meets the metric is refused: a check finding's ``code`` (with the
    layer it names) or an overflow (``wrap``, ``saturation``, with the cast point)."""

    code: str
    at: str
    text: str

    def __str__(self) -> str:
        return self.text


# Not a refusal: the metric missed. Its cure is the softmax tables (`Cures._larger_tables`),
# tried before bits are added everywhere.
MISS = Refusal("metric-miss", "", "the metric misses the target")


class Cures:
    """Maps a `Refusal` of a candidate to the candidate with the local cure applied."""

    def __init__(self, graph: Graph, searched: Collection[Point]):
        self.graph = graph
        self.searched = frozenset(searched)

    def __call__(self, c: Candidate, refusal: Refusal) -> Candidate | None:
        """The cured candidate, or None when nothing local cures ``refusal``."""
        if refusal.code == MISS.code:
            return self._larger_tables(c)
        if refusal.code == "softmax-resolution":
            return self._larger_table(c, refusal.at)
        if refusal.code == "weight-overflow":
            points = [Point(refusal.at, t) for t in ("weight_t", "bias_t")]
            return _more_integer(c, [p for p in points if p in self.searched])
        if refusal.code == "weight-zeroed":
            points = [Point(refusal.at, t) for t in ("weight_t", "bias_t")]
            return _more_fractional(c, [p for p in points if p in self.searched], ZEROED_BITS)
        if refusal.code in ("wrap", "saturation"):
            layer, _, type_name = refusal.at.rpartition(".")
            point = Point(layer, type_name)
            if point in self.searched:
                return _more_integer(c, [point])
            if type_name == "inp_norm_t":
                return _more_integer(c, [p for p in [self._feeder(layer)] if p in self.searched])
        return None

    def _larger_tables(self, c: Candidate) -> Candidate | None:
        """Every stable softmax's table 4x larger (where it can grow): near-tied logits that
        the table cannot tell apart limit the metric whatever the other types."""
        grown = c
        for node in self.graph.nodes:
            if node.kind == "Softmax" and node.attrs.get("implementation", "stable") == "stable":
                bigger = self._larger_table(grown, node.name)
                if bigger is not None:
                    grown = bigger
        return None if grown == c else grown

    def _feeder(self, layer: str) -> Point | None:
        node = self.graph.node(layer)
        return Point(node.inputs[0], "result_t") if node.inputs else None

    def _larger_table(self, c: Candidate, layer: str) -> Candidate | None:
        node = self.graph.node(layer)
        attrs = node.attrs
        size = dict(c.table_sizes).get(
            layer, int(attrs.get("exp_table_size", attrs.get("table_size", 1024)))
        )
        feeder = self._feeder(layer)
        feeder_t = c.type_map.get(feeder) if feeder is not None else None
        if feeder_t is None:
            feeder_t = node.input_types[0] if node.input_types else None
        # the stable softmax indexes its table by the top bits of inp_norm_t, W - 1 bits wide
        addressable = 1 << max(0, (feeder_t.width - 1 if feeder_t else 16))
        grown = min(size * 4, MAX_TABLE)
        sizes = dict(c.table_sizes)
        if grown <= size:
            return None
        if grown <= addressable:
            sizes[layer] = grown
            return Candidate.of(c.type_map, sizes)
        if feeder is None or feeder not in self.searched or feeder_t is None:
            return None
        t = feeder_t
        wider = FixedType(t.width + 2, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits)
        sizes[layer] = grown
        return Candidate.of(c.type_map | {feeder: wider}, sizes)


def _more_fractional(c: Candidate, points: list[Point], bits: int) -> Candidate | None:
    """``bits`` fractional bits more at each of ``points``, integer bits kept."""
    if not points:
        return None
    return c.with_types(
        (p, FixedType(t.width + bits, t.integer, t.signed, t.rounding, t.overflow, t.sat_bits))
        for p, t in ((p, c[p]) for p in points)
    )


def _more_integer(c: Candidate, points: list[Point]) -> Candidate | None:
    """One integer bit more at each of ``points``, fractional bits kept."""
    if not points:
        return None
    return c.with_types(
        (p, FixedType(t.width + 1, t.integer + 1, t.signed, t.rounding, t.overflow, t.sat_bits))
        for p, t in ((p, c[p]) for p in points)
    )


def cure_until_clean(
    judge: Callable[[Candidate], tuple[bool, Refusal | None]],
    candidate: Candidate,
    cures: Callable[[Candidate, Refusal], Candidate | None],
    limit: int = MAX_CURES,
) -> Candidate:
    """Apply cures while ``candidate`` is refused (at most ``limit``): the first candidate that
    is not refused, or the last one tried. ``judge`` says (met, refusal) of a candidate."""
    for _ in range(limit):
        _, refusal = judge(candidate)
        if refusal is None:
            return candidate
        cured = cures(candidate, refusal)
        if cured is None or cured == candidate:
            return candidate
        candidate = cured
    return candidate
