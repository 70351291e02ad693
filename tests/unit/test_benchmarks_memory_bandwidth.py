"""benchmarks/probes/x86/memory_bandwidth.py: the stream Program reads every byte once per pass (its sums equal
numpy's, wrapping like vpaddb), one size lands inside each level of the machine plus DRAM, and a
size the loop cannot cover is named."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from benchmark_scripts import benchmark_script

from isa_models.core.execute import execute
from isa_models.core.machine import load_machine


@pytest.fixture(scope="module")
def script():
    with benchmark_script("probes/x86/memory_bandwidth") as module:
        yield module


def test_stream_reads_every_byte_once_per_pass(script):
    size, repeats = 1024, 3
    data = np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8)
    out = np.asarray(execute(script.stream_program(size, repeats), {"buf": data})["out"]).view(np.uint8)
    lanes = data.reshape(-1, 4, 32).astype(np.int64).sum(axis=0).reshape(-1)     # chain i reads bytes 32i.. of each 128
    assert np.array_equal(out, ((lanes * repeats) % 256).astype(np.uint8))


def test_sizes_sit_inside_each_level_and_beyond(script):
    machine = load_machine("graniterapids", isa="avx2")
    sizes = script.sizes_for(machine)
    assert [label for label, _ in sizes] == [lv.name for lv in machine.memory] + ["DRAM"]
    for (label, size), level in zip(sizes, machine.memory):
        assert size % 128 == 0 and 0 < size < level.size_bytes
    assert sizes[-1][1] > 8 * machine.memory[-1].size_bytes


def test_bad_size_is_named(script):
    with pytest.raises(ValueError, match="size 100 must be a positive multiple of 128"):
        script.stream_program(100, 1)
