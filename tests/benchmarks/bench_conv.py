"""Speed of the emulator on the hls4ml community conv models, and the large one's bit-exactness.

For each model of the real-data folder (``conv1d/``, ``conv2d/``) and two configs (hls4ml's
``config_from_keras_model(granularity='name')``, 'auto' accumulators; uniform
``ap_fixed<16,6>``, whose accumulators round every product): `EmulatedModel.predict` on
synthetic non-negative inputs, best of three, in milliseconds per sample, with the convolutions
on the compiled loop (`emulation.layers.conv_compiled`) and on the NumPy im2col reference, in
the same run, with the outputs compared. ``KERAS_conv1d`` (100 x 7 input, kernels of 40,
251k parameters) is too slow to compile for the test suite: g++ did not finish its default
(Latency) C simulation in 12 minutes, nor its ``Strategy: Resource`` one in 25 (on 2 shared
cores). With ``APTUNE_BENCH_CONV_LARGE=1`` and g++ on PATH it is compiled once under
``Strategy: Resource`` and its C simulation compared with the emulator value for value.
"""

from __future__ import annotations

import os
import shutil
import time

import numpy as np

from tests.conftest import REALDATA

MODELS = {
    "conv1d/KERAS_conv1d_small.json": 2000,
    "conv2d/KERAS_conv2d_model.json": 2000,
    "conv2d/jetTagger_Conv2D_Small.json": 2000,
    "conv2d/jetTagger_Conv2D_Small_NoBatchNorm.json": 2000,
    "conv1d/KERAS_conv1d.json": 200,
}
LARGE = "conv1d/KERAS_conv1d.json"
N_LARGE_CSIM = 100


def _inputs(model: object, n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.abs(rng.normal(0.0, 1.0, (n, *model.input_shape[1:])))


def _best_of_three(em: object, X: np.ndarray) -> tuple[float, np.ndarray]:
    y = em.predict(X)  # untimed: loads the compiled loops
    times = []
    for _ in range(3):
        start = time.perf_counter()
        em.predict(X)
        times.append(time.perf_counter() - start)
    return 1e3 * min(times) / len(X), np.asarray(y)


def _configs(model: object) -> dict[str, dict]:
    import hls4ml

    from emulation.fixed import FixedType
    from emulation.graph import build_graph
    from tuner.baselines import uniform_config

    default = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    return {
        "default": default,
        "uniform": uniform_config(model, build_graph(model, default), FixedType(16, 6)),
    }


def main() -> None:
    """Print the emulator's speed per model and path, then the large model's C simulation."""
    from emulation.io.keras_files import load_model
    from emulation.layers import conv_compiled
    from emulation.model import EmulatedModel

    if not REALDATA.is_dir():
        print(f"real models not found at {REALDATA}: nothing to measure")
        return
    print("| model | config | samples | compiled ms/sample | NumPy ms/sample | speed-up | equal |")
    print("|---|---|---:|---:|---:|---:|---|")
    for path, n in MODELS.items():
        model = load_model(REALDATA / path)
        X = _inputs(model, n)
        for name, config in _configs(model).items():
            em = EmulatedModel(model, config)
            before = conv_compiled.enabled
            try:
                conv_compiled.enabled = False
                slow, y_ref = _best_of_three(em, X)
                conv_compiled.enabled = True
                fast, y = _best_of_three(em, X)
            finally:
                conv_compiled.enabled = before
            print(
                f"| {path} | {name} | {n} | {fast:.4f} | {slow:.4f} | {slow / fast:.1f}x | "
                f"{'yes' if np.array_equal(y, y_ref) else 'NO'} |",
                flush=True,
            )

    if os.environ.get("APTUNE_BENCH_CONV_LARGE") != "1":
        print(f"{LARGE}: C-simulation comparison skipped (set APTUNE_BENCH_CONV_LARGE=1)")
        return
    if shutil.which("g++") is None:
        print("g++ not on PATH: C-simulation comparison skipped")
        return
    from tests.support.hls import COMPILE_SECONDS, hls_predict

    model = load_model(REALDATA / LARGE)
    config = _configs(model)["default"]
    config["Model"]["Strategy"] = "Resource"
    X = _inputs(model, N_LARGE_CSIM)
    start = time.perf_counter()
    want = hls_predict(model, config, X)
    csim = time.perf_counter() - start - sum(COMPILE_SECONDS.values())
    em = EmulatedModel(model, config)
    ms, got = _best_of_three(em, X)
    got = got.reshape(want.shape)
    print(
        f"{LARGE} (Strategy: Resource): compile {sum(COMPILE_SECONDS.values()):.0f} s, C "
        f"simulation {1e3 * csim / N_LARGE_CSIM:.2f} ms per sample, emulator {ms:.3f} "
        f"({1e3 * csim / N_LARGE_CSIM / ms:.0f}x); equal: {np.array_equal(got, want)} "
        f"({int(np.sum(got != want))} values differ)"
    )
