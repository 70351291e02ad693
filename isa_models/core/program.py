"""The Program IR: one kernel as a small structured loop nest of one ISA's instructions.

Engine layer. A `Program` is what a kernel builder produces and what the functional executor
(`isa_models.core.execute`), the timing engines (`isa_models.core.timing`) and the C/asm emitters
(`kernels.codegen`) all consume (DESIGN.md §3). It holds:

- buffers: named byte regions with a size and a role (input, output, scratch, const);
- memory operands: a buffer plus an affine byte offset in the enclosing loop indices;
- a body of `Instr` and `Loop` nodes; a parallel loop has independent iterations (output tiles);
- virtual registers typed by the ISA's register files.

`ProgramBuilder` writes Programs with Python syntax: loop indices are symbols that combine into
affine offsets, buffers are indexed with them, and every ISA instruction is a method.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator, Mapping, Union

from isa_models.core.isa import ISA, InstrDef

__all__ = ["Affine", "Index", "Buffer", "Mem", "VReg", "Imm", "Instr", "Loop", "Program",
           "ProgramBuilder", "ProgramError", "Node", "Operand"]


class ProgramError(ValueError):
    """A malformed program (wrong operand, unknown buffer, too many live registers...)."""


# --------------------------------------------------------------------------------------------
# Affine offsets


@dataclass(frozen=True)
class Affine:
    """``const + sum(coeff * index)`` in bytes; indices are loop-index names."""

    const: int = 0
    terms: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def of(x: "AffineLike") -> "Affine":
        if isinstance(x, Affine):
            return x
        if isinstance(x, Index):
            return Affine(0, ((x.name, 1),))
        if isinstance(x, int) and not isinstance(x, bool):
            return Affine(int(x))
        raise ProgramError(f"not an affine offset: {x!r}")

    def _combine(self, other: "AffineLike", sign: int) -> "Affine":
        o = Affine.of(other)
        coeffs = dict(self.terms)
        for name, c in o.terms:
            coeffs[name] = coeffs.get(name, 0) + sign * c
        return Affine(self.const + sign * o.const,
                      tuple(sorted((n, c) for n, c in coeffs.items() if c)))

    def __add__(self, other: "AffineLike") -> "Affine":
        return self._combine(other, 1)

    __radd__ = __add__

    def __sub__(self, other: "AffineLike") -> "Affine":
        return self._combine(other, -1)

    def __rsub__(self, other: "AffineLike") -> "Affine":
        return Affine.of(other)._combine(self, -1)

    def __mul__(self, k: int) -> "Affine":
        if not isinstance(k, int):
            raise ProgramError(f"affine offsets scale by integers only, got {k!r}")
        return Affine(self.const * k, tuple((n, c * k) for n, c in self.terms if c * k))

    __rmul__ = __mul__

    @property
    def indices(self) -> frozenset[str]:
        return frozenset(n for n, _ in self.terms)

    def evaluate(self, env: Mapping[str, object]):
        """Value for index values in `env` (ints or numpy arrays, broadcasting)."""
        value = self.const
        for name, c in self.terms:
            value = value + c * env[name]
        return value

    def bounds(self, trips: Mapping[str, int]) -> tuple[int, int]:
        """Smallest and largest value over all index values ``0..trips[name]-1``."""
        lo = hi = self.const
        for name, c in self.terms:
            extreme = c * (trips[name] - 1)
            lo += min(0, extreme)
            hi += max(0, extreme)
        return lo, hi

    def __str__(self) -> str:
        parts = [f"{c}*{n}" if c != 1 else n for n, c in self.terms]
        if self.const or not parts:
            parts.append(str(self.const))
        return " + ".join(parts)


@dataclass(frozen=True)
class Index:
    """A loop index as a symbol (what ``with b.loop(...) as i`` yields)."""

    name: str

    def __add__(self, o): return Affine.of(self) + o
    __radd__ = __add__
    def __sub__(self, o): return Affine.of(self) - o
    def __rsub__(self, o): return Affine.of(o) - Affine.of(self)
    def __mul__(self, k): return Affine.of(self) * k
    __rmul__ = __mul__


AffineLike = Union[Affine, Index, int]


# --------------------------------------------------------------------------------------------
# Operands and nodes


@dataclass(frozen=True)
class Buffer:
    """A named byte region. role: "input", "output", "scratch" or "const"."""

    name: str
    size: int
    role: str = "input"

    def __getitem__(self, offset: AffineLike) -> "Mem":
        return Mem(self.name, Affine.of(offset))

    def at(self, offset: AffineLike) -> "Mem":
        return self[offset]


@dataclass(frozen=True)
class Mem:
    """Memory operand: buffer name plus affine byte offset (width comes from the instruction)."""

    buffer: str
    offset: Affine

    def __add__(self, k: AffineLike) -> "Mem":
        return Mem(self.buffer, self.offset + k)

    def __str__(self) -> str:
        return f"{self.buffer}[{self.offset}]"


@dataclass(frozen=True)
class VReg:
    """A virtual register of one register file."""

    id: int
    cls: str
    name: str = ""

    def __str__(self) -> str:
        return f"%{self.name or self.cls}{self.id}"


@dataclass(frozen=True)
class Imm:
    value: int

    def __str__(self) -> str:
        return f"${self.value}"


Operand = Union[VReg, Mem, Imm]


@dataclass(frozen=True)
class Instr:
    """One instruction: `op` names an `InstrDef` of the program's ISA."""

    op: str
    outs: tuple[Operand, ...]
    ins: tuple[Operand, ...]
    comment: str = ""

    def __str__(self) -> str:
        outs = ", ".join(map(str, self.outs))
        ins = ", ".join(map(str, self.ins))
        text = f"{outs} = {self.op} {ins}" if outs else f"{self.op} {ins}"
        return f"{text}    # {self.comment}" if self.comment else text


@dataclass
class Loop:
    """A counted loop ``for index in range(trip)``; parallel iterations are independent."""

    index: str
    trip: int
    body: list["Node"] = field(default_factory=list)
    parallel: bool = False


Node = Union[Instr, Loop]


@dataclass
class Program:
    """A kernel for one ISA. `meta` carries kernel parameters (shape, format, tile sizes)."""

    name: str
    isa: ISA
    buffers: dict[str, Buffer]
    body: list[Node]
    meta: dict = field(default_factory=dict)
    peak_live: dict[str, int] = field(default_factory=dict)
    """Peak simultaneously live virtual registers per register file (set by the builder)."""

    def walk(self) -> Iterator[tuple[tuple[Loop, ...], Node]]:
        """Every node with the loops that enclose it (outermost first), in program order."""
        def rec(nodes, stack):
            for node in nodes:
                yield stack, node
                if isinstance(node, Loop):
                    yield from rec(node.body, stack + (node,))
        yield from rec(self.body, ())

    def instructions(self) -> Iterator[tuple[tuple[Loop, ...], Instr]]:
        for stack, node in self.walk():
            if isinstance(node, Instr):
                yield stack, node

    def dynamic_count(self) -> int:
        """Number of instructions executed (all loop trips multiplied out)."""
        total = 0
        for stack, ins in self.instructions():
            n = 1
            for loop in stack:
                n *= loop.trip
            total += n
        return total

    def to_text(self) -> str:
        lines = [f"program {self.name} ({self.isa.name})"]
        for b in self.buffers.values():
            lines.append(f"  buffer {b.name}: {b.size} bytes ({b.role})")

        def rec(nodes, depth):
            for node in nodes:
                pad = "  " * depth
                if isinstance(node, Loop):
                    kind = "parallel for" if node.parallel else "for"
                    lines.append(f"{pad}{kind} {node.index} in 0..{node.trip}:")
                    rec(node.body, depth + 1)
                else:
                    lines.append(f"{pad}{node}")
        rec(self.body, 1)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Builder


class ProgramBuilder:
    """Builds a `Program` for one ISA.

    Example
    -------
    >>> b = ProgramBuilder(avx2.ISA, "copy")                      # doctest: +SKIP
    >>> src = b.buffer("src", 1024); dst = b.buffer("dst", 1024, role="output")
    >>> with b.loop("i", 32, parallel=True) as i:
    ...     v = b.vmovdqu_load_ymm(src[i * 32])
    ...     b.vmovdqu_store_ymm(dst[i * 32], v)
    >>> prog = b.build()
    """

    def __init__(self, isa: ISA, name: str, **meta):
        self.isa = isa
        self.name = name
        self.meta = dict(meta)
        self.buffers: dict[str, Buffer] = {}
        self._stack: list[list[Node]] = [[]]
        self._loops: list[Loop] = []
        self._next_reg = 0

    # buffers and registers -----------------------------------------------------------------
    def buffer(self, name: str, size: int, *, role: str = "input") -> Buffer:
        if name in self.buffers:
            raise ProgramError(f"program {self.name}: buffer {name!r} declared twice")
        if role not in ("input", "output", "scratch", "const"):
            raise ProgramError(f"program {self.name}: buffer {name!r} has unknown role {role!r}")
        if not isinstance(size, int) or size <= 0:
            raise ProgramError(f"program {self.name}: buffer {name!r} needs a positive size, got {size!r}")
        buf = Buffer(name, size, role)
        self.buffers[name] = buf
        return buf

    def reg(self, cls: str, name: str = "") -> VReg:
        if cls not in self.isa.register_files:
            raise ProgramError(f"ISA {self.isa.name} has no register file {cls!r}; valid: "
                               f"{', '.join(self.isa.register_files)}")
        self._next_reg += 1
        return VReg(self._next_reg, cls, name)

    # structure ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def loop(self, index: str, trip: int, *, parallel: bool = False) -> Iterator[Index]:
        if not isinstance(trip, int) or trip <= 0:
            raise ProgramError(f"program {self.name}: loop {index!r} needs a positive trip count, got {trip!r}")
        if any(lp.index == index for lp in self._loops):
            raise ProgramError(f"program {self.name}: loop index {index!r} already in use")
        if parallel and any(not lp.parallel for lp in self._loops):
            raise ProgramError(f"program {self.name}: parallel loop {index!r} inside a sequential loop")
        node = Loop(index, trip, [], parallel)
        self._stack[-1].append(node)
        self._stack.append(node.body)
        self._loops.append(node)
        try:
            yield Index(index)
        finally:
            self._stack.pop()
            self._loops.pop()

    def emit(self, op: str, *operands, out: VReg | None = None, comment: str = ""):
        """Append instruction `op`. Register outputs are fresh unless `out` names one (accumulators).

        `operands` are the inputs in ISA order, except that a memory destination (store) comes
        first. Returns the output register (or a tuple of them), or None for stores.
        """
        d: InstrDef = self.isa[op] if op in self.isa else self._unknown(op)
        operands = list(operands)
        outs: list[Operand] = []
        for spec in d.outs:
            if spec.is_mem:
                if not operands or not isinstance(operands[0], Mem):
                    raise ProgramError(f"{op}: first operand must be the memory destination")
                outs.append(self._check_mem(op, operands.pop(0)))
            elif out is not None and not outs:
                if out.cls != spec.kind:
                    raise ProgramError(f"{op}: out= register {out} is {out.cls}, needs {spec.kind}")
                outs.append(out)
            else:
                outs.append(self.reg(spec.kind))
        if len(operands) != len(d.ins):
            raise ProgramError(f"{op}: expected {len(d.ins)} input operands, got {len(operands)}")
        ins: list[Operand] = []
        for pos, (spec, x) in enumerate(zip(d.ins, operands)):
            ins.append(self._check_operand(op, pos, spec, x))
        for t in d.tied:
            if out is None or ins[t] != out:
                raise ProgramError(f"{op}: input {t} is tied to the destination; pass out= the same "
                                   f"register as input {t}")
        self._stack[-1].append(Instr(op, tuple(outs), tuple(ins), comment))
        regs = [o for o in outs if isinstance(o, VReg)]
        return None if not regs else regs[0] if len(regs) == 1 else tuple(regs)

    def __getattr__(self, op: str):
        if op.startswith("_"):
            raise AttributeError(op)
        if op not in self.isa:
            self._unknown(op)
        return lambda *operands, **kw: self.emit(op, *operands, **kw)

    def build(self) -> Program:
        """Finish the program: checks parallel loops and the peak live registers per file.

        Raises
        ------
        ProgramError
            inside an open loop; a parallel loop carrying a register across iterations; more
            simultaneously live registers of a file than the ISA has (names program, file, peak
            and limit).
        """
        from isa_models.core.liveness import check_parallel_loops, peak_live

        if len(self._stack) != 1:
            raise ProgramError(f"program {self.name}: build() inside an open loop")
        body = self._stack[0]
        check_parallel_loops(self.name, body)
        peaks = peak_live(body, tuple(self.isa.register_files))
        for cls, peak in peaks.items():
            limit = self.isa.register_files[cls][0]
            if peak > limit:
                raise ProgramError(f"program {self.name}: {peak} {cls} registers live at once, "
                                   f"the ISA {self.isa.name} has {limit}")
        return Program(self.name, self.isa, dict(self.buffers), body, dict(self.meta),
                       peak_live=peaks)

    # checks ---------------------------------------------------------------------------------
    def _unknown(self, op: str):
        close = sorted(n for n in self.isa.instructions if n.split("_")[0] == op.split("_")[0])
        hint = f"; forms of {op.split('_')[0]}: {', '.join(close)}" if close else ""
        raise ProgramError(f"ISA {self.isa.name} has no instruction {op!r}{hint}")

    def _check_mem(self, op: str, m: Mem) -> Mem:
        if m.buffer not in self.buffers:
            raise ProgramError(f"{op}: unknown buffer {m.buffer!r}")
        open_indices = {lp.index for lp in self._loops}
        stray = m.offset.indices - open_indices
        if stray:
            raise ProgramError(f"{op}: offset {m.offset} of {m.buffer} uses index {sorted(stray)} "
                               f"outside its loop")
        return m

    def _check_operand(self, op: str, pos: int, spec, x) -> Operand:
        if spec.is_imm:
            if isinstance(x, Imm):
                return x
            if isinstance(x, int):
                return Imm(int(x))
            raise ProgramError(f"{op}: operand {pos} must be an immediate, got {x!r}")
        if spec.is_mem:
            if not isinstance(x, Mem):
                raise ProgramError(f"{op}: operand {pos} must be memory (buffer[offset]), got {x!r}")
            return self._check_mem(op, x)
        if not isinstance(x, VReg):
            raise ProgramError(f"{op}: operand {pos} must be a {spec.kind} register, got {x!r}")
        if x.cls != spec.kind:
            raise ProgramError(f"{op}: operand {pos} is a {x.cls} register, needs {spec.kind}")
        return x
