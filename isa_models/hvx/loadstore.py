"""HVX vector memory forms: aligned ``vmem`` loads (plain, ``.cur``, ``.tmp``), unaligned ``vmemu``
loads, and stores (aligned, ``.new``, unaligned).

Semantics layer (`isa_models.hvx`). Loads and stores move 128 bytes unchanged; the executor does
the addressing and bounds checks. ``ext.idef`` (``MMVEC_LD``/``MMVEC_LDC``/``MMVEC_LDT``/
``MMVEC_LDU``, ``vS32b``/``vS32b_new``/``vS32Ub``): the aligned forms ignore the low 7 address
bits (``fLOADMMV``), so a kernel gives them 128-byte-aligned offsets (``attrs["align"]``); the
``u`` forms take any address. ``.cur`` also forwards the loaded vector to a consumer in the same
packet, ``.tmp`` only to that packet (no register write survives it): a timing/packet fact, the
value is the same. The asm renderer supplies ``r4+#1``-style addresses inside ``vmem(...)``.
"""

from __future__ import annotations

import numpy as np

from isa_models.hvx.forms import M, V, form

__all__ = ["vmem_load", "vmem_load_cur", "vmem_load_tmp", "vmemu_load", "vmem_store", "vmem_store_new",
           "vmemu_store"]

_LOAD_C = "{o0} = *(const HVX_Vector *)({i0});"
_LOADU_C = "{o0} = *(const HVX_UVector *)({i0});"


def _copy(x):
    return np.array(x, dtype=np.uint8, copy=True)


@form("vmem_load", llvm="V6_vL32b_ai", since=60, outs=(V,), ins=(M,), asm="{o0} = vmem({i0})", c=_LOAD_C,
      align=128)
def vmem_load(m):
    return _copy(m)


@form("vmem_load_cur", llvm="V6_vL32b_cur_ai", since=60, outs=(V,), ins=(M,), asm="{o0}.cur = vmem({i0})",
      c=_LOAD_C, align=128, forwarding="cur")
def vmem_load_cur(m):
    return _copy(m)


@form("vmem_load_tmp", llvm="V6_vL32b_tmp_ai", since=60, outs=(V,), ins=(M,), asm="{o0}.tmp = vmem({i0})",
      c=_LOAD_C, align=128, forwarding="tmp")
def vmem_load_tmp(m):
    return _copy(m)


@form("vmemu_load", llvm="V6_vL32Ub_ai", since=60, outs=(V,), ins=(M,), asm="{o0} = vmemu({i0})", c=_LOADU_C,
      align=1)
def vmemu_load(m):
    return _copy(m)


@form("vmem_store", llvm="V6_vS32b_ai", since=60, outs=(M,), ins=(V,), asm="vmem({o0}) = {i0}",
      c="*(HVX_Vector *)({o0}) = {i0};", align=128)
def vmem_store(v):
    return _copy(v)


@form("vmem_store_new", llvm="V6_vS32b_new_ai", since=60, outs=(M,), ins=(V,), asm="vmem({o0}) = {i0}.new",
      c="*(HVX_Vector *)({o0}) = {i0};", align=128, forwarding="new")
def vmem_store_new(v):
    return _copy(v)


@form("vmemu_store", llvm="V6_vS32Ub_ai", since=60, outs=(M,), ins=(V,), asm="vmemu({o0}) = {i0}",
      c="*(HVX_UVector *)({o0}) = {i0};", align=1)
def vmemu_store(v):
    return _copy(v)
