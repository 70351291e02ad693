"""The in-process runner: a Program's emitted C as a shared library called through ctypes.

Codegen runner (`kernels.codegen.run`). `InProcessKernel(program)` emits the C for the Program's
target (`c_emit.emit_c`), compiles it with the target's compiler and flags into a cached ``.so``
(`build.compile_shared`) and calls the kernel function on aligned copies of the caller's buffers:
buffers in, every buffer out, as `isa_models.core.execute.execute` returns them. It refuses a
host that cannot run the code natively (`Target.native_problem`: an illegal instruction would
kill this process); `kernels.codegen.native.NativeKernel` adds the target's clock on top of it.
"""

from __future__ import annotations

import ctypes
from typing import Mapping

import numpy as np

from isa_models.core.program import Program
from kernels.codegen.build import compile_shared
from kernels.codegen.c_emit import emit_c, function_name, program_requirements
from kernels.codegen.run.buffers import functional_mismatches, prepare_buffers
from kernels.codegen.targets import Target, resolve_target
from workbench.errors import UserError

__all__ = ["InProcessKernel", "run_inprocess"]


class InProcessKernel:
    """A Program compiled into a shared library loaded into this process.

    Parameters
    ----------
    program : the Program.
    target : a `Target` or its name (default: the target of the Program's ISA).
    compiler : the compiler (default: the target's first).
    extra_source : C appended after the kernel function (e.g. a timing wrapper calling it).

    Attributes
    ----------
    program, target, compiler, flags (the compiler flags used), source (the compiled C),
    library_path (the cached ``.so``), library (the loaded `ctypes.CDLL`).

    Raises
    ------
    UserError : this host cannot run the target's code or lacks a feature the program needs
        (`Target.native_problem`), the compiler is not on PATH, or a needed feature has no flag.
    BuildError : the compiler rejects the emitted C.
    """

    def __init__(self, program: Program, *, target: Target | str | None = None, compiler: str | None = None,
                 extra_source: str = ""):
        self.program = program
        self.target = resolve_target(target, program.isa.name)
        self.compiler = compiler or self.target.compilers[0]
        required = program_requirements(program)
        self.flags = self.target.flags_for(required, self.compiler)
        problem = self.target.native_problem(required)
        if problem is not None:
            raise UserError(f"native: program {program.name!r} cannot run in this process: {problem}")
        self.source = emit_c(program, target=self.target) + extra_source
        self.library_path = compile_shared(self.source, flags=self.flags, compiler=self.compiler)
        self.library = ctypes.CDLL(str(self.library_path))
        self._kernel = self.function(function_name(program), [ctypes.c_void_p] * len(program.buffers))

    def function(self, name: str, argtypes, restype=None):
        """The library's C function `name` with its ctypes signature set."""
        fn = getattr(self.library, name)
        fn.argtypes = list(argtypes)
        fn.restype = restype
        return fn

    def prepare(self, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Aligned copies of every buffer (`run.buffers.prepare_buffers`)."""
        return prepare_buffers(self.program, buffers)

    def __call__(self, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run once on copies of `buffers` (name -> bytes); return every buffer afterwards (uint8).

        Output and scratch buffers that are not given start zeroed.
        """
        arrays = self.prepare(buffers)
        self._kernel(*[a.ctypes.data for a in arrays.values()])
        return arrays

    def equals_functional(self, buffers: Mapping[str, np.ndarray]) -> bool:
        """Whether one run leaves every buffer equal, byte for byte, to the functional run
        (`isa_models.core.execute`) on the same `buffers`."""
        return not functional_mismatches(self.program, buffers, self(buffers))


def run_inprocess(program: Program, buffers: Mapping[str, np.ndarray], *, target: Target | str | None = None,
                  compiler: str | None = None) -> dict[str, np.ndarray]:
    """Compile `program` (cached) and run it once in this process on `buffers`; every buffer
    name -> its ``uint8`` contents after the run."""
    return InProcessKernel(program, target=target, compiler=compiler)(buffers)
