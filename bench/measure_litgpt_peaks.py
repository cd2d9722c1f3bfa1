"""Measure LitGPT's own LoRA / QLoRA fine-tuning step on fake tensors, to explain its published peaks (issue 12).

LitGPT's config_hub/finetune/README.md lists "Peak memory" per recipe on an A10G: torch.cuda.max_memory_allocated()
/ 1e9 (litgpt/finetune/lora.py: 'fabric.print(f"Memory used: {torch.cuda.max_memory_allocated() / 1e9:.02f} GB")').
tests/test_mem_published_finetune.py holds calc_transformer_mem.py's step timeline against five of its rows. This
script runs LitGPT's own model code and training step on fake tensors (no byte allocated; every tensor with its real
shape, dtype and storage; CPU kernels deciding what autograd saves), with PyTorch's
torch.distributed._tools.mem_tracker.MemTracker counting every live storage, and prints the peak of each row.

What it runs, and where each piece comes from (litgpt 0.4.3 and lightning 2.3.3, the releases of the table's era:
litgpt 0.4.x pins lightning 2.3.0.dev20240428, a nightly no registry keeps, so 2.3.3 stands in; its Fabric code
quoted below is the part that acts here):

* the model: litgpt.lora.GPT(Config.from_name(name, lora_r=32, lora_alpha=16, lora_dropout=0.05, lora_query=True,
  lora_value=True, the other lora_* False)) -- config_hub/finetune/<model>/{lora,qlora}.yaml -- built on the meta
  device under torch.set_default_dtype(torch.bfloat16) (precision bf16-true: Fabric's init_module sets the default
  dtype, so weights, adapters and the RoPE cache are bf16), mark_only_lora_as_trainable, then every parameter and
  buffer replaced by an empty CPU tensor of the same shape and dtype under FakeTensorMode
  (bench/measure_train_peaks.py materialize); model.max_seq_length = 512 as fit() sets it ("model.max_seq_length =
  min(longest_seq_length, train.max_seq_length ...)": Alpaca2k's longest sample assumed to reach the cap);
* Fabric's forward wrapper (lightning/fabric/wrappers.py _FabricModule.forward): precision.convert_input, the
  module under precision.forward_context(), then precision.convert_output(output), which for bf16-true
  (plugins/precision/half.py) and for bnb (plugins/precision/bitsandbytes.py) alike is "apply_to_collection(data,
  function=_convert_fp_tensor, dtype=Tensor, dst_type=torch.get_default_dtype())": outside forward_context the
  default dtype is fp32 again, so every chunk of logits the model returns is copied to fp32. LitGPT's loss therefore
  runs on fp32 logits, as Hugging Face's does; the half.py plugin object itself is used here for both;
* the step, as litgpt/finetune/lora.py fit() writes it (its variable lifetimes kept: `logits` and `loss` stay bound
  until the next micro-batch's forward has returned):
      logits = model(input_ids, lm_head_chunk_size=128)
      logits[-1] = logits[-1][..., :-1, :]
      loss = chunked_cross_entropy(logits, targets[..., 1:])
      fabric.backward(loss / train.gradient_accumulation_iters(devices))
      running_loss.update(loss.detach())
      if not is_accumulating: optimizer.step(); optimizer.zero_grad()
  four micro-batches with a step after the 2nd and the 4th (the recipes accumulate 4 or 8; from the second
  micro-batch of a step on the state is the same: adapter gradients alive, optimizer states alive after the first
  step); the peak is the largest total in micro-batches 3 and 4;
* LoRA rows: torch.optim.AdamW (the recipes' optimizer, lr 2e-4, weight_decay 0, betas 0.9 / 0.95) with
  foreach=True, as torch picks on CUDA (on the CPU it would pick the for-loop); bf16 states, as the adapters;
* QLoRA rows: quantize "bnb.nf4", bitsandbytes 0.42.0 (lora.py warns "LitGPT only supports bitsandbytes v0.42.0"),
  emulated on fake tensors by FakeLinear4bit / MatMul4BitOf042 below (each step cited there), and bnb's
  PagedAdamW (litgpt/utils.py instantiate_bnb_optimizer) by FakePagedAdamW;
* LoRA dropout: CUDA's F.dropout is native_dropout, which keeps a bool mask (1 B per element); the CPU's keeps a
  noise tensor of the input's dtype (ATen aten/src/ATen/native/Dropout.cpp: _dropout_impl is taken where
  is_fused_kernel_acceptable fails, a CPU tensor). The run replaces torch.nn.functional.dropout by
  torch.native_dropout, so the bytes are CUDA's.

Not in the figure (it is max_memory_allocated of the run, the GPU's own): the CUDA context and cuBLAS workspaces
(not allocated bytes), CUDA SDPA's kernels (flash attention on an A10G in bf16 keeps q, k, v, out and a log-sum-exp,
as the CPU's flash kernel does), the allocator's rounding (blocks of 512 B and 2 MiB segments: allocated bytes count
the rounded block), and anything before or after the training loop (loading the checkpoint quantizes one tensor at a
time; validation runs under no_grad; generate_example's KV cache is one sample's).

Run:  /work/litvenv/bin/python bench/measure_litgpt_peaks.py [ROW ...] [--variant saves-input|frees-graph|head-bf16]
      [--layers N]
      (a virtual environment of its own: pip install torch==2.13.0 litgpt==0.4.3 --no-deps, lightning==2.3.3,
      jsonargparse[signatures], "setuptools<70"; never the project's requirements). Prints a JSON of every row's
      peak, phase, module, MemTracker's categories at the peak and the largest total per region; the figures are
      recorded in tests/test_mem_published_finetune.py (LITGPT_CODE and the tables beside it), with the commands.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time

ROWS = {
    # row: (litgpt Config name, micro batch, quantize); the recipes config_hub/finetune/<model>/<row>.yaml
    "llama-3-8b/lora": ("Llama-3-8B", 1, None),
    "mistral-7b/lora": ("Mistral-7B-v0.1", 2, None),
    "llama-2-7b/lora": ("Llama-2-7b-hf", 2, None),
    "llama-3-8b/qlora": ("Llama-3-8B", 2, "bnb.nf4"),
    "llama-2-7b/qlora": ("Llama-2-7b-hf", 2, "bnb.nf4"),
}
LORA = {"lora_r": 32, "lora_alpha": 16, "lora_dropout": 0.05, "lora_query": True, "lora_key": False,
        "lora_value": True, "lora_projection": False, "lora_mlp": False, "lora_head": False}
SEQ = 512
BLOCKSIZE = 64  # bnb.functional.quantize_4bit(blocksize=64): one fp32 absmax per 64 weights (Params4bit's default)
MICRO_BATCHES, STEP_EVERY = 4, 2


def _bench_helpers():
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import measure_train_peaks
    return measure_train_peaks


def fake_bnb_classes(variant):
    """FakeLinear4bit and MatMul4BitOf042: bitsandbytes 0.42.0's Linear4bit and MatMul4Bit with every tensor they
    allocate, on fake tensors (the CUDA kernels' values are not needed, only their outputs' shapes and dtypes).

    bitsandbytes 0.42.0, bitsandbytes/nn/modules.py Linear4bit.forward: "inp_dtype = x.dtype", "if
    self.compute_dtype is not None: x = x.to(self.compute_dtype)" (Fabric sets compute_dtype to bf16:
    BitsandbytesPrecision.convert_module "m.compute_dtype = self.dtype"), "out = bnb.matmul_4bit(x, self.weight.t(),
    bias=bias, quant_state=self.weight.quant_state)", "out = out.to(inp_dtype)". matmul_4bit takes MatMul4Bit.apply
    for any input of more than one row.

    bitsandbytes/autograd/_functions.py MatMul4Bit.forward: "output = torch.nn.functional.linear(A,
    F.dequantize_4bit(B, quant_state).to(A.dtype).t(), bias)" and "if any(ctx.needs_input_grad[:2]): ctx.tensors =
    (A, B)" -- the input is kept as a ctx attribute, not with save_for_backward, so backward does not release it:
    it lives as long as the autograd node, that is until the graph is dropped. backward: "if req_gradA: grad_A =
    torch.matmul(grad_output, F.dequantize_4bit(B, ctx.state).to(grad_output.dtype).t())".

    bitsandbytes/functional.py dequantize_4bit: "out = torch.empty(quant_state.shape, dtype=quant_state.dtype,
    device=A.device)", and with B = weight.t() (one row) "is_transposed" returns out.t(). quant_state.dtype is the
    dtype quantize_4bit saw: Fabric's _Linear4bit.quantize (lightning/fabric/plugins/precision/bitsandbytes.py)
    quantizes "w = weight.contiguous().to(device=device, dtype=torch.half)", so the dequantized weight is fp16 and
    .to(bf16) makes a second, bf16 copy: two weight-sized temporaries per call.

    Stored (quantize_4bit, compress_statistics False for "nf4": Fabric's _NF4Linear): the packed weight, uint8 of
    numel / 2 bytes in shape (numel / 2, 1), the fp32 absmax (numel / 64) and the 16-value fp32 code of the
    QuantState.

    Variants, to take the peak apart (not what LitGPT runs): "saves-input" keeps A with save_for_backward (freed by
    backward as an ordinary saved tensor; bitsandbytes from 0.43.3 keeps no input at all); "frees-graph" keeps
    bnb 0.42's ctx.tensors but the loop drops `logits` and `loss` after backward (as Hugging Face's Trainer, whose
    training_step returns loss.detach()); "head-bf16" leaves the LM head unquantized.
    """
    import torch

    class MatMul4BitOf042(torch.autograd.Function):
        @staticmethod
        def forward(ctx, A, B, absmax, shape):
            ctx.shape = shape
            weight = torch.empty(shape, dtype=torch.float16, device=A.device).t()   # dequantize_4bit(...): out.t()
            weight = weight.to(A.dtype)                                             # .to(A.dtype): bf16 copy
            output = torch.nn.functional.linear(A, weight.t())
            del weight
            needs = any(ctx.needs_input_grad[:2])
            if variant == "saves-input":
                ctx.save_for_backward(A if needs else None, B)
            else:
                # ctx.tensors = (A, B): held for as long as the graph (HELD_BY_GRAPH, see there)
                ctx.B = B
                if needs:
                    HELD_BY_GRAPH.current.append(A)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            B = ctx.saved_tensors[1] if variant == "saves-input" else ctx.B
            grad_A = None
            if ctx.needs_input_grad[0]:
                weight = torch.empty(ctx.shape, dtype=torch.float16, device=B.device).t()
                grad_A = torch.matmul(grad_output, weight.to(grad_output.dtype).t())
            return grad_A, None, None, None

    class FakeLinear4bit(torch.nn.Module):
        """The stored tensors of Fabric's _NF4Linear (bnb.nn.Linear4bit, nf4, no double quantization) and its
        forward; in_features / out_features as nn.Linear's (LitGPT's LoRAQKVLinear reads out_features)."""

        def __init__(self, in_features, out_features, device=None):
            super().__init__()
            self.in_features, self.out_features = in_features, out_features
            numel = in_features * out_features
            self.weight = torch.nn.Parameter(torch.empty(numel // 2, 1, dtype=torch.uint8, device=device),
                                             requires_grad=False)
            self.register_buffer("absmax", torch.empty(numel // BLOCKSIZE, dtype=torch.float32, device=device))
            self.register_buffer("code", torch.empty(16, dtype=torch.float32, device=device))
            self.compute_dtype = torch.bfloat16

        def forward(self, x):
            inp_dtype = x.dtype
            x = x.to(self.compute_dtype)
            out = MatMul4BitOf042.apply(x, self.weight.t(), self.absmax, (self.out_features, self.in_features))
            return out.to(inp_dtype)

    return FakeLinear4bit


class GraphHeld:
    """The inputs bitsandbytes 0.42's MatMul4Bit keeps as ctx attributes, held here instead of on ctx.

    An attribute of an autograd.Function's ctx lives as long as the autograd node, i.e. until the graph is dropped;
    in lora.py's loop that is when `loss` is rebound in the next micro-batch (`logits` and `loss` keep the graph:
    checked on real CPU tensors without any tracker -- after backward 13 of a 2-layer model's 14 inputs are alive,
    through the next forward, and none once the next `loss = chunked_cross_entropy(...)` has run). Under MemTracker,
    though, its ModTracker's backward hooks (register_multi_grad_hook on module inputs and outputs) keep earlier
    iterations' nodes alive, so ctx attributes would never be freed and the peak would grow with every micro-batch.
    So the emulation holds A here, and the loop drops a micro-batch's list exactly where lora.py's loop drops its
    graph."""

    def __init__(self):
        self.current, self.previous = [], []

    def next_micro_batch(self):
        self.previous, self.current = self.current, []

    def drop_previous(self):
        self.previous = []

    def drop_current(self):
        self.current = []


HELD_BY_GRAPH = GraphHeld()


def quantize_linears(module, linear_cls, skip=()):
    """Fabric's _convert_layers / module_init_context: every torch.nn.Linear (no ignore_modules: LitGPT passes
    none, so the LM head too) becomes the 4-bit class; `skip` names top-level children left alone (variant
    head-bf16: ignore_modules={"lm_head"}, as transformers' bitsandbytes loading does)."""
    import torch

    for name, child in module.named_children():
        if name in skip:
            continue
        if isinstance(child, torch.nn.Linear):
            if child.bias is not None:
                raise SystemExit(f"{name}: a biased linear is not emulated")
            setattr(module, name, linear_cls(child.in_features, child.out_features, device=child.weight.device))
        else:
            quantize_linears(child, linear_cls)


class FakePagedAdamW:
    """bitsandbytes 0.42.0 PagedAdamW (optim/adamw.py: Optimizer2State("adam", ..., optim_bits=32, is_paged=True)).
    optim/optimizer.py get_state_buffer: "if not self.is_paged or p.numel() < 1e5: return torch.zeros_like(p,
    dtype=dtype, device=p.device)" else "F.get_paged(...)" (cudaMallocManaged through bnb's own library, outside
    PyTorch's allocator, so not in max_memory_allocated); init_state makes state1 and state2 fp32; the update is one
    CUDA kernel in place (optimizer_update_32bit): no temporaries. zero_grad is torch.optim.Optimizer's
    (set_to_none=True)."""

    def __init__(self, params):
        self.params = list(params)
        self.state = {}

    def step(self):
        import torch
        for p in self.params:
            if p.grad is None:
                continue
            if p not in self.state:
                small = p.numel() < 1e5
                self.state[p] = [torch.zeros_like(p, dtype=torch.float32) for _ in range(2)] if small else []
            p.data.add_(p.grad, alpha=-2e-4)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def build(name, quantize, variant, layers=None):
    import torch
    from litgpt.lora import GPT, Config, mark_only_lora_as_trainable
    from torch._subclasses.fake_tensor import unset_fake_temporarily

    config = Config.from_name(name, **LORA, **({"n_layer": layers} if layers else {}))
    with unset_fake_temporarily(), torch.device("meta"):
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.bfloat16)
        try:
            model = GPT(config)
            if quantize:
                quantize_linears(model, fake_bnb_classes(variant), ("lm_head",) if variant == "head-bf16" else ())
        finally:
            torch.set_default_dtype(default)
        mark_only_lora_as_trainable(model)
    _bench_helpers().materialize(model)
    model.max_seq_length = SEQ
    model.train()
    return model


def measure(row, variant="", layers=None):
    import torch
    from lightning.fabric.plugins.precision.half import HalfPrecision
    from litgpt.utils import chunked_cross_entropy
    from torch._subclasses.fake_tensor import FakeTensorMode

    name, batch, quantize = ROWS[row]
    precision = HalfPrecision("bf16-true")
    real_dropout = torch.nn.functional.dropout

    def cuda_dropout(input, p=0.5, training=True, inplace=False):
        return torch.native_dropout(input, p, training)[0] if training and p > 0 else input

    torch.nn.functional.dropout = cuda_dropout
    try:
        with FakeTensorMode():
            model = build(name, quantize, variant, layers)
            params = [p for p in model.parameters() if p.requires_grad]
            opt = FakePagedAdamW(params) if quantize else torch.optim.AdamW(
                params, lr=2e-4, weight_decay=0.0, betas=(0.9, 0.95), foreach=True)
            tracker = _bench_helpers()._tracker_class()()
            tracker.track_external(model)
            if not quantize:
                tracker.track_external(opt)
            vocab = model.config.padded_vocab_size
            logits = loss = None
            with tracker:
                for it in range(MICRO_BATCHES):
                    tracker.iteration = it
                    tracker.reset_mod_stats()
                    input_ids = torch.randint(0, vocab, (batch, SEQ))
                    targets = torch.randint(0, vocab, (batch, SEQ))
                    tracker.phase = "forward"
                    HELD_BY_GRAPH.next_micro_batch()
                    args, kwargs = precision.convert_input(((input_ids,), {"lm_head_chunk_size": 128}))
                    with precision.forward_context():
                        output = model(*args, **kwargs)
                    logits = precision.convert_output(output)
                    del output, args, kwargs
                    tracker.phase = "loss"
                    logits[-1] = logits[-1][..., :-1, :]
                    loss = chunked_cross_entropy(logits, targets[..., 1:])
                    HELD_BY_GRAPH.drop_previous()  # the old `loss`, the last holder of the old graph, is rebound
                    tracker.phase = "backward"
                    (loss / STEP_EVERY).backward()
                    running = loss.detach()
                    if variant == "frees-graph":
                        del logits, loss
                        HELD_BY_GRAPH.drop_current()
                    if (it + 1) % STEP_EVERY == 0:
                        tracker.phase = "optimizer step"
                        opt.step()
                        tracker.phase = "zero_grad"
                        opt.zero_grad()
                    del running
    finally:
        torch.nn.functional.dropout = real_dropout
        HELD_BY_GRAPH.__init__()
    steady = [tracker.peaks[i] for i in range(2, MICRO_BATCHES)]
    best = max(steady, key=lambda r: r["peak"])
    return {"peak": best["peak"], "phase": best["phase"], "module": best["module"],
            "breakdown": best["breakdown"], "per_micro_batch": [tracker.peaks[i]["peak"] for i in range(MICRO_BATCHES)],
            "regions": {f"{ph}/{where}" if where else ph: v for (i, ph, where), v in tracker.by_region.items()
                        if i >= 2}}


def main(argv=None) -> int:
    import importlib.metadata as md

    argv = sys.argv[1:] if argv is None else argv
    variant, layers = "", None
    if "--variant" in argv:
        variant = argv[argv.index("--variant") + 1]
        argv = [a for a in argv if a not in ("--variant", variant)]
    if "--layers" in argv:  # the model cut to N layers, widths and vocabulary kept (per-layer bytes by difference)
        i = argv.index("--layers")
        layers = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    rows = argv or list(ROWS)
    out = {"versions": {k: md.version(k) for k in ("torch", "litgpt", "lightning")},
           "command": "python bench/measure_litgpt_peaks.py " + " ".join(sys.argv[1:] if argv is None else argv),
           "variant": variant, "layers": layers, "seq": SEQ, "rows": {}}
    for row in rows:
        t0 = time.perf_counter()
        r = measure(row, variant, layers)
        r["seconds"] = round(time.perf_counter() - t0, 1)
        out["rows"][row] = r
        print(f"{row}: {r['peak']:,} B = {r['peak'] / 1e9:.3f} GB in {r['phase']} ({r['module']}), "
              f"{r['seconds']} s", file=sys.stderr)
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
