"""Adversarial search: activations that overflow I2_S's int16 lanes for a given weight row.

Kernel layer (DESIGN.md §4: "the adversarial search must find the inputs that break it"). No
overflow input is written by hand. `find_overflow` starts from realistic activations (or given
ones), runs the I2_S Program functionally with its lane probe (`kernels.i2s.avx2.build(...,
probe_lanes=True)`) to read every int16 lane partial sum, then climbs greedily: it ranks each
(chunk, lane, direction) by how far the lane could be pushed, and for the best one changes the
lane's activations one at a time, largest gain first (q -> 127 or -128 where the code is nonzero),
until the exact lane sum leaves int16. The functional run then confirms: the probed lane has
wrapped and the row's result differs from `ternary_matvec` by a multiple of 65536.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from isa_models.core.execute import execute
from kernels.i2s import avx2 as i2s
from workbench.quant import quantize_activations
from workbench.reference import ternary_matvec

__all__ = ["Overflow", "NoOverflow", "find_overflow", "probe_row"]

INT16_MIN, INT16_MAX = -32768, 32767


@dataclass(frozen=True)
class Overflow:
    """An input that breaks I2_S, as found and confirmed by the functional run.

    q : the activations (int8 [K]). row, chunk, lane : where the int16 lane overflows.
    lane_exact : the lane's true sum; lane_kernel : the int16 value the kernel held (wrapped).
    expected : the exact row accumulator; kernel : what the I2_S kernel returned for the row.
    changed : how many activations the search changed from its start vector; steps : lanes tried.
    """

    q: np.ndarray
    row: int
    chunk: int
    lane: int
    lane_exact: int
    lane_kernel: int
    expected: int
    kernel: int
    changed: int
    steps: int

    def describe(self) -> str:
        return (f"row {self.row}: expected {self.expected}, got {self.kernel} (int16 wrap in lane {self.lane}"
                f" of chunk {self.chunk}: true sum {self.lane_exact}, lane held {self.lane_kernel}; "
                f"{self.changed} activations changed)")


@dataclass(frozen=True)
class NoOverflow:
    """No activation vector overflows this row: the largest reachable lane sums stay in int16."""

    row: int
    max_lane_sum: int
    min_lane_sum: int

    def describe(self) -> str:
        return (f"row {self.row}: no int8 activations overflow it (lane sums reach at most "
                f"[{self.min_lane_sum}, {self.max_lane_sum}])")


def probe_row(codes_row: np.ndarray, q: np.ndarray, *, blocks_per_chunk: int = 32):
    """Run I2_S functionally on one row; return (int16 lanes [chunks, 16], row result int32)."""
    k = codes_row.shape[0]
    tile = np.zeros((i2s.ROWS, k), np.int8)
    tile[0] = codes_row
    program = i2s.build(i2s.ROWS, k, blocks_per_chunk=blocks_per_chunk, probe_lanes=True)
    out = execute(program, i2s.prepare(tile, q, blocks_per_chunk=blocks_per_chunk))
    lanes = out["lanes"].view("<i2").reshape(i2s.ROWS, -1, i2s.LANES)[0].astype(np.int64)
    return lanes, int(i2s.result(out)[0])


def _lane_members(k: int, chunk_blocks: tuple[int, int], lane: int) -> np.ndarray:
    first, count = chunk_blocks
    blocks = np.arange(first, first + count)[:, None, None]
    offs = (32 * np.arange(4))[None, :, None] + 2 * lane + np.arange(2)[None, None, :]
    return (blocks * i2s.QK + offs).reshape(-1)


def find_overflow(codes, row: int, *, q0=None, seed: int = 0, blocks_per_chunk: int = 32):
    """Search activations that overflow an int16 lane of I2_S for `codes[row]`.

    Parameters
    ----------
    codes : int8 [M, K] ternary weights (K a multiple of 128).
    row : the row to attack.
    q0 : start activations int8 [K]; default: Student-t activations quantized per token.

    Returns
    -------
    `Overflow` (confirmed by the functional run) or `NoOverflow` (no int8 input can overflow).
    """
    codes = np.asarray(codes)
    if codes.ndim != 2 or not 0 <= row < codes.shape[0]:
        raise ValueError(f"adversarial: row {row} is not a row of codes with shape {codes.shape}")
    k = codes.shape[1]
    i2s.check_shape(i2s.ROWS, k, blocks_per_chunk=blocks_per_chunk)
    c = codes[row].astype(np.int64) + 1
    if q0 is None:
        x = np.random.default_rng(seed).standard_t(4, size=(1, k)).astype(np.float32)
        q0 = quantize_activations(x)[0][0]
    q0 = np.asarray(q0, dtype=np.int8)
    lanes, _ = probe_row(codes[row], q0, blocks_per_chunk=blocks_per_chunk)
    chunks = i2s._chunks(k, blocks_per_chunk)
    # rank every (chunk, lane, direction) by the extreme sum it can reach, ties by the probed sum
    candidates = []
    for ci, cb in enumerate(chunks):
        for lane in range(i2s.LANES):
            cap = int(c[_lane_members(k, cb, lane)].sum())
            candidates.append((127 * cap - INT16_MAX, int(lanes[ci, lane]), ci, lane, +1))
            candidates.append((128 * cap - (-INT16_MIN), -int(lanes[ci, lane]), ci, lane, -1))
    candidates.sort(key=lambda t: (t[0], t[1]), reverse=True)
    best_hi = max(t[0] for t in candidates if t[4] > 0) + INT16_MAX
    best_lo = -(max(t[0] for t in candidates if t[4] < 0) - INT16_MIN)
    for steps, (margin, _, ci, lane, direction) in enumerate(candidates, start=1):
        if margin <= 0:
            break
        members = _lane_members(k, chunks[ci], lane)
        q = q0.astype(np.int64).copy()
        target = 127 if direction > 0 else -128
        gains = c[members] * (target - q[members]) * direction
        order = members[np.argsort(-gains, kind="stable")]
        total = int((c[members] * q[members]).sum())
        changed = 0
        for idx in order:
            if INT16_MIN <= total <= INT16_MAX or changed == 0:
                if c[idx] == 0 or q[idx] == target:
                    continue
                total += int(c[idx] * (target - q[idx]))
                q[idx] = target
                changed += 1
            if not INT16_MIN <= total <= INT16_MAX:
                break
        if INT16_MIN <= total <= INT16_MAX:
            continue
        q8 = q.astype(np.int8)
        probed, got = probe_row(codes[row], q8, blocks_per_chunk=blocks_per_chunk)
        expected = int(ternary_matvec(q8[None], codes[row:row + 1])[0, 0])
        if got != expected and int(probed[ci, lane]) != total:
            return Overflow(q8, row, ci, lane, total, int(probed[ci, lane]), expected, got, changed, steps)
    return NoOverflow(row, best_hi, best_lo)
