"""Issue 12, precision modes: each --precision's model-state bytes equal the tensors a real training step holds.

Each mode is run as people run it, on small models built by transformers from published config.json files
(tests/test_mem_torch.py STATE_CONFIGS, each cited there), on the CPU, with one real AdamW step:

* fp32: an fp32 model, torch.optim.AdamW over its parameters;
* amp-bf16 / amp-fp16: an fp32 model, the forward pass under torch.autocast (Hugging Face Trainer's --bf16 / --fp16
  on an fp32 model), AdamW over the fp32 parameters;
* bf16-pure: model.to(torch.bfloat16), AdamW over the bf16 parameters (its states are allocated zeros_like(param));
* bf16 (Megatron-LM / DeepSpeed): a bf16 model plus an fp32 master copy the optimizer updates (its gradient an fp32
  cast of the bf16 gradient, freed after the step: --grads low).

Weights, gradients, master weights and optimizer states are compared to the byte (storages deduplicated); the
autocast weight copies to the bytes of the 16-bit casts autocast makes of parameters during the forward pass,
recorded by a TorchDispatchMode (aten._to_copy of a parameter's storage).
"""
from __future__ import annotations

import pytest

from conftest import call_main, torch_and_transformers

# The models: dense GQA untied (Llama-3-8B), tied (Llama-3.2-1B), qkv biases (Qwen2.5-7B), GPT-2 (Conv1D, learned
# positions, biases, tied), MoE (Mixtral-8x7B: router + stacked experts), sandwich norms (Gemma-2-9B).
MODELS = ["llama-3-8b", "llama-3.2-1b", "qwen2.5-7b", "gpt2", "mixtral-8x7b", "gemma-2-9b"]


def _states():
    from test_mem_torch import STATE_CONFIGS, build, described, unique_bytes
    return STATE_CONFIGS, build, described, unique_bytes


def _optimizer_bytes(opt, torch, unique_bytes):
    return unique_bytes([v for st in opt.state.values() for v in st.values() if torch.is_tensor(v)])


def _autocast_copies(model, ids, torch, dtype):
    """Bytes of the `dtype` casts autocast makes of parameters during one forward pass (unique output storages)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    copies = {}

    class RecordCasts(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if func is torch.ops.aten._to_copy.default and torch.is_tensor(args[0]) and \
                    args[0].untyped_storage().data_ptr() in params and out.dtype == dtype:
                copies[out.untyped_storage().data_ptr()] = out.untyped_storage().nbytes()
            return out

    with torch.autocast("cpu", dtype=dtype), RecordCasts():
        loss = model(input_ids=ids, labels=ids).loss
    return loss, sum(copies.values())


@pytest.mark.torch
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("mode", ["fp32", "amp-bf16", "amp-fp16", "bf16-pure", "bf16"])
def test_model_states_equal_tensor_bytes_under_each_precision_mode(mem, name, mode):
    torch, transformers = torch_and_transformers()
    STATE_CONFIGS, build, described, unique_bytes = _states()
    cfg = STATE_CONFIGS[name]
    model = build(transformers, cfg, attn="sdpa" if name != "gemma-2-9b" else "eager").train()
    if mode in ("bf16-pure", "bf16"):
        model = model.to(torch.bfloat16)
    params = list({p.data_ptr(): p for p in model.parameters()}.values())
    ids = torch.randint(0, cfg["vocab_size"], (2, 24))
    copies = 0
    if mode.startswith("amp-"):
        loss, copies = _autocast_copies(model, ids, torch, torch.bfloat16 if mode == "amp-bf16" else torch.float16)
    else:
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    weights = unique_bytes(params)
    grads = unique_bytes([p.grad for p in params])
    master = 0
    if mode == "bf16":  # Megatron: the optimizer steps an fp32 master copy; fp32 grads only for the step
        masters = [p.detach().float().requires_grad_() for p in params]
        for m, p in zip(masters, params):
            m.grad = p.grad.float()
        opt = torch.optim.AdamW(masters, lr=1e-3)
        opt.step()
        master = unique_bytes(masters)
    else:
        opt = torch.optim.AdamW(params, lr=1e-3)
        opt.step()
    states = _optimizer_bytes(opt, torch, unique_bytes)
    setup = mem.TrainSetup(precision=mode, seq_len=24, micro_batch=2)
    if mode.startswith("amp-") and cfg.get("num_local_experts"):
        # transformers' experts kernels decide what autocast casts (on this CPU: no expert weight at all): refused
        with pytest.raises(ValueError, match="routed experts"):
            mem.training_memory(described(mem, cfg), setup)
        return
    r = mem.training_memory(described(mem, cfg), setup)["per_gpu"]
    assert (r["weights"], r["gradients"], r["master_weights"], r["optimizer_states"]) == \
        (weights, grads, master, states)
    assert r.get("autocast_weight_copies", 0) == copies
    if mode.startswith("amp-"):
        assert copies > 0


def test_bf16_pure_with_fp32_optimizer_states_by_hand(mem):
    # Llama-3.2-1B as published (tests/test_params_torch.py REAL_CONFIGS["llama3.2"]): 1,235,814,400 parameters in
    # 1 + 16 x 9 + 1 = 146 tensors (embedding, per layer 2 norms + q, k, v, o + gate, up, down, final norm; tied).
    # bf16-pure: weights and grads 2 B each; fp32 AdamW states: m and v 4 B each + a float32 step per tensor.
    from test_params_torch import REAL_CONFIGS
    model, _ = mem.model_from_config(dict(REAL_CONFIGS["llama3.2"]), "llama3.2")
    n, tensors = 1_235_814_400, 146
    fp32_states = mem.training_memory(model, mem.TrainSetup(precision="bf16-pure", optimizer_state_dtype="fp32"))
    bf16_states = mem.training_memory(model, mem.TrainSetup(precision="bf16-pure"))
    assert fp32_states["per_gpu"]["weights"] == fp32_states["per_gpu"]["gradients"] == 2 * n
    assert fp32_states["per_gpu"]["optimizer_states"] == 8 * n + 4 * tensors
    assert bf16_states["per_gpu"]["optimizer_states"] == 4 * n + 4 * tensors
    assert fp32_states["bytes_per_param"]["optimizer_state_dtype"] == "fp32"
    assert bf16_states["bytes_per_param"]["optimizer_state_dtype"] == "bf16"


@pytest.mark.parametrize("mode, says", [
    ("amp-bf16", "torch.autocast(bfloat16) over an fp32 model"), ("bf16-pure", "no master copy"),
    ("bf16", "fp32 master copy"), ("fp32", "fp32 training"), ("amp-fp16", "GradScaler"), ("fp8", "FP8 cast")])
def test_the_output_states_the_precision_mode(mem, mode, says):
    code, out, err = call_main(mem, ["-p", "llama-3.2-1b", "--precision", mode, "-s", "1024"])
    assert code == 0, err
    assert f"precision {mode}: " in out and says in out


@pytest.mark.parametrize("argv, flag", [
    (["--precision", "bf16", "--optimizer-state-dtype", "bf16"], "--optimizer-state-dtype"),
    (["--precision", "amp-bf16", "--grads", "fp32"], "--grads"),
    (["--precision", "bf16-pure", "--optimizer-state-dtype", "fp16"], "--optimizer-state-dtype"),
    (["--precision", "bf16-pure", "-opt", "adamw-8bit", "--optimizer-state-dtype", "fp32"], "--optimizer-state-dtype"),
    (["--precision", "amp-bf16", "--infer"], "--precision"),
    (["--precision", "bf16-pure", "--optimizer-state-dtype", "fp32", "--infer"], "--"),
])
def test_unmodelled_precision_combinations_are_refused_in_one_line(mem, argv, flag):
    code, out, err = call_main(mem, ["-p", "llama-3.2-1b"] + argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and flag in err
