"""`FixedType.holds`, on which the emulator skips casts: exactly when every value of the source
type converts to itself without an overflow flag; and `Context.cast` with a source type records
what the cast itself would."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers.base import Context

SMALL = [
    FixedType.parse(t)
    for t in (
        "ap_fixed<4,2>",
        "ap_fixed<6,2>",
        "ap_fixed<6,3,AP_RND,AP_SAT>",
        "ap_fixed<6,3,AP_TRN,AP_SAT_SYM>",
        "ap_fixed<5,-1>",
        "ap_fixed<7,4,AP_RND_CONV,AP_WRAP,1>",
        "ap_ufixed<4,2>",
        "ap_ufixed<5,3,AP_RND,AP_SAT>",
        "ap_int<4>",
        "ap_uint<6>",
        "ap_fixed<1,1>",
    )
]


def _every_value(t: FixedType) -> np.ndarray:
    """Every value of t's two's-complement range, SAT_SYM's -2^(W-1) included."""
    low = -(1 << (t.width - 1)) if t.signed else 0
    return np.ldexp(np.arange(low, low + (1 << t.width), dtype=np.float64), -t.fractional)


@pytest.mark.parametrize(("target", "source"), list(itertools.product(SMALL, SMALL)))
def test_holds_exactly_when_every_value_casts_to_itself(target, source):
    v = _every_value(source)
    y, over = target.quantize(v, return_overflow=True)
    identity = bool(np.array_equal(y, v) and not over.any())
    assert target.holds(source) == identity, (str(target), str(source))


def test_a_held_cast_records_what_the_cast_would():
    """Skipped or not, the point counts the same totals, overflows and largest |value|."""
    source = FixedType.parse("ap_fixed<6,2>")
    x = _every_value(source)
    for text in ("ap_fixed<9,4,AP_RND,AP_SAT>", "ap_fixed<5,1>"):
        target = FixedType.parse(text)
        skipped, cast = Context(), Context()
        y = skipped.cast(x, target, "p", source=source)
        assert np.array_equal(y, cast.cast(x, target, "p"))
        assert skipped.points == cast.points
    assert cast.points["p"].count > 0  # the second target does not hold the source


@pytest.mark.parametrize("act", ["relu", "linear"])
@pytest.mark.parametrize("result", ["ap_ufixed<5,1>", "ap_ufixed<4,1>", "ap_fixed<6,2>"])
def test_plain_activations_skip_only_casts_that_change_nothing(act, result):
    """relu / linear through the adapter (which may skip the cast) equal the functions that
    always cast, values and overflow accounting; relu's values are data_T's non-negative part,
    so ap_ufixed<5,1> holds relu of ap_fixed<6,2>."""
    from emulation.layers import activation
    from emulation.layers.base import Node
    from emulation.layers.exact import Caster

    data_t, result_t = FixedType.parse("ap_fixed<6,2>"), FixedType.parse(result)
    x = _every_value(data_t)[None]
    node = Node(
        "a", "Activation", ("d",), (x.shape[1],), attrs={"activation": act},
        types={"result_t": result_t}, input_types=(data_t,),
    )  # fmt: skip
    ctx, ref = Context(), Context()
    got = activation._activation_adapter(node, [x], ctx)
    want = getattr(activation, act)(x, result_t=result_t, cast=Caster(ref, "a"))
    assert np.array_equal(got, want)
    assert ctx.points == ref.points
