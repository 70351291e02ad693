"""isa_models.core: the ISA-independent engine layer (imports nothing else of the project).

Program IR and builder (`program`), ISA descriptions (`isa`), register liveness (`liveness`),
the functional executor (`execute`), machine descriptions (`machine`), timing engines with
bounds and the memory model (`timing`) and report views (`views`). See DESIGN.md §3.
"""

from isa_models.core.execute import ExecutionError, execute
from isa_models.core.isa import ISA, InstrDef, OperandSpec
from isa_models.core.machine import Machine, MachineError, load_machine, machine_names
from isa_models.core.program import Program, ProgramError
from isa_models.core.builder import ProgramBuilder

__all__ = ["ISA", "InstrDef", "OperandSpec", "Program", "ProgramBuilder", "ProgramError", "execute",
           "ExecutionError", "Machine", "MachineError", "load_machine", "machine_names"]
