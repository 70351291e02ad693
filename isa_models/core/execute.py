"""Functional executor: runs a Program on numpy byte buffers, bit-exactly, vectorized over tiles.

Engine layer (DESIGN.md §3, use 1). Register values are ``uint8`` arrays shaped ``(P, nbytes)``:
parallel loops (outermost, possibly nested) become the leading axis ``P``, so each instruction's
semantics runs once per visit over all tiles; sequential loops run in Python. Affine addresses are
evaluated as index arrays, loads gather ``(P, width)`` bytes and stores scatter them. Every access
is bounds-checked. Machine data is never read here.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from isa_models.core.program import Imm, Instr, Loop, Mem, Program, VReg

from workbench.errors import UserError

__all__ = ["execute", "ExecutionError"]


class ExecutionError(UserError):
    """A program failed while running (out-of-range access, register read before written...)."""


class _Frame:
    """Index values (arrays of shape (P,) or ints) and register values for P parallel lanes."""

    def __init__(self, P: int, env: dict, regs: dict):
        self.P = P
        self.env = env
        self.regs = regs


def execute(program: Program, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run `program` functionally and return every buffer after the run.

    Parameters
    ----------
    program : the Program to run.
    buffers : buffer name -> 1-D ``uint8`` array of the declared size. Inputs and consts are
        required; outputs and scratch buffers may be omitted (they start zeroed). The arrays
        are copied, never modified.

    Returns
    -------
    dict of every buffer name -> its ``uint8`` contents after the run.

    Raises
    ------
    ExecutionError
        bad buffers; an access outside a buffer (naming the instruction, the loop index values
        of the first offending iteration, the buffer, the offset and its size); a register read
        before it was written; a semantics result of the wrong shape.
    """
    mem = _prepare_buffers(program, buffers)
    frame = _Frame(1, {}, {})
    _run(program, program.body, frame, mem)
    return mem


def _prepare_buffers(program: Program, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    unknown = sorted(set(buffers) - set(program.buffers))
    if unknown:
        raise ExecutionError(f"program {program.name}: unknown buffer(s) {', '.join(unknown)}; "
                             f"declared: {', '.join(program.buffers)}")
    mem: dict[str, np.ndarray] = {}
    for name, buf in program.buffers.items():
        if name not in buffers:
            if buf.role in ("output", "scratch"):
                mem[name] = np.zeros(buf.size, dtype=np.uint8)
                continue
            raise ExecutionError(f"program {program.name}: {buf.role} buffer {name!r} not given")
        arr = np.asarray(buffers[name])
        if arr.dtype != np.uint8:
            raise ExecutionError(f"program {program.name}: buffer {name!r} must be uint8, got {arr.dtype}")
        if arr.ndim != 1 or arr.size != buf.size:
            raise ExecutionError(f"program {program.name}: buffer {name!r} has shape {arr.shape}, "
                                 f"declared {buf.size} bytes")
        mem[name] = arr.copy()
    return mem


def _run(program: Program, nodes, frame: _Frame, mem: dict[str, np.ndarray]) -> None:
    for node in nodes:
        if isinstance(node, Loop):
            if node.parallel:
                _run_parallel(program, node, frame, mem)
            else:
                for i in range(node.trip):
                    frame.env[node.index] = i
                    _run(program, node.body, frame, mem)
                del frame.env[node.index]
        else:
            _step(program, node, frame, mem)


def _run_parallel(program: Program, loop: Loop, frame: _Frame, mem) -> None:
    """Widen the lane axis by the trip count, run the body once, keep the last iteration's registers."""
    P, T = frame.P, loop.trip
    env = {k: (np.repeat(v, T) if isinstance(v, np.ndarray) else v) for k, v in frame.env.items()}
    env[loop.index] = np.tile(np.arange(T, dtype=np.int64), P)
    regs = {r: np.repeat(v, T, axis=0) for r, v in frame.regs.items()}
    inner = _Frame(P * T, env, regs)
    _run(program, loop.body, inner, mem)
    for r, v in inner.regs.items():   # sequential semantics: the register holds the last iteration's value
        frame.regs[r] = v.reshape(P, T, -1)[:, T - 1].copy()


def _where(program: Program, ins: Instr, frame: _Frame, row: int | None) -> str:
    idx = []
    for name, v in frame.env.items():
        if isinstance(v, np.ndarray) and v.size:
            v = int(v[row]) if row is not None else f"{int(v.min())}..{int(v.max())}"   # a parallel index
        idx.append(f"{name}={v}")
    at = f" at {', '.join(idx)}" if idx else ""
    return f"program {program.name}: {ins.op} ({ins}){at}"


def _offsets(program: Program, ins: Instr, m: Mem, width: int, frame: _Frame, mem) -> np.ndarray:
    """Byte offsets (P,) of a memory operand, bounds-checked against its buffer."""
    off = m.offset.evaluate(frame.env)
    off = np.broadcast_to(np.asarray(off, dtype=np.int64), (frame.P,))
    size = mem[m.buffer].size
    bad = (off < 0) | (off + width > size)
    if bad.any():
        row = int(np.argmax(bad))
        raise ExecutionError(f"{_where(program, ins, frame, row)}: accesses {m.buffer}[{int(off[row])}.."
                             f"{int(off[row]) + width - 1}] outside buffer {m.buffer!r} of {size} bytes")
    return off


def _gather(buf: np.ndarray, off: np.ndarray, width: int) -> np.ndarray:
    if off.size > 1 and (off == off[0]).all():
        return np.broadcast_to(buf[off[0]:off[0] + width], (off.size, width)).copy()
    return buf[off[:, None] + np.arange(width)]


def _step(program: Program, ins: Instr, frame: _Frame, mem) -> None:
    d = program.isa[ins.op]
    args = []
    for spec, x in zip(d.ins, ins.ins):
        if isinstance(x, Imm):
            args.append(x.value)
        elif isinstance(x, Mem):
            off = _offsets(program, ins, x, spec.width, frame, mem)
            args.append(_gather(mem[x.buffer], off, spec.width))
        else:
            value = frame.regs.get(x)
            if value is None:
                raise ExecutionError(f"{_where(program, ins, frame, 0)}: reads register {x} before "
                                     f"any write")
            if spec.width > value.shape[1]:
                raise ExecutionError(f"{_where(program, ins, frame, 0)}: operand reads {spec.width} "
                                     f"bytes of {x}, which holds {value.shape[1]}")
            args.append(value[:, :spec.width])
    result = d.semantics(*args)
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(d.outs):
        raise ExecutionError(f"{_where(program, ins, frame, None)}: semantics returned {len(results)} "
                             f"values for {len(d.outs)} outputs")
    for spec, dst, value in zip(d.outs, ins.outs, results):
        value = np.asarray(value)
        if value.dtype != np.uint8 or value.ndim != 2 or value.shape[1] != spec.width \
                or value.shape[0] not in (1, frame.P):
            raise ExecutionError(f"{_where(program, ins, frame, None)}: semantics returned "
                                 f"{value.dtype}{list(value.shape)}, expected uint8[{frame.P}, {spec.width}]")
        if value.shape[0] != frame.P:
            value = np.broadcast_to(value, (frame.P, spec.width))
        if isinstance(dst, Mem):
            off = _offsets(program, ins, dst, spec.width, frame, mem)
            mem[dst.buffer][off[:, None] + np.arange(spec.width)] = value
        elif isinstance(dst, VReg):
            nbytes = program.isa.register_files[dst.cls][1]
            if spec.width < nbytes:      # the ISA's write policy (VEX: zero the upper bytes)
                try:
                    value = program.isa.write_register(value, frame.regs.get(dst), nbytes)
                except ValueError as exc:
                    raise ExecutionError(f"{_where(program, ins, frame, None)}: {dst}: {exc}") from None
            elif spec.width > nbytes:
                raise ExecutionError(f"{_where(program, ins, frame, None)}: writes {spec.width} bytes "
                                     f"to {dst}, which holds {nbytes}")
            frame.regs[dst] = np.ascontiguousarray(value)
