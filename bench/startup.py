"""Start-up cost of each calculator, measured as whole-process runs.

What it measures: the CPU time (user + sys of the child process, from ``os.wait4``) and the wall time of
``python calc_x.py ARGS`` over repeated runs, next to a bare ``python -c pass`` measured the same way, interleaved
so that drift on a busy machine hits both alike. It prints medians and the ratio to the bare interpreter.

The contract (README, rule 9) asks that a preset run of params / flops / mem stay close to the CPU time of
``python -c pass``: these scripts import no numpy or matplotlib at start-up. A row for
``python -c 'import argparse, dataclasses, json'`` shows what the standard library alone costs any script built on
argparse and a dataclass; the rest of a script's cost is compiling its own source (a script run as ``python x.py``
is compiled on every run: Python caches bytecode only for imported modules) and its own work.

The peer users switch from is EleutherAI's cookbook (``calc/calc_transformer_params.py``, argparse and math only).
Give its path with ``--cookbook`` and the table gains a row for ``calc_transformer_params.py -l 32 -hs 4096`` run
with it and an ``x cookbook`` column: each script's CPU time over the cookbook's (the "Start here" issue's target is
at most 1.3x for a preset run).

Run it:

    python bench/startup.py                 # every calc_*.py, 21 runs each
    python bench/startup.py --runs 51       # tighter medians
    python bench/startup.py --only calc_transformer_params.py
    python bench/startup.py --cookbook ../cookbook/calc/calc_transformer_params.py
"""
from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent

# One representative, cheap invocation per script: a preset run where the script has presets.
CASES = {
    "calc_transformer_params.py": ["--preset", "llama-3-8b"],
    "calc_transformer_flops.py": ["--preset", "llama-3-8b"],
    "calc_transformer_mem.py": ["--preset", "llama-3-8b"],
    "calc_scaling_laws.py": ["optimal", "--compute", "5.76e23"],
    "calc_quantization.py": ["--preset", "llama-3-8b"],
}


STDLIB_FLOOR_LABEL = "python -c 'import argparse, dataclasses, json'"
COOKBOOK_LABEL = "cookbook calc_transformer_params.py"
COOKBOOK_ARGS = ["-l", "32", "-hs", "4096"]


def run_once(argv: list[str]) -> tuple[float, float, int]:
    """Run argv once; return (cpu seconds of the child, wall seconds, exit status)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, wall, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per command (default 21)")
    parser.add_argument("--only", action="append", help="time only this script (repeatable)")
    parser.add_argument("--cookbook", metavar="PATH",
                        help="EleutherAI cookbook's calc/calc_transformer_params.py: adds its run and the ratio to it")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")

    cases = {name: extra for name, extra in CASES.items() if (ROOT / name).exists()}
    if args.only:
        cases = {name: extra for name, extra in cases.items() if name in args.only}
    baseline = [sys.executable, "-c", "pass"]
    commands = {name: [sys.executable, name, *extra] for name, extra in cases.items()}
    # The floor any argparse + dataclass script pays before its own first line runs: shown so the
    # ratio of each script can be read against what the standard library alone costs.
    commands[STDLIB_FLOOR_LABEL] = [sys.executable, "-c", "import argparse, dataclasses, json"]
    if args.cookbook:
        if not os.path.isfile(args.cookbook):
            parser.error(f"--cookbook {args.cookbook}: no such file")
        commands[COOKBOOK_LABEL] = [sys.executable, os.path.abspath(args.cookbook), *COOKBOOK_ARGS]

    cpu: dict[str, list[float]] = {"python -c pass": []}
    wall: dict[str, list[float]] = {"python -c pass": []}
    for name in commands:
        cpu[name], wall[name] = [], []
    for _ in range(args.runs):
        for label, command in [("python -c pass", baseline), *commands.items()]:
            c, w, status = run_once(command)
            if status != 0:
                print(f"{label}: exited {status}; run it by hand to see why", file=sys.stderr)
                return 1
            cpu[label].append(c)
            wall[label].append(w)

    base_cpu = statistics.median(cpu["python -c pass"])
    base_wall = statistics.median(wall["python -c pass"])
    peer_cpu = statistics.median(cpu[COOKBOOK_LABEL]) if COOKBOOK_LABEL in cpu else None
    print(f"{'command':<52} {'CPU ms':>8} {'x bare':>7} {'wall ms':>8} {'x bare':>7}"
          + (f" {'x cookbook':>10}" if peer_cpu else ""))
    for label in cpu:
        args_text = " ".join(cases.get(label, COOKBOOK_ARGS if label == COOKBOOK_LABEL else []))
        shown = f"{label} {args_text}".strip()
        med_cpu, med_wall = statistics.median(cpu[label]), statistics.median(wall[label])
        print(f"{shown:<52} {med_cpu * 1e3:8.1f} {med_cpu / base_cpu:7.2f} "
              f"{med_wall * 1e3:8.1f} {med_wall / base_wall:7.2f}"
              + (f" {med_cpu / peer_cpu:10.2f}" if peer_cpu else ""))
    print(f"(medians of {args.runs} interleaved runs; Python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
