"""cocotb on the generated NPU Verilog: integers and cycles equal the NPU model (sims/tb_npu.py)."""

from __future__ import annotations

import dataclasses

import pytest

from isa_models.npu import load_npu_machine
from sims.runner import run_cocotb, simulator_available

pytestmark = pytest.mark.rtl


@pytest.mark.slow
@pytest.mark.parametrize("sim,encoding", [("icarus", "2bit"), ("icarus", "base3"), ("verilator", "2bit")])
def test_npu_top_matches_model(sim, encoding):
    why = simulator_available(sim)
    if why:
        pytest.skip(why)
    params = dataclasses.replace(load_npu_machine("tiny"), weight_encoding=encoding)
    xml = run_cocotb(params, sim=sim, seed=1234, random_runs=3)
    assert xml.is_file()
