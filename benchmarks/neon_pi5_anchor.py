"""Benchmark: one silicon anchor from machine facts alone: T-MAC's 4096x4096 2-bit GEMV on a Raspberry Pi 5.

Benchmark layer (issue 11 deliverable 6; research/kernels.md §2.4). T-MAC's README plot
(microsoft/T-MAC assets/gemv_t1.png) gives about 0.6 ms for one single-threaded GEMV of a 4096x4096
matrix of 2-bit weights by one token on a Raspberry Pi 5 (read off the plot, so approximate). The
model: the T-MAC NEON kernel (`kernels/tmac/neon.py`; if it is not registered, the fastest
registered NEON kernel with the "tmac" weight format, else the fastest NEON kernel, which the
section says) built for M = K = 4096, timed by `time_program` on the `cortex-a76` machine (the
Pi 5's core, clock and memory: isa_models/machines/neon/cortex-a76.toml) with its weights
streamed from DRAM (`cold=True`: 4 MiB of 2-bit weights exceed the A76's 512 KiB L2 and the
BCM2712's 2 MiB L3, and the benchmark re-reads them every call). Nothing in the machine is fitted
to this figure; the section reports the predicted time, the binding bound and the ratio.
Usage: .venv/bin/python benchmarks/neon_pi5_anchor.py [--no-write]
"""

from __future__ import annotations

import argparse
import sys

from _common import publish, script_path  # run as a script: benchmarks/ is on sys.path

NAME = "neon_pi5_anchor.py"
ISA = "neon"
MACHINE = "cortex-a76"
M = K = 4096
PUBLISHED_MS = 0.6
PUBLISHED_SOURCE = ("microsoft/T-MAC README, assets/gemv_t1.png (GEMV latency, 1 thread, 4096x4096x1, 2-bit, "
                    "Raspberry Pi 5: about 0.6 ms read off the plot; research/kernels.md §2.4)")
WANTED = "tmac"


def choose_kernel(machine):
    """(spec, why): T-MAC's NEON kernel, else the fastest tmac-format one, else the fastest NEON one."""
    from isa_models.core.timing import time_program
    from kernels import registry

    specs = [s for s in registry.kernels(ISA) if s.supports(M, K, **s.resolve())
             and not machine.missing_extensions(s.build(M, K, **s.resolve()))]
    exact = [s for s in specs if s.name == WANTED]
    if exact:
        return exact[0], f"`{WANTED}`, the T-MAC NEON kernel (kernels/tmac/neon.py)"
    same_format = [s for s in specs if s.weight_format == WANTED]
    pool, why = ((same_format, f"kernels/tmac/neon.py is not registered: the fastest registered NEON kernel "
                               f"with the T-MAC weight format")
                 if same_format else
                 (specs, "no NEON kernel with the T-MAC weight format is registered: the fastest registered "
                         "NEON kernel"))
    if not pool:
        raise SystemExit(f"{NAME}: no registered {ISA} kernel runs {M}x{K} on {machine.name}")
    timed = [(time_program(s.build(M, K, **s.resolve()), machine, cold=True).cycles, s) for s in pool]
    best = min(timed, key=lambda t: t[0])[1]
    return best, f"`{best.name}` ({why})"


def model(machine, spec) -> dict:
    from isa_models.core.timing import time_program

    program = spec.build(M, K, **spec.resolve())
    cold = time_program(program, machine, cold=True)
    warm = time_program(program, machine)
    return {"cycles": cold.cycles, "ms": cold.seconds * 1e3, "binding": cold.binding, "level": cold.memory_level,
            "bytes": cold.bytes_moved, "compute_ms": cold.compute_cycles / (machine.clock_ghz * 1e6),
            "memory_ms": cold.memory_cycles / (machine.clock_ghz * 1e6), "warm_ms": warm.seconds * 1e3,
            "warm_level": warm.memory_level}


def render(machine, spec, why: str, r: dict) -> str:
    ratio = r["ms"] / PUBLISHED_MS
    return "\n".join([
        f"### Raspberry Pi 5 anchor: T-MAC GEMV 4096x4096, 2-bit, one thread, `{script_path(__file__)}`", "",
        f"Published: about {PUBLISHED_MS} ms ({PUBLISHED_SOURCE}).", "",
        f"Modelled from machine facts alone (nothing fitted to the published figure): kernel {why}, "
        f"machine `{machine.name}` ({machine.description}; clock {machine.clock_ghz} GHz, one core streams "
        f"DRAM at {machine.dram_gbps_core} GB/s: {machine.source_of('memory.dram_gbps_core')}).", "",
        "| quantity | value |", "|---|---|",
        f"| predicted latency, weights from DRAM | {r['ms']:.3f} ms ({r['cycles']:.0f} cycles) |",
        f"| binding bound | {r['binding']} |",
        f"| compute (cycle model) | {r['compute_ms']:.3f} ms |",
        f"| memory ({r['bytes'] / 2**20:.2f} MiB from {r['level']}) | {r['memory_ms']:.3f} ms |",
        f"| predicted without the cold start (working set from the smallest level holding it: {r['warm_level']}) | {r['warm_ms']:.3f} ms |",
        f"| published (T-MAC, Pi 5) | about {PUBLISHED_MS} ms |",
        f"| model / published | {ratio:.2f} |",
    ])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    from isa_models.core.machine import load_machine

    machine = load_machine(MACHINE, isa=ISA)
    spec, why = choose_kernel(machine)
    publish(NAME, render(machine, spec, why, model(machine, spec)), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
