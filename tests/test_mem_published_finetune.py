"""calc_transformer_mem.py's training peak against published GPU measurements of full fine-tuning, LoRA and QLoRA of
7-8B models (issue 12, "Against published GPU measurements").

Three published tables, each quoted where it is used, with what it measured and the setup its config files give:

* LitGPT, config_hub/finetune/README.md (github.com/Lightning-AI/litgpt): "Peak memory" per recipe on an A10G,
  printed by litgpt/finetune/lora.py as ``torch.cuda.max_memory_allocated() / 1e9`` (allocated bytes, decimal GB).
  The recipes (config_hub/finetune/<model>/lora.yaml, qlora.yaml) give precision bf16-true (weights, adapters and
  AdamW states all bf16), lora_r 32 on query and value, lora_dropout 0.05, no activation checkpointing,
  max_seq_length 512 on Alpaca2k, the micro batch of the table.
* torchtune, README.md "Memory and training speed" (github.com/pytorch/torchtune): "Peak Memory per GPU" for
  Llama 3.1 8B on one RTX 4090, batch 2, a dataset packed to 2048 tokens, torch.compile on; the recipe configs
  (recipes/configs/llama3_1/8B_{full,lora,qlora}_single_device.yaml) give the rest. Which of torchtune's three
  statistics (peak active, allocated or reserved) the table shows is not said.
* universal-llm-trainer, docs/gpu_test.md (github.com/ljm565/universal-llm-trainer): "Peak Mem." on one H100, batch
  2 x 8,192 tokens without padding, bf16 model, torch.optim.AdamW, HF gradient checkpointing, transformers 4.49;
  the configs (config/llm_llama3.1_{full,lora,qlora}.yaml, config_lora/llm_lora_config.yaml) give LoRA r 8 on
  q_proj, v_proj, k_proj with dropout 0.05. How the peak was read (allocated, reserved, nvidia-smi) is not said.

LitGPT's rows are also run through LitGPT's own code on fake tensors (bench/measure_litgpt_peaks.py, figures recorded
below with the commands; litgpt need not be installed): that code meets all five published peaks within 0.6 %, and the
tests take our difference from it apart (its fused-qkv layer tensors; for QLoRA its loop's held 4-bit inputs and Fabric's
quantized LM head), and ``--trainer litgpt`` walks that loop: all five rows then within 0.7 % of the published peaks
and 0.11 % of LitGPT's code.

Our figure is the step timeline's peak (JSON ``timeline.peak_total``), not the table's sum: with ``--overhead 0
--fragmentation 0 --comm-buffer 0`` for an allocated-bytes measurement, and with the default allowances (5 %
fragmentation, 1 GiB overhead) beside it where the measurement kind is not stated.

Tolerance: 10 % where the setup is fully specified (issue 12). Rows we miss, or whose setup uses something we do not
model, are asserted as what we predict (a band of ours / published) and explained in docs/calc_transformer_mem.md
("Against published fine-tuning measurements"). No expected value here comes from the code under test: the
published figures are the sources' own, the bands of the misses record our prediction as a documented miss.
"""
from __future__ import annotations

import json

import pytest

from conftest import call_main

GiB = 2**30
GB = 10**9

HF_SDPA = ("--profile", "hf", "--attn-implementation", "sdpa")
NO_ALLOWANCES = ("--overhead", "0", "--fragmentation", "0", "--comm-buffer", "0")


def timeline_peak(mem, *argv, allowances=False):
    """The step timeline's peak in bytes; allocated bytes alone unless ``allowances``."""
    extra = () if allowances else NO_ALLOWANCES
    status, out, err = call_main(mem, [*argv, *HF_SDPA, *extra, "--json"])
    assert status == 0, err
    return json.loads(out)["timeline"]["peak_total"]


# ---------------------------------------------------------------------------------------------------------------------
# LitGPT config_hub/finetune/README.md. Measured: torch.cuda.max_memory_allocated() / 1e9 (litgpt/finetune/lora.py:
# 'fabric.print(f"Memory used: {torch.cuda.max_memory_allocated() / 1e9:.02f} GB")'). bf16-true: the model is cast to
# bf16, adapters included, so torch AdamW keeps bf16 states (--adapter-dtype bf16). lora_query and lora_value: LitGPT's
# fused qkv linear with adapters on the q and v slices, the same trainable count as peft on q_proj, v_proj.
# Sequence: litgpt pads a batch to its longest sample and truncates samples to max_seq_length 512; the peak over two
# epochs of Alpaca2k is the batch holding the longest sample, so -s 512 assumes one sample reaches the cap (lora.py
# logs "The longest sequence length in the train data is ...", not published: an assumption, not checked).
LITGPT_LORA = ("--lora-rank", "32", "--lora-targets", "q,v", "--lora-dropout", "0.05", "--adapter-dtype", "bf16",
               "-s", "512")


def test_litgpt_llama3_8b_lora(mem):
    # "| llama-3-8b/lora.yaml | llama-3-8b | 2 | 512 | 1 | 1xA10G | 14.79 min | $0.4 | 19.73 GB | ..."
    # lora.yaml: precision bf16-true, lora_r 32, lora_alpha 16, lora_dropout 0.05, lora_query true, lora_value true,
    # the rest false, micro_batch_size 1, max_seq_length 512, Alpaca2k.
    published = 19.73 * GB
    ours = timeline_peak(mem, "-p", "llama-3-8b", "-b", "1", *LITGPT_LORA)
    assert abs(ours / published - 1) <= 0.10, ours / published


def test_litgpt_mistral_7b_lora(mem):
    # "| mistral-7b/lora.yaml | mistral-7b | 4 | 512 | 2 | 1xA10G | 31.01 min | $0.9 | 20.66 GB | ..."
    # lora.yaml: checkpoints/mistralai/Mistral-7B-v0.1, bf16-true, lora_r 32, q and v, dropout 0.05,
    # micro_batch_size 2, max_seq_length 512, Alpaca2k. (The sliding window, 4096, does not act at 512 tokens.)
    published = 20.66 * GB
    ours = timeline_peak(mem, "-p", "mistral-7b", "-b", "2", *LITGPT_LORA)
    assert abs(ours / published - 1) <= 0.10, ours / published


def test_litgpt_llama3_8b_qlora_documented_miss(mem):
    # "| llama-3-8b/qlora.yaml | llama-3-8b | 2 | 512 | 2 | 1xA10G | 22.24 min | $0.7 | 17.41 GB | ..."
    # qlora.yaml: quantize bnb.nf4 (no double quantization), bf16-true, lora_r 32 on q and v, dropout 0.05,
    # micro_batch_size 2, max_seq_length 512. The optimizer is bitsandbytes' PagedAdamW (lora.py picks it under
    # BitsandbytesPrecision); its states live in CUDA unified memory outside PyTorch's allocator (a few MB here).
    # bitsandbytes 0.42.0: litgpt/finetune/lora.py warns "LitGPT only supports bitsandbytes v0.42.0" for any other
    # release, and before 0.43.3 MatMul4Bit kept each frozen 4-bit linear's input (counted: --bnb-version).
    # MISS, explained (below, "LitGPT's own code on fake tensors"): we predict 14.51 GB, 17 % under; LitGPT's own code
    # measured on fake tensors makes 17.35 GB (0.3 % under the GPU). The 2.84 GB are LitGPT's loop and Fabric's
    # bitsandbytes plugin, which our Hugging Face timeline does not model: lora.py keeps `loss` (and so the graph, and
    # bnb 0.42's ctx.tensors inputs with it) until the next micro-batch's loss, 1.74 GB during that forward; Fabric
    # quantizes the LM head too (no ignore_modules) from fp16, so each of its 128-token chunks dequantizes the whole
    # head to fp16 and copies it to bf16 (2 x 1.05 GB) while the head's packed weight saves 0.76 GB against ours.
    published = 17.41 * GB
    ours = timeline_peak(mem, "-p", "llama-3-8b", "-b", "2", *LITGPT_LORA, "--base-dtype", "nf4",
                         "--bnb-version", "0.42.0")
    assert 0.81 < ours / published < 0.86, ours / published


def test_litgpt_llama2_7b_lora(mem):
    # "| llama-2-7b/lora.yaml | llama-2-7b | Alpaca2k | 4 | 512 | 2 | bf16-true | 1xA10G | 32.67 min | 1.0$ |
    # 19.77 GB | ..." (config_hub/finetune/README.md): lora.yaml as llama-3-8b's (bf16-true, r 32 on q and v,
    # dropout 0.05, max_seq_length 512), micro_batch_size 2. Ours 19.08 GB, -3.5 %.
    published = 19.77 * GB
    ours = timeline_peak(mem, "-p", "llama-2-7b", "-b", "2", *LITGPT_LORA)
    assert abs(ours / published - 1) <= 0.10, ours / published


def test_litgpt_llama2_7b_qlora_documented_miss(mem):
    # "| llama-2-7b/qlora.yaml | llama-2-7b | Alpaca2k | 4 | 512 | 2 | bf16-true | 1xA10G | 45.52 min | 1.4$ |
    # 13.68 GB | ..." (one listing of the table prints 13.67 GB): bnb.nf4, bitsandbytes 0.42.0, otherwise the LoRA
    # row's setup. MISS, explained as the llama-3-8b row: ours 11.02 GB, 19 % under; LitGPT's code on fake tensors
    # 13.60 GB (0.6 % under the GPU), of which 1.53 GB are the previous micro-batch's held 4-bit inputs and the
    # quantized head's dequantized copies (2 x 0.26 GB) peak it in the head's forward.
    published = 13.68 * GB
    ours = timeline_peak(mem, "-p", "llama-2-7b", "-b", "2", *LITGPT_LORA, "--base-dtype", "nf4",
                         "--bnb-version", "0.42.0")
    assert 0.78 < ours / published < 0.83, ours / published


# ---------------------------------------------------------------------------------------------------------------------
# LitGPT's own code on fake tensors: bench/measure_litgpt_peaks.py runs litgpt.lora.GPT and lora.py's step (Fabric's
# forward wrapper, model(input_ids, lm_head_chunk_size=128), chunked_cross_entropy, backward, the optimizer every 2nd
# micro-batch; `logits` and `loss` kept as lora.py keeps them) for the five rows on fake tensors, with MemTracker
# counting every storage, bitsandbytes 0.42.0's 4-bit linear and PagedAdamW emulated as the script's docstring cites
# (Fabric quantizes every nn.Linear, the LM head too, from fp16; MatMul4Bit keeps its input as a ctx attribute).
# Recorded 2026-12-06, torch 2.13.0+cpu, litgpt 0.4.3, lightning 2.3.3 (a virtual environment of its own):
#   python bench/measure_litgpt_peaks.py                                          -> LITGPT_CODE
#   python bench/measure_litgpt_peaks.py llama-3-8b/qlora llama-2-7b/qlora --variant saves-input  -> ..._SAVES_INPUT
#   python bench/measure_litgpt_peaks.py llama-3-8b/qlora llama-2-7b/qlora --variant head-bf16    -> ..._HEAD_BF16
#   python bench/measure_litgpt_peaks.py llama-3-8b/lora mistral-7b/lora llama-2-7b/lora --layers 2 (and 3)
# Bytes; "forward/head" etc. are the largest totals MemTracker saw in that part of micro-batches 3 and 4.
LITGPT_PUBLISHED = {"llama-3-8b/lora": 19.73 * GB, "mistral-7b/lora": 20.66 * GB, "llama-2-7b/lora": 19.77 * GB,
                    "llama-3-8b/qlora": 17.41 * GB, "llama-2-7b/qlora": 13.68 * GB}
LITGPT_CODE = {  # row: (peak, phase, module at the peak)
    "llama-3-8b/lora": (19_682_443_524, "forward", "Global"),        # the next micro-batch's fp32 logits (Fabric)
    "mistral-7b/lora": (20_630_757_636, "forward", "Global"),
    "llama-2-7b/lora": (19_733_963_012, "forward", "Global"),
    "llama-3-8b/qlora": (17_351_018_564, "forward", "GPT.lm_head.linear"),
    "llama-2-7b/qlora": (13_599_475_780, "forward", "GPT.lm_head.linear"),
}
LITGPT_CODE_REGIONS = {  # row: {region: largest total}
    "llama-3-8b/qlora": {"forward/embedding": 7_607_519_300, "forward/head": 17_351_018_564,
                         "backward/head": 15_673_952_332},
    "llama-2-7b/qlora": {"forward/embedding": 5_715_101_764, "forward/head": 13_599_475_780,
                         "backward/head": 12_091_230_284},
}
LITGPT_CODE_SAVES_INPUT = {  # MatMul4Bit's input kept with save_for_backward (freed by backward), all else alike
    "llama-3-8b/qlora": {"forward/embedding": 5_862_688_836, "forward/head": 15_606_188_100,
                         "backward/head": 15_673_952_332},
    "llama-2-7b/qlora": {"forward/embedding": 4_188_375_108, "forward/head": 12_072_749_124,
                         "backward/head": 12_091_230_284},
}
LITGPT_CODE_HEAD_BF16 = {  # the LM head left unquantized (ignore_modules={"lm_head"}), all else alike
    "llama-3-8b/qlora": {"forward/embedding": 8_354_301_956, "forward/head": 16_062_121_988,
                         "backward/head": 14_319_388_684},
    "llama-2-7b/qlora": {"forward/embedding": 5_895_129_092, "forward/head": 13_271_599_108,
                         "backward/head": 11_746_969_612},
}
LITGPT_CODE_LAYER_ACTIVATIONS = {  # MemTracker's "Activation" at the peak (forward, Global) with 2 and 3 layers
    "llama-3-8b/lora": (833_110_020, 922_374_148),
    "mistral-7b/lora": (680_558_596, 859_086_852),
    "llama-2-7b/lora": (685_801_476, 866_951_172),
}
LITGPT_ROWS = {  # row: (our flags, tokens per micro-batch, query heads per kv head)
    "llama-3-8b/lora": (("-p", "llama-3-8b", "-b", "1", *LITGPT_LORA), 512, 4),
    "mistral-7b/lora": (("-p", "mistral-7b", "-b", "2", *LITGPT_LORA), 1024, 4),
    "llama-2-7b/lora": (("-p", "llama-2-7b", "-b", "2", *LITGPT_LORA), 1024, 1),
    "llama-3-8b/qlora": (("-p", "llama-3-8b", "-b", "2", *LITGPT_LORA, "--base-dtype", "nf4",
                          "--bnb-version", "0.42.0"), 1024, 4),
    "llama-2-7b/qlora": (("-p", "llama-2-7b", "-b", "2", *LITGPT_LORA, "--base-dtype", "nf4",
                          "--bnb-version", "0.42.0"), 1024, 1),
}
H, LAYERS = 4096, 32  # all three models (litgpt Config: n_embd 4096, n_layer 32)
VOCAB = {"llama-3-8b/qlora": 128256, "llama-2-7b/qlora": 32000}  # padded_vocab_size
MLP = {"llama-3-8b/qlora": 14336, "llama-2-7b/qlora": 11008}     # intermediate_size


@pytest.mark.parametrize("row", sorted(LITGPT_CODE))
def test_litgpt_code_on_fake_tensors_meets_the_published_peak(row):
    """No code under test: LitGPT's own step on fake tensors against the GPU's max_memory_allocated. The fake run
    counts every storage the code allocates; the GPU adds only what CUDA allocates besides (cuBLAS workspaces through
    the caching allocator, 512-B block rounding), so the fake peak must be below and within 1 %. Measured: 0.14 % to
    0.59 % below, all five rows, QLoRA included: LitGPT's code holds the published peak."""
    fake, published = LITGPT_CODE[row][0], LITGPT_PUBLISHED[row]
    assert 0 < published - fake <= 0.01 * published, fake / published


def litgpt_layer_extra_bytes(tokens, q_per_kv):
    """What one LitGPT LoRA layer (litgpt/lora.py CausalSelfAttention with LoRAQKVLinear) saves beyond the peft layer
    our timeline counts, by hand, per micro-batch (h = 4096, bf16, r 32 on q and v):
    + LoRAQKVLinear.zero_pad's index_copy_ keeps its source, lora_B's output at the q + v width (h + h / q_per_kv)
      x 2 B (derivatives.yaml's index_copy formula reads `source`);
    + multi-head (q_per_kv 1): v is a view of the fused qkv output, so SDPA's saved v keeps the whole 3 h wide
      storage: 2 h x 2 B more; grouped (q_per_kv 4): k and v are expanded to every query head (k.expand, reshape)
      before SDPA, which saves them at h wide: 2 (h - h / q_per_kv) x 2 B more;
    - one lora_dropout on the fused qkv input (its bool mask 1 B and output 2 B per element) where peft has one per
      adapted linear (q_proj, v_proj): 3 h B less."""
    index_copy_source = (H + H // q_per_kv) * 2
    kv = 2 * H * 2 if q_per_kv == 1 else 2 * (H - H // q_per_kv) * 2
    return tokens * (index_copy_source + kv - 3 * H)


@pytest.mark.parametrize("row", ["llama-3-8b/lora", "mistral-7b/lora", "llama-2-7b/lora"])
def test_litgpt_layer_is_our_peft_layer_plus_litgpt_own_tensors(mem, row):
    """Per layer, to the byte: LitGPT's measured activations (3 layers less 2, both peaks at the same moment) equal
    our layer list for the row plus litgpt_layer_extra_bytes (hand): the per-layer difference from LitGPT's code is
    its fused qkv path, not a miscount of ours."""
    two, three = LITGPT_CODE_LAYER_ACTIVATIONS[row]
    argv, tokens, q_per_kv = LITGPT_ROWS[row]
    model = mem.preset_model(argv[1])
    setup = mem.TrainSetup(micro_batch=int(argv[3]), seq_len=512, profile="hf", attn_implementation="sdpa")
    lora = mem.LoraSetup(rank=32, alpha=16, targets="q,v", dropout=0.05, adapter_dtype="bf16")
    ours = sum(t["bytes"] for t in mem.layer_activation_tensors(model, setup, False, "full", lora=lora))
    assert three - two == ours + litgpt_layer_extra_bytes(tokens, q_per_kv)


@pytest.mark.parametrize("row", ["llama-3-8b/lora", "mistral-7b/lora", "llama-2-7b/lora"])
def test_litgpt_lora_peak_is_ours_plus_litgpt_layer_tensors(mem, row):
    """Our timeline's peak plus LitGPT's per-layer extra (hand, checked to the byte above) times 32 layers is within
    3 % of LitGPT's code on fake tensors, as every MemTracker case. Measured: +0.49 %, +0.12 %, +0.08 %; what is left
    is the head and loss path, which peaks elsewhere in LitGPT (the next micro-batch's fp32 logits from Fabric's
    convert_output, beside the previous ones, which `logits` still holds) than in our Hugging Face loss (the loss
    gradient). Without the extra, ours is -0.36 %, -1.5 % and -3.3 % of it: our LoRA rows' match with the
    published peaks is partly compensation (LitGPT's layers hold more, its chunked loss less)."""
    argv, tokens, q_per_kv = LITGPT_ROWS[row]
    ours = timeline_peak(mem, *argv) + LAYERS * litgpt_layer_extra_bytes(tokens, q_per_kv)
    fake = LITGPT_CODE[row][0]
    assert abs(ours / fake - 1) <= 0.03, ours / fake


@pytest.mark.parametrize("row", ["llama-3-8b/qlora", "llama-2-7b/qlora"])
def test_litgpt_qlora_keeps_the_previous_micro_batch_4bit_inputs(row):
    """Where the QLoRA rows' extra comes from, part 1 (no code under test: LitGPT's code against itself and a hand
    count). bitsandbytes 0.42's MatMul4Bit keeps its input as a ctx attribute ("ctx.tensors = (A, B)"), which lives
    as long as the graph, and lora.py keeps the graph through `loss` until the next micro-batch's loss: during the
    next forward every frozen 4-bit linear's input of the previous micro-batch is alive. By hand, per layer the
    inputs of qkv (h), proj (h), fc_1 and fc_2 (one h tensor) and the MLP's proj (the MLP width), bf16, less the
    first layer's qkv input (it needs no gradient: ctx.tensors = (None, None)), plus the LM head's input chunks (views
    of ln_f's output, h): the fake runs with the input saved for backward instead hold exactly that much less at
    every moment of the next forward."""
    tokens = LITGPT_ROWS[row][1]
    held = tokens * 2 * (LAYERS * (3 * H + MLP[row]) - H + H)
    for region in ("forward/embedding", "forward/head"):
        assert LITGPT_CODE_REGIONS[row][region] - LITGPT_CODE_SAVES_INPUT[row][region] == held
    assert LITGPT_CODE_REGIONS[row]["backward/head"] == LITGPT_CODE_SAVES_INPUT[row]["backward/head"]


@pytest.mark.parametrize("row", ["llama-3-8b/qlora", "llama-2-7b/qlora"])
def test_litgpt_qlora_quantized_head_dequantizes_whole_per_chunk(row):
    """Part 2. Fabric's BitsandbytesPrecision converts every nn.Linear (no ignore_modules), LitGPT's LM head too,
    quantizing from fp16; each 128-token chunk's forward and backward dequantizes the whole head to fp16 and copies it
    to bf16 (dequantize_4bit(...).to(A.dtype)): 2 V h x 2 B alive at once. Against the head left in bf16 the stored
    head is smaller by V h x 2 B less its nf4 bytes (V h / 2 packed, V h / 64 fp32 absmax, 64 B of code), and holds
    its input (ln_f's output, h x 2 B per token) in ctx.tensors, as above. By hand against the fake runs: outside the
    head the difference is the stored bytes alone; in the head's backward it adds the two dequantized copies."""
    vocab, tokens = VOCAB[row], LITGPT_ROWS[row][1]
    weight_saved = vocab * H * 2 - (vocab * H // 2 + vocab * H // 64 * 4 + 64)
    head_input = tokens * H * 2
    quantized, bf16_head = LITGPT_CODE_REGIONS[row], LITGPT_CODE_HEAD_BF16[row]
    assert quantized["forward/embedding"] - bf16_head["forward/embedding"] == head_input - weight_saved
    assert quantized["backward/head"] - bf16_head["backward/head"] == 2 * vocab * H * 2 + head_input - weight_saved


@pytest.mark.parametrize("row, band", [("llama-3-8b/qlora", (0.83, 0.84)), ("llama-2-7b/qlora", (0.80, 0.82))])
def test_litgpt_qlora_documented_miss_against_litgpt_code(mem, row, band):
    """MISS, documented: our QLoRA timeline (Hugging Face's loop, transformers' bitsandbytes loading: LM head kept
    in bf16; --bnb-version 0.42.0 counting the inputs for the current micro-batch) against LitGPT's code on fake
    tensors: 0.837 and 0.810. The two parts above are the gap (1.74 / 1.53 GB of held inputs in the next forward; the
    quantized head's 2.10 / 0.52 GB of dequantized copies in its chunks, less its 0.76 / 0.19 GB of stored bytes),
    with the per-layer extra of LitGPT's fused qkv. They belong to LitGPT's loop (holding `loss`) and Fabric's plugin
    (quantizing the head), not to bitsandbytes' use in the loop we model (Hugging Face's Trainer drops the graph
    after backward; transformers keeps the head unquantized), so the default walk is not changed for them;
    --trainer litgpt models them (below)."""
    ours = timeline_peak(mem, *LITGPT_ROWS[row][0])
    ratio = ours / LITGPT_CODE[row][0]
    assert band[0] < ratio < band[1], ratio


# ---------------------------------------------------------------------------------------------------------------------
# --trainer litgpt: the step timeline walks LitGPT 0.4's lora.py loop and Fabric's plugins (calc_transformer_mem.py
# litgpt_step_timeline): LitGPT's fused-qkv layer tensors, the chunked head with Fabric's fp32 chunk copies and
# chunked_cross_entropy, the previous micro-batch's `logits` (and, bitsandbytes < 0.43.3, its graph's 4-bit inputs)
# bound through the next forward, the quantized LM head's dequantized copies, PagedAdamW's paged states. The rows
# above keep what the default (--trainer hf) predicts; these hold --trainer litgpt against LitGPT's code on fake
# tensors (3 %, as every MemTracker case) and against the published peaks (10 %, issue 12).
# Accumulation: "global_batch_size: 8" in config_hub/finetune/llama-3-8b/lora.yaml (micro_batch_size 1) and
# qlora.yaml (micro_batch_size 2); the other recipes' are not quoted here, and the peak depends on accumulation only
# through "two or more micro-batches per step" (adapter gradients alive from the second one; the fake runs step every
# 2nd micro-batch), so 8 is given to every row (a multiple of both micro batches).
LITGPT_TRAINER = ("--trainer", "litgpt", "--global-batch", "8")

# Recorded 2026-12-06 for the QLoRA rows as the LoRA rows' per-layer figures above (the same virtual environment):
#   python bench/measure_litgpt_peaks.py llama-3-8b/qlora llama-2-7b/qlora --layers 2   (and --layers 3)
# MemTracker's "Activation" and "Parameter" + "Buffer" at the peak (forward, GPT.lm_head.linear, both cut models) with
# 2 and 3 layers, and the difference of the largest totals per region.
LITGPT_CODE_QLORA_LAYERS = {  # row: {what: (2 layers, 3 layers)}
    "llama-3-8b/qlora": {"activation at the peak": (3_394_666_500, 3_682_246_660),
                         "parameters and buffers at the peak": (1_593_893_568, 1_717_486_592)},
    "llama-2-7b/qlora": {"activation at the peak": (1_253_474_308, 1_530_044_420),
                         "parameters and buffers at the peak": (566_338_240, 681_305_088)},
}
LITGPT_CODE_QLORA_LAYER_DIFF = {  # row: 3 layers less 2, per region (the bench's "regions")
    "llama-3-8b/qlora": {"forward/head": 412_025_152, "zero_grad": 178_118_976},
    "llama-2-7b/qlora": {"forward/head": 392_585_536, "zero_grad": 162_677_056},
}


def litgpt_json(mem, row):
    status, out, err = call_main(mem, [*LITGPT_ROWS[row][0], *LITGPT_TRAINER, *HF_SDPA, *NO_ALLOWANCES, "--json"])
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize("row", sorted(LITGPT_CODE))
def test_litgpt_trainer_meets_litgpt_code_on_fake_tensors(mem, row):
    """--trainer litgpt against LitGPT's own step on fake tensors (LITGPT_CODE): within 3 % and in the same phase
    (the forward of the next micro-batch: Fabric's fp32 copies of the logits beside the previous ones for LoRA, the
    quantized head's dequantized copies for QLoRA). Measured when written: -0.04 %, -0.07 %, -0.08 % (LoRA),
    -0.08 %, -0.11 % (QLoRA)."""
    timeline = litgpt_json(mem, row)["timeline"]
    fake, phase, module = LITGPT_CODE[row]
    assert abs(timeline["peak_total"] / fake - 1) <= 0.03, timeline["peak_total"] / fake
    assert timeline["peak"]["phase"].startswith(phase)
    assert ("LM head" in timeline["peak"]["moment"]) == (module == "GPT.lm_head.linear")


@pytest.mark.parametrize("row", sorted(LITGPT_PUBLISHED))
def test_litgpt_trainer_meets_the_published_peak(mem, row):
    """--trainer litgpt against LitGPT's README (torch.cuda.max_memory_allocated, A10G): within 10 % on all five rows,
    the QLoRA rows included (17.41 GB and 13.68 GB; the default Hugging Face walk misses them by 17 % and 19 %, the
    documented misses above). Measured when written: -0.3 % to -0.7 %."""
    ours = litgpt_json(mem, row)["timeline"]["peak_total"]
    assert abs(ours / LITGPT_PUBLISHED[row] - 1) <= 0.10, ours / LITGPT_PUBLISHED[row]


@pytest.mark.parametrize("row", sorted(LITGPT_CODE))
def test_litgpt_trainer_layer_extra_is_the_hand_count(mem, row):
    """The per-layer tensors --trainer litgpt adds to peft's layer list equal litgpt_layer_extra_bytes above (the
    hand count checked to the byte against LitGPT's code, 3 layers less 2)."""
    _, tokens, q_per_kv = LITGPT_ROWS[row]
    assert litgpt_json(mem, row)["litgpt"]["layer_extra_bytes"] == litgpt_layer_extra_bytes(tokens, q_per_kv)


@pytest.mark.parametrize("row", ["llama-3-8b/qlora", "llama-2-7b/qlora"])
def test_litgpt_trainer_qlora_components(mem, row):
    """The QLoRA pieces --trainer litgpt reports (JSON "litgpt"), each against the hand count and the recorded fake
    runs:
    * the previous micro-batch's 4-bit inputs: T x 2 B x (32 (3 h + MLP) - h + h) (the docstring of
      test_litgpt_qlora_keeps_the_previous_micro_batch_4bit_inputs), equal to the recorded difference between the
      ctx-keeping and the save_for_backward runs in the next forward: 1,744,830,464 / 1,526,726,656 B;
    * the head's dequantized copies: 2 V h x 2 B (fp16 + bf16), equal to the recorded backward/head difference
      against the bf16-head run less the head's input and plus the stored bytes the 4-bit head saves;
    * the quantized head's stored bytes: V h / 2 packed + V h / 64 fp32 absmax + 64 B of code (Fabric's _NF4Linear,
      no double quantization);
    * PagedAdamW: LoRAQKVLinear's lora_A (2 r, h) = 262,144 and lora_B (q + v widths, r) = 163,840 (Llama-3) /
      262,144 (Llama-2) elements, all >= 1e5, so both fp32 states paged outside the allocator: 8 B x trainable
      (13,631,488 / 16,777,216), none inside."""
    got = litgpt_json(mem, row)["litgpt"]
    vocab, tokens = VOCAB[row], LITGPT_ROWS[row][1]
    held = tokens * 2 * (LAYERS * (3 * H + MLP[row]) - H + H)
    assert got["previous_graph_inputs_bytes"] == held
    recorded = LITGPT_CODE_REGIONS[row]["forward/head"] - LITGPT_CODE_SAVES_INPUT[row]["forward/head"]
    assert got["previous_graph_inputs_bytes"] == recorded
    stored = vocab * H // 2 + vocab * H // 64 * 4 + 64
    assert got["head_weight_bytes"] == stored
    assert got["head_dequant_copies_bytes"] == 2 * vocab * H * 2
    head_input, weight_saved = tokens * H * 2, vocab * H * 2 - stored
    recorded = LITGPT_CODE_REGIONS[row]["backward/head"] - LITGPT_CODE_HEAD_BF16[row]["backward/head"]
    assert got["head_dequant_copies_bytes"] == recorded - head_input + weight_saved
    trainable = {"llama-3-8b/qlora": 13_631_488, "llama-2-7b/qlora": 16_777_216}[row]
    assert got["paged_optimizer_state_bytes"] == 8 * trainable
    assert got["optimizer_states_in_allocator_bytes"] == 0


@pytest.mark.parametrize("row", ["llama-3-8b/qlora", "llama-2-7b/qlora"])
def test_litgpt_trainer_qlora_layer_is_the_measured_layer(mem, row):
    """Per QLoRA layer, to the byte, against LitGPT's code on fake tensors (3 layers less 2): at the peak (the next
    micro-batch's head forward) a layer holds its current saved tensors and the previous micro-batch's 4-bit inputs;
    --trainer litgpt counts the current ones as our peft layer list (bitsandbytes 0.42: the frozen linears' inputs
    kept) + LitGPT's fused-qkv tensors (litgpt_layer_extra_bytes, hand) + the attention projection's own input, a
    copy: litgpt's "y = y.reshape(B, T, head_size * n_head)" of SDPA's transposed output, which MatMul4Bit keeps
    beside the output SDPA saves (T x h x 2 B, hand); and the previous inputs by the hand count T x 2 B x (3 h + MLP).
    At zero_grad only the quantized layer's stored bytes and the held inputs remain: the difference less the layer's
    stored parameters and buffers is again the hand count."""
    two, three = LITGPT_CODE_QLORA_LAYERS[row]["activation at the peak"]
    argv, tokens, q_per_kv = LITGPT_ROWS[row]
    model = mem.preset_model(argv[1])
    setup = mem.TrainSetup(micro_batch=2, seq_len=512, profile="hf", attn_implementation="sdpa")
    lora = mem.LoraSetup(rank=32, alpha=16, targets="q,v", dropout=0.05, adapter_dtype="bf16", base_dtype="nf4",
                         bnb_version=(0, 42, 0))
    peft_layer = sum(t["bytes"] for t in mem.layer_activation_tensors(model, setup, False, "full", lora=lora))
    proj_input_copy = tokens * H * 2
    held = tokens * 2 * (3 * H + MLP[row])
    assert three - two == peft_layer + litgpt_layer_extra_bytes(tokens, q_per_kv) + proj_input_copy + held
    stored_two, stored_three = LITGPT_CODE_QLORA_LAYERS[row]["parameters and buffers at the peak"]
    assert LITGPT_CODE_QLORA_LAYER_DIFF[row]["zero_grad"] - (stored_three - stored_two) == held
    adapter_grads = 2 * (2 * 32 * H + 32 * (H + H // q_per_kv))  # bf16, lora_A (2 r, h) + lora_B (q + v widths, r)
    assert LITGPT_CODE_QLORA_LAYER_DIFF[row]["forward/head"] - (stored_three - stored_two) - (three - two) \
        == adapter_grads


def test_litgpt_trainer_lora_keeps_torch_adamw_states_in_the_allocator(mem):
    """bf16-true without quantization: torch.optim.AdamW, two bf16 states per adapter element, in the allocator
    (13,631,488 trainable on Llama-3-8B, r 32 on q and v: 4 B each), nothing paged."""
    got = litgpt_json(mem, "llama-3-8b/lora")["litgpt"]
    assert got["optimizer_states_in_allocator_bytes"] == 4 * 13_631_488
    assert got["paged_optimizer_state_bytes"] == 0


def test_trainer_hf_is_the_default(mem):
    """--trainer hf is today's walk: the same JSON as no --trainer at all."""
    argv = [*LITGPT_ROWS["llama-3-8b/qlora"][0], *HF_SDPA, *NO_ALLOWANCES, "--json"]
    assert call_main(mem, argv) == call_main(mem, [*argv, "--trainer", "hf"])


def test_litgpt_trainer_states_its_assumptions(mem):
    """The text output says what --trainer litgpt assumes (loop, loss path, quantized head, paged optimizer, held
    graph) and where the peak is."""
    status, out, err = call_main(mem, [*LITGPT_ROWS["llama-3-8b/qlora"][0], *LITGPT_TRAINER, *HF_SDPA, "--explain"])
    assert status == 0, err
    for words in ("trainer litgpt: LitGPT 0.4 litgpt/finetune/lora.py", "lm_head_chunk_size=128",
                  "quantizes every nn.Linear including the LM head", "PagedAdamW", "ctx.tensors",
                  "LM head, last chunk (head dequantized)"):
        assert words in out, words


LITGPT_BASE = ("-p", "llama-3-8b", "-b", "2", *LITGPT_LORA, *HF_SDPA)


@pytest.mark.parametrize("extra, words", [
    (("--trainer", "megatron"), "--trainer must be one of hf, litgpt"),
    (("--trainer", ""), "--trainer needs a value"),
    (("--trainer", "litgpt", "-ca"), "activation checkpointing"),
    (("--trainer", "litgpt", "--attn-implementation", "eager"), "--attn-implementation sdpa"),
    (("--trainer", "litgpt", "--base-dtype", "int8"), "int8 and fp4 are not modelled"),
    (("--trainer", "litgpt", "--adapter-dtype", "fp32"), "bf16-true"),
    (("--trainer", "litgpt", "--lora-targets", "all-linear"), "lora_query + lora_value only"),
    (("--trainer", "litgpt", "--lora-dropout", "0"), "lora_dropout > 0"),
    (("--trainer", "litgpt", "--optimizer-impl", "fused"), "drop --optimizer-impl"),
    (("--trainer", "litgpt", "--zero-grad", "zero"), "drop --optimizer-impl / --zero-grad"),
    (("--trainer", "litgpt", "--num-gpus", "2"), "more than one GPU"),
    (("--trainer", "litgpt", "--profile", "megatron"), "--profile hf"),
    (("--trainer", "litgpt", "--dora"), "--dora"),
    (("--trainer", "litgpt", "-opt", "sgd"), "AdamW only"),
])
def test_litgpt_trainer_refuses_what_it_does_not_model(mem, extra, words):
    status, out, err = call_main(mem, [*LITGPT_BASE, *extra])
    assert status == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("argv, words", [
    (("-p", "llama-3-8b", "--trainer", "litgpt"), "give --lora-rank"),
    (("-p", "mixtral-8x7b", "-b", "1", *LITGPT_LORA, "--trainer", "litgpt"), "model type mixtral"),
    (("-p", "gemma-2-9b", "-b", "1", *LITGPT_LORA, "--trainer", "litgpt"), "model type gemma2"),
    (("-p", "llama-3.2-1b", "-b", "1", *LITGPT_LORA, "--trainer", "litgpt"), "tied embeddings"),
    (("-p", "mistral-7b", "-b", "1", *LITGPT_LORA[:-2], "-s", "8192", "--trainer", "litgpt"), "sliding window"),
    (("-p", "llama-3-8b", "--infer", "--trainer", "litgpt"), "--trainer"),
])
def test_litgpt_trainer_refuses_models_it_does_not_model(mem, argv, words):
    status, out, err = call_main(mem, [*argv, *(HF_SDPA if "--infer" not in argv else ())])
    assert status == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err, err


# ---------------------------------------------------------------------------------------------------------------------
# torchtune README.md, "Memory and training speed": "For ease of comparison, all the below numbers are provided for
# batch size 2 (without gradient accumulation), a dataset packed to sequence length 2048, and torch compile enabled."
# The recipes: bf16 model and adapters (dtype: bf16), enable_activation_checkpointing True, torch AdamW fused=True for
# LoRA/QLoRA; chunked cross-entropy (CEWithChunkedOutputLoss / LinearCrossEntropyLoss), which we do not model.
# Not fully specified (which peak statistic; compile), and each recipe uses something we do not model: documented.
TORCHTUNE = ("-p", "llama-3.1-8b", "-s", "2048", "-b", "2", "-ca")


def test_torchtune_llama31_8b_full_documented_miss(mem):
    # "| Llama 3.1 8B | Full finetune | 1x 4090 | 18.9 GiB | 1650 |"
    # 8B_full_single_device.yaml: optimizer bitsandbytes.optim.PagedAdamW8bit, optimizer_in_bwd True,
    # enable_activation_checkpointing True, dtype bf16. MISS (docs: why): the paged 8-bit states (16 GB) live in
    # CUDA unified memory outside PyTorch's allocator, and optimizer_in_bwd steps and frees each gradient as it is
    # produced; we count both (bf16-pure, adamw-8bit), 2.39 x the published peak.
    published = 18.9 * GiB
    ours = timeline_peak(mem, *TORCHTUNE, "--precision", "bf16-pure", "-opt", "adamw-8bit")
    assert 2.30 < ours / published < 2.45, ours / published


def test_torchtune_llama31_8b_lora_documented_miss(mem):
    # "| Llama 3.1 8B | LoRA | 1x 4090 |  16.2 GiB | 3083 |"
    # 8B_lora_single_device.yaml: lora_attn_modules ['q_proj', 'v_proj', 'output_proj'], apply_lora_to_mlp True,
    # lora_rank 8, lora_dropout 0.0, torch.optim.AdamW fused True. MISS (docs: why): 1.36 x; our HF loss (bf16 logits,
    # their fp32 upcast and log-softmax over all 4,096 tokens: 4.96 GiB) is what chunked cross-entropy avoids.
    published = 16.2 * GiB
    ours = timeline_peak(mem, *TORCHTUNE, "--lora-rank", "8",
                         "--lora-targets", "q_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                         "--adapter-dtype", "bf16", "--optimizer-impl", "fused")
    assert 1.32 < ours / published < 1.40, ours / published


def test_torchtune_llama31_8b_qlora_documented_miss(mem):
    # "| Llama 3.1 8B | QLoRA | 1x 4090 | 7.4 GiB | 2413  |"
    # 8B_qlora_single_device.yaml: lora_attn_modules ['q_proj', 'v_proj', 'k_proj', 'output_proj'],
    # apply_lora_to_mlp True, lora_rank 8, torchao NF4 base (blocks of 64, scalers quantised per 256: close to our
    # nf4-dq layout), AdamW fused. MISS (docs: why): 1.67 x, the same loss difference on a smaller total.
    published = 7.4 * GiB
    ours = timeline_peak(mem, *TORCHTUNE, "--lora-rank", "8",
                         "--lora-targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                         "--adapter-dtype", "bf16", "--optimizer-impl", "fused", "--base-dtype", "nf4-dq")
    assert 1.62 < ours / published < 1.72, ours / published


# ---------------------------------------------------------------------------------------------------------------------
# universal-llm-trainer docs/gpu_test.md, "1. NVIDIA H100": "Batch size: 2", "Sequnece length: 8,192 (Without padding,
# fully filled tokens)", "Model type: torch.bfloat16", "Optimizer: torch.optim.AdamW", "w/ Gradient checkpointing",
# "Gradient accumulation: Full fine-tuning: 1, LoRA: 32"; transformers 4.49 (sdpa by default, ForCausalLMLoss).
ULT = ("-p", "llama-3.1-8b", "-s", "8192", "-b", "2", "-ca")
ULT_LORA = ("--lora-rank", "8", "--lora-targets", "q_proj,v_proj,k_proj", "--lora-dropout", "0.05")


def test_universal_llm_trainer_llama31_8b_full(mem):
    # "| [Llama 3.1 8B](../config//llm_llama3.1_full.yaml) | Full | H100 x 1 | 78 GiB (16 GiB) | 4.7 |"
    # llm_llama3.1_full.yaml: bit bfloat16, amp_training False (the model in bf16, no master: bf16-pure, torch AdamW
    # states bf16), gradient_checkpointing hf_checkpoint, gradient_accumuate_step 1. The measurement kind is not
    # stated, so both of our figures are held to 10 %: allocated 74.8 GiB, with allowances 79.6 GiB.
    published = 78 * GiB
    argv = (*ULT, "--precision", "bf16-pure")
    assert abs(timeline_peak(mem, *argv) / published - 1) <= 0.10
    assert abs(timeline_peak(mem, *argv, allowances=True) / published - 1) <= 0.10


def test_universal_llm_trainer_llama31_8b_lora_documented_miss(mem):
    # "| [Llama 3.1 8B](../config//llm_llama3.1_lora.yaml) | LoRA | H100 x 1 | 36 GiB (16 GiB) | 6.4 |"
    # llm_llama3.1_lora.yaml + config_lora/llm_lora_config.yaml: r 8, lora_dropout 0.05, target_modules
    # ['q_proj', 'v_proj', 'k_proj'], bf16 base (peft's fp32 adapters), accumulation 32. MISS (docs: why): 1.19 x
    # allocated; our peak is the loss's (19.8 GiB of fp32 logits and log-softmax over 16,384 tokens) and the trainer's
    # own loss path (del_logits_after_forward) and measurement are not documented.
    published = 36 * GiB
    ours = timeline_peak(mem, *ULT, *ULT_LORA)
    assert 1.15 < ours / published < 1.22, ours / published


def test_universal_llm_trainer_llama31_8b_qlora_documented_miss(mem):
    # "| [Llama 3.1 8B](../config//llm_llama3.1_qlora.yaml) ** | QLoRA | H100 x 1 | 48 GiB (8.0 GiB) | 26.1 |"
    # "**: 4-bit QLoRA training. QLoRA does not always use less GPU than LoRA". llm_llama3.1_qlora.yaml: bit 4,
    # quant_config config_quant/bnb_4bit.yaml (not in the index); the repository's note on load_unnecessary_half
    # (llm_llama3.1_lora.yaml): "(4, 8bit model automatically loads neccesaries to 32bit)": norms, embeddings and
    # LM head in fp32. MISS (docs: why): 0.70 x; fp32 non-quantised modules (fp32 logits and residual stream) are
    # not modelled.
    published = 48 * GiB
    ours = timeline_peak(mem, *ULT, *ULT_LORA, "--base-dtype", "nf4")
    assert 0.67 < ours / published < 0.72, ours / published


def test_litgpt_trainer_implies_its_profile_and_attention(mem):
    # LitGPT's model is Hugging Face-shaped and always runs scaled_dot_product_attention: --trainer litgpt without
    # --profile / --attn-implementation gives the same step peak as with --profile hf --attn-implementation sdpa.
    argv = ["-p", "llama-3-8b", "-b", "2", *LITGPT_LORA, "--base-dtype", "nf4", "--bnb-version", "0.42.0",
            *LITGPT_TRAINER, *NO_ALLOWANCES, "--json"]
    status, out, err = call_main(mem, argv)
    assert status == 0, err
    status, explicit, err = call_main(mem, [*argv, *HF_SDPA])
    assert status == 0, err
    assert json.loads(out)["timeline"]["peak_total"] == json.loads(explicit)["timeline"]["peak_total"]


def test_fits_verdict_takes_the_step_peak_when_it_is_above_the_sum(mem):
    # LitGPT's QLoRA step (llama-3-8b, b 2): LitGPT's own code peaks at 17.35 GB allocated (LITGPT_CODE), 16.16 GiB,
    # so no 16 GiB GPU holds it, whatever the summed table (which prices the Hugging Face loss) says. The verdict is
    # "does NOT fit" and names the step peak.
    assert LITGPT_CODE["llama-3-8b/qlora"][0] > 16 * GiB
    argv = ["-p", "llama-3-8b", "-b", "2", *LITGPT_LORA, "--base-dtype", "nf4", "--bnb-version", "0.42.0",
            *LITGPT_TRAINER, "--gpu-memory", "16GiB"]
    status, out, err = call_main(mem, [*argv, "--json"])
    assert status == 0, err
    result = json.loads(out)
    assert result["per_gpu"]["total"] < 16 * GiB < result["timeline"]["peak_total"] and result["fits"] is False
    status, out, err = call_main(mem, argv)
    assert status == 0 and "does NOT fit in 16.00 GiB" in out and "step timeline's peak" in out, err
