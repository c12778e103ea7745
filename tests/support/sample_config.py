"""An HLSConfig of the `emulation.config` tests: a model default and per-layer precisions,
reuse factors, a strategy and softmax table settings."""

from __future__ import annotations

from typing import Any


def sample_config() -> dict[str, Any]:
    return {
        "Model": {"Precision": {"default": "ap_fixed<16,6>"}, "ReuseFactor": 1},
        "LayerName": {
            "fc1": {
                "Precision": {"weight": "ap_fixed<8,2,AP_RND,AP_SAT>", "accum": "auto"},
                "ReuseFactor": 2,
            },
            "fc2": {"Precision": {"result": "ap_fixed<12,4>"}, "Strategy": "Resource"},
            "fc2_softmax": {"exp_table_t": "ap_fixed<18,8,AP_RND,AP_SAT>", "TableSize": 512},
        },
    }
