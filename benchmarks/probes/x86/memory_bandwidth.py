"""Single-core read bandwidth of this host per memory level, next to the host machine's [memory].

Benchmark layer, host probe of x86 (DESIGN.md §3: the memory model bounds loops by their footprint). One AVX2
Program streams a buffer of a given size with four independent `vpaddb ymm, [mem]` chains (32
bytes per load, 128 per iteration), repeated so each call moves a few tens of MB; it is compiled
(clang) and timed natively (`kernels.codegen.NativeKernel`, least of 3 medians, core cycles),
and bytes per core cycle = size x repeats / cycles. Sizes sit inside each cache level of the
machine that models this CPU (`kernels.codegen.host_machine`) and far beyond the last one for
DRAM. The core clock comes from the TSC rate (`kernels.codegen.targets.x86_tsc.tsc_hz`) and the vpaddb
calibration. Writes the "memory_bandwidth.py <machine>" section of docs/benchmarks.md.
Usage: ``python benchmarks/probes/x86/memory_bandwidth.py [--no-write]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if str(Path(__file__).resolve().parents[2]) not in sys.path:      # run as a script: _common is in benchmarks/
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from _common import host_machine_or_refuse, load_average, machine_note, publish, script_path  # noqa: E402

NAME = "memory_bandwidth.py"
#: bytes streamed for the DRAM row: far beyond the L3 share one core reaches (~64 MiB measured)
DRAM_BYTES = 2 << 30
#: bytes moved per timed call (repeats = this / size, at least 1)
CALL_BYTES = 48 << 20


def stream_program(size: int, repeats: int):
    """`repeats` passes over a `size`-byte buffer: 4 vpaddb chains, 32-byte loads."""
    from isa_models.avx2 import ISA
    from isa_models.core.builder import ProgramBuilder

    if size <= 0 or size % 128:
        raise ValueError(f"memory_bandwidth: size {size} must be a positive multiple of 128 bytes")
    b = ProgramBuilder(ISA, f"stream_{size}_{repeats}")
    buf = b.buffer("buf", size)
    out = b.buffer("out", 128, role="output")
    accs = [b.vpxor_zero_ymm() for _ in range(4)]
    with b.loop("r", repeats):
        with b.loop("k", size // 128) as k:
            for i in range(4):
                b.vpaddb_ymm_m(accs[i], buf[k * 128 + 32 * i], out=accs[i])
    for i in range(4):
        b.vmovdqu_store_ymm(out[32 * i], accs[i])
    return b.build()


def sizes_for(machine) -> list[tuple[str, int]]:
    """A size inside each level (half of it, a quarter for L1 so the other buffers fit) and DRAM."""
    out = []
    for i, level in enumerate(machine.memory):
        share = level.size_bytes // (4 if i == 0 else 2)
        out.append((level.name, max(128, share // 128 * 128)))
    out.append(("DRAM", DRAM_BYTES))
    return out


def measure(size: int) -> float:
    """Bytes per core cycle streaming `size` bytes."""
    from kernels.codegen import NativeKernel
    from kernels.codegen.targets.x86_avx2 import measurement_compiler

    repeats = max(1, CALL_BYTES // size)
    native = NativeKernel(stream_program(size, repeats), compiler=measurement_compiler())
    buffers = {"buf": np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8)}
    cycles = min(native.time(buffers, repeats=5, warmup=1).cycles for _ in range(3))
    return size * repeats / cycles


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    machine, code = host_machine_or_refuse("memory_bandwidth")
    if machine is None:
        return code
    from kernels.codegen.targets.x86_tsc import calibrate, tsc_hz

    clock = tsc_hz() / calibrate().tsc_per_cycle
    model = {lv.name: lv.bytes_per_cycle for lv in machine.memory}
    model["DRAM"] = machine.dram_gbps_core / machine.clock_ghz
    rows = []
    for label, size in sizes_for(machine):
        bpc = measure(size)
        rows.append((label, size, bpc, model[label]))
        print(f"{label:5s} {size / 1024:>10.0f} KiB: {bpc:6.1f} B/cycle ({bpc * clock / 1e9:6.1f} GB/s); "
              f"{machine.name} {model[label]:.1f}", flush=True)
    lines = [f"## Memory bandwidth on {machine.host.core}: measured vs {machine.name} (`{script_path(__file__)}`)", "",
             f"Host: {machine_note()}; core clock {clock / 1e9:.2f} GHz (TSC rate / vpaddb calibration); "
             f"load average {load_average():.1f} at the end. One core streams a buffer with 4 chains of "
             f"`vpaddb ymm, [mem]` (clang -O2 of the Program), least of 3 medians of 5 calls of about "
             f"{CALL_BYTES >> 20} MB each. Model: `isa_models/machines/avx2/{machine.name}.toml` [memory] "
             f"(DRAM: dram_gbps_core at its clock).", "",
             "| level | buffer | measured B/cycle | measured GB/s | model B/cycle | model / measured |",
             "|---|---|---|---|---|---|"]
    for label, size, bpc, m in rows:
        lines.append(f"| {label} | {size / 1024:,.0f} KiB | {bpc:.1f} | {bpc * clock / 1e9:.1f} | {m:.1f} | "
                     f"{m / bpc:.2f} |")
    publish(f"{NAME} {machine.name}", "\n".join(lines), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
