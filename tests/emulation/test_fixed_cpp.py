"""`emulation.fixed` against the real ``ap_types`` headers compiled with g++.

One harness (``cpp/fixed_harness.h`` plus a generated type table) is compiled once per session
and fed through a pipe: raw double bits in, raw mantissa bits out. Every comparison is exact.
"""

from __future__ import annotations

import itertools
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from emulation.fixed import FixedType, Overflow, Rounding, product_type, sum_type
from tests.conftest import requires_gxx

pytestmark = [pytest.mark.csim, requires_gxx]

HERE = Path(__file__).resolve().parent
N_RANDOM = 100_000  # random values per type, besides the edge cases
ALWAYS_WIDTHS = (1, 2, 53, 54, 63, 64)
# Order of the C++ enums ap_q_mode and ap_o_mode (ap_decl.h).
CPP_Q = ["RND", "RND_ZERO", "RND_MIN_INF", "RND_INF", "RND_CONV", "TRN", "TRN_ZERO"]
CPP_O = ["SAT", "SAT_ZERO", "SAT_SYM", "WRAP"]


# ------------------------------------------------------------------------------ the types
def _integer_bits(kind: int, width: int, rng: np.random.Generator) -> int:
    """Integer bits of one of five kinds: negative, zero, inside, equal to and beyond W."""
    if kind == 0:
        return -int(rng.integers(1, 12))
    if kind == 1:
        return 0
    if kind == 2:
        return int(rng.integers(1, width)) if width > 1 else 1
    if kind == 3:
        return width
    return width + int(rng.integers(1, 24))


def conversion_types() -> list[FixedType]:
    """A fixed, seeded list covering every mode pair, both signs and widths 1..64 (and wider)."""
    rng = np.random.default_rng(20240611)
    out: list[FixedType] = []
    always = itertools.cycle(ALWAYS_WIDTHS)
    kinds = itertools.cycle(range(5))
    for q, o, signed in itertools.product(Rounding, Overflow, (True, False)):
        for w in (next(always), next(always), int(rng.integers(3, 65))):
            out.append(FixedType(w, _integer_bits(next(kinds), w, rng), signed, q, o))
    for q, signed in itertools.product(Rounding, (True, False)):
        w = next(always) if signed else int(rng.integers(3, 65))
        n = int(rng.integers(1, w + 1))
        out.append(FixedType(w, _integer_bits(next(kinds), w, rng), signed, q, "WRAP", n))
    for w, signed in itertools.product((1, 8, 53, 54, 63, 64), (True, False)):
        out.append(FixedType.integer_type(w, signed))
    out += [
        FixedType(65, 20),
        FixedType(96, 40, True, "RND_CONV", "SAT"),
        FixedType(128, 64, False, "RND", "WRAP"),
        FixedType(100, 30, True, "RND_ZERO", "SAT_SYM"),
        FixedType(80, 90, True, "TRN_ZERO", "WRAP", 3),
    ]
    # Deduplicate, keeping the order: equal types would be one template instance.
    return list(dict.fromkeys(out))


SOURCES = [
    FixedType(64, 24),
    FixedType(64, 30, signed=False),
    FixedType.integer_type(40),
]


def requantize_targets() -> list[FixedType]:
    """Every fifth conversion type of width <= 64: targets of the fixed-to-fixed casts."""
    return [t for t in conversion_types() if t.width <= 64][::5]


def header_asserts(s: FixedType, t: FixedType) -> bool:
    """True where ``T y = s;`` aborts in the header instead of converting.

    ``ap_fixed_base::operator=`` reads the bit below the target LSB unconditionally when it
    rounds; when that bit lies above the source's MSB (F_s - F_t > W_s) ``get_bit`` asserts.
    """
    rounds = t.rounding is not Rounding.TRN and not (
        t.rounding is Rounding.TRN_ZERO and not s.signed
    )
    return rounds and s.fractional - t.fractional - 1 >= s.width


def requantize_pairs() -> list[tuple[FixedType, FixedType]]:
    """(source, target) pairs of the fixed-to-fixed casts that the header can run."""
    return [(s, t) for s in SOURCES for t in requantize_targets() if not header_asserts(s, t)]


def rule_pairs() -> list[tuple[FixedType, FixedType]]:
    """Operand pairs for the product and sum type rules."""
    types = [t for t in conversion_types() if t.width <= 40]
    rng = np.random.default_rng(7)
    picks = rng.choice(len(types), size=(60, 2))
    pairs = [(types[a], types[b]) for a, b in picks]
    i8, u5 = FixedType.integer_type(8), FixedType.integer_type(5, signed=False)
    f = FixedType(16, 6)
    uf = FixedType(10, 3, signed=False)
    return [*pairs, (i8, u5), (u5, i8), (i8, f), (f, u5), (uf, f), (f, uf), (uf, uf)]


# ---------------------------------------------------------------------------- the harness
def _cpp_name(t: FixedType) -> str:
    # The full spelling: every mode explicit, so the template instance is exactly this type.
    if t.is_integer_type:
        return t.to_hls()
    u = "" if t.signed else "u"
    return f"ap_{u}fixed<{t.width},{t.integer},{t.rounding.value},{t.overflow.value},{t.sat_bits}>"


def _source(types: list[FixedType]) -> str:
    lines = ['#include "fixed_harness.h"', "", "bool dispatch_double(int target, uint32_t n) {"]
    lines.append("  switch (target) {")
    for k, t in enumerate(types):
        lines.append(f"    case {k}: convert_double<{_cpp_name(t)} >(n); return true;")
    lines += ["  }", "  return false;", "}", ""]
    lines.append("bool dispatch_fixed(int source, int target, uint32_t n) {")
    pairs = requantize_pairs()
    for s_id, s in enumerate(SOURCES):
        lines.append(f"  if (source == {s_id}) switch (target) {{")
        for k, t in enumerate(types):
            if (s, t) in pairs:
                lines.append(
                    f"    case {k}: convert_fixed<{_cpp_name(s)}, {_cpp_name(t)} >(n); return true;"
                )
        lines.append("  }")
    lines += ["  return false;", "}", "", "void type_rules(std::vector<int32_t>& table) {"]
    for a, b in rule_pairs():
        lines.append(f"  rule_record<{_cpp_name(a)}, {_cpp_name(b)} >(table);")
    lines += ["}", ""]
    return "\n".join(lines)


def _ap_types_dir() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).resolve().parent / "templates" / "vivado" / "ap_types"


class Harness:
    """The compiled harness, talking through a pipe."""

    def __init__(self, exe: Path, types: list[FixedType]) -> None:
        self.types = types
        self.index = {t: k for k, t in enumerate(types)}
        self.proc = subprocess.Popen(
            [str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )

    def _request(self, op: int, target: int, source: int, payload: np.ndarray) -> None:
        head = struct.pack("<iiiI", op, target, source, payload.size)
        self.proc.stdin.write(head + payload.astype("<u8").tobytes())
        self.proc.stdin.flush()

    def _reply(self, t: FixedType, n: int) -> np.ndarray:
        words = (t.width + 63) // 64
        data = self.proc.stdout.read(8 * n * words)
        if len(data) != 8 * n * words:
            raise RuntimeError(f"harness died on {t} (exit {self.proc.poll()})")
        return np.frombuffer(data, dtype="<u8").reshape(n, words)

    def convert_double(self, t: FixedType, x: np.ndarray) -> Callable[[], np.ndarray]:
        """Send ``T y = (double)x;``; the returned call reads the bit patterns, (n, words).

        The harness converts while the caller computes its own side.
        """
        self._request(0, self.index[t], 0, x.view(np.uint64))
        return lambda: self._reply(t, x.size)

    def convert_fixed(
        self, source: FixedType, t: FixedType, bits: np.ndarray
    ) -> Callable[[], np.ndarray]:
        """Send ``T y = s;`` for ``s`` of type source given by its bits; as `convert_double`."""
        self._request(1, self.index[t], SOURCES.index(source), bits)
        return lambda: self._reply(t, bits.size)

    def rules(self) -> np.ndarray:
        """One row per rule pair: kind, W, I, S, Q, O, N of the product, then of the sum."""
        self._request(2, 0, 0, np.zeros(0, dtype=np.uint64))
        (count,) = struct.unpack("<I", self.proc.stdout.read(4))
        return np.frombuffer(self.proc.stdout.read(4 * count), dtype="<i4").reshape(-1, 14)

    def close(self) -> None:
        self.proc.stdin.write(struct.pack("<iiiI", 3, 0, 0, 0))
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """Compile the harness once for this module (about 50 s of g++ at -O1)."""
    types = conversion_types()
    folder = tmp_path_factory.mktemp("fixed_harness")
    src = folder / "harness.cpp"
    src.write_text(_source(types))
    exe = folder / "harness"
    cmd = ["g++", "-O1", "-std=c++14", "-w", f"-I{_ap_types_dir()}", f"-I{HERE / 'cpp'}"]
    done = subprocess.run(
        [*cmd, str(src), "-o", str(exe)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"g++ failed to compile the harness:\n{done.stderr[-4000:]}")
    h = Harness(exe, types)
    yield h
    h.close()


# ------------------------------------------------------------------------------ the inputs
def conversion_inputs(t: FixedType, rng: np.random.Generator) -> np.ndarray:
    """About N_RANDOM doubles for type t: across, around and far beyond its range, and edges."""
    f, i = t.fractional, t.integer
    n = N_RANDOM
    # log-uniform magnitudes from well below the LSB to well above the range
    logmag = rng.uniform(-f - 12, i + 12, size=6 * n // 10)
    parts = [rng.choice([-1.0, 1.0], size=logmag.size) * np.exp2(logmag)]
    # far beyond the range: many multiples of it, up to the largest doubles
    far = rng.uniform(i + 12, 1023.9, size=n // 20)
    parts.append(rng.choice([-1.0, 1.0], size=far.size) * np.exp2(far))
    # arbitrary finite doubles from random bit patterns (subnormals, huge, anything)
    bits = rng.integers(0, 2**63, size=n // 20, dtype=np.int64).view(np.float64)
    bits = bits[np.isfinite(bits)]
    parts.append(bits * rng.choice([-1.0, 1.0], size=bits.size))
    # exact ties at half an LSB and one float ulp either side, across and beyond the range
    span = min(t.width + 3, 52)
    m = rng.integers(-(2**span), 2**span, size=8 * n // 100)
    ties = np.ldexp((2 * m + 1).astype(np.float64), -f - 1)
    parts += [ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)]
    # values on the grid
    parts.append(np.ldexp(m[: n // 20].astype(np.float64), -f))
    # the limits, one LSB beyond, wrap points, tiny values, subnormals and zeros
    lsb = np.ldexp(1.0, -f)
    lo = -np.ldexp(1.0, i - 1) if t.signed else 0.0
    hi = np.ldexp(1.0, i - t.signed) - lsb
    k = np.arange(1, 50, dtype=np.float64)
    edges = [
        lo, hi, lo - lsb, hi + lsb, lo + lsb, hi - lsb, lo - lsb / 2, hi + lsb / 2,
        lo + lsb / 2, hi - lsb / 2, lsb, -lsb, lsb / 2, -lsb / 2, lsb / 4, -lsb / 4,
        0.0, -0.0, 5e-324, -5e-324, 2.2e-308, -2.2e-308, 1e-310, -1e-310, 1e-300, -1e-300,
        1.7976931348623157e308, -1.7976931348623157e308, 0.5, -0.5, 0.25, -0.25, 0.75, -0.75,
    ]  # fmt: skip
    wrap = np.ldexp(1.0, i + (not t.signed)) * k
    parts += [np.array(edges), wrap, -wrap, wrap + lsb, -wrap - lsb, wrap + lsb / 2, -wrap / 2]
    x = np.concatenate(parts)
    with np.errstate(over="ignore"):
        x = np.concatenate([x, np.nextafter(x[-400:], np.inf), np.nextafter(x[-400:], -np.inf)])
    return x[np.isfinite(x)]


def expected_bits(t: FixedType, raw: np.ndarray) -> np.ndarray:
    """Mantissas as the harness writes them: W-bit patterns in 64-bit words, (n, words)."""
    words = (t.width + 63) // 64
    if raw.dtype != object:
        bits = raw.astype(np.uint64)
        if t.width < 64:
            bits &= np.uint64((1 << t.width) - 1)
        return bits.reshape(-1, 1)
    mod = 1 << t.width
    rows = [[((int(v) % mod) >> (64 * j)) & (2**64 - 1) for j in range(words)] for v in raw]
    return np.array(rows, dtype=np.uint64).reshape(-1, words)


def _report(t: FixedType, x: np.ndarray, want: np.ndarray, got: np.ndarray, what: str) -> str:
    bad = np.flatnonzero((want != got).any(axis=1))
    lines = [f"{t} ({what}): {bad.size} of {x.size} values differ; first few:"]
    for j in bad[:8]:
        xin = x[j]
        shown = f"{float(xin)!r} ({float(xin).hex()})" if x.dtype == np.float64 else hex(int(xin))
        lines.append(f"  x={shown} expected={want[j].tolist()} got={got[j].tolist()}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------- tests
def test_type_list_covers_the_brief() -> None:
    """The type list holds every mode pair, both signs, the listed widths and kinds of I."""
    types = conversion_types()
    assert 190 <= len(types) <= 400
    pairs = {(t.rounding, t.overflow, t.signed) for t in types}
    assert len(pairs) == 7 * 4 * 2
    widths = {t.width for t in types}
    assert set(ALWAYS_WIDTHS) <= widths
    assert any(t.integer < 0 for t in types) and any(t.integer == 0 for t in types)
    assert any(t.integer > t.width for t in types)
    assert any(t.sat_bits > 0 and t.overflow is Overflow.WRAP for t in types)


def test_conversion_from_double_matches_cpp(harness: Harness) -> None:
    """quantize_raw(x) equals ``T y = (double)x;`` bit for bit for every listed type."""
    rng = np.random.default_rng(1)
    failures = []
    checked = 0
    for t in harness.types:
        x = conversion_inputs(t, rng)
        reply = harness.convert_double(t, x)
        want = expected_bits(t, t.quantize_raw(x, from_double=True))
        got = reply()
        checked += x.size
        if not np.array_equal(want, got):
            failures.append(_report(t, x, want, got, "from double"))
    assert not failures, f"{len(failures)} types differ:\n" + "\n".join(failures[:10])
    assert checked >= N_RANDOM * len(harness.types)


def _source_bits(s: FixedType, t: FixedType, rng: np.random.Generator) -> np.ndarray:
    """Source mantissa bit patterns: random, ties and neighbours of the target, limits."""
    n = N_RANDOM // 5
    full = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    shift = s.fractional - t.fractional
    m = rng.integers(-(2**20), 2**20, size=n // 5)
    # exact ties of the target where they fit in 64 bits, else plain values
    ties = ((2 * m + 1) << (shift - 1) if 1 <= shift < 40 else m).astype(np.int64)
    edges = np.array([0, 1, -1, 2, -2, 2 ** (s.width - 1) - 1, -(2 ** (s.width - 1))], np.int64)
    signed_parts = np.concatenate([ties, ties + 1, ties - 1, edges])
    bits = np.concatenate([full, signed_parts.view(np.uint64)])
    if s.width < 64:
        bits &= np.uint64((1 << s.width) - 1)
    return bits


def _as_mantissa(s: FixedType, bits: np.ndarray) -> np.ndarray:
    """Bit patterns of s read as its (signed or unsigned) mantissas."""
    if not s.signed:
        return bits.astype(np.uint64)
    if s.width == 64:
        return bits.view(np.int64)
    sign = np.uint64(1 << (s.width - 1))
    return (bits ^ sign).astype(np.int64) - np.int64(1 << (s.width - 1))


def test_conversion_between_fixed_types_matches_cpp(harness: Harness) -> None:
    """requantize_raw equals ``T y = s;`` for fixed and integer sources."""
    rng = np.random.default_rng(3)
    failures = []
    for s, t in requantize_pairs():
        bits = _source_bits(s, t, rng)
        reply = harness.convert_fixed(s, t, bits)
        want = expected_bits(t, t.requantize_raw(_as_mantissa(s, bits), s))
        got = reply()
        if not np.array_equal(want, got):
            failures.append(_report(t, bits, want, got, f"from {s}"))
    assert not failures, f"{len(failures)} casts differ:\n" + "\n".join(failures[:10])


def test_product_and_sum_types_match_decltype(harness: Harness) -> None:
    """product_type and sum_type equal ``decltype(a*b)`` and ``decltype(a+b)``."""
    rows = harness.rules()
    pairs = rule_pairs()
    assert rows.shape[0] == len(pairs)
    failures = []
    for (a, b), row in zip(pairs, rows, strict=True):
        for ours, rec, op in ((product_type(a, b), row[:7], "*"), (sum_type(a, b), row[7:], "+")):
            kind, w, i, s = (int(v) for v in rec[:4])
            if kind == 1:
                cpp = FixedType.integer_type(w, bool(s))
            else:
                q, o, n = CPP_Q[int(rec[4])], CPP_O[int(rec[5])], int(rec[6])
                cpp = FixedType(w, i, bool(s), q, o, n)
            if ours != cpp:
                failures.append(f"{a} {op} {b}: ours {ours}, C++ {cpp} (record {rec.tolist()})")
    assert not failures, "\n".join(failures)
