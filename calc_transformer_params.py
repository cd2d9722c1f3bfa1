#!/usr/bin/env python3
"""Exact parameter counts for decoder-only transformers, per component and per layer type.

What it computes
----------------
For one model configuration (flags, a built-in ``--preset`` or a Hugging Face ``config.json``) it counts every
weight and bias the model holds, to the unit, and says where each lives:

* total parameters (tied weights once, as ``sum(p.numel() for p in model.parameters())`` counts them);
* embedding parameters (input token table, learned position table, LM head) and non-embedding parameters, i.e.
  Kaplan et al. 2020's N ("excluding all vocabulary and positional embeddings", section 1.1);
* a per-component breakdown (embedding, positions, embedding projections, attention, MLP, routed experts, shared
  experts, router, norms, LM head) and a per-layer-type breakdown (dense layers vs MoE layers);
* for MoE models the **active** parameters per token, with the convention stated: every parameter except the
  routed experts, plus top_k/E of the routed experts (Mixtral paper, abstract: "13B active parameters");
* checkpoint size at ``--dtype`` in bytes, GB (10^9) and GiB (2^30).

The model is the shared model block's ``Model`` (the block between the cog markers below, carried byte for byte by
every calc_*.py script), and the count is the sum of the block's tensor list (``count_model``): each tensor has a
PyTorch shape and a role, and the roles are this report's components. ``--config`` goes through the block's one
reader (``model_from_config``): a ``model_type`` it does not model, or an unread field whose name says it may change
a count (experts, layers, heads, norms, ...), ends with exit status 2 and one line naming it, never a number;
``--generic`` reads an unknown model type as a dense Llama-style decoder and the first note says so.

What the tensor list counts
---------------------------
h hidden size, a query heads, k key/value heads, d head dim, f FFN width, V vocab (padded), L layers.

* attention: q h*a*d, k and v h*k*d each, out a*d*h; biases a*d + 2*k*d on q/k/v, h on the output, each
  switchable (GPT-2 has all; Qwen2 q/k/v only; Llama none).
* MLA (DeepSeek-V2 paper, section 2.1; transformers ``DeepseekV3Attention``): q path h*r_q + norm(r_q) +
  r_q*a*(d_nope+d_rope) with a q-LoRA, else h*a*(d_nope+d_rope); kv path h*(r_kv+d_rope) + norm(r_kv) +
  r_kv*a*(d_nope+d_v); output a*d_v*h.
* Transformer-XL relative positions (Gopher/Chinchilla; Dai et al. 2019 section 3.3): a projection h*a*d for the
  relative keys and two per-head bias vectors u, v (2*a*d) per layer.
* MLP: plain 2*h*f (+ f + h biases) or gated 3*h*f (SwiGLU/GeGLU; + 2f + h biases).
* MoE layer: E routed experts of width f_moe (no biases), n shared experts as one MLP of width n*f_shared (as
  DeepSeek builds them), a router h*E (+E bias), Qwen-MoE's shared-expert gate h*1. Which layers are MoE:
  layer i (0-based) when i >= first_k_dense, i is not listed in dense_layers and (i + phase) % interval == 0
  (phase 1: Qwen ``decoder_sparse_step``, cookbook ``--expert-interval``; phase 0: DeepSeek ``moe_layer_freq``).
* norms: LayerNorm 2*w (w without bias), RMSNorm w, non-parametric 0; norms_per_layer of width h (2 pre-norm,
  1 for a parallel block sharing one norm, 4 for Gemma-2's sandwich), an optional final norm, q/k norms
  (per head of width d, or over the whole projection as OLMo-2 does) and an embedding LayerNorm (BLOOM).
* embeddings: V*h input (V*p with OPT's word_embed_proj_dim p, plus project_in/out 2*h*p), learned positions
  (n_pos + offset)*h (OPT's offset is 2), LM head V*h unless tied, plus V with an LM-head bias (GPT-J, Phi-2).
* DeepSeek-V3's router score-correction bias (E per MoE layer) is a buffer in transformers, not a parameter:
  it is reported under ``checkpoint_only`` and counted in the checkpoint size, not in the total.
* ``--mtp-layers N`` (off by default, as transformers does not build them) adds DeepSeek-V3's multi-token-prediction
  modules: each one decoder layer + a 2h*h projection + 3 norms; its copies of the embedding and head (2*V*h) are
  checkpoint-only.

Chinchilla Table A9 (Hoffmann et al. 2022): the ``chinchilla-70b`` / ``gopher-280b`` presets count attention at
width n_heads*kv_size (not d_model), Transformer-XL relative attention, biases on every linear, one 32k vocabulary
matrix and no norm gains; with ``-l/-hs/-a/--head-dim/--ffn-hidden-size`` set to a row's shape this reproduces all
50 rows to the printed million (the paper does not state its convention; this is the one that fits every row).

Shape search (``--target-params``): d_model a multiple of 128 up to 65,536, head_dim 64 or 128, d_model/layers in
[32, 160] (every GPT-3 Table 2.1 and Chinchilla Table A9 shape lies inside), FFN at the template's f/h (gated:
rounded up to a multiple of 256, Llama's ``multiple_of``), kv heads at the template's ratio; each width is tried at
the depths nearest the target within its band, and each candidate's count is exact. A target outside the counts
these rules reach (smallest to largest shape) is refused, naming that range.

Stored weights (``--weights PATH|org/name[@revision]``): the shapes and dtypes of the stored tensors, read from the
safetensors headers only (8-byte little-endian length N, N bytes of JSON; never the data): a ``.safetensors``
file, an index ``.json``, a folder holding ``model.safetensors.index.json`` or ``model.safetensors``, or a Hub
repo (the block's ``hub_file``: the local Hugging Face cache first, else HTTP range requests). Each tensor's
``data_offsets`` must span its shape x dtype size, the tensors must be packed from byte 0 without gap or overlap
(and, in a local file, end at its end), and a sharded index must agree with its shards; anything else (a header
length beyond the file or above 100 MB, bad or non-object JSON, a key given twice, an entry without dtype, shape
or offsets, a negative or huge dimension, an unknown dtype, a short range answer, 401/404 from the Hub) is one
line naming ``--weights`` and exit status 2. The stored count goes beside the architecture's (parameters plus
checkpoint-only elements: what ``save_pretrained`` writes, a tied head once), which comes from ``--preset``,
``--config`` or flags, else from the config.json in the folder or repo (flags then replace its fields, e.g.
``--mtp-layers 1``). Each part of the difference that a tensor's name explains is listed: quantization tensors
(``*_scale``, ``weight_scale_inv``, ``qweight``, ``qzeros``, ``scales``, ``g_idx``, bitsandbytes state), vision /
audio towers and projectors, buffers of older checkpoints (``inv_freq``, ``masked_bias``, causal-mask
``attn.bias`` of 3+ dimensions), DeepSeek-V3's MTP modules (layers numbered from num_layers, as many as its
config's ``num_nextn_predict_layers``), Qwen3-Next's and Qwen3.5's MTP layer (``mtp.*``, which transformers drops),
a tied LM head stored as well, an untied one not stored; the rest is
printed as unexplained (other layers beyond the model's included: for any other model they mean the architecture
is not the checkpoint's).

Command line: the model flags are the shared block's (``add_model_arguments``: ``--preset/-p`` case-insensitive,
``--config``, ``--generic``, the cookbook's architecture flags, ``--learned-positions N`` for a learned position
table's rows). This script has no workload, so its ``-s/--sequence-length`` only sizes a learned position table
that has no rows yet (``--position-embedding learned`` from flags alone); given anywhere else it changes nothing
and a note says so.

JSON keys (``--format json``)
-----------------------------
``model``, ``source``, ``config`` (the resolved ``Model``, one key per field of the shared block's dataclass, with
``head_dim`` and ``num_kv_heads`` written out unless MLA, plus ``vocab_size_padded``), ``total``,
``embedding`` {``input``, ``positions``, ``lm_head``, ``total``}, ``non_embedding`` (Kaplan's N), ``components``
{``embedding``, ``positions``, ``embedding_projections``, ``attention``, ``mlp``, ``routed_experts``,
``shared_experts``, ``router``, ``norms``, ``lm_head``, ``mtp``}, ``layer_types`` [{``type`` (dense/moe),
``layers``, ``per_layer`` {component: count}, ``params_per_layer``, ``total``}], ``active`` (MoE only: {``total``,
``routed_experts_active``, ``routed_experts_total``, ``convention``}), ``checkpoint_only`` {name: elements stored
but not parameters}, ``checkpoint`` {``dtype``, ``bits_per_element``, ``elements``, ``bytes``, ``GB``, ``GiB``},
``notes`` [strings]; with ``--weights`` also ``weights`` {``source``, ``format`` (safetensors), ``index`` (the index
file read, or null), ``files``, ``tensors``, ``elements`` (stored), ``bytes`` (tensor data), ``by_dtype`` {dtype:
{``tensors``, ``elements``, ``bytes``}}, ``expected_elements`` (parameters + checkpoint-only), ``difference``
(stored - expected, signed), ``explained`` [{``what``, ``tensors``, ``elements`` (signed)}], ``unexplained``
(signed), ``notes``}. With ``--target-params``: ``target``, ``template``, ``notes``, ``rules`` {``hidden_size_multiple``,
``head_dims``, ``aspect_ratio``, ``ffn``, ``kv_heads``, ``source``}, ``candidates`` [{``num_layers``,
``hidden_size``, ``num_attention_heads``, ``num_kv_heads``, ``head_dim``, ``ffn_hidden_size``, ``aspect_ratio``,
``total``, ``non_embedding``, ``difference`` (absolute), ``above_target``}]. Counts are exact integers.

Examples
--------
    python calc_transformer_params.py --preset llama-3-8b
    python calc_transformer_params.py --preset mixtral-8x7b --format markdown
    python calc_transformer_params.py --config path/to/config.json --dtype fp8 --json
    python calc_transformer_params.py --config path/to/new-model --generic   # unknown model_type, read as a Llama
    python calc_transformer_params.py -l 24 -hs 2048 -a 16 -v 50304 -ff 4 --norm layernorm --bias
    python calc_transformer_params.py --preset gpt2 --no-bias --norm layernorm-nobias   # nanoGPT bias=False
    python calc_transformer_params.py --preset gpt2 --learned-positions 2048             # a longer position table
    python calc_transformer_params.py --target-params 1.3B --preset llama-2-7b
    python calc_transformer_params.py --weights path/to/checkpoint-folder           # stored vs architecture count
    python calc_transformer_params.py --weights deepseek-ai/DeepSeek-V3 --mtp-layers 1

Sources: Kaplan et al. 2020 (arXiv:2001.08361) section 1.1; Hoffmann et al. 2022 (arXiv:2203.15556) Tables 4 and
A9; Jiang et al. 2024 (Mixtral, arXiv:2401.04088); DeepSeek-AI 2024 (V2 arXiv:2405.04434, V3 arXiv:2412.19437);
model code in huggingface/transformers ``models/<family>/modeling_<family>.py``; each preset cites its config.
"""
# /// script
# requires-python = ">=3.9"
# dependencies = []
# ///
from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import sys
from dataclasses import fields, replace

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

PROG = "calc_transformer_params.py"

# The model description and the presets are the shared block's (Model, MODEL_PRESETS, preset_model).

DTYPE_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp8": 8, "int8": 8, "int4": 4, "fp4": 4}


def model_values(m: Model) -> dict:
    """The Model's fields as a plain dict (shallow: tuples stay tuples), to merge flags into."""
    return {f.name: getattr(m, f.name) for f in fields(m)}


# --------------------------------------------------------------------------------------------------------------
# Counting: the sum of the shared block's tensor list, grouped by role
# --------------------------------------------------------------------------------------------------------------

# The roles a decoder layer's tensors carry (the per-layer-type breakdown lists them in this order).
LAYER_ROLES = ("attention", "mlp", "routed_experts", "shared_experts", "router", "norms")


def layer_role_counts(m: Model, moe: bool, linear: bool = False, sliding: bool = False, mixer: bool = True,
                      shared: bool = False) -> dict:
    """Parameters of one decoder layer (MoE or dense; linear: a gated delta-net mixer; sliding: a sliding layer
    with its own head shape, MiMo-V2-Flash; mixer False: a Nemotron-H MLP / MoE layer without a mixer; shared: a
    Gemma 4 KV-shared layer) by role (embedding_projections: Gemma 4's per-layer input gate and projection); buffers
    are not parameters."""
    per_layer = dict.fromkeys(LAYER_ROLES, 0)
    for tensor in model_layer_tensors(m, moe, linear, sliding, mixer, shared):
        if not tensor.buffer:  # Gemma 4's per-layer input gate / projection: embedding_projections, only there
            per_layer[tensor.role] = per_layer.get(tensor.role, 0) + tensor.numel
    return per_layer


def embedding_params(roles: dict) -> int:
    """Kaplan's embedding parameters: the input token table, a learned position table and the LM head."""
    return roles["embedding"] + roles["positions"] + roles["lm_head"]


def count_parameters(m: Model, dtype: str = "bf16") -> dict:
    """The full report for m (see the module docstring for its keys). Pure: no printing."""
    counts = count_model(m)  # validates m
    roles, total = counts["roles"], counts["total"]
    layer_types = []
    # Qwen3-Next: gated delta-net layers are a kind of their own ("dense/gated-deltanet", "moe/gated-deltanet");
    # MiMo-V2-Flash: so are its sliding layers, with twice the KV heads and sinks ("moe/sliding")
    # Nemotron-H: one block per layer, "mamba2", "attention", "mlp" or "moe"
    # Gemma 4: its KV-shared layers too ("dense/kv-shared", "dense/sliding/kv-shared")
    kinds = {(kind, linear, sliding, mixer, shared): n
             for (moe, linear, sliding, mixer, shared), n in model_layer_kinds(m).items()
             for kind in ("moe" if moe else "dense",)} if m.mixer_types or m.has_sliding_shape or m.kv_shared_layers \
        else {("dense", False, False, True, False): counts["dense_layers"],
              ("moe", False, False, True, False): counts["moe_layers"]}
    for (kind, linear, sliding, mixer, shared), layers in sorted(kinds.items()):
        if layers:
            per_layer = layer_role_counts(m, kind == "moe", linear, sliding, mixer, shared)
            kind += ("/mamba2" if m.ssm_kind == "mamba2" else "/mamba1" if m.ssm_kind == "mamba1"  # Jamba: Mamba-1
                     else "/short-conv" if m.short_conv else "/gated-deltanet") if linear \
                else "/sliding" if sliding else ""
            if m.single_block_layers:
                kind = ("mamba2" if linear else "attention") if mixer else "moe" if kind == "moe" else "mlp"
            kind += "/kv-shared" if shared else ""
            layer_types.append({"type": kind, "layers": layers, "per_layer": per_layer,
                                "params_per_layer": sum(per_layer.values()),
                                "total": layers * sum(per_layer.values())})
    embedding = {"input": roles["embedding"], "positions": roles["positions"], "lm_head": roles["lm_head"],
                 "total": embedding_params(roles)}
    report = {
        "model": m.name, "source": m.source, "config": config_dict(m), "total": total, "embedding": embedding,
        "non_embedding": total - embedding["total"], "components": {role: roles[role] for role in MODEL_ROLES},
        "layer_types": layer_types, "checkpoint_only": {}, "notes": [],
    }
    if counts["moe_layers"]:
        report["active"] = {
            "total": counts["active"], "routed_experts_active": counts["routed_experts_active"],
            "routed_experts_total": roles["routed_experts"],
            "convention": f"every parameter except the routed experts (embeddings and LM head included), plus "
                          f"top_k/E = {m.top_k}/{m.num_experts} of the routed experts"
                          + ("; MTP modules excluded" if m.mtp_layers else ""),
        }
    stored = report["checkpoint_only"]
    stored.update(counts["checkpoint_only"])
    if "router_score_correction_bias" in stored:
        report["notes"].append("router score-correction bias (DeepSeek-V3) is a buffer in transformers, not a "
                               "parameter: in the checkpoint size, not in the total")
    if counts.get("fp32_params"):  # issue 10, branch jamba: ERNIE 4.5's and Hunyuan's routers
        report["fp32_params"], report["frozen_params"] = counts["fp32_params"], counts["frozen_params"]
        report["notes"].append(f"{counts['fp32_params']:,} router parameters are held in fp32 by transformers whatever "
                               "the model dtype" + (f"; {counts['frozen_params']:,} of them frozen (requires_grad="
                                                    "False: no gradient, no optimizer state)"
                                                    if counts["frozen_params"] else ""))
    if m.mtp_layers:
        report["notes"].append("MTP modules share the main embedding and head (DeepSeek-V3 report sec. 2.2); the "
                               "HF checkpoint stores a copy of both per module: in the checkpoint size only")
    if m.num_experts and not counts["moe_layers"]:
        report["notes"].append("experts are configured but the placement rules leave no MoE layer: all dense")
    if m.padded_vocab != m.vocab_size:
        report["notes"].append(f"vocabulary padded from {m.vocab_size} to {m.padded_vocab}")
    report["checkpoint"] = checkpoint_size(total + sum(stored.values()), dtype)
    return report


def checkpoint_size(elements: int, dtype: str) -> dict:
    """Bytes of `elements` stored at `dtype` (weights only: no quantization scales, no file headers)."""
    if dtype not in DTYPE_BITS:
        raise InputError(f"--dtype must be one of {', '.join(DTYPE_BITS)}, got {dtype!r}")
    bits = DTYPE_BITS[dtype]
    size = -(-elements * bits // 8)
    return {"dtype": dtype, "bits_per_element": bits, "elements": elements, "bytes": size,
            "GB": size / 1e9, "GiB": size / 2**30}


def config_dict(m: Model) -> dict:
    """The resolved Model for the JSON output: derived head_dim / kv heads written out (not MLA), padded vocab."""
    out = model_values(m)
    out["dense_layers"], out["layer_types"] = list(m.dense_layers), list(m.layer_types)
    out["vocab_size_padded"] = m.padded_vocab
    if not m.is_mla:
        out["head_dim"], out["num_kv_heads"] = m.d_head, m.kv_heads
    return out


# --------------------------------------------------------------------------------------------------------------
# Stored weights (--weights): the tensors' shapes and dtypes from safetensors headers, never their data
# --------------------------------------------------------------------------------------------------------------
# A safetensors file (huggingface/safetensors, "Format"): 8 bytes little-endian N, N bytes of UTF-8 JSON
# {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data, each tensor's
# bytes at [begin, end) of it, packed in order from 0 with no gap.  Bits per element of each dtype the format names
# (the crate's Dtype enum; F4 and F6 pack below a byte, so a tensor's bits must come out whole bytes).
SAFETENSORS_DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "F8_E8M0": 8,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32,
    "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}
WEIGHTS_MAX_HEADER = 100_000_000  # the safetensors crate's own cap on N (MAX_HEADER_SIZE): beyond it, not a header
WEIGHTS_MAX_OFFSET = 2**63 - 1    # no file is 8 EiB: an offset or a size beyond this is hostile, not a checkpoint
WEIGHTS_MAX_FILES = 10_000        # shards of one checkpoint (DeepSeek-V3 has 163)
WEIGHTS_INDEX = "model.safetensors.index.json"
WEIGHTS_SINGLE = "model.safetensors"

# What a stored tensor that the architecture does not count is, by its name (checked in this order; the first
# that matches names it).  Quantization: FP8 block scales (DeepSeek-V3 weight_scale_inv), compressed-tensors and
# ModelOpt scales and zero points, GPTQ / AWQ packed weights (qweight, qzeros, scales, g_idx), bitsandbytes state.
WEIGHTS_QUANT_NAME = re.compile(
    r"(_scale|_scale_inv|_scale_2|\.scales|\.qweight|\.qzeros|\.g_idx|_zero_point|\.weight_packed|\.weight_shape"
    r"|\.absmax|\.quant_map|\.nested_absmax|\.nested_quant_map|\.quant_state\..*|\.SCB|\.weight_format)$")
# Packed quantized weights hold several parameters per stored element: a checkpoint with them is not countable
WEIGHTS_PACKED_NAME = re.compile(r"(\.qweight|\.weight_packed|\.qzeros)$")
WEIGHTS_TOWER_NAME = re.compile(
    r"(^|\.)(vision_tower|vision_model|vision_encoder|visual|vision|image_encoder|image_newline|audio_tower|"
    r"audio_model|audio_encoder|audio|multi_modal_projector|mm_projector|embed_vision|embed_audio|speech_encoder)"
    r"(\.|$)")
# Buffers older checkpoints carry: rotary inv_freq, GPT-2 / GPT-J / GPT-NeoX causal-mask tables (attn.bias of 4
# dimensions, not a linear's 1-D bias) and masked_bias
# Buffers older checkpoints store: rotary inv_freq, GPT-2/GPT-J/GPT-NeoX's masked_bias (a 0-D scalar) and their
# causal-mask tables named attn.bias / attention.bias (shape 1 x 1 x n x n); only the latter share a name with a
# parameter (a linear's bias), so only they must also have 3 or more dimensions.
WEIGHTS_BUFFER_NAME = re.compile(r"(\.inv_freq|\.masked_bias|(?P<mask>attn|attention)\.bias)$")
WEIGHTS_LAYER_INDEX = re.compile(r"(?:^|\.)(?:layers|h|blocks|layer)\.([0-9]{1,9})\.")
WEIGHTS_HEAD_NAMES = ("lm_head.weight", "embed_out.weight")  # the untied LM head (GPT-NeoX: embed_out)


def _weights_json(data: bytes, where: str):
    """Parse a header or index: UTF-8 JSON object, a key given twice refused (a reader would keep either)."""
    def unique(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise InputError(f"{where}: key {key!r:.80} given twice")
            seen[key] = value
        return seen
    try:
        parsed = json.loads(data.decode("utf-8"), object_pairs_hook=unique)
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply") from None
    except InputError:  # a key given twice (an InputError is a ValueError: let it through as it is)
        raise
    except ValueError:  # Python's limit on the digits of an integer literal
        raise InputError(f"{where}: a number in it is too long") from None
    if not isinstance(parsed, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(parsed).__name__}")
    return parsed


class WeightsSource:
    """Where --weights reads from: a local file or folder, or a Hub repo (through the block's hub_file, the local
    Hugging Face cache first, ranges over HTTP).  read(name, first, count) returns exactly `count` bytes or raises
    InputError naming --weights."""

    def __init__(self, text: str):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"--weights expects a .safetensors file, a folder or a Hub id org/name, got {text!r}")
        self.text, self.shown = text, text if text.isprintable() else repr(text)
        self.repo = self.revision = None
        self.folder, self.files = None, []
        self.not_cached = []  # Hub files exists() could not look for: not cached while HF_HUB_OFFLINE is set
        if not os.path.exists(text) and HUB_ID_PATTERN.fullmatch(text):
            self.repo, _, revision = text.partition("@")
            self.revision = revision or "main"
        elif os.path.isdir(text):
            self.folder = text
        elif os.path.exists(text):
            self.folder, self.files = os.path.dirname(text) or ".", [os.path.basename(text)]
        else:
            raise InputError(f"--weights {self.shown}: no such file or folder (nor a Hub id org/name)")

    def where(self, name: str) -> str:
        return f"--weights {self.shown}" + (f" {name}" if name and not self.files == [name] else "")

    def local_size(self, name: str) -> int:
        path = os.path.join(self.folder, name)
        try:
            mode = os.stat(path)
        except OSError as exc:
            raise InputError(f"{self.where(name)}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
        if not stat.S_ISREG(mode.st_mode):
            raise InputError(f"{self.where(name)}: not a regular file")
        return mode.st_size

    def read(self, name: str, first: int, count: int) -> bytes:
        if self.repo is not None:
            return hub_file(self.repo, name, self.revision, flag="--weights", byte_range=(first, first + count - 1),
                            limit=count)
        self.local_size(name)
        try:
            with open(os.path.join(self.folder, name), "rb") as handle:
                handle.seek(first)
                data = handle.read(count)
        except OSError as exc:
            raise InputError(f"{self.where(name)}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
        if len(data) != count:
            raise InputError(f"{self.where(name)}: ended after {first + len(data):,} bytes, before byte "
                             f"{first + count - 1:,}")
        return data

    def read_whole(self, name: str, limit: int) -> bytes:
        if self.repo is not None:
            return hub_file(self.repo, name, self.revision, flag="--weights", limit=limit)
        size = self.local_size(name)
        if size > limit:
            raise InputError(f"{self.where(name)}: larger than {limit:,} bytes; refusing to read it")
        return self.read(name, 0, size) if size else b""

    def exists(self, name: str) -> bool:
        """Whether the source holds `name`: a local stat, else the Hub's answer (a 404 or an offline cache miss is
        no; any other failure, 401 included, is raised)."""
        if self.repo is None:
            return os.path.isfile(os.path.join(self.folder, name))
        try:
            self.read(name, 0, 1)
        except HubFileMissing as exc:  # the block's hub_file: a 404, or (HubNotCached) an offline cache miss
            # HubNotCached is named only here, so the script still imports with a block copy that predates it
            if isinstance(exc, HubNotCached):
                self.not_cached.append(name)  # perhaps there, unknown offline: a message must not say "no such"
            return False
        return True

    def weight_files(self) -> tuple:
        """(index file name or None, shard names): the file given, else the folder's or repo's index, else its
        model.safetensors."""
        if self.files:
            if not self.files[0].endswith(".json"):
                return None, list(self.files)
            index = self.files[0]
        elif self.exists(WEIGHTS_INDEX):
            index = WEIGHTS_INDEX
        elif self.exists(WEIGHTS_SINGLE):
            return None, [WEIGHTS_SINGLE]
        elif self.not_cached:  # offline: a single-file repo has no index, so only both misses end here
            raise InputError(f"--weights {self.shown}: {WEIGHTS_INDEX} and {WEIGHTS_SINGLE} are not in the local "
                             "Hugging Face cache and HF_HUB_OFFLINE is set; download the checkpoint once online, or "
                             "give a local path")
        else:
            raise InputError(f"--weights {self.shown}: neither {WEIGHTS_INDEX} nor {WEIGHTS_SINGLE} there"
                             + (" (or no such repo or revision)" if self.repo else "")
                             + "; only safetensors checkpoints are read")
        raw = _weights_json(self.read_whole(index, WEIGHTS_MAX_HEADER), self.where(index))
        weight_map = raw.get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise InputError(f"{self.where(index)}: 'weight_map' must be a non-empty object of tensor: shard file")
        shards = []
        for tensor, shard in weight_map.items():
            if not isinstance(shard, str) or not shard.endswith(".safetensors") or shard.startswith(("/", "\\")) \
                    or ".." in shard.replace("\\", "/").split("/") or not shard.isprintable():
                raise InputError(f"{self.where(index)}: tensor {tensor!r:.80} maps to {shard!r:.80}, not a "
                                 ".safetensors file beside the index")
            if shard not in shards:
                shards.append(shard)
        if len(shards) > WEIGHTS_MAX_FILES:
            raise InputError(f"{self.where(index)}: {len(shards):,} shards, more than {WEIGHTS_MAX_FILES:,}")
        self.weight_map = weight_map
        return index, shards


def _weights_int(value, what: str, where: str, tensor: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= WEIGHTS_MAX_OFFSET:
        raise InputError(f"{where}: tensor {tensor!r:.80} has {what} {value!r:.40}, not an integer in "
                         f"[0, 2^63)")
    return value


def read_safetensors_header(source: WeightsSource, name: str) -> dict:
    """{tensor: (dtype, shape, elements, bytes)} from one file's header, each entry checked as the safetensors crate
    checks it: a known dtype, a shape of non-negative integers, data_offsets [begin, end] with end - begin = elements
    x dtype size, the tensors packed from byte 0 with no gap or overlap, and (local files, whose size is known) the
    last one ending at the end of the file."""
    where = source.where(name)
    length = int.from_bytes(source.read(name, 0, 8), "little")
    if length > WEIGHTS_MAX_HEADER:
        raise InputError(f"{where}: header length {length:,} is above {WEIGHTS_MAX_HEADER:,} bytes; not a "
                         "safetensors file")
    if length < 2:
        raise InputError(f"{where}: header length {length}; not a safetensors file")
    size = source.local_size(name) if source.repo is None else None
    if size is not None and 8 + length > size:
        raise InputError(f"{where}: header length {length:,} goes beyond the file's {size:,} bytes")
    header = _weights_json(source.read(name, 8, length), where)
    tensors, spans = {}, []
    for tensor, entry in header.items():
        if tensor == "__metadata__":
            if not isinstance(entry, dict):
                raise InputError(f"{where}: '__metadata__' must be an object")
            continue
        if not isinstance(entry, dict) or not {"dtype", "shape", "data_offsets"} <= set(entry):
            raise InputError(f"{where}: tensor {tensor!r:.80} needs 'dtype', 'shape' and 'data_offsets'")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in SAFETENSORS_DTYPE_BITS:
            raise InputError(f"{where}: tensor {tensor!r:.80} has an unknown dtype {dtype!r:.40}")
        if not isinstance(shape, list) or len(shape) > 64:
            raise InputError(f"{where}: tensor {tensor!r:.80} has shape {shape!r:.60}, not a list of dimensions")
        if not isinstance(offsets, list) or len(offsets) != 2:
            raise InputError(f"{where}: tensor {tensor!r:.80} has data_offsets {offsets!r:.60}, not [begin, end]")
        elements = 1
        for dim in shape:
            elements *= _weights_int(dim, "a dimension", where, tensor)
            if elements > 8 * WEIGHTS_MAX_OFFSET:
                raise InputError(f"{where}: tensor {tensor!r:.80} has shape {shape!r:.60}, beyond any file")
        begin, end = (_weights_int(x, "a data offset", where, tensor) for x in offsets)
        bits = elements * SAFETENSORS_DTYPE_BITS[dtype]
        if bits % 8 or end < begin or end - begin != bits // 8:
            raise InputError(f"{where}: tensor {tensor!r:.80} has data_offsets [{begin}, {end}] ({end - begin:,} "
                             f"bytes) but shape {shape} of {dtype} is {bits / 8:,g} bytes")
        tensors[tensor] = (dtype, tuple(shape), elements, bits // 8)
        spans.append((begin, end, tensor))
    position = 0
    for begin, end, tensor in sorted(spans):
        if begin != position:
            raise InputError(f"{where}: tensor {tensor!r:.80} starts at byte {begin:,} of the data, not at "
                             f"{position:,} where the previous one ends (a gap or an overlap)")
        position = end
    if size is not None and 8 + length + position != size:
        raise InputError(f"{where}: the tensors end at byte {8 + length + position:,} but the file has {size:,} "
                         "(truncated, or data no tensor names)")
    return tensors


def read_weights(source: WeightsSource) -> tuple:
    """(index file name or None, shard names, {tensor: (dtype, shape, elements, bytes)}) over every shard of the
    --weights source; a sharded index must agree with its shards tensor by tensor."""
    index, shards = source.weight_files()
    tensors, home = {}, {}
    for shard in shards:
        for tensor, entry in read_safetensors_header(source, shard).items():
            if tensor in tensors:
                raise InputError(f"--weights {source.shown}: tensor {tensor!r:.80} is stored in both {home[tensor]} "
                                 f"and {shard}")
            tensors[tensor], home[tensor] = entry, shard
    if index is not None:
        for tensor, shard in source.weight_map.items():
            if home.get(tensor) != shard:
                raise InputError(f"{source.where(index)}: tensor {tensor!r:.80} is mapped to {shard} but "
                                 + (f"stored in {home[tensor]}" if tensor in home else "not stored there"))
        unlisted = sorted(set(tensors) - set(source.weight_map))
        if unlisted:
            raise InputError(f"{source.where(index)}: tensor {unlisted[0]!r:.80} of {home[unlisted[0]]} is not in "
                             "the weight_map")
    return index, shards, tensors


def compare_weights(model: Model, report: dict, source, index, shards, tensors: dict, *,
                    checkpoint_mtp_layers: int = 0) -> dict:
    """The stored count beside the architecture's: per dtype, the difference, and each part of it that a tensor's
    name explains (vision/audio towers, DeepSeek-V3's MTP modules up to `checkpoint_mtp_layers` (its config's
    num_nextn_predict_layers), Qwen3-Next's / Qwen3.5's mtp.* layer, a tied LM head stored or an untied one
    missing, quantization scales, old buffers);
    what no name explains (layers beyond the model's and its MTP modules included) is printed as unexplained."""
    by_dtype = {}
    for dtype, _, elements, size in tensors.values():
        row = by_dtype.setdefault(dtype, {"tensors": 0, "elements": 0, "bytes": 0})
        row["tensors"] += 1
        row["elements"] += elements
        row["bytes"] += size
    stored = sum(row["elements"] for row in by_dtype.values())
    expected = report["total"] + sum(report["checkpoint_only"].values())
    counted_layers = model.num_layers + model.mtp_layers
    # DeepSeek-V3 stores its MTP modules as layers num_layers .. num_layers + num_nextn_predict_layers - 1 (report
    # sec. 2.2); no other model numbers anything past its last layer, so there a layer beyond is a wrong architecture
    deepseek = model.model_type == "deepseek_v3" or model.router_score_correction_bias
    mtp_end = model.num_layers + checkpoint_mtp_layers if deepseek else 0
    # Qwen3-Next and Qwen3.5 keep their MTP layer under mtp.* (mtp.fc, mtp.layers.0, mtp.norm, ...), which
    # Qwen3NextForCausalLM / Qwen3_5ForCausalLM drop on load (_keys_to_ignore_on_load_unexpected "^mtp.*")
    qwen_mtp = model.model_type in ("qwen3_next", "qwen3_5", "qwen3_5_text", "qwen3_5_moe", "qwen3_5_moe_text")
    groups = {}  # label -> [tensors, elements]

    def add(label, elements):
        group = groups.setdefault(label, [0, 0])
        group[0] += 1
        group[1] += elements

    packed = False
    beyond = set()  # indices of stored layers past the model's (and past the config's MTP modules)
    for name, (dtype, shape, elements, _) in tensors.items():
        layer, buffer = WEIGHTS_LAYER_INDEX.search(name), WEIGHTS_BUFFER_NAME.search(name)
        if WEIGHTS_QUANT_NAME.search(name):
            packed = packed or bool(WEIGHTS_PACKED_NAME.search(name))
            add("quantization tensors (scales, zero points, packed weights)", elements)
        elif WEIGHTS_TOWER_NAME.search(name):
            add("vision / audio tower and projector tensors (not the language model)", elements)
        elif buffer and (buffer.group("mask") is None or len(shape) >= 3):
            add("buffers stored by older checkpoints (rotary inv_freq, causal-mask tables)", elements)
        elif qwen_mtp and name.startswith("mtp."):
            add("MTP layer (mtp.*: Qwen3-Next / Qwen3.5 store it apart; transformers does not build it)", elements)
        elif layer and counted_layers <= int(layer.group(1)) < mtp_end:
            add(f"MTP modules (layers {counted_layers}.. beyond num_layers {model.num_layers}; --mtp-layers N counts "
                "them)", elements)
        elif layer and int(layer.group(1)) >= counted_layers:
            beyond.add(int(layer.group(1)))  # no name explains them: left in the unexplained part
        elif model.tied_embeddings and name.endswith(WEIGHTS_HEAD_NAMES):
            add("tied LM head stored as well (the model ties it to the embedding)", elements)
    explained = [{"what": label, "tensors": n, "elements": elements} for label, (n, elements) in groups.items()]
    if not model.tied_embeddings and not any(name.endswith(WEIGHTS_HEAD_NAMES) for name in tensors):
        explained.append({"what": "LM head not stored although the model is untied (no lm_head.weight)",
                          "tensors": 0, "elements": -model.padded_vocab * model.embed_width})
    difference = stored - expected
    unexplained = difference - sum(part["elements"] for part in explained)
    notes = []
    if unexplained and packed:
        notes.append("packed quantized weights (qweight / weight_packed) hold several parameters per stored "
                     "element, so the stored count of this checkpoint is not its parameter count")
    if beyond:
        notes.append((f"layers {min(beyond)}..{max(beyond)}" if len(beyond) > 1 else f"layer {min(beyond)}")
                     + f" stored beyond the model's {counted_layers} layers"
                     + (f" (num_nextn_predict_layers names {checkpoint_mtp_layers} MTP module(s))"
                        if deepseek and checkpoint_mtp_layers else ""))
    if unexplained:
        notes.append(f"{unexplained:+,} elements are not explained by any tensor's name: the architecture "
                     "(preset, config or flags) may not be this checkpoint's")
    return {"source": source.text, "format": "safetensors", "index": index, "files": len(shards),
            "tensors": len(tensors), "elements": stored,
            "bytes": sum(row["bytes"] for row in by_dtype.values()),
            "by_dtype": dict(sorted(by_dtype.items(), key=lambda item: -item[1]["bytes"])),
            "expected_elements": expected, "difference": difference, "explained": explained,
            "unexplained": unexplained, "notes": notes}


# --------------------------------------------------------------------------------------------------------------
# Shape search
# --------------------------------------------------------------------------------------------------------------

# Aspect ratio d_model / n_layers of published dense models: GPT-3 Table 2.1 spans 42.7 (350M) to 128.5 (13B);
# Chinchilla Table A9 spans 40 (106M: 640/16) to 109 (16.2B: 5120/47). The default band [32, 160] holds them all.
SEARCH_RULES = {
    "hidden_size_multiple": 128, "head_dims": (64, 128), "aspect_ratio": (32.0, 160.0),
    "ffn": "the template's FFN ratio f/h times d_model (rounded up to a multiple of 256 for gated MLPs, as "
           "Llama's multiple_of; rounded to the nearest integer otherwise)",
    "kv_heads": "the template's kv/query head ratio (MHA without one)",
    "source": "aspect band covers GPT-3 (Brown et al. 2020 Table 2.1) and Chinchilla (Hoffmann et al. 2022 "
              "Table A9) shapes; head_dim 64/128 as in both tables",
}


# Without --preset/--config the search uses a Llama-style block: SwiGLU at 8/3 (8192/3072), RMSNorm, MHA, untied.
SEARCH_TEMPLATE = dict(gated_mlp=True, norm="rmsnorm", name="llama-style template",
                       source="Touvron et al. 2023 (Llama) block, vocab 32000", num_layers=1, hidden_size=3072,
                       num_attention_heads=24, ffn_hidden_size=8192, vocab_size=32000)
SEARCH_MAX_HIDDEN = 65536  # the widest d_model tried (GPT-3 175B is 12,288 wide, PaLM 540B 18,432)


def _search_ffn(template: Model, hidden: int) -> int:
    """The template's f/h at width `hidden`, in integers (no float rounding at exact multiples)."""
    scaled, base = template.ffn_hidden_size * hidden, template.hidden_size
    if template.gated_mlp:
        return -(-scaled // (base * 256)) * 256
    return (2 * scaled + base) // (2 * base)


def search_shapes(template: Model, target: int, top: int = 10, multiple: int = 128,
                  aspect: tuple = (32.0, 160.0)) -> list:
    """Dense shapes (layers, d_model, heads, ffn) whose exact count is closest to `target`, under SEARCH_RULES.

    Every width is tried at the depths of its aspect band nearest the target (the band's edge when the target
    lies beyond it), so each width offers its closest shape.  A target outside the counts the rules reach (the
    smallest shape to the largest) is refused naming --target-params: no shape is near it."""
    if template.is_moe or template.is_mla:
        raise InputError("--target-params searches dense, non-MLA shapes; drop --num-experts / --kv-lora-rank")
    if template.mixer_types or template.parallel_ssm:  # Falcon-H1: a Mamba-2 mixer beside attention
        raise InputError(f"--target-params searches attention-only shapes; {template.linear_mixer_name} layers are "
                         "not searched")
    if target < 1:
        raise InputError("--target-params must be positive")
    # per-layer lists (sliding / full attention, dense layers) are sized for the template's depth and hold no
    # parameters: the candidates, of other depths, drop them
    template = replace(template, layer_types=(), dense_layers=())
    kv_heads, query_heads = template.kv_heads, template.num_attention_heads
    widths = []  # (shape, shallowest, deepest, count without layers, count per layer, embedding count)
    for hidden in range(multiple, SEARCH_MAX_HIDDEN + 1, multiple):
        shallowest, deepest = max(1, math.ceil(hidden / aspect[1])), math.floor(hidden / aspect[0])
        if shallowest > deepest:
            continue
        for head_dim in (64, 128):
            heads = hidden // head_dim
            if hidden % head_dim or heads * kv_heads % query_heads:
                continue
            kv = heads * kv_heads // query_heads  # the template's kv/query ratio, exactly
            if kv < 1 or heads % kv:
                continue
            shape = dict(hidden_size=hidden, num_attention_heads=heads, num_kv_heads=kv, head_dim=head_dim,
                         ffn_hidden_size=_search_ffn(template, hidden))
            one = count_model(replace(template, num_layers=1, **shape))
            two = count_model(replace(template, num_layers=2, **shape))["total"]
            per_layer, fixed = two - one["total"], 2 * one["total"] - two  # the count is linear in the depth
            widths.append((shape, shallowest, deepest, fixed, per_layer, embedding_params(one["roles"])))
    if not widths:
        raise InputError(f"--target-params: no d_model up to {SEARCH_MAX_HIDDEN:,} in multiples of {multiple} keeps "
                         f"the template's {kv_heads} kv heads per {query_heads} query heads")
    smallest = min(fixed + per_layer * shallowest for _, shallowest, _, fixed, per_layer, _ in widths)
    largest = max(fixed + per_layer * deepest for _, _, deepest, fixed, per_layer, _ in widths)
    if not smallest <= target <= largest:
        raise InputError(f"--target-params {target:,} is outside the counts the search reaches with this template: "
                         f"{smallest:,} to {largest:,} (d_model a multiple of {multiple} up to "
                         f"{SEARCH_MAX_HIDDEN:,}, d_model/layers in [{aspect[0]:g}, {aspect[1]:g}])")
    results = []
    for shape, shallowest, deepest, fixed, per_layer, embedding in widths:
        nearest = (2 * (target - fixed) + per_layer) // (2 * per_layer)  # depth whose count is nearest the target
        for layers in sorted({min(max(depth, shallowest), deepest) for depth in (nearest - 1, nearest, nearest + 1)}):
            total = fixed + per_layer * layers
            results.append({"num_layers": layers, **{k: shape[k] for k in (
                "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim", "ffn_hidden_size")},
                "aspect_ratio": round(shape["hidden_size"] / layers, 1), "total": total,
                "non_embedding": total - embedding, "difference": abs(total - target), "above_target": total > target})
    results.sort(key=lambda r: (r["difference"], r["num_layers"], -r["head_dim"]))
    unique, seen = [], set()
    for r in results:  # MHA with head_dim 64 or 128 at the same width has the same count: keep one (128)
        key = (r["num_layers"], r["hidden_size"], r["total"])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique[:top]


# --------------------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------------------

COMPONENT_LABELS = {
    "embedding": "embedding (input)", "positions": "position embedding", "embedding_projections":
    "embedding projections", "attention": "attention", "mlp": "MLP (dense)", "routed_experts": "routed experts",
    "shared_experts": "shared experts", "router": "router", "norms": "norms", "lm_head": "LM head",
    "mtp": "MTP modules",
}
# model_from_config's first note when --generic read an unknown model type: shown first, above the report
GENERIC_NOTE_PREFIX = "--generic:"


def human(n: float) -> str:
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{suffix}"
    return str(int(n))


def describe(cfg: dict) -> list:
    """The resolved configuration as a few human lines."""
    if cfg["kv_lora_rank"]:
        attention = (f"MLA: {cfg['num_attention_heads']} heads, q_lora {cfg['q_lora_rank'] or 'none'}, kv_lora "
                     f"{cfg['kv_lora_rank']}, qk {cfg['qk_nope_head_dim']}+{cfg['qk_rope_head_dim']} (rope), "
                     f"v {cfg['v_head_dim']}")
    else:
        attention = (f"{cfg['num_attention_heads']} heads, {cfg['num_kv_heads']} kv heads, head_dim "
                     f"{cfg['head_dim']}" + (f", v {cfg['v_head_dim']}" if cfg["v_head_dim"] else "")
                     + (f"; sliding layers {cfg['sliding_kv_heads']} kv heads" if cfg["sliding_kv_heads"] else "")
                     + (f" of {cfg['sliding_head_dim']}" if cfg.get("sliding_head_dim") else "")
                     + (" with sinks" if cfg["sinks_sliding_only"] else "")
                     + ("; full layers K=V (no v_proj)" if cfg.get("full_k_eq_v") else "")
                     + (f"; last {cfg['kv_shared_layers']} layers share K/V" if cfg.get("kv_shared_layers") else ""))
    biases = [n for n, on in (("qkv", cfg["qkv_bias"]), ("out", cfg["o_bias"]), ("mlp", cfg["mlp_bias"]),
                              ("lm_head", cfg["lm_head_bias"])) if on]
    expert_width = cfg["moe_ffn_hidden_size"] or cfg["ffn_hidden_size"]
    lines = [
        f"layers {cfg['num_layers']}, hidden {cfg['hidden_size']}, vocab {cfg['vocab_size']}"
        + (f" (padded {cfg['vocab_size_padded']})" if cfg["vocab_size_padded"] != cfg["vocab_size"] else "")
        + f", {'tied' if cfg['tied_embeddings'] else 'untied'} LM head, positions {cfg['position_embedding']}"
        + (f" ({cfg['max_position_embeddings']}+{cfg['position_offset']})" if cfg["position_embedding"] == "learned"
           else ""),
        f"attention: {attention}" + (f", qk-norm {cfg['qk_norm']}" if cfg["qk_norm"] != "none" else ""),
        f"MLP: {'gated (3 linears)' if cfg['gated_mlp'] else 'plain (2 linears)'}, ffn {cfg['ffn_hidden_size']}; "
        + f"norm {cfg['norm']} x{cfg['norms_per_layer']}/layer"
        + (" (no parameters)" if cfg["norm"] == "nonparametric" else "")
        + (", final" if cfg["final_norm"] else "") + (", embedding norm" if cfg["embedding_norm"] else "")
        + f"; biases: {', '.join(biases) or 'none'}",
    ]
    if cfg.get("per_layer_input_size"):  # Gemma 4's PLE
        lines.append(f"per-layer inputs: a {cfg['per_layer_vocab']} x {cfg['num_layers']}x"
                     f"{cfg['per_layer_input_size']} table (looked up), a projection and a gate per layer"
                     + ("; KV-shared layers' MLPs twice as wide" if cfg.get("double_wide_shared_mlp") else ""))
    if cfg["num_experts"]:
        lines.append(f"MoE: {cfg['num_experts']} experts (top-{cfg['top_k']}, ffn {expert_width})"
                     + (" beside every layer's dense MLP" if cfg.get("moe_beside_mlp") else "")
                     + (f", {cfg['num_shared_experts']} shared (ffn "
                        f"{cfg['shared_expert_ffn_size'] or expert_width})" if cfg["num_shared_experts"] else "")
                     + (", shared-expert gate" if cfg["shared_expert_gate"] else "")
                     + (f", first {cfg['first_k_dense']} layers dense" if cfg["first_k_dense"] else "")
                     + (f", dense layers {cfg['dense_layers']}" if cfg["dense_layers"] and
                        not cfg.get("single_block_layers") else "")
                     + (f", every {cfg['expert_interval']} layers" if cfg["expert_interval"] > 1 else ""))
    if "conv" in cfg["mixer_types"]:  # LFM2
        lines.append(f"short convolution on {cfg['mixer_types'].count('conv')} of {cfg['num_layers']} layers: "
                     f"in_proj to 3 x {cfg['hidden_size']}, a depthwise causal conv of {cfg['short_conv_kernel']} "
                     f"taps, out_proj{' (biased)' if cfg['short_conv_bias'] else ''}")
    if cfg.get("single_block_layers"):  # Nemotron-H: one block per layer
        blocks = ["E" if t == "none" and i not in cfg["dense_layers"] and cfg["num_experts"] else
                  {"linear": "M", "attention": "*", "none": "-"}[t] for i, t in enumerate(cfg["mixer_types"])]
        lines.append(f"one block per layer (M Mamba-2, * attention, - MLP, E MoE): {''.join(blocks)}")
    if cfg.get("parallel_ssm"):  # Falcon-H1
        lines.append(f"Mamba-2 beside attention in all {cfg['num_layers']} layers: {cfg['mamba_num_heads']} heads of "
                     f"{cfg['mamba_head_dim']}, {cfg['mamba_n_groups']} group(s) of B and C of state "
                     f"{cfg['mamba_d_state']}, conv kernel {cfg['mamba_d_conv']}"
                     + ("" if cfg["mamba_gated_norm"] else ", no gated norm"))
    if "linear" in cfg["mixer_types"] and cfg.get("ssm_kind") == "mamba2":  # Bamba, Nemotron-H
        lines.append(f"Mamba-2 on {cfg['mixer_types'].count('linear')} of {cfg['num_layers']} layers: "
                     f"{cfg['mamba_num_heads']} heads of {cfg['mamba_head_dim']}, {cfg['mamba_n_groups']} group(s) "
                     f"of B and C of state {cfg['mamba_d_state']}, conv kernel {cfg['mamba_d_conv']}; attention "
                     f"on layers {[i for i, t in enumerate(cfg['mixer_types']) if t == 'attention']}")
    elif "linear" in cfg["mixer_types"] and cfg.get("ssm_kind") == "mamba1":  # Jamba (issue 10, branch jamba)
        lines.append(f"Mamba-1 on {cfg['mixer_types'].count('linear')} of {cfg['num_layers']} layers: inner width "
                     f"{cfg['mamba1_inner']}, state {cfg['mamba_d_state']}, dt rank {cfg['mamba_dt_rank']}, conv "
                     f"kernel {cfg['mamba_d_conv']}" + (", RMSNorms on dt, B and C" if cfg["mamba_bcdt_norms"] else "")
                     + f"; attention on layers {[i for i, t in enumerate(cfg['mixer_types']) if t == 'attention']}")
    elif "linear" in cfg["mixer_types"]:  # Qwen3-Next
        lines.append(f"gated delta-net on {cfg['mixer_types'].count('linear')} of {cfg['num_layers']} layers: "
                     f"{cfg['linear_num_key_heads']} q/k heads of {cfg['linear_key_head_dim']}, "
                     f"{cfg['linear_num_value_heads']} v heads of {cfg['linear_value_head_dim']}, conv kernel "
                     f"{cfg['linear_conv_kernel']}"
                     + ("; the other layers' attention is output-gated" if cfg["attn_output_gate"] else ""))
    return lines


def render_report(report: dict, markdown: bool = False) -> str:
    total = report["total"]
    def pct(n):
        return f"{100 * n / total:.2f}%" if total else "-"
    notes = list(report["notes"])
    lines = []
    if notes and notes[0].startswith(GENERIC_NOTE_PREFIX):  # a guessed architecture is said before any number
        lines += [f"note: {notes.pop(0)}", ""]
    title = f"{report['model']} — {report['source']}"
    lines += [f"## {title}" if markdown else title, ""]
    lines += [f"- {line}" if markdown else f"  {line}" for line in describe(report["config"])]
    lines.append("")
    rows = [[COMPONENT_LABELS[k], f"{v:,}", human(v), pct(v)] for k, v in report["components"].items() if v]
    rows.append(["total", f"{total:,}", human(total), pct(total)])
    lines += format_table(["component", "parameters", "", "share"], rows, markdown).split("\n")
    lines.append("")
    emb = report["embedding"]
    rows = [["embedding (input + positions + LM head)", f"{emb['total']:,}", human(emb["total"]), pct(emb["total"])],
            ["non-embedding (Kaplan's N)", f"{report['non_embedding']:,}", human(report["non_embedding"]),
             pct(report["non_embedding"])]]
    if "active" in report:
        act = report["active"]
        rows.append(["active per token (MoE)", f"{act['total']:,}", human(act["total"]), pct(act["total"])])
    lines += format_table(["summary", "parameters", "", "share"], rows, markdown).split("\n")
    lines.append("")
    rows = []
    for t in report["layer_types"]:
        parts = ", ".join(f"{k} {v:,}" for k, v in t["per_layer"].items() if v)
        rows.append([t["type"], t["layers"], f"{t['params_per_layer']:,}", f"{t['total']:,}", parts])
    lines += format_table(["layer type", "layers", "params/layer", "params", "per layer"], rows, markdown,
                          left=(0, 4)).split("\n")
    ck = report["checkpoint"]
    lines += ["", f"checkpoint at {ck['dtype']} ({ck['bits_per_element']} bits/element, {ck['elements']:,} "
              f"elements): {ck['bytes']:,} bytes = {ck['GB']:.2f} GB = {ck['GiB']:.2f} GiB"]
    if "active" in report:
        lines.append(f"active convention: {report['active']['convention']}")
    for key, value in report["checkpoint_only"].items():
        lines.append(f"in the checkpoint only: {key} {value:,} elements")
    if "weights" in report:
        lines += render_weights(report["weights"], markdown)
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


def render_weights(w: dict, markdown: bool = False) -> list:
    """The --weights section: the stored tensors per dtype, then the stored count beside the architecture's."""
    files = f"{w['files']} file{'s' if w['files'] != 1 else ''}" + (f", index {w['index']}" if w["index"] else "")
    lines = ["", f"stored weights in {w['source']} ({w['format']}, {files}): {w['tensors']:,} tensors", ""]
    rows = [[dtype, f"{row['tensors']:,}", f"{row['elements']:,}", f"{row['bytes']:,}"]
            for dtype, row in w["by_dtype"].items()]
    rows.append(["total", f"{w['tensors']:,}", f"{w['elements']:,}", f"{w['bytes']:,}"])
    lines += format_table(["dtype", "tensors", "elements", "bytes"], rows, markdown).split("\n")
    difference = w["difference"]
    lines += ["", f"stored {w['elements']:,} elements; the architecture holds {w['expected_elements']:,} "
              f"(parameters + checkpoint-only): " + ("equal" if not difference else f"difference {difference:+,}")]
    for part in w["explained"]:
        lines.append(f"  {part['elements']:+,}  {part['what']} ({part['tensors']:,} "
                     f"tensor{'s' if part['tensors'] != 1 else ''})")
    if difference or w["explained"]:
        lines.append(f"  {w['unexplained']:+,}  unexplained" if w["unexplained"] else
                     "  the difference is explained by the tensors' names")
    lines += [f"note: {n}" for n in w["notes"]]
    return lines


def render_search(result: dict, markdown: bool = False) -> str:
    notes = list(result["notes"])
    lines = []
    if notes and notes[0].startswith(GENERIC_NOTE_PREFIX):  # a guessed template is said before any number
        lines += [f"note: {notes.pop(0)}", ""]
    lines += [f"shapes closest to {result['target']:,} parameters (template: {result['template']})", ""]
    rules = result["rules"]
    lines.append(f"rules: d_model a multiple of {rules['hidden_size_multiple']}, head_dim in "
                 f"{list(rules['head_dims'])}, d_model/layers in {list(rules['aspect_ratio'])}; FFN: {rules['ffn']}; "
                 f"kv heads: {rules['kv_heads']}. Source: {rules['source']}.")
    lines.append("")
    rows = [[i + 1, c["num_layers"], c["hidden_size"], c["num_attention_heads"], c["num_kv_heads"], c["head_dim"],
             c["ffn_hidden_size"], c["aspect_ratio"], f"{c['total']:,}", f"{c['non_embedding']:,}",
             f"{100 * c['difference'] / result['target']:.2f}% {'above' if c['above_target'] else 'below'}"]
            for i, c in enumerate(result["candidates"])]
    lines += format_table(["#", "layers", "d_model", "heads", "kv", "head_dim", "ffn", "d/L", "total",
                           "non-embedding", "vs target"], rows, markdown).split("\n")
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------------------

# The architecture flags are the shared block's (add_model_arguments / model_from_arguments: one spelling, one
# meaning and one default in every script).  This script has no workload, so its -s/--sequence-length only sizes
# a learned position table that has no rows yet (the cookbook's reading of -s for a model from flags alone); the
# rows of any model's table are --learned-positions N.
SEQUENCE_TABLE_NOTE_PREFIX = "a learned position table of -s "  # model_from_arguments' note when -s sized one


def build_parser() -> OneLineParser:
    """The block's model flags plus this script's own: -s, the output and the shape search."""
    p = OneLineParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Exact parameter counts for decoder-only transformers: total, embedding vs non-embedding,\n"
                    "per component and per layer type, MoE active parameters, checkpoint size.",
        epilog="examples:\n  python calc_transformer_params.py --preset llama-3-8b\n"
               "  python calc_transformer_params.py --config path/to/config.json --dtype fp8 --json\n"
               "  python calc_transformer_params.py -l 24 -hs 2048 -a 16 -v 50304 -ff 4 --bias\n"
               "  python calc_transformer_params.py --preset gpt2 --learned-positions 2048\n"
               "  python calc_transformer_params.py --target-params 1.3B")
    _, arch = add_model_arguments(p)
    arch.add_argument("--sequence-length", "-s", dest="sequence_length", metavar="N",
                      help="rows of a learned position table that has none yet (--position-embedding learned); "
                           "changes no other count. --learned-positions N sets any table's rows")
    out = p.add_argument_group("output")
    out.add_argument("--dtype", choices=tuple(DTYPE_BITS), default="bf16", help="checkpoint dtype (default bf16)")
    out.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    out.add_argument("--json", action="store_true", help="shorthand for --format json")
    search = p.add_argument_group("shape search")
    search.add_argument("--target-params", metavar="N",
                        help="list the shapes whose exact count is closest to N (e.g. 1.3B)")
    search.add_argument("--search-top", default="10", metavar="N", help="how many shapes to list (default 10)")
    weights = p.add_argument_group("stored weights")
    weights.add_argument("--weights", metavar="PATH", help="a .safetensors file, a folder or an index .json, or a Hub "
                         "id org/name[@revision]: the stored tensors' count (headers only) beside the architecture's; "
                         "a folder's or repo's config.json is the architecture unless --preset/--config is given")
    search.add_argument("--hidden-multiple", type=int, choices=(64, 128), default=128,
                        help="d_model multiple in the search (default 128)")
    return p


def sequence_length_note(model: Model, sequence_length: int) -> str:
    """What -s did not do: it sizes only a learned position table that has no rows, and this model's has some."""
    if model.position_embedding == "learned":
        positions = f"a learned position table of {model.max_position_embeddings} rows"
    else:
        positions = f"{model.position_embedding} positions (no table)"
    return (f"-s {sequence_length} does not change the count: it only sizes a learned position table that has no "
            f"rows, and the model has {positions}; --learned-positions N sets a table's rows")


# num_nextn_predict_layers of the presets whose published checkpoint stores MTP modules (their config.json)
WEIGHTS_PRESET_MTP = {"deepseek-v3": 1, "glm-4.5-air": 1, "glm-4.6": 1}  # their config.json files
# The block's note on a DeepSeek-V3 config.json with MTP modules (model_from_config); the config is read inside the
# block (--config may be a pipe, read once), so its note is where num_nextn_predict_layers reaches this script
WEIGHTS_MTP_NOTE = re.compile(r"num_nextn_predict_layers = ([0-9]+):")


def checkpoint_mtp_layers(args, notes) -> int:
    """How many MTP modules the checkpoint may store past the model's layers, for --preset, --config or flags: the
    --config's num_nextn_predict_layers (from the block's note, which it writes for a count above 0 and drops when
    --mtp-layers counts them), a preset's published value, else 0."""
    for note in notes:
        found = WEIGHTS_MTP_NOTE.match(note)
        if found:
            return int(found.group(1))
    if args.config is None and getattr(args, "preset", None) is not None:
        return WEIGHTS_PRESET_MTP.get(str(args.preset).strip().lower(), 0)
    return 0


def config_mtp_layers(raw: dict, model: Model) -> int:
    """num_nextn_predict_layers of a DeepSeek-V3 config.json (Kimi-K2's, which is one, and GLM-4.5's, which stores
    its MTP modules the same way); absent, the DeepseekV3Config / Glm4MoeConfig default (1, their num_mtp_layers
    alias); 0 for any other model or a value that is not a count."""
    if model.model_type not in ("deepseek_v3", "kimi_k2", "glm4_moe"):
        return 0
    count = raw.get("num_nextn_predict_layers", 1)
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def weights_config(args, source: WeightsSource) -> tuple:
    """(Model or None, notes, its MTP modules or None): the config.json beside --weights (a folder's, a Hub repo's)
    when neither --preset nor --config is given; None when the source has none and flags describe the model.
    Errors name --weights."""
    if args.preset is not None or args.config is not None:
        return None, [], None
    if source.files or not source.exists("config.json"):
        not_cached = ("config.json is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; download it "
                      "once online, or give the architecture with --preset, --config or flags")
        if model_arguments_given(args):
            if "config.json" in source.not_cached:
                # Flags that edit a model (--mtp-layers 1) were meant for the repo's config.json, which is not here:
                # say so, rather than the flags' own complaint about a model built from flags alone
                try:
                    model_from_args(args)
                except InputError as exc:
                    raise InputError(f"--weights {source.shown}: {not_cached} ({exc})") from None
            return None, [], None
        if "config.json" in source.not_cached:
            raise InputError(f"--weights {source.shown}: {not_cached}")
        raise InputError(f"--weights {source.shown}: no config.json there to compare with; give the architecture "
                         "with --preset, --config or flags")
    label = f"{source.shown} config.json"
    raw = parse_config_bytes(source.read_whole("config.json", MODEL_MAX_CONFIG_BYTES), f"--weights {label}")
    try:
        model, notes = model_from_config(raw, label, generic=args.generic)
    except InputError as exc:  # the message names the file and its field; the flag too
        raise InputError(f"--weights {exc}") from None
    return model, notes, config_mtp_layers(raw, model)


def model_from_args(args, weights_model: Model | None = None) -> tuple:
    """(Model, notes) from parsed flags: the block's model_from_arguments with this script's -s, the search template
    and the model --weights' config.json describes (flags replace its fields, as on a --config)."""
    sequence_length = None
    if args.sequence_length is not None:
        sequence_length = parse_count(args.sequence_length, "--sequence-length", limit=MODEL_MAX_WIDTH)
    template = weights_model
    if args.target_params is not None and args.preset is None and args.config is None:
        template = Model(**SEARCH_TEMPLATE)  # the search's Llama-style block; flags still replace its fields
    if weights_model is not None:  # --generic was for the config.json beside the weights, read already
        args = argparse.Namespace(**dict(vars(args), generic=False))
    model, notes = model_from_arguments(args, sequence_length=sequence_length, template=template)
    if sequence_length is not None and not any(n.startswith(SEQUENCE_TABLE_NOTE_PREFIX) for n in notes):
        notes.append(sequence_length_note(model, sequence_length))
    return model, notes


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_presets:
        width = max(map(len, MODEL_PRESETS))
        for name, spec in MODEL_PRESETS.items():
            print(f"{name.ljust(width)}  {spec['source']}")
        return 0
    try:
        fmt = "json" if args.json else args.format
        target = None if args.target_params is None else parse_count(args.target_params, "--target-params")
        top = parse_count(args.search_top, "--search-top")
        source, weights_notes, mtp_stored = None, [], 0
        if args.weights is not None:
            if target is not None:
                raise InputError("--weights compares one model's count with its checkpoint; not with --target-params")
            source = WeightsSource(args.weights)
            weights_model, weights_notes, mtp_stored = weights_config(args, source)
            model, notes = model_from_args(args, weights_model)
            if mtp_stored is None:  # --preset, --config (read inside the block) or flags
                mtp_stored = checkpoint_mtp_layers(args, notes)
            if model.mtp_layers:  # --mtp-layers counts them: the folder config's "MTP not counted" note is untrue
                weights_notes = [note for note in weights_notes if not WEIGHTS_MTP_NOTE.match(note)]
            notes = weights_notes + notes
        else:
            model, notes = model_from_args(args)
        if target is not None:
            candidates = search_shapes(model, target, top=top, multiple=args.hidden_multiple)
            result = {"target": target, "template": model.name, "rules": dict(
                SEARCH_RULES, hidden_size_multiple=args.hidden_multiple), "candidates": candidates, "notes": notes}
            text = json.dumps(result, indent=2) + "\n" if fmt == "json" else render_search(result, fmt == "markdown")
        else:
            report = count_parameters(model, args.dtype)
            report["notes"] = notes + report["notes"]
            if source is not None:
                report["weights"] = compare_weights(model, report, source, *read_weights(source),
                                                    checkpoint_mtp_layers=mtp_stored)
            text = json.dumps(report, indent=2) + "\n" if fmt == "json" else render_report(report, fmt == "markdown")
    except InputError as exc:
        parser.error(str(exc))  # exits with status 2
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    run_cli(main)
