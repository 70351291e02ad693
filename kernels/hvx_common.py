"""Shared pieces of the HVX kernels: spec, constants, splats, and the rows128 vrmpy skeleton.

Kernel layer, HVX (128-byte vectors). Generic helpers (`kernel_spec`, `check_q`, `int32_rows`,
`pack_vectors`, `q_sum_bytes`) come from `kernels.common`. HVX builds byte splats from scalar
immediates (`splat_b`), so only tables that are not splats live in a "const" buffer. Every kernel
over the ``rows128`` layout (`workbench.formats.vector_tiles`) shares `rows128_program`: a parallel
loop over groups of 128-row tiles, a sequential loop over 128-column blocks that loads one aligned
activation vector, and an inner loop of 32 column steps that rotates it (vror by 4 bytes more each
step) into the activations every weight vector of the step multiplies. A kernel supplies the
per-vector step and the finish that turns its accumulators into the int32 rows 32f + i, and
`rows128_kernel` makes its `KernelSpec` (check_shape, build, prepare; parameters tiles and dma);
`zero_words` and `field_codes` are the steps several kernels share.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from isa_models.core.builder import ProgramBuilder
from isa_models.core.program import Program, VReg
from isa_models.hvx import ISA
from kernels.common import gemv_buffers, gemv_program, int32_rows, kernel_spec, pack_vectors, q_sum_bytes
from kernels.registry import KernelSpec

__all__ = ["VBYTES", "hvx_kernel", "weight_placement", "vector_consts", "splat_b", "splat_w", "qsum_vector", "ROWS",
           "rows128_tiles", "check_rows128", "rows128_program", "rows128_prepare", "rows128_kernel", "zero_words",
           "field_codes", "int32_rows"]

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


def check_rows128(kernel: str, M: int, K: int, *, tiles: int = 0, dma: int = 0, max_k: int | None = None) -> None:
    """dma 0 or 1, M a multiple of 128 (of 128 * tiles if tiles > 0), K a multiple of 128 (and <= max_k)."""
    if dma not in (0, 1):
        raise ValueError(f"{kernel}/hvx: dma={dma} must be 0 or 1")
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
    extra = [("const", int(const.size), "const")] if const is not None else []
    b, w, q, qsum, *consts, acc = gemv_program(ISA, kernel, M, K, "rows128", buffers=[("qsum", VBYTES), *extra],
                                               tiles=tiles, **weight_placement(dma), **meta)
    consts = consts[0] if consts else None
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
    extra = {"const": const} if const is not None else {}
    return gemv_buffers("rows128", codes, q, f"{kernel}/hvx.prepare", qsum=qsum_vector, **extra)


def zero_words(b: ProgramBuilder, env: dict) -> list[VReg]:
    """`init` of a kernel with one int32 accumulator per field: four vectors of zero words
    (vsplat of the scalar env["zero"])."""
    return [b.vsplat_w(env["zero"]) for _ in range(4)]


def field_codes(b: ProgramBuilder, env: dict, x: VReg):
    """`unpack` to byte codes 0..2 of the four 2-bit fields of x: (x >> 2f) & 0x03 by vlsr.ub (per
    byte) and vand; the top field needs no mask. env: "mask" (0x03 per byte), "s2", "s4", "s6"
    (scalar shift counts). A generator: it yields after each instruction and returns the codes."""
    codes = [b.vand(x, env["mask"])]
    for s in ("s2", "s4"):
        yield
        shifted = b.vlsr_ub_r(x, env[s])
        yield
        codes.append(b.vand(shifted, env["mask"]))
    yield
    codes.append(b.vlsr_ub_r(x, env["s6"]))
    return codes


def rows128_kernel(name: str, *, max_tiles: int, max_k: int, setup: Callable, init: Callable, unpack: Callable,
                   accumulate: Callable, finish: Callable, activations: Callable | None = None,
                   **facts) -> KernelSpec:
    """The `KernelSpec` of rows128 kernel `name` on HVX, with parameters tiles and dma.

    Parameters
    ----------
    max_tiles : the most 128-row tiles per parallel iteration (their accumulators share the 32
        vector registers); tiles=0 picks one by `rows128_tiles`.
    max_k : the largest K the kernel takes (its int32 sums cannot wrap up to it).
    setup, init, unpack, accumulate, finish, activations : the steps (`rows128_program`).
    facts : description, exactness and the optional KernelSpec fields.
    """
    steps = dict(setup=setup, init=init, unpack=unpack, accumulate=accumulate, finish=finish,
                 activations=activations)

    def check_shape(M: int, K: int, *, tiles: int = 0, dma: int = 0) -> None:
        """K a multiple of 128 up to max_k, M a multiple of 128 * tiles, dma 0 or 1."""
        check_rows128(name, M, K, tiles=tiles, dma=dma, max_k=max_k)

    def build(M: int, K: int, *, tiles: int = 0, dma: int = 0) -> Program:
        """The Program for an M x K weight (tiles=0: as many 128-row tiles as divide M, up to max_tiles)."""
        check_shape(M, K, tiles=tiles, dma=dma)
        return rows128_program(name, M, K, tiles=tiles or rows128_tiles(M, max_tiles), dma=dma, **steps)

    def prepare(codes, q, *, tiles: int = 0, dma: int = 0) -> dict[str, np.ndarray]:
        """Buffers: w (rows128), q, qsum (sum(q) per word; kernels that need no correction ignore it)."""
        m, k = np.shape(codes)
        check_shape(m, k, tiles=tiles)
        return rows128_prepare(name, codes, q)

    return hvx_kernel(name, "rows128", build=build, prepare=prepare, check_shape=check_shape, result=int32_rows,
                      params={"tiles": 0, "dma": 0}, **facts)
