"""NPU-style ternary MAC array: parameters, command set (an ISA on the Program IR), cycle model.

`load_npu_machine` -> `NpuParams`; `npu_isa(params)` the command set; `NpuBuilder` /
`matvec_program` write Programs; `lower` gives the command stream the RTL runs; `run_commands`
(or the core executor) runs it functionally; `time_lowered` is the cycle model. docs/npu.md.
"""

from isa_models.npu.commands import Command, LoweredProgram, LoweringError, decode, encode, lower, run_commands
from isa_models.npu.encoding import EncodingError, pack_matrix_tiles, pack_words, unpack_words
from isa_models.npu.isa import NpuISA, npu_isa
from isa_models.npu.params import NpuMachineError, NpuParams, load_npu_machine, npu_machine_names
from isa_models.npu.programs import NpuBuilder, matvec_inputs, matvec_output, matvec_program
from isa_models.npu.timing import NpuTiming, schedule, time_commands, time_lowered

__all__ = ["Command", "LoweredProgram", "LoweringError", "decode", "encode", "lower", "run_commands",
           "EncodingError", "pack_matrix_tiles", "pack_words", "unpack_words", "NpuISA", "npu_isa",
           "NpuMachineError", "NpuParams", "load_npu_machine", "npu_machine_names", "NpuBuilder",
           "matvec_inputs", "matvec_output", "matvec_program", "NpuTiming", "schedule",
           "time_commands", "time_lowered"]
