"""The scripts agree with each other on the models they share.

Every script carries the shared model block (tools/model_block.py: the Model, the config.json reader, the tensor
list and the one preset table) and its own math around it. This file checks the scripts against one another: on
every preset and every published config.json, the four architecture-aware scripts give one parameter count, to the
unit, the memory and quantization scripts one KV-cache size, and every script offers the same presets.
"""
from __future__ import annotations

import json

import pytest

from conftest import ROOT, call_main, load_script

SCRIPTS = ["calc_transformer_params", "calc_transformer_flops", "calc_transformer_mem", "calc_quantization"]

# Where each script's JSON puts the total parameter count.
TOTAL_KEY = {
    "calc_transformer_params": lambda d: d["total"],
    "calc_transformer_flops": lambda d: d["parameters"]["total"],
    "calc_transformer_mem": lambda d: d["params"]["total"],
    "calc_quantization": lambda d: d["model"]["params"],
}


def _shared_presets() -> list[str]:
    if not all((ROOT / f"{name}.py").exists() for name in SCRIPTS):
        return []
    return sorted(load_script(SCRIPTS[0]).MODEL_PRESETS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_offers_the_blocks_presets_and_no_other(script):
    module = load_script(script)
    assert not hasattr(module, "PRESETS"), f"{script} keeps a preset table of its own"
    status, out, err = call_main(module, ["--list-presets"])
    assert status == 0, err
    listed = {line.split()[0] for line in out.splitlines() if line.strip() and line.split()[0] in module.MODEL_PRESETS}
    assert listed == set(module.MODEL_PRESETS)


# calc_transformer_mem.py refuses training memory for these under its default (megatron) profile -- qwen3_next,
# qwen3.5-27b (qwen3_5_text), bamba, dense nemotron_h and lfm2 train under --profile hf only, the others not at all;
# its parameter count is the same in --infer mode (count_params, before the mode branches)
MEM_INFER_ONLY = {"qwen3-next-80b-a3b", "qwen3_next", "bamba",
                  "qwen3.5-27b", "qwen3_5", "qwen3.5-397b-a17b", "qwen3_5_moe"}  # issue 10, branch qwen35

MEM_INFER_ONLY |= {"mimo_v2_flash", "lfm2"}  # issue 10, branch mimo: training memory refused
MEM_INFER_ONLY |= {"jamba", "ernie4_5_moe", "hunyuan_v1_moe"}  # issue 10, branch jamba: training memory refused
MEM_INFER_ONLY |= {"nemotron_h", "nemotron_h_moe", "falcon_h1"}  # issue 10, branch hybrid: training memory refused
MEM_INFER_ONLY |= {"gemma-4-31b", "gemma-4-26b-a4b", "gemma4_e2b", "gemma4_e4b", "gemma4_31b",  # issue 10, gemma4:
                   "gemma4_26b_a4b"}  # training memory refused


def _mode(script: str, name: str) -> list:
    return ["--infer"] if script == "calc_transformer_mem" and name in MEM_INFER_ONLY else []


def _total(script: str, preset: str) -> int:
    status, out, err = call_main(load_script(script), ["--preset", preset, "--json"] + _mode(script, preset))
    assert status == 0, f"{script} --preset {preset}: {err.strip()}"
    return TOTAL_KEY[script](json.loads(out))


@pytest.mark.parametrize("preset", _shared_presets())
def test_every_script_counts_the_same_parameters(preset):
    totals = {script: _total(script, preset) for script in SCRIPTS}
    assert len(set(totals.values())) == 1, totals


def _kv_bytes_per_token(script: str, preset: str) -> int:
    argv = {"calc_transformer_mem": ["--preset", preset, "--infer", "--kv-dtype", "bf16", "--json"],
            "calc_quantization": ["--preset", preset, "--formats", "fp16", "--kv-dtype", "bf16", "--json"]}[script]
    status, out, err = call_main(load_script(script), argv)
    assert status == 0, f"{script} --preset {preset}: {err.strip()}"
    return json.loads(out)["kv_cache"]["bytes_per_token"]


@pytest.mark.parametrize("preset", _shared_presets())
def test_memory_and_quantization_agree_on_the_kv_cache(preset):
    # Both state K and V bytes per token of context at 2 bytes per element, before any sliding-window cap.
    assert _kv_bytes_per_token("calc_transformer_mem", preset) == _kv_bytes_per_token("calc_quantization", preset)


def _real_configs() -> dict:
    # The published config.json files the params suite checks against PyTorch (each cited there).
    from test_params_torch import REAL_CONFIGS
    return REAL_CONFIGS


@pytest.mark.parametrize("name", sorted(_real_configs()))
def test_every_script_reads_a_real_config_json_the_same_way(name, tmp_path):
    config = _real_configs()[name]
    if isinstance(config, tuple):
        config = config[0]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    totals = {}
    for script in SCRIPTS:
        status, out, err = call_main(load_script(script), ["--config", str(path), "--json"] + _mode(script, name))
        if status != 0:
            totals[script] = f"exit {status}: {err.strip()}"
        else:
            totals[script] = TOTAL_KEY[script](json.loads(out))
    assert len(set(totals.values())) == 1, totals


@pytest.mark.parametrize("name", sorted(_real_configs()))
def test_scaling_laws_reads_a_real_config_json_like_the_params_script(name, tmp_path):
    # calc_scaling_laws.py takes a model size only inside a query, so it is compared on its own: its exact total
    # (JSON "model" object) must be the params script's, and so must the non-embedding count Kaplan's law uses.
    config = _real_configs()[name]
    if isinstance(config, tuple):
        config = config[0]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    status, out, err = call_main(load_script("calc_transformer_params"), ["--config", str(path), "--json"])
    assert status == 0, err
    params = json.loads(out)
    status, out, err = call_main(load_script("calc_scaling_laws"), ["loss", "--config", str(path), "-D", "1T", "--json"])
    assert status == 0, err
    model = json.loads(out)["model"]
    assert (model["total"], model["non_embedding"]) == (params["total"], params["non_embedding"])


# --------------------------------------------------------------------------------------------------------------
# The model flags: one spelling, one meaning, one default (tools/model_block.py add_model_arguments /
# model_from_arguments, carried by every script)
# --------------------------------------------------------------------------------------------------------------
H, V, L = 256, 1000, 4  # a small model from flags alone: -l 4 -hs 256 -v 1000 -a 8
FLAGS_ONLY = ["-l", str(L), "-hs", str(H), "-a", "8", "-v", str(V)]

# Hand counts. Flags alone are the cookbook's transformer: untied embedding and LM head (2*V*H), LayerNorm with
# weight and bias (2H per norm; two per layer and a final one), attention q,k,v,o without biases, a plain MLP.
FLAGS_ONLY_CASES = {
    # dense MHA, MLP 4H wide with 2 linears
    "dense": (FLAGS_ONLY, 2 * V * H + L * (2 * 2 * H + 4 * H * H + 2 * H * 4 * H) + 2 * H),
    # GQA (2 of 8 heads: k and v are H x 64), SwiGLU 688 wide (3 linears), RMSNorm (H per norm)
    "gqa-swiglu-rmsnorm": (FLAGS_ONLY + ["--num-kv-heads", "2", "-nl", "3", "--ffn-hidden-size", "688", "--norm",
                                         "rmsnorm"],
                           2 * V * H + L * (2 * H + 2 * H * H + 2 * H * 64 + 3 * H * 688) + H),
    # the cookbook's MoE switch: 8 experts, each the 4H 2-linear MLP, a bias-free router H x 8; -t not given: top-1
    "moe": (FLAGS_ONLY + ["--moe", "-e", "8"],
            2 * V * H + L * (2 * 2 * H + 4 * H * H + 8 * H + 8 * 2 * H * 4 * H) + 2 * H),
    # -ei 2: layers 1 and 3 are MoE (the cookbook's every-other layer, layers N-1, 2N-1, ...), 0 and 2 dense
    "moe-interval-2": (FLAGS_ONLY + ["--moe", "-e", "8", "-t", "2", "-ei", "2"],
                       2 * V * H + 2 * (2 * 2 * H + 4 * H * H + 2 * H * 4 * H)
                       + 2 * (2 * 2 * H + 4 * H * H + 8 * H + 8 * 2 * H * 4 * H) + 2 * H),
    # -kv 0.25 (the cookbook's ratio: 2 kv heads of 8) and -ff 2.6875 (688 = 2.6875 x 256), gated
    "cookbook-ratios": (FLAGS_ONLY + ["-kv", "0.25", "-ff", "2.6875", "-nl", "3"],
                        2 * V * H + L * (2 * 2 * H + 2 * H * H + 2 * H * 64 + 3 * H * 688) + 2 * H),
}


def _total_of(script: str, argv: list[str]) -> int:
    status, out, err = call_main(load_script(script), argv + ["--json"])
    assert status == 0, f"{script} {' '.join(argv)}: {err.strip()}"
    return TOTAL_KEY[script](json.loads(out))


@pytest.mark.parametrize("case", sorted(FLAGS_ONLY_CASES))
def test_a_model_from_flags_alone_is_one_model_in_every_script(case):
    argv, by_hand = FLAGS_ONLY_CASES[case]
    assert {script: _total_of(script, argv) for script in SCRIPTS} == dict.fromkeys(SCRIPTS, by_hand)


# A preset or config plus flags: every script applies the same flags the same way (the cases the review found
# differing when each script mapped flags itself: -l on a preset, -hs on a model with its own head_dim, Mixtral's
# --ffn-hidden-size, -kv on a preset, a new depth for a model with sliding layers).
PRESET_PLUS_FLAGS = [
    ["--preset", "llama-3-8b", "-l", "16"],
    ["--preset", "gemma-2-2b", "-hs", "2048", "-l", "10", "--layer-types", "alternate"],
    ["--preset", "mixtral-8x7b", "--ffn-hidden-size", "7168"],
    ["--preset", "llama-2-7b", "-kv", "0.25"],
    ["--preset", "qwen1.5-moe-a2.7b", "-e", "30", "-t", "2"],
    ["--preset", "deepseek-v2", "-l", "10", "--kv-lora-rank", "256"],
    ["--preset", "Llama-3-8B"],
]


@pytest.mark.parametrize("argv", PRESET_PLUS_FLAGS, ids=" ".join)
def test_a_preset_plus_flags_is_one_model_in_every_script(argv):
    totals = {script: _total_of(script, argv) for script in SCRIPTS}
    assert len(set(totals.values())) == 1, totals


@pytest.mark.parametrize("argv", [["-hs", "100"], ["--preset", "gemma-2-2b", "-l", "10"], ["-p", "llama-3-8b", "-kv", "0.3"],
                                  FLAGS_ONLY + ["-ff", "1e308"], FLAGS_ONLY + ["-e", "8", "-t", "9"]], ids=" ".join)
def test_a_bad_model_flag_is_one_line_and_exit_2_in_every_script(argv):
    for script in SCRIPTS:
        status, out, err = call_main(load_script(script), argv)
        assert status == 2 and out == "" and err.count("\n") == 1, (script, err)


def test_a_bad_or_empty_config_is_worded_alike_in_every_script(tmp_path):
    # Found in review: the quantization and scaling scripts dropped the "--config" a user typed from a config
    # error, and mem worded an empty --config as its own generic "needs a value"
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "vocab_size": 10}))
    scaling = ["loss", "-D", "1T"]
    for script in ALL_SCRIPTS:
        lead = scaling if script == "calc_scaling_laws" else []
        for value, expected in ((str(bad), ("error: --config ", ": field 'num_attention_heads' is missing")),
                                ("", ("error: --config expects a path to a config.json", ""))):
            status, out, err = call_main(load_script(script), lead + ["--config", value])
            assert status == 2 and out == "" and err.count("\n") == 1, (script, err)
            assert all(part in err for part in expected), (script, err)


# --------------------------------------------------------------------------------------------------------------
# One vocabulary: every spelling more than one script has means one thing (README: "One vocabulary")
# --------------------------------------------------------------------------------------------------------------
import argparse  # noqa: E402

ALL_SCRIPTS = SCRIPTS + ["calc_scaling_laws"]

# The flags (other than the block's model flags) that more than one script has, with their one meaning. A new shared
# spelling must be added here (and so to the README's table, generated from this one) with the meaning it has in
# every script that takes it.
SHARED_FLAG_MEANINGS = {
    "--format": "output: text (aligned tables), markdown (tables to paste) or json (one object, exact integers)",
    "--json": "shorthand for --format json",
    "--plot": "write a picture to this file (PNG, SVG or PDF by its extension; matplotlib on first use)",
    "--params": "a parameter count N instead of a model (mem: model states only; quantization: a dense "
                "approximation; scaling laws: the N of a law)",
    "--tokens": "training tokens D (7B, 1.4T, ...)",
    "-s": "tokens per sequence: the training or prefill length (params: only the rows of a learned position table "
          "that has none; quantization: --context)",
    "--sequence-length": "same as -s",
    "--batch-size": "sequences processed together: per training step (flops), served at once (mem, quantization)",
    "-b": "the cookbook's batch flag, whose two scripts differ: flops --batch-size (sequences per step, the cookbook "
          "flops'), mem --batch-size-per-gpu (the cookbook mem's)",
    "--context": "tokens per sequence held in the KV cache",
    "--kv-dtype": "KV-cache element type, the block's table (fp16 = f16, bf16, fp8, q8_0, q4_0, ...)",
    "--overhead": "a flat allowance for the CUDA context and buffers (a size with its unit, 0 allowed; default 1 GiB, "
                  "the Ultra-Scale Playbook's 1-2 GB of CUDA context and kernels)",
    "--dtype": "the number format of the weights (params: the checkpoint's; flops: the compute's peak and bytes)",
    "--num-gpus": "GPUs in the job",
    "--gpu": "an accelerator of the shared block's GPU_CATALOGUE (h100-sxm, mi300x, ...; datasheet sources): flops "
             "its peak FLOP/s and bandwidth, mem its memory, peaks and links, quantization its memory as the target",
    "--gpu-memory": "one GPU's memory, a size with its unit (80GiB and 80GB differ), overriding --gpu's: mem's "
                    "verdict and solvers, quantization's target",
    "--peak-tflops": "dense peak TFLOP/s per GPU, overriding the --gpu table's",
    "--bandwidth": "memory bandwidth of an inference roofline, e.g. 3.35TB/s or 3350GB/s (a plain number: GB/s), "
                   "overriding the --gpu table's",
    "--recompute": "activation recomputation: none, selective (attention) or full",
    "--old-qkv": "a GGUF file type's fused attn_qkv on llama-quantize's older rule (the shared block's "
                 "GGUF_OLD_RECIPES): quantization sizes the file, mem --engine llama.cpp --gguf-type its buffers",
    "--seed": "random seed (quantization --measure, scaling-law bootstrap)",
    "--infer": "an inference workload instead of training (flops: one forward pass over every token, the cookbook "
               "flops' -i; mem: inference memory, the cookbook mem's)",
    "-ca": "the cookbook's checkpoint flag, whose two scripts differ: flops --no-checkpoint-activations (= "
           "--recompute none), mem --checkpoint-activations (= --recompute full)",
}


def _parser_actions(script: str) -> dict:
    """{option string: [argparse action, ...]} over the script's parser and its subcommands' parsers."""
    parser = load_script(script).build_parser()
    parsers, found = [parser], {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += list(action.choices.values())
    for sub in parsers:
        for action in sub._actions:
            for option in action.option_strings:
                found.setdefault(option, []).append(action)
    return found


def _model_flag_actions() -> dict:
    module = load_script(SCRIPTS[0])
    parser = module.OneLineParser(prog="calc", add_help=False)
    module.add_model_arguments(parser)
    return {option: action for action in parser._actions for option in action.option_strings}


def test_every_shared_spelling_has_one_listed_meaning():
    model_flags = _model_flag_actions()
    holders: dict = {}
    for script in ALL_SCRIPTS:
        for option in _parser_actions(script):
            if option not in model_flags and option not in ("-h", "--help"):
                holders.setdefault(option, set()).add(script)
    shared = {option for option, scripts in holders.items() if len(scripts) > 1}
    assert shared == set(SHARED_FLAG_MEANINGS), (
        f"shared spellings without a listed meaning: {sorted(shared - set(SHARED_FLAG_MEANINGS))}; "
        f"listed but not shared: {sorted(set(SHARED_FLAG_MEANINGS) - shared)}")


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_architecture_script_takes_the_blocks_model_flags_unchanged(script):
    actions = _parser_actions(script)
    for option, block_action in _model_flag_actions().items():
        assert option in actions, f"{script} lacks {option}"
        (action,) = actions[option]
        assert (action.dest, action.choices, type(action)) == (block_action.dest, block_action.choices,
                                                               type(block_action)), (script, option)


@pytest.mark.parametrize("option", ["--format", "--recompute"])
def test_a_shared_choice_flag_offers_the_same_choices(option):
    choices = {script: tuple(action.choices or ()) for script in ALL_SCRIPTS
               for action in _parser_actions(script).get(option, [])}
    assert len(set(choices.values())) == 1, choices


@pytest.mark.parametrize("spelling", ["f16", "fp16", "float16", "bf16", "q8_0", "fp8_e4m3"])
def test_memory_and_quantization_read_the_same_kv_cache_types(spelling):
    # one table in the block (KV_CACHE_DTYPES): both scripts accept the same spellings and price a token alike;
    # by hand for Llama-3-8B: 32 layers x 2 (K, V) x 8 kv heads x 128 = 65,536 values per token
    per_token_values = 32 * 2 * 8 * 128
    block_bytes, block = load_script("calc_quantization").KV_CACHE_DTYPES[
        load_script("calc_quantization").kv_cache_dtype(spelling)]
    by_hand = per_token_values // block * block_bytes
    mem = call_main(load_script("calc_transformer_mem"), ["--preset", "llama-3-8b", "--infer", "--kv-dtype",
                                                          spelling, "--json"])
    quant = call_main(load_script("calc_quantization"), ["--preset", "llama-3-8b", "--formats", "fp16",
                                                         "--kv-dtype", spelling, "--json"])
    assert mem[0] == 0 and quant[0] == 0, (mem[2], quant[2])
    assert json.loads(mem[1])["kv_cache"]["bytes_per_token"] == json.loads(quant[1])["kv_cache"]["bytes_per_token"] \
        == by_hand


@pytest.mark.parametrize("preset", _shared_presets())
def test_memory_and_quantization_serve_the_same_weights_kv_and_allowance(preset):
    # Issue 11: "Llama-3-8B bf16 at 4k context 'fits' 16 GiB in one script and does not in another"; issue 13: inference
    # memory agrees across the scripts for every preset.  Both price the same 16-bit weights, the same KV cache (the
    # block's kv_tokens_held: sliding layers hold at most their window; delta-net layers their fixed state) and the
    # same default --overhead (1 GiB); quantization's "serve" is exactly those, mem's inference total adds the prefill
    # workspace and a fragmentation allowance on top, so whatever mem says fits, quantization says fits too.  The
    # context (8,192 x 2 sequences) is longer than every preset's window, so the windows are exercised.
    argv = ["--preset", preset, "--context", "8192", "--batch-size", "2", "--kv-dtype", "fp16", "--json"]
    mem_status, mem_out, mem_err = call_main(load_script("calc_transformer_mem"), argv + ["--infer"])
    quant_status, quant_out, quant_err = call_main(load_script("calc_quantization"), argv + ["--formats", "fp16"])
    assert mem_status == 0 and quant_status == 0, (mem_err, quant_err)
    per_gpu, quant = json.loads(mem_out)["per_gpu"], json.loads(quant_out)
    entry = quant["formats"][0]
    state = per_gpu.get("linear_state", 0)
    assert entry["bytes"] == per_gpu["weights"]
    assert quant["kv_cache"]["bytes"] == per_gpu["kv_cache"]
    assert quant["kv_cache"].get("linear_state_bytes", 0) == state
    assert entry["serve_bytes"] == per_gpu["weights"] + per_gpu["kv_cache"] + state + per_gpu["framework_overhead"]
    assert quant["overhead_bytes"] == per_gpu["framework_overhead"] == 2**30
    assert entry["serve_bytes"] <= per_gpu["total"]
    quant_fits = set(entry["fits"])
    for name in ("rtx-4090", "l40s", "h100-sxm", "h200", "mi300x"):
        status, out, err = call_main(load_script("calc_transformer_mem"), argv + ["--infer", "--gpu", name])
        if json.loads(out)["fits"]:
            assert name in quant_fits, (preset, name)
