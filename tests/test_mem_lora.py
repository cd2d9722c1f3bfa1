"""Issue 12, LoRA / QLoRA / DoRA: trainable counts equal peft's, model states equal a real peft step, the frozen
base's bitsandbytes bytes derived by hand, and QLoRA's model states below LoRA's.

* Trainable parameters: peft.get_peft_model(model, LoraConfig(...)).get_nb_trainable_parameters() on the transformers
  model built on the meta device from published config.json files (tests/test_params_torch.py REAL_CONFIGS, each
  cited there), for q,v at r 8 and 64 and all-linear at r 16. peft names modules as transformers does (GPT-2's
  c_attn, Falcon's query_key_value); the script names them as the shared block's tensor list does (qkv_proj):
  PEFT_QV below pairs the two for each model.
* Model states: a small Llama built by transformers on the CPU, in bf16, wrapped by peft (adapters upcast to fp32
  by peft's autocast_adapter_dtype), one real AdamW step: weights, adapter gradients and optimizer states to the byte.
"""
from __future__ import annotations

import pytest

from conftest import call_main, torch_and_transformers

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover
    given = None

# (REAL_CONFIGS key, peft's target_modules for "q and v", the script's --lora-targets for the same modules)
PEFT_QV = [
    ("llama3", ["q_proj", "v_proj"], "q,v"),              # GQA, untied (Meta-Llama-3-8B)
    ("llama3.2", ["q_proj", "v_proj"], "q,v"),            # tied embeddings (Llama-3.2-1B)
    ("qwen2", ["q_proj", "v_proj"], "q,v"),               # qkv biases (LoRA leaves biases alone)
    ("gemma2", ["q_proj", "v_proj"], "q,v"),              # sandwich norms, head_dim 256
    ("phi3", ["qkv_proj"], "qkv_proj"),                   # fused qkv_proj and gate_up_proj
    ("gpt2", ["c_attn"], "qkv_proj"),                     # Conv1D, fused c_attn
    ("falcon_new", ["query_key_value"], "qkv_proj"),      # Falcon-40B's fused GQA projection
    ("gptj", ["q_proj", "v_proj"], "q,v"),                # parallel block
    ("opt", ["q_proj", "v_proj"], "q,v"),                 # all-linear includes project_in / project_out
    ("mixtral", ["q_proj", "v_proj"], "q,v"),             # MoE: all-linear skips router and experts
    ("qwen2_moe", ["q_proj", "v_proj"], "q,v"),           # shared experts + shared_expert_gate are nn.Linear
    ("deepseek_v3", ["q_b_proj", "kv_b_proj"], "q_b_proj,kv_b_proj"),  # MLA
]


def _published(name):
    from test_params_torch import REAL_CONFIGS
    config = REAL_CONFIGS[name]
    return dict(config[0] if isinstance(config, tuple) else config)


def peft_trainable(name, target_modules, rank, use_dora=False):
    torch, transformers = torch_and_transformers()
    peft = pytest.importorskip("peft")
    raw = _published(name)
    config = transformers.AutoConfig.for_model(raw.pop("model_type"), **raw)
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
        wrapped = peft.get_peft_model(model, peft.LoraConfig(r=rank, lora_alpha=16, target_modules=target_modules,
                                                             use_dora=use_dora))
    trainable, _total = wrapped.get_nb_trainable_parameters()
    return trainable


@pytest.mark.torch
@pytest.mark.parametrize("name, peft_qv, ours_qv", PEFT_QV, ids=[c[0] for c in PEFT_QV])
@pytest.mark.parametrize("case", ["qv-r8", "qv-r64", "all-linear-r16"])
def test_trainable_parameters_equal_peft(mem, name, peft_qv, ours_qv, case):
    rank = {"qv-r8": 8, "qv-r64": 64, "all-linear-r16": 16}[case]
    peft_targets, ours = ("all-linear", "all-linear") if case.startswith("all") else (peft_qv, ours_qv)
    model, _ = mem.model_from_config(_published(name), name)
    lora = mem.LoraSetup(rank=rank, targets=ours)
    if ours == "all-linear" and model.is_moe:
        # peft 0.21 adapts the 3-D expert parameters too (target_parameters): refused rather than miscounted
        with pytest.raises(ValueError, match="all-linear on a MoE model"):
            mem.lora_trainable_params(model, lora)
        return
    assert mem.lora_trainable_params(model, lora) == peft_trainable(name, peft_targets, rank)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["llama3.2", "gpt2"])
def test_dora_adds_one_magnitude_per_output_feature_as_peft(mem, name):
    peft_qv, ours = {c[0]: (c[1], c[2]) for c in PEFT_QV}[name]
    model, _ = mem.model_from_config(_published(name), name)
    try:
        expected = peft_trainable(name, peft_qv, 8, use_dora=True)
    except (RuntimeError, NotImplementedError, TypeError) as exc:  # DoRA's weight norm on meta tensors
        pytest.skip(f"peft DoRA does not build on the meta device here: {exc}")
    assert mem.lora_trainable_params(model, mem.LoraSetup(rank=8, targets=ours, dora=True)) == expected


@pytest.mark.torch
@pytest.mark.parametrize("targets, peft_targets", [("q,v", ["q_proj", "v_proj"]), ("all-linear", "all-linear")])
@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_lora_model_states_equal_a_real_peft_step(mem, targets, peft_targets, dropout):
    torch, transformers = torch_and_transformers()
    peft = pytest.importorskip("peft")
    from test_mem_torch import LLAMA_3_8B, build, described, unique_bytes
    model = build(transformers, LLAMA_3_8B).to(torch.bfloat16)
    wrapped = peft.get_peft_model(model, peft.LoraConfig(r=8, lora_alpha=16, target_modules=peft_targets,
                                                         lora_dropout=dropout))
    wrapped.train()
    ids = torch.randint(0, LLAMA_3_8B["vocab_size"], (2, 16))
    wrapped(input_ids=ids, labels=ids).loss.backward()
    params = list({p.data_ptr(): p for p in wrapped.parameters()}.values())
    trainable = [p for p in params if p.requires_grad]
    assert {p.dtype for p in trainable} == {torch.float32}  # peft's autocast_adapter_dtype
    opt = torch.optim.AdamW(trainable, lr=1e-3)
    opt.step()
    states = unique_bytes([v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)])
    lora = mem.LoraSetup(rank=8, targets=targets, dropout=dropout)
    terms, n = mem.lora_model_states(described(mem, LLAMA_3_8B), mem.TrainSetup(seq_len=16, micro_batch=2), lora)
    assert n == sum(p.numel() for p in trainable)
    assert terms["weights"] == unique_bytes(params)
    assert terms["gradients"] == unique_bytes([p.grad for p in trainable])
    assert terms["optimizer_states"] == states
    assert terms["master_weights"] == 0


def test_bitsandbytes_layouts_by_hand(mem):
    # One 4096 x 4096 linear (Llama-3-8B's q_proj): 16,777,216 weights.
    n, rows = 4096 * 4096, 4096
    # LLM.int8: int8 weights + an fp32 scale per output row
    assert mem.quantized_linear_bytes(n, rows, "int8") == 16_777_216 + 4 * 4096
    # nf4: n / 2 packed bytes + fp32 absmax per 64 values (262,144 blocks) + the 16-entry fp32 NF4 table
    assert mem.quantized_linear_bytes(n, rows, "nf4") == 8_388_608 + 4 * 262_144 + 64 == 9_437_248
    # nf4 + double quantization: uint8 absmax per block + fp32 absmax per 256 blocks (1,024) + the 256-entry fp32
    # dynamic map (1,024 B) + the fp32 offset + the NF4 table
    assert mem.quantized_linear_bytes(n, rows, "nf4-dq") == 8_388_608 + 262_144 + 4 * 1024 + 1024 + 4 + 64
    # An odd size: 3 x 37 = 111 values -> 56 packed bytes, 2 blocks
    assert mem.quantized_linear_bytes(111, 3, "nf4") == 56 + 8 + 64


def test_qlora_base_of_llama_3_8b_by_hand(mem):
    # Meta-Llama-3-8B (REAL_CONFIGS["llama3"]): per layer q, o 4096 x 4096; k, v 1024 x 4096; gate, up 14336 x 4096;
    # down 4096 x 14336 (all 64-divisible), quantised; embeddings, LM head (kept by transformers' bnb integration)
    # and norms in bf16.
    model, _ = mem.model_from_config(_published("llama3"), "llama3")
    linears = [(4096 * 4096, 4096)] * 2 + [(1024 * 4096, 1024)] * 2 + [(14336 * 4096, 14336)] * 2 + \
        [(4096 * 14336, 4096)]
    nf4_layer = sum(n // 2 + 4 * (n // 64) + 64 for n, _ in linears)
    kept = 2 * 128256 * 4096 + 32 * 2 * 4096 + 4096  # embedding + LM head, 2 norms per layer, final norm
    expected = 32 * nf4_layer + 2 * kept
    assert mem.lora_base_weight_bytes(model, mem.LoraSetup(base_dtype="nf4")) == expected
    # bf16 base: 8,030,261,248 parameters x 2 B
    assert mem.lora_base_weight_bytes(model, mem.LoraSetup(base_dtype="bf16")) == 2 * 8_030_261_248


def test_cli_prints_the_lora_assumptions(mem):
    code, out, err = call_main(mem, ["-p", "llama-3-8b", "--lora-rank", "16", "--lora-targets", "all-linear",
                                     "--base-dtype", "nf4", "-s", "1024"])
    assert code == 0, err
    assert "41,943,040 trainable" in out  # = peft's count on Meta-Llama-3-8B, all-linear r 16 (test above)
    assert "frozen base at nf4" in out and "GiB" in out and "alpha 16" in out


def test_cli_lora_under_autocast_over_an_fp32_base(mem):
    """--base-dtype fp32 --precision amp-bf16: fp32 weights, adapters and AdamW states (4 + 4 + 8 B per adapter
    parameter), the step timeline drawn (its peak checked against MemTracker in tests/test_mem_lora_timeline.py)."""
    code, out, err = call_main(mem, ["-p", "llama-3.2-1b", "--lora-rank", "8", "--base-dtype", "fp32", "--precision",
                                     "amp-bf16", "-s", "2048", "--json"])
    assert code == 0, err
    import json
    result = json.loads(out)
    assert result["lora"]["autocast"] == "amp-bf16" and result["timeline"] is not None
    assert result["per_gpu"]["gradients"] == 4 * result["lora"]["trainable_params"]


@pytest.mark.parametrize("argv, flag", [
    (["-p", "gpt2", "--lora-rank", "8", "--lora-targets", "q,v"], "qkv_proj"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "-tp", "2", "--num-gpus", "2"], "-tp"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "--precision", "amp-bf16"], "--precision"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "--precision", "bf16-pure", "--base-dtype", "fp32"], "--precision"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "--precision", "amp-bf16", "--base-dtype", "fp32", "--adapter-dtype",
      "bf16"], "--precision"),
    (["-p", "llama-3-8b", "--lora-alpha", "16"], "--lora-rank"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "--lora-targets", "wq"], "--lora-targets"),
    (["-p", "llama-3-8b", "--lora-rank", "0"], "--lora-rank"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "--base-dtype", "nf3"], "--base-dtype"),
    (["-p", "mixtral-8x7b", "--lora-rank", "8", "--base-dtype", "nf4"], "--base-dtype"),
    (["-p", "mixtral-8x7b", "--lora-rank", "8", "--lora-targets", "router"], "--lora-targets"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "-z", "3"], "-z"),
    (["-p", "llama-3-8b", "--lora-rank", "8", "--infer"], "--lora-rank"),
    (["--params", "7B", "--lora-rank", "8"], "--lora-rank"),
])
def test_unmodelled_lora_combinations_are_refused_in_one_line(mem, argv, flag):
    code, out, err = call_main(mem, argv)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and flag in err, err


if given is not None:
    @settings(max_examples=40)
    @given(layers=st.integers(1, 8), heads=st.sampled_from([1, 2, 4, 8]), head_dim=st.sampled_from([16, 32, 64]),
           kv_div=st.sampled_from([1, 2, 4]), ffn_mult=st.integers(2, 6), vocab=st.integers(256, 70000),
           rank=st.sampled_from([1, 8, 16, 64]), targets=st.sampled_from(["q,v", "all-linear", "o_proj,down_proj"]),
           quant=st.sampled_from(["nf4", "nf4-dq", "int8"]), tied=st.booleans(), seq=st.sampled_from([128, 2048]))
    def test_qlora_memory_is_below_lora_memory(mem, layers, heads, head_dim, kv_div, ffn_mult, vocab, rank, targets,
                                               quant, tied, seq):
        # Property: for the same model, rank, targets and batch, a 4-bit (or 8-bit) frozen base never takes more than
        # the bf16 one. Width >= 64 (heads x head_dim >= 16 x 4): the smallest linear then has >= 1024 weights, above
        # the per-tensor constants of double quantization (1,092 B of tables against 2 B per bf16 weight).
        kv = max(1, heads // kv_div)
        h = max(64, heads * head_dim)
        argv = ["-l", str(layers), "-hs", str(h), "-a", str(heads), "--num-kv-heads", str(kv), "--head-dim",
                str(head_dim), "--ffn-hidden-size", str(ffn_mult * h), "-v", str(vocab), "-s", str(seq),
                "--lora-rank", str(rank), "--lora-targets", targets, "--json"]
        if tied:
            argv.append("--tied-embeddings")
        import json
        code_l, out_l, err_l = call_main(mem, argv + ["--base-dtype", "bf16"])
        code_q, out_q, err_q = call_main(mem, argv + ["--base-dtype", quant])
        assert code_l == code_q
        if code_l:
            return  # a shape the block refuses is refused in both
        lora, qlora = json.loads(out_l)["per_gpu"], json.loads(out_q)["per_gpu"]
        assert qlora["weights"] < lora["weights"]
        states = ("weights", "gradients", "master_weights", "optimizer_states")
        assert sum(qlora[k] for k in states) < sum(lora[k] for k in states)
        if quant == "int8":
            # LLM.int8 keeps each frozen linear's input for the input's gradient (MatMul8bitLt: `if
            # any(ctx.needs_input_grad[:2]): ctx.tensors = (CAt, subA, A)`), a bf16 nn.Linear does not: a small
            # model at a long sequence (1 layer, width 64, 2048 tokens) can take more under int8 than under bf16
            assert qlora["activations"] >= lora["activations"]
            return
        # QLoRA: a 4-bit base from bitsandbytes 0.43.3 on keeps no input (MatMul4Bit: `ctx.tensors = (None, B)`,
        # bitsandbytes PR #1270), so its memory is below LoRA's, always: the sum and the step's peak
        assert qlora["activations"] == lora["activations"]
        assert qlora["total"] < lora["total"]
        assert json.loads(out_q)["timeline"]["peak_total"] < json.loads(out_l)["timeline"]["peak_total"]
        # Before 0.43.3 MatMul4Bit kept every input (`ctx.tensors = (A, B)`): not always below then, as
        # universal-llm-trainer's docs/gpu_test.md found of its runs ("QLoRA does not always use less GPU than LoRA")
        code_o, out_o, _ = call_main(mem, argv + ["--base-dtype", quant, "--bnb-version", "0.42.0"])
        assert code_o == 0 and json.loads(out_o)["per_gpu"]["activations"] >= lora["activations"]
