"""Benchmark: batched (prefill) kernels per token against N calls of the best GEMV kernel, in the model.

Model-only benchmark (issue 9 deliverable 3), one section of docs/benchmarks.md per ISA
("prefill_kernels.py <isa>"). For every machine of the ISA: the GEMV baseline is the first
kernel of the plug-in's ``kernel_preference`` that the machine runs (its fastest exact
matrix-vector kernel); every registered batched kernel (`KernelSpec.batched`) the machine runs
is timed with `time_program` (warm: prefill re-reads each weight N times per token less, so it
is compute-bound) at every token count N it supports, and reported as cycles per call, cycles
per token (call / N) and the speed-up against one GEMV call per token. Shared by the AVX2, NEON
and HVX prefill kernels: ``--isa`` picks the ISA.
Usage: ``.venv/bin/python benchmarks/prefill_kernels.py [--isa avx2] [--shapes MxK,...]
[--tokens 1,2,4,8,16] [--machines zen4,zen3] [--cold] [--no-write]``
"""

from __future__ import annotations

import argparse
import sys

from isa_models.core.machine import load_machine, machine_names
from isa_models.core.timing import time_program
from isa_models.registry import get_isa
from kernels import registry

from _common import publish, script_path  # run as a script: benchmarks/ is on sys.path
from _kernel_table import parse_shapes

NAME = "prefill_kernels.py"


def runs(spec, machine, M: int, K: int, **params) -> bool:
    """Whether `machine` runs `spec` at shape (M, K) with `params` (shape and ISA extensions)."""
    if not spec.supports(M, K, **params):
        return False
    return not machine.missing_extensions(spec.build(M, K, **spec.resolve(**params)))


def gemv_baseline(isa: str, machine, M: int, K: int):
    """The first kernel of the ISA's preference list (else its exact GEMV kernels) `machine` runs."""
    plugin = get_isa(isa)
    gemv = {s.name: s for s in registry.kernels(isa) if not s.batched}
    order = [n for n in plugin.kernel_preference if n in gemv]
    order += [n for n, s in sorted(gemv.items()) if s.exactness == "exact" and n not in order]
    return next((gemv[n] for n in order if runs(gemv[n], machine, M, K)), None)


def rows_of(isa: str, machine, shape, tokens, *, cold: bool = False) -> list[dict]:
    """One row per (batched kernel, N) on `machine` at `shape`, beside the GEMV baseline
    (`cold`: weights streamed from DRAM for both)."""
    M, K = shape
    base = gemv_baseline(isa, machine, M, K)
    base_cycles = time_program(base.build(M, K, **base.params), machine, cold=cold).cycles if base else None
    out = []
    for spec in (s for s in registry.kernels(isa) if s.batched):
        for n in tokens:
            params = {spec.tokens_param: n}
            if not runs(spec, machine, M, K, **params):
                continue
            result = time_program(spec.build(M, K, **spec.resolve(**params)), machine, cold=cold)
            per_token = result.cycles / n
            out.append({"machine": machine.name, "shape": shape, "kernel": spec.name, "N": n,
                        "cycles": result.cycles, "per_token": per_token, "binding": result.binding,
                        "gemv": base.name if base else "-", "gemv_cycles": base_cycles,
                        "speedup": base_cycles / per_token if base_cycles else None})
    return out


def section(isa: str, shapes, tokens, machines, *, cold: bool = False) -> str:
    """The Markdown section of `isa`."""
    lines = [f"### Prefill (batched) {isa} kernels per token against the best GEMV kernel, "
             f"`{script_path(__file__)}`", "",
             f"Model only (`time_program`, {'cold: weights streamed from DRAM' if cold else 'warm'}). cycles/call: one call of the batched kernel (N tokens); "
             "cycles/token = cycles/call / N; GEMV: the machine's fastest exact matrix-vector kernel (first of "
             "the plug-in's `kernel_preference` it runs), one call per token; speed-up = GEMV cycles / "
             "cycles per token. Binding bound: the innermost cause the engine names.", "",
             "| machine | shape | kernel | N | cycles/call | cycles/token | GEMV kernel | GEMV cycles | speed-up "
             "| binding bound |",
             "|---|---|---|---:|---:|---:|---|---:|---:|---|"]
    for name in machines:
        machine = load_machine(name, isa=isa)
        for shape in shapes:
            for r in rows_of(isa, machine, shape, tokens, cold=cold):
                speed = f"{r['speedup']:.2f}x" if r["speedup"] else "-"
                gemv = f"{r['gemv_cycles']:,.0f}" if r["gemv_cycles"] else "-"
                lines.append(f"| {r['machine']} | {shape[0]}x{shape[1]} | {r['kernel']} | {r['N']} | "
                             f"{r['cycles']:,.0f} | {r['per_token']:,.0f} | {r['gemv']} | {gemv} | {speed} | "
                             f"{r['binding'].split('inner loop ')[-1]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isa", default="avx2", help="the ISA whose batched kernels are timed (default avx2)")
    ap.add_argument("--shapes", default="2560x2560", help="MxK list (default 2560x2560; '' = the 2B-4T shapes)")
    ap.add_argument("--tokens", default="1,2,4,8,16", help="token counts N (default 1,2,4,8,16)")
    ap.add_argument("--machines", default="", help="comma-separated machines (default: every machine of the ISA)")
    ap.add_argument("--cold", action="store_true", help="weights streamed from DRAM (default: warm)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    get_isa(args.isa)                              # an unknown ISA: UnknownNameError naming the valid ones
    machines = [m for m in args.machines.split(",") if m] or machine_names(args.isa)
    tokens = [int(t) for t in args.tokens.split(",") if t]
    publish(f"{NAME} {args.isa}" + (" cold" if args.cold else ""),
            section(args.isa, parse_shapes(args.shapes), tokens, machines, cold=args.cold), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
