"""One cast/overflow protocol: layers cast and count through `Caster`, never the `Context`.

`emulation.layers.exact.Caster` names the cast points (``"<node>.<name>"``) and skips the
counting without a context; a layer calling ``ctx.cast``/``ctx.record`` itself would grow a
second spelling of both.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from emulation.fixed import FixedType
from emulation.layers.base import Context
from emulation.layers.exact import Caster

LAYERS = Path(__file__).resolve().parents[2] / "emulation" / "layers"
# the protocol's own homes: the Context and the Caster that wraps it
ALLOWED = {"base.py", "exact.py"}
CONTEXT_METHODS = {"cast", "record", "count"}


def direct_context_calls(source: str) -> list[str]:
    """``line: call`` of each ``ctx.cast(``/``ctx.record(``/``ctx.count(`` in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = node.func.value
        is_ctx = (isinstance(receiver, ast.Name) and receiver.id == "ctx") or (
            isinstance(receiver, ast.Attribute) and receiver.attr == "ctx"
        )
        if is_ctx and node.func.attr in CONTEXT_METHODS:
            found.append(f"{node.lineno}: {ast.unparse(node.func)}(...)")
    return found


def test_no_layer_calls_the_context_directly():
    offenders = {
        path.name: calls
        for path in sorted(LAYERS.glob("*.py"))
        if path.name not in ALLOWED and (calls := direct_context_calls(path.read_text()))
    }
    assert not offenders, f"cast through emulation.layers.exact.Caster instead: {offenders}"


def test_the_check_finds_a_direct_call():
    source = (
        "def adapter(node, inputs, ctx):\n"
        "    y = ctx.cast(inputs[0], node.types['result_t'], node.name)\n"
        "    self.ctx.record('p', y > 0, 1.0)\n"
        "    return cast(y, t, 'result_t')\n"
    )
    assert direct_context_calls(source) == ["2: ctx.cast(...)", "3: self.ctx.record(...)"]


def test_caster_records_under_the_node_and_passes_source_through():
    ctx = Context()
    cast = Caster(ctx, "d")
    t = FixedType(8, 3)
    x = np.array([0.25, 100.0])
    y = cast(x, t, "result_t")
    cast.record("accum_t", np.array([True, False, False]), 2.5)
    cast.record_raw("accum_t", np.array([False]), np.array([-12], dtype=np.int64), 2)
    # t holds every value of a narrower source: the cast is the identity, counted as such
    same = cast(np.array([1.5]), t, "ident_t", source=FixedType(4, 2))
    assert y.tolist() == t.quantize(x).tolist() == [0.25, -4.0]  # 100 wraps (AP_WRAP)
    assert same.tolist() == [1.5]
    points = {k: (p.count, p.total, p.max_abs) for k, p in ctx.points.items()}
    assert points == {
        "d.result_t": (1, 2, 100.0),
        "d.accum_t": (1, 4, 3.0),
        "d.ident_t": (0, 1, 1.5),
    }


def test_caster_without_context_only_quantizes():
    cast = Caster()
    cast.record("accum_t", np.array([True]), 1.0)  # nothing to count into: no error
    assert cast(np.array([0.3]), FixedType(8, 3), "result_t").tolist() == [0.28125]  # AP_TRN
