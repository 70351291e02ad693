"""Packets of a VLIW core: formed greedily from a Program's instructions and checked against the machine.

Engine layer, between the Program IR (`program.py`) and the VLIW timing engine, the builder's
stated packets (``with b.packet():``) and the packet assembly renderer (`kernels.codegen`). A
packet is a group of instructions that issue together: each takes one of its class's slot
alternatives and, per resource requirement, one alternative set of units
(``machine.vliw_class(sched_class)``, the ``[vliw]`` machine section), with no slot or unit used
twice. Inside a packet every read sees the registers as they were before the packet, so a consumer
never shares a packet with its producer, except through the forwarding forms an instruction's
``attrs["forwarding"]`` names. `check_packet` reports why a group is not a packet in the words
llvm-mc uses; `form_packets` packs one straight-line block in order; `packetize` a whole body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence, Union

from isa_models.core.isa import ISA, InstrDef
from isa_models.core.program import Instr, Loop, Mem, Node, ProgramError, VReg

__all__ = ["Packet", "LoopPackets", "PacketError", "check_packet", "form_packets", "packetize",
           "assign_packet", "FORWARDING", "SLOT_ERROR", "OUT_OF_SLOTS", "INVALID_PACKET", "MODIFIED_TWICE",
           "NO_PRODUCER", "DEPENDENCY", "FORWARD_ONLY"]

#: ``attrs["forwarding"]`` values: how an instruction passes a value inside its packet.
#: "cur": its result (output 0) is also readable by later instructions of its own packet (and
#: written to the register); "tmp": its result is readable ONLY inside its own packet (the register
#: keeps its old value), so every reader must share the packet; "new": its register input is the
#: value an earlier instruction of the same packet produces (a new-value store).
FORWARDING = ("cur", "tmp", "new")

# Reasons, as llvm-mc words them (HexagonMCChecker / HexagonShuffler), then the workbench's own.
MODIFIED_TWICE = "modified more than once"
NO_PRODUCER = "new value register consumer has no producer"
OUT_OF_SLOTS = "invalid instruction packet: out of slots"
INVALID_PACKET = "invalid instruction packet"
SLOT_ERROR = "invalid instruction packet: slot error"
DEPENDENCY = "reads a value written in the same packet"
FORWARD_ONLY = "forwarded value read outside its packet"


class PacketError(ProgramError):
    """Why a group of instructions is not a packet.

    Attributes
    ----------
    reason : one of `MODIFIED_TWICE`, `NO_PRODUCER`, `OUT_OF_SLOTS`, `INVALID_PACKET`, `SLOT_ERROR`
        (llvm-mc's words for the same packet) or the workbench's `DEPENDENCY` / `FORWARD_ONLY`
        (packets llvm-mc assembles but whose packet semantics differ from program order).
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Packet:
    """One packet: its instructions in program order and the slots and units each takes.

    Attributes
    ----------
    instrs : the instructions.
    slots : per instruction, the slots it occupies (one slot alternative of its class).
    units : per instruction, the units it holds (one alternative per resource requirement).
    stated : the kernel stated this packet (``with b.packet():``); else the packetizer formed it.
    """

    instrs: tuple[Instr, ...]
    slots: tuple[frozenset[int], ...]
    units: tuple[frozenset[str], ...]
    stated: bool = False

    def __len__(self) -> int:
        return len(self.instrs)

    def __iter__(self):
        return iter(self.instrs)

    def used_units(self) -> frozenset[str]:
        """Every unit the packet holds."""
        return frozenset().union(*self.units) if self.units else frozenset()

    def used_slots(self) -> frozenset[int]:
        return frozenset().union(*self.slots) if self.slots else frozenset()


@dataclass(frozen=True)
class LoopPackets:
    """A loop of a packetized body: the loop and its body as packets and nested loops."""

    loop: Loop
    items: tuple[Union[Packet, "LoopPackets"], ...]

    def packets(self) -> list[Packet]:
        """The packets directly in this loop's body (not those of nested loops)."""
        return [p for p in self.items if isinstance(p, Packet)]


# --------------------------------------------------------------------------------------------
# Slots and units


def _forwarding(d: InstrDef) -> str | None:
    kind = d.attrs.get("forwarding")
    if kind is not None and kind not in FORWARDING:
        raise ValueError(f"instruction {d.name!r}: attrs['forwarding'] = {kind!r}, not one of {FORWARDING}")
    return kind


def _options(cls) -> list[tuple[frozenset[int], frozenset[str]]]:
    """Every (slots, units) choice of one class: a slot alternative times one alternative per
    resource requirement whose units do not overlap."""
    choices = [frozenset()]
    for requirement in cls.resources:
        choices = [u | alt for u in choices for alt in requirement if not u & alt]
    slots = sorted(cls.slots, key=lambda s: (-max(s), len(s)))   # highest slot first, as LLVM fills
    return [(s, u) for s in slots for u in choices]


def assign_packet(classes: Sequence, *, slots: int | None = None
                  ) -> tuple[tuple[frozenset[int], ...], tuple[frozenset[str], ...]] | None:
    """Slots and units for instructions of `classes` (`VliwClass`-like: ``.slots``,
    ``.resources``) issued together, or None when no assignment exists. `slots` bounds the slot
    numbers (the machine's slot count)."""
    options = [[o for o in _options(c) if slots is None or max(o[0]) < slots] for c in classes]
    order = sorted(range(len(classes)), key=lambda k: len(options[k]))    # most constrained first
    chosen: list = [None] * len(classes)

    def place(i: int, used_slots: frozenset, used_units: frozenset) -> bool:
        if i == len(order):
            return True
        k = order[i]
        for s, u in options[k]:
            if not s & used_slots and not u & used_units:
                chosen[k] = (s, u)
                if place(i + 1, used_slots | s, used_units | u):
                    return True
        return False

    if not place(0, frozenset(), frozenset()):
        return None
    return tuple(c[0] for c in chosen), tuple(c[1] for c in chosen)


# --------------------------------------------------------------------------------------------
# The check


def _regs(ops) -> list[VReg]:
    return [x for x in ops if isinstance(x, VReg)]


def _describe(ins: Instr) -> str:
    return f"{ins.op} ({ins})"


def check_packet(instrs: Sequence[Instr], machine=None, *, isa: ISA) -> PacketError | None:
    """Why `instrs` (in program order) cannot issue as one packet on `machine`, or None.

    The checks run in llvm-mc's order, with its words: a register written twice
    (`MODIFIED_TWICE`), a new-value store without its producer in the packet (`NO_PRODUCER`),
    more instructions than slots (`OUT_OF_SLOTS`), memory operations that cannot issue together
    (`INVALID_PACKET`: one vector load and one vector store per packet), then slots and units
    (`SLOT_ERROR`). Last the workbench's own rule: an instruction reading a register an earlier
    one of the packet writes sees the old value in a packet, so that is refused (`DEPENDENCY`)
    unless the producer forwards ("cur"/"tmp") or the reader is a "new" store. With
    `machine=None` only the machine-independent checks run (registers and forwarding).
    """
    defs = [isa[ins.op] for ins in instrs]
    written: dict[VReg, int] = {}
    for k, ins in enumerate(instrs):
        for r in _regs(ins.outs):
            if r in written:
                return PacketError(MODIFIED_TWICE, f"register `{r}' modified more than once: "
                                                   f"{_describe(instrs[written[r]])} and {_describe(ins)}")
            written[r] = k
    for k, (ins, d) in enumerate(zip(instrs, defs)):
        if _forwarding(d) == "new" and not any(written.get(r, k) < k for r in _regs(ins.ins)):
            return PacketError(NO_PRODUCER, f"{_describe(ins)}: new value register consumer has no producer "
                                            f"in its packet")
    if machine is not None:
        if len(instrs) > machine.slots:
            return PacketError(OUT_OF_SLOTS, f"invalid instruction packet: out of slots ({len(instrs)} "
                                             f"instructions, {machine.slots} slots)")
        classes = [machine.vliw_class(d.sched_class) for d in defs]
        memory = [k for k, d in enumerate(defs) if d.loads or d.stores]
        for kind in ("loads", "stores"):
            group = [k for k in memory if getattr(defs[k], kind)]
            if len(group) > 1 and assign_packet([classes[k] for k in group], slots=machine.slots) is None:
                names = ", ".join(instrs[k].op for k in group)
                return PacketError(INVALID_PACKET, f"invalid instruction packet: {len(group)} memory {kind} "
                                                   f"that cannot issue together ({names})")
        if assign_packet(classes, slots=machine.slots) is None:
            names = ", ".join(ins.op for ins in instrs)
            return PacketError(SLOT_ERROR, f"invalid instruction packet: slot error (no slots and units "
                                           f"for {names} together)")
    for k, (ins, d) in enumerate(zip(instrs, defs)):
        if _forwarding(d) == "new":
            continue
        for r in _regs(ins.ins):
            p = written.get(r, k)
            if p < k and _forwarding(defs[p]) not in ("cur", "tmp"):
                return PacketError(DEPENDENCY, f"{_describe(ins)} reads {r}, written in the same packet by "
                                               f"{_describe(instrs[p])}: a packet reads the values from "
                                               f"before it (only .cur/.tmp loads and .new stores forward)")
    mem_written = {x.buffer: k for k, ins in enumerate(instrs) for x in ins.outs if isinstance(x, Mem)}
    for k, ins in enumerate(instrs):
        for x in ins.ins:
            if isinstance(x, Mem) and mem_written.get(x.buffer, k) < k:
                return PacketError(DEPENDENCY, f"{_describe(ins)} reads buffer {x.buffer}, stored to earlier "
                                               f"in the same packet")
    return None


# --------------------------------------------------------------------------------------------
# Forming packets


def _packet(instrs: Sequence[Instr], machine, isa: ISA, *, stated: bool) -> Packet:
    classes = [machine.vliw_class(isa[i.op].sched_class) for i in instrs]
    got = assign_packet(classes, slots=machine.slots)
    assert got is not None, "a checked packet has an assignment"
    return Packet(tuple(instrs), got[0], got[1], stated)


def _runs(instrs: Sequence[Instr]) -> list[tuple[bool, list[Instr]]]:
    """Consecutive stated packets (same ``Instr.packet``) and runs of free instructions."""
    runs: list[tuple[bool, list[Instr]]] = []
    for ins in instrs:
        key = ins.packet
        if runs and key is not None and runs[-1][0] and runs[-1][1][-1].packet == key:
            runs[-1][1].append(ins)
        elif runs and key is None and not runs[-1][0]:
            runs[-1][1].append(ins)
        else:
            runs.append((key is not None, [ins]))
    return runs


def form_packets(instrs: Sequence[Instr], machine, *, isa: ISA) -> list[Packet]:
    """Packets for one straight-line block (a loop body without nested loops, or code between loops).

    Stated packets (consecutive instructions with one ``Instr.packet`` id) are checked with
    `check_packet` and kept as given. The other instructions are packed greedily in program
    order: each joins the open packet when `check_packet` accepts the packet with it, else it
    opens the next one. A "tmp" load and its readers, and a "new" store and its producer, must
    share a packet: when one does not fit, the open packet is closed before the forwarding
    producer and the group starts a packet of its own.

    Raises
    ------
    PacketError
        a stated packet `check_packet` refuses; a forwarding pair that fits no packet; a "tmp"
        value read outside its packet.
    """
    packets: list[Packet] = []
    for stated, run in _runs(instrs):
        if stated:
            err = check_packet(run, machine, isa=isa)
            if err is not None:
                raise PacketError(err.reason, f"stated packet {{{'; '.join(map(str, run))}}}: {err}")
            packets.append(_packet(run, machine, isa, stated=True))
        else:
            packets += [_packet(g, machine, isa, stated=False) for g in _greedy(run, machine, isa)]
    _check_forward_only(packets, isa)
    return packets


def _greedy(run: list[Instr], machine, isa: ISA) -> list[list[Instr]]:
    groups: list[list[Instr]] = []
    cur: list[int] = []
    defs = [isa[i.op] for i in run]
    readers: dict[int, list[int]] = {}        # position of a "tmp" load -> positions of its readers
    for k, d in enumerate(defs):
        if _forwarding(d) == "tmp":
            out = _regs(run[k].outs)
            readers[k] = [j for j in range(k + 1, len(run)) if out and out[0] in _regs(run[j].ins)]
    producer: dict[int, int] = {}             # position of a "new" store -> its producer's position
    for k, d in enumerate(defs):
        if _forwarding(d) == "new":
            src = _regs(run[k].ins)
            for j in range(k - 1, -1, -1):
                if src and src[0] in _regs(run[j].outs):
                    producer[k] = j
                    break
    k = 0
    while k < len(run):
        trial = [run[j] for j in cur] + [run[k]]
        if check_packet(trial, machine, isa=isa) is None:
            cur.append(k)
            k += 1
            continue
        anchors = [j for j in cur if any(r >= k for r in readers.get(j, ()))]
        if k in producer and producer[k] in cur:
            anchors.append(producer[k])
        if anchors:
            anchor = min(anchors)
            if anchor == cur[0]:
                raise PacketError(SLOT_ERROR, f"{_describe(run[anchor])} and {_describe(run[k])} must share "
                                              f"a packet (forwarding) and do not fit one: "
                                              f"{check_packet(trial, machine, isa=isa)}")
            groups.append([run[j] for j in cur if j < anchor])
            cur, k = [], anchor
            continue
        if not cur:
            raise check_packet([run[k]], machine, isa=isa) or PacketError(
                SLOT_ERROR, f"{_describe(run[k])} cannot form a packet")
        groups.append([run[j] for j in cur])
        cur = []
    if cur:
        groups.append([run[j] for j in cur])
    return groups


def _check_forward_only(packets: list[Packet], isa: ISA) -> None:
    """A "tmp" value is read only inside its packet."""
    home: dict[VReg, int] = {}
    for p, packet in enumerate(packets):
        for ins in packet.instrs:
            for r in _regs(ins.ins):
                if r in home and home[r] != p:
                    raise PacketError(FORWARD_ONLY, f"{_describe(ins)} reads {r}, a .tmp value of an earlier "
                                                    f"packet (it lives only inside its own packet)")
        for ins in packet.instrs:
            d = isa[ins.op]
            for r in _regs(ins.outs):
                if _forwarding(d) == "tmp":
                    home[r] = p
                else:
                    home.pop(r, None)


def packetize(body: Iterable[Node], machine, *, isa: ISA) -> tuple[Union[Packet, LoopPackets], ...]:
    """A body of instructions and loops as packets: each straight-line block through
    `form_packets`, each loop as a `LoopPackets` of its own body."""
    items: list[Union[Packet, LoopPackets]] = []
    block: list[Instr] = []
    for node in body:
        if isinstance(node, Loop):
            items += form_packets(block, machine, isa=isa)
            block = []
            items.append(LoopPackets(node, packetize(node.body, machine, isa=isa)))
        else:
            block.append(node)
    items += form_packets(block, machine, isa=isa)
    return tuple(items)
