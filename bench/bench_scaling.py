"""How long calc_scaling_laws.py takes: closed-form queries end to end, and the Approach-3 fitter.

What it measures:
  * closed-form queries as whole processes (``python calc_scaling_laws.py optimal ...``, interpreter start-up,
    compiling the script and output included; they import no numpy or scipy, issue 11), median wall and CPU time
    (user + sys of the child, from ``os.wait4``) over repeated runs; the target is under 0.3 s;
  * the full fit in-process on 240 synthetic runs (9 isoFLOP budgets, the size of Epoch's refit of Chinchilla):
    L-BFGS from all 4500 Hoffmann starts plus the scipy polish, then the bootstrap, each timed separately; the
    target is under 5 s for the fit on a 2-core machine.  The runs are drawn from Epoch's constants with 0.5%
    multiplicative noise (seeded), so the bench needs no data file.

Run it:

    python bench/bench_scaling.py              # 11 process runs per query, 3 fits
    python bench/bench_scaling.py --runs 31 --fits 5
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "calc_scaling_laws.py"
QUERIES = [
    ["optimal", "--compute", "5.76e23"],
    ["optimal", "--compute", "1e21", "--law", "chinchilla-unrounded", "--json"],
    ["optimal", "--target-loss", "2.2", "--law", "epoch"],
    ["models"],
    ["inference", "--params", "13B", "--inference-tokens", "2T", "--law", "chinchilla-unrounded"],
]


def run_process(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def synthetic_runs(module, seed: int = 0) -> dict:
    import numpy as np

    law = module.PARAMETRIC_LAWS["epoch"]
    rng = np.random.default_rng(seed)
    n, flops = [], []
    for c in np.geomspace(6e18, 3e21, 9):
        centre = module.chinchilla_optimum(law, c)["params"]
        count = 27 if len(n) < 6 * 27 else 26
        for offset in np.linspace(-1, 1, count):
            n.append(centre * 10 ** offset)
            flops.append(c)
    n, flops = np.array(n), np.array(flops)
    tokens = flops / (6 * n)
    loss = module.chinchilla_loss(law, n, tokens) * np.exp(0.005 * rng.standard_normal(n.size))
    return {"N": n, "D": tokens, "C": flops, "loss": loss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="process runs per query")
    parser.add_argument("--fits", type=int, default=3, help="repetitions of the in-process fit")
    args = parser.parse_args()

    print(f"closed-form queries, whole process, median of {args.runs} (target < 0.3 s)")
    print(f"{'query':72} {'wall s':>7} {'cpu s':>7}")
    bare = [run_process(["-c", "pass"]) for _ in range(args.runs)]
    print(f"{'python -c pass':72} {statistics.median(w for w, _ in bare):7.3f} "
          f"{statistics.median(c for _, c in bare):7.3f}")
    for query in QUERIES:
        times = [run_process([str(SCRIPT), *query]) for _ in range(args.runs)]
        label = "calc_scaling_laws.py " + " ".join(query)
        print(f"{label[:72]:72} {statistics.median(w for w, _ in times):7.3f} "
              f"{statistics.median(c for _, c in times):7.3f}")

    spec = importlib.util.spec_from_file_location("calc_scaling_laws", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["calc_scaling_laws"] = module
    spec.loader.exec_module(module)
    runs = synthetic_runs(module)
    module.fit_approach3(runs, bootstrap=0)  # warm-up: imports scipy once, as a CLI run would
    print(f"\nApproach-3 fit on {runs['N'].size} runs, 4500 starts (target < 5 s), {args.fits} repetitions")
    for bootstrap in (0, 200):
        walls, cpus = [], []
        for _ in range(args.fits):
            wall, cpu = time.perf_counter(), time.process_time()
            result = module.fit_approach3(runs, bootstrap=bootstrap)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(f"fit + {bootstrap:3d} bootstrap resamples: median wall {statistics.median(walls):.2f} s, "
              f"CPU {statistics.median(cpus):.2f} s  (alpha {result['alpha']:.4f}, beta {result['beta']:.4f}, "
              f"E {result['E']:.4f})")
    truth = module.PARAMETRIC_LAWS["epoch"]
    print(f"truth: alpha {truth.alpha}, beta {truth.beta}, E {truth.E}; "
          f"a = {truth.beta / (truth.alpha + truth.beta):.4f} vs fitted {result['a']:.4f}")
    print(f"load average now: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0 if math.isfinite(result["E"]) else 1


if __name__ == "__main__":
    sys.exit(main())
