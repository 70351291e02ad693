"""cocotb testbench of `rtl.top.NpuTop`: drives command streams, plays DRAM, scoreboards.

Sims layer; runs inside the simulator (started by `sims.runner`). The machine comes from env
NPU_MACHINE / NPU_ENCODING. Each test lowers a Program (`sims.scenarios`) and plays it with
`sims.player.play_stream` (command words back to back, DMA answered with the model's fixed
latency, dma_latency_cycles, one beat per cycle, write-back beats collected), then asserts on
what it returns: every DRAM byte equals the NPU model's functional run, no DMA beat was refused,
matvec outputs equal an independent int64 matmul (and
`workbench.reference.ternary_matvec` when importable), and every command's issue cycle and the
total cycle count EQUAL the cycle model (`isa_models.npu.timing`).
"""

from __future__ import annotations

import dataclasses
import os

import cocotb
import numpy as np
from cocotb.clock import Clock

from isa_models.npu import load_npu_machine, lower, run_commands, time_lowered
from sims import scenarios as sc
from sims.player import play_stream

PARAMS = load_npu_machine(os.environ.get("NPU_MACHINE", "tiny"))
if os.environ.get("NPU_ENCODING"):
    PARAMS = dataclasses.replace(PARAMS, weight_encoding=os.environ["NPU_ENCODING"])
SEED = int(os.environ.get("NPU_SEED", "1234"))
N_RANDOM = int(os.environ.get("NPU_RANDOM_RUNS", "4"))
COVERAGE = np.zeros((3, 6), dtype=np.int64)            # weight trit (-1, 0, +1) x activation class


def _start_clock(dut) -> None:
    Clock(dut.clk, 10, unit="ns").start()


async def run_scenario(dut, scen: sc.Scenario) -> None:
    """Play one scenario (`sims.player.play_stream`) and assert integers and cycles against the model."""
    p = PARAMS
    lowered = lower(scen.program, p)
    timing = time_lowered(lowered)
    expected = run_commands(lowered, scen.inputs)
    words = lowered.words()
    dram = np.zeros(lowered.dram_bytes, dtype=np.uint8)
    for name, arr in scen.inputs.items():
        dram[lowered.dram_base[name]:lowered.dram_base[name] + arr.size] = arr

    res = await play_stream(dut, words, dram, latency=p.dma_latency_cycles, bus=p.dma_bytes_per_cycle,
                            limit=timing.total_cycles + 1000)
    assert res["refused_beat"] is None, f"cycle {res['refused_beat']}: DMA beat offered but not accepted"
    assert res["completed"], (f"{scen.name}: no completion after {res['sim_cycles']} cycles "
                              f"(model {timing.total_cycles})")

    # integers: every DRAM buffer against the model's functional run
    for name, base in lowered.dram_base.items():
        got = dram[base:base + scen.program.buffers[name].size]
        want = expected[name]
        if not np.array_equal(got, want):
            bad = int(np.flatnonzero(got != want)[0])
            raise AssertionError(f"{scen.name}: DRAM {name}[{bad}] = {got[bad]} but model says {want[bad]}")
    if scen.codes is not None:
        m = scen.codes.shape[0]
        y = dram[lowered.dram_base["y"]:lowered.dram_base["y"] + 4 * m].view(np.int32)
        ref = scen.codes.astype(np.int64) @ scen.x.astype(np.int64)
        assert np.array_equal(y.astype(np.int64), ref), f"{scen.name}: y differs from int64 matmul"
        try:
            from workbench.reference import ternary_matvec
        except ImportError:
            ternary_matvec = None
        if ternary_matvec is not None:
            assert np.array_equal(y, ternary_matvec(scen.x[None, :], scen.codes)[0]), \
                f"{scen.name}: y differs from workbench.reference.ternary_matvec"
        cls = sc.act_class(scen.x)
        for t in (-1, 0, 1):
            present = np.bincount(cls[(scen.codes == t).any(axis=0)], minlength=6)
            COVERAGE[t + 1] += present
    # cycles: every issue cycle and the total equal the model
    model_issue = [s.issue for s in timing.schedule]
    assert len(res["issue"]) == len(model_issue), f"{scen.name}: {len(res['issue'])} commands issued"
    for i, (got, want) in enumerate(zip(res["issue"], model_issue)):
        assert got == want, (f"{scen.name}: command {i} ({timing.schedule[i].command}) issued at cycle "
                             f"{got}, model says {want}")
    total = res["total"]
    assert total == timing.total_cycles, f"{scen.name}: RTL {total} cycles, model {timing.total_cycles}"
    dut._log.info(f"{scen.name}: {len(words)} commands, {total} cycles == model; "
                  f"utilization {timing.utilization:.3f}")


@cocotb.test()
async def directed_corners(dut):
    """x = -128 with w = -1, rows of all +1 / all -1 at the largest K, zero weights, ragged shapes."""
    _start_clock(dut)
    for scen in sc.corner_scenarios(PARAMS):
        await run_scenario(dut, scen)


@cocotb.test()
async def random_matvecs(dut):
    _start_clock(dut)
    rng = np.random.default_rng(SEED)
    for i in range(N_RANDOM):
        await run_scenario(dut, sc.random_matvec(PARAMS, rng, name=f"random_matvec{i}"))


@cocotb.test()
async def random_command_streams(dut):
    _start_clock(dut)
    rng = np.random.default_rng(SEED + 1)
    for i in range(N_RANDOM):
        await run_scenario(dut, sc.random_stream_scenario(PARAMS, rng, n=40, name=f"random_stream{i}"))


@cocotb.test()
async def coverage_closed(dut):
    """Every weight (-1, 0, +1) x activation (-128, -1, 0, +1, 127) bin was multiplied at least once."""
    _start_clock(dut)
    rng = np.random.default_rng(SEED + 2)
    k = sc.max_k(PARAMS)
    codes = np.tile(np.array([-1, 0, 1], dtype=np.int8), (PARAMS.rows, -(-k // 3)))[:, :k]
    x = np.resize(np.array([-128, -1, 0, 1, 127], dtype=np.int8), k)
    rng.shuffle(x)
    await run_scenario(dut, sc.matvec_scenario(PARAMS, codes, x, name="coverage_fill"))
    dut._log.info("coverage weight x activation class:\n" + str(COVERAGE))
    assert (COVERAGE[:, :5] > 0).all(), f"coverage holes:\n{COVERAGE}"
