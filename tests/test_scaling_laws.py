"""calc_scaling_laws.py against published figures and independent computations.

Sources are cited next to each expected number.  Values marked "recomputed" were derived by hand from the cited
constants (outside the script) and double as regression anchors; the brute-force tests recompute them here with an
independent minimiser.  Tolerances: "abs 1e-4" for losses printed to 4 decimals, the printed precision of a table
for table rows, and where a paper's own rounding or typo limits agreement, the size of that discrepancy.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, call_main, run_cli

PRINTED = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)  # Hoffmann et al. 2022 eq. 10
# Unrounded Approach-3 fit from the paper's TeX source, as used by epoch-research/analyzing-chinchilla
# (data_analysis.ipynb, true_params): log-space a, b, e.
UNROUNDED = dict(E=math.exp(0.5267228), A=math.exp(6.0073404), B=math.exp(6.0179186), alpha=0.33917084,
                 beta=0.2849083)
EPOCH = dict(E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658)  # Besiroglu et al. 2024 Table 1


def run_json(module, *argv):
    status, out, err = call_main(module, [*argv, "--json"])
    assert status == 0, err
    return json.loads(out)


def law_loss(c, n, d):
    return c["E"] + c["A"] / n ** c["alpha"] + c["B"] / d ** c["beta"]


def brute_force_optimum(c, flops):
    """Independent: minimise L(N, C/(6N)) over log N with scipy's bounded Brent, after a coarse numpy scan."""
    from scipy.optimize import minimize_scalar

    grid = np.linspace(math.log(1e3), math.log(1e16), 20001)
    losses = law_loss(c, np.exp(grid), flops / (6 * np.exp(grid)))
    i = int(np.argmin(losses))
    res = minimize_scalar(lambda x: law_loss(c, math.exp(x), flops / (6 * math.exp(x))),
                          bounds=(grid[i - 1], grid[i + 1]), method="bounded", options={"xatol": 1e-12})
    n = math.exp(res.x)
    return n, flops / (6 * n), res.fun


# ---------------------------------------------------------------------------------------------------------------
# Chinchilla law, printed and unrounded constants
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, d, expected", [
    (70e9, 1.4e12, 1.9366), (280e9, 300e9, 1.9933), (175e9, 300e9, 2.0023), (1e9, 20e9, 2.5800),
    (8e9, 15e12, 1.9485)])
def test_loss_printed_constants(scaling, n, d, expected):
    # recomputed from Hoffmann eq. 10 printed constants; abs 1e-4 (4 printed decimals)
    data = run_json(scaling, "loss", "-N", str(n), "-D", str(d), "--law", "chinchilla")
    assert data["results"][0]["loss"] == pytest.approx(expected, abs=1e-4)
    assert data["results"][0]["loss"] == pytest.approx(law_loss(PRINTED, n, d), rel=1e-12)


def test_frontier_constants_printed(scaling):
    k = scaling.frontier_constants(scaling.PARAMETRIC_LAWS["chinchilla"])
    # G = (alpha A / (beta B))^(1/(alpha+beta)), a = beta/(alpha+beta): recomputed, abs 1e-4
    assert k["G"] == pytest.approx(1.3447, abs=1e-4)
    assert k["a"] == pytest.approx(0.4516, abs=1e-4)
    assert k["b"] == pytest.approx(0.5484, abs=1e-4)


@pytest.mark.parametrize("flops, n, d, loss", [
    (1.92e19, 3.061e8, 1.046e10, None), (2.21e19, 3.261e8, 1.129e10, None), (1e21, 1.824e9, 9.136e10, 2.3289),
    (5.76e23, 3.219e10, 2.982e12, 1.9307), (1e25, 1.168e11, 1.427e13, 1.8453)])
def test_optimum_printed_constants(scaling, flops, n, d, loss):
    # recomputed closed-form values (rel 1e-3: 4 significant figures)
    point = run_json(scaling, "optimal", "-C", str(flops), "--law", "chinchilla")["results"][0]
    assert point["params"] == pytest.approx(n, rel=1e-3)
    assert point["tokens"] == pytest.approx(d, rel=1e-3)
    if loss is not None:
        assert point["loss"] == pytest.approx(loss, abs=1e-4)


@pytest.mark.parametrize("constants, name", [(PRINTED, "chinchilla"), (UNROUNDED, "chinchilla-unrounded"),
                                             (EPOCH, "epoch")])
@pytest.mark.parametrize("flops", [1.92e19, 1e21, 5.76e23, 1e25, 1e27])
def test_closed_form_equals_brute_force(scaling, constants, name, flops):
    law = scaling.PARAMETRIC_LAWS[name]
    point = scaling.chinchilla_optimum(law, flops)
    n, d, loss = brute_force_optimum(constants, flops)
    assert point["params"] == pytest.approx(n, rel=1e-6)
    assert point["tokens"] == pytest.approx(d, rel=1e-6)
    assert point["loss"] == pytest.approx(loss, rel=1e-12)
    # L*(C) from its own closed formula equals L(N*, D*)
    assert point["loss"] == pytest.approx(law_loss(constants, point["params"], point["tokens"]), rel=1e-12)


@pytest.mark.parametrize("loss, flops", [(2.5, 2.132e20), (2.2, 4.338e21), (2.0, 1.110e23)])
def test_compute_for_loss_and_round_trip(scaling, loss, flops):
    point = run_json(scaling, "optimal", "--target-loss", str(loss), "--law", "chinchilla")["results"][0]
    assert point["flops"] == pytest.approx(flops, rel=1e-3)  # recomputed inverse, 4 significant figures
    # independent: the returned (N, D) spends C = 6ND and the printed law gives exactly the target loss there
    assert 6 * point["params"] * point["tokens"] == pytest.approx(point["flops"], rel=1e-9)
    assert law_loss(PRINTED, point["params"], point["tokens"]) == pytest.approx(loss, rel=1e-9)
    law = scaling.PARAMETRIC_LAWS["chinchilla"]
    back = scaling.chinchilla_optimum(law, point["flops"])
    assert back["loss"] == pytest.approx(loss, rel=1e-12)
    assert scaling.chinchilla_compute_for_loss(law, back["loss"])["flops"] == pytest.approx(point["flops"], rel=1e-9)


@pytest.mark.parametrize("n, flops, d", [(400e6, 3.47e19, 1.447e10), (1.3e9, 4.72e20, 6.055e10)])
def test_frontier_through_params(scaling, n, flops, d):
    # recomputed from the printed constants: C = 6 (N/G)^(1/a), D = C/(6N); tolerance = half a unit in the last
    # printed figure (3 figures for C, 4 for D)
    point = run_json(scaling, "optimal", "--params", str(n), "--law", "chinchilla")["results"][0]
    assert point["flops"] == pytest.approx(flops, rel=0.005 / 3.47)
    assert point["tokens"] == pytest.approx(d, rel=0.0005 / 1.447)
    # independent: at that budget a brute-force minimisation over N lands on this N
    assert brute_force_optimum(PRINTED, point["flops"])[0] == pytest.approx(n, rel=1e-6)


def test_frontier_through_tokens(scaling):
    # independent: brute-force D* at 3e22 FLOPs under Epoch's constants; the frontier through that D must be the
    # 3e22 budget (C ~ D^(1/b) ~ D^2, so the brute force's 1e-6 in D becomes ~2e-6 in C)
    n_star, d_star, _ = brute_force_optimum(EPOCH, 3e22)
    back = scaling.chinchilla_frontier_at_tokens(scaling.PARAMETRIC_LAWS["epoch"], d_star)
    assert back["flops"] == pytest.approx(3e22, rel=1e-5)
    assert back["params"] == pytest.approx(n_star, rel=1e-5)


def test_gopher_compute_40b_unrounded_vs_32b_printed(scaling):
    # Hoffmann et al. 2022 sec. 3.3 / Fig. 4: "at Gopher's budget ... a 40B model"; unrounded constants give it,
    # the printed rounded ones 32B.  rel 1e-3 on the recomputed 40.36B; the paper's "40B" to half its last unit.
    unrounded = run_json(scaling, "optimal", "-C", "5.76e23", "--law", "chinchilla-unrounded")["results"][0]
    printed = run_json(scaling, "optimal", "-C", "5.76e23", "--law", "chinchilla")["results"][0]
    assert unrounded["params"] == pytest.approx(4.036e10, rel=1e-3)
    assert unrounded["params"] == pytest.approx(40e9, rel=0.5 / 40)
    assert printed["params"] == pytest.approx(32.19e9, rel=1e-3)
    k = scaling.frontier_constants(scaling.PARAMETRIC_LAWS["chinchilla-unrounded"])
    assert k["G"] == pytest.approx(1.300, abs=1e-3)
    assert k["a"] == pytest.approx(0.4565, abs=1e-4)


# Hoffmann Table A3, Approach 3 columns: params -> FLOPs, tokens (175B FLOPs printed 1.26e24: typo for 1.26e25).
TABLE_A3_APPROACH3 = [(400e6, 2.21e19, 9.2e9), (1e9, 1.62e20, 27.1e9), (10e9, 2.46e22, 410.1e9),
                      (67e9, 1.71e24, 4.1e12), (175e9, 1.26e25, 12.0e12), (280e9, 3.52e25, 20.1e12),
                      (520e9, 1.36e26, 43.5e12), (1e12, 5.65e26, 94.1e12), (10e12, 8.55e28, 1425.5e12)]


@pytest.mark.parametrize("n, flops, d", TABLE_A3_APPROACH3)
def test_table_a3_approach3_rows_to_20_percent(scaling, n, flops, d):
    # No printed constants regenerate Table A3 exactly; the unrounded fit agrees to within 20% (10T row: 18%).
    point = scaling.chinchilla_frontier_at_params(scaling.PARAMETRIC_LAWS["chinchilla-unrounded"], n)
    assert point["flops"] == pytest.approx(flops, rel=0.20)
    assert point["tokens"] == pytest.approx(d, rel=0.20)


# Hoffmann Table A3 as printed: params, Approach 2 FLOPs, tokens, Approach 3 FLOPs, tokens.
TABLE_A3_PRINTED = [(400e6, 1.84e19, 7.7e9, 2.21e19, 9.2e9), (1e9, 1.20e20, 20.0e9, 1.62e20, 27.1e9),
                    (10e9, 1.32e22, 219.5e9, 2.46e22, 410.1e9), (67e9, 6.88e23, 1.7e12, 1.71e24, 4.1e12),
                    (175e9, 4.54e24, 4.3e12, 1.26e24, 12.0e12), (280e9, 1.18e25, 7.1e12, 3.52e25, 20.1e12),
                    (520e9, 4.19e25, 13.4e12, 1.36e26, 43.5e12), (1e12, 1.59e26, 26.5e12, 5.65e26, 94.1e12),
                    (10e12, 1.75e28, 292.0e12, 8.55e28, 1425.5e12)]


def test_table_a3_data_with_the_175b_typo_corrected(scaling):
    # the script holds Table A3 as printed except the 175B Approach-3 FLOPs, 1.26e24 -> 1.26e25
    assert len(scaling.TABLEA3_ROWS) == len(TABLE_A3_PRINTED)
    for held, printed in zip(scaling.TABLEA3_ROWS, TABLE_A3_PRINTED):
        expected = printed if printed[0] != 175e9 else printed[:3] + (1.26e25, printed[4])
        assert held == expected
    # the correction is C = 6ND of the row's own N and D, to the 3 printed figures
    n, _, _, c3, d3 = scaling.TABLEA3_ROWS[4]
    assert c3 == pytest.approx(6 * n * d3, rel=0.005 / 1.26)


def test_epoch_constants(scaling):
    # Besiroglu et al. 2024 Table 1 constants; a, G, the optima and losses recomputed by hand from them
    # (rel 1e-3 / abs 1e-4: the figures are given to 4 significant figures or 4 decimals)
    law = scaling.PARAMETRIC_LAWS["epoch"]
    assert (law.E, law.A, law.B, law.alpha, law.beta) == tuple(EPOCH.values())
    k = scaling.frontier_constants(law)
    assert k["a"] == pytest.approx(0.5126, abs=1e-4)
    assert k["G"] == pytest.approx(0.11963, rel=1e-4)
    gopher = scaling.chinchilla_optimum(law, 5.76e23)
    assert gopher["params"] == pytest.approx(7.225e10, rel=1e-3)
    assert gopher["tokens"] == pytest.approx(1.329e12, rel=1e-3)
    assert gopher["tokens_per_param"] == pytest.approx(18.39, abs=0.01)
    assert gopher["loss"] == pytest.approx(1.9744, abs=1e-4)
    p21 = scaling.chinchilla_optimum(law, 1e21)
    assert (p21["params"], p21["tokens"]) == (pytest.approx(2.778e9, rel=1e-3), pytest.approx(5.999e10, rel=1e-3))
    p25 = scaling.chinchilla_optimum(law, 1e25)
    assert (p25["params"], p25["tokens"]) == (pytest.approx(3.121e11, rel=1e-3), pytest.approx(5.341e12, rel=1e-3))
    assert scaling.chinchilla_loss(law, 70e9, 1.4e12) == pytest.approx(1.9739, abs=1e-4)


# ---------------------------------------------------------------------------------------------------------------
# Chinchilla tables and the Approach 1/2 laws
# ---------------------------------------------------------------------------------------------------------------
# Hoffmann et al. 2022 Table 3, as printed: params, FLOPs, FLOPs in Gopher units, tokens.
TABLE3 = [(400e6, 1.92e19, 1 / 29968, 8.0e9), (1e9, 1.21e20, 1 / 4761, 20.2e9), (10e9, 1.23e22, 1 / 46, 205.1e9),
          (67e9, 5.76e23, 1, 1.5e12), (175e9, 3.85e24, 6.7, 3.7e12), (280e9, 9.90e24, 17.2, 5.9e12),
          (520e9, 3.43e25, 59.5, 11.0e12), (1e12, 1.27e26, 221.3, 21.2e12), (10e12, 1.30e28, 22515.9, 216.2e12)]


def test_table3_returns_the_nine_published_rows(scaling):
    data = run_json(scaling, "table3")
    assert len(data["rows"]) == 9
    for row, (n, c, units, d) in zip(data["rows"], TABLE3):
        assert row["params"] == int(n) and row["tokens"] == int(d)
        assert row["flops"] == c and row["gopher_units"] == pytest.approx(units, rel=1e-12)


def test_approach1_law_fitted_to_table3(scaling):
    data = run_json(scaling, "table3")
    assert data["fit"]["k"] == pytest.approx(0.09916, rel=1e-3)
    assert data["fit"]["a"] == pytest.approx(0.4981, abs=1e-4)
    # Table 2, Approach 1: a = 0.50 with 10th-90th percentile (0.488, 0.502)
    assert 0.488 <= data["fit"]["a"] <= 0.502
    for n, c, _, d in TABLE3:
        fitted = data["fit"]["k"] * c ** data["fit"]["a"]
        assert fitted == pytest.approx(n, rel=0.015)
        # D = C/(6N): each row is only as consistent as its own C/(6ND) (0.955 for the 67B row, whose 1.5T is
        # rounded from ~1.43T), plus the 1.5% of the fit
        assert c / (6 * fitted) == pytest.approx(d, rel=abs(1 - c / (6 * n * d)) + 0.015)


def test_table_fits_of_a3_within_table2_intervals(scaling):
    fits = scaling.table_fits()
    # Table 2: Approach 2 a = 0.49 (0.462, 0.534); Approach 3 a = 0.46 (0.454, 0.455) - the A3 table rows give
    # 0.4587, above Hoffmann's interval, one more sign that the table and the printed fit do not agree exactly.
    assert 0.462 <= fits["approach2"][1] <= 0.534
    assert fits["approach2"][1] == pytest.approx(0.4899, abs=1e-4)
    assert fits["approach3-table"][1] == pytest.approx(0.4587, abs=1e-4)


def test_gopher_units(scaling):
    # Table 3: the 400M row is 1/29,968 of Gopher's 5.76e23 FLOPs (the 67B row, 1.0); the paper divides unrounded
    # FLOPs, so the rounded 1.92e19 gives 1/30,000: rel 0.2%
    assert scaling.GOPHER_FLOPS == 5.76e23
    rows = run_json(scaling, "table3")["rows"]
    assert rows[3]["flops"] == scaling.GOPHER_FLOPS and rows[3]["gopher_units"] == 1
    assert scaling.GOPHER_FLOPS / rows[0]["flops"] == pytest.approx(1 / rows[0]["gopher_units"], rel=0.002)


def test_tokens_per_param_rule(scaling):
    for flops, n, d in [(5.76e23, 6.928e10, 1.386e12), (1e21, 2.887e9, 5.774e10)]:
        point = run_json(scaling, "optimal", "-C", str(flops), "--law", "tpp-20")["results"][0]
        assert point["params"] == pytest.approx(n, rel=1e-3)
        assert point["tokens"] == pytest.approx(d, rel=1e-3)
        assert point["tokens_per_param"] == pytest.approx(20, rel=1e-12)
    # Chinchilla 70B on 1.4T tokens (Hoffmann Table 1) is the 20 tpp rule
    assert run_json(scaling, "models", "--preset", "chinchilla-70b")["rows"][0]["tokens_per_param"] == 20
    row = run_json(scaling, "models", "--preset", "llama-3-8b")["rows"][0]
    assert row["tokens_per_param"] == 1875  # Llama 3 model card: 15T tokens for 8B
    point = run_json(scaling, "optimal", "-C", "1e23", "--law", "tpp-20", "--tokens-per-param", "1875")["results"][0]
    assert point["tokens_per_param"] == pytest.approx(1875, rel=1e-9)


def test_models_table_verdicts(scaling):
    rows = {r["model"]: r for r in run_json(scaling, "models", "--law", "chinchilla-unrounded")["rows"]}
    # GPT-3 and Gopher (300B tokens) are under-trained under any Chinchilla law; Llama-3-8B over-trained
    assert rows["gpt3-175b"]["verdict"] == "under-trained" and rows["gopher-280b"]["verdict"] == "under-trained"
    assert rows["llama-3-8b"]["verdict"] == "over-trained"
    for r in rows.values():
        flops = 6 * r["params"] * r["tokens"]
        assert r["flops"] == pytest.approx(flops, rel=1e-12)
        n, d, loss = brute_force_optimum(UNROUNDED, flops)
        factor = r["tokens"] / d
        assert r["trained_factor"] == pytest.approx(max(factor, 1 / factor), rel=1e-5)
        assert r["optimal_loss"] <= r["loss"] + 1e-12


# ---------------------------------------------------------------------------------------------------------------
# Kaplan et al. 2020
# ---------------------------------------------------------------------------------------------------------------
def test_kaplan_single_variable_and_joint(scaling):
    res = run_json(scaling, "kaplan", "-N", "1e9", "-D", "22e9", "--loss", "3")["results"]
    assert res["loss_of_params"] == pytest.approx(2.3756, abs=1e-4)  # (8.8e13/1e9)^0.076, eq 1.1
    assert res["loss_of_tokens"] == pytest.approx(2.0992, abs=1e-4)  # (5.4e13/22e9)^0.095, eq 1.2
    assert res["loss_joint"] == pytest.approx(2.3693, abs=1e-4)  # eq 1.5 with Table 2 constants
    assert res["overfit_fraction"] == pytest.approx(0.0218, abs=1e-4)  # eq 4.2
    assert res["min_tokens_no_overfit"] == pytest.approx(2.285e10, rel=1e-3)  # eq 4.4
    assert res["critical_batch_tokens"] == pytest.approx(1.069e6, rel=1e-3)  # eq 1.4, B* = 2e8
    assert res["alpha_Cmin_predicted"] == pytest.approx(0.0520, abs=1e-4)  # eq 1.8; App. B.7 prints ~0.052
    assert res["pf_day_flops"] == 8.64e19  # sec 1.3
    joint = run_json(scaling, "kaplan", "-N", "175e9", "-D", "300e9")["results"]["loss_joint"]
    assert joint == pytest.approx(1.6610, abs=1e-4)
    b2 = run_json(scaling, "kaplan", "--loss", "2")["results"]["critical_batch_tokens"]
    assert b2 == pytest.approx(7.371e6, rel=1e-3)


def test_kaplan_compute_laws(scaling):
    one = run_json(scaling, "kaplan", "-C", str(8.64e19), "--compute-is-min")["results"]
    # App. A at C_min = 1 PF-day: N = 1.3e9, B = 2e6, S = 5.4e3, D = 2e10
    assert (one["optimal_params"], one["batch_tokens"], one["min_steps"], one["tokens_app_a"]) == (
        pytest.approx(1.3e9), pytest.approx(2e6), pytest.approx(5.4e3), pytest.approx(2e10))
    assert one["loss_of_compute"] == pytest.approx(2.6581, abs=1e-4)  # eq 1.3
    big = run_json(scaling, "kaplan", "-C", str(1e4 * 8.64e19), "--compute-is-min")["results"]
    assert big["loss_of_compute"] == pytest.approx(1.6771, abs=1e-4)
    assert big["loss_of_compute"] == pytest.approx(1.7, abs=0.05)  # sec 6.3: L* ~ 1.7 nats at C* ~ 1e4 PF-days
    # Hoffmann et al. 2022 App. D.4: Kaplan's law puts 4.68B at 1e21 FLOPs (C = 2 C_min, training at B_crit)
    kap = run_json(scaling, "optimal", "-C", "1e21", "--law", "kaplan")["results"][0]
    assert kap["params"] == pytest.approx(4.68e9, rel=1e-3)
    # 10x compute -> 10^0.73 = 5.37x params (App. A exponent, computed here).  Hoffmann sec. 1 quotes this as
    # "5.5x" (= 10^0.74): the 2.3% gap is in the quote, so it is checked at 3%, not at its printed precision.
    ratio = run_json(scaling, "optimal", "-C", "1e22", "--law", "kaplan")["results"][0]["params"] / kap["params"]
    assert ratio == pytest.approx(10 ** 0.73, rel=1e-9)
    assert ratio == pytest.approx(5.5, rel=0.03)


def test_kaplan_non_embedding_params_from_shape(scaling):
    res = run_json(scaling, "kaplan", "-l", "12", "-hs", "768")
    assert res["inputs"]["params"] == 12 * 12 * 768 ** 2  # eq 2.1 standard shape: 84,934,656


# ---------------------------------------------------------------------------------------------------------------
# DeepSeek LLM, Llama 3
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layers, hidden, m, flops, batch, lr, released_batch, released_lr", [
    (30, 4096, 4.228e10, 8.456e22, 9.22e6, 4.25e-4, 2304 * 4096, 4.2e-4),
    (95, 8192, 4.973e11, 9.946e23, 2.07e7, 3.12e-4, 4608 * 4096, 3.2e-4)])
def test_deepseek_released_batch_and_lr(scaling, layers, hidden, m, flops, batch, lr, released_batch, released_lr):
    res = run_json(scaling, "deepseek", "-l", str(layers), "-hs", str(hidden), "-s", "4096", "-D", "2T")["results"]
    assert res["model_flops_per_token"] == pytest.approx(m, rel=1e-3)
    assert res["flops"] == pytest.approx(flops, rel=1e-3)
    # DeepSeek LLM sec. 3: B_opt = 0.2920 C^0.3271, eta_opt = 0.3118 C^-0.1250 (values here to 3 figures)
    assert res["optimum"]["batch_tokens"] == pytest.approx(0.2920 * res["flops"] ** 0.3271, rel=1e-12)
    assert res["optimum"]["batch_tokens"] == pytest.approx(batch, abs=0.005 * 10 ** math.floor(math.log10(batch)))
    assert res["optimum"]["learning_rate"] == pytest.approx(0.3118 * res["flops"] ** -0.1250, rel=1e-12)
    assert res["optimum"]["learning_rate"] == pytest.approx(lr, abs=0.005 * 10 ** math.floor(math.log10(lr)))
    # DeepSeek LLM sec. 2.2 (released hyperparameters of the 7B and 67B models): rel 10%
    assert res["optimum"]["batch_tokens"] == pytest.approx(released_batch, rel=0.10)
    assert res["optimum"]["learning_rate"] == pytest.approx(released_lr, rel=0.10)


@pytest.mark.parametrize("layers, hidden, n1_over_m, n2_over_m", [(8, 512, 0.43, 1.32), (80, 8192, 0.92, 0.94)])
def test_deepseek_table3_pins_the_attention_coefficient(scaling, layers, hidden, n1_over_m, n2_over_m):
    # DeepSeek LLM (arXiv 2401.02954) Table 3, first and last rows: 6N1/M and 6N2/M with 6N1 = 72 l d^2,
    # 6N2 = 6N1 + 6 n_vocab d (vocabulary 102,400, sec. 2.1) and l_seq = 4096, printed to 2 decimals (abs 0.005).
    # With 12 l d l_seq in M (eq. 2) the ratios match; with 6 the first row would be 0.60, not 0.43.
    m = scaling.deepseek_flops_per_token(layers, hidden, 4096)
    six_n1 = 72 * layers * hidden ** 2
    assert six_n1 / m == pytest.approx(n1_over_m, abs=0.005)
    assert (six_n1 + 6 * 102400 * hidden) / m == pytest.approx(n2_over_m, abs=0.005)


@pytest.mark.parametrize("flops", [1e17, 1e21, 1e25])
def test_deepseek_allocation_spends_the_budget(scaling, flops):
    opt = scaling.deepseek_optimum(flops)
    assert opt["model_flops_per_token"] * opt["tokens"] / flops == pytest.approx(1.0001, abs=1e-4)


def test_llama3_token_fit_and_documented_mismatch(scaling):
    point = run_json(scaling, "optimal", "-C", "3.8e25", "--law", "llama3")
    assert point["results"][0]["tokens"] == pytest.approx(1.046e13, rel=1e-3)  # 0.29 * (3.8e25)^0.53
    # The paper's 16.55T is *not* what its printed constants give; the script says so.
    assert point["results"][0]["tokens"] < 0.7 * 16.55e12
    assert any("16.55T" in note for note in point["notes"])


# ---------------------------------------------------------------------------------------------------------------
# Muennighoff et al. 2023 and Sardana et al. 2023
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, d, u, expected", [(6.34e9, 242e9, 25e9, 2.2256440889984477),
                                               (8.67e9, 178e9, 25e9, 2.2269634075087867)])
def test_muennighoff_readme_values(scaling, n, d, u, expected):
    # huggingface/datablations README "Parametric Fit": printed outputs of scaling_law(N, D, U)
    assert scaling.muennighoff_loss(n, d, u)["loss"] == pytest.approx(expected, abs=1e-12)


def test_muennighoff_allocation_and_repetition_value(scaling):
    res = run_json(scaling, "data-constrained", "-C", "1e22", "-U", "25B")["results"]["optimum"]
    grid = res["readme_grid"]
    assert grid["tokens"] == pytest.approx(2.37337e11, rel=1e-4)
    assert grid["params"] == pytest.approx(7.02236e9, rel=1e-4)
    assert grid["epochs"] == pytest.approx(9.49, abs=0.01)
    assert res["continuous"]["loss"] <= grid["loss"] + 1e-12
    # D'/U = 1 + R_D* (1 - exp(-(epochs-1)/R_D*)): 4 epochs worth 3.726 fresh ones, limit 16.388
    four = scaling.muennighoff_loss(1e9, 100e9, 25e9)
    assert four["effective_tokens"] / 25e9 == pytest.approx(3.726, abs=5e-4)
    many = scaling.muennighoff_loss(1e9, 25e9 * 1e6, 25e9)
    assert many["effective_tokens"] / 25e9 == pytest.approx(16.388, abs=5e-4)


def test_sardana_13b_to_7b(scaling):
    data = run_json(scaling, "inference", "--params", "13B", "--inference-tokens", "2T", "--fixed-params", "7B",
                    "--law", "chinchilla-unrounded")["results"]
    ref, best, fixed = data["chinchilla_optimal"], data["inference_optimal"], data["fixed"]
    # Sardana et al. 2023 Fig. 1 setup (13B Chinchilla-optimal, 2T inference tokens, a 7B alternative) with
    # Hoffmann's unrounded constants; D, loss, N*, D* and the saving recomputed by hand (4 significant figures)
    assert ref["tokens"] == pytest.approx(6.174e11, rel=1e-3)
    assert data["target_loss"] == pytest.approx(2.0238, abs=1e-4)
    assert (best["params"], best["tokens"]) == (pytest.approx(7.12e9, rel=1e-3), pytest.approx(1.295e12, rel=1e-3))
    assert fixed["tokens"] == pytest.approx(1.329e12, rel=1e-3)
    saving = ref["total_flops"] - fixed["total_flops"]
    assert saving == pytest.approx(1.633e22, rel=1e-3)
    # Sardana et al. Fig. 1: the 7B saves 1.7e22 FLOPs (17%); rel 5%
    assert saving == pytest.approx(1.7e22, rel=0.05)
    assert saving / ref["total_flops"] == pytest.approx(0.17, rel=0.05)
    # the optimum is an independent 1-D minimum: total FLOPs at N* not above nearby sizes
    law = UNROUNDED

    def total(n):
        d = (law["B"] / (data["target_loss"] - law["E"] - law["A"] / n ** law["alpha"])) ** (1 / law["beta"])
        return 6 * n * d + 2 * n * 2e12
    assert total(best["params"]) <= min(total(best["params"] * 1.001), total(best["params"] / 1.001))


def test_sardana_without_inference_is_chinchilla(scaling):
    data = run_json(scaling, "inference", "--params", "13B", "--inference-tokens", "0",
                    "--law", "chinchilla-unrounded")["results"]
    assert data["inference_optimal"]["params"] == pytest.approx(13e9, rel=1e-6)
    assert data["inference_optimal"]["tokens"] == pytest.approx(data["chinchilla_optimal"]["tokens"], rel=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Fitting: synthetic runs from known constants
# ---------------------------------------------------------------------------------------------------------------
TRUTH = EPOCH
NOISE = 0.005  # standard deviation of the Gaussian noise on log loss


def synthetic_runs(noise: float, seed: int = 1234, same_grid: bool = False):
    """9 isoFLOP budgets 6e18..3e21 (Hoffmann Approach 2 range), 26-27 sizes each (240 runs, as Epoch's refit),
    N centred on the optimum; ``same_grid``: 27 sizes at every budget."""
    rng = np.random.default_rng(seed)
    budgets = np.geomspace(6e18, 3e21, 9)
    G = (TRUTH["alpha"] * TRUTH["A"] / (TRUTH["beta"] * TRUTH["B"])) ** (1 / (TRUTH["alpha"] + TRUTH["beta"]))
    a = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    rows = []
    for i, c in enumerate(budgets):
        centre = G * (c / 6) ** a
        for offset in np.linspace(-1.0, 1.0, 27 if i < 6 or same_grid else 26):
            n = centre * 10 ** offset
            d = c / (6 * n)
            rows.append((n, d, c, law_loss(TRUTH, n, d) * math.exp(noise * rng.standard_normal())))
    return rows


def write_runs(path, rows, columns=("N", "D", "C", "loss")):
    with open(path, "w") as handle:
        handle.write(",".join(columns) + "\n")
        for row in rows:
            handle.write(",".join(repr(float(x)) for x in row) + "\n")


def huber_standard_errors(rows, noise, delta=1e-3):
    """Asymptotic SEs of the Huber M-estimator for Gaussian noise: (E psi^2 / E psi'^2) (J^T J)^-1, with J the
    Jacobian of the log-law in (log A, log B, log E, alpha, beta) at the truth (Huber 1964; Huber & Ronchetti
    2009 sec. 6.3).  Computed here, independently of the script."""
    from scipy.special import erf

    n, d = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    terms = np.stack([TRUTH["A"] / n ** TRUTH["alpha"], TRUTH["B"] / d ** TRUTH["beta"], np.full(n.shape, TRUTH["E"])])
    w = terms / terms.sum(0)
    jac = np.stack([w[0], w[1], w[2], -w[0] * np.log(n), -w[1] * np.log(d)], 1)
    p_inside = erf(delta / (noise * math.sqrt(2)))
    z = delta / noise
    e_psi2 = (noise ** 2 * (p_inside - 2 * z * math.exp(-z * z / 2) / math.sqrt(2 * math.pi))
              + delta ** 2 * (1 - p_inside))
    cov = e_psi2 / p_inside ** 2 * np.linalg.inv(jac.T @ jac)
    se = np.sqrt(np.diag(cov))
    # a = beta/(alpha+beta): delta method
    s = TRUTH["alpha"] + TRUTH["beta"]
    grad_a = np.array([0, 0, 0, -TRUTH["beta"] / s ** 2, TRUTH["alpha"] / s ** 2])
    return {"logA": se[0], "logB": se[1], "logE": se[2], "alpha": se[3], "beta": se[4],
            "a": math.sqrt(grad_a @ cov @ grad_a)}


@pytest.fixture(scope="module")
def synthetic_fit(scaling, tmp_path_factory):
    rows = synthetic_runs(NOISE)
    path = tmp_path_factory.mktemp("runs") / "runs.csv"
    write_runs(path, rows)
    argv = ["fit", str(path), "--bootstrap", "60", "--seed", "7"]
    try:
        import matplotlib  # noqa: F401

        argv += ["--plot", str(path.with_suffix(".png"))]
    except ImportError:
        pass
    data = run_json(scaling, *argv)
    if "--plot" in argv:
        assert path.with_suffix(".png").stat().st_size > 1000  # residuals figure written
    return rows, data


def test_fit_recovers_truth_within_noise_derived_tolerance(synthetic_fit):
    rows, data = synthetic_fit
    assert len(rows) == 240
    fit, se = data["approach3"], huber_standard_errors(rows, NOISE)
    assert data["approach3"]["starts"] == 4500
    # the documented JSON keys of fit
    assert set(data) == {"command", "inputs", "approach3", "approach2", "notes"}
    assert set(fit) == {"E", "A", "B", "alpha", "beta", "a", "b", "objective", "starts", "runs", "ci95", "se",
                        "bootstrap"}
    assert set(data["approach2"]) == {"budgets", "k", "a", "k_tokens", "b"}
    assert abs(math.log(fit["A"] / TRUTH["A"])) < 4 * se["logA"]
    assert abs(math.log(fit["B"] / TRUTH["B"])) < 4 * se["logB"]
    assert abs(math.log(fit["E"] / TRUTH["E"])) < 4 * se["logE"]
    assert abs(fit["alpha"] - TRUTH["alpha"]) < 4 * se["alpha"]
    assert abs(fit["beta"] - TRUTH["beta"]) < 4 * se["beta"]
    assert abs(fit["a"] - TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])) < 4 * se["a"]


def test_bootstrap_se_matches_asymptotic_se(synthetic_fit):
    rows, data = synthetic_fit
    se = huber_standard_errors(rows, NOISE)
    boot = data["approach3"]["se"]
    # An SE estimated from B = 60 resamples has a relative standard deviation of about 1/sqrt(2(B-1)) = 9.2%:
    # allow 4 of those (the asymptotic formula is itself a large-sample approximation)
    band = 4 / math.sqrt(2 * (60 - 1))
    for key, analytic in (("alpha", se["alpha"]), ("beta", se["beta"]), ("a", se["a"]),
                          ("E", se["logE"] * data["approach3"]["E"])):
        assert abs(boot[key] / analytic - 1) < band, key
    for key in ("E", "A", "B", "alpha", "beta", "a"):
        low, high = data["approach3"]["ci95"][key]
        assert low <= data["approach3"][key] <= high


def test_fit_without_noise_is_exact(scaling, tmp_path):
    rows = synthetic_runs(0.0)
    path = tmp_path / "exact.csv"
    write_runs(path, [(n, d, loss) for n, d, _, loss in rows], ("N", "D", "loss"))
    fit = run_json(scaling, "fit", str(path), "--bootstrap", "0", "--approach", "3")["approach3"]
    # noiseless data: the optimum is the truth; the fitter reaches it to ~1e-12, 1e-8 leaves room for other BLAS
    for key in ("E", "A", "B", "alpha", "beta"):
        assert fit[key] == pytest.approx(TRUTH[key], rel=1e-8), key


def test_approach2_exponent_exact_on_centred_grid(scaling, tmp_path):
    # On a grid symmetric in log N about each budget's optimum, the isoFLOP curve has the same shape at every
    # budget (L - E scales as C^-alpha*beta/(alpha+beta)), so the parabola vertex is off by the same factor each
    # time and the fitted exponent is exact.
    rows = synthetic_runs(0.0, same_grid=True)
    path = tmp_path / "iso.csv"
    write_runs(path, [(n, c, loss) for n, _, c, loss in rows], ("N", "C", "loss"))
    a2 = run_json(scaling, "fit", str(path), "--approach", "2")["approach2"]
    assert sum(b["status"] == "ok" for b in a2["budgets"]) == 9
    truth_a = TRUTH["beta"] / (TRUTH["alpha"] + TRUTH["beta"])
    assert a2["a"] == pytest.approx(truth_a, abs=1e-9)
    assert a2["b"] == pytest.approx(1 - truth_a, abs=1e-9)


def test_approach2_rejects_edge_minimum(scaling):
    flops = np.full(5, 1e20)
    n = np.geomspace(1e7, 1e8, 5)  # far below the optimum (~2e9): loss still falling at the largest size
    runs = {"N": n, "D": flops / (6 * n), "C": flops, "loss": law_loss(TRUTH, n, flops / (6 * n))}
    result = scaling.fit_approach2(runs)
    assert result["budgets"][0]["status"].startswith("skipped")
    assert "a" not in result


# ---------------------------------------------------------------------------------------------------------------
# Contract: formats, bad input, hostile argv
# ---------------------------------------------------------------------------------------------------------------
def one_error_line(status, err):
    assert status == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("calc_scaling_laws.py: error:"), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("argv, needle", [
    (["optimal", "-C", "0"], "--compute"), (["optimal", "-C", "-1e21"], "--compute"),
    (["optimal", "-N", "nan"], "--params"), (["optimal", "-C", "inf"], "--compute"),
    (["loss", "-N", "0", "-D", "1T"], "--params"), (["loss", "-N", "7B", "-D", "-5"], "--tokens"),
    (["optimal", "--target-loss", "1.5", "--law", "chinchilla"], "E = 1.69"),
    (["optimal", "--target-loss", "1.0"], "--target-loss"),
    (["inference", "--inference-tokens", "1T", "--target-loss", "1.6", "--law", "chinchilla"], "--target-loss"),
    (["optimal", "-C", "1e21", "-N", "7B"], "exactly one"), (["models", "--law", "kaplan"], "--law"),
    (["optimal", "-C", "1e21", "--law", "kaplan", "--alpha", "0.3"], "--alpha"),
    (["fit", "/nonexistent/runs.csv"], "cannot read"), (["optimal", "-C", "1e21", "--plot", "x.pdf"], "--plot"),
    (["models", "--plot", "/nonexistent/dir/m.png"], "cannot write"), (["optimal", "--law", "kaplan", "-N", "7B"],
                                                                      "only answers --compute"),
    (["loss", "-C", "1e21"], "--compute"), ([], "choose a command"),
])
def test_bad_input_is_one_line_exit_2(scaling, argv, needle):
    status, out, err = call_main(scaling, argv)
    assert needle in one_error_line(status, err)
    assert out == ""


@pytest.mark.parametrize("content, needle", [
    ("", "empty"), ("x,y\n1,2\n", "header"), ("N,D,loss\n1e9,2e10,2.5\n1e9,zero,2.5\n", "line 3 D"),
    ("N,D,loss\n" + "1e9,2e10,2.5\n" * 6 + "0,2e10,2.5\n", "line 8 N"),
    ("N,D,loss\n" + "1e9,2e10,2.5\n" * 6 + "1e9,2e10,-1\n", "line 8 loss"),
    ("N,D,loss\n" + "1e9,2e10,2.5\n" * 3, "at least 6"), ("N,C,loss\n1e9,1e20\n", "line 2"),
])
def test_bad_csv_rows(scaling, tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    status, _, err = call_main(scaling, ["fit", str(path), "--bootstrap", "0"])
    assert needle in one_error_line(status, err)


def test_human_numbers(scaling):
    # the script reads counts with the block's parse_number (parse_real: as the nearest float); SI suffixes are
    # powers of ten, the binary ones powers of two (README contract rule 5), each value written out by hand here
    for text, value in [("7B", 7e9), ("1.4T", 1.4e12), ("300e9", 3e11), ("32k", 32e3), ("1_000", 1000),
                        ("5.76e23", 5.76e23), ("400M", 4e8), ("1.5e3M", 1.5e9), ("2P", 2e15), ("1G", 1e9),
                        ("32Ki", 32768.0), ("1Mi", 1048576.0), ("1.5Gi", 1610612736.0), ("2Ti", 2199023255552.0),
                        ("1e32", 1e32), ("0.1P", 1e14)]:
        parsed = scaling.parse_real(text, "x")
        assert type(parsed) is float and parsed == value, text
    assert scaling.parse_real("0", "x", positive=False) == 0.0
    assert scaling.parse_whole("32Ki", "x") == 32768 and scaling.parse_whole("0", "x", positive=False) == 0
    assert scaling.human(1.4e12) == "1.4T" and scaling.human(5.76e23, "FLOPs") == "5.76e23"


@pytest.mark.parametrize("argv, needle", [
    (["optimal", "-C", "1.1e32"], "--compute"),  # above the 1e32 ceiling
    (["optimal", "-N", "0.5"], "--params"),  # below one parameter
    (["optimal", "-N", "7X"], "--params"), (["optimal", "-N", "7Bi"], "--params"),
    (["kaplan", "-l", "1.5", "-hs", "64"], "--num-layers"),  # a fraction of a layer
    (["kaplan", "-l", "12", "-hs", "2Mi"], "--hidden-size"),  # 2,097,152 > 10^6
    (["fit", "runs.csv", "--seed", "4294967297"], "--seed"),  # one above 2^32
    (["inference", "--inference-tokens", "-1", "--params", "7B"], "--inference-tokens"),
    (["optimal", "--comp", "1e21"], "--comp"),  # the block's parser completes no abbreviated flag
])
def test_bad_numbers_are_one_line_naming_the_flag(scaling, argv, needle):
    status, out, err = call_main(scaling, argv)
    assert needle in one_error_line(status, err)
    assert out == ""


def test_binary_suffixes_reach_the_laws(scaling):
    # 1Ti tokens is 2^40 = 1,099,511,627,776 tokens (not 10^12): D = C/(6N) at a fixed N moves with it exactly
    data = run_json(scaling, "loss", "-N", "1Gi", "-D", "1Ti", "--law", "chinchilla")
    assert data["inputs"] == {"params": 2 ** 30, "tokens": 2 ** 40}
    assert data["results"][0]["loss"] == pytest.approx(law_loss(PRINTED, 2 ** 30, 2 ** 40), rel=1e-12)


def test_markdown_and_text_formats(scaling):
    status, out, _ = call_main(scaling, ["optimal", "-C", "5.76e23", "--format", "markdown"])
    assert status == 0 and "| law |" in out and "|---|" in out
    status, out, _ = call_main(scaling, ["models"])
    assert status == 0 and "llama-3-8b" in out and "over-trained" in out


NEGATIVE = re.compile(r"(?<![\w.\-])-\d")


def assert_clean_json(value):
    if isinstance(value, dict):
        for v in value.values():
            assert_clean_json(v)
    elif isinstance(value, list):
        for v in value:
            assert_clean_json(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        assert math.isfinite(value) and value >= 0, value


TOKENS = ["optimal", "loss", "table3", "models", "kaplan", "deepseek", "data-constrained", "inference", "-C", "-N",
          "-D", "-U", "-l", "-hs", "-s", "--law", "--target-loss", "--inference-tokens", "--fixed-params", "--E",
          "--alpha", "--preset", "--compute-is-min", "--loss", "--tokens-per-param", "--json", "--format",
          "markdown", "all", "epoch", "chinchilla", "kaplan", "llama3", "tpp-20", "deepseek", "llama-3-8b", "7B",
          "1.4T", "0", "-1", "1e21", "1e31", "1e99", "nan", "2.0", "1.5", "100", "1_000", "x", "30", "4096", "1e-9",
          "--B", "--A", "--beta", "1e-300", "1_", "2085.43", "inf", "", "1e32"]


def test_hostile_argv(scaling):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, strategies as st

    @given(st.lists(st.sampled_from(TOKENS), max_size=8))
    def check(argv):
        status, out, err = call_main(scaling, argv + ["--json"] if argv[:1] and argv[0] in TOKENS[:8] else argv)
        if status == 0:
            if out.lstrip().startswith("{"):
                assert_clean_json(json.loads(out))
            else:
                assert not NEGATIVE.search(out), out
                assert "nan" not in out.lower() and "inf " not in out.lower()
        else:
            assert status == 2, (argv, err)
            one_error_line(status, err)
    check()


# One query per command that neither fits nor plots: each must run without numpy or scipy (issue 11, "fast start
# everywhere"); a command added to the script must be added here (checked below).
CLOSED_FORM_QUERIES = [
    ["optimal", "--compute", "5.76e23"], ["optimal", "-N", "70B", "--law", "epoch"],
    ["optimal", "--target-loss", "2.2", "--law", "all"], ["loss", "-N", "70B", "-D", "1.4T"],
    ["loss", "--preset", "deepseek-v3"], ["table3"], ["models"], ["models", "--law", "chinchilla"],
    ["kaplan", "-N", "1e9", "-D", "2e10", "-C", "1e21", "--loss", "3"],
    ["deepseek", "-l", "30", "-hs", "4096", "-s", "4096", "-D", "2T"],
    ["data-constrained", "-C", "1e22", "-U", "25B", "-N", "7B", "-D", "200B"],
    ["inference", "--params", "13B", "--inference-tokens", "2T", "--fixed-params", "7B"], ["nanogpt"],
    ["--list-presets"],
]
HEAVY_MODULES = ("numpy", "scipy", "matplotlib")


def test_closed_form_commands_import_no_numpy(scaling, tmp_path):
    # every command but fit is covered: the parser's own list of subcommands
    subparsers = next(a for a in scaling.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert {q[0] for q in CLOSED_FORM_QUERIES} - {"--list-presets"} == set(subparsers.choices) - {"fit"}
    # a fresh interpreter runs main() on every query, then lists the heavy modules loaded so far; then a fit
    # (Approach 2, which needs numpy but not scipy) in the same interpreter must show numpy: the check sees an
    # import when there is one
    runs = tmp_path / "runs.csv"
    runs.write_text("N,C,loss\n" + "".join(f"{n},1e20,{2 + (i - 2) ** 2 / 10}\n"
                                           for i, n in enumerate(["1e8", "2e8", "4e8", "8e8", "16e8", "32e8"])))
    program = "\n".join([
        "import contextlib, io, json, sys",
        f"sys.path.insert(0, {str(ROOT)!r})",
        "import calc_scaling_laws as script",
        f"heavy = lambda: sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r})",
        "statuses = []",
        f"for argv in {CLOSED_FORM_QUERIES!r}:",
        "    with contextlib.redirect_stdout(io.StringIO()):",
        "        statuses.append(script.main(argv))",
        "closed_form = heavy()",
        "with contextlib.redirect_stdout(io.StringIO()):",
        f"    statuses.append(script.main(['fit', {str(runs)!r}, '--approach', '2', '--json']))",
        "print(json.dumps({'statuses': statuses, 'closed_form': closed_form, 'after_fit': heavy()}))"])
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["statuses"] == [0] * (len(CLOSED_FORM_QUERIES) + 1), result.stderr
    assert report["closed_form"] == []
    assert "numpy" in report["after_fit"]


def test_plain_python_replacements_match_numpy(scaling):
    # the closed forms replaced numpy.linspace and numpy.polyfit(x, y, 1) by plain Python (issue 11): numpy is
    # the independent reference here
    for low, high, count in [(0.0, 14.0, 20001), (1.0001, 3, 500), (-6.5, 27.25, 400)]:
        assert scaling.linspace(low, high, count) == np.linspace(low, high, count).tolist()
    rng = np.random.default_rng(7)
    xs = rng.uniform(40, 60, 50)
    ys = 0.45 * xs - 2.3 + rng.normal(0, 0.1, 50)
    slope, intercept = np.polyfit(xs, ys, 1)
    assert scaling.least_squares_line(xs, ys) == pytest.approx((slope, intercept), rel=1e-12)


def test_optimal_starts_without_numpy_as_a_process():
    # issue 11's check as a user runs it: -X importtime lists on stderr every module the process imports
    result = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "calc_scaling_laws.py"), "optimal",
                             "--compute", "5.76e23"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0 and "epoch" in result.stdout, result.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "argparse" in imported  # the listing is there at all
    assert [m for m in imported if m.split(".")[0] in HEAVY_MODULES] == []


def test_cli_process_and_list_presets():
    result = run_cli("calc_scaling_laws", "--list-presets")
    assert result.returncode == 0 and "chinchilla-70b" in result.stdout
    result = run_cli("calc_scaling_laws", "optimal", "-C", "1e21", "--law", "chinchilla-unrounded")
    assert result.returncode == 0 and "chinchilla-unrounded" in result.stdout


def test_plots_written(scaling, tmp_path):
    pytest.importorskip("matplotlib")
    for argv, name in [(["optimal", "-C", "1e22"], "landscape.png"), (["models"], "models.svg")]:
        status, _, err = call_main(scaling, argv + ["--plot", str(tmp_path / name)])
        assert status == 0, err
        assert (tmp_path / name).stat().st_size > 1000


# ---------------------------------------------------------------------------------------------------------------
# Hoffmann Tables A9 and A4 (the nanoGPT notebook's TODOs 3 and 4)
# ---------------------------------------------------------------------------------------------------------------
# Table A9 as printed (params in millions, d_model, ffw_size, kv_size, n_heads, n_layers), all 50 rows; the same
# rows are in karpathy/nanoGPT scaling_laws.ipynb.
TABLE_A9 = [
    (44, 512, 2048, 64, 8, 8), (57, 576, 2304, 64, 9, 9), (74, 640, 2560, 64, 10, 10), (90, 640, 2560, 64, 10, 13),
    (106, 640, 2560, 64, 10, 16), (117, 768, 3072, 64, 12, 12), (140, 768, 3072, 64, 12, 15),
    (163, 768, 3072, 64, 12, 18), (175, 896, 3584, 64, 14, 14), (196, 896, 3584, 64, 14, 16),
    (217, 896, 3584, 64, 14, 18), (251, 1024, 4096, 64, 16, 16), (278, 1024, 4096, 64, 16, 18),
    (306, 1024, 4096, 64, 16, 20), (425, 1280, 5120, 128, 10, 18), (489, 1280, 5120, 128, 10, 21),
    (509, 1408, 5632, 128, 11, 18), (552, 1280, 5120, 128, 10, 24), (587, 1408, 5632, 128, 11, 21),
    (632, 1536, 6144, 128, 12, 19), (664, 1408, 5632, 128, 11, 24), (724, 1536, 6144, 128, 12, 22),
    (816, 1536, 6144, 128, 12, 25), (893, 1792, 7168, 128, 14, 20), (1018, 1792, 7168, 128, 14, 23),
    (1143, 1792, 7168, 128, 14, 26), (1266, 2048, 8192, 128, 16, 22), (1424, 2176, 8704, 128, 17, 22),
    (1429, 2048, 8192, 128, 16, 25), (1593, 2048, 8192, 128, 16, 28), (1609, 2176, 8704, 128, 17, 25),
    (1731, 2304, 9216, 128, 18, 24), (1794, 2176, 8704, 128, 17, 28), (2007, 2304, 9216, 128, 18, 28),
    (2283, 2304, 9216, 128, 18, 32), (2298, 2560, 10240, 128, 20, 26), (2639, 2560, 10240, 128, 20, 30),
    (2980, 2560, 10240, 128, 20, 34), (3530, 2688, 10752, 128, 22, 36), (3802, 2816, 11264, 128, 22, 36),
    (4084, 2944, 11776, 128, 22, 36), (4516, 3072, 12288, 128, 24, 36), (6796, 3584, 14336, 128, 28, 40),
    (9293, 4096, 16384, 128, 32, 42), (11452, 4352, 17408, 128, 32, 47), (12295, 4608, 18432, 128, 36, 44),
    (12569, 4608, 18432, 128, 32, 47), (13735, 4864, 19456, 128, 32, 47), (14940, 4992, 19968, 128, 32, 49),
    (16183, 5120, 20480, 128, 40, 47)]


def test_table_a9_sizes_to_the_printed_million(scaling):
    assert scaling.TABLE_A9_ROWS == tuple(TABLE_A9)
    off_when_width_is_d_model = []
    for millions, d, ffw, kv, heads, layers in TABLE_A9:
        assert abs(scaling.chinchilla_model_params(d, ffw, kv, heads, layers) / 1e6 - millions) <= 0.5
        naive = scaling.chinchilla_model_params(d, ffw, kv, heads, layers, attention_width=d)
        if abs(naive / 1e6 - millions) > 0.5:
            off_when_width_is_d_model.append(millions)
    # exactly the six rows the nanoGPT notebook gets wrong, where n_heads * kv_size != d_model
    assert off_when_width_is_d_model == [3530, 4084, 11452, 12569, 13735, 14940]


@pytest.mark.parametrize("layers, d, ffw, heads, kv, printed", [
    (10, 640, 2560, 10, 64, 1.03), (20, 1024, 4096, 16, 64, 1.10), (24, 1280, 5120, 10, 128, 1.08),
    (26, 1792, 7168, 14, 128, 1.04), (28, 2048, 8192, 16, 128, 1.03), (40, 3584, 14336, 28, 128, 0.99)])
def test_table_a4_flop_ratios(scaling, layers, d, ffw, heads, kv, printed):
    # Hoffmann Table A4, printed to 2 decimals: the App. F count without embedding and logit FLOPs matches
    # (abs 0.006 allows the rounding plus the reverse-engineered parameter count); with them it does not.
    assert scaling.chinchilla_flop_ratio(layers, d, ffw, heads, kv) == pytest.approx(printed, abs=0.006)
    assert scaling.chinchilla_flop_ratio(layers, d, ffw, heads, kv, with_embeddings=True) > printed + 0.02
    # independent App. F count, written out here
    S, w = 2048, heads * kv
    forward = layers * (6 * S * d * w + 4 * S * S * w + 3 * heads * S * S + 2 * S * w * d + 4 * S * d * ffw)
    params = layers * (5 * d * w + 2 * d * ffw + 5 * w + 2 * d + ffw) + 32000 * d
    assert scaling.chinchilla_flop_ratio(layers, d, ffw, heads, kv) == pytest.approx(3 * forward / (6 * params * S),
                                                                                      rel=1e-12)


def test_nanogpt_todos(scaling):
    res = run_json(scaling, "nanogpt")["results"]
    t1 = res["todo1_400m_vs_316m"]
    assert t1["printed"] == pytest.approx(3.061e8, rel=1e-3)  # closed form, not the 316.23M grid point
    assert t1["unrounded"] == pytest.approx(3.648e8, rel=1e-3)
    assert t1["notebook_grid_params"] == pytest.approx(316.23e6, rel=1e-5)  # the notebook's printed 316.23M
    assert t1["epoch"] == pytest.approx(3.663e8, rel=1e-3)  # recomputed, Epoch constants
    assert t1["approach1_fit"] == pytest.approx(0.09916 * 1.92e19 ** 0.4981, rel=1e-3)  # fitted Table 3 law
    assert t1["unrounded_flops_for_400m"] == pytest.approx(2.349e19, rel=1e-3)  # recomputed C = 6 (N/G)^(1/a)
    assert t1["unrounded_flops_for_400m"] == pytest.approx(2.21e19, rel=0.07)  # Table A3's 400M row: 6.3% apart
    t2 = res["todo2_1.3b_tokens"]
    # the closed form at exactly 1.3B gives 60.55B (recomputed); the notebook's grid prints 60.32B for 1298M,
    # 0.4% apart
    assert t2["chinchilla"]["tokens"] == pytest.approx(6.055e10, rel=1e-3)
    assert t2["chinchilla"]["tokens"] == pytest.approx(60.32e9, rel=0.005)
    assert t2["chinchilla"]["tokens_per_param"] == pytest.approx(46.6, abs=0.05)
    assert t2["chinchilla-unrounded"]["tokens"] == pytest.approx(39.8e9, rel=2e-3)
    assert t2["epoch"]["tokens"] == pytest.approx(29.1e9, rel=2e-3)
    assert [r["printed_millions"] for r in res["todo3_table_a9_rows"]] == [3530, 4084, 11452, 12569, 13735, 14940]


def test_pearce_song_local_exponent(scaling):
    # Pearce & Song 2024 (arXiv 2406.12907): a Chinchilla law, seen through non-embedding N and C at Kaplan's
    # scale (C in 10^12.95..10^20.7), gives a local exponent near Kaplan's 0.73; 0.784 with Epoch's constants and
    # 0.751 with Hoffmann's unrounded ones (recomputed from their analytic frontier; abs 0.01).
    res = run_json(scaling, "kaplan", "--loss", "2")["results"]
    assert res["local_exponent_epoch"] == pytest.approx(0.784, abs=0.01)
    assert res["local_exponent_chinchilla-unrounded"] == pytest.approx(0.751, abs=0.01)
    # independent check of the frontier: at N_nonemb the C it returns is where the total-param law is optimal
    law = scaling.PARAMETRIC_LAWS["epoch"]
    n_ne = 1e8
    c_ne = float(scaling.pearce_song_flops(law, n_ne))
    total = lambda n: n + 47491 * n ** (1 / 3)  # noqa: E731
    grid = np.geomspace(n_ne / 3, n_ne * 3, 200001)
    losses = law_loss(EPOCH, total(grid), c_ne / (6 * grid))
    assert grid[np.argmin(losses)] == pytest.approx(n_ne, rel=1e-3)


def test_degenerate_runs_are_refused(scaling, tmp_path):
    path = tmp_path / "same.csv"
    path.write_text("N,D,loss\n" + "1e9,2e10,2.5\n" * 7)
    status, _, err = call_main(scaling, ["fit", str(path), "--approach", "3"])
    assert "distinct" in one_error_line(status, err)


def test_hostile_csv(scaling, tmp_path_factory):
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings, strategies as st

    cell = st.one_of(st.sampled_from(["1e9", "2e10", "7B", "0", "-1", "nan", "inf", "", "x", "2.5", "1e400", "3",
                                      "1_000", "1.4T", "99"]),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))
    header = st.sampled_from(["N,D,loss", "N,C,loss", "params,tokens,loss", "N,loss", "loss,D,N,C", "a,b"])
    folder = tmp_path_factory.mktemp("hostile")

    @settings(max_examples=30)
    @given(header, st.lists(st.lists(cell, min_size=0, max_size=4), max_size=12))
    def check(head, rows):
        path = folder / "runs.csv"
        path.write_text(head + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
        status, out, err = call_main(scaling, ["fit", str(path), "--approach", "2", "--json"])
        if status == 0:
            assert_clean_json(json.loads(out))
        else:
            one_error_line(status, err)
    check()


def test_models_all_laws_matches_single_law_tables(scaling):
    every = {r["model"]: r for r in run_json(scaling, "models", "--law", "all")["rows"]}
    for name in ("chinchilla", "epoch"):
        single = {r["model"]: r for r in run_json(scaling, "models", "--law", name)["rows"]}
        for model, row in single.items():
            assert every[model]["by_law"][name] == row
    # Chinchilla 70B on 1.4T sits on Epoch's frontier (x1.04) but is "under-trained" x2.15 under the printed
    # constants, whose D* at 5.88e23 FLOPs is 3.016T (recomputed): the law chosen changes the verdict
    chin = every["chinchilla-70b"]["by_law"]
    assert chin["chinchilla"]["verdict"] == "under-trained"
    assert chin["chinchilla"]["optimal_tokens"] == pytest.approx(3.016e12, rel=1e-3)
    assert chin["chinchilla"]["optimal_tokens"] == pytest.approx(brute_force_optimum(PRINTED, 5.88e23)[1], rel=1e-5)
    assert chin["epoch"]["trained_factor"] == pytest.approx(1.04, abs=0.005)


def test_sardana_mfu_weighting_is_inference_demand_scaling(scaling):
    # minimising train/mfu_t + inference/mfu_i is minimising train + inference*(mfu_t/mfu_i): the same optimum as
    # the pure-FLOP problem with the inference demand scaled by mfu_t/mfu_i (exact, by algebra)
    law = scaling.PARAMETRIC_LAWS["chinchilla-unrounded"]
    weighted = scaling.inference_aware_optimum(law, 2e12, reference_params=13e9, train_mfu=0.5, inference_mfu=0.25)
    scaled = scaling.inference_aware_optimum(law, 4e12, reference_params=13e9)
    assert weighted["inference_optimal"]["params"] == pytest.approx(scaled["inference_optimal"]["params"], rel=1e-6)
    same = scaling.inference_aware_optimum(law, 2e12, reference_params=13e9, train_mfu=0.4, inference_mfu=0.4)
    plain = scaling.inference_aware_optimum(law, 2e12, reference_params=13e9)
    assert same["inference_optimal"]["params"] == pytest.approx(plain["inference_optimal"]["params"], rel=1e-6)
    assert weighted["inference_optimal"]["params"] < plain["inference_optimal"]["params"]


# ---------------------------------------------------------------------------------------------------------------
# The JSON keys documented in the module docstring are exactly the keys printed
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, top, inner", [
    (["optimal", "-C", "1e21"], {"command", "law", "inputs", "results", "notes"},
     ("results", 0, {"law", "params", "tokens", "flops", "tokens_per_param", "loss"})),
    (["optimal", "--target-loss", "2.2", "--law", "epoch"], {"command", "law", "inputs", "results", "notes"},
     ("law", None, {"name", "E", "A", "B", "alpha", "beta", "source"})),
    (["loss", "--preset", "deepseek-v3"], {"command", "law", "inputs", "results", "notes"},
     ("results", 0, {"law", "loss", "optimal_loss_same_flops"})),
    (["table3"], {"command", "source", "rows", "fit", "notes"},
     ("rows", 0, {"params", "flops", "gopher_units", "tokens", "fitted_params", "flops_over_6nd"})),
    (["models", "--preset", "deepseek-v3"], {"command", "law", "rows", "notes"},
     ("rows", 0, {"model", "params", "tokens", "flops", "tokens_per_param", "optimal_params", "optimal_tokens",
                  "trained_factor", "verdict", "loss", "optimal_loss", "source", "note"})),
    (["models", "--law", "all"], {"command", "law", "rows", "notes"},
     ("rows", 0, {"model", "params", "tokens", "tokens_per_param", "by_law"})),
    (["kaplan", "-N", "1e9", "-D", "2e10", "-C", "1e21", "--loss", "3"], {"command", "inputs", "constants", "results",
                                                                         "notes"},
     ("results", None, {"pf_day_flops", "alpha_Cmin_predicted", "local_exponent_chinchilla-unrounded",
                        "local_exponent_epoch", "loss_of_params", "min_tokens_no_overfit", "loss_of_tokens",
                        "loss_joint", "overfit_fraction", "flops", "flops_min", "flops_min_pf_days",
                        "optimal_params", "batch_tokens", "min_steps", "tokens_app_a", "tokens_6nd",
                        "loss_of_compute", "critical_batch_tokens"})),
    (["deepseek", "-l", "30", "-hs", "4096", "-s", "4096", "-D", "2T"], {"command", "inputs", "constants", "results",
                                                                         "notes"},
     ("results", None, {"flops", "optimum", "model_flops_per_token", "batch_sequences"})),
    (["data-constrained", "-C", "1e22", "-U", "25B", "-N", "7B", "-D", "200B"],
     {"command", "law", "inputs", "results", "notes"}, ("results", None, {"point", "optimum"})),
    (["inference", "--params", "13B", "--inference-tokens", "2T", "--fixed-params", "7B"],
     {"command", "law", "inputs", "results", "notes"},
     ("results", None, {"target_loss", "inference_tokens", "train_mfu", "inference_mfu", "chinchilla_optimal",
                        "inference_optimal", "fixed"})),
    (["nanogpt"], {"command", "source", "results", "notes"},
     ("results", None, {"todo1_400m_vs_316m", "todo2_1.3b_tokens", "todo3_table_a9_rows", "todo4_table_a4_ratios"})),
])
def test_json_keys_are_the_documented_ones(scaling, argv, top, inner):
    data = run_json(scaling, *argv)
    assert set(data) == top
    field, index, keys = inner
    value = data[field] if index is None else data[field][index]
    assert set(value) == keys


# ---------------------------------------------------------------------------------------------------------------
# Hostile input found in review: each was a traceback-free but wrong or unhelpful answer before
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, needle", [
    (["optimal", "-N", "1e-300"], "--params"),  # was "0.0 cannot be raised to a negative power"
    (["optimal", "-C", "0.5"], "--compute"),
    (["optimal", "-C", "1"], "--compute"),  # the laws give < 1 parameter: the message names the query flag
    (["optimal", "-D", "1_"], "--tokens"),  # a trailing underscore is not a number (Python: 1_ is a syntax error)
    (["optimal", "-C", "1e21", "--law", "epoch", "--B", "1e-300"], "--B"),  # was "(34, 'Numerical result ...')"
    (["optimal", "-C", "1e21", "--law", "epoch", "--alpha", "11"], "--alpha"),
    (["fit", "runs.csv", "--bootstrap", "10001"], "--bootstrap"),  # 1e5 resamples ran for minutes
    (["optimal", "-C", "1e21", "--plot", ".png"], "--plot"),  # matplotlib wrote ".png.png"
    (["loss", "-N", "1", "-D", "1"], "C = 6ND"),  # named only the law, not where its C came from
    # flags that were silently ignored
    (["kaplan", "-N", "1e9", "-l", "12", "-hs", "768"], "not both"),  # -N was overwritten by 12 l d^2
    (["deepseek", "-N", "7B", "-C", "1e21"], "--params"),  # the fits are in M; -N did nothing
    (["deepseek", "-C", "1e21", "-D", "2T"], "not both"),  # -D was dropped
    (["data-constrained", "-U", "25B", "-N", "7B", "-C", "1e22"], "go together"),  # -N was dropped
])
def test_hostile_values_name_their_flag(scaling, argv, needle):
    status, out, err = call_main(scaling, argv)
    assert needle in one_error_line(status, err)
    assert out == ""


def test_law_constants_accept_the_published_ranges(scaling):
    # --B was capped at 100, so Epoch's own B = 2085.43 (Besiroglu et al. 2024 Table 1) was refused.  The printed
    # law with all five of Epoch's constants must give Epoch's optimum at Gopher's budget (7.225e10, recomputed).
    flags = [f"--{k}={v}" for k, v in EPOCH.items()]
    point = run_json(scaling, "optimal", "-C", "5.76e23", "--law", "chinchilla", *flags)["results"][0]
    assert point["law"] == "custom"
    assert point["params"] == pytest.approx(7.225e10, rel=1e-3)


def test_huge_counts_print_in_scientific_notation(scaling):
    status, out, _ = call_main(scaling, ["optimal", "-D", "1e32", "--law", "epoch"])
    assert status == 0 and "e+" not in out and "1e32" in out  # was "1e+17P"


def test_no_negative_zero_percent(scaling):
    # the Chinchilla-optimal plan is also inference-optimal here, a change of exactly -0.0 (was printed "-0.0%")
    status, out, _ = call_main(scaling, ["inference", "--inference-tokens", "0", "--params", "1e30"])
    assert status == 0 and "-0.0%" not in out and "saves 0 (0.0%)" in out


def test_fit_refuses_runs_without_positive_exponents(scaling, tmp_path):
    # loss not falling with N and D: the fitter found alpha = -12.9 and printed negative exponents and allocations
    path = tmp_path / "flat.csv"
    path.write_text("N,D,loss\n1,1,2\n2,1,2\n3,2,2\n1,3,2.1\n2,3,2.2\n3,1,2.3\n1,2,2.4\n")
    status, _, err = call_main(scaling, ["fit", str(path), "--approach", "3", "--bootstrap", "0"])
    assert "alpha" in one_error_line(status, err)


def test_fit_refuses_bootstrap_intervals_across_zero_exponents(scaling, tmp_path):
    # six runs whose point fit has positive exponents but some resamples do not: the intervals would include
    # negative exponents, so the bootstrap is refused and the point fit (with --bootstrap 0) still works; the
    # allocations its law cannot give (below one token at 1e21 FLOPs) are left out with a note
    path = tmp_path / "few.csv"
    path.write_text("N,C,loss\n1e9,1e3,2.5\n2e9,2e10,2.4\n3e9,4e10,2.3\n1e9,5e10,2.4\n2e9,6e10,2.3\n4e9,7e10,2.2\n")
    status, _, err = call_main(scaling, ["fit", str(path), "--approach", "3", "--bootstrap", "20", "--seed", "0"])
    assert "bootstrap" in one_error_line(status, err)
    data = run_json(scaling, "fit", str(path), "--approach", "3", "--bootstrap", "0")
    assert_clean_json(data)
    assert data["approach3"]["alpha"] > 0 and data["approach3"]["beta"] > 0
    assert any("left out" in note for note in data["notes"])


def test_csv_with_a_byte_order_mark(scaling, tmp_path):
    # spreadsheets save CSV as UTF-8 with a BOM; the header "\ufeffN" was not recognised as N
    rows = synthetic_runs(0.0, same_grid=True)
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfN,C,loss\n" + "".join(f"{float(n)!r},{float(c)!r},{float(loss)!r}\n"
                                                     for n, _, c, loss in rows).encode())
    data = run_json(scaling, "fit", str(path), "--approach", "2")
    assert data["inputs"]["runs"] == 243 and len(data["approach2"]["budgets"]) == 9


def test_loss_with_a_preset_and_compute_keeps_the_preset_size(scaling):
    # was an error ("--compute goes with exactly one of --params or --tokens") though neither was given
    data = run_json(scaling, "loss", "--preset", "llama-3-8b", "-C", "1.2e24")
    assert data["inputs"] == {"params": 8_000_000_000, "tokens": 25_000_000_000_000}  # D = C/(6N)
    data = run_json(scaling, "loss", "--preset", "llama-3-8b", "-N", "1B")  # explicit flags win over the preset
    assert data["inputs"] == {"params": 1_000_000_000, "tokens": 15_000_000_000_000}


def test_hostile_runs_through_approach3(scaling, tmp_path_factory):
    # numerically valid but arbitrary runs: the fit either answers with finite, non-negative numbers or refuses in
    # one line (it used to print negative exponents and allocations for runs whose loss does not fall with N, D)
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings, strategies as st

    run = st.tuples(st.sampled_from([1e6, 3e7, 1e9, 2e10, 1e12]), st.sampled_from([1e6, 1e9, 3e10, 1e12, 1e15]),
                    st.floats(0.5, 6.0))
    folder = tmp_path_factory.mktemp("hostile3")

    @settings(max_examples=6)
    @given(st.lists(run, min_size=6, max_size=10), st.integers(0, 8))
    def check(rows, bootstrap):
        path = folder / "runs.csv"
        path.write_text("N,D,loss\n" + "".join(f"{n!r},{d!r},{loss!r}\n" for n, d, loss in rows))
        status, out, err = call_main(scaling, ["fit", str(path), "--approach", "3", "--bootstrap", str(bootstrap),
                                               "--json"])
        if status == 0:
            assert_clean_json(json.loads(out))
        else:
            one_error_line(status, err)
    check()
