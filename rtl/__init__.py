"""Amaranth 0.5 RTL of the NPU-style ternary MAC array (docs/npu.md).

Every component is a `wiring.Component` elaborated from the same parameter record as the NPU
model (`isa_models.npu.params.NpuParams`, passed in, duck-typed: rtl imports only the
ground-truth layer). `rtl.top.NpuTop` implements the command set and the cycle rules of
`isa_models.npu.timing`; `rtl.verilog.generate` writes Verilog with the bundled Yosys.
"""

__all__ = ["decoder", "pe", "adder_tree", "accumulator", "buffers", "mac_array", "top", "verilog"]
