"""Amaranth-simulator unit tests of the NPU RTL components (no external tools)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from amaranth.sim import Simulator

from isa_models.npu import load_npu_machine, lower, matvec_inputs, matvec_program, run_commands, time_lowered
from isa_models.npu.encoding import pack_words
from rtl.accumulator import AccumulatorBanks
from rtl.adder_tree import AdderTree
from rtl.buffers import WordBuffer
from rtl.decoder import TritDecoder
from rtl.mac_array import MacArray
from rtl.pe import TernaryPE
from rtl.top import NpuTop

TINY = load_npu_machine("tiny")


def _comb(dut, bench):
    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()


def _clocked(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def test_pe_all_weights_and_activations():
    dut = TernaryPE()

    async def bench(ctx):
        for w, x in itertools.product((-1, 0, 1), range(-128, 128)):
            ctx.set(dut.w, w)
            ctx.set(dut.x, x)
            assert ctx.get(dut.term) == w * x, (w, x)   # includes -(-128) = +128
    _comb(dut, bench)


@pytest.mark.parametrize("encoding", ["2bit", "base3"])
def test_decoder_matches_model_tables(encoding):
    rng = np.random.default_rng(5)
    trits, nbytes = 37, 10
    dut = TritDecoder(encoding=encoding, trits=trits, word_bytes=nbytes)
    words = rng.integers(-1, 2, size=(40, trits)).astype(np.int8)
    words[0] = -1
    words[1] = 1
    packed = pack_words(words, encoding=encoding, word_bytes=nbytes)

    async def bench(ctx):
        for t, b in zip(words, packed):
            ctx.set(dut.word, int.from_bytes(b.tobytes(), "little"))
            assert list(ctx.get(dut.trits)) == [int(v) for v in t]
    _comb(dut, bench)


def test_decoder_invalid_codes_decode_to_zero():
    dut = TritDecoder(encoding="base3", trits=5, word_bytes=1)

    async def bench(ctx):
        for b in (243, 250, 255):
            ctx.set(dut.word, b)
            assert list(ctx.get(dut.trits)) == [0] * 5
    _comb(dut, bench)


def test_adder_tree_extremes_and_random():
    dut = AdderTree(n=7, width=9)
    assert dut.out_width == 12
    rng = np.random.default_rng(1)
    cases = [[128] * 7, [-128] * 7, [255] * 7, [-256] * 7] + rng.integers(-256, 256, (50, 7)).tolist()

    async def bench(ctx):
        for terms in cases:
            ctx.set(dut.terms, terms)
            assert ctx.get(dut.total) == sum(terms)
    _comb(dut, bench)


def test_mac_array_row_sums():
    p = dataclasses.replace(TINY, weight_encoding="base3")
    dut = MacArray(p)
    rng = np.random.default_rng(2)

    async def bench(ctx):
        for _ in range(20):
            t = rng.integers(-1, 2, size=(p.rows, p.cols)).astype(np.int8)
            x = rng.choice(np.array([-128, -1, 0, 1, 127, 5], dtype=np.int8), size=p.cols)
            word = pack_words(t.reshape(-1), encoding=p.weight_encoding, word_bytes=p.w_word_bytes)
            ctx.set(dut.w_word, int.from_bytes(word.tobytes(), "little"))
            ctx.set(dut.acts, [int(v) for v in x])
            want = t.astype(np.int64) @ x.astype(np.int64)
            assert list(ctx.get(dut.sums)) == want.tolist()
    _comb(dut, bench)


def test_accumulator_clear_accumulate_wrap():
    dut = AccumulatorBanks(rows=2, acc_bits=12, banks=2, sum_width=10)

    async def bench(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.bank, 1)
        ctx.set(dut.clear, 1)
        ctx.set(dut.sums, [500, -500])
        await ctx.tick()
        ctx.set(dut.clear, 0)
        for _ in range(4):                      # 500 * 5 = 2500 wraps in 12 bits to 2500 - 4096
            await ctx.tick()
        ctx.set(dut.en, 0)
        ctx.set(dut.read_bank, 1)
        await ctx.tick()
        assert list(ctx.get(dut.read)) == [2500 - 4096, -2500 + 4096]
        ctx.set(dut.read_bank, 0)
        assert list(ctx.get(dut.read)) == [0, 0]
    _clocked(dut, bench)


def test_word_buffer_write_then_sync_read():
    dut = WordBuffer(word_bits=16, depth=8)

    async def bench(ctx):
        for a in range(8):
            ctx.set(dut.w_en, 1)
            ctx.set(dut.w_addr, a)
            ctx.set(dut.w_data, 1000 + a)
            await ctx.tick()
        ctx.set(dut.w_en, 0)
        for a in (3, 7, 0):
            ctx.set(dut.r_addr, a)
            await ctx.tick()                    # synchronous read: data one cycle after the address
            assert ctx.get(dut.r_data) == 1000 + a
    _clocked(dut, bench)


def test_controller_runs_matvec_cycle_exact_in_pysim():
    """NpuTop on Amaranth's simulator: y and every issue cycle equal the model (tiny machine)."""
    p = TINY
    rng = np.random.default_rng(3)
    m, k = 6, 40
    codes = rng.integers(-1, 2, size=(m, k)).astype(np.int8)
    x = rng.integers(-128, 128, size=k).astype(np.int8)
    lowered = lower(matvec_program(p, m, k))
    inputs = matvec_inputs(p, codes, x)
    timing = time_lowered(lowered)
    expected = run_commands(lowered, inputs)
    dram = np.zeros(lowered.dram_bytes, dtype=np.uint8)
    for name, arr in inputs.items():
        dram[lowered.dram_base[name]:lowered.dram_base[name] + arr.size] = arr
    words = lowered.words()
    dut = NpuTop(p)
    bus = p.dma_bytes_per_cycle
    issued = []

    async def bench(ctx):
        ctx.set(dut.dma_req.ready, 1)
        ctx.set(dut.wb.ready, 1)
        beats, nxt, cycle = [], 0, 0
        while nxt < len(words) or ctx.get(dut.busy) or beats:
            ctx.set(dut.cmd.valid, nxt < len(words))
            ctx.set(dut.cmd.payload.as_value(), words[nxt] if nxt < len(words) else 0)
            due = bool(beats) and beats[0][0] == cycle
            ctx.set(dut.dma_rsp.valid, due)
            ctx.set(dut.dma_rsp.payload, beats[0][1] if due else 0)
            if nxt < len(words) and ctx.get(dut.cmd.ready):
                issued.append(cycle)
                nxt += 1
            if ctx.get(dut.dma_req.valid):
                addr, n = ctx.get(dut.dma_req.payload.addr), ctx.get(dut.dma_req.payload.beats)
                beats += [(cycle + p.dma_latency_cycles + i,
                           int.from_bytes(dram[addr + i * bus:addr + (i + 1) * bus].tobytes(), "little"))
                          for i in range(n)]
            if due:
                beats.pop(0)
            if ctx.get(dut.wb.valid):
                addr, val = ctx.get(dut.wb.payload.addr), ctx.get(dut.wb.payload.data)
                dram[addr:addr + bus] = np.frombuffer(val.to_bytes(bus, "little"), dtype=np.uint8)
            await ctx.tick()
            cycle += 1
            assert cycle < timing.total_cycles + 100, (issued, [s.issue for s in timing.schedule])

    _clocked(dut, bench)
    y = dram[lowered.dram_base["y"]:lowered.dram_base["y"] + 4 * m].view(np.int32)
    assert np.array_equal(y, codes.astype(np.int64) @ x.astype(np.int64))
    assert np.array_equal(dram[lowered.dram_base["y"]:][:expected["y"].size], expected["y"])
    assert issued == [s.issue for s in timing.schedule]
