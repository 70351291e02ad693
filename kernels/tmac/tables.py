"""T-MAC's activation tables: int8 LUTs of every group of 4 activations and their group scales.

Kernel layer, T-MAC family, ISA-independent (research/kernels.md §2.1, §5.6; T-MAC
python/t_mac/intrins/lut_ctor.cc, microsoft/T-MAC 7042f8f73330bd083bc1e4bc5ccb3f88a4904aee).
Shared by the AVX2 and NEON kernels (`kernels/tmac/avx2.py`, `kernels/tmac/neon.py`), which take
the tables as Program inputs: LUT[idx] = sum_i (2 bit_i(idx) - 1) q_i per group of 4 activations,
rounded to int8 with the activation group's scale ls = max over its groups of sum|q_i| / 127,
qlut = rint(LUT * (127 / max)) in fp32 (T-MAC rounds in fp32 on AVX2, in fp16 on NEON).
`table_buffers` makes those inputs (with 0.5 sum(q)) and `check_tmac_shape` the kernels' shape check.
"""

from __future__ import annotations

import numpy as np

__all__ = ["G", "build_tables", "table_buffers", "check_tmac_shape"]

G = 4          # activations per table


def build_tables(q: np.ndarray, act_group: int) -> tuple[np.ndarray, np.ndarray]:
    """(qlut int8 [K/4, 16], ls fp32 [K/act_group]): T-MAC's int8 tables and group scales."""
    groups = q.astype(np.float32).reshape(-1, G)
    signs = np.array([[2 * ((idx >> i) & 1) - 1 for i in range(G)] for idx in range(16)], np.float32)
    lut = groups @ signs.T                                          # exact small integers in fp32
    absmax = np.abs(groups).sum(axis=1).reshape(-1, act_group // G).max(axis=1)
    absmax = np.maximum(absmax, np.float32(1.0))                    # all-zero group: any scale works
    inv = (np.float32(127.0) / absmax).astype(np.float32)
    per_group = np.repeat(inv, act_group // G)[:, None]
    qlut = np.clip(np.rint((lut * per_group).astype(np.float32)), -128, 127).astype(np.int8)
    return qlut, (absmax / np.float32(127.0)).astype(np.float32)


def table_buffers(q: np.ndarray, act_group: int) -> dict[str, np.ndarray]:
    """The activation-side buffers of a T-MAC kernel: lut (int8 tables), lut_scale (fp32 per
    activation group) and half_qsum (fp32 0.5 * sum(q), the -sum(q)/2 of w = b0 + 2 b1 - 2)."""
    qlut, ls = build_tables(q, act_group)
    half_qsum = np.float32(0.5) * np.float32(int(q.astype(np.int64).sum()))
    return {"lut": qlut.view(np.uint8).reshape(-1), "lut_scale": ls.astype("<f4").view(np.uint8),
            "half_qsum": np.array([half_qsum], "<f4").view(np.uint8)}


def check_tmac_shape(who: str, M: int, K: int, *, act_group: int, rows: int) -> None:
    """act_group a positive multiple of 8 (two groups of 4) dividing K, M a positive multiple of `rows`."""
    if act_group <= 0 or act_group % (2 * G):
        raise ValueError(f"{who}: act_group={act_group} is not a positive multiple of {2 * G}")
    if K <= 0 or K % act_group:
        raise ValueError(f"{who}: K={K} is not a positive multiple of act_group={act_group}")
    if M <= 0 or M % rows:
        raise ValueError(f"{who}: M={M} is not a positive multiple of {rows} (row tile)")
