"""Default (BM, BK, bm) tilings of bitnet.cpp's TL1/TL2 LUT kernels, per matrix shape.

Ground-truth layer. The tables are the values bitnet.cpp's `setup_env.py` passes to its code
generators (research/kernels.md §1.3 for TL1, §1.4 for TL2; shapes are (M, K) = (out, in)).
A shape outside the tables gets a documented fallback rule (`fallback_tiling`), tagged as such.
"""

from __future__ import annotations

from workbench.formats._common import FormatError

__all__ = ["TL1_TILINGS", "TL2_TILINGS", "default_tiling", "fallback_tiling"]

_TL1_SRC = "bitnet.cpp setup_env.py TL1 (kernels.md §1.3)"
_TL2_SRC = "bitnet.cpp setup_env.py TL2 (kernels.md §1.4)"

# (M, K) -> (BM, BK, bm)
TL1_TILINGS: dict[tuple[int, int], tuple[int, int, int]] = {
    # bitnet_b1_58-large
    (1536, 4096): (256, 128, 32), (1536, 1536): (128, 64, 64), (4096, 1536): (256, 128, 32),
    # bitnet_b1_58-3B (bitnet.cpp also passes these for 2B-4T)
    (3200, 8640): (160, 64, 32), (3200, 3200): (320, 128, 64), (8640, 3200): (320, 64, 32),
    # Llama3-8B-1.58 and Falcon3
    (14336, 4096): (256, 128, 32), (4096, 14336): (128, 64, 64), (1024, 4096): (256, 128, 32),
    (4096, 4096): (128, 64, 64),
}
TL2_TILINGS: dict[tuple[int, int], tuple[int, int, int]] = {
    (1536, 4096): (256, 96, 32), (1536, 1536): (128, 192, 32), (4096, 1536): (256, 96, 32),
    (3200, 8640): (160, 96, 32), (3200, 3200): (320, 96, 32), (8640, 3200): (320, 96, 32),
    (14336, 4096): (256, 96, 32), (4096, 14336): (128, 96, 32), (1024, 4096): (256, 96, 32),
    (4096, 4096): (128, 96, 32),
}

_BM_CANDIDATES = (256, 320, 160, 128, 64, 32)
_TL1_BK_CANDIDATES = (128, 64, 32, 16, 8)


def fallback_tiling(kind: str, m: int, k: int) -> tuple[int, int, int]:
    """Tiling for a shape bitnet.cpp has no preset for (workbench rule, not bitnet.cpp's).

    bm = 32; BM = the first of 256, 320, 160, 128, 64, 32 that divides M; BK = the first of
    128, 64, 32, 16, 8 dividing K (TL1), or 96 (TL2, whose K mod 96 goes to the 2-weight tail).
    """
    bm_ = next((b for b in _BM_CANDIDATES if m % b == 0), None)
    if bm_ is None:
        raise FormatError(f"{kind}: M={m} is not a multiple of 32; no tiling exists")
    if kind == "tl1":
        bk = next((b for b in _TL1_BK_CANDIDATES if k % b == 0), None)
        if bk is None:
            raise FormatError(f"tl1: K={k} is not a multiple of 8; no tiling exists")
        return bm_, bk, 32
    return bm_, 96, 32


def default_tiling(kind: str, m: int, k: int) -> dict:
    """The (BM, BK, bm) for shape (M, K): bitnet.cpp's preset if one exists, else the fallback."""
    table = TL1_TILINGS if kind == "tl1" else TL2_TILINGS
    bm_big, bk, bm = table.get((m, k)) or fallback_tiling(kind, m, k)
    return {"BM": bm_big, "BK": bk, "bm": bm}


def tiling_source(kind: str, m: int, k: int) -> str:
    """Where `default_tiling` takes its values from, for reports."""
    table = TL1_TILINGS if kind == "tl1" else TL2_TILINGS
    if (m, k) in table:
        return _TL1_SRC if kind == "tl1" else _TL2_SRC
    return "workbench fallback rule (workbench.formats._tiling.fallback_tiling)"
