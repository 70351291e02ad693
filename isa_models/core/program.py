"""The Program IR: one kernel as a small structured loop nest of one ISA's instructions.

Engine layer. A `Program` is what a kernel builder produces and what the functional executor
(`isa_models.core.execute`), the timing engines (`isa_models.core.timing`) and the C/asm emitters
(`kernels.codegen`) all consume (DESIGN.md §3). It holds:

- buffers: named byte regions with a size and a role (input, output, scratch, const);
- memory operands: a buffer plus an affine byte offset in the enclosing loop indices;
- a body of `Instr` and `Loop` nodes; a parallel loop has independent iterations (output tiles);
- virtual registers typed by the ISA's register files.

`isa_models.core.builder.ProgramBuilder` writes Programs with Python syntax: loop indices are symbols that combine into
affine offsets, buffers are indexed with them, and every ISA instruction is a method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, Union

from isa_models.core.isa import ISA

from workbench.errors import UserError

__all__ = ["Affine", "Index", "Buffer", "Mem", "VReg", "Imm", "Instr", "Loop", "Program",
           "ProgramError", "Node", "Operand"]


class ProgramError(UserError):
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
        """``%v12``, or ``%v12.acc`` when named: virtual, never an architectural register name."""
        return f"%v{self.id}" + (f".{self.name}" if self.name else "")


@dataclass(frozen=True)
class Imm:
    value: int

    def __str__(self) -> str:
        return f"${self.value}"


Operand = Union[VReg, Mem, Imm]


@dataclass(frozen=True)
class Instr:
    """One instruction: `op` names an `InstrDef` of the program's ISA.

    `packet` is the id of the packet a kernel stated for it (``with b.packet():``; consecutive
    instructions with one id form the packet), or None: a VLIW packetizer places it
    (`isa_models.core.packets`). Engines without packets ignore it.
    """

    op: str
    outs: tuple[Operand, ...]
    ins: tuple[Operand, ...]
    comment: str = ""
    packet: int | None = None

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
            open_packet = None
            for node in nodes:
                pad = "  " * depth
                stated = node.packet if isinstance(node, Instr) else None
                if open_packet is not None and stated != open_packet:
                    lines.append(f"{pad}}}")
                if stated is not None and stated != open_packet:
                    lines.append(f"{pad}{{")
                open_packet = stated
                if stated is not None:
                    pad += "  "
                if isinstance(node, Loop):
                    kind = "parallel for" if node.parallel else "for"
                    lines.append(f"{pad}{kind} {node.index} in 0..{node.trip}:")
                    rec(node.body, depth + 1)
                else:
                    lines.append(f"{pad}{node}")
            if open_packet is not None:
                lines.append(f"{'  ' * depth}}}")
        rec(self.body, 1)
        return "\n".join(lines)

