"""Tiled GEMV / GEMM of a BitNet projection on the NPU MAC array, as an NPU-ISA Program.

Kernel layer (imports isa_models.npu and the ground-truth layer). `plan_gemm` chooses the tiling
for one machine and shape: K chunks that fit a weight bank (and an activation bank), row tiles and
tokens grouped per pass so that every accumulator bank holds one (row tile, token) pair, K
segments short enough that the accumulators cannot overflow, and whether the activations stay
resident in the activation SRAM or stream with the weights. `gemm_program` emits the
double-buffered command stream (the DMA fills bank s+1 while the array reads bank s);
`gemm_inputs` packs the DRAM images and `gemm_output` reads the int32 accumulators back
(summing K segments on the host when a machine's accumulators are narrower than the shape needs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from isa_models.core.program import Program
from isa_models.core.execute import execute
from isa_models.npu import NpuBuilder, NpuParams, pack_matrix_tiles
from isa_models.npu.encoding import tile_words

__all__ = ["GemmPlan", "plan_gemm", "gemm_program", "gemm_inputs", "gemm_output", "run_gemm"]


@dataclass(frozen=True)
class GemmPlan:
    """Tiling of acc[T, M] = x[T, K] . W[M, K]^T on one NPU machine.

    Attributes
    ----------
    m, k, tokens : the problem.
    row_tiles : ceil(M / R); k_words : ceil(K / C) activation words per token.
    chunk_words : words per MAC command (one weight chunk of one row tile), a power of two that
        fits a weight bank `rows_per_pass` times and never crosses an activation bank.
    segments : K segments [(first word, words)]; each sums at most `max_exact_k` products, so
        the acc_bits-wide accumulators stay exact; more than one segment means the host adds the
        segments' int32 partial sums (`gemm_output`).
    rows_per_pass, tokens_per_pass : (row tile, token) pairs sharing one pass, at most
        acc_banks of them (one accumulator bank each).
    resident : activations of all tokens are loaded once and stay in the activation SRAM;
        otherwise each step streams its activation chunks with its weight chunks.
    prefetch : steps the DMA runs ahead of the MACs (banks - 1: double buffering with 2 banks).
    """

    m: int
    k: int
    tokens: int
    row_tiles: int
    k_words: int
    chunk_words: int
    segments: tuple[tuple[int, int], ...]
    rows_per_pass: int
    tokens_per_pass: int
    resident: bool
    prefetch: int

    def to_dict(self) -> dict:
        return asdict(self)


def _pow2_floor(n: int) -> int:
    return 1 << (max(1, n).bit_length() - 1)


def _resident_slots(p: NpuParams, tokens: int, k_words: int) -> list[int] | None:
    """Activation-SRAM word address of each token's vector if all stay resident, else None."""
    if tokens == 1 and k_words <= p.a_banks * p.a_bank_words:
        return [0]
    if k_words > p.a_bank_words:
        return None
    per_bank = p.a_bank_words // k_words
    if per_bank * p.a_banks < tokens:
        return None
    return [(t // per_bank) * p.a_bank_words + (t % per_bank) * k_words for t in range(tokens)]


def plan_gemm(params: NpuParams, m: int, k: int, *, tokens: int = 1,
              rows_per_pass: int | None = None) -> GemmPlan:
    """Choose the tiling of a [tokens x K] . [K x M] product for `params`.

    Raises
    ------
    ValueError : non-positive sizes, or a `rows_per_pass` that does not fit the accumulator banks.
    """
    p = params
    for key, v in (("M", m), ("K", k), ("tokens", tokens)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"npu gemm: {key}={v!r} must be a positive integer")
    row_tiles, k_words = tile_words(m, k, p.rows, p.cols)
    resident = _resident_slots(p, tokens, k_words) is not None
    tpp = min(tokens, p.acc_banks)
    if rows_per_pass is None:
        # Resident activations gain nothing from sharing a pass between row tiles; streamed ones
        # are loaded once per pass, so fill the accumulator banks with row tiles.
        rows_per_pass = 1 if resident else max(1, p.acc_banks // tpp)
    if rows_per_pass < 1 or rows_per_pass * tpp > p.acc_banks:
        raise ValueError(f"npu gemm: rows_per_pass={rows_per_pass} x tokens_per_pass={tpp} exceeds the "
                         f"{p.acc_banks} accumulator banks of {p.name}")
    rows_per_pass = min(rows_per_pass, row_tiles)
    limit = p.w_bank_words // rows_per_pass
    limit = min(limit, p.a_bank_words if resident else p.a_bank_words // tpp)
    chunk = _pow2_floor(limit)
    seg_max = p.max_exact_k // p.cols                      # words whose worst case fits acc_bits
    if seg_max < 1:
        raise ValueError(f"npu gemm: {p.name} accumulators of {p.acc_bits} bits cannot hold one word")
    if seg_max < chunk:
        chunk = _pow2_floor(seg_max)
    seg_words = (seg_max // chunk) * chunk
    segments = tuple((s, min(seg_words, k_words - s)) for s in range(0, k_words, seg_words))
    prefetch = max(0, min(p.w_banks, p.a_banks if not resident else p.w_banks) - 1)
    return GemmPlan(m, k, tokens, row_tiles, k_words, chunk, segments, rows_per_pass, tpp,
                    resident, prefetch)


def gemm_program(params: NpuParams, m: int, k: int, *, tokens: int = 1, plan: GemmPlan | None = None,
                 name: str | None = None) -> Program:
    """The command stream of acc[T, M] = x[T, K] . W[M, K]^T (DRAM ``w``, ``x`` -> ``y``).

    DRAM ``w``: `pack_matrix_tiles` words (row tile i, K word j at word i*k_words + j). ``x``:
    T x k_words activation words (int8, zero padded). ``y``: int32 [segments, T, row_tiles*R].
    Steps run pass by pass (a group of row tiles x a group of tokens), segment by segment, chunk
    by chunk; step s loads into weight bank s % w_banks (and activation bank s % a_banks when
    streaming) while the array works on the previous step's bank.
    """
    p = params
    plan = plan or plan_gemm(p, m, k, tokens=tokens)
    if (plan.m, plan.k, plan.tokens) != (m, k, tokens):
        raise ValueError(f"npu gemm: plan is for {plan.m}x{plan.k}x{plan.tokens}, not {m}x{k}x{tokens}")
    kind = "gemv" if tokens == 1 else "gemm"
    nb = NpuBuilder(p, name or f"npu_{kind}_{m}x{k}" + (f"_t{tokens}" if tokens > 1 else ""),
                    m=m, k=k, tokens=tokens, macs=m * k * tokens, kind=kind, plan=plan.to_dict())
    mt, kw, cw = plan.row_tiles, plan.k_words, plan.chunk_words
    wb_, ab_ = p.w_word_bytes, p.a_word_bytes
    w = nb.dram("w", mt * kw * wb_)
    x = nb.dram("x", tokens * kw * ab_)
    y = nb.dram("y", len(plan.segments) * tokens * mt * p.acc_bank_bytes, role="output")
    slots = _resident_slots(p, tokens, kw) if plan.resident else None
    if slots is not None:
        for t, base in enumerate(slots):
            start = 0
            while start < kw:                              # one DMA per activation bank crossed
                word = base + start
                n = min(kw - start, p.a_bank_words - word % p.a_bank_words)
                nb.load_acts(word, x[(t * kw + start) * ab_], n)
                start += n

    # Build the step list: each step = (loads, macs, write-backs) for one K chunk of one pass.
    steps = []
    pair_count = 0
    for t0 in range(0, tokens, plan.tokens_per_pass):
        toks = list(range(t0, min(tokens, t0 + plan.tokens_per_pass)))
        for i0 in range(0, mt, plan.rows_per_pass):
            rows = list(range(i0, min(mt, i0 + plan.rows_per_pass)))
            pairs = [(i, t) for i in rows for t in toks]
            banks = {pr: (pair_count + n) % p.acc_banks for n, pr in enumerate(pairs)}
            pair_count += len(pairs)
            for seg, (s0, sw) in enumerate(plan.segments):
                for c0 in range(s0, s0 + sw, cw):
                    n = min(cw, s0 + sw - c0)
                    last = c0 + n == s0 + sw
                    steps.append(dict(rows=rows, toks=toks, c0=c0, n=n, first=c0 == s0, last=last,
                                      seg=seg, banks=banks))
    w_slot = lambda s, r: (s % p.w_banks) * p.w_bank_words + r * cw          # noqa: E731
    a_slot = lambda s, j: (s % p.a_banks) * p.a_bank_words + j * cw          # noqa: E731

    def loads(s):
        st = steps[s]
        for r, i in enumerate(st["rows"]):
            nb.load_weights(w_slot(s, r), w[(i * kw + st["c0"]) * wb_], st["n"])
        if slots is None:
            for j, t in enumerate(st["toks"]):
                nb.load_acts(a_slot(s, j), x[(t * kw + st["c0"]) * ab_], st["n"])

    def macs(s):
        st = steps[s]
        for r, i in enumerate(st["rows"]):
            for j, t in enumerate(st["toks"]):
                aw = slots[t] + st["c0"] if slots is not None else a_slot(s, j)
                nb.mac(st["banks"][(i, t)], w_slot(s, r), aw, st["n"], clear=st["first"])

    def write_backs(s):
        st = steps[s]
        if not st["last"]:
            return
        for i in st["rows"]:
            for t in st["toks"]:
                off = ((st["seg"] * tokens + t) * mt + i) * p.acc_bank_bytes
                nb.write_back(st["banks"][(i, t)], y[off])

    pf = plan.prefetch
    for s in range(min(pf, len(steps))):
        loads(s)
    for s in range(len(steps)):
        if pf == 0:
            loads(s)
        macs(s)
        if pf and s + pf < len(steps):
            loads(s + pf)
        write_backs(s)
    return nb.build()


def gemm_inputs(params: NpuParams, codes: np.ndarray, x: np.ndarray) -> dict[str, np.ndarray]:
    """DRAM images (uint8) for `gemm_program`: packed weight tiles and zero-padded activations.

    codes int8 [M, K] in {-1, 0, +1}; x int8 [T, K] (or [K] for one token).
    """
    codes = np.asarray(codes)
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
    if codes.dtype != np.int8 or codes.ndim != 2:
        raise ValueError(f"npu gemm: codes must be int8 [M, K], got {codes.dtype} {codes.shape}")
    if x.dtype != np.int8 or x.ndim != 2 or x.shape[1] != codes.shape[1]:
        raise ValueError(f"npu gemm: x must be int8 [T, {codes.shape[1]}], got {x.dtype} {x.shape}")
    _, kw = tile_words(*codes.shape, params.rows, params.cols)
    xp = np.zeros((x.shape[0], kw * params.cols), dtype=np.int8)
    xp[:, :x.shape[1]] = x
    return {"w": pack_matrix_tiles(codes, params).reshape(-1), "x": xp.reshape(-1).view(np.uint8)}


def gemm_output(state: dict[str, np.ndarray], plan: GemmPlan) -> np.ndarray:
    """int32 [T, M] accumulators from DRAM ``y``; K segments (if several) are added here, exactly."""
    nseg = len(plan.segments)
    y = state["y"].view(np.int32).reshape(nseg, plan.tokens, -1)[:, :, :plan.m]
    if nseg == 1:
        return y[0].copy()
    total = y.astype(np.int64).sum(axis=0)
    if np.abs(total).max(initial=0) >= 2 ** 31:
        raise ValueError(f"npu gemm: segment sum {int(np.abs(total).max())} overflows int32")
    return total.astype(np.int32)


def run_gemm(params: NpuParams, codes: np.ndarray, x: np.ndarray, *,
             plan: GemmPlan | None = None) -> tuple[np.ndarray, Program, dict[str, np.ndarray]]:
    """Build, run functionally (isa_models.core.execute) and read back one product.

    Returns (acc int32 [T, M], the Program, the final buffers).
    """

    codes = np.asarray(codes)
    xx = np.asarray(x)
    tokens = 1 if xx.ndim == 1 else xx.shape[0]
    m, k = codes.shape
    plan = plan or plan_gemm(params, m, k, tokens=tokens)
    prog = gemm_program(params, m, k, tokens=tokens, plan=plan)
    state = execute(prog, gemm_inputs(params, codes, xx))
    return gemm_output(state, plan), prog, state
