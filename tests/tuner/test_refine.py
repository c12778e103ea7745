"""After the descent: accumulators searched (by default; fewer fractional bits than their
products, each product rounded as the C++ casts it), kept only where they meet and cost less."""

from __future__ import annotations

import numpy as np
import pytest

from emulation.config import parse_precision as parse_type
from emulation.metrics import Target, evaluate
from emulation.model import EmulatedModel
from tuner.space import Point
from tuner.tune import TuneOptions, tune


@pytest.fixture(scope="module")
def digits():
    import keras

    from tests.conftest import REPO

    folder = REPO / "tuner" / "example"
    model = keras.models.load_model(folder / "digits_mlp.keras")
    return model, np.load(folder / "digits_x.npy").astype(np.float64)


@pytest.fixture(scope="module")
def both(digits):
    model, x = digits
    options = TuneOptions(target=Target("agreement", 0.99))
    plain = tune(model, x, None, TuneOptions(**{**options.__dict__, "search_accumulators": False}))
    trimmed = tune(model, x, None, options)
    return plain, trimmed


def _product_fractional(types: dict, layer: str, graph) -> int:
    node = graph.node(layer)
    w = parse_type(types[f"{layer}.weight_t"])
    x_name = f"{node.inputs[0]}.result_t"
    x = parse_type(types[x_name]) if x_name in types else node.input_types[0]
    return w.fractional + x.fractional


def test_accumulators_get_fewer_bits_than_their_products_and_cost_less(digits, both):
    from emulation.graph import build_graph

    model, x = digits
    plain, trimmed = both
    assert not any(c.phase == "accumulators" for c in plain.candidates)
    trials = [c for c in trimmed.candidates if c.phase == "accumulators"]
    assert trials, "no accumulator was worth trying"
    graph = build_graph(model, trimmed.config)
    types = trimmed.final.types
    accums = [k.removesuffix(".accum_t") for k in types if k.endswith(".accum_t")]
    narrowed = [
        layer
        for layer in accums
        if f"{layer}.weight_t" in types
        and parse_type(types[f"{layer}.accum_t"]).fractional
        < _product_fractional(types, layer, graph)
    ]
    assert narrowed, types
    assert trimmed.final.met and trimmed.final.met_validation
    assert trimmed.final.objective < plain.final.objective
    # the written config is what was measured: re-emulated, the same validation figure
    from tuner.sampling import split_indices

    _, val = split_indices(len(x), 0.3, seed=0)
    y = EmulatedModel(model, trimmed.config).predict(x[val])
    y_float = model.predict(x[val].astype(np.float32), verbose=0)
    assert evaluate("agreement", y, y_float) == trimmed.final.metric_validation
    assert Point(narrowed[0], "accum_t").name in types


@pytest.mark.parametrize("integer", [-3, -1, 0, 1, 5])
def test_the_fewest_fractional_bits_keep_a_valid_type(integer):
    """An accumulator of small values (negative integer bits, as the deep jet MLP's are) is
    trimmed to at least one bit of width: ``ap_fixed<0,-2>`` does not exist."""
    from emulation.fixed import FixedType
    from tuner.refine import fewest_fractional

    fewest = fewest_fractional(FixedType(integer + 12, integer))
    assert FixedType(integer + fewest, integer).width == max(1, integer)
    if fewest > 0:  # one fewer would be no width at all
        with pytest.raises(ValueError, match="width"):
            FixedType(integer + fewest - 1, integer)
