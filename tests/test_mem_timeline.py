"""Issue 12, item 1: the step timeline's peak against the peak MemTracker measures in a real training step.

Each case builds the real model with transformers from a published config.json (tests/test_params_torch.py
REAL_CONFIGS, each cited there), cut to a few layers with its widths and vocabulary kept, on fake tensors, and runs two
training iterations (forward with labels, backward, torch AdamW, zero_grad); torch.distributed._tools.mem_tracker
.MemTracker gives the second iteration's peak. The recipe and the code are bench/measure_train_peaks.py; MEASURED
holds its bytes (torch 2.13, transformers 5.23, CPU kernels) and test_measured_bytes_still_hold re-measures the
cheap cases, so a torch or transformers change that moves a number fails here: rerun the script and paste its table.

Models (different shapes): Llama-3.2-1B (tied, GQA, head_dim 64), Llama-3-8B (untied, GQA), Gemma-2-9B (sandwich
norms, soft-capped attention and logits, 256k vocabulary, eager only in transformers), phi-2 (parallel block,
LayerNorm and biases, partial rotary), Mixtral-8x7B (MoE: bf16 only, transformers' grouped_mm needs bf16 on the CPU;
autocast over experts is refused by the script), Qwen3-4B (q/k RMSNorm over head_dim 128 != 2560 / 32, tied, 152k
vocabulary) and Qwen2-0.5B (q/k/v biases, tied, 2 KV heads). Precision fp32 / amp-bf16 / bf16-pure, sdpa and eager,
with and without gradient checkpointing, foreach / fused / for-loop AdamW, gradient accumulation and zeroing instead
of set_to_none. Our peak (overhead, fragmentation and buckets 0) must be within 3 % of the measured peak in every
case.
LoRA is measured in tests/test_mem_lora_timeline.py (peft wraps the model on the meta device, then it is
materialized as fake tensors).
"""
from __future__ import annotations

import importlib.util
import pathlib

import pytest

from conftest import call_main, torch_and_transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
NO_DROPOUT = dict(attention_dropout=0.0, hidden_dropout=0.0, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                  dropout=0.0, residual_dropout=0.0, embedding_dropout=0.0)


def _case(model, layers, attn, precision, batch, seq, ckpt=False, accumulation=1, set_to_none=True,
          optimizer_impl="foreach"):
    return {"model": model, "layers": layers, "attn": attn, "precision": precision, "batch": batch, "seq": seq,
            "checkpointing": ckpt, "accumulation": accumulation, "set_to_none": set_to_none,
            "optimizer_impl": optimizer_impl}


CASES = {
    # the issue's measurement: Llama-3.2-1B whole (16 layers), eager fp32, 4 x 1024, one AdamW step: 40.8 GiB
    "llama3.2-16L-eager-fp32-4x1024": _case("llama3.2", 16, "eager", "fp32", 4, 1024),
    "llama3.2-sdpa-fp32-1x512": _case("llama3.2", 2, "sdpa", "fp32", 1, 512),        # end of backward (tied table)
    "llama3.2-sdpa-fp32-2x2048": _case("llama3.2", 2, "sdpa", "fp32", 2, 2048),
    "llama3.2-sdpa-amp-ckpt": _case("llama3.2", 2, "sdpa", "amp-bf16", 2, 2048, ckpt=True),
    "llama3.2-eager-amp": _case("llama3.2", 2, "eager", "amp-bf16", 2, 2048),
    "llama3.2-eager-bf16-ckpt": _case("llama3.2", 2, "eager", "bf16-pure", 2, 2048, ckpt=True),
    "llama3.2-sdpa-bf16-accum2": _case("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, accumulation=2),
    "llama3.2-sdpa-bf16-zeroing": _case("llama3.2", 2, "sdpa", "bf16-pure", 2, 2048, set_to_none=False),
    "llama3-sdpa-fp32-1x512": _case("llama3", 2, "sdpa", "fp32", 1, 512),            # optimizer step
    "llama3-eager-amp": _case("llama3", 2, "eager", "amp-bf16", 2, 2048),
    "llama3-sdpa-bf16-ckpt": _case("llama3", 2, "sdpa", "bf16-pure", 2, 2048, ckpt=True),
    "llama3-sdpa-bf16-fused": _case("llama3", 2, "sdpa", "bf16-pure", 1, 512, optimizer_impl="fused"),
    "llama3-sdpa-bf16-for-loop": _case("llama3", 2, "sdpa", "bf16-pure", 1, 512, optimizer_impl="for-loop"),
    "gemma2-eager-fp32": _case("gemma2", 2, "eager", "fp32", 2, 2048),
    "gemma2-eager-amp-ckpt": _case("gemma2", 2, "eager", "amp-bf16", 2, 2048, ckpt=True),
    "gemma2-eager-bf16": _case("gemma2", 2, "eager", "bf16-pure", 2, 2048),
    "phi-sdpa-amp": _case("phi", 2, "sdpa", "amp-bf16", 2, 2048),
    "phi-eager-fp32-ckpt": _case("phi", 2, "eager", "fp32", 2, 2048, ckpt=True),    # a recomputed layer's backward
    "phi-eager-bf16": _case("phi", 2, "eager", "bf16-pure", 2, 2048),
    "phi-eager-bf16-ckpt": _case("phi", 2, "eager", "bf16-pure", 2, 2048, ckpt=True),
    "mixtral-sdpa-bf16": _case("mixtral", 2, "sdpa", "bf16-pure", 2, 2048),
    "mixtral-eager-bf16-ckpt": _case("mixtral", 2, "eager", "bf16-pure", 2, 2048, ckpt=True),
    "qwen3-sdpa-fp32": _case("qwen3", 2, "sdpa", "fp32", 2, 2048),
    "qwen3-eager-amp": _case("qwen3", 2, "eager", "amp-bf16", 2, 2048),
    "qwen3-sdpa-bf16-ckpt": _case("qwen3", 2, "sdpa", "bf16-pure", 2, 2048, ckpt=True),
    "qwen3-sdpa-fp32-1x512": _case("qwen3", 2, "sdpa", "fp32", 1, 512),              # end of backward (tied)
    "qwen2-0.5b-sdpa-amp-ckpt": _case("qwen2_tied", 2, "sdpa", "amp-bf16", 2, 2048, ckpt=True),
    "qwen2-0.5b-eager-bf16": _case("qwen2_tied", 2, "eager", "bf16-pure", 2, 2048),
}
# bench/measure_train_peaks.py's table (bytes, the measured phase): torch 2.13.0+cpu, transformers 5.23
MEASURED = {
    'llama3.2-16L-eager-fp32-4x1024': (43784151888, 'backward'),  # 40.777 GiB, 15.0 s
    'llama3.2-sdpa-fp32-1x512': (8250360152, 'backward'),  # 7.684 GiB, 0.6 s
    'llama3.2-sdpa-fp32-2x2048': (12662841688, 'backward'),  # 11.793 GiB, 0.6 s
    'llama3.2-sdpa-amp-ckpt': (11601633624, 'backward'),  # 10.805 GiB, 0.9 s
    'llama3.2-eager-amp': (16097976664, 'backward'),  # 14.992 GiB, 0.7 s
    'llama3.2-eager-bf16-ckpt': (8727949656, 'backward'),  # 8.129 GiB, 1.0 s
    'llama3.2-sdpa-bf16-accum2': (10336534872, 'backward'),  # 9.627 GiB, 1.0 s
    'llama3.2-sdpa-bf16-zeroing': (10336534872, 'backward'),  # 9.627 GiB, 0.5 s
    'llama3-sdpa-fp32-1x512': (29738025556, 'optimizer step'),  # 27.696 GiB, 0.7 s
    'llama3-eager-amp': (31541527132, 'backward'),  # 29.375 GiB, 1.4 s
    'llama3-sdpa-bf16-ckpt': (15436276316, 'backward'),  # 14.376 GiB, 2.8 s
    'llama3-sdpa-bf16-fused': (11899408988, 'backward'),  # 11.082 GiB, 1.8 s
    'llama3-sdpa-bf16-for-loop': (13996565076, 'optimizer step'),  # 13.035 GiB, 1.3 s
    'gemma2-eager-fp32': (38462465132, 'backward'),  # 35.821 GiB, 1.5 s
    'gemma2-eager-amp-ckpt': (32617473132, 'backward'),  # 30.377 GiB, 2.1 s
    'gemma2-eager-bf16': (27125067882, 'backward'),  # 25.262 GiB, 1.5 s
    'phi-sdpa-amp': (9492668684, 'backward'),  # 8.841 GiB, 1.3 s
    'phi-eager-fp32-ckpt': (9658693900, 'backward'),  # 8.995 GiB, 1.5 s
    'phi-eager-bf16': (9387872524, 'backward'),  # 8.743 GiB, 1.3 s
    'phi-eager-bf16-ckpt': (6439984396, 'backward'),  # 5.998 GiB, 1.4 s
    'mixtral-sdpa-bf16': (31646884436, 'optimizer step'),  # 29.473 GiB, 1.3 s
    'mixtral-eager-bf16-ckpt': (31646884436, 'optimizer step'),  # 29.473 GiB, 2.0 s
    'qwen3-sdpa-fp32': (17137676904, 'backward'),  # 15.961 GiB, 5.0 s
    'qwen3-eager-amp': (20771910248, 'backward'),  # 19.345 GiB, 2.3 s
    'qwen3-sdpa-bf16-ckpt': (11148212840, 'backward'),  # 10.383 GiB, 3.6 s
    'qwen3-sdpa-fp32-1x512': (12564775528, 'backward'),  # 11.702 GiB, 2.3 s
    'qwen2-0.5b-sdpa-amp-ckpt': (9807314800, 'backward'),  # 9.134 GiB, 3.1 s
    'qwen2-0.5b-eager-bf16': (10397933680, 'backward'),  # 9.684 GiB, 2.2 s
}
SLOW = {"llama3.2-16L-eager-fp32-4x1024"}  # ~15 s on fake tensors: not re-measured in the suite


def case_config(key):
    """The published config of CASES[key], its depth cut, dropout off (the step's masks are not the question)."""
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


def our_timeline(mem, key):
    c = CASES[key]
    model, _ = mem.model_from_config(case_config(key), c["model"])
    setup = mem.TrainSetup(precision=c["precision"], micro_batch=c["batch"], seq_len=c["seq"],
                           global_batch=c["batch"] * c["accumulation"], attn_implementation=c["attn"], profile="hf",
                           recompute="full" if c["checkpointing"] else "none", overhead=0, fragmentation=0,
                           comm_buffer=0)
    result = mem.training_memory(model, setup)
    mem.attach_timeline(result, model, setup, None, c["optimizer_impl"], "none" if c["set_to_none"] else "zero")
    return result


def _bench():
    spec = importlib.util.spec_from_file_location("measure_train_peaks", ROOT / "bench" / "measure_train_peaks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("key", sorted(CASES))
def test_timeline_peak_within_3_percent_of_memtracker(mem, key):
    measured, phase = MEASURED[key]
    result = our_timeline(mem, key)
    peak = result["timeline"]["peak"]
    print(f"{key}: measured {measured:,} B ({phase}), timeline {peak['total']:,} B ({peak['phase']}: "
          f"{peak['moment']}), sum {result['per_gpu']['total']:,} B")
    assert abs(peak["total"] - measured) <= 0.03 * measured
    assert peak["phase"].split(" (")[0] == phase  # the same phase of the step


def test_the_issue_example_the_sum_is_11_percent_high_the_timeline_is_not(mem):
    """Llama-3.2-1B eager fp32 4 x 1024: the issue's 40.8 GiB measured and 45.4 GiB summed; the peak comes in the
    loss's backward, before any gradient exists."""
    measured, _ = MEASURED["llama3.2-16L-eager-fp32-4x1024"]
    assert round(measured / 2**30, 1) == 40.8
    result = our_timeline(mem, "llama3.2-16L-eager-fp32-4x1024")
    assert round(result["per_gpu"]["total"] / 2**30, 1) == 45.3  # the sum (the issue's 45.4 with older terms)
    peak = result["timeline"]["peak"]
    assert peak["terms"]["gradients"] == 0 and peak["phase"] == "backward"


@pytest.mark.torch
@pytest.mark.parametrize("key", sorted(k for k in CASES if k not in SLOW))
def test_measured_bytes_still_hold(key):
    """Re-measure: the stored bytes are what this torch / transformers make (else rerun the bench script)."""
    torch_and_transformers()
    r = _bench().measure(case_config(key), **measure_kwargs(key))
    assert (r["peak"], r["phase"]) == MEASURED[key]


def test_timeline_by_hand_optimizer_step_is_params_grads_states_and_one_sqrt_copy(mem):
    """foreach AdamW, fp32, a model small enough that the step is the peak: 4 + 4 + 8 + 4 bytes per parameter
    (weights, gradients, m and v, torch._foreach_sqrt(exp_avg_sqs)) + 4 B of step counter per tensor."""
    model = mem.preset_model("llama-3.2-1b")
    setup = mem.TrainSetup(precision="fp32", micro_batch=1, seq_len=8, profile="hf", overhead=0, fragmentation=0,
                           comm_buffer=0)
    result = mem.attach_timeline(mem.training_memory(model, setup), model, setup)
    n = 1_235_814_400  # Llama-3.2-1B's parameters (the model card's 1.24B; tests/test_params_torch.py)
    tensors = 1 + 16 * 9 + 1  # the tied embedding, 9 per layer (7 linears, 2 norms), the final norm
    step = [e for e in result["timeline"]["events"] if e["phase"] == "optimizer step"][0]
    assert step["total"] == 4 * n + 4 * n + 8 * n + 4 * tensors + 4 * n
    assert result["timeline"]["peak"] is step


def test_cli_reports_the_peak_phase_and_explain_shows_the_timeline(mem):
    code, out, err = call_main(mem, ["-p", "llama-3.2-1b", "--precision", "fp32", "-s", "1024", "-b", "4",
                                     "--profile", "hf", "--attn-implementation", "eager", "--explain"])
    assert code == 0, err
    assert "step timeline" in out and "backward: loss gradient" in out
    code, out, err = call_main(mem, ["-p", "llama-3.2-1b", "--json", "--optimizer-impl", "fused",
                                     "--zero-grad", "zero"])
    assert code == 0, err


@pytest.mark.parametrize("argv, flag", [
    (["--optimizer-impl", "fast"], "--optimizer-impl"),
    (["--zero-grad", "maybe"], "--zero-grad"),
    (["--optimizer-impl", "fused", "--infer"], "--optimizer-impl"),
])
def test_timeline_flags_refuse_bad_values_in_one_line(mem, argv, flag):
    code, out, err = call_main(mem, ["-p", "llama-3.2-1b"] + argv)
    assert code == 2 and flag in err and len(err.strip().splitlines()) == 1
