"""calc_transformer_mem.py --infer --engine vllm for models with linear-attention / SSM layers (vLLM's state pages).

vLLM V1 gives every gated delta-net / Mamba / short-conv layer a MambaSpec whose page is one request's whole state
(vllm/v1/kv_cache_interface.py), raises the attention block size until an attention page holds a state page and pads
the state page to it (vllm/model_executor/models/config.py HybridAttentionMambaModelConfig.verify_and_update_config:
block_size = 16 x cdiv(state page, 16 x attention bytes per token)), groups the layers
(vllm/v1/core/kv_cache_utils.py _get_kv_cache_groups_uniform_page_size), and logs
    num_blocks = available // page // group_size                               (get_kv_cache_config_from_groups)
    concurrency = num_blocks / (attention + state pages of one request)   (get_max_concurrency_for_kv_cache_config)
    "GPU KV cache size" = int(concurrency x max_model_len)                      (_report_kv_cache_config, v0.24)
A request's state pages per state group: 1 + S without prefix caching, 2 + S with it ('align'), S the speculative
tokens (MambaSpec.max_memory_usage_bytes); the conv state keeps kernel - 1 + S columns
(vllm/model_executor/layers/mamba/mamba_utils.py MambaStateShapeCalculator).

The logs below (vLLM v0.24.0, club-3090 bench reports) state the memory they started from ("Available KV cache
memory", rounded to 0.01 GiB); given that memory, the tokens and the concurrency are asserted EXACTLY: every step is
integer arithmetic on the published shapes, and the 0.01 GiB rounding of the memory moves num_blocks by less than one
here (checked by hand in each case), so nothing is left for a tolerance to absorb.  Each page is derived by hand.
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main, load_script, one_line_refusal, write_config

mem = load_script("calc_transformer_mem")
GIB = 2**30


def cdiv(a, b):
    return -(-a // b)


def vllm(argv):
    status, out, err = call_main(mem, argv + ["--infer", "--engine", "vllm", "--json"])
    assert status == 0, err
    return json.loads(out)["engine"]


def refused(argv):
    return one_line_refusal(mem, argv)


write = write_config


# Qwen3.6-35B-A3B's text model: the fields of its config.json that decide a page, as a stored public test copies them
# from the published file (the search library's code corpus, id 60335287686: "the fields of
# ~/.flm/models/Qwen3.6-35B-A3B-NPU2/config.json the derivation reads"): 40 layers, full attention every 4th (10),
# 2 KV heads of 256, delta-nets of 16 key heads / 32 value heads of 128, conv kernel 4.  That list leaves out
# mamba_ssm_dtype, so the tests give vLLM's resolved value as --mamba-ssm-cache-dtype float32: the published Qwen3.6
# files carry "mamba_ssm_dtype": "float32" (tests/test_params_torch.py REAL_CONFIGS["qwen3_5"], Qwen3.6-27B), and a
# bf16 state would give other counts (test below).
QWEN36_35B_A3B = {"model_type": "qwen3_5_moe", "text_config": {
    "model_type": "qwen3_5_moe_text", "hidden_size": 2048, "num_hidden_layers": 40, "full_attention_interval": 4,
    "head_dim": 256, "num_attention_heads": 16, "num_key_value_heads": 2, "attn_output_gate": True,
    "rope_parameters": {"partial_rotary_factor": 0.25, "rope_theta": 10000000, "rope_type": "default"},
    "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128, "linear_num_key_heads": 16,
    "linear_num_value_heads": 32, "linear_value_head_dim": 128, "num_experts": 256, "num_experts_per_tok": 8,
    "moe_intermediate_size": 512, "shared_expert_intermediate_size": 512, "rms_norm_eps": 1e-06,
    "vocab_size": 248320}}

# By hand, one TP rank (TP 1), --kv-cache-dtype fp8, bf16 model dtype:
#   attention: 2 KV heads x 256 x (K, V) x 1 B = 1,024 B a token a layer
#   delta-net state: conv (2 x 16 x 128 + 32 x 128 = 8,192 channels) x (4 - 1) columns x 2 B = 49,152 B
#                    temporal 32 x 128 x 128 x 4 B (float32) = 2,097,152 B;  page 2,146,304 B
#   block_size = 16 x cdiv(2,146,304, 16 x 1,024) = 16 x 131 = 2,096 tokens; attention page 2,096 x 1,024 = 2,146,304 B
#   (= the state page: no padding)
#   10 attention + 30 delta-net layers: group_size 10 (30 >= 1.5 x 10), 1 + 3 groups
#   one request of 131,072 tokens: cdiv(131,072, 2,096) = 63 attention pages + 3 groups x 2 state pages (align) = 69
Q35_PAGE = 2 * 16 * 128 + 32 * 128
Q35_PAGE = Q35_PAGE * 3 * 2 + 32 * 128 * 128 * 4
Q35_BLOCK = 16 * cdiv(Q35_PAGE, 16 * 2 * 256 * 2 * 1)


@pytest.mark.parametrize("available, tokens, concurrency, url", [
    # noonghunna/club-3090 issue #652 ("[bench] qwen3.6-35b-a3b 5090", guybrush01), vLLM v0.24.0:
    #   non-default args: {... 'dtype': 'bfloat16', 'max_model_len': 131072, 'quantization': 'modelopt',
    #   'kv_cache_dtype': 'fp8', 'enable_prefix_caching': True, 'max_num_batched_tokens': 8192, 'max_num_seqs': 1,
    #   'enable_chunked_prefill': True}
    #   [gpu_worker.py:508] Available KV cache memory: 6.01 GiB
    #   [kv_cache_utils.py:2146] GPU KV cache size: 569,878 tokens
    #   [kv_cache_utils.py:2147] Maximum concurrency for 131,072 tokens per request: 4.35x
    ("6.01GiB", 569878, "4.35", "https://github.com/noonghunna/club-3090/issues/652"),
    # noonghunna/club-3090 issue #612, the same model and flags (NVFP4, fp8 KV, 131,072-token requests):
    #   Available KV cache memory: 5.98 GiB / GPU KV cache size: 567,978 tokens / Maximum concurrency ...: 4.33x
    ("5.98GiB", 567978, "4.33", "https://github.com/noonghunna/club-3090/issues/612"),
])
def test_qwen3_6_35b_a3b_as_vllm_0_24_logged_it(tmp_path, available, tokens, concurrency, url):
    pool = vllm(["--config", write(tmp_path, QWEN36_35B_A3B), "--kv-cache-dtype", "fp8", "--max-model-len", "131072",
                 "--kv-cache-memory-bytes", available, "--mamba-cache-mode", "align",
                 "--mamba-ssm-cache-dtype", "float32", "--max-num-batched-tokens", "8192"])
    assert Q35_PAGE == 2146304 and Q35_BLOCK == 2096
    assert pool["state"]["page_bytes_unpadded"] == Q35_PAGE
    assert pool["block_size"] == Q35_BLOCK and pool["page_bytes"] == Q35_BLOCK * 1024
    assert pool["group_size"] == 10 and len(pool["groups"]) == 4
    # 6.01 GiB // 2,146,304 B // 10 = 300 blocks (5.98 GiB: 299); 6.005 to 6.015 GiB all give 300 (5.975-5.985: 299)
    blocks = int(float(available[:-3]) * GIB) // Q35_PAGE // 10
    assert pool["num_blocks"] == blocks
    assert pool["blocks_per_request"] == cdiv(131072, Q35_BLOCK) + 3 * 2 == 69
    assert pool["kv_tokens"] == blocks * 131072 // 69 == tokens  # exact
    assert f"{pool['max_concurrency']:.2f}" == concurrency


def test_qwen3_6_35b_a3b_with_a_bf16_state_would_log_other_counts(tmp_path):
    # the same log with the state in bf16 (what 'auto' gives a file without mamba_ssm_dtype): temporal 1,048,576 B,
    # page 1,097,728 B = 1,072 tokens of 1,024 B; 6.01 GiB // 1,097,728 // 10 = 587 blocks; a request 123 + 6 pages
    pool = vllm(["--config", write(tmp_path, QWEN36_35B_A3B), "--kv-cache-dtype", "fp8", "--max-model-len", "131072",
                 "--kv-cache-memory-bytes", "6.01GiB", "--mamba-cache-mode", "align"])
    assert pool["state"]["ssm_dtype"] == "bfloat16" and pool["block_size"] == 1072
    assert pool["num_blocks"] == 587 and pool["blocks_per_request"] == 129
    assert pool["kv_tokens"] == 587 * 131072 // 129 != 569878


def test_qwen3_6_27b_tp2_with_mtp_as_vllm_0_24_logged_it(tmp_path):
    # noonghunna/club-3090 PR #594 ("feat: switch dual-max KV from int8_per_token_head to fp8", JesseB-Kit),
    # https://github.com/noonghunna/club-3090/pull/594, vLLM v0.24 (kv_cache_utils.py:2146):
    #   non-default args: {'model_tag': '~/.cache/huggingface/qwen3.6-27b-fp8', ... 'dtype': 'bfloat16',
    #   'max_model_len': 262144, 'quantization': 'fp8', 'tensor_parallel_size': 2, 'kv_cache_dtype': 'fp8',
    #   'enable_prefix_caching': True, 'max_num_batched_tokens': 8192, 'max_num_seqs': 2, 'enable_chunked_prefill':
    #   True, 'specula...   (the stored excerpt is cut there; the same dual profile passes speculative_config
    #   {'method': 'mtp', 'num_speculative_tokens': 3} in club-3090 issues #294 / #295, and its TP-2 log in issue #104
    #   warns "Add 3 padding layers, may waste at most 6.25% KV cache memory": 17 attention layers (16 + the MTP
    #   drafter's one) beside 48 delta-nets, group size 17, 48 = 3 x 17 - 3)
    #   [gpu_worker.py:508] Available KV cache memory: 5.33 GiB
    #   [kv_cache_utils.py:2146] GPU KV cache size: 300,220 tokens
    #   [kv_cache_utils.py:2147] Maximum concurrency for 262,144 tokens per request: 1.15x
    from test_params_torch import REAL_CONFIGS  # Qwen/Qwen3.6-27B's config.json (mamba_ssm_dtype float32, MTP 1)
    pool = vllm(["--config", write(tmp_path, REAL_CONFIGS["qwen3_5"]), "-tp", "2", "--kv-cache-dtype", "fp8",
                 "--max-model-len", "262144", "--kv-cache-memory-bytes", "5.33GiB", "--mamba-cache-mode", "align",
                 "--num-speculative-tokens", "3", "--max-num-batched-tokens", "8192"])
    # by hand, one of 2 ranks: attention 4 / 2 KV heads x 256 x 2 x 1 B = 1,024 B a token a layer;
    # delta-net conv (2 x 16 x 128 + 48 x 128) / 2 = 5,120 channels x (4 - 1 + 3) columns x 2 B = 61,440 B,
    # temporal 48 / 2 x 128 x 128 x 4 B = 1,572,864 B; state page 1,634,304 B
    state = 5120 * 6 * 2 + 24 * 128 * 128 * 4
    block = 16 * cdiv(state, 16 * 1024)  # 16 x 100 = 1,600 tokens; page 1,638,400 B (the state padded by 4,096 B)
    assert (state, block) == (1634304, 1600)
    assert pool["state"]["page_bytes_unpadded"] == state and pool["page_bytes"] == block * 1024
    assert pool["state"]["attention_layers"] == 17 and pool["group_size"] == 17 and len(pool["groups"]) == 4
    blocks = int(5.33 * GIB) // (block * 1024) // 17  # 205 (5.325 to 5.335 GiB: 205 too)
    per_request = cdiv(262144, block) + 3 * (2 + 3)  # 164 attention pages + 3 groups x (2 align + 3 speculative)
    assert (pool["num_blocks"], pool["blocks_per_request"]) == (blocks, per_request) == (205, 179)
    assert pool["kv_tokens"] == 205 * 262144 // 179 == 300220  # exact
    assert f"{pool['max_concurrency']:.2f}" == "1.15"


def test_nemotron_h_8b_pages_by_hand(tmp_path):
    # no published vLLM log of a Mamba-2 hybrid with its memory was found; the page arithmetic is checked by hand.
    # nvidia/Nemotron-H-8B-Base-8K (REAL_CONFIGS["nemotron_h"]): 4 attention layers (8 KV heads of 128), 24 Mamba-2
    # (128 heads of 64, 8 groups, state 128, conv 4), 24 MLP layers (no cache).  vLLM's state dtype for Nemotron-H is
    # float32 when the file names none (NemotronHForCausalLMConfig.DEFAULT_MAMBA_SSM_CACHE_DTYPE)
    from test_params_torch import REAL_CONFIGS
    pool = vllm(["--config", write(tmp_path, REAL_CONFIGS["nemotron_h"]), "--max-model-len", "8192",
                 "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "none"])
    conv = (128 * 64 + 2 * 8 * 128) * (4 - 1) * 2  # 10,240 channels x 3 x bf16 = 61,440 B
    temporal = 128 * 64 * 128 * 4  # 4,194,304 B
    row = 8 * 128 * 2 * 2  # 4,096 B a token a layer (bf16 K and V)
    block = 16 * cdiv(conv + temporal, 16 * row)  # 16 x 65 = 1,040
    assert pool["state"]["ssm_dtype"] == "float32" and pool["state"]["page_bytes_unpadded"] == conv + temporal
    assert (pool["block_size"], pool["page_bytes"]) == (block, block * row) == (1040, 4259840)
    assert pool["group_size"] == 4 and len(pool["groups"]) == 1 + 6  # 24 >= 1.5 x 4: groups of 4 layers
    assert pool["num_blocks"] == 10 * GIB // (block * row) // 4
    assert pool["blocks_per_request"] == cdiv(8192, block) + 6 * 1  # 8 attention pages, 1 state page per group


def test_jamba_and_lfm2_state_pages_by_hand(tmp_path):
    from test_params_torch import REAL_CONFIGS
    # ai21labs Jamba (REAL_CONFIGS["jamba"]): Mamba-1 inner width 2 x 4096 = 8,192, state 16, conv 4, bf16 state
    # ('auto': the model dtype): conv 8,192 x 3 x 2 + temporal 8,192 x 16 x 2 = 49,152 + 262,144 = 311,296 B;
    # attention 8 KV heads x 128 x 2 x 2 = 4,096 B -> block 16 x cdiv(311,296, 65,536) = 80 tokens
    jamba = vllm(["--config", write(tmp_path, REAL_CONFIGS["jamba"]), "--max-model-len", "4096",
                  "--kv-cache-memory-bytes", "4GiB", "--mamba-cache-mode", "none"])
    assert jamba["state"]["page_bytes_unpadded"] == 8192 * 3 * 2 + 8192 * 16 * 2 == 311296
    assert jamba["block_size"] == 80 and jamba["page_bytes"] == 80 * 4096
    # 4 attention (attn_layer_offset 4, period 8) beside 28 Mamba-1 layers: group size 4, 1 + 7 groups
    assert jamba["group_size"] == 4 and len(jamba["groups"]) == 8
    # LiquidAI LFM2 (REAL_CONFIGS["lfm2"]): short convs of hidden 2,048 x (conv_L_cache 3 - 1) x 2 B = 8,192 B;
    # attention 8 KV heads x 64 x 2 x 2 = 2,048 B -> block 16 x cdiv(8,192, 32,768) = 16 tokens, page 32,768 B
    lfm2 = vllm(["--config", write(tmp_path, REAL_CONFIGS["lfm2"], "lfm2.json"), "--max-model-len", "4096",
                 "--kv-cache-memory-bytes", "1GiB", "--mamba-cache-mode", "align"])
    assert lfm2["state"]["page_bytes_unpadded"] == 2048 * 2 * 2 == 8192
    assert (lfm2["block_size"], lfm2["page_bytes"]) == (16, 32768)
    # 6 attention + 10 conv layers: 10 >= 1.5 x 6, so group size 6: 1 attention group + 2 conv groups (2 padding)
    assert lfm2["group_size"] == 6 and len(lfm2["groups"]) == 3
    assert lfm2["blocks_per_request"] == 4096 // 16 + 2 * 2  # align: 2 state pages per conv group


def test_a_user_block_size_above_the_state_page_is_kept(tmp_path):
    pool = vllm(["--config", write(tmp_path, QWEN36_35B_A3B), "--kv-cache-dtype", "fp8", "--max-model-len", "131072",
                 "--kv-cache-memory-bytes", "6GiB", "--mamba-cache-mode", "none", "--mamba-ssm-cache-dtype",
                 "float32", "--block-size", "4096"])
    assert pool["block_size"] == 4096 and pool["page_bytes"] == 4096 * 1024  # the state page padded up to it


@pytest.mark.parametrize("argv, names", [
    (["-p", "qwen3-next-80b-a3b", "--kv-cache-memory-bytes", "10GiB"], "--mamba-cache-mode"),
    (["-p", "qwen3.5-27b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "align"],
     "--mamba-ssm-cache-dtype"),
    (["-p", "qwen3-next-80b-a3b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "all"],
     "--mamba-cache-mode"),
    (["-p", "qwen3-next-80b-a3b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "none",
      "--mamba-ssm-cache-dtype", "int8"], "--mamba-ssm-cache-dtype"),
    (["-p", "qwen3-next-80b-a3b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "none",
      "--num-speculative-tokens", "2"], "--draft-attention-layers"),
    (["-p", "qwen3-next-80b-a3b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "none",
      "--draft-attention-layers", "1"], "--num-speculative-tokens"),
    (["-p", "qwen3-next-80b-a3b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "none", "-tp", "3"],
     "-tp 3"),
    (["-p", "qwen3-next-80b-a3b", "--gpu-memory", "80GiB", "--mamba-cache-mode", "none", "--max-context"],
     "--max-context"),
    (["-p", "llama-3-8b", "--kv-cache-memory-bytes", "10GiB", "--mamba-cache-mode", "none"], "--mamba-cache-mode"),
    (["-p", "llama-3-8b", "--kv-cache-memory-bytes", "10GiB", "--num-speculative-tokens", "2"],
     "--num-speculative-tokens"),
    (["-p", "llama-3-8b", "--mamba-cache-mode", "none"], "--mamba-cache-mode is for --engine vllm"),
])
def test_what_the_hybrid_planner_does_not_model_is_one_line(argv, names):
    engine = [] if "--engine vllm" in names else ["--engine", "vllm"]
    assert names in refused(argv + ["--infer"] + engine)


def test_text_output_names_the_state_pages(tmp_path):
    status, out, err = call_main(mem, ["--config", write(tmp_path, QWEN36_35B_A3B), "--infer", "--engine", "vllm",
                                       "--kv-cache-dtype", "fp8", "--max-model-len", "131072",
                                       "--kv-cache-memory-bytes", "6.01GiB", "--mamba-cache-mode", "align",
                                       "--mamba-ssm-cache-dtype", "float32"])
    assert status == 0, err
    assert "GPU KV cache size: 569,878 tokens" in out
    assert "Maximum concurrency for 131,072 tokens per request: 4.35x" in out
    assert "gated delta-net state: 2,146,304 B a layer" in out
