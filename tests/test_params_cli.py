"""Hostile input for calc_transformer_params.py: random argv and malformed config.json files.

Every case must end either with exit status 2 and exactly one line on stderr (``calc_transformer_params.py:
error: ...``, no traceback) or with exit status 0 and a valid result: no NaN, no infinity, no negative number.
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile

import pytest
from hypothesis import given, strategies as st

from conftest import call_main, load_script
from test_params_torch import REAL_CONFIGS

params = load_script("calc_transformer_params")
PREFIX = "calc_transformer_params.py: error:"
OPTIONS = sorted({opt for action in params.build_parser()._actions for opt in action.option_strings
                  if opt not in ("-h", "--help")})
NEGATIVE = re.compile(r"(?<![\w.\-])-\d")
NOT_FINITE = re.compile(r"\b(nan|inf|infinity)\b", re.I)


@pytest.fixture(autouse=True, scope="module")
def _no_network():
    """Random argv may draw a value that reads as a Hub id (--config a/b, --weights a/b): offline, with an empty
    cache, that is one line about the cache and never a request to huggingface.co."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_HOME")}
    os.environ["HF_HUB_OFFLINE"], os.environ["HF_HOME"] = "1", "/nonexistent-hf-home-for-tests"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def walk_numbers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk_numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_numbers(item)


def assert_clean_outcome(status, out, err):
    assert status in (0, 2), (status, err)
    assert "Traceback" not in err
    if status == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(PREFIX), err
        return
    assert out.strip()
    assert not NOT_FINITE.search(out), out
    if out.lstrip().startswith("{"):
        for number in walk_numbers(json.loads(out)):
            assert math.isfinite(number) and number >= 0, number
    else:
        assert not NEGATIVE.search(out), out


VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "3", "7", "8", "64", "128", "4096", "32k", "7B", "1.3B", "1e999", "nan",
                     "inf", "-inf", "2.5", "0.25", "1_000", "300e9", "", " ", "abc", "--", "0x10", "1e-3", "10**3",
                     "1,2", "0,1,40", "llama-3-8b", "gpt2", "mixtral-8x7b", "deepseek-v3", "gemma-2-9b", "json",
                     "markdown", "bf16", "int4", "rmsnorm", "layernorm", "learned", "full", "head", "3", "2",
                     "1e16", "1e30", "1e300", "1e-300", "1.4T", "-0", "100000"]),
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)
TOKENS = st.one_of(st.sampled_from(OPTIONS), VALUES)


@given(st.lists(TOKENS, max_size=10))
def test_random_argv(argv):
    assert_clean_outcome(*call_main(params, argv))


@given(st.sampled_from(sorted(params.MODEL_PRESETS)), st.lists(st.tuples(st.sampled_from(OPTIONS), VALUES), max_size=4),
       st.booleans())
def test_presets_with_random_overrides(preset, pairs, as_json):
    argv = ["--preset", preset] + [token for pair in pairs for token in pair] + (["--json"] if as_json else [])
    assert_clean_outcome(*call_main(params, argv))


HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.integers(-10**30, 10**30), st.floats(allow_nan=False),
    st.text(max_size=6), st.lists(st.integers(-3, 70), max_size=4), st.dictionaries(st.text(max_size=3),
                                                                                    st.integers(), max_size=2),
)
KEYS = sorted({key for config in REAL_CONFIGS.values() for key in config} | {
    "n_inner", "head_dim", "q_lora_rank", "num_ln_in_parallel_attn", "mlp_only_layers", "decoder_sparse_step",
    "shared_expert_intermediate_size", "text_config", "n_head_kv", "qk_layernorm", "use_bias"})


def run_config(content: str, *extra):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        handle.write(content)
    return call_main(params, ["--config", handle.name, *extra])


@given(st.sampled_from(sorted(REAL_CONFIGS)),
       st.lists(st.tuples(st.sampled_from(KEYS), HOSTILE), min_size=1, max_size=3),
       st.lists(st.sampled_from(KEYS), max_size=2), st.booleans())
def test_malformed_config_json(family, changes, deletions, as_json):
    config = dict(REAL_CONFIGS[family])
    for key, value in changes:
        config[key] = value
    for key in deletions:
        config.pop(key, None)
    assert_clean_outcome(*run_config(json.dumps(config), *(["--json"] if as_json else [])))


@given(st.one_of(st.text(max_size=30), st.sampled_from(["", "[]", "null", "42", '"x"', "{", '{"model_type": 3}',
                                                         '{"model_type": "llama"}', "[" * 5000 + "]" * 5000])))
def test_config_file_that_is_not_a_config(content):
    assert_clean_outcome(*run_config(content))


def test_kv_heads_and_topk_from_config_name_their_field():
    config = dict(REAL_CONFIGS["mixtral"], num_key_value_heads=3)
    status, _, err = run_config(json.dumps(config))
    assert status == 2 and "num_key_value_heads" in err
    config = dict(REAL_CONFIGS["deepseek_v3"], num_experts_per_tok=300)
    status, _, err = run_config(json.dumps(config))
    assert status == 2 and "num_experts_per_tok" in err


def test_missing_config_file():
    status, _, err = call_main(params, ["--config", "/nonexistent/dir/config.json"])
    assert status == 2 and err.startswith(PREFIX) and "--config" in err


def test_counts_walked_layer_by_layer_are_bounded():
    # Found by fuzzing: --mtp-layers 1.4T used to loop for minutes instead of failing on the flag.
    for flag in ("--mtp-layers", "--num-layers"):
        status, _, err = call_main(params, ["--preset", "deepseek-v3", flag, "1.4T"])
        assert status == 2 and err.startswith(PREFIX) and flag in err


def test_config_that_is_a_device_is_refused_not_read_forever(tmp_path):
    # Found in review: --config /dev/zero read forever. Devices are refused; a folder without a config.json is named.
    for target, reason in (("/dev/zero", "not a regular file or pipe"), (str(tmp_path), "no such file")):
        status, _, err = call_main(params, ["--config", target])
        assert status == 2 and err.startswith(PREFIX) and "--config" in err and reason in err, err
        assert len(err.strip().splitlines()) == 1


def test_config_from_a_pipe_is_read(tmp_path):
    # --config <(curl ...) hands the script a pipe: it is read like the file (at most 16 MiB)
    import os
    import threading
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w", encoding="utf-8") as pipe:
            pipe.write(json.dumps(REAL_CONFIGS["llama3"]))

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    status, out, err = call_main(params, ["--config", str(fifo), "--json"])
    writer.join(timeout=10)
    assert status == 0, err
    assert json.loads(out)["total"] == 8_030_261_248  # HF meta-llama/Meta-Llama-3-8B safetensors total


def test_empty_preset_or_config_names_that_flag():
    # Found in review: an empty --preset / --config fell through to "--num-layers is required".
    for flag in ("--preset", "--config"):
        status, _, err = call_main(params, [flag, ""])
        assert status == 2 and err.startswith(PREFIX) and flag in err and "--num-layers" not in err, err


def test_text_config_that_is_not_an_object_is_named():
    # Found in review: a string or list text_config was skipped and the outer (VLM) dict read instead.
    for value in ("llama", [1, 2], 3):
        status, _, err = run_config(json.dumps({"model_type": "llava", "text_config": value}))
        assert status == 2 and "'text_config' must be a JSON object" in err, err


def test_long_dense_layer_list_is_not_quadratic():
    # Found in review: each layer scanned the whole mlp_only_layers tuple (100k layers x 50k entries never ended).
    import time
    config = dict(REAL_CONFIGS["qwen3_moe"], num_hidden_layers=100_000, mlp_only_layers=list(range(0, 100_000, 2)))
    start = time.perf_counter()
    status, out, err = run_config(json.dumps(config), "--json")
    assert status == 0, err
    report = json.loads(out)
    assert [(t["type"], t["layers"]) for t in report["layer_types"]] == [("dense", 50_000), ("moe", 50_000)]
    assert time.perf_counter() - start < 10


def test_float_ratios_that_overflow_name_their_flag():
    # Found in review: -ff 1e300 with -hs 1e16 (and -kv alike) overflowed to inf and round() raised a traceback.
    # The shared block refuses a width of 1e16 itself (beyond 1e9) before any ratio is applied, so the ratio cases
    # use the widest width it accepts: the product, not the width, is what overflows.
    for argv, flag in ((["-l", "2", "-hs", "1e16", "-a", "1", "-v", "10", "-ff", "4"], "--hidden-size"),
                       (["-l", "2", "-hs", "64", "-a", "1e16", "-v", "10", "-kv", "0.5"], "--num-attention-heads"),
                       (["-l", "2", "-hs", "1e9", "-a", "1", "-v", "10", "-ff", "1e300"], "--ffn-expansion-factor"),
                       (["-l", "2", "-hs", "1e9", "-a", "1", "-v", "10", "-ff", "1e29"], "--ffn-expansion-factor"),
                       (["--preset", "gpt2", "-ff", "1.7976931348623157e308"], "--ffn-expansion-factor"),
                       (["-l", "2", "-hs", "1e9", "-a", "1e9", "-v", "10", "-kv", "1e300"], "--kv-size-ratio"),
                       (["-l", "2", "-hs", "64", "-a", "4", "-v", "10", "-kv", "1e-300"], "--kv-size-ratio")):
        status, _, err = call_main(params, argv)
        assert status == 2 and err.startswith(PREFIX) and flag in err, err
        assert len(err.strip().splitlines()) == 1


def test_config_with_a_5000_digit_integer_is_refused():
    # Found in review: json.load raises a plain ValueError (not JSONDecodeError) past Python's int-digit limit.
    status, _, err = run_config('{"model_type": "llama", "hidden_size": ' + "9" * 5000 + "}")
    assert status == 2 and err.startswith(PREFIX) and "--config" in err, err
    assert len(err.strip().splitlines()) == 1


def test_config_with_a_byte_order_mark_is_read():
    status, out, err = run_config("\ufeff" + json.dumps(REAL_CONFIGS["llama3"]), "--json")
    assert status == 0, err
    assert json.loads(out)["total"] == 8_030_261_248  # HF meta-llama/Meta-Llama-3-8B safetensors total
