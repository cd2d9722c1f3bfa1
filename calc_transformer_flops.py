#!/usr/bin/env python3
"""Training and inference FLOPs of a decoder-only transformer, matmul by matmul; MFU, time, cost and roofline.

What it computes
----------------
Every FLOP here is a matmul FLOP: a (m x k) @ (k x n) product costs 2·m·n·k (one multiply and one add per term).
That is the convention of ``torch.utils.flop_counter.FlopCounterMode`` (mm/addmm/bmm = 2mnk, biases, norms,
softmax and activations not counted), of Kaplan et al. 2020 §2.1 and of the nanoGPT sizing notebook, and the
forward count below equals what that counter reports for the Hugging Face model (tests/test_flops_torch.py).

Forward pass of a batch of b sequences, q new tokens each, T = b·q tokens, per layer:

* attention projections ``attention_qkv`` = 2·T·h·(a·d_qk + k·d_qk + k·d_v) (a query heads, k key/value heads);
  for MLA (DeepSeek-V2/V3) the down/up projections instead: 2·T·[h·r_q + r_q·a·d_qk] (or 2·T·h·a·d_qk without a
  q-LoRA) + 2·T·h·(r_kv + d_rope) + 2·T·r_kv·a·(d_nope + d_v);
* ``attention_scores`` (Q·Kᵀ) = 2·b·a·P·d_qk and ``attention_values`` (softmax·V) = 2·b·a·P·d_v, where P is the
  number of query-key pairs per head and sequence: P = q·(past + q) under the *full* convention (every score of
  the square: what eager attention executes, and what FlopCounterMode counts for eager and for SDPA, whose
  formula ignores the mask), or only the unmasked pairs under the *causal* convention, Σ_i min(i+1, window)
  (about half; a sliding window caps it; closer to what a causal FlashAttention kernel executes); Llama 4's
  chunked layers keep, under the causal convention, only the pairs inside each aligned chunk of C tokens,
  Σ_i (i mod C + 1), and under the full one the square eager attention computes (a decode step: min(c + 1, C)
  keys, as transformers caches them);
* ``attention_output`` = 2·T·a·d_v·h;
* ``indexer`` (DeepSeek Sparse Attention: DeepSeek-V3.2, GLM-5): each layer's lightning indexer, 2·T·(r_q·H_I·d_I +
  h·d_I + h·H_I) for its projections and 2·b·H_I·(d_I + 1) per query-key pair for its scores (``indexer_flops``);
  the full convention counts every cached key for it and for the attention (eager masks all but the top-k), the
  causal one min(i + 1, index_topk) attended keys per query; it has no backward (transformers: ``torch.no_grad``);
* ``linear_attention`` (Qwen3-Next's and Qwen3.5's gated delta-net layers, which have no softmax attention and no KV
  cache; Qwen3.5's four input projections are the rows of Qwen3-Next's two): the projections, the causal conv1d and the chunked delta rule as transformers' PyTorch path runs them and
  FlopCounterMode counts them (``linear_attention_flops``: 2·b·H_v·⌈s/64⌉·64·(2·64·d_k + 3·d_k·d_v + 64·d_v) for
  the rule; a decode step's state update is elementwise, not counted); Bamba's Mamba-2 layers likewise
  (``mamba2_flops``: in_proj, out_proj, the conv1d and the chunked scan's bmm,
  2·b·H·[n·C²·(N + P) + 2·n·C·N·P + (n + 1)²·P·N] over n = ⌈s/C⌉ chunks; a decode step 2·b·H·P·N); Jamba's
  Mamba-1 layers likewise (``mamba1_flops``: in_proj, x_proj, dt_proj, out_proj, the conv1d and the selective
  scan's one state read per token, 2·b·s·d·N);
* ``mlp`` (dense layers) = 2·T·h·f per linear, with 3 linears when gated (SwiGLU/GeGLU) and 2 otherwise;
* ``routed_experts`` = top_k · 2·T·h·f_expert per linear (each token runs through its top-k experts only; for
  Llama 4 too, although transformers' Llama4TextMoe multiplies every token by every expert and zeroes the ones its
  router did not pick: E / top_k times this, counted in the tests and set aside as that module's, not the model's),
  ``shared_experts`` = 2·T·h·f_shared per linear (+ 2·T·h for Qwen-MoE's shared-expert gate),
  ``router`` = 2·T·h·E;

and once per model ``lm_head`` = 2·T·e·V (logits on every position in training; the last position only when
generating; e = h except for OPT's word_embed_proj_dim), ``embeddings`` = 0 (a lookup is not a matmul), and, when
the token table's width differs from the model's (OPT-350m: e = 512, h = 1024), ``embedding_projections`` = 2·T·e·h
(project_in) + 2·T·h·e (project_out), both on every new token, prefill included (transformers' OPTDecoder).

Training: backward = 2 × forward (each matmul needs one product for the input gradient and one for the weight
gradient; Kaplan et al. 2020 §2.1), so model FLOPs = 3 × forward. Recompute (activation checkpointing) adds
FLOPs the hardware executes but the model does not need: ``selective`` re-runs the attention core (Q·Kᵀ and
softmax·V; Korthikanti et al. 2022, §5) and ``full`` re-runs the forward of every layer (not the LM head; Narayanan
et al. 2021, eq. 3). Model FLOPs give MFU, hardware FLOPs give HFU (Chowdhery et al. 2022, PaLM, App. B).

Side by side (per token, for sequence length s):

* 6N with N = total parameters, non-embedding parameters (Kaplan et al. 2020) and, for MoE, active parameters;
* PaLM: 6·N_matmul + 6·L·a·(d_qk + d_v)·s = 6N + 12·L·H·Q·T (Chowdhery et al. 2022, App. B), N_matmul = every
  parameter except position tables and an untied input embedding (nanoGPT ``estimate_mfu``, torchtitan);
* Chinchilla App. F (Hoffmann et al. 2022): QKV 2·3·s·d·(H·Q), logits 2·s²·H·Q, softmax 3·H·s², softmax@V
  2·s²·H·Q, output 2·s·H·Q·d, FFN 2·s·2·d·f, plus embeddings 2·s·V·d and final logits 2·s·d·V; ×3 for training.
  Table A4's ratios are reproduced without the embedding and final-logit terms (nanoGPT scaling_laws.ipynb, "per
  author correspondence"), so both variants are printed.

Inference: prefill = one forward over the prompt (logits for the last position only); decode step at context c
= one forward of one token whose attention reads c+1 cached keys, min(c+1, window) on a sliding-window layer
(its cache holds only the window; both conventions alike). MLA decode is counted as transformers runs it: the
latent is cached and every cached latent is re-expanded by kv_b_proj at each step (serving engines absorb the
up-projections instead: not modelled).
Roofline: time ≥ max(FLOPs / peak, bytes / bandwidth); bytes = weights read (MoE: min(E, tokens·top_k) experts
per layer) + KV cache read; arithmetic intensity = FLOPs / bytes (Williams et al. 2009; the scaling book).
Time = model FLOPs / (GPUs · peak · MFU) = hardware FLOPs / (GPUs · peak · HFU) for an assumed MFU (0.45, 45%
or 140/312); from a measured throughput (``--tokens-per-second``, ``--step-time``), time = tokens / throughput and
MFU = model FLOPs per second / (GPUs · peak), HFU the same with hardware FLOPs. An MFU or HFU above 100% is refused
(it means a missing flag, usually ``--num-gpus``).

Runs: with ``--prompt-length`` or ``--generate`` an inference run (prefill, decode, roofline), with ``--infer``/``-i``
(the cookbook's) a forward-only run (one forward over every token, logits at every position, no backward: 1 x
forward where training is 3 x; the shortcuts become 2N, PaLM's 2N + 4LHQT), else a training run;
a flag the run does not read (a training flag in an inference run, ``--bandwidth`` in a training run, a time flag
with no time to estimate, anything next to ``--list-gpus``/``--list-presets``) is refused, naming it.

The model
---------
What a model is comes from the shared model block this file carries (between the cog markers, identical in every
calc_*.py script): ``--preset`` takes a name of its one preset table (MODEL_PRESETS, ``--list-presets``),
``--config`` reads a config.json through its one reader (unknown model types refused), and the architecture flags
(the block's ``add_model_arguments``: one spelling, meaning and default in every script) then replace the fields of
its ``Model`` they name. A model from flags alone is the cookbook's: a plain MLP 4 x hidden wide, LayerNorm with
biases, no linear biases, untied embeddings, rotary, top-1 when ``-e`` comes without ``-t``; what was assumed is
said on stderr. MTP modules (``--mtp-layers``), and flags the model would not read (MoE widths without experts, MLA
widths without MLA), are refused. Parameter counts are the block's ``count_model`` (the sum of its exact
tensor list), and the projection FLOPs above are read from the same tensor list (2 FLOPs per weight of each
Linear and token); the attention core, MLA's latent re-expansion, the LM head's positions and the conventions
are this script's. ``-s`` defaults to the length a preset's model was pre-trained at where the table says
(``sequence_length``), else 2048: a property of the run, not of the model.

JSON keys (``--json``)
----------------------
* ``config``: the resolved model: every field of the block's ``Model``; ``source`` names the preset's source or
  the config.json, and the fields the flags changed.
* ``derived``: what the count reads off the model: kv_heads, qk_head_dim (d_qk), value_head_dim (d_v),
  mlp_linears (3 gated, 2 plain), vocab (padded), token_width (e), expert_width, shared_width, moe_layers,
  sliding_layers.
* ``conventions``: the rules this result follows, in words: flop, attention (``--attention-flops`` full|causal),
  recompute, backward,
  lm_head, embeddings, mfu_uses, hfu_uses, decode.
* ``parameters``: total, embedding, non_embedding, matmul, active, matmul_active, routed_experts,
  params_per_expert, roles {embedding, positions, embedding_projections, attention, mlp, routed_experts,
  shared_experts, router, norms, lm_head, mtp} (the block's count_model).
* ``forward``: tokens, components {embeddings, embedding_projections, attention_qkv, attention_scores, attention_values,
  attention_output, indexer, mlp, routed_experts, shared_experts, router, lm_head}, total, for one step (b x s tokens).
* ``training``: workload (training | forward only), passes (3, or 1 with --infer), sequence_length, batch_size,
  forward_per_sequence, backward_per_sequence,
  model_flops_per_sequence, recompute_flops_per_sequence, hardware_flops_per_sequence, model_flops_per_token,
  hardware_flops_per_token, model_flops_per_step, hardware_flops_per_step; with ``--tokens`` also tokens,
  sequences, steps, model_flops, hardware_flops.
* ``estimates``: for detailed, 6nd_total, 6nd_non_embedding, 6nd_active, palm, chinchilla_app_f,
  chinchilla_app_f_no_embedding_logits: per_token, per_sequence, detailed_ratio (detailed / this), and with
  ``--tokens`` total.
* ``hardware`` (with ``--gpu``/``--peak-tflops``/``--bandwidth``): gpu, dtype, peak_flops, bandwidth_bytes_per_s,
  source.
* ``time`` (with a peak and ``--tokens``): from (measured | assumed_mfu | assumed_hfu), basis, model_flops,
  hardware_flops, flops, utilisation, mfu, hfu, num_gpus, seconds, days, gpu_hours, with ``--cost-per-gpu-hour``
  cost, and from a measured throughput tokens_per_second (the time is then tokens / throughput).
* ``measured`` (``--tokens-per-second`` or ``--step-time``): tokens_per_second, model_flops_per_s,
  hardware_flops_per_s, model_flops_per_s_per_gpu, mfu, hfu (of the ``--flops-basis`` count), basis, num_gpus.
* ``inference`` (``--prompt-length``/``--generate``): prompt_length, generate, batch_size, prefill_flops,
  decode_flops_per_token_first, decode_flops_per_token_last, decode_steps, decode_flops, total_flops,
  kv_cache_bytes_per_token, kv_cache_bytes_at_end, roofline {prefill_bytes, decode_step_bytes, prefill_intensity,
  decode_intensity, and with a peak and a bandwidth: ridge_intensity, prefill_seconds, prefill_bound,
  decode_step_seconds, decode_bound, decode_tokens_per_second}.

FLOP counts are exact integers (a total for a token count that is not a multiple of the sequence length is
rounded to the nearest FLOP); times, ratios and per-token averages are floats.

Examples
--------
    python calc_transformer_flops.py --preset gpt2 -s 1024
    python calc_transformer_flops.py --preset llama-3-8b --tokens 15T --gpu h100-sxm --num-gpus 1024 \\
        --mfu 0.4 --cost-per-gpu-hour 2.5
    python calc_transformer_flops.py --preset gpt2 -s 1024 -b 100 --step-time 0.755 --gpu a100-40gb
    python calc_transformer_flops.py --preset mixtral-8x7b --prompt-length 4096 --generate 512 --gpu h100-sxm
    python calc_transformer_flops.py -l 24 -hs 2048 -a 16 -v 50304 -s 2048 --attention-flops causal --json
    python calc_transformer_flops.py --config path/to/config.json -s 4096 --recompute full --format markdown
    python calc_transformer_flops.py --config path/to/new-model/ --generic    # unknown model_type, as a dense Llama
    python calc_transformer_flops.py -l 96 -hs 12288 --tokens 300e9    # the cookbook's command lines run unchanged

The cookbook (EleutherAI cookbook calc/calc_transformer_flops.py): every option spelling runs with its meaning:
``-i``/``--infer`` is the forward-only run above; ``-ca``/``--no-checkpoint-activations`` is ``--recompute none``
(this script's default; the cookbook's default was a full recompute); ``-b`` is sequences per step (its global
batch in samples); ``--swiglu`` is ``-nl 3``.  Where a command line from flags alone leaves out what the cookbook
assumed (``--tokens 300e9`` for a total, ``-ei 2``, ``-e 128``), a note says what this script did instead.
"""
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, replace

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

PROG = "calc_transformer_flops.py"
# -s when neither the preset's table entry (MODEL_PRESETS "sequence_length") nor the flag gives one
DEFAULT_SEQUENCE_LENGTH = 2048

# Accelerators: the shared block's one catalogue (GPU_CATALOGUE: dense peak TFLOP/s per dtype, memory, bandwidth in
# GB/s, links, each row with its datasheet source); this script reads the peaks and the bandwidth.
GPUS = GPU_CATALOGUE

DTYPE_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
MAX_SIZE = 10**12  # a sequence length, batch or token count beyond this is a typo, not a workload
DEFAULT_MFU = 0.40  # a well-tuned large dense run: Llama 3 405B reports 38-43% (Dubey et al. 2024, Table 4)
COMPONENTS = ("embeddings", "embedding_projections", "attention_qkv", "attention_scores", "attention_values",
              "attention_output", "indexer", "linear_attention", "mlp", "routed_experts", "shared_experts", "router",
              "lm_head")


# ----------------------------------------------------------------------------------------------------------------
# Reading numbers: the block's parse_number / parse_count (7B, 1.4T, 300e9, 32k, 32Ki, 1_000), and bandwidths
# ----------------------------------------------------------------------------------------------------------------


def parse_bandwidth(text) -> float:
    """'3.35TB/s', '3350GB/s', '2TiB/s', or a plain number of GB/s -> bytes per second."""
    raw = str(text).strip().replace(" ", "")
    units = {"tib/s": 2**40, "gib/s": 2**30, "tb/s": 10**12, "gb/s": 10**9}
    scale = 10**9
    for unit, factor in units.items():
        if raw.lower().endswith(unit):
            raw, scale = raw[: -len(unit)], factor
            break
    value = parse_number(raw, "--bandwidth")
    if value <= 0:
        raise InputError(f"--bandwidth {text!r}: expected a positive bandwidth such as 3.35TB/s or 3350GB/s")
    return float(value) * scale


# ----------------------------------------------------------------------------------------------------------------
# The model: the shared block's Model, and the widths the FLOP count reads from it
# ----------------------------------------------------------------------------------------------------------------


def mlp_linears(m: Model) -> int:
    """Matmuls in one MLP: 3 when gated (SwiGLU / GeGLU: gate, up, down), 2 for a plain MLP (up, down)."""
    return 3 if m.gated_mlp else 2


def qk_head_dim(m: Model) -> int:
    """Query/key width per head, d_qk: MLA's nope + rope parts (DeepSeek-V2 sec. 2.1), else the head width."""
    return m.qk_nope_head_dim + m.qk_rope_head_dim if m.is_mla else m.d_head


def value_head_dim(m: Model) -> int:
    """Value width per head, d_v: MLA's and MiMo-V2-Flash's v_head_dim, else the head width (values as wide as
    keys)."""
    return m.v_dim


def sliding_layer_count(m: Model) -> int:
    """Layers whose attention is a sliding window, from the block's per-layer schedule."""
    if not m.sliding_window:
        return 0
    return sum(1 for i in range(m.num_layers) if m.layer_attention(i) == "sliding")


def model_shape(m: Model) -> dict:
    """What the FLOP count derives from the Model (the JSON "derived" object): widths the Model leaves implicit
    and the layer schedule as counts."""
    return {"kv_heads": m.kv_heads, "qk_head_dim": qk_head_dim(m), "value_head_dim": value_head_dim(m),
            "mlp_linears": mlp_linears(m), "vocab": m.padded_vocab, "token_width": m.embed_width,
            "expert_width": m.moe_width if m.is_moe else 0, "shared_width": m.shared_width,
            "moe_layers": m.moe_layer_count(), "sliding_layers": sliding_layer_count(m)}


# ----------------------------------------------------------------------------------------------------------------
# Parameters (needed for 6N, PaLM and the bytes a step reads): the block's exact count
# ----------------------------------------------------------------------------------------------------------------


def parameter_counts(m: Model) -> dict:
    """Parameter totals from the block's count_model (the sum of its tensor list, by role).

    total; embedding (Kaplan et al. 2020: the input table, a learned position table and an untied LM head's
    weight, i.e. every table of the tensor list); non_embedding (Kaplan's N); matmul (PaLM's and nanoGPT's N: all
    but position tables and an untied input table, a lookup); active and matmul_active (MoE: top_k of the E routed
    experts in each MoE layer); routed_experts; params_per_expert; roles (the block's count by role).
    """
    counts = count_model(m)
    roles, total = counts["roles"], counts["total"]
    first, last = model_global_tensors(m)
    embedding = sum(t.numel for t in first + last if t.kind == "table" and not t.buffer)
    lookup = 0 if m.tied_embeddings else roles["embedding"]  # a tied table is also the LM head's matmul weight
    if m.tied_embeddings:  # Gemma 4's per-layer input table (PLE) is looked up only, tied head or not
        lookup = sum(t.numel for t in first if t.role == "embedding" and t.name != "embed_tokens.weight")
    matmul = total - roles["positions"] - lookup
    inactive = total - counts["active"]
    return {
        "total": total,
        "embedding": embedding,
        "non_embedding": total - embedding,
        "matmul": matmul,
        "active": counts["active"],
        "matmul_active": matmul - inactive,
        "routed_experts": roles["routed_experts"],
        "params_per_expert": counts["params_per_expert"],
        "roles": roles,
    }


# Per-token matmul weights of one layer, by FLOP component; see layer_matmul_weights.
LAYER_COMPONENTS = ("attention_qkv", "attention_latent", "attention_output", "indexer", "mlp", "routed_experts",
                    "shared_experts", "router", "embedding_projections")


def layer_matmul_weights(m: Model, moe: bool, sliding: bool = False, shared: bool = False) -> dict:
    """Weights one token multiplies in one (dense or MoE) layer, by FLOP component, from the block's tensor list:
    a Linear of shape (out, in) costs 2·out·in FLOPs per token.

    attention_qkv: every attention projection but the output one (q/k/v, fused qkv; MLA's q_a/q_b or q_proj and
    kv_a_proj_with_mqa); attention_latent: MLA's kv_b_proj, which transformers runs on every cached latent, not
    only the new tokens (see forward_flops); attention_output: o_proj; indexer: the DSA indexer's wq_b, wk and
    weights_proj (DeepSeek-V3.2, GLM-5); mlp; routed_experts: top_k of the E
    stacked experts; shared_experts (Qwen-MoE's gate included); router. Biases and norm vectors are no matmul.
    ``sliding``: a sliding layer of a model whose sliding layers have their own head shape (MiMo-V2-Flash, Gemma 4);
    ``shared``: a Gemma 4 KV-shared layer (no k/v projections); embedding_projections: Gemma 4's per-layer input
    gate and projection (PLE).
    Transformer-XL's relative-key projection (Gopher, Chinchilla) is a parameter only: its FLOPs are not modelled.
    """
    out = dict.fromkeys(LAYER_COMPONENTS, 0)
    tensors = model_layer_tensors(m, moe, False, sliding, True, shared)
    if m.single_block_layers:  # Nemotron-H: an attention layer's weights and an MLP (or MoE) layer's, side by side
        tensors = model_layer_tensors(m, False, False, sliding, True) + model_layer_tensors(m, moe, False, sliding,
                                                                                           False)
    for t in tensors:
        if t.kind != "weight" or t.buffer or t.name.startswith("mamba."):  # Falcon-H1's mixer: mamba2_flops
            continue
        if t.role == "attention":
            projection = t.name.split(".")[1]  # self_attn.<projection>.weight
            if projection == "rel_k_proj":
                continue
            part = {"o_proj": "attention_output", "kv_b_proj": "attention_latent",
                    "indexer": "indexer"}.get(projection, "attention_qkv")
            out[part] += t.numel
        elif t.role == "routed_experts":
            out["routed_experts"] += t.numel // m.num_experts * m.top_k  # stacked (E, ...): top_k of them
        elif t.role in ("mlp", "shared_experts", "router", "embedding_projections"):
            out[t.role] += t.numel
        else:
            raise InputError(f"{m.source}: a {t.role} tensor inside a layer ({t.name}) is not modelled by {PROG}")
    return out


def projection_weights(m: Model) -> int:
    """OPT's project_in (e -> h) and project_out (h -> e) when the token table is narrower or wider than h."""
    first, last = model_global_tensors(m)
    return sum(t.numel for t in first + last if t.role == "embedding_projections" and t.kind == "weight")


# ----------------------------------------------------------------------------------------------------------------
# FLOPs
# ----------------------------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------------------------
# Gated delta-net layers (Qwen3-Next): what transformers' PyTorch path runs
# ----------------------------------------------------------------------------------------------------------------
DELTA_NET_CHUNK = 64  # torch_chunk_gated_delta_rule's chunk_size (transformers 5.23 modeling_qwen3_next.py)


def mamba2_flops(m: Model, batch: int, new_tokens: int, past: int = 0, decode: bool = False) -> int:
    """Matmul FLOPs of ONE Mamba-2 mixer (Bamba's BambaMixer, transformers 5.23 modeling_bamba.py) for ``batch``
    sequences of ``new_tokens`` tokens, as FlopCounterMode counts transformers' PyTorch path (torch_forward's
    causal_conv1d_fn / mamba2_chunk_scan / mamba2_selective_state_update without the CUDA kernels: mm, bmm and
    convolution).  Not counted, because they are not matmuls: softplus(dt), the exp / cumsum / segment sums of the
    decays, the D skip, the gated RMSNorm and a decode step's elementwise state update (b·H·P·N multiply-adds).

    With H heads of P (inner width d = H·P), G groups of B and C of N (the SSM state), conv channels c = d + 2·G·N,
    kernel K and the scan's chunk C (mamba_chunk_size), s new tokens padded up to n = ⌈s / C⌉ chunks:

    * projections: 2·b·s·h·(d + c + H) for in_proj (gate z, x, B, C, dt) and 2·b·s·d·h for out_proj;
    * causal depthwise conv1d over x, B, C: 2·b·c·K per output column, columns as for the delta-net
      (max(s, K) + K − 1 in a prefill with the cache, K + s + K − 1 after cached tokens, 2 in a decode step);
    * the chunked scan (B and C repeated to the H heads), per sequence and head: C·Bᵀ within each chunk
      (2·n·C²·N), its product with x (2·n·C²·P), each chunk's state B·x (2·n·C·N·P), the inter-chunk recurrence
      over the n + 1 chunk states (2·(n + 1)²·P·N) and C·state out (2·n·C·N·P):
      2·b·H·[n·C²·(N + P) + 2·n·C·N·P + (n + 1)²·P·N];
    * a decode step reads its state with one bmm: 2·b·H·P·N.

    torch.einsum runs a contraction over a dimension of size 1 as an elementwise product, not a bmm, and the counter
    then charges nothing: with N = 1 the C·Bᵀ and C·state terms, with C = 1 the two in-chunk ones and B·x drop out
    (no published model has either; the count follows the counter there too).
    """
    h, kernel, heads, head_dim = m.hidden_size, m.mamba_d_conv, m.mamba_num_heads, m.mamba_head_dim
    d, conv, state = m.mamba_width, m.mamba_conv_dim, m.mamba_d_state
    tokens = batch * new_tokens
    projections = 2 * tokens * h * (d + conv + heads) + 2 * tokens * d * h
    per_column = 2 * batch * conv * kernel
    if decode:
        return projections + new_tokens * (per_column * 2 + 2 * batch * heads * head_dim * state)
    columns = (kernel + new_tokens if past else max(new_tokens, kernel)) + kernel - 1
    c = m.mamba_chunk_size
    n = -(-new_tokens // c)
    wide_state, wide_chunk = state > 1, c > 1  # a size-1 contraction is a mul in torch.einsum: no bmm counted
    scan = 2 * batch * heads * (n * c * c * (state * wide_state + head_dim * wide_chunk)
                                + n * c * state * head_dim * (wide_chunk + wide_state)
                                + (n + 1) ** 2 * head_dim * state)
    return projections + columns * per_column + scan


def mamba1_flops(m: Model, batch: int, new_tokens: int, past: int = 0, decode: bool = False) -> int:
    """Matmul FLOPs of ONE Mamba-1 mixer (Jamba's JambaMambaMixer, transformers 5.23 modeling_jamba.py; Gu & Dao
    2023, arXiv:2312.00752, Algorithm 2) for ``batch`` sequences of ``new_tokens`` tokens, as FlopCounterMode counts
    transformers' PyTorch path (causal_conv1d_fn / mamba_selective_scan / mamba_selective_state_update without the
    CUDA kernels: mm, bmm and convolution).

    With inner width d = mamba_expand·h, state N, dt rank R and kernel K, s new tokens:

    * projections: 2·b·s·h·2d for in_proj (x and the gate z), 2·b·s·d·(R + 2N) for x_proj (dt, B, C),
      2·b·s·R·d for dt_proj (its weight times dt as a matmul; the bias is added inside the scan) and 2·b·s·d·h for
      out_proj;
    * the causal depthwise conv1d over x: 2·b·d·K per output column, columns as for Mamba-2 (max(s, K) + K − 1 in a
      prefill with the cache, K + s + K − 1 after cached tokens, 2 in a decode step);
    * the selective scan: the recurrence h_t = exp(Δ_t A)·h_{t−1} + Δ_t B_t x_t is elementwise (not counted: about
      3·b·d·N multiply-adds a token, plus the exp), and its read-out y_t = C_t·h_t is one bmm of the (b, d, N) state
      with the (b, N, 1) C_t per token: 2·b·s·d·N.  The sequential loop, mambapy's pscan and the associative scan
      (torch.compile) all read the states with that same product; a decode step's mamba_selective_state_update
      likewise, 2·b·d·N.
    Not counted, because they are not matmuls: softplus(Δ), the discretization, the D skip, the gate silu(z) and the
    RMSNorms on dt, B and C.
    """
    h, kernel, d = m.hidden_size, m.mamba_d_conv, m.mamba1_inner
    state, rank = m.mamba_d_state, m.mamba_dt_rank
    tokens = batch * new_tokens
    projections = 2 * tokens * (h * 2 * d + d * (rank + 2 * state) + rank * d + d * h)
    per_column = 2 * batch * d * kernel
    read_out = 2 * tokens * d * state
    if decode:
        return projections + new_tokens * per_column * 2 + read_out
    columns = (kernel + new_tokens if past else max(new_tokens, kernel)) + kernel - 1
    return projections + columns * per_column + read_out


def short_conv_flops(m: Model, batch: int, new_tokens: int, past: int = 0, decode: bool = False) -> int:
    """Matmul FLOPs of ONE LFM2 short-convolution layer (Lfm2ShortConv) for ``batch`` sequences of ``new_tokens``
    tokens, as FlopCounterMode counts transformers' PyTorch path (mm and convolution; B*x and C*y are elementwise).

    With width h and kernel K (conv_L_cache): in_proj 2·b·s·h·3h and out_proj 2·b·s·h·h; the depthwise conv1d over
    B*x costs 2·b·h·K per output column (FlopCounterMode's convolution rule, one input channel per group): a prefill
    with the cache convolves max(s, K) + K - 1 columns (update_conv_state pads the input to K, causal_conv1d_fn pads
    K - 1 each side and keeps the last s), a later chunk its K cached + s new ones (+ K - 1), a decode step
    (causal_conv1d_update: state and token, no padding) 2 output columns; the backward of a convolution is 2 x
    its forward, as for a matmul."""
    h, kernel = m.hidden_size, m.short_conv_kernel
    tokens = batch * new_tokens
    projections = 2 * tokens * h * 3 * h + 2 * tokens * h * h
    per_column = 2 * batch * h * kernel
    if decode:
        return projections + new_tokens * per_column * 2
    columns = (kernel + new_tokens if past else max(new_tokens, kernel)) + kernel - 1
    return projections + columns * per_column


def linear_attention_flops(m: Model, batch: int, new_tokens: int, past: int = 0, decode: bool = False) -> int:
    """Matmul FLOPs of ONE gated delta-net layer (Qwen3NextGatedDeltaNet) for ``batch`` sequences of
    ``new_tokens`` tokens, as FlopCounterMode counts transformers' PyTorch path (mm, bmm and convolution; the
    triangular solves, the decays, the l2 norms, softplus and the gated RMSNorm are not matmuls and not counted).

    With key width kd = H_k·d_k, value width vd = H_v·d_v, conv width c = 2·kd + vd, kernel K, chunk C = 64:

    * projections: 2·b·s·h·(2·kd + 2·vd + 2·H_v) for in_proj_qkvz and in_proj_ba, 2·b·s·vd·h for out_proj;
    * causal depthwise conv1d: 2·b·c·K per output column; a prefill with the cache convolves max(s, K) + K - 1
      columns (padded to K, then K - 1 zeros each side), a later chunk its K cached + s new ones (+ K - 1), a
      decode step (causal_conv1d_update) K + 1 columns without padding: 2 outputs;
    * the chunked delta rule (prefill, s padded up to N = ceil(s / C) chunks), per sequence and value head
      (q and k repeated to H_v heads): per chunk k_beta·kᵀ and q·kᵀ (2·C²·d_k each), then the scan's
      k_cumdecay·S, q·S, kᵀ·v_new (2·C·d_k·d_v each) and attn·v_new (2·C²·d_v):
      2·N·C·(2·C·d_k + 3·d_k·d_v + C·d_v);
    * a decode step (torch_recurrent_gated_delta_rule) updates and reads the d_k x d_v state per head with
      elementwise products and sums only: no matmul is counted (about 7·d_k·d_v multiply-adds per head run).
    """
    if m.ssm_kind == "mamba2":  # Bamba: a Mamba-2 mixer in these layers
        return mamba2_flops(m, batch, new_tokens, past, decode)
    if m.ssm_kind == "mamba1":  # Jamba: a Mamba-1 mixer in these layers (issue 10, branch jamba)
        return mamba1_flops(m, batch, new_tokens, past, decode)
    if m.short_conv:  # LFM2: its layers without attention are short convolutions
        return short_conv_flops(m, batch, new_tokens, past, decode)
    h, kernel = m.hidden_size, m.linear_conv_kernel
    hv, dk, dv = m.linear_num_value_heads, m.linear_key_head_dim, m.linear_value_head_dim
    kd, vd = m.linear_num_key_heads * dk, hv * dv
    tokens = batch * new_tokens
    projections = 2 * tokens * h * (2 * kd + 2 * vd + 2 * hv) + 2 * tokens * vd * h
    per_column = 2 * batch * (2 * kd + vd) * kernel
    if decode:
        return projections + new_tokens * per_column * 2
    columns = (kernel + new_tokens if past else max(new_tokens, kernel)) + kernel - 1
    c = DELTA_NET_CHUNK
    chunks = -(-new_tokens // c)
    core = batch * hv * 2 * chunks * c * (2 * c * dk + 3 * dk * dv + c * dv)
    return projections + columns * per_column + core


def _causal_prefix_pairs(n: int, window: int) -> int:
    """Σ_{i<n} min(i+1, window): query-key pairs a causal (optionally windowed) mask keeps for positions 0..n-1."""
    if not window or n <= window:
        return n * (n + 1) // 2
    return window * (window + 1) // 2 + (n - window) * window


def _chunked_prefix_pairs(n: int, chunk: int) -> int:
    """Σ_{i<n} (i mod chunk + 1): query-key pairs a chunked causal mask keeps for positions 0..n-1 (Llama 4's
    chunked attention: position i sees only the positions of its own aligned chunk, from chunk·floor(i / chunk))."""
    whole, rest = divmod(n, chunk)
    return whole * chunk * (chunk + 1) // 2 + rest * (rest + 1) // 2


def attention_pairs(new_tokens: int, past: int, window: int, mode: str, chunked: bool = False) -> int:
    """Query-key pairs per head and sequence for ``new_tokens`` queries after ``past`` cached tokens.

    mode "square": every query scores every key (new_tokens·(past + new_tokens)), as eager attention executes it
    and FlopCounterMode counts it; "causal": only pairs the causal mask (and a sliding window, when given) keeps;
    with ``chunked`` the window is a chunk (Llama 4): only pairs within each query's aligned chunk.
    """
    if mode == "square":
        return new_tokens * (past + new_tokens)
    if chunked and window:
        return _chunked_prefix_pairs(past + new_tokens, window) - _chunked_prefix_pairs(past, window)
    return _causal_prefix_pairs(past + new_tokens, window) - _causal_prefix_pairs(past, window)


def indexer_flops(m: Model, batch: int, new_tokens: int, past: int, mode: str) -> int:
    """Matmul FLOPs of the DSA lightning indexers of all layers (DeepSeek-V3.2, GLM-5; transformers 5.23
    DeepseekV32Indexer.forward), for ``batch`` sequences of ``new_tokens`` queries after ``past`` cached keys.

    Per layer and token, with H_I heads of d_I and q-LoRA rank r_q: the projections wq_b (r_q -> H_I·d_I) on MLA's
    q-LoRA latent, wk (h -> d_I: the one key per token it caches) and weights_proj (h -> H_I): 2·(r_q·H_I·d_I +
    h·d_I + h·H_I).  Per query-key pair: the scores q·kᵀ of every head (2·H_I·d_I), ReLU, then the head-weighted sum
    weights·scores (2·H_I): 2·H_I·(d_I + 1), over the pairs of ``mode`` ("square": every cached key, as transformers
    computes them before masking and as FlopCounterMode counts them; "causal": only the keys at or before the
    query).  The top-k selection and the mask are not matmuls.  transformers runs the indexer under torch.no_grad:
    it has no backward (training_flops)."""
    w = layer_matmul_weights(m, False)["indexer"]
    pairs = attention_pairs(new_tokens, past, 0, mode)
    per_layer = 2 * batch * new_tokens * w + 2 * batch * pairs * m.index_n_heads * (m.index_head_dim + 1)
    return m.num_layers * per_layer


def forward_flops(m: Model, batch: int, new_tokens: int, past: int = 0, attention: str = "full",
                  logits_positions=None, decode: bool = False) -> dict:
    """Forward-pass matmul FLOPs per component for ``batch`` sequences of ``new_tokens`` tokens each.

    ``past`` tokens are already in the KV cache. ``logits_positions`` per sequence (default: every new token; at
    most the new tokens, as transformers' logits_to_keep slices them).
    ``attention``: "full" (the square PyTorch executes) or "causal" (unmasked pairs, sliding windows applied).
    ``decode``: the new tokens are generated one at a time: no query sees a later key, and a sliding-window
    layer's cache holds only its window, so both conventions count min(context + 1, window) keys per step.
    Llama 4's chunked layers (``attention_chunked``): transformers caches them as a window of the chunk size (the
    last chunk - 1 tokens), so "full" counts min(context + 1, chunk) keys per decode step, as eager attention runs
    them, and "causal" only the keys of the token's own chunk, context mod chunk + 1 (its prefill square alike:
    "full" the whole square, "causal" the pairs inside each chunk).
    DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5): "full" counts the square (transformers' eager attention scores
    every key, then masks all but the indexer's top-k), "causal" the keys each query attends to, min(i + 1, index_topk)
    (a decode step: min(context + 1, index_topk), where transformers scores all context + 1); the ``indexer`` component
    is indexer_flops.
    Projection weights come from the block's tensor list (layer_matmul_weights); the attention core is ours.
    Gemma 4 (per-layer head widths, KV-shared layers, PLE, the MoE block beside the MLP) is counted layer by layer
    (per_layer_forward_flops).
    """
    if m.gemma4_layers:
        return per_layer_forward_flops(m, batch, new_tokens, past, attention, logits_positions, decode)
    a, dq, dv, L = m.num_attention_heads, qk_head_dim(m), value_head_dim(m), m.num_layers
    linear = m.state_layer_count()  # Qwen3-Next's gated delta-net layers (and Falcon-H1's Mamba-2 beside attention)
    L_attn = m.attention_layer_count()  # Nemotron-H: its MLP / MoE layers attend neither
    T = batch * new_tokens
    causal = decode or attention == "causal"
    mode = "causal" if causal else "square"
    moe_layers = m.moe_layer_count()
    dense = layer_matmul_weights(m, False)
    sparse = layer_matmul_weights(m, True) if moe_layers else dict.fromkeys(LAYER_COMPONENTS, 0)
    # MLA: transformers caches the latent and re-expands every cached latent (kv_b_proj) at each forward:
    # past + new tokens per forward, i.e. context + 1 per decode step (no weight absorption)
    expanded = attention_pairs(new_tokens, past, 0, "causal") if decode else new_tokens + past
    sliding = sliding_layer_count(m)
    full_pairs = attention_pairs(new_tokens, past, 0, mode)
    window_pairs = attention_pairs(new_tokens, past, m.sliding_window if causal else 0, mode)
    if m.attention_chunked and attention == "causal":  # only the pairs inside each query's chunk
        window_pairs = attention_pairs(new_tokens, past, m.sliding_window, "causal", chunked=True)
    if m.has_indexer:  # DSA: each query attends to the top-k keys its indexer picks ("causal"); eager runs them all
        full_pairs = attention_pairs(new_tokens, past, m.index_topk if attention == "causal" else 0, mode)
    pairs = (L_attn - sliding) * full_pairs + sliding * window_pairs  # summed over layers
    # the attention projections summed over the attention layers: MiMo-V2-Flash's sliding layers have their own
    # (twice the KV heads); every other model's attention layers are alike
    wide = layer_matmul_weights(m, False, True) if m.has_sliding_shape else dense
    narrow = L_attn - sliding if m.has_sliding_shape else L_attn
    wide_layers = sliding if m.has_sliding_shape else 0
    qkv_weights = narrow * dense["attention_qkv"] + wide_layers * wide["attention_qkv"]
    output_weights = narrow * dense["attention_output"] + wide_layers * wide["attention_output"]
    # transformers' logits_to_keep=k slices hidden_states[:, -k:]: never more positions than there are new tokens
    positions = new_tokens if logits_positions is None else min(logits_positions, new_tokens)
    components = {
        "embeddings": 0,
        # OPT: project_in before the first layer and project_out after the last run on every new token (the
        # decoder returns all hidden states; only the LM head is sliced to the logits positions)
        "embedding_projections": 2 * T * projection_weights(m),
        "attention_qkv": 2 * T * qkv_weights + 2 * batch * expanded * L_attn * dense["attention_latent"],
        "attention_scores": 2 * batch * a * pairs * dq,
        "attention_values": 2 * batch * a * pairs * dv,
        "attention_output": 2 * T * output_weights,
        "indexer": indexer_flops(m, batch, new_tokens, past, mode) if m.has_indexer else 0,
        "linear_attention": linear * linear_attention_flops(m, batch, new_tokens, past, decode) if linear else 0,
        "mlp": 2 * T * m.dense_mlp_layer_count() * dense["mlp"],  # Nemotron-H: its MLP layers only
        "routed_experts": 2 * T * moe_layers * sparse["routed_experts"],
        "shared_experts": 2 * T * moe_layers * sparse["shared_experts"],
        "router": 2 * T * moe_layers * sparse["router"],
        "lm_head": 2 * batch * positions * m.embed_width * m.padded_vocab,  # a tied head multiplies all the same
    }
    return {"tokens": T, "components": components, "total": sum(components.values())}


def per_layer_forward_flops(m: Model, batch: int, new_tokens: int, past: int = 0, attention: str = "full",
                            logits_positions=None, decode: bool = False) -> dict:
    """forward_flops summed layer by layer, for Gemma 4 (transformers 5.23 modeling_gemma4.py), whose layers differ:

    * layer i's heads are layer_head_dim(i) wide (full layers: global_head_dim; sliding: head_dim), so its scores
      and weighted values cost 2·b·a·pairs_i·d_i each, and its q/k/v/o projections are its own (a full layer with
      attention_k_eq_v has no v_proj; a KV-shared layer only q_proj and o_proj);
    * every layer runs its dense MLP (twice as wide on KV-shared layers with use_double_wide_mlp) and, with the MoE
      block, the router (2·h·E per token) and top_k experts beside it;
    * PLE: per_layer_model_projection (h -> layers·p) once per token, a gate (h -> p) and a projection (p -> h) in
      every layer (component embedding_projections; the per-layer table is looked up, no matmul);
    * Gemma4TextModel._maybe_slice_kv_shared_inputs: with logits at ``logits_positions`` only (an integer
      logits_to_keep, as generate's prefill asks) and more than one new token, the KV-shared layers run on those
      last positions only (eager attention; their keys are the stored ones, so each of those queries still scores
      every cached key).  A decode step (one token) and a training forward (logits everywhere) run every position.
    """
    a, L, T = m.num_attention_heads, m.num_layers, batch * new_tokens
    causal = decode or attention == "causal"
    mode = "causal" if causal else "square"
    positions = new_tokens if logits_positions is None else min(logits_positions, new_tokens)  # a slice of them
    sliced = logits_positions is not None and not decode and new_tokens > 1
    comps = dict.fromkeys(COMPONENTS, 0)
    comps["embedding_projections"] = 2 * T * projection_weights(m)
    for i in range(L):
        sliding, shared = m.layer_attention(i) == "sliding", m.layer_kv_shared(i)
        w = layer_matmul_weights(m, m.layer_is_moe(i), m.layer_sliding_shape(i), shared)
        queries = positions if sliced and shared else new_tokens
        window = m.sliding_window if sliding and causal else 0
        if queries == new_tokens:
            pairs = attention_pairs(new_tokens, past, window, mode)
        elif mode == "square":  # the last `queries` new tokens against every cached and new key
            pairs = queries * (past + new_tokens)
        else:
            pairs = attention_pairs(queries, past + new_tokens - queries, window, "causal")
        tokens = batch * queries
        comps["attention_qkv"] += 2 * tokens * w["attention_qkv"]
        comps["attention_output"] += 2 * tokens * w["attention_output"]
        comps["attention_scores"] += 2 * batch * a * pairs * m.layer_head_dim(i)
        comps["attention_values"] += 2 * batch * a * pairs * m.layer_v_dim(i)
        for part in ("mlp", "routed_experts", "shared_experts", "router", "embedding_projections"):
            comps[part] += 2 * tokens * w[part]
    comps["lm_head"] = 2 * batch * positions * m.embed_width * m.padded_vocab
    return {"tokens": T, "components": comps, "total": sum(comps.values())}


def training_flops(m: Model, sequence_length: int, batch_size: int = 1, tokens=None,
                   attention: str = "full", recompute: str = "none", forward_only: bool = False) -> dict:
    """Model and hardware FLOPs of training: per sequence, per token, per step and (with ``tokens``) in total.

    backward = 2 x forward; recompute "selective" adds the attention core's forward, "full" every layer's forward
    (the LM head and OPT's project_in/out, outside the layers, are not recomputed).  ``forward_only`` (the
    cookbook's --infer): one forward pass over every token with logits at every position, no backward and no
    recompute (an evaluation or scoring pass; a serving run is --prompt-length / --generate).
    """
    fwd = forward_flops(m, 1, sequence_length, attention=attention)
    parts = fwd["components"]
    if recompute == "none":
        extra = 0
    elif recompute == "selective":
        extra = parts["attention_scores"] + parts["attention_values"]
    elif recompute == "full":
        extra = fwd["total"] - parts["lm_head"] - parts["embeddings"] - parts["embedding_projections"]
    else:
        raise InputError(f"--recompute {recompute!r}: expected none, selective or full")
    if forward_only and extra:
        raise InputError(f"--recompute {recompute}: a forward-only run (--infer) keeps no activations to recompute")
    passes = 1 if forward_only else 3  # forward, or forward + backward (2 x forward)
    # the DSA indexer runs under torch.no_grad in transformers: forward only, no backward
    backward = (passes - 1) * (fwd["total"] - parts["indexer"])
    model = fwd["total"] + backward
    hardware = model + extra
    out = {
        "workload": "forward only" if forward_only else "training",
        "passes": passes,
        "sequence_length": sequence_length,
        "batch_size": batch_size,
        "forward_per_sequence": fwd["total"],
        "backward_per_sequence": backward,
        "model_flops_per_sequence": model,
        "recompute_flops_per_sequence": extra,
        "hardware_flops_per_sequence": hardware,
        "model_flops_per_token": model / sequence_length,
        "hardware_flops_per_token": hardware / sequence_length,
        "model_flops_per_step": model * batch_size,
        "hardware_flops_per_step": hardware * batch_size,
    }
    if tokens is not None:
        out.update(tokens=tokens, sequences=tokens / sequence_length, steps=tokens / (sequence_length * batch_size),
                   model_flops=_scale(model, tokens, sequence_length),
                   hardware_flops=_scale(hardware, tokens, sequence_length))
    return out


def _scale(per_sequence: int, tokens: int, sequence_length: int) -> int:
    """per_sequence · tokens / sequence_length, rounded to the nearest integer, in exact arithmetic."""
    return (2 * per_sequence * tokens + sequence_length) // (2 * sequence_length)


def chinchilla_forward_flops(m: Model, sequence_length: int, embeddings_and_logits: bool = True) -> int:
    """Hoffmann et al. 2022, App. F, forward FLOPs of one sequence (attention as MHA with H·Q = a·d_qk)."""
    s, d, V = sequence_length, m.hidden_size, m.padded_vocab
    width, heads = m.num_attention_heads * qk_head_dim(m), m.num_attention_heads
    attention = 2 * 3 * s * d * width + 2 * s * s * width + 3 * heads * s * s + 2 * s * s * width + 2 * s * width * d
    # App. F's FFN term (two d x ffw matmuls); MoE layers use their active width, top_k·f_expert + f_shared
    moe_layers = m.moe_layer_count()
    moe_width = m.top_k * m.moe_width + m.shared_width if moe_layers else 0
    ffn_widths = m.dense_mlp_layer_count() * m.ffn_hidden_size + moe_layers * moe_width
    body = m.attention_layer_count() * attention + 2 * s * 2 * d * ffn_widths  # attention layers, MLP layers only
    return body + (2 * s * V * d + 2 * s * d * V if embeddings_and_logits else 0)


def estimates(m: Model, params: dict, sequence_length: int, detailed_per_sequence: int, tokens=None,
              passes: int = 3) -> dict:
    """Per-token FLOPs under each published shortcut, their totals, and their ratio to the detailed count.

    Each shortcut is a forward count times ``passes``: 3 in training (6N = 3 x 2N, PaLM's 6N + 12LHQT = 3 x
    (2N + 4LHQT), Chinchilla's x3), 1 for a forward-only run (--infer).  The keys keep their training names."""
    s = sequence_length
    palm_attention = 2 * m.num_layers * m.num_attention_heads * (qk_head_dim(m) + value_head_dim(m)) * s
    per_sequence = {
        "detailed": detailed_per_sequence,
        "6nd_total": passes * 2 * params["total"] * s,
        "6nd_non_embedding": passes * 2 * params["non_embedding"] * s,
        "6nd_active": passes * 2 * params["active"] * s,
        "palm": passes * (2 * params["matmul_active"] + palm_attention) * s,
        "chinchilla_app_f": passes * chinchilla_forward_flops(m, s, True),
        "chinchilla_app_f_no_embedding_logits": passes * chinchilla_forward_flops(m, s, False),
    }
    out = {}
    for name, flops in per_sequence.items():
        # detailed / estimate: Chinchilla Table A4's "ours / 6ND" when the estimate is 6ND
        entry = {"per_token": flops / s, "per_sequence": flops,
                 "detailed_ratio": detailed_per_sequence / flops if flops else 0.0}
        if tokens is not None:
            entry["total"] = _scale(flops, tokens, s)
        out[name] = entry
    return out


# ----------------------------------------------------------------------------------------------------------------
# Hardware, time, cost, MFU
# ----------------------------------------------------------------------------------------------------------------


def hardware_spec(gpu=None, dtype: str = "bf16", peak_tflops=None, bandwidth=None) -> dict:
    """Peak FLOP/s and bandwidth (bytes/s) of one accelerator, from the table or the overrides."""
    spec = {"gpu": gpu, "dtype": dtype, "peak_flops": None, "bandwidth_bytes_per_s": None, "source": "--peak-tflops"}
    if gpu is not None:
        if gpu not in GPUS:
            raise InputError(f"--gpu {gpu!r}: unknown; choose from {', '.join(GPUS)} (or give --peak-tflops)")
        row = GPUS[gpu]
        if row[dtype] is None and peak_tflops is None:
            supported = ", ".join(t for t in DTYPE_BYTES if row[t] is not None)
            if not supported:  # Apple silicon: no published tensor FLOP/s
                raise InputError(f"--gpu {gpu}: no published peak FLOP/s; give --peak-tflops")
            raise InputError(f"--dtype {dtype}: {gpu} has no {dtype} peak in its datasheet (has {supported})")
        spec.update(peak_flops=row[dtype] * 1e12 if row[dtype] else None, bandwidth_bytes_per_s=row["bandwidth"] * 1e9,
                    source=row["source"])
    if peak_tflops is not None:
        spec["peak_flops"] = peak_tflops * 1e12
        spec["source"] = "--peak-tflops" if gpu is None else spec["source"] + "; peak from --peak-tflops"
    if bandwidth is not None:
        spec["bandwidth_bytes_per_s"] = bandwidth
    return spec


def _wall_clock(seconds: float, num_gpus: int, cost_per_gpu_hour=None) -> dict:
    gpu_hours = seconds * num_gpus / 3600
    out = {"num_gpus": num_gpus, "seconds": seconds, "days": seconds / 86400, "gpu_hours": gpu_hours}
    if cost_per_gpu_hour is not None:
        out["cost"] = gpu_hours * cost_per_gpu_hour
    return out


def training_time(flops: int, num_gpus: int, peak_flops: float, utilisation: float, cost_per_gpu_hour=None) -> dict:
    """Wall-clock time = FLOPs / (GPUs · peak · utilisation); GPU-hours; cost.

    Pass model FLOPs with MFU, or hardware FLOPs (recompute included) with HFU: both give the same time.
    """
    seconds = flops / (num_gpus * peak_flops * utilisation)
    return {"flops": flops, "utilisation": utilisation,
            **_wall_clock(seconds, num_gpus, cost_per_gpu_hour)}


def measured_utilisation(model_flops_per_token: float, hardware_flops_per_token: float, tokens_per_second: float,
                         num_gpus: int, peak_flops: float) -> dict:
    """MFU and HFU from a measured global throughput (PaLM App. B)."""
    model_rate = model_flops_per_token * tokens_per_second
    hardware_rate = hardware_flops_per_token * tokens_per_second
    return {"tokens_per_second": tokens_per_second, "model_flops_per_s": model_rate,
            "hardware_flops_per_s": hardware_rate, "model_flops_per_s_per_gpu": model_rate / num_gpus,
            "mfu": model_rate / (num_gpus * peak_flops), "hfu": hardware_rate / (num_gpus * peak_flops)}


# ----------------------------------------------------------------------------------------------------------------
# Inference
# ----------------------------------------------------------------------------------------------------------------


def kv_cache_bytes_per_token(m: Model, dtype_bytes: int) -> int:
    """KV cache per token, all layers: 2 tensors (K, V) of k heads; MLA keeps one latent of r_kv + d_rope, and
    DeepSeek Sparse Attention (DeepSeek-V3.2, GLM-5) the indexer's key of index_head_dim beside it."""
    if m.is_mla:
        return m.num_layers * (m.kv_lora_rank + m.qk_rope_head_dim + m.index_head_dim * m.has_indexer) * dtype_bytes
    # gated delta-net layers (Qwen3-Next) keep a fixed state, no per-token K/V; MiMo-V2-Flash's sliding layers hold
    # twice the KV heads of its full layers; Gemma 4's layers their own heads and widths, its KV-shared layers none;
    # Nemotron-H's MLP layers and the linear mixers none (their fixed state is apart)
    return sum(m.layer_kv_heads(i) * (m.layer_head_dim(i) + m.layer_v_dim(i)) for i in range(m.num_layers)
               if m.layer_has_attention(i) and not m.layer_kv_shared(i)) * dtype_bytes


def _weights_read(m: Model, params: dict, tokens: int) -> int:
    """Parameters a step reads: all but the lookup tables, with min(E, tokens·top_k) experts per MoE layer."""
    moe_layers = m.moe_layer_count()
    if not moe_layers:  # dense, or a config whose experts sit in no layer (all dense-first)
        return params["matmul"]
    untouched = m.num_experts - min(m.num_experts, tokens * m.top_k)
    return params["matmul"] - moe_layers * untouched * params["params_per_expert"]


def inference(m: Model, params: dict, prompt_length: int, generate: int, batch_size: int,
              attention: str, dtype_bytes: int, spec=None) -> dict:
    """Prefill and decode FLOPs, KV-cache bytes, arithmetic intensity and roofline bounds."""
    prefill = forward_flops(m, batch_size, prompt_length, attention=attention, logits_positions=1)["total"]
    context = prompt_length + max(generate - 1, 0)   # keys cached before the last decode step
    steps = max(generate - 1, 0)                     # the first new token comes from the prefill's logits
    first_decode = forward_flops(m, 1, 1, past=prompt_length, attention=attention, decode=True)["total"]
    last_decode = forward_flops(m, 1, 1, past=max(context - 1, prompt_length), attention=attention,
                                decode=True)["total"]
    all_decode = forward_flops(m, batch_size, steps, past=prompt_length, attention=attention,
                               logits_positions=steps, decode=True)["total"] if steps else 0
    kv_token = kv_cache_bytes_per_token(m, dtype_bytes)
    out = {
        "prompt_length": prompt_length, "generate": generate, "batch_size": batch_size,
        "prefill_flops": prefill,
        "decode_flops_per_token_first": first_decode,
        "decode_flops_per_token_last": last_decode,
        "decode_steps": steps,
        "decode_flops": all_decode,
        "total_flops": prefill + all_decode,
        "kv_cache_bytes_per_token": kv_token,
        "kv_cache_bytes_at_end": kv_token * batch_size * context,
    }
    weights_prefill = _weights_read(m, params, batch_size * prompt_length) * dtype_bytes
    weights_decode = _weights_read(m, params, batch_size) * dtype_bytes
    # the last decode step reads the weights and every cached key/value; a sliding-window layer holds its window
    sliding = sliding_layer_count(m)
    keys_read = min(context, m.sliding_window) if sliding else context
    attending = m.attention_layer_count()  # kv_token covers these layers only
    if m.sliding_kv_heads or m.sliding_head_dim:  # MiMo-V2-Flash, Gemma 4: rows differ by layer (Gemma 4's
        # KV-shared layers read the rows of the layer they share)
        kv_read = batch_size * dtype_bytes * sum(
            m.layer_kv_heads(i) * (m.layer_head_dim(i) + m.layer_v_dim(i))
            * (keys_read if m.layer_attention(i) == "sliding" else context) for i in range(m.num_layers)
            if m.layer_has_attention(i))
    else:
        kv_read = batch_size * kv_token * ((attending - sliding) * context + sliding * keys_read) // max(attending, 1)
    decode_step_flops = batch_size * last_decode
    prefill_bytes = weights_prefill + batch_size * prompt_length * kv_token
    decode_bytes = weights_decode + kv_read
    roof = {"prefill_bytes": prefill_bytes, "decode_step_bytes": decode_bytes,
            "prefill_intensity": prefill / prefill_bytes, "decode_intensity": decode_step_flops / decode_bytes}
    if spec and spec.get("peak_flops") and spec.get("bandwidth_bytes_per_s"):
        peak, bw = spec["peak_flops"], spec["bandwidth_bytes_per_s"]
        pre_c, pre_m = prefill / peak, prefill_bytes / bw
        dec_c, dec_m = decode_step_flops / peak, decode_bytes / bw
        roof.update(ridge_intensity=peak / bw,
                    prefill_seconds=max(pre_c, pre_m), prefill_bound="compute" if pre_c >= pre_m else "memory",
                    decode_step_seconds=max(dec_c, dec_m), decode_bound="compute" if dec_c >= dec_m else "memory",
                    decode_tokens_per_second=batch_size / max(dec_c, dec_m))
    out["roofline"] = roof
    return out


# ----------------------------------------------------------------------------------------------------------------
# Putting it together
# ----------------------------------------------------------------------------------------------------------------


def analyse(m: Model, sequence_length: int, batch_size: int = 1, tokens=None, attention: str = "full",
            recompute: str = "none", dtype: str = "bf16", gpu=None, num_gpus: int = 1, mfu: float = DEFAULT_MFU,
            peak_tflops=None, bandwidth=None, cost_per_gpu_hour=None, flops_basis: str = "detailed",
            tokens_per_second=None, step_time=None, prompt_length=None, generate=None, hfu=None,
            forward_only: bool = False) -> dict:
    """Everything the CLI prints, as one dict (see the JSON keys in the module docstring)."""
    params = parameter_counts(m)
    train = training_flops(m, sequence_length, batch_size, tokens, attention, recompute, forward_only)
    step = forward_flops(m, batch_size, sequence_length, attention=attention)
    result = {
        "config": asdict(m),
        "derived": model_shape(m),
        "conventions": {
            "flop": "2·m·n·k per matmul; biases, norms, softmax, activations not counted (FlopCounterMode's rule)",
            "attention": attention, "recompute": recompute,
            "backward": "none (--infer: forward only)" if forward_only else "2 x forward" + (
                " (the DSA indexer: none, transformers runs it under no_grad)" if m.has_indexer else ""),
            "lm_head": ("every position (--infer: a forward over every token)" if forward_only else
                        "every position in training, last position in prefill, one per decode step"
                        + ("; the KV-shared layers run on that last position only in a prefill (transformers' "
                           "Gemma4TextModel with logits_to_keep)" if m.kv_shared_layers else "")),
            "embeddings": "0 (lookup)", "mfu_uses": "model FLOPs (no recompute)", "hfu_uses": "hardware FLOPs",
            "decode": "a new token attends to every cached key; a sliding-window layer caches only its window; "
                      "MLA re-expands every cached latent each step (as transformers runs it)",
        },
        "parameters": params,
        "forward": step,
        "training": train,
        "estimates": estimates(m, params, sequence_length, train["model_flops_per_sequence"], tokens,
                               train["passes"]),
    }
    if m.state_layer_count() and m.ssm_kind == "mamba2":  # Bamba: the Mamba-2 convention (mamba2_flops)
        result["conventions"]["linear_attention"] = (
            f"{m.state_layer_count()} Mamba-2 layers as transformers' PyTorch path runs them: in_proj / out_proj, "
            f"causal conv1d, the chunked scan's bmm over {m.mamba_chunk_size}-token chunks (prefill) or one state "
            "read (decode); the discretization, decays, D skip, gated norm and the decode step's elementwise state "
            "update not counted (not matmuls)")
    if m.linear_layer_count() and m.ssm_kind == "mamba1":  # Jamba: the Mamba-1 convention (mamba1_flops)
        result["conventions"]["linear_attention"] = (
            f"{m.linear_layer_count()} Mamba-1 layers as transformers' PyTorch path runs them: in_proj, x_proj, "
            "dt_proj, out_proj, causal conv1d and the selective scan's read-out C·h (one bmm a token, 2·b·s·d·N); "
            "the discretization, the recurrence's elementwise update, D skip, gate and dt/B/C norms not counted "
            "(not matmuls)")
    if m.short_conv:  # LFM2: the short-convolution convention (short_conv_flops)
        result["conventions"]["linear_attention"] = (
            f"{m.linear_layer_count()} short-convolution layers as transformers' PyTorch path runs them: in_proj, "
            "out_proj and the depthwise causal conv1d (its padded columns included); B*x and C*y not counted")
    elif m.linear_layer_count() and not m.ssm_kind:  # Qwen3-Next: the delta-net convention
        result["conventions"]["linear_attention"] = (
            f"{m.linear_layer_count()} gated delta-net layers as transformers' PyTorch path runs them: projections, "
            "causal conv1d, the chunked delta rule over 64-token chunks (prefill); triangular solves and the "
            "decode step's elementwise state update not counted (not matmuls)")
    spec = None
    if gpu is not None or peak_tflops is not None or bandwidth is not None:
        spec = hardware_spec(gpu, dtype, peak_tflops, bandwidth)
        result["hardware"] = spec
    key = {"detailed": "detailed", "6nd": "6nd_total", "6nd-active": "6nd_active", "palm": "palm"}[flops_basis]
    # recompute scales any basis by the detailed count's hardware / model ratio
    ratio = train["hardware_flops_per_sequence"] / train["model_flops_per_sequence"]
    if tokens_per_second is None and step_time is not None:
        tokens_per_second = batch_size * sequence_length / step_time
    if tokens_per_second is not None:
        if not (spec and spec["peak_flops"]):
            raise InputError("--tokens-per-second / --step-time need --gpu or --peak-tflops")
        per_token = result["estimates"][key]["per_token"]
        hardware_per_token = train["hardware_flops_per_token"] if key == "detailed" else per_token * ratio
        result["measured"] = dict(measured_utilisation(per_token, hardware_per_token, tokens_per_second, num_gpus,
                                                       spec["peak_flops"]), basis=flops_basis, num_gpus=num_gpus)
    if spec and spec["peak_flops"] and tokens is not None:
        model_flops = result["estimates"][key]["total"]
        hardware_flops = (model_flops * train["hardware_flops_per_sequence"]
                          // train["model_flops_per_sequence"])
        if "measured" in result:
            # a measured throughput drives the time: tokens / (tokens per second); the MFU is the one it implies
            measured = result["measured"]
            seconds = (tokens * step_time / (batch_size * sequence_length) if step_time is not None
                       else tokens / tokens_per_second)
            timing = dict(flops=model_flops, utilisation=measured["mfu"],
                          **_wall_clock(seconds, num_gpus, cost_per_gpu_hour))
            timing.update({"from": "measured", "mfu": measured["mfu"], "hfu": measured["hfu"],
                           "tokens_per_second": tokens_per_second})
        elif hfu is not None:
            timing = training_time(hardware_flops, num_gpus, spec["peak_flops"], hfu, cost_per_gpu_hour)
            timing.update({"from": "assumed_hfu", "mfu": hfu / ratio, "hfu": hfu})
        else:
            timing = training_time(model_flops, num_gpus, spec["peak_flops"], mfu, cost_per_gpu_hour)
            timing.update({"from": "assumed_mfu", "mfu": mfu, "hfu": mfu * ratio})
        timing.update(basis=flops_basis, model_flops=model_flops, hardware_flops=hardware_flops)
        result["time"] = timing
    if prompt_length is not None or generate is not None:
        result["inference"] = inference(m, params, prompt_length or sequence_length, generate or 0, batch_size,
                                        attention, DTYPE_BYTES[dtype], spec)
    return result


# ----------------------------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------------------------


def human(value, unit: str = "", scale=None) -> str:
    """Counts below 10^12 (or below ``scale``, so a table's rows share one style) in full with thousands
    separators; larger ones as 1.2345e+21 (the JSON keeps them exact)."""
    if isinstance(value, int) and (value == 0 or abs(scale if scale is not None else value) < 10**12):
        return f"{value:,}{unit}"
    if isinstance(value, float) and abs(value) < 1e6:
        return f"{value:,.4g}{unit}"
    return f"{float(value):.4e}{unit}"


def _short(value: float, decimals: int) -> str:
    """Fixed decimals for everyday magnitudes, scientific beyond a billion."""
    return f"{value:,.{decimals}f}" if value < 1e9 else f"{value:.4e}"


def _rows(result: dict) -> list:
    """(section, label, value, note) rows shared by text and markdown."""
    rows = []
    model, train, step = result["config"], result["training"], result["forward"]
    total = step["total"]
    b, s = train["batch_size"], train["sequence_length"]
    section = f"forward FLOPs, one step ({b} x {s} tokens)"
    for name in COMPONENTS:
        value = step["components"][name]
        if value or name in ("embeddings", "lm_head"):
            rows.append((section, name, human(value, scale=total), f"{100 * value / total:.2f}%" if total else ""))
    rows.append((section, "forward total", human(total), "100.00%"))
    passes = train["passes"]
    section = "training" if passes == 3 else "forward only (--infer: no backward pass, logits at every position)"
    label = f"{passes} x fwd" + (", indexer fwd once" if model["index_n_heads"] and passes == 3 else "")
    rows += [(section, f"model FLOPs per token ({label})", human(train["model_flops_per_token"]), ""),
             (section, "model FLOPs per sequence", human(train["model_flops_per_sequence"]), ""),
             (section, "model FLOPs per step", human(train["model_flops_per_step"]), ""),
             (section, f"recompute ({result['conventions']['recompute']}) per sequence",
              human(train["recompute_flops_per_sequence"]), ""),
             (section, "hardware FLOPs per step", human(train["hardware_flops_per_step"]), "")]
    if "tokens" in train:
        rows += [(section, "tokens", human(train["tokens"]), f"{train['steps']:,.6g} steps"),
                 (section, "model FLOPs, total", human(train["model_flops"]), ""),
                 (section, "hardware FLOPs, total", human(train["hardware_flops"]), "")]
    section = f"estimates ({'training' if passes == 3 else 'forward'} FLOPs per token)"
    n, lhqt = ("6N", "12LHQT") if passes == 3 else ("2N", "4LHQT")
    labels = {"detailed": "this count (detailed)", "6nd_total": f"{n}, N total", "6nd_non_embedding":
              f"{n}, N non-embedding", "6nd_active": f"{n}, N active (MoE)", "palm": f"PaLM {n} + {lhqt}",
              "chinchilla_app_f": "Chinchilla App. F", "chinchilla_app_f_no_embedding_logits":
              "Chinchilla App. F w/o emb+logits"}
    for key, entry in result["estimates"].items():
        if key == "6nd_active" and not model["num_experts"]:
            continue
        note = f"detailed / this = {entry['detailed_ratio']:.4f}"
        if "total" in entry:
            note += f"; total {human(entry['total'])}"
        rows.append((section, labels[key], human(entry["per_token"]), note))
    if "hardware" in result:
        hw = result["hardware"]
        section = "hardware"
        rows.append((section, "device", str(hw["gpu"] or "custom"), hw["source"]))
        if hw["peak_flops"]:
            rows.append((section, f"peak ({hw['dtype']}, dense)", human(hw["peak_flops"] / 1e12, " TFLOP/s"), ""))
        if hw["bandwidth_bytes_per_s"]:
            rows.append((section, "memory bandwidth", human(hw["bandwidth_bytes_per_s"] / 1e9, " GB/s"), ""))
    if "time" in result:
        t = result["time"]
        if t["from"] == "measured":
            section = (f"time ({t['basis']} count, {t['num_gpus']:,} GPU{'s' if t['num_gpus'] != 1 else ''} at the measured {human(t['tokens_per_second'])}"
                       f" tokens/s = {100 * t['mfu']:.1f}% MFU = {100 * t['hfu']:.1f}% HFU)")
        else:
            section = (f"time ({t['basis']} count, {t['num_gpus']:,} GPU{'s' if t['num_gpus'] != 1 else ''} at an assumed {100 * t['mfu']:.1f}% MFU = "
                       f"{100 * t['hfu']:.1f}% HFU)")
        rows += [(section, "wall clock", f"{_short(t['days'], 2)} days", f"{_short(t['seconds'] / 3600, 1)} h"),
                 (section, "GPU-hours", _short(t["gpu_hours"], 0), "")]
        if "cost" in t:
            rows.append((section, "cost", _short(t["cost"], 0), "at the given price per GPU-hour"))
    if "measured" in result:
        m = result["measured"]
        section = "measured utilisation"
        rows += [(section, "tokens per second", human(m["tokens_per_second"]), "global"),
                 (section, "model TFLOP/s per GPU", human(m["model_flops_per_s_per_gpu"] / 1e12), ""),
                 (section, "MFU", f"{100 * m['mfu']:.2f}%", f"model FLOPs ({m['basis']} count) / peak"),
                 (section, "HFU", f"{100 * m['hfu']:.2f}%", "hardware FLOPs (with recompute) / peak")]
    if "inference" in result:
        inf = result["inference"]
        section = f"inference (batch {inf['batch_size']}, prompt {inf['prompt_length']}, generate {inf['generate']})"
        rows += [(section, "prefill FLOPs", human(inf["prefill_flops"]), "logits for the last position"),
                 (section, "decode FLOPs per token, first", human(inf["decode_flops_per_token_first"]),
                  f"context {inf['prompt_length']}"),
                 (section, "decode FLOPs per token, last", human(inf["decode_flops_per_token_last"]), ""),
                 (section, "total FLOPs", human(inf["total_flops"]), f"{inf['decode_steps']} decode steps"),
                 (section, "KV cache per token", human(inf["kv_cache_bytes_per_token"], " B"), ""),
                 (section, "KV cache at end", human(inf["kv_cache_bytes_at_end"] / 2**30, " GiB"),
                  f"{inf['prompt_length'] + inf['decode_steps']} tokens x batch")]
        roof = inf["roofline"]
        rows += [(section, "prefill intensity", f"{roof['prefill_intensity']:,.1f} FLOP/B", ""),
                 (section, "decode intensity", f"{roof['decode_intensity']:,.2f} FLOP/B", "last step")]
        if "ridge_intensity" in roof:
            rows += [(section, "ridge point", f"{roof['ridge_intensity']:,.1f} FLOP/B", "peak / bandwidth"),
                     (section, "prefill time (lower bound)", f"{1e3 * roof['prefill_seconds']:,.3f} ms",
                      f"{roof['prefill_bound']}-bound"),
                     (section, "last decode step (lower bound)", f"{1e3 * roof['decode_step_seconds']:,.3f} ms",
                      f"{roof['decode_bound']}-bound; {roof['decode_tokens_per_second']:,.1f} tokens/s")]
    return rows


def _config_line(result: dict) -> str:
    m, shape = result["config"], result["derived"]
    parts = [f"L={m['num_layers']}", f"h={m['hidden_size']}", f"a={m['num_attention_heads']}",
             f"kv={shape['kv_heads']}", f"d={shape['qk_head_dim']}", f"f={m['ffn_hidden_size']}",
             f"V={shape['vocab']}", "gated" if shape["mlp_linears"] == 3 else "plain MLP"]
    if shape["token_width"] != m["hidden_size"]:
        parts.append(f"token table e={shape['token_width']} with project_in/out")
    if m["num_experts"]:
        parts.append(f"MoE E={m['num_experts']} top{m['top_k']} f_e={shape['expert_width']} "
                     f"in {shape['moe_layers']} layers")
        if shape["shared_width"]:
            parts.append(f"shared f={shape['shared_width']}")
    if m["kv_lora_rank"]:
        parts.append(f"MLA r_q={m['q_lora_rank']} r_kv={m['kv_lora_rank']} rope={m['qk_rope_head_dim']}")
    if shape["sliding_layers"]:
        span = "chunks of" if m.get("attention_chunked") else "window"  # Llama 4's chunked RoPE layers
        parts.append(f"{span} {m['sliding_window']} on {shape['sliding_layers']} layers")
    if m.get("sliding_head_dim"):  # Gemma 4: the sliding layers' own heads (kv / d above are the full layers')
        parts.append(f"sliding layers kv={m['sliding_kv_heads'] or shape['kv_heads']} d={m['sliding_head_dim']}"
                     + (", full layers K=V" if m.get("full_k_eq_v") else ""))
    if m.get("kv_shared_layers"):
        parts.append(f"last {m['kv_shared_layers']} layers share K/V")
    if m.get("per_layer_input_size"):
        parts.append(f"per-layer inputs p={m['per_layer_input_size']}")
    if m.get("moe_beside_mlp"):
        parts.append("experts beside the dense MLP")
    p = result["parameters"]
    return (f"model: {m['name']}  ({', '.join(parts)})\n"
            f"parameters: {p['total']:,} total, {p['non_embedding']:,} non-embedding, {p['active']:,} active"
            + (f"\nsource: {m['source']}" if m["source"] else ""))


def _conventions_line(result: dict) -> str:
    c = result["conventions"]
    attention = {"full": "full (every query x every key: what eager attention executes and FlopCounterMode counts)",
                 "causal": "causal (only unmasked query-key pairs; sliding windows applied)"}[c["attention"]]
    return (f"conventions: FLOP = {c['flop']}; attention {attention}; backward = {c['backward']}; "
            f"recompute {c['recompute']}; LM head on {c['lm_head']}; embeddings {c['embeddings']}; "
            f"MFU uses {c['mfu_uses']}, HFU {c['hfu_uses']}"
            + (f"; {c['linear_attention']}" if "linear_attention" in c else ""))


def render_text(result: dict) -> str:
    lines = [_config_line(result), _conventions_line(result), ""]
    rows = _rows(result)
    width_label = max(len(r[1]) for r in rows)
    width_value = max(len(r[2]) for r in rows)
    current = None
    for section, label, value, note in rows:
        if section != current:
            if current is not None:
                lines.append("")
            lines.append(section)
            current = section
        lines.append(f"  {label:<{width_label}}  {value:>{width_value}}  {note}".rstrip())
    return "\n".join(lines) + "\n"


def render_markdown(result: dict) -> str:
    lines = [_config_line(result).replace("\n", "  \n"), "", _conventions_line(result)]
    current = None
    for section, label, value, note in _rows(result):
        if section != current:
            lines += ["", f"**{section}**", "", "| quantity | value | note |", "|---|---:|---|"]
            current = section
        lines.append(f"| {label} | {value} | {note.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def render_json(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=False) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------------------------------------------


class _HelpFormatter(argparse.HelpFormatter):
    """Help at $COLUMNS (else 100) columns: a fixed width spares argparse asking the terminal for its size on
    every add_argument (it builds a formatter for each)."""

    def __init__(self, prog, **kwargs):
        columns = os.environ.get("COLUMNS", "")
        kwargs.setdefault("width", (int(columns) if columns.isdigit() else 100) - 2)
        super().__init__(prog, **kwargs)


def build_parser() -> OneLineParser:
    p = OneLineParser(prog=PROG, formatter_class=_HelpFormatter,
                      description="Training and inference FLOPs per matmul, 6ND/PaLM/Chinchilla side by side, MFU, "
                      "time, cost and roofline. Counts accept 7B, 1.4T, 300e9, 32k (32,000), 32Ki (32,768), 1_000.",
                      epilog="Examples: --preset gpt2 -s 1024 | --preset llama-3-8b --tokens 15T --gpu h100-sxm "
                      "--num-gpus 1024 --cost-per-gpu-hour 2.5 | --preset mixtral-8x7b --prompt-length 4k "
                      "--generate 512 --gpu h100-sxm")
    add_model_arguments(p)  # the block's model flags: one spelling, one meaning, one default in every script
    w = p.add_argument_group("workload and conventions")
    w.add_argument("-s", "--sequence-length", help="training sequence length (default: the length a preset was "
                   f"pre-trained at, else {DEFAULT_SEQUENCE_LENGTH}); also the rows of a learned position table "
                   "that no flag or config sizes")
    w.add_argument("-b", "--batch-size", help="sequences per step, or served together in inference (default 1)")
    w.add_argument("--tokens", help="training tokens D, e.g. 15T")
    w.add_argument("--attention-flops", choices=["full", "causal"],
                   help="the FLOP-counting convention of attention: full, every query x key (PyTorch's count, PaLM, "
                   "nanoGPT; default); causal, only the unmasked pairs")
    w.add_argument("--recompute", choices=["none", "selective", "full"], help="training: activation recompute "
                   "(default none)")
    w.add_argument("--no-checkpoint-activations", "-ca", dest="no_checkpoint_activations", action="store_true",
                   default=None, help="the cookbook flops script's flag: no activation recompute, i.e. --recompute "
                   "none (this script's default; the cookbook's default was a full recompute)")
    w.add_argument("--infer", "-i", dest="infer", action="store_true", default=None,
                   help="the cookbook's forward-only workload: one forward pass over each token (logits at every "
                   "position), no backward; with --tokens, over D tokens (serving: --prompt-length/--generate)")
    w.add_argument("--prompt-length", help="inference: prompt tokens (prefill); makes this an inference run")
    w.add_argument("--generate", help="inference: new tokens to generate; makes this an inference run")
    h = p.add_argument_group("hardware, time and cost")
    h.add_argument("--gpu", help="accelerator from the table (see --list-gpus)")
    h.add_argument("--list-gpus", action="store_true", help="list the accelerator table and exit")
    h.add_argument("--dtype", choices=list(DTYPE_BYTES), help="which peak of --gpu to use, and bytes per value "
                   "in inference (default bf16)")
    h.add_argument("--peak-tflops", help="override: dense peak TFLOP/s per GPU")
    h.add_argument("--bandwidth", help="inference roofline: memory bandwidth, e.g. 3.35TB/s or 3350GB/s "
                   "(overrides --gpu's)")
    h.add_argument("--num-gpus", help="GPUs in the training job (default 1)")
    h.add_argument("--mfu", help=f"assumed model FLOPs utilisation for the time estimate: 0.45, 45%% or 140/312 "
                   f"(default {DEFAULT_MFU}; not with a measured throughput)")
    h.add_argument("--hfu", help="or: assumed hardware FLOPs utilisation (recompute counted): 0.45, 45%% or 140/312")
    h.add_argument("--cost-per-gpu-hour", help="price of one GPU-hour (with --tokens)")
    h.add_argument("--flops-basis", choices=["detailed", "6nd", "6nd-active", "palm"],
                   help="which count the time and MFU use (default detailed)")
    h.add_argument("--tokens-per-second", help="measured global throughput (all GPUs) -> MFU and HFU, and with "
                   "--tokens the training time")
    h.add_argument("--step-time", help="measured seconds per step of -b sequences of -s tokens -> MFU and HFU, and "
                   "with --tokens the training time")
    o = p.add_argument_group("output")
    o.add_argument("--format", choices=["text", "markdown", "json"], help="default text")
    o.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    return p


def _positive_float(text, flag: str, lower: float = 1e-9, upper=None) -> float:
    """A float in [lower, upper]; the floor keeps quotients (time, MFU) finite for any hostile input."""
    value = float(parse_number(text, flag))
    if value < lower or (upper is not None and value > upper):
        raise InputError(f"{flag} {text!r}: expected a number in [{lower:g}, {upper:g}]" if upper else
                         f"{flag} {text!r}: expected a positive number (at least {lower:g})")
    return value


def parse_utilisation(text, flag: str) -> float:
    """An MFU or HFU as a fraction (0.45), a percent (45%) or a ratio of two rates (140/312: achieved TFLOP/s
    over peak, as Narayanan et al. 2021 report it) -> a float in [0.0001, 1]."""
    raw = str(text).strip()
    try:
        if raw.endswith("%"):
            value = float(parse_number(raw[:-1], flag)) / 100
        elif raw.count("/") == 1:
            achieved, peak = raw.split("/")
            value = float(parse_number(achieved, flag)) / float(parse_number(peak, flag, allow_zero=False))
        else:
            value = float(parse_number(raw, flag))
    except InputError:
        raise InputError(f"{flag} {text!r}: expected a utilisation such as 0.45, 45% or 140/312") from None
    if not 1e-4 <= value <= 1:
        raise InputError(f"{flag} {text!r} is {100 * value:g}%: a utilisation is between 0.01% and 100% (0.45, 45% "
                         "or 140/312)")
    return value


# Flags only a training run reads (the time, cost and MFU side); an inference run (--prompt-length/--generate)
# refuses them rather than print a result they did not change.
TRAINING_ONLY = ("tokens", "recompute", "no_checkpoint_activations", "num_gpus", "mfu", "hfu", "cost_per_gpu_hour",
                 "flops_basis", "tokens_per_second", "step_time")


def _typed(argv: list, parser, dest: str) -> str:
    """The spelling the user typed for the flag stored in ``dest`` (-b or --batch-size, --json or --format)."""
    spellings = [o for a in parser._actions if a.dest == dest for o in a.option_strings]
    for token in argv:
        if token.split("=", 1)[0] in spellings:
            return token.split("=", 1)[0]
    return max(spellings, key=len)


def check_flags_the_run_reads(args, argv: list, parser) -> None:
    """Refuse a flag the chosen run does not read, naming it and the run, rather than ignore it.

    A listing (--list-presets, --list-gpus) reads no other flag. An inference run (--prompt-length or --generate)
    reads the model, -s (the forward and training tables, and the prompt length when --prompt-length is absent),
    -b, --attention-flops, --gpu, --dtype, --peak-tflops and --bandwidth; not the training flags (TRAINING_ONLY).
    A training run reads no --bandwidth, reads --dtype only to pick --gpu's peak, and reads the time flags only
    when there is a time to estimate: --mfu, --hfu and --cost-per-gpu-hour need --tokens and a peak (and --mfu and
    --hfu no measured throughput), --flops-basis and --num-gpus need that time or a measured throughput.
    """
    flag = lambda dest: _typed(argv, parser, dest)  # noqa: E731 (a name the messages read well with)
    given = lambda dest: getattr(args, dest) is not None  # noqa: E731
    if args.list_presets or args.list_gpus:
        listing = "--list-presets" if args.list_presets else "--list-gpus"
        for token in argv:
            option = token.split("=", 1)[0]
            if option in parser._option_string_actions and option != listing:
                raise InputError(f"{listing} prints a table and reads no other flag ({option} given)")
        return
    inference = next((flag(d) for d in ("prompt_length", "generate") if given(d)), None)
    if inference is not None and given("infer"):
        raise InputError(f"{flag('infer')} is the cookbook's forward pass over every token (with --tokens, over D "
                         f"tokens); {inference} is a serving run (prefill and decode): give one")
    if given("no_checkpoint_activations") and args.recompute not in (None, "none"):
        raise InputError(f"{flag('no_checkpoint_activations')} turns activation recompute off and --recompute "
                         f"{args.recompute} turns it on: give one")
    if inference is not None:
        for dest in TRAINING_ONLY:
            if given(dest):
                raise InputError(f"{flag(dest)} is a training flag, not read by an inference run ({inference} "
                                 "given): run training and inference as two commands")
        return
    if given("bandwidth"):
        raise InputError(f"{flag('bandwidth')} is read only by the inference roofline (--prompt-length/--generate); "
                         "a training run's time comes from the peak")
    if given("dtype") and not given("gpu"):
        raise InputError(f"{flag('dtype')} picks the peak of --gpu in a training run (and the bytes per value in "
                         "inference); without --gpu it changes nothing")
    if given("tokens_per_second") and given("step_time"):
        raise InputError("--tokens-per-second and --step-time: give one measured throughput, not both")
    if given("mfu") and given("hfu"):
        raise InputError("--mfu and --hfu: give one utilisation, not both")
    measured = next((flag(d) for d in ("tokens_per_second", "step_time") if given(d)), None)
    peak = given("gpu") or given("peak_tflops")
    if measured is not None and not peak:
        raise InputError(f"{measured} gives MFU and HFU against a peak: add --gpu or --peak-tflops")
    for dest in ("mfu", "hfu"):
        if given(dest) and measured is not None:
            raise InputError(f"{flag(dest)}: an assumed utilisation is not used when {measured} measures one (the "
                             "time is --tokens over the measured throughput, and the MFU shown is the one it implies)")
    timed = given("tokens") and peak
    for dest in ("mfu", "hfu", "cost_per_gpu_hour", "flops_basis", "num_gpus"):
        if not given(dest) or timed or (measured is not None and dest in ("flops_basis", "num_gpus")):
            continue
        if not given("tokens"):
            needs = "--tokens" if dest in ("mfu", "hfu", "cost_per_gpu_hour") else \
                "--tokens (a time estimate) or --tokens-per-second/--step-time (a measured MFU)"
            raise InputError(f"{flag(dest)} is not read by this training run: it needs {needs}")
        raise InputError(f"{flag(dest)} is not read by this training run: the time estimate needs --gpu or "
                         "--peak-tflops")


def check_utilisation(result: dict, args, argv: list, parser) -> None:
    """An MFU or HFU above 100% is impossible: it means a missing or wrong flag, said rather than printed."""
    flag = lambda dest: _typed(argv, parser, dest)  # noqa: E731
    if "measured" in result:
        m, hw = result["measured"], result["hardware"]
        which = "MFU" if m["mfu"] > 1 else "HFU"
        value = m["mfu"] if m["mfu"] > 1 else m["hfu"]
        if value <= 1:
            return
        source = flag("tokens_per_second") if args.tokens_per_second is not None else flag("step_time")
        typed = args.tokens_per_second if args.tokens_per_second is not None else args.step_time
        gpus = m["num_gpus"]
        if args.num_gpus is None:
            hint = ("is --num-gpus missing? (" + ("the throughput is that of all GPUs together)"
                    if args.tokens_per_second is not None else "a step is -b sequences across all GPUs)"))
        elif which == "HFU":
            hint = "check --recompute (HFU counts the recomputed forward) and the peak (--gpu, --dtype, --peak-tflops)"
        else:
            hint = f"check {source}, --num-gpus and the peak (--gpu, --dtype, --peak-tflops)"
        raise InputError(f"{source} {typed} implies an {which} of {100 * value:,.1f}% on {gpus:,} GPU(s) of "
                         f"{hw['peak_flops'] / 1e12:g} TFLOP/s: above 100% is impossible; {hint}")
    if "time" in result and result["time"]["hfu"] > 1:  # an assumed MFU with recompute
        t = result["time"]
        mfu = f"{flag('mfu')} {args.mfu}" if args.mfu is not None else f"the default MFU {DEFAULT_MFU}"
        raise InputError(f"{mfu} with {flag('recompute')} {args.recompute} implies an HFU of {100 * t['hfu']:.1f}%, "
                         "above 100%: lower the MFU, or give --hfu")


def model_from_args(args, sequence_length: int | None, warn) -> Model:
    """The Model to count: the block's model_from_arguments (a preset or config.json, then each flag replaces the
    field it names; a model from flags alone is the cookbook's), its notes passed to ``warn``; then what this
    script does not model is refused."""
    model, notes = model_from_arguments(args, sequence_length=sequence_length)
    for note in notes:  # printed on success: assumed defaults, fields not read, --generic
        warn(f"{PROG}: note: {note}")
    if model.model_type not in SUPPORTED_MODEL_TYPES and args.config is not None:  # --generic (else refused)
        model = replace(model, source=model.source + " (--generic: read as a dense Llama-style decoder)")
    if model.mtp_layers:  # count_model would count them; no forward here runs them (transformers builds none)
        where = "--mtp-layers" if args.mtp_layers is not None else model.source
        raise InputError(f"{where}: multi-token-prediction modules are not modelled by {PROG} (transformers "
                         "builds none; calc_transformer_params.py counts their parameters)")
    return model


def cookbook_notes(args, model: Model, serving: bool, warn) -> None:
    """A model from flags alone is a cookbook command line: where the cookbook's flops script would have assumed
    something this script does not, say so (the block's notes say the shape it assumed)."""
    if args.preset is not None or args.config is not None:
        return
    if model.num_experts and args.expert_interval is None:
        warn(f"{PROG}: note: --expert-interval not given: every layer is MoE (-ei 1, the cookbook params script's "
             "default); the cookbook flops script's default was -ei 2 (every other layer): give -ei 2 for its model")
    if args.tokens is None and not serving:
        warn(f"{PROG}: note: no --tokens: FLOPs per token, per sequence and per step only; the cookbook flops "
             "script's total assumed --tokens 300e9: give --tokens 300e9 for that total")


def list_presets() -> str:
    """The block's preset table: name, the default -s (the length it was pre-trained at, where known), source."""
    width = max(map(len, MODEL_PRESETS))
    return "".join(f"{name:<{width}}  -s {preset_sequence_length(name, DEFAULT_SEQUENCE_LENGTH):<6}  "
                   f"{spec['source']}\n" for name, spec in MODEL_PRESETS.items())


def list_gpus() -> str:
    lines = [f"{'gpu':<10} {'fp32':>7} {'tf32':>7} {'bf16':>7} {'fp16':>7} {'fp8':>7} {'GB/s':>6}  "
             "source (dense TFLOP/s)"]
    for name, row in GPUS.items():
        cells = [f"{row[t]:>7g}" if row[t] is not None else f"{'-':>7}" for t in DTYPE_BYTES]
        lines.append(f"{name:<10} {' '.join(cells)} {row['bandwidth']:>6}  {row['source']}")
    return "\n".join(lines) + "\n"


def run(argv=None, warnings=None) -> str:
    """Parse argv, compute, and return the rendered output (raises InputError on bad input).

    The block's notes (config.json fields not read, a nested text_config, --generic, defaults a model from flags
    assumed) are appended to ``warnings`` for the caller to print on stderr on success.
    """
    warnings = [] if warnings is None else warnings
    warn = warnings.append
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_presets or args.list_gpus:
        check_flags_the_run_reads(args, argv, parser)
        return list_presets() if args.list_presets else list_gpus()
    if args.sequence_length is not None:
        seq = parse_count(args.sequence_length, "--sequence-length", limit=MAX_SIZE)
    else:  # a run setting: the length the preset's model was pre-trained at, where its table entry says
        seq = preset_sequence_length(args.preset, DEFAULT_SEQUENCE_LENGTH) if args.preset is not None \
            else DEFAULT_SEQUENCE_LENGTH
    batch = parse_count(args.batch_size, "--batch-size", limit=MAX_SIZE) if args.batch_size is not None else 1
    tokens = parse_count(args.tokens, "--tokens") if args.tokens is not None else None
    num_gpus = parse_count(args.num_gpus, "--num-gpus", limit=MAX_SIZE) if args.num_gpus is not None else 1
    mfu = parse_utilisation(args.mfu, "--mfu") if args.mfu is not None else DEFAULT_MFU
    hfu = parse_utilisation(args.hfu, "--hfu") if args.hfu is not None else None
    peak = _positive_float(args.peak_tflops, "--peak-tflops") if args.peak_tflops is not None else None
    bandwidth = parse_bandwidth(args.bandwidth) if args.bandwidth is not None else None
    cost = float(parse_number(args.cost_per_gpu_hour, "--cost-per-gpu-hour")) \
        if args.cost_per_gpu_hour is not None else None
    tps = _positive_float(args.tokens_per_second, "--tokens-per-second") \
        if args.tokens_per_second is not None else None
    step_time = _positive_float(args.step_time, "--step-time") if args.step_time is not None else None
    prompt = parse_count(args.prompt_length, "--prompt-length", limit=MAX_SIZE) \
        if args.prompt_length is not None else None
    generate = parse_count(args.generate, "--generate", allow_zero=True, limit=MAX_SIZE) \
        if args.generate is not None else None
    check_flags_the_run_reads(args, argv, parser)  # every value is well formed: now, is each flag read?
    # only a typed -s sizes a learned table that has no rows (as in the other scripts); the default length does not
    model = model_from_args(args, seq if args.sequence_length is not None else None, warn)
    cookbook_notes(args, model, prompt is not None or generate is not None, warn)
    result = analyse(model, seq, batch, tokens, args.attention_flops or "full", args.recompute or "none",
                     args.dtype or "bf16", args.gpu, num_gpus, mfu, peak, bandwidth, cost,
                     args.flops_basis or "detailed", tps, step_time, prompt, generate, hfu, bool(args.infer))
    check_utilisation(result, args, argv, parser)
    return {"text": render_text, "markdown": render_markdown, "json": render_json}[args.format or "text"](result)


def main(argv=None) -> int:
    warnings = []
    try:
        output = run(argv, warnings)
    except InputError as exc:
        sys.stderr.write(f"{PROG}: error: {' '.join(str(exc).split())}\n")
        return 2
    for message in warnings:
        sys.stderr.write(message + "\n")
    try:
        sys.stdout.write(output)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head: not an error of ours, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    run_cli(main)
