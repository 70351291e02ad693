"""ISA descriptions: instruction definitions (semantics + ISA facts) and register files.

Engine layer (`isa_models.core`, imports nothing else of the project). One `InstrDef` per
mnemonic/form, Spike/QEMU style: a small pure function over byte arrays (the lane math) next to
the ISA facts that every consumer needs: operand kinds and widths, the scheduling-class name that
links it to machine data (latency, ports: `isa_models/machines/*.toml`), an assembly template and
a C-intrinsic template for the emitters. Microarchitecture facts never live here.

Value convention shared by all semantics and the executor: every register or memory value is a
numpy ``uint8`` array of shape ``(P, nbytes)`` (``P`` = number of parallel iterations in flight);
a semantics function views it as the lane type it needs (``a.view(np.int16)``) and returns
``uint8`` arrays of the same convention. Immediates arrive as Python ints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

__all__ = ["OperandSpec", "InstrDef", "ISA", "reg", "mem", "imm", "zero_extend_write", "merge_write",
           "refuse_narrow_write", "WRITE_POLICIES"]


@dataclass(frozen=True)
class OperandSpec:
    """One operand of an instruction form.

    kind : a register-file name of the ISA ("ymm", "xmm", "gpr", ...), "mem" or "imm".
    width : bytes read or written (registers and memory); bits of an immediate.
    """

    kind: str
    width: int

    @property
    def is_mem(self) -> bool:
        return self.kind == "mem"

    @property
    def is_imm(self) -> bool:
        return self.kind == "imm"


def reg(kind: str, width: int) -> OperandSpec:
    return OperandSpec(kind, width)


def mem(width: int) -> OperandSpec:
    return OperandSpec("mem", width)


def imm(bits: int = 8) -> OperandSpec:
    return OperandSpec("imm", bits)


@dataclass(frozen=True)
class InstrDef:
    """One instruction form: semantics plus ISA facts.

    name : unique key, ``<mnemonic>_<form>`` (e.g. ``vpshufb_ymm``, ``vmovdqu_load_ymm``).
    outs / ins : operand specs; a memory destination is an ``out`` of kind "mem".
    sched_class : the scheduling-class name machine files give timings for (``avx2.vpshufb``).
    semantics : ``f(*ins) -> out`` or a tuple of outs; pure, no machine data.
    asm : assembly template over ``{o0}``, ``{i0}``, ``{i1}``... (operand order of the ISA syntax).
    c : C template, e.g. ``"{o0} = _mm256_shuffle_epi8({i0}, {i1});"``; memory operands are
        rendered by the emitter as pointer expressions.
    tied : indices of inputs that must be the same register as output 0 (accumulating forms
        such as ``vpdpbusd``); the builder enforces it.
    attrs : any further ISA facts (HVX slots and resource class, zero idiom, ...).
    """

    name: str
    mnemonic: str
    outs: tuple[OperandSpec, ...]
    ins: tuple[OperandSpec, ...]
    sched_class: str
    semantics: Callable
    asm: str = ""
    c: str = ""
    tied: tuple[int, ...] = ()
    attrs: Mapping[str, object] = field(default_factory=dict)

    @property
    def loads(self) -> int:
        return sum(1 for s in self.ins if s.is_mem)

    @property
    def stores(self) -> int:
        return sum(1 for s in self.outs if s.is_mem)


def zero_extend_write(value, old, nbytes: int):
    """Write policy: a result narrower than its register zeroes the rest (x86 VEX, AArch64 SIMD)."""
    full = np.zeros((value.shape[0], nbytes), dtype=np.uint8)
    full[:, :value.shape[1]] = value
    return full


def merge_write(value, old, nbytes: int):
    """Write policy: a result narrower than its register keeps the register's upper bytes (x86
    legacy SSE); a register never written before reads as zero there."""
    full = np.zeros((value.shape[0], nbytes), dtype=np.uint8) if old is None else \
        np.array(np.broadcast_to(old, (value.shape[0], nbytes)), dtype=np.uint8)
    full[:, :value.shape[1]] = value
    return full


def refuse_narrow_write(value, old, nbytes: int):
    """Write policy: an ISA without partial register writes; a narrow result is an ISA-definition
    bug (the executor reports it with the instruction)."""
    raise ValueError(f"writes {value.shape[1]} bytes to a {nbytes}-byte register, and this ISA has no "
                     "partial register writes")


#: the write policies by name (docs/adding_an_isa.md)
WRITE_POLICIES = {"zero_extend": zero_extend_write, "merge": merge_write, "refuse": refuse_narrow_write}


class ISA:
    """A named instruction set: register files, instruction definitions and its register-write policy.

    Parameters
    ----------
    name : "avx2", "neon", "hvx", "npu"
    register_files : register class -> (count, bytes per register), e.g. ``{"ymm": (16, 32)}``
    narrow_write : what a result narrower than its destination register does to the rest of the
        register: "zero_extend" (x86 VEX, AArch64 SIMD), "merge" (legacy SSE) or "refuse" (the
        default: no partial writes). The executor applies it; the ISA owns the rule.
    asm_immediate : how an immediate operand is written where an ``asm`` template places it, a
        format of its value: ``"{}"`` (the default) when the templates write any prefix themselves
        (Hexagon ``#{i2}``, AArch64 ``#{i0}``), ``"${}"`` for AT&T templates that leave the ``$``
        to the operand. Used where no codegen target spells operands
        (`isa_models.core.asm_text.virtual_asm`).
    """

    def __init__(self, name: str, *, register_files: Mapping[str, tuple[int, int]],
                 narrow_write: str = "refuse", asm_immediate: str = "{}"):
        if narrow_write not in WRITE_POLICIES:
            raise ValueError(f"ISA {name}: unknown narrow_write policy {narrow_write!r}; valid: "
                             f"{', '.join(WRITE_POLICIES)}")
        self.name = name
        self.register_files = dict(register_files)
        self.instructions: dict[str, InstrDef] = {}
        self.narrow_write = narrow_write
        self.asm_immediate = asm_immediate

    def write_register(self, value, old, nbytes: int):
        """The full ``(P, nbytes)`` register after writing the narrower `value` over `old`
        (None: never written), by this ISA's `narrow_write` policy."""
        return WRITE_POLICIES[self.narrow_write](value, old, nbytes)

    def define(self, d: InstrDef) -> InstrDef:
        if d.name in self.instructions:
            raise ValueError(f"ISA {self.name}: instruction {d.name!r} defined twice")
        for spec in (*d.outs, *d.ins):
            if not (spec.is_mem or spec.is_imm or spec.kind in self.register_files):
                raise ValueError(f"ISA {self.name}: instruction {d.name!r} uses unknown operand kind "
                                 f"{spec.kind!r}")
        self.instructions[d.name] = d
        return d

    def instruction(self, name: str, *, mnemonic: str | None = None, outs=(), ins=(),
                    sched_class: str | None = None, asm: str = "", c: str = "",
                    tied: tuple[int, ...] = (), **attrs) -> Callable[[Callable], Callable]:
        """Decorator registering a semantics function as instruction `name`."""
        def wrap(fn: Callable) -> Callable:
            mn = mnemonic or name.split("_")[0]
            self.define(InstrDef(name=name, mnemonic=mn, outs=tuple(outs), ins=tuple(ins),
                                 sched_class=sched_class or f"{self.name}.{mn}", semantics=fn,
                                 asm=asm, c=c, tied=tuple(tied), attrs=dict(attrs)))
            return fn
        return wrap

    def __getitem__(self, name: str) -> InstrDef:
        try:
            return self.instructions[name]
        except KeyError:
            raise KeyError(f"ISA {self.name} has no instruction {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.instructions

    def sched_classes(self) -> set[str]:
        return {d.sched_class for d in self.instructions.values()}

    def __repr__(self) -> str:
        return f"ISA({self.name!r}, {len(self.instructions)} instructions)"
