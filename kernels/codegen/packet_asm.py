"""Assembly of a Program as the packets the workbench forms: registers, address streams, hardware loops.

Codegen layer (`kernels.codegen`), for targets whose assembly comes from the workbench's own
packets rather than from a compiler (`Target.packet_asm`, a `PacketSyntax`). `render_packets`
packetizes the Program for a machine (`isa_models.core.packets.packetize`), gives every virtual
register an architectural one (`allocate_registers`: linear scan over packet positions, register
pairs low-even and consecutive, a value read and a value written in one packet may share a
register since a packet reads before it writes), turns each buffer access pattern into an
address register advanced by post-increment or by an add at the end of a loop (`plan_streams`),
the innermost loops into hardware loops (and loops above the target's hardware-loop depth into
counted branches), and prints each packet with the instructions' ``asm`` templates. Everything
spelled in one ISA's syntax comes from the `PacketSyntax`; nothing here names an ISA.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from isa_models.core.asm_text import AsmTemplateError, fill_asm
from isa_models.core.packets import LoopPackets, Packet, packetize
from isa_models.core.program import Affine, Instr, Loop, Mem, Program, VReg
from workbench.errors import UserError

__all__ = ["PacketSyntax", "AsmError", "allocate_registers", "plan_streams", "render_packets", "Stream",
           "instr_text", "packet_text"]


class AsmError(UserError):
    """A Program the packet renderer cannot write (registers run out, an access it cannot address)."""


class PacketSyntax(abc.ABC):
    """What one target's packet assembly spells: registers, addressing, loops, function frame.

    Attributes
    ----------
    comment : the line-comment leader.
    registers : register file -> the architectural registers the allocator may give virtual
        registers of that file (numbers).
    address_file : the register file of addresses and loop counters.
    argument_registers : numbers of the `address_file` registers holding the function's
        arguments (one pointer per buffer, declaration order); further ones come from the stack.
    scratch_registers : numbers of `address_file` registers the renderer may take for address
        streams, trip counts and loop counters (the rest of `registers[address_file]` stays
        for the Program's own registers).
    offset_range, postinc_range : the immediate ranges, in units of the access width, of a
        base+offset and a post-increment address.
    modifier_registers : names of registers holding a post-increment stride (may be empty).
    hardware_loops : nesting levels of zero-overhead loops (innermost first).
    max_loop_immediate : the largest trip count a loop setup takes as an immediate.
    """

    comment: str = "//"
    registers: Mapping[str, tuple[int, ...]] = {}
    address_file: str = ""
    argument_registers: tuple[int, ...] = ()
    scratch_registers: tuple[int, ...] = ()
    offset_range: tuple[int, int] = (0, 0)
    postinc_range: tuple[int, int] = (0, 0)
    modifier_registers: tuple[str, ...] = ()
    hardware_loops: int = 0
    max_loop_immediate: int = 0

    @abc.abstractmethod
    def register(self, file: str, number: int) -> str:
        """The name of register `number` of `file`."""

    @abc.abstractmethod
    def operand(self, spec, value) -> str:
        """One instruction operand: a register name (`value` a name), an address, an immediate."""

    @abc.abstractmethod
    def address(self, base: str, offset: int, *, postinc: bool, modifier: str | None = None) -> str:
        """A memory address: `base` plus `offset` access widths, or post-incremented by `offset`
        (or by `modifier`'s stride)."""

    @abc.abstractmethod
    def add(self, dst: str, src: str, imm: int) -> str:
        """`dst` = `src` + `imm` (any 32-bit `imm`)."""

    @abc.abstractmethod
    def const(self, dst: str, imm: int) -> str:
        """`dst` = `imm`."""

    @abc.abstractmethod
    def set_modifier(self, modifier: str, src: str) -> str:
        """Copy the stride in `src` into `modifier`."""

    @abc.abstractmethod
    def load_argument(self, dst: str, index: int) -> str:
        """Argument `index` (beyond the argument registers) from the caller's stack."""

    @abc.abstractmethod
    def loop_setup(self, level: int, label: str, trip: int | str) -> str:
        """Start hardware loop `level` at `label` with `trip` iterations (an immediate or a register)."""

    @abc.abstractmethod
    def loop_end(self, levels: Sequence[int]) -> str:
        """The suffix after a packet that ends hardware loops `levels`."""

    @abc.abstractmethod
    def counted_branch(self, counter: str, label: str) -> list[str]:
        """One packet's instructions that decrement `counter` and branch to `label` while it was > 1."""

    @abc.abstractmethod
    def packet(self, lines: Sequence[str], suffix: str = "") -> list[str]:
        """The text lines of one packet of instruction texts `lines`."""

    def slots_taken(self, line: str) -> int:
        """Packet slots the instruction text `line` takes (an immediate extender takes one more)."""
        return 1

    @abc.abstractmethod
    def label(self, name: str) -> str:
        """A local label definition line for `name`."""

    @abc.abstractmethod
    def function(self, name: str, body: list[str], *, saved: Sequence[int]) -> list[str]:
        """The whole function: directives, the frame saving `saved` (`address_file` registers the
        body uses that the callee must preserve) and the return."""

    @abc.abstractmethod
    def callee_saved(self) -> tuple[int, ...]:
        """`address_file` registers a function must preserve."""

    def register_limits(self, d) -> dict[tuple[str, int], int]:
        """Operands of form `d` whose register number must stay below a limit (an encoding with
        a short register field): ``{("i", 2): 8}``. Default: none."""
        return {}


# --------------------------------------------------------------------------------------------
# Positions: every packet gets an index; a loop spans the packets of its body


@dataclass
class _Layout:
    packets: list[Packet] = field(default_factory=list)
    spans: list[tuple[Loop, int, int]] = field(default_factory=list)   # loop, first, last packet index


def _layout(items) -> _Layout:
    out = _Layout()

    def rec(items):
        for it in items:
            if isinstance(it, Packet):
                out.packets.append(it)
            else:
                first = len(out.packets)
                rec(it.items)
                out.spans.append((it.loop, first, len(out.packets) - 1))
    rec(items)
    return out


# --------------------------------------------------------------------------------------------
# Register allocation


def _pairs(program: Program, instrs) -> dict[VReg, VReg]:
    """low register -> high register, from the forms' ``attrs["pairs"]``."""
    high: dict[VReg, VReg] = {}
    low: dict[VReg, VReg] = {}
    for ins in instrs:
        for side, a, b in program.isa[ins.op].attrs.get("pairs", ()):
            ops = ins.outs if side == "o" else ins.ins
            lo, hi = ops[a], ops[b]
            if high.get(lo, hi) != hi or low.get(hi, lo) != lo or lo in low or hi in high:
                raise AsmError(f"program {program.name}: {lo} and {hi} form a register pair in {ins.op} but "
                               f"are paired differently elsewhere (copy one of them)")
            high[lo], low[hi] = hi, lo
    return high


def allocate_registers(program: Program, items, syntax: PacketSyntax, *,
                       reserved: Mapping[str, Sequence[int]] = {}) -> dict[VReg, int]:
    """Architectural register numbers for the Program's virtual registers over packets `items`.

    A register occupies positions 2p (read in packet p) to 2p+1 (written in packet p); a value
    read in packet p and one written there may share a register (a packet reads before it
    writes), except a forwarded write (attrs["forwarding"]), which is visible inside its packet.
    Loops stretch intervals as `isa_models.core.liveness` does (loop-carried values live across
    the whole loop, values read in a loop and written before it to its end). Pairs get an even
    low register and the next one. Raises AsmError when a register file runs out.
    """
    lay = _layout(items)
    start: dict[VReg, int] = {}
    end: dict[VReg, int] = {}
    order: list[tuple[int, VReg, str]] = []     # (position, register, "r"/"w") in program order
    for p, packet in enumerate(lay.packets):
        for ins in packet.instrs:
            for x in ins.ins:
                if isinstance(x, VReg):
                    order.append((2 * p, x, "r"))
        for ins in packet.instrs:
            fwd = program.isa[ins.op].attrs.get("forwarding") in ("cur", "tmp")
            for x in ins.outs:
                if isinstance(x, VReg):
                    order.append((2 * p + (0 if fwd else 1), x, "w"))
    for pos, r, kind in order:
        start[r] = min(start.get(r, pos), pos if kind == "w" else 0 if r not in start else pos)
        end[r] = max(end.get(r, pos), pos)
    changed = True
    while changed:
        changed = False
        for loop, first, last in lay.spans:
            lo, hi = 2 * first, 2 * last + 1
            seen: dict[VReg, str] = {}
            written: set[VReg] = set()
            for pos, r, kind in order:
                if lo <= pos <= hi:
                    seen.setdefault(r, kind)
                    if kind == "w":
                        written.add(r)
            for r, kind in seen.items():
                carried = kind == "r" and r in written
                outside = kind == "r" and start[r] < lo
                s, e = (min(start[r], lo) if carried else start[r]), (max(end[r], hi) if carried or outside else end[r])
                if (s, e) != (start[r], end[r]):
                    start[r], end[r] = s, e
                    changed = True
    limit: dict[VReg, int] = {}
    for packet in lay.packets:
        for ins in packet.instrs:
            for (kind, j), n in syntax.register_limits(program.isa[ins.op]).items():
                x = (ins.outs if kind == "o" else ins.ins)[j]
                limit[x] = min(limit.get(x, n), n)
    high = _pairs(program, [i for p in lay.packets for i in p.instrs])
    lows = set(high)
    highs = set(high.values())
    units = []
    for r in start:
        if r in highs:
            continue
        members = (r, high[r]) if r in lows else (r,)
        s = min(start[m] for m in members)
        e = max(end[m] for m in members)
        units.append((s, e, members))
    units.sort(key=lambda u: (u[0], -len(u[2]), u[2][0].id))
    free_at: dict[tuple[str, int], int] = {}   # (file, number) -> first position it is free again
    for file, numbers in reserved.items():
        for n in numbers:
            free_at[(file, n)] = 1 << 60
    out: dict[VReg, int] = {}
    for s, e, members in units:
        file = members[0].cls
        pool = syntax.registers.get(file)
        if pool is None:
            raise AsmError(f"program {program.name}: the target has no registers of file {file!r}")
        if len(members) == 2:
            picks = [(n, n + 1) for n in sorted(pool) if n % 2 == 0 and n + 1 in pool]
        else:
            picks = [(n,) for n in sorted(pool, reverse=True)]        # singles from the top: pairs stay free
        cap = min((limit[m] for m in members if m in limit), default=None)
        if cap is not None:
            picks = [p for p in picks if max(p) < cap]
        for pick in picks:
            if all(free_at.get((file, n), 0) <= s for n in pick):
                for n, m in zip(pick, members):
                    out[m] = n
                    free_at[(file, n)] = e + 1
                break
        else:
            kind = "register pair" if len(members) == 2 else "register" if cap is None else \
                f"register below {cap}"
            raise AsmError(f"program {program.name}: no free {file} {kind} for {members[0]} "
                           f"(more live {file} registers than the target has)")
    return out


# --------------------------------------------------------------------------------------------
# Address streams


@dataclass
class Stream:
    """One address register: a buffer accessed at ``base + sum(coeff * index)`` (+ small offsets).

    buffer, terms : the access pattern (the affine offset without its constant).
    base : the constant the register includes.
    register : its architectural number (set by the renderer).
    postinc : the innermost loop whose step the last access of a body post-increments, or None.
    modifier : the modifier register holding that step when it is not an immediate, or None.
    """

    buffer: str
    terms: tuple[tuple[str, int], ...]
    base: int
    width: int
    consts: set[int] = field(default_factory=set)
    register: int = -1
    postinc: str | None = None
    postinc_access: tuple[int, int] | None = None        # (packet index, instruction index)
    modifier: str | None = None

    def coeff(self, index: str) -> int:
        return dict(self.terms).get(index, 0)


def _accesses(program: Program, lay: _Layout):
    """(packet index, instruction index, operand kind, operand index, Mem, width) of every memory operand."""
    for p, packet in enumerate(lay.packets):
        for k, ins in enumerate(packet.instrs):
            d = program.isa[ins.op]
            for kind, ops, specs in (("o", ins.outs, d.outs), ("i", ins.ins, d.ins)):
                for j, (x, spec) in enumerate(zip(ops, specs)):
                    if isinstance(x, Mem):
                        yield p, k, kind, j, x, spec.width


def plan_streams(program: Program, items, syntax: PacketSyntax) -> tuple[list[Stream], dict]:
    """The address registers of the Program's memory accesses over packets `items`.

    Accesses of one buffer with one pattern of loop coefficients share a register when their
    constants differ by whole access widths within the target's offset range. In an innermost
    loop the last access of a stream post-increments it by the loop's step (an immediate in
    the post-increment range, else a modifier register while one is free); every other step
    (outer loops, the rewind after a nested loop, steps nothing post-increments) is an add at
    the end of the loop body. Returns the streams and a map (packet, instruction, kind, operand)
    -> (stream, offset in widths, post-increment?).
    """
    lay = _layout(items)
    innermost = {loop.index: (first, last) for loop, first, last in lay.spans
                 if not any(isinstance(n, Loop) for n in loop.body)}
    lo, hi = syntax.offset_range
    streams: list[Stream] = []
    where: dict = {}
    for p, k, kind, j, m, width in _accesses(program, lay):
        const = m.offset.const
        home = next((s for s in streams if s.buffer == m.buffer and s.terms == m.offset.terms and s.width == width
                     and (const - s.base) % width == 0
                     and all(lo <= (c - s.base) // width <= hi for c in (*s.consts, const))), None)
        if home is None:
            home = Stream(m.buffer, m.offset.terms, const, width)
            streams.append(home)
        home.consts.add(const)
        where[(p, k, kind, j)] = home
    modifiers = list(syntax.modifier_registers)
    strides: dict[int, str] = {}
    plo, phi = syntax.postinc_range
    for s in streams:
        keys = [key for key, st in where.items() if st is s]
        inner = [ix for ix, (first, last) in innermost.items()
                 if s.coeff(ix) and all(first <= key[0] <= last for key in keys)]
        if not inner:
            continue
        ix = inner[0]
        last_key = max(keys, key=lambda key: key[:2])
        last_const = _mem_of(lay, last_key).offset.const
        step, rem = divmod(s.coeff(ix), s.width)
        if rem or not all(lo <= (c - last_const) // s.width <= hi for c in s.consts):
            continue
        if not plo <= step <= phi:
            if step not in strides and not modifiers:
                continue
            s.modifier = strides.get(step) or modifiers.pop(0)
            strides[step] = s.modifier
        s.postinc, s.postinc_access, s.base = ix, last_key[:2], last_const
    plan = {}
    for key, s in where.items():
        const = _mem_of(lay, key).offset.const
        plan[key] = (s, (const - s.base) // s.width, s.postinc is not None and s.postinc_access == key[:2])
    return streams, plan


def _mem_of(lay: _Layout, key) -> Mem:
    p, k, kind, j = key
    ins = lay.packets[p].instrs[k]
    return (ins.outs if kind == "o" else ins.ins)[j]


# --------------------------------------------------------------------------------------------
# Rendering


def instr_text(ins: Instr, d, syntax: PacketSyntax, regs: Mapping[VReg, int], address) -> str:
    """One instruction in the target's syntax: form `d`'s ``asm`` template with registers
    `regs` (``{o0}`` the name, ``{o0n}`` the number) and ``address(kind, j)`` for memory operands
    (filled by `isa_models.core.asm_text.fill_asm`)."""
    def operand(kind: str, j: int, spec, x) -> tuple[object, object]:
        if isinstance(x, VReg):
            return syntax.operand(spec, syntax.register(x.cls, regs[x])), str(regs[x])
        if isinstance(x, Mem):
            return syntax.operand(spec, address(kind, j)), None
        return syntax.operand(spec, int(x.value)), None
    try:
        return fill_asm(d, ins.outs, ins.ins, operand)
    except AsmTemplateError as exc:
        raise AsmError(str(exc)) from None


def packet_text(instrs: Sequence[Instr], isa, syntax: PacketSyntax) -> list[str]:
    """One packet of `instrs` as text lines, each virtual register on its own architectural
    register (numbered in order of appearance, pairs low-even, limited operands low) and each
    memory operand on its own address register at offset 0: for checking single packets
    (fixtures, error messages) without a Program around them."""
    regs: dict[VReg, int] = {}
    nxt: dict[str, int] = {}
    bases = iter(syntax.scratch_registers)
    for ins in instrs:
        d = isa[ins.op]
        pairs = {(side, a): b for side, a, b in d.attrs.get("pairs", ())}
        for kind, ops in (("o", ins.outs), ("i", ins.ins)):
            for j, x in enumerate(ops):
                if not isinstance(x, VReg) or x in regs:
                    continue
                n = nxt.get(x.cls, 0)
                if (kind, j) in pairs:
                    n += n % 2
                    hi = ops[pairs[(kind, j)]]
                    regs[x], regs[hi] = n, n + 1
                    n += 2
                else:
                    regs[x] = n
                    n += 1
                nxt[x.cls] = n
    af = syntax.address_file
    lines = []
    for ins in instrs:
        names = {(kind, j): syntax.address(syntax.register(af, next(bases)), 0, postinc=False)
                 for kind, ops in (("o", ins.outs), ("i", ins.ins)) for j, x in enumerate(ops) if isinstance(x, Mem)}
        lines.append(instr_text(ins, isa[ins.op], syntax, regs, lambda kind, j: names[(kind, j)]))
    return syntax.packet(lines)


def _fill_packets(lines: Sequence[str], slots: int, taken) -> list[list[str]]:
    """`lines` in order, in packets of at most `slots` slots (``taken(line)`` each)."""
    groups: list[list[str]] = []
    used = 0
    for line in lines:
        cost = taken(line)
        if not groups or used + cost > slots:
            groups.append([])
            used = 0
        groups[-1].append(line)
        used += cost
    return groups


def _height(loop: Loop) -> int:
    kids = [n for n in loop.body if isinstance(n, Loop)]
    return 0 if not kids else 1 + max(_height(k) for k in kids)


def render_packets(program: Program, machine, syntax: PacketSyntax, *, function: str | None = None) -> str:
    """The Program as one assembly function of the packets the workbench forms on `machine`.

    The function takes one pointer per buffer (declaration order), as the C emitter's function
    does. Loops of height 0 and 1 (innermost, and loops holding only innermost loops) become the
    target's hardware loops up to its `hardware_loops`; higher loops count down a register and
    branch. Packets added for address steps of outer loops and loop setup carry a comment; the
    packets of the Program's instructions are exactly `packetize`'s.
    """
    items = packetize(program.body, machine, isa=program.isa)
    lay = _layout(items)
    af = syntax.address_file
    scratch = list(syntax.scratch_registers)
    taken: list[int] = []

    def grab(what: str) -> int:
        if not scratch:
            raise AsmError(f"program {program.name}: out of {af} registers for {what}")
        taken.append(scratch.pop(0))
        return taken[-1]

    streams, plan = plan_streams(program, items, syntax)
    for s in streams:
        s.register = grab(f"the address of buffer {s.buffer}")
    big_trips: dict[int, int] = {}
    counters: dict[int, int] = {}
    for loop, _, _ in lay.spans:
        if _height(loop) >= syntax.hardware_loops:
            counters[id(loop)] = grab(f"the counter of loop {loop.index}")
        elif loop.trip > syntax.max_loop_immediate and loop.trip not in big_trips:
            big_trips[loop.trip] = grab(f"the trip count {loop.trip}")
    strides = {s.modifier: s.coeff(s.postinc) for s in streams if s.modifier}
    stride_regs = {mod: grab(f"the stride of {mod}") for mod in strides}
    regs = allocate_registers(program, items, syntax, reserved={af: taken})
    R = lambda n: syntax.register(af, n)     # noqa: E731

    body: list[str] = [f"{syntax.comment} program {program.name} ({program.isa.name}) on {machine.name}: "
                       f"packets formed by isa_models.core.packets; setup first"]
    args = list(program.buffers)
    for s in streams:
        a = args.index(s.buffer)
        if a < len(syntax.argument_registers):
            body += syntax.packet([syntax.add(R(s.register), R(syntax.argument_registers[a]), s.base)])
        else:
            body += syntax.packet([syntax.load_argument(R(s.register), a - len(syntax.argument_registers))])
            body += syntax.packet([syntax.add(R(s.register), R(s.register), s.base)])
    for trip, n in big_trips.items():
        body += syntax.packet([syntax.const(R(n), trip)])
    for mod, stride in strides.items():
        body += syntax.packet([syntax.const(R(stride_regs[mod]), stride)])
        body += syntax.packet([syntax.set_modifier(mod, R(stride_regs[mod]))])
    counter = iter(range(1 << 30))
    pindex = {id(p): i for i, p in enumerate(lay.packets)}

    def text(p: int, k: int, ins: Instr) -> str:
        def address(kind: str, j: int) -> str:
            st, off, post = plan[(p, k, kind, j)]
            if post:
                return syntax.address(R(st.register), st.coeff(st.postinc) // st.width, postinc=True,
                                      modifier=st.modifier)
            return syntax.address(R(st.register), off, postinc=False)
        return instr_text(ins, program.isa[ins.op], syntax, regs, address)

    def steps(loop: Loop, items) -> list[str]:
        """Adds at the end of one iteration of `loop`: its own step minus the nested loops' drift,
        for streams nothing post-increments."""
        out = []
        for s in streams:
            if s.postinc == loop.index:
                continue
            delta = s.coeff(loop.index)
            for it in items:
                if isinstance(it, LoopPackets):
                    delta -= it.loop.trip * s.coeff(it.loop.index)
            if delta:
                out.append(syntax.add(R(s.register), R(s.register), delta))
        return out

    def emit(items, enclosing_ends: tuple[int, ...] = ()):
        """Write `items`; the last packet also ends the hardware loops `enclosing_ends`."""
        for n, it in enumerate(items):
            last = n == len(items) - 1
            ends = enclosing_ends if last else ()
            if isinstance(it, Packet):
                p = pindex[id(it)]
                lines = [text(p, k, ins) for k, ins in enumerate(it.instrs)]
                body.extend(syntax.packet(lines, syntax.loop_end(ends) if ends else ""))
                continue
            loop = it.loop
            label = f".Lwb_{loop.index}_{next(counter)}"
            h = _height(loop)
            adds = steps(loop, it.items)
            hw = h < syntax.hardware_loops
            if hw:
                trip = loop.trip if loop.trip <= syntax.max_loop_immediate else R(big_trips[loop.trip])
                body.extend(syntax.packet([syntax.loop_setup(h, label, trip)]))
            else:
                body.extend(syntax.packet([syntax.const(R(counters[id(loop)]), loop.trip)]))
            body.append(syntax.label(label))
            tail = _fill_packets(adds, machine.slots, syntax.slots_taken)
            if not hw:
                tail.append(syntax.counted_branch(R(counters[id(loop)]), label))
            own = ((h,) if hw else ()) + ends
            if not tail:
                emit(it.items, own)
                continue
            emit(it.items, ())
            for t, group in enumerate(tail):
                suffix = syntax.loop_end(own) if t == len(tail) - 1 and own else ""
                body.append(f"{syntax.comment} address steps / loop control of loop {loop.index}")
                body.extend(syntax.packet(group, suffix))

    emit(items)
    saved = sorted(set(syntax.callee_saved()) & ({*taken, *(regs[r] for r in regs if r.cls == af)}))
    name = function or f"wb_{''.join(c if c.isalnum() or c == '_' else '_' for c in program.name)}"
    return "\n".join(syntax.function(name, body, saved=saved)) + "\n"
