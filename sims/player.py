"""The one cocotb player of NPU command streams on `rtl.top.NpuTop`, and its job files.

Sims layer; runs inside the simulator. `play_stream` resets the DUT, feeds command words back to
back, answers DMA requests after a fixed latency (one beat per cycle, from a DRAM image it
updates with write-back beats) and returns what happened (issue cycle of every command, busy
cycles, completion, refused DMA beats): it asserts nothing. sims/tb_npu.py asserts on its return
value against the NPU model; `play_job` (the cocotb test started by `sims.cosim.run_job`
through `sims.runner.build_and_test`) plays every stream of a job file written by `write_job`
and stores the results for `read_results`.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path

import numpy as np

__all__ = ["reset", "play_stream", "stream_limit", "write_job", "read_results", "play_job"]


async def reset(dut) -> None:
    """Synchronous reset (accumulators and unit state; SRAM contents persist, as in hardware)."""
    from cocotb.triggers import ClockCycles, FallingEdge

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


def stream_limit(n_words: int, latency: int) -> int:
    """A generous cycle budget for `n_words` commands when no cycle model bounds the run."""
    return 64 * n_words * (latency + 1) + 100_000


async def play_stream(dut, words: list[int], dram: np.ndarray, *, latency: int, bus: int,
                      limit: int) -> dict:
    """Reset the DUT, play `words` with DRAM image `dram` (updated in place); return the record.

    Parameters
    ----------
    words : command words, fed back to back (the next one as soon as ``cmd.ready``).
    dram : uint8 DRAM image; DMA requests read it, write-back beats write it.
    latency : cycles from a DMA request to its first beat; bus : bytes per beat.
    limit : stop after this many cycles (``completed`` is then False).

    Returns
    -------
    dict with ``issue`` (cycle of each accepted command, relative to the first), ``total``
    (busy cycles from the first issue to the last busy cycle), ``sim_cycles``, ``sim_seconds``,
    ``completed`` (every word accepted and the DUT idle within `limit`) and ``refused_beat``
    (the first cycle a DMA beat was offered but not accepted, or None).
    """
    from cocotb.triggers import FallingEdge, ReadOnly

    await reset(dut)
    cycle, nxt, first, last_busy, refused = 0, 0, None, None, None
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
            if refused is None and not int(dut.dma_rsp__ready.value):
                refused = cycle
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
    await FallingEdge(dut.clk)                                # leave the ReadOnly phase
    total = (last_busy - first + 1) if first is not None and last_busy is not None else 0
    return {"issue": issued, "total": total, "sim_cycles": cycle, "sim_seconds": time.perf_counter() - t0,
            "completed": nxt == len(words) and cycle < limit, "refused_beat": refused}


def write_job(path: Path, streams: list[dict]) -> Path:
    """Store streams [{name, words (list of int), dram (uint8)}] in one .npz job file."""
    arrays, meta = {}, []
    for i, s in enumerate(streams):
        arrays[f"dram{i}"] = np.asarray(s["dram"], dtype=np.uint8)
        meta.append({"name": s["name"], "words": [str(int(w)) for w in s["words"]]})
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def read_results(path: Path) -> list[dict]:
    """[{name, dram uint8, and the `play_stream` record}] written by `play_job`."""
    with np.load(path) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        for i, m in enumerate(meta):
            m["dram"] = z[f"dram{i}"].copy()
    return meta


async def play_job(dut):
    """cocotb entry: play every stream of the job file NPU_COSIM_JOB, write NPU_COSIM_OUT.

    Env: NPU_COSIM_LATENCY (DMA latency, cycles), NPU_COSIM_BUS (bytes per beat).
    """
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
        r = await play_stream(dut, words, dram, latency=latency, bus=bus,
                              limit=stream_limit(len(words), latency))
        r["name"] = m["name"]
        results.append(r)
        arrays[f"dram{i}"] = dram
        dut._log.info(f"{m['name']}: {len(words)} commands, {r['total']} cycles")
    arrays["meta"] = np.frombuffer(json.dumps(results).encode(), dtype=np.uint8)
    np.savez(os.environ["NPU_COSIM_OUT"], **arrays)


if os.environ.get("NPU_COSIM_JOB"):          # inside the simulator: expose the cocotb test
    import cocotb

    play_job = cocotb.test()(play_job)
