"""The tuner on every realdata model, as a user runs it: ``aptune tune`` then ``aptune csim``.

For each model of `tests.benchmarks.realdata_cases` (data drawn as its docstring says) and each
agreement target (0.99, 0.95): ``aptune tune MODEL --data X_tune.npy --target T --jobs 2`` in a
subprocess (exit code, wall time, candidates per second, the slowest over the fastest search
candidate), the recommended config's BOPs and EBOPs against the three baselines measured in the
same run, then ``aptune csim`` on the held-out inputs: agreement with float Keras in the emulator
and in hls4ml's compiled C simulation, and whether the two are bit-identical. Goals (issue
"tuner on real-size models"): every run exits 0 (or 1 with the real reason), the MNIST MLP at
0.99 within 300 s at no more than 45 % of uniform ``ap_fixed<16,6>``'s BOPs, meeting 0.985 on
held-out data in C simulation; no candidate 10x slower than the fastest.

``APTUNE_BENCH_TUNE=mnist,iris`` runs only the cases whose name contains one of those words.
Prints one markdown table at the end (the README's).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.benchmarks.realdata_cases import REALDATA, Case, cases

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TARGETS = (0.99, 0.95)
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def _aptune(*args: str) -> tuple[int, str, float]:
    """Run the CLI as a user does; (exit code, last stderr line, seconds)."""
    cmd = [sys.executable, "-c", "from tuner.cli import main; raise SystemExit(main())", *args]
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    lines = [ln for ln in (run.stdout + run.stderr).splitlines() if ln.strip()]
    return run.returncode, lines[-1] if lines else "", time.perf_counter() - start


def _uniform_16_6_bops(case: Case) -> float:
    """BOPs of uniform ``ap_fixed<16,6>`` (every type, accumulators included)."""
    from emulation.config import default_config
    from emulation.fixed import FixedType
    from emulation.graph import build_graph
    from emulation.io.keras_files import load
    from tuner.baselines import uniform_config
    from tuner.cost import network_cost

    model, _ = load(case.model)
    graph = build_graph(model, default_config(model))
    cfg = uniform_config(model, graph, FixedType(16, 6))
    return network_cost(build_graph(model, cfg).nodes).bops


def _run(case: Case, target: float, tmp: Path, held_out: bool) -> dict:
    """One tune (and, with ``held_out``, one csim on ``tmp/hold.npy``); the table row."""
    out = tmp / f"{case.name}-{target}".replace(" ", "_")
    code, last, seconds = _aptune(
        "tune", str(case.model), "--data", str(tmp / "x.npy"), "--target", str(target),
        "--jobs", "2", "-o", str(out / "recommended.yml"), "--json",
    )  # fmt: skip
    row: dict = {"case": case.name, "target": target, "exit": code, "seconds": seconds}
    tuning = out / "tuning.json"
    if not tuning.exists():
        row["reason"] = last
        return row
    data = json.loads(tuning.read_text())
    final, base = data["result"], data["baselines"]
    times = [c["seconds"] for c in data["candidates"] if c.get("seconds")]
    row |= {
        "per_second": data["evaluations_per_second"],
        "candidates": len(data["candidates"]),
        "spread": max(times) / min(times) if times else float("nan"),
        "source": final.get("source"),
        "reason": final.get("reason") or last,
    }
    if not final.get("met"):
        return row
    row |= {"bops": final["cost"]["bops"], "ebops": final["cost"]["ebops"]}
    row |= {f"{k}_bops": b["cost"]["bops"] for k, b in base.items() if b}
    row["validation"] = final.get("metric_validation")
    if held_out:
        code, last, _ = _aptune(
            "csim", str(case.model), "--config", str(out / "recommended.yml"),
            "--data", str(tmp / "hold.npy"), "--output-dir", str(out / "csim"), "--json",
        )  # fmt: skip
        cmp_file = out / "csim" / "comparison.json"
        if cmp_file.exists():
            cmp = json.loads(cmp_file.read_text())
            row |= {
                "hold_emulator": cmp["emulator"]["top_class_agreement"],
                "hold_csim": cmp["csim"]["top_class_agreement"],
                "identical": cmp["identical"] == cmp["n_values"],
            }
        else:
            row["csim_error"] = last
    return row


def _fmt(row: dict) -> str:
    def pct(key: str) -> str:
        v = row.get(key)
        return f"{v:.4f}" if isinstance(v, float) else "-"

    bops = row.get("bops")
    ratio = lambda key: f"{bops / row[key]:.0%}" if bops and row.get(key) else "-"  # noqa: E731
    count = lambda key: f"{row[key]:,.0f}" if row.get(key) else "-"  # noqa: E731
    spread = row.get("spread", math.nan)
    note = row.get("source") or row.get("reason", "")
    return (
        f"| {row['case']} | {row['target']} | {row['exit']} | {row['seconds']:.0f} | "
        f"{row.get('per_second', 0):.1f} | {'-' if math.isnan(spread) else f'{spread:.1f}x'} | "
        f"{count('bops')} | {count('ebops')} | {ratio('uniform_16_6_bops')} | "
        f"{ratio('cheapest_uniform_bops')} | {ratio('range_rule_bops')} | "
        f"{ratio('hls4ml_default_bops')} | {pct('validation')} | {pct('hold_emulator')} | "
        f"{pct('hold_csim')} | {'yes' if row.get('identical') else '-'} | {note} |"
    )


HEADER = (
    "| model | target | exit | s | cand/s | slowest/fastest | BOPs | EBOPs | vs <16,6> | "
    "vs cheapest uniform | vs range rule | vs hls4ml default | validation | held-out emulator | "
    "held-out C sim | identical | recommended / reason |\n" + "|---" * 17 + "|"
)


def main() -> None:
    if not REALDATA.is_dir():
        print(f"real models not found at {REALDATA}: only the built-in example runs")
    only = [w for w in os.environ.get("APTUNE_BENCH_TUNE", "").lower().split(",") if w]
    rows = []
    for case in cases():
        if only and not any(w in case.name.lower() for w in only):
            continue
        x, hold = case.data()
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            np.save(tmp / "x.npy", x)
            if hold is not None:
                np.save(tmp / "hold.npy", hold)
            u16 = _uniform_16_6_bops(case)
            for target in TARGETS:
                row = _run(case, target, tmp, hold is not None) | {"uniform_16_6_bops": u16}
                rows.append(row)
                print(HEADER.splitlines()[0] if len(rows) == 1 else "", end="")
                print("\n" + _fmt(row), flush=True)
    print("\n" + HEADER)
    for row in rows:
        print(_fmt(row))
