"""The QEMU oracle harness for the HVX forms: one freestanding Hexagon executable, every form inside.

Test helper of tests/oracle/test_hvx_qemu.py. `cases()` lists one case per (form, immediate
values); `harness_source()` writes, for each case, a C function generated from the form's own
``c`` template (`kernels.codegen.c_emit.render_c`) that loads its inputs from a record, runs the
template and stores its outputs, plus a ``main`` that streams batches through the read syscall:

    request : repeat { u32 case index, u32 record count N, N records of `Case.in_bytes` }
    reply   : for each batch, N records of `Case.out_bytes`

Register inputs and outputs occupy 128-byte slots (a q register as 128 bytes of 0/1 through
``WB_Q``/``WB_QV``, an r register in the slot's first 4 bytes); a memory operand a 256-byte slot
addressed at the case's byte offset (unaligned for the ``vmemu`` forms). The executable is built
with the hexagon_hvx codegen target's flags and runtime and cached by source hash
(`kernels.codegen.build.compile_executable`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from isa_models.core.isa import InstrDef
from isa_models.hvx import ISA
from kernels.codegen.c_emit import render_c
from kernels.codegen.targets.hexagon_hvx import RUNTIME, TARGET

__all__ = ["Case", "cases", "harness_source", "IMM_VALUES", "MEM_OFFSETS", "encode_batch", "slot_layout"]

#: immediate values tried per (form, operand); every other immediate operand takes all its values
IMM_VALUES = {
    "tfrsi": (-32768, -1, 0, 1, 12345, 32767),
    "addi": (-32768, -7, 0, 5, 32767),
    "andi": (-512, -1, 0, 0x155, 511),
    "asl_i": (0, 1, 7, 31), "asr_i": (0, 1, 7, 31), "lsr_i": (0, 1, 7, 31),
    "mpyi_i": (0, 1, 3, 255),
}

#: byte offset of a memory operand inside its slot: unaligned forms are tried at several
MEM_OFFSETS = {"vmemu_load": (1, 63, 127), "vmemu_store": (1, 64, 127)}

_SLOT = {"v": 128, "q": 128, "r": 128, "mem": 256}


@dataclass(frozen=True)
class Case:
    """One compiled function of the harness: a form with fixed immediates and memory offset."""

    form: str
    imms: tuple[int, ...]
    offset: int
    index: int

    @property
    def d(self) -> InstrDef:
        return ISA[self.form]

    @property
    def in_bytes(self) -> int:
        return sum(_SLOT["mem" if s.is_mem else s.kind] for s in self.d.ins if not s.is_imm)

    @property
    def out_bytes(self) -> int:
        return sum(_SLOT["mem" if s.is_mem else s.kind] for s in self.d.outs)


def _imm_values(d: InstrDef, pos: int) -> tuple[int, ...]:
    if d.name in IMM_VALUES:
        return IMM_VALUES[d.name]
    bits = d.ins[pos].width
    return tuple(range(1 << bits))


def cases() -> list[Case]:
    """Every (form, immediates, memory offset) case, in form order; floats excluded (none here)."""
    out: list[Case] = []
    for name, d in ISA.instructions.items():
        imm_pos = [k for k, s in enumerate(d.ins) if s.is_imm]
        combos: list[tuple[int, ...]] = [()]
        for pos in imm_pos:
            combos = [c + (v,) for c in combos for v in _imm_values(d, pos)]
        for imms in combos:
            for off in MEM_OFFSETS.get(name, (0,)):
                out.append(Case(name, imms, off, len(out)))
    return out


def slot_layout(specs) -> list[int]:
    """Byte offset of each non-immediate operand's slot inside a record."""
    at, offs = 0, []
    for s in specs:
        if s.is_imm:
            offs.append(-1)
            continue
        offs.append(at)
        at += _SLOT["mem" if s.is_mem else s.kind]
    return offs


def _function(case: Case) -> str:
    d = case.d
    lines = [f"static void wb_case_{case.index}(const uint8_t *in, uint8_t *out) {{  /* {d.name} */"]
    ins, imms = [], iter(case.imms)
    for k, (s, at) in enumerate(zip(d.ins, slot_layout(d.ins))):
        if s.is_imm:
            ins.append(next(imms))
        elif s.is_mem:
            ins.append(f"(in + {at + case.offset})")
        elif s.kind == "v":
            lines.append(f"    HVX_Vector i{k} = *(const HVX_Vector *)(in + {at});")
            ins.append(f"i{k}")
        elif s.kind == "q":
            lines.append(f"    HVX_VectorPred i{k} = WB_Q(*(const HVX_Vector *)(in + {at}));")
            ins.append(f"i{k}")
        else:
            lines.append(f"    int32_t i{k} = *(const int32_t *)(in + {at});")
            ins.append(f"i{k}")
    outs, stores = [], []
    for k, (s, at) in enumerate(zip(d.outs, slot_layout(d.outs))):
        if s.is_mem:
            outs.append(f"(out + {at + case.offset})")
        elif s.kind == "v":
            lines.append(f"    HVX_Vector o{k};")
            outs.append(f"o{k}")
            stores.append(f"    *(HVX_Vector *)(out + {at}) = o{k};")
        elif s.kind == "q":
            lines.append(f"    HVX_VectorPred o{k};")
            outs.append(f"o{k}")
            stores.append(f"    *(HVX_Vector *)(out + {at}) = WB_QV(o{k});")
        else:
            lines.append(f"    int32_t o{k};")
            outs.append(f"o{k}")
            stores.append(f"    *(int32_t *)(out + {at}) = o{k};")
    lines.append("    " + render_c(d, outs, ins))
    lines += stores
    lines.append("}")
    return "\n".join(lines)


_MAIN = """
typedef void (*wb_case_fn)(const uint8_t *, uint8_t *);
static const wb_case_fn wb_cases[%(n)d] = {%(fns)s};
static const uint32_t wb_in_bytes[%(n)d] = {%(ins)s};
static const uint32_t wb_out_bytes[%(n)d] = {%(outs)s};
static uint8_t wb_in[2048] __attribute__((aligned(128)));
static uint8_t wb_out[2048] __attribute__((aligned(128)));
int main(int argc, char **argv) {
    (void)argc; (void)argv;
    uint32_t head[2];
    while (fread(head, 4, 2, stdin) == 2) {
        if (head[0] >= %(n)d) { fprintf(stderr, "hvx harness: bad case %%d\\n", (int)head[0]); return 2; }
        for (uint32_t k = 0; k < head[1]; k++) {
            if (fread(wb_in, 1, wb_in_bytes[head[0]], stdin) != wb_in_bytes[head[0]]) {
                fprintf(stderr, "hvx harness: input ends inside case %%d\\n", (int)head[0]); return 2; }
            memset(wb_out, 0, wb_out_bytes[head[0]]);
            wb_cases[head[0]](wb_in, wb_out);
            fwrite(wb_out, 1, wb_out_bytes[head[0]], stdout);
        }
    }
    return fflush(stdout) == 0 ? 0 : 3;
}
"""


def harness_source(all_cases: list[Case]) -> str:
    """The C source of the harness (prelude, one function per case, runtime, main)."""
    n = len(all_cases)
    body = "\n".join(_function(c) for c in all_cases)
    main = _MAIN % {"n": n, "fns": ", ".join(f"wb_case_{c.index}" for c in all_cases),
                    "ins": ", ".join(str(c.in_bytes) for c in all_cases),
                    "outs": ", ".join(str(c.out_bytes) for c in all_cases)}
    return "\n".join([TARGET.c_prelude, body, RUNTIME, main])


def encode_batch(case: Case, n: int, inputs: list[np.ndarray]) -> bytes:
    """One request batch: the header and `n` records' input slots (`inputs`: one ``(n, width)``
    uint8 array per non-immediate input, in operand order)."""
    d = case.d
    rec = np.zeros((n, case.in_bytes), np.uint8)
    regs = [s for s in d.ins if not s.is_imm]
    for s, at, x in zip(regs, [o for o in slot_layout(d.ins) if o >= 0], inputs):
        start = at + (case.offset if s.is_mem else 0)
        rec[:, start:start + s.width] = x
    return struct.pack("<II", case.index, n) + rec.tobytes()
