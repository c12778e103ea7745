"""Long work shows that it is alive: lines in a log, a bar whose clock moves in a terminal."""

from __future__ import annotations

import io
import time

from tuner.progress import LINE_EVERY, SearchProgress
from tuner.search import Evaluation


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _ev(phase: str, cost: float, met: bool = True) -> Evaluation:
    return Evaluation(None, 0.99, 0.99, cost, 0.0, met, phase)  # type: ignore[arg-type]


def test_a_log_gets_a_line_per_phase_and_every_few_candidates():
    out = io.StringIO()
    with SearchProgress(stream=out) as progress:
        progress("search")
        for k in range(2 * LINE_EVERY):
            progress(_ev("start" if k == 0 else "descent", 1000.0 - k, met=k % 2 == 0))
        progress("baseline: range rule")
        progress(_ev("range rule", 5.0))
    lines = out.getvalue().splitlines()
    phases = [ln.split("] ", 1)[1].split(":", 1)[0] for ln in lines]
    assert phases[:3] == ["search", "start", "descent"]
    assert "baseline" in phases and phases[-1] == "done"
    # one line every LINE_EVERY candidates inside a phase, each with the elapsed time
    assert sum(p == "descent" for p in phases) >= 2
    assert all(ln.startswith("[0:0") for ln in lines)
    # the best cost is the cheapest that met (1000 - 48 at k = 48), not the cheapest seen
    assert lines[-1].endswith(f"{2 * LINE_EVERY + 1} candidates, best cost 5")
    assert "best cost 952" in lines[-2]


def test_disabled_prints_nothing():
    out = io.StringIO()
    with SearchProgress(enabled=False, stream=out) as progress:
        progress("search")
        progress(_ev("start", 1.0))
    assert out.getvalue() == ""


def test_a_terminal_bar_moves_while_a_candidate_runs_and_shows_the_time_left():
    out = _Terminal()
    with SearchProgress(stream=out, time_limit=600) as progress:
        progress("search")
        progress(_ev("start", 42.0))
        before = out.getvalue()
        time.sleep(2.3)  # one slow candidate: the ticker redraws meanwhile
        after = out.getvalue()
    assert len(after) > len(before)
    assert "best cost 42" in after and "left" in after
    assert ": :" not in after


def test_the_progress_count_is_the_summarys_judged_count(iris_model):
    """What the bar counted is what the summary reports as judged in all (a candidate judged
    twice, by the range rule and again by the search, counts once in both)."""
    from emulation.metrics import Target
    from tuner.summary import summary_lines
    from tuner.tune import TuneOptions, tune

    model, x, _, _ = iris_model
    out = io.StringIO()
    with SearchProgress(stream=out) as progress:
        result = tune(model, x, None, TuneOptions(target=Target("agreement", 0.9)), progress)
    last = out.getvalue().splitlines()[-1]
    assert last.split("] done: ")[1].startswith(f"{result.judged} candidates")
    assert result.judged >= len(result.candidates) > 0
    summary = "\n".join(summary_lines(result, {}))
    assert f"{result.judged} judged in all" in summary
