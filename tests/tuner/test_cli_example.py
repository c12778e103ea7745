"""README command 1, `aptune tune --example`: tuned, verified in C simulation, and failing loudly
when the verification fails."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from emulation.fixed import FixedType
from tests.conftest import requires_gxx
from tuner.cli import main


def _run_example(out: Path) -> int:
    return main(
        ["tune", "--example", "-o", str(out / "recommended.yml"), "--report", str(out / "report")]
    )


@pytest.fixture(scope="module")
def example_run(tmp_path_factory, csim_cache):
    """One `aptune tune --example` run into a temporary folder: (exit code, folder)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    out = tmp_path_factory.mktemp("example")
    try:
        code = _run_example(out)
    finally:
        mp.undo()
    return code, out


@requires_gxx
@pytest.mark.csim
def test_example_is_verified_in_c_simulation(example_run):
    """Exit 0; tuning.json records a C simulation equal to the emulator on every value and
    meeting the target on the held-out samples."""
    code, out = example_run
    assert code == 0
    record = json.loads((out / "tuning.json").read_text())
    csim = record["csim"]
    assert csim is not None, "the C simulation was not run"
    assert csim["agree"] is True
    assert csim["n_values"] == csim["identical"] > 0
    assert csim["met"] is True
    assert csim["metric"] == record["result"]["metric_validation"] >= 0.99
    # every held-out sample went through the C simulation (10 outputs each)
    assert csim["n_values"] == 10 * record["split"]["validation"]


@requires_gxx
@pytest.mark.csim
def test_example_writes_a_config_hls4ml_converts(example_run):
    """recommended.yml exists and hls4ml converts the example model with it, keeping its types."""
    import hls4ml

    from emulation.io.keras_files import load_model

    _, out = example_run
    config = yaml.safe_load((out / "recommended.yml").read_text())
    assert config["LayerName"], config
    model = load_model(json.loads((out / "tuning.json").read_text())["model"])
    hls_model = hls4ml.converters.convert_from_keras_model(
        model,
        hls_config=config,
        backend="Vivado",
        io_type="io_parallel",
        output_dir=str(out / "prj"),
    )
    name, layer = next(
        (n, c) for n, c in config["LayerName"].items() if "result" in c.get("Precision", {})
    )
    written = hls_model.graph[name].get_output_variable().type.precision
    assert FixedType.parse(str(written)) == FixedType.parse(layer["Precision"]["result"])
    assert (out / "report" / "report.html").is_file()


@requires_gxx
@pytest.mark.csim
def test_example_fails_when_the_c_simulation_differs(tmp_path, monkeypatch, capsys, csim_cache):
    """An emulator that disagrees with the C simulation makes the run exit 1 and say why; the
    config and tuning.json (with the failed comparison) are still written."""
    import tuner.verify as verify

    real_compare = verify.compare

    def emulator_one_bit_off(model, config, *args, **kwargs):
        broken = copy.deepcopy(config)
        layer = next(c for c in broken["LayerName"].values() if "result" in c.get("Precision", {}))
        layer["Precision"]["result"] = "ap_fixed<4,2>"
        return real_compare(model, config, *args, emulator_config=broken, **kwargs)

    monkeypatch.setenv("APTUNE_CACHE_DIR", str(csim_cache))
    monkeypatch.setattr(verify, "compare", emulator_one_bit_off)
    code = _run_example(tmp_path)
    err = capsys.readouterr().err
    assert code == 1
    assert "verify-csim FAILED: the emulator and the C simulation differ" in err
    record = json.loads((tmp_path / "tuning.json").read_text())
    assert record["csim"]["agree"] is False
    assert (tmp_path / "recommended.yml").is_file()
