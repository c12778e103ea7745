"""The cost of a recurrent layer: both kernels at every time step, each direction."""

from __future__ import annotations

import dataclasses

import numpy as np

from emulation.fixed import FixedType
from tuner.cost import network_cost


def _graph(layer: object, steps: int = 7, features: int = 3) -> object:
    import hls4ml
    import keras

    from emulation.graph import build_graph

    inp = keras.Input((steps, features), name="x")
    model = keras.Model(inp, layer(inp))
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    return build_graph(model, cfg)


def test_lstm_cost_counts_both_kernels_at_every_step() -> None:
    """7 steps of an LSTM(5) on 3 features: 7 x the non-zero weights of both kernels (3 x 20
    and 5 x 20), 16 x 16 bits each; a narrower recurrent weight type costs fewer BOPs."""
    import keras

    graph = _graph(keras.layers.LSTM(5, name="lstm"))
    node = graph.node("lstm")
    n_w = np.count_nonzero(node.weights["weight"])
    n_r = np.count_nonzero(node.weights["recurrent_weight"])
    assert n_w + n_r > 0.9 * (3 + 5) * 20
    cost = network_cost(graph.nodes)
    assert [c.layer for c in cost.layers] == ["lstm"]
    assert cost.layers[0].multiplications == 7 * (n_w + n_r)
    assert cost.bops == 7 * (n_w + n_r) * 16 * 16
    types = {**node.types, "recurrent_weight_t": FixedType(8, 2)}
    narrow = dataclasses.replace(node, types=types)
    assert network_cost([narrow]).bops == 7 * (n_w * 16 + n_r * 8) * 16


def test_bidirectional_cost_counts_each_direction() -> None:
    """Bidirectional(LSTM(4)): twice one direction's multiplications."""
    import keras

    graph = _graph(keras.layers.Bidirectional(keras.layers.LSTM(4), name="bi"))
    cost = network_cost(graph.nodes)
    node = graph.node("bi")
    n = sum(np.count_nonzero(w) for k, w in node.weights.items() if k.endswith("weight"))
    assert n > 0.9 * 2 * (3 + 4) * 16
    assert cost.layers[0].multiplications == 7 * n
    assert np.isfinite(cost.luteq) and cost.dsp > 0
