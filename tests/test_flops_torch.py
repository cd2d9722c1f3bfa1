"""calc_transformer_flops.py against PyTorch's own FLOP counter on real model code.

For each family, the config.json published on the Hugging Face Hub is written out below (fields as published,
repo cited), shrunk in depth and width while keeping its structure (GQA ratio, decoupled head_dim, biases, gating,
experts and top-k, shared experts, dense-first layers, MLA ranks), saved to a temporary config.json, and:

* read by the calculator (``--config`` path, json only) -> our forward count for batch b x sequence s;
* built by ``transformers`` (``AutoModelForCausalLM.from_config``, eager attention, MoE experts through
  ``experts_implementation="batched_mm"`` so each token runs only its top-k experts) under
  ``torch._subclasses.fake_tensor.FakeTensorMode`` (no memory, no weights) and run inside
  ``torch.utils.flop_counter.FlopCounterMode`` (mm/addmm/bmm = 2mnk).

The counts must be equal to the FLOP: forward, and forward + backward (= 3 x forward: every matmul's backward is
two matmuls of the same size). The full-attention convention is what eager attention executes (it computes the
whole score square and masks it). Parameter totals are compared with ``sum(p.numel())`` as a bonus.
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main, torch_and_transformers

pytestmark = pytest.mark.torch

# --- config.json files as published on the Hugging Face Hub -------------------------------------------------------

GPT2 = {  # openai-community/gpt2
    "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
    "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12,
    "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": None, "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True, "summary_type": "cls_index", "summary_use_proj": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}}, "vocab_size": 50257,
}
LLAMA3_8B = {  # meta-llama/Meta-Llama-3-8B
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 128000,
    "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
    "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "llama", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": None, "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.40.0.dev0", "use_cache": True, "vocab_size": 128256,
}
MISTRAL_7B = {  # mistralai/Mistral-7B-v0.1
    "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
    "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0", "use_cache": True, "vocab_size": 32000,
}
QWEN2_5_7B = {  # Qwen/Qwen2.5-7B
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151643,
    "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944,
    "max_position_embeddings": 131072, "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 28,
    "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 131072, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.43.1", "use_cache": True, "use_mrope": False, "use_sliding_window": False,
    "vocab_size": 152064,
}
QWEN3_4B = {  # Qwen/Qwen3-4B
    "architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu", "hidden_size": 2560, "initializer_range": 0.02,
    "intermediate_size": 9728, "max_position_embeddings": 40960, "max_window_layers": 36, "model_type": "qwen3",
    "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8, "rms_norm_eps": 1e-06,
    "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None, "tie_word_embeddings": True,
    "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": True, "use_sliding_window": False,
    "vocab_size": 151936,
}
GEMMA2_9B = {  # google/gemma-2-9b
    "architectures": ["Gemma2ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1,
    "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 3584, "initializer_range": 0.02,
    "intermediate_size": 14336, "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16,
    "num_hidden_layers": 42, "num_key_value_heads": 8, "pad_token_id": 0, "query_pre_attn_scalar": 256,
    "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096, "sliding_window_size": 4096,
    "torch_dtype": "float32", "transformers_version": "4.42.0.dev0", "use_cache": True, "vocab_size": 256000,
}
PYTHIA_160M = {  # EleutherAI/pythia-160m
    "architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu",
    "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
    "max_position_embeddings": 2048, "model_type": "gpt_neox", "num_attention_heads": 12, "num_hidden_layers": 12,
    "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": False, "torch_dtype": "float16",
    "transformers_version": "4.24.0", "use_cache": True, "use_parallel_residual": True, "vocab_size": 50304,
}
MIXTRAL_8X7B = {  # mistralai/Mixtral-8x7B-v0.1
    "architectures": ["MixtralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 32768, "model_type": "mixtral", "num_attention_heads": 32, "num_experts_per_tok": 2,
    "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 8, "output_router_logits": False,
    "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.02, "sliding_window": None,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.36.0.dev0",
    "use_cache": True, "vocab_size": 32000,
}
QWEN1_5_MOE = {  # Qwen/Qwen1.5-MoE-A2.7B
    "architectures": ["Qwen2MoeForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "decoder_sparse_step": 1, "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 2048,
    "initializer_range": 0.02, "intermediate_size": 5632, "max_position_embeddings": 8192, "max_window_layers": 21,
    "model_type": "qwen2_moe", "moe_intermediate_size": 1408, "norm_topk_prob": False, "num_attention_heads": 16,
    "num_experts": 60, "num_experts_per_tok": 4, "num_hidden_layers": 24, "num_key_value_heads": 16,
    "output_router_logits": False, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.001,
    "shared_expert_intermediate_size": 5632, "sliding_window": 32768, "tie_word_embeddings": False,
    "torch_dtype": "bfloat16", "transformers_version": "4.39.0.dev0", "use_cache": True,
    "use_sliding_window": False, "vocab_size": 151936,
}
DEEPSEEK_V3 = {  # deepseek-ai/DeepSeek-V3 (auto_map and quantization_config left out: not model structure)
    "architectures": ["DeepseekV3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "aux_loss_alpha": 0.001, "bos_token_id": 0, "eos_token_id": 1, "ep_size": 1, "first_k_dense_replace": 3,
    "hidden_act": "silu", "hidden_size": 7168, "initializer_range": 0.02, "intermediate_size": 18432,
    "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v3",
    "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 256,
    "n_shared_experts": 1, "norm_topk_prob": True, "num_attention_heads": 128, "num_experts_per_tok": 8,
    "num_hidden_layers": 61, "num_key_value_heads": 128, "num_nextn_predict_layers": 1, "q_lora_rank": 1536,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                     "original_max_position_embeddings": 4096, "type": "yarn"},
    "rope_theta": 10000, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "seq_aux": True,
    "tie_word_embeddings": False, "topk_group": 4, "topk_method": "noaux_tc", "torch_dtype": "bfloat16",
    "transformers_version": "4.33.1", "use_cache": True, "v_head_dim": 128, "vocab_size": 129280,
}

GPTJ_6B = {  # EleutherAI/gpt-j-6b (task_specific_params left out)
    "activation_function": "gelu_new", "architectures": ["GPTJForCausalLM"], "attn_pdrop": 0.0, "bos_token_id": 50256,
    "embd_pdrop": 0.0, "eos_token_id": 50256, "gradient_checkpointing": False, "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05, "model_type": "gptj", "n_embd": 4096, "n_head": 16, "n_inner": None, "n_layer": 28,
    "n_positions": 2048, "resid_pdrop": 0.0, "rotary": True, "rotary_dim": 64, "scale_attn_weights": True,
    "tie_word_embeddings": False, "tokenizer_class": "GPT2Tokenizer", "transformers_version": "4.18.0.dev0",
    "use_cache": True, "vocab_size": 50400,
}
FALCON_7B = {  # tiiuae/falcon-7b
    "alibi": False, "apply_residual_connection_post_layernorm": False, "architectures": ["FalconForCausalLM"],
    "attention_dropout": 0.0, "bias": False, "bos_token_id": 11, "eos_token_id": 11, "hidden_dropout": 0.0,
    "hidden_size": 4544, "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "falcon",
    "multi_query": True, "new_decoder_architecture": False, "num_attention_heads": 71, "num_hidden_layers": 32,
    "parallel_attn": True, "torch_dtype": "bfloat16", "transformers_version": "4.27.4", "use_cache": True,
    "vocab_size": 65024,
}
FALCON_40B = dict(FALCON_7B, hidden_size=8192, new_decoder_architecture=True, num_attention_heads=128,
                  num_hidden_layers=60, num_kv_heads=8)  # tiiuae/falcon-40b: the new decoder architecture
PHI_2 = {  # microsoft/phi-2
    "architectures": ["PhiForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 50256, "embd_pdrop": 0.0,
    "eos_token_id": 50256, "hidden_act": "gelu_new", "hidden_size": 2560, "initializer_range": 0.02,
    "intermediate_size": 10240, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "model_type": "phi",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "partial_rotary_factor": 0.4,
    "qk_layernorm": False, "resid_pdrop": 0.1, "rope_scaling": None, "rope_theta": 10000.0,
    "tie_word_embeddings": False, "torch_dtype": "float16", "transformers_version": "4.37.0", "use_cache": True,
    "vocab_size": 51200,
}
PHI_3_MINI = {  # microsoft/Phi-3-mini-4k-instruct (auto_map left out)
    "architectures": ["Phi3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 1,
    "embd_pdrop": 0.0, "eos_token_id": 32000, "hidden_act": "silu", "hidden_size": 3072, "initializer_range": 0.02,
    "intermediate_size": 8192, "max_position_embeddings": 4096, "model_type": "phi3", "num_attention_heads": 32,
    "num_hidden_layers": 32, "num_key_value_heads": 32, "original_max_position_embeddings": 4096,
    "pad_token_id": 32000, "resid_pdrop": 0.0, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 10000.0,
    "sliding_window": 2047, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.40.2", "use_cache": True, "vocab_size": 32064,
}
OPT_125M = {  # facebook/opt-125m
    "_name_or_path": "facebook/opt-125m", "activation_dropout": 0.0, "activation_function": "relu",
    "architectures": ["OPTForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 2, "do_layer_norm_before": True,
    "dropout": 0.1, "eos_token_id": 2, "ffn_dim": 3072, "hidden_size": 768, "init_std": 0.02, "layerdrop": 0.0,
    "max_position_embeddings": 2048, "model_type": "opt", "num_attention_heads": 12, "num_hidden_layers": 12,
    "pad_token_id": 1, "prefix": "</s>", "torch_dtype": "float16", "transformers_version": "4.21.0.dev0",
    "use_cache": True, "vocab_size": 50272, "word_embed_proj_dim": 768,
}
OPT_350M = {  # facebook/opt-350m: post-LN, and a 512-wide token table in a 1024-wide model (project_in/out)
    "activation_dropout": 0.0, "activation_function": "relu", "architectures": ["OPTForCausalLM"],
    "attention_dropout": 0.0, "bos_token_id": 2, "do_layer_norm_before": False, "dropout": 0.1, "eos_token_id": 2,
    "ffn_dim": 4096, "hidden_size": 1024, "init_std": 0.02, "layerdrop": 0.0, "max_position_embeddings": 2048,
    "model_type": "opt", "num_attention_heads": 16, "num_hidden_layers": 24, "pad_token_id": 1, "prefix": "</s>",
    "torch_dtype": "float16", "use_cache": True, "vocab_size": 50272, "word_embed_proj_dim": 512,
}
BLOOM_560M = {  # bigscience/bloom-560m
    "apply_residual_connection_post_layernorm": False, "architectures": ["BloomForCausalLM"],
    "attention_dropout": 0.0, "attention_softmax_in_fp32": True, "bias_dropout_fusion": True, "bos_token_id": 1,
    "eos_token_id": 2, "hidden_dropout": 0.0, "hidden_size": 1024, "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05, "masked_softmax_fusion": True, "model_type": "bloom", "n_head": 16, "n_inner": None,
    "n_layer": 24, "offset_alibi": 100, "pad_token_id": 3, "pretraining_tp": 1, "skip_bias_add": True,
    "skip_bias_add_qkv": False, "slow_but_exact": False, "unk_token_id": 0, "use_cache": True, "vocab_size": 250880,
}
STARCODER2_3B = {  # bigcode/starcoder2-3b
    "architectures": ["Starcoder2ForCausalLM"], "attention_dropout": 0.1, "residual_dropout": 0.1,
    "embedding_dropout": 0.1, "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu_pytorch_tanh",
    "hidden_size": 3072, "initializer_range": 0.018042, "intermediate_size": 12288, "max_position_embeddings": 16384,
    "mlp_type": "default", "model_type": "starcoder2", "norm_epsilon": 1e-05, "norm_type": "layer_norm",
    "num_attention_heads": 24, "num_hidden_layers": 30, "num_key_value_heads": 2, "rope_theta": 999999.4420358813,
    "sliding_window": 4096, "transformers_version": "4.37.0.dev0", "use_bias": True, "use_cache": True,
    "vocab_size": 49152,
}
GEMMA_2B = {  # google/gemma-2b
    "architectures": ["GemmaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 2,
    "eos_token_id": 1, "head_dim": 256, "hidden_act": "gelu", "hidden_size": 2048, "initializer_range": 0.02,
    "intermediate_size": 16384, "max_position_embeddings": 8192, "model_type": "gemma", "num_attention_heads": 8,
    "num_hidden_layers": 18, "num_key_value_heads": 1, "pad_token_id": 0, "rms_norm_eps": 1e-06,
    "rope_scaling": None, "rope_theta": 10000.0, "torch_dtype": "bfloat16", "transformers_version": "4.38.0.dev0",
    "use_cache": True, "vocab_size": 256000,
}
OLMO2_7B = {  # allenai/OLMo-2-1124-7B
    "architectures": ["Olmo2ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "eos_token_id": 100257,
    "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008,
    "max_position_embeddings": 4096, "model_type": "olmo2", "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 32, "pad_token_id": 100277, "rms_norm_eps": 1e-06, "rope_scaling": None,
    "rope_theta": 500000, "tie_word_embeddings": False, "torch_dtype": "float32",
    "transformers_version": "4.47.0.dev0", "use_cache": True, "vocab_size": 100352,
}
DEEPSEEK_V2_LITE = {  # deepseek-ai/DeepSeek-V2-Lite (auto_map left out): MLA without a q-LoRA
    "architectures": ["DeepseekV2ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "aux_loss_alpha": 0.001, "bos_token_id": 100000, "eos_token_id": 100001, "first_k_dense_replace": 1,
    "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 10944,
    "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v2",
    "moe_intermediate_size": 1408, "moe_layer_freq": 1, "n_group": 1, "n_routed_experts": 64, "n_shared_experts": 2,
    "norm_topk_prob": False, "num_attention_heads": 16, "num_experts_per_tok": 6, "num_hidden_layers": 27,
    "num_key_value_heads": 16, "q_lora_rank": None, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
    "rms_norm_eps": 1e-06, "rope_theta": 10000, "routed_scaling_factor": 1.0, "scoring_func": "softmax",
    "seq_aux": True, "tie_word_embeddings": False, "topk_group": 1, "topk_method": "greedy",
    "torch_dtype": "bfloat16", "transformers_version": "4.33.1", "use_cache": True, "v_head_dim": 128,
    "vocab_size": 102400,
}
QWEN3_30B_A3B = {  # Qwen/Qwen3-30B-A3B
    "architectures": ["Qwen3MoeForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 151643, "decoder_sparse_step": 1, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
    "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 6144, "max_position_embeddings": 40960,
    "max_window_layers": 48, "mlp_only_layers": [], "model_type": "qwen3_moe", "moe_intermediate_size": 768,
    "norm_topk_prob": True, "num_attention_heads": 32, "num_experts": 128, "num_experts_per_tok": 8,
    "num_hidden_layers": 48, "num_key_value_heads": 4, "output_router_logits": False, "rms_norm_eps": 1e-06,
    "rope_scaling": None, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.001, "sliding_window": None,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": True,
    "use_sliding_window": False, "vocab_size": 151936,
}

# Shrunk copies: same family and structure, small enough to trace in well under a second each.
SHRUNK = {
    "gpt2": dict(GPT2, n_layer=2, n_embd=64, n_head=4, n_positions=64, n_ctx=64, vocab_size=503),
    "llama-3": dict(LLAMA3_8B, num_hidden_layers=2, hidden_size=64, intermediate_size=224, num_attention_heads=8,
                    num_key_value_heads=2, vocab_size=1003),
    "mistral": dict(MISTRAL_7B, num_hidden_layers=2, hidden_size=64, intermediate_size=224, num_attention_heads=8,
                    num_key_value_heads=2, vocab_size=320, sliding_window=8),
    "qwen2.5": dict(QWEN2_5_7B, num_hidden_layers=2, hidden_size=56, intermediate_size=296, num_attention_heads=7,
                    num_key_value_heads=1, vocab_size=1521),
    "qwen3": dict(QWEN3_4B, num_hidden_layers=2, hidden_size=40, head_dim=16, intermediate_size=152,
                  num_attention_heads=4, num_key_value_heads=1, vocab_size=1519),
    "gemma2": dict(GEMMA2_9B, num_hidden_layers=3, hidden_size=56, head_dim=32, intermediate_size=224,
                   num_attention_heads=4, num_key_value_heads=2, vocab_size=2560, sliding_window=8,
                   sliding_window_size=8),  # the published file repeats its window under this name
    "pythia": dict(PYTHIA_160M, num_hidden_layers=2, hidden_size=64, intermediate_size=256, num_attention_heads=4,
                   vocab_size=503),
    "mixtral": dict(MIXTRAL_8X7B, num_hidden_layers=2, hidden_size=64, intermediate_size=224,
                    num_attention_heads=8, num_key_value_heads=2, vocab_size=320),
    "qwen-moe": dict(QWEN1_5_MOE, num_hidden_layers=3, hidden_size=64, intermediate_size=176,
                     moe_intermediate_size=44, shared_expert_intermediate_size=176, num_experts=12,
                     num_attention_heads=4, num_key_value_heads=4, vocab_size=1519, decoder_sparse_step=1,
                     mlp_only_layers=[1]),
    "deepseek-v3": dict(DEEPSEEK_V3, num_hidden_layers=3, first_k_dense_replace=1, hidden_size=64,
                        intermediate_size=184, moe_intermediate_size=32, n_routed_experts=16, n_group=4,
                        topk_group=2, num_experts_per_tok=4, num_attention_heads=4, num_key_value_heads=4,
                        q_lora_rank=48, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
                        vocab_size=1293),
    "gpt-j": dict(GPTJ_6B, n_layer=2, n_embd=64, n_head=4, rotary_dim=8, vocab_size=503),
    "falcon-7b": dict(FALCON_7B, num_hidden_layers=2, hidden_size=72, num_attention_heads=9, vocab_size=650),
    "falcon-40b": dict(FALCON_40B, num_hidden_layers=2, hidden_size=64, num_attention_heads=8, num_kv_heads=2,
                       vocab_size=650),
    "phi-2": dict(PHI_2, num_hidden_layers=2, hidden_size=80, intermediate_size=320, num_attention_heads=4,
                  num_key_value_heads=4, vocab_size=512),
    "phi-3": dict(PHI_3_MINI, num_hidden_layers=2, hidden_size=64, intermediate_size=176, num_attention_heads=4,
                  num_key_value_heads=4, vocab_size=320, sliding_window=15, pad_token_id=0, eos_token_id=1),
    "opt": dict(OPT_125M, num_hidden_layers=2, hidden_size=64, word_embed_proj_dim=64, ffn_dim=256,
                num_attention_heads=4, max_position_embeddings=64, vocab_size=502),
    # word_embed_proj_dim 24 != hidden 64: project_in/out run, the tied LM head is 502 x 24
    "opt-350m": dict(OPT_350M, num_hidden_layers=2, hidden_size=64, word_embed_proj_dim=24, ffn_dim=256,
                     num_attention_heads=4, max_position_embeddings=64, vocab_size=502),
    "bloom": dict(BLOOM_560M, n_layer=2, hidden_size=64, n_head=4, vocab_size=2508),
    "starcoder2": dict(STARCODER2_3B, num_hidden_layers=2, hidden_size=72, intermediate_size=288,
                       num_attention_heads=6, num_key_value_heads=2, vocab_size=491, sliding_window=8),
    "gemma": dict(GEMMA_2B, num_hidden_layers=2, hidden_size=64, head_dim=32, intermediate_size=512,
                  num_attention_heads=2, num_key_value_heads=1, vocab_size=2560),
    "olmo2": dict(OLMO2_7B, num_hidden_layers=2, hidden_size=64, intermediate_size=172, num_attention_heads=4,
                  num_key_value_heads=4, vocab_size=1003, pad_token_id=1, eos_token_id=2),
    "deepseek-v2-lite": dict(DEEPSEEK_V2_LITE, num_hidden_layers=3, hidden_size=64, intermediate_size=171,
                             kv_lora_rank=32, moe_intermediate_size=22, n_routed_experts=8, n_shared_experts=2,
                             num_attention_heads=4, num_key_value_heads=4, num_experts_per_tok=3,
                             qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16, vocab_size=1024,
                             bos_token_id=0, eos_token_id=1),
    "qwen3-moe": dict(QWEN3_30B_A3B, num_hidden_layers=2, hidden_size=64, head_dim=16, intermediate_size=192,
                      moe_intermediate_size=24, num_attention_heads=8, num_key_value_heads=2, num_experts=16,
                      num_experts_per_tok=4, vocab_size=1519),
    # every layer dense-first: zero MoE layers although the config names experts (a regression hypothesis found)
    "deepseek-v3-all-dense": dict(DEEPSEEK_V3, num_hidden_layers=2, first_k_dense_replace=2, hidden_size=32,
                                  intermediate_size=64, moe_intermediate_size=16, n_routed_experts=8, n_group=2,
                                  topk_group=1, num_experts_per_tok=2, num_attention_heads=2,
                                  num_key_value_heads=2, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=8,
                                  qk_rope_head_dim=4, v_head_dim=8, vocab_size=97),
}
# attention_bias on MLA: transformers' DeepseekV3Attention biases q_a_proj, kv_a_proj_with_mqa and o_proj only
SHRUNK["deepseek-v3-attention-bias"] = dict(SHRUNK["deepseek-v3"], attention_bias=True)


def _gpt_oss_20b() -> dict:
    """openai/gpt-oss-20b's config.json as tests/test_params_torch.py carries it (cited there)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["gpt_oss_20b"])


# gpt-oss: every layer MoE (experts and router with biases), biased q/k/v/o, one sink logit per head, window 8 (128
# published) on the even layers; 3 layers so that a sliding layer follows a full one
SHRUNK["gpt-oss"] = dict(_gpt_oss_20b(), num_hidden_layers=3, hidden_size=64, head_dim=16, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=48, num_local_experts=6, num_experts_per_tok=2,
                         experts_per_token=2, vocab_size=503, sliding_window=8, pad_token_id=0, eos_token_id=1,
                         layer_types=["sliding_attention", "full_attention", "sliding_attention"])


def _minimax_m2() -> dict:
    """MiniMaxAI/MiniMax-M2's config.json as tests/test_params_torch.py carries it (cited there)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["minimax_m2"])


# issue 10, branch moefams -- MiniMax-M2: every layer MoE (256 experts top-8 -> 6 top-2) behind a sigmoid router with
# its correction bias (a buffer: an add, no matmul), q/k RMSNorm over the whole projection (no matmul), 48 / 8 heads
# of 128 -> 4 / 2 of 16 with rotary on half of each head; batched_mm runs each token's top-k experts only
SHRUNK["minimax-m2"] = dict(_minimax_m2(), num_hidden_layers=2, attn_type_list=[1, 1], hidden_size=64, head_dim=16,
                            rotary_dim=8, num_attention_heads=4, num_key_value_heads=2, intermediate_size=48,
                            num_local_experts=6, num_experts_per_tok=2, vocab_size=503)



def _dots1() -> dict:
    """rednote-hilab/dots.llm1.inst's config.json as tests/test_params_torch.py carries it (cited there)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["dots1"])


# dots.llm1: a dense first layer, then routed experts (128 top-6 -> 6 top-2) with 2 shared experts, biased q/k/v/o
# switched on, q/k norms over head_dim, window 8 on layer 2 (max_window_layers 2)
SHRUNK["dots1"] = dict(_dots1(), num_hidden_layers=3, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                       intermediate_size=96, moe_intermediate_size=24, n_routed_experts=6, num_experts_per_tok=2, vocab_size=503,
                       attention_bias=True, sliding_window=8, max_window_layers=2)


def _exaone4() -> dict:
    """LGAI-EXAONE/EXAONE-4.0-32B's config.json as tests/test_params_torch.py carries it (cited there)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["exaone4"])


# EXAONE 4.0: post-norms, q/k norms over head_dim, 4 layers with window 8 on layers 0-2 and layer 3 full (NoPE)
SHRUNK["exaone4"] = dict(_exaone4(), num_hidden_layers=4, hidden_size=64, head_dim=16, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=96, vocab_size=503, sliding_window=8,
                         pad_token_id=0, eos_token_id=1, bos_token_id=1)


def _params_real(name: str) -> dict:
    """A published config.json as tests/test_params_torch.py carries it (cited there)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS[name])


def _mimo_v2_flash() -> dict:
    """XiaomiMiMo/MiMo-V2-Flash's config.json as tests/test_params_torch.py carries it (cited there)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["mimo_v2_flash"])


# MiMo-V2-Flash (issue 10, branch mimo): full layers of 2 KV heads, sliding layers of 4 with a sink per head, q/k of
# 16 and v of 8 per head, window 8 + 1 (sliding_window_size 8), a dense first layer then 5 experts top-2; 3 layers
# (full, sliding, full: the hub lists cut as the depth is).  The eager attention counts (MiMo supports no SDPA);
# its experts run through batched_mm (each token's top-2)
SHRUNK["mimo"] = dict(_mimo_v2_flash(), num_hidden_layers=3, hidden_size=64, head_dim=16, v_head_dim=8,
                      num_attention_heads=4, num_key_value_heads=2, swa_num_attention_heads=4,
                      swa_num_key_value_heads=4, swa_head_dim=16, swa_v_head_dim=8, intermediate_size=48,
                      moe_intermediate_size=24, n_routed_experts=5, num_experts_per_tok=2, vocab_size=503,
                      sliding_window_size=8, layer_types=["full_attention", "sliding_attention", "full_attention"],
                      hybrid_layer_pattern=[0, 1, 0], moe_layer_freq=[0, 1, 1], pad_token_id=0)


# LFM2 (issue 10, branch mimo): LiquidAI/LFM2-1.2B's config.json (tests/test_params_torch.py REAL_CONFIGS, cited
# there) shrunk to 4 layers (conv, conv, attention, conv), kernel 3, biases on the conv layers
SHRUNK["lfm2"] = dict({k: v for k, v in _params_real("lfm2").items() if k not in ("full_attn_idxs", "head_dim")},
                      num_hidden_layers=4, hidden_size=64, block_dim=64, conv_dim=64, conv_dim_out=64,
                      num_attention_heads=4, num_heads=4, num_key_value_heads=2, block_ff_dim=96,
                      block_multiple_of=16, vocab_size=503, conv_bias=True,
                      layer_types=["conv", "conv", "full_attention", "conv"])


def _arch_from(flops, tmp_path, config):
    """The Model --config gives: the file read by the shared model block the script carries."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    model, _notes = flops.model_from_config(*flops.read_config_json(str(path)))
    return model


def _hf_model(transformers, config: dict, attention: str = "eager"):
    """transformers' causal LM for a config.json dict (build it under FakeTensorMode). MoE experts run through
    ``batched_mm``, so each token goes through its top-k experts only (the default loops over every expert)."""
    kwargs = {"attn_implementation": attention}
    text = config.get("text_config") or {}  # a wrapper's (qwen3_5_moe) language model
    if any(k in config or k in text for k in ("num_local_experts", "num_experts", "n_routed_experts",
                                              "moe_num_experts")):  # ERNIE 4.5's name (issue 10, branch jamba)
        kwargs["experts_implementation"] = "batched_mm"
    return transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**config), **kwargs)


def _count_with_pytorch(config: dict, batch: int, seq: int, backward: bool = True):
    """(forward FLOPs, forward+backward FLOPs or None, parameter count) as PyTorch counts them for the HF model."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    with FakeTensorMode():
        model = _hf_model(transformers, config)
        n_params = sum(p.numel() for p in model.parameters())
        vocab = config["vocab_size"] if "vocab_size" in config else config["text_config"]["vocab_size"]  # a wrapper
        ids = torch.randint(0, vocab, (batch, seq))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        if not backward:
            return forward_counter.get_total_flops(), None, n_params
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    return forward_counter.get_total_flops(), train_counter.get_total_flops(), n_params


def _count_gemma3_with_pytorch(config: dict, batch: int, seq: int, backward: bool = False):
    """(forward FLOPs, language-model parameters[, forward+backward FLOPs]) of Gemma3ForConditionalGeneration, the
    model AutoModelForCausalLM builds from a gemma3 file, on token ids only (no image: the vision tower and projector
    do not run, and their parameters, test_params_torch.TOWER_PREFIXES, are the note's, not the count's).  Built
    without weight initialisation: SigLIP's truncated-normal init asks a fake tensor for a value."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode
    from transformers.initialization import no_init_weights
    from test_params_torch import TOWER_PREFIXES

    with FakeTensorMode():
        with no_init_weights():
            model = _hf_model(transformers, config)
        model.tie_weights()  # what post_init does after initialising (no_init_weights skips both)
        n_params = sum(p.numel() for n, p in model.named_parameters() if not n.startswith(TOWER_PREFIXES))
        ids = torch.randint(0, model.config.text_config.vocab_size, (batch, seq))
        with FlopCounterMode(display=False) as counter:
            model(input_ids=ids)
        if not backward:
            return counter.get_total_flops(), n_params
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    return counter.get_total_flops(), n_params, train_counter.get_total_flops()


def test_gemma3_wrapper_forward_and_backward_equal_flop_counter(flops, tmp_path):
    """google/gemma-3-27b-it's gemma3 wrapper (tests/test_params_torch.py REAL_CONFIGS["gemma3_27b"], cited there),
    shrunk to 7 layers (a full layer after 5 sliding ones, then a sliding one) of 4 / 2 heads of 16 and a 512-token
    vocabulary, window 4: forward and forward+backward (3 x) of Gemma3ForConditionalGeneration on token ids equal
    FlopCounterMode at 2 x 12 tokens, with the sliding layers counted as the eager module runs them (the full square,
    the window applied as a mask: attention="full"), as the shrunk families above are."""
    config = json.loads(json.dumps(_params_suite_configs()["gemma3_27b"]))
    config["text_config"].update(num_hidden_layers=7, hidden_size=64, num_attention_heads=4, num_key_value_heads=2,
                                 head_dim=16, intermediate_size=96, vocab_size=512, sliding_window=4,
                                 query_pre_attn_scalar=16, pad_token_id=0, bos_token_id=0, eos_token_id=0)
    config.pop("eos_token_id")
    arch = _arch_from(flops, tmp_path, config)
    assert [arch.layer_attention(i) for i in range(7)] == ["sliding"] * 5 + ["full", "sliding"]
    forward, n_params, train = _count_gemma3_with_pytorch(config, 2, 12, backward=True)
    ours = flops.forward_flops(arch, 2, 12, attention="full")["total"]
    assert ours == forward and 3 * ours == train
    assert flops.training_flops(arch, 12, batch_size=2)["model_flops_per_step"] == train
    assert flops.parameter_counts(arch)["total"] == n_params


@pytest.mark.parametrize("family", sorted(SHRUNK))
def test_forward_and_backward_equal_flop_counter(flops, tmp_path, family):
    config = SHRUNK[family]
    arch = _arch_from(flops, tmp_path, config)
    batch, seq = 2, 24  # seq > the shrunk sliding windows, so a window would show if it were (wrongly) applied
    torch_forward, torch_train, torch_params = _count_with_pytorch(config, batch, seq)
    ours = flops.forward_flops(arch, batch, seq, attention="full")["total"]
    assert ours == torch_forward
    if family == "lfm2":
        # FlopCounterMode's convolution backward rule counts the weight gradient of LFM2's depthwise conv (groups =
        # h, one input channel each) as if every output channel read all h inputs: 2·b·L'·K·h·h per conv layer for
        # the 2·b·L'·K·h it takes (L' = max(s, K) + K - 1 = 26 output columns, K = 3, h = 64, 3 conv layers).  The
        # input gradient it counts right, so forward + backward = 3 x forward + that surplus, by hand:
        surplus = 3 * 2 * batch * 26 * 3 * 64 * (64 - 1)
        assert 3 * ours + surplus == torch_train
        assert flops.parameter_counts(arch)["total"] == torch_params
        return
    assert 3 * ours == torch_train
    train = flops.training_flops(arch, seq, batch_size=batch)
    assert train["model_flops_per_step"] == torch_train
    assert flops.parameter_counts(arch)["total"] == torch_params


def test_batch_and_length_scaling_match_counter(flops, tmp_path):
    """A second shape (b=1, s=40) on the MoE + MLA family: attention's s² and the per-token terms both scale right."""
    config = SHRUNK["deepseek-v3"]
    arch = _arch_from(flops, tmp_path, config)
    torch_forward, _, _ = _count_with_pytorch(config, 1, 40)
    assert flops.forward_flops(arch, 1, 40)["total"] == torch_forward


@pytest.mark.parametrize("family", ["llama-3", "mistral", "gemma2", "gpt2", "mixtral", "qwen-moe", "deepseek-v3",
                                    "opt-350m", "gpt-oss", "mimo", "lfm2"])
def test_prefill_and_decode_step_match_counter(flops, tmp_path, family):
    """A 20-token prompt (logits for the last position only), then one decode step: the new token attends to
    21 keys, or to the window on a sliding-window layer (the shrunk Mistral and Gemma 2 use window 8, and
    transformers' cache keeps only the window); DeepSeek's MLA re-expands all 21 cached latents; OPT-350m's
    project_out runs on all 20 prompt positions (OPTDecoder returns every hidden state; only the LM head is
    sliced by logits_to_keep)."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = SHRUNK[family]
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, config["vocab_size"], (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        decode = flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"]
        assert decode == decode_counter.get_total_flops()


@pytest.mark.parametrize("family", ["llama-3", "mistral", "qwen3", "mixtral", "opt-350m"])
def test_sdpa_attention_counts_the_full_square(flops, tmp_path, family):
    """transformers' default attention (SDPA) runs as one fused op on CPU, aten._scaled_dot_product_flash_attention
    _for_cpu, which FlopCounterMode's registry lacks; mapped here to torch's own SDPA formulas
    (``sdpa_flop_count`` / ``sdpa_backward_flop_count``, the ones it registers for the CUDA flash, efficient and
    cuDNN kernels). Those count the whole score square whatever the mask, so the forward equals the full
    convention; their backward charges FlashAttention's recomputation of Q·Kᵀ (3 score-sized + 2 value-sized
    products), so forward + backward = 3 x forward + attention_scores."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

    def forward_formula(query, key, value, *args, out_shape=None, **kwargs):
        return sdpa_flop_count(query, key, value)

    def backward_formula(grad_out, query, key, value, *args, out_shape=None, **kwargs):
        return sdpa_backward_flop_count(grad_out, query, key, value)

    aten = torch.ops.aten
    mapping = {aten._scaled_dot_product_flash_attention_for_cpu: forward_formula,
               aten._scaled_dot_product_flash_attention_for_cpu_backward: backward_formula}
    config = SHRUNK[family]
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config, attention="sdpa")
        ids = torch.randint(0, config["vocab_size"], (2, 24))
        with FlopCounterMode(display=False, custom_mapping=mapping) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False, custom_mapping=mapping) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    assert aten._scaled_dot_product_flash_attention_for_cpu in forward_counter.get_flop_counts()["Global"]
    ours = flops.forward_flops(arch, 2, 24)
    assert ours["total"] == forward_counter.get_total_flops()
    assert 3 * ours["total"] + ours["components"]["attention_scores"] == train_counter.get_total_flops()


def test_gpt_oss_expert_flops_per_token_are_its_top_k_experts(flops, tmp_path):
    """gpt-oss at its published widths (openai/gpt-oss-20b: h 2880, 32 experts of f 2880, top-4; 1 layer): the FLOPs
    FlopCounterMode charges to the experts module (batched_mm: each token's 4 experts, one bmm each for gate_up and
    down; the biases are adds, no matmul) are 2 x tokens x 4 x (2880 x 5760 + 2880 x 2880), and the router's biased
    Linear 2 x tokens x 2880 x 32: the top-k cost this script counts.  transformers' default experts loop runs the
    same products, only for the experts some token picked; nothing computes every expert for every token here."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = dict(_gpt_oss_20b(), num_hidden_layers=1, layer_types=["sliding_attention"])
    batch, seq = 2, 5
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        with FlopCounterMode(display=False) as counter:
            model(input_ids=torch.randint(0, config["vocab_size"], (batch, seq)))
    by_module = counter.get_flop_counts()
    experts = sum(by_module["GptOssForCausalLM.model.layers.0.mlp.experts"].values())
    router = sum(by_module["GptOssForCausalLM.model.layers.0.mlp.router"].values())
    tokens = batch * seq
    assert experts == 2 * tokens * 4 * (2880 * 5760 + 2880 * 2880)
    assert router == 2 * tokens * 2880 * 32
    ours = flops.forward_flops(_arch_from(flops, tmp_path, config), batch, seq)
    assert (ours["components"]["routed_experts"], ours["components"]["router"]) == (experts, router)
    assert ours["total"] == counter.get_total_flops()


# --- Full-size published configs: parameter totals on the meta device -----------------------------------------------

def _params_suite_configs() -> dict:
    """The published config.json dicts of tests/test_params_torch.py (each cited there): one shared list of real
    configs, so every family the params script covers is read by this script's --config too."""
    from test_params_torch import REAL_CONFIGS
    return {name: (value[0] if isinstance(value, tuple) else value) for name, value in REAL_CONFIGS.items()}


@pytest.mark.parametrize("name", sorted(_params_suite_configs()))
def test_real_config_parameters_equal_pytorch_at_full_size(flops, tmp_path, name):
    """--config on the full published config: total (and MoE active) parameters equal what transformers builds,
    counted on the meta device (no memory). Active = everything outside ``.experts.`` + top_k/E of the experts."""
    torch, transformers = torch_and_transformers()
    config = _params_suite_configs()[name]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    status, out, err = call_main(flops, ["--config", str(path), "--json"])
    assert status == 0, err
    ours = json.loads(out)["parameters"]
    hf_config = transformers.AutoConfig.for_model(**config)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(hf_config)
    total = routed = 0
    from test_params_torch import TOWER_PREFIXES  # a Gemma 3 wrapper's vision tower and projector: said in a note
    for param_name, param in model.named_parameters():
        if param_name.startswith(TOWER_PREFIXES):
            continue
        total += param.numel()
        routed += param.numel() if ".experts." in param_name else 0
    assert ours["total"] == total
    if routed:
        from test_params_torch import moe_sizes
        experts, top_k = moe_sizes(hf_config)
        assert routed % experts == 0
        assert ours["active"] == total - routed + routed // experts * top_k


@pytest.mark.parametrize("name", sorted(_params_suite_configs()))
def test_real_config_forward_equals_flop_counter_at_published_widths(flops, tmp_path, name):
    """The same published configs at their real widths (hidden, heads, head_dim, vocab, experts, MLA ranks), only
    the depth cut to 2 layers after any dense-first ones, so the trace stays fast: the forward count of (1 x 6)
    tokens equals FlopCounterMode's (the backward = 2 x forward rule is checked on the shrunk families above)."""
    config = dict(_params_suite_configs()[name])
    if config.get("model_type") == "llama4":  # the wrapper: cut its language model (text_config) to 4 layers, so
        text = dict(config["text_config"], num_hidden_layers=4)  # that a NoPE (full) layer follows chunked ones
        arch = _arch_from(flops, tmp_path, dict(config, text_config=text))
        torch_forward, _, torch_params = _count_llama4_with_pytorch(dict(config, text_config=text), 1, 6)
        assert flops.forward_flops(arch, 1, 6)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params
        return
    if config["model_type"] in ("qwen3_5", "qwen3_5_moe"):  # the wrapper: its language model (text_config) up to
        text = dict(config["text_config"], num_hidden_layers=4)  # its first attention layer, as Qwen3-Next's below
        text["layer_types"] = text["layer_types"][:4]
        arch = _arch_from(flops, tmp_path, dict(config, text_config=text))
        assert arch.linear_layer_count() == 3
        torch_forward, _, torch_params = _count_with_pytorch(dict(config, text_config=text), 1, 6, backward=False)
        assert flops.forward_flops(arch, 1, 6)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params
        return
    if config.get("model_type") == "gemma3":  # the wrapper: its language model (text_config) cut to 2 layers, run by
        text = dict(config["text_config"], num_hidden_layers=2)  # Gemma3ForConditionalGeneration on token ids only
        arch = _arch_from(flops, tmp_path, dict(config, text_config=text))
        torch_forward, torch_params = _count_gemma3_with_pytorch(dict(config, text_config=text), 1, 6)
        assert flops.forward_flops(arch, 1, 6)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params
        return
    if config.get("model_type") == "gemma4":  # issue 10, branch gemma4: the E2B / E4B wrapper's language model cut
        # to 8 layers (a full one among the first 6, then 2 KV-shared ones: a sliding and the forced-full last), PLE
        # at its width, run by Gemma4ForConditionalGeneration on token ids (no vision / audio config, so no tower)
        text = dict(config["text_config"], num_hidden_layers=8, num_kv_shared_layers=2)
        text["layer_types"] = text["layer_types"][:8]
        config = dict(config, text_config=text)
        arch = _arch_from(flops, tmp_path, config)
        assert [arch.layer_kv_shared(i) for i in range(8)] == [False] * 6 + [True] * 2
        torch_forward, _, torch_params = _count_with_pytorch(config, 1, 6, backward=False)
        assert flops.forward_flops(arch, 1, 6)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params
        return
    if config["model_type"] == "dbrx":
        pytest.skip("DbrxExperts picks the experts it runs with a data-dependent nonzero, which fake tensors cannot "
                    "trace: checked on real tensors, shrunk, in test_dbrx_forward_and_backward_equal_flop_counter")
    depth = next(k for k in ("num_hidden_layers", "n_layer", "n_layers") if k in config)
    config[depth] = min(config[depth], 2 + (config.get("first_k_dense_replace") or 0))
    if config.get("model_type") == "qwen3_next":  # up to its first attention layer: transformers' cache of
        config[depth] = config["full_attention_interval"]  # delta-net layers alone has no sequence length
    if config.get("model_type") == "bamba":  # its first attention layer (9) moved into the 2 layers kept
        config["attn_layer_indices"] = [1]
    if config.get("model_type") == "lfm2":  # up to its first attention layer (2), for the same reason
        config[depth] = 3
    if config.get("model_type") == "jamba":  # up to its first attention layer (4), for the same reason: layers 0-4,
        config[depth] = 5  # Mamba-1 and MoE on 1 and 3
    if config.get("model_type") == "nemotron_h":  # one layer of each kind, in the published order (M-* / ME*)
        pattern = config["hybrid_override_pattern"]
        config["hybrid_override_pattern"] = "".join(sorted(set(pattern), key=pattern.index))
    for key in ("layer_types", "hybrid_layer_pattern", "moe_layer_freq"):  # per-layer lists cut with the depth
        if isinstance(config.get(key), list):
            config[key] = config[key][:config[depth]]
    arch = _arch_from(flops, tmp_path, config)
    torch_forward, _, torch_params = _count_with_pytorch(config, 1, 6, backward=False)
    assert flops.forward_flops(arch, 1, 6)["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params


# --- Random small shapes per family (hypothesis): the count stays exact off the published shapes too ----------------

try:
    from hypothesis import HealthCheck, given, settings, strategies as st
except ImportError:  # hypothesis is in requirements.txt; without it only this test goes
    given = None

if given is not None:
    @st.composite
    def random_family_config(draw):
        family = draw(st.sampled_from(["llama-3", "mixtral", "deepseek-v3", "gemma2", "qwen-moe", "opt-350m",
                                       "gpt-oss"]))
        kv_heads = draw(st.integers(1, 3))
        heads = kv_heads * draw(st.integers(1, 3))
        head_dim = 2 * draw(st.integers(2, 8))
        config = dict(SHRUNK[family], num_hidden_layers=draw(st.integers(1, 3)),
                      num_attention_heads=heads, num_key_value_heads=kv_heads,
                      intermediate_size=draw(st.integers(8, 96)), vocab_size=draw(st.integers(8, 300)))
        if family in ("gemma2",):  # head_dim decoupled from hidden / heads (HF still wants heads | hidden)
            config.update(hidden_size=heads * 4 * draw(st.integers(1, 4)), head_dim=head_dim)
        else:
            config.update(hidden_size=heads * head_dim)
        if family == "opt-350m":  # OPT names its widths differently; the token table may be narrower or wider
            config = dict(SHRUNK[family], num_hidden_layers=config["num_hidden_layers"], num_attention_heads=heads,
                          hidden_size=heads * head_dim, ffn_dim=config["intermediate_size"],
                          vocab_size=config["vocab_size"], word_embed_proj_dim=draw(st.integers(1, 40)),
                          enable_bias=draw(st.booleans()), do_layer_norm_before=draw(st.booleans()),
                          tie_word_embeddings=draw(st.booleans()), layer_norm_elementwise_affine=draw(st.booleans()),
                          pad_token_id=0, bos_token_id=0, eos_token_id=0)
        if family == "gpt-oss":  # head_dim decoupled; layer_types redrawn for the depth; window and biases drawn
            experts = draw(st.integers(1, 6))
            top_k = draw(st.integers(1, experts))
            config.update(hidden_size=heads * 4 * draw(st.integers(1, 4)), head_dim=head_dim,
                          num_local_experts=experts, num_experts_per_tok=top_k, experts_per_token=top_k,
                          sliding_window=draw(st.integers(1, 12)), attention_bias=draw(st.booleans()),
                          layer_types=draw(st.lists(st.sampled_from(["sliding_attention", "full_attention"]),
                                                    min_size=config["num_hidden_layers"],
                                                    max_size=config["num_hidden_layers"])))
        if family == "mixtral":
            experts = draw(st.integers(1, 6))
            config.update(num_local_experts=experts, num_experts_per_tok=draw(st.integers(1, experts)))
        if family == "qwen-moe":
            experts = draw(st.integers(2, 6))
            config.update(num_experts=experts, num_experts_per_tok=draw(st.integers(1, experts)),
                          moe_intermediate_size=draw(st.integers(4, 40)),
                          shared_expert_intermediate_size=draw(st.integers(4, 40)), mlp_only_layers=[],
                          decoder_sparse_step=draw(st.integers(1, 2)))
        if family == "deepseek-v3":
            groups = draw(st.integers(1, 2))
            config.update(num_key_value_heads=heads, n_group=groups, topk_group=groups,
                          n_routed_experts=groups * draw(st.integers(2, 4)), num_experts_per_tok=2,
                          first_k_dense_replace=draw(st.integers(0, 1)), n_shared_experts=draw(st.integers(1, 2)),
                          q_lora_rank=draw(st.sampled_from([None, 12, 24])), kv_lora_rank=draw(st.integers(4, 20)),
                          qk_nope_head_dim=draw(st.integers(2, 12)), qk_rope_head_dim=2 * draw(st.integers(1, 4)),
                          v_head_dim=draw(st.integers(2, 12)), moe_intermediate_size=draw(st.integers(4, 24)))
        return config, draw(st.integers(1, 3)), draw(st.integers(1, 20))

    @settings(max_examples=10)
    @given(random_family_config())
    def test_random_shapes_equal_flop_counter(flops, tmp_path_factory, case):
        config, batch, seq = case
        arch = _arch_from(flops, tmp_path_factory.mktemp("cfg"), config)
        torch_forward, torch_train, torch_params = _count_with_pytorch(config, batch, seq)
        assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
        assert 3 * torch_forward == torch_train
        assert flops.parameter_counts(arch)["total"] == torch_params


# --- Qwen3-Next: gated delta-net layers beside gated attention -----------------------------------------------------
def _qwen3_next_shrunk():
    """Qwen/Qwen3-Next-80B-A3B-Instruct's config.json (tests/test_params_torch.py REAL_CONFIGS, cited there), shrunk:
    4 layers (3 delta-net : 1 attention, its full_attention_interval 4), 2 key / 4 value delta-net heads of 8 / 12,
    8 experts top-2 with the gated shared expert, q_proj with its output gate."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["qwen3_next"], num_hidden_layers=4, hidden_size=64, head_dim=16, num_attention_heads=4,
                num_key_value_heads=2, intermediate_size=96, linear_num_key_heads=2, linear_num_value_heads=4,
                linear_key_head_dim=8, linear_value_head_dim=12, num_experts=8, num_experts_per_tok=2,
                moe_intermediate_size=24, shared_expert_intermediate_size=24, vocab_size=1519)


@pytest.mark.parametrize("batch, seq", [(2, 24), (1, 3), (2, 70)])
def test_qwen3_next_forward_equals_flop_counter(flops, tmp_path, batch, seq):
    """The delta-net layers' count (linear_attention_flops: projections, the causal conv1d, the chunked delta rule
    with s padded to 64-token chunks) and the attention / MoE layers' equal FlopCounterMode's forward (mm, bmm,
    convolution) on transformers' PyTorch path: a prompt shorter than the conv kernel (3 < 4: the cache pads it to
    4 columns), one chunk, and two chunks (70 = 64 + 6, padded to 128)."""
    config = _qwen3_next_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    assert arch.linear_layer_count() == 3
    torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
    ours = flops.forward_flops(arch, batch, seq)
    assert ours["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params
    # one delta-net layer by hand at b=2, s=24 (h 64, kd 16, vd 48, conv width 80, kernel 4, one chunk of 64):
    if (batch, seq) == (2, 24):
        projections = 2 * 48 * 64 * (2 * 16 + 2 * 48 + 2 * 4) + 2 * 48 * 48 * 64
        conv = 2 * 2 * 80 * 4 * (24 + 3)
        core = 2 * 4 * 2 * 1 * 64 * (2 * 64 * 8 + 3 * 8 * 12 + 64 * 12)
        assert ours["components"]["linear_attention"] == 3 * (projections + conv + core)


def test_qwen3_next_backward_beyond_two_forwards_is_the_delta_rules_own(flops, tmp_path):
    """Training counts 3 x forward (backward = 2 x forward, every family's convention). FlopCounterMode's own
    backward of the delta-net layers differs, and only there: it charges the triangular solves' gradients as bmm
    and its grouped-convolution backward formula ignores the depthwise groups. Every other matmul (projections,
    experts, LM head: aten.mm) is exactly 2 x its forward in the backward."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _qwen3_next_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, config["vocab_size"], (2, 24))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    fwd, train = forward_counter.get_flop_counts()["Global"], train_counter.get_flop_counts()["Global"]
    aten = torch.ops.aten
    assert train[aten.mm] == 3 * fwd[aten.mm]
    assert train[aten.bmm] > 3 * fwd[aten.bmm] and aten.convolution_backward in train
    assert flops.training_flops(arch, 24, batch_size=2)["model_flops_per_step"] == 3 * forward_counter.get_total_flops()


def test_qwen3_next_prefill_and_decode_step_match_counter(flops, tmp_path):
    """A 20-token prompt with the cache (logits for the last position), then one decode step: the attention layer
    reads 21 keys; each delta-net layer convolves its 4 cached + 1 new columns (2 outputs) and updates its state
    elementwise (no matmul counted)."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _qwen3_next_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, config["vocab_size"], (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        decode = flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"]
        assert decode == decode_counter.get_total_flops()


# --- issue 10, branch families2 ---------------------------------------------------------------------------------

def test_dbrx_forward_and_backward_equal_flop_counter(flops, tmp_path):
    """databricks/dbrx-instruct's config.json (tests/test_params_torch.py REAL_CONFIGS, cited there), shrunk to
    real tensors (its experts cannot run on fake ones): d_model 6144 -> 64, 48 / 8 heads -> 4 / 2, 16 experts of
    10752 top-4 -> 6 of 40 top-2, 40 -> 2 layers, clip_qkv 8 kept. Each token runs only its top-k experts there
    (DbrxExperts loops over the experts hit), so the counter's forward equals ours; the backward is two forwards."""
    torch, transformers = torch_and_transformers()
    from torch.utils.flop_counter import FlopCounterMode
    from test_params_torch import REAL_CONFIGS

    published = REAL_CONFIGS["dbrx"]
    config = dict(published, d_model=64, n_heads=4, n_layers=2, vocab_size=301,
                  attn_config=dict(published["attn_config"], kv_n_heads=2),
                  ffn_config=dict(published["ffn_config"], ffn_hidden_size=40, moe_num_experts=6, moe_top_k=2))
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**config),
                                                          attn_implementation="eager")
    batch, seq = 2, 7
    ids = torch.randint(0, config["vocab_size"], (batch, seq))
    with FlopCounterMode(display=False) as forward:
        model(input_ids=ids)
    with FlopCounterMode(display=False) as train:
        model(input_ids=ids, labels=ids).loss.backward()
    ours = flops.forward_flops(_arch_from(flops, tmp_path, config), batch, seq)["total"]
    assert ours == forward.get_total_flops()
    assert 3 * ours == train.get_total_flops()


# --- Llama 4: chunked attention on the RoPE layers, routed + shared experts ----------------------------------------
def _llama4(name: str = "llama4_maverick", **text) -> dict:
    """A published Llama 4 config.json (tests/test_params_torch.py REAL_CONFIGS, cited there) with its text_config
    changed by ``text``."""
    from test_params_torch import REAL_CONFIGS
    config = json.loads(json.dumps(REAL_CONFIGS[name]))
    config["text_config"].update(text, bos_token_id=0, eos_token_id=1, pad_token_id=0)
    return config


# Maverick shrunk: 4 layers (MoE on the odd ones, dense between; RoPE layers 0-2 chunked, layer 3 NoPE and full),
# 6 experts top-2 of 24 beside a shared one of 24, dense MLPs of 40, chunks of 8 tokens (8192 published)
LLAMA4_SHRUNK = _llama4(num_hidden_layers=4, hidden_size=64, head_dim=16, num_attention_heads=4, num_key_value_heads=2,
                        intermediate_size=24, intermediate_size_mlp=40, num_local_experts=6, num_experts_per_tok=2,
                        vocab_size=503, attention_chunk_size=8, use_qk_norm=True)


def _llama4_experts_as_routed(counter, config: dict) -> int:
    """FlopCounterMode's total with each experts module's FLOPs cut to top_k / E of them.

    transformers 5.23's Llama4TextMoe runs every token through every expert: it repeats the hidden states E times,
    scales each copy by the token's router score (sigmoid(-inf) = 0 for the experts it did not pick) and runs
    Llama4TextExperts' two bmm over all E·tokens rows.  The model routes each token to its top_k experts (the zero-
    scaled rows add nothing to the output; Meta's reference code and vLLM compute only the picked experts), and
    that is what calc_transformer_flops.py counts.  The experts module's own FLOPs are 2·E·T·h·3f per pass (checked
    by hand at published widths below), so top_k / E of them is the routed count; every other FLOP is compared as
    counted."""
    text = config["text_config"]
    experts, top_k = text["num_local_experts"], text["num_experts_per_tok"]
    total = counter.get_total_flops()
    for module, counts in counter.get_flop_counts().items():
        if module.endswith(".feed_forward.experts"):
            flops = sum(counts.values())
            assert flops % experts == 0
            total -= flops - flops // experts * top_k
    return total


def _count_llama4_with_pytorch(config: dict, batch: int, seq: int, backward: bool = False):
    """(forward, forward + backward or None, parameters) as FlopCounterMode counts transformers' Llama 4 (eager
    attention), the experts as routed (_llama4_experts_as_routed)."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    with FakeTensorMode():
        model = _hf_model(transformers, config)
        n_params = sum(p.numel() for p in model.parameters())
        ids = torch.randint(0, config["text_config"]["vocab_size"], (batch, seq))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        train = None
        if backward:
            with FlopCounterMode(display=False) as train_counter:
                model(input_ids=ids, labels=ids).loss.backward()
            train = _llama4_experts_as_routed(train_counter, config)
    return _llama4_experts_as_routed(forward_counter, config), train, n_params


@pytest.mark.parametrize("seq", [6, 24])
def test_llama4_forward_and_backward_equal_flop_counter(flops, tmp_path, seq):
    """Maverick shrunk (MoE and dense layers, chunked and full attention): forward and forward + backward (3 x) equal
    FlopCounterMode's with the experts counted as routed; 24 tokens span three 8-token chunks, and eager attention
    still computes the whole 24 x 24 square on the chunked layers (the full convention)."""
    arch = _arch_from(flops, tmp_path, LLAMA4_SHRUNK)
    assert (arch.attention_chunked, arch.sliding_window, arch.moe_layer_count()) == (True, 8, 2)
    torch_forward, torch_train, torch_params = _count_llama4_with_pytorch(LLAMA4_SHRUNK, 2, seq, backward=True)
    ours = flops.forward_flops(arch, 2, seq)["total"]
    assert ours == torch_forward and 3 * ours == torch_train
    assert flops.parameter_counts(arch)["total"] == torch_params


def test_llama4_experts_module_runs_every_expert_on_every_token(flops, tmp_path):
    """Scout at its published widths (h 5120, 16 experts of f 8192, top-1; 1 layer, 2 x 3 tokens): FlopCounterMode
    charges Llama4TextExperts 2·T·E·(5120·16384 + 8192·5120), every expert on every token; the router's Linear
    2·T·5120·16 and the shared expert 2·T·3·5120·8192.  This script counts the one routed expert: 1/16 of it."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _llama4("llama4_scout", num_hidden_layers=1)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        with FlopCounterMode(display=False) as counter:
            model(input_ids=torch.randint(0, 202048, (2, 3)))
    by_module = counter.get_flop_counts()
    layer = "Llama4ForCausalLM.model.layers.0.feed_forward"
    tokens = 6
    assert sum(by_module[layer + ".experts"].values()) == 2 * tokens * 16 * (5120 * 16384 + 8192 * 5120)
    assert sum(by_module[layer + ".router"].values()) == 2 * tokens * 5120 * 16
    assert sum(by_module[layer + ".shared_expert"].values()) == 2 * tokens * 3 * 5120 * 8192
    ours = flops.forward_flops(_arch_from(flops, tmp_path, config), 2, 3)["components"]
    assert ours["routed_experts"] == 2 * tokens * 1 * 3 * 5120 * 8192
    assert (ours["router"], ours["shared_experts"]) == (2 * tokens * 5120 * 16, 2 * tokens * 3 * 5120 * 8192)


def test_llama4_prefill_and_decode_step_match_counter(flops, tmp_path):
    """A 20-token prompt, then one decode step.  transformers caches a chunked layer as a window of the chunk size
    (DynamicSlidingWindowLayer keeps chunk - 1 = 7 tokens), so the step's eager attention scores 8 keys there and
    21 on the NoPE layer: the full convention.  The causal convention counts only the keys of the token's own chunk
    (position 20 opens no chunk: 20 mod 8 + 1 = 5 keys) on the 3 chunked layers."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    arch = _arch_from(flops, tmp_path, LLAMA4_SHRUNK)
    with FakeTensorMode():
        model = _hf_model(transformers, LLAMA4_SHRUNK)
        prompt = torch.randint(0, 503, (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    prefill = flops.forward_flops(arch, 2, 20, logits_positions=1)["total"]
    assert prefill == _llama4_experts_as_routed(prefill_counter, LLAMA4_SHRUNK)
    full = flops.forward_flops(arch, 2, 1, past=20, attention="full", decode=True)
    assert full["total"] == _llama4_experts_as_routed(decode_counter, LLAMA4_SHRUNK)
    causal = flops.forward_flops(arch, 2, 1, past=20, attention="causal", decode=True)
    # scores and values: 2 sequences x 4 heads x 16 wide, 2 FLOPs a product; 3 chunked layers lose 8 - 5 keys
    assert full["total"] - causal["total"] == 2 * (2 * 2 * 4 * 16) * 3 * (8 - 5)


def test_llama4_causal_pairs_stay_inside_each_chunk(flops, tmp_path):
    """The causal convention on a chunked layer: position i sees i mod C + 1 keys.  20 tokens in chunks of 8:
    2 whole chunks of 1 + ... + 8 = 36 pairs and 4 tokens of the third, 1 + 2 + 3 + 4 = 10: 82 pairs, where a
    sliding window of 8 keeps 36 + 12 x 8 = 132 and full causal attention 210."""
    assert flops.attention_pairs(20, 0, 8, "causal", chunked=True) == 82
    assert flops.attention_pairs(20, 0, 8, "causal") == 132 and flops.attention_pairs(20, 0, 0, "causal") == 210
    assert flops.attention_pairs(4, 16, 8, "causal", chunked=True) == 10  # the third chunk after 16 cached tokens
    arch = _arch_from(flops, tmp_path, LLAMA4_SHRUNK)
    ours = flops.forward_flops(arch, 1, 20, attention="causal")["components"]
    assert ours["attention_scores"] == 2 * 4 * 16 * (3 * 82 + 210)  # 3 chunked layers and the NoPE one


if given is not None:
    @st.composite
    def random_llama4_config(draw):
        """Llama 4 shapes: depth, GQA, decoupled head_dim, experts and top-k, MoE placement, RoPE / NoPE and
        chunked / full layers, the chunk size against the sequence, biases; then batch and sequence length."""
        layers, kv = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        heads, experts = kv * draw(st.integers(1, 3)), draw(st.integers(1, 4))
        text = dict(num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv,
                    head_dim=2 * draw(st.integers(2, 6)), hidden_size=heads * 4 * draw(st.integers(1, 3)),
                    intermediate_size=draw(st.integers(4, 40)), intermediate_size_mlp=draw(st.integers(4, 40)),
                    num_local_experts=experts, num_experts_per_tok=draw(st.integers(1, experts)),
                    interleave_moe_layer_step=draw(st.integers(1, 3)), attention_chunk_size=draw(st.integers(1, 12)),
                    no_rope_layers=draw(st.lists(st.sampled_from([0, 1]), min_size=layers, max_size=layers)),
                    attention_bias=draw(st.booleans()), use_qk_norm=draw(st.booleans()),
                    vocab_size=draw(st.integers(8, 300)))
        return _llama4(**text), draw(st.integers(1, 2)), draw(st.integers(1, 20))

    @settings(max_examples=6)
    @given(random_llama4_config())
    def test_random_llama4_shapes_equal_flop_counter(flops, tmp_path_factory, case):
        config, batch, seq = case
        arch = _arch_from(flops, tmp_path_factory.mktemp("cfg"), config)
        torch_forward, torch_train, torch_params = _count_llama4_with_pytorch(config, batch, seq, backward=True)
        assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
        assert 3 * torch_forward == torch_train
        assert flops.parameter_counts(arch)["total"] == torch_params


# --- Qwen3.5 (issue 10, branch qwen35): Qwen3-Next's layers, the delta-net projections split four ways ---------------
def _qwen3_5_shrunk(name: str) -> dict:
    """A published Qwen3.5 file (tests/test_params_torch.py REAL_CONFIGS "qwen3_5" = 27B dense, "qwen3_5_moe" =
    397B-A17B; cited there) with its text_config shrunk to 4 layers (3 delta-net : 1 attention), 2 key / 4 value
    delta-net heads of 8 / 12; the MoE one with 8 experts top-2 beside the gated shared expert, experts run as routed
    (batched_mm, _hf_model)."""
    from test_params_torch import REAL_CONFIGS
    config = json.loads(json.dumps(REAL_CONFIGS[name]))
    text = dict(config["text_config"], num_hidden_layers=4, hidden_size=64, head_dim=16, num_attention_heads=4,
                num_key_value_heads=2, linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=8,
                linear_value_head_dim=12, vocab_size=1519, bos_token_id=0, eos_token_id=0)
    text["layer_types"] = text["layer_types"][:4]
    if name == "qwen3_5_moe":
        text.update(num_experts=8, num_experts_per_tok=2, moe_intermediate_size=24, shared_expert_intermediate_size=24)
    else:
        text["intermediate_size"] = 96
    return dict(config, text_config=text)


@pytest.mark.parametrize("name", ["qwen3_5", "qwen3_5_moe"])
@pytest.mark.parametrize("batch, seq", [(2, 24), (1, 3), (2, 70)])
def test_qwen3_5_forward_equals_flop_counter(flops, tmp_path, name, batch, seq):
    """Qwen3_5GatedDeltaNet runs in_proj_qkv, in_proj_z, in_proj_b and in_proj_a where Qwen3-Next runs in_proj_qkvz
    and in_proj_ba: the same rows, so linear_attention_flops (projections, causal conv1d, the chunked delta rule over
    64-token chunks) equals FlopCounterMode's forward on the PyTorch path; a prompt shorter than the kernel, one
    chunk and two chunks.  Its multimodal RoPE adds no counted matmul over Qwen3-Next's."""
    config = _qwen3_5_shrunk(name)
    arch = _arch_from(flops, tmp_path, config)
    assert arch.linear_layer_count() == 3 and arch.linear_proj_split
    torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
    ours = flops.forward_flops(arch, batch, seq)
    assert ours["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params
    if (batch, seq) == (2, 24):  # one delta-net layer by hand (h 64, kd 16, vd 48, conv width 80, kernel 4)
        projections = 2 * 48 * 64 * ((2 * 16 + 48) + 48 + 4 + 4) + 2 * 48 * 48 * 64
        conv = 2 * 2 * 80 * 4 * (24 + 3)
        core = 2 * 4 * 2 * 1 * 64 * (2 * 64 * 8 + 3 * 8 * 12 + 64 * 12)
        assert ours["components"]["linear_attention"] == 3 * (projections + conv + core)


def test_qwen3_5_prefill_and_decode_step_match_counter(flops, tmp_path):
    """The shrunk Qwen3.5 MoE: a 20-token prompt with the cache (logits for the last position), then one decode step
    (the attention layer reads 21 keys; each delta-net layer convolves 4 cached + 1 new columns and updates its
    state elementwise)."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _qwen3_5_shrunk("qwen3_5_moe")
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, 1519, (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        assert flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"] \
            == decode_counter.get_total_flops()


def test_qwen3_5_training_is_three_forwards_with_mm_exactly_three(flops, tmp_path):
    """Training counts 3 x forward (the suite's convention); FlopCounterMode's own backward differs only in the
    delta rule (bmm of the triangular solves' gradients, grouped-convolution backward), as for Qwen3-Next: every
    aten.mm (projections, experts, LM head) is exactly 3 x its forward."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _qwen3_5_shrunk("qwen3_5")
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, 1519, (2, 24))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    fwd, train = forward_counter.get_flop_counts()["Global"], train_counter.get_flop_counts()["Global"]
    aten = torch.ops.aten
    assert train[aten.mm] == 3 * fwd[aten.mm]
    assert flops.training_flops(arch, 24, batch_size=2)["model_flops_per_step"] == 3 * forward_counter.get_total_flops()


# ---- issue 10, branch dsa: DeepSeek Sparse Attention -------------------------------------------------------------
def _dsa_shrunk(name: str) -> dict:
    """DeepSeek-V3.2 / GLM-5's config.json (test_params_torch.REAL_CONFIGS, cited there) shrunk with every switch
    kept: MLA with its q-LoRA, the indexer (64 / 32 heads of 128 -> 3 of 16, top-2048 -> top-8 keys, so a 24-token
    sequence is sparse), 3 dense layers -> 1, 256 experts top-8 -> 16 top-4 in 4 groups (V3.2) or 1 (GLM-5)."""
    from test_params_torch import REAL_CONFIGS
    config = {k: v for k, v in REAL_CONFIGS[name].items() if k not in ("bos_token_id", "eos_token_id", "pad_token_id")}
    config.update(num_hidden_layers=3, first_k_dense_replace=1, hidden_size=64, intermediate_size=184,
                  moe_intermediate_size=32, n_routed_experts=16, num_experts_per_tok=4, num_attention_heads=4,
                  num_key_value_heads=4, q_lora_rank=48, kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8,
                  v_head_dim=16, index_n_heads=3, index_head_dim=16, index_topk=8, vocab_size=1293)
    if name == "deepseek_v32":
        config.update(n_group=4, topk_group=2)
    else:
        config.update(qk_head_dim=24)
    return config


DSA_SHRUNK = {"deepseek-v3.2": _dsa_shrunk("deepseek_v32"), "glm-5": _dsa_shrunk("glm_moe_dsa")}


def _indexer_flops_counted(counter) -> int:
    """FlopCounterMode's count inside the indexer modules (its per-module table: ...layers.N.self_attn.indexer)."""
    return sum(sum(ops.values()) for module, ops in counter.get_flop_counts().items()
               if module.endswith("self_attn.indexer"))


@pytest.mark.parametrize("name", sorted(DSA_SHRUNK))
@pytest.mark.parametrize("batch, seq", [(2, 24), (1, 5)])
def test_dsa_forward_and_backward_equal_flop_counter(flops, tmp_path, name, batch, seq):
    """Forward: every projection, MLA's latent expansion, the attention square eager computes before masking all but
    the top-k keys, and the indexers (indexer_flops: wq_b, wk, weights_proj per token; 2·H_I·(d_I + 1) per
    query-key pair, q·kᵀ and the head-weighted sum), as FlopCounterMode counts them inside the indexer modules.
    Forward + backward: 3 x forward less 2 x the indexers', which transformers runs under torch.no_grad."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = DSA_SHRUNK[name]
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, config["vocab_size"], (batch, seq))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    ours = flops.forward_flops(arch, batch, seq, attention="full")
    assert ours["total"] == forward_counter.get_total_flops()
    # the indexers by hand: 3 layers x (tokens x 2 x (48 x 3·16 + 64 x 16 + 64 x 3) + pairs x 2 x 3 x 17)
    by_hand = 3 * (batch * seq * 2 * (48 * 48 + 64 * 16 + 64 * 3) + batch * seq * seq * 2 * 3 * 17)
    assert ours["components"]["indexer"] == _indexer_flops_counted(forward_counter) == by_hand
    assert _indexer_flops_counted(train_counter) == by_hand  # forward only: no backward through it
    train = flops.training_flops(arch, seq, batch_size=batch)
    assert train["model_flops_per_step"] == train_counter.get_total_flops() == 3 * ours["total"] - 2 * by_hand


@pytest.mark.parametrize("name", sorted(DSA_SHRUNK))
def test_dsa_prefill_and_decode_step_match_counter(flops, tmp_path, name):
    """A 20-token prompt (logits for the last position), then one decode step: the new token's indexer scores all 21
    cached indexer keys, MLA re-expands all 21 latents, and eager attention scores all 21 keys before masking all
    but the top-8 (the full convention); the causal one counts the 8 keys it attends to."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = DSA_SHRUNK[name]
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, config["vocab_size"], (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    full = flops.forward_flops(arch, 2, 1, past=20, attention="full", decode=True)
    assert full["total"] == decode_counter.get_total_flops()
    causal = flops.forward_flops(arch, 2, 1, past=20, attention="causal", decode=True)
    # 3 layers x 2 sequences x 4 heads x (21 - 8) keys fewer x (24 + 16) for scores and values
    assert full["total"] - causal["total"] == 3 * 2 * 4 * 13 * 2 * (24 + 16)
    assert causal["components"]["indexer"] == full["components"]["indexer"]  # the indexer scores every key


def test_dsa_causal_convention_counts_the_top_k_keys_each_query_attends(flops, tmp_path):
    """Under the causal convention a DSA layer's query i attends to min(i + 1, index_topk) keys (DeepSeek-V3.2's
    O(L·k) attention), and its indexer scores the i + 1 keys at or before it."""
    arch = _arch_from(flops, tmp_path, DSA_SHRUNK["deepseek-v3.2"])
    ours = flops.forward_flops(arch, 1, 20, attention="causal")["components"]
    attended = sum(min(i + 1, 8) for i in range(20))  # 36 + 12 x 8 = 132
    assert ours["attention_scores"] == 3 * 2 * 4 * attended * 24 == 3 * 2 * 4 * 132 * 24
    assert ours["attention_values"] == 3 * 2 * 4 * attended * 16
    assert ours["indexer"] == 3 * (20 * 2 * (48 * 48 + 64 * 16 + 64 * 3) + 210 * 2 * 3 * 17)


# --- issue 10, branch mamba: Bamba's Mamba-2 mixers ----------------------------------------------------------------
def _bamba_shrunk(**edit):
    """ibm-ai-platform/Bamba-9B's config.json (tests/test_params_torch.py REAL_CONFIGS, cited there), shrunk: 4
    layers (layer 2 attends), h 64, 4 / 2 heads of 16, Mamba-2 of 8 heads x 16 (expand 2) in 2 groups of B and C of
    N = 12, kernel 4, chunks of 16 tokens (256 published)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["bamba"], num_hidden_layers=4, attn_layer_indices=[2], hidden_size=64,
                num_attention_heads=4, num_key_value_heads=2, intermediate_size=96, mamba_n_heads=8, mamba_d_head=16,
                mamba_n_groups=2, mamba_d_state=12, mamba_chunk_size=16, vocab_size=503, **edit)


@pytest.mark.parametrize("batch, seq", [(2, 16), (1, 3), (2, 37)])
def test_bamba_forward_equals_flop_counter(flops, tmp_path, batch, seq):
    """The Mamba-2 layers' count (mamba2_flops: in_proj, out_proj, the causal conv1d, the chunked scan's einsums
    with s padded to 16-token chunks) and the attention / MLP layers' equal FlopCounterMode's forward on
    transformers' PyTorch path (mm, bmm, convolution; no CUDA kernels here): one whole chunk, a prompt shorter than
    the kernel (3 < 4: the cache pads it to 4 columns) and three chunks (37 = 2 x 16 + 5, padded to 48)."""
    config = _bamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    assert arch.linear_layer_count() == 3 and arch.ssm_kind == "mamba2"
    torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
    ours = flops.forward_flops(arch, batch, seq)
    assert ours["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params
    if (batch, seq) == (2, 16):  # one Mamba-2 layer by hand: d 128, conv channels 128 + 2 x 2 x 12 = 176, 1 chunk
        projections = 2 * 32 * 64 * (128 + 176 + 8) + 2 * 32 * 128 * 64
        conv = 2 * 2 * 176 * 4 * (16 + 3)
        scan = 2 * 2 * 8 * (16 * 16 * (12 + 16) + 2 * 16 * 12 * 16 + 2 ** 2 * 16 * 12)
        assert ours["components"]["linear_attention"] == 3 * (projections + conv + scan)


def test_bamba_scan_counted_is_the_counters_bmm_of_one_mixer(flops, tmp_path):
    """Which convention the counter sees, per module: FlopCounterMode charges one Mamba-2 mixer exactly
    mamba2_flops (its in_proj / out_proj mm, the conv1d's convolution and the scan's einsums as bmm) and nothing
    for the elementwise work; its aten ops are only those three."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _bamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        with FlopCounterMode(display=False) as counter:
            model(input_ids=torch.randint(0, 503, (2, 40)))
    mixer = counter.get_flop_counts()["BambaForCausalLM.model.layers.0.mamba"]
    aten = torch.ops.aten
    assert set(mixer) == {aten.mm, aten.convolution, aten.bmm}
    assert sum(mixer.values()) == flops.mamba2_flops(arch, 2, 40)
    n = 3  # 40 tokens in chunks of 16
    assert mixer[aten.bmm] == 2 * 2 * 8 * (n * 16 * 16 * (12 + 16) + 2 * n * 16 * 12 * 16 + (n + 1) ** 2 * 16 * 12)


def test_bamba_backward_is_two_forwards_but_in_the_scan(flops, tmp_path):
    """Training counts 3 x forward (backward = 2 x forward, every family's convention).  FlopCounterMode's backward
    of the Mamba-2 layers charges more: its grouped-convolution backward formula ignores the depthwise groups.  Every
    mm (projections, MLP, LM head) and the scan's bmm are exactly 2 x their forward in the backward."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _bamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, 503, (2, 24))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    fwd, train = forward_counter.get_flop_counts()["Global"], train_counter.get_flop_counts()["Global"]
    aten = torch.ops.aten
    assert train[aten.mm] == 3 * fwd[aten.mm] and train[aten.bmm] == 3 * fwd[aten.bmm]
    assert aten.convolution_backward in train
    assert flops.training_flops(arch, 24, batch_size=2)["model_flops_per_step"] == 3 * forward_counter.get_total_flops()


def test_bamba_prefill_and_decode_step_match_counter(flops, tmp_path):
    """A 20-token prompt with the cache (logits for the last position), then one decode step: the attention layer
    reads 21 keys; each Mamba-2 layer convolves its 4 cached + 1 new columns (2 outputs) and reads its state with
    one bmm (2·b·H·P·N), its update elementwise."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _bamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, 503, (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        decode = flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"]
        assert decode == decode_counter.get_total_flops()


if given is not None:
    @st.composite
    def random_bamba_config(draw):
        """Bamba shapes: depth and attention layers, GQA, Mamba-2 heads / groups / state / kernel / chunk against the
        sequence, biases; then batch and sequence length."""
        layers, kv = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        heads = kv * draw(st.integers(1, 3))
        hidden = heads * 4 * draw(st.integers(1, 3))
        groups = draw(st.integers(1, 2))
        mamba_heads = groups * draw(st.integers(1, 3))
        while (2 * hidden) % mamba_heads:  # BambaConfig: mamba_n_heads divides mamba_expand x hidden
            mamba_heads -= groups
        config = _bamba_shrunk()
        config.update(mamba_n_groups=groups, num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv, hidden_size=hidden,
                      mamba_n_heads=mamba_heads, mamba_d_head=2 * hidden // mamba_heads,
                      mamba_d_state=draw(st.integers(1, 8)), mamba_d_conv=draw(st.integers(1, 4)),
                      mamba_chunk_size=draw(st.integers(1, 12)), mamba_conv_bias=draw(st.booleans()),
                      mamba_proj_bias=draw(st.booleans()), attention_bias=draw(st.booleans()),
                      attn_layer_indices=draw(st.lists(st.integers(0, layers - 1), min_size=1, max_size=layers,
                                                       unique=True)),
                      intermediate_size=draw(st.integers(4, 40)), vocab_size=draw(st.integers(8, 300)))
        return config, draw(st.integers(1, 2)), draw(st.integers(1, 20))

    @settings(max_examples=8, deadline=None)
    @given(random_bamba_config())
    def test_random_bamba_shapes_equal_flop_counter(flops, tmp_path_factory, case):
        config, batch, seq = case
        arch = _arch_from(flops, tmp_path_factory.mktemp("cfg"), config)
        torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
        assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params


@pytest.mark.parametrize("edit", [dict(mamba_d_state=1), dict(mamba_chunk_size=1), dict(mamba_d_conv=1)])
def test_bamba_size_one_contractions_are_not_matmuls(flops, tmp_path, edit):
    """torch.einsum runs a contraction over a dimension of size 1 as an elementwise product: with a state of 1 or
    chunks of 1 token some of the scan's einsums are no bmm, and FlopCounterMode charges them nothing; so does
    mamba2_flops (and a 1-tap conv is still a convolution)."""
    config = dict(_bamba_shrunk(), **edit)


# --- issue 10, branch jamba: Jamba's Mamba-1 mixers beside attention, MoE every other layer ------------------------
def _jamba_shrunk(**edit):
    """ai21labs/AI21-Jamba-1.5-Mini's config.json (tests/test_params_torch.py REAL_CONFIGS, cited there), shrunk: 4
    layers with attention on layer 2 (period 4, offset 2; 8 / 4 published), MoE on the odd layers (as published), h 64,
    4 / 2 heads of 16, 6 experts top-2 of 24, Mamba-1 of d = 128 (expand 2), state 12, dt rank 8, kernel 4."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["jamba"], num_hidden_layers=4, attn_layer_period=4, attn_layer_offset=2, hidden_size=64,
                num_attention_heads=4, num_key_value_heads=2, intermediate_size=24, num_experts=6, mamba_d_state=12,
                mamba_dt_rank=8, vocab_size=503, **edit)


@pytest.mark.parametrize("batch, seq", [(2, 16), (1, 3), (2, 37)])
def test_jamba_forward_equals_flop_counter(flops, tmp_path, batch, seq):
    """The Mamba-1 layers' count (mamba1_flops: in_proj, x_proj, dt_proj, out_proj, the causal conv1d and the
    selective scan's read-out, one bmm per token) and the attention / MLP / MoE layers' equal FlopCounterMode's
    forward on transformers' PyTorch path (mm, bmm, convolution; no CUDA kernels here), also for a prompt shorter
    than the kernel (3 < 4: the cache pads it to 4 columns)."""
    config = _jamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    assert arch.linear_layer_count() == 3 and arch.ssm_kind == "mamba1" and arch.moe_layer_count() == 2
    torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
    ours = flops.forward_flops(arch, batch, seq)
    assert ours["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params
    if (batch, seq) == (2, 16):  # one Mamba-1 layer by hand: d 128, N 12, R 8, K 4; T = 32 tokens
        projections = 2 * 32 * (64 * 256 + 128 * (8 + 24) + 8 * 128 + 128 * 64)
        conv = 2 * 2 * 128 * 4 * (16 + 3)
        read_out = 2 * 32 * 128 * 12  # C_t . h_t: the (2, 128, 12) state times (2, 12, 1), once per token
        assert ours["components"]["linear_attention"] == 3 * (projections + conv + read_out)


def test_jamba_scan_counted_is_the_counters_bmm_of_one_mixer(flops, tmp_path):
    """Which convention the counter sees, per module: FlopCounterMode charges one Mamba-1 mixer exactly mamba1_flops
    (its in_proj / x_proj / out_proj mm, dt_proj's weight @ dt and the scan's C_t . h_t as bmm, the conv1d's
    convolution) and nothing for the discretization and the recurrence's elementwise update."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _jamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        with FlopCounterMode(display=False) as counter:
            model(input_ids=torch.randint(0, 503, (2, 40)))
    mixer = counter.get_flop_counts()["JambaForCausalLM.model.layers.0.mamba"]
    aten = torch.ops.aten
    assert set(mixer) <= {aten.mm, aten.convolution, aten.bmm}
    assert sum(mixer.values()) == flops.mamba1_flops(arch, 2, 40)
    assert mixer[aten.convolution] == 2 * 2 * 128 * 4 * (40 + 3)


def test_jamba_backward_is_two_forwards_but_in_the_conv(flops, tmp_path):
    """Training counts 3 x forward (backward = 2 x forward, every family's convention).  FlopCounterMode's backward of
    the Mamba-1 layers charges more for the conv only (its grouped-convolution backward formula ignores the depthwise
    groups, as for Bamba and LFM2); every mm and bmm (projections, dt_proj, the scan's read-out, MLP, experts, LM head)
    is exactly 2 x its forward in the backward."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _jamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, 503, (2, 24))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    fwd, train = forward_counter.get_flop_counts()["Global"], train_counter.get_flop_counts()["Global"]
    aten = torch.ops.aten
    assert train[aten.mm] == 3 * fwd[aten.mm] and train[aten.bmm] == 3 * fwd[aten.bmm]
    assert aten.convolution_backward in train
    assert flops.training_flops(arch, 24, batch_size=2)["model_flops_per_step"] == 3 * forward_counter.get_total_flops()


def test_jamba_prefill_and_decode_step_match_counter(flops, tmp_path):
    """A 20-token prompt with the cache (logits for the last position), then one decode step: the attention layer
    reads 21 keys; each Mamba-1 layer convolves its 4 cached + 1 new columns (2 outputs) and reads its state with one
    bmm (2·b·d·N) in mamba_selective_state_update, its update elementwise."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _jamba_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, 503, (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        decode = flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"]
        assert decode == decode_counter.get_total_flops()


if given is not None:
    @st.composite
    def random_jamba_config(draw):
        """Jamba shapes: depth, attention and expert periods / offsets, GQA, experts and top-k (1: dense), Mamba-1
        expand / state / dt rank / kernel against the sequence, biases; then batch and sequence length."""
        layers, kv = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        heads = kv * draw(st.integers(1, 3))
        attn_every, expert_every = draw(st.integers(1, 4)), draw(st.integers(1, 2))
        experts = draw(st.integers(1, 4))
        config = _jamba_shrunk()
        config.update(num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv,
                      hidden_size=heads * 4 * draw(st.integers(1, 3)), attn_layer_period=attn_every,
                      attn_layer_offset=draw(st.integers(0, min(attn_every, layers) - 1)),  # one attention
                      expert_layer_period=expert_every,  # layer at least: a cache of Mamba layers alone has no length
                      expert_layer_offset=draw(st.integers(0, expert_every - 1)), num_experts=experts,
                      num_experts_per_tok=draw(st.integers(1, experts)), mamba_expand=draw(st.integers(1, 2)),
                      mamba_d_state=draw(st.integers(1, 8)), mamba_d_conv=draw(st.integers(1, 4)),
                      mamba_dt_rank=draw(st.just("auto") | st.integers(1, 6)), mamba_conv_bias=draw(st.booleans()),
                      mamba_proj_bias=draw(st.booleans()), intermediate_size=draw(st.integers(4, 40)),
                      vocab_size=draw(st.integers(8, 300)))
        return config, draw(st.integers(1, 2)), draw(st.integers(1, 20))

    @settings(max_examples=8, deadline=None)
    @given(random_jamba_config())
    def test_random_jamba_shapes_equal_flop_counter(flops, tmp_path_factory, case):
        config, batch, seq = case
        arch = _arch_from(flops, tmp_path_factory.mktemp("cfg"), config)
        torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
        assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params


# --- issue 10, branch jamba: ERNIE 4.5 MoE (its router in fp32: the same matmul FLOPs) -------------------------------
def _ernie_shrunk(**edit):
    """baidu/ERNIE-4.5-21B-A3B-PT's config.json (tests/test_params_torch.py REAL_CONFIGS, cited there), shrunk: 4
    layers (layer 0 dense, 1-3 MoE as published), h 64, 4 / 2 heads of 16, 6 experts top-2 of 16 beside 2 shared
    ones, use_bias on (every Linear and the LM head)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["ernie4_5_moe"], num_hidden_layers=4, moe_layer_end_index=-1, hidden_size=64,
                num_attention_heads=4, num_key_value_heads=2, intermediate_size=96, moe_intermediate_size=16,
                moe_num_experts=6, moe_k=2, vocab_size=503, use_bias=True, **edit)


@pytest.mark.parametrize("batch, seq", [(2, 16), (1, 5)])
def test_ernie_forward_and_backward_equal_flop_counter(flops, tmp_path, batch, seq):
    """The router's fp32 matmul (F.linear on fp32 copies: 2·T·h·E, as any router) and moe_statics' addition (no
    matmul) change no count: forward equals FlopCounterMode, forward + backward is 3 x forward (experts routed,
    batched_mm)."""
    config = _ernie_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    assert arch.router_fp32 and arch.router_frozen_bias and arch.moe_layer_count() == 3
    torch_forward, torch_train, torch_params = _count_with_pytorch(config, batch, seq)
    assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
    assert 3 * torch_forward == torch_train
    assert flops.training_flops(arch, seq, batch_size=batch)["model_flops_per_step"] == torch_train
    assert flops.parameter_counts(arch)["total"] == torch_params


# --- issue 10, branch jamba: Hunyuan-A13B (the shared MLP on every token, the router in fp32) -----------------------
def _hunyuan_shrunk(**edit):
    """tencent/Hunyuan-A13B-Instruct's config.json (tests/test_params_torch.py REAL_CONFIGS, cited there), shrunk: 3
    layers, h 64, 4 / 2 heads of 16 with q/k RMSNorms, 6 experts top-2 of 24 beside the shared MLP of 24, biased
    attention."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["hunyuan_v1_moe"], num_hidden_layers=3, hidden_size=64, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16, attention_head_dim=16, intermediate_size=24,
                moe_intermediate_size=[24] * 3, moe_topk=[2] * 3, num_shared_expert=[1] * 3, num_experts=6,
                vocab_size=503, attention_bias=True, **edit)


@pytest.mark.parametrize("batch, seq", [(2, 16), (1, 5)])
def test_hunyuan_forward_and_backward_equal_flop_counter(flops, tmp_path, batch, seq):
    """The fp32 router (a matmul on an fp32 copy of the tokens: 2·T·h·E), the shared MLP on every token and the routed
    top-2 (batched_mm) equal FlopCounterMode's forward; forward + backward is 3 x forward."""
    config = _hunyuan_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    assert arch.router_fp32 and not arch.router_frozen_bias and arch.moe_layer_count() == 3
    torch_forward, torch_train, torch_params = _count_with_pytorch(config, batch, seq)
    assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
    assert 3 * torch_forward == torch_train
    assert flops.parameter_counts(arch)["total"] == torch_params
    arch = _arch_from(flops, tmp_path, config)
    torch_forward, _, _ = _count_with_pytorch(config, 2, 5, backward=False)
    assert flops.forward_flops(arch, 2, 5)["total"] == torch_forward


# --- issue 10, branch hybrid: Nemotron-H's one-block layers (Mamba-2, attention, MLP, MoE) ---------------------------
def _nemotron_h_shrunk(**edit):
    """nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B's config.json (tests/test_params_torch.py REAL_CONFIGS "nemotron_h_moe",
    cited there), shrunk: 8 layers M-*EM*-E (3 kinds twice, MoE twice), h 64, 4 / 2 heads of 16, Mamba-2 of 8 heads x
    16 in 2 groups of B and C of N = 12, kernel 4, chunks of 16 tokens, MLP 96, 4 experts of 24 top-2 and a shared MLP
    of 40."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["nemotron_h_moe"], hybrid_override_pattern="M-*EM*-E", hidden_size=64,
                num_attention_heads=4, num_key_value_heads=2, head_dim=16, mamba_num_heads=8, mamba_head_dim=16,
                n_groups=2, ssm_state_size=12, chunk_size=16, intermediate_size=96, vocab_size=503, n_routed_experts=4,
                num_experts_per_tok=2, moe_intermediate_size=24, moe_shared_expert_intermediate_size=40, **edit)


@pytest.mark.parametrize("batch, seq", [(2, 16), (1, 3), (2, 37)])
def test_nemotron_h_forward_equals_flop_counter(flops, tmp_path, batch, seq):
    """Each layer runs only its block: the 2 Mamba-2 layers mamba2_flops (Bamba's convention: in_proj, out_proj, the
    causal conv1d and the chunked scan's einsums, s padded to 16-token chunks), the 2 attention layers q/k/v/o and the
    score square, the 2 MLP layers up/down, the 2 MoE layers the router, top-2 of the ungated experts (batched_mm) and
    the shared MLP; FlopCounterMode's forward on transformers' PyTorch path (mm, bmm, convolution) equals it."""
    config = _nemotron_h_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    assert (arch.linear_layer_count(), arch.attention_layer_count(), arch.dense_mlp_layer_count(),
            arch.moe_layer_count()) == (2, 2, 2, 2)
    torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
    ours = flops.forward_flops(arch, batch, seq)
    assert ours["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params
    if (batch, seq) == (2, 16):  # by hand, 32 tokens: only the layers that hold each block
        parts = ours["components"]
        assert parts["mlp"] == 2 * 2 * 32 * 2 * 64 * 96
        assert parts["routed_experts"] == 2 * 2 * 32 * 2 * (2 * 64 * 24)
        assert parts["shared_experts"] == 2 * 2 * 32 * 2 * 64 * 40 and parts["router"] == 2 * 2 * 32 * 64 * 4
        assert parts["attention_qkv"] == 2 * 2 * 32 * (64 * 64 + 2 * 64 * 32)
        assert parts["attention_scores"] == 2 * 2 * 2 * 4 * 16 * 16 * 16
        assert parts["linear_attention"] == 2 * flops.mamba2_flops(arch, 2, 16)


def test_nemotron_h_backward_is_two_forwards_but_in_the_conv(flops, tmp_path):
    """Training counts 3 x forward (every family's convention).  FlopCounterMode's backward charges every mm and bmm
    (projections, experts, the scan, the LM head) exactly 2 x its forward, and more for the depthwise conv1d (its
    grouped-convolution backward formula ignores the groups), as for Bamba."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _nemotron_h_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, 503, (2, 24))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    fwd, train = forward_counter.get_flop_counts()["Global"], train_counter.get_flop_counts()["Global"]
    aten = torch.ops.aten
    assert train[aten.mm] == 3 * fwd[aten.mm] and train[aten.bmm] == 3 * fwd[aten.bmm]
    assert aten.convolution_backward in train
    assert flops.training_flops(arch, 24, batch_size=2)["model_flops_per_step"] == 3 * forward_counter.get_total_flops()


def test_nemotron_h_prefill_and_decode_step_match_counter(flops, tmp_path):
    """A 20-token prompt with the cache (logits for the last position), then one decode step: the attention layers
    read 21 keys, each Mamba-2 layer convolves its cached columns and reads its state with one bmm, the MLP and MoE
    layers run one token."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _nemotron_h_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, 503, (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        decode = flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"]
        assert decode == decode_counter.get_total_flops()


if given is not None:
    @st.composite
    def random_nemotron_h_config(draw):
        """Nemotron-H shapes: the layer list (any mix of M, *, -, E), GQA, Mamba-2 heads / groups / state / kernel /
        chunk against the sequence, biases, experts; then batch and sequence length."""
        kv = draw(st.integers(1, 2))
        heads = kv * draw(st.integers(1, 3))
        groups = draw(st.integers(1, 2))
        experts = draw(st.integers(2, 4))  # NemotronHTopkRouter takes the top 2 scores of each expert group
        config = _nemotron_h_shrunk()
        blocks = draw(st.lists(st.sampled_from("M*-E"), min_size=1, max_size=5))
        blocks.insert(draw(st.integers(0, len(blocks))), "*")  # transformers' cache of Mamba-2 layers alone has no
        config.update(hybrid_override_pattern="".join(blocks),  # sequence length: one attention layer somewhere
                      num_attention_heads=heads, num_key_value_heads=kv, head_dim=draw(st.sampled_from([4, 8])),
                      hidden_size=draw(st.sampled_from([8, 16, 24])), n_groups=groups,
                      mamba_num_heads=groups * draw(st.integers(1, 3)), mamba_head_dim=draw(st.sampled_from([2, 4, 8])),
                      ssm_state_size=draw(st.integers(1, 8)), conv_kernel=draw(st.integers(1, 4)),
                      chunk_size=draw(st.integers(1, 12)), use_conv_bias=draw(st.booleans()),
                      use_bias=draw(st.booleans()), mlp_bias=draw(st.booleans()),
                      intermediate_size=draw(st.integers(4, 40)), vocab_size=draw(st.integers(8, 300)),
                      n_routed_experts=experts, num_experts_per_tok=draw(st.integers(1, experts)),
                      moe_intermediate_size=draw(st.integers(1, 20)),
                      moe_shared_expert_intermediate_size=draw(st.integers(1, 20)))
        return config, draw(st.integers(1, 2)), draw(st.integers(1, 20))

    @settings(max_examples=8, deadline=None)
    @given(random_nemotron_h_config())
    def test_random_nemotron_h_shapes_equal_flop_counter(flops, tmp_path_factory, case):
        config, batch, seq = case
        arch = _arch_from(flops, tmp_path_factory.mktemp("cfg"), config)
        torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
        assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params


# --- issue 10, branch hybrid: Falcon-H1's Mamba-2 beside attention in every layer -------------------------------------
def _falcon_h1_shrunk(**edit):
    """tiiuae/Falcon-H1-0.5B's config.json (tests/test_params_torch.py REAL_CONFIGS "falcon_h1", cited there), shrunk:
    3 layers, h 64, 4 / 2 heads of 16, Mamba-2 of 8 heads x 16 (mamba_d_ssm 128) in 2 groups of B and C of N = 12,
    kernel 4, chunks of 16 tokens, SwiGLU 96; its muP multipliers kept (elementwise: nothing to count)."""
    from test_params_torch import REAL_CONFIGS
    return dict(REAL_CONFIGS["falcon_h1"], num_hidden_layers=3, hidden_size=64, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16, mamba_d_ssm=128, mamba_n_heads=8, mamba_d_head=16, mamba_n_groups=2,
                mamba_d_state=12, mamba_chunk_size=16, intermediate_size=96, vocab_size=503, **edit)


@pytest.mark.parametrize("edit", [dict(), dict(mamba_rms_norm=True, projectors_bias=True, attention_bias=True)])
@pytest.mark.parametrize("batch, seq", [(2, 16), (1, 3), (2, 37)])
def test_falcon_h1_forward_equals_flop_counter(flops, tmp_path, batch, seq, edit):
    """Every layer runs attention (q/k/v/o and the score square) AND a Mamba-2 mixer (mamba2_flops, Bamba's
    convention) on the same normed input, then its SwiGLU: FlopCounterMode's forward on transformers' PyTorch path
    equals it, with the gated norm or silu(z) (elementwise either way)."""
    config = _falcon_h1_shrunk(**edit)
    arch = _arch_from(flops, tmp_path, config)
    assert arch.state_layer_count() == 3 == arch.attention_layer_count() and arch.parallel_ssm
    torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
    ours = flops.forward_flops(arch, batch, seq)
    assert ours["total"] == torch_forward
    assert flops.parameter_counts(arch)["total"] == torch_params
    if (batch, seq) == (2, 16):  # by hand: 3 layers x (attention projections + Mamba-2 + SwiGLU) over 32 tokens
        parts = ours["components"]
        assert parts["attention_qkv"] == 3 * 2 * 32 * (64 * 64 + 2 * 64 * 32)
        assert parts["linear_attention"] == 3 * flops.mamba2_flops(arch, 2, 16)
        assert parts["mlp"] == 3 * 2 * 32 * 3 * 64 * 96


def test_falcon_h1_backward_is_two_forwards_but_in_the_conv(flops, tmp_path):
    """Training counts 3 x forward; FlopCounterMode's backward is 2 x forward for every mm and bmm, more for the
    depthwise conv1d (its grouped-convolution backward formula), as for Bamba."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _falcon_h1_shrunk()
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        ids = torch.randint(0, 503, (2, 24))
        with FlopCounterMode(display=False) as forward_counter:
            model(input_ids=ids)
        with FlopCounterMode(display=False) as train_counter:
            model(input_ids=ids, labels=ids).loss.backward()
    fwd, train = forward_counter.get_flop_counts()["Global"], train_counter.get_flop_counts()["Global"]
    aten = torch.ops.aten
    assert train[aten.mm] == 3 * fwd[aten.mm] and train[aten.bmm] == 3 * fwd[aten.bmm]
    assert aten.convolution_backward in train
    assert flops.training_flops(arch, 24, batch_size=2)["model_flops_per_step"] == 3 * forward_counter.get_total_flops()


@pytest.mark.parametrize("edit", [dict(), dict(mamba_rms_norm=True)])
def test_falcon_h1_prefill_and_decode_step_match_counter(flops, tmp_path, edit):
    """A 20-token prompt with the cache, then one decode step: every layer's attention reads 21 keys and its Mamba-2
    mixer convolves its cached columns and reads its state with one bmm (silu(z) or the gated norm: elementwise)."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _falcon_h1_shrunk(**edit)
    arch = _arch_from(flops, tmp_path, config)
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, 503, (2, 20))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    assert flops.forward_flops(arch, 2, 20, logits_positions=1)["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        decode = flops.forward_flops(arch, 2, 1, past=20, attention=attention, decode=True)["total"]
        assert decode == decode_counter.get_total_flops()


if given is not None:
    @st.composite
    def random_falcon_h1_config(draw):
        """Falcon-H1 shapes: depth, GQA, the Mamba-2 width / heads / groups / state / kernel / chunk against the
        sequence, the gated norm, biases, a tied head; then batch and sequence length."""
        kv = draw(st.integers(1, 2))
        heads = kv * draw(st.integers(1, 3))
        groups = draw(st.integers(1, 2))
        m_heads = groups * draw(st.integers(1, 3))
        config = _falcon_h1_shrunk()
        config.update(num_hidden_layers=draw(st.integers(1, 3)), num_attention_heads=heads, num_key_value_heads=kv,
                      head_dim=draw(st.sampled_from([4, 8])), hidden_size=draw(st.sampled_from([8, 16, 24])),
                      mamba_n_groups=groups, mamba_n_heads=m_heads, mamba_d_head=draw(st.sampled_from([2, 4, 8])),
                      mamba_d_state=draw(st.integers(1, 8)), mamba_d_conv=draw(st.integers(1, 4)),
                      mamba_chunk_size=draw(st.integers(1, 12)), mamba_rms_norm=draw(st.booleans()),
                      mamba_conv_bias=draw(st.booleans()), mamba_proj_bias=draw(st.booleans()),
                      projectors_bias=draw(st.booleans()), attention_bias=draw(st.booleans()),
                      mlp_bias=draw(st.booleans()), tie_word_embeddings=draw(st.booleans()),
                      intermediate_size=draw(st.integers(4, 40)), vocab_size=draw(st.integers(8, 300)))
        config["mamba_d_ssm"] = config["mamba_n_heads"] * config["mamba_d_head"]
        return config, draw(st.integers(1, 2)), draw(st.integers(1, 20))

    @settings(max_examples=8, deadline=None)
    @given(random_falcon_h1_config())
    def test_random_falcon_h1_shapes_equal_flop_counter(flops, tmp_path_factory, case):
        config, batch, seq = case
        arch = _arch_from(flops, tmp_path_factory.mktemp("cfg"), config)
        torch_forward, _, torch_params = _count_with_pytorch(config, batch, seq, backward=False)
        assert flops.forward_flops(arch, batch, seq)["total"] == torch_forward
        assert flops.parameter_counts(arch)["total"] == torch_params


# --- Gemma 4 (issue 10, branch gemma4): per-layer head widths, K=V, KV-shared layers, PLE, MoE beside the MLP ------

def _gemma4_shrunk(name: str) -> dict:
    """A published Gemma 4 config (tests/test_params_torch.py REAL_CONFIGS, cited there) with every switch kept and the
    sizes shrunk: 64 wide, 4 heads, 2 KV heads of 16 on sliding layers, 32-wide heads on full ones, window 4, a
    512-token vocabulary; E2B (the wrapper's text_config): 6 layers (2 sliding : 1 full) of which the last 3 share
    K/V, double-wide MLPs, PLE of 8 over a 300-row table; 31B: 4 layers, K=V full layers with 1 KV head; 26B-A4B: 3
    layers, 4 experts of 24, top-2."""
    from test_params_torch import REAL_CONFIGS
    published = json.loads(json.dumps(REAL_CONFIGS[name]))
    text = published.get("text_config", published)
    layers = {"gemma4_e2b": 6, "gemma4_31b": 4, "gemma4_26b_a4b": 3}[name]
    text.update(hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                global_head_dim=32, vocab_size=512, sliding_window=4, pad_token_id=0, bos_token_id=0,
                eos_token_id=0, num_hidden_layers=layers,
                layer_types=["sliding_attention" if (i + 1) % (3 if name == "gemma4_e2b" else 2) else "full_attention"
                             for i in range(layers)])
    if name == "gemma4_e2b":
        text.update(num_kv_shared_layers=3, hidden_size_per_layer_input=8, vocab_size_per_layer_input=300)
    else:
        text.update(num_global_key_value_heads=1)
    if name == "gemma4_26b_a4b":
        text.update(num_experts=4, top_k_experts=2, moe_intermediate_size=24)
    return published


@pytest.mark.parametrize("name", ["gemma4_e2b", "gemma4_31b", "gemma4_26b_a4b"])
def test_gemma4_forward_backward_prefill_and_decode_equal_flop_counter(flops, tmp_path, name):
    """Gemma 4 counted layer by layer (per_layer_forward_flops) equals FlopCounterMode on transformers 5.23's eager
    Gemma4 model (experts through batched_mm: top-k per token): a training forward of 2 x 12 tokens and its backward
    (3 x), a 12-token prefill with logits for the last position only (generate's logits_to_keep=1: the KV-shared
    layers then run on that position alone, Gemma4TextModel._maybe_slice_kv_shared_inputs), and one decode step after
    it, whose sliding layers see the window (4 keys) in both conventions."""
    torch, transformers = torch_and_transformers()
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils.flop_counter import FlopCounterMode

    config = _gemma4_shrunk(name)
    arch = _arch_from(flops, tmp_path, config)
    forward, train, n_params = _count_with_pytorch(config, 2, 12)
    assert flops.forward_flops(arch, 2, 12, attention="full")["total"] == forward and 3 * forward == train
    assert flops.training_flops(arch, 12, batch_size=2)["model_flops_per_step"] == train
    assert flops.parameter_counts(arch)["total"] == n_params
    with FakeTensorMode():
        model = _hf_model(transformers, config)
        prompt = torch.randint(0, 512, (2, 12))
        with FlopCounterMode(display=False) as prefill_counter:
            out = model(input_ids=prompt, use_cache=True, logits_to_keep=1)
        with FlopCounterMode(display=False) as decode_counter:
            model(input_ids=prompt[:, :1], past_key_values=out.past_key_values, use_cache=True)
    prefill = flops.forward_flops(arch, 2, 12, logits_positions=1)
    assert prefill["total"] == prefill_counter.get_total_flops()
    for attention in ("full", "causal"):
        assert flops.forward_flops(arch, 2, 1, past=12, attention=attention, decode=True)["total"] \
            == decode_counter.get_total_flops()


def test_gemma4_kv_bytes_skip_shared_layers_and_use_each_layers_width(flops):
    """google/gemma-4-E2B-it (REAL_CONFIGS, cited there): K and V per token of its 15 layers with their own cache, 12
    sliding (one KV head of 256) and 3 full (one of 512): (12 x 2 x 256 + 3 x 2 x 512) x 2 B; the 20 KV-shared layers
    add nothing."""
    from test_params_torch import REAL_CONFIGS
    arch, _ = flops.model_from_config(json.loads(json.dumps(REAL_CONFIGS["gemma4_e2b"])))
    assert flops.kv_cache_bytes_per_token(arch, 2) == (12 * 2 * 256 + 3 * 2 * 512) * 2 == 18_432


if given is not None:
    @pytest.mark.parametrize("family", ["gemma4_text", "gemma4"])
    def test_gemma4_random_small_configs_equal_flop_counter(flops, tmp_path, family):
        """The params suite's small random Gemma 4 configs (test_params_torch.small_config: per-layer head widths,
        K=V, KV-shared layers, PLE, the MoE block, the wrapper) through FlopCounterMode: a forward, a prefill keeping
        the logits of its last 1-3 positions, and a decode step after it (both conventions).  Left out: a window of
        1 (transformers' sliding cache then keeps a token the window excludes, for every family) and KV-shared
        layers without PLE (transformers 5.23's _maybe_slice_kv_shared_inputs indexes the absent per-layer inputs
        and fails)."""
        from test_params_torch import small_config
        torch, transformers = torch_and_transformers()
        from torch._subclasses.fake_tensor import FakeTensorMode
        from torch.utils.flop_counter import FlopCounterMode

        @settings(max_examples=max(3, settings.default.max_examples // 10), deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(small_config(family), st.integers(1, 9), st.integers(1, 3))
        def check(config, seq, keep):
            text = config.get("text_config", config)
            if text["sliding_window"] < 2 or (text.get("num_kv_shared_layers")
                                              and not text.get("hidden_size_per_layer_input", 256)):
                return
            arch = _arch_from(flops, tmp_path, config)
            with FakeTensorMode():
                model = _hf_model(transformers, json.loads(json.dumps(config)))
                ids = torch.randint(0, 8, (2, seq))
                with FlopCounterMode(display=False) as forward:
                    model(input_ids=ids)
                with FlopCounterMode(display=False) as prefill:
                    out = model(input_ids=ids, use_cache=True, logits_to_keep=keep)
                with FlopCounterMode(display=False) as decode:
                    model(input_ids=ids[:, :1], past_key_values=out.past_key_values, use_cache=True)
            assert flops.forward_flops(arch, 2, seq)["total"] == forward.get_total_flops(), config
            assert flops.forward_flops(arch, 2, seq, logits_positions=keep)["total"] == prefill.get_total_flops()
            for attention in ("full", "causal"):
                assert flops.forward_flops(arch, 2, 1, past=seq, attention=attention, decode=True)["total"] \
                    == decode.get_total_flops(), (config, attention)

        check()
