"""Emulator speed against hls4ml's own C simulation and float Keras, in the same run.

On the jet-tagging 16-64-32-32-5 MLP and the MNIST 784-256-256-10 MLP of ``../shared/realdata``
(10,000 synthetic samples, one config with 16-bit types and explicit softmax input):

- (a) hls4ml convert + write + g++ compile + predict (goal: emulator at least 100x faster),
- (b) hls4ml predict alone on the compiled model (goal: at least 10x faster),
- (c) float ``model.predict`` (goal: at most 5x slower),

and (`peak_memory`) the peak memory of emulating 100,000 samples of every realdata model (goal:
under 2 GB). Outputs are checked equal to the C simulation's before anything is timed. First,
`dense_paths`: each exact Dense kernel against the reference path it replaced, in the same run.
Issue #13's table (every realdata model x three configs) is `bench_emulator_table`, which
``python -m tests.benchmarks emulator`` runs after this one.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[2]
REALDATA = Path(os.environ.get("APTUNE_REALDATA", REPO.parent / "shared" / "realdata"))
N = 10_000


def _config(model) -> dict:
    import hls4ml

    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    for layer in cfg["LayerName"].values():
        for key, value in layer.get("Precision", {}).items():
            if value == "auto":
                layer["Precision"][key] = "ap_fixed<16,6>" if key != "accum" else "ap_fixed<32,12>"
    return cfg


def _best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _bench(name: str, model, x: np.ndarray) -> None:
    import hls4ml

    from emulation.model import EmulatedModel

    cfg = _config(model)
    em = EmulatedModel(model, cfg)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        hls_model = hls4ml.converters.convert_from_keras_model(
            model, hls_config=cfg, backend="Vivado", io_type="io_parallel", output_dir=tmp
        )
        hls_model.compile()
        y_hls = np.asarray(hls_model.predict(x)).reshape(len(x), -1)
        full = time.perf_counter() - start
        y_em = np.asarray(em.predict(x)).reshape(len(x), -1)
        same = int(np.sum(y_em == y_hls))
        print(f"{name}: emulator == C simulation on {same} of {y_hls.size} values")
        t_em = _best(lambda: em.predict(x))
        t_hls = _best(lambda: hls_model.predict(x), repeat=1)
    x32 = x.astype(np.float32)
    model.predict(x32[:10], verbose=0)
    t_float = _best(lambda: model.predict(x32, batch_size=1024, verbose=0))
    print(f"  emulator predict, {len(x):,} samples: {t_em:.3f} s")
    for label, t, goal in [
        ("(a) hls4ml convert+compile+predict", full, 100.0),
        ("(b) hls4ml predict (compiled)", t_hls, 10.0),
        ("(c) float Keras predict", t_float, 1 / 5),
    ]:
        ratio = t / t_em
        verdict = "meets" if ratio >= goal else "MISSES"
        print(
            f"  {label}: {t:.3f} s; emulator / this: {1 / ratio:.3g} of the time, "
            f"{ratio:.3g}x faster ({verdict} the goal of {goal:.3g}x)"
        )


MEMORY_SAMPLES = 100_000
# A model whose 100,000 samples would take longer than this is measured on 3 batches instead:
# past one batch only the output array grows with the samples (a few values per sample).
MEMORY_SECONDS = 120.0


def _peak_memory_child(name: str) -> None:
    """Run in a fresh subprocess: emulate 100,000 samples of the realdata model ``name``
    (its benchmark inputs tiled, hls4ml's default config) and print one line of peaks."""
    import tracemalloc

    from emulation.io.keras_files import load_model
    from emulation.model import DEFAULT_BATCH_SIZE, EmulatedModel
    from tests.benchmarks.bench_emulator_table import default_config, inputs
    from tests.benchmarks.realdata_cases import emulator_cases

    warnings.simplefilter("ignore")
    case = next(c for c in emulator_cases() if c.name == name)
    model = load_model(case.model)
    em = EmulatedModel(model, default_config(model))
    x = inputs(case, MEMORY_SAMPLES)
    start = time.perf_counter()
    em.predict(x[:500])
    if (time.perf_counter() - start) / 500 * MEMORY_SAMPLES > MEMORY_SECONDS:
        x = x[: 3 * DEFAULT_BATCH_SIZE]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    em.predict(x)
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] / 2**30
    tracemalloc.stop()
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 2**20
    verdict = "meets" if traced < 2 else "MISSES"
    print(
        f"| {name} | {len(x):,} | {x.nbytes / 2**30:.2f} | {traced:.2f} | {rss:.2f} | "
        f"{seconds:.0f} | {verdict} |",
        flush=True,
    )


def peak_memory() -> None:
    """The emulator's peak memory on 100,000 samples of every realdata model, each in a fresh
    process: tracemalloc's peak during predict (what the emulator allocates, the input array
    excluded; goal under 2 GB) and the growth of the peak RSS over the process after loading.
    A model too slow for 100,000 samples within `MEMORY_SECONDS` runs 3 batches (the
    ``samples`` column says so): the memory of a batch does not grow with the samples."""
    from tests.benchmarks.realdata_cases import emulator_cases

    print(
        f"  peak memory emulating {MEMORY_SAMPLES:,} samples (hls4ml default config), goal < 2 GB\n"
        "| model | samples | input GB | emulator peak GB (tracemalloc) | peak RSS growth GB | "
        "s | goal |\n|---|---:|---:|---:|---:|---:|---|",
        flush=True,
    )
    for case in emulator_cases():
        code = f"import tests.benchmarks.bench_emulator as b; b._peak_memory_child({case.name!r})"
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
        why = (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1]
        print(run.stdout.strip() or f"| {case.name} | failed: {why} |", flush=True)


# (label, x_t, w_t, accum_t, (batch, n_in, n_out), x scale, w scale): the dense kernels
DENSE_PATHS = [
    ("wide, 64-bit wrap (Ozaki)", "ap_fixed<40,10>", "ap_fixed<24,2>", "ap_fixed<64,12>",
     (200, 64, 32), 3.0, 0.5),
    ("wide, 60-bit SAT, rounded (int64)", "ap_fixed<40,10>", "ap_fixed<24,2>",
     "ap_fixed<60,12,AP_TRN,AP_SAT>", (200, 64, 32), 3.0, 0.5),
    ("64-bit products, narrow SAT", "ap_fixed<10,4>", "ap_fixed<54,5,AP_RND>",
     "ap_fixed<11,3,AP_RND,AP_SAT>", (200, 64, 32), 3.0, 0.5),
    ("uniform <16,6> wrap", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<16,6>",
     (1000, 256, 128), 1.0, 0.1),
    ("uniform <16,6>, RND,SAT accum", "ap_fixed<16,6>", "ap_fixed<16,6>",
     "ap_fixed<16,6,AP_RND,AP_SAT>", (1000, 256, 128), 1.0, 0.1),
]  # fmt: skip


def dense_paths() -> None:
    """The Dense kernels against the reference paths they replace, in the same run: the
    step-by-step integer loop (Python ints past 62 bits) and the float64 casts of every
    product. Outputs and overflow counts are checked identical before timing."""
    from unittest import mock

    import emulation.layers.dense as dense_mod
    from emulation.fixed import FixedType
    from emulation.layers import dense_int
    from emulation.layers.base import Context

    rng = np.random.default_rng(0)
    print(f"  {'dense kernel':32s} {'new ms':>9s} {'reference ms':>13s} {'speed-up':>9s}")
    for label, xs, ws, acc, (batch, n_in, n_out), sx, sw in DENSE_PATHS:
        x_t, w_t, a_t = FixedType.parse(xs), FixedType.parse(ws), FixedType.parse(acc)
        b_t = r_t = FixedType.parse("ap_fixed<16,6>")
        x = x_t.quantize(rng.normal(0, sx, (batch, n_in)))
        w = w_t.quantize(rng.normal(0, sw, (n_in, n_out)))
        b = b_t.quantize(rng.normal(0, 1, n_out))
        kw = {"x_t": x_t, "w_t": w_t, "b_t": b_t, "accum_t": a_t, "result_t": r_t}

        def run(kw=kw, x=x, w=w, b=b):
            ctx = Context()
            return dense_mod.dense(x, w, b, ctx=ctx, **kw), ctx.points

        new_out, t_new = run(), _best(run)
        with (
            mock.patch.object(dense_int, "wide_kernels", lambda *a: None),
            mock.patch.object(dense_mod, "_ROUNDED_INT", False),
        ):
            ref_out, t_ref = run(), _best(run, repeat=1)
        same = np.array_equal(new_out[0], ref_out[0]) and new_out[1] == ref_out[1]
        print(
            f"  {label:32s} {t_new * 1e3:9.1f} {t_ref * 1e3:13.1f} {t_ref / t_new:8.1f}x"
            f"  {'identical' if same else 'DIFFERENT'}"
        )


def main() -> None:
    from emulation.io.keras_files import load_model

    warnings.simplefilter("ignore")
    dense_paths()
    if not REALDATA.is_dir():
        print(f"real models not found at {REALDATA}: emulator benchmark skipped")
        return
    rng = np.random.default_rng(0)
    jet = load_model(REALDATA / "jet_KERAS_3layer" / "KERAS_3layer.json")
    _bench("jet 16-64-32-32-5", jet, rng.normal(size=(N, 16)))
    mnist_json = REALDATA / "mnist_mlp" / "KERAS_mnist_mlp.json"
    _bench("MNIST 784-256-256-10", load_model(mnist_json), rng.uniform(0, 1, size=(N, 784)))
    peak_memory()
