"""Throughput of calc_transformer_mem.py's configuration search (issue 4 asks for >= 1e5 candidates per second;
issue 14: the layouts ranked by predicted step time, 16,384 GPUs and a 671B MoE included, the whole search under a
second).

    python bench/bench_mem_search.py            # median of 5 runs per case, both rankings, and the CLI end to end

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


def run(preset, gpus, seq, gbs, repeats=5, rank="time"):
    model = mem.preset_model(preset)  # the shared model block's preset
    ep = 8 if model.is_moe else 1
    base = mem.TrainSetup(num_gpus=gpus, seq_len=seq, global_batch=gbs, sp=True, ep=ep)
    times, evaluated, found = [], 0, 0
    for _ in range(repeats):
        mem.part_summary.cache_clear()  # every run starts cold: no memo from the previous run
        mem.layer_tensors.cache_clear()
        mem._count_params.cache_clear()
        mem._MB_LAYER_CACHE.clear()  # the block's own memo of each layer's tensor list
        mem.layer_matmul_elements.cache_clear()  # and the step-time model's
        mem.layer_step_costs.cache_clear()
        mem._SAVED_BYTES.clear()
        t0 = time.perf_counter()
        hw = mem.step_hardware("h100-sxm") if rank == "time" else None
        rows, evaluated = mem.search_configs(model, base, 80 * 2**30, max_tp=8, top=10, hw=hw, rank=rank)
        times.append(time.perf_counter() - t0)
        found = len(rows)
    t = statistics.median(times)
    return evaluated, t, found


def cli_seconds(argv, repeats=3):
    """Wall time of main(argv) in this process (parsing, the search, the exact rows, rendering), median of cold
    runs (every memo cleared first)."""
    import contextlib
    import io
    times = []
    for _ in range(repeats):
        for cache in (mem.part_summary, mem.layer_tensors, mem._count_params, mem.layer_matmul_elements,
                      mem.layer_step_costs):
            cache.cache_clear()
        mem._MB_LAYER_CACHE.clear()
        mem._SAVED_BYTES.clear()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = mem.main(argv)
        times.append(time.perf_counter() - t0)
        assert status == 0, argv
    return statistics.median(times)


def main():
    for rank in ("time", "memory"):
        print(f"--rank {rank}")
        print(f"{'case':<28}{'candidates':>12}{'median s':>10}{'candidates/s':>15}  shown")
        rates, worst = [], 0.0
        for preset, gpus, seq, gbs in CASES:
            n, t, found = run(preset, gpus, seq, gbs, rank=rank)
            rates.append(n / t)
            worst = max(worst, t)
            print(f"{preset + ' on ' + str(gpus):<28}{n:>12,}{t:>10.4f}{n / t:>15,.0f}  {found}")
        print(f"slowest case: {min(rates):,.0f} candidates/s (target >= 100,000); longest search {worst:.3f} s "
              "(target < 1 s)")
    for argv in (["--preset", "llama-3.1-405b", "--num-gpus", "16384", "-s", "8192", "--global-batch", "2048"],
                 ["--preset", "deepseek-v3", "--num-gpus", "2048", "-s", "4096", "--global-batch", "15360", "-ep",
                  "64", "--gpu", "h800", "--precision", "fp8"]):
        argv = argv + ["--sp", "--search", "--gpu-memory", "80GiB"]
        print(f"CLI {' '.join(argv[:4])}: {cli_seconds(argv):.3f} s end to end (target < 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
