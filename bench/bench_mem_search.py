"""Throughput of calc_transformer_mem.py's configuration search (issue 4 asks for >= 1e5 candidates per second).

    python bench/bench_mem_search.py            # median of 5 runs per case, candidates per second

A candidate is one (tp, pp, dp, ZeRO stage, recompute, micro-batch) combination whose per-GPU memory is evaluated.
The time includes everything search_configs does: the per-(tp, pp) set-up from the full model description and the
exact recomputation of the rows it returns.
"""
from __future__ import annotations

import importlib.util
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("calc_transformer_mem", ROOT / "calc_transformer_mem.py")
mem = importlib.util.module_from_spec(spec)
sys.modules["calc_transformer_mem"] = mem
spec.loader.exec_module(mem)

CASES = [  # (preset, num_gpus, sequence length, global batch)
    ("llama-3-8b", 8, 8192, 0),
    ("llama-3-8b", 64, 8192, 1024),
    ("llama-3-70b", 512, 8192, 0),
    ("llama-3.1-405b", 16384, 8192, 0),
    ("mixtral-8x7b", 1024, 4096, 0),
    ("deepseek-v3", 2048, 4096, 0),
]


def run(preset, gpus, seq, gbs, repeats=5):
    model = mem.preset_model(preset)  # the shared model block's preset
    ep = 8 if model.is_moe else 1
    base = mem.TrainSetup(num_gpus=gpus, seq_len=seq, global_batch=gbs, sp=True, ep=ep)
    times, evaluated, found = [], 0, 0
    for _ in range(repeats):
        mem.part_summary.cache_clear()  # every run starts cold: no memo from the previous run
        mem.layer_tensors.cache_clear()
        mem._count_params.cache_clear()
        mem._MB_LAYER_CACHE.clear()  # the block's own memo of each layer's tensor list
        t0 = time.perf_counter()
        rows, evaluated = mem.search_configs(model, base, 80 * 2**30, max_tp=8, top=10)
        times.append(time.perf_counter() - t0)
        found = len(rows)
    t = statistics.median(times)
    return evaluated, t, found


def main():
    print(f"{'case':<28}{'candidates':>12}{'median s':>10}{'candidates/s':>15}  shown")
    rates = []
    for preset, gpus, seq, gbs in CASES:
        n, t, found = run(preset, gpus, seq, gbs)
        rates.append(n / t)
        print(f"{preset + ' on ' + str(gpus):<28}{n:>12,}{t:>10.4f}{n / t:>15,.0f}  {found}")
    print(f"slowest case: {min(rates):,.0f} candidates/s (target >= 100,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
