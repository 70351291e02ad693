"""AVX2 memory moves: vmovdqu loads and stores (ymm and xmm) and broadcasts from memory.

Semantics layer (`isa_models.avx2`). Loads and stores move bytes unchanged (the executor does
the addressing and bounds checks); broadcasts replicate a 1/2/4/8/16-byte memory element over
the ymm register. Classes: ``avx2.load`` (``avx2.load.x`` for xmm), ``avx2.store``,
``avx2.broadcast_load``. An xmm load zeroes the upper half (VEX encoding).
"""

from __future__ import annotations

import numpy as np

from isa_models.avx2.forms import AVX2, X, Y
from isa_models.core.isa import mem

__all__ = ["vmovdqu_load_ymm", "vmovdqu_load_xmm", "vmovdqu_store_ymm", "vmovdqu_store_xmm",
           "vpbroadcastb_ymm_m", "vpbroadcastw_ymm_m", "vpbroadcastd_ymm_m", "vpbroadcastq_ymm_m",
           "vbroadcasti128_ymm_m"]


@AVX2.instruction("vmovdqu_load_ymm", outs=(Y,), ins=(mem(32),), sched_class="avx2.load",
                  asm="vmovdqu {i0}, {o0}", c="{o0} = WB_LOAD256({i0});")
def vmovdqu_load_ymm(m):
    return np.array(m, dtype=np.uint8, copy=True)


@AVX2.instruction("vmovdqu_load_xmm", outs=(X,), ins=(mem(16),), sched_class="avx2.load.x",
                  asm="vmovdqu {i0}, {o0}", c="{o0} = WB_ZEXT128(WB_LOAD128({i0}));")
def vmovdqu_load_xmm(m):
    return np.array(m, dtype=np.uint8, copy=True)


@AVX2.instruction("vmovdqu_store_ymm", outs=(mem(32),), ins=(Y,), sched_class="avx2.store",
                  asm="vmovdqu {i0}, {o0}", c="_mm256_storeu_si256((__m256i *)({o0}), {i0});")
def vmovdqu_store_ymm(v):
    return np.array(v, dtype=np.uint8, copy=True)


@AVX2.instruction("vmovdqu_store_xmm", outs=(mem(16),), ins=(X,), sched_class="avx2.store",
                  asm="vmovdqu {i0}, {o0}", c="_mm_storeu_si128((__m128i *)({o0}), WB_LO128({i0}));")
def vmovdqu_store_xmm(v):
    return np.array(np.asarray(v)[:, :16], dtype=np.uint8, copy=True)


def _broadcast(m, unit):
    return np.tile(np.asarray(m, dtype=np.uint8)[:, :unit], (1, 32 // unit))


def vpbroadcastb_ymm_m(m):
    """The byte at m in all 32 bytes."""
    return _broadcast(m, 1)


def vpbroadcastw_ymm_m(m):
    return _broadcast(m, 2)


def vpbroadcastd_ymm_m(m):
    return _broadcast(m, 4)


def vpbroadcastq_ymm_m(m):
    return _broadcast(m, 8)


def vbroadcasti128_ymm_m(m):
    """The 16 bytes at m in both 128-bit lanes (a LUT broadcast to both lanes for vpshufb)."""
    return _broadcast(m, 16)


for _mn, _unit, _c, _fn in (
        ("vpbroadcastb", 1, "_mm256_set1_epi8(wb_load8({i0}))", vpbroadcastb_ymm_m),
        ("vpbroadcastw", 2, "_mm256_set1_epi16(wb_load16({i0}))", vpbroadcastw_ymm_m),
        ("vpbroadcastd", 4, "_mm256_set1_epi32(wb_load32({i0}))", vpbroadcastd_ymm_m),
        ("vpbroadcastq", 8, "_mm256_set1_epi64x(wb_load64({i0}))", vpbroadcastq_ymm_m),
        ("vbroadcasti128", 16, "_mm256_broadcastsi128_si256(WB_LOAD128({i0}))", vbroadcasti128_ymm_m)):
    AVX2.instruction(f"{_mn}_ymm_m", outs=(Y,), ins=(mem(_unit),), sched_class="avx2.broadcast_load",
                     asm=f"{_mn} {{i0}}, {{o0}}", c=f"{{o0}} = {_c};")(_fn)
