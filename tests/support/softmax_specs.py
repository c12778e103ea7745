"""The softmax cases of the g++ harness (`tests.support.nnet_harness`): ``nnet::softmax``
with every implementation (stable, latency, legacy, argmax), narrow and wide types, saturating
sums and wrapping normalisation; each with the emulator call that must reproduce it."""

from __future__ import annotations

from emulation.fixed import FixedType
from emulation.layers import softmax as sm
from tests.support.nnet_harness import CppCase, Spec, seeded_inputs

T = FixedType.parse
RND_SAT = T("ap_fixed<18,8,AP_RND,AP_SAT>")
MODEL_DEFAULT_T = T("ap_fixed<16,6>")


def _softmax_decls(
    impl: str,
    data_t: FixedType,
    res_t: FixedType,
    n: int,
    *,
    exp_size: int,
    inv_size: int,
    exp_t: FixedType = RND_SAT,
    inv_t: FixedType = RND_SAT,
    accum_t: FixedType = MODEL_DEFAULT_T,
    inv_inp_t: FixedType = RND_SAT,
    inp_norm_t: FixedType | None = None,
    exp_scale: float = 1.0,
) -> str:
    norm = inp_norm_t.to_hls() if inp_norm_t is not None else "ap_fixed<1,0>"
    return "\n".join(
        [
            f"typedef {data_t.to_hls()} data_T; typedef {res_t.to_hls()} res_T;",
            "struct cfg : nnet::activ_config {",
            f"  static const unsigned n_in = {n}; static const unsigned n_slice = {n};",
            "  static const unsigned n_outer = 1; static const unsigned n_inner = 1;",
            "  static const unsigned parallelization_factor = -1;",
            f"  static const unsigned exp_table_size = {exp_size};",
            f"  static const unsigned inv_table_size = {inv_size};",
            "  static const unsigned io_type = nnet::io_parallel;",
            "  static const unsigned reuse_factor = 1; static const unsigned axis = -1;",
            "  static const nnet::softmax_implementation implementation = "
            f"nnet::softmax_implementation::{impl};",
            f"  static constexpr float exp_scale = {exp_scale!r};",
            f"  typedef {exp_t.to_hls()} exp_table_t; typedef {inv_t.to_hls()} inv_table_t;",
            f"  typedef {accum_t.to_hls()} accum_t; typedef {inv_inp_t.to_hls()} inv_inp_t;",
            f"  typedef {norm} inp_norm_t;",
            "};",
        ]
    )


def softmax_specs() -> list[Spec]:
    """The softmax harness cases (64 samples each): every implementation, hard types."""
    specs: list[Spec] = []
    call = "nnet::softmax<data_T, res_T, cfg>(x, y);"
    stable_cases = [
        # name, n, data, result, exp size, inv size, exp_t, inv_t, accum, inv_inp, scale, spread
        (
            "stable_default",
            10,
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            None,
            1024,
            RND_SAT,
            RND_SAT,
            "ap_fixed<16,6>",
            RND_SAT,
            1.0,
            3.0,
        ),
        (
            "stable_narrow_saturating",
            7,
            "ap_fixed<8,3>",
            "ap_ufixed<8,0,AP_RND,AP_SAT>",
            None,
            256,
            T("ap_fixed<10,2,AP_RND,AP_SAT>"),
            T("ap_ufixed<10,4,AP_RND_CONV,AP_SAT>"),
            "ap_fixed<10,3,AP_RND,AP_SAT>",
            T("ap_fixed<9,4>"),
            1.0,
            3.0,
        ),
        (
            "stable_wide_input",
            10,
            "ap_fixed<36,16>",
            "ap_fixed<16,6>",
            None,
            1024,
            RND_SAT,
            RND_SAT,
            "ap_fixed<18,8,AP_RND,AP_SAT>",
            RND_SAT,
            1.0,
            40.0,
        ),
        (
            "stable_wrapping_accum_scaled",
            5,
            "ap_fixed<12,5>",
            "ap_fixed<14,2,AP_RND>",
            None,
            512,
            T("ap_fixed<14,4,AP_RND>"),
            T("ap_fixed<16,6,AP_RND>"),
            "ap_fixed<9,3>",
            T("ap_fixed<12,5,AP_RND,AP_SAT>"),
            0.5,
            2.0,
        ),
        (
            "stable_unsigned",
            6,
            "ap_ufixed<12,4>",
            "ap_fixed<16,2>",
            4096,
            1024,
            RND_SAT,
            RND_SAT,
            "ap_fixed<16,6>",
            RND_SAT,
            1.0,
            4.0,
        ),
    ]
    for name, n, d, r, exp_size, inv, exp_t, inv_t, acc, inv_inp, scale, spread in stable_cases:
        dt, rt, at = T(d), T(r), T(acc)
        sizes = sm.softmax_sizes({"exp_table_size": exp_size or inv, "inv_table_size": inv}, dt)
        norm = sizes["inp_norm_t"]
        x = seeded_inputs(dt, 64, n, spread, 20)
        decls = _softmax_decls(
            "stable",
            dt,
            rt,
            n,
            exp_size=sizes["exp_table_size"],
            inv_size=inv,
            exp_t=exp_t,
            inv_t=inv_t,
            accum_t=at,
            inv_inp_t=inv_inp,
            inp_norm_t=norm,
            exp_scale=scale,
        )
        kwargs = {
            "data_t": dt,
            "inp_norm_t": norm,
            "exp_table_t": exp_t,
            "exp_table_size": sizes["exp_table_size"],
            "inv_inp_t": inv_inp,
            "inv_table_t": inv_t,
            "inv_table_size": inv,
            "accum_t": at,
            "result_t": rt,
            "exp_scale": scale,
        }
        specs.append(
            Spec(CppCase(name, decls, call, x), lambda v, kw=kwargs: sm.softmax_stable(v, **kw))
        )
    for name, n, d, r, size, exp_t, acc, spread in [
        (
            "latency_default",
            10,
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            1024,
            RND_SAT,
            "ap_fixed<16,6>",
            2.0,
        ),
        (
            "latency_narrow",
            7,
            "ap_fixed<10,4>",
            "ap_fixed<12,2,AP_RND_CONV>",
            512,
            T("ap_ufixed<18,8,AP_RND,AP_SAT>"),
            "ap_fixed<12,6,AP_RND,AP_SAT>",
            3.0,
        ),
    ]:
        dt, rt, at = T(d), T(r), T(acc)
        x = seeded_inputs(dt, 64, n, spread, 21)
        decls = _softmax_decls(
            "latency", dt, rt, n, exp_size=size, inv_size=size, exp_t=exp_t, accum_t=at
        )
        kwargs = {
            "data_t": dt,
            "exp_table_t": exp_t,
            "exp_table_size": size,
            "inv_inp_t": RND_SAT,
            "inv_table_t": RND_SAT,
            "inv_table_size": size,
            "accum_t": at,
            "result_t": rt,
        }
        specs.append(
            Spec(CppCase(name, decls, call, x), lambda v, kw=kwargs: sm.softmax_latency(v, **kw))
        )
    for name, n, d, r, size, spread in [
        ("legacy_default", 10, "ap_fixed<16,6>", "ap_fixed<16,6>", 1024, 3.0),
        ("legacy_wide", 6, "ap_fixed<24,10>", "ap_fixed<10,2,AP_RND,AP_SAT>", 512, 30.0),
    ]:
        dt, rt = T(d), T(r)
        x = seeded_inputs(dt, 64, n, spread, 22)
        decls = _softmax_decls("legacy", dt, rt, n, exp_size=size, inv_size=size)
        specs.append(
            Spec(
                CppCase(name, decls, call, x),
                lambda v, dt=dt, rt=rt, size=size: sm.softmax_legacy(
                    v,
                    data_t=dt,
                    table_t=sm.LEGACY_TABLE_T,
                    exp_table_size=size,
                    inv_table_size=size,
                    result_t=rt,
                ),
            )
        )
    for name, r in [("argmax", "ap_fixed<8,2>"), ("argmax_wrapping_one", "ap_ufixed<8,0>")]:
        dt, rt = T("ap_fixed<8,3>"), T(r)  # coarse input: ties happen
        x = seeded_inputs(dt, 64, 10, 1.0, 23)
        decls = _softmax_decls("argmax", dt, rt, 10, exp_size=1024, inv_size=1024)
        specs.append(
            Spec(CppCase(name, decls, call, x), lambda v, rt=rt: sm.softmax_argmax(v, result_t=rt))
        )
    return specs
