"""The spellings hls4ml 1.3 accepts that the emulator used to refuse, against the C simulation.

- ``Activation('leaky_relu')`` and ``activation='leaky_relu'`` (a ``ParametrizedActivation``
  named ``leaky_relu``, not ``leakyrelu``), and the ELU spelled the same ways;
- a softmax configured with ``Strategy: stable|argmax|legacy`` (hls4ml's own test_softmax.py):
  hls4ml accepts it and keeps the implementation ``Implementation`` says (``stable``).

One model, compiled under a narrow and a wide config (two compiles), carries every case.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim
from tests.support.models import model_inputs

N = 600
SOFTMAX_STRATEGIES = {"sm_argmax": "argmax", "sm_stable": "Stable", "sm_legacy": "legacy"}


def spelling_model(seed: int = 3) -> object:
    """8 -> Dense ``d1`` (16) -> leaky_relu and elu spelled as Activation names, a Dense with
    ``activation='leaky_relu'``, and three softmaxes configured through Strategy."""
    import keras

    rng = np.random.default_rng(seed)
    layers = keras.layers
    inp = keras.Input((8,), name="x_in")
    d1 = layers.Dense(16, name="d1")
    h = d1(inp)
    d1.set_weights([rng.uniform(-1.0, 1.0, (8, 16)), rng.normal(0.0, 0.5, 16)])
    d2 = layers.Dense(6, activation="leaky_relu", name="d2")
    outs = [
        layers.Activation("leaky_relu", name="alrelu")(h),
        layers.Activation("elu", name="aelu")(h),
        d2(h),
    ]
    d2.set_weights([rng.uniform(-0.6, 0.6, (16, 6)), rng.normal(0.0, 0.5, 6)])
    small = layers.Dense(5, name="d3")
    logits = small(h)
    small.set_weights([rng.uniform(-0.5, 0.5, (16, 5)), rng.normal(0.0, 0.3, 5)])
    outs += [layers.Activation("softmax", name=name)(logits) for name in SOFTMAX_STRATEGIES]
    return keras.Model(inp, outs)


def _config(default: str, narrow: bool) -> dict:
    names: dict = {name: {"Strategy": s} for name, s in SOFTMAX_STRATEGIES.items()}
    if narrow:
        sat = "ap_fixed<8,3,AP_RND,AP_SAT>"
        names["alrelu"] = {"Precision": {"result": sat, "param": "ap_fixed<6,1,AP_RND>"}}
        names["aelu"] = {"Precision": {"result": sat}, "table_t": "ap_fixed<10,2,AP_RND>"}
        names["d2"] = {"Precision": {"accum": "ap_fixed<12,5,AP_RND,AP_SAT>"}}
        names["d2_leaky_relu"] = {"Precision": {"result": "ap_fixed<7,3,AP_RND_CONV,AP_SAT>"}}
        names["d3"] = {"Precision": {"result": "ap_fixed<10,4,AP_RND,AP_SAT>"}}
    return {
        "Model": {"Precision": default, "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": names,
    }


NARROW = _config("ap_fixed<10,4,AP_RND,AP_SAT>", narrow=True)
WIDE = _config("ap_fixed<32,12>", narrow=False)


@pytest.fixture(scope="module")
def model() -> object:
    return spelling_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.filterwarnings("ignore:.*is a softmax implementation")
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_spellings_match_csim(model: object, config: dict) -> None:
    """Activation('leaky_relu'), activation='leaky_relu', Activation('elu') and Strategy-
    configured softmaxes: every output and traced layer equals the C simulation."""
    em, te, _ = assert_equal_to_csim(model, config, model_inputs(N, 8, seed=5), same_layers=True)
    kinds = {n.name: (n.kind, n.attrs.get("activation")) for n in em.nodes}
    assert kinds["alrelu"] == ("ParametrizedActivation", "leaky_relu")
    assert kinds["d2_leaky_relu"] == ("ParametrizedActivation", "leaky_relu")
    assert kinds["aelu"] == ("ParametrizedActivation", "elu")
    # hls4ml keeps the stable softmax whatever the Strategy says: the argmax one is not one-hot
    assert {em.graph.node(n).attrs["implementation"] for n in SOFTMAX_STRATEGIES} == {"stable"}
    assert not np.isin(te["sm_argmax"], (0.0, 1.0)).all()
    # the leaky branch is really taken
    assert (te["alrelu"] < 0).any() and (te["d2_leaky_relu"] < 0).any()


def test_a_softmax_strategy_is_accepted_with_a_warning_naming_implementation() -> None:
    """``Strategy: argmax`` reads with one warning that says to write Implementation."""
    from emulation.config import read_config

    with pytest.warns(UserWarning, match=r"LayerName\.sm_argmax\.Strategy.*Implementation: argmax"):
        read_config(
            {
                "Model": {"Precision": "ap_fixed<16,6>"},
                "LayerName": {"sm_argmax": {"Strategy": "argmax"}},
            }
        )
