"""calc_transformer_flops.py under hostile input (hypothesis): random argv and malformed config.json files.

Every case must end in exit status 2 with exactly one line on stderr and nothing on stdout, or in exit status 0
with a valid result: no traceback, and no NaN, infinity or negative number anywhere in the JSON output.
"""
from __future__ import annotations

import json
import math

from hypothesis import given, strategies as st

from conftest import call_main
from test_flops_torch import LLAMA3_8B, SHRUNK


FLAGS = ["--preset", "-l", "-hs", "-v", "-a", "--num-kv-heads", "-kv", "--head-dim", "-ff", "--ffn-hidden-size",
         "-nl", "-e", "-t", "-ei", "--moe", "--tied-embeddings", "-s", "-b", "--tokens", "--attention-flops",
         "--recompute", "--gpu", "--dtype", "--peak-tflops", "--bandwidth", "--num-gpus", "--mfu",
         "--cost-per-gpu-hour", "--hfu", "--tokens-per-second", "--step-time", "--prompt-length", "--generate",
         "--sliding-window", "--kv-lora-rank", "--flops-basis", "--list-presets", "--list-gpus", "--format",
         "--word-embed-proj-dim", "--generic", "--config", "-p", "--num-shared-experts", "--shared-expert-ffn-size",
         "--mtp-layers", "--learned-positions", "--position-embedding", "--layer-types", "--num-sliding-layers",
         "--norm", "--no-bias", "--qk-nope-head-dim", "--v-head-dim", "--dense-layers", "-i", "--infer", "-ca",
         "--no-checkpoint-activations", "--swiglu", "-nl"]
VALUES = ["0", "1", "2", "3", "-1", "7B", "1.4T", "32k", "32Ki", "1_000", "nan", "inf", "1e400", "0.5", "abc", "",
          "gpt2", "llama-3-8b", "mixtral-8x7b", "deepseek-v3", "h100-sxm", "tpu-v4", "fp8", "full", "causal",
          "selective", "3.35TB/s", "64", "4096", "1e30", "99999999999999", "markdown", "6nd", "1/3", "learned",
          "alternate", "layernorm", "0,1", "45%", "140/312", "2/1"]


def _no_bad_numbers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        assert math.isfinite(value) and value >= 0, value
    elif isinstance(value, dict):
        for item in value.values():
            _no_bad_numbers(item)
    elif isinstance(value, list):
        for item in value:
            _no_bad_numbers(item)


def _check(flops, argv):
    status, out, err = call_main(flops, argv)
    assert "Traceback" not in err
    if status == 2:
        assert out == "" and len(err.strip().splitlines()) == 1, err
    else:
        assert status == 0, err
        if out.startswith("{"):
            _no_bad_numbers(json.loads(out))
        else:
            assert " nan" not in out.lower() and " inf" not in out.lower()


@given(st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES)), max_size=10))
def test_hostile_argv(flops, argv):
    _check(flops, argv + ["--json"])


@given(st.lists(st.tuples(st.sampled_from(FLAGS), st.sampled_from(VALUES)), max_size=6))
def test_hostile_flag_values_on_a_preset(flops, pairs):
    argv = ["--preset", "llama-3-8b"] + [token for pair in pairs for token in pair]
    _check(flops, argv + ["--json"])


CONFIG_FIELDS = ["num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "vocab_size",
                 "intermediate_size", "head_dim", "num_local_experts", "num_experts_per_tok", "sliding_window",
                 "kv_lora_rank", "tie_word_embeddings", "model_type", "text_config", "mlp_only_layers",
                 "layer_types", "first_k_dense_replace", "moe_intermediate_size", "multi_query",
                 "new_decoder_architecture", "num_kv_heads", "word_embed_proj_dim", "ffn_dim", "n_shared_experts",
                 "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "decoder_sparse_step",
                 "moe_layer_freq", "shared_expert_intermediate_size", "n_routed_experts", "parallel_attn",
                 "num_ln_in_parallel_attn", "qk_layernorm", "use_bias", "n_embd", "n_layer", "n_head"]
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                        st.text(max_size=5), st.lists(st.integers(-2, 40), max_size=4),
                        st.sampled_from(["gpt2", "llama", "mixtral", "deepseek_v3", "gemma2", "sliding_attention",
                                         "falcon", "opt", "phi", "gptj", "bloom", "olmo2", "qwen2_moe", "qwen3",
                                         "gpt_oss", "brand_new_lm"]))


@given(st.dictionaries(st.sampled_from(CONFIG_FIELDS), JSON_VALUES, max_size=10), st.booleans(), st.booleans())
def test_hostile_config_json(flops, tmp_path_factory, fields, start_from_real, generic):
    config = dict(LLAMA3_8B, **fields) if start_from_real else fields
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(json.dumps(config))
    _check(flops, ["--config", str(path), "-s", "64", "--prompt-length", "8", "--generate", "2", "--json"]
           + (["--generic"] if generic else []))


def test_not_json_config(flops, tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    status, _, err = call_main(flops, ["--config", str(path)])
    assert status == 2 and len(err.strip().splitlines()) == 1


# --- Regression cases found by review: each a config.json that once gave a traceback, a wrong name or a slow run ---

def _config_error(flops, tmp_path, text: str) -> str:
    path = tmp_path / "config.json"
    path.write_text(text)
    status, out, err = call_main(flops, ["--config", str(path), "--json"])
    assert status == 2 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calc_transformer_flops.py: error:")
    return lines[0]


def test_config_nested_too_deeply_is_one_line(flops, tmp_path):
    """json's decoder recurses per nesting level: 100,000 brackets raised RecursionError with a traceback."""
    assert "nested too deeply" in _config_error(flops, tmp_path, "[" * 100_000 + "]" * 100_000)


def test_config_empty_file_and_json_list(flops, tmp_path):
    assert "not valid JSON" in _config_error(flops, tmp_path, "")
    assert "expected a JSON object" in _config_error(flops, tmp_path, "[1, 2]")


def test_config_folder_without_config_json(flops, tmp_path):
    status, out, err = call_main(flops, ["--config", str(tmp_path)])
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1 and "config.json" in err


def test_text_config_that_is_not_an_object_is_named(flops, tmp_path):
    """A text_config string or list was ignored and the error blamed 'num_hidden_layers'; it names the field now."""
    for value in ("abc", [1], 3):
        line = _config_error(flops, tmp_path, json.dumps(dict(LLAMA3_8B, text_config=value)))
        assert "'text_config' must be a JSON object" in line


def test_bad_value_names_the_alias_actually_given(flops, tmp_path):
    """GPT-2 spells the depth n_layer: an error about it must say n_layer, not num_hidden_layers."""
    config = {"model_type": "gpt2", "n_layer": -1, "n_embd": 64, "n_head": 4, "vocab_size": 10}
    assert "'n_layer' must be an integer >= 1" in _config_error(flops, tmp_path, json.dumps(config))


def test_long_mlp_only_layers_stays_fast(flops, tmp_path):
    """mlp_only_layers was searched as a list once per layer: 10^5 layers x 3·10^5 entries would run for hours."""
    import time
    config = {"model_type": "qwen2_moe", "num_hidden_layers": 100_000, "hidden_size": 64, "num_attention_heads": 4,
              "num_key_value_heads": 4, "vocab_size": 10, "intermediate_size": 8, "num_experts": 4,
              "moe_intermediate_size": 8,
              "mlp_only_layers": list(range(100_000)) * 3}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    start = time.perf_counter()
    status, out, err = call_main(flops, ["--config", str(path), "--json"])
    assert status == 0, err
    assert json.loads(out)["derived"]["moe_layers"] == 0  # every layer listed as dense
    assert time.perf_counter() - start < 10


COUNT_FLAGS = ["-l", "-hs", "-v", "-a", "--num-kv-heads", "-kv", "--head-dim", "--v-head-dim", "--ffn-hidden-size",
               "-ff", "-nl", "-e", "-t", "-ei", "--moe-ffn-hidden-size", "--num-shared-experts",
               "--shared-expert-ffn-size", "--first-k-dense", "--mtp-layers", "--q-lora-rank", "--kv-lora-rank",
               "--qk-nope-head-dim", "--qk-rope-head-dim", "--sliding-window", "--num-sliding-layers",
               "--learned-positions", "--position-offset", "--pad-vocab-to-multiple", "--word-embed-proj-dim",
               "--norms-per-layer", "-s", "-b", "--tokens", "--num-gpus", "--prompt-length", "--generate"]


def test_every_count_flag_refuses_huge_negative_and_non_numbers(flops):
    """Each count flag, on a MoE + MLA preset, with 1e30, -1, nan, inf and '': exit 2, one line naming the flag by
    its long name (--tokens 1e30 excepted: a valid, finite result). -ei 1e30 and --num-sliding-layers 1e30 were
    once accepted silently (no MoE layer; clamped to the depth, or dropped on a model without a window)."""
    parser = flops.build_parser()
    for flag in COUNT_FLAGS:
        action = next(a for a in parser._actions if flag in a.option_strings)
        long_flag = next(option for option in action.option_strings if option.startswith("--"))
        for value in ("1e30", "-1", "nan", "inf", ""):
            argv = ["--preset", "deepseek-v3", flag, value, "--json"]
            if flag == "--tokens" and value == "1e30":  # a token budget has no natural ceiling: exact, finite
                _check(flops, argv)
                continue
            status, out, err = call_main(flops, argv)
            assert status == 2 and out == "", (flag, value)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and long_flag in lines[0], (flag, value, err)


def test_experts_in_no_layer_roofline(flops, tmp_path):
    """A DeepSeek config whose first_k_dense_replace covers every layer names 8 experts but builds none: the bytes
    a step reads divided by zero MoE layers (ZeroDivisionError traceback). By hand, bf16: per layer q_proj 32·2·12
    + kv_a_proj 32·(16 + 4) + kv_a_layernorm 16 + kv_b_proj 16·2·(8 + 8) + o_proj 2·8·32 + 2 norms of 32 + a dense
    SwiGLU 3·32·64 = 8,656 weights; 2 layers + final norm 32 + untied LM head 97·32 = 20,448 weights read; the
    MLA cache holds 2 layers x (16 + 4) values = 80 B per token."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(SHRUNK["deepseek-v3-all-dense"]))
    status, out, err = call_main(flops, ["--config", str(path), "--prompt-length", "10", "--generate", "3", "--json"])
    assert status == 0, err
    roof = json.loads(out)["inference"]["roofline"]
    assert roof["prefill_bytes"] == 2 * 20_448 + 10 * 80
    assert roof["decode_step_bytes"] == 2 * 20_448 + 12 * 80  # last step: 10 prompt keys, 1 new, its own


def test_huge_config_value_is_blamed_on_the_config(flops, tmp_path):
    """A 10^25-token vocabulary read from config.json was reported as '--vocab-size', a flag nobody gave."""
    config = dict(LLAMA3_8B, vocab_size=10**25)
    line = _config_error(flops, tmp_path, json.dumps(config))
    assert "field 'vocab_size' 10000000000000000000000000 is beyond" in line and "--vocab-size" not in line
    status, _, err = call_main(flops, ["--preset", "llama-3-8b", "-v", "1e25"])
    assert status == 2 and "--vocab-size '1e25' is beyond 1e+09" in err
    status, _, err = call_main(flops, ["-l", "2", "-hs", "10000000", "-a", "4", "-v", "10", "-ff", "1000000"])
    assert status == 2 and "--ffn-expansion-factor 1000000 times --hidden-size 10000000 is beyond 1e+09" in err


def test_config_that_is_a_device_is_refused_not_read_forever(flops):
    status, _, err = call_main(flops, ["--config", "/dev/zero"])
    assert status == 2 and "--config" in err and len(err.strip().splitlines()) == 1
