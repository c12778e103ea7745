"""Speed of the emulator on the hls4ml community conv models, and the large one's bit-exactness.

For each model of the real-data folder (``conv1d/``, ``conv2d/``): `EmulatedModel.predict` on
synthetic non-negative inputs under ``config_from_keras_model(granularity='name')``, best of
three, in milliseconds per sample. ``KERAS_conv1d`` (100 x 7 input, kernels of 40, 251k
parameters) is too slow to compile for the test suite; here, when g++ is on PATH, it is
compiled once and its C simulation compared with the emulator value for value.
"""

from __future__ import annotations

import shutil
import time

import numpy as np

from tests.conftest import REALDATA

MODELS = {
    "conv1d/KERAS_conv1d_small.json": 2000,
    "conv2d/KERAS_conv2d_model.json": 2000,
    "conv2d/jetTagger_Conv2D_Small.json": 200,
    "conv2d/jetTagger_Conv2D_Small_NoBatchNorm.json": 2000,
    "conv1d/KERAS_conv1d.json": 200,
}
LARGE = "conv1d/KERAS_conv1d.json"
N_LARGE_CSIM = 100


def _inputs(model: object, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.abs(rng.normal(0.0, 1.0, (n, *model.input_shape[1:])))


def main() -> None:
    """Print the emulator's speed per model, then the large model's C-simulation comparison."""
    import hls4ml

    from emulation.keras_io import load_model
    from emulation.model import EmulatedModel

    if not REALDATA.is_dir():
        print(f"real models not found at {REALDATA}: nothing to measure")
        return
    for path, n in MODELS.items():
        model = load_model(REALDATA / path)
        config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
        em = EmulatedModel(model, config)
        X = _inputs(model, n)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            em.predict(X)
            times.append(time.perf_counter() - start)
        print(f"{path}: {1e3 * min(times) / n:.3f} ms per sample ({n} samples)", flush=True)

    if shutil.which("g++") is None:
        print("g++ not on PATH: C-simulation comparison skipped")
        return
    from tests.support.hls import COMPILE_SECONDS, hls_predict

    model = load_model(REALDATA / LARGE)
    config = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    X = _inputs(model, N_LARGE_CSIM)
    start = time.perf_counter()
    want = hls_predict(model, config, X)
    csim = time.perf_counter() - start - sum(COMPILE_SECONDS.values())
    got = EmulatedModel(model, config).predict(X).reshape(want.shape)
    print(
        f"{LARGE}: compile {sum(COMPILE_SECONDS.values()):.0f} s, C simulation "
        f"{1e3 * csim / N_LARGE_CSIM:.1f} ms per sample; emulator equal: "
        f"{np.array_equal(got, want)} ({int(np.sum(got != want))} values differ)"
    )
