"""The HVX `ISA` object, operand shorthands, lane helpers, the C prelude and the form decorator.

Semantics layer (`isa_models.hvx`), 128-byte mode only. The family modules (loadstore, alu,
widen, shift, multiply, lut, permute, predicate, scalar) register their forms on `HVX` through
`form`, which stamps the facts every form carries: ``attrs["llvm"]`` (the LLVM opcode of
``llvm/lib/Target/Hexagon/HexagonDepInstrInfo.td``; QEMU's ``ext.idef`` uses the same names
without ``V6_``), ``attrs["since"]`` (first HVX version), ``attrs["pairs"]`` (register pairs)
and the scheduling class ``hvx.<LLVM opcode>``.

Conventions
-----------
* ``v``: 32 x 128-byte vectors. ``r``: 32 x 4-byte scalars (little-endian int32).
* ``q``: 4 predicates, each held as **128 bytes of 0x00 / 0x01**, one per vector byte (bit i of
  the hardware Q register = byte i). Only the forms here write q registers, so a q value is
  always 0/1 bytes; the C side converts with ``Q6_V_vand_QR(q, 0x01010101)`` /
  ``Q6_Q_vand_VR(v, 0x01010101)``, which map exactly onto this convention.
* A pair output ``Vdd`` is two outputs (o0 = low/even register, o1 = high/odd register); a pair
  input ``Vuu`` is two inputs, low first. ``attrs["pairs"]`` lists them as ``("o", 0, 1)`` /
  ``("i", k, k + 1)``; an accumulating pair form ties both halves (``tied=(k, k + 1)``: input
  ``tied[j]`` is the same register as output ``j``).
* Assembly templates use Hexagon syntax; ``{o0n}``-style fields are register numbers only, so
  a pair is written ``{o1}:{o0n}``. C templates use clang's ``Q6_*`` intrinsics over
  ``HVX_Vector`` variables (one per v register), ``HVX_VectorPred`` for q, ``int32_t`` for r;
  pairs go through the `C_PRELUDE` macros ``WB_W(hi, lo)`` and ``WB_SPLIT(pair, lo, hi)``.

Source of every semantics function: QEMU ``target/hexagon/imported/mmvec/ext.idef`` (qemu/qemu
at commit 011b2512f9551b9c91d760fc38d65e5eb7bc2b3b), transcribed per instruction; checked
against qemu-hexagon by ``tests/oracle/test_hvx_qemu.py``.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from isa_models.core.isa import ISA, mem, reg
from isa_models.core.lanes import lanes, to_bytes

__all__ = ["HVX", "V", "Q", "R", "M", "VBYTES", "C_PRELUDE", "QEMU_SOURCE", "form", "u8", "s8", "u16", "s16",
           "u32", "s32", "out8", "out16", "out32", "rt", "rt_bytes", "rt_ubytes", "qbits", "qbytes"]

#: vector length in bytes (128-byte mode)
VBYTES = 128

#: where the semantics were transcribed from
QEMU_SOURCE = ("qemu/qemu target/hexagon/imported/mmvec/ext.idef @ 011b2512f9551b9c91d760fc38d65e5eb7bc2b3b")

HVX = ISA("hvx", register_files={"v": (32, VBYTES), "q": (4, VBYTES), "r": (32, 4)}, narrow_write="refuse")

V = reg("v", VBYTES)    # a vector register
Q = reg("q", VBYTES)    # a vector predicate (128 bytes of 0/1)
R = reg("r", 4)         # a scalar register
M = mem(VBYTES)         # one vector of memory

#: C emitted once per file by the hexagon_hvx codegen target (and the QEMU oracle harness).
C_PRELUDE = """\
#include <stdint.h>
#include <hexagon_types.h>
#include <hvx_hexagon_protos.h>
#define WB_W(hi, lo) Q6_W_vcombine_VV((hi), (lo))
#define WB_SPLIT(pair, lo, hi) do { HVX_VectorPair wb_p_ = (pair); (lo) = Q6_V_lo_W(wb_p_); \\
    (hi) = Q6_V_hi_W(wb_p_); } while (0)
#define WB_Q(v) Q6_Q_vand_VR((v), 0x01010101)
#define WB_QV(q) Q6_V_vand_QR((q), 0x01010101)
"""


def form(name: str, *, llvm: str, since: int, outs, ins, asm: str, c: str, tied=(), pairs=(),
         **attrs) -> Callable[[Callable], Callable]:
    """Register the decorated semantics function as HVX form `name`.

    Parameters
    ----------
    name : the form's name (``vrmpy_ubb_vv_acc``).
    llvm : the LLVM opcode (``V6_vrmpybusv_acc``); the scheduling class is ``hvx.<llvm>``.
    since : the first HVX version with the instruction (60, 62, 65, ...).
    outs, ins : operand specs (`V`, `Q`, `R`, `M`, ``imm(bits)``).
    asm : Hexagon assembly template; c : C template (clang ``Q6_*`` intrinsics).
    tied : ``tied[j]`` is the input that is the same register as output ``j``.
    pairs : ``(("o", 0, 1), ("i", k, k + 1), ...)`` register pairs (low register even).
    attrs : further ISA facts.
    """
    def wrap(fn: Callable) -> Callable:
        found = re.search(r"\b([a-z][a-z0-9.]*)\(", asm.split("=", 1)[-1]) or re.search(r"\b([a-z]+)\(", asm)
        mnemonic = found.group(1) if found else name.split("_")[0]
        HVX.instruction(name, mnemonic=mnemonic, outs=outs, ins=ins, sched_class=f"hvx.{llvm}", asm=asm, c=c,
                        tied=tuple(tied), llvm=llvm, since=since, pairs=tuple(pairs), **attrs)(fn)
        return fn
    return wrap


# lane views as int64 (no overflow in any intermediate) ---------------------------------------
def u8(x) -> np.ndarray:
    return lanes(x, np.uint8).astype(np.int64)


def s8(x) -> np.ndarray:
    return lanes(x, np.int8).astype(np.int64)


def u16(x) -> np.ndarray:
    return lanes(x, np.uint16).astype(np.int64)


def s16(x) -> np.ndarray:
    return lanes(x, np.int16).astype(np.int64)


def u32(x) -> np.ndarray:
    return lanes(x, np.uint32).astype(np.int64)


def s32(x) -> np.ndarray:
    return lanes(x, np.int32).astype(np.int64)


def _wrap(values, dtype) -> np.ndarray:
    return to_bytes(np.asarray(values, dtype=np.int64).astype(np.dtype(dtype)), dtype)


def out8(values) -> np.ndarray:
    """Lane values (any int64) kept to their low 8 bits, as bytes (C store to a byte lane)."""
    return _wrap(values, np.uint8)


def out16(values) -> np.ndarray:
    return _wrap(values, np.uint16)


def out32(values) -> np.ndarray:
    return _wrap(values, np.uint32)


def rt(r) -> np.ndarray:
    """A scalar register as signed int64 values, shape ``(P, 1)``."""
    return s32(r)


def rt_bytes(r) -> np.ndarray:
    """The four signed bytes of a scalar register (``fGETBYTE(k, RtV)``), shape ``(P, 4)``."""
    return s8(r)


def rt_ubytes(r) -> np.ndarray:
    """The four unsigned bytes of a scalar register (``fGETUBYTE(k, RtV)``), shape ``(P, 4)``."""
    return u8(r)


def qbits(q) -> np.ndarray:
    """A predicate as booleans, one per vector byte, shape ``(P, 128)``."""
    return np.asarray(q, dtype=np.uint8) != 0


def qbytes(bits) -> np.ndarray:
    """Booleans (one per vector byte) as a predicate value: bytes 0x00 / 0x01."""
    return np.ascontiguousarray(np.asarray(bits, dtype=bool).astype(np.uint8))
