"""Codegen targets: one module per target, each holding everything that target knows.

Plug-in layer of `kernels.codegen` (DESIGN.md §8). A module ``targets/<name>.py`` that defines
``TARGET`` (a `Target`) is a target; other modules here are its helpers (``x86_tsc``, the x86
clock). A target carries its C prelude and the C type of each register file, its compilers and
flags, how to tell whether this host runs its code (and otherwise the emulator command prefix
that does), its assembly operand syntax and its clock. The generic emitter, build and runners
(`c_emit`, `build`, `run`) take a `Target` and name nothing target-specific. `target_for_isa`
finds an ISA's target through its plug-in's ``codegen_target`` (`isa_models.registry`).
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from dataclasses import dataclass, field
from typing import Callable, Mapping

from isa_models.registry import get_isa
from kernels.codegen import host
from kernels.codegen.timing import Clock
from workbench.errors import UnknownNameError, UserError

__all__ = ["Target", "target_names", "get_target", "target_for_isa", "resolve_target"]


@dataclass(frozen=True)
class Target:
    """One code-generation target: an ISA as C for one toolchain and one kind of host.

    Attributes
    ----------
    name : the module name under ``kernels/codegen/targets/`` ("x86_avx2").
    isa : the ISA whose Programs it emits ("avx2").
    description : one line for listings.
    c_prelude : C emitted once at the top of every file (includes, the macros the ISA's ``c``
        templates use).
    c_types : register-file name -> C type of a virtual register of that file.
    compilers : compilers that build for it, the default first.
    measurement_compilers : preference order for code whose cycles are compared with a model
        (`Target.measurement_compiler` takes the first on PATH).
    base_flags : compiler flags of every build (optimisation level, the base ISA).
    extension_flags : feature name (an instruction's ``attrs["requires"]``, as cpuinfo spells
        it) -> the compiler flag that enables it.
    host_arches : `platform.machine` values of hosts that run its code natively.
    host_flags : CPU features (cpuinfo names) every program of this target needs natively.
    emulator : the command prefix that runs its executables on a host that cannot (e.g.
        ``("qemu-aarch64", "-L", "/usr/aarch64-linux-gnu")``), or None.
    asm_operand : ``(OperandSpec, value) -> str``: one operand in the target's assembly syntax
        (registers given as numbers, memory operands as address strings, immediates as ints).
    asm_comment : the assembly line-comment leader (loop markers are comments).
    branch_prefixes : mnemonic prefixes of branches (the end of an extracted loop), matched
        against the mnemonic followed by a space: ``"b "`` is exactly ``b``, ``"b."`` any ``b.<cond>``.
    clock : how native code is timed, or None when the target cannot be timed natively.
    compiler_flags : compiler name -> flags only that compiler takes (after `base_flags`).
    runtime : for a freestanding target (no C library on the target), the C text a standalone
        executable is built with instead of the hosted headers: the entry point, system calls
        and the C library subset the standalone ``main`` uses (`kernels.codegen.run.standalone`);
        None for a hosted target.
    packet_asm : for a VLIW target whose assembly is the workbench's own packets rather than a
        compiler's output, the `kernels.codegen.packet_asm.PacketSyntax` that spells them
        (`emit_asm` then renders the packets the machine's packetizer forms); None otherwise.
    """

    name: str
    isa: str
    description: str
    c_prelude: str = field(repr=False)
    c_types: Mapping[str, str]
    compilers: tuple[str, ...]
    measurement_compilers: tuple[str, ...]
    base_flags: tuple[str, ...]
    extension_flags: Mapping[str, str]
    host_arches: tuple[str, ...]
    host_flags: tuple[str, ...]
    asm_operand: Callable[[object, object], str]
    emulator: tuple[str, ...] | None = None
    asm_comment: str = "#"
    branch_prefixes: tuple[str, ...] = ()
    clock: Clock | None = field(default=None, compare=False, repr=False)
    packet_asm: object | None = field(default=None, compare=False, repr=False)
    runtime: str | None = field(default=None, repr=False)
    compiler_flags: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def flags_for(self, required=(), compiler: str | None = None) -> tuple[str, ...]:
        """Compiler flags for a program needing the features `required` (cpuinfo names), built
        by `compiler` (default: the target's first).

        The flags are `base_flags`, then `compiler_flags[compiler]` (options only one compiler
        takes, e.g. a cross clang's ``--target``), then one flag per feature. A feature flag
        of the form ``+name`` is an architecture-extension suffix: it is appended to the
        ``-march=`` flag among the base flags (``-march=armv8.2-a+dotprod+i8mm``).
        """
        compiler = compiler or self.compilers[0]
        flags = list(self.base_flags) + list(self.compiler_flags.get(compiler, ()))
        for feature in required:
            if feature not in self.extension_flags:
                raise UserError(f"codegen target {self.name}: no compiler flag known for CPU feature "
                                f"{feature!r}; known: {', '.join(self.extension_flags)}")
            flag = self.extension_flags[feature]
            if flag.startswith("+"):
                at = max((k for k, f in enumerate(flags) if f.startswith("-march=")), default=None)
                if at is None:
                    raise ValueError(f"codegen target {self.name}: extension {flag} needs a -march= base flag")
                if flag[1:] not in flags[at].split("+")[1:]:
                    flags[at] += flag
            elif flag not in flags:
                flags.append(flag)
        return tuple(flags)

    def measurement_compiler(self) -> str:
        """The compiler for code whose cycles are compared with a model: the first of
        `measurement_compilers` on PATH, else the default compiler."""
        for compiler in self.measurement_compilers:
            if shutil.which(compiler):
                return compiler
        return self.compilers[0]

    def c_type(self, register_file: str) -> str:
        """The C type of a virtual register of `register_file`."""
        try:
            return self.c_types[register_file]
        except KeyError:
            raise UserError(f"codegen target {self.name}: no C type for register file {register_file!r}; "
                            f"known: {', '.join(self.c_types)}") from None

    def native_problem(self, required=()) -> str | None:
        """Why this host cannot run the target's code needing `required` natively, or None."""
        arch = host.host_arch()
        if arch not in self.host_arches:
            return (f"codegen target {self.name} runs on {'/'.join(self.host_arches)} hosts, this one is "
                    f"{arch or 'unknown'} ({host.describe_host()})")
        missing = host.missing_cpu_flags((*self.host_flags, *required))
        if missing:
            return f"this CPU, {host.describe_host()}, lacks {', '.join(missing)} (codegen target {self.name})"
        return None

    def run_prefix(self, required=()) -> tuple[str, ...]:
        """The command prefix that runs this target's executables here: () natively, else the
        emulator's. A host that neither runs it nor has an emulator for it is a UserError."""
        problem = self.native_problem(required)
        if problem is None:
            return ()
        if self.emulator is None:
            raise UserError(f"{problem}, and the target names no emulator")
        return tuple(self.emulator)


def _modules() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.ispkg)


def _load(name: str) -> Target | None:
    target = getattr(importlib.import_module(f"{__name__}.{name}"), "TARGET", None)
    return target if isinstance(target, Target) else None


def target_names() -> list[str]:
    """Names of every target module (those defining ``TARGET``), sorted."""
    return [name for name in _modules() if _load(name) is not None]


def get_target(name: str) -> Target:
    """The target `name`; an unknown name raises UnknownNameError listing the valid ones."""
    target = _load(name) if isinstance(name, str) and name in _modules() else None
    if target is None:
        raise UnknownNameError(f"unknown codegen target {name!r}; valid: {', '.join(target_names())}")
    return target


def target_for_isa(isa: str) -> Target:
    """The target that emits ISA `isa`'s Programs: its plug-in's ``codegen_target``
    (`isa_models.registry`), else the target module whose ``isa`` it is (an ISA registered by a
    test, or a plug-in that names none). No target for the ISA is an UnknownNameError listing
    the targets."""
    try:
        named = get_isa(isa).codegen_target
    except UnknownNameError:
        named = None
    if named is not None:
        return get_target(named)
    for name in target_names():
        target = get_target(name)
        if target.isa == isa:
            return target
    listing = ", ".join(f"{n} (ISA {get_target(n).isa})" for n in target_names())
    raise UnknownNameError(f"no codegen target emits ISA {isa!r}; targets: {listing}")


def resolve_target(target: "Target | str | None", isa: str) -> Target:
    """`target` as a `Target`: a Target as is, a name through `get_target`, None as `isa`'s
    target (`target_for_isa`). A target of another ISA than `isa` is a UserError."""
    if target is None:
        return target_for_isa(isa)
    resolved = get_target(target) if isinstance(target, str) else target
    if resolved.isa != isa:
        raise UserError(f"codegen target {resolved.name} emits ISA {resolved.isa}, not {isa}")
    return resolved
