"""calc_quantization.py: GGUF files of hybrid models (gated delta-net layers beside attention), against llama.cpp.

Qwen3-Next-80B-A3B (the block's preset ``qwen3-next-80b-a3b``, itself checked against the published config.json in
tests/test_params_torch.py): every expected number here is either a published figure (quoted with its source) or
derived by hand below from llama.cpp's code, never from the script:

* tensor names and ggml shapes: ``src/models/qwen3next.cpp`` ``llama_model_qwen3next::load_arch_tensors`` with the
  converter's hyper-parameters (``conversion/qwen.py`` ``Qwen3NextModel.set_gguf_parameters``: ssm.state_size =
  linear_key_head_dim 128, ssm.group_count = linear_num_key_heads 16, ssm.time_step_rank = linear_num_value_heads 32,
  ssm.inner_size = 32 x 128, ssm.conv_kernel 4);
* which tensors the converter writes: ``Qwen3NextModel.modify_tensors`` (in_proj_qkvz split into attn_qkv and
  attn_gate; A_log -> ssm_a; dt_bias -> ssm_dt.bias; conv1d squeezed to 2-D; MTP layers dropped) and the base
  class's always-F32 list (SSM_CONV1D, FFN_GATE_INP, FFN_GATE_INP_SHEXP);
* the types: ``src/llama-quant.cpp`` (tensor_allows_quantization skips "ssm_conv1d", 1-D tensors, norms and routers;
  llama_tensor_get_type_impl: attn_qkv is attention-QKV, i.e. attn_v-like, and counts in n_attention_wv; ffn_down
  of an MoE model takes its layer from the name, n_layer = the block count 48).
"""
from __future__ import annotations

import json

import pytest
from conftest import call_main

GIB = 2**30
PRESET = "qwen3-next-80b-a3b"


def use_more_bits(i, n):  # llama-quant.cpp's lambda, written out again
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def counts(types):
    out = {}
    for ty in types:
        out[ty] = out.get(ty, 0) + 1
    return out


def test_qwen3_next_tensors_are_the_ones_llama_cpp_creates(quant):
    # load_arch_tensors, by hand: n_embd 2048; delta-net key_dim = 128 x 16 = 2048, value_dim = 128 x 32 = 4096,
    # conv_dim = 2 x 2048 + 4096 = 8192, qkv = 8192 rows, gate (z) = 4096, ba_dim = 2 x 32; attention: 16 heads of
    # 256 with the output gate (q is n_embd_head_k x n_head x 2 = 8192 wide), 2 KV heads (512); 512 experts of 512,
    # one shared expert of 512 behind a {n_embd} gate
    experts = {"ffn_gate_inp.weight": (2048, 512), "ffn_gate_exps.weight": (2048, 512, 512),
               "ffn_up_exps.weight": (2048, 512, 512), "ffn_down_exps.weight": (512, 2048, 512),
               "ffn_gate_inp_shexp.weight": (2048,), "ffn_gate_shexp.weight": (2048, 512),
               "ffn_up_shexp.weight": (2048, 512), "ffn_down_shexp.weight": (512, 2048),
               "attn_norm.weight": (2048,), "post_attention_norm.weight": (2048,)}
    delta_net = {"attn_qkv.weight": (2048, 8192), "attn_gate.weight": (2048, 4096), "ssm_conv1d.weight": (4, 8192),
                 "ssm_dt.bias": (32,), "ssm_a": (32,), "ssm_ba.weight": (2048, 64), "ssm_norm.weight": (128,),
                 "ssm_out.weight": (4096, 2048)}
    attention = {"attn_q.weight": (2048, 8192), "attn_k.weight": (2048, 512), "attn_v.weight": (2048, 512),
                 "attn_output.weight": (4096, 2048), "attn_q_norm.weight": (256,), "attn_k_norm.weight": (256,)}
    m = quant.preset_model(PRESET)
    tensors = quant.gguf_tensor_list(m)
    by_layer = {}
    for t in tensors:
        by_layer.setdefault(t.layer, {})[t.name.split(".", 2)[2] if t.layer >= 0 else t.name] = t.ne
    assert by_layer[-1] == {"token_embd.weight": (2048, 151936), "output_norm.weight": (2048,),
                            "output.weight": (2048, 151936)}
    for layer in range(48):  # full attention on every 4th layer (full_attention_interval 4)
        assert by_layer[layer] == {**experts, **(attention if (layer + 1) % 4 == 0 else delta_net)}, layer
    assert len(tensors) == 3 + 12 * 16 + 36 * 18 == 843
    # the parameters are the model's (79,674,391,296: tests/test_params_torch.py, PyTorch-checked)
    assert quant.count_params(tensors) == 79_674_391_296
    # files converted before the split hold one ssm_in {2048, 2 x 2048 + 2 x 4096} per delta-net layer
    # (qwen3next.cpp: "ssm_in is used by legacy GGUF"): 807 tensors
    old = {t.name: t.ne for t in quant.gguf_tensor_list(m, True)}
    assert old["blk.0.ssm_in.weight"] == (2048, 12288) and "blk.0.attn_qkv.weight" not in old
    assert len(old) == 3 + 12 * 16 + 36 * 17 == 807


def test_qwen3_next_q4_k_m_of_december_2025_matches_the_published_file(quant):
    # lmstudio-community/Qwen3-Next-80B-A3B-Instruct-GGUF, Qwen3-Next-80B-A3B-Instruct-Q4_K_M.gguf, as llama.cpp
    # (LM Studio's runtime, 2025-12-02) loads it; log quoted in https://github.com/lmstudio-ai/lmstudio-bug-tracker/
    # issues/1266:
    #   llama_model_loader: loaded meta data with 41 key-value pairs and 807 tensors from ...Q4_K_M.gguf
    #   llama_model_loader: - kv  40:                          general.file_type u32              = 15
    #   llama_model_loader: - type  f32:  313 tensors
    #   llama_model_loader: - type  f16:   48 tensors
    #   llama_model_loader: - type q4_K:  391 tensors
    #   llama_model_loader: - type q6_K:   55 tensors
    #   print_info: file size   = 45.08 GiB (4.86 BPW)
    # print_info's "file size" is the loader's n_bytes (the tensor data, no metadata) and BPW = 8 n_bytes /
    # n_elements (src/llama-model-loader.cpp print_info), each printed with 2 decimals.
    # By hand, the counts: 807 tensors is the one-ssm_in layout (3 + 12 x 16 + 36 x 17).  F32: 2 norms and the
    # router in each of 48 layers (144), q/k norms in 12 (24), ssm_conv1d, ssm_dt, ssm_a, ssm_norm in 36 (144), the
    # output norm (1) = 313; F16: the 48 shared-expert gates, a {2048, 1} tensor that ggml counts 1-D.  Q6_K: the
    # output, attn_v where use_more_bits(i, 12) (i = 0, 3, 6, 9, 10, 11: 6 of the 12 attention layers) and both
    # ffn_down tensors (routed and shared) of the 24 layers with use_more_bits(layer, 48): 1 + 6 + 48 = 55.
    assert sum(use_more_bits(i, 12) for i in range(12)) == 6 and sum(use_more_bits(i, 48) for i in range(48)) == 24
    m = quant.preset_model(PRESET)
    opts = quant.Options(formats=["Q4_K_M"], old_qwen3next=True)
    entry = quant.compute_sizes(m, opts)["formats"][0]
    assert entry["tensor_types"] == {"F32": 313, "F16": 48, "Q4_K": 391, "Q6_K": 55}
    elements = sum(t.numel for t in quant.gguf_tensor_list(m, True))
    assert round(entry["gguf_tensor_bytes"] / GIB, 2) == 45.08
    assert round(8 * entry["gguf_tensor_bytes"] / elements, 2) == 4.86
    # the same from the command line
    status, out, err = call_main(quant, ["--preset", PRESET, "--formats", "Q4_K_M", "--old-qwen3next-gguf",
                                         "--json"])
    assert status == 0, err
    assert json.loads(out)["formats"][0]["tensor_types"] == entry["tensor_types"]


def test_qwen3_next_q4_k_m_and_q8_0_of_todays_converter_by_hand(quant):
    # No published log of a Q4_K_M in today's layout was found; the types and bytes are derived by hand.
    # Quantizable (2-D / 3-D weights that are not norms, routers or ssm_conv1d): token_embd, output; per attention
    # layer attn_q/k/v/output + 6 expert and shared-expert matrices (10); per delta-net layer attn_qkv, attn_gate,
    # ssm_ba, ssm_out + the same 6 (10): 2 + 48 x 10 = 482.  Kept F32: per layer attn_norm, post_attention_norm,
    # ffn_gate_inp, ffn_gate_inp_shexp (4 x 48), q/k norms (2 x 12), ssm_conv1d, ssm_dt, ssm_a, ssm_norm (4 x 36),
    # output_norm: 192 + 24 + 144 + 1 = 361.
    # Q4_K_M: attn_v (12) and attn_qkv (36) are both attn_v-like, one per layer in layer order, so n_attention_wv =
    # 48 and use_more_bits(i, 48) picks 24 of them; ffn_down_exps and ffn_down_shexp of the 24 use_more_bits layers;
    # the output: 24 + 48 + 1 = 73 Q6_K, the other 409 Q4_K.
    m = quant.preset_model(PRESET)
    got = {e["name"]: e for e in quant.compute_sizes(m, quant.Options(formats=["Q4_K_M", "Q8_0"]))["formats"]}
    assert got["Q4_K_M"]["tensor_types"] == {"Q4_K": 409, "Q6_K": 73, "F32": 361}
    assert got["Q8_0"]["tensor_types"] == {"Q8_0": 482, "F32": 361}
    # Q8_0 bytes: every quantizable weight at 34 B per 32, the rest at 4 B
    f32 = 48 * (2 * 2048 + 2048 * 512 + 2048) + 12 * 2 * 256 + 36 * (4 * 8192 + 32 + 32 + 128) + 2048
    assert got["Q8_0"]["gguf_tensor_bytes"] == (79_674_391_296 - f32) * 34 // 32 + 4 * f32
    # Q4_K_M bytes: the Q6_K tensors by name, the rest Q4_K (144 B / 256, Q6_K 210 B / 256)
    q6 = 2048 * 151936  # the output
    q6 += sum(2048 * 512 if (i + 1) % 4 == 0 else 2048 * 8192  # layer i's attn_v / attn_qkv is the i-th
              for i in range(48) if use_more_bits(i, 48))
    q6 += 24 * (512 * 2048 * 512 + 512 * 2048)  # ffn_down_exps, ffn_down_shexp
    q4 = 79_674_391_296 - f32 - q6
    assert got["Q4_K_M"]["gguf_tensor_bytes"] == q4 * 144 // 256 + q6 * 210 // 256 + 4 * f32


def test_qwen3_5_gguf_still_refused(quant):
    # llama.cpp's tensors for Qwen3.5's delta-net are not modelled here: one line, exit 2
    status, out, err = call_main(quant, ["--preset", "qwen3.5-27b", "--formats", "Q4_K_M"])
    assert status == 2 and out == "" and err.count("\n") == 1 and "not modelled" in err


# --------------------------------------------------------------------------------------------------------------
# LFM2 (llama.cpp arch "lfm2") and Bamba (llama.cpp arch "granitehybrid"), from the published config.json copies
# of tests/test_params_torch.py REAL_CONFIGS (each cited and PyTorch-checked there)
# --------------------------------------------------------------------------------------------------------------

def _model(quant, name):
    from test_params_torch import REAL_CONFIGS
    m, _ = quant.model_from_config(REAL_CONFIGS[name])
    return m


def _by_layer(tensors):
    out = {}
    for t in tensors:
        out.setdefault(t.layer, {})[t.name.split(".", 2)[2] if t.layer >= 0 else t.name] = t.ne
    return out


def test_lfm2_tensors_are_the_ones_llama_cpp_creates(quant):
    # LFM2-1.2B: n_embd 2048, n_ff 8192 (block_ff_dim 12288 auto-adjusted: the converter's _add_feed_forward_length),
    # 32 heads of 64, 8 KV heads, conv_L_cache 3, 65536 tokens, tied head; attention on layers 2, 5, 8, 10, 12, 14.
    # src/models/lfm2.cpp llama_model_lfm2::load_arch_tensors, by hand: token_embd, the final norm under
    # LLM_TENSOR_OUTPUT_NORM_LFM2 ("token_embd_norm"), no output (tied); per layer ffn_norm, ffn_gate/up/down,
    # attn_norm, then either attn_q_norm/attn_k_norm {64}, attn_q/k/v, attn_output, or shortconv.conv {3, 2048},
    # shortconv.in_proj {2048, 3 x 2048}, shortconv.out_proj {2048, 2048}
    m = _model(quant, "lfm2")
    layers = _by_layer(quant.gguf_tensor_list(m))
    assert layers[-1] == {"token_embd.weight": (2048, 65536), "token_embd_norm.weight": (2048,)}
    common = {"attn_norm.weight": (2048,), "ffn_norm.weight": (2048,), "ffn_gate.weight": (2048, 8192),
              "ffn_up.weight": (2048, 8192), "ffn_down.weight": (8192, 2048)}
    attention = {"attn_q.weight": (2048, 2048), "attn_k.weight": (2048, 512), "attn_v.weight": (2048, 512),
                 "attn_output.weight": (2048, 2048), "attn_q_norm.weight": (64,), "attn_k_norm.weight": (64,)}
    conv = {"shortconv.conv.weight": (3, 2048), "shortconv.in_proj.weight": (2048, 6144),
            "shortconv.out_proj.weight": (2048, 2048)}
    for layer in range(16):
        assert layers[layer] == {**common, **(attention if layer in (2, 5, 8, 10, 12, 14) else conv)}, layer


def test_lfm2_1_2b_f16_matches_llama_bench_and_q4_k_m_by_hand(quant):
    # ggml-org/llama.cpp PR #16204 (tdakhran, "model : add label for LiquidAI LFM2-2.6B model"), llama-bench of the
    # converted F16 file (size: the tensor data in GiB, params: every tensor's elements, 2 decimals each):
    #   | lfm2 1.2B F16                  |   2.18 GiB |     1.17 B | CPU        |      10 |           pp512 | ...
    m = _model(quant, "lfm2")
    tensors = quant.gguf_tensor_list(m)
    got = {e["name"]: e for e in quant.compute_sizes(m, quant.Options(formats=["F16", "Q4_K_M"]))["formats"]}
    assert round(got["F16"]["gguf_tensor_bytes"] / GIB, 2) == 2.18
    assert round(sum(t.numel for t in tensors) / 1e9, 2) == 1.17
    # Q4_K_M by hand: the tied token_embd takes the output's rule (Q6_K); attn_v of the 6 attention layers where
    # use_more_bits(i, 6) (i = 2, 5); ffn_down where use_more_bits(layer, 16) (0, 1, 4, 7, 10, 13, 14, 15): 11 Q6_K;
    # quantizable: token_embd + 6 x 7 + 10 x 5 = 93, so 82 Q4_K; F32: 2 norms x 16, 10 conv kernels, 6 x 2 q/k norms,
    # the final norm = 55
    assert [i for i in range(6) if use_more_bits(i, 6)] == [2, 5]
    assert [i for i in range(16) if use_more_bits(i, 16)] == [0, 1, 4, 7, 10, 13, 14, 15]
    assert got["Q4_K_M"]["tensor_types"] == {"Q6_K": 11, "Q4_K": 82, "F32": 55}


def test_bamba_tensors_are_the_ones_llama_cpp_creates(quant):
    # Bamba-9B: n_embd 4096, 32 layers with attention on 9, 18, 27; Mamba-2 with 128 heads of 64 (d_inner 8192), 1
    # group of d_state 128, conv kernel 4 with a bias; SwiGLU 14336; 32 heads / 8 KV heads of 128; untied head.
    # The granitehybrid loader (llama-model.cpp, hparams.is_recr(i) branch), by hand: attn_norm; ssm_in {4096,
    # d_in_proj = 2 x 8192 + 2 x 1 x 128 + 128}; ssm_conv1d {4, 8192 + 2 x 128} and its bias; ssm_dt.bias {128};
    # ssm_a, ssm_d {1, 128}; ssm_norm {8192 / 1, 1}; ssm_out {8192, 4096}; else attn_q/k/v, attn_output; then
    # ffn_norm, ffn_gate/up/down
    m = _model(quant, "bamba")
    layers = _by_layer(quant.gguf_tensor_list(m))
    assert layers[-1] == {"token_embd.weight": (4096, 128256), "output_norm.weight": (4096,),
                          "output.weight": (4096, 128256)}
    common = {"attn_norm.weight": (4096,), "ffn_norm.weight": (4096,), "ffn_gate.weight": (4096, 14336),
              "ffn_up.weight": (4096, 14336), "ffn_down.weight": (14336, 4096)}
    attention = {"attn_q.weight": (4096, 4096), "attn_k.weight": (4096, 1024), "attn_v.weight": (4096, 1024),
                 "attn_output.weight": (4096, 4096)}
    ssm = {"ssm_in.weight": (4096, 16768), "ssm_conv1d.weight": (4, 8448), "ssm_conv1d.bias": (8448,),
           "ssm_dt.bias": (128,), "ssm_a": (1, 128), "ssm_d": (1, 128), "ssm_norm.weight": (8192, 1),
           "ssm_out.weight": (8192, 4096)}
    for layer in range(32):
        assert layers[layer] == {**common, **(attention if layer in (9, 18, 27) else ssm)}, layer


def test_bamba_q4_k_m_and_q2_k_by_hand(quant):
    # No published GGUF of Bamba with its tensor types or sizes was found; the types are derived by hand from
    # llama-quant.cpp.  Quantizable: token_embd, output, 29 x (ssm_in, ssm_out) + 3 x 4 attention + 32 x 3 MLP = 168;
    # the rest (2 norms x 32, the final norm, 29 x (conv weight, conv bias, dt, A, D, norm)) stay F32: 239.
    # Q4_K_M: output; attn_v where use_more_bits(i, 3) (i = 2); ffn_down where use_more_bits(layer, 32) (16 layers):
    # 18 Q6_K.  Q2_K: the converter writes head_count_kv per layer (0 on the Mamba-2 layers), so n_gqa() of layer 0
    # is 0 and attn_v takes Q3_K (not the GQA >= 4 Q4_K); ffn_down (32) and attn_output (3) Q3_K; output Q6_K.
    m = _model(quant, "bamba")
    got = {e["name"]: e["tensor_types"]
           for e in quant.compute_sizes(m, quant.Options(formats=["Q4_K_M", "Q2_K"]))["formats"]}
    assert sum(use_more_bits(i, 32) for i in range(32)) == 16 and [i for i in range(3) if use_more_bits(i, 3)] == [2]
    assert got["Q4_K_M"] == {"Q4_K": 150, "Q6_K": 18, "F32": 239}
    assert got["Q2_K"] == {"Q2_K": 129, "Q3_K": 38, "Q6_K": 1, "F32": 239}


# --------------------------------------------------------------------------------------------------------------
# --gguf on a real file: a tiny Qwen3-Next written with llama.cpp's own writer (gguf-py's GGUFWriter), its tensors
# named and shaped by hand from qwen3next.cpp load_arch_tensors, each in the type llama-quant.cpp gives it at Q8_0
# (every quantizable weight Q8_0: no Q8_0 rule changes a type; the rest F32)
# --------------------------------------------------------------------------------------------------------------

TINY = dict(hidden_size=64, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
            intermediate_size=128, linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16,
            linear_value_head_dim=16, linear_conv_kernel_dim=4, num_experts=4, num_experts_per_tok=2,
            moe_intermediate_size=32, shared_expert_intermediate_size=32, vocab_size=96, tie_word_embeddings=False)


def tiny_qwen3_next_tensors(old):
    """{name: (PyTorch-order shape, quantizable)} by hand: h 64; delta-net key width 2 x 16 = 32, value width
    4 x 16 = 64 (qkv 2 x 32 + 64 = 128 rows, z 64, ba 2 x 4, conv channels 128); attention q 4 x 16 x 2 = 128 rows
    (query + gate), k / v 2 x 16; 4 experts of 32 and a shared one of 32; 96 tokens, untied."""
    out = {"token_embd.weight": ((96, 64), True), "output_norm.weight": ((64,), False),
           "output.weight": ((96, 64), True)}
    for i in range(4):
        p = f"blk.{i}."
        out.update({p + "attn_norm.weight": ((64,), False), p + "post_attention_norm.weight": ((64,), False),
                    p + "ffn_gate_inp.weight": ((4, 64), False), p + "ffn_gate_exps.weight": ((4, 32, 64), True),
                    p + "ffn_up_exps.weight": ((4, 32, 64), True), p + "ffn_down_exps.weight": ((4, 64, 32), True),
                    p + "ffn_gate_shexp.weight": ((32, 64), True), p + "ffn_up_shexp.weight": ((32, 64), True),
                    p + "ffn_down_shexp.weight": ((64, 32), True)})
        # the shared-expert gate: F32 {64} today; the Dec 2025 converter's 2-D F16 {64, 1}, which stays F16
        out[p + "ffn_gate_inp_shexp.weight"] = ((1, 64), "F16") if old else ((64,), False)
        if i == 3:
            out.update({p + "attn_q.weight": ((128, 64), True), p + "attn_k.weight": ((32, 64), True),
                        p + "attn_v.weight": ((32, 64), True), p + "attn_output.weight": ((64, 64), True),
                        p + "attn_q_norm.weight": ((16,), False), p + "attn_k_norm.weight": ((16,), False)})
        else:
            if old:
                out[p + "ssm_in.weight"] = ((192, 64), True)
            else:
                out.update({p + "attn_qkv.weight": ((128, 64), True), p + "attn_gate.weight": ((64, 64), True)})
            out.update({p + "ssm_ba.weight": ((8, 64), True), p + "ssm_conv1d.weight": ((128, 4), False),
                        p + "ssm_dt.bias": ((4,), False), p + "ssm_a": ((4,), False),
                        p + "ssm_norm.weight": ((16,), False), p + "ssm_out.weight": ((64, 64), True)})
    return out


@pytest.mark.parametrize("old", [False, True])
def test_gguf_compare_on_a_tiny_qwen3_next_file(quant, tmp_path, old):
    gguf = pytest.importorskip("gguf")
    import numpy as np
    from gguf.quants import quantize
    from test_params_torch import REAL_CONFIGS
    config = tmp_path / "config.json"
    config.write_text(json.dumps(dict(REAL_CONFIGS["qwen3_next"], **TINY)))
    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(str(path), "qwen3next")
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_Q8_0))
    rng = np.random.default_rng(0)
    data_bytes = 0
    for name, (shape, kind) in tiny_qwen3_next_tensors(old).items():
        x = rng.standard_normal(shape).astype(np.float32)
        if kind == "F16":
            writer.add_tensor(name, x.astype(np.float16))
            data_bytes += 2 * x.size
        elif kind:  # Q8_0: 34 B per 32 values along the row
            writer.add_tensor(name, quantize(x, gguf.GGMLQuantizationType.Q8_0),
                              raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            data_bytes += x.size // 32 * 34
        else:
            writer.add_tensor(name, x)
            data_bytes += 4 * x.size
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    argv = ["--gguf", str(path), "--config", str(config), "--json"] + (["--old-qwen3next-gguf"] if old else [])
    status, out, err = call_main(quant, argv)
    assert status == 0, err
    g = json.loads(out)["gguf"]
    assert g["differences"] == [] and g["compared_format"] == "Q8_0"
    assert g["matching_tensors"] == g["tensor_count"] == 3 + 16 + 3 * (17 if old else 18)
    assert g["file_tensor_data_bytes"] == g["predicted_tensor_data_bytes"] == data_bytes
