"""Shared test helpers: load each calc_*.py by path, so the scripts stay plain files (not a package).

Test modules use either the session fixtures (``params``, ``flops``, ``mem``, ``scaling``, ``quant``) or the
plain helpers ``load_script`` / ``call_main`` / ``run_cli`` (``from conftest import load_script``).
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

try:
    from hypothesis import HealthCheck, settings

    # No per-example deadline: timing on a shared 2-core CI machine is noise, not a property. Under CI (CI set in
    # the environment) the examples are derandomized, so a run is reproducible; local runs draw new examples.
    settings.register_profile(
        "repo",
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "60")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    settings.load_profile("repo")
except ImportError:  # hypothesis is in requirements.txt; tolerate its absence for a quick local run
    pass

ROOT = pathlib.Path(__file__).resolve().parent.parent

# No test reaches the network: a Hub-id-looking value a fuzzer draws for --config or --weights (a/b) is looked up in
# an empty cache with HF_HUB_OFFLINE set. tests/test_hub.py and tests/test_weights.py lift this for their local
# server only.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HOME"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".no-hf-home")
for _name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH"):
    os.environ.pop(_name, None)

_loaded: dict[str, object] = {}


def load_script(name: str):
    """Import ``ROOT/<name>.py`` by path (cached)."""
    if name in _loaded:
        return _loaded[name]
    path = ROOT / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    _loaded[name] = module
    return module


def call_main(module, argv: list[str]) -> tuple[int, str, str]:
    """Run ``module.main(argv)`` in-process; return (exit status, stdout, stderr).

    argparse exits through SystemExit; that is folded into the status like a real process would see it.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = module.main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return int(code or 0), out.getvalue(), err.getvalue()


def one_line_refusal(module, argv: list[str]) -> str:
    """The error contract: ``main(argv)`` exits 2 with nothing on stdout and one line on stderr; return that line."""
    status, out, err = call_main(module, argv)
    assert status == 2 and out == "" and err.count("\n") == 1, (status, out, err)
    return err


def assert_clean_outcome(status: int, out: str, err: str, context=None) -> None:
    """What a hostile command line may end in: a JSON answer whose every number is finite and not negative, or
    exit 2 with one line on stderr and no traceback."""
    if status == 0:
        stack = [json.loads(out)]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack += item.values()
            elif isinstance(item, list):
                stack += item
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                assert math.isfinite(item) and item >= 0, (context, item)
    else:
        assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (context, err)


def write_config(tmp_path, config: dict, name: str = "config.json") -> str:
    """Write ``config`` as JSON under ``tmp_path``; return the path as a string (for --config)."""
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def run_cli(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python ROOT/<script>.py args...`` as a real process."""
    return subprocess.run(
        [sys.executable, str(ROOT / f"{script}.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )


def torch_and_transformers():
    """Return (torch, transformers) or skip the calling test when either does not import.

    Kimi-K2's config.json says model_type "kimi_k2" with architectures ["DeepseekV3ForCausalLM"] and an auto_map to
    DeepSeek-V3's own config and model classes; transformers 5.23 has no kimi_k2 type, so it is registered here as
    DeepseekV3Config / DeepseekV3ForCausalLM under that name (classes that only rename the type): the reference for a
    kimi_k2 file is DeepSeek-V3's model built from the same fields."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    _register_kimi_k2(transformers)
    return torch, transformers


def _register_kimi_k2(transformers):
    if "kimi_k2" in transformers.models.auto.configuration_auto.CONFIG_MAPPING:
        return
    from transformers.models.deepseek_v3 import DeepseekV3Config, DeepseekV3ForCausalLM

    class KimiK2Config(DeepseekV3Config):
        model_type = "kimi_k2"

    class KimiK2ForCausalLM(DeepseekV3ForCausalLM):
        config_class = KimiK2Config

    transformers.AutoConfig.register("kimi_k2", KimiK2Config)
    transformers.AutoModelForCausalLM.register(KimiK2Config, KimiK2ForCausalLM)


def _fixture(name: str, script: str):
    @pytest.fixture(scope="session", name=name)
    def _load():
        path = ROOT / f"{script}.py"
        if not path.exists():
            pytest.skip(f"{script}.py not written yet")
        return load_script(script)
    return _load


params = _fixture("params", "calc_transformer_params")
flops = _fixture("flops", "calc_transformer_flops")
mem = _fixture("mem", "calc_transformer_mem")
scaling = _fixture("scaling", "calc_scaling_laws")
quant = _fixture("quant", "calc_quantization")
