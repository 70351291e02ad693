"""ISA extensions: does a machine's core have every extension a Program's instruction forms need?

Engine layer, between the machine schema and the timing entry. An instruction form names the
extensions it needs in ``attrs["requires"]`` (Linux /proc/cpuinfo flag names: the EVEX
``vpdpbusd ymm`` needs ``avx512_vnni`` and ``avx512vl``); a machine lists what its core has in
``[machine] extensions``. `time_program` refuses a Program that needs one the machine lacks
(the kernel would fault on that CPU), in one line naming machine, extensions and forms.
"""

from __future__ import annotations

from isa_models.core.machine.tables import MissingExtensionError

__all__ = ["missing_extensions", "check_program"]


def missing_extensions(machine, program) -> dict[str, tuple[str, ...]]:
    """Form name -> the extensions it requires that `machine` lacks, for every form `program` uses.

    Parameters
    ----------
    machine : a `Machine` (its `extensions`).
    program : a `Program` (its forms' ``attrs["requires"]``).
    """
    have = set(machine.extensions)
    out: dict[str, tuple[str, ...]] = {}
    for _, ins in program.instructions():
        if ins.op in out:
            continue
        lacking = tuple(f for f in program.isa[ins.op].attrs.get("requires", ()) if f not in have)
        if lacking:
            out[ins.op] = lacking
    return out


def check_program(machine, program) -> None:
    """Raise `MissingExtensionError` (a MachineError, a UserError) when `program` needs an ISA
    extension `machine` lacks: "machine alderlake-p lacks avx512_vnni, avx512vl, needed by
    vpdpbusd_ymm in program vnni2_..."."""
    missing = missing_extensions(machine, program)
    if missing:
        raise MissingExtensionError(machine.name, program.name, missing)
