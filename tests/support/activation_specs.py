"""The activation cases of the g++ harness (`tests.support.nnet_harness`): every nnet
activation function, narrow and wide types, int wrap-around of the table index, tables that are
not a power of two, every rounding/overflow kind of result; each with the emulator call that
must reproduce it."""

from __future__ import annotations

import numpy as np

from emulation.fixed import FixedType
from emulation.layers import activation as act
from emulation.layers import parametrized as param
from tests.support.nnet_harness import CppCase, Spec, act_decls, seeded_inputs

T = FixedType.parse


def _spec_table(
    name: str,
    fn: str,
    data_t: str,
    res_t: str,
    table_t: str = "ap_fixed<18,8>",
    size: int = 1024,
    scale: float = 6.0,
    seed: int = 0,
) -> Spec:
    d, r, t = T(data_t), T(res_t), T(table_t)
    x = seeded_inputs(d, 64, 16, scale, seed)
    case = CppCase(name, act_decls(d, r, 16, size, t), f"nnet::{fn}<data_T, res_T, cfg>(x, y);", x)
    return Spec(
        case,
        lambda v: act.table_activation(v, fn, data_t=d, table_t=t, table_size=size, result_t=r),
    )


def activation_specs() -> list[Spec]:
    """The harness cases: every function, narrow and wide types, several table sizes."""
    specs = [
        _spec_table("sig_default", "sigmoid", "ap_fixed<16,6>", "ap_fixed<16,6>"),
        _spec_table(
            "sig_narrow",
            "sigmoid",
            "ap_fixed<12,5,AP_RND,AP_SAT>",
            "ap_ufixed<6,0,AP_RND,AP_SAT>",
            "ap_fixed<10,1,AP_RND_CONV,AP_SAT>",
            64,
        ),
        _spec_table(
            "sig_wide_table_n1000",
            "sigmoid",
            "ap_fixed<20,6>",
            "ap_fixed<26,2>",
            "ap_fixed<28,2,AP_RND>",
            1000,
            seed=1,
        ),
        _spec_table(
            "sig_n8_coarse_input",
            "sigmoid",
            "ap_fixed<6,8>",
            "ap_fixed<16,2>",
            size=8,
            scale=20.0,
            seed=2,
        ),
        _spec_table(
            "sig_wrapping_index",
            "sigmoid",
            "ap_fixed<48,32>",
            "ap_fixed<16,2>",
            scale=2.0**27,
            seed=3,
        ),
        _spec_table("tanh_default", "tanh", "ap_fixed<16,6>", "ap_fixed<16,6>", scale=3.0),
        _spec_table(
            "tanh_wrapping_table",
            "tanh",
            "ap_fixed<14,4>",
            "ap_fixed<10,2,AP_RND,AP_SAT>",
            "ap_fixed<8,1>",
            2048,
            scale=3.0,
            seed=4,
        ),
        _spec_table(
            "tanh_wide_table",
            "tanh",
            "ap_fixed<24,4>",
            "ap_fixed<30,2>",
            "ap_fixed<32,2,AP_RND_CONV>",
            4096,
            scale=2.0,
            seed=5,
        ),
        _spec_table(
            "softplus", "softplus", "ap_fixed<16,6>", "ap_fixed<10,4,AP_RND_CONV,AP_SAT>", seed=6
        ),
        _spec_table(
            "softplus_wide",
            "softplus",
            "ap_fixed<20,6>",
            "ap_fixed<30,5>",
            "ap_fixed<32,5,AP_RND>",
            2000,
            seed=7,
        ),
        _spec_table("softsign", "softsign", "ap_fixed<16,6>", "ap_fixed<16,6>", seed=8),
        _spec_table(
            "softsign_wide",
            "softsign",
            "ap_fixed<20,6>",
            "ap_fixed<30,2>",
            "ap_fixed<32,2,AP_RND>",
            1000,
            seed=9,
        ),
    ]
    # ELU and SELU (negative-side tables), wide inputs force the exact product path
    for name, d, r, p, t, n, scale, alpha in [
        (
            "elu",
            "ap_fixed<16,6>",
            "ap_fixed<16,6>",
            "ap_ufixed<8,0>",
            "ap_fixed<18,8>",
            1024,
            6.0,
            0.7,
        ),
        (
            "elu_wide",
            "ap_fixed<44,24>",
            "ap_fixed<20,8,AP_RND,AP_SAT>",
            "ap_fixed<16,3>",
            "ap_fixed<24,2,AP_RND>",
            512,
            2.0**22,
            1.3,
        ),
    ]:
        dt, rt, pt, tt = T(d), T(r), T(p), T(t)
        x = seeded_inputs(dt, 64, 16, scale, 10)
        case = CppCase(
            name,
            act_decls(dt, rt, 16, n, tt, pt),
            f"nnet::elu<data_T, param_T, res_T, cfg>(x, {alpha!r}, y);",
            x,
        )
        specs.append(
            Spec(
                case,
                lambda v, a=alpha, dt=dt, pt=pt, tt=tt, n=n, rt=rt: param.elu(
                    v, a, data_t=dt, param_t=pt, table_t=tt, table_size=n, result_t=rt
                ),
            )
        )
    for name, d, r, t, n, scale in [
        ("selu", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<18,8>", 1024, 6.0),
        (
            "selu_wide",
            "ap_fixed<45,22>",
            "ap_fixed<24,12,AP_RND_ZERO,AP_SAT_SYM>",
            "ap_fixed<20,3,AP_RND>",
            300,
            2.0**20,
        ),
    ]:
        dt, rt, tt = T(d), T(r), T(t)
        x = seeded_inputs(dt, 64, 16, scale, 11)
        case = CppCase(
            name, act_decls(dt, rt, 16, n, tt), "nnet::selu<data_T, res_T, cfg>(x, y);", x
        )
        specs.append(
            Spec(
                case,
                lambda v, dt=dt, tt=tt, n=n, rt=rt: act.selu(
                    v, data_t=dt, table_t=tt, table_size=n, result_t=rt
                ),
            )
        )
    # LeakyReLU, ThresholdedReLU, PReLU
    for name, d, r, p, alpha in [
        ("leaky", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_ufixed<8,-1>", 0.3),
        (
            "leaky_wide",
            "ap_fixed<50,20>",
            "ap_fixed<24,10,AP_RND_INF,AP_SAT>",
            "ap_fixed<18,1>",
            0.123,
        ),
    ]:
        dt, rt, pt = T(d), T(r), T(p)
        x = seeded_inputs(dt, 64, 16, 2.0 ** (dt.integer - 4), 12)
        case = CppCase(
            name,
            act_decls(dt, rt, 16, param_t=pt),
            f"nnet::leaky_relu<data_T, param_T, res_T, cfg>(x, {alpha!r}, y);",
            x,
        )
        specs.append(
            Spec(
                case,
                lambda v, a=alpha, dt=dt, pt=pt, rt=rt: param.leaky_relu(
                    v, a, data_t=dt, param_t=pt, result_t=rt
                ),
            )
        )
    for name, d, r, p, theta in [
        (
            "thresholded_zero",
            "ap_fixed<16,6>",
            "ap_fixed<12,4,AP_RND,AP_SAT>",
            "ap_fixed<16,6>",
            0.0,
        ),
        ("thresholded_coarse", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<4,1>", 0.37),
    ]:
        dt, rt, pt = T(d), T(r), T(p)
        x = seeded_inputs(dt, 64, 16, 2.0, 13)
        case = CppCase(
            name,
            act_decls(dt, rt, 16, param_t=pt),
            f"nnet::thresholded_relu<data_T, param_T, res_T, cfg>(x, {theta!r}, y);",
            x,
        )
        specs.append(
            Spec(
                case,
                lambda v, th=theta, pt=pt, rt=rt: param.thresholded_relu(
                    v, th, param_t=pt, result_t=rt
                ),
            )
        )
    for name, d, r, p in [
        ("prelu", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<16,6>"),
        ("prelu_wide", "ap_fixed<44,14>", "ap_fixed<20,8,AP_RND_CONV>", "ap_fixed<44,14>"),
    ]:
        dt, rt, pt = T(d), T(r), T(p)
        x = seeded_inputs(dt, 64, 16, 4.0, 14)
        alpha = pt.quantize(np.random.default_rng(15).normal(0.2, 0.3, 16))
        consts = ",".join(float(v).hex() for v in alpha)
        decls = act_decls(dt, rt, 16, param_t=pt) + f"\nstatic const double A[16] = {{{consts}}};"
        call = (
            "param_T a[16]; for (int i = 0; i < 16; i++) a[i] = A[i]; "
            "nnet::prelu<data_T, param_T, res_T, cfg>(x, a, y);"
        )
        specs.append(
            Spec(
                CppCase(name, decls, call, x),
                lambda v, al=alpha, dt=dt, pt=pt, rt=rt: param.prelu(
                    v, al, data_t=dt, param_t=pt, result_t=rt
                ),
            )
        )
    # hard sigmoid / tanh: config with static slope and shift
    for name, fn, d, r, slope, shift in [
        ("hard_sigmoid", "hard_sigmoid", "ap_fixed<16,6>", "ap_fixed<8,1,AP_RND,AP_SAT>", 0.2, 0.5),
        ("hard_sigmoid_wide", "hard_sigmoid", "ap_fixed<45,20>", "ap_fixed<20,2,AP_RND>", 0.2, 0.5),
        ("hard_tanh", "hard_tanh", "ap_fixed<16,6>", "ap_fixed<10,2,AP_RND_CONV,AP_SAT>", 0.2, 0.5),
    ]:
        dt, rt = T(d), T(r)
        st, ht = T("ap_ufixed<16,0>"), T("ap_ufixed<2,0>")
        x = seeded_inputs(dt, 64, 16, 4.0, 16)
        decls = (
            f"typedef {dt.to_hls()} data_T; typedef {rt.to_hls()} res_T;\n"
            "struct cfg { static const unsigned n_in = 16; "
            f"static const {st.to_hls()} slope; static const {ht.to_hls()} shift; "
            "static const unsigned io_type = nnet::io_parallel; "
            "static const unsigned reuse_factor = 1; };\n"
            f"const {st.to_hls()} cfg::slope = {slope!r}; "
            f"const {ht.to_hls()} cfg::shift = {shift!r};"
        )
        func = getattr(act, fn)
        specs.append(
            Spec(
                CppCase(name, decls, f"nnet::{fn}<data_T, res_T, cfg>(x, y);", x),
                lambda v, func=func, dt=dt, rt=rt, st=st, ht=ht: func(
                    v, slope=0.2, shift=0.5, data_t=dt, slope_t=st, shift_t=ht, result_t=rt
                ),
            )
        )
    # relu, relu6, linear with rounding and saturating results
    for name, fn, d, r in [
        ("relu", "relu", "ap_fixed<16,6>", "ap_ufixed<6,2,AP_RND,AP_SAT>"),
        ("relu6", "relu6", "ap_fixed<16,6>", "ap_fixed<8,3,AP_RND_CONV>"),
        ("linear", "linear", "ap_fixed<16,6>", "ap_fixed<6,2,AP_RND_MIN_INF,AP_SAT_SYM>"),
    ]:
        dt, rt = T(d), T(r)
        x = seeded_inputs(dt, 64, 16, 6.0, 17)
        emulate = {
            "relu": lambda v, rt=rt: act.relu(v, result_t=rt),
            "relu6": lambda v, rt=rt: act.relu_max(v, 6, result_t=rt),
            "linear": lambda v, rt=rt: act.linear(v, result_t=rt),
        }[fn]
        specs.append(
            Spec(
                CppCase(name, act_decls(dt, rt, 16), f"nnet::{fn}<data_T, res_T, cfg>(x, y);", x),
                emulate,
            )
        )
    return specs
