"""Timing of calc_quantization.py's two heavy paths, in-process (no interpreter start-up counted).

1. Sizing: ``compute_sizes`` for a preset with every format (``--formats all``): tensor list + llama.cpp's per-tensor
   rules for each GGUF file type.
2. Measure mode: each reference quantizer on a seeded Gaussian matrix (default 4096 x 4096 = 16.8M values), with
   the throughput in millions of values per second.

Run it:

    python bench/bench_quant.py                      # llama-3-8b, 4096x4096, 3 repeats (median)
    python bench/bench_quant.py --shape 1024x4096 --repeats 5 --preset deepseek-v3
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def load():
    spec = importlib.util.spec_from_file_location("calc_quantization", ROOT / "calc_quantization.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["calc_quantization"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="llama-3-8b")
    parser.add_argument("--shape", default="4096x4096")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    quant = load()

    model = quant.preset_model(args.preset)  # the shared model block's preset table
    opts = quant.Options(formats=list(quant.ALL_FORMATS))
    seconds = median_seconds(lambda: quant.compute_sizes(model, opts), args.repeats)
    print(f"sizing {args.preset}, {len(opts.formats)} formats: {seconds * 1e3:.1f} ms")

    x, _ = quant.load_measure_input(f"random:{args.shape}", 0)
    print(f"measure on {x.shape[0]}x{x.shape[1]} ({x.size / 1e6:.1f}M values):")
    for name in quant.MEASURE_QUANTIZERS:
        seconds = median_seconds(lambda: quant.measure(x, [name]), args.repeats)
        print(f"  {name:<14} {seconds:7.3f} s  {x.size / seconds / 1e6:8.1f} M values/s")


if __name__ == "__main__":
    main()
