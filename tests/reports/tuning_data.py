"""Hand-made tuning records (the schema of ``tuning.json``) for the report tests.

Small and fast to draw: a 3-layer MLP (``x`` -> ``fc1`` -> ``relu1`` -> ``out`` -> ``softmax``),
14 candidates in every phase, the three baselines (``range_rule`` never met the target), the
validation overflows (one wrapping, one saturating) and, on request, the profiles before and
after and a C-simulation comparison.
"""

from __future__ import annotations

import copy

import numpy as np

from emulation.fixed import FixedType
from reports.profile_data import Profile, Row, summarize

TYPES = {
    "fc1.accum_t": "ap_fixed<18,6>",
    "fc1.bias_t": "ap_fixed<6,-1,AP_RND,AP_SAT>",
    "fc1.result_t": "ap_fixed<10,4>",
    "fc1.weight_t": "ap_fixed<6,1>",
    "out.accum_t": "ap_fixed<16,7>",
    "out.bias_t": "ap_fixed<4,-2>",
    "out.result_t": "ap_fixed<12,6>",
    "out.weight_t": "ap_fixed<5,-1,AP_RND,AP_SAT>",
    "relu1.result_t": "ap_ufixed<6,3,AP_TRN,AP_SAT>",
    "softmax.inv_table_t": "ap_fixed<14,4,AP_RND,AP_SAT>",
    "softmax.result_t": "ap_ufixed<8,0>",
    "softmax.TableSize": "512",
    "x.result_t": "ap_fixed<8,3>",
}
#: (layer, type) pairs of TYPES that the precision chart draws: weights, accumulators, results.
BARS = {
    ("x", "result_t"),
    ("fc1", "weight_t"),
    ("fc1", "accum_t"),
    ("fc1", "result_t"),
    ("relu1", "result_t"),
    ("out", "weight_t"),
    ("out", "accum_t"),
    ("out", "result_t"),
    ("softmax", "result_t"),
}
LAYERS = ["x", "fc1", "relu1", "out", "softmax"]

# phase, metric, cost, met: 14 candidates, one far below the target (0.42)
CANDIDATES = [
    ("start", 1.0, 52000.0, True),
    ("sensitivity", 0.995, 47000.0, True),
    ("sensitivity", 0.985, 45000.0, False),
    ("sensitivity", 0.42, 44000.0, False),
    ("sensitivity", 0.998, 48000.0, True),
    ("combine", 0.991, 30000.0, True),
    ("repair", 0.993, 31000.0, True),
    ("descent", 0.992, 25000.0, True),
    ("descent", 0.989, 22000.0, False),
    ("descent", 0.9905, 21000.0, True),
    ("descent", 0.97, 19000.0, False),
    ("descent", 0.9901, 20500.0, True),
    ("descent", 0.988, 20000.0, False),
    ("descent", 0.9902, 20100.0, True),
]


def _cost(bops: float) -> dict:
    return {
        "bops": bops,
        "ebops": bops / 2,
        "dsp": 0.0 if bops < 50000 else 12.0,
        "lut": bops * 0.8,
        "layers": [
            {
                "layer": "fc1",
                "multiplications": 512,
                "bops": bops * 0.75,
                "ebops": bops * 0.375,
                "dsp": 0.0,
                "lut": bops * 0.6,
            },
            {
                "layer": "out",
                "multiplications": 160,
                "bops": bops * 0.25,
                "ebops": bops * 0.125,
                "dsp": 0.0,
                "lut": bops * 0.2,
            },
        ],
    }


def _measured(name: str, cal: float, val: float, bops: float) -> dict:
    return {
        "name": name,
        "metric_calibration": cal,
        "metric_validation": val,
        "met_calibration": cal >= 0.99,
        "met_validation": val >= 0.99,
        "cost": _cost(bops),
        "objective": bops,
    }


def _overflow(count: int, total: int, max_abs: float) -> dict:
    return {"count": count, "total": total, "share": count / total, "max_abs": max_abs}


def tuning_record(*, met: bool = True, validation: float = 0.9925) -> dict:
    """A tuning record: aptune at 20,100 BOPs against baselines at 160k, 60k and (never met)."""
    result: dict = {"met": met}
    if met:
        result.update(_measured("aptune", 0.9902, validation, 20100.0))
        result["types"] = dict(TYPES)
        result["overflows"] = {
            "x.result_t": _overflow(0, 4000, 3.5),
            "fc1.accum_t": _overflow(0, 16000, 20.0),
            "fc1.result_t": _overflow(3, 16000, 9.25),  # wraps: ap_fixed<10,4>
            "relu1.result_t": _overflow(40, 16000, 5.0),  # saturates
            "out.result_t": _overflow(0, 5000, 21.0),
            "softmax.result_t": _overflow(0, 5000, 1.0),
        }
    else:
        result.update({"best_metric": 0.97, "best_types": dict(TYPES)})
    return {
        "config": {"Model": {"Precision": "ap_fixed<16,6>"}} if met else {},
        "target": "agreement >= 0.99",
        "objective": "bops",
        "split": {"seed": 0, "calibration": 700, "validation": 300},
        "float_reference": {"accuracy": 0.96},
        "ranges": {
            "max_abs": {
                "x.result_t": 3.5,
                "fc1.accum_t": 7.9,
                "fc1.result_t": 7.9,
                "relu1.result_t": 7.9,
                "out.accum_t": 21.0,
                "out.result_t": 21.0,
                "softmax.result_t": 1.0,
            },
            "non_negative": {"relu1": True, "softmax": True},
        },
        "result": result,
        "baselines": {
            "hls4ml_default": _measured(
                "hls4ml default (config_from_keras_model, granularity='name')", 0.2, 0.21, 160800.0
            ),
            "cheapest_uniform": _measured("uniform ap_fixed<12,5>", 0.996, 0.994, 60300.0),
            "range_rule": None,
        },
        "candidates": [
            {
                "phase": phase,
                "metric": metric,
                "cost": cost,
                "secondary_cost": cost / 2,
                "met": ok,
                "types": dict(TYPES),
            }
            for phase, metric, cost, ok in CANDIDATES
        ],
        "interrupted": False,
        "seconds": 12.5,
        "evaluations_per_second": 1.12,
    }


def _profile(kind: str, types: dict[str, str], scale: float, overflowing: str | None) -> dict:
    rng = np.random.default_rng(len(kind))
    rows = []
    for name, t in types.items():
        values = rng.normal(0, scale, 400)
        ft = FixedType.parse(t)
        over = 5 if name == overflowing else 0
        layer = name.split("/")[0]
        rows.append(Row(name, layer, values.size, summarize(values), ft, over, float(scale * 4)))
    samples = 100 if kind == "activations" else None
    source = "emulator"
    return Profile(kind, source, tuple(rows), samples).to_dict()


#: A bias of the recommended config that saturates only by rounding: 0.245 rounds to 0.25, one
#: LSB past the largest value of ap_fixed<6,-1,AP_RND,AP_SAT> (0.2421875): a note, not red.
ROUNDED_BIAS = np.array([0.1, -0.2, 0.245])


def _rounded_bias_row() -> dict:
    t = FixedType.parse(TYPES["fc1.bias_t"])
    values = ROUNDED_BIAS
    return Row("fc1/bias", "fc1", values.size, summarize(values), t, 1, 0.245).to_dict()


def profiles() -> dict:
    """Weights and activations profiles under the default and the recommended config.

    The recommended ones count their own overflows on other samples (relu1: 5, where the
    validation data saw 40; fc1 none, where it saw 3), and have `ROUNDED_BIAS`."""
    default_w = {"fc1/weight": "ap_fixed<16,6>", "out/weight": "ap_fixed<16,6>"}
    default_a = {n: "ap_fixed<16,6>" for n in ("fc1", "relu1", "out", "softmax")}
    rec_w = {"fc1/weight": TYPES["fc1.weight_t"], "out/weight": TYPES["out.weight_t"]}
    rec_a = {n: TYPES[f"{n}.result_t"] for n in ("fc1", "relu1", "out", "softmax")}
    rec_weights = _profile("weights", rec_w, 0.3, "out/weight")
    rec_weights["rows"].insert(1, _rounded_bias_row())
    return {
        "default": {
            "weights": _profile("weights", default_w, 0.3, None),
            "activations": _profile("activations", default_a, 2.0, None),
        },
        "recommended": {
            "weights": rec_weights,
            "activations": _profile("activations", rec_a, 2.0, "relu1"),
        },
    }


def csim_data() -> dict:
    """A ``Comparison.to_dict()``: emulator and C simulation agree on 300 values."""
    side = {
        "top_class_agreement": 0.99,
        "max_abs_error": 0.0625,
        "mean_abs_error": 0.004,
        "accuracy": 0.95,
    }
    layers = [
        {
            "name": n,
            "kind": k,
            "type": "ap_fixed<12,6>",
            "identical": 900,
            "total": 900,
            "max_lsb_difference": 0.0,
        }
        for n, k in (("fc1", "Dense"), ("relu1", "Activation"), ("out", "Dense"))
    ]
    return {
        "n_samples": 100,
        "n_values": 300,
        "identical": 300,
        "output_type": "ap_ufixed<8,0>",
        "max_lsb_difference": 0.0,
        "max_abs_difference": 0.0,
        "first_divergence": None,
        "layers": layers,
        "float_accuracy": 0.96,
        "emulator": dict(side),
        "csim": dict(side),
        "overflows": {},
        "histograms": {
            "emulator_vs_csim_lsb": [{"label": "0", "count": 300}],
            "vs_float": {
                "edges_log2": [-10, -9, -8, -7],
                "counts": {"emulator": [50, 200, 50], "csim": [50, 200, 50]},
                "zeros": {"emulator": 0, "csim": 0},
            },
        },
        "hls_tool": "gxx",
        "cached": False,
        "timings": {},
        "project_dir": "",
        "notes": [],
        "identical_share": 1.0,
        "agree": True,
    }


def full_record() -> dict:
    """`tuning_record` with profiles, C simulation and the model's name."""
    record = tuning_record()
    record["profiles"] = profiles()
    record["csim"] = csim_data()
    record["model"] = "models/mlp.keras"
    return copy.deepcopy(record)
