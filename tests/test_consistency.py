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


def _total(script: str, preset: str) -> int:
    status, out, err = call_main(load_script(script), ["--preset", preset, "--json"])
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
        status, out, err = call_main(load_script(script), ["--config", str(path), "--json"])
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
