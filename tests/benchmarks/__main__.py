"""Run the speed benchmarks: ``python -m tests.benchmarks [NAME ...]`` (``tox -e bench``).

Every ``bench_*.py`` module in this folder defines ``main() -> None``; with names given, only
the modules whose name contains one of them run (``python -m tests.benchmarks fixed``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    """Names of the benchmark modules, without the ``bench_`` prefix, sorted."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks; return non-zero when a name matches nothing."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help="run only benchmarks whose name contains these")
    args = parser.parse_args(argv)
    available = discover()
    chosen = [n for n in available if not args.names or any(a in n for a in args.names)]
    if not chosen:
        print(f"no benchmark matches {args.names}; available: {', '.join(available)}")
        return 2
    for name in chosen:
        print(f"== bench_{name} ==", flush=True)
        start = time.perf_counter()
        importlib.import_module(f"tests.benchmarks.bench_{name}").main()
        print(f"== bench_{name}: {time.perf_counter() - start:.1f} s ==\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
