"""calc_transformer_mem.py --infer --engine sglang against SGLang's own start-up logs.

SGLang (the version modelled: 0.5.8) reserves (1 - mem_fraction_static) of the memory it saw before loading the
weights and gives the KV pool the rest of what is free after them, in cells of one token of every layer
(python/sglang/srt/model_executor/model_runner_kv_cache_mixin.py, ModelRunnerKVCacheMixin.profile_max_num_token):
    max_total_num_tokens = int((avail_after_load - avail_before_load x (1 - mem_fraction_static)) x 2^30) // cell
and the pool allocates max_total_num_tokens + page_size rows per layer (mem_cache/memory_pool.py, the padded slot 0),
logged as "KV Cache is allocated. #tokens: N, K size: X GB, V size: Y GB" ("KV size" for MLA) with GB = 2^30 bytes.

Each case quotes the log lines and the command, and names where they were posted. The bytes per token are derived by
hand from the model's published shape and checked exactly against the logged size: (N + 1) x bytes per token,
rounded to 0.01 GiB as SGLang prints it. Where the log states the memory SGLang started from ("Load weight begin.
avail mem=", "Load weight end. ... avail mem=", the mem_fraction_static of its server_args line), the pool in tokens
is checked within 2 % (the logged memory is rounded to 0.01 GiB and is read a moment before SGLang's own reading).
"""
from __future__ import annotations

import json
import re

import pytest

from conftest import call_main, load_script, one_line_refusal, assert_clean_outcome

mem = load_script("calc_transformer_mem")
GIB = 2**30


def sglang(argv):
    status, out, err = call_main(mem, argv + ["--infer", "--engine", "sglang", "--json"])
    assert status == 0, err
    return json.loads(out)["engine"]


def refused(argv):
    return one_line_refusal(mem, argv)


def logged_gib(tokens, bytes_per_token, page_size=1):
    """A K / V / KV size as SGLang logs it: (tokens + page_size) rows of every layer, in 2^30 bytes, 2 decimals."""
    return f"{(tokens + page_size) * bytes_per_token / GIB:.2f}"


# --- dense GQA: Llama-3.1-8B on one H100 -------------------------------------------------------------------------

def test_llama_3_1_8b_on_an_h100_as_the_sglang_docs_logged_it():
    # docs.sglang.ai/start/send_request.html ("Quick Start: Sending Requests", captured 2025-01-23), command
    #   python -m sglang.launch_server --model-path meta-llama/Meta-Llama-3.1-8B-Instruct --port 30000 --host 0.0.0.0
    # its log: "server_args=ServerArgs(... mem_fraction_static=0.88, ... tp_size=1 ...)"
    #   "Load weight begin. avail mem=78.81 GB"
    #   "Load weight end. type=LlamaForCausalLM, dtype=torch.bfloat16, avail mem=63.72 GB"
    #   "KV Cache is allocated. K size: 27.13 GB, V size: 27.13 GB."
    #   "max_total_num_tokens=444500, max_prefill_tokens=16384, max_running_requests=2049, context_len=131072"
    # By hand (meta-llama/Llama-3.1-8B config.json): 32 layers x 8 KV heads x head_dim 128, bf16: K 65,536 B and
    # V 65,536 B per token; (63.72 - 78.81 x 0.12) GiB / 131,072 B = 444,521 tokens.
    pool = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB",
                   "--avail-mem-after-load", "63.72GiB", "--context-length", "131072"])
    assert pool["k_bytes_per_token"] == pool["v_bytes_per_token"] == 32 * 8 * 128 * 2
    assert logged_gib(444500, pool["k_bytes_per_token"]) == "27.13"
    assert abs(pool["max_total_num_tokens"] - 444500) <= 0.02 * 444500
    assert abs(pool["max_total_num_tokens"] - int((63.72 - 78.81 * 0.12) * GIB) // 131072) <= 1
    # the request pool (SGLang 0.5: min(max(int(444500 / 131072 x 512), 2048), 4096) = 2048; the 0.4.1 of this
    # log sized it one larger, 2049)
    assert pool["max_running_requests"] == 2048


def test_llama_3_1_8b_k_size_and_running_requests_as_a_2025_log_shows():
    # github.com/MaxUhl98/Thesis, inference_server/readme.md (lmsysorg/sglang:latest, 2025-07-14; start_server.sh:
    #   python3 -m sglang.launch_server --model-path .../models--meta-llama--Llama-3.1-8B-Instruct --host 0.0.0.0
    #     --port 30000 --dtype bfloat16 --context-length 8192 --attention-backend "fa3" --enable-metrics)
    # its log:
    #   "Load weight end. type=LlamaForCausalLM, dtype=torch.bfloat16, avail mem=7.37 GB, mem usage=15.02 GB."
    #   "KV Cache is allocated. #tokens: 38141, K size: 2.33 GB, V size: 2.33 GB"
    #   "max_total_num_tokens=38141, chunked_prefill_size=2048, max_prefill_tokens=16384, max_running_requests=2048,
    #    context_len=131072, available_gpu_mem=0.83 GB"
    # The log gives the memory before (7.37 + 15.02 GB) and after the weights but not the fraction (its default
    # depends on a GPU the readme does not name), so the pool is capped at the logged count with --max-total-tokens
    # and what is checked is exact: K size = (38,141 + 1) x 65,536 B, and the scheduler's max_running_requests =
    # min(38,141 // 2, request pool min(max(int(tokens / 131,072 x 512), 2048), 4096) = 2048) = 2048.
    pool = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "22.39GiB",
                   "--avail-mem-after-load", "7.37GiB", "--max-total-tokens", "38141", "--context-length", "131072"])
    assert pool["max_total_num_tokens"] == 38141 and 38141 <= pool["profiled_tokens"] < 524288
    assert logged_gib(38141, pool["k_bytes_per_token"]) == "2.33" == f"{pool['k_bytes'] / GIB:.2f}"
    assert pool["max_running_requests"] == 2048


def test_weights_alone_price_the_memory_after_load():
    # Without --avail-mem-after-load the weights are subtracted exactly: Llama-3.1-8B has 8,030,261,248 parameters,
    # 16,060,522,496 B in bf16 (14.96 GiB; the log above lost 78.81 - 63.72 = 15.09 GiB, the weights and a few
    # buffers)
    pool = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB"])
    assert pool["weights_bytes"] == 8_030_261_248 * 2
    assert pool["avail_before_load"] - pool["avail_after_load"] == 8_030_261_248 * 2
    rest = round(78.81 * GIB) - 8_030_261_248 * 2 - round(78.81 * GIB) * 0.12
    assert abs(pool["max_total_num_tokens"] - int(rest) // 131072) <= 1


# --- MLA + MoE: Kimi-K2.5 (DeepSeek-V3's network) on 8 x MI355X -------------------------------------------------

def test_kimi_k2_5_mla_pool_as_logged_on_mi355x():
    # github.com/ajith-sirra-amd/Issues, Kimi-K2.5-MI355X-SGLANG-ERROR.md (2026-02-26), image
    # rocm/sgl-dev:v0.5.8.post1-rocm720-mi35x-20260218, command
    #   sglang serve --model-path moonshotai/Kimi-K2.5 --tp 8 --trust-remote-code --tool-call-parser kimi_k2
    #     --reasoning-parser kimi_k2
    # its log: "server_args=ServerArgs(... kv_cache_dtype='auto', mem_fraction_static=0.8260405859375, ...
    #   page_size=1, ... tp_size=8 ...)"; "Load weight begin. avail mem=" 283.68 / 283.96 / 283.53 / 283.54 / 283.60
    #   / 283.66 / 283.56 / 283.68 GB on TP0-7 (SGLang takes the minimum over ranks: 283.53); "Load weight end. ...
    #   type=KimiK25ForConditionalGeneration, dtype=torch.bfloat16, avail mem=" 209.96 GB at the least (TP2, TP3),
    #   "mem usage=73.58 GB"; "KV Cache is allocated. #tokens: 2454421, KV size: 160.63 GB".
    # By hand: the text model is DeepSeek-V3's (moonshotai/Kimi-K2-Instruct-0905 config.json, the kimi-k2 preset):
    # 61 layers of MLA caching one latent of kv_lora_rank 512 + qk_rope_head_dim 64 per token, bf16, on every TP
    # rank: 61 x 576 x 2 = 70,272 B per token.
    pool = sglang(["-p", "kimi-k2", "-tp", "8", "--mem-fraction-static", "0.8260405859375",
                   "--avail-mem-before-load", "283.53GiB", "--avail-mem-after-load", "209.96GiB"])
    assert pool["mla"] and pool["bytes_per_token"] == 61 * (512 + 64) * 2 == 70_272 and pool["v_bytes"] == 0
    assert logged_gib(2454421, pool["bytes_per_token"]) == "160.63"
    assert abs(pool["max_total_num_tokens"] - 2454421) <= 0.02 * 2454421
    # the latent is not split over the 8 ranks: tp 1 caches the same bytes per token
    assert sglang(["-p", "kimi-k2", "--mem-fraction-static", "0.8", "--avail-mem-before-load", "283.53GiB",
                   "--avail-mem-after-load", "209.96GiB"])["bytes_per_token"] == 70_272
    status, out, err = call_main(mem, ["-p", "kimi-k2", "-tp", "8", "--infer", "--engine", "sglang",
                                       "--mem-fraction-static", "0.8260405859375", "--avail-mem-before-load",
                                       "283.53GiB", "--avail-mem-after-load", "209.96GiB"])
    assert status == 0, err
    assert f"KV Cache is allocated. #tokens: {pool['max_total_num_tokens']}, KV size: " in out


# --- GQA MoE: Qwen3-235B-A22B at TP 4 (per-token bytes only) -----------------------------------------------------

QWEN3_235B_FLAGS = ["-l", "94", "-hs", "4096", "-a", "64", "--num-kv-heads", "4", "--head-dim", "128",
                    "-v", "151936", "--num-experts", "128", "--topk", "8", "--moe-ffn-hidden-size", "1536"]


def test_qwen3_235b_a22b_at_tp_4_per_token_bytes():
    # vllm-project/vllm issue #21348 (MMuzzammil1, 2025-07-22), 4 x H100, command
    #   python3 -m sglang.launch_server --model /path/to/Qwen3-235B-A22B-FP8 --tp 4 --trust-remote-code
    #     --host 0.0.0.0 --port 8000 --mem-fraction-static 0.93
    # its log: "KV Cache is allocated. #tokens: 367404, K size: 8.23 GB, V size: 8.23 GB".
    # The issue quotes no "avail mem" line, so only the bytes per token are checked (the pool is capped at the
    # logged count with --max-total-tokens; the memory behind it is a placeholder large enough).  By hand
    # (Qwen/Qwen3-235B-A22B config.json; Qwen3 technical report Table 2): 94 layers, 4 KV heads of 128; at TP 4 one
    # KV head a rank; the KV cache bf16 (auto: the FP8 checkpoint computes in bf16): K 94 x 1 x 128 x 2 = 24,064 B.
    pool = sglang(QWEN3_235B_FLAGS + ["-tp", "4", "--kv-cache-dtype", "auto", "--mem-fraction-static", "0.93",
                                      "--avail-mem-before-load", "79GiB", "--avail-mem-after-load", "64GiB",
                                      "--max-total-tokens", "367404"])
    assert pool["k_bytes_per_token"] == pool["v_bytes_per_token"] == 94 * 1 * 128 * 2 == 24_064
    assert pool["max_total_num_tokens"] == 367404
    assert logged_gib(367404, pool["k_bytes_per_token"]) == "8.23"
    assert f"{pool['k_bytes'] / GIB:.2f}" == f"{pool['v_bytes'] / GIB:.2f}" == "8.23"


# --- SGLang's default mem_fraction_static, pages, request pool, dtypes ----------------------------------------

@pytest.mark.parametrize("gpu, tp, fraction", [
    # H100 80GB (nvidia-smi: 81,559 MiB): chunked_prefill_size 8192, cuda_graph_max_bs 256 (512 at tp >= 4);
    # reserved = 512 + 1.5 x 8192 + 2 x 256 + 1 x 1 / 8 x 1024 = 13,440 MiB -> round(68,119 / 81,559, 3) = 0.835
    ("81559MiB", 1, 0.835),
    # tp 4: 512 + 12,288 + 1,024 + 512 = 14,336 MiB -> round(67,223 / 81,559, 3) = 0.824
    ("81559MiB", 4, 0.824),
    # RTX 4090 (24,564 MiB): 2048 / 24: reserved 512 + 3,072 + 48 + 128 = 3,760 (under 60 GiB, no 10 GiB floor)
    # -> round(20,804 / 24,564, 3) = 0.847
    ("24564MiB", 1, 0.847),
    # H200 (143,771 MiB): 8192 / 256, 13,440 MiB -> round(130,331 / 143,771, 3) = 0.907
    ("143771MiB", 1, 0.907),
])
def test_default_mem_fraction_static_by_hand(gpu, tp, fraction):
    # python/sglang/srt/server_args.py ServerArgs._handle_gpu_memory_settings (SGLang 0.5), derived by hand above
    pool = sglang(["-p", "llama-3.1-8b", "--gpu-memory", gpu, "-tp", str(tp)])
    assert pool["mem_fraction_static"] == fraction and not pool["fraction_given"]


def test_pages_round_the_pool_down_and_pad_one_page():
    # --page-size 64: the pool is whole pages (init_memory: tokens // page_size x page_size) and the buffers hold
    # one page more (the padded slot 0 is a page)
    one = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB",
                  "--avail-mem-after-load", "63.72GiB"])
    paged = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB",
                    "--avail-mem-after-load", "63.72GiB", "--page-size", "64"])
    assert paged["max_total_num_tokens"] == one["max_total_num_tokens"] // 64 * 64
    assert paged["k_bytes"] == (paged["max_total_num_tokens"] + 64) * 65536


def test_fp8_cells_are_half_the_bf16_cells():
    argv = ["-p", "llama-3-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78GiB",
            "--avail-mem-after-load", "63GiB"]
    bf16, fp8 = sglang(argv), sglang(argv + ["--kv-cache-dtype", "fp8_e5m2"])
    assert fp8["bytes_per_token"] * 2 == bf16["bytes_per_token"] == 131072
    assert abs(fp8["max_total_num_tokens"] - 2 * bf16["max_total_num_tokens"]) <= 1


def test_request_pool_and_running_requests():
    # init_memory: max_num_reqs = min(max(int(tokens / context_len x 512), 2048), 4096); the scheduler runs
    # min(tokens // 2, max_num_reqs) requests unless --max-running-requests
    short = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB",
                    "--avail-mem-after-load", "63.72GiB", "--context-length", "1024"])
    assert short["max_num_reqs"] == 4096 and short["max_running_requests"] == 4096
    capped = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB",
                     "--avail-mem-after-load", "63.72GiB", "--max-running-requests", "48"])
    assert capped["max_running_requests"] == 48
    tiny = sglang(["-p", "llama-3.1-8b", "--mem-fraction-static", "0.88", "--avail-mem-before-load", "78.81GiB",
                   "--avail-mem-after-load", "63.72GiB", "--max-total-tokens", "1000"])
    assert tiny["max_running_requests"] == 500


def test_solvers_read_sglangs_pool():
    base = ["-p", "llama-3.1-8b", "--infer", "--engine", "sglang", "--mem-fraction-static", "0.88",
            "--avail-mem-before-load", "78.81GiB", "--avail-mem-after-load", "63.72GiB", "--json"]
    status, out, err = call_main(mem, base + ["--context-length", "8192", "--max-batch-size"])
    assert status == 0, err
    result = json.loads(out)
    tokens = result["engine"]["max_total_num_tokens"]
    assert result["solution"]["value"] == tokens // 8192
    status, out, err = call_main(mem, base + ["--batch-size", "4", "--max-context"])
    assert status == 0, err
    assert json.loads(out)["solution"]["value"] == tokens // 4


def test_min_tp_for_llama_3_70b_under_sglang():
    # Llama-3-70B in bf16 (70,553,706,496 parameters), 8 requests of 32,768 tokens (262,144 tokens, 80 layers x 8 KV
    # heads x 128, split by TP) on 80 GiB GPUs.  By hand at -tp 2: 79 GiB free before the weights (80 less the
    # assumed 1 GiB), 65.71 GiB of weights, so 13.29 GiB after; SGLang's default fraction at TP 2 is round((81,920 -
    # 13,568) / 81,920, 3) = 0.834, reserving 0.166 x 79 = 13.11 GiB: under 0.2 GiB left, far from the 40 GiB the
    # requests need.  At -tp 4 (fraction 0.825): 79 - 32.86 - 0.175 x 79 = 32.31 GiB for 20 GiB of requests.
    assert 79 * GIB - 70_553_706_496 - 0.166 * 79 * GIB < 0.2 * GIB
    assert 79 * GIB - 70_553_706_496 // 2 - 0.175 * 79 * GIB > 80 * 2 * 128 * 2 * 2 * 262144 == 20 * GIB
    status, out, err = call_main(mem, ["-p", "llama-3-70b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB",
                                       "--context-length", "32768", "--batch-size", "8", "--min-tp", "--json"])
    assert status == 0, err
    result = json.loads(out)
    assert result["solution"]["value"] == 4 and result["engine"]["mem_fraction_static"] == 0.825


def test_text_output_speaks_sglangs_words():
    status, out, err = call_main(mem, ["-p", "llama-3.1-8b", "--infer", "--engine", "sglang", "--gpu-memory",
                                       "81559MiB"])
    assert status == 0, err
    for line in ("mem_fraction_static=0.835", "Load weight begin. avail mem=", "Load weight end. avail mem=",
                 "KV Cache is allocated. #tokens: ", ", K size: ", "max_total_num_tokens=", "max_running_requests=",
                 "SGLang 0.5.8"):
        assert line in out
    # 24 GiB: 8.04 GiB free after the 14.96 GiB of weights, 0.153 x 23 GiB kept back: about 37,000 tokens, one
    # request of 32,768
    status, out, err = call_main(mem, ["-p", "llama-3.1-8b", "--infer", "--engine", "sglang", "--gpu-memory", "24GiB",
                                       "--context-length", "32768", "--batch-size", "4"])
    assert status == 0, err
    assert "-> --batch-size 4 requests of 32,768 tokens do NOT run at once: the pool holds 1 of them" in out


@pytest.mark.parametrize("argv, names", [
    # Qwen3-Next / Qwen3.5's gated delta-net layers: SGLang's HybridLinearKVPool and mamba pool
    (["-p", "qwen3-next-80b-a3b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB"], "linear-attention"),
    # DeepSeek-V3.2's indexer keys (sglang PR #11309 added them to the cell size): NSATokenToKVPool
    (["-p", "deepseek-v3.2", "--infer", "--engine", "sglang", "--gpu-memory", "141GiB"], "DSA indexer"),
    # Llama 4's published checkpoints are vision-language models: SGLang's default fraction for them
    # (adjust_mem_fraction_for_vlm) and the vision tower's weights need its log (tests/test_mem_sglang_swa.py)
    (["-p", "llama-4-scout", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB"], "vision-language"),
    # Gemma 4's per-layer head widths and KV-shared layers (issue 10, branch gemma4)
    (["-p", "gemma-4-31b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB"], "Gemma 4"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "-pp", "2"], "-pp"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang"], "--gpu-memory"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "16GiB"], "not enough memory"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--kv-cache-dtype", "q8_0"],
     "--kv-cache-dtype q8_0"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--mem-fraction-static", "0"],
     "--mem-fraction-static"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--mem-fraction-static",
      "1.2"], "--mem-fraction-static"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--page-size", "0"],
     "--page-size"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--avail-mem-before-load", "78"],
     "--avail-mem-before-load"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--avail-mem-before-load", "60GiB",
      "--avail-mem-after-load", "70GiB", "--mem-fraction-static", "0.9"], "--avail-mem-after-load"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--gpu-memory", "80GiB", "--mem-fraction-static", "0.9"],
     "--mem-fraction-static is for --engine sglang"),
    (["-p", "llama-3-8b", "--infer", "--page-size", "16"], "--page-size is for --engine sglang"),
    (["-p", "llama-3-8b", "--mem-fraction-static", "0.9"], "add --infer"),
    (["-p", "llama-3-8b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--block-size", "16"],
     "--block-size is for --engine vllm"),
])
def test_what_the_sglang_planner_does_not_model_is_one_line(argv, names):
    assert names in refused(argv)


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import math  # noqa: E402

SGLANG_TOKENS = st.sampled_from([
    "--engine", "sglang", "--gpu-memory", "80GiB", "24GB", "--mem-fraction-static", "0.9", "1", "0", "-0.1", "nan",
    "--max-total-tokens", "16", "1e30", "--page-size", "64", "--chunked-prefill-size", "--cuda-graph-max-bs",
    "--max-running-requests", "--avail-mem-before-load", "--avail-mem-after-load", "70GiB", "1e400GiB", "0",
    "--context-length", "131072", "--kv-cache-dtype", "auto", "fp8", "q8_0", "-tp", "8", "--preset", "llama-3-8b",
    "kimi-k2", "gemma-2-9b", "--weight-dtype", "int4", "--max-batch-size", "--max-context", "", "x"])


@given(st.lists(SGLANG_TOKENS, max_size=12))
def test_hostile_sglang_argv(argv):
    status, out, err = call_main(mem, ["--infer"] + argv + ["--json"])
    assert_clean_outcome(status, out, err, argv)  # JSON of finite, non-negative numbers, or one line


def test_weights_larger_than_the_gpu_are_refused_without_a_negative_number():
    # Kimi-K2 in bf16 (1.03 T parameters, ~240 GiB a rank at TP 8) on 141 GiB H200s: SGLang stops ("Not enough
    # memory"); the line says by how much the weights exceed the memory, and prints no negative free memory.
    err = refused(["-p", "kimi-k2", "--infer", "--engine", "sglang", "--gpu", "h200", "-tp", "8"])
    assert "the weights exceed" in err and not re.search(r"(?<![\w-])-\d", err), err
