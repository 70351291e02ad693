"""cocotb testbenches of the NPU RTL and their runner (Icarus by default, Verilator optional).

`sims.runner.run_cocotb(params, ...)` generates Verilog from `rtl`, builds it under
``sims/build/`` and runs `sims.tb_npu` (scoreboard against `isa_models.npu`: integers and cycles).
`sims.player` is the one stream player both the testbench and the CLI co-simulation
(`sims.cosim`, behind `simulate --rtl`) use, and `sims.runner.build_and_test` the one build-and-run path.
"""

__all__ = ["cosim", "player", "runner", "scenarios", "tb_npu"]
