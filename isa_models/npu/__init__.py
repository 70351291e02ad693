"""NPU-style ternary MAC array: parameters, command set (an ISA on the Program IR), cycle model.

`load_npu_machine` -> `NpuParams`; `npu_isa(params)` the command set; `NpuBuilder` /
`matvec_program` write Programs; `lower` gives the command stream the RTL runs; `run_commands`
(or the core executor) runs it functionally; `time_lowered` is the cycle model. docs/npu.md.
"""

from isa_models.npu.commands import Command, LoweredProgram, LoweringError, decode, encode, lower, run_commands
from isa_models.npu.encoding import EncodingError, pack_matrix_tiles, pack_words, unpack_words
from isa_models.npu.isa import NpuISA, npu_isa
from isa_models.npu.params import NpuParams, load_npu_machine, npu_machine_names
from isa_models.npu.programs import NpuBuilder, matvec_inputs, matvec_output, matvec_program
from isa_models.npu.timing import NpuTiming, schedule, time_commands, time_lowered

__all__ = ["Command", "LoweredProgram", "LoweringError", "decode", "encode", "lower", "run_commands",
           "EncodingError", "pack_matrix_tiles", "pack_words", "unpack_words", "NpuISA", "npu_isa",
           "NpuParams", "load_npu_machine", "npu_machine_names", "NpuBuilder",
           "matvec_inputs", "matvec_output", "matvec_program", "NpuTiming", "schedule",
           "time_commands", "time_lowered"]

from isa_models.registry import IsaPlugin  # noqa: E402


def _isa_for(machine) -> NpuISA:
    """The command set sized by an NPU machine (a loaded machine or its NpuParams)."""
    params = machine if isinstance(machine, NpuParams) else NpuParams.from_machine(machine)
    return npu_isa(params)


#: The ISA as the layers above the engines see it (`isa_models.registry`).
PLUGIN = IsaPlugin(
    name="npu",
    description="NPU-style ternary MAC array: DMA, MAC and write-back commands (docs/npu.md)",
    # edge16: the mid-sized array of docs/npu.md §5 (tiny is a verification configuration)
    default_machine="edge16",
    kernel_preference=("npu_gemm",),
    isa_for=_isa_for,
    crosschecks=("rtl",),
    rtl_params=NpuParams.from_machine,
)
__all__ += ["PLUGIN"]
