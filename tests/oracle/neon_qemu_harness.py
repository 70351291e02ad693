"""The QEMU oracle harness for the NEON forms: one static AArch64 executable, every form inside.

Test helper of tests/oracle/test_neon_qemu.py. For every form of `isa_models.neon.ISA`,
`harness_source` writes two C functions over records of operand slots: ``t<k>`` runs the form's
own ``c`` template (`kernels.codegen.c_emit.render_c`), ``s<k>`` its ``asm`` template as inline
asm with every vector operand bound to a fixed register (outputs from v0, inputs from v8 in
operand order, so table and ld1/st1 register lists are consecutive). A form with an immediate
gets one ``switch`` case per immediate value tried. ``main`` streams batches through stdin:

    request : repeat { u32 function index, u32 record count N, N int32 immediates, N input records }
    reply   : for each batch, N output records

Slots (`Layout`): a ``v`` input takes 16 bytes (the whole register: a D or scalar operand reads
its low bytes, the rest is noise the template must ignore), an ``x`` input 16 (8 used), a memory
input its width rounded up to 16. A ``v`` output is stored whole (16 bytes: a narrow result must
zero the rest), an ``x`` output 8 bytes, a memory output its width plus 16 bytes that must keep
the sentinel. The asm functions also check that a memory operand's base register advanced by exactly
``attrs["post_index"]`` bytes (0 for the plain forms), else poison the record. The executable
is built with the aarch64_neon target's flags (plus every extension) and cached by source hash
(`kernels.codegen.build.compile_executable`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from isa_models.core.isa import InstrDef
from kernels.codegen.c_emit import render_c

__all__ = ["SENTINEL", "Layout", "layout", "imm_values", "harness_source", "encode_batch", "expected_outputs"]

SENTINEL = 0xA5
POISON = 0x5A           # a whole output record of this: the asm moved a base register wrongly
_OUT_BASE, _IN_BASE = 0, 8          # v registers the asm functions bind outputs / inputs to


@dataclass(frozen=True)
class Layout:
    """Byte offsets of a form's operand slots in its input and output records."""

    in_offsets: tuple            # per input: offset, or None for an immediate
    out_offsets: tuple
    in_bytes: int
    out_bytes: int


def _round16(n: int) -> int:
    return max(16, -(-n // 16) * 16)


def layout(d: InstrDef) -> Layout:
    ins, at = [], 0
    for s in d.ins:
        if s.is_imm:
            ins.append(None)
            continue
        ins.append(at)
        at += _round16(s.width) if s.is_mem else 16
    outs, out_at = [], 0
    for s in d.outs:
        outs.append(out_at)
        out_at += s.width + 16 if s.is_mem else (8 if s.kind == "x" else 16)
    return Layout(tuple(ins), tuple(outs), max(at, 16), out_at)


def imm_values(d: InstrDef) -> list[int]:
    """The immediates tried: every value of ``attrs["imm_range"]`` (or of the operand's width),
    at most 256 of them (both ends kept) for wide ranges; [0] for a form without one."""
    spec = next((s for s in d.ins if s.is_imm), None)
    if spec is None:
        return [0]
    lo, hi = d.attrs.get("imm_range", (0, (1 << spec.width) - 1))
    if hi - lo < 256:
        return list(range(lo, hi + 1))
    picks = np.linspace(lo, hi, 256).round().astype(int)
    return sorted({lo, hi, *map(int, picks)})


def _c_statement(d: InstrDef, lay: Layout, imm: int) -> str:
    ins = []
    for j, s in enumerate(d.ins):
        ins.append(imm if s.is_imm else f"(p + {lay.in_offsets[j]})" if s.is_mem else f"a{j}")
    outs = [f"(q + {lay.out_offsets[k]})" if s.is_mem else (f"g{k}" if s.kind == "x" else f"o{k}")
            for k, s in enumerate(d.outs)]
    return render_c(d, outs, ins)


class _AsmVector(str):
    """An inline-asm reference ``%[name]`` to a vector operand, with the templates' view specs
    (the same ones `kernels.codegen.targets.aarch64_neon.VectorRegister` renders)."""

    def __format__(self, spec: str) -> str:
        name = str.__str__(self)
        if spec in ("b", "h", "s", "d", "q"):
            return f"%{spec}[{name}]"
        if not spec:
            return f"%[{name}]"
        return f"%[{name}]{spec}" if spec.startswith(".") else f"%[{name}].{spec}"


class _AsmGeneral(str):
    """An inline-asm reference to a general-register operand: ``%x[name]`` or (spec w) ``%w[name]``."""

    def __format__(self, spec: str) -> str:
        return f"%{'w' if spec == 'w' else 'x'}[{str.__str__(self)}]"


def _asm_statement(d: InstrDef, lay: Layout, imm: int) -> str:
    """The form's asm template as one inline-asm statement on the record's variables."""
    decls, outs, ins, after = [], [], [], []
    tied = set(d.tied)
    fields = {}
    for k, s in enumerate(d.outs):
        if s.is_mem:
            decls.append(f"uint8_t *m_o{k} = q + {lay.out_offsets[k]};")
            outs.append(f'[m_o{k}] "+r"(m_o{k})')
            fields[f"o{k}"] = f"[%[m_o{k}]]"
        elif s.kind == "x":
            outs.append(f'[g{k}] "=r"(g{k})')
            fields[f"o{k}"] = _AsmGeneral(f"g{k}")
        else:
            init = f" = a{d.tied[0]}" if k == 0 and tied else ""
            decls.append(f'register uint8x16_t R_o{k} __asm__("v{_OUT_BASE + k}"){init};')
            outs.append(f'[R_o{k}] "{"+" if k == 0 and tied else "="}w"(R_o{k})')
            after.append(f"o{k} = R_o{k};")
            fields[f"o{k}"] = _AsmVector(f"R_o{k}")
    for j, s in enumerate(d.ins):
        if j in tied:
            continue
        if s.is_imm:
            fields[f"i{j}"] = str(imm)
        elif s.is_mem:
            decls.append(f"uint8_t *m_i{j} = (uint8_t *)(p + {lay.in_offsets[j]});")
            outs.append(f'[m_i{j}] "+r"(m_i{j})')
            fields[f"i{j}"] = f"[%[m_i{j}]]"
        elif s.kind == "x":
            ins.append(f'[g_i{j}] "r"(a{j})')
            fields[f"i{j}"] = _AsmGeneral(f"g_i{j}")
        else:
            decls.append(f'register uint8x16_t R_i{j} __asm__("v{_IN_BASE + j}") = a{j};')
            ins.append(f'[R_i{j}] "w"(R_i{j})')
            fields[f"i{j}"] = _AsmVector(f"R_i{j}")
    step = d.attrs.get("post_index", 0)          # the base register must advance by this much
    for k, s in enumerate(d.outs):
        if s.is_mem:
            after.append(f"if (m_o{k} != q + {lay.out_offsets[k]} + {step}) wb_bad = 1;")
    for j, s in enumerate(d.ins):
        if s.is_mem:
            after.append(f"if (m_i{j} != (uint8_t *)(p + {lay.in_offsets[j]}) + {step}) wb_bad = 1;")
    text = d.asm.format(**fields)
    return ("{ " + " ".join(decls) + f' __asm__ volatile("{text}" : {", ".join(outs)} : {", ".join(ins)} : "memory"); '
            + " ".join(after) + " }")


def _function(d: InstrDef, index: int, kind: str) -> str:
    lay = layout(d)
    statement = _c_statement if kind == "c" else _asm_statement
    prefix = "t" if kind == "c" else "s"
    lines = [f"static void {prefix}{index}(const uint8_t *in, uint8_t *out, const int32_t *imms, long n) {{",
             f"  /* {d.name} ({kind} template) */",
             "  for (long k = 0; k < n; k++) {",
             f"    const uint8_t *p = in + k * {lay.in_bytes}L; uint8_t *q = out + k * {lay.out_bytes}L;",
             f"    memset(q, {SENTINEL}, {lay.out_bytes});",
             "    uint8x16_t o0 = vdupq_n_u8(0), o1 = o0, o2 = o0, o3 = o0; int64_t g0 = 0; int wb_bad = 0;",
             "    (void)p; (void)o1; (void)o2; (void)o3; (void)g0;"]
    for j, s in enumerate(d.ins):
        if s.is_imm or s.is_mem:
            continue
        if s.kind == "x":
            lines.append(f"    int64_t a{j} = wb_load64(p + {lay.in_offsets[j]});")
        else:
            lines.append(f"    uint8x16_t a{j} = vld1q_u8(p + {lay.in_offsets[j]});")
    if d.tied:
        lines.append(f"    o0 = a{d.tied[0]};")
    values = imm_values(d)
    if len(values) == 1 and not any(s.is_imm for s in d.ins):
        lines.append("    " + statement(d, lay, 0))
    else:
        lines.append("    switch (imms[k]) {")
        lines += [f"    case {v}: {statement(d, lay, v)} break;" for v in values]
        lines.append("    default: break;")
        lines.append("    }")
    for k, s in enumerate(d.outs):
        if s.is_mem:
            continue
        if s.kind == "x":
            lines.append(f"    wb_store64(q + {lay.out_offsets[k]}, g{k});")
        else:
            lines.append(f"    vst1q_u8(q + {lay.out_offsets[k]}, o{k});")
    lines.append(f"    if (wb_bad) memset(q, {POISON}, {lay.out_bytes});   /* a base register moved wrongly */")
    lines += ["  }", "}"]
    return "\n".join(lines)


_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
static int wb_read(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }
int main(void) {
  uint32_t head[2];
  while (wb_read(head, 8)) {
    uint32_t f = head[0]; long n = head[1];
    if (f >= WB_COUNT) { fprintf(stderr, "harness: bad function %u\n", f); return 2; }
    int32_t *imms = malloc(4 * (size_t)n + 4);
    uint8_t *in = malloc(wb_in[f] * (size_t)n + 16), *out = malloc(wb_out[f] * (size_t)n + 16);
    if (!imms || !in || !out) { fprintf(stderr, "harness: out of memory\n"); return 2; }
    if (!wb_read(imms, 4 * (size_t)n) || !wb_read(in, wb_in[f] * (size_t)n)) {
      fprintf(stderr, "harness: short batch for function %u\n", f); return 2; }
    wb_fns[f](in, out, imms, n);
    if (fwrite(out, 1, wb_out[f] * (size_t)n, stdout) != wb_out[f] * (size_t)n) return 3;
    free(imms); free(in); free(out);
  }
  return fflush(stdout) == 0 ? 0 : 3;
}
"""


def harness_source(defs: list[InstrDef], prelude: str) -> str:
    """C for `defs`: functions ``t<k>`` (c template) and ``s<k>`` (asm template) of form k, tables
    ``wb_fns`` (index 2k: ``t<k>``, 2k + 1: ``s<k>``), ``wb_in`` / ``wb_out`` (record bytes) and main."""
    parts = [prelude, "typedef void (*wb_fn)(const uint8_t *, uint8_t *, const int32_t *, long);"]
    names, ins, outs = [], [], []
    for k, d in enumerate(defs):
        lay = layout(d)
        for kind, prefix in (("c", "t"), ("asm", "s")):
            parts.append(_function(d, k, kind))
            names.append(f"{prefix}{k}")
            ins.append(lay.in_bytes)
            outs.append(lay.out_bytes)
    parts.append(f"#define WB_COUNT {len(names)}u")
    parts.append(f"static const wb_fn wb_fns[] = {{{', '.join(names)}}};")
    parts.append(f"static const size_t wb_in[] = {{{', '.join(map(str, ins))}}};")
    parts.append(f"static const size_t wb_out[] = {{{', '.join(map(str, outs))}}};")
    parts.append(_MAIN)
    return "\n".join(parts) + "\n"


def encode_batch(function: int, inputs: np.ndarray, imms: np.ndarray) -> bytes:
    """One request batch: function index, record count, immediates, input records."""
    return (struct.pack("<II", function, len(inputs)) + np.ascontiguousarray(imms, "<i4").tobytes()
            + np.ascontiguousarray(inputs, np.uint8).tobytes())


def expected_outputs(d: InstrDef, inputs: np.ndarray, imms: np.ndarray) -> np.ndarray:
    """The output records the model predicts for `inputs` (N, in_bytes) and `imms` (N,)."""
    lay = layout(d)
    n = len(inputs)
    out = np.full((n, lay.out_bytes), SENTINEL, np.uint8)
    for v in np.unique(imms):
        rows = np.flatnonzero(imms == v)
        args = []
        for j, s in enumerate(d.ins):
            if s.is_imm:
                args.append(int(v))
            else:
                width = 8 if s.kind == "x" else s.width
                args.append(np.ascontiguousarray(inputs[rows, lay.in_offsets[j]:lay.in_offsets[j] + width]))
        results = d.semantics(*args)
        results = results if isinstance(results, tuple) else (results,)
        for k, (s, r) in enumerate(zip(d.outs, results)):
            r = np.asarray(r)
            if r.dtype != np.uint8 or r.ndim != 2 or r.shape[1] != s.width:
                raise AssertionError(f"{d.name}: semantics returned {r.dtype}{list(r.shape)} for output {k}, "
                                     f"expected uint8[P, {s.width}]")
            r = np.broadcast_to(r, (len(rows), s.width))
            at = lay.out_offsets[k]
            if s.is_mem or s.kind == "x":
                out[rows, at:at + s.width] = r
            else:
                out[rows, at:at + 16] = 0
                out[rows, at:at + s.width] = r
    return out
