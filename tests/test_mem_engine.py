"""calc_transformer_mem.py --infer --engine vllm against vLLM's own start-up logs.

vLLM gives the KV cache what is left of gpu_memory_utilization x GPU memory after the weights, the non-torch memory,
the profiling run's activation peak (and, since v0.21, CUDA graphs), then cuts it into pages of block_size tokens
per layer (vllm/v1/core/kv_cache_utils.py get_num_blocks: num_blocks = available // page_bytes // num_layers).

Each case quotes the log lines and names the thread they were posted in. The KV bytes per token are derived by hand
in each test from the model's published shape; the pool in tokens is compared with the logged "# GPU blocks" / "GPU
KV cache size" within 2 % (the logs round the memory they start from to 0.01 GiB, and vLLM versions differ in small
reservations), and the logged budget terms to the log's own rounding (0.01 GiB per term).
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main, load_script, one_line_refusal, assert_clean_outcome

mem = load_script("calc_transformer_mem")
GIB = 2**30


def vllm(argv):
    status, out, err = call_main(mem, argv + ["--infer", "--engine", "vllm", "--json"])
    assert status == 0, err
    return json.loads(out)["engine"]


def refused(argv):
    return one_line_refusal(mem, argv)


# Llama-3-8B / Llama-3.1-8B: 32 layers x 8 KV heads x head_dim 128 (Meta's config.json), K and V, 2 bytes (bf16)
LLAMA3_8B_BYTES_PER_TOKEN = 32 * 8 * 128 * 2 * 2


def test_llama_3_8b_budget_as_vllm_logged_it():
    # vllm-project/vllm PR #10511 (youkaichao, 2024-12-14), `vllm serve meta-llama/Meta-Llama-3-8B`, defaults:
    #   total_gpu_memory 79.22GiB / gpu_memory_utilization 0.90 / the current vLLM instance can use 71.29GiB /
    #   model weights take 14.96GiB / non_torch_memory 1.79GiB / PyTorch activation peak memory 1.26GiB /
    #   available_kv_cache_memory 53.29GiB
    pool = vllm(["-p", "llama-3-8b", "--gpu-memory", "79.22GiB", "--max-model-len", "8192",
                 "--non-torch-memory", "1.79GiB", "--activation-peak", "1.26GiB"])
    assert round(pool["terms"]["weights"] / GIB, 2) == 14.96  # 8,030,261,248 parameters x 2 B, exact
    assert abs(pool["budget_bytes"] / GIB - 71.29) <= 0.01
    # each logged term is rounded to 0.01 GiB: the difference of five of them is good to 0.025 GiB
    assert abs(pool["available_kv_bytes"] / GIB - 53.29) <= 0.025
    assert pool["bytes_per_token"] == LLAMA3_8B_BYTES_PER_TOKEN


def test_llama_3_8b_weights_at_tp_2_as_logged():
    # same thread, `vllm serve meta-llama/Meta-Llama-3-8B -tp 2`: "model weights take 7.48GiB"
    pool = vllm(["-p", "llama-3-8b", "--gpu-memory", "79.22GiB", "-tp", "2"])
    assert round(pool["terms"]["weights"] / GIB, 2) == 7.48
    assert pool["bytes_per_token"] == LLAMA3_8B_BYTES_PER_TOKEN // 2  # 4 of the 8 KV heads on each rank


@pytest.mark.parametrize("max_model_len, kv_gib, blocks, concurrency, starts", [
    (20000, "3.81GiB", 1952, "1.56", True),    # "GPU blocks: 1952" / "Maximum concurrency ... 20000 ...: 1.56x"
    (29000, "2.89GiB", 1478, "0.82", False),   # "# GPU blocks: 1478" / "0.82x" / "max seq len (29000) is larger
])                                             #   than the maximum number of tokens ... (23648)"
def test_llama_3_1_8b_on_an_rtx_3090(max_model_len, kv_gib, blocks, concurrency, starts):
    # vllm-project/vllm issue #10517 (kaspersiminski, 2024-12-02): meta-llama/Llama-3.1-8B-Instruct on an RTX 3090,
    # gpu_memory_utilization 0.90, block size 16, "kv_cache_size=3.81GiB" at --max-model-len 20000 and 2.89GiB at
    # 29000 (the pool vLLM started from)
    pool = vllm(["-p", "llama-3.1-8b", "--max-model-len", str(max_model_len), "--kv-cache-memory-bytes", kv_gib])
    # by hand: a page is 16 tokens x 32 KiB... per layer: 16 x 8 heads x 128 x 2 (K, V) x 2 B = 65,536 B
    assert pool["page_bytes"] == 16 * 8 * 128 * 2 * 2
    assert abs(pool["num_blocks"] - blocks) <= 0.02 * blocks
    assert f"{pool['num_blocks'] * 16 / max_model_len:.2f}" == concurrency
    assert pool["fits_one_request"] is starts


def test_qwen3_8b_v1_log():
    # LMCache/LMCache issue #3430 (vLLM >= 0.21, V1): Qwen3-8B, max_model_len 16,384:
    #   "Available KV cache memory: 6.37 GiB" / "GPU KV cache size: 46,368 tokens" /
    #   "Maximum concurrency for 16,384 tokens per request: 2.83x"
    # Qwen3-8B (Qwen3 technical report Table 1; huggingface.co/Qwen/Qwen3-8B config.json): 36 layers, 32 query and
    # 8 KV heads, head_dim 128; the other sizes do not change a page
    pool = vllm(["-l", "36", "-hs", "4096", "-a", "32", "--num-kv-heads", "8", "--head-dim", "128", "-v", "151936",
                 "--max-model-len", "16384", "--kv-cache-memory-bytes", "6.37GiB"])
    assert pool["bytes_per_token"] == 36 * 8 * 128 * 2 * 2
    assert abs(pool["kv_tokens"] - 46368) <= 0.02 * 46368
    assert f"{pool['max_concurrency']:.2f}" == "2.83"


def test_qwen3_235b_a22b_at_tp_4():
    # vllm-project/vllm issue #21348: Qwen3-235B-A22B-FP8, --tensor-parallel-size 4, default utilization 0.9:
    #   "Available KV cache memory: 8.11 GiB" / "GPU KV cache size: 178,880 tokens"
    # Qwen3-235B-A22B (Qwen3 technical report Table 2; its config.json): 94 layers, 64 query and 4 KV heads,
    # head_dim 128; at TP 4 each rank caches one KV head (bf16: --kv-cache-dtype auto)
    pool = vllm(["-l", "94", "-hs", "4096", "-a", "64", "--num-kv-heads", "4", "--head-dim", "128", "-v", "151936",
                 "-tp", "4", "--kv-cache-dtype", "auto", "--max-model-len", "40960",
                 "--kv-cache-memory-bytes", "8.11GiB"])
    assert pool["bytes_per_token"] == 94 * 1 * 128 * 2 * 2
    assert abs(pool["kv_tokens"] - 178880) <= 0.02 * 178880


def test_fp8_pages_are_half_the_bf16_pages():
    bf16 = vllm(["-p", "llama-3-8b", "--kv-cache-memory-bytes", "10GiB"])
    fp8 = vllm(["-p", "llama-3-8b", "--kv-cache-memory-bytes", "10GiB", "--kv-cache-dtype", "fp8"])
    assert fp8["page_bytes"] * 2 == bf16["page_bytes"] and fp8["num_blocks"] == 2 * bf16["num_blocks"]


def test_defaults_follow_vllm_serve_by_gpu_size():
    # EngineArgs.get_batch_defaults (vllm/engine/arg_utils.py): from 70 GiB (A100 aside) 8192 batched tokens and
    # 1024 sequences for `vllm serve`, else 2048 and 256
    assert vllm(["-p", "llama-3-8b", "--gpu-memory", "80GiB"])["max_num_batched_tokens"] == 8192
    small = vllm(["-p", "llama-3-8b", "--gpu-memory", "24GiB"])
    assert (small["max_num_batched_tokens"], small["max_num_seqs"]) == (2048, 256)


@pytest.mark.parametrize("argv, names", [
    # linear-attention / SSM models: tests/test_mem_vllm_hybrid.py (their pages need --mamba-cache-mode)
    (["-p", "qwen3-next-80b-a3b", "--infer", "--engine", "vllm", "--kv-cache-memory-bytes", "10GiB"],
     "--mamba-cache-mode"),
    (["-p", "deepseek-v3.2", "--infer", "--engine", "vllm", "--kv-cache-memory-bytes", "10GiB", "--kv-cache-dtype",
      "fp8"], "DSA indexer"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm"], "--gpu-memory"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--gpu-memory", "16GiB"], "nothing is left"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--gpu-memory", "80GiB", "-pp", "2"], "-pp"),
    (["-p", "llama-3-8b", "--infer", "--engine", "tgi"], "--engine"),
    (["-p", "llama-3-8b", "--infer", "--block-size", "32"], "--block-size is for --engine vllm"),
    (["-p", "llama-3-8b", "--engine", "vllm"], "--engine is for inference"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--gpu-memory-utilization", "1.5",
      "--gpu-memory", "80GiB"], "--gpu-memory-utilization"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--gpu-memory-utilization", "0",
      "--gpu-memory", "80GiB"], "--gpu-memory-utilization"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--kv-cache-memory-bytes", "10GiB",
      "--non-torch-memory", "1GiB"], "--non-torch-memory"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--kv-cache-memory-bytes", "10"], "--kv-cache-memory"),
    (["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--kv-cache-dtype", "q4_0",
      "--kv-cache-memory-bytes", "10GiB"], "--kv-dtype q4_0"),
])
def test_what_the_vllm_planner_does_not_model_is_one_line(argv, names):
    assert names in refused(argv)


def test_text_output_speaks_vllms_words():
    status, out, err = call_main(mem, ["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--gpu-memory", "80GiB",
                                       "--max-model-len", "8192"])
    assert status == 0, err
    for line in ("Available KV cache memory:", "# GPU blocks:", "GPU KV cache size:",
                 "Maximum concurrency for 8,192 tokens per request:"):
        assert line in out


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import math  # noqa: E402

ENGINE_TOKENS = st.sampled_from([
    "--engine", "vllm", "sum", "--gpu-memory", "80GiB", "24GB", "--gpu-memory-utilization", "0.9", "1", "0", "-0.1",
    "nan", "2", "--block-size", "16", "1e30", "--max-num-batched-tokens", "--max-num-seqs", "--non-torch-memory",
    "1GiB", "1e400GiB", "--activation-peak", "--cuda-graph-memory", "--kv-cache-memory-bytes", "8.11GiB", "0",
    "--max-model-len", "131072", "--kv-cache-dtype", "auto", "fp8", "q8_0", "-tp", "8", "--preset", "llama-3-8b",
    "mixtral-8x7b", "gemma-2-9b", "--weight-dtype", "int4", "--bits-per-weight", "4.5", "", "x"])


@given(st.lists(ENGINE_TOKENS, max_size=12))
def test_hostile_engine_argv(argv):
    status, out, err = call_main(mem, ["--infer"] + argv + ["--json"])
    assert_clean_outcome(status, out, err, argv)  # JSON of finite, non-negative numbers, or one line


# --- hybrid KV-cache groups (sliding windows, chunks), MLA pages, and the start-up check --------------------------
# vLLM refuses to start when one request of --max-model-len tokens needs more KV cache than is available: "To serve
# at least one request with the models's max seq len (L), (X GiB KV cache is needed, which is larger than the
# available KV cache memory (Y GiB)". X is computed from the pages (kv_cache_utils.py max_memory_usage_bytes /
# _max_memory_usage_bytes_from_groups), so it checks the page accounting exactly, whatever the budget was.

def test_gpt_oss_120b_sliding_and_full_layers_as_vllm_refused_them():
    # vllm-project/vllm issue #27508 (matheusfvesco, 2025-10-31): `vllm serve openai/gpt-oss-120b
    # --gpu-memory-utilization 0.95 --max-num-batched-tokens 1024` on an H100: "Available KV cache memory: 1.71 GiB"
    # then "max seq len (131072), (4.54 GiB KV cache is needed, which is larger than the available KV cache memory
    # (1.71 GiB)".  By hand (openai/gpt-oss-120b config.json: 36 layers alternating sliding (window 128) and full,
    # 8 KV heads of 64, bf16): a page of 16 tokens is 16 x 8 x 64 x 2 x 2 = 32,768 B on every layer; a full layer
    # needs cdiv(131072, 16) = 8,192 pages, a sliding one cdiv(min(127 + 1024, 131072), 16) + 1 = 73 pages.
    pool = vllm(["-p", "gpt-oss-120b", "--max-model-len", "131072", "--max-num-batched-tokens", "1024",
                 "--kv-cache-memory-bytes", "1.71GiB"])
    page = 16 * 8 * 64 * 2 * 2
    assert pool["page_bytes"] == page and pool["bytes_per_token"] == 36 * 8 * 64 * 2 * 2
    needed = 18 * 8192 * page + 18 * 73 * page
    assert pool["needed_bytes_one_request"] == needed == 4_874_895_360
    assert f"{needed / GIB:.2f}" == "4.54" and pool["fits_one_request"] is False
    # 18 sliding and 18 full layers: two groups of 18 layers sharing each block (the hybrid manager's grouping)
    assert [(g["kind"], g["layers"]) for g in pool["groups"]] == [("sliding", 18), ("full", 18)] \
        or [(g["kind"], g["layers"]) for g in pool["groups"]] == [("full", 18), ("sliding", 18)]


def test_deepseek_v2_lite_mla_pages_as_vllm_refused_them(tmp_path):
    # vllm-project/vllm issue #15871 (ymcki, 2025-04-02), vLLM 0.8.3 V1, DeepSeek-V2-Lite-Chat, max seq len 32768:
    # "(0.95 GiB KV cache is needed, which is larger than the available KV cache memory (0.93 GiB)".  MLA caches
    # one latent of kv_lora_rank + qk_rope_head_dim = 512 + 64 values per token and layer (MLAAttentionSpec: one
    # head of 576), 2 B each, on 27 layers: 27 x 2,048 pages x 16 x 576 x 2 B = 1,019,215,872 B = 0.949 GiB.
    from test_flops_torch import DEEPSEEK_V2_LITE  # deepseek-ai/DeepSeek-V2-Lite config.json, cited there
    path = tmp_path / "config.json"
    path.write_text(json.dumps(DEEPSEEK_V2_LITE))
    pool = vllm(["--config", str(path), "--max-model-len", "32768", "--kv-cache-memory-bytes", "0.93GiB"])
    assert pool["page_bytes"] == 16 * 576 * 2 and pool["bytes_per_token"] == 27 * 576 * 2
    assert pool["needed_bytes_one_request"] == 27 * 2048 * 16 * 576 * 2 == 1_019_215_872
    assert f"{pool['needed_bytes_one_request'] / GIB:.2f}" == "0.95" and pool["fits_one_request"] is False
    # the latent is not split over tensor-parallel ranks: each rank holds all of it
    assert vllm(["--config", str(path), "-tp", "2", "--kv-cache-memory-bytes", "1GiB"])["page_bytes"] == 16 * 576 * 2


QWEN3_30B_A3B_FLAGS = ["-l", "48", "-hs", "2048", "-a", "32", "--num-kv-heads", "4", "--head-dim", "128",
                       "-v", "151936", "--num-experts", "128", "--topk", "8", "--moe-ffn-hidden-size", "768"]


def test_qwen3_coder_30b_needed_memory_and_the_longest_context_vllm_estimated():
    # vllm-project/vllm issue #34076 (chizhiwei, 2026-02-08), Qwen3-Coder-30B-A3B-Instruct-FP8 (the Qwen3-30B-A3B
    # network: 48 layers, 4 KV heads of 128; KV cache in bf16), max seq len 262144: "(24.0 GiB KV cache is needed,
    # which is larger than the available KV cache memory (3.18 GiB). Based on the available memory, the estimated
    # maximum model length is 34736."  (The run used two pipeline stages; the issue's point is that this check
    # priced the whole model's 48 layers, as here.)  By hand: 48 x cdiv(262144, 16) x 16 x 4 x 128 x 2 x 2 B = 24 GiB;
    # the longest length that fits 3.18 GiB (rounded in the log) is whole pages of 48 x 32,768 B: 2,170 or 2,171 of
    # them, 34,720 or 34,736 tokens.
    pool = vllm(QWEN3_30B_A3B_FLAGS + ["--max-model-len", "262144", "--kv-cache-memory-bytes", "3.18GiB"])
    assert pool["needed_bytes_one_request"] == 48 * 16384 * 16 * 4 * 128 * 2 * 2 == 24 * GIB
    status, out, err = call_main(mem, QWEN3_30B_A3B_FLAGS + [
        "--infer", "--engine", "vllm", "--kv-cache-memory-bytes", "3.18GiB", "--max-context", "--json"])
    assert status == 0, err
    longest = json.loads(out)["solution"]["value"]
    assert abs(longest - 34736) <= 16  # one page: the log's 3.18 GiB is rounded to 0.01 GiB
    assert longest % 16 == 0


def test_chunked_layers_are_one_chunk_plus_a_batch():
    # Llama 4 Scout (tests/test_params_torch.py REAL_CONFIGS): 36 chunked layers (8,192-token chunks) and 12 full
    # ones, 8 KV heads of 128: vLLM's ChunkedLocalAttentionSpec needs cdiv(min(8192 + batched, L), 16) pages (no
    # extra page: chunks are aligned), FullAttentionSpec cdiv(L, 16).  Groups: the fewest layers of a kind (12), so
    # three chunked groups and one full group of 12 layers.
    pool = vllm(["-p", "llama-4-scout", "--max-model-len", "131072", "--max-num-batched-tokens", "8192",
                 "--kv-cache-memory-bytes", "20GiB"])
    page = 16 * 8 * 128 * 2 * 2
    assert sorted((g["kind"], g["layers"]) for g in pool["groups"]) == [("chunked", 12)] * 3 + [("full", 12)]
    assert pool["needed_bytes_one_request"] == 12 * page * (3 * (16384 // 16) + 131072 // 16)
    assert pool["num_blocks"] == 20 * GIB // page // 12
    assert pool["kv_tokens"] == pool["num_blocks"] // 4 * 16


def test_max_context_of_a_sliding_only_model_is_refused_as_unbounded():
    # every layer slides: a request's pages stop growing past the window, so no --max-model-len is the longest
    err = refused(["-p", "mistral-7b", "--infer", "--engine", "vllm", "--kv-cache-memory-bytes", "10GiB",
                   "--max-context"])
    assert "window" in err


# --- the solvers: most concurrent sequences, smallest tensor parallelism ------------------------------------------

def test_max_batch_size_under_vllm_is_the_pool_over_one_requests_blocks():
    # Llama-3-8B, a 10 GiB pool: a block is a 16-token page of each of the 32 layers, 16 x 8 x 128 x 2 x 2 x 32 =
    # 2 MiB, so 5,120 blocks; a request of 8,192 tokens needs 512 of them: 10 requests at once, not 11.
    status, out, err = call_main(mem, ["-p", "llama-3-8b", "--infer", "--engine", "vllm", "--max-model-len", "8192",
                                       "--kv-cache-memory-bytes", "10GiB", "--max-batch-size", "--json"])
    assert status == 0, err
    result = json.loads(out)
    assert result["solution"]["value"] == 5120 // 512 == 10
    assert result["engine"]["num_blocks"] == 10 * GIB // (2 * 2**20)


def test_max_batch_size_is_the_last_batch_that_fits():
    # the summed breakdown: the solver's batch fits --gpu-memory and one more sequence does not
    argv = ["-p", "llama-3-8b", "--infer", "--context", "8192", "--gpu-memory", "80GiB", "--json"]
    status, out, err = call_main(mem, argv + ["--max-batch-size"])
    assert status == 0, err
    b = json.loads(out)["solution"]["value"]
    totals = []
    for batch in (b, b + 1):
        status, out, err = call_main(mem, argv + ["--batch-size", str(batch)])
        totals.append(json.loads(out)["per_gpu"]["total"])
    assert totals[0] <= 80 * GIB < totals[1]
    # and by hand, the KV cache alone bounds it: (80 GiB - 16-bit weights) / (8,192 x 131,072 B per token) = 62.5
    assert b <= (80 * GIB - 8_030_261_248 * 2) // (8192 * 32 * 8 * 128 * 2 * 2)


def test_min_tp_for_llama_3_70b_at_32k_times_8():
    # Llama-3-70B in bf16 (70,553,706,496 parameters) with 8 sequences of 32,768 tokens on 80 GiB GPUs.  By hand:
    # at -tp 2 each GPU holds 65.7 GiB of weights and 40 GiB of KV cache (80 layers x 4 KV heads x 128 x 2 x 2 B x
    # 262,144 tokens): more than 80 GiB before any activation; at -tp 4, 32.9 + 20 GiB, 27 GiB left for the prefill
    # workspace and allowances.
    assert 70_553_706_496 * 2 // 2 + 80 * 4 * 128 * 2 * 2 * 262144 > 80 * GIB
    assert 70_553_706_496 * 2 // 4 + 80 * 2 * 128 * 2 * 2 * 262144 < 60 * GIB
    status, out, err = call_main(mem, ["-p", "llama-3-70b", "--infer", "--context", "32768", "--batch-size", "8",
                                       "--gpu-memory", "80GiB", "--min-tp", "--json"])
    assert status == 0, err
    result = json.loads(out)
    assert result["solution"]["value"] == 4 and result["per_gpu"]["total"] <= 80 * GIB


def test_min_tp_refuses_in_one_line_when_nothing_fits():
    err = refused(["-p", "llama-3.1-405b", "--infer", "--context", "131072", "--batch-size", "64",
                   "--gpu-memory", "24GiB", "--min-tp"])
    assert "nothing fits" in err and "tensor-parallel" in err


def test_engine_hf_is_the_sum_with_transformers_dynamic_cache():
    # Gemma-2-9B (google/gemma-2-9b config.json: 42 layers alternating sliding (window 4096) and full, 8 KV heads of
    # 256): a layer caches 8 x 256 x 2 (K, V) x 2 B = 8,192 B per token.  transformers' DynamicSlidingWindowLayer
    # keeps window - 1 = 4,095 tokens (tests/test_mem_torch.py checks that against the real cache), a static /
    # paged cache the window: at 8,192 tokens the two differ by 21 x 8,192 B.
    def kv(extra):
        status, out, err = call_main(mem, ["-p", "gemma-2-9b", "--infer", "--context", "8192", "--json"] + extra)
        assert status == 0, err
        return json.loads(out)["per_gpu"]["kv_cache"]
    assert kv(["--engine", "hf"]) == 21 * 8192 * (8192 + 4095) == kv(["--kv-cache", "hf-dynamic"])
    assert kv([]) == kv(["--engine", "sum"]) == 21 * 8192 * (8192 + 4096)
    assert "--kv-cache" in refused(["-p", "gemma-2-9b", "--infer", "--engine", "hf", "--kv-cache", "window"])
