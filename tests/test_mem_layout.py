"""calc_transformer_mem.py's step-time model and layout search (issue 14), against hand derivations and published
training runs.

Published runs (each cited where it is used). What is compared is the publication's own throughput figure in the
publication's own FLOP convention: our predicted step time is turned into that figure with the publication's
formula, written out here (never with the code under test), so a convention difference cannot hide in the ratio.
Tolerance: +-15 % (issue 14), one compute efficiency for every run (calc_transformer_mem.COMPUTE_EFFICIENCY).
Runs we miss are listed in MISSES with what we do predict, asserted as such, and explained in
docs/calc_transformer_mem.md ("Published runs: prediction against publication").

Every published figure asserted here was checked against a source text found with the project's search tools (the
paper's own text where the index holds a transcription of it, otherwise the repository file or model card named);
the line it comes from is quoted next to the number. A figure without such a line is not asserted.
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
    (["--peak-tflops", "900"], "--peak-tflops"),                         # read by --predict-step / --search only
    (["--gpu", "h100-sxm", "--predict-step", "--gpus-per-node", "0"], "--gpus-per-node"),
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
# arXiv:2104.04473), Table 1, "Weak-scaling throughput for GPT models ranging from 1 billion to 1 trillion
# parameters". Checked row by row against the paper's text (a Markdown transcription of the PDF in the search index;
# columns: parameters (billion) | attention heads | hidden size | layers | tensor-parallel size | pipeline-parallel
# size | GPUs | batch size | achieved teraFLOP/s per GPU | % of theoretical peak | aggregate petaFLOP/s):
#   "| 1.7 | 24 | 2304 | 24 | 1 | 1 | 32 | 512 | 137 | 44% | 4.4 |"  ...  "| 1008.0 | 160 | 25600 | 128 | 8 | 64 |
#   3072 | 3072 | 163 | 52% | 502.0 |" (all ten rows below equal it).
# Sec. 5.1: "All models use a vocabulary size (denoted by V) of 51,200 (multiple of 1024) and a sequence length (s) of
# 2048"; the TFLOP/s are eq. 3 ("equation (3) assumes activation recomputation"); Sec. 5: "Each cluster node has 8
# NVIDIA 80-GB A100 GPUs", "eight NVIDIA Mellanox 200Gbps HDR Infiniband HCAs", "The peak device throughput of an
# A100 GPU with 16-bit precision is 312 teraFLOP/s", "All of our results are run with mixed precision" (fp16 here).
# Megatron-LM of 2021: no ZeRO, no flash attention. Sec. 5.1 also says "we use the interleaved pipeline schedule with
# the scatter/gather optimization enabled" without the number of chunks: we model vpp 1 for these rows, so for
# pp > 1 we charge a larger bubble than they ran with.
# (heads, hidden, layers, TP, PP, GPUs, batch, achieved TFLOP/s per GPU, % of peak)
NARAYANAN_TABLE_1 = [
    (24, 2304, 24, 1, 1, 32, 512, 137, 44), (32, 3072, 30, 2, 1, 64, 512, 138, 44),
    (32, 4096, 36, 4, 1, 128, 512, 142, 46), (48, 6144, 40, 8, 1, 256, 1024, 135, 43),
    (64, 8192, 48, 8, 2, 512, 1536, 138, 44), (80, 10240, 60, 8, 4, 1024, 1792, 140, 45),
    (96, 12288, 80, 8, 8, 1536, 2304, 148, 47), (128, 16384, 96, 8, 16, 1920, 2160, 155, 50),
    (128, 20480, 105, 8, 35, 2520, 2520, 163, 52), (160, 25600, 128, 8, 64, 3072, 3072, 163, 52)]
# rows we miss (docs, "Published runs"): {hidden: (low, high) of predicted / published TFLOP/s}
NARAYANAN_MISSES = {2304: (1.15, 1.35), 3072: (1.10, 1.25)}
NARAYANAN_RANK_MISSES = {6144: 6, 8192: 5, 12288: 4}  # the published layout's place in our ranking


@pytest.mark.parametrize("heads, hidden, layers, tp, pp, gpus, batch, published, percent", NARAYANAN_TABLE_1)
def test_narayanan_2021_table_1(mem, heads, hidden, layers, tp, pp, gpus, batch, published, percent):
    assert round(100 * published / 312) == percent  # the row's two columns agree at the paper's 312 TFLOP/s peak
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


# Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models" (arXiv:2205.05198),
# checked against the paper's text (a transcription in the search index). Table 5, "End-to-end iteration time"
# (seconds; Full Recompute | Present Work = sequence parallelism + selective recompute):
#   "22B 1.42 1.10", "175B 18.13 13.75", "530B 49.05 37.83", "1T 94.42 71.49"
# (the same values as calculon-ai/calculon calculon/llm/validation.py, seqsel_tab5, "Table 5"; this file called it
# Table 4 before, which is the paper's per-layer table). Table 3, "Model configurations used during evaluation"
# (heads, hidden, layers, TP, PP, GPUs, global batch, micro batch): "22B 64 6144 48 8 1 8 4 4", "175B (GPT-3) 96
# 12288 96 8 8 64 64 1", "530B (MT-NLG) 128 20480 105 8 35 280 280 1", "1T 160 25600 128 8 64 512 512 1". Sec. 6:
# "We use the interleaving schedule with three interleaving stages (m = 3) for the 175B and 530B models", "vocabulary
# size is set to v = 51200", "no data parallelism", "Each cluster node has 8 NVIDIA 80GB A100 GPUs", "mixed
# precision". (name, layers, hidden, heads, tp, pp, GPUs, batch, micro-batch, interleaving, full-recompute s,
# sequence-parallel + selective s)
KORTHIKANTI_TABLE_5 = [
    ("22B", 48, 6144, 64, 8, 1, 8, 4, 4, 1, 1.42, 1.10),
    ("175B", 96, 12288, 96, 8, 8, 64, 64, 1, 3, 18.13, 13.75),
    ("530B", 105, 20480, 128, 8, 35, 280, 280, 1, 3, 49.05, 37.83),
    ("1T", 128, 25600, 160, 8, 64, 512, 512, 1, 1, 94.42, 71.49)]
KORTHIKANTI_MISSES = {("22B", "selective"): (1.15, 1.30)}  # predicted / published throughput (docs: why)


@pytest.mark.parametrize("name, layers, hidden, heads, tp, pp, gpus, batch, mb, vpp, full_s, selective_s",
                         KORTHIKANTI_TABLE_5)
@pytest.mark.parametrize("mode", ["full", "selective"])
def test_korthikanti_2022_table_5(mem, mode, name, layers, hidden, heads, tp, pp, gpus, batch, mb, vpp, full_s,
                                  selective_s):
    model = megatron_gpt(mem, layers, hidden, heads)
    r = step(mem, model, "a100-80gb", num_gpus=gpus, tp=tp, pp=pp, vpp=vpp, sp=mode == "selective", seq_len=2048,
             global_batch=batch, micro_batch=mb, recompute=mode, attn_implementation="eager", precision="fp16")
    ratio = (full_s if mode == "full" else selective_s) / r["step_time_s"]  # predicted / published throughput
    if (name, mode) in KORTHIKANTI_MISSES:  # MISS (docs: why)
        low, high = KORTHIKANTI_MISSES[name, mode]
        assert low < ratio < high, ratio
    else:
        assert 0.85 <= ratio <= 1.15, ratio
    if mode == "full":
        layouts = top_layouts(mem, model, "a100-80gb", gpus, 2048, batch, zero=(0,), recompute=("full",),
                              attn_implementation="eager", precision="fp16")
        assert layouts.index((tp, pp, 1)) < 3, layouts[:3]


# Smith et al. 2022, "Using DeepSpeed and Megatron to Train Megatron-Turing NLG 530B" (arXiv:2201.11990).
# Sec. 2.4, quoted in cli99/llm-analysis examples/megatron-turing-nlg/README.md: "with global batch size 1920 on 280,
# 350, and 420 DGX A100 servers ... the latency per iteration observed is 60.1, 50.2, and 44.4 seconds respectively.
# These correspond to 126, 121, and 113 TFLOP/s per GPU" (a second transcription: "iteration times of 60.1, 50.2,
# and 44.4 seconds (280, 350, 420 servers, batch 1920)", "x 8 A100 80GB", PDF p. 7). Layout, Sec. 2.2 as quoted in
# the index: "Each 530 billion parameter model replica spans 280 NVIDIA A100 GPUs, with 8-way tensor-slicing within a
# node and 35-way pipeline parallelism across nodes"; shape, the paper as quoted in a reading note: "The number of
# layers, hidden dimensions, attention heads are 105, 20480, and 128 ... The sequence length is 2048 and global batch
# size is 1920. We used 8-way tensor and 35-way pipeline parallelism." ZeRO-1
# for the data-parallel optimizer state is our reading of DeepSpeed's 3D parallelism in that paper, not a figure.
# MISS, all three: we predict 18-23 % faster (docs: why).
@pytest.mark.parametrize("dp, seconds, place", [(8, 60.1, 1), (10, 50.2, 0), (12, 44.4, 2)])
def test_mt_nlg_530b(mem, dp, seconds, place):
    model = megatron_gpt(mem, 105, 20480, 128)
    r = step(mem, model, "a100-80gb", num_gpus=280 * dp, tp=8, pp=35, seq_len=2048, global_batch=1920,
             micro_batch=1, recompute="full", attn_implementation="eager", sharding="zero1")
    assert 1.15 < seconds / r["step_time_s"] < 1.30  # MISS, as predicted
    # their TFLOP/s are eq. 3 over the measured time: 126 TFLOP/s at 60.1 s (checks our reading of their figure)
    assert narayanan_eq3(1920, 2048, 105, 20480, 51200) / 60.1 / 2240 / 1e12 == pytest.approx(126, abs=0.5)
    layouts = top_layouts(mem, model, "a100-80gb", 280 * dp, 2048, 1920, zero=(1,), recompute=("full",),
                          attn_implementation="eager")
    assert layouts.index((8, 35, dp)) == place < 3


def bloom_176b(mem):
    """BLOOM (Le Scao et al. 2022, arXiv:2211.05100, Table 1): 70 layers, hidden 14336, 112 heads, 250,880-entry
    vocabulary, the bloom-560m block (ALiBi, embedding LayerNorm, biases, tied head)."""
    return model_of(mem, "--preset", "bloom-560m", "-l", "70", "-hs", "14336", "-a", "112", "--ffn-hidden-size",
                    "57344", "--head-dim", "128")


def test_bloom_176b(mem):
    """BLOOM-176B's training run (BigScience, on Jean Zay).

    Layout, bigscience-workshop/bigscience train/tr11-176B-ml/tr11-176B-ml.slurm: "#SBATCH --nodes=48", "TP_SIZE=4",
    "PP_SIZE=12", "MICRO_BATCH_SIZE=2", "GLOBAL_BATCH_SIZE=2048", "SEQ_LEN=2048", "--checkpoint-activations",
    "--bf16", "--pad-vocab-size-to 250880", "ZERO_STAGE=0 # important: bf16 must use z0! it implements its own zero
    stage 1 equivalent" (48 x 8 = 384 GPUs: dp 8; ZeRO-1 here).
    Published throughput, bigscience/bloom model card ("Speeds, Sizes, Times"): "Training throughput: About 150 TFLOP
    per GPU per second"; its measured form, train/tr11-176B-ml/README.md ("Important checkpoints", the end of the first
    epoch): "elapsed time per iteration (s): 104.70 | ... | global batch size: 2048 | ... | TFLOPs: 149.77". The
    same README: the TFLOPs follow "Equation 3 of Section 5.1" of Narayanan et al. 2021; eq. 3 at 104.70 s gives 149.76
    (checked below), so we compare step times.
    Hardware, the model card: "384 A100 80GB GPUs (48 nodes)", "8 GPUs per node Using NVLink 4 inter-gpu connects, 4
    OmniPath links"; the BLOOM paper (arXiv:2211.05100, p. 18, as quoted in the index): "4 Omni-Path 100 Gbps links per
    node": 4 x 12.5 GB/s over 8 GPUs = 6.25 GB/s per GPU."""
    model = bloom_176b(mem)
    assert mem.count_params(model)["total"] == 176_247_271_424  # the model card's "176,247,271,424 parameters"
    assert narayanan_eq3(2048, 2048, 70, 14336, 250880) / 104.70 / 384 / 1e12 == pytest.approx(149.77, abs=0.05)
    hw = {"inter_node_bw": 6.25}
    r = step(mem, model, "a100-80gb", hw=hw, num_gpus=384, tp=4, pp=12, seq_len=2048, global_batch=2048,
             micro_batch=2, recompute="full", attn_implementation="eager", sharding="zero1")
    assert 0.85 <= 104.70 / r["step_time_s"] <= 1.15  # predicted / published throughput
    layouts = top_layouts(mem, model, "a100-80gb", 384, 2048, 2048, hw=hw, zero=(0, 1), recompute=("full",),
                          attn_implementation="eager")
    assert layouts.index((4, 12, 8)) < 3, layouts[:3]


def test_opt_175b(mem):
    """Zhang et al. 2022, OPT (arXiv:2205.01068) Sec. 2.4: "We trained OPT-175B on 992 80GB A100 GPUs, by utilizing
    Fully Sharded Data Parallel (Artetxe et al., 2021) with Megatron-LM Tensor Parallelism (Shoeybi et al., 2019). We
    achieve utilization of up to 147 TFLOP/s per GPU." Tensor parallelism 8, facebookresearch/metaseq
    projects/OPT/download_opt175b.md: "Since we trained OPT-175B on 124 hosts, we have 124*8 = 992 files corresponding
    to the model parameters (8x tensor parallelism)": tp 8, dp 124. Batch, the paper's Table 1 (175B row: 96 layers,
    96 heads, 12288 wide, batch 2M) and projects/OPT/chronicles/10_percent_update.md ("Batch-size of 2M", "8x Tensor
    Parallelism"): 2M tokens, here 992 sequences of 2048 (8 per dp rank, one micro-batch; the exact count is not
    published). Vocabulary 50,272: facebook/opt-* config.json vocab_size. MISS: +15-25 % in eq. 3's convention; the
    paper does not say how it counts its FLOPs (docs)."""
    model = megatron_gpt(mem, 96, 12288, 96, 50272)
    r = step(mem, model, "a100-80gb", num_gpus=992, tp=8, seq_len=2048, global_batch=992, micro_batch=8,
             recompute="full", attn_implementation="eager", sharding="zero3", sp=True)
    ratio = narayanan_eq3(992, 2048, 96, 12288, 50272) / r["step_time_s"] / 992 / 1e12 / 147
    assert 1.15 < ratio < 1.25  # MISS, as predicted
    layouts = top_layouts(mem, model, "a100-80gb", 992, 2048, 992, zero=(3,), recompute=("full",),
                          attn_implementation="eager")
    assert layouts.index((8, 1, 124)) < 3, layouts[:3]


def layout_row(mem, model, gpu, gpus, seq, gbs, layout, **setup):
    """(place, row) of a layout in the search's ranking (the row: its fastest configuration that fits 80 GiB)."""
    hardware = mem.step_hardware(gpu, setup.get("precision", "bf16"))
    base = mem.TrainSetup(num_gpus=gpus, seq_len=seq, global_batch=gbs, sp=True, **setup)
    rows, _ = mem.search_configs(model, base, 80 * GiB, top=0, hw=hardware)
    places = [(r["tp"], r["pp"], r["dp"]) for r in rows]
    return places.index(layout), rows[places.index(layout)]


# Dubey et al. 2024, "The Llama 3 Herd of Models" (arXiv:2407.21783 v3), Table 4, "Scaling configurations and MFU
# for each stage of Llama 3 405B pre-training" (GPUs | TP | CP | PP | DP | Seq. Len. | Batch size/DP | Tokens/Batch |
# TFLOPs/GPU | BF16 MFU), as transcribed in the search index:
#   "8,192 | 8 | 1 | 16 | 64 | 8,192 | 32 | 16M | 430 | 43%"
#   "16,384 | 8 | 1 | 16 | 128 | 8,192 | 16 | 16M | 400 | 41%"
#   "16,384 | 8 | 16 | 16 | 8 | 131,072 | 16 | 16M | 380 | 38%"
# (transcriptions of v1 print DP 4 in the last row, which does not multiply to 16,384 GPUs; v3 prints 8). Global
# batch = Batch size/DP x DP: 2048, 2048 and 128 sequences (16M tokens each). H100 peak 989 TFLOP/s (bf16). The paper
# does not define its FLOPs; we compare in the causal convention (model_tflops_per_gpu_causal: the attention FLOPs
# flash attention executes) and state the full-square figure in the docs. The interleaving and micro-batch are not
# published: ours are the search's fastest for that layout.
LLAMA3_TABLE_4 = [
    # (GPUs, cp, sequence, global batch, dp, TFLOP/s, predicted / published band if a MISS, place if a MISS)
    (8192, 1, 8192, 2048, 64, 430, (0.75, 0.85), 6),
    (16384, 1, 8192, 2048, 128, 400, None, None),
    (16384, 16, 131072, 128, 8, 380, None, 3)]


@pytest.mark.parametrize("gpus, cp, seq, gbs, dp, published, miss_band, miss_place", LLAMA3_TABLE_4)
def test_llama3_405b_table_4(mem, gpus, cp, seq, gbs, dp, published, miss_band, miss_place):
    model = mem.preset_model("llama-3.1-405b")
    place, row = layout_row(mem, model, "h100-sxm", gpus, seq, gbs, (8, 16, dp), cp=cp)
    ratio = row["step"]["model_tflops_per_gpu_causal"] / published
    if miss_band:  # MISS (docs: why)
        assert miss_band[0] < ratio < miss_band[1], ratio
    else:
        assert 0.85 <= ratio <= 1.15, ratio
    if miss_place is not None:  # MISS: placed lower than third (docs: why)
        assert place == miss_place
    else:
        assert place < 3


def test_nemotron_4_340b(mem):
    """NVIDIA 2024, Nemotron-4 340B technical report (arXiv:2406.11704), Table 2 (DP size | GPUs | iteration time s |
    MFU % | batch size | tokens B), last row as transcribed in the index: "64 | 6144 | 8.0 | 41.0 | 2304 | 7600"; Sec.
    2.3 (as summarised there): 768 DGX H100 nodes, 8-way tensor parallelism, 12-way pipeline parallelism with
    interleaving, data parallelism 16 -> 64 (tp 8 x pp 12 x dp 64 = 6,144). Model (Sec. 2.2,
    Table 1): 96 layers, hidden 18432, 96 heads, 8 KV heads, squared ReLU, no bias, untied embeddings, sequence 4096,
    256,000-entry vocabulary; the 2-linear MLP is 73728 wide (nvidia/Nemotron-4-340B-Base model_config.yaml,
    "ffn_hidden_size: 73728"). The step time is within 15 %; the layout is our sixth (MISS, docs: why)."""
    model = model_of(mem, "-l", "96", "-hs", "18432", "-a", "96", "--num-kv-heads", "8", "--ffn-hidden-size",
                     "73728", "-v", "256000")
    place, row = layout_row(mem, model, "h100-sxm", 6144, 4096, 2304, (8, 12, 64))
    assert 0.85 <= 8.0 / row["step"]["step_time_s"] <= 1.15
    assert place == 5  # MISS, as predicted


def test_deepseek_v3(mem):
    """DeepSeek-AI 2024, DeepSeek-V3 technical report (arXiv:2412.19437). Sec. 3.2: "DeepSeek-V3 applies 16-way
    Pipeline Parallelism (PP), 64-way Expert Parallelism (EP) spanning 8 nodes, and ZeRO-1 Data Parallelism (DP)";
    Sec. 3.1: "a cluster equipped with 2048 NVIDIA H800 GPUs"; Sec. 4.2: "We set the maximum sequence length to 4K
    during pre-training", the batch "gradually increased from 3072 to 15360 in the training of the first 469B tokens";
    FP8 training (Sec. 3.3); no tensor parallelism. Sec. 1: "training DeepSeek-V3 on each trillion tokens requires only
    180K H800 GPU hours, i.e., 3.7 days on our cluster with 2048 H800 GPUs": 1e12 / (180,000 x 3600) = 1,543 tokens/s
    per GPU, averaged over the whole pre-training. MISS: DualPipe hides the all-to-all behind computation, which this
    model leaves exposed: we predict about half (docs)."""
    model = mem.preset_model("deepseek-v3")
    place, row = layout_row(mem, model, "h800", 2048, 4096, 15360, (1, 16, 128), ep=64, precision="fp8")
    published = 1e12 / (180_000 * 3600)
    assert 0.45 < row["step"]["tokens_per_s_per_gpu"] / published < 0.55  # MISS, as predicted
    terms = row["step"]["terms_s"]
    assert terms["ep"] == max(terms[k] for k in terms if k != "compute")  # the exposed all-to-all is why
    assert place == 5  # MISS


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

FLAG_VALUES = st.one_of(st.text(max_size=12), st.sampled_from(["0", "-1", "1e400", "nan", "inf", "0.5", "2", "1,2",
                                                               "0,0", "full,none", "3,", ""]))


@settings(max_examples=40, deadline=None)
@given(flag=st.sampled_from(["--compute-efficiency", "--comm-efficiency", "--peak-tflops", "--intra-node-bw",
                             "--inter-node-bw", "--hbm-bw", "--gpu", "--gpus-per-node"]), value=FLAG_VALUES)
def test_hostile_step_flag_values(mem, flag, value):
    status, out, err = call_main(mem, ["-l", "2", "-hs", "64", "-a", "4", "-v", "100", "-s", "64", "--num-gpus", "2",
                                       "--predict-step", flag, value, "--json"])
    if status == 0:
        step = json.loads(out)["step"]
        assert step["step_time_s"] > 0 and all(v >= 0 for v in step["terms_s"].values())
        assert 0 < step["mfu"] < float("inf")
    else:
        assert status == 2 and out == "" and len(err.strip().splitlines()) == 1, err


@settings(max_examples=25, deadline=None)
@given(flag=st.sampled_from(["--zero-stages", "--recompute-options"]), value=FLAG_VALUES)
def test_hostile_search_choices(mem, flag, value):
    status, out, err = call_main(mem, ["-l", "2", "-hs", "64", "-a", "4", "-v", "100", "-s", "64", "--num-gpus", "4",
                                       "--search", "--gpu-memory", "80GiB", flag, value, "--json"])
    assert status in (0, 2), err
    if status == 2:
        assert out == "" and len(err.strip().splitlines()) == 1, err
