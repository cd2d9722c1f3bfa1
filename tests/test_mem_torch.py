"""Cross-checks of calc_transformer_mem.py against PyTorch and transformers (skipped when they do not import).

Small models are built from real config.json files (fields as published on each model's Hugging Face page, cited
next to each dict), shrunk in width and depth with the structure kept (GQA ratio, gated MLP, biases, tied
embeddings, sandwich norms, sliding-window layer pattern, MoE, MLA). Deterministic memory must match to the byte;
activation estimates must be within 10 % of the bytes autograd actually saves for backward.
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main, torch_and_transformers

pytestmark = pytest.mark.torch

# meta-llama/Meta-Llama-3-8B config.json, shrunk: 32 -> 4 heads with 8 -> 1 kv heads (ratio 4 kept), 4096 -> 128
# width, 14336 -> 448 MLP (3.5 h kept), 32 -> 2 layers, 128256 -> 512 vocab.
LLAMA_3_8B = {"model_type": "llama", "hidden_size": 128, "intermediate_size": 448, "num_attention_heads": 4,
              "num_key_value_heads": 1, "num_hidden_layers": 2, "vocab_size": 512, "rms_norm_eps": 1e-5,
              "max_position_embeddings": 8192, "rope_theta": 500000.0, "tie_word_embeddings": False,
              "attention_bias": False, "mlp_bias": False, "hidden_act": "silu", "attention_dropout": 0.0}
# meta-llama/Llama-3.2-1B config.json: tied embeddings, head_dim 64 kept; 32 heads / 8 kv -> 4 / 1.
LLAMA_32_1B = dict(LLAMA_3_8B, tie_word_embeddings=True, head_dim=64, hidden_size=128, num_attention_heads=4)
# Qwen/Qwen2.5-7B config.json: qkv bias (Qwen2 attention), 28 heads / 4 kv -> 7 / 1, 3584 -> 112 (head_dim 16).
QWEN25_7B = {"model_type": "qwen2", "hidden_size": 112, "intermediate_size": 592, "num_attention_heads": 7,
             "num_key_value_heads": 1, "num_hidden_layers": 2, "vocab_size": 512, "rms_norm_eps": 1e-6,
             "max_position_embeddings": 32768, "rope_theta": 1000000.0, "tie_word_embeddings": False,
             "use_sliding_window": False, "sliding_window": 131072, "max_window_layers": 28, "hidden_act": "silu",
             "attention_dropout": 0.0}
# mistralai/Mistral-7B-v0.1 config.json: sliding_window 4096 on every layer -> 16 here.
MISTRAL_7B = {"model_type": "mistral", "hidden_size": 128, "intermediate_size": 448, "num_attention_heads": 4,
              "num_key_value_heads": 1, "num_hidden_layers": 2, "vocab_size": 512, "rms_norm_eps": 1e-5,
              "max_position_embeddings": 32768, "rope_theta": 10000.0, "sliding_window": 16,
              "tie_word_embeddings": False, "hidden_act": "silu"}
# google/gemma-2-9b config.json: head_dim 256 -> 32, 16 heads / 8 kv -> 4 / 2, sandwich norms, tied, sliding window
# 4096 -> 16 on alternate layers (transformers' Gemma2Config layer_types), 42 -> 4 layers.
GEMMA_2_9B = {"model_type": "gemma2", "hidden_size": 128, "intermediate_size": 448, "num_attention_heads": 4,
              "num_key_value_heads": 2, "head_dim": 32, "num_hidden_layers": 4, "vocab_size": 512,
              "rms_norm_eps": 1e-6, "max_position_embeddings": 8192, "sliding_window": 16,
              "query_pre_attn_scalar": 256, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
              "hidden_activation": "gelu_pytorch_tanh", "tie_word_embeddings": True}
# mistralai/Mixtral-8x7B-v0.1 config.json: 8 experts, top-2 (kept), experts as wide as the dense MLP.
MIXTRAL_8X7B = {"model_type": "mixtral", "hidden_size": 128, "intermediate_size": 448, "num_attention_heads": 4,
                "num_key_value_heads": 1, "num_hidden_layers": 2, "vocab_size": 512, "rms_norm_eps": 1e-5,
                "num_local_experts": 8, "num_experts_per_tok": 2, "max_position_embeddings": 32768,
                "rope_theta": 1000000.0, "sliding_window": None, "tie_word_embeddings": False,
                "router_aux_loss_coef": 0.02, "output_router_logits": False}
# openai-community/gpt2 config.json: learned positions, fused c_attn, biases, LayerNorm, tied; 768 -> 128 width.
GPT2 = {"model_type": "gpt2", "n_embd": 128, "n_head": 4, "n_layer": 2, "n_positions": 1024, "vocab_size": 512,
        "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "resid_pdrop": 0.0,
        "embd_pdrop": 0.0, "attn_pdrop": 0.0}
# deepseek-ai/DeepSeek-V3 config.json: MLA (q_lora_rank 1536, kv_lora_rank 512, qk dims 128 + 64, v 128 -> 48,
# 32, 16 + 8, 16), 256 routed experts top-8 + 1 shared -> 8 top-2 + 1, first_k_dense_replace 3 -> 1.
DEEPSEEK_V3 = {"model_type": "deepseek_v3", "hidden_size": 128, "intermediate_size": 256,
               "moe_intermediate_size": 64, "num_attention_heads": 4, "num_key_value_heads": 4,
               "num_hidden_layers": 3, "vocab_size": 512, "q_lora_rank": 48, "kv_lora_rank": 32,
               "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "n_routed_experts": 8,
               "n_shared_experts": 1, "num_experts_per_tok": 2, "first_k_dense_replace": 1, "n_group": 1,
               "topk_group": 1, "rms_norm_eps": 1e-6, "max_position_embeddings": 4096, "tie_word_embeddings": False,
               "rope_scaling": None, "attention_bias": False}
# Qwen/Qwen1.5-MoE-A2.7B config.json: shared expert with sigmoid gate; 60 experts top-4 -> 8 top-2.
QWEN2_MOE = {"model_type": "qwen2_moe", "hidden_size": 128, "intermediate_size": 352, "moe_intermediate_size": 64,
             "shared_expert_intermediate_size": 256, "num_attention_heads": 4, "num_key_value_heads": 4,
             "num_hidden_layers": 2, "vocab_size": 512, "num_experts": 8, "num_experts_per_tok": 2,
             "decoder_sparse_step": 1, "rms_norm_eps": 1e-6, "max_position_embeddings": 8192,
             "tie_word_embeddings": False, "use_sliding_window": False, "mlp_only_layers": []}



def _real_configs():
    # The published config.json files of tests/test_params_torch.py (each dict cites its Hugging Face repo there).
    from test_params_torch import REAL_CONFIGS
    return REAL_CONFIGS


def _published(name):
    config = _real_configs()[name]
    return dict(config[0] if isinstance(config, tuple) else config)


def shrunk(name, **sizes):
    """A published config with smaller sizes and every switch kept; token ids and the checkpoint dtype dropped
    (they would index past the small vocabulary / build the model in fp16)."""
    cfg = {k: v for k, v in _published(name).items()
           if not k.endswith("token_id") and k not in ("torch_dtype", "architectures")}
    cfg.update(sizes, pad_token_id=None)  # Phi3Config would otherwise default it to 32000
    return cfg


SMALL = dict(hidden_size=128, num_hidden_layers=2, vocab_size=512)
# The families whose layout differs from Llama's, shrunk from their published config.json (repos as cited in
# test_params_torch.REAL_CONFIGS): multi-query Falcon-7B (one K/V head, one LayerNorm, fused QKV, tied); Falcon-40B's
# new decoder architecture (kv groups 8 -> 2 of 8 heads, two LayerNorms); BLOOM-560m (embedding LayerNorm, ALiBi,
# biases); OPT-350m (post-LN, positions + 2, word_embed_proj_dim 512 -> 64 with project_in/out); GPT-J-6B (parallel
# block, LM-head bias; rotary_dim 64 -> 16); Phi-2 (partial rotary, one LayerNorm, biases, LM-head bias); Phi-3-mini
# (fused qkv_proj and gate_up_proj; window 2047 -> 15); OLMo-1B (parameter-free LayerNorm); OLMo-2-7B (QK-norm over
# the whole q/k width); StarCoder2-3B (24 heads / 2 kv -> 4 / 1, window 4096 -> 16, biases, LayerNorm, tied).
FAMILY_CONFIGS = {
    "falcon-7b": shrunk("falcon", hidden_size=128, num_attention_heads=4, num_hidden_layers=2, vocab_size=512),
    "falcon-40b": shrunk("falcon_new", hidden_size=128, num_attention_heads=8, num_kv_heads=2, num_hidden_layers=2,
                         vocab_size=512),
    "bloom-560m": shrunk("bloom", hidden_size=128, n_head=4, n_layer=2, vocab_size=512),
    "opt-350m": shrunk("opt", ffn_dim=512, num_attention_heads=4, word_embed_proj_dim=64,
                       max_position_embeddings=256, **SMALL),
    "gpt-j-6b": shrunk("gptj", n_embd=128, n_head=4, n_layer=2, vocab_size=512, rotary_dim=16),
    "phi-2": shrunk("phi", intermediate_size=512, num_attention_heads=4, num_key_value_heads=4, **SMALL),
    "phi-3-mini": shrunk("phi3", intermediate_size=512, num_attention_heads=4, num_key_value_heads=4,
                         sliding_window=15, **SMALL),
    "olmo-1b": shrunk("olmo", intermediate_size=512, num_attention_heads=4, num_key_value_heads=4, **SMALL),
    "olmo-2-7b": shrunk("olmo2", intermediate_size=512, num_attention_heads=4, num_key_value_heads=2, **SMALL),
    "starcoder2-3b": shrunk("starcoder2", intermediate_size=512, num_attention_heads=4, num_key_value_heads=1,
                            sliding_window=16, **SMALL),
}
# issue 10, branch families (repos as cited in test_params_torch.REAL_CONFIGS): OLMo-3-7B (post-norms, whole-width
# q/k norms, 3 sliding : 1 full over 4 layers, window 4096 -> 16); GLM-4.5-Air (biased q/k/v, a dense first layer,
# 128 -> 4 experts + a shared one); OLMoE-1B-7B (64 -> 4 experts in every layer); Seed-OSS-36B (q/k/v biases,
# head_dim 128 -> 32); Aya-23-8B (parallel block, one bias-free LayerNorm, tied; its q/k LayerNorms switched on);
# Nemotron (relu^2 MLP without gate, LayerNorm1P); Command-R7B's cohere2 block as Cohere2Config builds it from sizes
# alone (window 4096 -> 16, every 4th layer full). Checked for model states and the KV cache; the activation estimate
# is not yet checked on these blocks (Cohere's fp32 LayerNorm, GLM's fp32 router input).
ISSUE10_CONFIGS = {
    "olmo-3-7b": shrunk("olmo3", hidden_size=128, vocab_size=512, num_hidden_layers=4, intermediate_size=512,
                        num_attention_heads=4, num_key_value_heads=2, sliding_window=16),
    "glm-4.5-air": shrunk("glm4_moe", hidden_size=128, vocab_size=512, num_hidden_layers=2, intermediate_size=256,
                          moe_intermediate_size=32, n_routed_experts=4, num_experts_per_tok=2, num_attention_heads=4,
                          num_key_value_heads=2, head_dim=32),
    "olmoe-1b-7b": shrunk("olmoe", intermediate_size=64, num_experts=4, num_experts_per_tok=2, num_attention_heads=4,
                          num_key_value_heads=4, **SMALL),
    "seed-oss-36b": shrunk("seed_oss", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
                           head_dim=32, attention_dropout=0.0, residual_dropout=0.0, **SMALL),
    "aya-23-8b": shrunk("cohere", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
                        use_qk_norm=True, **SMALL),
    "nemotron-mini": shrunk("nemotron", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2, **SMALL),
    "cohere2": {"model_type": "cohere2", "hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4,
                "num_key_value_heads": 2, "intermediate_size": 256, "vocab_size": 512, "sliding_window": 16,
                "pad_token_id": None},
}

# openai/gpt-oss-20b (test_params_torch.REAL_CONFIGS["gpt_oss_20b"]), shrunk: 64 / 8 heads of 64 -> 4 / 2 of 32,
# 32 experts top-4 -> 4 top-2 of 256, window 128 -> 16 on the even layers; attention sinks, biased router and experts,
# the clamped SwiGLU.  transformers has no SDPA path for it (GptOssPreTrainedModel._supports_sdpa = False).
GPT_OSS = shrunk("gpt_oss_20b", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                 num_local_experts=4, num_experts_per_tok=2, experts_per_token=2, sliding_window=16,
                 layer_types=["sliding_attention", "full_attention"], **SMALL)

# Qwen1.5-MoE above with mlp_only_layers [0] (published as []): layer 0 keeps the dense MLP in transformers'
# Qwen2MoeDecoderLayer; calc_transformer_params.py reads it the same way.
QWEN2_MOE_DENSE_FIRST = dict(QWEN2_MOE, mlp_only_layers=[0])

STATE_CONFIGS = {"llama-3-8b": LLAMA_3_8B, "llama-3.2-1b": LLAMA_32_1B, "qwen2.5-7b": QWEN25_7B,
                 "gemma-2-9b": GEMMA_2_9B, "mixtral-8x7b": MIXTRAL_8X7B, "gpt2": GPT2, "deepseek-v3": DEEPSEEK_V3,
                 "qwen1.5-moe": QWEN2_MOE, "qwen1.5-moe (mlp_only_layers)": QWEN2_MOE_DENSE_FIRST, **FAMILY_CONFIGS,
                 "gpt-oss-20b": GPT_OSS}
STATE_CONFIGS.update(ISSUE10_CONFIGS)
# issue 10, branch families2 (repos as cited in test_params_torch.REAL_CONFIGS), shrunk with every switch kept:
# SmolLM3-3B (tied, NoPE every 4th layer; and with its use_sliding_window on, window 16 on those NoPE layers).
FAMILIES2_CONFIGS = {
    "smollm3-3b": shrunk("smollm3", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
                         layer_types=["full_attention"] * 4, no_rope_layers=[1, 1, 1, 0], hidden_size=128,
                         num_hidden_layers=4, vocab_size=512),
    "smollm3-3b (NoPE layers slide)": {k: v for k, v in shrunk(
        "smollm3", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2, no_rope_layers=[1, 0, 1, 0],
        use_sliding_window=True, sliding_window=16, hidden_size=128, num_hidden_layers=4, vocab_size=512).items()
        if k != "layer_types"},
    # granite-3.1-3b-a800m: 40 experts top-8 -> 4 top-2, tied; its multipliers as scalars
    "granite-3.1-3b-a800m": shrunk("granitemoe", intermediate_size=64, num_attention_heads=4, num_key_value_heads=2,
                                   num_local_experts=4, num_experts_per_tok=2, embedding_multiplier=12.0,
                                   attention_multiplier=0.015625, residual_multiplier=0.22, logits_scaling=6.0,
                                   **SMALL),
    # Phi-3.5-MoE: 16 experts -> 4 top-2; LayerNorm with bias, its attention and LM-head biases on, window 16
    "phi-3.5-moe": shrunk("phimoe", intermediate_size=64, num_attention_heads=4, num_key_value_heads=2,
                          num_local_experts=4, attention_bias=True, lm_head_bias=True, sliding_window=16, **SMALL),
    # DBRX: d_model 6144 -> 128, 48 heads / 8 KV -> 4 / 2, 16 experts of 10752 top-4 -> 4 of 64 top-2; clip_qkv 8 kept
    "dbrx": dict({k: v for k, v in _published("dbrx").items() if k not in ("torch_dtype", "architectures")},
                 d_model=128, n_heads=4, n_layers=2, vocab_size=512,
                 attn_config=dict(_published("dbrx")["attn_config"], kv_n_heads=2),
                 ffn_config=dict(_published("dbrx")["ffn_config"], ffn_hidden_size=64, moe_num_experts=4,
                                 moe_top_k=2)),
    # StableLM 2 1.6B (q/k/v biases) with its qk_layernorm and use_parallel_residual switched on
    "stablelm-2-1.6b": shrunk("stablelm_2", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
                              qk_layernorm=True, use_parallel_residual=True, **SMALL),
}
STATE_CONFIGS.update(FAMILIES2_CONFIGS)


def _llama4_text(name, **sizes):
    """The language model (text_config, model_type llama4_text) of a published Llama 4 config.json
    (test_params_torch.REAL_CONFIGS, cited there) with smaller sizes; token ids and the checkpoint dtype dropped."""
    text = {k: v for k, v in _published(name)["text_config"].items()
            if not k.endswith("token_id") and k not in ("torch_dtype", "eos_token_id")}
    return dict(text, pad_token_id=None, **sizes)


# Llama 4, shrunk: 4 layers (RoPE layers 0-2 chunked, layer 3 NoPE with full attention), chunks of 16 (8192
# published); Scout every layer MoE with its q/k L2 norm, Maverick MoE on the odd layers with dense MLPs between
LLAMA4_CONFIGS = {
    "llama-4-scout": _llama4_text("llama4_scout", intermediate_size=64, intermediate_size_mlp=96, num_local_experts=4,
                                  num_attention_heads=4, num_key_value_heads=2, head_dim=32, attention_chunk_size=16,
                                  num_hidden_layers=4, hidden_size=128, vocab_size=512),
    "llama-4-maverick": _llama4_text("llama4_maverick", intermediate_size=64, intermediate_size_mlp=96,
                                     num_local_experts=4, num_experts_per_tok=2, num_attention_heads=4,
                                     num_key_value_heads=2, head_dim=32, attention_chunk_size=16,
                                     num_hidden_layers=4, hidden_size=128, vocab_size=512),
}
STATE_CONFIGS.update(LLAMA4_CONFIGS)
# issue 10, branch moefams (repos as cited in test_params_torch.REAL_CONFIGS), shrunk with every switch kept:
# MiniMax-M2 (256 experts top-8 -> 4 top-2 in every layer, the router's correction-bias buffer, q/k RMSNorm over the
# whole projection, 48 / 8 heads of 128 -> 4 / 2 of 32, its MTP fields announcing modules transformers does not build)
MOEFAMS_CONFIGS = {
    "minimax-m2": shrunk("minimax_m2", intermediate_size=64, num_attention_heads=4, num_key_value_heads=2,
                         head_dim=32, rotary_dim=16, num_local_experts=4, num_experts_per_tok=2,
                         attn_type_list=[1, 1], **SMALL),
    # dots.llm1: a dense first layer, 128 experts top-6 -> 4 top-2 and its 2 shared experts, biases on, window 16 on
    # layer 1 (max_window_layers 1)
    "dots.llm1": shrunk("dots1", intermediate_size=256, moe_intermediate_size=32, n_routed_experts=4,
                        num_experts_per_tok=2, num_attention_heads=4, num_key_value_heads=2, attention_bias=True,
                        sliding_window=16, max_window_layers=1, **SMALL),
    # EXAONE-4.0-32B: post-norms, q/k norms over head_dim, 40 / 8 heads of 128 -> 4 / 2 of 32, window 4096 -> 16 on
    # layers 0-2 of 4, layer 3 full
    "exaone-4.0-32b": shrunk("exaone4", intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
                             head_dim=32, sliding_window=16, hidden_size=128, num_hidden_layers=4, vocab_size=512),
}
STATE_CONFIGS.update(MOEFAMS_CONFIGS)


def build(transformers, cfg, attn="eager", dtype=None):
    import torch
    kwargs = {k: v for k, v in cfg.items() if k != "model_type"}
    config = transformers.AutoConfig.for_model(cfg["model_type"], **kwargs)
    config._attn_implementation = attn
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config)
    if dtype is not None:
        model = model.to(dtype)
    return model


def unique_bytes(tensors):
    seen = {}
    for t in tensors:
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    return sum(seen.values())


def described(mem, cfg, where=None):
    """The shared model block's reading of a config dict (model_from_config): the Model the memory script uses."""
    model, _notes = mem.model_from_config(dict(cfg), where or cfg["model_type"])
    return model


@pytest.mark.parametrize("name", sorted(STATE_CONFIGS))
def test_model_states_equal_tensor_bytes_after_a_real_step(mem, name):
    torch, transformers = torch_and_transformers()
    cfg = STATE_CONFIGS[name]
    model = build(transformers, cfg)
    model.train()
    params = list({p.data_ptr(): p for p in model.parameters()}.values())
    ids = torch.randint(0, cfg["vocab_size"], (2, 16))
    model(input_ids=ids, labels=ids).loss.backward()
    mem_model = described(mem, cfg)
    assert mem.count_params(mem_model)["total"] == sum(p.numel() for p in params)
    weights = unique_bytes(params)
    grads = unique_bytes([p.grad for p in params])
    for optimizer, make in (("adamw", lambda: torch.optim.AdamW(params, lr=1e-3)),
                            ("adafactor", lambda: torch.optim.Adafactor(params, lr=1e-3)),
                            ("sgd-momentum", lambda: torch.optim.SGD(params, lr=1e-3, momentum=0.9))):
        opt = make()
        opt.step()  # one real step on the same gradients creates this optimizer's full state
        states = unique_bytes([v for st in opt.state.values() for v in st.values() if torch.is_tensor(v)])
        setup = mem.TrainSetup(precision="fp32", optimizer=optimizer, seq_len=16, micro_batch=2)
        r = mem.training_memory(mem_model, setup)["per_gpu"]
        assert (r["weights"], r["gradients"], r["master_weights"]) == (weights, grads, 0)
        assert r["optimizer_states"] == states, optimizer


def cache_bytes(cache):
    total = 0
    for layer in cache.layers:
        for t in (layer.keys, layer.values):
            if t is not None and t.numel():
                total += t.numel() * t.element_size()
    return total


@pytest.mark.parametrize("name, cfg, length", [
    ("llama-3-8b", LLAMA_3_8B, 37), ("mistral-7b (all sliding)", MISTRAL_7B, 40),
    ("gemma-2-9b (alternating)", GEMMA_2_9B, 40), ("gemma-2-9b (short)", GEMMA_2_9B, 9),
    ("deepseek-v3 (MLA)", DEEPSEEK_V3, 12),
    # gpt-oss: the sliding (even) layers keep window - 1 = 15 tokens of 40, the full ones all 40; the sinks are no cache
    ("gpt-oss-20b (alternating)", GPT_OSS, 40), ("gpt-oss-20b (short)", GPT_OSS, 9),
    *[(name, cfg, 40) for name, cfg in FAMILY_CONFIGS.items()],
    *[(name, cfg, 40) for name, cfg in ISSUE10_CONFIGS.items()],
    *[(name, cfg, 40) for name, cfg in FAMILIES2_CONFIGS.items()],
    *[(name, cfg, 40) for name, cfg in MOEFAMS_CONFIGS.items()],
    # Qwen's use_sliding_window switched on (window 16): Qwen2 slides layers >= max_window_layers, Qwen2-MoE the
    # even layers below it; with it off (as published) the sliding_window field must not cap anything.
    ("qwen2.5-7b (use_sliding_window)", dict(QWEN25_7B, use_sliding_window=True, sliding_window=16,
                                             max_window_layers=1), 40),
    ("qwen1.5-moe (use_sliding_window)", dict(QWEN2_MOE, use_sliding_window=True, sliding_window=16,
                                              max_window_layers=2), 40),
    ("qwen2.5-7b (window field, switch absent)", {k: v for k, v in dict(QWEN25_7B, sliding_window=16).items()
                                                  if k != "use_sliding_window"}, 40),
])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_kv_cache_equals_transformers_dynamic_cache(mem, name, cfg, length, dtype_name):
    torch, transformers = torch_and_transformers()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    ids = torch.randint(0, cfg["vocab_size"], (3, length))
    with torch.no_grad():
        out = model(input_ids=ids, use_cache=True)
    measured = cache_bytes(out.past_key_values)
    # transformers keeps window - 1 tokens in a dynamic sliding layer ("hf-dynamic"); MLA caches the latent
    expected = mem.kv_cache_bytes(described(mem, cfg), 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"]
    assert measured == expected


@pytest.mark.parametrize("name", sorted(LLAMA4_CONFIGS))
@pytest.mark.parametrize("length", [9, 16, 17, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_llama4_kv_cache_equals_transformers_dynamic_cache(mem, name, length, dtype_name):
    """transformers caches a chunked layer as a sliding one of the chunk size (cache_utils: "chunked_attention" ->
    DynamicSlidingWindowLayer(attention_chunk_size)), keeping the last chunk - 1 = 15 tokens after a prefill; the
    NoPE layer keeps all of them.  By hand for 3 sequences of 40 tokens, 2 KV heads of 32, K and V, fp32:
    3 x (3 x 15 + 40) x 2 x 2 x 32 x 4 B = 130,560 B."""
    torch, transformers = torch_and_transformers()
    cfg = LLAMA4_CONFIGS[name]
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    ids = torch.randint(0, cfg["vocab_size"], (3, length))
    with torch.no_grad():
        out = model(input_ids=ids, use_cache=True)
    expected = mem.kv_cache_bytes(described(mem, cfg), 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"]
    assert cache_bytes(out.past_key_values) == expected
    if (length, dtype_name) == (40, "fp32"):
        assert expected == 3 * (3 * 15 + 40) * 2 * 2 * 32 * 4 == 130_560


def test_falcon_kv_cache_per_token_from_the_published_configs(mem):
    # tiiuae/falcon-7b: multi_query -> 1 K/V head of 4544 / 71 = 64, 32 layers: 2 x 32 x 1 x 64 x 2 B = 8,192 B.
    # tiiuae/falcon-40b: new_decoder_architecture with num_kv_heads 8, head 8192 / 128 = 64, 60 layers:
    # 2 x 60 x 8 x 64 x 2 B = 122,880 B (what a cache of the 8 groups holds, e.g. vLLM's); transformers' Falcon
    # broadcasts K/V to all 128 query heads before caching, 16x that (checked above on the shrunk model).
    falcon_7b = described(mem, _published("falcon"), "falcon-7b")
    falcon_40b = described(mem, _published("falcon_new"), "falcon-40b")
    assert mem.kv_cache_bytes(falcon_7b, 1, 1, "bf16")["bytes_per_token"] == 8_192
    assert mem.kv_cache_bytes(falcon_40b, 1, 1, "bf16")["bytes_per_token"] == 122_880
    assert mem.kv_cache_bytes(falcon_40b, 1, 1, "bf16", convention="hf-dynamic")["bytes_per_token"] == 16 * 122_880
    assert mem.kv_cache_bytes(falcon_7b, 1, 1, "bf16", convention="hf-dynamic")["bytes_per_token"] == 8_192


def test_kv_cache_equals_transformers_static_cache_with_window(mem):
    torch, transformers = torch_and_transformers()
    model = build(transformers, GEMMA_2_9B, attn="eager").eval()
    max_len = 48
    cache = transformers.StaticCache(config=model.config, max_cache_len=max_len)
    ids = torch.randint(0, 512, (2, 20))
    with torch.no_grad():
        model(input_ids=ids, past_key_values=cache, use_cache=True)
    # a static cache allocates max_cache_len tokens on full layers and min(max_cache_len, window) on sliding ones
    expected = mem.kv_cache_bytes(described(mem, GEMMA_2_9B), 2, max_len, "fp32", 1, "window")["total_bytes"]
    assert cache_bytes(cache) == expected


def saved_bytes_per_region(model, ids, torch):
    """Bytes autograd saves for backward inside the decoder layers (deduplicated by storage; parameters out)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    state = {"inside": False}
    seen = {}

    def pack(t):
        if state["inside"]:
            st = t.untyped_storage()
            if st.data_ptr() not in params:
                seen[st.data_ptr()] = st.nbytes()
        return t

    hooks = []
    body = next(getattr(model, name) for name in ("model", "gpt_neox", "transformer") if hasattr(model, name))
    body = getattr(body, "decoder", body)  # OPT keeps its layers in model.decoder
    for layer in getattr(body, "layers", None) or body.h:
        hooks.append(layer.register_forward_pre_hook(lambda *a: state.update(inside=True)))
        hooks.append(layer.register_forward_hook(lambda *a: state.update(inside=False)))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(input_ids=ids, labels=ids).loss
    for h in hooks:
        h.remove()
    loss.backward()
    return sum(seen.values())


# (config, attention implementations to check). Gemma-2 has no SDPA path in transformers (softcapping); DeepSeek-V3's
# MLA has q/k and v head dims that differ, for which PyTorch's CPU SDPA falls back to its math kernel (scores
# stored like eager), so only eager is checked there.
ACTIVATION_CASES = [("llama-3-8b", LLAMA_3_8B, "eager"), ("llama-3-8b", LLAMA_3_8B, "sdpa"),
                    ("qwen2.5-7b", QWEN25_7B, "eager"), ("qwen2.5-7b", QWEN25_7B, "sdpa"),
                    ("llama-3.2-1b", LLAMA_32_1B, "sdpa"), ("gemma-2-9b", GEMMA_2_9B, "eager"),
                    ("mixtral-8x7b", MIXTRAL_8X7B, "eager"), ("mixtral-8x7b", MIXTRAL_8X7B, "sdpa"),
                    ("qwen1.5-moe", QWEN2_MOE, "sdpa"), ("deepseek-v3", DEEPSEEK_V3, "eager"),
                    ("gpt2", GPT2, "eager"), ("gpt2", GPT2, "sdpa"),
                    # eager experts (transformers' default loop): batched_mm would also save each token's gathered
                    # copy of its experts' weights, a cost of that implementation, not of the model
                    ("gpt-oss-20b", GPT_OSS, "eager")]
# The other families with dropout off (the estimate's masks are checked on GPT-2 above). BLOOM and GPT-J have no
# SDPA path in transformers. transformers' Falcon-7B hands SDPA a single K/V head for all query heads, which only
# PyTorch's math kernel accepts (the flash and memory-efficient kernels need equal head counts unless enable_gqa),
# so it stores the scores like eager: only eager is checked there.
_NO_DROPOUT = dict(attention_dropout=0.0, hidden_dropout=0.0, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                   dropout=0.0, residual_dropout=0.0, embedding_dropout=0.0)
ACTIVATION_CASES += [(name, dict(cfg, **{k: v for k, v in _NO_DROPOUT.items() if k in cfg}), attn)
                     for name, cfg in FAMILY_CONFIGS.items() for attn in ("eager", "sdpa")
                     if not (attn == "sdpa" and name in ("bloom-560m", "gpt-j-6b", "falcon-7b"))]


@pytest.mark.parametrize("name, cfg, attn", ACTIVATION_CASES, ids=[f"{n}-{a}" for n, _, a in ACTIVATION_CASES])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_activations_within_10_percent_of_saved_tensors(mem, name, cfg, attn, dtype_name):
    torch, transformers = torch_and_transformers()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn=attn, dtype=dtype).train()
    batch, seq = 2, 128
    ids = torch.randint(0, cfg["vocab_size"], (batch, seq))
    measured = saved_bytes_per_region(model, ids, torch)
    mem_model = described(mem, cfg)
    setup = mem.TrainSetup(precision=dtype_name, profile="hf", attn_implementation=attn, seq_len=seq, micro_batch=batch)
    estimate = sum(mem.activation_sum(mem.layer_activation_tensors(mem_model, setup, mem_model.layer_is_moe(i),
                                                                   mem_model.layer_attention(i)), "none")
                   for i in range(mem_model.num_layers))
    print(f"{name} {attn} {dtype_name}: measured {measured:,} B, estimate {estimate:,} B "
          f"(profile hf, {attn}, no dropout, {setup.precision} activations, MoE tokens x top-k)")
    assert abs(estimate - measured) <= 0.10 * measured


# EleutherAI/pythia-160m config.json (test_params_torch.REAL_CONFIGS["gpt_neox"]), shrunk: 768 -> 128 wide, 12 -> 4
# heads, 12 -> 2 layers. transformers' GPTNeoX eager attention runs its softmax in fp32 and casts the result back
# (modeling_gpt_neox.py: softmax(..., dtype=torch.float32).to(query.dtype)), so bf16 training saves both.
PYTHIA_160M = shrunk("gpt_neox", hidden_size=128, intermediate_size=512, num_attention_heads=4, num_hidden_layers=2,
                     vocab_size=512)


@pytest.mark.parametrize("attn, dtype_name", [
    ("sdpa", "fp32"), ("sdpa", "bf16"), ("eager", "fp32"), ("eager", "bf16")])
def test_gpt_neox_activations_within_10_percent_of_saved_tensors(mem, attn, dtype_name):
    test_activations_within_10_percent_of_saved_tensors(mem, "pythia-160m", PYTHIA_160M, attn, dtype_name)


@pytest.mark.parametrize("name", ["llama-3-8b", "llama-3.2-1b", "qwen2.5-7b", "gemma-2-9b", "gpt2"])
def test_muon_states_equal_torch_muon_plus_adamw(mem, name):
    # Muon (torch.optim.Muon) on 2-D hidden matrices; AdamW on embeddings, positions, LM head, norms and biases,
    # as the Muon README prescribes.
    torch, transformers = torch_and_transformers()
    cfg = STATE_CONFIGS[name]
    model = build(transformers, cfg).train()
    named = list({p.data_ptr(): (n, p) for n, p in model.named_parameters()}.values())
    embedding_like = ("embed", "wte", "wpe", "lm_head")
    hidden = [p for n, p in named if p.ndim == 2 and not any(e in n for e in embedding_like)]
    rest = [p for n, p in named if not (p.ndim == 2 and not any(e in n for e in embedding_like))]
    opts = [torch.optim.Muon(hidden, lr=1e-3), torch.optim.AdamW(rest, lr=1e-3)]
    ids = torch.randint(0, cfg["vocab_size"], (2, 16))
    model(input_ids=ids, labels=ids).loss.backward()
    for opt in opts:
        opt.step()
    states = unique_bytes([v for opt in opts for st in opt.state.values() for v in st.values() if torch.is_tensor(v)])
    setup = mem.TrainSetup(precision="fp32", optimizer="muon", seq_len=16, micro_batch=2)
    assert mem.training_memory(described(mem, cfg), setup)["per_gpu"]["optimizer_states"] == states


@pytest.mark.parametrize("name, cfg, attn", [
    ("llama-3-8b", dict(LLAMA_3_8B, hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                        num_key_value_heads=8, vocab_size=128256), "sdpa"),
    ("llama-3-8b", dict(LLAMA_3_8B, hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                        num_key_value_heads=8, vocab_size=128256), "eager"),
    ("mixtral-8x7b", dict(MIXTRAL_8X7B, hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
                          num_key_value_heads=8, vocab_size=32000), "sdpa"),
])
def test_activations_at_real_width_under_fake_tensors(mem, name, cfg, attn):
    # Published widths (Meta-Llama-3-8B, Mixtral-8x7B config.json), 2 layers, 2048 tokens, bf16: built under
    # FakeTensorMode, so autograd records real shapes without allocating them.
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    kwargs = {k: v for k, v in cfg.items() if k != "model_type"}
    config = transformers.AutoConfig.for_model(cfg["model_type"], **kwargs)
    config._attn_implementation = attn
    seq = 2048
    with FakeTensorMode():
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).train()
        params = {p.untyped_storage()._cdata for p in model.parameters()}
        state, seen = {"inside": False}, {}

        def pack(t):
            st = t.untyped_storage()
            if state["inside"] and st._cdata not in params:
                seen[st._cdata] = st.nbytes()
            return t

        for layer in model.model.layers:
            layer.register_forward_pre_hook(lambda *a: state.update(inside=True))
            layer.register_forward_hook(lambda *a: state.update(inside=False))
        ids = torch.randint(0, 1000, (1, seq))
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(input_ids=ids, labels=ids)
    measured = sum(seen.values())
    mem_model = described(mem, cfg)
    setup = mem.TrainSetup(precision="bf16", profile="hf", attn_implementation=attn, seq_len=seq, micro_batch=1)
    estimate = sum(mem.activation_sum(mem.layer_activation_tensors(mem_model, setup, mem_model.layer_is_moe(i), "full"),
                                      "none") for i in range(mem_model.num_layers))
    print(f"{name} {attn} real width: measured {measured:,} B, estimate {estimate:,} B")
    # At published widths every saved tensor the estimate lists is exact and the unlisted ones (norm statistics
    # aside, which hf counts) are O(s) against O(s h): 1 %, not the 10 % allowed for the 128-wide shrunk models,
    # where per-row terms weigh in (measured here: within 0.2 %).
    assert abs(estimate - measured) <= 0.01 * measured


# ---------------------------------------------------------------------------------------------------------------
# Every published config.json the params suite carries (tests/test_params_torch.py REAL_CONFIGS, each dict cited
# there to its Hugging Face model repo): the memory script's json-only reader must give the PyTorch parameter
# count to the unit, and the same number of parameter tensors (torch's optimizers keep per-tensor state, e.g.
# AdamW's float32 step, so the tensor list is part of the exact optimizer bytes).
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def meta_models():
    return {}


def meta_model_counts(name, cache):
    """(parameter elements, parameter tensors) of the transformers model built on the meta device (no memory)."""
    if name not in cache:
        torch, transformers = torch_and_transformers()
        raw = _published(name)
        config = transformers.AutoConfig.for_model(raw.pop("model_type"), **raw)
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(config)
        from test_params_torch import TOWER_PREFIXES  # a Gemma 3 wrapper's vision tower and projector: a note's
        tensors = [p for n, p in model.named_parameters() if not n.startswith(TOWER_PREFIXES)]  # tied ones once
        cache[name] = (sum(p.numel() for p in tensors), len(tensors))
    return cache[name]


@pytest.mark.parametrize("name", sorted(_real_configs()))
def test_real_config_json_parameter_count_equals_pytorch(mem, name, meta_models):
    numel, tensors = meta_model_counts(name, meta_models)
    mem_model = described(mem, _published(name), name)
    counted = mem.count_params(mem_model)
    assert counted["total"] == numel
    assert counted["tensors"] == tensors


# --- Qwen3-Next: K/V only in the attention layers; the delta-net layers' fixed conv and recurrent state ----------
@pytest.mark.parametrize("length", [3, 40, 70])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_qwen3_next_cache_equals_transformers_after_a_prefill(mem, length, dtype_name):
    """Qwen/Qwen3-Next-80B-A3B-Instruct's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk to 8 layers
    (layers 3 and 7 attend), a prefill of `length` tokens for 3 sequences: transformers' cache holds K and V of the
    2 attention layers (kv_cache_bytes), and per delta-net layer a conv state of (3, 2 kd + vd, kernel) in the model
    dtype and a recurrent state of (3, H_v, d_k, d_v) in fp32 (linear_state_bytes with conv_bytes = the dtype's)."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["qwen3_next"], num_hidden_layers=8, hidden_size=64, head_dim=16, num_attention_heads=4,
               num_key_value_heads=2, intermediate_size=96, linear_num_key_heads=2, linear_num_value_heads=4,
               linear_key_head_dim=8, linear_value_head_dim=12, num_experts=4, num_experts_per_tok=2,
               moe_intermediate_size=24, shared_expert_intermediate_size=24, vocab_size=503,
               bos_token_id=0, eos_token_id=0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())  # delta-net layers have neither
    conv = sum(t.numel() * t.element_size() for layer in cache.layers for t in getattr(layer, "conv_states", {}).values()
               if t is not None)
    recurrent = sum(t.numel() * t.element_size() for layer in cache.layers
                    for t in getattr(layer, "recurrent_states", {}).values() if t is not None)
    described_model = described(mem, cfg)
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 2 * 3 * length * 2 * 2 * 16 * {"fp32": 4, "bf16": 2}[dtype_name]  # 2 layers x K, V of 2 heads x 16
    state = mem.linear_state_bytes(described_model, 3, conv_bytes={"fp32": 4, "bf16": 2}[dtype_name])
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, recurrent)
    # by hand: 6 delta-net layers; conv width 2 x 16 + 48 = 80 over kernel 4; 4 value heads of an 8 x 12 fp32 state
    assert (conv, recurrent) == (6 * 3 * 80 * 4 * {"fp32": 4, "bf16": 2}[dtype_name], 6 * 3 * 4 * 8 * 12 * 4)


def test_qwen3_next_80b_a3b_serving_memory_by_hand(mem):
    """The published model at 32k context, batch 1, bf16: weights 2 B x 79,674,391,296; K/V of its 12 attention
    layers (2 KV heads of 256); 36 delta-net states of (2 x 2048 + 4096) x 4 bf16 conv values and 32 x 128 x 128
    fp32 values."""
    status, out, err = call_main(mem, ["--preset", "qwen3-next-80b-a3b", "--infer", "--context", "32768", "--json"])
    assert status == 0, err
    per_gpu = json.loads(out)["per_gpu"]
    assert per_gpu["weights"] == 2 * 79_674_391_296
    assert per_gpu["kv_cache"] == 12 * 2 * 2 * 256 * 2 * 32768
    assert per_gpu["linear_state"] == 36 * (8192 * 4 * 2 + 32 * 128 * 128 * 4)


# --- Qwen3.5 (issue 10, branch qwen35): Qwen3-Next's cache layout, read from the multimodal file's text_config ---
def _qwen3_5_shrunk(name):
    """The published Qwen3.5 files (test_params_torch REAL_CONFIGS "qwen3_5" = the 27B dense, "qwen3_5_moe" = the
    397B-A17B; cited there), their text_config shrunk to 8 layers (layers 3 and 7 attend): 2 key / 4 value
    delta-net heads of 8 / 12, 2 KV heads of 16; the MoE one with 4 experts top-2."""
    from test_params_torch import REAL_CONFIGS
    config = json.loads(json.dumps(REAL_CONFIGS[name]))
    text = dict(config["text_config"], num_hidden_layers=8, hidden_size=64, head_dim=16, num_attention_heads=4,
                num_key_value_heads=2, linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=8,
                linear_value_head_dim=12, vocab_size=503, bos_token_id=0, eos_token_id=0)
    text["layer_types"] = text["layer_types"][:8]
    if name == "qwen3_5_moe":
        text.update(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=24, shared_expert_intermediate_size=24)
    else:
        text["intermediate_size"] = 96
    return dict(config, text_config=text)


@pytest.mark.parametrize("name", ["qwen3_5", "qwen3_5_moe"])
@pytest.mark.parametrize("length", [3, 70])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_qwen3_5_cache_equals_transformers_after_a_prefill(mem, name, length, dtype_name):
    """A prefill of `length` tokens for 3 sequences on the shrunk Qwen3.5 files: transformers' cache holds K and V of
    the 2 attention layers only (kv_cache_bytes), and per delta-net layer a conv state of (3, 2 kd + vd, kernel) in
    the model dtype and a fp32 recurrent state of (3, H_v, d_k, d_v) (linear_state_bytes): Qwen3-Next's layout, the
    file's mamba_ssm_dtype (float32) changing nothing in transformers."""
    torch, transformers = torch_and_transformers()
    cfg = _qwen3_5_shrunk(name)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    assert type(model).__name__ == {"qwen3_5": "Qwen3_5ForCausalLM", "qwen3_5_moe": "Qwen3_5MoeForCausalLM"}[name]
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())
    conv = sum(t.numel() * t.element_size() for layer in cache.layers
               for t in getattr(layer, "conv_states", {}).values() if t is not None)
    recurrent = sum(t.numel() * t.element_size() for layer in cache.layers
                    for t in getattr(layer, "recurrent_states", {}).values() if t is not None)
    described_model = described(mem, cfg)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 2 * 3 * length * 2 * 2 * 16 * size  # 2 layers x K, V of 2 heads x 16
    state = mem.linear_state_bytes(described_model, 3, conv_bytes=size)
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, recurrent)
    # by hand: 6 delta-net layers; conv width 2 x 16 + 48 = 80 over kernel 4; 4 value heads of an 8 x 12 fp32 state
    assert (conv, recurrent) == (6 * 3 * 80 * 4 * size, 6 * 3 * 4 * 8 * 12 * 4)


def test_qwen3_5_397b_a17b_serving_memory_by_hand(mem):
    """The published MoE at 32k context, batch 1, bf16: weights 2 B x 396,346,350,336 (the language model); K/V of
    its 15 attention layers (2 KV heads of 256); 45 delta-net states of (2 x 2048 + 8192) x 4 bf16 conv values and
    64 x 128 x 128 fp32 values.  Its training memory is refused in one line, as Qwen3-Next's."""
    status, out, err = call_main(mem, ["--preset", "qwen3.5-397b-a17b", "--infer", "--context", "32768", "--json"])
    assert status == 0, err
    per_gpu = json.loads(out)["per_gpu"]
    assert per_gpu["weights"] == 2 * 396_346_350_336
    assert per_gpu["kv_cache"] == 15 * 2 * 2 * 256 * 2 * 32768
    assert per_gpu["linear_state"] == 45 * (12288 * 4 * 2 + 64 * 128 * 128 * 4)
    status, out, err = call_main(mem, ["--preset", "qwen3.5-27b"])
    assert status == 2 and "gated delta-net" in err and len(err.strip().splitlines()) == 1


# issue 10, branch gemma -- google/gemma-3-27b-it's gemma3 wrapper (test_params_torch.REAL_CONFIGS["gemma3_27b"],
# cited there), shrunk with its switches kept: 7 layers (5 sliding, 1 full, 1 sliding), 4 / 2 heads of 16 (32 / 16 of
# 128 published), window 16 (1024), a 512-token vocabulary, and a one-layer SigLIP tower of 8 on 28-pixel images
# (mm_tokens_per_image 1: one soft token per image, so the projector's pooling fits the small image).
# AutoModelForCausalLM builds Gemma3ForConditionalGeneration; text-only input runs its language model alone.
def _gemma3_wrapper():
    published = _published("gemma3_27b")
    text = dict(published["text_config"], num_hidden_layers=7, hidden_size=64, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16, intermediate_size=96, vocab_size=512, sliding_window=16,
                query_pre_attn_scalar=16, pad_token_id=None, bos_token_id=None, eos_token_id=None)
    vision = dict(published["vision_config"], hidden_size=8, intermediate_size=16, num_hidden_layers=1,
                  num_attention_heads=2, image_size=28)
    return {k: v for k, v in dict(published, text_config=text, vision_config=vision, mm_tokens_per_image=1).items()
            if not k.endswith(("token_id", "token_index")) and k not in ("torch_dtype", "architectures")}


@pytest.mark.parametrize("length", [9, 16, 17, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_gemma3_wrapper_kv_cache_equals_transformers_dynamic_cache(mem, length, dtype_name):
    """The sliding layers keep window - 1 = 15 tokens after a prefill (DynamicSlidingWindowLayer), the full layer all
    of them.  By hand for 3 sequences of 40 tokens, 2 KV heads of 16, K and V, fp32:
    3 x (6 x 15 + 40) x 2 x 2 x 16 x 4 B = 99,840 B."""
    torch, transformers = torch_and_transformers()
    cfg = _gemma3_wrapper()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    ids = torch.randint(0, 512, (3, length))
    with torch.no_grad():
        out = model(input_ids=ids, use_cache=True)
    expected = mem.kv_cache_bytes(described(mem, cfg), 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"]
    assert cache_bytes(out.past_key_values) == expected
    if (length, dtype_name) == (40, "fp32"):
        assert expected == 3 * (6 * 15 + 40) * 2 * 2 * 16 * 4 == 99_840


def test_gemma3_wrapper_model_states_equal_tensor_bytes_after_a_real_step(mem):
    """Weights, gradients and optimizer states of the language model (the vision tower and projector, which the
    script's note counts apart, get no gradient from text and are left out of the step) equal the script's."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import TOWER_PREFIXES
    cfg = _gemma3_wrapper()
    model = build(transformers, cfg).train()
    params = list({p.data_ptr(): p for n, p in model.named_parameters() if not n.startswith(TOWER_PREFIXES)}.values())
    ids = torch.randint(0, 512, (2, 16))
    model(input_ids=ids, labels=ids).loss.backward()
    assert all(p.grad is None for n, p in model.named_parameters() if n.startswith(TOWER_PREFIXES))
    mem_model = described(mem, cfg)
    assert mem.count_params(mem_model)["total"] == sum(p.numel() for p in params)
    weights, grads = unique_bytes(params), unique_bytes([p.grad for p in params])
    for optimizer, make in (("adamw", lambda: torch.optim.AdamW(params, lr=1e-3)),
                            ("adafactor", lambda: torch.optim.Adafactor(params, lr=1e-3)),
                            ("sgd-momentum", lambda: torch.optim.SGD(params, lr=1e-3, momentum=0.9))):
        opt = make()
        opt.step()
        states = unique_bytes([v for st in opt.state.values() for v in st.values() if torch.is_tensor(v)])
        setup = mem.TrainSetup(precision="fp32", optimizer=optimizer, seq_len=16, micro_batch=2)
        r = mem.training_memory(mem_model, setup)["per_gpu"]
        assert (r["weights"], r["gradients"], r["master_weights"]) == (weights, grads, 0)
        assert r["optimizer_states"] == states, optimizer


# ---- issue 10, branch dsa: DeepSeek Sparse Attention -------------------------------------------------------------
# DeepSeek-V3.2 and GLM-5 (test_params_torch.REAL_CONFIGS, cited there), shrunk with every switch kept: MLA with its
# q-LoRA (1536 / 2048 -> 48, latent 512 -> 32, nope 128 / 192 -> 16, rope 64 -> 8, v 128 / 256 -> 16), the indexer
# (64 / 32 heads of 128 -> 4 of 16, top-2048 -> top-8 keys, so a 40-token prompt is sparse), 256 experts top-8 -> 8
# top-2 + 1 shared, 3 dense layers of 3 -> 1 of 3.
_DSA_SIZES = dict(hidden_size=128, intermediate_size=256, moe_intermediate_size=64, num_attention_heads=4,
                  num_key_value_heads=4, num_hidden_layers=3, first_k_dense_replace=1, vocab_size=512,
                  q_lora_rank=48, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
                  n_routed_experts=8, num_experts_per_tok=2, n_group=1, topk_group=1, index_n_heads=4,
                  index_head_dim=16, index_topk=8)
DSA_CONFIGS = {"deepseek-v3.2": {k: v for k, v in shrunk("deepseek_v32", **_DSA_SIZES).items() if k != "ep_size"},
               "glm-5": {k: v for k, v in shrunk("glm_moe_dsa", **_DSA_SIZES, qk_head_dim=24).items()
                         if k not in ("dtype", "ep_size")}}


def _indexed_cache_bytes(cache):
    """Bytes of a DSA cache (transformers 5.23 cache_utils.DynamicIndexedLayer): the MLA latent's two parts (keys:
    the normalised kv latent, values: the roped key part) and the indexer's keys, per layer."""
    keys_and_values, indexer = cache_bytes(cache), 0
    for layer in cache.layers:
        if getattr(layer, "indexer_keys", None) is not None:
            indexer += layer.indexer_keys.numel() * layer.indexer_keys.element_size()
    return keys_and_values, indexer


@pytest.mark.parametrize("name", sorted(DSA_CONFIGS))
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_dsa_kv_cache_counts_the_indexer_keys_as_transformers_caches_them(mem, name, dtype_name):
    torch, transformers = torch_and_transformers()
    cfg = DSA_CONFIGS[name]
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    ids = torch.randint(0, cfg["vocab_size"], (3, 40))
    with torch.no_grad():
        out = model(input_ids=ids, use_cache=True)
    latent, indexer = _indexed_cache_bytes(out.past_key_values)
    width = {"fp32": 4, "bf16": 2}[dtype_name]
    # by hand: 3 layers x 3 sequences x 40 tokens x (32 + 8 latent values, 16 indexer values) x element width
    assert (latent, indexer) == (3 * 3 * 40 * (32 + 8) * width, 3 * 3 * 40 * 16 * width)
    expected = mem.kv_cache_bytes(described(mem, cfg), 3, 40, dtype_name, 1, "hf-dynamic")
    assert expected["total_bytes"] == latent + indexer
    assert expected["bytes_per_token"] == 3 * (32 + 8 + 16) * width


@pytest.mark.parametrize("name", sorted(DSA_CONFIGS))
def test_dsa_model_states_after_a_real_step(mem, name):
    """transformers runs the indexer under torch.no_grad (DeepseekV32Indexer.forward): the language-model loss leaves
    its parameters without a gradient.  DeepSeek trains it with its own KL loss, its input detached from the main
    graph (the DeepSeek-V3.2 report's continued pre-training), so a run that trains it holds a gradient and optimizer state for every indexer parameter, which
    the memory script counts: the step below gives them a gradient of their shape, then weights, gradients and
    AdamW / Adafactor / SGD-momentum states equal the tensors' bytes as for every other family."""
    torch, transformers = torch_and_transformers()
    cfg = DSA_CONFIGS[name]
    model = build(transformers, cfg)
    model.train()
    params = list({p.data_ptr(): p for p in model.parameters()}.values())
    ids = torch.randint(0, cfg["vocab_size"], (2, 16))
    model(input_ids=ids, labels=ids).loss.backward()
    indexer = [p for n, p in model.named_parameters() if ".indexer." in n]
    assert len(indexer) == 3 * 5 and all(p.grad is None for p in indexer)  # wq_b, wk, k_norm (2), weights_proj
    assert all(p.grad is not None for p in params if all(p is not q for q in indexer))
    for p in indexer:
        p.grad = torch.zeros_like(p)  # the indexer's own loss would give it one
    mem_model = described(mem, cfg)
    assert mem.count_params(mem_model)["total"] == sum(p.numel() for p in params)
    weights, grads = unique_bytes(params), unique_bytes([p.grad for p in params])
    for optimizer, make in (("adamw", lambda: torch.optim.AdamW(params, lr=1e-3)),
                            ("adafactor", lambda: torch.optim.Adafactor(params, lr=1e-3)),
                            ("sgd-momentum", lambda: torch.optim.SGD(params, lr=1e-3, momentum=0.9))):
        opt = make()
        opt.step()
        states = unique_bytes([v for st in opt.state.values() for v in st.values() if torch.is_tensor(v)])
        setup = mem.TrainSetup(precision="fp32", optimizer=optimizer, seq_len=16, micro_batch=2)
        r = mem.training_memory(mem_model, setup)["per_gpu"]
        assert (r["weights"], r["gradients"], r["master_weights"]) == (weights, grads, 0)
        assert r["optimizer_states"] == states, optimizer


# --- issue 10, branch mamba: Bamba: K/V only in the attention layers; the Mamba-2 layers' conv and SSM state -------
@pytest.mark.parametrize("length", [3, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_bamba_cache_equals_transformers_after_a_prefill(mem, length, dtype_name):
    """ibm-ai-platform/Bamba-9B's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk to 6 layers
    (layers 2 and 5 attend), a prefill of `length` tokens for 3 sequences: transformers' cache holds K and V of the
    2 attention layers (kv_cache_bytes), and per Mamba-2 layer a conv state of (3, H P + 2 G N, kernel) in the model
    dtype and an SSM state of (3, H, P, N) in fp32 (linear_state_bytes with conv_bytes = the dtype's)."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["bamba"], num_hidden_layers=6, attn_layer_indices=[2, 5], hidden_size=64,
               num_attention_heads=4, num_key_value_heads=2, intermediate_size=96, mamba_n_heads=8, mamba_d_head=16,
               mamba_n_groups=2, mamba_d_state=12, mamba_chunk_size=16, vocab_size=503)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())  # Mamba-2 layers have neither
    conv = sum(t.numel() * t.element_size() for layer in cache.layers for t in getattr(layer, "conv_states", {}).values()
               if t is not None)
    recurrent = sum(t.numel() * t.element_size() for layer in cache.layers
                    for t in getattr(layer, "recurrent_states", {}).values() if t is not None)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    described_model = described(mem, cfg)
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 2 * 3 * length * 2 * 2 * 16 * size  # 2 layers x K, V of 2 heads x 16
    state = mem.linear_state_bytes(described_model, 3, conv_bytes=size)
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, recurrent)
    # by hand: 4 Mamba-2 layers; conv channels 8 x 16 + 2 x 2 x 12 = 176 over kernel 4; 8 heads of a 16 x 12 fp32 state
    assert (conv, recurrent) == (4 * 3 * 176 * 4 * size, 4 * 3 * 8 * 16 * 12 * 4)


def test_bamba_9b_serving_memory_by_hand(mem):
    """Bamba-9B from its config.json at 32k context, batch 1, bf16: weights 2 B x 9,780,235,392; K/V of its 3
    attention layers (8 KV heads of 128); 29 Mamba-2 states of (8192 + 2 x 128) x 4 bf16 conv values and
    128 x 64 x 128 fp32 values, on their own line; training memory refused in one line
    under the default megatron profile (measured for --profile hf only: tests/test_mem_timeline_hybrid.py)."""
    import tempfile, os
    from test_params_torch import REAL_CONFIGS
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(REAL_CONFIGS["bamba"], f)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768", "--json"])
        assert status == 0, err
        per_gpu = json.loads(out)["per_gpu"]
        assert per_gpu["weights"] == 2 * 9_780_235_392
        assert per_gpu["kv_cache"] == 3 * 2 * 8 * 128 * 2 * 32768
        assert per_gpu["linear_state"] == 29 * (8448 * 4 * 2 + 128 * 64 * 128 * 4)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768"])
        assert status == 0 and "29 Mamba-2 layers keep a fixed state" in out, err
        status, out, err = call_main(mem, ["--config", path])
        assert status == 2 and out == "" and err.count("\n") == 1 and "Mamba-2 layers (bamba)" in err
        assert "--profile hf" in err


# --- issue 10, branch hybrid: Nemotron-H: K/V only in its attention layers, the Mamba-2 state on its own line ------
@pytest.mark.parametrize("length", [3, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_nemotron_h_cache_equals_transformers_after_a_prefill(mem, length, dtype_name):
    """NVIDIA-Nemotron-3-Nano-30B-A3B's config.json (test_params_torch REAL_CONFIGS "nemotron_h_moe", cited there)
    shrunk to 8 layers M-*EM*-E, a prefill of `length` tokens for 3 sequences: transformers' cache holds K and V of
    the 2 attention layers only (the MLP and MoE layers cache nothing), and per Mamba-2 layer a conv state of
    (3, H P + 2 G N, kernel) in the model dtype and an SSM state of (3, H, P, N) in fp32."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["nemotron_h_moe"], hybrid_override_pattern="M-*EM*-E", hidden_size=64,
               num_attention_heads=4, num_key_value_heads=2, head_dim=16, mamba_num_heads=8, mamba_head_dim=16,
               n_groups=2, ssm_state_size=12, chunk_size=16, intermediate_size=96, vocab_size=503, n_routed_experts=4,
               num_experts_per_tok=2, moe_intermediate_size=24, moe_shared_expert_intermediate_size=40)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())
    conv = sum(t.numel() * t.element_size() for layer in cache.layers for t in getattr(layer, "conv_states", {}).values()
               if t is not None)
    recurrent = sum(t.numel() * t.element_size() for layer in cache.layers
                    for t in getattr(layer, "recurrent_states", {}).values() if t is not None)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    described_model = described(mem, cfg)
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 2 * 3 * length * 2 * 2 * 16 * size  # 2 attention layers x K, V of 2 heads x 16
    state = mem.linear_state_bytes(described_model, 3, conv_bytes=size)
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, recurrent)
    # by hand: 2 Mamba-2 layers; conv channels 8 x 16 + 2 x 2 x 12 = 176 over kernel 4; 8 heads of a 16 x 12 fp32 state
    assert (conv, recurrent) == (2 * 3 * 176 * 4 * size, 2 * 3 * 8 * 16 * 12 * 4)


def test_nemotron_h_8b_serving_memory_by_hand(mem):
    """Nemotron-H-8B from its config.json at 32k context, batch 1, bf16: weights 2 B x 8,100,852,736; K/V of its 4
    attention layers (8 KV heads of 128); 24 Mamba-2 states of (8192 + 2 x 8 x 128) x 4 bf16 conv values and
    128 x 64 x 128 fp32 values, on their own line; training memory refused in one line under the default megatron
    profile (measured for --profile hf only: tests/test_mem_timeline_hybrid.py)."""
    import tempfile, os
    from test_params_torch import REAL_CONFIGS
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(REAL_CONFIGS["nemotron_h"], f)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768", "--json"])
        assert status == 0, err
        per_gpu = json.loads(out)["per_gpu"]
        assert per_gpu["weights"] == 2 * 8_100_852_736
        assert per_gpu["kv_cache"] == 4 * 2 * 8 * 128 * 2 * 32768
        assert per_gpu["linear_state"] == 24 * (10240 * 4 * 2 + 128 * 64 * 128 * 4)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768"])
        assert status == 0 and "K/V of the 4 attention layers only; the 24 Mamba-2 layers keep a fixed state" in out
        status, out, err = call_main(mem, ["--config", path])
        assert status == 2 and out == "" and err.count("\n") == 1 and "Mamba-2 layers (nemotron_h)" in err
        assert "--profile hf" in err


# --- issue 10, branch hybrid: Falcon-H1: K/V in every layer AND each layer's Mamba-2 state, on its own line ----------
@pytest.mark.parametrize("length", [3, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_falcon_h1_cache_equals_transformers_after_a_prefill(mem, length, dtype_name):
    """tiiuae/Falcon-H1-0.5B's config.json (test_params_torch REAL_CONFIGS "falcon_h1", cited there) shrunk to 3
    layers, a prefill of `length` tokens for 3 sequences: transformers' cache holds K and V of every layer (attention
    runs beside the mixer in each) and, per layer, a conv state of (3, H P + 2 G N, kernel) in the model dtype and an
    SSM state of (3, H, P, N) in fp32."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["falcon_h1"], num_hidden_layers=3, hidden_size=64, num_attention_heads=4,
               num_key_value_heads=2, head_dim=16, mamba_d_ssm=128, mamba_n_heads=8, mamba_d_head=16, mamba_n_groups=2,
               mamba_d_state=12, mamba_chunk_size=16, intermediate_size=96, vocab_size=503)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())
    conv = sum(t.numel() * t.element_size() for layer in cache.layers for t in getattr(layer, "conv_states", {}).values()
               if t is not None)
    recurrent = sum(t.numel() * t.element_size() for layer in cache.layers
                    for t in getattr(layer, "recurrent_states", {}).values() if t is not None)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    described_model = described(mem, cfg)
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 3 * 3 * length * 2 * 2 * 16 * size  # 3 layers x K, V of 2 heads x 16
    state = mem.linear_state_bytes(described_model, 3, conv_bytes=size)
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, recurrent)
    # by hand: 3 layers; conv channels 128 + 2 x 2 x 12 = 176 over kernel 4; 8 heads of a 16 x 12 fp32 state
    assert (conv, recurrent) == (3 * 3 * 176 * 4 * size, 3 * 3 * 8 * 16 * 12 * 4)


def test_falcon_h1_0_5b_serving_memory_by_hand(mem):
    """Falcon-H1-0.5B from its config.json at 32k context, batch 1, bf16: weights 2 B x 521,411,104; K/V of all 36
    layers (2 KV heads of 64); 36 Mamba-2 states of (1536 + 2 x 128) x 4 bf16 conv values and 24 x 64 x 128 fp32
    values, on their own line; training memory refused in one line without --profile hf."""
    import tempfile, os
    from test_params_torch import REAL_CONFIGS
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(REAL_CONFIGS["falcon_h1"], f)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768", "--json"])
        assert status == 0, err
        per_gpu = json.loads(out)["per_gpu"]
        assert per_gpu["weights"] == 2 * 521_411_104
        assert per_gpu["kv_cache"] == 36 * 2 * 2 * 64 * 2 * 32768
        assert per_gpu["linear_state"] == 36 * (1792 * 4 * 2 + 24 * 64 * 128 * 4)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768"])
        assert status == 0 and "K/V of all 36 layers, and beside it each layer's Mamba-2 mixer" in out, err
        # training: measured under --profile hf only (tests/test_mem_timeline_hybrid.py); the default profile refused
        status, out, err = call_main(mem, ["--config", path])
        assert status == 2 and out == "" and err.count("\n") == 1 and "Mamba-2 layers (falcon_h1)" in err
        assert "--profile hf" in err


# --- MiMo-V2-Flash (issue 10, branch mimo): sliding layers cache twice the KV heads, values narrower than keys -----
@pytest.mark.parametrize("length", [5, 9, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_mimo_v2_flash_kv_cache_equals_transformers_dynamic_cache(mem, length, dtype_name):
    """XiaomiMiMo/MiMo-V2-Flash's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk to 4 layers (full,
    sliding, sliding, full), 2 KV heads on full layers and 4 on sliding ones, keys of 16 and values of 8 per head,
    sliding_window_size 8 (window 9): after a prefill of `length` tokens for 3 sequences transformers' cache holds,
    per full layer, K (3, 2, length, 16) and V (3, 2, length, 8); per sliding layer the last window - 1 = 8 tokens
    of K (3, 4, ., 16) and V (3, 4, ., 8).  The sinks are parameters, no cache."""
    torch, transformers = torch_and_transformers()
    types = ["full_attention", "sliding_attention", "sliding_attention", "full_attention"]
    cfg = shrunk("mimo_v2_flash", num_hidden_layers=4, hidden_size=64, head_dim=16, v_head_dim=8,
                 num_attention_heads=4, num_key_value_heads=2, swa_num_attention_heads=4, swa_num_key_value_heads=4,
                 swa_head_dim=16, swa_v_head_dim=8, intermediate_size=48, moe_intermediate_size=24,
                 n_routed_experts=4, num_experts_per_tok=2, vocab_size=503, sliding_window_size=8, layer_types=types,
                 hybrid_layer_pattern=[0, 1, 1, 0], moe_layer_freq=[0, 1, 1, 1])
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        out = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True)
    measured = cache_bytes(out.past_key_values)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    by_hand = 2 * 3 * length * 2 * (16 + 8) * size + 2 * 3 * min(length, 8) * 4 * (16 + 8) * size
    assert measured == by_hand
    assert mem.kv_cache_bytes(described(mem, cfg), 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] == by_hand


def test_mimo_v2_flash_serving_memory_by_hand_and_training_refused(mem, tmp_path):
    """The published config at 32k context, batch 1, bf16 ('window' convention: a sliding layer holds its 129-token
    window): weights 2 B x 308,778,768,832; K/V of 9 full layers (4 heads x (192 + 128)) over 32768 tokens and of 39
    sliding layers (8 heads) over 129.  Training memory is refused in one line (per-layer saved activations not
    modelled)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_published("mimo_v2_flash")))
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--context", "32768", "--json"])
    assert status == 0, err
    per_gpu = json.loads(out)["per_gpu"]
    assert per_gpu["weights"] == 2 * 308_778_768_832
    assert per_gpu["kv_cache"] == 9 * 4 * 320 * 2 * 32768 + 39 * 8 * 320 * 2 * 129
    status, out, err = call_main(mem, ["--config", str(path)])
    assert status == 2 and "mimo_v2_flash" in err and len(err.strip().splitlines()) == 1


# --- LFM2 (issue 10, branch mimo): K/V in the attention layers only; each short-convolution layer's conv state -----
@pytest.mark.parametrize("length", [2, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_lfm2_cache_equals_transformers_after_a_prefill(mem, length, dtype_name):
    """LiquidAI/LFM2-1.2B's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk to 4 layers (conv, conv,
    attention, conv), h 64, 4 heads / 2 KV heads of 16, kernel 3: after a prefill of `length` tokens for 3 sequences
    transformers' cache holds K and V (3, 2, length, 16) of the attention layer (kv_cache_bytes) and per conv layer
    a conv state (3, 64, 3) in the model dtype (linear_state_bytes), by hand."""
    torch, transformers = torch_and_transformers()
    cfg = shrunk("lfm2", num_hidden_layers=4, hidden_size=64, block_dim=64, conv_dim=64, conv_dim_out=64,
                 num_attention_heads=4, num_heads=4, num_key_value_heads=2, head_dim=16, block_ff_dim=96,
                 block_multiple_of=16, vocab_size=503, layer_types=["conv", "conv", "full_attention", "conv"])
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())
    conv = sum(t.numel() * t.element_size() for layer in cache.layers for t in getattr(layer, "conv_states", {}).values()
               if t is not None)
    described_model = described(mem, cfg)
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 3 * length * 2 * 2 * 16 * size
    state = mem.linear_state_bytes(described_model, 3, conv_bytes=size)
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, 0) == (3 * 3 * 64 * 3 * size, 0)


def test_lfm2_1_2b_serving_memory_by_hand(mem, tmp_path):
    """The published LFM2-1.2B at 32k context, batch 1, bf16: weights 2 B x 1,170,340,608; K/V of its 6 attention
    layers (8 KV heads of 64); 10 short-conv states of 2048 x 3 bf16 values, on their own line."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_published("lfm2")))
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--context", "32768", "--json"])
    assert status == 0, err
    per_gpu = json.loads(out)["per_gpu"]
    assert per_gpu["weights"] == 2 * 1_170_340_608
    assert per_gpu["kv_cache"] == 6 * 2 * 8 * 64 * 2 * 32768
    assert per_gpu["conv_state"] == 10 * 2048 * 3 * 2


# --- issue 10, branch jamba: Jamba: K/V only in the attention layers; the Mamba-1 layers' conv and SSM state -------
@pytest.mark.parametrize("length", [3, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_jamba_cache_equals_transformers_after_a_prefill(mem, length, dtype_name):
    """ai21labs/AI21-Jamba-1.5-Mini's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk to 6 layers
    (attention on layers 1 and 4: period 3, offset 1; MoE on the odd ones), a prefill of `length` tokens for 3
    sequences: transformers' cache holds K and V of the 2 attention layers (kv_cache_bytes), and per Mamba-1 layer a
    conv state of (3, d, kernel) in the model dtype and an SSM state of (3, d, N) in fp32 (linear_state_bytes with
    conv_bytes = the dtype's)."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["jamba"], num_hidden_layers=6, attn_layer_period=3, attn_layer_offset=1, hidden_size=64,
               num_attention_heads=4, num_key_value_heads=2, intermediate_size=24, num_experts=4, mamba_d_state=12,
               mamba_dt_rank=8, vocab_size=503)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        cache = model(input_ids=torch.randint(0, 503, (3, length)), use_cache=True).past_key_values
    kv = sum(t.numel() * t.element_size() for layer in cache.layers for t in (getattr(layer, "keys", None),
             getattr(layer, "values", None)) if t is not None and t.numel())  # Mamba-1 layers have neither
    conv = sum(t.numel() * t.element_size() for layer in cache.layers for t in getattr(layer, "conv_states", {}).values()
               if t is not None)
    recurrent = sum(t.numel() * t.element_size() for layer in cache.layers
                    for t in getattr(layer, "recurrent_states", {}).values() if t is not None)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    described_model = described(mem, cfg)
    assert kv == mem.kv_cache_bytes(described_model, 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] \
        == 2 * 3 * length * 2 * 2 * 16 * size  # 2 layers x K, V of 2 heads x 16
    state = mem.linear_state_bytes(described_model, 3, conv_bytes=size)
    assert (state["conv_bytes"], state["recurrent_bytes"]) == (conv, recurrent)
    # by hand: 4 Mamba-1 layers; d = 2 x 64 = 128 channels over kernel 4; a 128 x 12 fp32 state
    assert (conv, recurrent) == (4 * 3 * 128 * 4 * size, 4 * 3 * 128 * 12 * 4)


def test_jamba_1_5_mini_serving_memory_by_hand(mem):
    """AI21-Jamba-1.5-Mini from its config.json at 32k context, batch 1, bf16: weights 2 B x 51,570,323,328; K/V of
    its 4 attention layers (8 KV heads of 128); 28 Mamba-1 states of 8192 x 4 bf16 conv values and 8192 x 16 fp32
    values, on their own line; training memory refused in one line."""
    import tempfile, os
    from test_params_torch import REAL_CONFIGS
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(REAL_CONFIGS["jamba"], f)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768", "--json"])
        assert status == 0, err
        per_gpu = json.loads(out)["per_gpu"]
        assert per_gpu["weights"] == 2 * 51_570_323_328
        assert per_gpu["kv_cache"] == 4 * 2 * 8 * 128 * 2 * 32768
        assert per_gpu["linear_state"] == 28 * (8192 * 4 * 2 + 8192 * 16 * 4)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768"])
        assert status == 0 and "28 Mamba-1 layers keep a fixed state" in out, err
        status, out, err = call_main(mem, ["--config", path])
        assert status == 2 and out == "" and err.count("\n") == 1 and "Mamba-1 layers (jamba)" in err


# --- issue 10, branch jamba: ERNIE 4.5 MoE: routers held in fp32 -----------------------------------------------------
@pytest.mark.parametrize("dtype_name", ["bf16", "fp32"])
def test_ernie_weights_equal_transformers_tensor_bytes(mem, dtype_name):
    """ERNIE-4.5-21B-A3B-PT's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk, built by transformers
    in bf16 / fp32 on meta: its parameters' bytes (router weights and moe_statics fp32 whatever the dtype) equal
    --infer's weights line; the KV cache is the plain GQA one."""
    torch, transformers = torch_and_transformers()
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["ernie4_5_moe"], num_hidden_layers=4, hidden_size=64, num_attention_heads=4,
               num_key_value_heads=2, intermediate_size=96, moe_intermediate_size=16, moe_num_experts=6, moe_k=2,
               moe_layer_end_index=-1, vocab_size=503, use_bias=True)
    raw = json.loads(json.dumps(cfg))
    hf_config = transformers.AutoConfig.for_model(raw.pop("model_type"), **raw)
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype_name]
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config, dtype=dtype)
    torch_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    bits = {"bf16": 16, "fp32": 32}[dtype_name]
    assert mem.weight_bytes(described(mem, cfg), bits) == torch_bytes
    if dtype_name == "bf16":  # by hand: 3 MoE layers of a 6 x 64 router and 6 statics held in fp32
        n = sum(p.numel() for p in model.parameters())
        assert torch_bytes == 2 * n + 2 * 3 * (6 * 64 + 6)


def test_ernie_4_5_21b_a3b_serving_memory_by_hand(mem):
    """ERNIE-4.5-21B-A3B-PT at 32k context, batch 1, bf16: weights 2 B x 21,825,437,888 plus 2 more bytes for each of
    the 27 MoE layers' 64 x 2560 + 64 fp32 router values; K/V of 28 layers of 4 KV heads of 128; training memory
    refused in one line."""
    import tempfile, os
    from test_params_torch import REAL_CONFIGS
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(REAL_CONFIGS["ernie4_5_moe"], f)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768", "--json"])
        assert status == 0, err
        per_gpu = json.loads(out)["per_gpu"]
        assert per_gpu["weights"] == 2 * 21_825_437_888 + 2 * 27 * (64 * 2560 + 64)
        assert per_gpu["kv_cache"] == 28 * 2 * 4 * 128 * 2 * 32768
        status, out, err = call_main(mem, ["--config", path])
        assert status == 2 and out == "" and err.count("\n") == 1 and "fp32" in err and "ernie4_5_moe" in err


def test_hunyuan_weights_equal_transformers_tensor_bytes(mem):
    """Hunyuan-A13B-Instruct's config.json (test_params_torch REAL_CONFIGS, cited there) shrunk, built in bf16 on
    meta: the routers (nn.Linear(..., dtype=torch.float32)) stay fp32, and --infer's weights equal the parameters'
    bytes; the full model at 32k: 2 B x 80,393,183,232 + 2 B x its 32 x 64 x 4096 fp32 router values, K/V of 32 layers
    of 8 KV heads of 128; training memory refused in one line."""
    torch, transformers = torch_and_transformers()
    import tempfile, os
    from test_params_torch import REAL_CONFIGS
    cfg = dict(REAL_CONFIGS["hunyuan_v1_moe"], num_hidden_layers=3, hidden_size=64, num_attention_heads=4,
               num_key_value_heads=2, head_dim=16, attention_head_dim=16, intermediate_size=24,
               moe_intermediate_size=[24] * 3, moe_topk=[2] * 3, num_shared_expert=[1] * 3, num_experts=6,
               vocab_size=503)
    raw = json.loads(json.dumps(cfg))
    hf_config = transformers.AutoConfig.for_model(raw.pop("model_type"), **raw)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config, dtype=torch.bfloat16)
    torch_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    assert mem.weight_bytes(described(mem, cfg), 16) == torch_bytes
    assert torch_bytes == 2 * sum(p.numel() for p in model.parameters()) + 2 * 3 * 6 * 64
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config.json")
        with open(path, "w") as f:
            json.dump(REAL_CONFIGS["hunyuan_v1_moe"], f)
        status, out, err = call_main(mem, ["--config", path, "--infer", "--context", "32768", "--json"])
        assert status == 0, err
        per_gpu = json.loads(out)["per_gpu"]
        assert per_gpu["weights"] == 2 * 80_393_183_232 + 2 * 32 * 64 * 4096
        assert per_gpu["kv_cache"] == 32 * 2 * 8 * 128 * 2 * 32768
        status, out, err = call_main(mem, ["--config", path])
        assert status == 2 and out == "" and err.count("\n") == 1 and "hunyuan_v1_moe" in err


# --- Gemma 4 (issue 10, branch gemma4): each layer's own KV heads and width; KV-shared layers cache nothing ---------
def _gemma4_small_e2b():
    """google/gemma-4-E2B-it's wrapper (test_params_torch REAL_CONFIGS, cited there) with every switch kept and small
    sizes: 6 layers (sliding, sliding, full, sliding, sliding, full), the last 3 KV-shared; 2 KV heads of 16 on the
    sliding layers and of 32 on the full ones; window 4; PLE of 8 over 300 rows; 4 heads, 64 wide, 503 tokens."""
    cfg = json.loads(json.dumps(_published("gemma4_e2b")))
    cfg["text_config"].update(hidden_size=64, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2,
                              head_dim=16, global_head_dim=32, vocab_size=503, sliding_window=4, num_hidden_layers=6,
                              num_kv_shared_layers=3, hidden_size_per_layer_input=8, vocab_size_per_layer_input=300,
                              layer_types=["sliding_attention", "sliding_attention", "full_attention"] * 2,
                              pad_token_id=0, bos_token_id=2, eos_token_id=1)
    return cfg


@pytest.mark.parametrize("length", [3, 9, 40])
@pytest.mark.parametrize("dtype_name", ["fp32", "bf16"])
def test_gemma4_kv_cache_equals_transformers_dynamic_cache(mem, length, dtype_name):
    """After a prefill of `length` tokens for 3 sequences transformers' DynamicCache holds K and V for layers 0-2
    only (layers 3-5 reuse layer 1's / 2's K/V: "dummy" cache layers): the full layer 2 (3, 2, length, 32) each, the
    sliding layers 0 and 1 the last window - 1 = 3 tokens of (3, 2, ., 16)."""
    torch, transformers = torch_and_transformers()
    cfg = _gemma4_small_e2b()
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    model = build(transformers, cfg, attn="eager", dtype=dtype).eval()
    with torch.no_grad():
        out = model(input_ids=torch.randint(0, 300, (3, length)), use_cache=True)  # ids the PLE table has
    measured = cache_bytes(out.past_key_values)
    size = {"fp32": 4, "bf16": 2}[dtype_name]
    by_hand = 2 * 3 * length * 2 * 32 * size + 2 * 2 * 3 * min(length, 3) * 2 * 16 * size
    assert measured == by_hand
    assert mem.kv_cache_bytes(described(mem, cfg), 3, length, dtype_name, 1, "hf-dynamic")["total_bytes"] == by_hand


def test_gemma4_serving_memory_by_hand_and_training_refused(mem, tmp_path):
    """google/gemma-4-31B-it's text_config (REAL_CONFIGS, cited there), --infer at 32,768 tokens: the weights are
    its 30,697,345,280 parameters at 2 B; the KV cache 50 sliding layers x 1,024 tokens x 2 x 16 heads x 256 plus
    10 full layers x 32,768 tokens x 2 x 4 heads x 512 (K=V layers still cache K and V apart), at 2 B.  Training
    memory is refused in one line, as is the engine whose Gemma 4 pools are not modelled (SGLang; vLLM's are,
    tests/test_mem_vllm_more.py; llama.cpp's per-layer caches too, tests/test_mem_serving.py)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_published("gemma4_31b")))
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--context", "32768", "--json"])
    assert status == 0, err
    per_gpu = json.loads(out)["per_gpu"]
    assert per_gpu["weights"] == 2 * 30_697_345_280
    assert per_gpu["kv_cache"] == 2 * (50 * 1024 * 2 * 16 * 256 + 10 * 32768 * 2 * 4 * 512)
    for args in ([], ["--infer", "--engine", "sglang", "--gpu-memory", "80GiB"]):
        status, out, err = call_main(mem, ["--config", str(path)] + args)
        assert status == 2 and out == "" and err.count("\n") == 1 and ("Gemma 4" in err or "gemma4" in err), err
    # llama.cpp at -c 32768: the 10 full layers cache 32,768 cells, the 50 sliding ones pad256(1024 + 512) = 1536
    status, out, err = call_main(mem, ["--config", str(path), "--infer", "--engine", "llama.cpp", "-c", "32768",
                                       "--json"])
    assert status == 0, err
    full, swa = json.loads(out)["engine"]["kv"]["caches"]
    assert (full["bytes"], swa["bytes"]) == (10 * 32768 * 2 * 4 * 512 * 2, 50 * 1536 * 2 * 16 * 256 * 2)
