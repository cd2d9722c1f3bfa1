"""GPU memory of a decoder-only transformer, for training and for inference, per GPU, under every parallelism.

What it computes
================
Training, per GPU (the most loaded pipeline stage is reported; every term separately):

* weights, gradients, fp32 master weights, optimizer states (deterministic: exact integer bytes of the tensors a
  rank holds), parameters gathered by ZeRO-3 / FSDP, activations saved for backward, logits / loss buffers,
  communication buckets, framework overhead (CUDA context, default 1 GiB) and an allocator fragmentation allowance
  (default 5 % of everything allocated), plus the checkpoint size on disk for the whole model.
* Bytes per parameter (``--precision`` x ``--grads`` x ``--optimizer``), with their sources:

  ====================  =====================================================================================
  precision             low-precision weights 2 B + fp32 master 4 B (bf16 / fp16 / fp8 mixed, Micikevicius
                        et al. 2018); fp32: weights 4 B, no master; FSDP keeps sharded fp32 parameters that
                        serve as master (PyTorch FSDP MixedPrecision): 4 + 4 B; fp8 adds 1 B per linear weight
                        for its FP8 cast (Transformer Engine; a cached transpose would add another 1 B)
  grads                 ``low`` = weight dtype (2 B: ZeRO paper's 2+2+12 = 16 B), ``fp32`` = fp32 main grads
                        (Megatron: 2+4+12 = 18 B), ``low+fp32`` = 16-bit grads plus the optimizer's fp32 copy
                        (DeepSpeed stage_1_and_2.py: "18 = 2_grads_16bit + 4_grads_32bit + 4_params_32bit +
                        8_optimizer_states_32bit")
  adamw                 m, v in fp32: 8 B (Loshchilov & Hutter 2019; torch.optim.AdamW), + 4 B step counter
                        per parameter tensor (torch keeps a float32 scalar per tensor)
  adamw-8bit            2 uint8 states + 2 fp32 absmax per 256-element block; tensors < 4096 elements keep
                        fp32 states (bitsandbytes optim/optimizer.py, Optimizer2State.init_state)
  adafactor             factored second moment: rows + columns per matrix, full for 1-D tensors, no first
                        moment (Shazeer & Stern 2018, beta1 = None; torch.optim.Adafactor layout, + 4 B step)
  lion                  one momentum: 4 B (Chen et al. 2023)
  sgd / sgd-momentum    0 / 4 B (momentum buffer)
  muon                  momentum 4 B for 2-D hidden matrices; embeddings, LM head, norms and biases use AdamW
                        8 B (K. Jordan, github.com/KellerJordan/Muon README)
  ====================  =====================================================================================

* Parallelism: ``-tp`` (tensor; ``--sp`` sequence parallel), ``-pp`` (1F1B: the first stage holds min(pp, m)
  micro-batches in flight; ``--vpp`` interleaved: 2(pp-1) + (vpp-1)pp + 1 model chunks, Megatron-LM
  schedules.py), ``--cp`` (context parallel: sequence / cp per rank), ``-ep`` and ``--etp`` (experts split over
  ep x etp ranks). ZeRO stages and FSDP shard over the data-parallel group *including* context-parallel ranks
  (dp x cp = num_gpus / (tp pp): the ranks that hold the same weights; Megatron's distributed optimizer and
  torchtitan's dp_shard_cp mesh), never over the world size; expert weights shard over the expert-data-parallel
  size num_gpus / (etp ep pp). ZeRO-3 / FSDP add the gathered parameters of (1 + prefetch) units and the
  unsharded grads of one unit (DeepSpeed's estimator: 4 x largest layer). ``--offload-optimizer`` moves master
  weights, optimizer states and sharded fp32 grads to CPU; ``--offload-params`` (ZeRO-3) the 16-bit shards too.
* Activations (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
  Sec. 4 and Table 2), generalised to GQA-sized K/V, gated MLPs, MoE (tokens x top-k through experts), MLA,
  ``--attn-implementation`` flash/sdpa (no s^2 term; the log-sum-exp is kept) versus eager (transformers'
  attn_implementation names), dropout masks on or off, SP/CP
  division. Two implementation profiles: ``megatron`` (fused norms save their input; fused SwiGLU saves its
  input; 34 sbh + 5 a s^2 b for GPT with dropout, exactly the paper's count) and ``hf`` (Hugging Face eager
  modules: RMSNorm saves an fp32 upcast, the normalised tensor and the output; eager softmax in fp32; GPT-2's
  Python gelu_new saves 4 tensors; Gemma-2's tanh soft-cap one more s^2 tensor; checked against
  torch.autograd.graph.saved_tensors_hooks within 10 %). Recompute none / selective (the attention core) / full
  (layer inputs only + one layer's working set). Norm statistics (4-8 B per token) count in ``hf`` only.

Inference, per GPU: weights at any dtype or ``--bits-per-weight``; the KV cache, exact:
2 x layers x kv_heads x head_dim x bytes per token for MHA/GQA/MQA; MLA stores kv_lora_rank + qk_rope_head_dim
per token and layer (no factor 2), and DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5) index_head_dim more for its
indexer's key; sliding-window layers hold min(context, window) tokens (``--kv-cache hf-dynamic``:
window - 1, as transformers' DynamicSlidingWindowLayer keeps; and Falcon-40B's K/V broadcast to every query head,
which transformers' Falcon caches, 16x the 8 groups the architecture needs); per-layer types (Gemma-2 alternates;
Llama 4's chunked layers are cached like windows of the chunk size, as transformers' cache holds them);
Qwen3-Next's (and Qwen3.5's) gated delta-net layers cache no K/V: their fixed conv state ((2 kd + vd) x kernel,
2 B) and fp32 recurrent state (H_v x d_k x d_v) per sequence are a line of their own (``linear_state``), as
transformers' cache keeps them (their training memory is refused: the delta-net activations are not modelled);
Bamba's Mamba-2 layers likewise (conv state (H P + 2 G N) x kernel, 2 B; fp32 SSM state H x P x N:
``mamba_state_bytes``);
``--kv-dtype``: the shared block's KV_CACHE_DTYPES, the table the quantization script reads too (any spelling
``kv_cache_dtype`` knows: f16 = fp16 = float16, bfloat16, f32, fp8_e4m3 / fp8_e5m2 = fp8; the output names the
canonical type): fp32/fp16/bf16/fp8/int8/int4 (per-tensor scales not counted) or llama.cpp's q8_0, q5_1, q5_0,
q4_1, q4_0, iq4_nl (32-value blocks, scales included; a cached row must be whole blocks, ``kv_row_bytes``); TP
splits KV heads (one head per rank when kv_heads < tp; MLA's latent is replicated); with ``-pp`` the first stage
holds its layers' cache. Peak prefill activations: one sequence, ``--prefill-chunk``
tokens per step, one layer live (see ``prefill_activation_bytes``).

``--engine vllm`` (with ``--infer``): the KV pool as vLLM sizes it instead of a sum for a batch:
``--gpu-memory-utilization`` x ``--gpu-memory`` - weights (exact) - non-torch memory - the profiling run's activation
peak - CUDA graphs (estimates, each printed and overridable; vLLM's ``--kv-cache-memory-bytes`` gives the pool
itself), cut into pages of ``--block-size`` tokens per layer (num_blocks = pool // page // layers,
vllm/v1/core/kv_cache_utils.py); printed as vLLM's log prints it ("Available KV cache memory", "# GPU blocks", "GPU KV
cache size", "Maximum concurrency for N tokens per request"). Sliding-window, Llama 4 chunked and MLA layers are paged as
vLLM's hybrid KV-cache manager groups them (kv_cache_interface.py max_memory_usage_bytes: a window's request holds its
last window - 1 tokens plus the chunked-prefill batch and one page). Linear-attention / SSM layers (gated delta-nets,
Mamba-1/2, short convolutions) hold one state page per request and layer, the attention block size raised until its
page holds one (vllm_hybrid_state_pool; ``--mamba-cache-mode``, ``--mamba-ssm-cache-dtype``,
``--num-speculative-tokens``, ``--draft-attention-layers``).  As vLLM v0.24.0's code pages them: Gemma 4 (each
layer's own heads and head width, K=V full layers still caching V, KV-shared layers owning no pages; the smaller
pages' block size multiplied up to the largest page), DSA models (DeepSeek-V3.2, GLM-5: the bf16 latent beside the
indexer's fp8 keys and fp32 scales, 64-token blocks, one group of per-layer pages) and ``-pp`` with
``--kv-cache-memory-bytes`` (stages split as get_pp_indices splits them, the groups projected onto each stage, the
fewest blocks of any stage kept); these print "GPU KV cache size" as vLLM >= 0.21 does, int(concurrency x
max_model_len).

``--engine sglang`` (with ``--infer``): the KV pool as SGLang 0.5.8 sizes it (model_runner_kv_cache_mixin.py
profile_max_num_token): free memory after the weights - (1 - ``--mem-fraction-static``) x free memory before them, in
cells of one token of every layer (MHA: kv_heads per rank x (head_dim + v_head_dim); MLA: the latent), whole
``--page-size`` pages, capped by ``--max-total-tokens``; the default fraction is SGLang's by GPU memory and TP
(server_args.py _handle_gpu_memory_settings); the memory before and after the weights load is estimated or taken
from its log (``--avail-mem-before-load``, ``--avail-mem-after-load``); printed as SGLang logs it ("KV Cache is
allocated. #tokens: N, K size: X GB, V size: Y GB", "max_total_num_tokens=N", max_running_requests). gpt-oss, Llama
4 and MiMo-V2-Flash get SGLang's SWAKVPool (0.5.8's token-layer split, ``--swa-full-tokens-ratio``,
``--disable-hybrid-swa-memory``: "Use sliding window memory pool. full_layer_tokens=F, swa_layer_tokens=S"); other
sliding models keep every layer at full length, as SGLang does. Linear-attention layers, the DSA indexer and ``-pp``
are refused for now.

``--engine hf`` (with ``--infer``): the summed breakdown with transformers' DynamicCache (``--kv-cache hf-dynamic``: a
sliding layer keeps window - 1 tokens); ``--engine sum`` (the default) counts a static or paged cache's window.

``--engine llama.cpp`` (with ``--infer``): the buffers llama.cpp logs at load, for its own flags (``-c``, ``-np``,
``-ctk``/``-ctv``, ``-ngl``, ``-ub``, ``-fa``, ``--kv-unified``, ``--swa-full``, ``-nkvo``): the KV caches exact
(n_ctx padded to 256, a second sliding-window cache of pad256(min(n_ctx, n_swa x seqs + n_ubatch)) cells for models
mixing sliding and full layers, llama-kv-cache-iswa.cpp), the model buffers split host / GPU as load_tensors places
them (weights per tensor for a ``--gguf-type`` file type such as Q4_K_M, as llama-quantize types them and CUDA
allocates them, ``--old-qkv`` for a fused attn_qkv quantized before 2025; at a ggml type, ``--bits-per-weight``, or
scaled to ``--model-bytes``), the compute buffer replayed (ggml-alloc re-run over the rebuilt worst-case graph: llama
/ qwen2 / qwen3 / qwen3moe / phi3 / gemma2 / gemma3 / gemma4 / gpt-oss layers, fully offloaded, any cache type; others
estimated, and labelled so). Each layer caches its own K and V widths (Gemma 4's full layers, MiMo-V2-Flash's sliding
ones); Gemma 4's KV-shared layers cache nothing. Gemma 4's per-layer input embeddings (E2B / E4B), the DSA indexer
cache, MLA without ``-fa`` and ``-tp``/``-pp`` are refused.

``--speed`` / ``--sweep`` (with ``--infer`` and ``--gpu`` or ``--bandwidth``): prefill time (compute-bound at
``--prefill-efficiency`` of the dense peak), decode step (memory-bound at ``--decode-efficiency`` of the bandwidth:
weights once, MoE experts touched E(1-(1-k/E)^B), the batch's KV; plus ``--decode-overhead-ms``), time to first token,
tokens/s per user and in total; ``--sweep`` for batch 1, 2, 4, ... up to the sequences of ``--context`` that fit
(``--plot FILE`` draws it).

Solvers: ``--max-micro-batch`` and ``--max-context`` (largest that fits ``--gpu-memory``; with ``--engine vllm`` the
longest ``--max-model-len`` by vLLM's block accounting), ``--max-batch-size`` and ``--min-tp`` (inference: most
concurrent sequences at ``--context``, smallest tensor-parallel size the heads allow, each engine's verdict);
``--search`` enumerates
(TP, PP, interleaving, DP, ZeRO, recompute, micro-batch) for ``--num-gpus`` (the global batch checked per layout)
and ranks the layouts that fit by predicted tokens per second (``--rank memory``: smallest tp x pp, then lowest
ZeRO stage, then least recompute, then largest micro-batch); every micro-batch dividing the per-replica batch is
tried, > 10^5 candidates/s, the whole search well under a second (bench/bench_mem_search.py).

Step time (``--predict-step``, and every ``--search`` row; ``step_time``): compute from the block's tensor list and
causal attention at one stated fraction of the dense peak (COMPUTE_EFFICIENCY), memory-bound traffic (3 x the bytes
a layer saves, at the HBM bandwidth), TP/SP and EP collectives and PP sends (exposed), CP ring attention, ZeRO-3
gathers and DP gradient reduction (overlapped up to the compute), the 1F1B bubble (pp-1)/(m vpp); each
communication term with its bytes and link (NVLink inside a node, the NIC between nodes: the block's GPU_CATALOGUE, ``--gpu`` and
its overrides); MFU in the Megatron/PaLM convention (full s x s attention) and the causal one. Checked against 28
published runs (tests/test_mem_layout.py; docs/calc_transformer_mem.md "Step time and the layout search").

Precision modes (``--precision``; the output states the one assumed, see PRECISION_MODES): ``bf16`` / ``fp16``
(Megatron-LM / DeepSpeed: 16-bit weights + fp32 master), ``fp8``, ``fp32``, ``amp-bf16`` / ``amp-fp16``
(torch.autocast over fp32 weights, as HF Trainer's --bf16 / --fp16: 4 B weights, 4 B grads, fp32 states, no master,
plus autocast's 16-bit copy of every parameter a matmul reads, ``autocast_weight_copies``; MoE refused) and
``bf16-pure`` (model.to(bfloat16), no master; optimizer states bf16 as torch's optimizers keep them, or fp32 with
``--optimizer-state-dtype fp32``). Model-state bytes equal a real AdamW step under each recipe
(tests/test_mem_precision.py).

LoRA / QLoRA / DoRA (``--lora-rank`` and its group): peft's adapters, r (in + out) trainable per adapted linear
(+ out with ``--dora``), equal to peft's get_nb_trainable_parameters() on published configs; ``--lora-targets``
q,v | all-linear (every nn.Linear but the LM head; refused on MoE models, whose experts peft 0.21 adapts as 3-D
parameters) | the block's module names; the frozen base at ``--base-dtype`` bf16 / fp16 / fp32 / int8 (LLM.int8:
int8 + fp32 row scales) / nf4 (4-bit packed + fp32 absmax per 64 + the NF4 table) / nf4-dq (double quantization),
bitsandbytes' layouts, with embeddings, norms, biases and the LM head kept in bf16; adapters, their gradients and
optimizer states at ``--adapter-dtype`` (fp32, peft's default); ``--base-dtype fp32 --precision amp-bf16`` (or
amp-fp16) runs the fp32 base under autocast. Activations: what a frozen base saves at the compute dtype (no frozen
nn.Linear's input; LLM.int8's quantised linears keeping theirs, and 4-bit ones too with ``--bnb-version`` before
0.43.3, bitsandbytes PR #1270; nothing before the first layer's adapters) plus
the adapters' inputs, dropout copies and r-wide outputs (lora_frozen_base_tensors; the step timeline measured within
3 % of MemTracker on peft-wrapped models, tests/test_mem_lora_timeline.py). One GPU's view (data parallelism only):
-tp/-pp/--cp/-ep, ZeRO/FSDP, --search and --precision other than amp over an fp32 base are refused with LoRA; DoRA
gets no step timeline. JSON adds ``lora`` {rank, alpha, targets, dropout, base_dtype, adapter_dtype, dora, autocast,
bnb_version,
trainable_params,
total_params, trainable_percent, adapted_modules, base_weight_bytes}; its ``checkpoint`` is the adapters'.

Step timeline (issue 12; ``step_timeline``): every training run on one device also walks one Hugging Face training
step (forward, the loss's fp32 upcast and log-softmax, backward layer by layer, the optimizer step's temporaries,
zero_grad) and prints its largest moment, the phase and the breakdown there (``--explain``: every event; ``--plot``:
the timeline); ``--optimizer-impl`` foreach | fused | for-loop, ``--zero-grad`` none | zero; gradient accumulation
from ``--global-batch``. The table stays the sum. Within 3 % of MemTracker on 22 measured steps
(tests/test_mem_timeline.py, bench/measure_train_peaks.py). JSON: ``timeline`` {events, peak, peak_total, ...} (null
with ``timeline_refusal`` where it does not apply). ``--trainer litgpt`` (LoRA/QLoRA, ``litgpt_step_timeline``) walks
LitGPT 0.4's finetune/lora.py under Lightning Fabric instead: its fused-qkv LoRA tensors, the chunked LM head with
Fabric's fp32 chunk copies, the previous micro-batch's logits (and bitsandbytes < 0.43.3 inputs) held through the next
forward, the quantized LM head's dequantized copies, PagedAdamW's paged states; within 0.11 % of LitGPT's code on fake
tensors and 0.7 % of its five published A10G peaks (tests/test_mem_published_finetune.py); JSON adds ``litgpt``.

``--params N`` instead of a model gives model states only (how the ZeRO paper and DeepSpeed's estimators count).

The model is the shared model block's ``Model`` (the same dataclass, presets, config.json reader, parameter tensor
list and model flags in every calc_*.py script). ``--preset/-p`` / ``--list-presets``: the block's one table,
MODEL_PRESETS (40 models, each citing its config.json or paper; ``preset_model``). A training run's ``-s`` defaults
to the preset's pre-training length (``preset_sequence_length``, as flops; ``--list-presets`` shows it), else 2048
for a config.json or flags alone; the assumptions say which length was used. The model flags are the block's
(``add_model_arguments``, read by ``model_from_arguments``): each replaces the Model field it names (``-t/--topk``:
top_k; ``--learned-positions N``: a learned table for N positions) and ``validate_model`` checks the result, naming
the flag; a preset or config changed by flags is echoed as "NAME (modified)" with the changed fields in its source.
Flags alone (``-l``, ``-hs``, ``-a``, ``-v`` needed) are the cookbook's transformer: a 2-linear MLP 4h wide,
LayerNorm with biases, no linear biases, untied embeddings, rotary positions; ``-e`` without ``-t`` is top-1.
What the block assumed or did not read is printed as notes (stderr, and ``notes`` in JSON). Weights, gradients
and optimizer states are counted over the block's tensors (``model_layer_tensors``, ``model_global_tensors``;
checkpoint-only buffers such as DeepSeek-V3's e_score_correction_bias are no parameters).

``--config`` is read by the shared model block (``read_config_json``, then ``model_from_config``), which knows the
layout transformers builds for each model type in SUPPORTED_MODEL_TYPES (biases, norms, fused tensors, positions,
tying) and refuses everything else: an unknown model_type (``--generic`` reads it as a dense Llama-style decoder and
the output's first line says so), this year's types in NOT_YET_MODELLED (even with ``--generic``) and a field that
may change a count but that no reader takes, each with exit 2 and one line naming it. For every supported type, the
parameter and tensor counts of a published config.json equal the model transformers builds
(tests/test_mem_torch.py). Which layers are MoE: layer i >= first_k_dense_replace, not in mlp_only_layers, with
(i + 1) % decoder_sparse_step == 0 (Qwen-MoE, and the cookbook's ``--expert-interval``); DeepSeek's moe_layer_freq is
refused unless 1 (its own modeling_deepseek.py makes layers i % moe_layer_freq == 0 MoE, transformers all of them),
while ``--expert-interval`` on a DeepSeek preset follows DeepSeek's rule (layers 0, n, 2n, ... past the dense ones).
Qwen's sliding window counts only with use_sliding_window true, on the layers its config class chooses.

Units: counts accept ``7B``, ``32k`` (32,000), ``32Ki`` (32,768), ``300e9``, ``1_000`` (the block's parse_count);
memory accepts ``80GiB`` (2^30) and ``80GB`` (10^9) and the difference is respected (a bare number is refused as
ambiguous, except 0: ``--overhead 0`` for no allowance). Output prints GiB (2^30) and
GB (10^9) where it matters; JSON holds exact bytes. Counts and sizes above 1e30 are refused (a model width, head
count or vocabulary above 1e9 and more than 100,000 layers: the shared block's bounds), and so is a flag the chosen
mode or setup would not read (``-z`` with ``--infer``, ``--context`` without it, ``--prefetch-units`` below ZeRO-3,
``-tp`` with ``--search``, ...).

JSON keys (``--json``)
======================
Bytes are exact integers. Always: ``mode`` ("train" | "inference"); ``model`` (the fields of the resolved
shared-block ``Model``: name, source, model_type, the shape, top_k, moe_ffn_hidden_size, ...; tuples as lists; null
with ``--params``); ``notes`` [the shared block's notes, also printed on stderr: ``--generic`` first, fields read as
changing no count, a nested text_config, defaults assumed for flags alone, a model's own head_dim kept, top-1 when
``-t`` is not given; empty for a preset or config as published]; ``params`` {total, embedding (token table,
positions and LM head), non_embedding, active, per_group{role in the shared block's tensor list: count}, tensors}
(only ``total`` with ``--params``); ``per_gpu`` {term: bytes, ..., total}; ``setup`` (the resolved settings);
``assumptions`` [strings]; with ``--gpu-memory``: ``gpu_memory_bytes`` and ``fits``.

* train: ``per_gpu`` terms weights, gradients, master_weights, optimizer_states, gathered_params, activations,
  logits_loss, comm_buckets, fragmentation, framework_overhead, total (the worst pipeline stage);
  ``worst_stage`` ("first" | "last"); ``stages`` {"first"/"last": {terms{...}, cpu_offloaded_bytes}};
  ``cpu_per_gpu_bytes``; ``checkpoint`` {weights_bytes, full_bytes}; ``bytes_per_param`` {weights, gradients,
  master_weights}; ``setup`` adds dp, dense_shard, expert_shard, micro_batches.
* inference: ``per_gpu`` terms weights, kv_cache, prefill_activations, logits, fragmentation,
  framework_overhead, total (with ``--params`` only weights, fragmentation, framework_overhead, total); ``kv_cache``
  {total_bytes (the whole batch, one GPU), bytes_per_token (one sequence, all layers, one GPU), per_layer_type
  {full/sliding: {layers, bytes, tokens_held}}, kv_dtype, convention} (null with ``--params``).
* ``--explain``: ``activation_tensors`` {"dense|moe/full|sliding": [{name, shape, dtype_bytes, bytes, split,
  core}]}: one layer of each kind, one micro-batch, one rank (core = dropped by selective recompute).
* ``--max-micro-batch`` / ``--max-context`` / ``--max-batch-size`` / ``--min-tp``: ``solution`` {name, value,
  total_bytes}.
* ``--search``: ``search`` {candidates_evaluated, rank, criterion, explanation, results [{tp, pp, dp, cp, vpp, zero,
  recompute, micro_batch, total_bytes, step}]}; the top row is also expanded in ``per_gpu`` and ``step``.
* ``--predict-step`` (and ``--search``): ``step`` {step_time_s, tokens_per_step, tokens_per_s, tokens_per_s_per_gpu,
  micro_batches, bubble_fraction, model_flops_per_step, model_tflops_per_gpu(_causal), mfu, mfu_causal,
  terms_s{compute, recompute, bubble, tp, cp, ep, pp_p2p, zero3_gather, dp}, comm{tp, cp, ep, pp_p2p, dp: {bytes,
  link, exposed_s}}, zero_stage, hardware, assumptions}.

Examples
========
    python calc_transformer_mem.py --preset llama-3-8b -s 8192 -b 1 --num-gpus 8 -z 3
    python calc_transformer_mem.py --preset llama-3-70b --num-gpus 8 -z 3 --recompute full -s 4096 --gpu-memory 80GB
    python calc_transformer_mem.py --preset llama-3-8b --infer --batch-size 8 --context 32k --kv-dtype fp8
    python calc_transformer_mem.py --params 7.5B --num-gpus 64 -z 1 --overhead 0 --comm-buffer 0 --fragmentation 0  # 31.4 GB
    python calc_transformer_mem.py --preset gpt3-175b -tp 8 -pp 16 --sp --recompute selective --num-gpus 1024 --explain
    python calc_transformer_mem.py --preset llama-3-70b --num-gpus 64 --search --gpu-memory 80GiB -s 8192 --global-batch 512
    python calc_transformer_mem.py -p llama-3.2-1b --precision amp-bf16 -s 1024 -b 4 --profile hf
    python calc_transformer_mem.py -p llama-3-8b --lora-rank 16 --lora-targets all-linear --base-dtype nf4-dq -ca --gpu-memory 24GiB
    python calc_transformer_mem.py --preset llama-3.1-405b --num-gpus 16384 -tp 8 -pp 16 --vpp 4 -s 8192 --sp \\
        --global-batch 2048 -z 1 --predict-step
"""
# /// script
# requires-python = ">=3.9"
# dependencies = []   # stdlib only; matplotlib is imported inside --plot
# ///
from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from dataclasses import asdict, dataclass, replace

# [[[cog import cog, pathlib; cog.out(pathlib.Path(cog.inFile).with_name("tools").joinpath("model_block.py").read_text()) ]]]
# ==============================================================================================================
# The shared model block: the ONE source of what a model is, carried byte for byte by every calc_*.py script.
# Edit tools/model_block.py, then run `cog -r calc_*.py` (README: "Editing the model block"); never edit a copy.
# It holds: the error contract (InputError, OneLineParser), number parsing (parse_number, parse_count), the safe
# config.json file reader, the one config.json -> Model reader with its table of supported model types (anything
# else is refused), the Model dataclass, the layer schedule (dense / MoE, full / sliding attention), the exact list
# of parameter tensors with their roles, the presets, the architecture flags every script shares
# (add_model_arguments / model_from_arguments: one spelling, one meaning, one default), the table renderer, the
# KV-cache element types, the accelerator catalogue, and llama.cpp's view of a model (ggml block types, the GGUF
# tensor list, llama-quantize's per-tensor types).
# Standard library only; every name it defines is shared by all five scripts.
# ==============================================================================================================
import argparse as _argparse
import dataclasses as _dc
import json as _json
import math as _math
import os as _os
import re as _re
import stat as _stat
import sys as _sys


class InputError(ValueError):
    """Bad input (a flag, a config.json field, a file): one line on stderr and exit status 2, never a number."""


class HubFileMissing(InputError):
    """hub_file: the repo, revision or file does not exist (404), or is not cached while HF_HUB_OFFLINE is set."""


class HubNotCached(HubFileMissing):
    """hub_file: the file is not in the local Hugging Face cache and HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set."""


def run_cli(main) -> None:
    """Run a script's main() as a command and exit with its status.  A reader that stops early (`| head`) ends the
    run quietly with status 1 instead of a BrokenPipeError traceback (the Python docs' recipe for SIGPIPE)."""
    try:
        status = main()
        _sys.stdout.flush()
    except BrokenPipeError:
        _os.dup2(_os.open(_os.devnull, _os.O_WRONLY), _sys.stdout.fileno())  # nothing left to flush at exit
        status = 1
    raise SystemExit(status)


# --------------------------------------------------------------------------------------------------------------
# Numbers on the command line, argparse errors and tables: one reading and one look in every script
# --------------------------------------------------------------------------------------------------------------
MODEL_MAX_NUMBER = 10**30  # far above any count, budget or size a flag may ask for; keeps every output finite
# SI suffixes are powers of ten and the binary ones powers of two: 32k is 32,000 tokens, 32Ki is 32,768.
MODEL_NUMBER_SUFFIXES = {"k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12, "p": 10**15,
                         "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}
_MB_NUMBER = _re.compile(r"(?P<whole>[0-9]+(?:_[0-9]+)*)?(?:\.(?P<fraction>[0-9]+(?:_[0-9]+)*)?)?"
                         r"(?:e(?P<exponent>[+-]?[0-9]{1,4}))?(?P<suffix>ki|mi|gi|ti|[kmbgtp])?")
_MB_THOUSANDS = _re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?(?:ki|mi|gi|ti|[kmbgtp])?")


def parse_number(text, what: str, *, allow_zero: bool = True, limit=MODEL_MAX_NUMBER):
    """'7B' -> 7_000_000_000, '1.4T', '300e9', '32k' (32,000), '32Ki' (32,768), '1_000', '0.25' -> a number.

    Exact: the digits are read as an integer times a power of ten, so '1.4T' is exactly 1_400_000_000_000 and a
    whole value comes back as an int (any other as the nearest float).  Negative numbers, nan, inf and anything
    above `limit` are refused with an InputError naming `what` (the flag)."""
    raw = str(text).strip().lower()
    if "," in raw:  # only as a thousands separator: 2,5 is not read as 25 (nor as 2.5)
        if not _MB_THOUSANDS.fullmatch(raw):
            raise InputError(f"{what} {text!r}: a comma is read only between thousands (1,000); write decimals "
                             "with a point")
        raw = raw.replace(",", "")
    if len(raw) > 200:  # int() of a 5000-digit string is refused by Python itself; no count is that long
        raise InputError(f"{what} expects a number of at most 200 characters, got {len(raw)}")
    match = _MB_NUMBER.fullmatch(raw)
    if not match or not (match["whole"] or match["fraction"]):
        if raw.startswith("-"):
            raise InputError(f"{what} must not be negative, got {text!r}")
        raise InputError(f"{what} expects a number such as 7B, 1.4T, 300e9, 32k (32,000) or 32Ki (32,768), "
                         f"got {text!r}")
    fraction = (match["fraction"] or "").replace("_", "")
    digits = int((match["whole"] or "0").replace("_", "") + fraction)
    digits *= MODEL_NUMBER_SUFFIXES.get(match["suffix"] or "", 1)
    exponent = int(match["exponent"] or 0) - len(fraction)
    if digits and len(str(digits)) + exponent > len(str(int(limit))) + 1:  # before building a huge integer
        raise InputError(f"{what} {text!r} is beyond {float(limit):.0e}")
    if exponent >= 0:
        value = digits * 10**exponent
    else:
        value = digits // 10**-exponent if digits % 10**-exponent == 0 else digits / 10**-exponent
    if value > limit:
        raise InputError(f"{what} {text!r} is beyond {float(limit):.0e}")
    if not value and not allow_zero:
        raise InputError(f"{what} must be positive, got {text!r}")
    return value


def parse_count(text, what: str, *, allow_zero: bool = False, limit=MODEL_MAX_NUMBER) -> int:
    """parse_number for a whole count (layers, tokens, GPUs): '7B', '32k', '32Ki', '300e9', '1_000' -> int."""
    value = parse_number(text, what, allow_zero=allow_zero, limit=limit)
    if not isinstance(value, int):
        raise InputError(f"{what} expects a whole number, got {text!r}")
    return value


class OneLineParser(_argparse.ArgumentParser):
    """argparse whose errors are one line on stderr with exit status 2, and which never completes an abbreviated
    long flag (the cookbook's -pa must not be read as a prefix of another flag)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())}\n")


def format_table(headers, rows, markdown: bool = False, left=(0,)) -> str:
    """A plain-text table (columns in `left` aligned left, the rest right) or a GitHub markdown table, no final
    newline.  Cells are shown with str()."""
    headers = [str(h) for h in headers]
    rows = [[str(c) for c in row] for row in rows]
    if markdown:
        rule = "|" + "|".join("---" if i in left else "---:" for i in range(len(headers))) + "|"
        return "\n".join(["| " + " | ".join(headers) + " |", rule] + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(row[i]) for row in [headers] + rows) for i in range(len(headers))]

    def line(cells):
        return "  ".join(c.ljust(widths[i]) if i in left else c.rjust(widths[i]) for i, c in enumerate(cells))

    return "\n".join([line(headers).rstrip(), "  ".join("-" * w for w in widths)] + [line(r).rstrip() for r in rows])


MODEL_MAX_LAYERS = 100_000       # layers are walked one by one (MoE placement, layer types)
MODEL_MAX_WIDTH = 10**9          # any width, head count or vocabulary beyond this is a typo, not a model
MODEL_MAX_CONFIG_BYTES = 16 * 2**20  # published config.json files are a few kB

# --------------------------------------------------------------------------------------------------------------
# The model description
# --------------------------------------------------------------------------------------------------------------
NORM_KINDS = ("rmsnorm", "layernorm", "layernorm-nobias", "nonparametric")
POSITION_KINDS = ("rotary", "alibi", "learned", "relative", "none")
QK_NORM_KINDS = ("none", "head", "full", "per-head")  # per-head: Cohere, weights of shape (heads, head_dim)
NORM_PLACEMENTS = ("pre", "parallel", "post")


@_dc.dataclass(frozen=True)
class Model:
    """A decoder-only transformer, every field that changes a count, a FLOP, a byte or a tensor's name.

    0 in num_kv_heads / head_dim means "derived" (as many KV heads as query heads; hidden / heads);
    kv_lora_rank > 0 makes attention MLA; num_experts > 0 makes the layers chosen by first_k_dense,
    dense_layers and expert_interval (with its phase) MoE layers (see ``layer_is_moe``).
    """
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    vocab_size: int
    ffn_hidden_size: int
    name: str = "custom"
    source: str = "command-line flags"
    model_type: str = ""
    num_kv_heads: int = 0
    head_dim: int = 0
    gated_mlp: bool = True           # 3 linears (SwiGLU / GeGLU) vs 2
    fused_qkv: bool = False          # one qkv tensor (GPT-2, GPT-NeoX, BLOOM, Falcon, Phi-3): same numbers
    fused_gate_up: bool = False      # Phi-3's gate_up_proj: one tensor of 2 x ffn width
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    lm_head_bias: bool = False
    norm: str = "rmsnorm"            # rmsnorm | layernorm (weight + bias) | layernorm-nobias | nonparametric
    norms_per_layer: int = 2         # 1: one norm shared by a parallel block (GPT-J, Phi-2); 4: Gemma-2 sandwich
    norm_placement: str = "pre"      # pre | parallel (Falcon-40B ln_attn + ln_mlp) | post (OLMo-2)
    final_norm: bool = True
    embedding_norm: bool = False     # BLOOM's word_embeddings_layernorm
    qk_norm: str = "none"            # head: over head_dim (Qwen3, Phi qk_layernorm) | full: whole q / k (OLMo-2)
    tied_embeddings: bool = False
    position_embedding: str = "rotary"
    max_position_embeddings: int = 0  # rows of a learned table (without OPT's offset)
    position_offset: int = 0          # OPT keeps 2 extra rows
    word_embed_proj_dim: int = 0      # OPT-350m: a 512-wide table projected in / out of hidden_size
    pad_vocab_multiple: int = 1
    # MLA (DeepSeek-V2/V3)
    q_lora_rank: int = 0
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    # MoE
    num_experts: int = 0             # routed experts never carry biases (Mixtral, Qwen-MoE, DeepSeek-V2 with mlp_bias)
    top_k: int = 0
    moe_ffn_hidden_size: int = 0     # 0: ffn_hidden_size
    num_shared_experts: int = 0
    shared_expert_ffn_size: int = 0  # per shared expert; 0: moe_ffn_hidden_size
    shared_expert_gate: bool = False  # Qwen2-MoE: sigmoid(Linear(h, 1)) on the shared expert
    router_bias: bool = False
    router_score_correction_bias: bool = False  # DeepSeek-V3: a buffer in transformers, in the checkpoint
    first_k_dense: int = 0
    expert_interval: int = 1
    expert_interval_phase: int = 1   # 1: Qwen decoder_sparse_step, cookbook --expert-interval; 0: DeepSeek
    dense_layers: tuple = ()         # Qwen-MoE mlp_only_layers
    mtp_layers: int = 0              # DeepSeek-V3 multi-token prediction modules (not built by transformers)
    # attention span
    sliding_window: int = 0
    layer_types: tuple = ()          # per layer "full" | "sliding"; (): all full, or all sliding with a window
    # what the Hugging Face eager modules save for backward (activation estimates) and run (FLOP conventions)
    dropout: bool = False
    python_gelu: bool = False        # GPT-2's gelu_new in Python
    relu_mlp: bool = False           # plain ReLU MLP (OPT)
    softmax_fp32: bool = True        # Llama-family eager attention upcasts the softmax
    attn_softcap: bool = False       # Gemma-2 tanh soft-capping of attention logits
    norm_fp32_scale: bool = False    # Gemma / OLMo-2 RMSNorm multiplies by the weight in fp32
    norm_fp32_input: bool = False    # OLMo-1 LayerNorm normalises an fp32 copy
    hf_kv_broadcast: bool = False    # transformers' Falcon (new architecture) caches K/V for every query head
    # llama.cpp
    gguf_arch: str = ""              # llama.cpp architecture name where its quantization rules differ
    rope_freqs: bool = False         # Llama-3.1 "llama3" rope scaling: llama.cpp stores rope_freqs (head_dim / 2)
    # gpt_oss (transformers modeling_gpt_oss.py: GptOssAttention.sinks, GptOssExperts' biases)
    attention_sinks: bool = False    # one learned logit per query head, (num_attention_heads,): a parameter, no matmul
    expert_bias: bool = False        # routed experts with biases: gate_up_proj_bias (E, 2f), down_proj_bias (E, h)
    clamped_swiglu: bool = False     # GptOssExperts._apply_gate: clamp, gate * sigmoid(alpha gate) * (up + 1)
    # Qwen3-Next (qwen3_next): gated delta-net layers beside gated full attention (transformers 5.23
    # modeling_qwen3_next.py; Yang, Kautz & Hatamizadeh 2024, "Gated Delta Networks", arXiv:2412.06464)
    mixer_types: tuple = ()          # per layer "linear" (a gated delta-net, no KV cache) | "attention"; (): all
    linear_num_key_heads: int = 0    # delta-net query/key heads (each serves value_heads / key_heads value heads)
    linear_num_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 0      # the depthwise causal conv over q, k and v (linear_conv_kernel_dim)
    attn_output_gate: bool = False   # q_proj also emits a sigmoid gate per attention output channel (2 x a x d)
    # issue 10, branch families2 -- dbrx (modeling_dbrx.py DbrxExpertGLU): the routed experts stored fused as w1, v1
    # and w2, each an (E x ffn, h) matrix, in place of the stacked gate_up_proj (E, 2 ffn, h) and down_proj (E, h, ffn)
    expert_rows_fused: bool = False
    # issue 10, branch families2 -- stablelm (modeling_stablelm.py StableLmLayerNormPerHead): q/k LayerNorms as one
    # bias-free nn.LayerNorm(head_dim) per head, in place of the per-head kind's (heads, head_dim) matrices
    qk_norm_module_per_head: bool = False
    # Llama 4 (llama4 / llama4_text; transformers 5.23 modeling_llama4.py): chunked attention on the RoPE layers
    attention_chunked: bool = False  # the "sliding" layers attend within aligned chunks of sliding_window tokens
    # issue 10, branch qwen35 -- qwen3_5 / qwen3_5_moe (transformers 5.23 modeling_qwen3_5.py Qwen3_5GatedDeltaNet):
    # the delta-net input projections stored as in_proj_qkv (2 kd + vd, h), in_proj_z (vd, h), in_proj_b and
    # in_proj_a (H_v, h each) in place of Qwen3-Next's in_proj_qkvz and in_proj_ba: the same elements and matmuls
    linear_proj_split: bool = False
    # issue 10, branch dsa -- deepseek_v32 / glm_moe_dsa (transformers 5.23 modeling_deepseek_v32.py
    # DeepseekV32Indexer): DeepSeek Sparse Attention's lightning indexer beside MLA in every layer
    index_n_heads: int = 0           # indexer query heads (0: no indexer)
    index_head_dim: int = 0          # width of an indexer query head and of the one indexer key cached per token
    index_topk: int = 0              # keys each query attends to: the top-k of the indexer's scores
    # issue 10, branch mamba -- Bamba (bamba; transformers 5.23 modeling_bamba.py BambaMixer; Dao & Gu 2024,
    # "Transformers are SSMs", arXiv:2405.21060): the "linear" layers of mixer_types are Mamba-2 mixers
    ssm_kind: str = ""               # "" : gated delta-nets (Qwen3-Next) | "mamba2": Mamba-2 mixers
    mamba_num_heads: int = 0         # SSM heads H (mamba_n_heads); the mixer is H x mamba_head_dim wide
    mamba_head_dim: int = 0          # P (mamba_d_head)
    mamba_n_groups: int = 0          # G groups of B and C, each d_state wide, shared by H / G heads
    mamba_d_state: int = 0           # N (mamba_d_state)
    mamba_d_conv: int = 0            # the depthwise causal conv's kernel over x, B and C
    mamba_chunk_size: int = 0        # the chunked scan's chunk (mamba_chunk_size): the torch path pads to it
    mamba_conv_bias: bool = False    # conv1d bias (mamba_conv_bias)
    mamba_proj_bias: bool = False    # in_proj / out_proj biases (mamba_proj_bias)
    # issue 10, branch mimo -- mimo_v2_flash (transformers 5.23 modeling_mimo_v2_flash.py MiMoV2FlashAttention): the
    # sliding layers' own head shape, twice the full layers' KV heads, and their attention sinks (the full layers have
    # none); values narrower than queries and keys come from v_head_dim, read for plain attention too (see v_dim)
    sliding_kv_heads: int = 0        # KV heads of each sliding layer; 0: num_kv_heads, as every other layer
    sinks_sliding_only: bool = False  # attention_sinks on the sliding layers only
    # issue 10, branch mimo -- lfm2 (transformers 5.23 modeling_lfm2.py Lfm2ShortConv): short-convolution layers,
    # mixer_types "conv", beside attention layers; like a gated delta-net they cache no K/V but a fixed conv state
    short_conv_kernel: int = 0       # conv_L_cache: the depthwise causal conv's width
    short_conv_bias: bool = False    # conv_bias: biases on in_proj, the conv and out_proj
    # issue 10, branch gemma4 -- gemma4_text (transformers 5.23 modeling_gemma4.py): the sliding-layer shape above
    # extended to the head width; the full layers take head_dim = global_head_dim and num_kv_heads =
    # num_global_key_value_heads (with attention_k_eq_v), the sliding ones sliding_head_dim and sliding_kv_heads
    sliding_head_dim: int = 0        # head width of each sliding layer; 0: head_dim, as every other layer
    full_k_eq_v: bool = False        # attention_k_eq_v: the full layers' values are their keys (no v_proj)
    kv_shared_layers: int = 0        # num_kv_shared_layers: the last N layers reuse an earlier layer's K/V
    double_wide_shared_mlp: bool = False  # use_double_wide_mlp: the KV-shared layers' MLPs are 2 x intermediate
    per_layer_input_size: int = 0    # hidden_size_per_layer_input: per-layer input embeddings (PLE) of this width
    per_layer_vocab: int = 0         # vocab_size_per_layer_input: rows of the PLE table
    moe_beside_mlp: bool = False     # enable_moe_block: every layer runs its dense MLP and routed experts side by side
    # issue 10, branch hybrid -- nemotron_h (transformers 5.23 modeling_nemotron_h.py NemotronHBlock): each layer is
    # ONE block behind one RMSNorm: its token mixer (mixer_types "attention" or "linear", a Mamba-2 mixer) with no MLP,
    # or its MLP (mixer_types "none": a dense MLP, or MoE where layer_is_moe) with no token mixer
    single_block_layers: bool = False
    # issue 10, branch hybrid -- falcon_h1 (transformers 5.23 modeling_falcon_h1.py FalconH1DecoderLayer): every layer
    # runs a Mamba-2 mixer (ssm_kind "mamba2", the mamba_* widths) BESIDE its attention on the same normed input, then
    # the MLP; mixer_types stays () (every layer attends and caches K/V)
    parallel_ssm: bool = False
    mamba_gated_norm: bool = True    # the Mamba-2 output's gated RMSNorm (d weights); Falcon-H1: mamba_rms_norm
    mamba_out_proj_bias: bool = False  # Falcon-H1's projectors_bias on out_proj (in_proj: mamba_proj_bias)
    # issue 10, branch jamba -- Jamba (jamba; transformers 5.23 modeling_jamba.py JambaMambaMixer; Gu & Dao 2023,
    # "Mamba", arXiv:2312.00752; Lieber et al. 2024, "Jamba", arXiv:2403.19887): with ssm_kind "mamba1" the "linear"
    # layers are Mamba-1 mixers; they share mamba_d_state (N), mamba_d_conv, mamba_conv_bias and mamba_proj_bias with
    # the Mamba-2 fields above and add these
    mamba1_inner: int = 0            # d: the mixer's inner width, mamba_expand x hidden_size
    mamba_dt_rank: int = 0           # R: x_proj emits dt of rank R (and B, C of N each); dt_proj lifts it to d
    mamba_bcdt_norms: bool = False   # Jamba's RMSNorms over dt (R), B and C (N each) inside the mixer
    # issue 10, branch jamba -- router parameters transformers keeps in fp32 whatever the model dtype: ERNIE 4.5's
    # (modeling_ernie4_5_moe.py: _keep_in_fp32_modules_strict = ["gate.weight", "moe_statics"]) and Hunyuan's
    # (modeling_hunyuan_v1_moe.py: the router an nn.Linear(..., dtype=torch.float32))
    router_fp32: bool = False        # the router weight (E, h) is held in fp32
    router_frozen_bias: bool = False  # ERNIE's moe_statics.e_score_correction_bias: an fp32 Parameter (1, E) with
    #                                   requires_grad=False (counted by sum(p.numel()); no gradient, no optimizer state)

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_attention_heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @property
    def v_dim(self) -> int:
        """Value width per head: MLA's v_head_dim; MiMo-V2-Flash's v_head_dim (128 beside 192-wide queries and keys);
        else the head width (values as wide as keys)."""
        return self.v_head_dim or self.d_head

    @property
    def has_sliding_shape(self) -> bool:
        """The sliding layers hold other tensors than the full ones (MiMo-V2-Flash: KV heads, sinks; Gemma 4: KV
        heads, head width, K=V on the full layers only)."""
        return bool(self.sliding_kv_heads or self.sinks_sliding_only or self.sliding_head_dim or self.full_k_eq_v) \
            and "sliding" in self.layer_types

    @property
    def gemma4_layers(self) -> bool:
        """Gemma 4's per-layer differences are in use: head widths, K=V full layers, KV-shared layers, PLE or the
        MoE block beside the MLP (scripts count these layer by layer, or refuse what they do not model)."""
        return bool(self.sliding_head_dim or self.full_k_eq_v or self.kv_shared_layers or self.per_layer_input_size
                    or self.moe_beside_mlp)

    def layer_head_dim(self, i: int) -> int:
        """Head width of layer i's queries, keys and values (not MLA): the sliding layers' own where given."""
        return self.sliding_head_dim if self.sliding_head_dim and self.layer_attention(i) == "sliding" \
            else self.d_head

    def layer_v_dim(self, i: int) -> int:
        """Value width per head of layer i: v_head_dim where given (MLA, MiMo-V2-Flash), else its head width."""
        return self.v_head_dim or self.layer_head_dim(i)

    def layer_kv_shared(self, i: int) -> bool:
        """Layer i reuses the K/V of an earlier layer of its kind (Gemma 4's last num_kv_shared_layers layers): no
        k/v projections of its own and no cache."""
        return i >= self.num_layers - self.kv_shared_layers

    def layer_sliding_shape(self, i: int) -> bool:
        """Layer i is a sliding layer with the sliding layers' own head shape (see has_sliding_shape)."""
        return self.has_sliding_shape and self.layer_types[i] == "sliding"

    def layer_kv_heads(self, i: int) -> int:
        """KV heads of layer i: the sliding layers' own count where the model gives one."""
        return self.sliding_kv_heads if self.sliding_kv_heads and self.layer_attention(i) == "sliding" \
            else self.kv_heads

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def has_indexer(self) -> bool:
        """DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5): a lightning indexer in every layer's attention."""
        return self.index_n_heads > 0

    @property
    def moe_width(self) -> int:
        return self.moe_ffn_hidden_size or self.ffn_hidden_size

    @property
    def shared_width(self) -> int:
        """Width of the shared experts fused into one MLP (DeepSeek builds n of them as one of n x the width)."""
        return self.num_shared_experts * (self.shared_expert_ffn_size or self.moe_width)

    @property
    def padded_vocab(self) -> int:
        m = self.pad_vocab_multiple
        return -(-self.vocab_size // m) * m

    @property
    def embed_width(self) -> int:
        return self.word_embed_proj_dim or self.hidden_size

    @property
    def learned_position_rows(self) -> int:
        if self.position_embedding != "learned":
            return 0
        return self.max_position_embeddings + self.position_offset

    def layer_is_moe(self, i: int) -> bool:
        """Layer i (0-based; MTP modules continue the numbering) is MoE: past first_k_dense, not in dense_layers,
        and (i + phase) % interval == 0 (Qwen: (i + 1) % decoder_sparse_step; DeepSeek: i % moe_layer_freq)."""
        return (self.num_experts > 0 and i >= self.first_k_dense and i not in self.dense_layers
                and (i + self.expert_interval_phase) % self.expert_interval == 0)

    def layer_attention(self, i: int) -> str:
        if self.layer_types:
            return self.layer_types[i]
        return "sliding" if self.sliding_window else "full"

    def kv_tokens_held(self, i: int, context: int, convention: str = "window") -> int:
        """Tokens layer i's K/V cache holds for one sequence of `context` tokens: all of them on a full-attention
        layer; on a sliding (or Llama 4 chunked) layer at most its window: sliding_window tokens ('window': static
        caches and every script's summed breakdown) or the sliding_window - 1 that transformers'
        DynamicSlidingWindowLayer keeps ('hf-dynamic').  Engines round these up to their pages (vLLM) or cells
        (llama.cpp); calc_transformer_mem.py --engine prints those."""
        if self.layer_attention(i) != "sliding":
            return context
        return min(context, self.sliding_window - (1 if convention == "hf-dynamic" else 0))

    def layer_has_mixer(self, i: int) -> bool:
        """Layer i has a token mixer (attention, a gated delta-net, a short convolution or a Mamba-2 mixer); only
        Nemotron-H's MLP / MoE layers (mixer_types "none") have none."""
        return not (i < len(self.mixer_types) and self.mixer_types[i] == "none")

    def layer_has_attention(self, i: int) -> bool:
        """Layer i attends with softmax attention and so caches K/V."""
        return self.layer_has_mixer(i) and not self.layer_is_linear(i)

    def layer_has_mlp(self, i: int) -> bool:
        """Layer i has an MLP (dense or MoE): every layer but Nemotron-H's mixer layers (single_block_layers)."""
        return not self.single_block_layers or not self.layer_has_mixer(i)

    def attention_layer_count(self) -> int:
        """Layers with softmax attention (and a K/V cache)."""
        return self.num_layers - self.linear_layer_count() - self.mixer_types.count("none")

    def dense_mlp_layer_count(self) -> int:
        """Layers with a dense MLP: all but the MoE layers, and, in Nemotron-H, but its mixer layers."""
        with_mlp = self.mixer_types.count("none") if self.single_block_layers else self.num_layers
        return with_mlp - self.moe_layer_count()

    def layer_is_linear(self, i: int) -> bool:
        """Layer i's token mixer is no softmax attention but a layer with a fixed state and no K/V: a gated
        delta-net (Qwen3-Next's "linear_attention") or a short convolution (LFM2's "conv")."""
        return i < len(self.mixer_types) and self.mixer_types[i] in ("linear", "conv")

    def state_layer_count(self) -> int:
        """Layers with a fixed conv / recurrent state: the linear-mixer layers, or every layer of Falcon-H1."""
        return self.num_layers if self.parallel_ssm else self.linear_layer_count()

    def layer_has_state(self, i: int) -> bool:
        """Layer i keeps a fixed conv / recurrent state (a linear mixer; Falcon-H1's Mamba-2 beside attention)."""
        return self.parallel_ssm or self.layer_is_linear(i)

    def linear_layer_count(self) -> int:
        return self.mixer_types.count("linear") + self.mixer_types.count("conv")

    @property
    def short_conv(self) -> bool:
        """The model's non-attention layers are LFM2 short convolutions (not gated delta-nets)."""
        return "conv" in self.mixer_types

    @property
    def mamba_width(self) -> int:
        """The Mamba-2 mixer's inner width, H x P (Bamba: mamba_expand x hidden_size)."""
        return self.mamba_num_heads * self.mamba_head_dim

    @property
    def mamba_conv_dim(self) -> int:
        """Channels of the Mamba-2 conv1d and its cached conv state: x, B and C (H P + 2 G N)."""
        return self.mamba_width + 2 * self.mamba_n_groups * self.mamba_d_state

    @property
    def linear_mixer_name(self) -> str:
        """What the "linear" layers are, in words (output lines and refusals)."""
        return "Mamba-2" if self.ssm_kind == "mamba2" else "Mamba-1" if self.ssm_kind == "mamba1" \
            else "short-convolution" if self.short_conv else "gated delta-net"

    def moe_layer_count(self) -> int:
        dense = set(self.dense_layers)  # a set: a long mlp_only_layers list must not make this quadratic
        if not self.num_experts:
            return 0
        return sum(1 for i in range(self.first_k_dense, self.num_layers) if i not in dense
                   and (i + self.expert_interval_phase) % self.expert_interval == 0)


MODEL_FIELD_FLAGS = {  # the flag that sets each field, for error messages about flags
    "num_layers": "--num-layers", "hidden_size": "--hidden-size", "num_attention_heads": "--num-attention-heads",
    "vocab_size": "--vocab-size", "ffn_hidden_size": "--ffn-hidden-size", "num_kv_heads": "--num-kv-heads",
    "head_dim": "--head-dim", "pad_vocab_multiple": "--pad-vocab-to-multiple",
    "max_position_embeddings": "--learned-positions", "position_offset": "--position-offset",
    "word_embed_proj_dim": "--word-embed-proj-dim", "norms_per_layer": "--norms-per-layer",
    "q_lora_rank": "--q-lora-rank", "kv_lora_rank": "--kv-lora-rank", "qk_nope_head_dim": "--qk-nope-head-dim",
    "qk_rope_head_dim": "--qk-rope-head-dim", "v_head_dim": "--v-head-dim", "num_experts": "--num-experts",
    "top_k": "--topk", "moe_ffn_hidden_size": "--moe-ffn-hidden-size", "num_shared_experts": "--num-shared-experts",
    "shared_expert_ffn_size": "--shared-expert-ffn-size", "first_k_dense": "--first-k-dense",
    "expert_interval": "--expert-interval", "dense_layers": "--dense-layers", "mtp_layers": "--mtp-layers",
    "sliding_window": "--sliding-window",
}


def validate_model(m: Model, labels: dict | None = None) -> Model:
    """Raise InputError naming the flag (or, through labels, the config.json field) when m is not a model."""
    def name(field):
        return (labels or {}).get(field) or MODEL_FIELD_FLAGS.get(field) or field

    positive = ("num_layers", "hidden_size", "num_attention_heads", "vocab_size", "ffn_hidden_size",
                "pad_vocab_multiple", "expert_interval")
    for f in _dc.fields(m):
        value = getattr(m, f.name)
        if f.type in ("int", int):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if f.name in positive else 0):
                kind = "a positive integer" if f.name in positive else "a non-negative integer"
                raise InputError(f"{name(f.name)} must be {kind}, got {value!r}")
            if value > MODEL_MAX_WIDTH:
                raise InputError(f"{name(f.name)} {value} is beyond {MODEL_MAX_WIDTH:.0e}")
    for layered in ("num_layers", "mtp_layers"):
        if getattr(m, layered) > MODEL_MAX_LAYERS:
            raise InputError(f"{name(layered)} {getattr(m, layered)} is beyond {MODEL_MAX_LAYERS:,}")
    for field, allowed in (("norm", NORM_KINDS), ("position_embedding", POSITION_KINDS),
                           ("qk_norm", QK_NORM_KINDS), ("norm_placement", NORM_PLACEMENTS)):
        if getattr(m, field) not in allowed:
            raise InputError(f"--{field.replace('_', '-')} must be one of {', '.join(allowed)}, "
                             f"got {getattr(m, field)!r}")
    if m.position_embedding == "learned" and m.max_position_embeddings < 1:
        raise InputError(f"{name('max_position_embeddings')} must be positive with learned position embeddings")
    if m.is_mla:
        for field in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            if getattr(m, field) < 1:
                raise InputError(f"{name(field)} must be a positive integer with MLA ({name('kv_lora_rank')} > 0)")
    else:
        if not m.head_dim and m.hidden_size % m.num_attention_heads:
            raise InputError(f"{name('hidden_size')} {m.hidden_size} is not divisible by "
                             f"{name('num_attention_heads')} {m.num_attention_heads}; give {name('head_dim')}")
        if m.kv_heads > m.num_attention_heads or m.num_attention_heads % m.kv_heads:
            raise InputError(f"{name('num_kv_heads')} {m.kv_heads} does not divide "
                             f"{name('num_attention_heads')} {m.num_attention_heads}")
    if m.sliding_kv_heads and (m.sliding_kv_heads > m.num_attention_heads
                               or m.num_attention_heads % m.sliding_kv_heads or m.is_mla):
        raise InputError(f"{name('sliding_kv_heads')} {m.sliding_kv_heads} does not divide "
                         f"{name('num_attention_heads')} {m.num_attention_heads}")
    _mb_validate_gemma4(m, name)
    if m.v_head_dim and not m.is_mla and m.fused_qkv:
        raise InputError(f"{name('v_head_dim')}: values narrower than keys are modelled with separate q/k/v "
                         "projections only")
    if m.num_experts:
        if not 1 <= m.top_k <= m.num_experts:
            raise InputError(f"{name('top_k')} must be between 1 and {name('num_experts')} {m.num_experts}, "
                             f"got {m.top_k}")
    elif m.top_k or m.num_shared_experts:
        raise InputError(f"{name('top_k') if m.top_k else name('num_shared_experts')} needs {name('num_experts')} > 0")
    for index in m.dense_layers:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < m.num_layers:
            raise InputError(f"{name('dense_layers')} entries must be layer indices in [0, {m.num_layers}), "
                             f"got {index!r}")
    if m.layer_types and (len(m.layer_types) != m.num_layers or set(m.layer_types) - {"full", "sliding"}):
        raise InputError(f"layer_types must give 'full' or 'sliding' for each of the {m.num_layers} layers")
    if "sliding" in m.layer_types and not m.sliding_window:
        raise InputError(f"sliding layers need {name('sliding_window')} > 0")
    _mb_validate_linear_attention(m, name)
    _mb_validate_indexer(m, name)
    return m


def _mb_validate_gemma4(m: Model, name) -> None:
    """Gemma 4's switches (issue 10, branch gemma4): modelled in its own block only (separate q/k/v, no MLA, no
    gated delta-nets); KV-shared layers must find a layer of each of their kinds before them (Gemma4TextConfig.
    kv_sharing_modes raises otherwise); the PLE table needs rows; the MoE block beside the MLP needs experts."""
    if not (m.gemma4_layers or m.double_wide_shared_mlp):
        return
    if m.is_mla or m.fused_qkv or m.mixer_types or m.v_head_dim:
        raise InputError(f"{m.source}: Gemma 4's per-layer shapes, KV sharing, PLE and MoE block are modelled in its "
                         "own block only (separate q/k/v, no MLA, no linear-attention layers)")
    if m.kv_shared_layers >= m.num_layers:
        raise InputError(f"{name('kv_shared_layers')} {m.kv_shared_layers} leaves no layer of the {m.num_layers} to "
                         "compute the keys and values it shares")
    if m.kv_shared_layers:
        first = m.num_layers - m.kv_shared_layers
        if {m.layer_attention(i) for i in range(first)} != {m.layer_attention(i) for i in range(m.num_layers)}:
            raise InputError(f"{name('kv_shared_layers')} {m.kv_shared_layers}: the layers before the shared ones do "
                             "not hold every attention kind the shared ones reuse (transformers refuses it too)")
    if m.sliding_head_dim and "sliding" not in m.layer_types:
        raise InputError(f"{name('sliding_head_dim')} needs sliding layers")
    if m.per_layer_input_size and not m.per_layer_vocab:
        raise InputError(f"{name('per_layer_vocab')} must be positive with per-layer input embeddings")
    if m.moe_beside_mlp and not m.num_experts:
        raise InputError(f"{name('moe_beside_mlp')} needs {name('num_experts')} > 0")


def _mb_validate_indexer(m: Model, name) -> None:
    """The DSA indexer (DeepseekV32Indexer) reads MLA's q-LoRA latent (wq_b: q_lora_rank -> heads x head_dim) and
    ropes the first qk_rope_head_dim values of each of its heads: it needs MLA with a q-LoRA and heads at least that
    wide, and a top-k of at least one key."""
    if not m.index_n_heads:
        return
    if not m.is_mla or not m.q_lora_rank:
        raise InputError(f"{name('q_lora_rank') if m.is_mla else name('kv_lora_rank')}: the DSA indexer reads MLA's "
                         "q-LoRA latent; it needs MLA with q_lora_rank > 0")
    if m.index_head_dim < max(1, m.qk_rope_head_dim):
        raise InputError(f"{name('index_head_dim')} {m.index_head_dim} is narrower than {name('qk_rope_head_dim')} "
                         f"{m.qk_rope_head_dim}, which the indexer ropes in each head; transformers cannot run it")
    if m.index_topk < 1:
        raise InputError(f"{name('index_topk')} must be a positive integer with a DSA indexer")


def _mb_validate_linear_attention(m: Model, name) -> None:
    """Qwen3-Next's gated delta-net layers: one mixer per layer, positive widths, and value heads in whole groups
    per key head (Qwen3NextGatedDeltaNet views q, k, v and z per key head and repeats q, k to the value heads)."""
    if m.mixer_types and (len(m.mixer_types) != m.num_layers
                          or set(m.mixer_types) - {"linear", "attention", "conv", "none"}
                          or {"linear", "conv"} <= set(m.mixer_types)):
        raise InputError(f"layer_types must give 'linear_attention' or 'full_attention' (LFM2: 'conv' or "
                         f"'full_attention') for each of the {m.num_layers} layers")
    if ("none" in m.mixer_types or m.single_block_layers) and not (m.single_block_layers and m.mixer_types):
        raise InputError(f"{m.source}: layers without a token mixer are modelled in Nemotron-H's block only (one "
                         "mixer or one MLP per layer, layer by layer)")
    if m.single_block_layers:
        _mb_validate_single_block(m, name)
    if m.parallel_ssm:  # Falcon-H1
        if m.ssm_kind != "mamba2" or m.mixer_types or m.is_mla or m.sliding_window or m.fused_qkv \
                or m.norms_per_layer != 2 or m.norm_placement != "pre" or m.attn_output_gate or m.is_moe:
            raise InputError(f"{m.source}: a Mamba-2 mixer beside attention is modelled in Falcon-H1's block only "
                             "(pre-norm, separate q/k/v, a dense MLP, no MLA, window or experts)")
        return _mb_validate_mamba2(m, name)
    if m.ssm_kind not in ("", "mamba2", "mamba1"):
        raise InputError(f"ssm_kind must be '', 'mamba2' or 'mamba1', got {m.ssm_kind!r}")
    if "conv" in m.mixer_types:  # LFM2's short convolutions
        if m.short_conv_kernel < 1:
            raise InputError(f"{name('short_conv_kernel')} must be a positive integer with short-convolution layers")
        if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre" \
                or m.is_moe:
            raise InputError(f"{m.source}: short-convolution layers are modelled in LFM2's block only (pre-norm, "
                             "separate q/k/v, no MLA, window or experts)")
        return
    if "linear" not in m.mixer_types:
        return
    if m.ssm_kind == "mamba2":
        return _mb_validate_mamba2(m, name)
    if m.ssm_kind == "mamba1":  # issue 10, branch jamba
        return _mb_validate_mamba1(m, name)
    for field in ("linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim", "linear_value_head_dim",
                  "linear_conv_kernel"):
        if getattr(m, field) < 1:
            raise InputError(f"{name(field)} must be a positive integer with gated delta-net layers")
    if m.linear_num_value_heads % m.linear_num_key_heads:
        raise InputError(f"{name('linear_num_value_heads')} {m.linear_num_value_heads} is not a multiple of "
                         f"{name('linear_num_key_heads')} {m.linear_num_key_heads}")
    if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre":
        raise InputError(f"{m.source}: gated delta-net layers are modelled in Qwen3-Next's block only (pre-norm, "
                         "separate q/k/v, no MLA, no sliding window)")


def _mb_validate_mamba2(m: Model, name) -> None:
    """Bamba's Mamba-2 layers: positive widths, heads in whole groups (mamba2_chunk_scan repeats B and C to the
    heads, H / G each), in Bamba's pre-norm block beside plain attention layers."""
    for field in ("mamba_num_heads", "mamba_head_dim", "mamba_n_groups", "mamba_d_state", "mamba_d_conv",
                  "mamba_chunk_size"):
        if getattr(m, field) < 1:
            raise InputError(f"{name(field)} must be a positive integer with Mamba-2 layers")
    if m.mamba_num_heads % m.mamba_n_groups:
        raise InputError(f"{name('mamba_num_heads')} {m.mamba_num_heads} is not a multiple of "
                         f"{name('mamba_n_groups')} {m.mamba_n_groups}")
    if m.single_block_layers or m.parallel_ssm:  # Nemotron-H, Falcon-H1: checked with their blocks
        return
    if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre" \
            or m.attn_output_gate or m.is_moe:
        raise InputError(f"{m.source}: Mamba-2 layers are modelled in Bamba's block only (pre-norm, separate q/k/v, "
                         "no MLA, no sliding window, no experts)")


def _mb_validate_single_block(m: Model, name) -> None:
    """Nemotron-H's block (NemotronHBlock): one pre-norm, then ONE of attention, a Mamba-2 mixer, an MLP or an MoE;
    experts only in the layers without a mixer; plain attention (separate q/k/v, no MLA, window or output gate)."""
    if m.norms_per_layer != 1 or m.norm_placement != "pre" or m.is_mla or m.sliding_window or m.fused_qkv \
            or m.attn_output_gate or m.short_conv or ("linear" in m.mixer_types and m.ssm_kind != "mamba2"):
        raise InputError(f"{m.source}: one-block layers are modelled in Nemotron-H's block only (one pre-norm, "
                         "separate q/k/v, Mamba-2 mixers, no MLA, no sliding window)")
    wrong = next((i for i in range(m.num_layers) if m.layer_is_moe(i) and m.layer_has_mixer(i)), None)
    if wrong is not None:
        raise InputError(f"{name('dense_layers')}: layer {wrong} holds a token mixer, so it cannot be an MoE layer "
                         "in Nemotron-H's one-block layers")


def _mb_validate_mamba1(m: Model, name) -> None:
    """Jamba's Mamba-1 layers: positive widths (inner d, dt rank R, state N, conv kernel), in Jamba's pre-norm block
    beside plain attention layers; dense or MoE feed-forward alike."""
    for field in ("mamba1_inner", "mamba_dt_rank", "mamba_d_state", "mamba_d_conv"):
        if getattr(m, field) < 1:
            raise InputError(f"{name(field)} must be a positive integer with Mamba-1 layers")
    if m.is_mla or m.sliding_window or m.fused_qkv or m.norms_per_layer != 2 or m.norm_placement != "pre" \
            or m.attn_output_gate or m.num_shared_experts:
        raise InputError(f"{m.source}: Mamba-1 layers are modelled in Jamba's block only (pre-norm, separate q/k/v, "
                         "no MLA, no sliding window, no shared expert)")


# --------------------------------------------------------------------------------------------------------------
# The parameter tensors
# --------------------------------------------------------------------------------------------------------------
@_dc.dataclass(frozen=True)
class ModelTensor:
    """One stored tensor.  shape is PyTorch's (out, in) for a Linear; routed experts are stacked in front (E, ...).

    role: the component it belongs to (embedding, positions, embedding_projections, attention, mlp,
    routed_experts, shared_experts, router, norms, lm_head).  split: how tensor parallelism splits it (col: output
    features, row: input features, vocab: rows, kv: K/V heads, None: replicated).  kind: weight | bias | norm |
    table | conv (a depthwise convolution kernel: no matmul).  buffer: stored in the checkpoint but not a PyTorch parameter (DeepSeek-V3's e_score_correction_bias).
    """
    name: str
    shape: tuple
    role: str
    split: str | None = None
    kind: str = "weight"
    buffer: bool = False
    # issue 10, branch jamba: how transformers holds it, where that is not the model dtype and a trained parameter
    fp32: bool = False    # kept in fp32 whatever the model dtype (ERNIE 4.5's and Hunyuan's routers)
    frozen: bool = False  # a Parameter with requires_grad=False: counted, but no gradient and no optimizer state

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n


def _mb_norms(m: Model, name: str, width: int, role: str = "norms") -> list:
    if m.norm == "nonparametric":
        return []
    out = [ModelTensor(name + ".weight", (width,), role, kind="norm")]
    if m.norm == "layernorm":
        out.append(ModelTensor(name + ".bias", (width,), role, kind="norm"))
    return out


def _mb_linear(name: str, n_in: int, n_out: int, role: str, bias: bool, split) -> list:
    """nn.Linear (out, in); a row-parallel bias is replicated, a column-parallel one split like its weight."""
    out = [ModelTensor(name + ".weight", (n_out, n_in), role, split)]
    if bias:
        out.append(ModelTensor(name + ".bias", (n_out,), role, None if split in (None, "row") else split, kind="bias"))
    return out


def _mb_mlp(m: Model, prefix: str, width: int, role: str, bias: bool) -> list:
    h = m.hidden_size
    if m.gated_mlp and m.fused_gate_up:
        up = _mb_linear(prefix + ".gate_up_proj", h, 2 * width, role, bias, "col")
    elif m.gated_mlp:
        up = (_mb_linear(prefix + ".gate_proj", h, width, role, bias, "col")
              + _mb_linear(prefix + ".up_proj", h, width, role, bias, "col"))
    else:
        up = _mb_linear(prefix + ".up_proj", h, width, role, bias, "col")
    return up + _mb_linear(prefix + ".down_proj", width, h, role, bias, "row")


def _mb_attention(m: Model, sliding: bool = False, shared: bool = False) -> list:
    """One layer's attention tensors; ``sliding``: a sliding layer with the sliding layers' own shape (MiMo-V2-Flash,
    Gemma 4); ``shared``: a Gemma 4 KV-shared layer (Gemma4TextAttention with is_kv_shared_layer): q_proj, q_norm and
    o_proj only, the keys and values being an earlier layer's.  Gemma 4's full layers with attention_k_eq_v build
    no v_proj (the values are k_proj's output, normalised by v_norm, an RMSNorm without weight)."""
    h, a = m.hidden_size, m.num_attention_heads
    out = []
    if m.is_mla:  # DeepSeek-V2 paper sec. 2.1; transformers DeepseekV3Attention
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            out += _mb_linear("self_attn.q_a_proj", h, m.q_lora_rank, "attention", m.qkv_bias, None)
            out += _mb_norms(m, "self_attn.q_a_layernorm", m.q_lora_rank)
            out += _mb_linear("self_attn.q_b_proj", m.q_lora_rank, a * qk, "attention", False, "col")
        else:
            out += _mb_linear("self_attn.q_proj", h, a * qk, "attention", False, "col")
        out += _mb_linear("self_attn.kv_a_proj_with_mqa", h, m.kv_lora_rank + m.qk_rope_head_dim, "attention",
                               m.qkv_bias, None)
        out += _mb_norms(m, "self_attn.kv_a_layernorm", m.kv_lora_rank)
        out += _mb_linear("self_attn.kv_b_proj", m.kv_lora_rank, a * (m.qk_nope_head_dim + m.v_head_dim),
                               "attention", False, "col")
        out += _mb_linear("self_attn.o_proj", a * m.v_head_dim, h, "attention", m.o_bias, "row")
        return out + _mb_indexer(m)
    k = (m.sliding_kv_heads or m.kv_heads) if sliding else m.kv_heads
    d = (m.sliding_head_dim or m.d_head) if sliding else m.d_head
    dv = m.v_head_dim or d
    if m.fused_qkv:
        out += _mb_linear("self_attn.qkv_proj", h, (a + 2 * k) * d, "attention", m.qkv_bias, "col")
    else:
        out += _mb_linear("self_attn.q_proj", h, a * d, "attention", m.qkv_bias, "col")
        if not shared:
            out += _mb_linear("self_attn.k_proj", h, k * d, "attention", m.qkv_bias, "kv")
        if not shared and not (m.full_k_eq_v and not sliding):
            out += _mb_linear("self_attn.v_proj", h, k * dv, "attention", m.qkv_bias, "kv")
    out += _mb_linear("self_attn.o_proj", a * dv, h, "attention", m.o_bias, "row")
    if m.position_embedding == "relative":
        # Transformer-XL (Dai et al. 2019 sec. 3.3; Gopher/Chinchilla): W_kR and the per-head u, v biases
        out.append(ModelTensor("self_attn.rel_k_proj.weight", (a * d, h), "attention", "col"))
        out.append(ModelTensor("self_attn.rel_uv_bias", (2, a * d), "attention", kind="bias"))
    out += _mb_attention_sinks(m) if sliding or not m.sinks_sliding_only else []
    if m.qk_norm == "head":
        out += _mb_norms(m, "self_attn.q_norm", d) + ([] if shared else _mb_norms(m, "self_attn.k_norm", d))
    elif m.qk_norm == "full":
        out += _mb_norms(m, "self_attn.q_norm", a * d) + _mb_norms(m, "self_attn.k_norm", k * d)
    elif m.qk_norm == "per-head" and m.norm != "nonparametric":  # Cohere's use_qk_norm: one weight per head
        for name, heads in (("self_attn.q_norm", a), ("self_attn.k_norm", k)):
            out.append(ModelTensor(name + ".weight", (heads, d), "norms", kind="norm"))
            if m.norm == "layernorm":
                out.append(ModelTensor(name + ".bias", (heads, d), "norms", kind="norm"))
    return out


def _mb_indexer(m: Model) -> list:
    """DeepSeek Sparse Attention's lightning indexer (the DeepSeek-V3.2 report, sec. 2.1: DSA and its indexer;
    transformers 5.23 DeepseekV32Indexer, which GlmMoeDsaIndexer inherits): with H_I = index_n_heads heads of
    d_I = index_head_dim, wq_b (H_I x d_I, q_lora_rank) on MLA's normalised q-LoRA latent, wk (d_I, h) to one key per
    token, k_norm an nn.LayerNorm(d_I) with weight and bias whatever the block's norm, weights_proj (H_I, h) to one
    weight per head and token; no biases.  Replicated under tensor parallelism (the config classes' tp_plan names
    none of them; the keys are one head)."""
    if not m.index_n_heads:
        return []
    hi, di, h = m.index_n_heads, m.index_head_dim, m.hidden_size
    return [ModelTensor("self_attn.indexer.wq_b.weight", (hi * di, m.q_lora_rank), "attention"),
            ModelTensor("self_attn.indexer.wk.weight", (di, h), "attention"),
            ModelTensor("self_attn.indexer.k_norm.weight", (di,), "norms", kind="norm"),
            ModelTensor("self_attn.indexer.k_norm.bias", (di,), "norms", kind="norm"),
            ModelTensor("self_attn.indexer.weights_proj.weight", (hi, h), "attention")]


def _mb_attention_sinks(m: Model) -> list:
    """gpt-oss's attention sinks (modeling_gpt_oss.py GptOssAttention.sinks): one learned logit per query head,
    appended as an extra column to each row of scores before the softmax and dropped after it (the sink takes a share
    of the probability mass and adds nothing to the output).  A parameter of num_attention_heads values, no matmul;
    split with the heads under tensor parallelism (its kind, bias, keeps it out of every matmul count)."""
    if not m.attention_sinks:
        return []
    return [ModelTensor("self_attn.sinks", (m.num_attention_heads,), "attention", "col", kind="bias")]


def _mb_expert_biases(m: Model) -> list:
    """gpt-oss's expert biases (GptOssExperts): gate_up_proj_bias (E, 2f) after the stacked gate/up projection and
    down_proj_bias (E, h) after the down projection: per expert, 2f + h values, added (no matmul).  Routed experts,
    so a token uses top_k of the E rows (the active count); the down bias is replicated, not split, by expert
    tensor parallelism, like any row-parallel bias."""
    if not m.expert_bias:
        return []
    e, f, h = m.num_experts, m.moe_width, m.hidden_size
    up = 2 * f if m.gated_mlp else f
    return [ModelTensor("mlp.experts.gate_up_proj_bias" if m.gated_mlp else "mlp.experts.up_proj_bias", (e, up),
                        "routed_experts", "col", kind="bias"),
            ModelTensor("mlp.experts.down_proj_bias", (e, h), "routed_experts", None, kind="bias")]
def _mb_stablelm_qk_norms(m: Model, out: list) -> list:
    """StableLM's qk_layernorm (StableLmLayerNormPerHead): a ModuleList of heads (KV heads for k) nn.LayerNorm(head_dim,
    bias=False): one (head_dim,) weight per head, without bias even where the block's LayerNorms have one."""
    if not m.qk_norm_module_per_head:
        return out
    out = [t for t in out if not t.name.startswith(("self_attn.q_norm.", "self_attn.k_norm."))]
    return out + [ModelTensor(f"self_attn.{name}.norms.{i}.weight", (m.d_head,), "norms", kind="norm")
                  for name, heads in (("q_norm", m.num_attention_heads), ("k_norm", m.kv_heads)) for i in range(heads)]


def _mb_dbrx_experts(m: Model, out: list) -> list:
    """DBRX's experts (DbrxExpertGLU): three parameters w1 (gate), v1 (up) and w2 (down), each (E x ffn, h), in place of
    the stacked pair: the same elements, but three 2-D tensors (what an optimizer factors and keeps a step for)."""
    if not m.expert_rows_fused:
        return out
    rows = (m.num_experts * m.moe_width, m.hidden_size)
    out = [t for t in out if t.name not in ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")]
    return out + [ModelTensor("mlp.experts." + name, rows, "routed_experts", split)
                  for name, split in (("w1", "col"), ("v1", "col"), ("w2", "row"))]


def _mb_qwen3_next_mixer(m: Model, out: list, linear: bool) -> list:
    """Qwen3-Next's token mixers (transformers 5.23 modeling_qwen3_next.py), on a layer's tensors so far.

    Gated attention (Qwen3NextAttention): q_proj emits a query and a gate per head, a x 2d rows; the output is
    o_proj(attention x sigmoid(gate)).  Gated delta-net (Qwen3NextGatedDeltaNet), in place of self-attention, with
    key width kd = linear_num_key_heads x linear_key_head_dim and value width vd = linear_num_value_heads (Hv) x
    linear_value_head_dim (dv): in_proj_qkvz (2 kd + 2 vd, h), in_proj_ba (2 Hv, h), a depthwise conv1d over q, k, v
    (2 kd + vd, 1, kernel) without bias, dt_bias and A_log (Hv each), a gated RMSNorm over dv and out_proj (h, vd).
    Qwen3.5 (Qwen3_5GatedDeltaNet) splits the input projections into in_proj_qkv, in_proj_z, in_proj_b and
    in_proj_a (linear_proj_split): the same rows, so the same count and matmul FLOPs."""
    if (linear or m.parallel_ssm) and m.ssm_kind == "mamba2":  # Falcon-H1: beside attention in every layer
        return _mb_mamba2_mixer(m, out)
    if linear and m.ssm_kind == "mamba1":  # issue 10, branch jamba
        return _mb_mamba1_mixer(m, out)
    if linear and m.short_conv:  # LFM2 (Lfm2ShortConv): in_proj h -> 3h (B, C, x), a depthwise conv over B*x of
        h, bias = m.hidden_size, m.short_conv_bias  # kernel conv_L_cache, out_proj h -> h; biases by conv_bias
        out = [t for t in out if not t.name.startswith("self_attn.")]
        out += _mb_linear("conv.in_proj", h, 3 * h, "attention", bias, "col")
        out.append(ModelTensor("conv.conv.weight", (h, 1, m.short_conv_kernel), "attention", "col", kind="conv"))
        if bias:
            out.append(ModelTensor("conv.conv.bias", (h,), "attention", "col", kind="bias"))
        out += _mb_linear("conv.out_proj", h, h, "attention", bias, "row")
    elif linear:
        kd = m.linear_num_key_heads * m.linear_key_head_dim
        vd, hv, h = m.linear_num_value_heads * m.linear_value_head_dim, m.linear_num_value_heads, m.hidden_size
        out = [t for t in out if not t.name.startswith("self_attn.")]
        if m.linear_proj_split:  # Qwen3.5: four projections, the same rows as in_proj_qkvz + in_proj_ba
            out += _mb_linear("linear_attn.in_proj_qkv", h, 2 * kd + vd, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_z", h, vd, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_b", h, hv, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_a", h, hv, "attention", False, "col")
        else:
            out += _mb_linear("linear_attn.in_proj_qkvz", h, 2 * kd + 2 * vd, "attention", False, "col")
            out += _mb_linear("linear_attn.in_proj_ba", h, 2 * hv, "attention", False, "col")
        out.append(ModelTensor("linear_attn.conv1d.weight", (2 * kd + vd, 1, m.linear_conv_kernel), "attention",
                               "col", kind="conv"))
        out += [ModelTensor(f"linear_attn.{p}", (hv,), "attention", "col", kind="bias") for p in ("dt_bias", "A_log")]
        out += _mb_norms(m, "linear_attn.norm", m.linear_value_head_dim)
        out += _mb_linear("linear_attn.out_proj", vd, h, "attention", False, "row")
    elif m.attn_output_gate:  # twice the query rows: [query | gate] per head
        out = [_dc.replace(t, shape=(2 * t.shape[0],) + t.shape[1:]) if t.name.startswith("self_attn.q_proj.")
               else t for t in out]
    return out


def _mb_mamba2_mixer(m: Model, out: list) -> list:
    """A Mamba-2 mixer in place of self-attention (transformers 5.23 modeling_bamba.py BambaMixer), with inner width
    d = H x P, conv channels c = d + 2 G N: in_proj (d + c + H, h) emitting the gate z, x, B, C and dt; a depthwise
    conv1d (c, 1, kernel) with a bias when mamba_conv_bias; dt_bias, A_log and D (H each); a gated RMSNorm over d
    (normalised in G groups, one weight of d); out_proj (h, d); in_proj / out_proj biased when mamba_proj_bias.
    Falcon-H1 (parallel_ssm, modeling_falcon_h1.py FalconH1Mixer): the mixer is kept BESIDE self-attention; its
    gated RMSNorm only with mamba_gated_norm (mamba_rms_norm), out_proj biased by mamba_out_proj_bias
    (projectors_bias) and in_proj by mamba_proj_bias."""
    h, d, c, heads = m.hidden_size, m.mamba_width, m.mamba_conv_dim, m.mamba_num_heads
    if not m.parallel_ssm:
        out = [t for t in out if not t.name.startswith("self_attn.")]
    out += _mb_linear("mamba.in_proj", h, d + c + heads, "attention", m.mamba_proj_bias, "col")
    out.append(ModelTensor("mamba.conv1d.weight", (c, 1, m.mamba_d_conv), "attention", "col", kind="conv"))
    if m.mamba_conv_bias:
        out.append(ModelTensor("mamba.conv1d.bias", (c,), "attention", "col", kind="bias"))
    out += [ModelTensor(f"mamba.{p}", (heads,), "attention", "col", kind="bias") for p in ("dt_bias", "A_log", "D")]
    if m.mamba_gated_norm:
        out.append(ModelTensor("mamba.norm.weight", (d,), "norms", "col", kind="norm"))
    out += _mb_linear("mamba.out_proj", d, h, "attention",
                      m.mamba_out_proj_bias if m.parallel_ssm else m.mamba_proj_bias, "row")
    return out


def _mb_mamba1_mixer(m: Model, out: list) -> list:
    """A Mamba-1 mixer in place of self-attention (transformers 5.23 modeling_jamba.py JambaMambaMixer; Gu & Dao
    2023 Algorithm 2), with inner width d = mamba_expand x h, state N, dt rank R and kernel K: in_proj (2d, h) emitting
    x and the gate z; a depthwise conv1d (d, 1, K) with a bias when mamba_conv_bias; x_proj (R + 2N, d) without bias
    emitting dt, B and C; dt_proj (d, R) with its bias; A_log (d, N) and D (d), elementwise parameters (no matmul);
    Jamba's RMSNorms over dt, B and C (R, N, N); out_proj (h, d); in_proj / out_proj biased when mamba_proj_bias.
    Tensor parallelism splits d (vLLM's MambaMixer: in_proj, conv1d, dt_proj column-, x_proj and out_proj
    row-parallel); the three small norms are replicated."""
    h, d, n, rank = m.hidden_size, m.mamba1_inner, m.mamba_d_state, m.mamba_dt_rank
    out = [t for t in out if not t.name.startswith("self_attn.")]
    out += _mb_linear("mamba.in_proj", h, 2 * d, "attention", m.mamba_proj_bias, "col")
    out.append(ModelTensor("mamba.conv1d.weight", (d, 1, m.mamba_d_conv), "attention", "col", kind="conv"))
    if m.mamba_conv_bias:
        out.append(ModelTensor("mamba.conv1d.bias", (d,), "attention", "col", kind="bias"))
    out += _mb_linear("mamba.x_proj", d, rank + 2 * n, "attention", False, "row")
    out += _mb_linear("mamba.dt_proj", rank, d, "attention", True, "col")
    out.append(ModelTensor("mamba.A_log", (d, n), "attention", "col", kind="bias"))
    out.append(ModelTensor("mamba.D", (d,), "attention", "col", kind="bias"))
    if m.mamba_bcdt_norms:
        out += [ModelTensor(f"mamba.{p}_layernorm.weight", (w,), "norms", kind="norm")
                for p, w in (("dt", rank), ("b", n), ("c", n))]
    out += _mb_linear("mamba.out_proj", d, h, "attention", m.mamba_proj_bias, "row")
    return out


def _mb_fp32_router(m: Model, out: list) -> list:
    """Router parameters transformers keeps in fp32 (issue 10, branch jamba).  ERNIE 4.5 (modeling_ernie4_5_moe.py
    Ernie4_5_MoeTopKRouter): the router weight (E, h) created in fp32 and listed in _keep_in_fp32_modules_strict, and
    moe_statics.e_score_correction_bias, an fp32 nn.Parameter of (1, E) with requires_grad=False (added to the
    softmax scores for the top-k choice only): a parameter, so sum(p.numel()) counts it, but frozen.  Hunyuan
    (HunYuanMoEV1Gate): the router an nn.Linear(h, E, bias=False, dtype=torch.float32).  Both routers run in fp32."""
    if not (m.router_fp32 or m.router_frozen_bias):
        return out
    out = [_dc.replace(t, fp32=True) if t.name == "mlp.router.weight" and m.router_fp32 else t for t in out]
    if m.router_frozen_bias:
        out.append(ModelTensor("mlp.router.e_score_correction_bias", (m.num_experts,), "router", kind="bias",
                               fp32=True, frozen=True))
    return out


_MB_LAYER_CACHE: dict = {}


def model_layer_tensors(m: Model, moe: bool, linear: bool = False, sliding: bool = False, mixer: bool = True,
                        shared: bool = False) -> tuple:
    """The tensors of one decoder layer (dense or MoE; linear: a gated delta-net in place of self-attention;
    sliding: a sliding layer of a model whose sliding layers have their own head shape, MiMo-V2-Flash, Gemma 4;
    shared: a Gemma 4 KV-shared layer), in the transformers 5 layout: routed experts stacked as gate_up_proj
    (E, 2f, h) and down_proj (E, h, f).
    Nemotron-H (single_block_layers): a layer with a mixer (mixer=True) holds its norm and that mixer only, a layer
    without one (mixer=False) its norm and its MLP (dense, or MoE with moe) only.  The positional switches are those
    of model_layer_kind's key, (moe, linear, sliding, mixer, shared)."""
    sliding = bool(sliding and m.has_sliding_shape)
    mixer = bool(mixer or not m.single_block_layers)
    shared = bool(shared and m.kv_shared_layers)
    key = (m, moe, linear, sliding, mixer, shared)
    if key in _MB_LAYER_CACHE:
        return _MB_LAYER_CACHE[key]
    h, out = m.hidden_size, []
    for i in range(m.norms_per_layer):
        out += _mb_norms(m, f"norm{i + 1}", h)
    if mixer:
        out += _mb_attention(m, sliding, shared)
        out = _mb_stablelm_qk_norms(m, out)
        out = _mb_qwen3_next_mixer(m, out, linear)
    has_mlp = not (m.single_block_layers and mixer)  # Nemotron-H: a mixer layer has no MLP
    if has_mlp and (not moe or m.moe_beside_mlp):
        out += _mb_mlp(m, "mlp", m.ffn_hidden_size * (2 if shared and m.double_wide_shared_mlp else 1), "mlp",
                       m.mlp_bias)
    out += _mb_per_layer_input(m)
    if has_mlp and moe and m.moe_beside_mlp:
        out += _mb_gemma4_moe_block(m)
    elif has_mlp and moe:
        e, f = m.num_experts, m.moe_width
        out.append(ModelTensor("mlp.router.weight", (e, h), "router"))
        if m.router_bias:
            out.append(ModelTensor("mlp.router.bias", (e,), "router", kind="bias"))
        if m.router_score_correction_bias:
            out.append(ModelTensor("mlp.router.e_score_correction_bias", (e,), "router", kind="bias", buffer=True))
        up = 2 * f if m.gated_mlp else f
        out.append(ModelTensor("mlp.experts.gate_up_proj" if m.gated_mlp else "mlp.experts.up_proj", (e, up, h),
                          "routed_experts", "col"))
        out.append(ModelTensor("mlp.experts.down_proj", (e, h, f), "routed_experts", "row"))
        out += _mb_expert_biases(m)
        out = _mb_dbrx_experts(m, out)
        out = _mb_fp32_router(m, out)
        if m.num_shared_experts:
            out += _mb_mlp(m, "mlp.shared_experts", m.shared_width, "shared_experts", m.mlp_bias)
            if m.shared_expert_gate:
                out.append(ModelTensor("mlp.shared_expert_gate.weight", (1, h), "shared_experts"))
    if len(_MB_LAYER_CACHE) > 256:
        _MB_LAYER_CACHE.clear()
    _MB_LAYER_CACHE[key] = tuple(out)
    return _MB_LAYER_CACHE[key]


def _mb_per_layer_input(m: Model) -> list:
    """Gemma 4's per-layer input (PLE) inside each decoder layer (Gemma4TextDecoderLayer with
    hidden_size_per_layer_input p): per_layer_input_gate (p, h), per_layer_projection (h, p) and
    post_per_layer_input_norm (h): h -> p, gelu times the layer's slice of the per-layer inputs, p -> h, normalised,
    added to the residual.  The two matmuls carry the role embedding_projections (PLE's, with the model-level
    per_layer_model_projection)."""
    if not m.per_layer_input_size:
        return []
    h, p = m.hidden_size, m.per_layer_input_size
    return (_mb_linear("per_layer_input_gate", h, p, "embedding_projections", False, None)
            + _mb_linear("per_layer_projection", p, h, "embedding_projections", False, None)
            + _mb_norms(m, "post_per_layer_input_norm", h))


def _mb_gemma4_moe_block(m: Model) -> list:
    """Gemma 4's MoE block beside the dense MLP (Gemma4TextDecoderLayer with enable_moe_block; Gemma4TextRouter,
    Gemma4TextExperts): the router normalises the residual stream (RMSNorm without weight), scales it by a learned
    vector `scale` (h) and h^-1/2, projects it to E logits (proj: (E, h), no bias), takes the softmax's top-k,
    renormalises and multiplies by a learned per_expert_scale (E); E experts of moe_intermediate_size f stacked as
    gate_up_proj (E, 2f, h) and down_proj (E, h, f), on the residual normalised by pre_feedforward_layernorm_2;
    post_feedforward_layernorm_1 / _2 on the MLP's and the experts' outputs before they are summed."""
    e, f, h = m.num_experts, m.moe_width, m.hidden_size
    return [ModelTensor("router.proj.weight", (e, h), "router"),
            ModelTensor("router.scale", (h,), "router", kind="norm"),
            ModelTensor("router.per_expert_scale", (e,), "router", kind="norm"),
            ModelTensor("experts.gate_up_proj", (e, 2 * f, h), "routed_experts", "col"),
            ModelTensor("experts.down_proj", (e, h, f), "routed_experts", "row")] + \
        [t for name in ("post_feedforward_layernorm_1", "post_feedforward_layernorm_2", "pre_feedforward_layernorm_2")
         for t in _mb_norms(m, name, h)]


def model_global_tensors(m: Model) -> tuple:
    """(tensors before the first layer, tensors after the last): embedding, positions, OPT's project_in/out,
    embedding norm, final norm, LM head (absent when tied)."""
    h, v, e = m.hidden_size, m.padded_vocab, m.embed_width
    first = [ModelTensor("embed_tokens.weight", (v, e), "embedding", "vocab", kind="table")]
    if m.learned_position_rows:
        first.append(ModelTensor("embed_positions.weight", (m.learned_position_rows, h), "positions", kind="table"))
    if e != h:
        first += _mb_linear("project_in", e, h, "embedding_projections", False, None)
    if m.embedding_norm:
        first += _mb_norms(m, "embed_norm", h)
    if m.per_layer_input_size:  # Gemma 4's PLE (Gemma4TextModel): a table looked up per token, packed for all layers
        width = m.num_layers * m.per_layer_input_size
        first.append(ModelTensor("embed_tokens_per_layer.weight", (m.per_layer_vocab, width), "embedding", "vocab",
                                 kind="table"))
        first += _mb_linear("per_layer_model_projection", h, width, "embedding_projections", False, None)
        first += _mb_norms(m, "per_layer_projection_norm", m.per_layer_input_size)
    last = _mb_norms(m, "final_norm", h) if m.final_norm else []
    if e != h:
        last += _mb_linear("project_out", h, e, "embedding_projections", False, None)
    if not m.tied_embeddings:
        last.append(ModelTensor("lm_head.weight", (v, e), "lm_head", "vocab", kind="table"))
    if m.lm_head_bias:
        last.append(ModelTensor("lm_head.bias", (v,), "lm_head", "vocab", kind="bias"))
    return tuple(first), tuple(last)


def model_mtp_tensors(m: Model, position: int) -> tuple:
    """One DeepSeek-V3 multi-token-prediction module at layer position `position` (report sec. 2.2): a decoder
    layer, the 2h -> h projection eh_proj, norms on both inputs and shared_head.norm.  Its copies of the embedding
    and LM head are stored in the checkpoint only (buffer=True here)."""
    h = m.hidden_size
    out = list(model_layer_tensors(m, m.layer_is_moe(position)))
    out += _mb_linear("eh_proj", 2 * h, h, "mtp", False, None)
    for norm in ("enorm", "hnorm", "shared_head.norm"):
        out += _mb_norms(m, norm, h)
    out.append(ModelTensor("embed_tokens.weight", (m.padded_vocab, m.embed_width), "embedding", kind="table",
                           buffer=True))
    out.append(ModelTensor("shared_head.head.weight", (m.padded_vocab, m.embed_width), "lm_head", kind="table",
                      buffer=True))
    return tuple(_dc.replace(t, role="mtp") if not t.buffer else t for t in out)


def model_param_tensors(m: Model) -> list:
    """Every tensor of the model, layer by layer: [(layer index or -1, ModelTensor)].  MTP modules are numbered on
    after the last layer."""
    first, last = model_global_tensors(m)
    out = [(-1, t) for t in first]
    for i in range(m.num_layers):
        out += [(i, t) for t in model_layer_tensors(m, *model_layer_kind(m, i))]
    out += [(-1, t) for t in last]
    for j in range(m.mtp_layers):
        out += [(m.num_layers + j, t) for t in model_mtp_tensors(m, m.num_layers + j)]
    return out


def model_layer_kind(m: Model, i: int) -> tuple:
    """(MoE, linear mixer, sliding shape, has a mixer, KV-shared) of layer i: the switches model_layer_tensors takes,
    in its positional order."""
    return (m.layer_is_moe(i), m.layer_is_linear(i), m.layer_sliding_shape(i), m.layer_has_mixer(i),
            m.layer_kv_shared(i))


def model_layer_kinds(m: Model) -> dict:
    """{(MoE, linear mixer, sliding shape, has a mixer, KV-shared): number of layers}: the distinct decoder layers,
    for sums by layer kind (model_layer_tensors takes the key's five switches)."""
    kinds = {}
    for i in range(m.num_layers):
        key = model_layer_kind(m, i)
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


MODEL_ROLES = ("embedding", "positions", "embedding_projections", "attention", "mlp", "routed_experts",
               "shared_experts", "router", "norms", "lm_head", "mtp")


def count_model(m: Model) -> dict:
    """Exact counts from the tensor list (each tied tensor once; buffers apart), without walking every layer:
    total, by role, dense/MoE layer counts, routed-expert parameters per expert, MoE active per token (every
    parameter except the routed experts and MTP modules, plus top_k / E of the routed experts), and
    checkpoint_only {name: elements stored but not parameters}."""
    validate_model(m)
    roles = dict.fromkeys(MODEL_ROLES, 0)
    stored = {}
    first, last = model_global_tensors(m)
    n_moe = m.moe_layer_count()
    groups = [(first + last, 1), (model_layer_tensors(m, False), m.num_layers - n_moe)]
    if n_moe:
        groups.append((model_layer_tensors(m, True), n_moe))
    if m.mixer_types or m.has_sliding_shape or m.kv_shared_layers:  # Qwen3-Next, MiMo, Gemma 4: layers by kind
        groups = groups[:1] + [(model_layer_tensors(m, *kind), n) for kind, n in model_layer_kinds(m).items()]
    for j in range(m.mtp_layers):
        groups.append((model_mtp_tensors(m, m.num_layers + j), 1))
    fp32_kept = frozen = 0  # issue 10, branch jamba: parameters held in fp32 / without gradient
    for tensors, times in groups:
        for t in tensors:
            fp32_kept += t.numel * times if t.fp32 and not t.buffer else 0
            frozen += t.numel * times if t.frozen and not t.buffer else 0
            if t.buffer:
                key = "mtp_embedding_and_head_copies" if t.role in ("embedding", "lm_head") \
                    else "router_score_correction_bias"
                stored[key] = stored.get(key, 0) + t.numel * times
            else:
                roles[t.role] += t.numel * times
    total = sum(roles.values())
    per_expert = sum(t.numel for t in model_layer_tensors(m, True, mixer=False) if t.role == "routed_experts") \
        // m.num_experts \
        if n_moe else 0
    active = total - roles["routed_experts"] - roles["mtp"] + n_moe * m.top_k * per_expert
    return {"total": total, "roles": roles, "dense_layers": m.num_layers - n_moe, "moe_layers": n_moe,
            "params_per_expert": per_expert, "active": active if n_moe else total,
            "routed_experts_active": n_moe * m.top_k * per_expert, "checkpoint_only": stored,
            "fp32_params": fp32_kept, "frozen_params": frozen}


# --------------------------------------------------------------------------------------------------------------
# Presets: one table for every script.  Each names its source; a preset of a published config.json equals what
# model_from_config reads from that file (tests/test_model_block.py checks the ones the suite carries).
# sequence_length: the length the model was pre-trained at (the final pre-training stage), where a script needs a
# default (-s in flops and mem): Llama 2 paper Table 1 (4k), Llama 3 paper sec. 3.4 (8k before long-context
# training), Qwen2.5 report sec. 3.2 (32k final stage), Gemma 2 paper Table 1 (8k), DeepSeek-V2 sec. 3.1 and
# DeepSeek-V3 sec. 4.2 (4k before YaRN), BLOOM paper (2048), Mixtral paper (32k), GPT-2 (1024), Pythia (2048).
# --------------------------------------------------------------------------------------------------------------
def _mb_hf(repo: str, model_type: str) -> dict:
    return dict(source=f"huggingface.co/{repo} config.json", model_type=model_type,
                gguf_arch={"gpt_neox": "gptneox", "gpt_oss": "gpt-oss"}.get(model_type, model_type))


def _mb_alternating(layers: int) -> tuple:  # Gemma-2: even layers slide, odd layers are global
    return tuple("sliding" if i % 2 == 0 else "full" for i in range(layers))


# GPT-2 block: learned positions, LayerNorm with bias, every linear biased, fused c_attn, gelu_new in Python, tied
_PRESET_GPT2 = dict(gated_mlp=False, position_embedding="learned", max_position_embeddings=1024, norm="layernorm",
                    qkv_bias=True, o_bias=True, mlp_bias=True, tied_embeddings=True, vocab_size=50257,
                    fused_qkv=True, dropout=True, python_gelu=True, softmax_fp32=False, sequence_length=1024)
# Pythia = GPT-NeoX: rotary, LayerNorm with bias, every linear biased, fused query_key_value, untied head, fp32 softmax
_PRESET_NEOX = dict(gated_mlp=False, norm="layernorm", qkv_bias=True, o_bias=True, mlp_bias=True, vocab_size=50304,
                    fused_qkv=True, sequence_length=2048)
_PRESET_LLAMA = dict(gated_mlp=True, norm="rmsnorm")
# Gopher / Chinchilla as Table A9 counts them: Transformer-XL relative attention, every linear biased, plain MLP,
# one 32k vocabulary matrix, norm gains not counted (norms without parameters); this reproduces all 50 rows
_PRESET_GOPHER = dict(gated_mlp=False, position_embedding="relative", qkv_bias=True, o_bias=True, mlp_bias=True,
                      tied_embeddings=True, norm="nonparametric", final_norm=False, vocab_size=32000, head_dim=128,
                      sequence_length=2048)
_PRESET_GEMMA2 = dict(_PRESET_LLAMA, vocab_size=256000, tied_embeddings=True, norms_per_layer=4, sliding_window=4096,
                      attn_softcap=True, norm_fp32_scale=True)
# gpt-oss (OpenAI model card arXiv:2508.10925 sec. 2.1; config.json): every layer MoE, 4 of E experts with biases
# behind a biased router, biased q/k/v/o, a sink logit per head, window 128 on the even layers, untied head,
# GptOssRMSNorm's fp32 weight product and a softmax in the input dtype; 4096 tokens before YaRN (the config's
# initial_context_length and rope_scaling.original_max_position_embeddings)
_PRESET_GPT_OSS = dict(_PRESET_LLAMA, hidden_size=2880, num_attention_heads=64, num_kv_heads=8, head_dim=64,
                       ffn_hidden_size=2880, vocab_size=201088, qkv_bias=True, o_bias=True, top_k=4, router_bias=True,
                       expert_bias=True, attention_sinks=True, clamped_swiglu=True, sliding_window=128,
                       norm_fp32_scale=True,
                       softmax_fp32=False, sequence_length=4096)
# Llama 4 (text_config of the published config.json, transformers 5.23 Llama4TextConfig): 40 query / 8 KV heads of
# 128, routed and shared experts of 8192, dense MLPs of 16384, top-1, untied 202048-token head, chunked attention
# (8192) on the RoPE layers and full attention on every 4th (NoPE) layer, softmax in the logits' dtype
_PRESET_LLAMA4 = dict(_PRESET_LLAMA, num_layers=48, hidden_size=5120, num_attention_heads=40, num_kv_heads=8,
                      head_dim=128, ffn_hidden_size=16384, vocab_size=202048, top_k=1, moe_ffn_hidden_size=8192,
                      num_shared_experts=1, shared_expert_ffn_size=8192, sliding_window=8192, attention_chunked=True,
                      layer_types=tuple("full" if (i + 1) % 4 == 0 else "sliding" for i in range(48)),
                      softmax_fp32=False)
_PRESET_BLOOM = dict(gated_mlp=False, position_embedding="alibi", norm="layernorm", qkv_bias=True, o_bias=True,
                     mlp_bias=True, fused_qkv=True, embedding_norm=True, tied_embeddings=True, vocab_size=250880)

MODEL_PRESETS = {
    "gpt2": dict(_PRESET_GPT2, num_layers=12, hidden_size=768, num_attention_heads=12, ffn_hidden_size=3072,
                 **_mb_hf("openai-community/gpt2", "gpt2")),
    "gpt2-medium": dict(_PRESET_GPT2, num_layers=24, hidden_size=1024, num_attention_heads=16, ffn_hidden_size=4096,
                        **_mb_hf("openai-community/gpt2-medium", "gpt2")),
    "gpt2-large": dict(_PRESET_GPT2, num_layers=36, hidden_size=1280, num_attention_heads=20, ffn_hidden_size=5120,
                       **_mb_hf("openai-community/gpt2-large", "gpt2")),
    "gpt2-xl": dict(_PRESET_GPT2, num_layers=48, hidden_size=1600, num_attention_heads=25, ffn_hidden_size=6400,
                    **_mb_hf("openai-community/gpt2-xl", "gpt2")),
    "gpt3-175b": dict(_PRESET_GPT2, num_layers=96, hidden_size=12288, num_attention_heads=96, ffn_hidden_size=49152,
                      max_position_embeddings=2048, sequence_length=2048,
                      source="Brown et al. 2020 (arXiv:2005.14165) Table 2.1; GPT-2 block and 50257 BPE vocab"),
    "gopher-280b": dict(_PRESET_GOPHER, num_layers=80, hidden_size=16384, num_attention_heads=128,
                        ffn_hidden_size=65536,
                        source="Rae et al. 2021 (arXiv:2112.11446) Table 1; Hoffmann et al. 2022 Table 4"),
    "chinchilla-70b": dict(_PRESET_GOPHER, num_layers=80, hidden_size=8192, num_attention_heads=64,
                           ffn_hidden_size=32768,
                           source="Hoffmann et al. 2022 (arXiv:2203.15556) Table 4; 32k SentencePiece vocab as Gopher"),
    "palm-540b": dict(_PRESET_LLAMA, num_layers=118, hidden_size=18432, num_attention_heads=48, num_kv_heads=1,
                      head_dim=256, vocab_size=256000, ffn_hidden_size=73728, tied_embeddings=True,
                      norm="layernorm-nobias", norms_per_layer=1, norm_placement="parallel", sequence_length=2048,
                      source="Chowdhery et al. 2022 (arXiv:2204.02311) Table 1 (parallel SwiGLU block, multi-query, "
                             "no biases)"),
    "bloom-560m": dict(_PRESET_BLOOM, num_layers=24, hidden_size=1024, num_attention_heads=16, ffn_hidden_size=4096,
                       sequence_length=2048, **_mb_hf("bigscience/bloom-560m", "bloom")),
    "bloom-1b7": dict(_PRESET_BLOOM, num_layers=24, hidden_size=2048, num_attention_heads=16, ffn_hidden_size=8192,
                      sequence_length=2048, **_mb_hf("bigscience/bloom-1b7", "bloom")),
    "pythia-70m": dict(_PRESET_NEOX, num_layers=6, hidden_size=512, num_attention_heads=8, ffn_hidden_size=2048,
                       **_mb_hf("EleutherAI/pythia-70m", "gpt_neox")),
    "pythia-160m": dict(_PRESET_NEOX, num_layers=12, hidden_size=768, num_attention_heads=12, ffn_hidden_size=3072,
                        **_mb_hf("EleutherAI/pythia-160m", "gpt_neox")),
    "pythia-410m": dict(_PRESET_NEOX, num_layers=24, hidden_size=1024, num_attention_heads=16, ffn_hidden_size=4096,
                        **_mb_hf("EleutherAI/pythia-410m", "gpt_neox")),
    "pythia-1b": dict(_PRESET_NEOX, num_layers=16, hidden_size=2048, num_attention_heads=8, ffn_hidden_size=8192,
                      **_mb_hf("EleutherAI/pythia-1b", "gpt_neox")),
    "pythia-1.4b": dict(_PRESET_NEOX, num_layers=24, hidden_size=2048, num_attention_heads=16, ffn_hidden_size=8192,
                        **_mb_hf("EleutherAI/pythia-1.4b", "gpt_neox")),
    "pythia-2.8b": dict(_PRESET_NEOX, num_layers=32, hidden_size=2560, num_attention_heads=32, ffn_hidden_size=10240,
                        **_mb_hf("EleutherAI/pythia-2.8b", "gpt_neox")),
    "pythia-6.9b": dict(_PRESET_NEOX, num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=16384,
                        vocab_size=50432, **_mb_hf("EleutherAI/pythia-6.9b", "gpt_neox")),
    "pythia-12b": dict(_PRESET_NEOX, num_layers=36, hidden_size=5120, num_attention_heads=40, ffn_hidden_size=20480,
                       vocab_size=50688, **_mb_hf("EleutherAI/pythia-12b", "gpt_neox")),
    "llama-2-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=11008,
                       vocab_size=32000, sequence_length=4096, **_mb_hf("meta-llama/Llama-2-7b-hf", "llama")),
    "llama-2-13b": dict(_PRESET_LLAMA, num_layers=40, hidden_size=5120, num_attention_heads=40, ffn_hidden_size=13824,
                        vocab_size=32000, sequence_length=4096, **_mb_hf("meta-llama/Llama-2-13b-hf", "llama")),
    "llama-2-70b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                        ffn_hidden_size=28672, vocab_size=32000, sequence_length=4096,
                        **_mb_hf("meta-llama/Llama-2-70b-hf", "llama")),
    "llama-3-8b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                       ffn_hidden_size=14336, vocab_size=128256, sequence_length=8192,
                       **_mb_hf("meta-llama/Meta-Llama-3-8B", "llama")),
    "llama-3-70b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                        ffn_hidden_size=28672, vocab_size=128256, sequence_length=8192,
                        **_mb_hf("meta-llama/Meta-Llama-3-70B", "llama")),
    "llama-3.1-8b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                         ffn_hidden_size=14336, vocab_size=128256, rope_freqs=True,
                         sequence_length=8192, **_mb_hf("meta-llama/Llama-3.1-8B", "llama")),
    "llama-3.1-70b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                          ffn_hidden_size=28672, vocab_size=128256, rope_freqs=True,
                          sequence_length=8192, **_mb_hf("meta-llama/Llama-3.1-70B", "llama")),
    "llama-3.1-405b": dict(_PRESET_LLAMA, num_layers=126, hidden_size=16384, num_attention_heads=128, num_kv_heads=8,
                           ffn_hidden_size=53248, vocab_size=128256, rope_freqs=True, sequence_length=8192,
                           **_mb_hf("meta-llama/Llama-3.1-405B", "llama")),
    "llama-3.2-1b": dict(_PRESET_LLAMA, num_layers=16, hidden_size=2048, num_attention_heads=32, num_kv_heads=8,
                         head_dim=64, ffn_hidden_size=8192, vocab_size=128256, tied_embeddings=True, rope_freqs=True,
                         sequence_length=8192, **_mb_hf("meta-llama/Llama-3.2-1B", "llama")),
    "llama-3.2-3b": dict(_PRESET_LLAMA, num_layers=28, hidden_size=3072, num_attention_heads=24, num_kv_heads=8,
                         head_dim=128, ffn_hidden_size=8192, vocab_size=128256, tied_embeddings=True, rope_freqs=True,
                         sequence_length=8192, **_mb_hf("meta-llama/Llama-3.2-3B", "llama")),
    "mistral-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                       ffn_hidden_size=14336, vocab_size=32000, sliding_window=4096, sequence_length=8192,
                       **_mb_hf("mistralai/Mistral-7B-v0.1", "mistral")),
    "mixtral-8x7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                         ffn_hidden_size=14336, vocab_size=32000, num_experts=8, top_k=2, sequence_length=32768,
                         **_mb_hf("mistralai/Mixtral-8x7B-v0.1", "mixtral")),
    "mixtral-8x22b": dict(_PRESET_LLAMA, num_layers=56, hidden_size=6144, num_attention_heads=48, num_kv_heads=8,
                          ffn_hidden_size=16384, vocab_size=32000, num_experts=8, top_k=2,
                          **_mb_hf("mistralai/Mixtral-8x22B-v0.1", "mixtral")),
    "qwen2.5-7b": dict(_PRESET_LLAMA, num_layers=28, hidden_size=3584, num_attention_heads=28, num_kv_heads=4,
                       ffn_hidden_size=18944, vocab_size=152064, qkv_bias=True, sequence_length=32768,
                       **_mb_hf("Qwen/Qwen2.5-7B", "qwen2")),
    "qwen2.5-72b": dict(_PRESET_LLAMA, num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                        ffn_hidden_size=29568, vocab_size=152064, qkv_bias=True, sequence_length=32768,
                        **_mb_hf("Qwen/Qwen2.5-72B", "qwen2")),
    "qwen3-4b": dict(_PRESET_LLAMA, num_layers=36, hidden_size=2560, num_attention_heads=32, num_kv_heads=8,
                     head_dim=128, ffn_hidden_size=9728, vocab_size=151936, tied_embeddings=True, qk_norm="head",
                     **_mb_hf("Qwen/Qwen3-4B", "qwen3")),
    "qwen1.5-moe-a2.7b": dict(_PRESET_LLAMA, num_layers=24, hidden_size=2048, num_attention_heads=16,
                              ffn_hidden_size=5632, vocab_size=151936, qkv_bias=True, num_experts=60, top_k=4,
                              moe_ffn_hidden_size=1408, num_shared_experts=1, shared_expert_ffn_size=5632,
                              shared_expert_gate=True, **_mb_hf("Qwen/Qwen1.5-MoE-A2.7B", "qwen2_moe")),
    "gemma-2-2b": dict(_PRESET_GEMMA2, num_layers=26, hidden_size=2304, num_attention_heads=8, num_kv_heads=4,
                       head_dim=256, ffn_hidden_size=9216, layer_types=_mb_alternating(26),
                       sequence_length=8192, **_mb_hf("google/gemma-2-2b", "gemma2")),
    "gemma-2-9b": dict(_PRESET_GEMMA2, num_layers=42, hidden_size=3584, num_attention_heads=16, num_kv_heads=8,
                       head_dim=256, ffn_hidden_size=14336, layer_types=_mb_alternating(42), sequence_length=8192,
                       **_mb_hf("google/gemma-2-9b", "gemma2")),
    "gemma-2-27b": dict(_PRESET_GEMMA2, num_layers=46, hidden_size=4608, num_attention_heads=32, num_kv_heads=16,
                        head_dim=128, ffn_hidden_size=36864, layer_types=_mb_alternating(46),
                        sequence_length=8192, **_mb_hf("google/gemma-2-27b", "gemma2")),
    "deepseek-v2": dict(_PRESET_LLAMA, num_layers=60, hidden_size=5120, num_attention_heads=128, ffn_hidden_size=12288,
                        vocab_size=102400, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                        qk_rope_head_dim=64, v_head_dim=128, num_experts=160, top_k=6, moe_ffn_hidden_size=1536,
                        num_shared_experts=2, first_k_dense=1, expert_interval_phase=0,
                        sequence_length=4096, **_mb_hf("deepseek-ai/DeepSeek-V2", "deepseek_v2")),
    "deepseek-v3": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=128, ffn_hidden_size=18432,
                        vocab_size=129280, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                        qk_rope_head_dim=64, v_head_dim=128, num_experts=256, top_k=8, moe_ffn_hidden_size=2048,
                        num_shared_experts=1, first_k_dense=3, expert_interval_phase=0,
                        router_score_correction_bias=True, sequence_length=4096,
                        **dict(_mb_hf("deepseek-ai/DeepSeek-V3", "deepseek_v3"),
                               source="huggingface.co/deepseek-ai/DeepSeek-V3 config.json (main model; the params "
                                      "script's --mtp-layers 1 adds the MTP module)")),
    "gpt-oss-20b": dict(_PRESET_GPT_OSS, num_layers=24, num_experts=32, layer_types=_mb_alternating(24),
                        **_mb_hf("openai/gpt-oss-20b", "gpt_oss")),
    "gpt-oss-120b": dict(_PRESET_GPT_OSS, num_layers=36, num_experts=128, layer_types=_mb_alternating(36),
                         **_mb_hf("openai/gpt-oss-120b", "gpt_oss")),
    # Qwen3-Next-80B-A3B: 12 x (3 gated delta-net + 1 gated attention) layers, every one MoE (model card layout)
    "qwen3-next-80b-a3b": dict(_PRESET_LLAMA, num_layers=48, hidden_size=2048, num_attention_heads=16, num_kv_heads=2,
                               head_dim=256, ffn_hidden_size=5120, vocab_size=151936, qk_norm="head",
                               norm_fp32_scale=True, num_experts=512, top_k=10, moe_ffn_hidden_size=512,
                               num_shared_experts=1, shared_expert_ffn_size=512, shared_expert_gate=True,
                               mixer_types=tuple("linear" if (i + 1) % 4 else "attention" for i in range(48)),
                               linear_num_key_heads=16, linear_num_value_heads=32, linear_key_head_dim=128,
                               linear_value_head_dim=128, linear_conv_kernel=4, attn_output_gate=True,
                               **dict(_mb_hf("Qwen/Qwen3-Next-80B-A3B-Instruct", "qwen3_next"),
                                      gguf_arch="qwen3next")),
    # issue 10, branch families
    "kimi-k2": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=64, ffn_hidden_size=18432,
                    vocab_size=163840, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64,
                    v_head_dim=128, num_experts=384, top_k=8, moe_ffn_hidden_size=2048, num_shared_experts=1,
                    first_k_dense=1, expert_interval_phase=0, router_score_correction_bias=True,
                    **dict(_mb_hf("moonshotai/Kimi-K2-Instruct-0905", "kimi_k2"), gguf_arch="deepseek_v3")),
    "glm-4.5-air": dict(_PRESET_LLAMA, num_layers=46, hidden_size=4096, num_attention_heads=96, num_kv_heads=8,
                        head_dim=128, ffn_hidden_size=10944, vocab_size=151552, qkv_bias=True, num_experts=128,
                        top_k=8, moe_ffn_hidden_size=1408, num_shared_experts=1, first_k_dense=1,
                        expert_interval_phase=0, router_score_correction_bias=True,
                        **dict(_mb_hf("zai-org/GLM-4.5-Air", "glm4_moe"), gguf_arch="glm4moe")),
    "glm-4.6": dict(_PRESET_LLAMA, num_layers=92, hidden_size=5120, num_attention_heads=96, num_kv_heads=8,
                    head_dim=128, ffn_hidden_size=12288, vocab_size=151552, qkv_bias=True, qk_norm="head",
                    num_experts=160, top_k=8, moe_ffn_hidden_size=1536, num_shared_experts=1, first_k_dense=3,
                    expert_interval_phase=0, router_score_correction_bias=True,
                    **dict(_mb_hf("zai-org/GLM-4.6", "glm4_moe"), gguf_arch="glm4moe",
                           source="huggingface.co/zai-org/GLM-4.6 config.json (GLM-4.5's network; main model, the "
                                  "params script's --mtp-layers 1 adds the MTP module)")),
    "olmo-3-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=11008,
                      vocab_size=100278, qk_norm="full", norm_placement="post", norm_fp32_scale=True,
                      sliding_window=4096, layer_types=tuple("sliding" if (i + 1) % 4 else "full" for i in range(32)),
                      **_mb_hf("allenai/Olmo-3-1025-7B", "olmo3")),
    # issue 10: the late-2026 list's Qwen3 MoE, OLMo-2 and Phi-4 (each the published config.json the suite carries)
    "qwen3-30b-a3b": dict(_PRESET_LLAMA, num_layers=48, hidden_size=2048, num_attention_heads=32, num_kv_heads=4,
                          head_dim=128, ffn_hidden_size=6144, vocab_size=151936, qk_norm="head", num_experts=128,
                          top_k=8, moe_ffn_hidden_size=768, **_mb_hf("Qwen/Qwen3-30B-A3B", "qwen3_moe")),
    "olmo-2-7b": dict(_PRESET_LLAMA, num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=32,
                      ffn_hidden_size=11008, vocab_size=100352, norm_placement="post", qk_norm="full",
                      norm_fp32_scale=True, **_mb_hf("allenai/OLMo-2-1124-7B", "olmo2")),
    "phi-4-mini": dict(_PRESET_LLAMA, num_layers=32, hidden_size=3072, num_attention_heads=24, num_kv_heads=8,
                       ffn_hidden_size=8192, vocab_size=200064, fused_qkv=True, fused_gate_up=True,
                       tied_embeddings=True, sliding_window=262144,
                       **_mb_hf("microsoft/Phi-4-mini-instruct", "phi3")),
    # Llama 4 (the text model of the llama4 file): 48 layers, 16 routed experts top-1 + a shared one per MoE layer,
    # chunks of 8192 tokens on the RoPE layers, every 4th layer NoPE with full attention
    "llama-4-scout": dict(_PRESET_LLAMA4, num_experts=16, dense_layers=(), rope_freqs=True,
                          **dict(_mb_hf("meta-llama/Llama-4-Scout-17B-16E", "llama4_text"), gguf_arch="llama4")),
    # Maverick: 128 experts, MoE on the odd layers (interleave_moe_layer_step 2), dense 16384-wide MLPs between
    "llama-4-maverick": dict(_PRESET_LLAMA4, num_experts=128, dense_layers=tuple(range(0, 48, 2)),
                             **dict(_mb_hf("meta-llama/Llama-4-Maverick-17B-128E", "llama4_text"),
                                    gguf_arch="llama4")),
    # issue 10, branch qwen35 -- Qwen3.5 (the text model of the multimodal file): Qwen3-Next's 3 gated delta-net :
    # 1 gated attention layers with the delta-net projections split four ways; 27B dense, 397B-A17B every layer MoE
    "qwen3.5-27b": dict(_PRESET_LLAMA, num_layers=64, hidden_size=5120, num_attention_heads=24, num_kv_heads=4,
                        head_dim=256, ffn_hidden_size=17408, vocab_size=248320, qk_norm="head", norm_fp32_scale=True,
                        mixer_types=tuple("linear" if (i + 1) % 4 else "attention" for i in range(64)),
                        linear_num_key_heads=16, linear_num_value_heads=48, linear_key_head_dim=128,
                        linear_value_head_dim=128, linear_conv_kernel=4, attn_output_gate=True,
                        linear_proj_split=True,
                        **dict(_mb_hf("Qwen/Qwen3.5-27B", "qwen3_5_text"), gguf_arch="qwen35")),
    "qwen3.5-397b-a17b": dict(_PRESET_LLAMA, num_layers=60, hidden_size=4096, num_attention_heads=32, num_kv_heads=2,
                              head_dim=256, ffn_hidden_size=1024, vocab_size=248320, qk_norm="head",
                              norm_fp32_scale=True, num_experts=512, top_k=10, moe_ffn_hidden_size=1024,
                              num_shared_experts=1, shared_expert_ffn_size=1024, shared_expert_gate=True,
                              mixer_types=tuple("linear" if (i + 1) % 4 else "attention" for i in range(60)),
                              linear_num_key_heads=16, linear_num_value_heads=64, linear_key_head_dim=128,
                              linear_value_head_dim=128, linear_conv_kernel=4, attn_output_gate=True,
                              linear_proj_split=True,
                              **dict(_mb_hf("Qwen/Qwen3.5-397B-A17B", "qwen3_5_moe_text"), gguf_arch="qwen35moe")),
    # issue 10, branch gemma -- Gemma 3 27B: the language model of google/gemma-3-27b-it's gemma3 wrapper (its
    # text_config, vocab_size left to Gemma3TextConfig's 262,208): 62 layers, 5 sliding (window 1024) : 1 full, 32
    # query / 16 KV heads of 128, q/k RMSNorm over head_dim, sandwich norms, tied head; pre-trained on 32K sequences
    # before the RoPE rescaling to 128K (Gemma 3 report, arXiv:2503.19786, "Long context")
    "gemma-3-27b": dict(_PRESET_LLAMA, num_layers=62, hidden_size=5376, num_attention_heads=32, num_kv_heads=16,
                        head_dim=128, ffn_hidden_size=21504, vocab_size=262208, tied_embeddings=True, norms_per_layer=4,
                        qk_norm="head", norm_fp32_scale=True, sliding_window=1024,
                        layer_types=tuple("sliding" if (i + 1) % 6 else "full" for i in range(62)),
                        sequence_length=32768,
                        **dict(_mb_hf("google/gemma-3-27b-it", "gemma3_text"), gguf_arch="gemma3",
                               source="huggingface.co/google/gemma-3-27b-it config.json (text_config: the language "
                                      "model; the SigLIP vision tower is not counted)")),
    # issue 10, branch gemma4 -- Gemma 4 (the text_config of the published config.json; tests/test_params_torch.py
    # REAL_CONFIGS cites its copies): 5 sliding layers (16 KV heads of 256, window 1024) : 1 full layer (4 KV heads of
    # 512, K=V without v_proj), tied 262,144-token table; the 26B A4B adds 128 experts of 704 (top-8) beside every
    # layer's dense MLP.  No PLE or KV sharing in these two (the E2B / E4B have both: read their config.json).
    "gemma-4-31b": dict(_PRESET_LLAMA, num_layers=60, hidden_size=5376, num_attention_heads=32, num_kv_heads=4,
                        head_dim=512, ffn_hidden_size=21504, vocab_size=262144, tied_embeddings=True, norms_per_layer=4,
                        qk_norm="head", norm_fp32_scale=True, sliding_window=1024,
                        layer_types=tuple("sliding" if (i + 1) % 6 else "full" for i in range(60)),
                        sliding_kv_heads=16, sliding_head_dim=256, full_k_eq_v=True,
                        **dict(_mb_hf("google/gemma-4-31B-it", "gemma4_text"), gguf_arch="gemma4",
                               source="huggingface.co/google/gemma-4-31B-it config.json (text_config: the language "
                                      "model; the vision tower is not counted)")),
    "gemma-4-26b-a4b": dict(_PRESET_LLAMA, num_layers=30, hidden_size=2816, num_attention_heads=16, num_kv_heads=2,
                            head_dim=512, ffn_hidden_size=2112, vocab_size=262144, tied_embeddings=True,
                            norms_per_layer=4, qk_norm="head", norm_fp32_scale=True, sliding_window=1024,
                            layer_types=tuple("sliding" if (i + 1) % 6 else "full" for i in range(30)),
                            sliding_kv_heads=8, sliding_head_dim=256, full_k_eq_v=True, num_experts=128, top_k=8,
                            moe_ffn_hidden_size=704, moe_beside_mlp=True,
                            **dict(_mb_hf("google/gemma-4-26B-A4B-it", "gemma4_text"), gguf_arch="gemma4",
                                   source="huggingface.co/google/gemma-4-26B-A4B-it config.json (text_config: the "
                                          "language model; the vision tower is not counted)")),
    # issue 10, branch dsa: DeepSeek Sparse Attention (a lightning indexer in every layer, top-2048 keys per query)
    "deepseek-v3.2": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=128,
                          ffn_hidden_size=18432, vocab_size=129280, q_lora_rank=1536, kv_lora_rank=512,
                          qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, num_experts=256, top_k=8,
                          moe_ffn_hidden_size=2048, num_shared_experts=1, dense_layers=(0, 1, 2),
                          expert_interval_phase=0, router_score_correction_bias=True, index_n_heads=64,
                          index_head_dim=128, index_topk=2048,
                          **dict(_mb_hf("deepseek-ai/DeepSeek-V3.2", "deepseek_v32"),
                                 source="huggingface.co/deepseek-ai/DeepSeek-V3.2 config.json (main model; the params "
                                        "script's --mtp-layers 1 adds the MTP module)")),
    "glm-5": dict(_PRESET_LLAMA, num_layers=78, hidden_size=6144, num_attention_heads=64, ffn_hidden_size=12288,
                  vocab_size=154880, q_lora_rank=2048, kv_lora_rank=512, qk_nope_head_dim=192, qk_rope_head_dim=64,
                  v_head_dim=256, num_experts=256, top_k=8, moe_ffn_hidden_size=2048, num_shared_experts=1,
                  dense_layers=(0, 1, 2), expert_interval_phase=0, router_score_correction_bias=True,
                  index_n_heads=32, index_head_dim=128, index_topk=2048,
                  **dict(_mb_hf("zai-org/GLM-5", "glm_moe_dsa"),
                         source="huggingface.co/zai-org/GLM-5 config.json (main model; the params script's "
                                "--mtp-layers 1 adds the MTP module)")),
    # issue 10, branch moefams -- MiniMax-M2 (its config.json: 62 layers, 48 heads / 8 KV heads of 128, every layer
    # MoE with 256 experts of 1536 top-8, sigmoid router with its correction bias, q/k RMSNorm over the whole
    # projection, untied head; the 3 MTP modules are not counted, as transformers does not build them)
    "minimax-m2": dict(_PRESET_LLAMA, num_layers=62, hidden_size=3072, num_attention_heads=48, num_kv_heads=8,
                       head_dim=128, ffn_hidden_size=1536, vocab_size=200064, qk_norm="full", num_experts=256, top_k=8,
                       router_score_correction_bias=True,
                       **dict(_mb_hf("MiniMaxAI/MiniMax-M2", "minimax_m2"), gguf_arch="minimax-m2",
                              source="huggingface.co/MiniMaxAI/MiniMax-M2 config.json (main model; its 3 MTP modules "
                                     "are not counted)")),
    # Mistral Small 3 (24B, January 2025): a plain Mistral decoder (GQA 32/8 heads of 128, no sliding window, untied
    # 131,072-token head). Its params.json (dim 5120, n_layers 40, head_dim 128, hidden_dim 32768, n_heads 32,
    # n_kv_heads 8, vocab_size 131072) and model.safetensors.index.json (total_size 47,144,806,400 B of bf16 =
    # 23,572,403,200 parameters) as stored in OpenMOSE/RWKV-LM-RLHF main/tokenizer/mistralsmall3/
    "mistral-small-24b": dict(_PRESET_LLAMA, num_layers=40, hidden_size=5120, num_attention_heads=32, num_kv_heads=8,
                              head_dim=128, ffn_hidden_size=32768, vocab_size=131072,
                              **dict(_mb_hf("mistralai/Mistral-Small-24B-Instruct-2501", "mistral"),
                                     source="huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501 params.json and "
                                            "model.safetensors.index.json (23,572,403,200 bf16 parameters)")),
    # Phi-4 (14B): phi3 with fused qkv and gate_up, GQA 40/10, untied 100,352-token head, no sliding window
    "phi-4": dict(_PRESET_LLAMA, num_layers=40, hidden_size=5120, num_attention_heads=40, num_kv_heads=10,
                  ffn_hidden_size=17920, vocab_size=100352, fused_qkv=True, fused_gate_up=True,
                  **_mb_hf("microsoft/phi-4", "phi3")),
    # DeepSeek-V3.1 (August 2025): its model card -- "post-trained on the top of DeepSeek-V3.1-Base, which is built
    # upon the original V3 base checkpoint", 671B total / 37B activated like V3 -- and its config.json
    # (DeepseekV3ForCausalLM) keep V3's shapes; only the chat template and the long-context training differ.
    "deepseek-v3.1": dict(_PRESET_LLAMA, num_layers=61, hidden_size=7168, num_attention_heads=128,
                          ffn_hidden_size=18432, vocab_size=129280, q_lora_rank=1536, kv_lora_rank=512,
                          qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, num_experts=256, top_k=8,
                          moe_ffn_hidden_size=2048, num_shared_experts=1, first_k_dense=3, expert_interval_phase=0,
                          router_score_correction_bias=True, sequence_length=4096,
                          **dict(_mb_hf("deepseek-ai/DeepSeek-V3.1", "deepseek_v3"),
                                 source="huggingface.co/deepseek-ai/DeepSeek-V3.1 model card (V3's architecture: "
                                        "671B total, 37B activated; main model, the params script's --mtp-layers 1 "
                                        "adds the MTP module)")),
}


def preset_model(name: str) -> Model:
    """The Model of a preset (its source in .source); InputError naming --preset when unknown."""
    key = str(name).strip().lower()  # Llama-3-8B and llama-3-8b are one preset
    if key not in MODEL_PRESETS:
        raise InputError(f"--preset {name!r} is not known; --list-presets shows the {len(MODEL_PRESETS)} names")
    name = key
    values = dict(MODEL_PRESETS[name])
    values.pop("sequence_length", None)
    return Model(name=name, **values)


def preset_sequence_length(name: str, default: int = 2048) -> int:
    """The length a preset's model was pre-trained at, where its table entry says (else `default`)."""
    return MODEL_PRESETS.get(str(name).strip().lower(), {}).get("sequence_length", default)


# --------------------------------------------------------------------------------------------------------------
# config.json: the one reader, and which model types it knows
# --------------------------------------------------------------------------------------------------------------
# Every model type read exactly, with what is special about it (the README's table of supported model types is this
# table); each is checked against PyTorch on a published config.json in tests/test_params_torch.py and friends.
SUPPORTED_MODEL_TYPES = {
    "gpt2": "learned positions, fused biased c_attn, LayerNorm, tied head",
    "gptj": "parallel block with one LayerNorm, biased MLP and LM head, no attention biases",
    "gpt_neox": "fused query_key_value, attention_bias, untied head (Pythia)",
    "opt": "learned positions with offset 2, project_in/out when word_embed_proj_dim differs, optional final norm",
    "bloom": "ALiBi, fused biased query_key_value, embedding LayerNorm, FFN 4h",
    "falcon": "multi-query (7B) or grouped KV (40B/180B), parallel block with one or two norms",
    "llama": "the reference block: RMSNorm, SwiGLU, GQA; attention_bias and mlp_bias read",
    "mistral": "Llama block with a sliding window",
    "mixtral": "every layer MoE: 8 experts, top-2",
    "qwen2": "biased q/k/v, windows from max_window_layers when use_sliding_window",
    "qwen2_moe": "MoE with a gated shared expert, decoder_sparse_step, mlp_only_layers",
    "qwen3": "q/k RMSNorm over head_dim, head_dim 128 by default",
    "qwen3_moe": "q/k norms, MoE with decoder_sparse_step and mlp_only_layers",
    "gemma": "head_dim 256 by default, tied head, GeGLU",
    "gemma2": "sandwich norms (4 per layer), alternating sliding / full layers, soft-capping",
    "phi": "Phi-2: parallel block with one LayerNorm, biases everywhere including the LM head",
    "phi3": "fused qkv_proj and gate_up_proj",
    "olmo": "LayerNorm without parameters",
    "olmo2": "post-norms, q/k RMSNorm over the whole projection",
    "starcoder2": "LayerNorm, plain MLP, use_bias on every linear",
    "deepseek_v2": "MLA (optional q-LoRA), routed + shared experts, dense first layers",
    "deepseek_v3": "MLA, 256 experts + 1 shared, router score-correction bias (a buffer), MTP modules optional",
    "granite": "the Llama block; its embedding, attention, residual and logits multipliers are scalars (no parameter, "
               "no matmul)",
    "gemma3_text": "sandwich norms (4 per layer), q/k RMSNorm over head_dim, 5 sliding : 1 full layers "
                   "(sliding_window_pattern or layer_types), head_dim 256 and a tied head by default",
    "gpt_oss": "every layer MoE: experts and router with biases, a learned attention sink per head (no matmul), "
               "biased q/k/v/o, sliding (128) and full layers alternating",
    "qwen3_next": "3 gated delta-net : 1 gated-attention layers (full_attention_interval or layer_types), q_proj "
                  "emits an output gate, q/k RMSNorm, 512 experts top-10 with a sigmoid-gated shared expert",
    # issue 10, branch families
    "kimi_k2": "Kimi-K2: read as its architectures say, a DeepSeek-V3 network (MLA, 384 experts + 1 shared)",
    "glm4_moe": "GLM-4.5/4.6: GQA with biased q/k/v (unbiased o), optional q/k RMSNorm, dense first layers, routed + "
                "shared experts, router score-correction bias (a buffer), MTP modules optional",
    "olmo3": "the OLMo-2 block (post-norms, q/k RMSNorm over the whole projection) with 3 sliding : 1 full layers "
             "(layer_types; window 4096 by default)",
    "seed_oss": "the Llama block with q/k/v biases (attention_bias, on by default), o_proj bias (attention_out_bias) "
                "and mlp_bias; head_dim 128 and 8 KV heads by default",
    "olmoe": "every layer MoE (64 experts of intermediate_size, top-8 by default, no shared expert), q/k RMSNorm over "
             "the whole projection",
    "cohere": "parallel block with one LayerNorm without bias, optional q/k LayerNorm per head (use_qk_norm), logit "
              "scale (a scalar), tied head by default",
    "cohere2": "the Cohere block with 3 sliding : 1 full layers (sliding_window_pattern or layer_types), head_dim "
               "hidden / heads",
    "nemotron": "plain MLP (up, relu^2, down; no gate), LayerNorm1P with bias, attention_bias and mlp_bias",
    # issue 10, branch families2
    "smollm3": "the Llama block with NoPE layers (no_rope_layers or every no_rope_layer_interval-th: no count "
               "changes), attention_bias and mlp_bias, 4 KV heads and a tied head by default",
    "granitemoe": "Granite's multipliers (scalars) on a Mixtral-style block: every layer MoE, a bias-free router, "
                  "experts of intermediate_size (8, top-2 by default), attention_bias",
    "phimoe": "Phi-3.5-MoE: LayerNorm with bias, attention_bias and lm_head_bias, every layer MoE (16 experts of "
              "intermediate_size, top-2, bias-free router), a window on every layer when sliding_window is set",
    "dbrx": "DBRX: nested attn_config / ffn_config read, fused Wqkv without biases, clip_qkv (a clamp), bias-free "
            "LayerNorm, every layer MoE (experts stored fused as w1, v1, w2), untied head",
    "stablelm": "StableLM: LayerNorm with bias, q/k/v biased by use_qkv_bias, partial rotary (no count), "
                "use_parallel_residual (one LayerNorm), qk_layernorm (a bias-free LayerNorm per head)",
    # Llama 4 Scout / Maverick (issue 10)
    "llama4": "the Llama 4 wrapper: its text_config is read (AutoModelForCausalLM builds Llama4ForCausalLM from it; "
              "the vision tower is not part of that model)",
    "llama4_text": "MoE layers (moe_layers or every interleave_moe_layer_step-th) of routed experts + one shared expert, "
                   "dense layers of intermediate_size_mlp, chunked attention (attention_chunk_size) on the RoPE "
                   "layers and full attention on the NoPE ones (no_rope_layers), a weightless q/k L2 norm",
    # Qwen3.5 (issue 10, branch qwen35)
    "qwen3_5": "the Qwen3.5 wrapper: its text_config is read (AutoModelForCausalLM builds Qwen3_5ForCausalLM from it; "
               "no vision tower, no MTP layer)",
    "qwen3_5_text": "Qwen3-Next's 3 gated delta-net : 1 gated-attention layers (in_proj_qkv / _z / _b / _a), a dense "
                    "SwiGLU MLP in every layer, 4 KV heads of 256 by default",
    "qwen3_5_moe": "the Qwen3.5-MoE wrapper: its text_config is read (Qwen3_5MoeForCausalLM; no vision tower, no MTP "
                   "layer)",
    "qwen3_5_moe_text": "Qwen3-Next's 3 gated delta-net : 1 gated-attention layers (in_proj_qkv / _z / _b / _a), every "
                        "layer MoE (256 experts top-8 by default) with a sigmoid-gated shared expert",
    # Gemma 3 (issue 10, branch gemma)
    "gemma3": "the Gemma 3 multimodal wrapper: its text_config is read as gemma3_text and the head is tied as the "
              "wrapper's tie_word_embeddings says; AutoModelForCausalLM builds Gemma3ForConditionalGeneration, whose "
              "SigLIP vision tower and projector a note counts apart",
    # issue 10, branch dsa: DeepSeek Sparse Attention
    "deepseek_v32": "DeepSeek-V3.2: DeepSeek-V3's network (MLA with q-LoRA, 256 experts + 1 shared, dense first layers) "
                    "with a DSA lightning indexer in every layer (its keys cached beside the latent), top-k keys per "
                    "query",
    "glm_moe_dsa": "GLM-5: MLA with q-LoRA and a DSA lightning indexer in every layer, dense first layers "
                   "(mlp_layer_types), 256 experts + 1 shared with a score-correction bias; shared-index layers "
                   "(GLM-5.2's indexer_types) refused",
    # issue 10, branch mamba
    "bamba": "Mamba-2 mixers (attn_layer_indices name the attention layers; mamba_n_heads x mamba_d_head wide, "
             "mamba_n_groups groups of B and C of mamba_d_state, conv kernel mamba_d_conv) beside Llama attention, "
             "a SwiGLU MLP in every layer",
    # issue 10, branch moefams
    "minimax_m2": "MiniMax-M2: every layer MoE (256 experts of intermediate_size, top-8 by default, no shared expert) "
                  "behind a sigmoid router with a score-correction bias (a buffer), q/k RMSNorm over the whole "
                  "projection, no biases, full attention on every layer; its MTP modules not built (a note)",
    "dots1": "dots.llm1: GQA with q/k RMSNorm over head_dim, q/k/v/o biased by attention_bias, dense first layers, "
             "routed experts + shared experts (n_shared_experts x moe_intermediate_size wide) behind a sigmoid router "
             "with a score-correction bias (a buffer), sliding layers from max_window_layers or layer_types",
    "exaone4": "EXAONE 4.0: post-norms only (after attention and after the MLP, as OLMo-2), q/k RMSNorm over head_dim, "
               "no biases, 3 sliding : 1 full layers (sliding_window_pattern or layer_types; NoPE on the full "
               "layers: no count changes)",
    # issue 10, branch mimo
    "mimo_v2_flash": "MiMo-V2-Flash: full layers (first and every 6th, or layer_types) beside sliding ones with twice "
                     "the KV heads and a sink per head, values narrower than queries/keys (v_head_dim), a dense first "
                     "MLP then 256 experts top-8 (sigmoid router, no shared expert); the hub's own layer fields "
                     "checked against what transformers builds",
    # issue 10, branch hybrid
    "falcon_h1": "Falcon-H1: a Mamba-2 mixer (mamba_d_ssm wide, gated RMSNorm only with mamba_rms_norm, out_proj "
                 "biased by projectors_bias) beside GQA attention in every layer on one RMSNorm, then a SwiGLU MLP; "
                 "the muP multipliers scale activations only",
    "nemotron_h": "Nemotron-H: one block per layer behind one RMSNorm, as layers_block_type or "
                  "hybrid_override_pattern says: a Mamba-2 mixer (M), attention without rotary or biases (*), a "
                  "relu^2 MLP without gate (-) or an MoE of ungated experts and one shared MLP (E); untied head",
    "lfm2": "LFM2: short-convolution layers (in_proj to B, C, x; a depthwise causal conv of conv_L_cache taps; "
            "out_proj) beside GQA attention layers with q/k RMSNorm (layer_types or full_attn_idxs), a SwiGLU of "
            "the adjusted block_ff_dim, a tied head by default",
    # issue 10, branch gemma4
    "gemma4_text": "Gemma 4: Gemma 3's block with per-layer attention shapes (full layers: global_head_dim, "
                   "num_global_key_value_heads and K=V without v_proj under attention_k_eq_v), KV-shared last layers "
                   "without k/v projections or cache (num_kv_shared_layers; use_double_wide_mlp doubles their MLP), "
                   "per-layer input embeddings (PLE: a looked-up table, a projection, a gate per layer) and an MoE "
                   "block beside the dense MLP (enable_moe_block)",
    "gemma4": "the Gemma 4 multimodal wrapper: its text_config is read as gemma4_text and the head is tied as the "
              "wrapper's tie_word_embeddings says; AutoModelForCausalLM builds Gemma4ForConditionalGeneration, whose "
              "vision / audio towers and embedders a note names and does not count",
    # issue 10, branch jamba
    "jamba": "Jamba: Mamba-1 mixers (mamba_expand x hidden wide, state mamba_d_state, dt rank mamba_dt_rank, RMSNorms "
             "on dt, B and C) beside attention without positions every attn_layer_period-th layer from "
             "attn_layer_offset; MoE (num_experts top-num_experts_per_tok, softmax router) every expert_layer_period-th "
             "layer from expert_layer_offset, a SwiGLU MLP elsewhere",
    "ernie4_5_moe": "ERNIE 4.5 MoE: MoE layers from moe_layer_start_index to moe_layer_end_index every "
                    "moe_layer_interval-th (routed experts of moe_intermediate_size top-moe_k beside "
                    "moe_num_shared_experts shared ones), dense SwiGLU elsewhere; an fp32 router and a frozen fp32 "
                    "score-correction parameter (moe_statics); use_bias on every Linear including the LM head; a tied "
                    "head by default",
    "hunyuan_v1_moe": "Hunyuan-A13B: every layer MoE (num_experts of intermediate_size, top-moe_topk, a softmax router "
                      "held in fp32) beside one shared SwiGLU of intermediate_size, q/k RMSNorm over head_dim "
                      "(which the file must give), attention_bias on q/k/v/o; the Hub file's per-layer lists accepted "
                      "where transformers builds what they say",
}
# Model types people run this year that are NOT modelled yet: what the reader would miss.  A config of one of these
# is refused (even with --generic), never read as a Llama.
NOT_YET_MODELLED = {
    # (none left of issue 10's list: gemma4 / gemma4_text landed on branch gemma4.)  The mechanism stays: a type
    # named here is refused by the reader, even with --generic.
}
# Fields that change no parameter, FLOP or byte this block describes (token ids, epsilons, initialisation, rope
# scaling, dropout rates, router loss weights, runtime switches): read quietly.
HARMLESS_FIELDS = frozenset("""
_name_or_path name_or_path architectures auto_map model_type torch_dtype dtype transformers_version bos_token_id
eos_token_id pad_token_id sep_token_id unk_token_id decoder_start_token_id bos_token eos_token initializer_range
init_std layer_norm_eps layer_norm_epsilon rms_norm_eps norm_epsilon norm_eps use_cache attention_dropout
attn_pdrop embd_pdrop resid_pdrop resid_dropout hidden_dropout dropout activation_dropout residual_dropout
embedding_dropout embed_dropout classifier_dropout attention_probs_dropout_prob hidden_dropout_prob
summary_type summary_use_proj summary_activation summary_proj_to_labels summary_first_dropout hidden_act
activation_function hidden_activation activation rope_theta rope_scaling rope_parameters rope_interleave rope_type
rotary_emb_base rotary_pct rope_pct partial_rotary_factor rotary_dim original_max_position_embeddings
max_position_embeddings n_positions n_ctx max_seq_len pretraining_sequence_length use_sliding_window
max_window_layers sliding_window_pattern attn_logit_softcapping final_logit_softcapping
query_pre_attn_scalar output_router_logits router_aux_loss_coef router_jitter_noise router_z_loss_coef
norm_topk_prob routed_scaling_factor topk_method n_group topk_group scoring_func aux_loss_alpha seq_aux ep_size
use_parallel_residual pretraining_tp clip_qkv scale_attn_weights scale_attn_by_inverse_layer_idx
reorder_and_upcast_attn apply_residual_connection_post_layernorm slow_but_exact is_decoder is_encoder_decoder
tie_encoder_decoder return_dict use_return_dict output_attentions output_hidden_states id2label label2id
problem_type chunk_size_feed_forward layerdrop prefix torchscript
task_specific_params tokenizer_class quantization_config cache_implementation attn_implementation
qk_layernorm_eps num_nextn_predict_layers offset_alibi masked_softmax_fusion
attention_softmax_in_fp32 bias_dropout_fusion skip_bias_add skip_bias_add_qkv use_mrope
scale_attention_softmax_in_fp32 n_special interpolate_factor
""".split())


class _MBFields:
    """Typed reads from a config.json dict; remembers every field read, so the rest can be judged."""

    def __init__(self, raw: dict, where: str):
        self.raw, self.where, self.used = raw, where, set()

    def get(self, *keys):
        for key in keys:
            if key in self.raw:
                self.used.add(key)
                if self.raw[key] is not None:
                    return key, self.raw[key]
        self.used.update(k for k in keys if k in self.raw)
        return keys[0], None

    def int(self, *keys, default=None, minimum=1):
        key, value = self.get(*keys)
        if value is None:
            if default is None:
                raise InputError(f"{self.where}: field '{keys[0]}' is missing (expected an integer >= {minimum})")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InputError(f"{self.where}: field '{key}' must be an integer >= {minimum}, got {value!r:.60}")
        if value > MODEL_MAX_WIDTH:
            raise InputError(f"{self.where}: field '{key}' {value} is beyond {MODEL_MAX_WIDTH:.0e}")
        return value

    def flag(self, key, default: bool) -> bool:
        _, value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InputError(f"{self.where}: field '{key}' must be true or false, got {value!r:.60}")
        return value

    def number(self, key, default: float = 0.0) -> float:
        _, value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or \
                value in (float("inf"), float("-inf")):
            raise InputError(f"{self.where}: field '{key}' must be a number, got {value!r:.60}")
        return float(value)

    def text(self, *keys, default: str = "") -> str:
        key, value = self.get(*keys)
        if value is None:
            return default
        if not isinstance(value, str):
            raise InputError(f"{self.where}: field '{key}' must be a string, got {value!r:.60}")
        return value

    def absent(self, *keys) -> bool:
        """None of keys is in the file (an explicit null is present: some classes read null and absent apart)."""
        return not any(key in self.raw for key in keys)

    def expect(self, key, value, model_type: str) -> None:
        """A field the model class does not read: fine when absent or equal to what the class builds anyway."""
        _, found = self.get(key)
        if found is not None and (found != value or type(found) is not type(value)):
            raise InputError(f"{self.where}: field '{key}' {found!r:.40} is not modelled for model_type "
                             f"'{model_type}' (only {value!r}); refusing rather than guessing")

    def layer_list(self, key) -> tuple:
        _, value = self.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value):
            raise InputError(f"{self.where}: field '{key}' must be a list of layer indices, got {value!r:.60}")
        return tuple(sorted(set(value)))


# For error messages about a config file: the config fields that can set each Model field (the first present wins).
CONFIG_FIELDS_OF = {
    "num_layers": ("num_hidden_layers", "n_layer"), "hidden_size": ("hidden_size", "n_embd", "n_embed"),
    "num_attention_heads": ("num_attention_heads", "n_head"), "vocab_size": ("vocab_size",),
    "ffn_hidden_size": ("intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size"),
    "num_kv_heads": ("num_key_value_heads", "num_kv_heads", "n_head_kv"), "head_dim": ("head_dim",),
    "num_experts": ("num_experts", "num_local_experts", "n_routed_experts"), "top_k": ("num_experts_per_tok",),
    "moe_ffn_hidden_size": ("moe_intermediate_size",), "first_k_dense": ("first_k_dense_replace",),
    "dense_layers": ("mlp_only_layers",), "expert_interval": ("decoder_sparse_step", "moe_layer_freq"),
    "kv_lora_rank": ("kv_lora_rank",), "q_lora_rank": ("q_lora_rank",), "qk_nope_head_dim": ("qk_nope_head_dim",),
    "qk_rope_head_dim": ("qk_rope_head_dim",), "v_head_dim": ("v_head_dim",),
    "num_shared_experts": ("n_shared_experts",), "shared_expert_ffn_size": ("shared_expert_intermediate_size",),
    "word_embed_proj_dim": ("word_embed_proj_dim",), "sliding_window": ("sliding_window",),
    "max_position_embeddings": ("n_positions", "max_position_embeddings"),
    "linear_num_key_heads": ("linear_num_key_heads",), "linear_num_value_heads": ("linear_num_value_heads",),
    "linear_key_head_dim": ("linear_key_head_dim",), "linear_value_head_dim": ("linear_value_head_dim",),
    "linear_conv_kernel": ("linear_conv_kernel_dim",), "mixer_types": ("layer_types", "full_attention_interval"),
    "index_n_heads": ("index_n_heads",), "index_head_dim": ("index_head_dim",), "index_topk": ("index_topk",),
    "sliding_kv_heads": ("swa_num_key_value_heads", "num_key_value_heads"),
    "short_conv_kernel": ("conv_L_cache",),
}
CONFIG_FIELDS_OF.update({  # issue 10, branch jamba: Jamba's Mamba-1 fields
    "mamba1_inner": ("mamba_expand",), "mamba_dt_rank": ("mamba_dt_rank",),
    "expert_interval": ("expert_layer_period", "decoder_sparse_step", "moe_layer_freq", "moe_layer_interval"),
    "top_k": ("num_experts_per_tok", "moe_k", "moe_topk"),  # ERNIE 4.5 and Hunyuan name them their own way
    "num_experts": ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts"),
    "moe_ffn_hidden_size": ("moe_intermediate_size",), "first_k_dense": ("first_k_dense_replace", "moe_layer_start_index"),
})
CONFIG_FIELDS_OF.update({  # issue 10, branch gemma4: Gemma4TextConfig's fields
    "sliding_head_dim": ("head_dim",), "kv_shared_layers": ("num_kv_shared_layers",),
    "per_layer_input_size": ("hidden_size_per_layer_input",), "per_layer_vocab": ("vocab_size_per_layer_input",),
    "moe_beside_mlp": ("enable_moe_block",),
})
CONFIG_FIELDS_OF["top_k"] += ("top_k_experts",)
CONFIG_FIELDS_OF["head_dim"] += ("global_head_dim",)
CONFIG_FIELDS_OF["num_kv_heads"] += ("num_global_key_value_heads",)
CONFIG_FIELDS_OF.update({  # issue 10, branch mamba: Bamba's Mamba-2 fields
    "mamba_num_heads": ("mamba_n_heads",), "mamba_head_dim": ("mamba_d_head",), "mamba_n_groups": ("mamba_n_groups",),
    "mamba_d_state": ("mamba_d_state",), "mamba_d_conv": ("mamba_d_conv",), "mamba_chunk_size": ("mamba_chunk_size",),
})
for _field, _names in {"mamba_num_heads": "mamba_num_heads", "mamba_head_dim": "mamba_head_dim",  # branch hybrid:
                       "mamba_n_groups": "n_groups", "mamba_d_state": "ssm_state_size",  # Nemotron-H's names
                       "mamba_d_conv": "conv_kernel", "mamba_chunk_size": "chunk_size"}.items():
    CONFIG_FIELDS_OF[_field] += (_names,)
_MB_TIED_BY_DEFAULT = {"gpt2", "bloom", "opt", "falcon", "gemma", "gemma2", "gemma3_text", "starcoder2"}
_MB_HEAD_DIM_DEFAULT = {"gemma": 256, "gemma2": 256, "gemma3_text": 256, "qwen3": 128, "qwen3_next": 256}
# What a config class builds when the file leaves a field out, where that is not the generic rule (KV heads = query
# heads, no window, no experts): transformers 5.23 configuration_<model_type>.py signature defaults.  An explicit
# null is the generic rule where the class takes it (Llama, Qwen2/3, Phi-3, OLMo-2: `if num_key_value_heads is None:
# ... = heads`); the other classes here reject a null KV-head count, and so does the reader.
_MB_CLASS_DEFAULTS = {
    "mistral": {"num_key_value_heads": 8, "sliding_window": 4096}, "mixtral": {"num_key_value_heads": 8},
    "qwen2": {"num_key_value_heads": 32}, "qwen3": {"num_key_value_heads": 32},
    "qwen2_moe": {"num_key_value_heads": 16, "num_experts": 60, "moe_intermediate_size": 1408},
    "qwen3_moe": {"num_key_value_heads": 4, "num_experts": 128, "moe_intermediate_size": 768},
    "gemma": {"num_key_value_heads": 16}, "gemma2": {"num_key_value_heads": 4, "sliding_window": 4096},
    "gemma3_text": {"num_key_value_heads": 4, "sliding_window": 4096},
    "gpt_oss": {"num_key_value_heads": 8, "sliding_window": 128},
    "qwen3_next": {"num_key_value_heads": 2},
    "starcoder2": {"num_key_value_heads": 2},
}
# activation_function / hidden_act when the config omits it (GPT2Config, GPTJConfig, OPTConfig, PhiConfig)
_MB_ACTIVATION_DEFAULT = {"gpt2": "gelu_new", "gptj": "gelu_new", "opt": "relu", "phi": "gelu_new"}
# issue 10, branch families: transformers 5.23 class defaults of the families added there
_MB_CLASS_DEFAULTS.update({"glm4_moe": {"num_key_value_heads": 8, "n_routed_experts": 128,
                                        "moe_intermediate_size": 1408}})
_MB_CLASS_DEFAULTS.update({"olmo3": {"sliding_window": 4096}, "cohere2": {"sliding_window": 4096}})
_MB_TIED_BY_DEFAULT |= {"cohere", "cohere2"}  # CohereConfig / Cohere2Config: tie_word_embeddings=True
# issue 10, branch families2
_MB_TIED_BY_DEFAULT |= {"smollm3"}  # SmolLM3Config: tie_word_embeddings=True
_MB_TIED_BY_DEFAULT |= {"lfm2"}  # Lfm2Config: tie_word_embeddings=True (issue 10, branch mimo)
_MB_TIED_BY_DEFAULT |= {"gemma4_text"}  # Gemma4TextConfig: tie_word_embeddings=True (issue 10, branch gemma4)
_MB_TIED_BY_DEFAULT |= {"ernie4_5_moe"}  # Ernie4_5_MoeConfig: tie_word_embeddings=True (issue 10, branch jamba)
# Llama4TextConfig (transformers 5.23): 8 KV heads and head_dim 128 when the file leaves them out
_MB_CLASS_DEFAULTS.update({"llama4": {"num_key_value_heads": 8}, "llama4_text": {"num_key_value_heads": 8}})
_MB_HEAD_DIM_DEFAULT.update({"llama4": 128, "llama4_text": 128})
# issue 10, branch qwen35: Qwen3_5TextConfig / Qwen3_5MoeTextConfig (transformers 5.23) defaults
_MB_CLASS_DEFAULTS.update({"qwen3_5": {"num_key_value_heads": 4}, "qwen3_5_text": {"num_key_value_heads": 4},
                           "qwen3_5_moe": {"num_key_value_heads": 2}, "qwen3_5_moe_text": {"num_key_value_heads": 2}})
_MB_HEAD_DIM_DEFAULT.update({"qwen3_5": 256, "qwen3_5_text": 256, "qwen3_5_moe": 256, "qwen3_5_moe_text": 256})
# issue 10, branch gemma -- Gemma3TextConfig (transformers 5.23 configuration_gemma3.py) builds these sizes when the file
# leaves them out; the published wrappers' text_config omit vocab_size (google/gemma-3-27b-it: 262,208 rows)
_MB_SIZE_DEFAULTS = {"gemma3_text": {"vocab_size": 262_208, "hidden_size": 2304, "intermediate_size": 9216,
                                     "num_hidden_layers": 26, "num_attention_heads": 8}}
# issue 10, branch mamba: BambaConfig's 8 KV heads (an explicit null: as many as query heads)
_MB_CLASS_DEFAULTS.update({"bamba": {"num_key_value_heads": 8}})
# issue 10, branch moefams: MiniMaxM2Config (transformers 5.23): 8 KV heads and head_dim 128 when absent
_MB_CLASS_DEFAULTS.update({"minimax_m2": {"num_key_value_heads": 8}})
_MB_HEAD_DIM_DEFAULT.update({"minimax_m2": 128})
# Dots1Config (transformers 5.23): 32 KV heads when absent (as many as query heads when null), window 4096 on the
# layers i >= max_window_layers (62 by default)
_MB_CLASS_DEFAULTS.update({"dots1": {"num_key_value_heads": 32, "sliding_window": 4096}})
# Exaone4Config: 32 KV heads (a null is rejected by its strict dataclass), window 4096 on all but every 4th layer
_MB_CLASS_DEFAULTS.update({"exaone4": {"num_key_value_heads": 32, "sliding_window": 4096}})
# issue 10, branch mimo: MiMoV2FlashConfig's defaults are read in _mb_read_mimo_v2_flash (4 KV heads, head_dim 192,
# v_head_dim 128, window 129, 256 experts of 2048, top-8, untied head)


def _mb_read_gpt(r: _MBFields, mt: str) -> dict:
    """GPT-2 (fused c_attn, learned positions), GPT-J (one LayerNorm per block, biased LM head, unbiased
    attention), BLOOM (ALiBi, fused query_key_value, embedding LayerNorm; BloomMLP is 4h whatever n_inner says)."""
    h = r.int("n_embd", "hidden_size", "n_embed")
    v = dict(hidden_size=h, num_layers=r.int("n_layer", "num_hidden_layers"),
             num_attention_heads=r.int("n_head", "num_attention_heads"), vocab_size=r.int("vocab_size"),
             gated_mlp=False, norm="layernorm", mlp_bias=True, gguf_arch=mt)
    if mt == "gpt2":
        v.update(ffn_hidden_size=r.int("n_inner", default=4 * h), position_embedding="learned", fused_qkv=True,
                 max_position_embeddings=r.int("n_positions", "max_position_embeddings", default=1024),
                 qkv_bias=True, o_bias=True, softmax_fp32=False)
    elif mt == "gptj":
        v.update(ffn_hidden_size=r.int("n_inner", default=4 * h), norms_per_layer=1, lm_head_bias=True)
        r.get("rotary_dim")
    else:
        r.get("n_inner")
        v.update(ffn_hidden_size=4 * h, position_embedding="alibi", fused_qkv=True, qkv_bias=True, o_bias=True,
                 embedding_norm=True)
    return v


def _mb_read_neox_opt_falcon(r: _MBFields, mt: str) -> dict:
    h = r.int("hidden_size", "n_embed")
    heads = r.int("num_attention_heads", "n_head")
    v = dict(hidden_size=h, num_layers=r.int("num_hidden_layers", "n_layer"), num_attention_heads=heads,
             vocab_size=r.int("vocab_size"), gated_mlp=False, norm="layernorm")
    if mt == "gpt_neox":
        bias = r.flag("attention_bias", True)
        v.update(ffn_hidden_size=r.int("intermediate_size"), fused_qkv=True, qkv_bias=bias, o_bias=bias,
                 mlp_bias=True, gguf_arch="gptneox")  # its eager softmax runs in fp32 (modeling_gpt_neox.py)
    elif mt == "opt":
        # OPTLearnedPositionalEmbedding keeps 2 extra rows; project_in / project_out when word_embed_proj_dim
        # differs from hidden_size; the final LayerNorm exists only for pre-LN models
        bias = r.flag("enable_bias", True)
        final = r.flag("do_layer_norm_before", True) and not r.flag("_remove_final_layer_norm", False)
        v.update(ffn_hidden_size=r.int("ffn_dim"), qkv_bias=bias, o_bias=bias, mlp_bias=bias,
                 position_embedding="learned", max_position_embeddings=r.int("max_position_embeddings"),
                 position_offset=2, word_embed_proj_dim=r.int("word_embed_proj_dim", default=h),
                 norm="layernorm" if r.flag("layer_norm_elementwise_affine", True) else "nonparametric",
                 final_norm=final, gguf_arch="opt")
        if r.number("layerdrop"):
            raise InputError(f"{r.where}: field 'layerdrop' {r.raw['layerdrop']} skips layers at random in "
                             "training; not modelled")
    else:  # falcon: transformers FalconAttention / FalconDecoderLayer
        bias = r.flag("bias", False)
        new_arch = r.flag("new_decoder_architecture", False)
        multi_query = r.flag("multi_query", True)
        parallel = r.flag("parallel_attn", True)
        if new_arch:
            kv = r.int("num_kv_heads", "n_head_kv", default=heads)
        else:
            r.get("num_kv_heads", "n_head_kv")  # read, but this architecture takes multi_query instead
            kv = 1 if multi_query else heads
        lns = r.int("num_ln_in_parallel_attn", default=0, minimum=0) or (2 if new_arch else 1)
        two_norms = not parallel or lns == 2
        v.update(ffn_hidden_size=r.int("ffn_hidden_size", default=4 * h), num_kv_heads=kv, fused_qkv=True,
                 qkv_bias=bias, o_bias=bias, mlp_bias=bias, norms_per_layer=2 if two_norms else 1,
                 norm_placement="parallel" if parallel else "pre", softmax_fp32=False, hf_kv_broadcast=new_arch,
                 position_embedding="alibi" if r.flag("alibi", False) else "rotary", gguf_arch="falcon")
    return v


def _mb_read_llama_style(r: _MBFields, mt: str) -> dict:
    """Llama and its descendants: gated MLP and RMSNorm unless the family says otherwise."""
    heads = r.int("num_attention_heads")
    v = dict(hidden_size=r.int("hidden_size"), num_layers=r.int("num_hidden_layers"), num_attention_heads=heads,
             vocab_size=r.int("vocab_size"),
             num_kv_heads=_MB_CLASS_DEFAULTS.get(mt, {}).get("num_key_value_heads", heads)
             if r.absent("num_key_value_heads") else r.int("num_key_value_heads", default=heads),
             head_dim=r.int("head_dim", default=_MB_HEAD_DIM_DEFAULT.get(mt, 0)),  # 0 would build 0-wide heads
             ffn_hidden_size=0 if mt in _MB_QWEN3_5_MOE else r.int("intermediate_size"), gguf_arch=mt)
    if mt in _MB_CLASS_DEFAULTS and "num_key_value_heads" in _MB_CLASS_DEFAULTS[mt] and \
            mt not in ("qwen2", "qwen3", "bamba", "dots1") \
            and "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        raise InputError(f"{r.where}: field 'num_key_value_heads' is null, which transformers' {mt} config does not "
                         "accept; give the number of KV heads")
    # these classes do not read attention_bias: their biases are fixed (Qwen2: q/k/v only) or come from elsewhere
    if mt in ("mistral", "mixtral", "qwen2", "qwen2_moe", "phi", "phi3", "starcoder2", "minimax_m2"):
        r.get("attention_bias")
    else:
        bias = r.flag("attention_bias", False)
        v.update(qkv_bias=bias, o_bias=bias)
    if mt == "qwen2":
        v["qkv_bias"] = True
    elif mt == "qwen2_moe":
        v["qkv_bias"] = r.flag("qkv_bias", True)
    if mt in ("llama", "deepseek_v2", "granite", "bamba"):
        v["mlp_bias"] = r.flag("mlp_bias", False)
    if mt == "granite":  # modeling_granite.py: scalars on the embedding, scores, residual branches and logits
        for key in ("embedding_multiplier", "attention_multiplier", "residual_multiplier", "logits_scaling"):
            r.number(key)
    else:
        r.get("mlp_bias")  # the other classes build their MLPs without reading it
    if mt == "gemma2":
        v.update(norms_per_layer=4, attn_softcap=bool(r.number("attn_logit_softcapping")))
    if mt == "gemma3_text":  # modeling_gemma3.py: four norms per layer, q_norm / k_norm over head_dim
        v.update(norms_per_layer=4, qk_norm="head", attn_softcap=bool(r.number("attn_logit_softcapping")),
                 gguf_arch="gemma3")
        r.expect("use_bidirectional_attention", False, mt)  # a bidirectional mask and half window: not modelled
        r.get("rope_local_base_freq")  # the sliding layers' rotary base: no parameter, no matmul
    if mt.startswith("gemma"):
        v["norm_fp32_scale"] = True
    if mt in ("qwen3", "qwen3_moe"):
        v["qk_norm"] = "head"
    if mt == "qwen3_next":
        _mb_read_qwen3_next(r, mt, v)
    if mt in _MB_QWEN3_5_DENSE + _MB_QWEN3_5_MOE:
        _mb_read_qwen3_5(r, mt, v)
    if mt == "olmo":
        v.update(norm="nonparametric", norm_fp32_input=True)
    if mt == "olmo2":
        v.update(qk_norm="full", norm_placement="post", norm_fp32_scale=True)
    if mt == "phi":
        v.update(gated_mlp=False, norm="layernorm", norms_per_layer=1, qkv_bias=True, o_bias=True, mlp_bias=True,
                 lm_head_bias=True, qk_norm="head" if r.flag("qk_layernorm", False) else "none")
    if mt == "phi3":
        v.update(fused_qkv=True, fused_gate_up=True)
        # Phi-4-mini's config carries full_attn_mod 1 (every layer full) and lm_head_bias false, which transformers'
        # Phi3 does not read: accepted at the values that class builds, refused at any other
        r.expect("full_attn_mod", 1, mt)
        r.expect("lm_head_bias", False, mt)
    if mt == "starcoder2":
        r.expect("mlp_type", "default", mt)  # published files carry "default"; the class builds its one MLP
        norm = r.text("norm_type", default="layer_norm")
        if norm != "layer_norm":  # Starcoder2 builds nn.LayerNorm whatever the field says; another value is new
            raise InputError(f"{r.where}: field 'norm_type' {norm!r} is not modelled for starcoder2 "
                             "(only 'layer_norm')")
        bias = r.flag("use_bias", True)
        v.update(gated_mlp=False, norm="layernorm", qkv_bias=bias, o_bias=bias, mlp_bias=bias)
    if mt == "mixtral":
        v.update(num_experts=r.int("num_local_experts", "num_experts", default=8),
                 top_k=r.int("num_experts_per_tok", default=2))
    elif mt in ("qwen2_moe", "qwen3_moe"):
        defaults = _MB_CLASS_DEFAULTS[mt]
        experts = defaults["num_experts"] if r.absent("num_experts", "num_local_experts") else \
            r.int("num_experts", "num_local_experts", default=0, minimum=0)
        r.get("moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers", "num_experts_per_tok",
              "shared_expert_intermediate_size")
        if experts:
            v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=4 if mt == "qwen2_moe" else 8),
                     moe_ffn_hidden_size=r.int("moe_intermediate_size", default=defaults["moe_intermediate_size"]),
                     expert_interval=r.int("decoder_sparse_step", default=1), expert_interval_phase=1,
                     dense_layers=r.layer_list("mlp_only_layers"))
            if mt == "qwen2_moe":  # one shared expert behind a sigmoid gate (hidden -> 1)
                v.update(num_shared_experts=1, shared_expert_gate=True,
                         shared_expert_ffn_size=r.int("shared_expert_intermediate_size", default=5632))
    elif mt in ("deepseek_v2", "deepseek_v3"):
        v3 = mt == "deepseek_v3"
        # configuration_deepseek_v2/_v3.py: an absent q_lora_rank is 1536 (q-LoRA on), an explicit null turns it off;
        # absent experts are 64 (V2) / 256 (V3), null means a dense model
        # an explicit 0 is refused: the classes test `is None`, so 0 would build zero-width q_a_proj / q_b_proj
        v.update(q_lora_rank=1536 if r.absent("q_lora_rank") else r.int("q_lora_rank", default=0),
                 kv_lora_rank=r.int("kv_lora_rank", default=512),
                 qk_nope_head_dim=r.int("qk_nope_head_dim", default=128),
                 qk_rope_head_dim=r.int("qk_rope_head_dim", default=64), v_head_dim=r.int("v_head_dim", default=128),
                 head_dim=0, num_kv_heads=0)
        r.get("num_key_value_heads", "head_dim")  # MLA: every head has its own K and V, from the latent
        expert_keys = ("n_routed_experts", "num_local_experts", "num_experts")
        experts = (256 if v3 else 64) if r.absent(*expert_keys) else r.int(*expert_keys, default=0, minimum=0)
        r.get("moe_intermediate_size", "n_shared_experts", "first_k_dense_replace", "moe_layer_freq",
              "num_experts_per_tok")
        if experts:
            # modeling_deepseek.py: layer i is MoE when i >= first_k_dense_replace and i % moe_layer_freq == 0
            v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8 if v3 else None),
                     moe_ffn_hidden_size=r.int("moe_intermediate_size", default=2048 if v3 else 1407),
                     num_shared_experts=r.int("n_shared_experts", default=1 if v3 else 2, minimum=0),
                     first_k_dense=r.int("first_k_dense_replace", default=3 if v3 else 0, minimum=0),
                     expert_interval=_mb_moe_layer_freq(r), expert_interval_phase=0,
                     router_score_correction_bias=v3)
    if mt == "glm4_moe":
        _mb_read_glm4_moe(r, v)
    if mt in ("deepseek_v32", "glm_moe_dsa"):
        _mb_read_dsa(r, mt, v)
    if mt == "olmo3":  # modeling_olmo3.py: Olmo2's post-norm block and whole-projection q/k norms
        v.update(qk_norm="full", norm_placement="post", norm_fp32_scale=True)
    if mt == "seed_oss":
        _mb_read_seed_oss(r, v)
    if mt == "olmoe":
        _mb_read_olmoe(r, v)
    if mt in ("cohere", "cohere2"):
        _mb_read_cohere(r, mt, v)
    if mt == "nemotron":
        _mb_read_nemotron(r, v)
    if mt == "smollm3":
        _mb_read_smollm3(r, v)
    if mt == "granitemoe":
        _mb_read_granitemoe(r, v)
    if mt == "phimoe":
        _mb_read_phimoe(r, v)
    if mt == "stablelm":
        _mb_read_stablelm(r, v)
    if mt in ("llama4", "llama4_text"):
        _mb_read_llama4(r, mt, v)
    if mt == "bamba":
        _mb_read_bamba(r, v)
    if mt == "minimax_m2":
        _mb_read_minimax_m2(r, v)
    if mt == "dots1":
        _mb_read_dots1(r, v)
    if mt == "exaone4":  # modeling_exaone4.py: Exaone4DecoderLayer normalises each sub-layer's output only
        v.update(qk_norm="head", norm_placement="post", gguf_arch="exaone4")
    return v


def _mb_read_bamba(r: _MBFields, v: dict) -> None:
    """BambaConfig (transformers 5.23 configuration_bamba.py, modeling_bamba.py): layer i is full attention when i
    is in attn_layer_indices and a Mamba-2 mixer otherwise (layers_block_type); every layer has the SwiGLU MLP
    (mlp_bias) and two RMSNorms; attention is the Llama one (attention_bias, head_dim hidden / heads unless the file
    gives one, partial rotary: no count).  The mixer: mamba_n_heads (128) heads of mamba_d_head ("auto": mamba_expand
    (2) x hidden / heads; the class refuses a product other than mamba_expand x hidden), mamba_n_groups (1) groups of
    B and C of mamba_d_state (256), conv kernel mamba_d_conv (4) with a bias (mamba_conv_bias, true), in/out
    projections biased by mamba_proj_bias (false), the torch scan's chunk mamba_chunk_size (256)."""
    layers, h = v["num_layers"], v["hidden_size"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    attention = r.layer_list("attn_layer_indices")
    if any(i >= layers for i in attention):  # the class ignores them: a typo, not a model
        raise InputError(f"{r.where}: field 'attn_layer_indices' names layer {max(attention)} of a "
                         f"{layers}-layer model")
    r.get("layers_block_type", "layer_types")  # derived by the class from attn_layer_indices (a property)
    mixers = tuple("attention" if i in attention else "linear" for i in range(layers))
    heads = r.int("mamba_n_heads", default=128)
    expand = r.int("mamba_expand", default=2)
    _, head_dim = r.get("mamba_d_head")
    if head_dim is None or head_dim == "auto":
        head_dim = expand * h // heads
    elif isinstance(head_dim, bool) or not isinstance(head_dim, int) or not 1 <= head_dim <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'mamba_d_head' must be a positive integer or \"auto\", got "
                         f"{head_dim!r:.60}")
    if (expand * h) % heads or head_dim * heads != expand * h:  # BambaConfig.validate_architecture
        raise InputError(f"{r.where}: fields 'mamba_n_heads' {heads} x 'mamba_d_head' {head_dim} must equal "
                         f"'mamba_expand' {expand} x 'hidden_size' {h}, as BambaConfig requires")
    for key in ("num_logits_to_keep", "time_step_limit", "z_loss_coefficient", "attn_rotary_emb"):
        r.get(key)  # logits kept at generation, dt clamp, a loss term, the rotary width: no count, no matmul
    v.update(mixer_types=mixers if "linear" in mixers else (), ssm_kind="mamba2" if "linear" in mixers else "",
             mamba_num_heads=heads, mamba_head_dim=head_dim, mamba_n_groups=r.int("mamba_n_groups", default=1),
             mamba_d_state=r.int("mamba_d_state", default=256), mamba_d_conv=r.int("mamba_d_conv", default=4),
             mamba_chunk_size=r.int("mamba_chunk_size", default=256),
             mamba_conv_bias=r.flag("mamba_conv_bias", True), mamba_proj_bias=r.flag("mamba_proj_bias", False))


def _mb_read_qwen3_next(r: _MBFields, mt: str, v: dict) -> None:
    """Qwen3NextConfig (transformers 5.23 configuration_qwen3_next.py and modeling_qwen3_next.py): layer i is a
    gated delta-net unless (i + 1) % full_attention_interval == 0 (default 4), or as layer_types lists; the
    attention layers' q_proj carries an output gate and q/k RMSNorm over head_dim; RMSNorms scale by (1 + w) in
    fp32; MoE as Qwen3-MoE (decoder_sparse_step, mlp_only_layers) with one shared expert behind a sigmoid gate.
    Defaults are the class signature's: 16 key / 32 value heads of 128, kernel 4, 512 experts of 512, top-10."""
    _mb_read_delta_net_mixers(r, v)
    v["gguf_arch"] = "qwen3next"
    experts = 512 if r.absent("num_experts") else r.int("num_experts", default=0, minimum=0)
    for key in ("moe_intermediate_size", "decoder_sparse_step", "mlp_only_layers", "num_experts_per_tok",
                "shared_expert_intermediate_size"):
        r.get(key)  # without experts the class builds every layer's MLP from intermediate_size alone
    if experts:  # Qwen3NextSparseMoeBlock: router, stacked experts, shared_expert and shared_expert_gate (h -> 1)
        v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=10),
                 moe_ffn_hidden_size=r.int("moe_intermediate_size", default=512),
                 expert_interval=r.int("decoder_sparse_step", default=1), expert_interval_phase=1,
                 dense_layers=r.layer_list("mlp_only_layers"), num_shared_experts=1, shared_expert_gate=True,
                 shared_expert_ffn_size=r.int("shared_expert_intermediate_size", default=512))


def _mb_read_delta_net_mixers(r: _MBFields, v: dict) -> None:
    """The Qwen3-Next / Qwen3.5 token mixers: layer i is a gated delta-net unless (i + 1) % full_attention_interval
    == 0 (default 4; the config classes read it only when layer_types is absent), or as layer_types lists; the
    attention layers are gated (q_proj emits an output gate) with q/k RMSNorm over head_dim; every RMSNorm scales
    by (1 + w) in fp32.  Delta-net defaults are both classes' signatures: 16 key / 32 value heads of 128, kernel 4."""
    layers = v["num_layers"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    interval = r.int("full_attention_interval", default=4)
    types = r.get("layer_types")[1]
    if types is None:
        mixers = tuple("linear" if (i + 1) % interval else "attention" for i in range(layers))
    elif not isinstance(types, list) or not all(t in ("linear_attention", "full_attention") for t in types):
        raise InputError(f"{r.where}: field 'layer_types' must list 'linear_attention' or 'full_attention' per "
                         f"layer, got {types!r:.80}")
    elif len(types) != layers:
        raise InputError(f"{r.where}: field 'layer_types' has {len(types)} entries for {layers} layers")
    else:
        mixers = tuple("linear" if t == "linear_attention" else "attention" for t in types)
    v.update(qk_norm="head", norm_fp32_scale=True, attn_output_gate=True,
             mixer_types=mixers if "linear" in mixers else (),
             linear_num_key_heads=r.int("linear_num_key_heads", default=16),
             linear_num_value_heads=r.int("linear_num_value_heads", default=32),
             linear_key_head_dim=r.int("linear_key_head_dim", default=128),
             linear_value_head_dim=r.int("linear_value_head_dim", default=128),
             linear_conv_kernel=r.int("linear_conv_kernel_dim", default=4))


_MB_QWEN3_5_DENSE = ("qwen3_5", "qwen3_5_text")
_MB_QWEN3_5_MOE = ("qwen3_5_moe", "qwen3_5_moe_text")


def _mb_read_qwen3_5(r: _MBFields, mt: str, v: dict) -> None:
    """Qwen3.5, dense (qwen3_5 / qwen3_5_text) and MoE (qwen3_5_moe / qwen3_5_moe_text): transformers 5.23
    configuration_qwen3_5(_moe).py and modeling_qwen3_5(_moe).py.  AutoModelForCausalLM builds Qwen3_5ForCausalLM /
    Qwen3_5MoeForCausalLM from the wrapper's text_config alone (no vision tower, no MTP layer; its head is tied only
    when the text_config says so).  What differs from Qwen3-Next (everything else is its block, read by
    _mb_read_delta_net_mixers):

    * the delta-net input projections are four Linears, in_proj_qkv / in_proj_z / in_proj_b / in_proj_a (the same
      rows as in_proj_qkvz / in_proj_ba; no per-key-head interleaving to undo);
    * dense: every layer has a SwiGLU MLP of intermediate_size (no MoE field exists; a file's MoE field is refused);
    * MoE: every layer is MoE (the class has no decoder_sparse_step or mlp_only_layers: only 1 and [] are accepted),
      top-k weights always renormalised (norm_topk_prob is not read: no count changes), one shared expert behind a
      sigmoid gate; defaults 256 experts of 512, top-8, shared 512;
    * multimodal RoPE (mrope_section, interleaved) over partial_rotary_factor 0.25 of head_dim: for text the three
      position axes are equal, and no parameter or counted matmul changes;
    * the published files carry fields the class does not read: attn_output_gate (the gate is always built: only
      true is accepted), output_gate_type (the delta-net's gated-RMSNorm activation, "swish" in the published files;
      transformers' Qwen3_5RMSNormGated applies silu whatever it says: elementwise, no count or counted FLOP either
      way), mamba_ssm_dtype (serving engines' state dtype; transformers' cache keeps the recurrent state in fp32
      whatever it says) and mtp_num_hidden_layers (a note: the MTP layer is not built).
    Class defaults: 4 (dense) / 2 (MoE) KV heads, head_dim 256; the sizes must be in the file."""
    if mt in ("qwen3_5", "qwen3_5_moe") and not r.where.endswith(" text_config"):
        raise InputError(f"{r.where}: model_type '{mt}' without a text_config: transformers' {mt} config builds its "
                         f"default text model whatever the top-level fields say; give the text_config (or model_type "
                         f"{mt}_text)")
    _mb_read_delta_net_mixers(r, v)
    v.update(linear_proj_split=True, gguf_arch="qwen35moe" if mt in _MB_QWEN3_5_MOE else "qwen35")
    r.expect("attn_output_gate", True, mt)
    r.text("output_gate_type")  # an activation: no parameter, no counted matmul, no cached byte
    r.text("mamba_ssm_dtype")
    r.int("mtp_num_hidden_layers", default=0, minimum=0)  # model_from_config notes it
    r.flag("mtp_use_dedicated_embeddings", False)
    if mt in _MB_QWEN3_5_DENSE:
        return
    # Qwen3_5MoeSparseMoeBlock in every layer: router (E, h), stacked experts, shared_expert, shared_expert_gate
    r.get("intermediate_size", "norm_topk_prob")  # no dense MLP is built; the router always renormalises top-k
    r.expect("decoder_sparse_step", 1, mt)
    if r.layer_list("mlp_only_layers"):
        raise InputError(f"{r.where}: field 'mlp_only_layers' is not modelled for model_type '{mt}' (transformers "
                         "builds every layer MoE whatever it lists; only [] is accepted)")
    moe_width = r.int("moe_intermediate_size", default=512)
    v.update(num_experts=r.int("num_experts", default=256), top_k=r.int("num_experts_per_tok", default=8),
             moe_ffn_hidden_size=moe_width, ffn_hidden_size=moe_width, expert_interval=1, expert_interval_phase=1,
             num_shared_experts=1, shared_expert_gate=True,
             shared_expert_ffn_size=r.int("shared_expert_intermediate_size", default=512))
    if v["top_k"] > v["num_experts"]:
        raise InputError(f"{r.where}: field 'num_experts_per_tok' {v['top_k']} is more than num_experts "
                         f"{v['num_experts']}")


def _mb_moe_layer_freq(r: _MBFields) -> int:
    """DeepSeek's moe_layer_freq: its hub code (modeling_deepseek.py) makes layer i MoE only when
    i % moe_layer_freq == 0, while transformers' DeepseekV2/V3 ignore the field and make every layer past
    first_k_dense_replace MoE.  At 1 (every published config) both agree; any other value builds two different
    models, so it is refused rather than one of them guessed."""
    freq = r.int("moe_layer_freq", default=1)
    if freq != 1:
        raise InputError(f"{r.where}: field 'moe_layer_freq' {freq}: DeepSeek's own code makes every {freq}-th layer "
                         "MoE and transformers makes them all MoE; refusing rather than guessing (1 is modelled)")
    return freq


def _mb_read_gpt_oss(r: _MBFields, mt: str) -> dict:
    """gpt-oss (transformers 5.23 configuration_gpt_oss.py / modeling_gpt_oss.py; OpenAI's model card,
    arXiv:2508.10925 sec. 2.1): the Llama block with biased q/k/v/o (attention_bias, true by default), one learned
    sink logit per query head, and every layer MoE: a biased router (E x h + E) picking num_experts_per_tok of
    num_local_experts experts, each a clamped SwiGLU of intermediate_size with biases on both projections.
    GptOssConfig's defaults where the file leaves a field out: 8 KV heads, head_dim 64, 128 experts, top-4, window
    128 on the even layers (layer_types); its strict dataclass rejects a null KV-head count or head_dim, and so does
    this reader."""
    for key in ("num_key_value_heads", "head_dim"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a number")
    heads = r.int("num_attention_heads")
    bias = r.flag("attention_bias", True)
    experts = r.int("num_local_experts", "num_experts", default=128)
    top_k = r.int("num_experts_per_tok", default=4)
    # OpenAI's own field for top-k, which GptOssConfig does not read: accepted only where it agrees
    r.expect("experts_per_token", top_k, mt)
    r.number("swiglu_alpha")  # the experts' clamped SwiGLU: elementwise scalars, no parameter, no matmul
    r.number("swiglu_limit")
    r.get("initial_context_length")  # the reference code's YaRN base context: no parameter
    return dict(hidden_size=r.int("hidden_size"), num_layers=r.int("num_hidden_layers"), num_attention_heads=heads,
                vocab_size=r.int("vocab_size"), ffn_hidden_size=r.int("intermediate_size"),
                num_kv_heads=r.int("num_key_value_heads", default=_MB_CLASS_DEFAULTS[mt]["num_key_value_heads"]),
                head_dim=r.int("head_dim", default=64),
                qkv_bias=bias, o_bias=bias, num_experts=experts, top_k=top_k, router_bias=True, expert_bias=True,
                attention_sinks=True, clamped_swiglu=True, gguf_arch="gpt-oss",
                norm_fp32_scale=True,  # GptOssRMSNorm multiplies by its weight in fp32, then casts back
                softmax_fp32=False)  # eager_attention_forward's softmax keeps the logits' dtype


def _mb_read_gemma4_text(r: _MBFields, mt: str) -> dict:
    """Gemma 4's language model (transformers 5.23 configuration_gemma4.py Gemma4TextConfig, modeling_gemma4.py
    Gemma4TextModel): Gemma 3's block (four RMSNorms per layer, q/k RMSNorm over the head, GeGLU, tied head by
    default, final-logit soft-capping) with

    * per-layer attention shapes: a sliding layer has num_key_value_heads heads of head_dim (256); a full layer
      (layer_types; by default every 6th and always the last) heads of global_head_dim (512), and with
      attention_k_eq_v num_global_key_value_heads KV heads (else num_key_value_heads) and no v_proj, its values
      being k_proj's output (Gemma4TextConfig.__post_init__ per_layer_config; Gemma4TextAttention);
    * KV sharing: the last num_kv_shared_layers layers build no k_proj, v_proj or k_norm and reuse the K/V of the
      last earlier layer of their kind (kv_sharing_modes), caching nothing; with use_double_wide_mlp their MLPs are
      twice intermediate_size wide;
    * per-layer input embeddings (PLE), with p = hidden_size_per_layer_input (256 by default; 0: none): a table of
      vocab_size_per_layer_input x (layers x p) looked up per token, per_layer_model_projection (h -> layers x p) and
      its RMSNorm (p), and in each layer a gate (h -> p), a projection (p -> h) and an RMSNorm (h);
    * with enable_moe_block, beside every layer's dense MLP a router (proj E x h, scale h, per_expert_scale E), E
      experts of moe_intermediate_size, top_k_experts per token, and three more RMSNorms (_mb_gemma4_moe_block).

    The multimodal wrapper's use_bidirectional_attention "vision" changes the mask of image tokens only (text-only
    counts are unchanged); "all" (no causal mask, a halved window) is refused."""
    layers = r.int("num_hidden_layers", default=30)
    if layers > MODEL_MAX_LAYERS:
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if "per_layer_config" in r.raw:
        raise InputError(f"{r.where}: field 'per_layer_config' (explicit per-layer attention shapes) is not modelled "
                         f"for model_type '{mt}'; refusing rather than guessing")
    bidirectional = r.get("use_bidirectional_attention")[1]
    if bidirectional not in (None, "vision"):
        raise InputError(f"{r.where}: field 'use_bidirectional_attention' {bidirectional!r:.20} is not modelled for "
                         f"model_type '{mt}' (only null or 'vision'); refusing rather than guessing")
    # Gemma4TextConfig is a strict dataclass: these fields must be numbers / booleans, null is rejected
    for key in ("num_key_value_heads", "head_dim", "global_head_dim", "vocab_size_per_layer_input", "vocab_size",
                "hidden_size_per_layer_input", "num_kv_shared_layers", "hidden_size", "intermediate_size",
                "num_hidden_layers", "num_attention_heads", "sliding_window", "attention_k_eq_v", "enable_moe_block",
                "use_double_wide_mlp", "attention_bias", "tie_word_embeddings"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a value")
    heads = r.int("num_attention_heads", default=8)
    kv = r.int("num_key_value_heads", default=4)
    head_dim, global_dim = r.int("head_dim", default=256), r.int("global_head_dim", default=512)
    k_eq_v = r.flag("attention_k_eq_v", False)
    global_kv = r.int("num_global_key_value_heads", default=kv) if k_eq_v else kv
    if not k_eq_v:
        r.get("num_global_key_value_heads")  # read by the class only with attention_k_eq_v
    types = _mb_type_list(r, "layer_types", ("full_attention", "sliding_attention"), layers)
    if types is None:  # Gemma4TextConfig.__post_init__: 5 sliding : 1 full (sliding_window_pattern is not read)
        types = ["sliding_attention" if (i + 1) % 6 else "full_attention" for i in range(layers)]
    types = list(types[:-1]) + ["full_attention"]  # the class forces the last layer to full attention
    r.get("sliding_window_pattern")  # some published files carry it; Gemma4TextConfig does not read it
    window = r.int("sliding_window", default=512)
    shared = r.int("num_kv_shared_layers", default=0, minimum=0)
    ple = r.int("hidden_size_per_layer_input", default=256, minimum=0)  # 0: no PLE
    ple_vocab = r.int("vocab_size_per_layer_input", default=262_144)
    layer_types = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
    bias = r.flag("attention_bias", False)
    v = dict(hidden_size=r.int("hidden_size", default=2304), num_layers=layers, num_attention_heads=heads,
             vocab_size=r.int("vocab_size", default=262_144), ffn_hidden_size=r.int("intermediate_size", default=9216),
             num_kv_heads=global_kv, head_dim=global_dim, qkv_bias=bias, o_bias=bias, norms_per_layer=4,
             qk_norm="head", norm_fp32_scale=True, gguf_arch="gemma4", full_k_eq_v=k_eq_v, kv_shared_layers=shared,
             double_wide_shared_mlp=r.flag("use_double_wide_mlp", False), per_layer_input_size=ple,
             per_layer_vocab=ple_vocab if ple else 0)
    if "sliding" in layer_types:
        v.update(sliding_window=window, layer_types=layer_types, sliding_kv_heads=kv, sliding_head_dim=head_dim)
    if r.flag("enable_moe_block", False):
        v.update(num_experts=r.int("num_experts"), top_k=r.int("top_k_experts"),
                 moe_ffn_hidden_size=r.int("moe_intermediate_size"), moe_beside_mlp=True)
    else:  # the expert fields build nothing without the MoE block
        r.get("num_experts", "top_k_experts", "moe_intermediate_size")
        r.get("top_k_experts")
        r.get("moe_intermediate_size")
    # the published files carry expert_intermediate_size (null), which Gemma4TextConfig does not read: accepted null
    # or equal to what the experts are built with, refused otherwise
    r.expect("expert_intermediate_size", v.get("moe_ffn_hidden_size") or None, mt) \
        if v.get("moe_ffn_hidden_size") else r.expect("expert_intermediate_size", None, mt)
    r.number("final_logit_softcapping")  # tanh on the logits: no parameter, no matmul
    return v


def _mb_read_lfm2(r: _MBFields, mt: str) -> dict:
    """LFM2 (transformers 5.23 configuration_lfm2.py / modeling_lfm2.py; LiquidAI's LFM2 model cards): each layer
    a short convolution ("conv": Lfm2ShortConv, in_proj h -> 3h giving B, C, x; a depthwise causal conv of
    conv_L_cache taps over B*x; C times it; out_proj h -> h; biases by conv_bias) or GQA attention with q/k RMSNorm
    over head_dim and an out_proj, as layer_types says, else attention on full_attn_idxs (every layer when that is
    null too); then an RMSNorm'd SwiGLU (w1, w3, w2) of the adjusted width: block_ff_dim (else intermediate_size),
    with block_auto_adjust_ff_dim int(2 f / 3), times block_ffn_dim_multiplier, rounded up to block_multiple_of
    (Lfm2MLP).  Two RMSNorms a layer (operator_norm, ffn_norm) and one after the last layer (embedding_norm); the
    head tied (tie_embedding, else tie_word_embeddings, true by default).  The hub file's own fields that transformers
    does not read (block_dim, conv_dim, conv_dim_out, num_heads, block_use_swiglu, use_pos_enc) are accepted where
    they describe that model and refused where they do not."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        raise InputError(f"{r.where}: field 'num_key_value_heads' is null, which transformers' {mt} config does not "
                         "accept; give a number")
    types = _mb_type_list(r, "layer_types", ("full_attention", "conv"), layers)
    attention_at = r.get("full_attn_idxs")[1]
    if types is None:
        if attention_at is not None and (not isinstance(attention_at, list) or any(
                isinstance(i, bool) or not isinstance(i, int) for i in attention_at)):
            raise InputError(f"{r.where}: field 'full_attn_idxs' must be a list of layer indices, got "
                             f"{attention_at!r:.60}")
        chosen = set(range(layers)) if attention_at is None else set(attention_at)
        types = ["full_attention" if i in chosen else "conv" for i in range(layers)]
    width = r.int("block_ff_dim") if not r.absent("block_ff_dim") else r.int("intermediate_size", default=12288)
    r.get("intermediate_size")  # block_ff_dim, when given, replaces it (Lfm2Config pops it into intermediate_size)
    if r.flag("block_auto_adjust_ff_dim", True):  # Lfm2MLP's arithmetic, float for float
        width = int(2 * width / 3)
        if "block_ffn_dim_multiplier" in r.raw and r.raw["block_ffn_dim_multiplier"] is None:
            raise InputError(f"{r.where}: field 'block_ffn_dim_multiplier' is null, which transformers' {mt} config "
                             "does not accept; give a number")
        multiplier = r.number("block_ffn_dim_multiplier", 1.0)
        multiple = r.int("block_multiple_of", default=256)
        width = multiple * ((int(multiplier * width) + multiple - 1) // multiple)
    else:
        r.get("block_ffn_dim_multiplier")
        r.get("block_multiple_of")
    if width < 1:
        raise InputError(f"{r.where}: the MLP width Lfm2MLP derives from block_ff_dim / intermediate_size is {width}")
    for key in ("block_dim", "conv_dim", "conv_dim_out"):
        r.expect(key, hidden, mt)
    r.expect("num_heads", heads, mt)
    r.expect("block_use_swiglu", True, mt)
    r.expect("use_pos_enc", True, mt)
    for key in ("block_norm_eps", "block_mlp_init_scale", "block_out_init_scale"):
        r.number(key)  # an epsilon and initialisation scales: no parameter
    for key in ("block_use_xavier_init", "conv_use_xavier_init"):
        r.flag(key, True)  # initialisation only
    mixers = tuple("conv" if t == "conv" else "attention" for t in types)
    return dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
                num_kv_heads=r.int("num_key_value_heads", default=8), head_dim=r.int("head_dim", default=0),
                ffn_hidden_size=width, qk_norm="head", gguf_arch="lfm2", mixer_types=mixers if "conv" in mixers else (),
                short_conv_kernel=r.int("conv_L_cache", default=3), short_conv_bias=r.flag("conv_bias", False))


_MB_NEMOTRON_H_BLOCKS = {"M": "linear", "*": "attention", "-": "mlp", "E": "moe"}  # hybrid_override_pattern
# NemotronHConfig's layers_block_type names, with the legacy ones remap_legacy_layer_types turns into them
_MB_NEMOTRON_H_TYPES = {"linear_attention": "linear", "mamba": "linear", "full_attention": "attention",
                        "attention": "attention", "mlp": "mlp", "moe": "moe"}


def _mb_read_nemotron_h(r: _MBFields, mt: str) -> dict:
    """Nemotron-H (transformers 5.23 configuration_nemotron_h.py / modeling_nemotron_h.py; NVIDIA, "Nemotron-H: A
    Family of Accurate and Efficient Hybrid Mamba-Transformer Models", arXiv:2504.03624): every layer
    (NemotronHBlock) is one RMSNorm and ONE block, named per layer by layers_block_type (alias layer_types; legacy
    "mamba" / "attention" remapped), else by hybrid_override_pattern (M Mamba-2, * attention, - MLP, E MoE), else
    the class default [Mamba-2, MoE, attention, MLP]; num_hidden_layers is ignored (the list's length wins).

    * attention (NemotronHAttention): q/k/v/o without bias whatever attention_bias says, num_key_value_heads (8;
      null: as many as the heads) heads of head_dim (128), no rotary embedding (no count changes);
    * Mamba-2 (NemotronHMamba2Mixer, Bamba's mixer): mamba_num_heads (128) x mamba_head_dim (64) wide, n_groups
      (8) groups of B and C of ssm_state_size (128), conv kernel conv_kernel (4) biased by use_conv_bias (true),
      in_proj / out_proj biased by use_bias (false; mamba_proj_bias and expand are not read), chunk_size (128);
      the legacy names mamba_n_groups / mamba_d_conv / mamba_conv_bias / mamba_chunk_size win when given;
    * MLP (NemotronHMLP): up_proj -> relu^2 -> down_proj of intermediate_size (21504), biased by mlp_bias;
    * MoE (NemotronHMoE): a sigmoid router (n_routed_experts, h) with a score-correction bias (a buffer), stacked
      ungated experts up_proj (E, moe_intermediate_size, h) / down_proj, top num_experts_per_tok, and ONE shared
      NemotronHMLP of moe_shared_expert_intermediate_size (n_shared_experts is not read);
    * one final RMSNorm (norm_f) and an untied LM head: NemotronHForCausalLM ties nothing (_tied_weights_keys is
      empty), so a file asking for a tied head is refused rather than counted either way.
    Refused: moe_latent_size (latent expert projections), a sliding window.  num_nextn_predict_layers: a note (the
    MTP layers are not built)."""
    types = r.get("layers_block_type", "layer_types")[1]
    if types is not None:
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and t in _MB_NEMOTRON_H_TYPES
                                                                 for t in types):
            raise InputError(f"{r.where}: field 'layers_block_type' must list 'mamba' / 'linear_attention', "
                             f"'attention' / 'full_attention', 'mlp' or 'moe' per layer, got {types!r:.80}")
        blocks = [_MB_NEMOTRON_H_TYPES[t] for t in types]
        r.get("hybrid_override_pattern")  # the class ignores it when the list is given
    else:
        pattern = r.get("hybrid_override_pattern")[1]
        if pattern is None:
            blocks = ["linear", "moe", "attention", "mlp"]  # NemotronHConfig's default layers_block_type
        elif not isinstance(pattern, str) or not pattern or set(pattern) - set(_MB_NEMOTRON_H_BLOCKS):
            raise InputError(f"{r.where}: field 'hybrid_override_pattern' must be a string of M (Mamba-2), "
                             f"* (attention), - (MLP) and E (MoE), got {pattern!r:.80}")
        else:
            blocks = [_MB_NEMOTRON_H_BLOCKS[c] for c in pattern]
    if len(blocks) > MODEL_MAX_LAYERS:
        raise InputError(f"{r.where}: {len(blocks)} layers is beyond {MODEL_MAX_LAYERS:,}")
    r.get("num_hidden_layers")  # deprecated: the class derives the depth from the layer list
    heads = r.int("num_attention_heads", default=32)
    # absent: the class's 8; an explicit null: as many as the query heads (NemotronHConfig.__post_init__)
    kv = heads if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None else \
        r.int("num_key_value_heads", default=8)
    head_dim = r.int("head_dim", default=128)
    r.expect("attention_head_dim", head_dim, mt)  # the hub files' own name; the class reads head_dim
    r.get("attention_bias")  # NemotronHAttention builds q/k/v/o without bias whatever it says
    r.expect("sliding_window", None, mt)
    if r.flag("tie_word_embeddings", False):
        raise InputError(f"{r.where}: field 'tie_word_embeddings' true is not modelled for nemotron_h "
                         "(transformers 5.23 NemotronHForCausalLM ties nothing and builds an untied head)")
    if r.get("moe_latent_size")[1] is not None:
        raise InputError(f"{r.where}: field 'moe_latent_size' (latent expert projections) is not modelled for "
                         "nemotron_h; refusing rather than guessing")
    r.expect("n_shared_experts", 1, mt)  # NemotronHMoE builds one shared MLP whatever it says
    for key in ("mamba_hidden_act", "mlp_hidden_act", "mamba_ssm_cache_dtype"):
        r.text(key)  # activations (elementwise) and a serving engine's state dtype: transformers keeps fp32
    for key in ("expand", "mamba_expand", "mamba_proj_bias", "time_step_min", "time_step_max", "time_step_limit",
                "time_step_floor", "mamba_dt_min", "mamba_dt_max", "mamba_dt_limit", "mamba_dt_init_floor",
                "use_mamba_kernels", "num_logits_to_keep", "residual_in_fp32", "rescale_prenorm_residual",
                "moe_shared_expert_overlap", "mtp_layers_block_type", "mtp_hybrid_override_pattern",
                "num_nextn_predict_layers"):
        r.get(key)  # not read by the modules transformers builds (widths come from the heads), or runtime only
    moe_layers = [i for i, b in enumerate(blocks) if b == "moe"]
    v = dict(hidden_size=r.int("hidden_size", default=4096), num_layers=len(blocks), num_attention_heads=heads,
             vocab_size=r.int("vocab_size", default=131072), num_kv_heads=kv, head_dim=head_dim,
             ffn_hidden_size=r.int("intermediate_size", default=21504), gated_mlp=False,
             mlp_bias=r.flag("mlp_bias", False), norms_per_layer=1, norm_fp32_scale=True,
             position_embedding="none", single_block_layers=True, gguf_arch="nemotron_h",
             mixer_types=tuple({"linear": "linear", "attention": "attention"}.get(b, "none") for b in blocks),
             ssm_kind="mamba2" if "linear" in blocks else "",
             mamba_num_heads=r.int("mamba_num_heads", default=128), mamba_head_dim=r.int("mamba_head_dim", default=64),
             mamba_n_groups=r.int("mamba_n_groups", "n_groups", default=8),
             mamba_d_state=r.int("ssm_state_size", default=128), mamba_d_conv=r.int("mamba_d_conv", "conv_kernel",
                                                                                   default=4),
             mamba_chunk_size=r.int("mamba_chunk_size", "chunk_size", default=128),
             mamba_conv_bias=r.flag("mamba_conv_bias" if "mamba_conv_bias" in r.raw else "use_conv_bias", True),
             mamba_proj_bias=r.flag("use_bias", False))
    if "mamba_conv_bias" in r.raw:
        r.get("use_conv_bias")
    experts = r.int("n_routed_experts", "num_local_experts", default=8) if moe_layers else 0
    width = r.int("moe_intermediate_size", default=7688) if moe_layers else 0
    shared = r.int("moe_shared_expert_intermediate_size", default=7688) if moe_layers else 0
    top_k = r.int("num_experts_per_tok", default=2) if moe_layers else 0
    for key in ("n_routed_experts", "num_local_experts", "moe_intermediate_size", "moe_shared_expert_intermediate_size",
                "num_experts_per_tok"):
        r.get(key)  # without an MoE layer the class builds no expert
    if moe_layers:
        v.update(num_experts=experts, top_k=top_k, moe_ffn_hidden_size=width, num_shared_experts=1,
                 shared_expert_ffn_size=shared, router_score_correction_bias=True,
                 dense_layers=tuple(i for i in range(len(blocks)) if i not in set(moe_layers)))
    return v


def _mb_read_falcon_h1(r: _MBFields, mt: str) -> dict:
    """Falcon-H1 (transformers 5.23 configuration_falcon_h1.py / modeling_falcon_h1.py; TII, "Falcon-H1: A Family of
    Hybrid-Head Language Models", arXiv:2507.22448): every layer (FalconH1DecoderLayer) normalises its input once
    (input_layernorm) and runs a Mamba-2 mixer and GQA attention side by side on it, sums them into the residual,
    then a pre-normed SwiGLU MLP (pre_ff_layernorm; gate/up/down of intermediate_size, biased by mlp_bias); a final
    RMSNorm; the head tied by tie_word_embeddings (false by default).

    * attention: num_key_value_heads (8; null: as many as the heads), head_dim from the file (the class has no such
      field; FalconH1Attention reads it when present), else hidden / heads; q/k/v/o biased by attention_bias; rotary;
    * Mamba-2 (FalconH1Mixer): width mamba_d_ssm (1024; null: mamba_expand x hidden) in mamba_n_heads (128) heads of
      mamba_d_head ("auto": width / heads; FalconH1Config.validate_architecture refuses heads x head width other than
      the width), mamba_n_groups (1) groups of B and C of mamba_d_state (256), conv kernel mamba_d_conv (4) biased by
      mamba_conv_bias (true), in_proj biased by mamba_proj_bias (false), out_proj by projectors_bias (false), the
      gated RMSNorm over the width only with mamba_rms_norm (false; else silu(z) gates the scan, elementwise), the
      torch scan's chunk mamba_chunk_size (256);
    * the muP multipliers (embedding_multiplier, lm_head_multiplier, key_multiplier, attention_in/out_multiplier,
      ssm_in/out_multiplier, mlp_multipliers, ssm_multipliers as the mixer's mup_vector buffer, not persistent) scale
      activations elementwise: no parameter, no counted FLOP, no cached byte; read and checked, nothing else.
    The hub files' own mamba_use_mlp (the MLP is always built: only true accepted) and attn_layer_indices (every
    layer attends: only null accepted) are not read by the class.  Refused: a sliding window."""
    h, heads = r.int("hidden_size", default=4096), r.int("num_attention_heads", default=32)
    layers = r.int("num_hidden_layers", default=32)
    if layers > MODEL_MAX_LAYERS:
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    kv = heads if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None else \
        r.int("num_key_value_heads", default=8)
    expand = r.int("mamba_expand", default=2)
    width = expand * h if "mamba_d_ssm" in r.raw and r.get("mamba_d_ssm")[1] is None else \
        r.int("mamba_d_ssm", default=1024)
    m_heads = r.int("mamba_n_heads", default=128)
    _, head_dim = r.get("mamba_d_head")
    if head_dim is None or head_dim == "auto":
        head_dim = width // m_heads
    elif isinstance(head_dim, bool) or not isinstance(head_dim, int) or not 1 <= head_dim <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'mamba_d_head' must be a positive integer or \"auto\", got "
                         f"{head_dim!r:.60}")
    if width % m_heads or head_dim * m_heads != width:  # FalconH1Config.validate_architecture
        raise InputError(f"{r.where}: fields 'mamba_n_heads' {m_heads} x 'mamba_d_head' {head_dim} must equal the "
                         f"Mamba-2 width {width} ('mamba_d_ssm', else 'mamba_expand' x 'hidden_size'), as "
                         "FalconH1Config requires")
    r.expect("mamba_use_mlp", True, mt)
    r.expect("attn_layer_indices", None, mt)
    r.expect("sliding_window", None, mt)
    for key in ("lm_head_multiplier", "embedding_multiplier", "key_multiplier", "attention_out_multiplier",
                "attention_in_multiplier", "ssm_in_multiplier", "ssm_out_multiplier"):
        r.number(key, 1.0)
    for key, size in (("mlp_multipliers", 2), ("ssm_multipliers", 5)):
        value = r.get(key)[1]
        if value is not None and (not isinstance(value, list) or len(value) != size or any(
                isinstance(x, bool) or not isinstance(x, (int, float)) for x in value)):
            raise InputError(f"{r.where}: field '{key}' must be a list of {size} numbers, got {value!r:.60}")
    r.flag("mamba_norm_before_gate", True)  # where the gate meets the norm: elementwise either way
    for key in ("time_step_limit", "num_logits_to_keep"):
        r.get(key)  # the dt clamp and the logits kept at generation: no count, no matmul
    return dict(hidden_size=h, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size",
                                                                                               default=128000),
                num_kv_heads=kv, head_dim=r.int("head_dim", default=0),
                ffn_hidden_size=r.int("intermediate_size", default=14336), qkv_bias=r.flag("attention_bias", False),
                o_bias=r.flag("attention_bias", False), mlp_bias=r.flag("mlp_bias", False), gguf_arch="falcon-h1",
                parallel_ssm=True, ssm_kind="mamba2", mamba_num_heads=m_heads, mamba_head_dim=head_dim,
                mamba_n_groups=r.int("mamba_n_groups", default=1), mamba_d_state=r.int("mamba_d_state", default=256),
                mamba_d_conv=r.int("mamba_d_conv", default=4), mamba_chunk_size=r.int("mamba_chunk_size", default=256),
                mamba_conv_bias=r.flag("mamba_conv_bias", True), mamba_proj_bias=r.flag("mamba_proj_bias", False),
                mamba_out_proj_bias=r.flag("projectors_bias", False),
                mamba_gated_norm=r.flag("mamba_rms_norm", False))
def _mb_read_jamba(r: _MBFields, mt: str) -> dict:
    """JambaConfig (transformers 5.23 configuration_jamba.py, modeling_jamba.py; Lieber et al. 2024, arXiv:2403.19887):
    layer i is attention when i % attn_layer_period == attn_layer_offset (8, 4) and a Mamba-1 mixer otherwise
    (layers_block_type); its feed-forward is a sparse MoE block when i % expert_layer_period == expert_layer_offset
    (2, 1) and num_experts (16) > 1 (layers_num_experts), a SwiGLU JambaMLP of intermediate_size otherwise.  The MoE
    block: a bias-free router (num_experts, h), softmax top-num_experts_per_tok (2) weights left unnormalised, experts
    of intermediate_size, no shared expert.  Attention: JambaAttention, no biases, no positional encoding at all,
    head_dim hidden / heads (a head_dim field, which getattr would read, too), 8 KV heads by default.  The mixer:
    inner d = mamba_expand (2) x hidden, state mamba_d_state (16), conv kernel mamba_d_conv (4) with a bias
    (mamba_conv_bias, true), dt rank mamba_dt_rank ("auto": ceil(hidden / 16)), in/out projections biased by
    mamba_proj_bias (false), RMSNorms on dt, B and C.  Two RMSNorms a layer and a final one; untied head by default.
    use_mamba_kernels / use_mambapy / use_associative_scan pick how the scan runs, not what it computes (the same
    matmuls: calc_transformer_flops.py's mamba1_flops)."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        kv = heads  # JambaConfig.__post_init__: a null KV-head count is as many as query heads
        r.get("num_key_value_heads")
    else:
        kv = r.int("num_key_value_heads", default=8)
    periods = {}
    for period, offset, default in (("attn_layer_period", "attn_layer_offset", (8, 4)),
                                    ("expert_layer_period", "expert_layer_offset", (2, 1))):
        every, first = r.int(period, default=default[0]), r.int(offset, default=default[1], minimum=0)
        if first >= every:  # JambaConfig.validate_architecture
            raise InputError(f"{r.where}: field '{offset}' {first} must be smaller than '{period}' {every}, as "
                             "JambaConfig requires")
        periods[period] = (every, first)
    attn_every, attn_first = periods["attn_layer_period"]
    expert_every, expert_first = periods["expert_layer_period"]
    mixers = tuple("attention" if i % attn_every == attn_first else "linear" for i in range(layers))
    experts = r.int("num_experts", "num_local_experts", default=16)
    top_k = r.int("num_experts_per_tok", default=2)
    moe = experts > 1 and any(i % expert_every == expert_first for i in range(layers))
    for key, built in (("layers_block_type", ["attention" if t == "attention" else "mamba" for t in mixers]),
                       ("layer_types", ["full_attention" if t == "attention" else "linear_attention" for t in mixers]),
                       ("layers_num_experts", [experts if i % expert_every == expert_first else 1
                                               for i in range(layers)])):
        _, found = r.get(key)  # properties of JambaConfig: a file may repeat them, never override them
        if found is not None and found != built:
            raise InputError(f"{r.where}: field '{key}' does not match what JambaConfig derives from the layer "
                             "periods and offsets; refusing rather than guessing")
    expand = r.int("mamba_expand", default=2)
    _, rank = r.get("mamba_dt_rank")
    if rank is None or rank == "auto":
        rank = -(-hidden // 16)  # math.ceil(hidden_size / 16)
    elif isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'mamba_dt_rank' must be a positive integer or \"auto\", got {rank!r:.60}")
    for key in ("use_mamba_kernels", "use_mambapy", "use_associative_scan"):
        r.flag(key, key != "use_mambapy")  # how the scan runs (kernels, pscan, associative scan): the same matmuls
    r.get("num_logits_to_keep")  # logits kept at generation: no count
    return dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
                num_kv_heads=kv, head_dim=r.int("head_dim", default=0), ffn_hidden_size=r.int("intermediate_size"),
                position_embedding="none", gguf_arch="jamba",
                num_experts=experts if moe else 0, top_k=top_k if moe else 0,
                expert_interval=expert_every, expert_interval_phase=(expert_every - expert_first) % expert_every,
                mixer_types=mixers if "linear" in mixers else (), ssm_kind="mamba1" if "linear" in mixers else "",
                mamba1_inner=expand * hidden, mamba_dt_rank=rank, mamba_bcdt_norms=True,
                mamba_d_state=r.int("mamba_d_state", default=16), mamba_d_conv=r.int("mamba_d_conv", default=4),
                mamba_conv_bias=r.flag("mamba_conv_bias", True), mamba_proj_bias=r.flag("mamba_proj_bias", False))


def _mb_read_ernie4_5_moe(r: _MBFields, mt: str) -> dict:
    """Ernie4_5_MoeConfig (transformers 5.23 configuration_ernie4_5_moe.py, modeling_ernie4_5_moe.py; Baidu's ERNIE
    4.5 technical report and model cards): the Llama block (GQA, head_dim hidden / heads unless the file gives one,
    RMSNorm, SwiGLU of intermediate_size) with use_bias (false) on q/k/v/o, the dense and shared MLPs and the LM head
    (Ernie4_5_MoeForCausalLM's lm_head = nn.Linear(h, V, bias=use_bias), a bias kept even with the tied head), a
    tied head by default; layer i is MoE when (i + 1) % moe_layer_interval (1) == 0 and moe_layer_start_index (1) <= i
    <= moe_layer_end_index (-1: the last layer): moe_num_experts (64) stacked SwiGLU experts of moe_intermediate_size
    (1536) without bias, top-moe_k (6) of a softmax router (E, h) held in fp32, moe_statics.e_score_correction_bias
    (1, E) an fp32 Parameter without gradient, and moe_num_shared_experts (2) shared experts fused into one SwiGLU of
    2 x moe_intermediate_size.  Paddle's own switches the class does not read are accepted where they describe that
    model (moe_gate "topk", use_rmsnorm true; moe_capacity and moe_use_aux_free change no tensor: the statics are
    built either way); num_nextn_predict_layers: MTP modules transformers does not build (a note)."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    bias = r.flag("use_bias", False)
    experts = r.int("moe_num_experts", "num_experts", default=64)
    top_k = r.int("moe_k", "num_experts_per_tok", default=6)
    start = r.int("moe_layer_start_index", default=1, minimum=0)
    _, end = r.get("moe_layer_end_index")
    end = layers - 1 if end is None or end == -1 else end  # Ernie4_5_MoeConfig.__post_init__
    if isinstance(end, bool) or not isinstance(end, int) or end < 0:
        raise InputError(f"{r.where}: field 'moe_layer_end_index' must be -1 or a layer index, got {end!r:.60}")
    interval = r.int("moe_layer_interval", default=1)
    moe_layers = [i for i in range(layers) if (i + 1) % interval == 0 and start <= i <= end]
    shared = r.int("moe_num_shared_experts", default=2, minimum=0)
    width = r.int("moe_intermediate_size", default=1536)
    r.expect("moe_gate", "topk", mt)
    r.expect("use_rmsnorm", True, mt)
    r.flag("moe_use_aux_free", True)  # Paddle's switch; transformers builds moe_statics whatever it says
    _, capacity = r.get("moe_capacity")  # Paddle's training capacity: transformers drops no token
    if capacity is not None and not isinstance(capacity, list):
        raise InputError(f"{r.where}: field 'moe_capacity' must be a list, got {capacity!r:.60}")
    r.number("moe_norm_min")
    r.number("multi_token_pred_lambda")
    v = dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
             num_kv_heads=heads if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None
             else r.int("num_key_value_heads", default=4), head_dim=r.int("head_dim", default=0),
             ffn_hidden_size=r.int("intermediate_size", default=12288), qkv_bias=bias, o_bias=bias, mlp_bias=bias,
             lm_head_bias=bias, gguf_arch="ernie4_5-moe")
    if moe_layers:
        v.update(num_experts=experts, top_k=top_k, moe_ffn_hidden_size=width, num_shared_experts=shared,
                 shared_expert_ffn_size=width if shared else 0, first_k_dense=start, expert_interval=interval,
                 expert_interval_phase=1, dense_layers=tuple(range(end + 1, layers)), router_fp32=True,
                 router_frozen_bias=True)
    return v


def _mb_one_per_layer(r: _MBFields, key: str, layers: int, default: int, minimum: int = 1) -> int:
    """A field that is an integer or a per-layer list (Hunyuan's moe_topk, moe_intermediate_size, num_shared_expert):
    its one value; a list must give it for every layer, the same each time (the block has one value per model)."""
    _, value = r.get(key)
    if isinstance(value, list):
        if len(value) < layers or len(set(map(repr, value[:layers]))) != 1:
            raise InputError(f"{r.where}: field '{key}' must give one value for each of the {layers} layers, the same "
                             f"each time (per-layer values are not modelled), got {value!r:.60}")
        value = value[0]
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field '{key}' must be an integer >= {minimum}, got {value!r:.60}")
    return value


def _mb_read_hunyuan_v1_moe(r: _MBFields, mt: str) -> dict:
    """HunYuanMoEV1Config (transformers 5.23 configuration_hunyuan_v1_moe.py, modeling_hunyuan_v1_moe.py; Tencent's
    Hunyuan-A13B model card): every layer HunYuanMoEV1Moe: a router nn.Linear(h, num_experts, bias=False,
    dtype=torch.float32) with softmax top-moe_topk weights renormalised, num_experts stacked SwiGLU experts of
    intermediate_size (HunYuanMoEV1Experts reads that, not moe_intermediate_size) and one shared SwiGLU (shared_mlp) of
    intermediate_size, none biased; attention with attention_bias on q/k/v/o and RMSNorms over head_dim on queries and
    keys (query_layernorm / key_layernorm, always built); two RMSNorms a layer, a final one; untied head by default.
    head_dim must be in the file: HunYuanMoEV1Attention takes getattr(config, "head_dim"), which the class leaves None
    (no model can be built without it).  The Hub file's own fields are accepted where they describe what transformers
    builds (attention_head_dim = head_dim; moe_intermediate_size = intermediate_size and num_shared_expert 1, for
    every layer; use_mixed_mlp_moe and use_qk_norm true, use_cla false, moe_layer_num_skipped 0, mlp_bias false) and
    refused otherwise; num_experts must be one integer (HunYuanMoEV1Experts cannot stack a per-layer list)."""
    layers, hidden, heads = r.int("num_hidden_layers"), r.int("hidden_size"), r.int("num_attention_heads")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    if r.absent("head_dim") or r.raw["head_dim"] is None:
        raise InputError(f"{r.where}: field 'head_dim' is missing: transformers' HunYuanMoEV1Attention reads it "
                         "(attention_head_dim is not read) and builds no model without it")
    head_dim = r.int("head_dim")
    r.expect("attention_head_dim", head_dim, mt)
    width = r.int("intermediate_size", default=11008)
    if _mb_one_per_layer(r, "moe_intermediate_size", layers, width) != width:
        raise InputError(f"{r.where}: field 'moe_intermediate_size' differs from 'intermediate_size' {width}, which "
                         "transformers' HunYuanMoEV1Experts uses for every expert; refusing rather than guessing")
    if _mb_one_per_layer(r, "num_shared_expert", layers, 1) != 1:
        raise InputError(f"{r.where}: field 'num_shared_expert' is not 1: transformers builds one shared MLP a layer")
    for key, value in (("use_mixed_mlp_moe", True), ("use_qk_norm", True), ("use_cla", False),
                       ("moe_layer_num_skipped", 0), ("mlp_bias", False)):
        r.expect(key, value, mt)
    r.number("cla_share_factor")  # cross-layer attention's sharing factor, unused with use_cla false
    _, experts = r.get("num_experts", "num_local_experts")
    experts = 1 if experts is None else experts
    if isinstance(experts, bool) or not isinstance(experts, int) or not 1 <= experts <= MODEL_MAX_WIDTH:
        raise InputError(f"{r.where}: field 'num_experts' must be one positive integer (HunYuanMoEV1Experts stacks "
                         f"that many for every layer), got {experts!r:.60}")
    kv = r.raw.get("num_key_value_heads")
    bias = r.flag("attention_bias", False)
    return dict(hidden_size=hidden, num_layers=layers, num_attention_heads=heads, vocab_size=r.int("vocab_size"),
                num_kv_heads=heads if kv is None else r.int("num_key_value_heads"), head_dim=head_dim,
                ffn_hidden_size=width, qkv_bias=bias, o_bias=bias, qk_norm="head", gguf_arch="hunyuan-moe",
                num_experts=experts, top_k=_mb_one_per_layer(r, "moe_topk", layers, 1), moe_ffn_hidden_size=width,
                num_shared_experts=1, shared_expert_ffn_size=width, router_fp32=True)


def _mb_type_list(r: _MBFields, key: str, allowed: tuple, layers: int):
    """A per-layer list of names (layer_types, mlp_layer_types): None when absent or null."""
    value = r.get(key)[1]
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) and t in allowed for t in value):
        raise InputError(f"{r.where}: field '{key}' must list {' or '.join(map(repr, allowed))} per layer, "
                         f"got {value!r:.80}")
    if len(value) != layers:
        raise InputError(f"{r.where}: field '{key}' has {len(value)} entries for {layers} layers")
    return value


def _mb_hub_pattern(r: _MBFields, key: str, built: list, meaning: str) -> None:
    """MiMo's own per-layer 0/1 lists (hybrid_layer_pattern, moe_layer_freq), which MiMoV2FlashConfig does not read:
    accepted where they describe the layers transformers builds, refused where they would build another model."""
    value = r.get(key)[1]
    if value is not None and value != built:
        raise InputError(f"{r.where}: field '{key}' {value!r:.60} disagrees with the layers transformers' "
                         f"mimo_v2_flash builds ({meaning}); refusing rather than guessing")


def _mb_read_mimo_v2_flash(r: _MBFields, mt: str) -> dict:
    """MiMo-V2-Flash (transformers 5.23 configuration_mimo_v2_flash.py / modeling_mimo_v2_flash.py; Xiaomi's
    model card, 309B total / 15B active): the Llama block (RMSNorm, SwiGLU) with queries and keys of head_dim (192)
    and values of v_head_dim (128), so o_proj reads heads x v_head_dim; o_proj never has a bias, q/k/v one with
    attention_bias.  Full-attention layers (the first and every 6th, or layer_types) have num_key_value_heads
    KV heads; sliding layers twice as many and one learned sink logit per query head (MiMoV2FlashAttention:
    num_key_value_heads * 2 if is_swa), a window of sliding_window_size + 1 tokens where the hub file gives
    sliding_window_size (the SGLang reference attends to that many previous tokens plus the query), else
    sliding_window (129).  MLP per mlp_layer_types: "dense" (intermediate_size) for the first layer, "sparse"
    for the rest: n_routed_experts (256) experts of moe_intermediate_size (2048), top num_experts_per_tok (8), a
    sigmoid router with a score-correction bias (a buffer), no shared expert.  The hub file's own fields
    (hybrid_layer_pattern, moe_layer_freq, swa_*, add_*_attention_sink_bias) are not read by transformers: each is
    accepted where it describes the model transformers builds and refused where it does not.  The checkpoint's
    MTP modules are not built by transformers (ignored on load) and not counted."""
    for key in ("num_key_value_heads", "head_dim", "v_head_dim"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a number")
    layers = r.int("num_hidden_layers")
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    heads = r.int("num_attention_heads")
    kv = r.int("num_key_value_heads", default=4)
    head_dim, v_dim = r.int("head_dim", default=192), r.int("v_head_dim", default=128)
    types = _mb_type_list(r, "layer_types", ("full_attention", "sliding_attention"), layers)
    if types is None:  # MiMoV2FlashConfig.__post_init__: full at layer 0 and every 6th layer
        types = ["full_attention" if i == 0 or not (i + 1) % 6 else "sliding_attention" for i in range(layers)]
    mlp = _mb_type_list(r, "mlp_layer_types", ("dense", "sparse"), layers)
    if mlp is None:
        mlp = ["dense"] + ["sparse"] * (layers - 1)
    _mb_hub_pattern(r, "hybrid_layer_pattern", [int(t == "sliding_attention") for t in types], "1 = sliding")
    _mb_hub_pattern(r, "moe_layer_freq", [int(t == "sparse") for t in mlp], "1 = experts")
    r.expect("swa_num_attention_heads", heads, mt)
    r.expect("swa_num_key_value_heads", 2 * kv, mt)
    r.expect("swa_head_dim", head_dim, mt)
    r.expect("swa_v_head_dim", v_dim, mt)
    r.expect("add_swa_attention_sink_bias", True, mt)
    r.expect("add_full_attention_sink_bias", False, mt)
    r.expect("use_qk_norm", False, mt)  # MiMoV2FlashConfig drops it: no q/k norm is built
    r.expect("mlp_bias", False, mt)  # its MLPs are built without biases whatever the file says
    shared = r.get("n_shared_experts")[1]
    if shared not in (None, 0):  # MiMoV2FlashMoE deletes DeepseekV3MoE's shared experts
        raise InputError(f"{r.where}: field 'n_shared_experts' {shared!r:.40} is not modelled for model_type "
                         f"'{mt}' (transformers builds no shared expert); refusing rather than guessing")
    if r.get("hybrid_block_size")[1] is not None:
        raise InputError(f"{r.where}: field 'hybrid_block_size' is not modelled for model_type '{mt}'")
    window = r.int("sliding_window", default=129)
    size = r.get("sliding_window_size")[1]
    if size is not None:
        window = r.int("sliding_window_size", minimum=0) + 1
    r.get("attention_chunk_size")  # hub-only: transformers' MiMo builds no chunked attention from it
    r.number("attention_value_scale")  # a scalar on the values: no parameter, no matmul
    r.number("swa_rope_theta")
    r.number("layernorm_epsilon")
    experts = r.int("n_routed_experts", "num_local_experts", default=256)
    bias = r.flag("attention_bias", False)
    sliding = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
    dense = tuple(i for i, t in enumerate(mlp) if t == "dense")
    v = dict(hidden_size=r.int("hidden_size"), num_layers=layers, num_attention_heads=heads,
             vocab_size=r.int("vocab_size"), ffn_hidden_size=r.int("intermediate_size", default=16384),
             num_kv_heads=kv, head_dim=head_dim, v_head_dim=v_dim, qkv_bias=bias, o_bias=False,
             softmax_fp32=False)  # its eager attention takes the softmax in the logits' dtype
    if "sliding" in sliding:
        v.update(sliding_window=window, layer_types=sliding, sliding_kv_heads=2 * kv, attention_sinks=True,
                 sinks_sliding_only=True)
    if len(dense) < layers:
        v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8),
                 moe_ffn_hidden_size=r.int("moe_intermediate_size", default=2048), dense_layers=dense,
                 expert_interval=1, expert_interval_phase=0, router_score_correction_bias=True)
    else:  # no "sparse" layer: the expert fields build nothing
        r.get("num_experts_per_tok")
        r.get("moe_intermediate_size")
    return v


# PretrainedConfig's own attributes, which transformers 4.x wrote into every nested sub-config it saved (DBRX's
# attn_config / ffn_config): no DBRX module reads them from a sub-config
_MB_NESTED_CONFIG_GENERIC = frozenset("""
return_dict output_hidden_states output_attentions torchscript torch_dtype dtype use_bfloat16 tf_legacy_loss
pruned_heads tie_word_embeddings chunk_size_feed_forward is_encoder_decoder is_decoder cross_attention_hidden_size
add_cross_attention tie_encoder_decoder max_length min_length do_sample early_stopping num_beams num_beam_groups
diversity_penalty temperature top_k top_p typical_p repetition_penalty length_penalty no_repeat_ngram_size
encoder_no_repeat_ngram_size bad_words_ids num_return_sequences output_scores return_dict_in_generate
forced_bos_token_id forced_eos_token_id remove_invalid_values exponential_decay_length_penalty suppress_tokens
begin_suppress_tokens architectures finetuning_task id2label label2id tokenizer_class prefix bos_token_id
pad_token_id eos_token_id sep_token_id decoder_start_token_id task_specific_params problem_type _name_or_path
transformers_version model_type
""".split())


def _mb_read_dbrx(r: _MBFields) -> dict:
    """DBRX (transformers 5.23 configuration_dbrx.py / modeling_dbrx.py): d_model, n_heads, n_layers at the top and
    two nested blocks.  attn_config: kv_n_heads (1 by default), clip_qkv (a clamp of the fused projection: no
    parameter, no matmul), rope_theta, attn_pdrop.  ffn_config: moe_num_experts (4), moe_top_k (1),
    ffn_hidden_size (3584), ffn_act_fn ({"name": "silu"}), router scalars.  Each layer: a bias-free LayerNorm, one
    fused Wqkv (h + 2 x KV heads x head_dim, h) and out_proj (h, h) without biases (head_dim = d_model / n_heads), a
    second bias-free LayerNorm, a bias-free router (E, h) and E SwiGLU experts stored fused as w1, v1, w2 of
    (E x ffn, h) each: 3 x E x ffn x h elements, as the stacked layout counts them.  A final bias-free LayerNorm and
    an untied head (DbrxConfig refuses tie_word_embeddings).  Any nested key other than these and PretrainedConfig's
    own is refused."""
    blocks = {}
    known = {"attn_config": {"kv_n_heads", "clip_qkv", "rope_theta", "attn_pdrop"},
             "ffn_config": {"moe_num_experts", "moe_top_k", "ffn_hidden_size", "ffn_act_fn", "moe_jitter_eps",
                            "moe_loss_weight", "moe_normalize_expert_weights", "uniform_expert_assignment",
                            "hidden_size"}}  # ffn_config.hidden_size: DbrxConfig overwrites it with d_model
    for name, keys in known.items():
        _, block = r.get(name)
        if block is not None and not isinstance(block, dict):
            raise InputError(f"{r.where}: field '{name}' must be a JSON object, got {block!r:.60}")
        block = block or {}
        for key in block:
            if key not in keys and key not in _MB_NESTED_CONFIG_GENERIC:
                raise InputError(f"{r.where}: field '{name}.{key}' is not modelled for model_type 'dbrx'; refusing "
                                 "rather than guessing")
        blocks[name] = _MBFields(block, f"{r.where} {name}")
    attn, ffn = blocks["attn_config"], blocks["ffn_config"]
    h, heads = r.int("d_model", default=2048), r.int("n_heads", default=16)
    if r.raw.get("tie_word_embeddings") is True:
        raise InputError(f"{r.where}: field 'tie_word_embeddings' true: DbrxConfig refuses a tied head")
    if h % heads:  # DbrxAttention: head_dim = d_model // n_heads, q of d_model rows: another width cannot run
        raise InputError(f"{r.where}: field 'd_model' {h} is not divisible by 'n_heads' {heads}")
    kv = attn.int("kv_n_heads", default=1)
    if heads % kv:
        raise InputError(f"{r.where}: field 'attn_config.kv_n_heads' {kv} does not divide 'n_heads' {heads}")
    attn.number("clip_qkv")
    attn.number("rope_theta")
    act = ffn.get("ffn_act_fn")[1]
    if act is not None and (not isinstance(act, dict) or act.get("name", "silu") != "silu" or set(act) - {"name"}):
        raise InputError(f"{r.where}: field 'ffn_config.ffn_act_fn' {act!r:.60} is not modelled (only "
                         "{'name': 'silu'}, DBRX's SwiGLU experts)")
    for key in ("moe_jitter_eps", "moe_loss_weight", "moe_normalize_expert_weights"):
        ffn.number(key)
    ffn.flag("uniform_expert_assignment", False)
    experts = ffn.int("moe_num_experts", default=4)
    dropout = max(r.number("emb_pdrop"), r.number("resid_pdrop"), attn.number("attn_pdrop")) > 0
    return dict(hidden_size=h, num_layers=r.int("n_layers", default=24), num_attention_heads=heads,
                vocab_size=r.int("vocab_size", default=32000), ffn_hidden_size=ffn.int("ffn_hidden_size", default=3584),
                num_kv_heads=kv, fused_qkv=True, norm="layernorm-nobias", num_experts=experts,
                top_k=ffn.int("moe_top_k", default=1), dropout=dropout, expert_rows_fused=True, gguf_arch="dbrx")


def _mb_read_glm4_moe(r: _MBFields, v: dict) -> None:
    """GLM-4.5 / GLM-4.6 (transformers 5.23 modeling_glm4_moe.py): the Llama block with q/k/v biased by
    attention_bias and o_proj never biased; q_norm / k_norm (RMSNorm over head_dim) when use_qk_norm; layers
    i >= first_k_dense_replace are MoE: a sigmoid router (Glm4MoeTopkRouter: an (E, h) weight and the
    e_score_correction_bias buffer), E stacked experts of moe_intermediate_size and one shared MLP of
    moe_intermediate_size x n_shared_experts.  Its MTP modules (num_nextn_predict_layers) are not built by
    transformers: the params script's --mtp-layers counts them as DeepSeek-V3's (report sec. 2.2 layout)."""
    defaults = _MB_CLASS_DEFAULTS["glm4_moe"]
    v.update(o_bias=False, gguf_arch="glm4moe")
    if r.flag("use_qk_norm", False):
        v["qk_norm"] = "head"
    experts = defaults["n_routed_experts"] if r.absent("n_routed_experts", "num_local_experts") else \
        r.int("n_routed_experts", "num_local_experts")  # Glm4MoeExperts of 0 experts is not a model
    v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8),
             moe_ffn_hidden_size=r.int("moe_intermediate_size", default=defaults["moe_intermediate_size"]),
             # 0 shared experts would still build a zero-width shared MLP (three empty tensors): refused
             num_shared_experts=r.int("n_shared_experts", default=1),
             first_k_dense=r.int("first_k_dense_replace", default=1, minimum=0), expert_interval_phase=0,
             router_score_correction_bias=True)
    r.get("num_nextn_predict_layers", "num_mtp_layers")  # MTP modules: a note, counted only with --mtp-layers


# DeepseekV32Config / GlmMoeDsaConfig (transformers 5.23) signature defaults where the file leaves a field out
_MB_DSA_DEFAULTS = {
    "deepseek_v32": dict(num_key_value_heads=128, q_lora_rank=1536, qk_nope_head_dim=128, v_head_dim=128,
                         index_n_heads=64),
    "glm_moe_dsa": dict(num_key_value_heads=64, q_lora_rank=2048, qk_nope_head_dim=192, v_head_dim=256,
                        index_n_heads=32),
}


def _mb_read_dsa(r: _MBFields, mt: str, v: dict) -> None:
    """DeepSeek-V3.2 (deepseek_v32) and GLM-5 (glm_moe_dsa), transformers 5.23 configuration_/modeling_deepseek_v32.py
    and _glm_moe_dsa.py.  Attention is MLA always with a q-LoRA (q_a_proj, q_a_layernorm, q_b_proj; a null or 0
    q_lora_rank is not a model these classes build), kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj, o_proj (q_a,
    kv_a and o biased by attention_bias), plus the DSA indexer (_mb_indexer: index_n_heads, index_head_dim;
    index_topk keys per query).  The MLP of layer i is dense when mlp_layer_types[i] is "dense" (by default the first
    first_k_dense_replace layers, 3), else a sigmoid router (an (E, h) weight and the e_score_correction_bias buffer),
    E stacked experts of moe_intermediate_size and one shared MLP of moe_intermediate_size x n_shared_experts.
    head_dim is overwritten by the class (qk_rope_head_dim), qk_head_dim is nope + rope; num_key_value_heads only
    sets how often eager attention repeats the already per-head keys, so anything but num_attention_heads cannot
    run.  GLM-5's indexer_types "shared" layers (GLM-5.2's IndexShare: no indexer, the previous layer's top-k reused)
    are refused, not modelled.  MTP modules (num_nextn_predict_layers) are not built by transformers; the params
    script's --mtp-layers counts them as DeepSeek-V3 lays one out (their layer has an indexer: the checkpoints'
    layer 61 / 78)."""
    defaults = _MB_DSA_DEFAULTS[mt]
    heads = v["num_attention_heads"]
    kv = defaults["num_key_value_heads"] if r.absent("num_key_value_heads") else r.int("num_key_value_heads")
    if kv != heads:
        raise InputError(f"{r.where}: field 'num_key_value_heads' {kv} differs from 'num_attention_heads' {heads}: "
                         f"{mt}'s eager attention repeats its per-head keys heads / num_key_value_heads times, which "
                         "cannot run; give num_key_value_heads = num_attention_heads")
    if not r.absent("q_lora_rank") and r.raw["q_lora_rank"] is None:
        raise InputError(f"{r.where}: field 'q_lora_rank' is null, which {mt}'s attention (always a q-LoRA) does not "
                         "build; give its rank")
    nope, rope = r.int("qk_nope_head_dim", default=defaults["qk_nope_head_dim"]), r.int("qk_rope_head_dim", default=64)
    r.expect("qk_head_dim", nope + rope, mt)  # the class sets nope + rope whatever the file says
    r.get("head_dim")  # overwritten with qk_rope_head_dim by the class
    v.update(q_lora_rank=r.int("q_lora_rank", default=defaults["q_lora_rank"]),
             kv_lora_rank=r.int("kv_lora_rank", default=512), qk_nope_head_dim=nope, qk_rope_head_dim=rope,
             v_head_dim=r.int("v_head_dim", default=defaults["v_head_dim"]), head_dim=0, num_kv_heads=0,
             index_n_heads=r.int("index_n_heads", default=defaults["index_n_heads"]),
             index_head_dim=r.int("index_head_dim", default=128), index_topk=r.int("index_topk", default=2048),
             gguf_arch=mt)
    for key in ("rope_interleave", "indexer_rope_interleave"):  # RoPE layouts: no count
        r.flag(key, True)
    _mb_moe_layer_freq(r)  # not read by these classes; DeepSeek's own code would place experts otherwise
    experts = 256 if r.absent("n_routed_experts", "num_local_experts", "num_experts") else         r.int("n_routed_experts", "num_local_experts", "num_experts")
    layers = v["num_layers"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    first = r.int("first_k_dense_replace", default=3, minimum=0)
    types = r.get("mlp_layer_types")[1]
    if types is None:
        dense = tuple(range(min(first, layers)))
    elif not isinstance(types, list) or len(types) != layers or set(types) - {"dense", "sparse"}:
        raise InputError(f"{r.where}: field 'mlp_layer_types' must list 'dense' or 'sparse' for each of the "
                         f"{layers} layers, got {types!r:.80}")
    else:
        dense = tuple(i for i, t in enumerate(types) if t == "dense")
    v.update(num_experts=experts, top_k=r.int("num_experts_per_tok", default=8),
             moe_ffn_hidden_size=r.int("moe_intermediate_size", default=2048),
             num_shared_experts=r.int("n_shared_experts", default=1), dense_layers=dense, first_k_dense=0,
             expert_interval_phase=0, router_score_correction_bias=True)
    r.get("num_nextn_predict_layers")  # MTP modules: a note, counted only with --mtp-layers
    _mb_read_index_share(r, mt, layers)


def _mb_read_index_share(r: _MBFields, mt: str, layers: int) -> None:
    """GlmMoeDsaConfig.__post_init__: indexer_types, else index_topk_pattern ("F" full, "S" shared), else layer i is
    "full" when max(i - index_skip_topk_offset + 1, 0) % index_topk_freq == 0 (freq 1, offset 2 by default: every
    layer full).  A "shared" layer has no indexer and reuses the previous full layer's top-k (GLM-5.2's IndexShare):
    not modelled, refused.  DeepseekV32Config reads none of these fields."""
    keys = ("indexer_types", "index_topk_pattern", "index_topk_freq", "index_skip_topk_offset")
    if mt != "glm_moe_dsa":
        for key in keys:
            r.expect(key, None, mt)
        return
    types, pattern = r.get("indexer_types")[1], r.get("index_topk_pattern")[1]
    freq, offset = r.int("index_topk_freq", default=1, minimum=0), r.int("index_skip_topk_offset", default=2,
                                                                         minimum=0)
    if types is None and pattern is not None:
        types = [{"F": "full", "S": "shared"}.get(c, c) for c in pattern] if isinstance(pattern, str) else pattern
        key = "index_topk_pattern"
    elif types is None:
        types = ["full" if max(i - offset + 1, 0) % max(freq, 1) == 0 else "shared" for i in range(layers)]
        key = "index_topk_freq"
    else:
        key = "indexer_types"
    if not isinstance(types, list) or len(types) != layers or set(types) - {"full", "shared"}:
        raise InputError(f"{r.where}: field '{key}' must give 'full' or 'shared' for each of the {layers} layers, "
                         f"got {types!r:.80}")
    if "shared" in types:
        raise InputError(f"{r.where}: field '{key}' makes {types.count('shared')} layers reuse another layer's top-k "
                         "without an indexer of their own (GLM-5.2's IndexShare); not modelled yet")


def _mb_read_minimax_m2(r: _MBFields, v: dict) -> None:
    """MiniMax-M2 (transformers 5.23 configuration_minimax_m2.py / modeling_minimax_m2.py): the Mixtral block with
    q/k/v/o never biased (MiniMaxM2Attention does not read attention_bias), q_norm / k_norm RMSNorms over the whole
    projection (heads x head_dim and KV heads x head_dim, before the split into heads: the published
    qk_norm_type "per_layer"), partial rotary (rotary_dim: no parameter); every layer MoE: a bias-free sigmoid router
    (E, h), the e_score_correction_bias buffer (E) on the MoE block and E stacked SwiGLU experts of intermediate_size,
    no shared expert.  MiniMaxM2Config: 8 KV heads, head_dim 128, 256 experts, top-8 when absent; its strict
    dataclass rejects a null KV-head count or head_dim, and so does this reader.

    The published file also carries MiniMax's own switches, which transformers does not read: accepted at the values
    transformers builds (use_qk_norm and use_routing_bias true, qk_norm_type "per_layer", shared_intermediate_size 0,
    attn_type_list all 1 = softmax attention, no sliding_window) and refused at any other; its multi-token-prediction
    modules (use_mtp, num_mtp_modules, mtp_transformer_layers) are not built by transformers: a note, not counted."""
    mt = "minimax_m2"
    for key in ("num_key_value_heads", "head_dim"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' {mt} config does not accept; "
                             "give a number")
    r.expect("attention_bias", False, mt)
    r.expect("use_qk_norm", True, mt)
    r.expect("qk_norm_type", "per_layer", mt)
    r.expect("use_routing_bias", True, mt)
    r.expect("shared_intermediate_size", 0, mt)
    r.expect("sliding_window", None, mt)  # MiniMaxM2Model masks causally whatever the field says
    # MiniMax-01's per-layer 0 (lightning attention) or 1 (softmax attention); MiniMax's own code indexes it by layer
    _, kinds = r.get("attn_type_list")
    if kinds is not None and (not isinstance(kinds, list) or len(kinds) < v["num_layers"]
                              or any(k != 1 or isinstance(k, bool) for k in kinds)):
        raise InputError(f"{r.where}: field 'attn_type_list' {kinds!r:.60} is not modelled for model_type '{mt}' "
                         f"(only 1, softmax attention, for each of the {v['num_layers']} layers)")
    r.flag("use_mtp", False)
    r.int("num_mtp_modules", default=0, minimum=0)
    r.int("mtp_transformer_layers", default=0, minimum=0)
    r.number("rotary_dim")
    v.update(qkv_bias=False, o_bias=False, qk_norm="full", gguf_arch="minimax-m2",
             num_experts=r.int("num_local_experts", "num_experts", default=256),
             top_k=r.int("num_experts_per_tok", default=8), router_score_correction_bias=True)


def _mb_read_dots1(r: _MBFields, v: dict) -> None:
    """dots.llm1 (transformers 5.23 configuration_dots1.py / modeling_dots1.py): the Qwen3 attention (q/k/v/o biased
    by attention_bias, q_norm / k_norm RMSNorm over head_dim; head_dim from the file, else hidden / heads) and
    DeepSeek-V3's MoE: layers i >= first_k_dense_replace hold a sigmoid router (Dots1TopkRouter: an (E, h) weight and
    the e_score_correction_bias buffer), E stacked SwiGLU experts of moe_intermediate_size and one shared SwiGLU of
    moe_intermediate_size x n_shared_experts; the others a SwiGLU of intermediate_size.  Dots1Config leaves
    n_routed_experts, num_experts_per_tok and n_shared_experts None when absent, which its modules cannot build:
    each is required here (0 shared experts would build a zero-width shared MLP: refused, as for GLM-4.5).
    moe_layer_freq, which the class does not read, is accepted only at 1 (every layer past the dense ones)."""
    v.update(qk_norm="head", gguf_arch="dots1",
             num_experts=r.int("n_routed_experts", "num_local_experts"), top_k=r.int("num_experts_per_tok"),
             moe_ffn_hidden_size=r.int("moe_intermediate_size", default=1408),
             num_shared_experts=r.int("n_shared_experts"),
             first_k_dense=r.int("first_k_dense_replace", default=0, minimum=0), expert_interval=_mb_moe_layer_freq(r),
             expert_interval_phase=0, router_score_correction_bias=True)


def _mb_minimax_m2_mtp_note(raw: dict) -> list:
    """MiniMax-M2's config announces MTP modules (use_mtp, num_mtp_modules of mtp_transformer_layers layers) that
    transformers does not build: said, not counted (their layout is MiniMax's own, not DeepSeek-V3's)."""
    modules = raw.get("num_mtp_modules")
    if raw.get("use_mtp") is not True or not isinstance(modules, int) or isinstance(modules, bool) or modules < 1:
        return []
    return [f"num_mtp_modules = {modules} (use_mtp): MiniMax-M2's multi-token-prediction modules are not counted, as "
            "transformers does not build them"]


def _mb_read_seed_oss(r: _MBFields, v: dict) -> None:
    """Seed-OSS (modeling_seed_oss.py): the Llama block; q/k/v biased by attention_bias (true by default), o_proj by
    attention_out_bias (false), the MLP by mlp_bias (false).  SeedOssConfig: head_dim 128 and 8 KV heads when absent,
    hidden / heads and as many KV heads as query heads when null."""
    v.update(qkv_bias=r.flag("attention_bias", True), o_bias=r.flag("attention_out_bias", False),
             mlp_bias=r.flag("mlp_bias", False), gguf_arch="seed_oss")
    if r.absent("head_dim"):
        v["head_dim"] = 128
    if r.absent("num_key_value_heads"):
        v["num_kv_heads"] = 8


def _mb_read_olmoe(r: _MBFields, v: dict) -> None:
    """OLMoE (modeling_olmoe.py): every layer is MoE: a bias-free router (E, h) and E stacked SwiGLU experts of
    intermediate_size (OLMoE has no moe_intermediate_size), no shared expert; q_norm over hidden_size and k_norm over
    (hidden / heads) x KV heads.  OlmoeConfig: 64 experts, top-8 when absent."""
    h, heads = v["hidden_size"], v["num_attention_heads"]
    if v["head_dim"] and v["head_dim"] * heads != h:  # q_norm is built hidden_size wide: another width cannot run
        raise InputError(f"{r.where}: field 'head_dim' {v['head_dim']} is not hidden_size / num_attention_heads "
                         f"({h} / {heads}), which OLMoE's q_norm and k_norm assume; not modelled")
    r.expect("sliding_window", None, "olmoe")  # OlmoeConfig has no window; a value here is some other model's
    v.update(qk_norm="full", num_experts=64 if r.absent("num_experts") else r.int("num_experts"),
             top_k=r.int("num_experts_per_tok", default=8), gguf_arch="olmoe")


def _mb_read_cohere(r: _MBFields, mt: str, v: dict) -> None:
    """Command-R / Aya (cohere) and Command-R7B / Command-A (cohere2), modeling_cohere(2).py: one CohereLayerNorm
    (weight only, no bias) per layer feeding attention and MLP in parallel, a final one, biases on all four
    attention projections by attention_bias, a SwiGLU MLP without biases; logit_scale multiplies the logits (a
    scalar).  Cohere's use_qk_norm adds LayerNorms whose weights are (heads, head_dim) and (KV heads, head_dim)
    matrices (qk_norm "per-head": the elements of whole-projection norms, the shapes an optimizer factors).
    Cohere2Config sets head_dim to hidden / heads whatever the file says."""
    v.update(norm="layernorm-nobias", norms_per_layer=1, norm_placement="parallel", gguf_arch=mt)
    r.number("logit_scale")
    r.expect("layer_norm_bias", False, mt)  # no class reads it; CohereLayerNorm is built without a bias
    if mt == "cohere":
        v["qk_norm"] = "per-head" if r.flag("use_qk_norm", False) else "none"
    else:
        r.expect("use_qk_norm", False, mt)  # Cohere2Attention builds no q/k norm
        if v["head_dim"] and v["head_dim"] * v["num_attention_heads"] != v["hidden_size"]:
            raise InputError(f"{r.where}: field 'head_dim' {v['head_dim']} differs from hidden_size / "
                             "num_attention_heads, which transformers' Cohere2Config uses instead; not modelled")
        v["head_dim"] = 0


def _mb_read_nemotron(r: _MBFields, v: dict) -> None:
    """Nemotron-4 / Minitron (modeling_nemotron.py): LayerNorm1P (a LayerNorm with weight and bias; it normalises with
    weight + 1), a plain MLP up_proj -> relu^2 -> down_proj (no gate) biased by mlp_bias, attention biased by
    attention_bias; head_dim from the file, else hidden / heads."""
    if r.raw.get("num_key_value_heads") is None:  # NemotronConfig leaves it None and NemotronAttention then fails
        raise InputError(f"{r.where}: field 'num_key_value_heads' is missing or null, which transformers' nemotron "
                         "model cannot build; give the number of KV heads")
    v.update(gated_mlp=False, norm="layernorm", mlp_bias=r.flag("mlp_bias", False), gguf_arch="nemotron")


def _mb_read_smollm3(r: _MBFields, v: dict) -> None:
    """SmolLM3 (transformers 5.23 modeling_smollm3.py): the Llama block, q/k/v/o biased by attention_bias and the
    MLP by mlp_bias (both false by default), a tied head by default; 4 KV heads when the file leaves the count out
    (SmolLM3Config), as many as query heads when null.  Its NoPE layers (no_rope_layers, else every
    no_rope_layer_interval-th layer) skip the rotary embedding only: an elementwise rotation, no parameter and no
    matmul, so they change no count here; the list is checked (one 0/1 per layer) since the class indexes it."""
    v.update(mlp_bias=r.flag("mlp_bias", False), gguf_arch="smollm3")
    if r.absent("num_key_value_heads"):
        v["num_kv_heads"] = 4
    _, rope = r.get("no_rope_layers")
    if rope is None:
        r.int("no_rope_layer_interval", default=4)  # 0 would divide by zero in SmolLM3Config
    else:
        r.get("no_rope_layer_interval")  # the class reads the interval only without a list
    if rope is not None and (not isinstance(rope, list) or len(rope) < v["num_layers"] or
                             any(isinstance(x, bool) or x not in (0, 1) for x in rope)):
        raise InputError(f"{r.where}: field 'no_rope_layers' must list 1 (RoPE) or 0 (NoPE) for each of the "
                         f"{v['num_layers']} layers, got {rope!r:.60}")


def _mb_read_granitemoe(r: _MBFields, v: dict) -> None:
    """Granite 3.0/3.1 MoE (transformers 5.23 modeling_granitemoe.py): Granite's scalars (embedding_multiplier,
    attention_multiplier as the softmax scale, residual_multiplier, logits_scaling: no parameter, no matmul) on a
    Mixtral-style block: every layer MoE, a bias-free router (E, h) (GraniteMoeTopKRouter) and E stacked SwiGLU
    experts of intermediate_size (GraniteMoeExperts: gate_up_proj (E, 2f, h), down_proj (E, h, f)), no shared
    expert; q/k/v/o biased by attention_bias.  GraniteMoeConfig: 8 experts, top-2, untied when absent."""
    for key in ("embedding_multiplier", "attention_multiplier", "residual_multiplier", "logits_scaling"):
        r.number(key)
    r.expect("sliding_window", None, "granitemoe")  # GraniteMoeConfig has no window; a value is another model's
    v.update(num_experts=r.int("num_local_experts", default=8), top_k=r.int("num_experts_per_tok", default=2),
             gguf_arch="granitemoe")


def _mb_read_phimoe(r: _MBFields, v: dict) -> None:
    """Phi-3.5-MoE (transformers 5.23 modeling_phimoe.py): nn.LayerNorm with weight and bias (two per layer and a
    final one), q/k/v/o biased by attention_bias, an LM-head bias by lm_head_bias; every layer MoE: a bias-free
    router (PhimoeTopKRouter, E x h) and E stacked SwiGLU experts of intermediate_size without biases.  PhimoeConfig:
    16 experts, top-2, 8 KV heads when absent (as many as query heads when null); sliding_window, when set, makes
    every layer slide (Mistral's rule)."""
    if r.absent("num_key_value_heads"):
        v["num_kv_heads"] = 8
    r.number("input_jitter_noise")  # a training-time scaling of the input: no parameter, no matmul
    v.update(norm="layernorm", lm_head_bias=r.flag("lm_head_bias", False), num_experts=r.int("num_local_experts",
             default=16), top_k=r.int("num_experts_per_tok", default=2), gguf_arch="phimoe")


def _mb_read_stablelm(r: _MBFields, v: dict) -> None:
    """StableLM-3B-4E1T / StableLM 2 (transformers 5.23 modeling_stablelm.py): nn.LayerNorm with weight and bias,
    q/k/v biased by use_qkv_bias (o_proj never), a SwiGLU MLP without biases; use_parallel_residual: attention and
    MLP both read input_layernorm's output (one LayerNorm per layer), else two; qk_layernorm: a bias-free LayerNorm
    per head on q and k.  Rotary on partial_rotary_factor of each head (no parameter).  head_dim is hidden / heads
    whatever the file says (StableLmAttention)."""
    if v["head_dim"] and v["head_dim"] * v["num_attention_heads"] != v["hidden_size"]:
        raise InputError(f"{r.where}: field 'head_dim' {v['head_dim']} differs from hidden_size / "
                         "num_attention_heads, which StableLmAttention uses instead; not modelled")
    r.expect("sliding_window", None, "stablelm")  # StableLmConfig has no window; a value is another model's
    bias = r.flag("use_qkv_bias", False)
    parallel = r.flag("use_parallel_residual", False)
    qk = r.flag("qk_layernorm", False)
    v.update(head_dim=0, norm="layernorm", qkv_bias=bias, o_bias=False, gguf_arch="stablelm",
             norms_per_layer=1 if parallel else 2, norm_placement="parallel" if parallel else "pre",
             qk_norm="per-head" if qk else "none", qk_norm_module_per_head=qk)


def _mb_read_smollm3_windows(r: _MBFields, v: dict) -> None:
    """SmolLM3Config's windows: when layer_types is absent, a layer slides only if use_sliding_window, a
    sliding_window is given and the layer is a NoPE layer; the attention module slides only under
    use_sliding_window.  A layer_types naming sliding layers without both is built inconsistently (the mask and the
    cache slide, flash attention does not): refused."""
    layers = v["num_layers"]
    use = r.flag("use_sliding_window", False)
    window = r.int("sliding_window", default=0)  # 0 is not "no window" to SmolLM3Config (it tests None)
    types = r.get("layer_types")[1]
    if types is None:
        rope = r.raw.get("no_rope_layers")
        if rope is None:
            interval = r.int("no_rope_layer_interval", default=4)
            rope = [int((i + 1) % interval != 0) for i in range(layers)]
        slides = tuple("sliding" if use and window and not rope[i] else "full" for i in range(layers))
    elif not isinstance(types, list) or len(types) != layers or \
            not all(t in ("full_attention", "sliding_attention") for t in types):
        raise InputError(f"{r.where}: field 'layer_types' must list 'full_attention' or 'sliding_attention' for each "
                         f"of the {layers} layers, got {types!r:.80}")
    else:
        slides = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
        if "sliding" in slides and not (use and window):
            raise InputError(f"{r.where}: field 'layer_types' names sliding layers without use_sliding_window and a "
                             "sliding_window; transformers' SmolLM3 builds those inconsistently; not modelled")
    if "sliding" not in slides:
        window, slides = 0, ()
    elif "full" not in slides:
        slides = ()
    v.update(sliding_window=window, layer_types=slides)
def _mb_read_llama4(r: _MBFields, mt: str, v: dict) -> None:
    """Llama 4 Scout / Maverick, the text model (transformers 5.23 configuration_llama4.py Llama4TextConfig and
    modeling_llama4.py; AutoModelForCausalLM builds Llama4ForCausalLM from a llama4 file's text_config alone).

    The Llama block (q/k/v/o biased by attention_bias, RMSNorms, untied head by default) where layer i is MoE when i
    is in moe_layers, else when (i + 1) % interleave_moe_layer_step == 0 (Scout: every layer; Maverick: the odd
    ones).  A MoE layer (Llama4TextMoe) holds a bias-free router (E, h), E stacked SwiGLU experts of
    intermediate_size and one shared SwiGLU expert of intermediate_size; a dense layer a SwiGLU MLP of
    intermediate_size_mlp.  Layer i uses RoPE when no_rope_layers[i] is 1 (absent or []: every
    no_rope_layer_interval-th layer, default 4, is NoPE); RoPE layers attend within aligned chunks of
    attention_chunk_size tokens (layer_types "chunked_attention", here "sliding" layers with attention_chunked),
    NoPE layers to the whole context.  use_qk_norm's Llama4TextL2Norm and the NoPE layers' temperature tuning carry
    no parameter and no matmul.  Llama4TextConfig rejects a null KV-head count or head_dim (so does this reader); a
    null attention_chunk_size builds a model whose forward raises (create_chunked_causal_mask), refused too."""
    if mt == "llama4" and not r.where.endswith(" text_config"):
        raise InputError(f"{r.where}: model_type 'llama4' without a text_config: transformers' Llama4Config builds its "
                         "default text model whatever the top-level fields say; give the text_config (or model_type "
                         "llama4_text)")
    layers = v["num_layers"]
    if layers > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field 'num_hidden_layers' {layers} is beyond {MODEL_MAX_LAYERS:,}")
    for key in ("num_key_value_heads", "head_dim", "attention_chunk_size"):
        if key in r.raw and r.raw[key] is None:
            raise InputError(f"{r.where}: field '{key}' is null, which transformers' Llama 4 cannot build or run; "
                             "give a number")

    def per_layer(key, allowed):
        _, value = r.get(key)
        if not isinstance(value, list) or len(value) != layers or any(
                type(x) not in (int, str) or x not in allowed for x in value):
            raise InputError(f"{r.where}: field '{key}' must list one of {', '.join(map(repr, allowed))} for each of "
                             f"the {layers} layers, got {value!r:.80}")
        return value

    step = r.int("interleave_moe_layer_step", default=1)
    if r.get("moe_layers")[1] is None:  # Llama4TextConfig: range(step - 1, layers, step)
        moe = set(range(step - 1, layers, step))
    else:
        moe = set(r.layer_list("moe_layers"))
        if any(i >= layers for i in moe):
            raise InputError(f"{r.where}: field 'moe_layers' names layer {max(moe)} of a {layers}-layer model")
    interval = r.int("no_rope_layer_interval", default=4)
    if r.get("no_rope_layers")[1] in (None, []):  # the class's default: every interval-th layer is NoPE
        rope = [int((i + 1) % interval != 0) for i in range(layers)]
    else:
        rope = per_layer("no_rope_layers", (0, 1))
    if r.get("layer_types")[1] is None:  # Llama4TextConfig: the RoPE layers are the chunked ones
        chunked = tuple(bool(x) for x in rope)
    else:
        chunked = tuple(t == "chunked_attention" for t in per_layer("layer_types", ("chunked_attention",
                                                                                  "full_attention")))
    chunk = r.int("attention_chunk_size", default=8192)
    r.flag("use_qk_norm", True)  # Llama4TextL2Norm on q and k of the RoPE layers: no weight
    for key in ("attn_temperature_tuning", "attn_scale", "floor_scale", "for_llm_compressor"):
        r.get(key)  # the NoPE layers' query scaling (scalars) and a checkpoint-tool switch: no parameter
    experts, top_k = r.int("num_local_experts", default=16), r.int("num_experts_per_tok", default=1)
    expert_width = v["ffn_hidden_size"]  # intermediate_size: each routed expert and the shared one
    v.update(ffn_hidden_size=r.int("intermediate_size_mlp", default=16384), gguf_arch="llama4",
             softmax_fp32=False,  # modeling_llama4.eager_attention_forward keeps the softmax in the logits' dtype
             sliding_window=chunk if any(chunked) else 0, attention_chunked=any(chunked),
             layer_types=tuple("sliding" if c else "full" for c in chunked) if any(chunked) and not all(chunked)
             else ())
    if moe:
        v.update(num_experts=experts, top_k=top_k, moe_ffn_hidden_size=expert_width, num_shared_experts=1,
                 shared_expert_ffn_size=expert_width, expert_interval=1, expert_interval_phase=1,
                 dense_layers=tuple(i for i in range(layers) if i not in moe))


def _mb_read_windows(r: _MBFields, mt: str, v: dict) -> None:
    """Sliding-window attention: the window, and which layers use it (as each transformers config class says)."""
    if mt == "qwen3_next" or mt in _MB_QWEN3_5_DENSE + _MB_QWEN3_5_MOE:  # no window; layer_types name the mixers
        return v.update(sliding_window=0, layer_types=())
    if mt in ("llama4", "llama4_text"):  # chunks, not windows: _mb_read_llama4 set sliding_window and layer_types
        return None
    if mt in ("deepseek_v32", "glm_moe_dsa"):  # no window; layer_types only picks the indexed cache layer per layer
        r.expect("sliding_window", None, mt)
        types = r.get("layer_types")[1]
        if types is not None and (not isinstance(types, list) or len(types) != v["num_layers"]
                                  or set(types) != {"indexed_attention"}):
            raise InputError(f"{r.where}: field 'layer_types' must give 'indexed_attention' for each of the "
                             f"{v['num_layers']} layers (the only kind {mt} builds), got {types!r:.80}")
        return v.update(sliding_window=0, layer_types=())
    if mt == "bamba":  # BambaConfig has no window
        return v.update(sliding_window=0, layer_types=())
    if mt == "mimo_v2_flash":  # _mb_read_mimo_v2_flash set the window and its layers (all sliding kept as a list)
        return None
    if mt == "gemma4_text":  # _mb_read_gemma4_text set the window and its layers
        return None
    if mt == "lfm2":  # no window; its layer_types name the mixers (_mb_read_lfm2)
        return v.update(sliding_window=0, layer_types=())
    if mt in ("nemotron_h", "falcon_h1"):  # no window (refused by their readers); every layer is full attention
        return v.update(sliding_window=0, layer_types=())
    if mt in ("ernie4_5_moe", "hunyuan_v1_moe"):  # neither config class has a window
        r.expect("sliding_window", None, mt)
        return v.update(sliding_window=0, layer_types=())
    if mt == "jamba":  # JambaConfig has no window (AI21's files write "sliding_window": null)
        r.expect("sliding_window", None, mt)
        return v.update(sliding_window=0, layer_types=())
    if v["num_layers"] > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"{r.where}: field '{'n_layer' if 'n_layer' in r.raw else 'num_hidden_layers'}' "
                         f"{v['num_layers']} is beyond {MODEL_MAX_LAYERS:,}")
    if mt == "smollm3":
        return _mb_read_smollm3_windows(r, v)
    if mt == "exaone4":
        _mb_check_exaone4_windows(r, v)
    window = _MB_CLASS_DEFAULTS.get(mt, {}).get("sliding_window", 0) if r.absent("sliding_window") else \
        r.int("sliding_window", default=0, minimum=0)
    if "sliding_window_size" in r.raw:  # Gemma-2's files repeat the window under this name, which no class reads
        r.expect("sliding_window_size", r.raw.get("sliding_window"), mt)
    qwen = mt in ("qwen2", "qwen2_moe", "qwen3", "qwen3_moe")
    # Qwen configs carry a window that is off unless use_sliding_window is true (false by default in each class)
    # only the Qwen config classes read use_sliding_window; Mistral, Gemma-2, Phi-3, StarCoder2 keep their window
    if qwen and not r.flag("use_sliding_window", False):
        window = 0
    types = r.get("layer_types")[1]
    limit = r.int("max_window_layers", default=28 if qwen else 62 if mt == "dots1" else 0, minimum=0)
    if mt in ("gemma2", "gemma3_text", "qwen2", "qwen2_moe", "qwen3") or types is not None:
        r.get("sliding_window_pattern")
    if types is not None:
        if not isinstance(types, list) or not all(t in ("full_attention", "sliding_attention") for t in types):
            raise InputError(f"{r.where}: field 'layer_types' must list 'full_attention' or 'sliding_attention' "
                             f"per layer, got {types!r:.80}")
        if len(types) != v["num_layers"]:
            raise InputError(f"{r.where}: field 'layer_types' has {len(types)} entries for {v['num_layers']} layers")
        layer_types = tuple("sliding" if t == "sliding_attention" else "full" for t in types)
        if not window:
            layer_types = ()
    elif window and mt == "gemma3_text":  # Gemma3TextConfig: every layer but each sliding_window_pattern-th slides
        pattern = r.int("sliding_window_pattern", default=6)
        layer_types = tuple("sliding" if (i + 1) % pattern else "full" for i in range(v["num_layers"]))
    elif window and mt in ("olmo3", "cohere2", "exaone4"):  # Olmo3Config: every 4th layer full; Cohere2Config,
        # Exaone4Config: every sliding_window_pattern-th (a string such as "LLLG" there builds nothing without
        # layer_types: transformers' (i + 1) % pattern fails, and the reader refuses it)
        pattern = r.int("sliding_window_pattern", default=4) if mt in ("cohere2", "exaone4") else 4
        layer_types = tuple("sliding" if (i + 1) % pattern else "full" for i in range(v["num_layers"]))
    elif window and mt in ("gemma2", "gpt_oss"):  # Gemma2Config, GptOssConfig: even layers slide
        layer_types = tuple("sliding" if i % 2 == 0 else "full" for i in range(v["num_layers"]))
    elif window and mt in ("qwen2", "qwen3", "dots1"):  # configuration_qwen2/3.py, dots1: i >= max_window_layers
        layer_types = tuple("sliding" if i >= limit else "full" for i in range(v["num_layers"]))
    elif window and mt == "qwen2_moe":  # configuration_qwen2_moe.py: even layers below max_window_layers slide
        layer_types = tuple("sliding" if i % 2 == 0 and i < limit else "full" for i in range(v["num_layers"]))
    else:
        layer_types = ()
    if layer_types and "sliding" not in layer_types:
        window, layer_types = 0, ()
    if layer_types and "full" not in layer_types:
        layer_types = ()
    v.update(sliding_window=window, layer_types=layer_types)


def _mb_gemma3_text_config(outer: dict, raw: dict, where: str) -> dict:
    """The language model of a Gemma 3 wrapper (transformers 5.23 configuration_gemma3.py Gemma3Config): text_config is
    built as Gemma3TextConfig whatever else it names, so a text_config of another model_type is refused.  The head is
    tied when the wrapper's tie_word_embeddings says so (True when absent): PreTrainedModel.tie_weights reads the
    config of the model it ties, Gemma3ForConditionalGeneration's Gemma3Config, not the text_config's field."""
    wrapper = outer["model_type"]  # gemma3, or gemma4 (Gemma4Config: text_config built as Gemma4TextConfig alike)
    inner = raw.get("model_type")
    if inner not in (wrapper, f"{wrapper}_text"):
        raise InputError(f"{where}: model_type {inner!r:.40} inside a {wrapper} wrapper: transformers builds its "
                         f"text_config as {wrapper.capitalize()}TextConfig; only '{wrapper}_text' is modelled there")
    tie = outer.get("tie_word_embeddings", True)
    if not isinstance(tie, bool):
        raise InputError(f"{where}: field 'tie_word_embeddings' of the {wrapper} wrapper must be true or false, got "
                         f"{tie!r:.60}")
    return dict(raw, model_type=f"{wrapper}_text", tie_word_embeddings=tie)


# SiglipVisionConfig (transformers 5.23 configuration_siglip.py): the fields that shape its parameters, with defaults
_MB_SIGLIP_DEFAULTS = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
                       "num_channels": 3, "image_size": 224, "patch_size": 16}
_MB_SIGLIP_QUIET = {"model_type", "hidden_act", "layer_norm_eps", "attention_dropout", "vision_use_head"}


def gemma3_tower_parameters(outer: dict, text_hidden: int) -> tuple | None:
    """(vision tower, projector) parameters that Gemma3ForConditionalGeneration adds to the language model, or None
    when its vision_config holds a field this count does not know.

    The tower is SiglipVisionModel (modeling_siglip.py) of width h, MLP width i, L layers, c channels, patches of p
    pixels over images of s pixels: a Conv2d patch embedding (c p^2 h + h), a position table of (s // p)^2 rows,
    per layer two LayerNorms (4h), biased q/k/v/out projections (4 h^2 + 4h) and a biased fc1/fc2 MLP
    (2 h i + i + h); a final LayerNorm (2h); with vision_use_head (SiglipVisionConfig's default, false in every
    Gemma 3 file) a pooling head: probe (h), nn.MultiheadAttention (4 h^2 + 4h), LayerNorm (2h) and an MLP
    (2 h i + i + h).  The projector (Gemma3MultiModalProjector): mm_input_projection_weight (h, text hidden) and the
    RMSNorm mm_soft_emb_norm (h).  Google's Gemma 3 report (arXiv:2503.19786) Table 1: a 417M vision encoder."""
    vision = outer.get("vision_config")
    vision = {} if vision is None else vision
    if not isinstance(vision, dict) or vision.get("model_type", "siglip_vision_model") != "siglip_vision_model":
        return None
    sizes = dict(_MB_SIGLIP_DEFAULTS)
    for key, value in vision.items():
        if key in sizes:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MODEL_MAX_WIDTH:
                return None
            sizes[key] = value
        elif key not in _MB_SIGLIP_QUIET and key not in _MB_NESTED_CONFIG_GENERIC and not key.startswith("_") \
                and key not in HARMLESS_FIELDS:
            return None
    head = vision.get("vision_use_head", True)
    if not isinstance(head, bool):
        return None
    h, i, c, p = sizes["hidden_size"], sizes["intermediate_size"], sizes["num_channels"], sizes["patch_size"]
    mlp = 2 * h * i + i + h
    tower = c * p * p * h + h + (sizes["image_size"] // p) ** 2 * h
    tower += sizes["num_hidden_layers"] * (4 * h + 4 * h * h + 4 * h + mlp) + 2 * h
    if head:
        tower += h + 4 * h * h + 4 * h + 2 * h + mlp
    return tower, h * text_hidden + h


def _mb_check_exaone4_windows(r: _MBFields, v: dict) -> None:
    """Exaone4Config (transformers 5.23): without layer_types, layer i slides unless (i + 1) % sliding_window_pattern
    is 0, with the pattern 0 when sliding_window is null: that division fails, as does a string pattern ("LLLG", which
    the published files carry beside their layer_types); sliding layers named in layer_types need a window (the
    module would attend fully and the mask slide).  Each is refused rather than guessed; a null KV-head count too."""
    if "num_key_value_heads" in r.raw and r.raw["num_key_value_heads"] is None:
        raise InputError(f"{r.where}: field 'num_key_value_heads' is null, which transformers' exaone4 config does not "
                         "accept; give the number of KV heads")
    types = r.raw.get("layer_types")
    window = r.raw.get("sliding_window", 4096)
    if types is None:
        pattern = r.raw.get("sliding_window_pattern", 4)
        if window is None or not isinstance(pattern, int) or isinstance(pattern, bool) or pattern < 1:
            raise InputError(f"{r.where}: field 'sliding_window_pattern' {pattern!r:.20} with sliding_window "
                             f"{window!r:.20} and no layer_types: transformers' exaone4 config cannot place its "
                             "sliding layers; give layer_types")
    else:
        r.get("sliding_window_pattern")  # the class reads it only without layer_types
        if window is None and isinstance(types, list) and "sliding_attention" in types:
            raise InputError(f"{r.where}: field 'layer_types' names sliding layers with sliding_window null; "
                             "not modelled for model_type 'exaone4'")


def _mb_read_kimi_k2(r: _MBFields, family: str) -> str:
    """Kimi-K2 (moonshotai/Kimi-K2-*): its config.json names model_type kimi_k2 so that serving engines can tell it
    apart, and architectures ["DeepseekV3ForCausalLM"] with auto_map to DeepSeek's own configuration_deepseek /
    modeling_deepseek: the network is DeepSeek-V3's (Kimi K2 report, arXiv 2507.20534, sec. 2.3: 384 experts,
    64 heads, one dense first layer).  transformers 5.23 has no kimi_k2 type; the fields are read as
    DeepseekV3Config reads them.  Any other architecture under this model_type is refused."""
    _, names = r.get("architectures")
    if names is not None and names != ["DeepseekV3ForCausalLM"]:
        raise InputError(f"{r.where}: field 'architectures' {names!r:.60} under model_type 'kimi_k2' is not "
                         "modelled (only ['DeepseekV3ForCausalLM'], the network of every published Kimi-K2)")
    return "deepseek_v3"


def _mb_structural_field(name: str) -> bool:
    """A field name that may change a count: refused when no reader takes it (experts, layers, heads, norms,
    mixers, widths...)."""
    words = ("expert", "moe", "layer", "head", "tie", "norm", "mamba", "ssm", "conv", "linear", "attn", "attention",
             "window", "chunk", "kv", "lora", "shared", "router", "dim", "size", "intermediate", "hidden", "vocab",
             "embed", "bias", "mlp", "ffn", "sink", "gate", "state", "group", "nope", "num_", "n_", "mtp", "nextn",
             "proj", "multiplier", "scale", "parallel", "residual", "block", "interval", "freq", "pattern", "type")
    low = name.lower()
    return any(w in low for w in words)


def model_from_config(raw, where: str = "config.json", generic: bool = False) -> tuple:
    """A Hugging Face config dict -> (Model, notes).  Nested text_config is followed (the language model only).

    A model type outside SUPPORTED_MODEL_TYPES is refused (InputError naming it); with generic=True an unknown
    type is read as a dense Llama-style decoder and the first note says so (types in NOT_YET_MODELLED are refused
    even then).  A field that is neither read nor in HARMLESS_FIELDS is refused when its name says it may change a
    count, and named in a note otherwise."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    notes, outer = [], {}
    if raw.get("text_config") is not None:
        if not isinstance(raw["text_config"], dict):
            raise InputError(f"{where}: field 'text_config' must be a JSON object, got "
                             f"{type(raw['text_config']).__name__}")
        outer = raw
        raw = dict(outer["text_config"])
        for key in ("tie_word_embeddings", "model_type"):
            if key not in raw and key in outer and not (key == "tie_word_embeddings" and outer.get("model_type") in
                                                        ("llama4", "qwen3_5", "qwen3_5_moe")):  # text_config's only
                raw[key] = outer[key]
        where += " text_config"
        notes.append("nested text_config read: the language model only (no vision or audio tower)")
        if outer.get("model_type") in ("qwen3_5", "qwen3_5_moe") and raw.get("model_type") != outer["model_type"] and \
                raw.get("model_type") != f"{outer['model_type']}_text":  # the wrapper builds its own text class
            raise InputError(f"{where}: model_type {raw.get('model_type')!r:.40} inside a {outer['model_type']} file: "
                             f"transformers builds {outer['model_type']}_text from it whatever it names; not modelled")
        if outer.get("model_type") in ("gemma3", "gemma4"):
            raw = _mb_gemma3_text_config(outer, raw, where)
    model_type = raw.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        raise InputError(f"{where}: field 'model_type' must be a string, got {model_type!r:.60}")
    model_type = model_type or ""
    if model_type in NOT_YET_MODELLED:
        raise InputError(f"{where}: model_type '{model_type}' is not modelled yet ({NOT_YET_MODELLED[model_type]}); "
                         "refusing rather than reading it as a dense Llama")
    if model_type not in SUPPORTED_MODEL_TYPES:
        if not generic:
            shown = f"'{model_type}'" if model_type else "(none given)"
            raise InputError(f"{where}: model_type {shown} is not one this script models; give --generic to read "
                             "it as a dense Llama-style decoder (RMSNorm, SwiGLU, GQA), or see the README's table "
                             "of supported model types")
        notes.insert(0, f"--generic: model_type {model_type or '(none)'!r} read as a dense Llama-style decoder "
                        "(RMSNorm, SwiGLU, GQA, untied unless tie_word_embeddings); nothing else is modelled")
    if model_type in ("gemma3", "gemma4"):  # a wrapper with a text_config was read as <wrapper>_text above
        raise InputError(f"{where}: model_type '{model_type}' without a text_config: transformers' "
                         f"{model_type.capitalize()}Config builds its default text model whatever the top-level fields "
                         f"say; give the text_config (or model_type {model_type}_text)")
    if model_type in _MB_SIZE_DEFAULTS:  # the config class's sizes where the file leaves them out (not where null)
        raw = dict(_MB_SIZE_DEFAULTS[model_type], **raw)
    r = _MBFields(raw, where)
    family = model_type if model_type in SUPPORTED_MODEL_TYPES else "llama"
    family = _mb_read_kimi_k2(r, family) if family == "kimi_k2" else family
    if family in ("gpt2", "gptj", "bloom"):
        values = _mb_read_gpt(r, family)
    elif family in ("gpt_neox", "opt", "falcon"):
        values = _mb_read_neox_opt_falcon(r, family)
    elif family == "gpt_oss":
        values = _mb_read_gpt_oss(r, family)
    elif family == "dbrx":
        values = _mb_read_dbrx(r)
    elif family == "mimo_v2_flash":
        values = _mb_read_mimo_v2_flash(r, family)
    elif family == "lfm2":
        values = _mb_read_lfm2(r, family)
    elif family == "gemma4_text":
        values = _mb_read_gemma4_text(r, family)
    elif family == "nemotron_h":
        values = _mb_read_nemotron_h(r, family)
    elif family == "falcon_h1":
        values = _mb_read_falcon_h1(r, family)
    elif family == "jamba":  # issue 10, branch jamba
        values = _mb_read_jamba(r, family)
    elif family == "ernie4_5_moe":  # issue 10, branch jamba
        values = _mb_read_ernie4_5_moe(r, family)
    elif family == "hunyuan_v1_moe":  # issue 10, branch jamba
        values = _mb_read_hunyuan_v1_moe(r, family)
    else:
        values = _mb_read_llama_style(r, family)
    values["tied_embeddings"] = r.flag("tie_word_embeddings", family in _MB_TIED_BY_DEFAULT)
    if family == "lfm2" and not r.absent("tie_embedding"):  # Lfm2Config: tie_embedding, when given, wins
        values["tied_embeddings"] = r.flag("tie_embedding", True)
    _mb_read_windows(r, family, values)
    rope = raw.get("rope_scaling")
    if isinstance(rope, dict) and (rope.get("rope_type") or rope.get("type")) == "llama3":
        values["rope_freqs"] = True  # llama.cpp stores the llama3 rope factors as rope_freqs (head_dim / 2)
    drop = max([r.number(k) for k in ("attention_dropout", "hidden_dropout", "resid_pdrop", "attn_pdrop",
                                      "embd_pdrop", "residual_dropout") if k in raw] or [0.0])
    if family == "seed_oss" and (r.absent("attention_dropout") or r.absent("residual_dropout")):
        drop = max(drop, 0.1)  # SeedOssConfig: attention_dropout and residual_dropout are 0.1 when absent
    values["dropout"] = drop > 0 or values.get("dropout", False)  # a reader may have found nested dropout (DBRX)
    # the MLP activation as the eager module runs it (what autograd saves): each config class's own default
    act = r.text("activation_function", "hidden_act", "hidden_activation",
                 default=_MB_ACTIVATION_DEFAULT.get(family, ""))
    values["python_gelu"] = act == "gelu_new"  # written in Python: saves 4 MLP-wide tensors, not 1
    values["relu_mlp"] = act == "relu" and not values.get("gated_mlp", True)
    mtp = raw.get("num_nextn_predict_layers")
    if family in ("deepseek_v3", "glm4_moe", "deepseek_v32", "glm_moe_dsa") and isinstance(mtp, int) \
            and not isinstance(mtp, bool) and mtp > 0:
        notes.append(f"num_nextn_predict_layers = {mtp}: the multi-token-prediction module(s) are not counted, as "
                     f"transformers does not build them (calc_transformer_params.py --mtp-layers {mtp} counts them)")
    if family in _MB_QWEN3_5_DENSE + _MB_QWEN3_5_MOE and (raw.get("mtp_num_hidden_layers") or 0) > 0:
        notes.append(f"mtp_num_hidden_layers = {raw['mtp_num_hidden_layers']}: the multi-token-prediction layer is not "
                     "counted, as transformers does not build it (Qwen3_5ForCausalLM drops the mtp.* weights)")
    if family == "minimax_m2":
        notes += _mb_minimax_m2_mtp_note(raw)
    if family == "ernie4_5_moe" and isinstance(mtp, int) and not isinstance(mtp, bool) and mtp > 0:
        notes.append(f"num_nextn_predict_layers = {mtp}: the multi-token-prediction module(s) are not counted, as "
                     "transformers does not build them (Ernie4_5_MoePreTrainedModel ignores the mtp.* weights)")
    values.update(model_type=model_type, source=where,
                  name=raw.get("_name_or_path") if isinstance(raw.get("_name_or_path"), str) and
                  raw.get("_name_or_path") else (model_type or "config"))
    unread = sorted(k for k in raw if k not in r.used and k not in HARMLESS_FIELDS and k != "text_config"
                    and not k.startswith("_")  # private bookkeeping: _name_or_path, _attn_implementation, ...
                    and not k.endswith(("_token_id", "_token_ids", "_dropout", "_pdrop")))
    structural = [k for k in unread if _mb_structural_field(k) and not k.endswith("_config")]
    if structural:
        raise InputError(f"{where}: field '{structural[0]}' is not modelled for model_type "
                         f"'{model_type or 'generic'}' and may change the numbers; refusing rather than guessing")
    if unread:
        notes.append("config fields not read (they change no count): " + ", ".join(unread))
    labels = {field: "config field '%s'" % next((k for k in keys if k in raw), keys[0])
              for field, keys in CONFIG_FIELDS_OF.items()}
    try:
        model = validate_model(Model(**values), labels)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    if outer.get("model_type") == "gemma3":
        notes.append(_mb_gemma3_note(outer, model))
    if outer.get("model_type") == "gemma4":
        towers = [k for k in ("vision_config", "audio_config") if outer.get(k) is not None]
        notes.append("model_type 'gemma4': AutoModelForCausalLM builds Gemma4ForConditionalGeneration; the language "
                     "model is counted here" + (f", its {' and '.join(t.split('_')[0] for t in towers)} tower(s) and "
                                                "their embedders (" + ", ".join(towers) + ") are not counted; they run "
                                                "on images / audio only" if towers else ""))
    return model, notes


def _mb_gemma3_note(outer: dict, model: Model) -> str:
    """What AutoModelForCausalLM builds from a gemma3 file (transformers 5.23 MODEL_FOR_CAUSAL_LM_MAPPING: gemma3 ->
    Gemma3ForConditionalGeneration): the language model counted here plus the vision tower and projector."""
    towers = gemma3_tower_parameters(outer, model.hidden_size)
    if towers is None:
        return ("model_type 'gemma3': AutoModelForCausalLM builds Gemma3ForConditionalGeneration, whose vision tower "
                "and projector (vision_config) are not counted here")
    language = count_model(model)["total"]
    return (f"model_type 'gemma3': AutoModelForCausalLM builds Gemma3ForConditionalGeneration, which adds a SigLIP "
            f"vision tower of {towers[0]:,} and a projector of {towers[1]:,} parameters to the {language:,} of the "
            f"language model counted here ({language + sum(towers):,} in all); they run on images only")


def parse_config_bytes(data: bytes, where: str):
    """A config.json's bytes -> parsed JSON (at most MODEL_MAX_CONFIG_BYTES); one InputError naming `where`."""
    if len(data) > MODEL_MAX_CONFIG_BYTES:
        raise InputError(f"{where}: larger than {MODEL_MAX_CONFIG_BYTES // 2**20} MiB, not a config.json")
    try:
        return _json.loads(data.decode("utf-8-sig"))  # -sig: a byte-order mark from a Windows editor is fine
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 text") from None
    except _json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError:  # json's own limit on integer literals is not a JSONDecodeError
        raise InputError(f"{where}: a number in it is too long to be a model dimension") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None


def read_config_json(path: str) -> tuple:
    """Read a config.json (or a folder holding one, or a Hub id org/name[@revision]) safely -> (parsed JSON, label
    for messages).

    Regular files and pipes (--config <(...)) are read, at most MODEL_MAX_CONFIG_BYTES; a device such as /dev/zero
    is refused.  A path that does not exist and reads as a Hub id is fetched by hub_file (the local Hugging Face
    cache first).  Errors are one line naming --config."""
    if not isinstance(path, str) or not path.strip():
        raise InputError(f"--config expects a path to a config.json or a folder holding one, got {path!r}")
    if not _os.path.exists(path) and HUB_ID_PATTERN.fullmatch(path):
        repo, _, revision = path.partition("@")
        data = hub_file(repo, "config.json", revision or "main")
        return parse_config_bytes(data, f"--config {path}"), path
    if _os.path.isdir(path):
        path = _os.path.join(path, "config.json")
    shown = path if path.isprintable() else repr(path)  # a newline in a path must not split the one-line error
    try:
        mode = _os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"--config {shown}: no such file") from None
    except OSError as exc:
        raise InputError(f"--config {shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    if not (_stat.S_ISREG(mode) or _stat.S_ISFIFO(mode)):
        raise InputError(f"--config {shown}: not a regular file or pipe")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MODEL_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError(f"--config {shown}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    raw = parse_config_bytes(data, f"--config {shown}")
    if _stat.S_ISFIFO(mode):
        label = "config.json (pipe)"
    elif _os.path.basename(path) == "config.json":  # the folder names the model (meta-llama/Llama-3.1-8B/...)
        label = _os.path.basename(_os.path.dirname(_os.path.abspath(path))) or "config.json"
    else:
        label = _os.path.basename(path)
    return raw, (label if label.isprintable() else repr(label))


# --------------------------------------------------------------------------------------------------------------
# The Hugging Face Hub: one file of a repo, from the local cache or over HTTP (standard library only)
# --------------------------------------------------------------------------------------------------------------
# A Hub id as huggingface_hub accepts it (org/name, each part starting with a letter or digit) with an optional
# @revision (branch, tag, commit or refs/pr/N; never '..', so it cannot walk out of the cache).
HUB_ID_PATTERN = _re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}"
                         r"(?:@(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,199})?")
_MB_TRUE = ("1", "true", "yes", "on")


def _mb_env_path(name: str) -> str:
    """An environment variable holding a path, with ~ and $VARS expanded (as huggingface_hub's constants.py does)."""
    value = _os.environ.get(name, "")
    return _os.path.expandvars(_os.path.expanduser(value)) if value else ""


def _mb_hf_home() -> str:
    return _mb_env_path("HF_HOME") or _os.path.join(
        _mb_env_path("XDG_CACHE_HOME") or _os.path.join(_os.path.expanduser("~"), ".cache"), "huggingface")


def _mb_hub_commit(repo: str, revision: str) -> tuple:
    """(the repo's cache folder, the commit `revision` names there or None): a 40-hex revision is its own commit,
    a branch or tag is looked up in refs/ (huggingface_hub's cache layout)."""
    cache = _mb_env_path("HF_HUB_CACHE") or _mb_env_path("HUGGINGFACE_HUB_CACHE") or _os.path.join(_mb_hf_home(), "hub")
    folder = _os.path.join(cache, "models--" + repo.replace("/", "--"))
    if _re.fullmatch(r"[0-9a-f]{40}", revision):
        return folder, revision
    try:
        with open(_os.path.join(folder, "refs", revision), encoding="utf-8") as handle:
            commit = handle.read(100).strip()
    except (OSError, UnicodeDecodeError):
        return folder, None
    return folder, (commit if _re.fullmatch(r"[0-9a-f]{40}", commit) else None)


def hub_cache_path(repo: str, filename: str, revision: str = "main") -> str | None:
    """The file in the local Hugging Face cache (huggingface_hub's layout: HF_HUB_CACHE, else HF_HOME/hub;
    models--org--name/refs/<revision> holds the commit, snapshots/<commit>/<file> the file), or None."""
    folder, commit = _mb_hub_commit(repo, revision)
    found = _os.path.join(folder, "snapshots", commit, filename) if commit else ""
    return found if commit and _os.path.isfile(found) else None


def _mb_hub_token() -> str | None:
    """HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the token `huggingface-cli login` saved
    (HF_TOKEN_PATH, else HF_HOME/token)."""
    token = (_os.environ.get("HF_TOKEN") or _os.environ.get("HUGGING_FACE_HUB_TOKEN") or "").strip()
    if token:
        return token
    try:
        with open(_mb_env_path("HF_TOKEN_PATH") or _os.path.join(_mb_hf_home(), "token"), encoding="utf-8") as f:
            return f.read(1000).strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _mb_hub_offline() -> bool:
    return any(_os.environ.get(name, "").strip().lower() in _MB_TRUE for name in ("HF_HUB_OFFLINE",
                                                                                  "TRANSFORMERS_OFFLINE"))


def _mb_urlopen(url: str, headers: dict):
    """urllib.request.urlopen, except that a redirect to another host drops the token (the Hub sends LFS files to
    a CDN: huggingface_hub's HTTP clients drop Authorization across hosts too) and https never falls back to http."""
    import urllib.parse
    import urllib.request

    class SameHostAuth(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, hdrs, newurl):
            new = super().redirect_request(req, fp, code, msg, hdrs, newurl)
            if new is None:
                return None
            old, moved = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if old.scheme == "https" and moved.scheme != "https":
                raise ValueError(f"a redirect from https to {moved.scheme} ({moved.netloc})")
            if moved.netloc != old.netloc:
                new.remove_header("Authorization")
            return new

    return urllib.request.build_opener(SameHostAuth).open(urllib.request.Request(url, headers=headers), timeout=30)


def hub_file(repo: str, filename: str, revision: str = "main", *, flag: str = "--config",
             limit: int = MODEL_MAX_CONFIG_BYTES, byte_range: tuple | None = None) -> bytes:
    """The bytes of one file of a Hub model repo (at most `limit`; byte_range=(first, last) for a part of it, as an
    HTTP range request): the local cache first, then, unless HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set,
    HF_ENDPOINT (default https://huggingface.co)/{repo}/resolve/{revision}/{filename} with HF_TOKEN or the saved
    login token.  A branch the cache has resolved is fetched at that commit, so a repo's files never mix commits.
    A gated, private or missing repo, a network failure or an oversized answer is one InputError saying what to do
    (HubFileMissing for a 404, HubNotCached for an offline cache miss)."""
    where = f"{flag} {repo}" + ("" if revision == "main" else f"@{revision}")
    first, last = byte_range if byte_range else (0, None)
    wanted = limit + 1 if last is None else min(limit + 1, last - first + 1)
    cached = hub_cache_path(repo, filename, revision)
    if cached is not None:
        try:
            with open(cached, "rb") as handle:
                handle.seek(first)
                data = handle.read(wanted)
        except OSError as exc:
            raise InputError(f"{where}: cannot read the cached {filename} ({exc.strerror or exc})") from None
    elif _mb_hub_offline():
        raise HubNotCached(f"{where}: {filename} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
                           "download it once online, or give a local path")
    else:
        import urllib.error
        import urllib.parse
        endpoint = (_os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
        pinned = _mb_hub_commit(repo, revision)[1] or revision  # the commit the cache already holds files of
        url = f"{endpoint}/{repo}/resolve/{urllib.parse.quote(pinned, safe='')}/{urllib.parse.quote(filename)}"
        headers = {"User-Agent": "transformer-sizing-calculators"}
        token = _mb_hub_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if byte_range:
            headers["Range"] = f"bytes={first}-{last}"
        try:
            with _mb_urlopen(url, headers) as answer:
                if byte_range and answer.status == 206:  # the part asked for, and only that part
                    got = _re.fullmatch(r"bytes (\d+)-(\d+)/(?:\d+|\*)", answer.headers.get("Content-Range", ""))
                    if not got or (int(got[1]), int(got[2])) != (first, min(last, int(got[2]))):
                        raise InputError(f"{where}: the Hub answered bytes {answer.headers.get('Content-Range')!r:.60}"
                                         f" for {filename}, not bytes {first}-{last}")
                elif byte_range:  # a server without ranges: skip to the part asked for
                    answer.read(first)
                data = answer.read(wanted)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise InputError(f"{where}: the Hub answered {exc.code}: a gated or private repo; accept its "
                                 "licence on huggingface.co and set HF_TOKEN (or run `huggingface-cli login`)") \
                    from None
            if exc.code == 404:
                raise HubFileMissing(f"{where}: no such repo, revision or file ({filename}) on {endpoint}") from None
            raise InputError(f"{where}: the Hub answered HTTP {exc.code} for {filename}") from None
        except InputError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise InputError(f"{where}: cannot reach {endpoint} ({' '.join(str(reason).split())}); set "
                             "HF_HUB_OFFLINE=1 to use the local cache only, or give a local path") from None
    if len(data) > limit:
        raise InputError(f"{where}: {filename} is larger than {limit:,} bytes; refusing to read it")
    if last is not None and len(data) != last - first + 1:
        raise InputError(f"{where}: {filename} ended after {first + len(data):,} bytes, before byte {last:,}")
    return data


# --------------------------------------------------------------------------------------------------------------
# The architecture flags: one spelling, one meaning and one default in every script
# --------------------------------------------------------------------------------------------------------------
# (flags, the Model field it sets, help).  A flag replaces the field of the preset or config.json it is given with;
# the cookbook's spellings and short aliases (-l, -hs, -v, -a, -kv, -ff, -nl, -e, -t, -ei) keep the cookbook's
# meaning.  Counts are read by parse_count (7B, 32k, 32Ki, 1_000).
MODEL_COUNT_FLAGS = (
    (("--num-layers", "-l"), "num_layers", "decoder layers"),
    (("--hidden-size", "-hs"), "hidden_size", "model width d_model"),
    (("--vocab-size", "-v"), "vocab_size", "vocabulary size"),
    (("--num-attention-heads", "-a"), "num_attention_heads", "query heads"),
    (("--num-kv-heads",), "num_kv_heads", "key/value heads (GQA; 1 = MQA; default: as many as query heads)"),
    (("--head-dim",), "head_dim", "per-head width (default hidden / heads; a model's own head_dim stays when "
                                  "-hs or -a change)"),
    (("--ffn-hidden-size",), "ffn_hidden_size", "FFN (intermediate) width, the experts' too unless "
                                                "--moe-ffn-hidden-size (default from flags alone: 4 x hidden)"),
    (("--learned-positions",), "max_position_embeddings", "a learned position table for N positions (HF "
                                                          "max_position_embeddings; OPT keeps 2 more rows); 0: none"),
    (("--position-offset",), "position_offset", "extra rows of a learned position table (OPT: 2)"),
    (("--pad-vocab-to-multiple",), "pad_vocab_multiple", "pad the vocabulary up to a multiple of N"),
    (("--word-embed-proj-dim",), "word_embed_proj_dim", "OPT: an embedding this wide, projected in and out"),
    (("--norms-per-layer",), "norms_per_layer", "hidden-size norms per layer (2 pre-norm, 1 parallel block, "
                                                "4 Gemma-2 sandwich)"),
    (("--q-lora-rank",), "q_lora_rank", "MLA query latent width (0: no q-LoRA)"),
    (("--kv-lora-rank",), "kv_lora_rank", "MLA key/value latent width (> 0 makes attention MLA)"),
    (("--qk-nope-head-dim",), "qk_nope_head_dim", "MLA: the non-rotary part of each q/k head"),
    (("--qk-rope-head-dim",), "qk_rope_head_dim", "MLA: the rotary part of each q/k head"),
    (("--v-head-dim",), "v_head_dim", "MLA: value head width"),
    (("--num-experts", "-e"), "num_experts", "routed experts per MoE layer"),
    (("--topk", "-t"), "top_k", "experts per token (default 1, the cookbook's, when a model names none)"),
    (("--expert-interval", "-ei"), "expert_interval", "every N-th layer is MoE (layers N-1, 2N-1, ...; "
                                                      "DeepSeek models: 0, N, 2N, ...)"),
    (("--moe-ffn-hidden-size",), "moe_ffn_hidden_size", "routed expert width (default --ffn-hidden-size)"),
    (("--num-shared-experts",), "num_shared_experts", "always-on shared experts"),
    (("--shared-expert-ffn-size",), "shared_expert_ffn_size", "width of each shared expert (default "
                                                              "--moe-ffn-hidden-size)"),
    (("--first-k-dense",), "first_k_dense", "the first K layers stay dense"),
    (("--mtp-layers",), "mtp_layers", "DeepSeek-V3 multi-token-prediction modules (transformers builds none)"),
    (("--sliding-window",), "sliding_window", "sliding-window span in tokens (0: every layer full attention)"),
)
# (flag, the Model field it switches, help): each also has a --no- form.
MODEL_SWITCH_FLAGS = (
    ("--tied-embeddings", "tied_embeddings", "the LM head shares the input embedding (--untied-embeddings too)"),
    ("--qkv-bias", "qkv_bias", "biases on q, k and v"),
    ("--o-bias", "o_bias", "a bias on the attention output"),
    ("--mlp-bias", "mlp_bias", "biases in the MLP"),
    ("--lm-head-bias", "lm_head_bias", "a bias on the LM head (GPT-J, Phi-2)"),
    ("--embedding-norm", "embedding_norm", "a norm after the token embedding (BLOOM)"),
    ("--final-norm", "final_norm", "a norm before the LM head"),
    ("--shared-expert-gate", "shared_expert_gate", "Qwen-MoE's sigmoid gate (hidden x 1) on the shared expert"),
    ("--router-bias", "router_bias", "a bias on the router"),
)
MODEL_NORM_ALIASES = {"none": "nonparametric", "layernorm-nonparametric": "nonparametric"}
# What a model from flags alone is, where no flag says: the cookbook's transformer (Anthony, Biderman & Schoelkopf
# 2023, "Transformer Math 101"; EleutherAI cookbook calc/): a 2-linear MLP 4 x hidden wide, LayerNorm with weight
# and bias, untied embeddings; no linear biases and no position table (rotary).  Printed as assumed, never silent.
MODEL_FLAGS_ONLY_NOTE = ("from flags alone: a plain 2-linear MLP (-nl 3 for SwiGLU) 4 x hidden wide unless -ff or "
                         "--ffn-hidden-size, LayerNorm with biases (--norm), no linear biases (--bias), untied "
                         "embeddings, rotary positions with no table (--position-embedding learned with -s N or "
                         "--learned-positions N adds one)")


# The cookbook's defaults for the shape flags it lets a user leave out (EleutherAI cookbook calc/
# calc_transformer_params.py and calc_transformer_flops.py: --num-layers 44, --hidden-size 6144, --vocab-size 51200).
MODEL_COOKBOOK_DEFAULTS = {"num_layers": 44, "hidden_size": 6144, "vocab_size": 51200}


def add_model_arguments(parser) -> tuple:
    """Add the model flags every script shares to an argparse parser -> (source group, architecture group).

    Every value is read by model_from_arguments (so that each error is one line naming the flag); a script adds
    its own alternatives to the source group (mem's and quantization's --params)."""
    source = parser.add_argument_group("model: a preset, a config.json, or flags alone (flags override the first two)")
    source.add_argument("--preset", "-p", metavar="NAME", help="a built-in model (--list-presets lists them)")
    source.add_argument("--list-presets", action="store_true", help="list the presets with their sources")
    source.add_argument("--config", "--hf_model_name_or_path", dest="config", metavar="PATH",
                        help="a Hugging Face config.json, a folder holding one, or a Hub id org/name[@revision] "
                             "(the local Hugging Face cache first; HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE as "
                             "huggingface_hub reads them)")
    source.add_argument("--generic", action="store_true", help="read an unknown model_type as a dense Llama-style "
                                                               "decoder; the output says so first")
    arch = parser.add_argument_group("architecture (cookbook names and aliases; each replaces the model's value)")
    for flags, field, text in MODEL_COUNT_FLAGS:
        arch.add_argument(*flags, dest=field, metavar="N", help=text)
    arch.add_argument("--kv-size-ratio", "-kv", dest="kv_size_ratio", metavar="R",
                      help="kv heads / query heads as a decimal (cookbook; 1 MHA, 0.25 for 8 of 32 heads); "
                           "--num-kv-heads is exact")
    arch.add_argument("--ffn-expansion-factor", "-ff", dest="ffn_expansion_factor", metavar="F",
                      help="FFN width = F x hidden, which must come out whole (2.6875 for Llama-2-7B)")
    arch.add_argument("--num-mlp-linears", "-nl", dest="num_mlp_linears", choices=("2", "3"),
                      help="2: plain MLP; 3: gated (SwiGLU / GeGLU)")
    arch.add_argument("--swiglu", dest="swiglu", action="store_true", default=None,
                      help="the cookbook's older spelling of -nl 3 (a gated MLP of three --ffn-hidden-size linears)")
    arch.add_argument("--moe", action="store_true", help="the cookbook's switch for MoE layers (-e, default 8)")
    arch.add_argument("--dense-layers", dest="dense_layers", metavar="I,J,...",
                      help="layer indices that stay dense (Qwen-MoE mlp_only_layers)")
    arch.add_argument("--layer-types", dest="layer_types", metavar="LIST",
                      help="full or sliding per layer, comma-separated, or 'alternate' (sliding first, Gemma-2)")
    arch.add_argument("--num-sliding-layers", dest="num_sliding_layers", metavar="N",
                      help="the first N layers use --sliding-window, the rest full attention")
    arch.add_argument("--position-embedding", dest="position_embedding", choices=POSITION_KINDS,
                      help="learned (a table), rotary, alibi or none (no parameters), relative (Transformer-XL)")
    arch.add_argument("--norm", dest="norm", choices=NORM_KINDS + tuple(MODEL_NORM_ALIASES),
                      help="layernorm has a weight and a bias; nonparametric (also: none) has neither (OLMo)")
    arch.add_argument("--qk-norm", dest="qk_norm", choices=QK_NORM_KINDS,
                      help="norms on q and k: per head (Qwen3) or over the projection (OLMo-2)")
    arch.add_argument("--bias", action=_argparse.BooleanOptionalAction, dest="all_bias",
                      help="biases on every linear of attention and MLP (LayerNorm biases: --norm)")
    for flag, field, text in MODEL_SWITCH_FLAGS:
        arch.add_argument(flag, dest=field, action=_argparse.BooleanOptionalAction, help=text)
    arch.add_argument("--untied-embeddings", dest="tied_embeddings", action="store_false", help=_argparse.SUPPRESS)
    arch.add_argument("--dropout", dest="dropout", choices=("on", "off"),
                      help="dropout in training (activation memory; default: the model's config)")
    return source, arch


def model_arguments_given(args) -> bool:
    """Whether the command line names a model at all (a preset, a config or any architecture flag)."""
    names = [field for _, field, _ in MODEL_COUNT_FLAGS] + [field for _, field, _ in MODEL_SWITCH_FLAGS] + [
        "preset", "config", "kv_size_ratio", "ffn_expansion_factor", "num_mlp_linears", "dense_layers",
        "layer_types", "num_sliding_layers", "position_embedding", "norm", "qk_norm", "all_bias", "dropout", "swiglu"]
    return any(getattr(args, name, None) is not None for name in names) or bool(getattr(args, "moe", False))


def _mb_whole_product(flag: str, text: str, other: str, count: int, what: str) -> int:
    """count x the ratio `text` (the cookbook's -kv, -ff), which must come out a whole number: the 1e-6 slack
    absorbs float error in a factor such as 2.6666666666666665; a fraction of a head or a column is refused."""
    product = count * parse_number(text, flag, allow_zero=False)
    if not product <= MODEL_MAX_WIDTH:
        raise InputError(f"{flag} {text} times {other} {count} is beyond {MODEL_MAX_WIDTH:.0e}")
    if abs(product - round(product)) > 1e-6 or round(product) < 1:
        raise InputError(f"{flag} {text} times {other} {count} = {product:g} is not {what}")
    return int(round(product))


_MB_POSITIVE_WHEN_GIVEN = ("num_kv_heads", "head_dim", "moe_ffn_hidden_size", "shared_expert_ffn_size", "top_k",
                           "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "word_embed_proj_dim")
_MB_EXPERT_FIELDS = ("top_k", "expert_interval", "moe_ffn_hidden_size", "num_shared_experts", "shared_expert_ffn_size",
                     "first_k_dense", "dense_layers", "expert_interval_phase")


def _mb_flag(field: str) -> str:
    return next(flags[0] for flags, name, _ in MODEL_COUNT_FLAGS if name == field)


def _mb_layer_list(text: str, flag: str, layers: int) -> tuple:
    try:
        indices = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise InputError(f"{flag} expects comma-separated layer indices, got {text!r}") from None
    if any(not 0 <= i < layers for i in indices):
        raise InputError(f"{flag} entries must be layer indices in [0, {layers}), got {text!r}")
    return indices


def model_from_arguments(args, *, sequence_length: int | None = None, template: Model | None = None) -> tuple:
    """(Model, notes) from flags parsed with add_model_arguments: a preset or config.json first (else `template`,
    else flags alone), then each architecture flag replaces the field it names, then validate_model.

    sequence_length: the run's -s, which sizes a learned position table for a model from flags alone (the
    cookbook's reading of -s) when --learned-positions does not.  The notes say what was assumed or is not the
    source's own value; errors are InputError naming the flag (or the config.json field)."""
    notes = []
    preset, config = getattr(args, "preset", None), getattr(args, "config", None)
    if preset is not None and config is not None:
        raise InputError("--preset and --config are alternatives; give one")
    if getattr(args, "generic", False) and config is None:
        raise InputError("--generic reads an unknown model_type in a config.json; give it with --config")
    from_flags = preset is None and config is None and template is None
    if preset is not None:
        base = preset_model(preset)
    elif config is not None:
        raw, label = read_config_json(config)
        try:
            base, notes = model_from_config(raw, label, generic=getattr(args, "generic", False))
        except InputError as exc:  # the message names the file and its field; the flag too
            raise InputError(f"--config {exc}") from None
    elif template is not None:
        base = template
    else:
        if not model_arguments_given(args):
            raise InputError("no model given: --preset NAME, --config PATH|org/name, or architecture flags "
                             "(-l, -hs, ...)")
        # the cookbook lets -l, -hs and -v default (calc/calc_transformer_params.py: 44, 6144, 51200) and its mem
        # script -a (64; its params and flops scripts have no head count): the same values, each said in a note
        assumed = {field: value for field, value in MODEL_COOKBOOK_DEFAULTS.items()
                   if getattr(args, field, None) is None}
        hidden = parse_count(getattr(args, "hidden_size"), "--hidden-size", allow_zero=True, limit=MODEL_MAX_WIDTH) \
            if getattr(args, "hidden_size", None) is not None else assumed["hidden_size"]
        if getattr(args, "num_attention_heads", None) is None:
            ratio = getattr(args, "kv_size_ratio", None)
            ratio = parse_number(ratio, "--kv-size-ratio", allow_zero=False) if ratio is not None else 1
            heads = [64] + [hidden // d for d in (128, 64, 32) if hidden and hidden % d == 0]
            heads = [n for n in heads if hidden % n == 0 and abs(n * ratio - round(n * ratio)) < 1e-6]
            if not heads:
                raise InputError(f"--num-attention-heads is needed: neither 64 heads nor a head width of 128, 64 "
                                 f"or 32 divides --hidden-size {hidden} into heads that -kv leaves whole")
            assumed["num_attention_heads"] = heads[0]
        base = Model(num_layers=1, hidden_size=1, num_attention_heads=1, vocab_size=1, ffn_hidden_size=1,
                     gated_mlp=False, norm="layernorm")
        for field, value in assumed.items():
            setattr(args, field, str(value))
        notes.append(MODEL_FLAGS_ONLY_NOTE)
        if assumed:
            notes.append("assumed (the cookbook's defaults): " + ", ".join(
                f"{_mb_flag(field)} {value}" for field, value in assumed.items())
                + (f" (head_dim {hidden // assumed['num_attention_heads']}: the cookbook mem script's 64 heads where "
                   "they divide the width, else heads of 128; heads change no parameter or FLOP of a model with as "
                   "many KV heads as query heads, but eager attention's activation memory)"
                   if "num_attention_heads" in assumed else ""))
    values = {f.name: getattr(base, f.name) for f in _dc.fields(Model)}
    given = {}
    for flags, field, _ in MODEL_COUNT_FLAGS:
        text = getattr(args, field, None)
        if text is not None:
            given[field] = parse_count(text, flags[0], allow_zero=True, limit=MODEL_MAX_WIDTH)
    for field in _MB_POSITIVE_WHEN_GIVEN:  # 0 is the Model's "derived" marker there: a typed 0 is not a width
        if given.get(field) == 0:
            raise InputError(f"{_mb_flag(field)} must be a positive integer, got {getattr(args, field)!r}")
    if given.get("kv_lora_rank") == 0 and base.kv_lora_rank:
        raise InputError("--kv-lora-rank 0 turns MLA off, which leaves no head width of the model's own: describe "
                         "the model without MLA with flags or another preset")
    if given.get("num_experts") == 0 and base.num_experts:
        raise InputError("--num-experts 0 on a MoE model: transformers would build its MoE layers without routed "
                         "experts (Mixtral's with no MLP at all), not a dense model; describe the dense model with "
                         "flags or another preset")
    if given.get("mtp_layers") and (base.model_type != "deepseek_v3" and not base.router_score_correction_bias):
        raise InputError("--mtp-layers: multi-token-prediction modules are modelled for DeepSeek-V3's layout only "
                         "(DeepSeek-V3, Kimi-K2, GLM-4.5, DeepSeek-V3.2, GLM-5)")
    if "expert_interval" in given and given["expert_interval"] != 1 and base.num_experts \
            and base.expert_interval_phase == 0:
        raise InputError("--expert-interval on a DeepSeek model: DeepSeek's own code makes every N-th layer MoE and "
                         "transformers makes them all MoE (moe_layer_freq); only 1 is modelled")
    values.update(given)
    if values["num_layers"] > MODEL_MAX_LAYERS:  # before anything is built per layer
        raise InputError(f"--num-layers {values['num_layers']} is beyond {MODEL_MAX_LAYERS:,}")
    if getattr(args, "swiglu", None) and str(getattr(args, "num_mlp_linears", None)) == "2":
        raise InputError("--swiglu (3 linears) and -nl 2 contradict each other; give one")
    if getattr(args, "num_mlp_linears", None) is not None or getattr(args, "swiglu", None):
        values["gated_mlp"] = bool(getattr(args, "swiglu", None)) or str(args.num_mlp_linears) == "3"
    # the attention shape: -kv is the cookbook's ratio; a model's own head_dim is kept (as editing hidden_size in
    # a config.json keeps its head_dim field), and said so
    if getattr(args, "kv_size_ratio", None) is not None:
        if "num_kv_heads" in given:
            raise InputError("--kv-size-ratio and --num-kv-heads are alternatives; give one")
        if parse_number(args.kv_size_ratio, "--kv-size-ratio", allow_zero=False) > 1:
            raise InputError(f"--kv-size-ratio is kv heads / query heads, at most 1, got {args.kv_size_ratio!r}")
        values["num_kv_heads"] = _mb_whole_product("--kv-size-ratio", args.kv_size_ratio, "--num-attention-heads",
                                                   values["num_attention_heads"], "a whole number of kv heads")
    if base.head_dim and "head_dim" not in given and {"hidden_size", "num_attention_heads"} & set(given) \
            and not values["kv_lora_rank"]:
        notes.append(f"head_dim stays the model's {base.head_dim} with the new --hidden-size / "
                     "--num-attention-heads (as in its config.json); --head-dim changes it")
    if values["kv_lora_rank"]:
        unused = [flag for flag, given_here in (("--num-kv-heads", "num_kv_heads" in given), ("--kv-size-ratio",
                  getattr(args, "kv_size_ratio", None) is not None), ("--head-dim", "head_dim" in given)) if given_here]
        if unused:
            notes.append(f"{', '.join(unused)}: no effect with MLA (--kv-lora-rank > 0), whose head widths are "
                         "--qk-nope-head-dim, --qk-rope-head-dim and --v-head-dim")
    # the MLP width: -ff is the cookbook's ratio; a model from flags alone is 4 x hidden wide
    if getattr(args, "ffn_expansion_factor", None) is not None:
        if "ffn_hidden_size" in given:
            raise InputError("--ffn-expansion-factor and --ffn-hidden-size are alternatives; give one")
        values["ffn_hidden_size"] = _mb_whole_product("--ffn-expansion-factor", args.ffn_expansion_factor,
                                                      "--hidden-size", values["hidden_size"],
                                                      "a whole FFN width; use --ffn-hidden-size")
    elif from_flags and "ffn_hidden_size" not in given:
        values["ffn_hidden_size"] = 4 * values["hidden_size"]
    # positions
    kind = getattr(args, "position_embedding", None)
    if kind is not None:
        values["position_embedding"] = kind
    if "max_position_embeddings" in given:
        rows = given["max_position_embeddings"]
        if rows and kind not in (None, "learned"):
            raise InputError(f"--learned-positions {rows} adds a learned table, which --position-embedding {kind} "
                             "says the model does not have; give one of them")
        if rows and values["position_embedding"] == "relative" and kind is None:
            raise InputError("--learned-positions: the model has relative positions (Transformer-XL); give "
                             "--position-embedding learned to replace them")
        if rows:
            values["position_embedding"] = "learned"
        elif values["position_embedding"] == "learned":
            values["position_embedding"] = "none"
    if given.get("position_offset") and values["position_embedding"] != "learned":
        raise InputError("--position-offset adds rows to a learned position table, which this model does not have")
    if values["position_embedding"] == "learned" and not values["max_position_embeddings"]:
        if sequence_length:
            values["max_position_embeddings"] = sequence_length
            notes.append(f"a learned position table of -s {sequence_length} rows (the cookbook's reading of -s)")
        else:
            raise InputError("--position-embedding learned needs the table's rows: --learned-positions N or -s N")
    # biases, norms and switches
    if getattr(args, "all_bias", None) is not None:
        values.update(qkv_bias=args.all_bias, o_bias=args.all_bias, mlp_bias=args.all_bias)
    for _, field, _ in MODEL_SWITCH_FLAGS:
        if getattr(args, field, None) is not None:
            values[field] = getattr(args, field)
    if getattr(args, "norm", None) is not None:
        values["norm"] = MODEL_NORM_ALIASES.get(args.norm, args.norm)
    if getattr(args, "qk_norm", None) is not None:
        values["qk_norm"] = args.qk_norm
    if getattr(args, "dropout", None) is not None:
        values["dropout"] = args.dropout == "on"
    # experts
    if getattr(args, "moe", False) and not values["num_experts"]:
        if "num_experts" in given:
            raise InputError("--moe needs --num-experts > 0")
        values["num_experts"] = 8
        notes.append("--moe without --num-experts: 8 experts assumed (the cookbook params script's default; its "
                     "flops script's is 128)")
    # a flag whose field this model never reads would leave every number unchanged: refused, naming it
    if not values["num_experts"]:
        for field in _MB_EXPERT_FIELDS:
            if field in given and given[field] not in (0, 1 if field == "expert_interval" else 0):
                raise InputError(f"{_mb_flag(field)} needs --num-experts (a mixture-of-experts model)")
        if getattr(args, "dense_layers", None):
            raise InputError("--dense-layers needs --num-experts (a mixture-of-experts model)")
        for field, what in (("router_bias", "--router-bias"), ("shared_expert_gate", "--shared-expert-gate")):
            if getattr(args, field, None):
                raise InputError(f"{what} needs --num-experts (a mixture-of-experts model)")
    elif getattr(args, "shared_expert_gate", None) and not values["num_shared_experts"]:
        raise InputError("--shared-expert-gate needs a shared expert (--num-shared-experts)")
    if not values["kv_lora_rank"]:
        for field in ("q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            if given.get(field):
                raise InputError(f"{_mb_flag(field)} is a width of MLA attention: it needs --kv-lora-rank")
    if values["num_experts"] and not values["top_k"]:
        values["top_k"] = 1
        notes.append("--topk not given: 1 expert per token (the cookbook's default)")
    if values["num_experts"] and values["expert_interval"] > values["num_layers"]:
        raise InputError(f"--expert-interval {values['expert_interval']} exceeds --num-layers "
                         f"{values['num_layers']}: no layer would be MoE")
    if values["num_experts"] and values["mlp_bias"] and not (base.num_experts and base.mlp_bias):
        culprit = "--bias" if getattr(args, "all_bias", None) else "--mlp-bias" if getattr(args, "mlp_bias", None) \
            else "--num-experts on a model whose MLP has biases"
        raise InputError(f"{culprit}: routed experts with biases are not modelled (every supported MoE family "
                         "builds them without); add --no-mlp-bias")
    if "num_shared_experts" in given and given["num_shared_experts"] and not (
            values["shared_expert_ffn_size"] or values["moe_ffn_hidden_size"]):
        raise InputError("--num-shared-experts needs --shared-expert-ffn-size or --moe-ffn-hidden-size")
    if getattr(args, "dense_layers", None) is not None:
        values["dense_layers"] = _mb_layer_list(args.dense_layers, "--dense-layers", values["num_layers"])
    elif any(i >= values["num_layers"] for i in values["dense_layers"]):
        raise InputError(f"--num-layers {values['num_layers']}: the model's dense layers (mlp_only_layers) name "
                         f"layer {max(values['dense_layers'])}; give --dense-layers for the new depth")
    # which layers use the sliding window
    types_text, sliding = getattr(args, "layer_types", None), getattr(args, "num_sliding_layers", None)
    if types_text is not None and sliding is not None:
        raise InputError("--layer-types and --num-sliding-layers are alternatives; give one")
    layers = values["num_layers"]
    if given.get("sliding_window") == 0 and types_text is None and sliding is None:
        values["layer_types"] = ()  # no window: every layer full attention, whatever the model's pattern was
    if types_text is not None:
        text = types_text.strip().lower()
        types = tuple("sliding" if i % 2 == 0 else "full" for i in range(layers)) if text == "alternate" else \
            tuple(t.strip() for t in text.split(",") if t.strip())
        if len(types) != layers or set(types) - {"full", "sliding"}:
            raise InputError(f"--layer-types expects 'full' or 'sliding' for each of the {layers} layers, or "
                             f"'alternate', got {types_text!r:.80}")
        values["layer_types"] = types
    elif sliding is not None:
        n = parse_count(sliding, "--num-sliding-layers", allow_zero=True, limit=MODEL_MAX_LAYERS)
        if n > layers:
            raise InputError(f"--num-sliding-layers {n} exceeds --num-layers {layers}")
        values["layer_types"] = tuple("sliding" if i < n else "full" for i in range(layers))
    elif values["layer_types"] and len(values["layer_types"]) != layers:
        raise InputError(f"--num-layers {layers}: the model's layer_types lists {len(values['layer_types'])} layers "
                         "(sliding / full attention); give --layer-types or --num-sliding-layers for the new depth")
    if values["mixer_types"] and len(values["mixer_types"]) != layers:  # Qwen3-Next: no flag lists its mixers
        raise InputError(f"--num-layers {layers}: the model's layer_types lists {len(values['mixer_types'])} layers "
                         "(gated delta-net / full attention); a new depth of it is not modelled")
    if "sliding" in values["layer_types"] and not values["sliding_window"]:
        raise InputError("sliding layers need --sliding-window N (the span in tokens)")
    if not values["sliding_window"] or "sliding" not in values["layer_types"]:
        values["layer_types"] = ()  # no window, or every layer full: one rule (Model.layer_attention)
        if types_text is not None or sliding is not None:
            values["sliding_window"] = 0
    elif "full" not in values["layer_types"]:
        values["layer_types"] = ()  # every layer slides: the window alone says so
    if not from_flags:  # provenance: the echoed source says which values are not the preset's / file's own
        changed = [f.name for f in _dc.fields(Model) if f.name not in ("name", "source")
                   and values[f.name] != getattr(base, f.name)]
        if changed and template is None:
            values["name"] = f"{values['name']} (modified)"
            values["source"] = f"{values['source']}; changed by flags: {', '.join(changed)}"
    if values["mtp_layers"] and not base.mtp_layers:  # the reader's "MTP not counted" note no longer holds
        notes = [n for n in notes if not n.startswith("num_nextn_predict_layers")]
    # a value the flags left as the model had it is named as the model's, not as a flag the user did not type
    labels = {} if from_flags else {f.name: f"the model's {f.name}" for f in _dc.fields(Model)
                                    if f.name not in given and f.name != "head_dim"
                                    and values[f.name] == getattr(base, f.name)}
    model = validate_model(Model(**values), labels)
    placement = ("num_experts", "first_k_dense", "expert_interval", "num_layers")
    if model.num_experts and not model.moe_layer_count() and (
            any(f in given for f in placement) or getattr(args, "dense_layers", None) is not None):
        raise InputError("no layer would be MoE with these flags (--num-experts, --first-k-dense, --dense-layers, "
                         "--expert-interval, --num-layers); describe a dense model instead")
    if "ffn_hidden_size" in given and model.num_experts and model.moe_ffn_hidden_size and \
            model.moe_layer_count() == model.num_layers:
        raise InputError("--ffn-hidden-size: every layer of this model is MoE and its experts are "
                         "--moe-ffn-hidden-size wide; nothing reads it")
    return model, notes


# --------------------------------------------------------------------------------------------------------------
# KV-cache element types: one table, so the memory and quantization scripts price a cache alike
# --------------------------------------------------------------------------------------------------------------
# (bytes per block, values per block): llama.cpp's cache types (-ctk / -ctv; block sizes from ggml-common.h:
# block_q8_0 = 2-byte scale + 32 int8, q5_1 = 2 + 2 + 4 + 16, q5_0 = 2 + 4 + 16, q4_1 = 2 + 2 + 16,
# q4_0 / iq4_nl = 2 + 16), vLLM's --kv-cache-dtype fp8 (e4m3 or e5m2, one byte, per-tensor scales only), and plain
# int8 / int4 caches without per-block scales.
KV_CACHE_DTYPES = {"fp32": (4, 1), "fp16": (2, 1), "bf16": (2, 1), "fp8": (1, 1), "int8": (1, 1), "int4": (1, 2),
                   "q8_0": (34, 32), "q5_1": (24, 32), "q5_0": (22, 32), "q4_1": (20, 32), "q4_0": (18, 32),
                   "iq4_nl": (18, 32)}
KV_CACHE_DTYPE_ALIASES = {"f32": "fp32", "float32": "fp32", "f16": "fp16", "float16": "fp16", "half": "fp16",
                          "bfloat16": "bf16", "fp8_e4m3": "fp8", "fp8_e5m2": "fp8"}


def kv_cache_dtype(text, flag: str = "--kv-dtype") -> str:
    """The canonical KV-cache type for a spelling users know (f16 as llama.cpp, fp16, float16, bfloat16, fp8_e4m3
    as vLLM, q8_0, ...); InputError naming `flag` otherwise."""
    name = str(text).strip().lower()
    name = KV_CACHE_DTYPE_ALIASES.get(name, name)
    if name not in KV_CACHE_DTYPES:
        raise InputError(f"{flag} must be one of {', '.join(KV_CACHE_DTYPES)} (or f16, bfloat16, fp8_e4m3, ...), "
                         f"got {text!r}")
    return name


def kv_row_bytes(values: int, dtype: str, flag: str = "--kv-dtype") -> int:
    """Exact bytes of one cached row of `values` elements (one token's K or V of one layer); a block type needs
    rows that are a whole number of blocks (llama.cpp refuses others), so a remainder is an InputError."""
    block_bytes, block = KV_CACHE_DTYPES[dtype]
    if values % block:
        raise InputError(f"{flag} {dtype}: a cache row of {values} values is not a whole number of its {block}-value "
                         "blocks")
    return values // block * block_bytes


# --------------------------------------------------------------------------------------------------------------
# Accelerators: one catalogue for every script that needs a device (peaks, memory, bandwidth, links)
# --------------------------------------------------------------------------------------------------------------
# Per device: memory_gib (the marketed capacity; the "GB" of GPU DRAM/HBM and of unified memory are 2^30-byte
# units: nvidia-smi shows an "80GB" A100 as 81,920 MiB and an H100 80GB as 81,559 MiB, the rest reserved), bandwidth
# in GB/s (10^9 B/s); DENSE peak tensor TFLOP/s (TOPS for int8) per dtype, fp32 the non-tensor rate: where a
# datasheet prints only "with sparsity" figures the dense one is half ("Specifications 1/2 lower without
# sparsity"), None where the device has no such mode or no source gives it; GeForce cards with fp32 accumulation
# (what training uses); link: the scale-up interconnect per GPU and direction in GB/s (NVLink 900 GB/s is 450 each
# way), domain: the GPUs that link joins (8 on an HGX board, 72 in a GB200 NVL72 rack), nic: scale-out bandwidth
# per GPU and direction in GB/s (400 Gb/s InfiniBand = 50), None where no source gives it; source: where each
# number comes from ("secondary" where no vendor document was found).
def _mb_gpu(name, memory_gib, bandwidth, fp32=None, tf32=None, bf16=None, fp16=None, fp8=None, int8=None, fp4=None,
            link=None, domain=None, nic=None, gpu_share=None, source=""):
    return dict(name=name, memory_gib=memory_gib, bandwidth=bandwidth, fp32=fp32, tf32=tf32, bf16=bf16, fp16=fp16,
                fp8=fp8, int8=int8, fp4=fp4, link=link, domain=domain, nic=nic, gpu_share=gpu_share, source=source)


GPU_CATALOGUE = {
    "v100": _mb_gpu("NVIDIA Tesla V100 SXM2 32GB", 32, 900, fp32=15.7, fp16=125.0,
                    source="NVIDIA Tesla V100 datasheet (SXM2): 15.7 FP32, 125 tensor TFLOPS, 32 GB HBM2, 900 GB/s"),
    "a100-40gb": _mb_gpu("NVIDIA A100 40GB SXM4", 40, 1555, fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0, int8=624.0,
                         link=300, domain=8, nic=25,
                         source="NVIDIA A100 Tensor Core GPU datasheet (SXM 40GB): 1,555 GB/s, dense and sparse "
                                "side by side, NVLink 600 GB/s; DGX A100: 8 GPUs, one 200 Gb/s HDR NIC each"),
    "a100-80gb": _mb_gpu("NVIDIA A100 80GB SXM4", 80, 2039, fp32=19.5, tf32=156.0, bf16=312.0, fp16=312.0, int8=624.0,
                         link=300, domain=8, nic=25,
                         source="NVIDIA A100 Tensor Core GPU datasheet (SXM 80GB): 2,039 GB/s, NVLink 600 GB/s; DGX "
                                "A100: 8 GPUs, one 200 Gb/s HDR NIC each"),
    "h100-sxm": _mb_gpu("NVIDIA H100 SXM5 80GB", 80, 3350, fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5, fp8=1979.0,
                        int8=1979.0, link=450, domain=8, nic=50,
                        source="NVIDIA H100 Tensor Core GPU datasheet (SXM): 989 TF32 / 1,979 BF16 / 3,958 FP8 "
                               "TFLOPS with sparsity, 3.35 TB/s, NVLink 900 GB/s; DGX H100: 8 GPUs, one 400 Gb/s "
                               "ConnectX-7 each"),
    "h100-pcie": _mb_gpu("NVIDIA H100 PCIe 80GB", 80, 2000, fp32=51.0, tf32=378.0, bf16=756.5, fp16=756.5,
                         fp8=1513.0, int8=1513.0,
                         source="NVIDIA H100 Tensor Core GPU datasheet (PCIe): 756 TF32 / 1,513 BF16 / 3,026 FP8 "
                                "TFLOPS with sparsity, 2 TB/s"),
    "h100-nvl": _mb_gpu("NVIDIA H100 NVL 94GB", 94, 3900, bf16=835.5, fp16=835.5,
                        source="NVIDIA H100 datasheet (NVL, per GPU): 1,671 BF16 TFLOPS with sparsity (as torchtitan "
                               "and OLMo-core read it), 94 GB HBM3, 3.9 TB/s (secondary)"),
    "h200": _mb_gpu("NVIDIA H200 SXM 141GB", 141, 4800, fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5, fp8=1979.0,
                    int8=1979.0, link=450, domain=8, nic=50,
                    source="NVIDIA H200 Tensor Core GPU datasheet (SXM): H100 SXM compute, 141 GB HBM3e, 4.8 TB/s; "
                           "NVIDIA MLPerf v4.1 H200-SXM-141GBx8: 8 GPUs, NVLink 900 GB/s, 400 Gb/s IB per GPU"),
    "h800": _mb_gpu("NVIDIA H800 SXM5 80GB", 80, 3350, fp32=67.0, tf32=494.5, bf16=989.5, fp16=989.5, fp8=1979.0,
                    int8=1979.0, link=200, domain=8, nic=50,
                    source="secondary (no NVIDIA datasheet is hosted): H100 SXM silicon with NVLink 400 GB/s; "
                           "DeepSeek-V3 report (arXiv 2412.19437) sec. 3.1: 8 GPUs per node, IB 50 GB/s"),
    "h20": _mb_gpu("NVIDIA H20 96GB", 96, 4000, fp32=44.0, tf32=74.0, bf16=148.0, fp16=148.0, fp8=296.0, int8=296.0,
                   link=450, domain=8,
                   source="secondary (partner spec sheets as reported): 96 GB HBM3, 4.0 TB/s, 148 FP16/BF16 and 296 "
                          "FP8/INT8 dense, NVLink 900 GB/s, 8-way HGX"),
    "b200": _mb_gpu("NVIDIA B200 (HGX/DGX B200, per GPU)", 180, 8000, fp32=75.0, tf32=1100.0, bf16=2250.0,
                    fp16=2250.0, fp8=4500.0, int8=4500.0, fp4=9000.0, link=900, domain=8, nic=50,
                    source="NVIDIA HGX B200 specifications (per GPU): 2.2 TF32 / 4.5 BF16 / 9 FP8 / 18 FP4 PFLOPS "
                           "with sparsity, NVLink 1.8 TB/s; DGX B200: 1,440 GB and 64 TB/s for 8 GPUs, one 400 Gb/s "
                           "ConnectX-7 each"),
    "gb200": _mb_gpu("NVIDIA GB200 NVL72 (per Blackwell GPU)", 186, 8000, fp32=80.0, tf32=1250.0, bf16=2500.0,
                     fp16=2500.0, fp8=5000.0, int8=5000.0, fp4=10000.0, link=900, domain=72,
                     source="NVIDIA GB200 NVL72 specifications, per GPU (/72): 180 TF32 / 360 BF16 / 720 FP8 / "
                            "1,440 FP4 PFLOPS with sparsity, 5,760 FP32 TFLOPS, 576 TB/s, 186 GB HBM3E, NVLink "
                            "1.8 TB/s in one 72-GPU domain"),
    "b300": _mb_gpu("NVIDIA B300 (HGX B300, per GPU)", 288, 8000, fp32=75.0, tf32=1125.0, bf16=2250.0, fp16=2250.0,
                    fp8=4500.0, fp4=13125.0, link=900, domain=8, nic=100,
                    source="secondary (NVIDIA's HGX B300 table as reproduced): 288 GB HBM3e, 8 TB/s, NVLink 1.8 TB/s, "
                           "800 Gb/s ConnectX-8 per GPU; dense = half the sparse figures; int8 left out (copies "
                           "of the table disagree)"),
    "mi250x": _mb_gpu("AMD Instinct MI250X", 128, 3277, fp32=47.9, bf16=383.0, fp16=383.0,
                      source="AMD Instinct MI250X datasheet: 47.9 FP32 vector, 383 FP16/BF16 TFLOPS, 128 GB HBM2e, "
                             "3.2768 TB/s"),
    "mi300x": _mb_gpu("AMD Instinct MI300X", 192, 5300, fp32=163.4, tf32=653.7, bf16=1307.4, fp16=1307.4,
                      fp8=2614.9, int8=2614.9, domain=8, nic=50,
                      source="AMD Instinct MI300X datasheet: 163.4 FP32, 653.7 TF32, 1,307.4 BF16, 2,614.9 FP8 "
                             "TFLOPS, 192 GB HBM3, 5.3 TB/s; 8 per OAM board (AMD MLPerf v4.1); Azure ND MI300X v5: "
                             "8 x 400 Gb/s NDR"),
    "mi325x": _mb_gpu("AMD Instinct MI325X", 256, 6000, fp32=163.4, tf32=653.7, bf16=1307.4, fp16=1307.4, fp8=2614.9,
                      domain=8,
                      source="AMD Instinct MI325X product page (as quoted by the ROCm inference cookbook) and ROCm "
                             "GPU specifications: MI300X compute, 256 GB HBM3E, 6 TB/s"),
    "mi355x": _mb_gpu("AMD Instinct MI355X", 288, 8000, bf16=2516.6, fp16=2516.6, fp8=5033.2, fp4=10066.4, domain=8,
                      source="AMD dense peaks (AMD's own roofline tables: 2,516.6 BF16, 5,033.2 FP8, 10,066.4 MXFP4); "
                             "ROCm GPU specifications: 288 GiB HBM3E; 8 TB/s"),
    "gaudi3": _mb_gpu("Intel Gaudi 3 (HL-325L OAM)", 128, 3670, bf16=1835.0, fp8=1835.0, link=525, domain=8, nic=75,
                      source="Intel, Gaudi 3, Hot Chips 2024: 1,835 BF16/FP8 matrix TFLOPS, 128 GB HBM2e, 3.67 TB/s; "
                             "Intel Gaudi docs, Network Configuration: 21 x 200 GbE scale-up ports (525 GB/s each "
                             "way), 3 x 200 GbE scale-out (75 GB/s each way)"),
    "l4": _mb_gpu("NVIDIA L4", 24, 300, fp32=30.3, tf32=60.0, bf16=121.0, fp16=121.0, fp8=242.5, int8=242.5,
                  source="NVIDIA L4 datasheet: 120 TF32 / 242 BF16 / 485 FP8 TFLOPS with sparsity, 24 GB GDDR6, "
                         "300 GB/s"),
    "l40s": _mb_gpu("NVIDIA L40S", 48, 864, fp32=91.6, tf32=183.0, bf16=362.05, fp16=362.05, fp8=733.0, int8=733.0,
                    source="NVIDIA L40S datasheet: 366 TF32 / 733 BF16 / 1,466 FP8 TFLOPS with sparsity, 48 GB GDDR6, "
                           "864 GB/s"),
    "a10": _mb_gpu("NVIDIA A10", 24, 600, bf16=125.0, fp16=125.0, int8=250.0,
                   source="NVIDIA A10 datasheet: 125 FP16/BF16 TFLOPS, 250 INT8 TOPS (dense), 24 GB GDDR6, 600 GB/s"),
    "rtx-a6000": _mb_gpu("NVIDIA RTX A6000", 48, 768, fp32=38.7, bf16=154.8, fp16=154.8,
                         source="NVIDIA RTX A6000 specifications (as reproduced by ServeTheHome and Microway): "
                                "309.7 FP16 tensor TFLOPS with sparsity, 48 GB GDDR6, 768 GB/s"),
    "rtx-3090": _mb_gpu("NVIDIA GeForce RTX 3090", 24, 936, fp32=35.6, bf16=71.0, fp16=71.0,
                        source="NVIDIA Ampere GA102 whitepaper, Appendix A, as quoted (secondary): 35.6 FP32, 142 FP16 "
                               "tensor TFLOPS with FP16 accumulation, half with FP32 accumulation; 936 GB/s"),
    # the 12 and 16 GB cards people run quantized models on: memory and bandwidth only (bus width x data rate)
    "rtx-3060": _mb_gpu("NVIDIA GeForce RTX 3060 12GB", 12, 360,
                        source="NVIDIA's GeForce RTX 30/40 spec table as printed by guru3d.com (secondary): 12 GB "
                               "GDDR6, 192-bit, 360 GB/s (15 Gbps x 192 / 8)"),
    "rtx-4060-ti-16gb": _mb_gpu("NVIDIA GeForce RTX 4060 Ti 16GB", 16, 288,
                                source="NVIDIA's RTX 4060 Ti announcement as reported (secondary): 16 GB GDDR6, "
                                       "128-bit, 288 GB/s (18 Gbps x 128 / 8)"),
    "rtx-4090": _mb_gpu("NVIDIA GeForce RTX 4090", 24, 1008, fp32=82.6, tf32=82.6, bf16=165.2, fp16=165.2, fp8=330.3,
                        int8=660.6,
                        source="NVIDIA Ada Lovelace architecture whitepaper v1.0, Appendix A (RTX 4090, FP32 "
                               "accumulate), 1,008 GB/s"),
    "rtx-5090": _mb_gpu("NVIDIA GeForce RTX 5090", 32, 1792, bf16=209.5, fp16=209.5, fp8=419.0,
                        source="secondary (NVIDIA product page as quoted): 32 GB GDDR7, 1,792 GB/s; tensor rates with "
                               "FP32 accumulation (half the FP16-accumulate 419 / sparse 838 TFLOPS)"),
    "tpu-v4": _mb_gpu("Google Cloud TPU v4 (per chip)", 32, 1200, bf16=275.0,
                      source="Google Cloud TPU v4 documentation: 275 BF16 TFLOPS, 32 GiB HBM2, 1,200 GB/s per chip"),
    "tpu-v5e": _mb_gpu("Google Cloud TPU v5e (per chip)", 16, 819, bf16=197.0, int8=393.0, link=200, domain=256,
                       source="Google Cloud TPU v5e documentation: 197 BF16 TFLOPS, 393 INT8 TOPS, 16 GB HBM2, "
                              "819 GB/s, ICI 400 GB/s per chip (both ways), 256-chip pod"),
    "tpu-v5p": _mb_gpu("Google Cloud TPU v5p (per chip)", 95, 2765, bf16=459.0, link=600, domain=8960,
                       source="Google Cloud TPU v5p documentation: 459 BF16 TFLOPS, 95 GiB HBM2e, 2,765 GB/s, ICI "
                              "1,200 GB/s per chip (both ways), 8,960-chip pod"),
    "tpu-v6e": _mb_gpu("Google Cloud TPU v6e Trillium (per chip)", 32, 1638, bf16=918.0, int8=1836.0, link=400,
                       domain=256,
                       source="Google Cloud TPU v6e documentation: 918 BF16 TFLOPS, 1,836 INT8 TOPS, 32 GB HBM, "
                              "1,638 GB/s, ICI 800 GB/s per chip (both ways), 256-chip pod"),
    # Apple silicon: unified memory (the largest configuration; --gpu-memory for another), of which macOS lets the
    # GPU wire about 3/4 by default on machines above 36 GB (Metal's recommendedMaxWorkingSetSize as llama.cpp logs
    # it: 73,728 MB of 96 GB, ggml-org/llama.cpp#3213; 2/3 on 16 and 32 GB machines, ollama#434); Apple publishes
    # no tensor FLOP/s
    "m2-ultra": _mb_gpu("Apple M2 Ultra", 192, 800, gpu_share=0.75,
                        source="Apple Newsroom, 'Apple introduces M2 Ultra' (2023-06-05): up to 192 GB unified "
                               "memory, 800 GB/s"),
    "m3-max": _mb_gpu("Apple M3 Max (40-core GPU)", 128, 400, gpu_share=0.75,
                      source="Apple M3 Max specifications (secondary): up to 128 GB unified memory, 400 GB/s"),
    "m4-max": _mb_gpu("Apple M4 Max (40-core GPU)", 128, 546, gpu_share=0.75,
                      source="Apple M4 Max announcement as reported (2024-10-30): up to 128 GB unified memory, "
                             "546 GB/s"),
}
GPU_PEAK_DTYPES = ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp4")


def gpu_spec(name: str, flag: str = "--gpu") -> dict:
    """The catalogue row of a device (case-insensitive key); InputError naming `flag` and the keys otherwise."""
    key = str(name).strip().lower()
    if key not in GPU_CATALOGUE:
        raise InputError(f"{flag} {name!r}: unknown; choose from {', '.join(GPU_CATALOGUE)}")
    return GPU_CATALOGUE[key]


def gpu_memory_bytes(name: str, flag: str = "--gpu") -> int:
    """The device's memory in bytes (memory_gib x 2^30); for Apple silicon, the share its GPU may wire by default."""
    row = gpu_spec(name, flag)
    total = row["memory_gib"] * 2**30
    return int(total * row["gpu_share"]) if row["gpu_share"] else total


# --------------------------------------------------------------------------------------------------------------
# GGUF files: ggml's block types, llama.cpp's tensor list and llama-quantize's per-tensor types
# --------------------------------------------------------------------------------------------------------------
# One source for the quantization script (file sizes) and the memory script (llama.cpp's model buffers), so that
# the two price a Q4_K_M file alike.


@_dc.dataclass(frozen=True)
class BlockType:
    """One storage type: ``block`` weights stored in ``bytes`` bytes (scales included)."""
    name: str
    block: int
    bytes: int
    layout: str
    source: str

    @property
    def bpw(self) -> float:
        return 8 * self.bytes / self.block


_GGML = "llama.cpp ggml/src/ggml-common.h"
GGML_TYPES = {t.name: t for t in [
    BlockType("F32", 1, 4, "IEEE float32", _GGML),
    BlockType("F16", 1, 2, "IEEE float16", _GGML),
    BlockType("BF16", 1, 2, "bfloat16", _GGML),
    BlockType("Q8_0", 32, 34, "fp16 d + 32 int8 (block_q8_0)", _GGML),
    BlockType("Q5_1", 32, 24, "fp16 d + fp16 m + 4 B high bits + 16 B nibbles (block_q5_1)", _GGML),
    BlockType("Q5_0", 32, 22, "fp16 d + 4 B high bits + 16 B nibbles (block_q5_0)", _GGML),
    BlockType("Q4_1", 32, 20, "fp16 d + fp16 m + 16 B nibbles (block_q4_1)", _GGML),
    BlockType("Q4_0", 32, 18, "fp16 d + 16 B nibbles (block_q4_0)", _GGML),
    BlockType("IQ4_NL", 32, 18, "fp16 d + 16 B indices into a 16-level table (block_iq4_nl)", _GGML),
    BlockType("MXFP4", 32, 17, "E8M0 exponent + 16 B of E2M1 (block_mxfp4)", _GGML),
    BlockType("NVFP4", 64, 36, "4 UE4M3 scales (one per 16) + 32 B of E2M1 (block_nvfp4)", _GGML),
    BlockType("Q6_K", 256, 210, "128 B low 4 bits + 64 B high 2 bits + 16 int8 scales + fp16 d (block_q6_K)", _GGML),
    BlockType("Q5_K", 256, 176, "fp16 d, dmin + 12 B 6-bit scales/mins + 32 B high bits + 128 B (block_q5_K)", _GGML),
    BlockType("Q4_K", 256, 144, "fp16 d, dmin + 12 B 6-bit scales/mins + 128 B nibbles (block_q4_K)", _GGML),
    BlockType("Q3_K", 256, 110, "32 B high-bit mask + 64 B low 2 bits + 12 B scales + fp16 d (block_q3_K)", _GGML),
    BlockType("Q2_K", 256, 84, "16 B 4-bit scales/mins + 64 B 2-bit quants + fp16 d, dmin (block_q2_K)", _GGML),
    BlockType("IQ4_XS", 256, 136, "fp16 d + 2 B + 4 B scales + 128 B nibbles (block_iq4_xs)", _GGML),
    BlockType("IQ3_S", 256, 110, "fp16 d + 64 B grid + 8 B high bits + 32 B signs + 4 B scales (block_iq3_s)", _GGML),
    BlockType("IQ3_XXS", 256, 98, "fp16 d + 96 B grid indices, signs and scales (block_iq3_xxs)", _GGML),
    BlockType("IQ2_S", 256, 82, "fp16 d + 64 B + 8 B high bits + 8 B scales (block_iq2_s)", _GGML),
    BlockType("IQ2_XS", 256, 74, "fp16 d + 64 B 16-bit grid codes + 8 B scales (block_iq2_xs)", _GGML),
    BlockType("IQ2_XXS", 256, 66, "fp16 d + 64 B (block_iq2_xxs)", _GGML),
    BlockType("IQ1_M", 256, 56, "32 B + 16 B + 8 B scales, no separate fp16 (block_iq1_m)", _GGML),
    BlockType("IQ1_S", 256, 50, "fp16 d + 32 B + 16 B (block_iq1_s)", _GGML),
    BlockType("TQ2_0", 256, 66, "64 B of 2-bit ternary + fp16 d (block_tq2_0)", _GGML),
    BlockType("TQ1_0", 256, 54, "48 B (5 trits/byte) + 4 B + fp16 d (block_tq1_0)", _GGML),
]}

# GGUF file types (llama-quantize names) -> default tensor type (llama_ftype_get_default_type).
GGUF_FILE_TYPES = {
    "F32": "F32", "F16": "F16", "BF16": "BF16",
    "Q4_0": "Q4_0", "Q4_1": "Q4_1", "Q5_0": "Q5_0", "Q5_1": "Q5_1", "Q8_0": "Q8_0",
    "Q2_K": "Q2_K", "Q2_K_S": "Q2_K", "Q3_K_S": "Q3_K", "Q3_K_M": "Q3_K", "Q3_K_L": "Q3_K",
    "Q4_K_S": "Q4_K", "Q4_K_M": "Q4_K", "Q5_K_S": "Q5_K", "Q5_K_M": "Q5_K", "Q6_K": "Q6_K",
    "IQ1_S": "IQ1_S", "IQ1_M": "IQ1_M", "IQ2_XXS": "IQ2_XXS", "IQ2_XS": "IQ2_XS", "IQ2_S": "IQ2_XS",
    "IQ2_M": "IQ2_S", "IQ3_XXS": "IQ3_XXS", "IQ3_XS": "IQ3_S", "IQ3_S": "IQ3_S", "IQ3_M": "IQ3_S",
    "IQ4_NL": "IQ4_NL", "IQ4_XS": "IQ4_XS", "TQ1_0": "TQ1_0", "TQ2_0": "TQ2_0", "MXFP4_MOE": "MXFP4",
}
UNQUANTIZED_GGML = ("F32", "F16", "BF16")
IMATRIX_REQUIRED_TYPES = ("IQ3_XXS", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ1_M", "IQ1_S")


# The model's tensors as a GGUF file holds them.
# The model is the shared block's Model (from --preset, --config or flags) and its parameters are the block's tensor
# list (model_param_tensors), the one list every calc script counts.  Below is only llama.cpp's view of it:
# each tensor's GGUF name, its ggml shape ``ne`` (PyTorch's shape reversed: ne[0] is the row a quantization block
# runs along, then the output features, then the expert), the tensor llama.cpp's converter splits (the stacked expert
# gate_up_proj becomes ffn_gate_exps + ffn_up_exps) and the one it adds (rope_freqs).  So the parameters quantized
# here are, by construction, the parameters the other scripts count.

GGUF_MAX_LAYERS = 1000  # every tensor of every layer is listed and walked by llama.cpp's per-tensor rules


@_dc.dataclass(frozen=True)
class GgufTensor:
    """One tensor of a GGUF file: its name, its shape ``ne`` (ne[0] = row length, as in ggml) and how it is stored."""
    name: str
    ne: tuple
    layer: int = -1
    linear: bool = False       # a Linear inside a block: GPU formats quantize it
    force_f32: bool = False    # written as F32 by convert_hf_to_gguf (1-D tensors, router, positions)
    gguf_only: bool = False    # not a model parameter (llama.cpp's precomputed rope_freqs)
    buffer: bool = False       # stored in the checkpoint, but a buffer in transformers, not a parameter
    linear_bias: bool = False  # the bias of a block Linear (GPTQ's QuantLinear stores its own)
    keep_f32: bool = False     # held in fp32 by transformers whatever the dtype (ERNIE 4.5's / Hunyuan's routers)

    @property
    def numel(self) -> int:
        return _math.prod(self.ne)

    @property
    def is_parameter(self) -> bool:
        """A PyTorch parameter (llama.cpp's rope_freqs table and checkpoint buffers are not)."""
        return not (self.gguf_only or self.buffer)


# llama.cpp's name for each module of the block's tensor list (src/llama-arch.cpp LLM_TENSOR_NAMES, as
# convert_hf_to_gguf.py maps the transformers names), and whether it is a Linear inside the blocks, which the GPU
# formats quantize (embeddings, LM head, norms, routers and the shared-expert gate are not).  OPT has no llama.cpp
# architecture: its project_in / project_out are named proj_in / proj_out here.  Gopher's Transformer-XL W_kR has
# no llama.cpp name either: attn_rel_k.
_GGUF_GLOBAL_MODULES = {
    "embed_tokens": ("token_embd", False), "embed_positions": ("position_embd", False),
    "project_in": ("proj_in", True), "embed_norm": ("token_embd_norm", False),
    "final_norm": ("output_norm", False), "project_out": ("proj_out", True), "lm_head": ("output", False),
}
_GGUF_LAYER_MODULES = {
    "self_attn.q_proj": ("attn_q", True), "self_attn.k_proj": ("attn_k", True), "self_attn.v_proj": ("attn_v", True),
    "self_attn.qkv_proj": ("attn_qkv", True),  # fused, as llama.cpp keeps it (GPT-2, BLOOM, NeoX, Falcon, Phi-3)
    "self_attn.o_proj": ("attn_output", True),
    "self_attn.q_norm": ("attn_q_norm", False), "self_attn.k_norm": ("attn_k_norm", False),
    "self_attn.rel_k_proj": ("attn_rel_k", True),
    # MLA (DeepSeek-V2/V3)
    "self_attn.q_a_proj": ("attn_q_a", True), "self_attn.q_a_layernorm": ("attn_q_a_norm", False),
    "self_attn.q_b_proj": ("attn_q_b", True), "self_attn.kv_a_proj_with_mqa": ("attn_kv_a_mqa", True),
    "self_attn.kv_a_layernorm": ("attn_kv_a_norm", False), "self_attn.kv_b_proj": ("attn_kv_b", True),
    # dense MLP; Phi-3's fused gate_up_proj is one ffn_up of twice the width in llama.cpp
    "mlp.gate_proj": ("ffn_gate", True), "mlp.up_proj": ("ffn_up", True), "mlp.gate_up_proj": ("ffn_up", True),
    "mlp.down_proj": ("ffn_down", True),
    # MoE: router, stacked routed experts, shared experts (DeepSeek's n shared experts are one MLP n times as wide)
    "mlp.router": ("ffn_gate_inp", False),
    "mlp.shared_experts.gate_proj": ("ffn_gate_shexp", True), "mlp.shared_experts.up_proj": ("ffn_up_shexp", True),
    "mlp.shared_experts.gate_up_proj": ("ffn_up_shexp", True),
    "mlp.shared_experts.down_proj": ("ffn_down_shexp", True),
    "mlp.shared_expert_gate": ("ffn_gate_inp_shexp", False),
}
# Gemma 4's MoE block beside the MLP (transformers' names -> llama.cpp's, a Linear inside the block or not)
_GGUF_GEMMA4_MOE = {
    "router.proj.weight": ("ffn_gate_inp.weight", False), "router.scale": ("ffn_gate_inp.scale", False),
    "router.per_expert_scale": ("ffn_down_exps.scale", False),
    "experts.gate_up_proj": ("ffn_gate_up_exps.weight", True), "experts.down_proj": ("ffn_down_exps.weight", True),
    "pre_feedforward_layernorm_2.weight": ("pre_ffw_norm_2.weight", False),
    "post_feedforward_layernorm_1.weight": ("post_ffw_norm_1.weight", False),
    "post_feedforward_layernorm_2.weight": ("post_ffw_norm_2.weight", False),
}
# The block numbers a layer's norms norm1..normN; llama.cpp names them by what they normalise, which the count and
# placement say (the layouts the block's readers and presets make).
_GGUF_LAYER_NORMS = {
    (1, "pre"): ("attn_norm",), (1, "parallel"): ("attn_norm",),              # GPT-J, Phi-2, Falcon-7B, PaLM
    (2, "pre"): ("attn_norm", "ffn_norm"),
    (2, "parallel"): ("attn_norm", "attn_norm_2"),                            # Falcon-40B: ln_attn, ln_mlp
    (2, "post"): ("post_attention_norm", "post_ffw_norm"),                    # OLMo-2
    (4, "pre"): ("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"),  # Gemma-2 sandwich norms
}


# An architecture whose llama.cpp graph names a layer's norms otherwise: gpt-oss's second norm (before the MoE block)
# is attn_post_norm, "blk.N.post_attention_norm" (src/models/openai-moe.cpp load_arch_tensors).
_GGUF_ARCH_LAYER_NORMS = {"gpt-oss": ("attn_norm", "post_attention_norm"),
                          "dbrx": ("attn_norm", "attn_output_norm"),  # llama.cpp LLM_ARCH_DBRX: norm_1, norm_2
                          # Qwen3-Next: input_layernorm, post_attention_layernorm -> attn_norm, attn_post_norm
                          # ("blk.N.post_attention_norm"; src/models/qwen3next.cpp load_arch_tensors)
                          "qwen3next": ("attn_norm", "post_attention_norm")}


def check_gguf_model(m: Model, labels: dict | None = None) -> Model:
    """The GGUF tensor list's own limits on a validated Model: a layer count it can walk, a norm layout and tensors
    llama.cpp names.  ``labels`` names where a value came from, by Model field (a flag or a config field:
    {"num_layers": "--num-layers"}); without one, the layer count is called --num-layers and the rest the model's
    source."""
    labels = labels or {}
    if m.num_layers > GGUF_MAX_LAYERS:
        raise InputError(f"{labels.get('num_layers', '--num-layers')} {m.num_layers} is above {GGUF_MAX_LAYERS} "
                         "(the GGUF tensor list walks every tensor of every layer)")
    if (m.norms_per_layer, m.norm_placement) not in _GGUF_LAYER_NORMS:
        raise InputError(f"{labels.get('norms_per_layer', m.source)}: {m.norms_per_layer} norms per layer placed "
                         f"{m.norm_placement!r} have no llama.cpp names; not modelled")
    if m.mtp_layers:
        raise InputError(f"{labels.get('mtp_layers', m.source)}: multi-token-prediction modules (mtp_layers "
                         f"{m.mtp_layers}) are not in llama.cpp's GGUF files (its converter drops them); not "
                         "modelled")
    return m


def _gguf_delta_net(m: Model, layer: int, t: ModelTensor, prefix: str, old_qwen3next: bool) -> list[GgufTensor]:
    """One tensor of Qwen3-Next's gated delta-net as llama.cpp's converter writes it (conversion/qwen.py
    Qwen3NextModel.modify_tensors, names from gguf-py's QWEN3NEXT tensor list, shapes as src/models/qwen3next.cpp
    load_arch_tensors creates them; kd = key heads x key head dim, vd = value heads x value head dim, Hv value heads):

    * in_proj_qkvz (2 kd + 2 vd, h), whose rows interleave [q, k, v, z] per key head, is reordered and split into
      attn_qkv {h, 2 kd + vd} and attn_gate {h, vd}.  Files converted before that split (``old_qwen3next``, the
      loader's "ssm_in is used by legacy GGUF", e.g. the Dec 2025 conversions) hold one ssm_in {h, 2 kd + 2 vd};
    * in_proj_ba -> ssm_ba {h, 2 Hv}; out_proj -> ssm_out {vd, h};
    * conv1d.weight (2 kd + vd, 1, kernel) is squeezed to 2-D -> ssm_conv1d {kernel, 2 kd + vd}, written F32 (the
      converter's always-F32 list holds SSM_CONV1D) and never quantized (tensor_allows_quantization skips
      "ssm_conv1d");
    * dt_bias -> ssm_dt.bias {Hv}, A_log -> ssm_a {Hv} (stored as -exp(A_log), no ".weight" suffix), the gated
      RMSNorm -> ssm_norm.weight {value head dim}: 1-D, F32.
    In llama-quant.cpp's categories attn_qkv is attention-QKV (it takes the attn_v rules and counts in
    n_attention_wv); attn_gate, ssm_in, ssm_ba and ssm_out are "other" (the file type's default type)."""
    kd = m.linear_num_key_heads * m.linear_key_head_dim
    vd, hv, h = m.linear_num_value_heads * m.linear_value_head_dim, m.linear_num_value_heads, m.hidden_size
    part = t.name[len("linear_attn."):]
    if part == "in_proj_qkvz.weight":
        if old_qwen3next:
            return [GgufTensor(f"{prefix}ssm_in.weight", (h, 2 * kd + 2 * vd), layer, linear=True)]
        return [GgufTensor(f"{prefix}attn_qkv.weight", (h, 2 * kd + vd), layer, linear=True),
                GgufTensor(f"{prefix}attn_gate.weight", (h, vd), layer, linear=True)]
    named = {"in_proj_ba.weight": ("ssm_ba.weight", (h, 2 * hv), True),
             "out_proj.weight": ("ssm_out.weight", (vd, h), True),
             "conv1d.weight": ("ssm_conv1d.weight", (m.linear_conv_kernel, 2 * kd + vd), False),
             "dt_bias": ("ssm_dt.bias", (hv,), False), "A_log": ("ssm_a", (hv,), False),
             "norm.weight": ("ssm_norm.weight", (m.linear_value_head_dim,), False)}
    return _gguf_named(m, layer, t, prefix, "linear_attn.", named)


def _gguf_mamba2(m: Model, layer: int, t: ModelTensor, prefix: str) -> list[GgufTensor]:
    """One tensor of Bamba's Mamba-2 mixer as llama.cpp writes it.  Bamba is llama.cpp's ``granitehybrid``
    architecture: conversion/granite.py ``GraniteHybridModel`` (registered for "BambaForCausalLM") hands the SSM
    layers' tensors to conversion/mamba.py ``Mamba2Model.modify_tensors``; names from gguf-py's tensor map, shapes as
    the granitehybrid loader creates them (src/llama-model.cpp / src/models, ``hparams.is_recr(i)`` branch), with d =
    H x P the inner width, c = d + 2 G N the conv channels:

    * in_proj -> ssm_in {h, d + c + H}; out_proj -> ssm_out {d, h} (llama.cpp loads no in_proj / out_proj bias);
    * conv1d.weight (c, 1, kernel) squeezed -> ssm_conv1d {kernel, c}, F32 (always-F32 list) and never quantized
      (tensor_allows_quantization skips "ssm_conv1d"); conv1d.bias -> ssm_conv1d.bias {c};
    * dt_bias -> ssm_dt.bias {H}; A_log -> ssm_a = -exp(A_log) and D -> ssm_d, each reshaped to {1, H} ("no weight
      suffix for these"); norm.weight reshaped to ssm_norm {d / G, G}: all F32, none quantized (not ".weight", or a
      norm)."""
    h, d, c, heads, groups = m.hidden_size, m.mamba_width, m.mamba_conv_dim, m.mamba_num_heads, m.mamba_n_groups
    named = {"in_proj.weight": ("ssm_in.weight", (h, d + c + heads), True),
             "out_proj.weight": ("ssm_out.weight", (d, h), True),
             "conv1d.weight": ("ssm_conv1d.weight", (m.mamba_d_conv, c), False),
             "conv1d.bias": ("ssm_conv1d.bias", (c,), False), "dt_bias": ("ssm_dt.bias", (heads,), False),
             "A_log": ("ssm_a", (1, heads), False), "D": ("ssm_d", (1, heads), False),
             "norm.weight": ("ssm_norm.weight", (d // groups, groups), False)}
    return _gguf_named(m, layer, t, prefix, "mamba.", named)


def _gguf_short_conv(m: Model, layer: int, t: ModelTensor, prefix: str) -> list[GgufTensor]:
    """One tensor of LFM2's short-convolution mixer as llama.cpp writes it (conversion/lfm2.py
    ``LFM2Model.modify_tensors``: "conv op requires 2d tensor", the kernel squeezed; shapes as
    src/models/lfm2.cpp ``llama_model_lfm2::load_arch_tensors`` creates them): in_proj -> shortconv.in_proj {h, 3h},
    out_proj -> shortconv.out_proj {h, h}, conv.weight (h, 1, L) -> shortconv.conv {L, h}, F32 (the converter's
    always-F32 SHORTCONV_CONV) and never quantized ("shortconv.conv.weight" in tensor_allows_quantization)."""
    h = m.hidden_size
    named = {"in_proj.weight": ("shortconv.in_proj.weight", (h, 3 * h), True),
             "out_proj.weight": ("shortconv.out_proj.weight", (h, h), True),
             "conv.weight": ("shortconv.conv.weight", (m.short_conv_kernel, h), False)}
    return _gguf_named(m, layer, t, prefix, "conv.", named)


def _gguf_named(m: Model, layer: int, t: ModelTensor, prefix: str, module: str, named: dict) -> list[GgufTensor]:
    """The GgufTensor of block tensor ``t`` from a {block name after ``module``: (GGUF name, ne, a Linear weight)}
    table; a tensor the table lacks, or whose element count differs, is refused rather than guessed."""
    part = t.name[len(module):]
    if part not in named:
        raise InputError(f"{m.source}: tensor {t.name} has no GGUF name here (llama.cpp loads none); not "
                         "modelled")
    name, ne, linear = named[part]
    if _math.prod(ne) != t.numel:  # the block's shape and llama.cpp's must hold the same parameters
        raise InputError(f"{m.source}: tensor {t.name} does not match llama.cpp's {name} {ne}; not modelled")
    return [GgufTensor(f"{prefix}{name}", ne, layer, linear=linear, force_f32=not linear)]


def _gguf_tensors(m: Model, layer: int, t: ModelTensor, norm_names: tuple,
                  old_qwen3next: bool = False) -> list[GgufTensor]:
    """One tensor of the block's list as the GGUF file stores it (one, or two for a stacked expert gate_up_proj)."""
    module, _, part = t.name.rpartition(".")
    ne = tuple(reversed(t.shape))  # PyTorch (E, out, in) -> ggml (in, out, E)
    prefix = f"blk.{layer}." if layer >= 0 else ""
    if t.name.startswith("linear_attn.") and m.gguf_arch == "qwen3next":
        return _gguf_delta_net(m, layer, t, prefix, old_qwen3next)
    if t.name.startswith("mamba.") and m.model_type == "bamba" and gguf_hybrid_modelled(m):
        return _gguf_mamba2(m, layer, t, prefix)
    if t.name.startswith("conv.") and m.model_type == "lfm2" and gguf_hybrid_modelled(m):
        return _gguf_short_conv(m, layer, t, prefix)
    if t.name == "final_norm.weight" and m.gguf_arch == "lfm2":  # LLM_TENSOR_OUTPUT_NORM_LFM2: "token_embd_norm"
        # (llama-arch.cpp, "fix for wrong tensor name"), the norm after the last layer (lfm2.cpp load_arch_tensors)
        return [GgufTensor("token_embd_norm.weight", ne, layer, force_f32=True)]
    if t.name == "mlp.experts.gate_up_proj":  # [gate; up] stacked per expert: llama.cpp keeps two tensors
        half = (ne[0], ne[1] // 2, ne[2])
        return [GgufTensor(f"{prefix}ffn_{which}_exps.weight", half, layer, linear=True) for which in ("gate", "up")]
    if t.name.startswith(("self_attn.q_norm.norms.", "self_attn.k_norm.norms.")):
        # StableLM's LayerNorm per head: convert_hf_to_gguf.py (StableLMModel) stacks the heads' weights into one
        # attn_q_norm / attn_k_norm of {head_dim, heads}; a *_norm.weight stays F32
        if not t.name.endswith(".norms.0.weight"):
            return []  # stacked into head 0's entry
        heads = m.num_attention_heads if t.name.startswith("self_attn.q_norm") else m.kv_heads
        return [GgufTensor(f"{prefix}attn_{t.name[10]}_norm.weight", (t.shape[0], heads), layer, force_f32=True)]
    if t.name in ("mlp.experts.w1", "mlp.experts.v1", "mlp.experts.w2"):
        # DBRX's fused (E x ffn, h) experts: convert_hf_to_gguf.py (DbrxModel) reshapes w1 and v1 to {n_embd, n_ff,
        # n_expert} (ffn_gate_exps, ffn_up_exps) and w2, permuted, to {n_ff, n_embd, n_expert} (ffn_down_exps)
        e, f, h = m.num_experts, m.moe_width, m.hidden_size
        which = {"w1": "gate", "v1": "up", "w2": "down"}[part]
        return [GgufTensor(f"{prefix}ffn_{which}_exps.weight", (f, h, e) if part == "w2" else (h, f, e), layer,
                           linear=True)]
    if t.name in ("mlp.experts.up_proj", "mlp.experts.down_proj"):  # the stacks are parameters, not modules
        return [GgufTensor(f"{prefix}ffn_{t.name[12:-5]}_exps.weight", ne, layer, linear=True)]
    # gpt-oss's expert biases (llama.cpp src/models/openai-moe.cpp: ffn_{gate,up,down}_exps.bias of {n_ff_exp or
    # n_embd, n_expert}); convert_hf_to_gguf.py writes every tensor whose name does not end in ".weight" as F32
    if t.name == "mlp.experts.gate_up_proj_bias":
        half = (ne[0] // 2, ne[1])
        return [GgufTensor(f"{prefix}ffn_{which}_exps.bias", half, layer, force_f32=True) for which in ("gate", "up")]
    if t.name in ("mlp.experts.up_proj_bias", "mlp.experts.down_proj_bias"):
        return [GgufTensor(f"{prefix}ffn_{t.name[12:-10]}_exps.bias", ne, layer, force_f32=True)]
    if t.name == "self_attn.sinks":  # gpt-oss: attn_sinks.weight, {n_head} (openai-moe.cpp), 1-D: F32
        return [GgufTensor(f"{prefix}attn_sinks.weight", ne, layer, force_f32=True)]
    if t.name == "mlp.router.e_score_correction_bias":  # DeepSeek-V3: a buffer in transformers, in every file;
        # ERNIE 4.5: a frozen fp32 parameter (moe_statics), which convert_hf_to_gguf writes as the same exp_probs_b
        return [GgufTensor(f"{prefix}exp_probs_b.bias", ne, layer, force_f32=True, buffer=t.buffer, keep_f32=t.fp32)]
    if t.name == "self_attn.rel_uv_bias":  # Transformer-XL's per-head u and v (no llama.cpp name)
        return [GgufTensor(f"{prefix}attn_rel_uv", ne, layer, force_f32=True)]
    if t.name.startswith(("linear_attn.", "conv.")):  # Qwen3-Next's gated delta-net, LFM2's short convolution:
        # their projections are Linears (GPU formats quantize them); no llama.cpp names or types (size_gguf refuses)
        # Qwen3.5 splits the input projections: in_proj_qkv, in_proj_z, in_proj_b, in_proj_a are Linears too
        linear = module.endswith("proj") or module.startswith("linear_attn.in_proj_")
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=linear, force_f32=len(ne) < 2)]
    if t.name.startswith("self_attn.indexer."):  # DeepSeek-V3.2 / GLM-5's DSA indexer: Linears and a LayerNorm (GPU
        # formats quantize the Linears); no llama.cpp names or types are modelled for it (size_gguf refuses)
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=t.kind == "weight", force_f32=len(ne) < 2)]
    if t.name.startswith("mamba."):  # Bamba's Mamba-2 mixer: in_proj / out_proj are Linears (GPU formats quantize
        # them); no llama.cpp names or types are modelled for it (size_gguf refuses the model); Jamba's Mamba-1
        # mixer adds x_proj and dt_proj (Linears too) and A_log (d, N), an elementwise parameter
        proj = module.endswith("proj")
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=proj and part == "weight", force_f32=len(ne) < 2,
                           linear_bias=proj and part == "bias")]
    if m.gemma4_layers and t.name in _GGUF_GEMMA4_MOE and not m.per_layer_input_size:
        # Gemma 4's MoE block beside the MLP as llama.cpp's converter writes it (conversion/gemma.py Gemma4Model;
        # gemma4.cpp load_arch_tensors): the stacked gate_up_proj stays one ffn_gate_up_exps
        name, linear = _GGUF_GEMMA4_MOE[t.name]
        return [GgufTensor(f"{prefix}{name}", ne, layer, linear=linear and t.kind == "weight",
                           force_f32=len(ne) < 2 or name == "ffn_gate_inp.weight")]
    if m.gemma4_layers and t.name.startswith(("experts.", "router.", "per_layer_", "embed_tokens_per_layer.",
                                              "post_per_layer_input_norm.", "post_feedforward_layernorm_",
                                              "pre_feedforward_layernorm_")):
        # Gemma 4's MoE block beside the MLP, its router and the per-layer inputs (PLE): the Linears (the PLE
        # projections and gate) and the stacked experts are what GPU formats quantize; the PLE table is an
        # embedding, the router a gate kept as the other routers are; no llama.cpp names (size_gguf refuses)
        linear = t.kind == "weight" and (t.name.startswith("per_layer_") or t.role == "routed_experts")
        return [GgufTensor(f"{prefix}{t.name}", ne, layer, linear=linear, force_f32=len(ne) < 2)]
    if t.name == "mlp.shared_expert_gate.weight":
        if old_qwen3next and m.gguf_arch == "qwen3next":  # the Dec 2025 converter wrote the (1, hidden) gate as a
            # 2-D {hidden, 1} at the output type (its always-F32 list lacked FFN_GATE_INP_SHEXP); ggml_n_dims is 1,
            # so llama-quantize keeps it: the "type f16: 48 tensors" of lmstudio-community's Q4_K_M (tests)
            return [GgufTensor(f"{prefix}ffn_gate_inp_shexp.weight", (m.hidden_size, 1), layer)]
        ne = (m.hidden_size,)  # llama.cpp loads Qwen2-MoE's (1, hidden) gate as {n_embd}; the converter writes F32
    if layer < 0:
        known = _GGUF_GLOBAL_MODULES.get(module)
    elif module.startswith("norm") and module[4:].isdigit():
        known = (norm_names[int(module[4:]) - 1], False)
    else:
        known = _GGUF_LAYER_MODULES.get(module)
    if known is None:  # a tensor the block gained that this script cannot name: refuse rather than drop it
        raise InputError(f"{m.source}: tensor {t.name} has no GGUF name here; not modelled")
    base, linear = known
    return [GgufTensor(f"{prefix}{base}.{part}", ne, layer, linear=linear and part == "weight",
                       force_f32=len(ne) < 2 or base in ("ffn_gate_inp", "position_embd"), buffer=t.buffer,
                       linear_bias=linear and part == "bias", keep_f32=t.fp32)]


def gguf_tensor_list(m: Model, old_qwen3next: bool = False) -> list[GgufTensor]:
    """Every tensor of the model as a GGUF file holds it: the block's model_param_tensors(m), each under its
    llama.cpp name (token_embd, blk.N.attn_q, blk.N.ffn_gate_exps, output, ...) with ggml's ``ne``, plus
    rope_freqs (head_dim / 2 factors, not a parameter) for Llama-3.1's "llama3" rope scaling and Gemma 4's
    proportional RoPE (global_head_dim / 2, conversion/gemma.py), and Gemma 4's per-layer output scale
    (transformers' layer_scalar buffer: blk.N.layer_output_scale.weight, one f32 value)."""
    check_gguf_model(m)
    norm_names = _GGUF_ARCH_LAYER_NORMS.get(m.gguf_arch) if m.norms_per_layer == 2 and m.norm_placement == "pre" \
        else None
    norm_names = norm_names or _GGUF_LAYER_NORMS[m.norms_per_layer, m.norm_placement]
    gemma4 = bool(m.gemma4_layers)
    if gemma4:
        full = [i for i in range(m.num_layers) if m.layer_attention(i) == "full"]
        rope_width = m.layer_head_dim(full[0]) // 2 if full else 0
    else:
        rope_width = m.d_head // 2 if m.rope_freqs else 0
    rope_freqs = [GgufTensor("rope_freqs.weight", (rope_width,), force_f32=True, gguf_only=True)] \
        if rope_width else []
    out = []
    previous = -1
    for layer, t in model_param_tensors(m):
        if layer == 0 and rope_freqs:  # after the embedding tensors, before the first block
            out, rope_freqs = out + rope_freqs, []
        if gemma4 and previous >= 0 and layer != previous:
            # layer_scalar: a one-value buffer of each transformers layer (the GPU formats leave it out: 2 B)
            out.append(GgufTensor(f"blk.{previous}.layer_output_scale.weight", (1,), previous, force_f32=True,
                                  gguf_only=True))
        previous = layer
        out.extend(_gguf_tensors(m, layer, t, norm_names, old_qwen3next))
    return out


# GGUF file types: llama.cpp's per-tensor type selection.


def gguf_tensor_category(name: str) -> str:
    """llama-quant.cpp tensor_get_category (substring tests in the same order)."""
    if name == "output.weight":
        return "output"
    if name == "token_embd.weight":
        return "token_embd"
    for key, cat in (("attn_qkv.weight", "attn_qkv"), ("attn_kv_b.weight", "attn_kv_b"), ("attn_v.weight", "attn_v"),
                     ("attn_k.weight", "attn_k"), ("attn_q.weight", "attn_q"), ("attn_output.weight", "attn_output"),
                     ("ffn_up", "ffn_up"), ("ffn_gate", "ffn_gate"), ("ffn_down", "ffn_down")):
        if key in name:
            return cat
    return "other"


def ggml_n_dims(ne: tuple) -> int:
    """ggml_n_dims: the dimensions up to the last one longer than 1 (a {4096, 1} tensor is 1-D), at least 1."""
    n = len(ne)
    while n > 1 and ne[n - 1] == 1:
        n -= 1
    return n


def gguf_allows_quantization(t: GgufTensor) -> bool:
    """llama-quant.cpp tensor_allows_quantization for the tensors listed here: 2-D and 3-D weights, except
    norms, routers, position tables and the small convolution kernels of SSM / delta-net ("ssm_conv1d") and
    short-conv ("shortconv.conv.weight") layers."""
    return (ggml_n_dims(t.ne) >= 2 and t.name.endswith("weight") and "_norm.weight" not in t.name
            and "ffn_gate_inp.weight" not in t.name and t.name != "position_embd.weight"
            and "ssm_conv1d" not in t.name and "shortconv.conv.weight" not in t.name)


def use_more_bits(i_layer: int, n_layers: int) -> bool:
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def is_llama_70b(m: Model) -> bool:
    """llama.cpp LLM_TYPE_70B for the Llama architecture: 80 layers with grouped-query attention (an 80-layer
    Falcon is the 180B type)."""
    return m.num_layers == 80 and m.kv_heads != m.num_attention_heads and not m.is_mla \
        and m.gguf_arch != "falcon"


def gguf_n_gqa(m: Model) -> int:
    """llama_hparams::n_gqa() as llama-quantize calls it (layer 0): n_head / n_head_kv, or 0 when layer 0 has no KV
    heads.  The Bamba (granitehybrid) and LFM2 converters write head_count_kv per layer, 0 on the SSM / short-conv
    layers (conversion/granite.py set_gguf_parameters, conversion/lfm2.py set_gguf_parameters), so a model whose
    first layer is one of those takes the n_gqa < 4 branches; Qwen3-Next's converter writes one head count.  Gemma 4
    and MiMo-V2-Flash write theirs per layer too: layer 0's (Gemma 4 31B: a sliding layer, 32 / 16 = 2)."""
    if m.is_mla:
        return 1
    if m.model_type in ("bamba", "lfm2") and m.layer_is_linear(0):
        return 0
    return m.num_attention_heads // m.layer_kv_heads(0)


def _gguf_type_impl(ft: str, default: str, t: GgufTensor, cat: str, m: Model, state: dict,
                    has_imatrix: bool, old_q2k: bool, old_qkv: bool = False) -> str:
    """llama_tensor_get_type_impl, for ftype ``ft`` (our paraphrase, same branch order); old_q2k and old_qkv: the
    older recipes GGUF_OLD_RECIPES describes."""
    new = default
    n_layer = m.num_layers
    n_gqa = gguf_n_gqa(m)
    n_expert = m.num_experts
    low_iq = ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M")
    falcon = m.gguf_arch == "falcon"
    if cat == "output" or (m.tied_embeddings and cat == "token_embd"):
        if ft == "MXFP4_MOE" or falcon or t.ne[0] % GGML_TYPES[new].block:
            return "Q8_0"
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if ft == "MXFP4_MOE":
        return "MXFP4" if len(t.ne) == 3 and t.ne[2] > 1 else "Q8_0"  # ne[2] > 1: an expert stack
    if cat == "token_embd":
        if ft in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ft in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        if ft in ("TQ1_0", "TQ2_0"):
            return "Q4_K"
        return new
    if old_q2k and ft == "Q2_K":
        # 2023 recipe (llama.cpp commit bac66994, used for TheBloke's 2023 files): Q2_K for token_embd, attn_q and
        # attn_k, Q3_K for every other matrix; the output keeps Q6_K and 70B models still get Q5_K attn_v.
        if cat in ("attn_v", "attn_qkv", "attn_kv_b"):
            state["i_attention_wv"] += 1
            return "Q5_K" if is_llama_70b(m) else "Q3_K"
        return "Q2_K" if cat in ("attn_q", "attn_k") else "Q3_K"
    if old_qkv and cat == "attn_qkv":  # its own branch, before attn_v's rules took it over (GGUF_OLD_RECIPES)
        return {"Q3_K_M": "Q4_K", "Q3_K_L": "Q4_K", "IQ3_M": "Q4_K", "Q4_K_M": "Q5_K", "Q5_K_M": "Q6_K"}.get(ft, new)
    attn_v_like = cat in ("attn_v", "attn_qkv", "attn_kv_b")
    if ft in low_iq:
        if attn_v_like:
            if n_gqa >= 4 or n_expert >= 4:
                new = "Q4_K"
            else:
                new = "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
            state["i_attention_wv"] += 1
        elif n_expert == 8 and cat == "attn_k":
            new = "Q4_K"
        elif cat == "ffn_down":
            if state["i_ffn_down"] < n_layer // 8:
                new = "IQ3_S" if ft in ("IQ2_S", "IQ2_M") else "Q2_K"
            state["i_ffn_down"] += 1
        elif cat == "attn_output":
            if n_expert == 8:
                new = "Q5_K"
            elif ft in ("IQ1_S", "IQ1_M"):
                new = "IQ2_XXS"
            elif ft in ("IQ2_S", "IQ2_M"):
                new = "IQ3_S"
        return new
    if attn_v_like:
        i_wv, n_wv = state["i_attention_wv"], state["n_attention_wv"]
        if ft == "Q2_K":
            new = "Q4_K" if n_gqa >= 4 else "Q3_K"
        elif ft == "Q2_K_S" and n_gqa >= 4:
            new = "Q4_K"
        elif ft == "IQ3_XXS":
            new = "Q4_K" if n_gqa >= 4 else ("IQ3_XXS" if has_imatrix else "IQ3_S")
        elif ft in ("IQ3_XS", "IQ3_S") and n_gqa >= 4:
            new = "Q4_K"
        elif ft == "IQ3_M":
            new = "Q4_K"
        elif ft == "Q3_K_M":
            new = "Q5_K" if i_wv < 2 else "Q4_K"
        elif ft == "Q3_K_L":
            new = "Q5_K"
        elif ft in ("IQ4_NL", "IQ4_XS") and n_gqa >= 4:
            new = "Q5_K"
        elif ft in ("Q4_K_M", "Q5_K_M") and use_more_bits(i_wv, n_wv):
            new = "Q6_K"
        elif ft == "Q4_K_S" and i_wv < 4:
            new = "Q5_K"
        if is_llama_70b(m) and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        if n_expert == 8:
            new = "Q8_0"
        state["i_attention_wv"] += 1
        return new
    if cat == "attn_k":
        if n_expert == 8:
            return "Q8_0"
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if cat == "attn_q":
        return {"IQ3_XS": "IQ3_XXS", "IQ3_XXS": "IQ2_S"}.get(ft, new)
    if cat == "ffn_down":
        i_layer = t.layer if n_expert > 1 else state["i_ffn_down"]
        state["i_ffn_down"] += 1
        if ft == "Q2_K":
            new = "Q3_K"
        elif ft == "Q2_K_S":
            if i_layer < n_layer // 8:
                new = "Q4_K"
        elif ft == "IQ3_XXS" and not has_imatrix:
            new = "Q4_K" if i_layer < n_layer // 8 else "Q3_K"
        elif ft == "Q3_K_M":
            new = "Q5_K" if i_layer < n_layer // 16 else \
                "Q4_K" if not falcon or use_more_bits(i_layer, n_layer) else "Q3_K"
        elif ft == "IQ3_M" and (i_layer < n_layer // 8 or (n_expert == 8 and use_more_bits(i_layer, n_layer))):
            new = "Q4_K"
        elif ft == "Q3_K_L":
            new = "Q4_K" if falcon else "Q5_K"
        elif ft == "Q4_K_M":
            if falcon:
                new = "Q6_K" if i_layer < n_layer // 16 else "Q5_K" if use_more_bits(i_layer, n_layer) else "Q4_K"
            elif use_more_bits(i_layer, n_layer):
                new = "Q6_K"
        elif i_layer < n_layer // 8 and ft in ("IQ4_NL", "IQ4_XS") and not has_imatrix:
            new = "Q5_K"
        elif ft == "Q5_K_M" and use_more_bits(i_layer, n_layer):
            new = "Q6_K"
        elif ft == "Q4_K_S" and not falcon and i_layer < n_layer // 8:
            new = "Q5_K"
        elif ft in ("Q4_0", "Q5_0") and has_imatrix and i_layer < n_layer // 8:
            new = "Q4_1" if ft == "Q4_0" else "Q5_1"
        return new
    if cat == "attn_output":
        if falcon:
            return "Q4_K" if ft == "Q3_K_L" else new
        if n_expert == 8:
            if ft in ("Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M", "IQ3_S",
                      "IQ3_M", "IQ4_XS"):
                new = "Q5_K"
            return new
        return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(ft, new)
    if cat == "attn_qkv":  # unreachable (attn_v-like above); kept to mirror the source's branch list
        return new
    if cat in ("ffn_gate", "ffn_up"):
        i_layer = t.layer if n_expert > 1 else state[f"i_{cat}"]
        state[f"i_{cat}"] += 1
        if ft == "IQ3_XS" and n_layer // 8 <= i_layer < 7 * n_layer // 8:
            new = "IQ3_XXS"
    return new


# tensor_type_fallback's table: the 256-block types and the 32-block type each falls back to
_FALLBACK_TYPES = {**dict.fromkeys(("IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ4_XS"),
                                   "IQ4_NL"),
                   **dict.fromkeys(("Q2_K", "Q3_K", "TQ1_0", "TQ2_0"), "Q4_0"),
                   "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}


def gguf_fallback_type(t: GgufTensor, ggml_type: str) -> str:
    """llama-quant.cpp tensor_type_fallback: rows not divisible by a 256-block type's block get its 32-block
    fallback, or F16 when 32 does not divide them either.  Other types have no fallback: llama-quantize stops with
    "no tensor type fallback is defined", so this raises ValueError and the file type is reported as skipped."""
    if t.ne[0] % GGML_TYPES[ggml_type].block == 0:
        return ggml_type
    if ggml_type not in _FALLBACK_TYPES:
        raise ValueError(f"{t.name}: rows of {t.ne[0]} are not a multiple of the {ggml_type} block "
                         f"({GGML_TYPES[ggml_type].block}) and llama-quantize has no fallback for {ggml_type}")
    new = _FALLBACK_TYPES[ggml_type]
    return new if t.ne[0] % GGML_TYPES[new].block == 0 else "F16"


def gguf_tensor_bytes(t: GgufTensor, ggml_type: str) -> int:
    bt = GGML_TYPES[ggml_type]
    if t.ne[0] % bt.block:
        raise ValueError(f"row of {t.name} ({t.ne[0]}) is not a multiple of the {ggml_type} block ({bt.block})")
    return t.numel // bt.block * bt.bytes


def gguf_type_plan(m: Model, tensors: list[GgufTensor], ftype: str, has_imatrix: bool = False,
                   old_q2k: bool = False, old_qkv: bool = False) -> list[tuple[str, str]]:
    """For each tensor, (the type llama-quantize's rules pick, the type stored after tensor_type_fallback)."""
    default = GGUF_FILE_TYPES[ftype]
    state = {"i_attention_wv": 0, "i_ffn_down": 0, "i_ffn_gate": 0, "i_ffn_up": 0,
             "n_attention_wv": sum(gguf_tensor_category(t.name) in ("attn_v", "attn_qkv", "attn_kv_b")
                                   for t in tensors)}
    plan = []
    for t in tensors:
        if not gguf_allows_quantization(t):
            kept = "F32" if (t.force_f32 or len(t.ne) < 2) else "F16"
            plan.append((kept, kept))
        elif m.gguf_arch == "gpt-oss" and len(t.ne) == 3 and t.ne[2] > 1 and t.linear:
            plan.append(("MXFP4", "MXFP4"))  # the converter's MXFP4 experts (GPT_OSS_GGUF_TYPES)
        elif default in UNQUANTIZED_GGML:
            plan.append((default, default))
        else:
            chosen = _gguf_type_impl(ftype, default, t, gguf_tensor_category(t.name), m, state, has_imatrix,
                                     old_q2k, old_qkv)
            plan.append((chosen, gguf_fallback_type(t, chosen)))
    return plan


def gguf_types(m: Model, tensors: list[GgufTensor], ftype: str, has_imatrix: bool = False,
               old_q2k: bool = False, old_qkv: bool = False) -> list[str]:
    """The GGML type llama-quantize stores each tensor in for file type ``ftype``."""
    return [stored for _, stored in gguf_type_plan(m, tensors, ftype, has_imatrix, old_q2k, old_qkv)]


def requires_imatrix(tensors: list[GgufTensor], types: list[str], ftype: str) -> bool:
    """llama-quant.cpp tensor_requires_imatrix over the whole file."""
    for t, ty in zip(tensors, types):
        if t.name in ("token_embd.weight", "output.weight"):
            continue
        if ty in IMATRIX_REQUIRED_TYPES or (ty == "Q2_K" and ftype == "Q2_K_S"):
            return True
    return False


def gguf_planned_types(m: Model, tensors: list[GgufTensor], ftype: str, has_imatrix: bool = False,
                       old_q2k: bool = False, old_qkv: bool = False) -> tuple:
    """(plan, imatrix assumed): gguf_type_plan, re-planned with an importance matrix where llama-quantize needs one
    for ``ftype`` and none was given (llama-quantize refuses those types without one)."""
    plan = gguf_type_plan(m, tensors, ftype, has_imatrix, old_q2k, old_qkv)
    if not has_imatrix and requires_imatrix(tensors, [stored for _, stored in plan], ftype):
        return gguf_type_plan(m, tensors, ftype, True, old_q2k, old_qkv), True
    return plan, False


# Older llama-quantize recipes still found in published files (each one selectable where a file type is given):
# - old_q2k: the 2023 Q2_K (llama.cpp commit bac66994, TheBloke's 2023 files): "mostly Q3_K except for
#   tok_embeddings, attention.wq, attention.wk";
# - old_qkv: a fused attn_qkv (Phi-3, GPT-NeoX, Falcon, BLOOM) with its own branch, as llama-quantize had it before
#   the tensor-category rewrite of llama-quant.cpp: Q3_K_M / Q3_K_L / IQ3_M -> Q4_K, Q4_K_M -> Q5_K, Q5_K_M ->
#   Q6_K for every layer's attn_qkv, and the other file types' default.  The branch is still in llama-quant.cpp
#   (llama.cpp 0c1e570, 2026-10-01: "category == tensor_category::ATTENTION_QKV") but unreachable, since
#   category_is_attn_v() now sends attn_qkv through attn_v's rules (Q6_K on use_more_bits layers for Q4_K_M).
#   Phi-3-mini-4k-instruct's Q4_K_M (microsoft, April 2024) loads as 2228.82 MiB on the GPU + 52.84 MiB (its Q4_K
#   token embedding) on the host: exactly the old recipe; the current one would make it 2232.19 MiB.
GGUF_OLD_RECIPES = {"old_q2k": "--old-q2k", "old_qkv": "--old-qkv"}


# gpt-oss ships its routed experts in MXFP4 (E2M1 values, one E8M0 scale per 32: 17 B per 32 weights) and llama.cpp's
# convert_hf_to_gguf.py writes them as GGML MXFP4 whatever --outtype says: a llama.cpp developer's conversion log of
# gpt-oss-20b with --outtype bf16 prints "n_tensors = 459, total_size = 13.8G" (the experts at 16 bits would make it
# 41.8 GB).  What llama-quantize then does with those MXFP4 experts for the K- and I-quant types is not modelled
# here; MXFP4_MOE (experts MXFP4, the other matrices Q8_0: llama-quant.cpp) and the 16-bit conversions are.
GPT_OSS_GGUF_TYPES = ("F32", "F16", "BF16", "MXFP4_MOE")


def gguf_hybrid_modelled(m: Model) -> bool:
    """The hybrid layers whose llama.cpp tensors are named here: Qwen3-Next's gated delta-net (_gguf_delta_net),
    Bamba's Mamba-2 mixer without in_proj / out_proj biases (_gguf_mamba2: the granitehybrid loader has none) and
    LFM2's short convolution without biases (_gguf_short_conv: lfm2.cpp loads none)."""
    return (m.gguf_arch == "qwen3next" or (m.model_type == "bamba" and not m.mamba_proj_bias)
            or (m.model_type == "lfm2" and not m.short_conv_bias))


def gguf_file_type_refusal(m: Model, ftype: str) -> str | None:
    """Why llama-quantize's types for file type ``ftype`` are not modelled for this model (None: they are)."""
    if m.gguf_arch == "gpt-oss" and ftype not in GPT_OSS_GGUF_TYPES:
        return (f"llama.cpp keeps gpt-oss's experts in MXFP4 (its converter writes them so); what llama-quantize "
                f"makes of them for {ftype} is not modelled (only {', '.join(GPT_OSS_GGUF_TYPES)})")
    if m.single_block_layers:  # Nemotron-H (issue 10, branch hybrid)
        return ("llama.cpp's tensor names and types for nemotron_h (one Mamba-2 / attention / MLP / MoE block per "
                "layer) are not modelled")
    if m.state_layer_count() and not gguf_hybrid_modelled(m):  # Qwen3.5, Falcon-H1, ...: llama.cpp's tensors for
        # their delta-net / SSM layers are not modelled (Qwen3-Next's, Bamba's and LFM2's are)
        return f"llama.cpp's tensor types for {m.linear_mixer_name} layers ({m.gguf_arch}) are not modelled"
    if m.has_indexer:  # issue 10, branch dsa: deepseek_v32 / glm_moe_dsa
        return ("llama.cpp's tensor names and types for the DSA lightning indexer (DeepSeek-V3.2, GLM-5) are not "
                "modelled")
    if m.gemma4_layers and (m.per_layer_input_size or m.kv_shared_layers or m.double_wide_shared_mlp):
        return ("llama.cpp's tensors and types for Gemma 4 E2B / E4B (per-layer input embeddings, KV-shared layers) "
                "are not modelled")
    if m.model_type == "mimo_v2_flash":  # per-layer KV heads, v_head_dim, sinks on sliding layers only
        return ("llama.cpp's tensors and types for mimo_v2_flash (per-layer KV heads, values narrower than keys, "
                "sinks on the sliding layers only) are not modelled")
    return None
# ============================================ end of the shared model block ===================================
# [[[end]]]

PROG = "calc_transformer_mem.py"

# --------------------------------------------------------------------------------------------------------------
# Human numbers
# --------------------------------------------------------------------------------------------------------------
# Counts are the shared block's parse_count ('7B', '32k' = 32,000, '32Ki' = 32,768, '300e9', '1_000'); a size is a
# number in the same grammar and a unit, whose prefix is the block's suffix of the same value. Everything is bounded
# by the block's MODEL_MAX_NUMBER (10^30): products of a few such inputs still fit a float for the GiB/GB columns,
# and no real model or machine is near (10^30 bytes is a million times the world's DRAM).
_BYTE_UNITS = {"b": "", "kb": "k", "mb": "m", "gb": "g", "tb": "t", "kib": "ki", "mib": "mi", "gib": "gi", "tib": "ti"}


def parse_bytes(text, flag="size"):
    """'80GiB' -> 85899345920, '80GB' -> 80_000_000_000, '1.5 TiB'. A unit is required (B, KB..TB, KiB..TiB): a
    bare '80' could be either, and '80B' is 80 bytes here (not the block's 80 billion); only a bare zero needs none
    (0 is 0 bytes in every unit: `--overhead 0`, as the quantization script takes it). The number is read by the
    block's parse_number (its grammar, bounds and messages); a size that is not a whole number of bytes (0.1KiB =
    102.4 B) is rounded down, exactly (parse_number gives such a value as a float)."""
    raw = str(text).strip()
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ").strip()
    unit = raw[len(number):].strip().lower()
    if not unit and number and parse_number(number, flag) == 0:  # 0, 0.0: zero bytes whatever the unit
        return 0
    if unit not in _BYTE_UNITS or not number:
        raise InputError(f"{flag} expects a size with a unit such as 80GiB (2^30) or 80GB (10^9), or 0, got {text!r}")
    value = parse_number(number + _BYTE_UNITS[unit], flag)
    if isinstance(value, int):
        return value
    from fractions import Fraction  # the number passed parse_number's grammar and bound: Fraction reads it exactly
    exact = Fraction(number.replace(",", "").replace("_", "")) * MODEL_NUMBER_SUFFIXES.get(_BYTE_UNITS[unit], 1)
    return math.floor(exact)


def parse_fraction(text, flag, low=0.0, high=None):
    """A real number in [low, high] ('0.05', '4.5', '1e-3'), read by the block's parse_number, as a float."""
    value = float(parse_number(text, flag))
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise InputError(f"{flag} must be a number {bound}, got {text!r}")
    return value


def gib(n):
    return n / 2**30


def gb(n):
    return n / 1e9


# --------------------------------------------------------------------------------------------------------------
# The model: the shared block's Model (a preset, a config.json and the flags all end in one) and its tensors
# --------------------------------------------------------------------------------------------------------------
def check_memory_model(model):
    """What the memory math needs beyond the block's validate_model; raises InputError naming the flag or field.

    The activation estimate knows a layer with 1 norm (a parallel block sharing it), 2 (pre-norms) or 4 (Gemma-2's
    sandwich); multi-token-prediction modules (Model.mtp_layers: the block's --mtp-layers; no config reader or preset
    sets it) have tensors and activations this script does not count, so they are refused rather than left out."""
    if not 1 <= model.norms_per_layer <= 4:
        raise InputError(f"--norms-per-layer must be 1..4, got {model.norms_per_layer}")
    if model.mtp_layers:
        raise InputError(f"--mtp-layers {model.mtp_layers}: multi-token-prediction modules are not modelled by {PROG} "
                         "(their weights, states and activations); refusing rather than leaving them out")
    return model


# The parameter tensors are the shared block's (model_layer_tensors / model_global_tensors): each ModelTensor has a
# name, PyTorch's shape, a role (embedding, positions, embedding_projections, attention, mlp, routed_experts,
# shared_experts, router, norms, lm_head) and how tensor parallelism splits it: "col" (output features), "row"
# (input features), "vocab" (rows, padded), "kv" (K/V heads: one head per rank when kv_heads < tp), None
# (replicated: norms, router, row-parallel biases, MLA down-projections).
EMBEDDING_ROLES = ("embedding", "positions", "lm_head")  # tables: no FP8 cast, AdamW under Muon


@functools.lru_cache(maxsize=256)
def layer_tensors(model, moe, linear=False, sliding=False, mixer=True, shared=False):
    """Parameter tensors of one decoder layer (dense or MoE; linear: Qwen3-Next's gated delta-net; sliding: a
    MiMo-V2-Flash sliding layer, its own head shape): the block's list, in the Hugging Face transformers 5
    layout (routed experts stacked in 3-D tensors gate_up_proj [E, 2f, h] and down_proj [E, h, f]).

    Buffers are left out: DeepSeek-V3's e_score_correction_bias (E fp32 values per MoE layer, 59 kB for the whole
    model) is in the checkpoint but is no parameter, so it has no gradient and no optimizer state, and neither
    transformers' parameters() nor the published parameter counts include it."""
    return tuple(t for t in model_layer_tensors(model, moe, linear, sliding, mixer, shared) if not t.buffer)


def global_tensors(model):
    """Embedding, positions, OPT's project_in, embedding norm (first stage); final norm, project_out, LM head (last
    stage): the block's model_global_tensors."""
    return model_global_tensors(model)


def count_params(model):
    return dict(_count_params(model))


@functools.lru_cache(maxsize=64)
def _count_params(model):
    """Exact parameter counts: the block's count_model (each tied tensor once, buffers apart, MoE active parameters
    per token), with the embedding tables (token table, positions, LM head) apart, the roles that hold parameters,
    and the number of parameter tensors (torch's optimizers keep per-tensor state, e.g. AdamW's float32 step)."""
    counted = count_model(model)
    roles = {role: n for role, n in counted["roles"].items() if n}
    embedding = sum(roles.get(role, 0) for role in EMBEDDING_ROLES)
    first, last = global_tensors(model)
    n_moe = counted["moe_layers"]
    tensors = len(first) + len(last) + counted["dense_layers"] * len(layer_tensors(model, False)) + (
        n_moe * len(layer_tensors(model, True)) if n_moe else 0)
    if model.mixer_types or model.has_sliding_shape or model.kv_shared_layers:  # Qwen3-Next, MiMo, Gemma 4
        tensors = len(first) + len(last) + sum(n * len(layer_tensors(model, *kind))
                                               for kind, n in model_layer_kinds(model).items())
    return {"total": counted["total"], "embedding": embedding, "non_embedding": counted["total"] - embedding,
            "active": counted["active"], "per_group": roles, "tensors": tensors}


# --------------------------------------------------------------------------------------------------------------
# Training setup and model states
# --------------------------------------------------------------------------------------------------------------
PRECISIONS = ("bf16", "fp16", "fp32", "fp8", "amp-bf16", "amp-fp16", "bf16-pure")  # PRECISION_MODES says what each stores
OPTIMIZERS = ("adamw", "adamw-8bit", "adafactor", "lion", "sgd", "sgd-momentum", "muon")
SHARDINGS = ("zero0", "zero1", "zero2", "zero3", "fsdp-full", "fsdp-grad-op", "fsdp-hybrid")
RECOMPUTE = ("none", "selective", "full")
MAX_GPUS = 2**24


@dataclass
class TrainSetup:
    num_gpus: int = 1
    tp: int = 1
    pp: int = 1
    vpp: int = 1
    cp: int = 1
    ep: int = 1
    etp: int = 0                     # 0 -> tp (Megatron-Core's default expert tensor parallel size)
    sp: bool = False
    micro_batch: int = 1
    seq_len: int = 2048
    global_batch: int = 0            # 0 -> enough micro-batches to fill the pipeline (m = pp)
    precision: str = "bf16"
    grads: str = "low"               # low | fp32 | low+fp32
    optimizer: str = "adamw"
    sharding: str = "zero0"
    fsdp_shard_size: int = 8         # fsdp-hybrid: ranks per shard group
    prefetch_units: int = 1          # ZeRO-3/FSDP: units gathered ahead of the one computing
    offload_optimizer: bool = False
    offload_params: bool = False
    recompute: str = "none"
    attn_implementation: str = "flash"  # flash | sdpa | eager (transformers' attn_implementation names)
    profile: str = "megatron"        # megatron | hf
    dropout: object = None           # None -> the architecture's
    comm_buffer: int = 2 * 25 * 2**20       # 2 DDP buckets of bucket_cap_mb=25 (torch DDP default)
    overhead: int = 2**30                   # CUDA context + cuBLAS/NCCL workspaces (Ultra-Scale Playbook: 1-2 GB)
    fragmentation: float = 0.05             # allowance on allocated bytes
    num_params: int = 0              # model-states-only mode when no architecture is given
    largest_unit_params: int = 0     # for --params mode with ZeRO-3 (DeepSpeed's largest_layer_params)
    partition_activations: bool = False  # DeepSpeed's partition_activations: full-recompute checkpoints split over tp
    max_live_params: int = 0         # ZeRO-3 stage3_max_live_parameters (-zmlp): caps the gathered params; 0 = no cap
    comm_buffer_source: str = "2 x torch DDP bucket_cap_mb=25"  # what comm_buffer stands for, for the assumptions
    optimizer_state_dtype: str = ""  # bf16-pure only: "bf16" (torch's optimizers: the parameters' dtype) | "fp32"

    @property
    def dp(self):
        return self.num_gpus // (self.tp * self.pp * self.cp)


def validate_setup(setup, model):
    s = setup
    for name in ("num_gpus", "tp", "pp", "vpp", "cp", "ep", "micro_batch", "seq_len", "fsdp_shard_size"):
        if getattr(s, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(s, name)}")
    if s.num_gpus > MAX_GPUS:
        raise ValueError(f"--num-gpus must be <= {MAX_GPUS:,}, got {s.num_gpus:,}")
    if s.prefetch_units < 0 or s.etp < 0 or s.global_batch < 0:
        raise ValueError("--prefetch-units, --etp and --global-batch must be >= 0")
    if s.precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, got {s.precision!r}")
    if s.optimizer not in OPTIMIZERS:
        raise ValueError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {s.optimizer!r}")
    if s.sharding not in SHARDINGS:
        raise ValueError(f"--sharding must be one of {', '.join(SHARDINGS)}, got {s.sharding!r}")
    if s.recompute not in RECOMPUTE:
        raise ValueError(f"--recompute must be one of {', '.join(RECOMPUTE)}, got {s.recompute!r}")
    if s.grads not in ("low", "fp32", "low+fp32"):
        raise ValueError(f"--grads must be low, fp32 or low+fp32, got {s.grads!r}")
    validate_precision_mode(s)
    if s.num_gpus % (s.tp * s.pp * s.cp):
        raise ValueError(f"--num-gpus {s.num_gpus} is not divisible by tp x pp x cp = {s.tp * s.pp * s.cp}")
    etp = s.etp or s.tp
    if (s.num_gpus // s.pp) % (s.ep * etp):
        raise ValueError(f"--num-gpus / pp = {s.num_gpus // s.pp} is not divisible by ep x etp = {s.ep * etp}")
    if s.offload_params and s.sharding not in ("zero3", "fsdp-full", "fsdp-hybrid"):
        raise ValueError("--offload-params needs --sharding zero3, fsdp-full or fsdp-hybrid")
    if s.vpp > 1 and s.pp == 1:
        raise ValueError("--vpp > 1 needs -pp > 1")
    if s.seq_len % s.cp:
        raise ValueError(f"--sequence-length {s.seq_len} is not divisible by --cp {s.cp}")
    if s.global_batch and s.global_batch % (s.micro_batch * s.dp):
        raise ValueError(f"--global-batch {s.global_batch} is not divisible by micro-batch x dp = "
                         f"{s.micro_batch * s.dp}")
    if model is not None:
        if model.num_attention_heads % s.tp:
            raise ValueError(f"-tp {s.tp} does not divide --num-attention-heads {model.num_attention_heads}")
        k = model.kv_heads
        if not model.is_mla and k % s.tp and s.tp % k:
            raise ValueError(f"-tp {s.tp} and --num-kv-heads {k}: one must divide the other")
        if model.ffn_hidden_size % s.tp:
            raise ValueError(f"--ffn-hidden-size {model.ffn_hidden_size} is not divisible by the tensor-parallel size")
        if model.is_moe and model.moe_width % etp:
            raise ValueError(f"--moe-ffn-hidden-size {model.moe_width} is not divisible by the tensor-parallel size")
        if s.pp * s.vpp > model.num_layers:
            raise ValueError(f"pp x vpp = {s.pp * s.vpp} exceeds --num-layers {model.num_layers}")
        if model.is_moe and model.num_experts % s.ep:
            raise ValueError(f"-ep {s.ep} does not divide --num-experts {model.num_experts}")
        if not model.is_moe and s.ep > 1:
            raise ValueError("-ep > 1 needs a MoE model (--num-experts)")
        if model.state_layer_count():
            why = state_layer_training_refusal(model, s)
            if why:
                raise InputError(why)
    elif s.num_params <= 0:
        raise ValueError("give an architecture (--preset, --config or shape flags) or --params")
    return setup


def state_layer_training_refusal(model, setup):
    """Why training memory of a model with gated delta-net layers is not given for this setup (None when it is):
    what those layers save is measured (tests/test_mem_timeline_hybrid.py) for transformers' PyTorch path with the
    --profile hf, one device, fp32 / bf16 activations and no autocast (autocast would run the chunked rule's matmuls
    in 16 bits and keep their casts: not measured)."""
    where = f"training memory of {model.linear_mixer_name} layers ({model.model_type or 'hybrid'})"
    if setup.profile != "hf":
        return f"{where} is modelled for --profile hf (transformers' PyTorch path) only"
    if setup.precision in AMP_PRECISIONS or setup.precision == "fp8":
        return f"{where} with --precision {setup.precision} is not modelled (measured: fp32, bf16, bf16-pure)"
    if setup.tp * setup.cp > 1:
        return f"{where} with -tp/--cp is not modelled (its saved tensors are one device's)"
    if setup.recompute == "selective":
        return f"{where} with --recompute selective is not modelled (measured: none and full)"
    if setup.recompute == "full" and model.model_type == "nemotron_h" and model.is_moe:
        # measured: Nemotron-3-Nano cut to 8 blocks, bf16-pure, 8 x 4096, checkpointed: the peak comes inside a
        # recomputed MoE block's backward, 5.6 % above this timeline's (its backward temporaries are not modelled)
        return f"{where} with MoE blocks and --recompute full is not modelled (a recomputed MoE block's backward)"
    if setup.recompute == "full" and model.ssm_kind == "mamba1":  # Jamba: measured without checkpointing only
        return f"{where} with --recompute full is not modelled (measured: none)"
    return None


def kv_heads_per_rank(kv_heads, tp):
    """K/V heads one tensor-parallel rank holds: kv_heads / tp, or one (replicated) when kv_heads < tp.
    (validate_setup / inference_memory ensure one of the two divides the other.)"""
    return max(1, kv_heads // tp)


def _local_numel(t, tp, ep, etp, kv_heads):
    """Elements of tensor t (a ModelTensor) held by one rank; kv_heads: the model's K/V heads (split "kv")."""
    n = t.numel
    if t.role == "routed_experts":
        e = t.shape[0]
        per = n // e * (e // ep)
        return per // etp if t.split else per  # gpt-oss's down_proj_bias: replicated, like a row-parallel bias
    if t.split in ("col", "row"):
        return n // tp
    if t.split == "vocab":
        rows = -(-t.shape[0] // tp)
        return n // t.shape[0] * rows
    if t.split == "kv":
        return n // kv_heads * kv_heads_per_rank(kv_heads, tp)
    return n


def stage_layers(num_layers, pp, stage):
    """Layer indices on pipeline stage `stage` (layers split as evenly as possible, earlier stages take extras)."""
    base, extra = divmod(num_layers, pp)
    start = stage * base + min(stage, extra)
    return list(range(start, start + base + (1 if stage < extra else 0)))


@functools.lru_cache(maxsize=4096)
def part_summary(model, part, tp, ep, etp, optimizer, state_bytes=4):
    """Per-rank sums for one part of the model: part is "dense" or "moe" (one layer), "first" (embedding,
    positions) or "last" (final norm, LM head). Returns (dense numel, dense optimizer bytes, expert numel, expert
    optimizer bytes, FP8-cast linear numel, largest single tensor numel). Cached: a search asks thousands of times."""
    if part.split("+")[0] in ("dense", "moe"):  # "+linear": a gated delta-net / Mamba layer's; "+nomixer": Nemotron-H's
        tensors = layer_tensors(model, part.startswith("moe"), linear=part.endswith("+linear"),
                                mixer=not part.endswith("+nomixer"))
    else:
        tensors = global_tensors(model)[0 if part == "first" else 1]
    local = [(t, _local_numel(t, tp, ep, etp, model.kv_heads)) for t in tensors]
    dense = [(t, n) for t, n in local if t.role != "routed_experts"]
    expert = [(t, n) for t, n in local if t.role == "routed_experts"]
    linear = sum(n for t, n in local if len(t.shape) >= 2 and t.role not in EMBEDDING_ROLES and t.kind != "bias")
    return (sum(n for _, n in dense), optimizer_state_bytes(optimizer, dense, state_bytes),
            sum(n for _, n in expert), optimizer_state_bytes(optimizer, expert, state_bytes), linear,
            max([n for _, n in local] or [0]))


def stage_params(model, setup, stage, layer_counts=None):
    """What one rank of pipeline stage `stage` holds: dict with dense/expert numel and optimizer bytes, the FP8-cast
    linear numel, and the largest unit ZeRO-3/FSDP gathers (one layer, or the embedding / LM head alone)."""
    etp = setup.etp or setup.tp
    if layer_counts is None:
        # each layer by its own tensors: dense or MoE, attention or (Qwen3-Next) a gated delta-net
        layers = stage_layers(model.num_layers, setup.pp, stage)
        counts = {}
        for i in layers:
            part = ("moe" if model.layer_is_moe(i) else "dense") + ("+linear" if model.layer_is_linear(i) else
                                                                    "" if model.layer_has_mixer(i) else "+nomixer")
            counts[part] = counts.get(part, 0) + 1
        parts = sorted(counts.items())
    elif isinstance(layer_counts, dict):  # {part: layers}, the parts as above
        parts = sorted(layer_counts.items())
    else:
        parts = [("dense", layer_counts[0]), ("moe", layer_counts[1])]
    if stage == 0:
        parts.append(("first", 1))
    if stage == setup.pp - 1:
        parts.append(("last", 1))
        if model.tied_embeddings and setup.pp > 1:
            parts.append(("first", 1))  # the last stage keeps its own copy of the tied table (Megatron)
    out = [0, 0, 0, 0, 0]
    unit = 0
    for part, count in parts:
        if not count:
            continue
        summary = part_summary(model, part, setup.tp, setup.ep, etp, setup.optimizer, optimizer_state_width(setup))
        for j in range(5):
            out[j] += summary[j] * count
        unit = max(unit, summary[0] + summary[2] if part.split("+")[0] in ("dense", "moe") else summary[5])
    return {"dense": out[0], "dense_opt": out[1], "expert": out[2], "expert_opt": out[3], "fp8_linear": out[4],
            "unit": unit}


def optimizer_state_bytes(opt, tensors, state_bytes=4):
    """Exact optimizer-state bytes of optimizer `opt` for a list of (ModelTensor, local numel); role "all" stands for
    the whole model in --params mode, whose tensors are unknown. state_bytes: the width of each state element (4:
    fp32; 2: bf16, what torch's optimizers keep for bf16 parameters, --precision bf16-pure); the step counter stays
    a float32 scalar and bitsandbytes' 8-bit states are uint8 + fp32 absmax (small tensors fp32) whatever the
    parameters' dtype."""
    total = 0
    w = state_bytes
    for t, n in tensors:
        step = 4 if t.role != "all" else 0  # torch's float32 step per parameter tensor (unknown with --params)
        if opt == "adamw":
            total += 2 * w * n + step
        elif opt == "adamw-8bit":
            total += 8 * n if n < 4096 else 2 * n + 2 * 4 * (-(-n // 256))
        elif opt == "adafactor":
            if len(t.shape) >= 2 and n:
                lead = n // (t.shape[-1] * t.shape[-2]) if t.shape[-1] * t.shape[-2] else 0
                rows = n // t.shape[-1]
                cols = lead * t.shape[-1]
                total += w * (rows + cols) + step
            else:
                total += w * n + step
        elif opt == "lion" or opt == "sgd-momentum":
            total += w * n
        elif opt == "muon":
            hidden_matrix = len(t.shape) >= 2 and t.role not in EMBEDDING_ROLES
            total += w * n if hidden_matrix else 2 * w * n + step
    return total


def bytes_per_param(setup):
    """(weights, grads persistent, fp32 grad copy owned by the optimizer, master) bytes per parameter."""
    p = setup.precision
    fsdp = setup.sharding.startswith("fsdp")
    if p in PRECISION_STATE_BYTES:  # the modes without a master copy (PRECISION_MODES)
        return PRECISION_STATE_BYTES[p]
    if p == "fp32":
        return 4, 4, 0, 0
    if fsdp:
        # FSDP mixed precision: the sharded fp32 parameter is the master; sharded grads are fp32 too.
        return 4, 4, 0, 0
    low = 2
    grads = {"low": low, "fp32": 4, "low+fp32": low}[setup.grads]
    copy = 4 if setup.grads == "low+fp32" else 0
    return low, grads, copy, 4


ZERO_LEVEL = {"zero0": 0, "zero1": 1, "zero2": 2, "zero3": 3, "fsdp-full": 3, "fsdp-grad-op": 2, "fsdp-hybrid": 3}


def sharded_states(setup, n, opt_bytes, shard):
    """Per-rank (weights, gradients, master, optimizer, cpu) bytes for n local parameters whose unsharded optimizer
    states take opt_bytes, ZeRO-sharded over `shard` ranks: optimizer states, master weights and the optimizer's
    fp32 grad copy from stage 1, gradients from stage 2, parameters from stage 3 (Rajbhandari et al. 2020, Sec. 5).
    Shards round up (ceil) like flat-buffer padding."""
    if not n:
        return 0, 0, 0, 0, 0
    z = ZERO_LEVEL[setup.sharding]
    w_b, g_b, copy_b, m_b = bytes_per_param(setup)

    def part(count, stage_needed):
        return -(-count // shard) if z >= stage_needed else count

    fsdp = setup.sharding.startswith("fsdp")
    weights = part(n * w_b, 0 if fsdp else 3)  # FSDP always keeps its parameters sharded at rest
    if setup.sharding == "fsdp-grad-op":  # ...but SHARD_GRAD_OP keeps the unsharded compute copy fwd -> bwd
        weights += n * compute_weight_bytes(setup)
    # ZeRO-3 with an fp32 copy reduces 16-bit grads straight into the fp32 partition (DeepSpeed estimator: 18/N)
    low_grads = 0 if (copy_b and z >= 3) else part(n * g_b, 2)
    copy = part(n * copy_b, 1)
    master = part(n * m_b, 1)
    opt = part(opt_bytes, 1)
    cpu = 0
    if setup.offload_optimizer:
        cpu += master + opt + copy + (low_grads if z >= 2 else 0)
        master = opt = copy = 0
        if z >= 2:
            low_grads = 0
    if setup.offload_params:
        cpu += weights
        weights = 0
    return weights, low_grads + copy, master, opt, cpu


def model_state_terms(setup, held, dense_shard, expert_shard):
    """Per-rank weights, gradients, master weights and optimizer states from stage_params' `held` (dense and
    expert parameters shard over their own data-parallel groups). Returns (terms, CPU-offloaded bytes)."""
    terms = {"weights": 0, "gradients": 0, "master_weights": 0, "optimizer_states": 0}
    cpu = 0
    for n, opt, shard in ((held["dense"], held["dense_opt"], dense_shard),
                          (held["expert"], held["expert_opt"], expert_shard)):
        parts = sharded_states(setup, n, opt, shard)
        for key, value in zip(terms, parts):
            terms[key] += value
        cpu += parts[4]
    if setup.precision == "fp8" and ZERO_LEVEL[setup.sharding] < 3:
        terms["weights"] += held["fp8_linear"]  # FP8 casts of the linear weights (Transformer Engine), 1 B each
    return terms, cpu


# --------------------------------------------------------------------------------------------------------------
# Precision modes as people name them (issue 12): what each --precision stores, per parameter
# --------------------------------------------------------------------------------------------------------------
# (weights, gradients, fp32 grad copy owned by the optimizer, master) bytes per parameter of the modes that keep no
# master copy; bf16 / fp16 / fp8 (Megatron-LM, DeepSpeed) and fp32 are bytes_per_param's own rows.
PRECISION_STATE_BYTES = {"amp-bf16": (4, 4, 0, 0), "amp-fp16": (4, 4, 0, 0), "bf16-pure": (2, 2, 0, 0)}
AMP_PRECISIONS = ("amp-bf16", "amp-fp16")
OPTIMIZER_STATE_DTYPES = ("bf16", "fp32")
PRECISION_MODES = {
    "bf16": "Megatron-LM / DeepSpeed bf16 mixed precision: bf16 weights (2 B) run forward and backward, the optimizer "
            "updates an fp32 master copy (4 B); fp32 optimizer states; gradients per --grads (Micikevicius et al. "
            "2018; Megatron-LM --bf16; FSDP MixedPrecision: sharded fp32 parameters 4 B + fp32 grads 4 B)",
    "fp16": "fp16 mixed precision with loss scaling: fp16 weights (2 B) + fp32 master (4 B), fp32 optimizer states "
            "(Micikevicius et al. 2018; Megatron-LM --fp16)",
    "fp8": "bf16 mixed precision (2 B weights + 4 B master) plus an FP8 cast of every linear weight (1 B; Transformer "
           "Engine) and FP8 linear inputs",
    "fp32": "fp32 training: weights, gradients and optimizer states fp32 (4 B each), 4-byte activations, no master",
    "amp-bf16": "torch.autocast(bfloat16) over an fp32 model, as Hugging Face Trainer's --bf16 runs it: fp32 weights "
                "(4 B) and gradients (4 B), no master copy (the weights are the fp32 copy), fp32 optimizer states; "
                "matmuls in bf16 (2-byte matmul inputs/outputs; norms and the residual stream stay fp32); autocast "
                "caches a bf16 copy of every parameter a matmul reads (2 B) until the forward ends",
    "amp-fp16": "torch.autocast(float16) + GradScaler over an fp32 model (HF Trainer --fp16): as amp-bf16 with fp16 "
                "casts (the scaler's fp32 scale and growth tracker are two scalars, not counted)",
    "bf16-pure": "the model itself in bf16 (model.to(torch.bfloat16)), no master copy: weights 2 B, gradients 2 B; "
                 "optimizer states in the parameters' dtype (torch.optim.AdamW/SGD/Adafactor/Muon allocate them "
                 "zeros_like(param): bf16, 2 B per state; the step counter a float32 scalar per tensor) or fp32 with "
                 "--optimizer-state-dtype fp32 (an optimizer that keeps fp32 states for bf16 parameters, e.g. "
                 "torchdistx's AnyPrecisionAdamW with momentum_dtype and variance_dtype float32)",
}


def validate_precision_mode(setup):
    """--optimizer-state-dtype is bf16-pure's choice only; the other modes' states are fp32 (their papers' and
    frameworks' layout). --grads chooses between 16-bit and fp32 gradients, which only the master-copy modes have."""
    if setup.optimizer_state_dtype not in ("",) + OPTIMIZER_STATE_DTYPES:
        raise ValueError(f"--optimizer-state-dtype must be bf16 or fp32, got {setup.optimizer_state_dtype!r}")
    if setup.optimizer_state_dtype and setup.precision != "bf16-pure":
        raise ValueError(f"--optimizer-state-dtype applies to --precision bf16-pure (the other modes keep fp32 "
                         f"optimizer states), got --precision {setup.precision}")
    if setup.precision in PRECISION_STATE_BYTES and setup.grads != "low":
        raise ValueError(f"--grads {setup.grads} does not apply with --precision {setup.precision} (its gradients "
                         "have the weights' dtype)")
    if setup.precision == "bf16-pure" and setup.optimizer == "adamw-8bit" and setup.optimizer_state_dtype:
        raise ValueError("--optimizer-state-dtype does not apply to adamw-8bit (bitsandbytes keeps uint8 states)")


def optimizer_state_width(setup):
    """Bytes per optimizer-state element: 2 for bf16-pure's default (the parameters' dtype), else 4 (fp32)."""
    if setup.precision == "bf16-pure":
        return 4 if setup.optimizer_state_dtype == "fp32" else 2
    return 4


def optimizer_state_dtype_name(setup):
    return "bf16" if optimizer_state_width(setup) == 2 else "fp32"


def compute_weight_bytes(setup):
    """Bytes per element of the weights forward and backward read (the gathered copy under ZeRO-3/FSDP): 4 for fp32
    and autocast over fp32 weights (FSDP without MixedPrecision gathers fp32), else 2."""
    return 4 if setup.precision == "fp32" or setup.precision in AMP_PRECISIONS else 2


def autocast_cast_numel(model, setup, stage):
    """Elements of the parameters a matmul reads on one rank of `stage`: what autocast casts to 16 bits.

    torch.autocast casts the floating inputs of the ops on its lower-precision list (linear, addmm, matmul, bmm,
    ...) and caches the cast of a leaf tensor that requires grad (aten/src/ATen/autocast_mode.cpp, cached_cast)
    until the outermost autocast region exits: every linear weight and bias, the LM head (or the tied embedding it
    reads), the router; not the embedding lookups (F.embedding runs in fp32) nor the norms. The weight casts are also
    saved for backward (the input gradient needs them), so they outlive the cache and are freed layer by layer in
    backward. Counted once, unsharded by ZeRO/FSDP (the casts are of the gathered weights). Routed experts are
    refused: transformers 5 runs them through its experts kernels (integrations/moe.py: grouped_mm, batched_mm or an
    eager loop over weight slices), and what autocast casts and keeps differs by kernel and device (measured on the
    CPU: no expert cast at all), so no one number is right."""
    if setup.precision not in AMP_PRECISIONS:
        return 0
    if model.is_moe:
        raise ValueError(f"--precision {setup.precision} with routed experts (--num-experts): autocast's casts of "
                         "the expert weights depend on transformers' experts kernel; not modelled (use bf16, "
                         "bf16-pure or fp32)")
    etp = setup.etp or setup.tp

    def cast(tensors, table_read=False):
        total = 0
        for t in tensors:
            if t.buffer or t.kind == "norm" or t.role == "positions":
                continue
            if t.kind == "table" and not (t.role == "lm_head" or table_read):
                continue
            total += _local_numel(t, setup.tp, setup.ep, etp, model.kv_heads)
        return total

    layers = stage_layers(model.num_layers, setup.pp, stage)
    n_moe = sum(1 for i in layers if model.layer_is_moe(i))
    total = (len(layers) - n_moe) * cast(layer_tensors(model, False)) + (
        n_moe * cast(layer_tensors(model, True)) if n_moe else 0)
    first, last = global_tensors(model)
    if stage == 0:
        total += cast([t for t in first if t.kind != "table"])  # OPT's project_in
    if stage == setup.pp - 1:
        total += cast(last)
        if model.tied_embeddings:  # the LM head's F.linear reads the embedding table
            total += cast([t for t in first if t.role == "embedding"], table_read=True)
    return total


def precision_assumption(setup):
    """One line for the output: the precision mode assumed, in words, with its bytes per parameter."""
    w_b, g_b, copy_b, m_b = bytes_per_param(setup)
    line = (f"precision {setup.precision}: {PRECISION_MODES[setup.precision]}; per parameter here: weights {w_b} B, "
            f"gradients {g_b + copy_b} B, master {m_b} B, optimizer states {optimizer_state_dtype_name(setup)}")
    return line


# --------------------------------------------------------------------------------------------------------------
# Activations (Korthikanti et al. 2022, Table 2, generalised)
# --------------------------------------------------------------------------------------------------------------
def _act_bytes(setup):
    return 4 if setup.precision == "fp32" else 2  # amp-*: the matmuls' inputs and outputs (autocast's casts)


def _micro_batch_tokens(setup, batch=None, seq=None):
    """(micro-batch, tokens per rank along the sequence): the setup's, or the override a solver is trying;
    context parallelism gives each rank seq / cp tokens."""
    b = setup.micro_batch if batch is None else batch
    return b, (setup.seq_len if seq is None else seq) // setup.cp


def _dropout_on(model, setup):
    """--dropout on/off when given, else the architecture's own (GPT-2/3 era models train with dropout)."""
    return model.dropout if setup.dropout is None else setup.dropout


MASKED_SDPA_TYPES = ("bamba", "nemotron_h", "lfm2")  # hybrids whose attention gets an explicit (b, 1, s, s) mask


def activation_kind(model, i):
    """Layer i's token mixer as layer_activation_tensors takes it: 'linear' for a gated delta-net layer, else its
    attention kind ('full', 'sliding', ...)."""
    if not model.layer_has_mixer(i):
        return "none"  # Nemotron-H's MLP / MoE layers: a norm and the MLP only
    return "linear" if model.layer_is_linear(i) else model.layer_attention(i)


def layer_activation_tensors(model, setup, moe, attention_kind, batch=None, seq=None, lora=None,
                             first_layer=False):
    """Tensors one layer saves for backward for one micro-batch on one rank: list of dicts
    {name, shape, dtype_bytes, bytes, split, core} ('core' marks what selective recompute drops).

    split: 'tp' always divided by tp; 'sp' divided by tp only with sequence parallelism; '-' never.

    lora (a LoraSetup): the base is frozen, so autograd keeps nothing that only a weight gradient needs (a frozen
    linear's input, a norm's normalised output that only its weight's gradient reads); lora_frozen_base_tensors
    takes those out and adds what peft's adapters save (first_layer: the first decoder layer, whose input needs
    no gradient)."""
    b, s = _micro_batch_tokens(setup, batch, seq)
    s_kv = setup.seq_len if seq is None else seq
    h, tp = model.hidden_size, setup.tp
    sp_div = tp if setup.sp else 1
    B = _act_bytes(setup)
    lin_in = 1 if setup.precision == "fp8" else B  # Transformer Engine saves FP8 casts of linear inputs
    hf = setup.profile == "hf"
    dropout = _dropout_on(model, setup)
    eager = setup.attn_implementation == "eager"
    out = []

    def add(name, shape, nbytes_per, split, core=False, weight_grad_only=False, reads=None):
        """weight_grad_only: saved only for a weight's gradient (a linear's input, a norm's normalised output);
        reads: the linears (LoRA input group, lora_input_group) whose input this tensor is."""
        n = 1
        for d in shape:
            n *= d
        out.append({"name": name, "shape": list(shape), "dtype_bytes": nbytes_per, "bytes": n * nbytes_per,
                    "split": split, "core": core, "weight_grad_only": weight_grad_only, "reads": reads})

    T = s * b

    # under autocast (amp-*) the residual stream stays fp32 (embeddings, adds and norms are not autocast to bf16),
    # so what a norm saves is fp32; only the matmuls' inputs and outputs are 2-byte casts
    norm_B = 4 if setup.precision in AMP_PRECISIONS else B

    def norm(name, width=h, split="sp"):
        div = sp_div if split == "sp" else 1
        rows = T // div if split == "sp" else T
        if model.norm == "nonparametric" and not hf:
            add(name + " input", (rows, width), norm_B, split)
            return
        if hf and model.norm == "rmsnorm":
            add(name + " input upcast (fp32)", (rows, width), 4, split)
            # the scale's mul saves the normalised tensor for the scale's (weight's) gradient alone
            add(name + " normalised", (rows, width), 4 if model.norm_fp32_scale else norm_B, split,
                weight_grad_only=True)
            add(name + " rstd (fp32)", (rows,), 4, split)
        else:
            # OLMo-1's parameter-free LayerNorm runs F.layer_norm on an fp32 copy of its input
            add(name + " input" + (" upcast (fp32)" if hf and model.norm_fp32_input else ""), (rows, width),
                4 if hf and model.norm_fp32_input else norm_B, split)
            if hf:  # the paper (and the megatron profile) ignores the 4-8 B per token of norm statistics
                add(name + " mean+rstd (fp32)", (rows, 2 if model.norm != "rmsnorm" else 1), 4, split)

    rows_sp = T // sp_div
    a_l = model.num_attention_heads // tp
    # --- attention block ---
    norm("attn norm")
    if attention_kind != "none":
        add("qkv input (norm output)", (rows_sp, h), lin_in, "sp", weight_grad_only=True, reads="attention input")
    if model.parallel_ssm:  # Falcon-H1: the Mamba-2 mixer beside attention reads the same norm output, scaled
        # (hidden_states * ssm_in_multiplier: a new tensor in_proj saves; attention's input is its own scaled copy)
        out.append(_saved("mamba in_proj input (norm output x ssm_in_multiplier)", (b, s, h), B))
        out += mamba2_saved_tensors(model, b, s, B)
    if attention_kind == "none":  # Nemotron-H's MLP / MoE layer: its one norm feeds the MLP
        add("mlp input (norm output)", (rows_sp, h), lin_in, "sp", weight_grad_only=True, reads="mlp input")
    elif attention_kind == "linear" and model.short_conv:  # LFM2's short convolution (Lfm2ShortConv.forward)
        # BCx = in_proj(x) (b, s, 3h) whose B, C, x chunks B * x and C * conv(...) save (views: the whole output),
        # the conv's input B * x (b, h, s), its unsliced output (b, h, s + K - 1) that C * (...) saves a view of,
        # and out_proj's input, the contiguous (b, s, h) copy of the product (measured)
        K = model.short_conv_kernel
        out.append(_saved("short conv in_proj output (B, C, x)", (b, s, 3 * h), B))
        out.append(_saved("short conv input B * x", (b, h, s), B))
        out.append(_saved("short conv output (unsliced)", (b, h, s + K - 1), B))
        out.append(_saved("out_proj input", (b, s, h), B))
    elif attention_kind == "linear" and model.ssm_kind == "mamba2":  # Bamba's Mamba-2 mixer (PyTorch path)
        out += mamba2_saved_tensors(model, b, s, B)
    elif attention_kind == "linear" and model.ssm_kind == "mamba1":  # Jamba's Mamba-1 mixer (PyTorch path)
        out += mamba1_saved_tensors(model, b, s, B)
    elif attention_kind == "linear":  # Qwen3-Next's gated delta-net (transformers' PyTorch path)
        out += gated_delta_net_saved_tensors(model, b, s, B)
    else:
        if model.is_mla:
            d_qk = model.qk_nope_head_dim + model.qk_rope_head_dim
            d_v = model.v_head_dim
            k_l = v_l = a_l
            if model.q_lora_rank:
                norm("q_a norm", model.q_lora_rank, "-")
                add("q_b input (q_a norm output)", (T, model.q_lora_rank), lin_in, "-", weight_grad_only=True,
                    reads="q_b_proj")
            norm("kv_a norm", model.kv_lora_rank, "-")
            add("kv_b input (kv_a norm output)", (T, model.kv_lora_rank), lin_in, "-", weight_grad_only=True,
                reads="kv_b_proj")
        else:
            d_qk = d_v = model.d_head
            k_l = kv_heads_per_rank(model.kv_heads, tp)
            v_l = k_l
            if model.qk_norm != "none":  # Qwen3 / OLMo-2 / Phi qk_layernorm: q and k projections pass through a norm
                norm("q norm", a_l * d_qk, "tp")
                norm("k norm", k_l * d_qk, "tp")
        # Bamba, Nemotron-H and LFM2 hand sdpa a materialised 4-D mask, so transformers' sdpa_attention_forward repeats K/V
        # to every query head (repeat_kv) instead of enable_gqa, and the kernel saves the repeated ones (measured)
        if eager or (hf and (model.hf_kv_broadcast or model.model_type in MASKED_SDPA_TYPES)):
            k_l = v_l = a_l  # unfused attention repeats K/V to every query head before the batched matmuls
        add("q", (b, a_l, s, d_qk), B, "tp")
        add("k", (b, k_l, s, d_qk), B, "tp")
        add("v", (b, v_l, s, d_v), B, "tp")
        if eager:
            kv_len = s_kv  # eager kernels materialise full score rows even for sliding-window layers
            if model.attn_softcap:
                add("softcap tanh output", (b, a_l, s, kv_len), B, "tp", core=True)
            soft_b = 4 if hf and model.softmax_fp32 else B
            if model.attention_sinks:  # gpt-oss: the sink logit is one more column of the softmax, after a max
                add("softmax output (with the sink column)", (b, a_l, s, kv_len + 1), soft_b, "tp", core=True)
                add("row max indices (int64)", (b, a_l, s, 1), 8, "tp", core=True)
            else:
                add("softmax output", (b, a_l, s, kv_len), soft_b, "tp", core=True)
            if dropout:
                add("attention dropout mask", (b, a_l, s, kv_len), 1, "tp", core=True)
                add("attention dropout output", (b, a_l, s, kv_len), B, "tp", core=True)
            elif soft_b != B:
                add("softmax output cast to activation dtype", (b, a_l, s, kv_len), B, "tp", core=True)
            add("o_proj input (attention output)", (rows_sp * sp_div, a_l * d_v), lin_in, "tp", weight_grad_only=True,
                reads="o_proj")
        else:
            # saved by the attention kernel itself (its backward reads it), frozen o_proj or not
            add("attention output (also o_proj input)", (b, s, a_l, d_v), B, "tp", reads="o_proj")
            add("softmax log-sum-exp (fp32)", (b, a_l, s), 4, "tp")
            if lin_in != B:
                add("o_proj input (fp8 cast)", (T, a_l * d_v), lin_in, "tp")
            elif hf and model.model_type == "bamba":
                # with Bamba's explicit mask the kernel's output is not in (b, s, a, d) order: o_proj's input is a
                # contiguous copy of it (measured)
                add("o_proj input (contiguous copy of the attention output)", (T, a_l * d_v), lin_in, "tp",
                    weight_grad_only=True, reads="o_proj")
        if model.attn_output_gate:
            # Qwen3-Next's gated attention (Qwen3NextAttention.forward): attn_output * torch.sigmoid(gate) saves the
            # sigmoid's output and the attention output in (b, s, a d) order (sdpa: a transposed copy beside the
            # kernel's own; eager: the one o_proj would have read), and o_proj saves the product as its input
            add("output gate sigmoid output", (T, a_l * d_v), B, "tp")
            add("attention output, (b, s, a d) copy (the gate's other factor)", (T, a_l * d_v), B, "tp")
            if not eager:
                add("gated attention output (o_proj input)", (T, a_l * d_v), lin_in, "tp")
            if B == 4 and model.qk_norm != "none":
                # in fp32 the q norm's .float() is a no-op: what it saves is a view of q_proj's whole output
                # ([query | gate] per head), which keeps the gate half alive too
                add("q_proj output's gate half (under the q norm's saved view)", (T, a_l * d_qk), 4, "tp")
    if dropout:
        add("attention residual dropout mask", (rows_sp, h), 1, "sp")
    if model.norms_per_layer == 4:
        norm("post-attention norm")
    if model.single_block_layers and attention_kind != "none":  # Nemotron-H: a mixer layer has no MLP
        return out if lora is None else lora_frozen_base_tensors(model, setup, lora, moe, out, T, first_layer)
    # --- MLP / MoE block ---
    if model.norms_per_layer >= 2:
        norm("mlp norm")
        add("mlp input (norm output)", (rows_sp, h), lin_in, "sp", weight_grad_only=True, reads="mlp input")

    def mlp(label, tokens, width_local):
        if hf and model.clamped_swiglu and label == "experts":
            # GptOssExperts._apply_gate on the gate_up output g (2f, interleaved): both clamps keep g itself, then
            # sigmoid(alpha gate), the clamped gate, glu = gate * sigmoid and up + 1 (for the last product)
            add(label + " gate_up output (clamp input)", (tokens, 2 * width_local), B, "tp")
            for what in ("sigmoid output", "clamped gate", "glu", "up + 1"):
                add(f"{label} {what}", (tokens, width_local), B, "tp")
        elif model.gated_mlp:
            if hf:
                add(label + " gate output (act input)", (tokens, width_local), B, "tp")
                add(label + " up output", (tokens, width_local), B, "tp")
                add(label + " act output", (tokens, width_local), B, "tp")
            else:
                add(label + " fc1 output (fused SwiGLU input)", (tokens, 2 * width_local), B, "tp")
        elif hf and model.python_gelu:  # x, tanh(u), 0.5 x and 1 + tanh(u), as autograd records gelu_new
            for what in ("act input", "gelu tanh output", "gelu 0.5x", "gelu 1+tanh"):
                add(f"{label} {what}", (tokens, width_local), B, "tp")
        elif not model.relu_mlp:  # ReLU's backward needs only its output, which is the down_proj input below
            add(label + " act input", (tokens, width_local), B, "tp")
        add(label + " down_proj input", (tokens, width_local), lin_in, "tp", weight_grad_only=True,
            reads="shared down_proj" if label == "shared experts" else "down_proj" if label == "mlp" else None)

    if not moe:
        mlp("mlp", T, model.ffn_hidden_size // tp)
    else:
        etp = setup.etp or tp
        routed = T * model.top_k
        add("router logits (fp32)", (T, model.num_experts), 4, "-")
        add("routing weights (fp32)", (T, model.top_k), 4, "-")
        if hf and model.model_type == "nemotron_h":
            # NemotronHTopkRouter: F.linear(hidden.float(), weight.float()) saves fp32 copies of its input and (in a
            # 16-bit model) of its weight; the group-limited top-k saves a (T, E) bool mask and int64 indices, and
            # the experts' dispatch three (T k) int64 index vectors and (T k) fp32 weights (measured)
            if B != 4:
                add("router input upcast (fp32)", (T, h), 4, "-")
                add("router weight upcast (fp32)", (model.num_experts, h), 4, "-")
            add("router group mask (bool)", (T, model.num_experts), 1, "-")
            add("top-k and dispatch indices (int64)", (4 * T * model.top_k + 3 * T,), 8, "-")
            add("dispatched routing weights (fp32)", (T * model.top_k,), 4, "-")
        add("expert input (dispatched tokens)", (routed, h), lin_in, "-", weight_grad_only=True)
        mlp("experts", routed, model.moe_width // etp)
        add("expert output (for weighting)", (routed, h), B, "-")
        if model.num_shared_experts:  # run as one MLP of the summed width (DeepSeek's shared_experts)
            mlp("shared experts", T, model.shared_width // tp)
            if model.shared_expert_gate:
                # Qwen2-MoE's / Qwen3-Next's sigmoid(shared_expert_gate(x)) * shared_expert(x) saves both factors
                add("shared expert output (for its gate)", (T, h), B, "-")
                add("shared expert gate sigmoid output", (T, 1), B, "-")
    if model.norms_per_layer == 4:
        norm("post-mlp norm")
    if dropout:
        add("mlp residual dropout mask", (rows_sp, h), 1, "sp")
    # sp-split items were built with local rows already; tp items with local heads/width.
    if lora is not None:
        return lora_frozen_base_tensors(model, setup, lora, moe, out, T, first_layer)
    return out


GATED_DELTA_CHUNK = 64  # torch_chunk_gated_delta_rule's chunk_size default (transformers 5.23, qwen3_next)


def gated_delta_net_saved_tensors(model, b, s, B):
    """What one Qwen3-Next gated delta-net layer saves for backward beyond its input norm, as transformers 5.23's
    PyTorch path runs it (Qwen3NextGatedDeltaNet.forward, causal_conv1d_fn, torch_chunk_gated_delta_rule,
    Qwen3NextRMSNormGated; no flash-linear-attention / causal-conv1d kernels), B the activation dtype's bytes.

    Widths: Hk key heads and Hv value heads of dk / dv, kd = Hk dk, vd = Hv dv, conv channels c = 2 kd + vd, kernel
    K; tokens T = b s; the chunked rule pads the sequence to S = ceil(s / C) C (C = 64) in N = S / C chunks and
    runs in fp32 whatever the model's dtype (every input is .to(torch.float32)), with X = b Hv S rows:
      * the causal conv: its input, the transposed q|k|v (b, c, s) and the conv output before the slice that the
        SiLU saves (b, c, s + K - 1), both at B;
      * beta = sigmoid(b): its output (T, Hv) at B; g = -exp(A_log) softplus(a.float() + dt_bias): softplus's input
        and output (T, Hv) in fp32 and exp(A_log) (Hv) twice;
      * q and k repeated to Hv heads and upcast (b, Hv, s, dk) fp32, saved by l2norm with its two inverse norms
        (b, Hv, s, 1);
      * after the pad: 6 dk-wide tensors X x dk (the padded key, k_beta twice over (its product and the copy read
        by the matmul), the decayed k_beta's triangular solve, and the decayed query and key the chunk loop reads),
        4 more in an fp32 model when s is a whole number of chunks (F.pad then pads nothing and the chunked views'
        matmuls keep their own contiguous and transposed copies: measured, two (b Hv N, dk, C) and two
        (b, Hv, N, C, dk) storages),
        3 dv-wide X x dv (the padded value, the solved new values, and v_new over the N chunks), 5 chunk-square
        X x C (the pairwise decay, the two score products, the UT system and the intra-chunk attention), 4
        X-rows (the padded beta, the cumulative decay and its exps), the (C, C) bool mask, (b, Hv, N) chunk decays;
      * the recurrent state entering each chunk, N x (b, Hv, dk, dv) fp32 (the loop's matmuls save it);
      * the gated RMSNorm over (T Hv, dv): the fp32 input, its rstd, the normalised tensor cast to B, the weight
        product at B, z upcast to fp32 and silu(z) in fp32 (an fp32 model: five fp32 copies);
      * out_proj's input (T, vd) at B.
    Counted storage by storage with torch.autograd.graph.saved_tensors_hooks on fake tensors and checked against
    MemTracker's peak of real training steps (tests/test_mem_timeline_hybrid.py)."""
    Hv, dk, dv = model.linear_num_value_heads, model.linear_key_head_dim, model.linear_value_head_dim
    kd = model.linear_num_key_heads * dk
    c = 2 * kd + Hv * dv
    K = model.linear_conv_kernel
    C = GATED_DELTA_CHUNK
    N = -(-s // C)
    S = N * C
    T = b * s
    X = b * Hv * S
    return [
        _saved("delta-net conv input (q|k|v, transposed)", (b, c, s), B),
        _saved("delta-net conv output (SiLU input, unsliced)", (b, c, s + K - 1), B),
        _saved("delta-net beta (sigmoid output)", (T, Hv), B),
        _saved("delta-net softplus input and output (fp32)", (2, T, Hv), 4),
        _saved("delta-net exp(A_log) (fp32)", (2, Hv), 4),
        _saved("delta-net q, k upcast to Hv heads (fp32, l2norm inputs)", (2, b, Hv, s, dk), 4),
        _saved("delta-net q, k inverse norms (fp32)", (2, b, Hv, s), 4),
        _saved("delta-net chunked dk-wide tensors (fp32)", (6 + (4 if B == 4 and s % C == 0 else 0), X, dk), 4),
        _saved("delta-net chunked dv-wide tensors (fp32)", (3, X, dv), 4),
        _saved("delta-net chunk-square tensors (fp32)", (5, X, C), 4),
        _saved("delta-net per-row decays and beta (fp32)", (4, X), 4),
        _saved("delta-net causal chunk mask (bool)", (C, C), 1),
        _saved("delta-net chunk decays (fp32)", (b, Hv, N), 4),
        _saved("delta-net recurrent state per chunk (fp32)", (N, b, Hv, dk, dv), 4),
        _saved("gated RMSNorm fp32 input, z upcast, silu(z)", (3, T * Hv, dv), 4),
        _saved("gated RMSNorm rstd (fp32)", (T * Hv,), 4),
        _saved("gated RMSNorm normalised cast and weight product", (2, T * Hv, dv), B),
        _saved("out_proj input", (T, Hv * dv), B),
    ]


def mamba2_saved_tensors(model, b, s, B):
    """What one Bamba Mamba-2 mixer saves for backward beyond its input norm, as transformers 5.23's PyTorch path
    runs it in training (BambaMixer.forward without the fused mamba_split_conv1d_scan_combined kernel:
    causal_conv1d_fn, mamba2_chunk_scan (torch_forward's chunked SSD scan), BambaRMSNormGated), B the activation
    dtype's bytes.

    Widths: H heads of P (d = H P), G groups of B and C of state N, conv channels c = d + 2 G N, in_proj's output
    d + c + H, kernel K, chunk l (mamba_chunk_size); the scan pads the sequence to S = nc l and runs in fp32, with
    X = b H S rows (B and C repeated to the H heads):
      * in_proj's whole output (the conv input is a transposed view of it) (b, s, d + c + H) at B; the conv output
        before the slice (b, c, s + K - 1) at B; -exp(A_log) (H, fp32) twice;
      * dt + dt_bias and its softplus (b, s, H) at B, and dt in fp32: the clamp's output in an fp32 model, two fp32
        copies (dt[..., None].float() and dt.float()) in a 16-bit one;
      * x in fp32: in an fp32 model a view of the conv's SiLU output, which keeps all of it (b, s, c); else its fp32
        copy (b, s, d);
      * the scan: 3 chunk-square X x l (L = exp(segsum), G = C B^T and the permuted M), 5 X x N (the C and B
        operand copies, the repeated B, the decayed-B copy, C again), 5 X x P (the padded x for D's residual, two x
        operand copies, C x states and the padded output the norm reads), 2 X (the decays), the chunk states
        (b, H, nc + 1, P, N) and (b, nc, H, P, N), and the small (b, H, nc + 1, nc + 1) decays with their masks;
      * the gated RMSNorm (norm_before_gate False): silu(z), the gated product, the normalised tensor (b, s, d) in
        fp32 (and z upcast in a 16-bit model), its rstd per group; out_proj's input (b, s, d) at B.
    Counted storage by storage with torch.autograd.graph.saved_tensors_hooks on fake tensors and checked against
    MemTracker's peak of real training steps (tests/test_mem_timeline_hybrid.py)."""
    H, P, N, G = model.mamba_num_heads, model.mamba_head_dim, model.mamba_d_state, model.mamba_n_groups
    d = H * P
    c = d + 2 * G * N
    K = model.mamba_d_conv
    l = model.mamba_chunk_size
    nc = -(-s // l)
    S = nc * l
    X = b * H * S
    fp32_model = B == 4
    return [
        _saved("mamba in_proj output (conv input view)", (b, s, d + c + H), B),
        _saved("mamba conv output (SiLU input, unsliced)", (b, c, s + K - 1), B),
        _saved("mamba -exp(A_log) (fp32)", (2, H), 4),
        _saved("mamba dt + dt_bias and softplus", (2, b, s, H), B),
        _saved("mamba dt in fp32", (1 if fp32_model else 2, b, s, H), 4),
        _saved("mamba x in fp32" + (" (the SiLU output it views)" if fp32_model else ""),
               (b, s, c if fp32_model else d), 4),
        _saved("mamba scan chunk-square tensors (fp32)", (3, X, l), 4),
        _saved("mamba scan N-wide tensors (fp32)", (5, X, N), 4),
        _saved("mamba scan P-wide tensors (fp32)", (5, X, P), 4),
        _saved("mamba scan decays (fp32)", (2, X), 4),
        _saved("mamba chunk states (fp32)", (b, H, 2 * nc + 1, P, N), 4),
        _saved("mamba inter-chunk decays (fp32) and masks", (b * H + 1, nc + 1, nc + 1), 4),
        _saved("mamba causal chunk masks (bool)", (2, l, l), 1),
    ] + ([
        _saved("gated RMSNorm silu(z), product, normalised (fp32)" + ("" if fp32_model else ", z upcast"),
               (3 if fp32_model else 4, b, s, d), 4),
        _saved("gated RMSNorm rstd (fp32)", (b, s, G), 4),
    ] if model.mamba_gated_norm else [
        # Falcon-H1 without mamba_rms_norm: scan_output * silu(gate) saves silu(gate) (the scan output is counted)
        _saved("mamba silu(z)", (b, s, d), B),
    ]) + [
        _saved("out_proj input", (b, s, d), B),
    ]


def mamba1_saved_tensors(model, b, s, B):
    """What one Jamba Mamba-1 mixer saves for backward beyond its input norm, as transformers 5.23's PyTorch path runs
    it in training (modeling_jamba.py JambaMambaMixer.forward without mamba-ssm / causal-conv1d: causal_conv1d_fn,
    the dt / B / C RMSNorms, mamba_selective_scan's recurrent loop over the s positions), B the activation dtype's
    bytes; d = mamba_expand x h inner width, N state, R dt rank, K kernel, T = b s:

      * in_proj's whole output (T, 2 d) (z is a view of it) and the conv's unsliced output (b, d, s + K - 1);
      * the SiLU output the scan reads (b, d, s), x_proj's input (its (b, s, d) transpose: a view when b = 1, a copy
        otherwise), dt after softplus, its [..., None] and the x fp32 copy, the scan output, silu(z) and out_proj's
        input: 6 or 7 (T, d) tensors in an fp32 model (the fp32 copies are the tensors themselves), 7 or 8 in a
        16-bit one, 2 of them fp32, and D's fp32 copy (d);
      * the dt / B / C RMSNorms: in fp32 x_proj's output (T, R + 2 N) (the norms' .float() views it), 2 (T, R) and
        4 (T, N); in a 16-bit model the (T, R) and two (T, N) fp32 upcasts, 2 (T, R) and 2 (T, N) normalised / output
        copies, B's fp32 copy; rstd 3 T fp32; -exp(A_log) and exp's output (d, N) fp32;
      * the discretisation: exp(A dt) and dt B, (b, d, s, N) fp32 each;
      * the loop's states: each (b, d, N) state the next step's multiply saves (s - 1 fp32, plus the zero initial
        state) and the matmul's cast of it to the input dtype (s, the same tensor in an fp32 model).
    Counted storage by storage with torch.autograd.graph.saved_tensors_hooks on fake tensors (one layer of
    ai21labs/AI21-Jamba-1.5-Mini's widths, fp32 and bf16) and checked against MemTracker's peak
    (tests/test_mem_timeline_hybrid.py)."""
    d, N, R, K = model.mamba1_inner, model.mamba_d_state, model.mamba_dt_rank, model.mamba_d_conv
    T = b * s
    fp32_model = B == 4
    out = [
        _saved("mamba in_proj output (z views it)", (T, 2 * d), B),
        _saved("mamba conv output (SiLU input, unsliced)", (b, d, s + K - 1), B),
        # x_proj reads the SiLU output transposed to (b, s, d): a view when b = 1, a contiguous copy otherwise
        _saved("mamba d-wide tensors (SiLU output, x_proj's input copy when b > 1, dt, scan output, silu(z), "
               "out_proj input)", ((6 if fp32_model else 5) + (b > 1), T, d), B),
        _saved("mamba -exp(A_log), exp output (fp32)", (2, d, N), 4),
        _saved("mamba discretised A and B (fp32)", (2, b, d, s, N), 4),
        _saved("mamba dt / B / C norm rstd (fp32)", (3, T), 4),
    ]
    if fp32_model:
        out += [
            _saved("mamba x_proj output (the norms' fp32 view)", (T, R + 2 * N), 4),
            _saved("mamba dt norm normalised and output", (2, T, R), 4),
            _saved("mamba B, C norms normalised and outputs", (4, T, N), 4),
            _saved("mamba scan states (the zero one and each step's)", (s + 1, b, d, N), 4),
        ]
    else:
        out += [
            _saved("mamba dt fp32 and [..., None] copies", (2, T, d), 4),
            _saved("mamba D fp32 copy", (d,), 4),
            _saved("mamba dt norm input upcast (fp32)", (T, R), 4),
            _saved("mamba dt norm normalised and output", (2, T, R), B),
            _saved("mamba B, C norm inputs upcast and B fp32 copy", (3, T, N), 4),
            _saved("mamba B, C norm normalised / output", (3, T, N), B),
            _saved("mamba scan states (fp32, steps 1 to s - 1)", (s - 1, b, d, N), 4),
            _saved("mamba scan states cast for the matmul (and the zero one)", (s + 1, b, d, N), B),
        ]
    return out


def lora_input_group(model, t):
    """Which saved activation a linear reads (the reads= of layer_activation_tensors): q, k, v (and MLA's q_a /
    kv_a) read the attention norm's output, gate / up the MLP norm's (the attention norm's in a parallel block such
    as phi-2's, whose one norm feeds both), down_proj the activation product; shared experts have their own."""
    name = lora_linear_name(t)
    if name in ("q_proj", "k_proj", "v_proj", "qkv_proj", "q_a_proj", "kv_a_proj_with_mqa"):
        return "attention input"
    if name in ("gate_proj", "up_proj", "gate_up_proj"):
        return "mlp input" if model.norms_per_layer >= 2 else "attention input"
    if name == "down_proj":
        return "shared down_proj" if t.role == "shared_experts" else "down_proj"
    return name


def lora_frozen_base_tensors(model, setup, lora, moe, tensors, tokens, first_layer=False):
    """One layer's saved tensors with a frozen base and peft's adapters (measured against MemTracker on peft-wrapped
    transformers models, tests/test_mem_lora_timeline.py):

    * out: what only a weight's gradient needs (weight_grad_only: a frozen linear's input -- F.linear saves its input
      only for the weight's gradient -- and the normalised tensor an RMSNorm's scale multiplies);
    * in, per adapted linear (in -> out features), from peft's Linear.forward, result + lora_B(lora_A(dropout(x))) *
      scaling with x cast to the adapter's dtype (_cast_input_dtype, a no-op when they agree):
      - lora_A's input: when x already has the adapter's width the very tensor x, kept once for all the adapters
        that read it (q and v read one norm output) and not again where something else saves it (the attention
        kernel's output, o_proj's input); otherwise each adapter's own cast copy, tokens x in at the adapter width;
      - with --lora-dropout > 0, nn.Dropout's mask (1 B, bool) and its output (lora_A's input) instead, per adapter;
      - lora_A's output, saved by lora_B: tokens x r at the adapter width.
    The adapters' scaling multiplies by a Python number and the adds save nothing.

    The first decoder layer reads the frozen embedding's output, which needs no gradient, and autograd records an
    op only where an input needs one: its attention norm saves nothing, nor (in a parallel block such as phi-2's,
    whose MLP reads that norm's output) its MLP unless an adapter sits on the MLP's input linears, nor the dropout
    in front of an adapter that reads the norm's output (its lora_A still saves the dropped input for its weight's
    gradient). The attention is taken to need a gradient (an adapter on q, k, v or their fused linear; the cases
    measured).

    Under autocast (an fp32 base, --precision amp-bf16) each adapter saves its own 16-bit cast of its input (autocast
    caches casts of leaf parameters only) and a 16-bit lora_A output.

    A bitsandbytes base (--base-dtype int8 / nf4 / nf4-dq) keeps every frozen quantised linear's input (its autograd
    function saves A whenever A needs a gradient), in the compute dtype: not measured here (bitsandbytes kernels
    need a GPU), read from bitsandbytes' code."""
    a_b = 4 if lora.adapter_dtype == "fp32" else 2
    amp = setup.precision in AMP_PRECISIONS
    if amp:
        # under autocast lora_A's F.linear casts its (fp32) input to 16 bits and saves that cast, its own for each
        # adapter (autocast caches casts of leaf parameters only), and lora_A's output is 16-bit
        a_b = 2
    names = lora_target_names(model, lora.targets)
    adapted = [t for t in lora_candidates(layer_tensors(model, moe)) if lora_linear_name(t) in names]
    groups = {lora_input_group(model, t) for t in adapted} if not amp else set()
    no_grad_inputs = set()
    if first_layer:
        no_grad_inputs.add("attention input")
        if model.norms_per_layer < 2 and "attention input" not in {
                lora_input_group(model, t) for t in adapted if lora_linear_name(t) in ("gate_proj", "up_proj",
                                                                                      "gate_up_proj")}:
            no_grad_inputs.add("mlp")  # the parallel MLP runs without a gradient to its down_proj
    # bitsandbytes' frozen linears (int8: MatMul8bitLt, nf4: MatMul4Bit, bitsandbytes/autograd/_functions.py) keep
    # their input whenever it needs a gradient: `if any(ctx.needs_input_grad[:2]): ctx.tensors = (A, B)` (int8:
    # (CAt, subA, A)); only the 16/32-bit nn.Linear (F.linear) drops it
    bnb = bnb_keeps_input(lora)
    kept = []
    for e in tensors:
        if first_layer and (e["name"].startswith("attn norm ")
                            or ("mlp" in no_grad_inputs and e["name"].startswith("mlp ") and not e["reads"])):
            continue
        if not e["weight_grad_only"]:
            kept.append(e)
        elif bnb and e["reads"] and not (first_layer and e["reads"] in no_grad_inputs):
            kept.append(e)  # (a frozen linear reading the first norm's output: its input needs no gradient)
        elif (lora.dropout == 0 and e["reads"] in groups and e["dtype_bytes"] == a_b
              and not any(k["reads"] == e["reads"] for k in kept)):
            kept.append(dict(e, name=e["name"] + " (kept by lora_A)"))
    for t in adapted:
        n_in = t.shape[1]
        label = "lora " + lora_linear_name(t)
        if lora.dropout > 0:
            if lora_input_group(model, t) not in no_grad_inputs:
                # CUDA's native_dropout saves a bool mask (the CPU's dropout saves an input-width noise tensor)
                kept.append(_saved(label + " dropout mask (bool)", (tokens, n_in), 1))
            kept.append(_saved(label + " dropout output (lora_A input)", (tokens, n_in), a_b))
        elif amp or not any(k["reads"] == lora_input_group(model, t) and k["dtype_bytes"] == a_b for k in kept):
            kept.append(_saved(label + " input cast to the adapter dtype", (tokens, n_in), a_b))
        kept.append(_saved(label + " lora_A output", (tokens, lora.rank), a_b))
    return kept


def _saved(name, shape, nbytes_per):
    return {"name": name, "shape": list(shape), "dtype_bytes": nbytes_per, "bytes": math.prod(shape) * nbytes_per,
            "split": "-", "core": False, "weight_grad_only": False, "reads": None}


def activation_sum(tensors, recompute):
    return sum(t["bytes"] for t in tensors if not (recompute == "selective" and t["core"]))


def layer_input_bytes(model, setup, batch=None, seq=None):
    """What full recompute keeps per layer: the layer input (divided by tp under SP). With DeepSpeed's
    partition_activations (-pa) each tensor-parallel rank keeps 1/tp of the flattened checkpoint instead
    (deepspeed/runtime/activation_checkpointing/checkpointing.py: partition_size = numel // mp_size, the last rank
    taking the remainder: the largest share is the ceiling)."""
    b, s = _micro_batch_tokens(setup, batch, seq)
    rows = s * b // (setup.tp if setup.sp else 1)
    if setup.partition_activations:
        return -(-rows * model.hidden_size // setup.tp) * _act_bytes(setup)
    return rows * model.hidden_size * _act_bytes(setup)


def embedding_activation_bytes(model, setup, batch=None, seq=None):
    """First stage, per micro-batch: int64 token ids (+ embedding dropout mask; + the input of BLOOM's embedding
    LayerNorm; + OPT's project_in input, s b e)."""
    b, s = _micro_batch_tokens(setup, batch, seq)
    hidden = s * b * model.hidden_size // (setup.tp if setup.sp else 1)  # elements of one h-wide tensor per rank
    dropout = _dropout_on(model, setup)
    mask = hidden if dropout else 0
    saved = hidden * _act_bytes(setup) if model.embedding_norm else 0
    e = model.embed_width
    if e != model.hidden_size:
        saved += s * b * e * _act_bytes(setup)
    if model.model_type in MASKED_SDPA_TYPES and setup.profile == "hf" and model.attention_layer_count() \
            and setup.attn_implementation != "eager":  # (eager adds it to the scores, which saves nothing)
        # BambaModel / NemotronHModel / Lfm2Model build one (b, 1, s, s) additive causal mask in the activation dtype that every
        # attention layer's kernel saves: held once, from the first attention layer to the end of backward (measured)
        saved += b * s * s * _act_bytes(setup)
    return 8 * s * b + mask + saved


def logits_bytes(model, setup, batch=None, seq=None):
    """Last stage, one micro-batch: final norm + LM-head input + logits/loss buffers.

    megatron: fp32 logits for the vocab-parallel cross entropy, 4 s b V / tp (theoretical_memory_usage.py);
    hf: the logits in activation dtype (returned to the caller), the fp32 log-softmax saved by cross_entropy and
    the fp32 gradient created at the start of backward: s b V (B + 4 + 4)."""
    b, s = _micro_batch_tokens(setup, batch, seq)
    B = _act_bytes(setup)
    rows_sp = s * b // (setup.tp if setup.sp else 1)
    h = model.hidden_size
    e = model.embed_width
    # final-norm input and LM-head input (width e); OPT's project_out keeps its h-wide input too
    head_in = rows_sp * (h + e + (h if e != h else 0)) * B + (4 * rows_sp if model.final_norm else 0)
    v_local = -(-model.padded_vocab // setup.tp)
    per_elem = 4 if setup.profile == "megatron" else B + 8
    return head_in + s * b * v_local * per_elem + 8 * s * b


def in_flight_chunks(setup, stage, micro_batches):
    """Model chunks whose activations are alive at once on `stage` under 1F1B (Megatron-LM schedules.py:
    warm-up p - r - 1 (+1 in flight); interleaved: 2(p - r - 1) + (v - 1)p (+1), capped by the work)."""
    p, v, r = setup.pp, setup.vpp, stage
    if v == 1:
        return min(p - r, micro_batches)
    return min(2 * (p - r - 1) + (v - 1) * p + 1, micro_batches * v)


def micro_batches(setup):
    if setup.global_batch:
        return setup.global_batch // (setup.micro_batch * setup.dp)
    return setup.pp


def stage_activation_bytes(model, setup, stage, batch=None, seq=None):
    """Activation bytes held at the peak on one rank of `stage` (first stage: most in-flight micro-batches)."""
    layers = stage_layers(model.num_layers, setup.pp, stage)
    m = micro_batches(replace(setup, micro_batch=setup.micro_batch if batch is None else batch))
    chunks = in_flight_chunks(setup, stage, m)
    by_kind = {}
    for i in layers:
        kind = (model.layer_is_moe(i), activation_kind(model, i))
        if kind not in by_kind:
            tensors = layer_activation_tensors(model, setup, kind[0], kind[1], batch, seq)
            by_kind[kind] = activation_sum(tensors, setup.recompute)
    per_layer = [by_kind[(model.layer_is_moe(i), activation_kind(model, i))] for i in layers]
    worst = max(per_layer)
    if setup.recompute == "full":
        layers_per_chunk = -(-len(layers) // setup.vpp)
        stored = layer_input_bytes(model, setup, batch, seq) * layers_per_chunk * chunks + worst
    elif setup.vpp > 1:
        stored = worst * -(-len(layers) // setup.vpp) * chunks
    else:
        stored = sum(per_layer) * chunks
    if stage == 0:
        stored += embedding_activation_bytes(model, setup, batch, seq) * chunks
    return stored


# --------------------------------------------------------------------------------------------------------------
# Training memory
# --------------------------------------------------------------------------------------------------------------
def _shard_sizes(setup):
    dense = setup.dp * setup.cp
    if setup.sharding == "fsdp-hybrid":
        dense = math.gcd(dense, setup.fsdp_shard_size)
    etp = setup.etp or setup.tp
    expert = setup.num_gpus // (etp * setup.ep * setup.pp)
    return dense, expert


def _gathered_bytes(setup, unit_params):
    z3 = setup.sharding in ("zero3", "fsdp-full", "fsdp-hybrid")
    if not z3 or not unit_params:
        return 0
    w_b = compute_weight_bytes(setup)
    fp8_cast = 1 if setup.precision == "fp8" else 0  # sharded models cast only the gathered layers to FP8
    live = (1 + setup.prefetch_units) * unit_params
    if setup.max_live_params:
        # DeepSpeed's stage3_max_live_parameters stops prefetching at that many gathered parameters; the unit
        # being computed is fetched whatever the limit (partitioned_param_coordinator.py: max_params_to_prefetch)
        live = max(unit_params, min(live, setup.max_live_params))
    return live * (w_b + fp8_cast) + unit_params * w_b


def training_memory(model, setup):
    """Per-GPU training memory, every term separately; see the module docstring for conventions."""
    validate_setup(setup, model)
    dense_shard, expert_shard = _shard_sizes(setup)
    stages = {}
    assumptions = []
    if model is None:
        n_local = -(-setup.num_params // (setup.tp * setup.pp))
        fake = [(ModelTensor("params", (n_local,), "all"), n_local)]
        held = {"dense": n_local, "dense_opt": optimizer_state_bytes(setup.optimizer, fake, optimizer_state_width(setup)),
                "expert": 0,
                "expert_opt": 0, "fp8_linear": n_local}
        terms, cpu = model_state_terms(setup, held, dense_shard, expert_shard)
        terms["gathered_params"] = _gathered_bytes(setup, setup.largest_unit_params)
        terms["activations"] = 0
        terms["logits_loss"] = 0
        if setup.precision in AMP_PRECISIONS:  # tensors unknown: every parameter taken as read by a matmul
            terms["autocast_weight_copies"] = 2 * n_local
        stages["first"] = (terms, cpu)
        assumptions.append("--params mode: model states only, parameters split evenly over tp x pp; no activations")
        if setup.optimizer in ("adafactor", "muon"):
            assumptions.append("--params mode: matrix shapes unknown, all parameters treated as one 1-D tensor")
    else:
        for label, stage in (("first", 0), ("last", setup.pp - 1)):
            if label == "last" and setup.pp == 1:
                break
            held = stage_params(model, setup, stage)
            terms, cpu = model_state_terms(setup, held, dense_shard, expert_shard)
            terms["gathered_params"] = _gathered_bytes(setup, held["unit"])
            terms["activations"] = stage_activation_bytes(model, setup, stage)
            terms["logits_loss"] = logits_bytes(model, setup) if stage == setup.pp - 1 else 0
            if setup.precision in AMP_PRECISIONS:
                terms["autocast_weight_copies"] = 2 * autocast_cast_numel(model, setup, stage)
            stages[label] = (terms, cpu)
    out_stages = {}
    for label, (terms, cpu) in stages.items():
        t = dict(terms)
        t["comm_buckets"] = setup.comm_buffer
        allocated = sum(t.values())
        t["fragmentation"] = int(allocated * setup.fragmentation)
        t["framework_overhead"] = setup.overhead
        t["total"] = sum(t.values())
        out_stages[label] = {"terms": t, "cpu_offloaded_bytes": cpu}
    worst = max(out_stages, key=lambda k: out_stages[k]["terms"]["total"])
    w_b, g_b, copy_b, m_b = bytes_per_param(setup)
    total_params = count_params(model)["total"] if model is not None else setup.num_params
    ckpt_w = total_params * (4 if w_b == 4 else 2)  # fp32 or FSDP's fp32 parameters are saved as fp32
    if model is not None:
        whole = stage_params(model, TrainSetup(optimizer=setup.optimizer, precision=setup.precision,  # tp = pp = 1
                                               optimizer_state_dtype=setup.optimizer_state_dtype), 0)
        opt_full = whole["dense_opt"] + whole["expert_opt"]
    else:
        opt_full = optimizer_state_bytes(setup.optimizer, [(ModelTensor("p", (total_params,), "all"), total_params)],
                                         optimizer_state_width(setup))
    ckpt_full = ckpt_w + total_params * m_b + opt_full
    assumptions.append(precision_assumption(setup))
    if setup.precision in AMP_PRECISIONS:
        assumptions.append("autocast weight copies: the 16-bit cast of every parameter a matmul reads, all alive at "
                           "the end of the forward pass (autocast's cache; the weight casts are saved for backward)"
                           + (" (--params: every parameter counted)" if model is None else ""))
        if model is not None:
            assumptions.append("activations under autocast: the profile's tensors with 2-byte matmul inputs and "
                               "outputs and fp32 norm tensors; NOT checked to 10 %: on 128-wide Llama/Qwen/OLMo "
                               "models (hf, sdpa) it is 5-13 % below the tensors autograd saves (fp32 products "
                               "such as RoPE's are not listed), up to 35 % below for Falcon eager")
    assumptions += [
        f"ZeRO/FSDP shard over dp x cp = {setup.dp * setup.cp} ranks (dense) and expert-dp = {expert_shard} (experts)",
        f"framework overhead {gib(setup.overhead):.2f} GiB (CUDA context, cuBLAS/NCCL workspaces); "
        f"fragmentation allowance {setup.fragmentation:.0%} of allocated bytes",
        f"communication buckets {setup.comm_buffer / 2**20:.0f} MiB ({setup.comm_buffer_source})",
    ]
    if setup.partition_activations:
        assumptions.append(
            f"-pa: the full-recompute checkpoints (one layer input each) split over tp = {setup.tp} ranks "
            "(DeepSpeed partition_activations)" if setup.tp > 1 else
            "-pa: nothing to split at tp 1 (DeepSpeed partition_activations splits the checkpoints over tp)")
    if setup.max_live_params:
        assumptions.append(f"-zmlp: at most {setup.max_live_params:,} gathered parameters (ZeRO-3 "
                           "stage3_max_live_parameters caps prefetching; the unit computing is always gathered)")
    if model is not None:
        assumptions += [
            f"activations: profile {setup.profile}, attention {setup.attn_implementation}, "
            f"recompute {setup.recompute}, "
            f"dropout {'on' if _dropout_on(model, setup) else 'off'}, "
            f"{_act_bytes(setup)}-byte activations; MoE routing assumed balanced (tokens x top-k per rank)",
            f"pipeline: {micro_batches(setup)} micro-batches per step, first stage holds "
            f"{in_flight_chunks(setup, 0, micro_batches(setup))} in flight (1F1B"
            f"{', interleaved' if setup.vpp > 1 else ''})",
        ]
    return {
        "per_gpu": out_stages[worst]["terms"],
        "worst_stage": worst,
        "stages": out_stages,
        "cpu_per_gpu_bytes": out_stages[worst]["cpu_offloaded_bytes"],
        "checkpoint": {"weights_bytes": ckpt_w, "full_bytes": ckpt_full},
        "bytes_per_param": {"weights": w_b, "gradients": g_b + copy_b, "master_weights": m_b,
                            "optimizer_state_dtype": optimizer_state_dtype_name(setup)},
        "setup": dict(asdict(setup), dp=setup.dp, dense_shard=dense_shard, expert_shard=expert_shard,
                      micro_batches=micro_batches(setup) if model is not None else None),
        "assumptions": assumptions,
    }


# --------------------------------------------------------------------------------------------------------------
# LoRA, QLoRA and DoRA (issue 12): peft's adapters on a frozen base
# --------------------------------------------------------------------------------------------------------------
# peft (huggingface/peft, tuners/lora/layer.py) wraps each targeted linear W (out x in): lora_A (r x in) and lora_B
# (out x r), trainable; with use_dora a magnitude vector (out) too (tuners/lora/dora.py, lora_magnitude_vector).
# Trainable parameters per adapted linear: r (in + out) [+ out], what get_nb_trainable_parameters() counts. "all-linear"
# is every nn.Linear / Conv1D but the output layer (peft tuners_utils._maybe_include_all_linear_layers): in
# transformers 5 the routers and the routed experts are no nn.Linear (a parameter in a router module; experts stacked
# in 3-D tensors). peft 0.21's all-linear nevertheless adapts a MoE model's expert parameters (its target_parameters
# path: Mixtral all-linear r 16 gives 359,665,664 trainable, only 13,631,488 in nn.Linear): all-linear on a MoE model
# and targeting experts or routers are refused; named linears (attention, shared experts) are counted exactly.
LORA_BASE_DTYPES = ("bf16", "fp16", "fp32", "int8", "nf4", "nf4-dq")
LORA_ADAPTER_DTYPES = ("fp32", "bf16")
LORA_SHORTHANDS = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj"}
LORA_ROLES = ("attention", "mlp", "shared_experts", "embedding_projections")  # nn.Linear in transformers 5
NF4_BLOCK = 64            # bitsandbytes quantize_4bit's default blocksize
NF4_NESTED_BLOCK = 256    # double quantization: the absmax values quantised in blocks of 256 (quantize_blockwise)


BNB_4BIT_DROPS_INPUT = (0, 43, 3)  # bitsandbytes PR #1270, released in 0.43.3 (bnb_keeps_input)
BNB_CURRENT = (0, 49, 0)           # --bnb-version's default: any release from 0.43.3 on behaves alike here


def parse_bnb_version(text):
    """--bnb-version X.Y[.Z] -> (X, Y, Z); ValueError naming the flag otherwise."""
    parts = str(text).strip().split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        raise ValueError(f"--bnb-version must be a bitsandbytes release such as 0.42.0 or 0.45.5, got {text!r:.40}")
    return tuple(int(p) for p in parts) + (0,) * (3 - len(parts))


@dataclass(frozen=True)
class LoraSetup:
    rank: int = 8
    alpha: float = 16.0               # scaling alpha / r: no memory effect, printed
    targets: str = "q,v"              # "q,v" | "all-linear" | comma-separated module names (the block's)
    dropout: float = 0.0              # > 0: nn.Dropout before lora_A keeps a mask and its output per adapted linear
    base_dtype: str = "bf16"          # the frozen base: bf16 | fp16 | fp32 | int8 (LLM.int8) | nf4 | nf4-dq
    adapter_dtype: str = "fp32"       # peft's autocast_adapter_dtype=True upcasts adapters of a 16-bit base to fp32
    dora: bool = False
    autocast: str = ""                # "amp-bf16" / "amp-fp16": an fp32 base run under torch.autocast (HF --bf16)
    bnb_version: tuple = BNB_CURRENT  # bitsandbytes release: before 0.43.3 MatMul4Bit kept every 4-bit input


def bnb_keeps_input(lora) -> bool:
    """Whether the frozen quantised linears keep their input for backward. LLM.int8 (MatMul8bitLt) does in every
    release: `if any(ctx.needs_input_grad[:2]): ctx.tensors = (CAt, subA, A)`. 4-bit (MatMul4Bit) did until
    bitsandbytes PR #1270 ("delete useless buffered activation", merged 2024-07-16: `ctx.tensors = (None, B)`), which
    a bitsandbytes maintainer names as shipped in 0.43.3 ("the current patch release 0.43.3 fixed a very significant
    issue with QLoRA", georgian-io/LLM-Finetuning-Toolkit issue #189, 2024-07-25). 16/32-bit bases: F.linear with a
    frozen weight saves no input."""
    if lora.base_dtype == "int8":
        return True
    return lora.base_dtype in ("nf4", "nf4-dq") and lora.bnb_version < BNB_4BIT_DROPS_INPUT


def lora_linear_name(t):
    """A parameter tensor's module name as --lora-targets spells it: the block's name less '.weight' and its path
    (self_attn.q_proj.weight -> q_proj; mlp.shared_experts.gate_proj.weight -> gate_proj)."""
    return t.name.rsplit(".", 2)[-2]


def lora_candidates(tensors):
    """The tensors peft can wrap: 2-D weights of nn.Linear modules (LORA_ROLES)."""
    return [t for t in tensors if t.kind == "weight" and len(t.shape) == 2 and t.role in LORA_ROLES and not t.buffer]


def lora_target_names(model, targets):
    """--lora-targets -> the set of module names adapted, checked against the model's tensor list; ValueError naming
    the flag for a name the model does not have or a module peft cannot wrap here."""
    available = set()
    unwrappable = set()
    for moe in ((False, True) if model.is_moe else (False,)):
        for t in layer_tensors(model, moe):
            (available if t in lora_candidates([t]) else unwrappable).add(t.name.rsplit(".", 2)[-2])
    first, last = global_tensors(model)
    available |= {lora_linear_name(t) for t in lora_candidates(first + last)}
    text = targets.strip().lower()
    if text == "all-linear":
        if model.is_moe:  # measured: Mixtral all-linear r16 -> 359,665,664 trainable, 13,631,488 of them nn.Linear
            raise ValueError("--lora-targets all-linear on a MoE model: peft 0.21 also adapts the routed experts' 3-D "
                             "parameters (target_parameters), whose adapter shapes are not modelled; list the linear "
                             "modules instead (e.g. q,k,v,o)")
        return frozenset(available)
    names = [LORA_SHORTHANDS.get(n.strip(), n.strip()) for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError(f"--lora-targets needs module names, 'q,v' or 'all-linear', got {targets!r}")
    for n in names:
        if n in available:
            continue
        if n in ("q_proj", "k_proj", "v_proj") and "qkv_proj" in available:
            raise ValueError(f"--lora-targets {n}: this model fuses q, k and v into one linear (qkv_proj: GPT-2's "
                             "c_attn, Falcon's query_key_value); target qkv_proj")
        if n in ("experts", "router", "gate_up_proj", "up_proj", "down_proj") and model.is_moe and n in unwrappable | {
                "experts", "router"}:
            raise ValueError(f"--lora-targets {n}: routed experts and routers are no nn.Linear in transformers 5 "
                             "(3-D expert tensors, a router parameter); peft's LoRA on them is not modelled")
        raise ValueError(f"--lora-targets {n}: no such linear in this model; it has {', '.join(sorted(available))} "
                         "(or give 'q,v' / 'all-linear')")
    return frozenset(names)


def lora_adapted(model, lora):
    """[(ModelTensor of the base linear, times it occurs in the model)] for every adapted linear."""
    names = lora_target_names(model, lora.targets)
    n_moe = model.moe_layer_count()
    out = []
    for moe, times in ((False, model.num_layers - n_moe), (True, n_moe)):
        if times:
            out += [(t, times) for t in lora_candidates(layer_tensors(model, moe)) if lora_linear_name(t) in names]
    first, last = global_tensors(model)
    out += [(t, 1) for t in lora_candidates(first + last) if lora_linear_name(t) in names]
    return out


def lora_adapter_tensors(model, lora):
    """[(ModelTensor, local numel)] of every trainable adapter tensor (all layers): lora_A (r, in), lora_B (out, r)
    and with DoRA the magnitude (out,). Shapes as peft builds them; Conv1D's (in, out) has the same counts."""
    out = []
    for t, times in lora_adapted(model, lora):
        n_out, n_in = t.shape
        shapes = [(lora.rank, n_in), (n_out, lora.rank)] + ([(n_out,)] if lora.dora else [])
        for _ in range(times):
            out += [(ModelTensor(t.name + ".lora", shape, "lora"), math.prod(shape)) for shape in shapes]
    return out


def lora_trainable_params(model, lora):
    """Exact trainable parameters: sum over adapted linears of r (in + out) (+ out with DoRA)."""
    return sum(times * (lora.rank * sum(t.shape) + (t.shape[0] if lora.dora else 0))
               for t, times in lora_adapted(model, lora))


def quantized_linear_bytes(numel, rows, base_dtype):
    """Stored bytes of one frozen linear weight of `numel` elements and `rows` output features, bitsandbytes layouts:

    * int8 (LLM.int8(), Dettmers et al. 2022; bnb Linear8bitLt / Int8Params): int8 weights + one fp32 scale per
      output row (SCB): numel + 4 rows.
    * nf4 (QLoRA, Dettmers et al. 2023; bnb functional.quantize_4bit, blocksize 64): two 4-bit codes per byte
      (ceil(numel / 2)), one fp32 absmax per 64-block, and the 16-entry fp32 NF4 table get_4bit_type makes for each
      tensor (64 B).
    * nf4-dq (double quantization, bnb_4bit_use_double_quant): the absmax values, less their mean (offset, an fp32
      scalar), quantised by quantize_blockwise to uint8 in blocks of 256: 1 B per 64-block + an fp32 absmax per 256
      blocks + the 256-entry fp32 dynamic map copied per tensor (1024 B) + the offset (4 B), with the NF4 table.
    The CUDA caching allocator rounds every tensor up to 512 B; that rounding is not counted here."""
    if base_dtype == "int8":
        return numel + 4 * rows
    blocks = -(-numel // NF4_BLOCK)
    packed = -(-numel // 2)
    if base_dtype == "nf4":
        return packed + 4 * blocks + 64
    nested = -(-blocks // NF4_NESTED_BLOCK)
    return packed + blocks + 4 * nested + 1024 + 4 + 64


def lora_base_weight_bytes(model, lora):
    """Bytes of the frozen base. 16/32-bit: every parameter at that width. int8 / nf4: transformers' bitsandbytes
    integration (integrations/bitsandbytes.py replace_with_bnb_linear) quantises every nn.Linear and Conv1D except
    the output layer (quantizers/base.py get_keys_to_not_convert: the LM head and tied weights); embeddings, norms,
    biases and the LM head stay at the compute dtype (bf16 here, bnb_4bit_compute_dtype / torch_dtype)."""
    total = count_params(model)["total"]
    if lora.base_dtype in ("bf16", "fp16", "fp32"):
        return total * (4 if lora.base_dtype == "fp32" else 2)
    if model.is_moe:
        raise ValueError(f"--base-dtype {lora.base_dtype} with routed experts: bitsandbytes quantises nn.Linear only "
                         "and transformers 5 stores experts as 3-D tensors; their stored layout is not modelled")
    quantized = 0
    quantized_numel = 0
    n_moe = model.moe_layer_count()
    groups = [(layer_tensors(model, False), model.num_layers - n_moe)]
    first, last = global_tensors(model)
    groups.append((tuple(first) + tuple(last), 1))
    for tensors, times in groups:
        for t in lora_candidates(tensors):  # the nn.Linear / Conv1D weights (the LM head is a table: kept)
            quantized += times * quantized_linear_bytes(t.numel, t.shape[0], lora.base_dtype)
            quantized_numel += times * t.numel
    return quantized + 2 * (total - quantized_numel)


def lora_model_states(model, setup, lora):
    """(terms, assumption lines) of a LoRA / QLoRA / DoRA run: frozen base, fp32 (or bf16) adapters, their gradients
    and optimizer states; no master copy (the adapters are the trainable copy)."""
    adapters = lora_adapter_tensors(model, lora)
    n = sum(k for _, k in adapters)
    a_b = 4 if lora.adapter_dtype == "fp32" else 2
    opt = optimizer_state_bytes(setup.optimizer, adapters, a_b)
    terms = {"weights": lora_base_weight_bytes(model, lora) + a_b * n, "gradients": a_b * n, "master_weights": 0,
             "optimizer_states": opt}
    return terms, n


def lora_activation_bytes(model, setup, lora, batch=None, seq=None):
    """Activations a LoRA step saves, per micro-batch, all layers (setup: the base's compute setup,
    lora_compute_setup): each layer's layer_activation_tensors with the frozen base (lora_frozen_base_tensors: no
    frozen linear's input, peft's adapter inputs and lora_A outputs; the first layer, reading the frozen
    embedding's output, records nothing before its adapters); the frozen embedding keeps no ids. Under full
    recompute (HF gradient checkpointing): every layer's input plus the largest layer recomputed."""
    kinds = [(model.layer_is_moe(i), activation_kind(model, i)) for i in range(model.num_layers)]
    per_kind = {kind: activation_sum(layer_activation_tensors(model, setup, kind[0], kind[1], batch, seq, lora=lora),
                                     "none") for kind in set(kinds)}
    layers = [per_kind[k] for k in kinds]
    layers[0] = activation_sum(layer_activation_tensors(model, setup, kinds[0][0], kinds[0][1], batch, seq,
                                                        lora=lora, first_layer=True), "none")
    if setup.recompute == "full":
        return layer_input_bytes(model, setup, batch, seq) * model.num_layers + max(layers)
    return sum(layers)


def lora_head_input_bytes(model, setup, batch=None, seq=None):
    """The LM head's input, which logits_bytes counts and a frozen head does not keep (its weight's gradient alone
    would read it)."""
    b, s = _micro_batch_tokens(setup, batch, seq)
    return b * s * model.embed_width * _act_bytes(setup)


def check_lora_setup(setup, model, lora):
    """The combinations the LoRA model covers: one GPU's view of data parallelism (no tp/pp/cp/ep, no ZeRO sharding
    of the frozen base), a model, a precision given by --base-dtype (not --precision)."""
    if model is None:
        raise ValueError("--lora-rank needs a model (--preset, --config or shape flags), not --params")
    if model.state_layer_count():
        raise ValueError(f"--lora-rank with {model.linear_mixer_name} layers is not modelled (LoRA's saved tensors "
                         "are measured on attention + MLP layers only)")
    if not 1 <= lora.rank <= 1 << 20:
        raise ValueError(f"--lora-rank must be in 1..{1 << 20}, got {lora.rank}")
    if lora.base_dtype not in LORA_BASE_DTYPES:
        raise ValueError(f"--base-dtype must be one of {', '.join(LORA_BASE_DTYPES)}, got {lora.base_dtype!r}")
    if lora.adapter_dtype not in LORA_ADAPTER_DTYPES:
        raise ValueError(f"--adapter-dtype must be fp32 or bf16, got {lora.adapter_dtype!r}")
    if lora.autocast and (lora.autocast not in AMP_PRECISIONS or lora.base_dtype != "fp32"
                          or lora.adapter_dtype != "fp32"):
        raise ValueError(f"--precision {lora.autocast} with --lora-rank: autocast runs over an fp32 model; give "
                         "--base-dtype fp32 (and fp32 adapters), or leave --precision out")
    if setup.tp * setup.pp * setup.cp * setup.ep > 1:
        raise ValueError("--lora-rank with -tp/-pp/--cp/-ep: model-parallel LoRA is not modelled (data parallelism "
                         "only: --num-gpus with -z 0)")
    if setup.sharding != "zero0" or setup.offload_optimizer or setup.offload_params:
        raise ValueError("--lora-rank with ZeRO/FSDP sharding or offload is not modelled (give -z 0)")
    if setup.optimizer in ("muon",):
        raise ValueError("--lora-rank with --optimizer muon is not modelled (its AdamW/Muon split is by module role)")
    if setup.recompute == "selective":
        raise ValueError("--lora-rank with --recompute selective is not modelled (HF gradient checkpointing is "
                         "--recompute full / -ca)")
    lora_target_names(model, lora.targets)


def lora_compute_setup(setup, lora):
    """The setup the frozen base computes in: --base-dtype's compute dtype (fp32, fp16, else bf16: int8 / nf4
    dequantise to bf16) as the precision, no master copy (the sum and the timeline both use it)."""
    compute = lora.autocast or {"fp32": "fp32", "fp16": "fp16"}.get(lora.base_dtype, "bf16")
    return replace(setup, precision=compute, grads="low", optimizer_state_dtype="")


def lora_training_memory(model, setup, lora):
    """Per-GPU training memory of a LoRA / QLoRA / DoRA fine-tune: training_memory's terms with the model states
    replaced by lora_model_states and the activations a frozen base and its adapters save (lora_activation_bytes).
    The base runs in its compute dtype (bf16 for int8 / nf4 / bf16 bases, fp16, fp32; lora_compute_setup)."""
    check_lora_setup(setup, model, lora)
    base_setup = lora_compute_setup(setup, lora)
    compute = base_setup.precision
    result = training_memory(model, base_setup)
    states, trainable = lora_model_states(model, setup, lora)
    terms = dict(result["per_gpu"])
    for key in ("fragmentation", "total"):
        terms.pop(key)
    terms.update(states)
    terms["activations"] = lora_activation_bytes(model, base_setup, lora)
    terms["logits_loss"] -= lora_head_input_bytes(model, base_setup)
    overhead = terms.pop("framework_overhead")
    allocated = sum(terms.values())
    terms["fragmentation"] = int(allocated * setup.fragmentation)
    terms["framework_overhead"] = overhead
    terms["total"] = sum(terms.values())
    total = count_params(model)["total"]
    names = sorted(lora_target_names(model, lora.targets))
    result["per_gpu"] = terms
    result["stages"] = {"first": {"terms": terms, "cpu_offloaded_bytes": 0}}
    result["lora"] = dict(asdict(lora), trainable_params=trainable, total_params=total + trainable,
                          trainable_percent=100.0 * trainable / (total + trainable), adapted_modules=names,
                          base_weight_bytes=lora_base_weight_bytes(model, lora))
    a_b = 4 if lora.adapter_dtype == "fp32" else 2
    lines = [
        f"LoRA (peft semantics): rank {lora.rank}, alpha {lora.alpha:g} (scaling alpha/r = {lora.alpha / lora.rank:g};"
        f" no memory effect), targets {lora.targets} -> {', '.join(names)}; {trainable:,} trainable parameters of "
        f"{total + trainable:,} ({100.0 * trainable / (total + trainable):.4f} %)"
        + ("; DoRA magnitude vectors included (DoRA's activations, each adapted weight composed and normed every "
           "forward, are not: a measured step peak 13 % above the LoRA walk's on Llama-3.2-1B, so no step "
           "timeline)" if lora.dora else ""),
        f"frozen base at {lora.base_dtype}" + (
            " (bitsandbytes: every nn.Linear/Conv1D but the LM head quantised; embeddings, norms, biases and the LM "
            "head kept in bf16; CUDA's 512-B rounding per tensor not counted)" if lora.base_dtype in
            ("int8", "nf4", "nf4-dq") else "") + f"; compute (activations) in {compute}",
        f"adapters, their gradients and {setup.optimizer} states at {lora.adapter_dtype} ({a_b} B; peft's "
        "autocast_adapter_dtype upcasts adapters of a 16-bit base to fp32); no master copy",
        "activations: what a frozen base saves at the compute dtype ("
        + ("bitsandbytes' frozen linears keep their inputs (" + ("MatMul8bitLt saves A" if lora.base_dtype == "int8"
                                                                  else "MatMul4Bit saved A before bitsandbytes 0.43.3")
           + ")" if bnb_keeps_input(lora) else "no frozen linear's input" + (
               " (bitsandbytes >= 0.43.3: MatMul4Bit keeps the packed weight only; --bnb-version 0.42.0 for older "
               "releases)" if lora.base_dtype in ("nf4", "nf4-dq") else ""))
        + ", no norm output kept only for a norm weight's gradient, nothing before the first layer's adapters, no "
        "LM-head input) plus each "
        "adapter's input (the same tensor when its dtype is the adapter's, else a cast copy per adapter) and lora_A's "
        "output" + (" and, before each adapter, CUDA dropout's bool mask and its output" if lora.dropout > 0 else
                    " (--lora-dropout 0: no dropout copies)")
        + ("; full recompute (HF gradient checkpointing): every layer's input and one layer recomputed"
           if setup.recompute == "full" else "")
        + "; measured within 3 % of MemTracker on peft-wrapped transformers models (tests/test_mem_lora_timeline.py)",
    ]
    result["assumptions"] = [a for a in result["assumptions"] if not a.startswith("precision ")] + lines
    result["bytes_per_param"] = {"weights": None, "gradients": a_b, "master_weights": 0,
                                 "optimizer_state_dtype": lora.adapter_dtype}
    result["checkpoint"] = {"weights_bytes": a_b * trainable, "full_bytes": a_b * trainable + states[
        "optimizer_states"]}  # peft saves the adapters only
    return result


# ==============================================================================================================
# Training step timeline (issue 12): live bytes through one step instead of a sum of every term
# ==============================================================================================================
# The sum above adds every term as if all were alive at once. They are not: in a Hugging Face / PyTorch training step
# (model(input_ids, labels) -> loss.backward() -> optimizer.step() -> optimizer.zero_grad(set_to_none=True)) the
# gradients do not exist during the forward pass, the fp32 logits and the loss's temporaries are gone before the
# layers' gradients appear, and the activations are freed layer by layer as the gradients are made. step_timeline
# walks the step and reports the largest moment. It is checked against torch.distributed._tools.mem_tracker.MemTracker
# on real transformers models (tests/test_mem_timeline.py; bench/measure_train_peaks.py regenerates the numbers).
OPTIMIZER_IMPLS = ("foreach", "fused", "for-loop")   # torch.optim's three AdamW implementations
ZERO_GRAD_MODES = ("none", "zero")                   # zero_grad(set_to_none=True) (torch >= 2.0 default) | zeroing


def optimizer_step_temporaries(setup, tensors, state_bytes, impl):
    """Bytes torch.optim allocates inside optimizer.step() on top of parameters, gradients and states, for the
    trainable tensors [(ModelTensor, numel)] whose states are `state_bytes` wide.

    AdamW (torch/optim/adam.py): foreach (torch's default on CUDA) runs _multi_tensor_adam, whose only full-size
    intermediate is exp_avg_sq_sqrt = torch._foreach_sqrt(exp_avg_sqs): one state-width copy of every parameter of a
    (device, dtype) group, alive until the final addcdiv_ (weight decay and the moment updates are in place); fused
    (_fused_adamw_) updates in one kernel: nothing; for-loop (_single_tensor_adam, torch's default on the CPU) makes
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps) per tensor: two state-width copies of the largest
    tensor at once. bitsandbytes' 8-bit AdamW updates its uint8 states in one kernel per tensor: nothing counted.
    SGD without momentum updates in place (foreach add_): nothing. Other optimizers: not measured, counted 0 (the
    assumptions say so)."""
    opt = setup.optimizer
    if opt == "adamw":
        if impl == "foreach":
            return state_bytes * sum(n for _, n in tensors)
        if impl == "for-loop":
            return 2 * state_bytes * max((n for _, n in tensors), default=0)
        return 0
    return 0


def timeline_refusal(model, setup):
    """Why no timeline is drawn for this setup (None when one is): the walk covers one device's view of a step
    without model parallelism or sharding (data parallelism adds only its buckets)."""
    if model is None:
        return "--params: no architecture, no timeline"
    if setup.tp * setup.pp * setup.cp * setup.ep > 1:
        return "timeline not modelled with -tp/-pp/--cp/-ep (one device's step only)"
    if setup.sharding != "zero0" or setup.offload_optimizer or setup.offload_params:
        return "timeline not modelled with ZeRO/FSDP sharding or offload"
    if setup.precision in ("fp8",):
        return "timeline not modelled for --precision fp8"
    return None


def _timeline_pieces(model, setup, lora=None):
    """The sizes the walk moves around, per micro-batch, one device: per-layer saved activations, their checkpoint
    (layer input) under full recompute, per-layer gradients and autocast copies, the embedding's and the head's saved
    tensors, the logits in the activation dtype and in fp32, the tied table's gradient."""
    b, s = _micro_batch_tokens(setup)
    T = b * s
    B = _act_bytes(setup)
    h = model.hidden_size
    V = model.padded_vocab
    w_b, g_b, copy_b, m_b = bytes_per_param(setup)
    grad_b = g_b + copy_b
    kinds = [(model.layer_is_moe(i), activation_kind(model, i)) for i in range(model.num_layers)]
    acts = {}
    recompute = "none" if setup.recompute == "full" else setup.recompute
    for kind in set(kinds):
        acts[kind] = activation_sum(layer_activation_tensors(model, setup, kind[0], kind[1], lora=lora), recompute)
    layer_acts = [acts[k] for k in kinds]
    if lora is not None:
        # the first layer reads the frozen embedding's output, which needs no gradient (lora_frozen_base_tensors)
        layer_acts[0] = activation_sum(layer_activation_tensors(model, setup, kinds[0][0], kinds[0][1], lora=lora,
                                                                first_layer=True), recompute)
    # the residual stream is fp32 under autocast (the adds and norms are not autocast): the checkpointed input too
    layer_input = T * h * (4 if setup.precision in AMP_PRECISIONS else B)
    parts = [("moe" if m else "dense") + {"linear": "+linear", "none": "+nomixer"}.get(kind, "") for m, kind in kinds]
    layer_numel = [part_summary(model, part, 1, 1, 1, setup.optimizer)[0]
                   + part_summary(model, part, 1, 1, 1, setup.optimizer)[2] for part in parts]
    first_numel = part_summary(model, "first", 1, 1, 1, setup.optimizer)[0]
    last_numel = part_summary(model, "last", 1, 1, 1, setup.optimizer)[0]
    table = next((t.numel for t in global_tensors(model)[0] if t.role == "embedding"), 0)
    layer_grads = [n * grad_b for n in layer_numel]
    first_grads, last_grads = first_numel * grad_b, last_numel * grad_b
    casts = [0] * model.num_layers
    head_cast = 0
    if setup.precision in AMP_PRECISIONS:
        for i, (m, _) in enumerate(kinds):
            casts[i] = 2 * sum(_local_numel(t, 1, 1, 1, model.kv_heads) for t in layer_tensors(model, m)
                               if not (t.buffer or t.kind == "norm" or t.role == "positions" or t.kind == "table"))
        head_cast = 2 * autocast_cast_numel(model, setup, 0) - sum(casts)
        if lora is not None:
            # a frozen weight's cast is not cached (autocast caches leaf tensors that require grad) and is saved only
            # for its input's gradient: every frozen linear weight's cast whose input needs a gradient (not those
            # reading the first layer's norm output, lora_frozen_base_tensors), no bias casts (a frozen bias needs
            # no gradient); the adapters' own casts are r (in + out) each, not counted
            for i, (m, _) in enumerate(kinds):
                first = {"attention input"} if i == 0 else set()
                if i == 0 and model.norms_per_layer < 2 and not any(
                        lora_linear_name(t) in lora_target_names(model, lora.targets)
                        for t in lora_candidates(layer_tensors(model, m)) if lora_input_group(model, t) ==
                        "attention input" and lora_linear_name(t) in ("gate_proj", "up_proj", "gate_up_proj")):
                    first |= {"down_proj"}  # phi-2's parallel MLP without an adapter needs no gradient
                casts[i] = 2 * sum(_local_numel(t, 1, 1, 1, model.kv_heads) for t in lora_candidates(
                    layer_tensors(model, m)) if lora_input_group(model, t) not in first)
    if lora is not None:
        # a frozen base: gradients only for the adapters (layer by layer: each layer's share of them)
        adapters = lora_adapter_tensors(model, lora)
        a_b = 4 if lora.adapter_dtype == "fp32" else 2
        per_layer = a_b * sum(n for _, n in adapters) // max(1, model.num_layers)
        layer_grads = [per_layer] * model.num_layers
        first_grads = last_grads = 0
    return {
        "T": T, "B": B, "h": h, "V": V,
        "layer_acts": layer_acts, "layer_input": layer_input, "layer_grads": layer_grads,
        # a gated MLP's backward (SwiGLU/GeGLU, HF): the down projection's input gradient and, from act(gate) * up,
        # the gradients of the act output and of up, three tokens x width tensors at once while the saved gate, up
        # and act outputs are still held (measured: MemTracker's live temporaries inside the routed experts' backward
        # of a recomputed Mixtral layer are 3 x top_k T x moe_width + 2 T h, at B)
        "mlp_backward_temps": [_mlp_backward_temporaries(model, setup, m, T, B) for m, _ in kinds],
        # Jamba's Mamba-1 scan loop (mamba_selective_scan): each step's backward of discrete_A[:, :, t] and
        # deltaB_u[:, :, t] is a full (b, d, s, N) fp32 zeros-and-slice gradient added into the two accumulated ones:
        # three such tensors at once, and in a 16-bit model one more (b, d, s, N) at the activation dtype (the
        # gradient reaching a 16-bit operand of the broadcast discretisation products; measured: fp32 2 x 1024
        # -0.9 %, bf16 3 x 1000 and 1 x 2048 within 0.5 %, tests/test_mem_timeline_hybrid.py)
        "mixer_backward_temps": [T * model.mamba1_inner * model.mamba_d_state * (3 * 4 + (B if B != 4 else 0))
                                 if kind == "linear" and model.ssm_kind == "mamba1" else 0 for _, kind in kinds],
        "first_grads": first_grads, "last_grads": last_grads, "casts": casts, "head_cast": head_cast,
        "embedding_acts": embedding_activation_bytes(model, setup) if lora is None else 0,
        # final-norm input and output (the LM head's input) and its statistics: logits_bytes' own head_in; a frozen
        # LM head keeps no input (only its weight's gradient would read it), nor a frozen embedding its ids
        "head_acts": logits_bytes(model, setup) - T * V * (4 if setup.profile == "megatron" else B + 8) - 8 * T
        - (T * model.embed_width * B if lora is not None else 0),
        "logits": T * V * B, "logits_fp32": T * V * 4, "labels": 8 * T,
        "table_grad": table * grad_b if model.tied_embeddings and lora is None else 0,
        # Gemma-2's final_logit_softcapping (Gemma2Config's default 30.0): logits = tanh(logits / cap) * cap, and
        # tanh saves its output (T V B) until the LM head's backward
        "softcap": T * V * B if model.model_type == "gemma2" else 0,
        # eager attention's backward holds the gradient of the attention probabilities next to the saved ones: one
        # b x heads x s x s tensor, fp32 where the softmax runs in fp32 (measured: phi-2, Gemma-2, Llama, recomputed)
        "attention_grad": (b * model.num_attention_heads * s * s * (4 if setup.profile == "hf" and model.softmax_fp32
                                                                     else B)
                           if setup.attn_implementation == "eager" else 0),
    }


def _mlp_backward_temporaries(model, setup, moe, tokens, act_bytes):
    """Bytes a gated MLP's backward holds at once beyond the saved tensors (hf profile): 3 x tokens x width (the
    gradient of act(gate) * up, then those of the act output and of up); routed experts: top_k x tokens at the expert
    width, or the shared experts' if larger. 0 for non-gated MLPs (their measured layer moments need none)."""
    if setup.profile != "hf" or not model.gated_mlp:
        return 0
    if not moe:
        return 3 * tokens * model.ffn_hidden_size * act_bytes
    routed = 3 * tokens * model.top_k * model.moe_width * act_bytes
    shared = 3 * tokens * model.shared_width * act_bytes if model.num_shared_experts else 0
    return max(routed, shared)


def step_timeline(model, setup, static, lora=None, optimizer_impl="foreach", zero_grad="none"):
    """Live bytes through one training step on one device, as a list of events, and the largest of them.

    static: the terms alive the whole step ({weights, master_weights, optimizer_states, comm_buckets}, from the sum).
    Each event is {phase, moment, terms{...}, total}; the terms are the sum's names plus 'temporaries' (what a kernel
    or the autograd engine holds for an instant). The walk, per micro-batch (k of m; gradient accumulation keeps the
    gradients from micro-batch 2 on, and so does zero_grad(set_to_none=False) from the first):

    1. forward, end of the decoder layers: embedding + every layer's saved tensors (full recompute: every layer's
       input only); under autocast the 16-bit weight casts, all alive (they are saved for backward).
    2. forward, loss (transformers' ForCausalLMLoss): + final norm / LM-head inputs, the logits in the activation
       dtype (T V B), their fp32 upcast (logits.float(); the same tensor when B = 4) and cross_entropy's saved
       log-softmax (T V 4); Gemma-2's final soft-cap keeps its tanh output (T V B) until step 4.
    3. backward, loss gradient: the output is dropped before backward (the logits and the upcast freed: HF Trainer's
       compute_loss returns the loss alone); nll_loss_backward's and log_softmax_backward's T x V fp32 gradients
       with the saved log-softmax: 3 T V 4.
    4. backward, LM head: the logits' gradient cast back to B (when B < 4) and the head's weight gradient (tied: the
       table's gradient, held in the autograd input buffer until the embedding adds its own).
    5. backward, decoder layer i (last to first): layers <= i saved tensors (full recompute: layer i recomputed
       whole), the gradients of layers >= i and the head, the gradient flowing in and out (2 T h B), and the larger
       of eager attention's gradient of the attention probabilities (b a s^2, fp32 with an fp32 softmax) and a gated
       MLP's backward gradients (_mlp_backward_temporaries). A LoRA base is frozen: only the adapters' gradients,
       and the layers' saved tensors as lora_frozen_base_tensors says.
    6. backward, embedding: every gradient; a tied table's two partial gradients and their sum (3 V h, measured).
    7. optimizer step: + optimizer_step_temporaries.
    8. zero_grad: gradients freed (set_to_none) or kept (zero)."""
    P = _timeline_pieces(model, setup, lora)
    n_layers = model.num_layers
    m = micro_batches(setup)
    G = sum(P["layer_grads"]) + P["first_grads"] + P["last_grads"]
    events = []

    def event(phase, moment, **terms):
        t = dict(static)
        for key, value in terms.items():
            t[key] = t.get(key, 0) + value
        t = {k: v for k, v in t.items()}
        events.append({"phase": phase, "moment": moment, "terms": t, "total": sum(t.values())})

    acts_all = sum(P["layer_acts"]) if setup.recompute != "full" else P["layer_input"] * n_layers
    casts_all = sum(P["casts"]) + P["head_cast"]
    mb_names = range(min(m, 2))  # micro-batch 1, and 2 standing for 2..m (the same bytes)
    for k in mb_names:
        label = "" if m == 1 else (" (micro-batch 1)" if k == 0 else f" (micro-batches 2-{m})")
        grads = G if (k > 0 or zero_grad == "zero") else 0
        held = P["embedding_acts"] + acts_all
        event("forward" + label, "after the decoder layers", gradients=grads, activations=held,
              autocast_weight_copies=casts_all)
        event("forward" + label, "loss: logits, fp32 upcast, log-softmax", gradients=grads, activations=held,
              autocast_weight_copies=casts_all,
              logits_loss=P["head_acts"] + P["softcap"] + P["logits"] + (P["logits_fp32"] if P["B"] != 4 else 0)
              + P["logits_fp32"] + P["labels"])
        event("backward" + label, "loss gradient (nll and log-softmax)", gradients=grads, activations=held,
              autocast_weight_copies=casts_all,
              logits_loss=P["head_acts"] + P["softcap"] + P["logits_fp32"] + P["labels"],
              temporaries=2 * P["logits_fp32"])
        head_grad = P["last_grads"] + (P["table_grad"] if P["table_grad"] else 0)
        event("backward" + label, "LM head", gradients=grads + (head_grad if not grads else 0),
              activations=held, autocast_weight_copies=casts_all,
              logits_loss=P["head_acts"] + P["softcap"] + (P["logits"] if P["B"] != 4 else P["logits_fp32"]),
              temporaries=P["T"] * P["h"] * P["B"] + (head_grad if grads else 0))
        worst = None
        for i in reversed(range(n_layers)):
            if setup.recompute == "full":
                saved = P["embedding_acts"] + P["layer_input"] * (i + 1) + P["layer_acts"][i]
            else:
                saved = P["embedding_acts"] + sum(P["layer_acts"][: i + 1])
            new_grads = head_grad + sum(P["layer_grads"][i:])
            g_now = grads if grads else new_grads
            # the attention's and the MLP's backward temporaries come at different moments: the larger counts
            temps = (2 * P["T"] * P["h"] * P["B"] + max(P["attention_grad"], P["mlp_backward_temps"][i],
                                                         P["mixer_backward_temps"][i])
                     + (P["layer_grads"][i] if grads else 0))
            e = (saved + g_now + temps + sum(P["casts"][: i + 1]), i, saved, g_now, temps)
            if worst is None or e[0] > worst[0]:
                worst = e
        _, i, saved, g_now, temps = worst
        event("backward" + label, f"decoder layer {i} (the largest)", gradients=g_now, activations=saved,
              autocast_weight_copies=sum(P["casts"][: i + 1]), temporaries=temps)
        event("backward" + label, "embedding (end of backward)", gradients=G,
              temporaries=2 * P["table_grad"] + (P["first_grads"] if grads else 0))
    opt_temps = optimizer_step_temporaries(setup, _timeline_trainable(model, lora), optimizer_state_width(setup)
                                           if lora is None else (4 if lora.adapter_dtype == "fp32" else 2),
                                           optimizer_impl)
    event("optimizer step", f"AdamW {optimizer_impl}" if setup.optimizer == "adamw" else setup.optimizer,
          gradients=G, temporaries=opt_temps)
    event("zero_grad", "set_to_none=True: gradients freed" if zero_grad == "none" else "gradients zeroed, kept",
          gradients=G if zero_grad == "zero" else 0)
    peak = max(events, key=lambda e: e["total"])
    return {"events": events, "peak": peak, "micro_batches": m, "optimizer_impl": optimizer_impl,
            "zero_grad": zero_grad}


def _timeline_trainable(model, lora):
    """[(ModelTensor, numel)] the optimizer steps: every parameter, or the adapters."""
    if lora is not None:
        return lora_adapter_tensors(model, lora)
    return [(t, t.numel) for i, t in model_param_tensors(model) if not t.buffer and i < model.num_layers]


def attach_timeline(result, model, setup, lora=None, optimizer_impl="foreach", zero_grad="none", trainer="hf"):
    """Add result["timeline"] (step_timeline over the sum's model states) and its assumption lines; the per-term
    table stays the sum. None with the reason where the walk does not apply."""
    why = timeline_refusal(model, setup)
    if why is None and lora is not None and lora.dora:
        # measured (peft 0.21, Llama-3.2-1B cut to 2 layers, all-linear r 16, bf16 base, 2 x 2048): the peak is 13 %
        # above the LoRA walk's; DoRA's forward composes each adapted weight (out x in) and its column norms anew,
        # which the walk does not hold
        why = "timeline not modelled with --dora (its per-forward weight norms are not counted)"
    if why is not None:
        result["timeline"] = None
        result["timeline_refusal"] = why
        return result
    terms = result["per_gpu"]
    static = {k: terms.get(k, 0) for k in ("weights", "master_weights", "optimizer_states", "comm_buckets")}
    if lora is not None:
        setup = lora_compute_setup(setup, lora)  # activations at the base's compute width
    if trainer == "litgpt":
        tl = litgpt_step_timeline(model, setup, static, lora)
    else:
        tl = step_timeline(model, setup, static, lora, optimizer_impl, zero_grad)
    frag = setup.fragmentation
    peak = tl["peak"]
    tl["peak_total"] = peak["total"] + int(peak["total"] * frag) + setup.overhead
    result["timeline"] = tl
    result["assumptions"].append(
        f"step timeline: the largest moment is {peak['phase']}: {peak['moment']}, {gib(peak['total']):.2f} GiB "
        f"allocated ({gib(tl['peak_total']):.2f} GiB with fragmentation and overhead) against the sum's "
        f"{gib(terms['total']):.2f} GiB; "
        + ("LitGPT 0.4 lora.py loop (chunked head and loss, Fabric's fp32 logits copies, `logits` and `loss` bound "
           "until the next micro-batch), "
           + ("bnb PagedAdamW" if litgpt_quantized_head(lora) else "torch AdamW foreach")
           + ", zero_grad(set_to_none=True)" if trainer == "litgpt" else
           f"Hugging Face loop (ForCausalLMLoss, output dropped before backward), "
           f"torch AdamW {optimizer_impl}, zero_grad(set_to_none={zero_grad == 'none'})"
           + ("" if setup.optimizer in ("adamw", "adamw-8bit", "sgd") else
              f"; {setup.optimizer}'s step temporaries not measured, counted 0")))
    return result


# --------------------------------------------------------------------------------------------------------------
# --trainer litgpt: LitGPT 0.4's finetune/lora.py loop and Lightning Fabric's plugins, in place of Hugging Face's loop
# --------------------------------------------------------------------------------------------------------------
# What LitGPT's own training step holds that the Hugging Face walk above does not, each piece measured on LitGPT 0.4.3's
# code on fake tensors (bench/measure_litgpt_peaks.py; the figures and hand counts in
# tests/test_mem_published_finetune.py) and read from the code it runs:
#   * litgpt/lora.py's LoRAQKVLinear (one fused qkv linear with adapters on its q and v slices): zero_pad's
#     index_copy_ keeps lora_B's q + v output; with multi-head attention v is a view of the fused qkv output, so the
#     attention's saved v keeps the whole fused storage, and with grouped queries k and v are expanded to every query
#     head before scaled_dot_product_attention; one lora_dropout on the fused input where peft has one per adapter;
#   * litgpt/finetune/lora.py fit(): "logits = model(input_ids, lm_head_chunk_size=128)", "loss =
#     chunked_cross_entropy(logits, targets[..., 1:])", backward, "optimizer.step()" / "optimizer.zero_grad()" after
#     the accumulation; `logits` and `loss` stay bound until the next micro-batch rebinds them, so the previous
#     micro-batch's fp32 logits live through the next forward and its graph until the next loss exists;
#   * lightning/fabric/wrappers.py _FabricModule.forward -> precision.convert_output: "apply_to_collection(data,
#     function=_convert_fp_tensor, dtype=Tensor, dst_type=torch.get_default_dtype())" (fp32 outside the forward
#     context): every 128-token logits chunk copied to fp32, all chunks at once;
#   * lightning/fabric/plugins/precision/bitsandbytes.py (quantize: bnb.nf4 / bnb.nf4-dq): every nn.Linear converted,
#     the LM head too (LitGPT passes no ignore_modules), quantized from fp16 ("w = weight.contiguous().to(device=device,
#     dtype=torch.half)"); bitsandbytes' MatMul4Bit.forward "F.dequantize_4bit(B, quant_state).to(A.dtype)" makes an
#     fp16 and a bf16 copy of the whole weight per call (the head: per chunk, in forward and backward), and before
#     0.43.3 "ctx.tensors = (A, B)" keeps the input as an attribute of the graph node (freed with the graph, not by
#     backward);
#   * litgpt/utils.py instantiate_bnb_optimizer: under BitsandbytesPrecision the optimizer is bnb.optim.PagedAdamW
#     (optim/optimizer.py get_state_buffer: "if not self.is_paged or p.numel() < 1e5: return torch.zeros_like(p,
#     dtype=dtype, device=p.device)", else F.get_paged: CUDA unified memory outside PyTorch's allocator; fp32 states;
#     one in-place kernel per tensor); otherwise torch.optim.AdamW (foreach on CUDA) with bf16 states (bf16-true).
TRAINERS = ("hf", "litgpt")
LITGPT_LM_HEAD_CHUNK = 128        # lora.py: model(input_ids, lm_head_chunk_size=128)
BNB_PAGED_MIN_NUMEL = 100_000     # bitsandbytes get_state_buffer: smaller tensors keep torch.zeros_like states
LITGPT_MODEL_TYPES = ("llama", "mistral")  # the Llama-style blocks measured (Llama-2-7B, Llama-3-8B, Mistral-7B)


def litgpt_refusal(model, setup, lora, optimizer_impl="foreach", zero_grad="none"):
    """Why --trainer litgpt does not apply (None when it does): only what was measured on LitGPT's code, or read from
    it and counted to the byte, is modelled: lora.py's LoRA/QLoRA step, precision bf16-true, LoRA on q and v with
    dropout, one device, no activation checkpointing, a Llama-style block."""
    if lora is None:
        return ("--trainer litgpt models litgpt/finetune/lora.py only: give --lora-rank (litgpt finetune full / "
                "adapter are not modelled)")
    if setup.profile != "hf":
        return "--trainer litgpt needs --profile hf (LitGPT's saved tensors are counted on the Hugging Face layer list)"
    if setup.attn_implementation != "sdpa":
        return "--trainer litgpt needs --attn-implementation sdpa (LitGPT's attention is scaled_dot_product_attention)"
    if setup.recompute != "none":
        return "--trainer litgpt with activation checkpointing is not modelled (lora.py runs none)"
    if setup.num_gpus > 1 or setup.dp > 1:
        return ("--trainer litgpt on more than one GPU is not modelled (lora.py then runs FSDPStrategy); give "
                "--num-gpus 1")
    m = model
    unlike_llama = [what for what, differs in (
        (f"model type {m.model_type or 'unnamed'}", m.model_type not in LITGPT_MODEL_TYPES),
        ("routed experts", m.is_moe), ("a non-gated MLP", not m.gated_mlp),
        ("fused q/k/v or gate/up tensors", m.fused_qkv or m.fused_gate_up),
        ("biases", m.qkv_bias or m.o_bias or m.mlp_bias or m.lm_head_bias),
        ("a non-RMSNorm or non-pre-norm block", m.norm != "rmsnorm" or m.norms_per_layer != 2
         or m.norm_placement != "pre" or m.norm_fp32_scale),
        ("q/k norms", m.qk_norm != "none"), ("tied embeddings", m.tied_embeddings),
        ("non-rotary positions", m.position_embedding != "rotary"), ("MLA", bool(m.kv_lora_rank)),
        ("per-layer attention or mixer types", bool(m.layer_types or m.mixer_types)),
        ("attention sinks", m.attention_sinks),
        ("head_dim x heads != hidden size", m.num_attention_heads * m.d_head != m.hidden_size)) if differs]
    if unlike_llama:
        return (f"--trainer litgpt with {unlike_llama[0]} is not modelled (measured on Llama-style decoders only: "
                "Llama-2-7B, Llama-3-8B, Mistral-7B)")
    if m.sliding_window and setup.seq_len > m.sliding_window:
        return "--trainer litgpt beyond the sliding window is not modelled (-s must be <= the window)"
    if lora_target_names(model, lora.targets) != frozenset({"q_proj", "v_proj"}):
        return "--trainer litgpt models lora_query + lora_value only (the recipes'); give --lora-targets q,v"
    if lora.dropout <= 0:
        return "--trainer litgpt is measured with lora_dropout > 0 (the recipes' 0.05); give --lora-dropout"
    if lora.dora:
        return "--trainer litgpt with --dora is not modelled"
    if lora.adapter_dtype != "bf16" or lora.base_dtype not in ("bf16", "nf4", "nf4-dq"):
        return ("--trainer litgpt models precision bf16-true: --adapter-dtype bf16 and --base-dtype bf16, nf4 or "
                "nf4-dq (quantize bnb.nf4 / bnb.nf4-dq; int8 and fp4 are not modelled)")
    if setup.optimizer != "adamw":
        return "--trainer litgpt models the recipes' AdamW only (-opt adamw)"
    if optimizer_impl != "foreach" or zero_grad != "none":
        return ("--trainer litgpt picks its optimizer's implementation and zero_grad(set_to_none=True) itself; "
                "drop --optimizer-impl / --zero-grad")
    return None


def litgpt_quantized_head(lora):
    """Fabric's BitsandbytesPrecision quantizes the LM head too (no ignore_modules in LitGPT)."""
    return lora.base_dtype in ("nf4", "nf4-dq")


def litgpt_qkv_widths(model):
    """(q, one of k / v) output widths of the fused qkv linear: heads x head_dim, kv_heads x head_dim."""
    return model.num_attention_heads * model.d_head, model.kv_heads * model.d_head


def litgpt_layer_extra_bytes(model, setup, lora):
    """What one LitGPT LoRA layer saves per micro-batch beyond the peft layer layer_activation_tensors lists (q and v
    adapted, dropout > 0, activation width B), by hand from litgpt/lora.py and checked to the byte against LitGPT's
    code on fake tensors (tests/test_mem_published_finetune.py, 3 layers less 2):
    + zero_pad's index_copy_ keeps its source, lora_B's output at the q + v width;
    + multi-head (kv heads = heads): v is a view of the fused qkv output, so SDPA's saved v keeps the q and k part of
      that storage too (q + k widths); grouped queries: k and v expanded to every query head before SDPA, 2 (q - kv)
      wider than the grouped tensors;
    - one dropout (bool mask 1 B + output B per element) on the fused input where peft has one per adapter (2)."""
    b, s = _micro_batch_tokens(setup)
    T, B, h = b * s, _act_bytes(setup), model.hidden_size
    q, kv = litgpt_qkv_widths(model)
    index_copy_source = (q + kv) * B
    fused = (q + kv) * B if kv == q else 2 * (q - kv) * B
    return T * (index_copy_source + fused - (1 + B) * h)


def litgpt_adapter_shapes(model, lora):
    """LoRAQKVLinear's trainable tensors per layer: lora_A (r x enabled slices, in), lora_B (q + v widths, r)."""
    q, kv = litgpt_qkv_widths(model)
    return [(2 * lora.rank, model.hidden_size), (q + kv, lora.rank)]


def litgpt_optimizer_states(model, lora):
    """(bytes in PyTorch's allocator, bytes paged outside it) of the optimizer states: torch AdamW's two bf16 states
    per adapter element (bf16-true) for a bf16 base; bitsandbytes' PagedAdamW (quantized base) keeps two fp32 states,
    paged (CUDA unified memory, not in torch.cuda.max_memory_allocated) for tensors of 1e5 elements or more."""
    shapes = litgpt_adapter_shapes(model, lora) * model.num_layers
    if not litgpt_quantized_head(lora):
        return 2 * 2 * sum(math.prod(s) for s in shapes), 0
    small = sum(math.prod(s) for s in shapes if math.prod(s) < BNB_PAGED_MIN_NUMEL)
    large = sum(math.prod(s) for s in shapes if math.prod(s) >= BNB_PAGED_MIN_NUMEL)
    return 2 * 4 * small, 2 * 4 * large


def litgpt_head_weight_bytes(model, lora):
    """Stored bytes of LitGPT's LM head: bf16, or bitsandbytes' 4-bit layout when Fabric quantizes it."""
    n = model.padded_vocab * model.embed_width
    return quantized_linear_bytes(n, model.padded_vocab, lora.base_dtype) if litgpt_quantized_head(lora) else 2 * n


def litgpt_layer_ctx_inputs(model, setup, lora, i):
    """(listed, proj_input) bytes of layer i's inputs that bitsandbytes < 0.43.3 keeps as MatMul4Bit ctx attributes,
    one micro-batch (setup: the compute setup): `listed` are the frozen linears' inputs the layer list already counts
    as kept (qkv's input, none in the first layer, whose input needs no gradient; the MLP's input, one tensor for
    fc_1 and fc_2; the MLP projection's input); `proj_input` is the attention projection's input, LitGPT's "y =
    y.reshape(B, T, head_size * n_head)" of SDPA's transposed output: a contiguous copy where SDPA returns a
    (B, heads, T, head_dim)-laid tensor (as the fake-tensor measurement's kernel does), beside the output SDPA saves.
    Checked to the byte: a QLoRA layer of LitGPT's code on fake tensors (3 layers less 2) holds the layer list's
    tensors + litgpt_layer_extra_bytes + this copy + the previous micro-batch's inputs (tests). (0, 0) when the base keeps no input (bf16, or bitsandbytes >= 0.43.3)."""
    if not bnb_keeps_input(lora):
        return 0, 0
    tensors = layer_activation_tensors(model, setup, False, activation_kind(model, i), lora=lora, first_layer=i == 0)
    b, s = _micro_batch_tokens(setup)
    listed = sum(t["bytes"] for t in tensors if t["weight_grad_only"] and t["reads"])
    return listed, b * s * litgpt_qkv_widths(model)[0] * _act_bytes(setup)


def litgpt_ctx_held_bytes(model, setup, lora):
    """One micro-batch's inputs bitsandbytes < 0.43.3 keeps as MatMul4Bit ctx attributes (alive with the graph):
    every frozen 4-bit linear's input in the decoder layers (litgpt_layer_ctx_inputs) and the quantized LM head's
    input chunks (the final norm's output, T x h at B). By hand (tests): T B (layers (3 h + MLP width) - h + h)."""
    if not bnb_keeps_input(lora):
        return 0
    cs = lora_compute_setup(setup, lora)
    b, s = _micro_batch_tokens(cs)
    return (sum(sum(litgpt_layer_ctx_inputs(model, cs, lora, i)) for i in range(model.num_layers))
            + b * s * model.embed_width * _act_bytes(cs))


def litgpt_training_memory(model, setup, lora):
    """lora_training_memory's terms as LitGPT's lora.py holds them: the LM head quantized with the base (Fabric),
    each layer's fused-qkv tensors (litgpt_layer_extra_bytes), the quantized head's input kept by bitsandbytes < 0.43.3,
    and the optimizer states in PyTorch's allocator (PagedAdamW pages its large states outside it). The logits/loss
    row stays the Hugging Face loss's maximum (the sum); the step timeline walks LitGPT's chunked loss."""
    result = lora_training_memory(model, setup, lora)
    terms = dict(result["per_gpu"])
    for key in ("fragmentation", "total", "framework_overhead"):
        terms.pop(key)
    head_delta = litgpt_head_weight_bytes(model, lora) - 2 * model.padded_vocab * model.embed_width
    in_allocator, paged = litgpt_optimizer_states(model, lora)
    extra = model.num_layers * litgpt_layer_extra_bytes(model, lora_compute_setup(setup, lora), lora)
    b, s = _micro_batch_tokens(setup)
    head_input = b * s * model.embed_width * 2 if litgpt_quantized_head(lora) and bnb_keeps_input(lora) else 0
    proj_inputs = sum(litgpt_layer_ctx_inputs(model, lora_compute_setup(setup, lora), lora, i)[1]
                      for i in range(model.num_layers))
    terms["weights"] += head_delta
    terms["optimizer_states"] = in_allocator
    terms["comm_buckets"] = 0  # one device: Fabric's SingleDeviceStrategy, no DDP buckets
    terms["activations"] += extra + head_input + proj_inputs
    allocated = sum(terms.values())
    terms["fragmentation"] = int(allocated * setup.fragmentation)
    terms["framework_overhead"] = setup.overhead
    terms["total"] = sum(terms.values())
    result["per_gpu"] = terms
    result["stages"] = {"first": {"terms": terms, "cpu_offloaded_bytes": 0}}
    result["lora"]["base_weight_bytes"] += head_delta
    held = litgpt_ctx_held_bytes(model, setup, lora)
    head_copies = 2 * model.padded_vocab * model.embed_width * 2 if litgpt_quantized_head(lora) else 0
    result["litgpt"] = {"layer_extra_bytes": extra // model.num_layers, "head_weight_bytes":
                        litgpt_head_weight_bytes(model, lora), "previous_graph_inputs_bytes": held,
                        "head_dequant_copies_bytes": head_copies, "paged_optimizer_state_bytes": paged,
                        "optimizer_states_in_allocator_bytes": in_allocator}
    kept = []
    for line in result["assumptions"]:
        if line.startswith(("frozen base at", "adapters, their gradients", "communication buckets")):
            continue  # peft's and DDP's, replaced by LitGPT's below
        kept.append(line.replace("LoRA (peft semantics)", "LoRA (LitGPT's LoRAQKVLinear, as many trainable "
                                 "parameters as peft's)", 1))
    result["assumptions"] = kept + litgpt_assumptions(lora, extra // model.num_layers, held, head_copies, paged)
    result["bytes_per_param"]["optimizer_state_dtype"] = "fp32 (paged)" if litgpt_quantized_head(lora) else "bf16"
    return result


def litgpt_assumptions(lora, layer_extra, held, head_copies, paged):
    """The lines --trainer litgpt adds to the output: what it assumes, each with its source."""
    q = litgpt_quantized_head(lora)
    lines = [
        "trainer litgpt: LitGPT 0.4 litgpt/finetune/lora.py with Lightning Fabric on one device (no DDP buckets), "
        "precision bf16-true (weights, adapters and their gradients bf16; frozen base "
        + (f"bnb.{lora.base_dtype}: every nn.Linear quantized, the LM head included; embeddings and norms bf16"
           if q else "bf16") + "), LoRA on the fused qkv's q and v slices (LoRAQKVLinear: "
        "zero_pad's index_copy_ source, the fused v / expanded k and v SDPA saves, one dropout: "
        f"{layer_extra / 1e6:,.1f} MB per layer beyond peft's, checked to the byte on LitGPT 0.4.3's code on fake "
        "tensors)",
        "trainer litgpt loss: model(input_ids, lm_head_chunk_size=128), Fabric's convert_output copying every logits "
        "chunk to fp32, chunked_cross_entropy; `logits` and `loss` stay bound until the next micro-batch rebinds "
        "them (the previous fp32 logits live through the next forward); the table's logits/loss row is the Hugging "
        "Face loss's sum, the step timeline walks LitGPT's",
    ]
    if q:
        lines.append(
            f"trainer litgpt quantize bnb.{lora.base_dtype}: Fabric's BitsandbytesPrecision quantizes every "
            "nn.Linear including the LM head (from fp16): each 128-token chunk dequantizes the whole head to fp16 and "
            f"copies it to bf16 ({gib(head_copies):.2f} GiB at once, in the head's forward and backward); "
            "bitsandbytes.optim.PagedAdamW with fp32 states, "
            f"{gib(paged):.3f} GiB paged in CUDA unified memory outside PyTorch's allocator (not counted; tensors "
            "under 1e5 elements keep theirs in it)")
        if bnb_keeps_input(lora):
            lines.append(
                "trainer litgpt with bitsandbytes < 0.43.3 (LitGPT 0.4 supports 0.42.0 only): MatMul4Bit keeps each "
                "frozen 4-bit linear's input as ctx.tensors, freed with the graph, which `loss` holds until the next "
                f"micro-batch's loss: the previous micro-batch's inputs ({gib(held):.2f} GiB) live through the next "
                "forward, the current ones through backward and the optimizer step")
        else:
            lines.append("trainer litgpt with bitsandbytes >= 0.43.3 (--bnb-version; LitGPT 0.4 warns that it "
                         "supports 0.42.0 only, which the published recipes ran): MatMul4Bit keeps no input")
    else:
        lines.append("trainer litgpt optimizer: torch.optim.AdamW (foreach, as on CUDA) with bf16 states")
    lines.append("trainer litgpt not counted: the RoPE cos/sin cache (max_seq_length x head_dim, < 1 MB at 512 "
                 "tokens), the CUDA allocator's block rounding; steady state (the previous micro-batch's leftovers "
                 "exist from the second micro-batch of training on)")
    return lines


def litgpt_step_timeline(model, setup, static, lora):
    """Live bytes through LitGPT's lora.py step (setup: the base's compute setup, lora_compute_setup), in
    step_timeline's format. Per micro-batch, in the steady state (from the second micro-batch of training on the
    previous one's `logits`, and with bitsandbytes < 0.43.3 its graph's 4-bit inputs, are still bound):

    1. forward, end of the decoder layers: every layer's saved tensors (peft's layer list + litgpt_layer_extra_bytes),
       the previous fp32 logits and the previous graph's 4-bit inputs; a 4-bit linear's fp16 + bf16 dequantized
       weight as the instant's temporaries (the largest linear of a layer).
    2. forward, LM head, the last 128-token chunk: + the final norm's saved tensors (and, quantized, its input kept by
       the head's MatMul4Bit), the earlier chunks' bf16 logits, and the head's two dequantized copies (2 V h x 2 B;
       with a bf16 head, the chunk's own output instead).
    3. forward, Fabric's convert_output: every chunk in bf16 and its fp32 copy, beside the previous fp32 logits.
    4. loss, chunked_cross_entropy: the previous logits freed (rebound); the fp32 logits (the last chunk sliced by one
       position, a view), each chunk's saved log-softmax ((T - b) V 4 in all) and, for b > 1, the sliced chunk's
       contiguous copy (reshape of a non-contiguous view); the previous graph's inputs still held (`loss` is rebound
       when chunked_cross_entropy returns).
    5. backward, the first chunk's loss gradient: the previous graph freed; nll's and log-softmax's gradients of one
       chunk (2 c V 4) beside every chunk's saved log-softmax.
    6. backward, LM head (first chunk): its gradient in bf16 (c V B), the head's input gradient gathered for the split
       (T h B), the two dequantized copies of a quantized head; the other chunks' log-softmax still saved.
    7. backward, decoder layer i (last to first): as step_timeline's, with `logits` (fp32) still bound and every
       4-bit input kept by ctx.tensors (bitsandbytes < 0.43.3: not freed by backward).
    8. backward end, optimizer step (torch AdamW foreach: one state-width sqrt copy; PagedAdamW: one in-place kernel,
       nothing), zero_grad(set_to_none=True); `logits` and the graph still bound."""
    P = _timeline_pieces(model, setup, lora)
    T, B, h, V = P["T"], P["B"], model.embed_width, P["V"]
    b, s = _micro_batch_tokens(setup)
    n = model.num_layers
    m = micro_batches(setup)
    G = sum(P["layer_grads"])
    quantized = litgpt_quantized_head(lora)
    extra = litgpt_layer_extra_bytes(model, setup, lora)
    held = litgpt_ctx_held_bytes(model, setup, lora)
    head_in = T * h * B if quantized and bnb_keeps_input(lora) else 0
    held_layers = held - head_in
    # the layers' saved tensors that backward frees (the ctx-held 4-bit inputs are not among them)
    ctx = [litgpt_layer_ctx_inputs(model, setup, lora, i) for i in range(n)]
    freed = [P["layer_acts"][i] + extra - listed for i, (listed, _) in enumerate(ctx)]  # what backward frees
    acts_all = sum(freed) + held_layers
    logits32, logits16 = T * V * 4, T * V * B
    last_chunk = b * (s - LITGPT_LM_HEAD_CHUNK * ((s - 1) // LITGPT_LM_HEAD_CHUNK))  # tokens of the last chunk
    first_chunk = b * min(s, LITGPT_LM_HEAD_CHUNK)
    head_copies = 2 * V * h * 2 if quantized else 0
    largest_linear = max(t.numel for t in lora_candidates(layer_tensors(model, False)))
    linear_copies = 2 * largest_linear * 2 if quantized else 0
    log_softmax = (T - b) * V * 4
    sliced_copy = (last_chunk - b) * V * 4 if b > 1 else 0
    events = []

    def event(phase, moment, **terms):
        t = dict(static)
        for key, value in terms.items():
            t[key] = t.get(key, 0) + value
        events.append({"phase": phase, "moment": moment, "terms": t, "total": sum(t.values())})

    for k in range(min(m, 2)):
        label = "" if m == 1 else (" (micro-batch 1)" if k == 0 else f" (micro-batches 2-{m})")
        grads = G if k > 0 else 0
        prev = logits32 + held  # the previous micro-batch's `logits` and graph inputs
        event("forward" + label, "decoder layers done, previous logits kept",
              gradients=grads, activations=acts_all, logits_loss=prev, temporaries=linear_copies)
        head_moment = (max(head_copies, V * h * 2 + last_chunk * V * B) if quantized else last_chunk * V * B)
        event("forward" + label, "LM head, last chunk" + (" (head dequantized)" if quantized else ""),
              gradients=grads, activations=acts_all,
              logits_loss=prev + P["head_acts"] + head_in + logits16 - last_chunk * V * B, temporaries=head_moment)
        event("forward" + label, "Fabric: logits chunks copied to fp32", gradients=grads,
              activations=acts_all, logits_loss=prev + P["head_acts"] + head_in + logits16 + logits32)
        event("forward" + label, "chunked_cross_entropy (previous logits freed)", gradients=grads,
              activations=acts_all, logits_loss=held + P["head_acts"] + head_in + logits32 + log_softmax
              + sliced_copy + P["labels"])
        event("backward" + label, "loss gradient, first chunk", gradients=grads,
              activations=acts_all, logits_loss=P["head_acts"] + head_in + logits32 + log_softmax,
              temporaries=2 * first_chunk * V * 4)
        event("backward" + label, "LM head, first chunk" + (" (head dequantized)" if quantized else ""),
              gradients=grads, activations=acts_all,
              logits_loss=P["head_acts"] + head_in + logits32 + log_softmax - first_chunk * V * 4,
              temporaries=first_chunk * V * B + T * h * B + head_copies)
        worst = None
        for i in reversed(range(n)):
            saved = sum(freed[: i + 1]) + held_layers
            g_now = grads if grads else sum(P["layer_grads"][i:])
            temps = (2 * T * h * B + max(P["mlp_backward_temps"][i], linear_copies)
                     + (P["layer_grads"][i] if grads else 0))
            e = (saved + g_now + temps, i, saved, g_now, temps)
            if worst is None or e[0] > worst[0]:
                worst = e
        _, i, saved, g_now, temps = worst
        event("backward" + label, f"decoder layer {i} (the largest)", gradients=g_now,
              activations=saved, logits_loss=logits32 + head_in, temporaries=temps)
        event("backward" + label, "embedding (end of backward)", gradients=G, activations=held_layers,
              logits_loss=logits32 + head_in)
    adapters = [(None, math.prod(sh)) for sh in litgpt_adapter_shapes(model, lora) * n]
    opt_temps = 0 if quantized else optimizer_step_temporaries(setup, adapters, 2, "foreach")
    event("optimizer step", "bnb PagedAdamW (in place)" if quantized else "AdamW foreach", gradients=G,
          activations=held_layers, logits_loss=logits32 + head_in, temporaries=opt_temps)
    event("zero_grad", "set_to_none=True: gradients freed", activations=held_layers,
          logits_loss=logits32 + head_in)
    peak = max(events, key=lambda e: e["total"])
    return {"events": events, "peak": peak, "micro_batches": m, "optimizer_impl": "paged" if quantized else "foreach",
            "zero_grad": "none", "trainer": "litgpt"}


# --------------------------------------------------------------------------------------------------------------
# Inference memory
# --------------------------------------------------------------------------------------------------------------
# KV-cache element types are the block's (KV_CACHE_DTYPES, kv_cache_dtype, kv_row_bytes: one table with the
# quantization script). Weight types are this script's own: every parameter at one width (--bits-per-weight for more).
WEIGHT_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4}


def kv_cache_bytes(model, batch, context, kv_dtype="bf16", tp=1, convention="window", layers=None):
    """Exact KV-cache bytes for `batch` sequences of `context` tokens on one of `tp` ranks.

    Per token and layer: 2 x kv_heads x head_dim elements (MHA/GQA/MQA), or kv_lora_rank + qk_rope_head_dim for
    MLA (one latent yields both K and V, DeepSeek-V2 paper Sec. 2.1), plus index_head_dim for the DSA indexer's key
    (DeepSeek-V3.2, GLM-5: transformers' DynamicIndexedLayer keeps it beside the latent, one more row). Sliding layers hold min(context, window)
    tokens ('window', static caches / vLLM) or min(context, window - 1) ('hf-dynamic': transformers'
    DynamicSlidingWindowLayer keeps the last window - 1 tokens; its MLA cache holds the latent, as here).
    kv_heads split over tp (one head per rank when fewer); the MLA latent is replicated on every TP rank.
    `kv_dtype`: any spelling the block's kv_cache_dtype knows (f16 = fp16, ...); a row (one token's K, or V, or
    MLA latent, of one layer on one rank) costs the block's kv_row_bytes: llama.cpp's q8_0 ... iq4_nl blocks include
    their scales (and need rows of whole 32-value blocks), fp8 / int8 / int4 have no per-block scales.
    `layers`: only these layer indices (a pipeline stage); bytes_per_token always covers the whole model."""
    kv_dtype = kv_cache_dtype(kv_dtype, "--kv-dtype")
    per_layer_type = {}
    total = 0
    per_token = 0
    for i in range(model.num_layers):
        if not model.layer_has_attention(i):  # a gated delta-net layer caches no K/V: its fixed state is
            # linear_state_bytes; Nemotron-H's MLP / MoE layers cache nothing
            continue
        if model.layer_kv_shared(i):  # Gemma 4: a KV-shared layer reads an earlier layer's K/V and caches none
            continue  # (transformers' DynamicCache gives it a "dummy" layer, cache_utils.py)
        kind = model.layer_attention(i)
        if model.is_mla:  # one latent row per token yields both K and V
            row_bytes = kv_row_bytes(model.kv_lora_rank + model.qk_rope_head_dim, kv_dtype, "--kv-dtype")
            if model.has_indexer:  # DSA (DeepSeek-V3.2, GLM-5): the indexer's one key per token, replicated too
                row_bytes += kv_row_bytes(model.index_head_dim, kv_dtype, "--kv-dtype")
        else:  # a K row and a V row of heads x head_dim values each
            cached = model.num_attention_heads if model.hf_kv_broadcast and convention == "hf-dynamic" \
                else model.layer_kv_heads(i)  # MiMo-V2-Flash: its sliding layers cache twice the KV heads
            heads = kv_heads_per_rank(cached, tp)
            # MiMo-V2-Flash: values narrower than keys (v_head_dim 128 beside head_dim 192); Gemma 4: each layer's
            # own head width (global_head_dim on the full layers)
            row_bytes = kv_row_bytes(heads * model.layer_head_dim(i), kv_dtype, "--kv-dtype") \
                + kv_row_bytes(heads * model.layer_v_dim(i), kv_dtype, "--kv-dtype")
        tokens = model.kv_tokens_held(i, context, convention)  # the block's rule, quantization's too
        per_token += row_bytes
        if layers is not None and i not in layers:
            continue
        layer_bytes = row_bytes * tokens * batch
        total += layer_bytes
        entry = per_layer_type.setdefault(kind, {"layers": 0, "bytes": 0, "tokens_held": tokens})
        entry["layers"] += 1
        entry["bytes"] += layer_bytes
    return {"total_bytes": total, "bytes_per_token": per_token,
            "per_layer_type": per_layer_type, "kv_dtype": kv_dtype, "convention": convention}


# --- Gated delta-net layers (Qwen3-Next): their fixed state, and their weights per stage ----------------------------
def linear_state_bytes(model, batch, tp=1, layers=None, conv_bytes=2):
    """Exact bytes of the gated delta-net layers' cache (transformers 5.23 cache_utils.LinearAttentionLayer, as
    Qwen3NextGatedDeltaNet fills it), which does not grow with the context:

    * conv state: batch x (2 kd + vd) x kernel values per layer in the activations' dtype (``conv_bytes``, 2 for
      bf16/fp16: the prefill pads or trims the q, k, v columns to the last `kernel`);
    * recurrent state: batch x H_v x d_k x d_v values per layer in fp32 (the torch delta rule computes in fp32
      and the cache keeps its output's dtype).

    Heads split over tp (a rank holds kd / tp, vd / tp, H_v / tp); `layers`: only these layer indices (a stage).
    Bamba's Mamba-2 layers: mamba_state_bytes; Jamba's Mamba-1 layers: mamba1_state_bytes."""
    if model.ssm_kind == "mamba2":
        return mamba_state_bytes(model, batch, tp, layers, conv_bytes)
    if model.ssm_kind == "mamba1":  # issue 10, branch jamba
        return mamba1_state_bytes(model, batch, tp, layers, conv_bytes)
    n = sum(1 for i in (range(model.num_layers) if layers is None else layers) if model.layer_is_linear(i))
    if model.short_conv:  # LFM2: a conv state of (batch, hidden, conv_L_cache) per short-convolution layer, in the
        if model.hidden_size % tp:  # model dtype (update_conv_state keeps the last kernel columns), no recurrent one
            raise ValueError(f"-tp {tp} does not divide the model's hidden size {model.hidden_size}")
        conv = batch * model.hidden_size // tp * model.short_conv_kernel * conv_bytes
        return {"layers": n, "conv_bytes": n * conv, "recurrent_bytes": 0, "total_bytes": n * conv}
    kd = model.linear_num_key_heads * model.linear_key_head_dim
    vd = model.linear_num_value_heads * model.linear_value_head_dim
    if model.linear_num_key_heads % tp:
        raise ValueError(f"-tp {tp} does not divide the model's {model.linear_num_key_heads} delta-net key heads")
    conv = batch * (2 * kd + vd) // tp * model.linear_conv_kernel * conv_bytes
    recurrent = batch * model.linear_num_value_heads // tp * model.linear_key_head_dim * model.linear_value_head_dim * 4
    n = sum(1 for i in (range(model.num_layers) if layers is None else layers) if model.layer_is_linear(i))
    return {"layers": n, "conv_bytes": n * conv, "recurrent_bytes": n * recurrent, "total_bytes": n * (conv + recurrent)}


def mamba_state_bytes(model, batch, tp=1, layers=None, conv_bytes=2):
    """Exact bytes of the Mamba-2 layers' cache (transformers 5.23 cache_utils.LinearAttentionLayer, as Bamba's
    BambaMixer fills it), which does not grow with the context:

    * conv state: batch x (H P + 2 G N) x kernel values per layer (x, B and C channels) in the activations' dtype
      (``conv_bytes``: the prefill pads or trims them to the last `kernel` columns);
    * SSM state: batch x H x P x N values per layer in fp32 (mamba2_chunk_scan computes the states in fp32 and the
      cache keeps its output's dtype).

    Heads split over tp (H / tp per rank); B and C's G groups split when tp divides them and are repeated on every
    rank when G = 1 (vLLM's MambaMixer2 replicates a single group); `layers`: only these layer indices (a stage)."""
    heads, groups = model.mamba_num_heads, model.mamba_n_groups
    if heads % tp or (groups % tp and groups != 1):
        raise ValueError(f"-tp {tp} does not divide the model's {heads} Mamba-2 heads and {groups} groups")
    local_groups = groups // tp if groups % tp == 0 else groups
    conv = batch * (model.mamba_width // tp + 2 * local_groups * model.mamba_d_state) * model.mamba_d_conv * conv_bytes
    recurrent = batch * heads // tp * model.mamba_head_dim * model.mamba_d_state * 4
    n = sum(1 for i in (range(model.num_layers) if layers is None else layers) if model.layer_has_state(i))
    return {"layers": n, "conv_bytes": n * conv, "recurrent_bytes": n * recurrent, "total_bytes": n * (conv + recurrent)}


def mamba1_state_bytes(model, batch, tp=1, layers=None, conv_bytes=2):
    """Exact bytes of the Mamba-1 layers' cache (transformers 5.23 cache_utils.LinearAttentionLayer, as Jamba's
    JambaMambaMixer fills it), which does not grow with the context:

    * conv state: batch x d x kernel values per layer (the x channels; d = mamba_expand x hidden) in the
      activations' dtype (``conv_bytes``: update_conv_state pads or trims them to the last `kernel` columns);
    * SSM state: batch x d x N values per layer in fp32 (mamba_selective_scan discretizes A and B in fp32, so its
      last state, which the cache keeps, is fp32 whatever the model dtype).

    The inner width split over tp (d / tp per rank, as vLLM's MambaMixer splits it); `layers`: only these layer
    indices (a stage)."""
    d = model.mamba1_inner
    if d % tp:
        raise ValueError(f"-tp {tp} does not divide the model's Mamba-1 inner width {d}")
    conv = batch * d // tp * model.mamba_d_conv * conv_bytes
    recurrent = batch * d // tp * model.mamba_d_state * 4
    n = sum(1 for i in (range(model.num_layers) if layers is None else layers) if model.layer_is_linear(i))
    return {"layers": n, "conv_bytes": n * conv, "recurrent_bytes": n * recurrent, "total_bytes": n * (conv + recurrent)}


def _hybrid_weight_numel(model, tp, pp):
    """Parameters on one rank of the largest pipeline stage of a model with gated delta-net layers (their layers
    differ from the attention layers) or MiMo-V2-Flash's sliding layers (twice the KV heads, split over tp as their
    own heads): the block's tensor list, split as _local_numel splits it."""
    setup = TrainSetup(tp=tp, pp=pp, num_gpus=tp * pp, optimizer="sgd")
    first, last = global_tensors(model)
    best = 0
    for stage in {0, pp - 1}:
        tensors = [(t, model.layer_kv_heads(i)) for i in stage_layers(model.num_layers, pp, stage)
                   for t in layer_tensors(model, *model_layer_kind(model, i))]
        tensors += [(t, model.kv_heads) for t in first] if stage == 0 else []
        tensors += [(t, model.kv_heads) for t in list(last) + (list(first) if model.tied_embeddings and pp > 1
                                                              else [])] if stage == pp - 1 else []
        best = max(best, sum(_local_numel(t, tp, setup.ep, setup.etp or tp, kv) for t, kv in tensors))
    return best


def weight_bytes(model, bits, tp=1, pp=1, num_params=0):
    """Weights on one rank at `bits` per weight (all parameters, and the buffers a checkpoint stores, at that width),
    worst pipeline stage."""
    if model is None:
        return -(-num_params * bits // (8 * tp * pp))
    if model.mixer_types or model.has_sliding_shape or model.gemma4_layers:
        return -(-_hybrid_weight_numel(model, tp, pp) * bits // 8)
    setup = TrainSetup(tp=tp, pp=pp, num_gpus=tp * pp, optimizer="sgd")
    best = 0
    for stage in {0, pp - 1}:
        held = stage_params(model, setup, stage)
        # DeepSeek-V3's e_score_correction_bias: a buffer, no parameter, but loaded with the weights (and cast with
        # them) on every rank of each MoE layer's stage
        buffers = model.num_experts * sum(1 for i in stage_layers(model.num_layers, pp, stage)
                                          if model.layer_is_moe(i)) if model.router_score_correction_bias else 0
        # issue 10, branch jamba: routers transformers holds in fp32 whatever the dtype (ERNIE 4.5's and Hunyuan's
        # router weight, ERNIE's frozen moe_statics bias): 4 bytes each, replicated on every rank of their stage
        fp32_kept = model.num_experts * (model.hidden_size * model.router_fp32 + model.router_frozen_bias) * sum(
            1 for i in stage_layers(model.num_layers, pp, stage) if model.layer_is_moe(i))
        best = max(best, -(-(held["dense"] + held["expert"] + buffers) * bits // 8)
                   + -(-fp32_kept * max(0, 32 - bits) // 8))
    return best


def prefill_activation_bytes(model, batch, tokens, tp=1, act_bytes=2, attn_implementation="flash"):
    """Peak transient activations of one prefill step (no autograd): the residual stream and norm output plus
    the larger of the attention block (q, k, v, output; eager adds fp32 scores b a s^2) and the MLP block
    (gated: gate/act, up and their product alive at once, 3 f; plain: 2 f), on one of tp ranks."""
    T = batch * tokens
    h = model.hidden_size
    base = 2 * T * h * act_bytes
    if model.is_mla:
        qk = model.qk_nope_head_dim + model.qk_rope_head_dim
        attn = T * (model.num_attention_heads // tp) * (2 * qk + 2 * model.v_head_dim) * act_bytes
    else:
        # the widest layer: MiMo-V2-Flash's sliding layers have twice the KV heads, its values are v_dim wide;
        # Gemma 4's full layers have heads of global_head_dim
        attn = T * max((model.num_attention_heads // tp + kv_heads_per_rank(model.layer_kv_heads(i), tp))
                       * (model.layer_head_dim(i) + model.layer_v_dim(i)) for i in range(model.num_layers)) * act_bytes
    if attn_implementation == "eager":
        attn += batch * (model.num_attention_heads // tp) * tokens * tokens * 4
    widths = []
    if model.ffn_hidden_size:  # Gemma 4's KV-shared layers with use_double_wide_mlp: twice as wide
        widths.append(model.ffn_hidden_size * (2 if model.double_wide_shared_mlp and model.kv_shared_layers else 1)
                      // tp)
    if model.is_moe:
        widths.append(model.moe_width * model.top_k // tp)
    mlp = max(widths) * T * act_bytes * (3 if model.gated_mlp else 2)
    return base + max(attn, mlp)


@dataclass
class InferSetup:
    batch: int = 1
    context: int = 4096
    weight_dtype: str = "bf16"
    bits_per_weight: float = 0.0     # overrides weight_dtype when > 0
    kv_dtype: str = "bf16"
    kv_convention: str = "window"
    tp: int = 1
    pp: int = 1
    prefill_chunk: int = 0           # 0 -> whole prompt at once
    attn_implementation: str = "flash"
    overhead: int = 2**30
    fragmentation: float = 0.05
    num_params: int = 0
    prompt: int = 0                  # tokens prefilled (the cookbook's -s under --infer); 0 -> the whole context


def _kv_dtype_scales(kv_dtype):
    """What a KV-cache type's bytes include, for the assumptions line."""
    block_bytes, block = KV_CACHE_DTYPES[kv_dtype]
    if block > 1 and kv_dtype != "int4":
        return f" ({block_bytes} B per block of {block} values, its scales included)"
    if kv_dtype in ("fp8", "int8", "int4"):
        return " (per-tensor or per-channel quantisation scales not counted)"
    return ""


def inference_memory(model, inf):
    if inf.batch < 1 or inf.context < 1 or inf.tp < 1 or inf.pp < 1 or inf.prefill_chunk < 0:
        raise ValueError("--batch-size, --context, -tp and -pp must be >= 1")
    inf = replace(inf, kv_dtype=kv_cache_dtype(inf.kv_dtype, "--kv-dtype"))  # the canonical name (fp16, not f16)
    if inf.weight_dtype not in WEIGHT_BITS:
        raise ValueError(f"--weight-dtype must be one of {', '.join(WEIGHT_BITS)}, got {inf.weight_dtype!r}")
    if model is not None and model.num_attention_heads % inf.tp:
        raise ValueError(f"-tp {inf.tp} does not divide --num-attention-heads {model.num_attention_heads}")
    if model is not None and not model.is_mla and model.kv_heads % inf.tp and inf.tp % model.kv_heads:
        raise ValueError(f"-tp {inf.tp} and --num-kv-heads {model.kv_heads}: one must divide the other")
    if model is not None and inf.pp > model.num_layers:
        raise ValueError(f"-pp {inf.pp} exceeds --num-layers {model.num_layers}")
    if inf.bits_per_weight:
        from fractions import Fraction
        bits = Fraction(inf.bits_per_weight).limit_denominator(10**6)
    else:
        bits = WEIGHT_BITS[inf.weight_dtype]
    w = int(weight_bytes(model, bits, inf.tp, inf.pp, inf.num_params))
    terms = {"weights": w}
    kv = None
    if model is not None:
        kv = kv_cache_bytes(model, inf.batch, inf.context, inf.kv_dtype, inf.tp, inf.kv_convention)
        first_stage = set(stage_layers(model.num_layers, inf.pp, 0))  # the stage with the most layers
        terms["kv_cache"] = (kv_cache_bytes(model, inf.batch, inf.context, inf.kv_dtype, inf.tp, inf.kv_convention,
                                            first_stage)["total_bytes"] if inf.pp > 1 else kv["total_bytes"])
        if model.state_layer_count():  # Qwen3-Next: the delta-net layers' fixed state, on its own line
            state_layers = set(stage_layers(model.num_layers, inf.pp, 0)) if inf.pp > 1 else None
            terms["conv_state" if model.short_conv else "linear_state"] = linear_state_bytes(  # LFM2: conv only
                model, inf.batch, inf.tp, state_layers)["total_bytes"]
            kv["linear_state"] = linear_state_bytes(model, inf.batch, inf.tp)
            kv["note"] = (f"K/V of the {model.attention_layer_count()} attention layers only; the "
                          f"{model.linear_layer_count()} {model.linear_mixer_name} layers keep a fixed state "
                          "instead: conv state (kernel columns, 2 B per value) and fp32 recurrent state, as "
                          "transformers' cache")
            if model.parallel_ssm:  # Falcon-H1
                kv["note"] = (f"K/V of all {model.num_layers} layers, and beside it each layer's Mamba-2 mixer keeps "
                              "a fixed state: conv state (kernel columns, 2 B per value) and fp32 recurrent state, "
                              "as transformers' cache")
            if model.short_conv:  # LFM2
                kv["note"] = (f"K/V of the {model.attention_layer_count()} attention layers only; "
                              f"the {model.linear_layer_count()} short-convolution layers keep a fixed conv state "
                              "instead (hidden x conv_L_cache values, 2 B each), as transformers' cache")
        prompt = min(inf.prompt or inf.context, inf.context)
        chunk = min(inf.prefill_chunk or prompt, prompt)
        # one sequence's prompt per prefill step, `chunk` tokens at a time (decode steps are far smaller)
        terms["prefill_activations"] = prefill_activation_bytes(model, 1, chunk, inf.tp, 2, inf.attn_implementation)
        terms["logits"] = inf.batch * -(-model.padded_vocab // inf.tp) * 4
    allocated = sum(terms.values())
    terms["fragmentation"] = int(allocated * inf.fragmentation)
    terms["framework_overhead"] = inf.overhead
    terms["total"] = sum(terms.values())
    return {"per_gpu": terms, "kv_cache": kv, "setup": asdict(inf),
            "assumptions": [
                f"weights: every parameter at {float(bits):g} bits" + (" (quantisation scales included only if in"
                                                                      " --bits-per-weight)" if bits < 16 else ""),
                f"KV cache exact for {inf.kv_dtype}{_kv_dtype_scales(inf.kv_dtype)}",
                "prefill: one sequence, --prefill-chunk tokens (default the whole context) per step, one layer's "
                "transient activations at the peak; logits for the last token of each sequence (fp32)",
                f"framework overhead {gib(inf.overhead):.2f} GiB; fragmentation {inf.fragmentation:.0%}"]}


# ==============================================================================================================
# Step time (issue 14): how long one training step takes on a layout, term by term, and what it makes of the GPUs
# ==============================================================================================================
# The accelerator figures the step-time model reads come from the shared block's GPU_CATALOGUE (one row per device,
# each with its datasheet source): dense peak TFLOP/s per dtype, link (NVLink/NVSwitch per GPU and direction inside
# its scale-up domain), nic (the per-GPU InfiniBand / RoCE bandwidth per direction between nodes), domain (GPUs per
# node on that link) and bandwidth (HBM). GB/s = 10^9 B/s, one direction.
DEFAULT_STEP_GPU = "h100-sxm"
# The two efficiencies are the model's only fitted numbers, one each for every GPU and every run (issue 14: no
# per-run tuning). COMPUTE_EFFICIENCY is the fraction of the dense peak a large transformer matmul (and the fused
# attention kernel) reaches; it was chosen once against the published runs in docs/calc_transformer_mem.md ("Step
# time and the layout search"), which lists how far each run lands. COMM_EFFICIENCY is the fraction of the link
# rate a NCCL ring collective reaches as "bus bandwidth" (nccl-tests' PERFORMANCE.md convention), not fitted: a
# stated allowance.
COMPUTE_EFFICIENCY = 0.62
COMM_EFFICIENCY = 0.8
STEP_TERMS = ("compute", "recompute", "bubble", "tp", "cp", "ep", "pp_p2p", "zero3_gather", "dp")
STEP_TERM_LABELS = {
    "compute": "forward + backward compute", "recompute": "activation recompute",
    "bubble": "pipeline bubble", "tp": "TP/SP all-gather + reduce-scatter", "cp": "CP ring attention (exposed)",
    "ep": "EP all-to-all (dispatch + combine)", "pp_p2p": "PP point-to-point", "zero3_gather":
    "ZeRO-3 gathers + grad reduce-scatter (exposed)", "dp": "DP gradient reduce / param gather (exposed)"}


@dataclass(frozen=True)
class StepHardware:
    """What the step-time model needs of a machine: FLOP/s per GPU at the training dtype, bytes/s per GPU and
    direction over NVLink and over the network, GPUs per node and the two efficiencies (see COMPUTE_EFFICIENCY)."""
    name: str
    peak_flops: float
    intra_node_bw: float
    inter_node_bw: float
    gpus_per_node: int
    hbm_bw: float = 0.0
    compute_efficiency: float = COMPUTE_EFFICIENCY
    comm_efficiency: float = COMM_EFFICIENCY
    source: str = ""


def step_hardware(gpu=DEFAULT_STEP_GPU, precision="bf16", peak_tflops=None, intra_node_bw=None, inter_node_bw=None,
                  gpus_per_node=None, compute_efficiency=None, comm_efficiency=None, hbm_bw=None):
    """A StepHardware from the block's GPU_CATALOGUE[gpu], each figure overridable (TFLOP/s and GB/s, as the flags give them).
    The peak is the dtype the matmuls run in: bf16, fp16 or fp8 (Transformer Engine FP8 GEMMs); fp32 training has
    no tensor-core figure here and needs peak_tflops."""
    spec = gpu_spec(gpu)  # the block's catalogue: an unknown name is one line listing the devices
    if precision == "fp32" and peak_tflops is None:
        # fp32 matmuls run at the plain fp32 rate or, with TF32 allowed (torch.backends.cuda.matmul.allow_tf32,
        # off by default since PyTorch 1.12), at the TF32 tensor rate: the user says which
        raise InputError(f"--precision fp32: give --peak-tflops (the fp32 rate, {spec['fp32']} on {gpu}, or the "
                         f"TF32 tensor rate, {spec['tf32']}, when TF32 matmuls are allowed)")
    peak = peak_tflops if peak_tflops is not None else spec.get(precision)
    if peak is None:
        raise InputError(f"--gpu {gpu} has no {precision} peak in the GPU catalogue; give --peak-tflops")

    def figure(given, key, flag):
        if given is not None:
            return given
        if spec[key] is None:
            what = {"link": "scale-up (NVLink) bandwidth", "nic": "network bandwidth per GPU",
                    "domain": "GPUs per node", "bandwidth": "memory bandwidth"}[key]
            raise InputError(f"--gpu {gpu}: the GPU catalogue has no sourced {what}; give {flag}")
        return spec[key]
    return StepHardware(
        name=gpu, peak_flops=peak * 1e12,
        intra_node_bw=figure(intra_node_bw, "link", "--intra-node-bw") * 1e9,
        inter_node_bw=figure(inter_node_bw, "nic", "--inter-node-bw") * 1e9,
        gpus_per_node=figure(gpus_per_node, "domain", "--gpus-per-node"),
        hbm_bw=figure(hbm_bw, "bandwidth", "--hbm-bw") * 1e9,
        compute_efficiency=COMPUTE_EFFICIENCY if compute_efficiency is None else compute_efficiency,
        comm_efficiency=COMM_EFFICIENCY if comm_efficiency is None else comm_efficiency, source=spec["source"])


def _link(hw, size, stride):
    """(bus bandwidth in B/s, link name) of a communication group of `size` ranks `stride` apart in rank order.
    Ranks are laid out tp (innermost), cp, ep, dp, pp (Megatron-Core's default order "tp-cp-ep-dp-pp"), nodes
    holding consecutive ranks: a group whose span size x stride fits in a node runs over NVLink, any other over
    each GPU's own NIC (rail-optimised fabrics: one NIC per GPU)."""
    if size * stride <= hw.gpus_per_node:
        return hw.intra_node_bw * hw.comm_efficiency, "NVLink"
    return hw.inter_node_bw * hw.comm_efficiency, "network"


def causal_pairs(seq, window=0):
    """Query-key pairs of one head that a causal mask keeps (Σ_i min(i + 1, window)): what flash attention computes
    (it skips the fully masked blocks)."""
    if not window or seq <= window:
        return seq * (seq + 1) // 2
    return window * (window + 1) // 2 + (seq - window) * window


def _attention_head_dims(model):
    """(query-key width, value width) of one head: MLA's nope + rope and v_head_dim, else head_dim for both."""
    if model.is_mla:
        return model.qk_nope_head_dim + model.qk_rope_head_dim, model.v_head_dim
    return model.d_head, model.d_head


@functools.lru_cache(maxsize=1024)
def layer_matmul_elements(model, moe, tp, etp):
    """Weight elements one token multiplies on one tensor-parallel rank in one (dense or MoE) layer: the shared
    block's tensor list (model_layer_tensors), every 2-D weight (biases and norms are no matmul), split as TP splits
    it ("col"/"row": 1/tp; "kv": the K/V heads one rank holds; None: replicated, every rank multiplies it: router,
    MLA down-projections); routed experts: top_k of the E stacked experts, each split over etp. Gopher's
    relative-key projection is a parameter without a per-token matmul here (as calc_transformer_flops.py).
    A forward costs 2 FLOPs per element per token."""
    total = 0.0
    for t in layer_tensors(model, moe):
        if t.kind != "weight" or len(t.shape) < 2 or "rel_k_proj" in t.name:
            continue
        if t.role == "routed_experts":
            total += t.numel / model.num_experts * model.top_k / etp
        elif t.split in ("col", "row"):
            total += t.numel / tp
        elif t.split == "kv":
            total += t.numel / model.kv_heads * kv_heads_per_rank(model.kv_heads, tp)
        else:
            total += t.numel
    return total


def head_matmul_elements(model, tp):
    """(first stage, last stage) weight elements per token outside the layers on one rank: OPT's project_in on the
    first stage; project_out and the LM head (embed_width x the padded vocabulary, vocab-parallel: ceil(V / tp)
    rows per rank, tied or not: a tied head multiplies the same table) on the last. The embedding is a lookup."""
    first, last = global_tensors(model)
    proj_in = sum(t.numel for t in first if t.role == "embedding_projections" and t.kind == "weight")
    proj_out = sum(t.numel for t in last if t.role == "embedding_projections" and t.kind == "weight")
    return proj_in, proj_out + model.embed_width * -(-model.padded_vocab // tp)


def model_flops_per_sequence(model, seq, attention="square"):
    """Model FLOPs of one training sequence, the convention of Megatron-LM's and PaLM's MFU (Narayanan et al. 2021
    eq. 3; Chowdhery et al. 2022 App. B): 3 x the forward (backward = 2 x forward), every matmul weight from the
    shared block's tensor list (routed experts: top_k of E), the LM head over the padded vocabulary, and the
    attention scores and values over the full s x s square, no recompute. attention="causal" counts only the
    pairs a causal mask keeps (sliding layers: their window), the FLOPs flash attention executes."""
    dq, dv = _attention_head_dims(model)
    matmul = sum(layer_matmul_elements(model, model.layer_is_moe(i), 1, 1) for i in range(model.num_layers))
    proj_in, last = head_matmul_elements(model, 1)
    if attention == "square":
        pairs = model.num_layers * seq * seq
    else:
        pairs = sum(causal_pairs(seq, model.sliding_window if model.layer_attention(i) == "sliding" else 0)
                    for i in range(model.num_layers))
    attention = 2 * model.num_attention_heads * pairs * (dq + dv)
    return 3 * (2 * seq * (matmul + proj_in + last) + attention)


@functools.lru_cache(maxsize=4096)
def layer_step_costs(model, moe, attention, seq, tp, cp, ep, etp, act_bytes):
    """One layer, one sequence (micro-batch 1), one rank, the forward: (matmul FLOPs, attention-core FLOPs, TP
    bytes, CP bytes, EP bytes). Each rank holds seq / cp tokens.

    * matmul: 2 (seq / cp) x layer_matmul_elements.
    * attention core: 2 (heads / tp) x causal pairs / cp x (d_qk + d_v) (scores and values; context parallelism
      load-balances the causal mask, as Megatron-Core's CP does; sliding layers keep their window).
    * TP: Megatron's sequence-parallel all-gather before and reduce-scatter after each of the attention and MLP
      blocks (one pair for a parallel block sharing its norm), (tp - 1)/tp x (seq / cp) x h values each (ring
      algorithm; without SP the same volume moves as two all-reduces, Korthikanti et al. 2022 Sec. 4.2.2).
    * CP: ring attention passes every other rank's K and V chunk around: (cp - 1) x (seq / cp) x (K/V heads per
      rank) x (d_qk + d_v) values (MLA and GQA K/V as the attention kernel sees them: MLA expanded per head).
    * EP: a dispatch and a combine all-to-all of the top_k copies of each token: 2 (ep - 1)/ep x seq / (cp tp) x
      top_k x h values (each TP rank routes its sequence-parallel share)."""
    h = model.hidden_size
    tokens = seq / cp
    dq, dv = _attention_head_dims(model)
    heads = model.num_attention_heads / tp
    window = model.sliding_window if attention == "sliding" else 0
    matmul = 2 * tokens * layer_matmul_elements(model, moe, tp, etp)
    core = 2 * heads * causal_pairs(seq, window) / cp * (dq + dv)
    collectives = 4 if model.norms_per_layer >= 2 else 2
    tp_bytes = collectives * (tp - 1) / tp * tokens * h * act_bytes
    kv_local = heads if model.is_mla else kv_heads_per_rank(model.kv_heads, tp)
    cp_bytes = (cp - 1) * tokens * kv_local * (dq + dv) * act_bytes
    ep_bytes = 2 * (ep - 1) / ep * tokens / tp * model.top_k * h * act_bytes if moe else 0.0
    return matmul, core, tp_bytes, cp_bytes, ep_bytes


def saved_bytes_per_sequence(model, setup, moe, attention):
    """Bytes one layer saves for backward for one sequence on one rank (layer_activation_tensors, no recompute),
    the yardstick of the memory-bound work of a layer: every saved tensor was written once by the forward's
    elementwise kernels (norms, activation functions, softmax, dropout) and is read once by the backward, which
    writes a gradient of its size, so the step-time model charges 3 x these bytes at the HBM bandwidth, once per
    forward (the 1/3 that is the forward) and twice per backward. This is what makes eager attention (the s x s
    scores, softmax and dropout masks of 2021-22 Megatron runs) and narrow models (more elementwise bytes per
    matmul FLOP) slower than their FLOPs alone say; flash attention saves no s x s tensor."""
    key = (model, moe, attention, setup.tp, setup.cp, setup.sp, setup.etp, setup.seq_len, setup.precision,
           setup.profile, setup.attn_implementation, setup.dropout)
    if key not in _SAVED_BYTES:
        one = replace(setup, micro_batch=1, recompute="none")
        _SAVED_BYTES[key] = activation_sum(layer_activation_tensors(model, one, moe, attention), "none")
    return _SAVED_BYTES[key]


_SAVED_BYTES = {}


def stage_step_costs(model, setup, hw, stage, layer_kinds=None):
    """Per-sequence seconds of one pipeline stage (forward, one rank) and the bytes it moves, for step_terms:
    {fwd (all forward compute), layers_fwd (recomputed by full recompute), attn_fwd (by selective), tp, cp
    (exposed: ring attention overlaps the attention core it feeds), ep, p2p (one send), and their bytes and links}.
    layer_kinds: {(moe, attention): layers} of the stage (default: stage_layers)."""
    if layer_kinds is None:
        layer_kinds = {}
        for i in stage_layers(model.num_layers, setup.pp, stage):
            key = (model.layer_is_moe(i), model.layer_attention(i))
            layer_kinds[key] = layer_kinds.get(key, 0) + 1
    etp = setup.etp or setup.tp
    B = _act_bytes(setup)
    rate = hw.peak_flops * hw.compute_efficiency
    tp_bw, tp_link = _link(hw, setup.tp, 1)
    cp_bw, cp_link = _link(hw, setup.cp, setup.tp)
    ep_bw, ep_link = _link(hw, setup.ep, setup.tp * setup.cp)
    pp_bw, pp_link = _link(hw, setup.pp, setup.num_gpus // setup.pp)
    out = dict.fromkeys(("layers_fwd", "attn_fwd", "tp", "cp", "ep", "tp_bytes", "cp_bytes", "ep_bytes"), 0.0)
    for (moe, attention), count in layer_kinds.items():
        mm, core, tpb, cpb, epb = layer_step_costs(model, moe, attention, setup.seq_len, setup.tp, setup.cp,
                                                   setup.ep, etp, B)
        out["layers_fwd"] += count * (mm + core) / rate
        out["attn_fwd"] += count * core / rate
        out["tp"] += count * tpb / tp_bw
        out["cp"] += count * max(0.0, cpb / cp_bw - core / rate)
        out["ep"] += count * epb / ep_bw
        out["tp_bytes"] += count * tpb
        out["cp_bytes"] += count * cpb
        out["ep_bytes"] += count * epb
    for (moe, attention), count in layer_kinds.items():
        # the memory-bound work between the matmuls (norms, activations, softmax, dropout, residuals): as much
        # traffic as the layer saves for backward, read by the backward (see saved_bytes_per_sequence)
        traffic = count * saved_bytes_per_sequence(model, setup, moe, attention) / hw.hbm_bw
        out["layers_fwd"] += traffic
    proj_in, last = head_matmul_elements(model, setup.tp)
    head = (proj_in if stage == 0 else 0) + (last if stage == setup.pp - 1 else 0)
    out["fwd"] = out["layers_fwd"] + 2 * setup.seq_len / setup.cp * head / rate
    out["p2p_bytes"] = setup.seq_len / setup.cp * model.hidden_size * B / setup.tp if setup.pp > 1 else 0.0
    out["p2p"] = out["p2p_bytes"] / pp_bw
    out["links"] = {"tp": tp_link, "cp": cp_link, "ep": ep_link, "pp_p2p": pp_link}
    return out


def dp_step_costs(model, setup, hw, held):
    """Seconds and bytes of the data-parallel traffic of one rank, from stage_params' `held` (parameters per rank):
    dense parameters over the dp x cp ranks that hold the same weights (ZeRO's and Megatron's distributed-optimizer
    group), experts over their expert-data-parallel group. Ring collectives move (n - 1)/n of the buffer per rank:
    grad = the gradient reduce-scatter (x 2 for ZeRO-0's all-reduce), gather = one all-gather of the 16-bit
    parameters. Gradient bytes per value as --grads (bytes_per_param); parameters 2 B (4 B in fp32)."""
    dense_n, expert_n = _shard_sizes(setup)
    _, g_bytes, _, _ = bytes_per_param(setup)
    w_bytes = 4 if setup.precision == "fp32" else 2
    d_bw, d_link = _link(hw, dense_n, setup.tp)
    e_bw, e_link = _link(hw, expert_n, setup.num_gpus // setup.pp // max(expert_n, 1))
    grad = gather = volume = 0.0
    for n, numel, bw in ((dense_n, held["dense"], d_bw), (expert_n, held["expert"], e_bw)):
        if n > 1 and numel:
            share = (n - 1) / n * numel
            grad += share * g_bytes / bw
            gather += share * w_bytes / bw
            volume += share * (g_bytes + w_bytes)
    return {"grad": grad, "gather": gather, "bytes": volume, "link": d_link if held["dense"] else e_link}


def step_terms(stages, pp, vpp, m, mb, zero, recompute):
    """Seconds per step, term by term, from the per-stage costs (stage_step_costs with dp_step_costs as 'dp').

    One micro-batch of mb sequences on a stage: forward F = mb x fwd, backward 2F; recompute adds the layers'
    forward (full) or the attention core's (selective); TP and EP collectives run in the forward, the backward and
    (full recompute) the recomputed forward, exposed (Megatron runs them on the critical path unless TP comm
    overlap is set); CP's exposed ring time in each of those (x 2 in the backward: dK, dV travel too); PP sends
    one activation and receives one gradient per model chunk (x vpp), exposed. ZeRO-3 / FSDP gather the
    parameters in the forward and again in the backward and reduce-scatter the gradients, every micro-batch,
    overlapped with that micro-batch's compute (prefetch), the excess exposed.
    The pipeline (1F1B, Narayanan et al. 2021 Sec. 2.2): (m + (pp - 1)/vpp) micro-batch times of the slowest stage,
    the bubble being (pp - 1)/vpp of them, a fraction (pp - 1)/(m vpp) of the ideal. ZeRO 0-2 reduce the gradients
    once per step, overlapped with the last micro-batch's backward, and (ZeRO 1-2, distributed optimizer) gather
    the updated parameters, overlapped with the first micro-batch's forward (Megatron's --overlap-grad-reduce and
    --overlap-param-gather); the excess is exposed. Optimizer arithmetic, data loading and kernel launch latency are
    not modelled. Returns (step seconds, terms of the slowest stage, t_mb)."""
    passes = 3 if recompute == "full" else 2
    worst = None
    dp_exposed = 0.0
    for st in stages:
        fwd = mb * st["fwd"]
        rec = mb * (st["layers_fwd"] if recompute == "full" else st["attn_fwd"] if recompute == "selective" else 0)
        terms = {"compute": 3 * fwd, "recompute": rec, "tp": mb * passes * st["tp"],
                 "cp": mb * (passes + 1) * st["cp"], "ep": mb * passes * st["ep"],
                 "pp_p2p": 2 * vpp * mb * st["p2p"] if pp > 1 else 0.0, "zero3_gather": 0.0}
        dp = st["dp"]
        if zero == 3:
            terms["zero3_gather"] = max(0.0, 2 * dp["gather"] + dp["grad"] - 3 * fwd - rec)
            exposed = 0.0
        else:
            grad = dp["grad"] * (2 if zero == 0 else 1)
            exposed = max(0.0, grad - 2 * fwd - rec) + (max(0.0, dp["gather"] - fwd) if zero else 0.0)
        t_mb = sum(terms.values())
        if worst is None or t_mb > worst[0]:
            worst = (t_mb, terms)
        dp_exposed = max(dp_exposed, exposed)
    t_mb, per_mb = worst
    out = {k: v * m for k, v in per_mb.items()}
    out["bubble"] = (pp - 1) / vpp * t_mb
    out["dp"] = dp_exposed
    return sum(out.values()), out, t_mb


def _stage_costs_with_dp(model, setup, hw, stage, layer_kinds=None, held=None):
    st = stage_step_costs(model, setup, hw, stage, layer_kinds)
    if held is None:
        held = stage_params(model, setup, stage)
    st["dp"] = dp_step_costs(model, setup, hw, held)
    return st


def step_time(model, setup, hw):
    """Predicted time of one training step of `setup` on `hw`, with every term, the throughput and the MFU.

    Returns {step_time_s, tokens_per_step, tokens_per_s, tokens_per_s_per_gpu, micro_batches, bubble_fraction,
    model_flops_per_step, model_tflops_per_gpu, mfu, terms_s{term: seconds of the step}, comm{term: {bytes
    (per GPU per step), link, exposed_s}}, hardware{...}, assumptions[...]}. The MFU counts model FLOPs
    (model_flops_per_sequence: Megatron/PaLM convention, full s x s attention, no recompute) over the dense peak of
    every GPU for the whole step."""
    validate_setup(setup, model)
    m = micro_batches(setup)
    if setup.vpp > 1 and m % setup.pp:
        # Megatron-LM's interleaved 1F1B runs the micro-batches in groups of pp (schedules.py: "number of
        # microbatches is not divisible by pipeline-parallel size when using interleaved schedule"); with fewer the
        # bubble formula (pp - 1)/(m vpp) would promise what no schedule delivers
        raise ValueError(f"--vpp {setup.vpp}: the {m} micro-batches per step must be a multiple of -pp {setup.pp} "
                         "for the interleaved schedule (set --global-batch / -b)")
    stages = [_stage_costs_with_dp(model, setup, hw, s) for s in sorted({0, setup.pp - 1})]
    total, terms, t_mb = step_terms(stages, setup.pp, setup.vpp, m, setup.micro_batch, ZERO_LEVEL[setup.sharding],
                                    setup.recompute)
    sequences = m * setup.micro_batch * setup.dp
    tokens = sequences * setup.seq_len
    flops = model_flops_per_sequence(model, setup.seq_len) * sequences
    causal = model_flops_per_sequence(model, setup.seq_len, attention="causal") * sequences
    worst = max(stages, key=lambda st: st["fwd"])
    passes = 3 if setup.recompute == "full" else 2
    per_step = m * setup.micro_batch
    comm = {
        "tp": {"bytes": per_step * passes * worst["tp_bytes"], "link": worst["links"]["tp"]},
        "cp": {"bytes": per_step * (passes + 1) * worst["cp_bytes"], "link": worst["links"]["cp"]},
        "ep": {"bytes": per_step * passes * worst["ep_bytes"], "link": worst["links"]["ep"]},
        "pp_p2p": {"bytes": 2 * setup.vpp * per_step * worst["p2p_bytes"], "link": worst["links"]["pp_p2p"]},
        "dp": {"bytes": worst["dp"]["bytes"] * (m if ZERO_LEVEL[setup.sharding] == 3 else 1),
               "link": worst["dp"]["link"]},
    }
    for key in comm:
        comm[key]["exposed_s"] = terms["zero3_gather" if key == "dp" and ZERO_LEVEL[setup.sharding] == 3 else key]
    return {
        "step_time_s": total, "tokens_per_step": tokens, "tokens_per_s": tokens / total,
        "tokens_per_s_per_gpu": tokens / total / setup.num_gpus, "micro_batches": m,
        "bubble_fraction": (setup.pp - 1) / (m * setup.vpp), "model_flops_per_step": flops,
        "model_tflops_per_gpu": flops / total / setup.num_gpus / 1e12,
        "mfu": flops / total / setup.num_gpus / hw.peak_flops,
        "model_tflops_per_gpu_causal": causal / total / setup.num_gpus / 1e12,
        "mfu_causal": causal / total / setup.num_gpus / hw.peak_flops, "terms_s": {k: terms[k] for k in STEP_TERMS},
        "comm": comm, "zero_stage": ZERO_LEVEL[setup.sharding], "hardware": asdict(hw),
        "assumptions": step_assumptions(hw)}


def step_assumptions(hw):
    return [
        f"step time on {hw.name}: {hw.peak_flops / 1e12:,.1f} TFLOP/s dense peak x {hw.compute_efficiency:g} "
        f"achieved by every matmul and the attention kernel (one fitted number; docs: 'Step time and the layout "
        f"search'); scale-up link (NVLink) "
        f"{hw.intra_node_bw / 1e9:g} GB/s, network {hw.inter_node_bw / 1e9:g} GB/s per GPU and direction x "
        f"{hw.comm_efficiency:g} (ring bus bandwidth), {hw.gpus_per_node} GPUs per node; ranks ordered tp-cp-ep-dp-pp",
        "exposed: TP/SP and EP collectives, PP sends, the pipeline bubble (pp-1)/(m vpp); overlapped up to the "
        "compute: CP ring attention, ZeRO-3 gathers (per micro-batch), DP gradient reduce (last backward) and "
        "parameter gather (first forward); not modelled: optimizer step, data loading, launch latency, stragglers",
        "MFU = model FLOPs (3 x forward, full s x s attention, no recompute: Megatron/PaLM convention) / (step "
        "time x GPUs x peak); the time itself counts the causal half of the attention square and the recompute"]


# --------------------------------------------------------------------------------------------------------------
# Serving engines: the KV-cache pool as vLLM sizes it (--infer --engine vllm)
# --------------------------------------------------------------------------------------------------------------
# vLLM does not size the KV cache for a batch: it profiles one forward pass and gives the KV cache everything that
# is left of its budget (vllm/v1/worker/gpu_worker.py determine_available_memory; PR #10511 "overhaul memory
# profiling", whose log prints each term):
#     available KV = gpu_memory_utilization x total GPU memory - weights - non-torch memory
#                    - the activation peak of the profiling run - CUDA-graph memory (counted since v0.21.0)
# then splits it into pages (vllm/v1/core/kv_cache_utils.py get_num_blocks, one KV-cache group of full attention):
#     page bytes = block_size x 2 x kv_heads_per_rank x head_dim x dtype bytes   (FullAttentionSpec.page_size_bytes)
#     num_blocks = available // page_bytes // num_layers
#     GPU KV cache size = num_blocks x block_size tokens;  maximum concurrency = that / max_model_len
# The pages are exact; the budget's terms other than the weights are estimates (defaults below, each printed and
# overridable), or skipped altogether with vLLM's own --kv-cache-memory-bytes.
ENGINES = ("sum", "hf", "vllm", "sglang", "llama.cpp")
VLLM_BLOCK_SIZE = 16                 # vllm CacheConfig.block_size default on CUDA
VLLM_GPU_MEMORY_UTILIZATION = 0.9    # vllm CacheConfig.gpu_memory_utilization default
VLLM_NON_TORCH_BYTES = 2**30         # assumed; logged: 0.35 GiB (RTX 3090, vllm#10517) to 1.79 GiB (80 GB, #10511)
VLLM_LARGE_GPU = 70 * 2**30          # EngineArgs.get_batch_defaults: >= 70 GiB (not A100) takes the larger defaults
# (max_num_batched_tokens, max_num_seqs) of `vllm serve` (UsageContext.OPENAI_API_SERVER), by GPU memory
VLLM_SERVE_DEFAULTS = {True: (8192, 1024), False: (2048, 256)}
# Gemma 4, -pp (and what follows from them) are read from this release's code (vllm/v1/core/kv_cache_utils.py,
# vllm/v1/kv_cache_interface.py, vllm/model_executor/models/gemma4.py, vllm/distributed/utils.py); the paths
# above were checked against the older logs of tests/test_mem_engine.py
VLLM_V024 = "0.24.0"


@dataclass
class VllmSetup:
    gpu_bytes: int = 0                         # total GPU memory (0: --kv-cache-memory-bytes gives the pool)
    gpu_memory_utilization: float = VLLM_GPU_MEMORY_UTILIZATION
    block_size: int = VLLM_BLOCK_SIZE
    max_num_batched_tokens: int = 0            # 0: vllm serve's default for this GPU size
    max_num_seqs: int = 0                      # 0: vllm serve's default for this GPU size
    non_torch_bytes: int = VLLM_NON_TORCH_BYTES
    cuda_graph_bytes: int = 0                  # vLLM >= 0.21 profiles CUDA graphs into the budget; 0: --enforce-eager
    activation_peak_bytes: int | None = None   # None: estimated from the profiling run's tokens
    kv_cache_memory_bytes: int | None = None   # vLLM's --kv-cache-memory-bytes: the pool itself
    # hybrid models with Mamba-style state layers (vllm_hybrid_state_pool)
    block_size_given: bool = False             # --block-size typed (vLLM raises a smaller one to fit a state page)
    mamba_cache_mode: str | None = None        # vLLM's --mamba-cache-mode: none | align (None: not given)
    mamba_ssm_cache_dtype: str = "auto"        # vLLM's --mamba-ssm-cache-dtype
    num_speculative_tokens: int = 0            # speculative_config num_speculative_tokens (MTP drafts)
    draft_attention_layers: int | None = None  # the MTP drafter's attention layers (None: from the config.json)
    config_path: str | None = None             # --config: vLLM reads mamba_ssm_dtype / mtp_num_hidden_layers there


def vllm_refusal(model, inf):
    """The layouts whose pages this planner does not reproduce yet, as one line (None when it does)."""
    if model is None:
        return "--engine vllm needs a model (its KV pages), not --params"
    if inf.pp > 1 and model.state_layer_count():
        return ("--engine vllm: pipeline parallelism beside linear-attention / SSM state pages is not modelled; "
                "drop -pp")
    if inf.pp > 1 and model.kv_shared_layers:
        return ("--engine vllm: -pp with Gemma 4's KV-shared layers (a shared layer's target may sit on another "
                "stage) is not modelled; drop -pp")
    if inf.kv_dtype not in ("fp16", "bf16", "fp32", "fp8"):
        return f"--engine vllm: --kv-dtype {inf.kv_dtype} is not a vLLM KV-cache type (auto, fp8, fp8_e4m3, fp8_e5m2)"
    return None


def _cdiv(a, b):
    return -(-a // b)


def vllm_kv_groups(model, inf, block_size):
    """vLLM's KV-cache groups for this model (vllm/v1/core/kv_cache_utils.py get_kv_cache_groups, hybrid KV-cache
    manager on, its default), as {"kind", "span", "block_size", "layers"} dicts (layers: model layer indices), and
    the page bytes of each layer that has a cache, in the order of `vllm_cached_layers`.

    Each attention layer has a spec: full attention (FullAttentionSpec, MLA's MLAAttentionSpec: one latent row of
    kv_lora_rank + qk_rope_head_dim per token), a sliding window (SlidingWindowSpec) or Llama 4's chunks
    (ChunkedLocalAttentionSpec); its page is block_size tokens of that layer's K and V rows on one TP rank (Gemma 4:
    each layer's own heads and head width, gemma4.py Gemma4DecoderLayer; its K=V full layers still write a V row,
    K's copy, into the cache, Gemma4Attention.forward).  Gemma 4's KV-shared layers have no spec at all
    (gpu_model_runner.py get_kv_cache_spec skips a layer with kv_sharing_target_layer_name).
    * every layer the same spec, or every layer full attention: one group (UniformTypeKVCacheSpecs when the pages
      differ);
    * several kinds (gpt-oss, Gemma 2/3/4, Llama 4): the pages are unified by multiplying the smaller ones' block
      size (unify_kv_cache_spec_page_size; a page that does not divide the largest is refused: vLLM pads it only
      for some attention backends), then each kind's layers are split into groups of group_size layers, group_size
      the fewest layers of a kind, or the most when the most is under 1.5 x the fewest
      (_get_kv_cache_groups_uniform_page_size; group k of a kind takes its layers k, k + n, k + 2n, ...)."""
    specs = []
    for i in vllm_cached_layers(model):
        heads = model.layer_kv_heads(i)
        if not model.is_mla and heads % inf.tp and inf.tp % heads:  # Gemma4Attention / Attention assert this
            raise ValueError(f"-tp {inf.tp}: layer {i}'s {heads} KV heads neither split evenly over the ranks nor "
                             "replicate evenly (vLLM asserts one of the two)")
        row = kv_cache_bytes(model, 1, 1, inf.kv_dtype, inf.tp, layers={i})["total_bytes"]  # one token, layer i
        if model.layer_attention(i) == "sliding":
            kind = ("chunked" if model.attention_chunked else "sliding", model.sliding_window)
        else:
            kind = ("full", 0)
        specs.append((i, kind, row))
    kinds = {}
    for i, kind, row in specs:
        kinds.setdefault(kind, []).append((i, row))
    if len(kinds) == 1 or all(kind[0] == "full" for kind in kinds):
        pages = [row * block_size for _, _, row in specs]
        kind = next(iter(kinds))
        group = {"kind": kind[0], "span": kind[1], "block_size": block_size, "layers": [i for i, _, _ in specs]}
        return [group], pages, True
    page = max(row for _, _, row in specs) * block_size
    groups = []
    for (kind, span), members in kinds.items():
        row = members[0][1]
        if any(r != row for _, r in members) or page % (row * block_size):
            raise ValueError("--engine vllm: this model's layers have pages vLLM cannot unify by block size (vLLM "
                             "pads or refuses them); use --engine sum")
        groups.append({"kind": kind, "span": span, "block_size": block_size * (page // (row * block_size)),
                       "layers": [i for i, _ in members]})
    fewest = min(len(g["layers"]) for g in groups)
    most = max(len(g["layers"]) for g in groups)
    group_size = most if most < 1.5 * fewest else fewest
    split = []
    for g in groups:
        n = _cdiv(len(g["layers"]), group_size)
        split += [dict(g, layers=g["layers"][k::n]) for k in range(n)]
    return split, [page] * len(specs), False


def vllm_cached_layers(model):
    """The layers that own KV pages in vLLM: every attention layer but Gemma 4's KV-shared ones (their
    kv_sharing_target_layer_name points at the last earlier layer of their kind, gemma4.py Gemma4Attention)."""
    return [i for i in range(model.num_layers) if model.layer_has_attention(i) and not model.layer_kv_shared(i)]


def vllm_pp_stages(num_layers, pp):
    """The layers of each pipeline stage as vLLM splits them (vllm/distributed/utils.py get_pp_indices, with
    VLLM_PP_LAYER_PARTITION unset): num_layers // pp each, the remainder one more each on the stages before the
    last, counted back from the second last (30 layers on 4 stages: 7, 8, 8, 7)."""
    sizes = [num_layers // pp] * pp
    for k in range(2, num_layers % pp + 2):
        sizes[-k] += 1
    stages, start = [], 0
    for n in sizes:
        stages.append(range(start, start + n))
        start += n
    return stages


def vllm_stage_blocks(groups, pages, uniform, cached, stage, available):
    """(num_blocks, layers per group) of one pipeline stage's worker: the global groups projected onto its layers
    (kv_cache_utils.py _project_kv_cache_groups_to_worker), then get_kv_cache_config_from_groups: one group of
    different pages -> available // (the sum of its layers' pages); else available // page // (the most layers a
    projected group keeps)."""
    on_stage = set(stage)
    if uniform and len({pages[k] for k in range(len(cached))}) > 1:
        stage_page = sum(p for i, p in zip(cached, pages) if i in on_stage)
        return (available // stage_page if stage_page else None), 1
    group_size = max(sum(1 for i in g["layers"] if i in on_stage) for g in groups)
    return (available // pages[0] // group_size if group_size else None), group_size


def vllm_request_bytes(group, page, max_model_len, batched):
    """One request's most pages of one layer of a group, in bytes (vllm/v1/kv_cache_interface.py
    max_memory_usage_bytes): full attention every token; a window its last window - 1 tokens plus a chunked
    prefill's batch, and one page more for a window that starts mid-page; Llama 4's chunks one chunk plus the
    batch; never more than max_model_len tokens."""
    bs = group["block_size"]
    if group["kind"] == "full":
        return _cdiv(max_model_len, bs) * page
    if group["kind"] == "sliding":
        return (_cdiv(min(group["span"] - 1 + batched, max_model_len), bs) + 1) * page
    return _cdiv(min(group["span"] + batched, max_model_len), bs) * page


def vllm_blocks_per_request(groups, pages, uniform, max_model_len, batched):
    """(blocks one request needs, bytes it needs) under vLLM's accounting: get_max_concurrency_for_kv_cache_config
    and _max_memory_usage_bytes_from_groups (the start-up check)."""
    if uniform:  # one group: each layer's own pages, num_blocks counted against their sum
        g = groups[0]
        needed = sum(vllm_request_bytes(g, page, max_model_len, batched) for page in pages)
        return _cdiv(needed, sum(pages)), needed
    group_size = max(len(g["layers"]) for g in groups)
    page = pages[0]
    per_layer = sum(vllm_request_bytes(g, page, max_model_len, batched) for g in groups)
    return _cdiv(group_size * per_layer, page * group_size), \
        group_size * page * sum(_cdiv(vllm_request_bytes(g, page, max_model_len, batched), page) for g in groups)


def _vllm_available_memory(model, inf, eng):
    """(budget, terms, available KV bytes, max_num_batched_tokens, max_num_seqs) of one TP rank: the profiling
    budget of the section comment, or --kv-cache-memory-bytes itself (budget None)."""
    large = eng.gpu_bytes >= VLLM_LARGE_GPU
    batched = eng.max_num_batched_tokens or VLLM_SERVE_DEFAULTS[large][0]
    seqs = eng.max_num_seqs or VLLM_SERVE_DEFAULTS[large][1]
    bits = WEIGHT_BITS[inf.weight_dtype] if not inf.bits_per_weight else inf.bits_per_weight
    from fractions import Fraction
    weights = int(weight_bytes(model, Fraction(bits).limit_denominator(10**6), inf.tp, 1))
    terms = {"weights": weights}
    if eng.kv_cache_memory_bytes is not None:
        return None, terms, eng.kv_cache_memory_bytes, batched, seqs
    if eng.activation_peak_bytes is None:
        # the profiling run: one forward of max_num_batched_tokens tokens (one layer's transients live at once)
        # and the sampler's fp32 logits for max_num_seqs requests
        activation = max(prefill_activation_bytes(model, 1, batched, inf.tp, 2, "flash"),
                         seqs * -(-model.padded_vocab // inf.tp) * 4)
    else:
        activation = eng.activation_peak_bytes
    budget = int(eng.gpu_bytes * eng.gpu_memory_utilization)
    terms.update(non_torch=eng.non_torch_bytes, activation_peak=activation, cuda_graphs=eng.cuda_graph_bytes)
    available = budget - sum(terms.values())
    if available <= 0:
        raise ValueError(f"--engine vllm: nothing is left for the KV cache: {eng.gpu_memory_utilization:g} x "
                         f"{_size(eng.gpu_bytes)} = {_size(budget)} is less than weights + non-torch memory + "
                         "activation peak + CUDA graphs; raise --gpu-memory-utilization, use more -tp or smaller "
                         "weights")
    return budget, terms, available, batched, seqs


def vllm_kv_pool(model, inf, eng):
    """{terms of vLLM's budget, available_kv_bytes, page_bytes, num_blocks, kv_tokens, max_concurrency} for one TP
    rank, as vLLM computes them (see the section comment).  max_model_len is inf.context.  Models with Mamba-style
    state layers (gated delta-nets, Mamba-1/2, short convolutions): vllm_hybrid_state_pool.

    With -pp every stage's worker sizes its own pool from its own layers and the engine keeps the fewest blocks
    (kv_cache_utils.py get_kv_cache_configs: groups built from the whole model, projected onto each worker,
    num_blocks = min over workers), so the stage whose projected groups keep the most layers decides.  Each worker
    profiles its own budget; only --kv-cache-memory-bytes, which every worker returns as it is
    (gpu_worker.py determine_available_memory), is modelled there."""
    refusal = vllm_refusal(model, inf)
    if refusal:
        raise ValueError(refusal)
    if model.state_layer_count():
        return vllm_hybrid_state_pool(model, inf, eng)
    vllm_state_flags_refusal(model, eng)
    if inf.pp > 1 and eng.kv_cache_memory_bytes is None:
        raise ValueError("--engine vllm -pp: each stage's worker profiles its own budget (its layers' weights, its "
                         "activation peak), which is not modelled; give --kv-cache-memory-bytes (vLLM's flag, the "
                         "pool of every stage)")
    if model.has_indexer:
        return vllm_dsa_pool(model, inf, eng)
    kv = kv_cache_bytes(model, 1, 1, inf.kv_dtype, inf.tp)
    cached = vllm_cached_layers(model)
    groups, pages, uniform = vllm_kv_groups(model, inf, eng.block_size)
    budget, terms, available, batched, seqs = _vllm_available_memory(model, inf, eng)
    stages = vllm_pp_stages(model.num_layers, inf.pp)
    per_stage = [vllm_stage_blocks(groups, pages, uniform, cached, stage, available) for stage in stages]
    stage_blocks = [n for n, _ in per_stage if n is not None]
    num_blocks = min(stage_blocks)
    per_request, needed = vllm_blocks_per_request(groups, pages, uniform, inf.context, batched)
    concurrency = num_blocks / per_request
    # the check that one request fits, per worker (_check_enough_kv_cache_memory on its projected groups:
    # _max_memory_usage_bytes_from_groups), so it scales with the layers the stage keeps
    if uniform:
        stage_needed = [sum(vllm_request_bytes(groups[0], p, inf.context, batched)
                            for i, p in zip(cached, pages) if i in set(stage)) for stage in stages]
    else:
        stage_needed = [needed // max(len(g["layers"]) for g in groups) * size for _, size in per_stage]
    if uniform:
        pool_bytes = num_blocks * sum(pages)
        group_size = len(cached)
    else:
        group_size = max(len(g["layers"]) for g in groups)
        pool_bytes = num_blocks * pages[0] * group_size
    v024 = bool(model.gemma4_layers) or inf.pp > 1  # the paths read from vLLM v0.24.0's code (see VLLM_V024)
    if v024:  # v0.21 and later: kv_cache_utils.py get_kv_cache_capacity
        tokens = int(concurrency * inf.context)
    elif uniform:
        tokens = num_blocks * eng.block_size
    else:  # _report_kv_cache_config before v0.21: the blocks shared out among the groups, at the smallest block
        tokens = num_blocks // len(groups) * min(g["block_size"] for g in groups)
    shared = sum(1 for i in range(model.num_layers) if model.layer_kv_shared(i))
    pool = {"engine": "vllm", "budget_bytes": budget, "terms": terms, "available_kv_bytes": available,
            "bytes_per_token": kv["bytes_per_token"], "page_bytes": pages[0], "block_size": eng.block_size,
            "num_layers": len(cached), "kv_shared_layers": shared, "num_blocks": num_blocks, "kv_tokens": tokens,
            "kv_pool_bytes": pool_bytes, "max_model_len": inf.context,
            "groups": [{"kind": g["kind"], "span": g["span"], "block_size": g["block_size"],
                        "layers": len(g["layers"])} for g in groups],
            "group_size": group_size, "blocks_per_request": per_request, "needed_bytes_one_request": needed,
            "max_concurrency": concurrency, "max_num_batched_tokens": batched, "max_num_seqs": seqs,
            "gpu_memory_utilization": eng.gpu_memory_utilization, "gpu_bytes": eng.gpu_bytes,
            "fits_one_request": all(n <= available for n in stage_needed),
            "vllm_version": VLLM_V024 if v024 else None,
            "assumptions": _vllm_assumptions(eng, inf, batched, seqs, hybrid=not uniform, logged_tokens=not v024)}
    if v024:
        pool["assumptions"].append(
            f"vLLM {VLLM_V024}: 'GPU KV cache size' = int(concurrency x max_model_len) (kv_cache_utils.py "
            "get_kv_cache_capacity, since v0.21; before it, blocks // groups x block_size)")
    if shared:
        pool["assumptions"].append(
            f"{shared} KV-shared layer{'s' if shared > 1 else ''} (Gemma 4's num_kv_shared_layers) read an earlier "
            "layer's pages and own none (kv_sharing_target_layer_name; gpu_model_runner.py get_kv_cache_spec)")
    if inf.pp > 1:
        pool["stages"] = [{"layers": [s.start, s.stop - 1], "num_blocks": n, "layers_per_group": size}
                          for s, (n, size) in zip(stages, per_stage)]
        pool["assumptions"].append(
            f"-pp {inf.pp}: stages of {', '.join(str(len(s)) for s in stages)} layers (vllm/distributed/utils.py "
            "get_pp_indices; VLLM_PP_LAYER_PARTITION not modelled); each worker's pool is --kv-cache-memory-bytes, "
            "cut by its own layers, and the engine keeps the fewest blocks (kv_cache_utils.py get_kv_cache_configs)")
    return pool


# --- vLLM's DSA models (DeepSeek-V3.2, GLM-5): the latent beside the indexer's key cache ----------------------------
# vLLM v0.24.0 (vllm/model_executor/models/deepseek_v2.py) builds, in every layer of a model with index_topk, an
# Indexer whose DeepseekV32IndexerCache registers before the layer's MLAAttention; both give an MLAAttentionSpec
# (vllm/v1/kv_cache_interface.py):
#     latent: one row of kv_lora_rank + qk_rope_head_dim values in the KV dtype (bf16 with --kv-cache-dtype auto;
#             DeepseekV32ForCausalLM turns "bfloat16" into "auto"), on every TP rank;
#     indexer key: index_head_dim fp8 bytes plus one fp32 scale per 128 of them (quant_block_size 128), uint8:
#             index_head_dim + index_head_dim // 128 x 4 bytes (132 for DeepSeek-V3.2), on every TP rank.
# The block size is the first attention layer's backend's: DeepseekV32IndexerBackend supports only 64-token blocks on
# CUDA (Platform.update_block_size_for_backend), and the sparse-MLA backends take 64 too.  Both specs are full
# attention, so all layers form ONE group of per-layer pages (UniformTypeKVCacheSpecs; kv_cache_utils.py
# get_kv_cache_groups): num_blocks = available // (layers x (latent page + indexer page)), a request cdiv(L, 64).
# fp8 KV is not modelled: its latent layout is the sparse-MLA backend's, which depends on the GPU (Hopper's
# FLASHMLA_SPARSE stores fp8_ds_mla, 656 B a token; Blackwell prefers FLASHINFER_MLA_SPARSE for fp8).
VLLM_DSA_BLOCK_SIZE = 64
VLLM_DSA_QUANT_BLOCK = 128   # Indexer.quant_block_size: one fp32 scale per 128 fp8 key values


def vllm_dsa_pool(model, inf, eng):
    """vllm_kv_pool for a model with the DSA indexer (see the section comment): the same keys, plus "dsa"."""
    if inf.kv_dtype != "bf16":
        raise ValueError(f"--engine vllm: --kv-cache-dtype {inf.kv_dtype} with the DSA indexer is not modelled (the "
                         "sparse-MLA backend the GPU picks decides an fp8 latent's layout); use auto (bf16)")
    if eng.block_size_given and eng.block_size != VLLM_DSA_BLOCK_SIZE:
        raise ValueError(f"--block-size {eng.block_size}: vLLM's DSA indexer cache takes {VLLM_DSA_BLOCK_SIZE}-token "
                         "blocks only (DeepseekV32IndexerBackend)")
    fields = _vllm_config_fields(eng, ("index_topk_freq", "index_topk_pattern"))
    if fields:
        raise ValueError(f"--engine vllm: config.json field {next(iter(fields))!r} (IndexCache: layers without an "
                         "indexer) is not modelled")
    block = VLLM_DSA_BLOCK_SIZE
    latent_row = (model.kv_lora_rank + model.qk_rope_head_dim) * 2
    index_row = model.index_head_dim + model.index_head_dim // VLLM_DSA_QUANT_BLOCK * 4
    layers = model.num_layers
    page = block * (latent_row + index_row)  # one block of one layer: its latent page and its indexer page
    budget, terms, available, batched, seqs = _vllm_available_memory(model, inf, eng)
    # -pp: each stage's worker divides its pool by its own layers' pages; the engine keeps the fewest blocks
    stages = vllm_pp_stages(layers, inf.pp)
    num_blocks = min(available // (len(stage) * page) for stage in stages)
    per_request = _cdiv(inf.context, block)
    needed = per_request * layers * page
    concurrency = num_blocks / per_request
    fits = all(per_request * len(stage) * page <= available for stage in stages)
    return {"engine": "vllm", "budget_bytes": budget, "terms": terms, "available_kv_bytes": available,
            "bytes_per_token": layers * (latent_row + index_row), "page_bytes": page, "block_size": block,
            "num_layers": layers, "kv_shared_layers": 0, "num_blocks": num_blocks,
            "kv_tokens": int(concurrency * inf.context), "kv_pool_bytes": num_blocks * layers * page,
            "max_model_len": inf.context,
            "groups": [{"kind": "full", "span": 0, "block_size": block, "layers": 2 * layers}],
            "group_size": layers, "blocks_per_request": per_request, "needed_bytes_one_request": needed,
            "max_concurrency": concurrency, "max_num_batched_tokens": batched, "max_num_seqs": seqs,
            "gpu_memory_utilization": eng.gpu_memory_utilization, "gpu_bytes": eng.gpu_bytes,
            "fits_one_request": fits, "vllm_version": VLLM_V024,
            **({"stages": [{"layers": [st.start, st.stop - 1], "num_blocks": available // (len(st) * page),
                            "layers_per_group": len(st)} for st in stages]} if inf.pp > 1 else {}),
            "dsa": {"latent_bytes_per_token": latent_row, "indexer_bytes_per_token": index_row,
                    "latent_page_bytes": block * latent_row, "indexer_page_bytes": block * index_row},
            "assumptions": [
                f"vLLM {VLLM_V024} DSA layout (deepseek_v2.py DeepseekV32IndexerCache, kv_cache_interface.py "
                f"MLAAttentionSpec): per layer and token a latent of {model.kv_lora_rank} + {model.qk_rope_head_dim} "
                f"values at 2 B ({latent_row} B) and an indexer key of {model.index_head_dim} fp8 bytes plus "
                f"{model.index_head_dim // VLLM_DSA_QUANT_BLOCK} fp32 scale(s) ({index_row} B), both on every TP "
                f"rank; {block}-token blocks (DeepseekV32IndexerBackend); one group of per-layer pages "
                "(UniformTypeKVCacheSpecs): num_blocks = pool // (layers x (latent page + indexer page))",
                f"vLLM {VLLM_V024}: 'GPU KV cache size' = int(concurrency x max_model_len) (kv_cache_utils.py "
                "get_kv_cache_capacity)"]
            + [line for line in _vllm_assumptions(eng, inf, batched, seqs) if not line.startswith("vLLM: the KV pool")]
            + ([f"vLLM: the KV pool is --kv-cache-memory-bytes {_size(eng.kv_cache_memory_bytes)} (no profiling "
                "budget)"] if eng.kv_cache_memory_bytes is not None else [])
            + ([f"-pp {inf.pp}: stages of {', '.join(str(len(st)) for st in stages)} layers (vllm/distributed/"
                "utils.py get_pp_indices); each worker divides the pool by its own layers' pages and the engine keeps "
                "the fewest blocks (kv_cache_utils.py get_kv_cache_configs)"] if inf.pp > 1 else [])}


# --- vLLM's hybrid models: attention pages beside Mamba-style state pages -----------------------------------------
# Models with gated delta-nets (Qwen3-Next, Qwen3.5), Mamba-2 (Bamba, Nemotron-H, Falcon-H1), Mamba-1 (Jamba) or
# short convolutions (LFM2) keep, per request and per such layer, a fixed state instead of K/V rows.  vLLM V1 (the
# arithmetic below is the one the v0.24.0 start-up logs of tests/test_mem_vllm_hybrid.py reproduce exactly) gives
# every such layer a MambaSpec (vllm/v1/kv_cache_interface.py) whose page is one request's whole state:
#     state page = sum over the state's tensors of prod(shape) x dtype bytes          (MambaSpec.page_size_bytes)
# with the shapes of vllm/model_executor/layers/mamba/mamba_utils.py MambaStateShapeCalculator, per TP rank (S =
# speculative tokens, K = the conv kernel; the conv state keeps K - 1 columns, plus S with speculative decoding):
#     gated delta-net  conv (2 kd + vd) / tp x (K - 1 + S)   temporal H_v / tp x d_v x d_k
#     Mamba-2          conv (H P + 2 G' N) / tp x (K - 1 + S) temporal H / tp x P x N   (G' = G, or tp when G < tp)
#     Mamba-1          conv d / tp x (K - 1)                  temporal d / tp x N
#     short conv       conv hidden / tp x (K - 1)
# the conv state in the model dtype, the temporal one in --mamba-ssm-cache-dtype ('auto': the model dtype, except
# Qwen3.5, which takes its config.json's mamba_ssm_dtype, and Nemotron-H, which takes float32:
# vllm/model_executor/models/config.py Qwen3_5ForConditionalGenerationConfig / NemotronHForCausalLMConfig).
# One page size for all layers (HybridAttentionMambaModelConfig.verify_and_update_config): the attention block
# size is raised to the smallest multiple of 16 whose page holds a state page,
#     block_size = 16 x cdiv(state page, 16 x attention bytes per token of one layer),
# and the state page is padded to that attention page.  The layers are then grouped as for any hybrid model
# (_get_kv_cache_groups_uniform_page_size: group_size = the fewer layers of the two kinds, or the more when under
# 1.5 x the fewer; the MTP drafter's attention layers join the attention kind), num_blocks = available // page //
# group_size (get_kv_cache_config_from_groups), and a request needs, per group, cdiv(max_model_len, block_size)
# attention pages, and 1 + S state pages ('none': prefix caching off) or 2 + S ('align': prefix caching on)
# (MambaSpec.max_memory_usage_bytes; S: vllm/model_executor/layers/mamba/abstract.py num_speculative_blocks =
# num_speculative_tokens).  The log's concurrency is num_blocks / that sum of pages
# (get_max_concurrency_for_kv_cache_config) and its "GPU KV cache size" int(concurrency x max_model_len)
# (_report_kv_cache_config since vLLM v0.24: older versions logged num_blocks // groups x block_size).
VLLM_MAMBA_CACHE_MODES = ("none", "align")
VLLM_SSM_DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
VLLM_STATE_FLAGS = {"mamba_cache_mode": "--mamba-cache-mode", "mamba_ssm_cache_dtype": "--mamba-ssm-cache-dtype",
                    "num_speculative_tokens": "--num-speculative-tokens",
                    "draft_attention_layers": "--draft-attention-layers"}


def vllm_state_flags_refusal(model, eng):
    """The state-page flags name nothing on a model without state layers: one line naming the first given."""
    given = {"mamba_cache_mode": eng.mamba_cache_mode is not None,
             "mamba_ssm_cache_dtype": eng.mamba_ssm_cache_dtype != "auto",
             "num_speculative_tokens": eng.num_speculative_tokens > 0,
             "draft_attention_layers": eng.draft_attention_layers is not None}
    for dest, flag in VLLM_STATE_FLAGS.items():
        if given[dest]:
            raise ValueError(f"{flag} is for models with linear-attention / SSM layers (vLLM's state pages); "
                             "speculative decoding on other models is not modelled")


def _vllm_config_fields(eng, keys=("mamba_ssm_dtype", "mamba_ssm_cache_dtype", "mtp_num_hidden_layers")):
    """The config.json fields vLLM reads for the state dtype and the MTP drafter, or the given keys (None: no
    config.json given)."""
    if not eng.config_path:
        return None
    raw, _ = read_config_json(eng.config_path)
    text = raw.get("text_config") if isinstance(raw.get("text_config"), dict) else raw
    return {key: text[key] for key in keys if key in text}


def vllm_ssm_dtype(model, eng, fields):
    """(vLLM's temporal-state dtype name, where it comes from) for --mamba-ssm-cache-dtype (see the section)."""
    if eng.mamba_ssm_cache_dtype != "auto":
        return eng.mamba_ssm_cache_dtype, "--mamba-ssm-cache-dtype"
    if model.gguf_arch in ("qwen35", "qwen35moe"):  # Qwen3_5ForConditionalGenerationConfig
        if fields is None:
            raise ValueError("--engine vllm: Qwen3.5's state dtype is its config.json's mamba_ssm_dtype (vLLM adopts "
                             "it for 'auto'), which a preset or flags do not carry; give --config or "
                             "--mamba-ssm-cache-dtype (float32 in the published Qwen3.5 / 3.6 files that have it)")
        if "mamba_ssm_dtype" in fields:
            return str(fields["mamba_ssm_dtype"]), "config.json mamba_ssm_dtype (vLLM's 'auto' for Qwen3.5)"
    if model.gguf_arch == "nemotron_h":  # NemotronHForCausalLMConfig: the config's mamba_ssm_cache_dtype, or fp32
        if fields is not None and "mamba_ssm_cache_dtype" in fields:
            return str(fields["mamba_ssm_cache_dtype"]), "config.json mamba_ssm_cache_dtype (Nemotron-H)"
        if fields is None:
            raise ValueError("--engine vllm: Nemotron-H's state dtype is its config.json's mamba_ssm_cache_dtype, "
                             "float32 when absent (vLLM's NemotronHForCausalLMConfig); give --config or "
                             "--mamba-ssm-cache-dtype")
        return "float32", "vLLM's default for Nemotron-H (NemotronHForCausalLMConfig)"
    return "bfloat16", "'auto': the model dtype, bf16 assumed"


def vllm_state_page(model, tp, ssm_bytes, spec_tokens, conv_bytes=2):
    """One state layer's page on one TP rank, in bytes, and its tensors' shapes (MambaStateShapeCalculator; the
    section comment).  conv_bytes: the model dtype's (bf16 / fp16)."""
    def split(n, what):
        if n % tp:
            raise ValueError(f"--engine vllm: -tp {tp} does not divide the model's {what} ({n}); vLLM's divide() "
                             "asserts it")
        return n // tp
    if model.short_conv:  # LFM2
        conv = (split(model.hidden_size, "hidden size"), model.short_conv_kernel - 1)
        return conv[0] * conv[1] * conv_bytes, (conv,)
    if model.ssm_kind == "mamba1":  # Jamba
        d = split(model.mamba1_inner, "Mamba-1 inner width")
        conv, temporal = (d, model.mamba_d_conv - 1), (d, model.mamba_d_state)
    elif model.ssm_kind == "mamba2":  # Bamba, Nemotron-H, Falcon-H1
        groups = model.mamba_n_groups + (0 if model.mamba_n_groups % tp == 0 else tp - model.mamba_n_groups)
        conv = (split(model.mamba_width + 2 * groups * model.mamba_d_state, "Mamba-2 conv channels"),
                model.mamba_d_conv - 1 + spec_tokens)
        temporal = (split(model.mamba_num_heads, "Mamba-2 heads"), model.mamba_head_dim, model.mamba_d_state)
    else:  # gated delta-net (Qwen3-Next, Qwen3.5)
        kd = model.linear_num_key_heads * model.linear_key_head_dim
        vd = model.linear_num_value_heads * model.linear_value_head_dim
        conv = (split(2 * kd + vd, "delta-net conv channels"), model.linear_conv_kernel - 1 + spec_tokens)
        temporal = (split(model.linear_num_value_heads, "delta-net value heads"), model.linear_value_head_dim,
                    model.linear_key_head_dim)
    return math.prod(conv) * conv_bytes + math.prod(temporal) * ssm_bytes, (conv, temporal)


def vllm_hybrid_state_pool(model, inf, eng):
    """vllm_kv_pool for a model with state layers (see the section comment): the same keys, plus "state"."""
    if model.is_mla:
        raise ValueError("--engine vllm: MLA beside state layers is not modelled; use --engine sum")
    if any(model.layer_has_attention(i) and model.layer_attention(i) == "sliding" for i in range(model.num_layers)):
        raise ValueError("--engine vllm: sliding-window layers beside state layers (three page kinds) are not "
                         "modelled; use --engine sum")
    if eng.mamba_cache_mode is None:
        raise ValueError(f"--engine vllm: a request's {model.linear_mixer_name} state pages depend on prefix caching: "
                         "give --mamba-cache-mode none (prefix caching off) or align (--enable-prefix-caching; "
                         "'all' is not modelled)")
    spec = eng.num_speculative_tokens
    if spec and (model.short_conv or model.ssm_kind == "mamba1"):
        raise ValueError(f"--num-speculative-tokens: speculative decoding with {model.linear_mixer_name} layers is "
                         "not modelled")
    fields = _vllm_config_fields(eng)
    draft = 0
    if spec:
        draft = eng.draft_attention_layers
        if draft is None:
            if fields is None or "mtp_num_hidden_layers" not in fields:
                raise ValueError("--num-speculative-tokens: give --draft-attention-layers (the MTP drafter's "
                                 "attention layers, config.json mtp_num_hidden_layers)")
            draft = int(fields["mtp_num_hidden_layers"])
    elif eng.draft_attention_layers is not None:
        raise ValueError("--draft-attention-layers needs --num-speculative-tokens (the drafter's proposals)")
    ssm_name, ssm_source = vllm_ssm_dtype(model, eng, fields)
    if ssm_name not in VLLM_SSM_DTYPE_BYTES:
        raise ValueError(f"--engine vllm: state dtype {ssm_name!r} ({ssm_source}) is not float32, bfloat16 or float16")
    state_raw, shapes = vllm_state_page(model, inf.tp, VLLM_SSM_DTYPE_BYTES[ssm_name], spec)
    attention = [i for i in range(model.num_layers) if model.layer_has_attention(i)]
    rows = {kv_cache_bytes(model, 1, 1, inf.kv_dtype, inf.tp, layers={i})["total_bytes"] for i in attention}
    if len(rows) != 1:
        raise ValueError("--engine vllm: attention layers of different widths beside state layers are not modelled; "
                         "use --engine sum")
    row = rows.pop()  # one layer's K and V bytes for one token on one rank
    block = 16 * _cdiv(state_raw, 16 * row)  # HybridAttentionMambaModelConfig: attention page >= state page
    if eng.block_size_given and eng.block_size >= block:
        block = eng.block_size
    page = block * row  # the state page padded up to it
    n_attention, n_state = len(attention) + draft, model.state_layer_count()
    fewest, most = min(n_attention, n_state), max(n_attention, n_state)
    group_size = most if most < 1.5 * fewest else fewest
    attention_groups, state_groups = _cdiv(n_attention, group_size), _cdiv(n_state, group_size)
    budget, terms, available, batched, seqs = _vllm_available_memory(model, inf, eng)
    num_blocks = available // page // group_size
    state_pages = (1 if eng.mamba_cache_mode == "none" else 2) + spec
    per_request = attention_groups * _cdiv(inf.context, block) + state_groups * state_pages
    needed = group_size * page * per_request  # _max_memory_usage_bytes_from_groups
    concurrency = num_blocks / per_request
    groups = [{"kind": "full", "span": 0, "block_size": block, "layers": group_size}] * attention_groups + \
        [{"kind": model.linear_mixer_name, "span": 0, "block_size": block, "layers": group_size}] * state_groups
    kv = kv_cache_bytes(model, 1, 1, inf.kv_dtype, inf.tp)
    assumptions = [
        f"vLLM's hybrid KV-cache manager with {model.linear_mixer_name} state pages (vllm/v1/kv_cache_interface.py "
        f"MambaSpec): a state page of {state_raw:,} B per layer (shapes {shapes}, conv in the model dtype, bf16 "
        f"assumed; temporal state {ssm_name}: {ssm_source}), padded to the attention page of {block} tokens "
        f"(HybridAttentionMambaModelConfig: 16 x cdiv(state page, 16 x {row:,} B)); {attention_groups} attention "
        f"and {state_groups} state groups of {group_size} layers"
        + (f" ({draft} MTP draft attention layer{'s' if draft != 1 else ''} joining the attention kind)" if draft
           else ""),
        f"a request holds cdiv(--max-model-len, {block}) attention pages per attention group and {state_pages} state "
        f"page(s) per state group (--mamba-cache-mode {eng.mamba_cache_mode}: "
        f"{1 if eng.mamba_cache_mode == 'none' else 2} + {spec} speculative; MambaSpec.max_memory_usage_bytes); "
        "'GPU KV cache size' = int(concurrency x "
        "max_model_len) as vLLM >= 0.24 logs it (kv_cache_utils.py _report_kv_cache_config)"]
    return {"engine": "vllm", "budget_bytes": budget, "terms": terms, "available_kv_bytes": available,
            "bytes_per_token": kv["bytes_per_token"], "page_bytes": page, "block_size": block,
            "num_layers": model.num_layers, "num_blocks": num_blocks, "kv_tokens": int(concurrency * inf.context),
            "kv_pool_bytes": num_blocks * page * group_size, "max_model_len": inf.context,
            "groups": groups, "group_size": group_size, "blocks_per_request": per_request,
            "needed_bytes_one_request": needed, "max_concurrency": concurrency, "max_num_batched_tokens": batched,
            "max_num_seqs": seqs, "gpu_memory_utilization": eng.gpu_memory_utilization, "gpu_bytes": eng.gpu_bytes,
            "fits_one_request": needed <= available,
            "state": {"mixer": model.linear_mixer_name, "page_bytes_unpadded": state_raw, "shapes": shapes,
                      "ssm_dtype": ssm_name, "layers": n_state, "attention_layers": n_attention,
                      "draft_attention_layers": draft, "mamba_cache_mode": eng.mamba_cache_mode,
                      "num_speculative_tokens": spec, "pages_per_request": state_pages},
            "assumptions": assumptions + _vllm_assumptions(eng, inf, batched, seqs, state=True)}


def _vllm_assumptions(eng, inf, batched, seqs, hybrid=False, state=False, logged_tokens=True):
    pages = []
    if hybrid:
        pages.append("vLLM's hybrid KV-cache manager (its default): layers grouped by kind, a window's request "
                     f"holds its last window - 1 tokens plus --max-num-batched-tokens {batched:,} and one page, a "
                     "chunk one chunk plus that batch (kv_cache_interface.py max_memory_usage_bytes)"
                     + ("; 'GPU KV cache size' as kv_cache_utils.py _report_kv_cache_config logs it: blocks // "
                        "groups x block_size, the tokens of one group, not of a request" if logged_tokens else ""))
    if eng.kv_cache_memory_bytes is not None:
        return pages + [f"vLLM: the KV pool is --kv-cache-memory-bytes {_size(eng.kv_cache_memory_bytes)} (no profiling "
                "budget); " + ("num_blocks = pool // page // group_size" if state else
                               "pages of --block-size tokens per layer, num_blocks = pool // page // layers")
                + " (vllm/v1/core/kv_cache_utils.py get_num_blocks)"]
    out = pages + [f"vLLM budget: --gpu-memory-utilization {eng.gpu_memory_utilization:g} x --gpu-memory, minus weights "
           "(exact), non-torch memory, the profiling run's activation peak and CUDA graphs "
           "(vllm/v1/worker/gpu_worker.py determine_available_memory; vllm PR #10511)",
           f"non-torch memory {_size(eng.non_torch_bytes)} (" + ("--non-torch-memory" if eng.non_torch_bytes !=
           VLLM_NON_TORCH_BYTES else "assumed: CUDA context and library workspaces; vLLM logs show 0.35 GiB on an "
           "RTX 3090 (vllm#10517) and 1.79 GiB on an 80 GB GPU (vllm#10511); more with -tp (NCCL buffers); set "
           "--non-torch-memory") + ")"]
    if eng.activation_peak_bytes is None:
        out.append(f"activation peak estimated: one forward of --max-num-batched-tokens {batched:,} tokens (one "
                   f"layer's transients) or the sampler's fp32 logits for --max-num-seqs {seqs:,}, the larger; "
                   "defaults as `vllm serve` picks them by GPU memory (EngineArgs.get_batch_defaults: 8192 / 1024 "
                   "from 70 GiB, except A100, else 2048 / 256); vLLM logs its measured value (\"PyTorch activation "
                   "peak memory\"): give it with --activation-peak")
    out.append("CUDA graphs: " + (f"{_size(eng.cuda_graph_bytes)} (--cuda-graph-memory)" if eng.cuda_graph_bytes
               else "0 (--enforce-eager, or vLLM before 0.21.0; since then the graphs' memory comes out of the "
                    "budget: give vLLM's \"Estimated CUDA graph memory\" with --cuda-graph-memory)"))
    return out


# ==============================================================================================================
# Serving engines: SGLang's KV pool (--infer --engine sglang)
# ==============================================================================================================
# SGLang (the version modelled: 0.5.8; the KV formula below is the same in 0.4.x) does not profile a forward pass.
# It reserves a fixed share of the memory it saw before loading the weights and gives the KV pool what is left
# (python/sglang/srt/model_executor/model_runner_kv_cache_mixin.py, ModelRunnerKVCacheMixin.profile_max_num_token;
# model_runner.py before the mixin was split out):
#     rest = avail_after_load - avail_before_load x (1 - mem_fraction_static)          (GiB, as SGLang measures)
#     max_total_num_tokens = int(rest x 2^30) // cell_size
#     cell_size = kv_heads_per_rank x (head_dim + v_head_dim) x layers x dtype bytes   (MHA / GQA)
#               = (kv_lora_rank + qk_rope_head_dim) x layers x dtype bytes            (MLA: one latent, replicated)
# avail_before_load is the free memory when the weights start loading (its log: "Load weight begin. avail mem="),
# avail_after_load the free memory after ("Load weight end. ... avail mem="); both are the minimum over the TP ranks.
# ModelRunnerKVCacheMixin.init_memory then: max_num_reqs (the request pool) = --max-running-requests, else
# min(max(int(tokens / context_len x 512), 2048), 4096); tokens = min(tokens, --max-total-tokens); tokens rounded
# down to whole pages (--page-size); "Not enough memory" when nothing is left.  The pool (mem_cache/memory_pool.py
# MHATokenToKVPool / MLATokenToKVPool) allocates tokens + page_size rows per layer (the padded slot 0) and logs
# "KV Cache is allocated. #tokens: N, K size: X GB, V size: Y GB" (MLA: "KV size"), its GB being 2^30 bytes.
# The scheduler's max_running_requests = min(tokens // 2 or --max-running-requests, max_num_reqs).
# mem_fraction_static's default (server_args.py ServerArgs._handle_gpu_memory_settings), GPU memory in MiB:
#     chunked_prefill_size, cuda_graph_max_bs by GPU memory (< 20 GiB: 2048, 8; < 35: 2048, 24 (80 at tp >= 4);
#     < 60: 4096, 32 (160); < 90: 8192, 256 (512); < 160: 8192, 256 (512); else 16384, 512)
#     reserved = 512 + 1.5 x max(chunked_prefill_size, 2048) + 2 x cuda_graph_max_bs + tp x pp / 8 x 1024 (MiB),
#                at least 10 GiB on a GPU above 60 GiB
#     mem_fraction_static = round((gpu_mem - reserved) / gpu_mem, 3)
# (multimodal models, DP attention and speculative decoding reserve more; not modelled: give --mem-fraction-static)
#
# Sliding-window layers (SGLang 0.5.8, the wheel of 2026-01-23).  Only the architectures listed in
# configs/model_config.py is_hybrid_swa_model get a second pool for them (mem_cache/swa_memory_pool.py SWAKVPool:
# one MHATokenToKVPool for the full layers, one for the sliding ones), with the layers from get_hybrid_layer_ids:
#     GptOssForCausalLM               config layer_types ("sliding_attention" / "full_attention")
#     Llama4ForConditionalGeneration  every layer with (i + 1) % 4 != 0 chunked, the rest full
#     MiMoV2FlashForCausalLM          hybrid_layer_pattern (1: sliding), its sliding layers with their own heads
# Every other architecture keeps all its layers at full length in the one pool, sliding or not: Gemma 2 / 3 / 3n and
# Olmo2/3 (server_args.py _handle_model_specific_adjustments sets disable_hybrid_swa_memory: "not yet supported"),
# Cohere2, Mistral and Phi-3 (not in the list).  --disable-hybrid-swa-memory does the same for the listed ones (and
# server_args.py sets it for gpt-oss when the attention backend is trtllm_mha, Blackwell's default, or with
# speculative decoding).  For the hybrid ones model_runner_kv_cache_mixin.py then:
#     profile:  cell_size = kv_heads_per_rank x (head_dim + v_head_dim) x ALL layers x bytes
#               (+ swa_kv_heads_per_rank x (swa_head_dim + swa_v_head_dim) x sliding layers x bytes for MiMo-V2-Flash)
#               max_total_num_tokens = int(rest x 2^30) // cell_size; capped; whole pages       (as above)
#     set_num_tokens_hybrid_swa (token-layers, not bytes):
#               full = int(max_total_num_tokens x num_hidden_layers / (ratio x sliding layers + full layers))
#               swa  = int(full x ratio); each rounded down to whole pages; max_total_num_tokens = full
#     log:      "Use sliding window memory pool. full_layer_tokens=F, swa_layer_tokens=S"
# with ratio = --swa-full-tokens-ratio (server_args.py, default 0.8).  SWAKVPool builds the sliding pool first, so
# its "KV Cache is allocated. #tokens: S, ..." line comes before the full pool's "#tokens: F" one, then "SWAKVPool
# mem usage: X GB, swa size: S, full size: F" (X: both pools' K + V).  sglang PR #18039 ("Fix swa kv cache memory
# allocation", merged 2026-01-31, so not in 0.5.8) later counts each kind of layer at its own per-token bytes in
# both steps and splits the memory rather than the token-layers; that version is not modelled.
SGLANG_SWA_FULL_TOKENS_RATIO = 0.8
SGLANG_HYBRID_SWA_ARCHS = {"gpt_oss": "GptOssForCausalLM", "llama4": "Llama4ForConditionalGeneration",
                           "llama4_text": "Llama4ForConditionalGeneration",
                           "mimo_v2_flash": "MiMoV2FlashForCausalLM"}
SGLANG_SLIDING_IN_ONE_POOL = {"gemma2": "Gemma2ForCausalLM", "gemma3": "Gemma3ForConditionalGeneration",
                              "gemma3_text": "Gemma3ForCausalLM", "olmo3": "Olmo2ForCausalLM",
                              "cohere2": "Cohere2ForCausalLM", "mistral": "MistralForCausalLM",
                              "phi3": "Phi3ForCausalLM"}
# published as vision-language checkpoints: SGLang lowers the default fraction for the vision tower
# (server_args.py adjust_mem_fraction_for_vlm) and loads its weights, neither of which this model holds
SGLANG_VISION_WRAPPED = {"llama4", "llama4_text", "gemma3", "gemma3_text"}
SGLANG_VERSION = "0.5.8"
SGLANG_INIT_BYTES = 2**30   # assumed: what CUDA / NCCL take before the weights load (logs: 0.84 GiB on an H100,
                            # docs.sglang.ai 2025-01; 1.2 GiB on an H200, sglang PR #4826)
SGLANG_KV_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "fp8": 1}   # fp8 stored as uint8 (memory_pool.py store_dtype)
# (GPU memory below, MiB) -> (chunked_prefill_size, cuda_graph_max_bs at tp < 4, at tp >= 4)
SGLANG_GPU_TIERS = ((20 * 1024, 2048, 8, 8), (35 * 1024, 2048, 24, 80), (60 * 1024, 4096, 32, 160),
                    (90 * 1024, 8192, 256, 512), (160 * 1024, 8192, 256, 512), (math.inf, 16384, 512, 512))


@dataclass
class SglangSetup:
    gpu_bytes: int = 0                        # total GPU memory (nvidia-smi's memory.total), for the defaults
    mem_fraction_static: float | None = None  # None: SGLang's default for this GPU
    max_total_tokens: int | None = None
    page_size: int = 1
    chunked_prefill_size: int | None = None   # None: by GPU memory
    cuda_graph_max_bs: int | None = None      # None: by GPU memory and tp
    max_running_requests: int | None = None
    avail_before_load: int | None = None      # None: gpu_bytes - SGLANG_INIT_BYTES
    avail_after_load: int | None = None       # None: avail_before_load - the weights (exact)
    swa_full_tokens_ratio: float = SGLANG_SWA_FULL_TOKENS_RATIO  # sliding-layer tokens / full-layer tokens
    disable_hybrid_swa_memory: bool = False   # one pool of every layer for the hybrid-SWA architectures too


def _sglang_sliding_layers(model):
    return [i for i in range(model.num_layers) if model.layer_attention(i) == "sliding"]


def sglang_refusal(model, inf, eng=None):
    """The layouts whose pool this planner does not reproduce, as one line (None when it does)."""
    eng = eng or SglangSetup()
    if model is None:
        return "--engine sglang needs a model (its KV cells), not --params"
    if any(model.layer_is_linear(i) for i in range(model.num_layers)):
        return ("--engine sglang: linear-attention / SSM layers (SGLang's HybridLinearKVPool beside its MambaPool, "
                "split by --mamba-full-memory-ratio) are not modelled yet: no published log to check them against; "
                "use --engine sum")
    if model.has_indexer:
        return ("--engine sglang: the DSA indexer's key cache (SGLang's NSATokenToKVPool) is not modelled yet; use "
                "--engine sum")
    if model.gemma4_layers:  # issue 10, branch gemma4 (as --engine vllm / llama.cpp)
        return ("--engine sglang: Gemma 4's per-layer head widths and KV-shared layers (SGLang's pools per layer "
                "kind) are not modelled yet; use --engine sum or hf")
    sliding = _sglang_sliding_layers(model)
    mt = model.model_type
    if sliding and mt not in SGLANG_HYBRID_SWA_ARCHS and mt not in SGLANG_SLIDING_IN_ONE_POOL:
        return (f"--engine sglang: which pool SGLang {SGLANG_VERSION} gives the sliding-window layers of model_type "
                f"'{mt or 'custom'}' is not modelled (modelled: gpt-oss, Llama 4 and MiMo-V2-Flash's SWAKVPool; "
                "Gemma 2/3, OLMo-3, Cohere2, Mistral, Phi-3 in one pool); use --engine sum")
    if sliding and mt in SGLANG_HYBRID_SWA_ARCHS:
        if len(sliding) == model.num_layers:
            return "--engine sglang: a hybrid-SWA model without full-attention layers is not modelled"
        if mt == "mimo_v2_flash" and eng.disable_hybrid_swa_memory:
            return ("--engine sglang: MiMo-V2-Flash without the SWA pool (its sliding layers' own heads in one "
                    "pool) is not modelled; drop --disable-hybrid-swa-memory")
        if mt.startswith("llama4") and sliding != [i for i in range(model.num_layers) if (i + 1) % 4]:
            return ("--engine sglang: SGLang takes Llama 4's chunked layers as every layer but each 4th "
                    "(get_hybrid_layer_ids); this model's layer_types differ")
    if inf.pp > 1:
        return "--engine sglang: pipeline parallelism (each stage's own pool) is not modelled yet; drop -pp"
    if inf.kv_dtype not in SGLANG_KV_BYTES:
        return f"--engine sglang: --kv-cache-dtype {inf.kv_dtype} is not an SGLang KV-cache type (auto, bf16, " \
               "fp8_e4m3, fp8_e5m2)"
    if model.model_type in SGLANG_VISION_WRAPPED and (eng.mem_fraction_static is None or
                                                      eng.avail_after_load is None):
        return (f"--engine sglang: {model.model_type}'s published checkpoints are vision-language models: SGLang "
                "lowers its default --mem-fraction-static for the vision tower and loads its weights, neither "
                "modelled; give --mem-fraction-static and --avail-mem-after-load (its \"Load weight end\" line)")
    return None


def sglang_swa_layout(model, inf, eng):
    """SGLang's hybrid-SWA layout for this model, or None when every layer is in one pool (see the section comment):
    {full_layers, swa_layers, full_k, full_v, swa_k, swa_v} with the K / V bytes one token takes in ONE layer of
    each kind on one TP rank."""
    sliding = _sglang_sliding_layers(model)
    if not sliding or model.model_type not in SGLANG_HYBRID_SWA_ARCHS or eng.disable_hybrid_swa_memory:
        return None
    size = SGLANG_KV_BYTES[inf.kv_dtype]
    full_heads = kv_heads_per_rank(model.kv_heads, inf.tp)
    # MiMo-V2-Flash's sliding pool takes swa_num_key_value_heads / swa_head_dim / swa_v_head_dim
    # (model_runner_kv_cache_mixin.py init_memory_pool, is_hybrid_swa_compress); the others the full layers' heads
    s = sliding[0]
    swa_heads = kv_heads_per_rank(model.layer_kv_heads(s), inf.tp)
    return {"full_layers": model.num_layers - len(sliding), "swa_layers": len(sliding),
            "full_k": full_heads * model.d_head * size, "full_v": full_heads * model.v_dim * size,
            "swa_k": swa_heads * model.layer_head_dim(s) * size, "swa_v": swa_heads * model.layer_v_dim(s) * size}


def sglang_cell_bytes(model, inf):
    """(K bytes, V bytes) of the cell SGLang 0.5.8 profiles the pool with (get_cell_size_per_token), one TP rank:
    MHA / GQA keep kv_heads_per_rank x head_dim keys and kv_heads_per_rank x v_head_dim values in every layer
    (ModelConfig.get_num_kv_heads: max(1, kv_heads // tp)) -- sliding layers included, even for the hybrid-SWA
    models; MiMo-V2-Flash adds its sliding layers once more at their own heads; MLA one latent of kv_lora_rank +
    qk_rope_head_dim, on every rank (V 0)."""
    size = SGLANG_KV_BYTES[inf.kv_dtype]
    if model.is_mla:
        return (model.kv_lora_rank + model.qk_rope_head_dim) * model.num_layers * size, 0
    heads = kv_heads_per_rank(model.kv_heads, inf.tp)
    k, v = heads * model.d_head * model.num_layers * size, heads * model.v_dim * model.num_layers * size
    if model.model_type == "mimo_v2_flash" and _sglang_sliding_layers(model):  # by architecture, as SGLang adds it
        sliding = _sglang_sliding_layers(model)
        swa_heads = kv_heads_per_rank(model.layer_kv_heads(sliding[0]), inf.tp)
        k += swa_heads * model.layer_head_dim(sliding[0]) * len(sliding) * size
        v += swa_heads * model.layer_v_dim(sliding[0]) * len(sliding) * size
    return k, v


def sglang_split_swa(tokens, num_layers, layout, ratio, page_size):
    """set_num_tokens_hybrid_swa (SGLang 0.5.8): the profiled tokens of every layer shared out as token-layers,
    the sliding layers getting ratio x the full layers' tokens, each rounded down to whole pages
    -> (full_layer_tokens, swa_layer_tokens).  The same float operations as SGLang's, so the same rounding."""
    full = int(tokens * num_layers / (ratio * layout["swa_layers"] + layout["full_layers"]))
    swa = int(full * ratio)
    return full // page_size * page_size, swa // page_size * page_size


def sglang_default_fraction(gpu_bytes, tp, pp=1, chunked_prefill_size=None, cuda_graph_max_bs=None):
    """SGLang's default mem_fraction_static for a GPU of gpu_bytes (ServerArgs._handle_gpu_memory_settings)
    -> (mem_fraction_static, chunked_prefill_size, cuda_graph_max_bs, reserved MiB)."""
    gpu_mem = gpu_bytes / 2**20  # SGLang reads the capacity in MiB
    for below, chunk, bs_small, bs_large in SGLANG_GPU_TIERS:
        if gpu_mem < below:
            break
    chunk = chunk if chunked_prefill_size is None else chunked_prefill_size
    graphs = (bs_small if tp < 4 else bs_large) if cuda_graph_max_bs is None else cuda_graph_max_bs
    reserved = 512 + max(chunk, 2048) * 1.5 + graphs * 2 + tp * pp / 8 * 1024
    if gpu_mem > 60 * 1024:
        reserved = max(reserved, 10 * 1024)
    return round((gpu_mem - reserved) / gpu_mem, 3), chunk, graphs, reserved


def sglang_kv_pool(model, inf, eng):
    """SGLang's KV pool on one TP rank (see the section comment): {mem_fraction_static, avail_before_load,
    avail_after_load, rest_bytes, cell_bytes, max_total_num_tokens, k_bytes, v_bytes, max_running_requests, swa,
    ...}.  context_len is inf.context; swa is None or the two pools of a hybrid-SWA model."""
    refusal = sglang_refusal(model, inf, eng)
    if refusal:
        raise ValueError(refusal)
    k_cell, v_cell = sglang_cell_bytes(model, inf)
    cell = k_cell + v_cell
    bits = WEIGHT_BITS[inf.weight_dtype] if not inf.bits_per_weight else inf.bits_per_weight
    from fractions import Fraction
    weights = int(weight_bytes(model, Fraction(bits).limit_denominator(10**6), inf.tp, 1))
    fraction, chunk, graphs, reserved = (eng.mem_fraction_static, eng.chunked_prefill_size, eng.cuda_graph_max_bs,
                                         None)
    if eng.gpu_bytes:
        default, chunk, graphs, reserved = sglang_default_fraction(eng.gpu_bytes, inf.tp, inf.pp,
                                                                   eng.chunked_prefill_size, eng.cuda_graph_max_bs)
        fraction = default if fraction is None else fraction
    if fraction is None:
        raise ValueError("--engine sglang: the default --mem-fraction-static depends on the GPU's memory; give "
                         "--gpu-memory (or --gpu) or --mem-fraction-static")
    if eng.avail_before_load is not None:
        before = eng.avail_before_load
    elif eng.gpu_bytes:
        before = eng.gpu_bytes - SGLANG_INIT_BYTES
    else:
        raise ValueError("--engine sglang needs --gpu-memory (or --gpu) or --avail-mem-before-load (SGLang's "
                         "\"Load weight begin. avail mem=\")")
    after = before - weights if eng.avail_after_load is None else eng.avail_after_load
    if after > before:
        raise ValueError("--avail-mem-after-load is more than the memory before the weights loaded "
                         "(--avail-mem-before-load or --gpu-memory less the start-up memory)")
    rest = after - before * (1 - fraction)
    profiled = int(rest) // cell if rest > 0 else 0
    max_num_reqs = eng.max_running_requests or min(max(int(profiled / inf.context * 512), 2048), 4096)
    tokens = profiled if eng.max_total_tokens is None else min(profiled, eng.max_total_tokens)
    tokens = tokens // eng.page_size * eng.page_size
    layout = sglang_swa_layout(model, inf, eng)
    swa = None
    if layout:
        pool_tokens = tokens  # what the profile gave every layer, before the split
        tokens, swa_tokens = sglang_split_swa(pool_tokens, model.num_layers, layout, eng.swa_full_tokens_ratio,
                                              eng.page_size)
        full_rows, swa_rows = tokens + eng.page_size, swa_tokens + eng.page_size  # each pool pads one page
        swa = dict(layout, ratio=eng.swa_full_tokens_ratio, profiled_pool_tokens=pool_tokens,
                   full_layer_tokens=tokens, swa_layer_tokens=swa_tokens, sliding_window=model.sliding_window,
                   architecture=SGLANG_HYBRID_SWA_ARCHS[model.model_type],
                   full_k_bytes=full_rows * layout["full_k"] * layout["full_layers"],
                   full_v_bytes=full_rows * layout["full_v"] * layout["full_layers"],
                   swa_k_bytes=swa_rows * layout["swa_k"] * layout["swa_layers"],
                   swa_v_bytes=swa_rows * layout["swa_v"] * layout["swa_layers"])
    if tokens <= 0:
        raise ValueError(f"--engine sglang: not enough memory (SGLang: \"Not enough memory. Please try to increase "
                         f"--mem-fraction-static\"): "
                         + (f"{gib(after):,.2f} GiB free after the weights, less (1 - {fraction:g}) x "
                            f"{gib(before):,.2f} GiB reserved, leaves no KV cell of {cell:,} B" if after >= 0 else
                            f"the weights exceed the {gib(before):,.2f} GiB free before them by {gib(-after):,.2f} "
                            f"GiB: no KV cell of {cell:,} B fits"))
    running = min(tokens // 2 if eng.max_running_requests is None else eng.max_running_requests, max_num_reqs)
    rows = tokens + eng.page_size  # the padded slot 0 (one page) beside the tokens
    k_bytes, v_bytes = (rows * k_cell, rows * v_cell) if swa is None else (
        swa["full_k_bytes"] + swa["swa_k_bytes"], swa["full_v_bytes"] + swa["swa_v_bytes"])
    pool = {"engine": "sglang", "version": SGLANG_VERSION, "mem_fraction_static": fraction,
            "fraction_given": eng.mem_fraction_static is not None, "gpu_bytes": eng.gpu_bytes,
            "chunked_prefill_size": chunk, "cuda_graph_max_bs": graphs, "reserved_mib": reserved,
            "weights_bytes": weights, "avail_before_load": before, "avail_after_load": after,
            "before_given": eng.avail_before_load is not None, "after_given": eng.avail_after_load is not None,
            "rest_bytes": max(rest, 0.0), "mla": model.is_mla, "kv_dtype": inf.kv_dtype,
            "bytes_per_token": cell, "k_bytes_per_token": k_cell, "v_bytes_per_token": v_cell,
            "profiled_tokens": profiled, "max_total_tokens": eng.max_total_tokens, "page_size": eng.page_size,
            "max_total_num_tokens": tokens, "k_bytes": k_bytes, "v_bytes": v_bytes,
            "kv_pool_bytes": k_bytes + v_bytes, "max_num_reqs": max_num_reqs, "max_running_requests": running,
            "context_len": inf.context, "batch": inf.batch, "swa": swa,
            "assumptions": _sglang_assumptions(eng, fraction, chunk, graphs, reserved, inf, model, swa)}
    pool["requests_at_context_len"] = sglang_requests_at(pool, inf.context)
    return pool


def _sglang_assumptions(eng, fraction, chunk, graphs, reserved, inf, model, swa):
    out = [f"SGLang {SGLANG_VERSION}: KV pool = free memory after the weights - (1 - mem_fraction_static) x free "
           "memory before them, in cells of one token of every layer (model_runner_kv_cache_mixin.py "
           "profile_max_num_token); page-aligned; the pool allocates one page more (the padded slot 0, "
           "memory_pool.py); its log's GB are 2^30 bytes"]
    if eng.mem_fraction_static is None:
        out.append(f"mem_fraction_static {fraction:g}: SGLang's default for {eng.gpu_bytes / 2**20:,.0f} MiB "
                   f"(server_args.py _handle_gpu_memory_settings: reserved {reserved:,.0f} MiB = 512 + 1.5 x "
                   f"chunked_prefill_size {chunk:,} + 2 x cuda_graph_max_bs {graphs} + tp x pp / 8 x 1024, at "
                   "least 10 GiB above 60 GiB; multimodal models, DP attention and speculative decoding reserve "
                   "more: give --mem-fraction-static)")
    if eng.avail_before_load is None:
        out.append(f"memory before the weights load: --gpu-memory less {_size(SGLANG_INIT_BYTES)} assumed for the "
                   "CUDA context and NCCL (SGLang logs it: \"Load weight begin. avail mem=\"; give it with "
                   "--avail-mem-before-load)")
    if eng.avail_after_load is None:
        out.append("memory after the weights load: that less the weights (exact; SGLang logs it: \"Load weight "
                   "end. ... avail mem=\"; give it with --avail-mem-after-load)")
    out.append(f"context_len {inf.context:,} (--context-length; SGLang's default is the model's "
               "max_position_embeddings) sets the request pool: min(max(int(tokens / context_len x 512), 2048), "
               "4096) unless --max-running-requests")
    sliding = _sglang_sliding_layers(model) if model is not None else []
    if swa:
        out.append(f"{swa['architecture']}: SGLang's hybrid SWA pool (SWAKVPool) -- the profile counts every layer "
                   f"at the full layers' heads, then set_num_tokens_hybrid_swa shares its {swa['profiled_pool_tokens']:,} "
                   f"tokens x {model.num_layers} layers out as token-layers: full = int(tokens x layers / (ratio "
                   f"{swa['ratio']:g} x {swa['swa_layers']} sliding + {swa['full_layers']} full)), swa = int(full x "
                   "ratio), each page-aligned (--swa-full-tokens-ratio); sglang PR #18039, after 0.5.8, splits by "
                   "bytes instead (not modelled)")
        out.append(f"a running request keeps min(its tokens, sliding_window {swa['sliding_window']:,}) in the "
                   "sliding layers' pool (SGLang frees older ones from it: swa_radix_cache.py) and all its tokens in "
                   "the full layers' pool; a prompt being admitted needs its tokens free in both (schedule_policy.py "
                   "rem_total_tokens: the smaller of the two pools)")
        if model.model_type == "gpt_oss":
            out.append("gpt-oss: SGLang turns the SWA pool off with the trtllm_mha attention backend (its default on "
                       "Blackwell, sm100) and with speculative decoding; then give --disable-hybrid-swa-memory")
    elif sliding:
        why = ("--disable-hybrid-swa-memory" if model.model_type in SGLANG_HYBRID_SWA_ARCHS else
               f"SGLang {SGLANG_VERSION} has no SWA pool for {SGLANG_SLIDING_IN_ONE_POOL[model.model_type]}")
        out.append(f"the {len(sliding)} sliding-window layers are kept at full length in the one pool ({why}): "
                   "each token takes a cell of every layer")
    return out


def sglang_requests_at(pool, context):
    """Requests of `context` tokens SGLang's pools hold at once: the full (or only) pool's tokens // context and,
    for a hybrid-SWA model, the sliding pool's tokens // min(context, sliding_window)."""
    n = pool["max_total_num_tokens"] // context
    swa = pool.get("swa")
    if swa:
        n = min(n, swa["swa_layer_tokens"] // min(context, swa["sliding_window"]))
    return n


def sglang_serves(pool, inf):
    """--batch-size requests of --context tokens run at once: the pool(s) hold their tokens and the scheduler
    admits that many (max_running_requests)."""
    return inf.batch <= sglang_requests_at(pool, inf.context) and inf.batch <= pool["max_running_requests"]


def sglang_max_context(model, inf, eng):
    """--engine sglang --max-context: the longest context at which --batch-size requests share SGLang's pool at once
    (max_total_num_tokens // batch, and for a hybrid-SWA model whatever the sliding pool allows; the pool does not
    depend on the context, only the request pool does, and the scheduler must still admit --batch-size requests).
    -> (InferSetup, solution)."""
    pool = sglang_kv_pool(model, inf, eng)
    if inf.batch > pool["max_running_requests"]:
        raise ValueError(f"nothing fits: SGLang admits {pool['max_running_requests']:,} requests at once, fewer than "
                         f"--batch-size {inf.batch}")
    longest = pool["max_total_num_tokens"] // inf.batch
    swa = pool["swa"]
    if swa and inf.batch * min(longest, swa["sliding_window"]) > swa["swa_layer_tokens"]:
        longest = min(longest, swa["swa_layer_tokens"] // inf.batch)  # under a window each: its tokens, all held
    if longest < 1:
        raise ValueError(f"nothing fits: SGLang's pool of {pool['max_total_num_tokens']:,} tokens is less than one "
                         f"token for each of --batch-size {inf.batch} requests")
    return replace(inf, context=longest), {"name": f"max --context-length for {inf.batch:,} concurrent requests "
                                                   "(SGLang's pool)", "value": longest}


def render_sglang(pool):
    """The SGLang section of the text output, in the words SGLang's own start-up log uses."""
    lines = [f"SGLang {pool['version']} KV cache (one TP rank):"]
    source = "--mem-fraction-static" if pool["fraction_given"] else (
        f"default for {pool['gpu_bytes'] / 2**20:,.0f} MiB: chunked_prefill_size {pool['chunked_prefill_size']:,}, "
        f"cuda_graph_max_bs {pool['cuda_graph_max_bs']}")
    lines.append(f"  mem_fraction_static={pool['mem_fraction_static']:g} ({source})")
    lines.append(f"  Load weight begin. avail mem={gib(pool['avail_before_load']):.2f} GB"
                 + ("" if pool["before_given"] else " (--gpu-memory less the assumed start-up memory)"))
    lines.append(f"  Load weight end. avail mem={gib(pool['avail_after_load']):.2f} GB, mem usage="
                 f"{gib(pool['avail_before_load'] - pool['avail_after_load']):.2f} GB"
                 + ("" if pool["after_given"] else " (the weights, exact)"))
    swa = pool["swa"]
    if swa:
        lines.append(f"  Use sliding window memory pool. full_layer_tokens={swa['full_layer_tokens']}, "
                     f"swa_layer_tokens={swa['swa_layer_tokens']}")
        lines.append(f"  KV Cache is allocated. #tokens: {swa['swa_layer_tokens']}, K size: "
                     f"{gib(swa['swa_k_bytes']):.2f} GB, V size: {gib(swa['swa_v_bytes']):.2f} GB")
        lines.append(f"  KV Cache is allocated. #tokens: {swa['full_layer_tokens']}, K size: "
                     f"{gib(swa['full_k_bytes']):.2f} GB, V size: {gib(swa['full_v_bytes']):.2f} GB")
        lines.append(f"  SWAKVPool mem usage: {gib(pool['kv_pool_bytes']):.2f} GB, swa size: "
                     f"{swa['swa_layer_tokens']}, full size: {swa['full_layer_tokens']}")
    elif pool["mla"]:
        lines.append(f"  KV Cache is allocated. #tokens: {pool['max_total_num_tokens']}, KV size: "
                     f"{gib(pool['k_bytes']):.2f} GB")
    else:
        lines.append(f"  KV Cache is allocated. #tokens: {pool['max_total_num_tokens']}, K size: "
                     f"{gib(pool['k_bytes']):.2f} GB, V size: {gib(pool['v_bytes']):.2f} GB")
    lines.append(f"  max_total_num_tokens={pool['max_total_num_tokens']}, max_running_requests="
                 f"{pool['max_running_requests']}, context_len={pool['context_len']}")
    if swa:
        lines.append(f"  cell: {pool['bytes_per_token']:,} B per token as the profile counts it ({pool['kv_dtype']}, "
                     f"every layer); a token then takes {swa['full_k'] + swa['full_v']:,} B in each of "
                     f"{swa['full_layers']} full layers and {swa['swa_k'] + swa['swa_v']:,} B in each of "
                     f"{swa['swa_layers']} sliding ones; {pool['requests_at_context_len']:,} requests of "
                     f"{pool['context_len']:,} tokens fit at once")
    else:
        lines.append(f"  cell: {pool['bytes_per_token']:,} B per token ({pool['kv_dtype']}, every layer); "
                     f"{pool['requests_at_context_len']:,} requests of {pool['context_len']:,} tokens fit at once")
    if not sglang_serves(pool, replace(InferSetup(), batch=pool["batch"], context=pool["context_len"])):
        lines.append(f"  -> --batch-size {pool['batch']:,} requests of {pool['context_len']:,} tokens do NOT run at "
                     f"once: the pool holds {pool['requests_at_context_len']:,} of them and SGLang admits "
                     f"{pool['max_running_requests']:,}")
    return lines


# ==============================================================================================================
# Serving engines: llama.cpp's buffers (--infer --engine llama.cpp)
# ==============================================================================================================
# llama.cpp allocates three kinds of buffers at start-up and logs each one (llama_model_load / llama_context):
#   model buffers   the GGUF tensors where they live: the token embedding always on the host (the input layer),
#                   the last -ngl repeating layers on the GPU and the output layer (final norm + LM head) too when
#                   -ngl exceeds the layer count (llama-model.cpp load_tensors: i_gpu_start = n_layer - ngl; "offloaded
#                   N/(n_layer+1) layers to GPU"); a tied LM head is loaded a second time for the output device
#   KV cache        llama_kv_cache: per layer a K and a V tensor of ggml_row_size(type, n_embd_k_gqa) bytes per cell,
#                   kv_size cells per stream, 1 stream (--kv-unified) or one per sequence (-np); the context is
#                   first padded: n_ctx = GGML_PAD(-c, 256) (llama-context.cpp, PR #17046), per stream n_ctx_seq =
#                   GGML_PAD(n_ctx / n_seq_max, 256) unless unified. Models that mix sliding-window and full layers
#                   (gemma2/3, gpt-oss, cohere2, olmo3) get two caches (llama-kv-cache-iswa.cpp): the full layers
#                   n_ctx cells, the sliding layers GGML_PAD(min(n_ctx, n_swa x (unified ? n_seq_max : 1) +
#                   n_ubatch), 256) cells per stream ("the SWA cache is always padded to 256", issue #17037), or n_ctx
#                   with --swa-full. A model whose every layer slides (Mistral-7B-v0.1's config) runs as the llama
#                   architecture in llama.cpp, which keeps the whole context: one full cache.
#   MLA caches      DeepSeek-style models (llama.cpp arch deepseek2: DeepSeek-V2/V3/R1, Kimi-K2) cache, per layer and
#                   cell, ONE row: the compressed latent and the roped key, kv_lora_rank + qk_rope_head_dim values
#                   (the converter writes attention.key_length 576, head_count_kv 1; PR #12801). Since PR #19067
#                   ("kv-cache : support V-less cache", 2026-01-24) mainline keeps no V tensor for them: V is read
#                   from the K row, so the log prints "V (f16): 0.00 MiB". Builds before it kept a V row of
#                   kv_lora_rank values too (tests/test_mem_llamacpp_state.py quotes both). Modelled with -fa on;
#                   without flash attention the V layout is not verified here (refused). ik_llama.cpp, a fork,
#                   prints other lines ("c^KV (q8_0): ...") and is not modelled.
#   recurrent state llama_memory_recurrent (llama-memory-recurrent.cpp), inside llama_memory_hybrid for the hybrid
#                   archs (qwen3next, qwen35, qwen35moe, lfm2, granitehybrid = Bamba, nemotron_h, falcon-h1, jamba):
#                   per recurrent layer an R tensor (the conv state) of n_embd_r() and an S tensor (the SSM /
#                   delta-net state) of n_embd_s() f32 values per cell, max(1, n_seq_max) cells (-np; one per
#                   sequence, whatever the context). llama-hparams.cpp: n_embd_r = (ssm_d_conv - 1) x (ssm_d_inner +
#                   2 x ssm_n_group x ssm_d_state), LFM2 n_embd x (L_cache - 1); n_embd_s = ssm_d_state x
#                   ssm_d_inner (LFM2: 0). The attention layers of a hybrid keep a normal llama_kv_cache of their
#                   own layers only. Its log prints n_layer (every layer) in the recurrent line.
#   compute buffer  ggml-alloc's peak for the worst-case graph of one ubatch: REPLAYED (the graph rebuilt, the
#                   allocator re-run) for the llama / qwen2 / qwen3 / qwen3moe / phi3 / gemma2 / gemma3 / gemma4 /
#                   gpt-oss layers fully offloaded; an ESTIMATE, stated as such, otherwise (llamacpp_compute_buffer).
# llama.cpp prints sizes in MiB (bytes / 2^20) with two decimals; so does this section.
LLAMACPP_CTX_PAD = 256             # llama-context.cpp: cparams.n_ctx = GGML_PAD(cparams.n_ctx, 256)
LLAMACPP_SWA_PAD = 256             # llama-kv-cache-iswa.cpp: size_swa = GGML_PAD(min(...), 256)
LLAMACPP_N_UBATCH = 512            # common.h: n_ubatch 512 (n_batch 2048; n_ubatch = min(n_batch, n_ubatch))
# --gguf-type: a llama-quantize file type (Q4_K_M, Q8_0, IQ4_XS, ...: the shared block's GGUF_FILE_TYPES) gives
# every tensor the type llama-quantize gives it (the block's gguf_planned_types, the recipe calc_quantization.py sizes
# files with: Q4_K_M keeps the output and the use_more_bits layers' attn_v / ffn_down at q6_K); a ggml block type
# that is no file type (q4_K, q5_K, q3_K, q2_K, mxfp4, ...: GGML_TYPES) puts every 2-D weight at that type.


@dataclass
class LlamaCppSetup:
    n_ctx: int = 4096                  # -c, before the 256 padding
    n_parallel: int = 1                # -np: sequences (server slots)
    type_k: str = "fp16"               # -ctk (the block's KV_CACHE_DTYPES names; f16 = fp16)
    type_v: str = "fp16"               # -ctv
    n_gpu_layers: int | None = None    # -ngl; None: every layer and the output layer (llama.cpp's 999)
    n_ubatch: int = LLAMACPP_N_UBATCH  # -ub
    flash_attn: bool = True            # -fa: only the compute-buffer estimate depends on it
    kv_unified: bool = False           # --kv-unified: one stream shared by all sequences
    swa_full: bool = False             # --swa-full: the sliding layers keep n_ctx cells too
    kv_offload: bool = True            # -nkvo turns it off: the whole cache stays on the host
    weight_bits: object = 16           # bits per 2-D weight (a Fraction); 1-D tensors (norms, biases) stay f32
    model_bytes: int | None = None     # the GGUF's tensor bytes, if known: 2-D weights scaled to match
    gguf_file_type: str | None = None  # --gguf-type Q4_K_M ...: each tensor at llama-quantize's type (exact)
    old_qkv: bool = False              # --old-qkv: a fused attn_qkv on llama-quantize's older rule


def llamacpp_refusal(model, inf, ll=None):
    """The models and layouts this section does not reproduce, as one line (None when it does); ll: the llama.cpp
    flags, for the refusals that depend on them."""
    if model is None:
        return "--engine llama.cpp needs a model (its tensors and KV rows), not --params"
    if model.has_indexer:
        return ("--engine llama.cpp: DeepSeek Sparse Attention's indexer cache (llama_kv_cache_dsa: DeepSeek-V3.2, "
                "GLM-5) is not modelled yet; use --engine sum")
    if model.is_mla and ll is not None and not ll.flash_attn:
        return ("--engine llama.cpp: an MLA cache without flash attention (-fa off) is not modelled (the V-less "
                "cache is checked with -fa on only); drop -fa off")
    hybrid = bool(model.state_layer_count())
    if hybrid and llamacpp_iswa(model):
        return "--engine llama.cpp: sliding-window layers beside recurrent layers are not modelled"
    if hybrid and ll is not None and ll.n_parallel > 1 and not ll.kv_unified:
        # llama-model.cpp create_memory gave llama_memory_hybrid the padded n_ctx as EVERY stream's size in late-2025
        # builds, n_ctx_seq (n_ctx / n_seq_max) in 2026 ones; no published log settles which a user runs
        return ("--engine llama.cpp: a recurrent / hybrid model with -np > 1 and one KV stream per sequence is not "
                "modelled (llama_memory_hybrid's cells per stream changed between llama.cpp versions); add "
                "--kv-unified (llama-server's default with -np auto) or use -np 1")
    if model.per_layer_input_size:
        return ("--engine llama.cpp: Gemma 4's per-layer input embeddings (E2B / E4B: where llama.cpp loads the "
                "per-layer token table) are not modelled yet; use --engine sum or hf")
    if inf.tp > 1 or inf.pp > 1:
        return "--engine llama.cpp: -tp / -pp are not llama.cpp's; it splits layers over devices (-ts), which is " \
               "not modelled: drop -tp / -pp"
    return None


def llamacpp_iswa(model):
    """True when llama.cpp gives the model two caches (some layers slide, some do not)."""
    kinds = {model.layer_attention(i) for i in range(model.num_layers)}
    return kinds == {"sliding", "full"}


def llamacpp_cells(model, ll):
    """{n_ctx (padded), n_ctx_seq, streams, base_cells, swa_cells} with the cells PER STREAM (see the section)."""
    n_ctx = -(-ll.n_ctx // LLAMACPP_CTX_PAD) * LLAMACPP_CTX_PAD
    streams = 1 if ll.kv_unified else ll.n_parallel
    if ll.kv_unified:
        n_ctx_seq = n_ctx
    else:
        n_ctx_seq = -(-(n_ctx // ll.n_parallel) // LLAMACPP_CTX_PAD) * LLAMACPP_CTX_PAD
        if n_ctx_seq == 0:
            raise ValueError(f"-c {ll.n_ctx} is less than one cell per -np {ll.n_parallel} slot")
        n_ctx = n_ctx_seq * ll.n_parallel  # llama.cpp: "n_ctx is not divisible by n_seq_max - rounding"
    swa = 0
    if llamacpp_iswa(model):
        if ll.swa_full:
            swa = n_ctx_seq
        else:
            want = model.sliding_window * (ll.n_parallel if ll.kv_unified else 1) + ll.n_ubatch
            swa = -(-min(n_ctx_seq, want) // LLAMACPP_SWA_PAD) * LLAMACPP_SWA_PAD
    return {"n_ctx": n_ctx, "n_ctx_seq": n_ctx_seq, "streams": streams, "base_cells": n_ctx_seq, "swa_cells": swa}


def llamacpp_gpu_layers(model, ll):
    """(first offloaded layer, layers offloaded, output layer offloaded): llama-model.cpp load_tensors offloads the
    LAST -ngl repeating layers (i_gpu_start = max(n_layer - ngl, 0)) and the output layer when ngl > n_layer."""
    n = model.num_layers
    ngl = n + 1 if ll.n_gpu_layers is None else ll.n_gpu_layers
    start = max(n - ngl, 0)
    return start, n - start, ngl > n


def llamacpp_kv_cache(model, ll):
    """The KV caches llama.cpp logs, exact: one entry per cache (non-SWA / SWA), with its cells, layers, K and V
    bytes (ggml_row_size of the block's kv_row_bytes: q8_0 ... q4_0 include their scales), and the bytes on the GPU
    (the cache of the offloaded layers, unless -nkvo)."""
    cells = llamacpp_cells(model, ll)
    start, _, _ = llamacpp_gpu_layers(model, ll)
    iswa = llamacpp_iswa(model)
    caches = []
    attention = [i for i in range(model.num_layers) if model.layer_has_attention(i)]
    widths = {i: llamacpp_kv_widths(model, i) for i in attention}
    # without -fa V is stored transposed, and every layer's V rows are as wide as the widest one (llama-kv-cache.cpp
    # [TAG_V_CACHE_VARIABLE]: n_embd_v_gqa_max(), over all the model's layers, in each cache)
    v_max = max((v for _, v in widths.values()), default=0)
    for kind in (("full", "sliding") if iswa else ("all",)):
        # a hybrid's recurrent layers (and Nemotron-H's MLP-only layers) hold no K/V: the cache is built for the
        # attention layers only (llama_memory_hybrid's filter_attn); Gemma 4's KV-shared layers (has_kv false:
        # n_layer_kv_from_start) read an earlier layer's cache
        layers = [i for i in attention if not model.layer_kv_shared(i)
                  and (kind == "all" or model.layer_attention(i) == kind)]
        n_cells = cells["swa_cells"] if kind == "sliding" else cells["base_cells"]
        k_rows = sum(kv_row_bytes(widths[i][0], ll.type_k, "-ctk") for i in layers)
        v_widths = {i: (v_max if not ll.flash_attn else widths[i][1]) if widths[i][1] else 0 for i in layers}
        v_rows = sum(kv_row_bytes(v_widths[i], ll.type_v, "-ctv") for i in layers if v_widths[i])
        on_gpu = [i for i in layers if i >= start] if ll.kv_offload else []
        gpu_rows = sum(kv_row_bytes(widths[i][0], ll.type_k, "-ctk") for i in on_gpu) \
            + sum(kv_row_bytes(v_widths[i], ll.type_v, "-ctv") for i in on_gpu if v_widths[i])
        slots = n_cells * cells["streams"]
        caches.append({"kind": {"full": "non-SWA", "sliding": "SWA", "all": "all layers"}[kind],
                       "cells": n_cells, "streams": cells["streams"], "layers": len(layers),
                       "k_bytes": k_rows * slots, "v_bytes": v_rows * slots,
                       "bytes": (k_rows + v_rows) * slots, "gpu_bytes": gpu_rows * slots})
    return {"cells": cells, "caches": caches, "total_bytes": sum(c["bytes"] for c in caches),
            "gpu_bytes": sum(c["gpu_bytes"] for c in caches)}


def llamacpp_kv_widths(model, layer=0):
    """(K, V) values one cell of layer `layer` caches: n_embd_k_gqa(il) and n_embd_v_gqa(il).  MLA (deepseek2): one
    row of kv_lora_rank + qk_rope_head_dim (the latent and the roped key; n_head_kv 1) and no V row (the V-less
    cache of PR #19067).  Otherwise the layer's KV heads x its head width each (values: the value head width):
    Gemma 4's full layers have their own heads and width (4 x 512 beside the sliding layers' 16 x 256 on 31B; its
    K = V full layers still store a V row), MiMo-V2-Flash's sliding layers more KV heads (the GGUF's per-layer
    head_count_kv array)."""
    if model.is_mla:
        return model.kv_lora_rank + model.qk_rope_head_dim, 0
    heads = model.layer_kv_heads(layer)
    return heads * model.layer_head_dim(layer), heads * model.layer_v_dim(layer)


# llama.cpp's architecture for each kind of state layer the block reads (the label the recurrent line is printed
# under; the widths come from the fields, llamacpp_state_widths)
LLAMACPP_STATE_ARCHS = {"delta-net": "qwen3next / qwen35 / qwen35moe", "short-conv": "lfm2",
                        "mamba2": "granitehybrid (Bamba)", "mamba2-single-block": "nemotron_h",
                        "mamba2-parallel": "falcon-h1", "mamba1": "jamba"}


def llamacpp_state_kind(model):
    """Which of llama.cpp's recurrent layers the model's state layers are (a key of LLAMACPP_STATE_ARCHS)."""
    if model.short_conv:
        return "short-conv"
    if model.ssm_kind == "mamba1":
        return "mamba1"
    if model.ssm_kind == "mamba2":
        return "mamba2-single-block" if model.single_block_layers else \
            "mamba2-parallel" if model.parallel_ssm else "mamba2"
    return "delta-net"


def llamacpp_state_widths(model):
    """(n_embd_r, n_embd_s): the f32 values of one cell's conv state (R) and recurrent state (S) per layer, as
    llama-hparams.cpp computes them from the GGUF's ssm.* keys, with the keys the converter writes from the
    config (llama.cpp convert_hf_to_gguf.py):
      n_embd_r = (ssm_d_conv - 1) x (ssm_d_inner + 2 x ssm_n_group x ssm_d_state)   [the conv's last K-1 inputs]
      n_embd_s = ssm_d_state x ssm_d_inner
    gated delta-net (Qwen3-Next, Qwen3.5): d_conv = linear_conv_kernel, d_inner = value heads x value head width,
        n_group = key heads, d_state = key head width: R = (K-1)(2 Hk dk + Hv dv), S = dk Hv dv (a dk x dv matrix per
        value head);
    Mamba-2 (Bamba, Nemotron-H, Falcon-H1): d_inner = heads x head width, n_group = mamba_n_groups, d_state =
        mamba_d_state: R = (K-1)(H P + 2 G N), S = N H P;
    Mamba-1 (Jamba): n_group 0, d_inner = mamba_expand x hidden: R = (K-1) d, S = N d;
    LFM2's short convolution: n_embd_r = n_embd x (L_cache - 1), and no S (ssm_d_state 0)."""
    kind = llamacpp_state_kind(model)
    if kind == "short-conv":
        return model.hidden_size * (model.short_conv_kernel - 1), 0
    if kind == "delta-net":
        key_width = model.linear_num_key_heads * model.linear_key_head_dim
        inner = model.linear_num_value_heads * model.linear_value_head_dim
        return (model.linear_conv_kernel - 1) * (inner + 2 * key_width), model.linear_key_head_dim * inner
    if kind == "mamba1":
        return (model.mamba_d_conv - 1) * model.mamba1_inner, model.mamba_d_state * model.mamba1_inner
    return (model.mamba_d_conv - 1) * model.mamba_conv_dim, model.mamba_d_state * model.mamba_width


def llamacpp_recurrent_state(model, ll):
    """llama_memory_recurrent's buffer, exact (None for a model without state layers): max(1, -np) cells, each
    recurrent layer an R tensor of n_embd_r and an S tensor of n_embd_s f32 values per cell (type_r = type_s = f32,
    whatever -ctk / -ctv), on the layer's device unless -nkvo.  No rollback snapshots (n_rs_seq 0, the default:
    speculative decoding with rollback multiplies the rows by 1 + n_rs_seq)."""
    layers = [i for i in range(model.num_layers) if model.layer_has_state(i)]
    if not layers:
        return None
    r_width, s_width = llamacpp_state_widths(model)
    cells = max(1, ll.n_parallel)
    start, _, _ = llamacpp_gpu_layers(model, ll)
    r_bytes = 4 * r_width * cells * len(layers)
    s_bytes = 4 * s_width * cells * len(layers)
    per_layer = 4 * (r_width + s_width) * cells
    on_gpu = sum(1 for i in layers if i >= start) if ll.kv_offload else 0
    return {"arch": LLAMACPP_STATE_ARCHS[llamacpp_state_kind(model)], "n_embd_r": r_width, "n_embd_s": s_width,
            "cells": cells, "seqs": ll.n_parallel, "recurrent_layers": len(layers), "n_layer": model.num_layers,
            "r_bytes": r_bytes, "s_bytes": s_bytes, "bytes": r_bytes + s_bytes, "gpu_bytes": per_layer * on_gpu}


def llamacpp_gguf_plan(model, file_type, old_qkv=False, with_imatrix_flag=False):
    """[(GgufTensor, stored ggml type)] of the GGUF llama-quantize writes for `file_type` (the shared block's tensor
    list and per-tensor rules; a type llama-quantize makes only with an importance matrix, IQ2_XS ..., is planned
    with one, and with_imatrix_flag returns (plan, True) then); a model or type whose recipe is not modelled is
    refused, naming --gguf-type."""
    refusal = gguf_file_type_refusal(model, file_type)
    if refusal:
        raise InputError(f"--gguf-type {file_type}: {refusal}; give --model-bytes (the GGUF's size) instead")
    tensors = gguf_tensor_list(model)
    try:
        plan, imatrix = gguf_planned_types(model, tensors, file_type, old_qkv=old_qkv)
    except ValueError as err:  # a row no block type or fallback divides: llama-quantize refuses the file type
        raise InputError(f"--gguf-type {file_type}: {err}") from None
    out = [(t, stored) for t, (_, stored) in zip(tensors, plan)]
    return (out, imatrix) if with_imatrix_flag else out


def llamacpp_bytes_per_2d_value(plan):
    """The mean bytes per value of a GGUF's 2-D (and 3-D) tensors: what the speed estimate and the summed breakdown
    read for every weight (the 1-D norms being f32 in the file)."""
    two_d = [(t, ty) for t, ty in plan if ggml_n_dims(t.ne) >= 2]
    return sum(gguf_tensor_bytes(t, ty) for t, ty in two_d) / sum(t.numel for t, _ in two_d)


LLAMACPP_CUDA_ROW_PADDING = 512    # ggml-cuda common.cuh MATRIX_ROW_PADDING
LLAMACPP_CUDA_ALIGN = 128          # ggml_backend_cuda_buffer_type_get_alignment


def llamacpp_cuda_tensor_bytes(t, ggml_type):
    """A weight's bytes in a CUDA / ROCm model buffer: ggml_backend_cuda_buffer_type_get_alloc_size pads a quantized
    tensor whose rows are not a multiple of 512 values by one row's worth of the missing values (so that kernels may
    read past the last row), and ggml_backend_alloc_ctx_tensors_from_buft places each tensor at the buffer type's
    alignment (CUDA: 128 B).  gpt-oss's 2880-wide rows take this padding: +0.03 MiB on gpt-oss-20b."""
    nbytes = gguf_tensor_bytes(t, ggml_type)
    if ggml_type not in UNQUANTIZED_GGML and t.ne[0] % LLAMACPP_CUDA_ROW_PADDING:
        missing = LLAMACPP_CUDA_ROW_PADDING - t.ne[0] % LLAMACPP_CUDA_ROW_PADDING
        nbytes += missing // GGML_TYPES[ggml_type].block * GGML_TYPES[ggml_type].bytes
    return -(-nbytes // LLAMACPP_CUDA_ALIGN) * LLAMACPP_CUDA_ALIGN


def _llamacpp_file_buffers(model, ll, start, output_on_gpu):
    """llamacpp_model_buffers for --gguf-type FILE_TYPE: each tensor's exact bytes on its device (on the GPU as CUDA
    allocates them: llamacpp_cuda_tensor_bytes; on the host the mapped file, tensors at GGUF's 32-B alignment).  The
    globals before the first layer (token_embd, position_embd, ...) stay on the host; those after the last layer
    (output_norm, output) go to the output layer's device; rope_freqs belongs to every layer (TENSOR_DUPLICATED):
    one copy per device that holds layers."""
    plan, imatrix = llamacpp_gguf_plan(model, ll.gguf_file_type, ll.old_qkv, with_imatrix_flag=True)
    host = gpu = file_bytes = 0
    seen_layer = False
    for t, ggml_type in plan:
        nbytes = gguf_tensor_bytes(t, ggml_type)
        file_bytes += nbytes
        on_host, on_gpu = -(-nbytes // 32) * 32, llamacpp_cuda_tensor_bytes(t, ggml_type)
        if t.name == "rope_freqs.weight":
            host += on_host if start > 0 else 0
            gpu += on_gpu if start < model.num_layers else 0
        elif t.layer >= 0:
            seen_layer = True
            if t.layer >= start:
                gpu += on_gpu
            else:
                host += on_host
        elif not seen_layer:
            host += on_host
        elif output_on_gpu:
            gpu += on_gpu
        else:
            host += on_host
    if model.tied_embeddings and output_on_gpu:  # the head reads token_embd: loaded again on the GPU
        gpu += sum(llamacpp_cuda_tensor_bytes(t, ty) for t, ty in plan if t.name == "token_embd.weight")
    return {"host_bytes": host, "gpu_bytes": gpu, "file_bytes": file_bytes,
            "bytes_per_2d_value": llamacpp_bytes_per_2d_value(plan), "imatrix_assumed": imatrix,
            # llama.cpp's "model size = X GiB (Y BPW)": bits per element over every tensor (llama_model_n_params)
            "bpw": 8 * file_bytes / sum(t.numel for t, _ in plan),
            "tensor_types": _count_types(ty for _, ty in plan)}


def _count_types(types):
    counts = {}
    for ty in types:
        counts[ty] = counts.get(ty, 0) + 1
    return counts


def llamacpp_model_buffers(model, ll):
    """{host_bytes, gpu_bytes, file_bytes}: where the GGUF's tensors are loaded (see the section). Weights at
    ll.weight_bits per 2-D value (f32 1-D tensors); with ll.model_bytes the 2-D tensors are scaled so that the whole
    file's tensors sum to it (the size llama-bench and the model card print), keeping each one's share."""
    start, _, output_on_gpu = llamacpp_gpu_layers(model, ll)
    if ll.gguf_file_type:
        return _llamacpp_file_buffers(model, ll, start, output_on_gpu)
    first, last = global_tensors(model)
    groups = {"input": list(first), "output": list(last)}
    layers = [list(layer_tensors(model, *model_layer_kind(model, i))) for i in range(model.num_layers)]
    flat = groups["input"] + groups["output"] + [t for layer in layers for t in layer]

    def mxfp4(t):
        # gpt-oss: llama.cpp's converter writes the routed experts as MXFP4 (17 B per 32 weights) whatever the file
        # type (the block's GPT_OSS_GGUF_TYPES); they keep that width here too
        return model.gguf_arch == "gpt-oss" and t.role == "routed_experts" and t.kind == "weight"
    one_d = sum(t.numel * 4 for t in flat if len(t.shape) < 2)
    fixed = sum(t.numel * 17 / 32 for t in flat if mxfp4(t))
    two_d_values = sum(t.numel for t in flat if len(t.shape) >= 2 and not mxfp4(t))
    if ll.model_bytes is not None:
        if ll.model_bytes <= one_d + fixed:
            raise ValueError(f"--model-bytes {ll.model_bytes:,} B is not even the model's f32 norms"
                             + (" and MXFP4 experts" if fixed else "") + f" ({int(one_d + fixed):,} B)")
        scale = (ll.model_bytes - one_d - fixed) / two_d_values  # bytes per 2-D value
    else:
        scale = float(ll.weight_bits) / 8

    def size(tensors):
        return sum(t.numel * 4 if len(t.shape) < 2 else t.numel * 17 / 32 if mxfp4(t) else t.numel * scale
                   for t in tensors)
    host = size(groups["input"])
    gpu = 0.0
    for i, layer in enumerate(layers):
        if i >= start:
            gpu += size(layer)
        else:
            host += size(layer)
    out = size(groups["output"])
    tied = size([t for t in first if t.role == "embedding"]) if model.tied_embeddings else 0
    if output_on_gpu:
        gpu += out + tied  # a tied head: token_embd loaded again for the output device (TENSOR_DUPLICATED)
    else:
        host += out        # on the host the tied head reads the same mapped table
    return {"host_bytes": int(round(host)), "gpu_bytes": int(round(gpu)),
            "file_bytes": int(round(size(flat))), "bytes_per_2d_value": scale}


# llama.cpp's compute buffer, replayed. llama.cpp sizes it by building the worst-case graph of one ubatch
# (llama-context.cpp graph_reserve: n_tokens = min(n_ctx, n_ubatch) tokens, every one an output) and running
# ggml-alloc over it (ggml/src/ggml-alloc.c ggml_gallocr_alloc_graph_impl): tensors are allocated in graph order,
# an op that may work in place (ADD, MUL, RMS_NORM, ROPE, SOFT_MAX, SCALE, ...) takes over a parent's memory when
# it is that parent's last use, a tensor is freed after its last consumer, and free blocks are reused best-fit
# (ggml_dyn_tallocr). The buffer is the highest address reached. Below, that graph is rebuilt node for node for
# llama.cpp's "llama" (Mixtral's routed experts included) / "qwen2" / "qwen3" / "qwen3moe" / "phi3" / "gemma2" /
# "gemma3" / "gemma4" (dense) / "gpt-oss" layers (src/models/llama.cpp, qwen2.cpp, qwen3.cpp, qwen3moe.cpp, phi3.cpp,
# gemma2.cpp, gemma4.cpp,
# gemma3.cpp, openai-moe.cpp;
# llama-graph.cpp build_attn, build_attn_mha and build_moe_ffn; llama-kv-cache.cpp cpy_k / cpy_v) and the allocator
# replayed. Checked against llama.cpp itself (commit 0c1e570, 2026-10-01; bench/measure_llamacpp_buffers.py): 384 CPU
# runs, 16 models x -c x -ub x -fa, 288 more with -np 2 to 8, unified or not, and 256 with q8_0 / q4_0 caches
# (Hadamard rotations of Q, K, V: llamacpp_rotations), each printing the MiB llama.cpp prints
# (tests/data/llamacpp_compute_buffers.json); and against GPU logs
# (tests/test_mem_llamacpp_compute.py). On a GPU the token embedding's rows are gathered on the host; the GPU split
# starts with copies of its inputs (ggml-backend.cpp ggml_backend_sched_split_graph) and CUDA aligns to 128 B.
# CUDA also keeps the router's small tensors alive across its fused top-k kernel (ggml-cuda.cu graph_optimize:
# n_experts x n_ubatch x 4 B each); not replayed, they do not reach the peak of the layers replayed here.
# ggml_op_can_inplace (ggml-alloc.c), the ops of it used here
_GGML_INPLACE_OPS = {"ADD", "ADD_ID", "MUL", "RMS_NORM", "ROPE", "SOFT_MAX", "SCALE", "CLAMP", "DIV", "UNARY"}
LLAMACPP_REPLAY_ARCHS = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3moe", "qwen3_moe", "phi3", "gemma2",
                         "gemma3", "gemma4", "gpt-oss")


class _GgmlTensor:
    """One tensor of the replayed graph: its bytes, layout (what ggml_are_same_layout compares), sources, and the
    tensor it is a view of; ext: a weight or cache tensor held in another buffer."""
    __slots__ = ("op", "nbytes", "layout", "srcs", "view_src", "at_start", "is_input", "is_output", "ext",
                 "n_children", "n_views", "allocated", "own", "addr")

    def __init__(self, op, nbytes=0, layout=None, srcs=(), view_src=None, at_start=True, is_input=False,
                 is_output=False, ext=False):
        self.op, self.nbytes, self.layout, self.srcs = op, nbytes, layout, list(srcs)
        self.view_src, self.at_start, self.is_input, self.is_output, self.ext = \
            view_src, at_start, is_input, is_output, ext
        self.n_children = self.n_views = 0
        self.allocated = self.own = False
        self.addr = 0


class _GgmlGraph:
    """The nodes (in ggml_build_forward_expand's order) and the input leaves of one graph."""

    def __init__(self):
        self.nodes, self.inputs = [], []

    @staticmethod
    def external():
        return _GgmlTensor("NONE", ext=True)

    def op(self, op, ne, srcs, elem_bytes=4, output=False):
        n = 1
        for d in ne:
            n *= d
        t = _GgmlTensor(op, n * elem_bytes, (elem_bytes, tuple(ne)), srcs, is_output=output)
        self.nodes.append(t)
        return t

    def view(self, src, ne, contiguous=True, at_start=True):
        """A view (reshape, permute, view): never allocated; a strided one has a layout of its own."""
        layout = (src.layout[0], tuple(ne)) if contiguous and src.layout else ("strided", id(src), tuple(ne))
        t = _GgmlTensor("VIEW", 0, layout, [src], view_src=src.view_src or src,
                        at_start=at_start and (src.view_src is None or src.at_start))
        self.nodes.append(t)
        return t


class _GgmlTallocr:
    """ggml_dyn_tallocr (one chunk): free blocks sorted by address; best fit among all but the last block, else the
    last (the growing end); freed bytes merge with their neighbours."""

    def __init__(self, alignment):
        self.alignment, self.free, self.max_size = alignment, [[0, 1 << 62]], 0

    def aligned(self, n):
        return -(-n // self.alignment) * self.alignment

    def alloc(self, size):
        size = self.aligned(size)
        best = -1
        for i, (_, block_size) in enumerate(self.free[:-1]):
            if block_size >= size and (best == -1 or block_size <= self.free[best][1]):
                best = i
        block = self.free[best]  # best == -1: the last block
        addr = block[0]
        block[0] += size
        block[1] -= size
        if block[1] == 0:
            self.free.remove(block)
        self.max_size = max(self.max_size, addr + size)
        return addr

    def release(self, addr, size):
        size, free = self.aligned(size), self.free
        for i, block in enumerate(free):
            if block[0] + block[1] == addr:
                block[1] += size
                if i + 1 < len(free) and block[0] + block[1] == free[i + 1][0]:
                    block[1] += free.pop(i + 1)[1]
                return
            if addr + size == block[0]:
                block[0], block[1] = addr, block[1] + size
                if i > 0 and free[i - 1][0] + free[i - 1][1] == block[0]:
                    free[i - 1][1] += free.pop(i)[1]
                return
        free.insert(sum(1 for block in free if block[0] < addr), [addr, size])


def ggml_alloc_peak(graph, alignment):
    """ggml_gallocr_alloc_graph_impl over `graph`, one buffer: the bytes it reserves (max_size)."""
    talloc = _GgmlTallocr(alignment)

    def allocate(t):
        if t.ext or t.own or t.view_src is not None:
            return
        t.own = t.allocated = True
        if t.op in _GGML_INPLACE_OPS:
            for p in t.srcs:
                if p.ext or not p.own or p.is_output or p.layout != t.layout or p.n_children != 1 or p.n_views:
                    continue
                if p.view_src is None:
                    owner = p
                elif p.view_src.n_views == 1 and p.view_src.n_children == 0 and p.at_start and not p.view_src.ext:
                    owner = p.view_src
                else:
                    continue
                t.addr = owner.addr
                p.allocated = owner.allocated = False
                extra = talloc.aligned(owner.nbytes) - talloc.aligned(t.nbytes)
                if extra > 0:
                    talloc.release(owner.addr + talloc.aligned(t.nbytes), extra)
                return
        t.addr = talloc.alloc(t.nbytes)

    def release(t):
        if not t.is_output:
            talloc.release(t.addr, t.nbytes)
            t.allocated = False

    for leaf in graph.inputs:
        allocate(leaf)
    for t in graph.nodes:
        if t.view_src is not None:
            t.view_src.n_views += 1
        for s in t.srcs:
            s.n_children += 1
    for t in graph.nodes:
        for s in t.srcs:
            allocate(s)
        allocate(t)
        for p in t.srcs:
            p.n_children -= 1
            if p.n_children or p.n_views:
                continue
            if p.view_src is not None:
                p.view_src.n_views -= 1
                if not p.view_src.n_views and not p.view_src.n_children and p.view_src.allocated:
                    release(p.view_src)
            elif p.allocated:
                release(p)
    return talloc.max_size


def llamacpp_replay_refusal(model, ll):
    """Why the compute buffer cannot be replayed for this model and these flags (None when it can)."""
    if model.gguf_arch not in LLAMACPP_REPLAY_ARCHS:
        return f"llama.cpp arch {model.gguf_arch or model.model_type!r} is not replayed (only " \
               f"{', '.join(LLAMACPP_REPLAY_ARCHS)})"
    routed = model.gguf_arch in ("qwen3moe", "qwen3_moe", "llama", "mixtral", "gpt-oss", "gemma4")  # build_moe_ffn
    qk_norm_ok = model.qk_norm == "none" or (model.qk_norm == "head" and
                                             model.gguf_arch in ("qwen3", "qwen3moe", "qwen3_moe", "gemma3", "gemma4"))
    # Qwen3-MoE, Mixtral: every layer routed (no dense layer, no shared expert), as qwen3moe.cpp / llama.cpp build them
    moe_ok = not model.is_moe or (routed and not model.num_shared_experts
                                  and all(map(model.layer_is_moe, range(model.num_layers))))
    oss = model.gguf_arch == "gpt-oss"  # attention biases, sinks, alternating sliding layers, biased experts
    if (not moe_ok or model.is_mla or model.state_layer_count() or not qk_norm_ok or (model.o_bias and not oss)
            or model.mlp_bias or not model.gated_mlp or model.norm != "rmsnorm" or model.v_head_dim
            or (llamacpp_iswa(model) and model.gguf_arch not in ("gemma2", "gemma3", "gemma4", "gpt-oss"))
            or model.kv_shared_layers or model.per_layer_input_size
            or (oss and not model.is_moe) or (model.attn_softcap and model.gguf_arch != "gemma2")):
        # a sliding window on every layer is no obstacle: these three llama.cpp graphs attend to the whole cache
        # (phi3.cpp: "Phi SWA is currently disabled"; llama.cpp / qwen2.cpp read no window)
        return "the model's layers are not the plain llama / qwen2 / qwen3 / phi3 ones the replay rebuilds"
    start, _, output_on_gpu = llamacpp_gpu_layers(model, ll)
    if start or not output_on_gpu or not ll.kv_offload:
        return "partial offload (-ngl) or -nkvo splits the graph over devices, which is not replayed"
    return None


def llamacpp_rotations(model, type_k, type_v, head_dim=None):
    """(K, V) Hadamard rotation sizes of llama.cpp's KV cache (0: none).  llama-kv-cache.cpp (0c1e570): a quantized
    K cache (ggml_is_quantized: q8_0, q4_0, ...) of a head dim divisible by 64 gets attn_rot_k, an nrot x nrot f32
    input with nrot the largest power of two dividing the head dim (build_input_k_rot); a quantized V cache of such
    a head dim gets attn_rot_v, 64 x 64 (build_input_v_rot).  LLAMA_ATTN_ROT_DISABLE=1 turns both off.  head_dim:
    the cache's own (Gemma 4's full and sliding caches differ), the model's by default."""
    d = head_dim or model.d_head
    if d % 64:
        return 0, 0
    k_rot = 64
    while d % (2 * k_rot) == 0:
        k_rot *= 2
    quantized = [KV_CACHE_DTYPES[t][1] > 1 for t in (type_k, type_v)]  # a block of several values: a ggml quant type
    return (k_rot if quantized[0] else 0), (64 if quantized[1] else 0)


def llamacpp_graph(model, n_tokens, cells, flash_attn, device="gpu", n_outputs=None, kv_types=("fp16", "fp16")):
    """The worst-case graph of one ubatch of n_tokens tokens, as llama.cpp builds it for the llama / qwen2 / qwen3 /
    qwen3moe / phi3 / gemma2 / gemma3 / gemma4 / gpt-oss layers; cells: {"full": n_kv, "sliding": SWA cells}. device
    "gpu": the GPU split, which starts with copies of its inputs (the embedding rows gathered on the host first, then the
    others in the order the graph first uses them); "cpu": everything on the CPU (the inputs are leaves, with the
    unused embeddings input inp_embd among them). n_outputs: the rows kept for the logits (inp_out_ids), n_tokens
    unless the ubatch was rounded up to a multiple of the sequences. kv_types: -ctk / -ctv; a quantized cache is
    rotated (llamacpp_rotations): Q and K before attention, V before it is stored and the attention output after
    (llama-graph.cpp build_attn, llama_mul_mat_hadamard: a reshape, or a CONT of a strided view, then a MUL_MAT).
    Gemma 4 (gemma4.cpp): each layer its own KV heads and head width, K = V on the full layers (one projection
    read twice), V RMS-normed without a weight, no Q scaling, a per-layer output scale, the output rows picked after
    the final norm; without -fa a narrower layer's V rows are padded to the widest layer's (cpy_v's GGML_PAD)."""
    n_outputs = n_outputs or n_tokens
    ubatch_tokens = n_tokens  # n_tokens itself drops to n_outputs after the output rows are picked
    g = _GgmlGraph()
    hidden, heads, kv_heads, d = model.hidden_size, model.num_attention_heads, model.kv_heads, model.d_head
    q_width, kv_width, ffn = heads * d, kv_heads * d, model.ffn_hidden_size
    arch = model.gguf_arch
    g4 = arch == "gemma4"
    fused, gemma, moe, oss = arch == "phi3", arch in ("gemma2", "gemma3", "gemma4"), model.is_moe, arch == "gpt-oss"
    iswa = llamacpp_iswa(model)
    weight = g.external()

    def input_tensor(nbytes):  # placed below, once the graph says where each is first used
        return _GgmlTensor("NONE", nbytes, ("input", nbytes), is_input=True)
    # llama-graph.cpp inputs: positions (i32); per cache, the K / V row indices for set_rows (i64; V transposed
    # without -fa: one per value) and the KQ mask (f32, f16 with -fa); the output rows (i32)
    pos, out_ids = input_tensor(4 * n_tokens), input_tensor(4 * n_outputs)
    def layer_dims(i):  # (head dim, KV heads) of layer i: Gemma 4's full layers differ from its sliding ones
        return (model.layer_head_dim(i), model.layer_kv_heads(i)) if g4 else (d, kv_heads)
    v_max = max(math.prod(layer_dims(i)) for i in range(model.num_layers))  # n_embd_v_gqa_max
    per_cache = {kind: (input_tensor(8 * n_tokens), input_tensor(8 * n_tokens * (1 if flash_attn else v_max)),
                        input_tensor(n_kv * n_tokens * (2 if flash_attn else 4)), n_kv)
                 for kind, n_kv in cells.items()}
    # each cache its own rotation inputs (attn_inp_k_rot / _swa, attn_inp_v_rot / _swa), sized by its head dim
    kind_dim = {kind: next((layer_dims(i)[0] for i in range(model.num_layers)
                            if kind == "full" and not iswa or model.layer_attention(i) == kind), d) for kind in cells}
    rotations = {kind: llamacpp_rotations(model, *kv_types, kind_dim[kind]) for kind in cells}
    rot_inputs = {kind: tuple(input_tensor(4 * n * n) if n else None for n in rotations[kind]) for kind in cells}

    # ggml lists a graph's leaves (the inputs) in the order its depth-first walk meets them, src0 first: a rotated
    # chain's matrix (src0 of its MUL_MAT) is met before the chain's own new inputs (Q's positions): at the chain's
    # first node (dfs_inputs_at: node index -> inputs met there)
    dfs_inputs_at = {}

    def hadamard(t, ne, rot, n, contiguous=True, chain_start=None):  # llama_mul_mat_hadamard
        if chain_start is not None:
            dfs_inputs_at.setdefault(chain_start, []).append(rot)
        flat = (n, math.prod(ne) // n)
        t = g.view(t, flat) if contiguous else g.op("CONT", flat, [t])
        return g.view(g.op("MUL_MAT", flat, [rot, t]), ne)
    tokens = input_tensor(4 * n_tokens)
    inp = g.op("GET_ROWS", (hidden, n_tokens), [weight, tokens])
    if gemma:  # the embedding scaled by sqrt(n_embd), in place
        inp = g.op("SCALE", (hidden, n_tokens), [inp])

    def head_norm(t, n_heads):  # qwen3 / gemma3: RMS norm over each head, then its weight (both in place)
        if model.qk_norm != "head":
            return t
        return g.op("MUL", (d, n_heads, n_tokens), [g.op("RMS_NORM", (d, n_heads, n_tokens), [t]), weight])

    def norm(t):  # build_norm(LLM_NORM_RMS): rms_norm then the weight
        return g.op("MUL", (hidden, n_tokens), [g.op("RMS_NORM", (hidden, n_tokens), [t]), weight])

    for layer in range(model.num_layers):
        kind = model.layer_attention(layer) if iswa else "full"
        k_idxs, v_idxs, mask, n_kv = per_cache[kind]
        k_rot_in, v_rot_in = rot_inputs[kind]
        k_rot, v_rot = rotations[kind]
        d, kv_heads = layer_dims(layer)
        q_width, kv_width = heads * d, kv_heads * d
        residual = inp
        cur = norm(inp)
        cache_k, cache_v = g.external(), g.external()
        if fused:  # phi3: one qkv matmul, Q / K / V strided views of it; Q scaled after RoPE
            chain_start = len(g.nodes)
            qkv = g.op("MUL_MAT", (q_width + 2 * kv_width, n_tokens), [weight, cur])
            q = g.view(qkv, (d, heads, n_tokens), contiguous=False)
            q = g.op("SCALE", (d, heads, n_tokens), [g.op("ROPE", (d, heads, n_tokens), [q, pos])])
            if k_rot:
                q = hadamard(q, (d, heads, n_tokens), k_rot_in, k_rot, chain_start=chain_start)
            v = g.view(qkv, (d, kv_heads, n_tokens), contiguous=False, at_start=False)
            if v_rot:
                v = hadamard(v, (d, kv_heads, n_tokens), v_rot_in, v_rot, contiguous=False)
            k = g.view(qkv, (d, kv_heads, n_tokens), contiguous=False, at_start=False)
            k = g.op("ROPE", (d, kv_heads, n_tokens), [k, pos])
            if k_rot:
                k = hadamard(k, (d, kv_heads, n_tokens), k_rot_in, k_rot)
        else:
            def projection(width):
                t = g.op("MUL_MAT", (width, n_tokens), [weight, cur])
                return g.op("ADD", (width, n_tokens), [t, weight]) if model.qkv_bias else t

            def query():
                chain_start = len(g.nodes)
                t = g.view(projection(q_width), (d, heads, n_tokens))
                t = g.op("ROPE", (d, heads, n_tokens), [head_norm(t, heads), pos])
                t = g.op("SCALE", (d, heads, n_tokens), [t]) if gemma and not g4 else t  # Gemma 4: scale 1
                return hadamard(t, (d, heads, n_tokens), k_rot_in, k_rot, chain_start=chain_start) if k_rot else t

            k_proj = []  # Gemma 4's K = V full layers read the K projection a second time as V

            def key():
                k_proj.append(projection(kv_width))
                t = g.view(k_proj[0], (d, kv_heads, n_tokens))
                t = g.op("ROPE", (d, kv_heads, n_tokens), [head_norm(t, kv_heads), pos])
                return hadamard(t, (d, kv_heads, n_tokens), k_rot_in, k_rot) if k_rot else t

            def value():
                chain_start = len(g.nodes)
                k_eq_v = g4 and model.full_k_eq_v and model.layer_attention(layer) == "full"
                t = g.view(k_proj[0] if k_eq_v else projection(kv_width), (d, kv_heads, n_tokens))
                if g4:  # V RMS-normed, no weight
                    t = g.op("RMS_NORM", (d, kv_heads, n_tokens), [t])
                return hadamard(t, (d, kv_heads, n_tokens), v_rot_in, v_rot, chain_start=chain_start) if v_rot else t

            # build_attn expands Q, V, K in that order (K last for RoPE fusion); the two-cache build_attn Q, K, V
            q = query()
            if iswa:
                k = key()
                v = value()
            else:
                v = value()
                k = key()
        g.nodes.append(_GgmlTensor("SET_ROWS", srcs=[g.view(k, (kv_width, n_tokens)), k_idxs, cache_k],
                                   view_src=cache_k))
        if flash_attn:
            v_rows = g.view(v, (kv_width, n_tokens), contiguous=not fused or v_rot, at_start=not fused or v_rot)
            g.nodes.append(_GgmlTensor("SET_ROWS", srcs=[v_rows, v_idxs, cache_v], view_src=cache_v))
            q_p = g.view(g.view(q, (d, heads, n_tokens)), (d, n_tokens, heads), contiguous=False)
            k_p = g.view(g.view(cache_k, (d, kv_heads, n_kv)), (d, n_kv, kv_heads), contiguous=False)
            v_p = g.view(g.view(cache_v, (d, kv_heads, n_kv)), (d, n_kv, kv_heads), contiguous=False)
            cur = g.view(g.op("FLASH_ATTN_EXT", (d, heads, n_tokens), [q_p, k_p, v_p, mask]), (q_width, n_tokens))
            if v_rot:  # the output rotated back (a quantized V needs -fa, so only here)
                cur = hadamard(cur, (q_width, n_tokens), v_rot_in, v_rot)
        else:  # V stored transposed, one value per row; the scores KQ materialised, softmax in place
            if fused:
                v_rows = g.view(g.op("CONT", (kv_width, n_tokens), [v]), (1, kv_width * n_tokens))
            elif kv_width < v_max:  # Gemma 4: a narrower layer's V rows padded to the cache's width
                padded = g.op("PAD", (v_max, n_tokens), [g.view(v, (kv_width, n_tokens))])
                v_rows = g.view(padded, (1, v_max * n_tokens))
            else:
                v_rows = g.view(g.view(v, (kv_width, n_tokens)), (1, kv_width * n_tokens))
            g.nodes.append(_GgmlTensor("SET_ROWS", srcs=[v_rows, v_idxs, g.view(cache_v, (1, kv_width * n_kv))],
                                       view_src=cache_v))
            v_p = g.view(g.view(cache_v, (n_kv, kv_heads, d)), (n_kv, d, kv_heads), contiguous=False)
            k_p = g.view(g.view(cache_k, (d, kv_heads, n_kv)), (d, n_kv, kv_heads), contiguous=False)
            q_p = g.view(g.view(q, (d, heads, n_tokens)), (d, n_tokens, heads), contiguous=False)
            kq = g.op("MUL_MAT", (n_kv, n_tokens, heads), [k_p, q_p])
            if model.attn_softcap:  # Gemma 2: scores soft-capped, scale / tanh / scale, all in place
                for op in ("SCALE", "UNARY", "SCALE"):
                    kq = g.op(op, (n_kv, n_tokens, heads), [kq])
            kq = g.op("SOFT_MAX", (n_kv, n_tokens, heads), [kq, mask])
            kqv = g.view(g.op("MUL_MAT", (d, n_tokens, heads), [v_p, kq]), (d, heads, n_tokens), contiguous=False)
            cur = g.op("CONT", (q_width, n_tokens), [kqv])
        cur = g.op("MUL_MAT", (hidden, n_tokens), [weight, cur])
        if model.o_bias:
            cur = g.op("ADD", (hidden, n_tokens), [cur, weight])
        # the output rows picked before the last FFN (inp_out_ids); gpt-oss picks them after the last layer
        last = layer == model.num_layers - 1 and not oss and not g4
        if last:
            cur = g.op("GET_ROWS", (hidden, n_outputs), [cur, out_ids])
        if gemma:  # post-attention norm before the residual add (the residual's rows picked as the add needs them)
            cur = norm(cur)
        if last:
            residual = g.op("GET_ROWS", (hidden, n_outputs), [residual, out_ids])
            n_tokens = n_outputs  # the rest of the graph carries the output rows only
        ffn_inp = g.op("ADD", (hidden, n_tokens), [cur, residual])
        if g4 and moe:  # Gemma 4 26B-A4B: a MoE block beside the MLP (gemma4.cpp), the MoE expanded first
            inp = gemma4_moe_layer(g, model, ffn_inp, n_tokens, norm)
            continue
        cur = norm(ffn_inp)
        if moe:  # llama-graph.cpp build_moe_ffn: router, top-k, the weights, expert matmuls
            n_exp, k, width = model.num_experts, model.top_k, model.moe_width
            logits = g.op("MUL_MAT", (n_exp, n_tokens), [weight, cur])
            # softmax over all experts, top-k renormalised (Qwen3-MoE, Mixtral); gpt-oss: router bias, top-k of
            # the logits, softmax over the k chosen
            probs = g.op("ADD" if oss else "SOFT_MAX", (n_exp, n_tokens), [logits, weight] if oss else [logits])
            probs_rows = g.view(probs, (1, n_exp, n_tokens))
            top_k = g.view(g.op("ARGSORT", (n_exp, n_tokens), [probs]), (k, n_tokens), contiguous=False)
            weights = g.view(g.op("GET_ROWS", (1, k, n_tokens), [probs_rows, top_k]), (k, n_tokens))
            if oss:
                weights = g.view(g.op("SOFT_MAX", (k, n_tokens), [weights]), (1, k, n_tokens))
            else:
                total = g.op("CLAMP", (1, n_tokens), [g.op("SUM_ROWS", (1, n_tokens), [weights])])
                weights = g.view(g.op("DIV", (k, n_tokens), [weights, total]), (1, k, n_tokens))
            rows = g.view(cur, (hidden, 1, n_tokens))

            def experts(width_out, src):  # MUL_MAT_ID, plus gpt-oss's per-expert bias (ADD_ID, in place)
                t = g.op("MUL_MAT_ID", (width_out, k, n_tokens), [weight, src, top_k])
                return g.op("ADD_ID", (width_out, k, n_tokens), [t, weight, top_k]) if oss else t
            gate = experts(width, rows)
            up = experts(width, rows)
            down = experts(hidden, g.op("GLU", (width, k, n_tokens), [gate, up]))
            weighted = g.op("MUL", (hidden, k, n_tokens), [down, weights])
            # the k experts' outputs summed by k - 1 adds over strided views of `weighted`
            expert_out = [g.view(weighted, (hidden, n_tokens), contiguous=False, at_start=i == 0) for i in range(k)]
            cur = expert_out[0]
            for view in expert_out[1:]:
                cur = g.op("ADD", (hidden, n_tokens), [cur, view])
            inp = g.op("ADD", (hidden, n_tokens), [cur, ffn_inp], output=oss and layer == model.num_layers - 1)
            continue
        if fused:  # phi3: one gate_up matmul, SwiGLU over its two halves
            cur = g.op("GLU", (ffn, n_tokens), [g.op("MUL_MAT", (2 * ffn, n_tokens), [weight, cur])])
        else:
            gate = g.op("MUL_MAT", (ffn, n_tokens), [weight, cur])
            cur = g.op("GLU", (ffn, n_tokens), [gate, g.op("MUL_MAT", (ffn, n_tokens), [weight, cur])])
        cur = g.op("MUL_MAT", (hidden, n_tokens), [weight, cur])
        if gemma:
            cur = norm(cur)
        inp = g.op("ADD", (hidden, n_tokens), [ffn_inp, cur] if fused else [cur, ffn_inp])
        if g4:  # the layer's output scale (layer_output_scale, one value), in place
            inp = g.op("MUL", (hidden, n_tokens), [inp, weight])
    if oss:  # the last layer's output is kept (t_h_nextn, an output); its rows picked after it
        inp = g.op("GET_ROWS", (hidden, n_outputs), [inp, out_ids])
        n_tokens = n_outputs
    cur = g.op("MUL", (hidden, n_tokens), [g.op("RMS_NORM", (hidden, n_tokens), [inp]), weight], output=True)
    if g4:  # the final norm's output is kept (t_h_nextn, an output); the output rows picked after it
        cur = g.op("GET_ROWS", (hidden, n_outputs), [cur, out_ids], output=True)
        n_tokens = n_outputs
    if arch in ("gemma2", "gemma4"):  # the logits soft-capped: scale / tanh / scale in place, the last the output
        cur = g.op("MUL_MAT", (model.vocab_size, n_tokens), [weight, cur])
        for i, op in enumerate(("SCALE", "UNARY", "SCALE")):
            cur = g.op(op, (model.vocab_size, n_tokens), [cur], output=i == 2)
    else:
        g.op("MUL_MAT", (model.vocab_size, n_tokens), [weight, cur], output=True)  # the logits
    first_use, dfs_order = [], []
    for i, node in enumerate(g.nodes):
        first_use += [s for s in node.srcs if s.is_input and s not in first_use]
        dfs_order += [s for s in dfs_inputs_at.get(i, []) + node.srcs if s.is_input and s not in dfs_order]
    if device == "gpu":
        # the host gathers the embedding rows; the GPU split starts with copies of its inputs, then its nodes
        embd = g.nodes.pop(0)
        copies = {id(embd): _GgmlTensor("NONE", embd.nbytes, embd.layout)}
        copies.update((id(t), _GgmlTensor("NONE", t.nbytes, ("copy", t.nbytes))) for t in first_use if t is not tokens)
        for node in g.nodes:
            node.srcs = [copies.get(id(s), s) for s in node.srcs]
        g.nodes = list(copies.values()) + g.nodes
    else:
        # the leaves, allocated first in the walk's order (ggml_gallocr_alloc_graph_impl): the token ids, then inp_embd
        # (set only for a batch of embeddings, allocated all the same), then the others
        g.inputs = [tokens, input_tensor(4 * hidden * ubatch_tokens)] + [t for t in dfs_order if t is not tokens]
    return g


def gemma4_moe_layer(g, model, ffn_inp, n_tokens, norm):
    """Gemma 4's feed-forward with experts, as gemma4.cpp builds it (the nodes in the order the graph holds them):
    the router reads the unnormed residual (rms_norm, scaled by 1/sqrt(n_embd), times its own scale vector), softmax,
    top-k, the k weights renormalised; the experts take the pre_ffw_norm_2 input, one fused gate-up MUL_MAT_ID, GeGLU
    over its two halves, the down MUL_MAT_ID scaled per expert (ffn_down_exps.scale: repeated over the tokens, the
    chosen rows gathered) and weighted, the k outputs summed; then the dense MLP (ffn_norm, gate, up, GeGLU, down),
    the two branches' post norms, their sum, post_ffw_norm, the residual add and the layer's output scale."""
    hidden, n_exp, k, width = model.hidden_size, model.num_experts, model.top_k, model.moe_width
    weight = g.external()
    router = g.op("RMS_NORM", (hidden, n_tokens), [ffn_inp])
    router = g.op("MUL", (hidden, n_tokens), [g.op("SCALE", (hidden, n_tokens), [router]), weight])
    probs = g.op("SOFT_MAX", (n_exp, n_tokens), [g.op("MUL_MAT", (n_exp, n_tokens), [weight, router])])
    probs_rows = g.view(probs, (1, n_exp, n_tokens))
    top_k = g.view(g.op("ARGSORT", (n_exp, n_tokens), [probs]), (k, n_tokens), contiguous=False)
    weights = g.view(g.op("GET_ROWS", (1, k, n_tokens), [probs_rows, top_k]), (k, n_tokens))
    total = g.op("CLAMP", (1, n_tokens), [g.op("SUM_ROWS", (1, n_tokens), [weights])])
    weights = g.view(g.op("DIV", (k, n_tokens), [weights, total]), (1, k, n_tokens))
    rows = g.view(norm(ffn_inp), (hidden, 1, n_tokens))
    gate_up = g.op("MUL_MAT_ID", (2 * width, k, n_tokens), [weight, rows, top_k])
    gate = g.view(gate_up, (width, k, n_tokens), contiguous=False)
    up = g.view(gate_up, (width, k, n_tokens), contiguous=False, at_start=False)
    down = g.op("MUL_MAT_ID", (hidden, k, n_tokens), [weight, g.op("GLU", (width, k, n_tokens), [gate, up]), top_k])
    scales = g.op("REPEAT", (1, n_exp, n_tokens), [g.view(weight, (1, n_exp))])
    down = g.op("MUL", (hidden, k, n_tokens), [down, g.op("GET_ROWS", (1, k, n_tokens), [scales, top_k])])
    weighted = g.op("MUL", (hidden, k, n_tokens), [down, weights])
    expert_out = [g.view(weighted, (hidden, n_tokens), contiguous=False, at_start=i == 0) for i in range(k)]
    moe_out = expert_out[0]
    for view in expert_out[1:]:
        moe_out = g.op("ADD", (hidden, n_tokens), [moe_out, view])
    mlp = norm(ffn_inp)
    gated = g.op("MUL_MAT", (model.ffn_hidden_size, n_tokens), [weight, mlp])
    mlp = g.op("GLU", (model.ffn_hidden_size, n_tokens),
               [gated, g.op("MUL_MAT", (model.ffn_hidden_size, n_tokens), [weight, mlp])])
    mlp = norm(g.op("MUL_MAT", (hidden, n_tokens), [weight, mlp]))
    cur = norm(g.op("ADD", (hidden, n_tokens), [mlp, norm(moe_out)]))
    out = g.op("ADD", (hidden, n_tokens), [cur, ffn_inp])
    return g.op("MUL", (hidden, n_tokens), [out, weight])


def llamacpp_compute_buffer_replay(model, n_ubatch, n_ctx_cells, flash_attn, device="gpu", swa_cells=None, n_seqs=1,
                                   n_ctx=None, type_k="fp16", type_v="fp16"):
    """The compute buffer llama.cpp reserves, in bytes: ggml-alloc replayed over the worst-case graph, one ubatch
    of min(n_ctx, n_ubatch) tokens (llama-context.cpp graph_reserve rounds it up to a multiple of n_seqs = -np, the
    outputs staying as many) attending to n_ctx_cells cells per KV stream; a sliding layer to swa_cells, by default
    llama.cpp's GGML_PAD(min(n_ctx, n_swa + n_ubatch), 256) for one sequence. n_ctx: all the cells (every stream),
    n_ctx_cells when omitted. device "gpu" (CUDA: 128-B alignment, the GPU split of a full offload) or "cpu"
    (llama.cpp run on the CPU alone: 32-B alignment, every input). type_k / type_v: the cache types (-ctk / -ctv; a
    quantized one adds llama.cpp's Hadamard rotations, llamacpp_rotations)."""
    n_outputs = min(n_ubatch, n_ctx or n_ctx_cells)
    n_tokens = -(-n_outputs // n_seqs) * n_seqs
    cells = {"full": n_ctx_cells}
    if llamacpp_iswa(model):
        cells["sliding"] = swa_cells or \
            -(-min(n_ctx_cells, model.sliding_window + n_ubatch) // LLAMACPP_SWA_PAD) * LLAMACPP_SWA_PAD
    graph = llamacpp_graph(model, n_tokens, cells, flash_attn, device, n_outputs,
                           (type_k, type_v))
    return ggml_alloc_peak(graph, LLAMACPP_CUDA_ALIGN if device == "gpu" else 32)


def llamacpp_compute_buffer(model, ll, n_kv):
    """(bytes, how) of the GPU compute buffer. how "replayed": ggml-alloc replayed over the rebuilt graph (above),
    for the llama / qwen2 / qwen3 / qwen3moe / phi3 / gemma2 / gemma3 / gemma4 / gpt-oss layers fully offloaded (any
    -np, unified or not). Otherwise how names why not and the bytes are an ESTIMATE:

        n_ubatch x 4 B x (n_head x n_kv  [the f32 scores KQ of one layer, materialised only without -fa]
                          + 2 x n_embd   [the residual stream and the normed input]
                          + n_ff)        [the FFN intermediate; MoE: top_k x the expert width + shared experts]

    or, when larger, the graph's outputs n_ubatch x 4 B x (n_vocab + n_embd) (the logits: the peak with -fa for most
    of the replayed models); the allocator's holes are left out."""
    why_not = llamacpp_replay_refusal(model, ll)
    if why_not is None:
        cells = llamacpp_cells(model, ll)
        return llamacpp_compute_buffer_replay(model, ll.n_ubatch, n_kv, ll.flash_attn, swa_cells=cells["swa_cells"],
                                              n_seqs=ll.n_parallel, n_ctx=cells["n_ctx"], type_k=ll.type_k,
                                              type_v=ll.type_v), "replayed"
    ff = model.ffn_hidden_size if not model.is_moe else model.moe_width * model.top_k + \
        model.num_shared_experts * (model.shared_expert_ffn_size or model.moe_width)
    scores = 0 if ll.flash_attn else model.num_attention_heads * n_kv
    n_tokens = min(ll.n_ubatch, n_kv)
    layer = n_tokens * 4 * (scores + 2 * model.hidden_size + ff)
    # the graph's outputs, never freed: the logits and the final norm's output (the peak with -fa, in the replay)
    outputs = n_tokens * 4 * (model.vocab_size + model.hidden_size)
    return max(layer, outputs), "estimate: " + why_not


def llamacpp_memory(model, inf, ll):
    """Everything llama.cpp logs at start-up for these flags: model buffers, KV caches, compute buffer (estimate);
    the GPU total is their GPU shares (the CUDA context, ~150-300 MiB, is not included: give it with --overhead
    to the fit check)."""
    refusal = llamacpp_refusal(model, inf, ll)
    if refusal:
        raise ValueError(refusal)
    kv = llamacpp_kv_cache(model, ll)
    rs = llamacpp_recurrent_state(model, ll)
    buffers = llamacpp_model_buffers(model, ll)
    start, offloaded, output_on_gpu = llamacpp_gpu_layers(model, ll)
    any_gpu = offloaded > 0 or output_on_gpu
    compute, compute_how = llamacpp_compute_buffer(model, ll, kv["cells"]["base_cells"]) if any_gpu \
        else (0, "no layer on the GPU")
    rs_gpu, rs_total = (rs["gpu_bytes"], rs["bytes"]) if rs else (0, 0)
    gpu_total = buffers["gpu_bytes"] + kv["gpu_bytes"] + rs_gpu + compute
    host_total = buffers["host_bytes"] + kv["total_bytes"] - kv["gpu_bytes"] + rs_total - rs_gpu
    return {"engine": "llama.cpp", "setup": asdict(ll) | {"weight_bits": float(ll.weight_bits)},
            "kv": kv, "recurrent": rs, "model_buffers": buffers, "compute_buffer_bytes": compute,
            "compute_buffer_how": compute_how,
            "offloaded_layers": offloaded + (1 if output_on_gpu else 0), "total_layers": model.num_layers + 1,
            "gpu_bytes": gpu_total, "host_bytes": host_total,
            "slots": ll.n_parallel, "context_per_slot": kv["cells"]["n_ctx_seq"] if not ll.kv_unified
            else kv["cells"]["n_ctx"] // ll.n_parallel,
            "assumptions": _llamacpp_assumptions(ll, model, compute_how, buffers.get("imatrix_assumed", False))}


def _llamacpp_assumptions(ll, model=None, compute_how="estimate", imatrix_assumed=False):
    weights = (f"model buffers: the 2-D weights scaled to --model-bytes {_size(ll.model_bytes)} (1-D norms f32)"
               if ll.model_bytes is not None else
               f"model buffers: each tensor at the type llama-quantize gives it in a file of type {ll.gguf_file_type} "
               f"(llama-quant.cpp's rules{', the older fused attn_qkv rule (--old-qkv)' if ll.old_qkv else ''}; "
               "exact, as calc_quantization.py sizes the file; the GPU buffer as CUDA / ROCm allocate it: a "
               "quantized tensor whose rows are not a multiple of 512 values padded by one row's remainder, 128-B "
               "alignment; Vulkan and Metal skip that padding"
               + (f"; llama-quantize makes {ll.gguf_file_type} only with an importance matrix: typed as with one"
                  if imatrix_assumed else "") + ")" if ll.gguf_file_type else
               f"model buffers: every 2-D weight at {float(ll.weight_bits):g} bits (a GGUF mixes types: Q4_K_M keeps "
               "some tensors at q6_K; give --model-bytes, the GGUF's size, for its real total), 1-D norms f32")
    if model is not None and model.gguf_arch == "gpt-oss":
        weights += "; gpt-oss's routed experts in MXFP4 (17 B per 32 weights) whatever the type, as llama.cpp's " \
                   "converter writes them"
    placement = "; token embedding on the host, the last -ngl layers and (when -ngl > layers) the output layer on " \
        "the GPU (llama-model.cpp load_tensors)"
    if model is not None and llamacpp_gpu_layers(model, ll)[0]:
        # mmap maps one range of the file per device, from its first tensor to its last (llama-model-loader.cpp)
        placement += "; the host buffer of a partial offload sums the host layers' tensors, as a file whose token " \
                     "embedding comes first and whose blocks follow in order maps them; tensors of GPU layers lying " \
                     "between them in a file would be mapped too"
    out = [weights + placement,
           "KV caches exact (llama_kv_cache / llama_kv_cache_iswa: n_ctx padded to 256, SWA cells "
           "pad256(min(n_ctx, n_swa x seqs + n_ubatch)))"]
    if model is not None and model.is_mla:
        out.append(f"MLA (llama.cpp deepseek2): one K row of kv_lora_rank {model.kv_lora_rank} + qk_rope_head_dim "
                   f"{model.qk_rope_head_dim} values per layer and cell, no V row (mainline since PR #19067, "
                   "2026-01-24; older builds also kept a V row of kv_lora_rank values); the model buffers count "
                   "kv_b_proj once, as the checkpoint does (a GGUF split into attn_k_b / attn_v_b holds the same "
                   "values)")
    if model is not None and model.state_layer_count():
        out.append("recurrent state exact (llama_memory_recurrent: max(1, -np) cells of n_embd_r + n_embd_s f32 "
                   "values per recurrent layer, llama-hparams.cpp); no rollback snapshots (n_rs_seq 0: speculative "
                   "decoding with state rollback adds 1 + n_rs_seq rows per cell); the attention layers alone in "
                   "the KV cache")
    if compute_how == "replayed":
        arch = model.gguf_arch if model is not None else "llama"
        arch = {"qwen3_moe": "qwen3moe", "mistral": "llama", "mixtral": "llama"}.get(arch, arch)  # llama.cpp's names
        compute = ("compute buffer replayed: ggml-alloc's allocation of the worst-case graph of one ubatch (every "
                   f"token an output), rebuilt node for node for llama.cpp's {arch} layers as of commit 0c1e570 "
                   "(2026-10-01), CUDA's 128-B alignment; equal to llama.cpp's own figure in 928 measured CPU runs "
                   "and GPU logs (tests); other builds may differ")
    else:
        compute = ("compute buffer ESTIMATED (" + compute_how.removeprefix("estimate: ") + "): n_ubatch x 4 B x "
                   "(heads x n_kv without -fa + 2 x hidden + FFN width), or the logits and final norm n_ubatch x 4 B "
                   "x (vocab + hidden) when larger, without the allocator's holes; llama.cpp's own figure is in its "
                   "log ('compute buffer size')")
    return out + [compute + "; the CUDA context (~150-300 MiB) is not counted"]


def render_llamacpp(res):
    """The llama.cpp section of the text output, in the words of llama.cpp's start-up log (MiB, 2 decimals)."""
    mib = 2**20
    s, kv, b = res["setup"], res["kv"], res["model_buffers"]
    # ggml's type names, as llama.cpp prints them (the block's KV_CACHE_DTYPES spell the float types fp16 / fp32)
    ggml_name = {"fp16": "f16", "fp32": "f32"}
    s = dict(s, type_k=ggml_name.get(s["type_k"], s["type_k"]), type_v=ggml_name.get(s["type_v"], s["type_v"]))
    lines = [f"llama.cpp buffers (-c {s['n_ctx']} -> n_ctx {kv['cells']['n_ctx']}, -np {s['n_parallel']}"
             f"{' unified' if s['kv_unified'] else ''}, -ctk {s['type_k']} -ctv {s['type_v']}, -ub {s['n_ubatch']}, "
             f"-fa {'on' if s['flash_attn'] else 'off'}):"]
    if b.get("tensor_types"):  # --gguf-type FILE_TYPE: the loader's type census and the model size line
        census = ", ".join(f"{ty.lower().replace('_k', '_K') if ty.endswith('_K') else ty.lower()}: {n} tensors"
                           for ty, n in sorted(b["tensor_types"].items()))  # ggml's names: q4_K, iq4_xs, f32
        lines += [f"  llama_model_loader: - type {census}",
                  f"  print_info: file type = {s['gguf_file_type']}{' (--old-qkv)' if s['old_qkv'] else ''}; file "
                  f"size = {b['file_bytes'] / 2**30:.2f} GiB ({b['bpw']:.2f} BPW)"]
    lines += [f"  load_tensors: offloaded {res['offloaded_layers']}/{res['total_layers']} layers to GPU",
             f"  load_tensors:   GPU model buffer size = {b['gpu_bytes'] / mib:10.2f} MiB",
             f"  load_tensors:   CPU model buffer size = {b['host_bytes'] / mib:10.2f} MiB"]
    for c in kv["caches"]:
        lines.append(f"  llama_kv_cache ({c['kind']}): size = {c['bytes'] / mib:8.2f} MiB ({c['cells']:6d} cells, "
                     f"{c['layers']:3d} layers, {s['n_parallel']}/{c['streams']} seqs), K ({s['type_k']}): "
                     f"{c['k_bytes'] / mib:8.2f} MiB, V ({s['type_v']}): {c['v_bytes'] / mib:8.2f} MiB"
                     + (f"; on GPU {c['gpu_bytes'] / mib:.2f} MiB" if c["gpu_bytes"] != c["bytes"] else ""))
    rs = res.get("recurrent")
    if rs:
        # llama-memory-recurrent.cpp: one "RS buffer size" line per device, then the total with every layer counted
        if rs["gpu_bytes"]:
            lines.append(f"  llama_memory_recurrent:    GPU RS buffer size = {rs['gpu_bytes'] / mib:8.2f} MiB")
        if rs["bytes"] > rs["gpu_bytes"]:
            lines.append(f"  llama_memory_recurrent:    CPU RS buffer size = "
                         f"{(rs['bytes'] - rs['gpu_bytes']) / mib:8.2f} MiB")
        lines.append(f"  llama_memory_recurrent: size = {rs['bytes'] / mib:7.2f} MiB ({rs['cells']:6d} cells, "
                     f"{rs['n_layer']:3d} layers, {rs['seqs']:2d} seqs), R (f32): {rs['r_bytes'] / mib:7.2f} MiB, "
                     f"S (f32): {rs['s_bytes'] / mib:7.2f} MiB  [{rs['arch']}: {rs['recurrent_layers']} recurrent "
                     f"layers, n_embd_r {rs['n_embd_r']:,}, n_embd_s {rs['n_embd_s']:,}]")
    how = res.get("compute_buffer_how", "estimate")
    lines.append(f"  GPU compute buffer size = {res['compute_buffer_bytes'] / mib:10.2f} MiB "
                 f"({'replayed ggml-alloc' if how == 'replayed' else 'estimate'})")
    lines.append(f"  GPU total {res['gpu_bytes'] / mib:,.2f} MiB ({gib(res['gpu_bytes']):.2f} GiB); host "
                 f"{res['host_bytes'] / mib:,.2f} MiB; {res['slots']} slot(s) of up to "
                 f"{res['context_per_slot']:,} tokens each")
    return lines


# ==============================================================================================================
# Serving speed (--infer with --gpu / --bandwidth; --sweep): prefill, decode, time to first token, tokens/s
# ==============================================================================================================
# A roofline per phase, every efficiency printed and overridable:
#   prefill of P tokens: compute-bound; FLOPs = 2 x P x (the matmul weights one token multiplies: routed experts
#       top_k of E) + 2 x the LM head once (only the last token's logits) + attention 2 x heads x (d_qk + d_v) x
#       the causal pairs (sliding layers: within the window), at --prefill-efficiency of the device's dense 16-bit
#       tensor peak (fp8 weights: its fp8 peak); never faster than reading the weights once.
#   decode step of B sequences holding T tokens each: memory-bound; bytes = every weight outside the routed
#       experts once + for each MoE layer the experts the batch touches, E x (1 - (1 - k/E)^B) expected under
#       uniform routing (each token picks k of E; an expert is missed by all B tokens with probability
#       (1 - k/E)^B) + the KV cache the batch reads (B x T tokens, sliding layers their window), at
#       --decode-efficiency of the device's memory bandwidth; never faster than its FLOPs at the prefill efficiency.
#   time to first token = prefill of the prompt + one decode step; tokens/s per user = 1 / step, total = B / step.
# No tensor/pipeline parallelism, no host offload, no scheduler or sampling overhead, no speculative decoding.
SERVE_DECODE_EFFICIENCY = 0.8    # assumed fraction of the memory bandwidth a decode step's reads reach
SERVE_PREFILL_EFFICIENCY = 0.7   # assumed fraction of the dense 16-bit tensor peak a prefill reaches
SERVE_MAX_SWEEP_BATCH = 4096


@dataclass
class ServeDevice:
    name: str = ""
    bandwidth: float = 0.0           # GB/s (10^9 B/s)
    peak_tflops: float | None = None  # dense TFLOP/s at the weights' matmul dtype; None: no prefill prediction
    decode_efficiency: float = SERVE_DECODE_EFFICIENCY
    prefill_efficiency: float = SERVE_PREFILL_EFFICIENCY
    step_overhead_s: float = 0.0     # a fixed cost per decode step (launches, synchronisation): --decode-overhead-ms


def expected_experts_touched(num_experts, top_k, tokens):
    """E x (1 - (1 - k/E)^B): the expected distinct experts B tokens route to when each picks k of E uniformly
    (expert e is missed by one token with probability 1 - k/E, by all B independently with its B-th power)."""
    return num_experts * (1.0 - (1.0 - top_k / num_experts) ** tokens)


def decode_weight_bytes(model, bytes_per_value, batch):
    """Weight bytes one decode step reads: every tensor once except the routed experts (the touched ones only) and
    the token embedding (a lookup: `batch` rows; a tied LM head reads the whole table as the head)."""
    first, last = global_tensors(model)
    total = 0.0
    for t in first:
        if t.role == "embedding":
            total += (t.numel if model.tied_embeddings else min(t.numel, batch * t.shape[-1])) * bytes_per_value
        else:
            total += t.numel * bytes_per_value
    total += sum(t.numel for t in last) * bytes_per_value
    for i in range(model.num_layers):
        moe = model.layer_is_moe(i)
        for t in layer_tensors(model, moe, model.layer_is_linear(i)):
            if t.role == "routed_experts":
                touched = expected_experts_touched(model.num_experts, model.top_k, batch)
                total += t.numel / model.num_experts * touched * bytes_per_value
            else:
                total += t.numel * bytes_per_value
    return total


def _attention_pairs_per_token(model, held):
    """Key positions one new token attends to, summed over the attention layers (sliding: at most the window)."""
    return sum(min(held, model.sliding_window) if model.layer_attention(i) == "sliding" else held
               for i in range(model.num_layers) if not model.layer_is_linear(i))


def prefill_flops(model, tokens):
    """Forward FLOPs of prefilling `tokens` prompt tokens of one sequence (see the section)."""
    dq, dv = _attention_head_dims(model)
    matmul = sum(layer_matmul_elements(model, model.layer_is_moe(i), 1, 1) for i in range(model.num_layers))
    proj_in, last = head_matmul_elements(model, 1)
    pairs = sum(causal_pairs(tokens, model.sliding_window if model.layer_attention(i) == "sliding" else 0)
                for i in range(model.num_layers) if not model.layer_is_linear(i))
    return 2 * tokens * (matmul + proj_in) + 2 * last + 2 * model.num_attention_heads * pairs * (dq + dv)


def decode_flops(model, batch, held):
    """FLOPs of one decode step: each of `batch` tokens multiplies the active weights and attends to `held`."""
    dq, dv = _attention_head_dims(model)
    matmul = sum(layer_matmul_elements(model, model.layer_is_moe(i), 1, 1) for i in range(model.num_layers))
    proj_in, last = head_matmul_elements(model, 1)
    attention = 2 * model.num_attention_heads * _attention_pairs_per_token(model, held) * (dq + dv)
    return batch * (2 * (matmul + proj_in + last) + attention)


def decode_step(model, dev, bytes_per_value, kv_bytes_per_token_fn, batch, held):
    """{seconds, memory_seconds, compute_seconds, weight_bytes, kv_bytes, bound} of one decode step."""
    weights = decode_weight_bytes(model, bytes_per_value, batch)
    kv = kv_bytes_per_token_fn(batch, held)
    mem = (weights + kv) / (dev.decode_efficiency * dev.bandwidth * 1e9)
    comp = decode_flops(model, batch, held) / (dev.prefill_efficiency * dev.peak_tflops * 1e12) \
        if dev.peak_tflops else 0.0
    # the fixed cost adds to the roofline's bound: llama.cpp's 7B decode tables lie on a + bytes / B_eff (docs)
    return {"seconds": dev.step_overhead_s + max(mem, comp), "memory_seconds": mem, "compute_seconds": comp,
            "overhead_seconds": dev.step_overhead_s, "weight_bytes": weights, "kv_bytes": kv,
            "bound": "memory" if mem >= comp else "compute"}


def prefill_time(model, dev, bytes_per_value, tokens):
    """{seconds, flops, bound} of prefilling one prompt of `tokens` tokens (None without a peak)."""
    if not dev.peak_tflops:
        return None
    flops = prefill_flops(model, tokens)
    comp = flops / (dev.prefill_efficiency * dev.peak_tflops * 1e12)
    mem = decode_weight_bytes(model, bytes_per_value, tokens) / (dev.decode_efficiency * dev.bandwidth * 1e9)
    return {"seconds": max(comp, mem), "flops": flops, "bound": "compute" if comp >= mem else "memory",
            "tokens_per_second": tokens / max(comp, mem)}


def sweep_batches(capacity):
    """1, 2, 4, ... up to capacity, and capacity itself."""
    out, b = [], 1
    while b <= capacity:
        out.append(b)
        b *= 2
    if out and out[-1] != capacity:
        out.append(capacity)
    return out


def serving_speed(model, dev, bytes_per_value, kv_fn, memory_fn, *, batch, held, prompt, capacity, sweep):
    """The speed report: TTFT, one decode step at `batch`, and (sweep) a row per batch up to `capacity`.
    kv_fn(B, T): KV bytes B sequences of T tokens read; memory_fn(B): the memory that batch occupies (or None)."""
    pre = prefill_time(model, dev, bytes_per_value, prompt)
    first_step = decode_step(model, dev, bytes_per_value, kv_fn, 1, prompt)
    ttft = pre["seconds"] + first_step["seconds"] if pre else None

    def row(b):
        step = decode_step(model, dev, bytes_per_value, kv_fn, b, held)
        return {"batch": b, "step_seconds": step["seconds"], "tokens_per_second_per_user": 1 / step["seconds"],
                "tokens_per_second": b / step["seconds"], "bound": step["bound"],
                "weight_bytes": step["weight_bytes"], "kv_bytes": step["kv_bytes"], "memory_bytes": memory_fn(b)}
    rows = [row(b) for b in sweep_batches(min(capacity, SERVE_MAX_SWEEP_BATCH))] if sweep else []
    return {"device": asdict(dev), "prompt_tokens": prompt, "held_tokens": held, "batch": batch,
            "capacity": capacity, "prefill": pre, "time_to_first_token_seconds": ttft, "decode": row(batch),
            "sweep": rows, "assumptions": _speed_assumptions(dev, held)}


def _speed_assumptions(dev, held):
    return [f"speed on {dev.name or 'the given device'}: decode reads the weights once per step (MoE: the experts "
            "the batch touches under uniform routing, E(1-(1-k/E)^B)) and the KV cache of the batch at "
            f"--decode-efficiency {dev.decode_efficiency:g} x {dev.bandwidth:,.0f} GB/s"
            + (f" plus {dev.step_overhead_s * 1e3:g} ms per step (--decode-overhead-ms)" if dev.step_overhead_s
               else "")
            + f"; prefill at --prefill-efficiency {dev.prefill_efficiency:g} x "
            + (f"{dev.peak_tflops:,.1f} dense TFLOP/s" if dev.peak_tflops else "no peak (none known: give --tflops)")
            + f"; each sequence holds {held:,} tokens during decode (--context: the last, slowest step); no "
              "scheduler or sampling cost"
            + ("" if dev.step_overhead_s else ", no fixed cost per step (llama.cpp's 7B tables show 3.2-4.9 ms: "
               "--decode-overhead-ms)")
            + "; one GPU, every layer on it"]


def render_speed(sp):
    lines = ["serving speed (roofline estimate; efficiencies in the assumptions):"]
    if sp["prefill"]:
        lines.append(f"  prefill of {sp['prompt_tokens']:,} tokens: {sp['prefill']['seconds'] * 1e3:,.1f} ms "
                     f"({sp['prefill']['tokens_per_second']:,.0f} tokens/s, {sp['prefill']['bound']}-bound); "
                     f"time to first token {sp['time_to_first_token_seconds'] * 1e3:,.1f} ms")
    else:
        lines.append("  prefill: no tensor peak for this device (give --tflops)")
    d = sp["decode"]
    lines.append(f"  decode at batch {d['batch']}: {d['step_seconds'] * 1e3:,.2f} ms per step, "
                 f"{d['tokens_per_second_per_user']:,.1f} tokens/s per user, {d['tokens_per_second']:,.1f} total "
                 f"({d['bound']}-bound; reads {_size(d['weight_bytes'])} weights + {_size(d['kv_bytes'])} KV)")
    if sp["sweep"]:
        lines.append(f"  batch sweep up to the capacity of {sp['capacity']:,} sequences of the context:")
        lines.append(f"  {'batch':>7} {'ms/step':>9} {'tok/s/user':>11} {'tok/s total':>12} {'memory GiB':>11} bound")
        for r in sp["sweep"]:
            mem = f"{gib(r['memory_bytes']):11,.2f}" if r["memory_bytes"] is not None else f"{'-':>11}"
            lines.append(f"  {r['batch']:>7,} {r['step_seconds'] * 1e3:>9,.2f} "
                         f"{r['tokens_per_second_per_user']:>11,.1f} {r['tokens_per_second']:>12,.1f} {mem} "
                         f"{r['bound']}")
    return lines


def plot_sweep(speed, path):
    """--plot with --sweep: tokens/s (total and per user) and memory against the batch (matplotlib, imported only
    here)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = speed["sweep"]
    batches = [r["batch"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(batches, [r["tokens_per_second"] for r in rows], marker="o", label="total tokens/s")
    ax1.plot(batches, [r["tokens_per_second_per_user"] for r in rows], marker="s", label="tokens/s per user")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("concurrent sequences")
    ax1.set_ylabel("tokens/s")
    ax1.legend()
    mem = [r["memory_bytes"] for r in rows]
    if all(m is not None for m in mem):
        ax2.plot(batches, [gib(m) for m in mem], marker="o")
    ax2.set_xscale("log", base=2)
    ax2.set_xlabel("concurrent sequences")
    ax2.set_ylabel("memory (GiB)")
    fig.suptitle(f"decode on {speed['device']['name']}, {speed['held_tokens']:,} tokens per sequence")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --------------------------------------------------------------------------------------------------------------
# Serving CLI (--engine llama.cpp's flags, --speed / --sweep): parsing and assembly
# --------------------------------------------------------------------------------------------------------------
# Flags only --engine llama.cpp reads (dest -> flag), spelled as llama.cpp spells them
LLAMACPP_ONLY_FLAGS = {
    "ctx_size": "-c/--ctx-size", "parallel": "-np/--parallel", "cache_type_k": "-ctk/--cache-type-k",
    "cache_type_v": "-ctv/--cache-type-v", "n_gpu_layers": "-ngl/--n-gpu-layers", "ubatch_size": "-ub/--ubatch-size",
    "flash_attn": "-fa/--flash-attn", "kv_unified": "--kv-unified", "swa_full": "--swa-full",
    "no_kv_offload": "-nkvo/--no-kv-offload", "gguf_type": "--gguf-type", "model_bytes": "--model-bytes",
    "old_qkv": "--old-qkv"}
# Flags of the speed estimate (inference only)
SERVE_SPEED_FLAGS = {
    "speed": "--speed", "sweep": "--sweep", "decode_efficiency": "--decode-efficiency",
    "prefill_efficiency": "--prefill-efficiency", "bandwidth": "--bandwidth", "tflops": "--tflops",
    "decode_overhead_ms": "--decode-overhead-ms"}


def add_serving_arguments(p):
    """llama.cpp's start-up flags (--engine llama.cpp) and the speed estimate's, each in its own group."""
    g = p.add_argument_group("llama.cpp (--infer --engine llama.cpp: its model, KV and compute buffers; llama.cpp's "
                             "flag names)")
    g.add_argument("-c", "--ctx-size", dest="ctx_size", metavar="N",
                   help="llama.cpp's n_ctx, all slots together, padded to 256 (default --context x -np)")
    g.add_argument("-np", "--parallel", dest="parallel", metavar="N", help="sequences / server slots (default 1; "
                   "llama-server's auto is 4 with --kv-unified)")
    g.add_argument("-ctk", "--cache-type-k", dest="cache_type_k", metavar="TYPE",
                   help="K cache type: f16 (default), bf16, f32, q8_0, q5_1, q5_0, q4_1, q4_0, iq4_nl")
    g.add_argument("-ctv", "--cache-type-v", dest="cache_type_v", metavar="TYPE", help="V cache type (as -ctk)")
    g.add_argument("-ngl", "--n-gpu-layers", dest="n_gpu_layers", metavar="N",
                   help="layers on the GPU, the last N; N > layers also offloads the output layer (default all)")
    g.add_argument("-ub", "--ubatch-size", dest="ubatch_size", metavar="N",
                   help=f"physical batch n_ubatch (default {LLAMACPP_N_UBATCH}; with llama.cpp's -b B below it, "
                        "give B)")
    g.add_argument("-fa", "--flash-attn", dest="flash_attn", metavar="on|off|auto",
                   help="flash attention: only the compute-buffer estimate reads it (default auto = on)")
    g.add_argument("--kv-unified", action="store_true", help="one KV stream shared by all -np sequences")
    g.add_argument("--swa-full", action="store_true", help="sliding-window layers keep the full context too")
    g.add_argument("-nkvo", "--no-kv-offload", dest="no_kv_offload", action="store_true",
                   help="keep the KV cache in host memory")
    g.add_argument("--gguf-type", metavar="TYPE", help="the GGUF's llama-quantize file type (Q4_K_M, Q5_K_M, Q8_0, "
                   "IQ4_XS, ...: each tensor at the type llama-quantize gives it, as calc_quantization.py sizes the "
                   "file), or a ggml type for every 2-D weight (q4_K, q6_K, mxfp4, ...)")
    g.add_argument("--old-qkv", action="store_true", help="with --gguf-type: a fused attn_qkv (Phi-3, Falcon) on "
                   "llama-quantize's older rule, as in files quantized before 2025")
    g.add_argument("--model-bytes", metavar="SIZE", help="the GGUF's tensor bytes (its file size, or llama-bench's "
                   "'size'): the 2-D weights are scaled to it")
    s = p.add_argument_group("serving speed (--infer --speed / --sweep; docs: 'How many users can I serve?')")
    s.add_argument("--speed", action="store_true", help="prefill time, time to first token and decode tokens/s at "
                   "the batch (-np for llama.cpp) on --gpu")
    s.add_argument("--sweep", action="store_true", help="--speed plus a table over batch 1, 2, 4, ... up to the "
                   "sequences of --context that fit (--plot FILE draws it)")
    s.add_argument("--decode-efficiency", metavar="F", help=f"fraction of the memory bandwidth decode reaches "
                   f"(default {SERVE_DECODE_EFFICIENCY})")
    s.add_argument("--prefill-efficiency", metavar="F", help=f"fraction of the dense tensor peak prefill reaches "
                   f"(default {SERVE_PREFILL_EFFICIENCY})")
    s.add_argument("--decode-overhead-ms", metavar="MS", help="a fixed cost added to every decode step (default 0; "
                   "llama.cpp's 2023-24 builds show 3.2-4.9 ms per token on a 32-layer 7B: docs, 'How many users "
                   "can I serve?')")
    s.add_argument("--bandwidth", help="memory bandwidth, e.g. 3.35TB/s or 3350GB/s (a plain number: GB/s; "
                   "default: the --gpu catalogue's)")
    s.add_argument("--tflops", metavar="X", help="dense tensor TFLOP/s at the weights' matmul type (default: the "
                   "--gpu catalogue's fp16 / bf16, fp8 for --weight-dtype fp8)")


def check_serving_flags(args, engine):
    """Refuse serving flags where they would be ignored (one line naming the flag)."""
    if engine != "llama.cpp":
        stray = [flag for dest, flag in LLAMACPP_ONLY_FLAGS.items() if getattr(args, dest) not in (None, False)]
        if stray:
            raise ValueError(f"{stray[0]} is for --engine llama.cpp")
    if not args.infer:
        stray = [flag for dest, flag in SERVE_SPEED_FLAGS.items() if getattr(args, dest) not in (None, False)]
        if stray:
            raise ValueError(f"{stray[0]} is for inference; add --infer")
    if not (args.speed or args.sweep):
        stray = [flag for dest, flag in SERVE_SPEED_FLAGS.items() if dest not in ("speed", "sweep")
                 and getattr(args, dest) is not None]
        if stray:
            raise ValueError(f"{stray[0]} sets the speed estimate; add --speed or --sweep")


def _on_off(raw, flag):
    text = str(raw).strip().lower()
    if text in ("on", "1", "true", "auto", "yes"):
        return True
    if text in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{flag} must be on, off or auto, got {raw!r}")


def llamacpp_gguf_type(args):
    """--gguf-type -> (file type or None, ggml block type or None), read case-insensitively; a name that is both
    (Q8_0, Q4_0, F16, ...) is the file type: llama-quantize's recipe for it, not every tensor at that type."""
    if args.gguf_type is None:
        if args.old_qkv:
            raise ValueError("--old-qkv changes a GGUF file type's recipe: give --gguf-type (e.g. Q4_K_M)")
        return None, None
    if args.bits_per_weight is not None:
        raise ValueError("--gguf-type and --bits-per-weight both set the weights' width: give one")
    if args.model_bytes is not None:
        raise ValueError("--gguf-type and --model-bytes both size the weights: give one")
    name = str(args.gguf_type).strip().upper()
    if name in GGUF_FILE_TYPES:
        return name, None
    if name in GGML_TYPES:
        if args.old_qkv:
            raise ValueError(f"--old-qkv changes a file type's recipe; --gguf-type {args.gguf_type} is one ggml "
                             "type for every 2-D weight")
        return None, name
    raise ValueError(f"--gguf-type must be a llama-quantize file type ({', '.join(GGUF_FILE_TYPES)}) or a ggml "
                     f"type ({', '.join(t for t in GGML_TYPES if t not in GGUF_FILE_TYPES)}), got {args.gguf_type!r}")


def llamacpp_weight_bits(args, inf, model=None):
    """Bits per 2-D weight: --gguf-type's (a file type: the mean over its 2-D tensors, exact per tensor in the
    model buffers; a ggml type: its block layout), else --bits-per-weight, else --weight-dtype."""
    from fractions import Fraction
    file_type, ggml_type = llamacpp_gguf_type(args)
    if file_type is not None:
        if model is None:
            raise ValueError(f"--gguf-type {file_type} needs a model (its tensors), not --params")
        bytes_per_value = llamacpp_bytes_per_2d_value(llamacpp_gguf_plan(model, file_type, bool(args.old_qkv)))
        return Fraction(8 * bytes_per_value).limit_denominator(10**9)
    if ggml_type is not None:
        return Fraction(GGML_TYPES[ggml_type].bytes * 8, GGML_TYPES[ggml_type].block)
    if inf.bits_per_weight:
        return Fraction(inf.bits_per_weight).limit_denominator(10**6)
    return Fraction(WEIGHT_BITS[inf.weight_dtype])


def build_llamacpp_setup(args, inf, parallel=None, n_ctx=None, model=None):
    """--engine llama.cpp's flags -> LlamaCppSetup (parallel / n_ctx: the sweep's overrides)."""
    if args.kv_dtype is not None:
        raise ValueError("--kv-dtype: llama.cpp takes -ctk and -ctv (K and V cache types)")
    if args.ctx_size is not None and args.context is not None:
        raise ValueError("-c/--ctx-size is llama.cpp's n_ctx for all slots, --context one sequence's: give one")
    np_ = parallel or _opt(args.parallel, "-np", 1)
    if n_ctx is None:
        n_ctx = _opt(args.ctx_size, "-c", 0) or inf.context * np_
    ngl = None if args.n_gpu_layers is None or str(args.n_gpu_layers).strip().lower() in ("all", "auto") else \
        parse_count(args.n_gpu_layers, "-ngl", allow_zero=True)
    types = [kv_cache_dtype(raw or "f16", flag) for raw, flag in ((args.cache_type_k, "-ctk"),
                                                                   (args.cache_type_v, "-ctv"))]
    bad = [t for t in types if t in ("fp8", "int8", "int4")]
    if bad:
        raise ValueError(f"-ctk/-ctv {bad[0]} is not a llama.cpp cache type (f16, bf16, f32, q8_0, q5_1, q5_0, "
                         "q4_1, q4_0, iq4_nl)")
    fa = True if args.flash_attn is None else _on_off(args.flash_attn, "-fa")
    if KV_CACHE_DTYPES[types[1]][1] > 1 and not fa:
        raise ValueError(f"-ctv {types[1]}: llama.cpp needs flash attention (-fa on) for a quantized V cache")
    return LlamaCppSetup(
        n_ctx=n_ctx, n_parallel=np_, type_k=types[0], type_v=types[1], n_gpu_layers=ngl,
        n_ubatch=_opt(args.ubatch_size, "-ub", LLAMACPP_N_UBATCH), flash_attn=fa, kv_unified=bool(args.kv_unified),
        swa_full=bool(args.swa_full), kv_offload=not args.no_kv_offload,
        weight_bits=llamacpp_weight_bits(args, inf, model), gguf_file_type=llamacpp_gguf_type(args)[0],
        old_qkv=bool(args.old_qkv),
        model_bytes=None if args.model_bytes is None else parse_bytes(args.model_bytes, "--model-bytes"))


def parse_bandwidth_gbs(text):
    """--bandwidth as calc_transformer_flops.py reads it: '3.35TB/s', '3350GB/s', '2TiB/s', or a plain number of
    GB/s -> GB/s (10^9 B/s)."""
    raw = str(text).strip().replace(" ", "")
    scale = 1.0
    for unit, factor in (("tib/s", 2**40 / 1e9), ("gib/s", 2**30 / 1e9), ("tb/s", 1e3), ("gb/s", 1.0)):
        if raw.lower().endswith(unit):
            raw, scale = raw[: -len(unit)], factor
            break
    value = parse_number(raw, "--bandwidth")
    if not value or value <= 0:
        raise ValueError(f"--bandwidth {text!r}: expected a positive bandwidth such as 3.35TB/s or 3350GB/s")
    return float(value) * scale


def build_serve_device(args, inf):
    """--gpu's catalogue row with --bandwidth / --tflops / the efficiencies over it."""
    name, bandwidth, peak = "", None, None
    if args.gpu is not None:
        row = gpu_spec(args.gpu)
        name, bandwidth = row["name"], row["bandwidth"]
        peak = row["fp8"] if inf.weight_dtype == "fp8" and row["fp8"] else (row["fp16"] or row["bf16"])
    if args.bandwidth is not None:
        bandwidth = parse_bandwidth_gbs(args.bandwidth)
    if args.tflops is not None:
        peak = parse_fraction(args.tflops, "--tflops", 0.0, 1e7)
    if not bandwidth or bandwidth <= 0:
        raise ValueError("--speed / --sweep need a device: --gpu NAME (the catalogue) or --bandwidth GB/s")
    effs = []
    for raw, flag, default in ((args.decode_efficiency, "--decode-efficiency", SERVE_DECODE_EFFICIENCY),
                               (args.prefill_efficiency, "--prefill-efficiency", SERVE_PREFILL_EFFICIENCY)):
        value = default if raw is None else parse_fraction(raw, flag, 0.0, 1.0)
        if value <= 0:
            raise ValueError(f"{flag} must be in (0, 1]")
        effs.append(value)
    overhead_ms = 0.0 if args.decode_overhead_ms is None else \
        parse_fraction(args.decode_overhead_ms, "--decode-overhead-ms", 0.0, 1e4)
    return ServeDevice(name=name or f"{bandwidth:g} GB/s", bandwidth=float(bandwidth),
                       peak_tflops=float(peak) if peak else None, decode_efficiency=effs[0],
                       prefill_efficiency=effs[1], step_overhead_s=float(overhead_ms) / 1e3)


def vllm_max_model_len(model, inf, eng):
    """--engine vllm --max-context: the longest --max-model-len at which vLLM's pool serves --batch-size requests at
    once: the largest L with B x (blocks one request of L tokens needs) <= num_blocks, the accounting of
    kv_cache_utils.py get_max_concurrency_for_kv_cache_config (full attention: cdiv(L, block_size) blocks, so
    L = (num_blocks // B) x block_size; windows and chunks add blocks that stop growing with L).  The pool itself does
    not depend on max_model_len here (the profiling run's tokens are --max-num-batched-tokens).
    -> (InferSetup, solution)."""
    if model.state_layer_count():
        raise ValueError("--max-context with --engine vllm: the longest request of a model with linear-attention / "
                         "SSM layers is not modelled yet; give --max-model-len and read the concurrency")
    pool = vllm_kv_pool(model, inf, eng)
    batched = pool["max_num_batched_tokens"]
    if pool.get("dsa"):  # one group of full-attention pages: cdiv(L, 64) blocks a request (vllm_dsa_pool)
        def fits(length):
            return inf.batch * _cdiv(length, pool["block_size"]) <= pool["num_blocks"]
    else:
        groups, pages, uniform = vllm_kv_groups(model, inf, eng.block_size)

        def fits(length):
            return inf.batch * vllm_blocks_per_request(groups, pages, uniform, length, batched)[0] <= \
                pool["num_blocks"]

    if not fits(1):
        raise ValueError(f"nothing fits: vLLM's pool of {pool['num_blocks']:,} blocks is fewer than one request of "
                         f"one token needs, times --batch-size {inf.batch}")
    ceiling = 2**40
    if fits(ceiling):
        raise ValueError("--max-context: every layer of this model holds a window or a chunk, so vLLM's pool does not "
                         "limit the request length; give --max-model-len and read the concurrency")
    low, high = 1, ceiling
    while high - low > 1:  # fits(low) and not fits(high)
        mid = (low + high) // 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    return replace(inf, context=low), {"name": f"max --max-model-len for {inf.batch:,} concurrent requests (vLLM's "
                                               "pool)", "value": low}


def llamacpp_infer_setup(args, inf, engine, model=None):
    """--engine llama.cpp: the summed breakdown printed above llama.cpp's buffers prices the same run: its weights'
    width (--gguf-type, or --model-bytes spread over the parameters), -np sequences of -c / -np tokens each, and,
    when -ctk and -ctv agree, its cache type."""
    if engine != "llama.cpp":
        return inf
    if getattr(args, "batch_size", None) is not None or getattr(args, "batch_size_per_gpu", None) is not None:
        raise ValueError("-b/--batch-size: with --engine llama.cpp the concurrent sequences are -np (its slots); "
                         "llama.cpp's own -b (n_batch) is not modelled: give -ub")
    sequences = _opt(args.parallel, "-np", 1)
    inf = replace(inf, batch=sequences)
    if args.ctx_size is not None:
        inf = replace(inf, context=max(1, _opt(args.ctx_size, "-c", 0) // sequences))
    if args.gguf_type is not None:
        inf = replace(inf, bits_per_weight=float(llamacpp_weight_bits(args, inf, model)))
    elif args.model_bytes is not None and model is not None:
        inf = replace(inf, bits_per_weight=8 * parse_bytes(args.model_bytes, "--model-bytes")
                      / count_params(model)["total"])
    k, v = (kv_cache_dtype(raw or "f16", flag) for raw, flag in ((args.cache_type_k, "-ctk"),
                                                                  (args.cache_type_v, "-ctv")))
    return replace(inf, kv_dtype=k) if k == v else inf


def serving_extras(args, model, inf, result, gpu_bytes, engine):
    """--engine llama.cpp's buffers and the --speed / --sweep report, added to an inference result."""
    ll = None
    if engine == "llama.cpp":
        if args.max_context:
            raise ValueError("--max-context is for --engine sum; --engine llama.cpp prints its buffers for -c")
        ll = build_llamacpp_setup(args, inf, model=model)
        res = llamacpp_memory(model, inf, ll)
        result["engine"] = res
        result["assumptions"] += res.pop("assumptions")
        if gpu_bytes is not None:
            result["fits"] = res["gpu_bytes"] <= gpu_bytes
    if not (args.speed or args.sweep):
        return
    if model is None:
        raise ValueError("--speed / --sweep need a model (its tensors), not --params")
    if inf.tp > 1 or inf.pp > 1:
        raise ValueError("--speed / --sweep: tensor and pipeline parallelism are not modelled yet; drop -tp / -pp")
    if model.is_mla or model.state_layer_count() or model.single_block_layers:
        raise ValueError("--speed / --sweep: MLA, delta-net / Mamba-2 and one-block layers' decode reads are not "
                         "modelled yet")
    dev = build_serve_device(args, inf)
    held, prompt = inf.context, inf.prompt or inf.context
    if ll is not None:
        if ll.n_gpu_layers is not None and ll.n_gpu_layers <= model.num_layers or not ll.kv_offload:
            raise ValueError("--speed / --sweep with layers or KV on the host (-ngl below all, -nkvo) are not "
                             "modelled: host layers run at host speed")
        bytes_per_value = result["engine"]["model_buffers"]["bytes_per_2d_value"]
        held = result["engine"]["context_per_slot"]
        prompt = inf.prompt or held

        def kv_fn(b, t):
            return sum(kv_cache_bytes(model, b, t, dtype)["total_bytes"] for dtype in (ll.type_k, ll.type_v)) / 2

        def memory_fn(b):
            return llamacpp_memory(model, inf, replace(ll, n_parallel=b, n_ctx=held * b))["gpu_bytes"]
        batch = ll.n_parallel
        capacity = ll.n_parallel
        if gpu_bytes is not None:
            capacity = _largest_fitting(lambda b: memory_fn(b) <= gpu_bytes, 1, SERVE_MAX_SWEEP_BATCH)
    else:
        bits = inf.bits_per_weight or WEIGHT_BITS[inf.weight_dtype]
        bytes_per_value = float(bits) / 8

        def kv_fn(b, t):
            return kv_cache_bytes(model, b, t, inf.kv_dtype, inf.tp, inf.kv_convention)["total_bytes"]
        batch = inf.batch
        if engine == "vllm":
            pool = result["engine"]

            def memory_fn(b):
                return pool["terms"]["weights"] + kv_fn(b, held)
            capacity = min(int(pool["kv_tokens"] // held), pool["max_num_seqs"])
        elif engine == "sglang":
            pool = result["engine"]

            def memory_fn(b):
                return pool["weights_bytes"] + kv_fn(b, held)
            capacity = min(sglang_requests_at(pool, held), pool["max_running_requests"])
        else:
            def memory_fn(b):
                return inference_memory(model, replace(inf, batch=b))["per_gpu"]["total"]
            capacity = inf.batch
            if gpu_bytes is not None:
                capacity = _largest_fitting(lambda b: memory_fn(b) <= gpu_bytes, 1, SERVE_MAX_SWEEP_BATCH)
    if args.sweep and capacity < 1:
        raise ValueError(f"--sweep: not one sequence of {held:,} tokens fits the memory given")
    speed = serving_speed(model, dev, bytes_per_value, kv_fn, memory_fn, batch=batch, held=held, prompt=prompt,
                          capacity=capacity, sweep=args.sweep)
    result["speed"] = speed
    result["assumptions"] += speed.pop("assumptions")


# --------------------------------------------------------------------------------------------------------------
# Solvers
# --------------------------------------------------------------------------------------------------------------
def _largest_fitting(fits, low, high):
    """Largest integer v in [low, high] with fits(v) (fits monotone decreasing), or 0 if none."""
    if not fits(low):
        return 0
    lo, hi = low, low
    while hi < high and fits(min(hi * 2, high)):
        hi = min(hi * 2, high)
        lo = hi
    if hi == high:
        return hi
    hi = min(hi * 2, high)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def max_micro_batch(model, setup, gpu_bytes, limit=1 << 20):
    def fits(b):
        return training_memory(model, replace(setup, micro_batch=b, global_batch=0))["per_gpu"]["total"] <= gpu_bytes
    return _largest_fitting(fits, 1, limit)


def max_train_context(model, setup, gpu_bytes, limit=1 << 24):
    step = setup.cp

    def fits(n):
        return training_memory(model, replace(setup, seq_len=n * step))["per_gpu"]["total"] <= gpu_bytes
    return _largest_fitting(fits, 1, limit // step) * step


def max_inference_context(model, inf, gpu_bytes, limit=1 << 24):
    def fits(n):
        return inference_memory(model, replace(inf, context=n))["per_gpu"]["total"] <= gpu_bytes
    return _largest_fitting(fits, 1, limit)


def _inference_fits(model, inf, gpu_bytes, engine, args):
    """Whether an inference setup fits: vLLM's verdict (--engine vllm: one request of --max-model-len fits its
    pool, and --batch-size of them at once), llama.cpp's GPU buffers, else the summed per-GPU total."""
    if engine == "vllm":
        pool = vllm_kv_pool(model, inf, build_vllm_setup(args, gpu_bytes))
        return pool["fits_one_request"] and pool["max_concurrency"] >= inf.batch
    if engine == "sglang":
        try:
            return sglang_serves(sglang_kv_pool(model, inf, build_sglang_setup(args, gpu_bytes)), inf)
        except ValueError as err:  # no pool at all ("Not enough memory"); a refusal is still an error
            if "not enough memory" in str(err):
                return False
            raise
    if engine == "llama.cpp":
        return llamacpp_memory(model, inf, build_llamacpp_setup(args, inf, model=model))["gpu_bytes"] <= gpu_bytes
    return inference_memory(model, inf)["per_gpu"]["total"] <= gpu_bytes


def max_inference_batch(model, inf, gpu_bytes, engine, args, limit=1 << 20):
    """--max-batch-size: the most concurrent sequences of --context tokens that fit (weights once, KV cache and
    prefill logits per sequence).  -> (InferSetup, solution)."""
    if engine == "llama.cpp":
        raise ValueError("--max-batch-size: llama.cpp's slots are -np with -c shared among them; vary -np instead")
    b = _largest_fitting(lambda n: _inference_fits(model, replace(inf, batch=n), gpu_bytes, engine, args), 1, limit)
    if b == 0:
        raise ValueError(f"nothing fits: even one sequence of {inf.context:,} tokens exceeds --gpu-memory")
    return replace(inf, batch=b), {"name": f"max --batch-size at {inf.context:,} tokens of context", "value": b}


MIN_TP_CANDIDATES = (1, 2, 4, 8, 16, 32, 64)


def min_inference_tp(model, inf, gpu_bytes, engine, args):
    """--min-tp: the smallest tensor-parallel size among 1, 2, 4 ... 64 that the model's heads allow (the KV heads
    split evenly or replicate evenly, as the per-rank KV cache requires) at which every GPU fits.
    -> (InferSetup, solution)."""
    if inf.pp > 1:
        raise ValueError("--min-tp searches tensor parallelism with one pipeline stage; drop -pp")
    tried = []
    for tp in MIN_TP_CANDIDATES:
        if model.num_attention_heads % tp or (not model.is_mla and model.kv_heads % tp and tp % model.kv_heads):
            continue
        candidate = replace(inf, tp=tp)
        try:
            ok = _inference_fits(model, candidate, gpu_bytes, engine, args)
        except ValueError:  # vLLM: nothing left for the KV cache at this tp
            ok = False
        tried.append(tp)
        if ok:
            return candidate, {"name": "smallest -tp that fits", "value": tp}
    raise ValueError(f"nothing fits: no tensor-parallel size the heads allow ({', '.join(map(str, tried))}) fits "
                     "--gpu-memory; use -pp, smaller weights (--bits-per-weight) or a bigger GPU")


def _divisors(n):
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


MAX_SEARCH_MICRO_BATCH = 1024
SEARCH_CRITERION = ("layouts (tp, pp, dp, cp) ranked by predicted tokens per second, then lowest memory; each shown "
                    "with its fastest ZeRO stage, recompute, micro-batch and interleaving that fit")
MEMORY_CRITERION = ("feasible configurations ranked by: smallest tp x pp (least model-parallel communication), "
                    "then lowest ZeRO stage, then least recompute (none < selective < full), then largest "
                    "micro-batch, then lowest memory")


def search_vpps(model, pp):
    """Interleaving degrees --search tries: 1, and for pp > 1 every divisor of the layers per stage (rounded up),
    so that every model chunk holds whole layers (Megatron-LM's --num-layers-per-virtual-pipeline-stage)."""
    if pp == 1:
        return [1]
    per_stage = -(-model.num_layers // pp)
    return [v for v in _divisors(per_stage) if pp * v <= model.num_layers]


def search_configs(model, base, gpu_bytes, max_tp=8, top=10, hw=None, rank="time", zero_stages=(0, 1, 2, 3),
                   recomputes=RECOMPUTE):
    """Enumerate (tp, pp, vpp, dp, zero, recompute, micro-batch) for base.num_gpus; keep those that fit gpu_bytes.

    For a fixed tp every term is a sum over layer kinds (dense/MoE x full/sliding) and is linear in the micro-batch,
    so each tp gets per-kind coefficients once, each pp a few sums, and the inner loop over (vpp, zero, recompute,
    micro-batch) is arithmetic only: the memory of training_memory and the step time of step_time (step_terms on
    the same per-stage costs). The global batch must be a whole number of micro-batches on each candidate's dp
    ranks (checked per candidate).

    rank "time": each layout (tp, pp, dp, cp) keeps its fastest fitting configuration and the layouts are ranked
    by predicted tokens per second (then memory); rank "memory": every fitting configuration, ranked by
    MEMORY_CRITERION. zero_stages / recomputes: what the search may choose (a framework without ZeRO: (0,)).
    The shown rows are recomputed exactly with training_memory and step_time. Returns (rows, candidates evaluated)."""
    hw = hw or step_hardware(DEFAULT_STEP_GPU, base.precision if base.precision != "fp32" else "bf16")
    results = []
    best = {}
    evaluated = 0
    gbs = base.global_batch
    zeros = tuple(f"zero{z}" for z in zero_stages)
    kinds = sorted({(model.layer_is_moe(i), activation_kind(model, i)) for i in range(model.num_layers)})
    kind_of = [kinds.index((model.layer_is_moe(i), activation_kind(model, i))) for i in range(model.num_layers)]
    frag = 1 + base.fragmentation
    for tp in _divisors(base.num_gpus):
        if tp > max_tp or model.num_attention_heads % tp or (model.ffn_hidden_size and model.ffn_hidden_size % tp):
            continue
        if not model.is_mla and model.kv_heads % tp and tp % model.kv_heads:
            continue
        etp = base.etp or tp
        if model.is_moe and model.moe_width % etp:
            continue
        if base.num_gpus % (tp * base.cp) or (model.is_moe and (base.num_gpus % (base.ep * etp))):
            continue
        s1 = replace(base, tp=tp, pp=1, vpp=1, sp=tp > 1 and base.sp, micro_batch=1, global_batch=0, num_gpus=tp)
        act = {rc: [activation_sum(layer_activation_tensors(model, replace(s1, recompute=rc), moe, att), rc)
                    for moe, att in kinds] for rc in RECOMPUTE}
        layer_in = layer_input_bytes(model, s1)
        emb = embedding_activation_bytes(model, s1)
        logit = logits_bytes(model, s1)
        for pp in _divisors(base.num_gpus // tp):
            if pp > model.num_layers or (base.num_gpus // tp // pp) % base.cp:
                continue
            if model.is_moe and (base.num_gpus // pp) % (base.ep * etp):
                continue
            dp = base.num_gpus // (tp * pp * base.cp)
            if gbs and gbs % dp:
                continue
            # every micro-batch up to MAX_SEARCH_MICRO_BATCH that divides the per-replica batch (gbs / dp), or
            # 1..64 without a global batch (trial division, not _divisors: gbs may be up to 1e30)
            per_replica = gbs // dp
            mbs = [m for m in range(1, min(per_replica, MAX_SEARCH_MICRO_BATCH) + 1) if per_replica % m == 0] \
                if gbs else list(range(1, 65))
            if not mbs:
                continue
            sp_setup = replace(s1, pp=pp, num_gpus=base.num_gpus)
            dense_shard, expert_shard = _shard_sizes(sp_setup)
            stages = []
            costs = []
            for stage in ((0, pp - 1) if pp > 1 else (0,)):
                counts = [0] * len(kinds)
                for i in stage_layers(model.num_layers, pp, stage):
                    counts[kind_of[i]] += 1
                parts = {}
                for c, (moe, att) in zip(counts, kinds):
                    part = ("moe" if moe else "dense") + {"linear": "+linear", "none": "+nomixer"}.get(att, "")
                    parts[part] = parts.get(part, 0) + c
                held = stage_params(model, sp_setup, stage, parts)
                fixed = {}
                for z in zeros:
                    sz = replace(sp_setup, sharding=z)
                    terms, _ = model_state_terms(sz, held, dense_shard, expert_shard)
                    fixed[z] = sum(terms.values()) + _gathered_bytes(sz, held["unit"]) + base.comm_buffer
                n_layers = sum(counts)
                per = {}
                for rc in RECOMPUTE:
                    worst_kind = max(a for a, c in zip(act[rc], counts) if c)
                    per[rc] = (sum(a * c for a, c in zip(act[rc], counts)), layer_in, worst_kind, n_layers)
                stages.append((stage, fixed, per, logit if stage == pp - 1 else 0))
                if rank == "time":
                    costs.append(_stage_costs_with_dp(model, sp_setup, hw, stage,
                                                      {k: c for k, c in zip(kinds, counts) if c}, held))
            overhead = base.overhead
            for v in (search_vpps(model, pp) if rank == "time" else [1]):
                # per stage and recompute: (bytes per in-flight chunk, bytes once, in-flight cap) as
                # stage_activation_bytes counts them (Megatron-LM schedules.py: 1F1B holds pp - stage micro-batches,
                # interleaving 2(pp - stage - 1) + (v - 1)pp + 1 chunks of ceil(layers / v) layers)
                shapes = {}
                for stage, fixed, per, lg in stages:
                    cap = pp - stage if v == 1 else 2 * (pp - stage - 1) + (v - 1) * pp + 1
                    e = emb if stage == 0 else 0
                    for rc in RECOMPUTE:
                        summed, lin, worst_kind, n = per[rc]
                        per_chunk = -(-n // v)
                        if rc == "full":
                            chunk, once = lin * per_chunk + e, worst_kind + lg
                        elif v > 1:
                            chunk, once = worst_kind * per_chunk + e, lg
                        else:
                            chunk, once = summed + e, lg
                        shapes.setdefault(rc, []).append((fixed, chunk, once, cap))
                for z in zeros:
                    zi = int(z[-1])
                    for rci, rc in enumerate(RECOMPUTE):
                        if rc not in recomputes:
                            continue
                        rows = [(fixed[z], chunk, once, cap) for fixed, chunk, once, cap in shapes[rc]]
                        for mb in mbs:
                            m = gbs // (dp * mb) if gbs else pp
                            in_flight = m * v
                            worst = 0
                            for fixed_bytes, chunk, once, cap in rows:
                                total = (fixed_bytes + (chunk * (cap if in_flight > cap else in_flight) + once)
                                         * mb) * frag + overhead
                                if total > worst:
                                    worst = total
                            if worst > gpu_bytes:
                                continue
                            if rank == "time":
                                if v > 1 and m % pp:
                                    continue  # interleaving needs whole groups of pp micro-batches (step_time)
                                seconds = step_terms(costs, pp, v, m, mb, zi, rc)[0]
                                key = (-m * mb * dp / seconds, worst, tp * pp, zi, rci, -mb)
                                layout = (tp, pp, dp)
                                if layout not in best or key < best[layout][0]:
                                    best[layout] = (key, tp, pp, v, dp, zi, rci, mb)
                            else:
                                results.append(((tp * pp, zi, rci, -mb, worst), tp, pp, v, dp, zi, rci, mb))
                        evaluated += len(mbs)
    results = sorted(best.values() if rank == "time" else results)
    rows = []
    for _, tp, pp, v, dp, zero, rc, mb in results:
        if top and len(rows) >= top:
            break
        setup = replace(base, tp=tp, pp=pp, vpp=v, sp=tp > 1 and base.sp, micro_batch=mb, sharding=f"zero{zero}",
                        recompute=RECOMPUTE[rc])
        exact = training_memory(model, setup)
        total = exact["per_gpu"]["total"]
        if total <= gpu_bytes:
            row = {"tp": tp, "pp": pp, "dp": dp, "cp": base.cp, "vpp": v, "zero": zero, "recompute": RECOMPUTE[rc],
                   "micro_batch": mb, "total_bytes": total}
            if rank == "time":
                row["step"] = step_time(model, setup, hw)
            rows.append(row)
    return rows, evaluated


def explain_winner(rows):
    """One line: why the first layout wins (its throughput, what its step is made of) and what costs the
    runner-up its place (the term by which its step is longest compared with the winner's)."""
    if not rows or "step" not in rows[0]:
        return ""
    first = rows[0]
    st = first["step"]
    T = st["step_time_s"]
    parts = sorted(((v, k) for k, v in st["terms_s"].items() if k != "compute" and v > 0), reverse=True)[:2]
    overheads = ", ".join(f"{STEP_TERM_LABELS[k]} {100 * v / T:.0f} %" for v, k in parts) or "nothing else"
    line = (f"tp {first['tp']} x pp {first['pp']} x dp {first['dp']} is fastest: {st['tokens_per_s']:,.0f} tokens/s, "
            f"MFU {100 * st['mfu']:.1f} %; its {T:.3g} s step is {100 * st['terms_s']['compute'] / T:.0f} % compute, "
            f"then {overheads}")
    if len(rows) > 1:
        second = rows[1]
        other = second["step"]
        # compare per token: the runner-up's step may carry another number of tokens (no --global-batch)
        scale = st["tokens_per_step"] / other["tokens_per_step"]
        worse = max(STEP_TERMS, key=lambda k: other["terms_s"][k] * scale - st["terms_s"][k])
        line += (f"; next, tp {second['tp']} x pp {second['pp']} x dp {second['dp']}, is "
                 f"{100 * (1 - other['tokens_per_s'] / st['tokens_per_s']):.0f} % slower, mostly in "
                 f"{STEP_TERM_LABELS[worse]}")
    return line


# --------------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------------
TERM_LABELS = {
    "weights": "weights", "gradients": "gradients", "master_weights": "fp32 master weights",
    "optimizer_states": "optimizer states", "gathered_params": "ZeRO-3/FSDP gathered params",
    "activations": "activations", "logits_loss": "logits / loss buffers",
    "autocast_weight_copies": "autocast 16-bit weight copies", "comm_buckets": "communication buckets",
    "fragmentation": "fragmentation allowance", "framework_overhead": "framework overhead",
    "kv_cache": "KV cache", "linear_state": "delta-net / Mamba conv + recurrent state",
    "conv_state": "short-conv state", "prefill_activations": "prefill activations (peak)", "logits": "logits",
}


def _size(n):
    return f"{gib(n):,.2f} GiB ({gb(n):,.2f} GB)"


def _term_rows(terms):
    total = terms["total"] or 1
    return [(TERM_LABELS.get(k, k), v, 100.0 * v / total) for k, v in terms.items() if k != "total"]


def _generic_note(result):
    """The --generic note, which the output states first: the numbers are a Llama-shaped reading, not a model's."""
    return next((n for n in result.get("notes", []) if n.startswith("--generic")), None)


def render_text(result):
    lines = [f"note: {_generic_note(result)}"] if _generic_note(result) else []
    model = result.get("model")
    if model:
        lines.append(f"model: {model['name']}  ({result['params']['total']:,} parameters"
                     + (f", {result['params']['active']:,} active" if model.get("num_experts") else "") + ")")
        lines.append("  " + ", ".join(f"{k}={model[k]}" for k in (
            "num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim", "ffn_hidden_size",
            "vocab_size") if model.get(k)))
    elif result.get("params"):
        lines.append(f"model: {result['params']['total']:,} parameters (model states only)")
    if result["mode"] == "train":
        s = result["setup"]
        lines.append(f"setup: {s['num_gpus']} GPUs = tp {s['tp']} x pp {s['pp']} x cp {s['cp']} x dp {s['dp']}"
                     f"{' (ep ' + str(s['ep']) + ')' if s['ep'] > 1 else ''}; {s['sharding']}; "
                     + (f"LoRA on a {result['lora']['base_dtype']} base, {result['lora']['adapter_dtype']} adapters"
                        if result.get("lora") else f"{s['precision']}") +
                     f" + {s['optimizer']}" + ("" if result.get("lora") else f" (grads {s['grads']})") + f"; micro-batch {s['micro_batch']} x seq {s['seq_len']}"
                     f"; recompute {s['recompute']}{'; SP' if s['sp'] else ''}")
        if result.get("lora"):
            lo = result["lora"]
            lines.append(f"LoRA: r {lo['rank']}, alpha {lo['alpha']:g}, {', '.join(lo['adapted_modules'])}; "
                         f"{lo['trainable_params']:,} trainable of {lo['total_params']:,} parameters "
                         f"({lo['trainable_percent']:.4f} %); base {lo['base_dtype']} {_size(lo['base_weight_bytes'])}"
                         f"; adapters {lo['adapter_dtype']}{'; DoRA' if lo['dora'] else ''}")
        lines.append(f"per GPU ({result['worst_stage']} pipeline stage):")
    else:
        s = result["setup"]
        lines.append(f"inference: batch {s['batch']} x context {s['context']}; weights "
                     + (f"{s['bits_per_weight']:g} bits" if s['bits_per_weight'] else s['weight_dtype'])
                     + f"; KV {s['kv_dtype']}; tp {s['tp']} pp {s['pp']}")
    terms = result["per_gpu"]
    width = max(len(label) for label, _, _ in _term_rows(terms)) + 2
    for label, value, pct in _term_rows(terms):
        lines.append(f"  {label:<{width}}{gib(value):>12,.3f} GiB {gb(value):>12,.3f} GB {pct:>6.1f} %")
    lines.append(f"  {'total':<{width}}{gib(terms['total']):>12,.3f} GiB {gb(terms['total']):>12,.3f} GB")
    if "gpu_memory_bytes" in result and "engine" not in result:
        verdict = "fits" if result["fits"] else "does NOT fit"
        peak = (result.get("timeline") or {}).get("peak_total", 0)
        by = (f" (the step timeline's peak, {gib(peak):,.3f} GiB with the allowances, is above the sum)"
              if peak > terms["total"] else "")
        lines.append(f"  -> {verdict} in {_size(result['gpu_memory_bytes'])}{by}")
    if result["mode"] == "train":
        if result.get("cpu_per_gpu_bytes"):
            lines.append(f"CPU memory for offloaded states: {_size(result['cpu_per_gpu_bytes'])} per GPU")
        ck = result["checkpoint"]
        lines.append(f"checkpoint on disk: weights {_size(ck['weights_bytes'])}; with master + optimizer "
                     f"{_size(ck['full_bytes'])}")
    elif result.get("kv_cache"):
        kv = result["kv_cache"]
        lines.append(f"KV cache: {kv['bytes_per_token']:,} B per token of one sequence on each GPU ({kv['kv_dtype']},"
                     f" all layers); {_size(kv['total_bytes'])} for the batch")
        if kv.get("note"):  # Qwen3-Next: which layers cache K/V, and the delta-net state
            lines[-1] = lines[-1].replace("all layers", "attention layers")
            lines.append(f"  {kv['note']}")
    if result.get("engine"):
        renderers = {"llama.cpp": render_llamacpp, "vllm": render_vllm, "sglang": render_sglang}
        lines += renderers[result["engine"]["engine"]](result["engine"])
        if result["engine"]["engine"] == "llama.cpp" and "gpu_memory_bytes" in result:
            lines.append(f"  -> {'fits' if result['fits'] else 'does NOT fit'} in {_size(result['gpu_memory_bytes'])}")
    if result.get("speed"):
        lines += render_speed(result["speed"])
    if result.get("solution"):
        sol = result["solution"]
        lines.append(f"solution: {sol['name']} = {sol['value']:,} (total {_size(sol['total_bytes'])})")
    if result.get("search"):
        srch = result["search"]
        lines.append(f"search: {srch['candidates_evaluated']:,} candidates, {len(srch['results'])} shown; "
                     f"{srch['criterion']}")
        if not srch["results"]:
            lines.append("  no configuration fits; the breakdown above is the setup as given")
        if srch.get("rank") == "time":
            lines += render_search_time_rows(srch["results"])
            if srch.get("explanation"):
                lines.append("why: " + srch["explanation"])
        else:
            lines.append("   tp  pp   dp  cp zero recompute  mb       GiB")
            for r in srch["results"]:
                lines.append(f"  {r['tp']:>3} {r['pp']:>3} {r['dp']:>4} {r['cp']:>3} {r['zero']:>4} "
                             f"{r['recompute']:<9} {r['micro_batch']:>3} {gib(r['total_bytes']):>9.2f}")
    if result.get("step"):
        lines += render_step_text(result["step"])
    if result.get("timeline"):
        lines += render_timeline_text(result["timeline"], explain=bool(result.get("activation_tensors")))
    if result.get("activation_tensors"):
        for kind, tensors in result["activation_tensors"].items():
            lines.append(f"activations saved per layer ({kind}), one micro-batch, this rank:")
            for t in tensors:
                lines.append(f"  {t['name']:<44} {str(tuple(t['shape'])):<28} {t['dtype_bytes']} B/el "
                             f"{t['bytes']:>16,} B  split:{t['split']}{'  (dropped by selective)' if t['core'] else ''}")
            lines.append(f"  {'sum':<44} {'':<28} {'':8} {sum(t['bytes'] for t in tensors):>16,} B")
    lines.append("assumptions:")
    lines += [f"  - {a}" for a in result.get("assumptions", [])]
    return "\n".join(lines)


def render_timeline_text(tl, explain=False):
    """The step timeline's peak in one line; with --explain every event and the breakdown at the peak."""
    peak = tl["peak"]
    lines = [f"step timeline peak: {gib(peak['total']):.3f} GiB allocated in {peak['phase']}: {peak['moment']} "
             f"({gib(tl['peak_total']):.3f} GiB with fragmentation and overhead; the table above is the sum)"]
    if not explain:
        return lines
    lines.append("step timeline (live bytes, GiB; the peak marked *):")
    for e in tl["events"]:
        top = sorted(((v, k) for k, v in e["terms"].items() if v), reverse=True)[:3]
        lines.append(f"  {'*' if e is peak else ' '} {e['phase'] + ': ' + e['moment']:<66} {gib(e['total']):>9.3f}"
                     f"   {', '.join(f'{k} {gib(v):.2f}' for v, k in top)}")
    lines.append("breakdown at the peak:")
    lines += [f"  {label:<32} {gib(v):>9.3f} GiB {pct:5.1f} %"
              for label, v, pct in _term_rows(dict(peak["terms"], total=peak["total"])) if v]
    return lines


def render_vllm(pool):
    """The vLLM section of the text output, in the words vLLM's own start-up log uses."""
    lines = ["vLLM KV cache (one TP rank):"]
    if pool["budget_bytes"] is not None:
        lines.append(f"  budget: --gpu-memory-utilization {pool['gpu_memory_utilization']:g} x "
                     f"{_size(pool['gpu_bytes'])} = {_size(pool['budget_bytes'])}")
        labels = {"weights": "model weights (exact)", "non_torch": "non-torch memory",
                  "activation_peak": "activation peak (profiling run)", "cuda_graphs": "CUDA graphs"}
        for key, value in pool["terms"].items():
            lines.append(f"  - {labels[key]:<34}{gib(value):>10,.2f} GiB")
    lines.append(f"  Available KV cache memory: {gib(pool['available_kv_bytes']):,.2f} GiB "
                 f"({gb(pool['available_kv_bytes']):,.2f} GB)")
    groups = pool["groups"]
    if pool.get("dsa"):
        d = pool["dsa"]
        lines.append(f"  page: {pool['block_size']} tokens of one layer = {d['latent_page_bytes']:,} B of latent + "
                     f"{d['indexer_page_bytes']:,} B of indexer keys; # GPU blocks: {pool['num_blocks']:,} (each "
                     + ("holds both pages of every layer of its stage)" if pool.get("stages") else
                        f"holds both pages of every one of the {pool['num_layers']} layers)"))
    elif len(groups) == 1:
        lines.append(f"  page: {pool['block_size']} tokens of one layer = {pool['page_bytes']:,} B; # GPU blocks: "
                     f"{pool['num_blocks']:,} (each holds a page of every "
                     + ("layer of its stage)" if pool.get("stages") else f"one of the {pool['num_layers']} layers)"))
    else:
        kinds = {}
        for g in groups:
            label = f"{g['kind']} {g['span']:,}" if g["span"] else g["kind"]
            kinds[label] = kinds.get(label, 0) + 1
        blocks = {}
        for g in groups:
            label = f"{g['kind']} {g['span']:,}" if g["span"] else g["kind"]
            blocks[label] = g["block_size"]
        sizes = f" ({', '.join(f'{label}: {bs}-token blocks' for label, bs in blocks.items())})" \
            if len(set(blocks.values())) > 1 else ""
        lines.append(f"  hybrid KV-cache manager: {len(groups)} groups of {pool['group_size']} layers ("
                     + ", ".join(f"{label}: {n} group{'s' if n > 1 else ''}" for label, n in kinds.items())
                     + f"); page {pool['page_bytes']:,} B{sizes}; # GPU blocks: {pool['num_blocks']:,}, shared by "
                     "the groups")
    if pool.get("kv_shared_layers"):
        lines.append(f"  {pool['kv_shared_layers']} KV-shared layers own no pages (they read an earlier layer's)")
    for k, st in enumerate(pool.get("stages", ())):
        lines.append(f"  stage {k} (layers {st['layers'][0]}-{st['layers'][1]}, groups of {st['layers_per_group']} "
                     "layers here): # GPU blocks "
                     + (f"{st['num_blocks']:,}" if st["num_blocks"] is not None else "- (no KV pages)")
                     + (" <- the fewest, kept by every stage" if st["num_blocks"] == pool["num_blocks"] else ""))
    if pool.get("state"):
        st = pool["state"]
        lines.append(f"  {st['mixer']} state: {st['page_bytes_unpadded']:,} B a layer ({st['ssm_dtype']} temporal "
                     f"state), padded to the page of {pool['block_size']:,} attention tokens; {st['pages_per_request']}"
                     f" page{'s' if st['pages_per_request'] > 1 else ''} a request per state group "
                     f"(--mamba-cache-mode {st['mamba_cache_mode']})")
    lines.append(f"  GPU KV cache size: {pool['kv_tokens']:,} tokens")
    lines.append(f"  Maximum concurrency for {pool['max_model_len']:,} tokens per request: "
                 f"{pool['max_concurrency']:.2f}x ({pool['blocks_per_request']:,} blocks a request)")
    if not pool["fits_one_request"]:
        lines.append(f"  -> does NOT start: one request of --max-model-len {pool['max_model_len']:,} tokens needs "
                     f"{gib(pool['needed_bytes_one_request']):,.2f} GiB of KV cache, more than the "
                     f"{gib(pool['available_kv_bytes']):,.2f} GiB available")
    return lines


def _short_terms(step, n=3):
    """The n largest exposed non-compute terms of a step, as 'label seconds'."""
    parts = sorted(((v, k) for k, v in step["terms_s"].items() if k != "compute" and v > 0), reverse=True)[:n]
    return ", ".join(f"{k} {v:.3g}s" for v, k in parts)


def render_search_time_rows(rows):
    """The ranked layouts: the parallel sizes, the configuration chosen for each, memory, and the step."""
    out = ["   tp  pp   dp  cp vpp zero recompute  mb    GiB   step s  tokens/s/GPU   MFU  bubble  largest exposed"]
    for r in rows:
        st = r["step"]
        out.append(f"  {r['tp']:>3} {r['pp']:>3} {r['dp']:>4} {r['cp']:>3} {r['vpp']:>3} {r['zero']:>4} "
                   f"{r['recompute']:<9} {r['micro_batch']:>3} {gib(r['total_bytes']):>6.1f} {st['step_time_s']:>8.3g} "
                   f"{st['tokens_per_s_per_gpu']:>13,.0f} {100 * st['mfu']:>5.1f}% "
                   f"{100 * st['bubble_fraction']:>5.1f}%  "
                   f"{_short_terms(st)}")
    return out


def render_step_text(step):
    """The step-time breakdown of one layout: each term's seconds, share, and for communication its bytes per GPU
    per step and the link it crosses."""
    T = step["step_time_s"]
    lines = [f"step time: {T:,.4g} s for {step['tokens_per_step']:,} tokens ({step['micro_batches']} micro-batches "
             f"per pipeline, bubble (pp-1)/(m vpp) = {100 * step['bubble_fraction']:.1f} %): "
             f"{step['tokens_per_s']:,.0f} tokens/s, {step['tokens_per_s_per_gpu']:,.1f} per GPU; "
             f"{step['model_tflops_per_gpu']:,.1f} model TFLOP/s per GPU, MFU {100 * step['mfu']:.1f} % "
             f"(causal-attention FLOPs: {100 * step['mfu_causal']:.1f} %)"]
    for key in STEP_TERMS:
        v = step["terms_s"][key]
        extra = ""
        comm = step["comm"].get("dp" if key == "zero3_gather" else key)
        shown = comm and comm["bytes"] and (key not in ("dp", "zero3_gather")
                                            or (key == "zero3_gather") == (step["zero_stage"] == 3))
        if shown:
            extra = f"  ({gb(comm['bytes']):,.3g} GB per GPU over {comm['link']})"
        lines.append(f"  {STEP_TERM_LABELS[key]:<46}{v:>10,.4g} s {100 * v / T:>6.1f} %{extra}")
    return lines


def render_markdown(result):
    terms = result["per_gpu"]
    s = result["setup"]
    name = (result.get("model") or {}).get("name") or f"{result['params']['total']:,} parameters"
    if result["mode"] == "train":
        caption = (f"**{name}**, training: {s['num_gpus']} GPUs (tp {s['tp']}, pp {s['pp']}, cp {s['cp']}, dp "
                   f"{s['dp']}), {s['sharding']}, {s['precision']} + {s['optimizer']}, micro-batch {s['micro_batch']}"
                   f" x {s['seq_len']} tokens, recompute {s['recompute']}; per GPU")
    else:
        caption = (f"**{name}**, inference: batch {s['batch']} x {s['context']} tokens, KV {s['kv_dtype']}, "
                   f"tp {s['tp']}, pp {s['pp']}; per GPU")
    out = ([f"note: {_generic_note(result)}", ""] if _generic_note(result) else []) + [
        caption, "", "| term | GiB | GB | % |", "|---|---:|---:|---:|"]
    for label, value, pct in _term_rows(terms):
        out.append(f"| {label} | {gib(value):,.3f} | {gb(value):,.3f} | {pct:.1f} |")
    out.append(f"| **total** | **{gib(terms['total']):,.3f}** | **{gb(terms['total']):,.3f}** | 100.0 |")
    if result.get("search") and result["search"].get("rank") == "time":
        out += ["", "| tp | pp | dp | cp | vpp | zero | recompute | micro-batch | GiB | step s | tokens/s/GPU | MFU | "
                "bubble | largest exposed |", "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
        for r in result["search"]["results"]:
            st = r["step"]
            out.append(f"| {r['tp']} | {r['pp']} | {r['dp']} | {r['cp']} | {r['vpp']} | {r['zero']} | "
                       f"{r['recompute']} | {r['micro_batch']} | {gib(r['total_bytes']):.1f} | "
                       f"{st['step_time_s']:.3g} | "
                       f"{st['tokens_per_s_per_gpu']:,.0f} | {100 * st['mfu']:.1f} % | "
                       f"{100 * st['bubble_fraction']:.1f} % | {_short_terms(st)} |")
        if result["search"].get("explanation"):
            out += ["", "Why: " + result["search"]["explanation"]]
    elif result.get("search"):
        out += ["", "| tp | pp | dp | cp | zero | recompute | micro-batch | GiB |", "|---:|---:|---:|---:|---:|---|---:|---:|"]
        for r in result["search"]["results"]:
            out.append(f"| {r['tp']} | {r['pp']} | {r['dp']} | {r['cp']} | {r['zero']} | {r['recompute']} | "
                       f"{r['micro_batch']} | {gib(r['total_bytes']):.2f} |")
    return "\n".join(out)


def plot_timeline(result, path):
    """Training: the step timeline as stacked bars, one per event (terms as in the table), the sum dashed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    tl = result["timeline"]
    events = tl["events"]
    keys = [k for k in dict.fromkeys(k for e in events for k in e["terms"]) if any(e["terms"].get(k) for e in events)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bottom = [0.0] * len(events)
    for k in keys:
        values = [gib(e["terms"].get(k, 0)) for e in events]
        ax.bar(range(len(events)), values, bottom=bottom, label=TERM_LABELS.get(k, k))
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.axhline(gib(result["per_gpu"]["total"]), color="k", linestyle="--", label="the sum (table, with overhead and fragmentation)")
    if "gpu_memory_bytes" in result:
        ax.axhline(gib(result["gpu_memory_bytes"]), color="r", linestyle=":", label="GPU memory")
    ax.set_xticks(range(len(events)))
    ax.set_xticklabels([f"{e['phase']}\n{e['moment'][:28]}" + (" (peak)" if e is tl["peak"] else "")
                        for e in events], rotation=60, ha="right", fontsize=6)
    ax.set_ylabel("GiB allocated per GPU")
    ax.set_title(f"{(result.get('model') or {}).get('name', 'model')}: one training step "
                 f"(peak {gib(tl['peak']['total']):.1f} GiB in {tl['peak']['phase']})")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.savefig(path, bbox_inches="tight", dpi=120)
    plt.close(fig)


def plot_breakdown(result, path):
    """Stacked bar of the per-GPU terms (matplotlib imported here only); training with a timeline: plot_timeline."""
    if result.get("timeline"):
        return plot_timeline(result, path)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    terms = [(label, v) for label, v, _ in _term_rows(result["per_gpu"]) if v > 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    bottom = 0.0
    for label, v in terms:
        ax.bar([0], [gib(v)], bottom=[bottom], label=f"{label} ({gib(v):.1f} GiB)")
        bottom += gib(v)
    if "gpu_memory_bytes" in result:
        ax.axhline(gib(result["gpu_memory_bytes"]), color="k", linestyle="--", label="GPU memory")
    ax.set_xticks([])
    ax.set_ylabel("GiB per GPU")
    ax.set_title(f"{(result.get('model') or {}).get('name', 'model')}: {result['mode']} memory per GPU")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.savefig(path, bbox_inches="tight", dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------
class _SpellingKept(argparse.Action):
    """Stores the value and, in DEST_flag, the spelling typed (--context or vLLM's --max-model-len): errors name it."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_flag", option_string)


def build_parser():
    p = OneLineParser(prog=PROG, description="Training and inference GPU memory of a transformer, per GPU.",
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    # the model flags every script shares (the block's add_model_arguments: --preset/-p, --config, the architecture
    # flags); --params is this script's alternative to a model: model states only
    source, _ = add_model_arguments(p)
    source.add_argument("--params", metavar="N", help="instead of a model: model states only, for N parameters "
                                                      "(e.g. 7.5B; the ZeRO paper's and DeepSpeed's count)")
    source.add_argument("--largest-layer-params", metavar="N",
                        help="with --params: parameters of the largest gathered unit (ZeRO-3)")
    t = p.add_argument_group("training setup")
    t.add_argument("--infer", action="store_true", help="inference memory instead of training")
    t.add_argument("-s", "--sequence-length", help="training sequence length (default: a preset's pre-training "
                                                   "length, as --list-presets shows; else 2048); also the rows of a "
                                                   "learned position table the model leaves unsized; with --infer "
                                                   "the prompt (the cookbook's: KV cache for -s + -o tokens)")
    t.add_argument("-b", "--batch-size-per-gpu", dest="batch_size_per_gpu",
                   help="micro-batch (default 1); with --infer the sequences served (= --batch-size)")
    t.add_argument("--micro-batch", help="micro-batch (the same as -b in training)")
    t.add_argument("--global-batch", help="global batch in sequences (sets micro-batches per step)")
    t.add_argument("--num-gpus", help="GPUs in the job (default tp x pp x cp); with --infer: replicas x tp x pp")
    t.add_argument("--gpus-per-node", help="for --search's tp limit and fsdp-hybrid (default 8)")
    t.add_argument("-tp", "--tensor-parallel-size", "--tp-size", dest="tp", help="tensor-parallel size (SGLang's "
                   "--tp-size)")
    t.add_argument("-pp", "--pipeline-parallel-size", dest="pp", help="pipeline-parallel size")
    t.add_argument("--vpp", help="virtual pipeline chunks per stage (interleaved 1F1B)")
    t.add_argument("--cp", help="context-parallel size")
    t.add_argument("-ep", "--expert-parallelism", dest="ep", help="expert-parallel size")
    t.add_argument("--etp", help="expert tensor-parallel size (default tp)")
    t.add_argument("--sp", action="store_true", help="sequence parallelism with tp (no-op at tp 1)")
    t.add_argument("-z", "--zero-stage", help="ZeRO stage 0-3 (shorthand for --sharding zeroN)")
    t.add_argument("-zbs", "--zero-allgather-bucket-size", dest="zero_allgather_bucket_size", metavar="N",
                   help="ZeRO 1-3: DeepSpeed's allgather_bucket_size in elements, as the communication buffer "
                        "(N x 2 B; instead of --comm-buffer)")
    t.add_argument("-zmlp", "--zero3-max-live-params", dest="zero3_max_live_params", metavar="N",
                   help="ZeRO-3: DeepSpeed's stage3_max_live_parameters, a cap on gathered parameters")
    t.add_argument("--sharding", help=f"one of {', '.join(SHARDINGS)} (default zero0)")
    t.add_argument("--fsdp-shard-size", help="fsdp-hybrid shard-group size (default --gpus-per-node)")
    t.add_argument("--prefetch-units", help="ZeRO-3/FSDP units gathered ahead (default 1)")
    t.add_argument("--precision", help=f"one of {', '.join(PRECISIONS)} (default bf16: Megatron/DeepSpeed bf16 weights "
                   "+ fp32 master; amp-bf16: HF Trainer --bf16, autocast over fp32 weights; bf16-pure: bf16 weights, "
                   "no master); the output states what the mode stores")
    t.add_argument("--grads", help="low | fp32 | low+fp32 (default low)")
    t.add_argument("-opt", "--optimizer", help=f"one of {', '.join(OPTIMIZERS)} (default adamw; sgd_momentum is "
                                                "sgd-momentum)")
    t.add_argument("--offload-optimizer", action="store_true", help="master, optimizer states, fp32 grads on CPU")
    t.add_argument("--offload-params", action="store_true", help="ZeRO-3 16-bit parameter shards on CPU")
    t.add_argument("--recompute", choices=RECOMPUTE, help="activation recomputation: none, selective (the attention "
                   "core) or full (default none)")
    t.add_argument("-ca", "--checkpoint-activations", action="store_true", help="same as --recompute full")
    t.add_argument("-pa", "--partition-activations", action="store_true",
                   help="with -ca: DeepSpeed's partition_activations, each layer's checkpoint split over tp ranks")
    t.add_argument("--attn-implementation", help="attention kernel, as transformers' attn_implementation: flash "
                   "| sdpa (no s^2 scores kept) or eager (fp32 scores and softmax kept) (default flash)")
    t.add_argument("--profile", help="megatron | hf: which implementation's saved tensors (default megatron)")
    t.add_argument("--comm-buffer", help="communication buckets (default 50MiB)")
    t.add_argument("--overhead", help="framework overhead (default 1GiB; 0 for no allowance)")
    t.add_argument("--misc-mem-gib", metavar="N", help="the cookbook's spelling of --overhead NGiB")
    c = p.add_argument_group("the cookbook's precision flags (bytes per value; instead of --precision, --grads, "
                             "--weight-dtype, --kv-dtype)")
    c.add_argument("--disable-mixed-precision", action="store_true",
                   help="fp32 training (--precision fp32); with --infer fp32 weights")
    c.add_argument("--high-prec-bytes-per-val", metavar="N",
                   help="4: fp32 master weights and optimizer states (the only width modelled); with "
                        "--disable-mixed-precision the weights (inference: 1, 2 or 4)")
    c.add_argument("--low-prec-bytes-per-val", metavar="N",
                   help="training: 2 (bf16, default) or 4 (fp32); inference: weights and KV cache, 1 (fp8), 2 or 4")
    c.add_argument("--bytes-per-grad-ele", metavar="N", help="2 (--grads low) or 4 (--grads fp32)")
    t.add_argument("--fragmentation", help="allowance as a fraction of allocated bytes (default 0.05)")
    i = p.add_argument_group("inference")
    i.add_argument("--batch-size", help="sequences served at once (default 1)")
    i.add_argument("--context", "--max-model-len", "--context-length", dest="context", action=_SpellingKept,
                   help="tokens per sequence held in the KV cache (default 4096); vLLM's --max-model-len, SGLang's "
                        "--context-length")
    i.add_argument("-o", "--output-tokens", metavar="N",
                   help="tokens generated after an -s prompt: KV cache for -s + -o tokens (default 1 with -s)")
    i.add_argument("--weight-dtype", help=f"one of {', '.join(WEIGHT_BITS)} (default bf16)")
    i.add_argument("--bits-per-weight", help="quantised weights, e.g. 4.5 (overrides --weight-dtype)")
    i.add_argument("--kv-dtype", "--kv-cache-dtype", dest="kv_dtype",
                   help=f"KV-cache element type: one of {', '.join(KV_CACHE_DTYPES)} (also f16, float16, bfloat16, "
                        "f32, fp8_e4m3, fp8_e5m2; auto: the 16-bit weights' type, as vLLM's --kv-cache-dtype auto; "
                        "default bf16)")
    i.add_argument("--kv-cache", help="window | hf-dynamic: tokens a sliding layer holds (default window)")
    i.add_argument("--prefill-chunk", help="tokens per prefill step (default whole prompt)")
    e = p.add_argument_group("serving engine (--infer --engine vllm: the KV pool as vLLM sizes it)")
    e.add_argument("--engine", help=f"one of {', '.join(ENGINES)}: sum = weights + KV cache of --batch-size "
                                    "sequences + allowances (default); hf = the same sum with transformers' "
                                    "DynamicCache (--kv-cache hf-dynamic: a sliding layer keeps window - 1 tokens); "
                                    "vllm = the pages vLLM allocates; llama.cpp = the buffers llama.cpp logs (its "
                                    "flags below)")
    e.add_argument("--gpu-memory-utilization", metavar="F",
                   help=f"vLLM's share of --gpu-memory (default {VLLM_GPU_MEMORY_UTILIZATION})")
    e.add_argument("--block-size", metavar="N", help=f"vLLM's tokens per KV page (default {VLLM_BLOCK_SIZE})")
    e.add_argument("--max-num-batched-tokens", metavar="N",
                   help="tokens of vLLM's profiling forward (default as vllm serve: 8192 from 70 GiB, else 2048)")
    e.add_argument("--max-num-seqs", metavar="N",
                   help="requests of vLLM's sampler profiling (default as vllm serve: 1024 from 70 GiB, else 256)")
    e.add_argument("--non-torch-memory", metavar="SIZE",
                   help="CUDA context and library workspaces outside PyTorch (default 1GiB, assumed)")
    e.add_argument("--activation-peak", metavar="SIZE",
                   help="the profiling run's activation peak, as vLLM logs it (default: estimated)")
    e.add_argument("--cuda-graph-memory", metavar="SIZE",
                   help="vLLM >= 0.21's CUDA-graph estimate, taken from the budget (default 0: --enforce-eager)")
    e.add_argument("--mamba-cache-mode", metavar="MODE",
                   help="state pages a request of a linear-attention / SSM model holds: none (prefix caching off: "
                        "1) or align (--enable-prefix-caching: 2), each plus --num-speculative-tokens")
    e.add_argument("--mamba-ssm-cache-dtype", metavar="DTYPE",
                   help="auto | float32 | bfloat16 | float16: the temporal state's dtype (auto: as vLLM resolves it)")
    e.add_argument("--num-speculative-tokens", metavar="N",
                   help="MTP speculative tokens: wider conv states, more state pages, the drafter's attention layers")
    e.add_argument("--draft-attention-layers", metavar="N",
                   help="the MTP drafter's attention layers (default: config.json mtp_num_hidden_layers)")
    e.add_argument("--kv-cache-memory-bytes", metavar="SIZE",
                   help="vLLM's own flag: the KV pool itself (e.g. from its log's \"Available KV cache memory\"); "
                        "no budget is computed")
    sg = p.add_argument_group(f"SGLang (--infer --engine sglang: the KV pool as SGLang {SGLANG_VERSION} sizes it; "
                              "SGLang's flag names; -tp is its --tp-size, --kv-cache-dtype and --context-length as "
                              "above)")
    sg.add_argument("--mem-fraction-static", metavar="F", help="share of the memory before the weights load that "
                    "weights + KV pool may take (default: SGLang's, by --gpu-memory and -tp)")
    sg.add_argument("--max-total-tokens", metavar="N", help="cap on the pool's tokens")
    sg.add_argument("--page-size", metavar="N", help="tokens per page; the pool is whole pages (default 1)")
    sg.add_argument("--chunked-prefill-size", metavar="N", help="only sets the default --mem-fraction-static "
                    "(default by GPU memory: 2048 to 16384)")
    sg.add_argument("--cuda-graph-max-bs", metavar="N", help="only sets the default --mem-fraction-static (default "
                    "by GPU memory and -tp: 8 to 512)")
    sg.add_argument("--max-running-requests", metavar="N", help="requests at once (default: min(tokens // 2, "
                    "the request pool))")
    sg.add_argument("--avail-mem-before-load", metavar="SIZE", help="free memory when the weights start loading: "
                    "SGLang's \"Load weight begin. avail mem=X GB\" (its GB are GiB: give XGiB; default --gpu-memory "
                    "less 1 GiB)")
    sg.add_argument("--avail-mem-after-load", metavar="SIZE", help="free memory after the weights: SGLang's \"Load "
                    "weight end. ... avail mem=X GB\" (XGiB; default: the memory before less the weights, exact)")
    sg.add_argument("--swa-full-tokens-ratio", metavar="R", help="hybrid-SWA models (gpt-oss, Llama 4, "
                    "MiMo-V2-Flash): the sliding layers' tokens / the full layers' tokens, in (0, 1] (default 0.8)")
    sg.add_argument("--disable-hybrid-swa-memory", action="store_true", default=None, help="one pool of every layer "
                    "at full length for the hybrid-SWA models too (SGLang does this itself for gpt-oss on trtllm_mha "
                    "and with speculative decoding)")
    add_serving_arguments(p)
    add_precision_mode_arguments(p)
    add_lora_arguments(p)
    add_timeline_arguments(p)
    st = p.add_argument_group("step time and layout ranking (--predict-step, --search; docs: 'Step time')")
    st.add_argument("--predict-step", action="store_true", help="predict the step time, tokens/s and MFU of the layout "
                    "given (-tp, -pp, --vpp, --cp, -ep, -z, --recompute, -b, --global-batch)")
    st.add_argument("--peak-tflops", metavar="X", help="dense peak TFLOP/s per GPU at the training dtype (default: "
                                                       "the --gpu table's)")
    st.add_argument("--intra-node-bw", metavar="GB/s", help="NVLink/NVSwitch bandwidth per GPU and direction in "
                                                            "GB/s (default: the --gpu table's)")
    st.add_argument("--inter-node-bw", metavar="GB/s", help="network (InfiniBand/RoCE) bandwidth per GPU and "
                                                            "direction in GB/s (default: the --gpu table's)")
    st.add_argument("--hbm-bw", metavar="GB/s", help="GPU memory bandwidth in GB/s (default: the --gpu table's)")
    st.add_argument("--compute-efficiency", metavar="F", help=f"fraction of the peak the matmuls reach (default "
                                                              f"{COMPUTE_EFFICIENCY})")
    st.add_argument("--comm-efficiency", metavar="F", help=f"fraction of the link rate collectives reach (default "
                                                           f"{COMM_EFFICIENCY})")
    st.add_argument("--rank", choices=("time", "memory"), help="--search order: time = layouts by predicted "
                    "tokens/s (default); memory = the old criterion (least tp x pp, ZeRO, recompute)")
    st.add_argument("--zero-stages", metavar="LIST", help="--search: ZeRO stages to try, e.g. 0 or 0,1 (default "
                                                          "0,1,2,3; a framework without ZeRO: 0)")
    st.add_argument("--recompute-options", metavar="LIST", help="--search: recompute modes to try, e.g. full "
                                                                "(default none,selective,full)")
    o = p.add_argument_group("solvers and output")
    o.add_argument("--gpu-memory", help="GPU memory, e.g. 80GiB or 80GB (they differ)")
    o.add_argument("--gpu", metavar="NAME", help="an accelerator of the shared catalogue (h100-sxm, mi300x, ...): "
                                                 "its memory unless --gpu-memory gives it, and its peaks and links "
                                                 f"for --predict-step / --search (default {DEFAULT_STEP_GPU})")
    o.add_argument("--max-micro-batch", action="store_true", help="largest micro-batch that fits --gpu-memory")
    o.add_argument("--max-context", action="store_true", help="longest sequence / context that fits --gpu-memory")
    o.add_argument("--max-batch-size", action="store_true", help="--infer: most concurrent sequences (--batch-size) "
                                                               "of --context tokens that fit --gpu-memory")
    o.add_argument("--min-tp", action="store_true", help="--infer: smallest tensor-parallel size (1, 2, 4, ... 64) at "
                                                       "which every GPU fits --gpu-memory")
    o.add_argument("--search", action="store_true", help="search (tp, pp, dp, zero, recompute, mb) for --num-gpus")
    o.add_argument("--top", help="rows --search prints (default 10; 0 = all)")
    o.add_argument("--explain", action="store_true", help="list every activation tensor saved per layer")
    o.add_argument("--plot", help="write a memory-breakdown bar chart to this file (matplotlib)")
    o.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    o.add_argument("--json", action="store_true", help="same as --format json")
    return p


def add_lora_arguments(p):
    """Issue 12's LoRA / QLoRA / DoRA flags, in their own group; --lora-rank turns the LoRA model on."""
    g = p.add_argument_group("LoRA / QLoRA / DoRA (peft semantics; --lora-rank turns it on)")
    g.add_argument("--lora-rank", metavar="R", help="adapter rank r: r (in + out) trainable parameters per adapted "
                   "linear")
    g.add_argument("--lora-alpha", metavar="A", help="LoRA alpha (scaling alpha / r; no memory effect, printed; "
                   "default 16)")
    g.add_argument("--lora-targets", help="q,v (default) | all-linear (every nn.Linear but the LM head, as peft) | "
                   "module names from the model's tensor list (q_proj, k_proj, v_proj, o_proj, qkv_proj, gate_proj, "
                   "up_proj, down_proj, gate_up_proj, ...)")
    g.add_argument("--lora-dropout", metavar="P", help="dropout before lora_A (default 0: no copies; > 0 keeps a mask "
                   "and the dropped input per adapted linear)")
    g.add_argument("--base-dtype", help=f"frozen base: one of {', '.join(LORA_BASE_DTYPES)} (default bf16; int8 = "
                   "LLM.int8, nf4 = QLoRA's 4-bit NormalFloat, nf4-dq with double quantization)")
    g.add_argument("--adapter-dtype", help="adapters, their grads and optimizer states: fp32 (default, peft's "
                   "autocast_adapter_dtype) or bf16")
    g.add_argument("--dora", action="store_true", help="DoRA: adds a magnitude vector (out features) per adapted "
                   "linear")
    g.add_argument("--bnb-version", metavar="X.Y.Z", help="bitsandbytes release of a 4-bit base (default: 0.43.3 or "
                   "later, whose MatMul4Bit keeps no input; before 0.43.3 every frozen 4-bit linear kept its input)")


LORA_FLAGS = {"lora_alpha": "--lora-alpha", "lora_targets": "--lora-targets", "lora_dropout": "--lora-dropout",
              "base_dtype": "--base-dtype", "adapter_dtype": "--adapter-dtype", "dora": "--dora",
              "bnb_version": "--bnb-version"}


def build_lora_setup(args):
    """-> LoraSetup, or None without --lora-rank (a LoRA flag without it is refused)."""
    if args.lora_rank is None:
        stray = [flag for dest, flag in LORA_FLAGS.items() if getattr(args, dest) not in (None, False)]
        if stray:
            raise ValueError(f"{stray[0]} needs --lora-rank")
        return None
    if args.infer:
        raise ValueError("--lora-rank is for training; drop --infer")
    autocast = ""
    if args.precision is not None and str(args.precision).strip().lower() in AMP_PRECISIONS:
        # an fp32 base under torch.autocast (Hugging Face Trainer's --bf16 / --fp16 on an fp32-loaded model)
        autocast = str(args.precision).strip().lower()
        if (args.base_dtype or "").strip().lower() != "fp32":
            raise ValueError(f"--precision {autocast} with --lora-rank: autocast runs over an fp32 model; give "
                             "--base-dtype fp32")
    for dest, flag in (("precision", "--precision"), ("grads", "--grads"), ("search", "--search"),
                       ("optimizer_state_dtype", "--optimizer-state-dtype"), ("disable_mixed_precision",
                                                                               "--disable-mixed-precision")):
        if getattr(args, dest) not in (None, False) and not (dest == "precision" and autocast):
            raise ValueError(f"{flag} with --lora-rank: a LoRA run's precision is --base-dtype (frozen base) and "
                             "--adapter-dtype; --search is not modelled for LoRA" if dest != "search" else
                             "--search with --lora-rank: the layout search is not modelled for LoRA")
    if args.bnb_version is not None and (args.base_dtype or "bf16").strip().lower() not in ("int8", "nf4", "nf4-dq"):
        raise ValueError("--bnb-version applies to a bitsandbytes base (--base-dtype int8, nf4 or nf4-dq)")
    return LoraSetup(
        rank=parse_count(args.lora_rank, "--lora-rank"),
        alpha=16.0 if args.lora_alpha is None else parse_fraction(args.lora_alpha, "--lora-alpha", 0.0, 1e9),
        targets=args.lora_targets or "q,v",
        dropout=0.0 if args.lora_dropout is None else parse_fraction(args.lora_dropout, "--lora-dropout", 0.0, 1.0),
        base_dtype=(args.base_dtype or "bf16").strip().lower(),
        adapter_dtype=(args.adapter_dtype or "fp32").strip().lower(), dora=args.dora, autocast=autocast,
        bnb_version=BNB_CURRENT if args.bnb_version is None else parse_bnb_version(args.bnb_version))


def add_timeline_arguments(p):
    """Issue 12's step-timeline flags, in their own group (the timeline itself is always drawn where it applies)."""
    g = p.add_argument_group("step timeline (training: live bytes through one step; --explain prints it)")
    g.add_argument("--optimizer-impl", help="foreach (default: torch's choice on CUDA; one state-width sqrt copy of "
                   "every parameter inside AdamW's step) | fused (none) | for-loop (two of the largest tensor)")
    g.add_argument("--zero-grad", help="none (default: zero_grad(set_to_none=True), gradients freed after the step) "
                   "| zero (gradients zeroed and kept through the next forward)")
    g.add_argument("--trainer", help="hf (default: Hugging Face Trainer's loop) | litgpt (LitGPT 0.4's "
                   "finetune/lora.py with Lightning Fabric, bf16-true: its fused-qkv LoRA tensors, chunked LM head and "
                   "loss with fp32 chunk copies, the previous micro-batch's logits and graph kept; quantize bnb.nf4: "
                   "the LM head quantized too, PagedAdamW; implies --profile hf and --attn-implementation sdpa)")


def apply_trainer_defaults(args):
    """--trainer litgpt fixes what LitGPT itself fixes: Hugging Face-style saved tensors (--profile hf) and
    scaled_dot_product_attention (--attn-implementation sdpa), unless the user gave them (then litgpt_refusal says
    why another value is not modelled)."""
    if (args.trainer or "").strip().lower() == "litgpt" and not args.infer:  # --infer refuses --trainer itself
        args.profile = "hf" if args.profile is None else args.profile
        args.attn_implementation = "sdpa" if args.attn_implementation is None else args.attn_implementation


def trainer_option(args):
    """--trainer checked: hf (default) or litgpt; one line naming the flag for anything else."""
    trainer = (args.trainer or "hf").strip().lower()
    if trainer not in TRAINERS:
        raise ValueError(f"--trainer must be one of {', '.join(TRAINERS)}, got {args.trainer!r:.40}")
    return trainer


def timeline_options(args):
    """(--optimizer-impl, --zero-grad) checked: one line naming the flag for anything else."""
    impl = (args.optimizer_impl or "foreach").strip().lower()
    if impl not in OPTIMIZER_IMPLS:
        raise ValueError(f"--optimizer-impl must be one of {', '.join(OPTIMIZER_IMPLS)}, got {args.optimizer_impl!r}")
    zero = (args.zero_grad or "none").strip().lower()
    if zero not in ZERO_GRAD_MODES:
        raise ValueError(f"--zero-grad must be none (set_to_none=True) or zero, got {args.zero_grad!r}")
    return impl, zero


def add_precision_mode_arguments(p):
    """Issue 12's precision flags, in their own group (the modes themselves are --precision's values)."""
    g = p.add_argument_group("precision modes (see PRECISION_MODES: what each --precision stores)")
    g.add_argument("--optimizer-state-dtype", help="with --precision bf16-pure: bf16 (default; torch's optimizers "
                   "keep states in the parameters' dtype) or fp32 (e.g. AnyPrecisionAdamW with fp32 states)")


def resolve_model(args):
    """The model the command line names -> (the block's Model, or None in --params mode; notes for the reader).

    The block's model_from_arguments reads it: a preset (preset_model) or a config.json (model_from_config), else
    flags alone (which need -l, -hs, -a and -v); each architecture flag then replaces the field it names and
    validate_model checks the result under the flags' names. check_memory_model adds what the memory math needs.
    A preset's pre-training length is only the default -s (default_sequence_length); a training run's -s, when
    typed, sizes a learned position table that has no rows yet (the block's cookbook reading)."""
    if not model_arguments_given(args) and not args.generic:  # --generic alone: the block says it needs --config
        return None, []
    if args.preset is not None and args.preset.strip().lower() not in MODEL_PRESETS:
        try:  # -p was this script's --params before -p meant --preset in every script: say so for a count
            parse_count(args.preset, "--preset")
        except InputError:
            pass
        else:
            raise InputError(f"--preset {args.preset!r} is not a preset: -p is --preset; for model states only give "
                             f"--params {args.preset.strip()}")
    sequence_length = None
    if not args.infer and args.sequence_length is not None:  # -s is a training flag (refused with --infer)
        sequence_length = parse_count(args.sequence_length, "--sequence-length")
    model, notes = model_from_arguments(args, sequence_length=sequence_length)  # -a: the cookbook mem's 64
    return check_memory_model(model), notes


def optimizer_name(text):
    """--optimizer/-opt as typed -> this script's name: the cookbook's sgd_momentum is sgd-momentum (its adamw and
    muon are ours)."""
    return "adamw" if text is None else text.strip().lower().replace("_", "-")


def _opt(raw, flag, default, parse=parse_count, **kw):
    return default if raw is None else parse(raw, flag, **kw)


def _attention_and_allowances(args):
    """The flags training and inference share: attention kernel, framework overhead, fragmentation allowance."""
    attn_implementation = (args.attn_implementation or "flash").strip().lower()
    if attn_implementation not in ("flash", "sdpa", "eager"):
        raise ValueError(f"--attn-implementation must be flash, sdpa or eager, got {args.attn_implementation!r}")
    overhead = _opt(args.overhead, "--overhead", 2**30, parse_bytes)
    if args.misc_mem_gib is not None:
        if args.overhead is not None:
            raise ValueError("--misc-mem-gib and --overhead both set the framework overhead: give one")
        gib_count = parse_number(args.misc_mem_gib, "--misc-mem-gib")
        from fractions import Fraction  # exact: 1.5 GiB is 1610612736 B, not a float product
        overhead = math.floor(Fraction(str(gib_count)) * 2**30)
    return dict(attn_implementation=attn_implementation,
                overhead=overhead,
                fragmentation=_opt(args.fragmentation, "--fragmentation", 0.05, parse_fraction, low=0.0, high=10.0))


DEFAULT_SEQUENCE_LENGTH = 2048  # for a config.json or flags alone: a config's max_position_embeddings is a limit,
                                # not the length a model was trained at


def default_sequence_length(args):
    """The training -s when none is typed: a preset's pre-training length (the block's table; flops' default too),
    else DEFAULT_SEQUENCE_LENGTH."""
    if args.preset is not None:
        return preset_sequence_length(args.preset, DEFAULT_SEQUENCE_LENGTH)
    return DEFAULT_SEQUENCE_LENGTH


def sequence_length_source(args, seq_len):
    """One line for the assumptions: which training length was used and why."""
    if args.max_context:
        return f"sequence length {seq_len:,}: the longest that fits --gpu-memory (--max-context)"
    if args.sequence_length is not None:
        return f"sequence length {seq_len:,}: -s/--sequence-length as given"
    if args.preset is not None and args.preset.strip().lower() in MODEL_PRESETS and \
            "sequence_length" in MODEL_PRESETS[args.preset.strip().lower()]:
        return (f"sequence length {seq_len:,}: {args.preset.strip().lower()}'s pre-training length (a preset's "
                "default; -s sets another)")
    return f"sequence length {seq_len:,}: the default for a model without a pre-training length (-s sets another)"


# The cookbook's precision flags count bytes per value (calc/calc_transformer_mem.py: weights and activations
# --low-prec-bytes-per-val, or --high-prec-bytes-per-val under --disable-mixed-precision; gradients
# --bytes-per-grad-ele; an fp32 copy, momentum and variance in the optimizer). Each combination this script models
# maps onto its own settings exactly; any other is refused, naming the flag.
COOKBOOK_PRECISION_FLAGS = ("disable_mixed_precision", "high_prec_bytes_per_val", "low_prec_bytes_per_val",
                            "bytes_per_grad_ele")
COOKBOOK_BYTES_DTYPE = {1: "fp8", 2: "bf16", 4: "fp32"}  # inference: weights and KV-cache elements


def cookbook_precision(args):
    """The cookbook's precision flags -> {our setting: value} (empty when none is typed); ValueError naming the flag
    for a combination this script does not model."""
    if not any(getattr(args, dest) not in (None, False) for dest in COOKBOOK_PRECISION_FLAGS):
        return {}
    ours = [flag for dest, flag in (("precision", "--precision"), ("grads", "--grads"),
                                    ("weight_dtype", "--weight-dtype"), ("kv_dtype", "--kv-dtype"),
                                    ("bits_per_weight", "--bits-per-weight")) if getattr(args, dest) is not None]
    if ours:
        raise ValueError(f"{ours[0]} and the cookbook's precision flags (--disable-mixed-precision, "
                         "--high/low-prec-bytes-per-val, --bytes-per-grad-ele) both set the precision: give one")
    disabled = args.disable_mixed_precision
    high, low, grad = (None if getattr(args, dest) is None else parse_count(getattr(args, dest), flag)
                       for dest, flag in (("high_prec_bytes_per_val", "--high-prec-bytes-per-val"),
                                          ("low_prec_bytes_per_val", "--low-prec-bytes-per-val"),
                                          ("bytes_per_grad_ele", "--bytes-per-grad-ele")))
    if args.infer:
        if high is not None and not disabled:
            raise ValueError("--high-prec-bytes-per-val sets the inference weights only with "
                             "--disable-mixed-precision (else they are --low-prec-bytes-per-val)")
        weights = (4 if high is None else high) if disabled else (2 if low is None else low)
        kv = 2 if low is None else low  # the cookbook's KV cache is low-precision in both cases
        flag = "--high-prec-bytes-per-val" if disabled else "--low-prec-bytes-per-val"
        for value, name in ((weights, flag), (kv, "--low-prec-bytes-per-val")):
            if value not in COOKBOOK_BYTES_DTYPE:
                raise ValueError(f"{name} {value}: inference values of 1, 2 or 4 bytes are modelled (fp8, bf16, fp32)")
        return {"weight_dtype": COOKBOOK_BYTES_DTYPE[weights], "kv_dtype": COOKBOOK_BYTES_DTYPE[kv]}
    if high is not None and high != 4:
        raise ValueError(f"--high-prec-bytes-per-val {high}: only 4-byte (fp32) high-precision values are modelled "
                         "(master weights and optimizer states; the weights under --disable-mixed-precision)")
    if disabled and low is not None and low != 4:
        raise ValueError(f"--low-prec-bytes-per-val {low} with --disable-mixed-precision: fp32 weights with "
                         f"{low}-byte activations are not modelled (fp32 training keeps 4-byte activations)")
    if low is not None and low not in (2, 4):
        raise ValueError(f"--low-prec-bytes-per-val {low}: training with 2-byte (bf16) or 4-byte (fp32) weights and "
                         "activations is modelled (--precision fp8 keeps bf16 weights plus FP8 casts)")
    precision = "fp32" if disabled or low == 4 else "bf16"
    if precision == "fp32":
        if grad is not None and grad != 4:
            raise ValueError(f"--bytes-per-grad-ele {grad} with fp32 training: its gradients are 4 bytes")
        return {"precision": "fp32"}
    if grad is not None and grad not in (2, 4):
        raise ValueError(f"--bytes-per-grad-ele {grad}: 2 (bf16 gradients, --grads low) or 4 (fp32 gradients, "
                         "--grads fp32) is modelled")
    return {"precision": precision, **({"grads": {2: "low", 4: "fp32"}[grad]} if grad is not None else {})}


def _one_of(args, *pairs):
    """The value of whichever of two spellings of one setting was typed (dest, flag) pairs; both typed is refused."""
    typed = [(dest, flag) for dest, flag in pairs if getattr(args, dest) is not None]
    if len(typed) > 1:
        raise ValueError(f"{typed[0][1]} and {typed[1][1]} set the same thing: give one")
    return typed[0] if typed else (None, None)


def build_train_setup(args, model):
    tp = _opt(args.tp, "-tp", 1)
    pp = _opt(args.pp, "-pp", 1)
    cp = _opt(args.cp, "--cp", 1)
    sharding = args.sharding or "zero0"
    if args.zero_stage is not None:
        if args.zero_stage not in ("0", "1", "2", "3"):
            raise ValueError(f"-z/--zero-stage must be 0, 1, 2 or 3, got {args.zero_stage!r}")
        if args.sharding:
            raise ValueError("give either -z/--zero-stage or --sharding, not both")
        sharding = "zero" + args.zero_stage
    recompute = args.recompute or ("full" if args.checkpoint_activations else "none")
    if args.checkpoint_activations and args.recompute and args.recompute != "full":
        raise ValueError("-ca/--checkpoint-activations conflicts with --recompute " + args.recompute)
    gpn = _opt(args.gpus_per_node, "--gpus-per-node", 8)
    precision = cookbook_precision(args)
    batch_dest, batch_flag = _one_of(args, ("batch_size_per_gpu", "-b/--batch-size-per-gpu"),
                                     ("micro_batch", "--micro-batch"))
    zero = ZERO_LEVEL[sharding] if sharding in ZERO_LEVEL else -1
    comm_buffer = _opt(args.comm_buffer, "--comm-buffer", 50 * 2**20, parse_bytes)
    comm_source = "--comm-buffer as given" if args.comm_buffer is not None else "2 x torch DDP bucket_cap_mb=25"
    if args.zero_allgather_bucket_size is not None:
        if args.comm_buffer is not None:
            raise ValueError("-zbs/--zero-allgather-bucket-size and --comm-buffer both size the communication buffer: "
                             "give one")
        if not sharding.startswith("zero") or zero < 1:
            raise ValueError("-zbs/--zero-allgather-bucket-size is DeepSpeed ZeRO's all-gather bucket: it needs "
                             "-z 1, 2 or 3")
        elements = parse_count(args.zero_allgather_bucket_size, "--zero-allgather-bucket-size")
        value_bytes = 4 if precision.get("precision", args.precision) in ("fp32",) + AMP_PRECISIONS else 2
        comm_buffer = elements * value_bytes
        comm_source = f"-zbs: a ZeRO all-gather bucket of {elements:,} elements x {value_bytes} B"
    if args.zero3_max_live_params is not None and sharding != "zero3":
        raise ValueError("-zmlp/--zero3-max-live-params is DeepSpeed ZeRO-3's stage3_max_live_parameters: it needs "
                         "-z 3")
    if args.partition_activations:
        if args.sp:
            raise ValueError("-pa/--partition-activations and --sp both split the layer inputs over tp: give one")
        if recompute != "full" and not args.search:
            raise ValueError("-pa/--partition-activations splits the checkpoints of activation checkpointing "
                             "(DeepSpeed): it needs -ca/--checkpoint-activations")
    profile = args.profile or "megatron"
    if profile not in ("megatron", "hf"):
        raise ValueError(f"--profile must be megatron or hf, got {profile!r}")
    setup = TrainSetup(
        num_gpus=_opt(args.num_gpus, "--num-gpus", tp * pp * cp), tp=tp, pp=pp, cp=cp,
        vpp=_opt(args.vpp, "--vpp", 1), ep=_opt(args.ep, "-ep", 1), etp=_opt(args.etp, "--etp", 0, allow_zero=True),
        sp=args.sp, micro_batch=_opt(getattr(args, batch_dest) if batch_dest else None, batch_flag, 1),
        seq_len=_opt(args.sequence_length, "--sequence-length", default_sequence_length(args)),
        global_batch=_opt(args.global_batch, "--global-batch", 0, allow_zero=True),
        precision=precision.get("precision", args.precision or "bf16"),
        grads=precision.get("grads", args.grads or "low"), optimizer=optimizer_name(args.optimizer),
        sharding=sharding, fsdp_shard_size=_opt(args.fsdp_shard_size, "--fsdp-shard-size", gpn),
        prefetch_units=_opt(args.prefetch_units, "--prefetch-units", 1, allow_zero=True),
        offload_optimizer=args.offload_optimizer, offload_params=args.offload_params, recompute=recompute,
        profile=profile, comm_buffer=comm_buffer, comm_buffer_source=comm_source,
        partition_activations=args.partition_activations,
        optimizer_state_dtype=(args.optimizer_state_dtype or "").strip().lower(),
        max_live_params=_opt(args.zero3_max_live_params, "--zero3-max-live-params", 0),
        **_attention_and_allowances(args),
        num_params=_opt(args.params, "--params", 0) if model is None else 0,
        largest_unit_params=_opt(args.largest_layer_params, "--largest-layer-params", 0, allow_zero=True),
    )
    # A flag the chosen setup never reads would otherwise be ignored without a word.
    gathers = sharding in ("zero3", "fsdp-full", "fsdp-hybrid")
    searched = (args.tp, args.pp, args.zero_stage, args.sharding, args.recompute, args.micro_batch,
                args.batch_size_per_gpu)
    unread = [
        (args.fsdp_shard_size is not None and sharding != "fsdp-hybrid",
         "--fsdp-shard-size needs --sharding fsdp-hybrid"),
        (args.prefetch_units is not None and not gathers, "--prefetch-units needs ZeRO-3 or fsdp-full/-hybrid"),
        (args.largest_layer_params is not None and not gathers,
         "--largest-layer-params needs ZeRO-3 or fsdp-full/-hybrid"),
        (args.gpus_per_node is not None and sharding != "fsdp-hybrid" and not args.search and not args.predict_step,
         "--gpus-per-node is read by --search, --predict-step and --sharding fsdp-hybrid only"),
        ((args.grads is not None or args.bytes_per_grad_ele is not None) and sharding.startswith("fsdp"),
         ("--grads" if args.grads is not None else "--bytes-per-grad-ele")
         + " does not apply with FSDP (its gradients are fp32)"),
        (args.grads is not None and setup.precision == "fp32",
         "--grads does not apply with fp32 precision (its gradients are fp32)"),
        (args.etp is not None and (model is None or not model.is_moe), "--etp needs a MoE model (--num-experts)"),
        (args.search and (any(x is not None for x in searched) or args.checkpoint_activations),
         "--search chooses -tp, -pp, -z, --recompute and -b itself; drop them"),
    ]
    for is_unread, message in unread:
        if is_unread:
            raise ValueError(message)
    if args.search:
        # --search chooses tp and pp, so the global batch must divide micro-batch x dp of each candidate it tries
        # (search_configs checks that per layout), not of the all-data-parallel setup it starts from (issue 14:
        # --global-batch 2048 on 16,384 GPUs was refused although tp 8 x pp 16 leaves dp 128)
        validate_setup(replace(setup, global_batch=0), model)
        return setup
    return validate_setup(setup, model)


def build_infer_setup(args, model):
    """-> (InferSetup, lines for the assumptions). The cookbook's inference spellings: -s is the prompt and -o the
    tokens generated after it (the KV cache holds -s + -o tokens per sequence, -o 1 when only -s is typed, the
    cookbook's default), -b its sequences (= --batch-size), --num-gpus the GPUs of all replicas."""
    notes = []
    precision = cookbook_precision(args)
    batch_dest, batch_flag = _one_of(args, ("batch_size_per_gpu", "-b/--batch-size-per-gpu"),
                                     ("batch_size", "--batch-size"))
    context, prompt = _opt(args.context, getattr(args, "context_flag", None) or "--context", 4096), 0
    if args.sequence_length is not None or args.output_tokens is not None:
        if args.context is not None:
            raise ValueError("--context is the KV-cache length; -s (prompt) and -o (generated tokens) make it: "
                             "give one or the other")
        if args.max_context:
            raise ValueError("--max-context finds the context itself; drop -s/-o")
        prompt = _opt(args.sequence_length, "--sequence-length", default_sequence_length(args))
        generated = _opt(args.output_tokens, "--output-tokens", 1, allow_zero=True)
        context = prompt + generated
        notes.append(f"KV cache for {context:,} tokens per sequence: a {prompt:,}-token prompt "
                     f"({'-s' if args.sequence_length is not None else 'the default -s'}) + {generated:,} generated "
                     f"({'-o' if args.output_tokens is not None else 'the cookbook default -o 1'})")
    tp, pp = _opt(args.tp, "-tp", 1), _opt(args.pp, "-pp", 1)
    if args.num_gpus is not None:
        gpus = parse_count(args.num_gpus, "--num-gpus")
        if gpus % (tp * pp):
            raise ValueError(f"--num-gpus {gpus} is not a whole number of replicas of tp x pp = {tp * pp}")
        notes.append(f"{gpus:,} GPUs = {gpus // (tp * pp):,} replicas of tp x pp = {tp * pp}; every GPU holds one "
                     "replica's share, so the per-GPU memory does not depend on --num-gpus")
    inf = _build_infer_setup(args, model, context=context, prompt=prompt, tp=tp, pp=pp,
                             batch=_opt(getattr(args, batch_dest) if batch_dest else None, batch_flag, 1),
                             weight_dtype=precision.get("weight_dtype", args.weight_dtype or "bf16"),
                             kv_dtype=precision.get("kv_dtype"))
    if model is not None and model.gguf_arch == "gpt-oss" and not inf.bits_per_weight \
            and WEIGHT_BITS.get(inf.weight_dtype, 0) > 4:  # an unknown dtype is refused later, by name
        # the published checkpoint is not 16-bit: say so beside a 16-bit price
        notes.append(f"gpt-oss: every weight is priced at {inf.weight_dtype}, but OpenAI's checkpoint stores the "
                     "routed experts in MXFP4 (4.25 bits) and vLLM / llama.cpp load them so (calc_quantization.py --formats "
                     "BF16: 13.8 GB for gpt-oss-20b, 65.4 GB for gpt-oss-120b); --bits-per-weight prices every weight at "
                     "one width")
    return inf, notes


def _kv_dtype_flag(text, weight_dtype):
    """--kv-dtype / --kv-cache-dtype: a KV_CACHE_DTYPES spelling, or vLLM's auto (the model's 16- or 32-bit type:
    the weights' when they are one of those, else bf16)."""
    if text is None:
        return "bf16"
    if str(text).strip().lower() == "auto":
        return weight_dtype if weight_dtype in ("fp16", "bf16", "fp32") else "bf16"
    return kv_cache_dtype(text, "--kv-dtype")


def _build_infer_setup(args, model, *, context, prompt, tp, pp, batch, weight_dtype, kv_dtype):
    bpw = 0.0
    if args.bits_per_weight is not None:
        bpw = parse_fraction(args.bits_per_weight, "--bits-per-weight", 0.0, 64.0)
        if bpw <= 0:
            raise ValueError("--bits-per-weight must be > 0")
    conv = args.kv_cache or "window"
    if conv not in ("window", "hf-dynamic"):
        raise ValueError(f"--kv-cache must be window or hf-dynamic, got {conv!r}")
    return InferSetup(
        batch=batch, context=context, prompt=prompt, weight_dtype=weight_dtype, bits_per_weight=bpw,
        kv_dtype=kv_dtype or _kv_dtype_flag(args.kv_dtype, weight_dtype),
        kv_convention=conv, tp=tp, pp=pp,
        prefill_chunk=_opt(args.prefill_chunk, "--prefill-chunk", 0, allow_zero=True),
        **_attention_and_allowances(args),
        num_params=_opt(args.params, "--params", 0) if model is None else 0)


# --------------------------------------------------------------------------------------------------------------
# Step-time flags (issue 14)
# --------------------------------------------------------------------------------------------------------------
# (--gpu is not among them: it also gives --gpu-memory, in every mode)
STEP_FLAGS = ("predict_step", "peak_tflops", "intra_node_bw", "inter_node_bw", "hbm_bw", "compute_efficiency",
              "comm_efficiency", "rank", "zero_stages", "recompute_options")
SEARCH_ONLY_FLAGS = ("rank", "zero_stages", "recompute_options")


def check_step_flags(args, model):
    """The step-time flags are read by --predict-step and --search only; --rank, --zero-stages and --recompute-options
    by --search only; each needs a model (not --params)."""
    typed = [d for d in STEP_FLAGS if getattr(args, d) not in (None, False)]
    if args.predict_step and args.search:
        raise ValueError("--predict-step is what --search shows for each layout; give one of them")
    if not (args.predict_step or args.search):
        if typed:
            raise ValueError(f"--{typed[0].replace('_', '-')} is read by --predict-step and --search; add one")
        return
    stray = [d for d in typed if d in SEARCH_ONLY_FLAGS and not args.search]
    if stray:
        raise ValueError(f"--{stray[0].replace('_', '-')} is read by --search only")
    if model is None:
        raise ValueError("--predict-step and --search need a model, not --params")
    if args.rank == "memory" and any(getattr(args, d) is not None for d in STEP_FLAGS[1:7]):
        raise ValueError("--rank memory does not read the step-time flags (--peak-tflops, --intra-node-bw, ...)")


def build_step_hardware(args, setup):
    """StepHardware from --gpu and its overrides; the peak is the --precision dtype's."""
    def num(raw, flag, low=1e-9, high=None):
        value = None if raw is None else parse_fraction(raw, flag, 0.0, high)
        if value is not None and value < low:
            raise ValueError(f"{flag} must be > 0, got {raw!r}")
        return value
    gpu = (args.gpu or DEFAULT_STEP_GPU).strip().lower()
    gpn = _opt(args.gpus_per_node, "--gpus-per-node", None) if args.gpus_per_node is not None else None
    return step_hardware(gpu, setup.precision, peak_tflops=num(args.peak_tflops, "--peak-tflops", high=1e9),
                         intra_node_bw=num(args.intra_node_bw, "--intra-node-bw", high=1e9),
                         inter_node_bw=num(args.inter_node_bw, "--inter-node-bw", high=1e9),
                         hbm_bw=num(args.hbm_bw, "--hbm-bw", high=1e9), gpus_per_node=gpn,
                         compute_efficiency=num(args.compute_efficiency, "--compute-efficiency", high=1.0),
                         comm_efficiency=num(args.comm_efficiency, "--comm-efficiency", high=1.0))


def parse_choices(raw, flag, allowed):
    """'0,1' -> (0, 1) for --zero-stages, 'full' -> ('full',) for --recompute-options; each entry once, known."""
    items = [x.strip().lower() for x in str(raw).split(",")]
    if not items or any(x not in allowed for x in items) or len(set(items)) != len(items):
        raise ValueError(f"{flag} expects a comma-separated list of {', '.join(allowed)}, got {raw!r}")
    return tuple(items)


# Flags that only one mode reads (dest -> flag as the user types it): given to the other mode they would be ignored.
TRAIN_ONLY_FLAGS = {
    "micro_batch": "--micro-batch", "global_batch": "--global-batch",
    "gpus_per_node": "--gpus-per-node", "vpp": "--vpp", "cp": "--cp", "ep": "-ep",
    "etp": "--etp", "sp": "--sp", "zero_stage": "-z/--zero-stage", "sharding": "--sharding",
    "fsdp_shard_size": "--fsdp-shard-size", "prefetch_units": "--prefetch-units", "precision": "--precision",
    "grads": "--grads", "optimizer": "--optimizer", "offload_optimizer": "--offload-optimizer",
    "offload_params": "--offload-params", "recompute": "--recompute", "checkpoint_activations": "-ca",
    "profile": "--profile", "comm_buffer": "--comm-buffer", "largest_layer_params": "--largest-layer-params",
    "max_micro_batch": "--max-micro-batch", "search": "--search", "explain": "--explain", "top": "--top",
    "dropout": "--dropout", "partition_activations": "-pa/--partition-activations",
    "zero_allgather_bucket_size": "-zbs/--zero-allgather-bucket-size",
    "zero3_max_live_params": "-zmlp/--zero3-max-live-params", "bytes_per_grad_ele": "--bytes-per-grad-ele",
    "optimizer_state_dtype": "--optimizer-state-dtype", "lora_rank": "--lora-rank", **LORA_FLAGS,
    "optimizer_impl": "--optimizer-impl", "zero_grad": "--zero-grad", "trainer": "--trainer",
    **{dest: "--" + dest.replace("_", "-") for dest in STEP_FLAGS}}
INFER_ONLY_FLAGS = {
    "batch_size": "--batch-size", "context": "--context", "weight_dtype": "--weight-dtype",
    "bits_per_weight": "--bits-per-weight", "kv_dtype": "--kv-dtype", "kv_cache": "--kv-cache",
    "prefill_chunk": "--prefill-chunk", "output_tokens": "-o/--output-tokens", "engine": "--engine",
    **{dest: "--" + dest.replace("_", "-") for dest in ("mem_fraction_static", "max_total_tokens", "page_size",
                                                      "chunked_prefill_size", "cuda_graph_max_bs",
                                                      "max_running_requests", "avail_mem_before_load",
                                                      "avail_mem_after_load")},
    "max_batch_size": "--max-batch-size", "min_tp": "--min-tp"}
# Flags only --engine vllm reads
VLLM_ONLY_FLAGS = {
    "gpu_memory_utilization": "--gpu-memory-utilization", "block_size": "--block-size",
    "max_num_batched_tokens": "--max-num-batched-tokens", "max_num_seqs": "--max-num-seqs",
    "non_torch_memory": "--non-torch-memory", "activation_peak": "--activation-peak",
    "cuda_graph_memory": "--cuda-graph-memory", "kv_cache_memory_bytes": "--kv-cache-memory-bytes",
    "mamba_cache_mode": "--mamba-cache-mode", "mamba_ssm_cache_dtype": "--mamba-ssm-cache-dtype",
    "num_speculative_tokens": "--num-speculative-tokens", "draft_attention_layers": "--draft-attention-layers"}


# Flags only --engine sglang reads
SGLANG_ONLY_FLAGS = {dest: "--" + dest.replace("_", "-") for dest in (
    "mem_fraction_static", "max_total_tokens", "page_size", "chunked_prefill_size", "cuda_graph_max_bs",
    "max_running_requests", "avail_mem_before_load", "avail_mem_after_load", "swa_full_tokens_ratio",
    "disable_hybrid_swa_memory")}


def build_sglang_setup(args, gpu_bytes):
    """--engine sglang's flags -> SglangSetup (sizes need a unit; SGLang's logged "GB" are GiB)."""
    fraction = None
    if args.mem_fraction_static is not None:
        fraction = parse_fraction(args.mem_fraction_static, "--mem-fraction-static", 0.0, 1.0)
        if fraction <= 0:
            raise ValueError("--mem-fraction-static must be in (0, 1]")
    if gpu_bytes is None and args.avail_mem_before_load is None:
        raise ValueError("--engine sglang needs --gpu-memory (or --gpu) or --avail-mem-before-load (SGLang's "
                         "\"Load weight begin. avail mem=\")")
    ratio = SGLANG_SWA_FULL_TOKENS_RATIO
    if args.swa_full_tokens_ratio is not None:  # server_args.py check_server_args: 0 < ratio <= 1
        ratio = parse_fraction(args.swa_full_tokens_ratio, "--swa-full-tokens-ratio", 0.0, 1.0)
        if ratio <= 0:
            raise ValueError("--swa-full-tokens-ratio must be in (0, 1]")
    return SglangSetup(
        swa_full_tokens_ratio=ratio, disable_hybrid_swa_memory=bool(args.disable_hybrid_swa_memory),
        gpu_bytes=gpu_bytes or 0, mem_fraction_static=fraction,
        max_total_tokens=_opt(args.max_total_tokens, "--max-total-tokens", None),
        page_size=_opt(args.page_size, "--page-size", 1),
        chunked_prefill_size=_opt(args.chunked_prefill_size, "--chunked-prefill-size", None),
        cuda_graph_max_bs=_opt(args.cuda_graph_max_bs, "--cuda-graph-max-bs", None),
        max_running_requests=_opt(args.max_running_requests, "--max-running-requests", None),
        avail_before_load=_opt(args.avail_mem_before_load, "--avail-mem-before-load", None, parse_bytes),
        avail_after_load=_opt(args.avail_mem_after_load, "--avail-mem-after-load", None, parse_bytes))


def build_vllm_setup(args, gpu_bytes):
    """--engine vllm's flags -> VllmSetup (sizes need a unit; the utilization is a fraction in (0, 1])."""
    def size(raw, flag, default):
        return default if raw is None else parse_bytes(raw, flag)
    pool = size(args.kv_cache_memory_bytes, "--kv-cache-memory-bytes", None)
    if pool is None and gpu_bytes is None:
        raise ValueError("--engine vllm needs --gpu-memory (vLLM's budget is a share of it) or "
                         "--kv-cache-memory-bytes")
    if pool is not None:
        # --max-num-batched-tokens also sizes a window's pages (a chunked prefill's batch), so it stays
        budget_flags = [flag for dest, flag in VLLM_ONLY_FLAGS.items() if dest not in ("block_size",
                        "kv_cache_memory_bytes", "max_num_batched_tokens", *VLLM_STATE_FLAGS)
                        and getattr(args, dest) is not None]
        if budget_flags:
            raise ValueError(f"{budget_flags[0]} sizes vLLM's budget, which --kv-cache-memory-bytes replaces")
    utilization = VLLM_GPU_MEMORY_UTILIZATION
    if args.gpu_memory_utilization is not None:
        utilization = parse_fraction(args.gpu_memory_utilization, "--gpu-memory-utilization", 0.0, 1.0)
        if utilization <= 0:
            raise ValueError("--gpu-memory-utilization must be in (0, 1]")
    return VllmSetup(
        gpu_bytes=gpu_bytes or 0, gpu_memory_utilization=utilization,
        block_size=_opt(args.block_size, "--block-size", VLLM_BLOCK_SIZE),
        max_num_batched_tokens=_opt(args.max_num_batched_tokens, "--max-num-batched-tokens", 0),
        max_num_seqs=_opt(args.max_num_seqs, "--max-num-seqs", 0),
        non_torch_bytes=size(args.non_torch_memory, "--non-torch-memory", VLLM_NON_TORCH_BYTES),
        cuda_graph_bytes=size(args.cuda_graph_memory, "--cuda-graph-memory", 0),
        activation_peak_bytes=size(args.activation_peak, "--activation-peak", None),
        kv_cache_memory_bytes=pool, block_size_given=args.block_size is not None,
        **_vllm_state_setup(args))


def _vllm_state_setup(args):
    """--mamba-cache-mode, --mamba-ssm-cache-dtype, --num-speculative-tokens, --draft-attention-layers -> the
    VllmSetup fields vllm_hybrid_state_pool reads (vLLM's own flag names and values)."""
    mode = None
    if args.mamba_cache_mode is not None:
        mode = args.mamba_cache_mode.strip().lower()
        if mode not in VLLM_MAMBA_CACHE_MODES:
            raise ValueError(f"--mamba-cache-mode must be none or align ('all' is not modelled), got "
                             f"{args.mamba_cache_mode!r}")
    ssm = "auto"
    if args.mamba_ssm_cache_dtype is not None:
        ssm = args.mamba_ssm_cache_dtype.strip().lower()
        if ssm not in ("auto", *VLLM_SSM_DTYPE_BYTES):
            raise ValueError(f"--mamba-ssm-cache-dtype must be auto, float32, bfloat16 or float16, got "
                             f"{args.mamba_ssm_cache_dtype!r}")
    return dict(mamba_cache_mode=mode, mamba_ssm_cache_dtype=ssm,
                num_speculative_tokens=_opt(args.num_speculative_tokens, "--num-speculative-tokens", 0),
                draft_attention_layers=_opt(args.draft_attention_layers, "--draft-attention-layers", None,
                                            parse_count),
                config_path=getattr(args, "config", None))


def state_layer_training_modelled(model):
    """Training memory is modelled (measured against MemTracker, tests/test_mem_timeline_hybrid.py) for the gated
    delta-net layers of Qwen3-Next and of Qwen3.5's language model (qwen3_5_text; gated_delta_net_saved_tensors),
    the Mamba-2 layers of Bamba and Nemotron-H (dense and MoE; mamba2_saved_tensors), Falcon-H1's Mamba-2 mixer
    beside attention in every layer (parallel_ssm: the mixer's tensors, its own ssm_in_multiplier-scaled input and
    silu(z) in place of the gated norm, plus attention's) and LFM2's short convolutions; not for the multimodal
    qwen3_5 / qwen3_5_moe files (a vision tower beside them) or qwen3_5_moe_text (not measured); Jamba's Mamba-1
    layers (mamba1_saved_tensors and the scan loop's backward temporaries) without checkpointing."""
    return ((model.model_type in ("qwen3_next", "qwen3_5_text") and not model.ssm_kind)
            or model.model_type in ("bamba", "lfm2") or model.model_type == "nemotron_h") \
        or model.model_type in ("falcon_h1", "jamba")


def compute(args):
    """Parsed CLI arguments -> (result dict, warnings)."""
    other_mode = TRAIN_ONLY_FLAGS if args.infer else INFER_ONLY_FLAGS
    stray = [flag for dest, flag in other_mode.items() if getattr(args, dest) not in (None, False)]
    if stray:
        raise ValueError(f"{stray[0]} is for {'training; drop --infer' if args.infer else 'inference; add --infer'}")
    if args.top is not None and not args.search:
        raise ValueError("--top sets the rows --search prints; add --search")
    model, notes = resolve_model(args)
    if model is not None and model.short_conv and not args.infer and not state_layer_training_modelled(model):
        raise InputError("training memory of short-convolution layers (lfm2) is not modelled: their saved "
                         "activations are not attention's; --infer gives inference memory")
    if model is not None and model.single_block_layers and not args.infer and not state_layer_training_modelled(model):
        raise InputError(f"training memory of one-block layers ({model.model_type or 'hybrid'}: a Mamba-2 mixer, "
                         "attention, an MLP or an MoE per layer) is not modelled (measured: nemotron_h); --infer gives "
                         "inference memory")
    if model is not None and (model.router_fp32 or model.router_frozen_bias) and not args.infer:  # issue 10, jamba
        raise InputError(f"training memory of routers held in fp32{' with a frozen bias' if model.router_frozen_bias else ''}"
                         f" ({model.model_type}) is not modelled: their gradients and optimizer states differ from the "
                         "other parameters'; --infer gives inference memory")
    if model is not None and model.state_layer_count() and not args.infer and not state_layer_training_modelled(model):
        raise InputError(f"training memory of {model.linear_mixer_name} layers ({model.model_type or 'hybrid'}) "
                         "is not modelled: their saved activations are not attention's (measured: qwen3_next, "
                         "qwen3_5_text, bamba, nemotron_h, falcon_h1, jamba, lfm2); --infer gives inference memory")
    if model is not None and model.state_layer_count() and not args.infer and (args.search or args.predict_step):
        raise InputError(f"{'--search' if args.search else '--predict-step'} with {model.linear_mixer_name} layers "
                         f"({model.model_type}) is not modelled (their step time and layouts are not); drop it")
    if model is not None and model.gemma4_layers and not args.infer:
        raise InputError("training memory of gemma4_text is not modelled: its saved activations differ per layer "
                         "(global_head_dim on full layers, KV-shared layers, per-layer embeddings, an MoE block "
                         "beside the MLP); --infer gives inference memory")
    if model is not None and (model.sliding_kv_heads or (model.v_head_dim and not model.is_mla)) and not args.infer:
        raise InputError("training memory of mimo_v2_flash is not modelled: its saved activations differ per layer "
                         "kind (twice the KV heads and sinks on sliding layers, values narrower than keys); --infer "
                         "gives inference memory")
    if model is not None and model.model_type in ("llama4", "llama4_text") and args.profile == "hf" and model.is_moe \
            and not args.infer:  # the megatron profile counts routed experts, as Megatron-style MoE training runs
        raise InputError("--profile hf with Llama 4: transformers' Llama4TextMoe runs every expert on every token "
                         "(what autograd saves is E / top_k times a routed MoE's); not modelled, use --profile "
                         "megatron")
    warnings = [f"{PROG}: note: {note}" for note in notes]  # the block's notes: assumed defaults, fields not read
    if model is None and args.params is None:
        raise InputError("give a model: --preset/-p, --config, flags alone (-l, -hs, -a, -v) or --params")
    if model is not None and args.params is not None:
        raise InputError("--params is for model-states-only mode; do not combine it with a model")
    if model is not None and args.largest_layer_params is not None:
        raise InputError("--largest-layer-params is for --params mode; with a model the gathered unit is "
                         "computed")
    gpu_bytes = parse_bytes(args.gpu_memory, "--gpu-memory") if args.gpu_memory is not None else None
    if args.gpu is not None:
        spec = gpu_spec(args.gpu)  # the block's catalogue; an unknown name is one line naming --gpu
        if gpu_bytes is None:
            gpu_bytes = gpu_memory_bytes(args.gpu)
            warnings_gpu = (f"--gpu {args.gpu}: {spec['name']}, {gib(gpu_bytes):,.2f} GiB"
                            + (f" ({spec['gpu_share']:.0%} of {spec['memory_gib']} GB unified memory, macOS's "
                               "default GPU share)" if spec["gpu_share"] else
                               f" (the marketed {spec['memory_gib']} GB; nvidia-smi and CUDA report a little less: "
                               "give --gpu-memory for the exact figure)"))
            notes = notes + [warnings_gpu]
            warnings.append(f"{PROG}: note: {warnings_gpu}")
    vllm_pool_given = (args.engine == "vllm" and args.kv_cache_memory_bytes is not None) or \
        (args.engine == "sglang" and args.avail_mem_before_load is not None)  # the pool's memory, not a GPU
    solvers = (args.max_micro_batch, args.max_context, args.search, args.max_batch_size, args.min_tp)
    if any(solvers) and gpu_bytes is None and not vllm_pool_given:
        raise ValueError("--max-micro-batch, --max-context, --max-batch-size, --min-tp and --search need --gpu-memory "
                         "(or --gpu)")
    if sum(map(bool, solvers)) > 1:
        raise ValueError("give one of --max-micro-batch, --max-context, --max-batch-size, --min-tp, --search")
    if not args.infer:
        check_step_flags(args, model)
    if (any(solvers) or args.explain) and model is None:
        raise ValueError("--search, --max-micro-batch, --max-context, --max-batch-size, --min-tp and --explain need a "
                         "model, not --params")
    params = count_params(model) if model is not None else {"total": parse_count(args.params, "--params")}
    result = {"model": asdict(model) if model is not None else None, "params": params, "notes": notes}
    engine = args.engine or "sum"
    if engine not in ENGINES:
        raise ValueError(f"--engine must be one of {', '.join(ENGINES)}, got {args.engine!r}")
    if engine == "hf":  # transformers' generate(): the summed breakdown with the cache transformers keeps
        if args.kv_cache not in (None, "hf-dynamic"):
            raise ValueError("--engine hf keeps transformers' DynamicCache (--kv-cache hf-dynamic); drop --kv-cache "
                             f"{args.kv_cache}")
        args.kv_cache = "hf-dynamic"
    if engine != "vllm":
        stray = [flag for dest, flag in VLLM_ONLY_FLAGS.items() if getattr(args, dest) is not None]
        if stray:
            raise ValueError(f"{stray[0]} is for --engine vllm")
    if engine != "sglang":
        stray = [flag for dest, flag in SGLANG_ONLY_FLAGS.items() if getattr(args, dest) is not None]
        if stray:
            raise ValueError(f"{stray[0]} is for --engine sglang")
    check_serving_flags(args, engine)
    if args.infer:
        inf, infer_notes = build_infer_setup(args, model)
        inf = llamacpp_infer_setup(args, inf, engine, model)
        if args.max_context and engine == "vllm":  # the longest --max-model-len at --batch-size requests
            inf, result["solution"] = vllm_max_model_len(model, inf, build_vllm_setup(args, gpu_bytes))
        elif args.max_context and engine == "sglang":  # the pool's tokens shared by --batch-size requests
            inf, result["solution"] = sglang_max_context(model, inf, build_sglang_setup(args, gpu_bytes))
        elif args.max_context:
            n = max_inference_context(model, inf, gpu_bytes)
            if n == 0:
                raise ValueError("nothing fits: even a 1-token context exceeds --gpu-memory")
            inf = replace(inf, context=n)
            result["solution"] = {"name": "max context", "value": n}
        elif args.max_batch_size:
            inf, result["solution"] = max_inference_batch(model, inf, gpu_bytes, engine, args)
        elif args.min_tp:
            inf, result["solution"] = min_inference_tp(model, inf, gpu_bytes, engine, args)
        result.update(mode="inference", **inference_memory(model, inf))
        result["assumptions"][:0] = infer_notes
        if engine == "vllm":
            pool = vllm_kv_pool(model, inf, build_vllm_setup(args, gpu_bytes))
            result["engine"] = pool
            result["assumptions"] += pool.pop("assumptions")
            # the verdict is vLLM's: it starts only when one request of max_model_len tokens fits the pool
            result["fits"] = pool["fits_one_request"]
        elif engine == "sglang":
            pool = sglang_kv_pool(model, inf, build_sglang_setup(args, gpu_bytes))
            result["engine"] = pool
            result["assumptions"] += pool.pop("assumptions")
            # SGLang starts whenever one page is left; --batch-size requests of --context tokens run at once when
            # the pool holds their tokens and the scheduler admits that many
            result["fits"] = sglang_serves(pool, inf)
        serving_extras(args, model, inf, result, gpu_bytes, engine)
    else:
        lora = build_lora_setup(args)
        setup = build_train_setup(args, model)
        if lora is not None:
            check_lora_setup(setup, model, lora)
            if args.max_micro_batch or args.max_context:
                raise ValueError("--max-micro-batch / --max-context with --lora-rank are not modelled")
        if args.max_micro_batch:
            bmax = max_micro_batch(model, setup, gpu_bytes)
            if bmax == 0:
                raise ValueError("nothing fits: micro-batch 1 already exceeds --gpu-memory")
            setup = replace(setup, micro_batch=bmax, global_batch=0)
            result["solution"] = {"name": "max micro-batch", "value": bmax}
        if args.max_context:
            n = max_train_context(model, setup, gpu_bytes)
            if n == 0:
                raise ValueError("nothing fits: even the shortest sequence exceeds --gpu-memory")
            setup = replace(setup, seq_len=n)
            result["solution"] = {"name": "max sequence length", "value": n}
        if args.search:
            top = _opt(args.top, "--top", 10, allow_zero=True)
            rank = args.rank or "time"
            zero_stages = (0, 1, 2, 3) if args.zero_stages is None else tuple(
                int(z) for z in parse_choices(args.zero_stages, "--zero-stages", ("0", "1", "2", "3")))
            recomputes = parse_choices(args.recompute_options, "--recompute-options", RECOMPUTE) \
                if args.recompute_options is not None else RECOMPUTE
            hw = build_step_hardware(args, setup) if rank == "time" else None
            found, evaluated = search_configs(model, setup, gpu_bytes,
                                              max_tp=_opt(args.gpus_per_node, "--gpus-per-node", 8), top=top, hw=hw,
                                              rank=rank, zero_stages=zero_stages, recomputes=recomputes)
            result["search"] = {"candidates_evaluated": evaluated, "rank": rank,
                                "criterion": SEARCH_CRITERION if rank == "time" else MEMORY_CRITERION,
                                "results": found, "explanation": explain_winner(found)}
            if found:
                best = found[0]
                setup = replace(setup, tp=best["tp"], pp=best["pp"], vpp=best["vpp"], sharding=f"zero{best['zero']}",
                                recompute=best["recompute"], micro_batch=best["micro_batch"],
                                sp=best["tp"] > 1 and setup.sp)
                if "step" in best:
                    result["step"] = best["step"]
            elif setup.global_batch and setup.global_batch % (setup.micro_batch * setup.dp):
                raise ValueError(f"--search: no layout of --num-gpus {setup.num_gpus} fits --gpu-memory with "
                                 f"--global-batch {setup.global_batch} a whole number of micro-batches per "
                                 "data-parallel rank")
        if args.predict_step:
            result["step"] = step_time(model, setup, build_step_hardware(args, setup))
        impl, zero = timeline_options(args)
        trainer = trainer_option(args)
        if trainer == "litgpt":
            why = litgpt_refusal(model, setup, lora, impl, zero) or timeline_refusal(model, setup)
            if why is not None:
                raise ValueError(why)
            result.update(mode="train", **litgpt_training_memory(model, setup, lora))
        else:
            result.update(mode="train", **(training_memory(model, setup) if lora is None else
                                           lora_training_memory(model, setup, lora)))
        attach_timeline(result, model, setup, lora, impl, zero, trainer)
        result["assumptions"].insert(0, sequence_length_source(args, setup.seq_len))
        if result.get("step"):
            result["assumptions"] += result["step"]["assumptions"]
        if args.explain:
            kinds = {}
            # a LoRA run lists what its frozen base and adapters save, at the base's compute dtype (the tensors its
            # activation term sums; the first layer saves less, nothing before its adapters)
            act_setup = setup if lora is None else lora_compute_setup(setup, lora)
            for j in range(model.num_layers):
                key = ("moe" if model.layer_is_moe(j) else "dense") + "/" + activation_kind(model, j)
                if key not in kinds:
                    tensors = layer_activation_tensors(model, act_setup, model.layer_is_moe(j),
                                                       activation_kind(model, j), lora=lora)
                    if setup.recompute == "selective":
                        tensors = [t for t in tensors if not t["core"]]
                    kinds[key] = tensors
            result["activation_tensors"] = kinds
    if result.get("solution"):
        result["solution"]["total_bytes"] = result["per_gpu"]["total"]
    if gpu_bytes is not None:
        result["gpu_memory_bytes"] = gpu_bytes
        if "engine" not in result:
            # a training run fits when neither the summed table nor the step timeline's peak (both with the
            # allowances) exceeds the GPU: the timeline can pass the sum (--trainer litgpt's quantized head)
            needed = max(result["per_gpu"]["total"], (result.get("timeline") or {}).get("peak_total", 0))
            result["fits"] = needed <= gpu_bytes
    return result, warnings


def reject_empty(parser, args):
    """An empty or blank value (--precision "") must not fall back to the default silently."""
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if action.dest == "config":  # the shared block's reader words an empty --config as every script does
            continue
        if isinstance(value, str) and not value.strip() and action.option_strings:
            flag = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
            raise ValueError(f"{flag} needs a value, got {value!r}")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_presets:
        width = max(map(len, MODEL_PRESETS))
        for name, spec in MODEL_PRESETS.items():  # the shared block's one table, with each one's default -s
            print(f"{name:<{width}}  -s {preset_sequence_length(name, DEFAULT_SEQUENCE_LENGTH):<6}  {spec['source']}")
        return 0
    try:
        reject_empty(parser, args)
        apply_trainer_defaults(args)
        result, warnings = compute(args)
    except ValueError as exc:
        print(f"{PROG}: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    for w in warnings:
        print(w, file=sys.stderr)
    fmt = "json" if args.json else args.format
    if fmt == "json":
        print(json.dumps(result, indent=1, default=str))
    elif fmt == "markdown":
        print(render_markdown(result))
    else:
        print(render_text(result))
    if args.plot:
        try:
            if result.get("speed", {}).get("sweep"):
                plot_sweep(result["speed"], args.plot)
            else:
                plot_breakdown(result, args.plot)
        except (OSError, ValueError) as exc:
            print(f"{PROG}: error: --plot {args.plot}: {str(exc).splitlines()[0]}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    run_cli(main)
