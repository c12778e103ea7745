"""Progress of a tuning run: the phase, candidates done, the best cost that meets the target,
the time spent and (under ``--time-limit``) the time left.

In a terminal a bar on stderr whose clock moves even while one candidate takes long (a thread
redraws it every second); piped to a file, one line per phase and one every `LINE_EVERY`
candidates or `LINE_SECONDS`, whichever comes first, so a log shows that the work is alive.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

from tqdm import tqdm

from tuner.search import Evaluation

LINE_EVERY = 25
LINE_SECONDS = 30.0


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


class SearchProgress:
    """Callable progress sink for `tuner.tune.tune` (phase names and evaluations).

    Parameters
    ----------
    enabled : False prints nothing (``--json``).
    time_limit : the search's ``--time-limit`` in seconds, for the time left.
    stream : where to write (stderr); a terminal gets the bar, anything else lines.
    """

    def __init__(
        self, enabled: bool = True, time_limit: float | None = None, stream: IO[str] | None = None
    ):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.time_limit = time_limit
        self.phase = "starting"
        self.best: float | None = None
        self.count = 0
        self._seen: set = set()
        self._started = time.monotonic()
        self._last_line = (0, self._started)
        self._bar: tqdm | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> SearchProgress:
        self._started = time.monotonic()
        self._last_line = (0, self._started)
        if self.tty:
            self._bar = tqdm(
                desc=self.phase,
                unit=" candidates",
                file=self.stream,
                dynamic_ncols=True,
                bar_format="{desc}: {n_fmt} candidates [{elapsed}{postfix}]",
            )
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and not self.tty and self.count:
            self._line("done")

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            if self._bar is not None:
                self._bar.set_postfix_str(self._status(), refresh=True)

    def _status(self) -> str:
        best = "-" if self.best is None else f"{self.best:,.0f}"
        text = f", best cost {best}"
        if self.time_limit is not None:
            left = max(0.0, self.time_limit - (time.monotonic() - self._started))
            text += f", at most {_clock(left)} left"
        return text

    def _line(self, phase: str) -> None:
        elapsed = time.monotonic() - self._started
        print(
            f"[{_clock(elapsed)}] {phase}: {self.count} candidates{self._status()}",
            file=self.stream,
            flush=True,
        )
        self._last_line = (self.count, time.monotonic())

    def __call__(self, event: Evaluation | str) -> None:
        if not self.enabled:
            return
        if isinstance(event, str):
            self.phase = event
            if self._bar is not None:
                self._bar.set_description_str(event)
            else:
                self._line(event)
            return
        if event.phase and event.phase != self.phase and not self.phase.startswith("baseline"):
            # the search's own phases (start, sensitivity, descent, ...) ride on its evaluations
            self(event.phase)
        # a candidate judged before (the range rule's, re-used by the search) counts once, as
        # in the summary's "judged in all"
        if event.candidate is not None:
            if event.candidate in self._seen:
                return
            self._seen.add(event.candidate)
        self.count += 1
        if event.met and (self.best is None or event.cost < self.best):
            self.best = event.cost
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(self._status(), refresh=False)
            return
        done, when = self._last_line
        if self.count - done >= LINE_EVERY or time.monotonic() - when >= LINE_SECONDS:
            self._line(self.phase)
