"""Adversarial search: inputs that overflow a kernel's narrow lanes, found without help and confirmed.

Kernel layer, generic (DESIGN.md §4: "the adversarial search must find the inputs that break
it"). No overflow input is written by hand. The objective is a lane's exact partial sum, from
the kernel family's `LaneModel` (`kernels.search.lanes.lane_model`): `find_overflow` changes the
activations for a given weight row, `find_overflow_row` the weight codes for given activations.
Both rank every (lane, direction) by how far the lane could be pushed, then for the best one
move the lane's inputs one at a time, largest gain first, until the exact sum leaves the lane's
range. The functional run confirms a hit: the kernel (`kernels.registry.run`) returns a row
accumulator different from `workbench.reference.ternary_matvec`, and the family's probe shows
the lane held something other than its true sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels import registry
from kernels.search.lanes import LaneModel, check_row, lane_model
from workbench.errors import UserError
from workbench.quant import quantize_activations
from workbench.reference import ternary_matvec

__all__ = ["Overflow", "NoOverflow", "find_overflow", "find_overflow_row"]

Q_MIN, Q_MAX = -128, 127            # int8 activations
CODES = np.array([-1, 0, 1], np.int8)
MAX_TILE_ROWS = 64                  # the largest row tile tried when looking for a shape the kernel takes


@dataclass(frozen=True)
class Overflow:
    """An input that breaks the kernel, found by the search and confirmed by the functional run.

    Attributes
    ----------
    q : int8 [K] the activations. codes : int8 [K] the weight row.
    row : the row of the caller's weight matrix (0 for `find_overflow_row`).
    chunk, lane : the lane that leaves its range. lane_exact : its true sum; lane_kernel : what
        the kernel's lane held. expected : the exact row accumulator; kernel : what the kernel
        returned for the row.
    searched : "activations" or "weights"; changed : how many of them the search changed from its
        start vector; steps : (lane, direction) candidates tried.
    """

    q: np.ndarray
    codes: np.ndarray
    row: int
    chunk: int
    lane: int
    lane_exact: int
    lane_kernel: int
    expected: int
    kernel: int
    searched: str
    changed: int
    steps: int

    def describe(self) -> str:
        return (f"row {self.row}: expected {self.expected}, got {self.kernel} (lane {self.lane} of chunk "
                f"{self.chunk} overflows: true sum {self.lane_exact}, lane held {self.lane_kernel}; "
                f"{self.changed} {self.searched} changed)")


@dataclass(frozen=True)
class NoOverflow:
    """No input of the searched kind overflows a lane: the reachable lane sums stay in range."""

    row: int
    max_lane_sum: int
    min_lane_sum: int
    searched: str = "activations"

    def describe(self) -> str:
        other = "int8 activations" if self.searched == "activations" else "ternary weight rows"
        return (f"row {self.row}: no {other} overflow it (lane sums reach at most "
                f"[{self.min_lane_sum}, {self.max_lane_sum}])")


class _Search:
    """The kernel, its lane model and parameters, and a row tile of a shape the kernel takes."""

    def __init__(self, kernel: str, isa: str | None, K: int, params: dict):
        if isa is None and len({s.isa for s in registry.kernels() if s.name == kernel}) > 1:
            isa = lane_model(kernel).isa              # a name on several ISAs: the one with lanes
        self.spec = registry.get(kernel, isa)
        self.model: LaneModel = lane_model(kernel, self.spec.isa)
        self.params = self.spec.resolve(**params)
        self.rows = next((m for m in range(1, MAX_TILE_ROWS + 1) if self.spec.supports(m, K, **self.params)),
                         None)
        if self.rows is None:
            raise UserError(f"adversarial: kernel {kernel}/{self.spec.isa} takes no row tile of "
                            f"1..{MAX_TILE_ROWS} rows at K={K} with {self.params}")
        self.lanes = self.model.lanes(K, **self.params)
        self.program = self.spec.build(self.rows, K, **self.params)

    def confirm(self, codes_row: np.ndarray, q: np.ndarray, index: int, total: int):
        """(held, got, expected) when the functional run breaks the row at lane `index`, else None."""
        tile = np.zeros((self.rows, codes_row.shape[0]), np.int8)
        tile[0] = codes_row
        got = int(registry.run(self.spec, tile, q, program=self.program, **self.params)[0])
        expected = int(ternary_matvec(q[None], codes_row[None])[0, 0])
        held = int(self.model.probe(codes_row, q, **self.params)[index])
        if got != expected and held != total:
            return held, got, expected
        return None


def _int8(values, what: str) -> np.ndarray:
    """`values` as int8, or UserError naming `what` when they are not integers in int8 range."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu" or (arr.size and not Q_MIN <= int(arr.min()) <= int(arr.max()) <= Q_MAX):
        raise UserError(f"adversarial: {what} must be integers in [{Q_MIN}, {Q_MAX}], got {arr.dtype} values")
    return arr.astype(np.int8)


def _climb(members: np.ndarray, current: np.ndarray, best: np.ndarray, lo: int, hi: int):
    """Move members from `current` to `best` contribution, largest gain first, until the lane sum
    leaves [lo, hi]. Returns (the members moved, the new sum), or None if it never leaves."""
    gains = np.abs(best[members] - current[members])
    total = int(current[members].sum())
    moved = []
    for k in members[np.argsort(-gains, kind="stable")]:
        if best[k] == current[k]:
            break
        total += int(best[k] - current[k])
        moved.append(int(k))
        if not lo <= total <= hi:
            return np.array(moved, np.int64), total
    return None


def _search(s: _Search, current: np.ndarray, best: dict[int, np.ndarray], apply, row: int, searched: str):
    """Rank (lane, direction) by reachable margin, climb each, return the first confirmed `Overflow`.

    current : int64 [K] each input's present contribution; best[d] : int64 [K] the contribution of
    each input's choice that pushes direction d furthest; apply(d, moved) -> (codes_row, q).
    """
    lo, hi = s.model.lo, s.model.hi
    candidates = []
    reach = {+1: [], -1: []}
    for index, lane in enumerate(s.lanes):
        now = int(current[lane.members].sum())
        for d in (+1, -1):
            extreme = int(best[d][lane.members].sum())
            reach[d].append(extreme)
            margin = extreme - hi if d > 0 else lo - extreme
            candidates.append((margin, d * now, index, d))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    for steps, (margin, _, index, d) in enumerate(candidates, start=1):
        if margin <= 0:
            break
        lane = s.lanes[index]
        climbed = _climb(lane.members, current, best[d], lo, hi)
        if climbed is None:
            continue
        moved, total = climbed
        codes_row, q = apply(d, moved)
        confirmed = s.confirm(codes_row, q, index, total)
        if confirmed is not None:
            held, got, expected = confirmed
            return Overflow(q, codes_row, row, lane.chunk, lane.lane, total, held, expected, got, searched,
                            len(moved), steps)
    return NoOverflow(row, max(reach[+1], default=0), min(reach[-1], default=0), searched)


def find_overflow(codes, row: int, *, kernel: str, isa: str | None = None, q0=None, seed: int = 0,
                  **params):
    """Search activations that overflow a lane of `kernel` for the weight row ``codes[row]``.

    Parameters
    ----------
    codes : int8 [M, K] ternary weights.
    row : the row to attack.
    kernel, isa : the kernel (`kernels.registry`; `isa` may be omitted when the kernel has one
        lane model).
    q0 : start activations int8 [K]; default: Student-t activations quantized per token.
    params : kernel parameters (defaults from the registry).

    Returns
    -------
    `Overflow` (confirmed by the functional run) or `NoOverflow` (no int8 input overflows the row).
    """
    codes = np.asarray(codes)
    if codes.ndim != 2 or not 0 <= row < codes.shape[0]:
        raise UserError(f"adversarial: row {row} is not a row of codes with shape {codes.shape}")
    k = codes.shape[1]
    s = _Search(kernel, isa, k, params)
    if q0 is None:
        x = np.random.default_rng(seed).standard_t(4, size=(1, k)).astype(np.float32)
        q0 = quantize_activations(x)[0][0]
    q0 = _int8(q0, "start activations q0")
    codes_row = codes[row].astype(np.int8)
    check_row(s.model, codes_row, q0)
    w = s.model.code_weight(codes_row).astype(np.int64)
    q = q0.astype(np.int64)
    targets = {d: np.where(d * w > 0, Q_MAX, np.where(d * w < 0, Q_MIN, q)) for d in (+1, -1)}
    best = {d: w * targets[d] for d in (+1, -1)}

    def apply(d, moved):
        new = q.copy()
        new[moved] = targets[d][moved]
        return codes_row, new.astype(np.int8)

    return _search(s, w * q, best, apply, row, "activations")


def find_overflow_row(q, *, kernel: str, isa: str | None = None, codes0=None, seed: int = 0, **params):
    """Search a ternary weight row that overflows a lane of `kernel` for the activations `q`.

    Parameters
    ----------
    q : int8 [K] activations.
    kernel, isa : as `find_overflow`.
    codes0 : start row int8 [K] of -1/0/+1; default: uniform random codes from `seed`.

    Returns
    -------
    `Overflow` (row 0; ``codes`` is the row found) or `NoOverflow` (no ternary row overflows).
    """
    q = _int8(q, "activations q")
    if q.ndim != 1:
        raise UserError(f"adversarial: activations must be a vector [K], got shape {q.shape}")
    k = q.shape[0]
    s = _Search(kernel, isa, k, params)
    if codes0 is None:
        codes0 = np.random.default_rng(seed).integers(-1, 2, k).astype(np.int8)
    codes0 = np.asarray(codes0)
    if not np.isin(codes0, CODES).all():
        raise UserError("adversarial: the start row must hold ternary codes -1, 0, +1 only")
    codes0 = codes0.astype(np.int8)
    check_row(s.model, codes0, q)
    qq = q.astype(np.int64)
    per_code = s.model.code_weight(CODES).astype(np.int64)[:, None] * qq[None, :]    # [3, K]
    targets = {d: CODES[np.argmax(d * per_code, axis=0)] for d in (+1, -1)}
    best = {d: per_code.max(axis=0) if d > 0 else per_code.min(axis=0) for d in (+1, -1)}
    current = s.model.code_weight(codes0).astype(np.int64) * qq

    def apply(d, moved):
        new = codes0.copy()
        new[moved] = targets[d][moved]
        return new, q.astype(np.int8)

    return _search(s, current, best, apply, 0, "weights")
