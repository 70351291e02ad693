"""The buffers a runner is given and returns, and their comparison with the functional run.

Codegen runners (`kernels.codegen.run`). `prepare_buffers` checks a caller's buffers against the
Program's declarations exactly as the functional executor does (unknown names, sizes, missing
inputs, all UserErrors naming the buffer) and returns 64-byte-aligned zero-initialised copies in
declaration order; `functional_mismatches` names the buffers whose bytes differ from the
functional run (`isa_models.core.execute.execute`) on the same inputs.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from isa_models.core.execute import execute
from isa_models.core.program import Program
from workbench.errors import UserError

__all__ = ["aligned", "prepare_buffers", "functional_mismatches"]


def aligned(size: int, alignment: int = 64) -> np.ndarray:
    """A zeroed uint8 array of `size` bytes starting on a cache-line boundary (no split loads)."""
    raw = np.zeros(size + alignment, np.uint8)
    start = (-raw.ctypes.data) % alignment
    return raw[start:start + size]


def prepare_buffers(program: Program, buffers: Mapping[str, np.ndarray], *, who: str = "native"
                    ) -> dict[str, np.ndarray]:
    """Aligned copies of every buffer of `program`, in declaration order, from `buffers`.

    Given buffers are copied byte for byte (any dtype, C order); output and scratch buffers not
    given start zeroed. `who` prefixes the messages.

    Raises
    ------
    UserError : an unknown buffer name, a given buffer of the wrong byte size, or an input or
        const buffer not given.
    """
    unknown = sorted(set(buffers) - set(program.buffers))
    if unknown:
        raise UserError(f"{who}: program {program.name!r} has no buffer {unknown[0]!r}; declared: "
                        f"{', '.join(program.buffers)}")
    arrays: dict[str, np.ndarray] = {}
    for name, buf in program.buffers.items():
        if name in buffers:
            given = np.asarray(buffers[name])
            if given.nbytes != buf.size:
                raise UserError(f"{who}: buffer {name!r} of program {program.name!r} has {given.nbytes} bytes, "
                                f"expected {buf.size}")
            arrays[name] = aligned(buf.size)
            arrays[name][:] = np.ascontiguousarray(given).view(np.uint8).reshape(-1)
        elif buf.role in ("output", "scratch"):
            arrays[name] = aligned(buf.size)
        else:
            raise UserError(f"{who}: {buf.role} buffer {name!r} of program {program.name!r} was not given")
    return arrays


def functional_mismatches(program: Program, buffers: Mapping[str, np.ndarray],
                          got: Mapping[str, np.ndarray]) -> list[str]:
    """Names of the buffers whose bytes in `got` (a runner's result on `buffers`) differ from the
    functional run of `program` on the same `buffers`; empty when every buffer is equal."""
    want = execute(program, buffers)
    return [name for name, value in want.items()
            if name not in got or not np.array_equal(np.asarray(got[name]).view(np.uint8).reshape(-1),
                                                     np.asarray(value).view(np.uint8).reshape(-1))]
