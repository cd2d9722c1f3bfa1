"""Issue 12, LoRA: the step timeline's peak of a LoRA fine-tune against the peak MemTracker measures in a real step.

How it is measured (bench/measure_train_peaks.py, build_model / materialize): peft cannot wrap a model of fake
tensors (each new adapter is moved to its base layer's device and dtype with nn.Module.to, whose _apply must swap a
FakeTensor parameter in place: "Couldn't swap Linear.weight"). So transformers builds the model from the published
config.json (tests/test_params_torch.py REAL_CONFIGS, each cited there; cut to two layers, widths and vocabulary
kept) on the meta device, peft wraps it there (get_peft_model, LoraConfig(r, target_modules, lora_dropout): peft's
own code picks every adapter's shape and dtype; a bf16 base gets fp32 adapters, autocast_adapter_dtype), then every
parameter and buffer is replaced by an empty CPU tensor of the same shape, dtype and requires_grad under
FakeTensorMode (a tied table stays one tensor). The step that follows runs transformers' and peft's real forward and
backward with the CPU kernels deciding what autograd saves; MemTracker's gradient hooks skip the frozen parameters
(register_hook refuses a tensor without requires_grad). test_meta_then_fake_build_measures_what_the_fake_build_does
checks that this route measures the full fine-tune's bytes of tests/test_mem_timeline.py to the byte.

Precision: "fp32" is an fp32 model with fp32 adapters (--base-dtype fp32); "bf16-pure" a bf16 model with peft's fp32
adapters (--base-dtype bf16, the default); "amp-bf16" an fp32 model and adapters with forward and loss under
torch.autocast (--base-dtype fp32 --precision amp-bf16). Models: Llama-3.2-1B (tied), Llama-3-8B (untied GQA), Gemma-2-9B (sandwich norms,
eager), phi-2 (parallel block, LayerNorm, biases), Mixtral-8x7B (MoE, q,v only: all-linear on it is refused),
Qwen3-4B (q/k RMSNorm), Qwen2-0.5B (q/k/v biases).

LoRA dropout: on a CUDA device dropout is native_dropout, which saves a bool mask (1 B per element); on the CPU
ATen's dropout (_dropout_impl, aten/src/ATen/native/Dropout.cpp, taken where is_fused_kernel_acceptable fails: a
CPU tensor) multiplies by a noise tensor of the input's dtype and saves that (checked in
test_cpu_dropout_saves_an_input_width_noise_tensor). The script models the GPU, so a dropout case's CPU bytes are
turned into the CUDA ones by hand: less (adapter width - 1) B per element of every adapter input whose dropout is
recorded (an input that needs a gradient: not the first layer's norm output).

Our peak (overhead and fragmentation 0) must be within 3 % of the measured peak, in the same phase of the step.
"""
from __future__ import annotations

import pytest

from conftest import torch_and_transformers
from test_mem_timeline import NO_DROPOUT, _bench

QV = ["q_proj", "v_proj"]


def _lora(model, layers, attn, precision, batch, seq, r, targets, ckpt=False, dropout=0.0):
    return {"model": model, "layers": layers, "attn": attn, "precision": precision, "batch": batch, "seq": seq,
            "checkpointing": ckpt, "lora": {"r": r, "targets": targets, "dropout": dropout}}


CASES = {
    "llama3.2-sdpa-fp32-qv-r8": _lora("llama3.2", 2, "sdpa", "fp32", 2, 2048, 8, QV),
    "llama3.2-sdpa-fp32-qv-r64": _lora("llama3.2", 2, "sdpa", "fp32", 2, 2048, 64, QV),
    "llama3.2-sdpa-fp32-all-r16": _lora("llama3.2", 2, "sdpa", "fp32", 2, 2048, 16, "all-linear"),
    "llama3.2-sdpa-fp32-qv-r8-ckpt": _lora("llama3.2", 2, "sdpa", "fp32", 2, 2048, 8, QV, ckpt=True),
    "llama3.2-sdpa-fp32-all-r16-ckpt": _lora("llama3.2", 2, "sdpa", "fp32", 2, 2048, 16, "all-linear", ckpt=True),
    "llama3.2-sdpa-bf16-qv-r8": _lora("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, 8, QV),
    "llama3.2-sdpa-bf16-qv-r64": _lora("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, 64, QV),
    "llama3.2-sdpa-bf16-all-r16": _lora("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, 16, "all-linear"),
    "llama3.2-sdpa-bf16-qv-r64-ckpt": _lora("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, 64, QV, ckpt=True),
    "llama3.2-eager-bf16-all-r16": _lora("llama3.2", 2, "eager", "bf16-pure", 2, 2048, 16, "all-linear"),
    "llama3.2-sdpa-bf16-all-r16-dropout": _lora("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, 16, "all-linear",
                                                dropout=0.05),
    "llama3.2-sdpa-fp32-qv-r8-dropout": _lora("llama3.2", 2, "sdpa", "fp32", 2, 2048, 8, QV, dropout=0.1),
    "llama3-sdpa-bf16-qv-r8": _lora("llama3", 2, "sdpa", "bf16-pure", 2, 2048, 8, QV),
    "llama3-eager-fp32-qv-r64": _lora("llama3", 2, "eager", "fp32", 1, 1024, 64, QV),
    "llama3-sdpa-bf16-all-r16-ckpt": _lora("llama3", 2, "sdpa", "bf16-pure", 2, 2048, 16, "all-linear", ckpt=True),
    "gemma2-eager-bf16-qv-r8": _lora("gemma2", 2, "eager", "bf16-pure", 2, 2048, 8, QV),
    "gemma2-eager-fp32-all-r16-ckpt": _lora("gemma2", 2, "eager", "fp32", 1, 2048, 16, "all-linear", ckpt=True),
    "phi-sdpa-bf16-all-r16": _lora("phi", 2, "sdpa", "bf16-pure", 2, 2048, 16, "all-linear"),
    "phi-eager-fp32-qv-r8": _lora("phi", 2, "eager", "fp32", 2, 2048, 8, QV),   # first layer's MLP: no gradient
    "mixtral-sdpa-bf16-qv-r8": _lora("mixtral", 2, "sdpa", "bf16-pure", 2, 2048, 8, QV),
    "mixtral-eager-bf16-qv-r8-ckpt": _lora("mixtral", 2, "eager", "bf16-pure", 1, 2048, 8, QV, ckpt=True),
    # the peak inside the routed experts' backward of the recomputed layer (gated-MLP backward temporaries)
    "mixtral-sdpa-bf16-qv-r64-ckpt": _lora("mixtral", 2, "sdpa", "bf16-pure", 2, 2048, 64, QV, ckpt=True),
    # autocast over an fp32 base (HF Trainer --bf16 on an fp32-loaded model): --base-dtype fp32 --precision amp-bf16
    "llama3.2-sdpa-amp-qv-r8": _lora("llama3.2", 2, "sdpa", "amp-bf16", 2, 2048, 8, QV),
    "llama3.2-sdpa-amp-all-r16": _lora("llama3.2", 2, "sdpa", "amp-bf16", 2, 2048, 16, "all-linear"),
    "llama3.2-eager-amp-qv-r64-ckpt": _lora("llama3.2", 2, "eager", "amp-bf16", 2, 2048, 64, QV, ckpt=True),
    "llama3-sdpa-amp-all-r16": _lora("llama3", 2, "sdpa", "amp-bf16", 2, 2048, 16, "all-linear"),
    "phi-sdpa-amp-qv-r8": _lora("phi", 2, "sdpa", "amp-bf16", 2, 2048, 8, QV),
    "gemma2-eager-amp-qv-r8": _lora("gemma2", 2, "eager", "amp-bf16", 1, 2048, 8, QV),
    "qwen3-sdpa-bf16-qv-r8": _lora("qwen3", 2, "sdpa", "bf16-pure", 2, 2048, 8, QV),   # q/k norms
    "qwen3-sdpa-fp32-all-r16": _lora("qwen3", 2, "sdpa", "fp32", 2, 2048, 16, "all-linear"),
    "qwen2-0.5b-eager-bf16-qv-r64": _lora("qwen2_tied", 2, "eager", "bf16-pure", 2, 2048, 64, QV),  # biases
}
# bench/measure_train_peaks.py --lora's table (bytes, the measured phase): torch 2.13.0+cpu, transformers 5.23,
# peft 0.21.2; CPU bytes (the dropout cases' noise tensors included: see cuda_bytes)
MEASURED = {
    'llama3.2-sdpa-fp32-qv-r8': (9019662632, 'backward'),  # 8.400 GiB, 2.8 s
    'llama3.2-sdpa-fp32-qv-r64': (9032278312, 'backward'),  # 8.412 GiB, 1.8 s
    'llama3.2-sdpa-fp32-all-r16': (9373983096, 'backward'),  # 8.730 GiB, 4.1 s
    'llama3.2-sdpa-fp32-qv-r8-ckpt': (8019812648, 'backward'),  # 7.469 GiB, 2.8 s
    'llama3.2-sdpa-fp32-all-r16-ckpt': (8035443064, 'backward'),  # 7.484 GiB, 6.2 s
    'llama3.2-sdpa-bf16-qv-r8': (7831081256, 'backward'),  # 7.293 GiB, 2.6 s
    'llama3.2-sdpa-bf16-qv-r64': (7843696936, 'backward'),  # 7.305 GiB, 2.5 s
    'llama3.2-sdpa-bf16-all-r16': (8386728312, 'backward'),  # 7.811 GiB, 5.3 s
    'llama3.2-sdpa-bf16-qv-r64-ckpt': (7192498472, 'backward'),  # 6.699 GiB, 3.3 s
    'llama3.2-eager-bf16-all-r16': (11623682424, 'backward'),  # 10.825 GiB, 3.5 s
    'llama3.2-sdpa-bf16-all-r16-dropout': (8957153656, 'backward'),  # 8.342 GiB, 2.4 s
    'llama3.2-sdpa-fp32-qv-r8-dropout': (9153880360, 'backward'),  # 8.525 GiB, 0.7 s
    'llama3-sdpa-bf16-qv-r8': (10692370984, 'backward'),  # 9.958 GiB, 1.0 s
    'llama3-eager-fp32-qv-r64': (8351482408, 'backward'),  # 7.778 GiB, 1.3 s
    'llama3-sdpa-bf16-all-r16-ckpt': (9520095864, 'backward'),  # 8.866 GiB, 4.3 s
    'gemma2-eager-bf16-qv-r8': (21037826090, 'backward'),  # 19.593 GiB, 2.6 s
    'gemma2-eager-fp32-all-r16-ckpt': (13859656828, 'backward'),  # 12.908 GiB, 4.5 s
    'phi-sdpa-bf16-all-r16': (5013631208, 'backward'),  # 4.669 GiB, 2.5 s
    'phi-eager-fp32-qv-r8': (7393894568, 'backward'),  # 6.886 GiB, 1.2 s
    'mixtral-sdpa-bf16-qv-r8': (10156581480, 'backward'),  # 9.459 GiB, 1.8 s
    'mixtral-eager-bf16-qv-r8-ckpt': (8187019816, 'backward'),  # 7.625 GiB, 4.5 s
    'mixtral-sdpa-bf16-qv-r64-ckpt': (8358830664, 'backward'),  # 7.785 GiB, 20.1 s
    'llama3.2-sdpa-amp-qv-r8': (9289031976, 'backward'),  # 8.651 GiB
    'llama3.2-sdpa-amp-all-r16': (9577144696, 'backward'),  # 8.919 GiB
    'llama3.2-eager-amp-qv-r64-ckpt': (8579260712, 'backward'),  # 7.990 GiB
    'llama3-sdpa-amp-all-r16': (15944139384, 'backward'),  # 14.849 GiB
    'phi-sdpa-amp-qv-r8': (5302493352, 'backward'),  # 4.938 GiB
    'gemma2-eager-amp-qv-r8': (16975559724, 'backward'),  # 15.810 GiB
    'qwen3-sdpa-bf16-qv-r8': (9787894312, 'backward'),  # 9.116 GiB, 9.6 s
    'qwen3-sdpa-fp32-all-r16': (11975381624, 'backward'),  # 11.153 GiB, 4.3 s
    'qwen2-0.5b-eager-bf16-qv-r64': (9611490856, 'backward'),  # 8.951 GiB, 2.9 s
}
RECHECK = ("llama3.2-sdpa-fp32-qv-r8", "llama3.2-sdpa-amp-qv-r8", "llama3.2-sdpa-bf16-qv-r64-ckpt", "phi-eager-fp32-qv-r8",
           "llama3.2-sdpa-fp32-qv-r8-dropout")


def case_config(key):
    from test_mem_torch import shrunk
    c = CASES[key]
    cfg = shrunk(c["model"], num_hidden_layers=c["layers"])
    cfg.update({k: v for k, v in NO_DROPOUT.items() if k in cfg})
    return cfg


def measure_kwargs(key):
    c = dict(CASES[key])
    for k in ("model", "layers"):
        c.pop(k)
    return c


def ours_targets(targets):
    return "all-linear" if targets == "all-linear" else ",".join(t.split("_")[0] for t in targets)


def our_timeline(mem, key):
    c = CASES[key]
    model, _ = mem.model_from_config(case_config(key), c["model"])
    setup = mem.TrainSetup(micro_batch=c["batch"], seq_len=c["seq"], global_batch=c["batch"],
                           attn_implementation=c["attn"], profile="hf", recompute="full" if c["checkpointing"]
                           else "none", overhead=0, fragmentation=0, comm_buffer=0)
    lora = mem.LoraSetup(rank=c["lora"]["r"], targets=ours_targets(c["lora"]["targets"]),
                         dropout=c["lora"]["dropout"], base_dtype="bf16" if c["precision"] == "bf16-pure" else "fp32",
                         autocast=c["precision"] if c["precision"].startswith("amp") else "")
    result = mem.lora_training_memory(model, setup, lora)
    mem.attach_timeline(result, model, setup, lora)
    return result


def cuda_bytes(key, measured):
    """The CPU measurement with CUDA's dropout: each recorded LoRA dropout keeps a bool mask (1 B per element)
    instead of the CPU's noise tensor at the adapter's width (4 B: peft casts the input to the fp32 adapter first).
    Recorded: every adapter input but the first layer's attention-norm output (it needs no gradient). Inputs by
    hand from the published widths: Llama-3.2-1B h 2048, intermediate 8192; q, k, v, o, gate, up read h, down
    reads 8192."""
    c = CASES[key]
    if not c["lora"]["dropout"]:
        return measured
    tokens = c["batch"] * c["seq"]
    assert c["model"] == "llama3.2" and c["layers"] == 2
    h, ff = 2048, 8192
    if c["lora"]["targets"] == "all-linear":
        per_layer, first_layer_norm_readers = 6 * h + ff, 3 * h      # q k v o gate up down; q k v read the norm
    else:
        per_layer, first_layer_norm_readers = 2 * h, 2 * h          # q v
    recorded = c["layers"] * per_layer - first_layer_norm_readers
    return measured - (4 - 1) * tokens * recorded


@pytest.mark.parametrize("key", sorted(CASES))
def test_lora_timeline_peak_within_3_percent_of_memtracker(mem, key):
    measured, phase = MEASURED[key]
    measured = cuda_bytes(key, measured)
    result = our_timeline(mem, key)
    peak = result["timeline"]["peak"]
    print(f"{key}: measured {measured:,} B ({phase}), timeline {peak['total']:,} B ({peak['phase']}: "
          f"{peak['moment']}), sum {result['per_gpu']['total']:,} B")
    assert abs(peak["total"] - measured) <= 0.03 * measured
    assert peak["phase"].split(" (")[0] == phase


def test_lora_frozen_first_layer_of_a_parallel_block_saves_no_mlp(mem):
    """phi-2, q,v adapters: the first layer's MLP reads the frozen embedding's normalised output and no adapter sits
    on it, so it records nothing; the second layer's MLP keeps gelu_new's four T x 10240 tensors (fp32)."""
    c = CASES["phi-eager-fp32-qv-r8"]
    model, _ = mem.model_from_config(case_config("phi-eager-fp32-qv-r8"), "phi")
    setup = mem.TrainSetup(precision="fp32", micro_batch=2, seq_len=2048, profile="hf", attn_implementation="eager")
    lora = mem.LoraSetup(rank=8, targets="q,v", base_dtype="fp32")
    first = mem.layer_activation_tensors(model, setup, False, "full", lora=lora, first_layer=True)
    other = mem.layer_activation_tensors(model, setup, False, "full", lora=lora)
    tokens = c["batch"] * c["seq"]
    gelu = [t for t in other if t["name"].startswith("mlp ")]
    assert sum(t["bytes"] for t in gelu) == 4 * tokens * 10240 * 4
    assert not [t for t in first if t["name"].startswith("mlp ")]


@pytest.mark.torch
def test_cpu_dropout_saves_an_input_width_noise_tensor():
    """The premise of cuda_bytes: on the CPU, F.dropout saves one tensor of the input's shape and dtype (MulBackward0
    on a noise tensor), not a bool mask."""
    torch, _ = torch_and_transformers()
    for dtype in (torch.float32, torch.bfloat16):
        x = torch.randn(4, 8, dtype=dtype, requires_grad=True)
        saved = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
            y = torch.nn.functional.dropout(x, 0.1, True)
        assert [(t.dtype, tuple(t.shape)) for t in saved] == [(dtype, (4, 8))]
        assert type(y.grad_fn).__name__ == "MulBackward0"


@pytest.mark.torch
@pytest.mark.parametrize("key", RECHECK)
def test_lora_measured_bytes_still_hold(key):
    """Re-measure a few cheap cases: the stored bytes are what this torch / transformers / peft make (else rerun
    bench/measure_train_peaks.py --lora and paste its table)."""
    torch_and_transformers()
    pytest.importorskip("peft")
    r = _bench().measure(case_config(key), **measure_kwargs(key))
    assert (r["peak"], r["phase"]) == MEASURED[key]


@pytest.mark.torch
def test_meta_then_fake_build_measures_what_the_fake_build_does(monkeypatch):
    """The LoRA route (build on meta, then materialize fake tensors) applied without peft gives the full fine-tune's
    stored bytes of tests/test_mem_timeline.py to the byte: the route itself adds or loses nothing."""
    torch, transformers = torch_and_transformers()
    from test_mem_timeline import MEASURED as FULL, case_config as full_config, measure_kwargs as full_kwargs
    bench = _bench()

    def meta_build(cfg, attn, precision, checkpointing=False, lora=None):
        from torch._subclasses.fake_tensor import unset_fake_temporarily
        config = transformers.AutoConfig.for_model(cfg["model_type"],
                                                   **{k: v for k, v in cfg.items() if k != "model_type"})
        config._attn_implementation = attn
        with unset_fake_temporarily(), torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(
                config, dtype=torch.bfloat16 if precision == "bf16-pure" else torch.float32)
            if checkpointing:
                model.activation_checkpointing_enable()
        bench.materialize(model)
        model.train()
        return model

    monkeypatch.setattr(bench, "build_model", meta_build)
    for key in ("llama3.2-sdpa-fp32-2x2048", "llama3.2-eager-bf16-ckpt"):
        r = bench.measure(full_config(key), **full_kwargs(key))
        assert (r["peak"], r["phase"]) == FULL[key]


def test_dora_gets_no_timeline_as_its_measured_peak_is_above_the_lora_walk(mem):
    """DoRA (peft use_dora=True) composes each adapted weight and its norm every forward, which the LoRA walk does not
    hold: measured with bench/measure_train_peaks.py (lora={"r": 16, "targets": "all-linear", "dora": True}) on
    Llama-3.2-1B cut to 2 layers, bf16 base, sdpa, 2 x 2048: 9,595,806,128 B against 8,386,728,312 B without DoRA
    (llama3.2-sdpa-bf16-all-r16). The walk (no DoRA term) would be 13 % under, so the timeline is refused."""
    dora_measured = 9_595_806_128
    key = "llama3.2-sdpa-bf16-all-r16"
    walk = our_timeline(mem, key)["timeline"]["peak"]["total"]
    assert walk < 0.97 * dora_measured
    c = CASES[key]
    model, _ = mem.model_from_config(case_config(key), c["model"])
    setup = mem.TrainSetup(micro_batch=2, seq_len=2048, attn_implementation="sdpa", profile="hf")
    lora = mem.LoraSetup(rank=16, targets="all-linear", dora=True)
    result = mem.attach_timeline(mem.lora_training_memory(model, setup, lora), model, setup, lora)
    assert result["timeline"] is None and "--dora" in result["timeline_refusal"]
