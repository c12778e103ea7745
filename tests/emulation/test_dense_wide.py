"""emulation.layers.dense_wide: the exact integer kernels against the C++ accumulation loop
compiled with g++ and hls4ml's ``ap_types`` headers (against Python ints:
``test_dense_wide_kernels.py``).

Every case sits at an exactness edge of a path: products past 2^53, sums past 2^63 (wrapped
modulo 2^64), accumulators of 60 to 64 bits, saturation in the C++ (strided) summation order,
and exact ties of every rounding mode. Whole accumulator arrays are compared bit for bit.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

import emulation.layers.dense as dense_mod
from emulation.fixed import FixedType, Rounding
from emulation.layers import dense_compiled, dense_int, dense_wide
from emulation.layers.dense import dense_sum_order
from tests.conftest import requires_gxx
from tests.emulation.test_fixed_cpp import _ap_types_dir, _cpp_name

# ------------------------------------------------------------------------ against C++
PROGRAM = r"""
#include <ap_fixed.h>
#include <ap_int.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

template <class X, int XW, class W, int WW, class B, int BW, class A, int AW>
void run(const uint64_t* xb, const uint64_t* wb, const uint64_t* bb, const int* ord,
         int n, int ni, int no) {
  for (int s = 0; s < n; ++s) {
    for (int j = 0; j < no; ++j) {
      B bias;
      bias.range(BW - 1, 0) = ap_uint<64>(bb[j]);
      A acc = (A) bias;
      for (int t = 0; t < ni; ++t) {
        int i = ord[t];
        X x;
        x.range(XW - 1, 0) = ap_uint<64>(xb[s * ni + i]);
        W w;
        w.range(WW - 1, 0) = ap_uint<64>(wb[i * no + j]);
        A p = x * w;
        acc += p;
      }
      ap_uint<AW> bits = acc.range(AW - 1, 0);
      std::printf("%llu\n", (unsigned long long) bits.to_uint64());
    }
  }
}
"""


def _array(name: str, values, ctype: str = "uint64_t") -> str:
    body = ",".join(f"{int(v)}ULL" if ctype == "uint64_t" else str(int(v)) for v in values)
    return f"static const {ctype} {name}[] = {{{body}}};\n"


def _bits(raw: np.ndarray) -> np.ndarray:
    return np.asarray(raw, dtype=np.int64).reshape(-1).view(np.uint64)


def _case(seed, x_t, w_t, b_t, accum, shape, x_scale, w_scale, strided):
    """Exact operands of the types, as the emulator and the C++ both read them."""
    x_t, w_t, b_t, accum_t = (FixedType.parse(t) for t in (x_t, w_t, b_t, accum))
    batch, n_in, n_out = shape
    rng = np.random.default_rng(seed)
    x = x_t.quantize(np.clip(rng.normal(0, x_scale, (batch, n_in)), x_t.min, x_t.max))
    w = w_t.quantize(np.clip(rng.normal(0, w_scale, (n_in, n_out)), w_t.min, w_t.max))
    b = b_t.quantize(rng.normal(0, 1, n_out))
    order = dense_sum_order(n_in, "resource", 4) if strided else np.arange(n_in)
    return x, w, b, x_t, w_t, b_t, accum_t, order


# (name, x_t, w_t, b_t, accum_t, (batch, n_in, n_out), x scale, w scale, strided, path)
CASES = [
    # 62-bit products, a 64-bit wrapping accumulator, sums far past 2^63: Ozaki, modulo 2^64
    (
        "wrap64-huge",
        "ap_fixed<40,10>",
        "ap_fixed<24,2>",
        "ap_fixed<16,6>",
        "ap_fixed<64,12>",
        (40, 16, 6),
        400.0,
        1.6,
        False,
        "exact_sums",
    ),
    (
        "wrap64-normal",
        "ap_fixed<40,10>",
        "ap_fixed<24,2>",
        "ap_fixed<16,6>",
        "ap_fixed<64,12>",
        (60, 64, 8),
        3.0,
        0.5,
        False,
        "exact_sums",
    ),
    # wraps to 60 bits from the sum modulo 2^64
    (
        "wrap60",
        "ap_fixed<40,10>",
        "ap_fixed<24,2>",
        "ap_fixed<16,6>",
        "ap_fixed<60,8>",
        (60, 64, 8),
        10.0,
        0.8,
        False,
        "exact_sums",
    ),
    # exact products into saturating 62- and 64-bit accumulators, strided order: the C++ loop
    (
        "sat62-strided",
        "ap_fixed<40,10>",
        "ap_fixed<24,2>",
        "ap_fixed<16,6>",
        "ap_fixed<62,10,AP_TRN,AP_SAT>",
        (50, 24, 6),
        40.0,
        1.0,
        True,
        "exact_sums",
    ),
    (
        "sat64-strided",
        "ap_fixed<40,10>",
        "ap_fixed<24,2>",
        "ap_fixed<16,6>",
        "ap_fixed<64,12,AP_TRN,AP_SAT_SYM>",
        (50, 24, 6),
        200.0,
        1.5,
        True,
        "exact_sums",
    ),
    # products rounded into a saturating 60-bit accumulator (int64 add-and-shift), strided
    (
        "rnd-sat60-strided",
        "ap_fixed<40,10>",
        "ap_fixed<24,2>",
        "ap_fixed<16,6>",
        "ap_fixed<60,12,AP_RND,AP_SAT>",
        (50, 32, 6),
        150.0,
        1.0,
        True,
        "rounded_sums",
    ),
    # products near 2^61 rounded into a wrapping accumulator
    (
        "rnd-conv-wrap",
        "ap_fixed<32,8>",
        "ap_fixed<31,1>",
        "ap_fixed<16,6>",
        "ap_fixed<40,12,AP_RND_CONV>",
        (50, 32, 6),
        40.0,
        0.5,
        False,
        "rounded_sums",
    ),
    # 64-bit products that overflow a narrow saturating accumulator (the hard d3 layer)
    (
        "d3-overflowing",
        "ap_fixed<10,4>",
        "ap_fixed<54,5,AP_RND>",
        "ap_fixed<16,6>",
        "ap_fixed<11,3,AP_RND,AP_SAT>",
        (50, 32, 6),
        3.0,
        0.5,
        True,
        "rounded_sums",
    ),
]
# rounded products into narrow accumulators that saturate (symmetric, to zero) in the strided
# C++ order: the overflow modes of the compiled loop, each partial sum cast on its own
for _acc in ("ap_fixed<13,5,AP_RND_ZERO,AP_SAT_SYM>", "ap_fixed<13,5,AP_TRN_ZERO,AP_SAT_ZERO>"):
    _t16 = "ap_fixed<16,6>"
    CASES.append((f"narrow-{_acc.split(',')[-1][:-1]}", _t16, _t16, _t16, _acc, (60, 160, 8),
                  1.5, 0.5, True, "rounded_sums"))  # fmt: skip
# float64-exact types whose every product is a tie (one bit dropped), every mode, wrap and sat
for _mode in Rounding:
    for _over in ("AP_WRAP", "AP_SAT"):
        CASES.append((f"ties-{_mode.name}-{_over}", "ap_fixed<8,4>", "ap_fixed<8,2>",
                      "ap_fixed<8,3>", f"ap_fixed<14,5,{_mode.value},{_over}>", (60, 24, 6),
                      2.0, 0.7, _over == "AP_SAT", "rounded_sums"))  # fmt: skip


# products that leave a narrow accumulator's range on their own (cast 2 overflows before any
# sum: the tuner's accumulator trials), through the compiled loop and its NumPy reference:
# rounded (k >= 1), on the grid (k = 0), with more fractional bits (k < 0), unsigned, and
# past 53 bits (the wide path); wrapping and saturating, natural and strided order
_T16 = "ap_fixed<16,6>"
PRODUCT_OVERFLOW = [
    ("po-wrap-tiny", _T16, _T16, "ap_fixed<1,-1>", False),  # fc2's <1,-1> of the deep jet MLP
    ("po-wrap8", _T16, _T16, "ap_fixed<8,2,AP_RND_CONV>", False),
    ("po-sat8-strided", _T16, _T16, "ap_fixed<8,2,AP_RND,AP_SAT>", True),
    ("po-satsym-strided", _T16, _T16, "ap_fixed<9,3,AP_RND_ZERO,AP_SAT_SYM>", True),
    ("po-satzero", _T16, _T16, "ap_fixed<9,3,AP_TRN_ZERO,AP_SAT_ZERO>", False),
    ("po-wrap-k0", _T16, _T16, "ap_fixed<24,4>", False),
    ("po-sat-k-neg-strided", _T16, _T16, "ap_fixed<27,5,AP_TRN,AP_SAT>", True),
    ("po-uwrap", _T16, _T16, "ap_ufixed<10,3,AP_RND>", False),
    ("po-usat", _T16, _T16, "ap_ufixed<10,3,AP_RND_INF,AP_SAT>", False),
    ("po-wide-wrap", "ap_fixed<40,10>", "ap_fixed<20,2>", "ap_fixed<56,4>", False),
    ("po-wide-sat", "ap_fixed<40,10>", "ap_fixed<20,2>", "ap_fixed<50,4,AP_RND,AP_SAT>", True),
]
for _name, _x, _w, _acc, _strided in PRODUCT_OVERFLOW:
    CASES.append((_name, _x, _w, _T16, _acc, (60, 40, 6), 10.0, 0.5, _strided, "rounded_sums"))


@pytest.fixture(scope="module")
def cpp_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """Compile one program with every case and run it: accumulator bit patterns per case."""
    folder = tmp_path_factory.mktemp("dense_wide")
    src = ["int main(int argc, char** argv) {", "  int k = std::atoi(argv[1]);"]
    data = []
    for k, (name, *spec, _) in enumerate(CASES):
        x, w, b, x_t, w_t, b_t, accum_t, order = _case(k, *spec)
        data += [
            _array(f"X{k}", _bits(x_t.quantize_raw(x))),
            _array(f"W{k}", _bits(w_t.quantize_raw(w))),
            _array(f"B{k}", _bits(b_t.quantize_raw(b))),
            _array(f"O{k}", order, "int"),
        ]
        types = (
            f"{_cpp_name(x_t)}, {x_t.width}, {_cpp_name(w_t)}, {w_t.width}, "
            f"{_cpp_name(b_t)}, {b_t.width}, {_cpp_name(accum_t)}, {accum_t.width}"
        )
        src.append(
            f"  if (k == {k}) run<{types}>(X{k}, W{k}, B{k}, O{k}, "
            f"{x.shape[0]}, {x.shape[1]}, {w.shape[1]}); // {name}"
        )
    src += ["  return 0;", "}"]
    path = folder / "dense_wide.cpp"
    path.write_text(PROGRAM + "".join(data) + "\n".join(src) + "\n")
    exe = folder / "dense_wide"
    cmd = ["g++", "-O1", "-std=c++14", "-w", f"-I{_ap_types_dir()}", str(path), "-o", str(exe)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"g++ failed:\n{done.stderr[-4000:]}")
    out = {}
    for k, case in enumerate(CASES):
        run = subprocess.run([str(exe), str(k)], capture_output=True, text=True, check=True)
        out[case[0]] = np.array([int(v) for v in run.stdout.split()], dtype=np.uint64)
    return out


def _emulated(x, w, b, x_t, w_t, b_t, accum_t, order, monkeypatch) -> tuple[np.ndarray, set]:
    """Accumulator mantissas as `dense` computes them (its dispatch), and the kernels used."""
    used: set[str] = set()
    for name in ("exact_sums", "rounded_sums"):
        real = getattr(dense_wide, name)

        def spy(*a, _real=real, _name=name, **kw):
            used.add(_name)
            return _real(*a, **kw)

        monkeypatch.setattr(dense_wide, name, spy)
    x, w = x[:, order], w[order]
    if dense_mod._float_exact(dense_mod.column_max_abs(x), w, b, x_t, w_t, accum_t):
        acc, _, _ = dense_mod._accumulate_float(x, w, b, x_t, w_t, b_t, accum_t)
        raw = np.ldexp(acc, accum_t.fractional).astype(np.int64)
    else:
        raw, _, _ = dense_int.accumulate_int(x, w, b, x_t, w_t, b_t, accum_t)
    return np.asarray(raw).astype(np.int64), used


KERNELS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not dense_compiled.available, reason="numba is not installed"))]  # fmt: skip


def _use_kernel(kernel: str, monkeypatch) -> list[int]:
    """Switch the compiled rounded loop on or off; the list counts its calls."""
    monkeypatch.setattr(dense_compiled, "enabled", kernel == "numba")
    calls: list[int] = []
    real = dense_compiled.rounded_loop

    def spy(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(dense_compiled, "rounded_loop", spy)
    return calls


def _pattern(raw: np.ndarray, width: int) -> np.ndarray:
    bits = raw.reshape(-1).view(np.uint64)
    return bits & np.uint64((1 << width) - 1) if width < 64 else bits


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kernel", KERNELS)
def test_accumulators_equal_the_cpp_loop(case, kernel, cpp_results, monkeypatch):
    """Every accumulator equals the C++ loop bit for bit, through the kernel the case targets
    (rounded products: the NumPy blocks and the compiled loop)."""
    k = CASES.index(case)
    name, *spec, path = case
    x, w, b, x_t, w_t, b_t, accum_t, order = _case(k, *spec)
    compiled = _use_kernel(kernel, monkeypatch)
    raw, used = _emulated(x, w, b, x_t, w_t, b_t, accum_t, order, monkeypatch)
    assert path in used, used
    if path == "rounded_sums":  # products in range or not: the compiled loop where numba is
        assert bool(compiled) == (kernel == "numba"), compiled
    got, want = _pattern(raw, accum_t.width), cpp_results[name]
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{name}: {bad.size} of {want.size} differ, first {bad[:5].tolist()}"


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_reference_paths_equal_the_cpp_loop(case, cpp_results, monkeypatch):
    """With the new kernels switched off (the float64 casts, the step-by-step int loop) the
    same cases give the same bits: the tests can tell a wrong kernel from a wrong case."""
    k = CASES.index(case)
    name, *spec, _ = case
    x, w, b, x_t, w_t, b_t, accum_t, order = _case(k, *spec)
    monkeypatch.setattr(dense_mod, "_ROUNDED_INT", False)
    monkeypatch.setattr(dense_int, "wide_kernels", lambda *a: None)
    raw, used = _emulated(x, w, b, x_t, w_t, b_t, accum_t, order, monkeypatch)
    assert not used
    assert np.array_equal(_pattern(raw, accum_t.width), cpp_results[name])


def test_cases_reach_their_edges():
    """The cases really wrap past 2^64, saturate, and produce products past 2^60."""
    x, w, _, x_t, w_t, *_ = _case(0, *CASES[0][1:-1])
    mx, mw = x_t.quantize_raw(x).astype(object), w_t.quantize_raw(w).astype(object)
    assert max(abs(v) for v in (mx @ mw).ravel()) > 1 << 64
    assert max(abs(v) for v in (mx[:, :, None] * mw[None]).ravel()) > 1 << 60
    for k in (2, 3, 4, 5):  # the wrapping and saturating wide cases: some sums leave the range
        x, w, b, *_, accum_t, _ = _case(k, *CASES[k][1:-1])
        assert np.max(np.abs(x @ w + b)) > accum_t.max, CASES[k][0]
    for k, case in enumerate(CASES):  # products leave the accumulator's range on their own
        if case[0].startswith("po-"):
            x, w, _, x_t, w_t, _, accum_t, _ = _case(k, *case[1:-1])
            prods = x[:, :, None] * w[None]
            assert np.max(prods) > accum_t.max and np.min(prods) < accum_t.min, case[0]
    for k, case in enumerate(CASES):  # the narrow saturating ones saturate
        if case[0].startswith("narrow"):
            x, w, b, *_, accum_t, _ = _case(k, *case[1:-1])
            assert np.max(np.abs(x @ w + b)) > accum_t.max, case[0]
