"""Benchmark: the AVX2 ternary kernels on a 2B-4T projection, predicted (host's machine model) and measured.

Kernel layer benchmark (never a timed test). For each registered AVX2 kernel it builds the
Program for one (M, K), times it with `isa_models.core.timing.time_program` on the machine that
models this host (`kernels.codegen.host_machine`: zen4 on Zen 4; predicted cycles and binding bound) and runs the emitted C natively on this host
(`kernels.codegen.NativeKernel.time`: median core cycles of 51 calls, after checking the native
result equals the functional one; the least of `--passes` such medians, the kernels interleaved
pass by pass, since other tenants of this shared host only ever add cycles). Results go to docs/benchmarks.md between this script's markers.

Usage: .venv/bin/python benchmarks/kernels_avx2.py [--shape 2560x2560] [--passes 3]
One section per machine ("kernels_avx2.py zen4", "kernels_avx2.py graniterapids").
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from isa_models.core.machine import load_machine
from isa_models.core.timing import time_program
from kernels import registry
from kernels.codegen import NativeKernel
from kernels.codegen.targets.x86_avx2 import measurement_compiler
from workbench.quant import quantize_activations
from workbench.reference import get_preset, random_linear

from _common import host_machine_or_refuse, machine_facts, publish  # run as a script: benchmarks/ is on sys.path

NAME = "kernels_avx2.py"


COMPILER = measurement_compiler()


def measure(shape: tuple[int, int], machine_name: str, *, passes: int = 3) -> list[dict]:
    m, k = shape
    config = get_preset("bitnet-b1.58-2B-4T")
    proj = next(p for p in ("q", "k", "gate", "down") if config.projection_shape(p) == shape)
    codes = random_linear(config, 0, proj).codes
    q = quantize_activations(np.random.default_rng(0).standard_t(4, (1, k)).astype(np.float32))[0][0]
    machine = load_machine(machine_name)
    rows, runs = [], []
    for spec in registry.kernels("avx2"):
        if spec.batched:             # prefill kernels: benchmarks/prefill_kernels.py times them per token
            continue
        p = spec.resolve()
        program = spec.build(m, k, **p)
        buffers = spec.prepare(codes, q, **p)
        predicted = time_program(program, machine)
        native = NativeKernel(program, compiler=COMPILER)
        same = native.equals_functional(buffers)
        runs.append((native, buffers))
        rows.append({"kernel": spec.name, "exactness": spec.exactness, "predicted": predicted.cycles,
                     "binding": predicted.binding, "measured": [], "native_equal": same,
                     "instructions": program.dynamic_count()})
    for _ in range(passes):
        for row, (native, buffers) in zip(rows, runs):
            row["measured"].append(native.time(buffers, repeats=51, warmup=5).cycles)
    for row in rows:
        row["spread"] = max(row["measured"]) / min(row["measured"]) - 1
        row["measured"] = min(row["measured"])
    return rows


def render(rows: list[dict], shape, machine_name: str, passes: int, core: str) -> str:
    info = machine_facts()
    best = min(rows, key=lambda r: r["measured"])
    lines = [f"### AVX2 kernels on {core}, one token, {shape[0]}x{shape[1]} (2B-4T), `benchmarks/{NAME}`", "",
             f"Host: {info.get('model_name')} (family {info.get('family')}, model {info.get('model')}); "
             f"predicted with machine `{machine_name}`; measured = the least of {passes} medians of 51 native "
             f"calls each (rdtsc, calibrated; kernels interleaved pass by pass) of the emitted C built with {COMPILER} (clang compiles the Program nearly "
             "1:1; gcc 12 adds register copies and spills, see the fidelity section), single thread, "
             "weights L2/L3-resident after warm-up.", "",
             "| kernel | exactness | dynamic instrs | predicted cycles | binding bound | measured cycles | "
             "spread over passes | measured / predicted | vs i2s (measured) | native == functional |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    base = next(r["measured"] for r in rows if r["kernel"] == "i2s")
    for r in rows:
        lines.append(f"| {r['kernel']} | {r['exactness']} | {r['instructions']} | {r['predicted']:.0f} | "
                     f"{r['binding']} | {r['measured']:.0f} | {r['spread']:.0%} | {r['measured'] / r['predicted']:.2f} | "
                     f"{base / r['measured']:.2f}x | {r['native_equal']} |")
    lines += ["", f"Fastest measured: **{best['kernel']}**."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="2560x2560", help="M x K of a 2B-4T projection (default 2560x2560)")
    ap.add_argument("--machine", help="machine model for the prediction (default: the one whose [host] "
                                      "table matches this CPU; another is refused)")
    ap.add_argument("--passes", type=int, default=3, help="medians of 51 calls per kernel; the least is kept")
    args = ap.parse_args()
    machine, code = host_machine_or_refuse("kernels_avx2", args.machine)
    if machine is None:
        return code
    shape = tuple(int(x) for x in args.shape.lower().split("x"))
    text = render(measure(shape, machine.name, passes=args.passes), shape, machine.name, args.passes,
                  machine.host.core)
    publish(f"{NAME} {machine.name}", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
