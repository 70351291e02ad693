"""Lane models: which products a kernel sums into each narrow accumulator lane, and how to read them.

Kernel layer, generic (it names no ISA). A kernel that accumulates in lanes narrower than its
int32 result (a 16-bit lane that is widened only every few blocks) is exact only while every
lane's partial sum stays in range. Its family describes those lanes once, in
``kernels/<family>/lanes.py``, as ``LANE_MODELS``: a tuple of `LaneModel`, one per ISA. The
adversarial search (`kernels.search.adversarial`) finds them with `lane_model` and pushes the
lanes out of range; the family's `probe` reads what the kernel's lanes really held.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from workbench.errors import UnknownNameError, UserError

__all__ = ["Lane", "LaneModel", "lane_model", "lane_models", "register_lane_model", "check_row"]


@dataclass(frozen=True)
class Lane:
    """One narrow accumulator lane over one accumulation chunk.

    Attributes
    ----------
    chunk : the accumulation chunk (the lanes are widened and restarted after each chunk).
    lane : the lane's index inside its accumulator.
    members : int64 [n] the activation indices k whose products ``weight(code[k]) * q[k]`` the
        lane sums (`LaneModel.code_weight` gives the weight of a code).
    """

    chunk: int
    lane: int
    members: np.ndarray


@dataclass(frozen=True)
class LaneModel:
    """The narrow lanes of one kernel on one ISA.

    Attributes
    ----------
    kernel, isa : the `kernels.registry` key of the kernel these lanes belong to.
    lo, hi : the range a lane holds exactly (a sum outside it wraps or saturates).
    code_weight : ``(codes int8 [...]) -> int64 [...]``: the factor a ternary code puts on its
        activation in a lane sum (1 + code for a kernel that multiplies unsigned codes 0..2).
    lanes : ``(K, **params) -> list[Lane]``: every lane of a row of length K, in `probe` order.
    probe : ``(codes_row int8 [K], q int8 [K], **params) -> int64 [len(lanes)]``: the values the
        kernel's lanes held for this row, from a functional run of the kernel with its lanes exposed.
    description : one line: which products land in which lane.
    """

    kernel: str
    isa: str
    lo: int
    hi: int
    code_weight: Callable[[np.ndarray], np.ndarray]
    lanes: Callable[..., list[Lane]]
    probe: Callable[..., np.ndarray]
    description: str = ""

    def __post_init__(self) -> None:
        if not self.lo < 0 < self.hi:
            raise ValueError(f"lane model {self.kernel}/{self.isa}: range [{self.lo}, {self.hi}] must contain 0")

    def sums(self, codes_row: np.ndarray, q: np.ndarray, **params) -> np.ndarray:
        """The exact (unwrapped) int64 sum of every lane, in `lanes` order."""
        w = self.code_weight(np.asarray(codes_row)).astype(np.int64) * np.asarray(q).astype(np.int64)
        return np.array([int(w[lane.members].sum()) for lane in self.lanes(len(w), **params)], np.int64)

    def wrap(self, value: int) -> int:
        """`value` brought into [lo, hi] modulo the lane's span (what a wrapping lane holds)."""
        span = self.hi - self.lo + 1
        return (int(value) - self.lo) % span + self.lo


_MODELS: dict[tuple[str, str], LaneModel] = {}
_discovered = False


def register_lane_model(model: LaneModel) -> LaneModel:
    """Add `model` (tests, plug-ins); the same (kernel, ISA) twice is an error."""
    key = (model.kernel, model.isa)
    if key in _MODELS and _MODELS[key] is not model:
        raise ValueError(f"lane model {model.kernel}/{model.isa} registered twice")
    _MODELS[key] = model
    return model


def _discover() -> None:
    """Register the ``LANE_MODELS`` of every ``kernels/<family>/lanes.py``."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    root = Path(__file__).resolve().parents[1]
    for path in sorted(root.glob("*/lanes.py")):
        if path.parent == Path(__file__).resolve().parent:
            continue
        module = importlib.import_module(f"kernels.{path.parent.name}.lanes")
        for model in module.LANE_MODELS:
            register_lane_model(model)


def lane_models() -> list[LaneModel]:
    """Every registered lane model, sorted by (kernel, ISA)."""
    _discover()
    return [m for _, m in sorted(_MODELS.items())]


def lane_model(kernel: str, isa: str | None = None) -> LaneModel:
    """The lane model of `kernel` on `isa` (or its only one when `isa` is None).

    Raises
    ------
    UnknownNameError : no such model (or, without `isa`, more than one); lists the valid ones.
    """
    _discover()
    hits = [m for (k, i), m in sorted(_MODELS.items()) if k == kernel and (isa is None or i == isa)]
    if len(hits) == 1:
        return hits[0]
    valid = ", ".join(f"{k}/{i}" for k, i in sorted(_MODELS)) or "(none)"
    if hits:
        raise UnknownNameError(f"kernel {kernel!r} has lane models on several ISAs (name one); valid: {valid}")
    target = f"{kernel}/{isa}" if isa else repr(kernel)
    raise UnknownNameError(f"no lane model for kernel {target}: only kernels that accumulate in narrow lanes "
                           f"have one; valid: {valid}")


def check_row(model: LaneModel, codes_row: np.ndarray, q: np.ndarray) -> None:
    """UserError unless codes_row and q are int8 vectors of one length."""
    codes_row, q = np.asarray(codes_row), np.asarray(q)
    if codes_row.ndim != 1 or q.shape != codes_row.shape or q.dtype != np.int8:
        raise UserError(f"lane model {model.kernel}/{model.isa}: need a weight row [K] and int8 activations "
                        f"[K], got {codes_row.shape} and {q.dtype} {q.shape}")
