"""Embedding (``nnet_embed.h``) against hls4ml's C simulation, and its refusal of bad ids.

One model (ids -> Embedding -> Flatten -> Dense), a narrow config (rounded embeddings, a
saturating result) and a wide one: two compiles. The ids are integers and, on purpose, some
fractional ones: the C++ index is ``int(id * n_out) + i``, which shifts a row by a fraction.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation import EmulatedModel
from emulation.errors import DataError
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim

VOCAB, DIM, N = 12, 4, 300


def embedding_model(seed: int = 41) -> object:
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((6,), name="ids")
    emb = keras.layers.Embedding(VOCAB, DIM, name="emb")
    dense = keras.layers.Dense(3, name="d")
    model = keras.Model(inp, dense(keras.layers.Flatten(name="flat")(emb(inp))))
    emb.set_weights([rng.normal(0.0, 1.5, (VOCAB, DIM))])
    dense.set_weights([rng.uniform(-0.5, 0.5, (6 * DIM, 3)), rng.normal(0.0, 0.3, 3)])
    return model


NARROW = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "emb": {
            "Precision": {
                "embeddings": "ap_fixed<6,2,AP_RND>",
                "result": "ap_fixed<5,1,AP_RND,AP_SAT>",
            }
        },
        "d": {"Precision": {"accum": "ap_fixed<10,3,AP_RND,AP_SAT>"}},
    },
}
WIDE = {"Model": {"Precision": "ap_fixed<32,12>", "ReuseFactor": 1, "Strategy": "Latency"}}


def embedding_inputs() -> np.ndarray:
    rng = np.random.default_rng(42)
    X = rng.integers(0, VOCAB, (N, 6)).astype(np.float64)
    X[-N // 5 :] = rng.uniform(0.0, VOCAB - 1, (N // 5, 6))  # fractional ids
    return X


@pytest.fixture(scope="module")
def model() -> object:
    return embedding_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_embedding_matches_csim(model: object, config: dict) -> None:
    """Integer and fractional ids: the Embedding and the Dense after it equal the C simulation."""
    em, te, _ = assert_equal_to_csim(model, config, embedding_inputs(), same_layers=True)
    assert em.graph.node("emb").kind == "Embedding"
    if config is NARROW:  # the result really saturates
        assert te["emb"].max() == 1.0 - 2**-4 and te["emb"].min() == -1.0


def test_ids_outside_the_table_are_refused_naming_the_layer(model: object) -> None:
    """An id below 0 or past the vocabulary reads past the C++ table: a DataError naming both."""
    em = EmulatedModel(model, WIDE)
    for bad in (-1.0, float(VOCAB)):
        X = np.zeros((2, 6))
        X[1, 3] = bad
        with pytest.raises(DataError, match=rf"layer 'emb' of class Embedding: input id {bad!r}"):
            em.predict(X)
