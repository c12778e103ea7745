"""The compiled rounded-product loop against the NumPy path it replaces, in the same run.

Products cast to a narrower accumulator (every uniform config: ``(accum_t)(x * w)`` drops the
low bits of each product on its own) have no matmul shortcut. `kernels` times
`dense_wide.rounded_sums` with the compiled loop (`emulation.layers.dense_compiled`, numba) and
with it switched off (the NumPy int64 blocks, the reference) on the shapes of the realdata
layers; `narrow` times `dense` where the products leave a narrow accumulator's range (the tuner's
accumulator trials) against the NumPy reference and the float64 casts they took before;
`models` does the same for `EmulatedModel.predict` on the realdata conv models and
the large MLPs under hls4ml's default config and a uniform ``ap_fixed<16,6>``; when g++ is on
PATH, the jet-image CNN's compiled C simulation is timed beside them. Outputs are checked
identical before anything is timed; the numba compilation is done before timing too.
"""

from __future__ import annotations

import copy
import shutil
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from tests.conftest import REALDATA

# (label, accum_t, (rows, n_in, n_out)): rows are samples x output pixels of an im2col
KERNELS = [
    ("KERAS_conv1d conv2, 20 samples", "ap_fixed<16,6>", (2000, 1280, 32)),
    ("KERAS_conv1d conv2, SAT", "ap_fixed<16,6,AP_RND,AP_SAT>", (2000, 1280, 32)),
    ("jet Conv2D conv1, 1000 samples", "ap_fixed<16,6>", (81000, 9, 5)),
    ("SVHN 1024-256, 1000 samples", "ap_fixed<16,6>", (1000, 1024, 256)),
    ("SVHN 1024-256, SAT", "ap_fixed<16,6,AP_RND,AP_SAT>", (1000, 1024, 256)),
]
# (label, accum_t): accumulators whose products leave the range, as the tuner's accumulator
# trials make them, on the deep jet MLP's 200-200 layer (2,800 samples, the tuner's split)
NARROW = [
    ("<1,-1> wrapping", "ap_fixed<1,-1>"),
    ("<5,2> saturating", "ap_fixed<5,2,AP_RND,AP_SAT>"),
]
# (model file, samples)
MODELS = [
    ("conv2d/jetTagger_Conv2D_Small.json", 1000),
    ("conv2d/KERAS_conv2d_model.json", 2000),
    ("conv1d/KERAS_conv1d_small.json", 2000),
    ("conv1d/KERAS_conv1d.json", 50),
    ("svhn_grayscale_mlp/svhn_grayscale_mlp.h5", 1000),
    ("jet_dense_deep/KERAS_dense_16x200x200x200x200x200x5.json", 1000),
]
CSIM_MODEL = "conv2d/jetTagger_Conv2D_Small.json"


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextmanager
def _numpy_only():
    from emulation.layers import dense_compiled

    before = dense_compiled.enabled
    dense_compiled.enabled = False
    try:
        yield
    finally:
        dense_compiled.enabled = before


def kernels() -> None:
    """`rounded_sums` compiled against NumPy on realdata layer shapes (ReLU-like inputs)."""
    from emulation.fixed import FixedType
    from emulation.layers import dense_wide

    rng = np.random.default_rng(0)
    x_t = w_t = FixedType.parse("ap_fixed<16,6>")
    print(f"  {'rounded products':34s} {'compiled ms':>11s} {'NumPy ms':>9s} {'speed-up':>9s}")
    for label, acc, (rows, n_in, n_out) in KERNELS:
        a_t = FixedType.parse(acc)
        x = x_t.quantize(np.maximum(rng.normal(0, 1, (rows, n_in)), 0))
        mw = w_t.quantize_raw(rng.normal(0, 0.3, (n_in, n_out)))
        b = np.zeros(n_out, dtype=np.int64)
        k = x_t.fractional + w_t.fractional - a_t.fractional
        big = int(np.abs(x).max() * 2**x_t.fractional) * int(np.abs(mw).max())

        def run(a_t=a_t, x=x, mw=mw, b=b, k=k, big=big):
            return dense_wide.rounded_sums(x, mw, b, k, big, a_t, x_fractional=x_t.fractional)

        new = run()
        t_new = _best(run)
        with _numpy_only():
            ref = run()
            t_ref = _best(run, repeat=1)
        same = all(np.array_equal(p, q) for p, q in zip(new, ref, strict=True))
        print(
            f"  {label:34s} {t_new * 1e3:11.1f} {t_ref * 1e3:9.1f} {t_ref / t_new:8.1f}x"
            f"  {'identical' if same else 'DIFFERENT'}"
        )


def narrow() -> None:
    """`dense` with products overflowing a narrow accumulator: the compiled loop, the NumPy
    int64 reference and the float64 path that casts every product (what those trials took
    before the int64 kernels applied to them)."""
    import emulation.layers.dense as dense_mod
    from emulation.fixed import FixedType

    rng = np.random.default_rng(0)
    t16 = FixedType.parse("ap_fixed<16,6>")
    x = t16.quantize(np.maximum(rng.normal(0, 1, (2800, 200)), 0))
    w = t16.quantize(rng.normal(0, 0.3, (200, 200)))
    b = t16.quantize(rng.normal(0, 0.3, 200))
    print(
        f"  {'overflowing products, dense()':34s} {'compiled':>9s} {'NumPy':>9s} {'float64':>9s} ms"
    )
    for label, acc in NARROW:
        kw = {"x_t": t16, "w_t": t16, "b_t": t16, "accum_t": FixedType.parse(acc), "result_t": t16}

        def run(kw=kw):
            return dense_mod.dense(x, w, b, **kw)

        new, t_new = run(), _best(run)
        with _numpy_only():
            ref, t_ref = run(), _best(run, repeat=1)
        before = dense_mod._ROUNDED_INT
        dense_mod._ROUNDED_INT = False
        try:
            old, t_old = run(), _best(run, repeat=1)
        finally:
            dense_mod._ROUNDED_INT = before
        same = np.array_equal(new, ref) and np.array_equal(new, old)
        print(
            f"  {label:34s} {t_new * 1e3:9.1f} {t_ref * 1e3:9.1f} {t_old * 1e3:9.1f}"
            f"  {'identical' if same else 'DIFFERENT'}"
        )


def _configs(model) -> dict[str, dict]:
    import hls4ml

    default = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    uniform = copy.deepcopy(default)
    uniform["Model"]["Precision"] = "ap_fixed<16,6>"
    for layer in uniform["LayerName"].values():
        if isinstance(layer.get("Precision"), dict):
            for key in layer["Precision"]:
                layer["Precision"][key] = "ap_fixed<16,6>"
    return {"default": default, "uniform <16,6>": uniform}


def _inputs(model, n: int) -> np.ndarray:
    return np.abs(np.random.default_rng(0).normal(0, 1, (n, *model.input_shape[1:])))


def models() -> None:
    """`EmulatedModel.predict` with the compiled loop and without, per model and config."""
    from emulation.io.keras_files import load_model
    from emulation.model import EmulatedModel

    head = f"  {'model':44s} {'config':15s} {'compiled':>9s} {'NumPy':>9s} {'speed-up':>8s}"
    print(head + "  (ms per sample)")
    for path, n in MODELS:
        if not (REALDATA / path).is_file():
            print(f"  {path}: not found")
            continue
        model = load_model(REALDATA / path)
        x = _inputs(model, n)
        for name, cfg in _configs(model).items():
            em = EmulatedModel(model, cfg)
            new = em.predict(x)
            t_new = _best(lambda em=em, x=x: em.predict(x))
            with _numpy_only():
                ref = em.predict(x)
                t_ref = _best(lambda em=em, x=x: em.predict(x), repeat=1)
            same = np.array_equal(new, ref)
            print(
                f"  {path:44s} {name:15s} {1e3 * t_new / n:9.4f} {1e3 * t_ref / n:9.4f} "
                f"{t_ref / t_new:7.1f}x  {'identical' if same else 'DIFFERENT'}"
            )


def csim() -> None:
    """The jet-image CNN against its compiled C simulation's predict (compile not timed)."""
    from emulation.io.keras_files import load_model
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_compile

    model = load_model(REALDATA / CSIM_MODEL)
    x = _inputs(model, 1000)
    for name, cfg in _configs(model).items():
        hls_model = hls_compile(model, cfg)
        xs = np.ascontiguousarray(x, dtype=np.float64)  # the exact double entry point
        want = np.asarray(hls_model.predict(xs))
        t_hls = _best(lambda hls_model=hls_model, xs=xs: hls_model.predict(xs), repeat=1)
        em = EmulatedModel(model, cfg)
        got = np.asarray(em.predict(x)).reshape(want.shape)
        t_em = _best(lambda em=em: em.predict(x))
        print(
            f"  {CSIM_MODEL} {name}: emulator {1e3 * t_em / len(x):.4f} ms/sample, C simulation "
            f"{1e3 * t_hls / len(x):.4f} ms/sample: {t_hls / t_em:.1f}x; outputs "
            f"{'identical' if np.array_equal(got, want) else 'DIFFERENT'}"
        )


def main() -> None:
    from emulation.layers import dense_compiled

    warnings.simplefilter("ignore")
    if not dense_compiled.available:
        print("numba is not installed: nothing to compare")
        return
    kernels()
    narrow()
    if not REALDATA.is_dir():
        print(f"real models not found at {REALDATA}: model benchmark skipped")
        return
    models()
    if shutil.which("g++") is None:
        print("g++ not on PATH: C-simulation comparison skipped")
        return
    csim()
