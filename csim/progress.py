"""One progress bar on stderr across the stages of a comparison (convert, compile, predict)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    """A tqdm bar whose description names the current stage.

    Shown only when ``enabled`` and stderr is a terminal, so logs and pipes stay clean. Each
    `stage` restarts the bar: with a ``total`` it counts items (samples), without one it is a
    one-step stage that `done` completes.
    """

    def __init__(self, enabled: bool = True) -> None:
        from tqdm import tqdm

        stream = sys.stderr
        shown = bool(enabled) and hasattr(stream, "isatty") and stream.isatty()
        self._bar: Any = tqdm(total=1, file=stream, disable=not shown, leave=False, unit="step")

    @property
    def shown(self) -> bool:
        """Whether anything is drawn."""
        return not self._bar.disable

    def stage(self, name: str, total: int | None = None, unit: str = "step") -> None:
        """Start a stage called ``name`` with ``total`` items (one step when None)."""
        self._bar.reset(total=1 if total is None else max(int(total), 1))
        self._bar.unit = unit
        self._bar.set_description_str(name, refresh=True)

    def update(self, n: int = 1) -> None:
        """Advance the current stage by ``n`` items."""
        self._bar.update(n)

    def done(self) -> None:
        """Complete a one-step stage."""
        self._bar.update(max(self._bar.total - self._bar.n, 0))

    def close(self) -> None:
        """Remove the bar."""
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
