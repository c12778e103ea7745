"""A progress bar for the search: evaluations so far, the phase, the best cost that meets
the target."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from tuner.search import Evaluation


class SearchProgress:
    """Callable progress sink for `tuner.tune.tune` (phase names and evaluations)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: tqdm | None = None
        self.best: float | None = None
        self.count = 0

    def __enter__(self) -> SearchProgress:
        self._bar = tqdm(
            desc="tuning",
            unit=" candidates",
            disable=not self.enabled,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.close()

    def __call__(self, event: Evaluation | str) -> None:
        if self._bar is None:
            return
        if isinstance(event, str):
            self._bar.set_description(event)
            return
        self.count += 1
        if event.met and (self.best is None or event.cost < self.best):
            self.best = event.cost
        self._bar.update(1)
        best = "-" if self.best is None else f"{self.best:,.0f}"
        self._bar.set_postfix_str(f"best cost {best}", refresh=False)
