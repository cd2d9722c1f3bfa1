"""calc_transformer_mem.py's step-time model and layout search (issue 14), against hand derivations and published
training runs.

Published runs (each cited where it is used). What is compared is the publication's own throughput figure in the
publication's own FLOP convention: our predicted step time is turned into that figure with the publication's
formula, written out here (never with the code under test), so a convention difference cannot hide in the ratio.
Tolerance: +-15 % (issue 14), one compute efficiency for every run (calc_transformer_mem.COMPUTE_EFFICIENCY).
Runs we miss are listed in MISSES with what we do predict, asserted as such, and explained in
docs/calc_transformer_mem.md ("Step time: published runs").
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main

GiB = 2**30


def run_json(mem, *argv):
    status, out, err = call_main(mem, [*argv, "--json"])
    assert status == 0, err
    return json.loads(out)


def model_of(mem, *argv):
    return mem.resolve_model(mem.build_parser().parse_args(list(argv)))[0]


def megatron_gpt(mem, layers, hidden, heads, vocab=51200):
    """The GPT of Narayanan et al. 2021 / Korthikanti et al. 2022: a GPT-2 block (4h MLP, learned positions, tied
    head), 51,200-entry vocabulary (their Sec. 5.1), sequence 2048."""
    return model_of(mem, "-l", str(layers), "-hs", str(hidden), "-a", str(heads), "-v", str(vocab),
                    "--learned-positions", "2048", "--position-embedding", "learned", "--tied-embeddings", "--bias")


def narayanan_eq3(batch, seq, layers, hidden, vocab):
    """Narayanan et al. 2021 (SC21, arXiv:2104.04473) eq. 3: FLOPs of one iteration with activation recomputation,
    F = 96 B s l h^2 (1 + s/(6h) + V/(16 l h)); MT-NLG and Megatron-DeepSpeed (BLOOM) report TFLOP/s by it."""
    return 96 * batch * seq * layers * hidden**2 * (1 + seq / (6 * hidden) + vocab / (16 * layers * hidden))


def step(mem, model, gpu, hw=None, **setup):
    hardware = mem.step_hardware(gpu, setup.get("precision", "bf16"), **(hw or {}))
    return mem.step_time(model, mem.TrainSetup(**setup), hardware)


def top_layouts(mem, model, gpu, gpus, seq, gbs, hw=None, zero=(0, 1, 2, 3), recompute=None, gpu_memory=80 * GiB,
                **setup):
    """The search's ranked layouts (tp, pp, dp) for this job, best first."""
    hardware = mem.step_hardware(gpu, setup.get("precision", "bf16"), **(hw or {}))
    base = mem.TrainSetup(num_gpus=gpus, seq_len=seq, global_batch=gbs, sp=True, **setup)
    rows, _ = mem.search_configs(model, base, gpu_memory, top=0, hw=hardware, zero_stages=zero,
                                 recomputes=recompute or mem.RECOMPUTE)
    return [(r["tp"], r["pp"], r["dp"]) for r in rows]


# ---------------------------------------------------------------------------------------------------------------
# Step 1: the global batch is checked per candidate layout (regression)
# ---------------------------------------------------------------------------------------------------------------
def test_search_global_batch_is_checked_per_layout_not_against_all_gpus(mem):
    # was: "--global-batch 2048 is not divisible by micro-batch x dp = 16384" before any layout was tried
    r = run_json(mem, "--preset", "llama-3.1-405b", "--num-gpus", "16384", "-s", "8192", "--search",
                 "--gpu-memory", "80GiB", "--global-batch", "2048", "--sp", "--top", "0")
    rows = r["search"]["results"]
    assert rows
    for row in rows:  # every layout shown takes whole micro-batches per data-parallel rank
        assert row["tp"] * row["pp"] * row["dp"] * row["cp"] == 16384
        assert 2048 % (row["micro_batch"] * row["dp"]) == 0
    # and a layout whose dp cannot take the batch is not offered: dp 16,384 > 2,048 sequences
    assert all(row["dp"] <= 2048 for row in rows)


def test_search_refuses_in_one_line_when_no_layout_divides_the_batch(mem):
    # 2 layers on 64 GPUs: tp <= 8 and pp <= 2 leave dp >= 4 in every layout, and 3 sequences split over none
    status, out, err = call_main(mem, ["-l", "2", "-hs", "256", "-a", "8", "-v", "1000", "--num-gpus", "64", "-s",
                                       "2048", "--search", "--gpu-memory", "80GiB", "--global-batch", "3"])
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--global-batch" in err, err


# ---------------------------------------------------------------------------------------------------------------
# Step 2: the step-time model, term by term, against hand derivations
# ---------------------------------------------------------------------------------------------------------------
def test_one_gpu_step_is_the_flops_at_the_stated_rate(mem):
    """tp = pp = dp = 1: the step is 3 forward passes of matmuls and attention at efficiency x peak (HBM traffic
    made free with a huge --hbm-bw). The cookbook transformer from flags alone: per layer q, k, v, o (4 h^2) and a
    2-linear 4h MLP (8 h^2) per token; LM head h x V; causal attention 2 a s(s+1)/2 (d + d)."""
    model = model_of(mem, "-l", "2", "-hs", "256", "-a", "4", "-v", "1000")
    h, a, d, s, V, L = 256, 4, 64, 512, 1000, 2
    forward = 2 * s * (L * 12 * h * h + h * V) + L * 2 * a * (s * (s + 1) // 2) * 2 * d
    r = step(mem, model, "h100-sxm", hw={"hbm_bw": 1e12, "compute_efficiency": 0.5}, seq_len=s, micro_batch=4)
    assert r["step_time_s"] == pytest.approx(4 * 3 * forward / (0.5 * 989.5e12), rel=1e-12)
    assert r["terms_s"]["compute"] == pytest.approx(r["step_time_s"], rel=1e-12)
    # MFU's model FLOPs: full s x s attention (Megatron / PaLM), 3 x forward
    square = 3 * (2 * s * (L * 12 * h * h + h * V) + L * 2 * a * s * s * 2 * d) * 4
    assert r["model_flops_per_step"] == square
    assert r["mfu"] == pytest.approx(square / r["step_time_s"] / 989.5e12, rel=1e-12)


def test_tensor_parallel_traffic_and_link(mem):
    """tp 2 on one node, SP: each layer all-gathers and reduce-scatters twice in the forward, (tp-1)/tp x s x h
    values of 2 B each, and as much in the backward; over NVLink (450 GB/s x 0.8)."""
    model = model_of(mem, "-l", "2", "-hs", "256", "-a", "4", "-v", "1000")
    s, h, L = 512, 256, 2
    r = step(mem, model, "h100-sxm", num_gpus=2, tp=2, sp=True, seq_len=s, micro_batch=1)
    volume = 2 * L * 4 * (1 / 2) * s * h * 2  # forward + backward, layers, 4 collectives, ring share, bytes
    assert r["comm"]["tp"]["bytes"] == pytest.approx(volume)
    assert r["comm"]["tp"]["link"] == "NVLink"
    assert r["terms_s"]["tp"] == pytest.approx(volume / (450e9 * 0.8))


def test_bubble_and_interleaving(mem):
    """1F1B: the step is (m + (p-1)/v) micro-batch times; the bubble (p-1)/(m v) of the ideal."""
    model = model_of(mem, "-l", "16", "-hs", "256", "-a", "4", "-v", "1000")
    for vpp in (1, 2, 4):
        r = step(mem, model, "h100-sxm", num_gpus=4, pp=4, vpp=vpp, seq_len=512, global_batch=8, micro_batch=1)
        assert r["bubble_fraction"] == pytest.approx(3 / (8 * vpp))
        busy = sum(v for k, v in r["terms_s"].items() if k not in ("bubble", "dp"))
        assert r["terms_s"]["bubble"] == pytest.approx(busy / 8 * 3 / vpp)


def test_data_parallel_all_reduce_is_exposed_beyond_the_last_backward(mem):
    """ZeRO-0 across 2 nodes: the ring all-reduce of the 2-byte gradients, 2 (n-1)/n x params x 2 B at the network's
    50 GB/s x 0.8, less what the last micro-batch's backward hides."""
    model = model_of(mem, "-l", "2", "-hs", "1024", "-a", "8", "-v", "32000")
    r = step(mem, model, "h100-sxm", num_gpus=16, seq_len=1024, global_batch=16, micro_batch=1)
    n = mem.count_params(model)["total"]
    all_reduce = 2 * 15 / 16 * n * 2 / (50e9 * 0.8)
    backward = r["terms_s"]["compute"] * 2 / 3  # one micro-batch per step: its backward is 2/3 of its compute
    assert r["terms_s"]["dp"] == pytest.approx(max(0.0, all_reduce - backward), rel=1e-9)
    assert r["comm"]["dp"]["link"] == "network"


def test_search_ranks_by_tokens_per_second_and_rows_reproduce(mem):
    argv = ["--preset", "llama-3-70b", "--num-gpus", "64", "-s", "4096", "--global-batch", "256", "--sp",
            "--gpu-memory", "80GiB"]
    r = run_json(mem, *argv, "--search", "--top", "5")
    rows = r["search"]["results"]
    rates = [row["step"]["tokens_per_s"] for row in rows]
    assert rates == sorted(rates, reverse=True) and len({(x["tp"], x["pp"], x["dp"]) for x in rows}) == len(rows)
    assert r["search"]["explanation"].startswith(f"tp {rows[0]['tp']} x pp {rows[0]['pp']} x dp {rows[0]['dp']}")
    for row in rows[:3]:  # each row is the single layout's prediction and memory
        one = run_json(mem, *argv, "-tp", str(row["tp"]), "-pp", str(row["pp"]), "--vpp", str(row["vpp"]), "-z",
                       str(row["zero"]), "--recompute", row["recompute"], "-b", str(row["micro_batch"]),
                       "--predict-step")
        assert one["step"]["step_time_s"] == row["step"]["step_time_s"]
        assert one["per_gpu"]["total"] == row["total_bytes"] <= 80 * GiB


@pytest.mark.parametrize("argv, needle", [
    (["--gpu", "h100-sxm"], "--gpu"),                                    # read by --predict-step / --search only
    (["--predict-step", "--gpu", "tpu-v9"], "--gpu"),
    (["--predict-step", "--compute-efficiency", "1.5"], "--compute-efficiency"),
    (["--predict-step", "--compute-efficiency", "0"], "--compute-efficiency"),
    (["--predict-step", "--inter-node-bw", "-3"], "--inter-node-bw"),
    (["--predict-step", "--precision", "fp32"], "--peak-tflops"),       # no fp32 tensor figure in the table
    (["--predict-step", "--rank", "time"], "--rank"),
    (["--search", "--gpu-memory", "80GiB", "--zero-stages", "4"], "--zero-stages"),
    (["--search", "--gpu-memory", "80GiB", "--recompute-options", "full,full"], "--recompute-options"),
    (["--search", "--gpu-memory", "80GiB", "--predict-step"], "--predict-step"),
    (["--predict-step", "-pp", "4", "--vpp", "2", "--num-gpus", "4", "--global-batch", "6"], "--vpp"),
    (["--infer", "--predict-step"], "--predict-step"),
])
def test_hostile_step_flags(mem, argv, needle):
    status, out, err = call_main(mem, ["--preset", "llama-3-8b", "-s", "1024", *argv])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and needle in lines[0], err


# ---------------------------------------------------------------------------------------------------------------
# Step 4: published training runs
# ---------------------------------------------------------------------------------------------------------------
# Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using Megatron-LM" (SC21,
# arXiv:2104.04473), Table 1: (heads, hidden, layers, TP, PP, GPUs, batch, achieved TFLOP/s per GPU), A100-80GB
# (Selene: DGX A100, 8 x HDR 200 Gb/s per node), fp16, sequence 2048, vocabulary 51,200, full activation
# recomputation (eq. 3 counts it), Megatron-LM of 2021: no ZeRO, no flash attention.
NARAYANAN_TABLE_1 = [
    (24, 2304, 24, 1, 1, 32, 512, 137), (32, 3072, 30, 2, 1, 64, 512, 138), (32, 4096, 36, 4, 1, 128, 512, 142),
    (48, 6144, 40, 8, 1, 256, 1024, 135), (64, 8192, 48, 8, 2, 512, 1536, 138),
    (80, 10240, 60, 8, 4, 1024, 1792, 140), (96, 12288, 80, 8, 8, 1536, 2304, 148),
    (128, 16384, 96, 8, 16, 1920, 2160, 155), (128, 20480, 105, 8, 35, 2520, 2520, 163),
    (160, 25600, 128, 8, 64, 3072, 3072, 163)]
# rows we miss (docs: "Step time: published runs"): {hidden: (low, high) of predicted / published TFLOP/s}
NARAYANAN_MISSES = {2304: (1.15, 1.35), 3072: (1.10, 1.25)}
NARAYANAN_RANK_MISSES = {6144: 6, 8192: 5, 12288: 4}  # the published layout's place in our ranking


@pytest.mark.parametrize("heads, hidden, layers, tp, pp, gpus, batch, published", NARAYANAN_TABLE_1)
def test_narayanan_2021_table_1(mem, heads, hidden, layers, tp, pp, gpus, batch, published):
    model = megatron_gpt(mem, layers, hidden, heads)
    r = step(mem, model, "a100-80gb", num_gpus=gpus, tp=tp, pp=pp, seq_len=2048, global_batch=batch, micro_batch=1,
             recompute="full", attn_implementation="eager", precision="fp16")
    predicted = narayanan_eq3(batch, 2048, layers, hidden, 51200) / r["step_time_s"] / gpus / 1e12
    ratio = predicted / published
    if hidden in NARAYANAN_MISSES:  # MISS: we over-predict the small models (docs: why)
        low, high = NARAYANAN_MISSES[hidden]
        assert low < ratio < high, ratio
    else:
        assert 0.85 <= ratio <= 1.15, ratio
    layouts = top_layouts(mem, model, "a100-80gb", gpus, 2048, batch, zero=(0,), recompute=("full",),
                          attn_implementation="eager", precision="fp16")
    place = layouts.index((tp, pp, gpus // (tp * pp)))
    if hidden in NARAYANAN_RANK_MISSES:  # MISS: ranked lower than third (docs: why)
        assert place == NARAYANAN_RANK_MISSES[hidden], layouts[:place + 1]
    else:
        assert place < 3, layouts[:3]
