"""calc_transformer_mem.py against published figures, independent arithmetic, and hostile input.

Every expected number below is a published figure (cited next to it) or computed here from first principles,
never by calling the code under test. Torch / transformers cross-checks live in test_mem_torch.py.
"""
from __future__ import annotations

import json
import math
import re

import pytest

from conftest import call_main, load_script, run_cli

GiB, MiB = 2**30, 2**20
# Model states only: no framework overhead, no buckets, no fragmentation allowance.
BARE = ["--overhead", "0B", "--comm-buffer", "0B", "--fragmentation", "0"]
BARE_INFER = ["--overhead", "0B", "--fragmentation", "0"]  # inference has no DDP buckets (--comm-buffer)


def run_json(mem, *argv):
    status, out, err = call_main(mem, [*argv, "--json"])
    assert status == 0, err
    return json.loads(out)


# ---------------------------------------------------------------------------------------------------------------
# ZeRO paper (Rajbhandari et al. 2020, "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models")
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stage, expected_gb", [(0, 120), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_paper_figure_1(mem, stage, expected_gb):
    # Fig. 1: Psi = 7.5B, K = 12 (mixed-precision Adam), N_d = 64: 120 / 31.4 / 16.6 / 1.9 GB (printed to 0.1 GB)
    r = run_json(mem, "--params", "7.5B", "--num-gpus", "64", "-z", str(stage), *BARE)
    assert abs(r["per_gpu"]["total"] / 1e9 - expected_gb) <= 0.05


# Table 1 (per-device GB for DP degree N_d; columns P_os, P_os+g, P_os+g+p), as printed in the paper.
ZERO_TABLE_1 = [
    ("7.5B", 4, 52.5, 41.3, 30.0), ("7.5B", 16, 35.6, 21.6, 7.5), ("7.5B", 64, 31.4, 16.6, 1.88),
    ("7.5B", 256, 30.4, 15.4, 0.47), ("7.5B", 1024, 30.1, 15.1, 0.12),
    ("128B", 1024, 513.5, 257.8, 2.0), ("1T", 1024, 4011.7, 2013.7, 15.6),
]


@pytest.mark.parametrize("psi, nd, p_os, p_os_g, p_os_g_p", ZERO_TABLE_1)
def test_zero_paper_table_1(mem, psi, nd, p_os, p_os_g, p_os_g_p):
    for stage, expected in ((1, p_os), (2, p_os_g), (3, p_os_g_p)):
        r = run_json(mem, "--params", psi, "--num-gpus", str(nd), "-z", str(stage), *BARE)
        digits = len(str(expected).split(".")[1]) if "." in str(expected) else 0
        assert abs(r["per_gpu"]["total"] / 1e9 - expected) <= 0.5 * 10**-digits + 1e-9, (stage, r["per_gpu"])


# ---------------------------------------------------------------------------------------------------------------
# Megatron-LM docs/source/api-guide/dist_optimizer.md: bytes per parameter, plain vs distributed optimizer (d = DP)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flags, plain, dist_num, dist_den", [
    (["--precision", "fp16", "--grads", "low+fp32"], 20, 4, 16),   # fp16 params, fp16 grads: 20 vs 4 + 16/d
    (["--precision", "bf16", "--grads", "fp32"], 18, 6, 12),       # bf16 params, fp32 grads: 18 vs 6 + 12/d
    (["--precision", "fp32"], 16, 8, 8),                            # fp32 params, fp32 grads: 16 vs 8 + 8/d
])
@pytest.mark.parametrize("d", [2, 8, 64])
def test_megatron_distributed_optimizer_table(mem, flags, plain, dist_num, dist_den, d):
    n = 1_000_000 * d  # divisible by d, so every shard is exact
    r0 = run_json(mem, "--params", str(n), "--num-gpus", str(d), "-z", "0", *flags, *BARE)
    r1 = run_json(mem, "--params", str(n), "--num-gpus", str(d), "-z", "1", *flags, *BARE)
    assert r0["per_gpu"]["total"] == plain * n
    assert r1["per_gpu"]["total"] == dist_num * n + dist_den * n // d


# Ultra-Scale Playbook (HF, 2025), "Memory usage in transformers": model states 16 B/param (bf16 + fp32 master +
# Adam) or 20 B/param with fp32 gradient accumulation: 1B 16/20 GB, 7B 112/140, 70B 1120/1400, 405B 6480/8100.
@pytest.mark.parametrize("n, without, with_fp32", [("1B", 16, 20), ("7B", 112, 140), ("70B", 1120, 1400),
                                                   ("405B", 6480, 8100)])
def test_ultrascale_playbook_model_states(mem, n, without, with_fp32):
    assert run_json(mem, "--params", n, *BARE)["per_gpu"]["total"] == without * 10**9
    assert run_json(mem, "--params", n, "--grads", "low+fp32", *BARE)["per_gpu"]["total"] == with_fp32 * 10**9


# ---------------------------------------------------------------------------------------------------------------
# DeepSpeed estimators (deepspeed/runtime/zero/stage_1_and_2.py and stage3.py, current code; docs memory.rst)
# ZeRO-2: 2P + 18P/N (no offload), 2P (optimizer offload); ZeRO-3: 4 P_max + 18P/N, 4 P_max + 2P/N, 4 P_max.
# Our switches for DeepSpeed's layout: fp16 params, fp16 grads + an fp32 grad copy, nothing prefetched.
# ---------------------------------------------------------------------------------------------------------------
DS = ["--precision", "fp16", "--grads", "low+fp32", *BARE]
DS3 = [*DS, "--prefetch-units", "0"]  # ZeRO-3: DeepSpeed's estimator gathers the largest layer only


@pytest.mark.parametrize("extra, expected_mib", [
    ([], 3291), (["--offload-optimizer", "--offload-params"], 125), (["--offload-optimizer"], 477)])
def test_deepspeed_t5_large_zero3(mem, extra, expected_mib):
    # memory.rst: t5-large, 737.67M params, largest layer 32.90M, 1 node x 4 GPUs; printed as `bytes >> 20` MB,
    # i.e. whole MiB rounded down
    r = run_json(mem, "--params", "737.67M", "--largest-layer-params", "32.90M", "--num-gpus", "4", "-z", "3", *DS3, *extra)
    assert r["per_gpu"]["total"] >> 20 == expected_mib


@pytest.mark.parametrize("stage, extra, expected_gib", [
    ("2", [], 11.28),                                  # current code: 2P + 18P/8 (memory.rst's 15.93 is stale)
    ("2", ["--offload-optimizer"], 5.31),
    ("3", [], 6.09), ("3", ["--offload-optimizer"], 0.78), ("3", ["--offload-optimizer", "--offload-params"], 0.12),
])
def test_deepspeed_t5_3b(mem, stage, extra, expected_gib):
    # memory.rst, the "all_cold" calls for t5-3b: total_params=2851e6, largest_layer_params=32e6, 1 node x 8 GPUs;
    # printed with :.2f in GiB (labelled GB), so within half a printed unit. (The "all_live" run on the real model,
    # largest layer 32.9M, prints 0.79 / 6.10 instead of 0.78 / 6.09.)
    largest = ["--largest-layer-params", "32M", "--prefetch-units", "0"] if stage == "3" else []
    r = run_json(mem, "--params", "2851M", *largest, "--num-gpus", "8", "-z", stage, *DS, *extra)
    assert abs(r["per_gpu"]["total"] / GiB - expected_gib) <= 0.005


# ---------------------------------------------------------------------------------------------------------------
# HF accelerate docs (model_size_estimator.md), bert-base-cased: fp32 total 413.18 MB, fp16 206.59 MB, fp32 Adam
# training 1.61 GB ("MB" = MiB). The parameter count is computed here from BERT-base's published shape
# (google-bert/bert-base-cased config.json: vocab 28996, hidden 768, 12 layers, intermediate 3072, 512 positions,
# 2 token types, pooler); accelerate also counts two int64 buffers of 512 entries (8 KiB).
# ---------------------------------------------------------------------------------------------------------------
def bert_base_cased_params():
    v, h, f, layers, pos = 28996, 768, 3072, 12, 512
    embeddings = v * h + pos * h + 2 * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * f + f) + (f * h + h) + 2 * h
    return embeddings + layers * layer + h * h + h


def test_accelerate_bert_base_cased(mem):
    n = bert_base_cased_params()
    assert n == 108_310_272
    fp32 = run_json(mem, "--params", str(n), "--infer", "--weight-dtype", "fp32", *BARE_INFER)["per_gpu"]["weights"]
    fp16 = run_json(mem, "--params", str(n), "--infer", "--weight-dtype", "fp16", *BARE_INFER)["per_gpu"]["weights"]
    assert abs((fp32 + 8192) / MiB - 413.18) <= 0.005
    assert abs((fp16 + 4096) / MiB - 206.59) <= 0.005
    adam = run_json(mem, "--params", str(n), "--precision", "fp32", *BARE)["per_gpu"]["total"]
    assert abs(adam / GiB - 1.61) <= 0.005


# ---------------------------------------------------------------------------------------------------------------
# Korthikanti et al. 2022, Table 2, GPT-3 175B (s=2048, b=1, h=12288, a=96, t=8): per-layer activation bytes
# ---------------------------------------------------------------------------------------------------------------
S, B, H, A, T = 2048, 1, 12288, 96, 8
SBH = S * B * H


def korthikanti_layer(mem, **setup):
    model = mem.preset_model("gpt3-175b")  # the shared model block's preset
    base = dict(seq_len=S, micro_batch=B, attn_implementation="eager", profile="megatron", num_gpus=setup.get("tp", 1))
    base.update(setup)
    ts = mem.TrainSetup(**base)
    tensors = mem.layer_activation_tensors(model, ts, False, "full")
    return mem.activation_sum(tensors, ts.recompute)


def test_korthikanti_table_2_rows(mem):
    five_as_h = 5 * A * S // H  # = 80
    assert korthikanti_layer(mem) == SBH * (34 + five_as_h)                                   # no parallelism
    assert korthikanti_layer(mem, tp=T) == SBH * (10 + 24 // T) + SBH * five_as_h // T          # tensor parallel
    assert korthikanti_layer(mem, tp=T, sp=True) == SBH * (34 + five_as_h) // T                 # + sequence parallel
    assert korthikanti_layer(mem, tp=T, recompute="selective") == SBH * (10 + 24 // T)          # TP + selective
    assert korthikanti_layer(mem, tp=T, sp=True, recompute="selective") == SBH * 34 // T        # TP + SP + selective
    model = mem.preset_model("gpt3-175b")
    assert mem.layer_input_bytes(model, mem.TrainSetup(seq_len=S, micro_batch=B)) == 2 * SBH   # full recompute


def test_korthikanti_gpt3_mib_figures(mem):
    # The same rows in the units usually quoted: 2.67 GiB, 552 / 342 / 102 MiB, 48 MiB (full recompute)
    assert round(korthikanti_layer(mem) / GiB, 2) == 2.67
    assert round(korthikanti_layer(mem, tp=T) / MiB) == 552
    assert round(korthikanti_layer(mem, tp=T, sp=True) / MiB) == 342
    assert round(korthikanti_layer(mem, tp=T, sp=True, recompute="selective") / MiB) == 102


def test_flash_attention_drops_the_s_squared_term(mem):
    # With flash attention nothing a*s^2 is stored; it keeps the output and a fp32 log-sum-exp of a*s*b per layer.
    eager = korthikanti_layer(mem, tp=T, sp=True)
    flash = korthikanti_layer(mem, tp=T, sp=True, attn_implementation="flash")
    assert flash == SBH * 34 // T + 4 * A * S * B // T
    assert eager - flash == 5 * A * S * S * B // T - 4 * A * S * B // T


# ---------------------------------------------------------------------------------------------------------------
# KV cache per token and sizes (peers.md section 3.5, from 2 x layers x kv_heads x head_dim x bytes)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset, dtype, per_token", [
    ("llama-2-7b", "bf16", 524_288), ("llama-2-13b", "bf16", 819_200), ("llama-2-70b", "bf16", 327_680),
    ("llama-3-8b", "bf16", 131_072), ("mistral-7b", "bf16", 131_072), ("llama-3.1-405b", "bf16", 516_096),
    ("llama-3-70b", "int8", 163_840),      # scaling book: "160 kB/token" for Llama-3-70B with int8 KV
    ("deepseek-v3", "bf16", 70_272),       # MLA latent: 61 layers x (512 + 64) x 2 B, no factor 2
])
def test_kv_bytes_per_token(mem, preset, dtype, per_token):
    r = run_json(mem, "--preset", preset, "--infer", "--kv-dtype", dtype, "--context", "1")
    assert r["kv_cache"]["bytes_per_token"] == per_token


def test_kv_llama2_7b_4096_tokens_is_2_gib(mem):
    r = run_json(mem, "--preset", "llama-2-7b", "--infer", "--context", "4096")
    assert r["kv_cache"]["total_bytes"] == 2 * GiB


def test_kv_deepseek_v3_q8_0_matches_llama_cpp_log(mem):
    # ikawrakow/ik_llama.cpp PR #259 log: "KV self size = 1166.62 MiB" at 32768 context with q8_0 MLA cache
    r = run_json(mem, "--preset", "deepseek-v3", "--infer", "--context", "32768", "--kv-dtype", "q8_0")
    assert f"{r['kv_cache']['total_bytes'] / MiB:.2f}" == "1166.62"


def test_kv_sliding_window_caps_and_gemma2_alternates(mem):
    ctx = 10_000
    # Mistral-7B v0.1: every layer slides over 4096 tokens
    r = run_json(mem, "--preset", "mistral-7b", "--infer", "--context", str(ctx))
    assert r["kv_cache"]["total_bytes"] == 32 * 2 * 8 * 128 * 2 * 4096
    # Gemma-2-9B: 21 sliding layers capped at 4096, 21 full layers hold all tokens; head_dim 256, 8 kv heads
    r = run_json(mem, "--preset", "gemma-2-9b", "--infer", "--context", str(ctx))
    per_layer_token = 2 * 8 * 256 * 2
    assert r["kv_cache"]["total_bytes"] == 21 * per_layer_token * 4096 + 21 * per_layer_token * ctx


def test_kv_tp_split_and_batch(mem):
    r = run_json(mem, "--preset", "llama-3-8b", "--infer", "--context", "1000", "--batch-size", "3", "-tp", "4")
    assert r["kv_cache"]["total_bytes"] == 32 * 2 * (8 // 4) * 128 * 2 * 1000 * 3
    r = run_json(mem, "--preset", "llama-3-8b", "--infer", "--context", "1000", "-tp", "32")  # 8 kv heads < 32
    assert r["kv_cache"]["total_bytes"] == 32 * 2 * 1 * 128 * 2 * 1000


@pytest.mark.parametrize("dtype, bits", [("fp16", 16), ("fp8", 8), ("int8", 8), ("int4", 4), ("q4_0", 4.5)])
def test_kv_dtypes(mem, dtype, bits):
    r = run_json(mem, "--preset", "llama-3-8b", "--infer", "--context", "4096", "--kv-dtype", dtype)
    assert r["kv_cache"]["total_bytes"] == int(32 * 2 * 8 * 128 * 4096 * bits / 8)


# ---------------------------------------------------------------------------------------------------------------
# Parameter counts of the presets: published exact totals. Unless noted, the safetensors parameter total the
# model's Hugging Face page reports (openai-community/gpt2, meta-llama/Llama-2-7b-hf, -13b-hf, -70b-hf,
# meta-llama/Meta-Llama-3-8B, -70B, meta-llama/Llama-3.1-405B, mistralai/Mistral-7B-v0.1, Mixtral-8x7B-v0.1,
# Qwen/Qwen2.5-72B), which is what PyTorch counts for the checkpoint.
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset, total", [
    ("gpt2", 124_439_808), ("llama-2-7b", 6_738_415_616),
    # Pythia suite: EleutherAI/pythia README, models table, "Params" column (Biderman et al. 2023, Table 1)
    ("pythia-70m", 70_426_624), ("pythia-160m", 162_322_944), ("pythia-410m", 405_334_016),
    ("pythia-1b", 1_011_781_632), ("pythia-1.4b", 1_414_647_808), ("pythia-2.8b", 2_775_208_960),
    ("pythia-6.9b", 6_857_302_016), ("pythia-12b", 11_846_072_320),
    ("llama-2-13b", 13_015_864_320), ("llama-2-70b", 68_976_648_192), ("llama-3-8b", 8_030_261_248),
    ("llama-3-70b", 70_553_706_496), ("llama-3.1-405b", 405_853_388_800), ("mistral-7b", 7_241_732_096),
    ("mixtral-8x7b", 46_702_792_704), ("qwen2.5-72b", 72_706_203_648),
])
def test_preset_param_counts(mem, preset, total):
    assert run_json(mem, "--preset", preset, "--infer")["params"]["total"] == total


def test_chinchilla_and_gopher_nominal_sizes(mem):
    # Hoffmann et al. 2022: "Chinchilla (70B)"; Rae et al. 2021 Table 1: Gopher 280B
    assert round(run_json(mem, "--preset", "chinchilla-70b", "--infer")["params"]["total"] / 1e9) == 70
    assert round(run_json(mem, "--preset", "gopher-280b", "--infer")["params"]["total"] / 1e9) == 280


def test_mixtral_and_deepseek_active(mem):
    # Mixtral-8x7B: the published total minus the 6 of 8 experts a token skips (32 layers x 3 x 4096 x 14336 each)
    mixtral = run_json(mem, "--preset", "mixtral-8x7b", "--infer")["params"]
    assert mixtral["active"] == 46_702_792_704 - 32 * 6 * 3 * 4096 * 14336
    # DeepSeek-V3 from its config.json shapes (MLA with q-LoRA, 3 dense layers, 58 MoE layers of 256 experts + 1
    # shared, top-8, router E x h, MTP module not counted); the technical report (arXiv:2412.19437, abstract) says
    # "671B total parameters with 37B activated for each token".
    h, layers, a, rq, rkv, dn, dr, dv, f, e, fm, v = 7168, 61, 128, 1536, 512, 128, 64, 128, 18432, 256, 2048, 129280
    attention = h * rq + rq + rq * a * (dn + dr) + h * (rkv + dr) + rkv + rkv * a * (dn + dv) + a * dv * h
    moe = e * h + e * 3 * h * fm + 3 * h * fm
    total = 2 * v * h + h + layers * (2 * h + attention) + 3 * 3 * h * f + 58 * moe
    active = total - 58 * (e - 8) * 3 * h * fm
    p = run_json(mem, "--preset", "deepseek-v3", "--infer")["params"]
    assert (p["total"], p["active"]) == (total, active)
    assert round(total / 1e9) == 671 and int(active / 1e9) == 37


# ---------------------------------------------------------------------------------------------------------------
# Training terms, independent arithmetic
# ---------------------------------------------------------------------------------------------------------------
def test_llama2_7b_model_states_bytes_per_param(mem):
    n = 6_738_415_616
    tensors = 2 + 32 * 9 + 1   # embed, lm_head, 9 tensors per layer, final norm
    r = run_json(mem, "--preset", "llama-2-7b", *BARE)
    g = r["per_gpu"]
    assert (g["weights"], g["gradients"], g["master_weights"]) == (2 * n, 2 * n, 4 * n)
    assert g["optimizer_states"] == 8 * n + 4 * tensors          # + torch's float32 step per tensor
    r = run_json(mem, "--preset", "llama-2-7b", "--grads", "fp32", *BARE)
    assert r["per_gpu"]["gradients"] == 4 * n                      # Megatron's 18 B/param


@pytest.mark.parametrize("opt, per_param", [("sgd", 0), ("sgd-momentum", 4), ("lion", 4)])
def test_simple_optimizers(mem, opt, per_param):
    r = run_json(mem, "--params", "1B", "--optimizer", opt, *BARE)
    assert r["per_gpu"]["optimizer_states"] == per_param * 10**9


def test_adamw_8bit_block_absmax(mem):
    # bitsandbytes Optimizer2State: two uint8 states + two fp32 absmax per 256-element block
    n = 2**20
    r = run_json(mem, "--params", str(n), "--optimizer", "adamw-8bit", *BARE)
    assert r["per_gpu"]["optimizer_states"] == 2 * n + 2 * 4 * (n // 256)


def test_zero_shards_over_dp_not_world(mem):
    # tp 4 x pp 2 on 64 GPUs leaves dp = 8: ZeRO-1 divides the optimizer by 8, not by 64
    r = run_json(mem, "--preset", "llama-2-7b", "--num-gpus", "64", "-tp", "4", "-pp", "2", "-z", "1", *BARE)
    assert r["setup"]["dense_shard"] == 8
    h, f, v = 4096, 11008, 32000
    layers_local = 16 * ((4 * h * h + 3 * h * f) // 4 + 2 * h)  # 32 layers over pp 2; linears over tp 4
    for stage, local in (("first", layers_local + v * h // 4), ("last", layers_local + h + v * h // 4)):
        g = r["stages"][stage]["terms"]
        assert g["weights"] == 2 * local
        assert g["master_weights"] == -(-4 * local // 8)


def test_pipeline_in_flight_microbatches(mem):
    # 1F1B: the first stage holds min(pp, m) micro-batches; the last stage one (plus the logits)
    base = ["--preset", "llama-2-7b", "-pp", "4", "--num-gpus", "4", "-s", "1024", *BARE]
    full = run_json(mem, *base, "--global-batch", "16")
    few = run_json(mem, *base, "--global-batch", "2")
    first_full = full["stages"]["first"]["terms"]["activations"]
    first_few = few["stages"]["first"]["terms"]["activations"]
    assert first_full * 2 == first_few * 4
    last = full["stages"]["last"]["terms"]["activations"]
    assert first_full > 3 * last


def test_interleaved_schedule_penalty(mem):
    # Korthikanti Sec. 4.2.3 / Megatron schedules.py: interleaving stores L(1 + (p-1)/(p v)) layer-micro-batches
    p, v, layers = 4, 2, 32
    base = ["--preset", "llama-2-7b", "-pp", str(p), "--num-gpus", str(p), "-s", "1024", "--global-batch", "64",
            *BARE]
    plain = run_json(mem, *base)["stages"]["first"]["terms"]["activations"]
    inter = run_json(mem, *base, "--vpp", str(v))["stages"]["first"]["terms"]["activations"]
    ids = 8 * 1024  # int64 token ids per in-flight micro-batch
    per_layer = (plain - p * ids) // (layers // p * p)
    chunks = 2 * (p - 1) + (v - 1) * p + 1
    assert inter == per_layer * (layers // (p * v)) * chunks + chunks * ids
    assert (inter - chunks * ids) / (plain - p * ids) == pytest.approx(1 + (p - 1) / (p * v))


def test_gpu_memory_units_are_respected(mem):
    a = run_json(mem, "--preset", "llama-3-8b", "--gpu-memory", "80GiB")
    b = run_json(mem, "--preset", "llama-3-8b", "--gpu-memory", "80GB")
    assert a["gpu_memory_bytes"] == 80 * 2**30 and b["gpu_memory_bytes"] == 80 * 10**9


def test_checkpoint_size(mem):
    n = 8_030_261_248
    r = run_json(mem, "--preset", "llama-3-8b")
    assert r["checkpoint"]["weights_bytes"] == 2 * n
    tensors = 2 + 32 * 9 + 1
    assert r["checkpoint"]["full_bytes"] == 2 * n + 4 * n + 8 * n + 4 * tensors


# ---------------------------------------------------------------------------------------------------------------
# Solvers
# ---------------------------------------------------------------------------------------------------------------
def test_max_micro_batch_is_the_boundary(mem):
    args = ["--preset", "llama-3-8b", "-s", "4096", "--num-gpus", "8", "-z", "3", "--gpu-memory", "80GiB"]
    r = run_json(mem, *args, "--max-micro-batch")
    b = r["solution"]["value"]
    assert b >= 1 and r["fits"]
    over = run_json(mem, *[a for a in args if a != "--max-micro-batch"], "-b", str(b + 1))
    assert not over["fits"]


def test_max_context_inference(mem):
    r = run_json(mem, "--preset", "llama-3-8b", "--infer", "--gpu-memory", "24GB", "--max-context")
    n = r["solution"]["value"]
    assert r["fits"]
    assert not run_json(mem, "--preset", "llama-3-8b", "--infer", "--gpu-memory", "24GB", "--context",
                        str(n + 1))["fits"]


def test_search_results_fit_and_follow_the_criterion(mem):
    r = run_json(mem, "--preset", "llama-3-70b", "--num-gpus", "64", "--search", "--gpu-memory", "80GiB", "-s",
                 "4096", "--global-batch", "256", "--sp", "--top", "0", "--rank", "memory")  # the memory criterion (issue 14
    rows = r["search"]["results"]  # made predicted tokens/s the default order: tests/test_mem_layout.py)
    assert rows and r["search"]["candidates_evaluated"] >= len(rows)
    assert all(row["total_bytes"] <= 80 * GiB for row in rows)
    order = {"none": 0, "selective": 1, "full": 2}
    keys = [(x["tp"] * x["pp"], x["zero"], order[x["recompute"]], -x["micro_batch"]) for x in rows]
    assert keys == sorted(keys)
    for row in rows[:3]:  # each row reproduces as a single configuration
        single = run_json(mem, "--preset", "llama-3-70b", "--num-gpus", "64", "-tp", str(row["tp"]), "-pp",
                          str(row["pp"]), "-z", str(row["zero"]), "--recompute", row["recompute"], "-b",
                          str(row["micro_batch"]), "-s", "4096", "--global-batch", "256", "--sp")
        assert single["per_gpu"]["total"] == row["total_bytes"]


# ---------------------------------------------------------------------------------------------------------------
# CLI contract
# ---------------------------------------------------------------------------------------------------------------
def test_text_markdown_explain_and_plot(mem, tmp_path):
    status, out, err = call_main(mem, ["--preset", "gpt2", "--explain", "--attn-implementation", "eager"])
    assert status == 0 and "softmax output" in out and "assumptions:" in out
    status, out, _ = call_main(mem, ["--preset", "gpt2", "--format", "markdown"])
    assert status == 0 and out.startswith("**gpt2**, training") and "\n| term | GiB | GB | % |\n" in out
    status, out, _ = call_main(mem, ["--params", "7B", "--infer", "--format", "markdown"])
    assert status == 0 and "inference" in out.splitlines()[0]
    pytest.importorskip("matplotlib")
    target = tmp_path / "mem.png"
    status, _, err = call_main(mem, ["--preset", "llama-3-8b", "--plot", str(target)])
    assert status == 0 and target.stat().st_size > 1000, err


def test_config_json_and_unknown_field_note(mem, tmp_path):
    # meta-llama/Meta-Llama-3-8B config.json (fields as published on the Hugging Face page)
    cfg = {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
           "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096,
           "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 8192,
           "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
           "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 500000.0,
           "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.40.0.dev0",
           "use_cache": True, "vocab_size": 128256, "made_up_field": 1}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    status, out, err = call_main(mem, ["--config", str(tmp_path), "--infer", "--json"])
    assert status == 0
    assert json.loads(out)["params"]["total"] == 8_030_261_248
    assert err.count("\n") == 1 and "made_up_field" in err


# A Llama-shaped config.json, hand-counted: embedding and untied LM head 2 x 100 x 64; per layer two RMSNorms (2 x 64),
# q and o 64 x 64 each, k and v 64 x (2 kv heads x 16) each, SwiGLU 3 x 64 x 128; final norm 64.
TINY_LLAMA = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
              "num_hidden_layers": 2, "vocab_size": 100, "intermediate_size": 128, "tie_word_embeddings": False}
TINY_LLAMA_PARAMS = 2 * 100 * 64 + 2 * (2 * 64 + 2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 128) + 64
assert TINY_LLAMA_PARAMS == 86_848


def _write_config(tmp_path, cfg):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def test_tiny_llama_config_is_counted_by_hand(mem, tmp_path):
    r = run_json(mem, "--config", _write_config(tmp_path, TINY_LLAMA), "--infer")
    assert r["params"]["total"] == TINY_LLAMA_PARAMS and r["notes"] == []


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--format", "markdown"]])
def test_unknown_model_type_is_refused_not_read_as_llama(mem, tmp_path, fmt):
    path = _write_config(tmp_path, dict(TINY_LLAMA, model_type="brand_new_lm"))
    status, out, err = call_main(mem, ["--config", path, "--infer", *fmt])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1, err
    assert "'brand_new_lm'" in lines[0] and "--generic" in lines[0] and lines[0].startswith(f"{mem.PROG}: error:")


def test_generic_reads_an_unknown_model_type_as_llama_and_says_so(mem, tmp_path):
    path = _write_config(tmp_path, dict(TINY_LLAMA, model_type="brand_new_lm"))
    status, out, err = call_main(mem, ["--config", path, "--infer", "--generic", "--json"])
    assert status == 0, err
    r = json.loads(out)
    assert r["params"]["total"] == TINY_LLAMA_PARAMS
    assert r["notes"][0].startswith("--generic") and "brand_new_lm" in r["notes"][0]
    assert "--generic" in err and "brand_new_lm" in err
    for fmt in ([], ["--format", "markdown"]):  # the first line of the printed output says how it was read
        status, out, _ = call_main(mem, ["--config", path, "--infer", "--generic", *fmt])
        assert status == 0 and out.splitlines()[0].startswith("note: --generic") and "brand_new_lm" in out


def test_a_not_yet_modelled_type_is_refused_even_with_generic(mem, tmp_path, monkeypatch):
    # a type the block names in NOT_YET_MODELLED: a Llama reading would miss what it has.  None of issue 10's list is
    # left there (gemma4_text, the example here until its branch modelled it, is read exactly now), so a
    # hypothetical type stands in for the next one
    monkeypatch.setitem(mem.NOT_YET_MODELLED, "hypothetical_hybrid_xyz", "its mixer layers")
    path = _write_config(tmp_path, dict(TINY_LLAMA, model_type="hypothetical_hybrid_xyz"))
    for extra in ([], ["--generic"]):
        status, out, err = call_main(mem, ["--config", path, "--infer", *extra])
        lines = err.strip().splitlines()
        assert status == 2 and out == "" and len(lines) == 1, err
        assert "'hypothetical_hybrid_xyz' is not modelled yet (its mixer layers)" in lines[0], err


def test_unread_structural_field_is_refused_naming_it(mem, tmp_path):
    # LlamaForCausalLM builds no experts: a "llama" config with num_experts is not a model this reading describes
    path = _write_config(tmp_path, dict(TINY_LLAMA, num_experts=8))
    status, out, err = call_main(mem, ["--config", path, "--infer"])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "'num_experts'" in lines[0], err


def test_generic_without_config_is_refused(mem):
    status, out, err = call_main(mem, ["--preset", "llama-3-8b", "--generic"])
    assert status == 2 and out == "" and "--generic" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, needle", [
    (["--preset", "nope"], "--preset"),
    (["--preset", "llama-3-8b", "-tp", "3"], "-tp"),
    (["--preset", "llama-3-8b", "--num-kv-heads", "5"], "--num-kv-heads"),
    (["--preset", "llama-3-8b", "--gpu-memory", "80"], "--gpu-memory"),
    (["--preset", "llama-3-8b", "--num-gpus", "6", "-tp", "4"], "--num-gpus"),
    (["--preset", "llama-3-8b", "-b", "-1"], "-b/--batch-size-per-gpu"),
    (["--preset", "llama-3-8b", "--infer", "--kv-dtype", "fp7"], "--kv-dtype"),
    (["--preset", "llama-3-8b", "--search"], "--gpu-memory"),
    (["--config", "/nonexistent/config.json"], "--config"),
    ([], "--preset"),
])
def test_bad_input_is_one_line_exit_2(mem, argv, needle):
    status, out, err = call_main(mem, argv)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("calc_transformer_mem.py: error:")


def test_real_process_bad_config_json(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    res = run_cli("calc_transformer_mem", "--config", str(bad))
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def _walk_numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _walk_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk_numbers(v)
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield obj


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

TOKENS = st.sampled_from([
    "--preset", "llama-3-8b", "gpt2", "mixtral-8x7b", "deepseek-v3", "gemma-2-9b", "-tp", "-pp", "--cp", "-ep",
    "--num-gpus", "-z", "--sharding", "fsdp-full", "fsdp-hybrid", "--recompute", "full", "selective", "-s", "-b",
    "--infer", "--context", "--kv-dtype", "int4", "--gpu-memory", "80GiB", "80GB", "-1", "0", "1", "2", "3", "8",
    "7B", "1e3", "nan", "inf", "--params", "--max-micro-batch", "--max-context", "--optimizer", "muon", "adafactor",
    "--precision", "fp8", "fp16", "--offload-optimizer", "--offload-params", "--vpp", "--sp", "-l", "-hs", "-a",
    "--num-kv-heads", "--ffn-hidden-size", "--bits-per-weight", "4.5", "--explain", "--grads", "low+fp32", "x",
    "--global-batch", "--layer-types", "alternate", "--sliding-window", "--fragmentation", "--overhead", "1e400",
    "", "1e30", "1.4T", "--largest-layer-params", "--kv-dtype", "--attn-implementation", "eager",
])


@given(st.lists(TOKENS, max_size=12))
def test_hostile_argv(mem, argv):
    status, out, err = call_main(mem, argv + ["--json"])
    if status == 0:
        result = json.loads(out)
        for x in _walk_numbers(result):
            assert math.isfinite(x) and x >= 0, (argv, x)
    else:
        assert status == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)


@given(st.dictionaries(st.sampled_from(["hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size",
                                        "num_key_value_heads", "intermediate_size", "model_type", "sliding_window",
                                        "layer_types", "num_local_experts", "num_experts_per_tok", "head_dim",
                                        "tie_word_embeddings", "text_config"]),
                       st.one_of(st.integers(-3, 5000), st.none(), st.booleans(), st.text(max_size=5),
                                 st.floats(allow_nan=True), st.lists(st.sampled_from(["full_attention", "x"]),
                                                                     max_size=3), st.just({}))))
def test_hostile_config_json(mem, tmp_path_factory, cfg):
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(json.dumps(cfg))
    status, out, err = call_main(mem, ["--config", str(path), "--json", "--infer"])
    if status == 0:
        for x in _walk_numbers(json.loads(out)):
            assert math.isfinite(x) and x >= 0
    else:
        assert status == 2 and len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------------------------------------------------------
# Parallelism and option semantics, independent arithmetic on Llama-2-7B (h 4096, f 11008, V 32000, 32 layers)
# ---------------------------------------------------------------------------------------------------------------
H7, F7, V7, L7 = 4096, 11008, 32000, 32
N7 = 6_738_415_616
LINEAR7 = L7 * (4 * H7 * H7 + 3 * H7 * F7)


def test_tensor_parallel_split_is_exact(mem):
    t = 8
    per_gpu = 2 * V7 * H7 // t + L7 * ((4 * H7 * H7 + 3 * H7 * F7) // t + 2 * H7) + H7  # norms replicated
    r = run_json(mem, "--preset", "llama-2-7b", "-tp", str(t), "--num-gpus", str(t), *BARE)
    assert r["per_gpu"]["weights"] == 2 * per_gpu


def test_fp8_adds_one_byte_per_linear_weight(mem):
    r = run_json(mem, "--preset", "llama-2-7b", "--precision", "fp8", *BARE)
    assert r["per_gpu"]["weights"] == 2 * N7 + LINEAR7


def test_muon_states(mem):
    # Muon momentum (4 B) on hidden matrices; AdamW (8 B + 4 B step per tensor) on embeddings, head and norms
    others = N7 - LINEAR7
    adam_tensors = 2 + 2 * L7 + 1
    r = run_json(mem, "--preset", "llama-2-7b", "--optimizer", "muon", *BARE)
    assert r["per_gpu"]["optimizer_states"] == 4 * LINEAR7 + 8 * others + 4 * adam_tensors


def test_fsdp_variants(mem):
    n, g = 8 * 10**9, 8
    full = run_json(mem, "--params", str(n), "--num-gpus", str(g), "--sharding", "fsdp-full", *BARE)["per_gpu"]
    assert (full["weights"], full["gradients"], full["master_weights"], full["optimizer_states"]) == (
        4 * n // g, 4 * n // g, 0, 8 * n // g)  # sharded fp32 params double as master
    grad_op = run_json(mem, "--params", str(n), "--num-gpus", str(g), "--sharding", "fsdp-grad-op", *BARE)["per_gpu"]
    assert grad_op["weights"] == 4 * n // g + 2 * n and grad_op["gradients"] == 4 * n // g
    hybrid = run_json(mem, "--params", str(n), "--num-gpus", "64", "--sharding", "fsdp-hybrid", "--fsdp-shard-size",
                      "8", *BARE)["per_gpu"]
    assert hybrid["optimizer_states"] == 8 * n // 8


def test_offload_optimizer_moves_states_to_cpu(mem):
    n, g = 8 * 10**9, 8
    r = run_json(mem, "--params", str(n), "--num-gpus", str(g), "-z", "2", "--offload-optimizer", *BARE)
    assert r["per_gpu"]["total"] == 2 * n
    assert r["cpu_per_gpu_bytes"] == (2 + 4 + 8) * n // g


def test_context_parallel_halves_activations_and_joins_the_shard_group(mem):
    base = ["--preset", "llama-3-8b", "-s", "8192", *BARE]
    one = run_json(mem, *base)
    two = run_json(mem, *base, "--cp", "2", "--num-gpus", "2", "-z", "1")
    assert 2 * two["per_gpu"]["activations"] == one["per_gpu"]["activations"]
    assert two["setup"]["dense_shard"] == 2
    assert two["per_gpu"]["master_weights"] == 4 * 8_030_261_248 // 2


def test_expert_parallel_divides_experts_only(mem):
    h, f, e, layers = 4096, 14336, 8, 32
    experts = layers * e * 3 * h * f
    total = 46_702_792_704
    r = run_json(mem, "--preset", "mixtral-8x7b", "-ep", "8", "--num-gpus", "8", *BARE)
    assert r["per_gpu"]["weights"] == 2 * (total - experts + experts // 8)
    assert r["setup"]["expert_shard"] == 1


def test_count_suffixes(mem):
    # counts are the shared block's parse_count: SI suffixes powers of ten, binary ones powers of two
    assert mem.parse_count("32k", "-s") == 32_000 and mem.parse_count("32Ki", "-s") == 32_768
    assert mem.parse_count("1.4T", "-s") == 1_400_000_000_000 and mem.parse_count("300e9", "-s") == 300 * 10**9
    assert mem.parse_bytes("80GiB") == 80 * 2**30 and mem.parse_bytes("80GB") == 80 * 10**9
    # and this script's flags read them so: -s 32Ki is 32,768 tokens, --context 32k 32,000
    assert run_json(mem, "--preset", "llama-3-8b", "-s", "32Ki")["setup"]["seq_len"] == 32_768
    assert run_json(mem, "--preset", "llama-3-8b", "--infer", "--context", "32k")["setup"]["context"] == 32_000


@pytest.mark.parametrize("text, expected", [
    ("80GiB", 80 * 2**30), ("80 GB", 80 * 10**9), ("1.5TiB", 3 * 2**39), ("0.5KB", 500), ("1_000MB", 10**9),
    ("80B", 80),                      # a size's B is bytes: 80 bytes, not the count suffix's 80 billion
    ("0.1KiB", 102),                  # 102.4 bytes: rounded down
    ("79.6GiB", 796 * 2**30 // 10),   # 85,469,849,190.4 bytes, rounded down exactly
    ("1234567890123.3KiB", 12345678901233 * 1024 // 10),
    ("9007199254740993.9B", 9007199254740993),  # past 2^53 a float rounds this up to ...994: the floor is exact
])
def test_sizes_are_exact(mem, text, expected):
    assert mem.parse_bytes(text, "--gpu-memory") == expected


@pytest.mark.parametrize("text", ["80", "80 parsecs", "-1GB", "nanGB", "infGiB", "GB", "1e31B", "1e100000000GB"])
def test_bad_sizes_are_refused_naming_the_flag(mem, text):
    status, out, err = call_main(mem, ["--preset", "llama-3-8b", "--gpu-memory", text])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "--gpu-memory" in lines[0], err


def test_explain_lists_moe_and_mla_tensors(mem):
    status, out, _ = call_main(mem, ["--preset", "deepseek-v3", "--explain", "-s", "4096", "--json"])
    assert status == 0
    kinds = json.loads(out)["activation_tensors"]
    assert set(kinds) == {"dense/full", "moe/full"}
    names = [t["name"] for t in kinds["moe/full"]]
    assert "expert input (dispatched tokens)" in names and "kv_b input (kv_a norm output)" in names
    routed = next(t for t in kinds["moe/full"] if t["name"] == "expert input (dispatched tokens)")
    assert routed["shape"] == [4096 * 8, 7168] and routed["bytes"] == 4096 * 8 * 7168 * 2


@given(st.sampled_from(["gpt2", "gptj", "gpt_neox", "opt", "bloom", "falcon", "phi", "phi3", "olmo", "olmo2",
                        "starcoder2", "qwen2_moe"]),
       st.dictionaries(st.sampled_from(["hidden_size", "n_embd", "num_attention_heads", "n_head", "num_hidden_layers",
                                        "n_layer", "vocab_size", "num_kv_heads", "multi_query", "bias",
                                        "new_decoder_architecture", "parallel_attn", "num_ln_in_parallel_attn",
                                        "word_embed_proj_dim", "do_layer_norm_before", "enable_bias", "ffn_dim",
                                        "layer_norm_elementwise_affine", "max_position_embeddings", "use_bias",
                                        "qk_layernorm", "n_positions", "attention_bias", "qkv_bias",
                                        "tie_word_embeddings", "activation_function"]),
                       st.one_of(st.integers(-2, 300), st.none(), st.booleans(), st.text(max_size=4),
                                 st.floats(allow_nan=True)), max_size=10))
def test_hostile_family_config_json(mem, tmp_path_factory, model_type, fields):
    # Each family branch of the reader (Falcon, OPT, BLOOM, ...) with hostile field values: exit 0 with finite,
    # non-negative numbers, or exit 2 with one line.
    cfg = {"model_type": model_type, "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2,
           "vocab_size": 100, "n_embd": 64, "n_head": 4, "n_layer": 2}
    cfg.update(fields)
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(json.dumps(cfg))
    status, out, err = call_main(mem, ["--config", str(path), "--json", "--infer"])
    if status == 0:
        for x in _walk_numbers(json.loads(out)):
            assert math.isfinite(x) and x >= 0
    else:
        assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_huge_layer_count_with_per_layer_types_fails_fast(mem):
    # Found by fuzzing: Gemma-2's alternating layer types were expanded to 1.4T entries before the bound was checked.
    status, _, err = call_main(mem, ["--preset", "gemma-2-9b", "--num-layers", "1.4T"])
    assert status == 2 and "--num-layers" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------------------------
# DeepSeek's moe_layer_freq (DeepSeek-V2/V3 modeling_deepseek.py, DeepseekV2DecoderLayer: a layer is MoE iff
# layer_idx >= first_k_dense_replace and layer_idx % moe_layer_freq == 0). transformers' DeepseekV2/V3 ignore the
# field and make every layer past first_k_dense_replace MoE. Every published DeepSeek config has 1, where both agree;
# any other value describes two different models, so the shared block refuses it (this script used to read it with
# DeepSeek's rule and print a warning; one vocabulary point 7 removed the warning with the reading).
# ---------------------------------------------------------------------------------------------------------------
# deepseek-ai/DeepSeek-V2-Lite config.json (MLA without q-LoRA, shared experts, first layer dense, moe_layer_freq 1),
# shrunk.
DEEPSEEK_V2_LITE_SMALL = {
    "model_type": "deepseek_v2", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 4,
    "num_hidden_layers": 6, "vocab_size": 100, "intermediate_size": 128, "moe_intermediate_size": 32,
    "n_routed_experts": 4, "n_shared_experts": 2, "num_experts_per_tok": 2, "first_k_dense_replace": 1,
    "moe_layer_freq": 1, "kv_lora_rank": 16, "q_lora_rank": None, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4,
    "v_head_dim": 8, "tie_word_embeddings": False, "attention_bias": False, "hidden_act": "silu",
    "rms_norm_eps": 1e-6, "n_group": 1, "topk_group": 1, "topk_method": "greedy", "scoring_func": "softmax",
    "seq_aux": True, "aux_loss_alpha": 0.001, "norm_topk_prob": False, "routed_scaling_factor": 1.0}


def test_deepseek_moe_layer_freq_1_is_read_and_2_is_refused(mem, params, tmp_path):
    c = DEEPSEEK_V2_LITE_SMALL
    moe_layers = [i for i in range(c["num_hidden_layers"]) if i >= c["first_k_dense_replace"]]  # freq 1: all past
    model, notes = mem.model_from_config(dict(c), "deepseek-v2-lite-small")  # the shared model block's reader
    assert [i for i in range(model.num_layers) if model.layer_is_moe(i)] == moe_layers == [1, 2, 3, 4, 5]
    assert notes == []  # every field read (moe_layer_freq included) or known to be harmless
    h, a, v, f, fm, e = c["hidden_size"], c["num_attention_heads"], c["vocab_size"], c["intermediate_size"], \
        c["moe_intermediate_size"], c["n_routed_experts"]
    qk, r = c["qk_nope_head_dim"] + c["qk_rope_head_dim"], c["kv_lora_rank"]
    attention = h * a * qk + h * (r + c["qk_rope_head_dim"]) + r + r * a * (c["qk_nope_head_dim"] + c["v_head_dim"]) \
        + a * c["v_head_dim"] * h
    dense_mlp = 3 * h * f
    moe_mlp = e * h + e * 3 * h * fm + 3 * h * fm * c["n_shared_experts"]
    n_moe = len(moe_layers)
    expected = 2 * v * h + h + c["num_hidden_layers"] * (2 * h + attention) \
        + (c["num_hidden_layers"] - n_moe) * dense_mlp + n_moe * moe_mlp
    path = tmp_path / "config.json"
    path.write_text(json.dumps(c))
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--json"])
    assert status == 0 and err == "", err
    assert json.loads(out)["params"]["total"] == expected
    status, out, err = call_main(params, ["--config", str(path), "--json"])
    assert status == 0, err
    assert json.loads(out)["total"] == expected
    # moe_layer_freq 2: DeepSeek's code would make layers 2 and 4 MoE, transformers 1..5: refused, naming the field
    path.write_text(json.dumps(dict(c, moe_layer_freq=2)))
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--json"])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "'moe_layer_freq' 2" in lines[0], err


def test_decoder_sparse_step_keeps_qwens_phase(mem):
    # Qwen2-MoE (modeling_qwen2_moe.py): layer i is sparse iff (i + 1) % decoder_sparse_step == 0 -> 1, 3, 5
    cfg = {"model_type": "qwen2_moe", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 4,
           "num_hidden_layers": 6, "vocab_size": 100, "intermediate_size": 128, "moe_intermediate_size": 32,
           "num_experts": 4, "num_experts_per_tok": 2, "decoder_sparse_step": 2,
           "shared_expert_intermediate_size": 64, "use_sliding_window": False}
    model = mem.model_from_config(cfg, "qwen-step2")[0]
    assert [i for i in range(6) if model.layer_is_moe(i)] == [1, 3, 5]
    both = dict(cfg, moe_layer_freq=2)  # DeepSeek's spelling is not read by Qwen2-MoE: refused, never ignored
    with pytest.raises(ValueError, match="moe_layer_freq"):
        mem.model_from_config(both, "both")


# ---------------------------------------------------------------------------------------------------------------
# Hostile input found in review: each was a traceback, a hang or a silent default before.
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, needle", [
    (["--params", "1e400"], "--params"),                                        # OverflowError in the GiB column
    (["--params", "1e100000000"], "--params"),                                  # Fraction would expand 10^(10^8)
    (["--preset", "llama-3-8b", "-s", "1e400"], "--sequence-length"),
    (["--preset", "llama-3-8b", "--gpu-memory", "1e400GB"], "--gpu-memory"),
    (["--preset", "llama-3-8b", "--overhead", "1e100000000GB"], "--overhead"),
    (["--preset", "llama-3-8b", "-ff", "1e300"], "--ffn-expansion-factor"),  # above the bound; names -ff's flag
    (["--preset", "llama-3-8b", "--precision", ""], "--precision"),       # "" fell back to bf16
    (["--preset", "llama-3-8b", "--infer", "--kv-dtype", " "], "--kv-dtype"),
    (["--preset", ""], "--preset"),
    (["--config", ""], "--config"),
    (["--preset", "llama-3-8b", "--layer-types", ","], "--layer-types"),  # empty list meant "all full"
    (["--preset", "llama-3-8b", "--largest-layer-params", "5"], "--largest-layer-params"),  # was ignored
    (["--preset", "llama-3-8b", "--infer", "-z", "3"], "-z/--zero-stage"),       # training flags were ignored
    (["--preset", "llama-3-8b", "--infer", "--optimizer", "muon"], "--optimizer"),
    (["--preset", "llama-3-8b", "--context", "99"], "--context"),               # and inference flags too
    (["--preset", "llama-3-8b", "--kv-dtype", "fp8"], "--kv-dtype"),
    (["--preset", "llama-3-8b", "--top", "3"], "--top"),
    (["--params", "7B", "-z", "2", "--largest-layer-params", "1B"], "--largest-layer-params"),  # unread below ZeRO-3
    (["--preset", "llama-3-8b", "--prefetch-units", "2"], "--prefetch-units"),
    (["--preset", "llama-3-8b", "--fsdp-shard-size", "4"], "--fsdp-shard-size"),
    (["--preset", "llama-3-8b", "--sharding", "fsdp-full", "--grads", "low+fp32"], "--grads"),
    (["--preset", "llama-3-8b", "--etp", "2"], "--etp"),
    (["--preset", "llama-3-8b", "--search", "--gpu-memory", "80GB", "-z", "1"], "--search"),
    # (flags alone need -v since the shared model flags; before, an unnamed vocabulary was taken as 32000)
    (["-l", "2", "-hs", "96", "-a", "24", "-v", "1000", "--num-kv-heads", "8", "--infer", "-tp", "3"],
     "--num-kv-heads"),
    (["--preset", "chinchilla-70b", "--learned-positions", "2048"], "--learned-positions"),  # relative positions
    (["--preset", "llama-3-8b", "-v", "1e30"], "--vocab-size"),          # beyond the block's bound on a width
    (["--preset", "llama-3-8b", "--config", "/nonexistent"], "--preset"),  # the config silently won before
    # sliding layers need a window (--sliding-window 0 alone now makes every layer full: the block's help)
    (["--preset", "gemma-2-9b", "--sliding-window", "0", "--layer-types", "alternate"], "--sliding-window"),
    (["--preset", "llama-3-8b", "--layer-types", "full,sliding"], "--layer-types"),  # 2 entries for 32 layers
    (["--preset", "llama-3-8b", "--norm", "batchnorm"], "--norm"),
    (["--preset", "deepseek-v3", "--mtp-layers", "1"], "--mtp-layers"),  # the block's flag; MTP is not counted here
])
def test_review_hostile_cli(mem, argv, needle):
    status, out, err = call_main(mem, argv)
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and needle in lines[0], err


def test_search_with_a_huge_global_batch_does_not_hang(mem):
    # _divisors(gbs / dp) trial-divided up to sqrt(1.25e29) before; micro-batches are capped at 1024 anyway
    r = run_json(mem, "--preset", "llama-3-8b", "--search", "--gpu-memory", "80GB", "--num-gpus", "8",
                 "--global-batch", str(8 * 2**60))
    assert all(row["micro_batch"] <= 1024 and (2**60) % row["micro_batch"] == 0 for row in r["search"]["results"])


@pytest.mark.parametrize("text, needle", [
    ('{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, '
     '"intermediate_size": 128, "vocab_size": 1' + "0" * 400 + "}", "vocab_size"),  # the field, not a flag
    ('{"hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 1' + "0" * 5000 + "}",
     "--config"),                                                         # beyond Python's int digit limit
    ('{"text_config": "abc", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, '
     '"vocab_size": 10}', "text_config"),                                 # was ignored silently
    ('"abc"', "expected a JSON object"),                                  # the shared reader names the problem
    ('{"model_type": {}, "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 10}',
     "model_type"),                                                       # TypeError: unhashable type
    ('{"model_type": "qwen2_moe", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, '
     '"vocab_size": 10, "intermediate_size": 128, "moe_intermediate_size": 32, "num_experts": 4, '
     '"num_experts_per_tok": 2, "mlp_only_layers": 5}', "mlp_only_layers"),
    ('{"model_type": "gemma2", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1000000000000, '
     '"vocab_size": 10, "intermediate_size": 128, "sliding_window": 16, "head_dim": 16}',
     "num_hidden_layers"),                                                # hung expanding layer types
    ('{"model_type": "gemma2", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 200000, '
     '"vocab_size": 10, "intermediate_size": 128, "sliding_window": 16, "head_dim": 16}',
     "num_hidden_layers"),                                                # beyond the layer bound, named as a field
])
def test_review_hostile_config(mem, tmp_path, text, needle):
    path = tmp_path / "config.json"
    path.write_text(text)
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--json"])
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and needle in lines[0], err


@pytest.mark.parametrize("argv", [
    ["--params", "1e30", "--num-gpus", "16777216", "-z", "3", "--largest-layer-params", "1e30"],
    # a model width is bounded by the shared model block (MODEL_MAX_WIDTH, 1e9), run sizes by this script (1e30)
    ["--preset", "llama-3-8b", "--infer", "--context", "1e30", "--batch-size", "1e30", "-v", "1e9"],
    ["--preset", "gemma-2-9b", "-s", "1e30", "-b", "1e30", "--attn-implementation", "eager", "--profile", "hf"],
    ["--preset", "llama-3-8b", "--overhead", "1e30B", "--comm-buffer", "1e30B", "--fragmentation", "10"],
])
def test_inputs_at_the_bound_give_finite_output(mem, argv):
    for fmt in (["--json"], [], ["--format", "markdown"]):
        status, out, err = call_main(mem, argv + fmt)
        assert status == 0, err
        if fmt == ["--json"]:
            assert all(math.isfinite(x) and x >= 0 for x in _walk_numbers(json.loads(out)))
        else:
            assert not re.search(r"\b(nan|inf)\b", out, re.IGNORECASE), out


def test_deepseek_preset_expert_interval_is_refused_like_moe_layer_freq(mem):
    # --expert-interval 2 on DeepSeek-V3 is moe_layer_freq 2: DeepSeek's hub code makes layers 4, 6, ..., 60 MoE,
    # transformers makes every layer past the first 3 MoE; the config reader refuses it, and so does the flag
    status, out, err = call_main(mem, ["--preset", "deepseek-v3", "-ei", "2", "--json"])
    assert status == 2 and out == "" and "--expert-interval on a DeepSeek model" in err


def test_config_that_is_a_device_is_refused_not_read_forever(mem):
    status, _, err = call_main(mem, ["--config", "/dev/zero"])
    assert status == 2 and "--config" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------------------------
# Presets are the shared model block's one table (MODEL_PRESETS): every name runs, in both modes, and is listed.
# ---------------------------------------------------------------------------------------------------------------
BLOCK_PRESETS = sorted(load_script("calc_transformer_mem").MODEL_PRESETS)


def test_the_block_has_the_presets_this_script_had(mem):
    # the 32 presets calc_transformer_mem.py kept before the block's table replaced its own
    own = {"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt3-175b", "chinchilla-70b", "gopher-280b",
           "pythia-70m", "pythia-160m", "pythia-410m", "pythia-1b", "pythia-1.4b", "pythia-2.8b", "pythia-6.9b",
           "pythia-12b", "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3.1-8b",
           "llama-3.1-70b", "llama-3.1-405b", "llama-3.2-1b", "llama-3.2-3b", "mistral-7b", "mixtral-8x7b",
           "qwen2.5-7b", "qwen2.5-72b", "gemma-2-9b", "gemma-2-27b", "deepseek-v3"}
    issue_10 = {"gpt-oss-20b", "gpt-oss-120b", "qwen3-next-80b-a3b", "kimi-k2", "glm-4.5-air", "glm-4.6",
                "olmo-3-7b", "llama-4-scout", "llama-4-maverick",
                "qwen3.5-27b", "qwen3.5-397b-a17b",
                "qwen3-30b-a3b", "olmo-2-7b", "phi-4-mini", "gemma-3-27b", "deepseek-v3.2", "glm-5", "minimax-m2",
                "mistral-small-24b", "phi-4", "deepseek-v3.1",
                "gemma-4-31b", "gemma-4-26b-a4b"}  # added with their families
    assert own <= set(BLOCK_PRESETS) and len(set(BLOCK_PRESETS) - issue_10) == 40 and issue_10 <= set(BLOCK_PRESETS)


@pytest.mark.parametrize("mode", [[], ["--infer"]], ids=["train", "infer"])
@pytest.mark.parametrize("name", BLOCK_PRESETS)
def test_every_block_preset_runs(mem, name, mode):
    status, out, err = call_main(mem, ["--preset", name, *mode, "--json"])
    if name in ("qwen3-next-80b-a3b", "qwen3.5-27b", "qwen3.5-397b-a17b") and not mode:  # gated delta-net
        # activations: refused, not guessed -- Qwen3.5-397B-A17B's (qwen3_5_moe_text, not measured) always,
        # Qwen3-Next's and Qwen3.5-27B's (qwen3_5_text) under the default megatron profile (measured for --profile hf
        # only: tests/test_mem_timeline_hybrid.py)
        assert status == 2 and out == "" and err.count("\n") == 1 and "gated delta-net" in err
        assert ("--profile hf" in err) == (name != "qwen3.5-397b-a17b")
        return
    if name.startswith("gemma-4") and not mode:  # issue 10, branch gemma4: per-layer activations, refused
        assert status == 2 and out == "" and err.count("\n") == 1 and "gemma4_text" in err
        return
    assert status == 0 and err == "", err
    r = json.loads(out)
    assert r["model"]["name"] == name and r["mode"] == ("inference" if mode else "train")
    assert r["params"]["total"] > 0 and r["per_gpu"]["total"] > 0
    assert all(math.isfinite(x) and x >= 0 for x in _walk_numbers(r))


def test_list_presets_is_the_block_table_with_sources(mem):
    status, out, _ = call_main(mem, ["--list-presets"])
    lines = out.splitlines()
    assert status == 0 and [line.split()[0] for line in lines] == list(mem.MODEL_PRESETS)
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # each names its source


def test_flags_on_a_preset_are_stated_in_the_echoed_model(mem):
    r = run_json(mem, "--preset", "llama-3-8b", "-l", "4", "--infer")
    assert r["model"]["name"] == "llama-3-8b (modified)" and "changed by flags: num_layers" in r["model"]["source"]
    assert run_json(mem, "--preset", "llama-3-8b", "--infer")["model"]["name"] == "llama-3-8b"


# ---------------------------------------------------------------------------------------------------------------
# The shared model flags (the block's add_model_arguments / model_from_arguments): what changed for this script
# with the one vocabulary. Expected values are published totals or hand counts, never the script's output.
# ---------------------------------------------------------------------------------------------------------------
def test_p_is_preset_and_params_has_no_short_alias(mem):
    # one vocabulary, point 1: -p means --preset in every script; --params keeps its long name only
    assert run_json(mem, "-p", "llama-3-8b", "--infer")["params"]["total"] == 8_030_261_248  # HF safetensors total
    status, out, err = call_main(mem, ["-p", "7.5B", "--num-gpus", "64", "-z", "1"])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "--preset" in lines[0] and "--params 7.5B" in lines[0]


def test_mixtral_ffn_hidden_size_changes_the_experts_too(mem):
    # one vocabulary, point 5: Mixtral's intermediate_size is its experts' width (moe_ffn_hidden_size 0), so
    # --ffn-hidden-size 7168 narrows all 32 x 8 experts (3 linears of 4096 x f each) from 14336; before, the experts
    # were pinned at 14336 and the flag changed nothing (Mixtral has no dense MLP).
    published, h, layers, experts = 46_702_792_704, 4096, 32, 8
    narrowed = published - layers * experts * 3 * h * (14336 - 7168)
    p = run_json(mem, "--preset", "mixtral-8x7b", "--ffn-hidden-size", "7168", "--infer")["params"]
    assert p["total"] == narrowed
    assert p["active"] == narrowed - layers * (experts - 2) * 3 * h * 7168  # top-2: 6 experts skipped per token
    # the experts' own width is its own flag; given with it, --ffn-hidden-size is read by nothing (every layer is
    # MoE) and refused rather than echoed as a change
    status, out, err = call_main(mem, ["--preset", "mixtral-8x7b", "--ffn-hidden-size", "7168",
                                       "--moe-ffn-hidden-size", "14336", "--infer"])
    assert status == 2 and "--ffn-hidden-size: every layer of this model is MoE" in err
    assert run_json(mem, "--preset", "mixtral-8x7b", "--moe-ffn-hidden-size", "14336",
                    "--infer")["params"]["total"] == published


def test_a_new_depth_needs_its_layer_types(mem):
    # one vocabulary, point 6: Gemma-2's sliding / full pattern is not stretched to a new -l (it was repeated before)
    status, out, err = call_main(mem, ["--preset", "gemma-2-9b", "-l", "4", "--infer"])
    lines = err.strip().splitlines()
    assert status == 2 and out == "" and len(lines) == 1 and "--layer-types" in lines[0], err
    # given: Gemma-2-9B's K/V per layer and token is 2 x 8 kv heads x 256 x 2 B; sliding layers hold 4096 tokens
    per_layer_token, ctx = 2 * 8 * 256 * 2, 10_000
    alternate = run_json(mem, "--preset", "gemma-2-9b", "-l", "4", "--layer-types", "alternate", "--infer",
                         "--context", str(ctx))
    assert alternate["kv_cache"]["total_bytes"] == 2 * per_layer_token * 4096 + 2 * per_layer_token * ctx
    one_sliding = run_json(mem, "--preset", "gemma-2-9b", "-l", "4", "--num-sliding-layers", "1", "--infer",
                           "--context", str(ctx))
    assert one_sliding["kv_cache"]["total_bytes"] == per_layer_token * 4096 + 3 * per_layer_token * ctx


# A model from flags alone: -l 2 -hs 64 -a 4 -v 100 is the cookbook's transformer (one vocabulary, point 3): untied
# embedding and LM head 2 x 100 x 64, two LayerNorms with weight and bias per layer and a final one (2 x 64 each),
# bias-free q, k, v, o (4 x 64 x 64), a 2-linear MLP 4 x 64 = 256 wide.
TINY_FLAGS = ["-l", "2", "-hs", "64", "-a", "4", "-v", "100"]
TINY_OUTSIDE_LAYERS = 2 * 100 * 64 + 2 * 64
TINY_ATTENTION_AND_NORMS = 4 * 64 * 64 + 2 * 2 * 64


def test_flags_alone_are_the_cookbooks_model_and_say_so(mem):
    status, out, err = call_main(mem, [*TINY_FLAGS, "--infer", "--json"])
    assert status == 0, err
    r = json.loads(out)
    assert r["params"]["total"] == TINY_OUTSIDE_LAYERS + 2 * (TINY_ATTENTION_AND_NORMS + 2 * 64 * 256)
    assert any(n.startswith("from flags alone") for n in r["notes"])  # the block's note, in JSON and on stderr
    assert f"{mem.PROG}: note: from flags alone" in err
    # a size left out takes the cookbook's default, said in a note (issue 11: calc/calc_transformer_params.py's
    # --vocab-size 51200): embedding and head 2 x 51200 x 64 instead of 2 x 100 x 64
    status, out, err = call_main(mem, ["-l", "2", "-hs", "64", "-a", "4", "--infer", "--json"])
    assert status == 0 and "assumed (the cookbook's defaults): --vocab-size 51200" in err, err
    assert json.loads(out)["params"]["total"] == r["params"]["total"] + 2 * (51200 - 100) * 64


def test_experts_without_topk_are_top_1(mem):
    # one vocabulary, point 3: -e without -t routes each token to 1 expert (the cookbook's default; this script used
    # min(2, E) before). 4 experts, each the 256-wide 2-linear MLP, and a bias-free router 64 x 4, in both layers.
    status, out, err = call_main(mem, [*TINY_FLAGS, "-e", "4", "--infer", "--json"])
    assert status == 0, err
    r = json.loads(out)
    expert = 2 * 64 * 256
    per_layer = TINY_ATTENTION_AND_NORMS + 4 * 64
    assert r["params"]["total"] == TINY_OUTSIDE_LAYERS + 2 * (per_layer + 4 * expert)
    assert r["params"]["active"] == TINY_OUTSIDE_LAYERS + 2 * (per_layer + 1 * expert)
    assert r["model"]["top_k"] == 1 and "--topk not given" in err


def test_training_sequence_length_sizes_a_learned_position_table(mem):
    # one vocabulary, point 2: a learned table with no rows given takes the run's -s (here 512 rows of 64)
    dense = TINY_OUTSIDE_LAYERS + 2 * (TINY_ATTENTION_AND_NORMS + 2 * 64 * 256)
    r = run_json(mem, *TINY_FLAGS, "--position-embedding", "learned", "-s", "512", *BARE)
    assert r["params"]["total"] == dense + 512 * 64
    # --learned-positions says it outright; inference has no -s, so without it the table's size is asked for
    assert run_json(mem, *TINY_FLAGS, "--learned-positions", "300", "--infer")["params"]["total"] == dense + 300 * 64
    status, out, err = call_main(mem, [*TINY_FLAGS, "--position-embedding", "learned", "--infer"])
    assert status == 2 and out == "" and err.count("\n") == 1 and "--learned-positions" in err, err


# ---------------------------------------------------------------------------------------------------------------
# Issue 11, one vocabulary for the flags several scripts share (round 2 decisions 1-4); each was a different
# meaning or a different answer in another script before.
# ---------------------------------------------------------------------------------------------------------------
def test_attn_implementation_is_the_kernel_flag_and_attention_is_gone(mem):
    # decision 1: --attention meant a FLOP convention in flops and a kernel here; the kernel is now spelled as
    # transformers' attn_implementation. Korthikanti et al. 2022 (GPT-3 175B, t = 8 with SP): eager keeps the
    # 5 a s^2 b / t bytes of scores, softmax and dropout per layer that flash does not, and flash keeps a fp32
    # log-sum-exp (4 a s b / t) instead; GPT-3's 96 layers all sit on the one pipeline stage.
    argv = ["--preset", "gpt3-175b", "-tp", str(T), "--sp", "--num-gpus", str(T), "-s", str(S)]
    eager = run_json(mem, *argv, "--attn-implementation", "eager")
    flash = run_json(mem, *argv, "--attn-implementation", "flash")
    default = run_json(mem, *argv)
    assert eager["setup"]["attn_implementation"] == "eager" and default["setup"]["attn_implementation"] == "flash"
    per_layer = 5 * A * S * S * B // T - 4 * A * S * B // T
    assert eager["per_gpu"]["activations"] - flash["per_gpu"]["activations"] == 96 * per_layer
    assert default["per_gpu"] == flash["per_gpu"]
    # inference prefill: eager adds one fp32 score matrix a x s x s for the one sequence (tiny model from flags:
    # 4 heads of 16, 64 tokens: q, k, v, o take 4h per token, the plain MLP 2 x 4h; the peak is the larger block)
    tiny = [*TINY_FLAGS, "--infer", "--context", "64"]
    eager = run_json(mem, *tiny, "--attn-implementation", "eager")["per_gpu"]["prefill_activations"]
    flash = run_json(mem, *tiny, "--attn-implementation", "sdpa")["per_gpu"]["prefill_activations"]
    tokens, h = 64, 64
    assert flash == 2 * tokens * h * 2 + max(tokens * 4 * h * 2, 2 * tokens * 4 * h * 2)  # residual+norm, MLP 2 x 4h
    assert eager == 2 * tokens * h * 2 + max(tokens * 4 * h * 2 + 4 * tokens * tokens * 4, 2 * tokens * 4 * h * 2)
    for argv in (["--preset", "llama-3-8b", "--attention", "eager"],                 # the old spelling is gone
                 ["--preset", "llama-3-8b", "--attn-implementation", "paged"]):
        status, out, err = call_main(mem, argv)
        assert status == 2 and out == "" and err.count("\n") == 1 and argv[2] in err, err


# ggml-common.h: block_q5_1 = 2 + 2 + 4 + 16 B, q5_0 = 2 + 4 + 16, q4_1 = 2 + 2 + 16, iq4_nl = 2 + 16, q8_0 = 2 + 32,
# q4_0 = 2 + 16, each for 32 values. Llama-3-8B caches 32 layers x (K, V) x 8 kv heads x 128 = 65,536 values per token.
@pytest.mark.parametrize("spelling, canonical, bytes_per_token", [
    ("f16", "fp16", 65_536 * 2), ("float16", "fp16", 65_536 * 2), ("FP16", "fp16", 65_536 * 2),
    ("bfloat16", "bf16", 65_536 * 2), ("f32", "fp32", 65_536 * 4), ("fp8_e4m3", "fp8", 65_536),
    ("fp8_e5m2", "fp8", 65_536), ("int4", "int4", 65_536 // 2),
    ("q8_0", "q8_0", 65_536 // 32 * 34), ("q5_1", "q5_1", 65_536 // 32 * 24), ("q5_0", "q5_0", 65_536 // 32 * 22),
    ("q4_1", "q4_1", 65_536 // 32 * 20), ("q4_0", "q4_0", 65_536 // 32 * 18), ("iq4_nl", "iq4_nl", 65_536 // 32 * 18),
])
def test_kv_dtype_spellings_are_the_blocks_and_the_output_names_the_canonical_type(mem, spelling, canonical,
                                                                                  bytes_per_token):
    # decision 2: the KV-cache types are the block's one table (mem's own KV_BITS is gone): fp16 and f16 were two
    # vocabularies in mem and quantization; llama.cpp's q5_1 ... iq4_nl were refused here
    assert not hasattr(mem, "KV_BITS")
    r = run_json(mem, "--preset", "llama-3-8b", "--infer", "--context", "1000", "--kv-dtype", spelling)
    assert r["kv_cache"]["bytes_per_token"] == bytes_per_token
    assert r["kv_cache"]["total_bytes"] == 1000 * bytes_per_token
    assert r["kv_cache"]["kv_dtype"] == r["setup"]["kv_dtype"] == canonical
    status, out, _ = call_main(mem, ["--preset", "llama-3-8b", "--infer", "--kv-dtype", spelling])
    assert status == 0 and f"; KV {canonical};" in out and f"({canonical}, all layers)" in out


def test_kv_dtype_block_types_need_whole_blocks_per_row(mem):
    # 4 heads of 96 / 4 = 24 values and one kv head: a K row of 24 values is no whole number of 32-value blocks
    # (llama.cpp refuses such a cache); 2 kv heads make 48 values, still not whole; 4 make 96 = 3 blocks of q4_0
    flags = ["-l", "2", "-hs", "96", "-a", "4", "-v", "100", "--infer", "--context", "10"]
    for kv_heads in ("1", "2"):
        status, out, err = call_main(mem, [*flags, "--num-kv-heads", kv_heads, "--kv-dtype", "q4_0"])
        assert status == 2 and out == "" and err.count("\n") == 1 and "--kv-dtype q4_0" in err, err
    r = run_json(mem, *flags, "--num-kv-heads", "4", "--kv-dtype", "q4_0")
    assert r["kv_cache"]["bytes_per_token"] == 2 * 2 * (96 // 32) * 18  # layers x (K, V) x blocks x 18 B


def test_overhead_zero_is_accepted(mem):
    # decision 3: `--overhead 0` was an error here ("a size with a unit") and fine in quantization; 0 is 0 bytes in
    # every unit. ZeRO paper Fig. 1: 7.5B params, 64 GPUs, ZeRO-1 -> 31.4 GB of model states and nothing else.
    r = run_json(mem, "--params", "7.5B", "--num-gpus", "64", "-z", "1", "--overhead", "0", "--comm-buffer", "0",
                 "--fragmentation", "0")
    assert r["per_gpu"]["framework_overhead"] == 0 and r["per_gpu"]["comm_buckets"] == 0
    assert abs(r["per_gpu"]["total"] / 1e9 - 31.4) <= 0.05
    # inference: 7B weights at 2 bytes and nothing else
    r = run_json(mem, "--params", "7B", "--infer", "--weight-dtype", "fp16", "--overhead", "0.0",
                 "--fragmentation", "0")
    assert r["per_gpu"]["total"] == 14 * 10**9
    # a bare non-zero number is still ambiguous (80 GB or 80 GiB?) and refused, naming the flag
    status, out, err = call_main(mem, ["--preset", "llama-3-8b", "--overhead", "1"])
    assert status == 2 and out == "" and err.count("\n") == 1 and "--overhead" in err, err


# Pre-training sequence lengths as published: Llama 3 "sequences of 8,192 tokens" (Meta, Llama 3 model card);
# Llama 2 context length 4k (Touvron et al. 2023, Table 1); GPT-2 context 1024 (Radford et al. 2019, Sec. 2.3);
# Mixtral "trained with a context size of 32k tokens" (Jiang et al. 2024, Sec. 2); DeepSeek-V3 pre-trained at 4K
# (DeepSeek-AI 2024, Sec. 4.2 "maximum sequence length ... 4K", before its long-context extension).
@pytest.mark.parametrize("preset, length", [("llama-3-8b", 8192), ("llama-2-7b", 4096), ("gpt2", 1024),
                                            ("mixtral-8x7b", 32768), ("deepseek-v3", 4096)])
def test_a_presets_default_sequence_length_is_its_pre_training_length(mem, preset, length):
    # decision 4: mem trained every preset at 2048 unless -s was typed, while flops used the preset's own length
    r = run_json(mem, "--preset", preset, "--fragmentation", "0")
    assert r["setup"]["seq_len"] == length
    assert f"sequence length {length:,}: {preset}'s pre-training length" in r["assumptions"][0]
    typed = run_json(mem, "--preset", preset, "--fragmentation", "0", "-s", str(length))
    assert typed["per_gpu"] == r["per_gpu"] and "-s/--sequence-length as given" in typed["assumptions"][0]
    status, out, _ = call_main(mem, ["--preset", preset])
    assert status == 0 and f"x seq {length};" in out and f"sequence length {length:,}: {preset}'s" in out
    status, out, _ = call_main(mem, ["--list-presets"])
    assert re.search(rf"^{re.escape(preset)} +-s {length} ", out, re.M), out


def test_a_config_or_flags_alone_default_to_2048_tokens(mem, tmp_path):
    # decision 4: no pre-training length is known for a config.json (max_position_embeddings is a limit) or flags
    path = _write_config(tmp_path, TINY_LLAMA)
    for argv in (["--config", str(path)], TINY_FLAGS):
        r = run_json(mem, *argv)
        assert r["setup"]["seq_len"] == 2048 and r["assumptions"][0].startswith("sequence length 2,048: the default")
    # and a sequence length found by --max-context says so
    r = run_json(mem, *TINY_FLAGS, "--max-context", "--gpu-memory", "2GiB")
    assert r["assumptions"][0] == f"sequence length {r['setup']['seq_len']:,}: the longest that fits --gpu-memory " \
                                  "(--max-context)"


def test_llama4_hf_profile_training_is_refused_in_one_line(mem):
    # transformers' Llama4TextMoe runs every expert on every token: autograd saves E / top_k times a routed MoE's
    # activations; the megatron profile (routed experts, the default) is counted, the hf one refused
    status, out, err = call_main(mem, ["-p", "llama-4-scout", "--profile", "hf"])
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and "Llama4TextMoe" in err
    status, out, err = call_main(mem, ["-p", "llama-4-scout", "--json"])
    assert status == 0, err


@pytest.mark.parametrize("preset", ["gpt-oss-20b", "llama-3-8b"])
def test_unknown_weight_dtype_is_one_line_for_every_model(mem, preset):
    # gpt-oss's MXFP4 note read WEIGHT_BITS[--weight-dtype] before the flag was validated: "mxfp4" (a natural guess
    # for gpt-oss) ended in a KeyError traceback. Every model now gets the flag's one-line refusal, exit 2.
    status, out, err = call_main(mem, ["-p", preset, "--weight-dtype", "mxfp4", "--infer"])
    assert status == 2 and out == "" and err.count("\n") == 1 and "--weight-dtype" in err, (status, err)
