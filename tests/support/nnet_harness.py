"""The g++ harness of the nnet function tests: hls4ml's real ``nnet_activation.h`` and
``nnet_softmax.h`` functions compiled once into one program that calls each case on seeded
inputs (`run_nnet`), and the exact comparison of its outputs with the emulator's."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from emulation.fixed import FixedType

DEFAULT_TABLE = FixedType.parse("ap_fixed<18,8>")


def assert_exact(got: np.ndarray, want: np.ndarray, what: str, x: np.ndarray | None = None) -> None:
    """np.array_equal, or a message with the count and the first differing values."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if np.array_equal(got, want):
        return
    bad = np.argwhere(got != want)
    lines = [f"{what}: {len(bad)} of {got.size} values differ"]
    for idx in bad[:5]:
        i = tuple(idx)
        inp = "" if x is None or x.shape != got.shape else f" input {x[i]!r}"
        lines.append(f"  at {i}:{inp} emulator {got[i]!r} C++ {want[i]!r}")
    pytest.fail("\n".join(lines))


@dataclass(frozen=True)
class CppCase:
    """One call of an nnet function: C++ declarations, the call, seeded input values."""

    name: str
    decls: str  # typedefs data_T and res_T, struct cfg, any constants
    call: str  # statement using arrays x and y
    x: np.ndarray  # (n, n_in) exact values of data_T


def _templates() -> Path:
    import hls4ml

    return Path(hls4ml.__file__).parent / "templates" / "vivado"


_RUNS: dict[str, dict[str, np.ndarray]] = {}


def run_nnet(cases: list[CppCase], header: str = "nnet_utils/nnet_activation.h") -> dict:
    """Compile one program calling every case's function on its inputs; return the outputs.

    Each case lives in its own namespace; inputs are written as hexadecimal double literals
    (exact), outputs read back with ``%a``. Results are cached per source text for the session.
    """
    parts = [f'#include "{header}"', "#include <cstdio>"]
    for k, c in enumerate(cases):
        n, n_in = c.x.shape
        rows = ",\n".join("{" + ",".join(float(v).hex() for v in row) + "}" for row in c.x)
        parts.append(
            f"namespace c{k} {{\n{c.decls}\n"
            f"static const double X[{n}][{n_in}] = {{{rows}}};\n"
            f"void run() {{\n  for (int s = 0; s < {n}; s++) {{\n"
            f"    data_T x[{n_in}]; res_T y[{n_in}];\n"
            f"    for (int i = 0; i < {n_in}; i++) x[i] = X[s][i];\n"
            f"    {c.call}\n"
            f'    for (int i = 0; i < {n_in}; i++) printf("%a ", y[i].to_double());\n'
            f'    printf("\\n");\n  }}\n}}\n}}'
        )
    parts.append("int main() {\n" + "\n".join(f"  c{k}::run();" for k in range(len(cases))) + "\n}")
    source = "\n".join(parts)
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    if key not in _RUNS:
        with tempfile.TemporaryDirectory(prefix="aptune-nnet-") as tmp_dir:
            tmp = Path(tmp_dir)
            (tmp / "h.cpp").write_text(source)
            t = _templates()
            subprocess.run(
                # -O0: a third faster to compile; float semantics do not depend on the level
                # (SSE arithmetic, no fast-math) and the hls4ml model tests run hls4ml's -O3
                ["g++", "-O0", "-std=c++17", f"-I{t}", f"-I{t / 'ap_types'}", "h.cpp", "-o", "h"],
                cwd=tmp,
                check=True,
                capture_output=True,
            )
            run = subprocess.run([str(tmp / "h")], check=True, capture_output=True, text=True)
        out = run.stdout
        lines = out.splitlines()
        results, pos = {}, 0
        for c in cases:
            n = c.x.shape[0]
            block = lines[pos : pos + n]
            pos += n
            results[c.name] = np.array([[float.fromhex(v) for v in ln.split()] for ln in block])
        _RUNS[key] = results
    return _RUNS[key]


def seeded_inputs(data_t: FixedType, n: int, n_in: int, scale: float, seed: int) -> np.ndarray:
    """Values of ``data_t``: normal(0, scale) off the grid, plus +-max and 0 in the first row."""
    rng = np.random.default_rng(seed)
    x = data_t.quantize(rng.normal(0.0, scale, (n, n_in)))
    x[0, :3] = [data_t.max, data_t.min, 0.0]
    return x


def act_decls(
    data_t: FixedType,
    res_t: FixedType,
    n_in: int,
    table_size: int = 1024,
    table_t: FixedType = DEFAULT_TABLE,
    param_t: FixedType | None = None,
) -> str:
    lines = [f"typedef {data_t.to_hls()} data_T;", f"typedef {res_t.to_hls()} res_T;"]
    if param_t is not None:
        lines.append(f"typedef {param_t.to_hls()} param_T;")
    lines.append(
        "struct cfg : nnet::activ_config { "
        f"static const unsigned n_in = {n_in}; static const unsigned table_size = {table_size}; "
        f"typedef {table_t.to_hls()} table_t; }};"
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class Spec:
    """A case of the harness and the emulator call that must reproduce it."""

    case: CppCase
    emulate: object  # callable x -> y


def harness_outputs() -> dict[str, np.ndarray]:
    """Outputs of every activation and softmax case: one g++ compile for both test modules."""
    from tests.support.activation_specs import activation_specs
    from tests.support.softmax_specs import softmax_specs

    return run_nnet([s.case for s in (*activation_specs(), *softmax_specs())])
