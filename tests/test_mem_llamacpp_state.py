"""calc_transformer_mem.py --infer --engine llama.cpp for recurrent / hybrid models (llama_memory_recurrent beside the
attention layers' llama_kv_cache) and for MLA caches (llama.cpp's deepseek2 architecture), against published
llama.cpp load logs and, where no log was found, against hand derivations from llama.cpp's code written out here.

Exactness: every KV and RS size below is asserted to the byte where a derivation gives bytes, and to the two decimals
llama.cpp prints ("%7.2f MiB") where a log gives the line: issue 13's "llama.cpp buffer sizes within 1%; KV bytes
exact" is met with 0 % error in every case.

The formulas the derivations use (llama.cpp src/llama-hparams.cpp):
    n_embd_r() = (ssm_d_conv - 1) * (ssm_d_inner + 2 * ssm_n_group * ssm_d_state)   # the conv state, per cell
                 LFM2: n_embd * (shortconv.l_cache - 1)
    n_embd_s() = ssm_d_state * ssm_d_inner                                          # the recurrent state, per cell
and src/llama-memory-recurrent.cpp: per recurrent layer ggml_new_tensor_2d(type_r = f32, n_embd_r, mem_size) and the
same for S, with mem_size = max(1, n_seq_max) (llama-model.cpp create_memory); its summary line prints n_layer (every
layer of the model, recurrent or not).
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main, load_script, one_line_refusal, write_config

mem = load_script("calc_transformer_mem")
MIB = 2**20


def mib2(n):
    """llama.cpp's '%.2f MiB'."""
    return f"{n / MIB:.2f}"


write = write_config


def real_config(name):
    from test_params_torch import REAL_CONFIGS  # each cited, and checked against PyTorch, there
    return REAL_CONFIGS[name]


def llamacpp(argv):
    status, out, err = call_main(mem, argv + ["--infer", "--engine", "llama.cpp", "--json"])
    assert status == 0, err
    return json.loads(out)["engine"]


def refused(argv):
    return one_line_refusal(mem, argv + ["--infer", "--engine", "llama.cpp"])


# --- gated delta-nets (qwen35 / qwen3next) -------------------------------------------------------------------------
def test_qwen3_6_27b_mtp_server_kv_and_recurrent_state_as_logged(tmp_path):
    # A llama-server load log of unsloth/Qwen3.6-27B-MTP-GGUF (Qwen3.6-27B-UD-Q4_K_XL.gguf), 2026-05-14, stored in a
    # public repository file (search library index id 57135105231; the repository's name was not returned):
    #   llama_context: n_seq_max     = 4
    #   llama_context: n_ctx         = 131072
    #   llama_context: flash_attn    = enabled
    #   llama_context: kv_unified    = true
    #   llama_kv_cache: size = 4352.00 MiB (131072 cells,  16 layers,  4/1 seqs), K (q8_0): 2176.00 MiB,
    #     V (q8_0): 2176.00 MiB
    #   llama_memory_recurrent:      CUDA0 RS buffer size =   598.50 MiB
    #   llama_memory_recurrent: size =  598.50 MiB (     4 cells,  65 layers,  4 seqs), R (f32):   22.50 MiB,
    #     S (f32):  576.00 MiB
    # i.e. llama-server -c 131072 -np 4 (auto: unified) -ctk q8_0 -ctv q8_0 -fa on.  The model is Qwen/Qwen3.6-27B's
    # config.json (REAL_CONFIGS["qwen3_5"]).  The log's "65 layers" counts the GGUF's MTP block (nextn_predict_layers
    # 1), which holds no state (the recurrent filter skips it) and no K/V here; the block reads the 64 decoder layers.
    # The MTP draft context's own cache (272.00 MiB, 1 layer) is a second context, not modelled.
    res = llamacpp(["--config", write(tmp_path, real_config("qwen3_5")), "-c", "131072", "-np", "4", "--kv-unified",
                    "-ctk", "q8_0", "-ctv", "q8_0", "-fa", "on"])
    (kv,) = res["kv"]["caches"]
    # by hand: 16 attention layers (every 4th of 64) x 4 KV heads x 256 = 1024 values = 32 q8_0 blocks of 34 B =
    # 1088 B per row; K and V; 131072 cells in one stream
    assert kv["bytes"] == 16 * 131072 * 1088 * 2
    assert (kv["cells"], kv["layers"], kv["streams"]) == (131072, 16, 1)
    assert (mib2(kv["bytes"]), mib2(kv["k_bytes"]), mib2(kv["v_bytes"])) == ("4352.00", "2176.00", "2176.00")
    rs = res["recurrent"]
    # by hand: qwen35.ssm.conv_kernel 4, inner_size 6144 (48 value heads x 128), group_count 16 (key heads),
    # state_size 128 (key head width): n_embd_r = 3 x (6144 + 2 x 16 x 128) = 30,720; n_embd_s = 128 x 6144 =
    # 786,432; 48 delta-net layers, 4 cells, 4 B each
    assert (rs["n_embd_r"], rs["n_embd_s"], rs["recurrent_layers"], rs["cells"]) == (30720, 786432, 48, 4)
    assert rs["r_bytes"] == 4 * 30720 * 4 * 48 and rs["s_bytes"] == 4 * 786432 * 4 * 48
    assert (mib2(rs["bytes"]), mib2(rs["r_bytes"]), mib2(rs["s_bytes"])) == ("598.50", "22.50", "576.00")
    assert rs["gpu_bytes"] == rs["bytes"]  # "CUDA0 RS buffer size = 598.50 MiB": every layer offloaded


def test_qwen3_6_27b_host_model_buffer_is_the_q4_k_embedding(tmp_path):
    # The same log: "load_tensors:   CPU_Mapped model buffer size =   682.03 MiB" beside "CUDA0 model buffer size =
    # 16386.94 MiB" (offloaded 66/66 layers).  llama.cpp keeps the token embedding on the host; the UD-Q4_K_XL file
    # stores it as q4_K: 248,320 x 5,120 values / 256 x 144 B = 715,161,600 B = 682.03 MiB, equal.  (The GPU buffer
    # mixes tensor types and holds the MTP block; it is not compared.)
    assert 248320 * 5120 // 256 * 144 == 715161600
    res = llamacpp(["--config", write(tmp_path, real_config("qwen3_5")), "-c", "131072", "-np", "4", "--kv-unified",
                    "-ctk", "q8_0", "-ctv", "q8_0", "--gguf-type", "q4_k"])
    assert res["model_buffers"]["host_bytes"] == 715161600 and mib2(res["model_buffers"]["host_bytes"]) == "682.03"


@pytest.mark.parametrize("seqs, size, r, s, url", [
    # ggml-org/llama.cpp PR #23792 ("TP: quantized KV cache support", Stoney49th's logs of a qwen35 GGUF with
    # ssm.group_count 16, time_step_rank 48, inner_size 6144, state_size 128, conv_kernel 4 -- the 27B's widths):
    #   llama_memory_recurrent: size =  448.88 MiB (     3 cells,  65 layers,  3 seqs  0 rs_seq), R (f32):   16.88 MiB,
    #     S (f32):  432.00 MiB
    #   llama_memory_recurrent: size =  299.25 MiB (     2 cells,  64 layers,  2 seqs  0 rs_seq), R (f32):   11.25 MiB,
    #     S (f32):  288.00 MiB
    (3, "448.88", "16.88", "432.00", "https://github.com/ggml-org/llama.cpp/pull/23792"),
    (2, "299.25", "11.25", "288.00", "https://github.com/ggml-org/llama.cpp/pull/23792"),
    # a llama-server log on Vulkan (2026-03-23, @gaperton_tech; public repository file, index id 52672968312):
    #   llama_memory_recurrent:    Vulkan0 RS buffer size =   149.62 MiB
    #   llama_memory_recurrent: size =  149.62 MiB (     1 cells,  64 layers,  1 seqs), R (f32):    5.62 MiB,
    #     S (f32):  144.00 MiB
    (1, "149.62", "5.62", "144.00", "index id 52672968312"),
])
def test_qwen3_5_27b_state_grows_with_sequences_not_context(seqs, size, r, s, url):
    base = ["-p", "qwen3.5-27b", "-np", str(seqs)] + (["--kv-unified"] if seqs > 1 else [])
    short = llamacpp(base + ["-c", "4096"])["recurrent"]
    assert (mib2(short["bytes"]), mib2(short["r_bytes"]), mib2(short["s_bytes"])) == (size, r, s), url
    assert short["cells"] == seqs and short["n_layer"] == 64
    # the state does not depend on the context: one cell per sequence whatever -c is
    assert llamacpp(base + ["-c", "262144"])["recurrent"]["bytes"] == short["bytes"]


def test_qwen3_next_80b_by_hand():
    # No published load log with its recurrent line was found.  llama.cpp's print_info of a Qwen3-Next-80B-A3B GGUF
    # (lmstudio-ai/lmstudio-bug-tracker issue #1266; the same keys in ggml-org/llama.cpp PR #16095):
    #   n_layer 48, n_head_kv 2, n_embd_head_k 256, ssm_d_conv 4, ssm_d_inner 4096, ssm_d_state 128, ssm_n_group 16
    # by hand: n_embd_r = 3 x (4096 + 2 x 16 x 128) = 24,576; n_embd_s = 128 x 4096 = 524,288 f32 per cell and layer;
    # 36 delta-net layers (3 of every 4): R = 36 x 24,576 x 4 B = 3.375 MiB, S = 36 x 2 MiB = 72 MiB -> "75.38 MiB";
    # attention: 12 layers x 2 KV heads x 256 x 2 B x (K, V) x 16384 cells = 384 MiB
    res = llamacpp(["-p", "qwen3-next-80b-a3b", "-c", "16384"])
    rs = res["recurrent"]
    assert (rs["n_embd_r"], rs["n_embd_s"], rs["recurrent_layers"]) == (24576, 524288, 36)
    assert rs["bytes"] == 36 * (24576 + 524288) * 4
    assert (mib2(rs["bytes"]), mib2(rs["r_bytes"]), mib2(rs["s_bytes"])) == ("75.38", "3.38", "72.00")
    (kv,) = res["kv"]["caches"]
    assert kv["layers"] == 12 and kv["bytes"] == 12 * 2 * 256 * 2 * 2 * 16384


# --- LFM2's short convolutions -------------------------------------------------------------------------------------
def test_lfm2_1_2b_as_logged(tmp_path):
    # A llama.cpp load log of LFM2.5-Audio-1.5B's language model (GGUF arch lfm2, general.base_model "LFM2 1.2B":
    # block_count 16, embedding_length 2048, head_count_kv [0, 0, 8, 0, 0, 8, 0, 0, 8, 0, 8, 0, 8, 0, 8, 0],
    # shortconv.l_cache 3), -c 4096, CPU, in a public repository file ("2026-06-17 LFM2.5 Audio Smoke Test", index id
    # 62876895581):
    #   llama_kv_cache: size =   48.00 MiB (  4096 cells,   6 layers,  1/1 seqs), K (f16):   24.00 MiB, V (f16):
    #     24.00 MiB
    #   llama_memory_recurrent:        CPU RS buffer size =     0.16 MiB
    #   llama_memory_recurrent: size =    0.16 MiB (     1 cells,  16 layers,  1 seqs), R (f32):    0.16 MiB,
    #     S (f32):    0.00 MiB
    # The same KV line, on CUDA, in ggml-org/llama.cpp PR #18641 ("model : LFM2.5-Audio-1.5B", elfarolab, n_ctx 4096):
    #   llama_kv_cache:      CUDA0 KV buffer size =    48.00 MiB
    # The block's model: LiquidAI/LFM2-1.2B's config.json (REAL_CONFIGS["lfm2"], attention on layers 2, 5, 8, 10, 12,
    # 14).  -ngl 0 -nkvo: the CPU run (every buffer on the host).
    res = llamacpp(["--config", write(tmp_path, real_config("lfm2")), "-c", "4096", "-ngl", "0", "-nkvo"])
    (kv,) = res["kv"]["caches"]
    assert kv["bytes"] == 6 * 8 * 64 * 2 * 2 * 4096  # by hand: 6 layers x 512 values x f16 x (K, V) x cells
    assert (kv["layers"], mib2(kv["bytes"]), mib2(kv["k_bytes"])) == (6, "48.00", "24.00")
    rs = res["recurrent"]
    # by hand: n_embd_r = 2048 x (3 - 1) = 4096 f32; no S; 10 convolution layers, one cell
    assert (rs["n_embd_r"], rs["n_embd_s"], rs["recurrent_layers"]) == (4096, 0, 10)
    assert rs["bytes"] == 10 * 4096 * 4 == 163840
    assert (mib2(rs["bytes"]), mib2(rs["r_bytes"]), mib2(rs["s_bytes"]), rs["n_layer"]) == ("0.16", "0.16", "0.00",
                                                                                            16)
    assert rs["gpu_bytes"] == 0 and res["gpu_bytes"] == 0


def test_recurrent_state_follows_the_offloaded_layers(tmp_path):
    # llama-memory-recurrent.cpp: each layer's R and S live on model.dev_layer(il) when offload (the -nkvo switch
    # off), on the CPU otherwise. -ngl 8 of LFM2's 16 layers offloads layers 8..15, whose convolution layers are 9,
    # 11, 13 and 15: 4 x 4096 x 4 B on the GPU, the other 6 on the host
    cfg = write(tmp_path, real_config("lfm2"))
    rs = llamacpp(["--config", cfg, "-c", "4096", "-ngl", "8"])["recurrent"]
    assert rs["gpu_bytes"] == 4 * 4096 * 4 and rs["bytes"] == 10 * 4096 * 4
    assert llamacpp(["--config", cfg, "-c", "4096", "-nkvo"])["recurrent"]["gpu_bytes"] == 0
    full = llamacpp(["--config", cfg, "-c", "4096"])
    # the GPU total carries the state: model + KV + RS + compute
    assert full["gpu_bytes"] == (full["model_buffers"]["gpu_bytes"] + full["kv"]["gpu_bytes"]
                                 + full["recurrent"]["gpu_bytes"] + full["compute_buffer_bytes"])


# --- Mamba-2 and Mamba-1 hybrids: no published recurrent line found; by hand ---------------------------------------
@pytest.mark.parametrize("name, r_width, s_width, recurrent, attention, kv_width", [
    # Nemotron-H-8B (nemotron_h; llama.cpp filter_attn / filter_recr keep the 4 attention and 24 Mamba-2 layers,
    # the 24 MLP-only layers hold neither): H 128 x P 64 = 8192 inner, 8 groups, state 128, conv 4:
    # R = 3 x (8192 + 2 x 8 x 128) = 30,720; S = 128 x 8192 = 1,048,576; 8 KV heads x 128
    ("nemotron_h", 30720, 1048576, 24, 4, 8 * 128),
    # NVIDIA-Nemotron-3-Nano-30B-A3B (GGUF keys in lmstudio-ai/lmstudio-bug-tracker issue #1365: ssm.conv_kernel 4,
    # state_size 128, group_count 8, inner_size 4096): R = 3 x (4096 + 2048) = 18,432; S = 128 x 4096 = 524,288;
    # 23 Mamba-2, 6 attention layers of 2 KV heads x 128
    ("nemotron_h_moe", 18432, 524288, 23, 6, 2 * 128),
    # Bamba-9B (llama.cpp arch granitehybrid): 128 heads x 64 = 8192, 1 group, state 128, conv 4:
    # R = 3 x (8192 + 256) = 25,344; S = 1,048,576; 29 Mamba-2 layers, attention on 9, 18, 27
    ("bamba", 25344, 1048576, 29, 3, 8 * 128),
    # Falcon-H1-0.5B (falcon-h1: llama.cpp keeps a KV row AND a state for every layer, filter_attn and filter_recr
    # both true): mamba_d_ssm 1536 (24 x 64), 1 group, state 128: R = 3 x (1536 + 256) = 5,376; S = 196,608
    ("falcon_h1", 5376, 196608, 36, 36, 2 * 64),
    # AI21-Jamba-1.5-Mini (jamba, Mamba-1: no groups): inner 2 x 4096 = 8192, state 16, conv 4:
    # R = 3 x 8192 = 24,576; S = 16 x 8192 = 131,072; attention every 8th layer from 4
    ("jamba", 24576, 131072, 28, 4, 8 * 128),
])
def test_mamba_hybrids_by_hand(tmp_path, name, r_width, s_width, recurrent, attention, kv_width):
    res = llamacpp(["--config", write(tmp_path, real_config(name)), "-c", "8192", "-np", "2", "--kv-unified"])
    rs = res["recurrent"]
    assert (rs["n_embd_r"], rs["n_embd_s"], rs["recurrent_layers"], rs["cells"]) == (r_width, s_width, recurrent, 2)
    assert rs["bytes"] == recurrent * (r_width + s_width) * 4 * 2
    (kv,) = res["kv"]["caches"]
    assert kv["layers"] == attention and kv["bytes"] == attention * kv_width * 2 * 2 * 8192


# --- MLA (deepseek2) -----------------------------------------------------------------------------------------------
def test_deepseek_v3_mla_k_row_as_logged_and_no_v_row():
    # Mainline llama.cpp, DeepSeek-V3-0324-UD-Q2_K_XL (a GGUF converted after PR #12801: key_length 576,
    # value_length 512, head_count_kv 1), quoted by Panchovix in ikawrakow/ik_llama.cpp PR #394 (2025-05-10),
    # https://github.com/ikawrakow/ik_llama.cpp/pull/394:
    #   ./llama-server -m DeepSeek-V3-0324-UD-Q2_K_XL-merged.gguf -c 16384 --no-mmap --no-warmup -v -ngl 99
    #     --override-tensor ... -fa -mg 0
    #   llama_kv_cache_unified: kv_size = 16384, type_k = 'f16', type_v = 'f16', n_layer = 61, can_shift = 1, ...
    #   llama_kv_cache_unified: KV self size  = 2074.00 MiB, K (f16): 1098.00 MiB, V (f16):  976.00 MiB
    # K: 61 layers x 16384 cells x (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 B = 1098.00 MiB, exact.
    # V: that build (May 2025) also kept a V row of kv_lora_rank: 61 x 16384 x 512 x 2 B = 976.00 MiB.  Since
    # ggml-org/llama.cpp PR #19067 ("kv-cache : support V-less cache", ggerganov, merged 2026-01-24: "useful for MLA
    # models such as DeepSeek and GLM 4.7 Flash where we store combined latent data represented by the K cache")
    # mainline allocates no V for MLA: the model prints V 0.00 MiB (see the GLM-5 log below).
    assert 61 * 16384 * 512 * 2 == 976 * MIB  # the old build's V row, by hand
    for preset in ("deepseek-v3", "kimi-k2"):  # Kimi-K2: the same attention (61 layers, 512 + 64)
        (kv,) = llamacpp(["-p", preset, "-c", "16384", "-fa", "on"])["kv"]["caches"]
        assert kv["k_bytes"] == 61 * 16384 * 576 * 2
        assert (mib2(kv["k_bytes"]), kv["v_bytes"], kv["layers"], kv["cells"]) == ("1098.00", 0, 61, 16384)


def test_mla_row_width_matches_a_v_less_mainline_log():
    # A current mainline log of GLM-5.x (deepseek2-style MLA, n_embd_head_k_all = 576) in a public repository file
    # (search library index id 61313070182, 2026-08-19):
    #   llama_kv_cache_dsa: creating main KV cache, size = 524288 cells
    #   llama_kv_cache: size = 44928.00 MiB (524288 cells,  78 layers,  1/1 seqs), K (f16): 44928.00 MiB, V (f16):
    #     0.00 MiB
    # per layer and cell: 44928 MiB / 78 / 524288 = 1152 B = 576 f16 values, and no V.  GLM-5's DSA indexer cache
    # (llama_kv_cache_dsa's second cache) is not modelled, so GLM-5 itself is refused; the main cache's row is the
    # same as DeepSeek-V3's, checked here per layer and cell.
    assert 44928 * MIB // (78 * 524288) == 1152
    (kv,) = llamacpp(["-p", "deepseek-v3", "-c", "524288"])["kv"]["caches"]
    assert kv["bytes"] // (kv["layers"] * kv["cells"]) == 1152 and kv["v_bytes"] == 0


def test_mla_q8_0_k_row():
    # -ctk q8_0: 576 values = 18 blocks of 34 B = 612 B per layer and cell (ggml_row_size), DeepSeek-V2-Lite-like
    # DeepSeek-V2 (60 layers, 512 + 64)
    (kv,) = llamacpp(["-p", "deepseek-v2", "-c", "4096", "-ctk", "q8_0"])["kv"]["caches"]
    assert kv["bytes"] == 60 * 4096 * 612 and kv["v_bytes"] == 0


# --- what is not modelled: one line each ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv, names", [
    (["-p", "deepseek-v3", "-fa", "off"], "MLA cache without flash attention"),
    (["-p", "glm-5"], "indexer"),
    (["-p", "deepseek-v3.2"], "indexer"),
    (["-p", "qwen3.5-27b", "-np", "2"], "--kv-unified"),
    (["-p", "qwen3-next-80b-a3b", "-np", "4", "-c", "16384"], "-np > 1"),
])
def test_refusals_are_one_line(argv, names):
    assert names in refused(argv)


def test_text_output_speaks_llamacpps_words():
    status, out, err = call_main(mem, ["-p", "qwen3.5-27b", "--infer", "--engine", "llama.cpp", "-c", "4096"])
    assert status == 0, err
    assert "llama_memory_recurrent: size =  149.62 MiB (     1 cells,  64 layers,  1 seqs), R (f32):    5.62 MiB, " \
           "S (f32):  144.00 MiB" in out
    assert "GPU RS buffer size =   149.62 MiB" in out
    status, out, err = call_main(mem, ["-p", "kimi-k2", "--infer", "--engine", "llama.cpp", "-c", "16384"])
    assert status == 0, err
    # ggml's type names, as the GLM-5 log above prints them ("K (f16): 44928.00 MiB, V (f16): 0.00 MiB")
    assert "K (f16):  1098.00 MiB, V (f16):     0.00 MiB" in out
