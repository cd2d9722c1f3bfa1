"""Issue 10 / issue 12: training memory of gated delta-net (Qwen3-Next, Qwen3.5's language model) and Mamba-2 (Bamba,
Nemotron-H, Falcon-H1's mixer beside attention) and Mamba-1 (Jamba) layers and LFM2's short convolutions, against MemTracker's measured peak.

Same standard and recipe as tests/test_mem_timeline.py (bench/measure_train_peaks.py --hybrid regenerates MEASURED):
the real model built by transformers 5.23 from Qwen/Qwen3-Next-80B-A3B-Instruct's published config.json
(tests/test_params_torch.py REAL_CONFIGS["qwen3_next"], cited there), cut to 4 layers with its widths, 512 experts and
vocabulary kept -- full_attention_interval 4 makes them three gated delta-net layers and one gated attention layer,
each with the sparse MoE block (10 of 512 experts + the gated shared expert) -- on fake tensors, two training
iterations (forward with labels, backward, foreach AdamW, zero_grad(set_to_none)); the peak of the second.

transformers runs the delta-net through its PyTorch fallbacks on the CPU (torch_chunk_gated_delta_rule: chunks of 64,
fp32 whatever the model's dtype; causal_conv1d_fn), which is what calc_transformer_mem.py's
gated_delta_net_saved_tensors counts, storage by storage.  Its grouped_mm experts need bf16 on the CPU, so the
published (MoE) config is measured in bf16-pure; fp32 is measured with the same config and mlp_only_layers naming
every layer (Qwen3NextConfig's own switch: each layer's MoE block becomes the dense intermediate_size 5120 SwiGLU
MLP; the delta-net and attention layers unchanged).  Autocast (amp-bf16) would run the chunked rule's matmuls in 16
bits and is refused, as are LoRA and -tp/--cp on these layers.  Our peak (overhead, fragmentation and buckets 0)
must be within 3 % of the measured peak, in the same phase.

Qwen3.5's language model (qwen3_5_text, Qwen/Qwen3.5-27B's text_config: the same delta-net with 48 value heads,
gated attention, a dense MLP) is measured the same way, its first 4 layers, fp32 and bf16-pure.

Bamba-9B (REAL_CONFIGS["bamba"]) cut to 10 layers (Mamba-2 mixers 0-8, attention layer 9): BambaMixer's training
path without the fused mamba_split_conv1d_scan_combined kernel (causal_conv1d_fn, mamba2_chunk_scan with chunks of 256,
the gated RMSNorm), which calc_transformer_mem.py's mamba2_saved_tensors counts; its attention layer gets the model's
materialised 4-D mask, so sdpa repeats K/V to every head and the mask is held through the step.

Nemotron-H-8B (REAL_CONFIGS["nemotron_h"]) cut to 8 blocks ("M-M-M-M*"): one norm and one mixer (the same Mamba-2
mixer code as Bamba's), relu^2 MLP or attention (masked as Bamba's) per block.

Falcon-H1-0.5B (REAL_CONFIGS["falcon_h1"]) cut to 4 layers: in every layer FalconH1Mixer (the same PyTorch Mamba-2
path as Bamba's, without the gated RMSNorm: mamba_rms_norm false, so scan_output * silu(z)) BESIDE grouped-query
attention on the same norm output, each branch reading its own muP-scaled copy (ssm_in_multiplier,
attention_in_multiplier; the mup_vector product is what the conv views), then the SwiGLU MLP (its multipliers scale by
Python numbers and save nothing more).  sdpa gets no materialised mask here (enable_gqa, K/V not repeated).  One
layer's saved tensors, counted storage by storage with saved_tensors_hooks on fake tensors, are within 0.1 % of
layer_activation_tensors (fp32 2 x 2048, bf16 3 x 1000, eager bf16 2 x 2048).

AI21-Jamba-1.5-Mini (REAL_CONFIGS["jamba"]) cut to its first layer (a Mamba-1 mixer and the dense MLP, fp32 and bf16)
and to its first 5 (Mamba-1 layers 0-3, MoE blocks on layers 1 and 3, attention layer 4; bf16), use_cache off:
JambaMambaMixer's PyTorch path (causal_conv1d_fn, the dt / B / C RMSNorms, mamba_selective_scan's recurrent loop),
which calc_transformer_mem.py's mamba1_saved_tensors counts (one layer's saved tensors equal saved_tensors_hooks'
count to the byte: fp32 2 x 48 and 1 x 40, bf16 1 x 64 and 3 x 40); the loop's backward holds three (b, d, s, N) fp32
gradients (and one at the activation dtype in bf16) at its peak.  Checkpointing is not measured and refused.

LFM2-1.2B (REAL_CONFIGS["lfm2"]) cut to 3 layers: two Lfm2ShortConv layers and the attention layer 2 (masked as
Bamba's), each with its SwiGLU MLP.
"""
from __future__ import annotations

import pytest

from conftest import call_main, torch_and_transformers
from test_mem_timeline import NO_DROPOUT, _bench

DENSE = {"mlp_only_layers": [0, 1, 2, 3]}  # every layer's MoE block replaced by the dense MLP (fp32 on the CPU)


def _case(attn, precision, batch, seq, ckpt=False, extra=None, model="qwen3_next", layers=4):
    return {"model": model, "layers": layers, "attn": attn, "precision": precision, "batch": batch, "seq": seq,
            "checkpointing": ckpt, "extra": extra or {}}


CASES = {
    # big micro-batches: 512 experts make the model states ~72 GB in bf16-pure, so the delta-net layers' saved tensors
    # decide the peak only from ~30k tokens on (smaller runs peak in the optimizer step)
    "qwen3next-sdpa-bf16-8x4096": _case("sdpa", "bf16-pure", 8, 4096),
    "qwen3next-eager-bf16-16x2048": _case("eager", "bf16-pure", 16, 2048),
    "qwen3next-sdpa-bf16-ckpt-8x4096": _case("sdpa", "bf16-pure", 8, 4096, ckpt=True),
    "qwen3next-sdpa-bf16-30x1000": _case("sdpa", "bf16-pure", 30, 1000),     # 1000 pads to 16 chunks of 64
    "qwen3next-sdpa-bf16-1x512": _case("sdpa", "bf16-pure", 1, 512),         # the optimizer step's peak
    "qwen3next-dense-sdpa-fp32-2x2048": _case("sdpa", "fp32", 2, 2048, extra=DENSE),
    "qwen3next-dense-eager-fp32-ckpt-2x2048": _case("eager", "fp32", 2, 2048, ckpt=True, extra=DENSE),
    "qwen3next-dense-sdpa-bf16-2x2048": _case("sdpa", "bf16-pure", 2, 2048, extra=DENSE),
    # Qwen3.5-27B's language model (qwen3_5_text: the same delta-net, 48 value heads, and gated attention over a dense
    # SwiGLU MLP), cut to its first 4 layers
    "qwen3.5-text-sdpa-fp32-2x2048": _case("sdpa", "fp32", 2, 2048, model="qwen3_5_text"),
    "qwen3.5-text-eager-bf16-ckpt-2x2048": _case("eager", "bf16-pure", 2, 2048, ckpt=True, model="qwen3_5_text"),
    "qwen3.5-text-sdpa-fp32-4x4096": _case("sdpa", "fp32", 4, 4096, model="qwen3_5_text"),
    "qwen3.5-text-eager-bf16-ckpt-8x4096": _case("eager", "bf16-pure", 8, 4096, ckpt=True, model="qwen3_5_text"),
    # Bamba-9B (ibm-ai-platform/Bamba-9B's fields, REAL_CONFIGS["bamba"]) cut to its first 10 layers: 9 Mamba-2 mixers
    # and the attention layer 9 (attn_layer_indices as published), each with the SwiGLU MLP
    "bamba-sdpa-fp32-1x4096": _case("sdpa", "fp32", 1, 4096, model="bamba", layers=10),
    "bamba-eager-bf16-2x2048": _case("eager", "bf16-pure", 2, 2048, model="bamba", layers=10),
    "bamba-sdpa-bf16-ckpt-2x4096": _case("sdpa", "bf16-pure", 2, 4096, ckpt=True, model="bamba", layers=10),
    "bamba-sdpa-bf16-3x1000": _case("sdpa", "bf16-pure", 3, 1000, model="bamba", layers=10),  # pads to 1024
    "bamba-sdpa-fp32-1x512": _case("sdpa", "fp32", 1, 512, model="bamba", layers=10),
    # Nemotron-H-8B (REAL_CONFIGS["nemotron_h"]) cut to its first 8 blocks, hybrid_override_pattern "M-M-M-M*": 4
    # Mamba-2 mixers, 3 relu^2 MLPs, 1 attention block (NoPE), one norm and one mixer or MLP per block
    "nemotronh-sdpa-fp32-1x4096": _case("sdpa", "fp32", 1, 4096, model="nemotron_h", layers=8),
    "nemotronh-eager-bf16-2x2048": _case("eager", "bf16-pure", 2, 2048, model="nemotron_h", layers=8),
    "nemotronh-sdpa-bf16-ckpt-2x4096": _case("sdpa", "bf16-pure", 2, 4096, ckpt=True, model="nemotron_h", layers=8),
    "nemotronh-sdpa-bf16-3x1000": _case("sdpa", "bf16-pure", 3, 1000, model="nemotron_h", layers=8),
    # Nemotron-3-Nano-30B-A3B (REAL_CONFIGS["nemotron_h_moe"]) cut to 8 blocks ("MEMEM*EM": 4 Mamba-2, 3 MoE of 128
    # relu^2 experts, top 6, + a shared expert, 1 attention); bf16 only (grouped_mm experts on the CPU).  Checkpointed
    # (8 x 4096) it measured 86,779,381,632 B inside a recomputed MoE block's backward, 5.6 % above our timeline:
    # refused (state_layer_training_refusal), not listed here
    "nemotronh-moe-sdpa-bf16-4x4096": _case("sdpa", "bf16-pure", 4, 4096, model="nemotron_h_moe", layers=8),
    "nemotronh-moe-eager-bf16-2x4096": _case("eager", "bf16-pure", 2, 4096, model="nemotron_h_moe", layers=8),
    "nemotronh-moe-sdpa-bf16-9x1000": _case("sdpa", "bf16-pure", 9, 1000, model="nemotron_h_moe", layers=8),
    # LFM2-1.2B (REAL_CONFIGS["lfm2"]) cut to its first 3 layers: 2 short convolutions and the attention layer 2
    "lfm2-sdpa-fp32-2x2048": _case("sdpa", "fp32", 2, 2048, model="lfm2", layers=3),
    "lfm2-eager-bf16-4x2048": _case("eager", "bf16-pure", 4, 2048, model="lfm2", layers=3),
    "lfm2-sdpa-bf16-ckpt-4x4096": _case("sdpa", "bf16-pure", 4, 4096, ckpt=True, model="lfm2", layers=3),
    "lfm2-sdpa-fp32-3x1000": _case("sdpa", "fp32", 3, 1000, model="lfm2", layers=3),
    "qwen3.5-text-sdpa-bf16-3x1000": _case("sdpa", "bf16-pure", 3, 1000, model="qwen3_5_text"),
    # Falcon-H1-0.5B (REAL_CONFIGS["falcon_h1"]) cut to its first 4 layers: in every layer a Mamba-2 mixer (24 heads
    # of 64, state 128, no gated norm: mamba_rms_norm false) BESIDE grouped-query attention (8 heads, 2 K/V), muP
    # multipliers on both branches' inputs and outputs, then the SwiGLU MLP
    "falconh1-sdpa-fp32-2x2048": _case("sdpa", "fp32", 2, 2048, model="falcon_h1"),
    "falconh1-sdpa-bf16-4x2048": _case("sdpa", "bf16-pure", 4, 2048, model="falcon_h1"),
    "falconh1-sdpa-bf16-3x1000": _case("sdpa", "bf16-pure", 3, 1000, model="falcon_h1"),
    "falconh1-sdpa-fp32-ckpt-2x4096": _case("sdpa", "fp32", 2, 4096, ckpt=True, model="falcon_h1"),
    "falconh1-eager-bf16-2x2048": _case("eager", "bf16-pure", 2, 2048, model="falcon_h1"),
    # AI21-Jamba-1.5-Mini (REAL_CONFIGS["jamba"]) cut to its first layer (a Mamba-1 mixer and the dense SwiGLU MLP;
    # fp32 too) and to its first 5 (Mamba-1 layers 0-3, MoE blocks of 16 experts top 2 on layers 1 and 3, attention
    # layer 4; bf16 only: grouped_mm experts on the CPU)
    "jamba-sdpa-fp32-2x1024": _case("sdpa", "fp32", 2, 1024, model="jamba", layers=1),
    "jamba-sdpa-bf16-3x1000": _case("sdpa", "bf16-pure", 3, 1000, model="jamba", layers=1),
    "jamba-sdpa-bf16-1x2048": _case("sdpa", "bf16-pure", 1, 2048, model="jamba", layers=1),
    "jamba5-sdpa-bf16-2x1024": _case("sdpa", "bf16-pure", 2, 1024, model="jamba", layers=5),
}
MEASURED = {  # bench/measure_train_peaks.py --hybrid (bytes, the measured phase): torch 2.13.0+cpu, transformers 5.23.0
    'qwen3next-sdpa-bf16-8x4096': (164721067664, 'backward'),  # 153.408 GiB, 51.1 s
    'qwen3next-eager-bf16-16x2048': (171363403408, 'backward'),  # 159.595 GiB, 18.5 s
    'qwen3next-sdpa-bf16-ckpt-8x4096': (104347347856, 'backward'),  # 97.181 GiB, 46.7 s
    'qwen3next-sdpa-bf16-30x1000': (154942446032, 'backward'),  # 144.301 GiB, 10.8 s
    'qwen3next-sdpa-bf16-1x512': (72100035720, 'optimizer step'),  # 67.148 GiB, 6.9 s
    'qwen3next-dense-sdpa-fp32-2x2048': (26750455760, 'backward'),  # 24.913 GiB, 14.4 s
    'qwen3next-dense-eager-fp32-ckpt-2x2048': (18256671952, 'backward'),  # 17.003 GiB, 20.6 s
    'qwen3next-dense-sdpa-bf16-2x2048': (18926552656, 'backward'),  # 17.627 GiB, 13.6 s
    'qwen3.5-text-sdpa-fp32-2x2048': (81297534560, 'optimizer step'),  # 75.714 GiB, 18.1 s
    'qwen3.5-text-eager-bf16-ckpt-2x2048': (40648767520, 'optimizer step'),  # 37.857 GiB, 21.5 s
    'qwen3.5-text-sdpa-bf16-3x1000': (41633858632, 'backward'),  # 38.775 GiB, 8.5 s
    'qwen3.5-text-sdpa-fp32-4x4096': (163303650792, 'backward'),  # 152.088 GiB, 27.6 s
    'qwen3.5-text-eager-bf16-ckpt-8x4096': (125329827240, 'backward'),  # 116.722 GiB, 40.0 s
    'bamba-sdpa-fp32-1x4096': (109218101086, 'backward'),  # 101.717 GiB, 12.4 s
    'bamba-eager-bf16-2x2048': (80713956286, 'backward'),  # 75.171 GiB, 10.9 s
    'bamba-sdpa-bf16-ckpt-2x4096': (40226234446, 'backward'),  # 37.464 GiB, 15.0 s
    'bamba-sdpa-bf16-3x1000': (64639432654, 'backward'),  # 60.200 GiB, 10.0 s
    'bamba-sdpa-fp32-1x512': (75497854212, 'optimizer step'),  # 70.313 GiB, 9.9 s
    'nemotronh-sdpa-fp32-1x4096': (52645921508, 'backward'),  # 49.030 GiB, 5.4 s
    'nemotronh-eager-bf16-2x2048': (39573384676, 'backward'),  # 36.856 GiB, 3.2 s
    'nemotronh-sdpa-bf16-ckpt-2x4096': (26253952220, 'backward'),  # 24.451 GiB, 4.2 s
    'nemotronh-sdpa-bf16-3x1000': (31355259652, 'backward'),  # 29.202 GiB, 3.3 s
    'lfm2-sdpa-fp32-2x2048': (10060703612, 'backward'),  # 9.370 GiB, 2.8 s
    'lfm2-eager-bf16-4x2048': (14854386812, 'backward'),  # 13.834 GiB, 1.2 s
    'lfm2-sdpa-bf16-ckpt-4x4096': (15398728828, 'backward'),  # 14.341 GiB, 1.2 s
    'lfm2-sdpa-fp32-3x1000': (8425770076, 'backward'),  # 7.847 GiB, 0.8 s
    'nemotronh-moe-sdpa-bf16-4x4096': (98216265480, 'backward'),  # 91.471 GiB, 6.2 s
    'nemotronh-moe-sdpa-bf16-9x1000': (67249401032, 'backward'),  # 62.631 GiB, 4.1 s
    'nemotronh-moe-eager-bf16-2x4096': (70003834632, 'backward'),  # 65.196 GiB, 6.0 s
    'falconh1-sdpa-fp32-2x2048': (7151284252, 'backward'),  # 6.660 GiB, 7.4 s
    'falconh1-sdpa-bf16-4x2048': (10621649820, 'backward'),  # 9.892 GiB, 4.4 s
    'falconh1-sdpa-bf16-3x1000': (4382774076, 'backward'),  # 4.082 GiB, 3.9 s
    'falconh1-sdpa-fp32-ckpt-2x4096': (4904919316, 'backward'),  # 4.568 GiB, 5.6 s
    'falconh1-eager-bf16-2x2048': (7299272860, 'backward'),  # 6.798 GiB, 7.8 s
    'jamba-sdpa-fp32-2x1024': (20062899672, 'backward'),  # 18.685 GiB, 36.9s
    'jamba-sdpa-bf16-3x1000': (18332509784, 'backward'),  # 17.073 GiB, 34.4s
    'jamba-sdpa-bf16-1x2048': (14377723672, 'backward'),  # 13.390 GiB, 70.1s
    'jamba5-sdpa-bf16-2x1024': (72192064648, 'backward'),  # 67.234 GiB, 197.5s
}


def case_config(key):
    """The published config of CASES[key], cut to 4 layers, with the case's switches, dropout off."""
    from test_mem_torch import shrunk
    c = CASES[key]
    if c["model"] == "qwen3_5_text":  # Qwen/Qwen3.5-27B's text_config (REAL_CONFIGS["qwen3_5"], cited there)
        from test_params_torch import REAL_CONFIGS
        cfg = {k: v for k, v in REAL_CONFIGS["qwen3_5"]["text_config"].items()
               if not k.endswith("token_id") and k != "dtype"}
        cfg.update(num_hidden_layers=c["layers"], layer_types=cfg["layer_types"][:c["layers"]], pad_token_id=None)
    else:
        cfg = shrunk(c["model"], num_hidden_layers=c["layers"])
    if c["model"] == "bamba":  # the attention layers of the cut model (the published 9, 18, 27 -> 9)
        cfg["attn_layer_indices"] = [i for i in cfg["attn_layer_indices"] if i < c["layers"]]
    if c["model"] == "lfm2":  # the attention layers of the cut model
        cfg["full_attn_idxs"] = [i for i in cfg["full_attn_idxs"] if i < c["layers"]]
    if c["model"] == "jamba":  # no cache in the training step (a cut without attention layers cannot build one)
        cfg["use_cache"] = False
    if c["model"].startswith("nemotron_h"):  # the pattern of the cut model's blocks
        cfg["hybrid_override_pattern"] = cfg["hybrid_override_pattern"][:c["layers"]]
    cfg.update(c["extra"])
    cfg.update({k: v for k, v in NO_DROPOUT.items() if k in cfg})
    return cfg


def measure_kwargs(key):
    c = dict(CASES[key])
    for k in ("model", "layers", "extra"):
        c.pop(k)
    return c


def our_timeline(mem, key):
    c = CASES[key]
    model, _ = mem.model_from_config(case_config(key), c["model"])
    setup = mem.TrainSetup(precision=c["precision"], micro_batch=c["batch"], seq_len=c["seq"],
                           global_batch=c["batch"], attn_implementation=c["attn"], profile="hf",
                           recompute="full" if c["checkpointing"] else "none", overhead=0, fragmentation=0,
                           comm_buffer=0)
    result = mem.training_memory(model, setup)
    mem.attach_timeline(result, model, setup)
    return result


@pytest.mark.parametrize("key", sorted(CASES))
def test_delta_net_timeline_peak_within_3_percent_of_memtracker(mem, key):
    measured, phase = MEASURED[key]
    result = our_timeline(mem, key)
    peak = result["timeline"]["peak"]
    print(f"{key}: measured {measured:,} B ({phase}), timeline {peak['total']:,} B ({peak['phase']}: "
          f"{peak['moment']}), sum {result['per_gpu']['total']:,} B")
    assert abs(peak["total"] - measured) <= 0.03 * measured
    assert peak["phase"].split(" (")[0] == phase


@pytest.mark.torch
@pytest.mark.parametrize("key", ["qwen3next-dense-sdpa-bf16-2x2048"])
def test_measured_bytes_still_hold(key):
    """Re-measure the cheapest case (the others take ~10-30 s each on fake tensors; bench/measure_train_peaks.py
    --hybrid re-measures them all)."""
    torch_and_transformers()
    r = _bench().measure(case_config(key), **measure_kwargs(key))
    assert (r["peak"], r["phase"]) == MEASURED[key]


@pytest.mark.parametrize("argv, words", [
    (["--precision", "amp-bf16"], "--precision amp-bf16"),
    (["--profile", "megatron"], "--profile hf"),
    (["-tp", "2"], "-tp/--cp"),
    (["--lora-rank", "8"], "gated delta-net"),
    (["--predict-step"], "--predict-step"),
    (["--recompute", "selective"], "--recompute selective"),
    (["--search", "--gpu", "h100-sxm", "--num-gpus", "8"], "--search"),
])
def test_unmeasured_delta_net_setups_are_refused_in_one_line(mem, argv, words):
    code, out, err = call_main(mem, ["-p", "qwen3-next-80b-a3b", "--profile", "hf"] + argv)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_qwen3_next_training_runs_and_lists_the_delta_net_tensors(mem):
    code, out, err = call_main(mem, ["-p", "qwen3-next-80b-a3b", "--profile", "hf", "--precision", "bf16-pure",
                                     "-s", "4096", "--explain"])
    assert code == 0, err
    assert "delta-net recurrent state per chunk" in out


def test_nemotron_h_moe_checkpointing_is_refused(mem):
    """Measured 5.6 % above the timeline (a recomputed MoE block's backward): refused, not guessed."""
    from test_mem_torch import shrunk
    cfg = shrunk("nemotron_h_moe", num_hidden_layers=8)
    cfg["hybrid_override_pattern"] = cfg["hybrid_override_pattern"][:8]
    model, _ = mem.model_from_config(cfg, "nemotron_h_moe")
    setup = mem.TrainSetup(precision="bf16-pure", micro_batch=1, seq_len=1024, profile="hf", recompute="full")
    with pytest.raises(mem.InputError, match="MoE blocks and --recompute full"):
        mem.validate_setup(setup, model)


@pytest.mark.parametrize("argv, words", [
    ([], "--profile hf"),
    (["--profile", "hf", "--precision", "amp-bf16"], "--precision amp-bf16"),
    (["--profile", "hf", "-tp", "2"], "-tp/--cp"),
    (["--profile", "hf", "--lora-rank", "8"], "--lora-rank with Mamba-2 layers"),
    (["--profile", "hf", "--recompute", "selective"], "--recompute selective"),
    (["--profile", "hf", "--predict-step"], "--predict-step"),
])
def test_unmeasured_falcon_h1_setups_are_refused_in_one_line(mem, tmp_path, argv, words):
    """Falcon-H1's Mamba-2 mixers sit beside attention (no layer is 'linear'): the hybrid refusals still apply."""
    import json
    from test_params_torch import REAL_CONFIGS
    path = tmp_path / "config.json"
    path.write_text(json.dumps(REAL_CONFIGS["falcon_h1"]))
    code, out, err = call_main(mem, ["--config", str(path)] + argv)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_falcon_h1_training_runs_and_lists_the_mixer_tensors(mem, tmp_path):
    import json
    from test_params_torch import REAL_CONFIGS
    path = tmp_path / "config.json"
    path.write_text(json.dumps(REAL_CONFIGS["falcon_h1"]))
    code, out, err = call_main(mem, ["--config", str(path), "--profile", "hf", "--precision", "bf16-pure", "-s",
                                     "4096", "--explain"])
    assert code == 0, err
    assert "mamba silu(z)" in out and "mamba in_proj input (norm output x ssm_in_multiplier)" in out


def test_jamba_checkpointing_is_refused(mem):
    """Jamba is measured without checkpointing only: --recompute full refused, not guessed."""
    from test_mem_torch import shrunk
    cfg = shrunk("jamba", num_hidden_layers=5)
    model, _ = mem.model_from_config(cfg, "jamba")
    setup = mem.TrainSetup(precision="bf16-pure", micro_batch=1, seq_len=1024, profile="hf", recompute="full")
    with pytest.raises(mem.InputError, match="Mamba-1 layers.*--recompute full"):
        mem.validate_setup(setup, model)
