"""`tuner.verify.verify_csim`: the tuned config in hls4ml's C simulation, on the held-out split."""

from __future__ import annotations

import pytest

from emulation.metrics import Target
from tests.conftest import requires_gxx


@pytest.fixture(scope="module")
def tuned_iris(iris_model):
    """The tiny iris model tuned for agreement >= 0.9 (seed 1)."""
    from tuner.tune import TuneOptions, tune

    model, x, y, _ = iris_model
    result = tune(model, x, y, TuneOptions(target=Target("agreement", 0.9), seed=1))
    assert result.final.met, result.final
    return result


@requires_gxx
@pytest.mark.csim
def test_verify_passes_and_records_the_comparison(iris_model, tuned_iris, monkeypatch, csim_cache):
    """Exit 0: every validation output equal, the C simulation's metric is the emulator's."""
    from tuner.verify import verify_csim

    model, x, y, _ = iris_model
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    target = Target("agreement", 0.9)
    assert verify_csim(tuned_iris, model, x, y, target) == []
    csim = tuned_iris.csim
    assert csim.agree is True and csim.met is True
    n_val = tuned_iris.split.validation
    assert csim.n_values == csim.identical == 3 * n_val
    assert csim.metric == tuned_iris.final.metric_validation


@requires_gxx
@pytest.mark.csim
def test_verify_fails_when_the_c_simulation_misses_the_target(
    iris_model, tuned_iris, monkeypatch, capsys, csim_cache
):
    """A target above what the C simulation reaches: the reason comes back, nothing is printed."""
    from tuner.verify import verify_csim

    model, x, y, _ = iris_model
    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    # the C simulation's outputs are fixed-point: they differ from float Keras by more than this
    missed = Target("mae", 1e-12)
    problems = verify_csim(tuned_iris, model, x, y, missed)
    assert len(problems) == 1
    assert problems[0].startswith("the C simulation misses the target mae <= 1e-12: ")
    assert capsys.readouterr().err == ""  # library code says it through its return value
    csim = tuned_iris.csim
    assert csim.agree is True and csim.met is False
    assert csim.metric == csim.comparison["csim"]["mean_abs_error"] > 1e-12
