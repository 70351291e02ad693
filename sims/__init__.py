"""cocotb testbenches of the NPU RTL and their runner (Icarus by default, Verilator optional).

`sims.runner.run_cocotb(params, ...)` generates Verilog from `rtl`, builds it under
``sims/build/`` and runs `sims.tb_npu` (scoreboard against `isa_models.npu`: integers and cycles).
"""

__all__ = ["runner", "scenarios", "tb_npu"]
