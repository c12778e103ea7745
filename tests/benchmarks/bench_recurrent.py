"""Speed of the emulator on a realistic LSTM against hls4ml's C simulation.

The model and inputs of ``tests/emulation/test_recurrent_realistic.py`` (20 time steps, 6
features, 16 units and a Dense head; 500 inputs from a standard normal distribution) under
hls4ml's default config: `EmulatedModel.predict` and the compiled C simulation's ``predict``
(one ctypes call per sample), best of five, in milliseconds per sample, outputs compared value
for value. Needs g++ (one compile, about 15 s on 2 cores).
"""

from __future__ import annotations

import shutil
import time

import numpy as np

REPEATS = 5


def _best(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import hls4ml

    from emulation.model import EmulatedModel
    from tests.emulation.test_recurrent_realistic import realistic_inputs, realistic_lstm
    from tests.support.hls import hls_predict

    if shutil.which("g++") is None:
        print("g++ not on PATH: no C simulation to compare with")
        return
    model = realistic_lstm()
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name")
    X = realistic_inputs()
    em = EmulatedModel(model, cfg)
    y, y_hls = em.predict(X), hls_predict(model, cfg, X)
    equal = np.array_equal(np.reshape(y, np.shape(y_hls)), y_hls)
    t_em = _best(lambda: em.predict(X)) / len(X) * 1e3
    t_hls = _best(lambda: hls_predict(model, cfg, X)) / len(X) * 1e3
    print(f"LSTM 20x6 -> 16 units, {len(X)} samples: emulator {t_em:.3f} ms/sample, C simulation")
    print(f"  {t_hls:.3f} ms/sample ({t_hls / t_em:.1f}x); outputs identical: {equal}")
