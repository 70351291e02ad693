"""RTL co-simulation of NPU command streams: a generic cocotb player plus its runner.

Top layer (used by `workbench.npu_flow` for `simulate --isa npu --rtl`, by `workbench rtl` and by
benchmarks/rtl_speed.py). `write_job` stores lowered command streams (command words + DRAM
images) in an .npz; `run_job` builds `rtl.top.NpuTop` Verilog for the machine and runs
`play_streams` inside Icarus or Verilator (cocotb). The player feeds the words back to back,
answers DMA requests after dma_latency_cycles (one beat per cycle, as sims/tb_npu.py does),
collects write-back beats and records, per stream, the final DRAM image, every command's issue
cycle and the busy-cycle total. It asserts nothing: the caller compares with the NPU model.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path

import numpy as np

__all__ = ["write_job", "run_job", "read_results", "play_streams", "COSIM_ROOT"]

COSIM_ROOT = Path(__file__).resolve().parent.parent / "sims" / "build"


def write_job(path: Path, streams: list[dict]) -> Path:
    """Store streams [{name, words (list of int), dram (uint8), latency}] in one .npz job file."""
    arrays, meta = {}, []
    for i, s in enumerate(streams):
        arrays[f"dram{i}"] = np.asarray(s["dram"], dtype=np.uint8)
        meta.append({"name": s["name"], "words": [str(int(w)) for w in s["words"]]})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def read_results(path: Path) -> list[dict]:
    """[{name, dram uint8, issue list, total, sim_seconds}] written by `play_streams`."""
    with np.load(path) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        for i, m in enumerate(meta):
            m["dram"] = z[f"dram{i}"].copy()
    return meta


def run_job(params, streams: list[dict], *, sim: str = "icarus", waves: bool = False,
            tag: str = "cosim") -> tuple[list[dict], dict]:
    """Build NpuTop(params) for `sim`, play `streams` on it, return (results, info).

    info: build_seconds, run_seconds, build_dir, log (the simulator's output goes to build.log
    and sim.log there, not to the terminal). Raises OSError when the simulator is missing and
    RuntimeError when the simulation itself fails (its log is in the build directory).
    """
    from cocotb_tools.runner import get_runner

    from rtl.verilog import TOP_NAME, generate
    from sims.runner import simulator_available, verilator_env

    why = simulator_available(sim)
    if why:
        raise OSError(f"rtl co-simulation: {why}")
    build_dir = COSIM_ROOT / f"{tag}_{params.name}_{params.weight_encoding}_{sim}"
    job = write_job(build_dir / "job.npz", streams)
    out = build_dir / "result.npz"
    if out.exists():
        out.unlink()
    t0 = time.perf_counter()
    src = generate(params, build_dir / f"{TOP_NAME}.v")
    if sim == "verilator":
        os.environ.update(verilator_env())
    runner = get_runner(sim)
    runner.build(sources=[src], hdl_toplevel=TOP_NAME, build_dir=build_dir, always=True,
                 timescale=("1ns", "1ps"), waves=waves,
                 build_args=["-Wno-fatal"] if sim == "verilator" else [],
                 log_file=build_dir / "build.log")
    t1 = time.perf_counter()
    repo = str(Path(__file__).resolve().parent.parent)
    env = {"NPU_COSIM_JOB": str(job), "NPU_COSIM_OUT": str(out),
           "NPU_COSIM_LATENCY": str(params.dma_latency_cycles),
           "NPU_COSIM_BUS": str(params.dma_bytes_per_cycle),
           "PYTHONPATH": repo + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runner.test(hdl_toplevel=TOP_NAME, test_module="workbench.npu_cosim", build_dir=build_dir,
                test_dir=build_dir, extra_env=env, waves=waves, log_file=build_dir / "sim.log")
    t2 = time.perf_counter()
    if not out.exists():
        raise RuntimeError(f"rtl co-simulation on {sim} produced no results; see {build_dir}")
    return read_results(out), {"build_seconds": t1 - t0, "run_seconds": t2 - t1, "build_dir": str(build_dir),
                               "log": str(build_dir / "sim.log")}


async def _play_one(dut, words: list[int], dram: np.ndarray, *, latency: int, bus: int,
                    limit: int) -> dict:
    from cocotb.triggers import ClockCycles, FallingEdge, ReadOnly

    await FallingEdge(dut.clk)
    dut.rst.value = 1
    dut.cmd__valid.value = 0
    dut.cmd__payload.value = 0
    dut.dma_rsp__valid.value = 0
    dut.dma_rsp__payload.value = 0
    dut.dma_req__ready.value = 1
    dut.wb__ready.value = 1
    await ClockCycles(dut.clk, 3)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    cycle, nxt, first, last_busy = 0, 0, None, None
    issued: list[int] = []
    beats: deque = deque()
    t0 = time.perf_counter()
    while True:
        await FallingEdge(dut.clk)
        if nxt < len(words):
            dut.cmd__valid.value = 1
            dut.cmd__payload.value = words[nxt]
        else:
            dut.cmd__valid.value = 0
        if beats and beats[0][0] == cycle:
            dut.dma_rsp__valid.value = 1
            dut.dma_rsp__payload.value = beats[0][1]
        else:
            dut.dma_rsp__valid.value = 0
        await ReadOnly()
        if nxt < len(words) and int(dut.cmd__ready.value):
            first = cycle if first is None else first
            issued.append(cycle - first)
            nxt += 1
        if int(dut.dma_req__valid.value):
            req = dut.dma_req__payload.value.to_unsigned()
            addr, n = req & 0xFFFFFFFF, req >> 32
            for i in range(n):
                chunk = dram[addr + i * bus:addr + (i + 1) * bus]
                beats.append((cycle + latency + i, int.from_bytes(chunk.tobytes(), "little")))
        if beats and beats[0][0] == cycle:
            beats.popleft()
        if int(dut.wb__valid.value):
            payload = dut.wb__payload.value.to_unsigned()
            addr, value = payload & 0xFFFFFFFF, payload >> 32
            dram[addr:addr + bus] = np.frombuffer(value.to_bytes(bus, "little"), dtype=np.uint8)
        if int(dut.busy.value):
            last_busy = cycle
        cycle += 1
        if nxt == len(words) and not int(dut.busy.value) and not beats:
            break
        if cycle >= limit:
            break
    await FallingEdge(dut.clk)
    total = (last_busy - first + 1) if first is not None and last_busy is not None else 0
    return {"issue": issued, "total": total, "sim_cycles": cycle,
            "sim_seconds": time.perf_counter() - t0, "completed": nxt == len(words) and cycle < limit}


async def play_streams(dut):
    """cocotb entry: play every stream of the job file NPU_COSIM_JOB, write NPU_COSIM_OUT."""
    from cocotb.clock import Clock

    Clock(dut.clk, 10, unit="ns").start()
    latency = int(os.environ["NPU_COSIM_LATENCY"])
    bus = int(os.environ["NPU_COSIM_BUS"])
    with np.load(os.environ["NPU_COSIM_JOB"]) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        drams = [z[f"dram{i}"].copy() for i in range(len(meta))]
    results, arrays = [], {}
    for i, (m, dram) in enumerate(zip(meta, drams)):
        words = [int(w) for w in m["words"]]
        limit = 64 * len(words) * (latency + 1) + 100_000
        r = await _play_one(dut, words, dram, latency=latency, bus=bus, limit=limit)
        r["name"] = m["name"]
        results.append(r)
        arrays[f"dram{i}"] = dram
        dut._log.info(f"{m['name']}: {len(words)} commands, {r['total']} cycles")
    arrays["meta"] = np.frombuffer(json.dumps(results).encode(), dtype=np.uint8)
    np.savez(os.environ["NPU_COSIM_OUT"], **arrays)


if os.environ.get("NPU_COSIM_JOB"):          # inside the simulator: expose the cocotb test
    import cocotb

    play_streams = cocotb.test()(play_streams)
