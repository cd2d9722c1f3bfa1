"""Measure the peak memory of real training steps, to check calc_transformer_mem.py's step timeline (issue 12).

Recipe (what made the numbers in tests/test_mem_timeline.py MEASURED; rerun when torch or transformers change):

* the model is built by transformers (AutoModelForCausalLM.from_config) from a published config.json, cut to a few
  layers with its widths and vocabulary kept, inside torch._subclasses.fake_tensor.FakeTensorMode on the CPU: no
  byte is allocated, every tensor has its real shape, dtype and storage, and CPU kernels decide what is saved;
* LoRA runs wrap it with peft (get_peft_model, LoraConfig(r, target_modules, lora_dropout), peft's default fp32
  adapters); peft cannot wrap fake tensors, so a LoRA model is built and wrapped on the meta device and then
  materialized as fake tensors (build_model, materialize); MemTracker's gradient hooks skip the frozen parameters;
* precision: fp32 (an fp32 model), amp-bf16 (an fp32 model, forward and loss under torch.autocast("cpu",
  torch.bfloat16), as Hugging Face Trainer's --bf16), bf16-pure (model.to(torch.bfloat16));
* gradient checkpointing: transformers' activation_checkpointing_enable() (torch.utils.checkpoint, use_reentrant
  False, one decoder layer per checkpoint);
* the step: out = model(input_ids=ids, labels=ids); loss = out.loss; del out; loss.backward();
  torch.optim.AdamW(trainable params, foreach=True (or fused=True / foreach=False)).step();
  zero_grad(set_to_none=True) -- two iterations, fresh int64 ids each time (as a data loader hands them over);
* torch.distributed._tools.mem_tracker.MemTracker tracks every storage (parameters, gradients, optimizer states,
  activations, temporaries); the peak is the largest total it sees in the second iteration (the steady state: the
  optimizer states exist), with the phase it happens in and MemTracker's categories at that moment. Bytes are
  storage bytes: no allocator rounding, no fragmentation, no CUDA context.

Run:  python bench/measure_train_peaks.py            (prints the MEASURED table of tests/test_mem_timeline.py)
      python bench/measure_train_peaks.py --lora     (prints the MEASURED table of tests/test_mem_lora_timeline.py)
      python bench/measure_train_peaks.py --hybrid   (prints the MEASURED table of tests/test_mem_timeline_hybrid.py:
                                                      Qwen3-Next's gated delta-net layers, Bamba's, Nemotron-H's
                                                      and Falcon-H1's Mamba-2, LFM2's short convolutions; PyTorch
                                                      fallbacks)
"""
from __future__ import annotations

import contextlib
import sys
import time

PHASES = ("forward", "backward", "optimizer step", "zero_grad")


class _NoHook:
    def remove(self):
        pass


def _tracker_class():
    from torch.distributed._tools.mem_tracker import _TOTAL_KEY, MemTracker

    class PhaseTracker(MemTracker):
        """MemTracker that also remembers, per iteration, the largest total it saw, the phase it happened in (set
        by the training loop), the innermost module running and MemTracker's categories at that moment."""

        def __init__(self):
            super().__init__()
            self.phase = "forward"
            self.iteration = 0
            self.peaks = {}
            self.by_region = {}  # (iteration, phase, region) -> largest total

        def region(self):
            """Where the step is: 'layers' inside a decoder layer, 'embedding', 'head' (final norm, LM head and the
            loss, which run outside any decoder layer) or '' outside the model."""
            names = self._mod_tracker.parents
            if any(".layers." in n or n.endswith(".h") or ".h." in n for n in names):
                return "layers"
            if any("embed" in n or n.endswith(".wte") for n in names):
                return "embedding"
            return "head" if len(names) > 1 else ""

        def _note(self):
            for dev, snap in self._curr_mem_snap.items():
                total = snap[_TOTAL_KEY]
                key = (self.iteration, self.phase, self.region() if self.phase in ("forward", "backward") else "")
                self.by_region[key] = max(self.by_region.get(key, 0), total)
                best = self.peaks.get(self.iteration)
                if best is None or total > best["peak"]:
                    parents = sorted(self._mod_tracker.parents, key=len)
                    self.peaks[self.iteration] = {
                        "peak": total, "phase": self.phase, "module": parents[-1] if parents else "",
                        "breakdown": {str(k.value if hasattr(k, "value") else k): v for k, v in snap.items()}}

        def _track_module_params_and_buffers(self, module, install_grad_hooks=True):
            # MemTracker hooks every parameter's gradient, and register_hook refuses a frozen parameter (LoRA's
            # base): such a parameter gets a do-nothing handle pair, so it is counted but never hooked
            for param in module.parameters():
                if not param.requires_grad and self._param_to_grad_hook_handles.get(param) is None:
                    self._param_to_grad_hook_handles[param] = (_NoHook(), _NoHook())
            return super()._track_module_params_and_buffers(module, install_grad_hooks)

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = super().__torch_dispatch__(func, types, args, kwargs)
            self._note()
            return out

    return PhaseTracker


def build_model(cfg, attn, precision, checkpointing=False, lora=None):
    """The model transformers builds from `cfg` (a config dict with model_type), on the current device (call inside
    FakeTensorMode), in train mode, with `precision`'s dtype, checkpointing and LoRA as the recipe says."""
    import torch
    import transformers

    kwargs = {k: v for k, v in cfg.items() if k != "model_type"}
    config = transformers.AutoConfig.for_model(cfg["model_type"], **kwargs)
    config._attn_implementation = attn
    bf16 = precision == "bf16-pure"
    dtype = torch.bfloat16 if bf16 else torch.float32
    if not lora:
        # built in bf16 rather than .to(bfloat16): FakeTensorMode cannot swap the tied parameters in place
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
        if checkpointing:
            model.activation_checkpointing_enable()
        model.train()
        return model
    import peft

    # peft cannot wrap a model of fake tensors: its LoRA layers move each new adapter to the base layer's device
    # and dtype with nn.Module.to, whose _apply must swap a FakeTensor parameter in place, which fails ("Couldn't
    # swap Linear.weight"). So the model is built and wrapped on the meta device (shapes and dtypes only, peft's
    # own code choosing every adapter's shape and dtype: autocast_adapter_dtype upcasts the adapters of a bf16 base
    # to fp32), then every parameter and buffer is replaced by an empty CPU tensor of the same shape, dtype and
    # requires_grad under the caller's FakeTensorMode, one replacement per distinct tensor (a tied table stays
    # one parameter). The forward and backward that follow run transformers' and peft's real code on those.
    from torch._subclasses.fake_tensor import unset_fake_temporarily

    with unset_fake_temporarily():  # the meta build runs outside the caller's FakeTensorMode
        with torch.device("meta"):
            model = transformers.AutoModelForCausalLM.from_config(config, dtype=dtype)
            if checkpointing:
                model.activation_checkpointing_enable()
            model = peft.get_peft_model(model, peft.LoraConfig(
                r=lora["r"], lora_alpha=2 * lora["r"], target_modules=lora["targets"],
                lora_dropout=lora.get("dropout", 0.0), use_dora=lora.get("dora", False)))
    materialize(model)
    model.train()
    return model


def materialize(model):
    """Replace every meta parameter and buffer of `model` by an empty tensor on the CPU (a FakeTensor under the
    active FakeTensorMode) of the same shape, dtype and requires_grad; shared tensors stay shared."""
    import torch

    made = {}
    for module in model.modules():
        for store, as_param in ((module._parameters, True), (module._buffers, False)):
            for name, t in list(store.items()):
                if t is None:
                    continue
                if id(t) not in made:
                    new = torch.empty(t.shape, dtype=t.dtype, device="cpu")
                    made[id(t)] = torch.nn.Parameter(new, requires_grad=t.requires_grad) if as_param else new
                store[name] = made[id(t)]


def measure(cfg, *, attn="sdpa", precision="fp32", batch=1, seq=256, checkpointing=False, lora=None,
            iterations=2, accumulation=1, set_to_none=True, optimizer_impl="foreach"):
    """One case: {peak, phase, module, breakdown} of the last iteration, and every iteration's peak."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        model = build_model(cfg, attn, precision, checkpointing, lora)
        params = [p for p in model.parameters() if p.requires_grad]
        impl = {"foreach": {"foreach": True}, "fused": {"fused": True}, "for-loop": {"foreach": False}}[optimizer_impl]
        opt = torch.optim.AdamW(params, lr=1e-4, **impl)
        tracker = _tracker_class()()
        tracker.track_external(model, opt)
        autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "amp-bf16"
                    else contextlib.nullcontext())
        with tracker:
            for it in range(iterations):
                tracker.iteration = it
                for _ in range(accumulation):
                    tracker.reset_mod_stats()  # per-module stats are per call; the totals carry on
                    ids = torch.randint(0, cfg["vocab_size"], (batch, seq))
                    tracker.phase = "forward"
                    with autocast:
                        out = model(input_ids=ids, labels=ids)
                    loss = out.loss
                    del out, ids
                    tracker.phase = "backward"
                    loss.backward()
                    del loss
                tracker.phase = "optimizer step"
                opt.step()
                tracker.phase = "zero_grad"
                opt.zero_grad(set_to_none=set_to_none)
    last = dict(tracker.peaks[iterations - 1])
    last["per_iteration"] = [tracker.peaks[i]["peak"] for i in range(iterations)]
    last["regions"] = {f"{phase}/{where}" if where else phase: v
                       for (i, phase, where), v in tracker.by_region.items() if i == iterations - 1}
    return last


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, __file__.rsplit("/bench/", 1)[0] + "/tests")
    if "--lora" in argv:  # tests/test_mem_lora_timeline.py's cases
        from test_mem_lora_timeline import CASES, case_config, measure_kwargs
    elif "--hybrid" in argv:  # tests/test_mem_timeline_hybrid.py's cases
        from test_mem_timeline_hybrid import CASES, case_config, measure_kwargs
    else:
        from test_mem_timeline import CASES, case_config, measure_kwargs
    versions = "torch %s, transformers %s" % (__import__("torch").__version__, __import__("transformers").__version__)
    if "--lora" in argv:
        versions += ", peft %s" % __import__("peft").__version__
    flag = " --lora" if "--lora" in argv else " --hybrid" if "--hybrid" in argv else ""
    print("MEASURED = {  # bytes; bench/measure_train_peaks.py%s, %s" % (flag, versions))
    only = [a for a in argv if not a.startswith("--")]  # case keys to measure (default: all)
    for key in CASES:
        if only and key not in only:
            continue
        t0 = time.perf_counter()
        r = measure(case_config(key), **measure_kwargs(key))
        print(f"    {key!r}: ({r['peak']}, {r['phase']!r}),  # {r['peak'] / 2**30:.3f} GiB, "
              f"{time.perf_counter() - t0:.1f} s")
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
