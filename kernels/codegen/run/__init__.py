"""Runners: execute a Program's emitted C and return its buffers like the functional executor.

Codegen layer (`kernels.codegen`), on top of `c_emit` and `build`. Two runners, one contract:
each takes buffer name -> bytes (inputs and consts required, outputs and scratch zeroed when not
given) and returns every buffer name -> ``uint8`` array after one run, exactly as
`isa_models.core.execute.execute` does, so `functional_mismatches` compares either with the
functional run byte for byte.

- `inprocess`: a shared library called through ctypes in this process (and timed by the
  target's clock: `kernels.codegen.native.NativeKernel`);
- `standalone`: an executable that reads its buffers from stdin or a file and writes them to
  stdout, run as a subprocess behind an optional command prefix (an emulator).
"""

from kernels.codegen.run.buffers import functional_mismatches, prepare_buffers
from kernels.codegen.run.inprocess import InProcessKernel, run_inprocess
from kernels.codegen.run.standalone import RunError, StandaloneKernel, run_standalone

__all__ = ["prepare_buffers", "functional_mismatches", "InProcessKernel", "run_inprocess", "StandaloneKernel",
           "run_standalone", "RunError"]
