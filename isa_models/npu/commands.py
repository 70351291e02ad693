"""Lowering an NPU Program to its concrete command stream, command words, and a command-level run.

Engine layer of the NPU ISA. `lower(program, params)` walks the loop nest (parallel and
sequential loops alike run in order on the one array), evaluates every affine offset, checks
that each operand names the right memory (``wsram`` / ``asram`` / ``acc`` / a DRAM buffer), is
word aligned and stays inside one bank, and returns `Command`s with hardware fields (word
addresses, bank numbers, DRAM byte addresses from `dram_layout`). `encode`/`decode` give the
command word the RTL's command stream carries; `run_commands` is the functional run at command
level (the same semantics functions as the executor path) used by the RTL scoreboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from isa_models.core.isa import InstrDef
from isa_models.core.program import Instr, Loop, Program
from isa_models.npu.isa import SRAM_BUFFERS, NpuISA
from isa_models.npu.params import OPCODES, NpuParams

__all__ = ["Command", "LoweredProgram", "LoweringError", "lower", "dram_layout", "encode", "decode",
           "run_commands", "sram_buffers"]

DRAM_ALIGN = 64


class LoweringError(ValueError):
    """A Program the array cannot run (wrong memory, misaligned, crosses a bank, ...)."""


@dataclass(frozen=True)
class Command:
    """One array command with its hardware fields and its functional operands.

    op : "dmaw", "dmaa", "macc", "maca", "wb" or "sync"; n : words (DMA, MAC), 1 for wb.
    waddr / aaddr : weight / activation SRAM word addresses; acc : accumulator bank;
    dram : DRAM byte address (DMA source, write-back target).
    wbank / abank : banks touched (derived); outs / ins : (buffer, byte offset) per operand.
    """

    op: str
    n: int = 0
    waddr: int = 0
    aaddr: int = 0
    acc: int = 0
    dram: int = 0
    wbank: int = 0
    abank: int = 0
    instr: InstrDef | None = None
    outs: tuple[tuple[str, int], ...] = ()
    ins: tuple[tuple[str, int], ...] = ()
    where: str = ""

    @property
    def unit(self) -> str:
        return {"dmaw": "dma", "dmaa": "dma", "macc": "mac", "maca": "mac", "wb": "wb",
                "sync": "sync"}[self.op]

    def fields(self) -> dict[str, int]:
        return {"op": OPCODES[self.op], "len": self.n, "waddr": self.waddr, "aaddr": self.aaddr,
                "acc": self.acc, "dram": self.dram}

    def __str__(self) -> str:
        if self.op == "dmaw":
            return f"dmaw n={self.n} wsram[{self.waddr}] <- dram[0x{self.dram:x}]"
        if self.op == "dmaa":
            return f"dmaa n={self.n} asram[{self.aaddr}] <- dram[0x{self.dram:x}]"
        if self.op in ("macc", "maca"):
            return f"{self.op} n={self.n} acc{self.acc} {'=' if self.op == 'macc' else '+='} wsram[{self.waddr}] . asram[{self.aaddr}]"
        if self.op == "wb":
            return f"wb dram[0x{self.dram:x}] <- acc{self.acc}"
        return "sync"


@dataclass(frozen=True)
class LoweredProgram:
    """The command stream of a Program plus where its DRAM buffers live."""

    program: Program
    params: NpuParams
    commands: tuple[Command, ...]
    dram_base: Mapping[str, int]
    dram_bytes: int

    def words(self) -> list[int]:
        return [encode(c, self.params) for c in self.commands]


def sram_buffers(params: NpuParams) -> dict[str, int]:
    """Sizes of the reserved on-chip buffers a Program must declare (role "scratch")."""
    return {"wsram": params.wsram_bytes, "asram": params.asram_bytes, "acc": params.acc_bytes}


def dram_layout(program: Program) -> tuple[dict[str, int], int]:
    """DRAM byte address of every non-SRAM buffer (declaration order, 64-byte aligned) and the total."""
    base, addr = {}, 0
    for buf in program.buffers.values():
        if buf.name in SRAM_BUFFERS:
            continue
        base[buf.name] = addr
        addr += -(-buf.size // DRAM_ALIGN) * DRAM_ALIGN
    return base, addr


def _walk(nodes, env):
    for node in nodes:
        if isinstance(node, Loop):
            for i in range(node.trip):
                env[node.index] = i
                yield from _walk(node.body, env)
            del env[node.index]
        else:
            yield node, env


def lower(program: Program, params: NpuParams | None = None) -> LoweredProgram:
    """Lower `program` (an `NpuISA` program) to the concrete command stream.

    Raises
    ------
    LoweringError : naming the instruction, loop indices and the offending operand.
    """
    isa = program.isa
    if not isinstance(isa, NpuISA):
        raise LoweringError(f"program {program.name}: ISA {isa.name} is not the npu ISA")
    params = params or isa.params
    if params != isa.params:
        raise LoweringError(f"program {program.name}: built for npu machine {isa.params.name}, "
                            f"lowered for {params.name}")
    sizes = sram_buffers(params)
    for name, size in sizes.items():
        buf = program.buffers.get(name)
        if buf is None:
            raise LoweringError(f"program {program.name}: missing on-chip buffer {name!r} "
                                f"({size} bytes, role scratch)")
        if buf.size != size or buf.role != "scratch":
            raise LoweringError(f"program {program.name}: buffer {name!r} must be scratch of {size} "
                                f"bytes for machine {params.name}, got {buf.role} of {buf.size}")
    base, total = dram_layout(program)
    if total > 2 ** 32:
        raise LoweringError(f"program {program.name}: DRAM footprint {total} exceeds 32-bit addresses")
    commands = []
    for instr, env in _walk(program.body, {}):
        where = f"{program.name}: {instr.op}" + (f" at {dict(env)}" if env else "")
        commands.append(_lower_one(instr, dict(env), isa, params, base, program, where))
    return LoweredProgram(program, params, tuple(commands), base, total)


def _lower_one(instr: Instr, env, isa: NpuISA, p: NpuParams, base, program: Program, where: str) -> Command:
    d = isa[instr.op]
    ops = [(o.buffer, int(o.offset.evaluate(env))) for o in instr.outs] + \
          [(o.buffer, int(o.offset.evaluate(env))) for o in instr.ins]
    specs = list(d.outs) + list(d.ins)
    for (buf, off), spec in zip(ops, specs):
        size = program.buffers[buf].size
        if off < 0 or off + spec.width > size:
            raise LoweringError(f"{where}: {buf}[{off}:{off + spec.width}] outside buffer of {size} bytes")
    outs, ins = tuple(ops[:len(d.outs)]), tuple(ops[len(d.outs):])
    mn, n = d.mnemonic, d.attrs["words"]

    def expect(pos, kind):
        buf, off = ops[pos]
        if kind == "dram":
            if buf in SRAM_BUFFERS:
                raise LoweringError(f"{where}: operand {pos} must be a DRAM buffer, got {buf!r}")
            if off % p.dma_bytes_per_cycle:
                raise LoweringError(f"{where}: DRAM offset {off} of {buf!r} is not a multiple of the "
                                    f"{p.dma_bytes_per_cycle}-byte bus")
            return base[buf] + off
        if buf != kind:
            raise LoweringError(f"{where}: operand {pos} must be in {kind!r}, got {buf!r}")
        unit = {"wsram": p.w_word_bytes, "asram": p.a_word_bytes, "acc": p.acc_bank_bytes}[kind]
        if off % unit:
            raise LoweringError(f"{where}: {kind} offset {off} is not a multiple of its {unit}-byte word")
        return off // unit

    def bank_of(word, words, bank_words, kind):
        bank = word // bank_words
        if (word % bank_words) + words > bank_words:
            raise LoweringError(f"{where}: {kind} words {word}..{word + words - 1} cross a bank boundary "
                                f"({bank_words} words per bank)")
        return bank

    if mn == "dmaw":
        w = expect(0, "wsram")
        return Command("dmaw", n, waddr=w, dram=expect(1, "dram"), instr=d, outs=outs, ins=ins,
                       wbank=bank_of(w, n, p.w_bank_words, "wsram"), where=where)
    if mn == "dmaa":
        a = expect(0, "asram")
        return Command("dmaa", n, aaddr=a, dram=expect(1, "dram"), instr=d, outs=outs, ins=ins,
                       abank=bank_of(a, n, p.a_bank_words, "asram"), where=where)
    if mn in ("macc", "maca"):
        acc = expect(0, "acc")
        w, a = expect(1, "wsram"), expect(2, "asram")
        if mn == "maca" and expect(3, "acc") != acc:
            raise LoweringError(f"{where}: maca must accumulate in place (acc input and output differ)")
        return Command(mn, n, waddr=w, aaddr=a, acc=acc, instr=d, outs=outs, ins=ins,
                       wbank=bank_of(w, n, p.w_bank_words, "wsram"),
                       abank=bank_of(a, n, p.a_bank_words, "asram"), where=where)
    if mn == "wb":
        dram = expect(0, "dram")
        return Command("wb", 1, acc=expect(1, "acc"), dram=dram, instr=d, outs=outs, ins=ins, where=where)
    return Command("sync", 0, instr=d, where=where)


def encode(cmd: Command, params: NpuParams) -> int:
    """The command word (fields of `params.command_fields()`, least significant first)."""
    values, word, shift = cmd.fields(), 0, 0
    for name, bits in params.command_fields():
        v = values[name]
        if not 0 <= v < (1 << bits):
            raise LoweringError(f"{cmd.where or cmd.op}: field {name} = {v} does not fit {bits} bits")
        word |= v << shift
        shift += bits
    return word


def decode(word: int, params: NpuParams) -> dict[str, int]:
    """Fields of a command word (inverse of `encode`)."""
    out, shift = {}, 0
    for name, bits in params.command_fields():
        out[name] = (word >> shift) & ((1 << bits) - 1)
        shift += bits
    return out


def run_commands(lowered: LoweredProgram, buffers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Functional run, command by command (P = 1), with the ISA's semantics functions.

    `buffers` gives uint8 contents for DRAM buffers (missing ones start zeroed); on-chip buffers
    start zeroed. Returns every buffer after the run.
    """
    prog = lowered.program
    state = {}
    for buf in prog.buffers.values():
        if buf.name in buffers:
            arr = np.asarray(buffers[buf.name])
            if arr.dtype != np.uint8 or arr.size != buf.size:
                raise LoweringError(f"run_commands: buffer {buf.name!r} must be uint8 of {buf.size} bytes, "
                                    f"got {arr.dtype} of {arr.size}")
            state[buf.name] = arr.reshape(-1).copy()
        else:
            state[buf.name] = np.zeros(buf.size, dtype=np.uint8)
    for cmd in lowered.commands:
        d = cmd.instr
        args = [state[b][off:off + s.width][None, :] for (b, off), s in zip(cmd.ins, d.ins)]
        result = d.semantics(*args)
        results = result if isinstance(result, tuple) else (result,)
        for (b, off), s, val in zip(cmd.outs, d.outs, results):
            state[b][off:off + s.width] = val.reshape(-1)
    return state
