"""The tuning job: data split, ranges, baselines, search, validation; plain data out.

`tune` returns a `TuneResult` that holds everything `tuning.json` records: every evaluated
candidate, the three baselines, and the final figures measured on validation data the search
never saw. The recommendation is never worse than what was measured: when a baseline that the
search would accept (met with confidence on calibration data, not refused) is cheaper than the
search's best, or the search found nothing, that baseline is recommended and labelled so.
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulation.errors import ConfigError
from emulation.metrics import Target
from emulation.tuning_record import (
    CandidateRecord,
    CheckSummary,
    Final,
    FloatReference,
    Measured,
    RecordedRanges,
    Split,
    TuningRecord,
)
from tuner.baselines import cheapest_uniform, range_rule, range_rule_fractional
from tuner.cost import OBJECTIVES
from tuner.job import TuningJob
from tuner.profile import WEIGHT_VARIABLES
from tuner.refine import shrink_tables, table_layers, trim_accumulators
from tuner.search import Evaluation, SearchResult, greedy_search
from tuner.space import Candidate, wider

__all__ = ["TuneOptions", "TuneResult", "tune"]

# Bits added everywhere to the search's best when it misses on validation data.
VALIDATION_WIDENINGS = 2


@dataclass(frozen=True)
class TuneOptions:
    """What to tune for; the CLI's flags."""

    target: Target = field(default_factory=Target)
    objective: str = OBJECTIVES[0]
    jobs: int = 1
    seed: int = 0
    validation_share: float = 0.3
    start_fractional: int = 10
    # how the target is applied on calibration data so that it holds on unseen data: shares
    # must meet it with this confidence; errors must stay below (1 - margin) of the bound
    confidence: float = 0.95
    calibration_margin: float = 0.5
    # integer bits tried for the uniform baseline (None: around what the widest range needs)
    uniform_integer_bits: tuple[int, ...] | None = None
    # calibration sets below `jitter_below` samples are searched with noisy copies, up to
    # `jitter_to` samples (noise: this share of each feature's spread); see tuner.sampling
    jitter_below: int = 1000
    jitter_to: int = 2000
    jitter_noise: float = 0.25
    # seconds after which the search stops and keeps its best so far (None: no limit); the
    # baselines are measured after it
    time_limit: float | None = None
    # after the descent, give accumulators fewer fractional bits than their products where the
    # cost model says it pays (`tuner.refine.trim_accumulators`): each product then rounds on
    # its own, which the compiled loop of `emulation.layers.dense_compiled` keeps fast
    search_accumulators: bool = True
    # hls4ml's backend and io type the candidates are converted for ("Vivado" or "Vitis";
    # "io_parallel" or "io_stream": stream FIFOs hold values, they are no precision points)
    backend: str = "Vivado"
    io_type: str = "io_parallel"


#: What `tune` returns: the typed content of tuning.json (`emulation.tuning_record`).
TuneResult = TuningRecord


def _check(job: TuningJob, config: Mapping) -> CheckSummary:
    """`aptune check` on the written config with the validation data: counts and every
    finding above a note. The agreement finding uses the tuning target when that is an
    agreement (another metric was what the user asked for)."""
    import warnings

    from emulation.check import check

    target = job.target
    with warnings.catch_warnings():  # hls4ml's conversion notes are not the user's business
        warnings.simplefilter("ignore")
        result = check(
            job.model,
            config,
            job.ref_val.x,
            job.ref_val.y_float,
            agreement=target.bound if target.metric == "agreement" else None,
            backend=job.graph.backend,
            io_type=job.graph.io_type,
        )
    findings = tuple(f for f in result.findings if f.severity != "note")
    return CheckSummary(result.counts(), findings)


def _candidate_record(ev: Evaluation) -> CandidateRecord:
    return CandidateRecord(
        phase=ev.phase,
        metric=ev.metric,
        cost=ev.cost,
        met=ev.met,
        secondary_cost=ev.secondary_cost,
        refused=ev.refused,
        seconds=ev.seconds,
        types=ev.candidate.describe(),
    )


def why_not_met(job: TuningJob, evaluations: list[Evaluation], timed_out: bool = False) -> str:
    """The real reason no candidate was accepted: the refusal that stopped the candidates that
    met the metric, the best metric seen when none met it, or a time limit that left the search
    no candidate at all."""
    if not evaluations and timed_out:
        return (
            f"the search evaluated no candidate within --time-limit {job.options.time_limit:g} s "
            "(the range rule that seeds it used that time): raise --time-limit"
        )
    refused = [e for e in evaluations if e.refusal is not None]
    if refused:
        common = Counter(e.refusal.code + " at " + e.refusal.at for e in refused).most_common(1)
        top, count = common[0]
        return (
            f"{len(refused)} candidate(s) met {job.search_target} and were refused "
            f"(most often, {count} times: {top})"
        )
    best = max(evaluations, key=lambda e: e.score, default=None)
    seen = f"{best.metric:.4f}" if best is not None else "nothing"
    text = f"no candidate met {job.search_target}; the best metric seen was {seen}"
    if best is not None and job.target.met(best.metric):
        # above the bound itself, yet not proven by these samples: say that, not "relax"
        text += f", not enough to prove {job.target} on these samples: give more data"
    return text


def tune(
    model,
    x: np.ndarray,
    labels: np.ndarray | None = None,
    options: TuneOptions | None = None,
    progress: Callable[[Any], None] | None = None,
) -> TuneResult:
    """Find minimal per-layer precisions of ``model`` that meet ``options.target`` on ``x``.

    Parameters
    ----------
    model : keras.Model
    x : inputs, shape ``(n, *input_shape)``; split (seeded) into calibration and validation.
    labels : class ids, needed for the ``accuracy`` metric.
    options : target, objective, jobs, seed, time limit.
    progress : called with every `Evaluation` and with phase names (strings).

    Returns
    -------
    TuneResult
        ``final.met`` says whether a config was found (by the search, or a baseline the
        search could not beat: ``final.source``); otherwise ``final.reason`` says why.

    Raises
    ------
    DataError
        before any search, when the calibration samples cannot prove the target.
    """
    options = options or TuneOptions()
    if options.objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {options.objective!r}; expected one of {OBJECTIVES}")
    started = time.perf_counter()
    now = time.monotonic()
    deadline = now + options.time_limit if options.time_limit else None
    notify = progress or (lambda _: None)
    job = TuningJob(model, x, labels, options, notify)

    notify("search")
    # the range rule seeds the search; it may take half the time limit, the search the rest
    rule = range_rule_fractional(job, now + options.time_limit / 2 if deadline else None)
    result = greedy_search(
        job.cured_start(options.start_fractional),
        job.searched,
        job.evaluator,
        job.evaluator.price,
        batch=options.jobs if options.jobs > 0 else os.cpu_count() or 2,
        # constant weights never saturate: a clipped weight is a different network
        clippable=[p for p in job.searched if p.type_name not in WEIGHT_VARIABLES],
        derive=job.derive,
        seeds=[job.cured_start(rule)] if rule is not None else [],
        cure=job.cures,
        deadline=deadline,
    )
    if result.best is not None and not (result.interrupted or result.timed_out):
        notify("table sizes")
        result = shrink_tables(result, table_layers(job), job)
        if options.search_accumulators:
            notify("accumulators")
            result = trim_accumulators(result, job)
    search_seconds = time.perf_counter() - started
    n_eval = len(result.evaluations)

    baselines: dict[str, Any] = {}
    configs: dict[str, dict] = {}
    interrupted = result.interrupted
    if not interrupted:
        try:
            notify("baseline: hls4ml default")
            configs["hls4ml_default"] = job.template
            baselines["hls4ml_default"] = job.measure(
                job.template, "hls4ml default (config_from_keras_model, granularity='name')"
            )
            notify("baseline: cheapest uniform")
            baselines["cheapest_uniform"] = cheapest_uniform(job)
            notify("baseline: range rule")
            baselines["range_rule"] = range_rule(job, rule)
        except KeyboardInterrupt:
            interrupted = True
    for key in ("cheapest_uniform", "range_rule"):
        if baselines.get(key):
            configs[key] = baselines[key].pop("config")

    config, final = _recommend(job, result, baselines, configs)
    return TuneResult(
        config=config,
        target=str(job.target),
        search_target=str(job.search_target),
        objective=options.objective,
        split=Split(
            seed=options.seed,
            validation_share=options.validation_share,
            calibration=len(job.cal),
            validation=len(job.val),
            search_samples=len(job.ref_cal.x),
        ),
        float_reference=FloatReference(job.float_accuracy),
        ranges=RecordedRanges(dict(job.ranges.max_abs), dict(job.ranges.non_negative)),
        final=Final.from_json(final),
        baselines={k: Measured.from_json(b) for k, b in baselines.items()},
        candidates=[_candidate_record(e) for e in result.evaluations],
        interrupted=interrupted,
        timed_out=result.timed_out,
        seconds=time.perf_counter() - started,
        evaluations_per_second=n_eval / search_seconds if search_seconds > 0 else 0.0,
        judged=job.evaluator.judged_count,
    )


def _recommend(
    job: TuningJob,
    result: SearchResult,
    baselines: Mapping[str, dict | None],
    configs: Mapping[str, dict],
) -> tuple[dict, dict]:
    """The recommended config and its final record: the cheapest of the search's best and the
    baselines the search would have accepted (never worse than what was measured), preferring
    those that also meet the target on the validation data the search never saw."""
    options: list[tuple[str, dict, dict, dict]] = []  # (source, config, measures, types)
    if result.best is not None:
        config, measured, candidate = _validated_best(job, result.best.candidate)
        options.append(("search", config, measured, candidate.describe()))
    for key, b in baselines.items():
        if b and b.get("met_search") and not b.get("refused"):
            graph = job.graph_of(configs[key])
            types = {f"{n.name}.{k}": t.to_hls() for n in graph.nodes for k, t in n.types.items()}
            options.append((key, configs[key], dict(b), types))
    if not options:
        return {}, {
            "met": False,
            "reason": why_not_met(job, result.evaluations, result.timed_out)
            + _refused_baselines(baselines),
            "best_metric": max(result.evaluations, key=lambda e: e.score).metric
            if result.evaluations
            else math.nan,
        }
    # the search's own best first on ties: it is what was searched for
    source, config, measured, types = min(
        options, key=lambda o: (not o[2]["met_validation"], o[2]["objective"], o[0] != "search")
    )
    final = _final(job, config, measured, source) | {"types": types}
    if not measured["met_validation"]:
        final["reason"] = (
            f"met {job.search_target} on calibration data, but {measured['metric_validation']:.4f}"
            f" on the {len(job.val)} validation samples misses {job.target}: give more data"
        )
    return config, final


def _refused_baselines(baselines: Mapping[str, dict | None]) -> str:
    """What a user would otherwise ask: baselines that met the target but were refused, why."""
    return "".join(
        f"; {b['name']} met it but was refused ({b['refused']})"
        for b in baselines.values()
        if b and b.get("met_search") and b.get("refused")
    )


def _validated_best(job: TuningJob, best: Candidate) -> tuple[dict, dict, Candidate]:
    """The search's best, widened by one fractional bit everywhere (at most
    `VALIDATION_WIDENINGS` times) while it misses the target on validation data: the
    calibration data can favour a candidate by chance, and a bit more is cheaper than falling
    back to a baseline."""
    candidate = best
    config = candidate.to_config(job.base_config)
    measured = job.measure(config, "aptune")
    first = (config, measured, candidate)
    for _ in range(VALIDATION_WIDENINGS):
        if measured["met_validation"]:
            break
        candidate = job.derive(candidate.with_types((p, wider(candidate[p])) for p in job.searched))
        config = candidate.to_config(job.base_config)
        measured = job.measure(config, "aptune")
    if not (measured["met_validation"] and measured["met_search"] and not measured["refused"]):
        return first
    return config, measured, candidate


def _final(job: TuningJob, config: dict, measured: dict, source: str) -> dict:
    """The record of the recommended config: its measures, where it came from, its overflows on
    the held-out data and what `aptune check` finds there."""
    return measured | {
        "met": True,
        "source": source,
        "overflows": job.overflows(config),
        # nothing above a note on calibration data by construction (`Evaluator.flaw`); this
        # records what the held-out data shows (a value beyond every calibration range)
        "check": _check(job, config),  # typed already: `Final.from_json` keeps it
    }
