"""The Program builder: writes `isa_models.core.program` Programs with Python syntax.

Engine layer. `ProgramBuilder(isa, name)` opens buffers, loops (``with b.loop("m", M, parallel=True)
as m:``) and virtual registers; every instruction of the ISA is a method returning its output
registers; ``with b.packet():`` states that the instructions inside issue as one packet on a VLIW
core (checked here for what needs no machine, by the packetizer against the machine when timed:
`isa_models.core.packets`); `build()` checks the loop nest and the peak live registers per register file
(`isa_models.core.liveness`) and returns the frozen `Program`.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from isa_models.core.isa import ISA, InstrDef
from isa_models.core.liveness import check_parallel_loops, peak_live
from isa_models.core.packets import PacketError, check_packet
from isa_models.core.program import (Buffer, Imm, Index, Instr, Loop, Mem, Node, Operand, Program,
                                     ProgramError, VReg)

__all__ = ["ProgramBuilder"]

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
        self._packet: int | None = None
        self._packets = 0

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
        if self._packet is not None:
            raise ProgramError(f"program {self.name}: loop {index!r} inside a stated packet")
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

    @contextlib.contextmanager
    def packet(self) -> Iterator[None]:
        """State that the instructions emitted inside issue together as one packet.

        On leaving, the packet is checked for what needs no machine (a register written twice, a
        value read in the packet that writes it without forwarding, a new-value store without its
        producer: `packets.check_packet` with no machine); slots and units are checked against
        the machine when the Program is timed (`packets.form_packets`).

        Raises
        ------
        ProgramError
            a packet inside a packet; `packets.PacketError` for a packet that breaks a rule.
        """
        if self._packet is not None:
            raise ProgramError(f"program {self.name}: a packet inside a packet")
        self._packets += 1
        self._packet = self._packets
        start = len(self._stack[-1])
        try:
            yield
        finally:
            self._packet = None
        group = self._stack[-1][start:]
        err = check_packet(group, None, isa=self.isa)
        if err is not None:
            raise PacketError(err.reason, f"program {self.name}: stated packet "
                                          f"{{{'; '.join(map(str, group))}}}: {err}")

    def emit(self, op: str, *operands, out: VReg | tuple[VReg, ...] | None = None, comment: str = ""):
        """Append instruction `op`. Register outputs are fresh unless `out` names one (accumulators).

        `operands` are the inputs in ISA order, except that a memory destination (store) comes
        first. `out` is one register (output 0) or a tuple (outputs 0, 1, ...: an accumulating
        register pair, whose tied input ``tied[j]`` must be ``out[j]``). Returns the output
        register (or a tuple of them), or None for stores.
        """
        d: InstrDef = self.isa[op] if op in self.isa else self._unknown(op)
        operands = list(operands)
        given = () if out is None else tuple(out) if isinstance(out, tuple) else (out,)
        outs: list[Operand] = []
        for spec in d.outs:
            if spec.is_mem:
                if not operands or not isinstance(operands[0], Mem):
                    raise ProgramError(f"{op}: first operand must be the memory destination")
                outs.append(self._check_mem(op, operands.pop(0)))
            elif len(outs) < len(given):
                reg_ = given[len(outs)]
                if not isinstance(reg_, VReg) or reg_.cls != spec.kind:
                    kind = f" is {reg_.cls}," if isinstance(reg_, VReg) else ""
                    raise ProgramError(f"{op}: out= register {reg_}{kind} not a {spec.kind} register")
                outs.append(reg_)
            else:
                outs.append(self.reg(spec.kind))
        if len(operands) != len(d.ins):
            raise ProgramError(f"{op}: expected {len(d.ins)} input operands, got {len(operands)}")
        ins: list[Operand] = []
        for pos, (spec, x) in enumerate(zip(d.ins, operands)):
            ins.append(self._check_operand(op, pos, spec, x))
        for j, t in enumerate(d.tied):
            if j >= len(given) or ins[t] != given[j]:
                raise ProgramError(f"{op}: input {t} is tied to destination {j}; pass out= the same "
                                   f"register as input {t}")
        self._stack[-1].append(Instr(op, tuple(outs), tuple(ins), comment, self._packet))
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
        if len(self._stack) != 1:
            raise ProgramError(f"program {self.name}: build() inside an open loop")
        if self._packet is not None:
            raise ProgramError(f"program {self.name}: build() inside an open packet")
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
