"""Measure llama.cpp's compute buffer for real model shapes without their weights.

llama.cpp sizes its compute buffer by building the worst-case graph of one ubatch and running ggml-alloc over it
(llama-context.cpp graph_reserve). With `no_alloc` model loading (llama.h, llama_model_params.no_alloc) it does this
from the GGUF's metadata alone, so a GGUF whose data region is a hole (a sparse file: header written, the file
`truncate`d to its full length) gives the same figures as the real checkpoint.

This script writes such GGUFs for 14 model shapes (llama.cpp archs llama, qwen2, qwen3, qwen3moe, phi3, gpt-oss,
gemma2, gemma3; shapes from their config.json files, cited below), runs bench/llamacpp_buffer_probe.cpp (build it as
its header says) over a grid of -c / -ub / -fa / -np, and prints one JSON line per run with the "compute buffer size"
llama.cpp logs. The grid below is what tests/data/llamacpp_compute_buffers.json holds (with the llama.cpp commit and
date):

    python bench/measure_llamacpp_buffers.py --probe /tmp/llamacpp_buffer_probe --out /tmp/ggufs \
        --ctx 4096,8192,32768 --ubatch 128,256,512,1024 --fa 0,1 > runs.jsonl
    python bench/measure_llamacpp_buffers.py --probe /tmp/llamacpp_buffer_probe --out /tmp/ggufs \
        --models llama-3-8b,qwen2.5-7b,phi-3-mini,gemma-3-27b,gpt-oss-20b,mixtral-8x7b,qwen3-4b \
        --ctx 8192,32768 --ubatch 512 --fa 0,1 --np 2,3,4,8 --unified 0,1 > runs_streams.jsonl
    python bench/measure_llamacpp_buffers.py --probe /tmp/llamacpp_buffer_probe --out /tmp/ggufs \
        --ctx 4096,32768 --ubatch 256,512 --fa 0,1 --cache-types q8_0/q8_0,q4_0/q4_0,q8_0/f16 > runs_quantized.jsonl

llama.cpp is not a requirement of this project; this script needs the `gguf` package (requirements-dev.txt).
"""
import argparse
import itertools
import json
import os
import re
import subprocess
import sys

import numpy as np
import gguf

# Shapes from each model's config.json on the Hugging Face Hub (architecture "llama" in llama.cpp unless noted).
MODELS = {
    # meta-llama/Meta-Llama-3-70B: hidden 8192, 80 layers, 64 heads, 8 KV heads, FFN 28672, vocab 128256
    "llama-3-70b": dict(arch="llama", n_embd=8192, n_layer=80, n_head=64, n_head_kv=8, n_ff=28672, n_vocab=128256),
    # meta-llama/Meta-Llama-3-8B: 4096, 32 layers, 32 heads, 8 KV heads, FFN 14336, vocab 128256
    "llama-3-8b": dict(arch="llama", n_embd=4096, n_layer=32, n_head=32, n_head_kv=8, n_ff=14336, n_vocab=128256),
    # meta-llama/Llama-2-7b-hf: 4096, 32 layers, 32 heads (MHA), FFN 11008, vocab 32000
    "llama-2-7b": dict(arch="llama", n_embd=4096, n_layer=32, n_head=32, n_head_kv=32, n_ff=11008, n_vocab=32000),
    # meta-llama/Llama-3.2-1B: 2048, 16 layers, 32 heads, 8 KV heads, head_dim 64, FFN 8192, tied embeddings
    "llama-3.2-1b": dict(arch="llama", n_embd=2048, n_layer=16, n_head=32, n_head_kv=8, n_ff=8192, n_vocab=128256,
                         tied=True),
    # Qwen/Qwen2.5-7B-Instruct (llama.cpp "qwen2": q/k/v biases): 3584, 28 layers, 28 heads, 4 KV, FFN 18944
    "qwen2.5-7b": dict(arch="qwen2", n_embd=3584, n_layer=28, n_head=28, n_head_kv=4, n_ff=18944, n_vocab=152064,
                       qkv_bias=True),
    # microsoft/Phi-3-mini-4k-instruct (llama.cpp "phi3": fused qkv and gate_up): 3072, 32 layers, 32 heads, FFN 8192
    "phi-3-mini": dict(arch="phi3", n_embd=3072, n_layer=32, n_head=32, n_head_kv=32, n_ff=8192, n_vocab=32064),
    # microsoft/phi-4 (Phi3ForCausalLM, llama.cpp "phi3"): 5120, 40 layers, 40 heads, 10 KV heads, FFN 17920
    "phi-4": dict(arch="phi3", n_embd=5120, n_layer=40, n_head=40, n_head_kv=10, n_ff=17920, n_vocab=100352),
    # mistralai/Mistral-Small-24B-Instruct-2501 (llama.cpp "llama"): 5120, 40 layers, 32 heads of 128 (q width
    # 4096, not the hidden size), 8 KV heads, FFN 32768, vocab 131072
    "mistral-small-24b": dict(arch="llama", n_embd=5120, n_layer=40, n_head=32, n_head_kv=8, head_dim=128,
                              n_ff=32768, n_vocab=131072),
    # Qwen/Qwen3-4B (llama.cpp "qwen3": RMS norms on q and k per head): 2560, 36 layers, 32 heads of 128 (q width
    # 4096), 8 KV heads, FFN 9728, vocab 151936, tied embeddings
    "qwen3-4b": dict(arch="qwen3", n_embd=2560, n_layer=36, n_head=32, n_head_kv=8, head_dim=128, n_ff=9728,
                     n_vocab=151936, tied=True, qk_norm=True),
    # google/gemma-3-27b-it text config (llama.cpp "gemma3": 5 sliding layers of 1024 tokens per global one, q/k
    # norms, post-attention and post-FFN norms, GELU-tanh gate): 5376, 62 layers, 32 heads of 128, 16 KV heads,
    # FFN 21504, vocab 262208, tied embeddings
    "gemma-3-27b": dict(arch="gemma3", n_embd=5376, n_layer=62, n_head=32, n_head_kv=16, head_dim=128, n_ff=21504,
                        n_vocab=262208, tied=True, qk_norm=True, post_norms=True, sliding_window=1024),
    # Qwen/Qwen3-30B-A3B (llama.cpp "qwen3moe"): 2048, 48 layers, 32 heads of 128, 4 KV heads, 128 experts of
    # 768, 8 used, vocab 151936
    "qwen3-30b-a3b": dict(arch="qwen3moe", n_embd=2048, n_layer=48, n_head=32, n_head_kv=4, head_dim=128, n_ff=768,
                          n_vocab=151936, qk_norm=True, n_expert=128, n_expert_used=8),
    # mistralai/Mixtral-8x7B-v0.1 (llama.cpp "llama" with experts): 4096, 32 layers, 32 heads, 8 KV heads, 8 experts
    # of 14336, 2 used, vocab 32000
    "mixtral-8x7b": dict(arch="llama", n_embd=4096, n_layer=32, n_head=32, n_head_kv=8, n_ff=14336, n_vocab=32000,
                         n_expert=8, n_expert_used=2),
    # openai/gpt-oss-20b (llama.cpp "gpt-oss"): 2880, 24 layers alternating sliding (128) and full, 64 heads of 64,
    # 8 KV heads, attention sinks and biases, 32 experts of 2880 with biases, 4 used, vocab 201088
    "gpt-oss-20b": dict(arch="gpt-oss", n_embd=2880, n_layer=24, n_head=64, n_head_kv=8, head_dim=64, n_ff=2880,
                        n_vocab=201088, n_expert=32, n_expert_used=4, sliding_window=128, qkv_bias=True,
                        oss=True),
    # google/gemma-2-9b (llama.cpp "gemma2": sliding (4096) and global layers alternate, attention logits soft-capped
    # at 50, final logits at 30, post-norms): 3584, 42 layers, 16 heads of 256, 8 KV heads, FFN 14336, vocab 256000
    "gemma-2-9b": dict(arch="gemma2", n_embd=3584, n_layer=42, n_head=16, n_head_kv=8, head_dim=256, n_ff=14336,
                       n_vocab=256000, tied=True, post_norms=True, sliding_window=4096, softcaps=(50.0, 30.0)),
    # google/gemma-4-31B-it text_config (llama.cpp "gemma4": 5 sliding layers of 1024 tokens per full one; sliding
    # layers 16 KV heads of 256, full layers 4 KV heads of 512 with K = V (attention_k_eq_v: no attn_v tensor),
    # q/k norms, post norms, a per-layer output scale, rope_freqs for the full layers' proportional RoPE): 5376,
    # 60 layers, 32 heads, FFN 21504, vocab 262144, tied embeddings, final logits soft-capped at 30
    "gemma-4-31b": dict(arch="gemma4", n_embd=5376, n_layer=60, n_head=32, n_head_kv=16, head_dim=256, n_ff=21504,
                        n_vocab=262144, tied=True, qk_norm=True, post_norms=True, sliding_window=1024,
                        softcaps=(None, 30.0), gemma4=dict(period=6, full_kv_heads=4, full_head_dim=512)),
    # google/gemma-4-26B-A4B-it text_config: the 31B's layout at hidden 2816, 30 layers, 16 heads, sliding layers 8 KV
    # heads of 256, full layers 2 of 512 (K = V), a dense MLP of 2112 beside a MoE block of 128 experts of 704 (top 8;
    # gate and up fused per expert, a per-expert output scale, a router with its own input scale and norm)
    "gemma-4-26b-a4b": dict(arch="gemma4", n_embd=2816, n_layer=30, n_head=16, n_head_kv=8, head_dim=256, n_ff=2112,
                            n_vocab=262144, tied=True, qk_norm=True, post_norms=True, sliding_window=1024,
                            softcaps=(None, 30.0), gemma4=dict(period=6, full_kv_heads=2, full_head_dim=512),
                            n_expert=128, n_expert_used=8, moe_ff=704),
}


def gemma4_layer(m, i):
    """(sliding, KV heads, head dim) of Gemma 4 layer i: every period-th layer is a full one."""
    g = m["gemma4"]
    full = (i + 1) % g["period"] == 0
    return (not full, g["full_kv_heads"] if full else m["n_head_kv"], g["full_head_dim"] if full else m["head_dim"])


def tensors(m):
    """(name, shape in ggml order [ne0, ne1, ...], type) of every tensor the llama.cpp loader asks for."""
    e, f, v = m["n_embd"], m["n_ff"], m["n_vocab"]
    hd = m.get("head_dim", e // m["n_head"])
    q, kv = hd * m["n_head"], hd * m["n_head_kv"]
    F16, F32 = gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32
    out = [("token_embd.weight", (e, v), F16), ("output_norm.weight", (e,), F32)]
    if not m.get("tied"):
        out.append(("output.weight", (e, v), F16))
    for i in range(m["n_layer"]):
        p = f"blk.{i}."
        if m.get("gemma4"):
            sliding, heads_kv, hd = gemma4_layer(m, i)
            q, kv = hd * m["n_head"], hd * heads_kv
            if not sliding and not any(t[0] == "rope_freqs.weight" for t in out):
                out.append(("rope_freqs.weight", (hd // 2,), F32))  # the full layers' proportional RoPE factors
            out += [(p + "layer_output_scale.weight", (1,), F32)]
            if sliding:  # the full layers' K = V: no attn_v
                out += [(p + "attn_v.weight", (e, kv), F16)]
        out += [(p + "attn_norm.weight", (e,), F32), (p + "ffn_norm.weight", (e,), F32),
                (p + "attn_output.weight", (q, e), F16), (p + "ffn_down.weight", (f, e), F16)]
        if m["arch"] == "phi3":
            out += [(p + "attn_qkv.weight", (e, q + 2 * kv), F16), (p + "ffn_up.weight", (e, 2 * f), F16)]
            continue
        out += [(p + "attn_q.weight", (e, q), F16), (p + "attn_k.weight", (e, kv), F16)]
        if not m.get("gemma4"):
            out += [(p + "attn_v.weight", (e, kv), F16)]
        if m.get("gemma4") and m.get("n_expert"):  # the MoE block beside the dense MLP
            n, fe = m["n_expert"], m["moe_ff"]
            out += [(p + "ffn_gate.weight", (e, f), F16), (p + "ffn_up.weight", (e, f), F16),
                    (p + "ffn_gate_inp.weight", (e, n), F32), (p + "ffn_gate_inp.scale", (e,), F32),
                    (p + "pre_ffw_norm_2.weight", (e,), F32), (p + "post_ffw_norm_1.weight", (e,), F32),
                    (p + "post_ffw_norm_2.weight", (e,), F32), (p + "ffn_gate_up_exps.weight", (e, 2 * fe, n), F16),
                    (p + "ffn_down_exps.weight", (fe, e, n), F16), (p + "ffn_down_exps.scale", (n,), F32)]
        elif m.get("n_expert"):
            n = m["n_expert"]
            out = [t for t in out if t[0] != p + "ffn_down.weight"]
            out += [(p + "ffn_gate_inp.weight", (e, n), F32), (p + "ffn_gate_exps.weight", (e, f, n), F16),
                    (p + "ffn_up_exps.weight", (e, f, n), F16), (p + "ffn_down_exps.weight", (f, e, n), F16)]
        else:
            out += [(p + "ffn_gate.weight", (e, f), F16), (p + "ffn_up.weight", (e, f), F16)]
        if m.get("oss"):  # gpt-oss: the FFN norm is called post_attention_norm; sinks, o and expert biases
            n = m["n_expert"]
            out = [t for t in out if t[0] != p + "ffn_norm.weight"]
            out += [(p + "post_attention_norm.weight", (e,), F32), (p + "attn_sinks.weight", (m["n_head"],), F32),
                    (p + "attn_output.bias", (e,), F32), (p + "ffn_gate_inp.bias", (n,), F32),
                    (p + "ffn_gate_exps.bias", (f, n), F32), (p + "ffn_up_exps.bias", (f, n), F32),
                    (p + "ffn_down_exps.bias", (e, n), F32)]
        if m.get("post_norms"):
            out += [(p + "post_attention_norm.weight", (e,), F32), (p + "post_ffw_norm.weight", (e,), F32)]
        if m.get("qk_norm"):
            width = gemma4_layer(m, i)[2] if m.get("gemma4") else hd
            out += [(p + "attn_q_norm.weight", (width,), F32), (p + "attn_k_norm.weight", (width,), F32)]
        if m.get("qkv_bias"):
            out += [(p + "attn_q.bias", (q,), F32), (p + "attn_k.bias", (kv,), F32), (p + "attn_v.bias", (kv,), F32)]
    return out


def write_sparse_gguf(path, m):
    """The GGUF header and tensor infos, then a hole as long as the tensor data (nothing is read with no_alloc)."""
    w = gguf.GGUFWriter(path, m["arch"])
    w.add_block_count(m["n_layer"])
    w.add_context_length(131072)
    w.add_embedding_length(m["n_embd"])
    w.add_feed_forward_length(m["n_ff"])
    w.add_head_count(m["n_head"])
    if not m.get("gemma4"):
        w.add_head_count_kv(m["n_head_kv"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(500000.0)
    head_dim = m.get("head_dim", m["n_embd"] // m["n_head"])
    w.add_rope_dimension_count(head_dim)
    if not m.get("gemma4"):
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_vocab_size(m["n_vocab"])
    if m.get("n_expert"):
        w.add_expert_count(m["n_expert"])
        w.add_expert_used_count(m["n_expert_used"])
        w.add_expert_feed_forward_length(m.get("moe_ff", m["n_ff"]))
    if m.get("sliding_window"):
        w.add_sliding_window(m["sliding_window"])
    if m.get("softcaps"):
        if m["softcaps"][0] is not None:
            w.add_attn_logit_softcapping(m["softcaps"][0])
        w.add_final_logit_softcapping(m["softcaps"][1])
    if m.get("gemma4"):  # per-layer KV heads and window pattern, the two head widths (llama-arch.cpp's keys)
        layers = [gemma4_layer(m, i) for i in range(m["n_layer"])]
        arch = m["arch"]
        w.add_array(f"{arch}.attention.head_count_kv", [heads for _, heads, _ in layers])
        w.add_array(f"{arch}.attention.sliding_window_pattern", [sliding for sliding, _, _ in layers])
        full_hd = m["gemma4"]["full_head_dim"]
        w.add_key_length(full_hd)
        w.add_value_length(full_hd)
        w.add_uint32(f"{arch}.attention.key_length_swa", head_dim)
        w.add_uint32(f"{arch}.attention.value_length_swa", head_dim)
        w.add_uint32(f"{arch}.embedding_length_per_layer_input", 0)
        w.add_uint32(f"{arch}.attention.shared_kv_layers", 0)
    w.add_tokenizer_model("none")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    total = 0
    for name, shape, typ in tensors(m):
        n = int(np.prod(shape))
        nbytes = n * (2 if typ == gguf.GGMLQuantizationType.F16 else 4)
        # gguf-py takes numpy (row-major) shapes: the reverse of ggml's ne order
        w.add_tensor_info(name, tuple(reversed(shape)), np.dtype(np.float16 if nbytes == 2 * n else np.float32),
                          nbytes, raw_dtype=typ)
        total += -(-nbytes // 32) * 32
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()
    size = os.path.getsize(path)
    os.truncate(path, -(-size // 32) * 32 + total)


LOG = {
    "compute": re.compile(r"(\S+) compute buffer size = +([\d.]+) MiB"),

}


def probe(binary, path, c, ub, fa, np_, ctk="f16", ctv="f16", unified=0):
    r = subprocess.run([binary, path, str(c), str(ub), str(fa), str(np_), ctk, ctv, str(unified)],
                       capture_output=True, text=True)
    text = r.stdout + r.stderr
    text = "\n".join(line for line in text.splitlines() if "llama_graph_n_input_tensors" not in line)
    if r.returncode:
        return {"error": text[-400:]}
    out = {}
    for key, rx in LOG.items():
        found = rx.findall(text)
        out[key] = found
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probe", required=True, help="the built bench/llamacpp_buffer_probe binary")
    ap.add_argument("--out", default="/tmp/ggufs", help="folder for the sparse GGUFs")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--ctx", default="4096,8192")
    ap.add_argument("--ubatch", default="256,512")
    ap.add_argument("--fa", default="0,1")
    ap.add_argument("--np", default="1", help="-np values (n_seq_max)")
    ap.add_argument("--unified", default="0", help="--kv-unified values (0: one KV stream per sequence)")
    ap.add_argument("--cache-types", default="f16/f16", help="K/V cache type pairs (-ctk/-ctv), e.g. "
                    "f16/f16,q8_0/q8_0,q8_0/f16 (a quantized V cache needs flash attention: skipped without it)")
    args = ap.parse_args(argv)
    pairs = [tuple(pair.split("/")) for pair in args.cache_types.split(",")]
    os.makedirs(args.out, exist_ok=True)
    for name in args.models.split(","):
        m = MODELS[name]
        path = os.path.join(args.out, name + ".gguf")
        if not os.path.exists(path):
            write_sparse_gguf(path, m)
        grid = itertools.product(*(map(int, s.split(",")) for s in (args.ctx, args.ubatch, args.fa, args.np,
                                                                    args.unified)))
        for (c, ub, fa, np_, unified), (ctk, ctv) in itertools.product(grid, pairs):
            if ctv not in ("f16", "bf16", "f32") and not fa:
                continue  # llama.cpp refuses a quantized V cache without flash attention
            res = probe(args.probe, path, c, ub, fa, np_, ctk, ctv, unified=unified)
            print(json.dumps({"model": name, "n_ctx": c, "n_ubatch": ub, "flash_attn": fa, "n_seq_max": np_,
                              "kv_unified": unified, "type_k": ctk, "type_v": ctv} | res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
