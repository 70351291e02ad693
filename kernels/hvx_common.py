"""Shared pieces of the HVX kernels: spec, constants, splats, and the rows128 vrmpy skeleton.

Kernel layer, HVX (128-byte vectors). Generic helpers (`kernel_spec`, `check_q`, `int32_rows`,
`pack_vectors`, `q_sum_bytes`) come from `kernels.common`. HVX builds byte splats from scalar
immediates (`splat_b`), so only tables that are not splats live in a "const" buffer. Every kernel
over the ``rows128`` layout (`workbench.formats.hvx_tiles`) shares `rows128_program`: a parallel
loop over groups of 128-row tiles, a sequential loop over 128-column blocks that loads one aligned
activation vector, and an inner loop of 32 column steps that rotates it (vror by 4 bytes more each
step) into the activations every weight vector of the step multiplies. A kernel supplies the
per-vector step and the finish that turns its accumulators into the int32 rows 32f + i.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program, VReg
from isa_models.hvx import ISA
from kernels.common import check_q, int32_rows, kernel_spec, pack_vectors, q_sum_bytes
from workbench.formats import get_format

__all__ = ["VBYTES", "hvx_kernel", "weight_placement", "vector_consts", "splat_b", "splat_w", "qsum_vector", "ROWS",
           "rows128_tiles", "check_rows128", "rows128_program", "rows128_prepare", "int32_rows"]

VBYTES = 128
ROWS = 128            # rows per rows128 tile (32 words x 4 fields)


def hvx_kernel(name: str, weight_format: str, **facts):
    """The `KernelSpec` of HVX kernel `name` (isa "hvx")."""
    return kernel_spec("hvx", name, weight_format, **facts)


def vector_consts(*vectors: np.ndarray) -> np.ndarray:
    """Concatenate 128-byte constant vectors into one uint8 "const" buffer."""
    return pack_vectors(*vectors, width=VBYTES)


def splat_b(b: ProgramBuilder, value: int) -> VReg:
    """A vector with every byte = value (r = #value; v = vsplat(r))."""
    return b.vsplat_b(b.tfrsi(value & 0xFF if value >= 0 else value), comment=f"{value:#x} per byte")


def splat_w(b: ProgramBuilder, value: int) -> VReg:
    """A vector with every word = value (|value| < 2**15)."""
    return b.vsplat_w(b.tfrsi(value), comment=f"{value} per word")


def qsum_vector(q: np.ndarray) -> np.ndarray:
    """sum(q) as int32 in all 32 words of one vector (bitnet.cpp's act_sum, splat at quantization)."""
    return np.tile(q_sum_bytes(q), 32)


def weight_placement(dma: int) -> dict:
    """Program meta for the timing engine (isa_models/core/timing/vliw.py, ``meta["placement"]``):
    with dma = 1 the weight buffer "w" streams from DDR into VTCM by DMA, double-buffered, as
    T-MAN's WeightsInVTCM path does; with 0 the engine places every buffer itself (VTCM when the
    footprint fits, the warm default)."""
    if dma not in (0, 1):
        raise ValueError(f"dma={dma} must be 0 or 1")
    return {"placement": {"w": "dma"}} if dma else {}


def rows128_tiles(M: int, max_tiles: int, *, contexts: int = 4) -> int:
    """Tiles of 128 rows per parallel iteration: among the divisors t <= max_tiles of M / 128, the one
    with the fewest packets per context, ceil(M/128 / (t * contexts)) * (2 t + 0.5) (about two
    packets per weight vector plus the activation rotation each step, shared by the t tiles).
    `contexts` = 4, the HVX machines' count (an assumption there, isa_models/machines/hvx): a
    tuning choice (load balance over contexts), never a correctness one."""
    n = M // ROWS
    options = [t for t in range(1, max_tiles + 1) if n % t == 0]
    return min(options, key=lambda t: (-(-n // (t * contexts)) * (2 * t + 0.5), -t))


def check_rows128(kernel: str, M: int, K: int, *, tiles: int = 0, max_k: int | None = None) -> None:
    """M a multiple of 128 (of 128 * tiles if tiles > 0), K a multiple of 128 (and <= max_k)."""
    if K <= 0 or K % 128:
        raise ValueError(f"{kernel}/hvx: K={K} is not a positive multiple of 128")
    if max_k is not None and K > max_k:
        raise ValueError(f"{kernel}/hvx: K={K} exceeds {max_k}, the largest K whose int32 sums cannot wrap")
    if tiles < 0:
        raise ValueError(f"{kernel}/hvx: tiles={tiles} is negative (0 = automatic)")
    step = ROWS * max(tiles, 1)
    if M <= 0 or M % step:
        raise ValueError(f"{kernel}/hvx: M={M} is not a positive multiple of {step} (tiles of 128 rows)")


def _run(gen, steps: int):
    """Advance generator `gen` by up to `steps` yields; (alive, value returned when it finished)."""
    for _ in range(steps):
        try:
            next(gen)
        except StopIteration as stop:
            return False, stop.value
    return True, None


def rows128_program(kernel: str, M: int, K: int, *, tiles: int, setup: Callable, init: Callable,
                    unpack: Callable, accumulate: Callable, finish: Callable,
                    activations: Callable | None = None, const: np.ndarray | None = None, unroll: int = 32,
                    dma: int = 0, **meta) -> Program:
    """The Program of a rows128 kernel.

    Parameters
    ----------
    tiles : 128-row tiles per parallel iteration (they share each activation vector).
    setup : ``(b, consts) -> env`` before the loops (splats, masks); consts is the "const" buffer or None.
    init : ``(b, env) -> state`` the zeroed accumulators of one tile.
    unpack : generator ``(b, env, x) -> parts``: what one weight vector x (128 rows x 4 columns)
        needs before it meets the activations (masks, shifts); it yields after each instruction.
    accumulate : generator ``(b, env, parts, act, state)``: the parts against the activation
        vector act (word i = the 4 activations of row-lane i); yields after each instruction.
    finish : ``(b, env, state, qs) -> [4 vectors]`` int32 rows 32f + i, f = 0..3; qs holds sum(q)
        in every word.
    activations : optional ``(b, env, act) -> act'`` applied once per step (shared by the tiles).
    unroll : column steps per inner-loop iteration (a divisor of the 32 steps of a column block).
    dma : 1 = the weights stream from DDR into VTCM by DMA, double-buffered (`weight_placement`).

    The body is emitted software-pipelined for the in-order packetizer (isa.md §3.4, §3.6): weight
    vector n + 2 is loaded, vector n + 1 unpacked and vector n accumulated together, one unpack
    instruction per two accumulating ones, so the multiplier's early operands are two packets old
    when read and a vector takes {vmem; unpack; acc; acc} {unpack; acc; acc; unpack} when its
    unpack is three vector-ALU instructions.
    """
    if unroll <= 0 or 32 % unroll:
        raise ValueError(f"{kernel}/hvx: unroll={unroll} does not divide the 32 steps of a column block")
    b = ProgramBuilder(ISA, f"{kernel}_hvx_{M}x{K}", kernel=kernel, M=M, K=K, format="rows128", tiles=tiles,
                       **weight_placement(dma), **meta)
    w = b.buffer("w", get_format("rows128").nbytes(M, K))
    q = b.buffer("q", K)
    qsum = b.buffer("qsum", VBYTES)
    consts = b.buffer("const", int(const.size), role="const") if const is not None else None
    acc = b.buffer("acc", 4 * M, role="output")
    env = setup(b, consts)
    by = {4: b.tfrsi(4), 8: b.tfrsi(8)}
    steps = K // 4
    with b.loop("t", M // (ROWS * tiles), parallel=True) as t:
        state = [init(b, env) for _ in range(tiles)]
        with b.loop("kb", K // 128) as kb:
            qv = b.vmem_load(q[128 * kb], comment="128 activations")
            rot = b.tfrsi(0, comment="rotation of the iteration's first step") if unroll < 32 else None
            with b.loop("g", 32 // unroll) as g:
                acts: list = []
                raw: list = []

                def rotate() -> None:
                    """The next step's activations (word i = q[4((step + i) % 32) + s]): the first
                    step's is qv rotated by 4 * unroll * g, then two vror chains by 4 and by 8."""
                    u = len(raw)
                    if u == 0:
                        a = qv if rot is None else b.vror(qv, rot)
                    else:
                        a = b.vror(raw[0] if u == 1 else raw[u - 2], by[4] if u == 1 else by[8])
                    raw.append(a)
                    acts.append(activations(b, env, a) if activations is not None else a)
                items = [(u, r) for u in range(unroll) for r in range(tiles)]

                def load(n):
                    u, r = items[n]
                    return b.vmem_load(w[((t * tiles + r) * steps + 32 * kb + unroll * g + u) * VBYTES])
                rotate()
                loaded = [load(0)] + ([load(1)] if len(items) > 1 else [])
                _, parts = _run(unpack(b, env, loaded[0]), 1 << 30)
                for n, (u, r) in enumerate(items):
                    if r == 0 and u + 1 < unroll:
                        rotate()
                    if n + 2 < len(items):
                        loaded.append(load(n + 2))
                    nxt = unpack(b, env, loaded[n + 1]) if n + 1 < len(items) else None
                    cur = accumulate(b, env, parts, acts[u], state[r])
                    alive_n, alive_c, following = nxt is not None, True, None
                    while alive_n or alive_c:
                        if alive_n:
                            alive_n, value = _run(nxt, 1)
                            if not alive_n:
                                following = value
                        if alive_c:
                            alive_c, _ = _run(cur, 2)
                    parts = following
                if rot is not None:
                    b.addi(rot, 4 * unroll, out=rot)
        qs = b.vmem_load(qsum[0], comment="sum(q) per word")
        for r in range(tiles):
            for f, row in enumerate(finish(b, env, state[r], qs)):
                b.vmem_store(acc[(t * tiles + r) * (4 * ROWS) + 4 * 32 * f], row)
    return b.build()


def rows128_prepare(kernel: str, codes, q, *, const: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Buffers of a rows128 kernel: w (rows128, gamma 1), q, qsum (sum(q) per word), const."""
    m, k = np.shape(codes)
    q = check_q(q, k, f"{kernel}/hvx.prepare")
    out = {"w": get_format("rows128").pack(codes, gamma=1.0), "q": q.view(np.uint8).copy(),
           "qsum": qsum_vector(q)}
    if const is not None:
        out["const"] = const
    return out
