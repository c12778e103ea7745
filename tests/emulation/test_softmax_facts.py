"""The softmax config facts of DESIGN.md, against hls4ml's C simulation: which Precision
entries and type keys reach the tables, how TableSize sets both tables and the inversion size
limits the exp one, an explicit exp table size is ignored, and the accumulator is the model
default unless set."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.fixed import FixedType
from emulation.layers import softmax as sm
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim
from tests.support.models import MODEL_SAMPLES, model_inputs
from tests.support.nnet_harness import assert_exact
from tests.support.softmax_specs import RND_SAT

T = FixedType.parse


def facts_model(seed: int = 2) -> object:
    """Two Dense layers (14 and 10 bits wide results) feeding the softmax layers of
    `FACTS_CONFIG`, each probing one config fact."""
    import keras

    rng = np.random.default_rng(seed)
    layers = keras.layers
    inp = keras.Input((8,), name="x_in")
    wide, narrow = layers.Dense(10, name="wide"), layers.Dense(10, name="narrow")
    hw, hn = wide(inp), narrow(inp)
    wide.set_weights([rng.uniform(-1.0, 1.0, (8, 10)), rng.normal(0.0, 0.5, 10)])
    narrow.set_weights([rng.uniform(-1.0, 1.0, (8, 10)), rng.normal(0.0, 0.5, 10)])
    names_wide = (
        "prec_ignored",
        "keys_work",
        "table_size",
        "inv_size",
        "accum_prec",
        "accum_key",
        "accum_default",
    )
    outs = [layers.Activation("softmax", name=n)(hw) for n in names_wide]
    outs.append(layers.Activation("softmax", name="exp_size_ignored")(hn))
    return keras.Model(inp, outs)


NARROW_EXP = "ap_fixed<8,2,AP_RND,AP_SAT>"
NARROW_INV = "ap_fixed<8,4,AP_RND,AP_SAT>"
NARROW_INV_INP = "ap_fixed<8,5,AP_RND,AP_SAT>"
NARROW_ACC = "ap_fixed<9,5,AP_RND,AP_SAT>"
MODEL_DEFAULT = "ap_fixed<16,6>"
FINE_EXP = "ap_fixed<18,2,AP_RND,AP_SAT>"
NARROW_TABLES = {
    "exp_table_t": NARROW_EXP,
    "inv_table_t": NARROW_INV,
    "inv_inp_t": NARROW_INV_INP,
    "exp_table_size": 256,
    "inv_table_size": 256,
}

FACTS_CONFIG = {
    "Model": {"Precision": MODEL_DEFAULT, "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "wide": {"Precision": {"result": "ap_fixed<14,5>"}},
        "narrow": {"Precision": {"result": "ap_fixed<10,4>"}},
        "prec_ignored": {
            "Precision": {
                "exp_table": NARROW_EXP,
                "inv_table": NARROW_INV,
                "inv_inp": NARROW_INV_INP,
            }
        },
        "keys_work": {
            "exp_table_t": NARROW_EXP,
            "inv_table_t": NARROW_INV,
            "inv_inp_t": NARROW_INV_INP,
        },
        "table_size": {"TableSize": 256},
        "inv_size": {"InvTableSize": 64},
        "accum_prec": {"Precision": {"accum": NARROW_ACC}},
        "accum_key": {"accum_t": NARROW_ACC},
        # finer exp table entries than the model default keeps: the accumulator's cast shows
        "accum_default": {"exp_table_t": FINE_EXP},
        "exp_size_ignored": {"ExpTableSize": 64},
    },
}


@pytest.fixture(scope="module")
def facts() -> tuple:
    """The facts model, its C simulation trace, and a stable-softmax emulation helper."""
    model = facts_model()
    X = model_inputs(seed=3)
    em, _, th = assert_equal_to_csim(model, FACTS_CONFIG, X, same_layers=True)

    def emulate(layer: str, source: str, data_t: str, **over: object) -> np.ndarray:
        x = th[source].reshape(MODEL_SAMPLES, -1)
        dt = T(data_t)
        kwargs = {
            "data_t": dt,
            "inp_norm_t": sm.softmax_sizes({}, dt)["inp_norm_t"],
            "exp_table_t": RND_SAT,
            "exp_table_size": 1024,
            "inv_inp_t": RND_SAT,
            "inv_table_t": RND_SAT,
            "inv_table_size": 1024,
            "accum_t": T(MODEL_DEFAULT),
            "result_t": T(MODEL_DEFAULT),
        }
        kwargs.update({k: T(v) if isinstance(v, str) else v for k, v in over.items()})
        return sm.softmax_stable(x, **kwargs)

    return em, th, emulate


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    return not np.array_equal(a, b)


@pytest.mark.csim
@requires_gxx
def test_softmax_precision_entries_are_ignored(facts: tuple) -> None:
    """``Precision: {exp_table, inv_table, inv_inp}`` leave the tables ap_fixed<18,8,RND,SAT>."""
    em, th, emulate = facts
    node = em.graph.node("prec_ignored")
    assert all(node.types[k] == RND_SAT for k in ("exp_table_t", "inv_table_t", "inv_inp_t"))
    assert_exact(
        emulate("prec_ignored", "wide", "ap_fixed<14,5>"),
        th["prec_ignored"],
        "prec_ignored with default tables",
    )
    # as if written: 8-bit tables, which hls4ml would also shrink to 2^8 entries
    written = emulate("prec_ignored", "wide", "ap_fixed<14,5>", **NARROW_TABLES)
    assert _differs(written, th["prec_ignored"])


@pytest.mark.csim
@requires_gxx
def test_softmax_type_keys_set_the_tables(facts: tuple) -> None:
    """``exp_table_t``, ``inv_table_t``, ``inv_inp_t`` as layer keys change the C simulation.

    hls4ml's ``fix_softmax_table_size`` also lowers the table size to 2^8, the width of the
    written ``inv_table_t`` (the input's 14 bits would allow 2^14).
    """
    em, th, emulate = facts
    node = em.graph.node("keys_work")
    assert node.types["inv_table_t"] == T(NARROW_INV) and int(node.attrs["table_size"]) == 256
    written = emulate("keys_work", "wide", "ap_fixed<14,5>", **NARROW_TABLES)
    assert_exact(written, th["keys_work"], "keys_work with the written tables")
    assert _differs(emulate("keys_work", "wide", "ap_fixed<14,5>"), th["keys_work"])


@pytest.mark.csim
@requires_gxx
def test_table_size_sets_both_tables_and_inv_size_limits_the_exp_one(facts: tuple) -> None:
    """``TableSize`` sets both sizes; ``InvTableSize`` the inverse one, and the exp size becomes
    min(inverse size, 2^(W-1)) (64 here, not 1024)."""
    _, th, emulate = facts
    both = emulate("table_size", "wide", "ap_fixed<14,5>", exp_table_size=256, inv_table_size=256)
    assert_exact(both, th["table_size"], "TableSize 256")
    assert _differs(emulate("table_size", "wide", "ap_fixed<14,5>"), th["table_size"])
    inv = emulate("inv_size", "wide", "ap_fixed<14,5>", exp_table_size=64, inv_table_size=64)
    assert_exact(inv, th["inv_size"], "InvTableSize 64")
    assert _differs(
        emulate("inv_size", "wide", "ap_fixed<14,5>", inv_table_size=64), th["inv_size"]
    )


@pytest.mark.csim
@requires_gxx
def test_explicit_exp_table_size_is_ignored(facts: tuple) -> None:
    """``ExpTableSize: 64`` on an ap_fixed<10,4> input: the C++ uses min(1024, 2^9) = 512."""
    _, th, emulate = facts
    used = emulate("exp_size_ignored", "narrow", "ap_fixed<10,4>", exp_table_size=512)
    assert_exact(used, th["exp_size_ignored"], "exp size 512")
    written = emulate("exp_size_ignored", "narrow", "ap_fixed<10,4>", exp_table_size=64)
    assert _differs(written, th["exp_size_ignored"])


@pytest.mark.csim
@requires_gxx
def test_accumulator_is_the_model_default_unless_set(facts: tuple) -> None:
    """No accum setting: the model default (not the attribute's ap_fixed<18,8,RND,SAT>);
    ``Precision: {accum}`` and ``accum_t`` both set it."""
    em, th, emulate = facts
    assert em.graph.node("accum_default").types["accum_t"] == T(MODEL_DEFAULT)
    fine = {"exp_table_t": FINE_EXP}
    assert_exact(
        emulate("accum_default", "wide", "ap_fixed<14,5>", **fine),
        th["accum_default"],
        "accum = model default",
    )
    assert _differs(
        emulate("accum_default", "wide", "ap_fixed<14,5>", accum_t=RND_SAT, **fine),
        th["accum_default"],
    )
    for layer in ("accum_prec", "accum_key"):
        assert_exact(
            emulate(layer, "wide", "ap_fixed<14,5>", accum_t=NARROW_ACC),
            th[layer],
            f"{layer}: accum {NARROW_ACC}",
        )
        assert _differs(emulate(layer, "wide", "ap_fixed<14,5>"), th[layer])
