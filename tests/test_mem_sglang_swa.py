"""calc_transformer_mem.py --infer --engine sglang for models with sliding-window (or chunked) layers.

SGLang 0.5.8 (the sglang-0.5.8 wheel of 2026-01-23) gives sliding layers a pool of their own only for the
architectures listed in python/sglang/srt/configs/model_config.py is_hybrid_swa_model (GptOssForCausalLM,
Llama4ForConditionalGeneration, MiMoV2FlashForCausalLM); mem_cache/swa_memory_pool.py SWAKVPool then holds one
MHATokenToKVPool for the full layers and one for the sliding ones.  model_executor/model_runner_kv_cache_mixin.py:
  * get_cell_size_per_token prices a token at kv_heads_per_rank x (head_dim + v_head_dim) x EVERY layer x bytes
    (MiMo-V2-Flash adds its sliding layers once more at their own heads: the over-count sglang PR #18039 fixed);
  * profile_max_num_token / init_memory_pool as for every model: int(rest x 2^30) // cell, capped by
    --max-total-tokens, rounded down to whole pages;
  * set_num_tokens_hybrid_swa shares that out as token-layers:
        full = int(tokens x num_hidden_layers / (swa_full_tokens_ratio x sliding layers + full layers))
        swa  = int(full x swa_full_tokens_ratio), each rounded down to whole pages; max_total_num_tokens = full
    and logs "Use sliding window memory pool. full_layer_tokens=F, swa_layer_tokens=S".
Every other architecture keeps its sliding layers at full length in the one pool (server_args.py sets
disable_hybrid_swa_memory for Gemma 2/3 and Olmo2/3; Cohere2, Mistral and Phi-3 are not in the list).

sglang PR #18039 ("Fix swa kv cache memory allocation", merged 2026-01-31) changed both steps after 0.5.8; the
planner names the version it models (0.5.8) and these checks are against logs of builds with 0.5.8's formula.
No published log of a hybrid-SWA model that also states the memory SGLang started from ("Load weight begin /
end. avail mem=") was found, so the pool's size in tokens is checked here through the split (token counts exact
given the logged pool) and the bytes per token exactly; the profile step itself is the one tests/test_mem_sglang.py
checks against dense and MLA logs within 2 %.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from conftest import call_main, load_script, one_line_refusal, write_config, assert_clean_outcome

sys.path.insert(0, str(Path(__file__).parent))
from test_params_torch import REAL_CONFIGS  # noqa: E402  (the published config.json files the suite carries)

mem = load_script("calc_transformer_mem")
GIB = 2**30


write = write_config


def sglang(argv):
    status, out, err = call_main(mem, argv + ["--infer", "--engine", "sglang", "--json"])
    assert status == 0, err
    return json.loads(out)["engine"]


def sglang_text(argv):
    status, out, err = call_main(mem, argv + ["--infer", "--engine", "sglang"])
    assert status == 0, err
    return out


def refused(argv):
    return one_line_refusal(mem, argv)


def gb2(n_bytes):
    """A size as SGLang's log prints it: 2^30 bytes, two decimals."""
    return f"{n_bytes / GIB:.2f}"


# --- MiMo-V2-Flash: sliding layers with their own heads -----------------------------------------------------------

def test_mimo_v2_flash_split_as_sglang_pr_18039_logged_it(tmp_path):
    # github.com/sgl-project/sglang/pull/18039 (ispobock, 2026-01-31), "main branch" (0.5.8's formula, before the
    # fix), command:
    #   python3 -m sglang.launch_server --model-path XiaomiMiMo/MiMo-V2-Flash --tp-size 4 --trust-remote-code
    #     --mem-fraction-static 0.7 --model-loader-extra-config '{"enable_multithread_load": "true","num_threads": 64}'
    #     --page-size 64
    # its log, on each of TP0-TP3:
    #   "Use sliding window memory pool. full_layer_tokens=375360, swa_layer_tokens=300288"
    #   "KV Cache is allocated. #tokens: 300288, K size: 8.38 GB, V size: 5.59 GB"
    # By hand (REAL_CONFIGS["mimo_v2_flash"]: 48 layers, hybrid_layer_pattern full at layer 0 and every 6th: 9 full,
    # 39 sliding; 4 KV heads on the full layers, swa_num_key_value_heads 8 on the sliding ones, head_dim 192,
    # v_head_dim 128; bf16): at TP 4 one full-layer KV head and two sliding ones a rank.  0.5.8's profile cell:
    # 1 x (192 + 128) x 48 x 2 + 2 x (192 + 128) x 39 x 2 = 30,720 + 49,920 = 80,640 B.  The split divides the
    # profiled pool T (whole pages of 64) by 0.8 x 39 + 9 = 40.2 token-layers per 48: T = 314,368 gives
    # int(314,368 x 48 / 40.2) = 375,364 -> 375,360 and int(375,364 x 0.8) = 300,291 -> 300,288, the logged pair;
    # its neighbours 314,304 and 314,432 give 375,232 and 375,424.  The log states no memory, so the pool is given
    # as that T (--max-total-tokens; the memory behind it is a placeholder large enough).
    # Sliding pool, (300,288 + 64) rows: K 2 x 192 x 2 x 39 = 29,952 B a row -> 8.38 GiB, V 2 x 128 x 2 x 39 =
    # 19,968 B -> 5.59 GiB.  Full pool, (375,360 + 64) rows: K 1 x 192 x 2 x 9 = 3,456 B -> 1.21 GiB, V 2,304 B ->
    # 0.81 GiB.
    assert [int(t * 48 / (0.8 * 39 + 9)) // 64 * 64 for t in (314304, 314368, 314432)] == [375232, 375360, 375424]
    argv = ["--config", write(tmp_path, REAL_CONFIGS["mimo_v2_flash"]), "-tp", "4", "--mem-fraction-static", "0.7",
            "--page-size", "64", "--avail-mem-before-load", "139GiB", "--avail-mem-after-load", "100GiB",
            "--max-total-tokens", "314368"]
    pool = sglang(argv)
    assert pool["bytes_per_token"] == 80_640
    swa = pool["swa"]
    assert (swa["full_layers"], swa["swa_layers"]) == (9, 39)
    assert (swa["full_layer_tokens"], swa["swa_layer_tokens"]) == (375360, 300288)
    assert pool["max_total_num_tokens"] == 375360
    assert (swa["swa_k"], swa["swa_v"], swa["full_k"], swa["full_v"]) == (2 * 192 * 2, 2 * 128 * 2, 192 * 2, 128 * 2)
    assert gb2(swa["swa_k_bytes"]) == gb2((300288 + 64) * 29_952) == "8.38"
    assert gb2(swa["swa_v_bytes"]) == gb2((300288 + 64) * 19_968) == "5.59"
    assert (gb2(swa["full_k_bytes"]), gb2(swa["full_v_bytes"])) == ("1.21", "0.81")
    out = sglang_text(argv)
    assert "Use sliding window memory pool. full_layer_tokens=375360, swa_layer_tokens=300288" in out
    # the sliding pool is built first (SWAKVPool.__init__), so its line comes first
    first = out.index("KV Cache is allocated. #tokens: 300288, K size: 8.38 GB, V size: 5.59 GB")
    assert first < out.index("KV Cache is allocated. #tokens: 375360, K size: 1.21 GB, V size: 0.81 GB")


def test_mimo_v2_flash_pools_as_sglang_pr_15464_logged_them(tmp_path):
    # github.com/sgl-project/sglang/pull/15464 (yuan-luo, "Optimize MiMo-V2-Flash by flashinfer fused allreduce"),
    # its log of 2025-12-19 on TP0-TP3:
    #   "KV Cache is allocated. #tokens: 1496958, K size: 41.76 GB, V size: 27.84 GB"
    #   "KV Cache is allocated. #tokens: 1496958, K size: 4.82 GB, V size: 3.21 GB"
    #   "SWAKVPool mem usage: 77.63 GB, swa size: 1496958, full size: 1496958"
    # That build did not yet read --swa-full-tokens-ratio for MiMo-V2-Flash (sglang PR #15488, 2025-12-19,
    # "[MiMoV2Flash] fix: respect --swa-full-tokens-ratio arg"): both pools the same size, which is 0.5.8's split
    # at ratio 1 (48 token-layers over 39 + 9 layers: full = swa = the pool).  page_size 1 (1,496,958 is odd).
    # By hand, (1,496,958 + 1) rows: sliding K 29,952 B -> 41.76 GiB, V 19,968 B -> 27.84 GiB; full K 3,456 B ->
    # 4.82 GiB, V 2,304 B -> 3.21 GiB; together 55,680 B a row -> 77.63 GiB.  The log states no memory: the pool is
    # given as its 1,496,958 tokens (--max-total-tokens) over a placeholder memory large enough.
    pool = sglang(["--config", write(tmp_path, REAL_CONFIGS["mimo_v2_flash"]), "-tp", "4", "--mem-fraction-static",
                   "0.7", "--avail-mem-before-load", "200GiB", "--avail-mem-after-load", "190GiB",
                   "--max-total-tokens", "1496958", "--swa-full-tokens-ratio", "1"])
    swa = pool["swa"]
    assert swa["full_layer_tokens"] == swa["swa_layer_tokens"] == 1496958
    assert (gb2(swa["swa_k_bytes"]), gb2(swa["swa_v_bytes"])) == ("41.76", "27.84")
    assert (gb2(swa["full_k_bytes"]), gb2(swa["full_v_bytes"])) == ("4.82", "3.21")
    assert gb2(pool["kv_pool_bytes"]) == gb2(1496959 * 55_680) == "77.63"


def test_mimo_v2_flash_without_the_swa_pool_is_refused(tmp_path):
    err = refused(["--config", write(tmp_path, REAL_CONFIGS["mimo_v2_flash"]), "-tp", "4", "--infer", "--engine",
                   "sglang", "--mem-fraction-static", "0.7", "--avail-mem-before-load", "139GiB",
                   "--disable-hybrid-swa-memory"])
    assert "--disable-hybrid-swa-memory" in err


# --- gpt-oss: alternating sliding (128) and full layers of the same shape -----------------------------------------

def test_gpt_oss_120b_pool_and_split_by_hand():
    # gpt-oss-120b (REAL_CONFIGS["gpt_oss_120b"], the preset): 36 layers, 18 sliding + 18 full, 8 KV heads of 64,
    # bf16 KV.  On one GPU the profile cell is 8 x (64 + 64) x 36 x 2 = 73,728 B.  With 70.00 GiB free before the
    # weights, 10.00 GiB after and a fraction of 0.9: rest = 10 - 7 = 3 GiB -> 3 x 2^30 // 73,728 = 43,690 tokens of
    # every layer; the split: int(43,690 x 36 / (0.8 x 18 + 18)) = int(48,544.4) = 48,544 full-layer tokens and
    # int(48,544 x 0.8) = 38,835 sliding-layer tokens.  Memory: (48,545 + 38,836) x 18 x 2,048 B = 3.00 GiB, the
    # rest (same-shaped layers: 0.5.8's token-layer split spends exactly what the profile priced).
    assert 3 * GIB // 73_728 == 43_690 and int(43_690 * 36 / 32.4) == 48_544 and int(48_544 * 0.8) == 38_835
    pool = sglang(["-p", "gpt-oss-120b", "--mem-fraction-static", "0.9", "--avail-mem-before-load", "70GiB",
                   "--avail-mem-after-load", "10GiB"])
    assert pool["bytes_per_token"] == 73_728 and pool["profiled_tokens"] == 43_690
    swa = pool["swa"]
    assert (swa["full_layer_tokens"], swa["swa_layer_tokens"]) == (48_544, 38_835)
    # the scheduler: min(full tokens // 2, the request pool sized from the PROFILED tokens at the default context
    # of 4,096: min(max(int(43,690 / 4,096 x 512), 2048), 4096) = 4096) = 4096
    assert pool["max_total_num_tokens"] == 48_544 and pool["max_running_requests"] == min(48_544 // 2, 4096)
    assert pool["kv_pool_bytes"] == (48_545 + 38_836) * 18 * 2_048
    assert abs(pool["kv_pool_bytes"] - 3 * GIB) < 3 * 2_048 * 18


def test_gpt_oss_at_tp_8_replicates_its_8_kv_heads_one_a_rank():
    # 8 KV heads over 8 ranks: one a rank, 1 x 128 x 36 x 2 = 9,216 B per token (ModelConfig.get_num_kv_heads)
    pool = sglang(["-p", "gpt-oss-120b", "-tp", "8", "--mem-fraction-static", "0.9", "--avail-mem-before-load",
                   "70GiB", "--avail-mem-after-load", "60GiB"])
    assert pool["bytes_per_token"] == 9_216 and pool["swa"]["full_k"] == 64 * 2


def test_disable_hybrid_swa_memory_keeps_every_layer_in_one_pool():
    # --disable-hybrid-swa-memory (and SGLang itself for gpt-oss on trtllm_mha / with speculative decoding): the
    # profiled tokens are the pool, every layer at full length: 43,690 tokens as above, no split
    pool = sglang(["-p", "gpt-oss-120b", "--mem-fraction-static", "0.9", "--avail-mem-before-load", "70GiB",
                   "--avail-mem-after-load", "10GiB", "--disable-hybrid-swa-memory"])
    assert pool["swa"] is None and pool["max_total_num_tokens"] == 43_690
    assert pool["k_bytes"] == pool["v_bytes"] == (43_690 + 1) * 8 * 64 * 2 * 36


def test_swa_full_tokens_ratio_moves_tokens_between_the_pools():
    # ratio 0.5: int(43,690 x 36 / (0.5 x 18 + 18)) = int(58,253.3) = 58,253 full, int(29,126.5) = 29,126 sliding
    assert int(43_690 * 36 / 27) == 58_253
    pool = sglang(["-p", "gpt-oss-120b", "--mem-fraction-static", "0.9", "--avail-mem-before-load", "70GiB",
                   "--avail-mem-after-load", "10GiB", "--swa-full-tokens-ratio", "0.5"])
    assert (pool["swa"]["full_layer_tokens"], pool["swa"]["swa_layer_tokens"]) == (58_253, 29_126)


def test_requests_fit_both_pools():
    # 48,544 full-layer tokens and 38,835 sliding ones (above): 8,192-token requests: 48,544 // 8,192 = 5 in the
    # full layers, the sliding layers keep 128 of each (38,835 // 128 = 303): 5; 64-token requests: 758 and 606
    base = ["-p", "gpt-oss-120b", "--mem-fraction-static", "0.9", "--avail-mem-before-load", "70GiB",
            "--avail-mem-after-load", "10GiB"]
    assert sglang(base + ["--context-length", "8192"])["requests_at_context_len"] == 5
    assert sglang(base + ["--context-length", "64"])["requests_at_context_len"] == min(48_544 // 64, 38_835 // 64)
    status, out, err = call_main(mem, base + ["--infer", "--engine", "sglang", "--context-length", "64",
                                              "--max-batch-size", "--json"])
    assert status == 0, err
    assert json.loads(out)["solution"]["value"] == 38_835 // 64 == 606
    # --max-context at 400 requests: the full pool allows 121 tokens each, the sliding pool (400 x 121 > 38,835)
    # only 97
    status, out, err = call_main(mem, base + ["--infer", "--engine", "sglang", "--batch-size", "400",
                                              "--max-context", "--json"])
    assert status == 0, err
    assert json.loads(out)["solution"]["value"] == 38_835 // 400 == 97


def test_gpt_oss_text_output_prints_sglangs_swa_lines():
    out = sglang_text(["-p", "gpt-oss-120b", "--mem-fraction-static", "0.9", "--avail-mem-before-load", "70GiB",
                       "--avail-mem-after-load", "10GiB"])
    for line in ("Use sliding window memory pool. full_layer_tokens=48544, swa_layer_tokens=38835",
                 "KV Cache is allocated. #tokens: 38835, K size: ", "KV Cache is allocated. #tokens: 48544, K size: ",
                 "SWAKVPool mem usage: 3.00 GB, swa size: 38835, full size: 48544",
                 "max_total_num_tokens=48544", "trtllm_mha"):
        assert line in out


# --- Llama 4: chunked layers (every layer but each 4th) -------------------------------------------------------------

def test_llama_4_scout_chunked_layers_in_the_swa_pool(tmp_path):
    # REAL_CONFIGS["llama4_scout"] (Llama4ForConditionalGeneration): 48 layers, 8 KV heads of 128; SGLang's
    # get_hybrid_layer_ids: layers with (i + 1) % 4 != 0 chunked (36), the rest full (12).  TP 4: 2 KV heads a rank,
    # cell 2 x 256 x 48 x 2 = 49,152 B.  rest 0.8 x 78 - 58 = 4.4 GiB -> int(4.4 x 2^30) // 49,152 = 96,119 tokens;
    # split: int(96,119 x 48 / (0.8 x 36 + 12)) = int(113,081.2) = 113,081 full, int(90,464.8) = 90,464 chunked.
    # The published checkpoint is a vision-language model: the default fraction and the weights need SGLang's log.
    rest = 78 * GIB - (1 - 0.8) * 78 * GIB - 58 * GIB
    assert int(rest) // 49_152 == 96_119 and int(96_119 * 48 / 40.8) == 113_081
    argv = ["--config", write(tmp_path, REAL_CONFIGS["llama4_scout"]), "-tp", "4", "--mem-fraction-static", "0.8",
            "--avail-mem-before-load", "78GiB", "--avail-mem-after-load", "20GiB"]
    pool = sglang(argv)
    assert pool["bytes_per_token"] == 49_152 and pool["profiled_tokens"] == 96_119
    assert (pool["swa"]["full_layers"], pool["swa"]["swa_layers"]) == (12, 36)
    assert (pool["swa"]["full_layer_tokens"], pool["swa"]["swa_layer_tokens"]) == (113_081, 90_464)
    assert pool["swa"]["architecture"] == "Llama4ForConditionalGeneration"
    err = refused(argv[:4] + ["--infer", "--engine", "sglang", "--gpu-memory", "80GiB"])
    assert "vision" in err and "--mem-fraction-static" in err


# --- sliding layers SGLang keeps in the one pool --------------------------------------------------------------------

def test_gemma_2_keeps_every_layer_at_full_length():
    # server_args.py: "Disable hybrid SWA memory for Gemma2ForCausalLM as it is not yet supported"; the cell is every
    # layer's: 42 x 8 KV heads x (256 + 256) x 2 = 344,064 B (Gemma-2-9B).  40 GiB free after the weights less
    # (1 - 0.9) x 60 GiB = 34 GiB -> 34 x 2^30 // 344,064 = 106,105 tokens
    assert 34 * GIB // 344_064 == 106_105
    argv = ["-p", "gemma-2-9b", "--infer", "--engine", "sglang", "--mem-fraction-static", "0.9",
            "--avail-mem-before-load", "60GiB", "--avail-mem-after-load", "40GiB", "--json"]
    status, out, err = call_main(mem, argv)
    assert status == 0, err
    result = json.loads(out)
    pool = result["engine"]
    assert pool["swa"] is None and pool["bytes_per_token"] == 344_064
    assert pool["max_total_num_tokens"] == 106_105
    assert any("no SWA pool for Gemma2ForCausalLM" in line for line in result["assumptions"])


def test_gemma_3_in_one_pool_needs_the_log_for_its_vision_tower(tmp_path):
    # google/gemma-3-27b-it (REAL_CONFIGS["gemma3_27b"]): 62 layers x 16 KV heads x (128 + 128) x 2 = 507,904 B, all
    # layers full length (server_args.py disables the SWA pool for Gemma3ForConditionalGeneration)
    argv = ["--config", write(tmp_path, REAL_CONFIGS["gemma3_27b"])]
    pool = sglang(argv + ["--mem-fraction-static", "0.85", "--avail-mem-before-load", "78GiB",
                          "--avail-mem-after-load", "25GiB"])
    assert pool["swa"] is None and pool["bytes_per_token"] == 62 * 16 * 256 * 2 == 507_904
    assert "vision" in refused(argv + ["--infer", "--engine", "sglang", "--gpu-memory", "80GiB"])


def test_all_sliding_mistral_is_one_pool():
    # Mistral-7B-v0.1's config slides every layer (4096); SGLang's MistralForCausalLM keeps the whole context:
    # 32 x 8 x 256 x 2 = 131,072 B per token
    pool = sglang(["-p", "mistral-7b", "--mem-fraction-static", "0.9", "--avail-mem-before-load", "23GiB",
                   "--avail-mem-after-load", "9GiB"])
    assert pool["swa"] is None and pool["bytes_per_token"] == 131_072


# --- what is not modelled, one line each ----------------------------------------------------------------------------

@pytest.mark.parametrize("argv, names", [
    # a sliding model SGLang's pool choice is not modelled for (custom flags carry no architecture)
    (["-l", "4", "-hs", "256", "-a", "4", "-v", "1000", "--sliding-window", "128", "--layer-types",
      "sliding,full,sliding,full", "--infer", "--engine", "sglang", "--gpu-memory", "24GiB"], "model_type 'custom'"),
    (["-p", "gpt-oss-20b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--swa-full-tokens-ratio", "0"],
     "--swa-full-tokens-ratio"),
    (["-p", "gpt-oss-20b", "--infer", "--engine", "sglang", "--gpu-memory", "80GiB", "--swa-full-tokens-ratio",
      "1.5"], "--swa-full-tokens-ratio"),
    (["-p", "gpt-oss-20b", "--infer", "--engine", "vllm", "--gpu-memory", "80GiB", "--swa-full-tokens-ratio", "0.5"],
     "--swa-full-tokens-ratio is for --engine sglang"),
    (["-p", "gpt-oss-20b", "--infer", "--gpu-memory", "80GiB", "--disable-hybrid-swa-memory"],
     "--disable-hybrid-swa-memory is for --engine sglang"),
])
def test_what_the_swa_planner_does_not_model_is_one_line(argv, names):
    assert names in refused(argv)


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

import math  # noqa: E402

SWA_TOKENS = st.sampled_from([
    "--engine", "sglang", "--gpu-memory", "80GiB", "--mem-fraction-static", "0.9", "--swa-full-tokens-ratio", "0.5",
    "1", "0", "-1", "nan", "inf", "1e-300", "--disable-hybrid-swa-memory", "--page-size", "64", "--max-total-tokens",
    "16", "--avail-mem-before-load", "70GiB", "--avail-mem-after-load", "10GiB", "--context-length", "131072",
    "--batch-size", "400", "--max-context", "--max-batch-size", "-tp", "8", "--preset", "gpt-oss-120b",
    "gpt-oss-20b", "llama-4-scout", "gemma-3-27b", "mistral-7b", "olmo-3-7b", "--kv-cache-dtype", "fp8", ""])


@settings(max_examples=60, deadline=None)
@given(st.lists(SWA_TOKENS, max_size=12))
def test_hostile_swa_argv(argv):
    status, out, err = call_main(mem, ["--infer"] + argv + ["--json"])
    assert_clean_outcome(status, out, err, argv)  # JSON of finite, non-negative numbers, or one line


def test_mimo_v2_flash_llama_cpp_caches_each_layers_own_heads(tmp_path):
    # llama.cpp's converter writes MiMo-V2-Flash's KV heads per layer (conversion/mimo.py set_gguf_parameters:
    # head_count_kv = swa_num_key_value_heads on a sliding layer, num_key_value_heads on a full one, with the
    # sliding_window_pattern beside it; mimo2.cpp sizes each layer's K and V from them, llama-hparams n_embd_k_gqa(il)).
    # By hand (REAL_CONFIGS["mimo_v2_flash"]: 9 full layers of 4 KV heads, 39 sliding of 8; head_dim 192, v_head_dim
    # 128; f16, -c 8192 -fa on): the non-SWA cache 9 x 8192 x 4 x (192 + 128) x 2 B = 180 MiB; the SWA cache
    # pad256(128 + 512) = 768 cells x 39 x 8 x (192 + 128) x 2 B = 146.25 MiB. Without -fa every V row is as wide as
    # the widest layer's (n_embd_v_gqa_max: 8 x 128), the full layers' too: + 9 x 8192 x 4 x 128 x 2 B = 72 MiB
    path = write(tmp_path, REAL_CONFIGS["mimo_v2_flash"])
    status, out, err = call_main(mem, ["--config", path, "--infer", "--engine", "llama.cpp", "-c", "8192", "--json"])
    assert status == 0, err
    full, swa = json.loads(out)["engine"]["kv"]["caches"]
    assert (full["layers"], swa["layers"], swa["cells"]) == (9, 39, 768)
    assert full["bytes"] == 9 * 8192 * 4 * (192 + 128) * 2 and swa["bytes"] == 39 * 768 * 8 * (192 + 128) * 2
    status, out, err = call_main(mem, ["--config", path, "--infer", "--engine", "llama.cpp", "-c", "8192", "-fa", "off",
                                       "--json"])
    assert status == 0, err
    no_fa, _ = json.loads(out)["engine"]["kv"]["caches"]
    assert no_fa["bytes"] - full["bytes"] == 9 * 8192 * 4 * 128 * 2
