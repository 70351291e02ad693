"""The NEON `ISA` object, arrangements, operand shorthands, the C prelude and the form registrar.

Semantics layer (`isa_models.neon`). The family modules (loadstore, arith, widen, dot, table,
shift, logic, permute, compare, saturate, floatops) register their forms on `NEON` through
`define`, which stamps the ISA facts every form carries: the operand arrangements
(``attrs["arrangements"]``, destination first), the extensions it ``requires`` (Linux cpuinfo
names: ``asimddp``, ``i8mm``) and its scheduling class (``neon.<mnemonic>`` for Q forms,
``neon.<mnemonic>.d`` for 64-bit forms). Register files: ``v`` (32 x 16 bytes) and ``x``
(31 x 8 bytes); a 64-bit or scalar result zeroes the rest of its ``v`` register (Arm ARM
"Vector registers": writes to a D/S/H/B view clear the upper bits), the ISA's
``narrow_write="zero_extend"``.

Assembly templates use AArch64 syntax with format specs naming the view of a register
operand: ``{o0:16b}`` is ``v<N>.16b``, ``{o0:b}`` the scalar ``b<N>``, ``{i0:w}`` the
32-bit ``w<N>`` of an ``x`` operand; the codegen target's ``asm_operand`` returns objects that
understand these specs. C templates treat every ``v`` operand as a ``uint8x16_t`` and every
``x`` operand as an ``int64_t``; the ``WB_*`` macros of `C_PRELUDE` reinterpret to the typed
vectors and back, and 64-bit results are widened with a zero upper half.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from isa_models.core.isa import ISA, InstrDef, imm, reg

__all__ = ["NEON", "V", "D", "X", "S1", "S2", "S4", "S8", "Arr", "ARR", "Q_ARRS", "D_ARRS", "define",
           "C_PRELUDE", "ctype", "cq", "cd", "back_q", "back_d", "imm_bits", "imm_spec", "check_imm", "DOT",
           "I8MM", "c_op", "asm_op", "elementwise"]

#: AArch64 Advanced SIMD: 32 x 128-bit V registers, 31 x 64-bit general registers (x0-x30);
#: writing a D, S, H or B view zeroes the rest of the V register (Arm ARM, "SIMD&FP registers")
NEON = ISA("neon", register_files={"v": (32, 16), "x": (31, 8)}, narrow_write="zero_extend")

V = reg("v", 16)    # a Q (128-bit) view
D = reg("v", 8)     # a D (64-bit) view: the low half
X = reg("x", 8)     # a general-purpose register
S1, S2, S4, S8 = reg("v", 1), reg("v", 2), reg("v", 4), reg("v", 8)   # scalar B/H/S/D results

#: the cpuinfo names of the extensions beyond Armv8.2-A+SIMD that some forms need
DOT = ("asimddp",)
I8MM = ("i8mm",)


@dataclass(frozen=True)
class Arr:
    """One arrangement: element size in bits and register bytes (16: Q form, 8: D form)."""

    name: str
    esize: int
    nbytes: int

    @property
    def is_q(self) -> bool:
        return self.nbytes == 16

    @property
    def lanes(self) -> int:
        return self.nbytes * 8 // self.esize

    @property
    def signed(self):
        return {8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}[self.esize]

    @property
    def unsigned(self):
        return {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}[self.esize]

    @property
    def spec(self):
        return V if self.is_q else D

    @property
    def half(self) -> "Arr":
        """The D arrangement of the same element size (16b -> 8b)."""
        return ARR[{8: "8b", 16: "4h", 32: "2s", 64: "1d"}[self.esize]]

    @property
    def wide(self) -> "Arr":
        """The Q arrangement of twice the element size (8b/16b -> 8h)."""
        return ARR[{8: "8h", 16: "4s", 32: "2d"}[self.esize]]

    @property
    def narrow(self) -> "Arr":
        """The D arrangement of half the element size (8h -> 8b)."""
        return ARR[{16: "8b", 32: "4h", 64: "2s"}[self.esize]]


ARR = {a.name: a for a in (Arr("16b", 8, 16), Arr("8b", 8, 8), Arr("8h", 16, 16), Arr("4h", 16, 8),
                           Arr("4s", 32, 16), Arr("2s", 32, 8), Arr("2d", 64, 16), Arr("1d", 64, 8))}
Q_ARRS = ("16b", "8h", "4s", "2d")
D_ARRS = ("8b", "4h", "2s")


def imm_bits(hi: int) -> int:
    """Bits of an immediate operand holding 0..hi."""
    return max(1, int(hi).bit_length())


def check_imm(name: str, value: int, lo: int, hi: int) -> int:
    """`value` as an int, or a ValueError naming the form and its valid range."""
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name}: immediate {v} outside {lo}..{hi}")
    return v


def define(name: str, fn: Callable, *, outs, ins, asm: str, c: str, arrangements, sched: str | None = None,
           mnemonic: str | None = None, tied=(), requires=(), **attrs) -> Callable:
    """Register `fn` as form `name` of `NEON` and return it.

    Parameters
    ----------
    name : ``<mnemonic>_<destination arrangement>`` (``add_16b``, ``ld1x2_16b``).
    fn : the pure semantics function ``f(*ins) -> out`` (or a tuple of outs).
    outs, ins : operand specs in AArch64 operand order (accumulator first, as input 0, when tied).
    asm, c : the assembly and C templates.
    arrangements : the arrangement of each operand, destination(s) first then the inputs
        (``None`` for memory, immediates and general registers).
    sched : the scheduling class (default ``neon.<mnemonic>``, ``.d`` appended for D forms).
    requires : cpuinfo feature names beyond Armv8.2-A+SIMD.
    attrs : further facts: ``imm_range`` (lo, hi) of the immediate operand, ``post_index`` bytes.
    """
    mn = mnemonic or name.split("_")[0]
    if sched is None:
        dst = ARR.get(name.rsplit("_", 1)[-1])
        sched = f"neon.{mn}" + (".d" if dst is not None and not dst.is_q else "")
    facts = {"arrangements": tuple(arrangements), **attrs}
    if requires:
        facts["requires"] = tuple(requires)
    if fn.__name__ == "<lambda>":                  # a per-arrangement closure: name it after its form
        fn.__name__ = fn.__qualname__ = name
    NEON.define(InstrDef(name=name, mnemonic=mn, outs=tuple(outs), ins=tuple(ins), sched_class=sched,
                         semantics=fn, asm=asm, c=c, tied=tuple(tied), attrs=facts))
    return fn


# ---------------------------------------------------------------------------------------------
# C templates: every v operand is a uint8x16_t. WB_Q_<t>(v) views it as a Q vector of type t,
# WB_D_<t>(v) its low half as a D vector, WB_H_<t>(v) its high half; WB_BQ_<t>(x) turns a Q vector
# back into bytes, WB_BD_<t>(x) a D vector into bytes with a zero upper half.

_C_TYPES = {"s8": "int8", "u8": "uint8", "s16": "int16", "u16": "uint16", "s32": "int32", "u32": "uint32",
            "s64": "int64", "u64": "uint64", "f32": "float32"}
_LANES_Q = {"8": 16, "16": 8, "32": 4, "64": 2}


def ctype(arr: Arr | str, signed: bool = True) -> str:
    """The intrinsic type suffix of an arrangement: ``s8``, ``u16``..."""
    a = ARR[arr] if isinstance(arr, str) else arr
    return f"{'s' if signed else 'u'}{a.esize}"


def cq(t: str, x: str) -> str:
    """C: operand `x` (uint8x16_t) as a Q vector of type `t`."""
    return f"WB_Q_{t}({x})"


def cd(t: str, x: str) -> str:
    """C: the low half of operand `x` as a D vector of type `t`."""
    return f"WB_D_{t}({x})"


def back_q(t: str, x: str) -> str:
    return f"WB_BQ_{t}({x})"


def back_d(t: str, x: str) -> str:
    return f"WB_BD_{t}({x})"


def _prelude_macros() -> str:
    lines = []
    for t, base in _C_TYPES.items():
        if t == "u8":
            lines += ["#define WB_Q_u8(v) (v)", "#define WB_D_u8(v) vget_low_u8(v)",
                      "#define WB_H_u8(v) vget_high_u8(v)", "#define WB_BQ_u8(x) (x)",
                      "#define WB_BD_u8(x) vcombine_u8((x), vdup_n_u8(0))"]
            continue
        lines += [f"#define WB_Q_{t}(v) vreinterpretq_{t}_u8(v)",
                  f"#define WB_D_{t}(v) vreinterpret_{t}_u8(vget_low_u8(v))",
                  f"#define WB_H_{t}(v) vreinterpret_{t}_u8(vget_high_u8(v))",
                  f"#define WB_BQ_{t}(x) vreinterpretq_u8_{t}(x)",
                  f"#define WB_BD_{t}(x) vcombine_u8(vreinterpret_u8_{t}(x), vdup_n_u8(0))"]
    return "\n".join(lines)


#: Everything the C templates use; the aarch64_neon codegen target emits it once per file.
C_PRELUDE = """\
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>
""" + _prelude_macros() + """
static inline int64_t wb_load64(const void *p) { int64_t v; memcpy(&v, p, 8); return v; }
static inline void wb_store64(void *p, int64_t v) { memcpy(p, &v, 8); }
static inline uint8x16x2_t wb_x2(uint8x16_t a, uint8x16_t b) { uint8x16x2_t t = {{a, b}}; return t; }
static inline uint8x16x3_t wb_x3(uint8x16_t a, uint8x16_t b, uint8x16_t c) {
  uint8x16x3_t t = {{a, b, c}}; return t; }
static inline uint8x16x4_t wb_x4(uint8x16_t a, uint8x16_t b, uint8x16_t c, uint8x16_t d) {
  uint8x16x4_t t = {{a, b, c, d}}; return t; }
static inline void wb_ld1x2(const uint8_t *p, uint8x16_t *a, uint8x16_t *b) {
  uint8x16x2_t t = vld1q_u8_x2(p); *a = t.val[0]; *b = t.val[1]; }
static inline void wb_ld1x3(const uint8_t *p, uint8x16_t *a, uint8x16_t *b, uint8x16_t *c) {
  uint8x16x3_t t = vld1q_u8_x3(p); *a = t.val[0]; *b = t.val[1]; *c = t.val[2]; }
static inline void wb_ld1x4(const uint8_t *p, uint8x16_t *a, uint8x16_t *b, uint8x16_t *c, uint8x16_t *d) {
  uint8x16x4_t t = vld1q_u8_x4(p); *a = t.val[0]; *b = t.val[1]; *c = t.val[2]; *d = t.val[3]; }
/* fp32 ops as inline asm (see floatops.py): the Program's exact instruction and operand order.
   Intrinsics would let gcc fuse fmul + fadd into fmla (GNU C's default -ffp-contract=fast) and let
   either compiler swap the sources of a commutative op, which changes the NaN kept. */
#define WB_FP_BINARY(mn) \\
  static inline uint8x16_t wb_##mn##_4s(uint8x16_t a, uint8x16_t b) { \\
    uint8x16_t r; __asm__(#mn " %0.4s, %1.4s, %2.4s" : "=w"(r) : "w"(a), "w"(b)); return r; }
WB_FP_BINARY(fadd)
WB_FP_BINARY(fsub)
WB_FP_BINARY(fmul)
static inline uint8x16_t wb_fmla_4s(uint8x16_t acc, uint8x16_t a, uint8x16_t b) {
  __asm__("fmla %0.4s, %1.4s, %2.4s" : "+w"(acc) : "w"(a), "w"(b)); return acc; }
#define WB_FMUL_LANE_4S(a, b, lane) __extension__ ({ uint8x16_t wb_r_; \\
  __asm__("fmul %0.4s, %1.4s, %2.s[" #lane "]" : "=w"(wb_r_) : "w"(a), "w"(b)); wb_r_; })
#define WB_FMLA_LANE_4S(acc, a, b, lane) __extension__ ({ uint8x16_t wb_r_ = (acc); \\
  __asm__("fmla %0.4s, %1.4s, %2.s[" #lane "]" : "+w"(wb_r_) : "w"(a), "w"(b)); wb_r_; })
"""


def imm_spec(hi: int):
    """An immediate operand wide enough for 0..hi."""
    return imm(imm_bits(hi))


def c_op(intrinsic: str, t: str, arr: str, n_in: int, *, extra: str = "") -> str:
    """C template ``{o0} = <intrinsic>[q]_<t>(in0, in1, ...)`` on views of arrangement `arr`
    (Q forms call the ``q`` intrinsic on whole registers, D forms the plain one on low halves);
    `extra` is appended to the argument list (an immediate)."""
    a = ARR[arr]
    view, back, q = ("WB_Q", "WB_BQ", "q") if a.is_q else ("WB_D", "WB_BD", "")
    args = ", ".join(f"{view}_{t}({{i{k}}})" for k in range(n_in)) + extra
    return f"{{o0}} = {back}_{t}({intrinsic}{q}_{t}({args}));"


def asm_op(mnemonic: str, arrs, *, tied: bool = False, extra: str = "") -> str:
    """Assembly ``<mn> {o0:<arr0>}, {i0:<arr1>}, ...`` (a tied input 0 is the destination itself)."""
    dst, *srcs = arrs
    first = 1 if tied else 0
    ops = [f"{{o0:{dst}}}"] + [f"{{i{k}:{s}}}" for k, s in enumerate(srcs, start=0) if k >= first]
    return f"{mnemonic} " + ", ".join(ops) + extra


def elementwise(mnemonic: str, fn: Callable, arrs, *, intrinsic: str, signed: bool, n_in: int,
                tied: bool = False, requires=()) -> None:
    """Register ``<mnemonic>_<arr>`` for each arrangement in `arrs`: every operand in that
    arrangement, semantics ``fn(*ins, arr=Arr)``, C through `c_op`."""
    for arr in arrs:
        a = ARR[arr]
        define(f"{mnemonic}_{arr}", lambda *ins, a=a: fn(*ins, arr=a), outs=(a.spec,), ins=(a.spec,) * n_in,
               asm=asm_op(mnemonic, (arr,) * (n_in + 1), tied=tied),
               c=c_op(intrinsic, ctype(a, signed), arr, n_in), arrangements=(arr,) * (n_in + 1),
               tied=(0,) if tied else (), requires=requires)
