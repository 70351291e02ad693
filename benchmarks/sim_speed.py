"""Simulation speed: the functional executor and the timing engine next to native code and llvm-mca.

Benchmark layer (DESIGN.md §3). For each chosen AVX2 kernel, in one run on this host:
1. one 2560x2560 projection: vector instructions per host second of the functional executor
   (`isa_models.core.execute`, dynamic instruction count / wall), of the timing engine
   (`time_program` on zen4: instructions it stepped through / wall, and the dynamic count it
   covers by composing loops / wall), of llvm-mca 14 (-mcpu=znver3 on the compiled inner loops,
   10 000 iterations) and of the emitted C run natively;
2. a full bitnet-b1.58-2B-4T token (210 projections): wall time of the functional checks
   (`workbench.flow.run_checks`, 1 and 2 worker processes), of the timing (once per unique shape),
   of llvm-mca over the same four shapes, and of the native kernels (median call time per shape x
   projections). Medians of repeats; writes its section of docs/benchmarks.md.
Usage: ``python benchmarks/sim_speed.py [--kernels tl2,i2s] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _common import load_average, machine_facts, publish  # run as a script: benchmarks/ is on sys.path

NAME = Path(__file__).name
MODEL = "bitnet-b1.58-2B-4T"
MCA_ITERATIONS = 10_000


def wall(fn, repeats: int) -> float:
    """Median wall seconds of `fn()` over `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def mca_run(asm: str) -> tuple[float, int]:
    """(wall seconds, simulated instructions) of llvm-mca -mcpu=znver3 over every region of `asm`."""
    t0 = time.perf_counter()
    proc = subprocess.run(["llvm-mca", "-mtriple=x86_64", "-mcpu=znver3", f"-iterations={MCA_ITERATIONS}",
                           "-all-views=false", "-summary-view"], input=asm, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise OSError(f"llvm-mca failed: {proc.stderr.strip()[:300]}")
    instrs = sum(int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("Instructions:"))
    return seconds, instrs


def engine_stepped(result) -> int:
    """Instructions the timing engine simulated (loop bodies x simulated iterations)."""
    return sum(lr.n_instructions * max(lr.simulated_iterations, 1) for lr in result.loops if lr.n_instructions)


def bench_kernel(name: str, repeats: int) -> dict:
    from isa_models.core.execute import execute
    from isa_models.core.machine import load_machine
    from isa_models.core.timing import time_program
    from kernels.codegen import NativeKernel, emit_asm
    from kernels.codegen.targets.x86_tsc import tsc_hz
    from kernels.registry import get
    from workbench import flow
    from workbench.reference import PROJECTIONS, get_preset, random_weights

    spec = get(name, "avx2")
    machine = load_machine("zen4", isa="avx2")
    config = get_preset(MODEL)
    weights = random_weights(config, seed=0)
    acts = flow.Activations(weights, source="trace", token_id=None, seed=0)
    runner = flow.KernelRunner(spec)
    shapes = {}
    for proj in PROJECTIONS:
        shapes.setdefault(config.projection_shape(proj), []).append(proj)
    out = {"kernel": name, "shapes": {}}
    for (M, K), projs in shapes.items():
        program = runner.program(M, K)
        codes = np.ascontiguousarray(weights.layers[0].projection(projs[0]).codes)
        buffers = spec.prepare(codes, acts.row(0, projs[0]), **runner.params)
        dyn = program.dynamic_count()
        t_exec = wall(lambda: execute(program, buffers), repeats)
        t_time = wall(lambda: time_program(program, machine), repeats)
        res = time_program(program, machine)
        asm = emit_asm(program)
        t_mca, mca_instrs = mca_run(asm)
        native = NativeKernel(program)
        nat = native.time(buffers, repeats=51, warmup=5)
        t_native = nat.cycles * nat.tsc_per_cycle / tsc_hz()    # seconds on this host, whatever its clock
        out["shapes"][(M, K)] = {"projections": len(projs), "dynamic": dyn, "execute_s": t_exec,
                                 "timing_s": t_time, "stepped": engine_stepped(res), "mca_s": t_mca,
                                 "mca_instrs": mca_instrs, "native_s": t_native,
                                 "native_cycles": nat.cycles}
    jobs = [(li, p) for li in range(config.num_layers) for p in PROJECTIONS]
    for workers in (1, 2):
        t0, c0 = time.perf_counter(), os.times()
        checks = flow.run_checks(runner, weights, acts, jobs, workers=workers)
        c1 = os.times()
        out[f"token_functional_s_{workers}"] = time.perf_counter() - t0
        out[f"token_functional_cpu_{workers}"] = (c1.user + c1.system + c1.children_user + c1.children_system
                                                  - c0.user - c0.system - c0.children_user - c0.children_system)
        out[f"load_{workers}"] = load_average()
        out["token_verified"] = sum(c.ok for c in checks)
    t0 = time.perf_counter()
    for M, K in shapes:
        time_program(runner.program(M, K), machine)
    out["token_timing_s"] = time.perf_counter() - t0
    layers = config.num_layers
    out["token_native_s"] = sum(s["native_s"] * s["projections"] * layers for s in out["shapes"].values())
    out["token_mca_s"] = sum(s["mca_s"] for s in out["shapes"].values())
    out["token_dynamic"] = sum(s["dynamic"] * s["projections"] * layers for s in out["shapes"].values())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", default="tl2,i2s", help="comma-separated AVX2 kernels (default: tl2,i2s)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats per single-projection figure (median)")
    args = parser.parse_args()
    info = machine_facts()
    load = load_average()
    results = []
    for name in args.kernels.split(","):
        print(f"benchmarking {name} ...", flush=True)
        results.append(bench_kernel(name, args.repeats))
    lines = [f"## Simulation speed (`benchmarks/{NAME}`)", "",
             f"Host: {info['model_name']}, 2 vCPUs shared with other work (1-minute load average "
             f"{load:.1f} at the end of the run), Python {info['python']}. Model: zen4. "
             f"Single-projection figures: median of {args.repeats} runs, shape 2560x2560 (q/o). "
             f"'instr/s' counts simulated (or executed) vector-loop instructions per host second.", "",
             "| kernel | functional executor instr/s | timing engine instr/s (stepped) | timing engine instr/s "
             "(covered) | llvm-mca znver3 instr/s | native instr/s |",
             "|---|---|---|---|---|---|"]
    for r in results:
        s = r["shapes"][(2560, 2560)]
        lines.append(f"| {r['kernel']} | {s['dynamic'] / s['execute_s']:.3g} | {s['stepped'] / s['timing_s']:.3g} | "
                     f"{s['dynamic'] / s['timing_s']:.3g} | {s['mca_instrs'] / s['mca_s']:.3g} | "
                     f"{s['dynamic'] / s['native_s']:.3g} |")
    lines += ["", f"Full {MODEL} token (30 layers x 7 projections; functional = every projection run by the "
              "executor and compared with the reference; timing = once per unique shape; native = "
              "measured call time per shape x projections (TSC ticks over the TSC rate); llvm-mca = the four "
              "shapes' inner loops once):", "",
              "| kernel | functional, 1 process: wall s (CPU s, load) | functional, 2 processes: wall s "
              "(CPU s, load) | verified | timing (s) | llvm-mca (s) | native (ms) | dynamic instructions |",
              "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['kernel']} | {r['token_functional_s_1']:.1f} ({r['token_functional_cpu_1']:.0f}, "
                     f"{r['load_1']:.1f}) | {r['token_functional_s_2']:.1f} ({r['token_functional_cpu_2']:.0f}, "
                     f"{r['load_2']:.1f}) | "
                     f"{r['token_verified']}/210 | {r['token_timing_s']:.2f} | {r['token_mca_s']:.2f} | "
                     f"{r['token_native_s'] * 1e3:.1f} | {r['token_dynamic']:.3g} |")
    lines += ["", "CPU s = user + system seconds of this process and its workers; load = the host's 1-minute "
              "load average right after (other engineers' jobs share the 2 vCPUs, so the 2-process wall "
              "time only drops when the second vCPU is free). On an idle host the 2-process wall time is "
              "about CPU s / 2.",
              "", "The end-to-end `workbench simulate` run adds weight loading (disk cache) and one "
              "reference forward pass (about 1-3 s) to these figures; target: the whole token in at "
              "most 60 s on this host."]
    publish(NAME, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
