"""Machine descriptions: the TOML schema, its validating loader and the `Machine` records.

Engine layer (DESIGN.md §3, §8). A machine file `isa_models/machines/<isa>/<name>.toml` holds the
facts a timing engine needs and nothing else: a common part (clock, cores, the ISA extensions of
the core, memory levels and DRAM, optional host match) and one engine section named by its kind
(``[ooo]``, ``[inorder]``, ``[mac_array]``, ``[vliw]``). Every table carries a `source` and may override it per
key in a `sources` table, so each value has a provenance (`Machine.source_of`). Unknown or missing
keys are errors naming file and key. Modules: `tables` (errors, the provenance reader), `schema`
(common part, engine dispatch, `Machine`), `cpu`, `mac_array` and `vliw` (engine sections), `extensions`
(the program check), `loader` (names, paths, `load_machine`). The schema is documented in
isa_models/machines/README.md.
"""

from isa_models.core.machine.cpu import ClassTiming, CpuCore, IssueCap
from isa_models.core.machine.extensions import check_program, missing_extensions
from isa_models.core.machine.loader import MACHINES_DIR, load_machine, machine_names
from isa_models.core.machine.mac_array import MacArray
from isa_models.core.machine.schema import (ENGINE_SECTIONS, EngineSection, HostMatch, Machine, MemoryLevel,
                                            engine_kinds, machine_from_dict)
from isa_models.core.machine.tables import MachineError, MissingExtensionError, UnknownMachineError
from isa_models.core.machine.vliw import VliwClass, VliwCore

__all__ = ["Machine", "MachineError", "UnknownMachineError", "MissingExtensionError", "load_machine",
           "machine_names", "machine_from_dict", "ClassTiming", "IssueCap", "CpuCore", "MacArray",
           "MemoryLevel", "HostMatch", "MACHINES_DIR", "EngineSection", "ENGINE_SECTIONS", "engine_kinds",
           "missing_extensions", "check_program", "VliwClass", "VliwCore"]
